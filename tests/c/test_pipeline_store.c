/*
 * A caller's store (customerio/sys/store.h, cio_pipeline_options_t.store, issue 17 item 3): a
 * small FIFO written here against the public interface only, as the Redis store of issue 18
 * would be, carries a pipeline's operations to the emulator; what the pipeline asks of it
 * (append, take, confirm, settle, requeue, release, destroy) is counted and checked, and the
 * options that cannot work are refused with the store left untouched.
 */
#include "helpers.h"

#include <customerio/sys/store.h>

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(store, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

typedef struct test_store {
    cio_store_t base; /* first: the pipeline's cio_store_t * is this struct's address */
    cio_store_item_t *head, *tail;
    uint64_t next_seq;
    cio_status_t fail_append; /* CIO_OK = take everything */
    int appends, takes, confirmed, settled, requeued, released, destroyed, damage_freed;
    int strangers; /* items given back that are not this store's (ts_item_t.mark) */
} test_store_t;

/* The store's item: the pipeline's part first, then the store's own state, then the bytes that
 * base.data points at, all in one allocation (customerio/sys/store.h). */
#define TS_MARK 0x5701e17eu
typedef struct ts_item {
    cio_store_item_t base; /* first: the pipeline's cio_store_item_t * is this struct's address */
    unsigned mark;         /* the store's own; the pipeline never touches it */
    char bytes[];
} ts_item_t;

static cio_store_item_t *push(test_store_t *s, const char *op, size_t len) {
    ts_item_t *it = calloc(1, sizeof(*it) + len + 1);
    cr_assert_not_null(it);
    it->mark = TS_MARK;
    memcpy(it->bytes, op, len);
    it->base.seq = s->next_seq++;
    it->base.enqueued_ms = now_ms();
    it->base.len = len;
    it->base.data = it->bytes;
    if (s->tail != NULL)
        s->tail->next = &it->base;
    else
        s->head = &it->base;
    s->tail = &it->base;
    s->base.waiting++;
    s->base.waiting_bytes += len;
    return &it->base;
}

/* Counts items not made by push() (no assert: the pipeline calls from its own threads). */
static void check_ours(test_store_t *s, const cio_store_item_t *item) {
    if (((const ts_item_t *)item)->mark != TS_MARK)
        s->strangers++;
}

static cio_status_t ts_append(cio_store_t *store, const char *op, size_t len, uint64_t *seq) {
    test_store_t *s = (test_store_t *)store;
    if (s->fail_append != CIO_OK)
        return s->fail_append;
    s->appends++;
    *seq = push(s, op, len)->seq;
    return CIO_OK;
}

/* One batch at a time, by the interface's rules (bytes with commas, items, group). */
static cio_store_item_t *ts_take(cio_store_t *store, size_t max_bytes, size_t max_items,
                                 size_t *count, size_t *bytes) {
    test_store_t *s = (test_store_t *)store;
    size_t n = 0, total = 0;
    cio_store_item_t *last = NULL;
    if (s->head != NULL && s->head->group > 0 && s->head->group < max_items)
        max_items = s->head->group;
    for (cio_store_item_t *it = s->head; it != NULL; it = it->next) {
        if (n > 0 && (total + it->len + 1 > max_bytes || n >= max_items || it->group > 0))
            break;
        total += it->len + (n > 0);
        n++;
        last = it;
    }
    *count = n;
    *bytes = total;
    if (last == NULL)
        return NULL;
    s->takes++;
    cio_store_item_t *first = s->head;
    s->head = last->next;
    if (s->head == NULL)
        s->tail = NULL;
    last->next = NULL;
    for (cio_store_item_t *it = first; it != NULL; it = it->next) {
        s->base.waiting--;
        s->base.waiting_bytes -= it->len;
    }
    return first;
}

static int free_list(test_store_t *s, cio_store_item_t *items) {
    int n = 0;
    while (items != NULL) {
        cio_store_item_t *next = items->next;
        check_ours(s, items);
        free(items); /* the ts_item_t it starts */
        items = next;
        n++;
    }
    return n;
}

static void ts_settle(cio_store_t *store, cio_store_item_t *items) {
    test_store_t *s = (test_store_t *)store;
    s->settled += free_list(s, items);
}

static void ts_confirm(cio_store_t *store, cio_store_item_t *items) {
    for (cio_store_item_t *it = items; it != NULL; it = it->next)
        ((test_store_t *)store)->confirmed++;
}

static void ts_requeue(cio_store_t *store, cio_store_item_t *items) {
    test_store_t *s = (test_store_t *)store;
    cio_store_item_t *last = items;
    for (;; last = last->next) {
        check_ours(s, last);
        s->requeued++;
        s->base.waiting++;
        s->base.waiting_bytes += last->len;
        if (last->next == NULL)
            break;
    }
    last->next = s->head;
    s->head = items;
    if (s->tail == NULL)
        s->tail = last;
}

static const cio_store_item_t *ts_peek(const cio_store_t *store) {
    return ((const test_store_t *)store)->head;
}

static void ts_release(cio_store_t *store, cio_store_item_t *items) {
    test_store_t *s = (test_store_t *)store;
    s->released += free_list(s, items);
}

static void ts_free_damage(cio_store_t *store, cio_store_damage_t *damage) {
    while (damage != NULL) {
        cio_store_damage_t *next = damage->next;
        free(damage->message);
        free(damage->item);
        free(damage);
        damage = next;
        ((test_store_t *)store)->damage_freed++;
    }
}

/* The counters outlive the store: destroy frees only the items. */
static void ts_destroy(cio_store_t *store) {
    test_store_t *s = (test_store_t *)store;
    free_list(s, s->head);
    s->head = s->tail = NULL;
    s->destroyed++;
}

static void store_init(test_store_t *s) {
    memset(s, 0, sizeof(*s));
    s->base = (cio_store_t)CIO_STORE_INIT;
    s->base.append = ts_append;
    s->base.take = ts_take;
    s->base.settle = ts_settle;
    s->base.confirm = ts_confirm;
    s->base.requeue = ts_requeue;
    s->base.peek = ts_peek;
    s->base.release = ts_release;
    s->base.destroy = ts_destroy;
    s->next_seq = 100;
}

typedef struct tally {
    int delivered, failed;
    uint64_t seqs[8];
    cio_status_t last_status;
    char last_reason[64], last_message[128], last_operation[128];
} tally_t;

static void on_report(const cio_delivery_report_t *r, void *user) {
    tally_t *t = user;
    if (r->status == CIO_OK && t->delivered < 8)
        t->seqs[t->delivered] = r->seq;
    if (r->status == CIO_OK)
        t->delivered++;
    else
        t->failed++;
    t->last_status = r->status;
    snprintf(t->last_reason, sizeof(t->last_reason), "%s", r->reason ? r->reason : "");
    snprintf(t->last_message, sizeof(t->last_message), "%s", r->message ? r->message : "");
    snprintf(t->last_operation, sizeof(t->last_operation), "%s",
             r->operation_json ? r->operation_json : "");
}

static cio_pipeline_options_t options(test_store_t *s, tally_t *t) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.linger_ms = 20;
    o.max_requests_per_second = -1;
    o.on_report = on_report;
    o.report_user = t;
    o.report_successes = 1;
    o.store = &s->base;
    return o;
}

