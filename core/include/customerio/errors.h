/*
 * customerio/errors.h - what went wrong with the last failed call on this thread.
 *
 * Modelled on libgit2's git_error_last(): every failing call records an error in thread-local
 * storage; successful calls clear it. Messages name the call and the field ("track: customer_id
 * is empty") and never contain an API key.
 */
#ifndef CUSTOMERIO_ERRORS_H
#define CUSTOMERIO_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_error {
    cio_status_t status;       /* the status the call returned */
    int http_status;           /* last HTTP status received, 0 if none (e.g. a network error) */
    const char *message;       /* one English sentence; never NULL */
    const char *response_body; /* the server's last response body (NUL-terminated), or NULL */
    size_t response_body_len;  /* its length in bytes */
    int attempts;              /* HTTP attempts made (1 + retries); 0 if nothing was sent */
    /* 1 when the failure is transient by the library's one table (core/src/retry.c): a network
     * error, a timeout, HTTP 408, 429 or 5xx, so the same call may succeed later (the library
     * already retried it max_attempts times). 0 for a permanent failure (a certificate that
     * fails verification, a malformed URL, 401, 403, another 4xx), for an error found before
     * anything was sent, and for a closed client. Bindings read this instead of keeping a list
     * of their own. Fields are only ever appended to this struct. */
    int retryable;
    /* What the server's error answer says, read by the library from the shapes Customer.io
     * uses, so callers need not parse response_body: its error code (the Pipelines API's
     * "code", e.g. "invalid_request"), NULL when the answer has none; and its explanation
     * ("meta.error" of the App API, "message", or the first of "errors"), NULL when it has none.
     * Both NULL for a failure without an answer. */
    const char *server_code;
    const char *server_message;
} cio_error_t;

/*
 * The error recorded by the last failing call on the calling thread, or NULL when the last call
 * succeeded (or none was made). The struct and its strings are owned by the library and stay
 * valid until the next cio_* call on this thread. Thread-safe (thread-local).
 */
CIO_EXTERN const cio_error_t *cio_last_error(void);

/* Forgets this thread's last error. Thread-safe (thread-local). */
CIO_EXTERN void cio_error_clear(void);

/* The answer to the last synchronous call that succeeded (2xx) on this thread; for a call made
 * of several requests (a batch split under the size limit), the last request's. */
typedef struct cio_response {
    int http_status;     /* 200, 201, 204, ... */
    const char *body;    /* the response body (NUL-terminated; "" when empty); never NULL */
    size_t body_len;     /* its length in bytes */
    const char *headers; /* the status line and header lines as received ("HTTP/1.1 200 OK\r\n
                            Content-Type: ...\r\n..."); lines past 16 KB are dropped */
    size_t headers_len;  /* its length in bytes */
} cio_response_t;

/*
 * What the server answered to the last synchronous call on this thread that succeeded, for
 * callers that hand a response object on (bindings mirroring a client that returns one). NULL
 * when none succeeded yet, or when a call failed since (a failure clears it; cio_last_error()
 * tells why). The struct and its strings are owned by the library and stay valid until the next
 * cio_* call on this thread. Asynchronous calls and the pipeline do not set it. Thread-safe
 * (thread-local).
 */
CIO_EXTERN const cio_response_t *cio_last_response(void);

#ifdef __cplusplus
}
#endif

#endif
