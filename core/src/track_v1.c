/*
 * Track API v1: one builder per endpoint (cio_X_request), validating everything before building
 * the request, and the classic call cio_X = that builder + cio__request_run.
 */
#include "customerio/track.h"
#include "request_internal.h"
#include "util/json_read.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The end of every builder here: checks the body size, then takes path and body over into *out
 * (cio__request_make). */
static cio_status_t make_v1(cio_request_t **out, const char *call, const char *method,
                            cio_buf_t *path, cio_buf_t *body, bool oom) {
    if (!oom && body != NULL && body->len > CIO_TRACK_V1_MAX_BODY_BYTES) {
        cio_status_t st =
            cio__fail(CIO_E_PAYLOAD_TOO_LARGE,
                      "%s: request body is %zu bytes, over the Track API limit of %d bytes", call,
                      body->len, CIO_TRACK_V1_MAX_BODY_BYTES);
        cio__buf_free(path);
        cio__buf_free(body);
        return st;
    }
    return cio__request_make(out, call, CIO_API_TRACK, CIO_REQUEST_PLAIN, method, path, body, oom);
}

/* "/api/v1/customers/<id>" + suffix */
static bool customer_path(cio_buf_t *path, const char *customer_id, const char *suffix) {
    return cio__buf_appends(path, "/api/v1/customers/") &&
           cio__buf_append_path_segment(path, customer_id) && cio__buf_appends(path, suffix);
}

cio_status_t cio_identify_request(const char *customer_id, const char *attributes_json,
                                  cio_request_t **out) {
    const char *call = "identify";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st == CIO_OK)
        st = cio__check_json_object(call, "attributes", attributes_json);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = customer_path(&path, customer_id, "") &&
              cio__buf_appends(&body, attributes_json != NULL ? attributes_json : "{}");
    return make_v1(out, call, "PUT", &path, &body, !ok);
}

cio_status_t cio_identify(cio_client_t *client, const char *customer_id,
                          const char *attributes_json) {
    CIO__REQUEST_RUN(client, NULL, cio_identify_request, customer_id, attributes_json);
}

static cio_status_t no_body(cio_request_t **out, const char *call, const char *method,
                            const char *customer_id, const char *suffix) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0};
    bool ok = customer_path(&path, customer_id, suffix);
    return make_v1(out, call, method, &path, NULL, !ok);
}

cio_status_t cio_delete_request(const char *customer_id, cio_request_t **out) {
    return no_body(out, "delete", "DELETE", customer_id, "");
}

cio_status_t cio_delete(cio_client_t *client, const char *customer_id) {
    CIO__REQUEST_RUN(client, NULL, cio_delete_request, customer_id);
}

cio_status_t cio_suppress_request(const char *customer_id, cio_request_t **out) {
    return no_body(out, "suppress", "POST", customer_id, "/suppress");
}

cio_status_t cio_suppress(cio_client_t *client, const char *customer_id) {
    CIO__REQUEST_RUN(client, NULL, cio_suppress_request, customer_id);
}

cio_status_t cio_unsuppress_request(const char *customer_id, cio_request_t **out) {
    return no_body(out, "unsuppress", "POST", customer_id, "/unsuppress");
}

cio_status_t cio_unsuppress(cio_client_t *client, const char *customer_id) {
    CIO__REQUEST_RUN(client, NULL, cio_unsuppress_request, customer_id);
}

/*
 * Builds {"name", "type"?, "anonymous_id"?, "data", "timestamp"?, "id"} after validating
 * every part. name_field is how the caller knows the name ("name", "url", "screen_name").
 */
static cio_status_t build_event(cio_buf_t *body, const char *call, const char *name_field,
                                const char *name, const char *type, const char *anonymous_id,
                                const char *data_json, const cio_event_options_t *o) {
    cio_status_t st;
    if ((st = cio__check_text(call, name_field, name)) != CIO_OK ||
        (anonymous_id != NULL && (st = cio__check_id(call, "anonymous_id", anonymous_id))) ||
        (st = cio__check_json_object(call, "data", data_json)) != CIO_OK ||
        (st = cio__check_event_options(call, o)) != CIO_OK)
        return st;
    char ulid[CIO_ULID_BUFSIZE];
    const char *id = o != NULL ? o->id : NULL;
    if (id == NULL) {
        if ((st = cio_ulid(ulid)) != CIO_OK)
            return st;
        id = ulid;
    }
    bool ok = cio__buf_appends(body, "{\"name\":") && cio__buf_append_json_string(body, name);
    if (ok && type != NULL)
        ok = cio__buf_printf(body, ",\"type\":\"%s\"", type);
    if (ok && anonymous_id != NULL)
        ok = cio__buf_appends(body, ",\"anonymous_id\":") &&
             cio__buf_append_json_string(body, anonymous_id);
    ok = ok && cio__buf_appends(body, ",\"data\":") &&
         cio__buf_appends(body, data_json != NULL ? data_json : "{}");
    if (ok && o != NULL && o->timestamp > 0)
        ok = cio__buf_printf(body, ",\"timestamp\":%lld", (long long)o->timestamp);
    ok = ok && cio__buf_appends(body, ",\"id\":") && cio__buf_append_json_string(body, id) &&
         cio__buf_appends(body, "}");
    return ok ? CIO_OK : cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
}

