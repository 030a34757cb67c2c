/*
 * The pipeline's spool: the in-memory FIFO plus a log file, so that operations accepted but not
 * yet confirmed survive a crash or kill -9 of the process ("nothing lost").
 *
 * Every accepted operation is one framed, checksummed 'A' record (spool_internal.h), written in
 * one pwritev at the end of the last whole record before enqueue returns; settled operations get
 * 'S' records (ranges of seqs), written as soon as their request is answered 2xx. A failed write
 * (disk full, file size limit) is cut off again with ftruncate: the file stays as it was and the
 * enqueue fails. Several operations accepted together (append_many) are one 'G' record, written
 * and cut off the same way: a full disk or a kill half way through leaves none of them. The file
 * is compacted while running: emptied (to its header) whenever nothing
 * is owed, and rewritten with only the owed records (temp file, rename) once settled bytes are
 * at least half of it and it is past COMPACT_MIN, so it stays within about twice what is owed.
 *
 * At open the file is streamed twice through a bounded window (settled seqs first, then the
 * owed records, which are queued). Damaged bytes (a checksum that does not match) are skipped
 * up to the next whole record, copied to <path>.quarantine and reported; their neighbours are
 * read as usual. If the quarantine file cannot be written, the damaged bytes stay where they are
 * and the file is neither emptied nor rewritten until a later open sets them aside (it may grow
 * meanwhile). A file of the previous format (no header) is read once and rewritten.
 */
#include "spool_internal.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Compaction is not worth a rewrite below this size. */
#define COMPACT_MIN ((off_t)1 << 20)
/* Damaged records told on stderr one by one at open; beyond, one line says how many. */
#define LOG_LINES 20
/* Settle records carry at most this many ranges each. */
#define RANGES_PER_RECORD ((size_t)SPOOL_MAX_PAYLOAD / 16)

/* The spool's item: the pipeline's part first (cio__fifo_push allocates it, the operation's bytes
 * following), then the list of items still owed and whether an item's settlement is on disk. */
typedef struct spool_item {
    cio_store_item_t base;
    struct spool_item *live_prev, *live_next;
    bool confirmed;
} spool_item_t;

typedef struct spool {
    cio_fifo_t fifo;
    spool_fds_t fds; /* fds.fd: the spool file (locked); fds.tmp_fd: a compaction under way */
    char *path, *tmp_path, *quarantine_path;
    cio_spool_sync_t sync;
    off_t size;       /* the end of the last whole record: where the next one goes */
    off_t live_bytes; /* bytes of the records of items still owed */
    off_t compact_at; /* after a failed compaction, no new try before the file reaches this */
    spool_item_t *live_head, *live_tail; /* items owed, in record order */
    spool_ranges_t unwritten; /* settled, but their 'S' record could not be written yet */
    bool complained;          /* said once on stderr that compaction fails */
    bool groups;              /* the header says format 3: 'G' records may be written */
    bool keep_damage; /* damaged bytes found at open could not be quarantined: they are the only
                       * copy, so the file is never emptied or rewritten (it may grow) */
    cio_store_damage_t **damage_tail; /* where the next damage report goes */
    size_t logged;                    /* damaged records told on stderr */
} spool_t;

static off_t record_bytes(size_t len) {
    return SPOOL_REC_OVERHEAD + (off_t)len;
}

static void live_add(spool_t *sp, spool_item_t *it) {
    it->live_prev = sp->live_tail;
    it->live_next = NULL;
    it->confirmed = false;
    if (sp->live_tail != NULL)
        sp->live_tail->live_next = it;
    else
        sp->live_head = it;
    sp->live_tail = it;
    sp->live_bytes += record_bytes(it->base.len);
}

static void live_remove(spool_t *sp, spool_item_t *it) {
    if (it->live_prev != NULL)
        it->live_prev->live_next = it->live_next;
    else
        sp->live_head = it->live_next;
    if (it->live_next != NULL)
        it->live_next->live_prev = it->live_prev;
    else
        sp->live_tail = it->live_prev;
    it->live_prev = it->live_next = NULL;
    sp->live_bytes -= record_bytes(it->base.len);
}

/* ---------------------------------------------------------------- writing */

/* Appends one record at sp->size. On failure the file is cut back to sp->size (as it was) and
 * errno says why. */
static bool append_record(spool_t *sp, char type, uint64_t seq, const void *payload, uint32_t len) {
    unsigned char head[SPOOL_REC_HEAD], tail[SPOOL_REC_TAIL];
    cio__spool_frame(head, tail, type, seq, payload, len);
    struct iovec iov[3] = {{head, sizeof(head)}, {(void *)payload, len}, {tail, sizeof(tail)}};
    if (!cio__spool_pwritev_all(sp->fds.fd, iov, 3, sp->size)) {
        int e = errno;
        (void)ftruncate(sp->fds.fd, sp->size); /* if even this fails, the reader skips the rest */
        errno = e;
        return false;
    }
    sp->size += record_bytes(len);
    return true;
}

