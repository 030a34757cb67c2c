/*
 * App API reads (and the few writes that go with them): customers, segments and transactional
 * message templates. Every id is checked like a Track id and percent-encoded; optional query
 * parameters are only sent when given.
 */
#include "app_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_read.h"
#include "util/json_write.h"
#include "util/utf8.h"
#include "validate.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static cio_status_t check_id_type(const char *call, cio_id_type_t id_type) {
    if (cio__id_type_name(id_type) == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: id_type is not id, email or cio_id", call);
    return CIO_OK;
}

static cio_status_t check_optional_text(const char *call, const char *field, const char *value) {
    return value != NULL ? cio__check_text(call, field, value) : CIO_OK;
}

/* GET or DELETE of "/v1" + prefix + "/" + id + suffix, without a query. */
static cio_status_t by_id(const char *call, const char *method, const char *prefix,
                          const char *id_field, const char *id, const char *suffix,
                          cio_request_t **out) {
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, id_field, id);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio__app_path(&r, prefix);
    cio__app_segment(&r, id);
    cio__app_path(&r, suffix);
    return cio__app_make(call, method, &r, NULL, out);
}

/* ---- customers ---- */

/* Checks id_type, customer_id and page, and starts "/v1/customers/{id}<suffix>?id_type=...". */
static cio_status_t customer_request(cio_app_req_t *r, const char *call, cio_id_type_t id_type,
                                     const char *customer_id, const char *suffix,
                                     const cio_page_t *page) {
    cio_status_t st = check_id_type(call, id_type);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st == CIO_OK)
        st = cio__app_check_page(call, page);
    if (st != CIO_OK)
        return st;
    cio__app_path(r, "/v1/customers/");
    cio__app_segment(r, customer_id);
    cio__app_path(r, suffix);
    cio__app_query(r, "id_type", cio__id_type_name(id_type));
    cio__app_query_page(r, page);
    return CIO_OK;
}

