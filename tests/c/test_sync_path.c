/*
 * Synchronous calls run their transfer on the calling thread (core/src/direct.c), not on the
 * client's engine thread: retries and Retry-After waits happen there, several threads at once
 * each get their own answer, a forked child opens a connection of its own and leaves the
 * parent's alone, and a client freed from another thread leaves nothing behind (valgrind and
 * ASan runs of this file check the last part).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(sync_path, .init = fx_setup, .fini = fx_teardown);

/* ---- the engine thread is not on a synchronous call's way ---- */

/* A pipeline's report callback runs on the engine thread; this one holds it (deliberately,
 * against the callback's contract) until the test releases it or 5 s pass. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, released, timed_out;
} hold = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, false};

static void hold_engine(const cio_delivery_report_t *report, void *user) {
    (void)report;
    (void)user;
    pthread_mutex_lock(&hold.lock);
    if (hold.entered) { /* only the first report holds */
        pthread_mutex_unlock(&hold.lock);
        return;
    }
    hold.entered = true;
    pthread_cond_broadcast(&hold.cond);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (!hold.released && !hold.timed_out)
        hold.timed_out = pthread_cond_timedwait(&hold.cond, &hold.lock, &until) != 0;
    pthread_mutex_unlock(&hold.lock);
}

Test(sync_path, test_a_sync_call_with_retries_completes_while_the_engine_thread_is_busy) {
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.on_report = hold_engine;
    po.report_successes = 1;
    po.linger_ms = 1;
    po.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(fx.client, &po, &p));
    expect_ok(cio_pipeline_enqueue(
        p,
        "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"1\"},\"name\":\"e\"}",
        NULL));
    pthread_mutex_lock(&hold.lock);
    while (!hold.entered)
        pthread_cond_wait(&hold.cond, &hold.lock);
    pthread_mutex_unlock(&hold.lock);

    /* the engine thread is held: this call, one 500 then a 200, must not need it */
    mock_clear();
    mock_fault(1, 500, "{\"meta\":{\"error\":\"boom\"}}", 0, NULL, NULL);
    expect_ok(cio_track(fx.client, "cust-1", "while-held", NULL, NULL));
    pthread_mutex_lock(&hold.lock);
    bool timed_out = hold.timed_out;
    hold.released = true;
    pthread_cond_broadcast(&hold.cond);
    pthread_mutex_unlock(&hold.lock);
    cr_assert(!timed_out, "the sync call waited for the engine thread");
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    cr_assert_eq(req_status(json_array_get(reqs, 0)), 500);
    cr_assert_eq(req_status(json_array_get(reqs, 1)), 200);
    cr_assert_str_eq(req_str(json_array_get(reqs, 1), "path"), "/api/v1/customers/cust-1/events");
    json_decref(reqs);
    cio_pipeline_close(p, 5000);
}

Test(sync_path, test_retry_after_on_429_is_waited_then_the_same_request_succeeds) {
    mock_fault(1, 429, "{\"meta\":{\"error\":\"slow down\"}}", 0, "1", NULL);
    long t0 = now_ms();
    expect_ok(cio_track(fx.client, "cust-1", "limited", "{\"n\":1}", NULL));
    long waited = now_ms() - t0;
    cr_assert_geq(waited, 950, "Retry-After: 1 was not waited (%ld ms)", waited);
    cr_assert_lt(waited, 5000);
    json_t *reqs = mock_requests_wait(2);
    cr_assert_eq(json_array_size(reqs), 2);
    cr_assert_eq(req_status(json_array_get(reqs, 0)), 429);
    cr_assert_eq(req_status(json_array_get(reqs, 1)), 200);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "body"),
                     req_str(json_array_get(reqs, 1), "body"));
    json_decref(reqs);
    cr_assert_eq(cio_last_response()->http_status, 200);
}

