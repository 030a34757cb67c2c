/* Private helpers shared by the App API sources (app_common.c, app_send.c, app_reads.c). */
#ifndef CIO_APP_INTERNAL_H
#define CIO_APP_INTERNAL_H

#include "internal.h"

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
 * Sends the request (App auth) with body (NULL = none), frees path and body, and on success
 * hands the answer to *response_json (when non-NULL; "{}" for an empty body; left NULL for an
 * asynchronous call). *response_json must already be NULL.
 */
cio_status_t cio__app_send(cio_client_t *client, const char *call, const char *method,
                           cio_app_req_t *r, cio_buf_t *body, char **response_json);

/* Sets *response_json to NULL when the pointer is non-NULL. */
void cio__app_reset_response(char **response_json);

#endif
