/*
 * The producer's side of the shared Redis queue (issue 18): with cio_pipeline_options_t.redis_url
 * set, accepted operations wait in the pipeline's own store (memory, or the spool file) exactly
 * as before, and the pipeline thread hands each batch to cio__redis_fwd_push() instead of an
 * HTTP request: the batch lands in the workspace's stream (redis_queue.h), de-duplicated by
 * operation id, and only then is settled. While Redis is down or slow the push fails as a
 * transient failure: the items stay in the local store (bounded by max_queue_bytes / _items,
 * the usual full-queue behaviour) and go out when Redis answers again.
 */
#ifndef CIO_STORE_REDIS_H
#define CIO_STORE_REDIS_H

#include "customerio/pipeline.h"
#include "customerio/sys/store.h"

/* What a pipeline does with Redis: forward its batches (redis_url) and/or take the fleet-wide
 * rate limit before each request (ratelimit_url, ratelimit.h). One per pipeline, used by its
 * thread (cio__redis_link_answered: the engine thread; it only notes a pause, no I/O). */
typedef struct cio_redis_link cio_redis_link_t;

/* *out = NULL when o sets neither option. Otherwise reads redis_url, ratelimit_url,
 * ratelimit_senders and max_requests_per_second (the fleet's limit; 0 = Customer.io's for the
 * sink's API), then clears the URLs and turns the pipeline's own pacing off (the fleet limit or
 * the push replaces it). CIO_E_CONFIG for a bad URL or a client without the workspace's
 * credential. Does not connect yet. */
cio_status_t cio__redis_link_new(cio_client_t *client, cio_pipeline_options_t *o,
                                 cio_redis_link_t **out);
/* Whether batches go to Redis instead of Customer.io. */
bool cio__redis_link_forwards(const cio_redis_link_t *l);
/* Pushes the items (a list from take()); the completion says how it went: CIO_OK, or a
 * retryable CIO_E_NETWORK. The caller frees it (cio_completion_free). NULL: out of memory. */
cio_completion_t *cio__redis_link_push(cio_redis_link_t *l, const cio_store_item_t *items);
/* Before a request: waits for the fleet's rate limit (true at once without one); false when
 * *stop became true first. */
bool cio__redis_link_take(cio_redis_link_t *l, const bool *stop);
/* HTTP attempts a request may take inside the engine: 1 with a fleet limit (each attempt then
 * passes take()), else fallback. */
int cio__redis_link_attempts(const cio_redis_link_t *l, int fallback);
/* A request was answered: a 429's Retry-After (ms, < 0 = none) pauses the whole fleet. Notes
 * it only; the pipeline thread sets it in Redis with cio__redis_link_publish_pause. */
void cio__redis_link_answered(cio_redis_link_t *l, long http_status, long retry_after_ms);
/* Whether a 429's pause waits to be set in Redis; publish sets it (waits on Redis: call it
 * without the pipeline's lock). */
bool cio__redis_link_pause_pending(const cio_redis_link_t *l);
void cio__redis_link_publish_pause(cio_redis_link_t *l);
void cio__redis_link_free(cio_redis_link_t *l);

#endif
