/*
 * cio-native mock: the Customer.io emulator (the ciomock library, mock/) as a development server,
 * with latency and failure injection set up through its fault rules, and --state persistence by
 * saving and replaying its request log.
 */
#include "commands.h"
#include "config.h"
#include "mock_control.h"
#include "util.h"

#include <cio_mock.h>

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

const char help_mock[] =
    "Usage: cio-native mock [OPTIONS]\n"
    "Runs the local Customer.io emulator (Track v1 and v2, App API, reporting webhooks; its\n"
    "control endpoints under /_mock are described in mock/README.md) until SIGINT or SIGTERM.\n"
    "Prints \"cio-native mock listening on URL\"; point clients at URL (cio-native --track-url URL "
    "--app-url\n"
    "URL). It accepts the credentials of the connection options (or CUSTOMERIO_* variables;\n"
    "else test-site, test-key, test-app-key), and on /v1 (the Pipelines API) the key in\n"
    "CUSTOMERIO_CDP_API_KEY (else test-cdp-key).\n"
    "\n"
    "Options:\n"
    "  --host ADDR          address to bind (default 127.0.0.1)\n"
    "  --port N             port (default 0: a free one)\n"
    "  --port-file FILE     write the port number there once listening\n"
    "  --webhook-url URL    after each transactional send, POST signed reporting webhooks\n"
    "                       (sent, delivered) to URL (127.0.0.1/localhost only)\n"
    "  --webhook-key KEY    the signing key for them (needed with --webhook-url)\n"
    "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
    "  --state FILE         keep the emulated workspace across runs: on exit the request log\n"
    "                       (requests answered 2xx, without credentials) is saved to FILE as\n"
    "                       JSON; on start the saved requests are replayed, which rebuilds\n"
    "                       people, deliveries and segments\n"
    "  --latency MS         delay every API response by MS milliseconds\n"
    "  --fail-next N        answer the next N API requests with an error (see --fail-status)\n"
    "  --fail-status CODE   the status of those failures (default 503)\n"
    "  --fail-retry-after S the Retry-After header sent with them\n"
    "  --fail-rate R        fail that share (0 to 1) of API requests at random, with\n"
    "                       --fail-status (default 503)\n"
    "  --rate-limit N       answer 429 with Retry-After: 1 beyond N API requests a second\n"
    "  --max-requests N     keep at most N requests in the request log (default 100000); the\n"
    "                       oldest are dropped and counted (GET /_mock/requests/stats)\n"
    "  --max-log-bytes N    ... and at most N bytes of their bodies, paths and headers\n"
    "                       (default 268435456, 256 MiB); --state saves only what is kept\n"
    "  --connection-timeout S  close a connection silent for S seconds (default 60)\n";

enum {
    O_HOST = 100,
    O_PORT,
    O_PORT_FILE,
    O_TLS_CERT,
    O_TLS_KEY,
    O_STATE,
    O_WEBHOOK_URL,
    O_WEBHOOK_KEY,
    O_LATENCY,
    O_FAIL_NEXT,
    O_FAIL_STATUS,
    O_FAIL_RETRY_AFTER,
    O_FAIL_RATE,
    O_RATE_LIMIT,
    O_MAX_REQUESTS,
    O_MAX_LOG_BYTES,
    O_CONNECTION_TIMEOUT
};

static const cli_opt_t mock_options[] = {{"host", 1, O_HOST},
                                         {"port", 1, O_PORT},
                                         {"port-file", 1, O_PORT_FILE},
                                         {"tls-cert", 1, O_TLS_CERT},
                                         {"tls-key", 1, O_TLS_KEY},
                                         {"state", 1, O_STATE},
                                         {"webhook-url", 1, O_WEBHOOK_URL},
                                         {"webhook-key", 1, O_WEBHOOK_KEY},
                                         {"latency", 1, O_LATENCY},
                                         {"fail-next", 1, O_FAIL_NEXT},
                                         {"fail-status", 1, O_FAIL_STATUS},
                                         {"fail-retry-after", 1, O_FAIL_RETRY_AFTER},
                                         {"fail-rate", 1, O_FAIL_RATE},
                                         {"rate-limit", 1, O_RATE_LIMIT},
                                         {"max-requests", 1, O_MAX_REQUESTS},
                                         {"max-log-bytes", 1, O_MAX_LOG_BYTES},
                                         {"connection-timeout", 1, O_CONNECTION_TIMEOUT},
                                         {NULL, 0, 0}};

