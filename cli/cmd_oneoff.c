/*
 * One-off calls for scripts: cio-native identify, cio-native track, cio-native send-email,
 * cio-native get. Each prints one JSON object on standard output: {"ok": true} (Track calls), or
 * the App API's answer; on failure {"ok": false, "error", "message", "http_status", "response"} and
 * exit status 1 (2 for bad arguments or configuration, detected before anything is sent).
 */
#include "commands.h"
#include "config.h"
#include "jsonw.h"
#include "util.h"
#include "values.h"

#include <customerio/customerio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char help_identify[] =
    "Usage: cio-native identify [OPTIONS] ID [KEY=VALUE | KEY:=JSON]...\n"
    "Creates or updates a person (Track API: PUT /api/v1/customers/ID) with the attributes\n"
    "given. ID may be an id, an email address or cio_<cio-native id>. KEY=VALUE: a number, true,\n"
    "false or null as JSON, anything else as a string (email=ada@example.com plan=premium\n"
    "age=36); KEY:=JSON: raw JSON (tags:='[\"a\",\"b\"]', zip:='\"02134\"').\n"
    "Prints {\"ok\":true}, or {\"ok\":false,...} with exit status 1.\n";

const char help_track[] =
    "Usage: cio-native track [OPTIONS] ID EVENT [KEY=VALUE | KEY:=JSON]...\n"
    "Sends an event for a person (Track API: POST /api/v1/customers/ID/events) with the data\n"
    "given (values as for cio-native identify). Every event carries a de-duplication id (a ULID "
    "unless\n"
    "--event-id), so a retried request is never counted twice.\n"
    "\n"
    "Options:\n"
    "  --timestamp T    when it happened: unix seconds or ISO 8601 (2024-05-01T12:00:00Z)\n"
    "  --event-id ID    the event's de-duplication id\n";

const char help_send_email[] =
    "Usage: cio-native send-email [OPTIONS] [KEY=VALUE | KEY:=JSON]...\n"
    "Sends a transactional email (App API: POST /v1/send/email); KEY=VALUE arguments are the\n"
    "message_data for the template. Prints the answer ({\"delivery_id\": ..., \"queued_at\":\n"
    "...}).\n"
    "\n"
    "Options:\n"
    "  --template ID        transactional_message_id (a number, or the trigger name)\n"
    "  --id ID | --email ADDR | --cio-id ID   the recipient person (identifiers)\n"
    "  --to ADDR            the address to send to (default: the person's email)\n"
    "  --from ADDR  --reply-to ADDR  --bcc ADDR  --subject TEXT\n"
    "  --body TEXT | --body-file FILE   the body (without a template: give --to, --from,\n"
    "                       --subject and a body; a file of at most 10 MiB)\n"
    "  --attach FILE        attach a file (repeatable; base64-encoded by the library; at\n"
    "                       most 10 MiB each)\n"
    "  --set KEY=VALUE      any other request field (send_at=1700000000, tracked=false,\n"
    "                       language=fr, headers:='{\"X-Tag\":\"a\"}')\n"
    "  --pretty             indent the answer\n";

const char help_get[] =
    "Usage: cio-native get [OPTIONS] ID\n"
    "Reads a person's attributes (App API: GET /v1/customers/ID/attributes) and prints the\n"
    "answer: {\"customer\": {\"id\", \"identifiers\", \"attributes\", \"timestamps\", ...}}.\n"
    "\n"
    "Options:\n"
    "  --id-type id|email|cio_id   what ID is (default: email when it contains @, else id)\n"
    "  --pretty             indent the answer\n";

enum {
    O_TIMESTAMP = 100,
    O_EVENT_ID,
    O_TEMPLATE,
    O_ID,
    O_EMAIL,
    O_CIO_ID,
    O_TO,
    O_FROM,
    O_REPLY_TO,
    O_BCC,
    O_SUBJECT,
    O_BODY,
    O_BODY_FILE,
    O_ATTACH,
    O_SET,
    O_PRETTY,
    O_ID_TYPE
};

/* ---------------------------------------------------------------- shared */

