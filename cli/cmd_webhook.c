/*
 * cio-native webhook verify: checks one reporting webhook's signature (body on standard input).
 * cio-native webhook listen: a small receiver (libmicrohttpd) that verifies, de-duplicates and
 * prints events as JSON lines.
 */
#include "commands.h"
#include "config.h"
#include "httpd.h"
#include "jsonw.h"
#include "util.h"

#include <customerio/customerio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

const char help_webhook[] =
    "Usage: cio-native webhook verify [OPTIONS] < BODY\n"
    "       cio-native webhook listen [OPTIONS]\n"
    "Checks or receives Customer.io reporting webhooks: X-CIO-Timestamp and X-CIO-Signature\n"
    "(hex HMAC-SHA256 of \"v0:<timestamp>:<raw body>\" keyed with the signing key).\n"
    "\n"
    "verify checks the raw body on standard input (or --body-file) against the headers'\n"
    "values and prints {\"valid\": true|false, ...}; exit status 0 valid, 1 not, 2 usage.\n"
    "\n"
    "Options of verify:\n"
    "  --timestamp T        the X-CIO-Timestamp header\n"
    "  --signature S        the X-CIO-Signature header (\"v0=\" prefix accepted)\n"
    "  --body-file FILE     read the body from FILE instead of standard input (either: at\n"
    "                       most 1 MiB)\n"
    "  --tolerance SECONDS  also reject a timestamp this far from now (default 0: not checked)\n"
    "  --parse              also parse the body and print its events\n"
    "\n"
    "listen receives webhooks over HTTP: it answers 401 to a bad signature or a stale\n"
    "timestamp, 400 to a body that is not webhook events, 200 otherwise, and prints every new\n"
    "event (by event_id) as one JSON line on standard output, dropping redeliveries.\n"
    "\n"
    "Options of listen:\n"
    "  --host ADDR          IPv4 address to bind (default 127.0.0.1: only this machine)\n"
    "  --port N             port (default 0: a free one, printed on standard error)\n"
    "  --port-file FILE     write the port number there once listening\n"
    "  --tolerance SECONDS  replay window (default 300; 0 = off)\n"
    "  --count N            exit after printing N events\n"
    "  --max-connections N  connections open at once (default 1000); beyond, new ones wait\n"
    "                       in the kernel's queue\n"
    "  --max-per-address N  connections open at once from one client address (default 16);\n"
    "                       beyond, new ones are closed at once\n"
    "  --idle-timeout S     close a connection silent for S seconds (default 10)\n"
    "  --request-timeout S  close a connection whose request is not complete S seconds after\n"
    "                       it opened or after its previous answer, however slowly it\n"
    "                       trickles (default 30)\n"
    "  A body over 1 MiB is answered 413 (at once when Content-Length says so).\n"
    "\n"
    "Options of both:\n"
    "  --key KEY            the webhook signing key ($CUSTOMERIO_WEBHOOK_SIGNING_KEY, or\n"
    "                       webhook_signing_key in the configuration file)\n"
    "  --key-file FILE      read the signing key from FILE (trailing newline ignored; at\n"
    "                       most 64 KiB)\n"
    "  --config FILE        configuration file (see cio-native --help-all)\n";

enum {
    O_KEY = 100,
    O_KEY_FILE,
    O_TIMESTAMP,
    O_SIGNATURE,
    O_BODY_FILE,
    O_TOLERANCE,
    O_PARSE,
    O_HOST,
    O_PORT,
    O_PORT_FILE,
    O_COUNT,
    O_MAX_CONNECTIONS,
    O_MAX_PER_ADDRESS,
    O_IDLE_TIMEOUT,
    O_REQUEST_TIMEOUT
};

static const cli_opt_t verify_options[] = {{"key", 1, O_KEY},
                                           {"key-file", 1, O_KEY_FILE},
                                           {"timestamp", 1, O_TIMESTAMP},
                                           {"signature", 1, O_SIGNATURE},
                                           {"body-file", 1, O_BODY_FILE},
                                           {"tolerance", 1, O_TOLERANCE},
                                           {"parse", 0, O_PARSE},
                                           {NULL, 0, 0}};

static const cli_opt_t listen_options[] = {{"key", 1, O_KEY},
                                           {"key-file", 1, O_KEY_FILE},
                                           {"host", 1, O_HOST},
                                           {"port", 1, O_PORT},
                                           {"port-file", 1, O_PORT_FILE},
                                           {"tolerance", 1, O_TOLERANCE},
                                           {"count", 1, O_COUNT},
                                           {"max-connections", 1, O_MAX_CONNECTIONS},
                                           {"max-per-address", 1, O_MAX_PER_ADDRESS},
                                           {"idle-timeout", 1, O_IDLE_TIMEOUT},
                                           {"request-timeout", 1, O_REQUEST_TIMEOUT},
                                           {NULL, 0, 0}};