typedef struct mock_opts {
    cio_mock_options_t mo;
    const char *port_file, *state;
    double latency, fail_next, fail_status, retry_after, fail_rate, rate_limit;
    bool has_retry_after;
} mock_opts_t;

static int parse(mock_opts_t *o, cli_config_t *cfg, int argc, char **argv, int first) {
    cli_args_t a;
    args_init(&a, "mock", argc, argv, first);
    o->fail_status = 503;
    const char *v;
    int id;
    double d;
    while ((id = args_next(&a, mock_options, &v)) != ARG_END) {
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case ARG_POSITIONAL:
            return args_usage_error("mock", "unexpected argument '%s'", v);
        case OPT_HELP:
            return print_help(help_mock, 1);
        case O_HOST:
            o->mo.bind_addr = v;
            break;
        case O_PORT:
            if (args_number(v, &d, false) != 0 || d > 65535) {
                return args_usage_error("mock", "--port must be 0 to 65535");
            }
            o->mo.port = (unsigned short)d;
            break;
        case O_PORT_FILE:
            o->port_file = v;
            break;
        case O_TLS_CERT:
            o->mo.tls_cert_file = v;
            break;
        case O_TLS_KEY:
            o->mo.tls_key_file = v;
            break;
        case O_STATE:
            o->state = v;
            break;
        case O_WEBHOOK_URL:
            o->mo.webhook_url = v;
            break;
        case O_WEBHOOK_KEY:
            o->mo.webhook_signing_key = v;
            break;
        case O_LATENCY:
            if (args_number(v, &o->latency, false) != 0 || o->latency > 600000) {
                return args_usage_error("mock", "--latency must be 0 to 600000 milliseconds");
            }
            break;
        case O_FAIL_NEXT:
            if (args_number(v, &o->fail_next, false) != 0 || o->fail_next > 1e9) {
                return args_usage_error("mock", "--fail-next must be a count");
            }
            break;
        case O_FAIL_STATUS:
            if (args_number(v, &o->fail_status, false) != 0 || o->fail_status < 200 ||
                o->fail_status > 599) {
                return args_usage_error("mock", "--fail-status must be 200 to 599");
            }
            break;
        case O_FAIL_RETRY_AFTER:
            if (args_number(v, &o->retry_after, false) != 0) {
                return args_usage_error("mock", "--fail-retry-after must be whole seconds");
            }
            o->has_retry_after = true;
            break;
        case O_FAIL_RATE:
            if (args_number(v, &o->fail_rate, true) != 0 || o->fail_rate < 0 || o->fail_rate > 1) {
                return args_usage_error("mock", "--fail-rate must be between 0 and 1");
            }
            break;
        case O_RATE_LIMIT:
            if (args_number(v, &o->rate_limit, true) != 0 || o->rate_limit <= 0) {
                return args_usage_error("mock", "--rate-limit must be a positive number");
            }
            break;
        case O_MAX_REQUESTS:
        case O_MAX_LOG_BYTES:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 1e15) {
                return args_usage_error("mock", "--%s must be a whole number >= 1",
                                        id == O_MAX_REQUESTS ? "max-requests" : "max-log-bytes");
            }
            *(id == O_MAX_REQUESTS ? &o->mo.max_logged_requests : &o->mo.max_logged_bytes) =
                (size_t)d;
            break;
        case O_CONNECTION_TIMEOUT:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 86400) {
                return args_usage_error("mock", "--connection-timeout must be 1 to 86400 seconds");
            }
            o->mo.connection_timeout_s = (unsigned)d;
            break;
        default:
            config_option(cfg, id, v);
        }
    }
    return -1;
}

