/*
 * fuzz_webhook: cio_webhook_verify, cio_webhook_sign and cio_webhook_parse (customerio/webhook.h)
 * on what an attacker controls: the headers and the raw body.
 *
 * The input is split at its first three NUL bytes into signing key, X-CIO-Timestamp,
 * X-CIO-Signature and body (the body keeps any further NUL bytes); the first byte of the body, if
 * any, also picks the replay window. Missing parts are NULL headers.
 * - verify: no crash; a status among OK / INVALID_ARGUMENT / SIGNATURE / STALE; the error never
 *   quotes the signing key.
 * - sign then verify round-trips (lower case, upper case, "v0=" prefix); any one hex digit
 *   changed is CIO_E_SIGNATURE.
 * - parse: no crash; every event it returns has its required fields, and its "json" and
 *   "data_json" are JSON objects that parse back to the same event.
 */
#include "fuzz_util.h"

#include <customerio/customerio.h>

#include <ctype.h>

/* The next NUL-terminated part of [*p, end), or NULL when there is none left. */
static char *next_part(const uint8_t **p, const uint8_t *end) {
    if (*p >= end)
        return NULL;
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    const uint8_t *stop = nul != NULL ? nul : end;
    char *s = fuzz_cstring(*p, (size_t)(stop - *p));
    *p = nul != NULL ? nul + 1 : end;
    return s;
}

/* The inputs of one verify or sign call, but the key. */
typedef struct call_args {
    const char *ts, *sig, *body;
    size_t body_len;
    int64_t tolerance, now;
    char *out; /* sign: the signature */
} call_args_t;

typedef cio_status_t (*call_fn)(const char *key, const call_args_t *a);

static cio_status_t verify(const char *key, const call_args_t *a) {
    return cio_webhook_verify(key, a->ts, a->sig, a->body, a->body_len, a->tolerance, a->now);
}

static cio_status_t sign(const char *key, const call_args_t *a) {
    return cio_webhook_sign(key, a->ts, a->body, a->body_len, a->out);
}

/*
 * Runs fn with the key; its error message never quotes the key: when the key's text appears in
 * it, it appears just the same with another key (it is part of the fixed wording).
 */
