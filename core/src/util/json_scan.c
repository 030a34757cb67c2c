/* The validating JSON scanner (json_scan.h): what is JSON, and the index of an object's members
 * found while checking it; also the integer decoder it classifies numbers with (cio__jint), so the
 * scanner needs nothing of the reader. Reading accepted text is json_read.c. */
#include "json_scan.h"

#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 512

/* The scan position is not kept here: each function takes it and returns where it stopped
 * (NULL after fail()), so it stays in a register (through a struct member, every char load or
 * store may alias it, and the compiler reloads it per byte). */
typedef struct scanner {
    const char *start, *end;
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

/* fail() for the functions that return the position. */
static const char *failed(scanner_t *s, const char *at, const char *what) {
    fail(s, at, what);
    return NULL;
}

static bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline const char *skip_space(const char *p, const char *end) {
    while (p < end && (unsigned char)*p <= ' ' && is_space(*p))
        p++;
    return p;
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
 * byte order allows, with a mask whose high bit is set in each byte that is below 0x20 (w - 0x20
 * borrows), above 0x7F (w itself), '"' or '\\' (w ^ that byte is 0, so subtracting 1 borrows).
 * A borrow also marks bytes above the one it comes from, but only a special byte starts one:
 * the lowest marked byte is exactly the first special byte. */
static inline const char *plain_run_end(const char *p, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        uint64_t m = ((w - ones * 0x20) | w | (q - ones) | (b - ones)) & high;
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
static const char *scan_string_rest(scanner_t *s, const char *open, const char *p) {
    const char *end = s->end;
    s->escaped = false;
    while (p < end) {
        p = plain_run_end(p, end); /* plain ASCII */
        if (p >= end)
            break;
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return failed(s, p, "control character in a string");
        if (c == '\\') {
            if (end - p < 2)
                break;
            s->escaped = true;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return failed(s, p, "short \\u escape");
                long u = cio__hex4(p + 2);
                if (u < 0)
                    return failed(s, p, "invalid \\u escape");
                if (u == 0)
                    return failed(s, p, "\\u0000 is not allowed");
                p += 6;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return failed(s, p - 6, "lone low surrogate");
                if (u >= 0xD800 && u <= 0xDBFF) {
                    long low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? cio__hex4(p + 2) : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return failed(s, p - 6, "lone high surrogate");
                    p += 6;
                }
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return failed(s, p, "invalid escape");
            p += 2;
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_sequence((const unsigned char *)p, (const unsigned char *)end);
        if (n == 0)
            return failed(s, p, "invalid UTF-8 in a string");
        p += n;
    }
    return failed(s, open, "unterminated string");
}

/* p at a string's opening quote: past its closing one. Most strings are plain ASCII to their
 * end: that case is inline. */
static inline const char *scan_string(scanner_t *s, const char *p) {
    const char *q = plain_run_end(p + 1, s->end);
    if (q < s->end && *q == '"') {
        s->escaped = false;
        return q + 1;
    }
    return scan_string_rest(s, p, q);
}

static bool is_digit(const char *p, const char *end) {
    return p < end && *p >= '0' && *p <= '9';
}

static const char *scan_number(scanner_t *s, const char *p, cio_json_kind_t *kind) {
    const char *begin = p, *end = s->end;
    *kind = CIO_JSON_INTEGER;
    if (*p == '-')
        p++;
    if (!is_digit(p, end))
        return failed(s, begin, "invalid number");
    if (*p == '0')
        p++;
    else
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end))
            return failed(s, begin, "invalid number");
        while (is_digit(p, end))
            p++;
        *kind = CIO_JSON_REAL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return failed(s, begin, "invalid number");
        while (is_digit(p, end))
            p++;
        *kind = CIO_JSON_REAL;
    }
    if (*kind == CIO_JSON_INTEGER && p - begin > 18) { /* 18 digits always fit */
        cio_json_value_t v = {begin, (size_t)(p - begin), CIO_JSON_INTEGER};
        int64_t ignored;
        if (!cio__jint(&v, &ignored))
            *kind = CIO_JSON_REAL; /* beyond int64_t: still a number */
    }
    return p;
}

static const char *scan_literal(scanner_t *s, const char *p, const char *word, size_t n) {
    if ((size_t)(s->end - p) < n || memcmp(p, word, n) != 0)
        return failed(s, p, "invalid literal");
    return p + n;
}

static const char *scan_value(scanner_t *s, const char *p, cio_json_value_t *out);

static const char *scan_container(scanner_t *s, const char *p, bool object) {
    const char *end = s->end;
    if (++s->depth > MAX_DEPTH)
        return failed(s, p, "nested too deeply");
    char close = object ? '}' : ']';
    p = skip_space(p + 1, end);
    if (p < end && *p == close) {
        s->depth--;
        return p + 1;
    }
    for (;;) {
        cio_json_value_t v, k = {p, 0, CIO_JSON_STRING};
        bool key_escaped = false;
        if (object) {
            if (p >= end || *p != '"')
                return failed(s, p, "expected a member name");
            if ((p = scan_string(s, p)) == NULL)
                return NULL;
            k.len = (size_t)(p - k.text);
            key_escaped = s->escaped;
            /* Whitespace is skipped only where the byte expected is not there: compact JSON (what
             * programs write) then costs one compare per token. */
            if (p >= end || *p != ':')
                p = skip_space(p, end);
            if (p >= end || *p != ':')
                return failed(s, p, "expected ':'");
            p++;
        }
        if (p >= end || *p != '"')
            p = skip_space(p, end);
        if (p < end && *p == '"') { /* the most common value: a string, without a call */
            v.text = p;
            v.kind = CIO_JSON_STRING;
            if ((p = scan_string(s, p)) == NULL)
                return NULL;
            v.len = (size_t)(p - v.text);
        } else if ((p = scan_value(s, p, &v)) == NULL) {
            return NULL;
        }
        if (object && s->depth == 1 && s->top != NULL) {
            cio_jindex_t *ix = s->top;
            if (ix->count < CIO_JINDEX_MAX) {
                if (key_escaped)
                    ix->escaped |= (uint32_t)1 << ix->count;
                ix->lengths |= (uint32_t)1 << (k.len & 31);
                ix->key[ix->count] = k;
                ix->value[ix->count++] = v;
            } else {
                ix->complete = false;
            }
        }
        if (p >= end || (*p != ',' && *p != close))
            p = skip_space(p, end);
        if (p < end && *p == ',') {
            p++;
            if (p >= end || *p != '"')
                p = skip_space(p, end);
            continue;
        }
        if (p < end && *p == close) {
            s->depth--;
            return p + 1;
        }
        return failed(s, p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static const char *scan_value(scanner_t *s, const char *p, cio_json_value_t *out) {
    if (p >= s->end)
        return failed(s, p, "unexpected end of input");
    const char *begin = p;
    switch (*p) {
    case '{':
        out->kind = CIO_JSON_OBJECT;
        p = scan_container(s, p, true);
        break;
    case '[':
        out->kind = CIO_JSON_ARRAY;
        p = scan_container(s, p, false);
        break;
    case '"':
        out->kind = CIO_JSON_STRING;
        p = scan_string(s, p);
        break;
    case 't':
        out->kind = CIO_JSON_TRUE;
        p = scan_literal(s, p, "true", 4);
        break;
    case 'f':
        out->kind = CIO_JSON_FALSE;
        p = scan_literal(s, p, "false", 5);
        break;
    case 'n':
        out->kind = CIO_JSON_NULL;
        p = scan_literal(s, p, "null", 4);
        break;
    default:
        p = (*p == '-' || (*p >= '0' && *p <= '9')) ? scan_number(s, p, &out->kind)
                                                    : failed(s, p, "unexpected character");
    }
    if (p == NULL)
        return NULL;
    out->text = begin;
    out->len = (size_t)(p - begin);
    return p;
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
    scanner_t s = {text, text + len, depth, false, err, index};
    if (index != NULL) {
        index->obj = root;
        index->count = 0;
        index->complete = true;
        index->escaped = 0;
        index->lengths = 0;
    }
    const char *p = scan_value(&s, skip_space(text, s.end), root);
    if (p == NULL)
        return false;
    p = skip_space(p, s.end);
    return p == s.end || fail(&s, p, "end of input expected");
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
