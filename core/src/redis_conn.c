/* One connection to Redis over our own socket or SSL* (redis_conn.h). */
#include "redis_conn.h"
#include "retry.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 2000L

struct cio_redis {
    cio_redis_url_t url;
    long timeout_ms;
    char where[300];
    int fd; /* -1: not connected */
    SSL_CTX *ctx;
    SSL *ssl;
    redisReader *reader;
};

/* ---------------------------------------------------------------- URL */

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A percent-decoded copy of s[0..len), or NULL (bad escape, no memory). */
static char *decode(const char *s, size_t len) {
    char *out = malloc(len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int a = i + 1 < len ? hexval(s[i + 1]) : -1;
            int b = i + 2 < len ? hexval(s[i + 2]) : -1;
            int h = a >= 0 && b >= 0 ? a * 16 + b : -1;
            if (h <= 0) { /* a bad escape, or %00 */
                free(out);
                return NULL;
            }
            *o++ = (char)h;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

void cio__redis_url_free(cio_redis_url_t *u) {
    free(u->host);
    free(u->user);
    if (u->password != NULL) /* not left in freed memory */
        memset(u->password, 0, strlen(u->password));
    free(u->password);
    free(u->ca_file);
    memset(u, 0, sizeof(*u));
}

static cio_status_t bad_url(cio_redis_url_t *u, const char *why) {
    cio__redis_url_free(u);
    /* the URL itself is not quoted: it may carry a password */
    return cio__fail(CIO_E_CONFIG, "redis: the Redis URL is not usable: %s", why);
}

cio_status_t cio__redis_url_parse(const char *url, cio_redis_url_t *u) {
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (url == NULL || *url == '\0')
        return bad_url(u, "it is empty");
    const char *p;
    if (strncasecmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else if (strncasecmp(url, "rediss://", 9) == 0) {
        p = url + 9;
        u->tls = true;
    } else {
        return bad_url(u, "it must start with redis:// or rediss://");
    }
    size_t auth_end = strcspn(p, "@/?");
    if (p[auth_end] == '@') {
        size_t colon = strcspn(p, ":@");
        if (p[colon] == ':') {
            u->user = colon > 0 ? decode(p, colon) : NULL;
            u->password = decode(p + colon + 1, auth_end - colon - 1);
            if ((colon > 0 && u->user == NULL) || u->password == NULL)
                return bad_url(u, "its user or password has a bad %-escape");
        } else { /* redis://password@host is not a form: a bare name is a user without password */
            u->user = decode(p, colon);
            if (u->user == NULL)
                return bad_url(u, "its user has a bad %-escape");
        }
        if (u->user != NULL && *u->user == '\0') {
            free(u->user);
            u->user = NULL;
        }
        p += auth_end + 1;
    }
    size_t hlen;
    const char *h = p;
    if (*p == '[') { /* [IPv6] */
        const char *close = strchr(p, ']');
        if (close == NULL)
            return bad_url(u, "an IPv6 host lacks its ]");
        h = p + 1;
        hlen = (size_t)(close - h);
        p = close + 1;
    } else {
        hlen = strcspn(p, ":/?");
        p += hlen;
    }
    if (hlen == 0)
        return bad_url(u, "it names no host");
    u->host = strndup(h, hlen);
    if (u->host == NULL)
        return bad_url(u, "out of memory");
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 ||
            (*end != '\0' && *end != '/' && *end != '?'))
            return bad_url(u, "its port is not a number from 1 to 65535");
        u->port = (int)port;
        p = end;
    }
    if (*p == '/') {
        p++;
        if (*p != '\0' && *p != '?') {
            char *end;
            long db = strtol(p, &end, 10);
            if (end == p || db < 0 || db > 100000 || (*end != '\0' && *end != '?'))
                return bad_url(u, "its database (/N) is not a number");
            u->db = (int)db;
            p = end;
        }
    }
    if (*p == '?') {
        p++;
        while (*p != '\0') {
            size_t len = strcspn(p, "&");
            if (strncmp(p, "ca_file=", 8) == 0 && len > 8) {
                free(u->ca_file);
                u->ca_file = decode(p + 8, len - 8);
                if (u->ca_file == NULL)
                    return bad_url(u, "its ca_file has a bad %-escape");
            } else if (strncmp(p, "insecure=", 9) == 0) {
                u->insecure = len == 10 && p[9] == '1';
            } else {
                return bad_url(u, "it has a query parameter other than ca_file and insecure");
            }
            p += len;
            if (*p == '&')
                p++;
        }
    } else if (*p != '\0') {
        return bad_url(u, "it has text after the host");
    }
    return CIO_OK;
}

/* ---------------------------------------------------------------- connection */

cio_status_t cio__redis_new(const char *url, long timeout_ms, cio_redis_t **out) {
    cio_redis_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return cio__fail(CIO_E_NOMEM, "redis: out of memory");
    cio_status_t st = cio__redis_url_parse(url, &r->url);
    if (st != CIO_OK) {
        free(r);
        return st;
    }
    r->fd = -1;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    snprintf(r->where, sizeof(r->where), "%s%s:%d", r->url.tls ? "rediss://" : "", r->url.host,
             r->url.port);
    *out = r;
    return CIO_OK;
}

void cio__redis_disconnect(cio_redis_t *r) {
    if (r->ssl != NULL) {
        SSL_free(r->ssl);
        r->ssl = NULL;
    }
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->reader != NULL)
        redisReaderFree(r->reader);
    r->reader = NULL;
}

