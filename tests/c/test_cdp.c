/*
 * The Pipelines API: the bytes of every call (path, Basic key-only auth, JSON shape, messageId
 * and timestamp format, context.library), validation before sending, /v1/batch split at 500 KB,
 * the pipeline's Pipelines sink delivering N messages as N distinct messageIds, and the
 * emulator's own answers to raw /v1 requests (each check, its error text, identify feeding the
 * profiles).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(cdp, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

/* "2026-11-23T13:45:07.123Z" */
static bool is_iso_ms_utc(const char *s) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s == NULL || strlen(s) != strlen(shape))
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

/* The one logged request: method POST, the path, Basic key-only auth; returns its body. */
static json_t *one_cdp_message(const char *path) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1, "expected one request, got %zu", json_array_size(reqs));
    json_t *req = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(req, "method"), "POST");
    cr_assert_str_eq(req_str(req, "path"), path);
    cr_assert_str_eq(req_header(req, "authorization"), TEST_CDP_AUTH);
    cr_assert_str_eq(req_header(req, "content-type"), "application/json");
    cr_assert_eq(req_status(req), 200, "the emulator answered %d", req_status(req));
    json_t *body = req_body_json(req);
    json_decref(reqs);
    return body;
}

/* The fields the core adds, then the rest compared with want (without them). */
static void expect_completed(json_t *msg, const char *want_rest) {
    cr_assert(is_ulid(json_string_value(json_object_get(msg, "messageId"))));
    cr_assert(is_iso_ms_utc(json_string_value(json_object_get(msg, "timestamp"))), "%s",
              json_string_value(json_object_get(msg, "timestamp")));
    json_t *lib = json_object_get(json_object_get(msg, "context"), "library");
    cr_assert_str_eq(json_string_value(json_object_get(lib, "name")), "customerio-native");
    cr_assert_str_eq(json_string_value(json_object_get(lib, "version")), CIO_VERSION_STRING);
    json_object_del(msg, "messageId");
    json_object_del(msg, "timestamp");
    json_object_del(json_object_get(msg, "context"), "library");
    if (json_object_size(json_object_get(msg, "context")) == 0)
        json_object_del(msg, "context");
    json_t *want = json_loads(want_rest, 0, NULL);
    cr_assert_not_null(want);
    char *got = json_dumps(msg, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert(json_equal(msg, want), "body %s", got);
    free(got);
    json_decref(want);
}

Test(cdp, test_identify_sends_traits_with_message_id_timestamp_and_library) {
    expect_ok(cio_cdp_identify(fx.client, "42", NULL, "{\"email\":\"a@b.c\",\"ltv\":23.45}", NULL));
    json_t *msg = one_cdp_message("/v1/identify");
    expect_completed(msg, "{\"type\":\"identify\",\"userId\":\"42\",\"traits\":{\"email\":"
                          "\"a@b.c\",\"ltv\":23.45}}");
    json_decref(msg);
    json_t *reqs = mock_requests();
    cr_assert_not_null(strstr(req_str(json_array_get(reqs, 0), "body"), "23.45"),
                       "a number was respelt");
    json_decref(reqs);
}

Test(cdp, test_track_page_screen_group_alias_shapes) {
    cio_cdp_options_t o = CIO_CDP_OPTIONS_INIT;
    o.message_id = "m-1";
    o.timestamp = "2026-01-02T03:04:05.678Z";
    o.context_json = "{\"ip\":\"1.2.3.4\"}";
    o.integrations_json = "{\"All\":true}";
    expect_ok(cio_cdp_track(fx.client, NULL, "anon-1", "Order Completed", "{\"total\":9.5}", &o));
    json_t *msg = one_cdp_message("/v1/track");
    cr_assert_str_eq(json_string_value(json_object_get(msg, "messageId")), "m-1");
    cr_assert_str_eq(json_string_value(json_object_get(msg, "timestamp")),
                     "2026-01-02T03:04:05.678Z");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(msg, "context"), "ip")),
                     "1.2.3.4");
    cr_assert_not_null(json_object_get(json_object_get(msg, "context"), "library"));
    cr_assert_str_eq(json_string_value(json_object_get(msg, "event")), "Order Completed");
    cr_assert_str_eq(json_string_value(json_object_get(msg, "anonymousId")), "anon-1");
    json_decref(msg);

    mock_clear();
    o = (cio_cdp_options_t)CIO_CDP_OPTIONS_INIT;
    o.category = "Docs";
    expect_ok(cio_cdp_page(fx.client, "42", NULL, "Pricing", "{\"path\":\"/p\"}", &o));
    msg = one_cdp_message("/v1/page");
    expect_completed(msg, "{\"type\":\"page\",\"userId\":\"42\",\"name\":\"Pricing\","
                          "\"properties\":{\"path\":\"/p\"},\"category\":\"Docs\"}");
    json_decref(msg);

    mock_clear();
    expect_ok(cio_cdp_screen(fx.client, "42", NULL, "Home", NULL, NULL));
    msg = one_cdp_message("/v1/screen");
    expect_completed(msg, "{\"type\":\"screen\",\"userId\":\"42\",\"name\":\"Home\"}");
    json_decref(msg);

    mock_clear();
    expect_ok(cio_cdp_group(fx.client, "42", NULL, "acme", "{\"plan\":\"pro\"}", NULL));
    msg = one_cdp_message("/v1/group");
    expect_completed(msg, "{\"type\":\"group\",\"userId\":\"42\",\"groupId\":\"acme\","
                          "\"traits\":{\"plan\":\"pro\"}}");
    json_decref(msg);

    mock_clear();
    expect_ok(cio_cdp_alias(fx.client, "anon-1", "42", NULL));
    msg = one_cdp_message("/v1/alias");
    expect_completed(msg, "{\"type\":\"alias\",\"userId\":\"42\",\"previousId\":\"anon-1\"}");
    json_decref(msg);
}

Test(cdp, test_send_keeps_caller_fields_and_adds_the_missing_ones) {
    expect_ok(cio_cdp_send(fx.client, "{\"type\":\"track\",\"userId\":7,\"event\":\"e\","
                                      "\"properties\":{\"x\":1e3}}"));
    json_t *msg = one_cdp_message("/v1/track");
    expect_completed(msg, "{\"type\":\"track\",\"userId\":7,\"event\":\"e\",\"properties\":"
                          "{\"x\":1000.0}}");
    json_decref(msg);
}

static void expect_rejected(const char *message, cio_status_t want, const char *needle) {
    expect_error(cio_cdp_send(fx.client, message), want, "cdp_send", needle);
    expect_nothing_sent();
}

