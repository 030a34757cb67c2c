/*
 * The emulator's request log: the status each request was answered with (0 for a dropped
 * connection), and POST /_mock/requests/drain, which hands back the answered requests and removes
 * them in one step, so a long run (tests/soak) can account for every request with the log's
 * memory bounded. Its bounds (a count and a byte budget, the oldest dropped and counted in
 * GET /_mock/requests/stats), and the connection timeout.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

TestSuite(mock_log, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

/* POST /_mock/requests/drain, parsed. */
static json_t *drain(void) {
    char *text = NULL;
    long st = mock_control("POST", "/_mock/requests/drain", NULL, &text);
    cr_assert_eq(st, 200, "drain answered %ld: %s", st, text ? text : "");
    json_t *array = json_loads(text, 0, NULL);
    free(text);
    cr_assert(json_is_array(array), "drain did not answer an array");
    return array;
}

static json_int_t req_seq(const json_t *req) {
    return json_integer_value(json_object_get(req, "seq"));
}

Test(mock_log, test_drain_of_an_empty_log_is_an_empty_array) {
    json_t *got = drain();
    cr_assert_eq(json_array_size(got), 0);
    json_decref(got);
}

Test(mock_log, test_drain_returns_each_answer_status_and_removes_the_requests) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *once = fx_client(&o);
    /* The reset comes first, on the client's first connection: on a reused one, curl itself
     * sends the request again on a new connection, and the call would succeed. */
    mock_fault(1, 0, NULL, 0, NULL, "reset");
    mock_fault(1, 503, NULL, 0, NULL, NULL);
    cio_status_t reset = cio_delete(once, "a");
    cr_assert_eq(reset, CIO_E_NETWORK, "a reset connection gave %s", cio_status_str(reset));
    expect_error(cio_delete(once, "b"), CIO_E_SERVER, NULL, NULL);
    expect_ok(cio_delete(once, "c"));

    json_t *got = drain();
    cr_assert_eq(json_array_size(got), 3);
    const int statuses[] = {0, 503, 200};
    for (size_t i = 0; i < 3; i++) {
        const json_t *req = json_array_get(got, i);
        cr_assert_eq(req_seq(req), (json_int_t)i + 1);
        cr_assert_eq(req_status(req), statuses[i], "request %zu: status %d, expected %d", i + 1,
                     req_status(req), statuses[i]);
        cr_assert_str_eq(req_str(req, "method"), "DELETE");
    }
    json_decref(got);

    json_t *left = mock_requests();
    cr_assert_eq(json_array_size(left), 0, "drained requests are still in the log");
    json_decref(left);
    got = drain();
    cr_assert_eq(json_array_size(got), 0, "a request was drained twice");
    json_decref(got);

    /* seq goes on after a drain (unlike DELETE /_mock/requests) */
    expect_ok(cio_delete(once, "d"));
    got = drain();
    cr_assert_eq(json_array_size(got), 1);
    cr_assert_eq(req_seq(json_array_get(got, 0)), 4);
    json_decref(got);
}

static void *delete_in_background(void *arg) {
    (void)arg;
    return (void *)(intptr_t)cio_delete(fx.client, "slow");
}

Test(mock_log, test_drain_leaves_a_request_still_being_answered) {
    mock_fault(1, 0, NULL, 1500, NULL, NULL); /* latency only: answered 200 after 1.5 s */
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, delete_in_background, NULL), 0);
    json_t *seen = mock_requests_wait(1);
    cr_assert_eq(req_status(json_array_get(seen, 0)), 0, "answered before the delay");
    json_decref(seen);

    json_t *got = drain();
    cr_assert_eq(json_array_size(got), 0, "drained a request still being answered");
    json_decref(got);
    json_t *left = mock_requests();
    cr_assert_eq(json_array_size(left), 1, "the pending request left the log");
    json_decref(left);

    void *result = NULL;
    pthread_join(t, &result);
    cr_assert_eq((cio_status_t)(intptr_t)result, CIO_OK);
    got = drain();
    cr_assert_eq(json_array_size(got), 1);
    cr_assert_eq(req_status(json_array_get(got, 0)), 200);
    cr_assert_eq(req_seq(json_array_get(got, 0)), 1);
    json_decref(got);
}

