/*
 * tests/soak/soak.c - the delivery pipeline under sustained faults, bounded in time and count,
 * on loopback only.
 *
 * For each sink asked for (Track v2, then the Pipelines API, every other event of which is
 * queued from its parts with cio_pipeline_enqueue_message), an emulator is started in this
 * process with standing faults (10% of API requests fail with 500 or 503, the two taking turns,
 * and a requests-per-second limit answered with 429 + Retry-After), and:
 *   - producer threads enqueue numbered events as fast as the pipeline takes them, into a small
 *     queue (max_queue_bytes) so that they keep meeting a full queue and waiting (backpressure);
 *     the pipeline paces faster than the emulator's limit, so both pacing and 429s happen;
 *   - a chaos thread keeps adding one-shot faults through the control API: connection resets
 *     and delays;
 *   - a drain thread takes the answered requests out of the emulator's log
 *     (POST /_mock/requests/drain) and accounts for every event in every request answered 200,
 *     by the ULID id the pipeline gave it, and for the answer statuses;
 *   - every delivery report (report_successes = 1) is accounted for, by event;
 *   - the main thread samples this process's RSS (/proc/self/statm) every second.
 * Producers stop at SOAK_SECONDS or once SOAK_EVENTS events are enqueued; then the pipeline is
 * flushed and closed and the log drained to the end. The run passes when every event enqueued
 * was carried by exactly one accepted request (none lost, none accepted twice) under a ULID id,
 * has exactly one delivery report, a success with that same id; when the faults it is about did
 * happen (429s, 5xx, resets, a full queue); and when the mean RSS of the last quarter of the
 * samples taken after a warm-up exceeds that of the first quarter by at most
 * SOAK_RSS_GROWTH_KB (not checked under AddressSanitizer, whose quarantine grows by design).
 * Nothing is asserted about timing.
 *
 * Knobs (environment): SOAK_SECONDS (per sink, default 12), SOAK_EVENTS (per sink, default
 * 10,000,000), SOAK_SINK (track_v2, pipelines or both; default both), SOAK_PRODUCERS (2),
 * SOAK_RSS_GROWTH_KB (4096). Exit status 0 when every sink passed.
 */
#include "../c/curl_body.h"

#include <customerio/customerio.h>

#include <cio_mock.h>
#include <curl/curl.h>
#include <jansson.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifndef SOAK_ASAN
#define SOAK_ASAN 0
#endif

/* The faults and limits of the run. */
#define FAIL_RATE 0.1            /* standing: this share of API requests fails */
#define RATE_LIMIT 30            /* standing: 429 + Retry-After beyond this many requests/s */
#define PIPELINE_RPS 50.0        /* the pipeline paces faster than that, so 429s happen */
#define BATCH_ITEMS 100          /* events per request at most */
#define QUEUE_BYTES (256 * 1024) /* max_queue_bytes: small, so producers wait */
#define FAIL_STATUS_EVERY_MS 5000
#define CHAOS_MIN_MS 50 /* a one-shot fault every 50..250 ms */
#define CHAOS_MAX_MS 250
#define CHAOS_MAX_PENDING 2 /* not yet consumed by a request */
#define DELAY_MAX_MS 800    /* far below the client's 10 s timeout: no answer comes too late */
#define DRAIN_EVERY_MS 200  /* the drain thread's period */
#define FLUSH_TIMEOUT_MS 120000
#define MAX_PRODUCERS 16

typedef struct config {
    long seconds;
    size_t events;
    int producers;
    long rss_growth_kb;
    bool track_v2;
    bool pipelines;
} config_t;

