/*
 * Track API v2: /entity bytes for every helper, validation before sending, and /batch split under
 * 500 KB with every item accounted for and 207 answers reported item by item.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

TestSuite(track_v2, .init = fx_setup, .fini = fx_teardown);

#define ENTITY "/api/v2/entity"

/* ---- /entity ---- */

Test(track_v2, test_send_entity_sends_caller_bytes_verbatim) {
    const char *op = "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"42\"},"
                     "\"attributes\":{\"price\":23.45,\"big\":12345678901234567}}";
    expect_ok(cio_v2_send_entity(fx.client, op));
    json_t *req = expect_one_request("POST", ENTITY, op);
    cr_assert_str_eq(req_str(req, "body"), op, "the body was re-serialised");
    json_decref(req);
}

Test(track_v2, test_send_entity_event_without_id_gets_a_ulid) {
    expect_ok(cio_v2_send_entity(
        fx.client,
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"email\":\"a@b.c\"},"
        "\"name\":\"purchased\"}"));
    json_decref(expect_one_event(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"email\":\"a@b.c\"},"
        "\"name\":\"purchased\"}",
        NULL));
}

Test(track_v2, test_send_entity_event_keeps_caller_id) {
    const char *op =
        "{\"type\":\"object\",\"action\":\"event\",\"identifiers\":{\"object_type_id\":"
        "\"1\",\"object_id\":\"acme\"},\"name\":\"renewed\",\"id\":\"my-id-1\"}";
    expect_ok(cio_v2_send_entity(fx.client, op));
    json_decref(expect_one_request("POST", ENTITY, op));
}

/* ---- helpers: people ---- */

Test(track_v2, test_person_identify_by_email) {
    expect_ok(cio_v2_person_identify(fx.client, CIO_ID_TYPE_EMAIL, "a@b.c", "{\"plan\":\"pro\"}"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"email\":\"a@b.c\"},"
        "\"attributes\":{\"plan\":\"pro\"}}"));
}

Test(track_v2, test_person_delete_suppress_unsuppress) {
    expect_ok(cio_v2_person_delete(fx.client, CIO_ID_TYPE_ID, "42"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"42\"}}"));
    mock_clear();
    expect_ok(cio_v2_person_suppress(fx.client, CIO_ID_TYPE_CIO_ID, "cio_1"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"suppress\",\"identifiers\":{\"cio_id\":\"cio_1\"}}"));
    mock_clear();
    expect_ok(cio_v2_person_unsuppress(fx.client, CIO_ID_TYPE_ID, "42"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"unsuppress\",\"identifiers\":{\"id\":\"42\"}}"));
}

Test(track_v2, test_person_event_screen_page_with_options) {
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.timestamp = 1700000000;
    o.id = "evt-1";
    expect_ok(
        cio_v2_person_event(fx.client, CIO_ID_TYPE_ID, "42", "purchased", "{\"price\":9.99}", &o));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"42\"},\"name\":"
        "\"purchased\",\"attributes\":{\"price\":9.99},\"timestamp\":1700000000,\"id\":\"evt-"
        "1\"}"));
    mock_clear();
    expect_ok(cio_v2_person_screen(fx.client, CIO_ID_TYPE_ID, "42", "Home", NULL, NULL));
    json_decref(expect_one_event(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"screen\",\"identifiers\":{\"id\":\"42\"},\"name\":"
        "\"Home\"}",
        NULL));
    mock_clear();
    expect_ok(cio_v2_person_page(fx.client, CIO_ID_TYPE_ID, "42", "https://x.io/a", NULL, NULL));
    json_decref(expect_one_event(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"page\",\"identifiers\":{\"id\":\"42\"},\"name\":"
        "\"https://x.io/a\"}",
        NULL));
}

Test(track_v2, test_person_devices) {
    expect_ok(cio_v2_person_add_device(fx.client, CIO_ID_TYPE_ID, "42", "tok-1", "ios", 1700000000,
                                       "{\"app_version\":\"1.2\"}"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"add_device\",\"identifiers\":{\"id\":\"42\"},"
        "\"device\":{\"token\":\"tok-1\",\"platform\":\"ios\",\"last_used\":1700000000,"
        "\"attributes\":{\"app_version\":\"1.2\"}}}"));
    mock_clear();
    expect_ok(cio_v2_person_delete_device(fx.client, CIO_ID_TYPE_ID, "42", "tok-1"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"delete_device\",\"identifiers\":{\"id\":\"42\"},"
        "\"device\":{\"token\":\"tok-1\"}}"));
    expect_error(cio_v2_person_add_device(fx.client, CIO_ID_TYPE_ID, "42", "t", "web", 0, NULL),
                 CIO_E_INVALID_ARGUMENT, "platform", NULL);
}

