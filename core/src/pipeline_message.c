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
