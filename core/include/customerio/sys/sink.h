/*
 * customerio/sys/sink.h - the pipeline's sink interface: where its batches go. A sink owns
 * everything about its API: how one item is checked and completed on enqueue, how a batch body
 * is framed, where it is POSTed and under what size limit, and how its API's answers name
 * rejected items and request-level errors. The pipeline knows only this interface.
 *
 * The library's sinks implement it: Track API v2 (/api/v2/batch, CIO_SINK_TRACK_V2) and the
 * Pipelines API (/v1/batch, CIO_SINK_PIPELINES). In this version a pipeline takes one of those
 * (cio_pipeline_options_t.sink): the buffer a sink writes into (struct cio_buf) is still the
 * library's own, so a caller cannot yet bring a sink; the interface is published so that stores
 * (sys/store.h) and tools can rely on what a sink does, and is versioned like sys/store.h
 * (version first, fields only added at the end with CIO_SINK_VERSION bumped).
 *
 * Threading: a sink holds no state; its functions may be called from any thread at once
 * (prepare on the enqueuing threads, finish_body on the pipeline thread, the readers on the
 * engine thread). Strings are static.
 */
#ifndef CUSTOMERIO_SYS_SINK_H
#define CUSTOMERIO_SYS_SINK_H

#include "../client.h"
#include "../request.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CIO_SINK_VERSION 1

/* The library's growable byte buffer (private). */
struct cio_buf;

/* One rejected item of a batch request: index is its position within that request; reason and
 * field are the API's words (field may be NULL), message a sentence or NULL. The strings are
 * valid during the call. */
typedef void (*cio_sink_item_error_fn)(void *user, size_t index, const char *reason,
                                       const char *field, const char *message);

typedef struct cio_sink cio_sink_t;

struct cio_sink {
    unsigned int version;  /* CIO_SINK_VERSION */
    const char *name;      /* names the pipeline's requests in errors ("pipeline") */
    const char *item_name; /* names one item in errors: "operation", "message" */
    cio_api_t api;         /* whose base URL and credentials the requests use */
    const char *path;      /* POSTed to, under the API's base URL */

    /* A batch body: prefix, the items joined by ',', then finish_body (which may add up to
     * suffix_reserve bytes; false when out of memory). */
    const char *prefix;
    size_t suffix_reserve;
    bool (*finish_body)(struct cio_buf *body);
    size_t max_batch_bytes; /* a body stays under this (the API's limit) */

    /* Validates one item (NUL-terminated JSON text) and appends what goes on the wire to out
     * (e.g. with an id added). call and label name the call and the item in errors
     * ("enqueue", "operation"). Failures are recorded for cio_last_error(). */
    cio_status_t (*prepare)(const char *call, const char *label, const char *item,
                            struct cio_buf *out);
    /* Reads a 2xx answer (len bytes) to a request of n_items items and calls fn once per item
     * the API rejected. */
    void (*item_errors)(const char *response, size_t len, size_t n_items, cio_sink_item_error_fn fn,
                        void *user);
    /* The error code of an answer that refused a request as a whole (len bytes), as the
     * delivery report's reason: malloc'd, or NULL when it names none. NULL = never any. */
    char *(*request_error)(const char *response, size_t len);
    /* Whether client can send to this sink's API (its credentials), failing with a message
     * naming call otherwise. NULL = any client. */
    cio_status_t (*check_client)(cio_client_t *client, const char *call);
};

#ifdef __cplusplus
}
#endif

#endif
