/*
 * cli/httpd.h - the HTTP server under `cio-native webhook listen` and `cio-native relay`
 * (libmicrohttpd): epoll, a global and a per-address connection limit, an idle timeout, a
 * per-request deadline that a trickling client cannot stretch (no slowloris), the request body
 * collected up to a limit (over it: the handler is told, once, and the connection is closed), and
 * diagnostics on stderr at most LOG_PER_SECOND lines a second.
 *
 * Ownership: httpd_start() returns a server the caller stops with httpd_stop(); the handler and
 * its cls must outlive it. Thread-safety: the handler runs on the server's threads (one, or
 * limits.threads of them), any number at once; httpd_log() and httpd_tick() may be called from
 * any thread.
 */
#ifndef CIO_CLI_HTTPD_H
#define CIO_CLI_HTTPD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct httpd_limits {
    unsigned max_connections; /* open at once; beyond, new ones wait in the kernel's queue */
    unsigned max_per_address; /* open at once from one client address; beyond, closed at once */
    unsigned idle_timeout;    /* seconds of silence before a connection is closed */
    double request_timeout;   /* seconds a request may take from the connection's opening (or
                                 its previous answer) to its last byte, however it trickles */
    size_t max_body;          /* bytes; over it the handler is called with too_large */
    unsigned threads;         /* 0 or 1: one internal thread; more: a pool */
    const char *tls_cert_pem; /* both set: serve HTTPS with them (borrowed for httpd_start) */
    const char *tls_key_pem;
} httpd_limits_t;

typedef struct httpd httpd_t;

/* One complete request. body is NUL-terminated (NULL when too_large). */
typedef struct httpd_request {
    httpd_t *server; /* for httpd_log */
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    bool too_large; /* the body (or its Content-Length) is over max_body: answer 413 */
} httpd_request_t;

/* Answers one request (httpd_reply, or MHD_queue_response itself). */
typedef enum MHD_Result (*httpd_handler_t)(void *cls, const httpd_request_t *req);

/*
 * Listens on host (IPv4) and port (0: a free one). name prefixes every diagnostic
 * ("cio-native NAME: ..."). NULL after printing why on stderr.
 */
httpd_t *httpd_start(const char *name, const char *host, unsigned port,
                     const httpd_limits_t *limits, httpd_handler_t handler, void *cls);

/* The port listened on. */
unsigned httpd_port(const httpd_t *h);

/* Closes connections past the request deadline and flushes the log's counts; call it every
 * 100 ms or so. */
void httpd_tick(httpd_t *h);

/* Stops listening, ends every connection and frees h. NULL is a no-op. */
void httpd_stop(httpd_t *h);

/* Queues an answer: status, a Content-Type and the body (copied); extra_name/extra_value one
 * more header when non-NULL. */
enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned status, const char *content_type,
                            const char *body, const char *extra_name, const char *extra_value);
/* The same with any number of headers: name, value, name, value, ..., NULL (NULL = none). */
enum MHD_Result httpd_reply_headers(struct MHD_Connection *conn, unsigned status,
                                    const char *content_type, const char *body,
                                    const char *const *headers);

/* A diagnostic line on stderr ("cio-native NAME: ..."), rate-limited. */
void httpd_log(const httpd_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
