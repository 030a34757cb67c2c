/*
 * cli/args.h - the command-line parser every subcommand uses: long options ("--name value" or
 * "--name=value"), "-h" for --help, "--" to end options, "-" as an ordinary argument, options
 * and arguments in any order. Messages name the subcommand: "cio-native import: unknown option
 * '--shema'".
 */
#ifndef CIO_CLI_ARGS_H
#define CIO_CLI_ARGS_H

#include <stdbool.h>

typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    int takes_value;  /* 1 = needs a value */
    int id;           /* returned by args_next (> 0) */
} cli_opt_t;

enum { ARG_END = 0, ARG_POSITIONAL = -1, ARG_ERROR = -2 };

typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    bool only_positional;
    const char *cmd; /* "import", "webhook listen", ... for messages */
} cli_args_t;

/* Parsing starts at argv[first]. */
void args_init(cli_args_t *a, const char *cmd, int argc, char **argv, int first);

/*
 * The next option's id with *value set (or NULL for a flag), ARG_POSITIONAL with *value the
 * argument, ARG_END, or ARG_ERROR after printing why. Looks the option up in table (terminated
 * by a NULL name) and then in the common connection options (config.h).
 */
int args_next(cli_args_t *a, const cli_opt_t *table, const char **value);

/* Prints "cio-native CMD: message" and the hint to see --help; returns EXIT_USAGE. */
int args_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a non-negative decimal number (with an optional fraction when allow_fraction). */
int args_number(const char *text, double *out, bool allow_fraction);

#endif
