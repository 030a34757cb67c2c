/*
 * Reporting webhooks: signature verification (the API-FACTS test vector, every one-bit change of
 * every input, v0= and uppercase, replay window, malformed headers, the key never in a message),
 * body parsing (single event, events list, pass-through of unknown values, precise errors) and
 * the redelivery de-duplication set (TTL, capacity, concurrency). No emulator needed.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TestSuite(webhook);

/* The test vector from docs/API-FACTS.md ("Reporting webhooks"). */
#define KEY "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"
#define TS "1692633432"
#define TS_VALUE INT64_C(1692633432)
#define BODY "{\"key\": \"value\"}"
#define SIG "d7c655389bb364d3e8bdbb6ec18a7f1b6cf91f39bba647554ada78aa61de37b9"

static cio_status_t verify_vector(const char *key, const char *ts, const char *sig,
                                  const char *body, size_t body_len) {
    return cio_webhook_verify(key, ts, sig, body, body_len, 0, 0);
}

/* A tampered input was refused: a mismatch, or a malformed header - never CIO_OK. */
static void expect_rejected(cio_status_t st, const char *what, size_t pos, int bit) {
    cr_assert(st == CIO_E_SIGNATURE || st == CIO_E_INVALID_ARGUMENT,
              "flipping bit %d of %s byte %zu gave status %d (%s)", bit, what, pos, (int)st,
              cio_status_str(st));
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e, "no error recorded after flipping bit %d of %s byte %zu", bit, what, pos);
    cr_assert_eq(e->status, st);
    cr_assert_null(strstr(e->message, KEY), "the signing key leaked: %s", e->message);
}

static void expect_no_key_in_message(const char *key) {
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e);
    cr_assert_null(strstr(e->message, key), "the signing key leaked: %s", e->message);
}

/* ---- verification ---- */

Test(webhook, test_vector_verifies_without_tolerance) {
    expect_ok(verify_vector(KEY, TS, SIG, BODY, strlen(BODY)));
}

Test(webhook, test_vector_body_is_16_bytes) {
    cr_assert_eq(strlen(BODY), 16);
}

Test(webhook, test_vector_verifies_with_tolerance_300_ten_seconds_later) {
    expect_ok(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY),
                                 CIO_WEBHOOK_DEFAULT_TOLERANCE_SECONDS, TS_VALUE + 10));
}

Test(webhook, test_flipping_any_bit_of_the_key_fails) {
    char key[] = KEY;
    for (size_t i = 0; i < strlen(KEY); i++) {
        for (int bit = 0; bit < 8; bit++) {
            key[i] ^= (char)(1 << bit);
            expect_rejected(verify_vector(key, TS, SIG, BODY, strlen(BODY)), "key", i, bit);
            key[i] = KEY[i];
        }
    }
}

Test(webhook, test_flipping_any_bit_of_the_timestamp_fails) {
    char ts[] = TS;
    for (size_t i = 0; i < strlen(TS); i++) {
        for (int bit = 0; bit < 8; bit++) {
            ts[i] ^= (char)(1 << bit);
            expect_rejected(verify_vector(KEY, ts, SIG, BODY, strlen(BODY)), "timestamp", i, bit);
            ts[i] = TS[i];
        }
    }
}

Test(webhook, test_flipping_any_bit_of_the_body_fails) {
    char body[] = BODY; /* a flip may make a NUL byte: the length still covers it */
    for (size_t i = 0; i < strlen(BODY); i++) {
        for (int bit = 0; bit < 8; bit++) {
            body[i] ^= (char)(1 << bit);
            expect_rejected(verify_vector(KEY, TS, SIG, body, strlen(BODY)), "body", i, bit);
            body[i] = BODY[i];
        }
    }
}

Test(webhook, test_flipping_any_bit_of_the_signature_fails_unless_only_the_case_changes) {
    char sig[] = SIG;
    int case_flips = 0;
    for (size_t i = 0; i < strlen(SIG); i++) {
        for (int bit = 0; bit < 8; bit++) {
            sig[i] ^= (char)(1 << bit);
            cio_status_t st = verify_vector(KEY, TS, sig, BODY, strlen(BODY));
            if (isalpha((unsigned char)SIG[i]) && bit == 5) {
                /* 'd' <-> 'D': the same hex digit, and uppercase hex is accepted */
                cr_assert_eq(st, CIO_OK, "case flip at %zu rejected", i);
                case_flips++;
            } else {
                expect_rejected(st, "signature", i, bit);
            }
            sig[i] = SIG[i];
        }
    }
    cr_assert_gt(case_flips, 0);
}

Test(webhook, test_truncated_or_extended_body_fails) {
    expect_error(verify_vector(KEY, TS, SIG, BODY, strlen(BODY) - 1), CIO_E_SIGNATURE,
                 "does not match", NULL);
    expect_error(verify_vector(KEY, TS, SIG, BODY "\n", strlen(BODY) + 1), CIO_E_SIGNATURE, NULL,
                 NULL);
    expect_error(verify_vector(KEY, TS, SIG, "", 0), CIO_E_SIGNATURE, NULL, NULL);
}

