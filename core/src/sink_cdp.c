/*
 * The pipeline's Pipelines API sink: messages of cdp.h (validated and completed by cdp.c),
 * batched to /v1/batch with a "sentAt"; its answers read like Track v2's, plus strict mode's
 * {"code"}. A destination only: it knows nothing of the pipeline.
 */
#include "pipeline_sink.h"
#include "client_internal.h"
#include "track_v2_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool close_batch(cio_buf_t *body) {
    char now[CIO_CDP_TIMESTAMP_BUFSIZE];
    cio__cdp_timestamp_now(now);
    return cio__buf_printf(body, "],\"sentAt\":\"%s\"}", now);
}

/* A request refused as a whole: {"code": ...} (strict mode's 400), or an "errors" list like
 * Track v2's. */
static char *request_error(const char *response, size_t len) {
    json_t *root = json_loadb(response, len, 0, NULL);
    const char *code = json_string_value(json_object_get(root, "code"));
    char *out = code != NULL && !cio__has_control_char(code) ? strdup(code) : NULL;
    json_decref(root);
    return code != NULL ? out : cio__v2_request_error(response, len);
}

static cio_status_t check_client(cio_client_t *client, const char *call) {
    if (client == NULL || client->cdp_api_key == NULL)
        return cio__fail(CIO_E_CONFIG,
                         "%s: cdp_api_key is missing for the Pipelines sink (pass it or set "
                         "CUSTOMERIO_CDP_API_KEY)",
                         call);
    return CIO_OK;
}

const cio_sink_t cio__sink_cdp = {
    .version = CIO_SINK_VERSION,
    .name = "pipeline",
    .item_name = "message",
    .api = CIO_API_CDP,
    .path = "/v1/batch",
    .prefix = "{\"batch\":[",
    .suffix_reserve = 48,
    .finish_body = close_batch,
    .max_batch_bytes = CIO_CDP_MAX_BATCH_BYTES,
    .prepare = cio__cdp_prepare_message,
    .item_errors = cio__v2_item_errors,
    .request_error = request_error,
    .check_client = check_client,
};
