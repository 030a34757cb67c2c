/*
 * One import record -> one Track v2 request (the record format is in cli/README.md).
 *
 * The record's fields are read and checked here (the CLI's input format); the operation itself is
 * written by the core's builder for the record's type (cio_v2_*_request, customerio/track_v2.h),
 * which also validates and prepares it; a timestamp the builder does not take (an operation other
 * than an event, or 0) and a person's relationship given as object_type_id and object_id are
 * written by the core too (cio_v2_operation_with_timestamp_request, cio_v2_relationship_json).
 */
#include "operation.h"

#include "jsonw.h"
#include "util.h"
#include "values.h"

#include <customerio/customerio.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *fail(op_error_t *e, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void *fail(op_error_t *e, const char *reason, const char *field, const char *fmt, ...) {
    e->reason = reason;
    e->status = CIO_OK;
    snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return NULL;
}

/* The core refused what the record asked for (a builder, as the pipeline did at enqueue). */
static void *core_fail(op_error_t *e, cio_status_t st) {
    e->reason = cio_status_str(st);
    e->status = st;
    e->field[0] = '\0';
    snprintf(e->message, sizeof(e->message), "%s", cio_last_error()->message);
    if (e->message[0] == '\0') {
        snprintf(e->message, sizeof(e->message), "%s", e->reason);
    }
    return NULL;
}

/* Takes r[key] out of r (a new reference the caller owns), or NULL. */
static json_t *take(json_t *r, const char *key) {
    json_t *v = json_object_get(r, key);
    if (v != NULL) {
        json_incref(v);
        json_object_del(r, key);
    }
    return v;
}

static bool is_id_value(const json_t *v) {
    return (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
}

/* An id as the builders take it: a string's text, an integer's decimal digits (in digits), else
 * NULL (the builder then refuses it: "... must be a string", as the core's validator words it). */
static const char *id_text(const json_t *v, char digits[24]) {
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_integer(v)) {
        snprintf(digits, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return digits;
    }
    return NULL;
}

/* A person as the builders take it. */
typedef struct person {
    cio_id_type_t type;
    const char *value; /* into the record's JSON or digits */
    char digits[24];
} person_t;

/* ids: the record's identifiers object (kept alive by the caller while p is used). An integer
 * "id" stays an integer on the wire (CIO_ID_TYPE_ID_INTEGER). */
static int person_of(const json_t *ids, const char *what, person_t *p, op_error_t *e) {
    static const struct {
        const char *key;
        cio_id_type_t type;
    } keys[] = {
        {"id", CIO_ID_TYPE_ID}, {"email", CIO_ID_TYPE_EMAIL}, {"cio_id", CIO_ID_TYPE_CIO_ID}};
    for (size_t i = 0; json_object_size(ids) == 1 && i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(ids, keys[i].key);
        if (v == NULL) {
            continue;
        }
        p->type = keys[i].type;
        p->value = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v) && p->type == CIO_ID_TYPE_ID) {
            p->type = CIO_ID_TYPE_ID_INTEGER;
            p->value = id_text(v, p->digits);
        }
        return 0;
    }
    fail(e, "bad_field", what, "%s must have exactly one of id, email, cio_id", what);
    return -1;
}

/* Person identifiers: the record's identifiers object, or its id / cio_id / email. */
static json_t *person_identifiers(json_t *r, op_error_t *e) {
    json_t *ids = take(r, "identifiers");
    if (ids != NULL) {
        if (!json_is_object(ids)) {
            json_decref(ids);
            return fail(e, "bad_field", "identifiers", "identifiers must be an object");
        }
        return ids;
    }
    json_t *id = json_object_get(r, "id"), *cio_id = json_object_get(r, "cio_id");
    if (id != NULL && cio_id != NULL) {
        return fail(e, "bad_field", "cio_id", "give one of id and cio_id, not both");
    }
    const char *key = id != NULL ? "id" : cio_id != NULL ? "cio_id" : "email";
    json_t *v = take(r, key);
    if (v == NULL) {
        return fail(e, "missing_identifier", "id", "the person has no id, email or cio_id");
    }
    if (!is_id_value(v)) {
        json_decref(v);
        return fail(e, "bad_field", key, "%s must be a non-empty string%s", key,
                    strcmp(key, "email") == 0 ? "" : " or an integer");
    }
    ids = json_object();
    json_object_set_new(ids, key, v);
    return ids;
}

/* The record's object identifiers: its identifiers object, cio_object_id, or object_type_id and
 * object_id. Kept as JSON: a person's relationship to the object carries them as they are. */
