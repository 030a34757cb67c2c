/* Track API v1 (https://track.customer.io/api/v1): Basic auth, {"meta":{"error":...}} errors. */
#include "mock_internal.h"

#include <string.h>

#define TRACK_V1_MAX_BODY ((size_t)32 * 1024)

static void reply_ok(mock_response_t *res) {
    mock_reply_text(res, MHD_HTTP_OK, "{}");
}

/* Routes whose body may be empty, but must be a JSON object when present. */
static void handle_optional_body(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, false);
    if (body != NULL) {
        reply_ok(res);
    }
    json_decref(body);
}

/* PUT /customers/{id}: the path id is a cio_id when it reads "cio_<x>", an email address when it
 * has an '@', else an id; the attributes are merged into that person's profile (state.c). */
static void handle_identify(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL) {
        const char *id = req->params[0];
        if (strncmp(id, "cio_", 4) == 0 && id[4] != '\0') {
            mock_state_identify(req->mock, "cio_id", id + 4, body);
        } else {
            mock_state_identify(req->mock, strchr(id, '@') != NULL ? "email" : "id", id, body);
        }
        reply_ok(res);
    }
    json_decref(body);
}

/* POST /customers/{id}/events and POST /events (anonymous): a named event. */
static void handle_event(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_string(req, res, body, "name", "name")) {
        reply_ok(res);
    }
    json_decref(body);
}

static void handle_add_device(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_object(req, res, body, "device", "device") &&
        mock_require_string(req, res, json_object_get(body, "device"), "id", "device.id")) {
        reply_ok(res);
    }
    json_decref(body);
}

static void handle_merge(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_object(req, res, body, "primary", "primary") &&
        mock_require_object(req, res, body, "secondary", "secondary")) {
        reply_ok(res);
    }
    json_decref(body);
}

static void handle_push_event(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_string(req, res, body, "delivery_id", "delivery_id") &&
        mock_require_string(req, res, body, "event", "event")) {
        reply_ok(res);
    }
    json_decref(body);
}

static void handle_metric(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_string(req, res, body, "delivery_id", "delivery_id") &&
        mock_require_string(req, res, body, "metric", "metric")) {
        reply_ok(res);
    }
    json_decref(body);
}

static void handle_segment_members(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_array(req, res, body, "ids", "ids")) {
        reply_ok(res);
    }
    json_decref(body);
}

/* GET /accounts/region: the emulator is one region, answered as Customer.io's US one. */
static void handle_region(const mock_request_t *req, mock_response_t *res) {
    (void)req;
    mock_reply_text(res, MHD_HTTP_OK,
                    "{\"url\":\"https://track.customer.io\",\"region\":\"us\","
                    "\"environment_id\":1}");
}

/* POST /forms/{form_id}/submit {"data": {...}}. */
static void handle_form(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL && mock_require_object(req, res, body, "data", "data")) {
        reply_ok(res);
    }
    json_decref(body);
}

static const mock_route_t track_v1_routes[] = {
    {"PUT", "/customers/{id}", handle_identify},
    {"DELETE", "/customers/{id}", handle_optional_body},
    {"POST", "/customers/{id}/events", handle_event},
    {"POST", "/events", handle_event},
    {"PUT", "/customers/{id}/devices", handle_add_device},
    {"DELETE", "/customers/{id}/devices/{device_id}", handle_optional_body},
    {"POST", "/customers/{id}/suppress", handle_optional_body},
    {"POST", "/customers/{id}/unsuppress", handle_optional_body},
    {"POST", "/merge_customers", handle_merge},
    {"POST", "/push/events", handle_push_event},
    {"POST", "/metrics", handle_metric},
    {"POST", "/segments/{segment_id}/add_customers", handle_segment_members},
    {"POST", "/segments/{segment_id}/remove_customers", handle_segment_members},
    {"GET", "/accounts/region", handle_region},
    {"POST", "/forms/{form_id}/submit", handle_form},
};

const mock_route_table_t mock_routes_track_v1 = {
    .prefix = "/api/v1",
    .auth = MOCK_AUTH_TRACK_BASIC,
    .max_body = TRACK_V1_MAX_BODY,
    .reply_error = NULL,
    .routes = track_v1_routes,
    .n_routes = sizeof(track_v1_routes) / sizeof(track_v1_routes[0]),
};

/* The push metric where both official gems post it: /push/events on the track host, outside
 * /api/v1 (the OpenAPI-generated clients use /api/v1/push/events, served above). */
static const mock_route_t track_push_routes[] = {
    {"POST", "/events", handle_push_event},
};

const mock_route_table_t mock_routes_track_push = {
    .prefix = "/push",
    .auth = MOCK_AUTH_TRACK_BASIC,
    .max_body = TRACK_V1_MAX_BODY,
    .reply_error = NULL,
    .routes = track_push_routes,
    .n_routes = sizeof(track_push_routes) / sizeof(track_push_routes[0]),
};

/* POST /unsubscribe/{delivery_id} {"unsubscribe": true}: served from the Track host's root. */
static void handle_unsubscribe(const mock_request_t *req, mock_response_t *res) {
    json_t *body = mock_parse_object_body(req, res, true);
    if (body != NULL) {
        reply_ok(res);
    }
    json_decref(body);
}

static const mock_route_t unsubscribe_routes[] = {
    {"POST", "/{delivery_id}", handle_unsubscribe},
};

const mock_route_table_t mock_routes_unsubscribe = {
    .prefix = "/unsubscribe",
    .auth = MOCK_AUTH_TRACK_BASIC,
    .max_body = TRACK_V1_MAX_BODY,
    .reply_error = NULL,
    .routes = unsubscribe_routes,
    .n_routes = sizeof(unsubscribe_routes) / sizeof(unsubscribe_routes[0]),
};