typedef struct soak {
    const config_t *cfg;
    bool cdp;             /* the Pipelines sink */
    const char *path;     /* where batches go */
    const char *id_key;   /* the id the pipeline gives each event */
    const char *data_key; /* where the event's number is */
    cio_mock_t *mock;
    const char *base_url;
    cio_client_t *client;
    cio_pipeline_t *pipeline;

    /* Per event, by number n (0 .. capacity): preallocated and touched before the run, so
     * accounting never grows the process. */
    size_t capacity;
    atomic_size_t next_n;
    unsigned char *enqueued;    /* producers (each writes only its own n) */
    unsigned char *accepted;    /* drain thread: requests answered 200 that carried it */
    uint32_t *accepted_id;      /* drain thread: hash of the id it carried */
    atomic_uchar *reports;      /* report callback: delivery reports */
    atomic_uint *reported_id;   /* report callback: hash of the id in the report */
    atomic_bool stop_producers; /* main -> producers */
    atomic_bool stop_chaos;     /* main -> chaos */
    atomic_bool stop_drain;     /* main -> drain */
    atomic_ulong enqueue_waits; /* try_enqueue found the queue full */
    atomic_ulong enqueue_failures;
    atomic_ulong reports_failed; /* reports other than CIO_OK */
    atomic_ulong reports_total;

    /* drain thread only (read after it is joined) */
    unsigned long requests, accepted_requests, status_429, status_5xx, status_reset, status_other,
        items_accepted;
    /* chaos thread only */
    unsigned long resets_injected, delays_injected, status_flips, control_errors;

    pthread_mutex_t problem_lock;
    unsigned long problems;
    char first_problem[512];
} soak_t;

/* ------------------------------------------------------------------ small things */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t xorshift(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h != 0 ? h : 1; /* 0 means "none yet" */
}

/* 26 Crockford base-32 characters (0-9 A-Z without I L O U), the first one 0-7. */
static bool is_ulid(const char *s) {
    if (strlen(s) != 26 || s[0] < '0' || s[0] > '7') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        bool digit = *p >= '0' && *p <= '9';
        bool letter = *p >= 'A' && *p <= 'Z' && *p != 'I' && *p != 'L' && *p != 'O' && *p != 'U';
        if (!digit && !letter) {
            return false;
        }
    }
    return true;
}

/* Resident set size of this process, in KiB. */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL) {
        return -1;
    }
    int got = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

static void problem(soak_t *s, const char *fmt, ...) {
    pthread_mutex_lock(&s->problem_lock);
    if (s->problems++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->first_problem, sizeof(s->first_problem), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s->problem_lock);
}

/* ------------------------------------------------------------------ the control API */

/* One control request on curl (a handle per thread, kept alive); returns the HTTP status or -1,
 * and the body in *out (malloc'd) when out is not NULL. */
static long control(CURL *curl, const char *base_url, const char *method, const char *path,
                    const char *body, char **out) {
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    curl_body_t answer = {NULL, 0};
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_body_collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long status = -1;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    if (out != NULL) {
        *out = answer.data;
    } else {
        free(answer.data);
    }
    return status;
}

/* ------------------------------------------------------------------ events */

/* One event, numbered n, in the sink's format. */
static int format_event(const soak_t *s, size_t n, char *buf, size_t size) {
    if (s->cdp) {
        return snprintf(buf, size,
                        "{\"type\":\"track\",\"userId\":\"u%zu\",\"event\":\"soak\","
                        "\"properties\":{\"n\":%zu,\"note\":\"soak test event, some padding\"}}",
                        n % 1000, n);
    }
    return snprintf(buf, size,
                    "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"u%zu\"},"
                    "\"name\":\"soak\",\"attributes\":{\"n\":%zu,\"note\":\"soak test event, "
                    "some padding\"}}",
                    n % 1000, n);
}

/* Reads an event's number and id (as the pipeline completed it); false when either is
 * missing. */
static bool read_event(const soak_t *s, const cio_json_value_t *event, size_t *n, char *id,
                       size_t id_size) {
    cio_json_value_t v, data;
    int64_t number = -1;
    if (!cio_json_get(event, s->id_key, &v) || v.kind != CIO_JSON_STRING ||
        cio_json_string(&v, id, id_size) >= id_size || !cio_json_get(event, s->data_key, &data) ||
        !cio_json_get(&data, "n", &v) || !cio_json_int(&v, &number) || number < 0) {
        return false;
    }
    *n = (size_t)number;
    return true;
}

/* ------------------------------------------------------------------ threads */

