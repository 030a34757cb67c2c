/*
 * Options by name (customerio/options.h): one table per options struct. A row says the name, the
 * type, where the value lands (offsetof), the range and a one-line doc; cio_config_set() parses
 * text into the field, cio_config_option() lists the rows for bindings and docs.
 *
 * A new option is one row here (plus the struct field and its docs): tests/c/test_options.c
 * fails while a struct field has no row.
 */
#include "customerio/options.h"
#include "customerio/pipeline.h"
#include "util/error.h"

#include <string.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

typedef enum opt_type {
    T_STRING, /* const char * (copied) */
    T_SECRET, /* const char *, never echoed */
    T_INT,    /* int */
    T_LONG,   /* long */
    T_SIZE,   /* size_t */
    T_DOUBLE, /* double */
    T_BOOL,   /* int, 0 or 1 */
    T_ENUM    /* a C enum (int-sized); choices[i] is the value i */
} opt_type_t;

typedef struct opt_row {
    cio_option_info_t info;
    opt_type_t type;
} opt_row_t;

/* The public type names (cio_option_info_t.type), by opt_type_t token. */
#define TN_T_STRING "string"
#define TN_T_SECRET "secret"
#define TN_T_INT "int"
#define TN_T_LONG "int"
#define TN_T_SIZE "int"
#define TN_T_DOUBLE "number"
#define TN_T_BOOL "bool"
#define TN_T_ENUM "enum"

/* Enum fields are written as int. */
_Static_assert(sizeof(cio_region_t) == sizeof(int), "cio_region_t is not int-sized");
_Static_assert(sizeof(cio_pipeline_sink_t) == sizeof(int), "cio_pipeline_sink_t is not int-sized");
_Static_assert(sizeof(cio_when_full_t) == sizeof(int), "cio_when_full_t is not int-sized");
_Static_assert(sizeof(cio_spool_sync_t) == sizeof(int), "cio_spool_sync_t is not int-sized");

static const char *const regions[] = {"default", "us", "eu", NULL};
static const char *const sinks[] = {"track_v2", "pipelines", NULL};
static const char *const when_full[] = {"block", "fail", NULL};
static const char *const spool_syncs[] = {"none", "batch", "always", NULL};

