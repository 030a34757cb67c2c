/*
 * The request-rate meter (issue 18): every API request (not /_mock) the emulator answered is
 * noted at the time it arrived, per workspace - the Basic user (Track site id, Pipelines key) or
 * "bearer" (App API) - with the most requests seen in any sliding one-second window, so a test can
 * assert that a fleet of senders never exceeded its rate limit. GET /_mock/rate reads it, DELETE
 * /_mock/rate starts it again.
 */
#include "mock_internal.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WINDOW_US 1000000LL
#define HISTORY_US (3 * WINDOW_US) /* a request answered this late still counts */
#define MAX_WORKSPACES 64

typedef struct meter_ws {
    char key[96];
    int64_t *times; /* arrivals inside the last window, a ring */
    size_t head, count, cap;
    uint64_t total, max_in_window;
    int64_t max_at_us; /* when the busiest window ended, since the meter started */
} meter_ws_t;

struct mock_meter {
    pthread_mutex_t lock;
    int64_t started_us;
    meter_ws_t ws[MAX_WORKSPACES];
    size_t n;
};

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

mock_meter_t *mock_meter_new(void) {
    mock_meter_t *mt = calloc(1, sizeof(*mt));
    if (mt != NULL) {
        pthread_mutex_init(&mt->lock, NULL);
        mt->started_us = now_us();
    }
    return mt;
}

static void reset_locked(mock_meter_t *mt) {
    for (size_t i = 0; i < mt->n; i++)
        free(mt->ws[i].times);
    memset(mt->ws, 0, sizeof(mt->ws));
    mt->n = 0;
    mt->started_us = now_us();
}

void mock_meter_free(mock_meter_t *mt) {
    if (mt == NULL)
        return;
    reset_locked(mt);
    pthread_mutex_destroy(&mt->lock);
    free(mt);
}

void mock_meter_reset(mock_meter_t *mt) {
    pthread_mutex_lock(&mt->lock);
    reset_locked(mt);
    pthread_mutex_unlock(&mt->lock);
}

/* The workspace a request counts for, from its Authorization header. */
static void workspace_of(struct MHD_Connection *conn, char *out, size_t size) {
    const char *auth = conn != NULL ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                                  MHD_HTTP_HEADER_AUTHORIZATION)
                                    : NULL;
    snprintf(out, size, "none");
    if (auth == NULL)
        return;
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        snprintf(out, size, "bearer");
        return;
    }
    if (strncasecmp(auth, "Basic ", 6) != 0)
        return;
    size_t len = 0;
    unsigned char *plain = mock_base64_decode(auth + 6, strlen(auth + 6), &len);
    if (plain == NULL)
        return;
    char *colon = memchr(plain, ':', len);
    size_t user = colon != NULL ? (size_t)(colon - (char *)plain) : len;
    snprintf(out, size, "%.*s", (int)(user < size - 1 ? user : size - 1), (char *)plain);
    free(plain);
}

int64_t mock_meter_now(void) {
    return now_us();
}

/* The ring's i-th oldest time. */
#define AT(w, i) ((w)->times[((w)->head + (i)) % (w)->cap])

/* The index of the oldest of the first n times that is later than t (n when none is): the ring
 * is in time order, so a binary search; a linear count per request made the emulator slow down
 * as its request rate grew (tens of thousands of times in HISTORY_US at full speed). */
static size_t first_after(const meter_ws_t *w, int64_t t, size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (AT(w, mid) > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void mock_meter_note(mock_meter_t *mt, struct MHD_Connection *conn, int64_t t) {
    if (mt == NULL)
        return;
    char key[96];
    workspace_of(conn, key, sizeof(key));
    pthread_mutex_lock(&mt->lock);
    meter_ws_t *w = NULL;
    for (size_t i = 0; i < mt->n && w == NULL; i++)
        if (strcmp(mt->ws[i].key, key) == 0)
            w = &mt->ws[i];
    if (w == NULL && mt->n < MAX_WORKSPACES) {
        w = &mt->ws[mt->n++];
        snprintf(w->key, sizeof(w->key), "%s", key);
    }
    if (w != NULL) {
        /* A request is noted once answered (a delayed one late), with its arrival time: the
         * ring stays in time order and keeps HISTORY_US, so a late one still counts in the
         * windows it belongs to. */
        int64_t newest = w->count > 0 ? AT(w, w->count - 1) : t;
        int64_t horizon = (newest > t ? newest : t) - HISTORY_US;
        while (w->count > 0 && w->times[w->head] <= horizon) {
            w->head = (w->head + 1) % w->cap;
            w->count--;
        }
        if (w->count == w->cap) { /* grow the ring, oldest first */
            size_t cap = w->cap > 0 ? w->cap * 2 : 64;
            int64_t *grown = malloc(cap * sizeof(*grown));
            if (grown != NULL) {
                for (size_t i = 0; i < w->count; i++)
                    grown[i] = AT(w, i);
                free(w->times);
                w->times = grown;
                w->cap = cap;
                w->head = 0;
            }
        }
        if (w->count < w->cap) {
            size_t at = w->count; /* insertion from the newest end */
            while (at > 0 && AT(w, at - 1) > t) {
                AT(w, at) = AT(w, at - 1);
                at--;
            }
            AT(w, at) = t;
            w->count++;
            /* the windows (e - 1 s, e] ending at t or at a later arrival within a second */
            for (size_t e = at; e < w->count && AT(w, e) < t + WINDOW_US; e++) {
                uint64_t in = e + 1 - first_after(w, AT(w, e) - WINDOW_US, e);
                if (in > w->max_in_window) {
                    w->max_in_window = in;
                    w->max_at_us = AT(w, e) - mt->started_us;
                }
            }
        }
        w->total++;
    }
    pthread_mutex_unlock(&mt->lock);
}

json_t *mock_meter_to_json(mock_meter_t *mt) {
    json_t *ws = json_object();
    pthread_mutex_lock(&mt->lock);
    for (size_t i = 0; i < mt->n; i++)
        json_object_set_new(ws, mt->ws[i].key,
                            json_pack("{s:I,s:I,s:I}", "requests", (json_int_t)mt->ws[i].total,
                                      "max_in_window", (json_int_t)mt->ws[i].max_in_window,
                                      "max_at_ms", (json_int_t)(mt->ws[i].max_at_us / 1000)));
    pthread_mutex_unlock(&mt->lock);
    return json_pack("{s:i,s:o}", "window_ms", (int)(WINDOW_US / 1000), "workspaces", ws);
}