/* Writes 'S' records for the ranges; returns how many ranges are on disk (all unless a write
 * failed). */
static size_t write_ranges(spool_t *sp, const spool_ranges_t *ranges) {
    unsigned char small[16 * 16];
    size_t i = 0;
    while (i < ranges->n) {
        size_t n = ranges->n - i < RANGES_PER_RECORD ? ranges->n - i : RANGES_PER_RECORD;
        unsigned char *payload = n * 16 <= sizeof(small) ? small : malloc(n * 16);
        bool ok = payload != NULL;
        for (size_t k = 0; ok && k < n; k++) {
            cio__spool_put_u64(payload + k * 16, ranges->r[i + k][0]);
            cio__spool_put_u64(payload + k * 16 + 8, ranges->r[i + k][1]);
        }
        ok = ok && append_record(sp, SPOOL_TYPE_SETTLED, 0, payload, (uint32_t)(n * 16));
        if (payload != small)
            free(payload);
        if (!ok)
            break;
        i += n;
    }
    return i;
}

/* Settle records that could not be written (disk full) are kept and written with the next
 * record that can be; until then they only cost a repeat after a crash (ids make it harmless),
 * and a compaction makes them unnecessary. */
static void write_unwritten(spool_t *sp) {
    if (sp->unwritten.n == 0)
        return;
    size_t done = write_ranges(sp, &sp->unwritten);
    memmove(sp->unwritten.r, sp->unwritten.r + done,
            (sp->unwritten.n - done) * sizeof(*sp->unwritten.r));
    sp->unwritten.n -= done;
}

/* Writes the records of the owed items into a temporary file and renames it over the spool:
 * from then on the file holds exactly what is owed. false (errno) leaves the spool as it was. */
static bool rewrite(spool_t *sp) {
    if (sp->keep_damage) {
        errno = EPERM; /* compact() checks first: the file holds the only copy of damage */
        return false;
    }
    int fd = cio__spool_open_temp(sp->tmp_path);
    if (fd < 0)
        return false;
    cio__spool_set_fds(&sp->fds, sp->fds.fd, fd);
    enum { CHUNK = 20 };
    unsigned char header[SPOOL_HEADER_BYTES], heads[CHUNK][SPOOL_REC_HEAD],
        tails[CHUNK][SPOOL_REC_TAIL];
    struct iovec iov[3 * CHUNK + 1];
    cio__spool_header(header);
    off_t off = 0;
    int n = 0;
    iov[n++] = (struct iovec){header, sizeof(header)};
    bool ok = true;
    size_t k = 0;
    for (spool_item_t *live = sp->live_head; ok; live = live->live_next) {
        const cio_store_item_t *it = live != NULL ? &live->base : NULL;
        if (it != NULL) {
            cio__spool_frame(heads[k], tails[k], SPOOL_TYPE_APPEND, it->seq, it->data,
                             (uint32_t)it->len);
            iov[n++] = (struct iovec){heads[k], SPOOL_REC_HEAD};
            iov[n++] = (struct iovec){(void *)it->data, it->len};
            iov[n++] = (struct iovec){tails[k], SPOOL_REC_TAIL};
            k++;
        }
        if (n > 0 && (it == NULL || k == CHUNK)) {
            off_t bytes = 0;
            for (int i = 0; i < n; i++)
                bytes += (off_t)iov[i].iov_len;
            ok = cio__spool_pwritev_all(fd, iov, n, off);
            off += bytes;
            n = 0;
            k = 0;
        }
        if (it == NULL)
            break;
    }
    ok = ok && (sp->sync == CIO_SPOOL_SYNC_NONE || fdatasync(fd) == 0);
    /* locked before it has the spool's name, so no second opener ever gets it unlocked */
    ok = ok && flock(fd, LOCK_EX | LOCK_NB) == 0;
    ok = ok && rename(sp->tmp_path, sp->path) == 0;
    int e = errno;
    if (!ok) {
        close(fd);
        unlink(sp->tmp_path);
        cio__spool_set_fds(&sp->fds, sp->fds.fd, -1);
        errno = e;
        return false;
    }
    if (sp->sync != CIO_SPOOL_SYNC_NONE)
        cio__spool_sync_dir(sp->path);
    int old = sp->fds.fd;
    cio__spool_set_fds(&sp->fds, fd, -1);
    close(old);
    sp->size = off;
    sp->groups = false;  /* the new file's header says format 2 */
    sp->unwritten.n = 0; /* the new file holds no record of theirs */
    sp->compact_at = 0;
    return true;
}

/* Keeps the file near what is owed: empties it when nothing is, rewrites it when settled
 * records are at least half of it. */
