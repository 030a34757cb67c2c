/*
 * The Pipelines API (customerio/cdp.h): one validator that also completes messages (messageId,
 * timestamp, context.library), single-message sends, typed helpers, /v1/batch, and the sink that
 * lets the delivery pipeline send messages instead of Track operations.
 */
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
static bool id_value_ok(const json_t *v, const char *field, char *why, size_t why_size) {
    if (json_is_integer(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) == 0)
        snprintf(why, why_size, "%s must be a non-empty string", field);
    else if (json_string_length(v) > CIO_MAX_ID_BYTES)
        snprintf(why, why_size, "%s is longer than %d bytes", field, CIO_MAX_ID_BYTES);
    else if (cio__has_control_char(json_string_value(v)) ||
             strlen(json_string_value(v)) != json_string_length(v))
        snprintf(why, why_size, "%s contains a control character", field);
    else
        return true;
    return false;
}

/* What is wrong with a parsed message, in why; false when something is. */
static bool check_message(const json_t *msg, const char **type_out, char *why, size_t n) {
    if (!json_is_object(msg)) {
        snprintf(why, n, "a message must be a JSON object (got %s)", cio__json_type_name(msg));
        return false;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    bool known = false;
    for (const char *const *t = message_types; type != NULL && *t != NULL; t++)
        known = known || strcmp(type, *t) == 0;
    if (!known) {
        snprintf(why, n, "type must be identify, track, page, screen, group or alias");
        return false;
    }
    *type_out = type;
    const json_t *user = json_object_get(msg, "userId");
    const json_t *anon = json_object_get(msg, "anonymousId");
    if (user != NULL && !id_value_ok(user, "userId", why, n))
        return false;
    if (anon != NULL && !id_value_ok(anon, "anonymousId", why, n))
        return false;
    if (strcmp(type, "alias") == 0) {
        const json_t *previous = json_object_get(msg, "previousId");
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
        const json_t *group = json_object_get(msg, "groupId");
        if (group == NULL) {
            snprintf(why, n, "groupId is required");
            return false;
        }
        if (!id_value_ok(group, "groupId", why, n))
            return false;
    }
    const json_t *event = json_object_get(msg, "event");
    if (strcmp(type, "track") == 0 && (!json_is_string(event) || json_string_length(event) == 0)) {
        snprintf(why, n, "event is required (a non-empty string)");
        return false;
    }
    static const char *const objects[] = {"traits", "properties", "context", "integrations", NULL};
    for (const char *const *f = objects; *f != NULL; f++) {
        const json_t *v = json_object_get(msg, *f);
        if (v != NULL && !json_is_object(v)) {
            snprintf(why, n, "%s must be a JSON object (got %s)", *f, cio__json_type_name(v));
            return false;
        }
    }
    static const char *const strings[] = {"timestamp", "messageId", "name", "category", NULL};
    for (const char *const *f = strings; *f != NULL; f++) {
        const json_t *v = json_object_get(msg, *f);
        if (v != NULL && (!json_is_string(v) || json_string_length(v) == 0)) {
            snprintf(why, n, "%s must be a non-empty string", *f);
            return false;
        }
    }
    return true;
}

/* Adds what the core fills in: messageId, timestamp, context.library. */
static bool complete_message(json_t *msg) {
    char ulid[CIO_ULID_BUFSIZE], now[32];
    if (json_object_get(msg, "messageId") == NULL &&
        (cio_ulid(ulid) != CIO_OK || json_object_set_new(msg, "messageId", json_string(ulid))))
        return false;
    if (json_object_get(msg, "timestamp") == NULL) {
        iso8601_now(now);
        if (json_object_set_new(msg, "timestamp", json_string(now)) != 0)
            return false;
    }
    json_t *context = json_object_get(msg, "context");
    if (context == NULL) {
        context = json_object();
        if (json_object_set_new(msg, "context", context) != 0)
            return false;
    }
    if (json_object_get(context, "library") == NULL)
        return json_object_set_new(context, "library",
                                   json_pack("{s:s,s:s}", "name", "customerio-native", "version",
                                             CIO_VERSION_STRING)) == 0;
    return true;
}

/* Validates and completes one message into out; type (if non-NULL) gets its type. */
static cio_status_t prepare(const char *call, const char *label, const char *text, cio_buf_t *out,
                            char type[16]) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is NULL", call, label);
    size_t len = strlen(text);
    if (!cio__utf8_valid(text, len))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, label);
    json_error_t err;
    json_t *msg = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (msg == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid JSON (column %d: %s)", call,
                         label, err.column, err.text);
    char why[160];
    const char *t = NULL;
    cio_status_t st = CIO_OK;
    if (!check_message(msg, &t, why, sizeof(why)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s: %s", call, label, why);
    else if (type != NULL)
        snprintf(type, 16, "%s", t);
    if (st == CIO_OK && (!complete_message(msg) || !cio__buf_append_json(out, msg)))
        st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    json_decref(msg);
    if (st == CIO_OK && out->len > CIO_CDP_MAX_MESSAGE_BYTES)
        st = cio__fail(CIO_E_PAYLOAD_TOO_LARGE,
                       "%s: %s is %zu bytes, over the Pipelines API limit of %d bytes per message",
                       call, label, out->len, CIO_CDP_MAX_MESSAGE_BYTES);
    return st;
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
