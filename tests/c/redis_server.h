/*
 * A real redis-server for the issue 18 tests: started on a random loopback port with a
 * temporary directory (--appendonly yes --appendfsync always --save ""), stopped by its PID.
 * No mock of Redis anywhere.
 */
#ifndef CIO_TEST_REDIS_SERVER_H
#define CIO_TEST_REDIS_SERVER_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct test_redis {
    pid_t pid;
    int port;
    char dir[256];
    char url[128]; /* redis://127.0.0.1:PORT */
} test_redis_t;

/* Starts one (extra redis-server arguments may follow, NULL-terminated) and waits until it
 * answers PING; fails the test when it cannot. An extra argument TEST_REDIS_NEXT_PORT stands
 * for r->port + 1 (a second listener, e.g. --tls-port), so each attempt at a free port tries
 * a fresh pair. */
#define TEST_REDIS_NEXT_PORT "<port + 1>"
void test_redis_start(test_redis_t *r, ...);
/* kill -9 (the AOF keeps what was acknowledged). */
void test_redis_kill9(test_redis_t *r);
/* Starts it again on the same port and directory (it reloads its AOF). */
void test_redis_restart(test_redis_t *r);
/* SIGTERM, wait, remove the directory. */
void test_redis_stop(test_redis_t *r);
/* The password test_redis_ctx() gives AUTH, or NULL. */
extern const char *test_redis_password;
/* A hiredis connection for the test's own checks; redisFree it. */
redisContext *test_redis_ctx(const test_redis_t *r);
/* One command's integer reply (format as redisCommand), -1 on error. */
long long test_redis_int(const test_redis_t *r, const char *fmt, ...);

#endif
