// clang-format off
/*
 * App API (https://api.customer.io/v1): Bearer app key, {"meta":{"error":...}} errors.
 *
 * The route map (paths under /v1; the table at the bottom of this file is the code's copy):
 *
 *   method  path                                           handler
 *   ------  ---------------------------------------------  ----------------------------------
 *   POST    /send/email                                    handle_send_email
 *   POST    /send/push                                     handle_send_push
 *   POST    /send/sms                                      handle_send_sms
 *   POST    /send/inbox_message                            handle_send_inbox
 *   POST    /send/in_app                                   handle_send_in_app
 *   POST    /send/whatsapp                                 handle_send_whatsapp
 *   POST    /campaigns/{broadcast_id}/triggers             handle_trigger
 *   GET     /customers?email=                              handle_customers_by_email
 *   POST    /customers                                     handle_customers_search
 *   POST    /customers/attributes                          handle_customers_by_ids
 *   GET     /customers/{id}/attributes                     handle_customer_attributes
 *   GET     /customers/{id}/segments                       handle_customer_segments
 *   GET     /customers/{id}/messages                       handle_customer_messages
 *   GET     /customers/{id}/activities                     handle_customer_activities
 *   GET     /customers/{id}/relationships                  handle_customer_relationships
 *   GET     /customers/{id}/subscription_preferences       handle_customer_subscriptions
 *   GET     /segments                                      handle_segments_list
 *   POST    /segments                                      handle_segment_create
 *   GET     /segments/{segment_id}                         handle_segment_get
 *   DELETE  /segments/{segment_id}                         handle_segment_delete
 *   GET     /segments/{segment_id}/customer_count          handle_segment_count
 *   GET     /segments/{segment_id}/membership              handle_segment_membership
 *   GET     /segments/{segment_id}/used_by                 handle_segment_used_by
 *   GET     /transactional                                 handle_transactional_list
 *   GET     /transactional/{id}                            handle_transactional_get
 *   GET     /transactional/{id}/contents                   handle_transactional_contents
 *   GET     /transactional/{id}/language/{language}        handle_transactional_language
 *   PUT     /transactional/{id}/language/{language}        handle_transactional_put_language
 *   PUT     /transactional/{id}/content/{content_id}       handle_transactional_put_content
 *   GET     /transactional/{id}/metrics                    handle_transactional_metrics
 *   GET     /transactional/{id}/metrics/links              handle_transactional_links
 *   GET     /transactional/{id}/messages                   handle_transactional_messages
 *
 * Sends (POST /send/...) check the body (an object, "identifiers" with exactly one of
 * id/email/cio_id, "transactional_message_id" a string or an integer, except an email with
 * body + subject + from + to; "attachments" an object of base64 strings), record the delivery
 * in the state and answer {"delivery_id", "queued_at"}. POST /campaigns/{id}/triggers (numeric
 * id; at most one audience field) answers {"id": n}.
 *
 * Customers are read from the state that Track identify calls fill (state.c):
 *   GET  /customers/{id}/attributes      {"customer": {"id", "identifiers", "attributes",
 *                                         "timestamps", "unsubscribed", "devices"}}
 *   GET  /customers?email=               {"results": [{"id", "email", "cio_id"}]}
 *   POST /customers/attributes           {"customers": [{"customer": {...}}]} (unknown ids
 *                                        left out)
 *   POST /customers {"filter": ...}      {"identifiers": [...], "ids": [...], "next": ""};
 *                                        filters: and, or, not, segment {"id"}, attribute
 *                                        {"field", "operator": eq|exists, "value"}
 *   GET  /customers/{id}/segments        {"segments": [...]}
 *   GET  /customers/{id}/messages        the deliveries sent to that person
 *   GET  /customers/{id}/activities      attribute changes and sent messages (type/name filters)
 *   GET  /customers/{id}/relationships   {"cio_relationships": [], "next": ""}
 *   GET  /customers/{id}/subscription_preferences  one topic, "Newsletter" (topic_1)
 * The reads about one person take ?id_type=id|email|cio_id (default id) and answer 404 for an
 * unknown person. Listings take ?start=<offset token>&limit=<1..1000> and answer "next" (""
 * on the last page).
 *
 * Segments (state.c): 1 "All people" (everyone), 2 "VIP" (attribute vip = true), plus manual
 * segments created with POST /segments {"segment": {"name", "description"?}} (ids from 100, no
 * members); GET /segments, GET|DELETE /segments/{id} (DELETE answers 204), /customer_count,
 * /membership, /used_by; 404 for an unknown id.
 *
 * Transactional templates (fixed fixtures below): 1 "Password reset" (email; contents 11 in the
 * default language and 12 in "fr"), 2 "Order shipped" (push; content 21). GET /transactional,
 * /transactional/{id}, /contents, GET|PUT /language/{lang}, PUT /content/{content_id} (answers
 * the merged content; fixtures are not changed), /metrics (?period=hours|days|weeks|months,
 * ?steps=1..121; "sent" counts the deliveries recorded for the template), /metrics/links, and
 * /messages (the recorded deliveries of that template). 404 for unknown ids and languages.
 */
// clang-format on
#include "mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APP_DEFAULT_LIMIT 100
#define APP_MAX_LIMIT 1000
#define APP_MAX_IDS 100

/* ---------------------------------------------------------------- fixtures */

