/*
 * The Pipelines API (customerio/cdp.h): one validator that also completes messages (messageId,
 * timestamp, context.library), single-message sends, typed helpers and /v1/batch; the pipeline's
 * Pipelines sink (sink_cdp.c) calls the validator and the timestamp from here.
 */
#include "customerio/cdp.h"
#include "util/json_read.h"
#include "pipeline_sink.h"
#include "request_internal.h"
#include "client_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"
#include "util/ulid.h"
#include "util/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const message_types[] = {"identify", "track", "page", "screen",
                                            "group",    "alias", NULL};

/* "2026-11-23T13:45:07.123Z". The date and time of day are formatted once per second per thread
 * (gmtime_r + strftime cost more than the rest of completing a message). */
static void iso8601_at(const struct timespec *now, char out[CIO_CDP_TIMESTAMP_BUFSIZE]) {
    /* one thread-local (a shared library reaches each through __tls_get_addr) */
    static _Thread_local struct {
        time_t second;
        size_t len;
        char text[24]; /* "2026-11-23T13:45:07" */
    } cached = {-1, 0, {0}};
    struct timespec ts = *now;
    if (ts.tv_sec != cached.second) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached.len = strftime(cached.text, sizeof(cached.text), "%Y-%m-%dT%H:%M:%S", &tm);
        cached.text[cached.len] = '\0';
        cached.second = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000L);
    size_t n = cached.len;
    memcpy(out, cached.text, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

static void iso8601_now(char out[CIO_CDP_TIMESTAMP_BUFSIZE]) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    iso8601_at(&now, out);
}

/* The members of a message this file reads, found in one walk over its members (looking each up
 * by name would compare every member name about twenty times per message). */
enum field {
    F_TYPE,
    F_USER_ID,
    F_ANONYMOUS_ID,
    F_PREVIOUS_ID,
    F_GROUP_ID,
    F_EVENT,
    F_NAME,
    F_CATEGORY,
    F_TRAITS,
    F_PROPERTIES,
    F_CONTEXT,
    F_INTEGRATIONS,
    F_TIMESTAMP,
    F_MESSAGE_ID,
    F_COUNT
};
#define FIELD(name)                                                                                \
    { name, sizeof(name) - 1 }
static const struct {
    const char *name;
    size_t len;
} field_info[F_COUNT] = {FIELD("type"),       FIELD("userId"),   FIELD("anonymousId"),
                         FIELD("previousId"), FIELD("groupId"),  FIELD("event"),
                         FIELD("name"),       FIELD("category"), FIELD("traits"),
                         FIELD("properties"), FIELD("context"),  FIELD("integrations"),
                         FIELD("timestamp"),  FIELD("messageId")};
#undef FIELD

typedef struct message_fields {
    const cio_json_value_t *of[F_COUNT]; /* NULL = absent, else &value[f] */
    cio_json_value_t value[F_COUNT];
    int context_at; /* the index of the context member when found through a complete index */
} message_fields_t;

/* An id, name or category whose value is null counts as absent, as Segment's API reads it
 * (the emulator too): analytics-python (customerio-cdp-analytics) sends "anonymousId": null
 * beside a userId, and "name": null, "category": null on a page without them. The member is
 * still sent as given. A null object (traits, context, ...) or messageId stays refused. */
static bool null_is_absent(int field) {
    return field == F_USER_ID || field == F_ANONYMOUS_ID || field == F_PREVIOUS_ID ||
           field == F_GROUP_ID || field == F_NAME || field == F_CATEGORY;
}

/* The field a member name without an escape is (its text is its value, quoted), or -1. One
 * switch on the length and at most two fixed-size compares: a message's member names are
 * looked at once per enqueue. */
static int plain_field(const char *text, size_t len) {
    const char *s = text + 1;
#define IS(lit) (memcmp(s, lit, sizeof(lit) - 1) == 0)
    switch (len - 2) {
    case 4:
        return IS("type") ? F_TYPE : IS("name") ? F_NAME : -1;
    case 5:
        return IS("event") ? F_EVENT : -1;
    case 6:
        return IS("userId") ? F_USER_ID : IS("traits") ? F_TRAITS : -1;
    case 7:
        return IS("context") ? F_CONTEXT : IS("groupId") ? F_GROUP_ID : -1;
    case 8:
        return IS("category") ? F_CATEGORY : -1;
    case 9:
        return IS("timestamp") ? F_TIMESTAMP : IS("messageId") ? F_MESSAGE_ID : -1;
    case 10:
        return IS("properties") ? F_PROPERTIES : IS("previousId") ? F_PREVIOUS_ID : -1;
    case 11:
        return IS("anonymousId") ? F_ANONYMOUS_ID : -1;
    case 12:
        return IS("integrations") ? F_INTEGRATIONS : -1;
    default:
        return -1;
    }
#undef IS
}