Test(track_v2, test_person_relationships_and_merge) {
    const char *rels = "[{\"identifiers\":{\"object_type_id\":\"1\",\"object_id\":\"acme\"}}]";
    expect_ok(cio_v2_person_add_relationships(fx.client, CIO_ID_TYPE_ID, "42", rels));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"add_relationships\",\"identifiers\":{\"id\":\"42\"},"
        "\"cio_relationships\":[{\"identifiers\":{\"object_type_id\":\"1\",\"object_id\":"
        "\"acme\"}}]}"));
    mock_clear();
    expect_ok(cio_v2_person_delete_relationships(fx.client, CIO_ID_TYPE_ID, "42", rels));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"delete_relationships\",\"identifiers\":{\"id\":\"42\"},"
        "\"cio_relationships\":[{\"identifiers\":{\"object_type_id\":\"1\",\"object_id\":"
        "\"acme\"}}]}"));
    mock_clear();
    expect_ok(cio_v2_person_merge(fx.client, CIO_ID_TYPE_EMAIL, "a@b.c", CIO_ID_TYPE_ID, "7"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"person\",\"action\":\"merge\",\"primary\":{\"email\":\"a@b.c\"},"
        "\"secondary\":{\"id\":\"7\"}}"));
    expect_error(cio_v2_person_add_relationships(fx.client, CIO_ID_TYPE_ID, "42", "{}"),
                 CIO_E_INVALID_ARGUMENT, "relationships", "array");
    expect_error(cio_v2_person_add_relationships(fx.client, CIO_ID_TYPE_ID, "42", "[]"),
                 CIO_E_INVALID_ARGUMENT, "cio_relationships", NULL);
}

/* ---- helpers: objects and deliveries ---- */

Test(track_v2, test_object_calls) {
    expect_ok(cio_v2_object_identify(fx.client, "1", "acme", "{\"name\":\"Acme\"}"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"object\",\"action\":\"identify\",\"identifiers\":{\"object_type_id\":\"1\","
        "\"object_id\":\"acme\"},\"attributes\":{\"name\":\"Acme\"}}"));
    mock_clear();
    expect_ok(cio_v2_object_delete(fx.client, "1", "acme"));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"object\",\"action\":\"delete\",\"identifiers\":{\"object_type_id\":\"1\","
        "\"object_id\":\"acme\"}}"));
    mock_clear();
    expect_ok(cio_v2_object_event(fx.client, "1", "acme", "renewed", "{\"seats\":5}", NULL));
    json_decref(expect_one_event(
        "POST", ENTITY,
        "{\"type\":\"object\",\"action\":\"event\",\"identifiers\":{\"object_type_id\":\"1\","
        "\"object_id\":\"acme\"},\"name\":\"renewed\",\"attributes\":{\"seats\":5}}",
        NULL));
    mock_clear();
    const char *people = "[{\"identifiers\":{\"id\":\"42\"}}]";
    expect_ok(cio_v2_object_add_relationships(fx.client, "1", "acme", people));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"object\",\"action\":\"add_relationships\",\"identifiers\":{\"object_type_id\":"
        "\"1\",\"object_id\":\"acme\"},\"cio_relationships\":[{\"identifiers\":{\"id\":\"42\"}}]"
        "}"));
    mock_clear();
    expect_ok(cio_v2_object_delete_relationships(fx.client, "1", "acme", people));
    json_decref(expect_one_request(
        "POST", ENTITY,
        "{\"type\":\"object\",\"action\":\"delete_relationships\",\"identifiers\":{"
        "\"object_type_id\":\"1\",\"object_id\":\"acme\"},\"cio_relationships\":[{"
        "\"identifiers\":{\"id\":\"42\"}}]}"));
}

Test(track_v2, test_delivery_event) {
    expect_ok(cio_v2_delivery_event(fx.client, "dlv_1", "opened", NULL, NULL));
    json_decref(expect_one_event(
        "POST", ENTITY,
        "{\"type\":\"delivery\",\"action\":\"event\",\"identifiers\":{\"id\":\"dlv_1\"},\"name\":"
        "\"opened\"}",
        NULL));
}

/* ---- validation: nothing is sent ---- */

static void expect_rejected(const char *op, cio_status_t want, const char *needle1,
                            const char *needle2) {
    expect_error(cio_v2_send_entity(fx.client, op), want, needle1, needle2);
    expect_nothing_sent();
}

Test(track_v2, test_invalid_operations_are_rejected_before_sending) {
    expect_rejected("[]", CIO_E_INVALID_ARGUMENT, "send_entity", "object");
    expect_rejected("{\"type\":\"person\"", CIO_E_INVALID_ARGUMENT, "not valid JSON", NULL);
    expect_rejected("{\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "type", NULL);
    expect_rejected("{\"type\":\"robot\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "robot", NULL);
    expect_rejected("{\"type\":\"object\",\"action\":\"merge\",\"identifiers\":{}}",
                    CIO_E_INVALID_ARGUMENT, "merge", "object");
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\","
                    "\"email\":\"a@b.c\"}}",
                    CIO_E_INVALID_ARGUMENT, "exactly one of id, email, cio_id", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{}}",
                    CIO_E_INVALID_ARGUMENT, "identifiers", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"\"}}",
                    CIO_E_INVALID_ARGUMENT, "identifiers.id", "empty");
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                    "\"a\\r\\nb\"}}",
                    CIO_E_INVALID_ARGUMENT, "control character", NULL);
    expect_rejected("{\"type\":\"object\",\"action\":\"identify\",\"identifiers\":{"
                    "\"object_type_id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "object_id", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "name", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"},"
                    "\"attributes\":[1]}",
                    CIO_E_INVALID_ARGUMENT, "attributes", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},"
                    "\"name\":\"e\",\"timestamp\":-5}",
                    CIO_E_INVALID_ARGUMENT, "timestamp", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"add_device\",\"identifiers\":{\"id\":\"1\"},"
                    "\"device\":{}}",
                    CIO_E_INVALID_ARGUMENT, "device.token", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                    "\"\xff\"}}",
                    CIO_E_INVALID_ARGUMENT, "UTF-8", NULL);
}