static cio_status_t customer_event(cio_request_t **out, const char *call, const char *customer_id,
                                   const char *name_field, const char *name, const char *type,
                                   const char *data_json, const cio_event_options_t *o) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    cio_buf_t path = {0}, body = {0};
    if (st == CIO_OK)
        st = build_event(&body, call, name_field, name, type, NULL, data_json, o);
    if (st != CIO_OK) {
        cio__buf_free(&body);
        return st;
    }
    bool ok = customer_path(&path, customer_id, "/events");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_track_request(const char *customer_id, const char *name, const char *data_json,
                               const cio_event_options_t *options, cio_request_t **out) {
    return customer_event(out, "track", customer_id, "name", name, NULL, data_json, options);
}

cio_status_t cio_track(cio_client_t *client, const char *customer_id, const char *name,
                       const char *data_json, const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_track_request, customer_id, name, data_json, options);
}

cio_status_t cio_pageview_request(const char *customer_id, const char *url, const char *data_json,
                                  const cio_event_options_t *options, cio_request_t **out) {
    return customer_event(out, "pageview", customer_id, "url", url, "page", data_json, options);
}

cio_status_t cio_pageview(cio_client_t *client, const char *customer_id, const char *url,
                          const char *data_json, const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_pageview_request, customer_id, url, data_json, options);
}

cio_status_t cio_screen_request(const char *customer_id, const char *screen_name,
                                const char *data_json, const cio_event_options_t *options,
                                cio_request_t **out) {
    return customer_event(out, "screen", customer_id, "screen_name", screen_name, "screen",
                          data_json, options);
}

cio_status_t cio_screen(cio_client_t *client, const char *customer_id, const char *screen_name,
                        const char *data_json, const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_screen_request, customer_id, screen_name, data_json,
                     options);
}

cio_status_t cio_backfill_request(const char *customer_id, const char *name, int64_t timestamp,
                                  const char *data_json, cio_request_t **out) {
    cio_status_t st = cio__request_begin("backfill", out);
    if (st != CIO_OK)
        return st;
    if (timestamp <= 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "backfill: timestamp is required (unix seconds, > 0)");
    cio_event_options_t o = CIO_EVENT_OPTIONS_INIT;
    o.timestamp = timestamp;
    return customer_event(out, "backfill", customer_id, "name", name, NULL, data_json, &o);
}

cio_status_t cio_backfill(cio_client_t *client, const char *customer_id, const char *name,
                          int64_t timestamp, const char *data_json) {
    CIO__REQUEST_RUN(client, NULL, cio_backfill_request, customer_id, name, timestamp, data_json);
}

