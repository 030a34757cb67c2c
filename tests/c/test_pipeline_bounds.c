/*
 * How long flush and close take (issue 16 item 13): a flush waits for what was queued before it
 * was called, not for what other threads keep adding; a close with a timeout returns in about that
 * timeout even while a request hangs on a server that does not answer, cancelling it, and what it
 * carried stays owed: in the spool when there is one, reported as not delivered either way.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TestSuite(bounds, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static void sleep_ms(long ms) {
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

typedef struct tally {
    pthread_mutex_t lock;
    size_t delivered, closed, other;
    uint64_t max_seq_delivered_by; /* highest seq delivered */
    char *seen;                    /* seen[seq] = 1 once reported delivered (seq < cap) */
    size_t cap;
} tally_t;

static void on_report(const cio_delivery_report_t *r, void *user) {
    tally_t *t = user;
    pthread_mutex_lock(&t->lock);
    if (r->status == CIO_OK) {
        t->delivered++;
        if (r->seq < t->cap)
            t->seen[r->seq] = 1;
    } else if (r->status == CIO_E_CLOSED) {
        t->closed++;
    } else {
        t->other++;
    }
    pthread_mutex_unlock(&t->lock);
}

static cio_pipeline_options_t options(tally_t *t) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = 20;
    o.max_requests_per_second = -1;
    o.on_report = on_report;
    o.report_user = t;
    o.report_successes = 1;
    return o;
}

static const char *const op =
    "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"7\"},\"name\":\"e\"}";

typedef struct producer {
    cio_pipeline_t *p;
    atomic_bool stop;
    atomic_size_t sent;
} producer_t;

static void *produce(void *arg) {
    producer_t *pr = arg;
    while (!atomic_load(&pr->stop)) {
        if (cio_pipeline_enqueue(pr->p, op, NULL) == CIO_OK)
            atomic_fetch_add(&pr->sent, 1);
        if (atomic_load(&pr->sent) % 50 == 0)
            sleep_ms(1); /* steady, not a flood: the queue never fills */
    }
    return NULL;
}

Test(bounds, test_flush_returns_while_another_thread_keeps_enqueueing) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER, .cap = 1u << 22};
    t.seen = calloc(t.cap, 1);
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    /* every answer takes 50 ms: the queue never runs dry while the producer runs */
    mock_fault(1000000, 200, NULL, 50, NULL, NULL);
    uint64_t last_before = 0;
    for (int i = 0; i < 200; i++)
        cr_assert_eq(cio_pipeline_enqueue(p, op, &last_before), CIO_OK);
    producer_t pr = {.p = p};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, produce, &pr), 0);
    while (atomic_load(&pr.sent) < 500)
        sleep_ms(1);
    uint64_t just_before = 0;
    cr_assert_eq(cio_pipeline_enqueue(p, op, &just_before), CIO_OK);
    size_t sent_before = atomic_load(&pr.sent);
    int64_t start = now_ms();
    cio_status_t st = cio_pipeline_flush(p, 15000);
    int64_t took = now_ms() - start;
    size_t during = atomic_load(&pr.sent) - sent_before;
    /* what was queued before the flush was delivered by the time it returned */
    pthread_mutex_lock(&t.lock);
    size_t missing = 0;
    for (uint64_t seq = 1; seq <= just_before; seq++)
        missing += t.seen[seq] == 0;
    pthread_mutex_unlock(&t.lock);
    atomic_store(&pr.stop, true);
    pthread_join(thread, NULL);
    cr_assert_eq(st, CIO_OK, "%s", cio_last_error() ? cio_last_error()->message : "");
    cr_assert_lt(took, 5000, "flush took %lld ms", (long long)took);
    cr_assert_eq(missing, 0, "%zu operations queued before the flush were not delivered", missing);
    cr_assert_gt(during, 0, "the producer stopped during the flush");
    mock_clear_faults();
    cr_assert_eq(cio_pipeline_flush(p, 15000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(t.other + t.closed, 0);
    free(t.seen);
}

/* Waits until the pipeline has a request in flight. */
static void wait_in_flight(cio_pipeline_t *p) {
    cio_pipeline_stats_t s = {0};
    for (int i = 0; i < 500 && s.in_flight == 0; i++) {
        cr_assert_eq(cio_pipeline_stats(p, &s), CIO_OK);
        if (s.in_flight == 0)
            sleep_ms(5);
    }
    cr_assert_eq(s.in_flight, 1);
}

/* The server takes 30 s to answer; the client would wait 10 s per attempt, twice. */
Test(bounds, test_close_with_timeout_returns_in_time_while_a_request_hangs) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(10, 200, NULL, 30000, NULL, NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    wait_in_flight(p);
    int64_t start = now_ms();
    cio_status_t st = cio_pipeline_close(p, 500);
    int64_t took = now_ms() - start;
    cr_assert_eq(st, CIO_E_TIMEOUT);
    cr_assert_not_null(strstr(cio_last_error()->message, "3 operations were reported"), "%s",
                       cio_last_error()->message);
    cr_assert_lt(took, 1200, "close(500 ms) took %lld ms", (long long)took);
    cr_assert_geq(took, 450);
    cr_assert_eq(t.closed, 3);
    cr_assert_eq(t.delivered + t.other, 0);
}

Test(bounds, test_close_zero_timeout_cancels_at_once) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(10, 200, NULL, 30000, NULL, NULL);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    wait_in_flight(p);
    int64_t start = now_ms();
    cr_assert_eq(cio_pipeline_close(p, 0), CIO_E_TIMEOUT);
    cr_assert_lt(now_ms() - start, 500);
    cr_assert_eq(t.closed, 1);
}

