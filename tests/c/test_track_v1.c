/*
 * Track API v1: the bytes each call puts on the wire (method, raw path, query, JSON body, headers).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(track_v1, .init = fx_setup, .fini = fx_teardown);

/* ---- identify / delete ---- */

Test(track_v1, test_identify_puts_attributes_as_body) {
    expect_ok(cio_identify(fx.client, "cust-1",
                           "{\"email\":\"a@example.com\",\"created_at\":1700000000,"
                           "\"_update\":true,\"plan\":{\"tier\":\"pro\"}}"));
    json_t *req = expect_one_request("PUT", "/api/v1/customers/cust-1",
                                     "{\"email\":\"a@example.com\",\"created_at\":1700000000,"
                                     "\"_update\":true,\"plan\":{\"tier\":\"pro\"}}");
    json_decref(req);
}

Test(track_v1, test_identify_with_null_attributes_sends_empty_object) {
    expect_ok(cio_identify(fx.client, "cust-1", NULL));
    json_decref(expect_one_request("PUT", "/api/v1/customers/cust-1", "{}"));
}

Test(track_v1, test_identify_percent_encodes_slash_and_at) {
    expect_ok(cio_identify(fx.client, "a/b@c d", "{}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/a%2Fb%40c%20d", "{}"));
}

Test(track_v1, test_identify_percent_encodes_reserved_and_utf8_bytes) {
    /* Only ALPHA DIGIT - . _ ~ survive; everything else, UTF-8 bytes included, is %XX. */
    expect_ok(cio_identify(fx.client, "Az09-._~+?#%&=:;,!'()*[]\xc3\xa9", "{}"));
    json_decref(expect_one_request(
        "PUT", "/api/v1/customers/Az09-._~%2B%3F%23%25%26%3D%3A%3B%2C%21%27%28%29%2A%5B%5D%C3%A9",
        "{}"));
}

Test(track_v1, test_identify_accepts_email_as_customer_id) {
    expect_ok(cio_identify(fx.client, "user+tag@example.com", "{\"first_name\":\"Ann\"}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/user%2Btag%40example.com",
                                   "{\"first_name\":\"Ann\"}"));
}

Test(track_v1, test_identify_accepts_cio_id_as_customer_id) {
    expect_ok(cio_identify(fx.client, "cio_03000010", "{}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/cio_03000010", "{}"));
}

Test(track_v1, test_identify_accepts_150_byte_id) {
    char *id = repeat_char('x', 150);
    expect_ok(cio_identify(fx.client, id, "{}"));
    char path[256];
    snprintf(path, sizeof path, "/api/v1/customers/%s", id);
    json_decref(expect_one_request("PUT", path, "{}"));
    free(id);
}

Test(track_v1, test_identify_preserves_unicode_and_numbers_in_attributes) {
    const char *attrs = "{\"name\":\"J\xc3\xbcrgen \xf0\x9f\x98\x80\",\"n\":-12,\"f\":1.5,"
                        "\"big\":9007199254740993,\"nested\":{\"a\":[1,\"two\",null,false]}}";
    expect_ok(cio_identify(fx.client, "u1", attrs));
    json_decref(expect_one_request("PUT", "/api/v1/customers/u1", attrs));
}

Test(track_v1, test_delete_sends_delete_without_body) {
    expect_ok(cio_delete(fx.client, "a/b"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/a%2Fb", NULL));
}

/* ---- events ---- */

Test(track_v1, test_track_sends_name_data_and_ulid_id) {
    expect_ok(
        cio_track(fx.client, "cust-1", "purchase", "{\"price\":23.45,\"sku\":\"x-1\"}", NULL));
    json_decref(expect_one_event(
        "POST", "/api/v1/customers/cust-1/events",
        "{\"name\":\"purchase\",\"data\":{\"price\":23.45,\"sku\":\"x-1\"}}", NULL));
}

Test(track_v1, test_track_without_data_sends_empty_data_object) {
    expect_ok(cio_track(fx.client, "cust-1", "login", NULL, NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"name\":\"login\",\"data\":{}}", NULL));
}

Test(track_v1, test_track_sends_timestamp_when_nonzero) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.timestamp = 4102444800; /* 2100-01-01: does not fit in 32 bits */
    expect_ok(cio_track(fx.client, "cust-1", "renewed", "{}", &eo));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"name\":\"renewed\",\"data\":{},\"timestamp\":4102444800}",
                                 NULL));
}

