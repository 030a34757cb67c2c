/* The pipeline's Track v2 sink: operations of track_v2.h, batched to /api/v2/batch. */
#include "pipeline_sink.h"

static cio_status_t prepare_track_v2(const char *call, const char *op, cio_buf_t *out) {
    return cio__v2_prepare_operation(call, "operation", op, out);
}

const cio_sink_t cio__sink_track_v2 = {
    .name = "pipeline",
    .path = "/api/v2/batch",
    .auth = CIO_AUTH_TRACK,
    .prefix = "{\"batch\":[",
    .suffix = "]}",
    .max_batch_bytes = CIO_TRACK_V2_MAX_BATCH_BYTES,
    .prepare = prepare_track_v2,
    .item_errors = cio__v2_item_errors,
};