static cio_status_t customer_get(const char *call, cio_id_type_t id_type, const char *customer_id,
                                 const char *suffix, const cio_page_t *page, cio_request_t **out) {
    cio__app_reset_out(out);
    cio_app_req_t r = {0};
    cio_status_t st = customer_request(&r, call, id_type, customer_id, suffix, page);
    if (st != CIO_OK)
        return st;
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_customers_get_attributes_request(cio_id_type_t id_type, const char *customer_id,
                                                  cio_request_t **out) {
    return customer_get("customers_get_attributes", id_type, customer_id, "/attributes", NULL, out);
}

cio_status_t cio_customers_get_segments_request(cio_id_type_t id_type, const char *customer_id,
                                                cio_request_t **out) {
    return customer_get("customers_get_segments", id_type, customer_id, "/segments", NULL, out);
}

cio_status_t cio_customers_get_relationships_request(cio_id_type_t id_type, const char *customer_id,
                                                     const cio_page_t *page, cio_request_t **out) {
    return customer_get("customers_get_relationships", id_type, customer_id, "/relationships", page,
                        out);
}

cio_status_t cio_customers_get_messages_request(cio_id_type_t id_type, const char *customer_id,
                                                const cio_page_t *page, int64_t start_ts,
                                                int64_t end_ts, cio_request_t **out) {
    const char *call = "customers_get_messages";
    cio__app_reset_out(out);
    if (start_ts < 0 || end_ts < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is negative", call,
                         start_ts < 0 ? "start_ts" : "end_ts");
    cio_app_req_t r = {0};
    cio_status_t st = customer_request(&r, call, id_type, customer_id, "/messages", page);
    if (st != CIO_OK)
        return st;
    if (start_ts > 0)
        cio__app_query_int(&r, "start_ts", (long long)start_ts);
    if (end_ts > 0)
        cio__app_query_int(&r, "end_ts", (long long)end_ts);
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_customers_get_activities_request(cio_id_type_t id_type, const char *customer_id,
                                                  const cio_page_t *page, const char *type,
                                                  const char *name, cio_request_t **out) {
    const char *call = "customers_get_activities";
    cio__app_reset_out(out);
    cio_status_t st = check_optional_text(call, "type", type);
    if (st == CIO_OK)
        st = check_optional_text(call, "name", name);
    cio_app_req_t r = {0};
    if (st == CIO_OK)
        st = customer_request(&r, call, id_type, customer_id, "/activities", page);
    if (st != CIO_OK)
        return st;
    if (type != NULL)
        cio__app_query(&r, "type", type);
    if (name != NULL)
        cio__app_query(&r, "name", name);
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_customers_get_subscription_preferences_request(cio_id_type_t id_type,
                                                                const char *customer_id,
                                                                const char *language,
                                                                cio_request_t **out) {
    const char *call = "customers_get_subscription_preferences";
    cio__app_reset_out(out);
    cio_status_t st = check_optional_text(call, "language", language);
    cio_app_req_t r = {0};
    if (st == CIO_OK)
        st = customer_request(&r, call, id_type, customer_id, "/subscription_preferences", NULL);
    if (st != CIO_OK)
        return st;
    if (language != NULL)
        cio__app_query(&r, "language", language);
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_customers_get_by_email_request(const char *email, cio_request_t **out) {
    const char *call = "customers_get_by_email";
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, "email", email);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/customers");
    cio__app_query(&r, "email", email);
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_customers_get_by_ids_request(cio_id_type_t id_type, const char *const *ids,
                                              size_t count, cio_request_t **out) {
    const char *call = "customers_get_by_ids";
    cio__app_reset_out(out);
    cio_status_t st = check_id_type(call, id_type);
    if (st == CIO_OK && (ids == NULL || count == 0))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: ids is empty", call);
    if (st == CIO_OK && count > CIO_CUSTOMERS_MAX_IDS)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %zu ids given, over the limit of %d", call,
                       count, CIO_CUSTOMERS_MAX_IDS);
    for (size_t i = 0; st == CIO_OK && i < count; i++) {
        char field[32];
        snprintf(field, sizeof(field), "ids[%zu]", i);
        st = cio__check_id(call, field, ids[i]);
    }
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio_buf_t body = {0};
    cio__app_path(&r, "/v1/customers/attributes");
    cio__app_query(&r, "id_type", cio__id_type_name(id_type));
    bool ok = cio__buf_appends(&body, "{\"ids\":[");
    for (size_t i = 0; ok && i < count; i++)
        ok = (i == 0 || cio__buf_appends(&body, ",")) && cio__buf_append_json_string(&body, ids[i]);
    ok = ok && cio__buf_appends(&body, "]}");
    if (!ok)
        r.oom = true;
    return cio__app_make(call, "POST", &r, &body, out);
}

cio_status_t cio_customers_search_request(const char *filter_json, const cio_page_t *page,
                                          cio_request_t **out) {
    const char *call = "customers_search";
    cio__app_reset_out(out);
    cio_status_t st = filter_json == NULL
                          ? cio__fail(CIO_E_INVALID_ARGUMENT, "%s: filter is missing", call)
                          : cio__check_json_object(call, "filter", filter_json);
    if (st == CIO_OK)
        st = cio__app_check_page(call, page);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio_buf_t body = {0};
    cio__app_path(&r, "/v1/customers");
    cio__app_query_page(&r, page);
    if (!cio__buf_appends(&body, "{\"filter\":") || !cio__buf_appends(&body, filter_json) ||
        !cio__buf_appends(&body, "}"))
        r.oom = true;
    return cio__app_make(call, "POST", &r, &body, out);
}

/* ---- segments ---- */

cio_status_t cio_segments_list_request(cio_request_t **out) {
    cio__app_reset_out(out);
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/segments");
    return cio__app_make("segments_list", "GET", &r, NULL, out);
}

cio_status_t cio_segments_get_request(const char *segment_id, cio_request_t **out) {
    return by_id("segments_get", "GET", "/v1/segments/", "segment_id", segment_id, "", out);
}

cio_status_t cio_segments_create_request(const char *name, const char *description,
                                         cio_request_t **out) {
    const char *call = "segments_create";
    cio__app_reset_out(out);
    cio_status_t st = cio__check_text(call, "name", name);
    if (st == CIO_OK && description != NULL && !cio__utf8_valid(description, strlen(description)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: description is not valid UTF-8", call);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio_buf_t body = {0};
    cio__app_path(&r, "/v1/segments");
    bool ok = cio__buf_appends(&body, "{\"segment\":{\"name\":") &&
              cio__buf_append_json_string(&body, name);
    if (ok && description != NULL)
        ok = cio__buf_appends(&body, ",\"description\":") &&
             cio__buf_append_json_string(&body, description);
    ok = ok && cio__buf_appends(&body, "}}");
    if (!ok)
        r.oom = true;
    return cio__app_make(call, "POST", &r, &body, out);
}

cio_status_t cio_segments_delete_request(const char *segment_id, cio_request_t **out) {
    return by_id("segments_delete", "DELETE", "/v1/segments/", "segment_id", segment_id, "", out);
}

cio_status_t cio_segments_customer_count_request(const char *segment_id, cio_request_t **out) {
    return by_id("segments_customer_count", "GET", "/v1/segments/", "segment_id", segment_id,
                 "/customer_count", out);
}

cio_status_t cio_segments_used_by_request(const char *segment_id, cio_request_t **out) {
    return by_id("segments_used_by", "GET", "/v1/segments/", "segment_id", segment_id, "/used_by",
                 out);
}

cio_status_t cio_segments_membership_request(const char *segment_id, const cio_page_t *page,
                                             cio_request_t **out) {
    const char *call = "segments_membership";
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, "segment_id", segment_id);
    if (st == CIO_OK)
        st = cio__app_check_page(call, page);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/segments/");
    cio__app_segment(&r, segment_id);
    cio__app_path(&r, "/membership");
    cio__app_query_page(&r, page);
    return cio__app_make(call, "GET", &r, NULL, out);
}

/* ---- transactional templates ---- */

cio_status_t cio_transactional_list_request(cio_request_t **out) {
    cio__app_reset_out(out);
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/transactional");
    return cio__app_make("transactional_list", "GET", &r, NULL, out);
}

cio_status_t cio_transactional_get_request(const char *transactional_id, cio_request_t **out) {
    return by_id("transactional_get", "GET", "/v1/transactional/", "transactional_id",
                 transactional_id, "", out);
}

cio_status_t cio_transactional_list_variants_request(const char *transactional_id,
                                                     cio_request_t **out) {
    return by_id("transactional_list_variants", "GET", "/v1/transactional/", "transactional_id",
                 transactional_id, "/contents", out);
}

/* "/v1/transactional/{id}/<middle>/{second}" after checking both ids. */
static cio_status_t transactional_pair(cio_app_req_t *r, const char *call, const char *id,
                                       const char *middle, const char *second_field,
                                       const char *second) {
    cio_status_t st = cio__check_id(call, "transactional_id", id);
    if (st == CIO_OK)
        st = cio__check_id(call, second_field, second);
    if (st != CIO_OK)
        return st;
    cio__app_path(r, "/v1/transactional/");
    cio__app_segment(r, id);
    cio__app_path(r, middle);
    cio__app_segment(r, second);
    return CIO_OK;
}

cio_status_t cio_transactional_get_variant_request(const char *transactional_id,
                                                   const char *language, cio_request_t **out) {
    const char *call = "transactional_get_variant";
    cio__app_reset_out(out);
    cio_app_req_t r = {0};
    cio_status_t st =
        transactional_pair(&r, call, transactional_id, "/language/", "language", language);
    if (st != CIO_OK)
        return st;
    return cio__app_make(call, "GET", &r, NULL, out);
}

static cio_status_t transactional_put(const char *call, const char *id, const char *middle,
                                      const char *second_field, const char *second,
                                      const char *content_json, cio_request_t **out) {
    cio__app_reset_out(out);
    cio_app_req_t r = {0};
    cio_status_t st = content_json == NULL
                          ? cio__fail(CIO_E_INVALID_ARGUMENT, "%s: content is missing", call)
                          : cio__check_json_object(call, "content", content_json);
    if (st == CIO_OK)
        st = transactional_pair(&r, call, id, middle, second_field, second);
    if (st == CIO_OK) {
        /* the known fields must have their documented types */
        static const char *const strings[] = {"body",      "body_amp", "preheader_text",
                                              "recipient", "subject",  NULL};
        static const char *const integers[] = {"from_id", "reply_to_id", NULL};
        json_t *c = json_loads(content_json, 0, NULL);
        for (const char *const *f = strings; st == CIO_OK && *f; f++) {
            json_t *v = json_object_get(c, *f);
            if (v != NULL && !json_is_string(v))
                st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: content.%s must be a string (got %s)",
                               call, *f, cio__json_type_name(v));
        }
        for (const char *const *f = integers; st == CIO_OK && *f; f++) {
            json_t *v = json_object_get(c, *f);
            if (v != NULL && !json_is_integer(v))
                st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: content.%s must be an integer (got %s)",
                               call, *f, cio__json_type_name(v));
        }
        json_t *h = json_object_get(c, "headers");
        if (st == CIO_OK && h != NULL && !json_is_array(h))
            st = cio__fail(CIO_E_INVALID_ARGUMENT,
                           "%s: content.headers must be a JSON array "
                           "of {\"name\", \"value\"} (got %s)",
                           call, cio__json_type_name(h));
        json_decref(c);
    }
    if (st != CIO_OK) {
        cio__buf_free(&r.path);
        return st;
    }
    cio_buf_t body = {0};
    if (!cio__buf_appends(&body, content_json))
        r.oom = true;
    return cio__app_make(call, "PUT", &r, &body, out);
}

cio_status_t cio_transactional_update_content_request(const char *transactional_id,
                                                      const char *content_id,
                                                      const char *content_json,
                                                      cio_request_t **out) {
    return transactional_put("transactional_update_content", transactional_id, "/content/",
                             "content_id", content_id, content_json, out);
}

cio_status_t cio_transactional_update_variant_request(const char *transactional_id,
                                                      const char *language,
                                                      const char *content_json,
                                                      cio_request_t **out) {
    return transactional_put("transactional_update_variant", transactional_id, "/language/",
                             "language", language, content_json, out);
}

static cio_status_t check_metrics(const char *call, const char *period, int steps) {
    static const char *const periods[] = {"hours", "days", "weeks", "months", NULL};
    if (period != NULL) {
        bool known = false;
        for (const char *const *p = periods; *p && !known; p++)
            known = strcmp(*p, period) == 0;
        if (!known)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: period must be \"hours\", \"days\", \"weeks\" or \"months\"",
                             call);
    }
    if (steps < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: steps is negative", call);
    return CIO_OK;
}

/* A cio_flag_t argument: set, unset, or an error naming it. */
static cio_status_t check_flag(const char *call, const char *name, int flag) {
    if (flag == CIO_FLAG_UNSET || flag == CIO_FLAG_TRUE || flag == CIO_FLAG_FALSE)
        return CIO_OK;
    return cio__fail(CIO_E_INVALID_ARGUMENT,
                     "%s: %s must be CIO_FLAG_UNSET, CIO_FLAG_TRUE or CIO_FLAG_FALSE (0, 1, 2), "
                     "not %d",
                     call, name, flag);
}

/* name=true or name=false, nothing when unset: a false flag is sent, not dropped. */
static void query_flag(cio_app_req_t *r, const char *name, int flag) {
    if (flag != CIO_FLAG_UNSET)
        cio__app_query(r, name, flag == CIO_FLAG_TRUE ? "true" : "false");
}

static cio_status_t metrics_get(const char *call, const char *id, const char *suffix,
                                const char *period, int steps, int unique, cio_request_t **out) {
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, "transactional_id", id);
    if (st == CIO_OK)
        st = check_metrics(call, period, steps);
    if (st == CIO_OK)
        st = check_flag(call, "unique", unique);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/transactional/");
    cio__app_segment(&r, id);
    cio__app_path(&r, suffix);
    if (period != NULL)
        cio__app_query(&r, "period", period);
    if (steps > 0)
        cio__app_query_int(&r, "steps", steps);
    query_flag(&r, "unique", unique);
    return cio__app_make(call, "GET", &r, NULL, out);
}

cio_status_t cio_transactional_metrics_request(const char *transactional_id, const char *period,
                                               int steps, cio_request_t **out) {
    return metrics_get("transactional_metrics", transactional_id, "/metrics", period, steps, 0,
                       out);
}

cio_status_t cio_transactional_link_metrics_request(const char *transactional_id,
                                                    const char *period, int steps, int unique,
                                                    cio_request_t **out) {
    return metrics_get("transactional_link_metrics", transactional_id, "/metrics/links", period,
                       steps, unique, out);
}

static cio_status_t check_delivery_filter(const char *call, const cio_delivery_filter_t *f) {
    if (f == NULL)
        return CIO_OK;
    if (f->version == 0 || f->version > CIO_DELIVERY_FILTER_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: filter.version %u is not supported (use CIO_DELIVERY_FILTER_INIT)",
                         call, f->version);
    cio_status_t st = check_optional_text(call, "filter.metric", f->metric);
    if (st == CIO_OK)
        st = check_optional_text(call, "filter.state", f->state);
    if (st == CIO_OK && (f->start_ts < 0 || f->end_ts < 0))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: filter.%s is negative", call,
                       f->start_ts < 0 ? "start_ts" : "end_ts");
    if (st == CIO_OK)
        st = check_flag(call, "filter.tracked_responses", f->tracked_responses);
    return st;
}