#define OP(name)                                                                                   \
    "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"7\"},\"name\":\"" name    \
    "\"}"
/* The same as a pipeline would have stored it (with its id): what another process left. */
#define STORED_OP(name)                                                                            \
    "{\"id\":\"01J0000000000000000000000" name "\",\"type\":\"person\",\"action\":"                \
    "\"event\",\"identifiers\":{\"id\":\"7\"},\"name\":\"" name "\"}"

/* The one batch the emulator got: its operations' "name"s, comma-joined. */
static void expect_one_batch(const char *names) {
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    json_t *req = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(req, "method"), "POST");
    cr_assert_str_eq(req_str(req, "path"), "/api/v2/batch");
    cr_assert_eq(req_status(req), 200);
    expect_track_headers(req);
    json_t *body = req_body_json(req);
    char got[256] = "";
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(body, "batch"), i, op) {
        if (i > 0)
            strcat(got, ",");
        strcat(got, json_string_value(json_object_get(op, "name")));
    }
    cr_assert_str_eq(got, names);
    json_decref(body);
    json_decref(reqs);
}

Test(store, test_callers_store_carries_operations_to_the_emulator) {
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(fx.client, &o, &p));
    uint64_t seq[3];
    expect_ok(cio_pipeline_enqueue(p, OP("A"), &seq[0]));
    expect_ok(cio_pipeline_enqueue(p, OP("B"), &seq[1]));
    expect_ok(cio_pipeline_enqueue(p, OP("C"), &seq[2]));
    /* the store's own numbers are the pipeline's seqs */
    cr_assert_eq(seq[0], 100);
    cr_assert_eq(seq[1], 101);
    cr_assert_eq(seq[2], 102);
    cr_assert_eq(s.appends, 3);
    expect_ok(cio_pipeline_flush(p, 10000));
    expect_one_batch("A,B,C");
    cr_assert_eq(s.takes, 1);
    cr_assert_eq(s.confirmed, 3); /* recorded as delivered before the reports */
    cr_assert_eq(s.settled, 3);
    cr_assert_eq(s.requeued, 0);
    cr_assert_eq(s.base.waiting, 0);
    cr_assert_eq(s.base.waiting_bytes, 0);
    cr_assert_eq(t.delivered, 3);
    cr_assert_eq(t.seqs[0], 100);
    cr_assert_eq(t.seqs[2], 102);
    cr_assert_eq(s.destroyed, 0);
    expect_ok(cio_pipeline_close(p, 5000));
    cr_assert_eq(s.destroyed, 1); /* the pipeline owned it */
    cr_assert_eq(s.released, 0);
    cr_assert_eq(t.failed, 0);
    cr_assert_eq(s.strangers, 0); /* settled: the very items the store made */
}