Test(webhook, test_v0_prefix_is_accepted) {
    expect_ok(verify_vector(KEY, TS, "v0=" SIG, BODY, strlen(BODY)));
}

Test(webhook, test_uppercase_hex_is_accepted) {
    char upper[] = SIG;
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    expect_ok(verify_vector(KEY, TS, upper, BODY, strlen(BODY)));
    char prefixed[80];
    snprintf(prefixed, sizeof(prefixed), "v0=%s", upper);
    expect_ok(verify_vector(KEY, TS, prefixed, BODY, strlen(BODY)));
}

Test(webhook, test_other_prefixes_are_malformed) {
    expect_error(verify_vector(KEY, TS, "v1=" SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "X-CIO-Signature", NULL);
    expect_error(verify_vector(KEY, TS, "sha256=" SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "X-CIO-Signature", NULL);
}

Test(webhook, test_past_timestamp_outside_tolerance_is_stale) {
    expect_error(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 300, TS_VALUE + 301),
                 CIO_E_STALE, "behind", "tolerance 300");
    expect_no_key_in_message(KEY);
}

Test(webhook, test_future_timestamp_outside_tolerance_is_stale) {
    expect_error(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 300, TS_VALUE - 301),
                 CIO_E_STALE, "ahead of", NULL);
}

Test(webhook, test_timestamp_exactly_at_the_tolerance_edge_verifies) {
    expect_ok(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 300, TS_VALUE + 300));
    expect_ok(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 300, TS_VALUE - 300));
}

Test(webhook, test_tolerance_zero_disables_the_replay_check) {
    expect_ok(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 0, TS_VALUE + 1000000));
}

Test(webhook, test_now_zero_means_the_current_time) {
    char ts[32], sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    expect_ok(cio_webhook_sign(KEY, ts, BODY, strlen(BODY), sig));
    expect_ok(cio_webhook_verify(KEY, ts, sig, BODY, strlen(BODY), 300, 0));

    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL) - 3600);
    expect_ok(cio_webhook_sign(KEY, ts, BODY, strlen(BODY), sig));
    expect_error(cio_webhook_verify(KEY, ts, sig, BODY, strlen(BODY), 300, 0), CIO_E_STALE,
                 "behind", NULL);
}

Test(webhook, test_stale_check_only_applies_to_authentic_requests) {
    /* a forged request with an old timestamp is a mismatch, not "stale" */
    expect_error(cio_webhook_verify("other-key", TS, SIG, BODY, strlen(BODY), 300, TS_VALUE + 9999),
                 CIO_E_SIGNATURE, NULL, NULL);
}