/* The field a member name is, or -1; escaped: its text holds an escape ("\u0074ype" is "type"). */
static int field_of(const cio_json_value_t *key, bool escaped) {
    if (!escaped)
        return plain_field(key->text, key->len);
    for (int i = 0; i < F_COUNT; i++)
        if (cio__jstring_is(key, field_info[i].name))
            return i;
    return -1;
}

/* Notes a member; returns the field it is (-1: none, or a null that counts as absent). */
static int note_member(message_fields_t *f, const cio_json_value_t *key,
                       const cio_json_value_t *value, bool escaped) {
    int i = field_of(key, escaped);
    if (i < 0 || (value->kind == CIO_JSON_NULL && null_is_absent(i)))
        return -1;
    f->value[i] = *value; /* a repeated name: the last one counts (refused anyway) */
    f->of[i] = &f->value[i];
    return i;
}

static void find_fields(const cio_json_value_t *msg, const cio_jindex_t *members,
                        message_fields_t *f) {
    memset(f->of, 0, sizeof(f->of));
    f->context_at = -1;
    if (msg->kind != CIO_JSON_OBJECT)
        return;
    if (members->complete) {
        for (size_t i = 0; i < members->count; i++)
            if (note_member(f, &members->key[i], &members->value[i],
                            (members->escaped >> i & 1) != 0) == F_CONTEXT)
                f->context_at = (int)i;
        return;
    }
    const char *cursor = NULL;
    cio_json_value_t key, value;
    while (cio__jnext(msg, &cursor, &key, &value))
        note_member(f, &key, &value, memchr(key.text, '\\', key.len) != NULL);
}

/* cio__jduplicate_key(), without its walk when the index tells enough: no escaped name and every
 * name of its own length (the index's length bits), or a few same-length names compared. */
static bool duplicate_key(const cio_json_value_t *msg, const cio_jindex_t *members,
                          cio_json_value_t *dup) {
    if (!members->complete || members->escaped != 0)
        return cio__jduplicate_key(msg, members, dup);
    size_t n = members->count;
    if ((size_t)__builtin_popcount(members->lengths) == n)
        return false;                /* n names of n different lengths */
    for (size_t i = 1; i < n; i++) { /* in cio__jduplicate_key's order: the first repeat */
        const cio_json_value_t *k = &members->key[i];
        for (size_t j = 0; j < i; j++) {
            if (members->key[j].len == k->len &&
                memcmp(members->key[j].text, k->text, k->len) == 0) {
                *dup = *k;
                return true;
            }
        }
    }
    return false;
}

/* A present id: a non-empty string without control characters (at most 150 bytes), or an
 * integer. Fills why and returns false otherwise. */
static bool id_value_ok(const cio_json_value_t *v, const char *field, char *why, size_t why_size) {
    if (v->kind == CIO_JSON_INTEGER)
        return true;
    /* Without an escape a string's bytes are its value, and hold no control character (JSON
     * has them only escaped): only its length is left to check. */
    if (v->kind == CIO_JSON_STRING && v->len > 2 && v->len - 2 <= CIO_MAX_ID_BYTES &&
        memchr(v->text, '\\', v->len) == NULL)
        return true;
    char text[CIO_MAX_ID_BYTES + 2];
    size_t n = v->kind == CIO_JSON_STRING ? cio__jstring(v, text, sizeof(text)) : 0;
    if (n == 0)
        snprintf(why, why_size, "%s must be a non-empty string", field);
    else if (n > CIO_MAX_ID_BYTES)
        snprintf(why, why_size, "%s is longer than %d bytes", field, CIO_MAX_ID_BYTES);
    else if (cio__has_control_char(text)) /* the scanner refuses \u0000: text is all of it */
        snprintf(why, why_size, "%s contains a control character", field);
    else
        return true;
    return false;
}

