/*
 * The daemon: lifecycle, per-request state and body assembly, and the request pipeline
 * (control endpoints, request log, faults, then the API routes).
 */
#include "mock_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* One HTTP request, from its request line to its completion. */
typedef struct request_state {
    char *path;  /* raw */
    char *query; /* raw, without '?' */
    char *body;  /* NUL-terminated; NULL until some data arrives */
    size_t body_len;
    size_t body_cap;
    bool body_truncated; /* more than MOCK_MAX_UPLOAD_BYTES arrived */
    bool headers_done;   /* the access handler has seen this request once */
} request_state_t;

static void request_state_free(request_state_t *st) {
    if (st != NULL) {
        free(st->path);
        free(st->query);
        free(st->body);
        free(st);
    }
}

static request_state_t *request_state_new(const char *uri) {
    request_state_t *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    const char *question = strchr(uri, '?');
    size_t path_len = question != NULL ? (size_t)(question - uri) : strlen(uri);
    st->path = mock_strndup(uri, path_len);
    st->query = mock_strdup(question != NULL ? question + 1 : "");
    if (st->path == NULL || st->query == NULL) {
        request_state_free(st);
        return NULL;
    }
    return st;
}

/* MHD passes the request target before unescaping it; what it returns becomes *req_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    (void)conn;
    return request_state_new(uri);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    request_state_free(*req_cls);
    *req_cls = NULL;
}

/* Keeps at most MOCK_MAX_UPLOAD_BYTES; the rest is drained and only flagged. */
static bool append_body(request_state_t *st, const char *data, size_t len) {
    size_t room = MOCK_MAX_UPLOAD_BYTES - st->body_len;
    if (len > room) {
        st->body_truncated = true;
        len = room;
    }
    if (len == 0) {
        return true;
    }
    if (st->body_len + len + 1 > st->body_cap) {
        size_t cap = st->body_cap == 0 ? 1024 : st->body_cap;
        while (cap < st->body_len + len + 1) {
            cap *= 2;
        }
        char *bigger = realloc(st->body, cap);
        if (bigger == NULL) {
            return false;
        }
        st->body = bigger;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    st->body[st->body_len] = '\0';
    return true;
}

static enum MHD_Result queue_response(struct MHD_Connection *conn, mock_response_t *res) {
    if (res->status == 0) {
        mock_reply_meta_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
    }
    struct MHD_Response *response = MHD_create_response_from_buffer(
        res->body_len, res->body != NULL ? res->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (response != NULL) {
        if (res->body != NULL) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        }
        if (res->retry_after != NULL) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, res->retry_after);
        }
        if (res->allow != NULL) {
            MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, res->allow);
        }
        ret = MHD_queue_response(conn, res->status, response);
        MHD_destroy_response(response);
    }
    mock_response_clear(res);
    return ret;
}

/* The standing faults (POST /_mock/config): a random failure or the rate limit's 429. */
static void apply_standing_faults(cio_mock_t *m, mock_response_t *res) {
    unsigned int status = mock_ambient_take(m);
    if (status == 429) {
        mock_reply_meta_error(res, 429, "rate limited");
        res->retry_after = mock_strdup("1");
    } else if (status != 0) {
        mock_reply_meta_error(res, status, "injected failure");
    }
}

/* Consumes one fault unit, if any. Returns false when the connection must be dropped. */
static bool apply_fault(cio_mock_t *m, const mock_request_t *req, mock_response_t *res) {
    mock_fault_t fault;
    if (!mock_faults_take(m, req->body, req->body_len, &fault)) {
        apply_standing_faults(m, res);
        return true;
    }
    bool keep = fault.delay_ms == 0 || mock_sleep_ms(m, fault.delay_ms);
    if (keep && fault.status == 0 && fault.action != MOCK_FAULT_RESET) {
        apply_standing_faults(m, res); /* a latency-only rule: the standing faults still apply */
    }
    if (keep && fault.action == MOCK_FAULT_RESET) {
        keep = false;
    }
    if (keep && fault.status != 0) {
        mock_reply_empty(res, fault.status);
        res->body = fault.body;
        res->body_len = fault.body != NULL ? strlen(fault.body) : 0;
        res->retry_after = fault.retry_after;
        fault.body = NULL;
        fault.retry_after = NULL;
    }
    mock_fault_release(&fault);
    return keep;
}

static void handle_api_request(mock_request_t *req, const request_state_t *st,
                               mock_response_t *res) {
    if (st->body_truncated) {
        mock_reply_meta_error(res, MOCK_HTTP_TOO_LARGE, "request too large");
        return;
    }
    mock_dispatch(req, res);
}

