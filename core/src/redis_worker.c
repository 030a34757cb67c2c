/*
 * The workers of the shared Redis queue (customerio/redis.h): XREADGROUP into a pipeline of the
 * worker's own (so batches are packed, paced, retried and split by the same code as any
 * pipeline's), XACK + XDEL after each delivery report, dead letters for what Customer.io refuses,
 * XAUTOCLAIM for what dead workers left pending. Also the queue's statistics and the dead-letter
 * commands.
 *
 * Threads: cio_worker_run()'s thread owns the Redis connection and the pipeline's enqueue side;
 * delivery reports arrive on the client's engine thread and are only noted (under w->lock) for
 * the run thread to act on: a report callback must not block on Redis.
 */
#include "customerio/redis.h"
#include "redis_queue.h"
#include "retry.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_GROUP "cio-workers"
#define DEFAULT_CLAIM_IDLE_MS 60000L
#define DEFAULT_MAX_PENDING 10000
#define DEFAULT_BLOCK_MS 100L
#define READ_COUNT 500
#define ID_MAX 48 /* "<ms>-<seq>" */

/* XACK and XDEL: an acknowledged entry leaves the stream (it would grow for ever). KEYS[1] the
 * stream; ARGV[1] the group, ARGV[2..] entry ids. */
static const char ack_script[] = "redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))\n"
                                 "return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))\n";
/* One refused entry into the dead letters, then acknowledged and deleted. KEYS[1] the stream,
 * KEYS[2] the dead letters; ARGV: group, id, op, reason, field, message, http_status ("" =
 * none). Idempotent (a retry after a lost answer adds no second dead letter): only an entry
 * still pending is moved. */
static const char dead_script[] =
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then\n"
    "  redis.call('XADD', KEYS[2], '*', 'op', ARGV[3], 'reason', ARGV[4], 'field', ARGV[5],\n"
    "    'message', ARGV[6], 'http_status', ARGV[7], 'from', ARGV[2])\n"
    "end\n"
    "return redis.call('XDEL', KEYS[1], ARGV[2])\n";
/* Dead letters back into the queue (retry): KEYS[1] the stream, KEYS[2] the dead letters;
 * ARGV[1] an entry id, or "" for all. Returns how many moved. */
static const char retry_script[] =
    "local entries\n"
    "if ARGV[1] == '' then entries = redis.call('XRANGE', KEYS[2], '-', '+')\n"
    "else entries = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) end\n"
    "for _, e in ipairs(entries) do\n"
    "  local f = e[2]\n"
    "  for i = 1, #f, 2 do\n"
    "    if f[i] == 'op' then redis.call('XADD', KEYS[1], '*', 'op', f[i + 1]) end\n"
    "  end\n"
    "  redis.call('XDEL', KEYS[2], e[1])\n"
    "end\n"
    "return #entries\n";

/* An entry read and not acknowledged yet: which pipeline seq carries it. */
typedef struct held {
    uint64_t seq; /* 0 = free slot */
    char id[ID_MAX];
} held_t;

/* A delivery report for the run thread to act on. */
typedef struct done {
    struct done *next;
    char id[ID_MAX];
    cio_status_t status;
    int http_status;
    char *reason, *field, *message, *op;
} done_t;

struct cio_worker {
    cio_client_t *client;
    cio_redis_t *redis;
    cio_pipeline_t *pipeline;
    cio_pipeline_options_t popts;
    char stream[CIO_REDIS_PREFIX_MAX + 8], dead[CIO_REDIS_PREFIX_MAX + 8];
    char group[128], consumer[160];
    long claim_idle_ms, block_ms;
    size_t max_pending;
    atomic_int stop;
    bool running;

    pthread_mutex_t lock; /* held[], done list, counters */
    held_t *held;         /* open addressing by seq; cap a power of two, at most half full */
    size_t cap, nheld;
    done_t *done_head, **done_tail;
    uint64_t read, claimed, acked, dead_lettered;
};

/* ---------------------------------------------------------------- the table of held entries */

