/*
 * App API: the bytes each call puts on the wire (method, raw path and query, Bearer header, JSON
 * body), the answers handed back, validation that sends nothing, and the emulator's state (Track
 * identify, then App reads).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_APP_KEY "test-app-key"
#define TEST_BEARER "Bearer " TEST_APP_KEY

/* The shared fixture, plus the App key (only this suite's clients have one). */
static void app_setup(void) {
    fx_setup_mock_only();
    cio_client_options_t opts = fx_options();
    opts.app_api_key = TEST_APP_KEY;
    cio_status_t st = cio_client_new(&opts, &fx.client);
    cr_assert_eq(st, CIO_OK, "cio_client_new failed: %s",
                 cio_last_error() ? cio_last_error()->message : "(no error recorded)");
}

TestSuite(app, .init = app_setup, .fini = fx_teardown);

/* ---- helpers ---- */

static void expect_json(const json_t *got, const char *want_text, const char *what) {
    json_error_t jerr;
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(want, "bad expected JSON in the test (%s): %s", jerr.text, want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        cr_log_error("%s was      %s", what, g);
        cr_log_error("%s expected %s", what, w);
        free(g);
        free(w);
        json_decref(want);
        cr_assert_fail("%s differs from the expected JSON", what);
    }
    json_decref(want);
}

/*
 * Exactly one request was logged: method, raw path, raw query, the emulator's status, the Bearer
 * App key (never Basic), and a body equal to body_json as JSON (NULL = no body). Returns the
 * request (a new reference).
 */
static json_t *app_expect(const char *method, const char *path, const char *query,
                          const char *body_json, int status) {
    json_t *reqs = mock_requests_wait(1);
    if (json_array_size(reqs) != 1) {
        char *dump = json_dumps(reqs, JSON_INDENT(1));
        cr_log_error("requests: %s", dump);
        free(dump);
    }
    cr_assert_eq(json_array_size(reqs), 1, "expected exactly one request, got %zu",
                 json_array_size(reqs));
    json_t *req = json_incref(json_array_get(reqs, 0));
    json_decref(reqs);
    cr_assert_str_eq(req_str(req, "method"), method, "method");
    cr_assert_str_eq(req_str(req, "path"), path, "raw path");
    cr_assert_str_eq(req_str(req, "query"), query, "raw query");
    cr_assert_eq(req_status(req), status, "the emulator answered %d", req_status(req));
    const char *auth = req_header(req, "authorization");
    cr_assert_not_null(auth, "no Authorization header");
    cr_assert_str_eq(auth, TEST_BEARER, "Authorization header");
    if (body_json != NULL) {
        const char *ct = req_header(req, "content-type");
        cr_assert(ct && strncmp(ct, "application/json", 16) == 0, "Content-Type is \"%s\"",
                  ct ? ct : "(none)");
        json_t *body = req_body_json(req);
        expect_json(body, body_json, "request body");
        json_decref(body);
    } else {
        cr_assert_str_eq(req_str(req, "body"), "", "expected no body");
    }
    return req;
}

static void app_expect_ok(const char *method, const char *path, const char *query,
                          const char *body_json) {
    json_decref(app_expect(method, path, query, body_json, 200));
}

/* Parses the answer a call handed back (and frees it). */
static json_t *answer(char *response) {
    cr_assert_not_null(response, "no response_json handed back");
    json_error_t jerr;
    json_t *v = json_loads(response, 0, &jerr);
    cr_assert_not_null(v, "response_json is not JSON (%s): %s", jerr.text, response);
    cio_free(response);
    return v;
}

static void expect_answer(char *response, const char *want) {
    json_t *v = answer(response);
    expect_json(v, want, "answer");
    json_decref(v);
}

/* {"delivery_id": non-empty string, "queued_at": integer}. */
static void expect_delivery_answer(char *response) {
    json_t *v = answer(response);
    const char *id = json_string_value(json_object_get(v, "delivery_id"));
    cr_assert(id && *id, "answer has no delivery_id");
    cr_assert(json_is_integer(json_object_get(v, "queued_at")), "answer has no queued_at");
    json_decref(v);
}

/* A failure that sent nothing and handed back no answer. */
static void expect_rejected(cio_status_t st, char **response, const char *needle1,
                            const char *needle2) {
    expect_error(st, CIO_E_INVALID_ARGUMENT, needle1, needle2);
    cr_assert_null(*response, "response_json was set on a failure");
    expect_nothing_sent();
}

static int b64_value(char c) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Decodes padded base64 into out (room for len bytes); returns the length or -1. */
static long b64_decode(const char *text, unsigned char *out) {
    size_t len = strlen(text);
    if (len % 4 != 0)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = text[i + k] == '=' ? 0 : b64_value(text[i + k]);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
            return -1;
        unsigned long chunk = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
                              ((unsigned long)v[2] << 6) | (unsigned long)v[3];
        out[n++] = (unsigned char)(chunk >> 16);
        if (text[i + 2] != '=')
            out[n++] = (unsigned char)(chunk >> 8);
        if (text[i + 3] != '=')
            out[n++] = (unsigned char)chunk;
    }
    return n;
}

#define REQ_ID "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"42\"}"

/* ---- sends: the wire ---- */

Test(app, test_send_email_posts_request_verbatim_with_bearer_auth) {
    const char *req = "{\"transactional_message_id\":3,\"to\":\"Ann <ann@example.com>\","
                      "\"identifiers\":{\"id\":\"42\"},\"message_data\":{\"total\":23.45,"
                      "\"items\":[1,\"two\"]},\"send_at\":4102444800,\"tracked\":true,"
                      "\"disable_css_preprocessing\":false,\"headers\":{\"X-Tag\":\"a\"},"
                      "\"future_field\":{\"kept\":1}}";
    char *resp = (char *)"sentinel";
    expect_ok(cio_send_email(fx.client, req, NULL, 0, &resp));
    json_t *r = app_expect("POST", "/v1/send/email", "", req, 200);
    cr_assert_not_null(strstr(req_str(r, "body"), "23.45"), "numbers keep their spelling");
    cr_assert_null(strstr(req_str(r, "body"), "23.449"), "numbers keep their spelling");
    const char *ua = req_header(r, "user-agent");
    cr_assert(ua && *ua, "no User-Agent header");
    json_decref(r);
    expect_delivery_answer(resp);
}

