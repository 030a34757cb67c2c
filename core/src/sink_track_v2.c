/* The pipeline's Track v2 sink: operations of track_v2.h, batched to /api/v2/batch. */
#include "pipeline_sink.h"

static bool close_batch(cio_buf_t *body) {
    return cio__buf_appends(body, "]}");
}

const cio_sink_t cio__sink_track_v2 = {
    .name = "pipeline",
    .item_name = "operation",
    .path = "/api/v2/batch",
    .auth = CIO_AUTH_TRACK,
    .prefix = "{\"batch\":[",
    .suffix_reserve = 2,
    .finish_body = close_batch,
    .max_batch_bytes = CIO_TRACK_V2_MAX_BATCH_BYTES,
    .prepare = cio__v2_prepare_operation,
    .item_errors = cio__v2_item_errors,
};