static const char *const fixture_templates =
    "["
    "{\"id\":1,\"name\":\"Password reset\",\"description\":\"Sent when someone asks to reset a "
    "password\",\"send_to_unsubscribed\":true,\"link_tracking\":true,\"open_tracking\":true,"
    "\"hide_message_body\":false,\"queue_drafts\":false,\"created_at\":1700000000,"
    "\"updated_at\":1700000000},"
    "{\"id\":2,\"name\":\"Order shipped\",\"description\":\"Push sent when an order ships\","
    "\"send_to_unsubscribed\":false,\"link_tracking\":true,\"open_tracking\":true,"
    "\"hide_message_body\":false,\"queue_drafts\":false,\"created_at\":1700000100,"
    "\"updated_at\":1700000100}"
    "]";

static const char *const fixture_contents_1 =
    "["
    "{\"id\":11,\"name\":\"Password reset\",\"language\":\"\",\"type\":\"email\","
    "\"subject\":\"Reset your password\",\"from_id\":1,\"reply_to_id\":null,"
    "\"recipient\":\"{{customer.email}}\",\"preheader_text\":\"\",\"headers\":[],"
    "\"body\":\"<p>Reset it here: {{trigger.reset_url}}</p>\",\"body_amp\":\"\","
    "\"created\":1700000000,\"updated\":1700000000},"
    "{\"id\":12,\"name\":\"Password reset\",\"language\":\"fr\",\"type\":\"email\","
    "\"subject\":\"R\\u00e9initialisez votre mot de passe\",\"from_id\":1,\"reply_to_id\":null,"
    "\"recipient\":\"{{customer.email}}\",\"preheader_text\":\"\",\"headers\":[],"
    "\"body\":\"<p>Par ici : {{trigger.reset_url}}</p>\",\"body_amp\":\"\","
    "\"created\":1700000000,\"updated\":1700000000}"
    "]";

static const char *const fixture_contents_2 =
    "["
    "{\"id\":21,\"name\":\"Order shipped\",\"language\":\"\",\"type\":\"push\","
    "\"title\":\"Your order is on its way\",\"body\":\"Order {{trigger.order_id}} shipped\","
    "\"created\":1700000100,\"updated\":1700000100}"
    "]";

static const char *const fixture_used_by =
    "{\"used_by\":{\"campaigns\":[],\"sent_newsletters\":[],\"draft_newsletters\":[]}}";

static const char *const metric_names[] = {
    "attempted", "bounced", "clicked", "converted", "created",       "delivered",    "drafted",
    "failed",    "opened",  "sent",    "spammed",   "undeliverable", "unsubscribed", NULL};

/* ---------------------------------------------------------------- helpers */

/* The percent-decoded value of a query parameter (first occurrence), or NULL when absent. */
static char *query_param(const mock_request_t *req, const char *name) {
    size_t name_len = strlen(name);
    const char *p = req->query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            char *value = mock_percent_decode(p + name_len + 1, len - name_len - 1);
            return value != NULL ? value : mock_strdup("");
        }
        if (len == name_len && strncmp(p, name, name_len) == 0) {
            return mock_strdup("");
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    return NULL;
}

static void reply_error(const mock_request_t *req, mock_response_t *res, unsigned int status,
                        const char *fmt, const char *arg) {
    char message[256];
    snprintf(message, sizeof(message), fmt, arg);
    mock_reply_error(req, res, status, message);
}

/* Reads ?id_type= (default "id") into out; answers 400 for another value. */
static bool id_type_param(const mock_request_t *req, mock_response_t *res, const char **out) {
    char *value = query_param(req, "id_type");
    *out = "id";
    bool ok = true;
    if (value != NULL) {
        if (strcmp(value, "email") == 0) {
            *out = "email";
        } else if (strcmp(value, "cio_id") == 0) {
            *out = "cio_id";
        } else if (strcmp(value, "id") != 0) {
            reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                        "id_type must be id, email or cio_id (got '%s')", value);
            ok = false;
        }
    }
    free(value);
    return ok;
}

/* Parses a decimal number in [min, max]; false otherwise. */
static bool parse_number(const char *text, long long min, long long max, long long *out) {
    if (text == NULL || text[0] == '\0') {
        return false;
    }
    long long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (max - (*p - '0')) / 10) {
            return false;
        }
        v = v * 10 + (*p - '0');
    }
    if (v < min) {
        return false;
    }
    *out = v;
    return true;
}

/* An optional numeric query parameter: *out keeps its default when absent; 400 when invalid. */
static bool number_param(const mock_request_t *req, mock_response_t *res, const char *name,
                         long long min, long long max, long long *out) {
    char *value = query_param(req, name);
    bool ok = value == NULL || parse_number(value, min, max, out);
    if (!ok) {
        reply_error(req, res, MHD_HTTP_BAD_REQUEST, "invalid %s", name);
    }
    free(value);
    return ok;
}

typedef struct page {
    long long start;
    long long limit;
} page_t;

/* ?start= (an offset token from a previous "next") and ?limit=. */
static bool page_params(const mock_request_t *req, mock_response_t *res, page_t *page) {
    page->start = 0;
    page->limit = APP_DEFAULT_LIMIT;
    char *start = query_param(req, "start");
    bool ok = start == NULL || start[0] == '\0' || parse_number(start, 0, 1000000000, &page->start);
    free(start);
    if (!ok) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "invalid start token");
        return false;
    }
    return number_param(req, res, "limit", 1, APP_MAX_LIMIT, &page->limit);
}

/* Takes one page of items (stealing the reference) and adds it under key, with "next". */
static void add_page(json_t *answer, const char *key, json_t *items, const page_t *page) {
    json_t *slice = json_array();
    size_t n = json_array_size(items);
    size_t first = page->start < (long long)n ? (size_t)page->start : n;
    size_t last = first + (size_t)page->limit < n ? first + (size_t)page->limit : n;
    for (size_t i = first; i < last; i++) {
        json_array_append(slice, json_array_get(items, i));
    }
    char next[32] = "";
    if (last < n) {
        snprintf(next, sizeof(next), "%zu", last);
    }
    json_object_set_new(answer, key, slice);
    json_object_set_new(answer, "next", json_string(next));
    json_decref(items);
}