Test(track_v1, test_track_zero_timestamp_is_not_sent) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    expect_ok(cio_track(fx.client, "cust-1", "renewed", "{}", &eo));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"name\":\"renewed\",\"data\":{}}", NULL));
}

Test(track_v1, test_track_uses_caller_event_id_as_is) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.id = "my-dedup-key-42";
    eo.timestamp = 1700000000;
    expect_ok(cio_track(fx.client, "cust-1", "purchase", "{\"a\":1}", &eo));
    json_decref(expect_one_request("POST", "/api/v1/customers/cust-1/events",
                                   "{\"name\":\"purchase\",\"data\":{\"a\":1},"
                                   "\"timestamp\":1700000000,\"id\":\"my-dedup-key-42\"}"));
}

Test(track_v1, test_track_gives_each_call_a_fresh_increasing_id) {
    char id1[CIO_ULID_BUFSIZE], id2[CIO_ULID_BUFSIZE];
    expect_ok(cio_track(fx.client, "c", "e", NULL, NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/c/events",
                                 "{\"name\":\"e\",\"data\":{}}", id1));
    mock_clear();
    expect_ok(cio_track(fx.client, "c", "e", NULL, NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/c/events",
                                 "{\"name\":\"e\",\"data\":{}}", id2));
    cr_assert(strcmp(id1, id2) < 0, "ids not increasing: %s then %s", id1, id2);
}

Test(track_v1, test_track_percent_encodes_customer_id_in_events_path) {
    expect_ok(cio_track(fx.client, "a/b@c d", "x", NULL, NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/a%2Fb%40c%20d/events",
                                 "{\"name\":\"x\",\"data\":{}}", NULL));
}

Test(track_v1, test_track_anonymous_sends_anonymous_id) {
    expect_ok(cio_track_anonymous(fx.client, "anon-7", "viewed", "{\"page\":\"/\"}", NULL));
    json_decref(expect_one_event(
        "POST", "/api/v1/events",
        "{\"name\":\"viewed\",\"anonymous_id\":\"anon-7\",\"data\":{\"page\":\"/\"}}", NULL));
}

Test(track_v1, test_track_anonymous_without_anonymous_id_omits_the_field) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.timestamp = 1700000001;
    expect_ok(cio_track_anonymous(fx.client, NULL, "broadcast", "{\"k\":\"v\"}", &eo));
    json_decref(expect_one_event(
        "POST", "/api/v1/events",
        "{\"name\":\"broadcast\",\"data\":{\"k\":\"v\"},\"timestamp\":1700000001}", NULL));
}

Test(track_v1, test_track_anonymous_uses_caller_event_id) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.id = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
    expect_ok(cio_track_anonymous(fx.client, "anon-1", "e", NULL, &eo));
    json_decref(expect_one_request("POST", "/api/v1/events",
                                   "{\"name\":\"e\",\"anonymous_id\":\"anon-1\",\"data\":{},"
                                   "\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZZ\"}"));
}

Test(track_v1, test_pageview_sends_type_page_with_url_as_name) {
    expect_ok(
        cio_pageview(fx.client, "cust-1", "https://example.com/a?b=c", "{\"ref\":\"g\"}", NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"type\":\"page\",\"name\":\"https://example.com/a?b=c\","
                                 "\"data\":{\"ref\":\"g\"}}",
                                 NULL));
}

Test(track_v1, test_pageview_sends_timestamp_and_caller_id) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.timestamp = 1600000000;
    eo.id = "pv-1";
    expect_ok(cio_pageview(fx.client, "cust-1", "/home", NULL, &eo));
    json_decref(expect_one_request("POST", "/api/v1/customers/cust-1/events",
                                   "{\"type\":\"page\",\"name\":\"/home\",\"data\":{},"
                                   "\"timestamp\":1600000000,\"id\":\"pv-1\"}"));
}

