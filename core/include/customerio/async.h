/*
 * customerio/async.h - asynchronous calls, for event loops (asyncio, libuv, Ruby's IO.select).
 *
 * Any request can be sent asynchronously: build it (cio_track_request, ... in request.h) and
 * hand it to cio_request_send_async() with the completion queue. The classic calls (cio_track
 * and the like) can still be made asynchronous the older way, deprecated: name a completion
 * queue with cio_async_next() right before the call. The call then validates its input
 * as usual (a rejected call fails at once and queues nothing), hands the request to the client's
 * engine and returns CIO_OK without waiting; out-parameters (response_json, batch results) are
 * left NULL. When the request is done, retries included, a cio_completion_t carrying the
 * caller's token appears on the queue, and the queue's file descriptor becomes readable: an
 * event loop watches that one descriptor, with no thread per request.
 *
 *     cio_queue_t *q;
 *     cio_queue_new(&q);
 *     loop_add_reader(cio_queue_fd(q), on_ready);
 *     cio_async_next(q, 42);
 *     cio_track(client, "7", "purchased", NULL, NULL);        // returns at once
 *     ...
 *     void on_ready(void) {
 *         cio_completion_t *c;
 *         while (cio_queue_poll(q, &c) == CIO_OK && c != NULL) {
 *             handle(c->token, c->status, c->response);
 *             cio_completion_free(c);
 *         }
 *     }
 */
#ifndef CUSTOMERIO_ASYNC_H
#define CUSTOMERIO_ASYNC_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates a completion queue with its own file descriptor (an eventfd). One queue may serve
 * any number of clients and calls. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_queue_new(cio_queue_t **out);

/*
 * The descriptor to watch for readability: readable while completions wait to be polled. Do not
 * read from or close it. Valid until cio_queue_free(). Thread-safe.
 */
CIO_EXTERN int cio_queue_fd(const cio_queue_t *queue);

/*
 * Takes the oldest completion off the queue into *out (NULL when there is none; the descriptor
 * is then no longer readable). The caller owns *out and frees it with cio_completion_free().
 * Thread-safe.
 */
CIO_EXTERN cio_status_t cio_queue_poll(cio_queue_t *queue, cio_completion_t **out);

/* Completions delivered but not yet polled. Thread-safe. */
CIO_EXTERN size_t cio_queue_size(const cio_queue_t *queue);

/*
 * Releases the caller's hold on the queue. Calls still in flight keep it alive until they
 * complete; their completions are then dropped. NULL is a no-op.
 */
CIO_EXTERN void cio_queue_free(cio_queue_t *queue);

/* Frees a completion and everything it owns. NULL is a no-op. */
CIO_EXTERN void cio_completion_free(cio_completion_t *completion);

/*
 * Deprecated: use cio_request_send_async() (request.h), which takes the queue as an argument:
 * build the request with the call's builder (cio_track_request, ...) and hand it over.
 *
 * Makes the next request-sending classic call on this thread asynchronous, completing on queue
 * with token. It is consumed by that call, and also cleared by any call that fails. Kept, and
 * kept working, for existing callers. Thread-safe (per thread).
 */
CIO_EXTERN cio_status_t cio_async_next(cio_queue_t *queue, uint64_t token);

#ifdef __cplusplus
}
#endif

#endif
