/*
 * The delivery pipeline (customerio/pipeline.h). Callers enqueue into a store (pipeline_store.h)
 * under the pipeline lock; one pipeline thread takes batches out of it when they are full or have
 * lingered long enough, paces them, and hands them to the client's engine; the engine thread calls
 * batch_done() when a request is finished, which settles, requeues or reports every item it
 * carried. Every item ends in exactly one report.
 */
#include "pipeline_sink.h"
#include "pipeline_store.h"
#include "retry.h"
#include "store_redis.h"
#include "client_internal.h"
#include "http.h"
#include "queue.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/ulid.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_QUEUE_BYTES ((size_t)64 * 1024 * 1024)
#define DEFAULT_BLOCK_TIMEOUT_MS 10000L
#define DEFAULT_LINGER_MS 100L
#define DEFAULT_MAX_IN_FLIGHT 4
#define DEFAULT_RPS 100.0
#define MIN_RPS 0.001
#define DEFAULT_RETRY_DEADLINE_MS 3600000L
#define PIPELINE_ATTEMPTS_PER_REQUEST 2 /* the engine's share; the pipeline retries beyond */
#define BACKOFF_BASE_MS 200L
#define BACKOFF_MAX_MS 30000L

/* A flush (or close) waiting for what was queued before it: the items with a seq up to boundary
 * (UINT64_MAX until the first enqueue after the flush began, which closes it just below its own
 * seq: seqs only grow), of which remaining are not reported yet (settled and their report
 * delivered). On the flusher's stack. */
typedef struct flush_waiter {
    struct flush_waiter *next;
    uint64_t boundary;
    size_t remaining;
} flush_waiter_t;

struct cio_pipeline {
    cio_client_t *client;
    unsigned fork_generation; /* of the process that made it (its thread lives there) */
    const cio_sink_t *sink;
    cio_store_t *store;
    bool callers_store; /* options.store: checked at new, its failures named by the pipeline */
    cio_pipeline_options_t opts;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the pipeline thread: work may be ready */
    pthread_cond_t space; /* enqueuers: room in the queue */
    pthread_cond_t idle;  /* flushers: something was settled */
    bool stopping;
    int flushing;            /* flush calls waiting */
    flush_waiter_t *waiters; /* their boundaries, for note_settled() */
    size_t queue_bytes;
    size_t queue_items;   /* queued + in flight, for max_queue_items */
    size_t reporting;     /* settled, their reports not delivered yet: flushes still wait */
    int64_t next_send_ms; /* pacing: no request before this */
    int64_t paused_until; /* backoff after a failed request */
    int consecutive_failures;
    bool reporting_damage; /* the thread is delivering the spool's damage reports */
    cio_pipeline_stats_t stats;
    cio_redis_link_t *redis; /* redis_url, ratelimit_url (issue 18); NULL = neither */
};

/* The pipeline's own notion of a batch in flight: its items, in order. */
typedef struct batch {
    cio_pipeline_t *pipeline;
    cio_store_item_t *items;
    size_t count;
    size_t bytes;
    /* a failed request's failure is worth another try (retry.c's table: a refused certificate
     * or a 401 is not); also true when it never reached the network (closing, no memory) */
    bool transient;
} batch_t;

/* The seqs of a batch's items settled by one answer: counted for flush waiters (note_settled)
 * only once their reports are delivered. */
typedef struct settled_seqs {
    uint64_t *seq;
    size_t n;
} settled_seqs_t;

/* ---------------------------------------------------------------- reports */

/* Reports gathered under the lock and delivered after it is released. */
typedef struct report_node {
    struct report_node *next;
    cio_delivery_report_t report;
    char *reason, *field, *message, *operation;
} report_node_t;

typedef struct report_list {
    report_node_t *head, **tail;
} report_list_t;

static char *dup_or_null(const char *s) {
    return s != NULL ? strdup(s) : NULL;
}

static void add_report(cio_pipeline_t *p, report_list_t *out, const cio_store_item_t *item,
                       cio_status_t status, int http_status, const char *reason, const char *field,
                       const char *message) {
    if (status == CIO_OK) {
        p->stats.delivered++;
        if (!p->opts.report_successes)
            return;
    } else {
        p->stats.failed++;
    }
    if (p->opts.on_report == NULL && p->opts.report_queue == NULL)
        return;
    report_node_t *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return;
    n->reason = dup_or_null(reason);
    n->field = dup_or_null(field);
    n->message = dup_or_null(message);
    n->operation = strdup(item->data);
    n->report = (cio_delivery_report_t){.seq = item->seq,
                                        .status = status,
                                        .http_status = http_status,
                                        .reason = n->reason,
                                        .field = n->field,
                                        .message = n->message,
                                        .operation_json = n->operation};
    *out->tail = n;
    out->tail = &n->next;
}

/* Delivers and frees the gathered reports (called without the lock). The reports of one call
 * reach the report queue together: a poller sees all of them or none. */