#define FIELD_SIZE(S, f) sizeof(((S *)0)->f)
#define ROW(S, f, t, lo, hi, ch, ver, doc)                                                         \
    { {#f, TN_##t, doc, lo, hi, ch, offsetof(S, f), FIELD_SIZE(S, f), ver}, t }
#define C_ROW(f, t, lo, hi, ch, ver, doc) ROW(cio_client_options_t, f, t, lo, hi, ch, ver, doc)
#define P_ROW(f, t, lo, hi, ch, ver, doc) ROW(cio_pipeline_options_t, f, t, lo, hi, ch, ver, doc)
#define C_STR(f, t, ver, doc) C_ROW(f, t, 0, 0, NULL, ver, doc)
#define C_NUM(f, t, hi, doc) C_ROW(f, t, 0, hi, NULL, 1, doc)

/* In the struct's order. */
static const opt_row_t client_rows[] = {
    C_STR(site_id, T_STRING, 1, "Track API site id; default CUSTOMERIO_SITE_ID"),
    C_STR(api_key, T_SECRET, 1, "Track API key; default CUSTOMERIO_API_KEY"),
    C_STR(app_api_key, T_SECRET, 1, "App API key (Bearer); default CUSTOMERIO_APP_API_KEY"),
    C_ROW(region, T_ENUM, 0, 2, regions, 1, "us or eu; default CUSTOMERIO_REGION, else us"),
    C_STR(track_url, T_STRING, 1, "base URL replacing the region's Track host"),
    C_STR(app_url, T_STRING, 1, "base URL replacing the region's App API host"),
    C_NUM(connect_timeout_ms, T_LONG, LONG_MAX, "connect timeout in ms; 0 = 10000"),
    C_NUM(timeout_ms, T_LONG, LONG_MAX, "whole-attempt timeout in ms; 0 = 10000"),
    C_NUM(max_attempts, T_INT, INT_MAX, "attempts including the first; 0 = 4, 1 = no retry"),
    C_NUM(backoff_base_ms, T_LONG, LONG_MAX, "first retry delay in ms; 0 = 100"),
    C_NUM(backoff_max_ms, T_LONG, LONG_MAX, "longest retry delay in ms; 0 = 10000"),
    C_NUM(retry_after_max_ms, T_LONG, LONG_MAX, "cap on a Retry-After wait in ms; 0 = 60000"),
    C_STR(user_agent, T_STRING, 1, "User-Agent header; default customerio-native/<version> (C)"),
    C_NUM(tls_insecure, T_BOOL, 1, "true = do not verify server certificates (tests only)"),
    C_STR(ca_file, T_STRING, 1, "PEM bundle or hashed directory to verify servers with"),
    C_NUM(max_connections, T_INT, INT_MAX, "connections per host; 0 = 8"),
    C_NUM(ignore_env, T_BOOL, 1, "true = read no environment variable"),
    C_STR(cdp_api_key, T_SECRET, 2, "Pipelines API key; default CUSTOMERIO_CDP_API_KEY"),
    C_STR(cdp_url, T_STRING, 2, "base URL replacing the Pipelines API host"),
    C_ROW(cdp_permissive, T_BOOL, 0, 1, NULL, 3, "true = Pipelines requests without strict mode"),
    C_STR(cdp_batch_path, T_STRING, 4, "path Pipelines batches go to; default /v1/batch"),
    C_STR(proxy, T_SECRET, 5, "proxy URL for every request; default https_proxy/http_proxy"),
};

#define P_NUM(f, t, hi, ver, doc) P_ROW(f, t, 0, hi, NULL, ver, doc)

static const opt_row_t pipeline_rows[] = {
    P_ROW(sink, T_ENUM, 0, 1, sinks, 1, "track_v2 (/api/v2/batch) or pipelines (/v1/batch)"),
    P_NUM(max_queue_bytes, T_SIZE, LLONG_MAX, 1, "queued + in-flight bytes; 0 = 64 MiB"),
    P_ROW(when_full, T_ENUM, 0, 1, when_full, 1, "block (wait block_timeout_ms) or fail"),
    P_NUM(block_timeout_ms, T_LONG, LONG_MAX, 1, "longest wait for room in ms; 0 = 10000"),
    P_NUM(linger_ms, T_LONG, LONG_MAX, 1, "longest wait for a fuller batch in ms; 0 = 100"),
    P_NUM(batch_bytes, T_SIZE, LLONG_MAX, 1, "request body limit; 0 = the API's"),
    P_NUM(max_in_flight, T_INT, INT_MAX, 1, "concurrent batch requests; 0 = 4"),
    P_NUM(max_requests_per_second, T_DOUBLE, 0, 1, "pacing; 0 = 100, negative = none"),
    P_NUM(retry_deadline_ms, T_LONG, LONG_MAX, 1, "give up this long after enqueue; 0 = 1 h"),
    P_ROW(spool_path, T_STRING, 0, 0, NULL, 1, "spool file keeping what is owed; default none"),
    P_ROW(spool_sync, T_ENUM, 0, 2, spool_syncs, 1, "none, batch or always (fsync)"),
    P_NUM(report_successes, T_BOOL, 1, 1, "true = report deliveries too, not only failures"),
    P_NUM(max_batch_items, T_SIZE, LLONG_MAX, 2, "operations per request; 0 = no count limit"),
    P_NUM(max_queue_items, T_SIZE, LLONG_MAX, 2, "queued + in-flight operations; 0 = no limit"),
    P_NUM(max_attempts, T_INT, INT_MAX, 2, "attempts per operation; 0 = until retry_deadline_ms"),
    P_ROW(redis_url, T_SECRET, 0, 0, NULL, 4, "redis:// or rediss:// URL of the shared queue"),
    P_ROW(ratelimit_url, T_SECRET, 0, 0, NULL, 4, "Redis URL of the fleet-wide rate limit"),
    P_NUM(ratelimit_senders, T_INT, INT_MAX, 4, "senders sharing it (fallback rate/N); 0 = 1"),
};

#define N_CLIENT (sizeof(client_rows) / sizeof(client_rows[0]))
#define N_PIPELINE (sizeof(pipeline_rows) / sizeof(pipeline_rows[0]))

struct cio_config {
    cio_config_kind_t kind;
    /* Every string field points to a copy this config owns (or is NULL). */
    union {
        cio_client_options_t client;
        cio_pipeline_options_t pipeline;
    } o;
};

static const opt_row_t *rows_of(cio_config_kind_t kind, size_t *n) {
    switch (kind) {
    case CIO_CONFIG_CLIENT:
        *n = N_CLIENT;
        return client_rows;
    case CIO_CONFIG_PIPELINE:
        *n = N_PIPELINE;
        return pipeline_rows;
    }
    *n = 0;
    return NULL;
}

const cio_option_info_t *cio_config_option(cio_config_kind_t kind, size_t index) {
    size_t n;
    const opt_row_t *rows = rows_of(kind, &n);
    return rows != NULL && index < n ? &rows[index].info : NULL;
}

static void *field_of(cio_config_t *c, const opt_row_t *r) {
    return (char *)&c->o + r->info.offset;
}

cio_status_t cio_config_new(cio_config_kind_t kind, cio_config_t **out) {
    size_t n;
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "config: out is NULL");
    *out = NULL;
    if (rows_of(kind, &n) == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "config: unknown kind %d", (int)kind);
    cio_config_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return cio__fail(CIO_E_NOMEM, "config: out of memory");
    c->kind = kind;
    if (kind == CIO_CONFIG_CLIENT)
        c->o.client.version = CIO_CLIENT_OPTIONS_VERSION;
    else
        c->o.pipeline.version = CIO_PIPELINE_OPTIONS_VERSION;
    *out = c;
    return cio__ok();
}

void cio_config_free(cio_config_t *config) {
    size_t n;
    if (config == NULL)
        return;
    const opt_row_t *rows = rows_of(config->kind, &n);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].type == T_STRING || rows[i].type == T_SECRET) {
            char *s;
            memcpy(&s, field_of(config, &rows[i]), sizeof(s));
            free(s);
        }
    }
    free(config);
}

