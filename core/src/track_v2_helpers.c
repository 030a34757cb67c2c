/*
 * Track API v2 helpers: one builder per type and action (cio_v2_*_request). Each checks its own
 * arguments (so the error names them), writes the operation's JSON and hands it to
 * cio__v2_operation_request(), which validates it like any caller-written operation and makes the
 * request value. The classic calls (cio_v2_person_identify(client, ...)) are the builder followed
 * by the classic executor, one line each (CIO__REQUEST_RUN: the builder's argument errors come
 * first, then the executor's client and credential checks).
 */
#include "customerio/track.h"
#include "request_internal.h"
#include "track_v2_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_read.h"
#include "util/json_write.h"
#include "util/utf8.h"
#include "validate.h"

#include <string.h>

typedef struct op_builder {
    const char *call;
    cio_buf_t text;
    bool ok;
    bool no_id;        /* the event id could not be made */
    bool check_all;    /* validate the whole operation again (see finish) */
    char storage[512]; /* most operations fit: no allocation for the text (a hot path) */
} op_builder_t;

/* Plain appends, no printf: a builder runs once per event queued from the bindings. */
static void put(op_builder_t *b, const char *raw) {
    b->ok = b->ok && cio__buf_appends(&b->text, raw);
}

/* ,"<key>": */
static void put_key(op_builder_t *b, const char *key) {
    b->ok = b->ok && cio__buf_append(&b->text, ",\"", 2) && cio__buf_appends(&b->text, key) &&
            cio__buf_append(&b->text, "\":", 2);
}

static void put_string(op_builder_t *b, const char *key, const char *value) {
    put_key(b, key);
    b->ok = b->ok && cio__buf_append_json_string(&b->text, value);
}

/* key: raw JSON (already validated); skipped when NULL. */
static void put_json(op_builder_t *b, const char *key, const char *json) {
    if (json != NULL) {
        put_key(b, key);
        put(b, json);
    }
}

/* event_id: the operation is an event without a caller's id: it starts with a fresh ULID "id",
 * where cio__v2_prepare_operation() would have put it. */
static void begin(op_builder_t *b, const char *call, const char *type, const char *action,
                  bool event_id) {
    b->call = call;
    b->text = CIO_BUF_ON(b->storage, sizeof(b->storage));
    b->ok = true;
    b->no_id = false;
    b->check_all = false;
    put(b, "{");
    if (event_id) {
        char ulid[CIO_ULID_BUFSIZE];
        b->no_id = cio_ulid(ulid) != CIO_OK;
        put(b, "\"id\":\"");
        put(b, ulid);
        put(b, "\",");
    }
    put(b, "\"type\":\"");
    put(b, type);
    put(b, "\",\"action\":\"");
    put(b, action);
    put(b, "\"");
}

/*
 * The request from the operation written. Its parts were checked one by one (ids, names, JSON
 * objects, options) with the checks the operation's validator applies to them, and written here,
 * so the operation is not scanned and validated again (that doubled the cost of a built event);
 * only its size is left to check. Relationship arrays are checked here only as arrays: an
 * operation carrying one (check_all) goes through the whole validator, which looks at each item.
 */
static cio_status_t finish(op_builder_t *b, cio_request_t **out) {
    put(b, "}");
    cio_status_t st = CIO_OK;
    if (!b->ok)
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", b->call);
    else if (b->no_id)
        st = cio__fail(CIO_E_INTERNAL, "%s: cannot make an event id", b->call);
    else if (b->check_all)
        st = cio__v2_operation_request(b->call, b->text.data, out);
    else if ((st = cio__v2_check_size(b->call, "operation", b->text.len)) == CIO_OK)
        return cio__v2_entity_make(b->call, &b->text, out); /* takes the text over */
    cio__buf_free(&b->text);
    return st;
}

/*
 * An id the operation carries as what.key (identifiers.email, primary.id, ...), named and judged
 * in the operation validator's words, so a built operation and the same operation written by hand
 * are refused alike: a non-empty string of at most 150 bytes without control characters (and
 * valid UTF-8, which the JSON writer needs).
 */
