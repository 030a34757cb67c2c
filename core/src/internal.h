/* Private declarations shared by the core's source files. Not installed. */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include "customerio/customerio.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* ---- errors.c ---- */

/* Records an error for this thread (printf-style message) and returns status. */
cio_status_t cio__fail(cio_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with the HTTP details of a failed exchange. */
cio_status_t cio__fail_http(cio_status_t status, int http_status, const char *body, size_t body_len,
                            int attempts, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Clears this thread's error and returns CIO_OK. */
cio_status_t cio__ok(void);
/* Marks this thread's last error transient (cio_error_t.retryable); after cio__fail*. */
void cio__error_set_retryable(bool retryable);
/* Keeps a copy of a synchronous request's 2xx answer for cio_last_response() (headers may be
 * NULL). Out of memory leaves none. */
void cio__set_last_response(int http_status, const char *body, size_t body_len, const char *headers,
                            size_t headers_len);

/* ---- strbuf.c: a growable byte buffer ---- */

typedef struct cio_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    bool borrowed; /* data is the caller's storage (a stack array): copied out when it grows,
                      never freed */
} cio_buf_t;

/* A buffer that starts in storage[0..size) (which must outlive it) and moves to the heap only
 * if it outgrows it: a message built and queued at once needs no allocation of its own. */
#define CIO_BUF_ON(storage, size) ((storage)[0] = '\0', (cio_buf_t){(storage), 0, (size), true})

/* Makes room for extra more bytes (and the NUL) in one allocation. */
bool cio__buf_reserve(cio_buf_t *b, size_t extra);
/* Inline: messages are put together from many small pieces, and a call per piece showed. */
static inline bool cio__buf_append(cio_buf_t *b, const void *data, size_t len) {
    if (b->len + len + 1 > b->cap && !cio__buf_reserve(b, len))
        return false;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}
bool cio__buf_appends(cio_buf_t *b, const char *s);
bool cio__buf_printf(cio_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cio__buf_free(cio_buf_t *b);
/* Appends s percent-encoded with no safe characters (only ALPHA DIGIT - . _ ~ kept). */
bool cio__buf_append_path_segment(cio_buf_t *b, const char *s);

/* ---- validate.c ---- */

/* Checks an id: non-NULL, non-empty, <= CIO_MAX_ID_BYTES, UTF-8, no control characters. */
cio_status_t cio__check_id(const char *call, const char *field, const char *value);
/* Checks a required text value: non-empty, UTF-8, no control characters, no length cap. */
cio_status_t cio__check_text(const char *call, const char *field, const char *value);
bool cio__utf8_valid(const char *s, size_t len);
bool cio__has_control_char(const char *s);
/* How many of the len bytes of UTF-8 text s to keep so that at most max are kept and no
 * character is cut in half (for quoting caller text in error messages). */
size_t cio__utf8_cut(const char *s, size_t len, size_t max);
/* The value of one hex digit, or -1. */
int cio__hex_value(char c);
/* The value of the four hex digits at p (all four readable), or -1. */
long cio__hex4(const char *p);
/* Checks optional event options: version, timestamp >= 0, id like any id. NULL is fine. */
cio_status_t cio__check_event_options(const char *call, const cio_event_options_t *options);
/* A device to add: its id (v1 device_id, v2 token), platform ios/android, last_used >= 0, and
 * optional attributes (a JSON object). */
cio_status_t cio__check_device(const char *call, const char *id_field, const char *device_id,
                               const char *platform, int64_t last_used,
                               const char *attributes_json);
/* "id", "email", "cio_id", or NULL for an unknown value. */
const char *cio__id_type_name(cio_id_type_t type);

/* ---- json (json_util.c), jansson-backed ---- */

#include <jansson.h>
/*
 * Checks that text (NULL allowed: "no value") is one JSON object in valid UTF-8. The caller's
 * text is then spliced into the envelope as is, so numbers keep their exact spelling.
 */
cio_status_t cio__check_json_object(const char *call, const char *field, const char *text);
/* Same for a required JSON array (NULL is an error naming the field). */
cio_status_t cio__check_json_array(const char *call, const char *field, const char *text);
/* "object", "array", "string", "number", "boolean" or "null". */
const char *cio__json_type_name(const json_t *value);
/* Appends a parsed value as compact JSON, key order kept, reals in their shortest exact form. */
bool cio__buf_append_json(cio_buf_t *b, const json_t *value);
/* Appends s as a JSON string literal (quoted, escaped). s must be valid UTF-8. */
bool cio__buf_append_json_string(cio_buf_t *b, const char *s);

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

/* The queue named by cio_async_next() on this thread (consumed), or NULL. */
cio_queue_t *cio__async_take(uint64_t *token);
void cio__async_clear(void);
void cio__queue_retain(cio_queue_t *q);
/* Delivers c (NULL = nothing) and drops one reference. */
void cio__queue_push(cio_queue_t *q, cio_completion_t *c);
/* Delivers n completions at once (a poller sees all or none of them; NULL entries are skipped)
 * and drops one reference. */
void cio__queue_push_all(cio_queue_t *q, cio_completion_t **cs, size_t n);

/* ---- ulid.c ---- */
/* (public: cio_ulid) cio_ulid for a wall-clock time the caller already read (ms since 1970). */
cio_status_t cio__ulid_at(uint64_t wall_ms, char out[CIO_ULID_BUFSIZE]);

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
 * Sends call through the client's engine and waits for its final outcome (retries included).
 * Returns CIO_OK on 2xx; otherwise records the error (prefixed by `name`) and returns it.
 */
cio_status_t cio__http_send(cio_client_t *client, const char *name, cio_http_call_t *call);

/* Whether a call that ended with status failed in a way a later try may fix (retry.c's table),
 * for cio_error_t.retryable and cio_completion_t.retryable: false when it succeeded or was
 * never answered because the client closed (curl_code -1). The one place this is decided. */
bool cio__http_call_retryable(const cio_http_call_t *call, cio_status_t status);

/* After a cio__http_send that returned st: a malloc'd, NUL-terminated copy of the answer's body
 * ("{}" when it was empty) into *response_json when it is non-NULL, st is CIO_OK and the
 * exchange was synchronous (an asynchronous one, queued by cio_async_next, leaves http_status 0
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
 * Sends n calls concurrently through the engine. Synchronous unless cio_async_next() named a
 * queue on this thread: then paths and bodies are copied, the completion goes to that queue
 * (token attached) and CIO_OK returns at once with *out zeroed. Synchronous: waits, fills *out
 * (the caller frees out->message, out->response and out->batch_result) and returns out->status,
 * recorded as this thread's error when it is a failure. finish NULL = one call, its outcome as
 * is. ctx is freed with ctx_free (if any) once finish has run, or on failure.
 */
cio_status_t cio__http_run(cio_client_t *client, const char *name, cio_http_call_t *calls, size_t n,
                           cio_finish_fn finish, void *ctx, void (*ctx_free)(void *),
                           cio_completion_t *out);

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

/* ---- retry.c ---- */

/* The one table of transient and permanent failures (retry.c explains both classes). Whether
 * an outcome is worth retrying: a transient CURLcode, or with CURLE_OK HTTP 408, 429 or 5xx. */
bool cio__retry_is_retryable(int curl_code, long http_status);
/* Whether an HTTP status is worth retrying (408, 429, 5xx); every other 4xx is permanent. */
bool cio__retry_http_status_is_transient(long http_status);
/* The status a failed transfer's CURLcode is reported with (CIO_E_NETWORK when not listed). */
cio_status_t cio__retry_curl_status(int curl_code);
/* Delay before retry number n (1-based), with jitter; Retry-After (ms, <0 = none) wins. */
long cio__retry_delay_ms(const cio_client_t *client, int retry_number, long retry_after_ms);
/* Parses a Retry-After header value (delta-seconds or HTTP-date) into ms; -1 if unusable. */
long cio__retry_after_parse_ms(const char *value, size_t len);

/* monotonic clock in milliseconds */
int64_t cio__now_ms(void);

#endif
