/*
 * Issue 18, the workers: entries a producer put in the workspace's stream reach the emulator in
 * one batch and are acknowledged (and deleted) only after the delivery report; a worker killed
 * mid-request leaves its entries pending and another claims them after the idle timeout;
 * what Customer.io refuses goes to the dead letters with the reason, which can be listed,
 * retried and dropped; the queue's statistics. Against a real redis-server and the emulator.
 */
#include "helpers.h"
#include "redis_server.h"

#include <customerio/redis.h>

#include <criterion/criterion.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

TestSuite(redis_worker, .init = fx_setup, .fini = fx_teardown, .timeout = 120);

#define STREAM "{cio:" TEST_SITE_ID "}:q"

static void produce(const char *url, int from, int to) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.redis_url = url;
    o.linger_ms = 5;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    for (int i = from; i <= to; i++) {
        char op[200];
        snprintf(op, sizeof(op),
                 "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%d\"},\"action\":\"event\","
                 "\"name\":\"e%d\",\"id\":\"01HZX0000000000000000000%02d\"}",
                 i, i, i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
}

typedef struct runner {
    pthread_t thread;
    cio_worker_t *worker;
} runner_t;

static void *run_main(void *arg) {
    runner_t *r = arg;
    cio_worker_run(r->worker, 5000);
    return NULL;
}

static void start_worker(runner_t *r, cio_client_t *client, const char *url, long claim_idle_ms) {
    cio_worker_options_t o = CIO_WORKER_OPTIONS_INIT;
    o.redis_url = url;
    o.claim_idle_ms = claim_idle_ms;
    o.block_ms = 50;
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.linger_ms = 20;
    o.pipeline = &po;
    cr_assert_eq(cio_worker_new(client, &o, &r->worker), CIO_OK, "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    cr_assert_eq(pthread_create(&r->thread, NULL, run_main, r), 0);
}

static void stop_worker(runner_t *r) {
    cio_worker_stop(r->worker);
    pthread_join(r->thread, NULL);
    cio_worker_free(r->worker);
}

/* Waits up to ms for XLEN to reach want. */
static long long wait_xlen(const test_redis_t *r, const char *key, long long want, long ms) {
    long long n = -1;
    for (int64_t end = now_ms() + ms; now_ms() < end; sleep_ms(20))
        if ((n = test_redis_int(r, "XLEN %s", key)) == want)
            break;
    return n;
}

/* The event ids in the emulator's log, counted: how often each of e1..e<n> arrived. */
static void count_events(int n, int *seen) {
    json_t *log = mock_requests();
    memset(seen, 0, sizeof(int) * (size_t)(n + 1));
    size_t i;
    json_t *req;
    json_array_foreach(log, i, req) {
        if (strcmp(req_str(req, "path"), "/api/v2/batch") != 0 || req_status(req) != 200)
            continue;
        json_t *body = req_body_json(req), *op;
        size_t j;
        json_array_foreach(json_object_get(body, "batch"), j, op) {
            int k = atoi(json_string_value(json_object_get(op, "name")) + 1);
            if (k >= 1 && k <= n)
                seen[k]++;
        }
        json_decref(body);
    }
    json_decref(log);
}

Test(redis_worker, acknowledged_only_after_delivery) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    produce(r.url, 1, 5);
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 5);
    mock_fault(1, 0, NULL, 1500, NULL, NULL); /* the batch's answer takes 1.5 s */
    runner_t w;
    start_worker(&w, fx.client, r.url, 0);
    /* read, in flight, not acknowledged: pending in the group, still in the stream */
    long long pending = -1;
    for (int64_t end = now_ms() + 1000; now_ms() < end; sleep_ms(20)) {
        redisContext *c = test_redis_ctx(&r);
        redisReply *rep = redisCommand(c, "XPENDING %s cio-workers", STREAM);
        pending = rep->element[0]->integer;
        freeReplyObject(rep);
        redisFree(c);
        if (pending == 5)
            break;
    }
    cr_assert_eq(pending, 5);
    sleep_ms(500); /* well inside the 1.5 s answer */
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 5, "nothing acknowledged before delivery");
    cr_assert_eq(wait_xlen(&r, STREAM, 0, 5000), 0, "acknowledged and deleted after it");
    int seen[6];
    count_events(5, seen);
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(seen[i], 1, "e%d arrived %d times", i, seen[i]);
    char *stats = cio_worker_stats_json(w.worker);
    cr_assert_str_eq(stats, "{\"read\":5,\"claimed\":0,\"acked\":5,\"dead_lettered\":0,\"held\":0}");
    cio_free_string(stats);
    stop_worker(&w);
    test_redis_stop(&r);
}

