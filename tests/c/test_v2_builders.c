/*
 * Builders without a client (request.h) for Track v2 operations and Pipelines messages: the exact
 * request each one makes, refusals identical to the classic calls, a built event sent twice
 * keeping its id, and cio_pipeline_enqueue_request() taking a request into the right pipeline only
 * and delivering it as cio_pipeline_enqueue() would (checked at the emulator).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(v2_builders, .init = fx_setup, .fini = fx_teardown);

#define ENTITY "/api/v2/entity"

/* The request is a POST to path of api with exactly body; freed here. */
static void expect_request(cio_request_t *req, cio_api_t api, const char *path, const char *body) {
    cr_assert_not_null(req);
    cr_assert_eq(cio_request_api(req), api);
    cr_assert_str_eq(cio_request_method(req), "POST");
    cr_assert_str_eq(cio_request_path(req), path);
    size_t len = 0;
    const char *got = cio_request_body(req, &len);
    cr_assert_str_eq(got, body);
    cr_assert_eq(len, strlen(body));
    cio_request_free(req);
}

/* ---- Track v2 builders: exact requests ---- */

Test(v2_builders, test_person_identify_request_is_the_entity_operation) {
    cio_request_t *req = NULL;
    expect_ok(
        cio_v2_person_identify_request(CIO_ID_TYPE_EMAIL, "a@b.c", "{\"plan\":\"pro\"}", &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"email\":"
                   "\"a@b.c\"},\"attributes\":{\"plan\":\"pro\"}}");
    expect_nothing_sent();
}

Test(v2_builders, test_each_builder_writes_its_operation) {
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.timestamp = 1700000000;
    o.id = "ev-1";
    cio_request_t *r[8] = {0};
    expect_ok(cio_v2_person_merge_request(CIO_ID_TYPE_ID, "1", CIO_ID_TYPE_CIO_ID, "c2", &r[0]));
    expect_ok(cio_v2_person_event_request(CIO_ID_TYPE_ID, "7", "bought", "{\"n\":1}", &o, &r[1]));
    expect_ok(cio_v2_person_add_device_request(CIO_ID_TYPE_ID, "7", "tok", "ios", 1700000001, NULL,
                                               &r[2]));
    expect_ok(cio_v2_person_delete_device_request(CIO_ID_TYPE_ID, "7", "tok", &r[3]));
    expect_ok(cio_v2_object_add_relationships_request("1", "acme",
                                                      "[{\"identifiers\":{\"id\":\"7\"}}]", &r[4]));
    expect_ok(cio_v2_object_delete_request("1", "acme", &r[5]));
    expect_ok(cio_v2_delivery_event_request("dlv", "opened", NULL, &o, &r[6]));
    expect_ok(cio_v2_person_suppress_request(CIO_ID_TYPE_EMAIL, "x@y.z", &r[7]));
    static const char *const want[8] = {
        "{\"type\":\"person\",\"action\":\"merge\",\"primary\":{\"id\":\"1\"},\"secondary\":{"
        "\"cio_id\":\"c2\"}}",
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"7\"},\"name\":"
        "\"bought\",\"attributes\":{\"n\":1},\"timestamp\":1700000000,\"id\":\"ev-1\"}",
        "{\"type\":\"person\",\"action\":\"add_device\",\"identifiers\":{\"id\":\"7\"},\"device\":"
        "{\"token\":\"tok\",\"platform\":\"ios\",\"last_used\":1700000001}}",
        "{\"type\":\"person\",\"action\":\"delete_device\",\"identifiers\":{\"id\":\"7\"},"
        "\"device\":{\"token\":\"tok\"}}",
        "{\"type\":\"object\",\"action\":\"add_relationships\",\"identifiers\":{\"object_type_id\":"
        "\"1\",\"object_id\":\"acme\"},\"cio_relationships\":[{\"identifiers\":{\"id\":\"7\"}}]}",
        "{\"type\":\"object\",\"action\":\"delete\",\"identifiers\":{\"object_type_id\":\"1\","
        "\"object_id\":\"acme\"}}",
        "{\"type\":\"delivery\",\"action\":\"event\",\"identifiers\":{\"id\":\"dlv\"},\"name\":"
        "\"opened\",\"timestamp\":1700000000,\"id\":\"ev-1\"}",
        "{\"type\":\"person\",\"action\":\"suppress\",\"identifiers\":{\"email\":\"x@y.z\"}}",
    };
    for (int i = 0; i < 8; i++)
        expect_request(r[i], CIO_API_TRACK, ENTITY, want[i]);
}

Test(v2_builders, test_event_request_gets_its_id_when_built) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_page_request(CIO_ID_TYPE_ID, "7", "https://x.y/", NULL, NULL, &req));
    const char *body = cio_request_body(req, NULL);
    cr_assert_eq(strncmp(body, "{\"id\":\"", 7), 0, "%s", body);
    char id[27];
    memcpy(id, body + 7, 26);
    id[26] = '\0';
    cr_assert(is_ulid(id), "%s", body);
    cr_assert_str_eq(body + 7 + 26, "\",\"type\":\"person\",\"action\":\"page\",\"identifiers\":{"
                                    "\"id\":\"7\"},\"name\":\"https://x.y/\"}");
    cio_request_free(req);
}

