/*
 * The delivery pipeline: N operations in, N distinct operations out at the emulator, batched,
 * under failures; every operation reported once; bounded queue; spool survives a restart.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(pipeline, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

/* Counts reports by status; guarded because reports arrive on library threads. */
typedef struct tally {
    pthread_mutex_t lock;
    size_t delivered, failed, closed;
    uint64_t last_failed_seq;
    char last_reason[64];
} tally_t;

static void count_report(const cio_delivery_report_t *r, void *user) {
    tally_t *t = user;
    pthread_mutex_lock(&t->lock);
    if (r->status == CIO_OK) {
        t->delivered++;
    } else {
        t->failed++;
        t->closed += r->status == CIO_E_CLOSED;
        t->last_failed_seq = r->seq;
        snprintf(t->last_reason, sizeof t->last_reason, "%s", r->reason ? r->reason : "");
    }
    pthread_mutex_unlock(&t->lock);
}

static cio_pipeline_options_t options(tally_t *t) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = 20;
    o.max_requests_per_second = -1; /* no pacing in tests */
    o.on_report = count_report;
    o.report_user = t;
    o.report_successes = 1;
    return o;
}

static char *event_op(size_t i) {
    char *op = malloc(160);
    snprintf(op, 160,
             "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"p%zu\"},"
             "\"name\":\"e\",\"attributes\":{\"n\":%zu}}",
             i, i);
    return op;
}

/* Every batch request the emulator answered 2xx, exploded into its operations. */
static json_t *delivered_operations(json_t *reqs) {
    json_t *all = json_array();
    size_t i;
    json_t *req;
    json_array_foreach(reqs, i, req) {
        cr_assert_str_eq(req_str(req, "path"), "/api/v2/batch");
        int status = req_status(req);
        if (status < 200 || status >= 300)
            continue;
        json_t *body = req_body_json(req);
        json_array_extend(all, json_object_get(body, "batch"));
        json_decref(body);
    }
    return all;
}

/* Each of n operations arrived (2xx) exactly once, judged by its ULID id and its "n". */
static void expect_each_delivered_once(json_t *ops, size_t n) {
    char *seen = calloc(n, 1);
    json_t *ids = json_object();
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        const char *id = json_string_value(json_object_get(op, "id"));
        cr_assert(is_ulid(id), "operation without a ULID id");
        cr_assert_null(json_object_get(ids, id), "operation %s delivered twice", id);
        json_object_set_new(ids, id, json_true());
        size_t k =
            (size_t)json_integer_value(json_object_get(json_object_get(op, "attributes"), "n"));
        cr_assert_lt(k, n);
        cr_assert_eq(seen[k], 0, "operation %zu delivered twice", k);
        seen[k] = 1;
    }
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(seen[k], 1, "operation %zu never delivered", k);
    json_decref(ids);
    free(seen);
}

Test(pipeline, test_n_operations_in_n_distinct_out_in_few_batches) {
    enum { N = 2000 };
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    for (size_t i = 0; i < N; i++) {
        char *op = event_op(i);
        uint64_t seq = 0;
        cr_assert_eq(cio_pipeline_enqueue(p, op, &seq), CIO_OK, "%s", cio_last_error()->message);
        cr_assert_eq(seq, i + 1);
        free(op);
    }
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.enqueued, N);
    cr_assert_eq(s.delivered, N);
    cr_assert_eq(s.failed, 0);
    cr_assert_eq(s.queue_depth, 0);
    cr_assert_eq(s.queue_bytes, 0);
    cr_assert_lt(s.requests, 20, "%llu requests for %d small operations",
                 (unsigned long long)s.requests, N);
    char *json = cio_pipeline_stats_json(p);
    cr_assert_not_null(strstr(json, "\"delivered\":2000"), "%s", json);
    cio_free_string(json);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(t.delivered, N);
    json_t *reqs = mock_requests();
    json_t *ops = delivered_operations(reqs);
    expect_each_delivered_once(ops, N);
    json_decref(ops);
    json_decref(reqs);
}

