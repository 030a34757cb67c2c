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
    /* what cio__transfer_setup_call last set on easy, so that a handle reused call after call
     * (direct.c) skips the options that did not change; set_known false = nothing set yet */
    bool set_known;
    const char *set_custom;
    const struct curl_slist *set_headers;

    /* completion: the engine calls on_done(transfer) once, from its thread */
    void (*on_done)(struct cio_transfer *transfer);
    void *user_data;
    const void *owner; /* who may cancel it (cio__engine_cancel); NULL = nobody */
} cio_transfer_t;

/* What engine.c and direct.c (synchronous transfers on the calling thread) share: how a
 * transfer's easy handle is set up, what its callbacks keep of an answer, and when an attempt is
 * retried. */

/* Sets the options of client every transfer of it carries (timeouts, TLS, user agent, the
 * callbacks writing into t); false if one was refused. */
bool cio__transfer_setup_easy(const cio_client_t *client, CURL *easy, cio_transfer_t *t);
/* Sets what depends on t->call: URL, headers (credentials among them), method, body. Every option
 * it may set is set (or cleared) each time it differs from the previous call's on this transfer, so
 * a reused handle keeps nothing of its previous call. false if the URL was refused. */
bool cio__transfer_setup_call(const cio_client_t *client, CURL *easy, cio_transfer_t *t);
/* Clears what an attempt writes (answer, headers, Retry-After, error text) before it starts. */
void cio__transfer_begin_attempt(cio_transfer_t *t);
/* An attempt of t ended with code (t->easy still holds it): counts it and returns the delay in
 * ms before the next one, or -1 when this was the last (a success, a permanent failure, or no
 * attempts left). */
long cio__transfer_attempt_ended(const cio_client_t *client, cio_transfer_t *t, int code);
/* The final outcome into t->call: status from t->easy (if any), curl code, the answer (moved). */
void cio__transfer_complete(cio_transfer_t *t);

/* Hands t to the engine. Fails with CIO_E_CLOSED if the engine is stopping. Thread-safe. */
cio_status_t cio__engine_submit(cio_engine_t *engine, cio_transfer_t *t);

/* Ends every transfer of owner (submitted, waiting for a retry or in flight) as closed
 * (curl_code -1), on the engine thread soon after; a transfer submitted after that is not
 * affected. Thread-safe. */
void cio__engine_cancel(cio_engine_t *engine, const void *owner);

#endif