static void compact(spool_t *sp) {
    if (sp->keep_damage)
        return; /* said once at open (load) */
    if (sp->live_head == NULL) {
        if (sp->size > SPOOL_HEADER_BYTES && ftruncate(sp->fds.fd, SPOOL_HEADER_BYTES) == 0) {
            sp->size = SPOOL_HEADER_BYTES;
            sp->unwritten.n = 0;
            if (sp->sync != CIO_SPOOL_SYNC_NONE)
                (void)fdatasync(sp->fds.fd);
        }
        return;
    }
    off_t body = sp->size - SPOOL_HEADER_BYTES;
    if (sp->size < COMPACT_MIN || sp->size < sp->compact_at || body - sp->live_bytes < body / 2)
        return;
    if (rewrite(sp))
        return;
    sp->compact_at = sp->size + COMPACT_MIN; /* not on every settle while it fails */
    if (!sp->complained) {
        sp->complained = true;
        fprintf(stderr,
                "customerio: cannot compact the spool file %s (%s): it keeps growing until this "
                "works\n",
                sp->path, strerror(errno));
    }
}

/* ---------------------------------------------------------------- the store */

static cio_status_t spool_append(cio_store_t *s, const char *op, size_t len, uint64_t *seq) {
    spool_t *sp = (spool_t *)s;
    uint64_t n = sp->fifo.next_seq;
    if (sp->fds.fd < 0)
        return cio__fail(CIO_E_CLOSED, "enqueue: the spool file is closed");
    write_unwritten(sp);
    bool ok =
        len <= SPOOL_MAX_PAYLOAD && append_record(sp, SPOOL_TYPE_APPEND, n, op, (uint32_t)len);
    if (ok && sp->sync == CIO_SPOOL_SYNC_ALWAYS && fdatasync(sp->fds.fd) != 0) {
        int e = errno; /* not on disk: not accepted */
        sp->size -= record_bytes(len);
        (void)ftruncate(sp->fds.fd, sp->size);
        errno = e;
        ok = false;
    }
    if (!ok) {
        int e = len > SPOOL_MAX_PAYLOAD ? EFBIG : errno;
        if (e == ENOSPC || e == EDQUOT || e == EFBIG)
            return cio__fail(CIO_E_QUEUE_FULL,
                             "enqueue: the spool file %s cannot grow (%s): nothing was queued and "
                             "the file is as it was; retry once there is room",
                             sp->path, strerror(e));
        return cio__fail(CIO_E_INTERNAL,
                         "enqueue: cannot write the spool file %s (%s): nothing was queued",
                         sp->path, strerror(e));
    }
    cio_store_item_t *it = cio__fifo_push(&sp->fifo, op, len, n);
    if (it == NULL) {
        sp->size -= record_bytes(len);
        (void)ftruncate(sp->fds.fd, sp->size);
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    }
    live_add(sp, (spool_item_t *)it);
    sp->fifo.next_seq++;
    *seq = n;
    return CIO_OK;
}

/* The file's header says format 3 (it may hold 'G' records), written once before the first
 * one: a version that reads only format 2 then refuses the file instead of dropping them. */
static bool mark_groups(spool_t *sp) {
    if (sp->groups)
        return true;
    unsigned char version[4];
    cio__spool_put_u32(version, SPOOL_VERSION_GROUPS);
    if (pwrite(sp->fds.fd, version, sizeof(version), 8) != (ssize_t)sizeof(version))
        return false;
    sp->groups = true;
    return true;
}

/* The n operations as one 'G' record, all or none: written in one go at the end of the file and
 * cut off again when the write fails (a write torn by a kill is one damaged record at the tail,
 * which the next open skips: none of them counts). */
