/* Private to the core (retry.c): the one table of transient and permanent failures, backoff
 * delays, Retry-After, and the monotonic clock. Not installed. Thread-safe. */
#ifndef CIO_RETRY_H
#define CIO_RETRY_H

#include "customerio/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one table of transient and permanent failures (retry.c explains both classes). Whether
 * an outcome is worth retrying: a transient CURLcode, or with CURLE_OK HTTP 408, 429 or 5xx. */
bool cio__retry_is_retryable(int curl_code, long http_status);
/* Whether an HTTP status is worth retrying (408, 429, 5xx); every other 4xx is permanent. */
bool cio__retry_http_status_is_transient(long http_status);
/* The status a failed transfer's CURLcode is reported with (CIO_E_NETWORK when not listed). */
cio_status_t cio__retry_curl_status(int curl_code);
/* Delay before retry number n (1-based), with jitter; Retry-After (ms, <0 = none) wins. */
long cio__retry_delay_ms(const cio_client_t *client, int retry_number, long retry_after_ms);
/* Parses a Retry-After header value (delta-seconds or HTTP-date) into ms; -1 if unusable. */
long cio__retry_after_parse_ms(const char *value, size_t len);

/* monotonic clock in milliseconds */
int64_t cio__now_ms(void);

#endif