static json_t *string_or_null(const json_t *person, const char *key) {
    json_t *v = json_object_get(person, key);
    return v != NULL ? json_incref(v) : json_null();
}

/* {"id", "email", "cio_id"} of a person record (null for a missing one). */
static json_t *identifiers_of(const json_t *person) {
    json_t *ids = json_object();
    json_object_set_new(ids, "id", string_or_null(person, "id"));
    json_object_set_new(ids, "email", string_or_null(person, "email"));
    json_object_set_new(ids, "cio_id", string_or_null(person, "cio_id"));
    return ids;
}

/* The "customer" object of the attribute reads. */
static json_t *customer_of(const json_t *person) {
    json_t *attrs = json_deep_copy(json_object_get(person, "attributes"));
    json_object_set_new(attrs, "id", string_or_null(person, "id"));
    json_object_set_new(attrs, "email", string_or_null(person, "email"));
    json_object_set_new(attrs, "cio_id", string_or_null(person, "cio_id"));
    json_t *customer = json_object();
    json_object_set_new(customer, "id", string_or_null(person, "id"));
    json_object_set_new(customer, "identifiers", identifiers_of(person));
    json_object_set_new(customer, "attributes", attrs);
    json_object_set(customer, "timestamps", json_object_get(person, "timestamps"));
    json_object_set_new(customer, "unsubscribed",
                        json_boolean(json_is_true(json_object_get(attrs, "unsubscribed"))));
    json_object_set_new(customer, "devices", json_array());
    return customer;
}

/* The person named by req->params[0] and ?id_type=, or NULL after answering 400/404. */
static json_t *find_person(const mock_request_t *req, mock_response_t *res) {
    const char *id_type;
    if (!id_type_param(req, res, &id_type)) {
        return NULL;
    }
    json_t *person = mock_state_person(req->mock, id_type, req->params[0]);
    if (person == NULL) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND, "customer not found");
    }
    return person;
}

/* The deliveries recorded for a person. */
static json_t *deliveries_of(cio_mock_t *m, const json_t *person) {
    json_t *all = mock_state_deliveries(m);
    json_t *mine = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        if (mock_person_matches(person, json_object_get(d, "identifiers"))) {
            json_array_append(mine, d);
        }
    }
    json_decref(all);
    return mine;
}

/* A recorded delivery as the message listings show it. */
static json_t *message_of(const json_t *d) {
    json_int_t queued = json_integer_value(json_object_get(d, "queued_at"));
    bool draft = json_is_true(json_object_get(d, "queue_draft"));
    json_t *metrics = json_object();
    json_object_set_new(metrics, draft ? "drafted" : "sent", json_integer(queued));
    return json_pack("{s:O, s:O, s:O, s:O?, s:O?, s:O?, s:I, s:o}", "id",
                     json_object_get(d, "delivery_id"), "type", json_object_get(d, "type"),
                     "transactional_message_id", json_object_get(d, "transactional_message_id"),
                     "customer_identifiers", json_object_get(d, "identifiers"), "recipient",
                     json_object_get(d, "recipient"), "subject", json_object_get(d, "subject"),
                     "created", queued, "metrics", metrics);
}

/* ---------------------------------------------------------------- sends */

static bool is_base64_text(const char *text) {
    size_t len = strlen(text), out_len = 0;
    unsigned char *decoded = mock_base64_decode(text, len, &out_len);
    free(decoded);
    return decoded != NULL;
}

static bool check_identifiers(const mock_request_t *req, mock_response_t *res, json_t *body) {
    if (!mock_require_object(req, res, body, "identifiers", "identifiers")) {
        return false;
    }
    json_t *ids = json_object_get(body, "identifiers");
    const char *key;
    json_t *value;
    size_t known = 0;
    json_object_foreach(ids, key, value) {
        bool is_known =
            strcmp(key, "id") == 0 || strcmp(key, "email") == 0 || strcmp(key, "cio_id") == 0;
        bool usable = (json_is_string(value) && json_string_length(value) > 0) ||
                      (json_is_integer(value) && strcmp(key, "email") != 0);
        if (is_known && usable) {
            known++;
        }
    }
    if (known != 1 || json_object_size(ids) != 1) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         "identifiers must contain exactly one of id, email or cio_id");
        return false;
    }
    return true;
}

static bool has_text(json_t *body, const char *field) {
    json_t *v = json_object_get(body, field);
    return json_is_string(v) && json_string_length(v) > 0;
}

static void handle_send(const mock_request_t *req, mock_response_t *res, const char *type) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body == NULL || !check_identifiers(req, res, body)) {
        json_decref(body);
        return;
    }
    json_t *tmid = json_object_get(body, "transactional_message_id");
    bool without_template = strcmp(type, "email") == 0 && has_text(body, "body") &&
                            has_text(body, "subject") && has_text(body, "from") &&
                            has_text(body, "to");
    if (tmid == NULL && !without_template) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         "missing required field 'transactional_message_id'");
    } else if (tmid != NULL &&
               !(json_is_integer(tmid) || (json_is_string(tmid) && json_string_length(tmid) > 0))) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         "field 'transactional_message_id' must be a string or an integer");
    } else {
        json_t *atts = json_object_get(body, "attachments");
        const char *name;
        json_t *content;
        bool ok = atts == NULL || json_is_object(atts);
        json_object_foreach(atts, name, content) {
            if (ok && !(json_is_string(content) && is_base64_text(json_string_value(content)))) {
                reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                            "attachment '%s' is not base64-encoded content", name);
                ok = false;
            }
        }
        if (!ok && res->status == 0) {
            mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                             "field 'attachments' must be an object");
        }
        if (ok) {
            json_t *answer = mock_state_add_delivery(req->mock, type, body);
            if (answer != NULL) {
                mock_emit_delivery_webhooks(req->mock, type, answer, body);
                mock_reply_json(res, MHD_HTTP_OK, answer);
            } else {
                mock_reply_error(req, res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
            }
        }
    }
    json_decref(body);
}