/* With a spool, the cancelled request's operations stay in it: the next pipeline sends them. */
Test(bounds, test_close_cancel_keeps_the_operations_in_the_spool) {
    char path[] = "/tmp/cio-bounds-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    o.spool_path = path;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    mock_fault(1, 200, NULL, 30000, NULL, NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    wait_in_flight(p);
    int64_t start = now_ms();
    cr_assert_eq(cio_pipeline_close(p, 300), CIO_E_TIMEOUT);
    cr_assert_lt(now_ms() - start, 1000);
    cr_assert_eq(t.closed, 3);

    mock_clear_faults();
    tally_t again = {.lock = PTHREAD_MUTEX_INITIALIZER};
    o = options(&again);
    o.spool_path = path;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_eq(cio_pipeline_flush(p, 10000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(again.delivered, 3, "%zu delivered after the restart", again.delivered);
    unlink(path);
}

/* A flush with a timeout is bounded the same way (it never cancels: the request goes on). */
Test(bounds, test_flush_timeout_returns_in_time_while_a_request_hangs) {
    tally_t t = {.lock = PTHREAD_MUTEX_INITIALIZER};
    cio_pipeline_options_t o = options(&t);
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    mock_fault(10, 200, NULL, 30000, NULL, NULL);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    int64_t start = now_ms();
    cr_assert_eq(cio_pipeline_flush(p, 300), CIO_E_TIMEOUT);
    int64_t took = now_ms() - start;
    cr_assert(took >= 280 && took < 800, "flush(300 ms) took %lld ms", (long long)took);
    cr_assert_not_null(strstr(cio_last_error()->message, "1 operations still pending"), "%s",
                       cio_last_error()->message);
    cr_assert_eq(cio_pipeline_close(p, 0), CIO_E_TIMEOUT);
}

/* A report callback that takes 1 s (it should not, but may): the flush it belongs to waits for it.
 * The answer arrives at once, so only the callback is still running when flush(300) times out. */
typedef struct slow_reports {
    atomic_int started, finished;
} slow_reports_t;

static void slow_report(const cio_delivery_report_t *r, void *user) {
    (void)r;
    slow_reports_t *s = user;
    atomic_fetch_add(&s->started, 1);
    sleep_ms(1000);
    atomic_fetch_add(&s->finished, 1);
}

Test(bounds, test_flush_waits_until_the_reports_are_delivered) {
    slow_reports_t s = {0};
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = 20;
    o.max_requests_per_second = -1;
    o.on_report = slow_report;
    o.report_user = &s;
    o.report_successes = 1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    int64_t start = now_ms();
    cio_status_t st = cio_pipeline_flush(p, 300);
    int64_t took = now_ms() - start;
    cr_assert_eq(st, CIO_E_TIMEOUT, "flush(300) returned %d after %lld ms, reports finished: %d",
                 st, (long long)took, atomic_load(&s.finished));
    cr_assert_eq(atomic_load(&s.finished), 0);
    cr_assert_not_null(strstr(cio_last_error()->message, "1 operations still pending"), "%s",
                       cio_last_error()->message);
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    cr_assert_eq(atomic_load(&s.finished), 1, "flush returned before the report was delivered");
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    cr_assert_eq(atomic_load(&s.started), 1);
}
