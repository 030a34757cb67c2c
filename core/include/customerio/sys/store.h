/*
 * customerio/sys/store.h - the pipeline's store interface: where accepted operations wait until
 * they are delivered or given up. For code that brings its own store (one shared by many
 * processes, say); an application that only uses the pipeline needs none of this.
 *
 * The library's two stores implement it: a FIFO in memory, and the same FIFO logged to a spool
 * file (cio_pipeline_options_t.spool_path). A caller's store is handed to cio_pipeline_new() in
 * cio_pipeline_options_t.store (options version 3).
 *
 * Versioning: a store fills in version = CIO_STORE_VERSION (CIO_STORE_INIT does); fields are only
 * ever added at the end of cio_store_t with the version bumped, and the pipeline reads only the
 * fields of the version a store says it has. A store of a newer version than the library's is
 * refused (CIO_E_INVALID_ARGUMENT).
 *
 * Threading: the pipeline calls a store under its own lock, from the enqueuing threads, its
 * pipeline thread and the client's engine thread, never two calls at once: a store needs no lock
 * of its own for the pipeline's sake. A call must not block for long (enqueuers wait on the same
 * lock) and must not call into the pipeline.
 *
 * Items: the store allocates them (in append(), or when take() hands them out, as it likes) and
 * gets every one back through exactly one of settle(), requeue() or release(), which free it or
 * keep it. Between take() and that call, the pipeline links items through next and updates
 * attempts and group; the other fields are read only. cio_store_item_t holds only what the
 * pipeline and a store share: a store embeds it as the first member of an item of its own,
 * which carries the store's state (list links, flags) and may hold the operation's bytes in the
 * same allocation (data then points there), and converts the pipeline's cio_store_item_t *
 * back to its own item by a cast. Fields are only ever appended to cio_store_item_t, each with
 * a new CIO_STORE_VERSION: the pipeline reads only the fields of the version the store gives
 * in cio_store_t.version, so an item allocated by a store of an older version (smaller) is
 * never read past its end.
 */
#ifndef CUSTOMERIO_SYS_STORE_H
#define CUSTOMERIO_SYS_STORE_H

#include "../common.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_STORE_VERSION 2

/* One stored operation, as the pipeline sees it: the first member of the store's own item
 * (above). Items handed out together are linked through next, in order. Version 1's fields: */
typedef struct cio_store_item {
    struct cio_store_item *next;
    uint64_t seq;        /* the store's number for it: non-zero, growing with every append */
    int64_t enqueued_ms; /* when it was appended: CLOCK_MONOTONIC, in ms (retry deadline, linger) */
    int attempts;        /* HTTP attempts spent on it so far (the pipeline counts: 0 on append) */
    /* > 0: it leads a part of a batch refused as a whole (HTTP 400) and split in two: take()
     * hands it out with at most group - 1 items after it and none before it. 0 (on append) =
     * any batch. Set by the pipeline. */
    size_t group;
    size_t len;       /* of data, without the NUL */
    const char *data; /* the operation as the sink prepared it, NUL-terminated; the store's
                       * memory, valid as long as the item */
    /* Fields of later versions are appended here. */
} cio_store_item_t;

/* A damaged record a store found when it opened and set aside: the pipeline reports it as a
 * failed operation (status CIO_E_INTERNAL, reason "spool_damaged", message as given) before
 * cio_pipeline_new() returns. */
typedef struct cio_store_damage {
    struct cio_store_damage *next;
    char *message; /* the report's sentence */
    /* seq (0 when unknown); data: the record, or a JSON object about it. Allocated by the store
     * like its other items; free_damage frees it. */
    cio_store_item_t *item;
} cio_store_damage_t;

typedef struct cio_store cio_store_t;

struct cio_store {
    unsigned int version; /* CIO_STORE_VERSION */

    /* Stores a copy of op (len bytes, no NUL counted) as the newest waiting item, with
     * attempts = 0 and group = 0; *seq gets its number. On failure nothing is stored and the
     * status says why (CIO_E_QUEUE_FULL: no room, the caller may retry later; the library's
     * stores also leave a message for cio_last_error()). Required. */
    cio_status_t (*append)(cio_store_t *store, const char *op, size_t len, uint64_t *seq);
    /* Hands out the oldest waiting items, in order, while their lengths plus one comma between
     * each two stay within max_bytes and their number within max_items, always at least one
     * (and honouring group, above); NULL when none wait. *count and *bytes get their number and
     * that total. They stop being waiting. Required. */
    cio_store_item_t *(*take)(cio_store_t *store, size_t max_bytes, size_t max_items, size_t *count,
                              size_t *bytes);
    /* The items (a list from take(), maybe only some of one) are settled, delivered or given
     * up: forget them for good and free them. Required. */
    void (*settle)(cio_store_t *store, cio_store_item_t *items);
    /* The items' request was answered 2xx: a durable store records that at once, before the
     * reports are made (a kill after this does not send them again); settle() follows. NULL
     * when the store keeps nothing beyond the process. */
    void (*confirm)(cio_store_t *store, cio_store_item_t *items);
    /* Puts taken items back in front of the waiting ones, in their order (attempts and group as
     * the pipeline left them). Required. */
    void (*requeue)(cio_store_t *store, cio_store_item_t *items);
    /* Before a batch goes out (the spool: fsync when so configured). NULL = nothing to do. */
    void (*before_send)(cio_store_t *store);
    /* The oldest waiting item, or NULL; it stays the store's. Required. */
    const cio_store_item_t *(*peek)(const cio_store_t *store);
    /* The pipeline is closing and gives back taken items it did not settle: free them; they are
     * still owed (a durable store sends them on its next run). Required. */
    void (*release)(cio_store_t *store, cio_store_item_t *items);
    /* Frees a list of damage reports taken from damaged (below). NULL when damaged stays NULL. */
    void (*free_damage)(cio_store_t *store, cio_store_damage_t *damage);
    /* Frees the store and what still waits in it (a durable store keeps that for its next run).
     * Called by cio_pipeline_close(), last. Required. */
    void (*destroy)(cio_store_t *store);

    /* Kept current by the store: the number of waiting items (not taken) and the sum of their
     * len. A store opened with items already waiting (replayed) starts with them counted. */
    size_t waiting;
    size_t waiting_bytes;
    /* Damage found at open, to report (cio_store_damage_t); the pipeline takes the list (sets
     * this to NULL) and gives it back through free_damage. NULL = none. */
    cio_store_damage_t *damaged;

    /* Version 2: */

    /* Stores copies of the n operations (ops[i], lens[i] bytes each, no NUL counted) as the
     * newest waiting items, in order, all of them or none: on failure nothing is stored (and a
     * durable store keeps none of them across a restart, even after a crash half way through),
     * and the status says why, as for append(). seqs[i] gets the number of ops[i]. n >= 1. NULL
     * when the store cannot do so: the pipeline then refuses to enqueue several requests at
     * once (cio_pipeline_enqueue_requests with n > 1) rather than queue some of them. A store of
     * version 1 has no such field. */
    cio_status_t (*append_many)(cio_store_t *store, const char *const *ops, const size_t *lens,
                                size_t n, uint64_t *seqs);
};

#define CIO_STORE_INIT                                                                             \
    { .version = CIO_STORE_VERSION }

#ifdef __cplusplus
}
#endif

#endif
