/* Checks of arguments every API family shares (validate.c): ids, text, event options, devices,
 * id types. Private. */
#ifndef CIO_VALIDATE_H
#define CIO_VALIDATE_H

#include "customerio/json.h"
#include "customerio/track.h"
#include "customerio/types.h"
#include "util/error.h"
#include "util/utf8.h"

#include <stddef.h>

/* Why an id of n bytes is not one, in the Track v2 operation validator's words, or NULL when it
 * is: "is empty", "is longer than 150 bytes" (CIO_MAX_ID_BYTES), "contains a control
 * character". text is read only when 0 < n <= CIO_MAX_ID_BYTES (then it is NUL-terminated);
 * UTF-8 is the caller's to check. The operation validator (every enqueue) and the v2 builders
 * judge ids with it, so a built operation and the same one written by hand are refused alike. */
static inline const char *cio__id_fault(const char *text, size_t n) {
    if (n == 0)
        return "is empty";
    if (n > CIO_MAX_ID_BYTES)
        return "is longer than 150 bytes";
    if (cio__has_control_char(text))
        return "contains a control character";
    return NULL;
}

/* Checks an id: non-NULL, non-empty, <= CIO_MAX_ID_BYTES, UTF-8, no control characters. */
cio_status_t cio__check_id(const char *call, const char *field, const char *value);
/* Checks a required text value: non-empty, UTF-8, no control characters, no length cap. */
cio_status_t cio__check_text(const char *call, const char *field, const char *value);
/* Checks optional event options: version, timestamp >= 0, id like any id. NULL is fine. */
cio_status_t cio__check_event_options(const char *call, const cio_event_options_t *options);
/* A device to add: its id (v1 device_id, v2 token), platform ios/android, last_used >= 0, and
 * optional attributes (a JSON object). */
cio_status_t cio__check_device(const char *call, const char *id_field, const char *device_id,
                               const char *platform, int64_t last_used,
                               const char *attributes_json);
/* A device's further members by name (fields_json: one JSON object, or NULL for none), spliced
 * into the device after its id and platform: scanned into *fields (left zeroed for NULL); must not
 * hold id_key (v1 "id", v2 "token") or "platform", which are the call's arguments. */
cio_status_t cio__check_device_fields(const char *call, const char *fields_json, const char *id_key,
                                      cio_json_value_t *fields);
/* "id", "email", "cio_id", or NULL for an unknown value. */
const char *cio__id_type_name(cio_id_type_t type);

#endif
