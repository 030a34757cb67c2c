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
    const char *name;   /* names the calls in errors */
    const char *path;   /* POSTed to, under the API's base URL */
    cio_auth_t auth;    /* which base URL and credentials */
    const char *prefix; /* a batch body: prefix, items joined by ',', suffix */
    const char *suffix;
    size_t max_batch_bytes;
    /* Validates op and appends what goes on the wire to out (e.g. with an event id added). */
    cio_status_t (*prepare)(const char *call, const char *op, cio_buf_t *out);
    /* Reads a 2xx answer's per-item rejections (index within the request). */
    void (*item_errors)(const char *response, size_t len, size_t n_items, cio_item_error_fn fn,
                        void *user);
} cio_sink_t;

extern const cio_sink_t cio__sink_track_v2;

#endif