/* The index in message_types of a type member's value, or -1 (absent, not a string, unknown). */
enum { T_IDENTIFY, T_TRACK, T_PAGE, T_SCREEN, T_GROUP, T_ALIAS };
static int type_of(const cio_json_value_t *v) {
    if (v == NULL || v->kind != CIO_JSON_STRING)
        return -1;
    if (memchr(v->text, '\\', v->len) != NULL) { /* decoded to compare */
        for (int k = 0; message_types[k] != NULL; k++)
            if (cio__jstring_is(v, message_types[k]))
                return k;
        return -1;
    }
    const char *s = v->text + 1;
#define IS(lit) (memcmp(s, lit, sizeof(lit) - 1) == 0)
    switch (v->len - 2) {
    case 4:
        return IS("page") ? T_PAGE : -1;
    case 5:
        return IS("track") ? T_TRACK : IS("group") ? T_GROUP : IS("alias") ? T_ALIAS : -1;
    case 6:
        return IS("screen") ? T_SCREEN : -1;
    case 8:
        return IS("identify") ? T_IDENTIFY : -1;
    default:
        return -1;
    }
#undef IS
}

/* What is wrong with a scanned message, in why; false when something is. */
static bool check_message(const cio_json_value_t *text, const message_fields_t *f, char type[16],
                          char *why, size_t n) {
    if (text->kind != CIO_JSON_OBJECT) {
        snprintf(why, n, "a message must be a JSON object (got %s)", cio__jkind_name(text->kind));
        return false;
    }
    int t = type_of(f->of[F_TYPE]);
    if (t < 0) {
        snprintf(why, n, "type must be identify, track, page, screen, group or alias");
        return false;
    }
    memcpy(type, message_types[t], strlen(message_types[t]) + 1);
    const cio_json_value_t *user = f->of[F_USER_ID], *anon = f->of[F_ANONYMOUS_ID];
    if (user != NULL && !id_value_ok(user, "userId", why, n))
        return false;
    if (anon != NULL && !id_value_ok(anon, "anonymousId", why, n))
        return false;
    if (t == T_ALIAS) {
        const cio_json_value_t *previous = f->of[F_PREVIOUS_ID];
        if (user == NULL || previous == NULL) {
            snprintf(why, n, "alias needs previousId and userId");
            return false;
        }
        if (!id_value_ok(previous, "previousId", why, n))
            return false;
    } else if (user == NULL && anon == NULL) {
        snprintf(why, n, "userId or anonymousId is required");
        return false;
    }
    if (t == T_GROUP) {
        const cio_json_value_t *group = f->of[F_GROUP_ID];
        if (group == NULL) {
            snprintf(why, n, "groupId is required");
            return false;
        }
        if (!id_value_ok(group, "groupId", why, n))
            return false;
    }
    const cio_json_value_t *event = f->of[F_EVENT];
    if (t == T_TRACK && (event == NULL || event->kind != CIO_JSON_STRING || event->len == 2)) {
        snprintf(why, n, "event is required (a non-empty string)");
        return false;
    }
    static const enum field objects[] = {F_TRAITS, F_PROPERTIES, F_CONTEXT, F_INTEGRATIONS};
    for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        const cio_json_value_t *v = f->of[objects[i]];
        if (v != NULL && v->kind != CIO_JSON_OBJECT) {
            snprintf(why, n, "%s must be a JSON object (got %s)", field_info[objects[i]].name,
                     cio__jkind_name(v->kind));
            return false;
        }
    }
    static const enum field strings[] = {F_TIMESTAMP, F_MESSAGE_ID, F_NAME, F_CATEGORY};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        const cio_json_value_t *v = f->of[strings[i]];
        if (v != NULL && (v->kind != CIO_JSON_STRING || v->len == 2)) {
            snprintf(why, n, "%s must be a non-empty string", field_info[strings[i]].name);
            return false;
        }
    }
    return true;
}

#define LIBRARY_JSON "{\"name\":\"customerio-native\",\"version\":\"" CIO_VERSION_STRING "\"}"

/* A message's context object as sent: the caller's members, after context.library when they
 * have none (the caller's own library is kept). */
static bool append_context(cio_buf_t *out, const cio_json_value_t *context) {
    if (context->len == 2) /* "{}", the usual one */
        return cio__buf_appends(out, "{\"library\":" LIBRARY_JSON "}");
    cio_json_value_t library;
    if (cio__jget(context, "library", &library))
        return cio__buf_append(out, context->text, context->len);
    bool empty = cio__jcount(context) == 0;
    return cio__buf_appends(out, "{\"library\":" LIBRARY_JSON) &&
           (empty || cio__buf_append(out, ",", 1)) &&
           cio__buf_append(out, context->text + 1, context->len - 1); /* its members and '}' */
}

/* Appends n bytes where the caller reserved room for them (no NUL: written once at the end). */
static inline char *put(char *w, const void *data, size_t n) {
    memcpy(w, data, n);
    return w + n;
}
#define PUT_LIT(w, lit) put(w, lit, sizeof(lit) - 1)

