/* The network engine: one thread per client driving a libcurl multi handle. Private. */
#ifndef CIO_ENGINE_H
#define CIO_ENGINE_H

#include "util/buf.h"
#include "http.h"
#include "client_internal.h"

#include <curl/curl.h>
#include <pthread.h>

/*
 * One request travelling through the engine, from submission to its final outcome. Filled in by
 * the submitting thread (url, headers, call); the engine owns it from cio__engine_submit() until
 * it calls on_done, after which the submitter owns it again.
 */
typedef struct cio_transfer {
    cio_http_call_t *call;
    char *url;
    struct curl_slist *headers;

    /* engine-private state */
    CURL *easy;
    cio_buf_t response;
    cio_buf_t header_block; /* the last response's status line and headers (capped), for
                               cio_last_response() */
    long retry_after_ms;    /* from the last response's Retry-After, -1 if none */
    int64_t due_ms;         /* when a waiting retry may start */
    int curl_code;          /* CURLcode of the last attempt */
    char curl_error[CURL_ERROR_SIZE];
    struct cio_transfer *prev, *next;

    /* completion: the engine calls on_done(transfer) once, from its thread */
    void (*on_done)(struct cio_transfer *transfer);
    void *user_data;
    const void *owner; /* who may cancel it (cio__engine_cancel); NULL = nobody */
} cio_transfer_t;

/* Hands t to the engine. Fails with CIO_E_CLOSED if the engine is stopping. Thread-safe. */
cio_status_t cio__engine_submit(cio_engine_t *engine, cio_transfer_t *t);

/* Ends every transfer of owner (submitted, waiting for a retry or in flight) as closed
 * (curl_code -1), on the engine thread soon after; a transfer submitted after that is not
 * affected. Thread-safe. */
void cio__engine_cancel(cio_engine_t *engine, const void *owner);

#endif
