/*
 * cio_pipeline_enqueue_requests / cio_pipeline_try_enqueue_requests: several built requests
 * queued all together or none, against the emulator. In order with consecutive seqs; one bad
 * request (its index named) or too little room queues none; the blocking form waits for room
 * for all; a spool that fills half way through a batch keeps none of it; a producer killed with
 * SIGKILL at random moments leaves every batch whole or absent after the spool is reopened.
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "helpers.h"

#include <customerio/customerio.h>
#include <customerio/sys/store.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(batch_enqueue, .init = fx_setup, .fini = fx_teardown);

/* ---------------------------------------------------------------- helpers */

/* A Track v2 event request carrying n in its attributes. */
static cio_request_t *event_request(size_t n) {
    char op[200];
    snprintf(op, sizeof(op),
             "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"p%zu\"},"
             "\"name\":\"e\",\"attributes\":{\"n\":%zu}}",
             n, n);
    cio_request_t *r = NULL;
    if (cio_v2_entity_request(op, &r) != CIO_OK)
        return NULL;
    return r;
}

/* count requests for first, first + 1, ... */
static cio_request_t **event_requests(size_t first, size_t count) {
    cio_request_t **r = calloc(count, sizeof(*r));
    for (size_t i = 0; i < count; i++)
        r[i] = event_request(first + i);
    return r;
}

static void free_requests(cio_request_t **r, size_t count) {
    for (size_t i = 0; i < count; i++)
        cio_request_free(r[i]);
    free(r);
}

static cio_pipeline_t *memory_pipeline(cio_client_t *c, long linger_ms, size_t max_items,
                                       cio_when_full_t when_full) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = linger_ms;
    o.max_requests_per_second = -1;
    o.max_queue_items = max_items;
    o.when_full = when_full;
    cio_pipeline_t *p = NULL;
    cio_status_t st = cio_pipeline_new(c, &o, &p);
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    return p;
}

/* The n attributes of the operations delivered (2xx /api/v2/batch), in the order sent, into
 * out (at most max); their number. */
typedef struct in_order {
    long long *out;
    size_t max, n;
} in_order_t;

static void note_in_order(long long n, void *user) {
    in_order_t *o = user;
    if (o->n < o->max)
        o->out[o->n] = n;
    o->n++;
}

static size_t delivered_in_order(long long *out, size_t max) {
    in_order_t o = {out, max, 0};
    return each_batch_op_n(mock_requests(), note_in_order, &o);
}

/* Adds how many times each n in [0, max) was delivered (2xx /api/v2/batch) since the last call
 * to counts; how many that was. Every delivered operation is counted, however many: the
 * emulator's log must have kept them all, and it is drained (read and emptied) so a long test
 * reads it in parts small enough to fetch in time under ASan or valgrind. */
static size_t delivered_counts(unsigned *counts, size_t max) {
    char *stats = NULL;
    cr_assert_eq(mock_control("GET", "/_mock/requests/stats", NULL, &stats), 200);
    json_t *st = json_loads(stats, 0, NULL);
    free(stats);
    cr_assert_not_null(st);
    cr_assert_eq(json_integer_value(json_object_get(st, "dropped")), 0,
                 "the emulator's log dropped requests: the count below would miss them");
    json_decref(st);
    char *drained = NULL;
    cr_assert_eq(mock_control("POST", "/_mock/requests/drain", NULL, &drained), 200);
    json_t *reqs = json_loads(drained, 0, NULL);
    free(drained);
    cr_assert(json_is_array(reqs), "POST /_mock/requests/drain answered no array");
    size_t total = count_batch_op_ns(reqs, counts, max);
    json_decref(reqs);
    return total;
}

