/*
 * cli/jsonw.h - writes JSON the way the cio-native command prints and sends it: compact (or
 * indented), keys in their original order, and every real number in the shortest spelling that
 * reads back as the same double (so 23.45 stays 23.45, where jansson's own writer prints 17
 * digits).
 */
#ifndef CIO_CLI_JSONW_H
#define CIO_CLI_JSONW_H

#include "util.h"

#include <jansson.h>

/* Appends v; indent 0 = compact, else that many spaces per level. */
void jw_value(sbuf_t *b, const json_t *v, int indent);
/* Appends s[0..len) as a JSON string (quotes included). */
void jw_string(sbuf_t *b, const char *s, size_t len);
/* A malloc'd serialisation of v (compact when indent is 0). */
char *jw_dumps(const json_t *v, int indent);
/* Writes v and a newline to f. */
void jw_print(FILE *f, const json_t *v, int indent);

#endif
