/*
 * Issue 18, the producer's side: a pipeline with redis_url puts its batches into the workspace's
 * Redis stream ({cio:<site id>}:q) instead of sending them; an operation pushed twice (a
 * producer's retry) is queued once; while Redis is down the operations wait in the spool and
 * reach the stream once it is back (nothing accepted lost); URLs with a password, an ACL user
 * and a database number work and no error quotes a password. Against a real redis-server.
 */
#include "helpers.h"
#include "redis_server.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(redis_store, .init = fx_setup, .fini = fx_teardown, .timeout = 120);

#define STREAM "{cio:" TEST_SITE_ID "}:q"

static cio_pipeline_t *producer(const char *url, const char *spool, long deadline_ms) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.redis_url = url;
    o.spool_path = spool;
    o.linger_ms = 10;
    o.retry_deadline_ms = deadline_ms;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK, "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    return p;
}

static void event(cio_pipeline_t *p, int i) {
    char op[200];
    snprintf(op, sizeof(op),
             "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%d\"},\"action\":\"event\","
             "\"name\":\"e%d\",\"id\":\"01HZX0000000000000000000%02d\"}",
             i, i, i);
    cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
}

/* The stream's entries' "op" fields, in order; *n gets their number. */
static char **stream_ops(const test_redis_t *r, const char *key, size_t *n) {
    redisContext *c = test_redis_ctx(r);
    redisReply *rep = redisCommand(c, "XRANGE %s - +", key);
    cr_assert(rep != NULL && rep->type == REDIS_REPLY_ARRAY);
    char **out = calloc(rep->elements + 1, sizeof(*out));
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *fields = rep->element[i]->element[1];
        cr_assert_eq(fields->elements, 2);
        cr_assert_str_eq(fields->element[0]->str, "op");
        out[i] = strdup(fields->element[1]->str);
    }
    *n = rep->elements;
    freeReplyObject(rep);
    redisFree(c);
    return out;
}

static void free_ops(char **ops) {
    for (size_t i = 0; ops[i] != NULL; i++)
        free(ops[i]);
    free(ops);
}

Test(redis_store, batches_go_to_the_stream_not_to_customerio) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    cio_pipeline_t *p = producer(r.url, NULL, 0);
    for (int i = 1; i <= 3; i++)
        event(p, i);
    cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.delivered, 3);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    size_t n;
    char **ops = stream_ops(&r, STREAM, &n);
    cr_assert_eq(n, 3);
    for (int i = 1; i <= 3; i++) {
        char want[200];
        snprintf(want, sizeof(want),
                 "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%d\"},\"action\":\"event\","
                 "\"name\":\"e%d\",\"id\":\"01HZX0000000000000000000%02d\"}",
                 i, i, i);
        cr_assert_str_eq(ops[i - 1], want);
    }
    free_ops(ops);
    cr_assert_eq(
        test_redis_int(&r, "EXISTS {cio:" TEST_SITE_ID "}:seen:i01HZX000000000000000000001"), 1);
    json_t *log = mock_requests();
    cr_assert_eq(json_array_size(log), 0, "nothing is sent to Customer.io by a producer");
    json_decref(log);
    test_redis_password = NULL;
    test_redis_stop(&r);
}

/* Operations without an id of their own (identify, devices, ...) are marked by the pipeline
 * that accepted them, not by their content: pro, free, pro again within a day are three
 * operations, and Customer.io must end with the last one (the review found the third dropped
 * and reported delivered when the mark was a hash of the bytes). */
