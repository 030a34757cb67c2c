/* Private declarations shared by the emulator's source files. */
#ifndef CIO_MOCK_INTERNAL_H
#define CIO_MOCK_INTERNAL_H

#include "cio_mock.h"

#include <customerio/json.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Server-wide cap on a request body; larger uploads are drained and answered 413. */
#define MOCK_MAX_UPLOAD_BYTES ((size_t)1024 * 1024)
/* The request log's default bounds (cio_mock_options_t): the CI suites read at most a few
 * thousand requests between two clears, the soak test drains every 200 ms, and bench/ reads
 * ~100 MB of batches in one run. */
#define MOCK_DEFAULT_MAX_LOGGED ((size_t)100000)
#define MOCK_DEFAULT_MAX_LOGGED_BYTES ((size_t)256 * 1024 * 1024)
#define MOCK_DEFAULT_CONNECTION_TIMEOUT_S 60U
#define MOCK_MAX_PATH_PARAMS 4
/* Upper bound on an injected delay, so a typo cannot hang a test run for hours. */
#define MOCK_MAX_DELAY_MS 600000UL
/* Spelled out: the MHD constant for 413 was renamed across versions. */
#define MOCK_HTTP_TOO_LARGE 413U

/* ---------------------------------------------------------------- util.c */

void mock_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *mock_strdup(const char *s);
char *mock_strndup(const char *s, size_t n);
/* Returns a malloc'd NUL-terminated base64 text (standard alphabet, padded). */
char *mock_base64_encode(const unsigned char *data, size_t len);
/* Decodes padded or unpadded base64; returns a malloc'd NUL-terminated buffer or NULL if invalid.
 */
unsigned char *mock_base64_decode(const char *text, size_t len, size_t *out_len);
/* Percent-decodes s[0..len); returns a malloc'd string or NULL on a malformed escape or %00. */
char *mock_percent_decode(const char *s, size_t len);
/* Compares two strings in time that depends only on their lengths. */
bool mock_secure_equals(const char *a, size_t a_len, const char *b, size_t b_len);
/* Reads a whole file into a malloc'd NUL-terminated buffer. */
int mock_read_file(const char *path, char **out, char *err, size_t errlen);

/* ------------------------------------------------------- responses (util.c) */

typedef struct mock_response {
    unsigned int status; /* 0 = nothing decided yet */
    char *body;          /* malloc'd JSON text; NULL = no body */
    size_t body_len;
    char *retry_after; /* malloc'd; NULL = no Retry-After header */
    char *allow;       /* malloc'd; NULL = no Allow header */
} mock_response_t;

void mock_response_clear(mock_response_t *res);
void mock_reply_empty(mock_response_t *res, unsigned int status);
/* Answers with a copy of json_text. */
void mock_reply_text(mock_response_t *res, unsigned int status, const char *json_text);
/* Answers with the compact serialisation of body and releases body. */
void mock_reply_json(mock_response_t *res, unsigned int status, json_t *body);
/* Answers {"meta":{"error":message}}, the Track API error shape. */
void mock_reply_meta_error(mock_response_t *res, unsigned int status, const char *message);

/* ------------------------------------------------------------ routing */

struct mock_route_table;

/* One complete request as handed to a route handler. */
typedef struct mock_request {
    cio_mock_t *mock;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;  /* raw, as sent, without the query */
    const char *query; /* raw, without '?'; "" if none */
    const char *body;  /* NUL-terminated; may contain other NULs */
    size_t body_len;
    /* The "{...}" segments of the matched route pattern, percent-decoded, in order. */
    char *params[MOCK_MAX_PATH_PARAMS];
    size_t n_params;
    const struct mock_route_table *table; /* the table that matched, for its error shape */
} mock_request_t;

typedef void (*mock_handler_fn)(const mock_request_t *req, mock_response_t *res);
typedef void (*mock_error_fn)(mock_response_t *res, unsigned int status, const char *message);

typedef enum mock_auth {
    MOCK_AUTH_NONE,
    MOCK_AUTH_TRACK_BASIC, /* HTTP Basic site_id:api_key */
    MOCK_AUTH_APP_BEARER,  /* Authorization: Bearer app_api_key */
    MOCK_AUTH_CDP_BASIC,   /* HTTP Basic cdp_api_key: (empty password) or Bearer cdp_api_key */
} mock_auth_t;

