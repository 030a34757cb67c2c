/*
 * cio-native relay: a collection endpoint that holds the Customer.io keys. Apps send calls in a
 * team API's shape (POST /customers/ID, /events) or Segment's (POST /v1/track, /v1/batch, ...)
 * with a token of the team's own; each accepted call is built and validated by the core and
 * queued on a delivery pipeline (memory or spool) before it is answered.
 * cio-native relay hash-token: the tokens file's line for a token read on standard input.
 */
#include "commands.h"
#include "config.h"
#include "httpd.h"
#include "jsonw.h"
#include "relay.h"
#include "util.h"

#include <customerio/customerio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

const char help_relay[] =
    "Usage: cio-native relay --tokens FILE [OPTIONS]\n"
    "       cio-native relay hash-token [--name NAME] [--shapes LIST] [--rate N]\n"
    "                                   [--workspace NAME] < TOKEN\n"
    "A collection endpoint that holds the Customer.io keys: apps send calls with a token of\n"
    "your own, the relay checks them with the library's validators, queues them on a delivery\n"
    "pipeline (batched, paced, retried) and answers once they are queued.\n"
    "\n"
    "Routes (POST; Authorization: Bearer TOKEN, or Basic with the token as user name):\n"
    "  /customers/ID, /customers   {\"customer_id\",\"name\",\"email\",\"properties\"}: identify\n"
    "  /customers/ID/events, /events  track: {\"customer_id\",\"event\",\"properties\",\n"
    "                              \"timestamp\",\"id\"}; both answered 202 {\"id\",\"seq\"}\n"
    "  /v1/identify track page screen group alias, /v1/batch (/v1/import)  Segment-shaped\n"
    "                              messages; 200 {\"success\":true,\"messageId(s)\":...}; the\n"
    "                              browser SDKs' /v1/i t p s g a b, token as \"writeKey\"\n"
    "  GET /healthz, GET /stats    (stats: from this machine, or a token allowed \"stats\")\n"
    "Bodies may be gzip. Refusals, {\"code\",\"message\"}, queue nothing: 400 (the field\n"
    "named), 401 (token), 403 (shape), 404, 405, 413 (--max-body), 415, 429 (token rate;\n"
    "Retry-After), 503 (queue full; Retry-After).\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT   IPv4 address and port (default 127.0.0.1:8088; port 0: a free one)\n"
    "  --port-file FILE     write the port number there once listening\n"
    "  --tls-cert FILE --tls-key FILE  serve HTTPS with this PEM certificate and key\n"
    "  --tokens FILE        the tokens: one \"sha256:HEX [name=N] [shapes=team,pipelines,stats]\n"
    "                       [rate=REQUESTS_PER_SECOND] [workspace=NAME]\" a line (see\n"
    "                       hash-token); required. SIGHUP reads it again (a file that\n"
    "                       cannot be used keeps the tokens loaded before, and says why)\n"
    "  --spool DIR          keep accepted calls in DIR/track.spool and DIR/pipelines.spool\n"
    "                       (written before the answer; sent after a restart if not delivered)\n"
    "  --spool-sync MODE    none (survives a killed relay; default), batch or always (fsync\n"
    "                       on every call: survives a machine crash)\n"
    "  --max-queue-bytes N  bytes queued per pipeline before 503 (default 67108864)\n"
    "  --pipeline NAME=VALUE  a pipeline option by name (linger_ms, batch_bytes,\n"
    "                       max_in_flight, max_requests_per_second, retry_deadline_ms,\n"
    "                       max_attempts, ...); repeatable\n"
    "  --cdp-api-key KEY    Pipelines API key: enables /v1 ($CUSTOMERIO_CDP_API_KEY)\n"
    "  --cdp-url URL        Pipelines API base URL ($CUSTOMERIO_CDP_URL)\n"
    "  --workspace NAME=FILE  the workspace of tokens with workspace=NAME: FILE is a JSON\n"
    "                       object of client options (site_id, api_key, cdp_api_key, ...)\n"
    "  --allow-origin URL   let pages of that origin (https://shop.example; * = any) call\n"
    "                       the relay from a browser (CORS); repeatable\n"
    "  --max-body N         request body bytes at most (default 1048576)\n"
    "  --max-connections N  connections open at once (default 1000)\n"
    "  --max-per-address N  connections open at once from one address (default 256)\n"
    "  --idle-timeout S     close a connection silent for S seconds (default 10)\n"
    "  --request-timeout S  close a connection whose request is not complete S seconds after\n"
    "                       it opened or its previous answer (default 30)\n"
    "  --threads N          server threads (default 2)\n"
    "  --drain-timeout S    on SIGINT/SIGTERM, seconds to deliver what is queued (default 10)\n"
    "The default workspace's Track API credentials (--site-id, --api-key, --track-url, ...\n"
    "below) enable its /customers and /events routes.\n"
    "\n"
    "hash-token reads a token on standard input (its first line) and prints its line for the\n"
    "tokens file, so the file never holds a token in plain text.\n";

enum {
    O_LISTEN = 100,
    O_PORT_FILE,
    O_TOKENS,
    O_SPOOL,
    O_SPOOL_SYNC,
    O_MAX_QUEUE_BYTES,
    O_PIPELINE,
    O_CDP_API_KEY,
    O_CDP_URL,
    O_MAX_BODY,
    O_MAX_CONNECTIONS,
    O_MAX_PER_ADDRESS,
    O_IDLE_TIMEOUT,
    O_REQUEST_TIMEOUT,
    O_THREADS,
    O_DRAIN_TIMEOUT,
    O_NAME,
    O_SHAPES,
    O_RATE,
    O_TLS_CERT,
    O_TLS_KEY,
    O_WORKSPACE,
    O_ALLOW_ORIGIN
};

