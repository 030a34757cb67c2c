/* Private declarations shared by the core's source files. Not installed. */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include "customerio/customerio.h"

/* the utilities at the bottom (util/): each includes nothing above util/ */
#include "util/buf.h"
#include "util/error.h"
#include "util/json_scan.h"
#include "util/json_write.h"
#include "util/ulid.h"
#include "util/utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* ---- validate.c ---- */

/* Checks an id: non-NULL, non-empty, <= CIO_MAX_ID_BYTES, UTF-8, no control characters. */
cio_status_t cio__check_id(const char *call, const char *field, const char *value);
/* Checks a required text value: non-empty, UTF-8, no control characters, no length cap. */
cio_status_t cio__check_text(const char *call, const char *field, const char *value);
/* Checks optional event options: version, timestamp >= 0, id like any id. NULL is fine. */
cio_status_t cio__check_event_options(const char *call, const cio_event_options_t *options);
/* A device to add: its id (v1 device_id, v2 token), platform ios/android, last_used >= 0, and
 * optional attributes (a JSON object). */
cio_status_t cio__check_device(const char *call, const char *id_field, const char *device_id,
                               const char *platform, int64_t last_used,
                               const char *attributes_json);
/* A device's further members by name (fields_json: one JSON object, or NULL for none), spliced
 * into the device after its id and platform: scanned into *fields (left zeroed for NULL); must not
 * hold id_key (v1 "id", v2 "token") or "platform", which are the call's arguments. */
cio_status_t cio__check_device_fields(const char *call, const char *fields_json, const char *id_key,
                                      cio_json_value_t *fields);
/* "id", "email", "cio_id", or NULL for an unknown value. */
const char *cio__id_type_name(cio_id_type_t type);

/* ---- track_v2.c ---- */

/*
 * Validates one v2 operation (text) and appends what goes on the wire to out: the caller's bytes,
 * with an "id" (ULID) prepended to events that have none. label names it in errors.
 */
cio_status_t cio__v2_prepare_operation(const char *call, const char *label, const char *text,
                                       cio_buf_t *out);
/* One rejected item of a batch request: its index within that request. */
typedef void (*cio_item_error_fn)(void *user, size_t index, const char *reason, const char *field,
                                  const char *message);
/* Reads a batch answer's {"errors":[{"batch_index",...}]}, calling fn per rejected item. */
void cio__v2_item_errors(const char *response, size_t len, size_t n_items, cio_item_error_fn fn,
                         void *user);
/* Validates one v2 operation (text), adds an event id if needed, and makes the request that
 * POSTs it to /entity in *out (cio_v2_*_request; call names it in errors and in the request). */
cio_status_t cio__v2_operation_request(const char *call, const char *text, cio_request_t **out);
/* The request POSTing a prepared operation (body, taken over) to /entity. */
cio_status_t cio__v2_entity_make(const char *call, cio_buf_t *body, cio_request_t **out);
/* CIO_E_PAYLOAD_TOO_LARGE naming label when an operation of len bytes is over 32 KB. */
cio_status_t cio__v2_check_size(const char *call, const char *label, size_t len);
/* st, or when it is CIO_OK the Track credentials check (client NULL, site_id, api_key). */
cio_status_t cio__v2_credentials(cio_client_t *client, cio_status_t st, const char *call);

/* ---- queue.c ---- */

/* A batch's outcome (track_v2.h): filled by batch.c, read and freed here. */
struct cio_batch_result {
    size_t requests;
    cio_batch_item_error_t *errors;
    size_t count, cap;
};

void cio__queue_retain(cio_queue_t *q);
/* Delivers c (NULL = nothing) and drops one reference. */
void cio__queue_push(cio_queue_t *q, cio_completion_t *c);
/* Delivers n completions at once (a poller sees all or none of them; NULL entries are skipped)
 * and drops one reference. */
void cio__queue_push_all(cio_queue_t *q, cio_completion_t **cs, size_t n);

/* ---- http.c: the engine ---- */

typedef enum cio_auth {
    CIO_AUTH_TRACK, /* Basic site_id:api_key */
    CIO_AUTH_APP,   /* Bearer app_api_key */
    CIO_AUTH_CDP    /* Pipelines API: Basic cdp_api_key with an empty password, or Bearer
                       cdp_api_key for a "pk_us_..."-style key (client->cdp_bearer) */
} cio_auth_t;

/* One HTTP exchange handed to the engine, with its outcome. */
typedef struct cio_http_call {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* appended to the API's base URL; already percent-encoded */
    const char *body;   /* NULL = no body */
    size_t body_len;
    cio_auth_t auth;
    int max_attempts; /* 0 = the client's */

    /* outcome */
    long http_status;
    char *response; /* NUL-terminated, owned by the call; freed by cio__http_call_cleanup */
    size_t response_len;
    int attempts;
    int curl_code; /* CURLcode of the last attempt; -1 when the client closed first */
} cio_http_call_t;

/*
 * Sends call through the client's engine: synchronously when queue is NULL (waits for the final
 * outcome, retries included; CIO_OK on 2xx, otherwise records the error prefixed by `name`), or
 * asynchronously onto queue with token (path and body copied; CIO_OK at once, http_status 0).
 */
cio_status_t cio__http_exchange(cio_client_t *client, const char *name, cio_http_call_t *call,
                                cio_queue_t *queue, uint64_t token);
