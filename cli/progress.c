/* The import progress display. */
#include "progress.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct progress {
    progress_mode_t mode;
    int64_t interval_ms;
    int64_t started;
    int64_t last_draw;
    const char *label;
    int width;
    size_t last_len;
    unsigned spin;
};

int progress_parse_mode(const char *text, progress_mode_t *out) {
    static const char *const names[] = {"auto", "bar", "lines", "none"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (progress_mode_t)i;
            return 0;
        }
    }
    return -1;
}

static int terminal_width(void) {
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) {
        return ws.ws_col;
    }
    const char *cols = getenv("COLUMNS");
    int n = cols != NULL ? atoi(cols) : 0;
    return n >= 40 ? n : 80;
}

progress_t *progress_new(progress_mode_t mode, double interval_s, const char *label) {
    progress_t *p = xcalloc(1, sizeof(*p));
    if (mode == PROGRESS_AUTO) {
        mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_LINES;
    }
    p->mode = mode;
    p->interval_ms = (int64_t)(interval_s * 1000);
    if (p->interval_ms <= 0) {
        p->interval_ms = 2000;
    }
    p->started = now_ms();
    p->last_draw = p->started;
    p->label = label;
    p->width = mode == PROGRESS_BAR ? terminal_width() : 80;
    return p;
}

static void fmt_duration(double seconds, char *buf, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) {
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    } else {
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    }
}

/* Fraction of the work done (0..1), or -1 when unknown; and the ETA in seconds (-1 unknown). */
static double estimate(const progress_t *p, const progress_counts_t *c, double *eta) {
    *eta = -1;
    double elapsed = (double)(now_ms() - p->started) / 1000.0;
    if (c->bytes_total <= 0 && !c->reading_done) {
        return -1;
    }
    double read_fraction = c->reading_done      ? 1.0
                           : c->bytes_total > 0 ? (double)c->bytes_done / (double)c->bytes_total
                                                : 0.0;
    if (read_fraction <= 0 || c->read == 0) {
        return 0;
    }
    double total = (double)c->read / read_fraction; /* records expected */
    double done = (double)(c->sent + c->rejected + c->failed);
    double fraction = total > 0 ? done / total : 0;
    if (fraction > 1) {
        fraction = 1;
    }
    if (fraction >= 0.02 && elapsed > 0.2 && fraction < 1) {
        *eta = elapsed * (total - done) / done;
    }
    return fraction;
}

static void draw(progress_t *p, const progress_counts_t *c, bool final) {
    double elapsed = (double)(now_ms() - p->started) / 1000.0;
    /* records finished (delivered, rejected or failed) per second */
    double rate = elapsed > 0 ? (double)(c->sent + c->rejected + c->failed) / elapsed : 0;
    double eta;
    double fraction = estimate(p, c, &eta);
    char read[32], sent[32], rejected[32], failed[32], rate_s[32], eta_s[48] = "", pct[16] = "";
    fmt_count(c->read, read, sizeof(read));
    fmt_count(c->sent, sent, sizeof(sent));
    fmt_count(c->rejected, rejected, sizeof(rejected));
    fmt_count(c->failed, failed, sizeof(failed));
    fmt_count((uint64_t)(rate + 0.5), rate_s, sizeof(rate_s));
    if (fraction >= 0) {
        snprintf(pct, sizeof(pct), "%3d%%", (int)(fraction * 100));
    }
    if (final) {
        char d[32];
        fmt_duration(elapsed, d, sizeof(d));
        snprintf(eta_s, sizeof(eta_s), "in %s", d);
    } else if (eta >= 0) {
        char d[32];
        fmt_duration(eta, d, sizeof(d));
        snprintf(eta_s, sizeof(eta_s), "ETA %s", d);
    } else {
        snprintf(eta_s, sizeof(eta_s), "ETA --:--");
    }
    const char *verb = strcmp(p->label, "dry run") == 0 ? "valid" : "sent";
    char stats[256];
    snprintf(stats, sizeof(stats), "%s read  %s %s  %s rejected  %s failed  %s/s  %s", read, sent,
             verb, rejected, failed, rate_s, eta_s);
    if (p->mode == PROGRESS_LINES) {
        fprintf(stderr, "%s: %s%s%s%s\n", p->label, pct[0] != '\0' ? pct : "", pct[0] ? "  " : "",
                stats, c->reading_done && !final ? "  (waiting for deliveries)" : "");
        fflush(stderr);
        return;
    }
    /* [#######.......]  52%  stats: a bar of fixed width, single spaces when narrow */
    sbuf_t line = {0};
    int bar = p->width - 70;
    bar = bar < 10 ? 10 : bar > 40 ? 40 : bar;
    if (bar + 9 + (int)strlen(stats) > p->width - 1) {
        snprintf(stats, sizeof(stats), "%s read %s %s %s rejected %s failed %s/s %s", read, sent,
                 verb, rejected, failed, rate_s, eta_s);
    }
    {
        sb_putc(&line, '[');
        if (fraction >= 0) {
            int filled = (int)(fraction * bar + 0.5);
            for (int i = 0; i < bar; i++) {
                sb_putc(&line, i < filled ? '#' : '.');
            }
        } else {
            /* unknown size: a block moving back and forth */
            int pos = (int)(p->spin++ % (unsigned)(2 * (bar - 3)));
            pos = pos < bar - 3 ? pos : 2 * (bar - 3) - pos;
            for (int i = 0; i < bar; i++) {
                sb_putc(&line, i >= pos && i < pos + 3 ? '#' : '.');
            }
        }
        sb_puts(&line, "] ");
    }
    sb_printf(&line, "%s  %s", pct[0] != '\0' ? pct : " ...", stats);
    if ((int)line.len > p->width - 1) {
        line.len = (size_t)(p->width - 1);
        line.data[line.len] = '\0';
    }
    size_t len = line.len;
    fprintf(stderr, "\r%s", line.data);
    for (size_t i = len; i < p->last_len; i++) {
        fputc(' ', stderr);
    }
    p->last_len = len;
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
    sb_free(&line);
}

void progress_update(progress_t *p, const progress_counts_t *c) {
    if (p == NULL || p->mode == PROGRESS_NONE) {
        return;
    }
    int64_t now = now_ms();
    int64_t every = p->mode == PROGRESS_BAR ? 100 : p->interval_ms;
    if (now - p->last_draw < every) {
        return;
    }
    p->last_draw = now;
    draw(p, c, false);
}

void progress_finish(progress_t *p, const progress_counts_t *c) {
    if (p == NULL) {
        return;
    }
    if (p->mode != PROGRESS_NONE) {
        draw(p, c, true);
    }
    free(p);
}