cio_status_t cio_transactional_deliveries_request(const char *transactional_id,
                                                  const cio_page_t *page,
                                                  const cio_delivery_filter_t *filter,
                                                  cio_request_t **out) {
    const char *call = "transactional_deliveries";
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, "transactional_id", transactional_id);
    if (st == CIO_OK)
        st = cio__app_check_page(call, page);
    if (st == CIO_OK)
        st = check_delivery_filter(call, filter);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio__app_path(&r, "/v1/transactional/");
    cio__app_segment(&r, transactional_id);
    cio__app_path(&r, "/messages");
    cio__app_query_page(&r, page);
    if (filter != NULL) {
        if (filter->metric != NULL)
            cio__app_query(&r, "metric", filter->metric);
        if (filter->state != NULL)
            cio__app_query(&r, "state", filter->state);
        if (filter->start_ts > 0)
            cio__app_query_int(&r, "start_ts", (long long)filter->start_ts);
        if (filter->end_ts > 0)
            cio__app_query_int(&r, "end_ts", (long long)filter->end_ts);
        query_flag(&r, "get_tracked_responses", filter->tracked_responses);
    }
    return cio__app_make(call, "GET", &r, NULL, out);
}

/* ---- the classic calls: builder + cio__request_run ---- */

cio_status_t cio_customers_get_attributes(cio_client_t *client, cio_id_type_t id_type,
                                          const char *customer_id, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_attributes_request, id_type,
                     customer_id);
}

