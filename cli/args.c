/* The option parser shared by every subcommand. */
#include "args.h"

#include "config.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void args_init(cli_args_t *a, const char *cmd, int argc, char **argv, int first) {
    a->argc = argc;
    a->argv = argv;
    a->i = first;
    a->only_positional = false;
    a->cmd = cmd;
}

int args_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cio-native %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'cio-native %s --help'.\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

static const cli_opt_t *find(const cli_opt_t *table, const char *name, size_t len) {
    for (; table != NULL && table->name != NULL; table++) {
        if (strlen(table->name) == len && strncmp(table->name, name, len) == 0) {
            return table;
        }
    }
    return NULL;
}

int args_next(cli_args_t *a, const cli_opt_t *table, const char **value) {
    *value = NULL;
    if (a->i >= a->argc) {
        return ARG_END;
    }
    const char *arg = a->argv[a->i++];
    if (a->only_positional || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->only_positional = true;
        return args_next(a, table, value);
    }
    if (strcmp(arg, "-h") == 0) {
        return OPT_HELP;
    }
    if (arg[1] != '-') {
        args_usage_error(a->cmd, "unknown option '%s'", arg);
        return ARG_ERROR;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const cli_opt_t *opt = find(table, name, len);
    if (opt == NULL) {
        opt = find(config_options, name, len);
    }
    if (opt == NULL) {
        args_usage_error(a->cmd, "unknown option '--%.*s'", (int)len, name);
        return ARG_ERROR;
    }
    if (!opt->takes_value) {
        if (eq != NULL) {
            args_usage_error(a->cmd, "option '--%s' takes no value", opt->name);
            return ARG_ERROR;
        }
        return opt->id;
    }
    if (eq != NULL) {
        *value = eq + 1;
    } else if (a->i < a->argc) {
        *value = a->argv[a->i++];
    } else {
        args_usage_error(a->cmd, "option '--%s' needs a value", opt->name);
        return ARG_ERROR;
    }
    return opt->id;
}

int args_number(const char *text, double *out, bool allow_fraction) {
    const char *p = text;
    if (!isdigit((unsigned char)*p)) {
        return -1;
    }
    while (isdigit((unsigned char)*p)) {
        p++;
    }
    if (*p == '.' && allow_fraction) {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p != '\0') {
        return -1;
    }
    *out = strtod(text, NULL);
    return 0;
}