static void handle_send_email(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "email");
}
static void handle_send_push(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "push");
}
static void handle_send_sms(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "sms");
}
static void handle_send_inbox(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "inbox_message");
}
static void handle_send_in_app(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "in_app");
}
static void handle_send_whatsapp(const mock_request_t *req, mock_response_t *res) {
    handle_send(req, res, "whatsapp");
}

static void handle_trigger(const mock_request_t *req, mock_response_t *res) {
    long long id;
    if (!parse_number(req->params[0], 1, 1000000000000LL, &id)) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND, "broadcast not found");
        return;
    }
    json_t *body = mock_parse_object_body(req, res, false);
    if (body == NULL) {
        return;
    }
    static const char *const audiences[] = {"recipients",    "emails",        "ids",
                                            "per_user_data", "data_file_url", NULL};
    int given = 0;
    for (const char *const *a = audiences; *a; a++) {
        given += json_object_get(body, *a) != NULL;
    }
    if (given > 1) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         "only one of recipients, emails, ids, per_user_data, data_file_url may "
                         "be given");
    } else {
        mock_reply_json(res, MHD_HTTP_OK,
                        json_pack("{s:I}", "id", mock_state_add_trigger(req->mock)));
    }
    json_decref(body);
}

/* ---------------------------------------------------------------- customers */

static void handle_customer_attributes(const mock_request_t *req, mock_response_t *res) {
    json_t *person = find_person(req, res);
    if (person != NULL) {
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "customer", customer_of(person)));
    }
    json_decref(person);
}

static void handle_customers_by_email(const mock_request_t *req, mock_response_t *res) {
    char *email = query_param(req, "email");
    if (email == NULL || email[0] == '\0') {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "missing required parameter 'email'");
        free(email);
        return;
    }
    json_t *people = mock_state_people(req->mock);
    json_t *results = json_array();
    size_t i;
    json_t *person;
    json_array_foreach(people, i, person) {
        const char *have = json_string_value(json_object_get(person, "email"));
        if (have != NULL && strcasecmp(have, email) == 0) {
            json_array_append_new(results, identifiers_of(person));
        }
    }
    json_decref(people);
    free(email);
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "results", results));
}

static void handle_customers_by_ids(const mock_request_t *req, mock_response_t *res) {
    const char *id_type;
    if (!id_type_param(req, res, &id_type)) {
        return;
    }
    json_t *body = mock_parse_object_body(req, res, true);
    if (body == NULL || !mock_require_array(req, res, body, "ids", "ids")) {
        json_decref(body);
        return;
    }
    json_t *ids = json_object_get(body, "ids");
    size_t n = json_array_size(ids);
    bool ok = n >= 1 && n <= APP_MAX_IDS;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        ok = ok && json_is_string(id);
    }
    if (!ok) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "ids must be 1 to 100 strings");
        json_decref(body);
        return;
    }
    json_t *customers = json_array();
    json_array_foreach(ids, i, id) {
        json_t *person = mock_state_person(req->mock, id_type, json_string_value(id));
        if (person != NULL) {
            json_array_append_new(customers, json_pack("{s:o}", "customer", customer_of(person)));
        }
        json_decref(person);
    }
    json_decref(body);
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "customers", customers));
}

/* 1 = match, 0 = no match, -1 = unsupported filter (message in err). */
static int filter_match(const json_t *filter, const json_t *person, const json_t *segments,
                        char *err, size_t errlen) {
    if (!json_is_object(filter) || json_object_size(filter) != 1) {
        snprintf(err, errlen, "a filter must be an object with one key");
        return -1;
    }
    const char *op = json_object_iter_key(json_object_iter((json_t *)filter));
    json_t *arg = json_object_iter_value(json_object_iter((json_t *)filter));
    if (strcmp(op, "and") == 0 || strcmp(op, "or") == 0) {
        if (!json_is_array(arg)) {
            snprintf(err, errlen, "'%s' takes an array of filters", op);
            return -1;
        }
        bool is_and = op[0] == 'a';
        int result = is_and ? 1 : 0;
        size_t i;
        json_t *sub;
        json_array_foreach(arg, i, sub) {
            int r = filter_match(sub, person, segments, err, errlen);
            if (r < 0) {
                return -1;
            }
            result = is_and ? (result && r) : (result || r);
        }
        return result;
    }
    if (strcmp(op, "not") == 0) {
        int r = filter_match(arg, person, segments, err, errlen);
        return r < 0 ? -1 : !r;
    }
    if (strcmp(op, "segment") == 0) {
        json_int_t id = json_integer_value(json_object_get(arg, "id"));
        size_t i;
        json_t *segment;
        json_array_foreach(segments, i, segment) {
            if (json_integer_value(json_object_get(segment, "id")) == id) {
                return mock_state_in_segment(segment, person);
            }
        }
        return 0;
    }
    if (strcmp(op, "attribute") == 0) {
        const char *field = json_string_value(json_object_get(arg, "field"));
        const char *oper = json_string_value(json_object_get(arg, "operator"));
        if (field == NULL || oper == NULL) {
            snprintf(err, errlen, "an attribute filter needs 'field' and 'operator'");
            return -1;
        }
        json_t *have = json_object_get(json_object_get(person, "attributes"), field);
        if (strcmp(field, "id") == 0 || strcmp(field, "email") == 0) {
            have = json_object_get(person, field);
        }
        if (strcmp(oper, "exists") == 0) {
            return have != NULL && !json_is_null(have);
        }
        if (strcmp(oper, "eq") == 0) {
            json_t *want = json_object_get(arg, "value");
            if (have == NULL || want == NULL) {
                return 0;
            }
            if (json_equal(have, want)) {
                return 1;
            }
            /* Customer.io compares attribute values as text: "5" equals 5 */
            char *a = json_dumps(have, JSON_ENCODE_ANY), *b = json_dumps(want, JSON_ENCODE_ANY);
            const char *sa = json_is_string(have) ? json_string_value(have) : a;
            const char *sb = json_is_string(want) ? json_string_value(want) : b;
            int same = sa != NULL && sb != NULL && strcmp(sa, sb) == 0;
            free(a);
            free(b);
            return same;
        }
        snprintf(err, errlen,
                 "unsupported attribute operator '%.40s' (the emulator knows eq "
                 "and exists)",
                 oper);
        return -1;
    }
    snprintf(err, errlen, "unsupported filter '%.40s'", op);
    return -1;
}

