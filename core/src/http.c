/*
 * HTTP exchanges: build the transfers, run them, and turn their outcome into a status and an
 * error message that names the call. A synchronous exchange of one request runs on the calling
 * thread (direct.c); asynchronous ones, and synchronous runs of several requests at once (a
 * batch), are submitted to the client's engine (engine.c), which the synchronous caller waits
 * for. Either way retry.c decides the retries.
 */
#include "engine.h"
#include "direct.h"
#include "retry.h"
#include "client_internal.h"
#include "queue.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/utf8.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

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

/* What an error answer says, in the shapes Customer.io uses: the Pipelines API's {"code",
 * "message"}, the App API's {"meta":{"error"}}, the Track API's {"errors":[{"message"|"reason"}]}.
 * Copies into code / message ("" when absent or holding a control character; a long message is
 * cut at a character boundary). The one reader of error bodies for calls that are not batches
 * (a pipeline's sink reads its own API's batch answers). */
static void server_error(const char *body, size_t len, char *code, size_t code_size, char *message,
                         size_t message_size) {
    code[0] = message[0] = '\0';
    json_t *root = body != NULL && len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
    if (root == NULL)
        return;
    json_t *meta = json_object_get(root, "meta");
    json_t *errors = json_object_get(root, "errors");
    const char *reason = NULL;
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
    const char *c = json_string_value(json_object_get(root, "code"));
    if (c != NULL && !cio__has_control_char(c) && strlen(c) < code_size)
        memcpy(code, c, strlen(c) + 1);
    if (reason != NULL && !cio__has_control_char(reason)) {
        size_t n = cio__utf8_cut(reason, strlen(reason), message_size - 1);
        memcpy(message, reason, n);
        message[n] = '\0';
    }
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
        cio_status_t st = cio__retry_curl_status(t->curl_code);
        /* said when a failure was not retried because it cannot heal (a refused certificate) */
        const char *permanent =
            cio__retry_is_retryable(t->curl_code, 0) ? "" : " (permanent: not retried)";
        return cio__fail_http(st, (int)call->http_status, call->response, call->response_len,
                              call->attempts, "%s: %s after %d attempt%s: %s%s", name,
                              st == CIO_E_TIMEOUT ? "timed out" : "request failed", call->attempts,
                              plural, detail, permanent);
    }
    if (call->http_status >= 200 && call->http_status < 300)
        return cio__ok();
    char code[128], reason[256];
    server_error(call->response, call->response_len, code, sizeof(code), reason, sizeof(reason));
    return cio__fail_http(status_for_http(call->http_status), (int)call->http_status,
                          call->response, call->response_len, call->attempts,
                          "%s: HTTP %ld%s after %d attempt%s%s%s", name, call->http_status,
                          hint_for_http(call->http_status), call->attempts, plural,
                          reason[0] != '\0' ? ": " : "", reason);
}

/* Appends "<prefix><text>" to *h; false when out of memory. */
static bool add_line(struct curl_slist **h, const char *prefix, const char *text, size_t len) {
    cio_buf_t line = {0};
    bool ok = cio__buf_appends(&line, prefix) && cio__buf_append(&line, text, len);
    struct curl_slist *next = ok ? curl_slist_append(*h, line.data) : NULL;
    cio__buf_free(&line);
    if (next != NULL)
        *h = next;
    return next != NULL;
}

/* "Authorization: Basic base64(user:password)" onto *h. */
static bool add_basic(struct curl_slist **h, const char *user, const char *password) {
    cio_buf_t pair = {0};
    bool ok = cio__buf_appends(&pair, user) && cio__buf_appends(&pair, ":") &&
              cio__buf_appends(&pair, password);
    char *enc = ok ? malloc(4 * ((pair.len + 2) / 3) + 1) : NULL;
    if (enc != NULL) {
        int n =
            EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)pair.data, (int)pair.len);
        ok = add_line(h, "Authorization: Basic ", enc, (size_t)n);
    }
    if (pair.data != NULL)
        OPENSSL_cleanse(pair.data, pair.len); /* the secret, in the clear */
    cio__buf_free(&pair);
    free(enc);
    return enc != NULL && ok;
}