/* An identify operation whose attributes make it `size` bytes long, tagged with `index`. */
static char *sized_operation(size_t index, size_t size) {
    char head[128];
    int n = snprintf(head, sizeof head,
                     "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                     "\"p%zu\"},\"attributes\":{\"pad\":\"",
                     index);
    const char *tail = "\"}}";
    size_t pad = size - (size_t)n - strlen(tail);
    char *op = malloc(size + 1);
    cr_assert_not_null(op);
    memcpy(op, head, (size_t)n);
    memset(op + n, 'x', pad);
    strcpy(op + n + pad, tail);
    cr_assert_eq(strlen(op), size);
    return op;
}

Test(track_v2, test_operation_over_32kb_is_rejected) {
    char *op = sized_operation(0, 32 * 1024 + 1);
    expect_rejected(op, CIO_E_PAYLOAD_TOO_LARGE, "32768", NULL);
    free(op);
    op = sized_operation(0, 32 * 1024);
    expect_ok(cio_v2_send_entity(fx.client, op));
    free(op);
}

/* ---- /batch ---- */

Test(track_v2, test_small_batch_is_one_request_in_order) {
    const char *ops[] = {
        "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}",
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},\"name\":\"e\","
        "\"id\":\"fixed\"}",
        "{\"type\":\"object\",\"action\":\"delete\",\"identifiers\":{\"object_type_id\":\"1\","
        "\"object_id\":\"o\"}}",
    };
    cio_batch_result_t *r = NULL;
    expect_ok(cio_v2_send_batch(fx.client, ops, 3, &r));
    cr_assert_eq(cio_batch_result_request_count(r), 1);
    cr_assert_eq(cio_batch_result_error_count(r), 0);
    cr_assert_null(cio_batch_result_error(r, 0));
    json_t *req = expect_one_request(
        "POST", "/api/v2/batch",
        "{\"batch\":[{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}},"
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},\"name\":\"e\","
        "\"id\":\"fixed\"},{\"type\":\"object\",\"action\":\"delete\",\"identifiers\":{"
        "\"object_type_id\":\"1\",\"object_id\":\"o\"}}]}");
    json_decref(req);
    cio_batch_result_free(r);
}

Test(track_v2, test_batch_over_500kb_is_split_without_loss) {
    enum { N = 30, SIZE = 20 * 1024 }; /* 600 KB */
    char *ops[N];
    for (size_t i = 0; i < N; i++)
        ops[i] = sized_operation(i, SIZE);
    cio_batch_result_t *r = NULL;
    expect_ok(cio_v2_send_batch(fx.client, (const char *const *)ops, N, &r));
    cr_assert_eq(cio_batch_result_request_count(r), 2);
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    int seen[N] = {0};
    size_t total = 0;
    for (size_t k = 0; k < 2; k++) {
        json_t *req = json_array_get(reqs, k);
        cr_assert_str_eq(req_str(req, "path"), "/api/v2/batch");
        cr_assert_lt(strlen(req_str(req, "body")), 500000, "a request body is over 500 KB");
        json_t *body = req_body_json(req);
        json_t *batch = json_object_get(body, "batch");
        size_t j;
        json_t *op;
        size_t previous = 0;
        json_array_foreach(batch, j, op) {
            const char *id =
                json_string_value(json_object_get(json_object_get(op, "identifiers"), "id"));
            size_t index = (size_t)strtoul(id + 1, NULL, 10);
            cr_assert(j == 0 || index == previous + 1, "items out of order in one request");
            previous = index;
            seen[index]++;
            total++;
        }
        json_decref(body);
    }
    cr_assert_eq(total, N);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(seen[i], 1, "item %zu sent %d times", i, seen[i]);
    json_decref(reqs);
    cio_batch_result_free(r);
    for (size_t i = 0; i < N; i++)
        free(ops[i]);
}

Test(track_v2, test_207_reaches_the_caller_item_by_item) {
    mock_fault(1, 207,
               "{\"errors\":[{\"batch_index\":2,\"reason\":\"invalid\",\"field\":\"identifiers\","
               "\"message\":\"bad id\"},{\"batch_index\":0,\"reason\":\"required\",\"field\":"
               "\"name\",\"message\":\"missing\"}]}",
               0, NULL, NULL);
    const char *op = "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}";
    const char *ops[] = {op, op, op};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 3, &r), CIO_E_PARTIAL, "send_batch", "2 of");
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    const cio_batch_item_error_t *e0 = cio_batch_result_error(r, 0);
    const cio_batch_item_error_t *e1 = cio_batch_result_error(r, 1);
    cr_assert_eq(e0->index, 0);
    cr_assert_str_eq(e0->reason, "required");
    cr_assert_str_eq(e0->field, "name");
    cr_assert_str_eq(e0->message, "missing");
    cr_assert_eq(e1->index, 2);
    cr_assert_str_eq(e1->reason, "invalid");
    cr_assert_str_eq(e1->field, "identifiers");
    cio_batch_result_free(r);
}