static cio_status_t check_id_as(const char *call, const char *what, const char *key,
                                const char *value) {
    const char *fault = NULL;
    if (value == NULL)
        fault = "must be a string";
    else if (value[0] != '\0' && !cio__utf8_valid(value, strlen(value)))
        fault = "is not valid UTF-8";
    else
        fault = cio__id_fault(value, strlen(value));
    return fault == NULL
               ? CIO_OK
               : cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s.%s %s", call, what, key, fault);
}

/* A decimal integer of at most 19 digits, as a JSON number may be written and an int64 holds. */
static bool is_integer_text(const char *s) {
    if (s == NULL)
        return false;
    if (*s == '-')
        s++;
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 19 && s[n] == '\0';
}

static cio_status_t check_person(const char *call, const char *what, cio_id_type_t type,
                                 const char *value) {
    if (type == CIO_ID_TYPE_IDENTIFIERS) /* judged with the whole operation (put_person) */
        return value == NULL
                   ? cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s must be an object", call, what)
                   : cio__check_json_object(call, what, value);
    const char *key = cio__id_type_name(type);
    if (key == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s: the id type is not id, email or cio_id",
                         call, what);
    if (type == CIO_ID_TYPE_ID_INTEGER && !is_integer_text(value))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s.id must be an integer (-?[0-9]{1,19})",
                         call, what);
    return check_id_as(call, what, key, value);
}

/* ,"<key>":{"<id type>":"<value>"}, or {"id":<value>} for an integer id, or ,"<key>":<value> for
 * a caller's identifiers object, which the whole-operation validator then judges (check_all) */
static void put_person(op_builder_t *b, const char *key, cio_id_type_t type, const char *value) {
    put_key(b, key);
    if (type == CIO_ID_TYPE_IDENTIFIERS) {
        put(b, value); /* one JSON object (check_person) */
        b->check_all = true;
        return;
    }
    put(b, "{\"");
    put(b, cio__id_type_name(type));
    put(b, "\":");
    if (type == CIO_ID_TYPE_ID_INTEGER)
        put(b, value); /* checked by is_integer_text */
    else
        b->ok = b->ok && cio__buf_append_json_string(&b->text, value);
    put(b, "}");
}

static void put_event_fields(op_builder_t *b, const char *name, const char *data_json,
                             const cio_event_options_t *o) {
    put_string(b, "name", name);
    put_json(b, "attributes", data_json);
    if (o != NULL && o->timestamp > 0)
        b->ok = b->ok && cio__buf_printf(&b->text, ",\"timestamp\":%lld", (long long)o->timestamp);
    if (o != NULL && o->id != NULL)
        put_string(b, "id", o->id);
}

/* The checks every event-like helper shares: its name, its data object, its options. */
static cio_status_t check_event_args(const char *call, const char *name_field, const char *name,
                                     const char *data_json, const cio_event_options_t *o) {
    cio_status_t st = cio__check_text(call, name_field, name);
    if (st == CIO_OK)
        st = cio__check_json_object(call, "data", data_json);
    return st != CIO_OK ? st : cio__check_event_options(call, o);
}

/* ---- people ---- */

static cio_status_t person_simple(cio_request_t **out, const char *call, const char *action,
                                  cio_id_type_t type, const char *value,
                                  const char *attributes_json) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", type, value);
    if (st == CIO_OK)
        st = cio__check_json_object(call, "attributes", attributes_json);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", action, false);
    put_person(&b, "identifiers", type, value);
    put_json(&b, "attributes", attributes_json);
    return finish(&b, out);
}

cio_status_t cio_v2_person_identify_request(cio_id_type_t id_type, const char *id_value,
                                            const char *attributes_json, cio_request_t **out) {
    return person_simple(out, "v2_person_identify", "identify", id_type, id_value,
                         attributes_json != NULL ? attributes_json : "{}");
}

cio_status_t cio_v2_person_delete_request(cio_id_type_t id_type, const char *id_value,
                                          cio_request_t **out) {
    return person_simple(out, "v2_person_delete", "delete", id_type, id_value, NULL);
}

cio_status_t cio_v2_person_suppress_request(cio_id_type_t id_type, const char *id_value,
                                            cio_request_t **out) {
    return person_simple(out, "v2_person_suppress", "suppress", id_type, id_value, NULL);
}

