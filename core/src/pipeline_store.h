/*
 * The pipeline's queue, behind one interface (customerio/sys/store.h): where accepted operations
 * wait until they are confirmed. store_memory.c keeps them in memory; store_spool.c also logs
 * them to a file so a restarted process can send what was not confirmed; a caller's store (one
 * shared by many producer processes) comes in cio_pipeline_options_t.store. Stores are not
 * thread-safe: the pipeline locks around them.
 */
#ifndef CIO_PIPELINE_STORE_H
#define CIO_PIPELINE_STORE_H

#include "customerio/pipeline.h"
#include "customerio/sys/store.h"

/* Frees a list of damage reports (both stores' free_damage). */
void cio__store_damage_free(cio_store_damage_t *d);

/* A FIFO in memory. */
cio_status_t cio__store_memory_new(cio_store_t **out);
/*
 * A FIFO in memory whose content is also logged to path (store_spool.c), and which starts with
 * what the file holds unconfirmed from an earlier run (replayed operations keep their ids). The
 * file is locked while the store lives; damaged records found at open are in s->damaged.
 * CIO_E_CONFIG (the message names the path and why) when the file cannot be used.
 */
cio_status_t cio__store_spool_new(const char *path, cio_spool_sync_t sync, cio_store_t **out);

/* Shared by both stores: the in-memory FIFO. Its items are allocated in one piece: the store's
 * item struct (item_size bytes, cio_store_item_t first, the store's own fields after it), then
 * the operation's bytes and a NUL, where the item's data points. */
typedef struct cio_fifo {
    cio_store_t base;
    cio_store_item_t *head, *tail;
    uint64_t next_seq;
    size_t item_size; /* sizeof the store's item struct (memory: cio_store_item_t) */
} cio_fifo_t;

/* Appends a copy of op as the newest item; the store's own fields (past cio_store_item_t) are
 * left for the store to set. NULL when out of memory. */
cio_store_item_t *cio__fifo_push(cio_fifo_t *f, const char *op, size_t len, uint64_t seq);
/* Appends copies of the n operations as the newest items, seqs first_seq, first_seq + 1, ...:
 * all or none (NULL when out of memory, the FIFO as it was). Returns the first of them (they
 * are linked in order through next). n >= 1. */
cio_store_item_t *cio__fifo_push_many(cio_fifo_t *f, const char *const *ops, const size_t *lens,
                                      size_t n, uint64_t first_seq);
/* An item of size item_size (cio_store_item_t first) with a copy of len bytes of text and a NUL
 * after it, data pointing there; next NULL, seq as given, other shared fields 0 (damage reports
 * use it). NULL when out of memory. */
cio_store_item_t *cio__store_item_new(size_t item_size, const char *text, size_t len, uint64_t seq);
cio_store_item_t *cio__fifo_take(cio_store_t *s, size_t max_bytes, size_t max_items, size_t *count,
                                 size_t *bytes);
void cio__fifo_requeue(cio_store_t *s, cio_store_item_t *items);
const cio_store_item_t *cio__fifo_peek(const cio_store_t *s);
void cio__fifo_free_items(cio_store_item_t *items);
/* release: the items are freed, still owed (the spool keeps them in its file). */
void cio__fifo_release(cio_store_t *s, cio_store_item_t *items);
/* free_damage. */
void cio__fifo_free_damage(cio_store_t *s, cio_store_damage_t *damage);

#endif
