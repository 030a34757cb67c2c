/*
 * The route registry and the matcher. Each routes_*.c file exports one mock_route_table_t;
 * adding an API means adding that file and one line to route_tables below.
 */
#include "mock_internal.h"

#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const mock_route_table_t *const route_tables[] = {
    &mock_routes_track_v1,
    &mock_routes_track_push,  /* routes_track_v1.c: /push/events, the official gems' path */
    &mock_routes_unsubscribe, /* routes_track_v1.c: /unsubscribe at the Track host's root */
    &mock_routes_track_v2,
    &mock_routes_app,
    &mock_routes_cdp,
};
/* clang-format on */

#define N_ROUTE_TABLES (sizeof(route_tables) / sizeof(route_tables[0]))

/* A raw path segment captured by a "{...}" pattern segment. */
typedef struct segment {
    const char *start;
    size_t len;
} segment_t;

static size_t segment_length(const char *s) {
    const char *slash = strchr(s, '/');
    return slash != NULL ? (size_t)(slash - s) : strlen(s);
}

static bool path_has_prefix(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool mock_is_control_path(const char *path) {
    return path_has_prefix(path, MOCK_CONTROL_PREFIX);
}

/* Matches a raw path (relative to the table prefix) against a pattern, capturing wildcards. */
static bool match_pattern(const char *pattern, const char *path, segment_t *captures,
                          size_t *n_captures) {
    *n_captures = 0;
    while (*pattern != '\0' && *path != '\0') {
        if (*pattern != '/' || *path != '/') {
            return false;
        }
        pattern++;
        path++;
        size_t pattern_len = segment_length(pattern);
        size_t path_len = segment_length(path);
        if (pattern[0] == '{') {
            if (path_len == 0 || *n_captures == MOCK_MAX_PATH_PARAMS) {
                return false;
            }
            captures[*n_captures].start = path;
            captures[*n_captures].len = path_len;
            (*n_captures)++;
        } else if (pattern_len != path_len || strncmp(pattern, path, path_len) != 0) {
            return false;
        }
        pattern += pattern_len;
        path += path_len;
    }
    return *pattern == '\0' && *path == '\0';
}

static bool method_matches(const char *route_method, const char *method) {
    /* MHD strips the body of a HEAD answer, so HEAD can share the GET handler. */
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Lists the methods of the routes matching path, for the Allow header of a 405. */
static char *allowed_methods(const mock_route_table_t *table, const char *rel_path) {
    size_t cap = 64;
    char *allow = calloc(1, cap);
    segment_t caps[MOCK_MAX_PATH_PARAMS];
    size_t n_caps = 0;
    for (size_t i = 0; allow != NULL && i < table->n_routes; i++) {
        const mock_route_t *route = &table->routes[i];
        if (!match_pattern(route->pattern, rel_path, caps, &n_caps) ||
            strstr(allow, route->method) != NULL) {
            continue;
        }
        size_t need = strlen(allow) + strlen(route->method) + 3;
        if (need > cap) {
            char *bigger = realloc(allow, need);
            if (bigger == NULL) {
                free(allow);
                return NULL;
            }
            allow = bigger;
            cap = need;
        }
        if (allow[0] != '\0') {
            strcat(allow, ", ");
        }
        strcat(allow, route->method);
    }
    return allow;
}

static void free_params(mock_request_t *req) {
    for (size_t i = 0; i < req->n_params; i++) {
        free(req->params[i]);
        req->params[i] = NULL;
    }
    req->n_params = 0;
}

static bool decode_params(mock_request_t *req, const segment_t *caps, size_t n_caps) {
    for (size_t i = 0; i < n_caps; i++) {
        req->params[i] = mock_percent_decode(caps[i].start, caps[i].len);
        if (req->params[i] == NULL) {
            free_params(req);
            return false;
        }
        req->n_params = i + 1;
    }
    return true;
}

void mock_reply_error(const mock_request_t *req, mock_response_t *res, unsigned int status,
                      const char *message) {
    mock_error_fn reply = req->table != NULL ? req->table->reply_error : NULL;
    (reply != NULL ? reply : mock_reply_meta_error)(res, status, message);
}

void mock_dispatch_table(const mock_route_table_t *table, mock_request_t *req,
                         mock_response_t *res) {
    req->table = table;
    if (!mock_auth_ok(req->mock, table->auth, req->conn)) {
        mock_reply_error(req, res, MHD_HTTP_UNAUTHORIZED, "Unauthorized request");
        return;
    }
    const char *rel_path = req->path + strlen(table->prefix);
    const mock_route_t *route = NULL;
    bool path_known = false;
    segment_t caps[MOCK_MAX_PATH_PARAMS];
    size_t n_caps = 0;
    for (size_t i = 0; i < table->n_routes && route == NULL; i++) {
        if (match_pattern(table->routes[i].pattern, rel_path, caps, &n_caps)) {
            path_known = true;
            if (method_matches(table->routes[i].method, req->method)) {
                route = &table->routes[i];
            }
        }
    }
    if (route == NULL && path_known) {
        mock_reply_error(req, res, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        res->allow = allowed_methods(table, rel_path);
        return;
    }
    if (route == NULL) {
        mock_reply_error(req, res, MHD_HTTP_NOT_FOUND, "not found");
        return;
    }
    if (table->max_body != 0 && req->body_len > table->max_body) {
        mock_reply_error(req, res, MOCK_HTTP_TOO_LARGE, "request too large");
        return;
    }
    if (!decode_params(req, caps, n_caps)) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST, "invalid percent-encoding in path");
        return;
    }
    route->handler(req, res);
    free_params(req);
}

/* Whether some route of table matches path (any method). */
static bool table_has_path(const mock_route_table_t *table, const char *path) {
    const char *rel = path + strlen(table->prefix);
    segment_t captures[MOCK_MAX_PATH_PARAMS];
    size_t n;
    for (size_t i = 0; i < table->n_routes; i++) {
        if (match_pattern(table->routes[i].pattern, rel, captures, &n)) {
            return true;
        }
    }
    return false;
}

void mock_dispatch(mock_request_t *req, mock_response_t *res) {
    /* Several APIs share a prefix (App and Pipelines under /v1): the table with a route for the
     * path wins; with none, the first table of that prefix answers (404 in its error shape). */
    const mock_route_table_t *first = NULL;
    for (size_t i = 0; i < N_ROUTE_TABLES; i++) {
        if (!path_has_prefix(req->path, route_tables[i]->prefix)) {
            continue;
        }
        if (table_has_path(route_tables[i], req->path)) {
            mock_dispatch_table(route_tables[i], req, res);
            return;
        }
        if (first == NULL) {
            first = route_tables[i];
        }
    }
    if (first != NULL) {
        mock_dispatch_table(first, req, res);
        return;
    }
    req->table = NULL;
    mock_reply_meta_error(res, MHD_HTTP_NOT_FOUND, "not found");
}