Test(app, test_send_email_attachments_are_base64_on_the_wire) {
    static const unsigned char binary[] = {0x00, 0x01, 0x00, 0xff, 'a', 0x00, 0xfe};
    cio_attachment_t atts[] = {{"data.bin", binary, sizeof binary}, {"hello.txt", "hello", 5}};
    char *resp = NULL;
    expect_ok(cio_send_email(fx.client, REQ_ID "}", atts, 2, &resp));
    json_t *r = app_expect("POST", "/v1/send/email", "",
                           REQ_ID ",\"attachments\":{\"data.bin\":\"AAEA/2EA/g==\","
                                  "\"hello.txt\":\"aGVsbG8=\"}}",
                           200);
    json_t *body = req_body_json(r);
    const char *enc =
        json_string_value(json_object_get(json_object_get(body, "attachments"), "data.bin"));
    unsigned char decoded[32];
    long n = b64_decode(enc, decoded);
    cr_assert_eq(n, (long)sizeof binary, "decoded %ld bytes", n);
    cr_assert(memcmp(decoded, binary, sizeof binary) == 0, "the NUL bytes survive the trip");
    json_decref(body);
    json_decref(r);
    expect_delivery_answer(resp);
}

Test(app, test_send_email_merges_attachments_into_the_requests_own) {
    expect_ok(cio_send_email(fx.client, REQ_ID ",\"attachments\":{\"pre.txt\":\"aGk=\"} }",
                             (cio_attachment_t[]){{"empty.txt", NULL, 0}}, 1, NULL));
    app_expect_ok("POST", "/v1/send/email", "",
                  REQ_ID ",\"attachments\":{\"pre.txt\":\"aGk=\",\"empty.txt\":\"\"}}");
}

Test(app, test_send_email_attachment_into_empty_request_attachments) {
    expect_ok(cio_send_email(fx.client, REQ_ID ",\"attachments\":{ }}",
                             (cio_attachment_t[]){{"a", "hello", 5}}, 1, NULL));
    app_expect_ok("POST", "/v1/send/email", "", REQ_ID ",\"attachments\":{\"a\":\"aGVsbG8=\"}}");
}

Test(app, test_send_email_finds_only_the_top_level_attachments_key) {
    /* an escaped key still names "attachments"; one nested in message_data does not */
    expect_ok(cio_send_email(fx.client,
                             "{\n \"attach\\u006dents\" : {\"a\":\"aGk=\"} ,\n"
                             " \"transactional_message_id\":3,\"identifiers\":{\"id\":\"42\"}}",
                             (cio_attachment_t[]){{"b", "hello", 5}}, 1, NULL));
    app_expect_ok("POST", "/v1/send/email", "",
                  REQ_ID ",\"attachments\":{\"a\":\"aGk=\",\"b\":\"aGVsbG8=\"}}");
    mock_clear();
    expect_ok(cio_send_email(fx.client, REQ_ID ",\"message_data\":{\"attachments\":{}}\n}",
                             (cio_attachment_t[]){{"b", "hello", 5}}, 1, NULL));
    app_expect_ok("POST", "/v1/send/email", "",
                  REQ_ID ",\"message_data\":{\"attachments\":{}},"
                         "\"attachments\":{\"b\":\"aGVsbG8=\"}}");
}

Test(app, test_send_email_without_template_gives_body_subject_from_to) {
    const char *req = "{\"identifiers\":{\"email\":\"ann@example.com\"},\"to\":\"ann@example.com\","
                      "\"from\":\"shop@example.com\",\"subject\":\"Hi\",\"body\":\"<p>Hi</p>\"}";
    char *resp = NULL;
    expect_ok(cio_send_email(fx.client, req, NULL, 0, &resp));
    app_expect_ok("POST", "/v1/send/email", "", req);
    expect_delivery_answer(resp);
}

Test(app, test_send_push_posts_to_send_push) {
    const char *req = "{\"transactional_message_id\":\"order_shipped\",\"identifiers\":"
                      "{\"cio_id\":\"03000001\"},\"to\":\"last_used\",\"title\":\"Shipped\","
                      "\"custom_data\":{\"order\":7},\"custom_device\":{\"token\":\"t\","
                      "\"platform\":\"ios\"},\"sound\":\"default\"}";
    char *resp = NULL;
    expect_ok(cio_send_push(fx.client, req, &resp));
    app_expect_ok("POST", "/v1/send/push", "", req);
    expect_delivery_answer(resp);
}

Test(app, test_send_sms_posts_to_send_sms_with_attachment) {
    char *resp = NULL;
    expect_ok(cio_send_sms(fx.client, REQ_ID ",\"from\":\"+15551234567\"}",
                           (cio_attachment_t[]){{"card.vcf", "hello", 5}}, 1, &resp));
    app_expect_ok("POST", "/v1/send/sms", "",
                  REQ_ID ",\"from\":\"+15551234567\",\"attachments\":{\"card.vcf\":\"aGVsbG8=\"}}");
    expect_delivery_answer(resp);
}

Test(app, test_send_inbox_message_posts_to_send_inbox_message) {
    char *resp = NULL;
    expect_ok(
        cio_send_inbox_message(fx.client, REQ_ID ",\"message_data\":{\"a\":1}}", NULL, 0, &resp));
    app_expect_ok("POST", "/v1/send/inbox_message", "", REQ_ID ",\"message_data\":{\"a\":1}}");
    expect_delivery_answer(resp);
}

Test(app, test_send_in_app_posts_to_send_in_app) {
    char *resp = NULL;
    expect_ok(cio_send_in_app(fx.client, REQ_ID ",\"language\":\"fr\"}", &resp));
    app_expect_ok("POST", "/v1/send/in_app", "", REQ_ID ",\"language\":\"fr\"}");
    expect_delivery_answer(resp);
}

Test(app, test_send_whatsapp_posts_to_send_whatsapp_with_attachment) {
    char *resp = NULL;
    expect_ok(cio_send_whatsapp(fx.client, REQ_ID ",\"to\":\"+15551234567\"}",
                                (cio_attachment_t[]){{"receipt.pdf", "hello", 5}}, 1, &resp));
    app_expect_ok("POST", "/v1/send/whatsapp", "",
                  REQ_ID ",\"to\":\"+15551234567\",\"attachments\":{\"receipt.pdf\":"
                         "\"aGVsbG8=\"}}");
    expect_delivery_answer(resp);
}

