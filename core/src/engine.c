/*
 * The engine: one background thread per client owns a libcurl multi handle and every transfer
 * in flight. Submitters append to an incoming list under a mutex and wake the thread with
 * curl_multi_wakeup(); the thread starts transfers, collects results, schedules retries and
 * completes transfers. All libcurl calls on the multi and easy handles happen on this thread.
 */
#include "engine.h"
#include "retry.h"
#include "client_internal.h"
#include "http.h"
#include "tls_ca.h"
#include "util/buf.h"
#include "util/error.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE_BYTES (64u * 1024u * 1024u)
#define MAX_HEADER_BLOCK_BYTES (16u * 1024u) /* what cio_last_response() keeps of the headers */
#define IDLE_POLL_MS 1000

typedef struct transfer_list {
    cio_transfer_t *head, *tail;
} transfer_list_t;

struct cio_engine {
    cio_client_t *client;
    CURLM *multi;
    /* DNS answers and TLS sessions of every transfer: a connection opened after another to the
     * same host resumes its TLS session (an easy handle alone keeps its own cache, and the
     * engine's handles are many and pooled). Used on the engine thread only, so no locks. */
    CURLSH *share;
    cio_ca_store_t ca; /* the certificate store every TLS connection verifies with */
    pthread_t thread;
    pthread_mutex_t lock;
    transfer_list_t incoming; /* guarded by lock */
    bool stopping;            /* guarded by lock */
    const void **cancels;     /* owners to cancel, guarded by lock */
    size_t n_cancels, cap_cancels;

    /* engine-thread only */
    transfer_list_t active;  /* added to the multi handle */
    transfer_list_t waiting; /* retries waiting for their due time */
    CURL **idle_easy;        /* handles kept for reuse */
    size_t idle_count, idle_cap;
};

static void list_push(transfer_list_t *l, cio_transfer_t *t) {
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
}

static void list_remove(transfer_list_t *l, cio_transfer_t *t) {
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user) {
    cio_transfer_t *t = user;
    size_t n = size * nmemb;
    if (t->response.len + n > MAX_RESPONSE_BYTES || !cio__buf_append(&t->response, data, n))
        return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    return n;
}

static void forget_headers(cio_transfer_t *t) {
    t->header_block.len = 0;
    if (t->header_block.data != NULL)
        t->header_block.data[0] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user) {
    cio_transfer_t *t = user;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    /* a status line starts the headers of a new response (after a 100 Continue or a redirect) */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        forget_headers(t);
    if (t->header_block.len + n <= MAX_HEADER_BLOCK_BYTES)
        (void)cio__buf_append(&t->header_block, data, n); /* out of memory: headers not kept */
    if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0)
        t->retry_after_ms =
            cio__retry_after_parse_ms(data + sizeof(name) - 1, n - (sizeof(name) - 1));
    return n;
}

static CURL *take_easy(cio_engine_t *e) {
    if (e->idle_count > 0)
        return e->idle_easy[--e->idle_count];
    return curl_easy_init();
}

static void release_easy(cio_engine_t *e, CURL *easy) {
    if (easy == NULL)
        return;
    if (e->idle_count == e->idle_cap) {
        size_t cap = e->idle_cap ? e->idle_cap * 2 : 16;
        CURL **p = realloc(e->idle_easy, cap * sizeof(*p));
        if (p == NULL) {
            curl_easy_cleanup(easy);
            return;
        }
        e->idle_easy = p;
        e->idle_cap = cap;
    }
    curl_easy_reset(easy);
    e->idle_easy[e->idle_count++] = easy;
}

bool cio__transfer_setup_easy(const cio_client_t *c, CURL *h, cio_transfer_t *t) {
    bool ok = curl_easy_setopt(h, CURLOPT_PRIVATE, t) == CURLE_OK;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    /* the User-Agent and the credentials are lines of t->headers (http.c's build_headers) */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls_insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls_insecure ? 0L : 2L);
    if (c->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->ca_path != NULL)
        curl_easy_setopt(h, CURLOPT_CAPATH, c->ca_path);
    if (c->proxy != NULL)
        curl_easy_setopt(h, CURLOPT_PROXY, c->proxy);
    return ok;
}

bool cio__transfer_setup_call(const cio_client_t *c, CURL *h, cio_transfer_t *t) {
    (void)c; /* what it needs of the client is in t->headers */
    const cio_http_call_t *call = t->call;
    bool ok = curl_easy_setopt(h, CURLOPT_URL, t->url) == CURLE_OK;
    if (!t->set_known || t->set_headers != t->headers)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    bool post = strcmp(call->method, "POST") == 0;
    bool get = !post && strcmp(call->method, "GET") == 0;
    const char *custom = post || get ? NULL : call->method; /* a static string */
    bool same_custom = custom == NULL ? t->set_custom == NULL
                                      : t->set_custom != NULL && strcmp(custom, t->set_custom) == 0;
    if (!t->set_known || !same_custom)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom);
    if (get || (call->body == NULL && strcmp(call->method, "DELETE") == 0)) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* then CUSTOMREQUEST names DELETE */
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body != NULL ? call->body : "");
    }
    t->set_known = true;
    t->set_headers = t->headers;
    t->set_custom = custom;
    return ok;
}

