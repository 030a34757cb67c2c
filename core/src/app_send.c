/*
 * App API sends: transactional messages (POST /v1/send/<type>) and API-triggered broadcasts.
 *
 * The caller's request object is validated with jansson (required fields, the JSON type of every
 * known field) and then sent verbatim, so numbers keep their spelling. Attachments given as
 * bytes are base64-encoded (OpenSSL) and merged into the request's "attachments" object by
 * splicing text: the top-level members of the (already validated) request are located with the
 * core's JSON scanner (json_scan.h), never re-serialised.
 */
#include "app_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_read.h"
#include "util/json_write.h"
#include "util/utf8.h"
#include "validate.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum field_type {
    F_STRING,     /* any string */
    F_BOOL,       /* true or false */
    F_UINT,       /* integer >= 0 */
    F_OBJECT,     /* object */
    F_ARRAY,      /* array */
    F_STRING_MAP, /* object whose values are all strings */
} field_type_t;

typedef struct field {
    const char *name;
    field_type_t type;
} field_t;

/* Fields every transactional type has (identifiers and transactional_message_id are checked on
 * their own). */
static const field_t common_fields[] = {
    {"message_data", F_OBJECT}, {"disable_message_retention", F_BOOL},
    {"queue_draft", F_BOOL},    {"send_at", F_UINT},
    {"language", F_STRING},     {NULL, F_STRING},
};

static const field_t email_fields[] = {
    {"to", F_STRING},
    {"from", F_STRING},
    {"reply_to", F_STRING},
    {"bcc", F_STRING},
    {"subject", F_STRING},
    {"preheader", F_STRING},
    {"body", F_STRING},
    {"body_amp", F_STRING},
    {"body_plain", F_STRING},
    {"headers", F_STRING_MAP},
    {"fake_bcc", F_BOOL},
    {"send_to_unsubscribed", F_BOOL},
    {"tracked", F_BOOL},
    {"disable_css_preprocessing", F_BOOL},
    {"attachments", F_STRING_MAP},
    {NULL, F_STRING},
};

static const field_t push_fields[] = {
    {"to", F_STRING},
    {"title", F_STRING},
    {"message", F_STRING},
    {"image_url", F_STRING},
    {"link", F_STRING},
    {"sound", F_STRING},
    {"custom_data", F_OBJECT},
    {"custom_payload", F_OBJECT},
    {"custom_device", F_OBJECT},
    {"send_to_unsubscribed", F_BOOL},
    {NULL, F_STRING},
};

static const field_t sms_fields[] = {
    {"to", F_STRING},
    {"from", F_STRING},
    {"send_to_unsubscribed", F_BOOL},
    {"tracked", F_BOOL},
    {"attachments", F_STRING_MAP},
    {NULL, F_STRING},
};

static const field_t inbox_fields[] = {
    {"attachments", F_STRING_MAP},
    {NULL, F_STRING},
};

static const field_t in_app_fields[] = {
    {NULL, F_STRING},
};

static const field_t whatsapp_fields[] = {
    {"to", F_STRING},    {"send_to_unsubscribed", F_BOOL},
    {"tracked", F_BOOL}, {"attachments", F_STRING_MAP},
    {NULL, F_STRING},
};

typedef struct send_kind {
    const char *call;       /* the name errors start with */
    const char *path;       /* under /v1 */
    const field_t *fields;  /* besides the common ones */
    bool template_optional; /* email: body + subject + from + to may replace the template */
} send_kind_t;

static const send_kind_t kind_email = {"send_email", "/v1/send/email", email_fields, true};
static const send_kind_t kind_push = {"send_push", "/v1/send/push", push_fields, false};
static const send_kind_t kind_sms = {"send_sms", "/v1/send/sms", sms_fields, false};
static const send_kind_t kind_inbox = {"send_inbox_message", "/v1/send/inbox_message", inbox_fields,
                                       false};
static const send_kind_t kind_in_app = {"send_in_app", "/v1/send/in_app", in_app_fields, false};
static const send_kind_t kind_whatsapp = {"send_whatsapp", "/v1/send/whatsapp", whatsapp_fields,
                                          false};

/* ---- request parsing and field checks ---- */

/* Parses text (required) as one JSON object in valid UTF-8 without duplicate keys. */
static cio_status_t load_object(const char *call, const char *field, const char *text,
                                json_t **out) {
    *out = NULL;
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is missing", call, field);
    size_t len = strlen(text);
    if (!cio__utf8_valid(text, len))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, field);
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s is not valid JSON (line %d, column %d: %s)", call, field, err.line,
                         err.column, err.text);
    if (!json_is_object(v)) {
        cio_status_t st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s must be a JSON object (got %s)",
                                    call, field, cio__json_type_name(v));
        json_decref(v);
        return st;
    }
    *out = v;
    return CIO_OK;
}