static void deliver_reports(cio_pipeline_t *p, report_list_t *list) {
    size_t count = 0, k = 0;
    for (report_node_t *n = list->head; n != NULL; n = n->next)
        count++;
    cio_completion_t **queued =
        p->opts.report_queue != NULL && count > 0 ? calloc(count, sizeof(*queued)) : NULL;
    for (report_node_t *n = list->head, *next; n != NULL; n = next) {
        next = n->next;
        if (p->opts.on_report != NULL)
            p->opts.on_report(&n->report, p->opts.report_user);
        cio_completion_t *c = queued != NULL ? calloc(1, sizeof(*c)) : NULL;
        if (c != NULL) {
            c->token = n->report.seq;
            c->status = n->report.status;
            c->http_status = n->report.http_status;
            c->message = n->message;
            c->response = n->operation;
            c->response_len = strlen(n->operation);
            c->reason = n->reason;
            c->field = n->field;
            n->message = n->operation = n->reason = n->field = NULL; /* now the completion's */
            queued[k++] = c;
        }
        free(n->reason);
        free(n->field);
        free(n->message);
        free(n->operation);
        free(n);
    }
    if (queued != NULL) {
        cio__queue_retain(p->opts.report_queue);
        cio__queue_push_all(p->opts.report_queue, queued, k);
        free(queued);
    }
}

/* ---------------------------------------------------------------- batch outcome */

static long backoff_ms(int failures) {
    long delay = BACKOFF_BASE_MS;
    for (int i = 1; i < failures && delay < BACKOFF_MAX_MS; i++)
        delay *= 2;
    return delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
}

/* Per-item rejections of one answer, as flags and texts indexed by position in the batch. */
typedef struct rejection {
    bool rejected;
    char *reason, *field, *message;
} rejection_t;

static void note_rejection(void *user, size_t index, const char *reason, const char *field,
                           const char *message) {
    rejection_t *r = &((rejection_t *)user)[index];
    if (r->rejected)
        return; /* the first reason given for an item is reported */
    r->rejected = true;
    r->reason = dup_or_null(reason);
    r->field = dup_or_null(field);
    r->message = dup_or_null(message);
}

/* The error code of an answer that refused a request as a whole, in the sink's reading of its
 * API's error body. malloc'd, or NULL. */
static char *request_error_code(const cio_sink_t *sink, const cio_completion_t *c) {
    if (c == NULL || c->response == NULL || c->http_status == 0 || sink->request_error == NULL)
        return NULL;
    return sink->request_error(c->response, c->response_len);
}

/* Counts items reported (delivered or given up, and the report delivered) for the flushes
 * waiting on them. Under the lock. */
static void note_settled(cio_pipeline_t *p, const settled_seqs_t *done) {
    for (flush_waiter_t *w = p->waiters; w != NULL; w = w->next)
        for (size_t i = 0; i < done->n && w->remaining > 0; i++)
            if (done->seq[i] <= w->boundary)
                w->remaining--;
    p->reporting -= done->n;
}

/* Keeps the seqs of items about to be settled (and freed), for note_settled() once their reports
 * are out; the array has room for the whole batch (batch_done). Without one (no memory) they
 * count at once, as if reported. Under the lock. */
static void keep_seqs(cio_pipeline_t *p, settled_seqs_t *done, const cio_store_item_t *items) {
    for (const cio_store_item_t *it = items; it != NULL; it = it->next) {
        if (done->seq != NULL) {
            done->seq[done->n++] = it->seq;
            p->reporting++;
            continue;
        }
        for (flush_waiter_t *w = p->waiters; w != NULL; w = w->next)
            if (w->remaining > 0 && it->seq <= w->boundary)
                w->remaining--;
    }
}