cio_status_t cio_customers_get_segments(cio_client_t *client, cio_id_type_t id_type,
                                        const char *customer_id, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_segments_request, id_type,
                     customer_id);
}

cio_status_t cio_customers_get_relationships(cio_client_t *client, cio_id_type_t id_type,
                                             const char *customer_id, const cio_page_t *page,
                                             char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_relationships_request, id_type,
                     customer_id, page);
}

cio_status_t cio_customers_get_messages(cio_client_t *client, cio_id_type_t id_type,
                                        const char *customer_id, const cio_page_t *page,
                                        int64_t start_ts, int64_t end_ts, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_messages_request, id_type,
                     customer_id, page, start_ts, end_ts);
}

cio_status_t cio_customers_get_activities(cio_client_t *client, cio_id_type_t id_type,
                                          const char *customer_id, const cio_page_t *page,
                                          const char *type, const char *name,
                                          char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_activities_request, id_type,
                     customer_id, page, type, name);
}

cio_status_t cio_customers_get_subscription_preferences(cio_client_t *client, cio_id_type_t id_type,
                                                        const char *customer_id,
                                                        const char *language,
                                                        char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_subscription_preferences_request,
                     id_type, customer_id, language);
}

cio_status_t cio_customers_get_by_email(cio_client_t *client, const char *email,
                                        char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_by_email_request, email);
}