static json_t *object_identifiers(json_t *r, op_error_t *e) {
    json_t *ids = take(r, "identifiers");
    if (ids != NULL) {
        if (!json_is_object(ids)) {
            json_decref(ids);
            return fail(e, "bad_field", "identifiers", "identifiers must be an object");
        }
        return ids;
    }
    json_t *cio_object_id = take(r, "cio_object_id");
    if (cio_object_id != NULL) {
        ids = json_object();
        json_object_set_new(ids, "cio_object_id", cio_object_id);
        return ids;
    }
    json_t *type = take(r, "object_type_id"), *id = take(r, "object_id");
    if (!is_id_value(type) || !is_id_value(id)) {
        json_decref(type);
        json_decref(id);
        return fail(e, "missing_identifier", type == NULL ? "object_type_id" : "object_id",
                    "an object needs object_type_id and object_id (or cio_object_id)");
    }
    ids = json_object();
    json_object_set_new(ids, "object_type_id", type);
    json_object_set_new(ids, "object_id", id);
    return ids;
}

/* An object as the builders take it (type_id NULL: id is the cio_object_id). An integer id is
 * given as its digits. */
typedef struct object_ref {
    const char *type_id, *id;
    char type_digits[24], id_digits[24];
} object_ref_t;

static int object_of(const json_t *ids, object_ref_t *o, op_error_t *e) {
    const json_t *cio_object_id = json_object_get(ids, "cio_object_id");
    const json_t *type = json_object_get(ids, "object_type_id");
    const json_t *id = json_object_get(ids, "object_id");
    if (cio_object_id != NULL && json_object_size(ids) == 1) {
        o->type_id = NULL;
        o->id = json_is_string(cio_object_id) ? json_string_value(cio_object_id) : NULL;
        return 0;
    }
    if (type != NULL && id != NULL && json_object_size(ids) == 2) {
        o->type_id = id_text(type, o->type_digits);
        o->id = id_text(id, o->id_digits);
        if (o->type_id != NULL) { /* NULL would mean a cio_object_id to the builders */
            return 0;
        }
    }
    fail(e, "bad_field", "identifiers",
         "an object's identifiers are object_type_id and object_id (a string or an integer each), "
         "or cio_object_id");
    return -1;
}

/* The one relationship of a person record given as object_type_id and object_id (and
 * relationship_attributes), written by the core: the relationships array as JSON text. */
static char *related_object(json_t *r, op_error_t *e) {
    object_ref_t o;
    json_t *ids = object_identifiers(r, e);
    if (ids == NULL || object_of(ids, &o, e) != 0) {
        json_decref(ids);
        return NULL;
    }
    json_t *attrs = take(r, "relationship_attributes");
    char *attrs_text = attrs != NULL ? jw_dumps(attrs, 0) : NULL;
    json_decref(attrs);
    char *item = NULL;
    cio_status_t st = cio_v2_relationship_json(o.type_id, o.id, attrs_text, &item);
    free(attrs_text);
    json_decref(ids); /* o points into it */
    if (st != CIO_OK) {
        return core_fail(e, st);
    }
    sbuf_t b = {0};
    sb_printf(&b, "[%s]", item);
    cio_free(item);
    return sb_take(&b);
}

/* Relationships: the record's relationships (or cio_relationships), or for a person one object
 * given by object_type_id and object_id (and relationship_attributes). The array as JSON text. */
static char *relationships(json_t *r, bool of_person, op_error_t *e) {
    json_t *rels = take(r, "relationships");
    json_t *other = take(r, "cio_relationships");
    if (rels != NULL && other != NULL) {
        json_decref(rels);
        json_decref(other);
        return fail(e, "bad_field", "relationships",
                    "give relationships or cio_relationships, not both");
    }
    rels = rels != NULL ? rels : other;
    if (rels == NULL && of_person && json_object_get(r, "object_id") != NULL) {
        return related_object(r, e);
    }
    if (rels != NULL && json_is_string(rels)) {
        /* CSV: a column of JSON text */
        json_error_t error;
        json_t *parsed = json_loads(json_string_value(rels), 0, &error);
        json_decref(rels);
        rels = parsed;
    }
    if (!json_is_array(rels) || json_array_size(rels) == 0) {
        json_decref(rels);
        return fail(e, "missing_field", "relationships",
                    "relationships must be a non-empty array%s",
                    of_person ? " (or give object_type_id and object_id)" : "");
    }
    char *text = jw_dumps(rels, 0);
    json_decref(rels);
    return text;
}