/*
 * The header lines of call. The credentials and the User-Agent are written here rather than
 * through CURLOPT_USERNAME/PASSWORD/USERAGENT: libcurl formats those into header lines again on
 * every request (its Basic auth alone cost ~11,700 instructions per request in callgrind), while
 * a synchronous call's list is built once per thread and client (direct.c). The bytes on the
 * wire are the same. Credentials and user agent were checked for control characters by
 * cio_client_new, so no line can be split.
 */
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
    /* Pipelines: a message Customer.io cannot accept is answered 400, not 200 and dropped */
    if (call->auth == CIO_AUTH_CDP && c->cdp_strict)
        ADD("X-Strict-Mode: 1");
    /* an empty user agent sends none, as CURLOPT_USERAGENT "" did ("User-Agent:" removes it) */
    if (c->user_agent[0] == '\0')
        ADD("User-Agent:");
    else if (!add_line(&h, "User-Agent: ", c->user_agent, strlen(c->user_agent)))
        goto oom;
    /* a missing credential sends no Authorization (the callers refuse such calls first) */
    if (call->auth == CIO_AUTH_APP || (call->auth == CIO_AUTH_CDP && c->cdp_bearer)) {
        const char *key = call->auth == CIO_AUTH_APP ? c->app_api_key : c->cdp_api_key;
        if (key != NULL && !add_line(&h, "Authorization: Bearer ", key, strlen(key)))
            goto oom;
    } else if (call->auth == CIO_AUTH_CDP) {
        /* the key as user, an empty password */
        if (c->cdp_api_key != NULL && !add_basic(&h, c->cdp_api_key, ""))
            goto oom;
    } else if (c->site_id != NULL && c->api_key != NULL && !add_basic(&h, c->site_id, c->api_key)) {
        goto oom;
    }
    return h;
#undef ADD
oom:
    curl_slist_free_all(h);
    return NULL;
}

/*
 * One run of n calls: the transfers handed to the engine, and how their outcome is delivered,
 * to a waiting caller (sync) or onto a completion queue (async).
 */
typedef struct http_job {
    cio_client_t *client;
    char *name;
    size_t n;
    cio_http_call_t *calls;
    cio_transfer_t *transfers;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t pending;
    cio_finish_fn finish;
    void *ctx;
    void (*ctx_free)(void *);
    cio_queue_t *queue; /* async: deliver to this queue ... */
    uint64_t token;
    cio_done_fn done; /* ... or to this callback (engine thread) */
    void *done_user;
    const void *owner; /* tags the transfers for cio__http_cancel */
    bool owns_calls;   /* async: calls (paths and bodies) are copies owned by the job */
} http_job_t;

