/*
 * Track API v2 (https://track.customer.io/api/v2): /entity takes one operation, /batch up to
 * 500 KB of them. Each operation is checked like Customer.io does (type/action pairs,
 * identifiers, required fields, 32 KB); a batch with bad items answers 207 with
 * {"errors":[{"batch_index","reason","field","message"}]}, a bad entity 400 {"errors":[...]}.
 */
#include "mock_internal.h"

#include <stdlib.h>
#include <string.h>

#define TRACK_V2_MAX_OPERATION ((size_t)32 * 1024)
#define TRACK_V2_MAX_BATCH ((size_t)500 * 1024)

typedef struct item_error {
    const char *reason;
    const char *field;
    char message[160];
} item_error_t;

static bool fail_item(item_error_t *e, const char *reason, const char *field, const char *message) {
    e->reason = reason;
    e->field = field;
    snprintf(e->message, sizeof(e->message), "%s", message);
    return false;
}

static bool one_of(const char *s, const char *const *list) {
    for (; *list != NULL; list++) {
        if (strcmp(s, *list) == 0) {
            return true;
        }
    }
    return false;
}

static bool non_empty(const json_t *v) {
    return (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
}

static bool person_identifiers_ok(const json_t *ids) {
    if (!json_is_object(ids) || json_object_size(ids) != 1) {
        return false;
    }
    return non_empty(json_object_get(ids, "id")) || non_empty(json_object_get(ids, "email")) ||
           non_empty(json_object_get(ids, "cio_id"));
}

static bool identifiers_ok(const char *type, const json_t *ids) {
    if (strcmp(type, "person") == 0) {
        return person_identifiers_ok(ids);
    }
    if (strcmp(type, "object") == 0) {
        return non_empty(json_object_get(ids, "cio_object_id")) ||
               (non_empty(json_object_get(ids, "object_type_id")) &&
                non_empty(json_object_get(ids, "object_id")));
    }
    return json_is_object(ids) && non_empty(json_object_get(ids, "id"));
}

/* Checks one operation as the real API does; on failure fills e and returns false. */
static bool check_operation(const json_t *op, size_t size, item_error_t *e) {
    static const char *const person[] = {"identify",
                                         "delete",
                                         "event",
                                         "screen",
                                         "page",
                                         "add_relationships",
                                         "delete_relationships",
                                         "add_device",
                                         "delete_device",
                                         "merge",
                                         "suppress",
                                         "unsuppress",
                                         NULL};
    static const char *const object[] = {
        "identify", "delete", "event", "add_relationships", "delete_relationships", NULL};
    static const char *const delivery[] = {"event", NULL};
    if (size > TRACK_V2_MAX_OPERATION) {
        return fail_item(e, "too_large", NULL, "operation is larger than 32 KB");
    }
    if (!json_is_object(op)) {
        return fail_item(e, "invalid", NULL, "operation must be an object");
    }
    const char *type = json_string_value(json_object_get(op, "type"));
    const char *action = json_string_value(json_object_get(op, "action"));
    if (type == NULL) {
        return fail_item(e, "required", "type", "type is required");
    }
    if (action == NULL) {
        return fail_item(e, "required", "action", "action is required");
    }
    const char *const *actions = strcmp(type, "person") == 0     ? person
                                 : strcmp(type, "object") == 0   ? object
                                 : strcmp(type, "delivery") == 0 ? delivery
                                                                 : NULL;
    if (actions == NULL) {
        return fail_item(e, "invalid", "type", "type must be person, object or delivery");
    }
    if (!one_of(action, actions)) {
        return fail_item(e, "invalid", "action", "action is not valid for this type");
    }
    if (strcmp(action, "merge") == 0) {
        if (!person_identifiers_ok(json_object_get(op, "primary")) ||
            !person_identifiers_ok(json_object_get(op, "secondary"))) {
            return fail_item(e, "invalid", "primary", "primary and secondary need one identifier");
        }
    } else if (!identifiers_ok(type, json_object_get(op, "identifiers"))) {
        return fail_item(e, "invalid", "identifiers", "identifiers are missing or invalid");
    }
    bool is_event = strcmp(action, "event") == 0 || strcmp(action, "screen") == 0 ||
                    strcmp(action, "page") == 0;
    const json_t *name = json_object_get(op, "name");
    if (is_event && !(json_is_string(name) && json_string_length(name) > 0)) {
        return fail_item(e, "required", "name", "name is required");
    }
    const json_t *attributes = json_object_get(op, "attributes");
    if (attributes != NULL && !json_is_object(attributes)) {
        return fail_item(e, "invalid", "attributes", "attributes must be an object");
    }
    return true;
}

/* A person identify feeds the profile the App API reads (as Track v1 identify does). */
static void remember(const mock_request_t *req, const json_t *op) {
    const char *type = json_string_value(json_object_get(op, "type"));
    const char *action = json_string_value(json_object_get(op, "action"));
    if (type == NULL || action == NULL || strcmp(type, "person") != 0 ||
        strcmp(action, "identify") != 0) {
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(op, "identifiers"), key, value) {
        char number[32];
        const char *text = json_string_value(value);
        if (json_is_integer(value)) {
            snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            text = number;
        }
        json_t *attributes = json_object_get(op, "attributes");
        json_t *empty = attributes == NULL ? json_object() : NULL;
        if (text != NULL) {
            mock_state_identify(req->mock, key, text, attributes != NULL ? attributes : empty);
        }
        json_decref(empty);
    }
}

static json_t *error_json(const item_error_t *e) {
    json_t *j = json_pack("{s:s,s:s}", "reason", e->reason, "message", e->message);
    if (j != NULL && e->field != NULL) {
        json_object_set_new(j, "field", json_string(e->field));
    }
    return j;
}

static void reply_v2_error(mock_response_t *res, unsigned int status, const char *message) {
    mock_reply_json(
        res, status,
        json_pack("{s:[{s:s,s:s}]}", "errors", "reason", "invalid", "message", message));
}

static void handle_entity(const mock_request_t *req, mock_response_t *res) {
    json_t *op = mock_parse_object_body(req, res, true);
    if (op == NULL) {
        return;
    }
    item_error_t e;
    if (check_operation(op, req->body_len, &e)) {
        remember(req, op);
        mock_reply_text(res, MHD_HTTP_OK, "{}");
    } else {
        mock_reply_json(res, req->body_len > TRACK_V2_MAX_OPERATION ? 413 : MHD_HTTP_BAD_REQUEST,
                        json_pack("{s:[o]}", "errors", error_json(&e)));
    }
    json_decref(op);
}

/* In JSON text already parsed by jansson: where the value starting at p ends. */
static const char *raw_value_end(const char *p, const char *end) {
    int depth = 0;
    bool in_string = false;
    for (; p < end; p++) {
        char c = *p;
        if (in_string) {
            if (c == '\\') {
                p++;
            } else if (c == '"') {
                in_string = false;
                if (depth == 0) {
                    return p + 1;
                }
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth-- == 0) {
                return p; /* the end of the container around a number or literal */
            }
            if (depth == 0) {
                return p + 1;
            }
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            return p;
        }
    }
    return end;
}

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    return p;
}