Test(cdp, test_invalid_messages_are_rejected_before_sending) {
    expect_rejected("[]", CIO_E_INVALID_ARGUMENT, "object");
    expect_rejected("{\"type\":\"identify\"}", CIO_E_INVALID_ARGUMENT, "userId or anonymousId");
    expect_rejected("{\"type\":\"shout\",\"userId\":\"1\"}", CIO_E_INVALID_ARGUMENT, "type");
    expect_rejected("{\"type\":\"alias\",\"userId\":\"1\"}", CIO_E_INVALID_ARGUMENT, "previousId");
    expect_rejected("{\"type\":\"group\",\"userId\":\"1\"}", CIO_E_INVALID_ARGUMENT, "groupId");
    expect_rejected("{\"type\":\"track\",\"userId\":\"1\"}", CIO_E_INVALID_ARGUMENT, "event");
    expect_rejected("{\"type\":\"identify\",\"userId\":\"1\",\"traits\":[1]}",
                    CIO_E_INVALID_ARGUMENT, "traits");
    expect_rejected("{\"type\":\"identify\",\"userId\":\"\"}", CIO_E_INVALID_ARGUMENT, "userId");
    expect_rejected("{\"type\":\"identify\",\"userId\":\"a\\nb\"}", CIO_E_INVALID_ARGUMENT,
                    "control");
    expect_rejected("{\"type\":\"identify\",\"userId\":\"1\",\"userId\":\"2\"}",
                    CIO_E_INVALID_ARGUMENT, "JSON");
    char *big = malloc(40000);
    int n = snprintf(big, 40000, "{\"type\":\"identify\",\"userId\":\"1\",\"traits\":{\"p\":\"");
    memset(big + n, 'x', 34000);
    strcpy(big + n + 34000, "\"}}");
    expect_rejected(big, CIO_E_PAYLOAD_TOO_LARGE, "32768");
    free(big);
    expect_error(cio_cdp_identify(fx.client, NULL, NULL, NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "cdp_identify", "userId or anonymousId");
    expect_error(cio_cdp_track(fx.client, "1", NULL, "e", "[]", NULL), CIO_E_INVALID_ARGUMENT,
                 "properties", "object");
}

Test(cdp, test_missing_or_wrong_key) {
    cio_client_options_t o = fx_options();
    o.cdp_api_key = NULL;
    cio_client_t *c = fx_client(&o);
    expect_error(cio_cdp_identify(c, "1", NULL, NULL, NULL), CIO_E_CONFIG, "cdp_api_key", NULL);
    o.cdp_api_key = "wrong-cdp-key-77";
    c = fx_client(&o);
    expect_error(cio_cdp_identify(c, "1", NULL, NULL, NULL), CIO_E_AUTH, "401", NULL);
    cr_assert_null(strstr(cio_last_error()->message, "wrong-cdp-key-77"));
}

Test(cdp, test_identify_feeds_the_profile_the_app_api_reads) {
    cio_client_options_t o = fx_options();
    o.app_api_key = "test-app-key";
    cio_client_t *c = fx_client(&o);
    expect_ok(cio_cdp_identify(c, "p-9", NULL, "{\"plan\":\"gold\"}", NULL));
    char *answer = NULL;
    expect_ok(cio_customers_get_attributes(c, CIO_ID_TYPE_ID, "p-9", &answer));
    cr_assert_not_null(strstr(answer, "\"gold\""), "%s", answer);
    cio_free(answer);
}

/* A message of about `size` bytes, tagged with index. */
static char *sized_message(size_t index, size_t size) {
    char *m = malloc(size + 64);
    int n = snprintf(m, size + 64,
                     "{\"type\":\"track\",\"userId\":\"u%zu\",\"event\":\"e\",\"properties\":"
                     "{\"pad\":\"",
                     index);
    memset(m + n, 'x', size - (size_t)n);
    strcpy(m + size, "\"}}");
    return m;
}

Test(cdp, test_batch_over_500kb_is_split_with_sent_at_and_nothing_lost) {
    enum { N = 30 };
    char *msgs[N];
    for (size_t i = 0; i < N; i++)
        msgs[i] = sized_message(i, 20000);
    cio_batch_result_t *r = NULL;
    expect_ok(cio_cdp_batch(fx.client, (const char *const *)msgs, N, &r));
    cr_assert_eq(cio_batch_result_request_count(r), 2);
    cio_batch_result_free(r);
    json_t *reqs = mock_requests_wait(2);
    int seen[N] = {0};
    json_t *ids = json_object();
    for (size_t k = 0; k < json_array_size(reqs); k++) {
        json_t *req = json_array_get(reqs, k);
        cr_assert_str_eq(req_str(req, "path"), "/v1/batch");
        cr_assert_lt(strlen(req_str(req, "body")), 500000);
        json_t *body = req_body_json(req);
        cr_assert(is_iso_ms_utc(json_string_value(json_object_get(body, "sentAt"))));
        size_t j;
        json_t *m;
        json_array_foreach(json_object_get(body, "batch"), j, m) {
            const char *user = json_string_value(json_object_get(m, "userId"));
            seen[strtoul(user + 1, NULL, 10)]++;
            const char *mid = json_string_value(json_object_get(m, "messageId"));
            cr_assert_null(json_object_get(ids, mid), "messageId %s twice", mid);
            json_object_set_new(ids, mid, json_true());
        }
        json_decref(body);
    }
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(seen[i], 1, "message %zu sent %d times", i, seen[i]);
    json_decref(ids);
    json_decref(reqs);
    for (size_t i = 0; i < N; i++)
        free(msgs[i]);
}

Test(cdp, test_batch_with_an_invalid_message_sends_nothing) {
    const char *msgs[] = {"{\"type\":\"identify\",\"userId\":\"1\"}", "{\"type\":\"track\"}"};
    expect_error(cio_cdp_batch(fx.client, msgs, 2, NULL), CIO_E_INVALID_ARGUMENT, "messages[1]",
                 NULL);
    expect_nothing_sent();
}

Test(cdp, test_batch_refused_as_a_whole_keeps_the_answer_for_the_caller) {
    mock_fault(1, 400, "{\"code\":\"invalid_request\",\"message\":\"no\"}", 0, NULL, NULL);
    const char *msgs[] = {"{\"type\":\"identify\",\"userId\":\"1\"}"};
    cio_batch_result_t *r = NULL;
    expect_error(cio_cdp_batch(fx.client, msgs, 1, &r), CIO_E_BAD_REQUEST, "HTTP 400", "no");
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->http_status, 400);
    cr_assert_not_null(e->response_body);
    cr_assert_not_null(strstr(e->response_body, "invalid_request"), "%s", e->response_body);
    cio_batch_result_free(r);
}

typedef struct counts {
    pthread_mutex_t lock;
    size_t delivered, failed;
} counts_t;

static void count(const cio_delivery_report_t *r, void *user) {
    counts_t *c = user;
    pthread_mutex_lock(&c->lock);
    if (r->status == CIO_OK)
        c->delivered++;
    else
        c->failed++;
    pthread_mutex_unlock(&c->lock);
}

