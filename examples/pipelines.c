/*
 * pipelines: the Pipelines API (cdp.customer.io/v1) through the delivery pipeline, from C.
 * Messages are given by their parts (cio_cdp_message_t): the core builds, validates and
 * completes each one (messageId, timestamp, context.library) and queues it; the pipeline sends
 * them in /v1/batch requests under 500 KB, retrying with backoff, and reports every message.
 *
 *   CUSTOMERIO_CDP_API_KEY=... ./pipelines                               # the real service
 *   ./pipelines --cdp-url http://127.0.0.1:8080 --cdp-api-key demo-cdp    # the emulator
 */
#include <customerio/customerio.h>

#include <stdio.h>
#include <string.h>

#define MESSAGES 1000

int main(int argc, char **argv) {
    cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cdp-url") == 0)
            opts.cdp_url = argv[i + 1];
        else if (strcmp(argv[i], "--cdp-api-key") == 0)
            opts.cdp_api_key = argv[i + 1];
    }
    cio_client_t *client = NULL;
    cio_pipeline_t *pipeline = NULL;
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.sink = CIO_SINK_PIPELINES;
    if (cio_client_new(&opts, &client) != CIO_OK ||
        cio_pipeline_new(client, &po, &pipeline) != CIO_OK) {
        fprintf(stderr, "setup: %s\n", cio_last_error()->message);
        cio_client_free(client);
        return 1;
    }

    cio_cdp_message_t identify = CIO_CDP_MESSAGE_INIT;
    identify.type = "identify";
    identify.user_id = "42";
    identify.traits_json = "{\"email\":\"ada@example.com\",\"plan\":\"premium\"}";
    cio_cdp_stamp_t stamp;
    if (cio_pipeline_enqueue_message(pipeline, &identify, &stamp, NULL) != CIO_OK) {
        fprintf(stderr, "identify: %s\n", cio_last_error()->message);
        return 1;
    }
    printf("ok    identify 42 queued as messageId %s at %s\n", stamp.message_id, stamp.timestamp);

    int failures = 0;
    for (int i = 0; i < MESSAGES; i++) {
        char user[16], properties[64];
        snprintf(user, sizeof user, "%d", 42 + i % 10);
        snprintf(properties, sizeof properties, "{\"price\":%d.5,\"sku\":\"SKU-%d\"}", i % 100, i);
        cio_cdp_message_t track = CIO_CDP_MESSAGE_INIT;
        track.type = "track";
        track.user_id = user;
        track.event = "purchased";
        track.properties_json = properties;
        if (cio_pipeline_enqueue_message(pipeline, &track, NULL, NULL) != CIO_OK) {
            fprintf(stderr, "track %d: %s\n", i, cio_last_error()->message);
            failures++;
        }
    }
    printf("ok    %d track messages queued\n", MESSAGES - failures);

    /* bad input is refused before anything is queued, naming the field */
    cio_cdp_message_t bad = CIO_CDP_MESSAGE_INIT;
    bad.type = "track";
    bad.user_id = "42";
    cio_status_t st = cio_pipeline_enqueue_message(pipeline, &bad, NULL, NULL);
    printf("%s track without an event refused: %s\n",
           st == CIO_E_INVALID_ARGUMENT ? "ok   " : "FAIL ",
           st == CIO_OK ? "(accepted!)" : cio_last_error()->message);
    failures += st != CIO_E_INVALID_ARGUMENT;

    if (cio_pipeline_flush(pipeline, 30000) != CIO_OK) {
        fprintf(stderr, "flush: %s\n", cio_last_error()->message);
        failures++;
    }
    cio_pipeline_stats_t stats;
    cio_pipeline_stats(pipeline, &stats);
    printf("%s %llu delivered in %llu /v1/batch requests, %llu failed\n",
           stats.delivered == MESSAGES + 1 && stats.failed == 0 ? "ok   " : "FAIL ",
           (unsigned long long)stats.delivered, (unsigned long long)stats.requests,
           (unsigned long long)stats.failed);
    failures += stats.delivered != MESSAGES + 1 || stats.failed != 0;
    cio_pipeline_close(pipeline, 10000);
    cio_client_free(client);
    return failures == 0 ? 0 : 1;
}
