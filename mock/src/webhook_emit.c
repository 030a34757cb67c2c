/*
 * POST /_mock/webhooks: the emulator plays Customer.io sending a reporting webhook. Body:
 *   {"url": "http://127.0.0.1:PORT/hook", "signing_key": "...", "event": {...}
 *    | "events": [...], "timestamp"?: unix seconds, "signature"?: "override (to test rejection)"}
 * It signs the exact body it sends (v0:<timestamp>:<body>, with the core's cio_webhook_sign),
 * POSTs it with X-CIO-Timestamp and X-CIO-Signature, and answers
 *   {"status": <receiver's HTTP status>, "timestamp": ..., "signature": "...", "body": "..."}.
 * Only loopback receivers are accepted: the emulator never sends traffic off the machine.
 */
#include "mock_internal.h"

#include <customerio/webhook.h>

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool mock_is_loopback_url(const char *url) {
    static const char *const prefixes[] = {
        "http://127.0.0.1:", "http://127.0.0.1/",  "http://localhost:",  "http://localhost/",
        "http://[::1]:",     "https://127.0.0.1:", "https://localhost:", NULL};
    for (const char *const *p = prefixes; *p != NULL; p++) {
        if (strncmp(url, *p, strlen(*p)) == 0) {
            return true;
        }
    }
    return false;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *user) {
    (void)data;
    (void)user;
    return size * nmemb;
}

/* POSTs body to url with the webhook headers; returns the HTTP status, 0 on a network error. */
static long deliver(const char *url, const char *timestamp, const char *signature,
                    const char *body) {
    CURL *h = curl_easy_init();
    if (h == NULL) {
        return 0;
    }
    char ts_header[64], sig_header[128];
    snprintf(ts_header, sizeof(ts_header), "X-CIO-Timestamp: %s", timestamp);
    snprintf(sig_header, sizeof(sig_header), "X-CIO-Signature: %s", signature);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, ts_header);
    headers = curl_slist_append(headers, sig_header);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* a local dev receiver, self-signed */
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return status;
}

void mock_handle_webhook_emit(const mock_request_t *req, mock_response_t *res) {
    json_t *in = mock_parse_object_body(req, res, true);
    if (in == NULL || !mock_require_string(req, res, in, "url", "url") ||
        !mock_require_string(req, res, in, "signing_key", "signing_key")) {
        json_decref(in);
        return;
    }
    const char *url = json_string_value(json_object_get(in, "url"));
    const char *key = json_string_value(json_object_get(in, "signing_key"));
    json_t *payload = json_object_get(in, "event");
    if (payload == NULL && json_is_array(json_object_get(in, "events"))) {
        payload = json_pack("{s:O}", "events", json_object_get(in, "events"));
    } else {
        json_incref(payload);
    }
    if (!mock_is_loopback_url(url) || !json_is_object(payload)) {
        mock_reply_error(req, res, MHD_HTTP_BAD_REQUEST,
                         !json_is_object(payload) ? "event (object) or events (array) is required"
                                                  : "url must be a loopback http(s) URL");
        json_decref(payload);
        json_decref(in);
        return;
    }
    json_t *ts = json_object_get(in, "timestamp");
    char timestamp[32];
    snprintf(timestamp, sizeof(timestamp), "%lld",
             json_is_integer(ts) ? (long long)json_integer_value(ts) : (long long)time(NULL));
    char *body = json_dumps(payload, JSON_COMPACT);
    char signature[CIO_WEBHOOK_SIGNATURE_BUFSIZE] = "";
    const char *override = json_string_value(json_object_get(in, "signature"));
    if (body != NULL && override == NULL &&
        cio_webhook_sign(key, timestamp, body, strlen(body), signature) != CIO_OK) {
        signature[0] = '\0';
    }
    const char *sent_signature = override != NULL ? override : signature;
    long status = body != NULL ? deliver(url, timestamp, sent_signature, body) : 0;
    mock_reply_json(res, MHD_HTTP_OK,
                    json_pack("{s:I,s:s,s:s,s:s}", "status", (json_int_t)status, "timestamp",
                              timestamp, "signature", sent_signature, "body",
                              body != NULL ? body : ""));
    free(body);
    json_decref(payload);
    json_decref(in);
}

void mock_emit_delivery_webhooks(cio_mock_t *m, const char *object_type, const json_t *answer,
                                 const json_t *request) {
    static const char *const metrics[] = {"sent", "delivered"};
    if (m->webhook_url == NULL || m->webhook_key == NULL) {
        return;
    }
    const char *delivery_id = json_string_value(json_object_get(answer, "delivery_id"));
    for (size_t i = 0; delivery_id != NULL && i < 2; i++) {
        char event_id[160], timestamp[32];
        snprintf(event_id, sizeof(event_id), "%s-%s", delivery_id, metrics[i]);
        long long now = (long long)time(NULL);
        snprintf(timestamp, sizeof(timestamp), "%lld", now);
        json_t *data = json_pack("{s:s}", "delivery_id", delivery_id);
        json_t *identifiers = json_object_get(request, "identifiers");
        if (identifiers != NULL) {
            json_object_set(data, "identifiers", identifiers);
        }
        json_t *tmid = json_object_get(request, "transactional_message_id");
        if (tmid != NULL) {
            json_object_set(data, "transactional_message_id", tmid);
        }
        json_t *event = json_pack("{s:s,s:s,s:s,s:I,s:s,s:o}", "event_id", event_id, "object_type",
                                  object_type, "metric", metrics[i], "timestamp", (json_int_t)now,
                                  "delivery_id", delivery_id, "data", data);
        char *body = event != NULL ? json_dumps(event, JSON_COMPACT) : NULL;
        char signature[CIO_WEBHOOK_SIGNATURE_BUFSIZE];
        if (body != NULL &&
            cio_webhook_sign(m->webhook_key, timestamp, body, strlen(body), signature) == CIO_OK) {
            (void)deliver(m->webhook_url, timestamp, signature, body);
        }
        free(body);
        json_decref(event);
    }
}
