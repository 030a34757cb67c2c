/*
 * Synchronous transfers on the calling thread. Handing a synchronous call to the engine thread
 * and waiting for it costs two thread switches per call; instead each thread keeps, per client,
 * an easy handle of its own (its "slot") and runs the call's attempts with curl_easy_perform().
 *
 * What the slots of one client share, through a libcurl share handle with a mutex per kind of
 * data: the DNS cache and the TLS sessions (a new connection resumes the session another thread
 * negotiated). Not the connections: libcurl does not support sharing its connection cache
 * between concurrent threads (CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT), so each slot keeps its
 * own kept-alive connections.
 *
 * Lifetime: a slot is made on a thread's first synchronous call on a client and is linked both
 * in the thread's list (a __thread head, also stored in a pthread key whose destructor frees
 * the thread's slots when it exits) and in the client's list (under registry_lock).
 * cio_client_free frees every thread's easy handle of that client (none may be inside a call on
 * it then) and marks their slots dead; a thread frees its dead slots' small remains on its next
 * new slot, or when it exits. A slot is found by the client's serial number, never reused, so a
 * new client at a freed one's address never meets the old slots.
 *
 * fork(): the child must not touch the parent's connections (a TLS close would write on the
 * parent's socket). What a process made carries its fork generation; in a child, a client gets
 * a new share and new slots, and the parent's are kept reachable and never used or freed, as
 * the parent's engine is (client.c).
 */
#include "direct.h"
#include "retry.h"
#include "tls_ca.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

typedef struct slot slot_t;

/* What one client's synchronous calls share in one process (made on the first of them). */
struct cio_direct {
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST]; /* one per kind of shared data */
    unsigned generation;                        /* the fork generation that made it */
    slot_t *slots;                              /* every thread's slot, under registry_lock */
    cio_ca_store_t ca;                          /* the CA bundle, loaded once (tls_ca.c) */
    cio_direct_t *leftover_next;                /* a parent's, kept in a child (leftovers) */
};

struct slot {
    cio_transfer_t t;                  /* first: cio__direct_end() gets back from &t */
    uint64_t serial;                   /* the client's */
    cio_direct_t *direct;              /* NULL once the client freed the handle */
    bool busy;                         /* inside a call (a re-entrant one uses the engine) */
    bool ca_attached;                  /* the handle verifies with direct->ca's store */
    cio_buf_t url;                     /* cio__direct_url */
    struct curl_slist *headers[3][2];  /* cio__direct_headers: [auth][has a body] */
    slot_t *thread_next;               /* the owning thread's list */
    slot_t *client_prev, *client_next; /* direct->slots, under registry_lock */
};

/* Guards every direct's slot list, slot->direct of live slots, and leftovers. Taken when a slot
 * or a client's share is made or freed, never on a call's way. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static cio_direct_t *leftovers; /* a parent's shares and slots, in a forked child */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static bool key_made;
static __thread slot_t *thread_slots;
static __thread unsigned thread_generation;
/* Bumped in every forked child (cio__direct_after_fork_in_child): what a process made is
 * recognised by the generation it was made in. */
static atomic_uint fork_generation;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user) {
    (void)h;
    (void)access;
    cio_direct_t *d = user;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&d->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user) {
    (void)h;
    cio_direct_t *d = user;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&d->locks[data]);
}

