/* Talking to the emulator's control endpoints with libcurl; saving and replaying its log. */
#include "mock_control.h"

#include "jsonw.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t nmemb, void *user) {
    sb_append(user, data, size * nmemb);
    return size * nmemb;
}

/* One request; returns the HTTP status (0 on a network error) and the body in out. */
static long request(CURL *h, const char *method, const char *url, const char *body, size_t body_len,
                    struct curl_slist *headers, sbuf_t *out, char *err, size_t errlen) {
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* our own emulator, maybe self-signed */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (headers != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    }
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(rc));
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* POSTs json to a control path; 0 when the emulator answered 204. */
static int post_control(const char *base_url, const char *path, const char *what,
                        const char *rule_json, char *err, size_t errlen) {
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, errlen, "cannot start libcurl");
        return -1;
    }
    sbuf_t url = {0}, out = {0};
    sb_printf(&url, "%s%s", base_url, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    long status =
        request(h, "POST", url.data, rule_json, strlen(rule_json), headers, &out, err, errlen);
    if (status != 0 && status != 204) {
        snprintf(err, errlen, "the emulator refused the %s %s: %s", what, rule_json,
                 out.data != NULL ? out.data : "");
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    sb_free(&url);
    sb_free(&out);
    return status == 204 ? 0 : -1;
}

int mock_add_fault(const char *base_url, const char *rule_json, char *err, size_t errlen) {
    return post_control(base_url, "/_mock/faults", "fault rule", rule_json, err, errlen);
}

int mock_set_config(const char *base_url, const char *config_json, char *err, size_t errlen) {
    return post_control(base_url, "/_mock/config", "configuration", config_json, err, errlen);
}

static bool answered_2xx(const json_t *entry) {
    json_int_t status = json_integer_value(json_object_get(entry, "status"));
    return status >= 200 && status < 300;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const char *in, size_t len) {
    sbuf_t b = {0};
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        v |= i + 1 < len ? (unsigned char)in[i + 1] << 8 : 0;
        v |= i + 2 < len ? (unsigned char)in[i + 2] : 0;
        sb_putc(&b, b64[v >> 18 & 63]);
        sb_putc(&b, b64[v >> 12 & 63]);
        sb_putc(&b, i + 1 < len ? b64[v >> 6 & 63] : '=');
        sb_putc(&b, i + 2 < len ? b64[v & 63] : '=');
    }
    return sb_take(&b);
}

/* Decodes base64; NULL when malformed. */
static char *unbase64(const char *in, size_t *out_len) {
    sbuf_t b = {0};
    unsigned acc = 0;
    int bits = 0;
    for (; *in != '\0' && *in != '='; in++) {
        const char *p = strchr(b64, *in);
        if (p == NULL) {
            sb_free(&b);
            return NULL;
        }
        acc = acc << 6 | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_putc(&b, (char)(acc >> bits & 0xFF));
        }
    }
    *out_len = b.len;
    return sb_take(&b);
}

