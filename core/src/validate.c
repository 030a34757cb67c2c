/* Input validation shared by every call: ids, text values, UTF-8, control characters. */
#include "customerio/track.h"
#include "util/error.h"
#include "util/utf8.h"
#include "util/json_read.h"
#include "util/json_write.h"
#include "validate.h"

#include <stdint.h>
#include <string.h>

cio_status_t cio__check_text(const char *call, const char *field, const char *value) {
    if (value == NULL || value[0] == '\0')
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is empty", call, field);
    if (!cio__utf8_valid(value, strlen(value)))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, field);
    if (cio__has_control_char(value))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s contains a control character (CR, LF, tab or similar)", call,
                         field);
    return CIO_OK;
}

cio_status_t cio__check_id(const char *call, const char *field, const char *value) {
    cio_status_t st = cio__check_text(call, field, value);
    if (st != CIO_OK)
        return st;
    size_t len = strlen(value);
    if (len > CIO_MAX_ID_BYTES)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is %zu bytes long, over the limit of %d",
                         call, field, len, CIO_MAX_ID_BYTES);
    return CIO_OK;
}

cio_status_t cio__check_device_fields(const char *call, const char *fields_json, const char *id_key,
                                      cio_json_value_t *fields) {
    if (fields_json == NULL)
        return CIO_OK;
    cio_json_value_t member;
    cio_status_t st =
        cio__json_scan_argument(call, "fields", fields_json, strlen(fields_json), 0, fields, NULL);
    if (st == CIO_OK && fields->kind != CIO_JSON_OBJECT)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: fields must be a JSON object (got %s)", call,
                       cio__jkind_name(fields->kind));
    /* a second copy of an argument in the object would be ambiguous */
    if (st == CIO_OK &&
        (cio__jget(fields, id_key, &member) || cio__jget(fields, "platform", &member)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT,
                       "%s: fields must not hold %s or platform (pass them as arguments)", call,
                       id_key);
    return st;
}

const char *cio__id_type_name(cio_id_type_t type) {
    switch (type) {
    case CIO_ID_TYPE_ID:
    case CIO_ID_TYPE_ID_INTEGER:
        return "id";
    case CIO_ID_TYPE_EMAIL:
        return "email";
    case CIO_ID_TYPE_CIO_ID:
        return "cio_id";
    case CIO_ID_TYPE_IDENTIFIERS: /* not one id (track_v2_helpers.c) */
        break;
    }
    return NULL;
}

cio_status_t cio__check_event_options(const char *call, const cio_event_options_t *o) {
    if (o == NULL)
        return CIO_OK;
    if (o->version == 0 || o->version > CIO_EVENT_OPTIONS_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: options.version %u is not supported (use CIO_EVENT_OPTIONS_INIT)",
                         call, o->version);
    if (o->timestamp < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: timestamp is negative", call);
    return o->id != NULL ? cio__check_id(call, "id", o->id) : CIO_OK;
}

cio_status_t cio__check_device(const char *call, const char *id_field, const char *device_id,
                               const char *platform, int64_t last_used,
                               const char *attributes_json) {
    cio_status_t st = cio__check_id(call, id_field, device_id);
    if (st == CIO_OK &&
        (platform == NULL || (strcmp(platform, "ios") != 0 && strcmp(platform, "android") != 0)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: platform must be \"ios\" or \"android\"", call);
    if (st == CIO_OK && last_used < 0)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: last_used is negative", call);
    return st != CIO_OK ? st : cio__check_json_object(call, "attributes", attributes_json);
}
