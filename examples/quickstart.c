/*
 * quickstart: identify a customer and track a few events.
 *
 *   CUSTOMERIO_SITE_ID=... CUSTOMERIO_API_KEY=... ./quickstart            # the real service
 *   ./quickstart --track-url http://127.0.0.1:8080                         # the emulator
 */
#include <customerio/customerio.h>

#include <stdio.h>
#include <string.h>

static int report(const char *what, cio_status_t st) {
    if (st == CIO_OK) {
        printf("ok    %s\n", what);
        return 0;
    }
    const cio_error_t *e = cio_last_error();
    fprintf(stderr, "error %s: %s (%s)\n", what, e->message, cio_status_str(st));
    return 1;
}

int main(int argc, char **argv) {
    cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--track-url") == 0)
            opts.track_url = argv[i + 1];
        else if (strcmp(argv[i], "--site-id") == 0)
            opts.site_id = argv[i + 1];
        else if (strcmp(argv[i], "--api-key") == 0)
            opts.api_key = argv[i + 1];
    }

    cio_client_t *client;
    if (cio_client_new(&opts, &client) != CIO_OK) {
        fprintf(stderr, "client: %s\n", cio_last_error()->message);
        return 1;
    }

    int failures = 0;
    failures +=
        report("identify 42", cio_identify(client, "42",
                                           "{\"email\":\"ada@example.com\",\"name\":\"Ada\","
                                           "\"created_at\":1700000000,\"plan\":\"premium\"}"));
    failures +=
        report("track 42 purchased", cio_track(client, "42", "purchased",
                                               "{\"price\":23.45,\"sku\":\"WIDGET-1\"}", NULL));
    cio_event_options_t past = CIO_EVENT_OPTIONS_INIT;
    past.timestamp = 1700000100;
    failures +=
        report("track 42 signed_up (backdated)", cio_track(client, "42", "signed_up", NULL, &past));
    failures += report("pageview 42", cio_pageview(client, "42", "https://example.com/pricing",
                                                   "{\"referrer\":\"newsletter\"}", NULL));
    failures += report("add_device 42",
                       cio_add_device(client, "42", "device-token-1", "ios", 1700000200, NULL));
    /* bad input is rejected before anything is sent */
    cio_status_t st = cio_track(client, "", "purchased", NULL, NULL);
    printf("%s empty customer id rejected: %s\n", st == CIO_E_INVALID_ARGUMENT ? "ok   " : "FAIL ",
           st == CIO_OK ? "(accepted!)" : cio_last_error()->message);
    failures += st != CIO_E_INVALID_ARGUMENT;

    cio_client_free(client);
    return failures == 0 ? 0 : 1;
}