/* Adds KEY=VALUE or KEY:=JSON to obj. 0, or EXIT_USAGE after printing why. */
static int add_pair(const char *cmd, json_t *obj, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || (eq == arg + 1 && arg[0] == ':')) {
        return args_usage_error(cmd, "expected KEY=VALUE or KEY:=JSON (got '%s')", arg);
    }
    bool raw = eq[-1] == ':';
    char *key = xstrndup(arg, (size_t)(eq - arg - (raw ? 1 : 0)));
    if (json_object_get(obj, key) != NULL) {
        int rc = args_usage_error(cmd, "'%s' is given twice", key);
        free(key);
        return rc;
    }
    json_t *v;
    if (raw) {
        json_error_t error;
        v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
        if (v == NULL) {
            int rc = args_usage_error(cmd, "%s: not JSON: %s", key, error.text);
            free(key);
            return rc;
        }
    } else {
        v = value_auto(eq + 1);
        if (v == NULL) {
            int rc = args_usage_error(cmd, "%s: the value is not valid UTF-8", key);
            free(key);
            return rc;
        }
    }
    json_object_set_new(obj, key, v);
    free(key);
    return 0;
}

/* Prints the outcome of a call; returns the exit status. */
static int outcome(const char *cmd, cio_status_t st, const char *response, int pretty) {
    if (st == CIO_OK) {
        json_error_t error;
        json_t *answer = response != NULL ? json_loads(response, JSON_DECODE_ANY, &error) : NULL;
        if (answer == NULL) {
            answer = json_pack("{s:b}", "ok", 1);
        }
        jw_print(stdout, answer, pretty ? 2 : 0);
        json_decref(answer);
        return EXIT_ALL_OK;
    }
    const cio_error_t *e = cio_last_error();
    json_t *out = json_object();
    json_object_set_new(out, "ok", json_false());
    json_object_set_new(out, "error", json_string(cio_status_str(st)));
    json_object_set_new(out, "message", json_string(e != NULL ? e->message : ""));
    if (e != NULL && e->http_status != 0) {
        json_object_set_new(out, "http_status", json_integer(e->http_status));
    }
    if (e != NULL && e->response_body != NULL) {
        json_error_t error;
        json_t *body = json_loads(e->response_body, JSON_DECODE_ANY, &error);
        json_object_set_new(out, "response", body != NULL ? body : json_string(e->response_body));
    }
    jw_print(stdout, out, pretty ? 2 : 0);
    json_decref(out);
    (void)cmd; /* the library's message names the call */
    fprintf(stderr, "cio-native: %s\n", e != NULL ? e->message : cio_status_str(st));
    return st == CIO_E_INVALID_ARGUMENT || st == CIO_E_CONFIG ? EXIT_USAGE : EXIT_PARTIAL;
}

typedef struct oneoff {
    const char *cmd;
    const char *help;
    const cli_opt_t *options;
    cli_config_t cfg;
    const char *pos[2]; /* ID, EVENT */
    size_t n_pos, want_pos;
    json_t *pairs;
} oneoff_t;

/* Parses the command line; option ids >= 100 go to handle. -1 to go on, else an exit code. */
static int parse(oneoff_t *c, int argc, char **argv, int first,
                 int (*handle)(void *ctx, int id, const char *v), void *ctx) {
    cli_args_t a;
    args_init(&a, c->cmd, argc, argv, first);
    c->pairs = json_object();
    const char *v;
    int id;
    while ((id = args_next(&a, c->options, &v)) != ARG_END) {
        if (id == ARG_ERROR) {
            return EXIT_USAGE;
        }
        if (id == OPT_HELP) {
            return print_help(c->help, 1);
        }
        if (id == ARG_POSITIONAL) {
            if (c->n_pos < c->want_pos) {
                c->pos[c->n_pos++] = v;
            } else if (add_pair(c->cmd, c->pairs, v) != 0) {
                return EXIT_USAGE;
            }
            continue;
        }
        if (config_option(&c->cfg, id, v)) {
            continue;
        }
        int rc = handle != NULL ? handle(ctx, id, v) : 0;
        if (rc != 0) {
            return rc;
        }
    }
    if (c->n_pos < c->want_pos) {
        return args_usage_error(c->cmd, "missing %s", c->n_pos == 0 ? "ID" : "EVENT");
    }
    return -1;
}

static int open_client(oneoff_t *c, cio_client_t **client) {
    int rc = config_resolve(&c->cfg, c->cmd);
    return rc != 0 ? rc : config_client(&c->cfg, c->cmd, client);
}

static void done(oneoff_t *c, cio_client_t *client) {
    cio_client_free(client);
    config_free(&c->cfg);
    json_decref(c->pairs);
}

/* ---------------------------------------------------------------- identify, track */