Test(cdp, test_pipeline_pipelines_sink_delivers_n_distinct_messages_under_faults) {
    enum { N = 1000 };
    counts_t counts = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.linger_ms = 20;
    o.batch_bytes = 16 * 1024;
    o.max_requests_per_second = -1;
    o.on_report = count;
    o.report_user = &counts;
    o.report_successes = 1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    mock_fault(2, 500, NULL, 0, NULL, NULL);
    mock_fault(1, 429, NULL, 0, "0", NULL);
    mock_fault(1, 0, NULL, 0, NULL, "reset");
    for (size_t i = 0; i < N; i++) {
        char m[128];
        snprintf(m, sizeof m, "{\"type\":\"track\",\"userId\":\"u%zu\",\"event\":\"e\"}", i);
        cr_assert_eq(cio_pipeline_enqueue(p, m, NULL), CIO_OK, "%s", cio_last_error()->message);
    }
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(counts.delivered, N);
    cr_assert_eq(counts.failed, 0);
    json_t *reqs = mock_requests();
    json_t *ids = json_object();
    size_t total = 0;
    for (size_t k = 0; k < json_array_size(reqs); k++) {
        json_t *req = json_array_get(reqs, k);
        cr_assert_str_eq(req_str(req, "path"), "/v1/batch");
        if (req_status(req) != 200)
            continue;
        json_t *body = req_body_json(req);
        size_t j;
        json_t *m;
        json_array_foreach(json_object_get(body, "batch"), j, m) {
            const char *mid = json_string_value(json_object_get(m, "messageId"));
            cr_assert(is_ulid(mid));
            cr_assert_null(json_object_get(ids, mid), "messageId %s delivered twice", mid);
            json_object_set_new(ids, mid, json_true());
            total++;
        }
        json_decref(body);
    }
    cr_assert_eq(total, N);
    json_decref(ids);
    json_decref(reqs);
}

Test(cdp, test_pipelines_sink_needs_the_cdp_key) {
    cio_client_options_t co = fx_options();
    co.cdp_api_key = NULL;
    cio_client_t *c = fx_client(&co);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    cio_pipeline_t *p = NULL;
    expect_error(cio_pipeline_new(c, &o, &p), CIO_E_CONFIG, "cdp_api_key", NULL);
    cr_assert_null(p);
}

Test(cdp, test_version_1_options_never_read_the_version_2_fields) {
    cio_client_options_t o = fx_options();
    o.version = 1; /* an older caller: its struct ends before cdp_api_key */
    cio_client_t *c = fx_client(&o);
    expect_error(cio_cdp_identify(c, "1", NULL, NULL, NULL), CIO_E_CONFIG, "cdp_api_key", NULL);
    expect_ok(cio_identify(c, "1", NULL)); /* the version-1 fields still work */
}

/* Versions 2 and 3 end before cdp_batch_path (version 4). */
static void expect_batch_path_not_read(unsigned int version) {
    cio_client_options_t o = fx_options();
    o.version = version;
    o.cdp_batch_path = "not a path"; /* would be refused if it were read */
    cio_client_t *c = fx_client(&o);
    cio_batch_result_t *r = NULL;
    const char *msgs[] = {"{\"type\":\"identify\",\"userId\":\"1\"}"};
    expect_ok(cio_cdp_batch(c, msgs, 1, &r));
    cio_batch_result_free(r);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "path"), "/v1/batch");
    json_decref(reqs);
}

Test(cdp, test_version_2_options_never_read_the_version_4_fields) {
    expect_batch_path_not_read(2);
}

Test(cdp, test_version_3_options_never_read_the_version_4_fields) {
    expect_batch_path_not_read(3);
}

Test(cdp, test_cdp_batch_path_replaces_v1_batch_for_batches_and_the_pipeline) {
    cio_client_options_t o = fx_options();
    o.cdp_batch_path = "/v1/import";
    cio_client_t *c = fx_client(&o);
    cio_batch_result_t *r = NULL;
    const char *msgs[] = {"{\"type\":\"identify\",\"userId\":\"1\"}"};
    (void)cio_cdp_batch(c, msgs, 1, &r); /* the emulator serves /v1/batch only: a 404 */
    cio_batch_result_free(r);
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.sink = CIO_SINK_PIPELINES;
    po.max_attempts = 1;
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(c, &po, &p));
    expect_ok(
        cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"1\",\"event\":\"e\"}", NULL));
    cio_pipeline_close(p, 5000);
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert_str_eq(req_str(json_array_get(reqs, i), "path"), "/v1/import");
    json_decref(reqs);
}

Test(cdp, test_cdp_batch_path_must_be_a_url_path) {
    const char *bad[] = {"v1/import", "/v1/import?x=1", "/v1/im port", "/v1#f", "/v1/\r\nX: y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cio_client_options_t o = fx_options();
        o.cdp_batch_path = bad[i];
        cio_client_t *c = NULL;
        expect_error(cio_client_new(&o, &c), CIO_E_CONFIG, "cdp_batch_path", NULL);
        cr_assert_null(c);
    }
}

Test(cdp, test_prepare_validates_and_completes_without_sending) {
    char *out = NULL;
    expect_ok(cio_cdp_prepare("{\"type\":\"track\",\"userId\":\"7\",\"event\":\"e\","
                              "\"properties\":{\"price\":23.45}}",
                              &out));
    cr_assert_not_null(out);
    cr_assert_not_null(strstr(out, "23.45"), "a number was respelt: %s", out);
    json_t *msg = json_loads(out, 0, NULL);
    cio_free(out);
    expect_completed(msg, "{\"type\":\"track\",\"userId\":\"7\",\"event\":\"e\","
                          "\"properties\":{\"price\":23.45}}");
    json_decref(msg);

    out = (char *)"untouched";
    expect_error(cio_cdp_prepare("{\"type\":\"group\",\"userId\":\"7\"}", &out),
                 CIO_E_INVALID_ARGUMENT, "cdp_prepare", "groupId");
    cr_assert_null(out);
    expect_error(cio_cdp_prepare("{\"type\":\"identify\",\"traits\":{}}", &out),
                 CIO_E_INVALID_ARGUMENT, "userId or anonymousId", NULL);
    expect_error(cio_cdp_prepare("{\"type\":\"identify\",\"userId\":\"1\",\"traits\":[1]}", &out),
                 CIO_E_INVALID_ARGUMENT, "traits must be a JSON object", NULL);
    char *big = repeat_char('x', 33 * 1024);
    char *text = malloc(33 * 1024 + 100);
    snprintf(text, 33 * 1024 + 100,
             "{\"type\":\"identify\",\"userId\":\"1\",\"traits\":{\"blob\":\"%s\"}}", big);
    expect_error(cio_cdp_prepare(text, &out), CIO_E_PAYLOAD_TOO_LARGE, "32768", NULL);
    free(text);
    free(big);
    expect_error(cio_cdp_prepare("{}", NULL), CIO_E_INVALID_ARGUMENT, "prepared_json", NULL);
    expect_nothing_sent();
}

/* analytics-python (customerio-cdp-analytics 1.1) sends "anonymousId": null beside a userId and
 * "name": null / "category": null on a page without them: absent, as Segment's API reads them,
 * and sent as given. A null object or an all-null id stays refused. */