Test(sync_path, test_5xx_until_max_attempts_fails_with_the_last_answer) {
    cio_client_options_t o = fx_options();
    o.max_attempts = 3;
    cio_client_t *c = fx_client(&o);
    mock_fault(100, 503, "{\"meta\":{\"error\":\"down\"}}", 0, NULL, NULL);
    cr_assert_eq(cio_track(c, "cust-1", "e", NULL, NULL), CIO_E_SERVER);
    const cio_error_t *e = cio_last_error();
    cr_assert_str_eq(e->message, "track: HTTP 503 after 3 attempts: down");
    cr_assert_eq(e->attempts, 3);
    cr_assert_eq(e->http_status, 503);
    cr_assert_eq(e->retryable, 1);
    cr_assert_str_eq(e->server_message, "down");
    json_t *reqs = mock_requests_wait(3);
    cr_assert_eq(json_array_size(reqs), 3);
    json_decref(reqs);
}

Test(sync_path, test_a_slow_answer_times_out_on_every_attempt) {
    cio_client_options_t o = fx_options();
    o.timeout_ms = 200;
    o.max_attempts = 2;
    cio_client_t *c = fx_client(&o);
    mock_fault(2, 0, NULL, 1500, NULL, NULL);
    long t0 = now_ms();
    cr_assert_eq(cio_track(c, "cust-1", "slow", NULL, NULL), CIO_E_TIMEOUT);
    long took = now_ms() - t0;
    const cio_error_t *e = cio_last_error();
    cr_assert(strncmp(e->message, "track: timed out after 2 attempts: ", 35) == 0, "%s",
              e->message);
    cr_assert_eq(e->attempts, 2);
    cr_assert_eq(e->retryable, 1);
    cr_assert_lt(took, 1400, "the timeout did not cut the attempts short (%ld ms)", took);
}

/* ---- several threads at once ---- */

#define N_THREADS 8
#define N_CALLS 15

typedef struct worker {
    cio_client_t *client;
    int index;
    int failures;
    char first_error[256];
} worker_t;

static void worker_fail(worker_t *w, const char *what) {
    if (w->failures++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %d: %s: %s", w->index, what,
                 cio_last_error() != NULL ? cio_last_error()->message : "(no error)");
}

/* Each thread writes its own person, then reads it back: every answer must be its own. */
static void *identify_and_read(void *arg) {
    worker_t *w = arg;
    char id[32], attrs[64], want_id[48], want_attr[64];
    snprintf(id, sizeof id, "thread-%d", w->index);
    for (int i = 0; i < N_CALLS; i++) {
        snprintf(attrs, sizeof attrs, "{\"round\":%d,\"owner\":\"%s\"}", i, id);
        if (cio_identify(w->client, id, attrs) != CIO_OK) {
            worker_fail(w, "identify");
            continue;
        }
        char *resp = NULL;
        if (cio_customers_get_attributes(w->client, CIO_ID_TYPE_ID, id, &resp) != CIO_OK) {
            worker_fail(w, "get_attributes");
            continue;
        }
        snprintf(want_id, sizeof want_id, "\"id\":\"%s\"", id);
        snprintf(want_attr, sizeof want_attr, "\"owner\":\"%s\"", id);
        if (strstr(resp, want_id) == NULL || strstr(resp, want_attr) == NULL) {
            if (w->failures++ == 0)
                snprintf(w->first_error, sizeof w->first_error, "thread %d got %.180s", w->index,
                         resp);
        }
        cio_free(resp);
    }
    return NULL;
}

static cio_client_t *app_client(void) {
    cio_client_options_t o = fx_options();
    o.app_api_key = "test-app-key";
    return fx_client(&o);
}

Test(sync_path, test_threads_calling_at_once_each_get_their_own_answer) {
    cio_client_t *c = app_client();
    pthread_t th[N_THREADS];
    worker_t w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker_t){.client = c, .index = i};
        cr_assert_eq(pthread_create(&th[i], NULL, identify_and_read, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++)
        cr_assert_eq(w[i].failures, 0, "%s", w[i].first_error);
    json_t *reqs = mock_requests_wait(N_THREADS * N_CALLS * 2);
    cr_assert_eq(json_array_size(reqs), (size_t)(N_THREADS * N_CALLS * 2));
    json_decref(reqs);
}

/* ---- client freed from another thread ---- */

typedef struct parked {
    worker_t w;
    cio_client_t *second; /* set by the main thread before it wakes the worker again */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int phase; /* 0 first calls running, 1 done, 2 go on with the second client */
} parked_t;