Test(redis_worker, a_dead_workers_entries_are_claimed) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    produce(r.url, 1, 4);
    mock_fault(1, 0, NULL, 3000, NULL, NULL); /* the first worker dies waiting for this */
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        cio_client_options_t co = fx_options();
        cio_client_t *client = NULL;
        if (cio_client_new(&co, &client) != CIO_OK)
            _exit(3);
        cio_worker_options_t o = CIO_WORKER_OPTIONS_INIT;
        o.redis_url = r.url;
        o.consumer = "doomed";
        o.block_ms = 50;
        cio_worker_t *w = NULL;
        if (cio_worker_new(client, &o, &w) != CIO_OK)
            _exit(4);
        cio_worker_run(w, 0);
        _exit(0);
    }
    /* the doomed worker holds all four, mid-request */
    long long pending = -1;
    for (int64_t end = now_ms() + 3000; now_ms() < end && pending != 4; sleep_ms(20)) {
        redisContext *c = test_redis_ctx(&r);
        redisReply *rep = redisCommand(c, "XPENDING %s cio-workers", STREAM);
        pending = rep->type == REDIS_REPLY_ARRAY ? rep->element[0]->integer : -1;
        freeReplyObject(rep);
        redisFree(c);
    }
    cr_assert_eq(pending, 4);
    sleep_ms(300);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    mock_clear_faults();
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 4, "still owed");

    runner_t w;
    start_worker(&w, fx.client, r.url, 400);
    cr_assert_eq(wait_xlen(&r, STREAM, 0, 8000), 0, "claimed after 400 ms idle and delivered");
    int seen[5];
    count_events(4, seen);
    for (int i = 1; i <= 4; i++)
        cr_assert(seen[i] >= 1, "e%d lost", i);
    char *stats = cio_worker_stats_json(w.worker);
    cr_assert_not_null(strstr(stats, "\"claimed\":4,"), "%s", stats);
    cio_free_string(stats);
    stop_worker(&w);
    test_redis_stop(&r);
}

Test(redis_worker, refused_entries_become_dead_letters) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    produce(r.url, 1, 1);
    /* the one operation refused alone (a 400 with Track v2's error body) */
    mock_fault(
        1, 400,
        "{\"errors\":[{\"reason\":\"invalid\",\"field\":\"name\",\"message\":\"bad name\"}]}", 0,
        NULL, NULL);
    /* and an entry that is not an operation at all (written by something else) */
    cr_assert_eq(test_redis_int(&r, "XGROUP CREATE %s cio-workers 0 MKSTREAM", STREAM), -1);
    redisContext *c = test_redis_ctx(&r);
    freeReplyObject(redisCommand(c, "XADD %s * op %s", STREAM, "not json"));
    redisFree(c);
    runner_t w;
    start_worker(&w, fx.client, r.url, 0);
    cr_assert_eq(wait_xlen(&r, "{cio:" TEST_SITE_ID "}:dead", 2, 5000), 2);
    cr_assert_eq(wait_xlen(&r, STREAM, 0, 3000), 0, "both acknowledged");
    stop_worker(&w);

    char *list = cio_redis_dead_letters_json(fx.client, r.url, CIO_SINK_TRACK_V2, 0);
    cr_assert_not_null(list);
    json_t *arr = json_loads(list, 0, NULL);
    cr_assert_eq(json_array_size(arr), 2, "%s", list);
    json_t *first = json_array_get(arr, 0), *second = json_array_get(arr, 1);
    /* which came first depends on the worker's order: find them by reason */
    if (strcmp(json_string_value(json_object_get(first, "reason")), "invalid") == 0 &&
        json_integer_value(json_object_get(first, "http_status")) == 0) {
        json_t *t = first;
        first = second;
        second = t;
    }
    cr_assert_str_eq(json_string_value(json_object_get(first, "reason")), "invalid", "%s", list);
    cr_assert_eq(json_integer_value(json_object_get(first, "http_status")), 400, "%s", list);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(first, "operation"), "name")), "e1");
    cr_assert_str_eq(json_string_value(json_object_get(second, "operation")), "not json");
    cr_assert_not_null(json_string_value(json_object_get(second, "message")));
    char first_id[64];
    snprintf(first_id, sizeof(first_id), "%s", json_string_value(json_object_get(first, "id")));
    json_decref(arr);
    cio_free_string(list);

    char *stats = cio_redis_queue_stats_json(fx.client, r.url, CIO_SINK_TRACK_V2, NULL);
    cr_assert_str_eq(stats, "{\"length\":0,\"pending\":0,\"oldest_pending_age_ms\":0,"
                            "\"dead_letters\":2,\"rate_limit_waits\":0}");
    cio_free_string(stats);

    /* retry the refused event: back in the queue, and this time it is delivered */
    size_t done = 0;
    cr_assert_eq(cio_redis_dead_letters_retry(fx.client, r.url, CIO_SINK_TRACK_V2, first_id, &done),
                 CIO_OK);
    cr_assert_eq(done, 1);
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 1);
    mock_clear();
    start_worker(&w, fx.client, r.url, 0);
    cr_assert_eq(wait_xlen(&r, STREAM, 0, 5000), 0);
    stop_worker(&w);
    int seen[2];
    count_events(1, seen);
    cr_assert_eq(seen[1], 1);
    /* drop the other */
    cr_assert_eq(cio_redis_dead_letters_drop(fx.client, r.url, CIO_SINK_TRACK_V2, NULL, &done),
                 CIO_OK);
    cr_assert_eq(done, 1);
    cr_assert_eq(test_redis_int(&r, "XLEN {cio:" TEST_SITE_ID "}:dead"), 0);
    test_redis_stop(&r);
}
