/* Fault rules injected through POST /_mock/faults and consumed by API requests in order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mock_fault_release(mock_fault_t *fault) {
    free(fault->body);
    free(fault->retry_after);
    free(fault->match);
    fault->body = NULL;
    fault->retry_after = NULL;
    fault->match = NULL;
}

void mock_faults_free(mock_fault_list_t *list) {
    for (size_t i = 0; i < list->count; i++) {
        mock_fault_release(&list->items[i]);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static bool parse_integer(json_t *value, const char *name, json_int_t min, json_int_t max,
                          json_int_t *out, char *err, size_t errlen) {
    if (!json_is_integer(value) || json_integer_value(value) < min ||
        json_integer_value(value) > max) {
        mock_set_err(err, errlen, "'%s' must be an integer from %lld to %lld", name, (long long)min,
                     (long long)max);
        return false;
    }
    *out = json_integer_value(value);
    return true;
}

/* "body" may be a string (sent as is) or any other JSON value (sent serialised). */
static bool parse_body(json_t *value, mock_fault_t *out, char *err, size_t errlen) {
    out->body = json_is_string(value) ? mock_strdup(json_string_value(value))
                                      : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (out->body == NULL) {
        mock_set_err(err, errlen, "out of memory");
    }
    return out->body != NULL;
}

/* "retry_after" may be a string or a non-negative integer (seconds). */
static bool parse_retry_after(json_t *value, mock_fault_t *out, char *err, size_t errlen) {
    if (json_is_string(value) && json_string_length(value) > 0 &&
        strpbrk(json_string_value(value), "\r\n") == NULL) {
        out->retry_after = mock_strdup(json_string_value(value));
    } else if (json_is_integer(value) && json_integer_value(value) >= 0) {
        char text[32];
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(value));
        out->retry_after = mock_strdup(text);
    } else {
        mock_set_err(err, errlen, "'retry_after' must be a non-empty string or an integer");
        return false;
    }
    return out->retry_after != NULL;
}

static bool parse_action(json_t *value, mock_fault_t *out, char *err, size_t errlen) {
    const char *action = json_string_value(value);
    if (action != NULL && strcmp(action, "respond") == 0) {
        out->action = MOCK_FAULT_RESPOND;
    } else if (action != NULL && strcmp(action, "reset") == 0) {
        out->action = MOCK_FAULT_RESET;
    } else {
        mock_set_err(err, errlen, "'action' must be \"respond\" or \"reset\"");
        return false;
    }
    return true;
}

static bool parse_field(const char *key, json_t *value, mock_fault_t *out, char *err,
                        size_t errlen) {
    json_int_t n = 0;
    if (strcmp(key, "count") == 0) {
        bool ok = parse_integer(value, key, 1, 1000000000, &n, err, errlen);
        out->count = (unsigned long)n;
        return ok;
    }
    if (strcmp(key, "status") == 0) {
        bool ok = parse_integer(value, key, 0, 599, &n, err, errlen);
        if (ok && n != 0 && n < 200) {
            mock_set_err(err, errlen, "'status' must be 0 or from 200 to 599");
            return false;
        }
        out->status = (unsigned int)n;
        return ok;
    }
    if (strcmp(key, "delay_ms") == 0) {
        bool ok = parse_integer(value, key, 0, (json_int_t)MOCK_MAX_DELAY_MS, &n, err, errlen);
        out->delay_ms = (unsigned long)n;
        return ok;
    }
    if (strcmp(key, "body") == 0) {
        return json_is_null(value) || parse_body(value, out, err, errlen);
    }
    if (strcmp(key, "retry_after") == 0) {
        return json_is_null(value) || parse_retry_after(value, out, err, errlen);
    }
    if (strcmp(key, "action") == 0) {
        return parse_action(value, out, err, errlen);
    }
    if (strcmp(key, "match") == 0) {
        if (!json_is_string(value) || json_string_length(value) == 0) {
            mock_set_err(err, errlen, "'match' must be a non-empty string");
            return false;
        }
        free(out->match);
        out->match = mock_strdup(json_string_value(value));
        if (out->match == NULL) {
            mock_set_err(err, errlen, "out of memory");
        }
        return out->match != NULL;
    }
    mock_set_err(err, errlen, "unknown field '%s'", key);
    return false;
}

bool mock_fault_parse(const char *body, size_t len, mock_fault_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    out->count = 1;
    out->action = MOCK_FAULT_RESPOND;
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &error);
    if (root == NULL) {
        mock_set_err(err, errlen, "malformed JSON: %s", error.text);
        return false;
    }
    bool ok = json_is_object(root);
    if (!ok) {
        mock_set_err(err, errlen, "the fault must be a JSON object");
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (ok && !parse_field(key, value, out, err, errlen)) {
            ok = false;
        }
    }
    json_decref(root);
    if (!ok) {
        mock_fault_release(out);
    }
    return ok;
}