/* The record's device: {token, platform, last_used?, attributes?}. */
typedef struct device {
    json_t *obj;
    const char *token, *platform; /* NULL when absent: the builder refuses it */
    int64_t last_used;            /* 0 = none */
    char *attributes;             /* JSON text or NULL */
} device_t;

static int device(json_t *r, device_t *d, op_error_t *e) {
    d->obj = take(r, "device");
    if (!json_is_object(d->obj)) {
        fail(e, d->obj == NULL ? "missing_field" : "bad_field", "device",
             "device must be an object with a token (CSV: columns device.token, "
             "device.platform)");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(d->obj, key, v) {
        if (strcmp(key, "token") == 0 || strcmp(key, "platform") == 0) {
            if (!json_is_string(v)) {
                fail(e, "bad_field", "device", "device.%s must be a string", key);
                return -1;
            }
            *(key[0] == 't' ? &d->token : &d->platform) = json_string_value(v);
        } else if (strcmp(key, "last_used") == 0) {
            int64_t t = -1;
            if (json_is_integer(v)) {
                t = json_integer_value(v);
            } else if (!json_is_string(v) || value_parse_time(json_string_value(v), &t) != 0) {
                t = -1;
            }
            if (t < 0) {
                fail(e, "bad_field", "device.last_used",
                     "device.last_used must be unix seconds or an ISO 8601 date");
                return -1;
            }
            d->last_used = t;
        } else if (strcmp(key, "attributes") == 0) {
            if (!json_is_object(v)) {
                fail(e, "bad_field", "device.attributes", "device.attributes must be an object");
                return -1;
            }
            d->attributes = jw_dumps(v, 0);
        } else {
            fail(e, "unexpected_field", "device",
                 "device field '%s' is not one of token, platform, last_used, attributes", key);
            return -1;
        }
    }
    return 0;
}

/* The record's timestamp in *t; 0 when it has none, -1 (err filled) when it is invalid, 1. */
static int timestamp(json_t *r, int64_t *t, op_error_t *e) {
    json_t *ts = take(r, "timestamp");
    if (ts == NULL) {
        return 0;
    }
    *t = -1;
    if (json_is_integer(ts)) {
        *t = json_integer_value(ts);
    } else if (json_is_string(ts) && value_parse_time(json_string_value(ts), t) != 0) {
        *t = -1;
    }
    json_decref(ts);
    if (*t < 0) {
        fail(e, "bad_field", "timestamp",
             "timestamp must be unix seconds or an ISO 8601 date (2024-05-01T12:00:00Z)");
        return -1;
    }
    return 1;
}

/* The attributes: "attributes" merged with every field left in r. */
static json_t *take_attributes(json_t *r, op_error_t *e) {
    json_t *attrs = take(r, "attributes");
    if (attrs != NULL && !json_is_object(attrs)) {
        json_decref(attrs);
        return fail(e, "bad_field", "attributes", "attributes must be an object");
    }
    if (attrs == NULL) {
        attrs = json_object();
    }
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v) {
        if (json_object_get(attrs, key) != NULL) {
            json_decref(attrs);
            return fail(e, "bad_field", key, "attribute '%s' is given twice", key);
        }
        json_object_set(attrs, key, v);
    }
    json_object_clear(r);
    return attrs;
}

/* The typed-columns set of a CSV record, as attribute names. */
static json_t *typed_attributes(const json_t *typed) {
    if (typed == NULL) {
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)typed, key, v) {
        const char *name = strncmp(key, "attributes.", 11) == 0 ? key + 11 : key;
        json_object_set_new(out, name, json_true());
    }
    return out;
}

static void *schema_fail(op_error_t *e, const schema_error_t *se) {
    e->reason = se->reason;
    e->status = CIO_OK;
    snprintf(e->field, sizeof(e->field), "%s", se->field);
    snprintf(e->message, sizeof(e->message), "%s", se->message);
    return NULL;
}

/* The record's timestamp on an operation whose builder took none (consumes req). */
static cio_request_t *add_timestamp(cio_request_t *req, int64_t t, op_error_t *e) {
    cio_request_t *with = NULL;
    cio_status_t st = cio_v2_operation_with_timestamp_request(req, t, &with);
    cio_request_free(req);
    return st != CIO_OK ? core_fail(e, st) : with;
}

/* What the builders are given, gathered from the record; owned here until the build. */
typedef struct parts {
    json_t *ids, *primary, *secondary, *name, *event_id;
    person_t person, first, second;
    object_ref_t object;
    const char *delivery_id;
    bool has_timestamp;
    int64_t timestamp;
    device_t device;
    char *rels, *attrs;
} parts_t;