static size_t slot_of(const cio_worker_t *w, uint64_t seq) {
    size_t i = (size_t)(seq * 0x9E3779B97F4A7C15ull) & (w->cap - 1);
    while (w->held[i].seq != 0 && w->held[i].seq != seq)
        i = (i + 1) & (w->cap - 1);
    return i;
}

static void hold(cio_worker_t *w, uint64_t seq, const char *id) {
    size_t i = slot_of(w, seq);
    w->held[i].seq = seq;
    snprintf(w->held[i].id, ID_MAX, "%s", id);
    w->nheld++;
}

/* Removes seq's entry (backward-shift deletion keeps the probe chains whole); its id in out. */
static bool unhold(cio_worker_t *w, uint64_t seq, char out[ID_MAX]) {
    size_t i = slot_of(w, seq);
    if (w->held[i].seq == 0)
        return false;
    memcpy(out, w->held[i].id, ID_MAX);
    w->held[i].seq = 0;
    w->nheld--;
    for (size_t j = (i + 1) & (w->cap - 1); w->held[j].seq != 0; j = (j + 1) & (w->cap - 1)) {
        held_t e = w->held[j];
        w->held[j].seq = 0;
        w->held[slot_of(w, e.seq)] = e;
    }
    return true;
}

/* Whether id is this worker's: held (in its pipeline) or reported and waiting for its ack. */
static bool holds_id(const cio_worker_t *w, const char *id) {
    for (size_t i = 0; i < w->cap; i++)
        if (w->held[i].seq != 0 && strcmp(w->held[i].id, id) == 0)
            return true;
    for (const done_t *d = w->done_head; d != NULL; d = d->next)
        if (strcmp(d->id, id) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- reports (engine thread) */

static char *dup_or_null(const char *s) {
    return s != NULL ? strdup(s) : NULL;
}

static void on_report(const cio_delivery_report_t *r, void *user) {
    cio_worker_t *w = user;
    done_t *d = calloc(1, sizeof(*d));
    pthread_mutex_lock(&w->lock);
    if (d != NULL && unhold(w, r->seq, d->id)) {
        d->status = r->status;
        d->http_status = r->http_status;
        d->reason = dup_or_null(r->reason);
        d->field = dup_or_null(r->field);
        d->message = dup_or_null(r->message);
        d->op = dup_or_null(r->operation_json);
        *w->done_tail = d;
        w->done_tail = &d->next;
        d = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    free(d); /* out of memory: the entry stays pending and is claimed again */
}

static void free_done(done_t *d) {
    while (d != NULL) {
        done_t *next = d->next;
        free(d->reason);
        free(d->field);
        free(d->message);
        free(d->op);
        free(d);
        d = next;
    }
}

/* ---------------------------------------------------------------- Redis exchanges */

static bool reply_ok(const redisReply *r) {
    return r != NULL && r->type != REDIS_REPLY_ERROR;
}

/* Acts on the reports noted so far: acknowledges, dead-letters; on a Redis failure keeps them
 * for the next round. */
static void settle_done(cio_worker_t *w) {
    pthread_mutex_lock(&w->lock);
    done_t *list = w->done_head;
    w->done_head = NULL;
    w->done_tail = &w->done_head;
    pthread_mutex_unlock(&w->lock);
    if (list == NULL)
        return;
    size_t n = 0;
    for (done_t *d = list; d != NULL; d = d->next)
        n++;
    /* one ack command for the delivered, one dead-letter command per refusal; the rest (not
     * delivered for another reason) stay pending: claimed again after claim_idle_ms */
    cio_redis_cmd_t *cmds = calloc(n + 1, sizeof(*cmds));
    const char **ack = calloc(n + 5, sizeof(*ack));
    const char **dead = calloc(n * 12 + 1, sizeof(*dead));
    redisReply **replies = calloc(n + 1, sizeof(*replies));
    char(*status)[16] = calloc(n + 1, sizeof(*status));
    if (cmds == NULL || ack == NULL || dead == NULL || replies == NULL || status == NULL)
        goto keep;
    size_t nc = 0, na = 0, k = 0, nacked = 0, ndead = 0;
    ack[na++] = "EVAL";
    ack[na++] = ack_script;
    ack[na++] = "1";
    ack[na++] = w->stream;
    ack[na++] = w->group;
    size_t i = 0;
    for (done_t *d = list; d != NULL; d = d->next, i++) {
        if (d->status == CIO_OK) {
            ack[na++] = d->id;
            nacked++;
        } else if (d->status == CIO_E_BAD_REQUEST) {
            snprintf(status[i], sizeof(status[i]), "%d", d->http_status);
            const char **a = dead + k;
            const char *argv[] = {"EVAL",
                                  dead_script,
                                  "2",
                                  w->stream,
                                  w->dead,
                                  w->group,
                                  d->id,
                                  d->op ? d->op : "",
                                  d->reason ? d->reason : "",
                                  d->field ? d->field : "",
                                  d->message ? d->message : "",
                                  status[i]};
            memcpy(a, argv, sizeof(argv));
            k += 12;
            cmds[nc++] = (cio_redis_cmd_t){12, a, NULL};
            ndead++;
        }
    }
    if (nacked > 0)
        cmds[nc++] = (cio_redis_cmd_t){(int)na, ack, NULL};
    if (nc > 0 && cio__redis_exec(w->redis, nc, cmds, replies) != CIO_OK)
        goto keep;
    /* An error answer (LOADING while a restarted Redis reads its AOF, READONLY, OOM) did not
     * acknowledge: all again next round (both scripts are idempotent). */
    bool refused = false;
    for (size_t j = 0; j < nc; j++) {
        refused |= replies[j]->type == REDIS_REPLY_ERROR;
        freeReplyObject(replies[j]);
    }
    if (refused)
        goto keep;
    pthread_mutex_lock(&w->lock);
    w->acked += nacked;
    w->dead_lettered += ndead;
    pthread_mutex_unlock(&w->lock);
    free_done(list);
    list = NULL;
keep:
    if (list != NULL) { /* back in front, for the next round */
        done_t *last = list;
        while (last->next != NULL)
            last = last->next;
        pthread_mutex_lock(&w->lock);
        last->next = w->done_head;
        w->done_head = list;
        if (w->done_tail == &w->done_head)
            w->done_tail = &last->next;
        pthread_mutex_unlock(&w->lock);
    }
    free(cmds);
    free(ack);
    free(dead);
    free(replies);
    free(status);
}

/* Hands the entries of an XREADGROUP / XAUTOCLAIM answer (an array of [id, [field, value...]])
 * to the pipeline. An entry the pipeline refuses as invalid goes to the dead letters. */
static void take_entries(cio_worker_t *w, const redisReply *entries, bool claimed) {
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= ID_MAX)
            continue; /* XAUTOCLAIM lists deleted entries as nil */
        const char *id = e->element[0]->str;
        const redisReply *f = e->element[1];
        const char *op = NULL;
        for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2)
            if (strcmp(f->element[j]->str, "op") == 0)
                op = f->element[j + 1]->str;
        pthread_mutex_lock(&w->lock);
        bool mine = claimed && holds_id(w, id);
        pthread_mutex_unlock(&w->lock);
        if (mine)
            continue;
        uint64_t seq = 0;
        /* held before the enqueue returns: its report may come first (the lock orders them) */
        pthread_mutex_lock(&w->lock);
        cio_status_t st = op != NULL ? cio_pipeline_enqueue(w->pipeline, op, &seq)
                                     : cio__fail(CIO_E_INVALID_ARGUMENT, "entry has no op field");
        if (st == CIO_OK) {
            hold(w, seq, id);
            if (claimed)
                w->claimed++;
            else
                w->read++;
        }
        pthread_mutex_unlock(&w->lock);
        if (st != CIO_OK && st != CIO_E_CLOSED && st != CIO_E_QUEUE_FULL) {
            done_t *d = calloc(1, sizeof(*d));
            if (d == NULL)
                continue;
            snprintf(d->id, ID_MAX, "%s", id);
            d->status = CIO_E_BAD_REQUEST;
            d->reason = strdup("invalid");
            d->message = dup_or_null(cio_last_error() ? cio_last_error()->message : NULL);
            d->op = dup_or_null(op);
            pthread_mutex_lock(&w->lock);
            *w->done_tail = d;
            w->done_tail = &d->next;
            pthread_mutex_unlock(&w->lock);
        }
    }
}