cio_status_t cio_track_anonymous_request(const char *anonymous_id, const char *name,
                                         const char *data_json, const cio_event_options_t *options,
                                         cio_request_t **out) {
    const char *call = "track_anonymous";
    cio_status_t st = cio__request_begin(call, out);
    cio_buf_t path = {0}, body = {0};
    if (st == CIO_OK)
        st = build_event(&body, call, "name", name, NULL, anonymous_id, data_json, options);
    if (st != CIO_OK) {
        cio__buf_free(&body);
        return st;
    }
    bool ok = cio__buf_appends(&path, "/api/v1/events");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_track_anonymous(cio_client_t *client, const char *anonymous_id, const char *name,
                                 const char *data_json, const cio_event_options_t *options) {
    CIO__REQUEST_RUN(client, NULL, cio_track_anonymous_request, anonymous_id, name, data_json,
                     options);
}

/* PUT /customers/{customer_id}/devices and the body up to the device's first optional member:
 * {"device":{"id":...,"platform":"..." (platform was checked to be a known name). */
static bool device_request(cio_buf_t *path, cio_buf_t *body, const char *customer_id,
                           const char *device_id, const char *platform) {
    return customer_path(path, customer_id, "/devices") &&
           cio__buf_appends(body, "{\"device\":{\"id\":") &&
           cio__buf_append_json_string(body, device_id) &&
           cio__buf_printf(body, ",\"platform\":\"%s\"", platform);
}

cio_status_t cio_add_device_request(const char *customer_id, const char *device_id,
                                    const char *platform, int64_t last_used,
                                    const char *attributes_json, cio_request_t **out) {
    const char *call = "add_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st == CIO_OK)
        st = cio__check_device(call, "device_id", device_id, platform, last_used, attributes_json);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = device_request(&path, &body, customer_id, device_id, platform);
    if (ok && last_used > 0)
        ok = cio__buf_printf(&body, ",\"last_used\":%lld", (long long)last_used);
    if (ok && attributes_json != NULL)
        ok =
            cio__buf_appends(&body, ",\"attributes\":") && cio__buf_appends(&body, attributes_json);
    ok = ok && cio__buf_appends(&body, "}}");
    return make_v1(out, call, "PUT", &path, &body, !ok);
}

cio_status_t cio_add_device(cio_client_t *client, const char *customer_id, const char *device_id,
                            const char *platform, int64_t last_used, const char *attributes_json) {
    CIO__REQUEST_RUN(client, NULL, cio_add_device_request, customer_id, device_id, platform,
                     last_used, attributes_json);
}

cio_status_t cio_add_device_fields_request(const char *customer_id, const char *device_id,
                                           const char *platform, const char *fields_json,
                                           cio_request_t **out) {
    const char *call = "add_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st == CIO_OK)
        st = cio__check_device(call, "device_id", device_id, platform, 0, NULL);
    cio_json_value_t fields = {0};
    if (st == CIO_OK)
        st = cio__check_device_fields(call, fields_json, "id", &fields);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = device_request(&path, &body, customer_id, device_id, platform);
    if (ok && fields_json != NULL && cio__jcount(&fields) > 0)
        ok = cio__buf_appends(&body, ",") &&
             cio__buf_append(&body, fields.text + 1, fields.len - 2); /* the members, as given */
    ok = ok && cio__buf_appends(&body, "}}");
    return make_v1(out, call, "PUT", &path, &body, !ok);
}

cio_status_t cio_add_device_fields(cio_client_t *client, const char *customer_id,
                                   const char *device_id, const char *platform,
                                   const char *fields_json) {
    CIO__REQUEST_RUN(client, NULL, cio_add_device_fields_request, customer_id, device_id, platform,
                     fields_json);
}

cio_status_t cio_delete_device_request(const char *customer_id, const char *device_id,
                                       cio_request_t **out) {
    const char *call = "delete_device";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "customer_id", customer_id);
    if (st == CIO_OK)
        st = cio__check_id(call, "device_id", device_id);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0};
    bool ok = customer_path(&path, customer_id, "/devices/") &&
              cio__buf_append_path_segment(&path, device_id);
    return make_v1(out, call, "DELETE", &path, NULL, !ok);
}

cio_status_t cio_delete_device(cio_client_t *client, const char *customer_id,
                               const char *device_id) {
    CIO__REQUEST_RUN(client, NULL, cio_delete_device_request, customer_id, device_id);
}

cio_status_t cio_merge_customers_request(cio_id_type_t primary_type, const char *primary_id,
                                         cio_id_type_t secondary_type, const char *secondary_id,
                                         cio_request_t **out) {
    const char *call = "merge_customers";
    cio_status_t st = cio__request_begin(call, out);
    const char *ptype = cio__id_type_name(primary_type), *stype = cio__id_type_name(secondary_type);
    if (st == CIO_OK && (ptype == NULL || stype == NULL))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s_type is not id, email or cio_id", call,
                       ptype == NULL ? "primary" : "secondary");
    if (st == CIO_OK)
        st = cio__check_id(call, "primary_id", primary_id);
    if (st == CIO_OK)
        st = cio__check_id(call, "secondary_id", secondary_id);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = cio__buf_appends(&path, "/api/v1/merge_customers") &&
              cio__buf_printf(&body, "{\"primary\":{\"%s\":", ptype) &&
              cio__buf_append_json_string(&body, primary_id) &&
              cio__buf_printf(&body, "},\"secondary\":{\"%s\":", stype) &&
              cio__buf_append_json_string(&body, secondary_id) && cio__buf_appends(&body, "}}");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_merge_customers(cio_client_t *client, cio_id_type_t primary_type,
                                 const char *primary_id, cio_id_type_t secondary_type,
                                 const char *secondary_id) {
    CIO__REQUEST_RUN(client, NULL, cio_merge_customers_request, primary_type, primary_id,
                     secondary_type, secondary_id);
}

