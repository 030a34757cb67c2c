/*
 * A bounded set of recently seen webhook event_ids. Entries live in a fixed pool of `capacity`
 * slots, linked oldest -> newest (so eviction and expiry of the oldest are O(1), and removing an
 * expired id met in the middle is O(1) too), and are indexed by an open-addressing hash table
 * (linear probing, load factor <= 1/2, backward-shift deletion: no tombstones). Nothing grows
 * after dedup_new except the copies of the ids themselves, at most `capacity` of them.
 */
#include "customerio/webhook.h"
#include "util/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL SIZE_MAX

typedef struct entry {
    char *id; /* NULL when the entry is free */
    size_t len;
    uint64_t hash;
    int64_t seen_at;
    size_t prev, next; /* age order (newer = next) while used; next = free list while free */
} entry_t;

struct cio_webhook_dedup {
    pthread_mutex_t lock;
    size_t capacity;
    int64_t ttl;
    uint64_t seed;
    entry_t *entries; /* capacity of them */
    size_t free_head;
    size_t oldest, newest;
    size_t count;
    size_t *table; /* entry indices, NIL = empty slot */
    size_t mask;   /* table size - 1 */
};

static uint64_t hash_id(uint64_t seed, const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325u ^ seed; /* FNV-1a ... */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    h ^= h >> 33; /* ... with a murmur3 finaliser, so the low bits used for the slot are mixed */
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

/* The table slot holding entry index x (which must be in the table). */
static size_t slot_of(const cio_webhook_dedup_t *d, size_t x) {
    size_t i = (size_t)d->entries[x].hash & d->mask;
    while (d->table[i] != x)
        i = (i + 1) & d->mask;
    return i;
}

/* The entry index holding id, or NIL. */
static size_t find(const cio_webhook_dedup_t *d, const char *id, size_t len, uint64_t h) {
    for (size_t i = (size_t)h & d->mask; d->table[i] != NIL; i = (i + 1) & d->mask) {
        const entry_t *e = &d->entries[d->table[i]];
        if (e->hash == h && e->len == len && memcmp(e->id, id, len) == 0)
            return d->table[i];
    }
    return NIL;
}

/* Empties slot i and shifts later members of its probe run back, keeping every one findable. */
static void table_delete(cio_webhook_dedup_t *d, size_t i) {
    d->table[i] = NIL;
    for (size_t j = (i + 1) & d->mask; d->table[j] != NIL; j = (j + 1) & d->mask) {
        size_t home = (size_t)d->entries[d->table[j]].hash & d->mask;
        /* the member at j may move to the hole at i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            d->table[i] = d->table[j];
            d->table[j] = NIL;
            i = j;
        }
    }
}

static void remove_entry(cio_webhook_dedup_t *d, size_t x) {
    entry_t *e = &d->entries[x];
    table_delete(d, slot_of(d, x));
    if (e->prev != NIL)
        d->entries[e->prev].next = e->next;
    else
        d->oldest = e->next;
    if (e->next != NIL)
        d->entries[e->next].prev = e->prev;
    else
        d->newest = e->prev;
    free(e->id);
    e->id = NULL;
    e->prev = NIL;
    e->next = d->free_head;
    d->free_head = x;
    d->count--;
}

static bool expired(const cio_webhook_dedup_t *d, const entry_t *e, int64_t now) {
    /* both are >= 0, so the difference cannot overflow; a clock that went back expires nothing */
    return d->ttl > 0 && now - e->seen_at >= d->ttl;
}

/* Takes ownership of id (malloc'd). The set must have a free entry. */
static void insert(cio_webhook_dedup_t *d, char *id, size_t len, uint64_t h, int64_t now) {
    size_t x = d->free_head;
    entry_t *e = &d->entries[x];
    d->free_head = e->next;
    e->id = id;
    e->len = len;
    e->hash = h;
    e->seen_at = now;
    e->prev = d->newest;
    e->next = NIL;
    if (d->newest != NIL)
        d->entries[d->newest].next = x;
    else
        d->oldest = x;
    d->newest = x;
    size_t i = (size_t)h & d->mask;
    while (d->table[i] != NIL)
        i = (i + 1) & d->mask;
    d->table[i] = x;
    d->count++;
}

cio_status_t cio_webhook_dedup_new(size_t capacity, int64_t ttl_seconds,
                                   cio_webhook_dedup_t **out) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook dedup: out is NULL");
    *out = NULL;
    if (capacity == 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook dedup: capacity must be at least 1");
    if (ttl_seconds < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "webhook dedup: ttl_seconds is negative (%lld); use 0 for no expiry",
                         (long long)ttl_seconds);
    /* the table is the smallest power of two >= 2 * capacity */
    size_t table_size = 1;
    while (table_size < capacity || table_size - capacity < capacity) {
        if (table_size > SIZE_MAX / 2 / sizeof(size_t))
            return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook dedup: capacity %zu is too large",
                             capacity);
        table_size *= 2;
    }
    if (capacity > SIZE_MAX / sizeof(entry_t))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook dedup: capacity %zu is too large",
                         capacity);

    cio_webhook_dedup_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return cio__fail(CIO_E_NOMEM, "webhook dedup: out of memory");
    d->entries = malloc(capacity * sizeof(entry_t));
    d->table = malloc(table_size * sizeof(size_t));
    if (d->entries == NULL || d->table == NULL || pthread_mutex_init(&d->lock, NULL) != 0) {
        free(d->entries);
        free(d->table);
        free(d);
        return cio__fail(CIO_E_NOMEM, "webhook dedup: out of memory (capacity %zu)", capacity);
    }
    d->capacity = capacity;
    d->ttl = ttl_seconds;
    d->seed = (uint64_t)(uintptr_t)d ^ ((uint64_t)time(NULL) << 20);
    for (size_t i = 0; i < capacity; i++)
        d->entries[i] = (entry_t){.id = NULL, .prev = NIL, .next = i + 1 < capacity ? i + 1 : NIL};
    for (size_t i = 0; i < table_size; i++)
        d->table[i] = NIL;
    d->free_head = 0;
    d->oldest = d->newest = NIL;
    d->mask = table_size - 1;
    *out = d;
    return cio__ok();
}