Test(track_v2, test_207_indexes_map_back_through_a_split) {
    enum { N = 30, SIZE = 20 * 1024 };
    char *ops[N];
    for (size_t i = 0; i < N; i++)
        ops[i] = sized_operation(i, SIZE);
    /* both requests answer: "your item 1 is invalid" */
    mock_fault(2, 207, "{\"errors\":[{\"batch_index\":1,\"reason\":\"invalid\"}]}", 0, NULL, NULL);
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, (const char *const *)ops, N, &r), CIO_E_PARTIAL, NULL,
                 NULL);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    size_t second_start = cio_batch_result_error(r, 1)->index - 1;
    cr_assert_eq(cio_batch_result_error(r, 0)->index, 1);
    cr_assert(second_start > 1 && second_start < N, "second request starts at %zu", second_start);
    /* that start is where the second request's first item really is */
    json_t *reqs = mock_requests_wait(2);
    size_t first_count = 0;
    for (size_t k = 0; k < 2; k++) {
        json_t *body = req_body_json(json_array_get(reqs, k));
        const char *id = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(body, "batch"), 0), "identifiers"),
            "id"));
        if (strcmp(id, "p0") == 0)
            first_count = json_array_size(json_object_get(body, "batch"));
        json_decref(body);
    }
    cr_assert_eq(second_start, first_count);
    json_decref(reqs);
    cio_batch_result_free(r);
    for (size_t i = 0; i < N; i++)
        free(ops[i]);
}

Test(track_v2, test_200_with_errors_is_partial) {
    mock_fault(1, 200, "{\"errors\":[{\"batch_index\":0,\"reason\":\"invalid\"}]}", 0, NULL, NULL);
    const char *ops[] = {
        "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"1\"}}"};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 1, &r), CIO_E_PARTIAL, NULL, NULL);
    cr_assert_eq(cio_batch_result_error_count(r), 1);
    cio_batch_result_free(r);
}

Test(track_v2, test_failed_request_lists_every_item_it_carried) {
    mock_fault(1, 400, "{\"errors\":[{\"reason\":\"invalid\",\"message\":\"malformed\"}]}", 0, NULL,
               NULL);
    const char *op = "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"1\"}}";
    const char *ops[] = {op, op};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 2, &r), CIO_E_BAD_REQUEST, "malformed", NULL);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    cr_assert_str_eq(cio_batch_result_error(r, 0)->reason, "bad request");
    cr_assert_eq(cio_batch_result_error(r, 1)->index, 1);
    cio_batch_result_free(r);
    json_decref(mock_requests_wait(1));
}

#define OK_OP(id) "{\"type\":\"person\",\"action\":\"delete\",\"identifiers\":{\"id\":\"" id "\"}}"
#define BAD_ACTION "{\"type\":\"person\",\"action\":\"fly\",\"identifiers\":{\"id\":\"x\"}}"
#define NO_NAME "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"y\"}}"

static void expect_item(const cio_batch_result_t *r, size_t i, size_t index, const char *reason,
                        const char *field, const char *message_part) {
    const cio_batch_item_error_t *e = cio_batch_result_error(r, i);
    cr_assert_not_null(e, "no error %zu", i);
    cr_assert_eq(e->index, index, "error %zu is item %zu, not %zu", i, e->index, index);
    cr_assert_str_eq(e->reason, reason);
    if (field == NULL)
        cr_assert_null(e->field);
    else
        cr_assert_str_eq(e->field, field);
    if (message_part != NULL)
        cr_assert_not_null(e->message != NULL ? strstr(e->message, message_part) : NULL,
                           "message \"%s\" lacks \"%s\"", e->message ? e->message : "(null)",
                           message_part);
}

Test(track_v2, test_batch_sends_valid_items_and_reports_invalid_ones_by_index) {
    const char *ops[] = {OK_OP("a"), BAD_ACTION, OK_OP("c"), NO_NAME};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 4, &r), CIO_E_PARTIAL, "2 of the batch's items",
                 "2 of them invalid, not sent");
    /* exactly the valid items, in order, byte for byte */
    json_decref(
        expect_one_request("POST", "/api/v2/batch", "{\"batch\":[" OK_OP("a") "," OK_OP("c") "]}"));
    cr_assert_eq(cio_batch_result_request_count(r), 1);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    expect_item(r, 0, 1, "invalid", "action", "send_batch: operations[1]: action \"fly\"");
    expect_item(r, 1, 3, "required", "name", "operations[3]: name is required");
    cio_batch_result_free(r);
}