static void handle_customers_search(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    if (!page_params(req, res, &page)) {
        return;
    }
    json_t *body = mock_parse_object_body(req, res, true);
    if (body == NULL || !mock_require_object(req, res, body, "filter", "filter")) {
        json_decref(body);
        return;
    }
    json_t *people = mock_state_people(req->mock);
    json_t *segments = mock_state_segments(req->mock);
    json_t *matches = json_array();
    char err[200] = "";
    size_t i;
    json_t *person;
    /* validated once on an empty profile, so that a bad filter fails even with nobody to test */
    json_t *nobody = json_pack("{s:{}, s:{}}", "attributes", "timestamps");
    filter_match(json_object_get(body, "filter"), nobody, segments, err, sizeof(err));
    json_decref(nobody);
    json_array_foreach(people, i, person) {
        if (err[0] != '\0') {
            break;
        }
        int r = filter_match(json_object_get(body, "filter"), person, segments, err, sizeof(err));
        if (r < 0) {
            break;
        }
        if (r) {
            json_array_append(matches, person);
        }
    }
    if (err[0] != '\0') {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, err);
        json_decref(matches);
    } else {
        json_t *answer = json_object();
        add_page(answer, "identifiers", matches, &page);
        json_t *identifiers = json_object_get(answer, "identifiers");
        json_t *ids = json_array();
        json_array_foreach(identifiers, i, person) {
            json_t *id = json_object_get(person, "id");
            if (id != NULL) {
                json_array_append(ids, id);
            }
            json_array_set_new(identifiers, i, identifiers_of(person));
        }
        json_object_set_new(answer, "ids", ids);
        mock_reply_json(res, MHD_HTTP_OK, answer);
    }
    json_decref(people);
    json_decref(segments);
    json_decref(body);
}

static void handle_customer_segments(const mock_request_t *req, mock_response_t *res) {
    json_t *person = find_person(req, res);
    if (person == NULL) {
        return;
    }
    json_t *segments = mock_state_segments(req->mock);
    json_t *mine = json_array();
    size_t i;
    json_t *segment;
    json_array_foreach(segments, i, segment) {
        if (mock_state_in_segment(segment, person)) {
            json_array_append(mine, segment);
        }
    }
    json_decref(segments);
    json_decref(person);
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "segments", mine));
}

static void handle_customer_messages(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    long long start_ts = 0, end_ts = 0;
    if (!page_params(req, res, &page) ||
        !number_param(req, res, "start_ts", 0, 1LL << 40, &start_ts) ||
        !number_param(req, res, "end_ts", 0, 1LL << 40, &end_ts)) {
        return;
    }
    json_t *person = find_person(req, res);
    if (person == NULL) {
        return;
    }
    json_t *deliveries = deliveries_of(req->mock, person);
    json_t *messages = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(deliveries, i, d) {
        json_int_t at = json_integer_value(json_object_get(d, "queued_at"));
        if ((start_ts == 0 || at >= start_ts) && (end_ts == 0 || at <= end_ts)) {
            json_array_append_new(messages, message_of(d));
        }
    }
    json_t *answer = json_object();
    add_page(answer, "messages", messages, &page);
    mock_reply_json(res, MHD_HTTP_OK, answer);
    json_decref(deliveries);
    json_decref(person);
}