static void *call_park_call(void *arg) {
    parked_t *p = arg;
    for (int i = 0; i < 3; i++)
        if (cio_track(p->w.client, "cust-1", "first", NULL, NULL) != CIO_OK)
            worker_fail(&p->w, "track (first client)");
    pthread_mutex_lock(&p->lock);
    p->phase = 1;
    pthread_cond_broadcast(&p->cond);
    while (p->phase != 2)
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < 3; i++)
        if (cio_track(p->second, "cust-1", "second", NULL, NULL) != CIO_OK)
            worker_fail(&p->w, "track (second client)");
    return NULL; /* the thread's handle for the second client is freed as it exits */
}

Test(sync_path, test_a_client_freed_by_another_thread_after_its_calls_leaves_the_callers_working) {
    cio_client_options_t o = fx_options();
    cio_client_t *first = NULL;
    cr_assert_eq(cio_client_new(&o, &first), CIO_OK);
    parked_t p[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        p[i] = (parked_t){.w = {.client = first, .index = i}};
        pthread_mutex_init(&p[i].lock, NULL);
        pthread_cond_init(&p[i].cond, NULL);
        cr_assert_eq(pthread_create(&th[i], NULL, call_park_call, &p[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&p[i].lock);
        while (p[i].phase != 1)
            pthread_cond_wait(&p[i].cond, &p[i].lock);
        pthread_mutex_unlock(&p[i].lock);
    }
    /* the workers are alive and hold handles for first; this thread made no call on it */
    cio_client_free(first);
    cio_client_t *second = NULL; /* may well reuse first's address */
    cr_assert_eq(cio_client_new(&o, &second), CIO_OK);
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&p[i].lock);
        p[i].second = second;
        p[i].phase = 2;
        pthread_cond_broadcast(&p[i].cond);
        pthread_mutex_unlock(&p[i].lock);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    expect_ok(cio_track(second, "cust-1", "main", NULL, NULL));
    cio_client_free(second);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(p[i].w.failures, 0, "%s", p[i].w.first_error);
        pthread_mutex_destroy(&p[i].lock);
        pthread_cond_destroy(&p[i].cond);
    }
    json_t *reqs = mock_requests_wait(19);
    cr_assert_eq(json_array_size(reqs), 19);
    json_decref(reqs);
}

/* ---- fork ---- */

/* The inodes of this process's TCP sockets connected to port (at most max), from /proc. */
static size_t sockets_to(int port, unsigned long *inodes, size_t max) {
    unsigned long theirs[256];
    size_t n_theirs = 0, n = 0;
    FILE *f = fopen("/proc/self/net/tcp", "r");
    cr_assert_not_null(f);
    char line[512];
    while (fgets(line, sizeof line, f) != NULL && n_theirs < 256) {
        unsigned rem_port, state;
        unsigned long inode;
        if (sscanf(line, " %*d: %*x:%*x %*x:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &rem_port,
                   &state, &inode) == 3 &&
            (int)rem_port == port && state == 1 /* ESTABLISHED */)
            theirs[n_theirs++] = inode;
    }
    fclose(f);
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        unsigned long inode;
        if (sscanf(target, "socket:[%lu]", &inode) != 1)
            continue;
        for (size_t i = 0; i < n_theirs; i++)
            if (theirs[i] == inode)
                inodes[n++] = inode;
    }
    closedir(d);
    return n;
}

static bool has_inode(const unsigned long *set, size_t n, unsigned long inode) {
    for (size_t i = 0; i < n; i++)
        if (set[i] == inode)
            return true;
    return false;
}