Test(v2_builders, test_entity_request_prepares_like_send_entity) {
    const char *op =
        "{\"type\":\"object\",\"action\":\"event\",\"identifiers\":{\"object_type_id\":"
        "\"1\",\"object_id\":\"acme\"},\"name\":\"renewed\",\"id\":\"my-id-1\"}";
    cio_request_t *req = NULL;
    expect_ok(cio_v2_entity_request(op, &req));
    expect_request(req, CIO_API_TRACK, ENTITY, op);
}

/* ---- refusals: the builder's status and message are the call's ---- */

typedef cio_status_t (*both_fn)(cio_client_t *client, cio_request_t **out);

/* Runs the call (out NULL) and the builder (client NULL), and compares what they said. */
static void expect_same_refusal(both_fn f, cio_status_t want, const char *needle) {
    cio_status_t call_st = f(fx.client, NULL);
    cr_assert_eq(call_st, want, "call: %s", cio_last_error() ? cio_last_error()->message : "");
    char call_msg[512];
    snprintf(call_msg, sizeof call_msg, "%s", cio_last_error()->message);
    cr_assert_not_null(strstr(call_msg, needle), "%s", call_msg);
    cio_request_t *req = (cio_request_t *)1;
    cio_status_t built = f(NULL, &req);
    cr_assert_eq(built, want);
    cr_assert_null(req, "a refused builder leaves *out NULL");
    cr_assert_str_eq(cio_last_error()->message, call_msg);
}

#define BOTH(fn, call, builder, ...)                                                               \
    static cio_status_t fn(cio_client_t *client, cio_request_t **out) {                            \
        return out == NULL ? call(client, __VA_ARGS__) : builder(__VA_ARGS__, out);                \
    }
BOTH(bad_name, cio_v2_person_event, cio_v2_person_event_request, CIO_ID_TYPE_ID, "1", "", NULL,
     NULL)
BOTH(bad_id_type, cio_v2_person_delete, cio_v2_person_delete_request, (cio_id_type_t)9, "1")
BOTH(bad_attrs, cio_v2_object_identify, cio_v2_object_identify_request, "1", "a", "[1]")
BOTH(bad_rels, cio_v2_person_add_relationships, cio_v2_person_add_relationships_request,
     CIO_ID_TYPE_ID, "1", "[]")
BOTH(bad_platform, cio_v2_person_add_device, cio_v2_person_add_device_request, CIO_ID_TYPE_ID, "1",
     "tok", "windows", 0, NULL)
BOTH(bad_entity, cio_v2_send_entity, cio_v2_entity_request,
     "{\"type\":\"person\",\"action\":\"fly\",\"identifiers\":{\"id\":\"1\"}}")
