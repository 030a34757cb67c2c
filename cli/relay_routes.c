/*
 * The relay's routes: which URL is which call, and each call's body turned into the arguments of
 * the core's builders. The bodies are read in place with the core's JSON scanner
 * (customerio/json.h), so values reach the builders byte for byte (numbers keep their spelling);
 * the builders validate and write what is sent.
 */
#include "relay.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const cdp_types[] = {"identify", "track", "page", "screen", "group", "alias"};

static bool starts(const char *s, const char *prefix, const char **rest) {
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0) {
        return false;
    }
    *rest = s + n;
    return true;
}

bool relay_route_match(const char *url, relay_match_t *m) {
    memset(m, 0, sizeof(*m));
    m->method = "POST";
    const char *rest;
    if (strcmp(url, "/healthz") == 0) {
        m->route = RELAY_ROUTE_HEALTHZ;
        m->method = "GET";
        return true;
    }
    if (strcmp(url, "/stats") == 0) {
        m->route = RELAY_ROUTE_STATS;
        m->method = "GET";
        return true;
    }
    if (starts(url, "/v1/", &rest)) {
        m->shape = RELAY_SHAPE_PIPELINES;
        m->sink = RELAY_SINK_PIPELINES;
        if (strcmp(rest, "batch") == 0 || strcmp(rest, "import") == 0) {
            m->route = RELAY_ROUTE_CDP_BATCH;
            return true;
        }
        if (strcmp(rest, "b") == 0) { /* the browser SDKs' batches (analytics-next) */
            m->route = RELAY_ROUTE_CDP_BATCH;
            return true;
        }
        for (size_t i = 0; i < sizeof(cdp_types) / sizeof(cdp_types[0]); i++) {
            /* /v1/track, or the browser SDKs' /v1/t: the type's first letter */
            if (strcmp(rest, cdp_types[i]) == 0 ||
                (rest[0] == cdp_types[i][0] && rest[1] == '\0')) {
                m->route = RELAY_ROUTE_CDP_MESSAGE;
                snprintf(m->type, sizeof(m->type), "%s", cdp_types[i]);
                return true;
            }
        }
        return false;
    }
    m->shape = RELAY_SHAPE_TEAM;
    m->sink = RELAY_SINK_TRACK;
    if (strcmp(url, "/events") == 0) {
        m->route = RELAY_ROUTE_TEAM_TRACK;
        return true;
    }
    if (strcmp(url, "/customers") == 0 || strcmp(url, "/customer") == 0) {
        m->route = RELAY_ROUTE_TEAM_IDENTIFY;
        return true;
    }
    if (starts(url, "/customers/", &rest) || starts(url, "/customer/", &rest)) {
        const char *slash = strchr(rest, '/');
        m->path_id = rest;
        if (slash == NULL) {
            m->path_id_len = strlen(rest);
            m->route = RELAY_ROUTE_TEAM_IDENTIFY;
        } else if (strcmp(slash, "/events") == 0) {
            m->path_id_len = (size_t)(slash - rest);
            m->route = RELAY_ROUTE_TEAM_TRACK;
        } else {
            return false;
        }
        return m->path_id_len > 0;
    }
    return false;
}

static bool refuse(relay_refusal_t *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool refuse(relay_refusal_t *why, const char *fmt, ...) {
    why->status = 400;
    why->code = "invalid";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof(why->message), fmt, ap);
    va_end(ap);
    return false;
}

/* The core's refusal of a builder's arguments, as a 400 (prefix names the item of a batch). */
static bool refuse_core(relay_refusal_t *why, const char *prefix) {
    const cio_error_t *e = cio_last_error();
    const char *msg = e != NULL ? e->message : "refused";
    if (e != NULL && e->status == CIO_E_PAYLOAD_TOO_LARGE) {
        why->status = 413;
        why->code = "too_large";
    } else {
        why->status = 400;
        why->code = "invalid";
    }
    snprintf(why->message, sizeof(why->message), "%s%s", prefix, msg);
    return false;
}

/* body as one JSON object (an empty body is {} when empty_ok). */
static bool body_object(const char *body, size_t len, bool empty_ok, cio_json_value_t *root,
                        relay_refusal_t *why) {
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) {
        i++;
    }
    if (i == len) {
        if (empty_ok) {
            root->text = "{}";
            root->len = 2;
            root->kind = CIO_JSON_OBJECT;
            return true;
        }
        return refuse(why, "body: a JSON object is required");
    }
    if (cio_json_scan(body, len, root) != CIO_OK) {
        return refuse(why, "body: not JSON (%s)", cio_last_error()->message);
    }
    if (root->kind != CIO_JSON_OBJECT) {
        return refuse(why, "body: must be a JSON object");
    }
    return true;
}

