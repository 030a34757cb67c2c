/*
 * Errors from the server: each HTTP status maps to its cio_status_t, cio_last_error() carries the
 * HTTP status, the response body and the attempt count, and non-retryable statuses are sent once.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <string.h>

TestSuite(errors, .init = fx_setup, .fini = fx_teardown);

/* One request was logged and the emulator answered it with `status`. */
static void expect_sent_once_with(int status) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1, "expected one request (no retry), got %zu",
                 json_array_size(reqs));
    cr_assert_eq(req_status(json_array_get(reqs, 0)), status);
    json_decref(reqs);
}

static void expect_http_details(int http_status, const char *body_part, int attempts) {
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e);
    cr_assert_eq(e->http_status, http_status, "http_status %d, expected %d", e->http_status,
                 http_status);
    cr_assert_eq(e->attempts, attempts, "attempts %d, expected %d", e->attempts, attempts);
    if (body_part) {
        cr_assert_not_null(e->response_body, "no response body recorded");
        cr_assert_eq(strlen(e->response_body), e->response_body_len,
                     "response_body_len does not match the body");
        cr_assert_not_null(strstr(e->response_body, body_part), "response body \"%s\" lacks \"%s\"",
                           e->response_body, body_part);
    }
}

Test(errors, test_wrong_api_key_gives_auth_error_with_401_and_body) {
    cio_client_options_t opts = fx_options();
    opts.api_key = "wrong-secret-key-9f8e7d";
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_identify(c, "cust-1", "{}"), CIO_E_AUTH, "identify", NULL);
    expect_http_details(401, "Unauthorized request", 1);
    const cio_error_t *e = cio_last_error();
    cr_assert_null(strstr(e->message, "wrong-secret-key-9f8e7d"), "the API key leaked: %s",
                   e->message);
    expect_sent_once_with(401);
}

Test(errors, test_wrong_site_id_gives_auth_error_without_retry) {
    cio_client_options_t opts = fx_options();
    opts.site_id = "other-site";
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_track(c, "cust-1", "e", NULL, NULL), CIO_E_AUTH, "track", NULL);
    expect_http_details(401, "Unauthorized", 1);
    expect_sent_once_with(401);
}

Test(errors, test_403_gives_auth_error) {
    mock_fault(1, 403, "{\"meta\":{\"error\":\"forbidden\"}}", 0, NULL, NULL);
    expect_error(cio_delete(fx.client, "a"), CIO_E_AUTH, "delete", NULL);
    expect_http_details(403, "forbidden", 1);
    expect_sent_once_with(403);
}

Test(errors, test_400_gives_bad_request_and_is_not_retried) {
    mock_fault(5, 400, "{\"meta\":{\"error\":\"bad thing\"}}", 0, NULL, NULL);
    expect_error(cio_identify(fx.client, "a", "{}"), CIO_E_BAD_REQUEST, "identify", NULL);
    expect_http_details(400, "bad thing", 1);
    expect_sent_once_with(400);
}

Test(errors, test_422_gives_bad_request_and_is_not_retried) {
    mock_fault(5, 422, "{\"meta\":{\"error\":\"unprocessable\"}}", 0, NULL, NULL);
    expect_error(cio_track(fx.client, "a", "e", NULL, NULL), CIO_E_BAD_REQUEST, "track", NULL);
    expect_http_details(422, "unprocessable", 1);
    expect_sent_once_with(422);
}

Test(errors, test_404_from_unknown_path_gives_not_found) {
    char url[300];
    snprintf(url, sizeof url, "%s/no-such-prefix", fx.base_url);
    cio_client_options_t opts = fx_options();
    opts.track_url = url;
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_delete(c, "a"), CIO_E_NOT_FOUND, "delete", NULL);
    expect_http_details(404, NULL, 1);
    expect_sent_once_with(404);
}

Test(errors, test_404_fault_gives_not_found) {
    mock_fault(3, 404, "{\"meta\":{\"error\":\"not found\"}}", 0, NULL, NULL);
    expect_error(cio_suppress(fx.client, "a"), CIO_E_NOT_FOUND, "suppress", NULL);
    expect_http_details(404, "not found", 1);
    expect_sent_once_with(404);
}

Test(errors, test_413_gives_payload_too_large_and_is_not_retried) {
    mock_fault(3, 413, "{\"meta\":{\"error\":\"too large\"}}", 0, NULL, NULL);
    expect_error(cio_identify(fx.client, "a", "{\"x\":1}"), CIO_E_PAYLOAD_TOO_LARGE, "identify",
                 NULL);
    expect_http_details(413, "too large", 1);
    expect_sent_once_with(413);
}

Test(errors, test_unexpected_status_gives_http_error) {
    mock_fault(3, 418, "teapot", 0, NULL, NULL);
    expect_error(cio_delete(fx.client, "a"), CIO_E_HTTP, "delete", NULL);
    expect_http_details(418, "teapot", 1);
    expect_sent_once_with(418);
}