Test(store, test_operations_waiting_in_the_store_at_open_are_sent_first) {
    /* a shared store another process filled: the pipeline sends what waits in it */
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    push(&s, STORED_OP("X"), strlen(STORED_OP("X")));
    push(&s, STORED_OP("Y"), strlen(STORED_OP("Y")));
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(fx.client, &o, &p));
    expect_ok(cio_pipeline_flush(p, 10000));
    expect_one_batch("X,Y");
    cio_pipeline_stats_t st;
    expect_ok(cio_pipeline_stats(p, &st));
    cr_assert_eq(st.enqueued, 2);
    cr_assert_eq(st.delivered, 2);
    cr_assert_eq(st.queue_depth, 0);
    expect_ok(cio_pipeline_close(p, 5000));
    cr_assert_eq(s.settled, 2);
    cr_assert_eq(s.destroyed, 1);
}

Test(store, test_what_close_cannot_deliver_goes_back_to_the_store) {
    char url[256];
    closed_port_url(url, sizeof(url));
    cio_client_options_t co = fx_options();
    co.track_url = url;
    cio_client_t *client = fx_client(&co);
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(client, &o, &p));
    expect_ok(cio_pipeline_enqueue(p, OP("A"), NULL));
    cr_assert_eq(cio_pipeline_flush(p, 300), CIO_E_TIMEOUT);
    cr_assert_eq(cio_pipeline_close(p, 100), CIO_E_TIMEOUT);
    /* reported as not delivered, and still owed: released (not settled), then destroyed */
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.last_status, CIO_E_CLOSED);
    cr_assert_eq(s.settled, 0);
    cr_assert_eq(s.released, 1);
    cr_assert_gt(s.requeued, 0);
    cr_assert_eq(s.destroyed, 1);
    cr_assert_eq(s.strangers, 0); /* requeued and released: the store's own items */
}

Test(store, test_a_store_that_refuses_an_operation_fails_the_enqueue) {
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(fx.client, &o, &p));
    s.fail_append = CIO_E_QUEUE_FULL;
    expect_error(cio_pipeline_enqueue(p, OP("A"), NULL), CIO_E_QUEUE_FULL,
                 "enqueue: the pipeline's store did not take the operation", NULL);
    cio_pipeline_stats_t st;
    expect_ok(cio_pipeline_stats(p, &st));
    cr_assert_eq(st.enqueued, 0);
    cr_assert_eq(st.queue_bytes, 0);
    s.fail_append = CIO_OK;
    expect_ok(cio_pipeline_enqueue(p, OP("B"), NULL));
    expect_ok(cio_pipeline_close(p, 5000));
    expect_one_batch("B");
}

