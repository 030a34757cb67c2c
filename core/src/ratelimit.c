/* The fleet-wide rate limit on Redis (ratelimit.h). */
#include "ratelimit.h"
#include "redis_conn.h"
#include "retry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Customer.io's published limits, per workspace (docs/pending/redis.md NOTES has the sources).
 * The App API's broadcast trigger (1 per 10 s) is not a batch sink's: listed for the record. */
static const struct {
    cio_api_t api;
    double limit;
    long period_ms;
} limits[] = {
    {CIO_API_TRACK, 100, 1000}, /* Track API v1 and v2: 100 requests/s */
    {CIO_API_CDP, 3000, 3000},  /* Pipelines API: 3,000 requests per 3 s */
    {CIO_API_APP, 10, 1000},    /* App API: 10 requests/s (broadcasts: 1 per 10 s) */
};

/* The spacing is widened this much: a request reaches the server a little earlier or later than
 * it took its turn (the engine thread, the scheduler, a new connection), so exact spacing could
 * show a request too many in a one-second window. 10%: at the Track limit a fleet sends at most
 * ~91 requests/s, and two requests' delays must differ by 100 ms to squeeze 101 into a second. */
#define HEADROOM 1.10
#define REDIS_TIMEOUT_MS 500L
#define REDIS_RETRY_MS 1000L /* after a failure, local pacing this long before asking again */
#define MAX_SLEEP_MS 50L     /* a wait is slept in slices: stop stays quick */

/* KEYS[1] the GCRA's theoretical arrival time (µs, Redis's clock), KEYS[2] the pause, KEYS[3]
 * the stats hash; ARGV[1] the emission interval (µs), ARGV[2] a pause to set (ms, 0 = none),
 * ARGV[3] the tolerance (µs): a sender that asks a little late (it slept past its turn) may go
 * up to this much before the theoretical time, so lateness is not lost to the fleet's rate.
 * Half an interval: any one period still holds at most limit requests (limit / 1.1 + 1/2 + 1).
 * Returns 0 (go: the request is counted) or the µs to wait before asking again. */
static const char gcra_script[] = "local t = redis.call('TIME')\n"
                                  "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
                                  "local set = tonumber(ARGV[2])\n"
                                  "if set > 0 and redis.call('PTTL', KEYS[2]) < set then\n"
                                  "  redis.call('SET', KEYS[2], '1', 'PX', set)\n"
                                  "end\n"
                                  "local pause = redis.call('PTTL', KEYS[2])\n"
                                  "if pause > 0 then\n"
                                  "  redis.call('HINCRBY', KEYS[3], 'rate_waits', 1)\n"
                                  "  return pause * 1000\n"
                                  "end\n"
                                  "local interval = tonumber(ARGV[1])\n"
                                  "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                                  "if tat < now then tat = now end\n"
                                  "local allow_at = tat - tonumber(ARGV[3])\n"
                                  "if allow_at > now then\n"
                                  "  redis.call('HINCRBY', KEYS[3], 'rate_waits', 1)\n"
                                  "  return allow_at - now\n"
                                  "end\n"
                                  "redis.call('SET', KEYS[1], tostring(tat + interval), 'PX',\n"
                                  "  math.floor(interval / 1000) + 1000)\n"
                                  "return 0\n";

/* KEYS[1] the pause; ARGV[1] ms: lengthens the pause to at least that. */
static const char pause_script[] = "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then\n"
                                   "  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])\n"
                                   "end\n"
                                   "return 0\n";

struct cio_ratelimit {
    cio_redis_t *redis;
    /* A second connection for publish_pause(): the pipeline thread sets a 429's pause in Redis
     * as soon as it wakes, not at its next take() (which may be a backoff later). */
    pthread_mutex_t pause_lock;
    cio_redis_t *pause_redis;
    char rate_key[200], pause_key[200], stats_key[200];
    char interval_us[32], tolerance_us[32];
    double interval_ms; /* fleet spacing */
    int senders;
    long period_ms;
    /* The fallback's spacing: each of the senders sends at most floor(limit / senders) in any
     * period, whatever its phase against the others' (hence one slot fewer than an even share). */
    int64_t local_spacing_ms;
    bool in_fallback;
    /* After Redis came back: local pacing too until then, while the other senders may still
     * be pacing themselves alone (they ask Redis again within REDIS_RETRY_MS). */
    int64_t dual_until;
    atomic_long pause_ms;     /* to set at the next take */
    atomic_bool unpublished;  /* a pause noted since publish_pause() last ran */
    int64_t redis_down_until; /* local pacing until then */
    int64_t local_next_ms;    /* the fallback's next slot */
    int64_t local_pause_until;
    uint64_t waits;
};