static cio_status_t spool_append_many(cio_store_t *s, const char *const *ops, const size_t *lens,
                                      size_t n, uint64_t *seqs) {
    spool_t *sp = (spool_t *)s;
    if (sp->fds.fd < 0)
        return cio__fail(CIO_E_CLOSED, "enqueue: the spool file is closed");
    if (n == 1) { /* a single operation is an 'A' record, as ever */
        return spool_append(s, ops[0], lens[0], &seqs[0]);
    }
    uint64_t first = sp->fifo.next_seq;
    size_t payload_len = 0;
    for (size_t i = 0; i < n; i++)
        payload_len += 4 + lens[i];
    if (payload_len > SPOOL_MAX_PAYLOAD)
        return cio__fail(CIO_E_QUEUE_FULL,
                         "enqueue: %zu operations of %zu bytes in all are more than one spool "
                         "record holds (%u bytes): nothing was queued; enqueue fewer at once",
                         n, payload_len - 4 * n, (unsigned)SPOOL_MAX_PAYLOAD);
    unsigned char *payload = malloc(payload_len);
    if (payload == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    unsigned char *w = payload;
    for (size_t i = 0; i < n; i++) {
        cio__spool_put_u32(w, (uint32_t)lens[i]);
        memcpy(w + 4, ops[i], lens[i]);
        w += 4 + lens[i];
    }
    write_unwritten(sp);
    off_t start = sp->size;
    bool ok = mark_groups(sp) &&
              append_record(sp, SPOOL_TYPE_GROUP, first, payload, (uint32_t)payload_len);
    free(payload);
    if (ok && sp->sync == CIO_SPOOL_SYNC_ALWAYS && fdatasync(sp->fds.fd) != 0) {
        int e = errno; /* not on disk: not accepted */
        sp->size = start;
        (void)ftruncate(sp->fds.fd, sp->size);
        errno = e;
        ok = false;
    }
    if (!ok) {
        int e = errno;
        if (e == ENOSPC || e == EDQUOT || e == EFBIG)
            return cio__fail(CIO_E_QUEUE_FULL,
                             "enqueue: the spool file %s cannot grow (%s): none of the %zu "
                             "operations was queued and the file is as it was; retry once "
                             "there is room",
                             sp->path, strerror(e), n);
        return cio__fail(CIO_E_INTERNAL,
                         "enqueue: cannot write the spool file %s (%s): none of the %zu "
                         "operations was queued",
                         sp->path, strerror(e), n);
    }
    cio_store_item_t *it = cio__fifo_push_many(&sp->fifo, ops, lens, n, first);
    if (it == NULL) {
        sp->size = start;
        (void)ftruncate(sp->fds.fd, sp->size);
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    }
    for (size_t i = 0; i < n; i++, it = it->next) {
        live_add(sp, (spool_item_t *)it);
        seqs[i] = first + i;
    }
    sp->fifo.next_seq = first + n;
    return CIO_OK;
}

/* The number of operations in a whole 'G' record's payload; 0 when it is not a list of them
 * (then none counts). */
static uint64_t group_count(const unsigned char *payload, uint32_t len) {
    uint64_t n = 0;
    for (uint32_t at = 0; at < len; n++) {
        if (len - at < 4 || cio__spool_get_u32(payload + at) > len - at - 4)
            return 0;
        at += 4 + cio__spool_get_u32(payload + at);
    }
    return n;
}

/* Takes the not yet confirmed items off the owed list and records them as settled. */
static void record_settled(spool_t *sp, cio_store_item_t *items) {
    spool_ranges_t ranges = {0};
    for (cio_store_item_t *item = items; item != NULL; item = item->next) {
        spool_item_t *it = (spool_item_t *)item; /* every item here is one of the spool's */
        if (it->confirmed)
            continue;
        it->confirmed = true;
        live_remove(sp, it);
        if (!cio__spool_ranges_add(&ranges, item->seq, 1))
            (void)cio__spool_ranges_add(&sp->unwritten, item->seq, 1);
    }
    if (sp->fds.fd >= 0) {
        write_unwritten(sp);
        for (size_t k = write_ranges(sp, &ranges); k < ranges.n; k++)
            (void)cio__spool_ranges_add(&sp->unwritten, ranges.r[k][0], ranges.r[k][1]);
        compact(sp);
    }
    cio__spool_ranges_free(&ranges);
}

static void spool_confirm(cio_store_t *s, cio_store_item_t *items) {
    record_settled((spool_t *)s, items);
}

static void spool_settle(cio_store_t *s, cio_store_item_t *items) {
    record_settled((spool_t *)s, items);
    cio__fifo_free_items(items);
}

static void spool_before_send(cio_store_t *s) {
    spool_t *sp = (spool_t *)s;
    if (sp->sync == CIO_SPOOL_SYNC_BATCH && sp->fds.fd >= 0)
        (void)fdatasync(sp->fds.fd);
}

static void spool_free(spool_t *sp) {
    cio__spool_unregister(&sp->fds);
    if (sp->fds.fd >= 0) {
        /* LOCK_UN, not only close: a child forked a moment ago may not have closed its copy of
         * the descriptor yet (spool_file.c), and the lock lives while any copy is open */
        (void)flock(sp->fds.fd, LOCK_UN);
        close(sp->fds.fd);
    }
    cio__fifo_free_items(sp->fifo.head);
    cio__store_damage_free(sp->fifo.base.damaged);
    cio__spool_ranges_free(&sp->unwritten);
    free(sp->path);
    free(sp->tmp_path);
    free(sp->quarantine_path);
    free(sp);
}

/* Items taken and not settled (the pipeline frees them at close) stay owed in the file. Settle
 * records held back earlier (disk full) get a last try, so the next run does not repeat them. */
static void spool_destroy(cio_store_t *s) {
    spool_t *sp = (spool_t *)s;
    if (sp->fds.fd >= 0)
        write_unwritten(sp);
    if (sp->sync != CIO_SPOOL_SYNC_NONE && sp->fds.fd >= 0)
        (void)fdatasync(sp->fds.fd);
    spool_free(sp);
}

static const cio_store_t spool_store = {
    .version = CIO_STORE_VERSION,
    .append = spool_append,
    .take = cio__fifo_take,
    .settle = spool_settle,
    .confirm = spool_confirm,
    .requeue = cio__fifo_requeue,
    .before_send = spool_before_send,
    .peek = cio__fifo_peek,
    .release = cio__fifo_release, /* taken, not settled: still owed in the file */
    .free_damage = cio__fifo_free_damage,
    .destroy = spool_destroy,
    .append_many = spool_append_many,
};

/* ---------------------------------------------------------------- damage */

/* A span of bytes that is not a whole record, found at open. */
typedef struct damage_span {
    struct damage_span *next;
    off_t off, length;
    bool head_known;
    char type;
    uint64_t seq;
    uint32_t len;      /* payload length, when head_known */
    uint64_t next_seq; /* a 'G' span: the seq of the next operation record in the file, 0 if none */
} damage_span_t;

/* The span added at *tail; NULL when out of memory. */
static damage_span_t *add_span(damage_span_t ***tail, const spool_step_t *st) {
    damage_span_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->off = st->off;
    d->length = st->length;
    d->head_known = st->head_known;
    d->type = st->type;
    d->seq = st->seq;
    d->len = st->len;
    **tail = d;
    *tail = &d->next;
    return d;
}

static void free_spans(damage_span_t *d) {
    while (d != NULL) {
        damage_span_t *next = d->next;
        free(d);
        d = next;
    }
}

/* Copies the span's bytes to the quarantine file, after a line saying where they come from. */
static bool quarantine(spool_t *sp, int qfd, spool_reader_t *r, const damage_span_t *d) {
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "# customerio spool quarantine: %lld bytes at offset %lld of %s%s\n",
                     (long long)d->length, (long long)d->off, sp->path,
                     d->head_known && d->type == SPOOL_TYPE_APPEND ? " (an operation record)" : "");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = snprintf(line, sizeof(line), "# customerio spool quarantine: %lld bytes at %lld\n",
                     (long long)d->length, (long long)d->off);
    if (write(qfd, line, (size_t)n) != n)
        return false;
    for (off_t done = 0; done < d->length;) {
        size_t chunk = d->length - done < 65536 ? (size_t)(d->length - done) : 65536;
        const unsigned char *p = cio__spool_read(r, d->off + done, chunk);
        if (p == NULL || write(qfd, p, chunk) != (ssize_t)chunk)
            return false;
        done += (off_t)chunk;
    }
    return write(qfd, "\n", 1) == 1;
}