Test(cdp, test_null_ids_names_and_categories_count_as_absent) {
    char *out = NULL;
    expect_ok(cio_cdp_prepare("{\"type\":\"page\",\"userId\":\"7\",\"anonymousId\":null,"
                              "\"name\":null,\"category\":null,\"properties\":{}}",
                              &out));
    cr_assert_not_null(strstr(out, "\"anonymousId\":null,\"name\":null,\"category\":null"), "%s",
                       out);
    cio_free(out);
    expect_ok(cio_cdp_prepare("{\"type\":\"alias\",\"userId\":\"7\",\"previousId\":\"6\","
                              "\"anonymousId\":null}",
                              &out));
    cio_free(out);
    out = NULL;
    expect_error(cio_cdp_prepare("{\"type\":\"track\",\"userId\":null,\"anonymousId\":null,"
                                 "\"event\":\"e\"}",
                                 &out),
                 CIO_E_INVALID_ARGUMENT, "userId or anonymousId is required", NULL);
    expect_error(cio_cdp_prepare("{\"type\":\"group\",\"userId\":\"7\",\"groupId\":null}", &out),
                 CIO_E_INVALID_ARGUMENT, "groupId is required", NULL);
    expect_error(cio_cdp_prepare("{\"type\":\"identify\",\"userId\":\"7\",\"traits\":null}", &out),
                 CIO_E_INVALID_ARGUMENT, "traits must be a JSON object (got null)", NULL);
    cr_assert_null(out);
    expect_nothing_sent();
}

Test(cdp, test_region_prefixed_key_is_sent_as_a_bearer_token) {
    static const char key[] = "sk_us_0123456789abcdef0123456789abcdef_abcdef";
    /* against the fixture's emulator (another key): refused, but the header shows the form */
    cio_client_options_t co = fx_options();
    co.cdp_api_key = key;
    cio_client_t *c = fx_client(&co);
    expect_error(cio_cdp_track(c, "1", NULL, "e", NULL, NULL), CIO_E_AUTH, NULL, NULL);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_str_eq(req_header(json_array_get(reqs, 0), "authorization"),
                     "Bearer sk_us_0123456789abcdef0123456789abcdef_abcdef");
    json_decref(reqs);

    /* an emulator holding that key accepts it; cdp_url still beats the key's region */
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    mo.cdp_api_key = key;
    cio_mock_t *m = NULL;
    char err[256];
    cr_assert_eq(cio_mock_start(&mo, &m, err, sizeof err), 0, "%s", err);
    co.cdp_url = cio_mock_base_url(m);
    co.region = CIO_REGION_EU;
    cio_client_t *c2 = fx_client(&co);
    cio_status_t st = cio_cdp_track(c2, "1", NULL, "e", NULL, NULL);
    cio_mock_stop(m);
    expect_ok(st);

    /* any other prefix is a plain key: Basic */
    mock_clear();
    cio_client_options_t co3 = fx_options();
    co3.cdp_api_key = "xx_us_0123";
    cio_client_t *c3 = fx_client(&co3);
    expect_error(cio_cdp_track(c3, "1", NULL, "e", NULL, NULL), CIO_E_AUTH, NULL, NULL);
    reqs = mock_requests_wait(1);
    cr_assert_str_eq(req_header(json_array_get(reqs, 0), "authorization"),
                     "Basic eHhfdXNfMDEyMzo="); /* base64("xx_us_0123:") */
    json_decref(reqs);
}

/* The last failure a pipeline reported: status, HTTP status, reason. */
typedef struct last_failure {
    pthread_mutex_t lock;
    int failed;
    cio_status_t status;
    int http_status;
    char reason[64];
} last_failure_t;

static void note_failure(const cio_delivery_report_t *r, void *user) {
    last_failure_t *f = user;
    if (r->status == CIO_OK)
        return;
    pthread_mutex_lock(&f->lock);
    f->failed++;
    f->status = r->status;
    f->http_status = r->http_status;
    snprintf(f->reason, sizeof f->reason, "%s", r->reason != NULL ? r->reason : "(null)");
    pthread_mutex_unlock(&f->lock);
}

Test(cdp, test_pipeline_reports_the_error_code_of_a_refused_request) {
    last_failure_t f = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.linger_ms = 60000; /* both messages leave together, at the flush */
    o.on_report = note_failure;
    o.report_user = &f;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    /* the pair is refused, then each alone (a refused batch is split until items travel alone) */
    mock_fault(3, 400, "{\"code\":\"invalid_request\",\"message\":\"no\"}", 0, NULL, NULL);
    expect_ok(
        cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"1\",\"event\":\"e\"}", NULL));
    expect_ok(
        cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"2\",\"event\":\"e\"}", NULL));
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(f.failed, 2);
    cr_assert_eq(f.status, CIO_E_BAD_REQUEST);
    cr_assert_eq(f.http_status, 400);
    cr_assert_str_eq(f.reason, "invalid_request");
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 3, "a 400 alone is not retried");
    json_decref(reqs);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
}

Test(cdp, test_report_queue_gets_one_requests_reports_together_with_the_code) {
    cio_queue_t *q = NULL;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.linger_ms = 60000;
    o.report_queue = q;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    /* 422, not 400: a batch refused with 400 is split, and its parts report apart */
    mock_fault(1, 422, "{\"code\":\"invalid_request\",\"message\":\"no\"}", 0, NULL, NULL);
    for (int i = 0; i < 3; i++)
        expect_ok(
            cio_pipeline_enqueue(p, "{\"type\":\"track\",\"userId\":\"1\",\"event\":\"e\"}", NULL));
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_queue_size(q), 3, "the three reports arrive together");
    for (int i = 0; i < 3; i++) {
        cio_completion_t *c = NULL;
        cr_assert_eq(cio_queue_poll(q, &c), CIO_OK);
        cr_assert_not_null(c);
        cr_assert_eq(c->status, CIO_E_BAD_REQUEST);
        cr_assert_eq(c->http_status, 422);
        cr_assert_str_eq(c->reason, "invalid_request");
        cr_assert_null(c->field);
        cio_completion_free(c);
    }
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cio_queue_free(q);
}

/* The core completes a message by writing the caller's members back byte for byte: numbers keep
 * their spelling, a context without library gets one, a context with one keeps it. */
Test(cdp, test_prepare_splices_the_callers_bytes) {
    char *out = NULL;
    expect_ok(
        cio_cdp_prepare("{\"type\":\"track\",\"userId\":7,\"event\":\"e\",\"messageId\":\"m1\","
                        "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"properties\":{\"price\":"
                        "23.45,\"big\":1e400},\"context\":{\"ip\":\"1.2.3.4\"}}",
                        &out));
    cr_assert_str_eq(out, "{\"type\":\"track\",\"userId\":7,\"event\":\"e\",\"messageId\":\"m1\","
                          "\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"properties\":{\"price\":"
                          "23.45,\"big\":1e400},\"context\":{\"library\":{\"name\":"
                          "\"customerio-native\",\"version\":\"" CIO_VERSION_STRING "\"},"
                          "\"ip\":\"1.2.3.4\"}}");
    cio_free(out);
    const char *kept = "{\"type\":\"identify\",\"userId\":\"u\",\"messageId\":\"m\",\"timestamp\":"
                       "\"t\",\"context\":{\"library\":{\"name\":\"mine\"}}}";
    expect_ok(cio_cdp_prepare(kept, &out));
    cr_assert_str_eq(out, kept);
    cio_free(out);
    expect_ok(cio_cdp_prepare("{\"type\":\"identify\",\"userId\":\"u\",\"messageId\":\"m\","
                              "\"timestamp\":\"t\",\"context\":{}}",
                              &out));
    cr_assert_str_eq(out,
                     "{\"type\":\"identify\",\"userId\":\"u\",\"messageId\":\"m\",\"timestamp\":"
                     "\"t\",\"context\":{\"library\":{\"name\":\"customerio-native\","
                     "\"version\":\"" CIO_VERSION_STRING "\"}}}");
    cio_free(out);
}