void cio__ratelimit_default(cio_api_t api, double *limit, long *period_ms) {
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
        if (limits[i].api == api) {
            *limit = limits[i].limit;
            *period_ms = limits[i].period_ms;
            return;
        }
    *limit = 10;
    *period_ms = 1000;
}

cio_status_t cio__ratelimit_new(const char *url, const char *prefix, double limit, long period_ms,
                                int senders, cio_ratelimit_t **out) {
    cio_ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return CIO_E_NOMEM;
    cio_status_t st = cio__redis_new(url, REDIS_TIMEOUT_MS, &rl->redis);
    if (st == CIO_OK)
        st = cio__redis_new(url, REDIS_TIMEOUT_MS, &rl->pause_redis);
    if (st != CIO_OK) {
        cio__redis_free(rl->redis);
        free(rl);
        return st;
    }
    pthread_mutex_init(&rl->pause_lock, NULL);
    snprintf(rl->rate_key, sizeof(rl->rate_key), "%s:rate", prefix);
    snprintf(rl->pause_key, sizeof(rl->pause_key), "%s:pause", prefix);
    snprintf(rl->stats_key, sizeof(rl->stats_key), "%s:stats", prefix);
    rl->interval_ms = (double)period_ms / (limit > 0 ? limit : 1) * HEADROOM;
    snprintf(rl->interval_us, sizeof(rl->interval_us), "%lld",
             (long long)(rl->interval_ms * 1000.0 + 0.5));
    snprintf(rl->tolerance_us, sizeof(rl->tolerance_us), "%lld",
             (long long)(rl->interval_ms * 500.0));
    rl->senders = senders > 0 ? senders : 1;
    rl->period_ms = period_ms;
    long share = (long)(limit / rl->senders); /* per period */
    rl->local_spacing_ms = share >= 2 ? (period_ms + share - 2) / (share - 1)
                                      : (int64_t)((double)period_ms * rl->senders * 2 / limit);
    /* a sender that starts while Redis is away waits a period first: the fleet's recent
     * requests are not known to it */
    rl->local_next_ms = cio__now_ms() + period_ms;
    rl->in_fallback = true;
    *out = rl;
    return CIO_OK;
}

void cio__ratelimit_free(cio_ratelimit_t *rl) {
    if (rl == NULL)
        return;
    cio__redis_free(rl->redis);
    cio__redis_free(rl->pause_redis);
    pthread_mutex_destroy(&rl->pause_lock);
    free(rl);
}

/* Notes a pause for the next take() (which sets it in Redis, or keeps it locally). */
static void note_pause(cio_ratelimit_t *rl, long ms) {
    if (ms > atomic_load(&rl->pause_ms))
        atomic_store(&rl->pause_ms, ms);
}

void cio__ratelimit_pause(cio_ratelimit_t *rl, long ms) {
    if (ms <= 0)
        return;
    note_pause(rl, ms); /* no I/O here: this is the engine thread, every transfer waits on it */
    atomic_store(&rl->unpublished, true);
}

bool cio__ratelimit_pause_pending(cio_ratelimit_t *rl) {
    return atomic_load(&rl->unpublished);
}

void cio__ratelimit_publish_pause(cio_ratelimit_t *rl) {
    atomic_store(&rl->unpublished, false); /* once: a Redis that fails is left to take() */
    long ms = atomic_load(&rl->pause_ms);  /* kept: take() sends it again (only lengthens) */
    if (ms <= 0)
        return;
    char arg[32];
    snprintf(arg, sizeof(arg), "%ld", ms);
    const char *argv[] = {"EVAL", pause_script, "1", rl->pause_key, arg};
    redisReply *r = NULL;
    pthread_mutex_lock(&rl->pause_lock);
    cio_status_t st = cio__redis_cmd(rl->pause_redis, &r, 5, argv);
    pthread_mutex_unlock(&rl->pause_lock);
    if (st == CIO_OK)
        freeReplyObject(r);
}