/*
 * Writes the message completed with what the core fills in (messageId, timestamp,
 * context.library) when absent: the new members first, then the caller's members byte for byte
 * (numbers keep their spelling; nothing is re-serialised). stamp gets what was filled in.
 */
static bool complete_message(const cio_json_value_t *text, const cio_jindex_t *members,
                             const message_fields_t *f, const char *ulid, cio_buf_t *out,
                             cio_cdp_stamp_t *stamp) {
    stamp->message_id[0] = stamp->timestamp[0] = '\0';
    /* Room for everything: what is filled in, and the caller's members (their text holds each
     * name, value, ':' and ',' already, whitespace aside). */
    static const char context_member[] = "\"context\":{\"library\":" LIBRARY_JSON "},";
    size_t room = text->len + 2 + 16 + CIO_ULID_BUFSIZE + 16 + CIO_CDP_TIMESTAMP_BUFSIZE +
                  sizeof(context_member);
    if (!cio__buf_reserve(out, room))
        return false;
    char *start = out->data + out->len, *w = start;
    *w++ = '{';
    if (f->of[F_MESSAGE_ID] == NULL) {
        memcpy(stamp->message_id, ulid, CIO_ULID_BUFSIZE);
        w = PUT_LIT(w, "\"messageId\":\"");
        w = put(w, ulid, CIO_ULID_BUFSIZE - 1);
        w = PUT_LIT(w, "\",");
    }
    if (f->of[F_TIMESTAMP] == NULL) {
        iso8601_now(stamp->timestamp);
        w = PUT_LIT(w, "\"timestamp\":\"");
        w = put(w, stamp->timestamp, strlen(stamp->timestamp));
        w = PUT_LIT(w, "\",");
    }
    if (f->of[F_CONTEXT] == NULL)
        w = PUT_LIT(w, context_member);
    bool ok = true;
    if (members->complete) {
        for (size_t i = 0; i < members->count; i++) {
            const cio_json_value_t *key = &members->key[i], *value = &members->value[i];
            w = put(w, key->text, key->len);
            *w++ = ':';
            if ((int)i == f->context_at && value->kind == CIO_JSON_OBJECT) {
                out->len = (size_t)(w - out->data);
                ok = append_context(out, value); /* within the room reserved */
                w = out->data + out->len;
            } else {
                w = put(w, value->text, value->len);
            }
            *w++ = ',';
        }
        out->len = (size_t)(w - out->data);
    } else {
        out->len = (size_t)(w - out->data);
        const char *cursor = NULL;
        cio_json_value_t key, value;
        while (ok && cio__jnext(text, &cursor, &key, &value)) {
            ok = cio__buf_append(out, key.text, key.len) && cio__buf_append(out, ":", 1);
            if (ok && value.kind == CIO_JSON_OBJECT && cio__jstring_is(&key, "context")) {
                ok = append_context(out, &value);
            } else if (ok) {
                ok = cio__buf_append(out, value.text, value.len);
            }
            ok = ok && cio__buf_append(out, ",", 1);
        }
    }
    if (!ok)
        return false;
    if (out->data[out->len - 1] == ',')
        out->len--; /* the last member's (or, for an empty object, the last filled in's) */
    return cio__buf_append(out, "}", 1);
}

static cio_status_t check_size(const char *call, const char *label, const cio_buf_t *message) {
    if (message->len > CIO_CDP_MAX_MESSAGE_BYTES)
        return cio__fail(
            CIO_E_PAYLOAD_TOO_LARGE,
            "%s: %s is %zu bytes, over the Pipelines API limit of %d bytes per message", call,
            label, message->len, CIO_CDP_MAX_MESSAGE_BYTES);
    return CIO_OK;
}

/* Validates and completes one message into out; type (if non-NULL) gets its type, stamp (if
 * non-NULL) what was filled in. */
static cio_status_t prepare(const char *call, const char *label, const char *text, cio_buf_t *out,
                            char type[16], cio_cdp_stamp_t *stamp) {
    if (text == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is NULL", call, label);
    size_t len = strlen(text);
    cio_json_value_t msg;
    cio_jindex_t members;
    cio_status_t scanned = cio__json_scan_argument(call, label, text, len, 0, &msg, &members);
    if (scanned != CIO_OK)
        return scanned;
    cio_json_value_t dup;
    if (msg.kind == CIO_JSON_OBJECT &&
        duplicate_key(&msg, &members, &dup)) /* which one would count? */
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: %s is not valid JSON (the member %.*s appears twice)", call, label,
                         (int)cio__utf8_cut(dup.text, dup.len, 64), dup.text);
    message_fields_t fields;
    find_fields(&msg, &members, &fields);
    char why[160], t[16];
    if (!check_message(&msg, &fields, t, why, sizeof(why)))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s: %s", call, label, why);
    if (type != NULL)
        memcpy(type, t, sizeof(t));
    char ulid[CIO_ULID_BUFSIZE];
    if (fields.of[F_MESSAGE_ID] == NULL && cio_ulid(ulid) != CIO_OK)
        return cio__fail(CIO_E_INTERNAL, "%s: cannot make a messageId", call);
    cio_cdp_stamp_t ignored;
    if (!complete_message(&msg, &members, &fields, ulid, out, stamp != NULL ? stamp : &ignored))
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    return check_size(call, label, out);
}