static void handle_customer_activities(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    if (!page_params(req, res, &page)) {
        return;
    }
    json_t *person = find_person(req, res);
    if (person == NULL) {
        return;
    }
    char *type = query_param(req, "type");
    char *name = query_param(req, "name");
    json_t *activities = json_array();
    json_t *ids = identifiers_of(person);
    const char *key;
    json_t *stamp;
    json_object_foreach(json_object_get(person, "timestamps"), key, stamp) {
        if ((type == NULL || strcmp(type, "attribute_change") == 0) &&
            (name == NULL || strcmp(name, key) == 0)) {
            json_array_append_new(
                activities,
                json_pack("{s:s, s:s, s:O, s:O, s:{s:O?}}", "type", "attribute_change", "name", key,
                          "timestamp", stamp, "customer_identifiers", ids, "data", "new_value",
                          json_object_get(json_object_get(person, "attributes"), key)));
        }
    }
    json_t *deliveries = deliveries_of(req->mock, person);
    size_t i;
    json_t *d;
    json_array_foreach(deliveries, i, d) {
        char sent_type[64];
        snprintf(sent_type, sizeof(sent_type), "sent_%s",
                 json_string_value(json_object_get(d, "type")));
        if ((type == NULL || strcmp(type, sent_type) == 0) && name == NULL) {
            json_array_append_new(activities,
                                  json_pack("{s:s, s:O, s:O, s:O}", "type", sent_type,
                                            "delivery_id", json_object_get(d, "delivery_id"),
                                            "timestamp", json_object_get(d, "queued_at"),
                                            "customer_identifiers", ids));
        }
    }
    json_t *answer = json_object();
    add_page(answer, "activities", activities, &page);
    mock_reply_json(res, MHD_HTTP_OK, answer);
    json_decref(deliveries);
    json_decref(ids);
    json_decref(person);
    free(type);
    free(name);
}

static void handle_customer_relationships(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    if (!page_params(req, res, &page)) {
        return;
    }
    json_t *person = find_person(req, res);
    if (person != NULL) {
        json_t *answer = json_object();
        add_page(answer, "cio_relationships", json_array(), &page);
        mock_reply_json(res, MHD_HTTP_OK, answer);
    }
    json_decref(person);
}

static void handle_customer_subscriptions(const mock_request_t *req, mock_response_t *res) {
    json_t *person = find_person(req, res);
    if (person == NULL) {
        return;
    }
    /* topic_1 follows attributes.cio_subscription_preferences.topics.topic_1 when set */
    json_t *prefs =
        json_object_get(json_object_get(person, "attributes"), "cio_subscription_preferences");
    json_t *topic = json_object_get(json_object_get(prefs, "topics"), "topic_1");
    bool subscribed = topic == NULL || json_is_true(topic);
    json_t *customer =
        json_pack("{s:o, s:o, s:[{s:i, s:s, s:s, s:b}]}", "id", string_or_null(person, "id"),
                  "identifiers", identifiers_of(person), "topics", "id", 1, "name", "Newsletter",
                  "description", "Product news, once a month", "subscribed", subscribed);
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "customer", customer));
    json_decref(person);
}

/* ---------------------------------------------------------------- segments */

/* The segment named by req->params[0] (a copy), or NULL after answering 404. */
static json_t *find_segment(const mock_request_t *req, mock_response_t *res) {
    long long id;
    json_t *found = NULL;
    if (parse_number(req->params[0], 0, 1000000000000LL, &id)) {
        json_t *segments = mock_state_segments(req->mock);
        size_t i;
        json_t *segment;
        json_array_foreach(segments, i, segment) {
            if (json_integer_value(json_object_get(segment, "id")) == id) {
                found = json_incref(segment);
                break;
            }
        }
        json_decref(segments);
    }
    if (found == NULL) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND, "segment not found");
    }
    return found;
}

/* The people in a segment. */
static json_t *members_of(cio_mock_t *m, const json_t *segment) {
    json_t *people = mock_state_people(m);
    json_t *members = json_array();
    size_t i;
    json_t *person;
    json_array_foreach(people, i, person) {
        if (mock_state_in_segment(segment, person)) {
            json_array_append(members, person);
        }
    }
    json_decref(people);
    return members;
}

static void handle_segments_list(const mock_request_t *req, mock_response_t *res) {
    mock_reply_json(res, MHD_HTTP_OK,
                    json_pack("{s:o}", "segments", mock_state_segments(req->mock)));
}

static void handle_segment_get(const mock_request_t *req, mock_response_t *res) {
    json_t *segment = find_segment(req, res);
    if (segment != NULL) {
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "segment", segment));
    }
}

static void handle_segment_create(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_object(req, res, body, "segment", "segment") &&
        mock_require_string(req, res, json_object_get(body, "segment"), "name", "segment.name")) {
        json_t *segment = json_object_get(body, "segment");
        json_t *description = json_object_get(segment, "description");
        if (description != NULL && !json_is_string(description)) {
            mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                             "field 'segment.description' must be a string");
        } else {
            json_t *created = mock_state_add_segment(
                req->mock, json_string_value(json_object_get(segment, "name")),
                json_string_value(description));
            mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "segment", created));
        }
    }
    json_decref(body);
}

static void handle_segment_delete(const mock_request_t *req, mock_response_t *res) {
    json_t *segment = find_segment(req, res);
    if (segment != NULL) {
        mock_state_delete_segment(req->mock, json_integer_value(json_object_get(segment, "id")));
        mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
    }
    json_decref(segment);
}

static void handle_segment_count(const mock_request_t *req, mock_response_t *res) {
    json_t *segment = find_segment(req, res);
    if (segment != NULL) {
        json_t *members = members_of(req->mock, segment);
        mock_reply_json(res, MHD_HTTP_OK,
                        json_pack("{s:I}", "count", (json_int_t)json_array_size(members)));
        json_decref(members);
    }
    json_decref(segment);
}

static void handle_segment_membership(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    if (!page_params(req, res, &page)) {
        return;
    }
    json_t *segment = find_segment(req, res);
    if (segment == NULL) {
        return;
    }
    json_t *answer = json_object();
    add_page(answer, "identifiers", members_of(req->mock, segment), &page);
    json_t *identifiers = json_object_get(answer, "identifiers");
    json_t *ids = json_array();
    size_t i;
    json_t *person;
    json_array_foreach(identifiers, i, person) {
        json_t *id = json_object_get(person, "id");
        if (id != NULL) {
            json_array_append(ids, id);
        }
        json_array_set_new(identifiers, i, identifiers_of(person));
    }
    json_object_set_new(answer, "ids", ids);
    mock_reply_json(res, MHD_HTTP_OK, answer);
    json_decref(segment);
}

