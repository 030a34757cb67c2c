/*
 * customerio/pipeline.h - the delivery pipeline: fire-and-forget Track operations that are
 * batched, paced, retried and accounted for.
 *
 * cio_pipeline_enqueue() validates one Track v2 operation (the JSON of track_v2.h; or, with the
 * Pipelines sink, one message of cdp.h), gives an event without an "id" (a message without a
 * "messageId") a ULID, stores it and returns: no network on the caller's path. A
 * pipeline thread packs stored operations into /api/v2/batch requests (each under
 * batch_bytes), sends them through the client's engine with up to max_in_flight requests at a
 * time, no faster than max_requests_per_second, as soon as a batch is full or the oldest waiting
 * operation has waited linger_ms. Failed requests are retried (the engine's retries, then the
 * pipeline's, with backoff, until retry_deadline_ms); because every event carries its id, a
 * retried batch is never counted twice. Items Customer.io rejects (207) are not retried.
 *
 * Every operation ends in exactly one delivery report: delivered, or given up with the reason.
 * Failures are always reported (report_successes adds the deliveries); none is dropped silently,
 * including at cio_pipeline_close() when the queue cannot be drained.
 *
 * Memory is bounded by max_queue_bytes (queued + in flight). With spool_path set, accepted
 * operations are appended to that file before enqueue returns and marked settled as soon as
 * their request is answered; a pipeline opened later on the same file (after a crash, or
 * kill -9) first sends whatever was not confirmed. The spool file:
 * - format: a 16-byte header ("CIOSPOOL", format 2), then records framed by a sync mark, a
 *   length, a seq and CRC-32s, so damaged bytes are found and skipped up to the next whole
 *   record (a file of the previous format is read once and rewritten);
 * - a regular file of ours, an empty file or a missing one (made 0600); a directory, FIFO,
 *   device, symbolic link or foreign file is refused with CIO_E_CONFIG, untouched;
 * - locked (flock) while the pipeline is open: a second opener, in this process or another,
 *   gets CIO_E_CONFIG ("... is in use by another pipeline");
 * - a damaged record found at open is copied to <spool_path>.quarantine (0600) and reported as
 *   failed (status CIO_E_INTERNAL, reason "spool_damaged", its offset in the message; seq 0
 *   when unreadable) before cio_pipeline_new returns; its neighbours are sent as usual. If the
 *   quarantine file cannot be written, the bytes stay in the spool (the message says so) and
 *   the file is not emptied or rewritten while that pipeline runs (it may grow);
 * - when it cannot grow (disk full, file size limit) the enqueue fails with CIO_E_QUEUE_FULL
 *   and the file is left as it was: retry later. Past a file size limit (RLIMIT_FSIZE, ulimit
 *   -f) the kernel first sends SIGXFSZ, whose default action kills the process: an application
 *   that sets such a limit must ignore SIGXFSZ (signal(SIGXFSZ, SIG_IGN)) to get the error
 *   instead. The library leaves signal dispositions to the application;
 * - it is emptied when nothing is owed and rewritten (<spool_path>.tmp, created O_EXCL |
 *   O_NOFOLLOW, then renamed) when settled records are at least half of it, so it stays near
 *   what is owed.
 * A kill between Customer.io's answer and the settle record sends that batch again: events
 * carry ids Customer.io de-duplicates by; other operations are idempotent (see the README).
 *
 * Where operations wait and where batches go are two interfaces the pipeline knows and nothing
 * behind them: the store (customerio/sys/store.h; the library's are memory and the spool, and a
 * caller may bring one in options.store) and the sink (customerio/sys/sink.h; the library's are
 * Track v2 and the Pipelines API, chosen by options.sink), which owns its API's batch envelope,
 * path, size limit, item check and error readers.
 *
 * fork(): the pipeline thread does not exist in a child, so there every call on a pipeline made
 * by the parent fails at once with CIO_E_CLOSED (enqueue, flush, stats; close leaves it alone),
 * nothing being queued that would never leave; the child makes its own (its client may be the
 * parent's, client.h). With a spool, what the parent had not confirmed stays in the file for the
 * parent (or the next pipeline opened on it); the child lets go of its copy of the spool's
 * descriptor, so the lock stays the parent's alone.
 */
