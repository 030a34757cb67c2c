/*
 * Request values (request.h): what the builders of Track v1 and App API calls produce, byte for
 * byte; that sending a built request puts on the wire exactly what the classic call does; the
 * asynchronous executor with its explicit queue, which leaves cio_async_next() alone; one value
 * sent from two threads; and cio_request_new's refusals.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TEST_APP_KEY "test-app-key"

/* The shared fixture, with an App key as well (Track and App calls in one suite). */
static void request_setup(void) {
    fx_setup_mock_only();
    cio_client_options_t opts = fx_options();
    opts.app_api_key = TEST_APP_KEY;
    cr_assert_eq(cio_client_new(&opts, &fx.client), CIO_OK);
}

TestSuite(request, .init = request_setup, .fini = fx_teardown);

/* ---- helpers ---- */

/* The request's parts are exactly these (body NULL: none). */
static void expect_built(const cio_request_t *req, cio_api_t api, const char *method,
                         const char *path, const char *body) {
    cr_assert_not_null(req);
    cr_assert_eq(cio_request_api(req), api, "api");
    cr_assert_str_eq(cio_request_method(req), method);
    cr_assert_str_eq(cio_request_path(req), path);
    size_t len = 99;
    const char *got = cio_request_body(req, &len);
    if (body == NULL) {
        cr_assert_null(got, "expected no body, got %s", got);
        cr_assert_eq(len, 0);
    } else {
        cr_assert_not_null(got, "expected a body");
        cr_assert_str_eq(got, body);
        cr_assert_eq(len, strlen(body));
    }
}

/* The builder refused with want, leaving *out NULL, and its message is exactly the classic
 * call's (classic_message, copied before). */
static void expect_same_refusal(cio_status_t got, cio_status_t want, const cio_request_t *out,
                                const char *classic_message) {
    cr_assert_eq(got, want, "builder returned %d", got);
    cr_assert_null(out, "*out set on a refusal");
    cr_assert_not_null(cio_last_error());
    cr_assert_str_eq(cio_last_error()->message, classic_message);
}

/* The one logged request's method, path, query, body and auth header, as one string. */
static char *wire_of_one(void) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1, "expected one request, got %zu", json_array_size(reqs));
    const json_t *r = json_array_get(reqs, 0);
    const char *auth = req_header(r, "authorization");
    const char *type = req_header(r, "content-type");
    size_t n = strlen(req_str(r, "body")) + 512;
    char *out = malloc(n);
    snprintf(out, n, "%s %s?%s auth=%s type=%s body=%s", req_str(r, "method"), req_str(r, "path"),
             req_str(r, "query"), auth ? auth : "-", type ? type : "-", req_str(r, "body"));
    json_decref(reqs);
    mock_clear();
    return out;
}

/* ---- what builders produce ---- */

Test(request, test_track_v1_builders_produce_exact_requests) {
    cio_request_t *r = NULL;
    expect_ok(cio_identify_request("a/b", "{\"email\":\"x@y.z\"}", &r));
    expect_built(r, CIO_API_TRACK, "PUT", "/api/v1/customers/a%2Fb", "{\"email\":\"x@y.z\"}");
    cio_request_free(r);

    expect_ok(cio_delete_request("42", &r));
    expect_built(r, CIO_API_TRACK, "DELETE", "/api/v1/customers/42", NULL);
    cio_request_free(r);

    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.timestamp = 1700000000;
    o.id = "ev-1";
    expect_ok(cio_track_request("42", "purchased", "{\"price\":9.50}", &o, &r));
    expect_built(r, CIO_API_TRACK, "POST", "/api/v1/customers/42/events",
                 "{\"name\":\"purchased\",\"data\":{\"price\":9.50},\"timestamp\":1700000000,"
                 "\"id\":\"ev-1\"}");
    cio_request_free(r);

    const char *ids[] = {"a@x.com", "b@x.com"};
    expect_ok(cio_segment_add_customers_request("7", ids, 2, CIO_ID_TYPE_EMAIL, &r));
    expect_built(r, CIO_API_TRACK, "POST", "/api/v1/segments/7/add_customers?id_type=email",
                 "{\"ids\":[\"a@x.com\",\"b@x.com\"]}");
    cio_request_free(r);

    expect_ok(cio_merge_customers_request(CIO_ID_TYPE_EMAIL, "a@x.com", CIO_ID_TYPE_ID, "9", &r));
    expect_built(r, CIO_API_TRACK, "POST", "/api/v1/merge_customers",
                 "{\"primary\":{\"email\":\"a@x.com\"},\"secondary\":{\"id\":\"9\"}}");
    cio_request_free(r);

    expect_ok(cio_track_region_request(&r));
    expect_built(r, CIO_API_TRACK, "GET", "/api/v1/accounts/region", NULL);
    cio_request_free(r);
    expect_nothing_sent();
}

