/*
 * cli/commands.h - the subcommands of cio. Each takes the whole argv with argv[first] being its
 * first own argument, prints its help for --help, and returns the process exit status
 * (util.h: 0 all done, 1 something rejected or failed, 2 usage or configuration error).
 */
#ifndef CIO_CLI_COMMANDS_H
#define CIO_CLI_COMMANDS_H

int cmd_import(int argc, char **argv, int first);
int cmd_identify(int argc, char **argv, int first);
int cmd_track(int argc, char **argv, int first);
int cmd_send_email(int argc, char **argv, int first);
int cmd_get(int argc, char **argv, int first);
int cmd_webhook(int argc, char **argv, int first);
int cmd_mock(int argc, char **argv, int first);
int cmd_relay(int argc, char **argv, int first);
int cmd_worker(int argc, char **argv, int first);

/* Help texts, for --help and for cio-native --help-all (the man page). */
extern const char help_import[];
extern const char help_identify[];
extern const char help_track[];
extern const char help_send_email[];
extern const char help_get[];
extern const char help_webhook[];
extern const char help_mock[];
extern const char help_relay[];
extern const char help_worker[];

/* Prints a command's help followed by the common connection options. */
int print_help(const char *text, int with_config);

#endif
