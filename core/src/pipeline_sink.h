/*
 * Where the pipeline's batches go, behind one small interface: how an operation is checked and
 * normalised on enqueue, how a batch body is framed, where it is POSTed, and how a 2xx answer
 * names rejected items. sink_track_v2.c is /api/v2/batch; a Pipelines (cdp) sink is another
 * instance of this struct.
 */
#ifndef CIO_PIPELINE_SINK_H
#define CIO_PIPELINE_SINK_H

#include "internal.h"

typedef struct cio_sink {
    const char *name;      /* names the pipeline's calls in errors */
    const char *item_name; /* "operation", "message": names items in errors */
    const char *path;      /* POSTed to, under the API's base URL */
    cio_auth_t auth;       /* which base URL and credentials */
    const char *prefix;    /* a batch body: prefix, items joined by ',', then finish_body */
    size_t suffix_reserve; /* bytes finish_body may add */
    bool (*finish_body)(cio_buf_t *body);
    size_t max_batch_bytes; /* a body stays under this */
    /* Validates one item and appends what goes on the wire to out (e.g. with an id added);
     * label names the item in errors ("operation", "operations[3]"). */
    cio_status_t (*prepare)(const char *call, const char *label, const char *item, cio_buf_t *out);
    /* Reads a 2xx answer's per-item rejections (index within the request). */
    void (*item_errors)(const char *response, size_t len, size_t n_items, cio_item_error_fn fn,
                        void *user);
} cio_sink_t;

extern const cio_sink_t cio__sink_track_v2;
extern const cio_sink_t cio__sink_cdp;

/* Where client sends sink's batches: the sink's path, or the client's cdp_batch_path for the
 * Pipelines API when one was given. */
static inline const char *cio__sink_path(const cio_client_t *client, const cio_sink_t *sink) {
    return sink->auth == CIO_AUTH_CDP && client->cdp_batch_path != NULL ? client->cdp_batch_path
                                                                        : sink->path;
}

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

#endif
