/* The import schema: loading (JSON or YAML) and applying it to a record's attributes. */
#include "schema.h"

#include "jsonw.h"
#include "record_types.h"
#include "records.h"
#include "util.h"
#include "values.h"
#include "yaml_json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum atype {
    T_ANY,
    T_STRING,
    T_NUMBER,
    T_INTEGER,
    T_BOOLEAN,
    T_TIMESTAMP,
    T_OBJECT,
    T_ARRAY
} atype_t;

static const char *const type_names[] = {"any",       "string", "number", "integer", "boolean",
                                         "timestamp", "object", "array",  NULL};

typedef struct attr {
    char *name;
    atype_t type;
    bool required, lowercase, trim, email;
    json_t *def;
    json_t *enum_values;
    bool has_re;
    regex_t re;
    char *pattern;
    bool has_min, has_max;
    double min, max;
    long max_length; /* characters; -1 = none */
} attr_t;

typedef struct section {
    char *title; /* "people", "event 'purchased'" */
    json_t *rename;
    bool additional;
    attr_t *attrs;
    size_t n;
} section_t;

struct schema {
    json_t *root;
    json_t *types; /* array of allowed record types, or NULL */
    section_t *people;
    section_t *events;
    char **event_names;
    size_t n_events;
    bool unlisted_reject;
};

/* ---------------------------------------------------------------- loading */

typedef struct loader {
    char *err;
    size_t errlen;
} loader_t;

static int bad(loader_t *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(loader_t *l, const char *path, const char *fmt, ...) {
    int n = snprintf(l->err, l->errlen, "%s%s", path, path[0] != '\0' ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < l->errlen) {
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
    }
    va_end(ap);
    return -1;
}

static int only_keys(loader_t *l, const char *path, const json_t *obj, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a != NULL; a++) {
            ok = ok || strcmp(key, *a) == 0;
        }
        if (!ok) {
            sbuf_t list = {0};
            for (const char *const *a = allowed; *a != NULL; a++) {
                sb_printf(&list, "%s%s", a == allowed ? "" : ", ", *a);
            }
            bad(l, path, "unknown key '%s' (expected %s)", key, list.data);
            sb_free(&list);
            return -1;
        }
    }
    return 0;
}

static int get_bool(loader_t *l, const char *path, const json_t *obj, const char *key, bool *out) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return bad(l, path, "'%s' must be true or false", key);
    }
    *out = json_is_true(v);
    return 0;
}

static int get_number(loader_t *l, const char *path, const json_t *obj, const char *key, bool *has,
                      double *out) {
    const json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v)) {
        return bad(l, path, "'%s' must be a number", key);
    }
    *has = true;
    *out = json_number_value(v);
    return 0;
}

