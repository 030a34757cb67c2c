/*
 * cio-native: the Customer.io command line. Dispatches to one subcommand per file (cmd_*.c).
 */
#include "commands.h"
#include "config.h"
#include "util.h"

#include <customerio/customerio.h>

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static const char help_main[] =
    "Usage: cio-native COMMAND [OPTIONS] [ARGUMENTS]\n"
    "The Customer.io command line: bulk imports with a schema, one-off calls for scripts,\n"
    "webhook checks, and a local emulator of the Customer.io APIs for development.\n"
    "\n"
    "Commands:\n"
    "  import FILE...                  import people and events from JSON Lines or CSV, with\n"
    "                                  a schema, progress, and a report of rejected records\n"
    "  identify ID [KEY=VALUE...]      create or update a person\n"
    "  track ID EVENT [KEY=VALUE...]   send an event for a person\n"
    "  send-email [OPTIONS]            send a transactional email\n"
    "  get ID                          read a person's attributes\n"
    "  webhook verify|listen           check a webhook signature, or receive webhooks\n"
    "  mock                            run the Customer.io emulator as a development server\n"
    "  relay --tokens FILE             a collection endpoint holding the keys: apps send with\n"
    "                                  tokens of yours, calls are queued and delivered\n"
    "  worker                          drain the shared Redis queue to Customer.io\n"
    "  help [COMMAND]                  show the help of a command\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n"
    "  --help-all       show the help of every command\n"
    "\n"
    "Every command takes --help and the connection options (--config, --site-id, --api-key,\n"
    "--app-api-key, --region, --track-url, --app-url, --timeout, --max-attempts), which\n"
    "default to the CUSTOMERIO_* environment variables.\n"
    "Exit status: 0 when everything was done, 1 when some records or a call failed (or a\n"
    "signature is bad), 2 for usage or configuration errors.\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv, int first);
    const char *help;
    int with_config;
} command_t;

static const command_t commands[] = {
    {"import", cmd_import, help_import, 1}, {"identify", cmd_identify, help_identify, 1},
    {"track", cmd_track, help_track, 1},    {"send-email", cmd_send_email, help_send_email, 1},
    {"get", cmd_get, help_get, 1},          {"webhook", cmd_webhook, help_webhook, 0},
    {"mock", cmd_mock, help_mock, 1},       {"relay", cmd_relay, help_relay, 1},
    {"worker", cmd_worker, help_worker, 1},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int print_help(const char *text, int with_config) {
    fputs(text, stdout);
    if (with_config) {
        fputc('\n', stdout);
        fputs(config_help, stdout);
    }
    return EXIT_ALL_OK;
}

static const command_t *find(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Every help text, for the man page (help2man --help-option=--help-all). */
static int help_all(void) {
    fputs(help_main, stdout);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        /* "Command NAME:" and an indented synopsis, then the text, "Options of NAME:" */
        const char *text = commands[i].help;
        printf("\nCommand %s:\n", commands[i].name);
        for (const char *line = text, *end; *line != '\0'; line = end + (*end != '\0')) {
            end = strchr(line, '\n');
            if (end == NULL) {
                end = line + strlen(line);
            }
            int len = (int)(end - line);
            if (strncmp(line, "Usage: ", 7) == 0) {
                printf("  %.*s\n", len - 7, line + 7);
            } else if (len == 8 && strncmp(line, "Options:", 8) == 0) {
                printf("Options of %s:\n", commands[i].name);
            } else {
                printf("%.*s\n", len, line);
            }
        }
    }
    printf("\n");
    fputs(config_help, stdout);
    return EXIT_ALL_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(help_main, stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        fputs(help_main, stdout);
        return EXIT_ALL_OK;
    }
    if (strcmp(name, "--help-all") == 0) {
        return help_all();
    }
    if (strcmp(name, "--version") == 0) {
        printf("cio-native %s (customerio-native, libcustomerio %s)\n", CIO_VERSION_STRING,
               cio_version());
        return EXIT_ALL_OK;
    }
    if (strcmp(name, "help") == 0) {
        const command_t *c = argc > 2 ? find(argv[2]) : NULL;
        if (argc > 2 && c == NULL) {
            fprintf(stderr, "cio-native: unknown command '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        return c != NULL ? print_help(c->help, c->with_config) : (fputs(help_main, stdout), 0);
    }
    const command_t *c = find(name);
    if (c == NULL) {
        fprintf(stderr, "cio-native: unknown command '%s'\nTry 'cio-native --help'.\n", name);
        return EXIT_USAGE;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = c->run(argc, argv, 2);
    fflush(stdout);
    curl_global_cleanup();
    return rc;
}