cio_status_t cio_v2_person_unsuppress_request(cio_id_type_t id_type, const char *id_value,
                                              cio_request_t **out) {
    return person_simple(out, "v2_person_unsuppress", "unsuppress", id_type, id_value, NULL);
}

static cio_status_t person_event(cio_request_t **out, const char *call, const char *action,
                                 const char *name_field, cio_id_type_t type, const char *value,
                                 const char *name, const char *data_json,
                                 const cio_event_options_t *o) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", type, value);
    if (st == CIO_OK)
        st = check_event_args(call, name_field, name, data_json, o);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", action, o == NULL || o->id == NULL);
    put_person(&b, "identifiers", type, value);
    put_event_fields(&b, name, data_json, o);
    return finish(&b, out);
}

cio_status_t cio_v2_person_event_request(cio_id_type_t id_type, const char *id_value,
                                         const char *name, const char *data_json,
                                         const cio_event_options_t *options, cio_request_t **out) {
    return person_event(out, "v2_person_event", "event", "name", id_type, id_value, name, data_json,
                        options);
}

cio_status_t cio_v2_person_screen_request(cio_id_type_t id_type, const char *id_value,
                                          const char *screen_name, const char *data_json,
                                          const cio_event_options_t *options, cio_request_t **out) {
    return person_event(out, "v2_person_screen", "screen", "screen_name", id_type, id_value,
                        screen_name, data_json, options);
}

cio_status_t cio_v2_person_page_request(cio_id_type_t id_type, const char *id_value,
                                        const char *url, const char *data_json,
                                        const cio_event_options_t *options, cio_request_t **out) {
    return person_event(out, "v2_person_page", "page", "url", id_type, id_value, url, data_json,
                        options);
}

cio_status_t cio_v2_person_add_device_request(cio_id_type_t id_type, const char *id_value,
                                              const char *token, const char *platform,
                                              int64_t last_used, const char *attributes_json,
                                              cio_request_t **out) {
    const char *call = "v2_person_add_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", id_type, id_value);
    if (st == CIO_OK)
        st = cio__check_device(call, "token", token, platform, last_used, attributes_json);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", "add_device", false);
    put_person(&b, "identifiers", id_type, id_value);
    put(&b, ",\"device\":{\"token\":");
    b.ok = b.ok && cio__buf_append_json_string(&b.text, token);
    put_string(&b, "platform", platform);
    if (last_used > 0)
        b.ok = b.ok && cio__buf_printf(&b.text, ",\"last_used\":%lld", (long long)last_used);
    put_json(&b, "attributes", attributes_json);
    put(&b, "}");
    return finish(&b, out);
}

cio_status_t cio_v2_person_add_device_fields_request(cio_id_type_t id_type, const char *id_value,
                                                     const char *token, const char *platform,
                                                     const char *fields_json, cio_request_t **out) {
    const char *call = "v2_person_add_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", id_type, id_value);
    if (st == CIO_OK)
        st = cio__check_device(call, "token", token, platform, 0, NULL);
    cio_json_value_t fields = {0};
    if (st == CIO_OK)
        st = cio__check_device_fields(call, fields_json, "token", &fields);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", "add_device", false);
    b.check_all = true; /* the fields (last_used, attributes, ...) are judged with the operation */
    put_person(&b, "identifiers", id_type, id_value);
    put(&b, ",\"device\":{\"token\":");
    b.ok = b.ok && cio__buf_append_json_string(&b.text, token);
    put_string(&b, "platform", platform);
    if (fields_json != NULL && cio__jcount(&fields) > 0) {
        put(&b, ",");
        b.ok = b.ok && cio__buf_append(&b.text, fields.text + 1, fields.len - 2); /* as given */
    }
    put(&b, "}");
    return finish(&b, out);
}

cio_status_t cio_v2_person_delete_device_request(cio_id_type_t id_type, const char *id_value,
                                                 const char *token, cio_request_t **out) {
    const char *call = "v2_person_delete_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", id_type, id_value);
    if (st == CIO_OK)
        st = cio__check_id(call, "token", token);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", "delete_device", false);
    put_person(&b, "identifiers", id_type, id_value);
    put(&b, ",\"device\":{\"token\":");
    b.ok = b.ok && cio__buf_append_json_string(&b.text, token);
    put(&b, "}");
    return finish(&b, out);
}