Test(webhook, test_malformed_timestamp_header_is_invalid_and_named) {
    const char *bad[] = {"",
                         "16926a3432",
                         "-1692633432",
                         "+1692633432",
                         " 1692633432",
                         "1692633432 ",
                         "1692633432.0",
                         "0x1234",
                         "1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error(verify_vector(KEY, bad[i], SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                     "X-CIO-Timestamp", NULL);
        expect_no_key_in_message(KEY);
    }
    expect_error(verify_vector(KEY, NULL, SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "X-CIO-Timestamp", "missing");
    expect_error(verify_vector(KEY, "", SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "X-CIO-Timestamp", "empty");
}

Test(webhook, test_malformed_signature_header_is_invalid_and_named) {
    char sig63[] = SIG;
    sig63[63] = '\0';
    char nonhex[] = SIG;
    nonhex[10] = 'g';
    const char *bad[] = {"", sig63, SIG "0", nonhex, "v0=", "v0=" SIG "00", " " SIG, SIG " "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_error(verify_vector(KEY, TS, bad[i], BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                     "X-CIO-Signature", NULL);
        expect_no_key_in_message(KEY);
    }
    expect_error(verify_vector(KEY, TS, sig63, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "64 hex characters", "got 63");
    expect_error(verify_vector(KEY, TS, nonhex, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "must be hex", NULL);
    expect_error(verify_vector(KEY, TS, NULL, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "X-CIO-Signature", "missing");
}

Test(webhook, test_missing_or_empty_signing_key_is_invalid) {
    expect_error(verify_vector(NULL, TS, SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "signing key", NULL);
    expect_error(verify_vector("", TS, SIG, BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT,
                 "signing key is empty", NULL);
}

Test(webhook, test_null_body_with_length_is_invalid) {
    expect_error(verify_vector(KEY, TS, SIG, NULL, 3), CIO_E_INVALID_ARGUMENT, "body", NULL);
}

Test(webhook, test_negative_tolerance_or_now_is_invalid) {
    expect_error(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), -1, 0),
                 CIO_E_INVALID_ARGUMENT, "tolerance_seconds", NULL);
    expect_error(cio_webhook_verify(KEY, TS, SIG, BODY, strlen(BODY), 300, -5),
                 CIO_E_INVALID_ARGUMENT, "now", NULL);
}

Test(webhook, test_signing_key_never_appears_in_any_error_message) {
    const char *key = "whsec-do-not-print-me-0123456789";
    char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    expect_ok(cio_webhook_sign(key, TS, BODY, strlen(BODY), sig));
    /* every kind of failure, each message checked right after its call */
    cio_status_t st[8];
    st[0] = cio_webhook_verify(key, TS, SIG, BODY, strlen(BODY), 0, 0);
    expect_no_key_in_message(key);
    st[1] = cio_webhook_verify(key, "x", sig, BODY, strlen(BODY), 0, 0);
    expect_no_key_in_message(key);
    st[2] = cio_webhook_verify(key, TS, "zz", BODY, strlen(BODY), 0, 0);
    expect_no_key_in_message(key);
    st[3] = cio_webhook_verify(key, TS, sig, BODY, strlen(BODY), 300, TS_VALUE + 1000);
    expect_no_key_in_message(key);
    st[4] = cio_webhook_verify(key, TS, sig, NULL, 5, 0, 0);
    expect_no_key_in_message(key);
    st[5] = cio_webhook_verify(key, TS, sig, BODY, strlen(BODY), -1, 0);
    expect_no_key_in_message(key);
    st[6] = cio_webhook_sign(key, "", BODY, strlen(BODY), sig);
    expect_no_key_in_message(key);
    st[7] = cio_webhook_sign(key, TS, NULL, 1, sig);
    expect_no_key_in_message(key);
    const cio_status_t want[8] = {CIO_E_SIGNATURE,        CIO_E_INVALID_ARGUMENT,
                                  CIO_E_INVALID_ARGUMENT, CIO_E_STALE,
                                  CIO_E_INVALID_ARGUMENT, CIO_E_INVALID_ARGUMENT,
                                  CIO_E_INVALID_ARGUMENT, CIO_E_INVALID_ARGUMENT};
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(st[i], want[i], "call %zu gave %s", i, cio_status_str(st[i]));
}

Test(webhook, test_sign_reproduces_the_test_vector) {
    char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    memset(sig, 'x', sizeof(sig));
    expect_ok(cio_webhook_sign(KEY, TS, BODY, strlen(BODY), sig));
    cr_assert_str_eq(sig, SIG);
}

Test(webhook, test_sign_round_trips_with_verify) {
    const char *bodies[] = {"", "{}", "{\"events\":[]}", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                            "{\"event_id\":\"01H\",\"metric\":\"opened\"}"};
    const char *keys[] = {"k", KEY,
                          "a much longer signing key than the sha-256 block size of "
                          "sixty-four bytes, to exercise the hashed-key path of HMAC"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
            char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
            expect_ok(cio_webhook_sign(keys[k], "1700000000", bodies[b], strlen(bodies[b]), sig));
            cr_assert_eq(strlen(sig), 64);
            for (const char *p = sig; *p; p++)
                cr_assert(isxdigit((unsigned char)*p) && !isupper((unsigned char)*p),
                          "signature \"%s\" is not lowercase hex", sig);
            expect_ok(
                cio_webhook_verify(keys[k], "1700000000", sig, bodies[b], strlen(bodies[b]), 0, 0));
        }
    }
}

Test(webhook, test_sign_accepts_a_null_body_of_length_zero) {
    char a[CIO_WEBHOOK_SIGNATURE_BUFSIZE], b[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    expect_ok(cio_webhook_sign(KEY, TS, NULL, 0, a));
    expect_ok(cio_webhook_sign(KEY, TS, "", 0, b));
    cr_assert_str_eq(a, b);
    expect_ok(cio_webhook_verify(KEY, TS, a, NULL, 0, 0, 0));
}

Test(webhook, test_sign_rejects_bad_arguments) {
    char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    expect_error(cio_webhook_sign(NULL, TS, BODY, 1, sig), CIO_E_INVALID_ARGUMENT, "signing key",
                 NULL);
    expect_error(cio_webhook_sign("", TS, BODY, 1, sig), CIO_E_INVALID_ARGUMENT, "signing key",
                 NULL);
    expect_error(cio_webhook_sign(KEY, "12a", BODY, 1, sig), CIO_E_INVALID_ARGUMENT, "timestamp",
                 NULL);
    expect_error(cio_webhook_sign(KEY, NULL, BODY, 1, sig), CIO_E_INVALID_ARGUMENT, "timestamp",
                 NULL);
    expect_error(cio_webhook_sign(KEY, TS, BODY, 1, NULL), CIO_E_INVALID_ARGUMENT, "out", NULL);
}

Test(webhook, test_body_with_nul_byte_in_the_middle_verifies_by_length) {
    const char body[] = "{\"a\":1}\0{\"b\":2}";
    size_t len = sizeof(body) - 1;
    cr_assert_eq(len, 15);
    char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE], prefix_sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    expect_ok(cio_webhook_sign(KEY, TS, body, len, sig));
    expect_ok(cio_webhook_sign(KEY, TS, body, strlen(body), prefix_sig));
    cr_assert_str_neq(sig, prefix_sig, "the bytes after the NUL were not signed");
    expect_ok(cio_webhook_verify(KEY, TS, sig, body, len, 0, 0));
    expect_error(cio_webhook_verify(KEY, TS, sig, body, strlen(body), 0, 0), CIO_E_SIGNATURE, NULL,
                 NULL);
}

Test(webhook, test_success_clears_the_previous_error) {
    expect_error(verify_vector(KEY, TS, "bad", BODY, strlen(BODY)), CIO_E_INVALID_ARGUMENT, NULL,
                 NULL);
    expect_ok(verify_vector(KEY, TS, SIG, BODY, strlen(BODY)));
}

/* ---- parsing ---- */

static cio_webhook_events_t *parse_ok(const char *body) {
    cio_webhook_events_t *events = NULL;
    expect_ok(cio_webhook_parse(body, strlen(body), &events));
    cr_assert_not_null(events);
    return events;
}

static void expect_parse_error(const char *body, const char *needle1, const char *needle2) {
    cio_webhook_events_t *events = (cio_webhook_events_t *)&events; /* must be reset to NULL */
    expect_error(cio_webhook_parse(body, strlen(body), &events), CIO_E_INVALID_ARGUMENT, needle1,
                 needle2);
    cr_assert_null(events, "*out is not NULL after a failed parse");
}

Test(webhook, test_parse_full_event_with_every_field) {
    const char *body =
        "{\"event_id\": \"01E4C4CT6YDC7Y5M7FE1GWWPQJ\", \"object_type\": \"email\",\n"
        " \"metric\": \"clicked\", \"timestamp\": 1613063089, \"delivery_id\": \"dlv-1\",\n"
        " \"data\": {\"customer_id\": \"42\", \"identifiers\": {\"id\": \"42\", \"email\": "
        "\"a@example.com\", \"cio_id\": \"d9c106000001\"}, \"campaign_id\": 23, \"action_id\": 96,"
        " \"broadcast_id\": null, \"delivery_id\": \"dlv-1\", \"recipient\": \"a@example.com\","
        " \"subject\": \"Caf\\u00e9 \\\"news\\\"\", \"href\": \"https://example.com/x?a=1&b=2\","
        " \"link_id\": 3}}";
    cio_webhook_events_t *events = parse_ok(body);
    cr_assert_eq(cio_webhook_events_count(events), 1);
    const cio_webhook_event_t *ev = cio_webhook_events_get(events, 0);
    cr_assert_not_null(ev);
    cr_assert_str_eq(ev->event_id, "01E4C4CT6YDC7Y5M7FE1GWWPQJ");
    cr_assert_str_eq(ev->object_type, "email");
    cr_assert_str_eq(ev->metric, "clicked");
    cr_assert_eq(ev->timestamp, 1613063089);
    cr_assert_str_eq(ev->delivery_id, "dlv-1");
    const char *data = "{\"customer_id\":\"42\",\"identifiers\":{\"id\":\"42\",\"email\":"
                       "\"a@example.com\",\"cio_id\":\"d9c106000001\"},\"campaign_id\":23,"
                       "\"action_id\":96,\"broadcast_id\":null,\"delivery_id\":\"dlv-1\","
                       "\"recipient\":\"a@example.com\",\"subject\":\"Caf\xc3\xa9 \\\"news\\\"\","
                       "\"href\":\"https://example.com/x?a=1&b=2\",\"link_id\":3}";
    cr_assert_str_eq(ev->data_json, data);
    char whole[2048];
    snprintf(whole, sizeof(whole),
             "{\"event_id\":\"01E4C4CT6YDC7Y5M7FE1GWWPQJ\",\"object_type\":\"email\","
             "\"metric\":\"clicked\",\"timestamp\":1613063089,\"delivery_id\":\"dlv-1\","
             "\"data\":%s}",
             data);
    cr_assert_str_eq(ev->json, whole);
    cr_assert_null(cio_webhook_events_get(events, 1));
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_keeps_unknown_metric_object_type_and_fields) {
    const char *body = "{\"event_id\":\"e1\",\"object_type\":\"carrier_pigeon\","
                       "\"metric\":\"teleported\",\"timestamp\":1700000000,"
                       "\"x_new\":{\"list\":[1,23.45,-0.5,1e+300,true,false,null,\"s\"]},"
                       "\"data\":{\"price\":23.45,\"whole\":2.0,\"tiny\":1e-7}}";
    cio_webhook_events_t *events = parse_ok(body);
    const cio_webhook_event_t *ev = cio_webhook_events_get(events, 0);
    cr_assert_str_eq(ev->metric, "teleported");
    cr_assert_str_eq(ev->object_type, "carrier_pigeon");
    cr_assert_null(ev->delivery_id);
    cr_assert_str_eq(ev->data_json, "{\"price\":23.45,\"whole\":2.0,\"tiny\":1e-07}");
    cr_assert_str_eq(ev->json, "{\"event_id\":\"e1\",\"object_type\":\"carrier_pigeon\","
                               "\"metric\":\"teleported\",\"timestamp\":1700000000,"
                               "\"x_new\":{\"list\":[1,23.45,-0.5,1e+300,true,false,null,\"s\"]},"
                               "\"data\":{\"price\":23.45,\"whole\":2.0,\"tiny\":1e-07}}");
    /* the compact JSON reads back to the same value */
    json_t *a = json_loads(body, 0, NULL), *b = json_loads(ev->json, 0, NULL);
    cr_assert_not_null(b);
    cr_assert(json_equal(a, b), "compact JSON differs from the body");
    json_decref(a);
    json_decref(b);
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_takes_delivery_id_from_data_when_not_top_level) {
    cio_webhook_events_t *events =
        parse_ok("{\"event_id\":\"e1\",\"object_type\":\"push\",\"metric\":\"delivered\","
                 "\"timestamp\":1,\"data\":{\"delivery_id\":\"from-data\"}}");
    cr_assert_str_eq(cio_webhook_events_get(events, 0)->delivery_id, "from-data");
    cio_webhook_events_free(events);

    events = parse_ok("{\"event_id\":\"e1\",\"object_type\":\"push\",\"metric\":\"delivered\","
                      "\"timestamp\":1,\"delivery_id\":\"top\",\"data\":{\"delivery_id\":\"d\"}}");
    cr_assert_str_eq(cio_webhook_events_get(events, 0)->delivery_id, "top");
    cio_webhook_events_free(events);

    /* a null top-level delivery_id falls back too; a non-string one in data is just data */
    events = parse_ok("{\"event_id\":\"e1\",\"object_type\":\"push\",\"metric\":\"delivered\","
                      "\"timestamp\":1,\"delivery_id\":null,\"data\":{\"delivery_id\":7}}");
    cr_assert_null(cio_webhook_events_get(events, 0)->delivery_id);
    cr_assert_str_eq(cio_webhook_events_get(events, 0)->data_json, "{\"delivery_id\":7}");
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_without_data_gives_empty_object) {
    cio_webhook_events_t *events = parse_ok(
        "{\"event_id\":\"e1\",\"object_type\":\"sms\",\"metric\":\"sent\",\"timestamp\":0}");
    const cio_webhook_event_t *ev = cio_webhook_events_get(events, 0);
    cr_assert_str_eq(ev->data_json, "{}");
    cr_assert_null(ev->delivery_id);
    cr_assert_eq(ev->timestamp, 0);
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_events_list_of_three) {
    cio_webhook_events_t *events =
        parse_ok("{\"events\":["
                 "{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":\"sent\","
                 "\"timestamp\":10,\"delivery_id\":\"d1\"},"
                 "{\"event_id\":\"b\",\"object_type\":\"in_app\",\"metric\":\"opened\","
                 "\"timestamp\":11},"
                 "{\"event_id\":\"c\",\"object_type\":\"slack\",\"metric\":\"failed\","
                 "\"timestamp\":12,\"data\":{\"failure_message\":\"no\"}}]}");
    cr_assert_eq(cio_webhook_events_count(events), 3);
    const char *ids[] = {"a", "b", "c"}, *metrics[] = {"sent", "opened", "failed"};
    for (size_t i = 0; i < 3; i++) {
        const cio_webhook_event_t *ev = cio_webhook_events_get(events, i);
        cr_assert_not_null(ev);
        cr_assert_str_eq(ev->event_id, ids[i]);
        cr_assert_str_eq(ev->metric, metrics[i]);
        cr_assert_eq(ev->timestamp, 10 + (int64_t)i);
    }
    cr_assert_str_eq(cio_webhook_events_get(events, 0)->delivery_id, "d1");
    cr_assert_str_eq(cio_webhook_events_get(events, 2)->data_json, "{\"failure_message\":\"no\"}");
    cr_assert_null(cio_webhook_events_get(events, 3));
    cr_assert_null(cio_webhook_events_get(events, SIZE_MAX));
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_empty_events_list_gives_empty_list) {
    cio_webhook_events_t *events = parse_ok("{\"events\":[]}");
    cr_assert_eq(cio_webhook_events_count(events), 0);
    cr_assert_null(cio_webhook_events_get(events, 0));
    cio_webhook_events_free(events);
}

Test(webhook, test_parse_accessors_accept_null) {
    cr_assert_eq(cio_webhook_events_count(NULL), 0);
    cr_assert_null(cio_webhook_events_get(NULL, 0));
    cio_webhook_events_free(NULL);
}

Test(webhook, test_parse_rejects_non_json) {
    expect_parse_error("{\"ev", "body is not JSON", "line 1");
    expect_parse_error("", "body is not JSON", NULL);
    expect_parse_error("{\"event_id\":\"\xff\"}", "body is not JSON", NULL); /* invalid UTF-8 */
    const char with_nul[] = "{\"event_id\":\"a\0\"}";
    cio_webhook_events_t *events = NULL;
    expect_error(cio_webhook_parse(with_nul, sizeof(with_nul) - 1, &events), CIO_E_INVALID_ARGUMENT,
                 "body is not JSON", NULL);
    cr_assert_null(events);
}

/* Found by tests/fuzz/fuzz_json: jansson skips a NUL byte between tokens, so a body with one
 * after the object (or inside a number) parsed as if it were not there. */
Test(webhook, test_parse_rejects_a_nul_byte_between_tokens) {
    const char inside[] = "{\"event_id\":\"e1\",\"object_type\":\"email\",\"metric\":\"sent\","
                          "\"timestamp\":17\0}";
    cio_webhook_events_t *events = (cio_webhook_events_t *)&events;
    cr_assert_eq(cio_webhook_parse(inside, sizeof(inside) - 1, &events), CIO_E_INVALID_ARGUMENT);
    cr_assert_str_eq(cio_last_error()->message,
                     "webhook: body is not JSON (a NUL byte at offset 69)");
    cr_assert_null(events);
    const char after[] = "{\"event_id\":\"e1\",\"object_type\":\"email\",\"metric\":\"sent\","
                         "\"timestamp\":17}\0";
    expect_ok(cio_webhook_parse(after, sizeof(after) - 2, &events)); /* up to the '}' */
    cr_assert_eq(cio_webhook_events_count(events), 1);
    cio_webhook_events_free(events);
    cr_assert_eq(cio_webhook_parse(after, sizeof(after) - 1, &events), CIO_E_INVALID_ARGUMENT);
    cr_assert_str_eq(cio_last_error()->message,
                     "webhook: body is not JSON (a NUL byte at offset 70)");
}

Test(webhook, test_parse_rejects_a_json_array_or_scalar) {
    expect_parse_error("[{\"event_id\":\"a\"}]", "must be a JSON object", "array");
    expect_parse_error("\"text\"", "must be a JSON object", "string");
    expect_parse_error("null", "must be a JSON object", "null");
}

Test(webhook, test_parse_rejects_missing_required_fields) {
    expect_parse_error("{\"object_type\":\"email\",\"metric\":\"sent\",\"timestamp\":1}",
                       "webhook: event_id is missing", NULL);
    expect_parse_error("{\"event_id\":\"a\",\"object_type\":\"email\",\"timestamp\":1}",
                       "webhook: metric is missing", NULL);
    expect_parse_error("{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":\"sent\"}",
                       "webhook: timestamp is missing", NULL);
    expect_parse_error("{\"event_id\":\"a\",\"metric\":\"sent\",\"timestamp\":1}",
                       "webhook: object_type is missing", NULL);
    expect_parse_error("{\"event_id\":\"\",\"object_type\":\"email\",\"metric\":\"sent\","
                       "\"timestamp\":1}",
                       "event_id is empty", NULL);
}

Test(webhook, test_parse_errors_name_the_event_index) {
    expect_parse_error("{\"events\":["
                       "{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":\"sent\","
                       "\"timestamp\":1},"
                       "{\"event_id\":\"b\",\"object_type\":\"email\",\"metric\":\"sent\","
                       "\"timestamp\":2},"
                       "{\"object_type\":\"email\",\"metric\":\"sent\",\"timestamp\":3}]}",
                       "webhook: events[2]: event_id is missing", NULL);
    expect_parse_error("{\"events\":[{\"event_id\":\"a\",\"object_type\":\"email\","
                       "\"metric\":5,\"timestamp\":1}]}",
                       "webhook: events[0]: metric must be a string", "number");
    expect_parse_error("{\"events\":[{\"event_id\":\"a\",\"object_type\":\"email\","
                       "\"metric\":\"sent\",\"timestamp\":1}, \"oops\"]}",
                       "events[1]", "must be a JSON object (got string)");
    expect_parse_error("{\"events\":{\"event_id\":\"a\"}}", "webhook: events must be an array",
                       "object");
}

Test(webhook, test_parse_rejects_wrong_types) {
#define EV(fields) "{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":\"sent\"," fields "}"
    expect_parse_error("{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":7,"
                       "\"timestamp\":1}",
                       "webhook: metric must be a string", "number");
    expect_parse_error("{\"event_id\":1,\"object_type\":\"email\",\"metric\":\"sent\","
                       "\"timestamp\":1}",
                       "webhook: event_id must be a string", "number");
    expect_parse_error("{\"event_id\":\"a\",\"object_type\":[],\"metric\":\"sent\","
                       "\"timestamp\":1}",
                       "webhook: object_type must be a string", "array");
    expect_parse_error(EV("\"timestamp\":\"1700000000\""), "webhook: timestamp must be an integer",
                       "string");
    expect_parse_error(EV("\"timestamp\":1.5"), "webhook: timestamp must be an integer",
                       "fractional");
    expect_parse_error(EV("\"timestamp\":-1"), "webhook: timestamp is negative", NULL);
    expect_parse_error(EV("\"timestamp\":1,\"data\":[]"), "webhook: data must be an object",
                       "array");
    expect_parse_error(EV("\"timestamp\":1,\"delivery_id\":5"),
                       "webhook: delivery_id must be a string", "number");
    expect_parse_error(EV("\"timestamp\":1,\"timestamp\":2"), "body is not JSON", "duplicate");
#undef EV
}

Test(webhook, test_parse_rejects_null_arguments) {
    cio_webhook_events_t *events = NULL;
    expect_error(cio_webhook_parse(NULL, 0, &events), CIO_E_INVALID_ARGUMENT, "body", NULL);
    expect_error(cio_webhook_parse("{}", 2, NULL), CIO_E_INVALID_ARGUMENT, "out", NULL);
}

Test(webhook, test_parse_reads_only_body_len_bytes) {
    const char *body = "{\"event_id\":\"a\",\"object_type\":\"email\",\"metric\":\"sent\","
                       "\"timestamp\":1}GARBAGE";
    cio_webhook_events_t *events = NULL;
    expect_ok(cio_webhook_parse(body, strlen(body) - strlen("GARBAGE"), &events));
    cr_assert_eq(cio_webhook_events_count(events), 1);
    cio_webhook_events_free(events);
}

/* ---- de-duplication ---- */

static int check(cio_webhook_dedup_t *d, const char *id, int64_t now) {
    int dup = -1;
    expect_ok(cio_webhook_dedup_check(d, id, now, &dup));
    cr_assert(dup == 0 || dup == 1, "is_duplicate is %d", dup);
    return dup;
}

Test(webhook, test_dedup_first_sighting_is_new_and_second_is_duplicate) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(16, 0, &d));
    cr_assert_eq(cio_webhook_dedup_size(d), 0);
    cr_assert_eq(check(d, "01E4C4CT6YDC7Y5M7FE1GWWPQJ", 0), 0);
    cr_assert_eq(check(d, "01E4C4CT6YDC7Y5M7FE1GWWPQJ", 0), 1);
    cr_assert_eq(check(d, "01E4C4CT6YDC7Y5M7FE1GWWPQJ", 0), 1);
    cr_assert_eq(check(d, "01E4C4CT6YDC7Y5M7FE1GWWPQK", 0), 0);
    cr_assert_eq(cio_webhook_dedup_size(d), 2);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_id_is_new_again_after_the_ttl) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(16, 60, &d));
    cr_assert_eq(check(d, "e1", 1000), 0);
    cr_assert_eq(check(d, "e1", 1059), 1);
    cr_assert_eq(check(d, "e1", 1060), 0, "still a duplicate after the TTL");
    cr_assert_eq(check(d, "e1", 1061), 1, "the new sighting was not recorded");
    cr_assert_eq(check(d, "e1", 1119), 1);
    cr_assert_eq(check(d, "e1", 1120), 0);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_ttl_expiry_drops_old_ids_from_the_size) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(16, 10, &d));
    cr_assert_eq(check(d, "a", 100), 0);
    cr_assert_eq(check(d, "b", 101), 0);
    cr_assert_eq(check(d, "c", 105), 0);
    cr_assert_eq(cio_webhook_dedup_size(d), 3);
    cr_assert_eq(check(d, "d", 111), 0); /* a and b are past 10 s */
    cr_assert_eq(cio_webhook_dedup_size(d), 2);
    cr_assert_eq(check(d, "c", 111), 1);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_ttl_zero_never_expires) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(4, 0, &d));
    cr_assert_eq(check(d, "a", 1), 0);
    cr_assert_eq(check(d, "a", INT64_MAX), 1);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_capacity_three_evicts_the_oldest) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(3, 0, &d));
    cr_assert_eq(check(d, "a", 1), 0);
    cr_assert_eq(check(d, "b", 2), 0);
    cr_assert_eq(check(d, "c", 3), 0);
    cr_assert_eq(check(d, "a", 4), 1, "a duplicate does not refresh or evict anything");
    cr_assert_eq(check(d, "d", 5), 0); /* evicts a, the oldest */
    cr_assert_eq(cio_webhook_dedup_size(d), 3);
    cr_assert_eq(check(d, "b", 6), 1);
    cr_assert_eq(check(d, "c", 7), 1);
    cr_assert_eq(check(d, "d", 8), 1);
    cr_assert_eq(check(d, "a", 9), 0, "the evicted id is still remembered");
    cr_assert_eq(check(d, "b", 10), 0, "b was the oldest and should have been evicted by a");
    cr_assert_eq(cio_webhook_dedup_size(d), 3);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_size_stays_bounded_by_capacity) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(100, 0, &d));
    char id[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof(id), "evt-%d", i);
        cr_assert_eq(check(d, id, 1), 0, "%s reported as a duplicate", id);
        size_t size = cio_webhook_dedup_size(d);
        cr_assert_eq(size, i < 100 ? (size_t)i + 1 : 100, "size %zu after %d ids", size, i + 1);
    }
    for (int i = 9900; i < 10000; i++) { /* the last 100 are held ... */
        snprintf(id, sizeof(id), "evt-%d", i);
        cr_assert_eq(check(d, id, 1), 1, "%s was forgotten", id);
    }
    snprintf(id, sizeof(id), "evt-%d", 9899); /* ... and nothing older */
    cr_assert_eq(check(d, id, 1), 0);
    cio_webhook_dedup_free(d);
}

