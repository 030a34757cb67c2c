/*
 * cli/relay.h - the parts of `cio-native relay` (cmd_relay.c): its tokens (relay_tokens.c), the
 * mapping of its routes onto the core's builders (relay_routes.c) and its counters
 * (relay_stats.c), its workspaces (relay_workspaces.c). Nothing here writes a Customer.io wire
 * format or checks one: every accepted call becomes a request built and validated by the core
 * (request.h, track_v2.h, cdp.h).
 *
 * Thread-safety: loading (tokens, workspaces) happens on the main thread before the server
 * starts; afterwards the tokens are read-only but for each one's rate bucket (its lock), the
 * routes' functions keep no state, and the stats are atomics: the server's threads call them all
 * at once.
 */
#ifndef CIO_CLI_RELAY_H
#define CIO_CLI_RELAY_H

#include <customerio/customerio.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------ tokens */

/* What a token may call (the shapes= field of its line). */
enum {
    RELAY_SHAPE_TEAM = 1,      /* POST /customers/..., /events */
    RELAY_SHAPE_PIPELINES = 2, /* POST /v1/... */
    RELAY_SHAPE_STATS = 4      /* GET /stats from another machine than this one */
};
#define RELAY_SHAPES_DEFAULT (RELAY_SHAPE_TEAM | RELAY_SHAPE_PIPELINES)

/* One line of the tokens file. The bucket is guarded by lock. */
typedef struct relay_token {
    unsigned char hash[32]; /* SHA-256 of the token */
    char name[64];          /* for logs and stats; "line N" when not named */
    char workspace[64];     /* the workspace= field; "" = the default one */
    size_t ws;              /* its index in the relay's workspaces (set by the relay) */
    unsigned shapes;
    double rate; /* requests a second; 0 = no limit */
    pthread_mutex_t lock;
    double bucket;
    int64_t bucket_ms;
} relay_token_t;

typedef struct relay_tokens {
    relay_token_t *items;
    size_t n;
} relay_tokens_t;

/*
 * Reads the tokens file: one "sha256:<64 hex> [name=NAME] [shapes=team,pipelines,stats]
 * [rate=N] [workspace=NAME]" a line; blank lines and lines starting with '#' are skipped. 0, or -1
 * with why in err (naming the line). *out is the caller's: relay_tokens_free().
 */
int relay_tokens_load(const char *path, relay_tokens_t *out, char *err, size_t errlen);
void relay_tokens_free(relay_tokens_t *t);

/* The line hash-token prints for token (its hash, then the fields given), malloc'd. NULL with
 * why in err for a bad field. */
char *relay_token_line(const char *token, size_t len, const char *name, const char *shapes,
                       const char *rate, const char *workspace, char *err, size_t errlen);

/* Whether name may name a workspace: 1 to 63 of A-Z a-z 0-9 _ -. */
bool relay_workspace_name_ok(const char *name);

/* The entry whose hash is token's, compared with every entry in constant time; NULL if none. */
relay_token_t *relay_tokens_find(const relay_tokens_t *t, const char *token, size_t len);

/* Takes one request from the token's rate; false with *retry_after (whole seconds) when over
 * it. Thread-safe. */
bool relay_token_take(relay_token_t *t, unsigned *retry_after);

/* ------------------------------------------------------------------------------------ routes */

/* Which pipeline a call goes to. */
typedef enum relay_sink {
    RELAY_SINK_TRACK = 0,
    RELAY_SINK_PIPELINES = 1,
    RELAY_SINKS
} relay_sink_t;

/* A route the relay knows. */
typedef enum relay_route {
    RELAY_ROUTE_NONE = 0,
    RELAY_ROUTE_HEALTHZ,
    RELAY_ROUTE_STATS,
    RELAY_ROUTE_TEAM_IDENTIFY,
    RELAY_ROUTE_TEAM_TRACK,
    RELAY_ROUTE_CDP_MESSAGE, /* /v1/identify, track, page, screen, group, alias; /v1/i, t, ... */
    RELAY_ROUTE_CDP_BATCH    /* /v1/batch, /v1/import, /v1/b */
} relay_route_t;

