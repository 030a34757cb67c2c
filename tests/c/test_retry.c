/*
 * Retries: network errors, timeouts, 408, 429 and 5xx are retried with the same request (same
 * event id); other 4xx never are; Retry-After is honoured; attempts are bounded by max_attempts.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(retry, .init = fx_setup, .fini = fx_teardown);

/* Exactly n requests were logged; returns the log (json_decref it). */
static json_t *expect_n_requests(size_t n) {
    json_t *reqs = mock_requests_wait(n);
    if (json_array_size(reqs) != n) {
        char *dump = json_dumps(reqs, JSON_INDENT(1));
        cr_log_error("requests: %s", dump);
        free(dump);
    }
    cr_assert_eq(json_array_size(reqs), n, "expected %zu requests, got %zu", n,
                 json_array_size(reqs));
    return reqs;
}

/* Every logged request has the same method, path and body (byte for byte). */
static void expect_identical_requests(const json_t *reqs) {
    const json_t *first = json_array_get(reqs, 0);
    for (size_t i = 1; i < json_array_size(reqs); i++) {
        const json_t *r = json_array_get(reqs, i);
        cr_assert_str_eq(req_str(r, "method"), req_str(first, "method"));
        cr_assert_str_eq(req_str(r, "path"), req_str(first, "path"));
        cr_assert_str_eq(req_str(r, "body"), req_str(first, "body"),
                         "attempt %zu sent a different body", i + 1);
        expect_track_headers(r);
    }
}

static void expect_statuses(const json_t *reqs, const int *statuses, size_t n) {
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(req_status(json_array_get(reqs, i)), statuses[i],
                     "request %zu was answered %d, expected %d", i + 1,
                     req_status(json_array_get(reqs, i)), statuses[i]);
}

Test(retry, test_retries_500_twice_then_succeeds_with_the_same_event_id) {
    mock_fault(2, 500, "{\"meta\":{\"error\":\"boom\"}}", 0, NULL, NULL);
    expect_ok(cio_track(fx.client, "cust-1", "purchase", "{\"n\":1}", NULL));
    json_t *reqs = expect_n_requests(3);
    expect_identical_requests(reqs);
    const int statuses[] = {500, 500, 200};
    expect_statuses(reqs, statuses, 3);
    json_t *body = req_body_json(json_array_get(reqs, 0));
    cr_assert(is_ulid(json_string_value(json_object_get(body, "id"))), "no ULID id");
    json_decref(body);
    json_decref(reqs);
}

Test(retry, test_gives_up_on_500_after_max_attempts) {
    cio_client_options_t opts = fx_options();
    opts.max_attempts = 3;
    cio_client_t *c = fx_client(&opts);
    mock_fault(100, 500, "{\"meta\":{\"error\":\"still broken\"}}", 0, NULL, NULL);
    expect_error(cio_identify(c, "a", "{\"x\":1}"), CIO_E_SERVER, "identify", NULL);
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->attempts, 3, "attempts %d", e->attempts);
    cr_assert_eq(e->http_status, 500);
    cr_assert_not_null(e->response_body);
    cr_assert_not_null(strstr(e->response_body, "still broken"), "body: %s", e->response_body);
    json_t *reqs = expect_n_requests(3);
    expect_identical_requests(reqs);
    json_decref(reqs);
}

Test(retry, test_default_max_attempts_is_4) {
    mock_fault(100, 503, "unavailable", 0, NULL, NULL);
    expect_error(cio_delete(fx.client, "a"), CIO_E_SERVER, "delete", NULL);
    cr_assert_eq(cio_last_error()->attempts, 4);
    json_decref(expect_n_requests(4));
}

Test(retry, test_max_attempts_1_never_retries) {
    cio_client_options_t opts = fx_options();
    opts.max_attempts = 1;
    cio_client_t *c = fx_client(&opts);
    mock_fault(5, 502, "bad gateway", 0, NULL, NULL);
    expect_error(cio_delete(c, "a"), CIO_E_SERVER, "delete", NULL);
    cr_assert_eq(cio_last_error()->attempts, 1);
    json_decref(expect_n_requests(1));
}

Test(retry, test_retries_408) {
    mock_fault(1, 408, "timeout", 0, NULL, NULL);
    expect_ok(cio_suppress(fx.client, "a"));
    json_t *reqs = expect_n_requests(2);
    const int statuses[] = {408, 200};
    expect_statuses(reqs, statuses, 2);
    json_decref(reqs);
}

