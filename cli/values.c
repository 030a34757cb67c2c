/* Text to JSON values: auto-typing, strict parsers and ISO 8601 dates. */
#include "values.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool value_is_json_number(const char *s) {
    const char *p = s;
    if (*p == '-') {
        p++;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    } else {
        return false;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    return *p == '\0';
}

json_t *value_auto(const char *s) {
    if (strcmp(s, "true") == 0) {
        return json_true();
    }
    if (strcmp(s, "false") == 0) {
        return json_false();
    }
    if (strcmp(s, "null") == 0) {
        return json_null();
    }
    json_t *number = NULL;
    if (value_is_json_number(s) && value_parse_number(s, &number) == 0) {
        return number;
    }
    return json_string(s);
}

/* Copies s without surrounding blanks into buf; -1 when it does not fit or is empty. */
static int trimmed(const char *s, char *buf, size_t size) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    if (n == 0 || n >= size) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int value_parse_integer(const char *s, int64_t *out) {
    char buf[64];
    if (trimmed(s, buf, sizeof(buf)) != 0) {
        return -1;
    }
    const char *p = buf[0] == '-' || buf[0] == '+' ? buf + 1 : buf;
    if (*p == '\0') {
        return -1;
    }
    for (const char *q = p; *q != '\0'; q++) {
        if (!isdigit((unsigned char)*q)) {
            return -1;
        }
    }
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno != 0) {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

int value_parse_number(const char *s, json_t **out) {
    char buf[128];
    if (trimmed(s, buf, sizeof(buf)) != 0 || !value_is_json_number(buf)) {
        return -1;
    }
    json_error_t error;
    json_t *v = json_loads(buf, JSON_DECODE_ANY, &error);
    if (v == NULL || !json_is_number(v)) {
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}

int value_parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"true", "yes", "y", "t", "1", "on", NULL};
    static const char *const no[] = {"false", "no", "n", "f", "0", "off", NULL};
    char buf[16];
    if (trimmed(s, buf, sizeof(buf)) != 0) {
        return -1;
    }
    for (char *p = buf; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    for (int i = 0; yes[i] != NULL; i++) {
        if (strcmp(buf, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(buf, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int64_t value_unix_seconds(int64_t year, int month, int day, int hour, int minute, int second) {
    /* Howard Hinnant's days_from_civil. */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

/* Reads exactly n digits at *p into *out. */
static bool digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int value_parse_time(const char *s, int64_t *out) {
    char buf[64];
    if (trimmed(s, buf, sizeof(buf)) != 0) {
        return -1;
    }
    int64_t as_int;
    if (buf[0] != '-' && buf[0] != '+' && value_parse_integer(buf, &as_int) == 0) {
        *out = as_int;
        return 0;
    }
    const char *p = buf;
    int year, month, day, hour = 0, minute = 0, second = 0;
    if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &month) || *p++ != '-' ||
        !digits(&p, 2, &day)) {
        return -1;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] + (month == 2 && leap(year))) {
        return -1;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &minute)) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &second)) {
                return -1;
            }
            if (*p == '.' || *p == ',') {
                p++;
                if (!isdigit((unsigned char)*p)) {
                    return -1;
                }
                while (isdigit((unsigned char)*p)) {
                    p++;
                }
            }
        }
        if (hour > 23 || minute > 59 || second > 60) {
            return -1;
        }
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh)) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &om)) {
                return -1;
            }
        } else if (isdigit((unsigned char)*p) && !digits(&p, 2, &om)) {
            return -1;
        }
        if (oh > 23 || om > 59) {
            return -1;
        }
        offset = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0') {
        return -1;
    }
    int64_t t = value_unix_seconds(year, month, day, hour, minute, second) - offset;
    if (t < 0) {
        return -1;
    }
    *out = t;
    return 0;
}