/* Found by fuzz_cdp: a message with more members than the index holds, "context" twice, the
 * first a number, once came out as broken JSON. Repeated names are refused, however spelt. */
Test(cdp, test_repeated_member_names_are_refused_even_in_long_messages) {
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "{\"type\":\"track\",\"userId\":\"u\",\"event\":"
                                "\"e\",\"context\":3000");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ",\"k%d\":%d", i, i);
    snprintf(text + n, sizeof text - n, ",\"context\":{\"ip\":\"1.2.3.4\"}}");
    char *out = (char *)1;
    expect_error(cio_cdp_prepare(text, &out), CIO_E_INVALID_ARGUMENT, "not valid JSON",
                 "the member \"context\" appears twice");
    cr_assert_null(out);
    expect_error(
        cio_cdp_prepare("{\"type\":\"identify\",\"userId\":\"1\",\"\\u0074ype\":\"track\"}", &out),
        CIO_E_INVALID_ARGUMENT, "the member \"\\u0074ype\" appears twice", NULL);
    expect_error(cio_cdp_prepare("{\"type\":\"identify\",\"userId\":\"1\",\"context\":5}", &out),
                 CIO_E_INVALID_ARGUMENT, "context must be a JSON object (got number)", NULL);
}

/* Found in review: the repeated name quoted in the error was cut at 64 bytes inside a
 * character. */
Test(cdp, test_repeated_name_in_an_error_is_never_cut_inside_a_character) {
    char key[80];
    memset(key, 'a', 62);
    strcpy(key + 62, "\xc3\xa9"); /* quoted, the 64th byte is this character's first */
    char text[256];
    snprintf(text, sizeof text, "{\"type\":\"identify\",\"userId\":\"1\",\"%s\":1,\"%s\":2}", key,
             key);
    char *out = NULL;
    expect_error(cio_cdp_prepare(text, &out), CIO_E_INVALID_ARGUMENT, "appears twice", NULL);
    const char *m = cio_last_error()->message;
    cr_assert(strstr(m, "\xc3 appears") == NULL, "a character cut in half: %s", m);
}

/* ---- messages from their parts: cio_cdp_build, cio_pipeline_enqueue_message ---- */

Test(cdp, test_build_writes_the_completed_message_from_its_parts) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "track";
    m.user_id = "u\"1";
    m.event = "Order Completed";
    m.properties_json = "{\"total\":9.50,\"sku\":\"a\"}";
    m.integrations_json = "{}";
    cio_cdp_stamp_t stamp;
    char *text = NULL;
    cr_assert_eq(cio_cdp_build(&m, &text, &stamp), CIO_OK, "%s", cio_last_error()->message);
    cr_assert(is_ulid(stamp.message_id), "%s", stamp.message_id);
    cr_assert(is_iso_ms_utc(stamp.timestamp), "%s", stamp.timestamp);
    char want[512];
    snprintf(want, sizeof want,
             "{\"messageId\":\"%s\",\"timestamp\":\"%s\",\"type\":\"track\",\"userId\":\"u\\\"1\","
             "\"event\":\"Order Completed\",\"properties\":{\"total\":9.50,\"sku\":\"a\"},"
             "\"context\":{\"library\":{\"name\":\"customerio-native\",\"version\":\"%s\"}},"
             "\"integrations\":{}}",
             stamp.message_id, stamp.timestamp, CIO_VERSION_STRING);
    cr_assert_str_eq(text, want);
    /* the same message given as text completes to the same members */
    char *prepared = NULL;
    cr_assert_eq(cio_cdp_prepare(text, &prepared), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_str_eq(prepared, text);
    cio_free(prepared);
    cio_free(text);
}