static char *make_dir(void) {
    char *dir = strdup("/tmp/cio-batchenq-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static char *path_in(const char *dir, const char *name) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

static void remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void write_full(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            _exit(91);
        p += n;
        len -= (size_t)n;
    }
}

/* A client for a child process: the emulator, or a port nobody listens on. */
static cio_client_t *child_client(bool reachable) {
    cio_client_options_t co = fx_options();
    if (!reachable)
        co.track_url = "http://127.0.0.1:1";
    cio_client_t *c = NULL;
    if (cio_client_new(&co, &c) != CIO_OK)
        _exit(90);
    return c;
}

static cio_pipeline_t *spool_pipeline(cio_client_t *c, const char *path, long linger_ms) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = path;
    o.linger_ms = linger_ms;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(c, &o, &p) != CIO_OK)
        return NULL;
    return p;
}

/* Drains a spool into the emulator (fx.client); the number of failure reports. */
static size_t failed_reports;
static void count_failed(const cio_delivery_report_t *r, void *user) {
    (void)user;
    if (r->status != CIO_OK)
        __atomic_add_fetch(&failed_reports, 1, __ATOMIC_SEQ_CST);
}

static void drain_spool(const char *path) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = path;
    o.linger_ms = 5;
    o.max_requests_per_second = -1;
    o.on_report = count_failed;
    cio_pipeline_t *p = NULL;
    cio_status_t st = cio_pipeline_new(fx.client, &o, &p);
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
}

/* ---------------------------------------------------------------- in order, all or none */

Test(batch_enqueue, test_batch_enqueue_queues_in_order_with_consecutive_seqs) {
    cio_pipeline_t *p = memory_pipeline(fx.client, 50, 0, CIO_WHEN_FULL_FAIL);
    uint64_t one = 0;
    cio_request_t *first = event_request(0);
    expect_ok(cio_pipeline_enqueue_request(p, first, &one));
    cio_request_free(first);
    cio_request_t **r = event_requests(1, 5);
    uint64_t seqs[5] = {0};
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 5, seqs));
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(seqs[i], one + 1 + i, "seqs[%zu] = %llu after %llu", i,
                     (unsigned long long)seqs[i], (unsigned long long)one);
    free_requests(r, 5);
    /* the try_ form, and seqs NULL */
    r = event_requests(6, 3);
    expect_ok(cio_pipeline_try_enqueue_requests(p, (const cio_request_t *const *)r, 3, NULL));
    free_requests(r, 3);
    cio_pipeline_stats_t st;
    expect_ok(cio_pipeline_stats(p, &st));
    cr_assert_eq(st.enqueued, 9);
    expect_ok(cio_pipeline_flush(p, 10000));
    long long got[16];
    size_t n = delivered_in_order(got, 16);
    cr_assert_eq(n, 9);
    for (size_t i = 0; i < 9; i++)
        cr_assert_eq(got[i], (long long)i, "operation %zu arrived as n=%lld", i, got[i]);
    expect_ok(cio_pipeline_close(p, 5000));
}

Test(batch_enqueue, test_batch_enqueue_one_bad_request_queues_none_and_is_named_by_index) {
    cio_pipeline_t *p = memory_pipeline(fx.client, 20, 0, CIO_WHEN_FULL_FAIL);
    cio_request_t **r = event_requests(0, 4);
    cio_request_t *good = r[2];
    cio_request_t *cdp = NULL;
    expect_ok(
        cio_cdp_message_request("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"e\"}", &cdp));
    r[2] = cdp; /* a Pipelines message on a Track v2 pipeline */
    cio_status_t st = cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 4, NULL);
    expect_error(st, CIO_E_INVALID_ARGUMENT,
                 "enqueue_requests: request 2: a Track v2 pipeline takes a Track v2 operation "
                 "(cio_v2_*_request), not this request",
                 "none of the 4 was queued");
    st = cio_pipeline_try_enqueue_requests(p, (const cio_request_t *const *)r, 4, NULL);
    expect_error(st, CIO_E_INVALID_ARGUMENT, "try_enqueue_requests: request 2: ", NULL);
    r[2] = NULL;
    st = cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 4, NULL);
    expect_error(st, CIO_E_INVALID_ARGUMENT,
                 "enqueue_requests: request 2 is NULL: none of the 4 was queued", NULL);
    st = cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 0, NULL);
    expect_error(st, CIO_E_INVALID_ARGUMENT, "enqueue_requests: n is 0", NULL);
    st = cio_pipeline_enqueue_requests(p, NULL, 2, NULL);
    expect_error(st, CIO_E_INVALID_ARGUMENT, "enqueue_requests: requests is NULL", NULL);
    cio_pipeline_stats_t s;
    expect_ok(cio_pipeline_stats(p, &s));
    cr_assert_eq(s.enqueued, 0, "%llu queued", (unsigned long long)s.enqueued);
    expect_ok(cio_pipeline_flush(p, 5000));
    expect_nothing_sent();
    r[2] = good;
    free_requests(r, 4);
    cio_request_free(cdp);
    expect_ok(cio_pipeline_close(p, 5000));
}