Test(redis_store, equal_operations_without_an_id_are_all_queued) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    static const char *const plans[] = {"pro", "free", "pro"};
    for (int round = 0; round < 2; round++) { /* a second producer sends the same three */
        cio_pipeline_t *p = producer(r.url, NULL, 0);
        for (int i = 0; i < 3; i++) {
            char op[200];
            snprintf(op, sizeof(op),
                     "{\"type\":\"person\",\"identifiers\":{\"id\":\"42\"},\"action\":"
                     "\"identify\",\"attributes\":{\"plan\":\"%s\"}}",
                     plans[i]);
            cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
            cr_assert_eq(cio_pipeline_flush(p, 5000), CIO_OK); /* one push each */
        }
        cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    }
    size_t n;
    char **ops = stream_ops(&r, STREAM, &n);
    cr_assert_eq(n, 6, "every accepted operation is queued, equal ones too");
    cr_assert_not_null(strstr(ops[2], "\"plan\":\"pro\""), "%s", ops[2]);
    cr_assert_not_null(strstr(ops[1], "\"plan\":\"free\""), "%s", ops[1]);
    free_ops(ops);
    test_redis_password = NULL;
    test_redis_stop(&r);
}

Test(redis_store, a_retried_ulid_is_queued_once) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    /* two producers (or one producer's retry after a lost answer) push the same event */
    for (int round = 0; round < 2; round++) {
        cio_pipeline_t *p = producer(r.url, NULL, 0);
        event(p, 7);
        event(p, 7);
        cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    }
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 1);
    /* the mark expires (a day): it is not kept for ever */
    long long ttl =
        test_redis_int(&r, "TTL {cio:" TEST_SITE_ID "}:seen:i01HZX000000000000000000007");
    cr_assert(ttl > 86000 && ttl <= 86400, "ttl %lld", ttl);
    test_redis_password = NULL;
    test_redis_stop(&r);
}

/* Redis down: the producer keeps accepting into its spool; back: the spool drains into the
 * stream, in order, nothing lost; and a pipeline closed meanwhile leaves them to the next. */
Test(redis_store, spool_in_front_while_redis_is_down) {
    test_redis_t r;
    test_redis_start(&r, NULL);
    char spool[300];
    snprintf(spool, sizeof(spool), "%s/producer.spool", r.dir);
    test_redis_kill9(&r);
    cio_pipeline_t *p = producer(r.url, spool, 0);
    for (int i = 1; i <= 5; i++)
        event(p, i);
    cr_assert_eq(cio_pipeline_flush(p, 300), CIO_E_TIMEOUT, "nowhere to go yet");
    test_redis_restart(&r);
    cr_assert_eq(cio_pipeline_flush(p, 40000), CIO_OK, "%s", cio_last_error()->message);
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 5);

    /* down again, and the producer stops before it is back */
    test_redis_kill9(&r);
    for (int i = 6; i <= 8; i++)
        event(p, i);
    cr_assert_eq(cio_pipeline_close(p, 200), CIO_E_TIMEOUT);
    test_redis_restart(&r);
    p = producer(r.url, spool, 0); /* the next run finds them in the spool */
    cr_assert_eq(cio_pipeline_flush(p, 40000), CIO_OK);
    cr_assert_eq(cio_pipeline_close(p, 1000), CIO_OK);
    size_t n;
    char **ops = stream_ops(&r, STREAM, &n);
    cr_assert_eq(n, 8, "every accepted operation reached the stream once");
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "\"e%zu\"", i + 1);
        cr_assert_not_null(strstr(ops[i], name), "%zu: %s", i, ops[i]);
    }
    free_ops(ops);
    test_redis_password = NULL;
    test_redis_stop(&r);
}

static void on_report(const cio_delivery_report_t *rep, void *user) {
    char *msg = user;
    if (rep->status != CIO_OK && msg[0] == '\0')
        snprintf(msg, 512, "%s", rep->message ? rep->message : "");
}

