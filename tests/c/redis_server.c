/* A real redis-server for the tests (redis_server.h). */
#include "redis_server.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXTRA 16

static char *extra_args[MAX_EXTRA + 1];

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool answers(const test_redis_t *r) {
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    bool ok = false;
    if (c != NULL && !c->err) {
        redisReply *rep = redisCommand(c, "PING");
        ok = rep != NULL; /* NOAUTH is an answer too */
        if (rep != NULL)
            freeReplyObject(rep);
    }
    if (c != NULL)
        redisFree(c);
    return ok;
}

/* Forks redis-server on r->port; true once it answers. */
static bool spawn(test_redis_t *r) {
    char port[16], next_port[16];
    snprintf(port, sizeof(port), "%d", r->port);
    snprintf(next_port, sizeof(next_port), "%d", r->port + 1);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that fails half-way leaves no server behind */
        const char *argv[32] = {"redis-server",
                                "--port",
                                port,
                                "--bind",
                                "127.0.0.1",
                                "--dir",
                                r->dir,
                                "--appendonly",
                                "yes",
                                "--appendfsync",
                                "always",
                                "--save",
                                "",
                                "--daemonize",
                                "no",
                                "--logfile",
                                "redis.log"};
        int n = 17;
        for (int i = 0; extra_args[i] != NULL && n < 31; i++)
            argv[n++] =
                strcmp(extra_args[i], TEST_REDIS_NEXT_PORT) == 0 ? next_port : extra_args[i];
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    r->pid = pid;
    for (int i = 0; i < 100; i++) {
        if (answers(r))
            return true;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) { /* exited: the port was taken, say */
            r->pid = 0;
            return false;
        }
        sleep_ms(30);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    r->pid = 0;
    return false;
}

void test_redis_start(test_redis_t *r, ...) {
    memset(r, 0, sizeof(*r));
    va_list ap;
    va_start(ap, r);
    int n = 0;
    for (const char *a; n < MAX_EXTRA && (a = va_arg(ap, const char *)) != NULL;)
        extra_args[n++] = (char *)a;
    extra_args[n] = NULL;
    va_end(ap);
    snprintf(r->dir, sizeof(r->dir), "/tmp/cio-redis-test-XXXXXX");
    cr_assert_not_null(mkdtemp(r->dir));
    srand((unsigned)(time(NULL) ^ getpid()));
    for (int attempt = 0; attempt < 20; attempt++) {
        r->port = 20000 + rand() % 30000;
        if (spawn(r)) {
            snprintf(r->url, sizeof(r->url), "redis://127.0.0.1:%d", r->port);
            return;
        }
    }
    cr_assert_fail("redis-server did not start (is it installed? scripts/deps.sh)");
}

void test_redis_kill9(test_redis_t *r) {
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
    }
    r->pid = 0;
}

void test_redis_restart(test_redis_t *r) {
    for (int i = 0; i < 50; i++) {
        if (spawn(r))
            return;
        sleep_ms(100); /* the port may linger a moment */
    }
    cr_assert_fail("redis-server did not restart on port %d", r->port);
}

void test_redis_stop(test_redis_t *r) {
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
        r->pid = 0;
    }
    if (r->dir[0] != '\0') {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            cr_log_info("could not remove %s", r->dir);
        r->dir[0] = '\0';
    }
}

const char *test_redis_password; /* AUTH with it first when set */

redisContext *test_redis_ctx(const test_redis_t *r) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    cr_assert(c != NULL && !c->err, "cannot connect to the test redis-server");
    if (test_redis_password != NULL) {
        redisReply *rep = redisCommand(c, "AUTH %s", test_redis_password);
        freeReplyObject(rep);
    }
    return c;
}

long long test_redis_int(const test_redis_t *r, const char *fmt, ...) {
    redisContext *c = test_redis_ctx(r);
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = rep != NULL && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep != NULL)
        freeReplyObject(rep);
    redisFree(c);
    return v;
}