static void *flush_later(void *p) {
    usleep(300000);
    cio_pipeline_flush(p, 10000);
    return NULL;
}

Test(batch_enqueue, test_batch_enqueue_without_room_queues_none_and_the_blocking_form_waits) {
    /* a long linger: what is queued stays there until the flush below */
    cio_pipeline_t *p = memory_pipeline(fx.client, 600000, 5, CIO_WHEN_FULL_BLOCK);
    cio_request_t **r = event_requests(0, 3);
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 3, NULL));
    free_requests(r, 3);
    r = event_requests(3, 3); /* 3 + 3 > 5 */
    cio_status_t st =
        cio_pipeline_try_enqueue_requests(p, (const cio_request_t *const *)r, 3, NULL);
    expect_error(st, CIO_E_QUEUE_FULL, "try_enqueue_requests: the queue is full: 3 operations of ",
                 "(3 queued, ");
    cr_assert_not_null(strstr(cio_last_error()->message, "nothing was queued"), "%s",
                       cio_last_error()->message);
    cio_pipeline_stats_t s;
    expect_ok(cio_pipeline_stats(p, &s));
    cr_assert_eq(s.enqueued, 3);
    cr_assert_eq(s.queue_depth, 3);
    /* more than the queue could ever hold: refused at once, even by the blocking form */
    cio_request_t **six = event_requests(100, 6);
    int64_t t0 = now_ms();
    st = cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)six, 6, NULL);
    expect_error(st, CIO_E_QUEUE_FULL, "enqueue_requests: the 6 operations are ",
                 "more than the queue holds");
    cr_assert_lt(now_ms() - t0, 1000);
    free_requests(six, 6);

    /* the blocking form waits until there is room for all three (a flush 300 ms from now
     * sends the three queued), then queues them */
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, flush_later, p), 0);
    t0 = now_ms();
    uint64_t seqs[3] = {0};
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 3, seqs));
    int64_t waited = now_ms() - t0;
    pthread_join(th, NULL);
    cr_assert_geq(waited, 250, "it returned after %lld ms, before there was room",
                  (long long)waited);
    cr_assert_eq(seqs[0], 4);
    cr_assert_eq(seqs[2], 6);
    free_requests(r, 3);
    expect_ok(cio_pipeline_flush(p, 10000));
    long long got[8];
    cr_assert_eq(delivered_in_order(got, 8), 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(got[i], (long long)i);
    expect_ok(cio_pipeline_close(p, 5000));
}

/* ---------------------------------------------------------------- a spool that fills up */

#define FILL_BATCH 10

/* What the filling child tells its parent. */
typedef struct fill_result {
    size_t batches_before; /* batches accepted before the first failure */
    int status;            /* of the failed one */
    int file_unchanged;    /* the spool's size was the same before and after it */
    size_t batches_after;  /* accepted once there was room again */
    char message[400];
} fill_result_t;

/* In a child: batches of FILL_BATCH (numbers 0.. in order) until the disk (or, without a tmpfs,
 * the file size limit) refuses one, then room is made and 5 more go in; then SIGKILL. */
