/*
 * Batches for any sink (pipeline_sink.h): items validated by the sink, packed into as many
 * requests as keep each body under the sink's limit (never truncated, order kept), sent
 * concurrently over the engine, and the answers turned into a cio_batch_result_t that names each
 * rejected item by its index in the caller's array. cio__batch_send refuses the whole batch for
 * one invalid item; cio__batch_send_valid (Track v2's send_batch) sends the valid ones and lists
 * the invalid ones in the same result as the server's rejections.
 */
#include "customerio/cdp.h"
#include "customerio/track_v2.h"
#include "pipeline_sink.h"
#include "request_internal.h"
#include "http.h"
#include "queue.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool add_item_error(cio_batch_result_t *r, size_t index, const char *reason,
                           const char *field, const char *message) {
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        cio_batch_item_error_t *e = realloc(r->errors, cap * sizeof(*e));
        if (e == NULL)
            return false;
        r->errors = e;
        r->cap = cap;
    }
    cio_batch_item_error_t *e = &r->errors[r->count++];
    e->index = index;
    e->reason = strdup(reason != NULL ? reason : "unknown");
    e->field = field != NULL ? strdup(field) : NULL;
    e->message = message != NULL ? strdup(message) : NULL;
    return e->reason != NULL;
}

/* Where the k-th item sent sits in the caller's array (where: NULL when every item was sent). */
static size_t caller_index(const size_t *where, size_t k) {
    return where != NULL ? where[k] : k;
}

typedef struct result_cursor {
    cio_batch_result_t *result;
    size_t first;
    const size_t *where;
} result_cursor_t;

static void add_to_result(void *user, size_t local, const char *reason, const char *field,
                          const char *message) {
    result_cursor_t *c = user;
    add_item_error(c->result, caller_index(c->where, c->first + local), reason, field, message);
}

/* The rejected items named in one request's 2xx answer, in the sink's format. */
static void collect_item_errors(cio_batch_result_t *r, const cio_sink_t *sink,
                                const cio_http_call_t *call, const size_t *where, size_t first,
                                size_t n_items) {
    result_cursor_t cursor = {r, first, where};
    sink->item_errors(call->response, call->response_len, n_items, add_to_result, &cursor);
}

static int by_index(const void *a, const void *b) {
    const cio_batch_item_error_t *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* One request of a batch: items [first, first + count). */
typedef struct chunk {
    size_t first, count;
    cio_buf_t body;
} chunk_t;

/* Packs prepared items into request bodies, each under the sink's limit. */
static cio_status_t pack_chunks(const char *call, const cio_sink_t *sink, cio_buf_t *ops,
                                size_t count, chunk_t **out, size_t *n_out) {
    chunk_t *chunks = calloc(count, sizeof(*chunks)); /* at most one chunk per operation */
    if (chunks == NULL)
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        chunk_t *c = n > 0 ? &chunks[n - 1] : NULL;
        if (c == NULL ||
            c->body.len + 1 + ops[i].len + sink->suffix_reserve >= sink->max_batch_bytes) {
            c = &chunks[n++];
            c->first = i;
            if (!cio__buf_appends(&c->body, sink->prefix))
                goto oom;
        } else if (!cio__buf_append(&c->body, ",", 1)) {
            goto oom;
        }
        if (!cio__buf_append(&c->body, ops[i].data, ops[i].len))
            goto oom;
        c->count++;
    }
    for (size_t k = 0; k < n; k++) {
        if (!sink->finish_body(&chunks[k].body))
            goto oom;
    }
    *out = chunks;
    *n_out = n;
    return CIO_OK;
oom:
    for (size_t k = 0; k < n; k++)
        cio__buf_free(&chunks[k].body);
    free(chunks);
    return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
}

/* Where each request's items sit in the caller's array, for mapping batch_index back. */
typedef struct chunk_map {
    const cio_sink_t *sink;
    size_t n;
    size_t *first; /* per request: its first item, counted among the items sent */
    size_t *count;
    size_t *where;               /* the caller's index of each item sent; NULL: all were sent */
    cio_batch_result_t *refused; /* items refused before sending (NULL: none), for the result */
} chunk_map_t;

static void chunk_map_free(void *p) {
    chunk_map_t *m = p;
    if (m != NULL) {
        free(m->first);
        free(m->count);
        free(m->where);
        cio_batch_result_free(m->refused);
        free(m);
    }
}

/* Builds the batch result: items refused before sending, per-item errors from 207/200 answers,
 * whole failed requests. */