Test(cdp, test_build_keeps_the_callers_id_time_and_library) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "identify";
    m.anonymous_id = "a-1";
    m.message_id = "m-1";
    m.timestamp = "2026-01-02T03:04:05.678+01:00";
    m.context_json = "{\"library\":{\"name\":\"mine\"},\"ip\":\"1.2.3.4\"}";
    cio_cdp_stamp_t stamp;
    char *text = NULL;
    cr_assert_eq(cio_cdp_build(&m, &text, &stamp), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_str_eq(stamp.message_id, "");
    cr_assert_str_eq(stamp.timestamp, "");
    cr_assert_str_eq(text, "{\"messageId\":\"m-1\",\"timestamp\":\"2026-01-02T03:04:05.678+01:00\","
                           "\"type\":\"identify\",\"anonymousId\":\"a-1\",\"context\":{\"library\":"
                           "{\"name\":\"mine\"},\"ip\":\"1.2.3.4\"}}");
    cio_free(text);
    m.context_json = "{\"ip\":\"1.2.3.4\"}"; /* no library: the core's goes first */
    cr_assert_eq(cio_cdp_build(&m, &text, NULL), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_not_null(strstr(text, "\"context\":{\"library\":{\"name\":\"customerio-native\","),
                       "%s", text);
    cr_assert_not_null(strstr(text, "},\"ip\":\"1.2.3.4\"}"), "%s", text);
    cio_free(text);
}

/* options_json (version 2): analytics libraries' per-call options, written last as the top-level
 * "options" member, exactly as given. */
Test(cdp, test_build_writes_options_as_the_last_member) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "track";
    m.user_id = "u";
    m.event = "e";
    m.message_id = "m-1";
    m.timestamp = "2026-01-02T03:04:05.678Z";
    m.integrations_json = "{\"All\":false}";
    char *text = NULL;
    char want[512];
    const char *head = "{\"messageId\":\"m-1\",\"timestamp\":\"2026-01-02T03:04:05.678Z\","
                       "\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\","
                       "\"context\":{\"library\":{\"name\":\"customerio-native\",\"version\":"
                       "\"%s\"}},\"integrations\":{\"All\":false}%s}";
    /* without options: no member */
    cr_assert_eq(cio_cdp_build(&m, &text, NULL), CIO_OK, "%s", cio_last_error()->message);
    snprintf(want, sizeof want, head, CIO_VERSION_STRING, "");
    cr_assert_str_eq(text, want);
    cio_free(text);
    /* with options: the caller's bytes, last */
    m.options_json = "{\"seen\": 1.50, \"a\":[true]}";
    cr_assert_eq(cio_cdp_build(&m, &text, NULL), CIO_OK, "%s", cio_last_error()->message);
    snprintf(want, sizeof want, head, CIO_VERSION_STRING,
             ",\"options\":{\"seen\": 1.50, \"a\":[true]}");
    cr_assert_str_eq(text, want);
    /* the text form accepts what the parts form wrote, unchanged */
    char *prepared = NULL;
    cr_assert_eq(cio_cdp_prepare(text, &prepared), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_str_eq(prepared, text);
    cio_free(prepared);
    cio_free(text);
    /* a version-1 struct ends before options_json: never read */
    m.version = 1;
    cr_assert_eq(cio_cdp_build(&m, &text, NULL), CIO_OK, "%s", cio_last_error()->message);
    snprintf(want, sizeof want, head, CIO_VERSION_STRING, "");
    cr_assert_str_eq(text, want);
    cio_free(text);
}

Test(cdp, test_build_refuses_options_that_are_not_one_json_object) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "identify";
    m.user_id = "u";
    const char *cases[][2] = {
        {"[1]", "cdp_build: message: options must be a JSON object (got array)"},
        {"\"x\"", "cdp_build: message: options must be a JSON object (got string)"},
        {"{\"a\":1},\"userId\":\"other\"", "options is not valid JSON"},
        {"{\"a\":1", "options is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m.options_json = cases[i][0];
        char *text = (char *)"untouched";
        cr_assert_eq(cio_cdp_build(&m, &text, NULL), CIO_E_INVALID_ARGUMENT, "%s", cases[i][0]);
        cr_assert_null(text);
        cr_assert_not_null(strstr(cio_last_error()->message, cases[i][1]), "%s: %s", cases[i][0],
                           cio_last_error()->message);
    }
}

static void expect_build_error(const cio_cdp_message_t *m, cio_status_t want, const char *needle) {
    char *text = (char *)"untouched";
    expect_error(cio_cdp_build(m, &text, NULL), want, "cdp_build", needle);
    cr_assert_null(text);
}

Test(cdp, test_build_refuses_what_a_text_message_would_be_refused_for) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "type must be identify");
    m.type = "track";
    m.user_id = "1";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "event is required");
    m.event = "e";
    m.user_id = "";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "userId must be a non-empty string");
    m.user_id = "a\r\nb";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "userId contains a control character");
    m.user_id = "\xff\xfe";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "userId is not valid UTF-8");
    m.user_id = "1";
    m.properties_json = "[1]";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "properties must be a JSON object (got array)");
    /* a part must be one JSON value: text that would add members is refused */
    m.properties_json = "{\"a\":1},\"userId\":\"someone-else\"";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "properties is not valid JSON");
    m.properties_json = "{\"a\":\"\xc3\x28\"}";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "properties is not valid UTF-8");
    m.properties_json = NULL;
    m.context_json = "{\"a\":1";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "context is not valid JSON");
    m.context_json = NULL;
    m.type = "alias";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "alias needs previousId and userId");
    m.type = "group";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "groupId is required");
    m.type = "page";
    m.name = "";
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "name must be a non-empty string");
    m.name = NULL;
    char *big = malloc(40000);
    int n = snprintf(big, 40000, "{\"p\":\"");
    memset(big + n, 'x', 34000);
    strcpy(big + n + 34000, "\"}");
    m.properties_json = big;
    expect_build_error(&m, CIO_E_PAYLOAD_TOO_LARGE, "over the Pipelines API limit of 32768");
    free(big);
    m.properties_json = NULL;
    m.version = 99;
    expect_build_error(&m, CIO_E_INVALID_ARGUMENT, "message.version 99");
    expect_build_error(NULL, CIO_E_INVALID_ARGUMENT, "message is NULL");
}

Test(cdp, test_enqueue_message_delivers_what_the_stamp_says) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.max_requests_per_second = -1;
    o.max_queue_items = 2;
    o.when_full = CIO_WHEN_FULL_BLOCK;
    o.block_timeout_ms = 50;
    o.linger_ms = 60000;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "page";
    m.user_id = "42";
    m.name = "Pricing";
    m.category = "Docs";
    m.properties_json = "{\"path\":\"/p\"}";
    cio_cdp_stamp_t stamp[2];
    uint64_t seq[2] = {0, 0};
    cr_assert_eq(cio_pipeline_enqueue_message(p, &m, &stamp[0], &seq[0]), CIO_OK, "%s",
                 cio_last_error()->message);
    cr_assert_eq(cio_pipeline_try_enqueue_message(p, &m, &stamp[1], &seq[1]), CIO_OK, "%s",
                 cio_last_error()->message);
    cr_assert_eq(seq[1], seq[0] + 1);
    cr_assert_str_neq(stamp[0].message_id, stamp[1].message_id);
    /* full: the try form fails at once, the other after block_timeout_ms */
    expect_error(cio_pipeline_try_enqueue_message(p, &m, NULL, NULL), CIO_E_QUEUE_FULL,
                 "queue is full", NULL);
    expect_error(cio_pipeline_enqueue_message(p, &m, NULL, NULL), CIO_E_QUEUE_FULL, "after waiting",
                 NULL);
    m.user_id = NULL; /* refused before it is queued */
    expect_error(cio_pipeline_try_enqueue_message(p, &m, NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "enqueue_message: message: userId or anonymousId is required", NULL);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    json_t *body = one_cdp_message("/v1/batch");
    json_t *batch = json_object_get(body, "batch");
    cr_assert_eq(json_array_size(batch), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *msg = json_array_get(batch, i);
        cr_assert_str_eq(json_string_value(json_object_get(msg, "messageId")), stamp[i].message_id);
        cr_assert_str_eq(json_string_value(json_object_get(msg, "timestamp")), stamp[i].timestamp);
        expect_completed(msg, "{\"type\":\"page\",\"userId\":\"42\",\"name\":\"Pricing\","
                              "\"category\":\"Docs\",\"properties\":{\"path\":\"/p\"}}");
    }
    json_decref(body);
}

