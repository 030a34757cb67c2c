/*
 * The emulator's request log: the status each request was answered with (0 for a dropped
 * connection), and POST /_mock/requests/drain, which hands back the answered requests and removes
 * them in one step, so a long run (tests/soak) can account for every request with the log's
 * memory bounded.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