static void parts_free(parts_t *p) {
    json_decref(p->ids);
    json_decref(p->primary);
    json_decref(p->secondary);
    json_decref(p->name);
    json_decref(p->event_id);
    json_decref(p->device.obj);
    free(p->device.attributes);
    free(p->rels);
    free(p->attrs);
}

/* The record's identifiers (people, objects, deliveries; merge: primary and secondary). */
static int gather_ids(json_t *r, const record_type_t *t, const schema_t *schema, parts_t *p,
                      op_error_t *e) {
    schema_error_t se;
    if (t->flags & RT_MERGE) {
        p->primary = take(r, "primary");
        p->secondary = take(r, "secondary");
        if (!json_is_object(p->primary) || !json_is_object(p->secondary)) {
            fail(e, "missing_field", "primary",
                 "a merge needs primary and secondary objects, e.g. {\"id\": \"1\"}");
            return -1;
        }
        return person_of(p->primary, "primary", &p->first, e) != 0 ||
                       person_of(p->secondary, "secondary", &p->second, e) != 0
                   ? -1
                   : 0;
    }
    if (t->flags & RT_DELIVERY) {
        p->ids = take(r, "delivery_id");
        if (!is_id_value(p->ids)) {
            fail(e, "missing_identifier", "delivery_id", "a delivery event needs a delivery_id");
            return -1;
        }
        /* an integer delivery_id goes as NULL: refused by the builder, as by the core before */
        p->delivery_id = json_string_value(p->ids);
        return 0;
    }
    if (t->flags & RT_OBJECT) {
        p->ids = object_identifiers(r, e);
        return p->ids == NULL ? -1 : object_of(p->ids, &p->object, e);
    }
    p->ids = person_identifiers(r, e);
    if (p->ids == NULL) {
        return -1;
    }
    if (schema_apply_email_identifier(schema, p->ids, &se) != 0) {
        schema_fail(e, &se);
        return -1;
    }
    return person_of(p->ids, "identifiers", &p->person, e);
}

/* The record's fields into p, checked, in the order their errors are reported. */
static int gather(json_t *r, const record_type_t *t, const schema_t *schema, bool from_csv,
                  const json_t *typed, parts_t *p, op_error_t *e) {
    if (gather_ids(r, t, schema, p, e) != 0) {
        return -1;
    }
    if (t->flags & RT_NAME) {
        json_t *n = take(r, "name");
        json_t *alias = t->name_alias != NULL ? take(r, t->name_alias) : NULL;
        if (n != NULL && alias != NULL) {
            json_decref(n);
            json_decref(alias);
            fail(e, "bad_field", "name", "give name or %s, not both", t->name_alias);
            return -1;
        }
        p->name = n != NULL ? n : alias;
        if (!json_is_string(p->name) || json_string_length(p->name) == 0) {
            fail(e, "missing_field", "name", "a%s %s record needs a name%s%s%s",
                 t->name[0] == 'e' || t->name[0] == 'o' ? "n" : "", t->name,
                 t->name_alias != NULL ? " (or " : "", t->name_alias != NULL ? t->name_alias : "",
                 t->name_alias != NULL ? ")" : "");
            return -1;
        }
    }
    if (t->flags & RT_EVENT) {
        p->event_id = take(r, "event_id");
        if (p->event_id != NULL &&
            !(json_is_string(p->event_id) && json_string_length(p->event_id) > 0)) {
            fail(e, "bad_field", "event_id", "event_id must be a non-empty string");
            return -1;
        }
    }
    int ts = timestamp(r, &p->timestamp, e);
    if (ts < 0) {
        return -1;
    }
    p->has_timestamp = ts > 0;
    if ((t->flags & RT_DEVICE) && device(r, &p->device, e) != 0) {
        return -1;
    }
    if (t->flags & RT_RELS) {
        p->rels = relationships(r, !(t->flags & RT_OBJECT), e);
        if (p->rels == NULL) {
            return -1;
        }
    }
    if (t->flags & RT_ATTRS) {
        json_t *attrs = take_attributes(r, e);
        if (attrs == NULL) {
            return -1;
        }
        json_t *typed_attrs = typed_attributes(typed);
        schema_error_t se;
        int rc = schema_apply(schema, t->flags & RT_OBJECT ? "object" : t->name,
                              json_string_value(p->name), attrs, from_csv, typed_attrs, &se);
        json_decref(typed_attrs);
        if (rc == 0 && json_object_size(attrs) > 0) {
            p->attrs = jw_dumps(attrs, 0);
        }
        json_decref(attrs);
        if (rc != 0) {
            schema_fail(e, &se);
            return -1;
        }
    } else if (json_object_size(r) > 0) {
        const char *key = NULL;
        json_t *v;
        json_object_foreach(r, key, v) {
            break;
        }
        fail(e, "unexpected_field", key, "field '%s' does not belong in a %s record", key, t->name);
        return -1;
    }
    return 0;
}

