/*
 * cli/records.h - reading import records from JSON Lines and CSV files.
 *
 * JSON Lines: one JSON object per line; blank lines are skipped. CSV (RFC 4180): the first row
 * names the columns; quoted fields may hold the delimiter, doubled quotes and newlines; a UTF-8
 * byte order mark is ignored. Each row becomes an object keyed by column name, through the
 * column mapping: a header maps to a field name (dots nest: "device.token"), optionally typed
 * ("field:integer"), or to nothing (the column is dropped). Empty cells are left out. Cells
 * without a type stay text, marked untyped, for the schema (or the auto rule) to type later.
 *
 * A record that cannot be read (bad JSON, a bad CSV row, a line over the size limit) is still
 * returned, with an error, so that it can be reported with its line number; reading goes on.
 */
#ifndef CIO_CLI_RECORDS_H
#define CIO_CLI_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rec_format { REC_AUTO, REC_JSONL, REC_CSV } rec_format_t;

typedef struct rec_options {
    rec_format_t format;     /* REC_AUTO: .csv/.tsv files are CSV, anything else JSON Lines */
    char delimiter;          /* CSV; 0 = ',' (or tab for .tsv) */
    size_t max_record_bytes; /* longer records are rejected unread; 0 = 64 KiB */
    const json_t *columns;   /* CSV header -> "field[:type]" or "" (drop); may be NULL */
} rec_options_t;

/* Bytes of raw record text kept for reports. */
#define REC_RAW_KEEP 1024

typedef struct record {
    uint64_t line; /* first line of the record, from 1 */
    json_t *value; /* the record (an object), or NULL when error_reason is set */
    bool from_csv; /* untyped text values (except the fields in typed) */
    json_t *typed; /* CSV: object whose keys are the fields typed by the mapping, or NULL */
    const char *error_reason; /* "bad_json", "not_object", "bad_csv", "bad_value", "too_large" */
    char error_message[300];
    char *raw; /* the record's text, at most REC_RAW_KEEP bytes (then "...") */
} record_t;

typedef struct rec_reader rec_reader_t;

/* Checks a column mapping value ("field", "field:type", ""); 0 when good, else -1 and why. */
int rec_check_column_spec(const char *spec, char *err, size_t errlen);

/*
 * Opens path ("-" = standard input). For CSV the header is read at once. -1 with a message in
 * err when the file cannot be opened or its header is unusable.
 */
int rec_open(const char *path, const rec_options_t *opts, rec_reader_t **out, char *err,
             size_t errlen);
/* 1 with *rec filled (maybe with an error), 0 at the end, -1 on a read error (err set). */
int rec_next(rec_reader_t *r, record_t *rec, char *err, size_t errlen);
/* Frees what a record holds and zeroes it. */
void rec_clear(record_t *rec);
/* Bytes consumed so far, and the file's size (-1 when unknown, e.g. a pipe). */
uint64_t rec_bytes_read(const rec_reader_t *r);
int64_t rec_total_bytes(const rec_reader_t *r);
rec_format_t rec_format(const rec_reader_t *r);
void rec_close(rec_reader_t *r);

#endif