#ifndef CUSTOMERIO_PIPELINE_H
#define CUSTOMERIO_PIPELINE_H

#include "types.h"

/* cio_cdp_message_t and cio_cdp_stamp_t: the pipeline enqueues Pipelines messages */
#include "cdp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where batches go. */
typedef enum cio_pipeline_sink {
    CIO_SINK_TRACK_V2 = 0, /* POST /api/v2/batch with Track v2 operations (track_v2.h) */
    CIO_SINK_PIPELINES = 1 /* POST /v1/batch with Pipelines API messages (cdp.h) */
} cio_pipeline_sink_t;

/* What cio_pipeline_enqueue() does when the queue is full. */
typedef enum cio_when_full {
    CIO_WHEN_FULL_BLOCK = 0, /* wait up to block_timeout_ms for room, then fail */
    CIO_WHEN_FULL_FAIL = 1   /* fail at once */
} cio_when_full_t;

/* How hard the spool file is pushed to disk. A plain write survives a killed process (the data
 * is in the kernel); fsync also survives a machine crash, at a cost. */
typedef enum cio_spool_sync {
    CIO_SPOOL_SYNC_NONE = 0,  /* write(2) only */
    CIO_SPOOL_SYNC_BATCH = 1, /* fsync before each batch is sent */
    CIO_SPOOL_SYNC_ALWAYS = 2 /* fsync on every enqueue */
} cio_spool_sync_t;

/* The final word on one operation. Pointers are valid during the callback only. */
typedef struct cio_delivery_report {
    uint64_t seq;        /* what cio_pipeline_enqueue() returned for it */
    cio_status_t status; /* CIO_OK = delivered; otherwise why it was given up */
    int http_status;     /* of the last request that carried it, 0 if none */
    /* Customer.io's reason: for a rejected item, its "reason"; for a request refused as a whole,
     * the error code of the answer's body ("code", or the first "errors" entry's "reason").
     * NULL when there is none. */
    const char *reason;
    const char *field;          /* the field at fault, or NULL */
    const char *message;        /* a sentence, NULL when delivered */
    const char *operation_json; /* the operation as sent (with its id) */
} cio_delivery_report_t;

/* Called on a library thread (never the caller's); must not block or call into the pipeline. */
typedef void (*cio_report_fn)(const cio_delivery_report_t *report, void *user);

/* Version 2 added max_batch_items, max_queue_items and max_attempts; version 3 added store;
 * version 4 added redis_url, ratelimit_url and ratelimit_senders.
 * Structs of an older version are still accepted (read up to their last field). New fields are
 * only ever added at the end, with the version bumped. */
#define CIO_PIPELINE_OPTIONS_VERSION 4

/* A store of the caller's (customerio/sys/store.h). */
typedef struct cio_store cio_store_t;

/* Every field's zero value means the default. The same options by name, as owned text:
 * cio_config_t (options.h); a new field needs its row in the table of core/src/options.c
 * (tests/c/test_options.c fails without one). */
