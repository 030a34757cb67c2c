/*
 * The pipeline's spool file keeps "nothing lost, nothing sent twice silently": a full disk or a
 * file size limit fails the enqueue and leaves the file whole; damaged bytes are skipped,
 * quarantined and reported without taking their neighbours; the file stays bounded under slow
 * answers; anything that is not a spool file (FIFO, device, directory, link, foreign file) is
 * refused untouched; temporary files are never followed; one opener at a time; kill -9 at any
 * moment loses no acknowledged operation.
 *
 * Child processes stand in for a crashing producer: they report what they had acknowledged
 * through a pipe and are killed with SIGKILL. The longer forms (make chaos) read
 * CIO_CHAOS_SECONDS and CIO_CHAOS_SEED.
 */
#define _GNU_SOURCE /* unshare, mount, memmem, mknod, usleep */
#include "helpers.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* No suite timeout: ctest bounds the short form (120 s), make chaos passes --timeout. */
TestSuite(spool, .init = fx_setup, .fini = fx_teardown);

/* The spool's format (core/src/spool_internal.h), read here to find records in a file. */
#define HEADER_BYTES 16
#define REC_HEAD 21
#define REC_OVERHEAD 25

/* ---------------------------------------------------------------- helpers */

static char *event_op(size_t n) {
    char *op = malloc(200);
    snprintf(op, 200,
             "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"p%zu\"},"
             "\"name\":\"e\",\"attributes\":{\"n\":%zu}}",
             n, n);
    return op;
}

