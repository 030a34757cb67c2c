/*
 * cli/values.h - turning command-line and CSV text into JSON values: the "numbers, true, false
 * and null are JSON, anything else is a string" rule, strict number, integer and boolean
 * parsing, and ISO 8601 dates to unix seconds.
 */
#ifndef CIO_CLI_VALUES_H
#define CIO_CLI_VALUES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* True when s is exactly a JSON number (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?). */
bool value_is_json_number(const char *s);

/* A number, true, false or null when s spells one in JSON, else the string s. New reference. */
json_t *value_auto(const char *s);

/* Strict parsers: the whole of s (surrounding blanks allowed) must be the value. 0 on success. */
int value_parse_integer(const char *s, int64_t *out);
int value_parse_number(const char *s, json_t **out); /* a JSON number; new reference */
/* true/false, yes/no, y/n, t/f, 1/0, on/off (any case). */
int value_parse_bool(const char *s, bool *out);

/*
 * Unix seconds from s: decimal digits (already unix seconds), or an ISO 8601 date-time:
 * YYYY-MM-DD, then optionally T or a space and HH:MM[:SS[.fraction]], then optionally Z or
 * +HH:MM / -HH:MM / +HHMM / +HH. Without a zone the time is UTC. Fractions are dropped.
 * 0 on success; -1 when s is neither (or out of range, or before 1970).
 */
int value_parse_time(const char *s, int64_t *out);

/* Unix seconds of a UTC civil date and time (proleptic Gregorian). */
int64_t value_unix_seconds(int64_t year, int month, int day, int hour, int minute, int second);

#endif