Test(app, test_send_accepts_integer_identifiers_and_null_response) {
    expect_ok(cio_send_push(fx.client,
                            "{\"transactional_message_id\":1,\"identifiers\":{\"id\":42}}", NULL));
    app_expect_ok("POST", "/v1/send/push", "",
                  "{\"transactional_message_id\":1,\"identifiers\":{\"id\":42}}");
}

Test(app, test_trigger_broadcast_posts_to_campaign_triggers) {
    char *resp = NULL;
    const char *req = "{\"ids\":[\"1\",\"2\"],\"data\":{\"headline\":\"Sale\"},"
                      "\"id_ignore_missing\":true}";
    expect_ok(cio_trigger_broadcast(fx.client, "12", req, &resp));
    app_expect_ok("POST", "/v1/campaigns/12/triggers", "", req);
    expect_answer(resp, "{\"id\":1}");
    mock_clear();
    expect_ok(cio_trigger_broadcast(fx.client, "12", NULL, &resp));
    app_expect_ok("POST", "/v1/campaigns/12/triggers", "", "{}");
    expect_answer(resp, "{\"id\":2}");
}

/* ---- sends: validation sends nothing ---- */

Test(app, test_send_without_identifiers_is_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_email(fx.client, "{\"transactional_message_id\":3}", NULL, 0, &resp),
                    &resp, "send_email: identifiers is missing", NULL);
}

Test(app, test_send_with_two_identifiers_is_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_email(fx.client,
                                   "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"1\","
                                   "\"email\":\"a@b.c\"}}",
                                   NULL, 0, &resp),
                    &resp, "send_email: identifiers must have exactly one of id, email, cio_id",
                    NULL);
}

Test(app, test_send_with_unknown_or_empty_identifier_is_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_sms(fx.client,
                                 "{\"transactional_message_id\":3,\"identifiers\":{\"phone\":"
                                 "\"+1555\"}}",
                                 NULL, 0, &resp),
                    &resp, "send_sms: identifiers must have exactly one of id, email, cio_id",
                    NULL);
    expect_rejected(cio_send_sms(fx.client,
                                 "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"\"}}",
                                 NULL, 0, &resp),
                    &resp, "send_sms: identifiers.id is empty", NULL);
    expect_rejected(cio_send_sms(fx.client,
                                 "{\"transactional_message_id\":3,\"identifiers\":{\"email\":7}}",
                                 NULL, 0, &resp),
                    &resp, "identifiers.email must be a string", NULL);
    expect_rejected(cio_send_sms(fx.client,
                                 "{\"transactional_message_id\":3,\"identifiers\":{\"id\":"
                                 "\"a\\r\\nb\"}}",
                                 NULL, 0, &resp),
                    &resp, "identifiers.id contains a control character", NULL);
}

Test(app, test_send_without_transactional_message_id_is_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_push(fx.client, "{\"identifiers\":{\"id\":\"1\"}}", &resp), &resp,
                    "send_push: transactional_message_id is missing", NULL);
    expect_rejected(cio_send_email(fx.client,
                                   "{\"identifiers\":{\"id\":\"1\"},\"body\":\"b\","
                                   "\"from\":\"f@x.y\",\"to\":\"t@x.y\"}",
                                   NULL, 0, &resp),
                    &resp, "send_email: transactional_message_id is missing", "subject");
    expect_rejected(cio_send_in_app(fx.client,
                                    "{\"transactional_message_id\":true,\"identifiers\":"
                                    "{\"id\":\"1\"}}",
                                    &resp),
                    &resp, "transactional_message_id must be a string or an integer", NULL);
    expect_rejected(cio_send_in_app(fx.client,
                                    "{\"transactional_message_id\":0,\"identifiers\":"
                                    "{\"id\":\"1\"}}",
                                    &resp),
                    &resp, "transactional_message_id must be a positive integer", NULL);
}

Test(app, test_send_with_non_object_request_is_rejected) {
    char *resp = (char *)"sentinel";
    expect_rejected(cio_send_whatsapp(fx.client, "[1,2]", NULL, 0, &resp), &resp,
                    "send_whatsapp: request must be a JSON object (got array)", NULL);
    expect_rejected(cio_send_whatsapp(fx.client, "{\"a\":", NULL, 0, &resp), &resp,
                    "send_whatsapp: request is not valid JSON", NULL);
    expect_rejected(cio_send_whatsapp(fx.client, NULL, NULL, 0, &resp), &resp,
                    "send_whatsapp: request is missing", NULL);
    expect_rejected(cio_send_whatsapp(fx.client, "{\"a\":\"\xff\"}", NULL, 0, &resp), &resp,
                    "send_whatsapp: request is not valid UTF-8", NULL);
    expect_rejected(
        cio_send_whatsapp(fx.client, REQ_ID ",\"to\":\"a\",\"to\":\"b\"}", NULL, 0, &resp), &resp,
        "request is not valid JSON", "duplicate");
}

Test(app, test_send_with_wrong_field_types_is_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_email(fx.client, REQ_ID ",\"message_data\":\"x\"}", NULL, 0, &resp),
                    &resp, "send_email: message_data must be a JSON object (got string)", NULL);
    expect_rejected(cio_send_email(fx.client, REQ_ID ",\"send_at\":-1}", NULL, 0, &resp), &resp,
                    "send_email: send_at must be an integer >= 0", NULL);
    expect_rejected(cio_send_email(fx.client, REQ_ID ",\"headers\":{\"X\":1}}", NULL, 0, &resp),
                    &resp, "send_email: headers must be a JSON object of strings", NULL);
    expect_rejected(cio_send_push(fx.client, REQ_ID ",\"to\":5}", &resp), &resp,
                    "send_push: to must be a string (got number)", NULL);
    expect_rejected(cio_send_sms(fx.client, REQ_ID ",\"queue_draft\":\"yes\"}", NULL, 0, &resp),
                    &resp, "send_sms: queue_draft must be a boolean", NULL);
}