typedef struct mock_route {
    const char *method;
    /* Relative to the table prefix, e.g. "/customers/{id}/events"; "{...}" matches one non-empty
     * raw segment. */
    const char *pattern;
    mock_handler_fn handler;
} mock_route_t;

/* A group of routes sharing a path prefix, an auth scheme, a body limit and an error shape. */
typedef struct mock_route_table {
    const char *prefix; /* e.g. "/api/v1"; owns every path equal to it or under prefix + "/" */
    mock_auth_t auth;
    size_t max_body;           /* bytes; 0 = only the server-wide cap */
    mock_error_fn reply_error; /* NULL = mock_reply_meta_error */
    const mock_route_t *routes;
    size_t n_routes;
} mock_route_table_t;

/* Route tables, one per routes_*.c file. Register new ones in router.c. */
extern const mock_route_table_t mock_routes_track_v1;
extern const mock_route_table_t mock_routes_track_push;  /* /push/events (official gems' path) */
extern const mock_route_table_t mock_routes_unsubscribe; /* routes_track_v1.c */
extern const mock_route_table_t mock_routes_track_v2;
extern const mock_route_table_t mock_routes_cdp;
extern const mock_route_table_t mock_routes_app; /* routes_app.c: the App API under /v1 */
extern const mock_route_table_t mock_routes_control;

#define MOCK_CONTROL_PREFIX "/_mock"

bool mock_is_control_path(const char *path);
/* POST /_mock/webhooks: sign and send a reporting webhook to a loopback URL (webhook_emit.c). */
void mock_handle_webhook_emit(const mock_request_t *req, mock_response_t *res);
/* Whether url is an http(s) URL on the loopback interface (the only receivers we send to). */
bool mock_is_loopback_url(const char *url);
/* After a recorded send: "sent" and "delivered" reporting webhooks to the configured URL, signed
 * with the configured key (nothing when none is configured). answer = {"delivery_id",...}. */
void mock_emit_delivery_webhooks(cio_mock_t *m, const char *object_type, const json_t *answer,
                                 const json_t *request);
/* Routes an API request: auth, method and path matching, body limit, then the handler. */
void mock_dispatch(mock_request_t *req, mock_response_t *res);
/* Routes a request through one given table (used for the control endpoints). */
void mock_dispatch_table(const mock_route_table_t *table, mock_request_t *req,
                         mock_response_t *res);
/* Answers an error in the shape of the request's table. */
void mock_reply_error(const mock_request_t *req, mock_response_t *res, unsigned int status,
                      const char *message);

/* ------------------------------------------------------------ auth.c */

bool mock_auth_ok(const cio_mock_t *m, mock_auth_t auth, struct MHD_Connection *conn);

/* ---------------------------------------------------------- json bodies */

/* Parses the body as a JSON object. With an empty body returns an empty object when !required.
 * On failure answers 400 (in the table's error shape) and returns NULL. */
json_t *mock_parse_object_body(const mock_request_t *req, mock_response_t *res, bool required);
/*
 * Reads the body in place with the core's scanner (customerio/json.h): true when it is a JSON
 * object, with *body pointing into req->body. Otherwise false, after answering 400 the way
 * mock_parse_object_body() does (jansson parses only these rare bodies, to word the answer) --
 * except for a body jansson takes though the scanner refused it (nested deeper than the
 * scanner's 512 levels): with taken non-NULL, *taken gets jansson's object (the caller's
 * reference) and nothing is answered; with taken NULL the answer is 400 with the scanner's
 * reason. *taken is NULL in every other case.
 */
bool mock_scan_object_body(const mock_request_t *req, mock_response_t *res, cio_json_value_t *body,
                           json_t **taken);
/* Field checks on a parsed body; on failure they answer 400 naming the field and return false. */
bool mock_require_string(const mock_request_t *req, mock_response_t *res, json_t *obj,
                         const char *field, const char *display_name);
bool mock_require_object(const mock_request_t *req, mock_response_t *res, json_t *obj,
                         const char *field, const char *display_name);
bool mock_require_array(const mock_request_t *req, mock_response_t *res, json_t *obj,
                        const char *field, const char *display_name);

/* ------------------------------------------------------ request_log.c */

/* One kept entry and the bytes it counts against max_bytes. */
typedef struct mock_log_slot {
    json_t *entry;
    size_t bytes;
} mock_log_slot_t;