/* A straightforward model: ids in insertion order, expired ones dropped first (now never goes
 * back), the oldest dropped when full. The hash table must agree with it on every check. */
Test(webhook, test_dedup_agrees_with_a_simple_model_under_churn) {
    enum { CAP = 7, TTL = 15, POOL = 23, STEPS = 20000 };
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(CAP, TTL, &d));
    int model_id[CAP];
    int64_t model_at[CAP];
    size_t n = 0;
    unsigned int seed = 12345;
    int64_t now = 1;
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        now += (seed >> 16) % 3;
        int id = (int)((seed >> 8) % POOL);
        size_t keep = 0;
        for (size_t i = 0; i < n; i++) {
            if (now - model_at[i] < TTL) {
                model_id[keep] = model_id[i];
                model_at[keep++] = model_at[i];
            }
        }
        n = keep;
        int want = 0;
        for (size_t i = 0; i < n; i++)
            want |= model_id[i] == id;
        if (!want) {
            if (n == CAP) {
                memmove(model_id, model_id + 1, (CAP - 1) * sizeof(int));
                memmove(model_at, model_at + 1, (CAP - 1) * sizeof(int64_t));
                n--;
            }
            model_id[n] = id;
            model_at[n++] = now;
        }
        char s[16];
        snprintf(s, sizeof(s), "id%d", id);
        cr_assert_eq(check(d, s, now), want, "step %d: %s at %lld", step, s, (long long)now);
        cr_assert_eq(cio_webhook_dedup_size(d), n, "step %d: size", step);
    }
    cio_webhook_dedup_free(d);
}

