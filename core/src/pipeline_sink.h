/*
 * Where batches go, behind one interface (customerio/sys/sink.h): how an item is checked and
 * completed on enqueue, how a batch body is framed, where it is POSTed, and how the API's
 * answers name rejected items and request-level errors. sink_track_v2.c is /api/v2/batch,
 * sink_cdp.c the Pipelines API's /v1/batch; the pipeline (pipeline.c) and the batch calls
 * (batch.c) know only the interface.
 */
#ifndef CIO_PIPELINE_SINK_H
#define CIO_PIPELINE_SINK_H

#include "customerio/pipeline.h"
#include "util/buf.h"
#include "track_v2_internal.h"
#include "http.h"
#include "client_internal.h"
#include "customerio/sys/sink.h"

extern const cio_sink_t cio__sink_track_v2;
extern const cio_sink_t cio__sink_cdp;

/* The library's sink for an option value, or NULL for an unknown one. */
static inline const cio_sink_t *cio__sink_builtin(cio_pipeline_sink_t kind) {
    return kind == CIO_SINK_TRACK_V2    ? &cio__sink_track_v2
           : kind == CIO_SINK_PIPELINES ? &cio__sink_cdp
                                        : NULL;
}

/* sink_track_v2.c: the error code of a Track v2 answer refusing a request as a whole (its first
 * "errors" entry's "reason"), malloc'd, or NULL. */
char *cio__v2_request_error(const char *response, size_t len);

/* The engine's credentials for a sink's API. */
static inline cio_auth_t cio__sink_auth(const cio_sink_t *sink) {
    return sink->api == CIO_API_CDP   ? CIO_AUTH_CDP
           : sink->api == CIO_API_APP ? CIO_AUTH_APP
                                      : CIO_AUTH_TRACK;
}

/* Where client sends sink's batches: the sink's path, or the client's cdp_batch_path for the
 * Pipelines API when one was given. */
static inline const char *cio__sink_path(const cio_client_t *client, const cio_sink_t *sink) {
    return sink->api == CIO_API_CDP && client->cdp_batch_path != NULL ? client->cdp_batch_path
                                                                      : sink->path;
}

/* pipeline.c's one door for items prepared before they reach it (pipeline_message.c's messages
 * from their parts; every other enqueue ends there too): cio__pipeline_enter() checks the
 * pipeline (NULL, made by another process) and gives its sink; cio__pipeline_enqueue_prepared()
 * queues op (freed either way) like cio_pipeline_enqueue(), waiting for room only when
 * may_wait. */
cio_status_t cio__pipeline_enter(cio_pipeline_t *pipeline, const char *call,
                                 const cio_sink_t **sink);
cio_status_t cio__pipeline_enqueue_prepared(cio_pipeline_t *pipeline, cio_buf_t op, uint64_t *seq,
                                            bool may_wait);
/* n >= 1 prepared operations (ops[i], lens[i] bytes; borrowed) queued all together or none, in
 * order, seqs[i] getting their numbers (cio_pipeline_enqueue_requests); call names the caller
 * in messages. */
cio_status_t cio__pipeline_enqueue_prepared_many(cio_pipeline_t *pipeline, const char *call,
                                                 const char *const *ops, const size_t *lens,
                                                 size_t n, uint64_t *seqs, bool may_wait);

/* cdp.c: the time now as the Pipelines API writes it ("2026-11-23T13:45:07.123Z"). */
void cio__cdp_timestamp_now(char out[CIO_CDP_TIMESTAMP_BUFSIZE]);
/* Validates and completes one Pipelines API message (cdp.c). */
cio_status_t cio__cdp_prepare_message(const char *call, const char *label, const char *text,
                                      cio_buf_t *out);
/* The same from its parts (cio_cdp_build); stamp (may be NULL) gets what was filled in. */
cio_status_t cio__cdp_build_message(const char *call, const cio_cdp_message_t *message,
                                    cio_buf_t *out, cio_cdp_stamp_t *stamp);

/*
 * Sends items (validated by the sink first: one bad item fails the call naming it, nothing sent)
 * in as many requests as the sink's size limit needs, concurrently; *result (if non-NULL) gets the
 * per-item outcome. CIO_E_PARTIAL when some items were rejected.
 */
cio_status_t cio__batch_send(cio_client_t *client, const char *call, const cio_sink_t *sink,
                             const char *const *items, size_t count, cio_batch_result_t **result);

/*
 * Why one item of a batch was refused before anything was sent, in Customer.io's words (the
 * same as a 207 answer's): reason "invalid", "required" or "too_large"; field the item's member
 * at fault, or NULL. Static strings.
 */
typedef struct cio_item_fault {
    const char *reason;
    const char *field;
} cio_item_fault_t;

/* A sink's prepare that also fills *why (when non-NULL) for a refused item. */
typedef cio_status_t (*cio_prepare_item_fn)(const char *call, const char *label, const char *item,
                                            cio_buf_t *out, cio_item_fault_t *why);

/* track_v2.c: cio__v2_prepare_operation() with the reason an operation is refused. */
cio_status_t cio__v2_prepare_item(const char *call, const char *label, const char *text,
                                  cio_buf_t *out, cio_item_fault_t *why);

/*
 * Like cio__batch_send(), but an item prepare refuses (CIO_E_INVALID_ARGUMENT,
 * CIO_E_PAYLOAD_TOO_LARGE) does not stop the batch: the valid items are sent, and the refused
 * ones are in *result by their index in items, with prepare's reason and field and its error
 * message. Then CIO_E_PARTIAL (unless a request failed as a whole: its status). Every item
 * refused: nothing is sent, nothing is queued even after cio_async_next(), CIO_E_INVALID_ARGUMENT
 * is returned and *result lists every item (request count 0). Any other failure of prepare (out
 * of memory) fails the call with no result.
 */
cio_status_t cio__batch_send_valid(cio_client_t *client, const char *call, const cio_sink_t *sink,
                                   cio_prepare_item_fn prepare, const char *const *items,
                                   size_t count, cio_batch_result_t **result);
/* The same with the completion queue given (NULL = synchronous) instead of taken from
 * cio_async_next(): cio_v2_send_batch_async. */
cio_status_t cio__batch_send_valid_to(cio_client_t *client, const char *call,
                                      const cio_sink_t *sink, cio_prepare_item_fn prepare,
                                      const char *const *items, size_t count, cio_queue_t *queue,
                                      uint64_t token, cio_batch_result_t **result);

#endif
