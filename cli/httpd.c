/* The HTTP server of webhook listen and relay: limits, deadlines, bodies, rate-limited logs. */
#include "httpd.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * One open connection, for the request deadline. libmicrohttpd's own timeout only counts
 * silence, so a client sending a byte every few seconds held its connection forever (~1,100 of
 * them blocked every real webhook); httpd_tick shuts down connections whose request is not
 * complete request_timeout after the connection opened or its previous answer went out.
 */
typedef struct tracked {
    int fd;
    int64_t since_ms;
    bool shut;
    struct tracked *prev, *next;
} tracked_t;

/*
 * Diagnostics (rejected requests, libmicrohttpd's messages) go out at most LOG_PER_SECOND lines
 * a second, then one line saying how many were suppressed. A flood of bad or dropped
 * connections wrote a line each; with stderr on a pipe read slowly, the server's thread blocked
 * on the full pipe and stopped answering anyone.
 */
#define LOG_PER_SECOND 20

struct httpd {
    char name[64];
    httpd_limits_t limits;
    httpd_handler_t handler;
    void *cls;
    struct MHD_Daemon *daemon;
    unsigned port;
    pthread_mutex_t conn_lock; /* guards conns; held while shutting a socket down, so the
                                  socket cannot be closed (and its number reused) meanwhile */
    tracked_t *conns;
    pthread_mutex_t log_lock;
    int64_t log_window_ms;
    unsigned log_in_window;
    uint64_t log_suppressed;
};

typedef struct body {
    sbuf_t data;
    bool too_large;
} body_t;

/* Reports suppressed lines once their second is over; call with log_lock held. */
static void log_roll_window(httpd_t *h, int64_t now) {
    if (now - h->log_window_ms < 1000) {
        return;
    }
    if (h->log_suppressed > 0) {
        fprintf(stderr, "cio-native %s: %llu more messages suppressed (over %d a second)\n",
                h->name, (unsigned long long)h->log_suppressed, LOG_PER_SECOND);
    }
    h->log_window_ms = now;
    h->log_in_window = 0;
    h->log_suppressed = 0;
}

static void vlog(httpd_t *h, const char *fmt, va_list ap) {
    pthread_mutex_lock(&h->log_lock);
    log_roll_window(h, now_ms());
    if (h->log_in_window < LOG_PER_SECOND) {
        h->log_in_window++;
        fprintf(stderr, "cio-native %s: ", h->name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    } else {
        h->log_suppressed++;
    }
    pthread_mutex_unlock(&h->log_lock);
}

void httpd_log(const httpd_t *h, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog((httpd_t *)h, fmt, ap); /* the log state is the only thing written, under its lock */
    va_end(ap);
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
    char line[300];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    httpd_log(cls, "libmicrohttpd: %s", line);
}

enum MHD_Result httpd_reply_headers(struct MHD_Connection *conn, unsigned status,
                                    const char *content_type, const char *body,
                                    const char *const *headers) {
    struct MHD_Response *res =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (res == NULL) {
        return MHD_NO;
    }
    if (content_type != NULL) {
        MHD_add_response_header(res, "Content-Type", content_type);
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL && headers[i + 1] != NULL; i += 2) {
        MHD_add_response_header(res, headers[i], headers[i + 1]);
    }
    enum MHD_Result r = MHD_queue_response(conn, status, res);
    MHD_destroy_response(res);
    return r;
}

enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                            const char *body, const char *extra_name, const char *extra_value) {
    const char *headers[] = {extra_name, extra_value, NULL};
    return httpd_reply_headers(conn, status, content_type, body,
                               extra_name != NULL && extra_value != NULL ? headers : NULL);
}

