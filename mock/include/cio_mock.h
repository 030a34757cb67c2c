/*
 * cio_mock: a local emulator of the Customer.io HTTP APIs for tests.
 *
 * The emulator runs its own threads and serves real HTTP (or HTTPS) on a local port. Besides the
 * emulated API routes it serves control endpoints under /_mock/ (health, the request log and fault
 * injection); see mock/README.md.
 */
#ifndef CIO_MOCK_H
#define CIO_MOCK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_mock cio_mock_t;

#define CIO_MOCK_OPTIONS_VERSION 1

typedef struct cio_mock_options {
    unsigned int version;       /* CIO_MOCK_OPTIONS_VERSION */
    const char *bind_addr;      /* NULL = "127.0.0.1" */
    unsigned short port;        /* 0 = pick a free port */
    const char *site_id;        /* Track Basic-auth user; NULL = "test-site" */
    const char *api_key;        /* Track Basic-auth password; NULL = "test-key" */
    const char *app_api_key;    /* App API bearer key (for later routes); NULL = "test-app-key" */
    const char *tls_cert_file;  /* PEM; with tls_key_file, serve HTTPS instead of HTTP */
    const char *tls_key_file;   /* PEM private key matching tls_cert_file */
    size_t max_logged_requests; /* 0 = 100,000; oldest dropped (and counted) beyond */
    const char *cdp_api_key;    /* Pipelines API Basic-auth user (empty password); NULL =
                                   "test-cdp-key" */
    /* With both set, every recorded transactional send is followed by signed reporting
     * webhooks ("sent", then "delivered") POSTed to webhook_url, which must be a loopback URL. */
    const char *webhook_url;
    const char *webhook_signing_key;
    /* The request log's other bound: bytes of the entries kept (bodies, paths, queries, header
     * names and values). 0 = 256 MiB; the oldest entries are dropped (and counted) beyond. */
    size_t max_logged_bytes;
    /* Seconds a connection may stay silent, in a request or between two, before the emulator
     * closes it. 0 = 60. An injected delay does not count as silence. */
    unsigned int connection_timeout_s;
} cio_mock_options_t;

#define CIO_MOCK_OPTIONS_INIT                                                                      \
    { CIO_MOCK_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, 0 }

/*
 * Starts the server (its own threads). opts may be NULL for all defaults.
 * Returns 0 on success and stores the handle in *out; returns -1 with a message in err
 * (if err is not NULL and errlen > 0) on failure.
 */
int cio_mock_start(const cio_mock_options_t *opts, cio_mock_t **out, char *err, size_t errlen);

/* The port the server listens on (the real one when 0 was asked for). */
unsigned short cio_mock_port(const cio_mock_t *m);

/* "http://127.0.0.1:PORT" or "https://...", no trailing slash; owned by m. */
const char *cio_mock_base_url(const cio_mock_t *m);

/* Stops the server, joins its threads and frees everything; NULL is ok. */
void cio_mock_stop(cio_mock_t *m);

#ifdef __cplusplus
}
#endif

#endif /* CIO_MOCK_H */
