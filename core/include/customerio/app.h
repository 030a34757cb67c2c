/*
 * customerio/app.h - the App API (https://api.customer.io/v1, EU: https://api-eu.customer.io/v1):
 * transactional messages, API-triggered broadcasts, and reads of customers, segments and
 * transactional templates. Authenticated with the App API key (Bearer).
 *
 *     char *resp = NULL;
 *     cio_attachment_t pdf = {"invoice.pdf", pdf_bytes, pdf_len};
 *     if (cio_send_email(client,
 *                        "{\"transactional_message_id\":3,\"identifiers\":{\"id\":\"42\"},"
 *                        "\"to\":\"ann@example.com\",\"message_data\":{\"total\":\"9.90\"}}",
 *                        &pdf, 1, &resp) == CIO_OK) {
 *         puts(resp);   // {"delivery_id":"...","queued_at":1700000000}
 *         cio_free(resp);
 *     }
 *
 * Common rules for every function here:
 * - Thread-safe: any number of threads may call them on one shared client.
 * - Synchronous: the call returns when the request succeeded or finally failed (retries
 *   included), its transfer run on the calling thread (client.h); on failure cio_last_error()
 *   tells why, with the HTTP status and response body.
 *   Asynchronous after the deprecated cio_async_next() (customerio/async.h), or build the
 *   request and use cio_request_send_async(); *response_json then stays NULL and the answer
 *   arrives in the completion's response.
 * - Everything is validated before anything is sent; a rejected call sends nothing. Ids
 *   (customer, segment, transactional, broadcast, content ids) follow the Track rules: non-empty,
 *   at most CIO_MAX_ID_BYTES, valid UTF-8, no control characters; they are percent-encoded in
 *   paths and queries with no safe characters. Query values (page.start, language, ...) are
 *   percent-encoded the same way.
 * - Missing app_api_key (option or CUSTOMERIO_APP_API_KEY) fails with CIO_E_CONFIG naming it.
 * - response_json: when non-NULL it is set to NULL first, then on success to the server's JSON
 *   answer, NUL-terminated, allocated by the library and owned by the caller, who frees it with
 *   cio_free(). A success without a body (e.g. 204) gives "{}". On failure it stays NULL; the
 *   server's body is in cio_last_error()->response_body. Pass NULL when the answer is not needed.
 * - Pointer arguments are borrowed for the duration of the call only.
 * - Every call cio_X that sends has a builder cio_X_request (request.h): the same arguments
 *   without the client and response_json, plus cio_request_t **out last. It validates exactly as
 *   the call does (same status, same message; the app_api_key is checked when it is sent) and
 *   sends nothing: on CIO_OK *out is the caller's, to send with cio_request_send() (which hands
 *   the answer back as response_json does here) or cio_request_send_async(), and free with
 *   cio_request_free(); on failure *out is NULL. Builders need no client and are thread-safe.
 *   The call cio_X is its builder followed by sending.
 */
#ifndef CUSTOMERIO_APP_H
#define CUSTOMERIO_APP_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Frees memory the library handed to the caller (the response_json of App API calls). NULL is a
 * no-op. Thread-safe.
 */
CIO_EXTERN void cio_free(void *p);

/* ---- transactional messages: POST /v1/send/<type> ---- */

/*
 * A file to attach to a transactional message: the core base64-encodes len bytes of data (which
 * may contain NUL bytes; data may be NULL only when len is 0) into the request's
 * "attachments": {name: base64}. name must be non-empty UTF-8 without control characters, unique
 * among the attachments of one call, and not already a key of request_json's own "attachments"
 * object (which may carry pre-encoded files). Borrowed for the call only.
 */
typedef struct cio_attachment {
    const char *name;
    const void *data;
    size_t len;
} cio_attachment_t;