/* The report of a damaged operation record (or of bytes that could have been one). */
static bool add_damage_report(spool_t *sp, const damage_span_t *d, const char *where) {
    cio_store_damage_t *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return false;
    uint64_t seq = d->head_known ? d->seq : 0;
    char seq_text[40] = "";
    if (seq != 0)
        snprintf(seq_text, sizeof(seq_text), ", seq %llu", (unsigned long long)seq);
    size_t len = strlen(sp->path) + strlen(where) + 256;
    x->message = malloc(len);
    json_t *desc = json_pack("{s:{s:I,s:I,s:o}}", "spool_damage", "offset", (json_int_t)d->off,
                             "bytes", (json_int_t)d->length, "seq",
                             seq != 0 ? json_integer((json_int_t)seq) : json_null());
    /* the path, unless it is not UTF-8 (JSON cannot carry it; the message does) */
    (void)json_object_set_new(json_object_get(desc, "spool_damage"), "file", json_string(sp->path));
    char *text = desc != NULL ? json_dumps(desc, JSON_COMPACT) : NULL;
    json_decref(desc);
    size_t tlen = text != NULL ? strlen(text) : 0;
    x->item = text != NULL ? cio__store_item_new(sizeof(cio_store_item_t), text, tlen, seq) : NULL;
    if (x->message == NULL || x->item == NULL) {
        free(text);
        free(x->message);
        free(x->item);
        free(x);
        return false;
    }
    snprintf(x->message, len,
             "pipeline: a damaged spool record (%lld bytes at offset %lld of %s%s) cannot be read "
             "and is not sent; %s",
             (long long)d->length, (long long)d->off, sp->path, seq_text, where);
    free(text);
    *sp->damage_tail = x;
    sp->damage_tail = &x->next;
    if (sp->logged++ < LOG_LINES)
        fprintf(stderr, "customerio: %s\n", x->message);
    return true;
}

/* Whether damaged bytes may hold an operation: every operation's JSON starts with {" (and
 * holds more of them), which a settle record's seq ranges practically never do. */
static bool may_hold_operation(spool_reader_t *r, const damage_span_t *d) {
    for (off_t done = 0; done + 1 < d->length;) {
        size_t chunk = d->length - done < 65536 ? (size_t)(d->length - done) : 65536;
        const unsigned char *p = cio__spool_read(r, d->off + done, chunk);
        if (p == NULL || memmem(p, chunk, "{\"", 2) != NULL)
            return true; /* unreadable: assume the worst */
        done += (off_t)chunk - 1;
    }
    return false;
}