/* For the classic calls not yet built on a request value (Track v2 and Pipelines single sends):
 * cio__http_exchange on the queue cio_async_next() armed on this thread, if any. Defined in
 * request.c, the one reader of that switch. */
cio_status_t cio__http_send(cio_client_t *client, const char *name, cio_http_call_t *call);

/* Whether a call that ended with status failed in a way a later try may fix (retry.c's table),
 * for cio_error_t.retryable and cio_completion_t.retryable: false when it succeeded or was
 * never answered because the client closed (curl_code -1). The one place this is decided. */
bool cio__http_call_retryable(const cio_http_call_t *call, cio_status_t status);

/* After a cio__http_exchange that returned st: a malloc'd, NUL-terminated copy of the answer's body
 * ("{}" when it was empty) into *response_json when it is non-NULL, st is CIO_OK and the
 * exchange was synchronous (an asynchronous one, given a queue, leaves http_status 0
 * and hands its answer to the completion). Returns st, or CIO_E_NOMEM naming call. */
cio_status_t cio__http_copy_response(const char *call, const cio_http_call_t *http, cio_status_t st,
                                     char **response_json);
/*
 * Turns the n finished calls of one run into a completion: status, message (take it from
 * messages[i], setting that to NULL), http details, response, batch result.
 */
typedef void (*cio_finish_fn)(void *ctx, const char *name, cio_http_call_t *calls, size_t n,
                              const cio_status_t *statuses, char **messages, cio_completion_t *out);
/* The cio_finish_fn of finish = NULL: one call, its outcome as is (ctx unused). */
void cio__http_finish_single(void *ctx, const char *name, cio_http_call_t *calls, size_t n,
                             const cio_status_t *statuses, char **messages, cio_completion_t *out);

/*
 * Sends n calls concurrently through the engine. Synchronous when queue is NULL; otherwise paths
 * and bodies are copied, the completion goes to queue (token attached) and CIO_OK returns at
 * once with *out zeroed. Synchronous: waits, fills *out
 * (the caller frees out->message, out->response and out->batch_result) and returns out->status,
 * recorded as this thread's error when it is a failure. finish NULL = one call, its outcome as
 * is. ctx is freed with ctx_free (if any) once finish has run, or on failure.
 */
cio_status_t cio__http_run(cio_client_t *client, const char *name, cio_http_call_t *calls, size_t n,
                           cio_finish_fn finish, void *ctx, void (*ctx_free)(void *),
                           cio_queue_t *queue, uint64_t token, cio_completion_t *out);

/* Receives the completion of a cio__http_run_callback() run (owns it; may be NULL when out of
 * memory), on the engine thread: it must not block. */
typedef void (*cio_done_fn)(cio_completion_t *completion, void *user);

/* Like an asynchronous cio__http_run(), delivering to done instead of a queue (the pipeline);
 * owner (may be NULL) tags the transfers for cio__http_cancel(). */
cio_status_t cio__http_run_callback(cio_client_t *client, const char *name, cio_http_call_t *calls,
                                    size_t n, cio_finish_fn finish, void *ctx,
                                    void (*ctx_free)(void *), cio_done_fn done, void *done_user,
                                    const void *owner);
/* Ends owner's transfers still in the engine as closed (their completions follow, on the engine
 * thread); later ones are not affected. Thread-safe. */
void cio__http_cancel(cio_client_t *client, const void *owner);
void cio__http_call_cleanup(cio_http_call_t *call);

/* ---- client.c ---- */

typedef struct cio_engine cio_engine_t;

struct cio_client {
    char *site_id;
    char *api_key;
    char *app_api_key;
    char *cdp_api_key;
    bool cdp_bearer; /* the key has a region prefix: Bearer auth, its region's host */
    cio_region_t region;
    char *track_base; /* no trailing slash */
    char *app_base;
    char *cdp_base;
    char *cdp_batch_path; /* NULL: the sink's own path (/v1/batch) */
    long connect_timeout_ms;
    long timeout_ms;
    int max_attempts;
    long backoff_base_ms;
    long backoff_max_ms;
    long retry_after_max_ms;
    char *user_agent;
    int tls_insecure;
    char *ca_file;   /* the option, else REQUESTS_CA_BUNDLE or SSL_CERT_FILE; NULL = the system's */
    char *ca_path;   /* SSL_CERT_DIR when ca_file was not given; NULL = none */
    bool cdp_strict; /* send "X-Strict-Mode: 1" with Pipelines requests */
    int max_connections;
    /* The engine of the process that made it (engine_generation says which); a forked child
     * that uses the client gets one of its own (cio__client_engine), the parent's being kept,
     * unused, as its thread did not follow the fork. */
    _Atomic(cio_engine_t *) engine;
    _Atomic unsigned engine_generation;
};

/* Bumped in every forked child: what a process made is recognised by the generation it was made
 * in. Thread-safe. */
unsigned cio__fork_generation(void);
/* The client's engine for this process (made on first use in a forked child); NULL if that
 * failed (the call then completes as closed). Thread-safe. */
cio_engine_t *cio__client_engine(cio_client_t *client);

/* Requires Track credentials; CIO_E_CONFIG naming the call otherwise. */
cio_status_t cio__require_track_credentials(const cio_client_t *client, const char *call);

/* ---- engine.c ---- */

cio_status_t cio__engine_new(cio_client_t *client, cio_engine_t **out);
void cio__engine_free(cio_engine_t *engine);

#endif