/* A whole decimal number, no spaces; false when not one or out of [lo, hi]. */
static bool parse_integer(const char *v, long long lo, long long hi, long long *out) {
    char *end = NULL;
    if (*v == '\0' || *v == ' ' || *v == '\t' || *v == '+')
        return false;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static cio_status_t refuse(const opt_row_t *r, const char *value, const char *expected) {
    if (r->type == T_SECRET)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "config: %s must be %s", r->info.name, expected);
    return cio__fail(CIO_E_INVALID_ARGUMENT, "config: %s must be %s, not \"%.64s\"", r->info.name,
                     expected, value);
}

static cio_status_t set_row(cio_config_t *c, const opt_row_t *r, const char *value) {
    void *field = field_of(c, r);
    char expected[96];
    long long x = 0;
    switch (r->type) {
    case T_STRING:
    case T_SECRET: {
        char *old, *copy = NULL;
        if (value != NULL && (copy = strdup(value)) == NULL)
            return cio__fail(CIO_E_NOMEM, "config: out of memory");
        memcpy(&old, field, sizeof(old));
        free(old);
        memcpy(field, &copy, sizeof(copy));
        return cio__ok();
    }
    case T_DOUBLE: {
        double d = 0;
        if (value != NULL) {
            char *end = NULL;
            errno = 0;
            d = strtod(value, &end);
            if (*value == '\0' || *end != '\0' || errno != 0 || !isfinite(d))
                return refuse(r, value, "a finite number");
        }
        memcpy(field, &d, sizeof(d));
        return cio__ok();
    }
    case T_BOOL:
        if (value == NULL || strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0)
            x = 0;
        else if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0)
            x = 1;
        else
            return refuse(r, value, "true, false, 1 or 0");
        break;
    case T_ENUM:
        if (value != NULL) {
            const char *const *ch = r->info.choices;
            for (x = 0; ch[x] != NULL && strcasecmp(ch[x], value) != 0; x++)
                ;
            if (ch[x] == NULL && !parse_integer(value, r->info.min, r->info.max, &x)) {
                size_t len = 0;
                expected[0] = '\0';
                for (size_t i = (size_t)r->info.min; ch[i] != NULL; i++)
                    len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
                                            i > (size_t)r->info.min ? ", " : "one of ", ch[i]);
                return refuse(r, value, expected);
            }
        }
        break;
    case T_INT:
    case T_LONG:
    case T_SIZE:
        if (value != NULL && !parse_integer(value, r->info.min, r->info.max, &x)) {
            snprintf(expected, sizeof(expected), "a whole number from %lld to %lld", r->info.min,
                     r->info.max);
            return refuse(r, value, expected);
        }
        break;
    }
    /* Whole numbers, by the field's C type. */
    if (r->type == T_LONG) {
        long v = (long)x;
        memcpy(field, &v, sizeof(v));
    } else if (r->type == T_SIZE) {
        size_t v = (size_t)x;
        memcpy(field, &v, sizeof(v));
    } else {
        int v = (int)x; /* int, bool and enum fields (enums are int-sized here) */
        memcpy(field, &v, sizeof(v));
    }
    return cio__ok();
}