Test(app, test_send_attachment_name_clashes_are_rejected) {
    char *resp = NULL;
    expect_rejected(cio_send_email(fx.client, REQ_ID ",\"attachments\":{\"a.txt\":\"aGk=\"}}",
                                   (cio_attachment_t[]){{"a.txt", "x", 1}}, 1, &resp),
                    &resp, "send_email: attachment \"a.txt\" is also in the request's attachments",
                    NULL);
    expect_rejected(cio_send_email(fx.client, REQ_ID "}",
                                   (cio_attachment_t[]){{"a.txt", "x", 1}, {"a.txt", "y", 1}}, 2,
                                   &resp),
                    &resp, "send_email: attachment \"a.txt\" is given twice", NULL);
    expect_rejected(
        cio_send_email(fx.client, REQ_ID "}", (cio_attachment_t[]){{"", "x", 1}}, 1, &resp), &resp,
        "send_email: attachments[0].name is empty", NULL);
    expect_rejected(cio_send_email(fx.client, REQ_ID "}",
                                   (cio_attachment_t[]){{"ok", "x", 1}, {"a\nb", "x", 1}}, 2,
                                   &resp),
                    &resp, "send_email: attachments[1].name contains a control character", NULL);
    expect_rejected(
        cio_send_email(fx.client, REQ_ID "}", (cio_attachment_t[]){{"a", NULL, 3}}, 1, &resp),
        &resp, "send_email: attachments[0].data is NULL", NULL);
    expect_rejected(cio_send_email(fx.client, REQ_ID ",\"attachments\":[]}", NULL, 0, &resp), &resp,
                    "send_email: attachments must be a JSON object of strings (got array)", NULL);
}

Test(app, test_trigger_broadcast_validation_sends_nothing) {
    char *resp = NULL;
    expect_rejected(
        cio_trigger_broadcast(fx.client, "12", "{\"ids\":[\"1\"],\"emails\":[]}", &resp), &resp,
        "trigger_broadcast: only one of recipients", "got emails and ids");
    expect_rejected(cio_trigger_broadcast(fx.client, "", NULL, &resp), &resp,
                    "trigger_broadcast: broadcast_id is empty", NULL);
    expect_rejected(cio_trigger_broadcast(fx.client, "1\r\n2", NULL, &resp), &resp,
                    "trigger_broadcast: broadcast_id contains a control character", NULL);
    expect_rejected(cio_trigger_broadcast(fx.client, "12", "{\"data\":[1]}", &resp), &resp,
                    "trigger_broadcast: data must be a JSON object (got array)", NULL);
}

/* ---- credentials, status codes, region ---- */

Test(app, test_missing_app_key_fails_with_config_naming_app_api_key) {
    cio_client_options_t opts = fx_options(); /* no app_api_key, environment ignored */
    cio_client_t *c = fx_client(&opts);
    char *resp = NULL;
    expect_error(cio_send_email(c, REQ_ID "}", NULL, 0, &resp), CIO_E_CONFIG, "send_email",
                 "app_api_key");
    expect_error(cio_segments_list(c, &resp), CIO_E_CONFIG, "segments_list", "app_api_key");
    cr_assert_null(resp);
    expect_nothing_sent();
}

Test(app, test_wrong_app_key_fails_with_auth_401) {
    cio_client_options_t opts = fx_options();
    opts.app_api_key = "not-the-key";
    cio_client_t *c = fx_client(&opts);
    char *resp = NULL;
    expect_error(cio_customers_get_attributes(c, CIO_ID_TYPE_ID, "1", &resp), CIO_E_AUTH,
                 "customers_get_attributes: HTTP 401", "Unauthorized request");
    cr_assert_null(resp);
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->http_status, 401);
    cr_assert_not_null(e->response_body);
    cr_assert_not_null(strstr(e->response_body, "\"meta\""), "body: %s", e->response_body);
    cr_assert_null(strstr(e->message, "not-the-key"), "the key leaked into the message");
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1, "401 is not retried");
    cr_assert_str_eq(req_header(json_array_get(reqs, 0), "authorization"), "Bearer not-the-key");
    json_decref(reqs);
}

Test(app, test_unknown_customer_is_not_found) {
    char *resp = (char *)"sentinel";
    expect_error(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_ID, "nobody", &resp),
                 CIO_E_NOT_FOUND, "customers_get_attributes: HTTP 404", "customer not found");
    cr_assert_null(resp);
    json_decref(app_expect("GET", "/v1/customers/nobody/attributes", "id_type=id", NULL, 404));
}

/*
 * Without app_url the region picks the host. Nothing here may reach Customer.io, so the test
 * routes HTTPS through the emulator as a proxy: the CONNECT request it logs names the host.
 */
static void expect_region_host(cio_region_t region, const char *host_port) {
    cr_assert_eq(setenv("https_proxy", fx.base_url, 1), 0);
    cr_assert_eq(setenv("HTTPS_PROXY", fx.base_url, 1), 0);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    cio_client_options_t opts = fx_options();
    opts.app_url = NULL;
    opts.region = region;
    opts.app_api_key = TEST_APP_KEY;
    opts.max_attempts = 1;
    cio_client_t *c = fx_client(&opts);
    char *resp = NULL;
    cio_status_t st = cio_segments_list(c, &resp);
    cr_assert_neq(st, CIO_OK, "the proxy refuses the tunnel, so the call must fail");
    cr_assert_null(resp);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1, "expected one CONNECT through the emulator");
    json_t *r = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(r, "method"), "CONNECT");
    cr_assert_str_eq(req_str(r, "path"), host_port);
    cr_assert_null(req_header(r, "authorization"), "the key must not reach the proxy");
    json_decref(reqs);
}

Test(app, test_eu_region_uses_api_eu_host) {
    expect_region_host(CIO_REGION_EU, "api-eu.customer.io:443");
}

Test(app, test_us_region_uses_api_host) {
    expect_region_host(CIO_REGION_US, "api.customer.io:443");
}

