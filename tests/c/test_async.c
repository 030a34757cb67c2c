/*
 * Asynchronous calls: cio_async_next() turns the next call into a submission whose completion
 * lands on a queue with a readable file descriptor; many calls run concurrently on the one engine
 * thread.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

TestSuite(async, .init = fx_setup, .fini = fx_teardown);

static int thread_count(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

Test(async, test_async_call_returns_at_once_and_completes_on_the_queue) {
    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    cr_assert(cio_queue_fd(q) >= 0);
    cr_assert(!fd_readable(cio_queue_fd(q), 0), "a new queue is readable");
    cr_assert_eq(cio_async_next(q, 77), CIO_OK);
    expect_ok(cio_track(fx.client, "42", "purchased", "{\"price\":1}", NULL));
    cr_assert(fd_readable(cio_queue_fd(q), 5000), "the descriptor never became readable");
    cio_completion_t *c = next_completion(q);
    cr_assert_eq(c->token, 77);
    cr_assert_eq(c->status, CIO_OK);
    cr_assert_eq(c->http_status, 200);
    cr_assert_eq(c->attempts, 1);
    cr_assert_null(c->message);
    cr_assert_str_eq(c->response, "{}");
    cio_completion_free(c);
    cr_assert(!fd_readable(cio_queue_fd(q), 0), "an empty queue stays readable");
    json_decref(expect_one_event("POST", "/api/v1/customers/42/events",
                                 "{\"name\":\"purchased\",\"data\":{\"price\":1}}", NULL));
    cio_queue_free(q);
}

Test(async, test_1000_concurrent_calls_complete_without_extra_threads) {
    enum { N = 1000 };
    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    expect_ok(cio_identify(fx.client, "warm-up", NULL)); /* engine and connections up */
    int threads_before = thread_count();
    for (uint64_t i = 0; i < N; i++) {
        cio_async_next(q, i);
        char id[32];
        snprintf(id, sizeof id, "p%llu", (unsigned long long)i);
        cr_assert_eq(cio_track(fx.client, id, "e", NULL, NULL), CIO_OK);
    }
    int threads_during = thread_count();
    static bool seen[N];
    for (size_t got = 0; got < N; got++) {
        cio_completion_t *c = next_completion(q);
        cr_assert_eq(c->status, CIO_OK, "token %llu: %s", (unsigned long long)c->token,
                     c->message ? c->message : "");
        cr_assert_lt(c->token, N);
        cr_assert(!seen[c->token], "token %llu completed twice", (unsigned long long)c->token);
        seen[c->token] = true;
        cio_completion_free(c);
    }
    /* the client side adds no thread per call: at most the emulator's per-connection threads */
    cr_assert_leq(threads_during, threads_before + 8, "threads grew from %d to %d", threads_before,
                  threads_during);
    json_t *reqs = mock_requests_wait(N + 1);
    cr_assert_eq(json_array_size(reqs), N + 1);
    json_decref(reqs);
    cio_queue_free(q);
}

Test(async, test_rejected_async_call_queues_nothing_and_disarms) {
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_async_next(q, 1);
    expect_error(cio_track(fx.client, "", "e", NULL, NULL), CIO_E_INVALID_ARGUMENT, "customer_id",
                 NULL);
    /* the next call is synchronous again */
    expect_ok(cio_delete(fx.client, "42"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/42", NULL));
    cr_assert_eq(cio_queue_size(q), 0);
    cr_assert(!fd_readable(cio_queue_fd(q), 50));
    cio_queue_free(q);
}

Test(async, test_async_failure_arrives_with_status_and_message) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 2;
    cio_client_t *c = fx_client(&o);
    mock_fault(2, 500, "{\"meta\":{\"error\":\"boom\"}}", 0, NULL, NULL);
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_async_next(q, 5);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_OK);
    cio_completion_t *done = next_completion(q);
    cr_assert_eq(done->status, CIO_E_SERVER);
    cr_assert_eq(done->http_status, 500);
    cr_assert_eq(done->attempts, 2);
    cr_assert_not_null(strstr(done->message, "identify"), "%s", done->message);
    cr_assert_not_null(strstr(done->message, "boom"), "%s", done->message);
    cr_assert_not_null(strstr(done->response, "boom"));
    cio_completion_free(done);
    cio_queue_free(q);
}

/* The error answer is read once in the core for asynchronous calls too, as for the synchronous
 * cio_error_t (test_errors.c): the Pipelines shape {"code","message"}, the App/Track shape
 * {"meta":{"error"}}; nothing when no answer came. */
static cio_completion_t *send_async(cio_client_t *client, cio_request_t *r, cio_queue_t *q) {
    cr_assert_eq(cio_request_send_async(client, r, q, 7), CIO_OK);
    cio_request_free(r);
    return next_completion(q);
}