typedef struct mock_request_log {
    mock_log_slot_t *entries; /* ring buffer */
    size_t head;
    size_t count;
    size_t capacity;
    size_t max_entries;
    size_t max_bytes;
    size_t bytes;     /* of the entries kept */
    uint64_t dropped; /* entries dropped to stay within the bounds, since the last clear */
    uint64_t dropped_bytes;
    json_int_t next_seq;
    /* Entries still being answered (appended, status not set yet); drain leaves them. */
    json_t **pending;
    size_t pending_count;
    size_t pending_capacity;
} mock_request_log_t;

/* The bytes of one request that the log records. */
typedef struct mock_log_input {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *query;
    const char *body;
    size_t body_len;
    bool body_truncated;
} mock_log_input_t;

void mock_log_init(mock_request_log_t *log, size_t max_entries, size_t max_bytes);
void mock_log_free(mock_request_log_t *log);
/* Appends an entry (status 0 until set) and returns a new reference to it, or NULL on OOM. */
json_t *mock_log_append(cio_mock_t *m, const mock_log_input_t *in);
void mock_log_set_status(cio_mock_t *m, json_t *entry, unsigned int status);
/* Drops the caller's reference from mock_log_append (under the lock, as entries are shared). */
void mock_log_release(cio_mock_t *m, json_t *entry);
void mock_log_clear(cio_mock_t *m);
/* Returns the log as compact JSON array text (malloc'd), or NULL on OOM. */
char *mock_log_dump(cio_mock_t *m);
/* Like mock_log_dump, but only the entries already answered, which it removes from the log in
 * the same step (entries still being answered stay, in order; seq goes on). NULL on OOM, with
 * the log unchanged. */
char *mock_log_drain(cio_mock_t *m);
/* {"kept","kept_bytes","dropped","dropped_bytes","max_requests","max_bytes"} (new reference). */
json_t *mock_log_stats(cio_mock_t *m);

/* ----------------------------------------------------------- faults.c */

typedef enum mock_fault_action {
    MOCK_FAULT_RESPOND,
    MOCK_FAULT_RESET,
} mock_fault_action_t;

typedef struct mock_fault {
    unsigned long count; /* units left */
    unsigned int status; /* 0 = delay only, then handle normally */
    char *body;          /* NULL = no body */
    char *retry_after;   /* NULL = no Retry-After */
    unsigned long delay_ms;
    mock_fault_action_t action;
    char *match; /* NULL = any request; else only requests whose body contains it */
} mock_fault_t;

typedef struct mock_fault_list {
    mock_fault_t *items;
    size_t count;
    size_t capacity;
} mock_fault_list_t;

void mock_faults_free(mock_fault_list_t *list);
/* Parses a POST /_mock/faults body; on failure writes a reason to err and returns false. */
bool mock_fault_parse(const char *body, size_t len, mock_fault_t *out, char *err, size_t errlen);
void mock_fault_release(mock_fault_t *fault);
/* Takes ownership of fault's strings. */
bool mock_faults_add(cio_mock_t *m, mock_fault_t *fault);
void mock_faults_clear(cio_mock_t *m);
/* Consumes one unit of the first rule with count left into *out (owned by the caller). */
bool mock_faults_take(cio_mock_t *m, const char *body, size_t body_len, mock_fault_t *out);
/* The remaining rules as a JSON array. */
json_t *mock_faults_to_json(cio_mock_t *m);

/* Standing faults (POST /_mock/config), applied to API requests no rule above has claimed: a
 * share of requests failing at random, and a requests-per-second limit answered with 429. */
typedef struct mock_ambient {
    double fail_rate;         /* 0..1 */
    unsigned int fail_status; /* default 500 */
    double rate_limit;        /* requests per second; 0 = none */
    int64_t window_start_ms;  /* the current one-second window */
    unsigned long window_count;
    uint64_t rng;
} mock_ambient_t;

/* Parses {"fail_rate","fail_status","rate_limit"} and applies it; false with err on bad input. */
bool mock_ambient_set(cio_mock_t *m, const char *body, size_t len, char *err, size_t errlen);
json_t *mock_ambient_to_json(cio_mock_t *m);
/* The status an API request must get from the standing faults (429 means rate limited), or 0. */
unsigned int mock_ambient_take(cio_mock_t *m);

/* ------------------------------------------------------------ state.c */

/*
 * The emulated workspace: people identified through the Track APIs and read back through the App
 * API, transactional deliveries, broadcast triggers and segments. Every function takes the
 * state's own lock (never m->lock), so any thread may call it; values returned are new
 * references (deep copies) owned by the caller.
 */