/* Settles what was delivered or rejected; requeues what is worth another try. Under the lock. */
static void settle_batch(cio_pipeline_t *p, batch_t *b, const cio_completion_t *c,
                         report_list_t *reports, settled_seqs_t *done_seqs) {
    cio_status_t st = c != NULL ? c->status : CIO_E_NOMEM;
    int http_status = c != NULL ? c->http_status : 0;
    const char *message = c != NULL ? c->message : "pipeline: out of memory";
    p->stats.requests++;
    p->queue_bytes -= b->bytes;
    p->queue_items -= b->count;
    int64_t now = cio__now_ms();

    if (st == CIO_OK) {
        /* first of all: the spool records the batch as settled (the kill -9 window) */
        if (p->store->confirm != NULL)
            p->store->confirm(p->store, b->items);
        rejection_t *rej = calloc(b->count, sizeof(*rej));
        if (rej != NULL && c->response != NULL)
            p->sink->item_errors(c->response, c->response_len, b->count, note_rejection, rej);
        size_t i = 0;
        for (cio_store_item_t *it = b->items; it != NULL; it = it->next, i++) {
            if (rej != NULL && rej[i].rejected) {
                char text[256];
                snprintf(text, sizeof(text), "%s: Customer.io rejected the operation (%s%s%s)",
                         p->sink->name, rej[i].reason ? rej[i].reason : "invalid",
                         rej[i].field ? " " : "", rej[i].field ? rej[i].field : "");
                add_report(p, reports, it, CIO_E_BAD_REQUEST, http_status, rej[i].reason,
                           rej[i].field, rej[i].message ? rej[i].message : text);
                free(rej[i].reason);
                free(rej[i].field);
                free(rej[i].message);
            } else {
                add_report(p, reports, it, CIO_OK, http_status, NULL, NULL, NULL);
            }
        }
        free(rej);
        p->consecutive_failures = 0;
        keep_seqs(p, done_seqs, b->items);
        p->store->settle(p->store, b->items);
        return;
    }

    if (st == CIO_E_CLOSED && p->stopping) {
        /* cancelled by close: still owed (a spool keeps it); close reports it with the rest */
        for (cio_store_item_t *it = b->items; it != NULL; it = it->next) {
            it->attempts += c != NULL ? c->attempts : 0;
            p->queue_bytes += it->len + 1;
            p->queue_items++;
        }
        p->store->requeue(p->store, b->items);
        return;
    }

    if (st == CIO_E_BAD_REQUEST && http_status == 400 && b->count > 1) {
        /* Refused as a whole (strict Pipelines mode does so for one bad message; Track v2 for
         * a malformed one): split it in two and send each half alone, so only what is refused
         * alone is reported. The halves go back in front, in order; their attempts do not
         * count (the fault may be a neighbour's). At most 2n - 1 requests for n items. */
        size_t half = b->count / 2, i = 0;
        for (cio_store_item_t *it = b->items; it != NULL; it = it->next, i++) {
            it->group = i == 0 ? half : i == half ? b->count - half : 0;
            p->queue_bytes += it->len + 1;
            p->queue_items++;
        }
        p->stats.retried += b->count;
        p->store->requeue(p->store, b->items);
        return;
    }

    /* The request failed as a whole. Worth another try: put back what is still in time and has
     * attempts left. */
    char *code = request_error_code(p->sink, c);
    bool transient = b->transient || st == CIO_E_NOMEM; /* no memory: a local, passing state */
    /* Past the deadline the report says so, and why the last attempt failed (a 503, a reset,
     * Redis refusing a password): "timeout" alone would hide the cause. */
    char expired[600];
    snprintf(expired, sizeof(expired), "%s%s%s",
             "pipeline: retry deadline passed before the operation was delivered",
             message != NULL && *message != '\0' ? "; the last attempt: " : "",
             message != NULL ? message : "");
    cio_store_item_t *retry = NULL, **retry_tail = &retry, *done = NULL, **done_tail = &done;
    for (cio_store_item_t *it = b->items, *next; it != NULL; it = next) {
        next = it->next;
        it->next = NULL;
        it->attempts += c != NULL ? c->attempts : 0;
        bool in_time = now - it->enqueued_ms < p->opts.retry_deadline_ms;
        bool attempts_left = p->opts.max_attempts <= 0 || it->attempts < p->opts.max_attempts;
        if (transient && in_time && attempts_left) {
            *retry_tail = it;
            retry_tail = &it->next;
            p->stats.retried++;
            p->queue_bytes += it->len + 1;
            p->queue_items++;
        } else {
            add_report(p, reports, it, in_time || !transient ? st : CIO_E_TIMEOUT, http_status,
                       code, NULL, in_time || !transient ? message : expired);
            *done_tail = it;
            done_tail = &it->next;
        }
    }
    if (retry != NULL) {
        p->store->requeue(p->store, retry);
        p->consecutive_failures++;
        p->paused_until = now + backoff_ms(p->consecutive_failures);
    }
    if (done != NULL) {
        keep_seqs(p, done_seqs, done);
        p->store->settle(p->store, done);
    }
    free(code);
}

static void batch_done(cio_completion_t *c, void *user) {
    batch_t *b = user;
    cio_pipeline_t *p = b->pipeline;
    report_list_t reports = {NULL, &reports.head};
    uint64_t small[64]; /* a bigger batch allocates */
    settled_seqs_t done = {b->count <= 64 ? small : malloc(b->count * sizeof(uint64_t)), 0};
    pthread_mutex_lock(&p->lock);
    settle_batch(p, b, c, &reports, &done);
    pthread_mutex_unlock(&p->lock);
    cio_completion_free(c);
    free(b);
    /* Reports go out before the items count as done for flush waiters and before the batch
     * stops counting as in flight: once flush or close return, every report they waited for has
     * been delivered (and close may free p). */
    deliver_reports(p, &reports);
    pthread_mutex_lock(&p->lock);
    note_settled(p, &done);
    if (done.seq != small)
        free(done.seq);
    p->stats.in_flight--;
    pthread_cond_broadcast(&p->space);
    pthread_cond_broadcast(&p->idle);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock); /* last touch of p */
}

/* ---------------------------------------------------------------- the pipeline thread */

/* The completion of a batch's request, as for any call, and whether its failure is transient by
 * retry.c's table (the same one the engine retried by, and the caller's retryable flag); a
 * request cut short by the client closing (curl_code -1) never reached an answer: still owed. */
static void batch_finish(void *ctx, const char *name, cio_http_call_t *calls, size_t n,
                         const cio_status_t *statuses, char **messages, cio_completion_t *out) {
    batch_t *b = ctx;
    cio__redis_link_answered(b->pipeline->redis, calls[0].http_status, calls[0].retry_after_ms);
    cio__http_finish_single(NULL, name, calls, n, statuses, messages, out);
    b->transient = calls[0].curl_code == -1 || out->retryable;
}

