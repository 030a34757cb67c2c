/*
 * A validating JSON scanner that builds nothing: cio__json_scan() checks that a text is exactly
 * one JSON value (RFC 8259 grammar, UTF-8 in strings, no "\u0000", nesting under a limit), then
 * the other functions (json_read.c) read members and elements straight out of the caller's text.
 *
 * Why not jansson here: checking an operation on the enqueue path with jansson means a tree of
 * mallocs per call, most of the cost of an enqueue. Only values that are looked at (type, action,
 * identifiers...) are ever decoded; everything else is checked once and copied as bytes.
 */
#ifndef CIO_JSON_SCAN_H
#define CIO_JSON_SCAN_H

#include "customerio/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Values and kinds are the public ones (customerio/json.h, whose functions wrap these). */

/* Why cio__json_scan() refused a text. */
typedef struct cio_jerror {
    size_t column; /* 1-based byte offset of the fault */
    char text[64];
} cio_jerror_t;

/* Checks that text[0..len) is one JSON value, whitespace around it allowed; *root gets it. */
bool cio__json_scan(const char *text, size_t len, cio_json_value_t *root, cio_jerror_t *err);

/* "object", "array", "string", "number", "boolean" or "null" (the words errors use). */
const char *cio__jkind_name(cio_json_kind_t kind);

/* The value of member key in object obj (the last one if the key repeats). */
bool cio__jget(const cio_json_value_t *obj, const char *key, cio_json_value_t *out);

/*
 * The members of one object, read once so that looking several of them up does not walk the text
 * again each time. Objects with more than CIO_JINDEX_MAX members are looked up in the text.
 */
#define CIO_JINDEX_MAX 24
typedef struct cio_jindex {
    const cio_json_value_t *obj;
    size_t count; /* members indexed; all of them when complete */
    bool complete;
    uint32_t escaped; /* bit i: key[i] holds an escape (its text is not its value) */
    uint32_t lengths; /* bit n % 32: some key's text (quotes included) is n bytes long */
    cio_json_value_t key[CIO_JINDEX_MAX], value[CIO_JINDEX_MAX];
} cio_jindex_t;

void cio__jindex(const cio_json_value_t *obj, cio_jindex_t *index);
/* cio__json_scan(), and when the value is an object, *index gets its members as they are found
 * (no second pass over the text). */
bool cio__json_scan_indexed(const char *text, size_t len, cio_json_value_t *root,
                            cio_jindex_t *index, cio_jerror_t *err);

/* cio__json_scan_indexed() (index may be NULL) of a value that will sit depth levels deep in a
 * document being put together: the nesting limit counts those levels too, so the whole stays
 * within it. */
bool cio__json_scan_within(const char *text, size_t len, int depth, cio_json_value_t *root,
                           cio_jindex_t *index, cio_jerror_t *err);

/* Whether two members of object obj have the same name once decoded; *dup gets the second.
 * index (may be NULL) saves a walk over the text when it is complete. */
bool cio__jduplicate_key(const cio_json_value_t *obj, const cio_jindex_t *index,
                         cio_json_value_t *dup);

/* cio__jindex_get() where it does not compare bytes: an incomplete index (looked up in the
 * text), a key with an escape (decoded to compare). */
const cio_json_value_t *cio__jindex_get_slow(const cio_jindex_t *index, const char *key,
                                             size_t key_len, cio_json_value_t *out);

/* Like cio__jget(), on an index; returns out when found, else NULL. Inline: several lookups run
 * for every operation enqueued, and a literal key's length and bytes are constants here. */
static inline const cio_json_value_t *cio__jindex_get(const cio_jindex_t *index, const char *key,
                                                      cio_json_value_t *out) {
    size_t len = strlen(key);
    if (!index->complete || index->escaped != 0)
        return cio__jindex_get_slow(index, key, len, out);
    if ((index->lengths >> ((len + 2) & 31) & 1) == 0)
        return NULL; /* no key of that length (an absent optional member, most often) */
    for (size_t i = index->count; i-- > 0;) { /* the last of repeated keys wins */
        /* without an escape, a key's text is its value: the same bytes, quoted */
        const cio_json_value_t *k = &index->key[i];
        if (k->len == len + 2 && memcmp(k->text + 1, key, len) == 0) {
            *out = index->value[i];
            return out;
        }
    }
    return NULL;
}

/* Members of an object or elements of an array. */
size_t cio__jcount(const cio_json_value_t *container);

/* Iterates a container: *cursor starts NULL; fills *key (objects; may be NULL) and *value. */
bool cio__jnext(const cio_json_value_t *container, const char **cursor, cio_json_value_t *key,
                cio_json_value_t *value);

/*
 * Decodes a string value into buf (NUL-terminated, truncated to size - 1 bytes); returns its
 * full decoded length. The text is already valid, so decoding cannot fail.
 */
size_t cio__jstring(const cio_json_value_t *s, char *buf, size_t size);

/* Whether a string value decodes to exactly want. */
bool cio__jstring_is(const cio_json_value_t *s, const char *want);

/* An integer value (CIO_JSON_INTEGER only). */
bool cio__jint(const cio_json_value_t *v, int64_t *out);

#endif
