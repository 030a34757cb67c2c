/*
 * cli/progress.h - import progress on standard error: a bar redrawn in place on a terminal
 * (records read, sent, failed, rate, percentage and ETA), or a plain line every few seconds
 * when standard error is a file or a pipe.
 */
#ifndef CIO_CLI_PROGRESS_H
#define CIO_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum progress_mode {
    PROGRESS_AUTO, /* a bar when stderr is a terminal, else lines */
    PROGRESS_BAR,
    PROGRESS_LINES,
    PROGRESS_NONE
} progress_mode_t;

typedef struct progress_counts {
    uint64_t read;       /* records read */
    uint64_t sent;       /* delivered (or found valid, in a dry run) */
    uint64_t rejected;   /* invalid: not sent */
    uint64_t failed;     /* sent, but not delivered */
    uint64_t bytes_done; /* input bytes consumed */
    int64_t bytes_total; /* input size, -1 when unknown (standard input) */
    bool reading_done;   /* every input has been read; waiting for deliveries */
} progress_counts_t;

typedef struct progress progress_t;

/* Parses "auto", "bar", "lines" or "none"; -1 otherwise. */
int progress_parse_mode(const char *text, progress_mode_t *out);

/* label: "import" or "dry run"; interval_s: seconds between lines (lines mode). */
progress_t *progress_new(progress_mode_t mode, double interval_s, const char *label);
/* Redraws (at most every 100 ms for the bar, every interval for lines). */
void progress_update(progress_t *p, const progress_counts_t *c);
/* Draws the final state and ends the line; frees p. */
void progress_finish(progress_t *p, const progress_counts_t *c);

#endif