/* Sends one batch of waiting items. Called with the lock held; releases it around the send. */
static void send_batch(cio_pipeline_t *p) {
    size_t frame = strlen(p->sink->prefix) + p->sink->suffix_reserve;
    batch_t *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        p->paused_until = cio__now_ms() + BACKOFF_BASE_MS; /* no busy loop while memory is short */
        return;
    }
    b->pipeline = p;
    size_t payload = 0;
    b->items = p->store->take(p->store, p->opts.batch_bytes - frame,
                              p->opts.max_batch_items > 0 ? p->opts.max_batch_items : SIZE_MAX,
                              &b->count, &payload);
    if (b->items == NULL) {
        free(b);
        return;
    }
    /* queue_bytes counts each item as len + 1; b->bytes gives exactly that back */
    b->bytes = 0;
    /* within every item's max_attempts budget */
    int attempts = cio__redis_link_attempts(p->redis, PIPELINE_ATTEMPTS_PER_REQUEST);
    for (cio_store_item_t *it = b->items; it != NULL; it = it->next) {
        b->bytes += it->len + 1;
        if (p->opts.max_attempts > 0 && p->opts.max_attempts - it->attempts < attempts)
            attempts = p->opts.max_attempts - it->attempts;
    }
    if (attempts < 1)
        attempts = 1;
    p->stats.in_flight++;
    if (p->store->before_send != NULL)
        p->store->before_send(p->store);
    pthread_mutex_unlock(&p->lock);
    if (cio__redis_link_forwards(p->redis)) { /* into the shared Redis queue (store_redis.h) */
        b->transient = true;
        batch_done(cio__redis_link_push(p->redis, b->items), b);
        pthread_mutex_lock(&p->lock);
        return;
    }

    cio_buf_t body = {0};
    bool ok = cio__buf_appends(&body, p->sink->prefix);
    for (cio_store_item_t *it = b->items; ok && it != NULL; it = it->next)
        ok = (it == b->items || cio__buf_append(&body, ",", 1)) &&
             cio__buf_append(&body, it->data, it->len);
    ok = ok && p->sink->finish_body(&body);
    cio_status_t st = CIO_E_NOMEM;
    if (ok && !cio__redis_link_take(p->redis, &p->stopping)) { /* the fleet's turn (issue 18) */
        ok = false;
        st = CIO_E_CLOSED;
    }
    if (ok) {
        cio_http_call_t call = {.method = "POST",
                                .path = cio__sink_path(p->client, p->sink),
                                .body = body.data,
                                .body_len = body.len,
                                .auth = cio__sink_auth(p->sink),
                                .max_attempts = attempts};
        st = cio__http_run_callback(p->client, p->sink->name, &call, 1, batch_finish, b, NULL,
                                    batch_done, b, p);
    }
    size_t sent = body.len;
    cio__buf_free(&body);
    pthread_mutex_lock(&p->lock);
    if (st == CIO_OK) {
        p->stats.bytes_sent += sent;
        return;
    }
    /* never handed to the engine (out of memory, client closing): settle it here, still owed */
    b->transient = st == CIO_E_CLOSED || st == CIO_E_NOMEM;
    pthread_mutex_unlock(&p->lock);
    cio_completion_t *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->status = st;
        c->message = strdup(cio_last_error() != NULL ? cio_last_error()->message
                                                     : "pipeline: the request was not sent");
    }
    batch_done(c, b);
    pthread_mutex_lock(&p->lock);
}

static void deadline_in(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Damaged records the spool set aside at open: each one reported as failed, before
 * cio_pipeline_new returns (it waits for this). */
static void report_store_damage(cio_pipeline_t *p) {
    report_list_t reports = {NULL, &reports.head};
    pthread_mutex_lock(&p->lock);
    cio_store_damage_t *damage = p->store->damaged;
    p->store->damaged = NULL;
    for (cio_store_damage_t *d = damage; d != NULL; d = d->next) {
        p->stats.enqueued++; /* accepted once, by an earlier run */
        add_report(p, &reports, d->item, CIO_E_INTERNAL, 0, "spool_damaged", NULL, d->message);
    }
    pthread_mutex_unlock(&p->lock);
    deliver_reports(p, &reports);
    if (damage != NULL && p->store->free_damage != NULL)
        p->store->free_damage(p->store, damage);
    pthread_mutex_lock(&p->lock);
    p->reporting_damage = false;
    pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->lock);
}

