/*
 * customerio/redis.h - the shared durable queue on Redis (issue 18): many producer processes put
 * operations into one Redis stream per workspace (cio_pipeline_options_t.redis_url), and any
 * number of workers drain it to Customer.io (`cio-native worker --redis URL`, or
 * cio_worker_run() inside an application).
 *
 * A worker reads with a consumer group (XREADGROUP), sends what it read through a pipeline of its
 * own (the same Track v2 / Pipelines batches, size limits, retries and 400 splitting as any
 * pipeline), and acknowledges an entry (XACK, then XDEL) only after its delivery report:
 * - delivered: acknowledged;
 * - refused by Customer.io (a 400 for the operation alone, or its 207 item error): moved to the
 *   dead-letter stream with the reason, field and message, and acknowledged;
 * - anything else (the worker stopped before delivering, a retry deadline passed, credentials
 *   refused): left pending, so a worker claims it again (XAUTOCLAIM) after claim_idle_ms.
 * A worker that dies (kill -9) leaves its entries pending; the others claim them after
 * claim_idle_ms. The one window where an operation is sent twice: a worker sent it and died
 * before its XACK; events carry ids Customer.io de-duplicates by.
 *
 * Keys (all of one workspace in one hash slot, for Redis Cluster): {cio:W}:q the stream,
 * {cio:W}:dead the dead letters, {cio:W}:seen:<id> the producers' de-duplication marks (a day),
 * where W is the Track site id or, for the Pipelines API, "cdp-" and 16 hex digits of the
 * SHA-256 of its key.
 */
#ifndef CUSTOMERIO_REDIS_H
#define CUSTOMERIO_REDIS_H

#include "types.h"
#include "pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_worker cio_worker_t;

#define CIO_WORKER_OPTIONS_VERSION 1

/* Every field's zero value means the default. Fields are only ever added at the end, with the
 * version bumped. */
typedef struct cio_worker_options {
    unsigned int version;     /* CIO_WORKER_OPTIONS_VERSION */
    const char *redis_url;    /* required: redis:// or rediss:// (pipeline.h's redis_url) */
    cio_pipeline_sink_t sink; /* which workspace queue: Track v2 (site id) or Pipelines */
    const char *group;        /* consumer group; NULL = "cio-workers" */
    const char *consumer;     /* this worker's name in it; NULL = "<host>-<pid>-<random>" */
    long claim_idle_ms;       /* claim others' entries pending this long; 0 = 60,000 */
    size_t max_pending;       /* entries read and not yet acknowledged; 0 = 10,000 */
    long block_ms;            /* longest wait for new entries per read; 0 = 100 */
    /* How the worker's pipeline sends (batch_bytes, max_in_flight, max_requests_per_second,
     * retry_deadline_ms, ratelimit_senders, ...); NULL = the defaults. Its sink is replaced by
     * sink above; its ratelimit_url defaults to redis_url (every worker takes the workspace's
     * fleet-wide limit: max_requests_per_second, else Customer.io's published one); its
     * redis_url, store, spool_path, on_report and report_queue must be unset. */
    const cio_pipeline_options_t *pipeline;
} cio_worker_options_t;

#define CIO_WORKER_OPTIONS_INIT                                                                    \
    { .version = CIO_WORKER_OPTIONS_VERSION }

/*
 * A worker on client (which must outlive it) for options->redis_url's queue of the client's
 * workspace. Makes the consumer group if missing. CIO_E_INVALID_ARGUMENT, CIO_E_CONFIG (bad URL,
 * missing credentials), CIO_E_NETWORK (Redis unreachable), CIO_E_AUTH (Redis refused AUTH).
 * *out is the caller's: cio_worker_free(). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_worker_new(cio_client_t *client, const cio_worker_options_t *options,
                                       cio_worker_t **out);
/*
 * Drains the queue until cio_worker_stop(): reads, sends, acknowledges, claims the entries of
 * dead workers. Redis outages are waited out (retried every 200 ms). On stop it waits up to
 * stop_timeout_ms (< 0 = no limit) for what it sent to be answered and acknowledged; what is
 * left stays pending for the other workers. Returns CIO_OK after a stop. Call from one thread.
 */
CIO_EXTERN cio_status_t cio_worker_run(cio_worker_t *worker, long stop_timeout_ms);
/* Asks cio_worker_run() to return. Async-signal-safe (a SIGTERM handler may call it), and
 * thread-safe. */
CIO_EXTERN void cio_worker_stop(cio_worker_t *worker);
/* This worker's counters as a JSON object ({"read","claimed","acked","dead_lettered",
 * "held"}): entries read with XREADGROUP, claimed from a dead worker, delivered and
 * acknowledged, refused by Customer.io and moved to the dead letters (an entry settled by this
 * worker counts in exactly one of the last two), and held now (read, not settled yet).
 * malloc'd (cio_free_string), NULL on failure. The fleet's rate-limit waits are in
 * cio_redis_queue_stats_json(). Thread-safe. */
CIO_EXTERN char *cio_worker_stats_json(cio_worker_t *worker);
/* Frees a worker that is not running. NULL is a no-op. */
CIO_EXTERN void cio_worker_free(cio_worker_t *worker);

/*
 * The queue of client's workspace as Redis has it, as a JSON object: "length" (entries not yet
 * read by group), "pending" (read, not acknowledged), "oldest_pending_age_ms" (0 when none),
 * "dead_letters", "rate_limit_waits" (fleet-wide). group NULL = "cio-workers". malloc'd
 * (cio_free_string); NULL on failure (cio_last_error()). Thread-safe.
 */
CIO_EXTERN char *cio_redis_queue_stats_json(cio_client_t *client, const char *redis_url,
                                            cio_pipeline_sink_t sink, const char *group);
/*
 * The dead letters, oldest first, at most count (0 = 100), as a JSON array of {"id",
 * "operation" (the operation's JSON), "reason", "field", "message", "http_status"}; absent
 * texts are null. malloc'd (cio_free_string); NULL on failure. Thread-safe.
 */
CIO_EXTERN char *cio_redis_dead_letters_json(cio_client_t *client, const char *redis_url,
                                             cio_pipeline_sink_t sink, size_t count);
/*
 * Puts dead letters back in the queue (retry) or deletes them (drop): the one with this entry
 * id, or all when id is NULL. *done (may be NULL) gets how many. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_redis_dead_letters_retry(cio_client_t *client, const char *redis_url,
                                                     cio_pipeline_sink_t sink, const char *id,
                                                     size_t *done);
CIO_EXTERN cio_status_t cio_redis_dead_letters_drop(cio_client_t *client, const char *redis_url,
                                                    cio_pipeline_sink_t sink, const char *id,
                                                    size_t *done);

#ifdef __cplusplus
}
#endif

#endif