static cio_status_t person_relationships(cio_request_t **out, const char *call, const char *action,
                                         cio_id_type_t type, const char *value,
                                         const char *relationships_json) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "identifiers", type, value);
    if (st == CIO_OK)
        st = cio__check_json_array(call, "relationships", relationships_json);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", action, false);
    b.check_all = true;
    put_person(&b, "identifiers", type, value);
    put_json(&b, "cio_relationships", relationships_json);
    return finish(&b, out);
}

cio_status_t cio_v2_person_add_relationships_request(cio_id_type_t id_type, const char *id_value,
                                                     const char *relationships_json,
                                                     cio_request_t **out) {
    return person_relationships(out, "v2_person_add_relationships", "add_relationships", id_type,
                                id_value, relationships_json);
}

cio_status_t cio_v2_person_delete_relationships_request(cio_id_type_t id_type, const char *id_value,
                                                        const char *relationships_json,
                                                        cio_request_t **out) {
    return person_relationships(out, "v2_person_delete_relationships", "delete_relationships",
                                id_type, id_value, relationships_json);
}

cio_status_t cio_v2_person_merge_request(cio_id_type_t primary_type, const char *primary_value,
                                         cio_id_type_t secondary_type, const char *secondary_value,
                                         cio_request_t **out) {
    const char *call = "v2_person_merge";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_person(call, "primary", primary_type, primary_value);
    if (st == CIO_OK)
        st = check_person(call, "secondary", secondary_type, secondary_value);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "person", "merge", false);
    put_person(&b, "primary", primary_type, primary_value);
    put_person(&b, "secondary", secondary_type, secondary_value);
    return finish(&b, out);
}

/* ---- objects ---- */

/* type_id NULL: object_id is the object's cio_object_id. */
static cio_status_t check_object(const char *call, const char *type_id, const char *object_id) {
    if (type_id == NULL)
        return check_id_as(call, "identifiers", "cio_object_id", object_id);
    cio_status_t st = check_id_as(call, "identifiers", "object_type_id", type_id);
    return st != CIO_OK ? st : check_id_as(call, "identifiers", "object_id", object_id);
}

/* An object's identifiers object: {"cio_object_id":...} or {"object_type_id":...,"object_id":...}
 */
static void put_object_ids(op_builder_t *b, const char *type_id, const char *object_id) {
    if (type_id == NULL) {
        put(b, "{\"cio_object_id\":");
    } else {
        put(b, "{\"object_type_id\":");
        b->ok = b->ok && cio__buf_append_json_string(&b->text, type_id);
        put(b, ",\"object_id\":");
    }
    b->ok = b->ok && cio__buf_append_json_string(&b->text, object_id);
    put(b, "}");
}

static void put_object(op_builder_t *b, const char *type_id, const char *object_id) {
    put(b, ",\"identifiers\":");
    put_object_ids(b, type_id, object_id);
}

static cio_status_t object_simple(cio_request_t **out, const char *call, const char *action,
                                  const char *type_id, const char *object_id, const char *json_key,
                                  const char *json, bool array) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_object(call, type_id, object_id);
    if (st == CIO_OK)
        st = array ? cio__check_json_array(call, "relationships", json)
                   : cio__check_json_object(call, "attributes", json);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "object", action, false);
    b.check_all = array;
    put_object(&b, type_id, object_id);
    put_json(&b, json_key, json);
    return finish(&b, out);
}

cio_status_t cio_v2_object_identify_request(const char *object_type_id, const char *object_id,
                                            const char *attributes_json, cio_request_t **out) {
    return object_simple(out, "v2_object_identify", "identify", object_type_id, object_id,
                         "attributes", attributes_json != NULL ? attributes_json : "{}", false);
}

cio_status_t cio_v2_object_delete_request(const char *object_type_id, const char *object_id,
                                          cio_request_t **out) {
    return object_simple(out, "v2_object_delete", "delete", object_type_id, object_id, NULL, NULL,
                         false);
}

cio_status_t cio_v2_object_add_relationships_request(const char *object_type_id,
                                                     const char *object_id,
                                                     const char *relationships_json,
                                                     cio_request_t **out) {
    return object_simple(out, "v2_object_add_relationships", "add_relationships", object_type_id,
                         object_id, "cio_relationships", relationships_json, true);
}