/* Whether a Content-Length header announces more than max. */
static bool announced_too_large(struct MHD_Connection *conn, size_t max) {
    const char *length =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length == NULL) {
        return false;
    }
    errno = 0;
    char *end;
    unsigned long long n = strtoull(length, &end, 10);
    return errno == ERANGE || (end != length && n > max);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
    (void)version;
    httpd_t *h = cls;
    body_t *b = *req_cls;
    httpd_request_t req = {.server = h, .conn = conn, .method = method, .url = url};
    if (b == NULL) {
        *req_cls = xcalloc(1, sizeof(body_t));
        if (announced_too_large(conn, h->limits.max_body)) {
            /* answered before the body is read; libmicrohttpd then closes the connection */
            req.too_large = true;
            return h->handler(h->cls, &req);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (b->data.len + *upload_data_size > h->limits.max_body) {
            if (!b->too_large) {
                char size[32];
                httpd_log(h, "a body over %s: connection closed",
                          fmt_bytes(h->limits.max_body, size, sizeof(size)));
            }
            b->too_large = true;
            *upload_data_size = 0;
            return MHD_NO; /* a chunked body past the limit: nothing more is read */
        }
        sb_append(&b->data, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    req.body = b->data.data != NULL ? b->data.data : "";
    req.body_len = b->data.len;
    req.too_large = b->too_large;
    return h->handler(h->cls, &req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)toe;
    httpd_t *h = cls;
    body_t *b = *req_cls;
    if (b != NULL) {
        sb_free(&b->data);
        free(b);
        *req_cls = NULL;
    }
    /* the answer went out: the next request's deadline starts now */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    tracked_t *t = info != NULL ? info->socket_context : NULL;
    if (t != NULL) {
        pthread_mutex_lock(&h->conn_lock);
        t->since_ms = now_ms();
        pthread_mutex_unlock(&h->conn_lock);
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    httpd_t *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info == NULL) {
            return;
        }
        tracked_t *t = xcalloc(1, sizeof(*t));
        t->fd = info->connect_fd;
        t->since_ms = now_ms();
        pthread_mutex_lock(&h->conn_lock);
        t->next = h->conns;
        if (h->conns != NULL) {
            h->conns->prev = t;
        }
        h->conns = t;
        pthread_mutex_unlock(&h->conn_lock);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
        tracked_t *t = *socket_context;
        pthread_mutex_lock(&h->conn_lock);
        if (t->prev != NULL) {
            t->prev->next = t->next;
        } else {
            h->conns = t->next;
        }
        if (t->next != NULL) {
            t->next->prev = t->prev;
        }
        pthread_mutex_unlock(&h->conn_lock);
        free(t);
        *socket_context = NULL;
    }
}

void httpd_tick(httpd_t *h) {
    int64_t limit_ms = (int64_t)(h->limits.request_timeout * 1000), now = now_ms();
    unsigned shut = 0;
    pthread_mutex_lock(&h->conn_lock);
    for (tracked_t *t = h->conns; t != NULL; t = t->next) {
        if (!t->shut && now - t->since_ms > limit_ms) {
            shutdown(t->fd, SHUT_RDWR);
            t->shut = true;
            shut++;
        }
    }
    pthread_mutex_unlock(&h->conn_lock);
    if (shut > 0) {
        httpd_log(h, "closed %u connection%s without a complete request after %g s", shut,
                  shut == 1 ? "" : "s", h->limits.request_timeout);
    }
    pthread_mutex_lock(&h->log_lock);
    log_roll_window(h, now_ms());
    pthread_mutex_unlock(&h->log_lock);
}

httpd_t *httpd_start(const char *name, const char *host, unsigned port,
                     const httpd_limits_t *limits, httpd_handler_t handler, void *cls) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "cio-native %s: not an IPv4 address: '%s'\n", name, host);
        return NULL;
    }
    httpd_t *h = xcalloc(1, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->limits = *limits;
    h->handler = handler;
    h->cls = cls;
    pthread_mutex_init(&h->conn_lock, NULL);
    pthread_mutex_init(&h->log_lock, NULL);
    /* MHD_USE_AUTO: epoll on Linux, so no FD_SETSIZE ceiling (select stopped at ~1,020) */
    /* the optional options: a thread pool, TLS */
    struct MHD_OptionItem extra[4];
    size_t n = 0;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (limits->threads > 1) {
        extra[n++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)limits->threads, NULL};
    }
    if (limits->tls_cert_pem != NULL && limits->tls_key_pem != NULL) {
        extra[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)limits->tls_key_pem};
        extra[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)limits->tls_cert_pem};
        flags |= MHD_USE_TLS;
    }
    extra[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    /* MHD_USE_AUTO: epoll on Linux, so no FD_SETSIZE ceiling (select stopped at ~1,020) */
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_CONNECTION_TIMEOUT,
        limits->idle_timeout, MHD_OPTION_CONNECTION_LIMIT, limits->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->max_per_address, MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (h->daemon == NULL) {
        fprintf(stderr, "cio-native %s: cannot listen on %s:%u: %s\n", name, host, port,
                strerror(errno));
        pthread_mutex_destroy(&h->conn_lock);
        pthread_mutex_destroy(&h->log_lock);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : port;
    return h;
}

unsigned httpd_port(const httpd_t *h) {
    return h->port;
}

void httpd_stop(httpd_t *h) {
    if (h == NULL) {
        return;
    }
    MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->conn_lock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}