/* How many more entries this worker may hold (nheld changes on the pipeline's report thread). */
static size_t room_left(cio_worker_t *w) {
    pthread_mutex_lock(&w->lock);
    size_t room = w->max_pending > w->nheld ? w->max_pending - w->nheld : 0;
    pthread_mutex_unlock(&w->lock);
    return room;
}

static cio_status_t read_new(cio_worker_t *w) {
    size_t room = room_left(w);
    if (room == 0) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        return CIO_OK;
    }
    char count[24], block[24];
    snprintf(count, sizeof(count), "%zu", room < READ_COUNT ? room : READ_COUNT);
    snprintf(block, sizeof(block), "%ld", w->block_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", w->group,  w->consumer, "COUNT", count,
                          "BLOCK",      block,   "STREAMS", w->stream,   ">"};
    redisReply *r = NULL;
    cio_status_t st = cio__redis_cmd(w->redis, &r, 11, argv);
    if (st != CIO_OK)
        return st;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOGROUP", 7) == 0) {
        freeReplyObject(r); /* the stream was deleted (or Redis lost it): make them again */
        const char *mk[] = {"XGROUP", "CREATE", w->stream, w->group, "0", "MKSTREAM"};
        st = cio__redis_cmd(w->redis, &r, 6, mk);
        if (st == CIO_OK)
            freeReplyObject(r);
        return st;
    }
    /* [[stream, [entries...]]] or nil after BLOCK */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2)
        take_entries(w, r->element[0]->element[1], false);
    freeReplyObject(r);
    return CIO_OK;
}