Test(track_v1, test_screen_sends_type_screen_with_screen_name) {
    expect_ok(cio_screen(fx.client, "cust-1", "Settings", "{\"tab\":2}", NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"type\":\"screen\",\"name\":\"Settings\",\"data\":{\"tab\":2}}",
                                 NULL));
}

Test(track_v1, test_backfill_sends_required_timestamp_and_ulid_id) {
    expect_ok(cio_backfill(fx.client, "cust-1", "signed_up", 1500000000, "{\"via\":\"import\"}"));
    json_decref(expect_one_event(
        "POST", "/api/v1/customers/cust-1/events",
        "{\"name\":\"signed_up\",\"data\":{\"via\":\"import\"},\"timestamp\":1500000000}", NULL));
}

Test(track_v1, test_backfill_without_data_sends_empty_data_object) {
    expect_ok(cio_backfill(fx.client, "cust-1", "old", 1, NULL));
    json_decref(expect_one_event("POST", "/api/v1/customers/cust-1/events",
                                 "{\"name\":\"old\",\"data\":{},\"timestamp\":1}", NULL));
}

/* ---- devices ---- */

Test(track_v1, test_add_device_with_last_used_and_attributes) {
    expect_ok(cio_add_device(fx.client, "cust-1", "tok/en", "ios", 1700000000,
                             "{\"app_version\":\"1.2\",\"push_enabled\":\"true\"}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/cust-1/devices",
                                   "{\"device\":{\"id\":\"tok/en\",\"platform\":\"ios\","
                                   "\"last_used\":1700000000,\"attributes\":{\"app_version\":"
                                   "\"1.2\",\"push_enabled\":\"true\"}}}"));
}

Test(track_v1, test_add_device_without_last_used_or_attributes) {
    expect_ok(cio_add_device(fx.client, "cust-1", "token-a", "android", 0, NULL));
    json_decref(expect_one_request("PUT", "/api/v1/customers/cust-1/devices",
                                   "{\"device\":{\"id\":\"token-a\",\"platform\":\"android\"}}"));
}

Test(track_v1, test_add_device_percent_encodes_customer_id) {
    expect_ok(cio_add_device(fx.client, "a@b.c", "t", "ios", 0, NULL));
    json_decref(expect_one_request("PUT", "/api/v1/customers/a%40b.c/devices",
                                   "{\"device\":{\"id\":\"t\",\"platform\":\"ios\"}}"));
}

Test(track_v1, test_add_device_fields_sends_every_member_after_id_and_platform) {
    expect_ok(cio_add_device_fields(fx.client, "cust-1", "tok-1", "ios",
                                    "{\"last_used\":1700000000,\"attributes\":{\"a\":1},"
                                    "\"push_enabled\":false,\"app_version\":\"2.0\"}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/cust-1/devices",
                                   "{\"device\":{\"id\":\"tok-1\",\"platform\":\"ios\","
                                   "\"last_used\":1700000000,\"attributes\":{\"a\":1},"
                                   "\"push_enabled\":false,\"app_version\":\"2.0\"}}"));
}

Test(track_v1, test_add_device_fields_with_an_empty_object_or_null_sends_id_and_platform) {
    expect_ok(cio_add_device_fields(fx.client, "cust-1", "tok-1", "android", " { } "));
    expect_ok(cio_add_device_fields(fx.client, "cust-1", "tok-2", "android", NULL));
    json_t *reqs = mock_requests_wait(2);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "body"),
                     "{\"device\":{\"id\":\"tok-1\",\"platform\":\"android\"}}");
    cr_assert_str_eq(req_str(json_array_get(reqs, 1), "body"),
                     "{\"device\":{\"id\":\"tok-2\",\"platform\":\"android\"}}");
    json_decref(reqs);
}