static cio_status_t call_checked(call_fn fn, const char *key, const call_args_t *a) {
    cio_status_t st = fn(key, a);
    if (st == CIO_OK || key == NULL || key[0] == '\0')
        return st;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", cio_last_error()->message);
    if (strstr(msg, key) != NULL) {
        char out[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
        call_args_t b = *a;
        b.out = out;
        fn("\x7f", &b);
        FUZZ_CHECK(strstr(cio_last_error()->message, key) != NULL, "the signing key appears in: %s",
                   msg);
    }
    return st;
}

static void check_event(const cio_webhook_event_t *ev) {
    FUZZ_CHECK(ev != NULL, "a NULL event");
    FUZZ_CHECK(ev->event_id != NULL && ev->event_id[0] != '\0', "event_id");
    FUZZ_CHECK(ev->object_type != NULL && ev->object_type[0] != '\0', "object_type");
    FUZZ_CHECK(ev->metric != NULL && ev->metric[0] != '\0', "metric");
    FUZZ_CHECK(ev->timestamp >= 0, "timestamp %lld", (long long)ev->timestamp);
    cio_json_value_t v;
    FUZZ_CHECK(ev->data_json != NULL &&
                   cio_json_scan(ev->data_json, strlen(ev->data_json), &v) == CIO_OK &&
                   v.kind == CIO_JSON_OBJECT,
               "data_json: %s", ev->data_json != NULL ? ev->data_json : "(null)");
    FUZZ_CHECK(ev->json != NULL && cio_json_scan(ev->json, strlen(ev->json), &v) == CIO_OK &&
                   v.kind == CIO_JSON_OBJECT,
               "json: %s", ev->json != NULL ? ev->json : "(null)");
    /* the compact JSON of an event is itself that one event */
    cio_webhook_events_t *again = NULL;
    cio_status_t st = cio_webhook_parse(ev->json, strlen(ev->json), &again);
    FUZZ_CHECK(st == CIO_OK && cio_webhook_events_count(again) == 1, "re-parse of %s: %s", ev->json,
               st != CIO_OK ? cio_last_error()->message : "not one event");
    const cio_webhook_event_t *same = cio_webhook_events_get(again, 0);
    FUZZ_CHECK(strcmp(same->event_id, ev->event_id) == 0 && strcmp(same->json, ev->json) == 0 &&
                   strcmp(same->data_json, ev->data_json) == 0 &&
                   same->timestamp == ev->timestamp &&
                   (same->delivery_id == NULL) == (ev->delivery_id == NULL),
               "re-parse of %s differs", ev->json);
    cio_webhook_events_free(again);
}

static void round_trip(const char *key, const char *ts, const char *body, size_t body_len) {
    char sig[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
    call_args_t args = {ts, NULL, body, body_len, 0, 0, sig};
    if (call_checked(sign, key, &args) != CIO_OK)
        return;
    FUZZ_CHECK(strlen(sig) == 64, "signature of %zu characters", strlen(sig));
    FUZZ_CHECK(cio_webhook_verify(key, ts, sig, body, body_len, 0, 0) == CIO_OK,
               "own signature refused: %s", cio_last_error()->message);
    char prefixed[3 + sizeof(sig)] = "v0=";
    for (size_t i = 0; i < 64; i++)
        prefixed[3 + i] = (char)toupper((unsigned char)sig[i]);
    prefixed[3 + 64] = '\0';
    FUZZ_CHECK(cio_webhook_verify(key, ts, prefixed, body, body_len, 0, 0) == CIO_OK,
               "v0= and upper case refused: %s", cio_last_error()->message);
    size_t at = body_len % 64; /* change one hex digit */
    sig[at] = sig[at] == '0' ? '1' : '0';
    FUZZ_CHECK(cio_webhook_verify(key, ts, sig, body, body_len, 0, 0) == CIO_E_SIGNATURE,
               "a changed signature is not a mismatch");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *key = next_part(&p, end);
    char *ts = next_part(&p, end);
    char *sig = next_part(&p, end);
    size_t body_len = (size_t)(end - p);
    char *body = body_len > 0 ? fuzz_bytes(p, body_len) : NULL;

    static const int64_t windows[] = {0, 300, 1, -1};
    int64_t tolerance = windows[body_len > 0 ? (uint8_t)body[0] % 4 : 0];
    int64_t now = body_len > 1 ? (int64_t)(uint8_t)body[1] * 1000 : 0;
    call_args_t args = {ts, sig, body, body_len, tolerance, now, NULL};
    cio_status_t st = call_checked(verify, key, &args);
    FUZZ_CHECK(st == CIO_OK || st == CIO_E_INVALID_ARGUMENT || st == CIO_E_SIGNATURE ||
                   st == CIO_E_STALE,
               "verify: %s", cio_status_str(st));
    round_trip(key, ts, body, body_len);

    cio_webhook_events_t *events = (cio_webhook_events_t *)1;
    st = cio_webhook_parse(body, body_len, &events);
    if (st == CIO_OK) {
        for (size_t i = 0; i < cio_webhook_events_count(events); i++)
            check_event(cio_webhook_events_get(events, i));
        FUZZ_CHECK(cio_webhook_events_get(events, cio_webhook_events_count(events)) == NULL,
                   "an event past the end");
        cio_webhook_events_free(events);
    } else {
        FUZZ_CHECK(events == NULL && st == CIO_E_INVALID_ARGUMENT, "parse failure: %s",
                   cio_status_str(st));
    }
    free(key);
    free(ts);
    free(sig);
    free(body);
    return 0;
}