/* Claims what others (dead workers) left pending claim_idle_ms; and first keeps this worker's
 * own held entries from looking idle (XCLAIM JUSTID resets their idle time). */
static cio_status_t claim(cio_worker_t *w) {
    pthread_mutex_lock(&w->lock);
    size_t n = w->nheld, k = 0;
    const char **argv = calloc(n + 8, sizeof(*argv));
    char(*ids)[ID_MAX] = calloc(n + 1, ID_MAX);
    if (argv == NULL || ids == NULL) {
        pthread_mutex_unlock(&w->lock);
        free(argv);
        free(ids);
        return CIO_E_NOMEM;
    }
    for (size_t i = 0; i < w->cap && k < n; i++)
        if (w->held[i].seq != 0)
            memcpy(ids[k++], w->held[i].id, ID_MAX);
    pthread_mutex_unlock(&w->lock);
    /* and those delivered whose acknowledgement waits (Redis was away): claimed by another
     * worker meanwhile, they would be sent twice */
    size_t waiting = 0;
    pthread_mutex_lock(&w->lock);
    for (done_t *d = w->done_head; d != NULL; d = d->next)
        waiting++;
    char(*more)[ID_MAX] = waiting > 0 ? realloc(ids, (k + waiting + 1) * ID_MAX) : ids;
    const char **more_argv = waiting > 0 ? realloc(argv, (k + waiting + 8) * sizeof(*argv)) : argv;
    if (more != NULL)
        ids = more;
    if (more_argv != NULL)
        argv = more_argv;
    for (done_t *d = w->done_head; d != NULL && more != NULL && more_argv != NULL; d = d->next)
        memcpy(ids[k++], d->id, ID_MAX);
    pthread_mutex_unlock(&w->lock);
    cio_status_t st = CIO_OK;
    redisReply *r = NULL;
    if (k > 0) {
        size_t a = 0;
        argv[a++] = "XCLAIM";
        argv[a++] = w->stream;
        argv[a++] = w->group;
        argv[a++] = w->consumer;
        argv[a++] = "0";
        for (size_t i = 0; i < k; i++)
            argv[a++] = ids[i];
        argv[a++] = "JUSTID";
        st = cio__redis_cmd(w->redis, &r, (int)a, argv);
        if (st == CIO_OK)
            freeReplyObject(r);
    }
    free(argv);
    free(ids);
    if (st != CIO_OK)
        return st;
    size_t room = room_left(w);
    if (room == 0)
        return CIO_OK;
    char idle[24], count[24];
    snprintf(idle, sizeof(idle), "%ld", w->claim_idle_ms);
    snprintf(count, sizeof(count), "%zu", room < READ_COUNT ? room : READ_COUNT);
    const char *ac[] = {"XAUTOCLAIM", w->stream, w->group, w->consumer,
                        idle,         "0-0",     "COUNT",  count};
    st = cio__redis_cmd(w->redis, &r, 8, ac);
    if (st != CIO_OK)
        return st;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
        r->element[1]->type == REDIS_REPLY_ARRAY)
        take_entries(w, r->element[1], true);
    freeReplyObject(r);
    return CIO_OK;
}

