/*
 * bench/redis_bench: the shared Redis queue of issue 18, against an emulator and a redis-server
 * (bench/redis_bench.sh starts both).
 *
 *   redis_bench enqueue  MOCK_URL REDIS_URL N        producer CPU per event: N events into a
 *                                                    memory pipeline, then into a redis_url one
 *   redis_bench drain    MOCK_URL REDIS_URL N W      N events queued, then W workers drain them:
 *                                                    events/s through Redis
 *   redis_bench rate     MOCK_URL REDIS_URL N W RATE N one-event requests by W workers at a
 *                                                    fleet rate: requests/s seen by the emulator
 *
 * Prints one line per measure, "key=value" pairs. Not a test.
 */
#include <customerio/customerio.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double process_cpu(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static const char *mock_url, *redis_url;

static cio_client_t *client_new(void) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = "bench-site";
    o.api_key = "bench-key";
    o.track_url = mock_url;
    o.ignore_env = 1;
    cio_client_t *c = NULL;
    if (cio_client_new(&o, &c) != CIO_OK) {
        fprintf(stderr, "client: %s\n", cio_last_error()->message);
        exit(2);
    }
    return c;
}

static void die(const char *what) {
    fprintf(stderr, "%s: %s\n", what, cio_last_error() ? cio_last_error()->message : "failed");
    exit(2);
}

/* N events into a pipeline; *enqueue_cpu gets the calling thread's CPU for the enqueues. */
static double fill(cio_client_t *c, const cio_pipeline_options_t *o, long n, double *enqueue_cpu,
                   double *process) {
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(c, o, &p) != CIO_OK)
        die("pipeline");
    double p0 = process_cpu(), t0 = thread_cpu(), w0 = seconds_now();
    for (long i = 0; i < n; i++) {
        char op[200];
        snprintf(op, sizeof(op),
                 "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%ld\"},\"action\":\"event\","
                 "\"name\":\"bench\",\"attributes\":{\"i\":%ld}}",
                 i % 1000, i);
        if (cio_pipeline_enqueue(p, op, NULL) != CIO_OK)
            die("enqueue");
    }
    *enqueue_cpu = thread_cpu() - t0;
    if (cio_pipeline_close(p, 600000) != CIO_OK)
        die("close");
    *process = process_cpu() - p0;
    return seconds_now() - w0;
}

static long long redis_int(const char *json, const char *key) {
    const char *at = json != NULL ? strstr(json, key) : NULL;
    return at != NULL ? atoll(at + strlen(key) + 1) : -1;
}

typedef struct runner {
    pthread_t thread;
    cio_worker_t *worker;
} runner_t;

static void *run_main(void *arg) {
    cio_worker_run(((runner_t *)arg)->worker, 60000);
    return NULL;
}

/* W workers until the queue is empty; returns the seconds it took. */
static double drain(cio_client_t *c, int workers, double rate, size_t batch_items) {
    runner_t r[16];
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.max_requests_per_second = rate;
    po.max_batch_items = batch_items;
    po.ratelimit_senders = workers;
    po.linger_ms = 5;
    double t0 = seconds_now();
    for (int i = 0; i < workers; i++) {
        cio_worker_options_t o = CIO_WORKER_OPTIONS_INIT;
        o.redis_url = redis_url;
        o.pipeline = &po;
        o.block_ms = 20;
        if (cio_worker_new(c, &o, &r[i].worker) != CIO_OK)
            die("worker");
        pthread_create(&r[i].thread, NULL, run_main, &r[i]);
    }
    for (;;) {
        char *s = cio_redis_queue_stats_json(c, redis_url, CIO_SINK_TRACK_V2, NULL);
        bool empty = redis_int(s, "\"length\"") == 0 && redis_int(s, "\"pending\"") == 0;
        cio_free_string(s);
        if (empty)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    double took = seconds_now() - t0;
    for (int i = 0; i < workers; i++)
        cio_worker_stop(r[i].worker);
    for (int i = 0; i < workers; i++) {
        pthread_join(r[i].thread, NULL);
        cio_worker_free(r[i].worker);
    }
    return took;
}

/* GET or DELETE on the emulator's control path; the body into out (malloc'd) when wanted. */
static size_t keep(char *data, size_t size, size_t n, void *user) {
    char **out = user;
    size_t have = *out ? strlen(*out) : 0;
    char *grown = realloc(*out, have + size * n + 1);
    memcpy(grown + have, data, size * n);
    grown[have + size * n] = '\0';
    *out = grown;
    return size * n;
}

static char *control(const char *method, const char *path) {
    char url[512];
    snprintf(url, sizeof(url), "%s%s", mock_url, path);
    CURL *h = curl_easy_init();
    char *out = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    return out;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: redis_bench enqueue|drain|rate MOCK_URL REDIS_URL N [W [RATE]]\n");
        return 2;
    }
    mock_url = argv[2];
    redis_url = argv[3];
    long n = atol(argv[4]);
    cio_client_t *c = client_new();
    if (strcmp(argv[1], "enqueue") == 0) {
        cio_pipeline_options_t mem = CIO_PIPELINE_OPTIONS_INIT;
        mem.max_requests_per_second = -1;
        double mem_enq, mem_proc, red_enq, red_proc;
        fill(c, &mem, n, &mem_enq, &mem_proc);
        cio_pipeline_options_t red = CIO_PIPELINE_OPTIONS_INIT;
        red.redis_url = redis_url;
        double took = fill(c, &red, n, &red_enq, &red_proc);
        printf("enqueue events=%ld memory_enqueue_us=%.3f redis_enqueue_us=%.3f ratio=%.2f "
               "memory_process_cpu_us=%.3f redis_process_cpu_us=%.3f redis_push_seconds=%.3f\n",
               n, mem_enq / n * 1e6, red_enq / n * 1e6, red_enq / mem_enq, mem_proc / n * 1e6,
               red_proc / n * 1e6, took);
    } else if (strcmp(argv[1], "drain") == 0 && argc >= 6) {
        int w = atoi(argv[5]);
        cio_pipeline_options_t red = CIO_PIPELINE_OPTIONS_INIT;
        red.redis_url = redis_url;
        double e, pc;
        fill(c, &red, n, &e, &pc);
        double took = drain(c, w, 1e6, 0);
        printf("drain events=%ld workers=%d seconds=%.3f events_per_second=%.0f\n", n, w, took,
               n / took);
    } else if (strcmp(argv[1], "rate") == 0 && argc >= 7) {
        int w = atoi(argv[5]);
        double rate = atof(argv[6]);
        cio_pipeline_options_t red = CIO_PIPELINE_OPTIONS_INIT;
        red.redis_url = redis_url;
        double e, pc;
        fill(c, &red, n, &e, &pc);
        free(control("DELETE", "/_mock/rate"));
        double took = drain(c, w, rate, 1);
        char *meter = control("GET", "/_mock/rate");
        long long requests = redis_int(meter, "\"requests\""),
                  max = redis_int(meter, "\"max_in_window\"");
        printf("rate workers=%d limit=%.0f requests=%lld seconds=%.3f requests_per_second=%.1f "
               "max_in_one_second=%lld accuracy=%.2f\n",
               w, rate, requests, took, requests / took, max, requests / took / rate);
        free(meter);
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    cio_client_free(c);
    return 0;
}
