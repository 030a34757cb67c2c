/*
 * cio-native worker: drains the shared Redis queue of issue 18 (customerio/redis.h) to
 * Customer.io until SIGINT or SIGTERM; --stats prints the queue's numbers; `dead-letters
 * list|retry|drop` reads and moves what Customer.io refused.
 */
#include "commands.h"
#include "config.h"
#include "util.h"

#include <customerio/customerio.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char help_worker[] =
    "Usage: cio-native worker [--redis URL] [OPTIONS]\n"
    "       cio-native worker --stats [--redis URL]\n"
    "       cio-native worker dead-letters list|retry|drop [--id ID] [--count N] [--redis URL]\n"
    "Sends what producers put in the shared Redis queue (pipelines with redis_url) to\n"
    "Customer.io, until SIGINT or SIGTERM: reads with a consumer group, sends batches like a\n"
    "pipeline, acknowledges each operation after its delivery report, claims the operations of\n"
    "dead workers, and moves what Customer.io refuses to the dead letters. Run as many as you\n"
    "like, on any hosts.\n"
    "\n"
    "Options:\n"
    "  --redis URL          redis://[user:password@]host[:port][/db] or rediss:// (TLS);\n"
    "                       default CIO_REDIS_URL (keeps the password off the command line)\n"
    "  --group NAME         consumer group (default cio-workers)\n"
    "  --consumer NAME      this worker's name (default host-pid-random)\n"
    "  --claim-idle-ms N    claim what another worker left pending this long (default 60000)\n"
    "  --rate N             requests per second for the whole fleet of senders (default\n"
    "                       Customer.io's limit: Track 100/s)\n"
    "  --senders N          how many workers share it: while Redis is unreachable each sends\n"
    "                       at most rate / N (default 1)\n"
    "  --pipelines          serve the Pipelines API queue (analytics clients with redis_url)\n"
    "                       instead of the Track API's; needs the Pipelines API key\n"
    "  --cdp-api-key KEY    the Pipelines API key ($CUSTOMERIO_CDP_API_KEY)\n"
    "  --cdp-url URL        Pipelines API base URL instead of the region's ($CUSTOMERIO_CDP_URL)\n"
    "  --stats              print the queue's length, pending, oldest pending age, dead\n"
    "                       letters and rate-limit waits as JSON, and exit\n"
    "  --id ID              dead-letters retry|drop: only this entry (default: all)\n"
    "  --count N            dead-letters list: at most N (default 100)\n";

enum {
    O_REDIS = 100,
    O_GROUP,
    O_CONSUMER,
    O_CLAIM,
    O_RATE,
    O_STATS,
    O_ID,
    O_COUNT,
    O_SENDERS,
    O_PIPELINES,
    O_CDP_API_KEY,
    O_CDP_URL
};

static const cli_opt_t worker_options[] = {{"redis", 1, O_REDIS},
                                           {"group", 1, O_GROUP},
                                           {"consumer", 1, O_CONSUMER},
                                           {"claim-idle-ms", 1, O_CLAIM},
                                           {"rate", 1, O_RATE},
                                           {"stats", 0, O_STATS},
                                           {"id", 1, O_ID},
                                           {"count", 1, O_COUNT},
                                           {"senders", 1, O_SENDERS},
                                           {"pipelines", 0, O_PIPELINES},
                                           {"cdp-api-key", 1, O_CDP_API_KEY},
                                           {"cdp-url", 1, O_CDP_URL},
                                           {NULL, 0, 0}};

typedef struct worker_args {
    cio_worker_options_t wo;
    cio_pipeline_options_t po;
    const char *id;
    double count;
    int stats;
    const char *action;                /* dead-letters ACTION, or NULL */
    const char *cdp_api_key, *cdp_url; /* --pipelines: the Pipelines API's client */
} worker_args_t;

static cio_worker_t *running; /* for the signal handler */

static void on_signal(int sig) {
    (void)sig;
    cio_worker_stop(running); /* async-signal-safe */
}