typedef struct relay_match {
    relay_route_t route;
    const char *method; /* the method the route takes */
    unsigned shape;     /* RELAY_SHAPE_* it belongs to; 0 = no token needed */
    relay_sink_t sink;
    char type[16];       /* the message type of /v1/<type> */
    const char *path_id; /* the customer id in the path (points into url), or NULL */
    size_t path_id_len;
} relay_match_t;

/* Finds url's route; false when there is none (404). */
bool relay_route_match(const char *url, relay_match_t *m);

/* Why a call is refused: an HTTP status, a short code and a sentence naming the field. */
typedef struct relay_refusal {
    unsigned status;
    const char *code;
    char message[600];
} relay_refusal_t;

/* The requests a call becomes (one, or a batch's), built by the core; and the ids they carry. */
typedef struct relay_call {
    cio_request_t **reqs;
    char **ids; /* each request's event id or messageId ("" for an operation without one) */
    size_t n;
} relay_call_t;

/* The token a Segment-shaped body carries as "writeKey" (the browser SDKs send it so, with no
 * Authorization header) into buf: true with *token_len, false when there is none. */
bool relay_body_token(const char *body, size_t len, char *buf, size_t size, size_t *token_len);

/* Builds the call of a matched route from its body (borrowed). false with *why (400, or 413 for
 * a message over the API's size) when the body is not what the route takes; call is then empty.
 * Otherwise call owns its requests and ids: relay_call_free(). */
bool relay_route_build(const relay_match_t *m, const char *body, size_t len, relay_call_t *call,
                       relay_refusal_t *why);
void relay_call_free(relay_call_t *call);

/* -------------------------------------------------------------------------------- workspaces */

/* Where one workspace's calls go: its client (credentials, hosts) and a pipeline per sink (NULL
 * without that API's credentials). A call's requests go in all or none
 * (cio_pipeline_try_enqueue_requests). */
typedef struct relay_workspace {
    char name[64];
    cio_client_t *client;
    cio_pipeline_t *pipelines[RELAY_SINKS];
    char label[RELAY_SINKS][80]; /* "NAME/track", ... for the delivery reports' log lines */
} relay_workspace_t;

/*
 * A workspace file: one JSON object of client options by the library's names (site_id, api_key,
 * cdp_api_key, region, track_url, cdp_url, timeout_ms, max_attempts, ...; cio_config_set), no
 * environment variable read. Makes its client; *track and *cdp say which credentials it has.
 * 0, or -1 with why in err.
 */
int relay_workspace_client(const char *path, cio_client_t **out, bool *track, bool *cdp, char *err,
                           size_t errlen);

/* A gzip body inflated into *out (malloc'd, NUL-terminated, the caller's): 0; 1 when it would
 * be over max bytes; -1 when it is not gzip. */
int relay_gunzip(const char *in, size_t len, size_t max, char **out, size_t *out_len);

/* ------------------------------------------------------------------------------------- stats */

/* Why a request was refused, for the stats. */
typedef enum relay_reason {
    RELAY_R_UNAUTHORIZED, /* 401 */
    RELAY_R_FORBIDDEN,    /* 403 */
    RELAY_R_NOT_FOUND,    /* 404 */
    RELAY_R_METHOD,       /* 405 */
    RELAY_R_INVALID,      /* 400 */
    RELAY_R_TOO_LARGE,    /* 413 */
    RELAY_R_ENCODING,     /* 415 */
    RELAY_R_RATE_LIMITED, /* 429 */
    RELAY_R_QUEUE_FULL,   /* 503 */
    RELAY_R_INTERNAL,     /* 500 */
    RELAY_REASONS
} relay_reason_t;

typedef struct relay_stats {
    atomic_ullong requests; /* accepted calls (a batch is one) */
    atomic_ullong accepted; /* operations and messages queued */
    atomic_ullong refused[RELAY_REASONS];
} relay_stats_t;

void relay_stats_refused(relay_stats_t *s, relay_reason_t r);

/* The stats as JSON (malloc'd): the relay's counters and every workspace's pipelines, named
 * "track" and "pipelines" for the default workspace, "NAME/track" ... for the others. */
char *relay_stats_json(const relay_stats_t *s, const relay_workspace_t *ws, size_t n);

#endif