static void handle_segment_used_by(const mock_request_t *req, mock_response_t *res) {
    json_t *segment = find_segment(req, res);
    if (segment != NULL) {
        mock_reply_text(res, MHD_HTTP_OK, fixture_used_by);
    }
    json_decref(segment);
}

/* ---------------------------------------------------------------- transactional */

/* The template named by req->params[0] (a new reference), or NULL after answering 404. */
static json_t *find_template(const mock_request_t *req, mock_response_t *res) {
    json_t *templates = json_loads(fixture_templates, 0, NULL);
    json_t *found = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(templates, i, t) {
        char id[32];
        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(t, "id")));
        if (strcmp(id, req->params[0]) == 0) {
            found = json_incref(t);
        }
    }
    json_decref(templates);
    if (found == NULL) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND, "transactional message not found");
    }
    return found;
}

static json_t *contents_of(const json_t *tmpl) {
    json_int_t id = json_integer_value(json_object_get(tmpl, "id"));
    return json_loads(id == 1 ? fixture_contents_1 : fixture_contents_2, 0, NULL);
}

/* The content of a template whose field equals value ("language" or "id"), or NULL + 404. */
static json_t *find_content(const mock_request_t *req, mock_response_t *res, const json_t *tmpl,
                            const char *field, const char *value) {
    json_t *contents = contents_of(tmpl);
    json_t *found = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(contents, i, c) {
        json_t *v = json_object_get(c, field);
        char text[32];
        const char *have = json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            have = text;
        }
        if (have != NULL && strcmp(have, value) == 0) {
            found = json_incref(c);
        }
    }
    json_decref(contents);
    if (found == NULL) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND,
                         strcmp(field, "language") == 0 ? "language variant not found"
                                                        : "content not found");
    }
    return found;
}

/* Deliveries recorded with this template's id (as a number or its decimal text). */
static json_t *deliveries_of_template(cio_mock_t *m, const json_t *tmpl) {
    json_int_t id = json_integer_value(json_object_get(tmpl, "id"));
    char text[32];
    snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, id);
    json_t *all = mock_state_deliveries(m);
    json_t *mine = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        json_t *t = json_object_get(d, "transactional_message_id");
        if ((json_is_integer(t) && json_integer_value(t) == id) ||
            (json_is_string(t) && strcmp(json_string_value(t), text) == 0)) {
            json_array_append(mine, d);
        }
    }
    json_decref(all);
    return mine;
}

static void handle_transactional_list(const mock_request_t *req, mock_response_t *res) {
    (void)req;
    mock_reply_json(res, MHD_HTTP_OK,
                    json_pack("{s:o}", "messages", json_loads(fixture_templates, 0, NULL)));
}

static void handle_transactional_get(const mock_request_t *req, mock_response_t *res) {
    json_t *t = find_template(req, res);
    if (t != NULL) {
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "message", t));
    }
}

static void handle_transactional_contents(const mock_request_t *req, mock_response_t *res) {
    json_t *t = find_template(req, res);
    if (t != NULL) {
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "contents", contents_of(t)));
    }
    json_decref(t);
}

static void handle_transactional_language(const mock_request_t *req, mock_response_t *res) {
    json_t *t = find_template(req, res);
    json_t *c = t != NULL ? find_content(req, res, t, "language", req->params[1]) : NULL;
    if (c != NULL) {
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "content", c));
    }
    json_decref(t);
}

/* PUT .../language/{lang} and .../content/{content_id}: answers the content with the body's
 * fields merged in. */
static void put_content(const mock_request_t *req, mock_response_t *res, const char *field) {
    json_t *body = mock_parse_object_body(req, res, true);
    json_t *t = body != NULL ? find_template(req, res) : NULL;
    json_t *c = t != NULL ? find_content(req, res, t, field, req->params[1]) : NULL;
    if (c != NULL) {
        json_object_update(c, body);
        mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "content", c));
    }
    json_decref(t);
    json_decref(body);
}

static void handle_transactional_put_language(const mock_request_t *req, mock_response_t *res) {
    put_content(req, res, "language");
}

static void handle_transactional_put_content(const mock_request_t *req, mock_response_t *res) {
    put_content(req, res, "id");
}

/* ?period= and ?steps= of the metrics routes. */
static bool metric_params(const mock_request_t *req, mock_response_t *res, long long *steps) {
    char *period = query_param(req, "period");
    bool ok = period == NULL || strcmp(period, "hours") == 0 || strcmp(period, "days") == 0 ||
              strcmp(period, "weeks") == 0 || strcmp(period, "months") == 0;
    free(period);
    if (!ok) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         "period must be hours, days, weeks or months");
        return false;
    }
    *steps = 7;
    return number_param(req, res, "steps", 1, 121, steps);
}

static json_t *zero_series(long long steps) {
    json_t *series = json_array();
    for (long long i = 0; i < steps; i++) {
        json_array_append_new(series, json_integer(0));
    }
    return series;
}

static void handle_transactional_metrics(const mock_request_t *req, mock_response_t *res) {
    long long steps;
    if (!metric_params(req, res, &steps)) {
        return;
    }
    json_t *t = find_template(req, res);
    if (t == NULL) {
        return;
    }
    json_t *deliveries = deliveries_of_template(req->mock, t);
    json_t *series = json_object();
    for (const char *const *name = metric_names; *name; name++) {
        json_t *values = zero_series(steps);
        if (strcmp(*name, "sent") == 0 || strcmp(*name, "created") == 0) {
            json_array_set_new(values, (size_t)steps - 1,
                               json_integer((json_int_t)json_array_size(deliveries)));
        }
        json_object_set_new(series, *name, values);
    }
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:{s:o}}", "metric", "series", series));
    json_decref(deliveries);
    json_decref(t);
}