static const cli_opt_t relay_options[] = {{"listen", 1, O_LISTEN},
                                          {"port-file", 1, O_PORT_FILE},
                                          {"tokens", 1, O_TOKENS},
                                          {"spool", 1, O_SPOOL},
                                          {"spool-sync", 1, O_SPOOL_SYNC},
                                          {"max-queue-bytes", 1, O_MAX_QUEUE_BYTES},
                                          {"pipeline", 1, O_PIPELINE},
                                          {"cdp-api-key", 1, O_CDP_API_KEY},
                                          {"cdp-url", 1, O_CDP_URL},
                                          {"max-body", 1, O_MAX_BODY},
                                          {"max-connections", 1, O_MAX_CONNECTIONS},
                                          {"max-per-address", 1, O_MAX_PER_ADDRESS},
                                          {"idle-timeout", 1, O_IDLE_TIMEOUT},
                                          {"request-timeout", 1, O_REQUEST_TIMEOUT},
                                          {"threads", 1, O_THREADS},
                                          {"drain-timeout", 1, O_DRAIN_TIMEOUT},
                                          {"tls-cert", 1, O_TLS_CERT},
                                          {"tls-key", 1, O_TLS_KEY},
                                          {"workspace", 1, O_WORKSPACE},
                                          {"allow-origin", 1, O_ALLOW_ORIGIN},
                                          {NULL, 0, 0}};

static const cli_opt_t hash_options[] = {{"name", 1, O_NAME},
                                         {"shapes", 1, O_SHAPES},
                                         {"rate", 1, O_RATE},
                                         {"workspace", 1, O_WORKSPACE},
                                         {NULL, 0, 0}};

#define MAX_PIPELINE_SETTINGS 32
#define MAX_WORKSPACES 16
#define MAX_ORIGINS 16
#define DEFAULT_MAX_QUEUE_BYTES ((size_t)64 << 20)
#define MAX_TOKEN_BYTES 512

typedef struct relay_opts {
    const char *cmd;
    cli_config_t cfg;
    char host[64];
    unsigned port;
    const char *tls_cert, *tls_key;
    char *tls_cert_pem, *tls_key_pem;
    const char *port_file, *tokens_path, *spool_dir, *spool_sync, *cdp_api_key, *cdp_url;
    const char *settings[MAX_PIPELINE_SETTINGS]; /* --pipeline NAME=VALUE */
    const char *workspaces[MAX_WORKSPACES];      /* --workspace NAME=FILE */
    size_t n_workspaces;
    const char *origins[MAX_ORIGINS]; /* --allow-origin */
    size_t n_origins;
    size_t n_settings;
    size_t max_queue_bytes;
    httpd_limits_t limits;
    double drain_timeout;
} relay_opts_t;

typedef struct relay {
    relay_opts_t *o;
    /* read-locked by every request while it uses a token; write-locked by a SIGHUP reload to
     * swap in the new set */
    pthread_rwlock_t tokens_lock;
    relay_tokens_t tokens;
    relay_stats_t stats;
    relay_workspace_t ws[1 + MAX_WORKSPACES]; /* [0]: the default one (flags, environment) */
    size_t n_ws;
} relay_t;

/* The running server, for the delivery reports' log lines (NULL before it starts). */
static _Atomic(httpd_t *) report_server;

/* ------------------------------------------------------------------------------ arguments */

static int number_opt(const char *cmd, const char *name, const char *v, double lo, double hi,
                      bool fraction, double *out) {
    if (args_number(v, out, fraction) != 0 || *out < lo || *out > hi) {
        return args_usage_error(cmd, "--%s must be %g to %g", name, lo, hi);
    }
    return 0;
}

static int parse_listen(relay_opts_t *o, const char *v) {
    const char *colon = strrchr(v, ':');
    double port;
    if (colon == NULL || (size_t)(colon - v) >= sizeof(o->host) || colon == v ||
        args_number(colon + 1, &port, false) != 0 || port > 65535) {
        return args_usage_error(o->cmd, "--listen must be ADDR:PORT (got '%s')", v);
    }
    snprintf(o->host, sizeof(o->host), "%.*s", (int)(colon - v), v);
    o->port = (unsigned)port;
    return 0;
}

/* Checks the --pipeline settings (and that the relay may take them) on a scratch config. */
static int check_settings(const relay_opts_t *o) {
    cio_config_t *pc = NULL;
    cio_config_new(CIO_CONFIG_PIPELINE, &pc);
    int rc = 0;
    for (size_t i = 0; i < o->n_settings && rc == 0; i++) {
        const char *eq = strchr(o->settings[i], '=');
        char name[64];
        if (eq == NULL || (size_t)(eq - o->settings[i]) >= sizeof(name)) {
            rc = args_usage_error(o->cmd, "--pipeline takes NAME=VALUE (got '%s')", o->settings[i]);
            break;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(eq - o->settings[i]), o->settings[i]);
        if (strcmp(name, "sink") == 0 || strcmp(name, "spool_path") == 0 ||
            strcmp(name, "when_full") == 0 || strcmp(name, "max_queue_items") == 0 ||
            strcmp(name, "max_queue_bytes") == 0 || strcmp(name, "spool_sync") == 0) {
            /* the relay bounds its queues in bytes (--max-queue-bytes) */
            rc = args_usage_error(o->cmd,
                                  "--pipeline %s is set by the relay (see --spool, "
                                  "--spool-sync, --max-queue-bytes)",
                                  name);
        } else if (cio_config_set(pc, name, eq + 1) != CIO_OK) {
            rc = args_usage_error(o->cmd, "--pipeline: %s", cio_last_error()->message);
        }
    }
    cio_config_free(pc);
    return rc;
}