int cmd_identify(int argc, char **argv, int first) {
    static const cli_opt_t options[] = {{NULL, 0, 0}};
    oneoff_t c = {.cmd = "identify", .help = help_identify, .options = options, .want_pos = 1};
    cio_client_t *client = NULL;
    int rc = parse(&c, argc, argv, first, NULL, NULL);
    if (rc < 0 && (rc = open_client(&c, &client)) == 0) {
        char *attrs = jw_dumps(c.pairs, 0);
        rc = outcome(c.cmd, cio_identify(client, c.pos[0], attrs), NULL, 0);
        free(attrs);
    }
    done(&c, client);
    return rc;
}

typedef struct track_ctx {
    cio_event_options_t ev;
} track_ctx_t;

static int track_option(void *ctx, int id, const char *v) {
    track_ctx_t *t = ctx;
    if (id == O_TIMESTAMP) {
        int64_t ts;
        if (value_parse_time(v, &ts) != 0 || ts <= 0) {
            return args_usage_error("track",
                                    "--timestamp must be unix seconds or ISO 8601 (got '%s')", v);
        }
        t->ev.timestamp = ts;
    } else if (id == O_EVENT_ID) {
        t->ev.id = v;
    }
    return 0;
}

int cmd_track(int argc, char **argv, int first) {
    static const cli_opt_t options[] = {
        {"timestamp", 1, O_TIMESTAMP}, {"event-id", 1, O_EVENT_ID}, {NULL, 0, 0}};
    oneoff_t c = {.cmd = "track", .help = help_track, .options = options, .want_pos = 2};
    track_ctx_t t = {.ev = CIO_EVENT_OPTIONS_INIT};
    cio_client_t *client = NULL;
    int rc = parse(&c, argc, argv, first, track_option, &t);
    if (rc < 0 && (rc = open_client(&c, &client)) == 0) {
        char *data = jw_dumps(c.pairs, 0);
        rc = outcome(c.cmd, cio_track(client, c.pos[0], c.pos[1], data, &t.ev), NULL, 0);
        free(data);
    }
    done(&c, client);
    return rc;
}

/* ---------------------------------------------------------------- send-email */

typedef struct email_ctx {
    json_t *request;
    json_t *identifiers;
    const char **attach;
    size_t n_attach;
    int pretty;
} email_ctx_t;

static int email_option(void *ctx, int id, const char *v) {
    email_ctx_t *e = ctx;
    static const struct {
        int id;
        const char *field;
    } text_fields[] = {{O_TO, "to"},   {O_FROM, "from"},       {O_REPLY_TO, "reply_to"},
                       {O_BCC, "bcc"}, {O_SUBJECT, "subject"}, {O_BODY, "body"}};
    for (size_t i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
        if (id == text_fields[i].id) {
            json_object_set_new(e->request, text_fields[i].field, json_string(v));
            return 0;
        }
    }
    switch (id) {
    case O_TEMPLATE: {
        int64_t n;
        json_object_set_new(e->request, "transactional_message_id",
                            value_parse_integer(v, &n) == 0 ? json_integer((json_int_t)n)
                                                            : json_string(v));
        return 0;
    }
    case O_ID:
    case O_EMAIL:
    case O_CIO_ID:
        if (json_object_size(e->identifiers) > 0) {
            return args_usage_error("send-email", "give one of --id, --email, --cio-id");
        }
        json_object_set_new(e->identifiers,
                            id == O_ID      ? "id"
                            : id == O_EMAIL ? "email"
                                            : "cio_id",
                            json_string(v));
        return 0;
    case O_BODY_FILE: {
        char *text;
        size_t len;
        if (read_file_max(v, CLI_MAX_EMAIL_FILE_BYTES, &text, &len) != 0) {
            char why[64];
            fprintf(stderr, "cio-native send-email: cannot read %s: %s\n", v,
                    read_error(errno, CLI_MAX_EMAIL_FILE_BYTES, why, sizeof(why)));
            return EXIT_USAGE;
        }
        json_t *body = json_stringn(text, len);
        free(text);
        if (body == NULL) {
            return args_usage_error("send-email", "%s is not UTF-8 text", v);
        }
        json_object_set_new(e->request, "body", body);
        return 0;
    }
    case O_ATTACH:
        e->attach[e->n_attach++] = v;
        return 0;
    case O_SET:
        return add_pair("send-email", e->request, v);
    case O_PRETTY:
        e->pretty = 1;
        return 0;
    }
    return 0;
}