uint64_t cio__ratelimit_waits(const cio_ratelimit_t *rl) {
    return rl->waits;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool stopped(const bool *stop) {
    return stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED);
}

/* Redis's answer: 0 = go, > 0 = µs to wait, < 0 = Redis unreachable. */
static long long ask(cio_ratelimit_t *rl) {
    char pause[32];
    snprintf(pause, sizeof(pause), "%ld", atomic_exchange(&rl->pause_ms, 0));
    const char *argv[] = {"EVAL",        gcra_script,     "3",   rl->rate_key,    rl->pause_key,
                          rl->stats_key, rl->interval_us, pause, rl->tolerance_us};
    redisReply *r = NULL;
    if (cio__redis_cmd(rl->redis, &r, 9, argv) != CIO_OK) {
        note_pause(rl, atol(pause)); /* not lost: set when Redis is back */
        return -1;
    }
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

/* The fallback: this sender alone at rate / senders (and its own note of a pause). */
static bool take_local(cio_ratelimit_t *rl, const bool *stop) {
    long pause = atomic_load(&rl->pause_ms);
    int64_t now = cio__now_ms();
    if (pause > 0 && now + pause > rl->local_pause_until)
        rl->local_pause_until = now + pause;
    int64_t at =
        rl->local_next_ms > rl->local_pause_until ? rl->local_next_ms : rl->local_pause_until;
    if (at > now)
        rl->waits++;
    while ((now = cio__now_ms()) < at) {
        if (stopped(stop))
            return false;
        sleep_ms(at - now < MAX_SLEEP_MS ? at - now : MAX_SLEEP_MS);
    }
    rl->local_next_ms = now + rl->local_spacing_ms;
    return true;
}

/* Redis is away: pace alone. On the switch, first wait a period: the fleet's requests of the
 * last period (this sender's turns were part of them) are not known locally. */
static bool fall_back(cio_ratelimit_t *rl, const bool *stop) {
    int64_t now = cio__now_ms();
    if (!rl->in_fallback) {
        rl->in_fallback = true;
        if (rl->local_next_ms < now + rl->period_ms)
            rl->local_next_ms = now + rl->period_ms;
    }
    rl->redis_down_until = now + REDIS_RETRY_MS;
    return take_local(rl, stop);
}

bool cio__ratelimit_take(cio_ratelimit_t *rl, const bool *stop) {
    bool waited = false, local_taken = false;
    for (;;) {
        if (stopped(stop))
            return false;
        if (cio__now_ms() < rl->redis_down_until)
            return local_taken || take_local(rl, stop);
        /* Until Redis answers again, and for a while after (the others may still pace alone),
         * this sender keeps its local pace too: its local turn first, Redis's right before
         * the request (a Redis turn kept waiting would squeeze the fleet's spacing). A new
         * sender starts so, not knowing whether the others pace alone. */
        if (!local_taken && (rl->in_fallback || cio__now_ms() < rl->dual_until)) {
            if (!take_local(rl, stop))
                return false;
            local_taken = true;
        }
        long long wait_us = ask(rl);
        if (wait_us < 0)
            return local_taken || fall_back(rl, stop);
        if (wait_us == 0) {
            int64_t now = cio__now_ms();
            if (rl->in_fallback) {
                rl->in_fallback = false;
                rl->dual_until = now + 2 * rl->period_ms + REDIS_RETRY_MS;
            }
            if (!local_taken)
                rl->local_next_ms = now + rl->local_spacing_ms;
            return true;
        }
        if (!waited)
            rl->waits++;
        waited = true;
        long ms = (long)((wait_us + 999) / 1000);
        sleep_ms(ms < MAX_SLEEP_MS ? ms : MAX_SLEEP_MS);
    }
}
