/* What a client is (client.c): its settings, credentials, base URLs and its engine per process.
 * Private. */
#ifndef CIO_CLIENT_INTERNAL_H
#define CIO_CLIENT_INTERNAL_H

#include "customerio/client.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct cio_engine cio_engine_t;
typedef struct cio_direct cio_direct_t;

struct cio_client {
    char *site_id;
    char *api_key;
    char *app_api_key;
    char *cdp_api_key;
    bool cdp_bearer; /* the key has a region prefix: Bearer auth, its region's host */
    cio_region_t region;
    char *track_base; /* no trailing slash */
    char *app_base;
    char *cdp_base;
    char *cdp_batch_path; /* NULL: the sink's own path (/v1/batch) */
    char *proxy;          /* CURLOPT_PROXY; NULL: libcurl's default (the environment's) */
    long connect_timeout_ms;
    long timeout_ms;
    int max_attempts;
    long backoff_base_ms;
    long backoff_max_ms;
    long retry_after_max_ms;
    char *user_agent;
    int tls_insecure;
    char *ca_file;   /* the option, else REQUESTS_CA_BUNDLE or SSL_CERT_FILE; NULL = the system's */
    char *ca_path;   /* SSL_CERT_DIR when ca_file was not given; NULL = none */
    bool cdp_strict; /* send "X-Strict-Mode: 1" with Pipelines requests */
    int max_connections;
    /* The engine of the process that made it (engine_generation says which); a forked child
     * that uses the client gets one of its own (cio__client_engine), the parent's being kept,
     * unused, as its thread did not follow the fork. */
    _Atomic(cio_engine_t *) engine;
    _Atomic unsigned engine_generation;
    /* Synchronous calls run on the calling thread (direct.c): what their per-thread handles
     * share in this process (made on the first one; a parent's is kept unused in a forked
     * child), and the client's number, never reused, by which a thread finds its handle. */
    _Atomic(cio_direct_t *) direct;
    uint64_t serial;
};

/* Bumped in every forked child: what a process made is recognised by the generation it was made
 * in. Thread-safe. */
unsigned cio__fork_generation(void);
/* The client's engine for this process (made on first use in a forked child); NULL if that
 * failed (the call then completes as closed). Thread-safe. */
cio_engine_t *cio__client_engine(cio_client_t *client);

/* Requires Track credentials; CIO_E_CONFIG naming the call otherwise. */
cio_status_t cio__require_track_credentials(const cio_client_t *client, const char *call);

/* engine.c: the engine of a client (see engine.h) */
cio_status_t cio__engine_new(cio_client_t *client, cio_engine_t **out);
void cio__engine_free(cio_engine_t *engine);

/* direct.c: synchronous calls on the calling thread (see direct.h) */
/* Frees the per-thread handles of client (every thread's: none may be inside a call on it) and
 * what they share, unless made before a fork (then kept, unused, as a parent's engine is). */
void cio__direct_client_free(cio_client_t *client);
/* The pthread_atfork child handler's part for direct.c (only the forking thread exists). */
void cio__direct_after_fork_in_child(void);

#endif
