/*
 * A synchronous HTTP exchange: build the transfer, submit it to the client's engine, wait for
 * its final outcome (the engine retries), and turn that outcome into a status and an error
 * message that names the call.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* Counts down the transfers a caller waits for. */
typedef struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t pending;
} sync_wait_t;

static void on_sync_done(cio_transfer_t *t) {
    sync_wait_t *w = t->user_data;
    pthread_mutex_lock(&w->lock);
    if (--w->pending == 0)
        pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static cio_status_t status_for_http(long http_status) {
    if (http_status == 401 || http_status == 403)
        return CIO_E_AUTH;
    if (http_status == 400 || http_status == 422)
        return CIO_E_BAD_REQUEST;
    if (http_status == 404)
        return CIO_E_NOT_FOUND;
    if (http_status == 413)
        return CIO_E_PAYLOAD_TOO_LARGE;
    if (http_status == 429)
        return CIO_E_RATE_LIMITED;
    if (http_status >= 500)
        return CIO_E_SERVER;
    return CIO_E_HTTP;
}

static const char *hint_for_http(long http_status) {
    switch (http_status) {
    case 401:
    case 403:
        return " (check the credentials and the region)";
    case 413:
        return " (request body too large)";
    case 429:
        return " (rate limited)";
    default:
        return "";
    }
}

/* The server's explanation, if its body has one in a shape Customer.io uses. */
static void server_reason(const char *body, size_t len, char *out, size_t out_size) {
    out[0] = '\0';
    if (body == NULL || len == 0)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *reason = NULL;
    if (root != NULL) {
        json_t *meta = json_object_get(root, "meta");
        json_t *errors = json_object_get(root, "errors");
        if (json_is_string(json_object_get(meta, "error")))
            reason = json_string_value(json_object_get(meta, "error"));
        else if (json_is_string(json_object_get(root, "message")))
            reason = json_string_value(json_object_get(root, "message"));
        else if (json_is_array(errors) && json_array_size(errors) > 0) {
            json_t *first = json_array_get(errors, 0);
            reason = json_is_string(json_object_get(first, "message"))
                         ? json_string_value(json_object_get(first, "message"))
                         : json_string_value(json_object_get(first, "reason"));
        }
    }
    if (reason != NULL && !cio__has_control_char(reason))
        snprintf(out, out_size, ": %s", reason);
    json_decref(root);
}

static cio_status_t outcome(const char *name, const cio_transfer_t *t) {
    const cio_http_call_t *call = t->call;
    const char *plural = call->attempts == 1 ? "" : "s";
    if (t->curl_code == -1)
        return cio__fail_http(CIO_E_CLOSED, 0, NULL, 0, call->attempts,
                              "%s: the client was closed before the request completed", name);
    if (t->curl_code != CURLE_OK) {
        const char *detail =
            t->curl_error[0] ? t->curl_error : curl_easy_strerror((CURLcode)t->curl_code);
        cio_status_t st = t->curl_code == CURLE_OPERATION_TIMEDOUT ? CIO_E_TIMEOUT : CIO_E_NETWORK;
        if (t->curl_code == CURLE_URL_MALFORMAT || t->curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            st = CIO_E_CONFIG;
        if (t->curl_code == CURLE_OUT_OF_MEMORY)
            st = CIO_E_NOMEM;
        return cio__fail_http(st, (int)call->http_status, call->response, call->response_len,
                              call->attempts, "%s: %s after %d attempt%s: %s", name,
                              st == CIO_E_TIMEOUT ? "timed out" : "request failed", call->attempts,
                              plural, detail);
    }
    if (call->http_status >= 200 && call->http_status < 300)
        return cio__ok();
    char reason[256];
    server_reason(call->response, call->response_len, reason, sizeof(reason));
    return cio__fail_http(status_for_http(call->http_status), (int)call->http_status,
                          call->response, call->response_len, call->attempts,
                          "%s: HTTP %ld%s after %d attempt%s%s", name, call->http_status,
                          hint_for_http(call->http_status), call->attempts, plural, reason);
}

static struct curl_slist *build_headers(const cio_client_t *c, const cio_http_call_t *call) {
    struct curl_slist *h = NULL, *next;
#define ADD(line)                                                                                  \
    do {                                                                                           \
        next = curl_slist_append(h, line);                                                         \
        if (next == NULL)                                                                          \
            goto oom;                                                                              \
        h = next;                                                                                  \
    } while (0)
    ADD("Accept: application/json");
    ADD("Expect:"); /* no 100-continue round trip before bodies */
    if (call->body != NULL)
        ADD("Content-Type: application/json");
    else
        ADD("Content-Type:"); /* a body-less POST would otherwise say form-urlencoded */
    if (call->auth == CIO_AUTH_APP) {
        cio_buf_t line = {0};
        if (!cio__buf_printf(&line, "Authorization: Bearer %s", c->app_api_key))
            goto oom;
        next = curl_slist_append(h, line.data);
        cio__buf_free(&line);
        if (next == NULL)
            goto oom;
        h = next;
    }
    return h;
#undef ADD
oom:
    curl_slist_free_all(h);
    return NULL;
}

/* Fills in a transfer for call; false when out of memory (t is then cleaned up). */
static bool prepare_transfer(cio_client_t *client, cio_http_call_t *call, cio_transfer_t *t,
                             sync_wait_t *w) {
    memset(t, 0, sizeof(*t));
    call->http_status = 0;
    call->response = NULL;
    call->response_len = 0;
    call->attempts = 0;
    cio_buf_t url = {0};
    const char *base = call->auth == CIO_AUTH_APP ? client->app_base : client->track_base;
    if (!cio__buf_appends(&url, base) || !cio__buf_appends(&url, call->path)) {
        cio__buf_free(&url);
        return false;
    }
    t->url = url.data;
    t->headers = build_headers(client, call);
    if (t->headers == NULL) {
        cio__buf_free(&url);
        return false;
    }
    t->call = call;
    t->on_done = on_sync_done;
    t->user_data = w;
    return true;
}

static void release_transfer(cio_transfer_t *t) {
    curl_slist_free_all(t->headers);
    free(t->url);
}

cio_status_t cio__http_send_many(cio_client_t *client, const char *name, cio_http_call_t *calls,
                                 size_t n, cio_status_t *statuses, char **messages) {
    for (size_t i = 0; i < n; i++) {
        statuses[i] = CIO_OK;
        if (messages != NULL)
            messages[i] = NULL;
        if (calls[i].auth == CIO_AUTH_APP && client->app_api_key == NULL)
            return cio__fail(CIO_E_CONFIG,
                             "%s: app_api_key is missing (pass it or set CUSTOMERIO_APP_API_KEY)",
                             name);
    }
    cio_transfer_t *transfers = calloc(n, sizeof(*transfers));
    if (transfers == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", name);
    sync_wait_t w = {.pending = 0};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);

    size_t prepared = 0;
    while (prepared < n && prepare_transfer(client, &calls[prepared], &transfers[prepared], &w))
        prepared++;
    cio_status_t first = CIO_OK;
    if (prepared < n) {
        first = cio__fail(CIO_E_NOMEM, "%s: out of memory", name);
    } else {
        size_t submitted = 0;
        w.pending = n;
        for (; submitted < n; submitted++) {
            if (cio__engine_submit(client->engine, &transfers[submitted]) != CIO_OK)
                break;
        }
        pthread_mutex_lock(&w.lock);
        w.pending -= n - submitted; /* never handed to the engine */
        while (w.pending > 0)
            pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        size_t first_failed = n;
        for (size_t i = 0; i < n; i++) {
            statuses[i] = i < submitted ? outcome(name, &transfers[i])
                                        : cio__fail(CIO_E_CLOSED, "%s: the client is closed", name);
            if (statuses[i] != CIO_OK && messages != NULL)
                messages[i] = strdup(cio_last_error()->message);
            if (statuses[i] != CIO_OK && first_failed == n)
                first_failed = i;
        }
        if (first_failed < n) {
            first = statuses[first_failed];
            if (first_failed < submitted) /* leave the first failure as this thread's error */
                outcome(name, &transfers[first_failed]);
            else
                cio__fail(CIO_E_CLOSED, "%s: the client is closed", name);
        } else {
            cio__ok();
        }
    }
    for (size_t i = 0; i < prepared; i++)
        release_transfer(&transfers[i]);
    free(transfers);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return first;
}

cio_status_t cio__http_send(cio_client_t *client, const char *name, cio_http_call_t *call) {
    cio_status_t status;
    return cio__http_send_many(client, name, call, 1, &status, NULL);
}

void cio__http_call_cleanup(cio_http_call_t *call) {
    free(call->response);
    call->response = NULL;
    call->response_len = 0;
}
