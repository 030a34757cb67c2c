/*
 * bench/c_bench: events per second from C against the emulator, for one sending mode.
 *
 *   c_bench sync     URL N      one Track v1 request per event (cio_track), one thread
 *                              (over https://, the CA in SSL_CERT_FILE; bench/raw_curl is its
 *                              ceiling: the same requests from one bare libcurl easy handle)
 *   c_bench pipeline URL N      cio_pipeline_enqueue N events, then flush (end to end)
 *   c_bench cdp      URL N      the same on the Pipelines sink (N track messages, /v1/batch)
 *   c_bench queued   N          N events queued with nothing draining them: peak RSS
 *   c_bench queued_request N    the same, each built by cio_v2_person_event_request and queued
 *                               by cio_pipeline_enqueue_request (the builder + executor path)
 *   c_bench webhook  SIZE N     N signature checks of a SIZE-byte body (cio_webhook_verify): MB/s
 *
 * Prints one line: "<mode> events=N seconds=S events_per_second=E [enqueue_us=U]
 * cpu_us=C rss_kb=R", cpu_us being this process's CPU time (every thread) per event.
 * Not a test: run by bench/run.sh, which puts the modes side by side with a baseline.
 */
#include <customerio/customerio.h>

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

/* CPU seconds (user + system) this process has used, all threads. */
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static cio_client_t *client_for(const char *url) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.track_url = url;
    o.cdp_url = url;
    o.cdp_api_key = "bench-cdp-key";
    o.site_id = "bench-site";
    o.api_key = "bench-key";
    o.ignore_env = 1;
    o.ca_file = getenv("SSL_CERT_FILE"); /* the bench's throw-away CA over TLS (bench/peers.sh) */
    cio_client_t *c = NULL;
    if (cio_client_new(&o, &c) != CIO_OK) {
        fprintf(stderr, "client: %s\n", cio_last_error()->message);
        exit(1);
    }
    return c;
}

static void event_op(char *buf, size_t size, long i) {
    snprintf(buf, size,
             "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"user-%ld\"},"
             "\"name\":\"purchased\",\"attributes\":{\"price\":%ld.5,\"sku\":\"SKU-%ld\"}}",
             i % 10000, i % 100, i % 977);
}

static void cdp_message(char *buf, size_t size, long i) {
    snprintf(buf, size,
             "{\"type\":\"track\",\"userId\":\"user-%ld\",\"event\":\"purchased\","
             "\"properties\":{\"price\":%ld.5,\"sku\":\"SKU-%ld\"}}",
             i % 10000, i % 100, i % 977);
}

/* queued_request: events go through the builder and cio_pipeline_enqueue_request. */
static int via_request;

static cio_status_t enqueue_built(cio_pipeline_t *p, long i) {
    char id[32], data[96];
    snprintf(id, sizeof id, "user-%ld", i % 10000);
    snprintf(data, sizeof data, "{\"price\":%ld.5,\"sku\":\"SKU-%ld\"}", i % 100, i % 977);
    cio_request_t *req = NULL;
    cio_status_t st =
        cio_v2_person_event_request(CIO_ID_TYPE_ID, id, "purchased", data, NULL, &req);
    if (st == CIO_OK)
        st = cio_pipeline_enqueue_request(p, req, NULL);
    cio_request_free(req);
    return st;
}

static int run_sync(const char *url, long n) {
    cio_client_t *c = client_for(url);
    char data[96];
    double t0 = seconds_now(), cpu0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        snprintf(data, sizeof data, "{\"price\":%ld.5,\"sku\":\"SKU-%ld\"}", i % 100, i % 977);
        if (cio_track(c, "user-1", "purchased", data, NULL) != CIO_OK) {
            fprintf(stderr, "track: %s\n", cio_last_error()->message);
            return 1;
        }
    }
    double s = seconds_now() - t0;
    printf("c_sync events=%ld seconds=%.3f events_per_second=%.0f cpu_us=%.2f rss_kb=%ld\n", n, s,
           n / s, (cpu_seconds() - cpu0) / n * 1e6, peak_rss_kb());
    cio_client_free(c);
    return 0;
}

