/* The import report: collected problems, written as JSON or CSV. */
#include "report.h"

#include "jsonw.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    size_t file_index;
    char *file;
    uint64_t line;
    const char *stage;
    char *reason;
    char *field;
    char *message;
    char *record;
    int http_status;
    size_t order; /* arrival, to keep sorting stable */
} entry_t;

struct report {
    entry_t *entries;
    size_t n, cap;
    bool sorted;
};

report_t *report_new(void) {
    return xcalloc(1, sizeof(report_t));
}

void report_free(report_t *r) {
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        free(r->entries[i].file);
        free(r->entries[i].reason);
        free(r->entries[i].field);
        free(r->entries[i].message);
        free(r->entries[i].record);
    }
    free(r->entries);
    free(r);
}

static char *dup_or_null(const char *s) {
    return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

void report_add(report_t *r, size_t file_index, const char *file, uint64_t line, const char *stage,
                const char *reason, const char *field, const char *message, const char *record,
                int http_status) {
    if (r->n == r->cap) {
        r->cap = r->cap != 0 ? r->cap * 2 : 64;
        r->entries = xrealloc(r->entries, r->cap * sizeof(*r->entries));
    }
    entry_t *e = &r->entries[r->n];
    e->file_index = file_index;
    e->file = xstrdup(file);
    e->line = line;
    e->stage = stage;
    e->reason = xstrdup(reason != NULL ? reason : "unknown");
    e->field = dup_or_null(field);
    e->message = dup_or_null(message);
    e->record = dup_or_null(record);
    e->http_status = http_status;
    e->order = r->n;
    r->n++;
    r->sorted = false;
}

size_t report_count(const report_t *r) {
    return r->n;
}

static int by_place(const void *a, const void *b) {
    const entry_t *x = a, *y = b;
    if (x->file_index != y->file_index) {
        return x->file_index < y->file_index ? -1 : 1;
    }
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static void sort(report_t *r) {
    if (!r->sorted && r->n > 1) {
        qsort(r->entries, r->n, sizeof(*r->entries), by_place);
        r->sorted = true;
    }
}

static json_t *entry_json(const entry_t *e) {
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(e->file));
    json_object_set_new(o, "line", json_integer((json_int_t)e->line));
    json_object_set_new(o, "stage", json_string(e->stage));
    json_object_set_new(o, "reason", json_string(e->reason));
    json_object_set_new(o, "field", e->field != NULL ? json_string(e->field) : json_null());
    json_object_set_new(o, "message", e->message != NULL ? json_string(e->message) : json_null());
    if (e->http_status != 0) {
        json_object_set_new(o, "http_status", json_integer(e->http_status));
    }
    /* jansson refuses invalid UTF-8; a record that is not text is left out */
    json_t *rec = e->record != NULL ? json_string(e->record) : NULL;
    json_object_set_new(o, "record", rec != NULL ? rec : json_null());
    return o;
}

int report_write_json(report_t *r, const char *path, const json_t *summary) {
    sort(r);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    sbuf_t b = {0};
    sb_puts(&b, "{\"summary\": ");
    jw_value(&b, summary, 0);
    sb_puts(&b, ",\n \"errors\": [");
    for (size_t i = 0; i < r->n; i++) {
        json_t *o = entry_json(&r->entries[i]);
        sb_puts(&b, i == 0 ? "\n  " : ",\n  ");
        jw_value(&b, o, 0);
        json_decref(o);
        if (b.len > 1 << 20) {
            fwrite(b.data, 1, b.len, f);
            sb_clear(&b);
        }
    }
    sb_puts(&b, r->n > 0 ? "\n ]}\n" : "]}\n");
    fwrite(b.data, 1, b.len, f);
    sb_free(&b);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        return -1;
    }
    return 0;
}

static void csv_field(sbuf_t *b, const char *s) {
    if (s == NULL) {
        return;
    }
    if (strpbrk(s, ",\"\r\n") == NULL) {
        sb_puts(b, s);
        return;
    }
    sb_putc(b, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"') {
            sb_putc(b, '"');
        }
        sb_putc(b, *s);
    }
    sb_putc(b, '"');
}

int report_write_csv(report_t *r, const char *path) {
    sort(r);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    sbuf_t b = {0};
    sb_puts(&b, "file,line,stage,reason,field,message,http_status,record\r\n");
    for (size_t i = 0; i < r->n; i++) {
        const entry_t *e = &r->entries[i];
        csv_field(&b, e->file);
        sb_printf(&b, ",%llu,%s,", (unsigned long long)e->line, e->stage);
        csv_field(&b, e->reason);
        sb_putc(&b, ',');
        csv_field(&b, e->field);
        sb_putc(&b, ',');
        csv_field(&b, e->message);
        sb_putc(&b, ',');
        if (e->http_status != 0) {
            sb_printf(&b, "%d", e->http_status);
        }
        sb_putc(&b, ',');
        csv_field(&b, e->record);
        sb_puts(&b, "\r\n");
        if (b.len > 1 << 20) {
            fwrite(b.data, 1, b.len, f);
            sb_clear(&b);
        }
    }
    fwrite(b.data, 1, b.len, f);
    sb_free(&b);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        return -1;
    }
    return 0;
}

typedef struct reason_count {
    const char *reason;
    size_t count;
} reason_count_t;

static int by_count(const void *a, const void *b) {
    const reason_count_t *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->reason, y->reason);
}

json_t *report_reasons(const report_t *r) {
    reason_count_t *counts = xcalloc(r->n + 1, sizeof(*counts));
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = 0;
        while (j < n && strcmp(counts[j].reason, r->entries[i].reason) != 0) {
            j++;
        }
        if (j == n) {
            counts[n++].reason = r->entries[i].reason;
        }
        counts[j].count++;
    }
    qsort(counts, n, sizeof(*counts), by_count);
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(o, counts[i].reason, json_integer((json_int_t)counts[i].count));
    }
    free(counts);
    return o;
}

void report_print(report_t *r, FILE *f, size_t max) {
    sort(r);
    for (size_t i = 0; i < r->n && i < max; i++) {
        const entry_t *e = &r->entries[i];
        fprintf(f, "  %s:%llu: %s: %s\n", e->file, (unsigned long long)e->line, e->reason,
                e->message != NULL ? e->message : "");
    }
    if (r->n > max) {
        fprintf(f, "  ... and %zu more\n", r->n - max);
    }
}
