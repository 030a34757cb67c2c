/* The JSON writer (jansson values and strings into a cio_buf_t) and the checks of a caller's JSON
 * arguments (json_write.c). Private: not installed. Includes nothing above util/. Thread-safe
 * (every function works on its arguments only). */
#ifndef CIO_UTIL_JSON_WRITE_H
#define CIO_UTIL_JSON_WRITE_H

#include "buf.h"
#include "json_scan.h"

#include "customerio/common.h"

#include <jansson.h>

/*
 * Checks that text (NULL allowed: "no value") is one JSON object in valid UTF-8. The caller's
 * text is then spliced into the envelope as is, so numbers keep their exact spelling.
 */
cio_status_t cio__check_json_object(const char *call, const char *field, const char *text);
/* Same for a required JSON array (NULL is an error naming the field). */
cio_status_t cio__check_json_array(const char *call, const char *field, const char *text);
/* "object", "array", "string", "number", "boolean" or "null". */
const char *cio__json_type_name(const json_t *value);
/* Appends a parsed value as compact JSON, key order kept, reals in their shortest exact form. */
bool cio__buf_append_json(cio_buf_t *b, const json_t *value);
/* Appends s as a JSON string literal (quoted, escaped). s must be valid UTF-8. */
bool cio__buf_append_json_string(cio_buf_t *b, const char *s);

/*
 * A caller's JSON (the argument or item named label of call) scanned with cio__json_scan_within;
 * CIO_E_INVALID_ARGUMENT otherwise, saying whether it is not UTF-8 or where its JSON breaks
 * (json_write.c). Every entry point that takes JSON text explains a refusal this way.
 */
cio_status_t cio__json_scan_argument(const char *call, const char *label, const char *text,
                                     size_t len, int depth, cio_json_value_t *root,
                                     cio_jindex_t *index);

#endif