typedef struct mock_state mock_state_t;

mock_state_t *mock_state_new(void);
void mock_state_free(mock_state_t *state);

/* Merges attributes (an object; borrowed) into the profile of the person with that identifier
 * type ("id"|"email"|"cio_id") and value, creating it. Thread-safe.
 * "_update": true only updates an existing person; an "email" attribute becomes the person's
 * email identifier, an "id" attribute sets a missing id; "cio_id" is never overwritten. */
void mock_state_identify(cio_mock_t *m, const char *id_type, const char *id_value,
                         json_t *attributes);
/* Deletes the person with that identifier type and value, if any. Thread-safe. */
void mock_state_delete(cio_mock_t *m, const char *id_type, const char *id_value);

/* A copy of the person record ({"cio_id", "id"?, "email"?, "attributes", "timestamps",
 * "created_at"}), or NULL when there is none. Email matches ignore case. */
json_t *mock_state_person(cio_mock_t *m, const char *id_type, const char *id_value);
/* Copies of every person, delivery and segment, oldest first. */
json_t *mock_state_people(cio_mock_t *m);
json_t *mock_state_deliveries(cio_mock_t *m);
json_t *mock_state_segments(cio_mock_t *m);
/* Whether a person record has one of the identifiers in {"id"|"email"|"cio_id": value}. */
bool mock_person_matches(const json_t *person, const json_t *identifiers);
/* Records a transactional delivery of type ("email", "push", ...) for a validated send request;
 * returns the answer {"delivery_id", "queued_at"} (NULL on OOM). */
json_t *mock_state_add_delivery(cio_mock_t *m, const char *type, const json_t *request);
/* A new broadcast trigger id (1, 2, ...). */
json_int_t mock_state_add_trigger(cio_mock_t *m);
/* Creates a manual segment; returns a copy of it (NULL on OOM). */
json_t *mock_state_add_segment(cio_mock_t *m, const char *name, const char *description);
/* Deletes a segment; false when there is none with that id. */
bool mock_state_delete_segment(cio_mock_t *m, json_int_t id);
/* Membership: segment 1 holds everyone, segment 2 the people whose attribute vip is true,
 * created (manual) segments nobody. */
bool mock_state_in_segment(const json_t *segment, const json_t *person);

/* ----------------------------------------------------------- server.c */

/* ------------------------------------------------------------ meter.c */

/* Requests per workspace per sliding second (issue 18); GET/DELETE /_mock/rate. Thread-safe. */
typedef struct mock_meter mock_meter_t;
mock_meter_t *mock_meter_new(void);
void mock_meter_free(mock_meter_t *mt);
void mock_meter_reset(mock_meter_t *mt);
/* The meter's clock (µs), for an arrival time. */
int64_t mock_meter_now(void);
/* One API request that arrived at `arrived` was answered (its Authorization header names the
 * workspace); a reset one is not noted. */
void mock_meter_note(mock_meter_t *mt, struct MHD_Connection *conn, int64_t arrived);
/* {"window_ms":1000,"workspaces":{KEY:{"requests","max_in_window","max_at_ms"}}} (new
 * reference); max_at_ms: when the busiest window ended, in ms since the meter started. */
json_t *mock_meter_to_json(mock_meter_t *mt);

struct cio_mock {
    struct MHD_Daemon *daemon;
    char *site_id;
    char *api_key;
    char *app_api_key;
    char *cdp_api_key;
    char *webhook_url; /* NULL = no automatic reporting webhooks */
    char *webhook_key;
    char *tls_cert_pem; /* kept alive for the daemon's lifetime */
    char *tls_key_pem;
    char *base_url;
    unsigned short port;
    unsigned int connection_timeout_s;

    pthread_mutex_t lock; /* guards log, faults and stopping */
    pthread_cond_t wake;  /* signalled on stop so injected delays end early */
    bool stopping;
    mock_request_log_t log;
    mock_fault_list_t faults;
    mock_ambient_t ambient;
    struct mock_state *state; /* the emulated workspace (state.c); has its own lock */
    mock_meter_t *meter;      /* requests per sliding second (meter.c); has its own lock */
};

/* Sleeps up to ms; returns false if the server began stopping meanwhile. */
bool mock_sleep_ms(cio_mock_t *m, unsigned long ms);

#endif /* CIO_MOCK_INTERNAL_H */
