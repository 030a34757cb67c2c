/* Configuration: flags, then CUSTOMERIO_* variables, then a "key = value" or JSON file. */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct key_info {
    const char *file_key; /* in the configuration file */
    const char *env;      /* environment variable */
    const char *flag;     /* command-line option */
} key_info_t;

static const key_info_t keys[CFG_N] = {
    [CFG_SITE_ID] = {"site_id", "CUSTOMERIO_SITE_ID", "site-id"},
    [CFG_API_KEY] = {"api_key", "CUSTOMERIO_API_KEY", "api-key"},
    [CFG_APP_API_KEY] = {"app_api_key", "CUSTOMERIO_APP_API_KEY", "app-api-key"},
    [CFG_REGION] = {"region", "CUSTOMERIO_REGION", "region"},
    [CFG_TRACK_URL] = {"track_url", "CUSTOMERIO_TRACK_URL", "track-url"},
    [CFG_APP_URL] = {"app_url", "CUSTOMERIO_APP_URL", "app-url"},
    [CFG_TIMEOUT] = {"timeout", "CUSTOMERIO_TIMEOUT", "timeout"},
    [CFG_MAX_ATTEMPTS] = {"max_attempts", "CUSTOMERIO_MAX_ATTEMPTS", "max-attempts"},
    [CFG_WEBHOOK_KEY] = {"webhook_signing_key", "CUSTOMERIO_WEBHOOK_SIGNING_KEY",
                         "webhook-signing-key"},
};

const cli_opt_t config_options[] = {
    {"help", 0, OPT_HELP},
    {"config", 1, OPT_CONFIG},
    {"site-id", 1, OPT_CFG_FIRST + CFG_SITE_ID},
    {"api-key", 1, OPT_CFG_FIRST + CFG_API_KEY},
    {"app-api-key", 1, OPT_CFG_FIRST + CFG_APP_API_KEY},
    {"region", 1, OPT_CFG_FIRST + CFG_REGION},
    {"track-url", 1, OPT_CFG_FIRST + CFG_TRACK_URL},
    {"app-url", 1, OPT_CFG_FIRST + CFG_APP_URL},
    {"timeout", 1, OPT_CFG_FIRST + CFG_TIMEOUT},
    {"max-attempts", 1, OPT_CFG_FIRST + CFG_MAX_ATTEMPTS},
    {NULL, 0, 0},
};

const char config_help[] =
    "Connection options:\n"
    "  --config FILE        configuration file: \"key = value\" lines or one JSON object, keys\n"
    "                       site_id, api_key, app_api_key, region, track_url, app_url,\n"
    "                       timeout, max_attempts, webhook_signing_key ($CUSTOMERIO_CONFIG;\n"
    "                       at most 1 MiB)\n"
    "  --site-id ID         Track API site id ($CUSTOMERIO_SITE_ID)\n"
    "  --api-key KEY        Track API key ($CUSTOMERIO_API_KEY)\n"
    "  --app-api-key KEY    App API key ($CUSTOMERIO_APP_API_KEY)\n"
    "  --region us|eu       the workspace's region ($CUSTOMERIO_REGION; default us)\n"
    "  --track-url URL      Track API base URL instead of the region's, e.g. the emulator's\n"
    "                       http://127.0.0.1:8080 ($CUSTOMERIO_TRACK_URL)\n"
    "  --app-url URL        App API base URL instead of the region's ($CUSTOMERIO_APP_URL)\n"
    "  --timeout SECONDS    per HTTP attempt (default 10; $CUSTOMERIO_TIMEOUT)\n"
    "  --max-attempts N     attempts per request, retries included (default 4;\n"
    "                       $CUSTOMERIO_MAX_ATTEMPTS)\n"
    "  -h, --help           show the help and exit\n"
    "\n"
    "A flag beats the CUSTOMERIO_* variable, which beats the configuration file. Keys given\n"
    "on the command line are visible to other local users (ps): prefer the environment or a\n"
    "configuration file readable only by you.\n";

int config_option(cli_config_t *cfg, int id, const char *value) {
    if (id == OPT_CONFIG) {
        cfg->config_path = value;
        return 1;
    }
    if (id >= OPT_CFG_FIRST && id < OPT_CFG_FIRST + CFG_N) {
        cfg->flag[id - OPT_CFG_FIRST] = value;
        return 1;
    }
    return 0;
}

static int key_index(const char *name) {
    for (int k = 0; k < CFG_N; k++) {
        if (strcmp(name, keys[k].file_key) == 0 || strcmp(name, keys[k].flag) == 0) {
            return k;
        }
    }
    return -1;
}

static void set_from_file(cli_config_t *cfg, int k, const char *value) {
    if (cfg->value[k] == NULL) {
        cfg->value[k] = xstrdup(value);
        cfg->source[k] = "config file";
    }
}

