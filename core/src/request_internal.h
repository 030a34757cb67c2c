/* Private side of customerio/request.h: the request value and how builders make one. */
#ifndef CIO_REQUEST_INTERNAL_H
#define CIO_REQUEST_INTERNAL_H

#include "util/buf.h"
#include "customerio/request.h"

/* What an executor needs to know about a request beyond its HTTP parts. */
typedef enum cio_request_kind {
    CIO_REQUEST_PLAIN = 0,        /* any route: sent as is */
    CIO_REQUEST_V2_OPERATION = 1, /* one Track v2 operation POSTed to /api/v2/entity: the body
                                     is what a Track v2 pipeline queues */
    CIO_REQUEST_CDP_MESSAGE = 2   /* one Pipelines message POSTed to /v1/<type>: the body is what
                                     a Pipelines pipeline queues */
} cio_request_kind_t;

struct cio_request {
    cio_api_t api;
    cio_request_kind_t kind;
    const char *call;   /* the building call's name, for error messages (a static string) */
    const char *method; /* a static string */
    char *path;         /* NUL-terminated; in the request's own block (cio__request_make) */
    char *body;         /* NUL-terminated, in the same block, or NULL */
    size_t body_len;
};

/*
 * The end of every builder: takes path and body (NULL = none) over into a new request in *out,
 * or frees them. oom says an append failed while they were written (then CIO_E_NOMEM naming
 * call). *out is NULL on any failure.
 */
cio_status_t cio__request_make(cio_request_t **out, const char *call, cio_api_t api,
                               cio_request_kind_t kind, const char *method, cio_buf_t *path,
                               cio_buf_t *body, bool oom);

/* The start of every builder: checks out is non-NULL (CIO_E_INVALID_ARGUMENT naming call) and
 * sets *out to NULL. */
cio_status_t cio__request_begin(const char *call, cio_request_t **out);

/*
 * The classic call's executor: sends request (built by a builder that returned st) the way the
 * call always did - asynchronously when cio_async_next() armed this thread, synchronously
 * otherwise - and frees it. st != CIO_OK: returns st (the builder recorded the error). client
 * NULL: CIO_E_INVALID_ARGUMENT naming the request's call.
 */
cio_status_t cio__request_run(cio_client_t *client, cio_status_t st, cio_request_t *request,
                              char **response_json);

/*
 * The whole body of a classic call: `builder(args..., &request)` then cio__request_run(client,
 * ...), the answer going to response_json (NULL when the call has none). Returns.
 */
#define CIO__REQUEST_RUN(client, response_json, builder, ...)                                      \
    do {                                                                                           \
        cio_request_t *cio_req_ = NULL;                                                            \
        cio_status_t cio_st_ = builder(__VA_ARGS__, &cio_req_);                                    \
        return cio__request_run(client, cio_st_, cio_req_, response_json);                         \
    } while (0)

/* The same for a builder that takes nothing but out (C11 has no empty __VA_ARGS__). */
cio_status_t cio__request_run_builder(cio_client_t *client,
                                      cio_status_t (*builder)(cio_request_t **),
                                      char **response_json);

/* The queue cio_async_next() armed on this thread, consumed; NULL when none was armed or a call
 * failed on this thread since (the classic calls' switch, deprecated). */
cio_queue_t *cio__async_take(uint64_t *token);

#endif