static int parse(relay_opts_t *o, int argc, char **argv, int first) {
    cli_args_t a;
    args_init(&a, o->cmd, argc, argv, first);
    const char *v;
    int id;
    double d;
    while ((id = args_next(&a, relay_options, &v)) != ARG_END) {
        int rc = 0;
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case ARG_POSITIONAL:
            return args_usage_error(o->cmd, "unexpected argument '%s'", v);
        case OPT_HELP:
            return print_help(help_relay, 1);
        case O_LISTEN:
            rc = parse_listen(o, v);
            break;
        case O_PORT_FILE:
            o->port_file = v;
            break;
        case O_TLS_CERT:
            o->tls_cert = v;
            break;
        case O_TLS_KEY:
            o->tls_key = v;
            break;
        case O_TOKENS:
            o->tokens_path = v;
            break;
        case O_SPOOL:
            o->spool_dir = v;
            break;
        case O_SPOOL_SYNC:
            if (strcmp(v, "none") != 0 && strcmp(v, "batch") != 0 && strcmp(v, "always") != 0) {
                return args_usage_error(o->cmd, "--spool-sync must be none, batch or always");
            }
            o->spool_sync = v;
            break;
        case O_MAX_QUEUE_BYTES:
            rc = number_opt(o->cmd, "max-queue-bytes", v, 1024, 1e12, false, &d);
            o->max_queue_bytes = (size_t)d;
            break;
        case O_WORKSPACE: {
            const char *eq = strchr(v, '=');
            char name[64];
            if (eq == NULL || (size_t)(eq - v) >= sizeof(name) || eq[1] == '\0') {
                return args_usage_error(o->cmd, "--workspace takes NAME=FILE (got '%s')", v);
            }
            snprintf(name, sizeof(name), "%.*s", (int)(eq - v), v);
            if (!relay_workspace_name_ok(name) || strcmp(name, "default") == 0) {
                return args_usage_error(o->cmd,
                                        "--workspace NAME: 1 to 63 of A-Z a-z 0-9 _ -, not "
                                        "\"default\" (got '%s')",
                                        name);
            }
            for (size_t i = 0; i < o->n_workspaces; i++) {
                if (strncmp(o->workspaces[i], v, (size_t)(eq - v) + 1) == 0) {
                    return args_usage_error(o->cmd, "--workspace %s given twice", name);
                }
            }
            if (o->n_workspaces == MAX_WORKSPACES) {
                return args_usage_error(o->cmd, "at most %d --workspace options", MAX_WORKSPACES);
            }
            o->workspaces[o->n_workspaces++] = v;
            break;
        }
        case O_ALLOW_ORIGIN:
            if (o->n_origins == MAX_ORIGINS) {
                return args_usage_error(o->cmd, "at most %d --allow-origin options", MAX_ORIGINS);
            }
            o->origins[o->n_origins++] = v;
            break;
        case O_PIPELINE:
            if (o->n_settings == MAX_PIPELINE_SETTINGS) {
                return args_usage_error(o->cmd, "at most %d --pipeline options",
                                        MAX_PIPELINE_SETTINGS);
            }
            o->settings[o->n_settings++] = v;
            break;
        case O_CDP_API_KEY:
            o->cdp_api_key = v;
            break;
        case O_CDP_URL:
            o->cdp_url = v;
            break;
        case O_MAX_BODY:
            rc = number_opt(o->cmd, "max-body", v, 1024, 64 << 20, false, &d);
            o->limits.max_body = (size_t)d;
            break;
        case O_MAX_CONNECTIONS:
            rc = number_opt(o->cmd, "max-connections", v, 1, 100000, false, &d);
            o->limits.max_connections = (unsigned)d;
            break;
        case O_MAX_PER_ADDRESS:
            rc = number_opt(o->cmd, "max-per-address", v, 1, 100000, false, &d);
            o->limits.max_per_address = (unsigned)d;
            break;
        case O_IDLE_TIMEOUT:
            rc = number_opt(o->cmd, "idle-timeout", v, 1, 86400, false, &d);
            o->limits.idle_timeout = (unsigned)d;
            break;
        case O_REQUEST_TIMEOUT:
            rc = number_opt(o->cmd, "request-timeout", v, 0.1, 86400, true,
                            &o->limits.request_timeout);
            break;
        case O_THREADS:
            rc = number_opt(o->cmd, "threads", v, 1, 64, false, &d);
            o->limits.threads = (unsigned)d;
            break;
        case O_DRAIN_TIMEOUT:
            rc = number_opt(o->cmd, "drain-timeout", v, 0, 86400, true, &o->drain_timeout);
            break;
        default:
            config_option(&o->cfg, id, v);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (o->tokens_path == NULL) {
        return args_usage_error(o->cmd, "--tokens FILE is required (see hash-token)");
    }
    if (check_settings(o) != 0) {
        return EXIT_USAGE;
    }
    if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
        return args_usage_error(o->cmd, "--tls-cert and --tls-key go together");
    }
    const char *paths[] = {o->tls_cert, o->tls_key};
    char **pems[] = {&o->tls_cert_pem, &o->tls_key_pem};
    for (int i = 0; i < 2 && o->tls_cert != NULL; i++) {
        size_t len;
        if (read_file_max(paths[i], CLI_MAX_KEY_FILE_BYTES, pems[i], &len) != 0) {
            char why[64];
            fprintf(stderr, "cio-native %s: cannot read %s: %s\n", o->cmd, paths[i],
                    read_error(errno, CLI_MAX_KEY_FILE_BYTES, why, sizeof(why)));
            return EXIT_USAGE;
        }
    }
    o->limits.tls_cert_pem = o->tls_cert_pem;
    o->limits.tls_key_pem = o->tls_key_pem;
    if (o->cdp_api_key == NULL) {
        o->cdp_api_key = getenv("CUSTOMERIO_CDP_API_KEY");
    }
    if (o->cdp_url == NULL) {
        o->cdp_url = getenv("CUSTOMERIO_CDP_URL");
    }
    return config_resolve(&o->cfg, o->cmd) != 0 ? EXIT_USAGE : -1;
}

