/*
 * customerio/webhook.h - receiving Customer.io reporting webhooks: verify the signature, parse
 * the events, drop redeliveries.
 *
 * Customer.io POSTs JSON to your endpoint with two headers: X-CIO-Timestamp (unix seconds) and
 * X-CIO-Signature (hex HMAC-SHA256 of "v0:" + timestamp + ":" + raw body, keyed with the webhook
 * signing key's text bytes). A handler typically does:
 *
 *   if (cio_webhook_verify(key, ts_header, sig_header, body, body_len,
 *                          CIO_WEBHOOK_DEFAULT_TOLERANCE_SECONDS, 0) != CIO_OK)
 *       return 401;
 *   cio_webhook_events_t *events;
 *   if (cio_webhook_parse(body, body_len, &events) != CIO_OK)
 *       return 400;
 *   for (size_t i = 0; i < cio_webhook_events_count(events); i++) {
 *       const cio_webhook_event_t *ev = cio_webhook_events_get(events, i);
 *       int dup;
 *       if (cio_webhook_dedup_check(dedup, ev->event_id, 0, &dup) == CIO_OK && !dup)
 *           handle(ev);
 *   }
 *   cio_webhook_events_free(events);
 *
 * Always verify the raw body bytes as received, never a re-serialised copy.
 */
#ifndef CUSTOMERIO_WEBHOOK_H
#define CUSTOMERIO_WEBHOOK_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The usual replay window: five minutes either side of the current time. */
#define CIO_WEBHOOK_DEFAULT_TOLERANCE_SECONDS 300
/* 64 lowercase hex characters and a NUL. */
#define CIO_WEBHOOK_SIGNATURE_BUFSIZE 65

/* ---- signatures ---- */

/*
 * Verifies a Customer.io reporting webhook: HMAC-SHA256 keyed with signing_key's bytes over
 * "v0:" + timestamp_header + ":" + the body_len raw body bytes (which may contain NUL bytes; body
 * may be NULL only when body_len is 0). signature_header is 64 lower- or upper-case hex
 * characters, optionally prefixed "v0=". The comparison is constant-time (CRYPTO_memcmp).
 *
 * tolerance_seconds > 0 rejects a correctly signed request whose timestamp is more than that many
 * seconds away from now, in either direction, with CIO_E_STALE; 0 disables the check (negative:
 * CIO_E_INVALID_ARGUMENT). now is unix seconds; 0 means the current time.
 *
 * Returns CIO_OK when the signature matches (and the timestamp is fresh); CIO_E_INVALID_ARGUMENT
 * for a NULL or empty signing key or a malformed header (NULL, empty, a timestamp that is not
 * unix seconds in decimal digits, a signature that is not 64 hex characters) - the message names
 * the header; CIO_E_SIGNATURE when the signature does not match. The signing key never appears
 * in any error message. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_webhook_verify(const char *signing_key, const char *timestamp_header,
                                           const char *signature_header, const char *body,
                                           size_t body_len, int64_t tolerance_seconds, int64_t now);

/*
 * Computes the signature Customer.io would send for (timestamp, body): writes 64 lowercase hex
 * characters and a NUL into out (CIO_WEBHOOK_SIGNATURE_BUFSIZE bytes, caller-owned). Used by the
 * emulator, the CLI and tests. timestamp must be unix seconds in decimal digits; the key must be
 * non-empty (CIO_E_INVALID_ARGUMENT otherwise, never quoting the key). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_webhook_sign(const char *signing_key, const char *timestamp,
                                         const char *body, size_t body_len,
                                         char out[CIO_WEBHOOK_SIGNATURE_BUFSIZE]);

/* ---- parsing ---- */

/*
 * One parsed reporting event. Every string is NUL-terminated, owned by the list it came from and
 * valid until cio_webhook_events_free(). Fields may only ever be appended to this struct.
 */
typedef struct cio_webhook_event {
    const char *event_id;    /* required, non-empty */
    const char *object_type; /* required: email, push, sms, in_app, slack, webhook, ... (unknown
                                values are kept as they are) */
    const char *metric;      /* required: sent, delivered, opened, clicked, converted, bounced,
                                dropped, spammed, failed, unsubscribed, ... (unknown values kept) */
    int64_t timestamp;       /* required, unix seconds */
    const char *delivery_id; /* the top-level delivery_id, else data.delivery_id, else NULL */
    const char *data_json;   /* the "data" object as compact JSON; "{}" when absent */
    const char *json;        /* the whole event as compact JSON, unknown fields included */
} cio_webhook_event_t;

/*
 * Parses a raw webhook body: one event object, or {"events": [...]} (an object with "events" and
 * no "event_id"). Each event needs a non-empty string event_id, string object_type and metric,
 * and a non-negative integer timestamp; delivery_id, when present and not null, must be a string,
 * and data an object. Unknown metrics, object types and fields are kept, not rejected. Compact
 * JSON keeps key order and the shortest spelling of each number that reads back the same
 * (integers beyond 64 bits are not supported and fail the parse).
 *
 * Errors are CIO_E_INVALID_ARGUMENT and say what is wrong and where: "webhook: body is not JSON
 * (line 1, column 3: ...)", "webhook: events[2]: event_id is missing", "webhook: metric must be
 * a string (got number)". On success *out is a new list (possibly empty); free it with
 * cio_webhook_events_free(). On failure *out is set to NULL. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_webhook_parse(const char *body, size_t body_len,
                                          cio_webhook_events_t **out);
/* Number of events in the list (0 for NULL). Thread-safe. */
CIO_EXTERN size_t cio_webhook_events_count(const cio_webhook_events_t *events);
/* The index-th event, owned by the list; NULL if index is out of range. Thread-safe. */
CIO_EXTERN const cio_webhook_event_t *cio_webhook_events_get(const cio_webhook_events_t *events,
                                                             size_t index);
/* Frees a list and every string in it; NULL is a no-op. */
CIO_EXTERN void cio_webhook_events_free(cio_webhook_events_t *events);

/* ---- redelivery de-duplication ---- */

/*
 * A bounded set of recently seen event_ids, so a handler can drop Customer.io's redeliveries.
 * It holds at most capacity ids (the oldest is evicted first when a new one arrives) for at most
 * ttl_seconds each, counted from the first sighting (0 = no expiry). Memory stays bounded by
 * capacity. Thread-safe: every call takes an internal mutex. Opaque (customerio/types.h).
 */

/* capacity >= 1, ttl_seconds >= 0 (CIO_E_INVALID_ARGUMENT otherwise). *out: free it with
 * cio_webhook_dedup_free(). */
CIO_EXTERN cio_status_t cio_webhook_dedup_new(size_t capacity, int64_t ttl_seconds,
                                              cio_webhook_dedup_t **out);
/*
 * Sets *is_duplicate to 1 if event_id (non-empty) was recorded within the last ttl_seconds and
 * not evicted since; otherwise records it (with time now) and sets *is_duplicate to 0. now is unix
 * seconds, 0 meaning the current time. Expired ids are dropped as they are met. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_webhook_dedup_check(cio_webhook_dedup_t *dedup, const char *event_id,
                                                int64_t now, int *is_duplicate);
/* Number of ids currently held (<= capacity; expired ids may count until met). Thread-safe. */
CIO_EXTERN size_t cio_webhook_dedup_size(const cio_webhook_dedup_t *dedup);
/* Frees the set; NULL is a no-op. No other call may be using it. */
CIO_EXTERN void cio_webhook_dedup_free(cio_webhook_dedup_t *dedup);

#ifdef __cplusplus
}
#endif

#endif