Test(track_v2, test_batch_invalid_items_and_207_answers_share_caller_indexes) {
    /* sent: caller items 0, 2, 3 -> the server's batch_index 1 is the caller's item 2 */
    mock_fault(1, 207,
               "{\"errors\":[{\"batch_index\":1,\"reason\":\"invalid\",\"field\":\"identifiers\","
               "\"message\":\"no such person\"}]}",
               0, NULL, NULL);
    const char *ops[] = {OK_OP("a"), "[1]", OK_OP("c"), OK_OP("d")};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 4, &r), CIO_E_PARTIAL, "first: item 1", NULL);
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "body"),
                     "{\"batch\":[" OK_OP("a") "," OK_OP("c") "," OK_OP("d") "]}");
    json_decref(reqs);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    expect_item(r, 0, 1, "invalid", NULL, "must be a JSON object");
    expect_item(r, 1, 2, "invalid", "identifiers", "no such person");
    cio_batch_result_free(r);
}

Test(track_v2, test_batch_split_maps_server_indexes_past_invalid_items) {
    enum { N = 31, SIZE = 20 * 1024 }; /* 600 KB of valid items: two requests */
    char *ops[N];
    for (size_t i = 0; i < N; i++)
        ops[i] = i == 0 ? strdup(NO_NAME) : sized_operation(i, SIZE);
    /* both requests answer: "your item 0 is invalid" = caller items 1 and (1 + first count) */
    mock_fault(2, 207, "{\"errors\":[{\"batch_index\":0,\"reason\":\"invalid\"}]}", 0, NULL, NULL);
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, (const char *const *)ops, N, &r), CIO_E_PARTIAL, NULL,
                 NULL);
    cr_assert_eq(cio_batch_result_request_count(r), 2);
    cr_assert_eq(cio_batch_result_error_count(r), 3);
    expect_item(r, 0, 0, "required", "name", "operations[0]");
    expect_item(r, 1, 1, "invalid", NULL, NULL);
    json_t *reqs = mock_requests_wait(2);
    size_t first_count = 0;
    for (size_t k = 0; k < 2; k++) {
        json_t *body = req_body_json(json_array_get(reqs, k));
        const char *id = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(body, "batch"), 0), "identifiers"),
            "id"));
        if (strcmp(id, "p1") == 0)
            first_count = json_array_size(json_object_get(body, "batch"));
        json_decref(body);
    }
    cr_assert_gt(first_count, 0);
    expect_item(r, 2, 1 + first_count, "invalid", NULL, NULL);
    json_decref(reqs);
    cio_batch_result_free(r);
    for (size_t i = 0; i < N; i++)
        free(ops[i]);
}

Test(track_v2, test_batch_item_over_32kb_is_reported_too_large) {
    char *big = sized_operation(1, 32 * 1024 + 1);
    const char *ops[] = {OK_OP("a"), big};
    cio_batch_result_t *r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 2, &r), CIO_E_PARTIAL, NULL, NULL);
    json_decref(expect_one_request("POST", "/api/v2/batch", "{\"batch\":[" OK_OP("a") "]}"));
    cr_assert_eq(cio_batch_result_error_count(r), 1);
    expect_item(r, 0, 1, "too_large", NULL, "32768");
    cio_batch_result_free(r);
    free(big);
}

Test(track_v2, test_batch_of_only_invalid_items_sends_nothing_and_lists_each) {
    const char *ops[] = {BAD_ACTION, NO_NAME};
    cio_batch_result_t *r = (cio_batch_result_t *)1;
    expect_error(cio_v2_send_batch(fx.client, ops, 2, &r), CIO_E_INVALID_ARGUMENT,
                 "send_batch: all 2 operations are invalid, nothing was sent (first: "
                 "operations[0]: action \"fly\"",
                 NULL);
    cr_assert_not_null(r);
    cr_assert_eq(cio_batch_result_request_count(r), 0);
    cr_assert_eq(cio_batch_result_error_count(r), 2);
    expect_item(r, 0, 0, "invalid", "action", NULL);
    expect_item(r, 1, 1, "required", "name", NULL);
    cio_batch_result_free(r);
    /* one item: its own error, as before */
    expect_error(cio_v2_send_batch(fx.client, ops + 1, 1, NULL), CIO_E_INVALID_ARGUMENT,
                 "send_batch: operations[0]: name is required", NULL);
    expect_nothing_sent();
    expect_error(cio_v2_send_batch(fx.client, ops, 0, NULL), CIO_E_INVALID_ARGUMENT, "empty", NULL);
}

