/*
 * libcurl 7.88 builds a new SSL_CTX per connection and loads the CA file into it; it caches the
 * loaded store only when no CA directory is set, and Debian's libcurl (like most distributions')
 * sets /etc/ssl/certs by default. Loading the system bundle (~140 certificates) costs ~19 ms of
 * CPU with OpenSSL 3.0: per connection, so 100 connections opened for 100 calls in flight cost
 * ~2 s, and every synchronous call that opens a connection (a thread's first call, or after the
 * server closed an idle one) pays it again. The engine and the synchronous calls each load the
 * same file and directory into one store once and hand it to each connection's SSL_CTX
 * (CURLOPT_SSL_CTX_FUNCTION), with libcurl's own CA options cleared; the trust is the same as
 * libcurl's (file, then the hashed directory, looked up lazily, and libcurl's flags). It is
 * loaded again after a day, as libcurl's own cache would be (CURLOPT_CA_CACHE_TIMEOUT); a reload
 * that fails (the bundle mid-replacement) keeps the store loaded before and is tried again a
 * minute later.
 */
#include "tls_ca.h"
#include "retry.h"

#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#define CA_RETRY_MS ((int64_t)60 * 1000)
#define CA_RELOAD_MS (24 * 3600 * 1000LL) /* libcurl's CURLOPT_CA_CACHE_TIMEOUT default */

void cio__ca_store_init(cio_ca_store_t *cs) {
    memset(cs, 0, sizeof(*cs));
    pthread_mutex_init(&cs->lock, NULL);
}

void cio__ca_store_destroy(cio_ca_store_t *cs) {
    X509_STORE_free(cs->store);
    free(cs->file);
    free(cs->dir);
    pthread_mutex_destroy(&cs->lock);
}

static X509_STORE *load(const char *file, const char *dir) {
    X509_STORE *store = X509_STORE_new();
    if (store == NULL)
        return NULL;
    if ((file != NULL && !X509_STORE_load_file(store, file)) ||
        (dir != NULL && !X509_STORE_load_path(store, dir))) {
        X509_STORE_free(store);
        return NULL;
    }
    /* as libcurl's populate_x509_store for a verifying connection without a CRL file */
    X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    return store;
}

/* Under cs->lock: the store, loaded (or reloaded) when due; NULL when it cannot be loaded. */
static X509_STORE *current(cio_ca_store_t *cs) {
    int64_t now = cio__now_ms();
    if (cs->store != NULL && now - cs->loaded_ms < CA_RELOAD_MS)
        return cs->store;
    X509_STORE *fresh = load(cs->file, cs->dir);
    cs->loaded_ms = now;
    if (fresh != NULL) {
        X509_STORE_free(cs->store);
        cs->store = fresh;
    } else if (cs->store != NULL) {
        cs->loaded_ms = now - CA_RELOAD_MS + CA_RETRY_MS;
    }
    return cs->store;
}

/* Runs on the thread that opens a connection of a handle cio__ca_store_attach set up. */
static CURLcode on_ssl_ctx(CURL *h, void *ssl_ctx, void *user) {
    (void)h;
    cio_ca_store_t *cs = user;
    pthread_mutex_lock(&cs->lock);
    X509_STORE *store = current(cs);
    if (store != NULL)
        SSL_CTX_set1_cert_store(ssl_ctx, store); /* its own reference; frees the empty one */
    pthread_mutex_unlock(&cs->lock);
    return store != NULL ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

static char *copy(const char *s) {
    return s != NULL ? strdup(s) : NULL;
}

bool cio__ca_store_attach(cio_ca_store_t *cs, const cio_client_t *c, CURL *h) {
    if (c->tls_insecure)
        return false; /* libcurl loads no CAs without verification */
    pthread_mutex_lock(&cs->lock);
    if (!cs->resolved) {
        /* libcurl's built-in defaults where the client sets none (CURLINFO_CAINFO/CAPATH) */
        char *file = c->ca_file, *dir = c->ca_path;
        if (file == NULL)
            curl_easy_getinfo(h, CURLINFO_CAINFO, &file);
        if (dir == NULL)
            curl_easy_getinfo(h, CURLINFO_CAPATH, &dir);
        cs->file = copy(file);
        cs->dir = copy(dir);
        cs->resolved = (file == NULL || cs->file != NULL) && (dir == NULL || cs->dir != NULL);
    }
    bool usable = cs->resolved && (cs->file != NULL || cs->dir != NULL) && current(cs) != NULL;
    pthread_mutex_unlock(&cs->lock);
    if (!usable || curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK)
        return false;
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, cs);
    curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    return true;
}
