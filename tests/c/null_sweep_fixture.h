/*
 * The fixture of the generated NULL-argument sweep (test_null_sweep.c, from gen_null_sweep.py):
 * valid handles for the arguments that are not NULL, made on first use in each test's process,
 * and the two checks. The client's base URLs point at a closed port, so a call that accepts its
 * NULL argument fails fast with a network error instead of reaching anything.
 */
#ifndef CIO_NULL_SWEEP_FIXTURE_H
#define CIO_NULL_SWEEP_FIXTURE_H

#include <customerio/customerio.h>

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

static cio_client_t *sweep_client_;
static cio_pipeline_t *sweep_pipeline_;
static cio_queue_t *sweep_queue_;
static cio_webhook_dedup_t *sweep_dedup_;

static cio_client_options_t sweep_client_options(void) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = "site";
    o.api_key = "key";
    o.app_api_key = "app-key";
    o.cdp_api_key = "cdp-key";
    o.track_url = "http://127.0.0.1:1";
    o.app_url = "http://127.0.0.1:1";
    o.cdp_url = "http://127.0.0.1:1";
    o.max_attempts = 1;
    o.connect_timeout_ms = 2000;
    o.ignore_env = 1;
    return o;
}

static cio_client_t *sweep_client(void) {
    if (sweep_client_ == NULL) {
        cio_client_options_t o = sweep_client_options();
        cr_assert_eq(cio_client_new(&o, &sweep_client_), CIO_OK);
    }
    return sweep_client_;
}

static cio_pipeline_t *sweep_pipeline(void) {
    if (sweep_pipeline_ == NULL) {
        cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
        o.sink = CIO_SINK_PIPELINES;
        cr_assert_eq(cio_pipeline_new(sweep_client(), &o, &sweep_pipeline_), CIO_OK);
    }
    return sweep_pipeline_;
}

static cio_queue_t *sweep_queue(void) {
    if (sweep_queue_ == NULL)
        cr_assert_eq(cio_queue_new(&sweep_queue_), CIO_OK);
    return sweep_queue_;
}

static cio_webhook_dedup_t *sweep_dedup(void) {
    if (sweep_dedup_ == NULL)
        cr_assert_eq(cio_webhook_dedup_new(8, 60, &sweep_dedup_), CIO_OK);
    return sweep_dedup_;
}

/* A valid request (a fresh one per call: the caller may free it). */
static cio_request_t *sweep_request_copy(void) {
    cio_request_t *r = NULL;
    cr_assert_eq(cio_request_new(CIO_API_TRACK, "POST", "/api/v1/events", "{}", 2, &r), CIO_OK);
    return r;
}

/* A valid request kept for the test's process (borrowed by the call). */
static const cio_request_t *sweep_request(void) {
    static cio_request_t *kept;
    if (kept == NULL)
        kept = sweep_request_copy();
    return kept;
}

static cio_json_value_t sweep_json(void) {
    static const char text[] = "{\"a\":1}";
    cio_json_value_t v;
    cr_assert_eq(cio_json_scan(text, sizeof(text) - 1, &v), CIO_OK);
    return v;
}

static void sweep_fini(void) {
    cio_async_next(NULL, 0); /* never leave a queue armed on this thread */
    cio_pipeline_close(sweep_pipeline_, 0);
    cio_client_free(sweep_client_);
    if (sweep_queue_ != NULL)
        cio_queue_free(sweep_queue_);
    cio_webhook_dedup_free(sweep_dedup_);
}

TestSuite(null_sweep, .fini = sweep_fini, .timeout = 30);

/* A NULL the function must refuse: the status wanted, and a message naming the call. */
static void expect_refused(cio_status_t st, cio_status_t want, const char *fn, const char *arg) {
    cr_assert_eq(st, want, "%s(%s = NULL) returned %s, not %s", fn, arg, cio_status_str(st),
                 cio_status_str(want));
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e, "%s(%s = NULL) failed without recording an error", fn, arg);
    cr_assert_eq(e->status, st);
    cr_assert(e->message != NULL && e->message[0] != '\0', "%s(%s = NULL): empty message", fn, arg);
}

/* A NULL the function accepts (documented as optional): any outcome, with a message if failed. */
static void expect_message_if_failed(cio_status_t st, const char *fn, const char *arg) {
    if (st == CIO_OK)
        return;
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e, "%s(%s = NULL) failed (%s) without recording an error", fn, arg,
                       cio_status_str(st));
    cr_assert(e->message != NULL && e->message[0] != '\0', "%s(%s = NULL): empty message", fn, arg);
}

#endif
