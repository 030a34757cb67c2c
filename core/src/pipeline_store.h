/*
 * The pipeline's queue, behind one small interface: where accepted operations wait until they
 * are confirmed. store_memory.c keeps them in memory; store_spool.c also logs them to a file so a
 * restarted process can send what was not confirmed. (A store shared by many producer processes
 * would be a third implementation.) Stores are not thread-safe: the pipeline locks around them.
 */
#ifndef CIO_PIPELINE_STORE_H
#define CIO_PIPELINE_STORE_H

#include "internal.h"

/* One stored operation. Items taken together stay linked through next, in order. */
typedef struct cio_store_item {
    struct cio_store_item *next;
    uint64_t seq;
    int64_t enqueued_ms; /* monotonic clock, for the retry deadline and linger */
    int attempts;        /* HTTP attempts spent on it so far (for max_attempts) */
    size_t len;
    char data[]; /* the operation JSON, NUL-terminated */
} cio_store_item_t;

typedef struct cio_store cio_store_t;

typedef struct cio_store_ops {
    /* Stores a copy of op; *seq gets its number. */
    cio_status_t (*append)(cio_store_t *s, const char *op, size_t len, uint64_t *seq);
    /* Takes the oldest waiting items, in order, while their total stays within max_bytes and
     * their number within max_items (at least one); NULL when none wait. *count and *bytes
     * describe what was taken. */
    cio_store_item_t *(*take)(cio_store_t *s, size_t max_bytes, size_t max_items, size_t *count,
                              size_t *bytes);
    /* The items are settled (delivered or given up): forget them and free the list. */
    void (*settle)(cio_store_t *s, cio_store_item_t *items);
    /* Puts taken items back in front of the waiting ones, in their order. */
    void (*requeue)(cio_store_t *s, cio_store_item_t *items);
    /* Before a batch goes out (spool: fsync when so configured). */
    void (*before_send)(cio_store_t *s);
    /* The oldest waiting item, or NULL. */
    const cio_store_item_t *(*peek)(const cio_store_t *s);
    /* Frees the store and anything still in it (a spool keeps it in its file). */
    void (*destroy)(cio_store_t *s);
} cio_store_ops_t;

struct cio_store {
    const cio_store_ops_t *ops;
    size_t waiting;       /* items waiting (not taken) */
    size_t waiting_bytes; /* their bytes */
};

/* A FIFO in memory. */
cio_status_t cio__store_memory_new(cio_store_t **out);
/*
 * A FIFO in memory whose content is also logged to path, and which starts with what the file
 * holds unconfirmed from an earlier run (fresh ULIDs are not added again: replayed operations keep
 * their ids, so a batch sent twice is de-duplicated).
 */
cio_status_t cio__store_spool_new(const char *path, cio_spool_sync_t sync, cio_store_t **out);

/* Shared by both stores: the in-memory FIFO. */
typedef struct cio_fifo {
    cio_store_t base;
    cio_store_item_t *head, *tail;
    uint64_t next_seq;
} cio_fifo_t;

cio_store_item_t *cio__fifo_push(cio_fifo_t *f, const char *op, size_t len, uint64_t seq);
cio_store_item_t *cio__fifo_take(cio_store_t *s, size_t max_bytes, size_t max_items, size_t *count,
                                 size_t *bytes);
void cio__fifo_requeue(cio_store_t *s, cio_store_item_t *items);
const cio_store_item_t *cio__fifo_peek(const cio_store_t *s);
void cio__fifo_free_items(cio_store_item_t *items);

#endif
