/*
 * customerio/json.h - reading JSON text without building anything.
 *
 * The library checks every operation and message it is given with this scanner before queuing
 * it; it is public so that programs that receive such JSON (the emulator, a relay, a validator
 * in front of a queue) can check and read it the same way at the same cost: one pass over the
 * text, no allocation, values read in place.
 *
 * cio_json_scan() accepts exactly one JSON value (RFC 8259: whitespace around it allowed, UTF-8
 * in strings, surrogate pairs matched) and refuses "\u0000" in strings and nesting deeper than
 * 512 levels. The other functions read values inside text that cio_json_scan() accepted; on any
 * other text their behaviour is undefined.
 *
 * Nothing here allocates, and every value points into the caller's text, which must outlive it.
 * Thread-safety: all functions are reentrant.
 */
#ifndef CUSTOMERIO_JSON_H
#define CUSTOMERIO_JSON_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cio_json_kind {
    CIO_JSON_NULL = 0,
    CIO_JSON_FALSE,
    CIO_JSON_TRUE,
    CIO_JSON_INTEGER, /* no fraction or exponent, and fits in int64_t */
    CIO_JSON_REAL,    /* any other number */
    CIO_JSON_STRING,
    CIO_JSON_ARRAY,
    CIO_JSON_OBJECT
} cio_json_kind_t;

/* A value inside scanned text: its bytes (a string's with its quotes) and its kind. */
typedef struct cio_json_value {
    const char *text;
    size_t len;
    cio_json_kind_t kind;
} cio_json_value_t;

/*
 * Checks that text[0..len) is one JSON value; *root (if non-NULL) gets it. CIO_OK, or
 * CIO_E_INVALID_ARGUMENT with cio_last_error() saying where and why ("JSON: column 17: expected
 * ',' or '}'").
 */
CIO_EXTERN cio_status_t cio_json_scan(const char *text, size_t len, cio_json_value_t *root);

/*
 * Walks a container: start with *cursor = NULL; each call fills *key (objects only; may be
 * NULL) and *value with the next member or element and returns 1, then 0 at the end (or when
 * container is not an object or array).
 */
CIO_EXTERN int cio_json_next(const cio_json_value_t *container, const char **cursor,
                             cio_json_value_t *key, cio_json_value_t *value);

/* The value of member key of an object (the last, if the key repeats): 1, or 0 if none. */
CIO_EXTERN int cio_json_get(const cio_json_value_t *object, const char *key,
                            cio_json_value_t *value);

/*
 * Decodes a string value into buf (escapes resolved, NUL-terminated, truncated to size - 1
 * bytes) and returns its whole decoded length; 0 for a value that is not a string.
 */
CIO_EXTERN size_t cio_json_string(const cio_json_value_t *value, char *buf, size_t size);

/* Whether a value is a string that decodes to exactly want. */
CIO_EXTERN int cio_json_string_is(const cio_json_value_t *value, const char *want);

/* An integer value: 1 and *out, or 0 for anything else. */
CIO_EXTERN int cio_json_int(const cio_json_value_t *value, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