Test(track_v1, test_add_device_fields_refuses_id_platform_and_non_objects) {
    expect_error(cio_add_device_fields(fx.client, "c", "t", "ios", "{\"id\":\"x\"}"),
                 CIO_E_INVALID_ARGUMENT, "add_device", "id or platform");
    expect_error(cio_add_device_fields(fx.client, "c", "t", "ios", "{\"platform\":\"web\"}"),
                 CIO_E_INVALID_ARGUMENT, "add_device", "id or platform");
    expect_error(cio_add_device_fields(fx.client, "c", "t", "ios", "[1]"), CIO_E_INVALID_ARGUMENT,
                 "fields must be a JSON object", NULL);
    expect_error(cio_add_device_fields(fx.client, "c", "t", "ios", "{\"a\":"),
                 CIO_E_INVALID_ARGUMENT, "fields is not valid JSON", NULL);
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 0, "nothing was sent");
    json_decref(reqs);
}

Test(track_v1, test_delete_device_percent_encodes_both_ids) {
    expect_ok(cio_delete_device(fx.client, "a/b", "tok:en/1 2"));
    json_decref(
        expect_one_request("DELETE", "/api/v1/customers/a%2Fb/devices/tok%3Aen%2F1%202", NULL));
}

/* ---- suppress ---- */

Test(track_v1, test_suppress_posts_without_body) {
    expect_ok(cio_suppress(fx.client, "a b"));
    json_decref(expect_one_request("POST", "/api/v1/customers/a%20b/suppress", NULL));
}

Test(track_v1, test_unsuppress_posts_without_body) {
    expect_ok(cio_unsuppress(fx.client, "x@y.z"));
    json_decref(expect_one_request("POST", "/api/v1/customers/x%40y.z/unsuppress", NULL));
}

/* ---- merge ---- */

Test(track_v1, test_merge_customers_by_id) {
    expect_ok(cio_merge_customers(fx.client, CIO_ID_TYPE_ID, "p/1", CIO_ID_TYPE_ID, "s 2"));
    json_decref(
        expect_one_request("POST", "/api/v1/merge_customers",
                           "{\"primary\":{\"id\":\"p/1\"},\"secondary\":{\"id\":\"s 2\"}}"));
}

Test(track_v1, test_merge_customers_by_email) {
    expect_ok(
        cio_merge_customers(fx.client, CIO_ID_TYPE_EMAIL, "a@x.io", CIO_ID_TYPE_EMAIL, "b@x.io"));
    json_decref(expect_one_request(
        "POST", "/api/v1/merge_customers",
        "{\"primary\":{\"email\":\"a@x.io\"},\"secondary\":{\"email\":\"b@x.io\"}}"));
}

Test(track_v1, test_merge_customers_by_cio_id) {
    expect_ok(cio_merge_customers(fx.client, CIO_ID_TYPE_CIO_ID, "a1b2", CIO_ID_TYPE_CIO_ID, "c3"));
    json_decref(expect_one_request(
        "POST", "/api/v1/merge_customers",
        "{\"primary\":{\"cio_id\":\"a1b2\"},\"secondary\":{\"cio_id\":\"c3\"}}"));
}

Test(track_v1, test_merge_customers_with_mixed_id_types) {
    expect_ok(cio_merge_customers(fx.client, CIO_ID_TYPE_ID, "42", CIO_ID_TYPE_EMAIL, "b@x.io"));
    json_decref(expect_one_request("POST", "/api/v1/merge_customers",
                                   "{\"primary\":{\"id\":\"42\"},\"secondary\":{\"email\":"
                                   "\"b@x.io\"}}"));
}

/* ---- push and delivery metrics ---- */

Test(track_v1, test_track_push_event_opened) {
    expect_ok(cio_track_push_event(fx.client, "dlv-1", "opened", "dev-1", 1700000000));
    json_decref(expect_one_request("POST", "/api/v1/push/events",
                                   "{\"delivery_id\":\"dlv-1\",\"event\":\"opened\","
                                   "\"device_id\":\"dev-1\",\"timestamp\":1700000000}"));
}