Test(async, test_async_failure_carries_the_server_code_and_message) {
    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    cio_request_t *r = NULL;

    mock_fault(1, 400, "{\"code\":\"invalid_request\",\"message\":\"userId is too long\"}", 0, NULL,
               NULL);
    expect_ok(cio_identify_request("a", "{}", &r));
    cio_completion_t *done = send_async(fx.client, r, q);
    cr_assert_eq(done->status, CIO_E_BAD_REQUEST);
    cr_assert_eq(done->http_status, 400);
    cr_assert_str_eq(done->server_code, "invalid_request");
    cr_assert_str_eq(done->server_message, "userId is too long");
    cio_completion_free(done);

    mock_fault(1, 404, "{\"meta\":{\"error\":\"customer not found\"}}", 0, NULL, NULL);
    expect_ok(cio_delete_request("a", &r));
    done = send_async(fx.client, r, q);
    cr_assert_eq(done->status, CIO_E_NOT_FOUND);
    cr_assert_null(done->server_code);
    cr_assert_str_eq(done->server_message, "customer not found");
    cio_completion_free(done);

    /* a success says nothing */
    expect_ok(cio_delete_request("a", &r));
    done = send_async(fx.client, r, q);
    cr_assert_eq(done->status, CIO_OK);
    cr_assert_null(done->server_code);
    cr_assert_null(done->server_message);
    cio_completion_free(done);

    /* no answer at all: a connection reset on the only attempt */
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *c = fx_client(&o);
    mock_fault(1, 0, NULL, 0, NULL, "reset");
    expect_ok(cio_identify_request("a", "{}", &r));
    done = send_async(c, r, q);
    cr_assert_eq(done->status, CIO_E_NETWORK, "got %s", cio_status_str(done->status));
    cr_assert_eq(done->http_status, 0);
    cr_assert_null(done->server_code);
    cr_assert_null(done->server_message);
    cio_completion_free(done);
    cio_queue_free(q);
}

Test(async, test_async_batch_carries_its_result) {
    mock_fault(1, 207, "{\"errors\":[{\"batch_index\":1,\"reason\":\"invalid\"}]}", 0, NULL, NULL);
    const char *op = "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"1\"}}";
    const char *ops[] = {op, op};
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_async_next(q, 9);
    cio_batch_result_t *r = (cio_batch_result_t *)1;
    cr_assert_eq(cio_v2_send_batch(fx.client, ops, 2, &r), CIO_OK);
    cr_assert_null(r, "an async batch must not hand out a result before it completes");
    cio_completion_t *done = next_completion(q);
    cr_assert_eq(done->status, CIO_E_PARTIAL);
    cr_assert_eq(cio_batch_result_error_count(done->batch_result), 1);
    cr_assert_eq(cio_batch_result_error(done->batch_result, 0)->index, 1);
    cio_completion_free(done);
    cio_queue_free(q);
}

Test(async, test_queue_freed_before_completion_is_safe) {
    cio_queue_t *q;
    cio_queue_new(&q);
    mock_fault(1, 0, NULL, 200, NULL, NULL); /* 200 ms of latency */
    cio_async_next(q, 1);
    cr_assert_eq(cio_track(fx.client, "42", "e", NULL, NULL), CIO_OK);
    cio_queue_free(q);
    json_decref(mock_requests_wait(1));
    /* a synchronous call after it still works; sanitizers check nothing leaked */
    expect_ok(cio_delete(fx.client, "42"));
}

Test(async, test_client_freed_with_calls_in_flight_completes_them_as_closed) {
    cio_client_options_t o = fx_options();
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    mock_fault(1, 0, NULL, 500, NULL, NULL);
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_async_next(q, 3);
    cr_assert_eq(cio_track(c, "42", "e", NULL, NULL), CIO_OK);
    cio_client_free(c);
    cio_completion_t *done = next_completion(q);
    cr_assert_eq(done->status, CIO_E_CLOSED);
    cio_completion_free(done);
    cio_queue_free(q);
}

/* The batch with its queue given (no per-thread switch): a refused item keeps its index among
 * the caller's operations in the completion, the switch stays untouched, and a batch refused
 * whole queues nothing and answers at once. */
Test(async, test_batch_async_takes_its_queue_as_an_argument) {
    const char *op = "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"1\"}}";
    const char *bad = "{\"type\":\"person\",\"action\":\"fly\",\"identifiers\":{\"id\":\"1\"}}";
    const char *ops[] = {op, bad, op};
    cio_queue_t *q;
    cio_queue_new(&q);
    cio_batch_result_t *r = (cio_batch_result_t *)1;
    cr_assert_eq(cio_v2_send_batch_async(fx.client, ops, 3, q, 11, &r), CIO_OK);
    cr_assert_null(r, "an async batch must not hand out a result before it completes");
    cio_completion_t *done = next_completion(q);
    cr_assert_eq(done->token, 11);
    cr_assert_eq(done->status, CIO_E_PARTIAL);
    cr_assert_eq(cio_batch_result_error_count(done->batch_result), 1);
    cr_assert_eq(cio_batch_result_error(done->batch_result, 0)->index, 1);
    cio_completion_free(done);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    json_t *sent = req_body_json(json_array_get(reqs, 0));
    cr_assert_eq(json_array_size(json_object_get(sent, "batch")), 2);
    json_decref(sent);
    json_decref(reqs);

    const char *all_bad[] = {bad, bad};
    r = NULL;
    expect_error(cio_v2_send_batch_async(fx.client, all_bad, 2, q, 12, &r), CIO_E_INVALID_ARGUMENT,
                 "send_batch", NULL);
    cr_assert_not_null(r);
    cr_assert_eq(cio_batch_result_request_count(r), 0);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    cio_batch_result_free(r);
    cr_assert_eq(cio_queue_size(q), 0);

    expect_error(cio_v2_send_batch_async(fx.client, ops, 3, NULL, 13, NULL), CIO_E_INVALID_ARGUMENT,
                 "send_batch: queue is NULL", NULL);
    cio_queue_free(q);
}