Test(app, test_async_call_leaves_response_null_and_completes_with_the_answer) {
    cio_queue_t *q = NULL;
    expect_ok(cio_queue_new(&q));
    expect_ok(cio_async_next(q, 7));
    char *resp = (char *)"sentinel";
    expect_ok(cio_send_push(fx.client, REQ_ID "}", &resp));
    cr_assert_null(resp, "an asynchronous call hands no answer back directly");
    cio_completion_t *c = NULL;
    for (int i = 0; i < 300 && c == NULL; i++) {
        expect_ok(cio_queue_poll(q, &c));
        if (c == NULL) {
            struct timespec ts = {0, 10000000L};
            nanosleep(&ts, NULL);
        }
    }
    cr_assert_not_null(c, "no completion");
    cr_assert_eq(c->token, 7);
    cr_assert_eq(c->status, CIO_OK);
    cr_assert_not_null(c->response);
    cr_assert_not_null(strstr(c->response, "delivery_id"), "completion: %s", c->response);
    cio_completion_free(c);
    cio_queue_free(q);
}

/* ---- customers ---- */

Test(app, test_identify_then_get_attributes_returns_them) {
    expect_ok(cio_identify(fx.client, "42",
                           "{\"email\":\"ann@example.com\",\"plan\":\"pro\",\"seats\":3}"));
    mock_clear();
    char *resp = NULL;
    expect_ok(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_ID, "42", &resp));
    app_expect_ok("GET", "/v1/customers/42/attributes", "id_type=id", NULL);
    json_t *v = answer(resp);
    json_t *customer = json_object_get(v, "customer");
    cr_assert_str_eq(json_string_value(json_object_get(customer, "id")), "42");
    json_t *attrs = json_object_get(customer, "attributes");
    cr_assert_str_eq(json_string_value(json_object_get(attrs, "plan")), "pro");
    cr_assert_eq(json_integer_value(json_object_get(attrs, "seats")), 3);
    json_t *ids = json_object_get(customer, "identifiers");
    cr_assert_str_eq(json_string_value(json_object_get(ids, "email")), "ann@example.com");
    const char *cio_id = json_string_value(json_object_get(ids, "cio_id"));
    cr_assert(cio_id && *cio_id, "no cio_id");
    cr_assert(json_is_integer(json_object_get(json_object_get(customer, "timestamps"), "plan")));
    json_decref(v);

    /* a second identify merges; email and cio_id reach the same person */
    expect_ok(cio_identify(fx.client, "42", "{\"plan\":\"team\",\"_update\":true}"));
    expect_ok(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_EMAIL, "ANN@example.com", &resp));
    v = answer(resp);
    attrs = json_object_get(json_object_get(v, "customer"), "attributes");
    cr_assert_str_eq(json_string_value(json_object_get(attrs, "plan")), "team");
    cr_assert_eq(json_integer_value(json_object_get(attrs, "seats")), 3);
    cr_assert_null(json_object_get(attrs, "_update"));
    json_decref(v);
}

Test(app, test_get_attributes_percent_encodes_id_and_sends_id_type) {
    expect_ok(cio_identify(fx.client, "cio_ab/1", "{\"x\":1}"));
    mock_clear();
    char *resp = NULL;
    expect_ok(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_CIO_ID, "ab/1", &resp));
    app_expect_ok("GET", "/v1/customers/ab%2F1/attributes", "id_type=cio_id", NULL);
    json_t *v = answer(resp);
    cr_assert_eq(json_integer_value(json_object_get(
                     json_object_get(json_object_get(v, "customer"), "attributes"), "x")),
                 1);
    json_decref(v);
}

Test(app, test_get_by_email_queries_email) {
    expect_ok(cio_identify(fx.client, "7", "{\"email\":\"a+b@example.com\"}"));
    mock_clear();
    char *resp = NULL;
    expect_ok(cio_customers_get_by_email(fx.client, "a+b@example.com", &resp));
    app_expect_ok("GET", "/v1/customers", "email=a%2Bb%40example.com", NULL);
    json_t *v = answer(resp);
    json_t *first = json_array_get(json_object_get(v, "results"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(first, "id")), "7");
    cr_assert_str_eq(json_string_value(json_object_get(first, "email")), "a+b@example.com");
    json_decref(v);
}

Test(app, test_get_by_ids_posts_ids) {
    expect_ok(cio_identify(fx.client, "1", "{\"n\":1}"));
    mock_clear();
    const char *ids[] = {"1", "missing"};
    char *resp = NULL;
    expect_ok(cio_customers_get_by_ids(fx.client, CIO_ID_TYPE_ID, ids, 2, &resp));
    app_expect_ok("POST", "/v1/customers/attributes", "id_type=id",
                  "{\"ids\":[\"1\",\"missing\"]}");
    json_t *v = answer(resp);
    json_t *customers = json_object_get(v, "customers");
    cr_assert_eq(json_array_size(customers), 1, "unknown ids are left out");
    json_decref(v);
}

Test(app, test_search_posts_filter_with_page) {
    expect_ok(cio_identify(fx.client, "1", "{\"plan\":\"pro\"}"));
    expect_ok(cio_identify(fx.client, "2", "{\"plan\":\"free\"}"));
    expect_ok(cio_identify(fx.client, "3", "{\"plan\":\"pro\"}"));
    mock_clear();
    const char *filter = "{\"and\":[{\"attribute\":{\"field\":\"plan\",\"operator\":\"eq\","
                         "\"value\":\"pro\"}},{\"segment\":{\"id\":1}}]}";
    cio_page_t page = CIO_PAGE_INIT;
    page.limit = 1;
    char *resp = NULL;
    expect_ok(cio_customers_search(fx.client, filter, &page, &resp));
    char body[512];
    snprintf(body, sizeof body, "{\"filter\":%s}", filter);
    app_expect_ok("POST", "/v1/customers", "limit=1", body);
    expect_answer(resp, "{\"identifiers\":[{\"id\":\"1\",\"email\":null,\"cio_id\":\"03000001\"}],"
                        "\"ids\":[\"1\"],\"next\":\"1\"}");
    mock_clear();
    page.start = "1";
    page.limit = 10;
    expect_ok(cio_customers_search(fx.client, filter, &page, &resp));
    app_expect_ok("POST", "/v1/customers", "start=1&limit=10", body);
    expect_answer(resp, "{\"identifiers\":[{\"id\":\"3\",\"email\":null,\"cio_id\":\"03000003\"}],"
                        "\"ids\":[\"3\"],\"next\":\"\"}");
}

