/* JSON Lines and CSV readers for cio-native import. */
#include "records.h"

#include "util.h"
#include "values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum col_type {
    COL_AUTO,
    COL_STRING,
    COL_NUMBER,
    COL_INTEGER,
    COL_BOOLEAN,
    COL_TIMESTAMP,
    COL_JSON
} col_type_t;

static const char *const col_type_names[] = {"auto",    "string",    "number", "integer",
                                             "boolean", "timestamp", "json",   NULL};

typedef struct column {
    bool drop;
    char *field; /* the full field name ("device.token") */
    col_type_t type;
} column_t;

struct rec_reader {
    FILE *f;
    bool is_stdin;
    rec_format_t format;
    char delimiter;
    size_t max;
    uint64_t line;  /* lines consumed so far */
    uint64_t bytes; /* bytes consumed so far */
    int64_t total;
    column_t *cols;
    size_t ncols;
    sbuf_t buf;
    sbuf_t raw;
    /* CSV fields of the current row, as offsets into buf */
    size_t *starts;
    size_t *lens;
    size_t nfields;
    size_t cap_fields;
};

/* ---------------------------------------------------------------- column specs */

static int parse_spec(const char *spec, char **field, col_type_t *type, char *err, size_t errlen) {
    const char *colon = strrchr(spec, ':');
    size_t flen = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
    *type = COL_AUTO;
    if (colon != NULL) {
        int t = -1;
        for (int i = 0; col_type_names[i] != NULL; i++) {
            if (strcmp(colon + 1, col_type_names[i]) == 0) {
                t = i;
            }
        }
        if (t < 0) {
            snprintf(err, errlen,
                     "unknown column type '%s' in '%s' (auto, string, number, integer, boolean, "
                     "timestamp or json)",
                     colon + 1, spec);
            return -1;
        }
        *type = (col_type_t)t;
    }
    if (flen > 0 && (spec[0] == '.' || spec[flen - 1] == '.' || strstr(spec, "..") != NULL)) {
        snprintf(err, errlen, "bad field name in '%s'", spec);
        return -1;
    }
    if (field != NULL) {
        *field = xstrndup(spec, flen);
    }
    return 0;
}

int rec_check_column_spec(const char *spec, char *err, size_t errlen) {
    col_type_t type;
    return parse_spec(spec, NULL, &type, err, errlen);
}

/* ---------------------------------------------------------------- reading */

static int next_char(rec_reader_t *r) {
    int c = getc_unlocked(r->f);
    if (c != EOF) {
        r->bytes++;
    }
    return c;
}

static void keep_raw(rec_reader_t *r, char c) {
    if (r->raw.len < REC_RAW_KEEP) {
        if (c == '\0') {
            sb_puts(&r->raw, "\\0"); /* the report's copy is a C string: show the NUL */
        } else {
            sb_putc(&r->raw, c);
        }
    } else if (r->raw.len == REC_RAW_KEEP) {
        sb_puts(&r->raw, "...");
    }
}

/* One physical line into buf (up to max bytes; *too_long when more). 0 at EOF, else 1. */
static int read_line(rec_reader_t *r, bool *too_long) {
    sb_clear(&r->buf);
    sb_clear(&r->raw);
    *too_long = false;
    int c = next_char(r);
    if (c == EOF) {
        return 0;
    }
    r->line++;
    size_t n = 0;
    for (; c != EOF && c != '\n'; c = next_char(r)) {
        n++;
        if (n > r->max) {
            *too_long = true;
        } else {
            sb_putc(&r->buf, (char)c);
        }
        keep_raw(r, (char)c);
    }
    if (!*too_long && r->buf.len > 0 && r->buf.data[r->buf.len - 1] == '\r') {
        r->buf.data[--r->buf.len] = '\0';
    }
    sb_puts(&r->buf, ""); /* never NULL, even for an empty line */
    return 1;
}