BOTH(bad_cdp, cio_cdp_send, cio_cdp_message_request, "{\"type\":\"track\",\"userId\":\"1\"}")
BOTH(bad_cdp_track, cio_cdp_track, cio_cdp_track_request, NULL, NULL, "e", NULL, NULL)

Test(v2_builders, test_refusals_are_the_calls) {
    expect_same_refusal(bad_name, CIO_E_INVALID_ARGUMENT, "v2_person_event: name");
    expect_same_refusal(bad_id_type, CIO_E_INVALID_ARGUMENT,
                        "v2_person_delete: identifiers: the id type");
    expect_same_refusal(bad_attrs, CIO_E_INVALID_ARGUMENT, "v2_object_identify: attributes");
    expect_same_refusal(bad_rels, CIO_E_INVALID_ARGUMENT, "relationships");
    expect_same_refusal(bad_platform, CIO_E_INVALID_ARGUMENT, "platform");
    expect_same_refusal(bad_entity, CIO_E_INVALID_ARGUMENT, "send_entity: operation");
    expect_same_refusal(bad_cdp, CIO_E_INVALID_ARGUMENT, "cdp_send: message");
    expect_same_refusal(bad_cdp_track, CIO_E_INVALID_ARGUMENT, "cdp_track: message");
    expect_nothing_sent();
}

Test(v2_builders, test_null_out_is_refused_naming_the_call) {
    expect_error(cio_v2_person_delete_request(CIO_ID_TYPE_ID, "1", NULL), CIO_E_INVALID_ARGUMENT,
                 "v2_person_delete: out is NULL", NULL);
    expect_error(cio_cdp_alias_request("a", "b", NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "cdp_alias: out is NULL", NULL);
}

/* ---- sending a built request ---- */

Test(v2_builders, test_built_event_sent_twice_keeps_its_id) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_event_request(CIO_ID_TYPE_ID, "7", "bought", NULL, NULL, &req));
    expect_ok(cio_request_send(fx.client, req, NULL));
    expect_ok(cio_request_send(fx.client, req, NULL));
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *r = json_array_get(reqs, i);
        cr_assert_str_eq(req_str(r, "path"), ENTITY);
        cr_assert_str_eq(req_str(r, "body"), cio_request_body(req, NULL));
        expect_track_headers(r);
    }
    cio_request_free(req);
    json_decref(reqs);
}

Test(v2_builders, test_classic_helper_still_sends_the_same_bytes) {
    expect_ok(cio_v2_object_identify(fx.client, "1", "acme", NULL));
    json_decref(expect_one_request("POST", ENTITY,
                                   "{\"type\":\"object\",\"action\":\"identify\",\"identifiers\":{"
                                   "\"object_type_id\":\"1\",\"object_id\":\"acme\"},"
                                   "\"attributes\":{}}"));
}

/* ---- Pipelines builders ---- */

Test(v2_builders, test_cdp_builders_match_cdp_build) {
    cio_cdp_options_t o = CIO_CDP_OPTIONS_INIT;
    o.message_id = "m-1";
    o.timestamp = "2026-11-23T13:45:07.123Z";
    cio_request_t *req = NULL;
    expect_ok(cio_cdp_track_request("u1", NULL, "bought", "{\"n\":1}", &o, &req));
    cio_cdp_message_t m = {CIO_CDP_MESSAGE_VERSION,
                           .type = "track",
                           .user_id = "u1",
                           .event = "bought",
                           .properties_json = "{\"n\":1}",
                           .message_id = "m-1",
                           .timestamp = "2026-11-23T13:45:07.123Z"};
    char *want = NULL;
    expect_ok(cio_cdp_build(&m, &want, NULL));
    expect_request(req, CIO_API_CDP, "/v1/track", want);
    cio_free(want);

    const char *msg = "{\"type\":\"alias\",\"previousId\":\"a\",\"userId\":\"b\",\"messageId\":"
                      "\"m-2\",\"timestamp\":\"2026-11-23T13:45:07.123Z\"}";
    expect_ok(cio_cdp_message_request(msg, &req));
    expect_ok(cio_cdp_prepare(msg, &want));
    expect_request(req, CIO_API_CDP, "/v1/alias", want);
    cio_free(want);
}

