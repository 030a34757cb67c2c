/*
 * The Pipelines API (Data Pipelines, https://cdp.customer.io/v1): Segment-shaped messages.
 * Basic auth with the Pipelines key as user and an empty password (or the key as a Bearer
 * token). POST /identify, /track,
 * /page, /screen, /group, /alias take one message (32 KB at most); POST /batch takes
 * {"batch":[...], "sentAt"} (500 KB). identify merges traits into the profile that the App API
 * reads back.
 *
 * Strict mode, as Customer.io's: a request with "X-Strict-Mode: 1" gets 400 {"code","message"}
 * for a message that fails validation; without it the API is permissive and answers 200 while
 * dropping the invalid message (in a batch, the valid ones are kept). A body that is not JSON,
 * or is too large, is refused with 400 either way (Customer.io does not document that case).
 *
 * Bodies are read in place with the core's JSON scanner (customerio/json.h), as the Track v2
 * routes do: a 500 KB batch is checked without building a tree of it, so the emulator keeps up
 * with a client sending a million messages a second. jansson parses only the identify messages
 * (the profile store is jansson's) and the bodies that answer an error. The answers are the ones
 * a jansson tree of the whole body gave: a body jansson refuses (an integer beyond 64 bits, a
 * number beyond a double) is refused in its words, and one it takes that the scanner refuses
 * (nested deeper than 512 levels) is checked from jansson's tree.
 */
#include "mock_internal.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define CDP_MAX_MESSAGE ((size_t)32 * 1024)
#define CDP_MAX_BATCH ((size_t)500 * 1024)

typedef cio_json_value_t value_t;

static void reply_cdp_error(mock_response_t *res, unsigned int status, const char *message) {
    mock_reply_json(res, status,
                    json_pack("{s:s,s:s}", "code",
                              status == 401 ? "unauthorized" : "invalid_request", "message",
                              message));
}

/* ------------------------------------------------------------- one message, however it is read */

static const char *const types[] = {"identify", "track", "page", "screen", "group", "alias"};
enum {
    TYPE_IDENTIFY = 0,
    TYPE_TRACK = 1,
    TYPE_GROUP = 4,
    TYPE_ALIAS = 5,
    N_TYPES = 6,
    TYPE_UNKNOWN = -1, /* a string naming no type (or, in a batch, no type at all) */
    TYPE_FROM_PATH = -2,
};

/* A message: its scanned text or, when jansson had to parse the body, its tree. */
typedef struct message {
    value_t text;
    const json_t *tree; /* non-NULL: read this instead */
} message_t;

/* What the checks and remember() read in a message. */
typedef struct facts {
    bool object;
    int type;        /* a TYPE_ index; TYPE_FROM_PATH when absent or not a string */
    bool user, anon; /* userId, anonymousId present: a non-empty string or an integer */
    bool previous, group;
    bool event;          /* a non-empty string */
    bool shapes_ok;      /* traits, properties, context, integrations: objects when present */
    bool user_is_string; /* for remember(): only a string userId names a profile */
} facts_t;

static int type_of_name(const char *name) {
    for (int t = 0; t < N_TYPES; t++) {
        if (strcmp(name, types[t]) == 0) {
            return t;
        }
    }
    return TYPE_UNKNOWN;
}

static bool id_present_text(const value_t *v) {
    return (v->kind == CIO_JSON_STRING && v->len > 2) || v->kind == CIO_JSON_INTEGER;
}