static void fill_child(bool tmpfs, const char *spool, const char *filler, int out) {
    signal(SIGXFSZ, SIG_IGN);
    cio_client_t *c = child_client(false); /* nothing is delivered: all stays owed */
    cio_pipeline_t *p = spool_pipeline(c, spool, 600000);
    if (p == NULL)
        _exit(92);
    if (!tmpfs) {
        struct rlimit rl = {.rlim_cur = (rlim_t)file_size(spool) + 60000,
                            .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(93);
    }
    fill_result_t r = {0};
    size_t n = 0;
    for (;; n += FILL_BATCH) {
        cio_request_t **reqs = event_requests(n, FILL_BATCH);
        off_t before = file_size(spool);
        cio_status_t st =
            cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)reqs, FILL_BATCH, NULL);
        free_requests(reqs, FILL_BATCH);
        if (st != CIO_OK) {
            r.status = st;
            r.file_unchanged = file_size(spool) == before;
            snprintf(r.message, sizeof(r.message), "%s", cio_last_error()->message);
            break;
        }
        r.batches_before++;
        if (n > 100000)
            _exit(94);
    }
    n += FILL_BATCH; /* the refused batch */
    if (tmpfs) {
        unlink(filler);
    } else {
        struct rlimit rl = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    for (size_t i = 0; i < 5; i++, n += FILL_BATCH) {
        cio_request_t **reqs = event_requests(n, FILL_BATCH);
        cio_status_t st =
            cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)reqs, FILL_BATCH, NULL);
        free_requests(reqs, FILL_BATCH);
        if (st != CIO_OK)
            break;
        r.batches_after++;
    }
    write_full(out, &r, sizeof(r));
    kill(getpid(), SIGKILL);
}

Test(batch_enqueue, test_batch_enqueue_spool_full_mid_batch_keeps_none_of_it_after_reopening) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool"), *filler = path_in(dir, "filler");
    /* a private mount namespace, so the small tmpfs is this test's alone */
    bool tmpfs = unshare(CLONE_NEWNS) == 0 &&
                 mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                 mount("tmpfs", dir, "tmpfs", 0, "size=96k,mode=0700") == 0;
    if (!tmpfs) {
        cr_log_info("no tmpfs (mount: %s): filling up to RLIMIT_FSIZE instead", strerror(errno));
    } else {
        char block[4096];
        memset(block, 'x', sizeof(block));
        FILE *f = fopen(filler, "wb");
        for (int i = 0; i < 8; i++) /* 32 KB the child frees once the disk is full */
            fwrite(block, 1, sizeof(block), f);
        fclose(f);
    }
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        fill_child(tmpfs, spool, filler, fds[1]);
    }
    close(fds[1]);
    fill_result_t r;
    ssize_t got = read(fds[0], &r, sizeof(r));
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child exited with %d", WEXITSTATUS(status));
    cr_assert_eq(got, (ssize_t)sizeof(r));
    cr_assert_eq(r.status, CIO_E_QUEUE_FULL, "status %d: %s", r.status, r.message);
    const char *why = tmpfs ? "No space left on device" : "File too large";
    cr_assert_not_null(strstr(r.message, why), "%s", r.message);
    cr_assert_not_null(strstr(r.message, "none of the 10 operations was queued"), "%s", r.message);
    cr_assert(r.file_unchanged, "the failed batch changed the spool's size");
    cr_assert_gt(r.batches_before, 3);
    cr_assert_eq(r.batches_after, 5, "only %zu batches accepted once there was room",
                 r.batches_after);

    /* a file holding 'G' records says format 3 in its header (core/src/spool_internal.h) */
    unsigned char header[16];
    FILE *hf = fopen(spool, "rb");
    cr_assert_not_null(hf);
    cr_assert_eq(fread(header, 1, sizeof(header), hf), sizeof(header));
    fclose(hf);
    cr_assert_eq(memcmp(header, "CIOSPOOL\x03\0\0\0", 12), 0, "the header is not format 3");

    /* reopened: every accepted batch is delivered whole, the refused one not at all */
    drain_spool(spool);
    size_t total = (r.batches_before + 1 + r.batches_after) * FILL_BATCH;
    unsigned *counts = calloc(total, sizeof(*counts));
    delivered_counts(counts, total);
    size_t refused = r.batches_before * FILL_BATCH;
    for (size_t n = 0; n < total; n++) {
        if (n >= refused && n < refused + FILL_BATCH)
            cr_assert_eq(counts[n], 0, "operation %zu of the refused batch was delivered", n);
        else
            cr_assert_eq(counts[n], 1, "operation %zu delivered %u times", n, counts[n]);
    }
    cr_assert_eq(failed_reports, 0);
    free(counts);
    if (tmpfs)
        umount2(dir, MNT_DETACH);
    remove_dir(dir);
    free(spool);
    free(filler);
    free(dir);
}

