/*
 * Track API v2: validating operations (cio__v2_prepare_operation), /entity, reading a batch
 * answer's per-item errors, and cio_v2_send_batch, which hands the packing and sending to
 * batch.c with the Track v2 sink. The helpers (cio_v2_person_*, cio_v2_object_*,
 * cio_v2_delivery_event) only build operation text; every operation, the caller's or a helper's,
 * goes through cio__v2_prepare_operation().
 */
#include "customerio/track.h"
#include "util/json_read.h"
#include "pipeline_sink.h"
#include "request_internal.h"
#include "client_internal.h"
#include "track_v2_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"
#include "util/utf8.h"
#include "validate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const person_actions[] = {"identify",
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
static const char *const object_actions[] = {
    "identify", "delete", "event", "add_relationships", "delete_relationships", NULL};
static const char *const delivery_actions[] = {"event", NULL};

static bool in_list(const char *value, const char *const *list) {
    for (; *list != NULL; list++) {
        if (strcmp(value, *list) == 0)
            return true;
    }
    return false;
}

/*
 * The reason an operation is invalid, in a caller-supplied buffer; "" when it is valid. reason
 * and field say it in Customer.io's words for a batch's per-item errors: reason "invalid" or
 * "required", field the operation's member at fault (NULL: the operation as a whole). Both are
 * static strings.
 */
typedef struct problem {
    char text[200];
    const char *reason;
    const char *field;
} problem_t;

static bool fault(problem_t *p, const char *reason, const char *field, const char *fmt,
                  const char *arg) {
    snprintf(p->text, sizeof(p->text), fmt, arg);
    p->reason = reason;
    p->field = field;
    return false;
}

/* Most problems: the value of field (also the format's argument) is invalid. */
static bool complain(problem_t *p, const char *fmt, const char *field) {
    return fault(p, "invalid", field, fmt, field);
}

/*
 * A non-empty id string (<= 150 bytes, no control characters), or an integer when allowed. The
 * value is named in errors as what, or what.key when key is given (formatted only then: this runs
 * for every operation enqueued).
 */
static bool check_id_value(problem_t *p, const cio_json_value_t *v, const char *what,
                           const char *key, bool integer_ok) {
    const char *fault = NULL;
    char text[CIO_MAX_ID_BYTES + 2];
    if (v == NULL || v->kind != CIO_JSON_STRING) {
        if (integer_ok && v != NULL && v->kind == CIO_JSON_INTEGER)
            return true;
        fault = "must be a string";
    } else { /* \u0000 is refused earlier: text is all of it */
        fault = cio__id_fault(text, cio__jstring(v, text, sizeof(text)));
    }
    if (fault == NULL)
        return true;
    snprintf(p->text, sizeof(p->text), "%s%s%s %s", what, key != NULL ? "." : "",
             key != NULL ? key : "", fault);
    p->reason = "invalid";
    p->field = what;
    return false;
}

/* The member key of obj, or NULL when obj is not an object or has no such member. */
static const cio_json_value_t *member(const cio_json_value_t *obj, const char *key,
                                      cio_json_value_t *out) {
    return obj != NULL && obj->kind == CIO_JSON_OBJECT && cio__jget(obj, key, out) ? out : NULL;
}

static bool check_person_identifiers(problem_t *p, const cio_json_value_t *ids, const char *what) {
    if (ids == NULL)
        return fault(p, "required", what, "%s is missing", what);
    if (ids->kind != CIO_JSON_OBJECT)
        return complain(p, "%s must be an object", what);
    cio_jindex_t index;
    cio__jindex(ids, &index);
    static const char *const keys[] = {"id", "email", "cio_id"};
    int found = 0;
    for (size_t i = 0; i < 3; i++) {
        cio_json_value_t v;
        if (!cio__jindex_get(&index, keys[i], &v))
            continue;
        found++;
        if (!check_id_value(p, &v, what, keys[i], i == 0))
            return false;
    }
    if (found != 1 || !index.complete || index.count != 1)
        return complain(p, "%s must have exactly one of id, email, cio_id", what);
    return true;
}

