/*
 * The spool file's pieces, shared by store_spool.c (the store), spool_format.c (the bytes on
 * disk) and spool_file.c (opening, locking, temporary and quarantine files).
 *
 * Format 2 (little-endian):
 *   header  "CIOSPOOL" version:u32 flags:u32                                   16 bytes
 *   record  mark:4 = FF C1 05 5A  type:u8  len:u32  seq:u64  hcrc:u32
 *           payload[len]  pcrc:u32                                             25 + len bytes
 * hcrc is the CRC-32 of type, len and seq; pcrc the CRC-32 of the payload. Type 'A' carries an
 * accepted operation (payload: its JSON, seq: its number); type 'S' says operations are settled
 * (payload: ranges first:u64 count:u64, seq: 0). The mark (0xFF never occurs in UTF-8 text) lets
 * a reader find the next record after damaged bytes; the CRCs tell a record from damage.
 * Type 'G' carries several operations accepted together, all or none (cio_store_t.append_many):
 * payload: len:u32 <len bytes> for each, seq: the first one's number (the others follow it one
 * by one). One record with one checksum: a write cut short by a full disk or a kill leaves a
 * torn record that counts for none of them. A file holding one says format 3 in its header (so
 * a version that only knows format 2 refuses it rather than skip what it cannot read); format 3
 * is format 2 plus 'G' records.
 *
 * Format 1 (before the header existed): 'A' seq:u64 len:u32 <len bytes> '\n' and 'S' seq:u64
 * '\n'. Read once, then rewritten in format 2.
 */
#ifndef CIO_SPOOL_INTERNAL_H
#define CIO_SPOOL_INTERNAL_H

#include "pipeline_store.h"

#include <stdint.h>
#include <sys/types.h>

#define SPOOL_MAGIC "CIOSPOOL"
#define SPOOL_MAGIC_BYTES 8
#define SPOOL_VERSION 2u
#define SPOOL_HEADER_BYTES 16
#define SPOOL_REC_HEAD 21 /* mark, type, len, seq, hcrc */
#define SPOOL_REC_TAIL 4  /* pcrc */
#define SPOOL_REC_OVERHEAD (SPOOL_REC_HEAD + SPOOL_REC_TAIL)
/* No operation comes near this (32 KB each); a longer length field is damage. */
#define SPOOL_MAX_PAYLOAD ((uint32_t)1 << 20)
#define SPOOL_TYPE_APPEND 'A'
#define SPOOL_TYPE_SETTLED 'S'
#define SPOOL_TYPE_GROUP 'G'
#define SPOOL_VERSION_GROUPS 3u /* format 2 plus 'G' records */

extern const unsigned char cio__spool_mark[4];

/* ---- spool_format.c ---- */

uint32_t cio__crc32(uint32_t crc, const void *data, size_t len);
void cio__spool_put_u32(unsigned char *p, uint32_t v);
void cio__spool_put_u64(unsigned char *p, uint64_t v);
uint32_t cio__spool_get_u32(const unsigned char *p);
uint64_t cio__spool_get_u64(const unsigned char *p);
/* The 16-byte file header. */
void cio__spool_header(unsigned char out[SPOOL_HEADER_BYTES]);
/* A record's head and tail around payload (written with writev, no copy of the payload). */
void cio__spool_frame(unsigned char head[SPOOL_REC_HEAD], unsigned char tail[SPOOL_REC_TAIL],
                      char type, uint64_t seq, const void *payload, uint32_t len);

/* Reads a file through one bounded window (at most SPOOL_MAX_PAYLOAD plus a little). */
typedef struct spool_reader {
    int fd;
    off_t size; /* the file's size when reading started */
    unsigned char *buf;
    size_t cap;
    off_t buf_off; /* file offset of buf[0] */
    size_t buf_len;
    int error; /* errno of a failed read, else 0 */
} spool_reader_t;

bool cio__spool_reader_init(spool_reader_t *r, int fd, off_t size);
void cio__spool_reader_free(spool_reader_t *r);
/* Bytes [off, off + n) of the file, valid until the next call; NULL past the end or on error. */
const unsigned char *cio__spool_read(spool_reader_t *r, off_t off, size_t n);

/* One step through a format-2 file: a whole record, or a span of damaged bytes. */
typedef struct spool_step {
    bool damaged;
    off_t off;    /* where the record or the damaged span starts */
    off_t length; /* its bytes */
    /* A record, or a damaged span whose head was intact (only its payload is not): */
    bool head_known;
    char type;
    uint64_t seq;
    uint32_t len;                 /* payload length */
    const unsigned char *payload; /* whole records only; valid until the next read */
} spool_step_t;

/* The step at *pos (advanced past it); false at the end of the file or on a read error. */
bool cio__spool_next(spool_reader_t *r, off_t *pos, spool_step_t *step);

/* Format 1: the record at *pos. 1 = one record (advanced), 0 = end of file, -1 = bytes that are
 * not a format-1 record (a torn or foreign tail). */
int cio__spool_v1_next(spool_reader_t *r, off_t *pos, spool_step_t *step);

/* Sets of settled sequence numbers, as sorted ranges. */
typedef struct spool_ranges {
    uint64_t (*r)[2]; /* first, count */
    size_t n, cap;
    bool sorted;
} spool_ranges_t;

bool cio__spool_ranges_add(spool_ranges_t *s, uint64_t first, uint64_t count);
/* Sorts and merges (call before has()). */
void cio__spool_ranges_finish(spool_ranges_t *s);
bool cio__spool_ranges_has(const spool_ranges_t *s, uint64_t seq);
void cio__spool_ranges_free(spool_ranges_t *s);

/* ---- spool_file.c ---- */

/*
 * Opens path as a spool: an existing regular file (not a symbolic link, FIFO, device or
 * directory) or a new one made 0600, locked (flock LOCK_EX, without waiting). *fd gets it, *size
 * its size, *created whether it was made here. Fails (CIO_E_CONFIG, message naming the path and
 * the reason) having modified nothing.
 */
cio_status_t cio__spool_open(const char *path, int *fd, off_t *size, bool *created);
/* A new temporary file at tmp_path (O_CREAT|O_EXCL|O_NOFOLLOW, 0600; a stale one is unlinked,
 * never followed). -1 with errno on failure. */
int cio__spool_open_temp(const char *tmp_path);
/* The quarantine file, opened for appending (made 0600, never followed); -1 with errno. */
int cio__spool_open_quarantine(const char *path);
/* Writes all of iov at off (retrying short writes); false with errno. */
struct iovec;
bool cio__spool_pwritev_all(int fd, struct iovec *iov, int iovcnt, off_t off);
/* fsync of the directory holding path (so a rename survives a machine crash). */
void cio__spool_sync_dir(const char *path);

/* Spool descriptors a forked child must close (so the parent's lock is the parent's alone). */
typedef struct spool_fds {
    struct spool_fds *next;
    int fd, tmp_fd;
} spool_fds_t;
void cio__spool_register(spool_fds_t *fds);
void cio__spool_unregister(spool_fds_t *fds);
/* Sets fds->fd / fds->tmp_fd where a fork cannot see half of it. */
void cio__spool_set_fds(spool_fds_t *fds, int fd, int tmp_fd);

#endif