/* The same event as format_event's, given by its parts (cio_pipeline_enqueue_message): the
 * Pipelines sink takes every other event this way, so both paths are soaked. */
static cio_status_t enqueue_parts(const soak_t *s, size_t n, bool may_wait) {
    char user[32], properties[128];
    snprintf(user, sizeof(user), "u%zu", n % 1000);
    snprintf(properties, sizeof(properties),
             "{\"n\":%zu,\"note\":\"soak test event, some padding\"}", n);
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "track";
    m.user_id = user;
    m.event = "soak";
    m.properties_json = properties;
    return may_wait ? cio_pipeline_enqueue_message(s->pipeline, &m, NULL, NULL)
                    : cio_pipeline_try_enqueue_message(s->pipeline, &m, NULL, NULL);
}

static void *producer_main(void *arg) {
    soak_t *s = arg;
    char op[512];
    while (!atomic_load(&s->stop_producers)) {
        size_t n = atomic_fetch_add(&s->next_n, 1);
        if (n >= s->capacity) {
            break;
        }
        bool parts = s->cdp && n % 2 == 1;
        format_event(s, n, op, sizeof(op));
        cio_status_t st =
            parts ? enqueue_parts(s, n, false) : cio_pipeline_try_enqueue(s->pipeline, op, NULL);
        if (st == CIO_E_QUEUE_FULL) {
            atomic_fetch_add(&s->enqueue_waits, 1);
            st = parts ? enqueue_parts(s, n, true)
                       : cio_pipeline_enqueue(s->pipeline, op, NULL); /* blocks for room */
        }
        if (st == CIO_OK) {
            s->enqueued[n] = 1;
        } else {
            atomic_fetch_add(&s->enqueue_failures, 1);
            problem(s, "enqueue of event %zu failed: %s: %s", n, cio_status_str(st),
                    cio_last_error() != NULL ? cio_last_error()->message : "");
        }
    }
    return NULL;
}

/* Delivery reports: one per event, all successes, with the id the request carried. */
static void on_report(const cio_delivery_report_t *r, void *user) {
    soak_t *s = user;
    atomic_fetch_add(&s->reports_total, 1);
    cio_json_value_t event;
    char id[64];
    size_t n = 0;
    if (r->operation_json == NULL ||
        cio_json_scan(r->operation_json, strlen(r->operation_json), &event) != CIO_OK ||
        !read_event(s, &event, &n, id, sizeof(id)) || n >= s->capacity) {
        problem(s, "a delivery report without a known event: %s",
                r->operation_json != NULL ? r->operation_json : "(none)");
        return;
    }
    atomic_fetch_add(&s->reports[n], 1);
    atomic_store(&s->reported_id[n], fnv1a(id));
    if (r->status != CIO_OK) {
        atomic_fetch_add(&s->reports_failed, 1);
        problem(s, "event %zu was reported failed: %s (HTTP %d): %s", n, cio_status_str(r->status),
                r->http_status, r->message != NULL ? r->message : "");
    }
}

/* The one-shot fault rules not yet consumed (GET /_mock/faults), or a large number on error. */
static size_t pending_faults(soak_t *s, CURL *curl) {
    char *text = NULL;
    long st = control(curl, s->base_url, "GET", "/_mock/faults", NULL, &text);
    json_t *rules = st == 200 && text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    size_t n = json_is_array(rules) ? json_array_size(rules) : SIZE_MAX;
    json_decref(rules);
    if (n == SIZE_MAX) {
        s->control_errors++;
    }
    return n;
}

/* Connection resets and delays, one at a time, and the standing failure's status taking turns
 * between 500 and 503. */