static int load_attr(loader_t *l, const char *path, const char *name, const json_t *spec,
                     attr_t *a) {
    static const char *const keys[] = {"type",       "required",    "default", "lowercase", "trim",
                                       "format",     "enum",        "pattern", "min",       "max",
                                       "max_length", "description", NULL};
    a->name = xstrdup(name);
    a->max_length = -1;
    const char *type = NULL;
    if (json_is_string(spec)) {
        type = json_string_value(spec);
    } else if (json_is_object(spec)) {
        if (only_keys(l, path, spec, keys) != 0) {
            return -1;
        }
        const json_t *t = json_object_get(spec, "type");
        if (t != NULL && !json_is_string(t)) {
            return bad(l, path, "'type' must be a string");
        }
        type = json_string_value(t);
    } else {
        return bad(l, path, "must be a type name or an object");
    }
    if (type != NULL) {
        int found = -1;
        for (int i = 0; type_names[i] != NULL; i++) {
            if (strcmp(type, type_names[i]) == 0) {
                found = i;
            }
        }
        if (found < 0) {
            return bad(l, path,
                       "unknown type '%s' (string, number, integer, boolean, timestamp, object, "
                       "array or any)",
                       type);
        }
        a->type = (atype_t)found;
    }
    if (!json_is_object(spec)) {
        return 0;
    }
    if (get_bool(l, path, spec, "required", &a->required) != 0 ||
        get_bool(l, path, spec, "lowercase", &a->lowercase) != 0 ||
        get_bool(l, path, spec, "trim", &a->trim) != 0 ||
        get_number(l, path, spec, "min", &a->has_min, &a->min) != 0 ||
        get_number(l, path, spec, "max", &a->has_max, &a->max) != 0) {
        return -1;
    }
    const json_t *v = json_object_get(spec, "default");
    if (v != NULL) {
        a->def = json_deep_copy(v);
    }
    v = json_object_get(spec, "format");
    if (v != NULL) {
        if (!json_is_string(v) || strcmp(json_string_value(v), "email") != 0) {
            return bad(l, path, "'format' must be \"email\" (the only format known)");
        }
        a->email = true;
    }
    v = json_object_get(spec, "enum");
    if (v != NULL) {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            return bad(l, path, "'enum' must be a non-empty list");
        }
        a->enum_values = json_deep_copy(v);
    }
    v = json_object_get(spec, "max_length");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return bad(l, path, "'max_length' must be a non-negative integer");
        }
        a->max_length = (long)json_integer_value(v);
    }
    v = json_object_get(spec, "pattern");
    if (v != NULL) {
        if (!json_is_string(v)) {
            return bad(l, path, "'pattern' must be a string");
        }
        int rc = regcomp(&a->re, json_string_value(v), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &a->re, why, sizeof(why));
            return bad(l, path, "'pattern' is not a POSIX extended regular expression: %s", why);
        }
        a->has_re = true;
        a->pattern = xstrdup(json_string_value(v));
    }
    return 0;
}

static int load_section(loader_t *l, const char *path, const char *title, const json_t *obj,
                        section_t **out) {
    static const char *const keys[] = {"rename", "additional_attributes", "attributes",
                                       "description", NULL};
    section_t *s = xcalloc(1, sizeof(*s));
    *out = s;
    s->title = xstrdup(title);
    s->additional = true;
    if (json_is_null(obj)) {
        return 0; /* "signed_up:" with nothing under it: any attributes */
    }
    if (!json_is_object(obj)) {
        return bad(l, path, "must be an object");
    }
    if (only_keys(l, path, obj, keys) != 0 ||
        get_bool(l, path, obj, "additional_attributes", &s->additional) != 0) {
        return -1;
    }
    const json_t *rename = json_object_get(obj, "rename");
    if (rename != NULL) {
        if (!json_is_object(rename)) {
            return bad(l, path, "'rename' must map old names to new names");
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)rename, k, v) {
            if (!json_is_string(v) || json_string_length(v) == 0) {
                return bad(l, path, "rename: '%s' must map to a non-empty name", k);
            }
        }
        s->rename = json_deep_copy(rename);
    }
    const json_t *attrs = json_object_get(obj, "attributes");
    if (attrs != NULL && !json_is_object(attrs)) {
        return bad(l, path, "'attributes' must map attribute names to specs");
    }
    s->n = json_object_size(attrs);
    s->attrs = xcalloc(s->n, sizeof(*s->attrs));
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v) {
        char sub[300];
        snprintf(sub, sizeof(sub), "%s.attributes.%s", path, k);
        if (load_attr(l, sub, k, v, &s->attrs[i++]) != 0) {
            return -1;
        }
    }
    return 0;
}

static void free_section(section_t *s) {
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        attr_t *a = &s->attrs[i];
        free(a->name);
        json_decref(a->def);
        json_decref(a->enum_values);
        if (a->has_re) {
            regfree(&a->re);
        }
        free(a->pattern);
    }
    free(s->attrs);
    json_decref(s->rename);
    free(s->title);
}

void schema_free(schema_t *s) {
    if (s == NULL) {
        return;
    }
    free_section(s->people);
    free(s->people);
    for (size_t i = 0; i < s->n_events; i++) {
        free_section(&s->events[i]);
        free(s->event_names[i]);
    }
    free(s->events);
    free(s->event_names);
    json_decref(s->root);
    free(s);
}

