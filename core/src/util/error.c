/* Per-thread last error (cio_last_error) and the status names. */
#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct thread_error {
    cio_error_t pub;
    bool set;
    char message[512];
    char *body;
    char server_code[128];
    char server_message[256];
    /* cio_last_response(): the last 2xx answer of a synchronous call (cleared by a failure) */
    cio_response_t response;
    bool response_set;
    char *response_body;
    char *response_headers;
} thread_error_t;

/* Bumped by every recorded failure on this thread: what must not outlive a failure (an armed
 * cio_async_next) remembers the epoch it was set in, so this file calls nothing above it. */
static __thread unsigned long fail_epoch;

/* Mirrors this thread's e->set: every successful call clears the error, and this spares it the
 * pthread_once and pthread_getspecific of finding a slot that holds none. */
static __thread bool error_set;

unsigned long cio__fail_epoch(void) {
    return fail_epoch;
}

static pthread_key_t error_key;
static pthread_once_t error_key_once = PTHREAD_ONCE_INIT;

static void thread_error_destroy(void *p) {
    thread_error_t *e = p;
    if (e != NULL) {
        free(e->body);
        free(e->response_body);
        free(e->response_headers);
        free(e);
    }
}

static void make_error_key(void) {
    (void)pthread_key_create(&error_key, thread_error_destroy);
}

/* This thread's error slot; NULL only if out of memory. */
static thread_error_t *thread_error(bool create) {
    pthread_once(&error_key_once, make_error_key);
    thread_error_t *e = pthread_getspecific(error_key);
    if (e == NULL && create) {
        e = calloc(1, sizeof(*e));
        if (e != NULL && pthread_setspecific(error_key, e) != 0) {
            free(e);
            e = NULL;
        }
    }
    return e;
}

static void forget_response(thread_error_t *e) {
    free(e->response_body);
    free(e->response_headers);
    e->response_body = e->response_headers = NULL;
    e->response_set = false;
}

/* A NUL-terminated copy of len bytes at data (NULL data: ""); NULL when out of memory. */
static char *copy_bytes(const char *data, size_t len) {
    char *out = malloc(len + 1);
    if (out != NULL) {
        if (data != NULL && len > 0)
            memcpy(out, data, len);
        out[data != NULL ? len : 0] = '\0';
    }
    return out;
}

void cio__set_last_response(int http_status, const char *body, size_t body_len, const char *headers,
                            size_t headers_len) {
    thread_error_t *e = thread_error(true);
    if (e == NULL)
        return;
    forget_response(e);
    if (body == NULL)
        body_len = 0;
    if (headers == NULL)
        headers_len = 0;
    e->response_body = copy_bytes(body, body_len);
    e->response_headers = copy_bytes(headers, headers_len);
    if (e->response_body == NULL || e->response_headers == NULL) {
        forget_response(e);
        return;
    }
    e->response = (cio_response_t){.http_status = http_status,
                                   .body = e->response_body,
                                   .body_len = body_len,
                                   .headers = e->response_headers,
                                   .headers_len = headers_len};
    e->response_set = true;
}

const cio_response_t *cio_last_response(void) {
    thread_error_t *e = thread_error(false);
    return (e != NULL && e->response_set) ? &e->response : NULL;
}

static cio_status_t record(cio_status_t status, int http_status, const char *body, size_t body_len,
                           int attempts, const char *fmt, va_list ap) {
    fail_epoch++; /* a failed call never leaves cio_async_next() armed (request.c) */
    thread_error_t *e = thread_error(true);
    if (e == NULL)
        return status;
    forget_response(e);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    free(e->body);
    e->body = NULL;
    if (body != NULL) {
        e->body = malloc(body_len + 1);
        if (e->body != NULL) {
            memcpy(e->body, body, body_len);
            e->body[body_len] = '\0';
        }
    }
    e->pub.status = status;
    e->pub.http_status = http_status;
    e->pub.message = e->message;
    e->pub.response_body = e->body;
    e->pub.response_body_len = e->body != NULL ? body_len : 0;
    e->pub.attempts = attempts;
    e->pub.retryable = 0;
    e->pub.server_code = e->pub.server_message = NULL;
    e->set = true;
    error_set = true;
    return status;
}

cio_status_t cio__fail(cio_status_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(status, 0, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return status;
}

cio_status_t cio__fail_http(cio_status_t status, int http_status, const char *body, size_t body_len,
                            int attempts, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(status, http_status, body, body_len, attempts, fmt, ap);
    va_end(ap);
    return status;
}

void cio__error_set_retryable(bool retryable) {
    thread_error_t *e = thread_error(false);
    if (e != NULL && e->set)
        e->pub.retryable = retryable;
}

/* A copy of s into out when it fits whole (a cut code would be a wrong code), else NULL. */
static const char *keep(char *out, size_t size, const char *s) {
    if (s == NULL || strlen(s) >= size)
        return NULL;
    memcpy(out, s, strlen(s) + 1);
    return out;
}

void cio__error_set_server(const char *code, const char *message) {
    thread_error_t *e = thread_error(false);
    if (e == NULL || !e->set)
        return;
    e->pub.server_code = keep(e->server_code, sizeof(e->server_code), code);
    e->pub.server_message = keep(e->server_message, sizeof(e->server_message), message);
}

void cio_error_clear(void) {
    if (!error_set)
        return;
    error_set = false;
    thread_error_t *e = thread_error(false);
    if (e != NULL && e->set) {
        free(e->body);
        e->body = NULL;
        e->set = false;
    }
}

cio_status_t cio__ok(void) {
    cio_error_clear();
    return CIO_OK;
}

const cio_error_t *cio_last_error(void) {
    thread_error_t *e = thread_error(false);
    return (e != NULL && e->set) ? &e->pub : NULL;
}

const char *cio_status_str(cio_status_t status) {
    switch (status) {
    case CIO_OK:
        return "ok";
    case CIO_E_INVALID_ARGUMENT:
        return "invalid argument";
    case CIO_E_CONFIG:
        return "configuration error";
    case CIO_E_PAYLOAD_TOO_LARGE:
        return "payload too large";
    case CIO_E_AUTH:
        return "authentication failed";
    case CIO_E_BAD_REQUEST:
        return "bad request";
    case CIO_E_NOT_FOUND:
        return "not found";
    case CIO_E_RATE_LIMITED:
        return "rate limited";
    case CIO_E_SERVER:
        return "server error";
    case CIO_E_HTTP:
        return "unexpected HTTP status";
    case CIO_E_NETWORK:
        return "network error";
    case CIO_E_TIMEOUT:
        return "timeout";
    case CIO_E_NOMEM:
        return "out of memory";
    case CIO_E_INTERNAL:
        return "internal error";
    case CIO_E_CLOSED:
        return "client closed";
    case CIO_E_SIGNATURE:
        return "signature mismatch";
    case CIO_E_STALE:
        return "stale timestamp";
    case CIO_E_PARTIAL:
        return "some batch items failed";
    case CIO_E_QUEUE_FULL:
        return "queue full";
    }
    return "unknown status";
}

const char *cio_version(void) {
    return CIO_VERSION_STRING;
}