Test(app, test_search_requires_a_filter_object) {
    char *resp = NULL;
    expect_rejected(cio_customers_search(fx.client, NULL, NULL, &resp), &resp,
                    "customers_search: filter is missing", NULL);
    expect_rejected(cio_customers_search(fx.client, "[]", NULL, &resp), &resp,
                    "customers_search: filter must be a JSON object", NULL);
    cio_page_t page = CIO_PAGE_INIT;
    page.limit = -1;
    expect_rejected(cio_customers_search(fx.client, "{}", &page, &resp), &resp,
                    "customers_search: page.limit is negative", NULL);
    page.limit = 0;
    page.version = 0;
    expect_rejected(cio_customers_search(fx.client, "{}", &page, &resp), &resp,
                    "page.version 0 is not supported", NULL);
}

Test(app, test_customer_segments_messages_activities) {
    expect_ok(cio_identify(fx.client, "42", "{\"vip\":true}"));
    expect_ok(cio_send_email(fx.client, REQ_ID "}", NULL, 0, NULL));
    mock_clear();
    char *resp = NULL;

    expect_ok(cio_customers_get_segments(fx.client, CIO_ID_TYPE_ID, "42", &resp));
    app_expect_ok("GET", "/v1/customers/42/segments", "id_type=id", NULL);
    json_t *v = answer(resp);
    cr_assert_eq(json_array_size(json_object_get(v, "segments")), 2, "All people and VIP");
    json_decref(v);

    mock_clear();
    cio_page_t page = CIO_PAGE_INIT;
    page.limit = 5;
    expect_ok(
        cio_customers_get_messages(fx.client, CIO_ID_TYPE_ID, "42", &page, 1, 4102444800, &resp));
    app_expect_ok("GET", "/v1/customers/42/messages",
                  "id_type=id&limit=5&start_ts=1&end_ts=4102444800", NULL);
    v = answer(resp);
    json_t *msg = json_array_get(json_object_get(v, "messages"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(msg, "type")), "email");
    cr_assert_eq(json_integer_value(json_object_get(msg, "transactional_message_id")), 3);
    json_decref(v);

    mock_clear();
    expect_ok(cio_customers_get_activities(fx.client, CIO_ID_TYPE_ID, "42", NULL,
                                           "attribute_change", "vip", &resp));
    app_expect_ok("GET", "/v1/customers/42/activities", "id_type=id&type=attribute_change&name=vip",
                  NULL);
    v = answer(resp);
    cr_assert_eq(json_array_size(json_object_get(v, "activities")), 1);
    json_decref(v);
}

Test(app, test_customer_relationships_and_subscription_preferences) {
    expect_ok(cio_identify(fx.client, "a b", "{}"));
    mock_clear();
    char *resp = NULL;
    cio_page_t page = {CIO_PAGE_VERSION, "0", 20};
    expect_ok(cio_customers_get_relationships(fx.client, CIO_ID_TYPE_ID, "a b", &page, &resp));
    app_expect_ok("GET", "/v1/customers/a%20b/relationships", "id_type=id&start=0&limit=20", NULL);
    expect_answer(resp, "{\"cio_relationships\":[],\"next\":\"\"}");
    mock_clear();
    expect_ok(cio_customers_get_subscription_preferences(fx.client, CIO_ID_TYPE_ID, "a b", "pt-BR",
                                                         &resp));
    app_expect_ok("GET", "/v1/customers/a%20b/subscription_preferences",
                  "id_type=id&language=pt-BR", NULL);
    json_t *v = answer(resp);
    json_t *topic = json_array_get(json_object_get(json_object_get(v, "customer"), "topics"), 0);
    cr_assert(json_is_true(json_object_get(topic, "subscribed")));
    json_decref(v);
}

Test(app, test_page_start_is_percent_encoded) {
    cio_page_t page = {CIO_PAGE_VERSION, "a b/c+d", 0};
    char *resp = NULL;
    expect_error(cio_segments_membership(fx.client, "1", &page, &resp), CIO_E_BAD_REQUEST,
                 "invalid start token", NULL);
    json_decref(app_expect("GET", "/v1/segments/1/membership", "start=a%20b%2Fc%2Bd", NULL, 400));
}

Test(app, test_customer_reads_reject_bad_ids_and_send_nothing) {
    char *resp = NULL;
    expect_rejected(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_ID, "", &resp), &resp,
                    "customers_get_attributes: customer_id is empty", NULL);
    expect_rejected(cio_customers_get_attributes(fx.client, CIO_ID_TYPE_ID, "a\r\nb", &resp), &resp,
                    "customer_id contains a control character", NULL);
    char *long_id = repeat_char('x', 151);
    expect_rejected(cio_customers_get_segments(fx.client, CIO_ID_TYPE_ID, long_id, &resp), &resp,
                    "customers_get_segments: customer_id is 151 bytes long", NULL);
    free(long_id);
    expect_rejected(cio_customers_get_messages(fx.client, (cio_id_type_t)9, "1", NULL, 0, 0, &resp),
                    &resp, "customers_get_messages: id_type is not id, email or cio_id", NULL);
    expect_rejected(cio_customers_get_messages(fx.client, CIO_ID_TYPE_ID, "1", NULL, -1, 0, &resp),
                    &resp, "customers_get_messages: start_ts is negative", NULL);
    expect_rejected(cio_customers_get_by_email(fx.client, "a@b\n", &resp), &resp,
                    "customers_get_by_email: email contains a control character", NULL);
    const char *ids[] = {"1", "a\rb"};
    expect_rejected(cio_customers_get_by_ids(fx.client, CIO_ID_TYPE_ID, ids, 2, &resp), &resp,
                    "customers_get_by_ids: ids[1] contains a control character", NULL);
    expect_rejected(cio_customers_get_by_ids(fx.client, CIO_ID_TYPE_ID, ids, 0, &resp), &resp,
                    "customers_get_by_ids: ids is empty", NULL);
    expect_rejected(cio_customers_get_by_ids(fx.client, CIO_ID_TYPE_ID, ids, 101, &resp), &resp,
                    "101 ids given, over the limit of 100", NULL);
    cio_page_t page = {CIO_PAGE_VERSION, "a\nb", 0};
    expect_rejected(cio_customers_get_relationships(fx.client, CIO_ID_TYPE_ID, "1", &page, &resp),
                    &resp, "customers_get_relationships: page.start contains a control character",
                    NULL);
}