Test(track_v1, test_track_push_event_converted_and_delivered) {
    expect_ok(cio_track_push_event(fx.client, "d", "converted", "t", 5));
    json_decref(expect_one_request(
        "POST", "/api/v1/push/events",
        "{\"delivery_id\":\"d\",\"event\":\"converted\",\"device_id\":\"t\",\"timestamp\":5}"));
    mock_clear();
    expect_ok(cio_track_push_event(fx.client, "d", "delivered", "t", 6));
    json_decref(expect_one_request(
        "POST", "/api/v1/push/events",
        "{\"delivery_id\":\"d\",\"event\":\"delivered\",\"device_id\":\"t\",\"timestamp\":6}"));
}

Test(track_v1, test_track_push_event_zero_timestamp_sends_now) {
    int64_t before = (int64_t)time(NULL);
    expect_ok(cio_track_push_event(fx.client, "dlv-1", "opened", "dev-1", 0));
    int64_t after = (int64_t)time(NULL);
    json_t *req = mock_requests_wait(1);
    cr_assert_eq(json_array_size(req), 1);
    json_t *body = req_body_json(json_array_get(req, 0));
    json_t *ts = json_object_get(body, "timestamp");
    cr_assert(json_is_integer(ts), "timestamp is not an integer");
    cr_assert(json_integer_value(ts) >= before && json_integer_value(ts) <= after,
              "timestamp %lld is not now (%lld..%lld)", (long long)json_integer_value(ts),
              (long long)before, (long long)after);
    json_object_del(body, "timestamp");
    json_t *want =
        json_pack("{s:s,s:s,s:s}", "delivery_id", "dlv-1", "event", "opened", "device_id", "dev-1");
    cr_assert(json_equal(body, want), "push body differs");
    json_decref(want);
    json_decref(body);
    json_decref(req);
}

Test(track_v1, test_track_delivery_metric_with_every_field) {
    expect_ok(cio_track_delivery_metric(fx.client, "clicked", "dlv-9", 1700000000, "a@example.com",
                                        "because", "https://x.io/l?a=1"));
    json_decref(expect_one_request(
        "POST", "/api/v1/metrics",
        "{\"delivery_id\":\"dlv-9\",\"metric\":\"clicked\",\"timestamp\":1700000000,"
        "\"recipient\":\"a@example.com\",\"reason\":\"because\",\"href\":\"https://x.io/l?a=1\"}"));
}

Test(track_v1, test_track_delivery_metric_with_optional_fields_null) {
    expect_ok(cio_track_delivery_metric(fx.client, "delivered", "dlv-9", 0, NULL, NULL, NULL));
    json_decref(expect_one_request("POST", "/api/v1/metrics",
                                   "{\"delivery_id\":\"dlv-9\",\"metric\":\"delivered\"}"));
}

