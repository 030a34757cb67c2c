/*
 * cio-native import: records from JSON Lines / CSV files -> schema -> Track v2 operations -> the
 * delivery pipeline, with progress, a summary and a report of every record not delivered.
 */
#include "commands.h"
#include "config.h"
#include "jsonw.h"
#include "operation.h"
#include "progress.h"
#include "record_types.h"
#include "records.h"
#include "report.h"
#include "schema.h"
#include "util.h"

#include <cio_mock.h>
#include <customerio/customerio.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const char help_import[] =
    "Usage: cio-native import [OPTIONS] FILE...\n"
    "Imports people and events from JSON Lines or CSV files (\"-\" reads standard input) through\n"
    "the delivery pipeline (Track API v2 batches: paced, retried, every record accounted for).\n"
    "Each record is one operation: {\"type\": \"identify\", \"id\": \"42\", \"email\": ...} or\n"
    "{\"type\": \"event\", \"id\": \"42\", \"name\": \"purchased\", \"price\": 9.5, "
    "\"timestamp\":\n"
    "\"2024-05-01T12:00:00Z\"}; types: identify, event, page, screen, delete, device,\n"
    "delete_device, suppress, unsuppress, relationships, delete_relationships, merge, object,\n"
    "object_delete, object_event, object_relationships, object_delete_relationships,\n"
    "delivery_event. Fields other than the type's own become attributes. Invalid records are\n"
    "reported, never sent, and never stop the import. The record and schema formats are in\n"
    "cli/README.md.\n"
    "\n"
    "Options:\n"
    "  --schema FILE          JSON or YAML schema: allowed types, CSV columns, per section\n"
    "                         (people, each event name) renames, typed/required attributes,\n"
    "                         normalisation (trim, lowercase, ISO dates to unix seconds);\n"
    "                         at most 1 MiB and 64 levels deep\n"
    "  --type TYPE            the type of records that have no \"type\" field\n"
    "  --format jsonl|csv     input format (default: by extension; .csv/.tsv are CSV)\n"
    "  --delimiter C          CSV delimiter (default ',', tab for .tsv; \"tab\" for a tab)\n"
    "  --map COLUMN=FIELD[:TYPE]  maps a CSV column to a record field (dots nest:\n"
    "                         device.token); TYPE: auto (default), string, number, integer,\n"
    "                         boolean, timestamp, json; an empty FIELD drops the column\n"
    "  --dry-run              validate only: records go to an in-process emulator on\n"
    "                         127.0.0.1 (the core's and the API's checks), never to Customer.io\n"
    "  --report FILE          write every rejected or failed record (file, line, stage,\n"
    "                         reason, field, message, record) and the summary as JSON\n"
    "  --report-csv FILE      the same records as CSV\n"
    "  --progress MODE        auto (a bar on a terminal, else lines), bar, lines, none\n"
    "  --progress-interval S  seconds between progress lines (default 2)\n"
    "  --json                 print the summary as JSON on standard output\n"
    "  --max-record-bytes N   longer records are rejected unread (default 65536)\n"
    "  --rate N               at most N batch requests per second (default 100; 0 = no limit)\n"
    "  --deadline SECONDS     give a record up when undelivered after this long (default 600)\n"
    "\n"
    "Exit status: 0 every record delivered (or valid, with --dry-run), 1 some were rejected or\n"
    "failed (see the report), 2 usage, configuration or schema error (nothing sent).\n";

enum {
    O_SCHEMA = 100,
    O_TYPE,
    O_FORMAT,
    O_DELIMITER,
    O_MAP,
    O_DRY_RUN,
    O_REPORT,
    O_REPORT_CSV,
    O_PROGRESS,
    O_PROGRESS_INTERVAL,
    O_JSON,
    O_MAX_RECORD,
    O_RATE,
    O_DEADLINE
};

static const cli_opt_t import_options[] = {
    {"schema", 1, O_SCHEMA},
    {"type", 1, O_TYPE},
    {"format", 1, O_FORMAT},
    {"delimiter", 1, O_DELIMITER},
    {"map", 1, O_MAP},
    {"dry-run", 0, O_DRY_RUN},
    {"report", 1, O_REPORT},
    {"report-csv", 1, O_REPORT_CSV},
    {"progress", 1, O_PROGRESS},
    {"progress-interval", 1, O_PROGRESS_INTERVAL},
    {"json", 0, O_JSON},
    {"max-record-bytes", 1, O_MAX_RECORD},
    {"rate", 1, O_RATE},
    {"deadline", 1, O_DEADLINE},
    {NULL, 0, 0},
};