/* ---- segments ---- */

Test(app, test_segments_list_get_create_delete) {
    char *resp = NULL;
    expect_ok(cio_segments_list(fx.client, &resp));
    app_expect_ok("GET", "/v1/segments", "", NULL);
    json_t *v = answer(resp);
    cr_assert_eq(json_array_size(json_object_get(v, "segments")), 2);
    json_decref(v);

    mock_clear();
    expect_ok(cio_segments_get(fx.client, "2", &resp));
    app_expect_ok("GET", "/v1/segments/2", "", NULL);
    v = answer(resp);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "segment"), "name")),
                     "VIP");
    json_decref(v);

    mock_clear();
    expect_ok(cio_segments_create(fx.client, "Beta \"testers\"", "From the app", &resp));
    app_expect_ok("POST", "/v1/segments", "",
                  "{\"segment\":{\"name\":\"Beta \\\"testers\\\"\",\"description\":"
                  "\"From the app\"}}");
    v = answer(resp);
    json_t *created = json_object_get(v, "segment");
    cr_assert_eq(json_integer_value(json_object_get(created, "id")), 100);
    cr_assert_str_eq(json_string_value(json_object_get(created, "type")), "manual");
    json_decref(v);

    mock_clear();
    expect_ok(cio_segments_create(fx.client, "No description", NULL, NULL));
    app_expect_ok("POST", "/v1/segments", "", "{\"segment\":{\"name\":\"No description\"}}");

    mock_clear();
    expect_ok(cio_segments_delete(fx.client, "100", &resp));
    json_decref(app_expect("DELETE", "/v1/segments/100", "", NULL, 204));
    expect_answer(resp, "{}");

    mock_clear();
    expect_error(cio_segments_get(fx.client, "100", &resp), CIO_E_NOT_FOUND, "segments_get",
                 "segment not found");
    cr_assert_null(resp);
}

Test(app, test_segment_count_membership_used_by) {
    expect_ok(cio_identify(fx.client, "1", "{\"vip\":true}"));
    expect_ok(cio_identify(fx.client, "2", "{\"vip\":false}"));
    expect_ok(cio_identify(fx.client, "3", "{\"vip\":true}"));
    mock_clear();
    char *resp = NULL;
    expect_ok(cio_segments_customer_count(fx.client, "2", &resp));
    app_expect_ok("GET", "/v1/segments/2/customer_count", "", NULL);
    expect_answer(resp, "{\"count\":2}");

    mock_clear();
    cio_page_t page = CIO_PAGE_INIT;
    page.limit = 2;
    expect_ok(cio_segments_membership(fx.client, "1", &page, &resp));
    app_expect_ok("GET", "/v1/segments/1/membership", "limit=2", NULL);
    json_t *v = answer(resp);
    expect_json(json_object_get(v, "ids"), "[\"1\",\"2\"]", "ids");
    cr_assert_str_eq(json_string_value(json_object_get(v, "next")), "2");
    json_decref(v);

    mock_clear();
    page.start = "2";
    expect_ok(cio_segments_membership(fx.client, "1", &page, &resp));
    app_expect_ok("GET", "/v1/segments/1/membership", "start=2&limit=2", NULL);
    v = answer(resp);
    expect_json(json_object_get(v, "ids"), "[\"3\"]", "ids");
    cr_assert_str_eq(json_string_value(json_object_get(v, "next")), "");
    json_decref(v);

    mock_clear();
    expect_ok(cio_segments_used_by(fx.client, "1", &resp));
    app_expect_ok("GET", "/v1/segments/1/used_by", "", NULL);
    v = answer(resp);
    cr_assert(json_is_object(json_object_get(v, "used_by")));
    json_decref(v);
}

Test(app, test_segment_ids_are_validated_and_encoded) {
    char *resp = NULL;
    expect_rejected(cio_segments_get(fx.client, "1\n", &resp), &resp,
                    "segments_get: segment_id contains a control character", NULL);
    expect_rejected(cio_segments_create(fx.client, "", NULL, &resp), &resp,
                    "segments_create: name is empty", NULL);
    expect_error(cio_segments_delete(fx.client, "a/b", &resp), CIO_E_NOT_FOUND, NULL, NULL);
    json_decref(app_expect("DELETE", "/v1/segments/a%2Fb", "", NULL, 404));
}

/* ---- transactional templates ---- */

Test(app, test_transactional_list_get_variants) {
    char *resp = NULL;
    expect_ok(cio_transactional_list(fx.client, &resp));
    app_expect_ok("GET", "/v1/transactional", "", NULL);
    json_t *v = answer(resp);
    cr_assert_eq(json_array_size(json_object_get(v, "messages")), 2);
    json_decref(v);

    mock_clear();
    expect_ok(cio_transactional_get(fx.client, "1", &resp));
    app_expect_ok("GET", "/v1/transactional/1", "", NULL);
    v = answer(resp);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "message"), "name")),
                     "Password reset");
    json_decref(v);

    mock_clear();
    expect_ok(cio_transactional_list_variants(fx.client, "1", &resp));
    app_expect_ok("GET", "/v1/transactional/1/contents", "", NULL);
    v = answer(resp);
    cr_assert_eq(json_array_size(json_object_get(v, "contents")), 2);
    json_decref(v);

    mock_clear();
    expect_ok(cio_transactional_get_variant(fx.client, "1", "fr", &resp));
    app_expect_ok("GET", "/v1/transactional/1/language/fr", "", NULL);
    v = answer(resp);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(v, "content"), "id")), 12);
    json_decref(v);

    mock_clear();
    expect_error(cio_transactional_get(fx.client, "99", &resp), CIO_E_NOT_FOUND,
                 "transactional_get", "transactional message not found");
    cr_assert_null(resp);
}

