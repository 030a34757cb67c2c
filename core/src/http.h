/* One HTTP exchange (or several at once), run on the calling thread (a synchronous single one,
 * direct.c) or through the client's engine, and its outcome (http.c). Private. */
#ifndef CIO_HTTP_H
#define CIO_HTTP_H

#include "customerio/async.h"
#include "customerio/client.h"
#include <stdbool.h>

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
    int curl_code;       /* CURLcode of the last attempt; -1 when the client closed first */
    long retry_after_ms; /* the last answer's Retry-After in ms, -1 when none (issue 18) */
} cio_http_call_t;

/*
 * Sends call: synchronously on the calling thread when queue is NULL (returns the final outcome,
 * retries included; CIO_OK on 2xx, otherwise records the error prefixed by `name`), or
 * asynchronously onto queue with token (path and body copied; CIO_OK at once, http_status 0).
 */
cio_status_t cio__http_exchange(cio_client_t *client, const char *name, cio_http_call_t *call,
                                cio_queue_t *queue, uint64_t token);

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
 * Sends n calls: one synchronous call on the calling thread (direct.c, or the engine when this
 * thread is already inside a call on client), several concurrently through the engine.
 * Synchronous when queue is NULL; otherwise paths
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

#endif
