/*
 * fuzz_v2: cio_v2_prepare (customerio/track_v2.h), the validation and completion every Track v2
 * operation goes through before it is sent or queued.
 *
 * - No crash, leak or undefined behaviour on any input.
 * - A failure is CIO_E_INVALID_ARGUMENT or CIO_E_PAYLOAD_TOO_LARGE with a message naming the
 *   call, and no output.
 * - What it accepts is one JSON object (cio_json_scan), at most 32 KB, with an "id" when it is
 *   an event; preparing it again gives it back byte for byte (it now has its id), and an
 *   operation that needed no id comes out exactly as it went in.
 */
#include "fuzz_util.h"

#include <customerio/customerio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *op = fuzz_cstring(data, size);
    char *out = (char *)1;
    cio_status_t st = cio_v2_prepare(op, &out);
    if (st != CIO_OK) {
        FUZZ_CHECK(out == NULL, "output on failure");
        FUZZ_CHECK(st == CIO_E_INVALID_ARGUMENT || st == CIO_E_PAYLOAD_TOO_LARGE, "status %s",
                   cio_status_str(st));
        const cio_error_t *e = cio_last_error();
        FUZZ_CHECK(e != NULL && e->status == st && strncmp(e->message, "v2_prepare: ", 12) == 0,
                   "error: %s", e != NULL ? e->message : "(none)");
        free(op);
        return 0;
    }
    FUZZ_CHECK(out != NULL, "no output on success");
    size_t len = strlen(out);
    FUZZ_CHECK(len <= CIO_TRACK_V2_MAX_OPERATION_BYTES, "%zu bytes accepted", len);
    cio_json_value_t root, v;
    FUZZ_CHECK(cio_json_scan(out, len, &root) == CIO_OK, "output is not JSON: %s", out);
    FUZZ_CHECK(root.kind == CIO_JSON_OBJECT, "output is not an object: %s", out);
    bool has_id = cio_json_get(&root, "id", &v);
    FUZZ_CHECK(cio_json_get(&root, "action", &v), "no action in %s", out);
    bool is_event = cio_json_string_is(&v, "event") || cio_json_string_is(&v, "screen") ||
                    cio_json_string_is(&v, "page");
    FUZZ_CHECK(has_id || !is_event, "an event without an id: %s", out);
    if (strcmp(out, op) != 0) {
        /* only an event without an id may change: an id is added, nothing else */
        cio_json_value_t given;
        FUZZ_CHECK(cio_json_scan(op, strlen(op), &given) == CIO_OK, "accepted non-JSON");
        FUZZ_CHECK(is_event && !cio_json_get(&given, "id", &v), "changed: %s -> %s", op, out);
    }
    char *again = NULL;
    st = cio_v2_prepare(out, &again);
    FUZZ_CHECK(st == CIO_OK, "its own output is refused (%s): %s", cio_last_error()->message, out);
    FUZZ_CHECK(strcmp(again, out) == 0, "not stable: %s -> %s", out, again);
    cio_free(again);
    cio_free(out);
    free(op);
    return 0;
}