Test(v2_builders, test_cdp_request_is_sent_with_the_pipelines_key) {
    cio_request_t *req = NULL;
    expect_ok(cio_cdp_identify_request("u1", NULL, "{\"plan\":\"pro\"}", NULL, &req));
    expect_ok(cio_request_send(fx.client, req, NULL));
    json_t *reqs = mock_requests_wait(1);
    json_t *r = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(r, "path"), "/v1/identify");
    cr_assert_str_eq(req_header(r, "authorization"), TEST_CDP_AUTH);
    cr_assert_str_eq(req_str(r, "body"), cio_request_body(req, NULL));
    cio_request_free(req);
    json_decref(reqs);
}

/* ---- the pipeline's executor ---- */

static cio_pipeline_t *pipeline(cio_pipeline_sink_t sink) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = sink;
    o.linger_ms = 10;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    return p;
}

/* The items of the one batch request sent to path (a new reference). */
static json_t *one_batch(const char *path) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    json_t *r = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(r, "path"), path);
    cr_assert_eq(req_status(r), 200);
    json_t *body = req_body_json(r);
    json_t *items = json_incref(json_object_get(body, "batch"));
    json_decref(body);
    json_decref(reqs);
    return items;
}

Test(v2_builders, test_enqueue_request_delivers_as_enqueue_would) {
    cio_pipeline_t *p = pipeline(CIO_SINK_TRACK_V2);
    const char *op = "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"7\"},"
                     "\"name\":\"bought\",\"id\":\"ev-1\"}";
    cio_request_t *req = NULL;
    cio_event_options_t eo = CIO_EVENT_OPTIONS_INIT;
    eo.id = "ev-1";
    expect_ok(cio_v2_person_event_request(CIO_ID_TYPE_ID, "7", "bought", NULL, &eo, &req));
    cr_assert_str_eq(cio_request_body(req, NULL), op);
    uint64_t s1 = 0, s2 = 0, s3 = 0;
    expect_ok(cio_pipeline_enqueue(p, op, &s1));
    expect_ok(cio_pipeline_enqueue_request(p, req, &s2));
    expect_ok(cio_pipeline_try_enqueue_request(p, req, &s3));
    cr_assert_eq(s2, s1 + 1);
    cr_assert_eq(s3, s2 + 1);
    cio_request_free(req);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    json_t *items = one_batch("/api/v2/batch");
    cr_assert_eq(json_array_size(items), 3);
    json_t *want = json_loads(op, 0, NULL);
    for (size_t i = 0; i < 3; i++)
        cr_assert(json_equal(json_array_get(items, i), want), "item %zu differs", i);
    json_decref(want);
    json_decref(items);
}

Test(v2_builders, test_enqueue_request_into_a_pipelines_pipeline) {
    cio_pipeline_t *p = pipeline(CIO_SINK_PIPELINES);
    cio_request_t *req = NULL;
    expect_ok(cio_cdp_track_request("u1", NULL, "bought", NULL, NULL, &req));
    expect_ok(cio_pipeline_enqueue_request(p, req, NULL));
    json_t *want = json_loads(cio_request_body(req, NULL), 0, NULL);
    cio_request_free(req);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    json_t *items = one_batch("/v1/batch");
    cr_assert_eq(json_array_size(items), 1);
    cr_assert(json_equal(json_array_get(items, 0), want));
    json_decref(want);
    json_decref(items);
}

