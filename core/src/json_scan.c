/* The validating JSON scanner (json_scan.h). */
#include "json_scan.h"

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

typedef struct scanner {
    const char *start, *text, *end; /* text: the scan position */
    int depth;
    cio_jerror_t *err;
    cio_jindex_t *top; /* filled with the root object's members, if non-NULL */
} scanner_t;

static bool fail(scanner_t *s, const char *at, const char *what) {
    if (s->err != NULL) {
        s->err->column = (size_t)(at - s->start) + 1;
        snprintf(s->err->text, sizeof(s->err->text), "%s", what);
    }
    return false;
}

static void skip_space(scanner_t *s) {
    while (s->text < s->end &&
           (*s->text == ' ' || *s->text == '\n' || *s->text == '\r' || *s->text == '\t'))
        s->text++;
}

/* Four hex digits at p (p + 4 <= end checked by the caller). */
static long hex4(const char *p) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = cio__hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* One UTF-8 sequence starting at a byte >= 0x80; returns its length, 0 if invalid. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    size_t n;
    unsigned long cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3Fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong, a surrogate, or beyond Unicode */
    return n;
}

/* 1 for the bytes a string's fast loop stops at: '"', '\\', controls and all bytes >= 0x80. */
static const unsigned char string_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static bool scan_string(scanner_t *s) {
    const char *open = s->text++;
    while (s->text < s->end) {
        while (s->text < s->end && !string_special[(unsigned char)*s->text])
            s->text++; /* plain ASCII */
        if (s->text >= s->end)
            break;
        unsigned char c = (unsigned char)*s->text;
        if (c == '"') {
            s->text++;
            return true;
        }
        if (c < 0x20)
            return fail(s, s->text, "control character in a string");
        if (c == '\\') {
            if (s->end - s->text < 2)
                break;
            char e = s->text[1];
            if (e == 'u') {
                if (s->end - s->text < 6)
                    return fail(s, s->text, "short \\u escape");
                long u = hex4(s->text + 2);
                if (u < 0)
                    return fail(s, s->text, "invalid \\u escape");
                if (u == 0)
                    return fail(s, s->text, "\\u0000 is not allowed");
                s->text += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(s, s->text - 6, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    long low = s->end - s->text >= 6 && s->text[0] == '\\' && s->text[1] == 'u'
                                   ? hex4(s->text + 2)
                                   : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return fail(s, s->text - 6, "lone high surrogate");
                    s->text += 6;
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return fail(s, s->text, "invalid escape");
            s->text += 2;
            continue;
        }
        if (c < 0x80) {
            s->text++;
            continue;
        }
        size_t n = utf8_sequence((const unsigned char *)s->text, (const unsigned char *)s->end);
        if (n == 0)
            return fail(s, s->text, "invalid UTF-8 in a string");
        s->text += n;
    }
    return fail(s, open, "unterminated string");
}

static bool is_digit(const scanner_t *s) {
    return s->text < s->end && *s->text >= '0' && *s->text <= '9';
}

static bool scan_number(scanner_t *s, cio_json_kind_t *kind) {
    const char *begin = s->text;
    *kind = CIO_JSON_INTEGER;
    if (*s->text == '-')
        s->text++;
    if (!is_digit(s))
        return fail(s, begin, "invalid number");
    if (*s->text == '0')
        s->text++;
    else
        while (is_digit(s))
            s->text++;
    if (s->text < s->end && *s->text == '.') {
        s->text++;
        if (!is_digit(s))
            return fail(s, begin, "invalid number");
        while (is_digit(s))
            s->text++;
        *kind = CIO_JSON_REAL;
    }
    if (s->text < s->end && (*s->text == 'e' || *s->text == 'E')) {
        s->text++;
        if (s->text < s->end && (*s->text == '+' || *s->text == '-'))
            s->text++;
        if (!is_digit(s))
            return fail(s, begin, "invalid number");
        while (is_digit(s))
            s->text++;
        *kind = CIO_JSON_REAL;
    }
    if (*kind == CIO_JSON_INTEGER) {
        cio_json_value_t v = {begin, (size_t)(s->text - begin), CIO_JSON_INTEGER};
        int64_t ignored;
        if (!cio__jint(&v, &ignored))
            *kind = CIO_JSON_REAL; /* beyond int64_t: still a number */
    }
    return true;
}

static bool scan_literal(scanner_t *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->text) < n || memcmp(s->text, word, n) != 0)
        return fail(s, s->text, "invalid literal");
    s->text += n;
    return true;
}