Test(track_v1, test_track_delivery_metric_accepts_every_documented_metric) {
    static const char *const metrics[] = {"sent",      "delivered",     "opened",   "clicked",
                                          "converted", "bounced",       "dropped",  "spammed",
                                          "failed",    "undeliverable", "deferred", "unsubscribed"};
    size_t n = sizeof metrics / sizeof metrics[0];
    for (size_t i = 0; i < n; i++) {
        cio_status_t st =
            cio_track_delivery_metric(fx.client, metrics[i], "d", 0, NULL, NULL, NULL);
        cr_assert_eq(st, CIO_OK, "metric %s: %s", metrics[i],
                     cio_last_error() ? cio_last_error()->message : "");
    }
    json_t *reqs = mock_requests_wait(n);
    cr_assert_eq(json_array_size(reqs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *body = req_body_json(json_array_get(reqs, i));
        cr_assert_str_eq(json_string_value(json_object_get(body, "metric")), metrics[i]);
        json_decref(body);
    }
    json_decref(reqs);
}

/* ---- manual segments ---- */

Test(track_v1, test_segment_add_customers_by_id_has_no_query) {
    const char *ids[] = {"a", "b/c", "d@e.f"};
    expect_ok(cio_segment_add_customers(fx.client, "12", ids, 3, CIO_ID_TYPE_ID));
    json_decref(expect_one_request_q("POST", "/api/v1/segments/12/add_customers", "",
                                     "{\"ids\":[\"a\",\"b/c\",\"d@e.f\"]}"));
}

Test(track_v1, test_segment_add_customers_by_email_adds_id_type_query) {
    const char *ids[] = {"a@x.io"};
    expect_ok(cio_segment_add_customers(fx.client, "7", ids, 1, CIO_ID_TYPE_EMAIL));
    json_decref(expect_one_request_q("POST", "/api/v1/segments/7/add_customers", "id_type=email",
                                     "{\"ids\":[\"a@x.io\"]}"));
}

Test(track_v1, test_segment_remove_customers_by_cio_id_adds_id_type_query) {
    const char *ids[] = {"c1", "c2"};
    expect_ok(cio_segment_remove_customers(fx.client, "7", ids, 2, CIO_ID_TYPE_CIO_ID));
    json_decref(expect_one_request_q("POST", "/api/v1/segments/7/remove_customers",
                                     "id_type=cio_id", "{\"ids\":[\"c1\",\"c2\"]}"));
}

Test(track_v1, test_segment_remove_customers_by_id_has_no_query) {
    const char *ids[] = {"x"};
    expect_ok(cio_segment_remove_customers(fx.client, "99", ids, 1, CIO_ID_TYPE_ID));
    json_decref(expect_one_request_q("POST", "/api/v1/segments/99/remove_customers", "",
                                     "{\"ids\":[\"x\"]}"));
}

Test(track_v1, test_segment_percent_encodes_segment_id) {
    const char *ids[] = {"x"};
    expect_ok(cio_segment_add_customers(fx.client, "a/b", ids, 1, CIO_ID_TYPE_ID));
    json_decref(expect_one_request_q("POST", "/api/v1/segments/a%2Fb/add_customers", "",
                                     "{\"ids\":[\"x\"]}"));
}

/* ---- headers ---- */

Test(track_v1, test_default_user_agent_names_library_and_version) {
    expect_ok(cio_delete(fx.client, "u"));
    json_t *req = expect_one_request("DELETE", "/api/v1/customers/u", NULL);
    cr_assert_str_eq(req_header(req, "user-agent"), "customerio-native/" CIO_VERSION_STRING " (C)");
    json_decref(req);
}

Test(track_v1, test_custom_user_agent_is_sent_as_is) {
    cio_client_options_t opts = fx_options();
    opts.user_agent = "my-app/9.9";
    cio_client_t *c = fx_client(&opts);
    expect_ok(cio_delete(c, "u"));
    json_t *req = expect_one_request("DELETE", "/api/v1/customers/u", NULL);
    cr_assert_str_eq(req_header(req, "user-agent"), "my-app/9.9");
    json_decref(req);
}

Test(track_v1, test_base_url_with_trailing_slash_gives_single_slash_paths) {
    char url[300];
    snprintf(url, sizeof url, "%s/", fx.base_url);
    cio_client_options_t opts = fx_options();
    opts.track_url = url;
    cio_client_t *c = fx_client(&opts);
    expect_ok(cio_delete(c, "u"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/u", NULL));
}

/* fork(): a child can use a client its parent made (it gets an engine of its own: the engine's
 * thread stayed with the parent) and free it, and the parent's client keeps working. Pre-forking
 * servers make their clients before they fork. */
Test(track_v1, test_a_forked_child_uses_and_frees_its_parents_client) {
    expect_ok(cio_track(fx.client, "1", "before-fork", NULL, NULL));
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int ok = cio_track(fx.client, "1", "from-child", NULL, NULL) == CIO_OK;
        cio_client_free(fx.client); /* returns: the parent's engine is not waited for here */
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    expect_ok(cio_track(fx.client, "1", "after-fork", NULL, NULL));
    json_t *reqs = mock_requests_wait(3);
    cr_assert_eq(json_array_size(reqs), 3);
    const char *want[] = {"before-fork", "from-child", "after-fork"};
    for (size_t i = 0; i < 3; i++) {
        json_t *body = req_body_json(json_array_get(reqs, i));
        cr_assert_str_eq(json_string_value(json_object_get(body, "name")), want[i]);
        json_decref(body);
    }
    json_decref(reqs);
}