/* ---- messages from their parts ---- */

/* Whether every byte of s is printable ASCII (0x20-0x7f) but '"' and '\\': a JSON string's value
 * that is its own text. Eight bytes at a time (ids and names are mostly 5-40 bytes). */
static bool plain_ascii(const char *s, size_t len) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x, q, b;
        memcpy(&x, s + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        /* any byte < 0x20, >= 0x80, '"' or '\\' (the usual "has a zero byte" test on q and b) */
        if (((x - ones * 0x20) & ~x & high) | (x & high) | ((q - ones) & ~q & high) |
            ((b - ones) & ~b & high))
            return false;
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/*
 * Writes the completed message from its parts straight into out, and fills f with where each
 * part landed, so that check_message() applies the same rules as to a message given as text
 * without scanning the whole message again. Each *_json part is scanned on its own first: it
 * must be exactly one JSON value, or its text could add members.
 */
static cio_status_t write_parts(const char *call, const cio_cdp_message_t *m, cio_buf_t *out,
                                message_fields_t *f, cio_cdp_stamp_t *stamp) {
    const char *const values[F_COUNT] = {
        [F_TYPE] = m->type,
        [F_USER_ID] = m->user_id,
        [F_ANONYMOUS_ID] = m->anonymous_id,
        [F_PREVIOUS_ID] = m->previous_id,
        [F_GROUP_ID] = m->group_id,
        [F_EVENT] = m->event,
        [F_NAME] = m->name,
        [F_CATEGORY] = m->category,
        [F_TRAITS] = m->traits_json,
        [F_PROPERTIES] = m->properties_json,
        [F_CONTEXT] = m->context_json,
        [F_INTEGRATIONS] = m->integrations_json,
        [F_TIMESTAMP] = m->timestamp,
        [F_MESSAGE_ID] = m->message_id,
    };
    static const bool json_part[F_COUNT] = {
        [F_TRAITS] = true, [F_PROPERTIES] = true, [F_CONTEXT] = true, [F_INTEGRATIONS] = true};
    size_t offset[F_COUNT];
    stamp->message_id[0] = stamp->timestamp[0] = '\0';
    const char *filled[F_COUNT] = {0};
    struct timespec now; /* one reading for the ULID's time and the timestamp */
    clock_gettime(CLOCK_REALTIME, &now);
    if (values[F_MESSAGE_ID] == NULL) {
        uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
        if (cio__ulid_at(ms, stamp->message_id) != CIO_OK)
            return cio__fail(CIO_E_INTERNAL, "%s: cannot make a messageId", call);
        filled[F_MESSAGE_ID] = stamp->message_id;
    }
    if (values[F_TIMESTAMP] == NULL) {
        iso8601_at(&now, stamp->timestamp);
        filled[F_TIMESTAMP] = stamp->timestamp;
    }
    /* members in the order a completed text message has them: what the core fills in first */
    static const enum field order[F_COUNT] = {
        F_MESSAGE_ID,  F_TIMESTAMP,  F_TYPE,    F_USER_ID,     F_ANONYMOUS_ID,
        F_PREVIOUS_ID, F_GROUP_ID,   F_EVENT,   F_NAME,        F_CATEGORY,
        F_TRAITS,      F_PROPERTIES, F_CONTEXT, F_INTEGRATIONS};
    /* ,"name": of each member (the first one is written without its comma) */
#define HEAD(name)                                                                                 \
    { ",\"" name "\":", sizeof(",\"" name "\":") - 1 }
    static const struct {
        const char *text;
        size_t len;
    } head[F_COUNT] = {HEAD("type"),       HEAD("userId"),   HEAD("anonymousId"),
                       HEAD("previousId"), HEAD("groupId"),  HEAD("event"),
                       HEAD("name"),       HEAD("category"), HEAD("traits"),
                       HEAD("properties"), HEAD("context"),  HEAD("integrations"),
                       HEAD("timestamp"),  HEAD("messageId")};
#undef HEAD
    bool ok = cio__buf_reserve(out, 384) && cio__buf_append(out, "{", 1);
    bool first = true;
    memset(f->of, 0, sizeof(f->of));
    for (size_t k = 0; ok && k < F_COUNT; k++) {
        enum field i = order[k];
        const char *value = values[i] != NULL ? values[i] : filled[i];
        cio_json_value_t part = {0};
        if (value == NULL && i == F_CONTEXT) {
            value = "{}"; /* context.library is always sent */
        } else if (value == NULL) {
            continue;
        }
        size_t len = strlen(value);
        /* a string member without a byte to escape (printable ASCII but " and \\) is copied as
         * it is; anything else is checked for UTF-8 and escaped */
        bool plain = false;
        if (json_part[i] && len == 2 && memcmp(value, "{}", 2) == 0) {
            part = (cio_json_value_t){value, len, CIO_JSON_OBJECT}; /* the usual integrations */
        } else if (json_part[i]) {                                  /* a member: one level down */
            cio_status_t st =
                cio__json_scan_argument(call, field_info[i].name, value, len, 1, &part, NULL);
            if (st != CIO_OK)
                return st;
        } else if (values[i] == NULL) {
            plain = true; /* what the core made (ULID, time) needs no escaping */
        } else {
            plain = plain_ascii(value, len);
            if (!plain && !cio__utf8_valid(value, len))
                return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: %s is not valid UTF-8", call,
                                 field_info[i].name);
        }
        size_t need = head[i].len + len + 2;
        if (out->len + need + 1 > out->cap && !cio__buf_reserve(out, need)) {
            ok = false;
            break;
        }
        char *w = out->data + out->len;
        w = first ? put(w, head[i].text + 1, head[i].len - 1) : put(w, head[i].text, head[i].len);
        first = false;
        offset[i] = out->len = (size_t)(w - out->data);
        if (plain) {
            *w++ = '"';
            w = put(w, value, len);
            *w++ = '"';
            out->len = (size_t)(w - out->data);
            out->data[out->len] = '\0';
            part.kind = CIO_JSON_STRING;
        } else if (!json_part[i]) {
            ok = cio__buf_append_json_string(out, value);
            part.kind = CIO_JSON_STRING;
        } else if (i == F_CONTEXT && part.kind == CIO_JSON_OBJECT) {
            out->data[out->len] = '\0';
            ok = append_context(out, &part);
        } else {
            w = put(w, part.text, part.len);
            out->len = (size_t)(w - out->data);
            out->data[out->len] = '\0';
        }
        f->value[i].kind = part.kind;
        f->value[i].len = out->len - offset[i];
        f->of[i] = &f->value[i];
    }
    /* options: last, outside the members the core reads (a version-1 struct ends before it) */
    const char *options = m->version >= 2 ? m->options_json : NULL;
    if (ok && options != NULL) {
        cio_json_value_t part = {0};
        cio_status_t st =
            cio__json_scan_argument(call, "options", options, strlen(options), 1, &part, NULL);
        if (st != CIO_OK)
            return st;
        if (part.kind != CIO_JSON_OBJECT)
            return cio__fail(CIO_E_INVALID_ARGUMENT,
                             "%s: message: options must be a JSON object (got %s)", call,
                             cio__jkind_name(part.kind));
        ok = cio__buf_appends(out, ",\"options\":") && cio__buf_append(out, part.text, part.len);
    }
    if (!ok || !cio__buf_append(out, "}", 1))
        return cio__fail(CIO_E_NOMEM, "%s: out of memory", call);
    for (int i = 0; i < F_COUNT; i++) /* the buffer has stopped moving */
        if (f->of[i] != NULL)
            f->value[i].text = out->data + offset[i];
    return CIO_OK;
}