static bool check_object_identifiers(problem_t *p, const cio_json_value_t *ids) {
    if (ids->kind != CIO_JSON_OBJECT)
        return complain(p, "%s must be an object", "identifiers");
    cio_json_value_t a, b;
    if (member(ids, "cio_object_id", &a) != NULL)
        return check_id_value(p, &a, "identifiers", "cio_object_id", false);
    const cio_json_value_t *type_id = member(ids, "object_type_id", &a);
    const cio_json_value_t *object_id = member(ids, "object_id", &b);
    if (type_id == NULL || object_id == NULL)
        return complain(p, "%s must have object_type_id and object_id (or cio_object_id)",
                        "identifiers");
    return check_id_value(p, type_id, "identifiers", "object_type_id", true) &&
           check_id_value(p, object_id, "identifiers", "object_id", true);
}

static bool check_relationships(problem_t *p, const cio_json_value_t *rels) {
    if (rels == NULL || rels->kind != CIO_JSON_ARRAY || cio__jcount(rels) == 0)
        return complain(p, "%s must be a non-empty array", "cio_relationships");
    const char *cursor = NULL;
    cio_json_value_t rel, ids;
    while (cio__jnext(rels, &cursor, NULL, &rel)) {
        const cio_json_value_t *found = member(&rel, "identifiers", &ids);
        if (found == NULL || found->kind != CIO_JSON_OBJECT)
            return complain(p, "%s: every item needs an identifiers object", "cio_relationships");
    }
    return true;
}

/* A short string member decoded into buf; NULL when absent or not a string. */
static const char *short_string(const cio_jindex_t *op, const char *key, char *buf, size_t size) {
    cio_json_value_t v;
    if (cio__jindex_get(op, key, &v) == NULL || v.kind != CIO_JSON_STRING)
        return NULL;
    cio__jstring(&v, buf, size);
    return buf;
}

/* Validates one scanned operation; fills p and returns false when it is invalid. */
static bool check_operation(problem_t *p, const cio_json_value_t *text, const cio_jindex_t *op,
                            bool *is_event, bool *has_id) {
    *is_event = false;
    if (text->kind != CIO_JSON_OBJECT)
        return fault(p, "invalid", NULL, "an operation must be a JSON object (got %s)",
                     cio__jkind_name(text->kind));
    char type_buf[48], action_buf[48];
    const char *type = short_string(op, "type", type_buf, sizeof(type_buf));
    const char *action = short_string(op, "action", action_buf, sizeof(action_buf));
    cio_json_value_t present;
    if (type == NULL)
        return cio__jindex_get(op, "type", &present) != NULL
                   ? complain(p, "%s must be a string (person, object or delivery)", "type")
                   : fault(p, "required", "type", "%s is missing (person, object or delivery)",
                           "type");
    if (action == NULL)
        return cio__jindex_get(op, "action", &present) != NULL
                   ? complain(p, "%s must be a string", "action")
                   : fault(p, "required", "action", "%s is missing", "action");
    const char *const *allowed = strcmp(type, "person") == 0     ? person_actions
                                 : strcmp(type, "object") == 0   ? object_actions
                                 : strcmp(type, "delivery") == 0 ? delivery_actions
                                                                 : NULL;
    if (allowed == NULL) {
        snprintf(p->text, sizeof(p->text), "type \"%.*s\" is not person, object or delivery",
                 (int)cio__utf8_cut(type, strlen(type), 40), type);
        p->reason = "invalid";
        p->field = "type";
        return false;
    }
    if (!in_list(action, allowed)) {
        snprintf(p->text, sizeof(p->text), "action \"%.*s\" is not valid for type %s",
                 (int)cio__utf8_cut(action, strlen(action), 40), action, type);
        p->reason = "invalid";
        p->field = "action";
        return false;
    }
    bool person = strcmp(type, "person") == 0;
    cio_json_value_t a, b;
    if (person && strcmp(action, "merge") == 0) {
        if (!check_person_identifiers(p, cio__jindex_get(op, "primary", &a), "primary") ||
            !check_person_identifiers(p, cio__jindex_get(op, "secondary", &b), "secondary"))
            return false;
    } else {
        const cio_json_value_t *ids = cio__jindex_get(op, "identifiers", &a);
        if (ids == NULL)
            return fault(p, "required", "identifiers", "%s is missing", "identifiers");
        if (person && !check_person_identifiers(p, ids, "identifiers"))
            return false;
        if (strcmp(type, "object") == 0 && !check_object_identifiers(p, ids))
            return false;
        if (strcmp(type, "delivery") == 0) {
            if (ids->kind != CIO_JSON_OBJECT || cio__jcount(ids) != 1)
                return complain(p, "%s must be {\"id\": delivery_id}", "identifiers");
            if (!check_id_value(p, member(ids, "id", &b), "identifiers", "id", false))
                return false;
        }
    }
    *is_event = strcmp(action, "event") == 0 || strcmp(action, "screen") == 0 ||
                strcmp(action, "page") == 0;
    const cio_json_value_t *name = cio__jindex_get(op, "name", &a);
    if (*is_event && (name == NULL || name->kind != CIO_JSON_STRING || name->len == 2))
        return fault(p, "required", "name", "%s is required for this action (a non-empty string)",
                     "name");
    const cio_json_value_t *attrs = cio__jindex_get(op, "attributes", &a);
    if (attrs != NULL && attrs->kind != CIO_JSON_OBJECT)
        return complain(p, "%s must be an object", "attributes");
    const cio_json_value_t *ts = cio__jindex_get(op, "timestamp", &a);
    int64_t seconds = 0;
    if (ts != NULL && (!cio__jint(ts, &seconds) || seconds < 0))
        return complain(p, "%s must be a non-negative integer (unix seconds)", "timestamp");
    const cio_json_value_t *id = cio__jindex_get(op, "id", &a);
    *has_id = id != NULL;
    if (id != NULL && !check_id_value(p, id, "id", NULL, false))
        return false;
    if (strstr(action, "relationships") != NULL &&
        !check_relationships(p, cio__jindex_get(op, "cio_relationships", &a)))
        return false;
    if (strstr(action, "device") != NULL) {
        const cio_json_value_t *device = cio__jindex_get(op, "device", &a);
        if (device == NULL)
            return fault(p, "required", "device", "%s is missing (an object)", "device");
        if (device->kind != CIO_JSON_OBJECT)
            return complain(p, "%s must be an object", "device");
        if (!check_id_value(p, member(device, "token", &b), "device", "token", false))
            return false;
    }
    return true;
}