/* The core's builder for the record's type. */
static cio_status_t build(const record_type_t *t, const parts_t *p, cio_request_t **req) {
    cio_event_options_t opts = CIO_EVENT_OPTIONS_INIT;
    opts.timestamp = p->has_timestamp ? p->timestamp : 0;
    opts.id = json_string_value(p->event_id);
    const person_t *who = &p->person;
    const object_ref_t *o = &p->object;
    const char *name = json_string_value(p->name);
    switch (t->kind) {
    case RK_IDENTIFY:
        return cio_v2_person_identify_request(who->type, who->value, p->attrs, req);
    case RK_EVENT:
        return cio_v2_person_event_request(who->type, who->value, name, p->attrs, &opts, req);
    case RK_PAGE:
        return cio_v2_person_page_request(who->type, who->value, name, p->attrs, &opts, req);
    case RK_SCREEN:
        return cio_v2_person_screen_request(who->type, who->value, name, p->attrs, &opts, req);
    case RK_DELETE:
        return cio_v2_person_delete_request(who->type, who->value, req);
    case RK_DEVICE:
        return cio_v2_person_add_device_request(who->type, who->value, p->device.token,
                                                p->device.platform, p->device.last_used,
                                                p->device.attributes, req);
    case RK_DELETE_DEVICE:
        return cio_v2_person_delete_device_request(who->type, who->value, p->device.token, req);
    case RK_SUPPRESS:
        return cio_v2_person_suppress_request(who->type, who->value, req);
    case RK_UNSUPPRESS:
        return cio_v2_person_unsuppress_request(who->type, who->value, req);
    case RK_RELATIONSHIPS:
        return cio_v2_person_add_relationships_request(who->type, who->value, p->rels, req);
    case RK_DELETE_RELATIONSHIPS:
        return cio_v2_person_delete_relationships_request(who->type, who->value, p->rels, req);
    case RK_MERGE:
        return cio_v2_person_merge_request(p->first.type, p->first.value, p->second.type,
                                           p->second.value, req);
    case RK_OBJECT:
        return cio_v2_object_identify_request(o->type_id, o->id, p->attrs, req);
    case RK_OBJECT_DELETE:
        return cio_v2_object_delete_request(o->type_id, o->id, req);
    case RK_OBJECT_EVENT:
        return cio_v2_object_event_request(o->type_id, o->id, name, p->attrs, &opts, req);
    case RK_OBJECT_RELATIONSHIPS:
        return cio_v2_object_add_relationships_request(o->type_id, o->id, p->rels, req);
    case RK_OBJECT_DELETE_RELATIONSHIPS:
        return cio_v2_object_delete_relationships_request(o->type_id, o->id, p->rels, req);
    case RK_DELIVERY_EVENT:
        return cio_v2_delivery_event_request(p->delivery_id, name, p->attrs, &opts, req);
    }
    return CIO_E_INTERNAL;
}

cio_request_t *op_from_record(record_t *rec, const char *default_type, const schema_t *schema,
                              op_error_t *e) {
    json_t *r = rec->value;
    json_t *type_v = take(r, "type");
    const char *type = json_is_string(type_v) ? json_string_value(type_v) : default_type;
    cio_request_t *req = NULL;
    schema_error_t se;
    const record_type_t *t = type != NULL ? record_type_find(type) : NULL;
    if (type_v != NULL && !json_is_string(type_v)) {
        fail(e, "bad_field", "type", "type must be a string");
    } else if (type == NULL) {
        fail(e, "missing_type", "type", "the record has no type (and no --type was given)");
    } else if (t == NULL) {
        fail(e, "unknown_type", "type", "unknown record type '%s' (%s)", type, record_type_list());
    } else if (schema_check_type(schema, t->name, &se) != 0) {
        schema_fail(e, &se);
    } else {
        parts_t p = {0};
        if (gather(r, t, schema, rec->from_csv, rec->typed, &p, e) == 0) {
            cio_status_t st = build(t, &p, &req);
            if (st != CIO_OK) {
                req = core_fail(e, st);
            } else if (p.has_timestamp && (!(t->flags & RT_EVENT) || p.timestamp == 0)) {
                /* an event's options carry its timestamp, unless it is 0 (there: none) */
                req = add_timestamp(req, p.timestamp, e);
            }
        }
        parts_free(&p);
    }
    json_decref(type_v);
    return req;
}