Test(v2_builders, test_enqueue_request_refuses_what_does_not_fit) {
    cio_pipeline_t *v2 = pipeline(CIO_SINK_TRACK_V2);
    cio_pipeline_t *cdp = pipeline(CIO_SINK_PIPELINES);
    cio_request_t *op = NULL, *msg = NULL, *plain = NULL;
    expect_ok(cio_v2_person_delete_request(CIO_ID_TYPE_ID, "1", &op));
    expect_ok(cio_cdp_alias_request("a", "b", NULL, &msg));
    expect_ok(cio_request_new(CIO_API_TRACK, "POST", ENTITY, "{}", 2, &plain));
    expect_error(cio_pipeline_enqueue_request(cdp, op, NULL), CIO_E_INVALID_ARGUMENT,
                 "a Pipelines pipeline takes a Pipelines message", "built by v2_person_delete");
    expect_error(cio_pipeline_try_enqueue_request(v2, msg, NULL), CIO_E_INVALID_ARGUMENT,
                 "a Track v2 pipeline takes a Track v2 operation", "POST /v1/alias");
    expect_error(cio_pipeline_enqueue_request(v2, plain, NULL), CIO_E_INVALID_ARGUMENT,
                 "a Track v2 pipeline", "built by request_new");
    expect_error(cio_pipeline_enqueue_request(v2, NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "enqueue_request: request is NULL", NULL);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(v2, &s);
    cr_assert_eq(s.enqueued, 0);
    cio_pipeline_stats(cdp, &s);
    cr_assert_eq(s.enqueued, 0);
    cio_request_free(op);
    cio_request_free(msg);
    cio_request_free(plain);
    cr_assert_eq(cio_pipeline_close(v2, 1000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(cdp, 1000), CIO_OK);
    expect_nothing_sent();
}

Test(v2_builders, test_object_by_cio_object_id) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_object_identify_request(NULL, "obj_1", "{\"name\":\"Acme\"}", &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"object\",\"action\":\"identify\",\"identifiers\":{"
                   "\"cio_object_id\":\"obj_1\"},\"attributes\":{\"name\":\"Acme\"}}");
    expect_ok(cio_v2_object_delete(fx.client, NULL, "obj_1"));
    json_decref(expect_one_request("POST", ENTITY,
                                   "{\"type\":\"object\",\"action\":\"delete\",\"identifiers\":{"
                                   "\"cio_object_id\":\"obj_1\"}}"));
}

Test(v2_builders, test_too_large_is_refused_like_the_call) {
    size_t n = 40000;
    char *data = malloc(n + 16);
    memcpy(data, "{\"blob\":\"", 9);
    memset(data + 9, 'x', n);
    memcpy(data + 9 + n, "\"}", 3);
    cio_request_t *req = NULL;
    expect_error(cio_v2_person_event_request(CIO_ID_TYPE_ID, "1", "big", data, NULL, &req),
                 CIO_E_PAYLOAD_TOO_LARGE, "v2_person_event: operation is ",
                 "over the Track API limit of 32768 bytes per operation");
    cr_assert_null(req);
    char built[512];
    snprintf(built, sizeof built, "%s", cio_last_error()->message);
    expect_error(cio_v2_person_event(fx.client, CIO_ID_TYPE_ID, "1", "big", data, NULL),
                 CIO_E_PAYLOAD_TOO_LARGE, NULL, NULL);
    cr_assert_str_eq(cio_last_error()->message, built);
    free(data);
    expect_nothing_sent();
}

/* An integer id (bindings whose callers pass one) is written as a JSON number, as a hand-written
 * operation may carry it; anything but a decimal integer is refused naming the field. */
Test(v2_builders, test_integer_person_id_is_a_json_number) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_identify_request(CIO_ID_TYPE_ID_INTEGER, "-42", NULL, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":-42},"
                   "\"attributes\":{}}");
    expect_ok(cio_v2_person_merge_request(CIO_ID_TYPE_ID_INTEGER, "5", CIO_ID_TYPE_ID, "5", &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"merge\",\"primary\":{\"id\":5},"
                   "\"secondary\":{\"id\":\"5\"}}");
    static const char *const bad[] = {"", "5a", "1.5", "-", "12345678901234567890", " 5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(cio_v2_person_delete_request(CIO_ID_TYPE_ID_INTEGER, bad[i], &req),
                     CIO_E_INVALID_ARGUMENT, "%s", bad[i]);
        cr_assert_null(req);
        cr_assert_str_eq(cio_last_error()->message,
                         "v2_person_delete: identifiers.id must be an integer (-?[0-9]{1,19})");
    }
}

