/* The producer's side of the shared Redis queue (store_redis.h) and the queue's layout
 * (redis_queue.h). */
#include "store_redis.h"
#include "ratelimit.h"
#include "redis_queue.h"
#include "util/error.h"
#include "util/json_read.h"

#include <openssl/rand.h>
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

void cio__redis_op_id(const char *op, size_t len, const char *unique, char out[80]) {
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
    if (unique != NULL) { /* this accepted operation, not its content: two equal identifies
                           * sent a minute apart are two operations, both owed */
        snprintf(out, 80, "s%s", unique);
        return;
    }
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)op, len, md);
    out[0] = 'h';
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
}

cio_status_t cio__redis_push(cio_redis_t *r, const char *prefix, size_t n, const char *const *ops,
                             const size_t *lens, const char *const *uniques, size_t *added) {
    size_t argc = 5 + 2 * n; /* EVAL, script, numkeys, the queue, n seen marks, ttl, n ops */
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
        cio__redis_op_id(ops[i], lens[i], uniques != NULL ? uniques[i] : NULL, id);
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

/* ---------------------------------------------------------------- a pipeline's link */

struct cio_redis_link {
    cio_redis_t *redis; /* the forwarder's; NULL when it only rate-limits */
    char prefix[CIO_REDIS_PREFIX_MAX];
    cio_ratelimit_t *limiter; /* NULL without ratelimit_url */
    /* Names this pipeline's operations without an id of their own in the "seen" marks, with
     * their seq: a retried push is recognised, an equal operation accepted again is not. */
    char nonce[17];
};

cio_status_t cio__redis_link_new(cio_client_t *client, cio_pipeline_options_t *o,
                                 cio_redis_link_t **out) {
    *out = NULL;
    if (o->redis_url == NULL && o->ratelimit_url == NULL)
        return CIO_OK;
    cio_redis_link_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return cio__fail(CIO_E_NOMEM, "pipeline: out of memory");
    unsigned char raw[8];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        free(l);
        return cio__fail(CIO_E_INTERNAL, "pipeline: no random bytes for the Redis queue's marks");
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(l->nonce + 2 * i, 3, "%02x", raw[i]);
    cio_status_t st = cio__redis_prefix(client, o->sink, l->prefix);
    if (st == CIO_OK && o->redis_url != NULL)
        st = cio__redis_new(o->redis_url, 0, &l->redis);
    if (st == CIO_OK && o->ratelimit_url != NULL) {
        double limit;
        long period_ms;
        cio__ratelimit_default(o->sink == CIO_SINK_PIPELINES ? CIO_API_CDP : CIO_API_TRACK, &limit,
                               &period_ms);
        if (o->max_requests_per_second > 0) {
            limit = o->max_requests_per_second;
            period_ms = 1000;
        }
        st = cio__ratelimit_new(o->ratelimit_url, l->prefix, limit, period_ms, o->ratelimit_senders,
                                &l->limiter);
    }
    if (st != CIO_OK) {
        cio__redis_link_free(l);
        return st;
    }
    o->max_requests_per_second = -1; /* the fleet limit (or the push) replaces local pacing */
    o->redis_url = o->ratelimit_url = NULL; /* not kept: the link has its copies */
    *out = l;
    return CIO_OK;
}

bool cio__redis_link_forwards(const cio_redis_link_t *l) {
    return l != NULL && l->redis != NULL;
}

bool cio__redis_link_take(cio_redis_link_t *l, const bool *stop) {
    return l == NULL || l->limiter == NULL || cio__ratelimit_take(l->limiter, stop);
}

int cio__redis_link_attempts(const cio_redis_link_t *l, int fallback) {
    return l != NULL && l->limiter != NULL ? 1 : fallback;
}

void cio__redis_link_answered(cio_redis_link_t *l, long http_status, long retry_after_ms) {
    if (l != NULL && l->limiter != NULL && http_status == 429)
        cio__ratelimit_pause(l->limiter, retry_after_ms >= 0 ? retry_after_ms : 1000);
}

bool cio__redis_link_pause_pending(const cio_redis_link_t *l) {
    return l != NULL && l->limiter != NULL && cio__ratelimit_pause_pending(l->limiter);
}

void cio__redis_link_publish_pause(cio_redis_link_t *l) {
    if (l != NULL && l->limiter != NULL)
        cio__ratelimit_publish_pause(l->limiter);
}

void cio__redis_link_free(cio_redis_link_t *l) {
    if (l == NULL)
        return;
    cio__redis_free(l->redis);
    cio__ratelimit_free(l->limiter);
    free(l);
}

cio_completion_t *cio__redis_link_push(cio_redis_link_t *l, const cio_store_item_t *items) {
    size_t n = 0;
    for (const cio_store_item_t *it = items; it != NULL; it = it->next)
        n++;
    const char **ops = calloc(n ? n : 1, sizeof(*ops));
    size_t *lens = calloc(n ? n : 1, sizeof(*lens));
    char(*unique)[40] = calloc(n ? n : 1, sizeof(*unique));
    const char **uniques = calloc(n ? n : 1, sizeof(*uniques));
    cio_completion_t *c = calloc(1, sizeof(*c));
    if (ops == NULL || lens == NULL || unique == NULL || uniques == NULL || c == NULL) {
        free(ops);
        free(lens);
        free(unique);
        free(uniques);
        free(c);
        return NULL; /* the pipeline reads NULL as out of memory: requeued */
    }
    size_t i = 0;
    for (const cio_store_item_t *it = items; it != NULL; it = it->next, i++) {
        ops[i] = it->data;
        lens[i] = it->len;
        snprintf(unique[i], sizeof(unique[i]), "%s-%llu", l->nonce, (unsigned long long)it->seq);
        uniques[i] = unique[i];
    }
    c->status = cio__redis_push(l->redis, l->prefix, n, ops, lens, uniques, NULL);
    free(unique);
    free(uniques);
    if (c->status != CIO_OK) {
        const cio_error_t *e = cio_last_error();
        c->message = strdup(e != NULL ? e->message : "redis: the push failed");
        c->retryable = 1;
    }
    free(ops);
    free(lens);
    return c;
}