cio_status_t cio_v2_object_delete_relationships_request(const char *object_type_id,
                                                        const char *object_id,
                                                        const char *relationships_json,
                                                        cio_request_t **out) {
    return object_simple(out, "v2_object_delete_relationships", "delete_relationships",
                         object_type_id, object_id, "cio_relationships", relationships_json, true);
}

cio_status_t cio_v2_object_event_request(const char *object_type_id, const char *object_id,
                                         const char *name, const char *data_json,
                                         const cio_event_options_t *options, cio_request_t **out) {
    const char *call = "v2_object_event";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_object(call, object_type_id, object_id);
    if (st == CIO_OK)
        st = check_event_args(call, "name", name, data_json, options);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "object", "event", options == NULL || options->id == NULL);
    put_object(&b, object_type_id, object_id);
    put_event_fields(&b, name, data_json, options);
    return finish(&b, out);
}

/* ---- deliveries ---- */

cio_status_t cio_v2_delivery_event_request(const char *delivery_id, const char *metric,
                                           const char *data_json,
                                           const cio_event_options_t *options,
                                           cio_request_t **out) {
    const char *call = "v2_delivery_event";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = check_id_as(call, "identifiers", "id", delivery_id);
    if (st == CIO_OK)
        st = check_event_args(call, "metric", metric, data_json, options);
    if (st != CIO_OK)
        return st;
    op_builder_t b;
    begin(&b, call, "delivery", "event", options == NULL || options->id == NULL);
    put(&b, ",\"identifiers\":{\"id\":");
    b.ok = b.ok && cio__buf_append_json_string(&b.text, delivery_id);
    put(&b, "}");
    put_event_fields(&b, metric, data_json, options);
    return finish(&b, out);
}

/* ---- what the builders above do not take ---- */

cio_status_t cio_v2_operation_with_timestamp_request(const cio_request_t *operation,
                                                     int64_t timestamp, cio_request_t **out) {
    const char *call = "v2_operation_with_timestamp";
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    if (operation == NULL || operation->kind != CIO_REQUEST_V2_OPERATION || operation->body == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: operation is not a Track v2 operation (a cio_v2_*_request)", call);
    if (timestamp < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: timestamp is negative", call);
    /* The body is one prepared operation object (from a caller's bytes: maybe with whitespace
     * around it); a second "timestamp" member would leave which one counts to the reader. */
    cio_json_value_t root, present;
    cio_jerror_t err;
    if (!cio__json_scan(operation->body, operation->body_len, &root, &err) ||
        root.kind != CIO_JSON_OBJECT)
        return cio__fail(CIO_E_INTERNAL, "%s: the operation is not a JSON object", call);
    if (cio__jget(&root, "timestamp", &present))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: the operation already has a timestamp", call);
    cio_buf_t text = {0};
    bool ok = cio__buf_append(&text, root.text, root.len - 1) && /* all but its '}' */
              cio__buf_printf(&text, "%s\"timestamp\":%lld}", cio__jcount(&root) > 0 ? "," : "",
                              (long long)timestamp);
    /* validated whole again, as any operation (its size above all) */
    st = ok ? cio__v2_operation_request(call, text.data, out)
            : cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    cio__buf_free(&text);
    return st;
}

cio_status_t cio_v2_relationship_json(const char *object_type_id, const char *object_id,
                                      const char *relationship_attributes_json, char **out) {
    const char *call = "v2_relationship_json";
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: out is NULL", call);
    *out = NULL;
    cio_status_t st = check_object(call, object_type_id, object_id);
    if (st == CIO_OK)
        st = cio__check_json_object(call, "relationship_attributes", relationship_attributes_json);
    if (st != CIO_OK)
        return st;
    op_builder_t b = {.call = call, .ok = true}; /* text on the heap: it is handed out */
    put(&b, "{\"identifiers\":");
    put_object_ids(&b, object_type_id, object_id);
    put_json(&b, "relationship_attributes", relationship_attributes_json);
    put(&b, "}");
    if (!b.ok) {
        cio__buf_free(&b.text);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    }
    *out = b.text.data; /* cio_free() is free() */
    return cio__ok();
}

/* ---- the classic calls: builder + classic executor ---- */

cio_status_t cio_v2_person_identify(cio_client_t *client, cio_id_type_t id_type,
                                    const char *id_value, const char *attributes_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_identify_request, id_type, id_value,
                     attributes_json);
}

cio_status_t cio_v2_person_delete(cio_client_t *client, cio_id_type_t id_type,
                                  const char *id_value) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_delete_request, id_type, id_value);
}