static const char *type_wanted(field_type_t t) {
    switch (t) {
    case F_STRING:
        return "a string";
    case F_BOOL:
        return "a boolean";
    case F_UINT:
        return "an integer >= 0";
    case F_OBJECT:
        return "a JSON object";
    case F_ARRAY:
        return "a JSON array";
    case F_STRING_MAP:
        return "a JSON object of strings";
    }
    return "?";
}

static bool type_ok(const json_t *v, field_type_t t) {
    switch (t) {
    case F_STRING:
        return json_is_string(v);
    case F_BOOL:
        return json_is_boolean(v);
    case F_UINT:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case F_OBJECT:
        return json_is_object(v);
    case F_ARRAY:
        return json_is_array(v);
    case F_STRING_MAP: {
        if (!json_is_object(v))
            return false;
        const char *k;
        json_t *item;
        json_object_foreach((json_t *)v, k, item) {
            if (!json_is_string(item))
                return false;
        }
        return true;
    }
    }
    return false;
}

static cio_status_t check_fields(const char *call, const json_t *obj, const field_t *fields) {
    for (const field_t *f = fields; f->name != NULL; f++) {
        json_t *v = json_object_get(obj, f->name);
        if (v != NULL && !type_ok(v, f->type))
            return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s must be %s (got %s)", call, f->name,
                             type_wanted(f->type), cio__json_type_name(v));
    }
    return CIO_OK;
}

/* {"id"|"email"|"cio_id": value}: exactly one, non-empty; id and cio_id may be integers. */
static cio_status_t check_identifiers(const char *call, const json_t *req) {
    json_t *ids = json_object_get(req, "identifiers");
    if (ids == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: identifiers is missing", call);
    if (!json_is_object(ids))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: identifiers must be a JSON object (got %s)",
                         call, cio__json_type_name(ids));
    size_t known = 0;
    const char *key;
    json_t *v;
    json_object_foreach(ids, key, v) {
        if (strcmp(key, "id") == 0 || strcmp(key, "email") == 0 || strcmp(key, "cio_id") == 0)
            known++;
    }
    if (known != 1 || json_object_size(ids) != 1)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: identifiers must have exactly one of id, email, cio_id", call);
    json_object_foreach(ids, key, v) {
        bool is_email = strcmp(key, "email") == 0;
        if (json_is_string(v)) {
            char field[32];
            snprintf(field, sizeof(field), "identifiers.%s", key);
            return cio__check_id(call, field, json_string_value(v));
        }
        if (!is_email && json_is_integer(v))
            return CIO_OK;
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: identifiers.%s must be a string%s (got %s)",
                         call, key, is_email ? "" : " or an integer", cio__json_type_name(v));
    }
    return CIO_OK; /* not reached */
}

static bool has_text(const json_t *req, const char *field) {
    json_t *v = json_object_get(req, field);
    return json_is_string(v) && json_string_length(v) > 0;
}

static cio_status_t check_template(const send_kind_t *kind, const json_t *req) {
    const char *call = kind->call;
    json_t *t = json_object_get(req, "transactional_message_id");
    if (t == NULL) {
        if (kind->template_optional && has_text(req, "body") && has_text(req, "subject") &&
            has_text(req, "from") && has_text(req, "to"))
            return CIO_OK;
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         kind->template_optional
                             ? "%s: transactional_message_id is missing (or give body, subject, "
                               "from and to for a message without a template)"
                             : "%s: transactional_message_id is missing",
                         call);
    }
    if (json_is_integer(t)) {
        if (json_integer_value(t) <= 0)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: transactional_message_id must be a positive integer", call);
        return CIO_OK;
    }
    if (json_is_string(t))
        return cio__check_text(call, "transactional_message_id", json_string_value(t));
    return cio__fail(CIO_E_INVALID_ARGUMENT,
                     "%s: transactional_message_id must be a string or an integer (got %s)", call,
                     cio__json_type_name(t));
}

/* ---- attachments ---- */