static char *make_dir(void) {
    char *dir = strdup("/tmp/cio-spool-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static char *path_in(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void remove_dir(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n + 1);
    cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
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

static cio_pipeline_t *open_spool(cio_client_t *c, const char *path, long linger_ms) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = path;
    o.linger_ms = linger_ms;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(c, &o, &p) != CIO_OK)
        return NULL;
    return p;
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

/* Reports of one pipeline, by status (reports arrive on library threads). */
typedef struct tally {
    pthread_mutex_t lock;
    size_t delivered, failed, damaged;
    char messages[8][400]; /* of the first damage reports */
    char operations[8][400];
    uint64_t seqs[8];
} tally_t;

static void count_report(const cio_delivery_report_t *r, void *user) {
    tally_t *t = user;
    pthread_mutex_lock(&t->lock);
    if (r->status == CIO_OK) {
        t->delivered++;
    } else {
        t->failed++;
        if (r->reason != NULL && strcmp(r->reason, "spool_damaged") == 0) {
            if (t->damaged < 8) {
                snprintf(t->messages[t->damaged], 400, "%s", r->message);
                snprintf(t->operations[t->damaged], 400, "%s", r->operation_json);
                t->seqs[t->damaged] = r->seq;
            }
            t->damaged++;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

/* A pipeline on the emulator (fx.client) over this spool, reporting into t. */
static cio_pipeline_t *drain_pipeline(const char *path, tally_t *t) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = path;
    o.linger_ms = 5;
    o.max_requests_per_second = -1;
    o.on_report = count_report;
    o.report_user = t;
    o.report_successes = 1;
    cio_pipeline_t *p = NULL;
    cio_status_t st = cio_pipeline_new(fx.client, &o, &p);
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    return p;
}

/* How many times each n in [0, max) was delivered (2xx batch requests), and the total. */
static size_t delivered_counts(unsigned *counts, size_t max) {
    return count_batch_op_ns(mock_requests(), counts, max);
}

static unsigned env_seed(void) {
    const char *s = getenv("CIO_CHAOS_SEED");
    return s != NULL ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
}

static double env_seconds(double fallback) {
    const char *s = getenv("CIO_CHAOS_SECONDS");
    return s != NULL ? strtod(s, NULL) : fallback;
}

/* ---------------------------------------------------------------- 1. full disk, EFBIG */

/* What a filling child tells its parent. */
typedef struct fill_result {
    size_t accepted_before; /* enqueues accepted before the first failure */
    int status;             /* of the failed enqueue */
    int file_unchanged;     /* the spool's size was the same before and after it */
    size_t accepted_after;  /* enqueues accepted once there was room again */
    char message[300];
} fill_result_t;

typedef enum { FILL_TMPFS, FILL_FSIZE } fill_mode_t;

/* In a child: enqueue until the disk (or the size limit) refuses, make room, enqueue 120 more,
 * then die by SIGKILL. Numbers 0.. are used in order; the failed one is skipped. */
static void fill_child(fill_mode_t mode, cio_spool_sync_t sync, const char *spool,
                       const char *filler, int out) {
    signal(SIGXFSZ, SIG_IGN);
    cio_client_t *c = child_client(false);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = spool;
    o.spool_sync = sync;
    o.linger_ms = 600000;
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(c, &o, &p) != CIO_OK)
        _exit(92);
    if (mode == FILL_FSIZE) {
        struct rlimit rl = {.rlim_cur = (rlim_t)file_size(spool) + 40000,
                            .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(93);
    }
    fill_result_t r = {0};
    size_t n = 0;
    for (;; n++) {
        char *op = event_op(n);
        off_t before = file_size(spool);
        cio_status_t st = cio_pipeline_enqueue(p, op, NULL);
        free(op);
        if (st != CIO_OK) {
            r.status = st;
            r.file_unchanged = file_size(spool) == before;
            snprintf(r.message, sizeof(r.message), "%s", cio_last_error()->message);
            break;
        }
        if (n > 100000)
            _exit(94);
    }
    r.accepted_before = n;
    n++; /* the refused one */
    if (mode == FILL_TMPFS) {
        unlink(filler);
    } else {
        struct rlimit rl = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    for (size_t i = 0; i < 120; i++, n++) {
        char *op = event_op(n);
        if (cio_pipeline_enqueue(p, op, NULL) != CIO_OK)
            break;
        free(op);
        r.accepted_after++;
    }
    write_full(out, &r, sizeof(r));
    kill(getpid(), SIGKILL);
}

static void fill_and_crash(fill_mode_t mode, cio_spool_sync_t sync, const char *spool,
                           const char *filler) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        fill_child(mode, sync, spool, filler, fds[1]);
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
    const char *why = mode == FILL_TMPFS ? "No space left on device" : "File too large";
    cr_assert_not_null(strstr(r.message, why), "%s", r.message);
    cr_assert_not_null(strstr(r.message, spool), "%s", r.message);
    cr_assert(r.file_unchanged, "the failed enqueue changed the spool's size");
    cr_assert_gt(r.accepted_before, 10);
    cr_assert_eq(r.accepted_after, 120, "only %zu accepted once there was room", r.accepted_after);

    /* every acknowledged operation is delivered, exactly once; the refused one never */
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    size_t total = r.accepted_before + 1 + r.accepted_after;
    unsigned *counts = calloc(total, sizeof(*counts));
    delivered_counts(counts, total);
    for (size_t n = 0; n < total; n++) {
        if (n == r.accepted_before)
            cr_assert_eq(counts[n], 0, "the refused operation was delivered");
        else
            cr_assert_eq(counts[n], 1,
                         "operation %zu delivered %u times (of %zu before the "
                         "disk filled and %zu after)",
                         n, counts[n], r.accepted_before, r.accepted_after);
    }
    cr_assert_eq(t.failed, 0);
    free(counts);
}

Test(spool, test_spool_enospc_fails_the_enqueue_leaves_the_file_intact_and_loses_nothing) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool"), *filler = path_in(dir, "filler");
    /* a private mount namespace, so the small tmpfs is this test's alone */
    bool mounted = unshare(CLONE_NEWNS) == 0 &&
                   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                   mount("tmpfs", dir, "tmpfs", 0, "size=96k,mode=0700") == 0;
    if (!mounted) {
        cr_log_info("no tmpfs (mount: %s): filling up to RLIMIT_FSIZE instead", strerror(errno));
        fill_and_crash(FILL_FSIZE, CIO_SPOOL_SYNC_NONE, spool, filler);
    } else {
        char block[4096];
        memset(block, 'x', sizeof(block));
        FILE *f = fopen(filler, "wb");
        for (int i = 0; i < 8; i++) /* 32 KB the child frees once the disk is full */
            fwrite(block, 1, sizeof(block), f);
        fclose(f);
        fill_and_crash(FILL_TMPFS, CIO_SPOOL_SYNC_NONE, spool, filler);
        umount2(dir, MNT_DETACH);
    }
    remove_dir(dir);
    free(spool);
    free(filler);
    free(dir);
}

Test(spool, test_spool_file_size_limit_efbig_fails_the_enqueue_and_loses_nothing) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    fill_and_crash(FILL_FSIZE, CIO_SPOOL_SYNC_ALWAYS, spool, NULL); /* with fdatasync too */
    remove_dir(dir);
    free(spool);
    free(dir);
}

/* A settle record that could not be written while the file could not grow is written when the
 * pipeline closes, once it can: the next pipeline does not send that operation again. */
static atomic_int settled_reported;

static void note_delivered(const cio_delivery_report_t *r, void *user) {
    (void)user;
    if (r->status == CIO_OK)
        atomic_fetch_add(&settled_reported, 1);
}

Test(spool, test_spool_close_writes_settle_records_held_back_by_a_full_disk) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    mock_fault(1, 0, NULL, 20000, NULL, NULL); /* the first request (n=1) hangs: owed at close */
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN);
        cio_client_t *c = child_client(true);
        cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
        o.spool_path = spool;
        o.linger_ms = 5;
        o.max_requests_per_second = -1;
        o.on_report = note_delivered;
        o.report_successes = 1;
        cio_pipeline_t *p = NULL;
        if (cio_pipeline_new(c, &o, &p) != CIO_OK)
            _exit(92);
        char *op1 = event_op(1), *op0 = event_op(0);
        if (cio_pipeline_enqueue(p, op1, NULL) != CIO_OK)
            _exit(93);
        usleep(200000); /* its batch leaves alone, and hangs */
        if (cio_pipeline_enqueue(p, op0, NULL) != CIO_OK)
            _exit(94);
        /* the file cannot grow from here: n=0's settle record fails (EFBIG) */
        struct rlimit rl = {.rlim_cur = (rlim_t)file_size(spool), .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(95);
        for (int i = 0; i < 500 && atomic_load(&settled_reported) == 0; i++)
            usleep(10000);
        if (atomic_load(&settled_reported) != 1)
            _exit(96);
        rl.rlim_cur = RLIM_INFINITY;
        setrlimit(RLIMIT_FSIZE, &rl);
        cio_pipeline_close(p, 0); /* n=1 is cancelled: still owed */
        cio_client_free(c);
        free(op0);
        free(op1);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child ended with %d", status);
    mock_clear_faults();
    mock_clear();

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    unsigned counts[2] = {0};
    delivered_counts(counts, 2);
    cr_assert_eq(counts[0], 0, "the operation settled before the close was sent again");
    cr_assert_eq(counts[1], 1);
    remove_dir(dir);
    free(spool);
    free(dir);
}

