/*
 * cli/config.h - where the cio-native command gets its credentials and endpoints: a command-line
 * flag first, then the CUSTOMERIO_* environment variable, then the configuration file (--config
 * FILE or $CUSTOMERIO_CONFIG: "key = value" lines, or one JSON object).
 */
#ifndef CIO_CLI_CONFIG_H
#define CIO_CLI_CONFIG_H

#include "args.h"

#include <customerio/customerio.h>
#include <stdio.h>

typedef enum cfg_key {
    CFG_SITE_ID,
    CFG_API_KEY,
    CFG_APP_API_KEY,
    CFG_REGION,
    CFG_TRACK_URL,
    CFG_APP_URL,
    CFG_TIMEOUT,
    CFG_MAX_ATTEMPTS,
    CFG_WEBHOOK_KEY,
    CFG_N
} cfg_key_t;

/* Option ids of the common options (1..19); subcommands use ids from 100 on. */
enum {
    OPT_HELP = 1,
    OPT_CONFIG = 2,
    OPT_CFG_FIRST = 3 /* OPT_CFG_FIRST + cfg_key: --site-id, --api-key, ... */
};

/* The common options, for args_next. */
extern const cli_opt_t config_options[];

typedef struct cli_config {
    const char *config_path;   /* --config (borrowed) */
    const char *flag[CFG_N];   /* values given as flags (borrowed) */
    char *value[CFG_N];        /* resolved (owned) */
    const char *source[CFG_N]; /* "flag", "environment", "config file" or NULL */
} cli_config_t;

/* Records a common option parsed by args_next; returns 1 when id was one, 0 otherwise. */
int config_option(cli_config_t *cfg, int id, const char *value);

/* Resolves every key (flag, environment, file). 0, or EXIT_USAGE after printing why. */
int config_resolve(cli_config_t *cfg, const char *cmd);

/* The resolved value of key, or NULL. */
const char *config_get(const cli_config_t *cfg, cfg_key_t key);

/*
 * Makes a client from the resolved configuration (the environment is not read again by the
 * library). 0, or EXIT_USAGE after printing the library's message.
 */
int config_client(const cli_config_t *cfg, const char *cmd, cio_client_t **out);
/* The same, with a Pipelines API key and base URL (NULL = none, the region's host). */
int config_client_cdp(const cli_config_t *cfg, const char *cmd, const char *cdp_api_key,
                      const char *cdp_url, cio_client_t **out);

void config_free(cli_config_t *cfg);

/* The help text of the common options. */
extern const char config_help[];

#endif