/*
 * request_json is the request object with the API's own field names, e.g.
 * {"transactional_message_id": 3, "identifiers": {"id": "42"}, "message_data": {...}}. It is
 * sent verbatim (numbers keep their spelling), with the attachments merged in. Checked first:
 * - a JSON object in valid UTF-8 without duplicate keys;
 * - "identifiers": an object with exactly one of "id", "email", "cio_id" (a non-empty string;
 *   id and cio_id may also be integers) and nothing else;
 * - "transactional_message_id": a non-empty string (the trigger name) or a positive integer.
 *   Required, except that send_email may instead give "body", "subject", "from" and "to" (a
 *   message without a template);
 * - the known fields of each type have the right JSON type (listed below); unknown fields are
 *   passed through for forward compatibility.
 * Fields common to every type: transactional_message_id, identifiers, message_data (object),
 * disable_message_retention, queue_draft (booleans), send_at (integer >= 0, unix seconds),
 * language (string).
 * Errors name the call and the field: "send_email: identifiers must have exactly one of id,
 * email, cio_id". The answer is {"delivery_id": "...", "queued_at": <unix seconds>}.
 */

/* POST /v1/send/email. Also: to, from, reply_to, bcc, subject, preheader, body, body_amp,
 * body_plain (strings), headers (object of strings), fake_bcc, send_to_unsubscribed, tracked,
 * disable_css_preprocessing (booleans), attachments (object of base64 strings). */
CIO_EXTERN cio_status_t cio_send_email(cio_client_t *client, const char *request_json,
                                       const cio_attachment_t *attachments, size_t n_attachments,
                                       char **response_json);
CIO_EXTERN cio_status_t cio_send_email_request(const char *request_json,
                                               const cio_attachment_t *attachments,
                                               size_t n_attachments, cio_request_t **out);

/* POST /v1/send/push. Also: to ("all", "last_used" or a device token), title, message,
 * image_url, link, sound (strings), custom_data, custom_payload, custom_device (objects),
 * send_to_unsubscribed (boolean). */
CIO_EXTERN cio_status_t cio_send_push(cio_client_t *client, const char *request_json,
                                      char **response_json);
CIO_EXTERN cio_status_t cio_send_push_request(const char *request_json, cio_request_t **out);

/* POST /v1/send/sms. Also: to, from (strings), send_to_unsubscribed, tracked (booleans),
 * attachments. */
CIO_EXTERN cio_status_t cio_send_sms(cio_client_t *client, const char *request_json,
                                     const cio_attachment_t *attachments, size_t n_attachments,
                                     char **response_json);
CIO_EXTERN cio_status_t cio_send_sms_request(const char *request_json,
                                             const cio_attachment_t *attachments,
                                             size_t n_attachments, cio_request_t **out);

/* POST /v1/send/inbox_message (web inbox; the common fields only, plus attachments). */
CIO_EXTERN cio_status_t cio_send_inbox_message(cio_client_t *client, const char *request_json,
                                               const cio_attachment_t *attachments,
                                               size_t n_attachments, char **response_json);
CIO_EXTERN cio_status_t cio_send_inbox_message_request(const char *request_json,
                                                       const cio_attachment_t *attachments,
                                                       size_t n_attachments, cio_request_t **out);

/* POST /v1/send/in_app (the common fields only). */
CIO_EXTERN cio_status_t cio_send_in_app(cio_client_t *client, const char *request_json,
                                        char **response_json);
CIO_EXTERN cio_status_t cio_send_in_app_request(const char *request_json, cio_request_t **out);

/* POST /v1/send/whatsapp. Also: to (string), send_to_unsubscribed, tracked (booleans),
 * attachments. */
CIO_EXTERN cio_status_t cio_send_whatsapp(cio_client_t *client, const char *request_json,
                                          const cio_attachment_t *attachments, size_t n_attachments,
                                          char **response_json);
CIO_EXTERN cio_status_t cio_send_whatsapp_request(const char *request_json,
                                                  const cio_attachment_t *attachments,
                                                  size_t n_attachments, cio_request_t **out);

