/* The request log: every non-control request, in arrival order, as JSON objects. */
#include "mock_internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void mock_log_init(mock_request_log_t *log, size_t max_entries, size_t max_bytes) {
    memset(log, 0, sizeof(*log));
    log->max_entries = max_entries != 0 ? max_entries : MOCK_DEFAULT_MAX_LOGGED;
    log->max_bytes = max_bytes != 0 ? max_bytes : MOCK_DEFAULT_MAX_LOGGED_BYTES;
    log->next_seq = 1;
}

static mock_log_slot_t *log_slot(mock_request_log_t *log, size_t index) {
    return &log->entries[(log->head + index) % log->capacity];
}

static void log_drop_all(mock_request_log_t *log) {
    for (size_t i = 0; i < log->count; i++) {
        json_decref(log_slot(log, i)->entry);
    }
    log->head = 0;
    log->count = 0;
    log->bytes = 0;
}

void mock_log_free(mock_request_log_t *log) {
    log_drop_all(log);
    free(log->entries);
    log->entries = NULL;
    log->capacity = 0;
    free(log->pending);
    log->pending = NULL;
    log->pending_count = 0;
    log->pending_capacity = 0;
}

/* Room for one more pending entry; false on OOM. */
static bool pending_reserve(mock_request_log_t *log) {
    if (log->pending_count < log->pending_capacity) {
        return true;
    }
    size_t capacity = log->pending_capacity == 0 ? 16 : log->pending_capacity * 2;
    json_t **pending = realloc(log->pending, capacity * sizeof(*pending));
    if (pending == NULL) {
        return false;
    }
    log->pending = pending;
    log->pending_capacity = capacity;
    return true;
}

static bool is_pending(const mock_request_log_t *log, const json_t *entry) {
    for (size_t i = 0; i < log->pending_count; i++) {
        if (log->pending[i] == entry) {
            return true;
        }
    }
    return false;
}

/* The entry has its answer. Entries cleared from the log meanwhile are still found here: the
 * server's reference keeps them alive until mock_log_release. */
static void pending_remove(mock_request_log_t *log, const json_t *entry) {
    for (size_t i = 0; i < log->pending_count; i++) {
        if (log->pending[i] == entry) {
            log->pending[i] = log->pending[--log->pending_count];
            return;
        }
    }
}

/* Grows the ring to hold one more entry, unrolling it so head is 0 again. */
static bool log_grow(mock_request_log_t *log) {
    size_t capacity = log->capacity == 0 ? 64 : log->capacity * 2;
    if (capacity > log->max_entries) {
        capacity = log->max_entries;
    }
    mock_log_slot_t *entries = malloc(capacity * sizeof(*entries));
    if (entries == NULL) {
        return false;
    }
    for (size_t i = 0; i < log->count; i++) {
        entries[i] = *log_slot(log, i);
    }
    free(log->entries);
    log->entries = entries;
    log->capacity = capacity;
    log->head = 0;
    return true;
}

/* Drops the oldest entry, counting it. (A pending one stays alive through the server's
 * reference and still gets its status; it is just no longer listed.) */
static void log_drop_oldest(mock_request_log_t *log) {
    mock_log_slot_t *oldest = &log->entries[log->head];
    log->bytes -= oldest->bytes;
    log->dropped++;
    log->dropped_bytes += oldest->bytes;
    json_decref(oldest->entry);
    log->head = (log->head + 1) % log->capacity;
    log->count--;
}

static bool log_push(mock_request_log_t *log, json_t *entry, size_t bytes) {
    /* the newest entry is always kept, even alone over max_bytes (a body is at most 1 MiB) */
    while (log->count > 0 &&
           (log->count == log->max_entries || log->bytes + bytes > log->max_bytes)) {
        log_drop_oldest(log);
    }
    if (log->count == log->capacity && !log_grow(log)) {
        return false;
    }
    *log_slot(log, log->count) = (mock_log_slot_t){entry, bytes};
    log->count++;
    log->bytes += bytes;
    return true;
}

static char *lower_case_copy(const char *s) {
    char *copy = mock_strdup(s);
    for (char *p = copy; p != NULL && *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return copy;
}

typedef struct header_sink {
    json_t *headers;
    size_t bytes;
} header_sink_t;

/* Adds one header; a repeated header's values are joined with ", " as HTTP allows. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
    (void)kind;
    header_sink_t *sink = cls;
    json_t *headers = sink->headers;
    sink->bytes += strlen(key) + (value != NULL ? strlen(value) : 0);
    char *name = lower_case_copy(key);
    if (name == NULL) {
        return MHD_YES;
    }
    value = value != NULL ? value : "";
    json_t *previous = json_object_get(headers, name);
    json_t *text = NULL;
    if (json_is_string(previous)) {
        text = json_sprintf("%s, %s", json_string_value(previous), value);
    } else {
        text = json_string(value);
    }
    if (text == NULL) {
        text = json_stringn(value, 0); /* not valid UTF-8: keep the name at least */
    }
    json_object_set_new(headers, name, text);
    free(name);
    return MHD_YES;
}

static json_t *collect_headers(struct MHD_Connection *conn, size_t *bytes) {
    header_sink_t sink = {json_object(), 0};
    if (sink.headers != NULL) {
        MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, &sink);
    }
    *bytes += sink.bytes;
    return sink.headers;
}

