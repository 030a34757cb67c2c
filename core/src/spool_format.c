/*
 * The spool's bytes on disk (format in spool_internal.h): CRC-32, framing, a reader that walks
 * a file through one bounded window, finds the next record after damaged bytes, and reads the
 * format of earlier versions.
 */
#include "spool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const unsigned char cio__spool_mark[4] = {0xFF, 0xC1, 0x05, 0x5A};

#define WINDOW ((size_t)64 * 1024)

/* ---------------------------------------------------------------- CRC-32 (IEEE, as zlib) */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t cio__crc32(uint32_t crc, const void *data, size_t len) {
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len-- > 0)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---------------------------------------------------------------- framing */

void cio__spool_put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void cio__spool_put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t cio__spool_get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t cio__spool_get_u64(const unsigned char *p) {
    return (uint64_t)cio__spool_get_u32(p) | (uint64_t)cio__spool_get_u32(p + 4) << 32;
}

void cio__spool_header(unsigned char out[SPOOL_HEADER_BYTES]) {
    memcpy(out, SPOOL_MAGIC, SPOOL_MAGIC_BYTES);
    cio__spool_put_u32(out + 8, SPOOL_VERSION);
    cio__spool_put_u32(out + 12, 0);
}

void cio__spool_frame(unsigned char head[SPOOL_REC_HEAD], unsigned char tail[SPOOL_REC_TAIL],
                      char type, uint64_t seq, const void *payload, uint32_t len) {
    memcpy(head, cio__spool_mark, 4);
    head[4] = (unsigned char)type;
    cio__spool_put_u32(head + 5, len);
    cio__spool_put_u64(head + 9, seq);
    cio__spool_put_u32(head + 17, cio__crc32(0, head + 4, 13));
    cio__spool_put_u32(tail, cio__crc32(0, payload, len));
}

/* ---------------------------------------------------------------- the reader */

bool cio__spool_reader_init(spool_reader_t *r, int fd, off_t size) {
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->size = size;
    r->cap = WINDOW;
    r->buf = malloc(r->cap);
    return r->buf != NULL;
}

void cio__spool_reader_free(spool_reader_t *r) {
    free(r->buf);
    r->buf = NULL;
}

const unsigned char *cio__spool_read(spool_reader_t *r, off_t off, size_t n) {
    if (off < 0 || off > r->size || n > (size_t)(r->size - off))
        return NULL;
    if (off >= r->buf_off && (size_t)(off - r->buf_off) + n <= r->buf_len)
        return r->buf + (off - r->buf_off);
    if (n > r->cap) {
        unsigned char *b = realloc(r->buf, n);
        if (b == NULL) {
            r->error = ENOMEM;
            return NULL;
        }
        r->buf = b;
        r->cap = n;
    }
    size_t want = (size_t)(r->size - off) < r->cap ? (size_t)(r->size - off) : r->cap;
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, off + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    r->buf_off = off;
    r->buf_len = got;
    if (got < n) {
        r->error = errno != 0 ? errno : EIO; /* the file shrank under us */
        r->buf_len = 0;
        return NULL;
    }
    return r->buf;
}

/* 2: a whole record at off; 1: its head is intact but not its payload (or the file ends within
 * it); 0: no record starts here. */
static int record_at(spool_reader_t *r, off_t off, spool_step_t *st) {
    const unsigned char *h = cio__spool_read(r, off, SPOOL_REC_HEAD);
    if (h == NULL || memcmp(h, cio__spool_mark, 4) != 0 ||
        cio__crc32(0, h + 4, 13) != cio__spool_get_u32(h + 17))
        return 0;
    char type = (char)h[4];
    uint32_t len = cio__spool_get_u32(h + 5);
    uint64_t seq = cio__spool_get_u64(h + 9);
    if ((type != SPOOL_TYPE_APPEND && type != SPOOL_TYPE_SETTLED && type != SPOOL_TYPE_GROUP) ||
        len > SPOOL_MAX_PAYLOAD)
        return 0;
    st->head_known = true;
    st->type = type;
    st->len = len;
    st->seq = seq;
    const unsigned char *p = cio__spool_read(r, off, SPOOL_REC_OVERHEAD + (size_t)len);
    if (p == NULL ||
        cio__crc32(0, p + SPOOL_REC_HEAD, len) != cio__spool_get_u32(p + SPOOL_REC_HEAD + len))
        return 1;
    st->payload = p + SPOOL_REC_HEAD;
    return 2;
}

/* The offset of the next record mark at or after from, or -1. */
static off_t find_mark(spool_reader_t *r, off_t from) {
    while (from < r->size && r->size - from >= 4) {
        size_t n = (size_t)(r->size - from) < WINDOW ? (size_t)(r->size - from) : WINDOW;
        const unsigned char *p = cio__spool_read(r, from, n);
        if (p == NULL)
            return -1;
        const unsigned char *m = memmem(p, n, cio__spool_mark, 4);
        if (m != NULL)
            return from + (m - p);
        if (from + (off_t)n >= r->size)
            return -1;
        from += (off_t)n - 3; /* a mark may straddle the window's end */
    }
    return -1;
}

