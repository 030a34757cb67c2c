/* The pipeline's in-memory queue: a FIFO of operations (customerio/sys/store.h). */
#include "pipeline_store.h"
#include "retry.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

cio_store_item_t *cio__store_item_new(size_t item_size, const char *text, size_t len,
                                      uint64_t seq) {
    cio_store_item_t *item = malloc(item_size + len + 1);
    if (item == NULL)
        return NULL;
    char *data = (char *)item + item_size;
    memcpy(data, text, len);
    data[len] = '\0';
    *item = (cio_store_item_t){.seq = seq, .len = len, .data = data};
    return item;
}

cio_store_item_t *cio__fifo_push(cio_fifo_t *f, const char *op, size_t len, uint64_t seq) {
    cio_store_item_t *item = cio__store_item_new(f->item_size, op, len, seq);
    if (item == NULL)
        return NULL;
    item->enqueued_ms = cio__now_ms();
    if (f->tail != NULL)
        f->tail->next = item;
    else
        f->head = item;
    f->tail = item;
    f->base.waiting++;
    f->base.waiting_bytes += len;
    return item;
}

cio_store_item_t *cio__fifo_push_many(cio_fifo_t *f, const char *const *ops, const size_t *lens,
                                      size_t n, uint64_t first_seq) {
    /* all allocated before any is linked: out of memory leaves the FIFO as it was */
    cio_store_item_t *first = NULL, **at = &first, *last = NULL;
    int64_t now = cio__now_ms();
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        cio_store_item_t *item = cio__store_item_new(f->item_size, ops[i], lens[i], first_seq + i);
        if (item == NULL) {
            cio__fifo_free_items(first);
            return NULL;
        }
        item->enqueued_ms = now;
        *at = last = item;
        at = &item->next;
        bytes += lens[i];
    }
    if (first == NULL)
        return NULL;
    if (f->tail != NULL)
        f->tail->next = first;
    else
        f->head = first;
    f->tail = last;
    f->base.waiting += n;
    f->base.waiting_bytes += bytes;
    return first;
}

cio_store_item_t *cio__fifo_take(cio_store_t *s, size_t max_bytes, size_t max_items, size_t *count,
                                 size_t *bytes) {
    cio_fifo_t *f = (cio_fifo_t *)s;
    cio_store_item_t *first = f->head, *last = NULL;
    size_t n = 0, total = 0;
    if (first != NULL && first->group > 0 && first->group < max_items)
        max_items = first->group; /* a part of a split batch travels alone */
    for (cio_store_item_t *it = f->head; it != NULL; it = it->next) {
        /* +1: the comma between items */
        if (n > 0 && (total + it->len + 1 > max_bytes || n >= max_items || it->group > 0))
            break;
        total += it->len + (n > 0);
        n++;
        last = it;
    }
    if (last == NULL) {
        *count = *bytes = 0;
        return NULL;
    }
    f->head = last->next;
    if (f->head == NULL)
        f->tail = NULL;
    last->next = NULL;
    s->waiting -= n;
    for (cio_store_item_t *it = first; it != NULL; it = it->next)
        s->waiting_bytes -= it->len;
    *count = n;
    *bytes = total;
    return first;
}

void cio__fifo_requeue(cio_store_t *s, cio_store_item_t *items) {
    cio_fifo_t *f = (cio_fifo_t *)s;
    if (items == NULL)
        return;
    cio_store_item_t *last = items;
    for (;;) {
        s->waiting++;
        s->waiting_bytes += last->len;
        if (last->next == NULL)
            break;
        last = last->next;
    }
    last->next = f->head;
    f->head = items;
    if (f->tail == NULL)
        f->tail = last;
}

const cio_store_item_t *cio__fifo_peek(const cio_store_t *s) {
    return ((const cio_fifo_t *)s)->head;
}

void cio__fifo_free_items(cio_store_item_t *items) {
    while (items != NULL) {
        cio_store_item_t *next = items->next;
        free(items);
        items = next;
    }
}

void cio__fifo_release(cio_store_t *s, cio_store_item_t *items) {
    (void)s;
    cio__fifo_free_items(items);
}

void cio__fifo_free_damage(cio_store_t *s, cio_store_damage_t *damage) {
    (void)s;
    cio__store_damage_free(damage);
}

void cio__store_damage_free(cio_store_damage_t *d) {
    while (d != NULL) {
        cio_store_damage_t *next = d->next;
        free(d->message);
        free(d->item);
        free(d);
        d = next;
    }
}

static cio_status_t memory_append(cio_store_t *s, const char *op, size_t len, uint64_t *seq) {
    cio_fifo_t *f = (cio_fifo_t *)s;
    if (cio__fifo_push(f, op, len, f->next_seq) == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    *seq = f->next_seq++;
    return CIO_OK;
}

static cio_status_t memory_append_many(cio_store_t *s, const char *const *ops, const size_t *lens,
                                       size_t n, uint64_t *seqs) {
    cio_fifo_t *f = (cio_fifo_t *)s;
    if (cio__fifo_push_many(f, ops, lens, n, f->next_seq) == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    for (size_t i = 0; i < n; i++)
        seqs[i] = f->next_seq++;
    return CIO_OK;
}

static void memory_settle(cio_store_t *s, cio_store_item_t *items) {
    (void)s;
    cio__fifo_free_items(items);
}

static void memory_destroy(cio_store_t *s) {
    cio__fifo_free_items(((cio_fifo_t *)s)->head);
    free(s);
}

static const cio_store_t memory_store = {
    .version = CIO_STORE_VERSION,
    .append = memory_append,
    .take = cio__fifo_take,
    .settle = memory_settle,
    .confirm = NULL,
    .requeue = cio__fifo_requeue,
    .before_send = NULL,
    .peek = cio__fifo_peek,
    .release = cio__fifo_release,
    .free_damage = cio__fifo_free_damage,
    .destroy = memory_destroy,
    .append_many = memory_append_many,
};

cio_status_t cio__store_memory_new(cio_store_t **out) {
    cio_fifo_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    f->base = memory_store;
    f->next_seq = 1;
    f->item_size = sizeof(cio_store_item_t); /* no state of its own: the bytes follow */
    *out = &f->base;
    return CIO_OK;
}