/* Whether every operation of a damaged 'G' record is settled. Its head gives the first seq and
 * the payload's length, not the count: at most len / 6 (each operation takes a length and at
 * least "{}"), and fewer than the next operation record's seq (seqs are given out in file
 * order). Every seq up to that bound settled means none of its operations is owed. */
static bool group_settled(const damage_span_t *d, const spool_ranges_t *settled) {
    uint64_t count = d->len / 6;
    if (d->next_seq > d->seq && d->next_seq - d->seq < count)
        count = d->next_seq - d->seq;
    if (count == 0)
        return false;
    for (uint64_t k = 0; k < count; k++)
        if (!cio__spool_ranges_has(settled, d->seq + k))
            return false;
    return true;
}

/*
 * Quarantines and reports the damaged spans. An operation record already settled, or a damaged
 * settle record, is only quarantined (nothing was lost; a lost settle record means a repeat).
 * Returns whether every span is in the quarantine file (then the spool may be rewritten without
 * them; otherwise they stay where they are).
 */
static bool set_aside(spool_t *sp, spool_reader_t *r, damage_span_t *spans,
                      const spool_ranges_t *settled) {
    int qfd = cio__spool_open_quarantine(sp->quarantine_path);
    int qerr = errno;
    bool all = qfd >= 0;
    for (damage_span_t *d = spans; d != NULL; d = d->next) {
        bool kept = qfd >= 0 && quarantine(sp, qfd, r, d);
        if (!kept && all)
            qerr = errno;
        all = all && kept;
        char where[1200];
        if (kept)
            snprintf(where, sizeof(where), "its bytes were copied to %s", sp->quarantine_path);
        else
            snprintf(where, sizeof(where),
                     "its bytes stay in the spool (the quarantine file %s cannot be written: %s)",
                     sp->quarantine_path, strerror(qerr));
        bool settled_already =
            d->head_known &&
            ((d->type == SPOOL_TYPE_APPEND && cio__spool_ranges_has(settled, d->seq)) ||
             (d->type == SPOOL_TYPE_GROUP && group_settled(d, settled)));
        const char *what = d->head_known && d->type == SPOOL_TYPE_SETTLED   ? "settle record"
                           : settled_already && d->type == SPOOL_TYPE_GROUP ? "settled batch record"
                           : settled_already                                ? "settled operation"
                           : !d->head_known && !may_hold_operation(r, d)
                               ? "record with no operation in it"
                               : NULL;
        if (what != NULL) { /* nothing owed is lost (a lost settle record costs a repeat) */
            if (sp->logged++ < LOG_LINES)
                fprintf(stderr,
                        "customerio: spool %s: a damaged %s (%lld bytes at offset %lld) was set "
                        "aside; %s\n",
                        sp->path, what, (long long)d->length, (long long)d->off, where);
            continue;
        }
        (void)add_damage_report(sp, d, where);
    }
    if (sp->logged > LOG_LINES)
        fprintf(stderr, "customerio: spool %s: %zu damaged records in all (see %s)\n", sp->path,
                sp->logged, sp->quarantine_path);
    if (qfd >= 0) {
        if (sp->sync != CIO_SPOOL_SYNC_NONE)
            (void)fdatasync(qfd);
        close(qfd);
    }
    return all;
}

/* ---------------------------------------------------------------- opening */

typedef struct loaded {
    spool_ranges_t settled;
    damage_span_t *spans, **spans_tail;
    damage_span_t *group_awaiting_next; /* the last damaged 'G' span, until a record follows */
    uint64_t max_seq;
} loaded_t;

static void saw_seq(loaded_t *l, uint64_t seq) {
    if (seq > l->max_seq)
        l->max_seq = seq;
}

/* Pass 1 over a format-2 file: the settled seqs, the highest seq, the damaged spans. */
static bool scan_v2(spool_reader_t *r, loaded_t *l) {
    off_t pos = SPOOL_HEADER_BYTES;
    spool_step_t st;
    while (cio__spool_next(r, &pos, &st)) {
        bool operations = st.head_known && st.type != SPOOL_TYPE_SETTLED;
        if (operations && l->group_awaiting_next != NULL) {
            l->group_awaiting_next->next_seq = st.seq;
            l->group_awaiting_next = NULL;
        }
        if (st.damaged) {
            if (st.head_known && st.type == SPOOL_TYPE_APPEND)
                saw_seq(l, st.seq);
            /* a 'G' record's head (checksummed apart) gives its first seq and its length; each
             * operation takes at least 6 bytes (length + "{}"), so none of its seqs is used again
             * while its bytes may still be in the file (kept damage) */
            if (st.head_known && st.type == SPOOL_TYPE_GROUP)
                saw_seq(l, st.seq + st.len / 6);
            damage_span_t *span = add_span(&l->spans_tail, &st);
            if (span == NULL)
                return false;
            if (st.head_known && st.type == SPOOL_TYPE_GROUP)
                l->group_awaiting_next = span;
        } else if (st.type == SPOOL_TYPE_SETTLED) {
            for (uint32_t k = 0; k + 16 <= st.len; k += 16) {
                uint64_t first = cio__spool_get_u64(st.payload + k);
                uint64_t count = cio__spool_get_u64(st.payload + k + 8);
                if (!cio__spool_ranges_add(&l->settled, first, count))
                    return false;
                if (count > 0)
                    saw_seq(l, first + count - 1);
            }
        } else if (st.type == SPOOL_TYPE_GROUP) {
            uint64_t n = group_count(st.payload, st.len);
            if (n > 0)
                saw_seq(l, st.seq + n - 1);
        } else {
            saw_seq(l, st.seq);
        }
    }
    return r->error == 0;
}

