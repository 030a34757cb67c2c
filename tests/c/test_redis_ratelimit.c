/*
 * Issue 18, the fleet-wide rate limit: pipelines in several processes and threads configured
 * with the same Redis (ratelimit_url) never send more than the fleet's rate in any one-second
 * window, by the emulator's meter (GET /_mock/rate); a 429's Retry-After pauses every sender;
 * without Redis each sender paces itself at rate / senders. Against a real redis-server.
 */
#include "helpers.h"
#include "redis_server.h"

#include <customerio/redis.h>

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(redis_ratelimit, .init = fx_setup, .fini = fx_teardown, .timeout = 120);

/* The meter's numbers for the test workspace: *requests and *max_in_window. */
static void meter(long long *requests, long long *max_in_window) {
    char *out = NULL;
    cr_assert_eq(mock_control("GET", "/_mock/rate", NULL, &out), 200);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    cr_assert_eq(json_integer_value(json_object_get(j, "window_ms")), 1000);
    json_t *ws = json_object_get(json_object_get(j, "workspaces"), TEST_SITE_ID);
    *requests = json_integer_value(json_object_get(ws, "requests"));
    *max_in_window = json_integer_value(json_object_get(ws, "max_in_window"));
    json_decref(j);
    free(out);
}

/* A pipeline sending one operation per request, taking the fleet's turn on url. */
static cio_pipeline_t *sender(cio_client_t *client, const char *url, double rate, int senders) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.ratelimit_url = url;
    o.ratelimit_senders = senders;
    o.max_requests_per_second = rate;
    o.max_batch_items = 1;
    o.max_in_flight = 8;
    o.linger_ms = 1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(client, &o, &p), CIO_OK, "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    return p;
}

static void send_n(cio_pipeline_t *p, int n, int tag) {
    for (int i = 0; i < n; i++) {
        char op[200];
        snprintf(op, sizeof(op),
                 "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%d\"},\"action\":\"event\","
                 "\"name\":\"t%d\"}",
                 tag, i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    }
}

typedef struct thread_arg {
    const char *url;
    int tag;
} thread_arg_t;

static void *thread_main(void *arg) {
    thread_arg_t *t = arg;
    cio_client_options_t co = fx_options();
    cio_client_t *client = NULL;
    if (cio_client_new(&co, &client) != CIO_OK)
        return (void *)1;
    cio_pipeline_t *p = sender(client, t->url, 40, 6);
    send_n(p, 20, t->tag);
    cio_status_t st = cio_pipeline_close(p, 30000);
    cio_client_free(client);
    return st == CIO_OK ? NULL : (void *)1;
}

Test(redis_ratelimit, the_fleet_never_exceeds_its_rate) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    mock_control("DELETE", "/_mock/rate", NULL, NULL);
    int64_t start = now_ms();
    /* 3 processes x 2 threads, 20 requests each: 120 requests at a fleet rate of 40/s */
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        cr_assert(kids[k] >= 0);
        if (kids[k] == 0) {
            thread_arg_t args[2] = {{r.url, k * 10}, {r.url, k * 10 + 1}};
            pthread_t th[2];
            for (int i = 0; i < 2; i++)
                pthread_create(&th[i], NULL, thread_main, &args[i]);
            int bad = 0;
            for (int i = 0; i < 2; i++) {
                void *rc;
                pthread_join(th[i], &rc);
                bad |= rc != NULL;
            }
            _exit(bad);
        }
    }
    for (int k = 0; k < 3; k++) {
        int status = 0;
        waitpid(kids[k], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender process %d failed", k);
    }
    int64_t took = now_ms() - start;
    long long requests = 0, max_in_window = 0;
    meter(&requests, &max_in_window);
    cr_log_info("120 requests in %lld ms, at most %lld in a second", (long long)took,
                max_in_window);
    cr_assert_eq(requests, 120);
    cr_assert(max_in_window <= 40, "the meter saw %lld requests in one second", max_in_window);
    cr_assert(max_in_window >= 30, "paced far below the rate: %lld", max_in_window);
    cr_assert(took >= 2800, "120 requests at 40/s took only %lld ms", (long long)took);
    char *stats = cio_redis_queue_stats_json(fx.client, r.url, CIO_SINK_TRACK_V2, NULL);
    cr_assert_not_null(stats);
    cr_assert_null(strstr(stats, "\"rate_limit_waits\":0}"), "%s", stats);
    cio_free_string(stats);
    test_redis_stop(&r);
}

Test(redis_ratelimit, a_429_pauses_every_sender) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    mock_fault(1, 429, NULL, 0, "1", NULL); /* Retry-After: 1 s */
    cio_pipeline_t *a = sender(fx.client, r.url, 100, 1);
    cio_client_options_t co = fx_options();
    cio_pipeline_t *b = sender(fx_client(&co), r.url, 100, 1);
    int64_t start = now_ms();
    send_n(a, 1, 1);
    json_decref(mock_requests_wait(1)); /* the 429 */
    send_n(b, 3, 2);                    /* the other sender waits too */
    cr_assert_eq(cio_pipeline_close(b, 10000), CIO_OK);
    int64_t took = now_ms() - start;
    cr_assert_eq(cio_pipeline_close(a, 10000), CIO_OK);
    cr_assert(took >= 900, "the other sender did not wait for Retry-After: %lld ms",
              (long long)took);
    json_t *log = mock_requests();
    cr_assert_eq(json_array_size(log), 5, "one 429, then all four");
    cr_assert_eq(req_status(json_array_get(log, 0)), 429);
    json_decref(log);
    test_redis_stop(&r);
}

Test(redis_ratelimit, without_redis_each_sender_takes_rate_over_n) {
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:1"); /* nothing listens there */
    mock_control("DELETE", "/_mock/rate", NULL, NULL);
    cio_pipeline_t *p = sender(fx.client, url, 20, 2); /* alone: 10/s */
    int64_t start = now_ms();
    send_n(p, 6, 1);
    cr_assert_eq(cio_pipeline_close(p, 10000), CIO_OK);
    int64_t took = now_ms() - start;
    long long requests = 0, max_in_window = 0;
    meter(&requests, &max_in_window);
    cr_assert_eq(requests, 6);
    cr_assert(took >= 450, "6 requests at 10/s took %lld ms", (long long)took);
    cr_assert(max_in_window <= 10, "%lld", max_in_window);
}
