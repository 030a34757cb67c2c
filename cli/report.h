/*
 * cli/report.h - the import report: every record that was rejected (before sending) or failed
 * (after sending), with its file, line, stage, reason, field and message, written as JSON
 * (--report) or CSV (--report-csv), sorted by file and line.
 */
#ifndef CIO_CLI_REPORT_H
#define CIO_CLI_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct report report_t;

report_t *report_new(void);
void report_free(report_t *r);

/*
 * Records one problem. file_index orders files; stage is "read", "map", "schema", "enqueue" or
 * "delivery"; field, message and record may be NULL; http_status 0 when none. Strings are
 * copied.
 */
void report_add(report_t *r, size_t file_index, const char *file, uint64_t line, const char *stage,
                const char *reason, const char *field, const char *message, const char *record,
                int http_status);

size_t report_count(const report_t *r);

/* Writes {"summary": summary, "errors": [...]} to path. 0, or -1 with errno set. */
int report_write_json(report_t *r, const char *path, const json_t *summary);
/* Writes a CSV with the header file,line,stage,reason,field,message,http_status,record. */
int report_write_csv(report_t *r, const char *path);

/* Counts by reason, most frequent first, as a JSON object (new reference). */
json_t *report_reasons(const report_t *r);
/* Prints the first max entries as "file:line: reason: message" lines to f (sorted). */
void report_print(report_t *r, FILE *f, size_t max);

#endif