/* ---------------------------------------------------------------- 2. damaged bytes */

/* In a child: n operations accepted into the spool, none sent, then SIGKILL. */
static void spool_n_and_die(const char *spool, size_t first, size_t n) {
    pid_t child = fork();
    if (child == 0) {
        cio_client_t *c = child_client(false);
        cio_pipeline_t *p = open_spool(c, spool, 600000);
        if (p == NULL)
            _exit(92);
        for (size_t i = 0; i < n; i++) {
            char *op = event_op(first + i);
            if (cio_pipeline_enqueue(p, op, NULL) != CIO_OK)
                _exit(93);
            free(op);
        }
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child exited with %d", WEXITSTATUS(status));
}

/* The records of a spool file: where each starts, and the n of its operation. */
static size_t spool_records(const unsigned char *data, size_t len, size_t *starts, size_t *ns,
                            size_t max) {
    cr_assert_eq(memcmp(data, "CIOSPOOL", 8), 0, "no spool header");
    size_t k = 0;
    for (size_t pos = HEADER_BYTES; pos < len && k < max; k++) {
        uint32_t l = (uint32_t)data[pos + 5] | (uint32_t)data[pos + 6] << 8 |
                     (uint32_t)data[pos + 7] << 16 | (uint32_t)data[pos + 8] << 24;
        const char *n = memmem(data + pos + REC_HEAD, l, "\"n\":", 4);
        cr_assert_not_null(n);
        starts[k] = pos;
        ns[k] = strtoul(n + 4, NULL, 10);
        pos += REC_OVERHEAD + l;
    }
    return k;
}

static void damage_round(unsigned seed, size_t damaged_bytes) {
    enum { N = 300 };
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    char *quarantine = path_in(dir, "events.spool.quarantine");
    spool_n_and_die(spool, 0, N);
    size_t len = 0;
    unsigned char *data = read_all(spool, &len);
    size_t starts[N + 1], ns[N];
    cr_assert_eq(spool_records(data, len, starts, ns, N), N);
    starts[N] = len;

    /* damage bytes at random places after the header; a record is hit when its bytes differ
     * from what was written (two flips of one byte may cancel out: that record is intact) */
    unsigned char *original = malloc(len);
    cr_assert_not_null(original);
    memcpy(original, data, len);
    srand(seed);
    for (size_t i = 0; i < damaged_bytes; i++) {
        size_t pos = HEADER_BYTES + (size_t)rand() % (len - HEADER_BYTES);
        data[pos] ^= (unsigned char)(1 + rand() % 255);
    }
    bool hit[N] = {false};
    size_t hits = 0;
    for (size_t r = 0; r < N; r++) {
        hit[r] = memcmp(original + starts[r], data + starts[r], starts[r + 1] - starts[r]) != 0;
        hits += hit[r];
    }
    free(original);
    write_file(spool, data, len);

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    unsigned counts[N] = {0};
    delivered_counts(counts, N);
    for (size_t r = 0; r < N; r++) {
        if (hit[r])
            cr_assert_eq(counts[ns[r]], 0, "seed %u: damaged record %zu was sent", seed, r);
        else
            cr_assert_eq(counts[ns[r]], 1,
                         "seed %u: undamaged record %zu (n=%zu) delivered %u times", seed, r, ns[r],
                         counts[ns[r]]);
    }
    cr_assert_eq(t.delivered, N - hits, "seed %u", seed);
    /* each damaged record is reported (adjacent ones may share one report), with its offset */
    cr_assert(t.damaged >= 1 && t.damaged <= hits, "seed %u: %zu reports for %zu damaged", seed,
              t.damaged, hits);
    cr_assert_eq(t.failed, t.damaged);
    for (size_t i = 0; i < t.damaged && i < 8; i++) {
        cr_assert_not_null(strstr(t.messages[i], "at offset "), "%s", t.messages[i]);
        cr_assert_not_null(strstr(t.messages[i], quarantine), "%s", t.messages[i]);
        json_t *desc = json_loads(t.operations[i], 0, NULL);
        cr_assert_not_null(json_object_get(json_object_get(desc, "spool_damage"), "offset"), "%s",
                           t.operations[i]);
        json_int_t off =
            json_integer_value(json_object_get(json_object_get(desc, "spool_damage"), "offset"));
        bool at_a_record = false;
        for (size_t r = 0; r < N; r++)
            at_a_record = at_a_record || (hit[r] && (json_int_t)starts[r] == off);
        cr_assert(at_a_record, "seed %u: report at offset %lld, where no damaged record starts",
                  seed, (long long)off);
        json_decref(desc);
    }
    /* the damaged records' bytes are in the quarantine file (0600), as they were */
    struct stat st;
    cr_assert_eq(stat(quarantine, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    size_t qlen = 0;
    unsigned char *q = read_all(quarantine, &qlen);
    for (size_t r = 0; r < N; r++)
        if (hit[r])
            cr_assert_not_null(memmem(q, qlen, data + starts[r], starts[r + 1] - starts[r]),
                               "seed %u: damaged record %zu is not in the quarantine file", seed,
                               r);
    free(q);

    /* set aside once: the next pipeline finds nothing owed and reports nothing */
    mock_clear();
    tally_t t2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    p = drain_pipeline(spool, &t2);
    cio_pipeline_close(p, 1000);
    cr_assert_eq(t2.failed + t2.delivered, 0);
    expect_nothing_sent();
    mock_clear();
    free(data);
    remove_dir(dir);
    free(spool);
    free(quarantine);
    free(dir);
}

Test(spool, test_spool_damaged_bytes_are_quarantined_reported_and_spare_their_neighbours) {
    unsigned seed = env_seed();
    cr_log_info("seed %u (CIO_CHAOS_SEED)", seed);
    size_t sizes[] = {1, 1, 3, 8, 25};
    size_t rounds = sizeof(sizes) / sizeof(sizes[0]);
    for (size_t i = 0; i < rounds; i++)
        damage_round(seed + (unsigned)i, sizes[i]);
    /* the long form: more rounds, with 1..40 damaged bytes each, for CIO_CHAOS_SECONDS */
    double seconds = env_seconds(0);
    srand(seed);
    for (int64_t start = now_ms(); now_ms() - start < (int64_t)(seconds * 1000); rounds++)
        damage_round(seed + (unsigned)rounds, 1 + (size_t)rand() % 40);
    cr_log_info("%zu rounds of damage from seed %u", rounds, seed);
}

/* The quarantine file cannot be written (a directory has its name): the damaged record is reported
 * as staying in the spool, and it does: neither the open nor the settling of its neighbours
 * empties or rewrites the file. A later open with a writable quarantine sets it aside. */
Test(spool, test_spool_damage_that_cannot_be_quarantined_stays_in_the_file) {
    enum { N = 3 };
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    char *quarantine = path_in(dir, "events.spool.quarantine");
    spool_n_and_die(spool, 0, N);
    size_t len = 0;
    unsigned char *data = read_all(spool, &len);
    size_t starts[N + 1], ns[N];
    cr_assert_eq(spool_records(data, len, starts, ns, N), N);
    starts[N] = len;
    data[starts[1] + REC_HEAD + 5] ^= 0x20; /* one payload byte of the middle record */
    write_file(spool, data, len);
    size_t rec_len = starts[2] - starts[1];
    cr_assert_eq(mkdir(quarantine, 0700), 0);

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(t.delivered, N - 1);
    cr_assert_eq(t.damaged, 1);
    cr_assert_not_null(strstr(t.messages[0], "its bytes stay in the spool"), "%s", t.messages[0]);
    size_t after_len = 0;
    unsigned char *after = read_all(spool, &after_len);
    cr_assert_not_null(memmem(after, after_len, data + starts[1], rec_len),
                       "the damaged record is gone from the spool (%zu bytes left)", after_len);
    free(after);

    /* reopened as it is: still reported, still there */
    tally_t t2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    p = drain_pipeline(spool, &t2);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(t2.damaged, 1);
    cr_assert_eq(t2.delivered, 0);
    after = read_all(spool, &after_len);
    cr_assert_not_null(memmem(after, after_len, data + starts[1], rec_len));
    free(after);

    /* once the quarantine can be written, the bytes move there and leave the spool */
    cr_assert_eq(rmdir(quarantine), 0);
    tally_t t3 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    p = drain_pipeline(spool, &t3);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(t3.damaged, 1);
    size_t qlen = 0;
    unsigned char *q = read_all(quarantine, &qlen);
    cr_assert_not_null(memmem(q, qlen, data + starts[1], rec_len));
    cr_assert_eq(file_size(spool), HEADER_BYTES);
    free(q);
    free(data);
    remove_dir(dir);
    free(spool);
    free(quarantine);
    free(dir);
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

Test(spool, test_spool_damaged_settle_records_cost_a_repeat_never_a_loss) {
    enum { N = 200 };
    unsigned seed = env_seed();
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    /* the first request hangs (n=0 stays owed, so the file keeps its records), the others are
     * answered at once: the file holds 'A' records of settled operations and their 'S' records */
    mock_fault(1, 0, NULL, 20000, NULL, NULL);
    pid_t child = fork();
    if (child == 0) {
        cio_client_t *c = child_client(true);
        cio_pipeline_t *p = open_spool(c, spool, 2);
        if (p == NULL)
            _exit(92);
        for (size_t n = 0; n < N; n++) {
            char *op = event_op(n);
            if (cio_pipeline_enqueue(p, op, NULL) != CIO_OK)
                _exit(93);
            free(op);
            if (n == 0)
                usleep(200000); /* its batch leaves alone */
        }
        usleep(1000000);
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child exited with %d", WEXITSTATUS(status));
    mock_clear_faults();
    mock_clear();

    size_t len = 0;
    unsigned char *data = read_all(spool, &len);
    /* where each record is: the 'A' record of each seq, the ranges of each 'S' record */
    size_t a_start[N + 2] = {0}, a_end[N + 2] = {0}, s_of[N + 2] = {0};
    size_t s_starts[64], s_ends[64], n_s = 0;
    for (size_t pos = HEADER_BYTES; pos < len;) {
        uint32_t l = (uint32_t)data[pos + 5] | (uint32_t)data[pos + 6] << 8 |
                     (uint32_t)data[pos + 7] << 16 | (uint32_t)data[pos + 8] << 24;
        uint64_t seq = get_u64(data + pos + 9);
        if (data[pos + 4] == 'A') {
            cr_assert(seq >= 1 && seq <= N);
            a_start[seq] = pos;
            a_end[seq] = pos + REC_OVERHEAD + l;
        } else {
            cr_assert_lt(n_s, 64);
            for (uint32_t k = 0; k < l; k += 16) {
                uint64_t first = get_u64(data + pos + REC_HEAD + k);
                uint64_t count = get_u64(data + pos + REC_HEAD + k + 8);
                for (uint64_t q = first; q < first + count; q++)
                    s_of[q] = n_s + 1;
            }
            s_starts[n_s] = pos;
            s_ends[n_s++] = pos + REC_OVERHEAD + l;
        }
        pos += REC_OVERHEAD + l;
    }
    cr_assert_gt(n_s, 0, "no settle record in the file");
    cr_assert_eq(s_of[1], 0, "the first operation was settled");
    for (uint64_t q = 2; q <= N; q++)
        cr_assert_neq(s_of[q], 0, "operation %llu was not settled", (unsigned long long)q);

    /* damage one byte in every other settle record, and one byte in two 'A' records */
    srand(seed);
    bool s_hit[64] = {false}, a_hit[N + 2] = {false};
    for (size_t i = 0; i < n_s; i += 2) {
        data[s_starts[i] + (size_t)rand() % (s_ends[i] - s_starts[i])] ^= 0x5A;
        s_hit[i] = true;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t q = 2 + (uint64_t)rand() % (N - 1);
        if (a_hit[q] || s_hit[s_of[q] - 1])
            continue;
        data[a_start[q] + REC_HEAD + (size_t)rand() % (a_end[q] - a_start[q] - REC_OVERHEAD)] ^= 1;
        a_hit[q] = true;
    }
    write_file(spool, data, len);

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 20000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    unsigned counts[N] = {0};
    delivered_counts(counts, N);
    cr_assert_eq(counts[0], 1, "seed %u: the owed operation was not delivered once", seed);
    for (uint64_t q = 2; q <= N; q++) {
        size_t n = (size_t)q - 1;
        unsigned want = a_hit[q] ? 0 : s_hit[s_of[q] - 1] ? 1 : 0;
        cr_assert_eq(counts[n], want,
                     "seed %u: settled operation %zu sent %u times (its settle record %s)", seed, n,
                     counts[n], s_hit[s_of[q] - 1] ? "damaged" : "intact");
    }
    /* a damaged record of a settled operation (its head intact) is set aside, not reported */
    cr_assert_eq(t.failed, 0, "seed %u: %zu failures reported: %s", seed, t.failed, t.messages[0]);
    free(data);
    remove_dir(dir);
    free(spool);
    free(dir);
}

/* ---------------------------------------------------------------- 4, 5. what is refused */

static void expect_refused(const char *path, const char *needle) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = path;
    cio_pipeline_t *p = NULL;
    cio_status_t st = cio_pipeline_new(fx.client, &o, &p);
    cr_assert_null(p);
    expect_error(st, CIO_E_CONFIG, path, needle);
}

Test(spool, test_spool_refuses_fifo_device_directory_link_and_foreign_file_untouched) {
    char *dir = make_dir();

    char *fifo = path_in(dir, "fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    expect_refused(fifo, "is a FIFO"); /* and returns: a FIFO is never opened */
    struct stat st;
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert(S_ISFIFO(st.st_mode));

    char *dev = path_in(dir, "null");
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        expect_refused(dev, "is a character device");
        cr_assert_eq(lstat(dev, &st), 0);
        cr_assert(S_ISCHR(st.st_mode), "the device node was replaced");
        /* only now that a copy of it was refused: the system's own /dev/null */
        struct stat before, after;
        cr_assert_eq(stat("/dev/null", &before), 0);
        expect_refused("/dev/null", "is a character device");
        cr_assert_eq(stat("/dev/null", &after), 0);
        cr_assert(S_ISCHR(after.st_mode) && after.st_ino == before.st_ino);
    } else {
        cr_log_info("mknod: %s (the device case is skipped)", strerror(errno));
    }

    expect_refused(dir, "is a directory");

    char *foreign = path_in(dir, "notes.txt");
    const char text[] = "A shopping list, not a spool.\nmilk\n";
    write_file(foreign, text, sizeof(text) - 1);
    struct timespec old_time[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    utimensat(AT_FDCWD, foreign, old_time, 0);
    expect_refused(foreign, "is not a spool file");
    size_t len = 0;
    unsigned char *data = read_all(foreign, &len);
    cr_assert_eq(len, sizeof(text) - 1);
    cr_assert_eq(memcmp(data, text, len), 0, "the foreign file was modified");
    free(data);
    cr_assert_eq(stat(foreign, &st), 0);
    cr_assert_eq(st.st_mtim.tv_sec, 1000000000, "the foreign file was written to");

    char *link = path_in(dir, "link.spool");
    cr_assert_eq(symlink(foreign, link), 0);
    expect_refused(link, "is a symbolic link");
    data = read_all(foreign, &len);
    cr_assert_eq(memcmp(data, text, len), 0);
    free(data);

    /* and nothing was created next to them */
    char *q = path_in(dir, "notes.txt.quarantine"), *tmp = path_in(dir, "notes.txt.tmp");
    cr_assert_neq(access(q, F_OK), 0);
    cr_assert_neq(access(tmp, F_OK), 0);

    remove_dir(dir);
    free(q);
    free(tmp);
    free(fifo);
    free(dev);
    free(foreign);
    free(link);
    free(dir);
}

/* A format-1 file (the previous version's): 'A' seq len bytes '\n', 'S' seq '\n'. */
static void put_v1(FILE *f, char type, uint64_t seq, const char *op) {
    unsigned char h[13];
    h[0] = (unsigned char)type;
    for (int i = 0; i < 8; i++)
        h[1 + i] = (unsigned char)(seq >> (8 * i));
    if (type == 'S') {
        fwrite(h, 1, 9, f);
        fputc('\n', f);
        return;
    }
    uint32_t l = (uint32_t)strlen(op);
    for (int i = 0; i < 4; i++)
        h[9 + i] = (unsigned char)(l >> (8 * i));
    fwrite(h, 1, 13, f);
    fwrite(op, 1, l, f);
    fputc('\n', f);
}

Test(spool, test_spool_symlinked_tmp_is_never_followed_when_the_file_is_rewritten) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool"), *tmp = path_in(dir, "events.spool.tmp"),
         *victim = path_in(dir, "victim");
    /* an old-format spool: opening it rewrites it through <path>.tmp */
    FILE *f = fopen(spool, "wb");
    const char *ops[3] = {
        "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ0\",\"type\":\"person\",\"action\":\"event\","
        "\"identifiers\":{\"id\":\"p0\"},\"name\":\"e\",\"attributes\":{\"n\":0}}",
        "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ1\",\"type\":\"person\",\"action\":\"event\","
        "\"identifiers\":{\"id\":\"p1\"},\"name\":\"e\",\"attributes\":{\"n\":1}}",
        "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ2\",\"type\":\"person\",\"action\":\"event\","
        "\"identifiers\":{\"id\":\"p2\"},\"name\":\"e\",\"attributes\":{\"n\":2}}"};
    put_v1(f, 'A', 1, ops[0]);
    put_v1(f, 'A', 2, ops[1]);
    put_v1(f, 'S', 1, NULL);
    put_v1(f, 'A', 3, ops[2]);
    fclose(f);
    const char secret[] = "another user's file\n";
    write_file(victim, secret, sizeof(secret) - 1);
    chmod(victim, 0644);
    cr_assert_eq(symlink(victim, tmp), 0);

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);

    size_t len = 0;
    unsigned char *data = read_all(victim, &len);
    cr_assert_eq(len, sizeof(secret) - 1, "the symlinked tmp was followed");
    cr_assert_eq(memcmp(data, secret, len), 0, "the symlinked tmp was followed");
    free(data);
    struct stat st;
    cr_assert_eq(stat(victim, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);

    /* the old file was read once (1 was settled: 2 and 3 owed) and is in the new format */
    unsigned counts[3] = {0};
    delivered_counts(counts, 3);
    cr_assert_eq(counts[0], 0);
    cr_assert_eq(counts[1], 1);
    cr_assert_eq(counts[2], 1);
    data = read_all(spool, &len);
    cr_assert_geq(len, HEADER_BYTES);
    cr_assert_eq(memcmp(data, "CIOSPOOL", 8), 0, "the old format was not rewritten");
    free(data);
    cr_assert_eq(stat(spool, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);

    remove_dir(dir);
    free(spool);
    free(tmp);
    free(victim);
    free(dir);
}

Test(spool, test_spool_old_format_with_a_torn_tail_is_migrated_and_the_tail_quarantined) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool"),
         *quarantine = path_in(dir, "events.spool.quarantine");
    FILE *f = fopen(spool, "wb");
    put_v1(f, 'A', 1,
           "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ0\",\"type\":\"person\",\"action\":\"event\","
           "\"identifiers\":{\"id\":\"p0\"},\"name\":\"e\",\"attributes\":{\"n\":0}}");
    put_v1(f, 'S', 1, NULL);
    put_v1(f, 'A', 2,
           "{\"id\":\"01HZZZZZZZZZZZZZZZZZZZZZZ1\",\"type\":\"person\",\"action\":\"event\","
           "\"identifiers\":{\"id\":\"p1\"},\"name\":\"e\",\"attributes\":{\"n\":1}}");
    long torn_at = ftell(f);
    const unsigned char torn[] = {'A', 3, 0, 0, 0, 0, 0, 0, 0, 0xF4, 1, 0, 0, '{', '"', 'i', 'd'};
    fwrite(torn, 1, sizeof(torn), f); /* a crash in the middle of the old writer's record */
    fclose(f);

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(t.damaged, 1, "the torn tail is reported before cio_pipeline_new returns");
    cr_assert_eq(t.seqs[0], 0);
    char where[64];
    snprintf(where, sizeof(where), "at offset %ld ", torn_at);
    cr_assert_not_null(strstr(t.messages[0], where), "%s", t.messages[0]);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cio_pipeline_stats_t st;
    cio_pipeline_stats(p, &st);
    cr_assert_eq(st.failed, 1);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    unsigned counts[2] = {0};
    delivered_counts(counts, 2);
    cr_assert_eq(counts[0], 0);
    cr_assert_eq(counts[1], 1);
    size_t len = 0;
    unsigned char *q = read_all(quarantine, &len);
    cr_assert_not_null(memmem(q, len, torn, sizeof(torn)), "the torn bytes are not quarantined");
    free(q);
    unsigned char *data = read_all(spool, &len);
    cr_assert_eq(len, HEADER_BYTES);
    cr_assert_eq(memcmp(data, "CIOSPOOL", 8), 0);
    free(data);
    remove_dir(dir);
    free(spool);
    free(quarantine);
    free(dir);
}

/* ---------------------------------------------------------------- 6. one opener */

/* Opens a pipeline on spool in a child process (as uid/gid 65534 when as_nobody) and puts its
 * answer in msg: "<status> <message>" (the message only when it failed). */
static void open_in_another_process(const char *spool, bool as_nobody, char msg[400]) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        cio_client_t *c = child_client(false);
        if (as_nobody && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(95);
        cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
        o.spool_path = spool;
        cio_pipeline_t *p = NULL;
        char answer[400] = "";
        int st = cio_pipeline_new(c, &o, &p);
        snprintf(answer, sizeof(answer), "%d %s", st,
                 st != CIO_OK ? cio_last_error()->message : "");
        write_full(fds[1], answer, sizeof(answer));
        _exit(0);
    }
    close(fds[1]);
    memset(msg, 0, 400);
    ssize_t got = read(fds[0], msg, 400);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert_eq(got, 400, "child exit %d", WEXITSTATUS(status));
    msg[399] = '\0';
}

Test(spool, test_spool_second_opener_is_refused_in_this_process_and_another) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *first = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_enqueue(first,
                                      "{\"type\":\"person\",\"action\":\"identify\","
                                      "\"identifiers\":{\"id\":\"a\"}}",
                                      NULL),
                 CIO_OK);

    expect_refused(spool, "in use by another pipeline");

    char msg[400];
    open_in_another_process(spool, false, msg);
    cr_assert_not_null(strstr(msg, "in use by another pipeline"),
                       "another process opened the spool: '%s'", msg);
    cr_assert_eq(atoi(msg), CIO_E_CONFIG, "%s", msg);

    cr_assert_eq(cio_pipeline_close(first, 5000), CIO_OK);
    cio_pipeline_t *again = drain_pipeline(spool, &t); /* free once closed */
    cio_pipeline_close(again, 1000);
    remove_dir(dir);
    free(spool);
    free(dir);
}

Test(spool, test_spool_lock_is_not_kept_by_a_forked_child) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    pid_t child = fork();
    if (child == 0) {
        sleep(30); /* holds whatever it inherited */
        _exit(0);
    }
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = spool;
    cio_status_t st = cio_pipeline_new(fx.client, &o, &p);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    cio_pipeline_close(p, 1000);
    remove_dir(dir);
    free(spool);
    free(dir);
}

