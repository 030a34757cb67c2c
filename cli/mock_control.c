/* Talking to the emulator's control endpoints with libcurl; saving and replaying its log. */
#include "mock_control.h"

#include "jsonw.h"
#include "util.h"

#include <ctype.h>
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

/* Headers whose values never carry a credential; every other one is redacted when saved. */
static const char *const harmless_headers[] = {"accept",
                                               "accept-encoding",
                                               "connection",
                                               "content-encoding",
                                               "content-length",
                                               "content-type",
                                               "expect",
                                               "host",
                                               "transfer-encoding",
                                               "user-agent",
                                               "x-strict-mode",
                                               NULL};

/* Parts of a query parameter name that make it a credential (compared without case). */
static const char *const secret_words[] = {"key",    "token",      "secret", "password",
                                           "passwd", "auth",       "sig",    "session",
                                           "cookie", "credential", NULL};

static bool is_harmless_header(const char *name) {
    for (const char *const *h = harmless_headers; *h != NULL; h++) {
        if (strcmp(name, *h) == 0) {
            return true;
        }
    }
    return false;
}

static bool looks_secret(const char *name, size_t len) {
    char lower[128];
    size_t n = len < sizeof(lower) - 1 ? len : sizeof(lower) - 1;
    for (size_t i = 0; i < n; i++) {
        lower[i] = (char)tolower((unsigned char)name[i]);
    }
    lower[n] = '\0';
    for (const char *const *w = secret_words; *w != NULL; w++) {
        if (strstr(lower, *w) != NULL) {
            return true;
        }
    }
    return false;
}

/* The keys worth searching for: set, and long enough not to match ordinary text by chance. */
static size_t secret_keys(const mock_credentials_t *creds, const char *keys[3]) {
    const char *all[] = {creds->api_key, creds->app_api_key, creds->cdp_api_key};
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        if (all[i] != NULL && strlen(all[i]) >= 4) {
            keys[n++] = all[i];
        }
    }
    return n;
}

/* text with every occurrence of the keys replaced by "REDACTED" (malloc'd), or NULL when none
 * occurs. */
static char *without_keys(const char *text, const char *const *keys, size_t n_keys) {
    sbuf_t out = {0};
    bool found = false;
    const char *p = text;
    while (*p != '\0') {
        size_t matched = 0;
        for (size_t k = 0; k < n_keys && matched == 0; k++) {
            size_t len = strlen(keys[k]);
            if (strncmp(p, keys[k], len) == 0) {
                matched = len;
            }
        }
        if (matched > 0) {
            sb_puts(&out, "REDACTED");
            p += matched;
            found = true;
        } else {
            sb_putc(&out, *p++);
        }
    }
    if (!found) {
        sb_free(&out);
        return NULL;
    }
    return sb_take(&out);
}

/* Replaces obj[field] (a string) by its text without the keys, when they occur in it. */
static void redact_field(json_t *obj, const char *field, const char *const *keys, size_t n_keys) {
    const char *text = json_string_value(json_object_get(obj, field));
    char *clean = text != NULL ? without_keys(text, keys, n_keys) : NULL;
    if (clean != NULL) {
        json_object_set_new(obj, field, json_string(clean));
        free(clean);
    }
}

/* "a=1&api_key=x" -> "a=1&api_key=REDACTED" for every parameter whose name looks secret. */
static void redact_query(json_t *entry) {
    const char *query = json_string_value(json_object_get(entry, "query"));
    if (query == NULL || query[0] == '\0') {
        return;
    }
    sbuf_t out = {0};
    for (const char *p = query; *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
        if (eq != NULL && looks_secret(p, name_len)) {
            sb_append(&out, p, name_len);
            sb_puts(&out, "=REDACTED");
        } else {
            sb_append(&out, p, len);
        }
        p += len;
        if (*p == '&') {
            sb_putc(&out, '&');
            p++;
        }
    }
    json_object_set_new(entry, "query", json_string(out.data));
    sb_free(&out);
}

/* Strips every credential from one log entry (see mock_state_save). */
static void redact_entry(json_t *e, const char *const *keys, size_t n_keys) {
    json_t *headers = json_object_get(e, "headers");
    json_object_del(headers, "authorization");
    const char *name;
    json_t *value;
    json_object_foreach(headers, name, value) {
        if (!is_harmless_header(name)) {
            json_object_set_new(headers, name, json_string("[redacted]"));
        } else {
            redact_field(headers, name, keys, n_keys);
        }
    }
    redact_query(e);
    redact_field(e, "query", keys, n_keys);
    redact_field(e, "path", keys, n_keys);
    redact_field(e, "body", keys, n_keys);
}

/* GET a control path into out; the HTTP status (0 with err on a network error). */
static long get_control(const char *base_url, const char *path, sbuf_t *out, char *err,
                        size_t errlen) {
    CURL *h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, errlen, "cannot start libcurl");
        return 0;
    }
    sbuf_t url = {0};
    sb_printf(&url, "%s%s", base_url, path);
    long status = request(h, "GET", url.data, NULL, 0, NULL, out, err, errlen);
    curl_easy_cleanup(h);
    sb_free(&url);
    return status;
}

int mock_state_save(const char *base_url, const char *path, const mock_credentials_t *creds,
                    size_t *count, uint64_t *dropped, char *err, size_t errlen) {
    sbuf_t out = {0};
    *dropped = 0;
    long status = get_control(base_url, "/_mock/requests", &out, err, errlen);
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
    char why[200];
    if (get_control(base_url, "/_mock/requests/stats", &out, why, sizeof(why)) == 200) {
        json_t *stats = json_loadb(out.data, out.len, 0, &error);
        *dropped = (uint64_t)json_integer_value(json_object_get(stats, "dropped"));
        json_decref(stats);
    }
    sb_free(&out);
    const char *keys[3];
    size_t n_keys = secret_keys(creds, keys);
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
        json_object_set_new(e, "auth", json_string(auth));
        redact_entry(e, keys, n_keys);
        json_array_append(kept, e);
    }
    json_decref(entries);
    *count = json_array_size(kept);
    sbuf_t text = {0};
    sb_puts(&text, "[");
    json_array_foreach(kept, i, e) {
        sb_puts(&text, i == 0 ? "\n" : ",\n");
        jw_value(&text, e, 0);
    }
    sb_puts(&text, "\n]\n");
    int rc = write_file_atomic(path, text.data, text.len);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    sb_free(&text);
    json_decref(kept);
    return rc;
}