static bool id_present_tree(const json_t *v) {
    return (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
}

/* The members the checks read. */
static const char *const member_names[] = {"type",    "userId",      "anonymousId", "previousId",
                                           "groupId", "event",       "traits",      "properties",
                                           "context", "integrations"};
enum { M_TYPE, M_USER, M_ANON, M_PREVIOUS, M_GROUP, M_EVENT, M_SHAPES, N_MEMBERS = 10 };

/* Which of member_names a member name is, decoded; -1 for none. */
static int member_index(const value_t *key) {
    const char *bytes = key->text + 1;
    size_t len = key->len - 2;
    bool plain = memchr(bytes, '\\', len) == NULL; /* then its bytes are its value (no NUL) */
    for (int i = 0; i < N_MEMBERS; i++) {
        const char *name = member_names[i];
        if (plain ? len > 0 && bytes[0] == name[0] && strncmp(bytes, name, len) == 0 &&
                        name[len] == '\0'
                  : cio_json_string_is(key, name)) {
            return i;
        }
    }
    return -1;
}

static void facts_of_text(const value_t *msg, facts_t *f) {
    value_t found[N_MEMBERS];
    bool has[N_MEMBERS] = {false};
    const char *cursor = NULL;
    value_t key, value;
    while (cio_json_next(msg, &cursor, &key, &value)) {
        int i = member_index(&key); /* a repeated name: the last one counts */
        if (i >= 0) {
            found[i] = value;
            has[i] = true;
        }
    }
    f->type = TYPE_FROM_PATH;
    if (has[M_TYPE] && found[M_TYPE].kind == CIO_JSON_STRING) {
        f->type = TYPE_UNKNOWN;
        for (int t = 0; t < N_TYPES; t++) {
            if (cio_json_string_is(&found[M_TYPE], types[t])) {
                f->type = t;
                break;
            }
        }
    }
    f->user = has[M_USER] && id_present_text(&found[M_USER]);
    f->anon = has[M_ANON] && id_present_text(&found[M_ANON]);
    f->previous = has[M_PREVIOUS] && id_present_text(&found[M_PREVIOUS]);
    f->group = has[M_GROUP] && id_present_text(&found[M_GROUP]);
    f->event = has[M_EVENT] && found[M_EVENT].kind == CIO_JSON_STRING && found[M_EVENT].len > 2;
    f->shapes_ok = true;
    for (size_t i = M_SHAPES; i < N_MEMBERS; i++) {
        f->shapes_ok = f->shapes_ok && (!has[i] || found[i].kind == CIO_JSON_OBJECT);
    }
    f->user_is_string = has[M_USER] && found[M_USER].kind == CIO_JSON_STRING;
}

static void facts_of_tree(const json_t *msg, facts_t *f) {
    const char *type = json_string_value(json_object_get(msg, "type"));
    f->type = type == NULL ? TYPE_FROM_PATH : type_of_name(type);
    f->user = id_present_tree(json_object_get(msg, "userId"));
    f->anon = id_present_tree(json_object_get(msg, "anonymousId"));
    f->previous = id_present_tree(json_object_get(msg, "previousId"));
    f->group = id_present_tree(json_object_get(msg, "groupId"));
    const json_t *event = json_object_get(msg, "event");
    f->event = json_is_string(event) && json_string_length(event) > 0;
    f->shapes_ok = true;
    for (size_t i = M_SHAPES; i < N_MEMBERS; i++) {
        const json_t *v = json_object_get(msg, member_names[i]);
        f->shapes_ok = f->shapes_ok && (v == NULL || json_is_object(v));
    }
    f->user_is_string = json_is_string(json_object_get(msg, "userId"));
}

static void facts_of(const message_t *msg, facts_t *f) {
    memset(f, 0, sizeof(*f));
    f->object = msg->tree != NULL ? json_is_object(msg->tree) : msg->text.kind == CIO_JSON_OBJECT;
    if (!f->object) {
        return;
    }
    if (msg->tree != NULL) {
        facts_of_tree(msg->tree, f);
    } else {
        facts_of_text(&msg->text, f);
    }
}

/* Checks one message like the API does (type: the TYPE_ it is checked as, resolved by
 * effective_type()); returns NULL or what is wrong. */
static const char *message_problem(const facts_t *f, int type) {
    if (!f->object) {
        return "a message must be an object";
    }
    if (type < 0) {
        return "type must be identify, track, page, screen, group or alias";
    }
    if (type == TYPE_ALIAS) {
        if (!f->user || !f->previous) {
            return "alias needs previousId and userId";
        }
    } else if (!f->user && !f->anon) {
        return "userId or anonymousId is required";
    }
    if (type == TYPE_GROUP && !f->group) {
        return "groupId is required";
    }
    if (type == TYPE_TRACK && !f->event) {
        return "event is required";
    }
    if (!f->shapes_ok) {
        return "traits, properties, context and integrations must be objects";
    }
    return NULL;
}

/* The type a message is checked as: its own, else the path's (TYPE_UNKNOWN in a batch). */
static int effective_type(const facts_t *f, int path_type) {
    return f->type == TYPE_FROM_PATH ? path_type : f->type;
}

/* identify: the traits go into the profile the App API reads. */
static void remember_tree(const mock_request_t *req, const json_t *msg) {
    const json_t *user = json_object_get(msg, "userId");
    json_t *traits = json_object_get(msg, "traits");
    if (json_is_string(user)) {
        json_t *empty = traits == NULL ? json_object() : NULL;
        mock_state_identify(req->mock, "id", json_string_value(user),
                            traits != NULL ? traits : empty);
        json_decref(empty);
    }
}

/* identify feeds the profile. type: on a single-message route the path's, even when the message
 * names another; in a batch the message's own. */
static void remember(const mock_request_t *req, const message_t *msg, const facts_t *f, int type) {
    if (type != TYPE_IDENTIFY || !f->user_is_string) {
        return;
    }
    if (msg->tree != NULL) {
        remember_tree(req, msg->tree);
        return;
    }
    /* jansson took the whole body (no number it refuses), so it takes any message in it */
    json_t *parsed = json_loadb(msg->text.text, msg->text.len, 0, NULL);
    if (parsed != NULL) {
        remember_tree(req, parsed);
    }
    json_decref(parsed);
}

/* ------------------------------------------------------------------------------------- bodies */

/* In scanned text, p just past a string's opening quote: just past its closing one. */
static const char *string_end(const char *p, const char *end) {
    const char *start = p;
    for (;;) {
        const char *quote = memchr(p, '"', (size_t)(end - p));
        size_t backslashes = 0;
        while (quote - backslashes > start && quote[-1 - (ptrdiff_t)backslashes] == '\\') {
            backslashes++;
        }
        if (backslashes % 2 == 0) {
            return quote + 1;
        }
        p = quote + 1; /* an escaped quote */
    }
}

/* Whether jansson may refuse the number p[0..end): an integer beyond 64 bits, or (perhaps) a
 * number beyond a double: true when its decimal exponent is 308 or more. */
static bool number_jansson_may_refuse(const char *p, const char *end) {
    bool negative = *p == '-';
    p += negative;
    const char *digits_start = p;
    size_t digits = 0; /* before any point, without leading zeros: the magnitude */
    for (bool lead = true; p < end && *p >= '0' && *p <= '9'; p++) {
        lead = lead && *p == '0';
        digits += lead ? 0 : 1;
    }
    if (p == end) { /* an integer: int64_t holds 18 digits, and 19 up to its limits */
        static const char max[] = "9223372036854775807", min[] = "9223372036854775808";
        return digits > 19 || (digits == 19 && memcmp(digits_start, negative ? min : max, 19) > 0);
    }
    while (p < end && *p != 'e' && *p != 'E') {
        p++;
    }
    long exponent = 0;
    if (p < end) {
        p++;
        bool negative_exponent = *p == '-';
        p += *p == '-' || *p == '+';
        for (; p < end && exponent < 100000; p++) {
            exponent = exponent * 10 + (*p - '0');
        }
        exponent = negative_exponent ? -exponent : exponent;
    }
    /* the value is below 10^(digits + exponent); DBL_MAX is 1.8e308 */
    return (long)digits + exponent >= 309;
}

/*
 * Whether jansson may refuse a number somewhere in v (text the scanner accepted, which reads
 * numbers of any size). One pass: outside strings, a '-' or a digit starts a number.
 */
static bool numbers_jansson_may_refuse(const value_t *v) {
    const char *p = v->text, *end = v->text + v->len;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = string_end(p + 1, end);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const char *q = p + 1;
            while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                               *q == '+' || *q == '-')) {
                q++;
            }
            if (number_jansson_may_refuse(p, q)) {
                return true;
            }
            p = q;
        } else {
            p++;
        }
    }
    return false;
}