typedef struct import_opts {
    const char **files;
    size_t n_files;
    const char *schema_path;
    const char *default_type;
    rec_options_t rec;
    json_t *columns; /* schema columns overlaid with --map */
    bool dry_run;
    const char *report_json;
    const char *report_csv;
    progress_mode_t progress;
    double progress_interval;
    bool json;
    double rate;
    double deadline;
} import_opts_t;

/* ---------------------------------------------------------------- delivery reports */

/* Where an enqueued operation came from. */
typedef struct origin {
    uint64_t seq;
    uint32_t file;
    uint64_t line;
} origin_t;

typedef struct failure {
    struct failure *next;
    uint64_t seq;
    cio_status_t status;
    int http_status;
    char *reason, *field, *message, *operation;
} failure_t;

typedef struct import_state {
    pthread_mutex_t lock;
    failure_t *head, **tail; /* failures reported by the pipeline, not yet drained */
    origin_t *origins;
    size_t n_origins, cap_origins;
    report_t *report;
    const char **files;
    uint64_t read, rejected, failed, enqueued;
    atomic_ullong delivered; /* counted on the pipeline's thread */
} import_state_t;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

static char *dup_or_null(const char *s) {
    return s != NULL ? xstrdup(s) : NULL;
}

/* On a pipeline thread: copy and queue; the main thread reports it. */
static void on_report(const cio_delivery_report_t *r, void *user) {
    import_state_t *st = user;
    if (r->status == CIO_OK) {
        atomic_fetch_add(&st->delivered, 1);
        return;
    }
    failure_t *f = xcalloc(1, sizeof(*f));
    f->seq = r->seq;
    f->status = r->status;
    f->http_status = r->http_status;
    f->reason = dup_or_null(r->reason);
    f->field = dup_or_null(r->field);
    f->message = dup_or_null(r->message);
    f->operation = dup_or_null(r->operation_json);
    pthread_mutex_lock(&st->lock);
    *st->tail = f;
    st->tail = &f->next;
    pthread_mutex_unlock(&st->lock);
}

static const origin_t *find_origin(const import_state_t *st, uint64_t seq) {
    size_t lo = 0, hi = st->n_origins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->origins[mid].seq < seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < st->n_origins && st->origins[lo].seq == seq ? &st->origins[lo] : NULL;
}

/* "bad request" -> "bad_request" */
static void snake(const char *in, char *out, size_t size) {
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < size; i++) {
        out[i] = in[i] == ' ' || in[i] == '-' ? '_' : in[i];
    }
    out[i] = '\0';
}

static void drain(import_state_t *st) {
    pthread_mutex_lock(&st->lock);
    failure_t *list = st->head;
    st->head = NULL;
    st->tail = &st->head;
    pthread_mutex_unlock(&st->lock);
    for (failure_t *f = list, *next; f != NULL; f = next) {
        next = f->next;
        const origin_t *o = find_origin(st, f->seq);
        char reason[64];
        snake(f->reason != NULL ? f->reason : cio_status_str(f->status), reason, sizeof(reason));
        report_add(st->report, o != NULL ? o->file : 0, o != NULL ? st->files[o->file] : "?",
                   o != NULL ? o->line : 0, "delivery", reason, f->field, f->message, f->operation,
                   f->http_status);
        st->failed++;
        free(f->reason);
        free(f->field);
        free(f->message);
        free(f->operation);
        free(f);
    }
}

static void remember(import_state_t *st, uint64_t seq, size_t file, uint64_t line) {
    if (st->n_origins == st->cap_origins) {
        st->cap_origins = st->cap_origins != 0 ? st->cap_origins * 2 : 1024;
        st->origins = xrealloc(st->origins, st->cap_origins * sizeof(*st->origins));
    }
    /* seqs grow with each enqueue from this one thread; keep the array sorted anyway */
    size_t at = st->n_origins;
    while (at > 0 && st->origins[at - 1].seq > seq) {
        at--;
    }
    memmove(&st->origins[at + 1], &st->origins[at], (st->n_origins - at) * sizeof(origin_t));
    st->origins[at] = (origin_t){seq, (uint32_t)file, line};
    st->n_origins++;
}

