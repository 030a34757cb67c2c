/*
 * tests/fuzz/fuzz_util.h - what every libFuzzer target shares: a failed property prints why and
 * aborts (libFuzzer then saves the input as a crash), and the input copied into exactly-sized
 * heap memory so that AddressSanitizer sees any read past its end.
 */
#ifndef CIO_FUZZ_UTIL_H
#define CIO_FUZZ_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz property failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* data[0..size) in a malloc'd block of exactly size bytes (1 when size is 0), no terminator. */
static inline char *fuzz_bytes(const uint8_t *data, size_t size) {
    char *p = malloc(size > 0 ? size : 1);
    if (p == NULL)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    return p;
}

/* data[0..size) up to its first NUL byte, as a C string in exactly-sized heap memory. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
    const uint8_t *nul = size > 0 ? memchr(data, 0, size) : NULL;
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    char *p = malloc(n + 1);
    if (p == NULL)
        abort();
    if (n > 0)
        memcpy(p, data, n);
    p[n] = '\0';
    return p;
}

#endif