enum { DEDUP_THREADS = 4, DEDUP_IDS = 1000 };

typedef struct dedup_worker {
    cio_webhook_dedup_t *dedup;
    int offset;
    int news[DEDUP_IDS]; /* how many times each id was reported new to this thread */
    int failures;
} dedup_worker_t;

static void *dedup_many(void *arg) {
    dedup_worker_t *w = arg;
    for (int k = 0; k < DEDUP_IDS; k++) {
        int i = (k + w->offset) % DEDUP_IDS; /* each thread walks the same ids from elsewhere */
        char id[32];
        snprintf(id, sizeof(id), "01HZY-event-%04d", i);
        int dup = -1;
        if (cio_webhook_dedup_check(w->dedup, id, 1700000000, &dup) != CIO_OK || dup < 0)
            w->failures++;
        else if (dup == 0)
            w->news[i]++;
    }
    return NULL;
}

Test(webhook, test_dedup_four_threads_see_each_id_new_exactly_once) {
    cio_webhook_dedup_t *d = NULL;
    expect_ok(cio_webhook_dedup_new(DEDUP_IDS, 0, &d));
    static dedup_worker_t w[DEDUP_THREADS];
    pthread_t th[DEDUP_THREADS];
    for (int t = 0; t < DEDUP_THREADS; t++) {
        w[t] = (dedup_worker_t){.dedup = d, .offset = t * 250};
        cr_assert_eq(pthread_create(&th[t], NULL, dedup_many, &w[t]), 0);
    }
    for (int t = 0; t < DEDUP_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < DEDUP_THREADS; t++)
        cr_assert_eq(w[t].failures, 0, "thread %d had %d failed checks", t, w[t].failures);
    for (int i = 0; i < DEDUP_IDS; i++) {
        int news = 0;
        for (int t = 0; t < DEDUP_THREADS; t++)
            news += w[t].news[i];
        cr_assert_eq(news, 1, "id %d was reported new %d times", i, news);
    }
    cr_assert_eq(cio_webhook_dedup_size(d), DEDUP_IDS);
    cio_webhook_dedup_free(d);
}