static void *chaos_main(void *arg) {
    soak_t *s = arg;
    CURL *curl = curl_easy_init();
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    int64_t next_flip = now_ms() + FAIL_STATUS_EVERY_MS;
    int fail_status = 500;
    while (curl != NULL && !atomic_load(&s->stop_chaos)) {
        sleep_ms(CHAOS_MIN_MS + (long)(xorshift(&rng) % (CHAOS_MAX_MS - CHAOS_MIN_MS + 1)));
        char rule[128];
        if (pending_faults(s, curl) >= CHAOS_MAX_PENDING) {
            continue; /* requests are slow to come (Retry-After, backoff): no backlog of faults */
        }
        bool reset = xorshift(&rng) % 2 == 0;
        if (reset) {
            snprintf(rule, sizeof(rule), "{\"action\":\"reset\"}");
        } else {
            snprintf(rule, sizeof(rule), "{\"delay_ms\":%ld}",
                     20 + (long)(xorshift(&rng) % (DELAY_MAX_MS - 20 + 1)));
        }
        if (control(curl, s->base_url, "POST", "/_mock/faults", rule, NULL) == 204) {
            if (reset) {
                s->resets_injected++;
            } else {
                s->delays_injected++;
            }
        } else {
            s->control_errors++;
        }
        if (now_ms() >= next_flip) {
            fail_status = fail_status == 500 ? 503 : 500;
            snprintf(rule, sizeof(rule), "{\"fail_rate\":%g,\"fail_status\":%d,\"rate_limit\":%d}",
                     FAIL_RATE, fail_status, RATE_LIMIT);
            if (control(curl, s->base_url, "POST", "/_mock/config", rule, NULL) == 204) {
                s->status_flips++;
            } else {
                s->control_errors++;
            }
            next_flip = now_ms() + FAIL_STATUS_EVERY_MS;
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* Accounts for one answered request from the log. */
static void account_request(soak_t *s, json_t *req) {
    s->requests++;
    json_int_t status = json_integer_value(json_object_get(req, "status"));
    const char *path = json_string_value(json_object_get(req, "path"));
    if (status == 429) {
        s->status_429++;
    } else if (status >= 500) {
        s->status_5xx++;
    } else if (status == 0) {
        s->status_reset++;
    } else if (status != 200) {
        s->status_other++;
        problem(s, "request %lld to %s was answered %lld",
                (long long)json_integer_value(json_object_get(req, "seq")), path ? path : "?",
                (long long)status);
    }
    if (status != 200) {
        return;
    }
    s->accepted_requests++;
    const char *body = json_string_value(json_object_get(req, "body"));
    cio_json_value_t root, batch, item;
    if (path == NULL || strcmp(path, s->path) != 0 || body == NULL ||
        cio_json_scan(body, strlen(body), &root) != CIO_OK ||
        !cio_json_get(&root, "batch", &batch) || batch.kind != CIO_JSON_ARRAY) {
        problem(s, "an accepted request that is not a batch: %s %.200s", path ? path : "?",
                body ? body : "");
        return;
    }
    const char *cursor = NULL;
    while (cio_json_next(&batch, &cursor, NULL, &item)) {
        char id[64];
        size_t n = 0;
        s->items_accepted++;
        if (!read_event(s, &item, &n, id, sizeof(id)) || n >= s->capacity) {
            problem(s, "an accepted item that is not one of ours: %.*s", (int)item.len, item.text);
            continue;
        }
        if (!is_ulid(id)) {
            problem(s, "event %zu was sent with id \"%s\", not a ULID", n, id);
        }
        uint32_t h = fnv1a(id);
        if (s->accepted[n] == 0) {
            s->accepted_id[n] = h;
        } else if (s->accepted_id[n] == h) {
            problem(s, "event %zu (id %s) was accepted twice (again in request %lld)", n, id,
                    (long long)json_integer_value(json_object_get(req, "seq")));
        } else {
            problem(s, "event %zu was accepted under two ids (one is %s)", n, id);
        }
        if (s->accepted[n] < 255) {
            s->accepted[n]++;
        }
    }
}

/* Drains the log once; returns the number of requests taken, or -1 on a control error. */
static long drain_once(soak_t *s, CURL *curl) {
    char *text = NULL;
    long st = control(curl, s->base_url, "POST", "/_mock/requests/drain", NULL, &text);
    json_t *reqs = st == 200 && text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!json_is_array(reqs)) {
        json_decref(reqs);
        problem(s, "POST /_mock/requests/drain answered %ld", st);
        return -1;
    }
    size_t i;
    json_t *req;
    json_array_foreach(reqs, i, req) {
        account_request(s, req);
    }
    long n = (long)json_array_size(reqs);
    json_decref(reqs);
    return n;
}

static void *drain_main(void *arg) {
    soak_t *s = arg;
    CURL *curl = curl_easy_init();
    while (curl != NULL && !atomic_load(&s->stop_drain)) {
        drain_once(s, curl);
        sleep_ms(DRAIN_EVERY_MS);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* ------------------------------------------------------------------ one run */

typedef struct rss_samples {
    long *kb;
    size_t count, capacity;
    long peak;
} rss_samples_t;

static double mean(const long *v, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += (double)v[i];
    }
    return n > 0 ? sum / (double)n : 0;
}

/* Writes to every page, so that memory counted later is memory the run grew, not first touches
 * of what was allocated up front. */
static void touch(void *p, size_t len) {
    volatile unsigned char *bytes = p;
    for (size_t i = 0; i < len; i += 4096) {
        bytes[i] = 0;
    }
}

static void *alloc_touched(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (p != NULL) {
        touch(p, n * size);
    }
    return p;
}

static bool start(soak_t *s, const char *sink_name, char *err, size_t errlen) {
    char mock_err[256];
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.max_logged_requests = 1000000;
    if (cio_mock_start(&mo, &s->mock, mock_err, sizeof(mock_err)) != 0) {
        snprintf(err, errlen, "emulator: %s", mock_err);
        return false;
    }
    s->base_url = cio_mock_base_url(s->mock);
    CURL *curl = curl_easy_init();
    char config[128];
    snprintf(config, sizeof(config), "{\"fail_rate\":%g,\"fail_status\":500,\"rate_limit\":%d}",
             FAIL_RATE, RATE_LIMIT);
    long st = curl != NULL ? control(curl, s->base_url, "POST", "/_mock/config", config, NULL) : -1;
    curl_easy_cleanup(curl);
    if (st != 204) {
        snprintf(err, errlen, "POST /_mock/config answered %ld", st);
        return false;
    }

    cio_client_options_t co = CIO_CLIENT_OPTIONS_INIT;
    co.site_id = "test-site";
    co.api_key = "test-key";
    co.cdp_api_key = "test-cdp-key";
    co.track_url = s->base_url;
    co.cdp_url = s->base_url;
    co.ignore_env = 1;
    co.backoff_base_ms = 50;
    co.backoff_max_ms = 2000;
    if (cio_client_new(&co, &s->client) != CIO_OK) {
        snprintf(err, errlen, "client: %s", cio_last_error()->message);
        return false;
    }
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.sink = s->cdp ? CIO_SINK_PIPELINES : CIO_SINK_TRACK_V2;
    po.max_queue_bytes = QUEUE_BYTES;
    po.when_full = CIO_WHEN_FULL_BLOCK;
    po.block_timeout_ms = 60000;
    po.linger_ms = 20;
    po.max_batch_items = BATCH_ITEMS;
    po.max_requests_per_second = PIPELINE_RPS;
    po.on_report = on_report;
    po.report_user = s;
    po.report_successes = 1;
    if (cio_pipeline_new(s->client, &po, &s->pipeline) != CIO_OK) {
        snprintf(err, errlen, "pipeline (%s): %s", sink_name, cio_last_error()->message);
        return false;
    }
    return true;
}

/* Runs one sink; prints its summary; true when it passed. */
static bool run_sink(const config_t *cfg, bool cdp) {
    const char *name = cdp ? "pipelines" : "track_v2";
    soak_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return false;
    }
    s->cfg = cfg;
    s->cdp = cdp;
    s->path = cdp ? "/v1/batch" : "/api/v2/batch";
    s->id_key = cdp ? "messageId" : "id";
    s->data_key = cdp ? "properties" : "attributes";
    pthread_mutex_init(&s->problem_lock, NULL);
    /* The most events a run can take: the emulator accepts at most RATE_LIMIT requests a second
     * (a change of the standing faults restarts its window: at most twice that), each of at most
     * BATCH_ITEMS events, plus what the queue holds. */
    size_t bound = (size_t)cfg->seconds * 2 * RATE_LIMIT * BATCH_ITEMS + QUEUE_BYTES;
    s->capacity = cfg->events < bound ? cfg->events : bound;
    s->enqueued = alloc_touched(s->capacity, 1);
    s->accepted = alloc_touched(s->capacity, 1);
    s->accepted_id = alloc_touched(s->capacity, sizeof(uint32_t));
    s->reports = alloc_touched(s->capacity, sizeof(atomic_uchar));
    s->reported_id = alloc_touched(s->capacity, sizeof(atomic_uint));
    rss_samples_t rss = {NULL, 0, (size_t)cfg->seconds + 2, 0};
    rss.kb = alloc_touched(rss.capacity, sizeof(long));

    bool ok = false;
    char err[512] = "";
    if (s->enqueued == NULL || s->accepted == NULL || s->accepted_id == NULL ||
        s->reports == NULL || s->reported_id == NULL || rss.kb == NULL) {
        snprintf(err, sizeof(err), "out of memory for %zu events", s->capacity);
    } else if (start(s, name, err, sizeof(err))) {
        ok = true;
    }
    if (!ok) {
        fprintf(stderr, "soak (%s): %s\n", name, err);
    }

    pthread_t producers[MAX_PRODUCERS], chaos, drain;
    int n_producers = 0;
    bool chaos_started = false, drain_started = false;
    int64_t t0 = now_ms();
    long warmup_ms = cfg->seconds * 1000 / 5;
    warmup_ms = warmup_ms < 2000 ? 2000 : warmup_ms > 30000 ? 30000 : warmup_ms;
    cio_pipeline_stats_t stats = {0};
    double flush_s = 0;
    if (ok) {
        drain_started = pthread_create(&drain, NULL, drain_main, s) == 0;
        chaos_started = pthread_create(&chaos, NULL, chaos_main, s) == 0;
        for (int i = 0; i < cfg->producers; i++) {
            if (pthread_create(&producers[n_producers], NULL, producer_main, s) == 0) {
                n_producers++;
            }
        }
        ok = drain_started && chaos_started && n_producers == cfg->producers;
        /* Sample RSS every second after the warm-up, until the time is up or the producers
         * have claimed every event. */
        int64_t end = t0 + cfg->seconds * 1000;
        for (int64_t tick = t0 + 1000; tick <= end; tick += 1000) {
            int64_t now = now_ms();
            if (tick > now) {
                sleep_ms((long)(tick - now));
            }
            long kb = rss_kb();
            rss.peak = kb > rss.peak ? kb : rss.peak;
            if (tick - t0 >= warmup_ms && rss.count < rss.capacity) {
                rss.kb[rss.count++] = kb;
            }
            if (atomic_load(&s->next_n) >= s->capacity) {
                break;
            }
        }
        atomic_store(&s->stop_producers, true);
        for (int i = 0; i < n_producers; i++) {
            pthread_join(producers[i], NULL);
        }
        atomic_store(&s->stop_chaos, true);
        if (chaos_started) {
            pthread_join(chaos, NULL);
        }
        int64_t f0 = now_ms();
        cio_status_t fst = cio_pipeline_flush(s->pipeline, FLUSH_TIMEOUT_MS);
        flush_s = (double)(now_ms() - f0) / 1000.0;
        if (fst != CIO_OK) {
            problem(s, "flush did not finish in %d s: %s", FLUSH_TIMEOUT_MS / 1000,
                    cio_status_str(fst));
        }
        cio_pipeline_stats(s->pipeline, &stats);
    }
    if (s->pipeline != NULL) {
        cio_status_t cst = cio_pipeline_close(s->pipeline, 10000);
        if (cst != CIO_OK) {
            problem(s, "close: %s", cio_status_str(cst));
        }
    }
    atomic_store(&s->stop_drain, true);
    if (drain_started) {
        pthread_join(drain, NULL);
    }
    /* The last requests: drain until nothing is left, not even a request still being answered
     * (there should be none: every request the pipeline made has been answered). */
    unsigned long left_in_log = 0;
    if (ok) {
        CURL *curl = curl_easy_init();
        for (int tries = 0; curl != NULL && tries < 100; tries++) {
            drain_once(s, curl);
            char *text = NULL;
            long st = control(curl, s->base_url, "GET", "/_mock/requests", NULL, &text);
            json_t *rest = st == 200 && text != NULL ? json_loads(text, 0, NULL) : NULL;
            free(text);
            left_in_log = json_is_array(rest) ? json_array_size(rest) : 1;
            json_decref(rest);
            if (left_in_log == 0) {
                break;
            }
            sleep_ms(100);
        }
        curl_easy_cleanup(curl);
        if (left_in_log != 0) {
            problem(s, "%lu requests were still being answered after the flush", left_in_log);
        }
    }

    /* Every event claimed: enqueued, accepted once, reported once, same id. */
    size_t claimed = atomic_load(&s->next_n);
    claimed = claimed < s->capacity ? claimed : s->capacity;
    unsigned long enqueued = 0, lost = 0, twice = 0, no_report = 0, extra_reports = 0,
                  id_mismatch = 0;
    for (size_t n = 0; ok && n < claimed; n++) {
        unsigned reports = atomic_load(&s->reports[n]);
        if (!s->enqueued[n]) {
            if (s->accepted[n] != 0 || reports != 0) {
                problem(s, "event %zu was not enqueued but was sent or reported", n);
            }
            continue;
        }
        enqueued++;
        lost += s->accepted[n] == 0;
        twice += s->accepted[n] > 1;
        no_report += reports == 0;
        extra_reports += reports > 1;
        if (s->accepted[n] != 0 && reports != 0 &&
            s->accepted_id[n] != atomic_load(&s->reported_id[n])) {
            id_mismatch++;
        }
    }
    if (lost + no_report + extra_reports + id_mismatch > 0) {
        problem(s,
                "lost %lu, not reported %lu, reported more than once %lu, report id != sent id %lu",
                lost, no_report, extra_reports, id_mismatch);
    }
    if (ok) {
        /* the run must have been the one it claims to be */
        if (s->status_429 == 0)
            problem(s, "no request was answered 429: the rate limit was not exercised");
        if (s->status_5xx == 0)
            problem(s, "no request failed with 5xx: the fail rate was not exercised");
        if (s->status_reset == 0)
            problem(s, "no connection was reset");
        if (atomic_load(&s->enqueue_waits) == 0)
            problem(s, "no enqueue met a full queue: backpressure was not exercised");
        if (enqueued == 0)
            problem(s, "no event was enqueued");
    }

    /* RSS: the first quarter of the samples after the warm-up against the last quarter. */
    size_t q = rss.count / 4 > 0 ? rss.count / 4 : 1;
    double first = mean(rss.kb, rss.count >= q ? q : rss.count);
    double last = rss.count >= q ? mean(rss.kb + rss.count - q, q) : first;
    double growth = last - first;
    bool rss_checked = !SOAK_ASAN && rss.count >= 4;
    if (ok && rss_checked && growth > (double)cfg->rss_growth_kb) {
        problem(s,
                "RSS grew by %.0f KiB (first quarter mean %.0f KiB, last %.0f KiB), more than "
                "%ld KiB",
                growth, first, last, cfg->rss_growth_kb);
    }

    double secs = (double)(now_ms() - t0) / 1000.0;
    printf("soak %s: %.1f s (flush %.1f s), %d producers, queue %d KiB, %d events/request, pacing "
           "%.0f/s, emulator limit %d/s, fail rate %.0f%%\n",
           name, secs, flush_s, cfg->producers, QUEUE_BYTES / 1024, BATCH_ITEMS, PIPELINE_RPS,
           RATE_LIMIT, FAIL_RATE * 100);
    printf("  events:   %lu enqueued (%lu enqueues waited for room, %lu failed), %lu delivered, "
           "%lu reports (%lu failed)\n",
           enqueued, atomic_load(&s->enqueue_waits), atomic_load(&s->enqueue_failures),
           (unsigned long)stats.delivered, atomic_load(&s->reports_total),
           atomic_load(&s->reports_failed));
    printf("  requests: %lu in the emulator's log: %lu accepted (200, %lu events in them), %lu "
           "x 429, %lu x 5xx, %lu dropped (reset), %lu other\n",
           s->requests, s->accepted_requests, s->items_accepted, s->status_429, s->status_5xx,
           s->status_reset, s->status_other);
    printf("  retries:  %lu operations put back by the pipeline; %lu batch requests completed\n",
           (unsigned long)stats.retried, (unsigned long)stats.requests);
    printf("  injected: %lu resets, %lu delays, %lu fail_status changes (%lu control errors)\n",
           s->resets_injected, s->delays_injected, s->status_flips, s->control_errors);
    printf("  check:    lost %lu, accepted twice %lu, reports missing %lu, reported twice %lu, "
           "report id != accepted id %lu\n",
           lost, twice, no_report, extra_reports, id_mismatch);
    printf("  RSS:      start %ld KiB, end %ld KiB, peak %ld KiB; %zu samples after a %ld s "
           "warm-up: first quarter mean %.0f KiB, last quarter %.0f KiB, growth %+.0f KiB "
           "(bound %ld KiB%s)\n",
           rss.count > 0 ? rss.kb[0] : -1L, rss.count > 0 ? rss.kb[rss.count - 1] : -1L, rss.peak,
           rss.count, warmup_ms / 1000, first, last, growth, cfg->rss_growth_kb,
           SOAK_ASAN       ? ", not checked under AddressSanitizer"
           : rss.count < 4 ? ", not checked: too few samples"
                           : "");
    bool passed = ok && s->problems == 0;
    if (passed) {
        printf("  PASS\n");
    } else {
        printf("  FAIL: %lu problems; the first: %s\n", s->problems,
               s->first_problem[0] != '\0' ? s->first_problem : err);
    }
    fflush(stdout);

    cio_client_free(s->client);
    cio_mock_stop(s->mock);
    free(s->enqueued);
    free(s->accepted);
    free(s->accepted_id);
    free(s->reports);
    free(s->reported_id);
    free(rss.kb);
    pthread_mutex_destroy(&s->problem_lock);
    free(s);
    return passed;
}

/* ------------------------------------------------------------------ main */

static long env_long(const char *name, long fallback, long min, long max) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        return fallback;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < min || n > max) {
        fprintf(stderr, "soak: %s=%s: expected an integer from %ld to %ld\n", name, v, min, max);
        exit(2);
    }
    return n;
}