/*
 * POST /v1/campaigns/{broadcast_id}/triggers: triggers an API-triggered broadcast.
 * request_json (NULL = {}) may hold data (object), email_add_duplicates, email_ignore_missing,
 * id_ignore_missing (booleans) and at most one audience: recipients (object), emails, ids,
 * per_user_data (arrays) or data_file_url (string). The answer is {"id": <trigger id>}.
 * Customer.io allows one trigger every 10 seconds per broadcast.
 */
CIO_EXTERN cio_status_t cio_trigger_broadcast(cio_client_t *client, const char *broadcast_id,
                                              const char *request_json, char **response_json);
CIO_EXTERN cio_status_t cio_trigger_broadcast_request(const char *broadcast_id,
                                                      const char *request_json,
                                                      cio_request_t **out);

/* ---- pagination ---- */

#define CIO_PAGE_VERSION 1

/*
 * One page of a listing, passed as the query parameters start and limit. NULL = the first page
 * with the server's default size. start: the "next" value of the previous answer (NULL or "" =
 * not sent; an answer whose "next" is "" was the last page). limit: 0 = not sent; negative is an
 * error.
 */
typedef struct cio_page {
    unsigned int version; /* CIO_PAGE_VERSION */
    const char *start;
    int limit;
} cio_page_t;

#define CIO_PAGE_INIT                                                                              \
    { CIO_PAGE_VERSION, NULL, 0 }

/* ---- customers ---- */

/*
 * The reads about one person take the identifier type of customer_id, always sent as
 * ?id_type=id|email|cio_id. A person that does not exist fails with CIO_E_NOT_FOUND.
 */

/* GET /v1/customers/{id}/attributes -> {"customer": {"id", "identifiers", "attributes",
 * "timestamps", "unsubscribed", "devices"}}. */
