/* The relay's counters, and GET /stats: them and the pipelines'. */
#include "relay.h"
#include "util.h"

#include <stdlib.h>

static const char *const reason_names[RELAY_REASONS] = {
    [RELAY_R_UNAUTHORIZED] = "unauthorized",
    [RELAY_R_FORBIDDEN] = "forbidden",
    [RELAY_R_NOT_FOUND] = "not_found",
    [RELAY_R_METHOD] = "method_not_allowed",
    [RELAY_R_INVALID] = "invalid",
    [RELAY_R_TOO_LARGE] = "too_large",
    [RELAY_R_ENCODING] = "unsupported_encoding",
    [RELAY_R_RATE_LIMITED] = "rate_limited",
    [RELAY_R_QUEUE_FULL] = "queue_full",
    [RELAY_R_INTERNAL] = "internal",
};

void relay_stats_refused(relay_stats_t *s, relay_reason_t r) {
    atomic_fetch_add(&s->refused[r], 1);
}

char *relay_stats_json(const relay_stats_t *s, const relay_workspace_t *ws, size_t n) {
    static const char *const sink_names[RELAY_SINKS] = {"track", "pipelines"};
    sbuf_t b = {0};
    cio_pipeline_stats_t total = {0};
    sb_printf(&b, "{\"requests\":%llu,\"accepted\":%llu,\"refused\":{",
              (unsigned long long)atomic_load(&s->requests),
              (unsigned long long)atomic_load(&s->accepted));
    for (int r = 0; r < RELAY_REASONS; r++) {
        sb_printf(&b, "%s\"%s\":%llu", r == 0 ? "" : ",", reason_names[r],
                  (unsigned long long)atomic_load(&s->refused[r]));
    }
    sb_puts(&b, "},\"pipelines\":{");
    bool first = true;
    for (size_t w = 0; w < n; w++) {
        for (int i = 0; i < RELAY_SINKS; i++) {
            cio_pipeline_stats_t ps;
            if (ws[w].pipelines[i] == NULL ||
                cio_pipeline_stats(ws[w].pipelines[i], &ps) != CIO_OK) {
                continue;
            }
            total.queue_depth += ps.queue_depth;
            total.delivered += ps.delivered;
            total.failed += ps.failed;
            total.in_flight += ps.in_flight;
            sb_printf(&b, "%s\"%s%s%s\":", first ? "" : ",", w == 0 ? "" : ws[w].name,
                      w == 0 ? "" : "/", sink_names[i]);
            sb_printf(&b,
                      "{\"enqueued\":%llu,\"delivered\":%llu,\"failed\":%llu,\"retried\":%llu,"
                      "\"requests\":%llu,\"queue_depth\":%llu,\"queue_bytes\":%llu,"
                      "\"in_flight\":%llu}",
                      (unsigned long long)ps.enqueued, (unsigned long long)ps.delivered,
                      (unsigned long long)ps.failed, (unsigned long long)ps.retried,
                      (unsigned long long)ps.requests, (unsigned long long)ps.queue_depth,
                      (unsigned long long)ps.queue_bytes, (unsigned long long)ps.in_flight);
            first = false;
        }
    }
    sb_printf(&b, "},\"queue_depth\":%llu,\"in_flight\":%llu,\"delivered\":%llu,\"failed\":%llu}",
              (unsigned long long)total.queue_depth, (unsigned long long)total.in_flight,
              (unsigned long long)total.delivered, (unsigned long long)total.failed);
    return sb_take(&b);
}
