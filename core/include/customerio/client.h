/*
 * customerio/client.h - the client handle: credentials, region, endpoints, timeouts, retries, TLS.
 *
 * A client owns one network engine: a background thread driving a libcurl multi handle, so that
 * connections are kept alive and shared (HTTP/1.1 keep-alive, HTTP/2 where the server offers it)
 * and many requests can be in flight at once. Asynchronous calls, batches and pipelines go
 * through it. A synchronous call (cio_request_send() and every classic call such as cio_track())
 * runs on the calling thread instead, retries and their waits included, with no thread switch:
 * each thread that calls a client keeps a libcurl handle of its own for it, with its own
 * kept-alive connection, while the DNS cache and TLS sessions are shared by the client's threads.
 * Any number of threads may call one client at once. A thread's handle is freed when the thread
 * exits or when the client is freed, whichever comes first.
 *
 *     cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
 *     opts.site_id = "...";   opts.api_key = "...";   // or CUSTOMERIO_SITE_ID / CUSTOMERIO_API_KEY
 *     cio_client_t *client;
 *     if (cio_client_new(&opts, &client) != CIO_OK)
 *         fprintf(stderr, "%s\n", cio_last_error()->message);
 *     ...
 *     cio_client_free(client);
 *
 * fork(): a client created before fork() works in the child (pre-forking servers create their
 * clients first): the engine thread stayed with the parent, so the child's first request starts
 * an engine of its own, and its first synchronous call opens a connection of its own (the
 * parent's connections are never used, nor closed, by the child); cio_client_free() in the child
 * frees what the child made and leaves the parent's alone. Requests the parent had in flight are
 * the parent's. A pipeline does not follow a fork (pipeline.h).
 */
#ifndef CUSTOMERIO_CLIENT_H
#define CUSTOMERIO_CLIENT_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cio_region {
    CIO_REGION_DEFAULT = 0, /* CUSTOMERIO_REGION from the environment ("us"/"eu"), else US */
    CIO_REGION_US = 1,      /* track.customer.io, api.customer.io */
    CIO_REGION_EU = 2       /* track-eu.customer.io, api-eu.customer.io */
} cio_region_t;

/*
 * Parses "us" or "eu" (any case) into *out. CIO_E_CONFIG naming the value otherwise.
 * Thread-safe.
 */
CIO_EXTERN cio_status_t cio_region_parse(const char *name, cio_region_t *out);

/* Version 2 added cdp_api_key and cdp_url, version 3 cdp_permissive, version 4
 * cdp_batch_path, version 5 proxy; structs of earlier versions are still accepted (read up to
 * their last field). */
#define CIO_CLIENT_OPTIONS_VERSION 5

/*
 * Client options. Every field's zero value means "the default", so a struct initialised with
 * CIO_CLIENT_OPTIONS_INIT (or zeroed, with version set) is a valid configuration. Strings are
 * copied by cio_client_new(); the caller keeps ownership of what it passed. The same options by
 * name, as owned text: cio_config_t (options.h); a new field needs its row in the table of
 * core/src/options.c (tests/c/test_options.c fails without one).
 */
