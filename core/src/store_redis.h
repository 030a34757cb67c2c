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

typedef struct cio_redis_fwd cio_redis_fwd_t;

/* A forwarder for a pipeline of client with options o (o->redis_url set). CIO_E_CONFIG for a
 * bad URL or a client without the workspace's credential. Does not connect yet. */
cio_status_t cio__redis_fwd_new(cio_client_t *client, const cio_pipeline_options_t *o,
                                cio_redis_fwd_t **out);
/* Pushes the items (a list from take()); the completion says how it went: CIO_OK, or a
 * retryable CIO_E_NETWORK. The caller frees it (cio_completion_free). Called by one thread. */
cio_completion_t *cio__redis_fwd_push(cio_redis_fwd_t *f, const cio_store_item_t *items);
void cio__redis_fwd_free(cio_redis_fwd_t *f);

#endif
