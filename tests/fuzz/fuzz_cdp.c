/*
 * fuzz_cdp: cio_cdp_prepare (customerio/cdp.h), the validation and completion of Pipelines API
 * messages (messageId, timestamp, context.library filled in).
 *
 * - No crash, leak or undefined behaviour on any input.
 * - A failure is CIO_E_INVALID_ARGUMENT or CIO_E_PAYLOAD_TOO_LARGE with a message naming the
 *   call, and no output.
 * - What it accepts comes out as one JSON object (cio_json_scan) of at most 32 KB with a
 *   non-empty "messageId" and "timestamp" and a "context" object holding "library"; preparing
 *   that again gives it back byte for byte (nothing left to fill in).
 */
#include "fuzz_util.h"

#include <customerio/customerio.h>

static void require_string(const cio_json_value_t *obj, const char *key, const char *out) {
    cio_json_value_t v;
    FUZZ_CHECK(cio_json_get(obj, key, &v) && v.kind == CIO_JSON_STRING && v.len > 2, "no %s in %s",
               key, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *msg = fuzz_cstring(data, size);
    char *out = (char *)1;
    cio_status_t st = cio_cdp_prepare(msg, &out);
    if (st != CIO_OK) {
        FUZZ_CHECK(out == NULL, "output on failure");
        FUZZ_CHECK(st == CIO_E_INVALID_ARGUMENT || st == CIO_E_PAYLOAD_TOO_LARGE, "status %s",
                   cio_status_str(st));
        const cio_error_t *e = cio_last_error();
        FUZZ_CHECK(e != NULL && e->status == st && strncmp(e->message, "cdp_prepare: ", 13) == 0,
                   "error: %s", e != NULL ? e->message : "(none)");
        free(msg);
        return 0;
    }
    FUZZ_CHECK(out != NULL, "no output on success");
    size_t len = strlen(out);
    FUZZ_CHECK(len <= CIO_CDP_MAX_MESSAGE_BYTES, "%zu bytes accepted", len);
    cio_json_value_t root, context, v;
    FUZZ_CHECK(cio_json_scan(out, len, &root) == CIO_OK, "output is not JSON: %s", out);
    FUZZ_CHECK(root.kind == CIO_JSON_OBJECT, "output is not an object: %s", out);
    require_string(&root, "type", out);
    require_string(&root, "messageId", out);
    require_string(&root, "timestamp", out);
    FUZZ_CHECK(cio_json_get(&root, "context", &context) && context.kind == CIO_JSON_OBJECT &&
                   cio_json_get(&context, "library", &v),
               "no context.library in %s", out);
    char *again = NULL;
    st = cio_cdp_prepare(out, &again);
    FUZZ_CHECK(st == CIO_OK, "its own output is refused (%s): %s", cio_last_error()->message, out);
    FUZZ_CHECK(strcmp(again, out) == 0, "not stable: %s -> %s", out, again);
    cio_free(again);
    cio_free(out);
    free(msg);
    return 0;
}