int main(void) {
    config_t cfg;
    cfg.seconds = env_long("SOAK_SECONDS", 12, 1, 24L * 3600);
    cfg.events = (size_t)env_long("SOAK_EVENTS", 10000000, 1, 1000000000L);
    cfg.producers = (int)env_long("SOAK_PRODUCERS", 2, 1, MAX_PRODUCERS);
    cfg.rss_growth_kb = env_long("SOAK_RSS_GROWTH_KB", 4096, 0, 1L << 30);
    const char *sink = getenv("SOAK_SINK");
    sink = sink != NULL && *sink != '\0' ? sink : "both";
    cfg.track_v2 = strcmp(sink, "track_v2") == 0 || strcmp(sink, "both") == 0;
    cfg.pipelines = strcmp(sink, "pipelines") == 0 || strcmp(sink, "both") == 0;
    if (!cfg.track_v2 && !cfg.pipelines) {
        fprintf(stderr, "soak: SOAK_SINK=%s: expected track_v2, pipelines or both\n", sink);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bool passed = true;
    if (cfg.track_v2) {
        passed = run_sink(&cfg, false) && passed;
    }
    if (cfg.pipelines) {
        passed = run_sink(&cfg, true) && passed;
    }
    curl_global_cleanup();
    return passed ? 0 : 1;
}