Test(sync_path, test_a_forked_child_opens_its_own_connection_and_the_parent_keeps_its_own) {
    int port = 0;
    cr_assert_eq(sscanf(fx.base_url, "http://127.0.0.1:%d", &port), 1);
    expect_ok(cio_track(fx.client, "1", "before-fork", NULL, NULL));
    unsigned long before[16];
    size_t n_before = sockets_to(port, before, 16);
    cr_assert_eq(n_before, 1, "one kept-alive connection after the first call, got %zu", n_before);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int code = 0;
        if (cio_track(fx.client, "1", "from-child", NULL, NULL) != CIO_OK)
            code = 1;
        unsigned long now[16];
        size_t n_now = sockets_to(port, now, 16);
        /* the parent's socket (inherited, untouched) and one of the child's own */
        if (n_now != 2 || !has_inode(now, n_now, before[0]))
            code = 2;
        cio_client_free(fx.client);
        _exit(code);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* the parent goes on on the connection it had: the child neither used nor closed it */
    expect_ok(cio_track(fx.client, "1", "after-fork", NULL, NULL));
    unsigned long after[16];
    size_t n_after = sockets_to(port, after, 16);
    cr_assert_eq(n_after, 1);
    cr_assert_eq(after[0], before[0], "the parent had to open a new connection");
    json_t *reqs = mock_requests_wait(3);
    cr_assert_eq(json_array_size(reqs), 3);
    const char *want[] = {"before-fork", "from-child", "after-fork"};
    for (size_t i = 0; i < 3; i++) {
        json_t *body = req_body_json(json_array_get(reqs, i));
        cr_assert_str_eq(json_string_value(json_object_get(body, "name")), want[i]);
        json_decref(body);
    }
    json_decref(reqs);
}

/* Over TLS: a child freeing the client must not close the parent's connection (a TLS close
 * writes close_notify on the socket they share, and the server would then drop it). */
Test(sync_path, test_a_forked_child_leaves_the_parents_tls_connection_alone) {
    cio_mock_t *tls = mock_start_tls();
    int port = 0;
    cr_assert_eq(sscanf(cio_mock_base_url(tls), "https://127.0.0.1:%d", &port), 1);
    cio_client_options_t o = fx_options();
    o.track_url = cio_mock_base_url(tls);
    o.ca_file = CIO_TEST_TLS_CERT;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    expect_ok(cio_track(c, "1", "before-fork", NULL, NULL));
    unsigned long before[16];
    cr_assert_eq(sockets_to(port, before, 16), 1);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int code = cio_track(c, "1", "from-child", NULL, NULL) == CIO_OK ? 0 : 1;
        cio_client_free(c);
        _exit(code);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    expect_ok(cio_track(c, "1", "after-fork", NULL, NULL));
    unsigned long after[16];
    cr_assert_eq(sockets_to(port, after, 16), 1);
    cr_assert_eq(after[0], before[0], "the parent's TLS connection was closed in the child");
    cio_client_free(c);
    cio_mock_stop(tls);
}

/* ---- the CA bundle is loaded once ---- */

static char second_thread_error[512];

static void *track_on_a_thread_of_its_own(void *arg) {
    cio_status_t st = cio_track(arg, "1", "second-thread", NULL, NULL);
    if (st != CIO_OK)
        snprintf(second_thread_error, sizeof(second_thread_error), "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    return (void *)(intptr_t)st;
}

/* A synchronous call's TLS connection verifies with the client's certificate store, loaded once
 * (core/src/tls_ca.c), instead of libcurl reading the CA file again for every connection (~19 ms
 * of CPU for the system bundle): another thread's first call opens a connection of its own,
 * and it still verifies after the file is gone. */
Test(sync_path, test_a_new_connection_verifies_with_the_ca_store_loaded_once) {
    cio_mock_t *tls = mock_start_tls();
    char ca[] = "/tmp/cio-ca-copy-XXXXXX";
    int fd = mkstemp(ca);
    cr_assert_geq(fd, 0);
    FILE *in = fopen(CIO_TEST_TLS_CERT, "rb");
    cr_assert_not_null(in);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    fclose(in);
    close(fd);
    cio_client_options_t o = fx_options();
    o.track_url = cio_mock_base_url(tls);
    o.ca_file = ca;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    expect_ok(cio_track(c, "1", "first", NULL, NULL));
    cr_assert_eq(unlink(ca), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, track_on_a_thread_of_its_own, c), 0);
    void *st = NULL;
    cr_assert_eq(pthread_join(th, &st), 0);
    cr_assert_eq((intptr_t)st, CIO_OK, "a new connection read the CA file again: %s",
                 second_thread_error);
    cio_client_free(c);
    cio_mock_stop(tls);
}