cio_status_t cio_customers_get_by_ids(cio_client_t *client, cio_id_type_t id_type,
                                      const char *const *ids, size_t count, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_get_by_ids_request, id_type, ids, count);
}

cio_status_t cio_customers_search(cio_client_t *client, const char *filter_json,
                                  const cio_page_t *page, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_customers_search_request, filter_json, page);
}

cio_status_t cio_segments_list(cio_client_t *client, char **response_json) {
    return cio__request_run_builder(client, cio_segments_list_request, response_json);
}

cio_status_t cio_segments_get(cio_client_t *client, const char *segment_id, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_get_request, segment_id);
}

cio_status_t cio_segments_create(cio_client_t *client, const char *name, const char *description,
                                 char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_create_request, name, description);
}

cio_status_t cio_segments_delete(cio_client_t *client, const char *segment_id,
                                 char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_delete_request, segment_id);
}

cio_status_t cio_segments_customer_count(cio_client_t *client, const char *segment_id,
                                         char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_customer_count_request, segment_id);
}

cio_status_t cio_segments_used_by(cio_client_t *client, const char *segment_id,
                                  char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_used_by_request, segment_id);
}

cio_status_t cio_segments_membership(cio_client_t *client, const char *segment_id,
                                     const cio_page_t *page, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_segments_membership_request, segment_id, page);
}