static cio_status_t make_group(cio_worker_t *w) {
    const char *argv[] = {"XGROUP", "CREATE", w->stream, w->group, "0", "MKSTREAM"};
    redisReply *r = NULL;
    cio_status_t st = cio__redis_cmd(w->redis, &r, 6, argv);
    if (st != CIO_OK)
        return st;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0)
        st = cio__fail(CIO_E_CONFIG, "worker: %s refused to make the consumer group: %.200s",
                       cio__redis_where(w->redis), r->str);
    freeReplyObject(r);
    return st;
}

/* ---------------------------------------------------------------- public */

cio_status_t cio_worker_new(cio_client_t *client, const cio_worker_options_t *o,
                            cio_worker_t **out) {
    if (client == NULL || o == NULL || out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "worker: client, options or out is NULL");
    *out = NULL;
    if (o->version == 0 || o->version > CIO_WORKER_OPTIONS_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "worker: options.version %u is not supported (use "
                         "CIO_WORKER_OPTIONS_INIT)",
                         o->version);
    if (o->redis_url == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "worker: options.redis_url is required");
    const cio_pipeline_options_t *po = o->pipeline;
    if (po != NULL && (po->redis_url != NULL || po->store != NULL || po->spool_path != NULL ||
                       po->on_report != NULL || po->report_queue != NULL))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "worker: options.pipeline may not set redis_url, store, spool_path, "
                         "on_report or report_queue (the worker's own)");
    cio_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return cio__fail(CIO_E_NOMEM, "worker: out of memory");
    w->client = client;
    char prefix[CIO_REDIS_PREFIX_MAX];
    cio_status_t st = cio__redis_prefix(client, o->sink, prefix);
    if (st == CIO_OK)
        st = cio__redis_new(o->redis_url, 0, &w->redis);
    if (st != CIO_OK) {
        free(w);
        return st;
    }
    snprintf(w->stream, sizeof(w->stream), "%s:q", prefix);
    snprintf(w->dead, sizeof(w->dead), "%s:dead", prefix);
    snprintf(w->group, sizeof(w->group), "%s", o->group ? o->group : DEFAULT_GROUP);
    if (o->consumer != NULL) {
        snprintf(w->consumer, sizeof(w->consumer), "%s", o->consumer);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof(host) - 1);
        unsigned rnd = (unsigned)cio__now_ms() ^ ((unsigned)getpid() << 16);
        snprintf(w->consumer, sizeof(w->consumer), "%s-%ld-%08x", host, (long)getpid(), rnd);
    }
    w->claim_idle_ms = o->claim_idle_ms > 0 ? o->claim_idle_ms : DEFAULT_CLAIM_IDLE_MS;
    w->max_pending = o->max_pending > 0 ? o->max_pending : DEFAULT_MAX_PENDING;
    w->block_ms = o->block_ms > 0 ? o->block_ms : DEFAULT_BLOCK_MS;
    for (w->cap = 16; w->cap < 2 * w->max_pending + 2; w->cap *= 2) {
    }
    w->held = calloc(w->cap, sizeof(*w->held));
    pthread_mutex_init(&w->lock, NULL);
    w->done_tail = &w->done_head;
    if (po != NULL)
        w->popts = *po;
    else
        w->popts = (cio_pipeline_options_t)CIO_PIPELINE_OPTIONS_INIT;
    w->popts.version = CIO_PIPELINE_OPTIONS_VERSION;
    w->popts.sink = o->sink;
    if (w->popts.ratelimit_url == NULL) /* the fleet's limit lives beside its queue */
        w->popts.ratelimit_url = o->redis_url;
    w->popts.on_report = on_report;
    w->popts.report_user = w;
    w->popts.report_successes = 1;
    /* a full pipeline must not stall the read loop: max_pending bounds what is held instead */
    w->popts.when_full = CIO_WHEN_FULL_FAIL;
    st = w->held == NULL ? cio__fail(CIO_E_NOMEM, "worker: out of memory") : make_group(w);
    if (st == CIO_OK)
        st = cio_pipeline_new(client, &w->popts, &w->pipeline);
    if (st != CIO_OK) {
        cio__redis_free(w->redis);
        pthread_mutex_destroy(&w->lock);
        free(w->held);
        free(w);
        return st;
    }
    *out = w;
    return cio__ok();
}

