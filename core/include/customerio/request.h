/*
 * customerio/request.h - what to send, built without a client, and the three ways to send it.
 *
 * Every typed call has a builder, named after the call with "_request" added
 * (cio_track_request, cio_v2_person_identify_request, cio_send_email_request, ...). A builder takes
 * the call's arguments minus the client and its out-parameters, validates them exactly as the call
 * does (same status, same message) and produces a request value: which API, method, path (already
 * percent-encoded), body and which credentials it is sent with. Nothing is sent and no client is
 * needed, so a request can be built on any thread, inspected, kept and sent later, or more than
 * once (a Track v2 or Pipelines event keeps the id its builder gave it, so a repeat is dropped by
 * Customer.io as the same event).
 *
 * A built request goes to one of three executors:
 *   cio_request_send()           synchronous: runs on the calling thread (no hand-over to the
 *                                client's engine thread) and returns the outcome, retries
 *                                included;
 *   cio_request_send_async()     asynchronous, through the engine: the completion goes to the
 *                                queue named here;
 *   cio_pipeline_enqueue_request() (pipeline.h): queued for batched, paced delivery (one Track v2
 *                                operation or one Pipelines message).
 * The classic calls (cio_track(client, ...)) are that builder followed by cio_request_send(), or,
 * when the deprecated cio_async_next() armed this thread, by an asynchronous send to the queue it
 * named. cio_request_send_async() neither reads nor consumes that switch (a refusal, like any
 * failing call, disarms it).
 *
 * Builders: every Track v1 call (track.h), App API call (app.h), Track v2 helper (track_v2.h) and
 * Pipelines call (cdp.h); batches (cio_v2_send_batch, cio_cdp_batch) have none yet.
 *
 *     cio_request_t *req;
 *     if (cio_track_request("7", "purchased", "{\"price\":9}", NULL, &req) == CIO_OK) {
 *         cio_request_send_async(client, req, queue, 42);
 *         cio_request_free(req);   // the executor keeps its own copy
 *     }
 */
#ifndef CUSTOMERIO_REQUEST_H
#define CUSTOMERIO_REQUEST_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which API a request goes to: the base URL and credentials the executor adds. */
typedef enum cio_api {
    CIO_API_TRACK = 0, /* track.customer.io, Basic site_id:api_key */
    CIO_API_APP = 1,   /* api.customer.io, Bearer app_api_key */
    CIO_API_CDP = 2    /* cdp.customer.io, the Pipelines API key */
} cio_api_t;

/*
 * A request to any route the typed builders do not cover. method: "GET", "POST", "PUT" or
 * "DELETE". path: starts with '/', already percent-encoded, no control characters. body: JSON
 * text of body_len bytes, or NULL for none; it is copied. *out is the caller's: free it with
 * cio_request_free(). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_request_new(cio_api_t api, const char *method, const char *path,
                                        const char *body, size_t body_len, cio_request_t **out);

/* Accessors: the strings belong to the request and live as long as it. NULL request: 0 / NULL. */
CIO_EXTERN cio_api_t cio_request_api(const cio_request_t *request);
CIO_EXTERN const char *cio_request_method(const cio_request_t *request);
CIO_EXTERN const char *cio_request_path(const cio_request_t *request);
/* The body (NUL-terminated) or NULL when there is none; its length in *len when len is non-NULL. */
CIO_EXTERN const char *cio_request_body(const cio_request_t *request, size_t *len);

/* Frees a request. NULL is a no-op. */
CIO_EXTERN void cio_request_free(cio_request_t *request);

/*
 * Sends request through client and waits for its outcome, retries included. The transfer runs
 * on the calling thread, on that thread's own connection for client (client.h), not on the
 * client's engine thread; the waits between retries are spent here too. The client must hold
 * the credentials of the request's API (CIO_E_CONFIG naming the building call otherwise). On
 * CIO_OK and when response_json is non-NULL, *response_json is the answer's body ("{}" when it was
 * empty), malloc'd, the caller's to free with cio_free(). On failure cio_last_error() says why,
 * prefixed with the name of the call that built the request. Thread-safe: threads may send
 * through one client at once.
 */
CIO_EXTERN cio_status_t cio_request_send(cio_client_t *client, const cio_request_t *request,
                                         char **response_json);

/*
 * Hands request to client's engine and returns at once; its outcome arrives on queue as a
 * cio_completion_t carrying token (async.h). The request is copied: free yours when you like.
 * Fails at once (nothing queued) only when an argument is NULL, memory is short or the client's
 * credentials for the request's API are missing. Does not read cio_async_next()'s per-thread
 * switch; a refusal, like any failing call, disarms it. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_request_send_async(cio_client_t *client, const cio_request_t *request,
                                               cio_queue_t *queue, uint64_t token);

#ifdef __cplusplus
}
#endif

#endif