Test(pipeline, test_delivers_each_once_under_500s_429s_resets_and_delays) {
    enum { N = 600 };
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.batch_bytes = 8 * 1024; /* many small batches, so faults hit many of them */
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(3, 500, NULL, 0, NULL, NULL);
    mock_fault(2, 429, NULL, 0, "0", NULL);
    mock_fault(2, 0, NULL, 0, NULL, "reset");
    mock_fault(2, 0, NULL, 100, NULL, NULL);
    mock_fault(2, 503, NULL, 0, NULL, NULL);
    for (size_t i = 0; i < N; i++) {
        char *op = event_op(i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
        free(op);
    }
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.delivered, N);
    cr_assert_eq(s.failed, 0);
    cr_assert_gt(s.retried, 0, "no retry happened: the faults were not exercised");
    cio_pipeline_close(p, 5000);
    json_t *reqs = mock_requests();
    json_t *ops = delivered_operations(reqs);
    expect_each_delivered_once(ops, N);
    json_decref(ops);
    json_decref(reqs);
}

Test(pipeline, test_rejected_items_are_reported_not_retried) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(1, 207,
               "{\"errors\":[{\"batch_index\":1,\"reason\":\"invalid\",\"field\":"
               "\"identifiers\"}]}",
               0, NULL, NULL);
    for (size_t i = 0; i < 3; i++) {
        char *op = event_op(i);
        cio_pipeline_enqueue(p, op, NULL);
        free(op);
    }
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    cio_pipeline_close(p, 1000);
    cr_assert_eq(t.delivered, 2);
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.last_failed_seq, 2);
    cr_assert_str_eq(t.last_reason, "invalid");
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 1, "a rejected item was sent again");
    json_decref(reqs);
}

Test(pipeline, test_invalid_operation_is_refused_at_enqueue) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    expect_error(cio_pipeline_enqueue(p, "{\"type\":\"person\",\"action\":\"event\"}", NULL),
                 CIO_E_INVALID_ARGUMENT, "enqueue", "identifiers");
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.enqueued, 0);
    cio_pipeline_close(p, 1000);
    expect_nothing_sent();
}

Test(pipeline, test_full_queue_fails_fast_or_blocks_then_fails) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_queue_bytes = 1000;
    o.when_full = CIO_WHEN_FULL_FAIL;
    o.linger_ms = 60000; /* nothing leaves on its own */
    mock_fault(1, 0, NULL, 1500, NULL, NULL);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    size_t accepted = 0;
    cio_status_t st = CIO_OK;
    for (size_t i = 0; i < 50 && st == CIO_OK; i++) {
        char *op = event_op(i);
        st = cio_pipeline_enqueue(p, op, NULL);
        accepted += st == CIO_OK;
        free(op);
    }
    cr_assert_eq(st, CIO_E_QUEUE_FULL);
    cr_assert_not_null(strstr(cio_last_error()->message, "full"));
    cr_assert_gt(accepted, 3);
    cr_assert_eq(cio_pipeline_close(p, 10000), CIO_OK);
    cr_assert_eq(t.delivered, accepted, "accepted %zu, delivered %zu", accepted, t.delivered);

    o.when_full = CIO_WHEN_FULL_BLOCK;
    o.block_timeout_ms = 200;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    st = CIO_OK;
    for (size_t i = 0; i < 50 && st == CIO_OK; i++) {
        char *op = event_op(i);
        st = cio_pipeline_enqueue(p, op, NULL);
        free(op);
    }
    cr_assert_eq(st, CIO_E_QUEUE_FULL);
    cr_assert_not_null(strstr(cio_last_error()->message, "after waiting"));
    cio_pipeline_close(p, 10000);
}

/* An operation larger than the whole queue is refused at once, even with CIO_WHEN_FULL_BLOCK
 * (waiting could never make room for it); a NaN rate is refused at creation. */