/* A caller's whole identifiers object (bindings passing theirs on unread) is written as is and
 * judged with the whole operation: accepted or refused exactly as the same operation written by
 * hand (cio_v2_entity_request), with the same message after the call's name. */
Test(v2_builders, test_identifiers_object_is_judged_as_a_hand_written_operation) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_identify_request(CIO_ID_TYPE_IDENTIFIERS, "{\"email\":\"a@b.c\"}", NULL,
                                             &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"email\":"
                   "\"a@b.c\"},\"attributes\":{}}");
    expect_ok(cio_v2_person_merge_request(CIO_ID_TYPE_IDENTIFIERS, "{\"id\":7}", CIO_ID_TYPE_EMAIL,
                                          "x@y.z", &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"merge\",\"primary\":{\"id\":7},"
                   "\"secondary\":{\"email\":\"x@y.z\"}}");
    static const char *const bad[] = {"{}",
                                      "{\"id\":\"a\",\"email\":\"b\"}",
                                      "{\"id\":\"\"}",
                                      "{\"email\":5}",
                                      "{\"phone\":\"1\"}",
                                      "{\"id\":true}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char op[256];
        snprintf(op, sizeof(op), "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":%s}",
                 bad[i]);
        cr_assert_eq(cio_v2_entity_request(op, &req), CIO_E_INVALID_ARGUMENT, "%s", bad[i]);
        char expected[512];
        snprintf(expected, sizeof(expected), "v2_person_delete: %s",
                 cio_last_error()->message + strlen("send_entity: "));
        cr_assert_eq(cio_v2_person_delete_request(CIO_ID_TYPE_IDENTIFIERS, bad[i], &req),
                     CIO_E_INVALID_ARGUMENT, "%s", bad[i]);
        cr_assert_null(req);
        cr_assert_str_eq(cio_last_error()->message, expected);
    }
    /* not one JSON object: refused before anything is written */
    static const char *const broken[] = {"[\"a\"]", "\"a\"", "{\"id\":\"a\"},\"x\":{", "{"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        cr_assert_eq(cio_v2_person_delete_request(CIO_ID_TYPE_IDENTIFIERS, broken[i], &req),
                     CIO_E_INVALID_ARGUMENT, "%s", broken[i]);
        cr_assert_null(req);
    }
    cr_assert_eq(cio_v2_person_delete_request(CIO_ID_TYPE_IDENTIFIERS, NULL, &req),
                 CIO_E_INVALID_ARGUMENT);
    cr_assert_str_eq(cio_last_error()->message, "v2_person_delete: identifiers must be an object");
    /* elsewhere it is no id type */
    cr_assert_eq(cio_merge_customers_request(CIO_ID_TYPE_IDENTIFIERS, "{\"id\":\"a\"}",
                                             CIO_ID_TYPE_ID, "b", &req),
                 CIO_E_INVALID_ARGUMENT);
}

/* A device's further fields by name (bindings' keyword arguments) go into "device" as given after
 * token and platform, and the operation is judged whole, as the same operation written by hand. */
