/*
 * The Pipelines API (Data Pipelines, https://cdp.customer.io/v1): Segment-shaped messages.
 * Basic auth with the Pipelines key as user and an empty password (or the key as a Bearer
 * token). POST /identify, /track,
 * /page, /screen, /group, /alias take one message (32 KB at most); POST /batch takes
 * {"batch":[...], "sentAt"} (500 KB). Bad input answers 400 {"code","message"}. identify merges
 * traits into the profile that the App API reads back.
 */
#include "mock_internal.h"

#include <string.h>

#define CDP_MAX_MESSAGE ((size_t)32 * 1024)
#define CDP_MAX_BATCH ((size_t)500 * 1024)

static void reply_cdp_error(mock_response_t *res, unsigned int status, const char *message) {
    mock_reply_json(res, status,
                    json_pack("{s:s,s:s}", "code",
                              status == 401 ? "unauthorized" : "invalid_request", "message",
                              message));
}

static bool id_present(const json_t *v) {
    return (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
}

/* Checks one message like the API does; returns NULL or what is wrong. */
static const char *message_problem(const json_t *msg, const char *type_from_path) {
    static const char *const types[] = {"identify", "track", "page", "screen",
                                        "group",    "alias", NULL};
    if (!json_is_object(msg)) {
        return "a message must be an object";
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (type == NULL) {
        type = type_from_path;
    }
    bool known = false;
    for (const char *const *t = types; type != NULL && *t != NULL; t++) {
        known = known || strcmp(type, *t) == 0;
    }
    if (!known) {
        return "type must be identify, track, page, screen, group or alias";
    }
    bool user = id_present(json_object_get(msg, "userId"));
    bool anon = id_present(json_object_get(msg, "anonymousId"));
    if (strcmp(type, "alias") == 0) {
        if (!user || !id_present(json_object_get(msg, "previousId"))) {
            return "alias needs previousId and userId";
        }
    } else if (!user && !anon) {
        return "userId or anonymousId is required";
    }
    if (strcmp(type, "group") == 0 && !id_present(json_object_get(msg, "groupId"))) {
        return "groupId is required";
    }
    const json_t *event = json_object_get(msg, "event");
    if (strcmp(type, "track") == 0 && !(json_is_string(event) && json_string_length(event) > 0)) {
        return "event is required";
    }
    static const char *const objects[] = {"traits", "properties", "context", "integrations", NULL};
    for (const char *const *f = objects; *f != NULL; f++) {
        const json_t *v = json_object_get(msg, *f);
        if (v != NULL && !json_is_object(v)) {
            return "traits, properties, context and integrations must be objects";
        }
    }
    return NULL;
}

/* identify: the traits go into the profile the App API reads. */
static void remember(const mock_request_t *req, json_t *msg, const char *type) {
    const json_t *user = json_object_get(msg, "userId");
    json_t *traits = json_object_get(msg, "traits");
    if (strcmp(type, "identify") == 0 && json_is_string(user)) {
        json_t *empty = traits == NULL ? json_object() : NULL;
        mock_state_identify(req->mock, "id", json_string_value(user),
                            traits != NULL ? traits : empty);
        json_decref(empty);
    }
}

static void handle_message(const mock_request_t *req, mock_response_t *res) {
    const char *type = strrchr(req->path, '/') + 1;
    if (req->body_len > CDP_MAX_MESSAGE) {
        reply_cdp_error(res, 400, "a message is limited to 32 KB");
        return;
    }
    json_t *msg = mock_parse_object_body(req, res, true);
    if (msg == NULL) {
        return;
    }
    const char *problem = message_problem(msg, type);
    if (problem != NULL) {
        reply_cdp_error(res, 400, problem);
    } else {
        remember(req, msg, type);
        mock_reply_text(res, MHD_HTTP_OK, "{\"success\":true}");
    }
    json_decref(msg);
}

static void handle_batch(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body == NULL || !mock_require_array(req, res, body, "batch", "batch")) {
        json_decref(body);
        return;
    }
    size_t i;
    json_t *msg;
    json_array_foreach(json_object_get(body, "batch"), i, msg) {
        const char *problem = message_problem(msg, NULL);
        if (problem != NULL) {
            char text[200];
            snprintf(text, sizeof(text), "batch[%zu]: %s", i, problem);
            reply_cdp_error(res, 400, text);
            json_decref(body);
            return;
        }
    }
    json_array_foreach(json_object_get(body, "batch"), i, msg) {
        remember(req, msg, json_string_value(json_object_get(msg, "type")));
    }
    mock_reply_text(res, MHD_HTTP_OK, "{\"success\":true}");
    json_decref(body);
}

static const mock_route_t cdp_routes[] = {
    {"POST", "/identify", handle_message}, {"POST", "/track", handle_message},
    {"POST", "/page", handle_message},     {"POST", "/screen", handle_message},
    {"POST", "/group", handle_message},    {"POST", "/alias", handle_message},
    {"POST", "/batch", handle_batch},
};

const mock_route_table_t mock_routes_cdp = {
    .prefix = "/v1",
    .auth = MOCK_AUTH_CDP_BASIC,
    .max_body = CDP_MAX_BATCH,
    .reply_error = reply_cdp_error,
    .routes = cdp_routes,
    .n_routes = sizeof(cdp_routes) / sizeof(cdp_routes[0]),
};
