/* Small helpers: strings, base64, percent-decoding, files and response building. */
#include "mock_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mock_set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

char *mock_strndup(const char *s, size_t n) {
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *mock_strdup(const char *s) {
    return s == NULL ? NULL : mock_strndup(s, strlen(s));
}

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *mock_base64_encode(const unsigned char *data, size_t len) {
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long chunk = (unsigned long)data[i] << 16;
        if (i + 1 < len) {
            chunk |= (unsigned long)data[i + 1] << 8;
        }
        if (i + 2 < len) {
            chunk |= data[i + 2];
        }
        out[o++] = base64_alphabet[(chunk >> 18) & 63];
        out[o++] = base64_alphabet[(chunk >> 12) & 63];
        out[o++] = i + 1 < len ? base64_alphabet[(chunk >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? base64_alphabet[chunk & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int base64_value(char c) {
    const char *p = strchr(base64_alphabet, c);
    return (c != '\0' && p != NULL) ? (int)(p - base64_alphabet) : -1;
}

unsigned char *mock_base64_decode(const char *text, size_t len, size_t *out_len) {
    while (len > 0 && text[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1) {
        return NULL;
    }
    unsigned char *out = malloc(len / 4 * 3 + 3);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value(text[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *mock_percent_decode(const char *s, size_t len) {
    char *out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        bool complete = i + 2 < len;
        int hi = complete ? hex_value(s[i + 1]) : -1;
        int lo = complete ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

bool mock_secure_equals(const char *a, size_t a_len, const char *b, size_t b_len) {
    unsigned char diff = (unsigned char)(a_len != b_len);
    size_t n = a_len < b_len ? a_len : b_len;
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

int mock_read_file(const char *path, char **out, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mock_set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    size_t cap = 4096;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    bool failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        mock_set_err(err, errlen, "cannot read %s", path);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

void mock_response_clear(mock_response_t *res) {
    free(res->body);
    free(res->retry_after);
    free(res->allow);
    memset(res, 0, sizeof(*res));
}

void mock_reply_empty(mock_response_t *res, unsigned int status) {
    mock_response_clear(res);
    res->status = status;
}

void mock_reply_text(mock_response_t *res, unsigned int status, const char *json_text) {
    mock_response_clear(res);
    res->status = status;
    res->body = mock_strdup(json_text);
    res->body_len = res->body != NULL ? strlen(res->body) : 0;
    if (res->body == NULL) {
        res->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

void mock_reply_json(mock_response_t *res, unsigned int status, json_t *body) {
    mock_response_clear(res);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (text == NULL) {
        res->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    res->status = status;
    res->body = text;
    res->body_len = strlen(text);
}

void mock_reply_meta_error(mock_response_t *res, unsigned int status, const char *message) {
    mock_reply_json(res, status, json_pack("{s:{s:s}}", "meta", "error", message));
}