/* ---------------------------------------------------------------- options */

static int parse_options(int argc, char **argv, int first, import_opts_t *o, cli_config_t *cfg) {
    cli_args_t a;
    args_init(&a, "import", argc, argv, first);
    o->files = xcalloc((size_t)argc, sizeof(*o->files));
    o->progress_interval = 2;
    o->rate = 100;
    o->deadline = 600;
    o->columns = json_object();
    const char *v;
    int id;
    while ((id = args_next(&a, import_options, &v)) != ARG_END) {
        double d;
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case ARG_POSITIONAL:
            o->files[o->n_files++] = v;
            break;
        case OPT_HELP:
            return print_help(help_import, 1);
        case O_SCHEMA:
            o->schema_path = v;
            break;
        case O_TYPE:
            if (!record_type_known(v)) {
                return args_usage_error("import", "unknown record type '%s' (%s)", v,
                                        record_type_list());
            }
            o->default_type = v;
            break;
        case O_FORMAT:
            if (strcmp(v, "jsonl") == 0 || strcmp(v, "ndjson") == 0) {
                o->rec.format = REC_JSONL;
            } else if (strcmp(v, "csv") == 0) {
                o->rec.format = REC_CSV;
            } else {
                return args_usage_error("import", "--format must be jsonl or csv (got '%s')", v);
            }
            break;
        case O_DELIMITER:
            if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0) {
                o->rec.delimiter = '\t';
            } else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r') {
                o->rec.delimiter = v[0];
            } else {
                return args_usage_error("import", "--delimiter must be one character (got '%s')",
                                        v);
            }
            break;
        case O_MAP: {
            const char *eq = strchr(v, '=');
            char why[200];
            if (eq == NULL || eq == v) {
                return args_usage_error("import", "--map takes COLUMN=FIELD[:TYPE] (got '%s')", v);
            }
            if (rec_check_column_spec(eq + 1, why, sizeof(why)) != 0) {
                return args_usage_error("import", "--map %s: %s", v, why);
            }
            char *column = xstrndup(v, (size_t)(eq - v));
            json_object_set_new(o->columns, column, json_string(eq + 1));
            free(column);
            break;
        }
        case O_DRY_RUN:
            o->dry_run = true;
            break;
        case O_REPORT:
            o->report_json = v;
            break;
        case O_REPORT_CSV:
            o->report_csv = v;
            break;
        case O_PROGRESS:
            if (progress_parse_mode(v, &o->progress) != 0) {
                return args_usage_error(
                    "import", "--progress must be auto, bar, lines or none (got '%s')", v);
            }
            break;
        case O_PROGRESS_INTERVAL:
            if (args_number(v, &o->progress_interval, true) != 0 || o->progress_interval <= 0) {
                return args_usage_error("import", "--progress-interval must be seconds > 0");
            }
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_MAX_RECORD:
            if (args_number(v, &d, false) != 0 || d < 16 || d > 64 * 1024 * 1024) {
                return args_usage_error("import", "--max-record-bytes must be 16 to 67108864");
            }
            o->rec.max_record_bytes = (size_t)d;
            break;
        case O_RATE:
            if (args_number(v, &o->rate, true) != 0) {
                return args_usage_error("import", "--rate must be a number >= 0");
            }
            break;
        case O_DEADLINE:
            if (args_number(v, &o->deadline, true) != 0 || o->deadline <= 0) {
                return args_usage_error("import", "--deadline must be seconds > 0");
            }
            break;
        default:
            config_option(cfg, id, v);
        }
    }
    if (o->n_files == 0) {
        return args_usage_error("import", "no input files (give FILE..., or - for stdin)");
    }
    size_t stdin_count = 0;
    for (size_t i = 0; i < o->n_files; i++) {
        stdin_count += strcmp(o->files[i], "-") == 0;
    }
    if (stdin_count > 1) {
        return args_usage_error("import", "standard input (-) can be read only once");
    }
    return -1; /* go on */
}

/* ---------------------------------------------------------------- the import */

typedef struct run {
    import_opts_t *o;
    import_state_t st;
    schema_t *schema;
    cio_mock_t *mock;
    cio_client_t *client;
    cio_pipeline_t *pipeline;
    progress_t *progress;
    progress_counts_t counts;
    uint64_t bytes_before; /* of the files already read */
    int64_t bytes_total;
    bool input_error;
} run_t;