cio_status_t cio_config_set(cio_config_t *config, const char *name, const char *value) {
    size_t n;
    if (config == NULL || name == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "config: %s is NULL",
                         config == NULL ? "config" : "name");
    const opt_row_t *rows = rows_of(config->kind, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].info.name, name) == 0)
            return set_row(config, &rows[i], value);
    }
    return cio__fail(CIO_E_INVALID_ARGUMENT, "config: unknown %s option \"%.64s\"",
                     config->kind == CIO_CONFIG_CLIENT ? "client" : "pipeline", name);
}

static cio_status_t check(const cio_config_t *config, cio_config_kind_t kind, const void *out,
                          const char *call) {
    if (config == NULL || out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is NULL", call,
                         config == NULL ? "config" : "out");
    if (config->kind != kind)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: config holds %s options", call,
                         config->kind == CIO_CONFIG_CLIENT ? "client" : "pipeline");
    return CIO_OK;
}

cio_status_t cio_config_client_options(const cio_config_t *config, cio_client_options_t *out) {
    cio_status_t st = check(config, CIO_CONFIG_CLIENT, out, "cio_config_client_options");
    if (st != CIO_OK)
        return st;
    *out = config->o.client;
    return cio__ok();
}

cio_status_t cio_config_pipeline_options(const cio_config_t *config, cio_pipeline_options_t *out) {
    cio_status_t st = check(config, CIO_CONFIG_PIPELINE, out, "cio_config_pipeline_options");
    if (st != CIO_OK)
        return st;
    *out = config->o.pipeline;
    return cio__ok();
}

cio_status_t cio_client_new_from_config(const cio_config_t *config, cio_client_t **out) {
    cio_status_t st = check(config, CIO_CONFIG_CLIENT, out, "cio_client_new_from_config");
    if (st != CIO_OK)
        return st;
    return cio_client_new(&config->o.client, out);
}

cio_status_t cio_pipeline_new_from_config(cio_client_t *client, const cio_config_t *config,
                                          cio_queue_t *report_queue, cio_pipeline_t **out) {
    cio_status_t st = check(config, CIO_CONFIG_PIPELINE, out, "cio_pipeline_new_from_config");
    if (st != CIO_OK)
        return st;
    cio_pipeline_options_t o = config->o.pipeline;
    o.report_queue = report_queue;
    return cio_pipeline_new(client, &o, out);
}