static bool in_list(const char *value, const char *const *list) {
    for (; *list != NULL; list++) {
        if (strcmp(value, *list) == 0)
            return true;
    }
    return false;
}

cio_status_t cio_track_push_event_request(const char *delivery_id, const char *event,
                                          const char *device_id, int64_t timestamp,
                                          cio_request_t **out) {
    static const char *const events[] = {"opened", "converted", "delivered", NULL};
    const char *call = "track_push_event";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "delivery_id", delivery_id);
    if (st == CIO_OK && (event == NULL || !in_list(event, events)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT,
                       "%s: event must be \"opened\", \"converted\" or \"delivered\"", call);
    if (st == CIO_OK)
        st = cio__check_id(call, "device_id", device_id);
    if (st == CIO_OK && timestamp < 0)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: timestamp is negative", call);
    if (st != CIO_OK)
        return st;
    if (timestamp == 0) /* "now" is when the request is built */
        timestamp = (int64_t)time(NULL);
    cio_buf_t path = {0}, body = {0};
    /* on the track host outside /api/v1, where both official gems (5.x, 6.2) post it */
    bool ok = cio__buf_appends(&path, "/push/events") &&
              cio__buf_appends(&body, "{\"delivery_id\":") &&
              cio__buf_append_json_string(&body, delivery_id) &&
              cio__buf_printf(&body, ",\"event\":\"%s\",\"device_id\":", event) &&
              cio__buf_append_json_string(&body, device_id) &&
              cio__buf_printf(&body, ",\"timestamp\":%lld}", (long long)timestamp);
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_track_push_event(cio_client_t *client, const char *delivery_id, const char *event,
                                  const char *device_id, int64_t timestamp) {
    CIO__REQUEST_RUN(client, NULL, cio_track_push_event_request, delivery_id, event, device_id,
                     timestamp);
}

static bool append_optional_text(cio_buf_t *b, const char *key, const char *value) {
    if (value == NULL)
        return true;
    return cio__buf_printf(b, ",\"%s\":", key) && cio__buf_append_json_string(b, value);
}

cio_status_t cio_track_delivery_metric_request(const char *metric, const char *delivery_id,
                                               int64_t timestamp, const char *recipient,
                                               const char *reason, const char *href,
                                               cio_request_t **out) {
    static const char *const metrics[] = {
        "sent",    "delivered", "opened",        "clicked",  "converted",    "bounced", "dropped",
        "spammed", "failed",    "undeliverable", "deferred", "unsubscribed", NULL};
    const char *call = "track_delivery_metric";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK && (metric == NULL || !in_list(metric, metrics)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: metric is not a known delivery metric", call);
    if (st == CIO_OK)
        st = cio__check_id(call, "delivery_id", delivery_id);
    if (st == CIO_OK && timestamp < 0)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: timestamp is negative", call);
    if (st == CIO_OK && recipient != NULL)
        st = cio__check_text(call, "recipient", recipient);
    if (st == CIO_OK && reason != NULL)
        st = cio__check_text(call, "reason", reason);
    if (st == CIO_OK && href != NULL)
        st = cio__check_text(call, "href", href);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = cio__buf_appends(&path, "/api/v1/metrics") &&
              cio__buf_appends(&body, "{\"delivery_id\":") &&
              cio__buf_append_json_string(&body, delivery_id) &&
              cio__buf_printf(&body, ",\"metric\":\"%s\"", metric);
    if (ok && timestamp > 0)
        ok = cio__buf_printf(&body, ",\"timestamp\":%lld", (long long)timestamp);
    ok = ok && append_optional_text(&body, "recipient", recipient) &&
         append_optional_text(&body, "reason", reason) &&
         append_optional_text(&body, "href", href) && cio__buf_appends(&body, "}");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_track_delivery_metric(cio_client_t *client, const char *metric,
                                       const char *delivery_id, int64_t timestamp,
                                       const char *recipient, const char *reason,
                                       const char *href) {
    CIO__REQUEST_RUN(client, NULL, cio_track_delivery_metric_request, metric, delivery_id,
                     timestamp, recipient, reason, href);
}

static cio_status_t segment_members(cio_request_t **out, const char *call, const char *action,
                                    const char *segment_id, const char *const *ids, size_t count,
                                    cio_id_type_t id_type) {
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "segment_id", segment_id);
    if (st == CIO_OK && (ids == NULL || count == 0))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: ids is empty", call);
    if (st == CIO_OK && cio__id_type_name(id_type) == NULL)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: id_type is not id, email or cio_id", call);
    for (size_t i = 0; st == CIO_OK && i < count; i++) {
        char field[32];
        snprintf(field, sizeof(field), "ids[%zu]", i);
        st = cio__check_id(call, field, ids[i]);
    }
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = cio__buf_appends(&path, "/api/v1/segments/") &&
              cio__buf_append_path_segment(&path, segment_id) &&
              cio__buf_printf(&path, "/%s", action);
    if (ok && id_type != CIO_ID_TYPE_ID)
        ok = cio__buf_printf(&path, "?id_type=%s", cio__id_type_name(id_type));
    ok = ok && cio__buf_appends(&body, "{\"ids\":[");
    for (size_t i = 0; ok && i < count; i++)
        ok = (i == 0 || cio__buf_appends(&body, ",")) && cio__buf_append_json_string(&body, ids[i]);
    ok = ok && cio__buf_appends(&body, "]}");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_segment_add_customers_request(const char *segment_id, const char *const *ids,
                                               size_t count, cio_id_type_t id_type,
                                               cio_request_t **out) {
    return segment_members(out, "segment_add_customers", "add_customers", segment_id, ids, count,
                           id_type);
}

cio_status_t cio_segment_add_customers(cio_client_t *client, const char *segment_id,
                                       const char *const *ids, size_t count,
                                       cio_id_type_t id_type) {
    CIO__REQUEST_RUN(client, NULL, cio_segment_add_customers_request, segment_id, ids, count,
                     id_type);
}

cio_status_t cio_segment_remove_customers_request(const char *segment_id, const char *const *ids,
                                                  size_t count, cio_id_type_t id_type,
                                                  cio_request_t **out) {
    return segment_members(out, "segment_remove_customers", "remove_customers", segment_id, ids,
                           count, id_type);
}

cio_status_t cio_segment_remove_customers(cio_client_t *client, const char *segment_id,
                                          const char *const *ids, size_t count,
                                          cio_id_type_t id_type) {
    CIO__REQUEST_RUN(client, NULL, cio_segment_remove_customers_request, segment_id, ids, count,
                     id_type);
}

cio_status_t cio_unsubscribe_request(const char *delivery_id, cio_request_t **out) {
    const char *call = "unsubscribe";
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "delivery_id", delivery_id);
    if (st != CIO_OK)
        return st;
    /* served from the host root, outside /api/v1 */
    cio_buf_t path = {0}, body = {0};
    bool ok = cio__buf_appends(&path, "/unsubscribe/") &&
              cio__buf_append_path_segment(&path, delivery_id) &&
              cio__buf_appends(&body, "{\"unsubscribe\":true}");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_unsubscribe(cio_client_t *client, const char *delivery_id) {
    CIO__REQUEST_RUN(client, NULL, cio_unsubscribe_request, delivery_id);
}

cio_status_t cio_submit_form_request(const char *form_id, const char *data_json,
                                     cio_request_t **out) {
    const char *call = "submit_form";
    cio_json_value_t data = {0};
    cio_status_t st = cio__request_begin(call, out);
    if (st == CIO_OK)
        st = cio__check_id(call, "form_id", form_id);
    if (st == CIO_OK && data_json == NULL)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: data is empty", call);
    if (st == CIO_OK)
        st = cio__json_scan_argument(call, "data", data_json, strlen(data_json), 1, &data, NULL);
    if (st == CIO_OK && data.kind != CIO_JSON_OBJECT)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: data must be a JSON object (got %s)", call,
                       cio__jkind_name(data.kind));
    if (st == CIO_OK && cio__jcount(&data) == 0)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: data is empty", call);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0}, body = {0};
    bool ok = cio__buf_appends(&path, "/api/v1/forms/") &&
              cio__buf_append_path_segment(&path, form_id) && cio__buf_appends(&path, "/submit") &&
              cio__buf_appends(&body, "{\"data\":") &&
              cio__buf_append(&body, data.text, data.len) && cio__buf_appends(&body, "}");
    return make_v1(out, call, "POST", &path, &body, !ok);
}

cio_status_t cio_submit_form(cio_client_t *client, const char *form_id, const char *data_json) {
    CIO__REQUEST_RUN(client, NULL, cio_submit_form_request, form_id, data_json);
}

cio_status_t cio_track_region_request(cio_request_t **out) {
    const char *call = "track_region";
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    cio_buf_t path = {0};
    bool ok = cio__buf_appends(&path, "/api/v1/accounts/region");
    return make_v1(out, call, "GET", &path, NULL, !ok);
}

cio_status_t cio_track_region(cio_client_t *client, char **response_json) {
    return cio__request_run_builder(client, cio_track_region_request, response_json);
}