static void refresh(run_t *r, uint64_t bytes_in_file) {
    drain(&r->st);
    r->counts.sent = atomic_load(&r->st.delivered);
    r->counts.read = r->st.read;
    r->counts.rejected = r->st.rejected;
    r->counts.failed = r->st.failed;
    r->counts.bytes_done = r->bytes_before + bytes_in_file;
    r->counts.bytes_total = r->bytes_total;
    progress_update(r->progress, &r->counts);
}

static void reject(run_t *r, size_t file, uint64_t line, const char *stage, const char *reason,
                   const char *field, const char *message, const char *raw) {
    r->st.rejected++;
    report_add(r->st.report, file, r->o->files[file], line, stage, reason, field, message, raw, 0);
}

/* The core refused a record's operation (its builder, or the enqueue). */
static void core_reject(run_t *r, size_t index, const record_t *rec, cio_status_t st,
                        const char *message) {
    char reason[64];
    snake(cio_status_str(st), reason, sizeof(reason));
    if (st == CIO_E_INVALID_ARGUMENT) {
        snprintf(reason, sizeof(reason), "invalid_operation");
    }
    reject(r, index, rec->line, "enqueue", reason, NULL, message, rec->raw);
}

static void import_file(run_t *r, size_t index) {
    const char *path = r->o->files[index];
    char err[400];
    rec_reader_t *reader = NULL;
    rec_options_t ro = r->o->rec;
    ro.columns = r->o->columns;
    if (rec_open(path, &ro, &reader, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-native import: %s: %s\n", path, err);
        reject(r, index, 0, "read", "unreadable_file", NULL, err, NULL);
        r->input_error = true;
        return;
    }
    record_t rec;
    int rc;
    while (!interrupted && (rc = rec_next(reader, &rec, err, sizeof(err))) == 1) {
        r->st.read++;
        if (rec.error_reason != NULL) {
            reject(r, index, rec.line, "read", rec.error_reason, NULL, rec.error_message, rec.raw);
        } else {
            op_error_t oe;
            cio_request_t *op = op_from_record(&rec, r->o->default_type, r->schema, &oe);
            if (op == NULL && oe.status != CIO_OK) {
                /* the core's builder refused the operation: as the enqueue would have */
                core_reject(r, index, &rec, oe.status, oe.message);
            } else if (op == NULL) {
                bool schema_reason = strncmp(oe.reason, "missing_attribute", 17) == 0 ||
                                     strcmp(oe.reason, "wrong_type") == 0 ||
                                     strcmp(oe.reason, "bad_value") == 0 ||
                                     strcmp(oe.reason, "unknown_attribute") == 0 ||
                                     strcmp(oe.reason, "unknown_event") == 0 ||
                                     strcmp(oe.reason, "type_not_allowed") == 0;
                reject(r, index, rec.line, schema_reason ? "schema" : "map", oe.reason, oe.field,
                       oe.message, rec.raw);
            } else {
                uint64_t seq = 0;
                cio_status_t st = cio_pipeline_enqueue_request(r->pipeline, op, &seq);
                if (st == CIO_OK) {
                    remember(&r->st, seq, index, rec.line);
                    r->st.enqueued++;
                } else {
                    core_reject(r, index, &rec, st, cio_last_error()->message);
                }
                cio_request_free(op);
            }
        }
        rec_clear(&rec);
        refresh(r, rec_bytes_read(reader));
    }
    if (!interrupted && rc < 0) {
        fprintf(stderr, "cio-native import: %s: %s\n", path, err);
        reject(r, index, 0, "read", "read_error", NULL, err, NULL);
        r->input_error = true;
    }
    r->bytes_before += rec_bytes_read(reader);
    rec_close(reader);
}

static json_t *summary_json(run_t *r, double seconds) {
    json_t *files = json_array();
    for (size_t i = 0; i < r->o->n_files; i++) {
        json_array_append_new(files, json_string(r->o->files[i]));
    }
    json_t *s = json_object();
    json_object_set_new(s, "files", files);
    json_object_set_new(s, "dry_run", json_boolean(r->o->dry_run));
    json_object_set_new(s, "read", json_integer((json_int_t)r->st.read));
    json_object_set_new(s, "enqueued", json_integer((json_int_t)r->st.enqueued));
    json_object_set_new(s, r->o->dry_run ? "valid" : "delivered",
                        json_integer((json_int_t)r->counts.sent));
    json_object_set_new(s, "rejected", json_integer((json_int_t)r->st.rejected));
    json_object_set_new(s, "failed", json_integer((json_int_t)r->st.failed));
    json_object_set_new(s, "interrupted", json_boolean(interrupted != 0));
    json_object_set_new(s, "seconds", json_real(round(seconds * 1000) / 1000));
    json_object_set_new(s, "reasons", report_reasons(r->st.report));
    return s;
}

static void print_summary(run_t *r, const json_t *summary, double seconds) {
    char n1[32], n2[32], n3[32], n4[32];
    const char *ok = r->o->dry_run ? "valid" : "delivered";
    double rate = seconds > 0 ? (double)r->st.read / seconds : (double)r->st.read;
    char rate_s[32];
    if (rate < 10) {
        snprintf(rate_s, sizeof(rate_s), "%.1f", rate);
    } else {
        fmt_count((uint64_t)rate, rate_s, sizeof(rate_s));
    }
    printf("cio-native import%s: %s records from %zu file%s in %.1f s (%s/s)%s\n",
           r->o->dry_run ? " --dry-run" : "", fmt_count(r->st.read, n1, sizeof(n1)), r->o->n_files,
           r->o->n_files == 1 ? "" : "s", seconds, rate_s, interrupted ? " - interrupted" : "");
    printf("  %-10s %9s%s\n", ok, fmt_count(r->counts.sent, n2, sizeof(n2)),
           r->o->dry_run ? "  (accepted by the core and the in-process emulator; nothing sent)"
                         : "");
    printf("  %-10s %9s  (invalid: not sent)\n", "rejected",
           fmt_count(r->st.rejected, n3, sizeof(n3)));
    printf("  %-10s %9s  (%s)\n", "failed", fmt_count(r->st.failed, n4, sizeof(n4)),
           r->o->dry_run ? "refused by the emulator" : "sent, not delivered");
    const json_t *reasons = json_object_get(summary, "reasons");
    if (json_object_size(reasons) > 0) {
        printf("  by reason:");
        const char *k;
        json_t *v;
        int shown = 0;
        json_object_foreach((json_t *)reasons, k, v) {
            printf("%s %s %lld", shown++ == 0 ? "" : ",", k, (long long)json_integer_value(v));
        }
        printf("\n");
    }
    if (r->o->report_json != NULL) {
        printf("  report: %s\n", r->o->report_json);
    }
    if (r->o->report_csv != NULL) {
        printf("  report: %s\n", r->o->report_csv);
    }
    if (r->o->report_json == NULL && r->o->report_csv == NULL && report_count(r->st.report) > 0) {
        report_print(r->st.report, stdout, 10);
        printf("  (--report FILE or --report-csv FILE lists every one)\n");
    }
}

static int start(run_t *r, cli_config_t *cfg) {
    char err[400];
    if (r->o->schema_path != NULL) {
        r->schema = schema_load(r->o->schema_path, err, sizeof(err));
        if (r->schema == NULL) {
            fprintf(stderr, "cio-native import: schema %s\n", err);
            return EXIT_USAGE;
        }
        /* the schema's columns, with --map taking precedence */
        const json_t *cols = schema_columns(r->schema);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)cols, k, v) {
            if (json_object_get(r->o->columns, k) == NULL) {
                json_object_set(r->o->columns, k, v);
            }
        }
    }
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    if (r->o->dry_run) {
        cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
        if (cio_mock_start(&mo, &r->mock, err, sizeof(err)) != 0) {
            fprintf(stderr, "cio-native import: cannot start the in-process emulator: %s\n", err);
            return EXIT_USAGE;
        }
        cio_client_options_t co = CIO_CLIENT_OPTIONS_INIT;
        co.ignore_env = 1;
        co.site_id = "test-site";
        co.api_key = "test-key";
        co.track_url = cio_mock_base_url(r->mock);
        if (cio_client_new(&co, &r->client) != CIO_OK) {
            fprintf(stderr, "cio-native import: %s\n", cio_last_error()->message);
            return EXIT_USAGE;
        }
        po.max_requests_per_second = -1;
    } else {
        int rc = config_resolve(cfg, "import");
        if (rc == 0) {
            rc = config_client(cfg, "import", &r->client);
        }
        if (rc != 0) {
            return rc;
        }
        po.max_requests_per_second = r->o->rate > 0 ? r->o->rate : -1;
    }
    po.retry_deadline_ms = (long)(r->o->deadline * 1000);
    po.on_report = on_report;
    po.report_successes = 1; /* counted, for the progress and the summary */
    po.report_user = &r->st;
    if (cio_pipeline_new(r->client, &po, &r->pipeline) != CIO_OK) {
        fprintf(stderr, "cio-native import: %s\n", cio_last_error()->message);
        return EXIT_USAGE;
    }
    return 0;
}