static void *pipeline_main(void *arg) {
    cio_pipeline_t *p = arg;
    if (p->reporting_damage)
        report_store_damage(p);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->stopping) { /* close: send nothing more; leave once nothing flies */
            if (p->stats.in_flight == 0)
                break;
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        if (cio__redis_link_pause_pending(p->redis)) {
            /* a 429 came (noted by the engine thread): the fleet waits with this sender now */
            pthread_mutex_unlock(&p->lock);
            cio__redis_link_publish_pause(p->redis);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        const cio_store_item_t *head = p->store->peek(p->store);
        int64_t now = cio__now_ms();
        int64_t wait_ms = 1000;
        if (head != NULL && (int)p->stats.in_flight < p->opts.max_in_flight) {
            bool full =
                p->store->waiting_bytes >= p->opts.batch_bytes / 2 ||
                (p->opts.max_batch_items > 0 && p->store->waiting >= p->opts.max_batch_items);
            int64_t ready_at =
                full || p->flushing > 0 ? now : head->enqueued_ms + p->opts.linger_ms;
            if (ready_at < p->paused_until)
                ready_at = p->paused_until;
            if (ready_at < p->next_send_ms)
                ready_at = p->next_send_ms;
            if (ready_at <= now) {
                if (p->opts.max_requests_per_second > 0)
                    p->next_send_ms =
                        now + (int64_t)(1000.0 / p->opts.max_requests_per_second + 0.5);
                send_batch(p);
                continue;
            }
            wait_ms = ready_at - now;
        }
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        pthread_cond_timedwait(&p->wake, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---------------------------------------------------------------- public API */

/* A caller's store (options.store): a version this library reads, every required function,
 * not combined with spool_path. */
static cio_status_t check_store(const cio_pipeline_options_t *o) {
    const cio_store_t *s = o->store;
    if (s == NULL)
        return CIO_OK;
    if (o->spool_path != NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "pipeline: options.store and options.spool_path are both set (a spool "
                         "is the library's own store: give one or the other)");
    if (s->version == 0 || s->version > CIO_STORE_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "pipeline: options.store->version %u is not supported (use "
                         "CIO_STORE_INIT)",
                         s->version);
    if (s->append == NULL || s->take == NULL || s->settle == NULL || s->requeue == NULL ||
        s->peek == NULL || s->release == NULL || s->destroy == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "pipeline: options.store lacks a required function (append, take, "
                         "settle, requeue, peek, release and destroy are required)");
    if (s->damaged != NULL && s->free_damage == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "pipeline: options.store has damage to report but no free_damage");
    return CIO_OK;
}

cio_status_t cio_pipeline_new(cio_client_t *client, const cio_pipeline_options_t *options,
                              cio_pipeline_t **out) {
    if (out == NULL || options == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "pipeline: options or out is NULL");
    *out = NULL;
    if (options->version == 0 || options->version > CIO_PIPELINE_OPTIONS_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "pipeline: options.version %u is not supported (use "
                         "CIO_PIPELINE_OPTIONS_INIT)",
                         options->version);
    /* An older caller's struct ends before the newer fields: read only what it has. */
    static const size_t given_bytes[] = {0, offsetof(cio_pipeline_options_t, max_batch_items),
                                         offsetof(cio_pipeline_options_t, store),
                                         offsetof(cio_pipeline_options_t, redis_url),
                                         sizeof(cio_pipeline_options_t)};
    cio_pipeline_options_t given;
    memset(&given, 0, sizeof(given));
    memcpy(&given, options, given_bytes[options->version]);
    options = &given;
    const cio_sink_t *sink = cio__sink_builtin(options->sink);
    if (sink == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "pipeline: unknown sink %d", (int)options->sink);
    if (options->max_requests_per_second != options->max_requests_per_second) /* NaN */
        return cio__fail(CIO_E_INVALID_ARGUMENT, "pipeline: max_requests_per_second is NaN");
    cio_status_t st = check_store(options);
    if (st == CIO_OK && sink->check_client != NULL)
        st = sink->check_client(client, "pipeline");
    if (st != CIO_OK)
        return st;
    cio_pipeline_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    p->client = client;
    p->fork_generation = cio__fork_generation();
    p->sink = sink;
    p->opts = *options;
    cio_pipeline_options_t *o = &p->opts;
    st = cio__redis_link_new(client, o, &p->redis);
    if (st != CIO_OK) {
        free(p);
        return st;
    }
    if (o->max_queue_bytes == 0)
        o->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
    if (o->block_timeout_ms <= 0)
        o->block_timeout_ms = DEFAULT_BLOCK_TIMEOUT_MS;
    if (o->linger_ms <= 0)
        o->linger_ms = DEFAULT_LINGER_MS;
    if (o->batch_bytes == 0 || o->batch_bytes > p->sink->max_batch_bytes)
        o->batch_bytes = p->sink->max_batch_bytes;
    if (o->batch_bytes < 1024)
        o->batch_bytes = 1024;
    if (o->max_in_flight <= 0)
        o->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
    if (o->max_requests_per_second == 0)
        o->max_requests_per_second = DEFAULT_RPS;
    if (o->max_requests_per_second > 0 && o->max_requests_per_second < MIN_RPS)
        o->max_requests_per_second = MIN_RPS; /* keeps the pacing interval a sane integer */
    if (o->retry_deadline_ms <= 0)
        o->retry_deadline_ms = DEFAULT_RETRY_DEADLINE_MS;
    if (o->max_attempts < 0)
        o->max_attempts = 0;
    o->spool_path = NULL; /* not kept: the store owns the file */
    o->store = NULL;      /* p->store, below */
    p->callers_store = options->store != NULL;
    if (p->callers_store)
        p->store = options->store;
    else
        st = options->spool_path != NULL
                 ? cio__store_spool_new(options->spool_path, options->spool_sync, &p->store)
                 : cio__store_memory_new(&p->store);
    if (st != CIO_OK) {
        cio__redis_link_free(p->redis);
        free(p);
        return st;
    }
    p->queue_bytes = p->store->waiting_bytes + p->store->waiting;
    p->queue_items = p->store->waiting;
    p->stats.enqueued = p->store->waiting; /* replayed from the spool */
    p->reporting_damage = p->store->damaged != NULL;
    if (o->report_queue != NULL)
        cio__queue_retain(o->report_queue);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &attr);
    pthread_cond_init(&p->space, &attr);
    pthread_cond_init(&p->idle, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&p->thread, NULL, pipeline_main, p) != 0) {
        /* The damage found at open (logged line by line then) has no thread to report it: say
         * so, since its records may already be out of the spool (in the quarantine file). */
        size_t unreported = 0;
        for (const cio_store_damage_t *d = p->store->damaged; d != NULL; d = d->next)
            unreported++;
        if (unreported > 0)
            fprintf(stderr,
                    "customerio: pipeline: the pipeline thread did not start; %zu damaged spool "
                    "records found at open were not reported (see the lines above)\n",
                    unreported);
        if (!p->callers_store) /* a caller's store stays the caller's when this fails */
            p->store->destroy(p->store);
        cio__redis_link_free(p->redis);
        if (o->report_queue != NULL)
            cio_queue_free(o->report_queue);
        free(p);
        if (unreported > 0)
            return cio__fail(CIO_E_INTERNAL,
                             "pipeline: cannot start the pipeline thread; %zu damaged spool "
                             "records found at open were not reported (logged on stderr)",
                             unreported);
        return cio__fail(CIO_E_INTERNAL, "pipeline: cannot start the pipeline thread");
    }
    pthread_mutex_lock(&p->lock);
    while (p->reporting_damage)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    cio__ulid_warm_up(); /* the first enqueue does not pay for OpenSSL's generator setup */
    *out = p;
    return cio__ok();
}

/* Whether an operation of cost bytes finds no room under the queue's bounds. Under the lock. */
static bool no_room(const cio_pipeline_t *p, size_t cost) {
    return p->queue_bytes + cost > p->opts.max_queue_bytes ||
           (p->opts.max_queue_items > 0 && p->queue_items + 1 > p->opts.max_queue_items);
}

/* A pipeline belongs to the process that made it: in a forked child its thread is gone, and
 * its lock may have been held by a thread that did not follow, so no call touches it there
 * (the child makes a pipeline of its own). Fills the error and returns true in such a child. */
static bool made_by_another_process(const cio_pipeline_t *p, const char *call) {
    if (p->fork_generation == cio__fork_generation())
        return false;
    cio__fail(CIO_E_CLOSED,
              "%s: the pipeline was made by the parent of this process (fork()): make one in "
              "this process",
              call);
    return true;
}

/* Queues one operation already prepared by the sink (op is freed either way). may_wait says
 * whether a full queue may be waited on (with CIO_WHEN_FULL_BLOCK): the try_ calls say no. */
static cio_status_t enqueue_prepared(cio_pipeline_t *p, cio_buf_t op, uint64_t *seq,
                                     bool may_wait) {
    cio_status_t st;
    size_t cost = op.len + 1;
    if (cost > p->opts.max_queue_bytes) { /* it would never fit: waiting cannot help */
        cio__buf_free(&op);
        return cio__fail(CIO_E_QUEUE_FULL,
                         "enqueue: the %s is %zu bytes, more than the queue holds (max_queue_bytes "
                         "%zu)",
                         p->sink->item_name, cost - 1, p->opts.max_queue_bytes);
    }
    pthread_mutex_lock(&p->lock);
    if (no_room(p, cost) && !p->stopping) {
        bool wait = may_wait && p->opts.when_full == CIO_WHEN_FULL_BLOCK;
        if (wait) {
            struct timespec ts;
            deadline_in(&ts, p->opts.block_timeout_ms);
            while (no_room(p, cost) && !p->stopping &&
                   pthread_cond_timedwait(&p->space, &p->lock, &ts) != ETIMEDOUT) {
            }
        }
        if (no_room(p, cost) && !p->stopping) {
            size_t items = p->queue_items, bytes = p->queue_bytes;
            pthread_mutex_unlock(&p->lock);
            cio__buf_free(&op);
            const char *waited = wait ? " after waiting" : "";
            if (p->opts.max_queue_items > 0 && items + 1 > p->opts.max_queue_items)
                return cio__fail(CIO_E_QUEUE_FULL,
                                 "enqueue: the queue is full (%zu %ss queued, limit %zu)%s", items,
                                 p->sink->item_name, p->opts.max_queue_items, waited);
            return cio__fail(CIO_E_QUEUE_FULL,
                             "enqueue: the queue is full (%zu bytes queued, limit %zu)%s", bytes,
                             p->opts.max_queue_bytes, waited);
        }
    }
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        cio__buf_free(&op);
        return cio__fail(CIO_E_CLOSED, "enqueue: the pipeline is closing");
    }
    uint64_t n = 0;
    st = p->store->append(p->store, op.data, op.len, &n);
    if (st == CIO_OK) {
        p->queue_bytes += cost;
        p->queue_items++;
        p->stats.enqueued++;
        for (flush_waiter_t *w = p->waiters; w != NULL; w = w->next)
            if (w->boundary == UINT64_MAX)
                w->boundary = n - 1; /* a flush in progress does not wait for this one */
        /* Wake the pipeline thread only on a change it acts on: the linger timer to arm, or a
         * batch that just became full enough (signalling on every enqueue past that point
         * would cost each caller a futex call and the thread a pointless wake-up). */
        size_t half = p->opts.batch_bytes / 2, now_waiting = p->store->waiting_bytes;
        if (p->store->waiting == 1 || (now_waiting >= half && now_waiting - op.len < half) ||
            (p->opts.max_batch_items > 0 && p->store->waiting == p->opts.max_batch_items))
            pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    cio__buf_free(&op);
    if (st != CIO_OK)
        return p->callers_store
                   ? cio__fail(st, "enqueue: the pipeline's store did not take the %s (%s)",
                               p->sink->item_name, cio_status_str(st))
                   : st;
    if (seq != NULL)
        *seq = n;
    return cio__ok();
}

cio_status_t cio__pipeline_enqueue_prepared(cio_pipeline_t *p, cio_buf_t op, uint64_t *seq,
                                            bool may_wait) {
    return enqueue_prepared(p, op, seq, may_wait);
}

/* Whether n operations of cost bytes in all find no room. Under the lock. */
static bool no_room_for(const cio_pipeline_t *p, size_t cost, size_t n) {
    return p->queue_bytes + cost > p->opts.max_queue_bytes ||
           (p->opts.max_queue_items > 0 && p->queue_items + n > p->opts.max_queue_items);
}

/* Queues n prepared operations (borrowed) all together or none, in order: room is checked for
 * all of them at once (waited for like enqueue_prepared when may_wait), and the store takes them
 * in one append_many call (a durable store: one all-or-none write). */
static cio_status_t enqueue_prepared_many(cio_pipeline_t *p, const char *call,
                                          const char *const *ops, const size_t *lens, size_t n,
                                          uint64_t *seqs, bool may_wait) {
    size_t cost = 0;
    for (size_t i = 0; i < n; i++)
        cost += lens[i] + 1;
    const char *name = p->sink->item_name;
    bool many = p->store->version >= 2 && p->store->append_many != NULL;
    if (n > 1 && !many)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: the pipeline's store cannot take several %ss all or none (it has no "
                         "append_many, customerio/sys/store.h version 2): nothing was queued; "
                         "enqueue them one by one",
                         call, name);
    if (cost > p->opts.max_queue_bytes ||
        (p->opts.max_queue_items > 0 && n > p->opts.max_queue_items))
        return cio__fail(CIO_E_QUEUE_FULL,
                         "%s: the %zu %ss are %zu bytes, more than the queue holds "
                         "(max_queue_bytes %zu, max_queue_items %zu): nothing was queued",
                         call, n, name, cost - n, p->opts.max_queue_bytes, p->opts.max_queue_items);
    pthread_mutex_lock(&p->lock);
    bool wait = false;
    if (no_room_for(p, cost, n) && !p->stopping) {
        wait = may_wait && p->opts.when_full == CIO_WHEN_FULL_BLOCK;
        if (wait) {
            struct timespec ts;
            deadline_in(&ts, p->opts.block_timeout_ms);
            while (no_room_for(p, cost, n) && !p->stopping &&
                   pthread_cond_timedwait(&p->space, &p->lock, &ts) != ETIMEDOUT) {
            }
        }
    }
    if (no_room_for(p, cost, n) && !p->stopping) {
        size_t items = p->queue_items, bytes = p->queue_bytes;
        pthread_mutex_unlock(&p->lock);
        return cio__fail(CIO_E_QUEUE_FULL,
                         "%s: the queue is full: %zu %ss of %zu bytes do not fit (%zu queued, "
                         "%zu bytes; limits %zu bytes, %zu items, 0 = none)%s: nothing was queued",
                         call, n, name, cost - n, items, bytes, p->opts.max_queue_bytes,
                         p->opts.max_queue_items, wait ? " after waiting" : "");
    }
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return cio__fail(CIO_E_CLOSED, "%s: the pipeline is closing", call);
    }
    size_t before = p->store->waiting_bytes;
    cio_status_t st = n == 1 ? p->store->append(p->store, ops[0], lens[0], &seqs[0])
                             : p->store->append_many(p->store, ops, lens, n, seqs);
    if (st == CIO_OK) {
        p->queue_bytes += cost;
        p->queue_items += n;
        p->stats.enqueued += n;
        for (flush_waiter_t *w = p->waiters; w != NULL; w = w->next)
            if (w->boundary == UINT64_MAX)
                w->boundary = seqs[0] - 1; /* a flush in progress does not wait for these */
        /* the thread's wake-up conditions of enqueue_prepared, crossed by any of them */
        size_t half = p->opts.batch_bytes / 2, now_waiting = p->store->waiting_bytes;
        size_t max_items = p->opts.max_batch_items;
        if (p->store->waiting == n || (now_waiting >= half && before < half) ||
            (max_items > 0 && p->store->waiting >= max_items && p->store->waiting - n < max_items))
            pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    if (st != CIO_OK)
        return p->callers_store
                   ? cio__fail(st, "%s: the pipeline's store did not take the %zu %ss (%s)", call,
                               n, name, cio_status_str(st))
                   : st;
    return cio__ok();
}