Test(webhook, test_dedup_rejects_bad_arguments) {
    cio_webhook_dedup_t *d = (cio_webhook_dedup_t *)&d;
    expect_error(cio_webhook_dedup_new(0, 0, &d), CIO_E_INVALID_ARGUMENT, "capacity", NULL);
    cr_assert_null(d);
    expect_error(cio_webhook_dedup_new(4, -1, &d), CIO_E_INVALID_ARGUMENT, "ttl_seconds", NULL);
    expect_error(cio_webhook_dedup_new(SIZE_MAX, 0, &d), CIO_E_INVALID_ARGUMENT, "too large", NULL);
    expect_error(cio_webhook_dedup_new(4, 0, NULL), CIO_E_INVALID_ARGUMENT, "out", NULL);
    expect_ok(cio_webhook_dedup_new(4, 0, &d));
    int dup = 7;
    expect_error(cio_webhook_dedup_check(d, NULL, 0, &dup), CIO_E_INVALID_ARGUMENT, "event_id",
                 NULL);
    expect_error(cio_webhook_dedup_check(d, "", 0, &dup), CIO_E_INVALID_ARGUMENT, "event_id",
                 "empty");
    expect_error(cio_webhook_dedup_check(d, "a", 0, NULL), CIO_E_INVALID_ARGUMENT, "is_duplicate",
                 NULL);
    expect_error(cio_webhook_dedup_check(d, "a", -1, &dup), CIO_E_INVALID_ARGUMENT, "now", NULL);
    expect_error(cio_webhook_dedup_check(NULL, "a", 0, &dup), CIO_E_INVALID_ARGUMENT, "dedup",
                 NULL);
    cr_assert_eq(dup, 7, "is_duplicate written on failure");
    cr_assert_eq(cio_webhook_dedup_size(d), 0);
    cr_assert_eq(cio_webhook_dedup_size(NULL), 0);
    cio_webhook_dedup_free(d);
    cio_webhook_dedup_free(NULL);
}
