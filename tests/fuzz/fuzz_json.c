/*
 * fuzz_json: customerio/json.h, the in-place scanner every operation is checked with, against
 * jansson on the same bytes.
 *
 * - cio_json_scan() and json_loadb(JSON_DECODE_ANY) must agree on what is JSON, except where the
 *   two are known to differ: jansson refuses numbers it cannot hold (integers beyond 64 bits,
 *   reals beyond a double) and nesting deeper than its limit, and skips raw NUL bytes between
 *   tokens (a jansson quirk: "[1\0]" is [1]); the scanner refuses nesting deeper than 512 and
 *   "\u0000".
 * - For text both accept, walking the scanner's values with cio_json_next / get / string / int
 *   must read the same tree jansson built: kinds, integers, decoded strings, array elements in
 *   order, object members (the last of a repeated key, as both keep).
 * The input is in a heap block of exactly its size, not NUL-terminated, so AddressSanitizer sees
 * any read past the end.
 */
#include "fuzz_util.h"

#include <customerio/customerio.h>
#include <jansson.h>

#include <stdbool.h>

#define SCANNER_MAX_DEPTH 512

/* The deepest nesting of brackets outside strings (the text is valid JSON for jansson). */
static int nesting_depth(const char *p, size_t len) {
    int depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

/* Whether a string literal in the text holds the escape \u0000 (an odd run of backslashes). */
static bool has_escaped_nul(const char *p, size_t len) {
    for (size_t i = 0; i + 6 <= len; i++) {
        if (memcmp(p + i, "\\u0000", 6) != 0)
            continue;
        size_t backslashes = 0;
        while (backslashes <= i && p[i - backslashes] == '\\')
            backslashes++;
        if (backslashes % 2 == 1)
            return true;
    }
    return false;
}

/* A decoded string value, with the length cio_json_string reports. */
static char *decode(const cio_json_value_t *v, size_t *len) {
    *len = cio_json_string(v, NULL, 0);
    char *buf = malloc(*len + 1);
    FUZZ_CHECK(buf != NULL, "out of memory");
    size_t again = cio_json_string(v, buf, *len + 1);
    FUZZ_CHECK(again == *len, "cio_json_string: %zu bytes, then %zu", *len, again);
    FUZZ_CHECK(buf[*len] == '\0', "cio_json_string: not NUL-terminated");
    if (*len > 0) { /* truncation keeps a NUL-terminated prefix and still reports the length */
        char small[4];
        size_t size = *len < sizeof(small) ? *len : sizeof(small);
        FUZZ_CHECK(cio_json_string(v, small, size) == *len, "truncated decode: wrong length");
        FUZZ_CHECK(small[size - 1] == '\0' && memcmp(small, buf, size - 1) == 0,
                   "truncated decode: not a prefix");
    }
    return buf;
}

static void compare(const cio_json_value_t *v, const json_t *j, int depth);

static void compare_array(const cio_json_value_t *v, const json_t *j, int depth) {
    const char *cursor = NULL;
    cio_json_value_t item, key = {0};
    size_t i = 0;
    while (cio_json_next(v, &cursor, &key, &item)) {
        FUZZ_CHECK(i < json_array_size(j), "array: more elements than jansson's %zu",
                   json_array_size(j));
        compare(&item, json_array_get(j, i), depth + 1);
        i++;
    }
    FUZZ_CHECK(i == json_array_size(j), "array: %zu elements, jansson %zu", i, json_array_size(j));
}

static void compare_object(const cio_json_value_t *v, const json_t *j, int depth) {
    const char *cursor = NULL;
    cio_json_value_t key, member;
    size_t members = 0;
    while (cio_json_next(v, &cursor, &key, &member)) {
        members++;
        FUZZ_CHECK(key.kind == CIO_JSON_STRING, "object: a key of kind %d", (int)key.kind);
        size_t klen;
        char *name = decode(&key, &klen);
        FUZZ_CHECK(strlen(name) == klen, "object: a key decodes with a NUL byte");
        FUZZ_CHECK(cio_json_string_is(&key, name), "cio_json_string_is(key, its own decoding)");
        const json_t *theirs = json_object_get(j, name);
        FUZZ_CHECK(theirs != NULL, "object: key \"%s\" is not in jansson's object", name);
        cio_json_value_t last;
        FUZZ_CHECK(cio_json_get(v, name, &last), "cio_json_get: \"%s\" not found", name);
        compare(&last, theirs, depth + 1);
        free(name);
    }
    FUZZ_CHECK(members >= json_object_size(j), "object: %zu members, jansson %zu distinct keys",
               members, json_object_size(j));
    FUZZ_CHECK(members > 0 || json_object_size(j) == 0, "object: empty, jansson's is not");
}

static void compare(const cio_json_value_t *v, const json_t *j, int depth) {
    FUZZ_CHECK(depth <= SCANNER_MAX_DEPTH + 1, "walked deeper than the scanner allows");
    FUZZ_CHECK(v->len > 0, "a value of no bytes");
    int64_t n;
    int is_int = cio_json_int(v, &n);
    FUZZ_CHECK(is_int == (v->kind == CIO_JSON_INTEGER), "cio_json_int on kind %d: %d", (int)v->kind,
               is_int);
    switch (v->kind) {
    case CIO_JSON_NULL:
        FUZZ_CHECK(json_is_null(j), "null vs jansson type %d", (int)json_typeof(j));
        break;
    case CIO_JSON_TRUE:
        FUZZ_CHECK(json_is_true(j), "true vs jansson type %d", (int)json_typeof(j));
        break;
    case CIO_JSON_FALSE:
        FUZZ_CHECK(json_is_false(j), "false vs jansson type %d", (int)json_typeof(j));
        break;
    case CIO_JSON_INTEGER:
        FUZZ_CHECK(json_is_integer(j), "integer %.*s vs jansson type %d", (int)v->len, v->text,
                   (int)json_typeof(j));
        FUZZ_CHECK(json_integer_value(j) == n, "integer %.*s read as %lld, jansson %lld",
                   (int)v->len, v->text, (long long)n, (long long)json_integer_value(j));
        break;
    case CIO_JSON_REAL:
        FUZZ_CHECK(json_is_real(j), "real %.*s vs jansson type %d", (int)v->len, v->text,
                   (int)json_typeof(j));
        break;
    case CIO_JSON_STRING: {
        FUZZ_CHECK(json_is_string(j), "string vs jansson type %d", (int)json_typeof(j));
        size_t len;
        char *s = decode(v, &len);
        FUZZ_CHECK(len == json_string_length(j) && memcmp(s, json_string_value(j), len) == 0,
                   "string decodes to \"%s\", jansson \"%s\"", s, json_string_value(j));
        FUZZ_CHECK(cio_json_string_is(v, s), "cio_json_string_is(v, its own decoding)");
        free(s);
        break;
    }
    case CIO_JSON_ARRAY:
        FUZZ_CHECK(json_is_array(j), "array vs jansson type %d", (int)json_typeof(j));
        compare_array(v, j, depth);
        break;
    case CIO_JSON_OBJECT:
        FUZZ_CHECK(json_is_object(j), "object vs jansson type %d", (int)json_typeof(j));
        compare_object(v, j, depth);
        break;
    default:
        FUZZ_CHECK(0, "unknown kind %d", (int)v->kind);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_bytes(data, size);
    cio_json_value_t root;
    bool ours = cio_json_scan(text, size, &root) == CIO_OK;
    if (!ours) {
        const cio_error_t *e = cio_last_error();
        FUZZ_CHECK(e != NULL && strncmp(e->message, "JSON: ", 6) == 0, "scan error: %s",
                   e != NULL ? e->message : "(none)");
    }
    json_error_t err;
    json_t *theirs = json_loadb(text, size, JSON_DECODE_ANY, &err);
    if (ours && theirs == NULL) {
        enum json_error_code code = json_error_code(&err);
        FUZZ_CHECK(code == json_error_numeric_overflow || code == json_error_stack_overflow,
                   "the scanner accepts what jansson refuses: %s (column %d)", err.text,
                   err.column);
    }
    if (!ours && theirs != NULL) {
        /* jansson's reader skips NUL bytes between tokens ("[1\0]" is [1]); JSON has none */
        FUZZ_CHECK(nesting_depth(text, size) > SCANNER_MAX_DEPTH || has_escaped_nul(text, size) ||
                       (size > 0 && memchr(text, '\0', size) != NULL),
                   "jansson accepts what the scanner refuses: %s", cio_last_error()->message);
    }
    if (ours) {
        FUZZ_CHECK(root.text >= text && root.text + root.len <= text + size,
                   "the root value is outside the text");
        if (theirs != NULL)
            compare(&root, theirs, 0);
    }
    json_decref(theirs);
    free(text);
    return 0;
}