/*
 * Validates operation text and writes what goes on the wire into out: the caller's bytes, with
 * an "id" (ULID) prepended to events that have none. label names the operation in errors. When
 * the operation is refused (CIO_E_INVALID_ARGUMENT, CIO_E_PAYLOAD_TOO_LARGE) and why is
 * non-NULL, *why says so in Customer.io's words, for a batch's per-item errors.
 */
cio_status_t cio__v2_prepare_item(const char *call, const char *label, const char *text,
                                  cio_buf_t *out, cio_item_fault_t *why) {
    cio_item_fault_t ignored;
    if (why == NULL)
        why = &ignored;
    *why = (cio_item_fault_t){"invalid", NULL}; /* NULL, not JSON, not an object */
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is NULL", call, label);
    size_t len = strlen(text);
    cio_json_value_t op;
    cio_jindex_t members; /* the operation's, found while scanning */
    cio_status_t scanned = cio__json_scan_argument(call, label, text, len, 0, &op, &members);
    if (scanned != CIO_OK)
        return scanned;
    problem_t p = {{0}, "invalid", NULL};
    bool is_event = false, has_id = false;
    bool valid = check_operation(&p, &op, &members, &is_event, &has_id);
    bool needs_id = valid && is_event && !has_id;
    if (!valid) {
        *why = (cio_item_fault_t){p.reason, p.field};
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s: %s", call, label, p.text);
    }

    if (!cio__buf_reserve(out, len + (needs_id ? CIO_ULID_BUFSIZE + 8 : 0))) /* one malloc */
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    bool ok;
    if (needs_id) {
        char ulid[CIO_ULID_BUFSIZE];
        if (cio_ulid(ulid) != CIO_OK)
            return cio__fail(CIO_E_INTERNAL, "%s: cannot make an event id", call);
        const char *brace = strchr(text, '{'); /* a parsed non-empty object: always found */
        ok = cio__buf_appends(out, "{\"id\":\"") &&
             cio__buf_append(out, ulid, CIO_ULID_BUFSIZE - 1) && cio__buf_appends(out, "\",") &&
             cio__buf_append(out, brace + 1, len - (size_t)(brace + 1 - text));
    } else {
        ok = cio__buf_append(out, text, len);
    }
    if (!ok)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    cio_status_t st = cio__v2_check_size(call, label, out->len);
    if (st != CIO_OK)
        why->reason = "too_large"; /* the API's word for it */
    return st;
}