cio_status_t cio_v2_person_suppress(cio_client_t *client, cio_id_type_t id_type,
                                    const char *id_value) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_suppress_request, id_type, id_value);
}

cio_status_t cio_v2_person_unsuppress(cio_client_t *client, cio_id_type_t id_type,
                                      const char *id_value) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_unsuppress_request, id_type, id_value);
}

cio_status_t cio_v2_person_event(cio_client_t *client, cio_id_type_t id_type, const char *id_value,
                                 const char *name, const char *data_json,
                                 const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_event_request, id_type, id_value, name, data_json,
                     options);
}

cio_status_t cio_v2_person_screen(cio_client_t *client, cio_id_type_t id_type, const char *id_value,
                                  const char *screen_name, const char *data_json,
                                  const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_screen_request, id_type, id_value, screen_name,
                     data_json, options);
}

cio_status_t cio_v2_person_page(cio_client_t *client, cio_id_type_t id_type, const char *id_value,
                                const char *url, const char *data_json,
                                const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_page_request, id_type, id_value, url, data_json,
                     options);
}

cio_status_t cio_v2_person_add_device(cio_client_t *client, cio_id_type_t id_type,
                                      const char *id_value, const char *token, const char *platform,
                                      int64_t last_used, const char *attributes_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_add_device_request, id_type, id_value, token,
                     platform, last_used, attributes_json);
}

cio_status_t cio_v2_person_add_device_fields(cio_client_t *client, cio_id_type_t id_type,
                                             const char *id_value, const char *token,
                                             const char *platform, const char *fields_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_add_device_fields_request, id_type, id_value,
                     token, platform, fields_json);
}

cio_status_t cio_v2_person_delete_device(cio_client_t *client, cio_id_type_t id_type,
                                         const char *id_value, const char *token) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_delete_device_request, id_type, id_value, token);
}

cio_status_t cio_v2_person_add_relationships(cio_client_t *client, cio_id_type_t id_type,
                                             const char *id_value, const char *relationships_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_add_relationships_request, id_type, id_value,
                     relationships_json);
}

cio_status_t cio_v2_person_delete_relationships(cio_client_t *client, cio_id_type_t id_type,
                                                const char *id_value,
                                                const char *relationships_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_delete_relationships_request, id_type, id_value,
                     relationships_json);
}

cio_status_t cio_v2_person_merge(cio_client_t *client, cio_id_type_t primary_type,
                                 const char *primary_value, cio_id_type_t secondary_type,
                                 const char *secondary_value) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_person_merge_request, primary_type, primary_value,
                     secondary_type, secondary_value);
}

cio_status_t cio_v2_object_identify(cio_client_t *client, const char *object_type_id,
                                    const char *object_id, const char *attributes_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_object_identify_request, object_type_id, object_id,
                     attributes_json);
}

cio_status_t cio_v2_object_delete(cio_client_t *client, const char *object_type_id,
                                  const char *object_id) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_object_delete_request, object_type_id, object_id);
}

cio_status_t cio_v2_object_add_relationships(cio_client_t *client, const char *object_type_id,
                                             const char *object_id,
                                             const char *relationships_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_object_add_relationships_request, object_type_id,
                     object_id, relationships_json);
}

cio_status_t cio_v2_object_delete_relationships(cio_client_t *client, const char *object_type_id,
                                                const char *object_id,
                                                const char *relationships_json) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_object_delete_relationships_request, object_type_id,
                     object_id, relationships_json);
}

cio_status_t cio_v2_object_event(cio_client_t *client, const char *object_type_id,
                                 const char *object_id, const char *name, const char *data_json,
                                 const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_object_event_request, object_type_id, object_id, name,
                     data_json, options);
}

cio_status_t cio_v2_delivery_event(cio_client_t *client, const char *delivery_id,
                                   const char *metric, const char *data_json,
                                   const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_v2_delivery_event_request, delivery_id, metric, data_json,
                     options);
}
