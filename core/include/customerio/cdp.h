/*
 * customerio/cdp.h - the Pipelines API (Data Pipelines, https://cdp.customer.io/v1), the
 * Segment-shaped API Customer.io recommends for sending data in. HTTP Basic auth with the
 * Pipelines key (client option cdp_api_key or CUSTOMERIO_CDP_API_KEY) and an empty password;
 * the client's region picks cdp.customer.io or cdp-eu.customer.io, cdp_url overrides it.
 * A key of the newer form "sk_us_...", "pk_eu_..." (prefix pk_ or sk_, then the region us or eu,
 * then "_") is sent as "Authorization: Bearer <key>" instead, and without cdp_url picks its own
 * region's host whatever the client's region (as the official Python client does).
 *
 * A message is a JSON object: "type" (identify, track, page, screen, group, alias), "userId"
 * and/or "anonymousId" (one is required; alias takes "previousId" and "userId"; group takes
 * "groupId"), "traits" (identify, group), "event" and "properties" (track), "name", "category"
 * and "properties" (page, screen), "context", "integrations", "timestamp", "messageId".
 * Every message is validated before anything is sent, and completed by the core:
 * - "messageId": a ULID unless given (Customer.io de-duplicates on it, so retries never count
 *   twice);
 * - "timestamp": now, ISO-8601 with milliseconds in UTC ("2026-11-23T13:45:07.123Z"), unless given;
 * - "context.library": {"name":"customerio-native","version":...} unless given.
 * A message is at most 32 KB (CIO_CDP_MAX_MESSAGE_BYTES). Numbers keep their exact spelling.
 *
 * Strict mode: every Pipelines request carries "X-Strict-Mode: 1" unless the client was made
 * with cdp_permissive = 1 (client.h), so Customer.io answers 400 with {"code","message"} to a
 * message it cannot accept (the call fails with CIO_E_BAD_REQUEST, a pipeline reports it)
 * instead of answering 200 and dropping it.
 *
 * Every function is synchronous (or asynchronous after cio_async_next) and thread-safe.
 */
#ifndef CUSTOMERIO_CDP_H
#define CUSTOMERIO_CDP_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_CDP_MAX_MESSAGE_BYTES (32 * 1024)
/* Batches are split so that every /v1/batch body stays under this many bytes (500 KB). */
#define CIO_CDP_MAX_BATCH_BYTES 500000

#define CIO_CDP_OPTIONS_VERSION 1

/* Optional parts of a message. NULL options = none. Strings are borrowed for the call. */
typedef struct cio_cdp_options {
    unsigned int version;          /* CIO_CDP_OPTIONS_VERSION */
    const char *message_id;        /* NULL = a fresh ULID */
    const char *timestamp;         /* ISO-8601; NULL = now */
    const char *context_json;      /* a JSON object, or NULL */
    const char *integrations_json; /* a JSON object, or NULL */
    const char *category;          /* page and screen only; NULL = none */
} cio_cdp_options_t;

#define CIO_CDP_OPTIONS_INIT                                                                       \
    { .version = CIO_CDP_OPTIONS_VERSION }

/*
 * Validates one message (JSON text, see above) and completes it exactly as cio_cdp_send would,
 * without sending anything and without a client: *prepared_json gets the JSON text that would go
 * on the wire (malloc'd; release it with cio_free()), NULL on failure. The failures of
 * cio_cdp_send's validation: CIO_E_INVALID_ARGUMENT naming the field, CIO_E_PAYLOAD_TOO_LARGE
 * over 32 KB. Sending the result (cio_cdp_send, cio_cdp_batch, a pipeline) keeps its messageId
 * and timestamp. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_cdp_prepare(const char *message_json, char **prepared_json);

/*
 * A message given by its parts, for callers that hold them apart (the bindings, the typed helpers
 * below): cio_cdp_build() writes the JSON text from them, then validates and completes it like
 * cio_cdp_prepare(), so the rules and the errors are the same. Strings are borrowed for the call,
 * UTF-8, NULL = absent; the *_json members are JSON objects (text). Which members a type takes:
 * see the top of this file (the others are sent as given, like the members of a JSON message).
 * Version 2 added options_json. Structs of an older version are still accepted (read up to their
 * last member). New members are only ever added at the end, with the version bumped.
 */
#define CIO_CDP_MESSAGE_VERSION 2
typedef struct cio_cdp_message {
    unsigned int version;          /* CIO_CDP_MESSAGE_VERSION */
    const char *type;              /* "identify", "track", "page", "screen", "group", "alias" */
    const char *user_id;           /* userId */
    const char *anonymous_id;      /* anonymousId */
    const char *previous_id;       /* previousId (alias) */
    const char *group_id;          /* groupId (group) */
    const char *event;             /* event (track) */
    const char *name;              /* name (page, screen) */
    const char *category;          /* category (page, screen) */
    const char *traits_json;       /* traits (identify, group) */
    const char *properties_json;   /* properties (track, page, screen) */
    const char *context_json;      /* context */
    const char *integrations_json; /* integrations */
    const char *timestamp;         /* ISO-8601; NULL = now */
    const char *message_id;        /* NULL = a fresh ULID */
    /* version 2: */
    const char *options_json; /* a JSON object sent as the top-level "options" member (the
                                 analytics libraries' per-call options), or NULL = none */
} cio_cdp_message_t;

