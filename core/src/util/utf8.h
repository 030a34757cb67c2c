/* UTF-8 and text helpers (validity, cutting, hex digits, control characters). Private: not
 * installed. Includes nothing above util/. Pure functions; thread-safe. */
#ifndef CIO_UTIL_UTF8_H
#define CIO_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool cio__utf8_valid(const char *s, size_t len);
bool cio__has_control_char(const char *s);
/* How many of the len bytes of UTF-8 text s to keep so that at most max are kept and no
 * character is cut in half (for quoting caller text in error messages). */
size_t cio__utf8_cut(const char *s, size_t len, size_t max);
/* The value of one hex digit, or -1. */
int cio__hex_value(char c);
/* The value of the four hex digits at p (all four readable), or -1. */
long cio__hex4(const char *p);

#endif
