/*
 * The Pipelines API (customerio/cdp.h): one validator that also completes messages (messageId,
 * timestamp, context.library), single-message sends, typed helpers, /v1/batch, and the sink that
 * lets the delivery pipeline send messages instead of Track operations.
 */
#include "json_scan.h"
#include "pipeline_sink.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const message_types[] = {"identify", "track", "page", "screen",
                                            "group",    "alias", NULL};

/* "2026-11-23T13:45:07.123Z" */
static void iso8601_now(char out[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* A present id: a non-empty string without control characters (at most 150 bytes), or an
 * integer. Fills why and returns false otherwise. */
static bool id_value_ok(const cio_json_value_t *v, const char *field, char *why, size_t why_size) {
    if (v->kind == CIO_JSON_INTEGER)
        return true;
    char text[CIO_MAX_ID_BYTES + 2];
    size_t n = v->kind == CIO_JSON_STRING ? cio__jstring(v, text, sizeof(text)) : 0;
    if (n == 0)
        snprintf(why, why_size, "%s must be a non-empty string", field);
    else if (n > CIO_MAX_ID_BYTES)
        snprintf(why, why_size, "%s is longer than %d bytes", field, CIO_MAX_ID_BYTES);
    else if (cio__has_control_char(text)) /* the scanner refuses \u0000: text is all of it */
        snprintf(why, why_size, "%s contains a control character", field);
    else
        return true;
    return false;
}

/* What is wrong with a scanned message, in why; false when something is. */
static bool check_message(const cio_json_value_t *text, const cio_jindex_t *msg, char type[16],
                          char *why, size_t n) {
    if (text->kind != CIO_JSON_OBJECT) {
        snprintf(why, n, "a message must be a JSON object (got %s)", cio__jkind_name(text->kind));
        return false;
    }
    cio_json_value_t t, u, a, x;
    bool known = false;
    for (const char *const *k = message_types; cio__jindex_get(msg, "type", &t) && *k != NULL;
         k++) {
        if (cio__jstring_is(&t, *k)) {
            snprintf(type, 16, "%s", *k);
            known = true;
        }
    }
    if (!known) {
        snprintf(why, n, "type must be identify, track, page, screen, group or alias");
        return false;
    }
    const cio_json_value_t *user = cio__jindex_get(msg, "userId", &u);
    const cio_json_value_t *anon = cio__jindex_get(msg, "anonymousId", &a);
    if (user != NULL && !id_value_ok(user, "userId", why, n))
        return false;
    if (anon != NULL && !id_value_ok(anon, "anonymousId", why, n))
        return false;
    if (strcmp(type, "alias") == 0) {
        const cio_json_value_t *previous = cio__jindex_get(msg, "previousId", &x);
        if (user == NULL || previous == NULL) {
            snprintf(why, n, "alias needs previousId and userId");
            return false;
        }
        if (!id_value_ok(previous, "previousId", why, n))
            return false;
    } else if (user == NULL && anon == NULL) {
        snprintf(why, n, "userId or anonymousId is required");
        return false;
    }
    if (strcmp(type, "group") == 0) {
        const cio_json_value_t *group = cio__jindex_get(msg, "groupId", &x);
        if (group == NULL) {
            snprintf(why, n, "groupId is required");
            return false;
        }
        if (!id_value_ok(group, "groupId", why, n))
            return false;
    }
    const cio_json_value_t *event = cio__jindex_get(msg, "event", &x);
    if (strcmp(type, "track") == 0 &&
        (event == NULL || event->kind != CIO_JSON_STRING || event->len == 2)) {
        snprintf(why, n, "event is required (a non-empty string)");
        return false;
    }
    static const char *const objects[] = {"traits", "properties", "context", "integrations", NULL};
    for (const char *const *f = objects; *f != NULL; f++) {
        const cio_json_value_t *v = cio__jindex_get(msg, *f, &x);
        if (v != NULL && v->kind != CIO_JSON_OBJECT) {
            snprintf(why, n, "%s must be a JSON object (got %s)", *f, cio__jkind_name(v->kind));
            return false;
        }
    }
    static const char *const strings[] = {"timestamp", "messageId", "name", "category", NULL};
    for (const char *const *f = strings; *f != NULL; f++) {
        const cio_json_value_t *v = cio__jindex_get(msg, *f, &x);
        if (v != NULL && (v->kind != CIO_JSON_STRING || v->len == 2)) {
            snprintf(why, n, "%s must be a non-empty string", *f);
            return false;
        }
    }
    return true;
}

#define LIBRARY_JSON "{\"name\":\"customerio-native\",\"version\":\"" CIO_VERSION_STRING "\"}"

/*
 * Writes the message completed with what the core fills in (messageId, timestamp,
 * context.library) when absent: the new members first, then the caller's members byte for byte
 * (numbers keep their spelling; nothing is re-serialised).
 */
static bool complete_message(const cio_json_value_t *text, const cio_jindex_t *msg,
                             const char *ulid, cio_buf_t *out) {
    char now[32];
    cio_json_value_t v, library;
    bool ok = cio__buf_reserve(out, text->len + 160) && cio__buf_append(out, "{", 1);
    if (ok && !cio__jindex_get(msg, "messageId", &v))
        ok = cio__buf_appends(out, "\"messageId\":\"") && cio__buf_appends(out, ulid) &&
             cio__buf_appends(out, "\",");
    if (ok && !cio__jindex_get(msg, "timestamp", &v)) {
        iso8601_now(now);
        ok = cio__buf_appends(out, "\"timestamp\":\"") && cio__buf_appends(out, now) &&
             cio__buf_appends(out, "\",");
    }
    if (ok && !cio__jindex_get(msg, "context", &v))
        ok = cio__buf_appends(out, "\"context\":{\"library\":" LIBRARY_JSON "},");
    const char *cursor = NULL;
    cio_json_value_t key, value;
    bool first = true;
    while (ok && cio__jnext(text, &cursor, &key, &value)) {
        ok = (first || cio__buf_append(out, ",", 1)) && cio__buf_append(out, key.text, key.len) &&
             cio__buf_append(out, ":", 1);
        first = false;
        if (ok && value.kind == CIO_JSON_OBJECT && cio__jstring_is(&key, "context") &&
            !cio__jget(&value, "library", &library)) {
            bool empty = cio__jcount(&value) == 0;
            ok = cio__buf_appends(out, "{\"library\":" LIBRARY_JSON) &&
                 (empty || cio__buf_append(out, ",", 1)) &&
                 cio__buf_append(out, value.text + 1, value.len - 1); /* its members and '}' */
        } else if (ok) {
            ok = cio__buf_append(out, value.text, value.len);
        }
    }
    if (ok && first && out->data[out->len - 1] == ',')
        out->data[--out->len] = '\0'; /* the caller's object was empty */
    return ok && cio__buf_append(out, "}", 1);
}

/* Validates and completes one message into out; type (if non-NULL) gets its type. */
static cio_status_t prepare(const char *call, const char *label, const char *text, cio_buf_t *out,
                            char type[16]) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is NULL", call, label);
    size_t len = strlen(text);
    cio_json_value_t msg;
    cio_jindex_t members;
    cio_jerror_t err;
    if (!cio__json_scan_indexed(text, len, &msg, &members, &err)) {
        if (!cio__utf8_valid(text, len))
            return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, label);
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid JSON (column %zu: %s)", call,
                         label, err.column, err.text);
    }
    cio_json_value_t dup;
    if (msg.kind == CIO_JSON_OBJECT &&
        cio__jduplicate_key(&msg, &members, &dup)) /* which one would count? */
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s is not valid JSON (the member %.*s appears twice)", call, label,
                         (int)cio__utf8_cut(dup.text, dup.len, 64), dup.text);
    char why[160], t[16];
    if (!check_message(&msg, &members, t, why, sizeof(why)))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s: %s", call, label, why);
    if (type != NULL)
        memcpy(type, t, sizeof(t));
    char ulid[CIO_ULID_BUFSIZE];
    cio_json_value_t given;
    if (!cio__jindex_get(&members, "messageId", &given) && cio_ulid(ulid) != CIO_OK)
        return cio__fail(CIO_E_INTERNAL, "%s: cannot make a messageId", call);
    if (!complete_message(&msg, &members, ulid, out))
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    if (out->len > CIO_CDP_MAX_MESSAGE_BYTES)
        return cio__fail(
            CIO_E_PAYLOAD_TOO_LARGE,
            "%s: %s is %zu bytes, over the Pipelines API limit of %d bytes per message", call,
            label, out->len, CIO_CDP_MAX_MESSAGE_BYTES);
    return CIO_OK;
}

