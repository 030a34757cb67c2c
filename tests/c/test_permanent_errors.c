/*
 * Permanent failures are reported at once, with the attempts really made, on every path: a
 * synchronous call, an asynchronous one and the delivery pipeline (issue 16 item 9: a certificate
 * that failed verification made a pipeline flush take 112 s). The emulator serves HTTPS with a
 * certificate no CA the client trusts has signed; 401 and 403 come from the plain emulator.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

static cio_mock_t *tls_mock;

static void setup(void) {
    fx_setup_mock_only();
    tls_mock = mock_start_tls();
}

static void teardown(void) {
    cio_mock_stop(tls_mock);
    fx_teardown();
}

TestSuite(permanent, .init = setup, .fini = teardown, .timeout = 60);

/* A client of the TLS emulator that trusts only the system's CAs (ignore_env: no
 * SSL_CERT_FILE either), with a retry budget that would take seconds if it were spent. */
static cio_client_t *untrusting_client(void) {
    cio_client_options_t o = fx_options();
    o.track_url = cio_mock_base_url(tls_mock);
    o.cdp_url = cio_mock_base_url(tls_mock);
    o.max_attempts = 6;
    o.backoff_base_ms = 400;
    o.backoff_max_ms = 2000;
    return fx_client(&o);
}

Test(permanent, test_unknown_ca_fails_a_sync_call_at_once_with_one_attempt) {
    cio_client_t *c = untrusting_client();
    int64_t start = now_ms();
    cio_status_t st = cio_identify(c, "42", "{}");
    int64_t took = now_ms() - start;
    cr_assert_eq(st, CIO_E_NETWORK, "got %s", cio_status_str(st));
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->attempts, 1, "%s", e->message);
    cr_assert_not_null(strstr(e->message, "certificate"), "%s", e->message);
    cr_assert_not_null(strstr(e->message, "permanent: not retried"), "%s", e->message);
    cr_assert_eq(e->retryable, 0);
    cr_assert_lt(took, 1500, "a certificate failure took %lld ms", (long long)took);
}

Test(permanent, test_unknown_ca_fails_an_async_call_at_once_with_one_attempt) {
    cio_client_t *c = untrusting_client();
    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    int64_t start = now_ms();
    cr_assert_eq(cio_async_next(q, 7), CIO_OK);
    cr_assert_eq(cio_track(c, "42", "e", NULL, NULL), CIO_OK);
    cio_completion_t *done = NULL;
    while (done == NULL && now_ms() - start < 10000) {
        cr_assert_eq(cio_queue_poll(q, &done), CIO_OK);
        if (done == NULL)
            nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    }
    int64_t took = now_ms() - start;
    cr_assert_not_null(done);
    cr_assert_eq(done->token, 7);
    cr_assert_eq(done->status, CIO_E_NETWORK, "got %s", cio_status_str(done->status));
    cr_assert_eq(done->attempts, 1, "%s", done->message);
    cr_assert_eq(done->retryable, 0);
    cr_assert_lt(took, 1500, "took %lld ms", (long long)took);
    cio_completion_free(done);
    cio_queue_free(q);
}

typedef struct reports {
    pthread_mutex_t lock;
    size_t failed;
    cio_status_t status;
    char message[512];
} reports_t;

static void on_report(const cio_delivery_report_t *r, void *user) {
    reports_t *t = user;
    pthread_mutex_lock(&t->lock);
    if (r->status != CIO_OK) {
        t->failed++;
        t->status = r->status;
        snprintf(t->message, sizeof(t->message), "%s", r->message ? r->message : "");
    }
    pthread_mutex_unlock(&t->lock);
}

static cio_pipeline_t *pipeline_on(cio_client_t *c, cio_pipeline_sink_t sink, reports_t *t) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = sink;
    o.linger_ms = 10;
    o.max_requests_per_second = -1;
    o.on_report = on_report;
    o.report_user = t;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(c, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    return p;
}

static const char *const event_op =
    "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"7\"},\"name\":\"e\"}";

/* The pipeline's share of the bug: it retried a refused certificate until its deadline. */
Test(permanent, test_unknown_ca_pipeline_flush_reports_failure_at_once) {
    cio_client_t *c = untrusting_client();
    reports_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = pipeline_on(c, CIO_SINK_TRACK_V2, &t);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_pipeline_enqueue(p, event_op, NULL), CIO_OK);
    int64_t start = now_ms();
    cio_status_t st = cio_pipeline_flush(p, 20000);
    int64_t took = now_ms() - start;
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    cr_assert_lt(took, 2000, "flush took %lld ms", (long long)took);
    cio_pipeline_stats_t s;
    cr_assert_eq(cio_pipeline_stats(p, &s), CIO_OK);
    cr_assert_eq(s.requests, 1, "%llu requests", (unsigned long long)s.requests);
    cr_assert_eq(s.retried, 0);
    cr_assert_eq(s.failed, 3);
    cr_assert_eq(t.failed, 3);
    cr_assert_eq(t.status, CIO_E_NETWORK, "got %s", cio_status_str(t.status));
    cr_assert_not_null(strstr(t.message, "after 1 attempt:"), "%s", t.message);
    cr_assert_not_null(strstr(t.message, "certificate"), "%s", t.message);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

