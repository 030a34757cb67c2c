/*
 * The shared queue's layout in Redis (issue 18), known to the producers (store_redis.c), the
 * workers (redis_worker.c) and the rate limit (ratelimit.c). All keys of one workspace share the
 * hash tag {cio:<workspace>}, so they live in one slot and every script runs on Redis Cluster,
 * Valkey and the managed services:
 *
 *   {cio:W}:q          the stream of accepted operations (field "op": the JSON as sent)
 *   {cio:W}:seen:<id>  "this operation is queued" (SET NX with expiry): a producer's retry of a
 *                      push whose answer it did not see queues nothing twice
 *   {cio:W}:dead       the dead-letter stream (fields op, reason, field, message, http_status)
 *   {cio:W}:rate       GCRA's theoretical arrival time (ratelimit.c)
 *   {cio:W}:pause      set (PX) from a 429's Retry-After: every sender waits it out
 *   {cio:W}:stats      hash of fleet counters (rate_waits)
 *
 * W is the Track site id (Track v2 sink) or "cdp-" and 16 hex digits of the SHA-256 of the
 * Pipelines API key (Pipelines sink): never a secret.
 */
#ifndef CIO_REDIS_QUEUE_H
#define CIO_REDIS_QUEUE_H

#include "client_internal.h"
#include "customerio/pipeline.h"
#include "redis_conn.h"

/* How long a producer's "seen" mark lives: longer than an operation can wait in a producer's
 * memory or spool between a push whose answer was lost and its retry. */
#define CIO_REDIS_SEEN_TTL_S 86400

#define CIO_REDIS_PREFIX_MAX 160

/* "{cio:W}" for client and sink into out. CIO_E_CONFIG when the client lacks the credential
 * that names the workspace. */
cio_status_t cio__redis_prefix(const cio_client_t *client, cio_pipeline_sink_t sink,
                               char out[CIO_REDIS_PREFIX_MAX]);

/* The operation's own id (Track v2 "id", Pipelines "messageId"), or for an operation without
 * one "s" + unique (the pushing pipeline's name for this accepted operation), or without unique
 * "h" + the SHA-256 of its bytes, in out (NUL-terminated). */
void cio__redis_op_id(const char *op, size_t len, const char *unique, char out[80]);

/* Pushes n operations into the stream through the "queue if not seen" script (uniques, may be
 * NULL: each operation's name when it has no id, see cio__redis_op_id); *added (may be
 * NULL) gets how many were new. CIO_E_NETWORK (retryable) when Redis did not answer. */
cio_status_t cio__redis_push(cio_redis_t *r, const char *prefix, size_t n, const char *const *ops,
                             const size_t *lens, const char *const *uniques, size_t *added);

#endif
