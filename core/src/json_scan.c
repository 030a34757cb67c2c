/* The validating JSON scanner (json_scan.h). */
#include "json_scan.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 512

typedef struct scanner {
    const char *start, *p, *end;
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
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller). */
static long hex4(const char *p) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
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

static bool scan_string(scanner_t *s) {
    const char *open = s->p++;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if (c < 0x20)
            return fail(s, s->p, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2)
                break;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6)
                    return fail(s, s->p, "short \\u escape");
                long u = hex4(s->p + 2);
                if (u < 0)
                    return fail(s, s->p, "invalid \\u escape");
                if (u == 0)
                    return fail(s, s->p, "\\u0000 is not allowed");
                s->p += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(s, s->p - 6, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    long low = s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u'
                                   ? hex4(s->p + 2)
                                   : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return fail(s, s->p - 6, "lone high surrogate");
                    s->p += 6;
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return fail(s, s->p, "invalid escape");
            s->p += 2;
            continue;
        }
        if (c < 0x80) {
            s->p++;
            continue;
        }
        size_t n = utf8_sequence((const unsigned char *)s->p, (const unsigned char *)s->end);
        if (n == 0)
            return fail(s, s->p, "invalid UTF-8 in a string");
        s->p += n;
    }
    return fail(s, open, "unterminated string");
}

static bool is_digit(const scanner_t *s) {
    return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static bool scan_number(scanner_t *s, cio_jkind_t *kind) {
    const char *begin = s->p;
    *kind = CIO_J_INTEGER;
    if (*s->p == '-')
        s->p++;
    if (!is_digit(s))
        return fail(s, begin, "invalid number");
    if (*s->p == '0')
        s->p++;
    else
        while (is_digit(s))
            s->p++;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!is_digit(s))
            return fail(s, begin, "invalid number");
        while (is_digit(s))
            s->p++;
        *kind = CIO_J_REAL;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!is_digit(s))
            return fail(s, begin, "invalid number");
        while (is_digit(s))
            s->p++;
        *kind = CIO_J_REAL;
    }
    if (*kind == CIO_J_INTEGER) {
        cio_jval_t v = {begin, (size_t)(s->p - begin), CIO_J_INTEGER};
        int64_t ignored;
        if (!cio__jint(&v, &ignored))
            *kind = CIO_J_REAL; /* beyond int64_t: still a number */
    }
    return true;
}

static bool scan_literal(scanner_t *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, s->p, "invalid literal");
    s->p += n;
    return true;
}

static bool scan_value(scanner_t *s, cio_jval_t *out);

