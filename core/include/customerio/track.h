/*
 * customerio/track.h - Track API v1 (https://track.customer.io/api/v1), one call per request.
 *
 * Common rules for every function here:
 * - Thread-safe: any number of threads may call them on one shared client.
 * - Synchronous: the call returns when the request succeeded or finally failed (retries
 *   included), its transfer run on the calling thread (client.h); on failure cio_last_error()
 *   tells why, with the HTTP status and response body.
 * - Everything is validated before anything is sent; a rejected call sends nothing:
 *   ids (customer, device, delivery, anonymous) must be non-empty, at most 150 bytes, valid UTF-8
 *   and free of control characters (CR, LF, NUL, ...). They are percent-encoded in paths with no
 *   safe characters ("a/b" becomes "a%2Fb"). An email address or "cio_<id>" works as a
 *   customer_id. JSON arguments (attributes_json, data_json) must be a JSON object in valid UTF-8,
 *   or NULL for none. A request body over 32 KB fails with CIO_E_PAYLOAD_TOO_LARGE.
 * - Missing site_id/api_key fails with CIO_E_CONFIG.
 * - Pointer arguments are borrowed for the duration of the call only.
 * - Every call cio_X has a builder cio_X_request (request.h): the same arguments without the
 *   client, plus cio_request_t **out last. It validates exactly as the call does (same status,
 *   same message, the 32 KB body limit included; credentials are checked when it is sent) and
 *   sends nothing: on CIO_OK *out is the caller's, to send with cio_request_send() or
 *   cio_request_send_async() and free with cio_request_free(); on failure *out is NULL. Builders
 *   need no client and are thread-safe. The call cio_X is its builder followed by sending.
 */
#ifndef CUSTOMERIO_TRACK_H
#define CUSTOMERIO_TRACK_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_request cio_request_t; /* request.h */

/* Longest id accepted (bytes) and the Track API v1 request body limit. */
#define CIO_MAX_ID_BYTES 150
#define CIO_TRACK_V1_MAX_BODY_BYTES (32 * 1024)

/* PUT /customers/{customer_id} with attributes_json as the body (e.g. {"email":...,
 * "created_at":1700000000, "_update":true}). */
CIO_EXTERN cio_status_t cio_identify(cio_client_t *client, const char *customer_id,
                                     const char *attributes_json);
CIO_EXTERN cio_status_t cio_identify_request(const char *customer_id, const char *attributes_json,
                                             cio_request_t **out);

/* DELETE /customers/{customer_id}. */
CIO_EXTERN cio_status_t cio_delete(cio_client_t *client, const char *customer_id);
CIO_EXTERN cio_status_t cio_delete_request(const char *customer_id, cio_request_t **out);