Test(track_v2, test_async_batch_completion_lists_invalid_items) {
    const char *ops[] = {BAD_ACTION, OK_OP("b")};
    cio_queue_t *q = NULL;
    cr_assert_eq(cio_queue_new(&q), CIO_OK);
    cio_async_next(q, 7);
    cio_batch_result_t *r = (cio_batch_result_t *)1;
    cr_assert_eq(cio_v2_send_batch(fx.client, ops, 2, &r), CIO_OK,
                 "an invalid item must not make the batch synchronous or fail it");
    cr_assert_null(r);
    cio_completion_t *done = NULL;
    for (int waited = 0; done == NULL && waited < 5000; waited += 10) {
        cr_assert_eq(cio_queue_poll(q, &done), CIO_OK);
        if (done == NULL) {
            struct pollfd pfd = {.fd = cio_queue_fd(q), .events = POLLIN};
            poll(&pfd, 1, 10);
        }
    }
    cr_assert_not_null(done, "no completion within 5 s");
    cr_assert_eq(done->token, 7);
    cr_assert_eq(done->status, CIO_E_PARTIAL);
    cr_assert_eq(cio_batch_result_error_count(done->batch_result), 1);
    expect_item(done->batch_result, 0, 0, "invalid", "action", "operations[0]");
    json_decref(expect_one_request("POST", "/api/v2/batch", "{\"batch\":[" OK_OP("b") "]}"));
    cio_completion_free(done);
    /* every item invalid: the call fails at once and queues nothing */
    cio_async_next(q, 8);
    r = NULL;
    expect_error(cio_v2_send_batch(fx.client, ops, 1, &r), CIO_E_INVALID_ARGUMENT, "operations[0]",
                 NULL);
    cr_assert_eq(cio_batch_result_error_count(r), 1);
    cio_batch_result_free(r);
    poll(NULL, 0, 50);
    cr_assert_eq(cio_queue_size(q), 0);
    cio_queue_free(q);
}

Test(track_v2, test_batch_retry_resends_identical_event_ids) {
    mock_fault(1, 503, NULL, 0, NULL, NULL);
    const char *ops[] = {
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},\"name\":\"e\"}"};
    expect_ok(cio_v2_send_batch(fx.client, ops, 1, NULL));
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "body"),
                     req_str(json_array_get(reqs, 1), "body"));
    json_t *body = req_body_json(json_array_get(reqs, 0));
    cr_assert(is_ulid(json_string_value(
        json_object_get(json_array_get(json_object_get(body, "batch"), 0), "id"))));
    json_decref(body);
    json_decref(reqs);
}

/* A raw POST to the emulator (the client validates first, so it never sends these); the answer
 * body goes into answer (NUL-terminated, truncated). */
static long raw_post(const char *path, const char *body, char *answer, size_t size) {
    char *got = NULL;
    long status = mock_request("POST", path, TEST_SITE_ID ":" TEST_API_KEY, body, &got);
    snprintf(answer, size, "%s", got);
    free(got);
    return status;
}

Test(track_v2, test_mock_answers_207_for_items_it_rejects) {
    /* the emulator's own per-item check, reached with a raw request (the client validates
     * first, so it never sends such an item) */
    char answer[512];
    long status =
        raw_post("/api/v2/batch",
                 "{\"batch\":[{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":"
                 "{\"id\":\"1\"}},{\"type\":\"person\",\"action\":\"event\",\"identifiers\":"
                 "{\"id\":\"1\"}}]}",
                 answer, sizeof answer);
    cr_assert_eq(status, 207);
}

Test(track_v2, test_v2_identify_feeds_the_profile_the_app_api_reads) {
    cio_client_options_t o = fx_options();
    o.app_api_key = "test-app-key";
    cio_client_t *c = fx_client(&o);
    const char *ops[] = {"{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                         "\"v2-person\"},\"attributes\":{\"plan\":\"platinum\"}}"};
    expect_ok(cio_v2_send_batch(c, ops, 1, NULL));
    char *answer = NULL;
    expect_ok(cio_customers_get_attributes(c, CIO_ID_TYPE_ID, "v2-person", &answer));
    cr_assert_not_null(strstr(answer, "\"platinum\""), "%s", answer);
    cio_free(answer);
}

/* The operation check reads JSON with its own scanner (core/src/json_scan.c): what RFC 8259
 * refuses is refused, before anything is sent. */
