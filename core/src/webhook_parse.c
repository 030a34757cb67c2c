/*
 * Reporting webhook bodies: one event object or {"events": [...]}, parsed with jansson. Every
 * string of a list lives in one arena (offsets while building, pointers once it stops growing).
 * The compact JSON is written by cio__buf_append_json (util/json_write.c), which keeps numbers
 * exact.
 */
#include "customerio/webhook.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_STRING SIZE_MAX

struct cio_webhook_events {
    size_t count;
    cio_webhook_event_t *items;
    char *strings; /* the arena every item's strings point into */
};

/* One event while the arena may still move: offsets into it instead of pointers. */
typedef struct event_offsets {
    size_t event_id, object_type, metric, delivery_id, data_json, json;
    int64_t timestamp;
} event_offsets_t;

/* Appends a NUL-terminated string to the arena; *offset receives where it starts. */
static bool arena_add(cio_buf_t *arena, const char *s, size_t *offset) {
    *offset = arena->len;
    return cio__buf_append(arena, s, strlen(s) + 1);
}

static bool arena_add_json(cio_buf_t *arena, json_t *v, size_t *offset) {
    *offset = arena->len;
    return cio__buf_append_json(arena, v) && cio__buf_append(arena, "", 1);
}

/* ---- events ---- */

static cio_status_t nomem(void) {
    return cio__fail(CIO_E_NOMEM, "webhook: out of memory");
}

/* A required non-empty string member. where is "" or "events[i]: ". */
static cio_status_t required_string(json_t *ev, const char *where, const char *field,
                                    const char **out) {
    json_t *v = json_object_get(ev, field);
    if (v == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %s%s is missing", where, field);
    if (!json_is_string(v))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %s%s must be a string (got %s)", where,
                         field, cio__json_type_name(v));
    if (json_string_length(v) == 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %s%s is empty", where, field);
    *out = json_string_value(v);
    return CIO_OK;
}

static cio_status_t parse_event(json_t *ev, const char *where, cio_buf_t *arena,
                                event_offsets_t *out) {
    if (!json_is_object(ev))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %sevent must be a JSON object (got %s)",
                         where, cio__json_type_name(ev));
    const char *event_id, *object_type, *metric;
    cio_status_t st;
    if ((st = required_string(ev, where, "event_id", &event_id)) != CIO_OK ||
        (st = required_string(ev, where, "object_type", &object_type)) != CIO_OK ||
        (st = required_string(ev, where, "metric", &metric)) != CIO_OK)
        return st;

    json_t *ts = json_object_get(ev, "timestamp");
    if (ts == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %stimestamp is missing", where);
    if (!json_is_integer(ts))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "webhook: %stimestamp must be an integer of unix seconds (got %s)", where,
                         json_is_real(ts) ? "a fractional number" : cio__json_type_name(ts));
    if (json_integer_value(ts) < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %stimestamp is negative", where);

    json_t *data = json_object_get(ev, "data");
    if (data != NULL && json_is_null(data))
        data = NULL;
    if (data != NULL && !json_is_object(data))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %sdata must be an object (got %s)",
                         where, cio__json_type_name(data));

    json_t *delivery = json_object_get(ev, "delivery_id");
    if (delivery != NULL && json_is_null(delivery))
        delivery = NULL;
    if (delivery != NULL && !json_is_string(delivery))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: %sdelivery_id must be a string (got %s)",
                         where, cio__json_type_name(delivery));
    if (delivery == NULL && data != NULL) {
        /* data is free-form: a non-string data.delivery_id is kept in data_json, not used */
        json_t *d = json_object_get(data, "delivery_id");
        if (json_is_string(d))
            delivery = d;
    }

    out->timestamp = (int64_t)json_integer_value(ts);
    out->delivery_id = NO_STRING;
    bool ok =
        arena_add(arena, event_id, &out->event_id) &&
        arena_add(arena, object_type, &out->object_type) &&
        arena_add(arena, metric, &out->metric) &&
        (delivery == NULL || arena_add(arena, json_string_value(delivery), &out->delivery_id)) &&
        (data != NULL ? arena_add_json(arena, data, &out->data_json)
                      : arena_add(arena, "{}", &out->data_json)) &&
        arena_add_json(arena, ev, &out->json);
    return ok ? CIO_OK : nomem();
}