bool cio__spool_next(spool_reader_t *r, off_t *pos, spool_step_t *step) {
    if (*pos >= r->size || r->error != 0)
        return false;
    memset(step, 0, sizeof(*step));
    step->off = *pos;
    if (record_at(r, *pos, step) == 2) {
        step->length = SPOOL_REC_OVERHEAD + (off_t)step->len;
        *pos += step->length;
        return true;
    }
    if (r->error != 0)
        return false;
    /* Damaged bytes: they run to the next place where a record (whole, or with an intact head,
     * which is a damaged record of its own) starts, or to the end of the file. */
    step->damaged = true;
    step->payload = NULL;
    off_t end = r->size;
    for (off_t c = *pos + 1;; c++) {
        c = find_mark(r, c);
        if (c < 0)
            break;
        spool_step_t probe = {0};
        if (record_at(r, c, &probe) != 0) {
            end = c;
            break;
        }
    }
    if (r->error != 0)
        return false;
    step->length = end - *pos;
    *pos = end;
    return true;
}

int cio__spool_v1_next(spool_reader_t *r, off_t *pos, spool_step_t *step) {
    if (*pos >= r->size)
        return 0;
    memset(step, 0, sizeof(*step));
    step->off = *pos;
    const unsigned char *p = cio__spool_read(r, *pos, 1);
    if (p != NULL && p[0] == 'S') {
        p = cio__spool_read(r, *pos, 10);
        if (p == NULL || p[9] != '\n')
            return -1;
        step->type = SPOOL_TYPE_SETTLED;
        step->seq = cio__spool_get_u64(p + 1);
        step->length = 10;
    } else if (p != NULL && p[0] == 'A') {
        p = cio__spool_read(r, *pos, 13);
        uint32_t len = p != NULL ? cio__spool_get_u32(p + 9) : 0;
        if (p == NULL || len < 2 || len > SPOOL_MAX_PAYLOAD)
            return -1;
        p = cio__spool_read(r, *pos, 14 + (size_t)len);
        /* an operation is a JSON object: what is not is not a spool of ours */
        if (p == NULL || p[13] != '{' || p[13 + len - 1] != '}' || p[13 + len] != '\n')
            return -1;
        step->type = SPOOL_TYPE_APPEND;
        step->seq = cio__spool_get_u64(p + 1);
        step->len = len;
        step->payload = p + 13;
        step->length = 14 + (off_t)len;
    } else {
        return -1;
    }
    step->head_known = true;
    *pos += step->length;
    return 1;
}

/* ---------------------------------------------------------------- settled ranges */

static int compare_range(const void *a, const void *b) {
    uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];
    return x < y ? -1 : x > y;
}

void cio__spool_ranges_finish(spool_ranges_t *s) {
    if (s->sorted || s->n == 0) {
        s->sorted = true;
        return;
    }
    qsort(s->r, s->n, sizeof(*s->r), compare_range);
    size_t k = 0;
    for (size_t i = 1; i < s->n; i++) {
        uint64_t end = s->r[k][0] + s->r[k][1];
        if (s->r[i][0] <= end) {
            uint64_t e = s->r[i][0] + s->r[i][1];
            if (e > end)
                s->r[k][1] = e - s->r[k][0];
        } else {
            k++;
            s->r[k][0] = s->r[i][0];
            s->r[k][1] = s->r[i][1];
        }
    }
    s->n = k + 1;
    s->sorted = true;
}

bool cio__spool_ranges_add(spool_ranges_t *s, uint64_t first, uint64_t count) {
    if (count == 0)
        return true;
    if (s->n > 0 && s->r[s->n - 1][0] + s->r[s->n - 1][1] == first) { /* the usual case */
        s->r[s->n - 1][1] += count;
        return true;
    }
    if (s->n == s->cap && s->n >= 1024) {
        cio__spool_ranges_finish(s); /* merging first keeps the set as small as it can be */
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void *p = realloc(s->r, cap * sizeof(*s->r));
        if (p == NULL)
            return false;
        s->r = p;
        s->cap = cap;
    }
    s->r[s->n][0] = first;
    s->r[s->n][1] = count;
    s->n++;
    s->sorted = false;
    return true;
}

bool cio__spool_ranges_has(const spool_ranges_t *s, uint64_t seq) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) { /* the first range starting after seq */
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid][0] <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && seq - s->r[lo - 1][0] < s->r[lo - 1][1];
}

void cio__spool_ranges_free(spool_ranges_t *s) {
    free(s->r);
    memset(s, 0, sizeof(*s));
}