cio_status_t cio__cdp_build_message(const char *call, const cio_cdp_message_t *m, cio_buf_t *out,
                                    cio_cdp_stamp_t *stamp) {
    if (m == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: message is NULL", call);
    if (m->version == 0 || m->version > CIO_CDP_MESSAGE_VERSION)
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: message.version %u is not supported (use CIO_CDP_MESSAGE_INIT)", call,
                         m->version);
    cio_cdp_stamp_t ignored;
    message_fields_t fields;
    cio_status_t st = write_parts(call, m, out, &fields, stamp != NULL ? stamp : &ignored);
    if (st != CIO_OK)
        return st;
    cio_json_value_t whole = {out->data, out->len, CIO_JSON_OBJECT};
    char why[160], type[16];
    if (!check_message(&whole, &fields, type, why, sizeof(why)))
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: message: %s", call, why);
    return check_size(call, "message", out);
}

cio_status_t cio_cdp_build(const cio_cdp_message_t *message, char **prepared_json,
                           cio_cdp_stamp_t *stamp) {
    if (prepared_json == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "cdp_build: prepared_json is NULL");
    *prepared_json = NULL;
    cio_buf_t text = {0};
    cio_status_t st = cio__cdp_build_message("cdp_build", message, &text, stamp);
    if (st != CIO_OK) {
        cio__buf_free(&text);
        return st;
    }
    *prepared_json = text.data;
    return cio__ok();
}

