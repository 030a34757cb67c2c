/* Private helpers shared by the App API sources (app_common.c, app_send.c, app_reads.c). */
#ifndef CIO_APP_INTERNAL_H
#define CIO_APP_INTERNAL_H

#include "customerio/app.h"
#include "request_internal.h"
#include "util/buf.h"

/* A request being built: "/v1..." path plus query string, or an out-of-memory flag. */
typedef struct cio_app_req {
    cio_buf_t path; /* path and query, percent-encoded */
    bool has_query; /* a '?' was written */
    bool oom;       /* an append failed; the request must not be sent */
} cio_app_req_t;

/* Appends a literal (already safe) piece of path. */
void cio__app_path(cio_app_req_t *r, const char *literal);
/* Appends one percent-encoded path segment. */
void cio__app_segment(cio_app_req_t *r, const char *value);
/* Appends "?name=value" or "&name=value", value percent-encoded. */
void cio__app_query(cio_app_req_t *r, const char *name, const char *value);
void cio__app_query_int(cio_app_req_t *r, const char *name, long long value);

/* Checks a page (NULL is fine): version, limit >= 0, start like text when non-empty. */
cio_status_t cio__app_check_page(const char *call, const cio_page_t *page);
/* Adds start and limit when given. */
void cio__app_query_page(cio_app_req_t *r, const cio_page_t *page);

/*
 * The end of every App builder: takes the path (and body, NULL = none) over into a new App API
 * request in *out (cio__request_make), or frees them. out NULL: CIO_E_INVALID_ARGUMENT.
 */
cio_status_t cio__app_make(const char *call, const char *method, cio_app_req_t *r, cio_buf_t *body,
                           cio_request_t **out);

/* The start of every App builder: sets *out to NULL when out is non-NULL (cio__app_make refuses
 * a NULL out once the arguments were checked). */
void cio__app_reset_out(cio_request_t **out);

#endif
