/*
 * customerio/options.h - client and pipeline options by name, from one table per options struct
 * (librdkafka's rd_kafka_conf_set is the model).
 *
 * A cio_config_t is an owned, opaque set of options of one kind (client or pipeline). Values are
 * given as text by name and copied, so a binding can pass temporaries:
 *
 *     cio_config_t *cfg;
 *     cio_config_new(CIO_CONFIG_CLIENT, &cfg);
 *     cio_config_set(cfg, "site_id", "...");
 *     cio_config_set(cfg, "timeout_ms", "5000");
 *     cio_config_set(cfg, "region", "eu");
 *     cio_client_t *client;
 *     cio_client_new_from_config(cfg, &client);  // cfg may be freed at once afterwards
 *     cio_config_free(cfg);
 *
 * The names, types, ranges and one-line docs come from the table in core/src/options.c, which
 * cio_config_option() lists; an option unset keeps the zero value of its struct field, which
 * means "the default" (client.h, pipeline.h). The structs cio_client_options_t and
 * cio_pipeline_options_t stay the C API: cio_config_client_options() and
 * cio_config_pipeline_options() give a config as one of them.
 */
#ifndef CUSTOMERIO_OPTIONS_H
#define CUSTOMERIO_OPTIONS_H

#include "client.h"
#include "pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which options struct a config fills. */
typedef enum cio_config_kind {
    CIO_CONFIG_CLIENT = 1,  /* cio_client_options_t */
    CIO_CONFIG_PIPELINE = 2 /* cio_pipeline_options_t */
} cio_config_kind_t;

typedef struct cio_config cio_config_t;

/* One row of an options table. Static storage: valid for the life of the process. */
typedef struct cio_option_info {
    const char *name; /* as cio_config_set() takes it, e.g. "timeout_ms" */
    /* "string", "secret" (a string never echoed in a message), "int" (a whole number from min to
     * max), "number" (a finite decimal), "bool" ("true"/"false"/"1"/"0") or "enum" (one of
     * choices, any case, or its C enum value in decimal) */
    const char *type;
    const char *doc;            /* one line, the default included */
    long long min, max;         /* "int" and "enum": the accepted range */
    const char *const *choices; /* "enum": the names, NULL-terminated; NULL otherwise */
    size_t offset, size;        /* where the value lands in the options struct */
    unsigned int since_version; /* the struct version that added the field */
} cio_option_info_t;

/*
 * The index-th option of kind's table, or NULL past its end (or for an unknown kind); the
 * table's order is the struct's. Thread-safe.
 */
CIO_EXTERN const cio_option_info_t *cio_config_option(cio_config_kind_t kind, size_t index);

/*
 * Creates an empty config (every option at its default) of kind. *out is to be freed with
 * cio_config_free(). CIO_E_INVALID_ARGUMENT for an unknown kind or a NULL out, CIO_E_NOMEM.
 * Thread-safe.
 */
CIO_EXTERN cio_status_t cio_config_new(cio_config_kind_t kind, cio_config_t **out);

/*
 * Sets the option name to value (text, copied; NULL = back to the default). Refused with
 * CIO_E_INVALID_ARGUMENT and a message naming the option (never repeating a "secret" value):
 * an unknown name, a value of the wrong type or out of range; the config is then unchanged.
 * CIO_E_NOMEM. Not thread-safe for one config (one thread at a time may set it).
 */
CIO_EXTERN cio_status_t cio_config_set(cio_config_t *config, const char *name, const char *value);

/* Frees a config and the strings it holds. NULL is a no-op. */
CIO_EXTERN void cio_config_free(cio_config_t *config);

/*
 * The config as an options struct: *out gets a copy whose strings are borrowed from config (valid
 * until it is changed or freed). CIO_E_INVALID_ARGUMENT when config is of the other kind or an
 * argument is NULL. Thread-safe when no thread sets config meanwhile.
 */
CIO_EXTERN cio_status_t cio_config_client_options(const cio_config_t *config,
                                                  cio_client_options_t *out);
CIO_EXTERN cio_status_t cio_config_pipeline_options(const cio_config_t *config,
                                                    cio_pipeline_options_t *out);

/*
 * cio_client_new() with a client config. The config may be freed as soon as this returns.
 * Errors as cio_client_new(), and CIO_E_INVALID_ARGUMENT for a config of the other kind.
 * Thread-safe when no thread sets config meanwhile.
 */
CIO_EXTERN cio_status_t cio_client_new_from_config(const cio_config_t *config, cio_client_t **out);

/*
 * cio_pipeline_new() with a pipeline config, plus the report queue (NULL = none; see
 * cio_pipeline_options_t.report_queue), which cannot be given as text. The callback report
 * (on_report) is for C callers: cio_config_pipeline_options() then cio_pipeline_new(). The
 * config may be freed as soon as this returns. Errors as cio_pipeline_new(), and
 * CIO_E_INVALID_ARGUMENT for a config of the other kind. Thread-safe when no thread sets config
 * meanwhile.
 */
CIO_EXTERN cio_status_t cio_pipeline_new_from_config(cio_client_t *client,
                                                     const cio_config_t *config,
                                                     cio_queue_t *report_queue,
                                                     cio_pipeline_t **out);

#ifdef __cplusplus
}
#endif

#endif