/* Turns the offsets into a list that owns the arena. */
static cio_status_t make_list(cio_buf_t *arena, const event_offsets_t *offs, size_t n,
                              cio_webhook_events_t **out) {
    cio_webhook_events_t *list = calloc(1, sizeof(*list));
    cio_webhook_event_t *items = n > 0 ? calloc(n, sizeof(*items)) : NULL;
    if (list == NULL || (n > 0 && items == NULL)) {
        free(list);
        free(items);
        return nomem();
    }
    const char *base = arena->data;
    for (size_t i = 0; i < n; i++) {
        items[i].event_id = base + offs[i].event_id;
        items[i].object_type = base + offs[i].object_type;
        items[i].metric = base + offs[i].metric;
        items[i].timestamp = offs[i].timestamp;
        items[i].delivery_id = offs[i].delivery_id == NO_STRING ? NULL : base + offs[i].delivery_id;
        items[i].data_json = base + offs[i].data_json;
        items[i].json = base + offs[i].json;
    }
    list->count = n;
    list->items = items;
    list->strings = arena->data; /* the list takes the arena */
    arena->data = NULL;
    arena->len = arena->cap = 0;
    *out = list;
    return CIO_OK;
}

cio_status_t cio_webhook_parse(const char *body, size_t body_len, cio_webhook_events_t **out) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: out is NULL");
    *out = NULL;
    if (body == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: body is NULL");

    /* jansson skips NUL bytes between tokens; JSON has none, so such a body is refused here */
    const char *nul = memchr(body, '\0', body_len);
    if (nul != NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "webhook: body is not JSON (a NUL byte at offset %zu)",
                         (size_t)(nul - body));
    json_error_t err;
    json_t *root = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "webhook: body is not JSON (line %d, column %d: %s)", err.line, err.column,
                         err.text);
    if (!json_is_object(root)) {
        cio_status_t st =
            cio__fail(CIO_E_INVALID_ARGUMENT,
                      "webhook: body must be a JSON object (one event or {\"events\": [...]}), got "
                      "%s",
                      cio__json_type_name(root));
        json_decref(root);
        return st;
    }

    /* {"events": [...]} unless the object is itself an event */
    json_t *events = NULL;
    if (json_object_get(root, "event_id") == NULL && json_object_get(root, "events") != NULL) {
        events = json_object_get(root, "events");
        if (!json_is_array(events)) {
            cio_status_t st =
                cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: events must be an array (got %s)",
                          cio__json_type_name(events));
            json_decref(root);
            return st;
        }
    }

    size_t n = events != NULL ? json_array_size(events) : 1;
    event_offsets_t *offs = n > 0 ? calloc(n, sizeof(*offs)) : NULL;
    cio_buf_t arena = {0};
    cio_status_t st = CIO_OK;
    if (n > 0 && offs == NULL)
        st = nomem();
    for (size_t i = 0; st == CIO_OK && i < n; i++) {
        char where[48] = "";
        if (events != NULL)
            snprintf(where, sizeof(where), "events[%zu]: ", i);
        st =
            parse_event(events != NULL ? json_array_get(events, i) : root, where, &arena, &offs[i]);
    }
    /* an empty list still gets an arena, so the list owns a real allocation */
    if (st == CIO_OK && arena.data == NULL && !cio__buf_append(&arena, "", 1))
        st = nomem();
    if (st == CIO_OK)
        st = make_list(&arena, offs, n, out);
    free(offs);
    cio__buf_free(&arena);
    json_decref(root);
    return st == CIO_OK ? cio__ok() : st;
}

size_t cio_webhook_events_count(const cio_webhook_events_t *events) {
    return events != NULL ? events->count : 0;
}

const cio_webhook_event_t *cio_webhook_events_get(const cio_webhook_events_t *events,
                                                  size_t index) {
    if (events == NULL || index >= events->count)
        return NULL;
    return &events->items[index];
}

void cio_webhook_events_free(cio_webhook_events_t *events) {
    if (events == NULL)
        return;
    free(events->items);
    free(events->strings);
    free(events);
}