void cio__redis_free(cio_redis_t *r) {
    if (r == NULL)
        return;
    cio__redis_disconnect(r);
    if (r->ctx != NULL)
        SSL_CTX_free(r->ctx);
    cio__redis_url_free(&r->url);
    free(r);
}

const char *cio__redis_where(const cio_redis_t *r) {
    return r->where;
}

/* Waits until fd is ready for events or the deadline (CLOCK_MONOTONIC ms). */
static bool wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - cio__now_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, (int)left);
        if (rc > 0)
            return true;
        if (rc == 0)
            return false;
        if (errno != EINTR)
            return false;
    }
}

static cio_status_t net_fail(cio_redis_t *r, const char *what) {
    int e = errno;
    cio__redis_disconnect(r);
    cio__fail(CIO_E_NETWORK, "redis: %s %s%s%s", what, r->where, e != 0 ? ": " : "",
              e != 0 ? strerror(e) : "");
    cio__error_set_retryable(true);
    return CIO_E_NETWORK;
}

static int tcp_connect(const cio_redis_t *r, int64_t deadline) {
    char port[16];
    snprintf(port, sizeof(port), "%d", r->url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(r->url.host, port, &hints, &res) != 0) {
        errno = 0;
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline)) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                break;
            errno = err;
        } else if (errno == EINPROGRESS) {
            errno = ETIMEDOUT;
        }
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Drives one SSL call to completion by the deadline. rc: the call's result. */
static bool ssl_wait(cio_redis_t *r, int rc, int64_t deadline) {
    int err = SSL_get_error(r->ssl, rc);
    if (err == SSL_ERROR_WANT_READ)
        return wait_fd(r->fd, POLLIN, deadline);
    if (err == SSL_ERROR_WANT_WRITE)
        return wait_fd(r->fd, POLLOUT, deadline);
    return false;
}