static void handle_transactional_links(const mock_request_t *req, mock_response_t *res) {
    long long steps;
    if (!metric_params(req, res, &steps)) {
        return;
    }
    char *unique = query_param(req, "unique");
    bool ok = unique == NULL || strcmp(unique, "true") == 0 || strcmp(unique, "false") == 0;
    free(unique);
    if (!ok) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "unique must be true or false");
        return;
    }
    json_t *t = find_template(req, res);
    if (t == NULL) {
        return;
    }
    json_t *links =
        json_pack("[{s:{s:i, s:s}, s:{s:{s:o}}}]", "link", "id", 1, "href",
                  "https://example.com/reset", "metric", "series", "clicked", zero_series(steps));
    mock_reply_json(res, MHD_HTTP_OK, json_pack("{s:o}", "links", links));
    json_decref(t);
}

static void handle_transactional_messages(const mock_request_t *req, mock_response_t *res) {
    page_t page;
    long long start_ts = 0, end_ts = 0;
    if (!page_params(req, res, &page) ||
        !number_param(req, res, "start_ts", 0, 1LL << 40, &start_ts) ||
        !number_param(req, res, "end_ts", 0, 1LL << 40, &end_ts)) {
        return;
    }
    char *state = query_param(req, "state");
    char *tracked = query_param(req, "get_tracked_responses");
    bool ok = (state == NULL || strcmp(state, "failed") == 0 || strcmp(state, "sent") == 0 ||
               strcmp(state, "drafted") == 0 || strcmp(state, "attempted") == 0) &&
              (tracked == NULL || strcmp(tracked, "true") == 0 || strcmp(tracked, "false") == 0);
    json_t *t = NULL;
    if (!ok) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "invalid state or get_tracked_responses");
    } else {
        t = find_template(req, res);
    }
    if (t != NULL) {
        json_t *deliveries = deliveries_of_template(req->mock, t);
        json_t *messages = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(deliveries, i, d) {
            json_int_t at = json_integer_value(json_object_get(d, "queued_at"));
            bool draft = json_is_true(json_object_get(d, "queue_draft"));
            bool state_ok = state == NULL || (strcmp(state, "drafted") == 0 && draft) ||
                            (strcmp(state, "sent") == 0 && !draft);
            if (state_ok && (start_ts == 0 || at >= start_ts) && (end_ts == 0 || at <= end_ts)) {
                json_array_append_new(messages, message_of(d));
            }
        }
        json_t *answer = json_object();
        add_page(answer, "messages", messages, &page);
        mock_reply_json(res, MHD_HTTP_OK, answer);
        json_decref(deliveries);
        json_decref(t);
    }
    free(state);
    free(tracked);
}

/* ---------------------------------------------------------------- the table */

static const mock_route_t app_routes[] = {
    {"POST", "/send/email", handle_send_email},
    {"POST", "/send/push", handle_send_push},
    {"POST", "/send/sms", handle_send_sms},
    {"POST", "/send/inbox_message", handle_send_inbox},
    {"POST", "/send/in_app", handle_send_in_app},
    {"POST", "/send/whatsapp", handle_send_whatsapp},
    {"POST", "/campaigns/{broadcast_id}/triggers", handle_trigger},
    {"GET", "/customers", handle_customers_by_email},
    {"POST", "/customers", handle_customers_search},
    {"POST", "/customers/attributes", handle_customers_by_ids},
    {"GET", "/customers/{id}/attributes", handle_customer_attributes},
    {"GET", "/customers/{id}/segments", handle_customer_segments},
    {"GET", "/customers/{id}/messages", handle_customer_messages},
    {"GET", "/customers/{id}/activities", handle_customer_activities},
    {"GET", "/customers/{id}/relationships", handle_customer_relationships},
    {"GET", "/customers/{id}/subscription_preferences", handle_customer_subscriptions},
    {"GET", "/segments", handle_segments_list},
    {"POST", "/segments", handle_segment_create},
    {"GET", "/segments/{segment_id}", handle_segment_get},
    {"DELETE", "/segments/{segment_id}", handle_segment_delete},
    {"GET", "/segments/{segment_id}/customer_count", handle_segment_count},
    {"GET", "/segments/{segment_id}/membership", handle_segment_membership},
    {"GET", "/segments/{segment_id}/used_by", handle_segment_used_by},
    {"GET", "/transactional", handle_transactional_list},
    {"GET", "/transactional/{id}", handle_transactional_get},
    {"GET", "/transactional/{id}/contents", handle_transactional_contents},
    {"GET", "/transactional/{id}/language/{language}", handle_transactional_language},
    {"PUT", "/transactional/{id}/language/{language}", handle_transactional_put_language},
    {"PUT", "/transactional/{id}/content/{content_id}", handle_transactional_put_content},
    {"GET", "/transactional/{id}/metrics", handle_transactional_metrics},
    {"GET", "/transactional/{id}/metrics/links", handle_transactional_links},
    {"GET", "/transactional/{id}/messages", handle_transactional_messages},
};

const mock_route_table_t mock_routes_app = {
    .prefix = "/v1",
    .auth = MOCK_AUTH_APP_BEARER,
    .max_body = 0, /* the server-wide 1 MiB cap */
    .reply_error = NULL,
    .routes = app_routes,
    .n_routes = sizeof(app_routes) / sizeof(app_routes[0]),
};
