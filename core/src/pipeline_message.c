/*
 * The pipeline's executors for what a builder made (customerio/pipeline.h): a request from a
 * cio_v2_*_request / cio_cdp_*_request builder (cio_pipeline_enqueue_request), and a Pipelines
 * message from its parts, built by cdp.c's builder (cio_pipeline_enqueue_message). Both go in
 * through the pipeline's door for prepared items; neither the pipeline nor the sink calls into
 * this file.
 */
#include "pipeline_sink.h"
#include "request_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdlib.h>

/* A request from a builder: its body is prepared already, so it is queued as it is (copied
 * straight from the request, no second validation), provided its kind is what the sink sends. */
static cio_status_t enqueue_request(cio_pipeline_t *p, const cio_request_t *request, uint64_t *seq,
                                    bool may_wait) {
    const cio_sink_t *sink = NULL;
    cio_status_t st = cio__pipeline_enter(p, "enqueue_request", &sink);
    if (st != CIO_OK)
        return st;
    if (request == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "enqueue_request: request is NULL");
    bool cdp = sink->api == CIO_API_CDP;
    cio_request_kind_t wanted = cdp ? CIO_REQUEST_CDP_MESSAGE : CIO_REQUEST_V2_OPERATION;
    if (request->kind != wanted || request->body == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "enqueue_request: a %s pipeline takes %s, not this request (%s %s, built "
                         "by %s)",
                         cdp ? "Pipelines" : "Track v2",
                         cdp ? "a Pipelines message (cio_cdp_*_request)"
                             : "a Track v2 operation (cio_v2_*_request)",
                         request->method, request->path, request->call);
    /* borrowed: the pipeline frees op, which leaves the request's body alone */
    cio_buf_t op = {request->body, request->body_len, request->body_len + 1, true};
    return cio__pipeline_enqueue_prepared(p, op, seq, may_wait);
}

cio_status_t cio_pipeline_enqueue_request(cio_pipeline_t *p, const cio_request_t *request,
                                          uint64_t *seq) {
    return enqueue_request(p, request, seq, true);
}

cio_status_t cio_pipeline_try_enqueue_request(cio_pipeline_t *p, const cio_request_t *request,
                                              uint64_t *seq) {
    return enqueue_request(p, request, seq, false);
}

/* Several requests from builders, all queued or none: each is checked as enqueue_request checks
 * one (the message names its index), then they go in together. */
static cio_status_t enqueue_requests(cio_pipeline_t *p, const cio_request_t *const *requests,
                                     size_t n, uint64_t *seqs, bool may_wait, const char *call) {
    const cio_sink_t *sink = NULL;
    cio_status_t st = cio__pipeline_enter(p, call, &sink);
    if (st != CIO_OK)
        return st;
    if (requests == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: requests is NULL", call);
    if (n == 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: n is 0 (nothing to queue)", call);
    bool cdp = sink->api == CIO_API_CDP;
    cio_request_kind_t wanted = cdp ? CIO_REQUEST_CDP_MESSAGE : CIO_REQUEST_V2_OPERATION;
    for (size_t i = 0; i < n; i++) {
        const cio_request_t *r = requests[i];
        if (r == NULL)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: request %zu is NULL: none of the %zu was queued", call, i, n);
        if (r->kind != wanted || r->body == NULL)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: request %zu: a %s pipeline takes %s, not this request (%s %s, "
                             "built by %s): none of the %zu was queued",
                             call, i, cdp ? "Pipelines" : "Track v2",
                             cdp ? "a Pipelines message (cio_cdp_*_request)"
                                 : "a Track v2 operation (cio_v2_*_request)",
                             r->method, r->path, r->call, n);
    }
    /* the bodies are borrowed (the store copies them); a small call needs no allocation */
    const char *small_ops[16];
    size_t small_lens[16];
    uint64_t small_seqs[16];
    const char **ops = n <= 16 ? small_ops : malloc(n * sizeof(*ops));
    size_t *lens = n <= 16 ? small_lens : malloc(n * sizeof(*lens));
    uint64_t *got = seqs != NULL ? seqs : n <= 16 ? small_seqs : malloc(n * sizeof(*got));
    if (ops == NULL || lens == NULL || got == NULL) {
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    } else {
        for (size_t i = 0; i < n; i++) {
            ops[i] = requests[i]->body;
            lens[i] = requests[i]->body_len;
        }
        st = cio__pipeline_enqueue_prepared_many(p, call, ops, lens, n, got, may_wait);
    }
    if (ops != small_ops)
        free(ops);
    if (lens != small_lens)
        free(lens);
    if (got != seqs && got != small_seqs)
        free(got);
    return st;
}

cio_status_t cio_pipeline_enqueue_requests(cio_pipeline_t *p, const cio_request_t *const *requests,
                                           size_t n, uint64_t *seqs) {
    return enqueue_requests(p, requests, n, seqs, true, "enqueue_requests");
}

cio_status_t cio_pipeline_try_enqueue_requests(cio_pipeline_t *p,
                                               const cio_request_t *const *requests, size_t n,
                                               uint64_t *seqs) {
    return enqueue_requests(p, requests, n, seqs, false, "try_enqueue_requests");
}

/* A Pipelines message from its parts: built and prepared in one go, then queued. */
static cio_status_t enqueue_message(cio_pipeline_t *p, const cio_cdp_message_t *message,
                                    cio_cdp_stamp_t *stamp, uint64_t *seq, bool may_wait) {
    const cio_sink_t *sink = NULL;
    cio_status_t st = cio__pipeline_enter(p, "enqueue_message", &sink);
    if (st != CIO_OK)
        return st;
    if (sink->api != CIO_API_CDP)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "enqueue_message: the pipeline's sink is not the Pipelines API "
                         "(CIO_SINK_PIPELINES)");
    char storage[1024];
    cio_buf_t op = CIO_BUF_ON(storage, sizeof(storage));
    st = cio__cdp_build_message("enqueue_message", message, &op, stamp);
    if (st != CIO_OK) {
        cio__buf_free(&op);
        return st;
    }
    return cio__pipeline_enqueue_prepared(p, op, seq, may_wait);
}

cio_status_t cio_pipeline_enqueue_message(cio_pipeline_t *p, const cio_cdp_message_t *message,
                                          cio_cdp_stamp_t *stamp, uint64_t *seq) {
    return enqueue_message(p, message, stamp, seq, true);
}

cio_status_t cio_pipeline_try_enqueue_message(cio_pipeline_t *p, const cio_cdp_message_t *message,
                                              cio_cdp_stamp_t *stamp, uint64_t *seq) {
    return enqueue_message(p, message, stamp, seq, false);
}
