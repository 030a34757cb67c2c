/* Control endpoints under /_mock: no auth, never logged, never faulted. */
#include "mock_internal.h"

#include <string.h>

static void handle_health(const mock_request_t *req, mock_response_t *res) {
    (void)req;
    mock_reply_text(res, MHD_HTTP_OK, "{\"ok\":true}");
}

/* Answers with the request log as text (malloc'd by the log; NULL when out of memory). */
static void reply_log(const mock_request_t *req, mock_response_t *res, char *text) {
    if (text == NULL) {
        mock_reply_error(req, res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    mock_reply_empty(res, MHD_HTTP_OK);
    res->body = text;
    res->body_len = strlen(text);
}

static void handle_get_requests(const mock_request_t *req, mock_response_t *res) {
    reply_log(req, res, mock_log_dump(req->mock));
}

static void handle_drain_requests(const mock_request_t *req, mock_response_t *res) {
    reply_log(req, res, mock_log_drain(req->mock));
}

static void handle_request_stats(const mock_request_t *req, mock_response_t *res) {
    mock_reply_json(res, MHD_HTTP_OK, mock_log_stats(req->mock));
}

static void handle_clear_requests(const mock_request_t *req, mock_response_t *res) {
    mock_log_clear(req->mock);
    mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
}

static void handle_add_fault(const mock_request_t *req, mock_response_t *res) {
    mock_fault_t fault;
    char reason[200];
    if (!mock_fault_parse(req->body, req->body_len, &fault, reason, sizeof(reason))) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, reason);
        return;
    }
    if (!mock_faults_add(req->mock, &fault)) {
        mock_fault_release(&fault);
        mock_reply_error(req, res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
}

static void handle_get_faults(const mock_request_t *req, mock_response_t *res) {
    mock_reply_json(res, MHD_HTTP_OK, mock_faults_to_json(req->mock));
}

static void handle_clear_faults(const mock_request_t *req, mock_response_t *res) {
    mock_faults_clear(req->mock);
    mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
}

static void handle_set_config(const mock_request_t *req, mock_response_t *res) {
    char reason[200];
    if (!mock_ambient_set(req->mock, req->body, req->body_len, reason, sizeof(reason))) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, reason);
        return;
    }
    mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
}

static void handle_get_config(const mock_request_t *req, mock_response_t *res) {
    mock_reply_json(res, MHD_HTTP_OK, mock_ambient_to_json(req->mock));
}

static void handle_get_rate(const mock_request_t *req, mock_response_t *res) {
    if (req->mock->meter == NULL) {
        mock_reply_error(req, res, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    mock_reply_json(res, MHD_HTTP_OK, mock_meter_to_json(req->mock->meter));
}

static void handle_clear_rate(const mock_request_t *req, mock_response_t *res) {
    if (req->mock->meter != NULL)
        mock_meter_reset(req->mock->meter);
    mock_reply_empty(res, MHD_HTTP_NO_CONTENT);
}

static const mock_route_t control_routes[] = {
    {"GET", "/rate", handle_get_rate},
    {"DELETE", "/rate", handle_clear_rate},
    {"GET", "/health", handle_health},
    {"GET", "/requests", handle_get_requests},
    {"DELETE", "/requests", handle_clear_requests},
    {"POST", "/requests/drain", handle_drain_requests},
    {"GET", "/requests/stats", handle_request_stats},
    {"GET", "/faults", handle_get_faults},
    {"POST", "/faults", handle_add_fault},
    {"DELETE", "/faults", handle_clear_faults},
    {"POST", "/webhooks", mock_handle_webhook_emit},
    {"GET", "/config", handle_get_config},
    {"POST", "/config", handle_set_config},
};

const mock_route_table_t mock_routes_control = {
    .prefix = MOCK_CONTROL_PREFIX,
    .auth = MOCK_AUTH_NONE,
    .max_body = 0,
    .reply_error = NULL,
    .routes = control_routes,
    .n_routes = sizeof(control_routes) / sizeof(control_routes[0]),
};
