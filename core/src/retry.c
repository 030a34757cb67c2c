/*
 * When and how long to wait before retrying. Retried: network errors, timeouts, 408, 429 and
 * 5xx. Never other 4xx: the same request would fail the same way. A Retry-After header
 * (delta-seconds or an HTTP-date) replaces the computed backoff, capped by the client.
 */
#include "internal.h"

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

bool cio__retry_is_retryable(int curl_code, long http_status) {
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return http_status == 408 || http_status == 429 || http_status >= 500;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        /* certificate problems, malformed URLs, out of memory: retrying cannot help */
        return false;
    }
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