static cio_status_t check_attachments(const char *call, const json_t *req,
                                      const cio_attachment_t *atts, size_t n) {
    if (n > 0 && atts == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: attachments is NULL but n_attachments is %zu",
                         call, n);
    json_t *given = json_object_get(req, "attachments");
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof(field), "attachments[%zu].name", i);
        cio_status_t st = cio__check_text(call, field, atts[i].name);
        if (st != CIO_OK)
            return st;
        if (atts[i].data == NULL && atts[i].len > 0)
            return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: attachments[%zu].data is NULL", call, i);
        if (atts[i].len > (size_t)INT_MAX / 4 * 3)
            return cio__fail(CIO_E_PAYLOAD_TOO_LARGE,
                             "%s: attachment \"%s\" is too large (%zu bytes)", call, atts[i].name,
                             atts[i].len);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(atts[i].name, atts[j].name) == 0)
                return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: attachment \"%s\" is given twice",
                                 call, atts[i].name);
        }
        if (json_object_get(given, atts[i].name) != NULL)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: attachment \"%s\" is also in the request's attachments", call,
                             atts[i].name);
    }
    return CIO_OK;
}

/* Appends "name":"<base64>" members, comma-separated. */
static bool append_attachments(cio_buf_t *b, const cio_attachment_t *atts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t enc_len = 4 * ((atts[i].len + 2) / 3);
        unsigned char *enc = malloc(enc_len + 1);
        if (enc == NULL)
            return false;
        int got = EVP_EncodeBlock(enc, atts[i].data != NULL ? atts[i].data : (const void *)"",
                                  (int)atts[i].len);
        bool ok = got >= 0 && (i == 0 || cio__buf_appends(b, ",")) &&
                  cio__buf_append_json_string(b, atts[i].name) && cio__buf_appends(b, ":\"") &&
                  cio__buf_append(b, enc, (size_t)got) && cio__buf_appends(b, "\"");
        free(enc);
        if (!ok)
            return false;
    }
    return true;
}

/* ---- splicing into the caller's (validated) JSON text ---- */

/*
 * The request body: request_json as is, with the attachments merged into "attachments". The
 * members are located with the core's JSON scanner (json_scan.h), never re-serialised. false:
 * out of memory, or the scanner refused a text jansson accepted (then st says why).
 */
static bool build_body(const char *call, cio_buf_t *b, const char *request_json,
                       const cio_attachment_t *atts, size_t n, cio_status_t *st) {
    if (n == 0)
        return cio__buf_appends(b, request_json);
    cio_json_value_t root, given;
    *st = cio__json_scan_argument(call, "request", request_json, strlen(request_json), 0, &root,
                                  NULL);
    if (*st != CIO_OK)
        return false;
    if (!cio__jget(&root, "attachments", &given)) {
        /* no "attachments" member: add one before the closing brace */
        size_t close = (size_t)(root.text - request_json) + root.len - 1;
        return cio__buf_append(b, request_json, close) &&
               cio__buf_appends(b, cio__jcount(&root) > 0 ? ",\"attachments\":{"
                                                          : "\"attachments\":{") &&
               append_attachments(b, atts, n) && cio__buf_appends(b, "}") &&
               cio__buf_appends(b, request_json + close);
    }
    /* merge into the caller's attachments object (checked to be an object of strings) */
    size_t inner_close = (size_t)(given.text - request_json) + given.len - 1;
    return cio__buf_append(b, request_json, inner_close) &&
           (cio__jcount(&given) == 0 || cio__buf_appends(b, ",")) &&
           append_attachments(b, atts, n) && cio__buf_appends(b, request_json + inner_close);
}

/* ---- the calls ---- */

static cio_status_t send_message(const send_kind_t *kind, const char *request_json,
                                 const cio_attachment_t *atts, size_t n, cio_request_t **out) {
    const char *call = kind->call;
    cio__app_reset_out(out);
    json_t *req = NULL;
    cio_status_t st = load_object(call, "request", request_json, &req);
    if (st == CIO_OK)
        st = check_identifiers(call, req);
    if (st == CIO_OK)
        st = check_template(kind, req);
    if (st == CIO_OK)
        st = check_fields(call, req, common_fields);
    if (st == CIO_OK)
        st = check_fields(call, req, kind->fields);
    if (st == CIO_OK)
        st = check_attachments(call, req, atts, n);
    json_decref(req);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio_buf_t body = {0};
    cio__app_path(&r, kind->path);
    if (!build_body(call, &body, request_json, atts, n, &st)) {
        if (st != CIO_OK) {
            cio__buf_free(&r.path);
            cio__buf_free(&body);
            return st;
        }
        r.oom = true;
    }
    return cio__app_make(call, "POST", &r, &body, out);
}

cio_status_t cio_send_email_request(const char *request_json, const cio_attachment_t *attachments,
                                    size_t n_attachments, cio_request_t **out) {
    return send_message(&kind_email, request_json, attachments, n_attachments, out);
}