int cmd_send_email(int argc, char **argv, int first) {
    static const cli_opt_t options[] = {{"template", 1, O_TEMPLATE},
                                        {"id", 1, O_ID},
                                        {"email", 1, O_EMAIL},
                                        {"cio-id", 1, O_CIO_ID},
                                        {"to", 1, O_TO},
                                        {"from", 1, O_FROM},
                                        {"reply-to", 1, O_REPLY_TO},
                                        {"bcc", 1, O_BCC},
                                        {"subject", 1, O_SUBJECT},
                                        {"body", 1, O_BODY},
                                        {"body-file", 1, O_BODY_FILE},
                                        {"attach", 1, O_ATTACH},
                                        {"set", 1, O_SET},
                                        {"pretty", 0, O_PRETTY},
                                        {NULL, 0, 0}};
    oneoff_t c = {.cmd = "send-email", .help = help_send_email, .options = options};
    email_ctx_t e = {json_object(), json_object(), xcalloc((size_t)argc, sizeof(char *)), 0, 0};
    cio_client_t *client = NULL;
    cio_attachment_t *files = xcalloc((size_t)argc, sizeof(*files));
    char **contents = xcalloc((size_t)argc, sizeof(*contents));
    int rc = parse(&c, argc, argv, first, email_option, &e);
    for (size_t i = 0; rc < 0 && i < e.n_attach; i++) {
        size_t len;
        if (read_file_max(e.attach[i], CLI_MAX_EMAIL_FILE_BYTES, &contents[i], &len) != 0) {
            char why[64];
            fprintf(stderr, "cio-native send-email: cannot read %s: %s\n", e.attach[i],
                    read_error(errno, CLI_MAX_EMAIL_FILE_BYTES, why, sizeof(why)));
            rc = EXIT_USAGE;
            break;
        }
        const char *slash = strrchr(e.attach[i], '/');
        files[i] = (cio_attachment_t){slash != NULL ? slash + 1 : e.attach[i], contents[i], len};
    }
    if (rc < 0 && (rc = open_client(&c, &client)) == 0) {
        if (json_object_size(e.identifiers) > 0) {
            json_object_set(e.request, "identifiers", e.identifiers);
        }
        if (json_object_size(c.pairs) > 0) {
            json_object_set(e.request, "message_data", c.pairs);
        }
        char *request = jw_dumps(e.request, 0);
        char *response = NULL;
        cio_status_t st = cio_send_email(client, request, files, e.n_attach, &response);
        rc = outcome(c.cmd, st, response, e.pretty);
        cio_free(response);
        free(request);
    }
    for (size_t i = 0; i < e.n_attach; i++) {
        free(contents[i]);
    }
    free(contents);
    free(files);
    free(e.attach);
    json_decref(e.request);
    json_decref(e.identifiers);
    done(&c, client);
    return rc;
}

/* ---------------------------------------------------------------- get */

typedef struct get_ctx {
    const char *id_type;
    int pretty;
} get_ctx_t;

static int get_option(void *ctx, int id, const char *v) {
    get_ctx_t *g = ctx;
    if (id == O_PRETTY) {
        g->pretty = 1;
    } else if (id == O_ID_TYPE) {
        if (strcmp(v, "id") != 0 && strcmp(v, "email") != 0 && strcmp(v, "cio_id") != 0) {
            return args_usage_error("get", "--id-type must be id, email or cio_id (got '%s')", v);
        }
        g->id_type = v;
    }
    return 0;
}

int cmd_get(int argc, char **argv, int first) {
    static const cli_opt_t options[] = {
        {"id-type", 1, O_ID_TYPE}, {"pretty", 0, O_PRETTY}, {NULL, 0, 0}};
    oneoff_t c = {.cmd = "get", .help = help_get, .options = options, .want_pos = 1};
    get_ctx_t g = {NULL, 0};
    cio_client_t *client = NULL;
    int rc = parse(&c, argc, argv, first, get_option, &g);
    if (rc < 0 && json_object_size(c.pairs) > 0) {
        rc = args_usage_error("get", "takes one ID");
    }
    if (rc < 0 && (rc = open_client(&c, &client)) == 0) {
        const char *type = g.id_type != NULL               ? g.id_type
                           : strchr(c.pos[0], '@') != NULL ? "email"
                                                           : "id";
        cio_id_type_t t = strcmp(type, "email") == 0    ? CIO_ID_TYPE_EMAIL
                          : strcmp(type, "cio_id") == 0 ? CIO_ID_TYPE_CIO_ID
                                                        : CIO_ID_TYPE_ID;
        char *response = NULL;
        cio_status_t st = cio_customers_get_attributes(client, t, c.pos[0], &response);
        rc = outcome(c.cmd, st, response, g.pretty);
        cio_free(response);
    }
    done(&c, client);
    return rc;
}