static void finish_batch(void *ctx, const char *name, cio_http_call_t *calls, size_t n,
                         const cio_status_t *statuses, char **messages, cio_completion_t *out) {
    chunk_map_t *map = ctx;
    cio_batch_result_t *r = map->refused != NULL ? map->refused : calloc(1, sizeof(*r));
    size_t refused = map->refused != NULL ? map->refused->count : 0;
    map->refused = NULL;
    size_t first_failed = n;
    for (size_t k = 0; r != NULL && k < n; k++) {
        if (statuses[k] == CIO_OK) {
            collect_item_errors(r, map->sink, &calls[k], map->where, map->first[k], map->count[k]);
            continue;
        }
        for (size_t i = 0; i < map->count[k]; i++)
            add_item_error(r, caller_index(map->where, map->first[k] + i),
                           cio_status_str(statuses[k]), NULL, messages[k]);
        if (first_failed == n)
            first_failed = k;
    }
    if (r == NULL) {
        out->status = CIO_E_NOMEM;
        out->message = strdup("send_batch: out of memory");
        return;
    }
    r->requests = n;
    if (r->count > 1)
        qsort(r->errors, r->count, sizeof(*r->errors), by_index);
    out->batch_result = r;
    if (first_failed < n) {
        out->status = statuses[first_failed];
        out->message = messages[first_failed];
        messages[first_failed] = NULL;
        out->http_status = (int)calls[first_failed].http_status;
        out->attempts = calls[first_failed].attempts;
        out->retryable = cio__http_call_retryable(&calls[first_failed], statuses[first_failed]);
        /* the failed answer's body, for the caller's error (cio_last_error()->response_body) */
        out->response = calls[first_failed].response;
        out->response_len = calls[first_failed].response_len;
        calls[first_failed].response = NULL;
        calls[first_failed].response_len = 0;
    } else if (r->count > 0) {
        cio_buf_t m = {0};
        const cio_batch_item_error_t *e = &r->errors[0];
        cio__buf_printf(&m, "%s: %zu of the batch's items were rejected (first: item %zu, %s%s%s)",
                        name, r->count, e->index, e->reason, e->field != NULL ? " " : "",
                        e->field != NULL ? e->field : "");
        if (refused > 0)
            cio__buf_printf(&m, "; %zu of them invalid, not sent", refused);
        out->status = CIO_E_PARTIAL;
        out->message = m.data;
        out->http_status = (int)calls[0].http_status;
        out->attempts = calls[0].attempts;
    } else {
        out->status = CIO_OK;
        out->http_status = (int)calls[0].http_status;
        out->attempts = calls[0].attempts;
    }
}

/* Sends the packed requests; where and refused (may be NULL) are taken over. */
static cio_status_t send_chunks(cio_client_t *client, const char *call, const cio_sink_t *sink,
                                chunk_t *chunks, size_t n, size_t *where,
                                cio_batch_result_t *refused, cio_queue_t *queue, uint64_t token,
                                cio_batch_result_t **result) {
    cio_http_call_t *calls = calloc(n, sizeof(*calls));
    chunk_map_t *map = calloc(1, sizeof(*map));
    if (map != NULL) {
        map->sink = sink;
        map->n = n;
        map->first = calloc(n, sizeof(size_t));
        map->count = calloc(n, sizeof(size_t));
        map->where = where;
        map->refused = refused;
    }
    if (calls == NULL || map == NULL || map->first == NULL || map->count == NULL) {
        free(calls);
        if (map == NULL) {
            free(where);
            cio_batch_result_free(refused);
        }
        chunk_map_free(map);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    }
    for (size_t k = 0; k < n; k++) {
        calls[k] = (cio_http_call_t){.method = "POST",
                                     .path = cio__sink_path(client, sink),
                                     .body = chunks[k].body.data,
                                     .body_len = chunks[k].body.len,
                                     .auth = cio__sink_auth(sink)};
        map->first[k] = chunks[k].first;
        map->count[k] = chunks[k].count;
    }
    cio_completion_t out;
    cio_status_t st = cio__http_run(client, call, calls, n, finish_batch, map, chunk_map_free,
                                    queue, token, &out);
    for (size_t k = 0; k < n; k++)
        cio__http_call_cleanup(&calls[k]);
    free(calls);
    free((char *)out.message);
    free((char *)out.response);
    *result = out.batch_result;
    return st;
}

/* The message of a batch whose every item was refused: the first item's, counted. */
static cio_status_t fail_all_refused(const char *call, const char *item_name, size_t count,
                                     cio_status_t first_status, const cio_batch_result_t *r) {
    const char *first = r->errors[0].message != NULL ? r->errors[0].message : "";
    size_t prefix = strlen(call);
    if (strncmp(first, call, prefix) == 0 && strncmp(first + prefix, ": ", 2) == 0)
        first += prefix + 2; /* "send_batch: operations[0]: ..." without the call's name */
    if (count == 1)
        return cio__fail(first_status, "%s: %s", call, first);
    return cio__fail(first_status, "%s: all %zu %ss are invalid, nothing was sent (first: %s)",
                     call, count, item_name, first);
}