Test(mock_log, test_drain_is_only_a_post) {
    char *text = NULL;
    cr_assert_eq(mock_control("GET", "/_mock/requests/drain", NULL, &text), 405);
    free(text);
}

/* ---- bounds: the log keeps the newest requests within a count and a byte budget, and counts
 * what it dropped; a silent connection is closed ---- */

/* Replaces the fixture's emulator with one started with these options (fx.base_url follows,
 * so mock_control and mock_request reach the new one). */
static void restart_mock(const cio_mock_options_t *mo) {
    cio_mock_stop(fx.mock);
    fx.mock = NULL;
    char err[256] = "";
    cr_assert_eq(cio_mock_start(mo, &fx.mock, err, sizeof err), 0, "cio_mock_start: %s", err);
    snprintf(fx.base_url, sizeof fx.base_url, "%s", cio_mock_base_url(fx.mock));
}

static json_t *log_stats(void) {
    char *text = NULL;
    long st = mock_control("GET", "/_mock/requests/stats", NULL, &text);
    cr_assert_eq(st, 200, "stats answered %ld: %s", st, text ? text : "");
    json_t *stats = json_loads(text, 0, NULL);
    free(text);
    cr_assert(json_is_object(stats), "stats is not an object");
    return stats;
}

static json_int_t stat_of(const json_t *stats, const char *name) {
    const json_t *v = json_object_get(stats, name);
    cr_assert(json_is_integer(v), "stats has no integer %s", name);
    return json_integer_value(v);
}

/* PUT /api/v1/customers/{id} with a body of n bytes (a JSON object), answered 200. */
static void put_customer(int id, size_t n) {
    char path[64];
    snprintf(path, sizeof path, "/api/v1/customers/%d", id);
    char *pad = repeat_char('x', n > 10 ? n - 10 : 0);
    size_t size = strlen(pad) + 16;
    char *body = malloc(size);
    cr_assert_not_null(body);
    snprintf(body, size, "{\"p\":\"%s\"}", pad);
    char *out = NULL;
    long st = mock_request("PUT", path, TEST_SITE_ID ":" TEST_API_KEY, body, &out);
    cr_assert_eq(st, 200, "PUT %s answered %ld: %s", path, st, out ? out : "");
    free(out);
    free(body);
    free(pad);
}

Test(mock_log, test_log_keeps_the_newest_requests_within_its_count_and_counts_the_dropped) {
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.max_logged_requests = 3;
    restart_mock(&mo);
    for (int i = 1; i <= 5; i++) {
        put_customer(i, 20);
    }
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(req_seq(json_array_get(reqs, i)), (json_int_t)i + 3);
    }
    json_decref(reqs);
    json_t *stats = log_stats();
    cr_assert_eq(stat_of(stats, "kept"), 3);
    cr_assert_eq(stat_of(stats, "dropped"), 2);
    cr_assert_gt(stat_of(stats, "dropped_bytes"), 40);
    cr_assert_eq(stat_of(stats, "max_requests"), 3);
    json_decref(stats);
    mock_clear(); /* a cleared log starts counting again */
    stats = log_stats();
    cr_assert_eq(stat_of(stats, "kept"), 0);
    cr_assert_eq(stat_of(stats, "dropped"), 0);
    cr_assert_eq(stat_of(stats, "kept_bytes"), 0);
    json_decref(stats);
}

Test(mock_log, test_log_keeps_the_newest_requests_within_its_byte_budget) {
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.max_logged_bytes = 3000;
    restart_mock(&mo);
    for (int i = 1; i <= 6; i++) {
        put_customer(i, 1000); /* ~1,100 bytes each with path and headers */
    }
    json_t *stats = log_stats();
    json_int_t kept = stat_of(stats, "kept");
    cr_assert(kept >= 1 && kept <= 2, "kept %lld of 6 requests of ~1,100 bytes in 3,000",
              (long long)kept);
    cr_assert_leq(stat_of(stats, "kept_bytes"), 3000);
    cr_assert_eq(stat_of(stats, "dropped"), 6 - kept);
    cr_assert_eq(stat_of(stats, "max_bytes"), 3000);
    json_decref(stats);
    json_t *reqs = mock_requests();
    cr_assert_eq((json_int_t)json_array_size(reqs), kept);
    cr_assert_eq(req_seq(json_array_get(reqs, json_array_size(reqs) - 1)), 6, "not the newest");
    json_decref(reqs);
    /* a drain empties the budget: what it hands back is not "dropped" */
    json_decref(drain());
    stats = log_stats();
    cr_assert_eq(stat_of(stats, "kept_bytes"), 0);
    cr_assert_eq(stat_of(stats, "dropped"), 6 - kept);
    json_decref(stats);
}

