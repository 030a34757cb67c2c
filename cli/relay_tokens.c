/* The relay's tokens: a file of SHA-256 hashes with limits, looked up in constant time. */
#include "args.h"
#include "relay.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX_BYTES ((size_t)1 << 20)

static int hexval(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool relay_workspace_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 63) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') {
            return false;
        }
    }
    return true;
}

static int parse_shapes(const char *list, unsigned *out) {
    unsigned shapes = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "team", 4) == 0) {
            shapes |= RELAY_SHAPE_TEAM;
        } else if (n == 9 && strncmp(p, "pipelines", 9) == 0) {
            shapes |= RELAY_SHAPE_PIPELINES;
        } else if (n == 5 && strncmp(p, "stats", 5) == 0) {
            shapes |= RELAY_SHAPE_STATS;
        } else {
            return -1;
        }
        p += n + (p[n] == ',');
    }
    *out = shapes;
    return shapes != 0 ? 0 : -1;
}

static int parse_rate(const char *text, double *out) {
    return args_number(text, out, true) == 0 && *out > 0 && *out <= 1e6 ? 0 : -1;
}

/* One field "key=value" of a line into t; -1 with err. */
static int parse_field(relay_token_t *t, const char *field, char *err, size_t errlen) {
    const char *eq = strchr(field, '=');
    if (eq == NULL) {
        snprintf(err, errlen, "'%s' is not key=value", field);
        return -1;
    }
    size_t klen = (size_t)(eq - field);
    const char *v = eq + 1;
    if (klen == 4 && strncmp(field, "name", 4) == 0) {
        if (*v == '\0' || strlen(v) >= sizeof(t->name)) {
            snprintf(err, errlen, "name must be 1 to %zu characters", sizeof(t->name) - 1);
            return -1;
        }
        snprintf(t->name, sizeof(t->name), "%s", v);
    } else if (klen == 6 && strncmp(field, "shapes", 6) == 0) {
        if (parse_shapes(v, &t->shapes) != 0) {
            snprintf(err, errlen, "shapes must list team, pipelines or stats (got '%s')", v);
            return -1;
        }
    } else if (klen == 4 && strncmp(field, "rate", 4) == 0) {
        if (parse_rate(v, &t->rate) != 0) {
            snprintf(err, errlen, "rate must be requests a second, more than 0 (got '%s')", v);
            return -1;
        }
    } else if (klen == 9 && strncmp(field, "workspace", 9) == 0) {
        if (!relay_workspace_name_ok(v)) {
            snprintf(err, errlen, "workspace must be 1 to 63 of A-Z a-z 0-9 _ - (got '%s')", v);
            return -1;
        }
        snprintf(t->workspace, sizeof(t->workspace), "%s", v);
    } else {
        snprintf(err, errlen, "unknown field '%.*s' (name, shapes, rate, workspace)", (int)klen,
                 field);
        return -1;
    }
    return 0;
}

/* Parses one line (modified in place) into t: 1, 0 for a blank or comment line, -1 with err. */
static int parse_line(char *line, relay_token_t *t, char *err, size_t errlen) {
    char *save = NULL;
    char *word = strtok_r(line, " \t\r", &save);
    if (word == NULL || word[0] == '#') {
        return 0;
    }
    if (strncmp(word, "sha256:", 7) != 0 || strlen(word) != 7 + 64) {
        snprintf(err, errlen,
                 "not a hashed token (a line starts with sha256: and 64 hex digits; write it "
                 "with cio-native relay hash-token)");
        return -1;
    }
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(word[7 + 2 * i]), lo = hexval(word[8 + 2 * i]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "the hash holds a character that is not a hex digit");
            return -1;
        }
        t->hash[i] = (unsigned char)(hi << 4 | lo);
    }
    t->shapes = RELAY_SHAPES_DEFAULT;
    while ((word = strtok_r(NULL, " \t\r", &save)) != NULL) {
        if (word[0] == '#') {
            break;
        }
        if (parse_field(t, word, err, errlen) != 0) {
            return -1;
        }
    }
    return 1;
}

