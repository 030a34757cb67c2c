/*
 * The pipeline's spool: the in-memory FIFO plus an append-only log file, so that operations
 * accepted but not yet confirmed survive a crash or kill -9 of the process.
 *
 * Records (little-endian): 'A' seq:u64 len:u32 <len bytes> '\n' for an accepted operation, and
 * 'S' seq:u64 '\n' once it is settled (delivered or reported failed). At open, the file is read,
 * settled operations are dropped, a torn last record (a crash mid-write) is ignored, and the file
 * is rewritten with only what is still owed, which is queued first. The file is emptied whenever
 * everything in it is settled, so it stays small in steady state.
 */
#include "pipeline_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct spool {
    cio_fifo_t fifo;
    int fd;
    cio_spool_sync_t sync;
    size_t outstanding; /* taken and not yet settled or requeued */
} spool_t;

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static bool write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* One 'A' record in a single write, so a record is whole or torn, never interleaved. */
static bool write_append_record(int fd, uint64_t seq, const char *op, size_t len) {
    size_t total = 1 + 8 + 4 + len + 1;
    unsigned char *rec = malloc(total);
    if (rec == NULL)
        return false;
    rec[0] = 'A';
    put_u64(rec + 1, seq);
    for (int i = 0; i < 4; i++)
        rec[9 + i] = (unsigned char)((uint32_t)len >> (8 * i));
    memcpy(rec + 13, op, len);
    rec[total - 1] = '\n';
    bool ok = write_all(fd, rec, total);
    free(rec);
    return ok;
}