Test(pipeline, test_an_operation_larger_than_the_queue_is_refused_without_waiting) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_queue_bytes = 100;
    o.when_full = CIO_WHEN_FULL_BLOCK;
    o.block_timeout_ms = 600000; /* a wait would time the test out */
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    char *op = event_op(1);
    expect_error(cio_pipeline_enqueue(p, op, NULL), CIO_E_QUEUE_FULL,
                 "more than the queue holds (max_queue_bytes 100)", NULL);
    free(op);
    cr_assert_eq(cio_pipeline_close(p, 10000), CIO_OK);
    cr_assert_eq(t.failed + t.delivered, 0, "nothing was queued, nothing is reported");

    o = options(&t);
    o.max_requests_per_second = 0.0 / 0.0;
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "max_requests_per_second is NaN", NULL);
    expect_nothing_sent();
}

/* try_enqueue never waits, even with CIO_WHEN_FULL_BLOCK; enqueue then waits for room. */
Test(pipeline, test_try_enqueue_fails_at_once_when_full_and_enqueue_then_waits) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_queue_bytes = 1000;
    o.when_full = CIO_WHEN_FULL_BLOCK;
    o.block_timeout_ms = 10000;
    o.linger_ms = 60000; /* nothing leaves on its own */
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    size_t accepted = 0;
    uint64_t seq = 0;
    cio_status_t st = CIO_OK;
    int64_t t0 = now_ms();
    for (size_t i = 0; i < 50 && st == CIO_OK; i++) {
        char *op = event_op(i);
        st = cio_pipeline_try_enqueue(p, op, &seq);
        if (st == CIO_OK) {
            accepted++;
            cr_assert_eq(seq, accepted);
        }
        free(op);
    }
    cr_assert_lt(now_ms() - t0, 1000, "try_enqueue waited for room");
    cr_assert_eq(st, CIO_E_QUEUE_FULL);
    cr_assert_null(strstr(cio_last_error()->message, "after waiting"));
    cr_assert_gt(accepted, 3);
    /* a bad operation is refused as by enqueue, nothing queued */
    cr_assert_eq(cio_pipeline_try_enqueue(p, "{\"type\":\"person\"}", NULL),
                 CIO_E_INVALID_ARGUMENT);
    /* a flush makes room again */
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    char *op = event_op(99);
    cr_assert_eq(cio_pipeline_try_enqueue(p, op, &seq), CIO_OK);
    cr_assert_eq(seq, accepted + 1);
    free(op);
    cr_assert_eq(cio_pipeline_close(p, 10000), CIO_OK);
    cr_assert_eq(t.delivered, accepted + 1, "accepted %zu, delivered %zu", accepted + 1,
                 t.delivered);
    cr_assert_eq(t.failed, 0);
    cr_assert_eq(cio_pipeline_try_enqueue(NULL, "{}", NULL), CIO_E_INVALID_ARGUMENT);
}

Test(pipeline, test_close_reports_what_could_not_be_delivered) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.linger_ms = 60000;
    cio_client_options_t co = fx_options();
    co.track_url = "http://127.0.0.1:1"; /* nothing listens */
    cio_client_t *dead = fx_client(&co);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(dead, &o, &p), CIO_OK);
    for (size_t i = 0; i < 5; i++) {
        char *op = event_op(i);
        cio_pipeline_enqueue(p, op, NULL);
        free(op);
    }
    cr_assert_eq(cio_pipeline_close(p, 300), CIO_E_TIMEOUT);
    cr_assert_eq(t.delivered + t.failed, 5, "%zu delivered + %zu failed", t.delivered, t.failed);
    cr_assert_eq(t.failed, 5);
}