/* POST /customers/{customer_id}/events {"name", "data", "timestamp"?, "id"}. */
CIO_EXTERN cio_status_t cio_track(cio_client_t *client, const char *customer_id, const char *name,
                                  const char *data_json, const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_track_request(const char *customer_id, const char *name,
                                          const char *data_json, const cio_event_options_t *options,
                                          cio_request_t **out);

/* POST /events {"name", "anonymous_id"?, "data", "timestamp"?, "id"}. anonymous_id may be NULL
 * (an event that triggers campaigns without a person). */
CIO_EXTERN cio_status_t cio_track_anonymous(cio_client_t *client, const char *anonymous_id,
                                            const char *name, const char *data_json,
                                            const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_track_anonymous_request(const char *anonymous_id, const char *name,
                                                    const char *data_json,
                                                    const cio_event_options_t *options,
                                                    cio_request_t **out);

/* POST /customers/{customer_id}/events {"type":"page", "name": url, "data", ...}. */
CIO_EXTERN cio_status_t cio_pageview(cio_client_t *client, const char *customer_id, const char *url,
                                     const char *data_json, const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_pageview_request(const char *customer_id, const char *url,
                                             const char *data_json,
                                             const cio_event_options_t *options,
                                             cio_request_t **out);

/* POST /customers/{customer_id}/events {"type":"screen", "name": screen_name, "data", ...}. */
CIO_EXTERN cio_status_t cio_screen(cio_client_t *client, const char *customer_id,
                                   const char *screen_name, const char *data_json,
                                   const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_screen_request(const char *customer_id, const char *screen_name,
                                           const char *data_json,
                                           const cio_event_options_t *options, cio_request_t **out);

/* An event that happened in the past: cio_track with a required timestamp (unix seconds, > 0). */
CIO_EXTERN cio_status_t cio_backfill(cio_client_t *client, const char *customer_id,
                                     const char *name, int64_t timestamp, const char *data_json);
CIO_EXTERN cio_status_t cio_backfill_request(const char *customer_id, const char *name,
                                             int64_t timestamp, const char *data_json,
                                             cio_request_t **out);

/* PUT /customers/{customer_id}/devices {"device":{"id","platform","last_used"?,"attributes"?}}.
 * platform is "ios" or "android"; last_used 0 = not sent; attributes_json may be NULL. */
CIO_EXTERN cio_status_t cio_add_device(cio_client_t *client, const char *customer_id,
                                       const char *device_id, const char *platform,
                                       int64_t last_used, const char *attributes_json);
CIO_EXTERN cio_status_t cio_add_device_request(const char *customer_id, const char *device_id,
                                               const char *platform, int64_t last_used,
                                               const char *attributes_json, cio_request_t **out);

/* PUT /customers/{customer_id}/devices {"device":{"id","platform", <fields_json's members>}}:
 * any device field, written as given after id and platform (the official clients send whatever
 * the caller's hash holds: last_used, attributes, and any other member). fields_json is a JSON
 * object in valid UTF-8 without "id" or "platform" members (they are the arguments), or NULL
 * for none. Thread-safe; errors as for cio_add_device() (CIO_E_INVALID_ARGUMENT naming
 * "fields" for a bad object). */
CIO_EXTERN cio_status_t cio_add_device_fields(cio_client_t *client, const char *customer_id,
                                              const char *device_id, const char *platform,
                                              const char *fields_json);
CIO_EXTERN cio_status_t cio_add_device_fields_request(const char *customer_id,
                                                      const char *device_id, const char *platform,
                                                      const char *fields_json, cio_request_t **out);

/* DELETE /customers/{customer_id}/devices/{device_id}. */
CIO_EXTERN cio_status_t cio_delete_device(cio_client_t *client, const char *customer_id,
                                          const char *device_id);
CIO_EXTERN cio_status_t cio_delete_device_request(const char *customer_id, const char *device_id,
                                                  cio_request_t **out);

/* POST /customers/{customer_id}/suppress and /unsuppress (no body). */
CIO_EXTERN cio_status_t cio_suppress(cio_client_t *client, const char *customer_id);
CIO_EXTERN cio_status_t cio_suppress_request(const char *customer_id, cio_request_t **out);
CIO_EXTERN cio_status_t cio_unsuppress(cio_client_t *client, const char *customer_id);
CIO_EXTERN cio_status_t cio_unsuppress_request(const char *customer_id, cio_request_t **out);

/* POST /merge_customers {"primary":{<type>: primary_id}, "secondary":{<type>: secondary_id}}.
 * The secondary profile is merged into the primary one and deleted. */
CIO_EXTERN cio_status_t cio_merge_customers(cio_client_t *client, cio_id_type_t primary_type,
                                            const char *primary_id, cio_id_type_t secondary_type,
                                            const char *secondary_id);
CIO_EXTERN cio_status_t cio_merge_customers_request(cio_id_type_t primary_type,
                                                    const char *primary_id,
                                                    cio_id_type_t secondary_type,
                                                    const char *secondary_id, cio_request_t **out);

/* POST /push/events {"delivery_id", "event", "device_id", "timestamp"}: event is "opened",
 * "converted" or "delivered"; timestamp 0 = now. */
CIO_EXTERN cio_status_t cio_track_push_event(cio_client_t *client, const char *delivery_id,
                                             const char *event, const char *device_id,
                                             int64_t timestamp);
CIO_EXTERN cio_status_t cio_track_push_event_request(const char *delivery_id, const char *event,
                                                     const char *device_id, int64_t timestamp,
                                                     cio_request_t **out);

/* POST /metrics {"delivery_id", "metric", "timestamp"?, "recipient"?, "reason"?, "href"?}.
 * metric is one of the delivery metrics (sent, delivered, opened, clicked, converted, bounced,
 * dropped, spammed, failed, undeliverable, deferred, unsubscribed); timestamp 0 = not sent;
 * recipient, reason and href may be NULL. */
CIO_EXTERN cio_status_t cio_track_delivery_metric(cio_client_t *client, const char *metric,
                                                  const char *delivery_id, int64_t timestamp,
                                                  const char *recipient, const char *reason,
                                                  const char *href);
CIO_EXTERN cio_status_t cio_track_delivery_metric_request(const char *metric,
                                                          const char *delivery_id,
                                                          int64_t timestamp, const char *recipient,
                                                          const char *reason, const char *href,
                                                          cio_request_t **out);

/* POST /segments/{segment_id}/add_customers and /remove_customers {"ids":[...]} for a manual
 * segment; id_type other than CIO_ID_TYPE_ID adds ?id_type=email|cio_id. count must be >= 1;
 * every id is validated like a customer_id. */
CIO_EXTERN cio_status_t cio_segment_add_customers(cio_client_t *client, const char *segment_id,
                                                  const char *const *ids, size_t count,
                                                  cio_id_type_t id_type);
CIO_EXTERN cio_status_t cio_segment_add_customers_request(const char *segment_id,
                                                          const char *const *ids, size_t count,
                                                          cio_id_type_t id_type,
                                                          cio_request_t **out);
CIO_EXTERN cio_status_t cio_segment_remove_customers(cio_client_t *client, const char *segment_id,
                                                     const char *const *ids, size_t count,
                                                     cio_id_type_t id_type);
CIO_EXTERN cio_status_t cio_segment_remove_customers_request(const char *segment_id,
                                                             const char *const *ids, size_t count,
                                                             cio_id_type_t id_type,
                                                             cio_request_t **out);

/*
 * Writes a new ULID (26 Crockford base-32 characters, monotonic within this process) and a NUL
 * into out, which must hold CIO_ULID_BUFSIZE bytes. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_ulid(char out[CIO_ULID_BUFSIZE]);

/* POST /unsubscribe/{delivery_id} {"unsubscribe":true} (at the host root, outside /api/v1):
 * sets the person's "unsubscribed" attribute and attributes it to the delivery, for a custom
 * unsubscribe page. Errors: CIO_E_INVALID_ARGUMENT naming delivery_id. */
CIO_EXTERN cio_status_t cio_unsubscribe(cio_client_t *client, const char *delivery_id);
CIO_EXTERN cio_status_t cio_unsubscribe_request(const char *delivery_id, cio_request_t **out);

/* POST /forms/{form_id}/submit {"data": data_json}: a form response (Customer.io makes the form
 * and the person on first sight). data_json is a non-empty JSON object; Customer.io wants its
 * values as strings and one of "id" or "email" among them, which it checks itself. Errors:
 * CIO_E_INVALID_ARGUMENT naming form_id or data. */
CIO_EXTERN cio_status_t cio_submit_form(cio_client_t *client, const char *form_id,
                                        const char *data_json);
CIO_EXTERN cio_status_t cio_submit_form_request(const char *form_id, const char *data_json,
                                                cio_request_t **out);

/* GET /accounts/region: which region the credentials belong to. On success *response_json gets
 * the answer ({"url", "region", "environment_id"}; malloc'd, release it with cio_free()), or
 * NULL when the call was made asynchronous (the completion carries it) or response_json is
 * NULL. A cheap credentials check: CIO_E_AUTH when they are wrong. */
CIO_EXTERN cio_status_t cio_track_region(cio_client_t *client, char **response_json);
CIO_EXTERN cio_status_t cio_track_region_request(cio_request_t **out);

#ifdef __cplusplus
}
#endif

#endif