/* ------------------------------------------------------------------------------ pipelines */

static void on_report(const cio_delivery_report_t *r, void *user) {
    const char *sink = user;
    if (r->status == CIO_OK) {
        return;
    }
    httpd_t *server = atomic_load(&report_server);
    if (server != NULL) {
        httpd_log(server, "%s: seq %llu given up (%s%s%s): %s", sink, (unsigned long long)r->seq,
                  cio_status_str(r->status), r->reason != NULL ? ", " : "",
                  r->reason != NULL ? r->reason : "", r->message != NULL ? r->message : "");
    } else {
        fprintf(stderr, "cio-native relay: %s: seq %llu given up (%s): %s\n", sink,
                (unsigned long long)r->seq, cio_status_str(r->status),
                r->message != NULL ? r->message : "");
    }
}

/*
 * The options of one sink's pipeline: the --pipeline settings, then what the relay fixes (the
 * sink, fail at once when full, the bound, the store). The store is chosen here and only here:
 * memory, or the spool file DIR/<sink>.spool; a shared store (issue 18's Redis) becomes one more
 * branch setting popts->store.
 */
static int pipeline_options(const relay_opts_t *o, const char *ws, relay_sink_t sink,
                            cio_config_t *pc, char *spool_path, size_t spool_size) {
    for (size_t i = 0; i < o->n_settings; i++) {
        const char *eq = strchr(o->settings[i], '=');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - o->settings[i]), o->settings[i]);
        cio_config_set(pc, name, eq + 1); /* checked by check_settings */
    }
    char bound[32];
    snprintf(bound, sizeof(bound), "%zu", o->max_queue_bytes);
    if (cio_config_set(pc, "sink", sink == RELAY_SINK_TRACK ? "track_v2" : "pipelines") != CIO_OK ||
        cio_config_set(pc, "when_full", "fail") != CIO_OK ||
        cio_config_set(pc, "max_queue_bytes", bound) != CIO_OK) {
        return -1;
    }
    if (o->spool_dir != NULL) {
        /* DIR/track.spool for the default workspace, DIR/NAME.track.spool for the others */
        snprintf(spool_path, spool_size, "%s/%s%s%s.spool", o->spool_dir, ws != NULL ? ws : "",
                 ws != NULL ? "." : "", sink == RELAY_SINK_TRACK ? "track" : "pipelines");
        if (cio_config_set(pc, "spool_path", spool_path) != CIO_OK ||
            (o->spool_sync != NULL && cio_config_set(pc, "spool_sync", o->spool_sync) != CIO_OK)) {
            return -1;
        }
    }
    return 0;
}

