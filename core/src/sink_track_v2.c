/* The pipeline's Track v2 sink: operations of track_v2.h, batched to /api/v2/batch. */
#include "pipeline_sink.h"
#include "client_internal.h"
#include "track_v2_internal.h"
#include "util/buf.h"
#include "util/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool close_batch(cio_buf_t *body) {
    return cio__buf_appends(body, "]}");
}

char *cio__v2_request_error(const char *response, size_t len) {
    json_t *root = json_loadb(response, len, 0, NULL);
    const char *code = json_string_value(
        json_object_get(json_array_get(json_object_get(root, "errors"), 0), "reason"));
    char *out = code != NULL && !cio__has_control_char(code) ? strdup(code) : NULL;
    json_decref(root);
    return out;
}

static cio_status_t check_client(cio_client_t *client, const char *call) {
    return cio__require_track_credentials(client, call);
}

const cio_sink_t cio__sink_track_v2 = {
    .version = CIO_SINK_VERSION,
    .name = "pipeline",
    .item_name = "operation",
    .api = CIO_API_TRACK,
    .path = "/api/v2/batch",
    .prefix = "{\"batch\":[",
    .suffix_reserve = 2,
    .finish_body = close_batch,
    .max_batch_bytes = CIO_TRACK_V2_MAX_BATCH_BYTES,
    .prepare = cio__v2_prepare_operation,
    .item_errors = cio__v2_item_errors,
    .request_error = cio__v2_request_error,
    .check_client = check_client,
};
