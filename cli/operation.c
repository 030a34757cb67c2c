/* One import record -> one Track v2 operation (the record format is in cli/README.md). */
#include "operation.h"

#include "jsonw.h"
#include "util.h"
#include "values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_ATTRS = 1 << 0,    /* takes attributes (other fields become attributes) */
    F_NAME = 1 << 1,     /* needs a name */
    F_EVENT = 1 << 2,    /* an event: event_id */
    F_DEVICE = 1 << 3,   /* a device object */
    F_RELS = 1 << 4,     /* relationships */
    F_MERGE = 1 << 5,    /* primary and secondary instead of identifiers */
    F_OBJECT = 1 << 6,   /* object identifiers */
    F_DELIVERY = 1 << 7, /* delivery identifiers */
};

typedef struct rtype {
    const char *name;
    const char *v2type;
    const char *action;
    unsigned flags;
    const char *name_alias; /* another field that may carry the name */
} rtype_t;

static const rtype_t types[] = {
    {"identify", "person", "identify", F_ATTRS, NULL},
    {"event", "person", "event", F_ATTRS | F_NAME | F_EVENT, "event"},
    {"page", "person", "page", F_ATTRS | F_NAME | F_EVENT, "url"},
    {"screen", "person", "screen", F_ATTRS | F_NAME | F_EVENT, "screen"},
    {"delete", "person", "delete", 0, NULL},
    {"device", "person", "add_device", F_DEVICE, NULL},
    {"delete_device", "person", "delete_device", F_DEVICE, NULL},
    {"suppress", "person", "suppress", 0, NULL},
    {"unsuppress", "person", "unsuppress", 0, NULL},
    {"relationships", "person", "add_relationships", F_RELS, NULL},
    {"delete_relationships", "person", "delete_relationships", F_RELS, NULL},
    {"merge", "person", "merge", F_MERGE, NULL},
    {"object", "object", "identify", F_OBJECT | F_ATTRS, NULL},
    {"object_delete", "object", "delete", F_OBJECT, NULL},
    {"object_event", "object", "event", F_OBJECT | F_ATTRS | F_NAME | F_EVENT, "event"},
    {"object_relationships", "object", "add_relationships", F_OBJECT | F_RELS, NULL},
    {"object_delete_relationships", "object", "delete_relationships", F_OBJECT | F_RELS, NULL},
    {"delivery_event", "delivery", "event", F_DELIVERY | F_ATTRS | F_NAME | F_EVENT, "metric"},
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

static const rtype_t *find_type(const char *name) {
    for (size_t i = 0; i < N_TYPES; i++) {
        if (strcmp(types[i].name, name) == 0) {
            return &types[i];
        }
    }
    return NULL;
}

bool op_type_known(const char *name) {
    return find_type(name) != NULL;
}

const char *op_type_list(void) {
    static char list[512];
    if (list[0] == '\0') {
        size_t o = 0;
        for (size_t i = 0; i < N_TYPES && o < sizeof(list); i++) {
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i == 0 ? "" : ", ",
                                  types[i].name);
        }
    }
    return list;
}

