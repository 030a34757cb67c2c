/*
 * JSON arguments and envelope building. Caller JSON is validated once with jansson and then
 * spliced into the envelope verbatim: re-serialising would respell numbers (jansson prints
 * doubles with 17 significant digits, so 23.45 would become 23.449999999999999).
 */
#include "internal.h"

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

/* Checks that text is one JSON value of the wanted type (object or array) in valid UTF-8. */
static cio_status_t check_json_value(const char *call, const char *field, const char *text,
                                     json_type wanted) {
    size_t len = strlen(text);
    if (!cio__utf8_valid(text, len))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, field);
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (v == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s is not valid JSON (line %d, column %d: %s)", call, field, err.line,
                         err.column, err.text);
    cio_status_t st = CIO_OK;
    if (json_typeof(v) != wanted)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s must be a JSON %s (got %s)", call, field,
                       wanted == JSON_OBJECT ? "object" : "array", json_type_name(v));
    json_decref(v);
    return st;
}

cio_status_t cio__check_json_object(const char *call, const char *field, const char *text) {
    return text == NULL ? CIO_OK : check_json_value(call, field, text, JSON_OBJECT);
}

cio_status_t cio__check_json_array(const char *call, const char *field, const char *text) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is missing", call, field);
    return check_json_value(call, field, text, JSON_ARRAY);
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
