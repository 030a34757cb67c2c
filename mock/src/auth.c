/* Credential checks for the emulated APIs. */
#include "mock_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns the credentials after "<scheme> " in an Authorization value, or NULL. */
static const char *after_scheme(const char *header, const char *scheme) {
    size_t n = strlen(scheme);
    if (header == NULL || strncasecmp(header, scheme, n) != 0 || header[n] != ' ') {
        return NULL;
    }
    const char *p = header + n;
    while (*p == ' ') {
        p++;
    }
    return p;
}

static size_t trimmed_length(const char *s) {
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    return len;
}

static bool basic_auth_ok(const char *header, const char *user, const char *password) {
    const char *encoded = after_scheme(header, "Basic");
    if (encoded == NULL) {
        return false;
    }
    size_t decoded_len = 0;
    unsigned char *decoded = mock_base64_decode(encoded, trimmed_length(encoded), &decoded_len);
    if (decoded == NULL) {
        return false;
    }
    const char *text = (const char *)decoded;
    const char *colon = memchr(text, ':', decoded_len);
    bool ok = false;
    if (colon != NULL) {
        size_t user_len = (size_t)(colon - text);
        size_t pass_len = decoded_len - user_len - 1;
        bool user_ok = mock_secure_equals(text, user_len, user, strlen(user));
        bool pass_ok = mock_secure_equals(colon + 1, pass_len, password, strlen(password));
        ok = user_ok && pass_ok;
    }
    free(decoded);
    return ok;
}

static bool bearer_auth_ok(const char *header, const char *key) {
    const char *token = after_scheme(header, "Bearer");
    return token != NULL && mock_secure_equals(token, trimmed_length(token), key, strlen(key));
}

bool mock_auth_ok(const cio_mock_t *m, mock_auth_t auth, struct MHD_Connection *conn) {
    const char *header =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    switch (auth) {
    case MOCK_AUTH_NONE:
        return true;
    case MOCK_AUTH_TRACK_BASIC:
        return basic_auth_ok(header, m->site_id, m->api_key);
    case MOCK_AUTH_APP_BEARER:
        return bearer_auth_ok(header, m->app_api_key);
    case MOCK_AUTH_CDP_BASIC:
        /* the key as Basic user with an empty password, or (keys like "sk_us_...") as a Bearer
         * token, the way the official Python client sends region-prefixed keys */
        return basic_auth_ok(header, m->cdp_api_key, "") || bearer_auth_ok(header, m->cdp_api_key);
    }
    return false;
}