cio_status_t cio__cdp_prepare_message(const char *call, const char *label, const char *text,
                                      cio_buf_t *out) {
    return prepare(call, label, text, out, NULL);
}

cio_status_t cio_cdp_prepare(const char *message_json, char **prepared_json) {
    if (prepared_json == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "cdp_prepare: prepared_json is NULL");
    *prepared_json = NULL;
    cio_buf_t text = {0};
    cio_status_t st = prepare("cdp_prepare", "message", message_json, &text, NULL);
    if (st != CIO_OK) {
        cio__buf_free(&text);
        return st;
    }
    *prepared_json = text.data;
    return cio__ok();
}

static cio_status_t require_key(cio_client_t *client, const char *call) {
    if (client == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: client is NULL", call);
    if (client->cdp_api_key == NULL)
        return cio__fail(CIO_E_CONFIG,
                         "%s: cdp_api_key is missing (pass it or set CUSTOMERIO_CDP_API_KEY)",
                         call);
    return CIO_OK;
}

static cio_status_t send_message(cio_client_t *client, const char *call, const char *text) {
    cio_status_t st = require_key(client, call);
    if (st != CIO_OK)
        return st;
    cio_buf_t body = {0}, path = {0};
    char type[16];
    st = prepare(call, "message", text, &body, type);
    if (st == CIO_OK && !cio__buf_printf(&path, "/v1/%s", type))
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    if (st == CIO_OK) {
        cio_http_call_t http = {.method = "POST",
                                .path = path.data,
                                .body = body.data,
                                .body_len = body.len,
                                .auth = CIO_AUTH_CDP};
        st = cio__http_send(client, call, &http);
        cio__http_call_cleanup(&http);
    }
    cio__buf_free(&path);
    cio__buf_free(&body);
    return st;
}

cio_status_t cio_cdp_send(cio_client_t *client, const char *message_json) {
    return send_message(client, "cdp_send", message_json);
}

/* ---- typed helpers: build the message, then send it like any other ---- */

static cio_status_t set_json_member(const char *call, json_t *msg, const char *key,
                                    const char *field, const char *text) {
    if (text == NULL)
        return CIO_OK;
    cio_status_t st = cio__check_json_object(call, field, text);
    if (st != CIO_OK)
        return st;
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return json_object_set_new(msg, key, v) == 0
               ? CIO_OK
               : cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
}

static cio_status_t set_string(const char *call, json_t *msg, const char *key, const char *value) {
    if (value == NULL)
        return CIO_OK;
    cio_status_t st = cio__check_text(call, key, value);
    if (st == CIO_OK && json_object_set_new(msg, key, json_string(value)) != 0)
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    return st;
}

static cio_status_t build_and_send(cio_client_t *client, const char *call, const char *type,
                                   const char *user_id, const char *anonymous_id,
                                   const char *const fields[][3], const cio_cdp_options_t *o) {
    if (o != NULL && (o->version == 0 || o->version > CIO_CDP_OPTIONS_VERSION))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: options.version %u is not supported (use CIO_CDP_OPTIONS_INIT)", call,
                         o->version);
    json_t *msg = json_pack("{s:s}", "type", type);
    if (msg == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    cio_status_t st = set_string(call, msg, "userId", user_id);
    if (st == CIO_OK)
        st = set_string(call, msg, "anonymousId", anonymous_id);
    /* fields: {key, kind ("s" string, "j" JSON object), value} */
    for (size_t i = 0; st == CIO_OK && fields[i][0] != NULL; i++)
        st = fields[i][1][0] == 's'
                 ? set_string(call, msg, fields[i][0], fields[i][2])
                 : set_json_member(call, msg, fields[i][0],
                                   strcmp(fields[i][0], "traits") == 0 ? "traits" : "properties",
                                   fields[i][2]);
    if (st == CIO_OK && o != NULL) {
        st = set_string(call, msg, "messageId", o->message_id);
        if (st == CIO_OK)
            st = set_string(call, msg, "timestamp", o->timestamp);
        if (st == CIO_OK)
            st = set_json_member(call, msg, "context", "context", o->context_json);
        if (st == CIO_OK)
            st = set_json_member(call, msg, "integrations", "integrations", o->integrations_json);
        if (st == CIO_OK && (strcmp(type, "page") == 0 || strcmp(type, "screen") == 0))
            st = set_string(call, msg, "category", o->category);
    }
    cio_buf_t text = {0};
    if (st == CIO_OK && !cio__buf_append_json(&text, msg))
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    json_decref(msg);
    if (st == CIO_OK)
        st = send_message(client, call, text.data);
    cio__buf_free(&text);
    return st;
}

cio_status_t cio_cdp_identify(cio_client_t *client, const char *user_id, const char *anonymous_id,
                              const char *traits_json, const cio_cdp_options_t *options) {
    const char *const fields[][3] = {{"traits", "j", traits_json}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_identify", "identify", user_id, anonymous_id, fields,
                          options);
}

cio_status_t cio_cdp_track(cio_client_t *client, const char *user_id, const char *anonymous_id,
                           const char *event, const char *properties_json,
                           const cio_cdp_options_t *options) {
    cio_status_t st = cio__check_text("cdp_track", "event", event);
    if (st != CIO_OK)
        return st;
    const char *const fields[][3] = {
        {"event", "s", event}, {"properties", "j", properties_json}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_track", "track", user_id, anonymous_id, fields, options);
}

cio_status_t cio_cdp_page(cio_client_t *client, const char *user_id, const char *anonymous_id,
                          const char *name, const char *properties_json,
                          const cio_cdp_options_t *options) {
    const char *const fields[][3] = {
        {"name", "s", name}, {"properties", "j", properties_json}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_page", "page", user_id, anonymous_id, fields, options);
}

cio_status_t cio_cdp_screen(cio_client_t *client, const char *user_id, const char *anonymous_id,
                            const char *name, const char *properties_json,
                            const cio_cdp_options_t *options) {
    const char *const fields[][3] = {
        {"name", "s", name}, {"properties", "j", properties_json}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_screen", "screen", user_id, anonymous_id, fields, options);
}

cio_status_t cio_cdp_group(cio_client_t *client, const char *user_id, const char *anonymous_id,
                           const char *group_id, const char *traits_json,
                           const cio_cdp_options_t *options) {
    cio_status_t st = cio__check_id("cdp_group", "group_id", group_id);
    if (st != CIO_OK)
        return st;
    const char *const fields[][3] = {
        {"groupId", "s", group_id}, {"traits", "j", traits_json}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_group", "group", user_id, anonymous_id, fields, options);
}

cio_status_t cio_cdp_alias(cio_client_t *client, const char *previous_id, const char *user_id,
                           const cio_cdp_options_t *options) {
    cio_status_t st = cio__check_id("cdp_alias", "previous_id", previous_id);
    if (st == CIO_OK)
        st = cio__check_id("cdp_alias", "user_id", user_id);
    if (st != CIO_OK)
        return st;
    const char *const fields[][3] = {{"previousId", "s", previous_id}, {NULL, NULL, NULL}};
    return build_and_send(client, "cdp_alias", "alias", user_id, NULL, fields, options);
}

/* ---- batches and the pipeline's sink ---- */

static bool close_batch(cio_buf_t *body) {
    char now[32];
    iso8601_now(now);
    return cio__buf_printf(body, "],\"sentAt\":\"%s\"}", now);
}

const cio_sink_t cio__sink_cdp = {
    .name = "pipeline",
    .item_name = "message",
    .path = "/v1/batch",
    .auth = CIO_AUTH_CDP,
    .prefix = "{\"batch\":[",
    .suffix_reserve = 48,
    .finish_body = close_batch,
    .max_batch_bytes = CIO_CDP_MAX_BATCH_BYTES,
    .prepare = cio__cdp_prepare_message,
    .item_errors = cio__v2_item_errors,
};

cio_status_t cio_cdp_batch(cio_client_t *client, const char *const *messages_json, size_t count,
                           cio_batch_result_t **result) {
    if (result != NULL)
        *result = NULL;
    cio_status_t st = require_key(client, "cdp_batch");
    if (st != CIO_OK)
        return st;
    return cio__batch_send(client, "cdp_batch", &cio__sink_cdp, messages_json, count, result);
}