/*
 * The byte length of each element of the body's top-level "batch" array, as sent (an operation's
 * size is its bytes on the wire, not a re-serialisation); sizes[i] stays 0 if not found.
 */
static void batch_item_sizes(const mock_request_t *req, size_t *sizes, size_t n) {
    const char *p = req->body, *end = req->body + req->body_len;
    p = skip_space(p, end);
    if (p >= end || *p != '{') {
        return;
    }
    p++;
    while ((p = skip_space(p, end)) < end && *p == '"') {
        const char *key_end = raw_value_end(p, end);
        bool is_batch = key_end - p == 7 && memcmp(p, "\"batch\"", 7) == 0;
        p = skip_space(key_end, end);
        p = skip_space(p + 1, end); /* past ':' */
        if (!is_batch || *p != '[') {
            p = skip_space(raw_value_end(p, end), end);
            p += p < end && *p == ',';
            continue;
        }
        p++;
        for (size_t i = 0; i < n && (p = skip_space(p, end)) < end && *p != ']'; i++) {
            const char *item_end = raw_value_end(p, end);
            sizes[i] = (size_t)(item_end - p);
            p = skip_space(item_end, end);
            p += p < end && *p == ',';
        }
        return; /* with repeated keys jansson keeps the last; clients never repeat it */
    }
}

static void handle_batch(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body == NULL || !mock_require_array(req, res, body, "batch", "batch")) {
        json_decref(body);
        return;
    }
    json_t *batch = json_object_get(body, "batch");
    size_t count = json_array_size(batch);
    size_t *sizes = calloc(count + 1, sizeof(*sizes));
    if (sizes != NULL) {
        batch_item_sizes(req, sizes, count);
    }
    json_t *errors = json_array();
    size_t i;
    json_t *op;
    json_array_foreach(batch, i, op) {
        item_error_t e;
        if (!check_operation(op, sizes != NULL ? sizes[i] : 0, &e)) {
            json_t *err = error_json(&e);
            json_object_set_new(err, "batch_index", json_integer((json_int_t)i));
            json_array_append_new(errors, err);
        } else {
            remember(req, op);
        }
    }
    free(sizes);
    if (json_array_size(errors) > 0) {
        mock_reply_json(res, 207, json_pack("{s:o}", "errors", errors));
    } else {
        json_decref(errors);
        mock_reply_text(res, MHD_HTTP_OK, "{}");
    }
    json_decref(body);
}

static const mock_route_t track_v2_routes[] = {
    {"POST", "/entity", handle_entity},
    {"POST", "/batch", handle_batch},
};

const mock_route_table_t mock_routes_track_v2 = {
    .prefix = "/api/v2",
    .auth = MOCK_AUTH_TRACK_BASIC,
    .max_body = TRACK_V2_MAX_BATCH,
    .reply_error = reply_v2_error,
    .routes = track_v2_routes,
    .n_routes = sizeof(track_v2_routes) / sizeof(track_v2_routes[0]),
};