int relay_tokens_load(const char *path, relay_tokens_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    char *text;
    size_t len;
    if (read_file_max(path, TOKENS_MAX_BYTES, &text, &len) != 0) {
        char why[64];
        snprintf(err, errlen, "cannot read %s: %s", path,
                 read_error(errno, TOKENS_MAX_BYTES, why, sizeof(why)));
        return -1;
    }
    size_t cap = 0;
    int line_no = 0;
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        line_no++;
        relay_token_t t = {0};
        char why[200];
        int rc = parse_line(line, &t, why, sizeof(why));
        if (rc < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line_no, why);
            free(text);
            relay_tokens_free(out);
            return -1;
        }
        if (rc == 0) {
            continue;
        }
        if (t.name[0] == '\0') {
            snprintf(t.name, sizeof(t.name), "line %d", line_no);
        }
        for (size_t i = 0; i < out->n; i++) {
            if (memcmp(out->items[i].hash, t.hash, sizeof(t.hash)) == 0) {
                snprintf(err, errlen, "%s:%d: the same token as %s", path, line_no,
                         out->items[i].name);
                free(text);
                relay_tokens_free(out);
                return -1;
            }
        }
        if (out->n == cap) {
            cap = cap == 0 ? 8 : cap * 2;
            out->items = xrealloc(out->items, cap * sizeof(*out->items));
        }
        t.bucket = t.rate > 1 ? t.rate : 1;
        t.bucket_ms = now_ms();
        out->items[out->n] = t;
        pthread_mutex_init(&out->items[out->n].lock, NULL);
        out->n++;
    }
    free(text);
    if (out->n == 0) {
        snprintf(err, errlen, "%s holds no token", path);
        return -1;
    }
    return 0;
}

void relay_tokens_free(relay_tokens_t *t) {
    for (size_t i = 0; i < t->n; i++) {
        pthread_mutex_destroy(&t->items[i].lock);
    }
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

char *relay_token_line(const char *token, size_t len, const char *name, const char *shapes,
                       const char *rate, const char *workspace, char *err, size_t errlen) {
    relay_token_t probe = {0};
    sbuf_t line = {0};
    unsigned char hash[32];
    SHA256((const unsigned char *)token, len, hash);
    sb_puts(&line, "sha256:");
    for (size_t i = 0; i < sizeof(hash); i++) {
        sb_printf(&line, "%02x", hash[i]);
    }
    const char *keys[] = {"name", "shapes", "rate", "workspace"};
    const char *values[] = {name, shapes, rate, workspace};
    for (size_t i = 0; i < 4; i++) {
        if (values[i] == NULL) {
            continue;
        }
        char field[200];
        snprintf(field, sizeof(field), "%s=%s", keys[i], values[i]);
        if (strlen(values[i]) > 100 || strpbrk(values[i], " \t\r\n#") != NULL ||
            parse_field(&probe, field, err, errlen) != 0) {
            if (strlen(values[i]) > 100 || strpbrk(values[i], " \t\r\n#") != NULL) {
                snprintf(err, errlen, "--%s must not hold spaces or '#'", keys[i]);
            }
            sb_free(&line);
            return NULL;
        }
        sb_printf(&line, " %s", field);
    }
    return sb_take(&line);
}

relay_token_t *relay_tokens_find(const relay_tokens_t *t, const char *token, size_t len) {
    unsigned char hash[32];
    SHA256((const unsigned char *)token, len, hash);
    relay_token_t *found = NULL;
    /* every entry is compared, with CRYPTO_memcmp: the time does not say how close a guess is */
    for (size_t i = 0; i < t->n; i++) {
        if (CRYPTO_memcmp(t->items[i].hash, hash, sizeof(hash)) == 0) {
            found = &t->items[i];
        }
    }
    return found;
}

bool relay_token_take(relay_token_t *t, unsigned *retry_after) {
    if (t->rate <= 0) {
        return true;
    }
    double burst = t->rate > 1 ? t->rate : 1;
    pthread_mutex_lock(&t->lock);
    int64_t now = now_ms();
    t->bucket += (double)(now - t->bucket_ms) / 1000.0 * t->rate;
    if (t->bucket > burst) {
        t->bucket = burst;
    }
    t->bucket_ms = now;
    bool ok = t->bucket >= 1;
    if (ok) {
        t->bucket -= 1;
    } else {
        double wait = (1 - t->bucket) / t->rate;
        *retry_after = (unsigned)ceil(wait);
        if (*retry_after < 1) {
            *retry_after = 1;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}