/* Whether len bytes are all ASCII, eight at a time. */
static bool all_ascii(const char *s, size_t len) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        if ((word & 0x8080808080808080ull) != 0) {
            return false;
        }
    }
    for (; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return false;
        }
    }
    return true;
}

/* A body that is valid UTF-8 goes in "body", any other in "body_base64". ASCII bodies (most of
 * them) skip jansson's byte-by-byte UTF-8 check, which was a fifth of the emulator's time under
 * a benchmark's 500 KB batches. */
static void set_body(json_t *entry, const char *body, size_t len) {
    body = body != NULL ? body : "";
    json_t *text = all_ascii(body, len) ? json_stringn_nocheck(body, len) : json_stringn(body, len);
    if (text != NULL) {
        json_object_set_new(entry, "body", text);
        return;
    }
    char *encoded = mock_base64_encode((const unsigned char *)body, len);
    json_object_set_new(entry, "body_base64", json_string(encoded != NULL ? encoded : ""));
    free(encoded);
}

/* The entry, and in *bytes what it counts against the log's max_bytes. */
static json_t *build_entry(const mock_log_input_t *in, size_t *bytes) {
    json_t *entry = json_object();
    if (entry == NULL) {
        return NULL;
    }
    *bytes = in->body_len + strlen(in->path) + strlen(in->query);
    json_object_set_new(entry, "seq", json_integer(0));
    json_object_set_new(entry, "method", json_string(in->method));
    json_object_set_new(entry, "path", json_string(in->path));
    json_object_set_new(entry, "query", json_string(in->query));
    json_object_set_new(entry, "headers", collect_headers(in->conn, bytes));
    set_body(entry, in->body, in->body_len);
    if (in->body_truncated) {
        json_object_set_new(entry, "body_truncated", json_true());
    }
    json_object_set_new(entry, "status", json_integer(0));
    return entry;
}

json_t *mock_log_append(cio_mock_t *m, const mock_log_input_t *in) {
    size_t bytes = 0;
    json_t *entry = build_entry(in, &bytes);
    if (entry == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    json_object_set_new(entry, "seq", json_integer(m->log.next_seq));
    if (pending_reserve(&m->log) && log_push(&m->log, entry, bytes)) {
        m->log.next_seq++;
        m->log.pending[m->log.pending_count++] = entry;
        json_incref(entry);
    } else {
        json_decref(entry);
        entry = NULL;
    }
    pthread_mutex_unlock(&m->lock);
    return entry;
}

void mock_log_set_status(cio_mock_t *m, json_t *entry, unsigned int status) {
    if (entry == NULL) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    json_object_set_new(entry, "status", json_integer(status));
    pending_remove(&m->log, entry);
    pthread_mutex_unlock(&m->lock);
}

void mock_log_release(cio_mock_t *m, json_t *entry) {
    if (entry == NULL) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    json_decref(entry);
    pthread_mutex_unlock(&m->lock);
}

void mock_log_clear(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    log_drop_all(&m->log);
    m->log.next_seq = 1;
    m->log.dropped = 0;
    m->log.dropped_bytes = 0;
    pthread_mutex_unlock(&m->lock);
}

char *mock_log_dump(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < m->log.count; i++) {
        json_array_append(array, log_slot(&m->log, i)->entry);
    }
    char *text = array != NULL ? json_dumps(array, JSON_COMPACT) : NULL;
    json_decref(array);
    pthread_mutex_unlock(&m->lock);
    return text;
}

char *mock_log_drain(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    mock_request_log_t *log = &m->log;
    json_t *array = json_array();
    bool ok = array != NULL;
    for (size_t i = 0; ok && i < log->count; i++) {
        json_t *entry = log_slot(log, i)->entry;
        ok = is_pending(log, entry) || json_array_append(array, entry) == 0;
    }
    char *text = ok ? json_dumps(array, JSON_COMPACT) : NULL;
    json_decref(array);
    if (text != NULL) {
        /* Keep the pending entries, in order, at the front of the ring; drop the rest. The
         * ring's index mapping is monotonic, so compacting in place never overwrites an entry
         * not yet visited. */
        size_t kept = 0;
        for (size_t i = 0; i < log->count; i++) {
            mock_log_slot_t slot = *log_slot(log, i);
            if (is_pending(log, slot.entry)) {
                *log_slot(log, kept++) = slot;
            } else {
                log->bytes -= slot.bytes;
                json_decref(slot.entry);
            }
        }
        log->count = kept;
    }
    pthread_mutex_unlock(&m->lock);
    return text;
}

json_t *mock_log_stats(cio_mock_t *m) {
    pthread_mutex_lock(&m->lock);
    const mock_request_log_t *log = &m->log;
    json_t *stats =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "kept", (json_int_t)log->count, "kept_bytes",
                  (json_int_t)log->bytes, "dropped", (json_int_t)log->dropped, "dropped_bytes",
                  (json_int_t)log->dropped_bytes, "max_requests", (json_int_t)log->max_entries,
                  "max_bytes", (json_int_t)log->max_bytes);
    pthread_mutex_unlock(&m->lock);
    return stats;
}