static void job_free(http_job_t *job) {
    for (size_t i = 0; i < job->n; i++) {
        curl_slist_free_all(job->transfers[i].headers);
        free(job->transfers[i].url);
        cio__buf_free(&job->transfers[i].header_block);
        if (job->owns_calls) {
            free((char *)job->calls[i].path);
            free((char *)job->calls[i].body);
            cio__http_call_cleanup(&job->calls[i]);
        }
    }
    if (job->owns_calls)
        free(job->calls);
    if (job->ctx_free != NULL)
        job->ctx_free(job->ctx);
    free(job->transfers);
    free(job->name);
    pthread_cond_destroy(&job->cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

bool cio__http_call_retryable(const cio_http_call_t *call, cio_status_t status) {
    return status != CIO_OK && call->curl_code != -1 &&
           cio__retry_is_retryable(call->curl_code, call->http_status);
}

cio_status_t cio__http_copy_response(const char *call, const cio_http_call_t *http, cio_status_t st,
                                     char **response_json) {
    if (st != CIO_OK || response_json == NULL || http->http_status == 0)
        return st;
    bool empty = http->response == NULL || http->response_len == 0;
    size_t len = empty ? 2 : http->response_len;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    memcpy(copy, empty ? "{}" : http->response, len);
    copy[len] = '\0';
    *response_json = copy;
    return st;
}

/* The default way to turn one call's outcome into a completion. */
void cio__http_finish_single(void *ctx, const char *name, cio_http_call_t *calls, size_t n,
                             const cio_status_t *statuses, char **messages, cio_completion_t *out) {
    (void)ctx;
    (void)name;
    (void)n;
    out->status = statuses[0];
    out->message = messages[0];
    messages[0] = NULL;
    out->http_status = (int)calls[0].http_status;
    out->attempts = calls[0].attempts;
    out->retryable = cio__http_call_retryable(&calls[0], statuses[0]);
    out->response = calls[0].response;
    out->response_len = calls[0].response_len;
    calls[0].response = NULL;
    calls[0].response_len = 0;
}

/* Turns the finished transfers into *out (runs on the engine thread for async jobs). */
static void job_outcome(http_job_t *job, cio_completion_t *out) {
    cio_status_t statuses[job->n > 0 ? job->n : 1];
    char *messages[job->n > 0 ? job->n : 1];
    for (size_t i = 0; i < job->n; i++) {
        statuses[i] = outcome(job->name, &job->transfers[i]);
        messages[i] = statuses[i] != CIO_OK ? strdup(cio_last_error()->message) : NULL;
    }
    job->finish(job->ctx, job->name, job->calls, job->n, statuses, messages, out);
    for (size_t i = 0; i < job->n; i++)
        free(messages[i]);
}

/* An async completion's copy of what the error answer says, read as the synchronous path reads
 * it into cio_error_t (the end of run_job); left NULL when out of memory. */
static void completion_server_error(cio_completion_t *c) {
    if (c->status == CIO_OK || c->http_status == 0)
        return;
    char code[128], reason[256];
    server_error(c->response, c->response_len, code, sizeof(code), reason, sizeof(reason));
    c->server_code = code[0] != '\0' ? strdup(code) : NULL;
    c->server_message = reason[0] != '\0' ? strdup(reason) : NULL;
}

static void on_transfer_done(cio_transfer_t *t) {
    http_job_t *job = t->user_data;
    pthread_mutex_lock(&job->lock);
    bool async = job->queue != NULL || job->done != NULL;
    bool last = --job->pending == 0;
    if (last && !async)
        pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    /* sync: the waiting caller may free the job from here on; do not touch it */
    if (!last || !async)
        return;
    /* async: deliver, then the job is done */
    cio_completion_t *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        job_outcome(job, c);
        completion_server_error(c);
        c->token = job->token;
    }
    if (job->done != NULL)
        job->done(c, job->done_user);
    else
        cio__queue_push(job->queue, c);
    job_free(job);
}

/* Copies what an async call borrows from its caller: paths and bodies. */
static bool copy_calls(http_job_t *job, const cio_http_call_t *calls) {
    job->calls = calloc(job->n, sizeof(*job->calls));
    if (job->calls == NULL)
        return false;
    job->owns_calls = true;
    for (size_t i = 0; i < job->n; i++) {
        job->calls[i] = calls[i];
        job->calls[i].path = strdup(calls[i].path);
        job->calls[i].body = NULL;
        if (job->calls[i].path == NULL)
            return false;
        if (calls[i].body != NULL) {
            char *body = malloc(calls[i].body_len + 1);
            if (body == NULL)
                return false;
            memcpy(body, calls[i].body, calls[i].body_len);
            body[calls[i].body_len] = '\0';
            job->calls[i].body = body;
        }
    }
    return true;
}

static void reset_outcome(cio_http_call_t *call) {
    call->http_status = 0;
    call->response = NULL;
    call->response_len = 0;
    call->attempts = 0;
    call->curl_code = 0;
}

/* The base URL of call's API. */
static const char *base_of(const cio_client_t *c, const cio_http_call_t *call) {
    return call->auth == CIO_AUTH_APP   ? c->app_base
           : call->auth == CIO_AUTH_CDP ? c->cdp_base
                                        : c->track_base;
}

static bool prepare_transfer(http_job_t *job, size_t i) {
    cio_http_call_t *call = &job->calls[i];
    cio_transfer_t *t = &job->transfers[i];
    reset_outcome(call);
    cio_buf_t url = {0};
    if (!cio__buf_appends(&url, base_of(job->client, call)) ||
        !cio__buf_appends(&url, call->path)) {
        cio__buf_free(&url);
        return false;
    }
    t->url = url.data;
    t->headers = build_headers(job->client, call);
    t->call = call;
    t->on_done = on_transfer_done;
    t->user_data = job;
    t->owner = job->owner;
    return t->headers != NULL;
}

/* Where an asynchronous run delivers its completion; all NULL = synchronous. */
typedef struct delivery {
    cio_queue_t *queue;
    uint64_t token;
    cio_done_fn done;
    void *done_user;
    const void *owner;
} delivery_t;

/* The end of a synchronous run, its transfers done: *out, cio_last_response() or this thread's
 * error. release(job) frees the job once its answer is no longer needed. */
static cio_status_t sync_result(const char *name, http_job_t *job, cio_completion_t *out,
                                void (*release)(http_job_t *)) {
    size_t n = job->n;
    job_outcome(job, out);
    if (out->status == CIO_OK && n > 0) {
        /* the answer: the one the finish function handed on, else (a batch of requests, whose
         * bodies stay with the calls) the last request's */
        const cio_http_call_t *last = &job->calls[n - 1];
        bool handed = out->response != NULL;
        cio__set_last_response(out->http_status, handed ? out->response : last->response,
                               handed ? out->response_len : last->response_len,
                               job->transfers[n - 1].header_block.data,
                               job->transfers[n - 1].header_block.len);
    }
    release(job);
    if (out->status == CIO_OK)
        return cio__ok();
    cio__fail_http(out->status, out->http_status, out->response, out->response_len, out->attempts,
                   "%s", out->message != NULL ? out->message : name);
    cio__error_set_retryable(out->retryable);
    if (out->http_status != 0) {
        char code[128], reason[256];
        server_error(out->response, out->response_len, code, sizeof(code), reason, sizeof(reason));
        cio__error_set_server(code[0] != '\0' ? code : NULL, reason[0] != '\0' ? reason : NULL);
    }
    return out->status;
}

/* A direct run's job lives on the caller's stack; its transfer, URL buffer and header lists are
 * the thread's (direct.c). */
static void direct_release(http_job_t *job) {
    if (job->ctx_free != NULL)
        job->ctx_free(job->ctx);
    cio__direct_end(&job->transfers[0]);
}

/* One synchronous call on the calling thread (direct.c), retries included. */
static cio_status_t run_direct(cio_client_t *client, const char *name, cio_http_call_t *call,
                               cio_finish_fn finish, void *ctx, void (*ctx_free)(void *),
                               cio_completion_t *out, cio_transfer_t *t) {
    http_job_t job = {.client = client,
                      .name = (char *)name,
                      .n = 1,
                      .calls = call,
                      .transfers = t,
                      .finish = finish != NULL ? finish : cio__http_finish_single,
                      .ctx = ctx,
                      .ctx_free = ctx_free};
    reset_outcome(call);
    cio_buf_t *url = cio__direct_url(t);
    url->len = 0;
    struct curl_slist **headers = cio__direct_headers(t, (int)call->auth, call->body != NULL);
    if (*headers == NULL)
        *headers = build_headers(client, call);
    if (!cio__buf_appends(url, base_of(client, call)) || !cio__buf_appends(url, call->path) ||
        *headers == NULL) {
        direct_release(&job);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", name);
    }
    t->url = url->data;
    t->headers = *headers;
    t->call = call;
    cio__direct_perform(client, t);
    return sync_result(name, &job, out, direct_release);
}

static cio_status_t run_job(cio_client_t *client, const char *name, cio_http_call_t *calls,
                            size_t n, cio_finish_fn finish, void *ctx, void (*ctx_free)(void *),
                            cio_completion_t *out, const delivery_t *to) {
    cio_queue_t *queue = to->queue;
    memset(out, 0, sizeof(*out));
    if (client == NULL) { /* every entry point checks first; this keeps a new one from crashing */
        if (ctx_free != NULL)
            ctx_free(ctx);
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: client is NULL", name);
    }
    for (size_t i = 0; i < n; i++) {
        if (calls[i].auth == CIO_AUTH_CDP && client->cdp_api_key == NULL) {
            if (ctx_free != NULL)
                ctx_free(ctx);
            return cio__fail(CIO_E_CONFIG,
                             "%s: cdp_api_key is missing (pass it or set CUSTOMERIO_CDP_API_KEY)",
                             name);
        }
        if (calls[i].auth == CIO_AUTH_APP && client->app_api_key == NULL) {
            if (ctx_free != NULL)
                ctx_free(ctx);
            return cio__fail(CIO_E_CONFIG,
                             "%s: app_api_key is missing (pass it or set CUSTOMERIO_APP_API_KEY)",
                             name);
        }
    }
    bool async = queue != NULL || to->done != NULL;
    if (!async && n == 1) {
        cio_transfer_t *t = cio__direct_begin(client);
        if (t != NULL)
            return run_direct(client, name, calls, finish, ctx, ctx_free, out, t);
        /* this thread is already inside a call on client, or short of memory: the engine */
    }
    http_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        if (ctx_free != NULL)
            ctx_free(ctx);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", name);
    }
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->cond, NULL);
    job->client = client;
    job->n = n;
    job->finish = finish != NULL ? finish : cio__http_finish_single;
    job->ctx = ctx;
    job->ctx_free = ctx_free;
    job->owner = to->owner;
    job->name = strdup(name);
    job->transfers = calloc(n, sizeof(*job->transfers));
    bool ok = job->name != NULL && job->transfers != NULL;
    if (ok && async)
        ok = copy_calls(job, calls);
    else
        job->calls = calls;
    for (size_t i = 0; ok && i < n; i++)
        ok = prepare_transfer(job, i);
    if (!ok) {
        job_free(job);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", name);
    }

    job->pending = n;
    job->token = to->token;
    job->done = to->done;
    job->done_user = to->done_user;
    if (queue != NULL) {
        job->queue = queue;
        cio__queue_retain(queue);
    }
    size_t submitted = 0;
    cio_engine_t *engine = cio__client_engine(client);
    for (; engine != NULL && submitted < n; submitted++) {
        if (cio__engine_submit(engine, &job->transfers[submitted]) != CIO_OK)
            break;
    }
    if (submitted < n) {
        /* the client is closing: what was not handed over completes as closed, here */
        for (size_t i = submitted; i < n; i++) {
            job->transfers[i].curl_code = -1;
            job->transfers[i].call->curl_code = -1;
        }
        pthread_mutex_lock(&job->lock);
        job->pending -= n - submitted - 1;
        pthread_mutex_unlock(&job->lock);
        on_transfer_done(&job->transfers[submitted]);
    }
    if (async)
        return cio__ok(); /* the job frees itself once delivered */

    pthread_mutex_lock(&job->lock);
    while (job->pending > 0)
        pthread_cond_wait(&job->cond, &job->lock);
    pthread_mutex_unlock(&job->lock);
    return sync_result(name, job, out, job_free);
}