typedef struct wh_opts {
    const char *cmd;
    cli_config_t cfg;
    const char *key_file;
    char *key;
    const char *timestamp, *signature, *body_file, *host, *port_file;
    double tolerance;
    bool tolerance_set;
    bool parse;
    unsigned port;
    uint64_t count;
    /* listen's defences against slow and numerous clients (see help_webhook) */
    unsigned max_connections, max_per_address, idle_timeout;
    double request_timeout;
} wh_opts_t;

static int parse(wh_opts_t *o, const cli_opt_t *table, int argc, char **argv, int first) {
    cli_args_t a;
    args_init(&a, o->cmd, argc, argv, first);
    const char *v;
    int id;
    double d;
    while ((id = args_next(&a, table, &v)) != ARG_END) {
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case ARG_POSITIONAL:
            return args_usage_error(o->cmd, "unexpected argument '%s'", v);
        case OPT_HELP:
            return print_help(help_webhook, 0);
        case O_KEY:
            o->cfg.flag[CFG_WEBHOOK_KEY] = v;
            break;
        case O_KEY_FILE:
            o->key_file = v;
            break;
        case O_TIMESTAMP:
            o->timestamp = v;
            break;
        case O_SIGNATURE:
            o->signature = v;
            break;
        case O_BODY_FILE:
            o->body_file = v;
            break;
        case O_TOLERANCE:
            if (args_number(v, &o->tolerance, false) != 0) {
                return args_usage_error(o->cmd, "--tolerance must be whole seconds >= 0");
            }
            o->tolerance_set = true;
            break;
        case O_PARSE:
            o->parse = true;
            break;
        case O_HOST:
            o->host = v;
            break;
        case O_PORT:
            if (args_number(v, &d, false) != 0 || d > 65535) {
                return args_usage_error(o->cmd, "--port must be 0 to 65535");
            }
            o->port = (unsigned)d;
            break;
        case O_PORT_FILE:
            o->port_file = v;
            break;
        case O_COUNT:
            if (args_number(v, &d, false) != 0 || d < 1) {
                return args_usage_error(o->cmd, "--count must be a number >= 1");
            }
            o->count = (uint64_t)d;
            break;
        case O_MAX_CONNECTIONS:
        case O_MAX_PER_ADDRESS:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 100000) {
                return args_usage_error(o->cmd, "--%s must be 1 to 100000",
                                        id == O_MAX_CONNECTIONS ? "max-connections"
                                                                : "max-per-address");
            }
            *(id == O_MAX_CONNECTIONS ? &o->max_connections : &o->max_per_address) = (unsigned)d;
            break;
        case O_IDLE_TIMEOUT:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 86400) {
                return args_usage_error(o->cmd, "--idle-timeout must be 1 to 86400 seconds");
            }
            o->idle_timeout = (unsigned)d;
            break;
        case O_REQUEST_TIMEOUT:
            if (args_number(v, &o->request_timeout, true) != 0 || o->request_timeout <= 0 ||
                o->request_timeout > 86400) {
                return args_usage_error(
                    o->cmd, "--request-timeout must be more than 0 and at most 86400 seconds");
            }
            break;
        default:
            config_option(&o->cfg, id, v);
        }
    }
    int rc = config_resolve(&o->cfg, o->cmd);
    if (rc != 0) {
        return rc;
    }
    if (o->key_file != NULL) {
        size_t len;
        if (read_file_max(o->key_file, CLI_MAX_KEY_FILE_BYTES, &o->key, &len) != 0) {
            char why[64];
            fprintf(stderr, "cio-native %s: cannot read %s: %s\n", o->cmd, o->key_file,
                    read_error(errno, CLI_MAX_KEY_FILE_BYTES, why, sizeof(why)));
            return EXIT_USAGE;
        }
        if (nul_offset(o->key, len) >= 0) {
            fprintf(stderr, "cio-native %s: %s: the key holds a NUL byte\n", o->cmd, o->key_file);
            return EXIT_USAGE;
        }
        while (len > 0 && (o->key[len - 1] == '\n' || o->key[len - 1] == '\r')) {
            o->key[--len] = '\0';
        }
    } else if (config_get(&o->cfg, CFG_WEBHOOK_KEY) != NULL) {
        o->key = xstrdup(config_get(&o->cfg, CFG_WEBHOOK_KEY));
    }
    if (o->key == NULL || o->key[0] == '\0') {
        return args_usage_error(o->cmd, "no signing key (--key, --key-file or "
                                        "CUSTOMERIO_WEBHOOK_SIGNING_KEY)");
    }
    return -1;
}

