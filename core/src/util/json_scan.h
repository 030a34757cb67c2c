/*
 * A validating JSON scanner that builds nothing: cio__json_scan() checks that a text is exactly
 * one JSON value (RFC 8259 grammar, UTF-8 in strings, no "\u0000", nesting under a limit), then
 * json_read.h reads members and elements straight out of the caller's text.
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

/* cio__json_scan(), and when the value is an object, *index gets its members as they are found
 * (no second pass over the text). */
bool cio__json_scan_indexed(const char *text, size_t len, cio_json_value_t *root,
                            cio_jindex_t *index, cio_jerror_t *err);

/* cio__json_scan_indexed() (index may be NULL) of a value that will sit depth levels deep in a
 * document being put together: the nesting limit counts those levels too, so the whole stays
 * within it. */
bool cio__json_scan_within(const char *text, size_t len, int depth, cio_json_value_t *root,
                           cio_jindex_t *index, cio_jerror_t *err);

/* An integer value (CIO_JSON_INTEGER only). */
bool cio__jint(const cio_json_value_t *v, int64_t *out);

#endif