/* ---------------------------------------------------------------- 7. open errors */

Test(spool, test_spool_open_error_names_the_path_and_permission_denied) {
    char *dir = make_dir();
    chmod(dir, 0755);
    char *spool = path_in(dir, "events.spool");
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_close(drain_pipeline(spool, &t), 1000); /* root's spool file */
    chmod(spool, 0644);

    char msg[400];
    open_in_another_process(spool, true, msg);
    cr_assert_eq(atoi(msg), CIO_E_CONFIG, "%s", msg);
    cr_assert_not_null(strstr(msg, "Permission denied"), "%s", msg);
    cr_assert_not_null(strstr(msg, spool), "%s", msg);

    /* and a path whose directory does not exist */
    char *missing = path_in(dir, "no/such/dir/events.spool");
    expect_refused(missing, "No such file or directory");
    remove_dir(dir);
    free(missing);
    free(spool);
    free(dir);
}

/* ---------------------------------------------------------------- 3. bounded under slow answers */

Test(spool, test_spool_stays_bounded_with_slow_answers_and_a_steady_producer) {
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool"), *tmp = path_in(dir, "events.spool.tmp"),
         *victim = path_in(dir, "victim");
    const char secret[] = "not to be truncated\n";
    write_file(victim, secret, sizeof(secret) - 1);
    cr_assert_eq(symlink(victim, tmp), 0);         /* planted before any compaction */
    mock_fault(1000000, 0, NULL, 150, NULL, NULL); /* every answer takes 150 ms */

    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.spool_path = spool;
    o.linger_ms = 5;
    o.max_requests_per_second = -1;
    o.max_queue_bytes = 2 * 1024 * 1024;
    o.on_report = count_report;
    o.report_user = &t;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);

    double seconds = env_seconds(4.0);
    /* bytes to write, at most (the long form writes for CIO_CHAOS_SECONDS) */
    const size_t target = getenv("CIO_CHAOS_SECONDS") ? SIZE_MAX : 12u * 1024 * 1024;
    int64_t start = now_ms();
    size_t written = 0, n = 0;
    off_t max_size = 0;
    while (written < target && now_ms() - start < (int64_t)(seconds * 1000)) {
        char *op = event_op(n++);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK, "%s", cio_last_error()->message);
        written += strlen(op) + 36; /* + its id */
        free(op);
        if (n % 200 == 0) {
            off_t s = file_size(spool);
            if (s > max_size)
                max_size = s;
        }
        if (n % 100000 == 0)
            mock_clear(); /* the emulator keeps every body it was sent */
    }
    mock_clear_faults();
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_log_info("%zu operations (%zu bytes) through the spool; its largest size %lld bytes", n,
                written, (long long)max_size);
    cr_assert_eq(t.failed, 0);
    /* owed at most max_queue_bytes (2 MiB, + framing): compaction keeps the file near it */
    cr_assert_lt(max_size, 6 * 1024 * 1024, "the spool grew to %lld bytes (%zu written)",
                 (long long)max_size, written);
    if (written < 8u * 1024 * 1024)
        cr_log_info("only %zu bytes written in %.0f s: the bound was not really tested", written,
                    seconds);
    cr_assert_eq(file_size(spool), HEADER_BYTES, "nothing is owed: the file is its header");
    size_t len = 0;
    unsigned char *data = read_all(victim, &len);
    cr_assert_eq(len, sizeof(secret) - 1, "the symlinked tmp was followed");
    free(data);
    remove_dir(dir);
    free(spool);
    free(tmp);
    free(victim);
    free(dir);
}