/* The whole request has arrived: answer it, or return MHD_NO to drop the connection. */
static enum MHD_Result finish_request(cio_mock_t *m, struct MHD_Connection *conn,
                                      const char *method, const request_state_t *st) {
    mock_request_t req = {
        .mock = m,
        .conn = conn,
        .method = method,
        .path = st->path,
        .query = st->query,
        .body = st->body != NULL ? st->body : "",
        .body_len = st->body_len,
    };
    mock_response_t res = {0};
    if (mock_is_control_path(st->path)) {
        if (st->body_truncated) {
            mock_reply_meta_error(&res, MOCK_HTTP_TOO_LARGE, "request too large");
        } else {
            mock_dispatch_table(&mock_routes_control, &req, &res);
        }
        return queue_response(conn, &res);
    }
    mock_log_input_t in = {conn,     method,       st->path,          st->query,
                           req.body, req.body_len, st->body_truncated};
    json_t *entry = mock_log_append(m, &in);
    int64_t arrived = mock_meter_now();
    bool keep = apply_fault(m, &req, &res);
    if (keep)
        mock_meter_note(m->meter, conn, arrived);
    if (keep && res.status == 0) {
        handle_api_request(&req, st, &res);
    }
    mock_log_set_status(m, entry, keep ? res.status : 0);
    mock_log_release(m, entry);
    if (!keep) {
        mock_response_clear(&res);
        return MHD_NO;
    }
    return queue_response(conn, &res);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls) {
    (void)version;
    request_state_t *st = *req_cls;
    if (st == NULL) {
        /* The URI callback ran out of memory; fall back to the unescaped URL. */
        st = request_state_new(url);
        if (st == NULL) {
            return MHD_NO;
        }
        *req_cls = st;
    }
    if (!st->headers_done) {
        /* First call: headers only. Returning without a response lets the upload start. */
        st->headers_done = true;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        bool ok = append_body(st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    return finish_request(cls, conn, method, st);
}

bool mock_sleep_ms(cio_mock_t *m, unsigned long ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        if (pthread_cond_timedwait(&m->wake, &m->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    bool alive = !m->stopping;
    pthread_mutex_unlock(&m->lock);
    return alive;
}

/* ------------------------------------------------------------ lifecycle */

/* MHD's error log, prefixed. Dropping a connection on purpose (a "reset" fault) makes MHD report
 * an application error; that is expected here, so it is not printed. */
static void log_mhd_error(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char message[512];
    vsnprintf(message, sizeof(message), fmt, ap);
    if (strstr(message, "Application reported internal error") == NULL) {
        fprintf(stderr, "cio-mock: %s%s", message,
                message[0] != '\0' && message[strlen(message) - 1] == '\n' ? "" : "\n");
    }
}

static void free_mock(cio_mock_t *m) {
    mock_log_free(&m->log);
    mock_meter_free(m->meter);
    mock_faults_free(&m->faults);
    mock_state_free(m->state);
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
    free(m->site_id);
    free(m->api_key);
    free(m->app_api_key);
    free(m->cdp_api_key);
    free(m->webhook_url);
    free(m->webhook_key);
    free(m->tls_cert_pem);
    free(m->tls_key_pem);
    free(m->base_url);
    free(m);
}

static int init_sync(cio_mock_t *m) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        return -1;
    }
    /* Delays are measured on the monotonic clock, immune to wall-clock changes. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        return -1;
    }
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        pthread_cond_destroy(&m->wake);
        return -1;
    }
    return 0;
}

static cio_mock_t *alloc_mock(const cio_mock_options_t *opts) {
    cio_mock_t *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    if (init_sync(m) != 0) {
        free(m);
        return NULL;
    }
    mock_log_init(&m->log, opts->max_logged_requests, opts->max_logged_bytes);
    m->meter = mock_meter_new();
    m->connection_timeout_s = opts->connection_timeout_s != 0 ? opts->connection_timeout_s
                                                              : MOCK_DEFAULT_CONNECTION_TIMEOUT_S;
    m->site_id = mock_strdup(opts->site_id != NULL ? opts->site_id : "test-site");
    m->api_key = mock_strdup(opts->api_key != NULL ? opts->api_key : "test-key");
    m->app_api_key = mock_strdup(opts->app_api_key != NULL ? opts->app_api_key : "test-app-key");
    m->cdp_api_key = mock_strdup(opts->cdp_api_key != NULL ? opts->cdp_api_key : "test-cdp-key");
    if (opts->webhook_url != NULL && opts->webhook_signing_key != NULL) {
        m->webhook_url = mock_strdup(opts->webhook_url); /* checked by check_options */
        m->webhook_key = mock_strdup(opts->webhook_signing_key);
    }
    m->state = mock_state_new();
    if (m->site_id == NULL || m->api_key == NULL || m->app_api_key == NULL ||
        m->cdp_api_key == NULL || m->state == NULL) {
        free_mock(m);
        return NULL;
    }
    return m;
}

static int check_options(const cio_mock_options_t *opts, char *err, size_t errlen) {
    if (opts->webhook_url != NULL && !mock_is_loopback_url(opts->webhook_url)) {
        mock_set_err(err, errlen,
                     "webhook_url must be an http(s) URL on 127.0.0.1, localhost or "
                     "[::1]");
        return -1;
    }
    if (opts->version != CIO_MOCK_OPTIONS_VERSION) {
        mock_set_err(err, errlen, "unsupported options version %u (expected %u)", opts->version,
                     CIO_MOCK_OPTIONS_VERSION);
        return -1;
    }
    if ((opts->tls_cert_file == NULL) != (opts->tls_key_file == NULL)) {
        mock_set_err(err, errlen, "TLS needs both a certificate file and a key file");
        return -1;
    }
    if (opts->tls_cert_file != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        mock_set_err(err, errlen, "this libmicrohttpd was built without TLS support");
        return -1;
    }
    return 0;
}

static int load_tls(cio_mock_t *m, const cio_mock_options_t *opts, char *err, size_t errlen) {
    if (opts->tls_cert_file == NULL) {
        return 0;
    }
    if (mock_read_file(opts->tls_cert_file, &m->tls_cert_pem, err, errlen) != 0 ||
        mock_read_file(opts->tls_key_file, &m->tls_key_pem, err, errlen) != 0) {
        return -1;
    }
    return 0;
}

static int resolve_bind_addr(const char *host, unsigned short port, struct sockaddr_storage *out,
                             char *err, size_t errlen) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &found);
    if (rc != 0 || found == NULL) {
        mock_set_err(err, errlen, "cannot resolve bind address %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
    if (out->ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
    } else {
        ((struct sockaddr_in *)out)->sin_port = htons(port);
    }
    return 0;
}

static struct MHD_Daemon *start_daemon(cio_mock_t *m, const struct sockaddr_storage *addr,
                                       unsigned short port) {
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) {
        flags |= MHD_USE_POLL; /* no FD_SETSIZE ceiling on descriptor numbers */
    }
    if (addr->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, m->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, m->tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (m->tls_cert_pem != NULL) {
        flags |= MHD_USE_TLS;
    } else {
        tls_options[0].option = MHD_OPTION_END;
    }
    /* The port is also in addr; MHD only uses this one in its messages. */
    return MHD_start_daemon(
        flags, port, NULL, NULL, on_access, m, MHD_OPTION_EXTERNAL_LOGGER, log_mhd_error, NULL,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr, MHD_OPTION_URI_LOG_CALLBACK, on_uri, m,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_CONNECTION_TIMEOUT,
        m->connection_timeout_s, MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
}

/* A wildcard bind address is not something a client can dial; use loopback instead. */
static int build_base_url(cio_mock_t *m, const char *host, int family) {
    if (strcmp(host, "0.0.0.0") == 0) {
        host = "127.0.0.1";
    } else if (strcmp(host, "::") == 0) {
        host = "::1";
    }
    bool brackets = family == AF_INET6 && strchr(host, ':') != NULL;
    const char *scheme = m->tls_cert_pem != NULL ? "https" : "http";
    size_t len = strlen(scheme) + strlen(host) + 16;
    m->base_url = malloc(len);
    if (m->base_url == NULL) {
        return -1;
    }
    snprintf(m->base_url, len, "%s://%s%s%s:%u", scheme, brackets ? "[" : "", host,
             brackets ? "]" : "", (unsigned int)m->port);
    return 0;
}

int cio_mock_start(const cio_mock_options_t *opts, cio_mock_t **out, char *err, size_t errlen) {
    static const cio_mock_options_t defaults = CIO_MOCK_OPTIONS_INIT;
    if (out == NULL) {
        mock_set_err(err, errlen, "out must not be NULL");
        return -1;
    }
    *out = NULL;
    opts = opts != NULL ? opts : &defaults;
    if (check_options(opts, err, errlen) != 0) {
        return -1;
    }
    cio_mock_t *m = alloc_mock(opts);
    if (m == NULL) {
        mock_set_err(err, errlen, "out of memory");
        return -1;
    }
    const char *host = opts->bind_addr != NULL ? opts->bind_addr : "127.0.0.1";
    struct sockaddr_storage addr;
    if (load_tls(m, opts, err, errlen) != 0 ||
        resolve_bind_addr(host, opts->port, &addr, err, errlen) != 0) {
        free_mock(m);
        return -1;
    }
    errno = 0;
    m->daemon = start_daemon(m, &addr, opts->port);
    if (m->daemon == NULL) {
        mock_set_err(err, errlen, "cannot start the HTTP server on %s port %u%s%s", host,
                     (unsigned int)opts->port, errno != 0 ? ": " : "",
                     errno != 0 ? strerror(errno) : "");
        free_mock(m);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info != NULL ? info->port : opts->port;
    if (build_base_url(m, host, addr.ss_family) != 0) {
        cio_mock_stop(m);
        mock_set_err(err, errlen, "out of memory");
        return -1;
    }
    *out = m;
    return 0;
}

unsigned short cio_mock_port(const cio_mock_t *m) {
    return m != NULL ? m->port : 0;
}

const char *cio_mock_base_url(const cio_mock_t *m) {
    return m != NULL ? m->base_url : NULL;
}

void cio_mock_stop(cio_mock_t *m) {
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->lock);
    if (m->daemon != NULL) {
        MHD_stop_daemon(m->daemon);
    }
    free_mock(m);
}