Test(track_v2, test_malformed_json_is_rejected_with_the_column) {
    static const char *const bad[][2] = {
        {"{\"type\":\"person\"} x", "end of input expected"},
        {"{\"type\":\"person\",}", "expected a member name"},
        {"{\"type\" \"person\"}", "expected ':'"},
        {"{\"a\":01}", "expected ',' or '}'"},
        {"{\"a\":1.}", "invalid number"},
        {"{\"a\":-}", "invalid number"},
        {"{\"a\":tru}", "invalid literal"},
        {"{\"a\":\"\\x\"}", "invalid escape"},
        {"{\"a\":\"\\u12\"}", "invalid \\u escape"},
        {"{\"a\":\"\\u0000\"}", "\\u0000 is not allowed"},
        {"{\"a\":\"\\ud800\"}", "lone high surrogate"},
        {"{\"a\":\"\\udc00\"}", "lone low surrogate"},
        {"{\"a\":\"tab\there\"}", "control character in a string"},
        {"{\"a\":\"open}", "unterminated string"},
        {"", "unexpected end of input"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_rejected(bad[i][0], CIO_E_INVALID_ARGUMENT, "not valid JSON", bad[i][1]);
    }
    expect_rejected("{\"a\":\"\xc3\x28\"}", CIO_E_INVALID_ARGUMENT, "not valid UTF-8", NULL);
    expect_rejected("{\"a\":\"\xed\xa0\x80\"}", CIO_E_INVALID_ARGUMENT, "not valid UTF-8", NULL);
    expect_rejected("{\"a\":\"\xe0\x80\xaf\"}", CIO_E_INVALID_ARGUMENT, "not valid UTF-8", NULL);
    expect_error(cio_v2_send_entity(fx.client, "{\"type\":\"person\"x}"), CIO_E_INVALID_ARGUMENT,
                 "column 17", NULL);
}

Test(track_v2, test_deep_nesting_is_rejected_not_overflowed) {
    size_t depth = 100000;
    char *op = malloc(depth * 2 + 64);
    cr_assert_not_null(op);
    size_t n = (size_t)sprintf(op, "{\"type\":\"person\",\"attributes\":");
    memset(op + n, '[', depth);
    memset(op + n + depth, ']', depth);
    strcpy(op + n + 2 * depth, "}");
    expect_rejected(op, CIO_E_INVALID_ARGUMENT, "nested too deeply", NULL);
    free(op);
}

Test(track_v2, test_escaped_names_and_values_are_read_decoded) {
    /* "\u0074ype" is "type", "p\u00e9" decodes to UTF-8: accepted and sent byte for byte. */
    const char *op = "{\"\\u0074ype\":\"person\",\"action\":\"identify\",\"identifiers\":"
                     "{\"id\":\"p\\u00e9 \\ud83d\\ude00\"}, \"attributes\" : {\"n\":-0.5E-2,"
                     " \"x\":[1,2.5e3,true,false,null,\"\",{}]}}";
    expect_ok(cio_v2_send_entity(fx.client, op));
    json_decref(expect_one_request("POST", ENTITY, op));
    mock_clear();
    /* A control character written as an escape is still one. */
    expect_rejected("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                    "\"a\\u000ab\"}}",
                    CIO_E_INVALID_ARGUMENT, "identifiers.id", "control character");
    /* An id of 150 bytes once decoded is fine; 151 is not. */
    char op2[512];
    char id[152];
    memset(id, 'a', 151);
    id[151] = '\0';
    snprintf(op2, sizeof op2,
             "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"%s\"}}", id);
    expect_rejected(op2, CIO_E_INVALID_ARGUMENT, "longer than 150 bytes", NULL);
    /* A timestamp beyond int64 is not an integer we can send as unix seconds. */
    expect_rejected("{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},"
                    "\"name\":\"e\",\"timestamp\":99999999999999999999}",
                    CIO_E_INVALID_ARGUMENT, "timestamp", NULL);
    /* Repeated members: the last one counts, as in jansson and the emulator. */
    expect_rejected("{\"type\":\"person\",\"type\":\"robot\",\"action\":\"identify\","
                    "\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "robot", NULL);
}

Test(track_v2, test_prepare_validates_and_completes_without_sending) {
    char *out = NULL;
    expect_ok(cio_v2_prepare("{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":"
                             "\"1\"},\"name\":\"e\"}",
                             &out));
    cr_assert_not_null(out);
    cr_assert(strncmp(out, "{\"id\":\"", 7) == 0, "an event gets a ULID first: %s", out);
    cr_assert_str_eq(out + 7 + 26, "\",\"type\":\"person\",\"action\":\"event\",\"identifiers\":{"
                                   "\"id\":\"1\"},\"name\":\"e\"}");
    cio_free(out);
    out = (char *)1;
    expect_error(cio_v2_prepare("{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":"
                                "\"1\"}}",
                                &out),
                 CIO_E_INVALID_ARGUMENT, "v2_prepare: operation: name", NULL);
    cr_assert_null(out);
    expect_error(cio_v2_prepare(NULL, &out), CIO_E_INVALID_ARGUMENT, "operation is NULL", NULL);
    expect_nothing_sent();
}

/* The emulator stores profiles with jansson: an integer beyond 64 bits is kept as a real, a number
 * beyond a double is refused rather than answered 200 and forgotten. */
Test(track_v2, test_mock_refuses_what_it_cannot_store_and_reports_malformed_bodies) {
    char answer[512] = "";
    cr_assert_eq(raw_post("/api/v2/entity",
                          "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                          "\"u1\"},\"attributes\":{\"n\":18446744073709551615}}",
                          answer, sizeof answer),
                 200, "%s", answer);
    cr_assert_eq(raw_post("/api/v2/entity",
                          "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":"
                          "\"u1\"},\"attributes\":{\"n\":1e400}}",
                          answer, sizeof answer),
                 400, "%s", answer);
    cr_assert(strstr(answer, "too large to store") != NULL, "%s", answer);
    cr_assert_eq(raw_post("/api/v2/batch", "{\"batch\":{},\"n\":1e400}", answer, sizeof answer),
                 400, "%s", answer);
    cr_assert(strstr(answer, "malformed JSON") != NULL, "%s", answer);
    cr_assert_eq(raw_post("/api/v2/batch", "{\"batch\":[{\"type\":5,\"action\":\"identify\"}]}",
                          answer, sizeof answer),
                 207, "%s", answer);
    cr_assert(strstr(answer, "type must be a string") != NULL, "%s", answer);
}

Test(track_v2, test_wrong_kinds_and_long_names_are_said_plainly) {
    expect_rejected("{\"type\":5,\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "type must be a string", NULL);
    expect_rejected("{\"type\":\"person\",\"action\":[],\"identifiers\":{\"id\":\"1\"}}",
                    CIO_E_INVALID_ARGUMENT, "action must be a string", NULL);
    /* A quoted name is cut at 40 bytes, never inside a character: 39 x 'a' then 'é' (2 bytes). */
    char op[256];
    snprintf(op, sizeof op,
             "{\"type\":\"%s\xc3\xa9\",\"action\":\"identify\",\"identifiers\":{\"id\":\"1\"}}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect_error(cio_v2_send_entity(fx.client, op), CIO_E_INVALID_ARGUMENT,
                 "type \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not", NULL);
    const char *m = cio_last_error()->message;
    cr_assert(strstr(m, "\xc3\"") == NULL, "a character cut in half: %s", m);
}

/* The enqueue path finds members through an index built while scanning (key lengths and escapes
 * noted): a name of the same length is not the name, an escaped name is, a repeated one still
 * counts twice, and spaces between tokens change nothing but the bytes sent. No network. */
Test(track_v2, test_prepare_reads_names_exactly_whatever_their_spelling) {
    char *out = NULL;
    expect_error(cio_v2_prepare("{\"tipe\":\"person\",\"action\":\"identify\",\"identifiers\":{"
                                "\"id\":\"1\"}}",
                                &out),
                 CIO_E_INVALID_ARGUMENT,
                 "v2_prepare: operation: type is missing (person, object or delivery)", NULL);
    cr_assert_str_eq(cio_last_error()->message,
                     "v2_prepare: operation: type is missing (person, object or delivery)");
    const char *escaped = "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{"
                          "\"\\u0069d\":\"1\"}}";
    expect_ok(cio_v2_prepare(escaped, &out));
    cr_assert_str_eq(out, escaped, "sent as written");
    cio_free(out);
    out = NULL;
    expect_error(cio_v2_prepare("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{"
                                "\"id\":\"1\",\"\\u0069d\":\"2\"}}",
                                &out),
                 CIO_E_INVALID_ARGUMENT, NULL, NULL);
    cr_assert_str_eq(cio_last_error()->message,
                     "v2_prepare: operation: identifiers must have exactly one of id, email, "
                     "cio_id");
    expect_error(cio_v2_prepare("{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{"
                                "\"ie\":\"1\"}}",
                                &out),
                 CIO_E_INVALID_ARGUMENT, NULL, NULL);
    cr_assert_str_eq(cio_last_error()->message,
                     "v2_prepare: operation: identifiers must have exactly one of id, email, "
                     "cio_id");
    const char *spaced = " { \"type\" : \"person\" , \"action\" : \"event\" , \"identifiers\" : "
                         "{ \"email\" : \"a@b.c\" } , \"name\" : \"e\" } ";
    expect_ok(cio_v2_prepare(spaced, &out));
    cr_assert(strncmp(out, "{\"id\":\"", 7) == 0, "%s", out);
    cr_assert_str_eq(out + 7 + 26, "\", \"type\" : \"person\" , \"action\" : \"event\" , "
                                   "\"identifiers\" : { \"email\" : \"a@b.c\" } , \"name\" : "
                                   "\"e\" } ");
    cio_free(out);
    out = NULL;
    expect_nothing_sent();
}

/* Strings are scanned eight bytes at a time: a control character, DEL (as an escape) or a raw
 * one is found wherever it sits, and a multi-byte character past the first eight bytes is kept. */
Test(track_v2, test_prepare_finds_a_bad_byte_at_any_position_of_an_id) {
    char op[256], *out = NULL;
    for (int at = 0; at < 20; at++) {
        char id[32];
        memset(id, 'a', (size_t)at);
        id[at] = '\0';
        snprintf(op, sizeof op,
                 "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"%s\\u0001"
                 "z\"}}",
                 id);
        expect_error(cio_v2_prepare(op, &out), CIO_E_INVALID_ARGUMENT, NULL, NULL);
        cr_assert_str_eq(cio_last_error()->message,
                         "v2_prepare: operation: identifiers.id contains a control character");
        snprintf(op, sizeof op,
                 "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"%s\tz\"}}",
                 id);
        char want[128];
        snprintf(want, sizeof want,
                 "v2_prepare: operation is not valid JSON (column %d: control character in a "
                 "string)",
                 59 + at);
        expect_error(cio_v2_prepare(op, &out), CIO_E_INVALID_ARGUMENT, NULL, NULL);
        cr_assert_str_eq(cio_last_error()->message, want, "at %d", at);
        snprintf(op, sizeof op,
                 "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"%s\xc3\xa9"
                 "\\u007f\"}}",
                 id);
        expect_error(cio_v2_prepare(op, &out), CIO_E_INVALID_ARGUMENT, NULL, NULL);
        cr_assert_str_eq(cio_last_error()->message,
                         "v2_prepare: operation: identifiers.id contains a control character");
        snprintf(op, sizeof op,
                 "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"%s\xc3\xa9"
                 "\"}}",
                 id);
        expect_ok(cio_v2_prepare(op, &out));
        cr_assert_str_eq(out, op);
        cio_free(out);
        out = NULL;
    }
}