Test(pipeline, test_reports_arrive_on_a_queue_descriptor) {
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = 10;
    o.report_queue = q;
    o.report_successes = 1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    char *op = event_op(7);
    uint64_t seq = 0;
    cio_pipeline_enqueue(p, op, &seq);
    free(op);
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    cio_completion_t *c = NULL;
    cio_queue_poll(q, &c);
    cr_assert_not_null(c);
    cr_assert_eq(c->token, seq);
    cr_assert_eq(c->status, CIO_OK);
    cr_assert_not_null(strstr(c->response, "\"p7\""));
    cr_assert_null(c->reason);
    cio_completion_free(c);

    /* a rejected item's report carries Customer.io's reason and field */
    mock_fault(1, 207,
               "{\"errors\":[{\"batch_index\":0,\"reason\":\"invalid\",\"field\":"
               "\"identifiers\"}]}",
               0, NULL, NULL);
    op = event_op(8);
    cio_pipeline_enqueue(p, op, &seq);
    free(op);
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    c = NULL;
    cio_queue_poll(q, &c);
    cr_assert_not_null(c);
    cr_assert_eq(c->token, seq);
    cr_assert_eq(c->status, CIO_E_BAD_REQUEST);
    cr_assert_str_eq(c->reason, "invalid");
    cr_assert_str_eq(c->field, "identifiers");
    cio_completion_free(c);
    cio_pipeline_close(p, 1000);
    cio_queue_free(q);
}

Test(pipeline, test_spool_resends_what_a_killed_process_had_not_confirmed) {
    char path[] = "/tmp/cio-spool-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    enum { N = 300 };
    /* a child process accepts N operations into a spool and is killed before sending any */
    pid_t child = fork();
    if (child == 0) {
        cio_client_options_t co = fx_options();
        co.track_url = "http://127.0.0.1:1";
        cio_client_t *c = NULL;
        cio_client_new(&co, &c);
        cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
        o.spool_path = path;
        o.linger_ms = 60000;
        cio_pipeline_t *p = NULL;
        if (cio_pipeline_new(c, &o, &p) != CIO_OK)
            _exit(2);
        for (size_t i = 0; i < N; i++) {
            char *op = event_op(i);
            if (cio_pipeline_enqueue(p, op, NULL) != CIO_OK)
                _exit(3);
            free(op);
        }
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child was not killed (exit %d)", WEXITSTATUS(status));

    /* the next pipeline on the same spool sends all N, each once */
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.spool_path = path;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(t.delivered, N);
    json_t *reqs = mock_requests();
    json_t *ops = delivered_operations(reqs);
    expect_each_delivered_once(ops, N);
    json_decref(ops);
    json_decref(reqs);

    /* and a third one finds nothing owed */
    mock_clear();
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.enqueued, 0);
    cio_pipeline_close(p, 1000);
    expect_nothing_sent();
    unlink(path);
}

/* The batch sizes (operations per request) the emulator received, in order. */
static size_t batch_sizes(size_t *sizes, size_t max) {
    json_t *reqs = mock_requests();
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(reqs) && n < max; i++) {
        json_t *body = req_body_json(json_array_get(reqs, i));
        sizes[n++] = json_array_size(json_object_get(body, "batch"));
        json_decref(body);
    }
    json_decref(reqs);
    return n;
}

Test(pipeline, test_max_batch_items_caps_operations_per_request) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_batch_items = 10;
    o.max_in_flight = 1; /* in order, so the sizes are predictable */
    o.linger_ms = 60000; /* only full batches leave, until the flush */
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    for (size_t i = 0; i < 25; i++) {
        char *op = event_op(i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
        free(op);
    }
    json_decref(mock_requests_wait(2)); /* two full batches go without waiting for linger */
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    size_t sizes[8];
    cr_assert_eq(batch_sizes(sizes, 8), 3);
    cr_assert_eq(sizes[0], 10);
    cr_assert_eq(sizes[1], 10);
    cr_assert_eq(sizes[2], 5);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(t.delivered, 25);
}