typedef struct cio_client_options {
    unsigned int version; /* CIO_CLIENT_OPTIONS_VERSION */

    /* Track API credentials (HTTP Basic site_id:api_key). NULL = CUSTOMERIO_SITE_ID and
     * CUSTOMERIO_API_KEY from the environment. A client without them can still use the App
     * API; Track calls then fail with CIO_E_CONFIG. */
    const char *site_id;
    const char *api_key;
    /* App API key (Bearer). NULL = CUSTOMERIO_APP_API_KEY. */
    const char *app_api_key;

    cio_region_t region; /* default: CUSTOMERIO_REGION, else US */

    /* Base URLs replacing the region's hosts, for a proxy, a relay or the emulator:
     * "http://127.0.0.1:8080". Track paths ("/api/v1/...") and App paths ("/v1/...") are
     * appended to them. NULL = the region's https host. */
    const char *track_url;
    const char *app_url;

    long connect_timeout_ms; /* 0 = 10,000 */
    long timeout_ms;         /* whole-attempt timeout (connect + transfer); 0 = 10,000 */

    /* Retry policy, for transient failures only: network errors, timeouts, 408, 429 and 5xx.
     * Never for permanent ones (a certificate that fails verification, a hostname mismatch, an
     * unreadable CA file, a malformed URL, 401, 403 and other 4xx): those are reported after the
     * attempt that met them, their message ending "(permanent: not retried)".
     * The delay before retry n (n = 1, 2, ...) is min(backoff_max_ms, backoff_base_ms * 2^(n-1))
     * with "equal jitter" (between half and all of it); a Retry-After header replaces it, capped
     * at retry_after_max_ms. */
    int max_attempts;        /* total attempts including the first; 0 = 4, 1 = never retry */
    long backoff_base_ms;    /* 0 = 100 */
    long backoff_max_ms;     /* 0 = 10,000 */
    long retry_after_max_ms; /* 0 = 60,000 */

    const char *user_agent; /* NULL = "customerio-native/<version> (C)" */

    int tls_insecure; /* 1 = do not verify the server's certificate (tests only); 0 = verify */
    /* PEM bundle to verify servers with. NULL = the environment's, as the official clients
     * read it, first found: REQUESTS_CA_BUNDLE (a file), SSL_CERT_FILE (a file), plus
     * SSL_CERT_DIR (a hashed certificate directory, as `c_rehash` makes) in addition to either;
     * none of them = the system's bundle. Given here, the environment is not read. A directory
     * (here or in either file variable) is taken as a hashed certificate directory, as Python's
     * requests does, instead of SSL_CERT_DIR. A path that cannot be opened at all makes
     * cio_client_new fail with CIO_E_CONFIG naming the option or variable; a file that opens but
     * holds no usable certificate fails every request (permanent, not retried). */
    const char *ca_file;

    /* connections per host the engine may open; 0 = 8. Synchronous calls are not counted:
     * each calling thread keeps one of its own (client.h's top comment). */
    int max_connections;
    /* 1 = never read environment variables: neither CUSTOMERIO_* nor the CA ones above */
    int ignore_env;

    /* --- version 2 --- */
    /* Pipelines API key (HTTP Basic, key as user, empty password). NULL =
     * CUSTOMERIO_CDP_API_KEY. A key with a region prefix ("sk_us_...", "pk_eu_...": pk_ or sk_,
     * us or eu, "_") is sent as a Bearer token and picks its region's Pipelines host. */
    const char *cdp_api_key;
    /* Base URL replacing cdp.customer.io / cdp-eu.customer.io (it beats a key's region);
     * "/v1/..." is appended. */
    const char *cdp_url;

    /* --- version 3 --- */
    /* 1 = Pipelines requests (the cio_cdp_* calls and a CIO_SINK_PIPELINES pipeline) go without
     * "X-Strict-Mode: 1". By default they carry it: Customer.io then answers 400 to a message it
     * cannot accept, which the call or the pipeline's report gives back, instead of 200 while
     * dropping it (its "permissive mode"). */
    int cdp_permissive;
    /* The path Pipelines API batches are POSTed to, replacing "/v1/batch" (for a relay that
     * takes Segment's "/v1/import", as analytics-ruby's path: option); NULL = "/v1/batch". It
     * must start with "/" and hold only URL path characters (no query, fragment or space):
     * CIO_E_CONFIG otherwise. */
    const char *cdp_batch_path;

    /* --- version 5 --- */
    /* The proxy every request of this client goes through, as libcurl takes it
     * (CURLOPT_PROXY): "http://proxy.internal:3128", "socks5h://...", credentials as
     * "http://user:password@host:port" (a secret: never echoed in errors or cio_config_get).
     * NULL = libcurl's default: the https_proxy / http_proxy / all_proxy and no_proxy
     * environment variables (read even with ignore_env); "" = no proxy, whatever the
     * environment says. A control character in it is CIO_E_CONFIG. */
    const char *proxy;
} cio_client_options_t;

#define CIO_CLIENT_OPTIONS_INIT                                                                    \
    { .version = CIO_CLIENT_OPTIONS_VERSION }

/*
 * Creates a client and starts its engine thread. On success *out is a new handle, to be
 * released with cio_client_free(). Fails with CIO_E_INVALID_ARGUMENT (NULL options or unknown
 * version), CIO_E_CONFIG (unknown region, a malformed base URL, CR/LF in a credential),
 * CIO_E_NOMEM or CIO_E_INTERNAL. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_client_new(const cio_client_options_t *options, cio_client_t **out);

/*
 * Stops the engine (requests still in flight end with CIO_E_CLOSED), frees every thread's
 * handle for this client (their connections closed) and frees the client. NULL is a no-op. May
 * be called from any thread, but not while another thread is inside a call on this client.
 */
CIO_EXTERN void cio_client_free(cio_client_t *client);

/* The region the client resolved (never CIO_REGION_DEFAULT). Thread-safe. */
CIO_EXTERN cio_region_t cio_client_region(const cio_client_t *client);

#ifdef __cplusplus
}
#endif

#endif