Test(permanent, test_unknown_ca_pipelines_sink_flush_reports_failure_at_once) {
    cio_client_t *c = untrusting_client();
    reports_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = pipeline_on(c, CIO_SINK_PIPELINES, &t);
    cr_assert_eq(
        cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"7\",\"event\":\"e\"}", NULL),
        CIO_OK);
    int64_t start = now_ms();
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_lt(now_ms() - start, 2000);
    cr_assert_eq(t.failed, 1);
    cr_assert_not_null(strstr(t.message, "after 1 attempt:"), "%s", t.message);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

/* 401 and 403 are permanent: one request, reported, however many attempts were allowed. */
static void expect_auth_failure_not_retried(int status) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 6;
    cio_client_t *c = fx_client(&o);
    mock_fault(100, status, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_E_AUTH);
    cr_assert_eq(cio_last_error()->attempts, 1);
    reports_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = pipeline_on(c, CIO_SINK_TRACK_V2, &t);
    cr_assert_eq(cio_pipeline_enqueue(p, event_op, NULL), CIO_OK);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.status, CIO_E_AUTH);
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 2, "%zu requests", json_array_size(reqs));
    json_decref(reqs);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

Test(permanent, test_http_401_is_not_retried_sync_or_pipeline) {
    expect_auth_failure_not_retried(401);
}

Test(permanent, test_http_403_is_not_retried_sync_or_pipeline) {
    expect_auth_failure_not_retried(403);
}

/* The transient side of the same table: 408 is retried by the pipeline too (it was not). */
Test(permanent, test_http_408_is_retried_by_the_pipeline) {
    reports_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *c = fx_client(&o);
    cio_pipeline_t *p = pipeline_on(c, CIO_SINK_TRACK_V2, &t);
    mock_fault(1, 408, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_pipeline_enqueue(p, event_op, NULL), CIO_OK);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(t.failed, 0, "%s", t.message);
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 2);
    cr_assert_eq(req_status(json_array_get(reqs, 1)), 200);
    json_decref(reqs);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

/* The same table tells callers (and the bindings) which failures a later call may fix. */
Test(permanent, test_error_says_whether_a_failure_is_retryable) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 2;
    cio_client_t *c = fx_client(&o);
    mock_fault(2, 503, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_E_SERVER);
    cr_assert_eq(cio_last_error()->attempts, 2);
    cr_assert_eq(cio_last_error()->retryable, 1);
    mock_fault(1, 404, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_E_NOT_FOUND);
    cr_assert_eq(cio_last_error()->retryable, 0);
    cr_assert_eq(cio_identify(c, "", "{}"), CIO_E_INVALID_ARGUMENT); /* nothing sent */
    cr_assert_eq(cio_last_error()->retryable, 0);

    char closed[256];
    closed_port_url(closed, sizeof(closed));
    o.track_url = closed;
    cio_client_t *refused = fx_client(&o);
    cr_assert_eq(cio_identify(refused, "42", "{}"), CIO_E_NETWORK);
    cr_assert_eq(cio_last_error()->retryable, 1, "%s", cio_last_error()->message);

    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    mock_fault(2, 503, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_async_next(q, 1), CIO_OK);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_OK);
    cio_completion_t *done = NULL;
    for (int i = 0; i < 2000 && done == NULL; i++) {
        cr_assert_eq(cio_queue_poll(q, &done), CIO_OK);
        if (done == NULL)
            nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
    }
    cr_assert_not_null(done);
    cr_assert_eq(done->status, CIO_E_SERVER);
    cr_assert_eq(done->retryable, 1);
    cio_completion_free(done);
    cio_queue_free(q);
}

/* The batch calls say the same as single ones: a 503 to a whole batch request may pass, a 400
 * will not (cio_v2_send_batch and cio_cdp_batch reported retryable 0 for both). */
Test(permanent, test_batch_calls_say_whether_a_failed_request_is_retryable) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *c = fx_client(&o);
    const char *ops[] = {event_op};
    cio_batch_result_t *r = NULL;
    mock_fault(1, 503, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_v2_send_batch(c, ops, 1, &r), CIO_E_SERVER);
    cr_assert_eq(cio_last_error()->http_status, 503);
    cr_assert_eq(cio_last_error()->retryable, 1, "%s", cio_last_error()->message);
    cio_batch_result_free(r);
    r = NULL;
    mock_fault(1, 400, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_v2_send_batch(c, ops, 1, &r), CIO_E_BAD_REQUEST);
    cr_assert_eq(cio_last_error()->retryable, 0);
    cio_batch_result_free(r);
    r = NULL;

    const char *msgs[] = {"{\"type\":\"track\",\"userId\":\"42\",\"event\":\"e\"}"};
    mock_fault(1, 503, NULL, 0, NULL, NULL);
    cr_assert_eq(cio_cdp_batch(c, msgs, 1, &r), CIO_E_SERVER);
    cr_assert_eq(cio_last_error()->retryable, 1, "%s", cio_last_error()->message);
    cio_batch_result_free(r);
}