typedef struct cio_pipeline_options {
    unsigned int version;           /* CIO_PIPELINE_OPTIONS_VERSION */
    cio_pipeline_sink_t sink;       /* default Track v2 */
    size_t max_queue_bytes;         /* queued + in flight; 0 = 64 MiB */
    cio_when_full_t when_full;      /* default: block */
    long block_timeout_ms;          /* with CIO_WHEN_FULL_BLOCK; 0 = 10,000 */
    long linger_ms;                 /* longest wait for a fuller batch; 0 = 100 */
    size_t batch_bytes;             /* request body limit; 0 = CIO_TRACK_V2_MAX_BATCH_BYTES */
    int max_in_flight;              /* concurrent batch requests; 0 = 4 */
    double max_requests_per_second; /* pacing; 0 = 100 (Customer.io's limit); < 0 = none */
    long retry_deadline_ms;      /* give an operation up this long after enqueue; 0 = 3,600,000 */
    const char *spool_path;      /* NULL = memory only */
    cio_spool_sync_t spool_sync; /* default: write only */
    cio_report_fn on_report;     /* NULL = no callback */
    void *report_user;
    /* Reports as completions on this queue too (token = seq, status, http_status, message;
     * response = the operation JSON; reason, field). The reports of one request arrive
     * together (a poll loop that empties the queue sees all of them or none). NULL = none. The
     * pipeline holds a reference. */
    cio_queue_t *report_queue;
    int report_successes; /* 1 = report deliveries too, not only failures */

    /* --- version 2 --- */
    size_t max_batch_items; /* operations per request at most; 0 = only batch_bytes limits */
    size_t max_queue_items; /* queued + in flight operations at most (like max_queue_bytes, with
                               when_full); 0 = only max_queue_bytes limits */
    /* HTTP attempts an operation may take, over all the requests that carried it, before it is
     * given up and reported (with the last failure); 0 = retry until retry_deadline_ms. */
    int max_attempts;

    /* --- version 3 --- */
    /* Where accepted operations wait: a caller's store implementing customerio/sys/store.h (one
     * shared by many processes, say) instead of the library's (memory, or spool_path's file,
     * which cannot be combined with it: CIO_E_INVALID_ARGUMENT). NULL = the library's. When
     * cio_pipeline_new() succeeds the pipeline owns it: it calls it under its lock only, and
     * destroys it in cio_pipeline_close(); when it fails, the store stays the caller's,
     * untouched. One store serves one pipeline. */
    cio_store_t *store;

    /* --- version 4 --- */
    /* The shared queue (redis.h, issue 18): "redis://[user:password@]host[:port][/db]" or
     * rediss:// (TLS). Batches go into the workspace's Redis stream instead of to Customer.io
     * (`cio-native worker` processes send them); the store above (memory, spool) holds what
     * Redis has not taken yet, so a Redis outage fills it like a slow network would. A delivery
     * report then says "in the shared queue". NULL = send to Customer.io. Copied. */
    const char *redis_url;
    /* The fleet-wide rate limit (redis.h): before every request (each HTTP attempt) this
     * pipeline takes a turn from a limiter in this Redis shared by every sender of the workspace
     * (workers take it on their own), and a 429's Retry-After pauses them all. The fleet's rate
     * is max_requests_per_second when set, else Customer.io's published limit for the sink's API
     * (Track 100/s, Pipelines 3,000 per 3 s). NULL = this pipeline paces itself alone. Copied. */
    const char *ratelimit_url;
    /* Senders sharing that limit: while Redis is unreachable each paces itself at rate /
     * ratelimit_senders. 0 = 1. */
    int ratelimit_senders;
} cio_pipeline_options_t;

#define CIO_PIPELINE_OPTIONS_INIT                                                                  \
    { .version = CIO_PIPELINE_OPTIONS_VERSION }

/*
 * Starts a pipeline on client (which must outlive it). With a spool, operations left in it by an
 * earlier run are queued first, and damaged records are reported before this returns. Fails
 * with CIO_E_INVALID_ARGUMENT, CIO_E_CONFIG (missing Track credentials; a spool_path that is not
 * a spool file, is in use by another pipeline, or cannot be opened: the message names the path
 * and the reason), CIO_E_NOMEM. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_pipeline_new(cio_client_t *client,
                                         const cio_pipeline_options_t *options,
                                         cio_pipeline_t **out);

/*
 * Validates and queues one Track v2 operation (JSON text, see track_v2.h); *seq (if non-NULL)
 * gets its sequence number, which its delivery report carries. Returns at once, or when full
 * after waiting per when_full: CIO_E_QUEUE_FULL (also when the spool file cannot grow: disk
 * full, or a file size limit with SIGXFSZ ignored, see spool_path above; nothing queued, retry
 * later; CIO_E_INTERNAL for another write error of the spool). CIO_E_INVALID_ARGUMENT /
 * CIO_E_PAYLOAD_TOO_LARGE for a bad operation (nothing queued), CIO_E_CLOSED after close.
 * Thread-safe: any number of threads may enqueue at once.
 */