Test(v2_builders, test_add_device_fields_are_sent_as_given) {
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_add_device_fields_request(
        CIO_ID_TYPE_ID_INTEGER, "5", "tok", "ios",
        "{\"last_used\":1700000000,\"app_version\":\"1.2\",\"attributes\":{\"a\":1}}", &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"add_device\",\"identifiers\":{\"id\":5},"
                   "\"device\":{\"token\":\"tok\",\"platform\":\"ios\",\"last_used\":1700000000,"
                   "\"app_version\":\"1.2\",\"attributes\":{\"a\":1}}}");
    expect_ok(cio_v2_person_add_device_fields_request(CIO_ID_TYPE_EMAIL, "a@b.c", "tok", "android",
                                                      NULL, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"add_device\",\"identifiers\":{\"email\":"
                   "\"a@b.c\"},\"device\":{\"token\":\"tok\",\"platform\":\"android\"}}");
    static const char *const bad[] = {"[1]", "{\"token\":\"x\"}", "{\"platform\":\"ios\"}", "{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(cio_v2_person_add_device_fields_request(CIO_ID_TYPE_ID, "1", "tok", "ios",
                                                             bad[i], &req),
                     CIO_E_INVALID_ARGUMENT, "%s", bad[i]);
        cr_assert_null(req);
        cr_assert(strncmp(cio_last_error()->message, "v2_person_add_device: ", 22) == 0, "%s",
                  cio_last_error()->message);
    }
    cr_assert_eq(
        cio_v2_person_add_device_fields_request(CIO_ID_TYPE_ID, "1", NULL, "ios", NULL, &req),
        CIO_E_INVALID_ARGUMENT);
}

/* ---- what the builders do not take: a timestamp on any operation, a relationship item ---- */

