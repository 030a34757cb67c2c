/*
 * customerio/track_v2.h - Track API v2 (https://track.customer.io/api/v2): one entity operation
 * per request (/entity) or many (/batch), for people, objects and deliveries.
 *
 * An operation is a JSON object: {"type": "person"|"object"|"delivery", "action": ...,
 * "identifiers": {...}, "attributes"?, "name"?, "timestamp"?, "id"?, "cio_relationships"?,
 * "device"?} (merge: "primary" and "secondary" instead of "identifiers"). Every operation is
 * validated before it is sent (an invalid one is never sent; cio_v2_send_batch sends the valid
 * operations of a batch and reports the others):
 * - type/action pairs: person: identify, delete, event, screen, page, add_relationships,
 *   delete_relationships, add_device, delete_device, merge, suppress, unsuppress; object:
 *   identify, delete, event, add_relationships, delete_relationships; delivery: event.
 * - person identifiers: exactly one of "id", "email", "cio_id" (non-empty string, or an integer
 *   id); object identifiers: "object_type_id" and "object_id", or "cio_object_id"; delivery
 *   identifiers: {"id": delivery_id}.
 * - event, screen and page (and delivery event) need a non-empty "name"; add/delete_relationships
 *   a non-empty "cio_relationships" array; add_device/delete_device a "device" object with a
 *   "token"; "attributes" must be an object and "timestamp" a non-negative integer.
 * - an operation is at most 32 KB (CIO_TRACK_V2_MAX_OPERATION_BYTES).
 * Events (event, screen, page) without an "id" get a fresh ULID, so a retried request is never
 * counted twice. Caller JSON is otherwise sent byte for byte.
 *
 * Every function is synchronous and thread-safe (any number of threads on one client).
 */
#ifndef CUSTOMERIO_TRACK_V2_H
#define CUSTOMERIO_TRACK_V2_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_TRACK_V2_MAX_OPERATION_BYTES (32 * 1024)
/* Batches are split so that every request body stays under this many bytes (500 KB). */
#define CIO_TRACK_V2_MAX_BATCH_BYTES 500000

/*
 * Validates one operation (JSON text, see above) and completes it exactly as cio_v2_send_entity
 * and the pipeline would (an event without "id" gets a ULID), without a client and without
 * sending: *prepared_json gets the text that would go on the wire (malloc'd; release it with
 * cio_free()), NULL on failure. Failures: CIO_E_INVALID_ARGUMENT naming the field,
 * CIO_E_PAYLOAD_TOO_LARGE over 32 KB. For checking input before queuing it elsewhere (cio-native
 * import
 * --dry-run). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_v2_prepare(const char *operation_json, char **prepared_json);

/* POST /api/v2/entity with one operation (JSON text, see above). */
CIO_EXTERN cio_status_t cio_v2_send_entity(cio_client_t *client, const char *operation_json);

/*
 * POST /api/v2/batch with count operations. Every operation is validated first (as above); an
 * invalid one is not sent and is reported in *result by its index, with reason and field
 * (Customer.io's words) and a message naming it. The valid operations are packed into as many
 * requests as needed to keep each body under CIO_TRACK_V2_MAX_BATCH_BYTES (never truncated;
 * item order kept), sent concurrently over the client's engine, each retried like any request.
 * Customer.io's per-item rejections (207, or 200 with "errors") are mapped back to the caller's
 * indexes and listed in the same result; the result's errors are ordered by index.
 *
 * Returns:
 * - CIO_OK when every item was sent and accepted;
 * - CIO_E_PARTIAL when the requests went through but some items failed, refused here or
 *   rejected by Customer.io (the message counts them and names the first);
 * - the status of the first request that failed as a whole (its items are listed as failed,
 *   reason = its status name), even when other items were refused here;
 * - when every operation is invalid: nothing is sent (nor queued after cio_async_next()), the
 *   status of the first refusal (CIO_E_INVALID_ARGUMENT, or CIO_E_PAYLOAD_TOO_LARGE over
 *   32 KB) with a message naming it, and *result lists every item with a request count of 0;
 * - CIO_E_INVALID_ARGUMENT for count 0, CIO_E_NOMEM, CIO_E_CONFIG without result.
 * When result is non-NULL, *result receives a new result object in every case above that lists
 * items (else NULL); free it with cio_batch_result_free(). Asynchronous after cio_async_next()
 * (unless every item is invalid): *result stays NULL and the completion carries the result,
 * refused items included.
 */
