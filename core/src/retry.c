/*
 * When and how long to wait before retrying, and the one table that says which failures a
 * retry can fix. Every path uses it: the engine (synchronous and asynchronous calls) decides
 * from it whether to try again, http.c which status a failure gets, and the pipeline whether an
 * operation stays owed or is reported failed at once.
 *
 * Transient: the network or the server may behave differently next time (connection refused or
 * reset, DNS, timeouts, a truncated answer, HTTP 408, 429 and 5xx). Permanent: the same request
 * fails the same way however often it is sent (the server's certificate fails verification, a
 * hostname mismatch, an unreadable CA bundle, a malformed URL or unsupported scheme, a bad
 * option, a response over our size limit, and every other HTTP 4xx, 401 and 403 included).
 * A code missing from the table is permanent: retrying an error we do not understand only delays
 * its report. A Retry-After header (delta-seconds or an HTTP-date) replaces the computed backoff,
 * capped by the client.
 */
#include "retry.h"

#include "client_internal.h" /* struct cio_client: its backoff options */

#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cio__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libcurl 7.88's CURLcode values an HTTP(S) transfer can end with, audited (FTP, LDAP, TFTP,
 * SSH and RTSP codes cannot happen: CURLOPT_PROTOCOLS_STR is "http,https"; they are permanent
 * by default). status: what http.c reports; transient: whether a retry may succeed. */
static const struct curl_class {
    CURLcode code;
    bool transient;
    cio_status_t status;
} curl_classes[] = {
    /* transient: the network, the resolver or the peer, any of which may recover */
    {CURLE_COULDNT_RESOLVE_PROXY, true, CIO_E_NETWORK},
    {CURLE_COULDNT_RESOLVE_HOST, true, CIO_E_NETWORK},
    {CURLE_COULDNT_CONNECT, true, CIO_E_NETWORK},
    {CURLE_HTTP2, true, CIO_E_NETWORK},
    {CURLE_PARTIAL_FILE, true, CIO_E_NETWORK},
    {CURLE_OPERATION_TIMEDOUT, true, CIO_E_TIMEOUT},
    {CURLE_GOT_NOTHING, true, CIO_E_NETWORK},
    {CURLE_SEND_ERROR, true, CIO_E_NETWORK},
    {CURLE_RECV_ERROR, true, CIO_E_NETWORK},
    /* the handshake broke off (a reset mid-handshake); a refused certificate is 60 below */
    {CURLE_SSL_CONNECT_ERROR, true, CIO_E_NETWORK},
    {CURLE_SEND_FAIL_REWIND, true, CIO_E_NETWORK},
    {CURLE_SSL_SHUTDOWN_FAILED, true, CIO_E_NETWORK},
    {CURLE_AGAIN, true, CIO_E_NETWORK},
    {CURLE_NO_CONNECTION_AVAILABLE, true, CIO_E_NETWORK},
    {CURLE_HTTP2_STREAM, true, CIO_E_NETWORK},
    {CURLE_HTTP3, true, CIO_E_NETWORK},
    {CURLE_QUIC_CONNECT_ERROR, true, CIO_E_NETWORK},

    /* permanent: configuration, URL and options */
    {CURLE_UNSUPPORTED_PROTOCOL, false, CIO_E_CONFIG},
    {CURLE_FAILED_INIT, false, CIO_E_INTERNAL},
    {CURLE_URL_MALFORMAT, false, CIO_E_CONFIG},
    {CURLE_NOT_BUILT_IN, false, CIO_E_INTERNAL},
    {CURLE_BAD_FUNCTION_ARGUMENT, false, CIO_E_INTERNAL},
    {CURLE_UNKNOWN_OPTION, false, CIO_E_INTERNAL},
    {CURLE_SETOPT_OPTION_SYNTAX, false, CIO_E_INTERNAL},
    {CURLE_INTERFACE_FAILED, false, CIO_E_CONFIG},
    {CURLE_RECURSIVE_API_CALL, false, CIO_E_INTERNAL},
    {CURLE_OUT_OF_MEMORY, false, CIO_E_NOMEM},
    /* permanent: TLS trust and setup (a certificate does not heal between attempts) */
    {CURLE_PEER_FAILED_VERIFICATION, false, CIO_E_NETWORK}, /* unknown CA, hostname mismatch */
    {CURLE_SSL_CACERT_BADFILE, false, CIO_E_NETWORK},       /* ca_file / CA dir unreadable */
    {CURLE_SSL_CERTPROBLEM, false, CIO_E_NETWORK},
    {CURLE_SSL_CIPHER, false, CIO_E_NETWORK},
    {CURLE_SSL_ENGINE_NOTFOUND, false, CIO_E_NETWORK},
    {CURLE_SSL_ENGINE_SETFAILED, false, CIO_E_NETWORK},
    {CURLE_SSL_ENGINE_INITFAILED, false, CIO_E_NETWORK},
    {CURLE_SSL_CRL_BADFILE, false, CIO_E_NETWORK},
    {CURLE_SSL_ISSUER_ERROR, false, CIO_E_NETWORK},
    {CURLE_SSL_PINNEDPUBKEYNOTMATCH, false, CIO_E_NETWORK},
    {CURLE_SSL_INVALIDCERTSTATUS, false, CIO_E_NETWORK},
    {CURLE_SSL_CLIENTCERT, false, CIO_E_NETWORK},
    {CURLE_USE_SSL_FAILED, false, CIO_E_NETWORK},
    /* permanent: the peer is not a usable HTTP server, or its answer is not one we take */
    {CURLE_WEIRD_SERVER_REPLY, false, CIO_E_NETWORK},
    {CURLE_WRITE_ERROR, false, CIO_E_NETWORK}, /* the answer passed our 64 MB limit */
    {CURLE_TOO_MANY_REDIRECTS, false, CIO_E_NETWORK},
    {CURLE_BAD_CONTENT_ENCODING, false, CIO_E_NETWORK},
    {CURLE_FILESIZE_EXCEEDED, false, CIO_E_NETWORK},
    {CURLE_LOGIN_DENIED, false, CIO_E_AUTH},
    {CURLE_AUTH_ERROR, false, CIO_E_AUTH},
    {CURLE_REMOTE_ACCESS_DENIED, false, CIO_E_AUTH},
    {CURLE_PROXY, false, CIO_E_NETWORK},              /* the proxy refused the tunnel */
    {CURLE_ABORTED_BY_CALLBACK, false, CIO_E_CLOSED}, /* cancelled by a closing pipeline */
    {CURLE_READ_ERROR, false, CIO_E_INTERNAL},
    {CURLE_UPLOAD_FAILED, false, CIO_E_NETWORK},
    {CURLE_UNRECOVERABLE_POLL, false, CIO_E_INTERNAL},
};

