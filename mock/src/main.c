/* cio-mock: runs the Customer.io API emulator as a standalone program. */
#include <malloc.h>
#include "cio_mock.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: cio-mock [--host ADDR] [--port N] [--site-id S] [--api-key K] [--app-api-key K]\n"
    "                [--cdp-api-key K] [--tls-cert FILE --tls-key FILE] [--port-file FILE]\n"
    "                [--max-requests N] [--max-log-bytes N] [--connection-timeout S] [--help]\n"
    "\n"
    "Serves an emulation of the Customer.io HTTP APIs until SIGINT or SIGTERM.\n"
    "  --host ADDR        address to bind (default 127.0.0.1)\n"
    "  --port N           port to bind; 0 picks a free one (default 0)\n"
    "  --site-id S        Track API site id (default $CUSTOMERIO_SITE_ID or test-site)\n"
    "  --api-key K        Track API key (default $CUSTOMERIO_API_KEY or test-key)\n"
    "  --app-api-key K    App API key (default $CUSTOMERIO_APP_API_KEY or test-app-key)\n"
    "  --cdp-api-key K    Pipelines API key (default $CUSTOMERIO_CDP_API_KEY or test-cdp-key)\n"
    "  --webhook-url URL  after each transactional send, POST signed reporting webhooks (sent,\n"
    "                     delivered) to URL (loopback only); needs --webhook-key\n"
    "  --webhook-key K    the webhook signing key\n"
    "  --tls-cert FILE    PEM certificate; with --tls-key, serve HTTPS\n"
    "  --tls-key FILE     PEM private key\n"
    "  --port-file FILE   write the port number to FILE once listening\n"
    "  --max-requests N   keep at most N requests in the log (GET /_mock/requests); the\n"
    "                     oldest are dropped and counted (GET /_mock/requests/stats)\n"
    "                     (default 100000)\n"
    "  --max-log-bytes N  ... and at most N bytes of bodies, paths and headers (default\n"
    "                     268435456, 256 MiB); read with POST /_mock/requests/drain to keep\n"
    "                     everything in a long run\n"
    "  --connection-timeout S  close a connection silent for S seconds (default 60)\n"
    "  --help             show this help\n";

enum { OPT_HELP = 1000 };

typedef struct cli {
    cio_mock_options_t options;
    const char *port_file;
} cli_t;

static const char *env_or_null(const char *name) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

static int parse_port(const char *text, unsigned short *out) {
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value > 65535 || text[0] == '-') {
        return -1;
    }
    *out = (unsigned short)value;
    return 0;
}

/* A whole number from 1 to max. */
static int parse_count(const char *text, unsigned long long max, unsigned long long *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value == 0 || value > max) {
        return -1;
    }
    *out = value;
    return 0;
}

/* Returns 0 to run, 1 when --help was shown, 2 on a usage error. */
static int parse_args(int argc, char **argv, cli_t *cli) {
    static const struct option long_options[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"site-id", required_argument, NULL, 's'},
        {"api-key", required_argument, NULL, 'k'},
        {"app-api-key", required_argument, NULL, 'a'},
        {"tls-cert", required_argument, NULL, 'c'},
        {"tls-key", required_argument, NULL, 'K'},
        {"port-file", required_argument, NULL, 'f'},
        {"webhook-url", required_argument, NULL, 'w'},
        {"webhook-key", required_argument, NULL, 'W'},
        {"cdp-api-key", required_argument, NULL, 'd'},
        {"max-requests", required_argument, NULL, 'n'},
        {"max-log-bytes", required_argument, NULL, 'b'},
        {"connection-timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    cio_mock_options_t defaults = CIO_MOCK_OPTIONS_INIT;
    cli->options = defaults;
    cli->options.site_id = env_or_null("CUSTOMERIO_SITE_ID");
    cli->options.api_key = env_or_null("CUSTOMERIO_API_KEY");
    cli->options.app_api_key = env_or_null("CUSTOMERIO_APP_API_KEY");
    cli->options.cdp_api_key = env_or_null("CUSTOMERIO_CDP_API_KEY");
    cli->port_file = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            cli->options.bind_addr = optarg;
            break;
        case 'p':
            if (parse_port(optarg, &cli->options.port) != 0) {
                fprintf(stderr, "cio-mock: invalid port '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            cli->options.site_id = optarg;
            break;
        case 'k':
            cli->options.api_key = optarg;
            break;
        case 'a':
            cli->options.app_api_key = optarg;
            break;
        case 'd':
            cli->options.cdp_api_key = optarg;
            break;
        case 'w':
            cli->options.webhook_url = optarg;
            break;
        case 'W':
            cli->options.webhook_signing_key = optarg;
            break;
        case 'c':
            cli->options.tls_cert_file = optarg;
            break;
        case 'K':
            cli->options.tls_key_file = optarg;
            break;
        case 'f':
            cli->port_file = optarg;
            break;
        case 'n':
        case 'b':
        case 't': {
            unsigned long long value = 0;
            if (parse_count(optarg, opt == 't' ? 86400 : SIZE_MAX, &value) != 0) {
                fprintf(stderr, "cio-mock: invalid value '%s' for --%s\n", optarg,
                        opt == 'n'   ? "max-requests"
                        : opt == 'b' ? "max-log-bytes"
                                     : "connection-timeout");
                return 2;
            }
            if (opt == 'n') {
                cli->options.max_logged_requests = (size_t)value;
            } else if (opt == 'b') {
                cli->options.max_logged_bytes = (size_t)value;
            } else {
                cli->options.connection_timeout_s = (unsigned int)value;
            }
            break;
        }
        case OPT_HELP:
            fputs(usage_text, stdout);
            return 1;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cio-mock: unexpected argument '%s'\n%s", argv[optind], usage_text);
        return 2;
    }
    return 0;
}

/* Written to a new temporary file (mkstemp: exclusive, 0600, no symlink followed) and renamed,
 * so a reader never sees a partial file. */
static int write_port_file(const char *path, unsigned short port) {
    size_t len = strlen(path) + 8;
    char *tmp = malloc(len);
    if (tmp == NULL) {
        return -1;
    }
    snprintf(tmp, len, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = -1;
    if (f != NULL) {
        int printed = fprintf(f, "%u\n", (unsigned int)port);
        int closed = fclose(f);
        rc = (printed > 0 && closed == 0 && rename(tmp, path) == 0) ? 0 : -1;
    } else if (fd >= 0) {
        close(fd);
    }
    if (rc != 0) {
        fprintf(stderr, "cio-mock: cannot write port file %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            remove(tmp);
        }
    }
    free(tmp);
    return rc;
}

int main(int argc, char **argv) {
    /* Batch bodies are ~500 KB each, parsed into trees and freed a few ms later on the server's
     * threads: without this, glibc hands that memory back to the kernel and faults it in again
     * for every request, which costs the emulator more than parsing does. */
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024); /* glibc's maximum */
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
    cli_t cli;
    int parsed = parse_args(argc, argv, &cli);
    if (parsed != 0) {
        return parsed == 1 ? 0 : 2;
    }
    /* Block the stop signals before any thread starts, so only sigwait below sees them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    cio_mock_t *mock = NULL;
    char err[256] = "";
    if (cio_mock_start(&cli.options, &mock, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-mock: %s\n", err);
        return 1;
    }
    printf("cio-mock listening on %s\n", cio_mock_base_url(mock));
    fflush(stdout);
    if (cli.port_file != NULL && write_port_file(cli.port_file, cio_mock_port(mock)) != 0) {
        cio_mock_stop(mock);
        return 1;
    }
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    cio_mock_stop(mock);
    return 0;
}