/* Starts a pipeline for each sink the workspace has credentials for. */
static int start_workspace(relay_t *r, relay_workspace_t *w, bool track, bool cdp) {
    static char *const sink_names[RELAY_SINKS] = {"track", "pipelines"};
    relay_opts_t *o = r->o;
    for (int s = 0; s < RELAY_SINKS; s++) {
        if (!(s == RELAY_SINK_TRACK ? track : cdp)) {
            continue;
        }
        cio_config_t *pc = NULL;
        cio_config_new(CIO_CONFIG_PIPELINE, &pc);
        char spool_path[4096];
        cio_pipeline_options_t popts;
        int rc = pipeline_options(o, w == &r->ws[0] ? NULL : w->name, (relay_sink_t)s, pc,
                                  spool_path, sizeof(spool_path));
        if (rc == 0 && cio_config_pipeline_options(pc, &popts) == CIO_OK) {
            popts.on_report = on_report;
            snprintf(w->label[s], sizeof(w->label[s]), "%s/%s", w->name, sink_names[s]);
            popts.report_user = w->label[s];
            rc = cio_pipeline_new(w->client, &popts, &w->pipelines[s]) == CIO_OK ? 0 : -1;
        } else {
            rc = -1;
        }
        cio_config_free(pc);
        if (rc != 0) {
            fprintf(stderr, "cio-native %s: workspace %s: %s\n", o->cmd, w->name,
                    cio_last_error()->message);
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int start_pipelines(relay_t *r) {
    relay_opts_t *o = r->o;
    if (o->spool_dir != NULL && mkdir(o->spool_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "cio-native %s: cannot make %s: %s\n", o->cmd, o->spool_dir,
                strerror(errno));
        return EXIT_USAGE;
    }
    relay_workspace_t *w = &r->ws[0];
    bool track =
        config_get(&o->cfg, CFG_SITE_ID) != NULL && config_get(&o->cfg, CFG_API_KEY) != NULL;
    bool cdp = o->cdp_api_key != NULL && o->cdp_api_key[0] != '\0';
    if (config_client_cdp(&o->cfg, o->cmd, cdp ? o->cdp_api_key : NULL, o->cdp_url, &w->client) !=
            0 ||
        start_workspace(r, w, track, cdp) != 0) {
        return EXIT_USAGE;
    }
    bool any = track || cdp;
    for (size_t i = 0; i < o->n_workspaces; i++) {
        w = &r->ws[i + 1];
        const char *eq = strchr(o->workspaces[i], '=');
        char err[600];
        if (relay_workspace_client(eq + 1, &w->client, &track, &cdp, err, sizeof(err)) != 0) {
            fprintf(stderr, "cio-native %s: workspace %s\n", o->cmd, err);
            return EXIT_USAGE;
        }
        if (!track && !cdp) {
            fprintf(stderr,
                    "cio-native %s: workspace %s: %s has no credentials (site_id and api_key, "
                    "and/or cdp_api_key)\n",
                    o->cmd, w->name, eq + 1);
            return EXIT_USAGE;
        }
        if (start_workspace(r, w, track, cdp) != 0) {
            return EXIT_USAGE;
        }
        any = true;
    }
    if (!any) {
        fprintf(stderr,
                "cio-native %s: no credentials: give the Track API's (--site-id and "
                "--api-key) and/or a Pipelines API key (--cdp-api-key), or a --workspace\n",
                o->cmd);
        return EXIT_USAGE;
    }
    return 0;
}

/* Points every token of tokens at its workspace; 0, or -1 with why in err naming a token whose
 * is unknown. */
static int resolve_tokens(const relay_t *r, relay_tokens_t *tokens, char *err, size_t errlen) {
    for (size_t i = 0; i < tokens->n; i++) {
        relay_token_t *t = &tokens->items[i];
        const char *want = t->workspace[0] != '\0' ? t->workspace : "default";
        size_t k = 0;
        while (k < r->n_ws && strcmp(r->ws[k].name, want) != 0) {
            k++;
        }
        if (k == r->n_ws) {
            snprintf(err, errlen, "%s: token %s names workspace %s, which no --workspace gives",
                     r->o->tokens_path, t->name, want);
            return -1;
        }
        t->ws = k;
    }
    return 0;
}

/* Points every token at its workspace; 0, or EXIT_USAGE naming a token whose is unknown. */
static int resolve_workspaces(relay_t *r) {
    char err[600];
    if (resolve_tokens(r, &r->tokens, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-native relay: %s\n", err);
        return EXIT_USAGE;
    }
    return 0;
}

/* SIGHUP: the tokens file read again and swapped in whole; a token kept (same hash) keeps its
 * rate's bucket. A file that cannot be read or used leaves the tokens as they were. */
static void reload_tokens(relay_t *r) {
    relay_tokens_t fresh = {0};
    char err[600];
    if (relay_tokens_load(r->o->tokens_path, &fresh, err, sizeof(err)) != 0 ||
        resolve_tokens(r, &fresh, err, sizeof(err)) != 0) {
        relay_tokens_free(&fresh);
        fprintf(stderr, "cio-native relay: SIGHUP: %s: the tokens loaded before are kept\n", err);
        return;
    }
    pthread_rwlock_wrlock(&r->tokens_lock);
    for (size_t i = 0; i < fresh.n; i++) {
        for (size_t k = 0; k < r->tokens.n; k++) {
            const relay_token_t *old = &r->tokens.items[k];
            if (memcmp(old->hash, fresh.items[i].hash, sizeof(old->hash)) == 0) {
                fresh.items[i].bucket = old->bucket;
                fresh.items[i].bucket_ms = old->bucket_ms;
            }
        }
    }
    relay_tokens_t old = r->tokens;
    r->tokens = fresh;
    pthread_rwlock_unlock(&r->tokens_lock);
    relay_tokens_free(&old);
    fprintf(stderr, "cio-native relay: SIGHUP: %s reloaded (%zu token%s)\n", r->o->tokens_path,
            fresh.n, fresh.n == 1 ? "" : "s");
}

/* ------------------------------------------------------------------------------- requests */

/* The Origin of a request from a page the relay serves (--allow-origin), to echo in
 * Access-Control-Allow-Origin; NULL for another origin or none. */
static const char *cors_origin(const relay_t *r, const httpd_request_t *req) {
    const char *origin = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin");
    if (origin == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < r->o->n_origins; i++) {
        if (strcmp(r->o->origins[i], "*") == 0 || strcmp(r->o->origins[i], origin) == 0) {
            return origin;
        }
    }
    return NULL;
}

static enum MHD_Result answer_json(const relay_t *r, const httpd_request_t *req, unsigned status,
                                   const char *json, const char *header, const char *value) {
    const char *headers[9] = {NULL};
    size_t n = 0;
    if (header != NULL && value != NULL) {
        headers[n++] = header;
        headers[n++] = value;
    }
    if (status == 429 && value != NULL) { /* the browser SDKs wait what this header says */
        headers[n++] = "X-RateLimit-Reset";
        headers[n++] = value;
    }
    const char *origin = cors_origin(r, req);
    if (origin != NULL) {
        headers[n++] = "Access-Control-Allow-Origin";
        headers[n++] = origin;
        headers[n++] = "Vary";
        headers[n++] = "Origin";
    }
    return httpd_reply_headers(req->conn, status, "application/json", json, headers);
}

/* OPTIONS from an allowed origin: what a browser may send (CORS preflight). */
static enum MHD_Result preflight(const relay_t *r, const httpd_request_t *req,
                                 const relay_match_t *m) {
    const char *headers[] = {"Access-Control-Allow-Origin",
                             cors_origin(r, req),
                             "Access-Control-Allow-Methods",
                             m->method,
                             "Access-Control-Allow-Headers",
                             "Authorization, Content-Type, Content-Encoding",
                             "Access-Control-Max-Age",
                             "600",
                             "Vary",
                             "Origin",
                             NULL};
    return httpd_reply_headers(req->conn, 204, NULL, "", headers);
}

static enum MHD_Result refuse(relay_t *r, const httpd_request_t *req, relay_reason_t reason,
                              unsigned status, const char *code, const char *header,
                              const char *value, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static enum MHD_Result refuse(relay_t *r, const httpd_request_t *req, relay_reason_t reason,
                              unsigned status, const char *code, const char *header,
                              const char *value, const char *fmt, ...) {
    relay_stats_refused(&r->stats, reason);
    char message[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (status != 401 && status != 429 && status != 503) { /* those can come in floods */
        httpd_log(req->server, "%u %s %s: %s", status, req->method, req->url, message);
    }
    sbuf_t b = {0};
    sb_printf(&b, "{\"code\":\"%s\",\"message\":", code);
    jw_string(&b, message, strlen(message));
    /* the same text as "error": analytics-ruby hands body["error"] to on_error */
    sb_puts(&b, ",\"error\":");
    jw_string(&b, message, strlen(message));
    sb_putc(&b, '}');
    enum MHD_Result res = answer_json(r, req, status, b.data, header, value);
    sb_free(&b);
    return res;
}

/* The token of the Authorization header: Bearer's, or Basic's user name (analytics clients
 * send the write key so). false when there is none. */
static bool presented_token(struct MHD_Connection *conn, char *buf, size_t size, size_t *len) {
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth == NULL) {
        return false;
    }
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ') {
            t++;
        }
        *len = strlen(t);
        if (*len == 0 || *len >= size) {
            return false;
        }
        memcpy(buf, t, *len + 1);
        return true;
    }
    if (strncasecmp(auth, "Basic ", 6) == 0) {
        const char *b64 = auth + 6;
        size_t n = strlen(b64);
        if (n == 0 || n % 4 != 0 || n / 4 * 3 >= size) {
            return false;
        }
        int out = EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)b64, (int)n);
        if (out < 0) {
            return false;
        }
        buf[out] = '\0';
        char *colon = memchr(buf, ':', (size_t)out); /* user:password; the password is unused */
        *len = colon != NULL ? (size_t)(colon - buf) : strlen(buf);
        buf[*len] = '\0';
        return *len > 0 && strlen(buf) == *len;
    }
    return false;
}

static bool from_loopback(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL || info->client_addr->sa_family != AF_INET) {
        return false;
    }
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)info->client_addr;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