static int run_pipeline(const char *url, long n, int drain, int cdp) {
    cio_client_t *c = client_for(url);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    if (cdp)
        o.sink = CIO_SINK_PIPELINES;
    o.max_requests_per_second = -1; /* the emulator has no rate limit */
    o.max_queue_bytes = (size_t)4 << 30;
    if (!drain)
        o.linger_ms = 3600000; /* nothing leaves: measure what queuing n events costs */
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(c, &o, &p) != CIO_OK) {
        fprintf(stderr, "pipeline: %s\n", cio_last_error()->message);
        return 1;
    }
    char op[256];
    double t0 = seconds_now(), cpu0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        (cdp ? cdp_message : event_op)(op, sizeof op, i);
        if ((via_request ? enqueue_built(p, i) : cio_pipeline_enqueue(p, op, NULL)) != CIO_OK) {
            fprintf(stderr, "enqueue: %s\n", cio_last_error()->message);
            return 1;
        }
    }
    double t1 = seconds_now();
    if (drain && cio_pipeline_flush(p, -1) != CIO_OK) {
        fprintf(stderr, "flush: %s\n", cio_last_error()->message);
        return 1;
    }
    double s = seconds_now() - t0, cpu = cpu_seconds() - cpu0;
    long rss = peak_rss_kb();
    cio_pipeline_stats_t st;
    cio_pipeline_stats(p, &st);
    if (drain && (st.delivered != (uint64_t)n || st.failed != 0)) {
        fprintf(stderr, "c_pipeline: %llu of %ld delivered, %llu failed\n",
                (unsigned long long)st.delivered, n, (unsigned long long)st.failed);
        return 1;
    }
    printf("%s events=%ld seconds=%.3f events_per_second=%.0f enqueue_us=%.2f cpu_us=%.2f "
           "requests=%llu rss_kb=%ld\n",
           via_request ? "c_queued_request"
           : !drain    ? "c_queued"
           : cdp       ? "c_cdp_pipeline"
                       : "c_pipeline",
           n, drain ? s : t1 - t0, n / (drain ? s : t1 - t0), (t1 - t0) / n * 1e6, cpu / n * 1e6,
           (unsigned long long)st.requests, rss);
    cio_pipeline_close(p, drain ? 10000 : 0);
    cio_client_free(c);
    return 0;
}

/* The same bodies and key as bench/webhook_bench.py: SIZE bytes of JSON-ish text. */
static int run_webhook(long size, long n) {
    const char *key = "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa";
    char *body = malloc((size_t)size);
    if (body == NULL)
        return 1;
    for (long i = 0; i < size; i++)
        body[i] = "{\"metric\":\"opened\",\"data\":{}}"[i % 32];
    char signature[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    if (cio_webhook_sign(key, "1692633432", body, (size_t)size, signature) != CIO_OK)
        return 1;
    double t0 = seconds_now(), cpu0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        if (cio_webhook_verify(key, "1692633432", signature, body, (size_t)size, 0, 0) != CIO_OK) {
            fprintf(stderr, "verify: %s\n", cio_last_error()->message);
            return 1;
        }
    }
    double s = seconds_now() - t0;
    printf("c_webhook_%ld events=%ld seconds=%.3f events_per_second=%.0f mb_per_second=%.1f "
           "cpu_us=%.2f rss_kb=%ld\n",
           size, n, s, n / s, (double)size * n / s / 1e6, (cpu_seconds() - cpu0) / n * 1e6,
           peak_rss_kb());
    free(body);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "sync") == 0)
        return run_sync(argv[2], atol(argv[3]));
    if (argc == 4 && strcmp(argv[1], "pipeline") == 0)
        return run_pipeline(argv[2], atol(argv[3]), 1, 0);
    if (argc == 4 && strcmp(argv[1], "cdp") == 0)
        return run_pipeline(argv[2], atol(argv[3]), 1, 1);
    if (argc == 4 && strcmp(argv[1], "webhook") == 0)
        return run_webhook(atol(argv[2]), atol(argv[3]));
    if (argc == 3 && strcmp(argv[1], "queued") == 0)
        return run_pipeline("http://127.0.0.1:1", atol(argv[2]), 0, 0);
    if (argc == 3 && strcmp(argv[1], "queued_request") == 0) {
        via_request = 1;
        return run_pipeline("http://127.0.0.1:1", atol(argv[2]), 0, 0);
    }
    fprintf(stderr,
            "usage: c_bench sync|pipeline|cdp URL N | c_bench queued|queued_request N | c_bench "
            "webhook SIZE N\n");
    return 2;
}