cio_status_t cio_webhook_dedup_check(cio_webhook_dedup_t *dedup, const char *event_id, int64_t now,
                                     int *is_duplicate) {
    const char *call = "webhook dedup";
    if (dedup == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: dedup is NULL", call);
    if (is_duplicate == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: is_duplicate is NULL", call);
    if (event_id == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: event_id is NULL", call);
    if (*event_id == '\0')
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: event_id is empty", call);
    if (now < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: now is negative (%lld)", call,
                         (long long)now);
    if (now == 0)
        now = (int64_t)time(NULL);

    size_t len = strlen(event_id);
    char *copy = malloc(len + 1); /* made outside the lock; freed if the id is a duplicate */
    if (copy == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    memcpy(copy, event_id, len + 1);
    uint64_t h = hash_id(dedup->seed, event_id, len);

    pthread_mutex_lock(&dedup->lock);
    while (dedup->oldest != NIL && expired(dedup, &dedup->entries[dedup->oldest], now))
        remove_entry(dedup, dedup->oldest);
    size_t x = find(dedup, event_id, len, h);
    if (x != NIL && expired(dedup, &dedup->entries[x], now)) {
        remove_entry(dedup, x); /* met in the middle when `now` went back and forth */
        x = NIL;
    }
    int dup = x != NIL;
    if (!dup) {
        if (dedup->count == dedup->capacity)
            remove_entry(dedup, dedup->oldest);
        insert(dedup, copy, len, h, now);
        copy = NULL;
    }
    pthread_mutex_unlock(&dedup->lock);

    free(copy);
    *is_duplicate = dup;
    return cio__ok();
}

size_t cio_webhook_dedup_size(const cio_webhook_dedup_t *dedup) {
    if (dedup == NULL)
        return 0;
    cio_webhook_dedup_t *d = (cio_webhook_dedup_t *)dedup; /* locking is not a logical change */
    pthread_mutex_lock(&d->lock);
    size_t n = d->count;
    pthread_mutex_unlock(&d->lock);
    return n;
}

void cio_webhook_dedup_free(cio_webhook_dedup_t *dedup) {
    if (dedup == NULL)
        return;
    for (size_t i = 0; i < dedup->capacity; i++)
        free(dedup->entries[i].id);
    free(dedup->entries);
    free(dedup->table);
    pthread_mutex_destroy(&dedup->lock);
    free(dedup);
}