cio_status_t cio_worker_run(cio_worker_t *w, long stop_timeout_ms) {
    if (w == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "worker: worker is NULL");
    if (w->pipeline == NULL)
        return cio__fail(CIO_E_CLOSED, "worker: it already ran");
    int64_t next_claim = 0;
    while (!atomic_load(&w->stop)) {
        settle_done(w);
        cio_status_t st = CIO_OK;
        int64_t now = cio__now_ms();
        if (now >= next_claim) {
            st = claim(w);
            next_claim = now + w->claim_idle_ms / 4 + 1;
        }
        if (st == CIO_OK)
            st = read_new(w);
        if (st != CIO_OK) { /* Redis away: ask again soon (acks wait, others may claim) */
            struct timespec ts = {0, 200 * 1000000L};
            nanosleep(&ts, NULL);
            next_claim = 0; /* back: refresh what this worker holds first */
        }
    }
    /* what was sent is answered (or cancelled) and acknowledged; the rest stays pending */
    cio_pipeline_close(w->pipeline, stop_timeout_ms);
    w->pipeline = NULL;
    for (int i = 0; i < 3; i++) {
        settle_done(w);
        pthread_mutex_lock(&w->lock);
        bool left = w->done_head != NULL;
        pthread_mutex_unlock(&w->lock);
        if (!left)
            break;
    }
    return cio__ok();
}

void cio_worker_stop(cio_worker_t *w) {
    if (w != NULL)
        atomic_store(&w->stop, 1);
}

char *cio_worker_stats_json(cio_worker_t *w) {
    if (w == NULL) {
        cio__fail(CIO_E_INVALID_ARGUMENT, "worker: worker is NULL");
        return NULL;
    }
    cio_buf_t b = {0};
    pthread_mutex_lock(&w->lock);
    bool ok = cio__buf_printf(&b,
                              "{\"read\":%llu,\"claimed\":%llu,\"acked\":%llu,"
                              "\"dead_lettered\":%llu,\"held\":%zu}",
                              (unsigned long long)w->read, (unsigned long long)w->claimed,
                              (unsigned long long)w->acked, (unsigned long long)w->dead_lettered,
                              w->nheld);
    pthread_mutex_unlock(&w->lock);
    if (!ok)
        cio__buf_free(&b);
    return b.data;
}

void cio_worker_free(cio_worker_t *w) {
    if (w == NULL)
        return;
    if (w->pipeline != NULL)
        cio_pipeline_close(w->pipeline, 0);
    free_done(w->done_head);
    cio__redis_free(w->redis);
    pthread_mutex_destroy(&w->lock);
    free(w->held);
    free(w);
}

/* ---------------------------------------------------------------- the queue, from outside */

/* A connection and the queue's keys for one of the calls below. */
static cio_status_t open_queue(cio_client_t *client, const char *url, cio_pipeline_sink_t sink,
                               cio_redis_t **r, char stream[CIO_REDIS_PREFIX_MAX + 8],
                               char dead[CIO_REDIS_PREFIX_MAX + 8],
                               char stats[CIO_REDIS_PREFIX_MAX + 8]) {
    if (client == NULL || url == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "redis: client or redis_url is NULL");
    char prefix[CIO_REDIS_PREFIX_MAX];
    cio_status_t st = cio__redis_prefix(client, sink, prefix);
    if (st == CIO_OK)
        st = cio__redis_new(url, 0, r);
    if (st != CIO_OK)
        return st;
    snprintf(stream, CIO_REDIS_PREFIX_MAX + 8, "%s:q", prefix);
    snprintf(dead, CIO_REDIS_PREFIX_MAX + 8, "%s:dead", prefix);
    snprintf(stats, CIO_REDIS_PREFIX_MAX + 8, "%s:stats", prefix);
    return CIO_OK;
}