/* Queues every request of call, or none (the core's all-or-none enqueue: room for all of them,
 * one lock, one spool record): 0, or the refusal's status. */
static unsigned enqueue(relay_workspace_t *w, relay_sink_t sink, const relay_call_t *call,
                        uint64_t *seq, char *why, size_t whylen) {
    uint64_t small[16];
    uint64_t *seqs = call->n <= 16 ? small : xmalloc(call->n * sizeof(*seqs));
    cio_status_t st = cio_pipeline_try_enqueue_requests(
        w->pipelines[sink], (const cio_request_t *const *)call->reqs, call->n, seqs);
    unsigned status = 0;
    if (st == CIO_OK) {
        *seq = seqs[0];
    } else {
        status = st == CIO_E_QUEUE_FULL ? 503 : st == CIO_E_PAYLOAD_TOO_LARGE ? 413 : 500;
        snprintf(why, whylen, "%s: nothing queued", cio_last_error()->message);
    }
    if (seqs != small) {
        free(seqs);
    }
    return status;
}

static enum MHD_Result accepted(relay_t *r, const httpd_request_t *req, const relay_match_t *m,
                                const relay_call_t *call, uint64_t seq) {
    atomic_fetch_add(&r->stats.requests, 1);
    atomic_fetch_add(&r->stats.accepted, call->n);
    sbuf_t b = {0};
    unsigned status;
    if (m->shape == RELAY_SHAPE_TEAM) {
        sb_puts(&b, "{\"id\":"); /* null for an identify: it carries no id */
        if (call->ids[0][0] == '\0') {
            sb_puts(&b, "null");
        } else {
            jw_string(&b, call->ids[0], strlen(call->ids[0]));
        }
        sb_printf(&b, ",\"seq\":%llu}", (unsigned long long)seq);
        status = 202;
    } else if (m->route == RELAY_ROUTE_CDP_MESSAGE) {
        /* 200: analytics-python and analytics-ruby count any other status as a failure */
        sb_puts(&b, "{\"success\":true,\"messageId\":");
        jw_string(&b, call->ids[0], strlen(call->ids[0]));
        sb_putc(&b, '}');
        status = 200;
    } else {
        sb_puts(&b, "{\"success\":true,\"messageIds\":[");
        for (size_t i = 0; i < call->n; i++) {
            if (i > 0) {
                sb_putc(&b, ',');
            }
            jw_string(&b, call->ids[i], strlen(call->ids[i]));
        }
        sb_puts(&b, "]}");
        status = 200;
    }
    enum MHD_Result res = answer_json(r, req, status, b.data, NULL, NULL);
    sb_free(&b);
    return res;
}

/* The body as sent or inflated (gzip): 0 with *body (inflated: *owned, to free), or the
 * refusal's answer already queued in *res. */
static int request_body(relay_t *r, const httpd_request_t *req, const char **body, size_t *len,
                        char **owned, enum MHD_Result *res) {
    char size[32];
    const char *encoding =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    *body = req->body;
    *len = req->body_len;
    *owned = NULL;
    if (encoding != NULL && str_ieq(encoding, "gzip")) {
        int gz = relay_gunzip(req->body, req->body_len, r->o->limits.max_body, owned, len);
        if (gz != 0) {
            *res = gz > 0 ? refuse(r, req, RELAY_R_TOO_LARGE, 413, "too_large", NULL, NULL,
                                   "the body inflates to more than %s",
                                   fmt_bytes(r->o->limits.max_body, size, sizeof(size)))
                          : refuse(r, req, RELAY_R_INVALID, 400, "invalid", NULL, NULL,
                                   "body: not gzip (Content-Encoding: gzip)");
            return -1;
        }
        *body = *owned;
    } else if (encoding != NULL && !str_ieq(encoding, "identity")) {
        *res = refuse(r, req, RELAY_R_ENCODING, 415, "unsupported_encoding", NULL, NULL,
                      "Content-Encoding %s is not accepted: send the body as is or gzip", encoding);
        return -1;
    }
    return 0;
}

