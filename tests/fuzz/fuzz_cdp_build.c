/*
 * fuzz_cdp_build: cio_cdp_build (customerio/cdp.h), a Pipelines API message written from its
 * parts. The input is the parts, separated by 0x01 bytes, in the order of cio_cdp_message_t's
 * members (type, user_id, anonymous_id, previous_id, group_id, event, name, category, traits,
 * properties, context, integrations, timestamp, message_id); an empty part is NULL.
 *
 * - No crash, leak or undefined behaviour on any input.
 * - A failure is CIO_E_INVALID_ARGUMENT or CIO_E_PAYLOAD_TOO_LARGE with a message naming the
 *   call, and no output.
 * - What it accepts is one JSON object of at most 32 KB that cio_cdp_prepare() gives back byte
 *   for byte (the text rules accept what the parts rules accept, with nothing left to fill in);
 *   every string part comes out as its member, decoded to the same bytes; the stamp names
 *   exactly what the core filled in.
 */
#include "fuzz_util.h"

#include <customerio/customerio.h>

enum { PARTS = 14 };

static const char *const names[PARTS] = {
    "type",     "userId", "anonymousId", "previousId", "groupId",      "event",     "name",
    "category", "traits", "properties",  "context",    "integrations", "timestamp", "messageId"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstring(data, size);
    char *part[PARTS] = {0};
    char *cursor = text;
    for (int i = 0; i < PARTS && cursor != NULL; i++) {
        char *end = strchr(cursor, '\x01');
        if (end != NULL)
            *end = '\0';
        part[i] = *cursor != '\0' ? cursor : NULL;
        cursor = end != NULL ? end + 1 : NULL;
    }
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    const char **members[PARTS] = {
        &m.type,        &m.user_id,         &m.anonymous_id, &m.previous_id,
        &m.group_id,    &m.event,           &m.name,         &m.category,
        &m.traits_json, &m.properties_json, &m.context_json, &m.integrations_json,
        &m.timestamp,   &m.message_id};
    for (int i = 0; i < PARTS; i++)
        *members[i] = part[i];
    cio_cdp_stamp_t stamp;
    char *out = (char *)1;
    cio_status_t st = cio_cdp_build(&m, &out, &stamp);
    if (st != CIO_OK) {
        FUZZ_CHECK(out == NULL, "output on failure");
        FUZZ_CHECK(st == CIO_E_INVALID_ARGUMENT || st == CIO_E_PAYLOAD_TOO_LARGE, "status %s",
                   cio_status_str(st));
        const cio_error_t *e = cio_last_error();
        FUZZ_CHECK(e != NULL && e->status == st && strncmp(e->message, "cdp_build: ", 11) == 0,
                   "error: %s", e != NULL ? e->message : "(none)");
        free(text);
        return 0;
    }
    size_t len = strlen(out);
    FUZZ_CHECK(len <= CIO_CDP_MAX_MESSAGE_BYTES, "%zu bytes accepted", len);
    cio_json_value_t root, v;
    FUZZ_CHECK(cio_json_scan(out, len, &root) == CIO_OK && root.kind == CIO_JSON_OBJECT,
               "output is not a JSON object: %s", out);
    static const int strings[] = {0, 1, 2, 3, 4, 5, 6, 7, 12, 13};
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
        int i = strings[k];
        if (part[i] == NULL)
            continue;
        FUZZ_CHECK(cio_json_get(&root, names[i], &v) && v.kind == CIO_JSON_STRING, "no %s in %s",
                   names[i], out);
        size_t n = strlen(part[i]);
        char *decoded = malloc(n + 1);
        FUZZ_CHECK(decoded != NULL && cio_json_string(&v, decoded, n + 1) == n &&
                       memcmp(decoded, part[i], n) == 0,
                   "%s is not what was given: %s", names[i], out);
        free(decoded);
    }
    FUZZ_CHECK((part[13] == NULL) == (stamp.message_id[0] != '\0'), "stamp.message_id '%s'",
               stamp.message_id);
    FUZZ_CHECK((part[12] == NULL) == (stamp.timestamp[0] != '\0'), "stamp.timestamp '%s'",
               stamp.timestamp);
    char *again = NULL;
    st = cio_cdp_prepare(out, &again);
    FUZZ_CHECK(st == CIO_OK, "the text form refuses it (%s): %s", cio_last_error()->message, out);
    FUZZ_CHECK(strcmp(again, out) == 0, "not stable: %s -> %s", out, again);
    cio_free(again);
    cio_free(out);
    free(text);
    return 0;
}
