/*
 * Pipelines strict mode: every Pipelines request (the cio_cdp_* calls and a CIO_SINK_PIPELINES
 * pipeline) carries "X-Strict-Mode: 1" unless the client was made with cdp_permissive = 1; the
 * emulator honours the header both ways, as Customer.io does: with it, 400 and an error body for
 * a message that fails validation; without it, 200 and the message dropped.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

TestSuite(cdp_strict, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

/* POSTs body to the emulator's Pipelines path with the Pipelines key, with or without the
 * strict header (the client validates messages first, so only a raw request sends a bad one). */
static long post_cdp(const char *path, const char *body, bool strict, char **out) {
    return mock_request_with("POST", path, TEST_CDP_KEY ":", strict ? "X-Strict-Mode: 1" : NULL,
                             body, out);
}

/* A track message without "event": invalid. */
static const char *const no_event = "{\"type\":\"track\",\"userId\":\"7\"}";

Test(cdp_strict, test_emulator_strict_request_refuses_an_invalid_message_with_400) {
    char *body = NULL;
    cr_assert_eq(post_cdp("/v1/track", no_event, true, &body), 400, "%s", body);
    json_t *answer = json_loads(body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(answer, "code")), "invalid_request");
    cr_assert_str_eq(json_string_value(json_object_get(answer, "message")), "event is required");
    json_decref(answer);
    free(body);
}

Test(cdp_strict, test_emulator_permissive_request_answers_200_to_an_invalid_message) {
    char *body = NULL;
    cr_assert_eq(post_cdp("/v1/track", no_event, false, &body), 200, "%s", body);
    free(body);
}

/* Permissive batch: the bad message is dropped, the good identify still lands in the profile. */
Test(cdp_strict, test_emulator_permissive_batch_keeps_the_valid_messages) {
    const char *batch = "{\"batch\":[{\"type\":\"track\",\"userId\":\"7\"},"
                        "{\"type\":\"identify\",\"userId\":\"8\",\"traits\":{\"plan\":\"p\"}}]}";
    char *body = NULL;
    cr_assert_eq(post_cdp("/v1/batch", batch, true, &body), 400, "%s", body);
    cr_assert_not_null(strstr(body, "batch[0]: event is required"), "%s", body);
    free(body);
    cr_assert_eq(post_cdp("/v1/batch", batch, false, &body), 200, "%s", body);
    free(body);
    cio_client_options_t o = fx_options();
    o.app_api_key = "test-app-key"; /* the emulator's default */
    char *profile = NULL;
    cr_assert_eq(cio_customers_get_attributes(fx_client(&o), CIO_ID_TYPE_ID, "8", &profile), CIO_OK,
                 "%s", cio_last_error()->message);
    cr_assert_not_null(strstr(profile, "\"plan\""), "%s", profile);
    cio_free(profile);
}

/* A body that is not JSON is refused either way. */
Test(cdp_strict, test_emulator_refuses_a_body_that_is_not_json_in_both_modes) {
    char *body = NULL;
    cr_assert_eq(post_cdp("/v1/track", "{nope", false, &body), 400, "%s", body);
    free(body);
    cr_assert_eq(post_cdp("/v1/track", "{nope", true, &body), 400, "%s", body);
    free(body);
}

static const char *strict_header_of_only_request(void) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    const char *v = req_header(json_array_get(reqs, 0), "x-strict-mode");
    static char copy[16];
    snprintf(copy, sizeof copy, "%s", v != NULL ? v : "(absent)");
    json_decref(reqs);
    return copy;
}

Test(cdp_strict, test_cdp_calls_send_strict_mode_by_default) {
    cr_assert_eq(cio_cdp_track(fx.client, "7", NULL, "e", NULL, NULL), CIO_OK);
    cr_assert_str_eq(strict_header_of_only_request(), "1");
}

Test(cdp_strict, test_cdp_permissive_option_drops_the_header) {
    cio_client_options_t o = fx_options();
    o.cdp_permissive = 1;
    cio_client_t *c = fx_client(&o);
    cr_assert_eq(cio_cdp_track(c, "7", NULL, "e", NULL, NULL), CIO_OK);
    cr_assert_str_eq(strict_header_of_only_request(), "(absent)");
}

/* The other APIs never get the header. */
Test(cdp_strict, test_track_calls_do_not_send_strict_mode) {
    cr_assert_eq(cio_track(fx.client, "7", "e", NULL, NULL), CIO_OK);
    cr_assert_str_eq(strict_header_of_only_request(), "(absent)");
}

/* A version-2 options struct (before cdp_permissive) still gets strict mode. */
Test(cdp_strict, test_version_2_options_get_strict_mode) {
    cio_client_options_t o = fx_options();
    o.version = 2;
    o.cdp_permissive = 1; /* beyond a version-2 struct: not read */
    cio_client_t *c = fx_client(&o);
    cr_assert_eq(cio_cdp_identify(c, "7", NULL, NULL, NULL), CIO_OK);
    cr_assert_str_eq(strict_header_of_only_request(), "1");
}

typedef struct seen {
    pthread_mutex_t lock;
    int failed, http_status;
    char reason[64];
} seen_t;

static void on_report(const cio_delivery_report_t *r, void *user) {
    seen_t *s = user;
    pthread_mutex_lock(&s->lock);
    if (r->status != CIO_OK) {
        s->failed++;
        s->http_status = r->http_status;
        snprintf(s->reason, sizeof s->reason, "%s", r->reason ? r->reason : "");
    }
    pthread_mutex_unlock(&s->lock);
}

static void run_pipeline(cio_client_t *c, seen_t *s) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.linger_ms = 10;
    o.max_requests_per_second = -1;
    o.on_report = on_report;
    o.report_user = s;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(c, &o, &p), CIO_OK);
    cr_assert_eq(
        cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"7\",\"event\":\"e\"}", NULL),
        CIO_OK);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

Test(cdp_strict, test_pipelines_sink_sends_strict_mode_by_default) {
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    run_pipeline(fx.client, &s);
    cr_assert_eq(s.failed, 0);
    cr_assert_str_eq(strict_header_of_only_request(), "1");
}

Test(cdp_strict, test_pipelines_sink_permissive_client_sends_no_header) {
    cio_client_options_t o = fx_options();
    o.cdp_permissive = 1;
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    run_pipeline(fx_client(&o), &s);
    cr_assert_eq(s.failed, 0);
    cr_assert_str_eq(strict_header_of_only_request(), "(absent)");
}

/* What comes back in strict mode is reported: a 400 with the answer's code reaches the report. */
Test(cdp_strict, test_pipelines_sink_reports_a_strict_400) {
    mock_fault(1, 400, "{\"code\":\"invalid_request\",\"message\":\"bad\"}", 0, NULL, NULL);
    seen_t s = {.lock = PTHREAD_MUTEX_INITIALIZER};
    run_pipeline(fx.client, &s);
    cr_assert_eq(s.failed, 1);
    cr_assert_eq(s.http_status, 400);
    cr_assert_str_eq(s.reason, "invalid_request");
}