CIO_EXTERN cio_status_t cio_pipeline_enqueue(cio_pipeline_t *pipeline, const char *operation_json,
                                             uint64_t *seq);

/*
 * The same as cio_pipeline_enqueue(), except that it never waits for room: a full queue fails
 * at once with CIO_E_QUEUE_FULL (nothing queued) whatever when_full says. For callers that must
 * not block where they are (an event loop, or while holding an interpreter lock): try this
 * first, and call cio_pipeline_enqueue() from where blocking is allowed only when it reports the
 * queue full. It still takes the pipeline's lock briefly, and waits for the disk with
 * CIO_SPOOL_SYNC_ALWAYS (and, while a batch is being synced, with CIO_SPOOL_SYNC_BATCH).
 * Thread-safe.
 */
CIO_EXTERN cio_status_t cio_pipeline_try_enqueue(cio_pipeline_t *pipeline,
                                                 const char *operation_json, uint64_t *seq);

/*
 * The pipeline's executor for built requests (request.h): queues request's body, already
 * validated and completed by its builder, as cio_pipeline_enqueue() queues an operation (same
 * waiting, same errors, same *seq), without validating it again. A Track v2 pipeline takes a
 * request from a cio_v2_*_request() builder (one operation); a Pipelines pipeline one from a
 * cio_cdp_*_request() builder (one message); anything else (another kind of request, or the other
 * sink's) fails with CIO_E_INVALID_ARGUMENT naming what does not fit, nothing queued. The request
 * stays the caller's (its body is copied). The try_ form never waits, like
 * cio_pipeline_try_enqueue(). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_pipeline_enqueue_request(cio_pipeline_t *pipeline,
                                                     const cio_request_t *request, uint64_t *seq);
CIO_EXTERN cio_status_t cio_pipeline_try_enqueue_request(cio_pipeline_t *pipeline,
                                                         const cio_request_t *request,
                                                         uint64_t *seq);

/*
 * Queues n >= 1 built requests all together or none, in order (the executor of a batch that is
 * accepted as a whole, like the relay's /v1/batch). Every request is checked first as
 * cio_pipeline_enqueue_request() checks one (CIO_E_INVALID_ARGUMENT; the message names the first
 * bad one's index, "request 3: ..."); then room is checked for all of them at once (their bytes
 * and their number against max_queue_bytes and max_queue_items): the blocking form waits for it
 * per when_full like cio_pipeline_enqueue(), the try_ form never waits; CIO_E_QUEUE_FULL when it
 * is not there (at once when they could never fit). They are then queued under one lock: their
 * seqs are consecutive, seqs[i] (if seqs is non-NULL: an array of n) gets requests[i]'s, and
 * they are delivered in order. With a spool they are written as one record: a full disk or a
 * kill -9 half way through leaves none of them in the file (with a spool, n requests of more
 * than 1 MiB in all fail with CIO_E_QUEUE_FULL: queue fewer at once). Any failure queues none
 * of them. On a pipeline with a caller's store (options.store) that has no append_many (a store
 * of version 1, customerio/sys/store.h), n > 1 fails with CIO_E_INVALID_ARGUMENT. requests (an
 * array of n non-NULL requests) stays the caller's; the bodies are copied. Thread-safe; the
 * requests must not be freed or changed during the call.
 */
CIO_EXTERN cio_status_t cio_pipeline_enqueue_requests(cio_pipeline_t *pipeline,
                                                      const cio_request_t *const *requests,
                                                      size_t n, uint64_t *seqs);
