/*
 * ULIDs (https://github.com/ulid/spec): 48-bit Unix time in ms + 80 random bits (OpenSSL's
 * RAND_bytes), 26 Crockford base-32 characters. Monotonic within the process: within one
 * millisecond (or if the wall clock steps back) the random part is incremented, so ids sort in
 * the order they were made and never repeat; a forked child starts a sequence of its own.
 */
#include "ulid.h"

#include "error.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t ulid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static unsigned char last_random[10];
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* fork(): the lock is held across it (no thread of the parent is inside), and the child forgets
 * the parent's last id, or both would count on from it within the same millisecond and make the
 * same ids; its next id draws fresh random bits (OpenSSL reseeds in a forked child). */
static void before_fork(void) {
    pthread_mutex_lock(&ulid_lock);
}

static void after_fork_in_parent(void) {
    pthread_mutex_unlock(&ulid_lock);
}

static void after_fork_in_child(void) {
    last_ms = 0;
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

/* Adds one to the 80-bit big-endian counter; false when it wrapped around. */
static bool increment_random(unsigned char r[10]) {
    for (int i = 9; i >= 0; i--) {
        if (++r[i] != 0)
            return true;
    }
    return false;
}

static void encode(uint64_t ms, const unsigned char r[10], char out[CIO_ULID_BUFSIZE]) {
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for (int i = 9; i >= 0; i--) { /* 10 characters of time, 50 bits (top 2 zero) */
        out[i] = alphabet[ms & 31];
        ms >>= 5;
    }
    /* 16 characters of randomness: 80 bits = two 40-bit halves of 8 characters each */
    for (int half = 0; half < 2; half++) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++)
            v = (v << 8) | r[half * 5 + k];
        for (int i = 7; i >= 0; i--) {
            out[10 + half * 8 + i] = alphabet[v & 31];
            v >>= 5;
        }
    }
    out[26] = '\0';
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
        if (!increment_random(last_random))
            last_ms++;
    } else {
        if (RAND_bytes(last_random, sizeof(last_random)) != 1) {
            pthread_mutex_unlock(&ulid_lock);
            return cio__fail(CIO_E_INTERNAL, "ulid: the random generator failed");
        }
        last_random[0] &= 0x7F; /* headroom so increments within one ms never wrap */
        last_ms = now;
    }
    encode(last_ms, last_random, out);
    pthread_mutex_unlock(&ulid_lock);
    return cio__ok();
}
