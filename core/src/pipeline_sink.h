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

#endif