static bool configure_easy(cio_engine_t *e, cio_transfer_t *t) {
    bool ok = cio__transfer_setup_easy(e->client, t->easy, t);
    if (e->share != NULL)
        curl_easy_setopt(t->easy, CURLOPT_SHARE, e->share);
    if (strncasecmp(t->url, "https:", 6) == 0) /* the CA bundle loaded once (tls_ca.c) */
        (void)cio__ca_store_attach(&e->ca, e->client, t->easy);
    return cio__transfer_setup_call(e->client, t->easy, t) && ok;
}

void cio__transfer_complete(cio_transfer_t *t) {
    cio_http_call_t *call = t->call;
    if (t->easy != NULL) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        call->http_status = status;
    }
    call->curl_code = t->curl_code;
    call->retry_after_ms = t->retry_after_ms;
    call->response = t->response.data;
    call->response_len = t->response.len;
    t->response.data = NULL;
    t->response.len = t->response.cap = 0;
}

static void finish(cio_engine_t *e, cio_transfer_t *t) {
    cio__transfer_complete(t);
    if (t->easy != NULL) {
        release_easy(e, t->easy);
        t->easy = NULL;
    }
    t->on_done(t);
}

void cio__transfer_begin_attempt(cio_transfer_t *t) {
    t->retry_after_ms = -1;
    t->curl_error[0] = '\0';
    t->response.len = 0;
    if (t->response.data != NULL)
        t->response.data[0] = '\0';
    forget_headers(t);
}

long cio__transfer_attempt_ended(const cio_client_t *c, cio_transfer_t *t, int code) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->curl_code = code;
    t->call->attempts++;
    int max_attempts = t->call->max_attempts > 0 ? t->call->max_attempts : c->max_attempts;
    if (!cio__retry_is_retryable(code, status) || t->call->attempts >= max_attempts)
        return -1;
    long retry_after = (status == 429 || status == 503) ? t->retry_after_ms : -1;
    return cio__retry_delay_ms(c, t->call->attempts, retry_after);
}

/* Starts (or restarts, for a retry) one attempt of t. */
static void start_attempt(cio_engine_t *e, cio_transfer_t *t) {
    cio__transfer_begin_attempt(t);
    CURLcode failure = CURLE_OK;
    if (t->easy == NULL) {
        t->easy = take_easy(e);
        if (t->easy == NULL)
            failure = CURLE_OUT_OF_MEMORY;
        else if (!configure_easy(e, t))
            failure = CURLE_URL_MALFORMAT;
    }
    if (failure == CURLE_OK && curl_multi_add_handle(e->multi, t->easy) != CURLM_OK)
        failure = CURLE_FAILED_INIT;
    if (failure != CURLE_OK) {
        t->curl_code = failure;
        t->call->attempts++;
        finish(e, t);
        return;
    }
    list_push(&e->active, t);
}

/* One attempt of t ended with code: retry it later, or complete it. */
static void attempt_ended(cio_engine_t *e, cio_transfer_t *t, CURLcode code) {
    long delay = cio__transfer_attempt_ended(e->client, t, code);
    if (delay >= 0) {
        t->due_ms = cio__now_ms() + delay;
        list_push(&e->waiting, t);
        return;
    }
    finish(e, t);
}

static void collect_results(cio_engine_t *e) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        cio_transfer_t *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = msg->data.result;
        curl_multi_remove_handle(e->multi, msg->easy_handle);
        list_remove(&e->active, t);
        attempt_ended(e, t, code);
    }
}

/* Restarts the retries that are due; returns ms until the next one (IDLE_POLL_MS if none). */
static int start_due_retries(cio_engine_t *e) {
    int64_t now = cio__now_ms();
    int64_t next = now + IDLE_POLL_MS;
    cio_transfer_t *t = e->waiting.head;
    while (t != NULL) {
        cio_transfer_t *after = t->next;
        if (t->due_ms <= now) {
            list_remove(&e->waiting, t);
            start_attempt(e, t);
        } else if (t->due_ms < next) {
            next = t->due_ms;
        }
        t = after;
    }
    return (int)(next - now);
}

static void abort_list(cio_engine_t *e, transfer_list_t *l, bool in_multi) {
    cio_transfer_t *t;
    while ((t = l->head) != NULL) {
        list_remove(l, t);
        if (in_multi && t->easy != NULL)
            curl_multi_remove_handle(e->multi, t->easy);
        t->curl_code = -1; /* closed */
        finish(e, t);
    }
}