/* A call with its token known: checked against the token, built, queued, answered. */
static enum MHD_Result call_route(relay_t *r, const httpd_request_t *req, const relay_match_t *m,
                                  relay_token_t *t, const char *body, size_t body_len) {
    if (t == NULL) {
        return refuse(r, req, RELAY_R_UNAUTHORIZED, 401, "unauthorized", "WWW-Authenticate",
                      "Bearer", "a missing or unknown token: nothing queued");
    }
    if (!(t->shapes & m->shape)) {
        return refuse(r, req, RELAY_R_FORBIDDEN, 403, "forbidden", NULL, NULL,
                      "token %s may not call %s", t->name, req->url);
    }
    relay_workspace_t *w = &r->ws[t->ws];
    if (w->pipelines[m->sink] == NULL) {
        return refuse(r, req, RELAY_R_NOT_FOUND, 404, "not_found", NULL, NULL,
                      "%s is not enabled: workspace %s has no %s", req->url, w->name,
                      m->sink == RELAY_SINK_TRACK ? "Track API credentials (--site-id, --api-key)"
                                                  : "Pipelines API key (--cdp-api-key)");
    }
    unsigned retry_after = 0;
    if (!relay_token_take(t, &retry_after)) {
        char value[16];
        snprintf(value, sizeof(value), "%u", retry_after);
        return refuse(r, req, RELAY_R_RATE_LIMITED, 429, "rate_limited", "Retry-After", value,
                      "token %s is over its rate (%g requests a second)", t->name, t->rate);
    }
    relay_call_t call;
    relay_refusal_t why;
    if (!relay_route_build(m, body, body_len, &call, &why)) {
        return refuse(r, req, why.status == 413 ? RELAY_R_TOO_LARGE : RELAY_R_INVALID, why.status,
                      why.code, NULL, NULL, "%s", why.message);
    }
    char message[600];
    uint64_t seq = 0;
    unsigned status = enqueue(w, m->sink, &call, &seq, message, sizeof(message));
    enum MHD_Result res;
    if (status == 0) {
        res = accepted(r, req, m, &call, seq);
    } else if (status == 503) {
        res = refuse(r, req, RELAY_R_QUEUE_FULL, 503, "queue_full", "Retry-After", "1", "%s",
                     message);
    } else if (status == 413) {
        res = refuse(r, req, RELAY_R_TOO_LARGE, 413, "too_large", NULL, NULL, "%s", message);
    } else {
        res = refuse(r, req, RELAY_R_INTERNAL, 500, "internal", NULL, NULL, "%s", message);
    }
    relay_call_free(&call);
    return res;
}

static enum MHD_Result handle(void *cls, const httpd_request_t *req) {
    relay_t *r = cls;
    char size[32];
    if (req->too_large) {
        return refuse(r, req, RELAY_R_TOO_LARGE, 413, "too_large", NULL, NULL,
                      "the body is larger than %s",
                      fmt_bytes(r->o->limits.max_body, size, sizeof(size)));
    }
    relay_match_t m;
    if (!relay_route_match(req->url, &m)) {
        return refuse(r, req, RELAY_R_NOT_FOUND, 404, "not_found", NULL, NULL, "no route %s",
                      req->url);
    }
    if (strcmp(req->method, "OPTIONS") == 0 && cors_origin(r, req) != NULL) {
        return preflight(r, req, &m); /* a browser asking before it sends */
    }
    if (strcmp(req->method, m.method) != 0) {
        return refuse(r, req, RELAY_R_METHOD, 405, "method_not_allowed", "Allow", m.method,
                      "%s takes %s only", req->url, m.method);
    }
    if (m.route == RELAY_ROUTE_HEALTHZ) {
        return answer_json(r, req, 200, "{\"ok\":true}", NULL, NULL);
    }
    char token[MAX_TOKEN_BYTES];
    size_t token_len = 0;
    bool presented = presented_token(req->conn, token, sizeof(token), &token_len);
    if (m.route == RELAY_ROUTE_STATS) {
        pthread_rwlock_rdlock(&r->tokens_lock);
        relay_token_t *t = presented ? relay_tokens_find(&r->tokens, token, token_len) : NULL;
        bool allowed = from_loopback(req->conn) || (t != NULL && (t->shapes & RELAY_SHAPE_STATS));
        pthread_rwlock_unlock(&r->tokens_lock);
        if (!allowed) {
            return refuse(r, req, RELAY_R_UNAUTHORIZED, 401, "unauthorized", "WWW-Authenticate",
                          "Bearer", "/stats needs a token allowed \"stats\" from another machine");
        }
        char *json = relay_stats_json(&r->stats, r->ws, r->n_ws);
        enum MHD_Result res = answer_json(r, req, 200, json, NULL, NULL);
        free(json);
        return res;
    }
    const char *body;
    size_t body_len;
    char *owned;
    enum MHD_Result res;
    if (request_body(r, req, &body, &body_len, &owned, &res) != 0) {
        return res;
    }
    /* no Authorization: a Segment-shaped body may carry the token as "writeKey" (browsers) */
    if (!presented && m.shape == RELAY_SHAPE_PIPELINES) {
        presented = relay_body_token(body, body_len, token, sizeof(token), &token_len);
    }
    pthread_rwlock_rdlock(&r->tokens_lock); /* t stays valid through the call */
    relay_token_t *t = presented ? relay_tokens_find(&r->tokens, token, token_len) : NULL;
    res = call_route(r, req, &m, t, body, body_len);
    pthread_rwlock_unlock(&r->tokens_lock);
    free(owned);
    return res;
}

/* ------------------------------------------------------------------------------- commands */