static void add_field(rec_reader_t *r, size_t start) {
    if (r->nfields == r->cap_fields) {
        r->cap_fields = r->cap_fields != 0 ? r->cap_fields * 2 : 16;
        r->starts = xrealloc(r->starts, r->cap_fields * sizeof(*r->starts));
        r->lens = xrealloc(r->lens, r->cap_fields * sizeof(*r->lens));
    }
    r->starts[r->nfields] = start;
    r->lens[r->nfields] = r->buf.len - start;
    r->nfields++;
    sb_putc(&r->buf, '\0');
}

/*
 * One CSV row into fields (NUL-separated in buf). 0 at EOF, else 1 with *problem set to NULL,
 * "too_large" or a bad_csv message.
 */
static int read_csv_row(rec_reader_t *r, const char **problem, char *msg, size_t msglen) {
    sb_clear(&r->buf);
    sb_clear(&r->raw);
    r->nfields = 0;
    *problem = NULL;
    int c = next_char(r);
    if (c == EOF) {
        return 0;
    }
    r->line++;
    size_t size = 0, start = 0;
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN } st = FIELD_START;
    for (;; c = next_char(r)) {
        if (c != EOF && c != '\n') {
            keep_raw(r, (char)c);
        }
        if (c != EOF && ++size > r->max && *problem == NULL) {
            *problem = "too_large";
        }
        if (c == EOF && st == QUOTED) {
            if (*problem == NULL) {
                *problem = "bad_csv";
                snprintf(msg, msglen, "a quoted field is not closed before the end of the file");
            }
            return 1;
        }
        if (c == EOF || (c == '\n' && st != QUOTED)) {
            if (st == UNQUOTED && r->buf.len > start && r->buf.data[r->buf.len - 1] == '\r') {
                r->buf.data[--r->buf.len] = '\0';
            }
            add_field(r, start);
            return 1;
        }
        if (*problem != NULL && strcmp(*problem, "too_large") == 0) {
            /* keep following quotes, so the row still ends where it should */
            if (c == '"') {
                st = st == QUOTED ? QUOTE_SEEN : (st == QUOTE_SEEN ? QUOTED : st);
                if (st == FIELD_START) {
                    st = QUOTED;
                }
            } else if (st == QUOTE_SEEN || st == FIELD_START) {
                st = UNQUOTED;
            }
            if (c == '\n') {
                r->line++;
            }
            if (c == r->delimiter && st != QUOTED) {
                st = FIELD_START;
            }
            continue;
        }
        switch (st) {
        case FIELD_START:
            if (c == '"') {
                st = QUOTED;
            } else if (c == r->delimiter) {
                add_field(r, start);
                start = r->buf.len;
            } else {
                sb_putc(&r->buf, (char)c);
                st = UNQUOTED;
            }
            break;
        case UNQUOTED:
            if (c == r->delimiter) {
                add_field(r, start);
                start = r->buf.len;
                st = FIELD_START;
            } else {
                sb_putc(&r->buf, (char)c);
            }
            break;
        case QUOTED:
            if (c == '"') {
                st = QUOTE_SEEN;
            } else {
                if (c == '\n') {
                    r->line++;
                    if (r->buf.len > start && r->buf.data[r->buf.len - 1] == '\r') {
                        r->buf.len--;
                    }
                }
                sb_putc(&r->buf, (char)c);
            }
            break;
        case QUOTE_SEEN:
            if (c == '"') {
                sb_putc(&r->buf, '"');
                st = QUOTED;
            } else if (c == r->delimiter) {
                add_field(r, start);
                start = r->buf.len;
                st = FIELD_START;
            } else if (c == '\r') {
                /* CRLF after a closing quote */
            } else if (*problem == NULL) {
                *problem = "bad_csv";
                snprintf(msg, msglen, "unexpected '%c' after a closing quote", c);
                st = UNQUOTED;
            }
            break;
        }
    }
}

/* ---------------------------------------------------------------- open / close */