Test(request, test_app_builders_produce_exact_requests) {
    cio_request_t *r = NULL;
    cio_page_t page = CIO_PAGE_INIT;
    page.start = "s 1";
    page.limit = 5;
    expect_ok(cio_customers_get_messages_request(CIO_ID_TYPE_EMAIL, "a@x.com", &page, 10, 20, &r));
    expect_built(r, CIO_API_APP, "GET",
                 "/v1/customers/a%40x.com/messages?id_type=email&start=s%201&limit=5&start_ts=10"
                 "&end_ts=20",
                 NULL);
    cio_request_free(r);

    expect_ok(cio_segments_create_request("VIP", "big \"spenders\"", &r));
    expect_built(r, CIO_API_APP, "POST", "/v1/segments",
                 "{\"segment\":{\"name\":\"VIP\",\"description\":\"big \\\"spenders\\\"\"}}");
    cio_request_free(r);

    cio_attachment_t att = {"a.txt", "hello", 5};
    const char *email = "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"1\"}}";
    expect_ok(cio_send_email_request(email, &att, 1, &r));
    expect_built(r, CIO_API_APP, "POST", "/v1/send/email",
                 "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"1\"},"
                 "\"attachments\":{\"a.txt\":\"aGVsbG8=\"}}");
    cio_request_free(r);

    expect_ok(cio_segments_list_request(&r));
    expect_built(r, CIO_API_APP, "GET", "/v1/segments", NULL);
    cio_request_free(r);
    expect_nothing_sent();
}

Test(request, test_builders_refuse_exactly_as_the_calls_do) {
    cio_request_t *r = (cio_request_t *)1;
    char classic[512];

    cio_track(fx.client, "", "e", NULL, NULL);
    snprintf(classic, sizeof classic, "%s", cio_last_error()->message);
    cio_status_t st = cio_track_request("", "e", NULL, NULL, &r);
    expect_same_refusal(st, CIO_E_INVALID_ARGUMENT, r, classic);

    /* the Track v1 body limit */
    char *big = malloc(40000);
    memset(big, 'x', sizeof(char) * 40000);
    memcpy(big, "{\"k\":\"", 6);
    memcpy(big + 39997, "\"}", 3);
    cr_assert_eq(cio_identify(fx.client, "42", big), CIO_E_PAYLOAD_TOO_LARGE);
    snprintf(classic, sizeof classic, "%s", cio_last_error()->message);
    r = (cio_request_t *)1;
    st = cio_identify_request("42", big, &r);
    expect_same_refusal(st, CIO_E_PAYLOAD_TOO_LARGE, r, classic);
    free(big);

    cio_send_push(fx.client, "{\"identifiers\":{\"id\":\"1\"}}", NULL);
    snprintf(classic, sizeof classic, "%s", cio_last_error()->message);
    r = (cio_request_t *)1;
    st = cio_send_push_request("{\"identifiers\":{\"id\":\"1\"}}", &r);
    expect_same_refusal(st, CIO_E_INVALID_ARGUMENT, r, classic);

    expect_error(cio_delete_request("42", NULL), CIO_E_INVALID_ARGUMENT, "delete: out is NULL",
                 NULL);
    expect_error(cio_segments_get_request("7", NULL), CIO_E_INVALID_ARGUMENT,
                 "segments_get: out is NULL", NULL);
    expect_nothing_sent();
}

/* ---- the synchronous executor ---- */