static long long int_of(const redisReply *r) {
    if (r == NULL)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

char *cio_redis_queue_stats_json(cio_client_t *client, const char *redis_url,
                                 cio_pipeline_sink_t sink, const char *group) {
    cio_redis_t *r = NULL;
    char stream[CIO_REDIS_PREFIX_MAX + 8], dead[CIO_REDIS_PREFIX_MAX + 8],
        stats[CIO_REDIS_PREFIX_MAX + 8];
    if (open_queue(client, redis_url, sink, &r, stream, dead, stats) != CIO_OK)
        return NULL;
    const char *g = group != NULL ? group : DEFAULT_GROUP;
    const char *c0[] = {"XLEN", stream};
    const char *c1[] = {"XPENDING", stream, g};
    const char *c2[] = {"XLEN", dead};
    const char *c3[] = {"HGET", stats, "rate_waits"};
    const char *c4[] = {"TIME"};
    cio_redis_cmd_t cmds[] = {
        {2, c0, NULL}, {3, c1, NULL}, {2, c2, NULL}, {3, c3, NULL}, {1, c4, NULL}};
    redisReply *rep[5];
    cio_status_t st = cio__redis_exec(r, 5, cmds, rep);
    cio__redis_free(r);
    if (st != CIO_OK)
        return NULL;
    long long length = int_of(rep[0]), pending = 0, age = 0;
    if (reply_ok(rep[1]) && rep[1]->type == REDIS_REPLY_ARRAY && rep[1]->elements >= 2) {
        pending = int_of(rep[1]->element[0]);
        if (pending > 0 && rep[1]->element[1]->type == REDIS_REPLY_STRING &&
            rep[4]->type == REDIS_REPLY_ARRAY && rep[4]->elements == 2) {
            long long oldest = strtoll(rep[1]->element[1]->str, NULL, 10); /* "<ms>-<n>" */
            long long now = strtoll(rep[4]->element[0]->str, NULL, 10) * 1000 +
                            strtoll(rep[4]->element[1]->str, NULL, 10) / 1000;
            age = now > oldest ? now - oldest : 0;
        }
    }
    cio_buf_t b = {0};
    bool ok = cio__buf_printf(&b,
                              "{\"length\":%lld,\"pending\":%lld,\"oldest_pending_age_ms\":%lld,"
                              "\"dead_letters\":%lld,\"rate_limit_waits\":%lld}",
                              length - pending > 0 ? length - pending : 0, pending, age,
                              int_of(rep[2]), int_of(rep[3]));
    for (int i = 0; i < 5; i++)
        freeReplyObject(rep[i]);
    if (!ok) {
        cio__buf_free(&b);
        cio__fail(CIO_E_NOMEM, "redis: out of memory");
    }
    return b.data;
}

/* A field of a dead letter's [field, value...] array, or NULL. */
static const char *field_of(const redisReply *f, const char *name) {
    for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2)
        if (strcmp(f->element[j]->str, name) == 0)
            return f->element[j + 1]->str;
    return NULL;
}

static bool put_text(cio_buf_t *b, const char *key, const char *v) {
    return cio__buf_printf(b, ",\"%s\":", key) &&
           (v != NULL && *v != '\0' ? cio__buf_append_json_string(b, v)
                                    : cio__buf_appends(b, "null"));
}