CIO_EXTERN cio_status_t cio_pipeline_try_enqueue_requests(cio_pipeline_t *pipeline,
                                                          const cio_request_t *const *requests,
                                                          size_t n, uint64_t *seqs);

/*
 * Pipelines sink only: builds one message from its parts like cio_cdp_build() and queues it, in
 * one call, without the JSON text going back and forth; *stamp (if non-NULL) gets what the core
 * filled in (messageId, timestamp), *seq (if non-NULL) the sequence number. Waits for room like
 * cio_pipeline_enqueue(); the try_ form never waits, like cio_pipeline_try_enqueue(). Errors as
 * those and cio_cdp_build(); CIO_E_INVALID_ARGUMENT on a Track v2 pipeline. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_pipeline_enqueue_message(cio_pipeline_t *pipeline,
                                                     const cio_cdp_message_t *message,
                                                     cio_cdp_stamp_t *stamp, uint64_t *seq);
CIO_EXTERN cio_status_t cio_pipeline_try_enqueue_message(cio_pipeline_t *pipeline,
                                                         const cio_cdp_message_t *message,
                                                         cio_cdp_stamp_t *stamp, uint64_t *seq);

/*
 * Sends whatever is queued without waiting for linger, and waits until every operation queued
 * before the call (queued or in flight then) is reported (delivered or failed), or timeout_ms
 * passes (CIO_E_TIMEOUT, naming how many it still waited for; < 0 = no limit). Operations other
 * threads queue meanwhile are sent too but not waited for, so a producer that never stops does
 * not keep a flush from returning. A failure retry.c counts as permanent (a certificate that
 * fails verification, 401, 403, another 4xx) is reported at once, not retried until
 * retry_deadline_ms; but a batch of several operations refused as a whole with HTTP 400
 * (strict Pipelines mode, for one bad message; Track v2, for a malformed one) is split in
 * halves and each sent alone, down to single operations, so only those refused alone are
 * reported (at most 2n - 1 requests for n operations). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_pipeline_flush(cio_pipeline_t *pipeline, long timeout_ms);

/* Counters since the pipeline started. */
typedef struct cio_pipeline_stats {
    uint64_t enqueued;    /* operations accepted */
    uint64_t delivered;   /* confirmed by Customer.io */
    uint64_t failed;      /* given up (reported with a reason) */
    uint64_t retried;     /* operations put back for another try (counted per try) */
    uint64_t requests;    /* batch requests completed */
    uint64_t bytes_sent;  /* request body bytes sent */
    uint64_t queue_depth; /* operations waiting (not in flight) */
    uint64_t queue_bytes; /* bytes queued + in flight */
    uint64_t in_flight;   /* batch requests under way */
} cio_pipeline_stats_t;

/* Copies the counters into *out. Thread-safe. */
CIO_EXTERN cio_status_t cio_pipeline_stats(cio_pipeline_t *pipeline, cio_pipeline_stats_t *out);

/* The counters as a JSON object (malloc'd; free with cio_free_string). Thread-safe. */
CIO_EXTERN char *cio_pipeline_stats_json(cio_pipeline_t *pipeline);

/* Frees a string this library returned. NULL is a no-op. */
CIO_EXTERN void cio_free_string(char *s);

/*
 * Flushes (up to timeout_ms, < 0 = no limit), stops the pipeline thread and frees the pipeline.
 * With a timeout it returns in about timeout_ms even while a request is in flight to a server
 * that does not answer: at the deadline the pipeline's requests still in flight are cancelled
 * (measured: close(500) returns in about 510 ms against a server answering after 30 s).
 * Operations still undelivered then, those of cancelled requests included, are reported as
 * failed with CIO_E_CLOSED; with a spool they also stay in the file for the next pipeline.
 * Returns CIO_E_TIMEOUT if the flush did not finish. NULL is a no-op. Not to be called while
 * other threads still use the pipeline.
 */
CIO_EXTERN cio_status_t cio_pipeline_close(cio_pipeline_t *pipeline, long timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