/* Fault rules at start-up: failures first (they apply to the next requests), then latency. */
static int add_faults(const mock_opts_t *o, const char *base, char *err, size_t errlen) {
    char rule[256];
    if (o->fail_next > 0) {
        char ra[64] = "";
        if (o->has_retry_after) {
            snprintf(ra, sizeof(ra), ",\"retry_after\":\"%.0f\"", o->retry_after);
        }
        snprintf(rule, sizeof(rule), "{\"count\":%.0f,\"status\":%.0f%s}", o->fail_next,
                 o->fail_status, ra);
        if (mock_add_fault(base, rule, err, errlen) != 0) {
            return -1;
        }
    }
    if (o->fail_rate > 0 || o->rate_limit > 0) {
        snprintf(rule, sizeof(rule), "{\"fail_rate\":%g,\"fail_status\":%.0f,\"rate_limit\":%g}",
                 o->fail_rate, o->fail_status, o->rate_limit);
        if (mock_set_config(base, rule, err, errlen) != 0) {
            return -1;
        }
    }
    if (o->latency > 0) {
        /* status 0: handled normally after the delay; the largest count the emulator takes */
        snprintf(rule, sizeof(rule), "{\"count\":1000000000,\"status\":0,\"delay_ms\":%.0f}",
                 o->latency);
        if (mock_add_fault(base, rule, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

int cmd_mock(int argc, char **argv, int first) {
    mock_opts_t o = {.mo = CIO_MOCK_OPTIONS_INIT};
    cli_config_t cfg = {0};
    int rc = parse(&o, &cfg, argc, argv, first);
    if (rc < 0) {
        rc = config_resolve(&cfg, "mock");
    } else if (rc == 0) {
        rc = -1; /* --help was shown */
    }
    if (rc != 0) {
        config_free(&cfg);
        return rc < 0 ? EXIT_ALL_OK : rc;
    }
    o.mo.site_id = config_get(&cfg, CFG_SITE_ID);
    o.mo.api_key = config_get(&cfg, CFG_API_KEY);
    o.mo.app_api_key = config_get(&cfg, CFG_APP_API_KEY);
    /* the Pipelines API key is not one of the CLI's connection options: its variable only */
    const char *cdp_key = getenv("CUSTOMERIO_CDP_API_KEY");
    o.mo.cdp_api_key = cdp_key != NULL && *cdp_key != '\0' ? cdp_key : NULL;

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    cio_mock_t *mock = NULL;
    char err[400] = "";
    if (cio_mock_start(&o.mo, &mock, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-native mock: %s\n", err);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    const char *base = cio_mock_base_url(mock);
    mock_credentials_t creds = {o.mo.site_id != NULL ? o.mo.site_id : "test-site",
                                o.mo.api_key != NULL ? o.mo.api_key : "test-key",
                                o.mo.app_api_key != NULL ? o.mo.app_api_key : "test-app-key",
                                o.mo.cdp_api_key != NULL ? o.mo.cdp_api_key : "test-cdp-key"};
    size_t n = 0;
    if (o.state != NULL) {
        if (mock_state_load(base, o.state, &creds, &n, err, sizeof(err)) != 0) {
            fprintf(stderr, "cio-native mock: --state: %s\n", err);
            rc = EXIT_USAGE;
        } else if (n > 0) {
            fprintf(stderr, "cio-native mock: replayed %zu requests from %s\n", n, o.state);
        }
    }
    if (rc == 0 && add_faults(&o, base, err, sizeof(err)) != 0) {
        fprintf(stderr, "cio-native mock: %s\n", err);
        rc = EXIT_USAGE;
    }
    if (rc == 0 && o.port_file != NULL && write_port_file(o.port_file, cio_mock_port(mock)) != 0) {
        fprintf(stderr, "cio-native mock: cannot write %s\n", o.port_file);
        rc = EXIT_USAGE;
    }
    if (rc == 0) {
        printf("cio-native mock listening on %s\n", base);
        fflush(stdout);
        int sig = 0;
        while (sigwait(&stop, &sig) != 0) {
        }
        if (o.state != NULL) {
            uint64_t dropped = 0;
            if (mock_state_save(base, o.state, &creds, &n, &dropped, err, sizeof(err)) != 0) {
                fprintf(stderr, "cio-native mock: --state: %s\n", err);
                rc = EXIT_PARTIAL;
            } else {
                fprintf(stderr, "cio-native mock: saved %zu requests to %s\n", n, o.state);
            }
            if (dropped > 0) {
                fprintf(stderr,
                        "cio-native mock: --state: the request log had dropped its %llu oldest "
                        "requests "
                        "(--max-requests, --max-log-bytes): the saved state lacks them\n",
                        (unsigned long long)dropped);
                rc = EXIT_PARTIAL;
            }
        }
    }
    cio_mock_stop(mock);
    config_free(&cfg);
    return rc;
}