static int read_header(rec_reader_t *r, const json_t *columns, char *err, size_t errlen) {
    const char *problem;
    char msg[200];
    if (read_csv_row(r, &problem, msg, sizeof(msg)) == 0) {
        snprintf(err, errlen, "the file is empty (a CSV file starts with a header row)");
        return -1;
    }
    if (problem != NULL) {
        snprintf(err, errlen, "line 1: unusable header: %s",
                 strcmp(problem, "too_large") == 0 ? "too long" : msg);
        return -1;
    }
    r->ncols = r->nfields;
    r->cols = xcalloc(r->ncols, sizeof(*r->cols));
    for (size_t i = 0; i < r->ncols; i++) {
        const char *name = r->buf.data + r->starts[i];
        if (i == 0 && (unsigned char)name[0] == 0xEF && (unsigned char)name[1] == 0xBB &&
            (unsigned char)name[2] == 0xBF) {
            name += 3; /* UTF-8 byte order mark */
        }
        if (strlen(r->buf.data + r->starts[i]) != r->lens[i]) {
            snprintf(err, errlen, "line 1: the name of column %zu contains a NUL byte", i + 1);
            return -1;
        }
        json_t *probe = json_string(name); /* NULL when not UTF-8: it could not be a key */
        if (probe == NULL) {
            snprintf(err, errlen, "line 1: the name of column %zu is not valid UTF-8", i + 1);
            return -1;
        }
        json_decref(probe);
        for (size_t j = 0; j < i; j++) {
            const char *other = r->buf.data + r->starts[j];
            if (strcmp(name, other) == 0 && name[0] != '\0') {
                snprintf(err, errlen, "line 1: column '%s' appears twice in the header", name);
                return -1;
            }
        }
        const json_t *mapped = columns != NULL ? json_object_get(columns, name) : NULL;
        const char *spec = json_is_string(mapped) ? json_string_value(mapped) : name;
        if (json_is_null(mapped) || spec[0] == '\0' || (mapped == NULL && name[0] == '\0')) {
            r->cols[i].drop = true;
            continue;
        }
        char why[200];
        if (parse_spec(spec, &r->cols[i].field, &r->cols[i].type, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "column '%s': %s", name, why);
            return -1;
        }
        if (r->cols[i].field[0] == '\0') {
            r->cols[i].drop = true;
        }
    }
    return 0;
}

