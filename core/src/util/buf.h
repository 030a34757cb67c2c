/* A growable byte buffer and percent-encoding of path segments. Private: not installed.
 * Includes nothing above util/. Not thread-safe: one buffer belongs to one thread at a time. */
#ifndef CIO_UTIL_BUF_H
#define CIO_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct cio_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    bool borrowed; /* data is the caller's storage (a stack array): copied out when it grows,
                      never freed */
} cio_buf_t;

/* A buffer that starts in storage[0..size) (which must outlive it) and moves to the heap only
 * if it outgrows it: a message built and queued at once needs no allocation of its own. */
#define CIO_BUF_ON(storage, size) ((storage)[0] = '\0', (cio_buf_t){(storage), 0, (size), true})

/* Makes room for extra more bytes (and the NUL) in one allocation. */
bool cio__buf_reserve(cio_buf_t *b, size_t extra);
/* Inline: messages are put together from many small pieces, and a call per piece showed. */
static inline bool cio__buf_append(cio_buf_t *b, const void *data, size_t len) {
    if (b->len + len + 1 > b->cap && !cio__buf_reserve(b, len))
        return false;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}
/* Inline too: most pieces are literals, whose length is then a constant. */
static inline bool cio__buf_appends(cio_buf_t *b, const char *s) {
    return cio__buf_append(b, s, strlen(s));
}
bool cio__buf_printf(cio_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cio__buf_free(cio_buf_t *b);
/* Appends s percent-encoded with no safe characters (only ALPHA DIGIT - . _ ~ kept). */
bool cio__buf_append_path_segment(cio_buf_t *b, const char *s);

#endif