Test(app, test_transactional_updates_put_content_verbatim) {
    const char *content = "{\"subject\":\"New subject\",\"from_id\":1,\"headers\":[{\"name\":"
                          "\"X-Tag\",\"value\":\"t\"}],\"body\":\"<p>1.50</p>\"}";
    char *resp = NULL;
    expect_ok(cio_transactional_update_content(fx.client, "1", "11", content, &resp));
    app_expect_ok("PUT", "/v1/transactional/1/content/11", "", content);
    json_t *v = answer(resp);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "content"), "subject")),
                     "New subject");
    json_decref(v);

    mock_clear();
    expect_ok(
        cio_transactional_update_variant(fx.client, "1", "fr", "{\"subject\":\"Sujet\"}", &resp));
    app_expect_ok("PUT", "/v1/transactional/1/language/fr", "", "{\"subject\":\"Sujet\"}");
    v = answer(resp);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "content"), "subject")),
                     "Sujet");
    json_decref(v);

    mock_clear();
    expect_rejected(
        cio_transactional_update_content(fx.client, "1", "11", "{\"from_id\":\"x\"}", &resp), &resp,
        "transactional_update_content: content.from_id must be an integer", NULL);
    expect_rejected(cio_transactional_update_variant(fx.client, "1", "", "{}", &resp), &resp,
                    "transactional_update_variant: language is empty", NULL);
    expect_rejected(cio_transactional_update_variant(fx.client, "1", "fr", NULL, &resp), &resp,
                    "transactional_update_variant: content is missing", NULL);
}

Test(app, test_transactional_metrics_and_link_metrics) {
    expect_ok(cio_send_email(fx.client,
                             "{\"transactional_message_id\":1,\"identifiers\":{\"id\":\"9\"}}",
                             NULL, 0, NULL));
    mock_clear();
    char *resp = NULL;
    expect_ok(cio_transactional_metrics(fx.client, "1", "weeks", 12, &resp));
    app_expect_ok("GET", "/v1/transactional/1/metrics", "period=weeks&steps=12", NULL);
    json_t *v = answer(resp);
    json_t *sent = json_object_get(json_object_get(json_object_get(v, "metric"), "series"), "sent");
    cr_assert_eq(json_array_size(sent), 12);
    cr_assert_eq(json_integer_value(json_array_get(sent, 11)), 1, "the one delivery sent");
    json_decref(v);

    mock_clear();
    expect_ok(cio_transactional_metrics(fx.client, "1", NULL, 0, NULL));
    app_expect_ok("GET", "/v1/transactional/1/metrics", "", NULL);

    mock_clear();
    expect_ok(cio_transactional_link_metrics(fx.client, "1", "hours", 24, 1, &resp));
    app_expect_ok("GET", "/v1/transactional/1/metrics/links", "period=hours&steps=24&unique=true",
                  NULL);
    v = answer(resp);
    cr_assert(json_is_array(json_object_get(v, "links")));
    json_decref(v);

    mock_clear();
    expect_rejected(cio_transactional_metrics(fx.client, "1", "years", 0, &resp), &resp,
                    "transactional_metrics: period must be", NULL);
    expect_rejected(cio_transactional_link_metrics(fx.client, "1", NULL, -2, 0, &resp), &resp,
                    "transactional_link_metrics: steps is negative", NULL);
}

Test(app, test_transactional_deliveries_sends_every_filter) {
    expect_ok(cio_send_email(fx.client,
                             "{\"transactional_message_id\":\"1\",\"identifiers\":{\"id\":\"9\"},"
                             "\"to\":\"x@example.com\"}",
                             NULL, 0, NULL));
    mock_clear();
    cio_page_t page = {CIO_PAGE_VERSION, "0", 50};
    cio_delivery_filter_t filter = CIO_DELIVERY_FILTER_INIT;
    filter.metric = "delivered";
    filter.state = "sent";
    filter.start_ts = 1609957805;
    filter.end_ts = 4102444800;
    filter.tracked_responses = 1;
    char *resp = NULL;
    expect_ok(cio_transactional_deliveries(fx.client, "1", &page, &filter, &resp));
    app_expect_ok("GET", "/v1/transactional/1/messages",
                  "start=0&limit=50&metric=delivered&state=sent&start_ts=1609957805"
                  "&end_ts=4102444800&get_tracked_responses=true",
                  NULL);
    json_t *v = answer(resp);
    json_t *msg = json_array_get(json_object_get(v, "messages"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(msg, "recipient")), "x@example.com");
    json_decref(v);

    mock_clear();
    expect_ok(cio_transactional_deliveries(fx.client, "1", NULL, NULL, NULL));
    app_expect_ok("GET", "/v1/transactional/1/messages", "", NULL);

    mock_clear();
    filter.version = 2;
    expect_rejected(cio_transactional_deliveries(fx.client, "1", NULL, &filter, &resp), &resp,
                    "filter.version 2 is not supported", NULL);
}

Test(app, test_false_query_flags_are_sent_as_false) {
    char *resp = NULL;
    expect_ok(cio_transactional_link_metrics(fx.client, "1", NULL, 0, CIO_FLAG_FALSE, &resp));
    app_expect_ok("GET", "/v1/transactional/1/metrics/links", "unique=false", NULL);
    cio_free(resp);
    mock_clear();
    expect_ok(cio_transactional_link_metrics(fx.client, "1", NULL, 0, CIO_FLAG_UNSET, NULL));
    app_expect_ok("GET", "/v1/transactional/1/metrics/links", "", NULL);

    mock_clear();
    cio_delivery_filter_t filter = CIO_DELIVERY_FILTER_INIT;
    filter.tracked_responses = CIO_FLAG_FALSE;
    expect_ok(cio_transactional_deliveries(fx.client, "1", NULL, &filter, NULL));
    app_expect_ok("GET", "/v1/transactional/1/messages", "get_tracked_responses=false", NULL);
    mock_clear();
    filter.tracked_responses = CIO_FLAG_TRUE;
    expect_ok(cio_transactional_deliveries(fx.client, "1", NULL, &filter, NULL));
    app_expect_ok("GET", "/v1/transactional/1/messages", "get_tracked_responses=true", NULL);

    mock_clear();
    filter.tracked_responses = -1;
    expect_rejected(cio_transactional_deliveries(fx.client, "1", NULL, &filter, &resp), &resp,
                    "transactional_deliveries: filter.tracked_responses must be CIO_FLAG_UNSET",
                    "not -1");
    expect_rejected(cio_transactional_link_metrics(fx.client, "1", NULL, 0, 3, &resp), &resp,
                    "transactional_link_metrics: unique must be", "not 3");
}
