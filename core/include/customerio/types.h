/*
 * customerio/types.h - the opaque handles and the value types that more than one feature header
 * uses: a feature header includes this one (and common.h through it), never another feature
 * header for a type. Included by every public header; you normally include
 * <customerio/customerio.h>.
 */
#ifndef CUSTOMERIO_TYPES_H
#define CUSTOMERIO_TYPES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opaque handles ---- */

/* An opaque client handle. */
typedef struct cio_client cio_client_t;

/* A completion queue (async.h). */
typedef struct cio_queue cio_queue_t;

/* A batching, pacing delivery queue (pipeline.h). */
typedef struct cio_pipeline cio_pipeline_t;

/* An immutable request value. Thread-safe to read and to send from several threads at once. */
typedef struct cio_request cio_request_t;

/* The outcome of cio_v2_send_batch: which items failed and why. Opaque. */
typedef struct cio_batch_result cio_batch_result_t;

/* A list of parsed events. Opaque; read-only once made, so any number of threads may read it. */
typedef struct cio_webhook_events cio_webhook_events_t;

/* A bounded set of recently seen webhook event_ids (webhook.h). */
typedef struct cio_webhook_dedup cio_webhook_dedup_t;

/* ---- values shared by several feature headers ---- */

/* Length of a ULID string plus its NUL. */
#define CIO_ULID_BUFSIZE 27

/* Which identifier a value is, for merges and segment membership. */
typedef enum cio_id_type {
    CIO_ID_TYPE_ID = 0,     /* "id" */
    CIO_ID_TYPE_EMAIL = 1,  /* "email" */
    CIO_ID_TYPE_CIO_ID = 2, /* "cio_id" */
    /* "id" given as a decimal integer (-?[0-9]{1,19}): the Track v2 builders write it as a JSON
     * number ({"id":5}), as a caller's hand-written operation may; elsewhere the same as
     * CIO_ID_TYPE_ID. For bindings whose callers pass integer ids. */
    CIO_ID_TYPE_ID_INTEGER = 3,
    /* The value is a whole identifiers object as JSON text ({"email":"a@b.c"}), written into the
     * operation as is; the operation is then validated exactly as a caller-written one, so it is
     * refused or accepted as that would be. Track v2 person builders only (a binding passing its
     * caller's identifiers on without reading them); refused everywhere else. */
    CIO_ID_TYPE_IDENTIFIERS = 4
} cio_id_type_t;

#define CIO_EVENT_OPTIONS_VERSION 1

/* Optional event fields. NULL options = all defaults. */
typedef struct cio_event_options {
    unsigned int version; /* CIO_EVENT_OPTIONS_VERSION */
    int64_t timestamp;    /* unix seconds; 0 = not sent (Customer.io uses the receipt time) */
    /* De-duplication id of the event. NULL = a fresh ULID, so that a retried request is never
     * counted twice by Customer.io. */
    const char *id;
} cio_event_options_t;

#define CIO_EVENT_OPTIONS_INIT                                                                     \
    { CIO_EVENT_OPTIONS_VERSION, 0, NULL }

/* One failed item of a batch. Strings are owned by the result. */
typedef struct cio_batch_item_error {
    size_t index;        /* the item's index in the caller's array */
    const char *reason;  /* Customer.io's reason ("invalid", "required", ...), the same words for
                            an item refused here before sending ("invalid", "required",
                            "too_large"), or, when the whole request carrying the item failed,
                            cio_status_str() of that failure */
    const char *field;   /* the field at fault ("identifiers", "name", ...), or NULL */
    const char *message; /* a human explanation, or NULL; for an item refused here, the error
                            a single call would give ("send_batch: operations[2]: name is
                            required for this action (a non-empty string)") */
} cio_batch_item_error_t;

/* The outcome of one asynchronous call. Everything it points to is owned by it. */
typedef struct cio_completion {
    uint64_t token;                   /* what the caller gave cio_request_send_async() (or
                                         cio_async_next()) */
    cio_status_t status;              /* as the synchronous call would have returned */
    int http_status;                  /* last HTTP status, 0 if none */
    int attempts;                     /* HTTP attempts made */
    const char *message;              /* the error message; NULL on success */
    const char *response;             /* the response body (NUL-terminated), or NULL */
    size_t response_len;              /* its length */
    cio_batch_result_t *batch_result; /* for cio_v2_send_batch, else NULL */
    /* Pipeline delivery reports (pipeline.h) only, else NULL: Customer.io's reason for a
     * rejected item and the field at fault. Fields are only ever appended to this struct. */
    const char *reason;
    const char *field;
    int retryable; /* as cio_error_t.retryable (errors.h); 0 on success */
    /* What Customer.io's error answer says, as cio_error_t.server_code / server_message
     * (errors.h): its "code", and its explanation ("meta.error", "message" or the first of
     * "errors"); each NULL when the answer has none, and both NULL on success, for a failure
     * without an answer, and in pipeline delivery reports (reason / field above). */
    const char *server_code;
    const char *server_message;
} cio_completion_t;

#ifdef __cplusplus
}
#endif

#endif