static int hash_token(int argc, char **argv, int first) {
    const char *cmd = "relay hash-token";
    const char *name = NULL, *shapes = NULL, *rate = NULL, *workspace = NULL;
    cli_args_t a;
    args_init(&a, cmd, argc, argv, first);
    const char *v;
    int id;
    while ((id = args_next(&a, hash_options, &v)) != ARG_END) {
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case OPT_HELP:
            return print_help(help_relay, 0);
        case O_NAME:
            name = v;
            break;
        case O_SHAPES:
            shapes = v;
            break;
        case O_RATE:
            rate = v;
            break;
        case O_WORKSPACE:
            workspace = v;
            break;
        default:
            return args_usage_error(cmd, "unexpected argument '%s'", v != NULL ? v : "");
        }
    }
    char *text;
    size_t len;
    if (read_stream_max(stdin, MAX_TOKEN_BYTES, &text, &len) != 0) {
        return args_usage_error(cmd, "cannot read the token on standard input (at most %d bytes)",
                                MAX_TOKEN_BYTES - 1);
    }
    len = strcspn(text, "\r\n");
    text[len] = '\0';
    if (len < 16 || nul_offset(text, len) >= 0 || strchr(text, ':') != NULL) {
        free(text);
        return args_usage_error(cmd, "the token must be 16 characters or more, without ':'");
    }
    char err[200];
    char *line = relay_token_line(text, len, name, shapes, rate, workspace, err, sizeof(err));
    free(text);
    if (line == NULL) {
        return args_usage_error(cmd, "%s", err);
    }
    puts(line);
    free(line);
    return EXIT_ALL_OK;
}

static int serve(relay_t *r, const sigset_t *stop) {
    relay_opts_t *o = r->o;
    httpd_t *server = httpd_start(o->cmd, o->host, o->port, &o->limits, handle, r);
    if (server == NULL) {
        return EXIT_USAGE;
    }
    atomic_store(&report_server, server);
    unsigned port = httpd_port(server);
    fprintf(stderr, "cio-native relay: listening on http%s://%s:%u/ (%zu workspace%s; %s)\n",
            o->tls_cert != NULL ? "s" : "", o->host, port, r->n_ws, r->n_ws == 1 ? "" : "s",
            o->spool_dir != NULL ? "spool" : "memory: a stopped relay loses what it holds");
    if (o->port_file != NULL && write_port_file(o->port_file, port) != 0) {
        fprintf(stderr, "cio-native %s: cannot write %s\n", o->cmd, o->port_file);
        atomic_store(&report_server, NULL);
        httpd_stop(server);
        return EXIT_USAGE;
    }
    struct timespec tick = {0, 100 * 1000000L};
    int sig;
    while ((sig = sigtimedwait(stop, NULL, &tick)) <= 0 || sig == SIGHUP) {
        if (sig == SIGHUP) {
            reload_tokens(r);
        }
        httpd_tick(server);
    }
    fprintf(stderr, "cio-native relay: stopping: delivering what is queued (up to %g s)\n",
            o->drain_timeout);
    httpd_stop(server); /* no new call; those answered are in the pipelines */
    atomic_store(&report_server, NULL);
    return EXIT_ALL_OK;
}

int cmd_relay(int argc, char **argv, int first) {
    if (first < argc && strcmp(argv[first], "hash-token") == 0) {
        return hash_token(argc, argv, first + 1);
    }
    relay_opts_t o = {.cmd = "relay",
                      .host = "127.0.0.1",
                      .port = 8088,
                      .max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES,
                      .drain_timeout = 10,
                      .limits = {.max_connections = 1000,
                                 .max_per_address = 256,
                                 .idle_timeout = 10,
                                 .request_timeout = 30,
                                 .max_body = (size_t)1 << 20,
                                 .threads = 2}};
    int rc = parse(&o, argc, argv, first);
    if (rc >= 0) {
        free(o.tls_cert_pem);
        free(o.tls_key_pem);
        config_free(&o.cfg);
        return rc;
    }
    /* only the main thread takes SIGINT/SIGTERM (sigtimedwait in serve): blocked before any
     * thread starts (the engine's, the pipelines', the server's), which inherit the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP); /* not a stop: the tokens file is read again */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    relay_t r = {.o = &o, .n_ws = 1 + o.n_workspaces};
    pthread_rwlock_init(&r.tokens_lock, NULL);
    snprintf(r.ws[0].name, sizeof(r.ws[0].name), "default");
    for (size_t i = 0; i < r.n_ws; i++) {
        if (i > 0) {
            snprintf(r.ws[i].name, sizeof(r.ws[i].name), "%.*s",
                     (int)(strchr(o.workspaces[i - 1], '=') - o.workspaces[i - 1]),
                     o.workspaces[i - 1]);
        }
    }
    char err[600];
    if (relay_tokens_load(o.tokens_path, &r.tokens, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-native relay: %s\n", err);
        rc = EXIT_USAGE;
    } else if ((rc = resolve_workspaces(&r)) == 0) {
        rc = start_pipelines(&r);
        if (rc == 0) {
            rc = serve(&r, &stop);
        }
    }
    bool lost = false;
    for (size_t i = 0; i < r.n_ws; i++) {
        for (int s = 0; s < RELAY_SINKS; s++) {
            if (r.ws[i].pipelines[s] != NULL &&
                cio_pipeline_close(r.ws[i].pipelines[s], (long)(o.drain_timeout * 1000)) !=
                    CIO_OK) {
                lost = true;
            }
        }
    }
    if (lost) {
        fprintf(stderr,
                "cio-native relay: not everything was delivered before the drain "
                "timeout: %s\n",
                o.spool_dir != NULL ? "the spool keeps it for the next start"
                                    : "what was in memory is lost (see --spool)");
        rc = rc == 0 ? EXIT_PARTIAL : rc;
    }
    for (size_t i = 0; i < r.n_ws; i++) {
        cio_client_free(r.ws[i].client);
    }
    relay_tokens_free(&r.tokens);
    pthread_rwlock_destroy(&r.tokens_lock);
    free(o.tls_cert_pem);
    free(o.tls_key_pem);
    config_free(&o.cfg);
    return rc;
}