bool mock_faults_add(cio_mock_t *m, mock_fault_t *fault) {
    pthread_mutex_lock(&m->lock);
    mock_fault_list_t *list = &m->faults;
    bool ok = true;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 8 : list->capacity * 2;
        mock_fault_t *items = realloc(list->items, capacity * sizeof(*items));
        ok = items != NULL;
        if (ok) {
            list->items = items;
            list->capacity = capacity;
        }
    }
    if (ok) {
        list->items[list->count++] = *fault;
        memset(fault, 0, sizeof(*fault));
    }
    pthread_mutex_unlock(&m->lock);
    return ok;
}

void mock_faults_clear(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    mock_faults_free(&m->faults);
    pthread_mutex_unlock(&m->lock);
}

/* The first rule that applies to a request with this body: one without "match", or one whose
 * match the body contains. Rules that do not apply are left for later requests. */
bool mock_faults_take(cio_mock_t *m, const char *body, size_t body_len, mock_fault_t *out) {
    pthread_mutex_lock(&m->lock);
    mock_fault_list_t *list = &m->faults;
    size_t i = 0;
    while (i < list->count && list->items[i].match != NULL &&
           (body == NULL ||
            memmem(body, body_len, list->items[i].match, strlen(list->items[i].match)) == NULL)) {
        i++;
    }
    bool taken = i < list->count;
    if (taken) {
        mock_fault_t *first = &list->items[i];
        *out = *first;
        out->count = 1;
        out->body = mock_strdup(first->body);
        out->retry_after = mock_strdup(first->retry_after);
        out->match = NULL;
        if (--first->count == 0) {
            mock_fault_release(first);
            memmove(first, first + 1, (list->count - i - 1) * sizeof(*first));
            list->count--;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return taken;
}

static json_t *fault_to_json(const mock_fault_t *fault) {
    json_t *obj = json_pack("{s:I, s:i, s:I, s:s}", "count", (json_int_t)fault->count, "status",
                            (int)fault->status, "delay_ms", (json_int_t)fault->delay_ms, "action",
                            fault->action == MOCK_FAULT_RESET ? "reset" : "respond");
    if (obj != NULL && fault->body != NULL) {
        json_object_set_new(obj, "body", json_string(fault->body));
    }
    if (obj != NULL && fault->retry_after != NULL) {
        json_object_set_new(obj, "retry_after", json_string(fault->retry_after));
    }
    if (obj != NULL && fault->match != NULL) {
        json_object_set_new(obj, "match", json_string(fault->match));
    }
    return obj;
}

json_t *mock_faults_to_json(cio_mock_t *m) {
    json_t *array = json_array();
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; array != NULL && i < m->faults.count; i++) {
        json_array_append_new(array, fault_to_json(&m->faults.items[i]));
    }
    pthread_mutex_unlock(&m->lock);
    return array;
}

/* ---- standing faults ---- */

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: reproducible enough for fault injection, and lock-protected by the caller. */
static double next_uniform(mock_ambient_t *a) {
    uint64_t x = a->rng != 0 ? a->rng : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    a->rng = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

bool mock_ambient_set(cio_mock_t *m, const char *body, size_t len, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "the body must be a JSON object");
        json_decref(root);
        return false;
    }
    mock_ambient_t next = {.fail_status = 500};
    const char *key;
    json_t *v;
    bool ok = true;
    json_object_foreach(root, key, v) {
        double d = json_number_value(v);
        if (!json_is_number(v)) {
            ok = false;
        } else if (strcmp(key, "fail_rate") == 0 && d >= 0 && d <= 1) {
            next.fail_rate = d;
        } else if (strcmp(key, "fail_status") == 0 && d >= 200 && d <= 599) {
            next.fail_status = (unsigned int)d;
        } else if (strcmp(key, "rate_limit") == 0 && d >= 0) {
            next.rate_limit = d;
        } else {
            ok = false;
        }
        if (!ok) {
            snprintf(err, errlen,
                     "%s: expected fail_rate 0..1, fail_status 200..599 or rate_limit >= 0", key);
            break;
        }
    }
    json_decref(root);
    if (ok) {
        pthread_mutex_lock(&m->lock);
        next.rng = m->ambient.rng;
        m->ambient = next;
        pthread_mutex_unlock(&m->lock);
    }
    return ok;
}

json_t *mock_ambient_to_json(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    json_t *j = json_pack("{s:f,s:i,s:f}", "fail_rate", m->ambient.fail_rate, "fail_status",
                          (int)m->ambient.fail_status, "rate_limit", m->ambient.rate_limit);
    pthread_mutex_unlock(&m->lock);
    return j;
}

unsigned int mock_ambient_take(cio_mock_t *m) {
    unsigned int status = 0;
    pthread_mutex_lock(&m->lock);
    mock_ambient_t *a = &m->ambient;
    if (a->rate_limit > 0) {
        int64_t now = monotonic_ms();
        if (now - a->window_start_ms >= 1000) {
            a->window_start_ms = now;
            a->window_count = 0;
        }
        if ((double)a->window_count >= a->rate_limit) {
            status = 429;
        } else {
            a->window_count++;
        }
    }
    if (status == 0 && a->fail_rate > 0 && next_uniform(a) < a->fail_rate) {
        status = a->fail_status;
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}