static void wh_free(wh_opts_t *o) {
    free(o->key);
    config_free(&o->cfg);
}

/* ---------------------------------------------------------------- verify */

static json_t *events_json(const cio_webhook_events_t *events) {
    json_t *arr = json_array();
    for (size_t i = 0; i < cio_webhook_events_count(events); i++) {
        json_error_t error;
        json_t *ev = json_loads(cio_webhook_events_get(events, i)->json, 0, &error);
        if (ev != NULL) {
            json_array_append_new(arr, ev);
        }
    }
    return arr;
}

static int verify(int argc, char **argv, int first) {
    wh_opts_t o = {.cmd = "webhook verify"};
    int rc = parse(&o, verify_options, argc, argv, first);
    if (rc < 0 && (o.timestamp == NULL || o.signature == NULL)) {
        rc = args_usage_error(o.cmd, "--timestamp and --signature are required");
    }
    if (rc >= 0) {
        wh_free(&o);
        return rc;
    }
    char *body = NULL;
    size_t len = 0;
    int read_rc = o.body_file != NULL
                      ? read_file_max(o.body_file, CLI_MAX_WEBHOOK_BODY_BYTES, &body, &len)
                      : read_stream_max(stdin, CLI_MAX_WEBHOOK_BODY_BYTES, &body, &len);
    if (read_rc != 0) {
        char why[64];
        fprintf(stderr, "cio-native %s: cannot read the body (%s): %s\n", o.cmd,
                o.body_file != NULL ? o.body_file : "standard input",
                read_error(errno, CLI_MAX_WEBHOOK_BODY_BYTES, why, sizeof(why)));
        wh_free(&o);
        return EXIT_USAGE;
    }
    cio_status_t st =
        cio_webhook_verify(o.key, o.timestamp, o.signature, body, len, (int64_t)o.tolerance, 0);
    json_t *out = json_object();
    json_object_set_new(out, "valid", json_boolean(st == CIO_OK));
    if (st != CIO_OK) {
        json_object_set_new(out, "error", json_string(cio_status_str(st)));
        json_object_set_new(out, "message", json_string(cio_last_error()->message));
        rc = EXIT_PARTIAL;
    } else {
        rc = EXIT_ALL_OK;
        if (o.parse) {
            cio_webhook_events_t *events = NULL;
            if (cio_webhook_parse(body, len, &events) == CIO_OK) {
                json_object_set_new(out, "events", events_json(events));
            } else {
                json_object_set_new(out, "parse_error", json_string(cio_last_error()->message));
                rc = EXIT_PARTIAL;
            }
            cio_webhook_events_free(events);
        }
    }
    jw_print(stdout, out, 0);
    json_decref(out);
    free(body);
    wh_free(&o);
    return rc;
}

/* ---------------------------------------------------------------- listen */

#define MAX_BODY CLI_MAX_WEBHOOK_BODY_BYTES

typedef struct listener {
    wh_opts_t *o;
    cio_webhook_dedup_t *dedup;
    pthread_mutex_t out_lock;
    atomic_ullong printed;
    atomic_int done;
} listener_t;

static enum MHD_Result reject(const httpd_request_t *req, unsigned status, const char *why) {
    httpd_log(req->server, "%u: %s", status, why);
    json_t *o = json_pack("{s:s}", "error", why);
    char *text = jw_dumps(o, 0);
    enum MHD_Result r = httpd_reply(req->conn, status, "application/json", text, NULL, NULL);
    free(text);
    json_decref(o);
    return r;
}

