/* The client handle: resolving options (defaults, environment, region) and its lifetime. */
#include "customerio/client.h"
#include "util/error.h"
#include "util/utf8.h"
#include "client_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_ATTEMPTS 4
#define DEFAULT_BACKOFF_BASE_MS 100L
#define DEFAULT_BACKOFF_MAX_MS 10000L
#define DEFAULT_RETRY_AFTER_MAX_MS 60000L
#define DEFAULT_MAX_CONNECTIONS 8

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;
static atomic_uint fork_generation;
static atomic_uint_fast64_t client_serial; /* numbers every client, for direct.c */
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER; /* making a child's engine */
/* Engines a forked child replaced: their threads stayed with the parent, so they are neither
 * used nor freed here; kept reachable (under engine_lock). */
static cio_engine_t *parents_engines[64];
static size_t parents_engine_count;

/* Keeps an engine made before a fork reachable (under engine_lock). */
static void keep_parents_engine(cio_engine_t *engine) {
    if (parents_engine_count < sizeof(parents_engines) / sizeof(parents_engines[0]))
        parents_engines[parents_engine_count++] = engine;
}

/* In a forked child only the forking thread exists: nothing can hold engine_lock there. */
static void after_fork_in_child(void) {
    atomic_fetch_add(&fork_generation, 1);
    pthread_mutex_init(&engine_lock, NULL);
    cio__direct_after_fork_in_child();
}