char *cio_redis_dead_letters_json(cio_client_t *client, const char *redis_url,
                                  cio_pipeline_sink_t sink, size_t count) {
    cio_redis_t *r = NULL;
    char stream[CIO_REDIS_PREFIX_MAX + 8], dead[CIO_REDIS_PREFIX_MAX + 8],
        stats[CIO_REDIS_PREFIX_MAX + 8];
    if (open_queue(client, redis_url, sink, &r, stream, dead, stats) != CIO_OK)
        return NULL;
    char n[24];
    snprintf(n, sizeof(n), "%zu", count > 0 ? count : 100);
    const char *argv[] = {"XRANGE", dead, "-", "+", "COUNT", n};
    redisReply *rep = NULL;
    cio_status_t st = cio__redis_cmd(r, &rep, 6, argv);
    cio__redis_free(r);
    if (st != CIO_OK)
        return NULL;
    cio_buf_t b = {0};
    bool ok = cio__buf_appends(&b, "[");
    for (size_t i = 0; ok && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *e = rep->element[i], *f = e->element[1];
        const char *op = field_of(f, "op"), *hs = field_of(f, "http_status");
        ok = cio__buf_appends(&b, i > 0 ? ",{\"id\":" : "{\"id\":") &&
             cio__buf_append_json_string(&b, e->element[0]->str) &&
             /* the operation as JSON when it is JSON (it was queued as such) */
             (op != NULL && cio__check_json_object("dead letters", "op", op) == CIO_OK
                  ? cio__buf_appends(&b, ",\"operation\":") && cio__buf_appends(&b, op)
                  : put_text(&b, "operation", op)) &&
             put_text(&b, "reason", field_of(f, "reason")) &&
             put_text(&b, "field", field_of(f, "field")) &&
             put_text(&b, "message", field_of(f, "message")) &&
             cio__buf_printf(&b, ",\"http_status\":%d}", hs != NULL ? atoi(hs) : 0);
    }
    ok = ok && cio__buf_appends(&b, "]");
    freeReplyObject(rep);
    if (!ok) {
        cio__buf_free(&b);
        cio__fail(CIO_E_NOMEM, "redis: out of memory");
        return NULL;
    }
    cio__ok();
    return b.data;
}

static cio_status_t dead_letters_change(cio_client_t *client, const char *redis_url,
                                        cio_pipeline_sink_t sink, const char *id, size_t *done,
                                        bool retry) {
    cio_redis_t *r = NULL;
    char stream[CIO_REDIS_PREFIX_MAX + 8], dead[CIO_REDIS_PREFIX_MAX + 8],
        stats[CIO_REDIS_PREFIX_MAX + 8];
    cio_status_t st = open_queue(client, redis_url, sink, &r, stream, dead, stats);
    if (st != CIO_OK)
        return st;
    redisReply *rep = NULL;
    if (retry) {
        const char *argv[] = {"EVAL", retry_script, "2", stream, dead, id != NULL ? id : ""};
        st = cio__redis_cmd(r, &rep, 6, argv);
    } else if (id != NULL) {
        const char *argv[] = {"XDEL", dead, id};
        st = cio__redis_cmd(r, &rep, 3, argv);
    } else { /* all: their number, then the key */
        const char *c0[] = {"XLEN", dead}, *c1[] = {"DEL", dead};
        cio_redis_cmd_t cmds[] = {{2, c0, NULL}, {2, c1, NULL}};
        redisReply *two[2];
        st = cio__redis_exec(r, 2, cmds, two);
        if (st == CIO_OK) {
            rep = two[0];
            freeReplyObject(two[1]);
        }
    }
    if (st == CIO_OK && rep->type == REDIS_REPLY_ERROR)
        st = cio__fail(CIO_E_INTERNAL, "redis: %s refused the dead-letter change: %.200s",
                       cio__redis_where(r), rep->str);
    else if (st == CIO_OK && done != NULL)
        *done = (size_t)int_of(rep);
    if (rep != NULL)
        freeReplyObject(rep);
    cio__redis_free(r);
    return st == CIO_OK ? cio__ok() : st;
}

cio_status_t cio_redis_dead_letters_retry(cio_client_t *client, const char *redis_url,
                                          cio_pipeline_sink_t sink, const char *id, size_t *done) {
    return dead_letters_change(client, redis_url, sink, id, done, true);
}

cio_status_t cio_redis_dead_letters_drop(cio_client_t *client, const char *redis_url,
                                         cio_pipeline_sink_t sink, const char *id, size_t *done) {
    return dead_letters_change(client, redis_url, sink, id, done, false);
}