static enum MHD_Result handle(void *cls, const httpd_request_t *req) {
    listener_t *l = cls;
    if (req->too_large) {
        return reject(req, 413, "the body is larger than 1 MiB");
    }
    if (strcmp(req->method, "POST") != 0) {
        return reject(req, 405, "only POST is accepted");
    }
    struct MHD_Connection *conn = req->conn;
    const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CIO-Timestamp");
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CIO-Signature");
    if (ts == NULL || sig == NULL) {
        return reject(req, 401, "missing X-CIO-Timestamp or X-CIO-Signature");
    }
    const char *body = req->body;
    int64_t tolerance =
        l->o->tolerance_set ? (int64_t)l->o->tolerance : CIO_WEBHOOK_DEFAULT_TOLERANCE_SECONDS;
    if (cio_webhook_verify(l->o->key, ts, sig, body, req->body_len, tolerance, 0) != CIO_OK) {
        return reject(req, 401, cio_last_error()->message);
    }
    cio_webhook_events_t *events = NULL;
    if (cio_webhook_parse(body, req->body_len, &events) != CIO_OK) {
        return reject(req, 400, cio_last_error()->message);
    }
    size_t fresh = 0, dups = 0;
    pthread_mutex_lock(&l->out_lock);
    for (size_t i = 0; i < cio_webhook_events_count(events); i++) {
        const cio_webhook_event_t *ev = cio_webhook_events_get(events, i);
        int dup = 0;
        if (cio_webhook_dedup_check(l->dedup, ev->event_id, 0, &dup) == CIO_OK && dup) {
            httpd_log(req->server, "duplicate event_id %s dropped", ev->event_id);
            dups++;
            continue;
        }
        if (l->o->count != 0 && atomic_load(&l->printed) >= l->o->count) {
            break;
        }
        fputs(ev->json, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        fresh++;
        if (atomic_fetch_add(&l->printed, 1) + 1 == l->o->count) {
            atomic_store(&l->done, 1);
        }
    }
    pthread_mutex_unlock(&l->out_lock);
    cio_webhook_events_free(events);
    char answer[96];
    snprintf(answer, sizeof(answer), "{\"ok\":true,\"new\":%zu,\"duplicates\":%zu}", fresh, dups);
    return httpd_reply(conn, 200, "application/json", answer, NULL, NULL);
}

static int listen_cmd(int argc, char **argv, int first) {
    wh_opts_t o = {.cmd = "webhook listen",
                   .max_connections = 1000,
                   .max_per_address = 16,
                   .idle_timeout = 10,
                   .request_timeout = 30};
    int rc = parse(&o, listen_options, argc, argv, first);
    if (rc >= 0) {
        wh_free(&o);
        return rc;
    }
    listener_t l = {.o = &o};
    pthread_mutex_init(&l.out_lock, NULL);
    cio_webhook_dedup_new(100000, 86400, &l.dedup);

    const char *host = o.host != NULL ? o.host : "127.0.0.1";
    struct in_addr probe;
    if (inet_pton(AF_INET, host, &probe) != 1) {
        rc = args_usage_error(o.cmd, "--host must be an IPv4 address (got '%s')", host);
        goto out;
    }
    /* only the main thread takes SIGINT/SIGTERM, through sigtimedwait below */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    httpd_limits_t limits = {.max_connections = o.max_connections,
                             .max_per_address = o.max_per_address,
                             .idle_timeout = o.idle_timeout,
                             .request_timeout = o.request_timeout,
                             .max_body = MAX_BODY};
    httpd_t *server = httpd_start(o.cmd, host, o.port, &limits, handle, &l);
    if (server == NULL) {
        rc = EXIT_USAGE;
        goto out;
    }
    unsigned port = httpd_port(server);
    fprintf(stderr, "cio-native webhook listen: listening on http://%s:%u/\n", host, port);
    if (o.port_file != NULL && write_port_file(o.port_file, port) != 0) {
        fprintf(stderr, "cio-native %s: cannot write %s\n", o.cmd, o.port_file);
        httpd_stop(server);
        rc = EXIT_USAGE;
        goto out;
    }
    struct timespec tick = {0, 100 * 1000000L};
    while (!atomic_load(&l.done)) {
        if (sigtimedwait(&stop, NULL, &tick) > 0) {
            break;
        }
        httpd_tick(server);
    }
    if (atomic_load(&l.done)) {
        struct timespec grace = {0, 200 * 1000000L}; /* let the last answer go out */
        nanosleep(&grace, NULL);
    }
    httpd_stop(server);
    rc = EXIT_ALL_OK;
out:
    cio_webhook_dedup_free(l.dedup);
    pthread_mutex_destroy(&l.out_lock);
    wh_free(&o);
    return rc;
}

int cmd_webhook(int argc, char **argv, int first) {
    if (first >= argc || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
        if (first >= argc) {
            fputs(help_webhook, stderr);
            return EXIT_USAGE;
        }
        return print_help(help_webhook, 0);
    }
    if (strcmp(argv[first], "verify") == 0) {
        return verify(argc, argv, first + 1);
    }
    if (strcmp(argv[first], "listen") == 0) {
        return listen_cmd(argc, argv, first + 1);
    }
    return args_usage_error("webhook", "unknown subcommand '%s' (verify or listen)", argv[first]);
}