static cio_direct_t *direct_new(unsigned generation) {
    cio_direct_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->share = curl_share_init();
    if (d->share == NULL) {
        free(d);
        return NULL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&d->locks[i], NULL);
    cio__ca_store_init(&d->ca);
    d->generation = generation;
    curl_share_setopt(d->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(d->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(d->share, CURLSHOPT_USERDATA, d);
    curl_share_setopt(d->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(d->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return d;
}

/* Under registry_lock: frees what a slot holds beyond its struct, and marks it dead. */
static void slot_release(slot_t *s) {
    curl_easy_cleanup(s->t.easy);
    s->t.easy = NULL;
    cio__buf_free(&s->t.response);
    cio__buf_free(&s->t.header_block);
    cio__buf_free(&s->url);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 2; j++) {
            curl_slist_free_all(s->headers[i][j]);
            s->headers[i][j] = NULL;
        }
    s->direct = NULL;
}

static void slot_unlink_from_client(slot_t *s) {
    if (s->client_prev != NULL)
        s->client_prev->client_next = s->client_next;
    else
        s->direct->slots = s->client_next;
    if (s->client_next != NULL)
        s->client_next->client_prev = s->client_prev;
    s->client_prev = s->client_next = NULL;
}

/* Under registry_lock: frees the dead slots of a thread's list, returns the new head. */
static slot_t *reclaim_dead(slot_t *head) {
    slot_t **link = &head;
    while (*link != NULL) {
        slot_t *s = *link;
        if (s->direct == NULL) {
            *link = s->thread_next;
            free(s);
        } else {
            link = &s->thread_next;
        }
    }
    return head;
}

/* Thread exit: frees the slots of this process; a parent's (the forking thread's, in a child)
 * stay linked in the parent's share, kept reachable. */
static void thread_exit(void *value) {
    unsigned now = atomic_load(&fork_generation);
    pthread_mutex_lock(&registry_lock);
    for (slot_t *s = value, *next; s != NULL; s = next) {
        next = s->thread_next;
        if (s->direct != NULL && s->direct->generation != now)
            continue;
        if (s->direct != NULL) {
            slot_unlink_from_client(s);
            slot_release(s);
        }
        free(s);
    }
    pthread_mutex_unlock(&registry_lock);
    thread_slots = NULL;
}

static void make_key(void) {
    key_made = pthread_key_create(&thread_key, thread_exit) == 0;
}

static void thread_list_changed(void) {
    pthread_once(&key_once, make_key);
    if (key_made)
        (void)pthread_setspecific(thread_key, thread_slots);
}

/* The first call on this thread since a fork (or ever): the forking thread's slots are the
 * parent's; they stay linked in the parent's shares, except dead ones, which nothing else
 * reaches. */
static void adopt_generation(unsigned now) {
    if (thread_slots != NULL) {
        pthread_mutex_lock(&registry_lock);
        for (slot_t *s = thread_slots, *next; s != NULL; s = next) {
            next = s->thread_next;
            if (s->direct == NULL)
                free(s);
        }
        pthread_mutex_unlock(&registry_lock);
        thread_slots = NULL;
        thread_list_changed();
    }
    thread_generation = now;
}

/* Under registry_lock: the client's share for this process, made on first use. */
static cio_direct_t *client_direct(cio_client_t *c, unsigned now) {
    cio_direct_t *d = atomic_load_explicit(&c->direct, memory_order_acquire);
    if (d != NULL && d->generation == now)
        return d;
    cio_direct_t *fresh = direct_new(now);
    if (fresh == NULL)
        return NULL;
    if (d != NULL) { /* a parent's: keep it reachable, unused */
        d->leftover_next = leftovers;
        leftovers = d;
    }
    atomic_store_explicit(&c->direct, fresh, memory_order_release);
    return fresh;
}

static slot_t *slot_new(cio_client_t *c, unsigned now) {
    slot_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->t.easy = curl_easy_init();
    if (s->t.easy == NULL || !cio__transfer_setup_easy(c, s->t.easy, &s->t)) {
        curl_easy_cleanup(s->t.easy);
        free(s);
        return NULL;
    }
    s->serial = c->serial;
    pthread_mutex_lock(&registry_lock);
    cio_direct_t *d = client_direct(c, now);
    if (d != NULL && curl_easy_setopt(s->t.easy, CURLOPT_SHARE, d->share) == CURLE_OK) {
        s->direct = d;
        s->client_next = d->slots;
        if (d->slots != NULL)
            d->slots->client_prev = s;
        d->slots = s;
    }
    thread_slots = reclaim_dead(thread_slots);
    pthread_mutex_unlock(&registry_lock);
    if (s->direct == NULL) {
        curl_easy_cleanup(s->t.easy);
        free(s);
        thread_list_changed();
        return NULL;
    }
    s->thread_next = thread_slots;
    thread_slots = s;
    thread_list_changed();
    return s;
}

cio_transfer_t *cio__direct_begin(cio_client_t *client) {
    unsigned now = atomic_load(&fork_generation);
    if (thread_generation != now)
        adopt_generation(now);
    slot_t *s = thread_slots;
    while (s != NULL && s->serial != client->serial)
        s = s->thread_next;
    if (s == NULL)
        s = slot_new(client, now);
    if (s == NULL || s->busy)
        return NULL;
    s->busy = true;
    return &s->t;
}

cio_buf_t *cio__direct_url(cio_transfer_t *t) {
    return &((slot_t *)(void *)t)->url;
}

struct curl_slist **cio__direct_headers(cio_transfer_t *t, int auth, bool has_body) {
    return &((slot_t *)(void *)t)->headers[auth][has_body ? 1 : 0];
}

void cio__direct_end(cio_transfer_t *t) {
    ((slot_t *)(void *)t)->busy = false;
}

static void sleep_ms(long ms) {
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

void cio__direct_perform(cio_client_t *client, cio_transfer_t *t) {
    slot_t *s = (slot_t *)(void *)t;
    if (!s->ca_attached && strncasecmp(t->url, "https:", 6) == 0)
        s->ca_attached = cio__ca_store_attach(&s->direct->ca, client, t->easy);
    if (!cio__transfer_setup_call(client, t->easy, t)) {
        /* as the engine reports a transfer it could not configure: one attempt, no status */
        cio__transfer_begin_attempt(t);
        t->curl_code = CURLE_URL_MALFORMAT;
        t->call->attempts++;
        CURL *easy = t->easy;
        t->easy = NULL; /* its status is the previous call's */
        cio__transfer_complete(t);
        t->easy = easy;
        return;
    }
    for (;;) {
        cio__transfer_begin_attempt(t);
        CURLcode code = curl_easy_perform(t->easy);
        long delay = cio__transfer_attempt_ended(client, t, code);
        if (delay < 0)
            break;
        sleep_ms(delay);
    }
    cio__transfer_complete(t);
}

void cio__direct_client_free(cio_client_t *client) {
    cio_direct_t *d = atomic_load(&client->direct);
    if (d == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    if (d->generation != atomic_load(&fork_generation)) { /* a parent's: keep it, unused */
        d->leftover_next = leftovers;
        leftovers = d;
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    for (slot_t *s = d->slots, *next; s != NULL; s = next) {
        next = s->client_next;
        slot_release(s);
        s->client_prev = s->client_next = NULL;
    }
    d->slots = NULL;
    if (thread_generation == d->generation)
        thread_slots = reclaim_dead(thread_slots); /* this thread's, at once */
    pthread_mutex_unlock(&registry_lock);
    thread_list_changed();
    curl_share_cleanup(d->share);
    cio__ca_store_destroy(&d->ca);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&d->locks[i]);
    free(d);
    atomic_store(&client->direct, NULL);
}

void cio__direct_after_fork_in_child(void) {
    atomic_fetch_add(&fork_generation, 1);
    pthread_mutex_init(&registry_lock, NULL);
}
