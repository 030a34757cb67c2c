/* Buffers, allocation, clocks and stream reading for the cio-native command. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void out_of_memory(void) {
    fputs("cio-native: out of memory\n", stderr);
    exit(EXIT_USAGE);
}

void *xmalloc(size_t n) {
    void *p = malloc(n != 0 ? n : 1);
    if (p == NULL) {
        out_of_memory();
    }
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n != 0 ? n : 1, size != 0 ? size : 1);
    if (p == NULL) {
        out_of_memory();
    }
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n != 0 ? n : 1);
    if (q == NULL) {
        out_of_memory();
    }
    return q;
}

char *xstrdup(const char *s) {
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void reserve(sbuf_t *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap != 0 ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void sb_append(sbuf_t *b, const void *data, size_t len) {
    reserve(b, len);
    if (len != 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
}

void sb_puts(sbuf_t *b, const char *s) {
    sb_append(b, s, strlen(s));
}

void sb_putc(sbuf_t *b, char c) {
    sb_append(b, &c, 1);
}

void sb_vprintf(sbuf_t *b, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return;
    }
    reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_printf(sbuf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_clear(sbuf_t *b) {
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

char *sb_take(sbuf_t *b) {
    char *p = b->data != NULL ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void sb_free(sbuf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int read_stream_max(FILE *f, size_t max, char **out, size_t *len) {
    sbuf_t b = {0};
    char chunk[65536];
    size_t n;
    /* One byte past the limit tells "exactly max" from "longer"; nothing more is read. */
    while (b.len <= max && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        sb_append(&b, chunk, n);
    }
    if (ferror(f)) {
        sb_free(&b);
        return -1;
    }
    if (b.len > max) {
        sb_free(&b);
        errno = EFBIG;
        return -1;
    }
    *len = b.len;
    *out = sb_take(&b);
    return 0;
}

int read_file_max(const char *path, size_t max, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    struct stat st;
    int rc;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        errno = EFBIG; /* refused before reading a byte */
        rc = -1;
    } else {
        rc = read_stream_max(f, max, out, len);
    }
    int saved = errno;
    fclose(f);
    errno = saved;
    return rc;
}

const char *fmt_bytes(size_t n, char *buf, size_t size) {
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) {
        snprintf(buf, size, "%zu MiB", n / (1024 * 1024));
    } else if (n >= 1024 && n % 1024 == 0) {
        snprintf(buf, size, "%zu KiB", n / 1024);
    } else {
        snprintf(buf, size, "%zu bytes", n);
    }
    return buf;
}

const char *read_error(int errnum, size_t max, char *buf, size_t size) {
    if (errnum != EFBIG) {
        return strerror(errnum);
    }
    char limit[32];
    snprintf(buf, size, "larger than %s, the limit", fmt_bytes(max, limit, sizeof(limit)));
    return buf;
}

long nul_offset(const char *text, size_t len) {
    const char *nul = memchr(text, '\0', len);
    return nul != NULL ? (long)(nul - text) : -1;
}

int write_file_atomic(const char *path, const char *data, size_t len) {
    sbuf_t tmp = {0};
    sb_printf(&tmp, "%s.XXXXXX", path);
    /* mkstemp: O_CREAT|O_EXCL (a symlink planted at the name is never followed), mode 0600 */
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        int saved = errno;
        sb_free(&tmp);
        errno = saved;
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    int rc = done == len && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp.data, path) != 0) { /* rename replaces a symlink, never follows */
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp.data);
    }
    sb_free(&tmp);
    errno = saved;
    return rc;
}

int write_port_file(const char *path, unsigned port) {
    char text[16];
    int n = snprintf(text, sizeof(text), "%u\n", port);
    return write_file_atomic(path, text, (size_t)n);
}

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("cio-native: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool str_ieq(const char *a, const char *b) {
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return false;
        }
    }
    return *a == *b;
}

bool str_iends(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && str_ieq(s + n - m, suffix);
}

const char *fmt_count(uint64_t n, char *buf, size_t size) {
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[o++] = ',';
        }
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}