static cio_status_t spool_append(cio_store_t *s, const char *op, size_t len, uint64_t *seq) {
    spool_t *sp = (spool_t *)s;
    uint64_t n = sp->fifo.next_seq;
    if (!write_append_record(sp->fd, n, op, len))
        return cio__fail(CIO_E_INTERNAL, "pipeline: cannot write the spool file (%s)",
                         strerror(errno));
    if (sp->sync == CIO_SPOOL_SYNC_ALWAYS)
        fdatasync(sp->fd);
    if (cio__fifo_push(&sp->fifo, op, len, n) == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    sp->fifo.next_seq++;
    *seq = n;
    return CIO_OK;
}

static cio_store_item_t *spool_take(cio_store_t *s, size_t max_bytes, size_t max_items,
                                    size_t *count, size_t *bytes) {
    cio_store_item_t *items = cio__fifo_take(s, max_bytes, max_items, count, bytes);
    ((spool_t *)s)->outstanding += *count;
    return items;
}

/* Empties the file once nothing in it is owed any more. */
static void compact_if_settled(spool_t *sp) {
    if (sp->outstanding == 0 && sp->fifo.base.waiting == 0 && ftruncate(sp->fd, 0) == 0 &&
        sp->sync != CIO_SPOOL_SYNC_NONE)
        fdatasync(sp->fd);
}

static void spool_settle(cio_store_t *s, cio_store_item_t *items) {
    spool_t *sp = (spool_t *)s;
    size_t n = 0;
    for (cio_store_item_t *it = items; it != NULL; it = it->next)
        n++;
    unsigned char *recs = malloc(n * 10);
    size_t k = 0;
    for (cio_store_item_t *it = items; recs != NULL && it != NULL; it = it->next, k++) {
        recs[k * 10] = 'S';
        put_u64(recs + k * 10 + 1, it->seq);
        recs[k * 10 + 9] = '\n';
    }
    /* if this write fails the items are simply sent again after a restart: their ids make the
     * repeat harmless, so losing the 'S' records costs bandwidth, never correctness */
    if (recs != NULL)
        (void)write_all(sp->fd, recs, n * 10);
    free(recs);
    sp->outstanding -= n;
    cio__fifo_free_items(items);
    compact_if_settled(sp);
}

static void spool_requeue(cio_store_t *s, cio_store_item_t *items) {
    spool_t *sp = (spool_t *)s;
    for (cio_store_item_t *it = items; it != NULL; it = it->next)
        sp->outstanding--;
    cio__fifo_requeue(s, items);
}

static void spool_before_send(cio_store_t *s) {
    spool_t *sp = (spool_t *)s;
    if (sp->sync == CIO_SPOOL_SYNC_BATCH)
        fdatasync(sp->fd);
}

static void spool_destroy(cio_store_t *s) {
    spool_t *sp = (spool_t *)s;
    cio__fifo_free_items(sp->fifo.head);
    if (sp->sync != CIO_SPOOL_SYNC_NONE)
        fdatasync(sp->fd);
    close(sp->fd);
    free(sp);
}

static const cio_store_ops_t spool_ops = {
    .append = spool_append,
    .take = spool_take,
    .settle = spool_settle,
    .requeue = spool_requeue,
    .before_send = spool_before_send,
    .peek = cio__fifo_peek,
    .destroy = spool_destroy,
};

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool read_file(int fd, unsigned char **data, size_t *len) {
    struct stat st;
    if (fstat(fd, &st) != 0)
        return false;
    *len = (size_t)st.st_size;
    *data = malloc(*len + 1);
    if (*data == NULL)
        return false;
    size_t got = 0;
    while (got < *len) {
        ssize_t n = pread(fd, *data + got, *len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return true;
}

/* Queues the unsettled operations of an earlier run, in their original order. */
static bool replay(spool_t *sp, const unsigned char *data, size_t len) {
    uint64_t *settled = NULL;
    size_t n_settled = 0, cap = 0;
    /* pass 1: the settled seqs */
    for (size_t pos = 0; pos < len;) {
        if (data[pos] == 'S' && pos + 10 <= len && data[pos + 9] == '\n') {
            if (n_settled == cap) {
                cap = cap ? cap * 2 : 256;
                uint64_t *p = realloc(settled, cap * sizeof(*p));
                if (p == NULL) {
                    free(settled);
                    return false;
                }
                settled = p;
            }
            settled[n_settled++] = get_u64(data + pos + 1);
            pos += 10;
        } else if (data[pos] == 'A' && pos + 13 <= len) {
            uint32_t l = 0;
            for (int i = 3; i >= 0; i--)
                l = (l << 8) | data[pos + 9 + i];
            if (pos + 13 + l + 1 > len || data[pos + 13 + l] != '\n')
                break; /* torn record */
            pos += 13 + (size_t)l + 1;
        } else {
            break; /* torn or foreign bytes: stop reading */
        }
    }
    if (n_settled > 1)
        qsort(settled, n_settled, sizeof(*settled), compare_u64);
    /* pass 2: queue the appended operations that were never settled */
    uint64_t max_seq = 0;
    for (size_t pos = 0; pos < len;) {
        if (data[pos] == 'S' && pos + 10 <= len && data[pos + 9] == '\n') {
            pos += 10;
            continue;
        }
        if (data[pos] != 'A' || pos + 13 > len)
            break;
        uint64_t seq = get_u64(data + pos + 1);
        uint32_t l = 0;
        for (int i = 3; i >= 0; i--)
            l = (l << 8) | data[pos + 9 + i];
        if (pos + 13 + l + 1 > len || data[pos + 13 + l] != '\n')
            break;
        if (seq > max_seq)
            max_seq = seq;
        bool settled_already =
            n_settled > 0 && bsearch(&seq, settled, n_settled, sizeof(*settled), compare_u64);
        if (!settled_already &&
            cio__fifo_push(&sp->fifo, (const char *)data + pos + 13, l, seq) == NULL) {
            free(settled);
            return false;
        }
        pos += 13 + (size_t)l + 1;
    }
    free(settled);
    sp->fifo.next_seq = max_seq + 1;
    return true;
}

/* Rewrites the file with only the owed operations (temp file + rename), then appends to it. */
static bool rewrite(spool_t *sp, const char *path) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (tmp == NULL)
        return false;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (cio_store_item_t *it = sp->fifo.head; ok && it != NULL; it = it->next)
        ok = write_append_record(fd, it->seq, it->data, it->len);
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    if (ok) {
        sp->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ok = sp->fd >= 0;
    }
    return ok;
}

cio_status_t cio__store_spool_new(const char *path, cio_spool_sync_t sync, cio_store_t **out) {
    spool_t *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    sp->fifo.base.ops = &spool_ops;
    sp->fifo.next_seq = 1;
    sp->sync = sync;
    sp->fd = -1;
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    unsigned char *data = NULL;
    size_t len = 0;
    bool ok = fd >= 0 && read_file(fd, &data, &len) && replay(sp, data, len);
    int saved_errno = errno;
    if (fd >= 0)
        close(fd);
    free(data);
    ok = ok && rewrite(sp, path);
    if (!ok) {
        if (saved_errno == 0)
            saved_errno = errno;
        cio__fifo_free_items(sp->fifo.head);
        if (sp->fd >= 0)
            close(sp->fd);
        free(sp);
        return cio__fail(CIO_E_CONFIG, "pipeline: cannot use the spool file (%s)",
                         strerror(saved_errno));
    }
    *out = &sp->fifo.base;
    return CIO_OK;
}
