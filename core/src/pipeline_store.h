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
    /* > 0: it leads a part of a batch refused as a whole (HTTP 400) and split in two: take()
     * sends it with at most group - 1 items after it and none before it. 0 = any batch. */
    size_t group;
    /* The spool's list of the items it still owes (waiting or taken), in the order of their
     * records, and whether the item's settlement is already on disk (see confirm). */
    struct cio_store_item *live_prev, *live_next;
    bool confirmed;
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
    /* The items are settled for good (their request was answered 2xx): a spool records that
     * at once, before reports are made, so a kill from here on does not send them again.
     * settle() follows. NULL when the store keeps nothing on disk. */
    void (*confirm)(cio_store_t *s, cio_store_item_t *items);
    /* Puts taken items back in front of the waiting ones, in their order. */
    void (*requeue)(cio_store_t *s, cio_store_item_t *items);
    /* Before a batch goes out (spool: fsync when so configured). */
    void (*before_send)(cio_store_t *s);
    /* The oldest waiting item, or NULL. */
    const cio_store_item_t *(*peek)(const cio_store_t *s);
    /* Frees the store and anything still in it (a spool keeps it in its file). */
    void (*destroy)(cio_store_t *s);
} cio_store_ops_t;

/* A damaged record a spool found at open and set aside: reported as a failed operation. */
typedef struct cio_store_damage {
    struct cio_store_damage *next;
    char *message;          /* the report's sentence (where, how many bytes, where it went) */
    cio_store_item_t *item; /* seq (0 when unreadable); data: the same as a JSON object */
} cio_store_damage_t;

void cio__store_damage_free(cio_store_damage_t *d);

struct cio_store {
    const cio_store_ops_t *ops;
    size_t waiting;              /* items waiting (not taken) */
    size_t waiting_bytes;        /* their bytes */
    cio_store_damage_t *damaged; /* to report, then free (the pipeline takes them) */
};

/* A FIFO in memory. */
cio_status_t cio__store_memory_new(cio_store_t **out);
/*
 * A FIFO in memory whose content is also logged to path (store_spool.c), and which starts with
 * what the file holds unconfirmed from an earlier run (replayed operations keep their ids). The
 * file is locked while the store lives; damaged records found at open are in s->damaged.
 * CIO_E_CONFIG (the message names the path and why) when the file cannot be used.
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