static int parse(worker_args_t *w, cli_config_t *cfg, int argc, char **argv, int first) {
    cli_args_t a;
    args_init(&a, "worker", argc, argv, first);
    const char *v;
    int id, positional = 0;
    double d;
    while ((id = args_next(&a, worker_options, &v)) != ARG_END) {
        if (config_option(cfg, id, v))
            continue;
        switch (id) {
        case ARG_ERROR:
            return EXIT_USAGE;
        case ARG_POSITIONAL:
            if (positional == 0 && strcmp(v, "dead-letters") == 0) {
                positional = 1;
            } else if (positional == 1 && (strcmp(v, "list") == 0 || strcmp(v, "retry") == 0 ||
                                           strcmp(v, "drop") == 0)) {
                w->action = v;
                positional = 2;
            } else {
                return args_usage_error("worker", "unexpected argument '%s'", v);
            }
            break;
        case OPT_HELP:
            return print_help(help_worker, 1);
        case O_REDIS:
            w->wo.redis_url = v;
            break;
        case O_GROUP:
            w->wo.group = v;
            break;
        case O_CONSUMER:
            w->wo.consumer = v;
            break;
        case O_CLAIM:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 86400000)
                return args_usage_error("worker", "--claim-idle-ms must be 1 to 86400000");
            w->wo.claim_idle_ms = (long)d;
            break;
        case O_RATE:
            if (args_number(v, &d, true) != 0 || d <= 0)
                return args_usage_error("worker", "--rate must be a positive number");
            w->po.max_requests_per_second = d;
            break;
        case O_SENDERS:
            if (args_number(v, &d, false) != 0 || d < 1 || d > 100000)
                return args_usage_error("worker", "--senders must be 1 to 100000");
            w->po.ratelimit_senders = (int)d;
            break;
        case O_STATS:
            w->stats = 1;
            break;
        case O_PIPELINES:
            w->wo.sink = CIO_SINK_PIPELINES;
            break;
        case O_CDP_API_KEY:
            w->cdp_api_key = v;
            break;
        case O_CDP_URL:
            w->cdp_url = v;
            break;
        case O_ID:
            w->id = v;
            break;
        case O_COUNT:
            if (args_number(v, &w->count, false) != 0 || w->count < 1 || w->count > 1e6)
                return args_usage_error("worker", "--count must be 1 to 1000000");
            break;
        default:
            return args_usage_error("worker", "unexpected option");
        }
    }
    if (positional == 1)
        return args_usage_error("worker", "dead-letters needs list, retry or drop");
    if (w->wo.redis_url == NULL) {
        const char *env = getenv("CIO_REDIS_URL");
        w->wo.redis_url = env != NULL && *env != '\0' ? env : NULL;
    }
    if (w->wo.redis_url == NULL)
        return args_usage_error("worker", "no Redis: give --redis URL or set CIO_REDIS_URL");
    if (w->wo.sink == CIO_SINK_PIPELINES) {
        if (w->cdp_api_key == NULL)
            w->cdp_api_key = getenv("CUSTOMERIO_CDP_API_KEY");
        if (w->cdp_url == NULL)
            w->cdp_url = getenv("CUSTOMERIO_CDP_URL");
        if (w->cdp_api_key == NULL || *w->cdp_api_key == '\0')
            return args_usage_error("worker",
                                    "--pipelines needs the Pipelines API key: --cdp-api-key or "
                                    "CUSTOMERIO_CDP_API_KEY");
        if (w->cdp_url != NULL && *w->cdp_url == '\0')
            w->cdp_url = NULL;
    } else if (w->cdp_api_key != NULL || w->cdp_url != NULL) {
        return args_usage_error("worker", "--cdp-api-key and --cdp-url go with --pipelines");
    }
    return -1;
}

static int fail(const char *what) {
    const cio_error_t *e = cio_last_error();
    fprintf(stderr, "cio-native worker: %s: %s\n", what, e != NULL ? e->message : "failed");
    return EXIT_PARTIAL;
}

static int dead_letters(const worker_args_t *w, cio_client_t *client) {
    if (strcmp(w->action, "list") == 0) {
        char *json =
            cio_redis_dead_letters_json(client, w->wo.redis_url, w->wo.sink, (size_t)w->count);
        if (json == NULL)
            return fail("dead-letters list");
        printf("%s\n", json);
        cio_free_string(json);
        return EXIT_ALL_OK;
    }
    size_t n = 0;
    bool retry = strcmp(w->action, "retry") == 0;
    cio_status_t st =
        retry ? cio_redis_dead_letters_retry(client, w->wo.redis_url, w->wo.sink, w->id, &n)
              : cio_redis_dead_letters_drop(client, w->wo.redis_url, w->wo.sink, w->id, &n);
    if (st != CIO_OK)
        return fail(retry ? "dead-letters retry" : "dead-letters drop");
    printf("%s %zu dead letter%s\n", retry ? "requeued" : "dropped", n, n == 1 ? "" : "s");
    return EXIT_ALL_OK;
}

int cmd_worker(int argc, char **argv, int first) {
    worker_args_t w = {.wo = CIO_WORKER_OPTIONS_INIT, .po = CIO_PIPELINE_OPTIONS_INIT};
    cli_config_t cfg = {0};
    int rc = parse(&w, &cfg, argc, argv, first);
    if (rc < 0)
        rc = config_resolve(&cfg, "worker");
    else if (rc == 0)
        rc = -1; /* --help was shown */
    if (rc != 0) {
        config_free(&cfg);
        return rc < 0 ? EXIT_ALL_OK : rc;
    }
    cio_client_t *client = NULL;
    rc = w.wo.sink == CIO_SINK_PIPELINES
             ? config_client_cdp(&cfg, "worker", w.cdp_api_key, w.cdp_url, &client)
             : config_client(&cfg, "worker", &client);
    if (rc != 0) {
        config_free(&cfg);
        return rc;
    }
    if (w.action != NULL) {
        rc = dead_letters(&w, client);
    } else if (w.stats) {
        char *json = cio_redis_queue_stats_json(client, w.wo.redis_url, w.wo.sink, w.wo.group);
        if (json == NULL) {
            rc = fail("stats");
        } else {
            printf("%s\n", json);
            cio_free_string(json);
        }
    } else {
        w.wo.pipeline = &w.po;
        if (cio_worker_new(client, &w.wo, &running) != CIO_OK) {
            rc = fail("cannot start");
        } else {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_signal;
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
            signal(SIGPIPE, SIG_IGN);
            fprintf(stderr, "cio-native worker: draining the queue (SIGINT or SIGTERM stops)\n");
            cio_worker_run(running, 10000);
            char *stats = cio_worker_stats_json(running);
            if (stats != NULL)
                fprintf(stderr, "cio-native worker: stopped: %s\n", stats);
            cio_free_string(stats);
            cio_worker_free(running);
            running = NULL;
        }
    }
    cio_client_free(client);
    config_free(&cfg);
    return rc;
}