/*
 * The body, read as the routes' jansson trees read it before: true with either *text (scanned)
 * or *tree non-NULL (jansson's, the caller's reference: the scanner refused it, or a number in
 * it might be one jansson refuses, and jansson took it after all). False once answered 400.
 */
static bool read_body(const mock_request_t *req, mock_response_t *res, value_t *text,
                      json_t **tree) {
    if (!mock_scan_object_body(req, res, text, tree)) {
        return *tree != NULL;
    }
    if (numbers_jansson_may_refuse(text)) {
        *tree = mock_parse_object_body(req, res, true);
        return *tree != NULL;
    }
    return true;
}

/* ------------------------------------------------------------------------------------- routes */

/* Whether the request asked for strict validation ("X-Strict-Mode: 1", or "true"). */
static bool strict_mode(const mock_request_t *req) {
    const char *v = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Strict-Mode");
    return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

static void reply_success(mock_response_t *res) {
    mock_reply_text(res, MHD_HTTP_OK, "{\"success\":true}");
}

static void handle_message(const mock_request_t *req, mock_response_t *res) {
    int path_type = type_of_name(strrchr(req->path, '/') + 1);
    if (req->body_len > CDP_MAX_MESSAGE) {
        reply_cdp_error(res, 400, "a message is limited to 32 KB");
        return;
    }
    json_t *tree = NULL;
    message_t msg;
    if (!read_body(req, res, &msg.text, &tree)) {
        return;
    }
    msg.tree = tree;
    facts_t f;
    facts_of(&msg, &f);
    const char *problem = message_problem(&f, effective_type(&f, path_type));
    if (problem != NULL && strict_mode(req)) {
        reply_cdp_error(res, 400, problem);
    } else if (problem != NULL) {
        reply_success(res); /* permissive: dropped, answered 200 */
    } else {
        remember(req, &msg, &f, path_type);
        reply_success(res);
    }
    json_decref(tree);
}

/* The messages of a batch, in order: elements of scanned text or of jansson's array. */
typedef struct batch_walk {
    value_t text;
    const json_t *tree;
    const char *cursor;
    size_t index;
} batch_walk_t;

static bool next_message(batch_walk_t *w, message_t *msg) {
    if (w->tree != NULL) {
        msg->tree = json_array_get(w->tree, w->index);
        w->index += msg->tree != NULL;
        return msg->tree != NULL;
    }
    msg->tree = NULL;
    return cio_json_next(&w->text, &w->cursor, NULL, &msg->text) != 0;
}

static void handle_batch(const mock_request_t *req, mock_response_t *res) {
    value_t body;
    json_t *tree = NULL;
    if (!read_body(req, res, &body, &tree)) {
        return;
    }
    batch_walk_t walk = {0};
    if (tree != NULL) {
        if (!mock_require_array(req, res, tree, "batch", "batch")) {
            json_decref(tree);
            return;
        }
        walk.tree = json_object_get(tree, "batch");
    } else if (!cio_json_get(&body, "batch", &walk.text) || walk.text.kind != CIO_JSON_ARRAY) {
        json_t *parsed = mock_parse_object_body(req, res, true); /* answers 400 naming "batch" */
        if (parsed != NULL) { /* else jansson refused the body, and the answer says so */
            mock_require_array(req, res, parsed, "batch", "batch");
        }
        json_decref(parsed);
        return;
    }
    /* every message is checked before any is remembered (strict: one bad message refuses the
     * batch; permissive: the bad ones are dropped, the others kept) */
    bool strict = strict_mode(req);
    batch_walk_t start = walk;
    bool identify = false;
    message_t msg;
    facts_t f;
    for (size_t i = 0; next_message(&walk, &msg); i++) {
        facts_of(&msg, &f);
        const char *problem = message_problem(&f, effective_type(&f, TYPE_UNKNOWN));
        if (problem != NULL && strict) {
            char text[200];
            snprintf(text, sizeof(text), "batch[%zu]: %s", i, problem);
            reply_cdp_error(res, 400, text);
            json_decref(tree);
            return;
        }
        identify = identify || f.type == TYPE_IDENTIFY;
    }
    for (walk = start; identify && next_message(&walk, &msg);) {
        facts_of(&msg, &f);
        if (message_problem(&f, effective_type(&f, TYPE_UNKNOWN)) == NULL) {
            remember(req, &msg, &f, f.type);
        }
    }
    reply_success(res);
    json_decref(tree);
}

static const mock_route_t cdp_routes[] = {
    {"POST", "/identify", handle_message}, {"POST", "/track", handle_message},
    {"POST", "/page", handle_message},     {"POST", "/screen", handle_message},
    {"POST", "/group", handle_message},    {"POST", "/alias", handle_message},
    {"POST", "/batch", handle_batch},
};

const mock_route_table_t mock_routes_cdp = {
    .prefix = "/v1",
    .auth = MOCK_AUTH_CDP_BASIC,
    .max_body = CDP_MAX_BATCH,
    .reply_error = reply_cdp_error,
    .routes = cdp_routes,
    .n_routes = sizeof(cdp_routes) / sizeof(cdp_routes[0]),
};
