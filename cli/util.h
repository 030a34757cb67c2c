/*
 * cli/util.h - small things every part of the cio-native command uses: a growable string buffer,
 * allocation that never returns NULL, clocks, and reading a whole stream.
 */
#ifndef CIO_CLI_UTIL_H
#define CIO_CLI_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every subcommand. */
enum {
    EXIT_ALL_OK = 0,  /* everything was done (delivered, valid, sent) */
    EXIT_PARTIAL = 1, /* some records were rejected or failed; a call failed; a signature is bad */
    EXIT_USAGE = 2    /* bad arguments, configuration or schema: nothing was attempted */
};

/* A growable NUL-terminated buffer. Zero-initialise ({0}) before use. */
typedef struct sbuf {
    char *data;
    size_t len;
    size_t cap;
} sbuf_t;

void sb_append(sbuf_t *b, const void *data, size_t len);
void sb_puts(sbuf_t *b, const char *s);
void sb_putc(sbuf_t *b, char c);
void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(sbuf_t *b, const char *fmt, va_list ap);
void sb_clear(sbuf_t *b);
/* Hands the buffer's memory to the caller ("" when empty) and resets the buffer. */
char *sb_take(sbuf_t *b);
void sb_free(sbuf_t *b);

/* Allocation that exits the program (status 2) rather than return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);

/*
 * Limits on what the command reads whole into memory (cli/README.md, "Limits"): a file over its
 * limit is refused with an error naming it, before it is parsed.
 */
#define CLI_MAX_SCHEMA_BYTES ((size_t)1 << 20)       /* --schema: 1 MiB */
#define CLI_MAX_CONFIG_BYTES ((size_t)1 << 20)       /* --config: 1 MiB */
#define CLI_MAX_KEY_FILE_BYTES ((size_t)64 << 10)    /* --key-file: 64 KiB */
#define CLI_MAX_WEBHOOK_BODY_BYTES ((size_t)1 << 20) /* webhook verify / listen: 1 MiB */
#define CLI_MAX_EMAIL_FILE_BYTES ((size_t)10 << 20)  /* send-email --body-file, --attach */
#define CLI_MAX_DEPTH 64                             /* nesting of a schema (JSON or YAML) */

/* Reads at most max bytes from f into a malloc'd NUL-terminated buffer; -1 with errno set on a
 * read error, or EFBIG when there is more than max (nothing is returned then). */
int read_stream_max(FILE *f, size_t max, char **out, size_t *len);
/* Reads a whole file of at most max bytes (a larger regular file is refused unread); -1 with
 * errno set on failure (EFBIG: too large). */
int read_file_max(const char *path, size_t max, char **out, size_t *len);
/* Why a read_*_max call failed: "larger than 1 MiB, the limit" for EFBIG, else strerror. */
const char *read_error(int errnum, size_t max, char *buf, size_t size);
/* "1 MiB", "64 KiB", "100 bytes". */
const char *fmt_bytes(size_t n, char *buf, size_t size);
/* The offset of the first NUL byte in text, or -1. */
long nul_offset(const char *text, size_t len);

/* Writes len bytes to path through a new temporary file in the same directory (mkstemp:
 * created exclusively, mode 0600, no symlink followed), synced and renamed over path: a reader
 * sees the old file or the whole new one. -1 with errno set on failure (nothing left behind). */
int write_file_atomic(const char *path, const char *data, size_t len);
/* --port-file: "PORT\n" written with write_file_atomic. */
int write_port_file(const char *path, unsigned port);

/* "cio-native: " + message + newline on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Case-insensitive ASCII comparison. */
bool str_ieq(const char *a, const char *b);
/* True when s ends with suffix (case-insensitive). */
bool str_iends(const char *s, const char *suffix);

/* Formats n with thousands separators (1,234,567) into buf. */
const char *fmt_count(uint64_t n, char *buf, size_t size);

#endif
