/* The validating JSON scanner (json_scan.h): what is JSON, and the index of an object's members
 * found while checking it; also the integer decoder it classifies numbers with (cio__jint), so the
 * scanner needs nothing of the reader. Reading accepted text is json_read.c. */
#include "json_scan.h"

#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

typedef struct scanner {
    const char *start, *text, *end; /* text: the scan position */
    int depth;
    bool escaped; /* the last string scanned held an escape */
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

static bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The scan position is read into a local in the loops: written through a struct member, every
 * char store or load may alias it, and the compiler reloads it per byte. */
static void skip_space_slow(scanner_t *s) {
    const char *p = s->text;
    while (p < s->end && is_space(*p))
        p++;
    s->text = p;
}

/* Compact JSON has no space between tokens: that case costs a compare. */
static inline void skip_space(scanner_t *s) {
    if (s->text < s->end && (unsigned char)*s->text > ' ')
        return;
    skip_space_slow(s);
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

/* The first byte in [p, end) that string_special marks, or end. Eight bytes at a time where the
 * byte order allows: a mask of the bytes that are '"', '\\', below 0x20 or above 0x7F (the
 * classic "has a zero / a byte less than n" tricks; a borrow only spreads to bytes after the
 * first hit, so the lowest set bit is exactly the first special byte). */
static inline const char *plain_run_end(const char *p, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        uint64_t m = (w & high) | ((w - ones * 0x20) & ~w & high) | ((q - ones) & ~q & high) |
                     ((b - ones) & ~b & high);
        if (m != 0)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && !string_special[(unsigned char)*p])
        p++;
    return p;
}

/* The rest of a string from p (past its plain start): escapes, UTF-8, its end or a fault. */
static bool scan_string_rest(scanner_t *s, const char *p) {
    const char *open = s->text, *end = s->end;
    s->escaped = false;
    while (p < end) {
        p = plain_run_end(p, end); /* plain ASCII */
        if (p >= end)
            break;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            s->text = p + 1;
            return true;
        }
        if (c < 0x20)
            return fail(s, p, "control character in a string");
        if (c == '\\') {
            if (end - p < 2)
                break;
            s->escaped = true;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return fail(s, p, "short \\u escape");
                long u = cio__hex4(p + 2);
                if (u < 0)
                    return fail(s, p, "invalid \\u escape");
                if (u == 0)
                    return fail(s, p, "\\u0000 is not allowed");
                p += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return fail(s, p - 6, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    long low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? cio__hex4(p + 2) : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return fail(s, p - 6, "lone high surrogate");
                    p += 6;
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return fail(s, p, "invalid escape");
            p += 2;
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_sequence((const unsigned char *)p, (const unsigned char *)end);
        if (n == 0)
            return fail(s, p, "invalid UTF-8 in a string");
        p += n;
    }
    return fail(s, open, "unterminated string");
}

/* s->text at the opening quote: past the closing one. Most strings are plain ASCII to their
 * end: that case is inline. */
static inline bool scan_string(scanner_t *s) {
    const char *p = plain_run_end(s->text + 1, s->end);
    if (p < s->end && *p == '"') {
        s->escaped = false;
        s->text = p + 1;
        return true;
    }
    return scan_string_rest(s, p);
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
        bool key_escaped = false;
        if (object) {
            if (s->text >= s->end || *s->text != '"')
                return fail(s, s->text, "expected a member name");
            if (!scan_string(s))
                return false;
            k.len = (size_t)(s->text - k.text);
            key_escaped = s->escaped;
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
                if (key_escaped)
                    ix->escaped |= (uint32_t)1 << ix->count;
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
    return cio__json_scan_within(text, len, 0, root, NULL, err);
}

bool cio__json_scan_indexed(const char *text, size_t len, cio_json_value_t *root,
                            cio_jindex_t *index, cio_jerror_t *err) {
    return cio__json_scan_within(text, len, 0, root, index, err);
}

bool cio__json_scan_within(const char *text, size_t len, int depth, cio_json_value_t *root,
                           cio_jindex_t *index, cio_jerror_t *err) {
    scanner_t s = {text, text, text + len, depth, false, err, index};
    if (index != NULL) {
        index->obj = root;
        index->count = 0;
        index->complete = true;
        index->escaped = 0;
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