cio_status_t cio__cdp_prepare_message(const char *call, const char *label, const char *text,
                                      cio_buf_t *out) {
    return prepare(call, label, text, out, NULL, NULL);
}

cio_status_t cio_cdp_prepare(const char *message_json, char **prepared_json) {
    if (prepared_json == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "cdp_prepare: prepared_json is NULL");
    *prepared_json = NULL;
    cio_buf_t text = {0};
    cio_status_t st = prepare("cdp_prepare", "message", message_json, &text, NULL, NULL);
    if (st != CIO_OK) {
        cio__buf_free(&text);
        return st;
    }
    *prepared_json = text.data;
    return cio__ok();
}

static cio_status_t require_key(cio_client_t *client, const char *call) {
    if (client == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "%s: client is NULL", call);
    if (client->cdp_api_key == NULL)
        return cio__fail(CIO_E_CONFIG,
                         "%s: cdp_api_key is missing (pass it or set CUSTOMERIO_CDP_API_KEY)",
                         call);
    return CIO_OK;
}

/* The end of every Pipelines builder: the prepared message in body (taken over) as a request
 * to /v1/<type>; st says whether preparing it went well. */
static cio_status_t message_request(const char *call, const char *type, cio_status_t st,
                                    cio_buf_t *body, cio_request_t **out) {
    if (st != CIO_OK) {
        cio__buf_free(body);
        return st;
    }
    cio_buf_t path = {0};
    bool ok = cio__buf_appends(&path, "/v1/") && cio__buf_appends(&path, type);
    return cio__request_make(out, call, CIO_API_CDP, CIO_REQUEST_CDP_MESSAGE, "POST", &path, body,
                             !ok);
}

cio_status_t cio_cdp_message_request(const char *message_json, cio_request_t **out) {
    static const char call[] = "cdp_send"; /* the call it builds for: the same messages */
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    cio_buf_t body = {0};
    char type[16];
    st = prepare(call, "message", message_json, &body, type, NULL);
    return message_request(call, type, st, &body, out);
}

/* The classic call: the credentials (checked first, as these calls always did), the builder,
 * then the classic executor. */
#define CDP_RUN(client, call, builder, ...)                                                        \
    do {                                                                                           \
        cio_request_t *req_ = NULL;                                                                \
        cio_status_t st_ = require_key(client, call);                                              \
        if (st_ == CIO_OK)                                                                         \
            st_ = builder(__VA_ARGS__, &req_);                                                     \
        return cio__request_run(client, st_, req_, NULL);                                          \
    } while (0)

cio_status_t cio_cdp_send(cio_client_t *client, const char *message_json) {
    CDP_RUN(client, "cdp_send", cio_cdp_message_request, message_json);
}

/* ---- typed helpers: the message from its parts, then a request like any other ---- */

static cio_status_t build_request(const char *call, cio_cdp_message_t *m,
                                  const cio_cdp_options_t *o, cio_request_t **out) {
    cio_status_t st = cio__request_begin(call, out);
    if (st != CIO_OK)
        return st;
    if (o != NULL && (o->version == 0 || o->version > CIO_CDP_OPTIONS_VERSION))
        return cio__fail(CIO_E_INVALID_ARGUMENT,
                         "%s: options.version %u is not supported (use CIO_CDP_OPTIONS_INIT)", call,
                         o->version);
    if (o != NULL) {
        m->message_id = o->message_id;
        m->timestamp = o->timestamp;
        m->context_json = o->context_json;
        m->integrations_json = o->integrations_json;
        if (strcmp(m->type, "page") == 0 || strcmp(m->type, "screen") == 0)
            m->category = o->category;
    }
    cio_buf_t body = {0};
    st = cio__cdp_build_message(call, m, &body, NULL);
    return message_request(call, m->type, st, &body, out);
}

cio_status_t cio_cdp_identify_request(const char *user_id, const char *anonymous_id,
                                      const char *traits_json, const cio_cdp_options_t *options,
                                      cio_request_t **out) {
    cio_cdp_message_t m = {CIO_CDP_MESSAGE_VERSION, .type = "identify", .user_id = user_id,
                           .anonymous_id = anonymous_id, .traits_json = traits_json};
    return build_request("cdp_identify", &m, options, out);
}

