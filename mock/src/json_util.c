/* Parsing and checking JSON request bodies for route handlers. */
#include "mock_internal.h"

#include <customerio/errors.h>

#include <stdio.h>

json_t *mock_parse_object_body(const mock_request_t *req, mock_response_t *res, bool required) {
    if (req->body_len == 0) {
        if (required) {
            mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "request body is required");
            return NULL;
        }
        return json_object();
    }
    json_error_t error;
    json_t *body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &error);
    if (body == NULL) {
        char message[300];
        snprintf(message, sizeof(message), "malformed JSON: %s (line %d, column %d)", error.text,
                 error.line, error.column);
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, message);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "request body must be a JSON object");
        return NULL;
    }
    return body;
}

bool mock_scan_object_body(const mock_request_t *req, mock_response_t *res, cio_json_value_t *body,
                           json_t **taken) {
    if (taken != NULL) {
        *taken = NULL;
    }
    if (req->body_len > 0 && cio_json_scan(req->body, req->body_len, body) == CIO_OK &&
        body->kind == CIO_JSON_OBJECT) {
        return true;
    }
    /* errors are rare: jansson parses only these bodies, to word the answer */
    json_t *parsed = mock_parse_object_body(req, res, true);
    if (parsed != NULL) { /* jansson took what the scanner refused (nesting over 512 levels) */
        if (taken != NULL) {
            *taken = parsed;
            return false;
        }
        json_decref(parsed);
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, cio_last_error()->message);
    }
    return false;
}

/* Looks up a field; answers 400 if it is missing. */
static json_t *required_field(const mock_request_t *req, mock_response_t *res, json_t *obj,
                              const char *field, const char *display_name) {
    json_t *value = json_object_get(obj, field);
    if (value == NULL || json_is_null(value)) {
        char message[200];
        snprintf(message, sizeof(message), "missing required field '%s'", display_name);
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, message);
    }
    return json_is_null(value) ? NULL : value;
}

static bool wrong_type(const mock_request_t *req, mock_response_t *res, const char *display_name,
                       const char *expected) {
    char message[200];
    snprintf(message, sizeof(message), "field '%s' must be %s", display_name, expected);
    mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, message);
    return false;
}

bool mock_require_string(const mock_request_t *req, mock_response_t *res, json_t *obj,
                         const char *field, const char *display_name) {
    json_t *value = required_field(req, res, obj, field, display_name);
    if (value == NULL) {
        return false;
    }
    if (!json_is_string(value) || json_string_length(value) == 0) {
        return wrong_type(req, res, display_name, "a non-empty string");
    }
    return true;
}

bool mock_require_object(const mock_request_t *req, mock_response_t *res, json_t *obj,
                         const char *field, const char *display_name) {
    json_t *value = required_field(req, res, obj, field, display_name);
    if (value == NULL) {
        return false;
    }
    return json_is_object(value) ? true : wrong_type(req, res, display_name, "an object");
}

bool mock_require_array(const mock_request_t *req, mock_response_t *res, json_t *obj,
                        const char *field, const char *display_name) {
    json_t *value = required_field(req, res, obj, field, display_name);
    if (value == NULL) {
        return false;
    }
    return json_is_array(value) ? true : wrong_type(req, res, display_name, "an array");
}
