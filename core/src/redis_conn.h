/*
 * One connection to Redis (issue 18): redis:// and rediss:// URLs, AUTH (ACL user or password
 * only), SELECT db, a deadline on every exchange, and a reconnect before the next exchange once
 * the connection broke. hiredis (0.14, Debian's libhiredis-dev) writes the commands
 * (redisFormatCommandArgv) and parses the replies (redisReader); the bytes travel over our own
 * socket, or an OpenSSL SSL* for rediss:// (hiredis 0.14 has no TLS), so plain and TLS share
 * one code path.
 *
 * Secrets: the password never appears in an error message or a log line; errors name
 * host:port only.
 *
 * Threading: a connection is used by one thread at a time (callers lock around it).
 */
#ifndef CIO_REDIS_CONN_H
#define CIO_REDIS_CONN_H

#include "customerio/errors.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cio_redis_url {
    char *host;
    int port;       /* default 6379 */
    bool tls;       /* rediss:// */
    char *user;     /* ACL user, or NULL (AUTH password only) */
    char *password; /* or NULL */
    int db;         /* /N, default 0 */
    char *ca_file;  /* rediss:// ?ca_file=PATH; NULL = the system's CAs */
    bool insecure;  /* rediss:// ?insecure=1: no certificate check (tests only) */
} cio_redis_url_t;

/* Parses url into *out (owned copies; cio__redis_url_free frees them). CIO_E_CONFIG with a
 * message that quotes no credential when it is not a redis:// or rediss:// URL. */
cio_status_t cio__redis_url_parse(const char *url, cio_redis_url_t *out);
void cio__redis_url_free(cio_redis_url_t *u);

typedef struct cio_redis cio_redis_t;

/* A connection to url, opened lazily by the first exchange. timeout_ms bounds connecting and
 * every exchange (0 = 2,000). CIO_E_CONFIG for a bad URL. */
cio_status_t cio__redis_new(const char *url, long timeout_ms, cio_redis_t **out);
void cio__redis_free(cio_redis_t *r);
/* "host:port" for messages (no credential). */
const char *cio__redis_where(const cio_redis_t *r);

/* One command out of a pipelined exchange: argv with lengths (NULL lens = strlen). */
typedef struct cio_redis_cmd {
    int argc;
    const char **argv;
    const size_t *lens;
} cio_redis_cmd_t;

/*
 * Sends n commands at once and reads their n replies into replies[] (freeReplyObject each).
 * Connects first when not connected (after a failure: reconnects). CIO_E_NETWORK (the
 * connection is dropped; replies[] are NULL) when Redis cannot be reached or does not answer
 * within the timeout; an error reply is a reply (REDIS_REPLY_ERROR), not a failure.
 */
cio_status_t cio__redis_exec(cio_redis_t *r, size_t n, const cio_redis_cmd_t *cmds,
                             redisReply **replies);
/* One command, argv NULL-terminated strings. */
cio_status_t cio__redis_cmd(cio_redis_t *r, redisReply **reply, int argc, const char **argv);
/* Drops the connection (the next exchange reconnects). */
void cio__redis_disconnect(cio_redis_t *r);

#endif