cio_status_t cio__pipeline_enqueue_prepared_many(cio_pipeline_t *p, const char *call,
                                                 const char *const *ops, const size_t *lens,
                                                 size_t n, uint64_t *seqs, bool may_wait) {
    return enqueue_prepared_many(p, call, ops, lens, n, seqs, may_wait);
}

cio_status_t cio__pipeline_enter(cio_pipeline_t *p, const char *call, const cio_sink_t **sink) {
    if (p == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "pipeline: pipeline is NULL");
    if (made_by_another_process(p, call))
        return CIO_E_CLOSED;
    *sink = p->sink;
    return CIO_OK;
}

static cio_status_t enqueue(cio_pipeline_t *p, const char *operation_json, uint64_t *seq,
                            bool may_wait) {
    const cio_sink_t *sink = NULL;
    cio_status_t entered = cio__pipeline_enter(p, "enqueue", &sink);
    if (entered != CIO_OK)
        return entered;
    /* prepared on the stack (the store copies it): no allocation of its own for most items */
    char storage[1024];
    cio_buf_t op = CIO_BUF_ON(storage, sizeof(storage));
    cio_status_t st = sink->prepare("enqueue", sink->item_name, operation_json, &op);
    if (st != CIO_OK) {
        cio__buf_free(&op);
        return st;
    }
    return enqueue_prepared(p, op, seq, may_wait);
}