Test(pipeline, test_max_queue_items_bounds_the_queue_by_count) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_queue_items = 3;
    o.when_full = CIO_WHEN_FULL_FAIL;
    o.linger_ms = 60000;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    for (size_t i = 0; i < 3; i++) {
        char *op = event_op(i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
        free(op);
    }
    char *op = event_op(3);
    expect_error(cio_pipeline_enqueue(p, op, NULL), CIO_E_QUEUE_FULL,
                 "3 operations queued, limit 3", NULL);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    expect_ok(cio_pipeline_enqueue(p, op, NULL)); /* room again once delivered */
    free(op);
    cr_assert_eq(cio_pipeline_close(p, 10000), CIO_OK);
    cr_assert_eq(t.delivered, 4);
}

Test(pipeline, test_max_attempts_gives_an_operation_up_with_its_last_failure) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.max_attempts = 3;
    mock_fault(10, 503, NULL, 0, NULL, NULL);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    char *op = event_op(0);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    free(op);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.delivered, 0);
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 3, "%zu HTTP attempts for max_attempts 3",
                 json_array_size(reqs));
    json_decref(reqs);
    cio_pipeline_stats_t s;
    cr_assert_eq(cio_pipeline_stats(p, &s), CIO_OK);
    cr_assert_eq(s.queue_depth, 0);
    cr_assert_eq(s.queue_bytes, 0);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

Test(pipeline, test_version_1_options_never_read_the_version_2_fields) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.version = 1; /* an older caller: its struct ends before max_batch_items */
    o.max_batch_items = 1;
    o.max_queue_items = 1;
    o.linger_ms = 60000;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    for (size_t i = 0; i < 5; i++) {
        char *op = event_op(i);
        expect_ok(cio_pipeline_enqueue(p, op, NULL));
        free(op);
    }
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    size_t sizes[8];
    cr_assert_eq(batch_sizes(sizes, 8), 1);
    cr_assert_eq(sizes[0], 5);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

/* fork(): a pipeline belongs to the process that made it (its thread did not follow), so in a
 * forked child every call fails at once, saying so, instead of queueing what would never leave
 * or waiting for a thread that is not there; the parent's pipeline is unaffected. */
Test(pipeline, test_a_forked_child_cannot_use_its_parents_pipeline) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    const char *op = "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}";
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        cio_pipeline_stats_t st;
        int ok = cio_pipeline_enqueue(p, op, NULL) == CIO_E_CLOSED &&
                 strstr(cio_last_error()->message, "fork()") != NULL &&
                 cio_pipeline_try_enqueue(p, op, NULL) == CIO_E_CLOSED &&
                 cio_pipeline_flush(p, -1) == CIO_E_CLOSED &&
                 cio_pipeline_stats(p, &st) == CIO_E_CLOSED &&
                 cio_pipeline_close(p, -1) == CIO_E_CLOSED;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cio_pipeline_stats_t st;
    cr_assert_eq(cio_pipeline_stats(p, &st), CIO_OK);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

/* ---------------------------------------------------------------- a batch refused as a whole */

/* Reports by seq: status and HTTP status. */
typedef struct by_seq {
    pthread_mutex_t lock;
    cio_status_t status[16];
    int http_status[16];
    int reports[16];
} by_seq_t;

static void note_by_seq(const cio_delivery_report_t *r, void *user) {
    by_seq_t *s = user;
    pthread_mutex_lock(&s->lock);
    if (r->seq < 16) {
        s->status[r->seq] = r->status;
        s->http_status[r->seq] = r->http_status;
        s->reports[r->seq]++;
    }
    pthread_mutex_unlock(&s->lock);
}

/*
 * n operations leave in one batch; the emulator answers 400 to any request carrying the one whose
 * "n" is bad (a stand-in for a check only Customer.io makes, such as strict mode's). The batch is
 * split until that operation travels alone: it alone is reported failed, every other is
 * delivered exactly once, and the bad one never reaches a 2xx answer.
 */