/* A batch's record torn at the end of the file (what a kill in the middle of its write leaves)
 * counts for none of the batch; the operation before it is sent. */
Test(batch_enqueue, test_batch_enqueue_torn_batch_record_delivers_none_of_the_batch) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    cio_client_t *c = child_client(false); /* nothing is delivered: all stays owed */
    cio_pipeline_t *p = spool_pipeline(c, spool, 600000);
    cr_assert_not_null(p);
    cio_request_t *first = event_request(0);
    expect_ok(cio_pipeline_enqueue_request(p, first, NULL));
    cio_request_free(first);
    cio_request_t **r = event_requests(1, 5);
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 5, NULL));
    free_requests(r, 5);
    (void)cio_pipeline_close(p, 0); /* owed: the file keeps them */
    cio_client_free(c);
    off_t size = file_size(spool);
    cr_assert_eq(truncate(spool, size - 10), 0);
    drain_spool(spool);
    long long got[8];
    cr_assert_eq(delivered_in_order(got, 8), 1);
    cr_assert_eq(got[0], 0);
    cr_assert_eq(failed_reports, 1, "the torn record is reported once (spool_damaged)");
    remove_dir(dir);
    free(spool);
    free(dir);
}

/* A torn batch record that cannot be set aside (the quarantine file cannot be written) stays in
 * the file; the seqs its head names are not given out again, so no later settle record can
 * match its operations. */
Test(batch_enqueue, test_batch_enqueue_kept_torn_batch_seqs_are_not_reused) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    char *quarantine = path_in(dir, "events.spool.quarantine");
    cio_client_t *c = child_client(false);
    cio_pipeline_t *p = spool_pipeline(c, spool, 600000);
    cr_assert_not_null(p);
    cio_request_t *first = event_request(0);
    uint64_t seq = 0;
    expect_ok(cio_pipeline_enqueue_request(p, first, &seq));
    cr_assert_eq(seq, 1);
    cio_request_t **r = event_requests(1, 5);
    uint64_t seqs[5] = {0};
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 5, seqs));
    cr_assert_eq(seqs[4], 6);
    (void)cio_pipeline_close(p, 0);
    cr_assert_eq(truncate(spool, file_size(spool) - 10), 0);
    cr_assert_eq(mkdir(quarantine, 0700), 0); /* a directory: the quarantine cannot be written */
    p = spool_pipeline(c, spool, 600000);
    cr_assert_not_null(p);
    expect_ok(cio_pipeline_enqueue_request(p, first, &seq));
    cr_assert_gt(seq, 6, "seq %llu given again while the torn record naming 2..6 is kept",
                 (unsigned long long)seq);
    (void)cio_pipeline_close(p, 0);
    cio_client_free(c);
    cio_request_free(first);
    free_requests(r, 5);
    remove_dir(dir);
    free(quarantine);
    free(spool);
    free(dir);
}

