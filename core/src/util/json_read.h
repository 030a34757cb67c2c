/*
 * Reading scanned JSON (json_read.c): members and elements are read straight out of the text
 * cio__json_scan() checked (json_scan.h), decoding only the values that are looked at.
 */
#ifndef CIO_JSON_READ_H
#define CIO_JSON_READ_H

#include "json_scan.h"

/* The value of member key in object obj (the last one if the key repeats). */
bool cio__jget(const cio_json_value_t *obj, const char *key, cio_json_value_t *out);

/* The members of obj into index (read once: several lookups then walk no text). */
void cio__jindex(const cio_json_value_t *obj, cio_jindex_t *index);

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

#endif