/* ---------------------------------------------------------------- 8. kill -9 loop */

/* In a child: enqueue numbers first.. until killed, reporting each acknowledged one. */
static void producer_child(const char *spool, size_t first, int out) {
    cio_client_t *c = child_client(true);
    cio_pipeline_t *p = open_spool(c, spool, 2);
    if (p == NULL)
        _exit(92);
    uint32_t acked[64];
    size_t k = 0;
    for (size_t n = first;; n++) {
        char *op = event_op(n);
        cio_status_t st = cio_pipeline_enqueue(p, op, NULL);
        free(op);
        if (st != CIO_OK)
            _exit(93);
        acked[k++] = (uint32_t)n;
        if (k == 64 || n % 8 == 0) {
            write_full(out, acked, k * sizeof(acked[0]));
            k = 0;
        }
        if (n % 16 == 0)
            usleep(200); /* a steady producer, not a flood */
    }
}

typedef struct kill_totals {
    size_t rounds, acknowledged, delivered, duplicates;
} kill_totals_t;

/* Producers killed at random moments for about `seconds`, then one pipeline drains the spool:
 * every acknowledged operation must have arrived. */
static void kill_epoch(const char *spool, unsigned seed, double seconds, kill_totals_t *tot) {
    enum { PER_ROUND = 100000 }; /* numbers per producer: more than one can enqueue */
    size_t max_n = 0, rounds = 0;
    unsigned char *acked = NULL;
    int64_t start = now_ms();
    while (now_ms() - start < (int64_t)(seconds * 1000) || rounds < 3) {
        size_t first = rounds * PER_ROUND;
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t child = fork();
        if (child == 0) {
            close(fds[0]);
            producer_child(spool, first, fds[1]);
        }
        close(fds[1]);
        usleep((useconds_t)(30000 + rand() % 300000));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        cr_assert(WIFSIGNALED(status), "the producer exited with %d", WEXITSTATUS(status));
        uint32_t buf[256];
        ssize_t got;
        while ((got = read(fds[0], buf, sizeof(buf))) > 0) {
            for (size_t i = 0; i < (size_t)got / sizeof(buf[0]); i++) {
                if (buf[i] + 1 > max_n) {
                    acked = realloc(acked, buf[i] + 1);
                    memset(acked + max_n, 0, buf[i] + 1 - max_n);
                    max_n = buf[i] + 1;
                }
                acked[buf[i]] = 1;
            }
        }
        close(fds[0]);
        rounds++;
    }
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_t *p = drain_pipeline(spool, &t);
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(file_size(spool), HEADER_BYTES, "nothing is owed: the file is its header");
    unsigned *counts = calloc(rounds * PER_ROUND, sizeof(*counts));
    tot->delivered += delivered_counts(counts, rounds * PER_ROUND);
    mock_clear();
    for (size_t n = 0; n < rounds * PER_ROUND; n++) {
        if (n < max_n && acked[n]) {
            tot->acknowledged++;
            cr_assert_geq(counts[n], 1, "seed %u: acknowledged operation %zu was lost", seed, n);
        }
        if (counts[n] > 1)
            tot->duplicates += counts[n] - 1;
    }
    tot->rounds += rounds;
    free(counts);
    free(acked);
}

Test(spool, test_spool_kill_9_loop_delivers_every_acknowledged_enqueue) {
    unsigned seed = env_seed();
    double seconds = env_seconds(4.0);
    srand(seed);
    char *dir = make_dir();
    char *spool = path_in(dir, "events.spool");
    kill_totals_t tot = {0};
    int64_t start = now_ms();
    do /* epochs of 5 s at most, so the emulator's log stays small in the long form */
        kill_epoch(spool, seed, seconds < 5 ? seconds : 5, &tot);
    while (now_ms() - start < (int64_t)(seconds * 1000));
    cr_log_info("seed %u: %zu kill -9 rounds, %zu acknowledged, %zu delivered, %zu duplicates "
                "(sent again after a kill between the 2xx and its settle record)",
                seed, tot.rounds, tot.acknowledged, tot.delivered, tot.duplicates);
    remove_dir(dir);
    free(spool);
    free(dir);
}