/* CRC-32 (IEEE), as the spool's records carry it (core/src/spool_internal.h). */
static uint32_t crc32_ieee(const unsigned char *p, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    while (len-- > 0) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Appends an 'S' record settling seqs first .. first + count - 1 (the format of
 * core/src/spool_internal.h: mark, type, len, seq, head CRC, payload, payload CRC). */
static void append_settle_record(const char *spool, uint64_t first, uint64_t count) {
    unsigned char rec[21 + 16 + 4];
    memcpy(rec, "\xFF\xC1\x05\x5A", 4);
    rec[4] = 'S';
    put_le(rec + 5, 16, 4);
    put_le(rec + 9, 0, 8);
    put_le(rec + 17, crc32_ieee(rec + 4, 13), 4);
    put_le(rec + 21, first, 8);
    put_le(rec + 29, count, 8);
    put_le(rec + 37, crc32_ieee(rec + 21, 16), 4);
    FILE *f = fopen(spool, "ab");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
    cr_assert_eq(fclose(f), 0);
}

/* A spool holding a batch record (seqs 1..3) of which settled_count operations were
 * delivered and settled (as a delivery before a crash leaves it), then one byte of its first
 * operation flipped, and one owed operation (seq 4) after it; drained. Sets *sent to the
 * operations sent (their n in got); the number of failure reports. */
static size_t drain_damaged_batch(uint64_t settled_count, long long got[8], size_t *sent) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    char *quarantine = path_in(dir, "events.spool.quarantine");
    cio_client_t *c = child_client(false); /* nothing is delivered: all stays in the file */
    cio_pipeline_t *p = spool_pipeline(c, spool, 600000);
    cr_assert_not_null(p);
    cio_request_t **r = event_requests(0, 3);
    uint64_t seqs[3] = {0};
    expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 3, seqs));
    cr_assert_eq(seqs[0], 1);
    free_requests(r, 3);
    cio_request_t *last = event_request(3);
    uint64_t seq = 0;
    expect_ok(cio_pipeline_enqueue_request(p, last, &seq));
    cr_assert_eq(seq, 4);
    cio_request_free(last);
    (void)cio_pipeline_close(p, 0);
    cio_client_free(c);
    if (settled_count > 0)
        append_settle_record(spool, 1, settled_count);
    int fd = open(spool, O_RDWR);
    cr_assert(fd >= 0);
    unsigned char b;
    off_t at = 16 + 21 + 4 + 8; /* the 'G' record starts right after the 16-byte header */
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x20;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
    failed_reports = 0;
    drain_spool(spool);
    *sent = delivered_in_order(got, 8);
    cr_assert_gt(file_size(quarantine), 0, "the damaged bytes are kept in the quarantine file");
    remove_dir(dir);
    free(quarantine);
    free(spool);
    free(dir);
    return failed_reports;
}

/* A damaged batch record whose operations were all delivered and settled before is set aside
 * without a failure report: a report would tell the application that delivered events were
 * lost (and a resend would count them twice). */
Test(batch_enqueue, test_batch_enqueue_damaged_settled_batch_is_not_reported_lost) {
    long long got[8];
    size_t sent = 0;
    cr_assert_eq(drain_damaged_batch(3, got, &sent), 0, "a settled batch was reported lost");
    cr_assert_eq(sent, 1, "only the owed operation is sent");
    cr_assert_eq(got[0], 3);
}

/* ... while one with an operation not settled is reported (once, for the record). */
Test(batch_enqueue, test_batch_enqueue_damaged_batch_partly_settled_is_reported) {
    long long got[8];
    size_t sent = 0;
    cr_assert_eq(drain_damaged_batch(2, got, &sent), 1, "the owed part was not reported");
    cr_assert_eq(sent, 1);
    cr_assert_eq(got[0], 3);
}

/* ---------------------------------------------------------------- kill -9 mid-batch */

#define KILL_ROUND 100000 /* numbers per producer: more than one can enqueue */

/* In a child: batches of size numbers each (first, first + size, ...) until killed, reporting
 * the first number of each acknowledged batch. */
static void producer_child(const char *spool, size_t first, size_t size, int out) {
    cio_client_t *c = child_client(true);
    cio_pipeline_t *p = spool_pipeline(c, spool, 2);
    if (p == NULL)
        _exit(92);
    for (size_t n = first; n + size <= first + KILL_ROUND; n += size) {
        cio_request_t **reqs = event_requests(n, size);
        cio_status_t st =
            cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)reqs, size, NULL);
        free_requests(reqs, size);
        if (st != CIO_OK)
            _exit(93);
        uint32_t acked = (uint32_t)n;
        write_full(out, &acked, sizeof(acked));
        if ((n / size) % 4 == 0)
            usleep(300); /* a steady producer, not a flood */
    }
    for (;;)
        pause(); /* out of numbers before the kill (a fast machine): wait for it */
}