#define CIO_CDP_MESSAGE_INIT                                                                       \
    { .version = CIO_CDP_MESSAGE_VERSION }

/* "2026-11-23T13:45:07.123Z" and its NUL. */
#define CIO_CDP_TIMESTAMP_BUFSIZE 32

/* What the core filled in when it completed a message, so that a caller can show the message as
 * sent without reading it back: each member is empty ("") when the message had its own. */
typedef struct cio_cdp_stamp {
    char message_id[CIO_ULID_BUFSIZE];
    char timestamp[CIO_CDP_TIMESTAMP_BUFSIZE];
} cio_cdp_stamp_t;

/*
 * Builds one message from its parts, validated and completed like cio_cdp_prepare():
 * *prepared_json gets the JSON text that would go on the wire (malloc'd; release it with
 * cio_free()), NULL on failure; *stamp (if non-NULL) what the core filled in. Errors as
 * cio_cdp_prepare(), plus CIO_E_INVALID_ARGUMENT for a *_json member that is not one JSON value
 * or a message->version this library does not know. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_cdp_build(const cio_cdp_message_t *message, char **prepared_json,
                                      cio_cdp_stamp_t *stamp);

/* POSTs one message (JSON text, see above) to /v1/<its type>. */
CIO_EXTERN cio_status_t cio_cdp_send(cio_client_t *client, const char *message_json);

/* Typed helpers: each builds one message and sends it like cio_cdp_send. user_id or
 * anonymous_id may be NULL, not both. JSON arguments: an object or NULL. */
CIO_EXTERN cio_status_t cio_cdp_identify(cio_client_t *client, const char *user_id,
                                         const char *anonymous_id, const char *traits_json,
                                         const cio_cdp_options_t *options);
CIO_EXTERN cio_status_t cio_cdp_track(cio_client_t *client, const char *user_id,
                                      const char *anonymous_id, const char *event,
                                      const char *properties_json,
                                      const cio_cdp_options_t *options);
CIO_EXTERN cio_status_t cio_cdp_page(cio_client_t *client, const char *user_id,
                                     const char *anonymous_id, const char *name,
                                     const char *properties_json, const cio_cdp_options_t *options);
CIO_EXTERN cio_status_t cio_cdp_screen(cio_client_t *client, const char *user_id,
                                       const char *anonymous_id, const char *name,
                                       const char *properties_json,
                                       const cio_cdp_options_t *options);
CIO_EXTERN cio_status_t cio_cdp_group(cio_client_t *client, const char *user_id,
                                      const char *anonymous_id, const char *group_id,
                                      const char *traits_json, const cio_cdp_options_t *options);
CIO_EXTERN cio_status_t cio_cdp_alias(cio_client_t *client, const char *previous_id,
                                      const char *user_id, const cio_cdp_options_t *options);

/* ---- builders: the calls above as request values (request.h), without a client ----
 *
 * Each cio_cdp_X_request() takes cio_cdp_X()'s arguments minus the client, plus out last; it
 * validates and completes the message exactly as cio_cdp_X() does (same status, same message,
 * naming the call), and stores in *out a request of kind "one Pipelines message": POST /v1/<type>
 * to the Pipelines API, the completed message as body (its messageId and timestamp are fixed
 * here, so sending it twice counts it once). cio_cdp_message_request() does the same for
 * cio_cdp_send()'s input (errors name "cdp_send"). *out is the caller's, NULL on failure: send it
 * with cio_request_send() / cio_request_send_async() (the client needs cdp_api_key) or queue it
 * with cio_pipeline_enqueue_request() on a Pipelines pipeline, then cio_request_free() it.
 * Thread-safe; nothing is sent.
 */
CIO_EXTERN cio_status_t cio_cdp_message_request(const char *message_json, cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_identify_request(const char *user_id, const char *anonymous_id,
                                                 const char *traits_json,
                                                 const cio_cdp_options_t *options,
                                                 cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_track_request(const char *user_id, const char *anonymous_id,
                                              const char *event, const char *properties_json,
                                              const cio_cdp_options_t *options,
                                              cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_page_request(const char *user_id, const char *anonymous_id,
                                             const char *name, const char *properties_json,
                                             const cio_cdp_options_t *options, cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_screen_request(const char *user_id, const char *anonymous_id,
                                               const char *name, const char *properties_json,
                                               const cio_cdp_options_t *options,
                                               cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_group_request(const char *user_id, const char *anonymous_id,
                                              const char *group_id, const char *traits_json,
                                              const cio_cdp_options_t *options,
                                              cio_request_t **out);
CIO_EXTERN cio_status_t cio_cdp_alias_request(const char *previous_id, const char *user_id,
                                              const cio_cdp_options_t *options,
                                              cio_request_t **out);

/*
 * POSTs count messages to /v1/batch ({"batch":[...], "sentAt": now}), split into as many
 * requests as keep each body under CIO_CDP_MAX_BATCH_BYTES, sent concurrently. One invalid
 * message fails the call naming messages[i] and nothing is sent. *result as for
 * cio_v2_send_batch (a request that fails lists every message it carried).
 */
CIO_EXTERN cio_status_t cio_cdp_batch(cio_client_t *client, const char *const *messages_json,
                                      size_t count, cio_batch_result_t **result);

#ifdef __cplusplus
}
#endif

#endif
