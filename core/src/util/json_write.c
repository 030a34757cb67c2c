/*
 * JSON arguments and envelope building. Caller JSON is validated once with the scanner
 * (json_scan.c) and then spliced into the envelope verbatim: re-serialising would respell numbers
 * (jansson prints doubles with 17 significant digits, so 23.45 would become 23.449999999999999).
 */
#include "json_write.h"

#include "error.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* Checks that text is one JSON value of the wanted type (object or array) in valid UTF-8, with
 * the scanner of json_scan.c: nothing is built, the text is spliced into the envelope as is. */
cio_status_t cio__json_scan_argument(const char *call, const char *label, const char *text,
                                     size_t len, int depth, cio_json_value_t *root,
                                     cio_jindex_t *index) {
    cio_jerror_t err;
    if (cio__json_scan_within(text, len, depth, root, index, &err))
        return CIO_OK;
    if (!cio__utf8_valid(text, len))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, label);
    return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid JSON (column %zu: %s)", call,
                     label, err.column, err.text);
}

static cio_status_t check_json_value(const char *call, const char *field, const char *text,
                                     cio_json_kind_t wanted) {
    cio_json_value_t v;
    cio_status_t st = cio__json_scan_argument(call, field, text, strlen(text), 0, &v, NULL);
    if (st != CIO_OK)
        return st;
    if (v.kind != wanted)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s must be a JSON %s (got %s)", call, field,
                         wanted == CIO_JSON_OBJECT ? "object" : "array", cio__jkind_name(v.kind));
    return CIO_OK;
}

cio_status_t cio__check_json_object(const char *call, const char *field, const char *text) {
    return text == NULL ? CIO_OK : check_json_value(call, field, text, CIO_JSON_OBJECT);
}

cio_status_t cio__check_json_array(const char *call, const char *field, const char *text) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is missing", call, field);
    return check_json_value(call, field, text, CIO_JSON_ARRAY);
}

const char *cio__json_type_name(const json_t *value) {
    return json_type_name(value);
}

bool cio__buf_append_json_string(cio_buf_t *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    if (!cio__buf_append(b, "\"", 1))
        return false;
    const char *run = s; /* bytes not yet copied that need no escaping */
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != 0 && c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run && !cio__buf_append(b, run, (size_t)(p - run)))
            return false;
        if (c == 0)
            break;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (!cio__buf_append(b, esc, n))
            return false;
        run = p + 1;
    }
    return cio__buf_append(b, "\"", 1);
}

/* Compact JSON of a parsed value. jansson prints reals with 17 significant digits
 * (23.45 -> 23.449999999999999); here reals get their shortest round-trip form. */

static bool append_real(cio_buf_t *b, double d) {
    char s[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    bool looks_real = false;
    for (char *p = s; *p != '\0'; p++) {
        if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+')
            continue;
        if (*p == 'e' || *p == 'E') {
            looks_real = true;
            continue;
        }
        *p = '.'; /* the locale's decimal separator */
        looks_real = true;
    }
    return cio__buf_appends(b, s) && (looks_real || cio__buf_appends(b, ".0"));
}

bool cio__buf_append_json(cio_buf_t *b, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        json_t *obj = (json_t *)v; /* json_object_foreach wants a non-const */
        bool first = true;
        if (!cio__buf_append(b, "{", 1))
            return false;
        json_object_foreach(obj, key, member) {
            if ((!first && !cio__buf_append(b, ",", 1)) || !cio__buf_append_json_string(b, key) ||
                !cio__buf_append(b, ":", 1) || !cio__buf_append_json(b, member))
                return false;
            first = false;
        }
        return cio__buf_append(b, "}", 1);
    }
    case JSON_ARRAY: {
        if (!cio__buf_append(b, "[", 1))
            return false;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if ((i > 0 && !cio__buf_append(b, ",", 1)) ||
                !cio__buf_append_json(b, json_array_get(v, i)))
                return false;
        }
        return cio__buf_append(b, "]", 1);
    }
    case JSON_STRING:
        return cio__buf_append_json_string(b, json_string_value(v));
    case JSON_INTEGER:
        return cio__buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return append_real(b, json_real_value(v));
    case JSON_TRUE:
        return cio__buf_appends(b, "true");
    case JSON_FALSE:
        return cio__buf_appends(b, "false");
    case JSON_NULL:
        return cio__buf_appends(b, "null");
    }
    return false;
}