static char *fail(op_error_t *e, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static char *fail(op_error_t *e, const char *reason, const char *field, const char *fmt, ...) {
    e->reason = reason;
    snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
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

/* Person identifiers from "identifiers", or id / cio_id / email. */
static json_t *person_identifiers(json_t *r, op_error_t *e) {
    json_t *ids = take(r, "identifiers");
    if (ids != NULL) {
        if (!json_is_object(ids)) {
            json_decref(ids);
            fail(e, "bad_field", "identifiers", "identifiers must be an object");
            return NULL;
        }
        return ids;
    }
    json_t *id = json_object_get(r, "id"), *cio_id = json_object_get(r, "cio_id");
    if (id != NULL && cio_id != NULL) {
        fail(e, "bad_field", "cio_id", "give one of id and cio_id, not both");
        return NULL;
    }
    const char *key = id != NULL ? "id" : cio_id != NULL ? "cio_id" : "email";
    json_t *v = take(r, key);
    if (v == NULL) {
        fail(e, "missing_identifier", "id", "the person has no id, email or cio_id");
        return NULL;
    }
    if (!is_id_value(v)) {
        json_decref(v);
        fail(e, "bad_field", key, "%s must be a non-empty string%s", key,
             strcmp(key, "email") == 0 ? "" : " or an integer");
        return NULL;
    }
    ids = json_object();
    json_object_set_new(ids, key, v);
    return ids;
}

static json_t *object_identifiers(json_t *r, op_error_t *e) {
    json_t *ids = take(r, "identifiers");
    if (ids != NULL) {
        if (!json_is_object(ids)) {
            json_decref(ids);
            fail(e, "bad_field", "identifiers", "identifiers must be an object");
            return NULL;
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
        fail(e, "missing_identifier", type == NULL ? "object_type_id" : "object_id",
             "an object needs object_type_id and object_id (or cio_object_id)");
        return NULL;
    }
    ids = json_object();
    json_object_set_new(ids, "object_type_id", type);
    json_object_set_new(ids, "object_id", id);
    return ids;
}

/* Relationships: "relationships" (or "cio_relationships"), or for a person one object given by
 * object_type_id and object_id (with "relationship_attributes"). */
static json_t *relationships(json_t *r, bool of_person, op_error_t *e) {
    json_t *rels = take(r, "relationships");
    json_t *other = take(r, "cio_relationships");
    if (rels != NULL && other != NULL) {
        json_decref(rels);
        json_decref(other);
        fail(e, "bad_field", "relationships", "give relationships or cio_relationships, not both");
        return NULL;
    }
    rels = rels != NULL ? rels : other;
    if (rels == NULL && of_person && json_object_get(r, "object_id") != NULL) {
        json_t *ids = object_identifiers(r, e);
        if (ids == NULL) {
            return NULL;
        }
        json_t *rel = json_object();
        json_object_set_new(rel, "identifiers", ids);
        json_t *attrs = take(r, "relationship_attributes");
        if (attrs != NULL) {
            json_object_set_new(rel, "relationship_attributes", attrs);
        }
        rels = json_array();
        json_array_append_new(rels, rel);
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
        fail(e, "missing_field", "relationships", "relationships must be a non-empty array%s",
             of_person ? " (or give object_type_id and object_id)" : "");
        return NULL;
    }
    return rels;
}

static json_t *device(json_t *r, bool from_csv, op_error_t *e) {
    json_t *dev = take(r, "device");
    if (!json_is_object(dev)) {
        json_decref(dev);
        fail(e, dev == NULL ? "missing_field" : "bad_field", "device",
             "device must be an object with a token (CSV: columns device.token, "
             "device.platform)");
        return NULL;
    }
    json_t *last_used = json_object_get(dev, "last_used");
    if (from_csv && json_is_string(last_used)) {
        int64_t t;
        if (value_parse_time(json_string_value(last_used), &t) != 0) {
            json_decref(dev);
            fail(e, "bad_field", "device.last_used",
                 "device.last_used must be unix seconds or an ISO 8601 date");
            return NULL;
        }
        json_object_set_new(dev, "last_used", json_integer((json_int_t)t));
    }
    return dev;
}

static int timestamp(json_t *r, json_t *op, op_error_t *e) {
    json_t *ts = take(r, "timestamp");
    if (ts == NULL) {
        return 0;
    }
    int64_t t = -1;
    if (json_is_integer(ts)) {
        t = json_integer_value(ts);
    } else if (json_is_string(ts) && value_parse_time(json_string_value(ts), &t) != 0) {
        t = -1;
    }
    json_decref(ts);
    if (t < 0) {
        fail(e, "bad_field", "timestamp",
             "timestamp must be unix seconds or an ISO 8601 date (2024-05-01T12:00:00Z)");
        return -1;
    }
    json_object_set_new(op, "timestamp", json_integer((json_int_t)t));
    return 0;
}

/* The attributes: "attributes" merged with every field left in r. */
static json_t *attributes(json_t *r, op_error_t *e) {
    json_t *attrs = take(r, "attributes");
    if (attrs != NULL && !json_is_object(attrs)) {
        json_decref(attrs);
        fail(e, "bad_field", "attributes", "attributes must be an object");
        return NULL;
    }
    if (attrs == NULL) {
        attrs = json_object();
    }
    const char *key;
    json_t *v;
    json_object_foreach(r, key, v) {
        if (json_object_get(attrs, key) != NULL) {
            json_decref(attrs);
            fail(e, "bad_field", key, "attribute '%s' is given twice", key);
            return NULL;
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

static char *schema_fail(op_error_t *e, const schema_error_t *se) {
    e->reason = se->reason;
    snprintf(e->field, sizeof(e->field), "%s", se->field);
    snprintf(e->message, sizeof(e->message), "%s", se->message);
    return NULL;
}

static char *build(json_t *r, const rtype_t *t, const schema_t *schema, bool from_csv,
                   const json_t *typed, json_t *op, op_error_t *e) {
    schema_error_t se;
    json_object_set_new(op, "type", json_string(t->v2type));
    json_object_set_new(op, "action", json_string(t->action));
    if (t->flags & F_MERGE) {
        json_t *primary = take(r, "primary"), *secondary = take(r, "secondary");
        bool ok = json_is_object(primary) && json_is_object(secondary);
        if (ok) {
            json_object_set_new(op, "primary", primary);
            json_object_set_new(op, "secondary", secondary);
        } else {
            json_decref(primary);
            json_decref(secondary);
            return fail(e, "missing_field", "primary",
                        "a merge needs primary and secondary objects, e.g. {\"id\": \"1\"}");
        }
    } else {
        json_t *ids = t->flags & F_OBJECT     ? object_identifiers(r, e)
                      : t->flags & F_DELIVERY ? NULL
                                              : person_identifiers(r, e);
        if (t->flags & F_DELIVERY) {
            json_t *id = take(r, "delivery_id");
            if (!is_id_value(id)) {
                json_decref(id);
                return fail(e, "missing_identifier", "delivery_id",
                            "a delivery event needs a delivery_id");
            }
            ids = json_object();
            json_object_set_new(ids, "id", id);
        }
        if (ids == NULL) {
            return NULL;
        }
        json_object_set_new(op, "identifiers", ids);
        if (!(t->flags & (F_OBJECT | F_DELIVERY)) &&
            schema_apply_email_identifier(schema, ids, &se) != 0) {
            return schema_fail(e, &se);
        }
    }
    const char *name = NULL;
    if (t->flags & F_NAME) {
        json_t *n = take(r, "name");
        json_t *alias = t->name_alias != NULL ? take(r, t->name_alias) : NULL;
        if (n != NULL && alias != NULL) {
            json_decref(n);
            json_decref(alias);
            return fail(e, "bad_field", "name", "give name or %s, not both", t->name_alias);
        }
        n = n != NULL ? n : alias;
        if (!json_is_string(n) || json_string_length(n) == 0) {
            json_decref(n);
            return fail(e, "missing_field", "name", "a%s %s record needs a name%s%s%s",
                        t->name[0] == 'e' || t->name[0] == 'o' ? "n" : "", t->name,
                        t->name_alias != NULL ? " (or " : "",
                        t->name_alias != NULL ? t->name_alias : "",
                        t->name_alias != NULL ? ")" : "");
        }
        json_object_set_new(op, "name", n);
        name = json_string_value(n);
    }
    if (t->flags & F_EVENT) {
        json_t *id = take(r, "event_id");
        if (id != NULL && !(json_is_string(id) && json_string_length(id) > 0)) {
            json_decref(id);
            return fail(e, "bad_field", "event_id", "event_id must be a non-empty string");
        }
        if (id != NULL) {
            json_object_set_new(op, "id", id);
        }
    }
    if (timestamp(r, op, e) != 0) {
        return NULL;
    }
    if (t->flags & F_DEVICE) {
        json_t *dev = device(r, from_csv, e);
        if (dev == NULL) {
            return NULL;
        }
        json_object_set_new(op, "device", dev);
    }
    if (t->flags & F_RELS) {
        json_t *rels = relationships(r, !(t->flags & F_OBJECT), e);
        if (rels == NULL) {
            return NULL;
        }
        json_object_set_new(op, "cio_relationships", rels);
    }
    if (t->flags & F_ATTRS) {
        json_t *attrs = attributes(r, e);
        if (attrs == NULL) {
            return NULL;
        }
        json_t *typed_attrs = typed_attributes(typed);
        int rc = schema_apply(schema, t->flags & F_OBJECT ? "object" : t->name, name, attrs,
                              from_csv, typed_attrs, &se);
        json_decref(typed_attrs);
        if (rc != 0) {
            json_decref(attrs);
            return schema_fail(e, &se);
        }
        if (json_object_size(attrs) > 0) {
            json_object_set_new(op, "attributes", attrs);
        } else {
            json_decref(attrs);
        }
    } else if (json_object_size(r) > 0) {
        const char *key = NULL;
        json_t *v;
        json_object_foreach(r, key, v) {
            break;
        }
        return fail(e, "unexpected_field", key, "field '%s' does not belong in a %s record", key,
                    t->name);
    }
    return jw_dumps(op, 0);
}

char *op_from_record(record_t *rec, const char *default_type, const schema_t *schema,
                     op_error_t *e) {
    json_t *r = rec->value;
    json_t *type_v = take(r, "type");
    const char *type = json_is_string(type_v) ? json_string_value(type_v) : default_type;
    char *out = NULL;
    schema_error_t se;
    const rtype_t *t = type != NULL ? find_type(type) : NULL;
    if (type_v != NULL && !json_is_string(type_v)) {
        fail(e, "bad_field", "type", "type must be a string");
    } else if (type == NULL) {
        fail(e, "missing_type", "type", "the record has no type (and no --type was given)");
    } else if (t == NULL) {
        fail(e, "unknown_type", "type", "unknown record type '%s' (%s)", type, op_type_list());
    } else if (schema_check_type(schema, t->name, &se) != 0) {
        schema_fail(e, &se);
    } else {
        json_t *op = json_object();
        out = build(r, t, schema, rec->from_csv, rec->typed, op, e);
        json_decref(op);
    }
    json_decref(type_v);
    return out;
}
