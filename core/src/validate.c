/* Input validation shared by every call: ids, text values, UTF-8, control characters. */
#include "internal.h"

#include <stdint.h>
#include <string.h>

bool cio__utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) { /* ASCII runs eight bytes at a time */
            uint64_t word;
            memcpy(&word, s + i, 8);
            if ((word & 0x8080808080808080ull) != 0)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned int cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false; /* continuation byte, overlong lead (C0, C1) or > U+10FFFF */
        }
        if (i + n >= len)
            return false; /* truncated sequence */
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong 3/4-byte forms, UTF-16 surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t cio__utf8_cut(const char *s, size_t len, size_t max) {
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues a character: cut before the character instead */
    return n;
}

int cio__hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long cio__hex4(const char *p) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = cio__hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

bool cio__has_control_char(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return true;
    }
    return false;
}

cio_status_t cio__check_text(const char *call, const char *field, const char *value) {
    if (value == NULL || value[0] == '\0')
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is empty", call, field);
    if (!cio__utf8_valid(value, strlen(value)))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call, field);
    if (cio__has_control_char(value))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s contains a control character (CR, LF, tab or similar)", call,
                         field);
    return CIO_OK;
}

cio_status_t cio__check_id(const char *call, const char *field, const char *value) {
    cio_status_t st = cio__check_text(call, field, value);
    if (st != CIO_OK)
        return st;
    size_t len = strlen(value);
    if (len > CIO_MAX_ID_BYTES)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is %zu bytes long, over the limit of %d",
                         call, field, len, CIO_MAX_ID_BYTES);
    return CIO_OK;
}

const char *cio__id_type_name(cio_id_type_t type) {
    switch (type) {
    case CIO_ID_TYPE_ID:
        return "id";
    case CIO_ID_TYPE_EMAIL:
        return "email";
    case CIO_ID_TYPE_CIO_ID:
        return "cio_id";
    }
    return NULL;
}

cio_status_t cio__check_event_options(const char *call, const cio_event_options_t *o) {
    if (o == NULL)
        return CIO_OK;
    if (o->version == 0 || o->version > CIO_EVENT_OPTIONS_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: options.version %u is not supported (use CIO_EVENT_OPTIONS_INIT)",
                         call, o->version);
    if (o->timestamp < 0)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: timestamp is negative", call);
    return o->id != NULL ? cio__check_id(call, "id", o->id) : CIO_OK;
}

cio_status_t cio__check_device(const char *call, const char *id_field, const char *device_id,
                               const char *platform, int64_t last_used,
                               const char *attributes_json) {
    cio_status_t st = cio__check_id(call, id_field, device_id);
    if (st == CIO_OK &&
        (platform == NULL || (strcmp(platform, "ios") != 0 && strcmp(platform, "android") != 0)))
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: platform must be \"ios\" or \"android\"", call);
    if (st == CIO_OK && last_used < 0)
        st = cio__fail(CIO_E_INVALID_ARGUMENT, "%s: last_used is negative", call);
    return st != CIO_OK ? st : cio__check_json_object(call, "attributes", attributes_json);
}