static int load_root(loader_t *l, schema_t *s) {
    static const char *const keys[] = {"version", "description", "types",           "columns",
                                       "people",  "events",      "unlisted_events", NULL};
    json_t *root = s->root;
    if (!json_is_object(root)) {
        return bad(l, "", "a schema is an object (a mapping)");
    }
    if (only_keys(l, "(top level)", root, keys) != 0) {
        return -1;
    }
    const json_t *v = json_object_get(root, "version");
    if (v != NULL && !(json_is_integer(v) && json_integer_value(v) == 1)) {
        return bad(l, "version", "only version 1 is known");
    }
    v = json_object_get(root, "types");
    if (v != NULL) {
        if (!json_is_array(v)) {
            return bad(l, "types", "must be a list of record types");
        }
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t) {
            if (!json_is_string(t) || !record_type_known(json_string_value(t))) {
                return bad(l, "types", "unknown record type %s (%s)",
                           json_is_string(t) ? json_string_value(t) : "(not a string)",
                           record_type_list());
            }
        }
        s->types = (json_t *)v;
    }
    v = json_object_get(root, "columns");
    if (v != NULL) {
        if (!json_is_object(v)) {
            return bad(l, "columns", "must map CSV headers to field names");
        }
        const char *k;
        json_t *spec;
        json_object_foreach((json_t *)v, k, spec) {
            char why[200];
            if (!json_is_null(spec) && !json_is_string(spec)) {
                return bad(l, "columns", "'%s' must map to a field name (or null to drop it)", k);
            }
            if (json_is_string(spec) &&
                rec_check_column_spec(json_string_value(spec), why, sizeof(why)) != 0) {
                return bad(l, "columns", "'%s': %s", k, why);
            }
        }
    }
    v = json_object_get(root, "unlisted_events");
    if (v != NULL) {
        const char *mode = json_string_value(v);
        if (mode == NULL || (strcmp(mode, "allow") != 0 && strcmp(mode, "reject") != 0)) {
            return bad(l, "unlisted_events", "must be allow or reject");
        }
        s->unlisted_reject = strcmp(mode, "reject") == 0;
    }
    v = json_object_get(root, "people");
    if (v != NULL && load_section(l, "people", "people", v, &s->people) != 0) {
        return -1;
    }
    v = json_object_get(root, "events");
    if (v != NULL) {
        if (!json_is_object(v)) {
            return bad(l, "events", "must map event names to sections");
        }
        s->n_events = json_object_size(v);
        s->events = xcalloc(s->n_events, sizeof(*s->events));
        s->event_names = xcalloc(s->n_events, sizeof(*s->event_names));
        size_t i = 0;
        const char *name;
        json_t *sec;
        json_object_foreach((json_t *)v, name, sec) {
            char path[200], title[200];
            snprintf(path, sizeof(path), "events.%s", name);
            snprintf(title, sizeof(title), "event '%s'", name);
            s->event_names[i] = xstrdup(name);
            section_t *loaded = NULL;
            int rc = load_section(l, path, title, sec, &loaded);
            s->events[i++] = *loaded;
            free(loaded);
            if (rc != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Levels of objects and arrays in v (a scalar is 0); stops counting past CLI_MAX_DEPTH. */
static int json_depth(const json_t *v) {
    int deepest = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            int d = json_depth(child);
            deepest = d > deepest ? d : deepest;
            if (deepest > CLI_MAX_DEPTH) {
                break;
            }
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            int d = json_depth(child);
            deepest = d > deepest ? d : deepest;
            if (deepest > CLI_MAX_DEPTH) {
                break;
            }
        }
        return deepest + 1;
    }
    return 0;
}

schema_t *schema_load(const char *path, char *err, size_t errlen) {
    char *text = NULL;
    size_t len = 0;
    if (read_file_max(path, CLI_MAX_SCHEMA_BYTES, &text, &len) != 0) {
        char why[64];
        snprintf(err, errlen, "%s: %s", path,
                 read_error(errno, CLI_MAX_SCHEMA_BYTES, why, sizeof(why)));
        return NULL;
    }
    long nul = nul_offset(text, len);
    if (nul >= 0) {
        /* jansson skips a NUL between tokens and C strings end at one: refuse, never guess */
        snprintf(err, errlen, "%s: a NUL byte at offset %ld (a schema is text)", path, nul);
        free(text);
        return NULL;
    }
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    bool is_json = str_iends(path, ".json") ||
                   (*p == '{' && !str_iends(path, ".yaml") && !str_iends(path, ".yml"));
    char why[400] = "";
    json_t *root;
    if (is_json) {
        json_error_t error;
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
        if (root == NULL) {
            snprintf(why, sizeof(why), "line %d: %s", error.line, error.text);
        } else if (json_depth(root) > CLI_MAX_DEPTH) {
            snprintf(why, sizeof(why), "nested deeper than %d levels", CLI_MAX_DEPTH);
            json_decref(root);
            root = NULL;
        }
    } else {
        root = yaml_to_json(text, len, why, sizeof(why));
    }
    free(text);
    if (root == NULL) {
        snprintf(err, errlen, "%s: not %s: %s", path, is_json ? "JSON" : "YAML", why);
        return NULL;
    }
    schema_t *s = xcalloc(1, sizeof(*s));
    s->root = root;
    loader_t l = {why, sizeof(why)};
    if (load_root(&l, s) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        schema_free(s);
        return NULL;
    }
    return s;
}

const json_t *schema_columns(const schema_t *s) {
    return s != NULL ? json_object_get(s->root, "columns") : NULL;
}

/* ---------------------------------------------------------------- applying */

static int fail(schema_error_t *e, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(schema_error_t *e, const char *reason, const char *field, const char *fmt, ...) {
    e->reason = reason;
    snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* A short rendering of a value for messages: string "abc", number 12, ... */
static void show(const json_t *v, char *buf, size_t size) {
    static const char *const kinds[] = {"object", "array", "string", "number",
                                        "number", "true",  "false",  "null"};
    char *text = jw_dumps(v, 0);
    const char *kind = kinds[json_typeof(v)];
    if (json_is_boolean(v) || json_is_null(v)) {
        snprintf(buf, size, "%s", kind);
    } else if (strlen(text) > 60) {
        snprintf(buf, size, "%s %.57s...", kind, text);
    } else {
        snprintf(buf, size, "%s %s", kind, text);
    }
    free(text);
}

int schema_check_type(const schema_t *s, const char *type, schema_error_t *err) {
    if (s == NULL || s->types == NULL) {
        return 0;
    }
    size_t i;
    json_t *t;
    sbuf_t list = {0};
    json_array_foreach(s->types, i, t) {
        if (strcmp(json_string_value(t), type) == 0) {
            sb_free(&list);
            return 0;
        }
        sb_printf(&list, "%s%s", i == 0 ? "" : ", ", json_string_value(t));
    }
    fail(err, "type_not_allowed", "type", "record type '%s' is not allowed by the schema (%s)",
         type, list.data != NULL ? list.data : "none");
    sb_free(&list);
    return -1;
}

static const section_t *find_section(const schema_t *s, const char *kind, const char *event,
                                     schema_error_t *err, int *rc) {
    *rc = 0;
    if (s == NULL) {
        return NULL;
    }
    if (strcmp(kind, "identify") == 0) {
        return s->people;
    }
    if (strcmp(kind, "event") != 0) {
        return NULL;
    }
    for (size_t i = 0; i < s->n_events; i++) {
        if (strcmp(s->event_names[i], event) == 0) {
            return &s->events[i];
        }
    }
    if (s->unlisted_reject) {
        *rc = fail(err, "unknown_event", "name", "event '%s' is not in the schema", event);
    }
    return NULL;
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

static bool looks_like_email(const char *s) {
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL) {
        return false;
    }
    const char *dot = strrchr(at + 1, '.');
    if (dot == NULL || dot == at + 1 || dot[1] == '\0') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20) {
            return false;
        }
    }
    return true;
}

/* Converts untyped text to the attribute's type; NULL when it does not parse. */
static json_t *from_text(const char *text, atype_t type) {
    int64_t i;
    bool b;
    json_t *v = NULL;
    json_error_t error;
    switch (type) {
    case T_ANY:
        return value_auto(text);
    case T_STRING:
        return json_string(text);
    case T_NUMBER:
        return value_parse_number(text, &v) == 0 ? v : NULL;
    case T_INTEGER:
        return value_parse_integer(text, &i) == 0 ? json_integer((json_int_t)i) : NULL;
    case T_BOOLEAN:
        return value_parse_bool(text, &b) == 0 ? json_boolean(b) : NULL;
    case T_TIMESTAMP:
        return value_parse_time(text, &i) == 0 ? json_integer((json_int_t)i) : NULL;
    case T_OBJECT:
    case T_ARRAY:
        v = json_loads(text, 0, &error);
        if (v != NULL && ((type == T_OBJECT) != json_is_object(v) || json_is_null(v))) {
            json_decref(v);
            v = NULL;
        }
        return v;
    }
    return NULL;
}

static bool has_type(const json_t *v, atype_t type) {
    switch (type) {
    case T_ANY:
        return true;
    case T_STRING:
        return json_is_string(v);
    case T_NUMBER:
        return json_is_number(v);
    case T_INTEGER:
        return json_is_integer(v);
    case T_BOOLEAN:
        return json_is_boolean(v);
    case T_TIMESTAMP:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case T_OBJECT:
        return json_is_object(v);
    case T_ARRAY:
        return json_is_array(v);
    }
    return false;
}

static const char *type_phrase(atype_t t) {
    static const char *const phrases[] = {
        "anything",   "a string",      "a number",
        "an integer", "true or false", "a timestamp (unix seconds or an ISO 8601 date)",
        "an object",  "an array"};
    return phrases[t];
}

/* Types, normalises and checks one present attribute; replaces it in attrs. */
static int apply_attr(const attr_t *a, json_t *attrs, json_t *v, bool untyped,
                      schema_error_t *err) {
    char shown[100];
    json_t *value = NULL;
    if (untyped && json_is_string(v)) {
        value = from_text(json_string_value(v), a->type);
    } else if (has_type(v, a->type)) {
        value = json_incref(v);
    } else if (a->type == T_TIMESTAMP && json_is_string(v)) {
        int64_t t;
        if (value_parse_time(json_string_value(v), &t) == 0) {
            value = json_integer((json_int_t)t);
        }
    } else if (a->type == T_TIMESTAMP && json_is_real(v) && json_real_value(v) >= 0 &&
               json_real_value(v) == floor(json_real_value(v)) && json_real_value(v) < 9e15) {
        value = json_integer((json_int_t)json_real_value(v));
    }
    if (value == NULL) {
        show(v, shown, sizeof(shown));
        return fail(err, "wrong_type", a->name, "attribute '%s' must be %s (got %s)", a->name,
                    type_phrase(a->type), shown);
    }
    if (json_is_string(value) && (a->trim || a->lowercase)) {
        const char *s = json_string_value(value);
        size_t n = strlen(s);
        if (a->trim) {
            while (isspace((unsigned char)*s)) {
                s++, n--;
            }
            while (n > 0 && isspace((unsigned char)s[n - 1])) {
                n--;
            }
        }
        char *copy = xstrndup(s, n);
        if (a->lowercase) {
            for (char *p = copy; *p != '\0'; p++) {
                *p = (char)tolower((unsigned char)*p);
            }
        }
        json_decref(value);
        value = json_string(copy);
        free(copy);
        if (value == NULL) {
            return fail(err, "bad_value", a->name, "attribute '%s' is not valid UTF-8", a->name);
        }
    }
    json_object_set_new(attrs, a->name, value);
    show(value, shown, sizeof(shown));
    if (a->enum_values != NULL) {
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(a->enum_values, i, e) {
            found = found || json_equal(e, value);
        }
        if (!found) {
            char *list = jw_dumps(a->enum_values, 0);
            int rc = fail(err, "bad_value", a->name, "attribute '%s' must be one of %s (got %s)",
                          a->name, list, shown);
            free(list);
            return rc;
        }
    }
    if (json_is_string(value)) {
        const char *s = json_string_value(value);
        if (a->email && !looks_like_email(s)) {
            return fail(err, "bad_value", a->name,
                        "attribute '%s' is not an email address (got %s)", a->name, shown);
        }
        if (a->has_re && regexec(&a->re, s, 0, NULL, 0) != 0) {
            return fail(err, "bad_value", a->name,
                        "attribute '%s' does not match the pattern %s (got %s)", a->name,
                        a->pattern, shown);
        }
        if (a->max_length >= 0 && utf8_chars(s) > (size_t)a->max_length) {
            return fail(err, "bad_value", a->name,
                        "attribute '%s' is longer than %ld characters (got %s)", a->name,
                        a->max_length, shown);
        }
    }
    if (json_is_number(value)) {
        double d = json_number_value(value);
        if (a->has_min && d < a->min) {
            return fail(err, "bad_value", a->name, "attribute '%s' must be at least %g (got %s)",
                        a->name, a->min, shown);
        }
        if (a->has_max && d > a->max) {
            return fail(err, "bad_value", a->name, "attribute '%s' must be at most %g (got %s)",
                        a->name, a->max, shown);
        }
    }
    return 0;
}

static bool is_typed(const json_t *typed, const char *name) {
    return typed != NULL && json_object_get(typed, name) != NULL;
}

int schema_apply(const schema_t *s, const char *kind, const char *event_name, json_t *attributes,
                 bool from_csv, const json_t *typed, schema_error_t *err) {
    int rc;
    const section_t *sec = find_section(s, kind, event_name != NULL ? event_name : "", err, &rc);
    if (rc != 0) {
        return rc;
    }
    if (sec != NULL && sec->rename != NULL) {
        const char *from;
        json_t *to;
        json_object_foreach(sec->rename, from, to) {
            json_t *v = json_object_get(attributes, from);
            if (v == NULL) {
                continue;
            }
            const char *name = json_string_value(to);
            if (json_object_get(attributes, name) != NULL) {
                return fail(err, "bad_value", from,
                            "attribute '%s' is renamed to '%s', which is also given", from, name);
            }
            json_object_set(attributes, name, v);
            json_object_del(attributes, from);
        }
    }
    for (size_t i = 0; sec != NULL && i < sec->n; i++) {
        const attr_t *a = &sec->attrs[i];
        json_t *v = json_object_get(attributes, a->name);
        if (v == NULL || json_is_null(v)) {
            if (a->def != NULL) {
                json_object_set_new(attributes, a->name, json_deep_copy(a->def));
            } else if (a->required) {
                return fail(err, "missing_attribute", a->name, "attribute '%s' is required%s%s",
                            a->name, strcmp(kind, "event") == 0 ? " for " : "",
                            strcmp(kind, "event") == 0 ? sec->title : "");
            }
            continue;
        }
        if (apply_attr(a, attributes, v, from_csv && !is_typed(typed, a->name), err) != 0) {
            return -1;
        }
    }
    const char *name;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(attributes, tmp, name, v) {
        bool known = false;
        for (size_t i = 0; sec != NULL && i < sec->n && !known; i++) {
            known = strcmp(sec->attrs[i].name, name) == 0;
        }
        if (known) {
            continue;
        }
        if (sec != NULL && !sec->additional) {
            return fail(err, "unknown_attribute", name,
                        "attribute '%s' is not in the schema for %s", name, sec->title);
        }
        if (from_csv && json_is_string(v) && !is_typed(typed, name)) {
            json_object_set_new(attributes, name, value_auto(json_string_value(v)));
        }
    }
    return 0;
}

int schema_apply_email_identifier(const schema_t *s, json_t *ids, schema_error_t *err) {
    json_t *email = json_object_get(ids, "email");
    if (s == NULL || s->people == NULL || !json_is_string(email)) {
        return 0;
    }
    for (size_t i = 0; i < s->people->n; i++) {
        const attr_t *a = &s->people->attrs[i];
        if (strcmp(a->name, "email") == 0 && a->type == T_STRING) {
            if (apply_attr(a, ids, email, false, err) != 0) {
                snprintf(err->field, sizeof(err->field), "email");
                return -1;
            }
        }
    }
    return 0;
}