static void init_curl(void) {
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

unsigned cio__fork_generation(void) {
    return atomic_load(&fork_generation);
}

cio_engine_t *cio__client_engine(cio_client_t *c) {
    unsigned now = cio__fork_generation();
    if (atomic_load_explicit(&c->engine_generation, memory_order_acquire) == now)
        return atomic_load_explicit(&c->engine, memory_order_relaxed);
    /* A forked child: the engine's thread stayed with the parent. This process gets its own. */
    pthread_mutex_lock(&engine_lock);
    cio_engine_t *engine = NULL;
    if (atomic_load(&c->engine_generation) == now) {
        engine = atomic_load(&c->engine);
    } else if (cio__engine_new(c, &engine) == CIO_OK) {
        keep_parents_engine(atomic_load(&c->engine));
        atomic_store_explicit(&c->engine, engine, memory_order_relaxed);
        atomic_store_explicit(&c->engine_generation, now, memory_order_release);
    }
    pthread_mutex_unlock(&engine_lock);
    return engine;
}

cio_status_t cio_region_parse(const char *name, cio_region_t *out) {
    if (name == NULL || out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "region: name or out is NULL");
    if (strcasecmp(name, "us") == 0)
        *out = CIO_REGION_US;
    else if (strcasecmp(name, "eu") == 0)
        *out = CIO_REGION_EU;
    else if (!cio__utf8_valid(name, strlen(name)) || cio__has_control_char(name) ||
             strlen(name) > 16)
        return cio__fail(CIO_E_CONFIG, "region: unknown region (expected \"us\" or \"eu\")");
    else
        return cio__fail(CIO_E_CONFIG, "region: unknown region \"%s\" (expected \"us\" or \"eu\")",
                         name);
    return cio__ok();
}

/* An option's value: the caller's, else the environment's (unless ignored), else NULL. */
static const char *pick(const char *given, const char *env_name, int ignore_env) {
    if (given != NULL)
        return given;
    if (ignore_env)
        return NULL;
    const char *v = getenv(env_name);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

static cio_status_t copy_credential(const char *field, const char *value, char **out) {
    *out = NULL;
    if (value == NULL || value[0] == '\0')
        return CIO_OK; /* an empty credential is a missing one: calls needing it fail early */
    /* never echo the value: it may be a secret */
    if (cio__has_control_char(value))
        return cio__fail(CIO_E_CONFIG, "client: %s contains a control character (CR, LF, ...)",
                         field);
    if (strcmp(field, "site_id") == 0 && strchr(value, ':') != NULL)
        return cio__fail(CIO_E_CONFIG, "client: site_id contains ':'");
    *out = strdup(value);
    return *out != NULL ? CIO_OK : cio__fail(CIO_E_NOMEM, "client: out of memory");
}

/* Checks that a CA path can be opened at all, and says whether it is a directory (which goes to
 * CURLOPT_CAPATH: Python's requests takes a REQUESTS_CA_BUNDLE directory as ca_cert_dir). The
 * error names where the path came from, not the path's value or content. */
static cio_status_t check_ca(const char *source, const char *path, bool *is_dir) {
    struct stat st;
    int fd = -1;
    if (stat(path, &st) == 0) {
        *is_dir = S_ISDIR(st.st_mode);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (*is_dir ? O_DIRECTORY : 0));
    }
    if (fd < 0)
        return cio__fail(CIO_E_CONFIG,
                         "client: %s names a certificate file or directory that cannot be read "
                         "(%s)",
                         source, strerror(errno));
    close(fd);
    return CIO_OK;
}

/*
 * The certificate authorities to verify with: the ca_file option; else, as the official clients
 * take them from the environment (a TLS-inspecting proxy's CA), REQUESTS_CA_BUNDLE (Python's
 * requests), else SSL_CERT_FILE, plus SSL_CERT_DIR (OpenSSL's variables, which Ruby's Net::HTTP
 * honours). libcurl sets its own default bundle, so OpenSSL never reads these by itself. A
 * directory in place of the file is a hashed certificate directory (CURLOPT_CAPATH), as requests
 * takes it; then it replaces SSL_CERT_DIR (libcurl takes one). A file or directory that cannot be
 * opened at all fails here, once, rather than every request after.
 */
static cio_status_t pick_ca(cio_client_t *c, const cio_client_options_t *o) {
    const char *file = o->ca_file, *dir = NULL, *source = "ca_file";
    if (file == NULL && !o->ignore_env) {
        source = "REQUESTS_CA_BUNDLE";
        file = pick(NULL, source, 0);
        if (file == NULL)
            file = pick(NULL, source = "SSL_CERT_FILE", 0);
        dir = pick(NULL, "SSL_CERT_DIR", 0);
    }
    bool is_dir = false;
    cio_status_t st = file != NULL ? check_ca(source, file, &is_dir) : CIO_OK;
    if (st != CIO_OK)
        return st;
    if (is_dir) {
        dir = file;
        file = NULL;
    }
    if ((file != NULL && (c->ca_file = strdup(file)) == NULL) ||
        (dir != NULL && (c->ca_path = strdup(dir)) == NULL))
        return cio__fail(CIO_E_NOMEM, "client: out of memory");
    return CIO_OK;
}

/* Validates a base URL and copies it without trailing slashes. */
static cio_status_t copy_base_url(const char *field, const char *given, const char *fallback,
                                  char **out) {
    const char *url = given != NULL ? given : fallback;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cio__fail(CIO_E_CONFIG, "client: %s must start with http:// or https://", field);
    if (cio__has_control_char(url) || strchr(url, ' ') != NULL || strchr(url, '?') != NULL ||
        strchr(url, '#') != NULL || !cio__utf8_valid(url, strlen(url)))
        return cio__fail(CIO_E_CONFIG, "client: %s contains a space, control character, '?' or '#'",
                         field);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    size_t scheme_len = url[4] == ':' ? strlen("http://") : strlen("https://");
    if (len <= scheme_len)
        return cio__fail(CIO_E_CONFIG, "client: %s has no host", field);
    *out = strndup(url, len);
    return *out != NULL ? CIO_OK : cio__fail(CIO_E_NOMEM, "client: out of memory");
}

static void client_destroy(cio_client_t *c) {
    if (c == NULL)
        return;
    cio__direct_client_free(c);
    /* an engine made before a fork is the parent's: its thread is not here to be stopped */
    if (atomic_load(&c->engine_generation) == cio__fork_generation()) {
        cio__engine_free(atomic_load(&c->engine));
    } else {
        pthread_mutex_lock(&engine_lock);
        keep_parents_engine(atomic_load(&c->engine));
        pthread_mutex_unlock(&engine_lock);
    }
    free(c->site_id);
    free(c->api_key);
    free(c->app_api_key);
    free(c->track_base);
    free(c->app_base);
    free(c->cdp_base);
    free(c->cdp_batch_path);
    free(c->proxy);
    free(c->cdp_api_key);
    free(c->user_agent);
    free(c->ca_file);
    free(c->ca_path);
    free(c);
}

/*
 * Pipelines keys of the newer form carry their kind and region: "sk_us_...", "pk_eu_..." (the
 * official Python client matches ^(pk|sk)_(us|eu)_). Such a key is sent as a Bearer token and
 * belongs to its region's host. Returns false for a key without that prefix.
 */
static bool cdp_key_region(const char *key, cio_region_t *region) {
    if (key == NULL || (strncmp(key, "pk_", 3) != 0 && strncmp(key, "sk_", 3) != 0))
        return false;
    if (strncmp(key + 3, "us_", 3) == 0)
        *region = CIO_REGION_US;
    else if (strncmp(key + 3, "eu_", 3) == 0)
        *region = CIO_REGION_EU;
    else
        return false;
    return true;
}

static cio_status_t resolve_region(const cio_client_options_t *o, cio_region_t *out) {
    if (o->region == CIO_REGION_US || o->region == CIO_REGION_EU) {
        *out = o->region;
        return CIO_OK;
    }
    if (o->region != CIO_REGION_DEFAULT)
        return cio__fail(CIO_E_CONFIG, "client: unknown region %d", (int)o->region);
    const char *env = pick(NULL, "CUSTOMERIO_REGION", o->ignore_env);
    if (env == NULL) {
        *out = CIO_REGION_US;
        return CIO_OK;
    }
    cio_status_t st = cio_region_parse(env, out);
    if (st != CIO_OK)
        return cio__fail(st, "client: CUSTOMERIO_REGION is not \"us\" or \"eu\"");
    return CIO_OK;
}

/* A URL path: "/" then RFC 3986 path characters (unreserved, sub-delims, ':', '@', '%', '/'). */
static bool is_url_path(const char *s) {
    if (s[0] != '/')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,;=:@%/", ch) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

static cio_status_t client_init(cio_client_t *c, const cio_client_options_t *o) {
    cio_status_t st;
    if ((st = resolve_region(o, &c->region)) != CIO_OK ||
        (st = copy_credential("site_id", pick(o->site_id, "CUSTOMERIO_SITE_ID", o->ignore_env),
                              &c->site_id)) != CIO_OK ||
        (st = copy_credential("api_key", pick(o->api_key, "CUSTOMERIO_API_KEY", o->ignore_env),
                              &c->api_key)) != CIO_OK ||
        (st = copy_credential("app_api_key",
                              pick(o->app_api_key, "CUSTOMERIO_APP_API_KEY", o->ignore_env),
                              &c->app_api_key)) != CIO_OK ||
        (st = copy_credential("cdp_api_key",
                              pick(o->cdp_api_key, "CUSTOMERIO_CDP_API_KEY", o->ignore_env),
                              &c->cdp_api_key)) != CIO_OK)
        return st;
    bool eu = c->region == CIO_REGION_EU;
    cio_region_t key_region = c->region;
    c->cdp_bearer = cdp_key_region(c->cdp_api_key, &key_region);
    bool cdp_eu = key_region == CIO_REGION_EU;
    if ((st = copy_base_url("track_url", o->track_url,
                            eu ? "https://track-eu.customer.io" : "https://track.customer.io",
                            &c->track_base)) != CIO_OK ||
        (st = copy_base_url("app_url", o->app_url,
                            eu ? "https://api-eu.customer.io" : "https://api.customer.io",
                            &c->app_base)) != CIO_OK ||
        (st = copy_base_url("cdp_url", o->cdp_url,
                            cdp_eu ? "https://cdp-eu.customer.io" : "https://cdp.customer.io",
                            &c->cdp_base)) != CIO_OK)
        return st;
    if (o->cdp_batch_path != NULL) {
        if (!is_url_path(o->cdp_batch_path))
            return cio__fail(CIO_E_CONFIG, "client: cdp_batch_path must be a URL path starting "
                                           "with \"/\" (no query, fragment or space)");
        if ((c->cdp_batch_path = strdup(o->cdp_batch_path)) == NULL)
            return cio__fail(CIO_E_NOMEM, "client: out of memory");
    }
    if (o->proxy != NULL) {
        if (cio__has_control_char(o->proxy))
            return cio__fail(CIO_E_CONFIG, "client: proxy contains a control character");
        if ((c->proxy = strdup(o->proxy)) == NULL)
            return cio__fail(CIO_E_NOMEM, "client: out of memory");
    }
    if (o->user_agent != NULL && (cio__has_control_char(o->user_agent) ||
                                  !cio__utf8_valid(o->user_agent, strlen(o->user_agent))))
        return cio__fail(CIO_E_CONFIG, "client: user_agent contains a control character");
    c->user_agent = strdup(o->user_agent != NULL ? o->user_agent
                                                 : "customerio-native/" CIO_VERSION_STRING " (C)");
    if ((st = pick_ca(c, o)) != CIO_OK)
        return st;
    if (c->user_agent == NULL)
        return cio__fail(CIO_E_NOMEM, "client: out of memory");
    c->cdp_strict = !o->cdp_permissive;

    if (o->timeout_ms < 0 || o->connect_timeout_ms < 0 || o->max_attempts < 0 ||
        o->backoff_base_ms < 0 || o->backoff_max_ms < 0 || o->retry_after_max_ms < 0 ||
        o->max_connections < 0)
        return cio__fail(CIO_E_CONFIG, "client: timeouts, retry and connection limits must not "
                                       "be negative");
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms =
        o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_MAX_ATTEMPTS;
    c->backoff_base_ms = o->backoff_base_ms ? o->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
    c->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    c->retry_after_max_ms =
        o->retry_after_max_ms ? o->retry_after_max_ms : DEFAULT_RETRY_AFTER_MAX_MS;
    c->max_connections = o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS;
    c->tls_insecure = o->tls_insecure;
    cio_engine_t *engine = NULL;
    st = cio__engine_new(c, &engine);
    atomic_store(&c->engine, engine);
    atomic_store(&c->engine_generation, cio__fork_generation());
    return st;
}

cio_status_t cio_client_new(const cio_client_options_t *options, cio_client_t **out) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "client: out is NULL");
    *out = NULL;
    if (options == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "client: options is NULL");
    if (options->version == 0 || options->version > CIO_CLIENT_OPTIONS_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "client: options.version %u is not supported (this library knows %d; "
                         "use CIO_CLIENT_OPTIONS_INIT)",
                         options->version, CIO_CLIENT_OPTIONS_VERSION);
    pthread_once(&curl_once, init_curl);
    if (curl_init_result != CURLE_OK)
        return cio__fail(CIO_E_INTERNAL, "client: libcurl failed to initialise");
    cio_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return cio__fail(CIO_E_NOMEM, "client: out of memory");
    c->serial = atomic_fetch_add(&client_serial, 1) + 1;
    /* An older caller's struct ends before the later versions' fields: read only what it has. */
    cio_client_options_t full;
    memset(&full, 0, sizeof(full));
    size_t have = options->version == 1   ? offsetof(cio_client_options_t, cdp_api_key)
                  : options->version == 2 ? offsetof(cio_client_options_t, cdp_permissive)
                  : options->version == 3 ? offsetof(cio_client_options_t, cdp_batch_path)
                  : options->version == 4 ? offsetof(cio_client_options_t, proxy)
                                          : sizeof(full);
    memcpy(&full, options, have);
    cio_status_t st = client_init(c, &full);
    if (st != CIO_OK) {
        client_destroy(c);
        return st;
    }
    *out = c;
    return cio__ok();
}

void cio_client_free(cio_client_t *client) {
    client_destroy(client);
}

cio_region_t cio_client_region(const cio_client_t *client) {
    return client != NULL ? client->region : CIO_REGION_DEFAULT;
}

cio_status_t cio__require_track_credentials(const cio_client_t *client, const char *call) {
    if (client == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: client is NULL", call);
    if (client->site_id == NULL)
        return cio__fail(CIO_E_CONFIG, "%s: site_id is missing (pass it or set CUSTOMERIO_SITE_ID)",
                         call);
    if (client->api_key == NULL)
        return cio__fail(CIO_E_CONFIG, "%s: api_key is missing (pass it or set CUSTOMERIO_API_KEY)",
                         call);
    return CIO_OK;
}
