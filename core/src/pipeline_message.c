/*
 * cio_pipeline_enqueue_message (customerio/pipeline.h): a Pipelines message from its parts, built
 * by cdp.c's builder and queued through the pipeline's door for prepared items, on a pipeline
 * whose sink is the Pipelines API's. A composition of the two: neither the pipeline nor the sink
 * calls into this file.
 */
#include "pipeline_sink.h"

/* A Pipelines message from its parts: built and prepared in one go, then queued. */
static cio_status_t enqueue_message(cio_pipeline_t *p, const cio_cdp_message_t *message,
                                    cio_cdp_stamp_t *stamp, uint64_t *seq, bool may_wait) {
    const cio_sink_t *sink = NULL;
    cio_status_t st = cio__pipeline_enter(p, "enqueue_message", &sink);
    if (st != CIO_OK)
        return st;
    if (sink != &cio__sink_cdp)
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
