/* This thread's last error (cio_last_error) as the core records it, and the last 2xx answer
 * (cio_last_response). Private: not installed. Includes nothing above util/. */
#ifndef CIO_UTIL_ERROR_H
#define CIO_UTIL_ERROR_H

#include "customerio/errors.h"

#include <stdbool.h>
#include <stddef.h>

/* Records an error for this thread (printf-style message) and returns status. */
cio_status_t cio__fail(cio_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with the HTTP details of a failed exchange. */
cio_status_t cio__fail_http(cio_status_t status, int http_status, const char *body, size_t body_len,
                            int attempts, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* How many failures this thread has recorded (wraps): a state that a failure must end records
 * it and is void once it moved. */
unsigned long cio__fail_epoch(void);
/* Clears this thread's error and returns CIO_OK. */
cio_status_t cio__ok(void);
/* Marks this thread's last error transient (cio_error_t.retryable); after cio__fail*. */
void cio__error_set_retryable(bool retryable);
/* Adds what the server's error answer says (either may be NULL) to this thread's last error
 * (cio_error_t.server_code / server_message); after cio__fail_http. */
void cio__error_set_server(const char *code, const char *message);
/* Keeps a copy of a synchronous request's 2xx answer for cio_last_response() (headers may be
 * NULL). Out of memory leaves none. */
void cio__set_last_response(int http_status, const char *body, size_t body_len, const char *headers,
                            size_t headers_len);

#endif