CIO_EXTERN cio_status_t cio_v2_send_batch(cio_client_t *client, const char *const *operations_json,
                                          size_t count, cio_batch_result_t **result);

/*
 * cio_v2_send_batch made asynchronous with the completion queue given here (no per-thread
 * switch): the valid operations are checked, split and handed to the engine, CIO_OK returns at
 * once, and one cio_completion_t carrying token arrives on queue when every request is done (its
 * batch_result lists the refused items by their index in operations_json, as the synchronous call
 * would). When every operation is refused before sending, nothing is queued: the call returns
 * CIO_E_INVALID_ARGUMENT with *result (when result is non-NULL) listing them, as
 * cio_v2_send_batch does. *result is the caller's (cio_batch_result_free); NULL otherwise.
 * Thread-safe.
 */
CIO_EXTERN cio_status_t cio_v2_send_batch_async(cio_client_t *client,
                                                const char *const *operations_json, size_t count,
                                                cio_queue_t *queue, uint64_t token,
                                                cio_batch_result_t **result);

/* Number of HTTP requests the batch was split into. Thread-safe for concurrent readers. */
CIO_EXTERN size_t cio_batch_result_request_count(const cio_batch_result_t *result);
/* Number of failed items (0 when everything was accepted). */
CIO_EXTERN size_t cio_batch_result_error_count(const cio_batch_result_t *result);
/* The i-th failed item, ordered by index; NULL when i is out of range. Owned by the result. */
CIO_EXTERN const cio_batch_item_error_t *cio_batch_result_error(const cio_batch_result_t *result,
                                                                size_t i);
/* Frees a result; NULL is a no-op. */
CIO_EXTERN void cio_batch_result_free(cio_batch_result_t *result);

/* ---- helpers: one per type and action, each building one operation for /entity ---- */

/* People: id_type says which identifier id_value is. attributes_json/data_json: an object or
 * NULL. options: timestamp and de-duplication id for events (NULL = defaults). */
CIO_EXTERN cio_status_t cio_v2_person_identify(cio_client_t *client, cio_id_type_t id_type,
                                               const char *id_value, const char *attributes_json);
CIO_EXTERN cio_status_t cio_v2_person_delete(cio_client_t *client, cio_id_type_t id_type,
                                             const char *id_value);