Test(redis_store, passwords_acl_users_and_databases) {
    test_redis_t r;
    test_redis_start(&r, "--requirepass", "s3cret-pw", "--user", "alice", "on", ">al1ce-pw", "~*",
                     "&*", "+@all", NULL);
    char url[256];
    const char *good[] = {"redis://:s3cret-pw@127.0.0.1:%d/2",
                          "redis://alice:al1ce-pw@127.0.0.1:%d"};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof(url), good[i], r.port);
        cio_pipeline_t *p = producer(url, NULL, 0);
        event(p, i + 1);
        cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK, "%s", url);
    }
    test_redis_password = "s3cret-pw";
    redisContext *c = test_redis_ctx(&r);
    redisReply *rep = redisCommand(c, "SELECT 2");
    freeReplyObject(rep);
    rep = redisCommand(c, "XLEN %s", STREAM);
    cr_assert_eq(rep->integer, 1, "the first went to database 2");
    freeReplyObject(rep);
    rep = redisCommand(c, "SELECT 0");
    freeReplyObject(rep);
    rep = redisCommand(c, "XLEN %s", STREAM);
    cr_assert_eq(rep->integer, 1, "alice's to database 0");
    freeReplyObject(rep);
    redisFree(c);

    /* a wrong password: reported, the password in no message */
    char msg[512] = "";
    snprintf(url, sizeof(url), "redis://alice:wr0ng-pw@127.0.0.1:%d", r.port);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.redis_url = url;
    o.linger_ms = 10;
    o.retry_deadline_ms = 300;
    o.on_report = on_report;
    o.report_user = msg;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    event(p, 9);
    cio_pipeline_flush(p, 5000);
    cio_pipeline_close(p, 1000);
    cr_assert(strncmp(msg,
                      "pipeline: retry deadline passed before the operation was delivered; the "
                      "last attempt: redis: 127.0.0.1:",
                      93) == 0 &&
                  strstr(msg, "refused AUTH") != NULL,
              "%s", msg);
    cr_assert_null(strstr(msg, "wr0ng"), "%s", msg);
    cr_log_info("wrong password: %s", msg);

    /* not a Redis URL: refused at once, the text not quoted */
    o.redis_url = "http://user:hunter2@host";
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_E_CONFIG);
    cr_assert_null(strstr(cio_last_error()->message, "hunter2"));
    cr_assert_str_eq(
        cio_last_error()->message,
        "redis: the Redis URL is not usable: it must start with redis:// or rediss://");
    test_redis_password = NULL;
    test_redis_stop(&r);
}

/* rediss://: hiredis 0.14 has no TLS, our transport does; the server's certificate is checked
 * (against ca_file here, the test certificate for 127.0.0.1), and refused when it cannot be. */
Test(redis_store, rediss_with_a_verified_certificate) {
    test_redis_t r;
    /* the plain port stays for the test's own checks; TLS on the next one (a pair tried until
     * both are free: a fixed TLS port taken by another test failed every attempt, CI-like run
     * 2026-12-03) */
    test_redis_start(&r, "--tls-port", TEST_REDIS_NEXT_PORT, "--tls-cert-file", CIO_TEST_TLS_CERT,
                     "--tls-key-file", CIO_TEST_TLS_KEY, "--tls-ca-cert-file", CIO_TEST_TLS_CERT,
                     "--tls-auth-clients", "no", NULL);
    int port = r.port + 1;
    char url[512];
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%d?ca_file=%s", port, CIO_TEST_TLS_CERT);
    cio_pipeline_t *p = producer(url, NULL, 0);
    event(p, 1);
    cr_assert_eq(cio_pipeline_close(p, 5000), CIO_OK);
    cr_assert_eq(test_redis_int(&r, "XLEN %s", STREAM), 1, "pushed over TLS");

    /* the system's CAs do not know the test certificate: refused, saying why */
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%d", port);
    char *stats = cio_redis_queue_stats_json(fx.client, url, CIO_SINK_TRACK_V2, NULL);
    cr_assert_null(stats);
    cr_assert_not_null(strstr(cio_last_error()->message, "TLS handshake"), "%s",
                       cio_last_error()->message);
    cr_log_info("unverified: %s", cio_last_error()->message);
    /* insecure=1 (tests only) skips the check */
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%d?insecure=1", port);
    stats = cio_redis_queue_stats_json(fx.client, url, CIO_SINK_TRACK_V2, NULL);
    cr_assert_not_null(stats, "%s", cio_last_error()->message);
    cr_assert_str_eq(stats, "{\"length\":1,\"pending\":0,\"oldest_pending_age_ms\":0,"
                            "\"dead_letters\":0,\"rate_limit_waits\":0}");
    cio_free_string(stats);
    test_redis_stop(&r);
}