int mock_state_load(const char *base_url, const char *path, const mock_credentials_t *creds,
                    size_t *count, char *err, size_t errlen) {
    *count = 0;
    FILE *probe = fopen(path, "rb");
    if (probe == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fclose(probe);
    json_error_t error;
    json_t *entries = json_load_file(path, 0, &error);
    if (!json_is_array(entries)) {
        snprintf(err, errlen, "%s: not a saved request log (line %d: %s)", path, error.line,
                 entries == NULL ? error.text : "not an array");
        json_decref(entries);
        return -1;
    }
    CURL *h = curl_easy_init();
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        const char *method = json_string_value(json_object_get(e, "method"));
        const char *p = json_string_value(json_object_get(e, "path"));
        const char *query = json_string_value(json_object_get(e, "query"));
        const char *auth = json_string_value(json_object_get(e, "auth"));
        if (method == NULL || p == NULL || !answered_2xx(e) ||
            json_is_true(json_object_get(e, "body_truncated"))) {
            continue;
        }
        char *body = NULL;
        size_t body_len = 0;
        const json_t *text = json_object_get(e, "body");
        const char *encoded = json_string_value(json_object_get(e, "body_base64"));
        if (json_is_string(text)) {
            body_len = json_string_length(text);
            body = xstrndup(json_string_value(text), body_len);
        } else if (encoded != NULL) {
            body = unbase64(encoded, &body_len);
        }
        sbuf_t url = {0}, out = {0}, header = {0};
        sb_printf(&url, "%s%s%s%s", base_url, p, query != NULL && query[0] ? "?" : "",
                  query != NULL ? query : "");
        struct curl_slist *headers = NULL;
        const char *ctype =
            json_string_value(json_object_get(json_object_get(e, "headers"), "content-type"));
        if (ctype != NULL) {
            sb_printf(&header, "Content-Type: %s", ctype);
            headers = curl_slist_append(headers, header.data);
            sb_clear(&header);
        }
        if (auth != NULL && strcmp(auth, "track") == 0 && creds->site_id != NULL) {
            sbuf_t pair = {0};
            sb_printf(&pair, "%s:%s", creds->site_id, creds->api_key != NULL ? creds->api_key : "");
            char *enc = base64(pair.data, pair.len);
            sb_printf(&header, "Authorization: Basic %s", enc);
            free(enc);
            sb_free(&pair);
        } else if (auth != NULL && strcmp(auth, "app") == 0 && creds->app_api_key != NULL) {
            sb_printf(&header, "Authorization: Bearer %s", creds->app_api_key);
        }
        if (header.len > 0) {
            headers = curl_slist_append(headers, header.data);
        }
        char why[300] = "";
        long status = request(h, method, url.data, body, body != NULL ? body_len : 0, headers, &out,
                              why, sizeof(why));
        if (status == 0) {
            snprintf(err, errlen, "replaying %s: %s", path, why);
            rc = -1;
        } else {
            (*count)++;
        }
        curl_slist_free_all(headers);
        sb_free(&url);
        sb_free(&out);
        sb_free(&header);
        free(body);
        if (rc != 0) {
            break;
        }
    }
    curl_easy_cleanup(h);
    json_decref(entries);
    return rc;
}

int mock_state_save(const char *base_url, const char *path, size_t *count, char *err,
                    size_t errlen) {
    CURL *h = curl_easy_init();
    sbuf_t url = {0}, out = {0};
    sb_printf(&url, "%s/_mock/requests", base_url);
    long status = request(h, "GET", url.data, NULL, 0, NULL, &out, err, errlen);
    curl_easy_cleanup(h);
    sb_free(&url);
    if (status != 200) {
        if (status != 0) {
            snprintf(err, errlen, "GET /_mock/requests answered %ld", status);
        }
        sb_free(&out);
        return -1;
    }
    json_error_t error;
    json_t *entries = json_loadb(out.data, out.len, 0, &error);
    sb_free(&out);
    if (!json_is_array(entries)) {
        snprintf(err, errlen, "GET /_mock/requests: not a JSON array");
        json_decref(entries);
        return -1;
    }
    json_t *kept = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (!answered_2xx(e)) {
            continue;
        }
        json_t *headers = json_object_get(e, "headers");
        const char *authz = json_string_value(json_object_get(headers, "authorization"));
        const char *p = json_string_value(json_object_get(e, "path"));
        /* which credentials a replay needs; the credentials themselves are never saved */
        const char *auth = authz == NULL                              ? "none"
                           : strncmp(authz, "Bearer ", 7) == 0        ? "app"
                           : p != NULL && strncmp(p, "/api/", 5) == 0 ? "track"
                                                                      : "other";
        json_object_del(headers, "authorization");
        json_object_set_new(e, "auth", json_string(auth));
        json_array_append(kept, e);
    }
    json_decref(entries);
    *count = json_array_size(kept);
    sbuf_t tmp = {0};
    sb_printf(&tmp, "%s.tmp", path);
    FILE *f = fopen(tmp.data, "w");
    int rc = -1;
    if (f != NULL) {
        sbuf_t text = {0};
        sb_puts(&text, "[");
        json_array_foreach(kept, i, e) {
            sb_puts(&text, i == 0 ? "\n" : ",\n");
            jw_value(&text, e, 0);
        }
        sb_puts(&text, "\n]\n");
        size_t written = fwrite(text.data, 1, text.len, f);
        rc = fclose(f) == 0 && written == text.len && rename(tmp.data, path) == 0 ? 0 : -1;
        sb_free(&text);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        remove(tmp.data);
    }
    sb_free(&tmp);
    json_decref(kept);
    return rc;
}