static void finish(run_t *r) {
    /* wait for every enqueued operation's outcome, showing progress */
    r->counts.reading_done = true;
    if (r->pipeline != NULL) {
        while (!interrupted && cio_pipeline_flush(r->pipeline, 100) == CIO_E_TIMEOUT) {
            refresh(r, 0);
        }
        refresh(r, 0);
        cio_pipeline_close(r->pipeline, interrupted ? 2000 : 10000);
        r->pipeline = NULL;
    }
    drain(&r->st);
    r->counts.sent = atomic_load(&r->st.delivered);
    r->counts.read = r->st.read;
    r->counts.rejected = r->st.rejected;
    r->counts.failed = r->st.failed;
}

static void cleanup(run_t *r) {
    if (r->pipeline != NULL) {
        cio_pipeline_close(r->pipeline, 0);
        drain(&r->st);
    }
    cio_client_free(r->client);
    cio_mock_stop(r->mock);
    schema_free(r->schema);
    report_free(r->st.report);
    free(r->st.origins);
    pthread_mutex_destroy(&r->st.lock);
}

int cmd_import(int argc, char **argv, int first) {
    import_opts_t o = {0};
    cli_config_t cfg = {0};
    int rc = parse_options(argc, argv, first, &o, &cfg);
    if (rc >= 0) {
        free(o.files);
        json_decref(o.columns);
        return rc;
    }
    run_t r = {0};
    r.o = &o;
    pthread_mutex_init(&r.st.lock, NULL);
    r.st.tail = &r.st.head;
    r.st.report = report_new();
    r.st.files = o.files;
    rc = start(&r, &cfg);
    if (rc == 0) {
        r.bytes_total = 0;
        for (size_t i = 0; i < o.n_files; i++) {
            FILE *f = strcmp(o.files[i], "-") == 0 ? NULL : fopen(o.files[i], "rb");
            if (strcmp(o.files[i], "-") == 0) {
                r.bytes_total = -1;
            } else if (f != NULL) {
                if (fseek(f, 0, SEEK_END) == 0 && r.bytes_total >= 0) {
                    r.bytes_total += ftell(f);
                }
                fclose(f);
            }
        }
        struct sigaction sa, old_int, old_term;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_interrupt;
        sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the program at once */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        int64_t started = now_ms();
        r.progress =
            progress_new(o.progress, o.progress_interval, o.dry_run ? "dry run" : "import");
        for (size_t i = 0; i < o.n_files && !interrupted; i++) {
            import_file(&r, i);
        }
        finish(&r);
        progress_finish(r.progress, &r.counts);
        if (interrupted) {
            fprintf(stderr,
                    "cio-native import: interrupted; what was not delivered is in the report\n");
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        double seconds = (double)(now_ms() - started) / 1000.0;
        json_t *summary = summary_json(&r, seconds);
        if (o.json) {
            jw_print(stdout, summary, 0);
        } else {
            print_summary(&r, summary, seconds);
        }
        fflush(stdout);
        if (o.report_json != NULL && report_write_json(r.st.report, o.report_json, summary) != 0) {
            fprintf(stderr, "cio-native import: cannot write %s: %s\n", o.report_json,
                    strerror(errno));
            rc = EXIT_USAGE;
        }
        if (o.report_csv != NULL && report_write_csv(r.st.report, o.report_csv) != 0) {
            fprintf(stderr, "cio-native import: cannot write %s: %s\n", o.report_csv,
                    strerror(errno));
            rc = EXIT_USAGE;
        }
        json_decref(summary);
        if (rc == 0 && (r.st.rejected > 0 || r.st.failed > 0 || interrupted || r.input_error ||
                        r.counts.sent < r.st.enqueued)) {
            rc = EXIT_PARTIAL;
        }
    }
    cleanup(&r);
    config_free(&cfg);
    free(o.files);
    json_decref(o.columns);
    return rc;
}