Test(retry, test_retries_429_honouring_retry_after) {
    mock_fault(1, 429, "{\"meta\":{\"error\":\"slow down\"}}", 0, "1", NULL);
    int64_t t0 = now_ms();
    expect_ok(cio_track(fx.client, "cust-1", "e", NULL, NULL));
    int64_t elapsed = now_ms() - t0;
    /* backoff_max_ms is 50: only the Retry-After header can explain a wait of ~1 s. */
    cr_assert_geq(elapsed, 900, "retried after %lld ms, Retry-After asked for 1 s",
                  (long long)elapsed);
    json_t *reqs = expect_n_requests(2);
    expect_identical_requests(reqs);
    const int statuses[] = {429, 200};
    expect_statuses(reqs, statuses, 2);
    json_decref(reqs);
}

Test(retry, test_429_on_every_attempt_gives_rate_limited) {
    cio_client_options_t opts = fx_options();
    opts.max_attempts = 2;
    cio_client_t *c = fx_client(&opts);
    mock_fault(100, 429, "{\"meta\":{\"error\":\"slow down\"}}", 0, NULL, NULL);
    expect_error(cio_delete(c, "a"), CIO_E_RATE_LIMITED, "delete", NULL);
    cr_assert_eq(cio_last_error()->http_status, 429);
    cr_assert_eq(cio_last_error()->attempts, 2);
    json_decref(expect_n_requests(2));
}

Test(retry, test_retries_after_connection_reset) {
    mock_fault(1, 0, NULL, 0, NULL, "reset");
    expect_ok(cio_track(fx.client, "cust-1", "e", "{\"k\":1}", NULL));
    json_t *reqs = expect_n_requests(2);
    const int statuses[] = {0, 200};
    expect_statuses(reqs, statuses, 2);
    expect_identical_requests(reqs);
    json_decref(reqs);
}

Test(retry, test_connection_reset_on_every_attempt_gives_network_error) {
    cio_client_options_t opts = fx_options();
    opts.max_attempts = 3;
    cio_client_t *c = fx_client(&opts);
    mock_fault(100, 0, NULL, 0, NULL, "reset");
    expect_error(cio_identify(c, "a", "{}"), CIO_E_NETWORK, "identify", NULL);
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->http_status, 0, "http_status %d after resets", e->http_status);
    cr_assert_eq(e->attempts, 3);
    json_decref(expect_n_requests(3));
}

Test(retry, test_400_is_never_retried) {
    mock_fault(10, 400, "{\"meta\":{\"error\":\"bad\"}}", 0, NULL, NULL);
    expect_error(cio_track(fx.client, "a", "e", NULL, NULL), CIO_E_BAD_REQUEST, "track", NULL);
    cr_assert_eq(cio_last_error()->attempts, 1);
    json_decref(expect_n_requests(1));
}

Test(retry, test_slow_response_gives_timeout) {
    cio_client_options_t opts = fx_options();
    opts.timeout_ms = 200;
    opts.max_attempts = 1;
    cio_client_t *c = fx_client(&opts);
    mock_fault(1, 0, NULL, 1000, NULL, NULL);
    expect_error(cio_delete(c, "a"), CIO_E_TIMEOUT, "delete", NULL);
    cr_assert_eq(cio_last_error()->http_status, 0);
    cr_assert_eq(cio_last_error()->attempts, 1);
}

Test(retry, test_timeout_is_retried_then_succeeds) {
    cio_client_options_t opts = fx_options();
    opts.timeout_ms = 200;
    opts.max_attempts = 2;
    cio_client_t *c = fx_client(&opts);
    mock_fault(1, 0, NULL, 1000, NULL, NULL);
    expect_ok(cio_identify(c, "a", "{}"));
    /* The delayed first request may be logged after the second one, or not at all. */
    json_t *reqs = mock_requests_wait(1);
    cr_assert_geq(json_array_size(reqs), 1);
    json_decref(reqs);
}

Test(retry, test_connection_refused_gives_network_error) {
    char url[256];
    closed_port_url(url, sizeof url);
    cio_client_options_t opts = fx_options();
    opts.track_url = url;
    opts.max_attempts = 2;
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_delete(c, "a"), CIO_E_NETWORK, "delete", NULL);
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->http_status, 0);
    cr_assert_eq(e->attempts, 2);
    cr_assert_null(e->response_body);
}