int rec_open(const char *path, const rec_options_t *opts, rec_reader_t **out, char *err,
             size_t errlen) {
    rec_reader_t *r = xcalloc(1, sizeof(*r));
    r->is_stdin = strcmp(path, "-") == 0;
    r->f = r->is_stdin ? stdin : fopen(path, "rb");
    if (r->f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        free(r);
        return -1;
    }
    r->total = -1;
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode)) {
        r->total = (int64_t)st.st_size;
    }
    r->format = opts->format;
    if (r->format == REC_AUTO) {
        r->format = str_iends(path, ".csv") || str_iends(path, ".tsv") ? REC_CSV : REC_JSONL;
    }
    r->delimiter = opts->delimiter != 0 ? opts->delimiter : str_iends(path, ".tsv") ? '\t' : ',';
    r->max = opts->max_record_bytes != 0 ? opts->max_record_bytes : 64 * 1024;
    if (r->format == REC_CSV && read_header(r, opts->columns, err, errlen) != 0) {
        rec_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void rec_close(rec_reader_t *r) {
    if (r == NULL) {
        return;
    }
    if (!r->is_stdin && r->f != NULL) {
        fclose(r->f);
    }
    for (size_t i = 0; i < r->ncols; i++) {
        free(r->cols[i].field);
    }
    free(r->cols);
    free(r->starts);
    free(r->lens);
    sb_free(&r->buf);
    sb_free(&r->raw);
    free(r);
}

uint64_t rec_bytes_read(const rec_reader_t *r) {
    return r->bytes;
}

int64_t rec_total_bytes(const rec_reader_t *r) {
    return r->total;
}

rec_format_t rec_format(const rec_reader_t *r) {
    return r->format;
}

void rec_clear(record_t *rec) {
    json_decref(rec->value);
    json_decref(rec->typed);
    free(rec->raw);
    memset(rec, 0, sizeof(*rec));
}

/* ---------------------------------------------------------------- records */

static void fail(record_t *rec, const char *reason, const char *fmt, const char *a, const char *b) {
    rec->error_reason = reason;
    snprintf(rec->error_message, sizeof(rec->error_message), fmt, a, b);
    json_decref(rec->value);
    rec->value = NULL;
}

static int next_jsonl(rec_reader_t *r, record_t *rec) {
    bool too_long;
    for (;;) {
        if (read_line(r, &too_long) == 0) {
            return 0;
        }
        rec->line = r->line;
        if (too_long) {
            break;
        }
        const char *p = r->buf.data;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p != '\0') {
            break; /* blank lines are skipped */
        }
    }
    rec->raw = xstrdup(r->raw.data != NULL ? r->raw.data : "");
    if (too_long) {
        char limit[32];
        snprintf(limit, sizeof(limit), "%zu", r->max);
        fail(rec, "too_large", "the record is longer than %s bytes%s", limit, "");
        return 1;
    }
    const char *nul = memchr(r->buf.data, '\0', r->buf.len);
    if (nul != NULL) {
        /* jansson skips a NUL between tokens: {"id":4\0 2} must not pass as anything */
        char col[32];
        snprintf(col, sizeof(col), "%zu", (size_t)(nul - r->buf.data) + 1);
        fail(rec, "bad_json", "not JSON: a NUL byte at column %s%s", col, "");
        return 1;
    }
    json_error_t error;
    rec->value = json_loadb(r->buf.data, r->buf.len, JSON_REJECT_DUPLICATES, &error);
    if (rec->value == NULL) {
        char col[32];
        snprintf(col, sizeof(col), "%d", error.column);
        fail(rec, "bad_json", "not JSON: %s (column %s)", error.text, col);
        return 1;
    }
    if (!json_is_object(rec->value)) {
        static const char *const names[] = {"object", "array", "string", "number",
                                            "number", "true",  "false",  "null"};
        fail(rec, "not_object", "a record must be a JSON object (got %s)%s",
             names[json_typeof(rec->value)], "");
    }
    return 1;
}

/* Sets obj[path] = v, creating objects for "a.b.c"; -1 when a part is already a non-object. */
static int set_path(json_t *obj, const char *path, json_t *v) {
    const char *dot;
    while ((dot = strchr(path, '.')) != NULL) {
        char *part = xstrndup(path, (size_t)(dot - path));
        json_t *child = json_object_get(obj, part);
        if (child == NULL) {
            child = json_object();
            if (json_object_set_new(obj, part, child) != 0) {
                child = NULL; /* the failed set freed it */
            }
        }
        free(part);
        if (!json_is_object(child)) {
            json_decref(v);
            return -1;
        }
        obj = child;
        path = dot + 1;
    }
    if (json_object_get(obj, path) != NULL) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(obj, path, v) == 0 ? 0 : -1;
}

/* The typed value of a cell, or NULL with rec failed. */
static json_t *cell_value(const column_t *col, const char *text, record_t *rec) {
    int64_t i;
    bool b;
    json_t *v = NULL;
    json_error_t error;
    switch (col->type) {
    case COL_AUTO:
    case COL_STRING:
        v = json_string(text);
        if (v != NULL) {
            return v;
        }
        fail(rec, "bad_value", "column '%s' is not valid UTF-8%s", col->field, "");
        return NULL;
    case COL_NUMBER:
        if (value_parse_number(text, &v) == 0) {
            return v;
        }
        break;
    case COL_INTEGER:
        if (value_parse_integer(text, &i) == 0) {
            return json_integer((json_int_t)i);
        }
        break;
    case COL_BOOLEAN:
        if (value_parse_bool(text, &b) == 0) {
            return json_boolean(b);
        }
        break;
    case COL_TIMESTAMP:
        if (value_parse_time(text, &i) == 0) {
            return json_integer((json_int_t)i);
        }
        break;
    case COL_JSON:
        v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
        if (v != NULL) {
            return v;
        }
        break;
    }
    fail(rec, "bad_value", "column '%s': '%s' is not a valid ", col->field, text);
    size_t n = strlen(rec->error_message);
    snprintf(rec->error_message + n, sizeof(rec->error_message) - n, "%s",
             col_type_names[col->type]);
    return NULL;
}