CIO_EXTERN cio_status_t cio_customers_get_attributes(cio_client_t *client, cio_id_type_t id_type,
                                                     const char *customer_id, char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_attributes_request(cio_id_type_t id_type,
                                                             const char *customer_id,
                                                             cio_request_t **out);

/* GET /v1/customers?email=<email> -> {"results": [{"id", "email", "cio_id"}, ...]}. */
CIO_EXTERN cio_status_t cio_customers_get_by_email(cio_client_t *client, const char *email,
                                                   char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_by_email_request(const char *email, cio_request_t **out);

/* POST /v1/customers/attributes?id_type=... {"ids": [...]}: 1 to 100 ids, each checked like a
 * customer id -> {"customers": [{"customer": {...}}, ...]} (unknown ids are left out). */
#define CIO_CUSTOMERS_MAX_IDS 100
CIO_EXTERN cio_status_t cio_customers_get_by_ids(cio_client_t *client, cio_id_type_t id_type,
                                                 const char *const *ids, size_t count,
                                                 char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_by_ids_request(cio_id_type_t id_type,
                                                         const char *const *ids, size_t count,
                                                         cio_request_t **out);

/* POST /v1/customers?start=&limit= {"filter": filter_json}: filter_json is a required audience
 * filter object ({"and": [...]}, {"or": [...]}, {"not": {...}}, {"segment": {"id": 1}},
 * {"attribute": {"field", "operator", "value"}}) -> {"identifiers": [...], "ids": [...],
 * "next": "..."}. */
CIO_EXTERN cio_status_t cio_customers_search(cio_client_t *client, const char *filter_json,
                                             const cio_page_t *page, char **response_json);
CIO_EXTERN cio_status_t cio_customers_search_request(const char *filter_json,
                                                     const cio_page_t *page, cio_request_t **out);

/* GET /v1/customers/{id}/segments -> {"segments": [...]}. */
CIO_EXTERN cio_status_t cio_customers_get_segments(cio_client_t *client, cio_id_type_t id_type,
                                                   const char *customer_id, char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_segments_request(cio_id_type_t id_type,
                                                           const char *customer_id,
                                                           cio_request_t **out);

/* GET /v1/customers/{id}/messages?start=&limit=&start_ts=&end_ts= -> {"messages": [...],
 * "next": "..."}. start_ts/end_ts: unix seconds, 0 = not sent, negative is an error. */
CIO_EXTERN cio_status_t cio_customers_get_messages(cio_client_t *client, cio_id_type_t id_type,
                                                   const char *customer_id, const cio_page_t *page,
                                                   int64_t start_ts, int64_t end_ts,
                                                   char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_messages_request(cio_id_type_t id_type,
                                                           const char *customer_id,
                                                           const cio_page_t *page, int64_t start_ts,
                                                           int64_t end_ts, cio_request_t **out);

/* GET /v1/customers/{id}/activities?start=&limit=&type=&name= -> {"activities": [...],
 * "next": "..."}. type (e.g. "event", "attribute_change") and name (for events and attribute
 * changes) may be NULL (not sent). */
CIO_EXTERN cio_status_t cio_customers_get_activities(cio_client_t *client, cio_id_type_t id_type,
                                                     const char *customer_id,
                                                     const cio_page_t *page, const char *type,
                                                     const char *name, char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_activities_request(cio_id_type_t id_type,
                                                             const char *customer_id,
                                                             const cio_page_t *page,
                                                             const char *type, const char *name,
                                                             cio_request_t **out);

/* GET /v1/customers/{id}/relationships?start=&limit= -> {"cio_relationships": [...],
 * "next": "..."}. */
CIO_EXTERN cio_status_t cio_customers_get_relationships(cio_client_t *client, cio_id_type_t id_type,
                                                        const char *customer_id,
                                                        const cio_page_t *page,
                                                        char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_relationships_request(cio_id_type_t id_type,
                                                                const char *customer_id,
                                                                const cio_page_t *page,
                                                                cio_request_t **out);

/* GET /v1/customers/{id}/subscription_preferences?language= -> {"customer": {..., "topics":
 * [...]}}. language (for translated topic names) may be NULL (not sent). */
CIO_EXTERN cio_status_t cio_customers_get_subscription_preferences(cio_client_t *client,
                                                                   cio_id_type_t id_type,
                                                                   const char *customer_id,
                                                                   const char *language,
                                                                   char **response_json);
CIO_EXTERN cio_status_t cio_customers_get_subscription_preferences_request(cio_id_type_t id_type,
                                                                           const char *customer_id,
                                                                           const char *language,
                                                                           cio_request_t **out);

/* ---- segments ---- */

/* GET /v1/segments -> {"segments": [...]}. */
CIO_EXTERN cio_status_t cio_segments_list(cio_client_t *client, char **response_json);
CIO_EXTERN cio_status_t cio_segments_list_request(cio_request_t **out);

/* GET /v1/segments/{segment_id} -> {"segment": {...}}. */
CIO_EXTERN cio_status_t cio_segments_get(cio_client_t *client, const char *segment_id,
                                         char **response_json);
CIO_EXTERN cio_status_t cio_segments_get_request(const char *segment_id, cio_request_t **out);

/* POST /v1/segments {"segment": {"name", "description"?}}: creates a manual segment. name is
 * required text; description may be NULL (not sent). -> {"segment": {...}}. */
CIO_EXTERN cio_status_t cio_segments_create(cio_client_t *client, const char *name,
                                            const char *description, char **response_json);
CIO_EXTERN cio_status_t cio_segments_create_request(const char *name, const char *description,
                                                    cio_request_t **out);

/* DELETE /v1/segments/{segment_id}. */
CIO_EXTERN cio_status_t cio_segments_delete(cio_client_t *client, const char *segment_id,
                                            char **response_json);
CIO_EXTERN cio_status_t cio_segments_delete_request(const char *segment_id, cio_request_t **out);

/* GET /v1/segments/{segment_id}/customer_count -> {"count": n}. */
CIO_EXTERN cio_status_t cio_segments_customer_count(cio_client_t *client, const char *segment_id,
                                                    char **response_json);
CIO_EXTERN cio_status_t cio_segments_customer_count_request(const char *segment_id,
                                                            cio_request_t **out);

/* GET /v1/segments/{segment_id}/membership?start=&limit= -> {"identifiers": [...], "ids":
 * [...], "next": "..."}. */
CIO_EXTERN cio_status_t cio_segments_membership(cio_client_t *client, const char *segment_id,
                                                const cio_page_t *page, char **response_json);
CIO_EXTERN cio_status_t cio_segments_membership_request(const char *segment_id,
                                                        const cio_page_t *page,
                                                        cio_request_t **out);

/* GET /v1/segments/{segment_id}/used_by -> {"used_by": {"campaigns": [...], ...}}. */
CIO_EXTERN cio_status_t cio_segments_used_by(cio_client_t *client, const char *segment_id,
                                             char **response_json);
CIO_EXTERN cio_status_t cio_segments_used_by_request(const char *segment_id, cio_request_t **out);

/* ---- transactional message templates ---- */

/* GET /v1/transactional -> {"messages": [...]}. */
CIO_EXTERN cio_status_t cio_transactional_list(cio_client_t *client, char **response_json);
CIO_EXTERN cio_status_t cio_transactional_list_request(cio_request_t **out);

/* GET /v1/transactional/{transactional_id} -> {"message": {...}}. */
CIO_EXTERN cio_status_t cio_transactional_get(cio_client_t *client, const char *transactional_id,
                                              char **response_json);
CIO_EXTERN cio_status_t cio_transactional_get_request(const char *transactional_id,
                                                      cio_request_t **out);

/* GET /v1/transactional/{transactional_id}/contents: every content variant (one per
 * language) -> {"contents": [...]}. */
CIO_EXTERN cio_status_t cio_transactional_list_variants(cio_client_t *client,
                                                        const char *transactional_id,
                                                        char **response_json);
CIO_EXTERN cio_status_t cio_transactional_list_variants_request(const char *transactional_id,
                                                                cio_request_t **out);

/* GET /v1/transactional/{transactional_id}/language/{language}: one translation, language a
 * non-empty language tag ("fr") -> {"content": {...}}. */
CIO_EXTERN cio_status_t cio_transactional_get_variant(cio_client_t *client,
                                                      const char *transactional_id,
                                                      const char *language, char **response_json);
CIO_EXTERN cio_status_t cio_transactional_get_variant_request(const char *transactional_id,
                                                              const char *language,
                                                              cio_request_t **out);

/*
 * content_json for the two updates below: a JSON object, sent verbatim, replacing the variant
 * entirely. Known fields: body, body_amp, preheader_text, recipient, subject (strings), from_id,
 * reply_to_id (integers), headers (array of {"name", "value"} objects).
 */

/* PUT /v1/transactional/{transactional_id}/content/{content_id} -> {"content": {...}}. */
CIO_EXTERN cio_status_t cio_transactional_update_content(cio_client_t *client,
                                                         const char *transactional_id,
                                                         const char *content_id,
                                                         const char *content_json,
                                                         char **response_json);
CIO_EXTERN cio_status_t cio_transactional_update_content_request(const char *transactional_id,
                                                                 const char *content_id,
                                                                 const char *content_json,
                                                                 cio_request_t **out);

/* PUT /v1/transactional/{transactional_id}/language/{language} -> {"content": {...}}. */
CIO_EXTERN cio_status_t cio_transactional_update_variant(cio_client_t *client,
                                                         const char *transactional_id,
                                                         const char *language,
                                                         const char *content_json,
                                                         char **response_json);
CIO_EXTERN cio_status_t cio_transactional_update_variant_request(const char *transactional_id,
                                                                 const char *language,
                                                                 const char *content_json,
                                                                 cio_request_t **out);

/* GET /v1/transactional/{transactional_id}/metrics?period=&steps= -> {"metric": {"series":
 * {...}}}. period: "hours", "days", "weeks" or "months", NULL = not sent (the server uses days);
 * steps: periods to return, 0 = not sent, negative is an error. */
CIO_EXTERN cio_status_t cio_transactional_metrics(cio_client_t *client,
                                                  const char *transactional_id, const char *period,
                                                  int steps, char **response_json);
CIO_EXTERN cio_status_t cio_transactional_metrics_request(const char *transactional_id,
                                                          const char *period, int steps,
                                                          cio_request_t **out);

/*
 * A boolean query flag that can also be left out, for the int flag parameters below:
 * CIO_FLAG_UNSET (0) sends nothing (the server's default), CIO_FLAG_TRUE (1) sends name=true,
 * CIO_FLAG_FALSE (2) sends name=false. 0 and 1 mean what they did before CIO_FLAG_FALSE existed,
 * so code written then is unchanged (and a library from then refuses 2 rather than misread it).
 * Any other value fails with CIO_E_INVALID_ARGUMENT naming the flag.
 */
typedef enum cio_flag { CIO_FLAG_UNSET = 0, CIO_FLAG_TRUE = 1, CIO_FLAG_FALSE = 2 } cio_flag_t;

/* GET /v1/transactional/{transactional_id}/metrics/links?period=&steps=&unique= -> {"links":
 * [...]}. unique, a cio_flag_t: CIO_FLAG_TRUE counts each person once per link (unique=true),
 * CIO_FLAG_FALSE sends unique=false, CIO_FLAG_UNSET sends nothing. */
CIO_EXTERN cio_status_t cio_transactional_link_metrics(cio_client_t *client,
                                                       const char *transactional_id,
                                                       const char *period, int steps, int unique,
                                                       char **response_json);
CIO_EXTERN cio_status_t cio_transactional_link_metrics_request(const char *transactional_id,
                                                               const char *period, int steps,
                                                               int unique, cio_request_t **out);

#define CIO_DELIVERY_FILTER_VERSION 1

/* Filters for the deliveries of a transactional message. NULL = none. */
typedef struct cio_delivery_filter {
    unsigned int version;  /* CIO_DELIVERY_FILTER_VERSION */
    const char *metric;    /* attempted, sent, delivered, opened, clicked, ...; NULL = not sent */
    const char *state;     /* failed, sent, drafted or attempted; NULL = not sent */
    int64_t start_ts;      /* unix seconds; 0 = not sent */
    int64_t end_ts;        /* unix seconds; 0 = not sent */
    int tracked_responses; /* a cio_flag_t: get_tracked_responses=true (CIO_FLAG_TRUE), =false
                              (CIO_FLAG_FALSE), or not sent (CIO_FLAG_UNSET) */
} cio_delivery_filter_t;

#define CIO_DELIVERY_FILTER_INIT                                                                   \
    { CIO_DELIVERY_FILTER_VERSION, NULL, NULL, 0, 0, 0 }

/* GET /v1/transactional/{transactional_id}/messages?start=&limit=&metric=&state=&start_ts=
 * &end_ts=&get_tracked_responses=: the deliveries sent from a template -> {"messages": [...],
 * "next": "..."}. */
CIO_EXTERN cio_status_t cio_transactional_deliveries(cio_client_t *client,
                                                     const char *transactional_id,
                                                     const cio_page_t *page,
                                                     const cio_delivery_filter_t *filter,
                                                     char **response_json);
CIO_EXTERN cio_status_t cio_transactional_deliveries_request(const char *transactional_id,
                                                             const cio_page_t *page,
                                                             const cio_delivery_filter_t *filter,
                                                             cio_request_t **out);

#ifdef __cplusplus
}
#endif

#endif