/* Pass 1 over a format-1 file. A tail that is not a record is one damaged span. */
static bool scan_v1(spool_reader_t *r, loaded_t *l) {
    off_t pos = 0;
    spool_step_t st;
    int k;
    while ((k = cio__spool_v1_next(r, &pos, &st)) == 1) {
        saw_seq(l, st.seq);
        if (st.type == SPOOL_TYPE_SETTLED && !cio__spool_ranges_add(&l->settled, st.seq, 1))
            return false;
    }
    if (k < 0 && r->error == 0) {
        st = (spool_step_t){.off = pos, .length = r->size - pos};
        if (!add_span(&l->spans_tail, &st))
            return false;
    }
    return r->error == 0;
}

/* Pass 2: queues the operations not settled, in file order. */
static bool queue_owed(spool_t *sp, spool_reader_t *r, const loaded_t *l, bool v1) {
    off_t pos = v1 ? 0 : SPOOL_HEADER_BYTES;
    spool_step_t st;
    for (;;) {
        bool more = v1 ? cio__spool_v1_next(r, &pos, &st) == 1 : cio__spool_next(r, &pos, &st);
        if (!more)
            break;
        if (!st.damaged && st.type == SPOOL_TYPE_GROUP) {
            /* its operations one by one, as if each had its own 'A' record */
            uint64_t n = group_count(st.payload, st.len);
            uint32_t at = 0;
            for (uint64_t k = 0; k < n; k++) {
                uint32_t len = cio__spool_get_u32(st.payload + at);
                const char *op = (const char *)st.payload + at + 4;
                at += 4 + len;
                if (cio__spool_ranges_has(&l->settled, st.seq + k))
                    continue;
                cio_store_item_t *it = cio__fifo_push(&sp->fifo, op, len, st.seq + k);
                if (it == NULL) {
                    r->error = ENOMEM;
                    return false;
                }
                live_add(sp, (spool_item_t *)it);
            }
            continue;
        }
        if (st.damaged || st.type != SPOOL_TYPE_APPEND ||
            cio__spool_ranges_has(&l->settled, st.seq))
            continue;
        cio_store_item_t *it = cio__fifo_push(&sp->fifo, (const char *)st.payload, st.len, st.seq);
        if (it == NULL) {
            r->error = ENOMEM;
            return false;
        }
        live_add(sp, (spool_item_t *)it);
    }
    return r->error == 0;
}

static cio_status_t refuse_foreign(const char *path) {
    return cio__fail(CIO_E_CONFIG,
                     "pipeline: spool_path %s is not a spool file (it does not start with this "
                     "library's spool header); refused, left as it is",
                     path);
}

/* Reads what the file holds: queues what is owed, sets damage aside; rewrites the file when it
 * was of the old format or had damage. The file is locked and sp->fds.fd open. */