static int next_csv(rec_reader_t *r, record_t *rec) {
    const char *problem;
    char msg[200];
    if (read_csv_row(r, &problem, msg, sizeof(msg)) == 0) {
        return 0;
    }
    uint64_t first_line = r->line; /* the row may have spanned lines; r->line is its last */
    (void)first_line;
    rec->raw = xstrdup(r->raw.data != NULL ? r->raw.data : "");
    rec->from_csv = true;
    if (problem != NULL) {
        if (strcmp(problem, "too_large") == 0) {
            char limit[32];
            snprintf(limit, sizeof(limit), "%zu", r->max);
            fail(rec, "too_large", "the record is longer than %s bytes%s", limit, "");
        } else {
            fail(rec, "bad_csv", "%s%s", msg, "");
        }
        return 1;
    }
    if (r->nfields == 1 && r->lens[0] == 0 && r->ncols != 1) {
        rec->error_reason = "blank";
        return 1; /* an empty line */
    }
    if (r->nfields != r->ncols) {
        char got[32], want[32];
        snprintf(got, sizeof(got), "%zu", r->nfields);
        snprintf(want, sizeof(want), "%zu", r->ncols);
        fail(rec, "bad_csv", "the row has %s fields, the header %s", got, want);
        return 1;
    }
    for (size_t i = 0; i < r->ncols; i++) {
        if (strlen(r->buf.data + r->starts[i]) != r->lens[i]) {
            /* C strings end at a NUL: "42\0 7" would have been read as 42 */
            char which[160];
            if (r->cols[i].field != NULL) {
                snprintf(which, sizeof(which), "'%s'", r->cols[i].field);
            } else {
                snprintf(which, sizeof(which), "%zu", i + 1);
            }
            fail(rec, "bad_value", "column %s contains a NUL byte%s", which, "");
            return 1;
        }
    }
    rec->value = json_object();
    for (size_t i = 0; i < r->ncols; i++) {
        const column_t *col = &r->cols[i];
        const char *text = r->buf.data + r->starts[i];
        if (col->drop || text[0] == '\0') {
            continue;
        }
        json_t *v = cell_value(col, text, rec);
        if (v == NULL) {
            return 1;
        }
        if (set_path(rec->value, col->field, v) != 0) {
            fail(rec, "bad_csv", "column '%s' clashes with another column's field%s", col->field,
                 "");
            return 1;
        }
        if (col->type != COL_AUTO) {
            if (rec->typed == NULL) {
                rec->typed = json_object();
            }
            json_object_set_new(rec->typed, col->field, json_true());
        }
    }
    return 1;
}

int rec_next(rec_reader_t *r, record_t *rec, char *err, size_t errlen) {
    memset(rec, 0, sizeof(*rec));
    for (;;) {
        uint64_t start_line = r->line + 1;
        int rc = r->format == REC_CSV ? next_csv(r, rec) : next_jsonl(r, rec);
        if (rc == 1 && r->format == REC_CSV) {
            rec->line = start_line;
        }
        if (rc == 0 && ferror(r->f)) {
            snprintf(err, errlen, "read error: %s", strerror(errno));
            return -1;
        }
        if (rc == 1 && rec->error_reason != NULL && strcmp(rec->error_reason, "blank") == 0) {
            rec_clear(rec);
            continue;
        }
        return rc;
    }
}