Test(request, test_sent_request_is_the_classic_calls_request_on_the_wire) {
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.id = "ev-2";
    cio_request_t *r = NULL;

    expect_ok(cio_track(fx.client, "42", "seen", "{\"n\":1}", &o));
    char *classic = wire_of_one();
    expect_ok(cio_track_request("42", "seen", "{\"n\":1}", &o, &r));
    expect_ok(cio_request_send(fx.client, r, NULL));
    char *built = wire_of_one();
    cr_assert_str_eq(built, classic);
    free(classic);
    free(built);
    cio_request_free(r);

    expect_ok(cio_delete_device(fx.client, "42", "dev/1"));
    classic = wire_of_one();
    expect_ok(cio_delete_device_request("42", "dev/1", &r));
    expect_ok(cio_request_send(fx.client, r, NULL));
    built = wire_of_one();
    cr_assert_str_eq(built, classic);
    free(classic);
    free(built);
    cio_request_free(r);

    char *resp_classic = NULL, *resp_built = NULL;
    expect_ok(cio_segments_create(fx.client, "VIP", NULL, &resp_classic));
    classic = wire_of_one();
    expect_ok(cio_segments_create_request("VIP", NULL, &r));
    expect_ok(cio_request_send(fx.client, r, &resp_built));
    built = wire_of_one();
    cr_assert_str_eq(built, classic);
    cr_assert(strstr(classic, "auth=Bearer " TEST_APP_KEY) != NULL, "%s", classic);
    cr_assert_not_null(resp_classic);
    cr_assert_not_null(resp_built, "cio_request_send handed back no answer");
    cr_assert(strstr(resp_built, "\"VIP\"") != NULL, "%s", resp_built);
    cio_free(resp_classic);
    cio_free(resp_built);
    free(classic);
    free(built);
    cio_request_free(r);
}

Test(request, test_request_new_is_sent_as_given) {
    cio_request_t *r = NULL;
    const char *body = "{\"name\":\"raw\",\"data\":{}}";
    expect_ok(cio_request_new(CIO_API_TRACK, "POST", "/api/v1/customers/9/events", body,
                              strlen(body), &r));
    expect_built(r, CIO_API_TRACK, "POST", "/api/v1/customers/9/events", body);
    expect_ok(cio_request_send(fx.client, r, NULL));
    json_decref(expect_one_request("POST", "/api/v1/customers/9/events", body));
    cio_request_free(r);
}

Test(request, test_send_checks_the_credentials_of_the_requests_api) {
    cio_client_options_t o = fx_options();
    o.site_id = NULL;
    o.api_key = NULL;
    cio_client_t *app_only = NULL;
    o.app_api_key = TEST_APP_KEY;
    cr_assert_eq(cio_client_new(&o, &app_only), CIO_OK);
    cio_request_t *r = NULL;
    expect_ok(cio_delete_request("42", &r));
    expect_error(cio_request_send(app_only, r, NULL), CIO_E_CONFIG, "delete: site_id is missing",
                 NULL);
    cio_request_free(r);

    cio_client_options_t t = fx_options(); /* Track credentials only */
    cio_client_t *track_only = fx_client(&t);
    expect_ok(cio_segments_list_request(&r));
    expect_error(cio_request_send(track_only, r, NULL), CIO_E_CONFIG,
                 "segments_list: app_api_key is missing", NULL);
    expect_error(cio_request_send(NULL, r, NULL), CIO_E_INVALID_ARGUMENT,
                 "segments_list: client is NULL", NULL);
    cio_request_free(r);
    cio_client_free(app_only);
    expect_nothing_sent();
}

/* ---- the asynchronous executor ---- */

Test(request, test_send_async_completes_on_its_queue_and_leaves_async_next_armed) {
    cio_queue_t *mine, *armed;
    cr_assert_eq(cio_queue_new(&mine), CIO_OK);
    cr_assert_eq(cio_queue_new(&armed), CIO_OK);
    cr_assert_eq(cio_async_next(armed, 5), CIO_OK);

    cio_request_t *r = NULL;
    expect_ok(cio_identify_request("42", "{\"a\":1}", &r));
    cr_assert_eq(cio_request_send_async(fx.client, r, mine, 42), CIO_OK);
    cio_request_free(r); /* the executor keeps its own copy */
    cio_completion_t *c = next_completion(mine);
    cr_assert_eq(c->token, 42);
    cr_assert_eq(c->status, CIO_OK);
    cr_assert_eq(c->http_status, 200);
    cio_completion_free(c);
    json_decref(expect_one_request("PUT", "/api/v1/customers/42", "{\"a\":1}"));
    mock_clear();

    /* the switch armed before is still there, for the next classic call */
    cr_assert_eq(cio_queue_size(armed), 0);
    expect_ok(cio_delete(fx.client, "42"));
    c = next_completion(armed);
    cr_assert_eq(c->token, 5);
    cr_assert_eq(c->status, CIO_OK);
    cio_completion_free(c);
    json_decref(expect_one_request("DELETE", "/api/v1/customers/42", NULL));
    cr_assert_eq(cio_queue_size(mine), 0, "a second completion on the explicit queue");
    cio_queue_free(mine);
    cio_queue_free(armed);
}