/* Ends the transfers of owner in l as closed. */
static void cancel_in(cio_engine_t *e, transfer_list_t *l, bool in_multi, const void *owner) {
    for (cio_transfer_t *t = l->head, *after; t != NULL; t = after) {
        after = t->next;
        if (t->owner != owner)
            continue;
        list_remove(l, t);
        if (in_multi && t->easy != NULL)
            curl_multi_remove_handle(e->multi, t->easy);
        t->curl_code = -1; /* closed */
        finish(e, t);
    }
}

static void *engine_main(void *arg) {
    cio_engine_t *e = arg;
    /* A peer closing a connection must not kill the process with SIGPIPE. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);

    for (;;) {
        pthread_mutex_lock(&e->lock);
        transfer_list_t fresh = e->incoming;
        e->incoming.head = e->incoming.tail = NULL;
        bool stopping = e->stopping;
        const void *cancel[8];
        size_t n_cancel = e->n_cancels < 8 ? e->n_cancels : 8;
        if (n_cancel > 0) { /* e->cancels is NULL until the first cancel */
            memcpy(cancel, e->cancels, n_cancel * sizeof(*cancel));
            e->n_cancels -= n_cancel;
            memmove(e->cancels, e->cancels + n_cancel, e->n_cancels * sizeof(*cancel));
        }
        pthread_mutex_unlock(&e->lock);

        if (stopping) {
            e->incoming = fresh;
            abort_list(e, &e->incoming, false);
            abort_list(e, &e->waiting, false);
            abort_list(e, &e->active, true);
            break;
        }
        for (cio_transfer_t *t = fresh.head, *after; t != NULL; t = after) {
            after = t->next;
            start_attempt(e, t);
        }
        for (size_t i = 0; i < n_cancel; i++) {
            cancel_in(e, &e->waiting, false, cancel[i]);
            cancel_in(e, &e->active, true, cancel[i]);
        }
        start_due_retries(e);
        int running = 0;
        curl_multi_perform(e->multi, &running);
        collect_results(e);
        /* results may have scheduled retries: sleep no longer than the earliest is due */
        int wait_ms = start_due_retries(e);
        curl_multi_poll(e->multi, NULL, 0, wait_ms, NULL);
    }
    return NULL;
}

cio_status_t cio__engine_submit(cio_engine_t *e, cio_transfer_t *t) {
    t->easy = NULL;
    t->prev = t->next = NULL;
    pthread_mutex_lock(&e->lock);
    if (e->stopping) {
        pthread_mutex_unlock(&e->lock);
        return CIO_E_CLOSED;
    }
    list_push(&e->incoming, t);
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
    return CIO_OK;
}

void cio__engine_cancel(cio_engine_t *e, const void *owner) {
    if (e == NULL || owner == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    bool known = false;
    for (size_t i = 0; i < e->n_cancels && !known; i++)
        known = e->cancels[i] == owner;
    if (!known && e->n_cancels == e->cap_cancels) {
        size_t cap = e->cap_cancels ? e->cap_cancels * 2 : 4;
        const void **p = realloc(e->cancels, cap * sizeof(*p));
        if (p != NULL) {
            e->cancels = p;
            e->cap_cancels = cap;
        }
    }
    if (!known && e->n_cancels < e->cap_cancels)
        e->cancels[e->n_cancels++] = owner;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
}

cio_status_t cio__engine_new(cio_client_t *client, cio_engine_t **out) {
    cio_engine_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return cio__fail(CIO_E_NOMEM, "client: out of memory");
    e->client = client;
    e->multi = curl_multi_init();
    if (e->multi == NULL) {
        free(e);
        return cio__fail(CIO_E_INTERNAL, "client: curl_multi_init failed");
    }
    e->share = curl_share_init(); /* NULL: every handle keeps its own, as without it */
    if (e->share != NULL) {
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)client->max_connections);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /* Idle connections kept open. libcurl's default is 4 x the transfers in the multi handle at
     * the time one ends: between bursts (asyncio calls arriving a few at a time) that fell to 4
     * and closed the pool's other connections, so the next burst reconnected (a TLS handshake
     * each). Room for every host's full share instead: Track, App, Pipelines and one more. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, 4L * client->max_connections);
    pthread_mutex_init(&e->lock, NULL);
    cio__ca_store_init(&e->ca);
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        pthread_mutex_destroy(&e->lock);
        cio__ca_store_destroy(&e->ca);
        curl_multi_cleanup(e->multi);
        if (e->share != NULL)
            curl_share_cleanup(e->share);
        free(e);
        return cio__fail(CIO_E_INTERNAL, "client: cannot start the engine thread");
    }
    *out = e;
    return CIO_OK;
}

void cio__engine_free(cio_engine_t *e) {
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
    pthread_join(e->thread, NULL);
    for (size_t i = 0; i < e->idle_count; i++)
        curl_easy_cleanup(e->idle_easy[i]);
    free(e->idle_easy);
    free(e->cancels);
    curl_multi_cleanup(e->multi);
    if (e->share != NULL)
        curl_share_cleanup(e->share); /* after every easy handle that used it */
    cio__ca_store_destroy(&e->ca);
    pthread_mutex_destroy(&e->lock);
    free(e);
}