Test(store, test_unusable_stores_are_refused_and_left_alone) {
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;

    o.spool_path = "/tmp/never-opened.spool";
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "options.store and options.spool_path are both set", NULL);
    o.spool_path = NULL;

    s.base.version = CIO_STORE_VERSION + 1;
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "options.store->version 3 is not supported", NULL);
    s.base.version = 0;
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "options.store->version 0 is not supported", NULL);
    s.base.version = CIO_STORE_VERSION;

    s.base.release = NULL;
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "options.store lacks a required function", NULL);
    s.base.release = ts_release;

    /* a version-2 options struct has no store field: the pipeline uses its own */
    o.version = 2;
    expect_ok(cio_pipeline_new(fx.client, &o, &p));
    expect_ok(cio_pipeline_enqueue(p, OP("A"), NULL));
    expect_ok(cio_pipeline_close(p, 5000));
    expect_one_batch("A");

    cr_assert_eq(s.appends + s.takes + s.destroyed, 0, "the refused store was called");
    cr_assert_null(s.head);
}

Test(store, test_damage_a_store_found_at_open_is_reported_before_new_returns) {
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    s.base.free_damage = ts_free_damage;
    static const char what[] = "{\"lost\":1}";
    cio_store_damage_t *d = calloc(1, sizeof(*d));
    d->message = strdup("record 7 of the shared queue is unreadable");
    ts_item_t *item = calloc(1, sizeof(*item) + sizeof(what));
    memcpy(item->bytes, what, sizeof(what));
    item->base.seq = 7;
    item->base.len = sizeof(what) - 1;
    item->base.data = item->bytes;
    d->item = &item->base;
    s.base.damaged = d;
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new(fx.client, &o, &p));
    /* reported, and given back, before cio_pipeline_new returned */
    cr_assert_eq(t.failed, 1);
    cr_assert_eq(t.last_status, CIO_E_INTERNAL);
    cr_assert_str_eq(t.last_reason, "spool_damaged");
    cr_assert_str_eq(t.last_message, "record 7 of the shared queue is unreadable");
    cr_assert_str_eq(t.last_operation, what);
    cr_assert_eq(s.damage_freed, 1);
    cr_assert_null(s.base.damaged);
    expect_ok(cio_pipeline_close(p, 5000));
    expect_nothing_sent();
}

Test(store, test_damage_without_free_damage_is_refused) {
    test_store_t s;
    tally_t t = {0};
    store_init(&s);
    cio_store_damage_t d = {0};
    s.base.damaged = &d;
    cio_pipeline_options_t o = options(&s, &t);
    cio_pipeline_t *p = NULL;
    expect_error(cio_pipeline_new(fx.client, &o, &p), CIO_E_INVALID_ARGUMENT,
                 "options.store has damage to report but no free_damage", NULL);
    cr_assert_null(p);
    cr_assert_eq(s.destroyed, 0);
}

/* A store of version 1 (or one without append_many) cannot take several operations all or none:
 * cio_pipeline_enqueue_requests refuses more than one, nothing queued; one goes in by append. */
Test(store, test_a_store_without_append_many_refuses_several_requests_at_once) {
    for (unsigned version = 1; version <= 2; version++) {
        test_store_t s;
        tally_t t = {0};
        store_init(&s);
        s.base.version = version;
        cio_pipeline_options_t o = options(&s, &t);
        cio_pipeline_t *p = NULL;
        expect_ok(cio_pipeline_new(fx.client, &o, &p));
        cio_request_t *r[2] = {NULL, NULL};
        expect_ok(cio_v2_entity_request(OP("A"), &r[0]));
        expect_ok(cio_v2_entity_request(OP("B"), &r[1]));
        expect_error(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 2, NULL),
                     CIO_E_INVALID_ARGUMENT,
                     "enqueue_requests: the pipeline's store cannot take several operations all "
                     "or none (it has no append_many",
                     "nothing was queued");
        cr_assert_eq(s.appends, 0);
        uint64_t seq = 0;
        expect_ok(cio_pipeline_enqueue_requests(p, (const cio_request_t *const *)r, 1, &seq));
        cr_assert_eq(seq, 100);
        expect_ok(cio_pipeline_flush(p, 10000));
        expect_one_batch("A");
        mock_clear();
        expect_ok(cio_pipeline_close(p, 5000));
        cio_request_free(r[0]);
        cio_request_free(r[1]);
    }
}