static cio_status_t tls_start(cio_redis_t *r, int64_t deadline) {
    if (r->ctx == NULL) {
        r->ctx = SSL_CTX_new(TLS_client_method());
        if (r->ctx == NULL)
            return cio__fail(CIO_E_NOMEM, "redis: cannot make a TLS context");
        SSL_CTX_set_min_proto_version(r->ctx, TLS1_2_VERSION);
        if (!r->url.insecure) {
            SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
            int ok = r->url.ca_file != NULL
                         ? SSL_CTX_load_verify_locations(r->ctx, r->url.ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(r->ctx);
            if (ok != 1) {
                ERR_clear_error();
                return cio__fail(CIO_E_CONFIG, "redis: cannot load the CA certificates for %s",
                                 r->where);
            }
        }
    }
    r->ssl = SSL_new(r->ctx);
    if (r->ssl == NULL)
        return cio__fail(CIO_E_NOMEM, "redis: cannot make a TLS session");
    SSL_set_fd(r->ssl, r->fd);
    SSL_set_tlsext_host_name(r->ssl, r->url.host);
    if (!r->url.insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(r->ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, r->url.host, 0);
    }
    for (;;) {
        int rc = SSL_connect(r->ssl);
        if (rc == 1)
            return CIO_OK;
        if (!ssl_wait(r, rc, deadline)) {
            long verify = SSL_get_verify_result(r->ssl);
            ERR_clear_error();
            errno = 0;
            cio__redis_disconnect(r);
            cio__fail(CIO_E_NETWORK, "redis: TLS handshake with %s failed%s%s", r->where,
                      verify != X509_V_OK ? ": " : "",
                      verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "");
            cio__error_set_retryable(verify == X509_V_OK);
            return CIO_E_NETWORK;
        }
    }
}

static cio_status_t write_all(cio_redis_t *r, const char *data, size_t len, int64_t deadline) {
    while (len > 0) {
        ssize_t n;
        if (r->ssl != NULL) {
            int rc = SSL_write(r->ssl, data, (int)(len > 1 << 30 ? 1 << 30 : len));
            if (rc <= 0) {
                if (ssl_wait(r, rc, deadline))
                    continue;
                ERR_clear_error();
                return net_fail(r, "cannot write to");
            }
            n = rc;
        } else {
            n = send(r->fd, data, len, MSG_NOSIGNAL);
            if (n < 0) {
                if ((errno == EAGAIN || errno == EINTR) && wait_fd(r->fd, POLLOUT, deadline))
                    continue;
                if (errno == EAGAIN)
                    errno = ETIMEDOUT;
                return net_fail(r, "cannot write to");
            }
        }
        data += n;
        len -= (size_t)n;
    }
    return CIO_OK;
}

/* Reads what is there (waiting for something by the deadline) into the reader. */
static cio_status_t read_some(cio_redis_t *r, int64_t deadline) {
    char buf[16384];
    for (;;) {
        ssize_t n;
        if (r->ssl != NULL) {
            int rc = SSL_read(r->ssl, buf, sizeof(buf));
            if (rc <= 0) {
                if (SSL_get_error(r->ssl, rc) == SSL_ERROR_ZERO_RETURN) {
                    errno = ECONNRESET;
                    return net_fail(r, "connection closed by");
                }
                if (ssl_wait(r, rc, deadline))
                    continue;
                ERR_clear_error();
                if (errno == 0 || errno == EAGAIN)
                    errno = ETIMEDOUT;
                return net_fail(r, "no answer from");
            }
            n = rc;
        } else {
            n = recv(r->fd, buf, sizeof(buf), 0);
            if (n == 0) {
                errno = ECONNRESET;
                return net_fail(r, "connection closed by");
            }
            if (n < 0) {
                if ((errno == EAGAIN || errno == EINTR) && wait_fd(r->fd, POLLIN, deadline))
                    continue;
                if (errno == EAGAIN)
                    errno = ETIMEDOUT;
                return net_fail(r, "no answer from");
            }
        }
        if (redisReaderFeed(r->reader, buf, (size_t)n) != REDIS_OK) {
            errno = EPROTO;
            return net_fail(r, "unreadable answer from");
        }
        return CIO_OK;
    }
}

/* Sends the formatted commands and reads n replies. Not connected afterwards on failure. */
static cio_status_t exchange(cio_redis_t *r, const char *out, size_t out_len, size_t n,
                             redisReply **replies, int64_t deadline) {
    cio_status_t st = write_all(r, out, out_len, deadline);
    for (size_t i = 0; st == CIO_OK && i < n; i++) {
        void *reply = NULL;
        while (st == CIO_OK) {
            if (redisReaderGetReply(r->reader, &reply) != REDIS_OK) {
                errno = EPROTO;
                st = net_fail(r, "unreadable answer from");
                break;
            }
            if (reply != NULL)
                break;
            st = read_some(r, deadline);
        }
        replies[i] = reply;
    }
    if (st != CIO_OK)
        for (size_t i = 0; i < n; i++) {
            if (replies[i] != NULL)
                freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
    return st;
}

/* A formatted command appended to *buf (malloc'd, grown). */
static bool format_cmd(char **buf, size_t *len, const cio_redis_cmd_t *c) {
    char *cmd = NULL;
    int n = redisFormatCommandArgv(&cmd, c->argc, c->argv, c->lens);
    if (n < 0)
        return false;
    char *grown = realloc(*buf, *len + (size_t)n);
    if (grown == NULL) {
        free(cmd);
        return false;
    }
    memcpy(grown + *len, cmd, (size_t)n);
    free(cmd);
    *buf = grown;
    *len += (size_t)n;
    return true;
}

/* AUTH and SELECT on a new connection. */
static cio_status_t handshake(cio_redis_t *r, int64_t deadline) {
    char db[16];
    snprintf(db, sizeof(db), "%d", r->url.db);
    const char *auth[3] = {"AUTH", r->url.user, r->url.password};
    const char *auth_pw[2] = {"AUTH", r->url.password};
    const char *sel[2] = {"SELECT", db};
    cio_redis_cmd_t cmds[2];
    size_t n = 0;
    if (r->url.password != NULL)
        cmds[n++] = r->url.user != NULL ? (cio_redis_cmd_t){3, auth, NULL}
                                        : (cio_redis_cmd_t){2, auth_pw, NULL};
    if (r->url.db != 0)
        cmds[n++] = (cio_redis_cmd_t){2, sel, NULL};
    if (n == 0)
        return CIO_OK;
    char *buf = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (!format_cmd(&buf, &len, &cmds[i])) {
            free(buf);
            cio__redis_disconnect(r);
            return cio__fail(CIO_E_NOMEM, "redis: out of memory");
        }
    redisReply *replies[2] = {NULL, NULL};
    cio_status_t st = exchange(r, buf, len, n, replies, deadline);
    if (buf != NULL)
        memset(buf, 0, len); /* the password was in it */
    free(buf);
    if (st != CIO_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (replies[i]->type == REDIS_REPLY_ERROR && st == CIO_OK) {
            /* Redis's own words name no secret ("WRONGPASS invalid username-password pair") */
            st = cio__fail(CIO_E_AUTH, "redis: %s refused %s: %.200s", r->where,
                           i == 0 && r->url.password != NULL ? "AUTH" : "SELECT", replies[i]->str);
        }
    for (size_t i = 0; i < n; i++)
        freeReplyObject(replies[i]);
    if (st != CIO_OK)
        cio__redis_disconnect(r);
    return st;
}

static cio_status_t ensure_connected(cio_redis_t *r, int64_t deadline) {
    if (r->fd >= 0)
        return CIO_OK;
    r->fd = tcp_connect(r, deadline);
    if (r->fd < 0)
        return net_fail(r, "cannot connect to");
    r->reader = redisReaderCreate();
    if (r->reader == NULL) {
        cio__redis_disconnect(r);
        return cio__fail(CIO_E_NOMEM, "redis: out of memory");
    }
    if (r->url.tls) {
        cio_status_t st = tls_start(r, deadline);
        if (st != CIO_OK) {
            cio__redis_disconnect(r);
            return st;
        }
    }
    return handshake(r, deadline);
}

cio_status_t cio__redis_exec(cio_redis_t *r, size_t n, const cio_redis_cmd_t *cmds,
                             redisReply **replies) {
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    int64_t deadline = cio__now_ms() + r->timeout_ms;
    cio_status_t st = ensure_connected(r, deadline);
    if (st != CIO_OK)
        return st;
    char *buf = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (!format_cmd(&buf, &len, &cmds[i])) {
            free(buf);
            return cio__fail(CIO_E_NOMEM, "redis: out of memory");
        }
    st = exchange(r, buf, len, n, replies, deadline);
    free(buf);
    return st;
}

cio_status_t cio__redis_cmd(cio_redis_t *r, redisReply **reply, int argc, const char **argv) {
    cio_redis_cmd_t c = {argc, argv, NULL};
    return cio__redis_exec(r, 1, &c, reply);
}
