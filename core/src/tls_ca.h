/* One certificate store per engine or per client's synchronous calls (tls_ca.c), handed to
 * every TLS connection they open instead of libcurl loading the CA bundle into each. Private. */
#ifndef CIO_TLS_CA_H
#define CIO_TLS_CA_H

#include "client_internal.h"

#include <curl/curl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cio_ca_store {
    pthread_mutex_t lock; /* guards the rest: connections start on any caller's thread */
    X509_STORE *store;    /* NULL until loaded; connections hold references of their own */
    int64_t loaded_ms;    /* when loading was last tried (a reload is due CA_RELOAD_MS later) */
    char *file, *dir;     /* what is loaded: the client's, or libcurl's built-in defaults */
    bool resolved;        /* file and dir are known */
} cio_ca_store_t;

void cio__ca_store_init(cio_ca_store_t *cs);
/* Frees the store (connections still open keep theirs). No connection may be starting. */
void cio__ca_store_destroy(cio_ca_store_t *cs);
/* For an https transfer on easy handle h of client c: points h's TLS connections at the shared
 * store (loading it first if this is the first time); the CA options libcurl would load per
 * connection are cleared on h. False when nothing was attached (verification off, no CA to
 * load, or loading failed: then h loads the CAs itself as libcurl does, and a failure is
 * reported in libcurl's words). Thread-safe; h must be the caller's. */
bool cio__ca_store_attach(cio_ca_store_t *cs, const cio_client_t *c, CURL *h);

#endif