static void expect_refused_batch_bisected(cio_pipeline_sink_t sink, const char *path, size_t n,
                                          size_t bad) {
    by_seq_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = sink;
    o.linger_ms = 60000; /* all leave together, at the flush */
    o.max_requests_per_second = -1;
    o.on_report = note_by_seq;
    o.report_user = &s;
    o.report_successes = 1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    char rule[256];
    snprintf(rule, sizeof(rule),
             "{\"count\":1000,\"status\":400,\"match\":\"poison-%zu\",\"body\":{\"code\":"
             "\"invalid_request\",\"message\":\"strict: one message is invalid\"}}",
             bad);
    cr_assert_eq(mock_control("POST", "/_mock/faults", rule, NULL), 204);
    for (size_t i = 0; i < n; i++) {
        char op[256];
        if (sink == CIO_SINK_PIPELINES)
            snprintf(op, sizeof(op),
                     "{\"type\":\"track\",\"userId\":\"u%zu\",\"event\":\"e\",\"properties\":{"
                     "\"n\":%zu,\"tag\":\"poison-%zu\"}}",
                     i, i, i);
        else
            snprintf(op, sizeof(op),
                     "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"p%zu\"},"
                     "\"name\":\"e\",\"attributes\":{\"n\":%zu,\"tag\":\"poison-%zu\"}}",
                     i, i, i);
        uint64_t seq = 0;
        cr_assert_eq(cio_pipeline_enqueue(p, op, &seq), CIO_OK, "%s", cio_last_error()->message);
        cr_assert_eq(seq, i + 1);
    }
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(s.reports[i + 1], 1, "operation %zu reported %d times", i, s.reports[i + 1]);
        if (i == bad) {
            cr_assert_eq(s.status[i + 1], CIO_E_BAD_REQUEST);
            cr_assert_eq(s.http_status[i + 1], 400);
        } else {
            cr_assert_eq(s.status[i + 1], CIO_OK, "operation %zu: status %d", i, s.status[i + 1]);
        }
    }
    /* on the wire: each good one in exactly one 2xx request; the bad one in none */
    unsigned delivered[16] = {0};
    json_t *reqs = mock_requests();
    size_t k, requests = json_array_size(reqs);
    json_t *req;
    json_array_foreach(reqs, k, req) {
        cr_assert_str_eq(req_str(req, "path"), path);
        if (req_status(req) != 200)
            continue;
        json_t *body = req_body_json(req);
        size_t j;
        json_t *op;
        json_array_foreach(json_object_get(body, "batch"), j, op) {
            json_t *fields =
                json_object_get(op, sink == CIO_SINK_PIPELINES ? "properties" : "attributes");
            json_int_t i = json_integer_value(json_object_get(fields, "n"));
            cr_assert(i >= 0 && (size_t)i < n);
            delivered[i]++;
        }
        json_decref(body);
    }
    json_decref(reqs);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(delivered[i], i == bad ? 0u : 1u, "operation %zu delivered %u times", i,
                     delivered[i]);
    /* one refused request per level of the split, one accepted per good half */
    cr_assert_leq(requests, 2 * n - 1, "%zu requests for %zu operations", requests, n);
    cr_log_info("%zu operations, one refused: %zu requests", n, requests);
}

Test(pipeline, test_pipelines_batch_refused_with_400_is_split_until_only_the_bad_message_fails) {
    expect_refused_batch_bisected(CIO_SINK_PIPELINES, "/v1/batch", 8, 5);
}

Test(pipeline, test_track_v2_batch_refused_with_400_is_split_until_only_the_bad_one_fails) {
    expect_refused_batch_bisected(CIO_SINK_TRACK_V2, "/api/v2/batch", 7, 0);
}

/* A single operation refused with 400 is reported as before: one request, no split. */
Test(pipeline, test_single_operation_refused_with_400_is_reported_once) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(10, 400, "{\"errors\":[{\"reason\":\"invalid\",\"message\":\"malformed\"}]}", 0,
               NULL, NULL);
    char *op = event_op(0);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    free(op);
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(t.failed, 1);
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 1);
    json_decref(reqs);
}
