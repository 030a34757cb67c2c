/*
 * The emulator sends signed reporting webhooks (POST /_mock/webhooks): what arrives at the
 * receiver verifies with cio_webhook_verify and parses with cio_webhook_parse.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(mock_webhooks, .init = fx_setup_mock_only, .fini = fx_teardown);

#define KEY "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"

/* Emits through the emulator to itself (/hook, logged like any request) and returns the log. */
static json_t *emit(const char *extra_fields) {
    char body[1024];
    snprintf(body, sizeof body, "{\"url\":\"%s/hook\",\"signing_key\":\"" KEY "\",%s}", fx.base_url,
             extra_fields);
    char *answer = NULL;
    cr_assert_eq(mock_control("POST", "/_mock/webhooks", body, &answer), 200, "%s", answer);
    free(answer);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    return reqs;
}

Test(mock_webhooks, test_emitted_webhook_verifies_and_parses) {
    json_t *reqs = emit("\"event\":{\"event_id\":\"01HX\",\"object_type\":\"email\",\"metric\":"
                        "\"opened\",\"timestamp\":1700000000,\"delivery_id\":\"d1\",\"data\":"
                        "{\"customer_id\":\"42\"}}");
    json_t *req = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(req, "method"), "POST");
    cr_assert_str_eq(req_str(req, "path"), "/hook");
    const char *ts = req_header(req, "x-cio-timestamp");
    const char *sig = req_header(req, "x-cio-signature");
    cr_assert_not_null(ts);
    cr_assert_not_null(sig);
    const char *raw = req_str(req, "body");
    cr_assert_eq(cio_webhook_verify(KEY, ts, sig, raw, strlen(raw), 300, 0), CIO_OK, "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    cio_webhook_events_t *events = NULL;
    cr_assert_eq(cio_webhook_parse(raw, strlen(raw), &events), CIO_OK);
    cr_assert_eq(cio_webhook_events_count(events), 1);
    const cio_webhook_event_t *e = cio_webhook_events_get(events, 0);
    cr_assert_str_eq(e->metric, "opened");
    cr_assert_str_eq(e->delivery_id, "d1");
    cio_webhook_events_free(events);
    json_decref(reqs);
}

Test(mock_webhooks, test_emitted_list_and_forged_signature) {
    json_t *reqs = emit("\"timestamp\":1692633432,\"signature\":\"" KEY "\",\"events\":[{"
                        "\"event_id\":\"a\",\"object_type\":\"sms\",\"metric\":\"sent\","
                        "\"timestamp\":1}]");
    json_t *req = json_array_get(reqs, 0);
    cr_assert_str_eq(req_header(req, "x-cio-timestamp"), "1692633432");
    const char *raw = req_str(req, "body");
    cr_assert_eq(cio_webhook_verify(KEY, req_header(req, "x-cio-timestamp"),
                                    req_header(req, "x-cio-signature"), raw, strlen(raw), 0, 0),
                 CIO_E_SIGNATURE);
    json_decref(reqs);
}

Test(mock_webhooks, test_only_loopback_receivers_are_accepted) {
    char *answer = NULL;
    cr_assert_eq(mock_control("POST", "/_mock/webhooks",
                              "{\"url\":\"http://203.0.113.7/hook\",\"signing_key\":\"k\","
                              "\"event\":{}}",
                              &answer),
                 400);
    cr_assert_not_null(strstr(answer, "loopback"), "%s", answer);
    free(answer);
    expect_nothing_sent();
}

Test(mock_webhooks, test_sends_are_followed_by_signed_sent_and_delivered_webhooks) {
    /* fx.mock is the receiver; a second emulator reports its sends to it */
    char hook[300];
    snprintf(hook, sizeof hook, "%s/hook", fx.base_url);
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.webhook_url = hook;
    mo.webhook_signing_key = KEY;
    cio_mock_t *sender = NULL;
    char err[256];
    cr_assert_eq(cio_mock_start(&mo, &sender, err, sizeof err), 0, "%s", err);
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.app_api_key = "test-app-key";
    o.app_url = cio_mock_base_url(sender);
    o.ignore_env = 1;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    char *answer = NULL;
    cr_assert_eq(cio_send_email(c,
                                "{\"transactional_message_id\":1,\"identifiers\":{\"id\":\"42\"}}",
                                NULL, 0, &answer),
                 CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    const char *metrics[] = {"sent", "delivered"};
    for (size_t i = 0; i < 2; i++) {
        json_t *req = json_array_get(reqs, i);
        const char *raw = req_str(req, "body");
        cr_assert_eq(cio_webhook_verify(KEY, req_header(req, "x-cio-timestamp"),
                                        req_header(req, "x-cio-signature"), raw, strlen(raw), 300,
                                        0),
                     CIO_OK);
        cio_webhook_events_t *events = NULL;
        cr_assert_eq(cio_webhook_parse(raw, strlen(raw), &events), CIO_OK);
        const cio_webhook_event_t *e = cio_webhook_events_get(events, 0);
        cr_assert_str_eq(e->metric, metrics[i]);
        cr_assert_str_eq(e->object_type, "email");
        cr_assert_not_null(strstr(answer, e->delivery_id), "%s vs %s", answer, e->delivery_id);
        cio_webhook_events_free(events);
    }
    json_decref(reqs);
    cio_free(answer);
    cio_client_free(c);
    cio_mock_stop(sender);
}

Test(mock_webhooks, test_a_non_loopback_webhook_url_is_refused_at_start) {
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.webhook_url = "http://203.0.113.9/hook";
    mo.webhook_signing_key = "k";
    cio_mock_t *m = NULL;
    char err[256] = "";
    cr_assert_eq(cio_mock_start(&mo, &m, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "loopback") != NULL ? err : strstr(err, "127.0.0.1"), "%s", err);
}