/* A string value decoded (malloc'd). */
static char *decoded(const cio_json_value_t *v) {
    char probe[1];
    size_t n = cio_json_string(v, probe, sizeof(probe));
    char *s = xmalloc(n + 1);
    cio_json_string(v, s, n + 1);
    return s;
}

static void call_add(relay_call_t *call, cio_request_t *req) {
    call->reqs = xrealloc(call->reqs, (call->n + 1) * sizeof(*call->reqs));
    call->ids = xrealloc(call->ids, (call->n + 1) * sizeof(*call->ids));
    size_t len = 0;
    const char *body = cio_request_body(req, &len);
    cio_json_value_t root, id;
    char *text = NULL;
    /* the id the builder gave it: an event's "id", a message's "messageId" */
    if (body != NULL && cio_json_scan(body, len, &root) == CIO_OK &&
        (cio_json_get(&root, "messageId", &id) ||
         (cio_json_get(&root, "id", &id) && cio_request_api(req) == CIO_API_TRACK)) &&
        id.kind == CIO_JSON_STRING) {
        text = decoded(&id);
    }
    call->ids[call->n] = text != NULL ? text : xstrdup("");
    call->reqs[call->n++] = req;
}

void relay_call_free(relay_call_t *call) {
    for (size_t i = 0; i < call->n; i++) {
        cio_request_free(call->reqs[i]);
        free(call->ids[i]);
    }
    free(call->reqs);
    free(call->ids);
    memset(call, 0, sizeof(*call));
}

/* ------------------------------------------------------------------------------ team shape */

typedef struct team_body {
    cio_json_value_t customer_id, name, email, properties, event, timestamp, id;
    bool has_customer_id, has_name, has_email, has_properties, has_event, has_timestamp, has_id;
} team_body_t;

/* Reads the members a team route takes; refuses others, naming them. */
static bool team_read(const cio_json_value_t *root, bool track, team_body_t *b,
                      relay_refusal_t *why) {
    memset(b, 0, sizeof(*b));
    const char *cursor = NULL;
    cio_json_value_t key, value;
    while (cio_json_next(root, &cursor, &key, &value)) {
        struct {
            const char *name;
            cio_json_value_t *slot;
            bool *has;
            bool ok;
        } members[] = {
            {"customer_id", &b->customer_id, &b->has_customer_id, true},
            {"properties", &b->properties, &b->has_properties, true},
            {"name", &b->name, &b->has_name, !track},
            {"email", &b->email, &b->has_email, !track},
            {"event", &b->event, &b->has_event, track},
            {"timestamp", &b->timestamp, &b->has_timestamp, track},
            {"id", &b->id, &b->has_id, track},
        };
        bool known = false;
        for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
            if (members[i].ok && cio_json_string_is(&key, members[i].name)) {
                *members[i].slot = value;
                *members[i].has = true;
                known = true;
            }
        }
        if (!known) {
            char name[64];
            cio_json_string(&key, name, sizeof(name));
            return refuse(why, "%s: unknown field (%s)", name,
                          track ? "customer_id, event, properties, timestamp, id"
                                : "customer_id, name, email, properties");
        }
    }
    if (b->has_properties && b->properties.kind != CIO_JSON_OBJECT) {
        return refuse(why, "properties: must be a JSON object");
    }
    return true;
}

/* The customer id: the path's, or the body's (both: the same). *id is malloc'd. */
static bool team_customer(const relay_match_t *m, const team_body_t *b, cio_id_type_t *type,
                          char **id, relay_refusal_t *why) {
    char *body_id = NULL;
    if (b->has_customer_id) {
        if (b->customer_id.kind == CIO_JSON_STRING) {
            body_id = decoded(&b->customer_id);
            *type = CIO_ID_TYPE_ID;
        } else if (b->customer_id.kind == CIO_JSON_INTEGER) {
            body_id = xstrndup(b->customer_id.text, b->customer_id.len);
            *type = CIO_ID_TYPE_ID_INTEGER;
        } else {
            return refuse(why, "customer_id: must be a string or an integer");
        }
    }
    if (m->path_id != NULL) {
        char *path_id = xstrndup(m->path_id, m->path_id_len);
        if (body_id != NULL && strcmp(body_id, path_id) != 0) {
            free(body_id);
            free(path_id);
            return refuse(why, "customer_id: differs from the id in the path");
        }
        free(body_id);
        *id = path_id;
        *type = CIO_ID_TYPE_ID;
        return true;
    }
    if (body_id == NULL) {
        return refuse(why, "customer_id: required");
    }
    *id = body_id;
    return true;
}