cio_status_t cio_cdp_track_request(const char *user_id, const char *anonymous_id, const char *event,
                                   const char *properties_json, const cio_cdp_options_t *options,
                                   cio_request_t **out) {
    cio_cdp_message_t m = {CIO_CDP_MESSAGE_VERSION, .type = "track",
                           .user_id = user_id,      .anonymous_id = anonymous_id,
                           .event = event,          .properties_json = properties_json};
    return build_request("cdp_track", &m, options, out);
}

cio_status_t cio_cdp_page_request(const char *user_id, const char *anonymous_id, const char *name,
                                  const char *properties_json, const cio_cdp_options_t *options,
                                  cio_request_t **out) {
    cio_cdp_message_t m = {
        CIO_CDP_MESSAGE_VERSION,      .type = "page", .user_id = user_id,
        .anonymous_id = anonymous_id, .name = name,   .properties_json = properties_json};
    return build_request("cdp_page", &m, options, out);
}

cio_status_t cio_cdp_screen_request(const char *user_id, const char *anonymous_id, const char *name,
                                    const char *properties_json, const cio_cdp_options_t *options,
                                    cio_request_t **out) {
    cio_cdp_message_t m = {
        CIO_CDP_MESSAGE_VERSION,      .type = "screen", .user_id = user_id,
        .anonymous_id = anonymous_id, .name = name,     .properties_json = properties_json};
    return build_request("cdp_screen", &m, options, out);
}

cio_status_t cio_cdp_group_request(const char *user_id, const char *anonymous_id,
                                   const char *group_id, const char *traits_json,
                                   const cio_cdp_options_t *options, cio_request_t **out) {
    cio_cdp_message_t m = {CIO_CDP_MESSAGE_VERSION, .type = "group",
                           .user_id = user_id,      .anonymous_id = anonymous_id,
                           .group_id = group_id,    .traits_json = traits_json};
    return build_request("cdp_group", &m, options, out);
}

cio_status_t cio_cdp_alias_request(const char *previous_id, const char *user_id,
                                   const cio_cdp_options_t *options, cio_request_t **out) {
    cio_cdp_message_t m = {CIO_CDP_MESSAGE_VERSION, .type = "alias", .user_id = user_id,
                           .previous_id = previous_id};
    return build_request("cdp_alias", &m, options, out);
}

cio_status_t cio_cdp_identify(cio_client_t *client, const char *user_id, const char *anonymous_id,
                              const char *traits_json, const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_identify", cio_cdp_identify_request, user_id, anonymous_id, traits_json,
            options);
}

cio_status_t cio_cdp_track(cio_client_t *client, const char *user_id, const char *anonymous_id,
                           const char *event, const char *properties_json,
                           const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_track", cio_cdp_track_request, user_id, anonymous_id, event,
            properties_json, options);
}

cio_status_t cio_cdp_page(cio_client_t *client, const char *user_id, const char *anonymous_id,
                          const char *name, const char *properties_json,
                          const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_page", cio_cdp_page_request, user_id, anonymous_id, name, properties_json,
            options);
}

cio_status_t cio_cdp_screen(cio_client_t *client, const char *user_id, const char *anonymous_id,
                            const char *name, const char *properties_json,
                            const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_screen", cio_cdp_screen_request, user_id, anonymous_id, name,
            properties_json, options);
}

cio_status_t cio_cdp_group(cio_client_t *client, const char *user_id, const char *anonymous_id,
                           const char *group_id, const char *traits_json,
                           const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_group", cio_cdp_group_request, user_id, anonymous_id, group_id,
            traits_json, options);
}

cio_status_t cio_cdp_alias(cio_client_t *client, const char *previous_id, const char *user_id,
                           const cio_cdp_options_t *options) {
    CDP_RUN(client, "cdp_alias", cio_cdp_alias_request, previous_id, user_id, options);
}

/* ---- batches and the pipeline's sink ---- */

void cio__cdp_timestamp_now(char out[CIO_CDP_TIMESTAMP_BUFSIZE]) {
    iso8601_now(out);
}

cio_status_t cio_cdp_batch(cio_client_t *client, const char *const *messages_json, size_t count,
                           cio_batch_result_t **result) {
    if (result != NULL)
        *result = NULL;
    cio_status_t st = require_key(client, "cdp_batch");
    if (st != CIO_OK)
        return st;
    return cio__batch_send(client, "cdp_batch", &cio__sink_cdp, messages_json, count, result);
}