cio_status_t cio_send_push_request(const char *request_json, cio_request_t **out) {
    return send_message(&kind_push, request_json, NULL, 0, out);
}

cio_status_t cio_send_sms_request(const char *request_json, const cio_attachment_t *attachments,
                                  size_t n_attachments, cio_request_t **out) {
    return send_message(&kind_sms, request_json, attachments, n_attachments, out);
}

cio_status_t cio_send_inbox_message_request(const char *request_json,
                                            const cio_attachment_t *attachments,
                                            size_t n_attachments, cio_request_t **out) {
    return send_message(&kind_inbox, request_json, attachments, n_attachments, out);
}

cio_status_t cio_send_in_app_request(const char *request_json, cio_request_t **out) {
    return send_message(&kind_in_app, request_json, NULL, 0, out);
}

cio_status_t cio_send_whatsapp_request(const char *request_json,
                                       const cio_attachment_t *attachments, size_t n_attachments,
                                       cio_request_t **out) {
    return send_message(&kind_whatsapp, request_json, attachments, n_attachments, out);
}

static const field_t broadcast_fields[] = {
    {"data", F_OBJECT},
    {"email_add_duplicates", F_BOOL},
    {"email_ignore_missing", F_BOOL},
    {"id_ignore_missing", F_BOOL},
    {"recipients", F_OBJECT},
    {"emails", F_ARRAY},
    {"ids", F_ARRAY},
    {"per_user_data", F_ARRAY},
    {"data_file_url", F_STRING},
    {NULL, F_STRING},
};

/* The audience fields, of which a trigger may give at most one. */
static const char *const broadcast_audiences[] = {"recipients",    "emails",        "ids",
                                                  "per_user_data", "data_file_url", NULL};

cio_status_t cio_trigger_broadcast_request(const char *broadcast_id, const char *request_json,
                                           cio_request_t **out) {
    const char *call = "trigger_broadcast";
    cio__app_reset_out(out);
    cio_status_t st = cio__check_id(call, "broadcast_id", broadcast_id);
    json_t *req = NULL;
    if (st == CIO_OK && request_json != NULL)
        st = load_object(call, "request", request_json, &req);
    if (st == CIO_OK && req != NULL)
        st = check_fields(call, req, broadcast_fields);
    const char *first = NULL;
    for (const char *const *a = broadcast_audiences; st == CIO_OK && req != NULL && *a; a++) {
        if (json_object_get(req, *a) == NULL)
            continue;
        if (first != NULL)
            st = cio__fail(CIO_E_INVALID_ARGUMENT,
                           "%s: only one of recipients, emails, ids, per_user_data, "
                           "data_file_url may be given (got %s and %s)",
                           call, first, *a);
        first = *a;
    }
    json_decref(req);
    if (st != CIO_OK)
        return st;
    cio_app_req_t r = {0};
    cio_buf_t body = {0};
    cio__app_path(&r, "/v1/campaigns/");
    cio__app_segment(&r, broadcast_id);
    cio__app_path(&r, "/triggers");
    if (!cio__buf_appends(&body, request_json != NULL ? request_json : "{}"))
        r.oom = true;
    return cio__app_make(call, "POST", &r, &body, out);
}

/* ---- the classic calls: builder + cio__request_run ---- */

cio_status_t cio_send_email(cio_client_t *client, const char *request_json,
                            const cio_attachment_t *attachments, size_t n_attachments,
                            char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_email_request, request_json, attachments,
                     n_attachments);
}

cio_status_t cio_send_push(cio_client_t *client, const char *request_json, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_push_request, request_json);
}

cio_status_t cio_send_sms(cio_client_t *client, const char *request_json,
                          const cio_attachment_t *attachments, size_t n_attachments,
                          char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_sms_request, request_json, attachments,
                     n_attachments);
}

cio_status_t cio_send_inbox_message(cio_client_t *client, const char *request_json,
                                    const cio_attachment_t *attachments, size_t n_attachments,
                                    char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_inbox_message_request, request_json,
                     attachments, n_attachments);
}

cio_status_t cio_send_in_app(cio_client_t *client, const char *request_json, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_in_app_request, request_json);
}

cio_status_t cio_send_whatsapp(cio_client_t *client, const char *request_json,
                               const cio_attachment_t *attachments, size_t n_attachments,
                               char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_send_whatsapp_request, request_json, attachments,
                     n_attachments);
}

cio_status_t cio_trigger_broadcast(cio_client_t *client, const char *broadcast_id,
                                   const char *request_json, char **response_json) {
    CIO__REQUEST_RUN(client, response_json, cio_trigger_broadcast_request, broadcast_id,
                     request_json);
}