/* name, email and the properties as one attributes object (name and email win over the
 * properties' members of that name). NULL when there is none of them. */
static char *team_attributes(const team_body_t *b) {
    if (!b->has_name && !b->has_email && !b->has_properties) {
        return NULL;
    }
    sbuf_t s = {0};
    sb_putc(&s, '{');
    bool first = true;
    const cio_json_value_t *top[] = {b->has_name ? &b->name : NULL,
                                     b->has_email ? &b->email : NULL};
    const char *names[] = {"name", "email"};
    for (size_t i = 0; i < 2; i++) {
        if (top[i] != NULL) {
            sb_printf(&s, "%s\"%s\":", first ? "" : ",", names[i]);
            sb_append(&s, top[i]->text, top[i]->len);
            first = false;
        }
    }
    if (b->has_properties) {
        const char *cursor = NULL;
        cio_json_value_t key, value;
        while (cio_json_next(&b->properties, &cursor, &key, &value)) {
            if ((b->has_name && cio_json_string_is(&key, "name")) ||
                (b->has_email && cio_json_string_is(&key, "email"))) {
                continue;
            }
            if (!first) {
                sb_putc(&s, ',');
            }
            sb_append(&s, key.text, key.len);
            sb_putc(&s, ':');
            sb_append(&s, value.text, value.len);
            first = false;
        }
    }
    sb_putc(&s, '}');
    return sb_take(&s);
}

static bool team_build(const relay_match_t *m, const cio_json_value_t *root, relay_call_t *call,
                       relay_refusal_t *why) {
    bool track = m->route == RELAY_ROUTE_TEAM_TRACK;
    team_body_t b;
    cio_id_type_t type = CIO_ID_TYPE_ID;
    char *id = NULL;
    if (!team_read(root, track, &b, why) || !team_customer(m, &b, &type, &id, why)) {
        return false;
    }
    cio_request_t *req = NULL;
    cio_status_t st;
    if (!track) {
        if ((b.has_name && b.name.kind != CIO_JSON_STRING) ||
            (b.has_email && b.email.kind != CIO_JSON_STRING)) {
            free(id);
            return refuse(why, "%s: must be a string",
                          b.has_name && b.name.kind != CIO_JSON_STRING ? "name" : "email");
        }
        char *attributes = team_attributes(&b);
        st = cio_v2_person_identify_request(type, id, attributes, &req);
        free(attributes);
    } else {
        if (!b.has_event || b.event.kind != CIO_JSON_STRING) {
            free(id);
            return refuse(why, "event: %s", b.has_event ? "must be a string" : "required");
        }
        cio_event_options_t opts = CIO_EVENT_OPTIONS_INIT;
        if (b.has_timestamp &&
            (!cio_json_int(&b.timestamp, &opts.timestamp) || opts.timestamp < 0)) {
            free(id);
            return refuse(why, "timestamp: must be unix seconds (an integer >= 0)");
        }
        char *event_id = NULL;
        if (b.has_id) {
            if (b.id.kind != CIO_JSON_STRING) {
                free(id);
                return refuse(why, "id: must be a string");
            }
            event_id = decoded(&b.id);
            opts.id = event_id;
        }
        char *event = decoded(&b.event);
        char *props = b.has_properties ? xstrndup(b.properties.text, b.properties.len) : NULL;
        st = cio_v2_person_event_request(type, id, event, props, &opts, &req);
        free(event);
        free(props);
        free(event_id);
    }
    free(id);
    if (st != CIO_OK) {
        return refuse_core(why, "");
    }
    call_add(call, req);
    return true;
}

/* ------------------------------------------------------------------------- Pipelines shape */

/* One Segment-shaped message built by the core; type_hint is the route's type (NULL in a
 * batch, where each message names its own). */
