/* A growable byte buffer and percent-encoding of path segments. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(cio_buf_t *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
    if (p == NULL)
        return false;
    if (b->borrowed)
        memcpy(p, b->data, b->len + 1);
    b->data = p;
    b->cap = cap;
    b->borrowed = false;
    return true;
}

bool cio__buf_reserve(cio_buf_t *b, size_t extra) {
    return reserve(b, extra);
}

bool cio__buf_printf(cio_buf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void cio__buf_free(cio_buf_t *b) {
    if (!b->borrowed)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->borrowed = false;
}

static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool cio__buf_append_path_segment(cio_buf_t *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    if (!reserve(b, n * 3))
        return false;
    char *out = b->data + b->len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p)) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
    return true;
}