static cio_status_t load(spool_t *sp, off_t size, bool created) {
    unsigned char header[SPOOL_HEADER_BYTES];
    cio__spool_header(header);
    spool_reader_t r;
    if (!cio__spool_reader_init(&r, sp->fds.fd, size))
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    const unsigned char *head =
        cio__spool_read(&r, 0, size < SPOOL_HEADER_BYTES ? (size_t)size : SPOOL_HEADER_BYTES);
    bool fresh = size == 0;
    bool v1 = false;
    cio_status_t st = CIO_OK;
    if (!fresh && head == NULL) {
        st = cio__fail(CIO_E_CONFIG, "pipeline: cannot read the spool file %s (%s)", sp->path,
                       strerror(r.error));
    } else if (!fresh && size < SPOOL_HEADER_BYTES) {
        fresh = memcmp(head, header, (size_t)size) == 0; /* a header cut short: nothing after */
        if (!fresh)
            st = refuse_foreign(sp->path);
    } else if (!fresh && memcmp(head, SPOOL_MAGIC, SPOOL_MAGIC_BYTES) == 0) {
        uint32_t version = cio__spool_get_u32(head + 8);
        sp->groups = version == SPOOL_VERSION_GROUPS;
        if (version != SPOOL_VERSION && version != SPOOL_VERSION_GROUPS)
            st = cio__fail(CIO_E_CONFIG,
                           "pipeline: the spool file %s is of format %u, which this version "
                           "does not read (it reads formats %u and %u); refused, left as it is",
                           sp->path, version, SPOOL_VERSION, SPOOL_VERSION_GROUPS);
    } else if (!fresh) {
        off_t pos = 0;
        spool_step_t step;
        v1 = cio__spool_v1_next(&r, &pos, &step) == 1;
        if (!v1)
            st = refuse_foreign(sp->path);
    }
    if (st != CIO_OK || fresh) {
        cio__spool_reader_free(&r);
        if (st != CIO_OK)
            return st;
        if (pwrite(sp->fds.fd, header, sizeof(header), 0) != (ssize_t)sizeof(header) ||
            (sp->sync != CIO_SPOOL_SYNC_NONE && fdatasync(sp->fds.fd) != 0)) {
            int e = errno;
            (void)ftruncate(sp->fds.fd, created ? 0 : size);
            if (created)
                unlink(sp->path);
            return cio__fail(CIO_E_CONFIG, "pipeline: cannot write the spool file %s (%s)",
                             sp->path, strerror(e != 0 ? e : ENOSPC));
        }
        sp->size = SPOOL_HEADER_BYTES;
        return CIO_OK;
    }

    loaded_t l = {.spans_tail = &l.spans};
    bool ok = v1 ? scan_v1(&r, &l) : scan_v2(&r, &l);
    cio__spool_ranges_finish(&l.settled);
    ok = ok && queue_owed(sp, &r, &l, v1);
    if (!ok) {
        int e = r.error != 0 ? r.error : ENOMEM;
        cio__spool_reader_free(&r);
        cio__spool_ranges_free(&l.settled);
        free_spans(l.spans);
        return cio__fail(e == ENOMEM ? CIO_E_NOMEM : CIO_E_CONFIG,
                         "pipeline: cannot read the spool file %s (%s)", sp->path, strerror(e));
    }
    sp->fifo.next_seq = l.max_seq + 1;
    sp->size = size;
    bool all_set_aside = l.spans == NULL || set_aside(sp, &r, l.spans, &l.settled);
    cio__spool_reader_free(&r);
    cio__spool_ranges_free(&l.settled);
    bool damaged = l.spans != NULL;
    free_spans(l.spans);
    if (!v1 && !all_set_aside) {
        /* the reports say "its bytes stay in the spool": emptying or rewriting the file would
         * destroy the only copy, so this run appends only */
        sp->keep_damage = true;
        fprintf(stderr,
                "customerio: spool %s: damaged records could not be copied to %s, so they stay "
                "in the spool file; it is not compacted while this pipeline runs and grows until "
                "it is reopened with a writable %s\n",
                sp->path, sp->quarantine_path, sp->quarantine_path);
    }

    if (v1 && !all_set_aside)
        return cio__fail(CIO_E_CONFIG,
                         "pipeline: cannot rewrite the spool file %s in the current format: its "
                         "unreadable tail cannot be copied to %s; it is left as it was",
                         sp->path, sp->quarantine_path);
    if (v1 || (damaged && all_set_aside)) {
        /* the old format is rewritten in the new one; damage set aside leaves the file */
        if (!rewrite(sp)) {
            int e = errno;
            if (v1)
                return cio__fail(CIO_E_CONFIG,
                                 "pipeline: cannot rewrite the spool file %s in the current "
                                 "format (%s); it is left as it was",
                                 sp->path, strerror(e));
            fprintf(stderr, "customerio: cannot rewrite the spool file %s (%s)\n", sp->path,
                    strerror(e));
        }
    } else {
        compact(sp);
    }
    return CIO_OK;
}

static char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

cio_status_t cio__store_spool_new(const char *path, cio_spool_sync_t sync, cio_store_t **out) {
    if (path[0] == '\0')
        return cio__fail(CIO_E_CONFIG, "pipeline: spool_path is empty");
    spool_t *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    sp->fifo.base = spool_store;
    sp->fifo.next_seq = 1;
    sp->fifo.item_size = sizeof(spool_item_t);
    sp->sync = sync;
    sp->fds.fd = sp->fds.tmp_fd = -1;
    sp->damage_tail = &sp->fifo.base.damaged;
    sp->path = strdup(path);
    sp->tmp_path = join(path, ".tmp");
    sp->quarantine_path = join(path, ".quarantine");
    if (sp->path == NULL || sp->tmp_path == NULL || sp->quarantine_path == NULL) {
        spool_free(sp);
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    }
    cio__spool_register(&sp->fds);
    int fd = -1;
    off_t size = 0;
    bool created = false;
    cio_status_t st = cio__spool_open(path, &fd, &size, &created);
    if (st == CIO_OK) {
        cio__spool_set_fds(&sp->fds, fd, -1);
        st = load(sp, size, created);
    }
    if (st != CIO_OK) {
        spool_free(sp); /* keeps the message: spool_free fails nothing */
        return st;
    }
    *out = &sp->fifo.base;
    return CIO_OK;
}