static const struct curl_class *curl_class_of(int curl_code) {
    for (size_t i = 0; i < sizeof(curl_classes) / sizeof(curl_classes[0]); i++)
        if ((int)curl_classes[i].code == curl_code)
            return &curl_classes[i];
    return NULL;
}

bool cio__retry_http_status_is_transient(long http_status) {
    return http_status == 408 || http_status == 429 || http_status >= 500;
}

bool cio__retry_is_retryable(int curl_code, long http_status) {
    if (curl_code == CURLE_OK)
        return cio__retry_http_status_is_transient(http_status);
    const struct curl_class *c = curl_class_of(curl_code);
    return c != NULL && c->transient;
}

cio_status_t cio__retry_curl_status(int curl_code) {
    const struct curl_class *c = curl_class_of(curl_code);
    return c != NULL ? c->status : CIO_E_NETWORK;
}

static uint32_t random_u32(void) {
    uint32_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)cio__now_ms() * 2654435761u;
    return r;
}

long cio__retry_delay_ms(const cio_client_t *client, int retry_number, long retry_after_ms) {
    if (retry_after_ms >= 0)
        return retry_after_ms < client->retry_after_max_ms ? retry_after_ms
                                                           : client->retry_after_max_ms;
    long delay = client->backoff_base_ms;
    for (int i = 1; i < retry_number && delay < client->backoff_max_ms; i++)
        delay *= 2;
    if (delay > client->backoff_max_ms)
        delay = client->backoff_max_ms;
    /* equal jitter: half fixed, half random, so concurrent clients spread out */
    long half = delay / 2;
    return half + (half > 0 ? (long)(random_u32() % (uint32_t)(half + 1)) : 0);
}

long cio__retry_after_parse_ms(const char *value, size_t len) {
    char buf[64];
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
                       value[len - 1] == '\n'))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    char *end;
    long seconds = strtol(buf, &end, 10);
    if (end != buf && *end == '\0')
        return seconds < 0 ? 0 : (seconds > 86400 ? 86400L * 1000 : seconds * 1000);
    time_t when = curl_getdate(buf, NULL); /* HTTP-date form */
    if (when < 0)
        return -1;
    time_t now = time(NULL);
    return when <= now ? 0 : (long)(when - now) * 1000;
}
