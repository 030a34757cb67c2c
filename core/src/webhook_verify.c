/*
 * Reporting webhook signatures: HMAC-SHA256 (OpenSSL EVP_MAC) over "v0:" + timestamp + ":" + raw
 * body, keyed with the signing key's text bytes; constant-time comparison; replay window.
 * The signing key is never written into an error message.
 */
#include "customerio/webhook.h"
#include "util/error.h"
#include "util/utf8.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string.h>
#include <time.h>

#define MAC_LEN 32
#define HEX_LEN (2 * MAC_LEN)
/* 18 decimal digits always fit in an int64_t (and so does any difference with a valid now). */
#define MAX_TIMESTAMP_DIGITS 18

#define TIMESTAMP_HEADER "timestamp header (X-CIO-Timestamp)"
#define SIGNATURE_HEADER "signature header (X-CIO-Signature)"

static cio_status_t check_key(const char *call, const char *key) {
    if (key == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: signing key is NULL", call);
    if (*key == '\0')
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: signing key is empty", call);
    return CIO_OK;
}

/* Unix seconds as 1..18 decimal digits, nothing else (no sign, no spaces). */
static cio_status_t parse_timestamp(const char *call, const char *what, const char *s,
                                    int64_t *out) {
    if (s == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is missing", call, what);
    if (*s == '\0')
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is empty", call, what);
    int64_t v = 0;
    size_t n = 0;
    for (const char *p = s; *p != '\0'; p++, n++) {
        if (*p < '0' || *p > '9')
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: %s must be unix seconds in decimal digits only", call, what);
        if (n == MAX_TIMESTAMP_DIGITS)
            return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is too long (over %d digits)", call,
                             what, MAX_TIMESTAMP_DIGITS);
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return CIO_OK;
}

/* "v0="? followed by exactly 64 hex digits of either case. */
static cio_status_t parse_signature(const char *s, unsigned char out[MAC_LEN]) {
    if (s == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: " SIGNATURE_HEADER " is missing");
    if (strncmp(s, "v0=", 3) == 0)
        s += 3;
    size_t len = strlen(s);
    if (len == 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "webhook: " SIGNATURE_HEADER " is empty");
    if (len != HEX_LEN)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "webhook: " SIGNATURE_HEADER " must be %d hex characters (got %zu)",
                         HEX_LEN, len);
    for (size_t i = 0; i < MAC_LEN; i++) {
        int hi = cio__hex_value(s[2 * i]), lo = cio__hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "webhook: " SIGNATURE_HEADER
                             " must be hex (0-9, a-f), optionally prefixed \"v0=\"");
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return CIO_OK;
}

static cio_status_t check_body(const char *call, const char *body, size_t body_len) {
    if (body == NULL && body_len != 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: body is NULL but body_len is %zu", call,
                         body_len);
    return CIO_OK;
}

/* HMAC-SHA256(key, "v0:" + timestamp + ":" + body), streamed: the body is never copied. */
static cio_status_t compute_mac(const char *call, const char *key, const char *timestamp,
                                const char *body, size_t body_len, unsigned char out[MAC_LEN]) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    int ok = ctx != NULL &&
             EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)"v0:", 3) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)timestamp, strlen(timestamp)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)":", 1) == 1 &&
             (body_len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1) &&
             EVP_MAC_final(ctx, out, &out_len, MAC_LEN) == 1 && out_len == MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok) {
        ERR_clear_error();
        OPENSSL_cleanse(out, MAC_LEN);
        return cio__fail(CIO_E_INTERNAL, "%s: OpenSSL could not compute HMAC-SHA256", call);
    }
    return CIO_OK;
}

cio_status_t cio_webhook_sign(const char *signing_key, const char *timestamp, const char *body,
                              size_t body_len, char out[CIO_WEBHOOK_SIGNATURE_BUFSIZE]) {
    static const char hex[] = "0123456789abcdef";
    const char *call = "webhook sign";
    int64_t ts;
    cio_status_t st;
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: out is NULL", call);
    out[0] = '\0';
    if ((st = check_key(call, signing_key)) != CIO_OK ||
        (st = parse_timestamp(call, "timestamp", timestamp, &ts)) != CIO_OK ||
        (st = check_body(call, body, body_len)) != CIO_OK)
        return st;
    unsigned char mac[MAC_LEN];
    if ((st = compute_mac(call, signing_key, timestamp, body, body_len, mac)) != CIO_OK)
        return st;
    for (size_t i = 0; i < MAC_LEN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[HEX_LEN] = '\0';
    OPENSSL_cleanse(mac, sizeof(mac));
    return cio__ok();
}

cio_status_t cio_webhook_verify(const char *signing_key, const char *timestamp_header,
                                const char *signature_header, const char *body, size_t body_len,
                                int64_t tolerance_seconds, int64_t now) {
    const char *call = "webhook";
    int64_t ts;
    unsigned char given[MAC_LEN], expected[MAC_LEN];
    cio_status_t st;
    if ((st = check_key(call, signing_key)) != CIO_OK ||
        (st = parse_timestamp(call, TIMESTAMP_HEADER, timestamp_header, &ts)) != CIO_OK ||
        (st = parse_signature(signature_header, given)) != CIO_OK ||
        (st = check_body(call, body, body_len)) != CIO_OK)
        return st;
    if (tolerance_seconds < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: tolerance_seconds is negative (%lld); use 0 to disable the check",
                         call, (long long)tolerance_seconds);
    if (now < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: now is negative (%lld)", call,
                         (long long)now);

    if ((st = compute_mac(call, signing_key, timestamp_header, body, body_len, expected)) != CIO_OK)
        return st;
    int differ = CRYPTO_memcmp(given, expected, MAC_LEN);
    OPENSSL_cleanse(expected, sizeof(expected));
    if (differ != 0)
        return cio__fail(CIO_E_SIGNATURE,
                         "%s: the signature does not match the timestamp and body (wrong signing "
                         "key, or a body changed after signing)",
                         call);

    /* Only an authentic request gets as far as the replay check. */
    if (tolerance_seconds > 0) {
        if (now == 0)
            now = (int64_t)time(NULL);
        /* ts < 10^18 and now >= 0: neither difference can overflow */
        int64_t skew = ts > now ? ts - now : now - ts;
        if (skew > tolerance_seconds)
            return cio__fail(CIO_E_STALE,
                             "%s: timestamp %lld is %lld seconds %s the current time %lld "
                             "(tolerance %lld seconds)",
                             call, (long long)ts, (long long)skew, ts > now ? "ahead of" : "behind",
                             (long long)now, (long long)tolerance_seconds);
    }
    return cio__ok();
}
