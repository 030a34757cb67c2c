/*
 * Request values (customerio/request.h) and the synchronous and asynchronous executors. The
 * pipeline's executor is cio_pipeline_enqueue_request() in pipeline.c.
 */
#include "request_internal.h"
#include "client_internal.h"
#include "http.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>

cio_status_t cio__request_begin(const char *call, cio_request_t **out) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: out is NULL", call);
    *out = NULL;
    return CIO_OK;
}

/* One allocation per request: the struct, then its path and body, each NUL-terminated; the
 * builders' buffers (often on their stack) are copied in and freed. */
cio_status_t cio__request_make(cio_request_t **out, const char *call, cio_api_t api,
                               cio_request_kind_t kind, const char *method, cio_buf_t *path,
                               cio_buf_t *body, bool oom) {
    bool has_body = body != NULL && body->data != NULL;
    size_t path_len = path->data != NULL ? path->len : 0;
    size_t body_len = has_body ? body->len : 0;
    cio_request_t *r = oom || path->data == NULL
                           ? NULL
                           : malloc(sizeof(*r) + path_len + 1 + (has_body ? body_len + 1 : 0));
    if (r != NULL) {
        char *p = (char *)(r + 1);
        memcpy(p, path->data, path_len + 1);
        *r = (cio_request_t){.api = api, .kind = kind, .call = call, .method = method, .path = p};
        if (has_body) {
            r->body = p + path_len + 1;
            memcpy(r->body, body->data, body_len + 1);
            r->body_len = body_len;
        }
    }
    cio__buf_free(path);
    if (body != NULL)
        cio__buf_free(body);
    if (r == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    *out = r;
    return cio__ok();
}

/* Our own static spelling of method (a request never points at the caller's memory), or NULL
 * when it is not one the APIs use. */
static const char *known_method(const char *m) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    for (size_t i = 0; m != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(methods[i], m) == 0)
            return methods[i];
    return NULL;
}

cio_status_t cio_request_new(cio_api_t api, const char *method, const char *path, const char *body,
                             size_t body_len, cio_request_t **out) {
    static const char call[] = "request_new";
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    if (api != CIO_API_TRACK && api != CIO_API_APP && api != CIO_API_CDP)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: api is not track, app or cdp", call);
    const char *own_method = known_method(method);
    if (own_method == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: method is not GET, POST, PUT or DELETE",
                         call);
    if (path == NULL || path[0] != '/' || cio__has_control_char(path) ||
        !cio__utf8_valid(path, strlen(path)))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: path must start with '/' and hold no control character", call);
    if (body != NULL && !cio__utf8_valid(body, body_len))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: body is not valid UTF-8", call);
    /* the method string is kept as one of ours: a request never points at the caller's memory */
    cio_buf_t p = {0}, b = {0};
    bool ok = cio__buf_appends(&p, path) && (body == NULL || cio__buf_append(&b, body, body_len));
    return cio__request_make(out, call, api, CIO_REQUEST_PLAIN, own_method, &p,
                             body != NULL ? &b : NULL, !ok);
}

cio_api_t cio_request_api(const cio_request_t *request) {
    return request != NULL ? request->api : CIO_API_TRACK;
}

const char *cio_request_method(const cio_request_t *request) {
    return request != NULL ? request->method : NULL;
}

const char *cio_request_path(const cio_request_t *request) {
    return request != NULL ? request->path : NULL;
}

const char *cio_request_body(const cio_request_t *request, size_t *len) {
    if (len != NULL)
        *len = request != NULL ? request->body_len : 0;
    return request != NULL ? request->body : NULL;
}

void cio_request_free(cio_request_t *request) {
    free(request); /* path and body live in the same block (cio__request_make) */
}

static cio_auth_t auth_of(cio_api_t api) {
    return api == CIO_API_APP ? CIO_AUTH_APP : api == CIO_API_CDP ? CIO_AUTH_CDP : CIO_AUTH_TRACK;
}

/* Both executors: synchronous when queue is NULL. */
static cio_status_t send_to(cio_client_t *client, const cio_request_t *request, cio_queue_t *queue,
                            uint64_t token, char **response_json) {
    if (response_json != NULL)
        *response_json = NULL;
    if (request == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "request_send: request is NULL");
    if (client == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: client is NULL", request->call);
    if (request->api == CIO_API_TRACK) { /* App and Pipelines keys are checked by the engine */
        cio_status_t st = cio__require_track_credentials(client, request->call);
        if (st != CIO_OK)
            return st;
    }
    cio_http_call_t http = {.method = request->method,
                            .path = request->path,
                            .body = request->body,
                            .body_len = request->body_len,
                            .auth = auth_of(request->api)};
    cio_status_t st = cio__http_exchange(client, request->call, &http, queue, token);
    st = cio__http_copy_response(request->call, &http, st, response_json);
    cio__http_call_cleanup(&http);
    return st;
}

cio_status_t cio_request_send(cio_client_t *client, const cio_request_t *request,
                              char **response_json) {
    return send_to(client, request, NULL, 0, response_json);
}

cio_status_t cio_request_send_async(cio_client_t *client, const cio_request_t *request,
                                    cio_queue_t *queue, uint64_t token) {
    if (queue == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: queue is NULL",
                         request != NULL ? request->call : "request_send_async");
    if (request == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "request_send_async: request is NULL");
    return send_to(client, request, queue, token, NULL);
}

/*
 * The per-thread switch of cio_async_next() (deprecated): read only by the classic calls, here
 * and through cio__async_take(). It remembers the failure epoch it was armed in (util/error.c): a
 * failure since then voids it, which keeps "a failing call clears it" without errors.c calling
 * up into this file.
 */
static __thread struct {
    cio_queue_t *queue;
    uint64_t token;
    unsigned long epoch;
} async_next;

cio_status_t cio_async_next(cio_queue_t *queue, uint64_t token) {
    if (queue == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "async_next: queue is NULL");
    async_next.queue = queue;
    async_next.token = token;
    async_next.epoch = cio__fail_epoch();
    return CIO_OK;
}

cio_queue_t *cio__async_take(uint64_t *token) {
    cio_queue_t *q = async_next.epoch == cio__fail_epoch() ? async_next.queue : NULL;
    *token = async_next.token;
    async_next.queue = NULL;
    return q;
}

cio_status_t cio__request_run(cio_client_t *client, cio_status_t st, cio_request_t *request,
                              char **response_json) {
    if (response_json != NULL)
        *response_json = NULL;
    if (st == CIO_OK) {
        uint64_t token;
        cio_queue_t *queue = cio__async_take(&token);
        st = send_to(client, request, queue, token, response_json);
    }
    cio_request_free(request);
    return st;
}

cio_status_t cio__request_run_builder(cio_client_t *client,
                                      cio_status_t (*builder)(cio_request_t **),
                                      char **response_json) {
    cio_request_t *request = NULL;
    cio_status_t st = builder(&request);
    return cio__request_run(client, st, request, response_json);
}
