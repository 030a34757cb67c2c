/*
 * Bad input: every call validates before it sends. A rejected call returns the exact status,
 * names the call and the field in cio_last_error(), made no HTTP attempt, and the emulator
 * received nothing.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(validation, .init = fx_setup, .fini = fx_teardown);

/* The call was refused locally: status, message naming call and field, nothing sent. */
static void expect_rejected(cio_status_t got, cio_status_t want, const char *call,
                            const char *field) {
    expect_error(got, want, call, field);
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->attempts, 0, "a rejected call reports %d attempt(s)", e->attempts);
    cr_assert_eq(e->http_status, 0, "a rejected call reports HTTP %d", e->http_status);
    expect_nothing_sent();
}

#define INVALID CIO_E_INVALID_ARGUMENT

/* ---- customer ids ---- */

Test(validation, test_identify_rejects_null_customer_id) {
    expect_rejected(cio_identify(fx.client, NULL, "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_empty_customer_id) {
    expect_rejected(cio_identify(fx.client, "", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_151_byte_customer_id) {
    char *id = repeat_char('x', 151);
    cio_status_t st = cio_identify(fx.client, id, "{}");
    free(id);
    expect_rejected(st, INVALID, "identify", "customer_id");
}

Test(validation, test_identify_counts_id_length_in_bytes_not_characters) {
    /* 76 two-byte characters = 152 bytes. */
    char id[160] = "";
    for (int i = 0; i < 76; i++)
        strcat(id, "\xc3\xa9");
    expect_rejected(cio_identify(fx.client, id, "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_invalid_utf8_customer_id) {
    expect_rejected(cio_identify(fx.client, "ab\xff\xfe", "{}"), INVALID, "identify",
                    "customer_id");
}

Test(validation, test_identify_rejects_truncated_utf8_sequence_in_customer_id) {
    expect_rejected(cio_identify(fx.client, "ab\xc3", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_overlong_utf8_encoding_of_slash) {
    expect_rejected(cio_identify(fx.client, "a\xc0\xaf", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_cr_in_customer_id) {
    expect_rejected(cio_identify(fx.client, "a\rb", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_lf_in_customer_id) {
    expect_rejected(cio_identify(fx.client, "a\nb", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_identify_rejects_crlf_header_injection_in_customer_id) {
    expect_rejected(cio_identify(fx.client, "a\r\nX-Evil: 1", "{}"), INVALID, "identify",
                    "customer_id");
}

Test(validation, test_identify_rejects_other_control_characters_in_customer_id) {
    expect_rejected(cio_identify(fx.client, "a\tb", "{}"), INVALID, "identify", "customer_id");
    expect_rejected(cio_identify(fx.client, "a\x1b", "{}"), INVALID, "identify", "customer_id");
    expect_rejected(cio_identify(fx.client, "a\x7f", "{}"), INVALID, "identify", "customer_id");
}

Test(validation, test_delete_rejects_empty_customer_id) {
    expect_rejected(cio_delete(fx.client, ""), INVALID, "delete", "customer_id");
}

Test(validation, test_suppress_and_unsuppress_reject_bad_customer_id) {
    expect_rejected(cio_suppress(fx.client, NULL), INVALID, "suppress", "customer_id");
    expect_rejected(cio_unsuppress(fx.client, "x\ny"), INVALID, "unsuppress", "customer_id");
}

Test(validation, test_calls_reject_null_client) {
    expect_error(cio_identify(NULL, "a", "{}"), INVALID, "identify", "client");
    expect_error(cio_track(NULL, "a", "e", NULL, NULL), INVALID, "track", "client");
    expect_nothing_sent();
}

/* ---- JSON arguments ---- */

Test(validation, test_identify_rejects_attributes_that_are_an_array) {
    expect_rejected(cio_identify(fx.client, "a", "[1,2]"), INVALID, "identify", "attributes");
}

Test(validation, test_identify_rejects_attributes_that_are_a_string) {
    expect_rejected(cio_identify(fx.client, "a", "\"text\""), INVALID, "identify", "attributes");
}

Test(validation, test_identify_rejects_attributes_that_are_a_number_or_null) {
    expect_rejected(cio_identify(fx.client, "a", "42"), INVALID, "identify", "attributes");
    expect_rejected(cio_identify(fx.client, "a", "null"), INVALID, "identify", "attributes");
}

Test(validation, test_identify_rejects_malformed_attributes) {
    expect_rejected(cio_identify(fx.client, "a", "{\"a\":"), INVALID, "identify", "attributes");
    expect_rejected(cio_identify(fx.client, "a", "{} {}"), INVALID, "identify", "attributes");
    expect_rejected(cio_identify(fx.client, "a", ""), INVALID, "identify", "attributes");
}

Test(validation, test_identify_rejects_invalid_utf8_in_attributes) {
    expect_rejected(cio_identify(fx.client, "a", "{\"name\":\"\xff\xfe\"}"), INVALID, "identify",
                    "attributes");
}

Test(validation, test_track_rejects_data_that_is_an_array) {
    expect_rejected(cio_track(fx.client, "a", "e", "[]", NULL), INVALID, "track", "data");
}

Test(validation, test_track_rejects_malformed_data) {
    expect_rejected(cio_track(fx.client, "a", "e", "{nope}", NULL), INVALID, "track", "data");
}

Test(validation, test_track_rejects_invalid_utf8_in_data) {
    expect_rejected(cio_track(fx.client, "a", "e", "{\"k\":\"\xc3\"}", NULL), INVALID, "track",
                    "data");
}

Test(validation, test_add_device_rejects_attributes_that_are_a_string) {
    expect_rejected(cio_add_device(fx.client, "a", "t", "ios", 0, "\"x\""), INVALID, "add_device",
                    "attributes");
}

/* ---- events ---- */

Test(validation, test_track_rejects_bad_customer_id) {
    expect_rejected(cio_track(fx.client, "", "e", NULL, NULL), INVALID, "track", "customer_id");
    expect_rejected(cio_track(fx.client, "a\rb", "e", NULL, NULL), INVALID, "track", "customer_id");
}

Test(validation, test_track_rejects_null_or_empty_name) {
    expect_rejected(cio_track(fx.client, "a", NULL, NULL, NULL), INVALID, "track", "name");
    expect_rejected(cio_track(fx.client, "a", "", NULL, NULL), INVALID, "track", "name");
}

Test(validation, test_track_rejects_invalid_utf8_name) {
    expect_rejected(cio_track(fx.client, "a", "\xff", NULL, NULL), INVALID, "track", "name");
}

Test(validation, test_track_rejects_unknown_event_options_version) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.version = 999;
    expect_rejected(cio_track(fx.client, "a", "e", NULL, &eo), INVALID, "track", "version");
}

Test(validation, test_track_rejects_event_id_with_lf) {
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.id = "x\ny";
    expect_rejected(cio_track(fx.client, "a", "e", NULL, &eo), INVALID, "track", "id");
}

Test(validation, test_track_anonymous_rejects_empty_anonymous_id) {
    expect_rejected(cio_track_anonymous(fx.client, "", "e", NULL, NULL), INVALID, "track_anonymous",
                    "anonymous_id");
}

Test(validation, test_track_anonymous_rejects_151_byte_anonymous_id) {
    char *id = repeat_char('z', 151);
    cio_status_t st = cio_track_anonymous(fx.client, id, "e", NULL, NULL);
    free(id);
    expect_rejected(st, INVALID, "track_anonymous", "anonymous_id");
}

Test(validation, test_track_anonymous_rejects_missing_name) {
    expect_rejected(cio_track_anonymous(fx.client, NULL, NULL, NULL, NULL), INVALID,
                    "track_anonymous", "name");
}

Test(validation, test_pageview_rejects_empty_url) {
    expect_rejected(cio_pageview(fx.client, "a", "", NULL, NULL), INVALID, "pageview", "url");
}

Test(validation, test_screen_rejects_null_screen_name) {
    expect_rejected(cio_screen(fx.client, "a", NULL, NULL, NULL), INVALID, "screen", "name");
}

Test(validation, test_backfill_requires_positive_timestamp) {
    expect_rejected(cio_backfill(fx.client, "a", "e", 0, NULL), INVALID, "backfill", "timestamp");
    expect_rejected(cio_backfill(fx.client, "a", "e", -5, NULL), INVALID, "backfill", "timestamp");
}

Test(validation, test_backfill_rejects_bad_customer_id) {
    expect_rejected(cio_backfill(fx.client, NULL, "e", 1, NULL), INVALID, "backfill",
                    "customer_id");
}

/* ---- devices ---- */

Test(validation, test_add_device_rejects_platform_other_than_ios_or_android) {
    expect_rejected(cio_add_device(fx.client, "a", "t", "web", 0, NULL), INVALID, "add_device",
                    "platform");
    expect_rejected(cio_add_device(fx.client, "a", "t", "", 0, NULL), INVALID, "add_device",
                    "platform");
    expect_rejected(cio_add_device(fx.client, "a", "t", NULL, 0, NULL), INVALID, "add_device",
                    "platform");
}

Test(validation, test_add_device_rejects_bad_device_id) {
    expect_rejected(cio_add_device(fx.client, "a", "", "ios", 0, NULL), INVALID, "add_device",
                    "device_id");
    expect_rejected(cio_add_device(fx.client, "a", "t\r\n", "ios", 0, NULL), INVALID, "add_device",
                    "device_id");
}

Test(validation, test_add_device_rejects_bad_customer_id) {
    expect_rejected(cio_add_device(fx.client, "", "t", "ios", 0, NULL), INVALID, "add_device",
                    "customer_id");
}

Test(validation, test_delete_device_rejects_bad_ids) {
    expect_rejected(cio_delete_device(fx.client, "a", ""), INVALID, "delete_device", "device_id");
    expect_rejected(cio_delete_device(fx.client, NULL, "t"), INVALID, "delete_device",
                    "customer_id");
}

/* ---- merge ---- */

Test(validation, test_merge_customers_rejects_empty_primary_id) {
    expect_rejected(cio_merge_customers(fx.client, CIO_ID_TYPE_ID, "", CIO_ID_TYPE_ID, "b"),
                    INVALID, "merge_customers", "primary");
}

Test(validation, test_merge_customers_rejects_151_byte_secondary_id) {
    char *id = repeat_char('s', 151);
    cio_status_t st = cio_merge_customers(fx.client, CIO_ID_TYPE_ID, "a", CIO_ID_TYPE_ID, id);
    free(id);
    expect_rejected(st, INVALID, "merge_customers", "secondary");
}

Test(validation, test_merge_customers_rejects_unknown_id_type) {
    expect_rejected(cio_merge_customers(fx.client, (cio_id_type_t)7, "a", CIO_ID_TYPE_ID, "b"),
                    INVALID, "merge_customers", "primary");
    expect_rejected(cio_merge_customers(fx.client, CIO_ID_TYPE_ID, "a", (cio_id_type_t)-1, "b"),
                    INVALID, "merge_customers", "secondary");
}

/* ---- push and delivery metrics ---- */

Test(validation, test_track_push_event_rejects_unknown_event_name) {
    expect_rejected(cio_track_push_event(fx.client, "d", "clicked", "t", 0), INVALID, "push",
                    "event");
    expect_rejected(cio_track_push_event(fx.client, "d", "OPENED", "t", 0), INVALID, "push",
                    "event");
    expect_rejected(cio_track_push_event(fx.client, "d", NULL, "t", 0), INVALID, "push", "event");
}

Test(validation, test_track_push_event_rejects_bad_delivery_and_device_ids) {
    expect_rejected(cio_track_push_event(fx.client, "", "opened", "t", 0), INVALID, "push",
                    "delivery_id");
    expect_rejected(cio_track_push_event(fx.client, "d", "opened", "", 0), INVALID, "push",
                    "device_id");
}

Test(validation, test_track_delivery_metric_rejects_unknown_metric) {
    expect_rejected(cio_track_delivery_metric(fx.client, "exploded", "d", 0, NULL, NULL, NULL),
                    INVALID, "delivery_metric", "metric");
    expect_rejected(cio_track_delivery_metric(fx.client, NULL, "d", 0, NULL, NULL, NULL), INVALID,
                    "delivery_metric", "metric");
}

Test(validation, test_track_delivery_metric_rejects_bad_delivery_id) {
    expect_rejected(cio_track_delivery_metric(fx.client, "sent", "", 0, NULL, NULL, NULL), INVALID,
                    "delivery_metric", "delivery_id");
}

Test(validation, test_track_delivery_metric_rejects_invalid_utf8_in_optional_field) {
    expect_rejected(cio_track_delivery_metric(fx.client, "bounced", "d", 0, NULL, "\xff", NULL),
                    INVALID, "delivery_metric", "reason");
}

/* ---- segments ---- */

Test(validation, test_segment_add_customers_rejects_zero_count_as_empty_ids) {
    const char *ids[] = {"a"};
    expect_rejected(cio_segment_add_customers(fx.client, "1", ids, 0, CIO_ID_TYPE_ID), INVALID,
                    "segment", "ids");
}

Test(validation, test_segment_add_customers_rejects_null_ids) {
    expect_rejected(cio_segment_add_customers(fx.client, "1", NULL, 1, CIO_ID_TYPE_ID), INVALID,
                    "segment", "ids");
}

Test(validation, test_segment_remove_customers_rejects_one_bad_id_in_the_list) {
    const char *ids[] = {"ok-1", "bad\nid", "ok-2"};
    expect_rejected(cio_segment_remove_customers(fx.client, "1", ids, 3, CIO_ID_TYPE_ID), INVALID,
                    "segment", "ids");
}

Test(validation, test_segment_add_customers_rejects_null_id_in_the_list) {
    const char *ids[] = {"ok-1", NULL};
    expect_rejected(cio_segment_add_customers(fx.client, "1", ids, 2, CIO_ID_TYPE_ID), INVALID,
                    "segment", "ids");
}

Test(validation, test_segment_add_customers_rejects_empty_segment_id) {
    const char *ids[] = {"a"};
    expect_rejected(cio_segment_add_customers(fx.client, "", ids, 1, CIO_ID_TYPE_ID), INVALID,
                    "segment", "segment_id");
}

Test(validation, test_segment_add_customers_rejects_unknown_id_type) {
    const char *ids[] = {"a"};
    expect_rejected(cio_segment_add_customers(fx.client, "1", ids, 1, (cio_id_type_t)9), INVALID,
                    "segment", "id_type");
}

/* ---- size limit ---- */

/* Attributes {"k":"xxx..."} whose serialised body is `total` bytes. */
static char *attributes_of_size(size_t total) {
    const size_t overhead = strlen("{\"k\":\"\"}");
    char *s = malloc(total + 1);
    cr_assert_not_null(s);
    strcpy(s, "{\"k\":\"");
    memset(s + 6, 'x', total - overhead);
    strcpy(s + 6 + (total - overhead), "\"}");
    return s;
}

Test(validation, test_identify_rejects_body_over_32_kb) {
    char *attrs = attributes_of_size(CIO_TRACK_V1_MAX_BODY_BYTES + 1);
    cio_status_t st = cio_identify(fx.client, "a", attrs);
    free(attrs);
    expect_rejected(st, CIO_E_PAYLOAD_TOO_LARGE, "identify", NULL);
}

Test(validation, test_identify_accepts_body_of_exactly_32_kb) {
    char *attrs = attributes_of_size(CIO_TRACK_V1_MAX_BODY_BYTES);
    expect_ok(cio_identify(fx.client, "a", attrs));
    json_decref(expect_one_request("PUT", "/api/v1/customers/a", attrs));
    free(attrs);
}

Test(validation, test_track_rejects_event_whose_body_exceeds_32_kb) {
    /* The data alone fits; name, id and the envelope push the body over the limit. */
    char *data = attributes_of_size(CIO_TRACK_V1_MAX_BODY_BYTES - 10);
    cio_status_t st = cio_track(fx.client, "a", "big-event", data, NULL);
    free(data);
    expect_rejected(st, CIO_E_PAYLOAD_TOO_LARGE, "track", NULL);
}

Test(validation, test_segment_add_customers_rejects_body_over_32_kb) {
    enum { N = 2000 };
    static const char *ids[N];
    for (size_t i = 0; i < N; i++)
        ids[i] = "customer-id-of-some-length"; /* ~30 bytes each once quoted: ~60 KB */
    expect_rejected(cio_segment_add_customers(fx.client, "1", ids, N, CIO_ID_TYPE_ID),
                    CIO_E_PAYLOAD_TOO_LARGE, "segment", NULL);
}

/* ---- credentials ---- */

TestSuite(validation_config, .init = fx_setup_mock_only, .fini = fx_teardown);

Test(validation_config, test_track_calls_without_credentials_fail_with_config) {
    cio_client_options_t opts = fx_options();
    opts.site_id = NULL;
    opts.api_key = NULL;
    cio_client_t *c = fx_client(&opts);
    const char *ids[] = {"a"};
    expect_rejected(cio_identify(c, "a", "{}"), CIO_E_CONFIG, "identify", "site_id");
    expect_rejected(cio_delete(c, "a"), CIO_E_CONFIG, "delete", NULL);
    expect_rejected(cio_track(c, "a", "e", NULL, NULL), CIO_E_CONFIG, "track", NULL);
    expect_rejected(cio_track_anonymous(c, NULL, "e", NULL, NULL), CIO_E_CONFIG, "track_anonymous",
                    NULL);
    expect_rejected(cio_pageview(c, "a", "/", NULL, NULL), CIO_E_CONFIG, "pageview", NULL);
    expect_rejected(cio_screen(c, "a", "s", NULL, NULL), CIO_E_CONFIG, "screen", NULL);
    expect_rejected(cio_backfill(c, "a", "e", 1, NULL), CIO_E_CONFIG, "backfill", NULL);
    expect_rejected(cio_add_device(c, "a", "t", "ios", 0, NULL), CIO_E_CONFIG, "add_device", NULL);
    expect_rejected(cio_delete_device(c, "a", "t"), CIO_E_CONFIG, "delete_device", NULL);
    expect_rejected(cio_suppress(c, "a"), CIO_E_CONFIG, "suppress", NULL);
    expect_rejected(cio_unsuppress(c, "a"), CIO_E_CONFIG, "unsuppress", NULL);
    expect_rejected(cio_merge_customers(c, CIO_ID_TYPE_ID, "a", CIO_ID_TYPE_ID, "b"), CIO_E_CONFIG,
                    "merge_customers", NULL);
    expect_rejected(cio_track_push_event(c, "d", "opened", "t", 1), CIO_E_CONFIG, "push", NULL);
    expect_rejected(cio_track_delivery_metric(c, "sent", "d", 0, NULL, NULL, NULL), CIO_E_CONFIG,
                    "delivery_metric", NULL);
    expect_rejected(cio_segment_add_customers(c, "1", ids, 1, CIO_ID_TYPE_ID), CIO_E_CONFIG,
                    "segment", NULL);
    expect_rejected(cio_segment_remove_customers(c, "1", ids, 1, CIO_ID_TYPE_ID), CIO_E_CONFIG,
                    "segment", NULL);
}

Test(validation_config, test_track_call_without_api_key_names_api_key) {
    cio_client_options_t opts = fx_options();
    opts.api_key = NULL;
    cio_client_t *c = fx_client(&opts);
    expect_rejected(cio_identify(c, "a", "{}"), CIO_E_CONFIG, "identify", "api_key");
}

Test(validation_config, test_track_call_without_site_id_names_site_id) {
    cio_client_options_t opts = fx_options();
    opts.site_id = NULL;
    cio_client_t *c = fx_client(&opts);
    expect_rejected(cio_track(c, "a", "e", NULL, NULL), CIO_E_CONFIG, "track", "site_id");
}

Test(validation_config, test_empty_credentials_count_as_missing) {
    /* Refused either when the client is made or when a Track call is made, never sent. */
    cio_client_options_t opts = fx_options();
    opts.site_id = "";
    opts.api_key = "";
    cio_client_t *c = NULL;
    cio_status_t st = cio_client_new(&opts, &c);
    if (st != CIO_OK) {
        expect_error(st, CIO_E_CONFIG, NULL, NULL);
        cr_assert_null(c);
        return;
    }
    expect_rejected(cio_delete(c, "a"), CIO_E_CONFIG, "delete", NULL);
    cio_client_free(c);
}