cio_status_t cio_transactional_list(cio_client_t *client, char **response_json) {
    return cio__request_run_builder(client, cio_transactional_list_request, response_json);
}

cio_status_t cio_transactional_get(cio_client_t *client, const char *transactional_id,
                                   char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_get_request, transactional_id);
}

cio_status_t cio_transactional_list_variants(cio_client_t *client, const char *transactional_id,
                                             char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_list_variants_request,
                     transactional_id);
}

cio_status_t cio_transactional_get_variant(cio_client_t *client, const char *transactional_id,
                                           const char *language, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_get_variant_request, transactional_id,
                     language);
}

cio_status_t cio_transactional_update_content(cio_client_t *client, const char *transactional_id,
                                              const char *content_id, const char *content_json,
                                              char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_update_content_request,
                     transactional_id, content_id, content_json);
}

cio_status_t cio_transactional_update_variant(cio_client_t *client, const char *transactional_id,
                                              const char *language, const char *content_json,
                                              char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_update_variant_request,
                     transactional_id, language, content_json);
}

cio_status_t cio_transactional_metrics(cio_client_t *client, const char *transactional_id,
                                       const char *period, int steps, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_metrics_request, transactional_id,
                     period, steps);
}

cio_status_t cio_transactional_link_metrics(cio_client_t *client, const char *transactional_id,
                                            const char *period, int steps, int unique,
                                            char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_link_metrics_request,
                     transactional_id, period, steps, unique);
}

cio_status_t cio_transactional_deliveries(cio_client_t *client, const char *transactional_id,
                                          const cio_page_t *page,
                                          const cio_delivery_filter_t *filter,
                                          char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_transactional_deliveries_request, transactional_id,
                     page, filter);
}
