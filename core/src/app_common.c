/*
 * The App API's plumbing: building "/v1" paths and query strings, pagination, and making the
 * request value every App builder ends with (sent with the App key by request.c).
 */
#include "app_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

void cio_free(void *p) {
    free(p);
}

void cio__app_reset_out(cio_request_t **out) {
    if (out != NULL)
        *out = NULL;
}

void cio__app_path(cio_app_req_t *r, const char *literal) {
    if (!r->oom && !cio__buf_appends(&r->path, literal))
        r->oom = true;
}

void cio__app_segment(cio_app_req_t *r, const char *value) {
    if (!r->oom && !cio__buf_append_path_segment(&r->path, value))
        r->oom = true;
}

void cio__app_query(cio_app_req_t *r, const char *name, const char *value) {
    if (r->oom)
        return;
    bool ok = cio__buf_appends(&r->path, r->has_query ? "&" : "?") &&
              cio__buf_appends(&r->path, name) && cio__buf_appends(&r->path, "=") &&
              cio__buf_append_path_segment(&r->path, value);
    r->has_query = true;
    r->oom = !ok;
}

void cio__app_query_int(cio_app_req_t *r, const char *name, long long value) {
    if (r->oom)
        return;
    bool ok = cio__buf_printf(&r->path, "%s%s=%lld", r->has_query ? "&" : "?", name, value);
    r->has_query = true;
    r->oom = !ok;
}

cio_status_t cio__app_check_page(const char *call, const cio_page_t *page) {
    if (page == NULL)
        return CIO_OK;
    if (page->version == 0 || page->version > CIO_PAGE_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: page.version %u is not supported (use CIO_PAGE_INIT)", call,
                         page->version);
    if (page->limit < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: page.limit is negative", call);
    if (page->start != NULL && page->start[0] != '\0')
        return cio__check_text(call, "page.start", page->start);
    return CIO_OK;
}

void cio__app_query_page(cio_app_req_t *r, const cio_page_t *page) {
    if (page == NULL)
        return;
    if (page->start != NULL && page->start[0] != '\0')
        cio__app_query(r, "start", page->start);
    if (page->limit > 0)
        cio__app_query_int(r, "limit", page->limit);
}

cio_status_t cio__app_make(const char *call, const char *method, cio_app_req_t *r, cio_buf_t *body,
                           cio_request_t **out) {
    if (out == NULL) {
        cio__buf_free(&r->path);
        if (body != NULL)
            cio__buf_free(body);
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: out is NULL", call);
    }
    return cio__request_make(out, call, CIO_API_APP, CIO_REQUEST_PLAIN, method, &r->path, body,
                             r->oom);
}
