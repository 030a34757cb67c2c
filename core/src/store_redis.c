/* The producer's side of the shared Redis queue (store_redis.h) and the queue's layout
 * (redis_queue.h). */
#include "store_redis.h"
#include "redis_queue.h"
#include "util/error.h"
#include "util/json_scan.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] the stream, KEYS[2..] each operation's "seen" key; ARGV[1] the mark's expiry (s),
 * ARGV[2..] the operations in KEYS' order. An operation already seen is not queued again. */
static const char push_script[] = "local added = 0\n"
                                  "for i = 2, #KEYS do\n"
                                  "  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then\n"
                                  "    redis.call('XADD', KEYS[1], '*', 'op', ARGV[i])\n"
                                  "    added = added + 1\n"
                                  "  end\n"
                                  "end\n"
                                  "return added\n";

cio_status_t cio__redis_prefix(const cio_client_t *client, cio_pipeline_sink_t sink,
                               char out[CIO_REDIS_PREFIX_MAX]) {
    if (sink == CIO_SINK_PIPELINES) {
        if (client->cdp_api_key == NULL || *client->cdp_api_key == '\0')
            return cio__fail(CIO_E_CONFIG, "redis: the client has no Pipelines API key (it names "
                                           "the workspace's queue)");
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)client->cdp_api_key, strlen(client->cdp_api_key), md);
        snprintf(out, CIO_REDIS_PREFIX_MAX, "{cio:cdp-%02x%02x%02x%02x%02x%02x%02x%02x}", md[0],
                 md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
        return CIO_OK;
    }
    if (client->site_id == NULL || *client->site_id == '\0')
        return cio__fail(CIO_E_CONFIG,
                         "redis: the client has no Track site id (it names the workspace's queue)");
    if (strlen(client->site_id) > CIO_REDIS_PREFIX_MAX - 8 ||
        strpbrk(client->site_id, "{}") != NULL)
        return cio__fail(CIO_E_CONFIG, "redis: the site id cannot name a Redis key");
    snprintf(out, CIO_REDIS_PREFIX_MAX, "{cio:%s}", client->site_id);
    return CIO_OK;
}

void cio__redis_op_id(const char *op, size_t len, char out[80]) {
    cio_json_value_t root, id;
    if (cio__json_scan(op, len, &root, NULL) &&
        (cio__jget(&root, "id", &id) || cio__jget(&root, "messageId", &id)) &&
        id.kind == CIO_JSON_STRING) {
        size_t n = cio__jstring(&id, out + 1, 79);
        if (n > 0 && n < 78) {
            out[0] = 'i';
            return;
        }
    }
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)op, len, md);
    out[0] = 'h';
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
}

cio_status_t cio__redis_push(cio_redis_t *r, const char *prefix, size_t n, const char *const *ops,
                             const size_t *lens, size_t *added) {
    size_t argc = 3 + 2 * n + 1;
    const char **argv = calloc(argc, sizeof(*argv));
    size_t *argl = calloc(argc, sizeof(*argl));
    char *keys = malloc(n * (CIO_REDIS_PREFIX_MAX + 90) + CIO_REDIS_PREFIX_MAX + 8);
    if (argv == NULL || argl == NULL || keys == NULL) {
        free(argv);
        free(argl);
        free(keys);
        return cio__fail(CIO_E_NOMEM, "redis: out of memory");
    }
    char numkeys[24], ttl[24];
    snprintf(numkeys, sizeof(numkeys), "%zu", n + 1);
    snprintf(ttl, sizeof(ttl), "%d", CIO_REDIS_SEEN_TTL_S);
    size_t k = 0;
    argv[k++] = "EVAL";
    argv[k++] = push_script;
    argv[k++] = numkeys;
    char *at = keys;
    at += sprintf(at, "%s:q", prefix) + 1;
    argv[k++] = keys;
    for (size_t i = 0; i < n; i++) {
        char id[80];
        cio__redis_op_id(ops[i], lens[i], id);
        argv[k++] = at;
        at += sprintf(at, "%s:seen:%s", prefix, id) + 1;
    }
    argv[k++] = ttl;
    for (size_t i = 0; i < n; i++) {
        argl[k] = lens[i];
        argv[k++] = ops[i];
    }
    for (size_t i = 0; i < k; i++)
        if (argl[i] == 0)
            argl[i] = strlen(argv[i]);
    cio_redis_cmd_t cmd = {(int)k, argv, argl};
    redisReply *reply = NULL;
    cio_status_t st = cio__redis_exec(r, 1, &cmd, &reply);
    free(argv);
    free(argl);
    free(keys);
    if (st != CIO_OK)
        return st;
    if (reply->type != REDIS_REPLY_INTEGER) {
        /* OOM under maxmemory noeviction, READONLY replica, a script error: worth a retry */
        st = cio__fail(CIO_E_NETWORK, "redis: %s refused the queued operations: %.200s",
                       cio__redis_where(r),
                       reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected answer");
        cio__error_set_retryable(true);
    } else if (added != NULL) {
        *added = (size_t)reply->integer;
    }
    freeReplyObject(reply);
    return st;
}

/* ---------------------------------------------------------------- the forwarder */

struct cio_redis_fwd {
    cio_redis_t *redis;
    char prefix[CIO_REDIS_PREFIX_MAX];
};

cio_status_t cio__redis_fwd_new(cio_client_t *client, const cio_pipeline_options_t *o,
                                cio_redis_fwd_t **out) {
    cio_redis_fwd_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    cio_status_t st = cio__redis_prefix(client, o->sink, f->prefix);
    if (st == CIO_OK)
        st = cio__redis_new(o->redis_url, 0, &f->redis);
    if (st != CIO_OK) {
        free(f);
        return st;
    }
    *out = f;
    return CIO_OK;
}

cio_completion_t *cio__redis_fwd_push(cio_redis_fwd_t *f, const cio_store_item_t *items) {
    size_t n = 0;
    for (const cio_store_item_t *it = items; it != NULL; it = it->next)
        n++;
    const char **ops = calloc(n ? n : 1, sizeof(*ops));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    cio_completion_t *c = calloc(1, sizeof(*c));
    if (ops == NULL || lens == NULL || c == NULL) {
        free(ops);
        free(lens);
        free(c);
        return NULL; /* the pipeline reads NULL as out of memory: requeued */
    }
    size_t i = 0;
    for (const cio_store_item_t *it = items; it != NULL; it = it->next, i++) {
        ops[i] = it->data;
        lens[i] = it->len;
    }
    c->status = cio__redis_push(f->redis, f->prefix, n, ops, lens, NULL);
    if (c->status != CIO_OK) {
        const cio_error_t *e = cio_last_error();
        c->message = strdup(e != NULL ? e->message : "redis: the push failed");
        c->retryable = 1;
    }
    free(ops);
    free(lens);
    return c;
}

void cio__redis_fwd_free(cio_redis_fwd_t *f) {
    if (f == NULL)
        return;
    cio__redis_free(f->redis);
    free(f);
}
