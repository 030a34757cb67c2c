/*
 * Track API v2 (https://track.customer.io/api/v2): /entity takes one operation, /batch up to
 * 500 KB of them. Each operation is checked like Customer.io does (type/action pairs,
 * identifiers, required fields, 32 KB); a batch with bad items answers 207 with
 * {"errors":[{"batch_index","reason","field","message"}]}, a bad entity 400 {"errors":[...]}.
 */
#include "mock_internal.h"

#include <customerio/customerio.h>

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

/* Operations are read in place with the core's JSON scanner (customerio/json.h): a batch of
 * 500 KB is checked without building a tree of it, so the emulator keeps up with a client that
 * sends a million operations a second. Only identify operations, which feed the profiles, are
 * parsed with jansson. */
typedef cio_json_value_t value_t;

static bool member(const value_t *obj, const char *key, value_t *out) {
    return cio_json_get(obj, key, out) != 0;
}

static bool non_empty(const value_t *v) {
    return (v->kind == CIO_JSON_STRING && v->len > 2) || v->kind == CIO_JSON_INTEGER;
}

static bool non_empty_member(const value_t *obj, const char *key) {
    value_t v;
    return member(obj, key, &v) && non_empty(&v);
}

static size_t count_members(const value_t *obj) {
    size_t n = 0;
    const char *cursor = NULL;
    value_t v;
    while (cio_json_next(obj, &cursor, NULL, &v)) {
        n++;
    }
    return n;
}

static bool person_identifiers_ok(const value_t *ids) {
    if (ids->kind != CIO_JSON_OBJECT || count_members(ids) != 1) {
        return false;
    }
    return non_empty_member(ids, "id") || non_empty_member(ids, "email") ||
           non_empty_member(ids, "cio_id");
}

static bool identifiers_ok(const char *type, const value_t *ids) {
    if (strcmp(type, "person") == 0) {
        return person_identifiers_ok(ids);
    }
    if (strcmp(type, "object") == 0) {
        return non_empty_member(ids, "cio_object_id") ||
               (non_empty_member(ids, "object_type_id") && non_empty_member(ids, "object_id"));
    }
    return ids->kind == CIO_JSON_OBJECT && non_empty_member(ids, "id");
}

/* The members check_operation() reads, found in one walk over the operation. */
typedef struct op_members {
    value_t type, action, identifiers, primary, secondary, name, attributes;
    bool has_type, has_action, has_identifiers, has_primary, has_secondary, has_name,
        has_attributes;
} op_members_t;

static void find_members(const value_t *op, op_members_t *m) {
    memset(m, 0, sizeof(*m));
    if (op->kind != CIO_JSON_OBJECT) {
        return;
    }
    struct {
        const char *key;
        value_t *value;
        bool *found;
    } wanted[] = {{"type", &m->type, &m->has_type},
                  {"action", &m->action, &m->has_action},
                  {"identifiers", &m->identifiers, &m->has_identifiers},
                  {"primary", &m->primary, &m->has_primary},
                  {"secondary", &m->secondary, &m->has_secondary},
                  {"name", &m->name, &m->has_name},
                  {"attributes", &m->attributes, &m->has_attributes}};
    const char *cursor = NULL;
    value_t key, value;
    while (cio_json_next(op, &cursor, &key, &value)) {
        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
            if (cio_json_string_is(&key, wanted[i].key)) {
                *wanted[i].value = value; /* a repeated key: the last one counts */
                *wanted[i].found = true;
                break;
            }
        }
    }
}

/* A short string decoded into buf, or NULL when absent or not a string. */
static const char *short_string(bool found, const value_t *v, char *buf, size_t size) {
    if (!found || v->kind != CIO_JSON_STRING) {
        return NULL;
    }
    cio_json_string(v, buf, size);
    return buf;
}

/* Checks one operation (size: its bytes as sent) as the real API does; on failure fills e and
 * returns false. */