Test(request, test_send_async_refuses_a_null_queue) {
    cio_request_t *r = NULL;
    expect_ok(cio_delete_request("42", &r));
    expect_error(cio_request_send_async(fx.client, r, NULL, 1), CIO_E_INVALID_ARGUMENT,
                 "delete: queue is NULL", NULL);
    cio_request_free(r);
    expect_nothing_sent();
}

Test(request, test_a_failed_builder_disarms_async_next) {
    cio_queue_t *q;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    cio_async_next(q, 1);
    cio_request_t *r = NULL;
    expect_error(cio_identify_request("", NULL, &r), CIO_E_INVALID_ARGUMENT, "customer_id", NULL);
    /* the next classic call is synchronous again */
    expect_ok(cio_delete(fx.client, "42"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/42", NULL));
    cr_assert_eq(cio_queue_size(q), 0);
    cr_assert(!fd_readable(cio_queue_fd(q), 50));
    cio_queue_free(q);
}

/* ---- one value, two threads ---- */

typedef struct sender {
    const cio_request_t *req;
    cio_status_t st;
    char *resp;
} sender_t;

static void *send_one(void *p) {
    sender_t *s = p;
    s->st = cio_request_send(fx.client, s->req, &s->resp);
    return NULL;
}

Test(request, test_one_request_sent_from_two_threads) {
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.id = "ev-3";
    cio_request_t *r = NULL;
    expect_ok(cio_track_request("7", "twice", NULL, &o, &r));
    sender_t a = {r, CIO_E_INTERNAL, NULL}, b = {r, CIO_E_INTERNAL, NULL};
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, send_one, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, send_one, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.st, CIO_OK);
    cr_assert_eq(b.st, CIO_OK);
    cr_assert_str_eq(a.resp, "{}");
    cr_assert_str_eq(b.resp, "{}");
    cio_free(a.resp);
    cio_free(b.resp);
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *q = json_array_get(reqs, i);
        cr_assert_str_eq(req_str(q, "path"), "/api/v1/customers/7/events");
        cr_assert_str_eq(req_str(q, "body"), "{\"name\":\"twice\",\"data\":{},\"id\":\"ev-3\"}");
    }
    json_decref(reqs);
    cio_request_free(r);
}

/* ---- cio_request_new's refusals ---- */

Test(request, test_request_new_refusals) {
    cio_request_t *r = (cio_request_t *)1;
    expect_error(cio_request_new(CIO_API_TRACK, "PATCH", "/x", NULL, 0, &r), CIO_E_INVALID_ARGUMENT,
                 "request_new: method is not GET, POST, PUT or DELETE", NULL);
    cr_assert_null(r);
    r = (cio_request_t *)1;
    expect_error(cio_request_new(CIO_API_APP, "GET", "v1/segments", NULL, 0, &r),
                 CIO_E_INVALID_ARGUMENT, "request_new: path must start with '/'", NULL);
    cr_assert_null(r);
    r = (cio_request_t *)1;
    expect_error(cio_request_new(CIO_API_APP, "GET", "/v1/a\r\nX-Evil: 1", NULL, 0, &r),
                 CIO_E_INVALID_ARGUMENT, "no control character", NULL);
    cr_assert_null(r);
    r = (cio_request_t *)1;
    expect_error(cio_request_new(CIO_API_TRACK, "POST", "/x", "{\"a\":\"\xff\"}", 8, &r),
                 CIO_E_INVALID_ARGUMENT, "request_new: body is not valid UTF-8", NULL);
    cr_assert_null(r);
    r = (cio_request_t *)1;
    expect_error(cio_request_new((cio_api_t)7, "GET", "/x", NULL, 0, &r), CIO_E_INVALID_ARGUMENT,
                 "request_new: api is not track, app or cdp", NULL);
    cr_assert_null(r);
    expect_nothing_sent();
}