cio_status_t cio_pipeline_enqueue(cio_pipeline_t *p, const char *operation_json, uint64_t *seq) {
    return enqueue(p, operation_json, seq, true);
}

cio_status_t cio_pipeline_try_enqueue(cio_pipeline_t *p, const char *operation_json,
                                      uint64_t *seq) {
    return enqueue(p, operation_json, seq, false);
}

/* Waits (lock held) until what was queued (or in flight) when it was called is settled, or the
 * deadline: operations queued meanwhile by other threads are not waited for, so a producer that
 * never stops does not keep a flush from returning. *left gets what it still waited for. */
static cio_status_t wait_drained(cio_pipeline_t *p, long timeout_ms, size_t *left) {
    struct timespec ts;
    deadline_in(&ts, timeout_ms >= 0 ? timeout_ms : 0);
    flush_waiter_t me = {
        .next = p->waiters, .boundary = UINT64_MAX, .remaining = p->queue_items + p->reporting};
    p->waiters = &me;
    p->flushing++;
    pthread_cond_signal(&p->wake);
    cio_status_t st = CIO_OK;
    while (me.remaining > 0) {
        int rc = timeout_ms >= 0 ? pthread_cond_timedwait(&p->idle, &p->lock, &ts)
                                 : pthread_cond_wait(&p->idle, &p->lock);
        if (rc == ETIMEDOUT && me.remaining > 0) {
            st = CIO_E_TIMEOUT;
            break;
        }
    }
    p->flushing--;
    flush_waiter_t **at = &p->waiters;
    while (*at != &me)
        at = &(*at)->next;
    *at = me.next;
    *left = me.remaining;
    return st;
}