CIO_EXTERN cio_status_t cio_v2_person_event(cio_client_t *client, cio_id_type_t id_type,
                                            const char *id_value, const char *name,
                                            const char *data_json,
                                            const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_v2_person_screen(cio_client_t *client, cio_id_type_t id_type,
                                             const char *id_value, const char *screen_name,
                                             const char *data_json,
                                             const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_v2_person_page(cio_client_t *client, cio_id_type_t id_type,
                                           const char *id_value, const char *url,
                                           const char *data_json,
                                           const cio_event_options_t *options);
/* device: {"token", "platform", "last_used"?, "attributes"?}; platform "ios" or "android". */
CIO_EXTERN cio_status_t cio_v2_person_add_device(cio_client_t *client, cio_id_type_t id_type,
                                                 const char *id_value, const char *token,
                                                 const char *platform, int64_t last_used,
                                                 const char *attributes_json);
/* cio_v2_person_add_device() with the device's further members as one JSON object, sent as
 * given after "token" and "platform" ({"last_used": 1700000000, "attributes": {...}}, fields
 * Customer.io adds later), or NULL for none: for bindings whose callers pass device fields by
 * name. The object must not hold "token" or "platform" (they are the arguments); the operation is
 * then validated as a caller-written one (errors name "v2_person_add_device"). Thread-safe. */
CIO_EXTERN cio_status_t cio_v2_person_add_device_fields(cio_client_t *client, cio_id_type_t id_type,
                                                        const char *id_value, const char *token,
                                                        const char *platform,
                                                        const char *fields_json);
CIO_EXTERN cio_status_t cio_v2_person_delete_device(cio_client_t *client, cio_id_type_t id_type,
                                                    const char *id_value, const char *token);
/* relationships_json: a non-empty JSON array of {"identifiers":{"object_type_id","object_id"},
 * "relationship_attributes"?: {...}}. */
CIO_EXTERN cio_status_t cio_v2_person_add_relationships(cio_client_t *client, cio_id_type_t id_type,
                                                        const char *id_value,
                                                        const char *relationships_json);
CIO_EXTERN cio_status_t cio_v2_person_delete_relationships(cio_client_t *client,
                                                           cio_id_type_t id_type,
                                                           const char *id_value,
                                                           const char *relationships_json);
/* The secondary person is merged into the primary one and deleted. */
CIO_EXTERN cio_status_t cio_v2_person_merge(cio_client_t *client, cio_id_type_t primary_type,
                                            const char *primary_value, cio_id_type_t secondary_type,
                                            const char *secondary_value);
CIO_EXTERN cio_status_t cio_v2_person_suppress(cio_client_t *client, cio_id_type_t id_type,
                                               const char *id_value);
CIO_EXTERN cio_status_t cio_v2_person_unsuppress(cio_client_t *client, cio_id_type_t id_type,
                                                 const char *id_value);

/* Objects, identified by object_type_id and object_id, or, with object_type_id NULL, by their
 * cio_object_id given as object_id. relationships_json: a non-empty array of
 * {"identifiers":{"id"|"email"|"cio_id": ...}, "relationship_attributes"?: {...}}. */
CIO_EXTERN cio_status_t cio_v2_object_identify(cio_client_t *client, const char *object_type_id,
                                               const char *object_id, const char *attributes_json);
CIO_EXTERN cio_status_t cio_v2_object_delete(cio_client_t *client, const char *object_type_id,
                                             const char *object_id);
CIO_EXTERN cio_status_t cio_v2_object_event(cio_client_t *client, const char *object_type_id,
                                            const char *object_id, const char *name,
                                            const char *data_json,
                                            const cio_event_options_t *options);
CIO_EXTERN cio_status_t cio_v2_object_add_relationships(cio_client_t *client,
                                                        const char *object_type_id,
                                                        const char *object_id,
                                                        const char *relationships_json);
CIO_EXTERN cio_status_t cio_v2_object_delete_relationships(cio_client_t *client,
                                                           const char *object_type_id,
                                                           const char *object_id,
                                                           const char *relationships_json);

/* A delivery metric as an event: {"type":"delivery","action":"event","identifiers":{"id":
 * delivery_id},"name": metric, "attributes"?: data}. metric: opened, clicked, converted, ... */
CIO_EXTERN cio_status_t cio_v2_delivery_event(cio_client_t *client, const char *delivery_id,
                                              const char *metric, const char *data_json,
                                              const cio_event_options_t *options);

/* ---- builders: the calls above as request values (request.h), without a client ----
 *
 * Each cio_v2_X_request() takes cio_v2_X()'s arguments minus the client, plus out last: it checks
 * them and validates and completes the operation exactly as cio_v2_X() does (same status, same
 * message, naming the call: "v2_person_event: name is required ..."), then stores in *out a
 * request of kind "one Track v2 operation": POST /api/v2/entity, the prepared operation as body
 * (an event already holds its "id", so sending the request twice counts it once). *out is the
 * caller's, NULL on failure: send it with cio_request_send() / cio_request_send_async() or queue
 * it with cio_pipeline_enqueue_request() on a Track v2 pipeline, then cio_request_free() it.
 * Thread-safe; nothing is sent.
 */

/* A caller-written operation (see the top of this file), validated and prepared as
 * cio_v2_send_entity() does (an event without "id" gets one); errors name "send_entity". */
CIO_EXTERN cio_status_t cio_v2_entity_request(const char *operation_json, cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_identify_request(cio_id_type_t id_type, const char *id_value,
                                                       const char *attributes_json,
                                                       cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_delete_request(cio_id_type_t id_type, const char *id_value,
                                                     cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_event_request(cio_id_type_t id_type, const char *id_value,
                                                    const char *name, const char *data_json,
                                                    const cio_event_options_t *options,
                                                    cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_screen_request(cio_id_type_t id_type, const char *id_value,
                                                     const char *screen_name, const char *data_json,
                                                     const cio_event_options_t *options,
                                                     cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_page_request(cio_id_type_t id_type, const char *id_value,
                                                   const char *url, const char *data_json,
                                                   const cio_event_options_t *options,
                                                   cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_add_device_request(cio_id_type_t id_type,
                                                         const char *id_value, const char *token,
                                                         const char *platform, int64_t last_used,
                                                         const char *attributes_json,
                                                         cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_add_device_fields_request(
    cio_id_type_t id_type, const char *id_value, const char *token, const char *platform,
    const char *fields_json, cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_delete_device_request(cio_id_type_t id_type,
                                                            const char *id_value, const char *token,
                                                            cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_add_relationships_request(cio_id_type_t id_type,
                                                                const char *id_value,
                                                                const char *relationships_json,
                                                                cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_delete_relationships_request(cio_id_type_t id_type,
                                                                   const char *id_value,
                                                                   const char *relationships_json,
                                                                   cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_merge_request(cio_id_type_t primary_type,
                                                    const char *primary_value,
                                                    cio_id_type_t secondary_type,
                                                    const char *secondary_value,
                                                    cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_suppress_request(cio_id_type_t id_type, const char *id_value,
                                                       cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_person_unsuppress_request(cio_id_type_t id_type,
                                                         const char *id_value, cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_object_identify_request(const char *object_type_id,
                                                       const char *object_id,
                                                       const char *attributes_json,
                                                       cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_object_delete_request(const char *object_type_id,
                                                     const char *object_id, cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_object_event_request(const char *object_type_id,
                                                    const char *object_id, const char *name,
                                                    const char *data_json,
                                                    const cio_event_options_t *options,
                                                    cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_object_add_relationships_request(const char *object_type_id,
                                                                const char *object_id,
                                                                const char *relationships_json,
                                                                cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_object_delete_relationships_request(const char *object_type_id,
                                                                   const char *object_id,
                                                                   const char *relationships_json,
                                                                   cio_request_t **out);
CIO_EXTERN cio_status_t cio_v2_delivery_event_request(const char *delivery_id, const char *metric,
                                                      const char *data_json,
                                                      const cio_event_options_t *options,
                                                      cio_request_t **out);

/*
 * The pieces of an operation the builders above do not take.
 *
 * cio_v2_operation_with_timestamp_request: operation (a request from any cio_v2_*_request above,
 * left the caller's and unchanged) with "timestamp": timestamp (unix seconds, >= 0; 0 is sent as
 * 0) added as its last member - the time the action happened, which Customer.io takes on every
 * Track v2 operation, not only on events (the builders' cio_event_options_t carry it for events
 * only, and treat 0 as none). The result is validated whole again (an operation over 32 KB:
 * CIO_E_PAYLOAD_TOO_LARGE) and stored in *out as the builders do (the caller's, NULL on failure;
 * errors name "v2_operation_with_timestamp"). CIO_E_INVALID_ARGUMENT: operation NULL or not a
 * Track v2 operation, timestamp negative, or the operation already has a "timestamp" (an event
 * given one in its options). Thread-safe.
 */
CIO_EXTERN cio_status_t cio_v2_operation_with_timestamp_request(const cio_request_t *operation,
                                                                int64_t timestamp,
                                                                cio_request_t **out);

/*
 * One item of a relationships array (the relationships_json of the *_relationships calls): the
 * related object, {"identifiers":{"object_type_id":...,"object_id":...},
 * "relationship_attributes"?: {...}}; object_type_id NULL: object_id is its cio_object_id
 * ({"identifiers":{"cio_object_id":...}}). relationship_attributes_json: a JSON object or NULL
 * (none). The ids are checked as the object builders check them (CIO_E_INVALID_ARGUMENT naming
 * "v2_relationship_json" and the field). *out: the item as compact JSON text, malloc'd, the
 * caller's to release with cio_free(); NULL on failure. Thread-safe.
 */
CIO_EXTERN cio_status_t cio_v2_relationship_json(const char *object_type_id, const char *object_id,
                                                 const char *relationship_attributes_json,
                                                 char **out);

#ifdef __cplusplus
}
#endif

#endif