/*
 * Both batch calls. prepare NULL: the sink's prepare, and one invalid item fails the call.
 * Otherwise refused items are collected (refused) and the others sent. queue NULL: synchronous;
 * otherwise the completion goes to queue with token.
 */
static cio_status_t batch_send(cio_client_t *client, const char *call, const cio_sink_t *sink,
                               cio_prepare_item_fn prepare, const char *const *items, size_t count,
                               cio_queue_t *queue, uint64_t token, cio_batch_result_t **result) {
    if (result != NULL)
        *result = NULL;
    if (items == NULL || count == 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %ss is empty", call, sink->item_name);
    cio_buf_t *ops = calloc(count, sizeof(*ops));
    size_t *where = calloc(count, sizeof(*where));
    if (ops == NULL || where == NULL) {
        free(ops);
        free(where);
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    }
    cio_batch_result_t *refused = NULL;
    cio_status_t st = CIO_OK, first_refusal = CIO_OK;
    size_t n_ok = 0; /* items prepared into ops[0 .. n_ok) */
    for (size_t i = 0; st == CIO_OK && i < count; i++) {
        char label[48];
        snprintf(label, sizeof(label), "%ss[%zu]", sink->item_name, i);
        cio_item_fault_t why = {"invalid", NULL};
        st = prepare != NULL ? prepare(call, label, items[i], &ops[n_ok], &why)
                             : sink->prepare(call, label, items[i], &ops[n_ok]);
        if (st == CIO_OK) {
            where[n_ok++] = i;
            continue;
        }
        cio__buf_free(&ops[n_ok]);
        if (prepare == NULL || (st != CIO_E_INVALID_ARGUMENT && st != CIO_E_PAYLOAD_TOO_LARGE))
            break; /* all or nothing, or out of memory */
        const cio_error_t *e = cio_last_error();
        if (refused == NULL)
            refused = calloc(1, sizeof(*refused));
        if (refused == NULL ||
            !add_item_error(refused, i, why.reason, why.field, e != NULL ? e->message : NULL)) {
            st = cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
            break;
        }
        if (first_refusal == CIO_OK)
            first_refusal = st;
        st = CIO_OK;
    }
    chunk_t *chunks = NULL;
    size_t n_chunks = 0;
    if (st == CIO_OK && n_ok > 0)
        st = pack_chunks(call, sink, ops, n_ok, &chunks, &n_chunks);
    for (size_t i = 0; i < n_ok; i++)
        cio__buf_free(&ops[i]);
    free(ops);
    if (st == CIO_OK && n_ok == 0) { /* every item refused: nothing to send */
        free(where);
        st = fail_all_refused(call, sink->item_name, count, first_refusal, refused);
        if (result != NULL)
            *result = refused;
        else
            cio_batch_result_free(refused);
        return st;
    }
    if (st != CIO_OK) {
        free(where);
        cio_batch_result_free(refused);
        return st;
    }
    if (refused == NULL) { /* every item is sent: indexes are the caller's */
        free(where);
        where = NULL;
    }
    cio_batch_result_t *r = NULL;
    st = send_chunks(client, call, sink, chunks, n_chunks, where, refused, queue, token, &r);
    for (size_t k = 0; k < n_chunks; k++)
        cio__buf_free(&chunks[k].body);
    free(chunks);
    if (result != NULL)
        *result = r;
    else
        cio_batch_result_free(r);
    return st;
}

/* The classic batch calls take cio_async_next()'s switch once, here, before any item is
 * validated (a refused item records an error, which would void it), and pass it down. */
cio_status_t cio__batch_send(cio_client_t *client, const char *call, const cio_sink_t *sink,
                             const char *const *items, size_t count, cio_batch_result_t **result) {
    uint64_t token;
    cio_queue_t *queue = cio__async_take(&token);
    return batch_send(client, call, sink, NULL, items, count, queue, token, result);
}

cio_status_t cio__batch_send_valid(cio_client_t *client, const char *call, const cio_sink_t *sink,
                                   cio_prepare_item_fn prepare, const char *const *items,
                                   size_t count, cio_batch_result_t **result) {
    uint64_t token;
    cio_queue_t *queue = cio__async_take(&token);
    return batch_send(client, call, sink, prepare, items, count, queue, token, result);
}

cio_status_t cio__batch_send_valid_to(cio_client_t *client, const char *call,
                                      const cio_sink_t *sink, cio_prepare_item_fn prepare,
                                      const char *const *items, size_t count, cio_queue_t *queue,
                                      uint64_t token, cio_batch_result_t **result) {
    return batch_send(client, call, sink, prepare, items, count, queue, token, result);
}