cio_status_t cio_pipeline_flush(cio_pipeline_t *p, long timeout_ms) {
    if (p == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "flush: pipeline is NULL");
    if (made_by_another_process(p, "flush"))
        return CIO_E_CLOSED;
    pthread_mutex_lock(&p->lock);
    size_t left = 0;
    cio_status_t st = wait_drained(p, timeout_ms, &left);
    pthread_mutex_unlock(&p->lock);
    if (st != CIO_OK)
        return cio__fail(st, "flush: %zu operations still pending after %ld ms", left, timeout_ms);
    return cio__ok();
}

cio_status_t cio_pipeline_stats(cio_pipeline_t *p, cio_pipeline_stats_t *out) {
    if (p == NULL || out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "stats: pipeline or out is NULL");
    if (made_by_another_process(p, "stats"))
        return CIO_E_CLOSED;
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    out->queue_depth = p->store->waiting;
    out->queue_bytes = p->queue_bytes;
    pthread_mutex_unlock(&p->lock);
    return cio__ok();
}

char *cio_pipeline_stats_json(cio_pipeline_t *p) {
    cio_pipeline_stats_t s;
    if (cio_pipeline_stats(p, &s) != CIO_OK)
        return NULL;
    cio_buf_t b = {0};
    if (!cio__buf_printf(&b,
                         "{\"enqueued\":%llu,\"delivered\":%llu,\"failed\":%llu,\"retried\":%llu,"
                         "\"requests\":%llu,\"bytes_sent\":%llu,\"queue_depth\":%llu,"
                         "\"queue_bytes\":%llu,\"in_flight\":%llu}",
                         (unsigned long long)s.enqueued, (unsigned long long)s.delivered,
                         (unsigned long long)s.failed, (unsigned long long)s.retried,
                         (unsigned long long)s.requests, (unsigned long long)s.bytes_sent,
                         (unsigned long long)s.queue_depth, (unsigned long long)s.queue_bytes,
                         (unsigned long long)s.in_flight))
        cio__buf_free(&b);
    return b.data;
}

void cio_free_string(char *s) {
    free(s);
}

cio_status_t cio_pipeline_close(cio_pipeline_t *p, long timeout_ms) {
    if (p == NULL)
        return CIO_OK;
    if (made_by_another_process(p, "close")) /* left alone: it is the parent's */
        return CIO_E_CLOSED;
    pthread_mutex_lock(&p->lock);
    size_t unsettled = 0;
    cio_status_t st = wait_drained(p, timeout_ms, &unsettled);
    p->stopping = true;
    pthread_cond_broadcast(&p->space);
    pthread_cond_signal(&p->wake);
    /* In-flight requests end before the thread may leave. With a timeout, its deadline has
     * passed by now (or nothing flies): they are cancelled rather than waited for (a server
     * that does not answer would hold close for the client's timeout times its attempts), and
     * what they carried is put back, still owed. Again every 50 ms: a batch being handed to the
     * engine at the first cancel reaches it just after. */
    while (p->stats.in_flight > 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&p->idle, &p->lock);
            continue;
        }
        cio__http_cancel(p->client, p);
        struct timespec ts;
        deadline_in(&ts, 50);
        pthread_cond_timedwait(&p->idle, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);

    /* What could not be delivered is reported, never dropped silently (a spool keeps it too). */
    report_list_t reports = {NULL, &reports.head};
    size_t count = 0, bytes = 0;
    cio_store_item_t *left = p->store->take(p->store, SIZE_MAX, SIZE_MAX, &count, &bytes);
    for (cio_store_item_t *it = left; it != NULL; it = it->next)
        add_report(p, &reports, it, CIO_E_CLOSED, 0, NULL, NULL,
                   "pipeline: closed before the operation was delivered");
    deliver_reports(p, &reports);
    if (left != NULL)
        p->store->release(p->store, left); /* not settled: a spool still owes them */
    p->store->destroy(p->store);
    cio__redis_link_free(p->redis);
    if (p->opts.report_queue != NULL)
        cio_queue_free(p->opts.report_queue);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->space);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->lock);
    free(p);
    if (st != CIO_OK)
        return cio__fail(st,
                         "close: the queue did not drain within %ld ms; %zu operations were "
                         "reported as not delivered",
                         timeout_ms, count);
    return cio__ok();
}