Test(cdp, test_enqueue_message_needs_a_pipelines_sink) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "identify";
    m.user_id = "1";
    expect_error(cio_pipeline_enqueue_message(p, &m, NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "CIO_SINK_PIPELINES", NULL);
    expect_error(cio_pipeline_try_enqueue_message(NULL, &m, NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "pipeline is NULL", NULL);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    expect_nothing_sent();
}

/* ---- the emulator's own checks, reached with raw requests (the client validates first, so it
 * never sends most of these) ---- */

#define OK_ANSWER "{\"success\":true}"
#define REFUSED(text) "{\"code\":\"invalid_request\",\"message\":\"" text "\"}"

/* The emulator answers path + body with exactly status and want (in strict mode, as the client
 * asks: without it the emulator answers 200 to an invalid message, test_cdp_strict.c). */
static void expect_answer(const char *path, const char *body, long status, const char *want) {
    char *got = NULL;
    long st = mock_request_with("POST", path, TEST_CDP_KEY ":", "X-Strict-Mode: 1", body, &got);
    cr_expect_eq(st, status, "%s %.200s: HTTP %ld %s", path, body, st, got);
    cr_expect_str_eq(got, want, "%s %.200s\n got %s\nwant %s", path, body, got, want);
    free(got);
}

/* A message nested `depth` arrays deep in a member, on /v1/identify. */
static char *deep_message(size_t depth) {
    char *m = malloc(2 * depth + 64);
    cr_assert_not_null(m);
    size_t n = (size_t)sprintf(m, "{\"userId\":\"1\",\"p\":");
    memset(m + n, '[', depth);
    memset(m + n + depth, ']', depth);
    strcpy(m + n + 2 * depth, "}");
    return m;
}

Test(cdp, test_mock_checks_each_message_as_the_api_does) {
    static const char *const cases[][4] = {
        /* the type comes from the path when the message has none (or not a string) */
        {"/v1/identify", "{\"userId\":\"1\"}", "200", OK_ANSWER},
        {"/v1/track", "{\"userId\":\"1\"}", "400", REFUSED("event is required")},
        {"/v1/identify", "{\"type\":5,\"userId\":\"1\"}", "200", OK_ANSWER},
        {"/v1/track", "{\"type\":\"identify\",\"userId\":\"1\"}", "200", OK_ANSWER},
        {"/v1/identify", "{\"type\":\"shout\",\"userId\":\"1\"}", "400",
         REFUSED("type must be identify, track, page, screen, group or alias")},
        /* an id is a non-empty string or an integer */
        {"/v1/identify", "{\"userId\":7}", "200", OK_ANSWER},
        {"/v1/identify", "{\"userId\":-0}", "200", OK_ANSWER},
        {"/v1/identify", "{\"anonymousId\":\"a\"}", "200", OK_ANSWER},
        {"/v1/identify", "{\"userId\":\"\"}", "400", REFUSED("userId or anonymousId is required")},
        {"/v1/identify", "{\"userId\":1.5}", "400", REFUSED("userId or anonymousId is required")},
        {"/v1/identify", "{\"userId\":1e2}", "400", REFUSED("userId or anonymousId is required")},
        {"/v1/page", "{\"userId\":true}", "400", REFUSED("userId or anonymousId is required")},
        {"/v1/screen", "{\"userId\":null,\"anonymousId\":[]}", "400",
         REFUSED("userId or anonymousId is required")},
        {"/v1/alias", "{\"userId\":\"1\"}", "400", REFUSED("alias needs previousId and userId")},
        {"/v1/alias", "{\"anonymousId\":\"a\",\"previousId\":\"p\"}", "400",
         REFUSED("alias needs previousId and userId")},
        {"/v1/alias", "{\"userId\":\"1\",\"previousId\":3}", "200", OK_ANSWER},
        {"/v1/group", "{\"userId\":\"1\"}", "400", REFUSED("groupId is required")},
        {"/v1/group", "{\"userId\":\"1\",\"groupId\":\"\"}", "400", REFUSED("groupId is required")},
        {"/v1/group", "{\"anonymousId\":\"a\",\"groupId\":0}", "200", OK_ANSWER},
        {"/v1/track", "{\"userId\":\"1\",\"event\":\"\"}", "400", REFUSED("event is required")},
        {"/v1/track", "{\"userId\":\"1\",\"event\":5}", "400", REFUSED("event is required")},
        {"/v1/track", "{\"userId\":\"1\",\"event\":\"e\",\"properties\":[]}", "400",
         REFUSED("traits, properties, context and integrations must be objects")},
        {"/v1/identify", "{\"userId\":\"1\",\"context\":null}", "400",
         REFUSED("traits, properties, context and integrations must be objects")},
        {"/v1/identify", "{\"userId\":\"1\",\"integrations\":{},\"traits\":{}}", "200", OK_ANSWER},
        /* the first problem found is the one answered */
        {"/v1/alias", "{\"traits\":1}", "400", REFUSED("alias needs previousId and userId")},
        /* a repeated name: the last one counts; escaped names and values are read decoded */
        {"/v1/track", "{\"userId\":\"1\",\"event\":\"e\",\"event\":\"\"}", "400",
         REFUSED("event is required")},
        {"/v1/track", "{\"userId\":\"1\",\"event\":\"\",\"event\":\"e\"}", "200", OK_ANSWER},
        {"/v1/identify", "{\"\\u0074ype\":\"tr\\u0061ck\",\"userId\":\"1\"}", "400",
         REFUSED("event is required")},
        /* bodies jansson refuses are refused with its words (numbers included) */
        {"/v1/identify", "", "400", REFUSED("request body is required")},
        {"/v1/identify", "[1]", "400", REFUSED("request body must be a JSON object")},
        {"/v1/identify", "{", "400",
         REFUSED("malformed JSON: string or '}' expected near end of file (line 1, column 1)")},
        {"/v1/identify", "{\"userId\":\"1\",\"n\":18446744073709551616}", "400",
         REFUSED("malformed JSON: too big integer near '18446744073709551616' (line 1, column "
                 "38)")},
        {"/v1/identify", "{\"userId\":\"1\",\"n\":[-9223372036854775809]}", "400",
         REFUSED("malformed JSON: too big negative integer near '-9223372036854775809' (line 1, "
                 "column 39)")},
        {"/v1/identify", "{\"userId\":\"1\",\"n\":{\"x\":1e400}}", "400",
         REFUSED("malformed JSON: real number overflow near '1e400' (line 1, column 28)")},
        {"/v1/identify", "{\"userId\":\"1\",\"n\":[1e-400,1.5e308,-9223372036854775808]}", "200",
         OK_ANSWER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_answer(cases[i][0], cases[i][1], strtol(cases[i][2], NULL, 10), cases[i][3]);
}

Test(cdp, test_mock_takes_what_jansson_takes_however_deep) {
    char *m = deep_message(600);
    expect_answer("/v1/identify", m, 200, OK_ANSWER);
    free(m);
    m = deep_message(3000);
    expect_answer("/v1/identify", m, 400,
                  REFUSED("malformed JSON: maximum parsing depth reached near '[' (line 1, column "
                          "2066)"));
    free(m);
}

Test(cdp, test_mock_limits_a_single_message_to_32_kb) {
    char *m = sized_message(1, 32 * 1024 - 3);
    cr_assert_eq(strlen(m), 32 * 1024);
    expect_answer("/v1/track", m, 200, OK_ANSWER);
    free(m);
    m = sized_message(1, 32 * 1024 - 2);
    expect_answer("/v1/track", m, 400, REFUSED("a message is limited to 32 KB"));
    free(m);
}

Test(cdp, test_mock_checks_each_batch_item) {
    static const char *const cases[][3] = {
        {"{\"batch\":[]}", "200", OK_ANSWER},
        {"{\"batch\":[{\"type\":\"track\",\"userId\":\"1\",\"event\":\"e\"},5]}", "400",
         REFUSED("batch[1]: a message must be an object")},
        {"{\"batch\":[{\"userId\":\"1\"}]}", "400",
         REFUSED("batch[0]: type must be identify, track, page, screen, group or alias")},
        {"{\"batch\":[{\"type\":\"group\",\"userId\":\"1\"},{\"type\":\"track\"}]}", "400",
         REFUSED("batch[0]: groupId is required")},
        {"{\"sentAt\":\"x\",\"batch\":[{\"type\":\"page\",\"userId\":\"1\"},"
         "{\"type\":\"alias\",\"userId\":\"1\",\"previousId\":\"0\"},"
         "{\"type\":\"track\",\"anonymousId\":\"1\",\"event\":\"e\",\"context\":[]}]}",
         "400", REFUSED("batch[2]: traits, properties, context and integrations must be objects")},
        {"{}", "400", REFUSED("missing required field 'batch'")},
        {"{\"batch\":null}", "400", REFUSED("missing required field 'batch'")},
        {"{\"batch\":{}}", "400", REFUSED("field 'batch' must be an array")},
        {"{\"batch\":[],\"batch\":{}}", "400", REFUSED("field 'batch' must be an array")},
        {"{\"batch\":{},\"batch\":[]}", "200", OK_ANSWER},
        {"{\"batch\":[1e400],\"batch\":[]}", "400",
         REFUSED("malformed JSON: real number overflow near '1e400' (line 1, column 15)")},
        {"{\"batch\":[],\"sentAt\":99999999999999999999}", "400",
         REFUSED("malformed JSON: too big integer near '99999999999999999999' (line 1, column "
                 "41)")},
        {"[]", "400", REFUSED("request body must be a JSON object")},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_answer("/v1/batch", cases[i][0], strtol(cases[i][1], NULL, 10), cases[i][2]);
}

/* Whether the emulator holds a profile with that id, and its attributes contain needle. */
static bool profile_has(cio_client_t *c, const char *id, const char *needle) {
    char *answer = NULL;
    cio_status_t st = cio_customers_get_attributes(c, CIO_ID_TYPE_ID, id, &answer);
    if (st == CIO_E_NOT_FOUND)
        return false;
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error()->message);
    bool found = strstr(answer, needle) != NULL;
    cio_free(answer);
    return found;
}

Test(cdp, test_mock_identify_messages_feed_profiles_only_once_the_whole_batch_is_valid) {
    cio_client_options_t o = fx_options();
    o.app_api_key = "test-app-key";
    cio_client_t *c = fx_client(&o);
    expect_answer("/v1/batch",
                  "{\"batch\":[{\"type\":\"identify\",\"userId\":\"b-1\",\"traits\":{\"plan\":"
                  "\"gold\",\"n\":18446744073709551615}},{\"type\":\"track\",\"userId\":\"b-1\","
                  "\"event\":\"e\",\"traits\":{\"plan\":\"tin\"}},{\"type\":\"identify\","
                  "\"anonymousId\":\"b-2\",\"traits\":{\"plan\":\"lead\"}},{\"type\":"
                  "\"identify\",\"userId\":\"b-1\",\"traits\":{\"seats\":3}}]}",
                  400,
                  REFUSED("malformed JSON: too big integer near '18446744073709551615' (line 1, "
                          "column 92)"));
    cr_assert(!profile_has(c, "b-1", ""));
    expect_answer("/v1/batch",
                  "{\"batch\":[{\"type\":\"identify\",\"userId\":\"b-1\",\"traits\":{\"plan\":"
                  "\"gold\"}},{\"type\":\"track\",\"userId\":\"b-1\",\"event\":\"e\",\"traits\":"
                  "{\"plan\":\"tin\"}},{\"type\":\"identify\",\"anonymousId\":\"b-2\","
                  "\"traits\":{\"plan\":\"lead\"}},{\"type\":\"identify\",\"userId\":\"b-1\","
                  "\"traits\":{\"seats\":3}},{\"type\":\"identify\",\"userId\":77}]}",
                  200, OK_ANSWER);
    cr_assert(profile_has(c, "b-1", "\"gold\""));
    cr_assert(profile_has(c, "b-1", "\"seats\":3"), "identify merges into the profile");
    cr_assert(!profile_has(c, "b-1", "\"tin\""), "only identify feeds the profile");
    cr_assert(!profile_has(c, "b-2", ""), "an anonymous identify has no profile");
    cr_assert(!profile_has(c, "77", ""), "only a string userId names a profile");
    /* one bad item: nothing of the batch is remembered */
    expect_answer("/v1/batch",
                  "{\"batch\":[{\"type\":\"identify\",\"userId\":\"b-3\",\"traits\":{}},"
                  "{\"type\":\"identify\"}]}",
                  400, REFUSED("batch[1]: userId or anonymousId is required"));
    cr_assert(!profile_has(c, "b-3", ""));
    /* the single-message route: the path's type decides */
    expect_answer("/v1/identify", "{\"userId\":\"s-1\",\"traits\":{\"plan\":\"silver\"}}", 200,
                  OK_ANSWER);
    cr_assert(profile_has(c, "s-1", "\"silver\""));
    expect_answer("/v1/identify", "{\"userId\":\"s-2\"}", 200, OK_ANSWER);
    cr_assert(profile_has(c, "s-2", ""));
    expect_answer("/v1/track", "{\"type\":\"identify\",\"userId\":\"s-3\"}", 200, OK_ANSWER);
    cr_assert(!profile_has(c, "s-3", ""));
}

Test(cdp, test_enqueue_message_larger_than_the_stack_buffer_arrives_whole) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = CIO_SINK_PIPELINES;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    char *props = malloc(20000);
    int n = snprintf(props, 20000, "{\"blob\":\"");
    for (int i = 0; i < 19000; i++)
        props[n + i] = (char)('a' + i % 26);
    strcpy(props + n + 19000, "\"}");
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    m.type = "track";
    m.user_id = "u";
    m.event = "big";
    m.properties_json = props;
    cr_assert_eq(cio_pipeline_enqueue_message(p, &m, NULL, NULL), CIO_OK, "%s",
                 cio_last_error()->message);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    json_t *body = one_cdp_message("/v1/batch");
    json_t *msg = json_array_get(json_object_get(body, "batch"), 0);
    const char *blob =
        json_string_value(json_object_get(json_object_get(msg, "properties"), "blob"));
    cr_assert_not_null(blob);
    cr_assert_eq(strlen(blob), 19000);
    cr_assert_eq(memcmp(blob, props + n, 19000), 0);
    json_decref(body);
    free(props);
}

/* A part is nested one level down in the message: it may go one level less deep than a whole
 * message may (512), so that what cio_cdp_build accepts, cio_cdp_prepare accepts too. */
Test(cdp, test_build_counts_the_message_level_in_the_nesting_limit) {
    char traits[2048];
    for (int levels = 511; levels <= 512; levels++) {
        int n = snprintf(traits, sizeof traits, "{\"a\":");
        for (int i = 1; i < levels; i++)
            traits[n++] = '[';
        for (int i = 1; i < levels; i++)
            traits[n++] = ']';
        strcpy(traits + n, "}");
        cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
        m.type = "identify";
        m.user_id = "u";
        m.traits_json = traits;
        char *text = NULL;
        cio_status_t st = cio_cdp_build(&m, &text, NULL);
        if (levels == 512) {
            expect_error(st, CIO_E_INVALID_ARGUMENT, "traits is not valid JSON", "nested");
            continue;
        }
        cr_assert_eq(st, CIO_OK, "%s", cio_last_error()->message);
        char *again = NULL;
        cr_assert_eq(cio_cdp_prepare(text, &again), CIO_OK, "%s", cio_last_error()->message);
        cr_assert_str_eq(again, text);
        cio_free(again);
        cio_free(text);
    }
}