static bool scan_container(scanner_t *s, bool object) {
    if (++s->depth > MAX_DEPTH)
        return fail(s, s->p, "nested too deeply");
    char close = object ? '}' : ']';
    s->p++;
    skip_space(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        cio_jval_t v, k = {s->p, 0, CIO_J_STRING};
        if (object) {
            if (s->p >= s->end || *s->p != '"')
                return fail(s, s->p, "expected a member name");
            if (!scan_string(s))
                return false;
            k.len = (size_t)(s->p - k.p);
            skip_space(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, s->p, "expected ':'");
            s->p++;
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
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            skip_space(s);
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        return fail(s, s->p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool scan_value(scanner_t *s, cio_jval_t *out) {
    if (s->p >= s->end)
        return fail(s, s->p, "unexpected end of input");
    const char *begin = s->p;
    bool ok;
    switch (*s->p) {
    case '{':
        out->kind = CIO_J_OBJECT;
        ok = scan_container(s, true);
        break;
    case '[':
        out->kind = CIO_J_ARRAY;
        ok = scan_container(s, false);
        break;
    case '"':
        out->kind = CIO_J_STRING;
        ok = scan_string(s);
        break;
    case 't':
        out->kind = CIO_J_TRUE;
        ok = scan_literal(s, "true", 4);
        break;
    case 'f':
        out->kind = CIO_J_FALSE;
        ok = scan_literal(s, "false", 5);
        break;
    case 'n':
        out->kind = CIO_J_NULL;
        ok = scan_literal(s, "null", 4);
        break;
    default:
        ok = (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
                 ? scan_number(s, &out->kind)
                 : fail(s, s->p, "unexpected character");
    }
    out->p = begin;
    out->len = (size_t)(s->p - begin);
    return ok;
}

bool cio__json_scan(const char *text, size_t len, cio_jval_t *root, cio_jerror_t *err) {
    return cio__json_scan_indexed(text, len, root, NULL, err);
}

bool cio__json_scan_indexed(const char *text, size_t len, cio_jval_t *root, cio_jindex_t *index,
                            cio_jerror_t *err) {
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
    return s.p == s.end || fail(&s, s.p, "end of input expected");
}

const char *cio__jkind_name(cio_jkind_t kind) {
    switch (kind) {
    case CIO_J_OBJECT:
        return "object";
    case CIO_J_ARRAY:
        return "array";
    case CIO_J_STRING:
        return "string";
    case CIO_J_INTEGER:
    case CIO_J_REAL:
        return "number";
    case CIO_J_TRUE:
    case CIO_J_FALSE:
        return "boolean";
    case CIO_J_NULL:
        break;
    }
    return "null";
}

/* ------------------------------------------------------------ reading scanned values */

/* In text already validated: the end of the value starting at p. */
static const char *value_end(const char *p) {
    if (*p == '"') {
        for (p++; *p != '"'; p++)
            if (*p == '\\')
                p++;
        return p + 1;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (;; p++) {
            if (*p == '"') {
                p = value_end(p) - 1;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if ((*p == '}' || *p == ']') && --depth == 0) {
                return p + 1;
            }
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

static cio_jkind_t kind_at(const char *p, size_t len) {
    switch (*p) {
    case '{':
        return CIO_J_OBJECT;
    case '[':
        return CIO_J_ARRAY;
    case '"':
        return CIO_J_STRING;
    case 't':
        return CIO_J_TRUE;
    case 'f':
        return CIO_J_FALSE;
    case 'n':
        return CIO_J_NULL;
    default: {
        cio_jval_t v = {p, len, CIO_J_INTEGER};
        int64_t ignored;
        return memchr(p, '.', len) || memchr(p, 'e', len) || memchr(p, 'E', len) ||
                       !cio__jint(&v, &ignored)
                   ? CIO_J_REAL
                   : CIO_J_INTEGER;
    }
    }
}

bool cio__jnext(const cio_jval_t *c, const char **cursor, cio_jval_t *key, cio_jval_t *value) {
    if (c->kind != CIO_J_OBJECT && c->kind != CIO_J_ARRAY)
        return false;
    const char *p = skip_ws(*cursor == NULL ? c->p + 1 : *cursor);
    if (*p == ',')
        p = skip_ws(p + 1);
    if (p >= c->p + c->len - 1) /* the closing bracket */
        return false;
    if (c->kind == CIO_J_OBJECT) {
        const char *k_end = value_end(p);
        if (key != NULL)
            *key = (cio_jval_t){p, (size_t)(k_end - p), CIO_J_STRING};
        p = skip_ws(skip_ws(k_end) + 1); /* past ':' */
    }
    const char *v_end = value_end(p);
    *value = (cio_jval_t){p, (size_t)(v_end - p), kind_at(p, (size_t)(v_end - p))};
    *cursor = v_end;
    return true;
}

size_t cio__jcount(const cio_jval_t *c) {
    size_t n = 0;
    const char *cursor = NULL;
    cio_jval_t v;
    while (cio__jnext(c, &cursor, NULL, &v))
        n++;
    return n;
}

bool cio__jget(const cio_jval_t *obj, const char *key, cio_jval_t *out) {
    bool found = false;
    const char *cursor = NULL;
    cio_jval_t k, v;
    while (cio__jnext(obj, &cursor, &k, &v)) {
        if (cio__jstring_is(&k, key)) {
            *out = v;
            found = true;
        }
    }
    return found;
}

void cio__jindex(const cio_jval_t *obj, cio_jindex_t *index) {
    index->obj = obj;
    index->count = 0;
    index->complete = true;
    const char *cursor = NULL;
    cio_jval_t k, v;
    while (cio__jnext(obj, &cursor, &k, &v)) {
        if (index->count == CIO_JINDEX_MAX) {
            index->complete = false;
            return;
        }
        index->key[index->count] = k;
        index->value[index->count++] = v;
    }
}

bool cio__jindex_get(const cio_jindex_t *index, const char *key, cio_jval_t *out) {
    if (!index->complete)
        return cio__jget(index->obj, key, out);
    for (size_t i = index->count; i-- > 0;) { /* the last of repeated keys wins */
        if (cio__jstring_is(&index->key[i], key)) {
            *out = index->value[i];
            return true;
        }
    }
    return false;
}

/* Appends code point cp as UTF-8 at buf[n] while it fits; returns the new length. */
static size_t put_utf8(char *buf, size_t size, size_t n, unsigned long cp) {
    char tmp[4];
    size_t k;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    for (size_t i = 0; i < k; i++, n++)
        if (n + 1 < size)
            buf[n] = tmp[i];
    return n;
}

size_t cio__jstring(const cio_jval_t *s, char *buf, size_t size) {
    size_t n = 0;
    const char *p = s->p + 1, *end = s->p + s->len - 1;
    while (p < end) {
        if (*p != '\\') {
            if (n + 1 < size)
                buf[n] = *p;
            n++;
            p++;
            continue;
        }
        char e = p[1];
        if (e == 'u') {
            unsigned long cp = (unsigned long)hex4(p + 2);
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(p + 2) - 0xDC00);
                p += 6;
            }
            n = put_utf8(buf, size, n, cp);
            continue;
        }
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        if (n + 1 < size)
            buf[n] = to[strchr(from, e) - from];
        n++;
        p += 2;
    }
    if (size > 0)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

bool cio__jstring_is(const cio_jval_t *s, const char *want) {
    if (s->kind != CIO_J_STRING)
        return false;
    size_t want_len = strlen(want);
    if (memchr(s->p, '\\', s->len) == NULL) /* the common case: the bytes are the value */
        return s->len == want_len + 2 && memcmp(s->p + 1, want, want_len) == 0;
    char buf[256];
    size_t n = cio__jstring(s, buf, sizeof(buf));
    return n == want_len && n < sizeof(buf) && memcmp(buf, want, n) == 0;
}

bool cio__jint(const cio_jval_t *v, int64_t *out) {
    if (v->kind != CIO_J_INTEGER || v->len == 0)
        return false;
    const char *p = v->p, *end = v->p + v->len;
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