Test(mock_log, test_log_bounds_default_to_100000_requests_and_256_mib) {
    json_t *stats = log_stats();
    cr_assert_eq(stat_of(stats, "max_requests"), 100000);
    cr_assert_eq(stat_of(stats, "max_bytes"), 256LL * 1024 * 1024);
    json_decref(stats);
}

Test(mock_log, test_a_silent_connection_is_closed_but_an_injected_delay_is_not_silence) {
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.connection_timeout_s = 1;
    restart_mock(&mo);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cio_mock_port(fx.mock))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(s, (struct sockaddr *)&addr, sizeof addr), 0);
    const char partial[] = "PUT /api/v1/customers/1 HTTP/1.1\r\nHost: x\r\n";
    cr_assert_eq(send(s, partial, sizeof partial - 1, 0), (ssize_t)(sizeof partial - 1));
    struct timeval wait = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    int64_t t0 = now_ms();
    char buf[64];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    int64_t took = now_ms() - t0;
    close(s);
    cr_assert(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK),
              "the silent connection was not closed (recv %zd after %lld ms)", n, (long long)took);
    cr_assert(took >= 700 && took < 3500, "closed after %lld ms", (long long)took);

    mock_fault(1, 0, NULL, 2000, NULL, NULL); /* answered 200 after 2 s: longer than 1 s */
    t0 = now_ms();
    put_customer(1, 20);
    cr_assert_geq(now_ms() - t0, 1900);
}

/* The meter of GET /_mock/rate: *requests and *max_in_window of the test workspace. */
static void rate_meter(long long *requests, long long *max_in_window) {
    char *out = NULL;
    cr_assert_eq(mock_control("GET", "/_mock/rate", NULL, &out), 200);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    json_t *ws = json_object_get(json_object_get(j, "workspaces"), TEST_SITE_ID);
    *requests = json_integer_value(json_object_get(ws, "requests"));
    *max_in_window = json_integer_value(json_object_get(ws, "max_in_window"));
    json_decref(j);
    free(out);
}

/* The rate meter counts a burst in one window and a later trickle apart from it, and keeps
 * counting right past thousands of requests (its window count is a binary search over its
 * ring of arrival times; the linear one it replaced slowed the emulator to a crawl past
 * ~3,000 requests at full speed). */
Test(mock_log, test_rate_meter_counts_requests_per_sliding_second) {
    mock_control("DELETE", "/_mock/rate", NULL, NULL);
    enum { BURST = 300 };
    int64_t started = now_ms();
    for (int i = 0; i < BURST; i++)
        cr_assert_eq(mock_request("POST", "/api/v1/customers/p1/events",
                                  TEST_SITE_ID ":" TEST_API_KEY, "{\"name\":\"e\"}", NULL),
                     200);
    int64_t took = now_ms() - started;
    long long requests = 0, max_in_window = 0;
    rate_meter(&requests, &max_in_window);
    cr_assert_eq(requests, BURST);
    if (took < 900) /* all inside one second: the window holds them all */
        cr_assert_eq(max_in_window, BURST);
    else
        cr_assert(max_in_window > 0 && max_in_window <= BURST);
    long long burst_max = max_in_window;
    nanosleep(&(struct timespec){1, 100 * 1000000L}, NULL);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(mock_request("POST", "/api/v1/customers/p1/events",
                                  TEST_SITE_ID ":" TEST_API_KEY, "{\"name\":\"e\"}", NULL),
                     200);
    rate_meter(&requests, &max_in_window);
    cr_assert_eq(requests, BURST + 5);
    cr_assert_eq(max_in_window, burst_max, "5 requests a second later are a window of their own");
}