Test(errors, test_error_is_cleared_by_next_successful_call) {
    mock_fault(1, 400, "{}", 0, NULL, NULL);
    expect_error(cio_delete(fx.client, "a"), CIO_E_BAD_REQUEST, NULL, NULL);
    expect_ok(cio_delete(fx.client, "a"));
    cr_assert_null(cio_last_error());
}

/* ---- cio_last_response(): the answer to the last synchronous call that succeeded ---- */

Test(errors, test_last_response_holds_status_body_and_header_lines_of_a_success) {
    mock_fault(1, 201, "{\"accepted\":true}", 0, NULL, NULL);
    expect_ok(cio_identify(fx.client, "cust-1", "{}"));
    const cio_response_t *r = cio_last_response();
    cr_assert_not_null(r);
    cr_assert_eq(r->http_status, 201);
    cr_assert_str_eq(r->body, "{\"accepted\":true}");
    cr_assert_eq(r->body_len, strlen(r->body));
    cr_assert_eq(strncmp(r->headers, "HTTP/1.1 201", 12), 0, "headers start \"%.20s\"", r->headers);
    cr_assert_eq(r->headers_len, strlen(r->headers));
    cr_assert_not_null(strstr(r->headers, "\r\n"), "header lines are kept as received");
}

Test(errors, test_last_response_of_an_empty_body_is_an_empty_string) {
    mock_fault(1, 204, NULL, 0, NULL, NULL);
    expect_ok(cio_delete(fx.client, "cust-1"));
    const cio_response_t *r = cio_last_response();
    cr_assert_not_null(r);
    cr_assert_eq(r->http_status, 204);
    cr_assert_str_eq(r->body, "");
    cr_assert_eq(r->body_len, 0);
}

Test(errors, test_last_response_is_cleared_by_a_failed_call) {
    expect_ok(cio_identify(fx.client, "cust-1", "{}"));
    cr_assert_not_null(cio_last_response());
    expect_error(cio_identify(fx.client, "", "{}"), CIO_E_INVALID_ARGUMENT, "customer_id", NULL);
    cr_assert_null(cio_last_response(), "a failure leaves no stale answer behind");
}

Test(errors, test_last_response_of_a_batch_is_its_answer) {
    mock_fault(1, 200, "{\"batch\":\"ok\"}", 0, NULL, NULL);
    const char *ops[] = {
        "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}"};
    cio_batch_result_t *result = NULL;
    expect_ok(cio_v2_send_batch(fx.client, ops, 1, &result));
    cio_batch_result_free(result);
    const cio_response_t *r = cio_last_response();
    cr_assert_not_null(r);
    cr_assert_eq(r->http_status, 200);
    cr_assert_str_eq(r->body, "{\"batch\":\"ok\"}");
    cr_assert_eq(strncmp(r->headers, "HTTP/1.1 200", 12), 0);
}

/* What the answer says, read once in C for every binding: the Pipelines API's {"code",
 * "message"}, the App/Track API's {"meta":{"error"}}, the first of {"errors":[...]}; nothing
 * for an answer without those shapes or without an answer at all. */
Test(errors, test_server_code_and_message_are_read_from_the_answer) {
    mock_fault(1, 400, "{\"code\":\"invalid_request\",\"message\":\"userId is too long\"}", 0, NULL,
               NULL);
    expect_error(cio_identify(fx.client, "a", "{}"), CIO_E_BAD_REQUEST, "identify", NULL);
    const cio_error_t *e = cio_last_error();
    cr_assert_str_eq(e->server_code, "invalid_request");
    cr_assert_str_eq(e->server_message, "userId is too long");
    cr_assert_not_null(strstr(e->message, ": userId is too long"), "%s", e->message);

    mock_fault(1, 404, "{\"meta\":{\"error\":\"customer not found\"}}", 0, NULL, NULL);
    expect_error(cio_delete(fx.client, "a"), CIO_E_NOT_FOUND, "delete", NULL);
    e = cio_last_error();
    cr_assert_null(e->server_code);
    cr_assert_str_eq(e->server_message, "customer not found");

    mock_fault(1, 400, "{\"errors\":[{\"reason\":\"invalid\",\"field\":\"name\"}]}", 0, NULL, NULL);
    expect_error(cio_identify(fx.client, "a", "{}"), CIO_E_BAD_REQUEST, "identify", NULL);
    cr_assert_str_eq(cio_last_error()->server_message, "invalid");

    mock_fault(1, 400, "not json\r\n", 0, NULL, NULL);
    expect_error(cio_identify(fx.client, "a", "{}"), CIO_E_BAD_REQUEST, "identify", NULL);
    cr_assert_null(cio_last_error()->server_code);
    cr_assert_null(cio_last_error()->server_message);

    /* a code with a control character is not passed on */
    mock_fault(1, 400, "{\"code\":\"bad\\nline\"}", 0, NULL, NULL);
    expect_error(cio_identify(fx.client, "a", "{}"), CIO_E_BAD_REQUEST, "identify", NULL);
    cr_assert_null(cio_last_error()->server_code);

    expect_error(cio_identify(fx.client, "", "{}"), CIO_E_INVALID_ARGUMENT, "identify", NULL);
    cr_assert_null(cio_last_error()->server_code);
    cr_assert_null(cio_last_error()->server_message);
}