cio_status_t cio__http_run(cio_client_t *client, const char *name, cio_http_call_t *calls, size_t n,
                           cio_finish_fn finish, void *ctx, void (*ctx_free)(void *),
                           cio_queue_t *queue, uint64_t token, cio_completion_t *out) {
    delivery_t to = {.queue = queue, .token = token};
    return run_job(client, name, calls, n, finish, ctx, ctx_free, out, &to);
}

cio_status_t cio__http_run_callback(cio_client_t *client, const char *name, cio_http_call_t *calls,
                                    size_t n, cio_finish_fn finish, void *ctx,
                                    void (*ctx_free)(void *), cio_done_fn done, void *done_user,
                                    const void *owner) {
    delivery_t to = {.done = done, .done_user = done_user, .owner = owner};
    cio_completion_t unused;
    return run_job(client, name, calls, n, finish, ctx, ctx_free, &unused, &to);
}

cio_status_t cio__http_exchange(cio_client_t *client, const char *name, cio_http_call_t *call,
                                cio_queue_t *queue, uint64_t token) {
    cio_completion_t out;
    cio_status_t st = cio__http_run(client, name, call, 1, NULL, NULL, NULL, queue, token, &out);
    /* sync: hand the response back to the call, which the caller cleans up */
    call->response = (char *)out.response;
    call->response_len = out.response_len;
    free((char *)out.message);
    return st;
}

void cio__http_cancel(cio_client_t *client, const void *owner) {
    cio__engine_cancel(cio__client_engine(client), owner);
}

void cio__http_call_cleanup(cio_http_call_t *call) {
    free(call->response);
    call->response = NULL;
    call->response_len = 0;
}