/* Reads acknowledged batches' first numbers from fd into acked until want of them came (or the
 * child closed its end); how many came. */
static size_t read_acks(int fd, unsigned char *acked, size_t want) {
    size_t got_acks = 0;
    uint32_t buf[256];
    ssize_t got;
    while (got_acks < want && (got = read(fd, buf, sizeof(buf))) > 0)
        for (size_t i = 0; i < (size_t)got / sizeof(buf[0]); i++, got_acks++)
            acked[buf[i]] = 1;
    return got_acks;
}

Test(batch_enqueue, test_batch_enqueue_kill_9_mid_batch_leaves_each_batch_whole_or_absent) {
    unsigned seed = (unsigned)time(NULL);
    const char *s = getenv("CIO_CHAOS_SEED");
    if (s != NULL)
        seed = (unsigned)strtoul(s, NULL, 10);
    srand(seed);
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    enum { ROUNDS = 20 };
    size_t sizes[ROUNDS];
    unsigned char *acked = calloc(ROUNDS * KILL_ROUND, 1); /* by a batch's first number */
    unsigned *counts = calloc(ROUNDS * KILL_ROUND, sizeof(*counts));
    for (size_t round = 0; round < ROUNDS; round++) {
        sizes[round] = 2 + (size_t)(rand() % 200); /* big ones: kills land mid-batch */
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t child = fork();
        if (child == 0) {
            close(fds[0]);
            producer_child(spool, round * KILL_ROUND, sizes[round], fds[1]);
        }
        close(fds[1]);
        /* killed after a random number of acknowledged batches (bounded in operations, so the
         * emulator's log keeps every delivery) and a random moment more: mid-batch, mid-settle,
         * mid-compaction, whatever the producer is doing then */
        size_t want = 3 + (size_t)rand() % (20000 / sizes[round]);
        size_t seen = read_acks(fds[0], acked, want);
        usleep((useconds_t)(rand() % 3000));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        cr_assert(WIFSIGNALED(status), "the producer exited with %d after %zu batches",
                  WEXITSTATUS(status), seen);
        read_acks(fds[0], acked, SIZE_MAX);
        close(fds[0]);
        delivered_counts(counts, ROUNDS * KILL_ROUND); /* the log read in parts */
    }
    drain_spool(spool);
    delivered_counts(counts, ROUNDS * KILL_ROUND);
    size_t whole = 0, absent = 0, acknowledged = 0;
    for (size_t round = 0; round < ROUNDS; round++) {
        size_t size = sizes[round];
        for (size_t n = round * KILL_ROUND; n + size <= (round + 1) * KILL_ROUND; n += size) {
            size_t arrived = 0;
            for (size_t k = 0; k < size; k++)
                arrived += counts[n + k] > 0;
            cr_assert(arrived == 0 || arrived == size,
                      "seed %u: batch of %zu at %zu arrived in part: %zu of it", seed, size, n,
                      arrived);
            if (acked[n]) {
                acknowledged++;
                cr_assert_eq(arrived, size, "seed %u: acknowledged batch at %zu was lost", seed, n);
            }
            if (arrived == size)
                whole++;
            else if (n < round * KILL_ROUND + 50 * size)
                absent++;
        }
    }
    cr_assert_gt(acknowledged, ROUNDS, "seed %u: only %zu batches acknowledged", seed,
                 acknowledged);
    cr_log_info("seed %u: %d kill -9 rounds, %zu batches acknowledged, %zu arrived whole", seed,
                ROUNDS, acknowledged, whole);
    (void)absent;
    free(counts);
    free(acked);
    remove_dir(dir);
    free(spool);
    free(dir);
}