static bool check_operation(const value_t *op, const op_members_t *m, size_t size,
                            item_error_t *e) {
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
    if (op->kind != CIO_JSON_OBJECT) {
        return fail_item(e, "invalid", NULL, "operation must be an object");
    }
    char type_buf[64], action_buf[64];
    const char *type = short_string(m->has_type, &m->type, type_buf, sizeof(type_buf));
    const char *action = short_string(m->has_action, &m->action, action_buf, sizeof(action_buf));
    if (type == NULL) {
        return m->has_type ? fail_item(e, "invalid", "type", "type must be a string")
                           : fail_item(e, "required", "type", "type is required");
    }
    if (action == NULL) {
        return m->has_action ? fail_item(e, "invalid", "action", "action must be a string")
                             : fail_item(e, "required", "action", "action is required");
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
        if (!m->has_primary || !person_identifiers_ok(&m->primary) || !m->has_secondary ||
            !person_identifiers_ok(&m->secondary)) {
            return fail_item(e, "invalid", "primary", "primary and secondary need one identifier");
        }
    } else if (!m->has_identifiers || !identifiers_ok(type, &m->identifiers)) {
        return fail_item(e, "invalid", "identifiers", "identifiers are missing or invalid");
    }
    bool is_event = strcmp(action, "event") == 0 || strcmp(action, "screen") == 0 ||
                    strcmp(action, "page") == 0;
    if (is_event && !(m->has_name && m->name.kind == CIO_JSON_STRING && m->name.len > 2)) {
        return fail_item(e, "required", "name", "name is required");
    }
    if (m->has_attributes && m->attributes.kind != CIO_JSON_OBJECT) {
        return fail_item(e, "invalid", "attributes", "attributes must be an object");
    }
    return true;
}

/*
 * A person identify feeds the profile the App API reads (as Track v1 identify does). The profile
 * store is jansson's: an integer beyond 64 bits is kept as a real; a number beyond a double
 * cannot be stored, and the operation is refused (e filled, false) rather than answered 200 and
 * forgotten.
 */
static bool remember(const mock_request_t *req, const value_t *op_text, const op_members_t *m,
                     item_error_t *e) {
    if (!cio_json_string_is(&m->type, "person") || !cio_json_string_is(&m->action, "identify")) {
        return true;
    }
    json_t *op = json_loadb(op_text->text, op_text->len, 0, NULL);
    if (op == NULL) {
        op = json_loadb(op_text->text, op_text->len, JSON_DECODE_INT_AS_REAL, NULL);
    }
    if (op == NULL) {
        return fail_item(e, "invalid", "attributes", "a number is too large to store");
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
    json_decref(op);
    return true;
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
    value_t op;
    if (!mock_scan_object_body(req, res, &op, NULL)) {
        return;
    }
    item_error_t e;
    op_members_t m;
    find_members(&op, &m);
    if (check_operation(&op, &m, req->body_len, &e) && remember(req, &op, &m, &e)) {
        mock_reply_text(res, MHD_HTTP_OK, "{}");
    } else {
        mock_reply_json(res, req->body_len > TRACK_V2_MAX_OPERATION ? 413 : MHD_HTTP_BAD_REQUEST,
                        json_pack("{s:[o]}", "errors", error_json(&e)));
    }
}

static void handle_batch(const mock_request_t *req, mock_response_t *res) {
    value_t body, batch;
    if (!mock_scan_object_body(req, res, &body, NULL)) {
        return;
    }
    if (!member(&body, "batch", &batch) || batch.kind != CIO_JSON_ARRAY) {
        json_t *parsed = mock_parse_object_body(req, res, true); /* answers 400 naming "batch" */
        if (parsed != NULL) { /* else jansson refused the body, and the answer says so */
            mock_require_array(req, res, parsed, "batch", "batch");
        }
        json_decref(parsed);
        return;
    }
    json_t *errors = json_array();
    size_t i = 0;
    const char *cursor = NULL;
    value_t op;
    for (; cio_json_next(&batch, &cursor, NULL, &op); i++) {
        item_error_t e;
        op_members_t m;
        find_members(&op, &m);
        /* op.len: its bytes as sent */
        if (!check_operation(&op, &m, op.len, &e) || !remember(req, &op, &m, &e)) {
            json_t *err = error_json(&e);
            json_object_set_new(err, "batch_index", json_integer((json_int_t)i));
            json_array_append_new(errors, err);
        }
    }
    if (json_array_size(errors) > 0) {
        mock_reply_json(res, 207, json_pack("{s:o}", "errors", errors));
    } else {
        json_decref(errors);
        mock_reply_text(res, MHD_HTTP_OK, "{}");
    }
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