static int load_json(cli_config_t *cfg, const char *cmd, const char *path, const char *text) {
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!json_is_object(root)) {
        fprintf(stderr, "cio-native %s: %s: not a JSON object (line %d: %s)\n", cmd, path,
                error.line, root == NULL ? error.text : "not an object");
        json_decref(root);
        return EXIT_USAGE;
    }
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v) {
        int k = key_index(name);
        if (k < 0) {
            fprintf(stderr, "cio-native %s: %s: unknown key '%s'\n", cmd, path, name);
            json_decref(root);
            return EXIT_USAGE;
        }
        if (json_is_string(v)) {
            set_from_file(cfg, k, json_string_value(v));
        } else if (json_is_number(v)) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%g", json_number_value(v));
            set_from_file(cfg, k, buf);
        } else {
            fprintf(stderr, "cio-native %s: %s: '%s' must be a string or a number\n", cmd, path,
                    name);
            json_decref(root);
            return EXIT_USAGE;
        }
    }
    json_decref(root);
    return 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static int load_lines(cli_config_t *cfg, const char *cmd, const char *path, char *text) {
    int line_no = 0;
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        line_no++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "cio-native %s: %s:%d: expected key = value\n", cmd, path, line_no);
            return EXIT_USAGE;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
            value[vlen - 1] = '\0';
            value++;
        }
        int k = key_index(key);
        if (k < 0) {
            fprintf(stderr, "cio-native %s: %s:%d: unknown key '%s'\n", cmd, path, line_no, key);
            return EXIT_USAGE;
        }
        set_from_file(cfg, k, value);
    }
    return 0;
}

int config_resolve(cli_config_t *cfg, const char *cmd) {
    for (int k = 0; k < CFG_N; k++) {
        const char *env = getenv(keys[k].env);
        if (cfg->flag[k] != NULL) {
            cfg->value[k] = xstrdup(cfg->flag[k]);
            cfg->source[k] = "flag";
        } else if (env != NULL && env[0] != '\0') {
            cfg->value[k] = xstrdup(env);
            cfg->source[k] = "environment";
        }
    }
    const char *path = cfg->config_path;
    if (path == NULL) {
        const char *env = getenv("CUSTOMERIO_CONFIG");
        path = env != NULL && env[0] != '\0' ? env : NULL;
    }
    if (path == NULL) {
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    if (read_file_max(path, CLI_MAX_CONFIG_BYTES, &text, &len) != 0) {
        char why[64];
        fprintf(stderr, "cio-native %s: cannot read the configuration file %s: %s\n", cmd, path,
                read_error(errno, CLI_MAX_CONFIG_BYTES, why, sizeof(why)));
        return EXIT_USAGE;
    }
    long nul = nul_offset(text, len);
    if (nul >= 0) {
        /* a key cut at a NUL would be used silently: refuse the file */
        fprintf(stderr,
                "cio-native %s: %s: a NUL byte at offset %ld (a configuration file is text)\n", cmd,
                path, nul);
        free(text);
        return EXIT_USAGE;
    }
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    int rc = *p == '{' ? load_json(cfg, cmd, path, text) : load_lines(cfg, cmd, path, text);
    free(text);
    return rc;
}

const char *config_get(const cli_config_t *cfg, cfg_key_t key) {
    return cfg->value[key];
}

int config_client(const cli_config_t *cfg, const char *cmd, cio_client_t **out) {
    return config_client_cdp(cfg, cmd, NULL, NULL, out);
}

int config_client_cdp(const cli_config_t *cfg, const char *cmd, const char *cdp_api_key,
                      const char *cdp_url, cio_client_t **out) {
    cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
    opts.ignore_env = 1; /* resolved here, with flags and the file taken into account */
    opts.cdp_api_key = cdp_api_key;
    opts.cdp_url = cdp_url;
    opts.site_id = cfg->value[CFG_SITE_ID];
    opts.api_key = cfg->value[CFG_API_KEY];
    opts.app_api_key = cfg->value[CFG_APP_API_KEY];
    opts.track_url = cfg->value[CFG_TRACK_URL];
    opts.app_url = cfg->value[CFG_APP_URL];
    if (cfg->value[CFG_REGION] != NULL &&
        cio_region_parse(cfg->value[CFG_REGION], &opts.region) != CIO_OK) {
        fprintf(stderr, "cio-native %s: unknown region '%s' (from the %s): expected us or eu\n",
                cmd, cfg->value[CFG_REGION], cfg->source[CFG_REGION]);
        return EXIT_USAGE;
    }
    if (cfg->value[CFG_TIMEOUT] != NULL) {
        double seconds;
        if (args_number(cfg->value[CFG_TIMEOUT], &seconds, true) != 0 || seconds <= 0 ||
            seconds > 86400) {
            fprintf(stderr, "cio-native %s: timeout must be a number of seconds (got '%s')\n", cmd,
                    cfg->value[CFG_TIMEOUT]);
            return EXIT_USAGE;
        }
        opts.timeout_ms = (long)ceil(seconds * 1000);
    }
    if (cfg->value[CFG_MAX_ATTEMPTS] != NULL) {
        double n;
        if (args_number(cfg->value[CFG_MAX_ATTEMPTS], &n, false) != 0 || n < 1 || n > 100) {
            fprintf(stderr, "cio-native %s: max_attempts must be 1 to 100 (got '%s')\n", cmd,
                    cfg->value[CFG_MAX_ATTEMPTS]);
            return EXIT_USAGE;
        }
        opts.max_attempts = (int)n;
    }
    char ua[64];
    snprintf(ua, sizeof(ua), "cio/%s (customerio-native)", cio_version());
    opts.user_agent = ua;
    if (cio_client_new(&opts, out) != CIO_OK) {
        fprintf(stderr, "cio-native %s: %s\n", cmd, cio_last_error()->message);
        return EXIT_USAGE;
    }
    return 0;
}

void config_free(cli_config_t *cfg) {
    for (int k = 0; k < CFG_N; k++) {
        free(cfg->value[k]);
        cfg->value[k] = NULL;
    }
}