cio_status_t cio__v2_check_size(const char *call, const char *label, size_t len) {
    if (len <= CIO_TRACK_V2_MAX_OPERATION_BYTES)
        return CIO_OK;
    return cio__fail(CIO_E_PAYLOAD_TOO_LARGE,
                     "%s: %s is %zu bytes, over the Track API limit of %d bytes per operation",
                     call, label, len, CIO_TRACK_V2_MAX_OPERATION_BYTES);
}

cio_status_t cio__v2_prepare_operation(const char *call, const char *label, const char *text,
                                       cio_buf_t *out) {
    return cio__v2_prepare_item(call, label, text, out, NULL);
}

cio_status_t cio__v2_operation_request(const char *call, const char *text, cio_request_t **out) {
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    cio_buf_t body = {0};
    st = cio__v2_prepare_operation(call, "operation", text, &body);
    if (st != CIO_OK) {
        cio__buf_free(&body);
        return st;
    }
    return cio__v2_entity_make(call, &body, out);
}

cio_status_t cio__v2_entity_make(const char *call, cio_buf_t *body, cio_request_t **out) {
    char entity[] = "/api/v2/entity"; /* borrowed: the request keeps a copy */
    cio_buf_t path = {entity, sizeof(entity) - 1, sizeof(entity), true};
    return cio__request_make(out, call, CIO_API_TRACK, CIO_REQUEST_V2_OPERATION, "POST", &path,
                             body, false);
}

cio_status_t cio_v2_entity_request(const char *operation_json, cio_request_t **out) {
    return cio__v2_operation_request("send_entity", operation_json, out);
}

cio_status_t cio_v2_prepare(const char *operation_json, char **prepared_json) {
    if (prepared_json == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "v2_prepare: prepared_json is NULL");
    *prepared_json = NULL;
    cio_buf_t out = {0};
    cio_status_t st = cio__v2_prepare_operation("v2_prepare", "operation", operation_json, &out);
    if (st != CIO_OK) {
        cio__buf_free(&out);
        return st;
    }
    *prepared_json = out.data; /* cio_free() is free() */
    return cio__ok();
}

cio_status_t cio_v2_send_entity(cio_client_t *client, const char *operation_json) {
    /* the credentials first, as this call always checked them before the operation */
    cio_request_t *req = NULL;
    cio_status_t st = cio__require_track_credentials(client, "send_entity");
    if (st == CIO_OK)
        st = cio_v2_entity_request(operation_json, &req);
    return cio__request_run(client, st, req, NULL);
}

void cio__v2_item_errors(const char *response, size_t len, size_t n_items, cio_item_error_fn fn,
                         void *user) {
    json_t *root = json_loadb(response != NULL ? response : "", len, 0, NULL);
    json_t *errors = json_object_get(root, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        const char *reason = json_string_value(json_object_get(e, "reason"));
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *message = json_string_value(json_object_get(e, "message"));
        json_t *bi = json_object_get(e, "batch_index");
        if (json_is_integer(bi) && json_integer_value(bi) >= 0 &&
            (size_t)json_integer_value(bi) < n_items) {
            fn(user, (size_t)json_integer_value(bi), reason, field, message);
            continue;
        }
        /* an error we cannot pin on one item: count it against every item of the request */
        for (size_t k = 0; k < n_items; k++)
            fn(user, k, reason, field, message);
    }
    json_decref(root);
}

cio_status_t cio_v2_send_batch_async(cio_client_t *client, const char *const *operations_json,
                                     size_t count, cio_queue_t *queue, uint64_t token,
                                     cio_batch_result_t **result) {
    if (result != NULL)
        *result = NULL;
    cio_status_t st = cio__require_track_credentials(client, "send_batch");
    if (st == CIO_OK && queue == NULL)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "send_batch: queue is NULL");
    if (st != CIO_OK)
        return st;
    return cio__batch_send_valid_to(client, "send_batch", &cio__sink_track_v2, cio__v2_prepare_item,
                                    operations_json, count, queue, token, result);
}

cio_status_t cio_v2_send_batch(cio_client_t *client, const char *const *operations_json,
                               size_t count, cio_batch_result_t **result) {
    if (result != NULL)
        *result = NULL;
    cio_status_t st = cio__require_track_credentials(client, "send_batch");
    if (st != CIO_OK)
        return st;
    return cio__batch_send_valid(client, "send_batch", &cio__sink_track_v2, cio__v2_prepare_item,
                                 operations_json, count, result);
}
