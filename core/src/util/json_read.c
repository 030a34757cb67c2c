/*
 * Reading JSON that the scanner (json_scan.c) accepted: walking members and elements, looking
 * names up, decoding strings (integers: cio__jint, in json_scan.c), finding repeated names, and
 * the public wrappers of customerio/json.h. Nothing here validates: the text is known to be well
 * formed.
 */
#include "json_read.h"

#include "error.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

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
    index->escaped = 0;
    index->lengths = 0;
    if (obj->kind != CIO_JSON_OBJECT)
        return;
    /* One walk over the members (the text is valid: no checks), without cio__jnext's cursor. */
    const char *p = skip_ws(obj->text + 1);
    while (*p == '"') {
        const char *k_end = string_end(p);
        const char *v = skip_ws(skip_ws(k_end) + 1); /* past ':' */
        const char *v_end = value_end(v);
        if (index->count == CIO_JINDEX_MAX) {
            index->complete = false;
            return;
        }
        cio_json_value_t k = {p, (size_t)(k_end - p), CIO_JSON_STRING};
        if (memchr(k.text, '\\', k.len) != NULL)
            index->escaped |= (uint32_t)1 << index->count;
        index->lengths |= (uint32_t)1 << (k.len & 31);
        index->key[index->count] = k;
        index->value[index->count++] =
            (cio_json_value_t){v, (size_t)(v_end - v), kind_at(v, (size_t)(v_end - v))};
        p = skip_ws(v_end);
        if (*p != ',')
            return; /* the closing brace */
        p = skip_ws(p + 1);
    }
}

const cio_json_value_t *cio__jindex_get_slow(const cio_jindex_t *index, const char *key, size_t len,
                                             cio_json_value_t *out) {
    if (!index->complete)
        return cio__jget(index->obj, key, out) ? out : NULL;
    for (size_t i = index->count; i-- > 0;) { /* the last of repeated keys wins */
        const cio_json_value_t *k = &index->key[i];
        /* A key without an escape is its bytes (no backslash among them): it matches when they
         * are key's. One with an escape is longer than its value, and is decoded to compare. */
        bool match = (index->escaped >> i & 1) == 0
                         ? k->len == len + 2 && memcmp(k->text + 1, key, len) == 0
                         : k->len > len + 2 && cio__jstring_is(k, key);
        if (match) {
            *out = index->value[i];
            return out;
        }
    }
    return NULL;
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
        bool escaped = indexed ? (index->escaped >> (count - 1) & 1) != 0
                               : memchr(k.text, '\\', k.len) != NULL;
        if (escaped) { /* "\u0074ype" is "type" */
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
        unsigned long cp = (unsigned long)cio__hex4(q + 2);
        q += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)cio__hex4(q + 2) - 0xDC00);
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
    /* the bytes before the first escape are the value's: copied as they are */
    const char *escape = memchr(p, '\\', (size_t)(end - p));
    n = (size_t)((escape != NULL ? escape : end) - p);
    if (size > 0)
        memcpy(buf, p, n < size ? n : size - 1);
    p += n;
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