static bool cdp_one(const cio_json_value_t *msg, const char *type_hint, const char *prefix,
                    relay_call_t *call, relay_refusal_t *why) {
    if (msg->kind != CIO_JSON_OBJECT) {
        return refuse(why, "%sbody: must be a JSON object", prefix);
    }
    cio_json_value_t type;
    bool has_type = cio_json_get(msg, "type", &type);
    sbuf_t text = {0};
    if (type_hint != NULL && has_type && !cio_json_string_is(&type, type_hint)) {
        return refuse(why, "type: must be \"%s\" on /v1/%s, or absent", type_hint, type_hint);
    }
    /* The message as given, less its null members (Segment's API takes null as absent; the
     * core reads a null id, name or category so, but refuses a null traits or context) and its
     * "writeKey" (the browser SDKs' token: the relay's, not to be passed on), and with the
     * route's type when it has none (Segment's HTTP API: the route names it). */
    sb_putc(&text, '{');
    bool first = true;
    if (type_hint != NULL && !has_type) {
        sb_printf(&text, "\"type\":\"%s\"", type_hint);
        first = false;
    }
    const char *cursor = NULL;
    cio_json_value_t k, v;
    while (cio_json_next(msg, &cursor, &k, &v)) {
        if (v.kind == CIO_JSON_NULL || cio_json_string_is(&k, "writeKey")) {
            continue;
        }
        if (!first) {
            sb_putc(&text, ',');
        }
        sb_append(&text, k.text, k.len);
        sb_putc(&text, ':');
        sb_append(&text, v.text, v.len);
        first = false;
    }
    sb_putc(&text, '}');
    cio_request_t *req = NULL;
    cio_status_t st = cio_cdp_message_request(text.data, &req);
    sb_free(&text);
    if (st != CIO_OK) {
        return refuse_core(why, prefix);
    }
    call_add(call, req);
    return true;
}

static bool cdp_batch(const cio_json_value_t *root, relay_call_t *call, relay_refusal_t *why) {
    cio_json_value_t batch;
    if (!cio_json_get(root, "batch", &batch)) {
        return refuse(why, "batch: required");
    }
    if (batch.kind != CIO_JSON_ARRAY) {
        return refuse(why, "batch: must be an array");
    }
    const char *cursor = NULL;
    cio_json_value_t msg;
    for (size_t i = 0; cio_json_next(&batch, &cursor, NULL, &msg); i++) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "batch[%zu]: ", i);
        if (!cdp_one(&msg, NULL, prefix, call, why)) {
            return false;
        }
    }
    return true;
}

bool relay_body_token(const char *body, size_t len, char *buf, size_t size, size_t *token_len) {
    cio_json_value_t root, key, first;
    if (cio_json_scan(body, len, &root) != CIO_OK || root.kind != CIO_JSON_OBJECT) {
        return false;
    }
    /* a message's, or a batch's (analytics-next puts it beside "batch", older ones in each) */
    const char *cursor = NULL;
    if (!cio_json_get(&root, "writeKey", &key) &&
        !(cio_json_get(&root, "batch", &first) && first.kind == CIO_JSON_ARRAY &&
          cio_json_next(&first, &cursor, NULL, &first) && first.kind == CIO_JSON_OBJECT &&
          cio_json_get(&first, "writeKey", &key))) {
        return false;
    }
    if (key.kind != CIO_JSON_STRING) {
        return false;
    }
    *token_len = cio_json_string(&key, buf, size);
    return *token_len > 0 && *token_len < size && strlen(buf) == *token_len;
}

bool relay_route_build(const relay_match_t *m, const char *body, size_t len, relay_call_t *call,
                       relay_refusal_t *why) {
    memset(call, 0, sizeof(*call));
    cio_json_value_t root;
    bool ok = body_object(body, len, m->route == RELAY_ROUTE_TEAM_IDENTIFY && m->path_id != NULL,
                          &root, why);
    if (ok) {
        switch (m->route) {
        case RELAY_ROUTE_TEAM_IDENTIFY:
        case RELAY_ROUTE_TEAM_TRACK:
            ok = team_build(m, &root, call, why);
            break;
        case RELAY_ROUTE_CDP_MESSAGE:
            ok = cdp_one(&root, m->type, "", call, why);
            break;
        case RELAY_ROUTE_CDP_BATCH:
            ok = cdp_batch(&root, call, why);
            break;
        default:
            ok = refuse(why, "no such call");
        }
    }
    if (!ok) {
        relay_call_free(call);
    }
    return ok;
}