static bool scan_value(scanner_t *s, cio_json_value_t *out);

static bool scan_container(scanner_t *s, bool object) {
    if (++s->depth > MAX_DEPTH)
        return fail(s, s->text, "nested too deeply");
    char close = object ? '}' : ']';
    s->text++;
    skip_space(s);
    if (s->text < s->end && *s->text == close) {
        s->text++;
        s->depth--;
        return true;
    }
    for (;;) {
        cio_json_value_t v, k = {s->text, 0, CIO_JSON_STRING};
        if (object) {
            if (s->text >= s->end || *s->text != '"')
                return fail(s, s->text, "expected a member name");
            if (!scan_string(s))
                return false;
            k.len = (size_t)(s->text - k.text);
            skip_space(s);
            if (s->text >= s->end || *s->text != ':')
                return fail(s, s->text, "expected ':'");
            s->text++;
            skip_space(s);
        }
        if (!scan_value(s, &v))
            return false;
        if (object && s->depth == 1 && s->top != NULL) {
            cio_jindex_t *ix = s->top;
            if (ix->count < CIO_JINDEX_MAX) {
                ix->key[ix->count] = k;
                ix->value[ix->count++] = v;
            } else {
                ix->complete = false;
            }
        }
        skip_space(s);
        if (s->text < s->end && *s->text == ',') {
            s->text++;
            skip_space(s);
            continue;
        }
        if (s->text < s->end && *s->text == close) {
            s->text++;
            s->depth--;
            return true;
        }
        return fail(s, s->text, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool scan_value(scanner_t *s, cio_json_value_t *out) {
    if (s->text >= s->end)
        return fail(s, s->text, "unexpected end of input");
    const char *begin = s->text;
    bool ok;
    switch (*s->text) {
    case '{':
        out->kind = CIO_JSON_OBJECT;
        ok = scan_container(s, true);
        break;
    case '[':
        out->kind = CIO_JSON_ARRAY;
        ok = scan_container(s, false);
        break;
    case '"':
        out->kind = CIO_JSON_STRING;
        ok = scan_string(s);
        break;
    case 't':
        out->kind = CIO_JSON_TRUE;
        ok = scan_literal(s, "true", 4);
        break;
    case 'f':
        out->kind = CIO_JSON_FALSE;
        ok = scan_literal(s, "false", 5);
        break;
    case 'n':
        out->kind = CIO_JSON_NULL;
        ok = scan_literal(s, "null", 4);
        break;
    default:
        ok = (*s->text == '-' || (*s->text >= '0' && *s->text <= '9'))
                 ? scan_number(s, &out->kind)
                 : fail(s, s->text, "unexpected character");
    }
    out->text = begin;
    out->len = (size_t)(s->text - begin);
    return ok;
}

bool cio__json_scan(const char *text, size_t len, cio_json_value_t *root, cio_jerror_t *err) {
    return cio__json_scan_indexed(text, len, root, NULL, err);
}

bool cio__json_scan_indexed(const char *text, size_t len, cio_json_value_t *root,
                            cio_jindex_t *index, cio_jerror_t *err) {
    scanner_t s = {text, text, text + len, 0, err, index};
    if (index != NULL) {
        index->obj = root;
        index->count = 0;
        index->complete = true;
    }
    skip_space(&s);
    if (!scan_value(&s, root))
        return false;
    skip_space(&s);
    return s.text == s.end || fail(&s, s.text, "end of input expected");
}

const char *cio__jkind_name(cio_json_kind_t kind) {
    switch (kind) {
    case CIO_JSON_OBJECT:
        return "object";
    case CIO_JSON_ARRAY:
        return "array";
    case CIO_JSON_STRING:
        return "string";
    case CIO_JSON_INTEGER:
    case CIO_JSON_REAL:
        return "number";
    case CIO_JSON_TRUE:
    case CIO_JSON_FALSE:
        return "boolean";
    case CIO_JSON_NULL:
        break;
    }
    return "null";
}

/* ------------------------------------------------------------ reading scanned values */

/* Bytes that matter when skipping over validated text: 1 = a string's end or escape, 2 = a
 * bracket or the start of a string. Everything else is skipped a byte per load. */
static const unsigned char skip_class[256] = {
    ['"'] = 3, ['\\'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 2, [']'] = 2,
};

/* In validated text, p at an opening quote: just past the closing one. */
static const char *string_end(const char *p) {
    for (p++;;) {
        while (!(skip_class[(unsigned char)*p] & 1))
            p++;
        if (*p == '"')
            return p + 1;
        p += 2; /* an escape: the next byte never ends the string */
    }
}

/* In text already validated: the end of the value starting at p. */
static const char *value_end(const char *p) {
    if (*p == '"')
        return string_end(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (;;) {
            while (!(skip_class[(unsigned char)*p] & 2))
                p++;
            if (*p == '"') {
                p = string_end(p);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (--depth == 0)
                return p + 1;
            p++;
        }
    }
    while (*p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' &&
           *p != '\t')
        p++; /* a number or literal: the container around it ends it */
    return p;
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

static cio_json_kind_t kind_at(const char *p, size_t len) {
    switch (*p) {
    case '{':
        return CIO_JSON_OBJECT;
    case '[':
        return CIO_JSON_ARRAY;
    case '"':
        return CIO_JSON_STRING;
    case 't':
        return CIO_JSON_TRUE;
    case 'f':
        return CIO_JSON_FALSE;
    case 'n':
        return CIO_JSON_NULL;
    default: {
        cio_json_value_t v = {p, len, CIO_JSON_INTEGER};
        int64_t ignored;
        return memchr(p, '.', len) || memchr(p, 'e', len) || memchr(p, 'E', len) ||
                       !cio__jint(&v, &ignored)
                   ? CIO_JSON_REAL
                   : CIO_JSON_INTEGER;
    }
    }
}

bool cio__jnext(const cio_json_value_t *c, const char **cursor, cio_json_value_t *key,
                cio_json_value_t *value) {
    if (c->kind != CIO_JSON_OBJECT && c->kind != CIO_JSON_ARRAY)
        return false;
    const char *p = skip_ws(*cursor == NULL ? c->text + 1 : *cursor);
    if (*p == ',')
        p = skip_ws(p + 1);
    if (p >= c->text + c->len - 1) /* the closing bracket */
        return false;
    if (c->kind == CIO_JSON_OBJECT) {
        const char *k_end = value_end(p);
        if (key != NULL)
            *key = (cio_json_value_t){p, (size_t)(k_end - p), CIO_JSON_STRING};
        p = skip_ws(skip_ws(k_end) + 1); /* past ':' */
    }
    const char *v_end = value_end(p);
    *value = (cio_json_value_t){p, (size_t)(v_end - p), kind_at(p, (size_t)(v_end - p))};
    *cursor = v_end;
    return true;
}

size_t cio__jcount(const cio_json_value_t *c) {
    size_t n = 0;
    const char *cursor = NULL;
    cio_json_value_t v;
    while (cio__jnext(c, &cursor, NULL, &v))
        n++;
    return n;
}

bool cio__jget(const cio_json_value_t *obj, const char *key, cio_json_value_t *out) {
    bool found = false;
    const char *cursor = NULL;
    cio_json_value_t k, v;
    while (cio__jnext(obj, &cursor, &k, &v)) {
        if (cio__jstring_is(&k, key)) {
            *out = v;
            found = true;
        }
    }
    return found;
}

void cio__jindex(const cio_json_value_t *obj, cio_jindex_t *index) {
    index->obj = obj;
    index->count = 0;
    index->complete = true;
    const char *cursor = NULL;
    cio_json_value_t k, v;
    while (cio__jnext(obj, &cursor, &k, &v)) {
        if (index->count == CIO_JINDEX_MAX) {
            index->complete = false;
            return;
        }
        index->key[index->count] = k;
        index->value[index->count++] = v;
    }
}

bool cio__jindex_get(const cio_jindex_t *index, const char *key, cio_json_value_t *out) {
    if (!index->complete)
        return cio__jget(index->obj, key, out);
    size_t len = strlen(key);
    bool plain = memchr(key, '\\', len) == NULL; /* our own keys always are */
    for (size_t i = index->count; i-- > 0;) {    /* the last of repeated keys wins */
        const cio_json_value_t *k = &index->key[i];
        if (plain && k->len == len + 2 ? memcmp(k->text + 1, key, len) == 0
                                       : k->len >= len + 2 && cio__jstring_is(k, key)) {
            *out = index->value[i];
            return true;
        }
    }
    return false;
}

/* A member name as its decoded bytes (pointing into the text when it has no escape). */
typedef struct key_bytes {
    const char *bytes;
    size_t len;
    char *owned;
    cio_json_value_t raw;
} key_bytes_t;

static int compare_keys(const void *a, const void *b) {
    const key_bytes_t *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->bytes, y->bytes, x->len);
}

bool cio__jduplicate_key(const cio_json_value_t *obj, const cio_jindex_t *index,
                         cio_json_value_t *dup) {
    bool indexed = index != NULL && index->complete;
    size_t n = indexed ? index->count : cio__jcount(obj);
    if (n < 2)
        return false;
    key_bytes_t stack[32];
    key_bytes_t *keys = n <= 32 ? stack : malloc(n * sizeof(*keys));
    if (keys == NULL)
        return false;
    const char *cursor = NULL;
    cio_json_value_t k, v;
    size_t count = 0;
    while (count < n &&
           (indexed ? (k = index->key[count], true) : cio__jnext(obj, &cursor, &k, &v))) {
        key_bytes_t *key = &keys[count++];
        *key = (key_bytes_t){k.text + 1, k.len - 2, NULL, k};
        if (memchr(k.text, '\\', k.len) != NULL) { /* "\u0074ype" is "type" */
            size_t len = cio__jstring(&k, NULL, 0);
            key->owned = malloc(len + 1);
            if (key->owned != NULL) {
                cio__jstring(&k, key->owned, len + 1);
                key->bytes = key->owned;
                key->len = len;
            }
        }
    }
    bool found = false;
    if (count <= 32) { /* few members (the usual case): compare each pair, nothing sorted */
        for (size_t i = 1; i < count && !found; i++) {
            for (size_t j = 0; j < i && !found; j++) {
                if (compare_keys(&keys[i], &keys[j]) == 0) {
                    *dup = keys[i].raw;
                    found = true;
                }
            }
        }
    } else {
        qsort(keys, count, sizeof(*keys), compare_keys);
        for (size_t i = 1; i < count && !found; i++) {
            if (compare_keys(&keys[i], &keys[i - 1]) == 0) {
                *dup = keys[i].raw;
                found = true;
            }
        }
    }
    for (size_t i = 0; i < count; i++)
        free(keys[i].owned);
    if (keys != stack)
        free(keys);
    return found;
}

/* Code point cp as UTF-8 in out; returns its length. */
static size_t utf8_encode(unsigned long cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Inside validated string text: decodes the byte or escape at *p into out, moves *p past it and
 * returns the number of bytes it decodes to (1 to 4). */
static size_t decode_next(const char **p, char out[4]) {
    const char *q = *p;
    if (*q != '\\') {
        out[0] = *q;
        *p = q + 1;
        return 1;
    }
    char e = q[1];
    if (e == 'u') {
        unsigned long cp = (unsigned long)hex4(q + 2);
        q += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(q + 2) - 0xDC00);
            q += 6;
        }
        *p = q;
        return utf8_encode(cp, out);
    }
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    out[0] = to[strchr(from, e) - from];
    *p = q + 2;
    return 1;
}

size_t cio__jstring(const cio_json_value_t *s, char *buf, size_t size) {
    size_t n = 0;
    const char *p = s->text + 1, *end = s->text + s->len - 1;
    while (p < end) {
        char bytes[4];
        size_t k = decode_next(&p, bytes);
        for (size_t i = 0; i < k; i++, n++)
            if (n + 1 < size)
                buf[n] = bytes[i];
    }
    if (size > 0)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

bool cio__jstring_is(const cio_json_value_t *s, const char *want) {
    if (s->kind != CIO_JSON_STRING)
        return false;
    /* An escape makes a string's text longer than its value. So a text shorter than want never
     * is want; one just as long is want exactly when it has no escape and its bytes are want's
     * (a backslash in want would be one in the text: an escape); only a longer one with an
     * escape in it needs decoding. */
    size_t want_len = strlen(want);
    if (s->len <= want_len + 2)
        return s->len == want_len + 2 && memcmp(s->text + 1, want, want_len) == 0 &&
               memchr(want, '\\', want_len) == NULL;
    if (memchr(s->text, '\\', s->len) == NULL)
        return false; /* no escape: the bytes are the value, and they differ */
    /* decoded as it is compared, so a value of any length is compared without a buffer */
    size_t n = 0;
    const char *p = s->text + 1, *end = s->text + s->len - 1;
    while (p < end) {
        char bytes[4];
        size_t k = decode_next(&p, bytes);
        if (k > want_len - n || memcmp(want + n, bytes, k) != 0)
            return false;
        n += k;
    }
    return n == want_len;
}

bool cio__jint(const cio_json_value_t *v, int64_t *out) {
    if (v->kind != CIO_JSON_INTEGER || v->len == 0)
        return false;
    const char *p = v->text, *end = v->text + v->len;
    bool negative = *p == '-';
    if (negative)
        p++;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t value = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (value > (limit - d) / 10)
            return false;
        value = value * 10 + d;
    }
    *out = negative ? (int64_t)(0 - value) : (int64_t)value;
    return true;
}

/* ------------------------------------------------------------ the public API (customerio/json.h)
 */

cio_status_t cio_json_scan(const char *text, size_t len, cio_json_value_t *root) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "JSON: text is NULL");
    cio_json_value_t ignored;
    cio_jerror_t err;
    if (!cio__json_scan(text, len, root != NULL ? root : &ignored, &err))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "JSON: column %zu: %s", err.column, err.text);
    return cio__ok();
}

int cio_json_next(const cio_json_value_t *container, const char **cursor, cio_json_value_t *key,
                  cio_json_value_t *value) {
    return container != NULL && cursor != NULL && value != NULL &&
           cio__jnext(container, cursor, key, value);
}

int cio_json_get(const cio_json_value_t *object, const char *key, cio_json_value_t *value) {
    return object != NULL && key != NULL && value != NULL && object->kind == CIO_JSON_OBJECT &&
           cio__jget(object, key, value);
}

size_t cio_json_string(const cio_json_value_t *value, char *buf, size_t size) {
    if (value == NULL || value->kind != CIO_JSON_STRING)
        return 0;
    return cio__jstring(value, buf, buf != NULL ? size : 0);
}

int cio_json_string_is(const cio_json_value_t *value, const char *want) {
    return value != NULL && want != NULL && cio__jstring_is(value, want);
}

int cio_json_int(const cio_json_value_t *value, int64_t *out) {
    int64_t ignored;
    return value != NULL && cio__jint(value, out != NULL ? out : &ignored);
}
