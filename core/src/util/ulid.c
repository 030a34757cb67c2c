/*
 * ULIDs (https://github.com/ulid/spec): 48-bit Unix time in ms + 80 random bits (OpenSSL's
 * RAND_bytes), 26 Crockford base-32 characters. Monotonic within the process: within one
 * millisecond (or if the wall clock steps back) the random part is incremented, so ids sort in
 * the order they were made and never repeat; a forked child starts a sequence of its own. The
 * random bytes are drawn from OpenSSL 320 at a time (fresh ones for every new millisecond).
 */
#include "ulid.h"

#include "error.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t ulid_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* The last id made (under ulid_lock): its time, its 80-bit random part as 16 base-32 digits
 * (most significant first: the 26 characters are the 48-bit time then these 80 bits, 5 bits a
 * character), and its text. An id made in the same millisecond adds one to the digits and
 * rewrites only the characters that changed. */
static uint64_t last_ms;
static unsigned char last_digits[16];
static char last_text[CIO_ULID_BUFSIZE - 1];

/* Random bytes drawn from OpenSSL in bulk (under ulid_lock), 10 per new millisecond: one
 * RAND_bytes call per 32 milliseconds that make ids, not one per millisecond. */
#define POOL_IDS 32
static unsigned char pool[POOL_IDS * 10];
static size_t pool_left; /* unused bytes at the end of pool */

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* fork(): the lock is held across it (no thread of the parent is inside), and the child forgets
 * the parent's last id and its unused random bytes, or both would count on from the same id (or
 * draw the same bytes) within the same millisecond and make the same ids; its next id draws fresh
 * random bits (OpenSSL reseeds in a forked child). */
static void before_fork(void) {
    pthread_mutex_lock(&ulid_lock);
}

static void after_fork_in_parent(void) {
    pthread_mutex_unlock(&ulid_lock);
}

static void after_fork_in_child(void) {
    last_ms = 0;
    pool_left = 0;
    memset(pool, 0, sizeof(pool));
    pthread_mutex_unlock(&ulid_lock);
}

static void watch_forks(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

static uint64_t wall_clock_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* 10 characters of time, 50 bits (the top 2 zero). */
static void encode_time(uint64_t ms) {
    for (int i = 9; i >= 0; i--) {
        last_text[i] = alphabet[ms & 31];
        ms >>= 5;
    }
}

/* A new random part from 10 random bytes: two 40-bit halves of 8 digits each. */
static void set_random(const unsigned char r[10]) {
    for (int half = 0; half < 2; half++) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++)
            v = (v << 8) | r[half * 5 + k];
        for (int i = 7; i >= 0; i--) {
            last_digits[half * 8 + i] = (unsigned char)(v & 31);
            last_text[10 + half * 8 + i] = alphabet[v & 31];
            v >>= 5;
        }
    }
}

/* Adds one to the 80-bit random part; false when it wrapped around (all digits 0 again). */
static bool increment_random(void) {
    for (int i = 15; i >= 0; i--) {
        unsigned char d = (unsigned char)((last_digits[i] + 1) & 31);
        last_digits[i] = d;
        last_text[10 + i] = alphabet[d];
        if (d != 0)
            return true;
    }
    return false;
}

void cio__ulid_warm_up(void) {
    pthread_once(&fork_once, watch_forks);
    pthread_mutex_lock(&ulid_lock);
    if (pool_left < 10 && RAND_bytes(pool, sizeof(pool)) == 1)
        pool_left = sizeof(pool);
    pthread_mutex_unlock(&ulid_lock);
}

cio_status_t cio_ulid(char out[CIO_ULID_BUFSIZE]) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "ulid: out is NULL");
    return cio__ulid_at(wall_clock_ms(), out);
}

cio_status_t cio__ulid_at(uint64_t wall_ms, char out[CIO_ULID_BUFSIZE]) {
    pthread_once(&fork_once, watch_forks);
    uint64_t now = wall_ms & 0xFFFFFFFFFFFFull;
    pthread_mutex_lock(&ulid_lock);
    if (now <= last_ms) {
        if (!increment_random())
            encode_time(++last_ms);
    } else {
        if (pool_left < 10) {
            if (RAND_bytes(pool, sizeof(pool)) != 1) {
                pthread_mutex_unlock(&ulid_lock);
                return cio__fail(CIO_E_INTERNAL, "ulid: the random generator failed");
            }
            pool_left = sizeof(pool);
        }
        unsigned char *r = pool + sizeof(pool) - pool_left;
        pool_left -= 10;
        r[0] &= 0x7F; /* headroom so increments within one ms never wrap */
        set_random(r);
        memset(r, 0, 10); /* used: not left in memory */
        last_ms = now;
        encode_time(now);
    }
    memcpy(out, last_text, sizeof(last_text));
    out[CIO_ULID_BUFSIZE - 1] = '\0';
    pthread_mutex_unlock(&ulid_lock);
    return cio__ok();
}