Test(v2_builders, test_timestamp_is_added_to_any_operation) {
    cio_request_t *op = NULL, *req = NULL;
    expect_ok(cio_v2_person_delete_request(CIO_ID_TYPE_ID, "7", &op));
    expect_ok(cio_v2_operation_with_timestamp_request(op, 1700000000, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"7\"},"
                   "\"timestamp\":1700000000}");
    /* 0 is a timestamp here, not "none"; the operation given stays as it was */
    expect_ok(cio_v2_operation_with_timestamp_request(op, 0, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"7\"},"
                   "\"timestamp\":0}");
    cr_assert_str_eq(cio_request_body(op, NULL), "{\"type\":\"person\",\"action\":\"delete\","
                                                 "\"identifiers\":{\"id\":\"7\"}}");
    cio_request_free(op);
    /* a caller's operation, whitespace around it, an event keeping its id */
    op = NULL;
    expect_ok(cio_v2_entity_request(
        " {\"type\":\"object\",\"action\":\"event\",\"identifiers\":{\"cio_object_id\":\"o1\"},"
        "\"name\":\"n\",\"id\":\"E1\"}\n",
        &op));
    expect_ok(cio_v2_operation_with_timestamp_request(op, 5, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"object\",\"action\":\"event\",\"identifiers\":{\"cio_object_id\":"
                   "\"o1\"},\"name\":\"n\",\"id\":\"E1\",\"timestamp\":5}");
    cio_request_free(op);
    expect_nothing_sent();
}

Test(v2_builders, test_timestamp_refusals) {
    cio_request_t *op = NULL, *cdp = NULL, *req = NULL;
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.timestamp = 1700000000;
    expect_ok(cio_v2_person_event_request(CIO_ID_TYPE_ID, "7", "bought", NULL, &o, &op));
    expect_error(cio_v2_operation_with_timestamp_request(op, 1, &req), CIO_E_INVALID_ARGUMENT,
                 "v2_operation_with_timestamp: the operation already has a timestamp", NULL);
    cr_assert_null(req);
    expect_error(cio_v2_operation_with_timestamp_request(op, -1, &req), CIO_E_INVALID_ARGUMENT,
                 "v2_operation_with_timestamp: timestamp is negative", NULL);
    expect_error(cio_v2_operation_with_timestamp_request(op, 1, NULL), CIO_E_INVALID_ARGUMENT,
                 "v2_operation_with_timestamp: out is NULL", NULL);
    expect_error(cio_v2_operation_with_timestamp_request(NULL, 1, &req), CIO_E_INVALID_ARGUMENT,
                 "v2_operation_with_timestamp: operation is not a Track v2 operation", NULL);
    expect_ok(cio_cdp_alias_request("a", "b", NULL, &cdp));
    expect_error(cio_v2_operation_with_timestamp_request(cdp, 1, &req), CIO_E_INVALID_ARGUMENT,
                 "v2_operation_with_timestamp: operation is not a Track v2 operation", NULL);
    cr_assert_null(req);
    cio_request_free(cdp);
    cio_request_free(op);
    /* the whole operation is judged again: its size with the timestamp */
    size_t n = CIO_TRACK_V2_MAX_OPERATION_BYTES - 117; /* the operation 10 bytes under */
    char *attrs = malloc(n + 1);
    cr_assert_not_null(attrs);
    memcpy(attrs, "{\"a\":\"", 6);
    memset(attrs + 6, 'x', n - 8);
    memcpy(attrs + n - 2, "\"}", 3);
    op = NULL;
    expect_ok(cio_v2_object_identify_request("1", "acme", attrs, &op));
    size_t len = 0;
    cio_request_body(op, &len);
    cr_assert_gt(len + 23, (size_t)CIO_TRACK_V2_MAX_OPERATION_BYTES);
    expect_error(cio_v2_operation_with_timestamp_request(op, 1700000000, &req),
                 CIO_E_PAYLOAD_TOO_LARGE, "v2_operation_with_timestamp", NULL);
    cr_assert_null(req);
    cio_request_free(op);
    free(attrs);
}

Test(v2_builders, test_relationship_item_of_an_object) {
    char *item = NULL;
    expect_ok(cio_v2_relationship_json("1", "acme", NULL, &item));
    cr_assert_str_eq(item, "{\"identifiers\":{\"object_type_id\":\"1\",\"object_id\":\"acme\"}}");
    cio_free(item);
    expect_ok(cio_v2_relationship_json("1", "a\"b", "{\"role\":\"admin\"}", &item));
    cr_assert_str_eq(item, "{\"identifiers\":{\"object_type_id\":\"1\",\"object_id\":\"a\\\"b\"},"
                           "\"relationship_attributes\":{\"role\":\"admin\"}}");
    /* the item as a relationships array of a builder */
    char rels[256];
    snprintf(rels, sizeof(rels), "[%s]", item);
    cio_free(item);
    cio_request_t *req = NULL;
    expect_ok(cio_v2_person_add_relationships_request(CIO_ID_TYPE_ID, "7", rels, &req));
    expect_request(req, CIO_API_TRACK, ENTITY,
                   "{\"type\":\"person\",\"action\":\"add_relationships\",\"identifiers\":{\"id\":"
                   "\"7\"},\"cio_relationships\":[{\"identifiers\":{\"object_type_id\":\"1\","
                   "\"object_id\":\"a\\\"b\"},\"relationship_attributes\":{\"role\":\"admin\"}}]}");
    expect_ok(cio_v2_relationship_json(NULL, "o1", NULL, &item));
    cr_assert_str_eq(item, "{\"identifiers\":{\"cio_object_id\":\"o1\"}}");
    cio_free(item);
}

Test(v2_builders, test_relationship_item_refusals) {
    char *item = (char *)"untouched";
    expect_error(cio_v2_relationship_json("1", "", NULL, &item), CIO_E_INVALID_ARGUMENT,
                 "v2_relationship_json: identifiers.object_id is empty", NULL);
    cr_assert_null(item);
    expect_error(cio_v2_relationship_json("1", NULL, NULL, &item), CIO_E_INVALID_ARGUMENT,
                 "v2_relationship_json: identifiers.object_id must be a string", NULL);
    expect_error(cio_v2_relationship_json(NULL, NULL, NULL, &item), CIO_E_INVALID_ARGUMENT,
                 "v2_relationship_json: identifiers.cio_object_id must be a string", NULL);
    expect_error(cio_v2_relationship_json("1", "acme", "[1]", &item), CIO_E_INVALID_ARGUMENT,
                 "v2_relationship_json", "relationship_attributes");
    cr_assert_null(item);
    expect_error(cio_v2_relationship_json("1", "acme", NULL, NULL), CIO_E_INVALID_ARGUMENT,
                 "v2_relationship_json: out is NULL", NULL);
}
