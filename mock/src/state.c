/*
 * The emulated workspace: the people that Track calls identify (read back through the App API),
 * the transactional deliveries and broadcast triggers the App API records, and the segments.
 *
 * Everything lives in jansson values under one mutex. Readers get deep copies, so a route
 * handler never holds the lock while it builds an answer.
 *
 * A person record:
 *   {"cio_id": "03000001", "id": "42" (absent if none), "email": "a@b.c" (absent if none),
 *    "attributes": {...}, "timestamps": {"<attribute>": <unix seconds>}, "created_at": <unix>}
 */
#include "mock_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct mock_state {
    pthread_mutex_t lock;
    json_t *people;     /* array of person records, in creation order */
    json_t *deliveries; /* array of {"delivery_id", "type", "transactional_message_id", ...} */
    json_t *segments;   /* array of segment objects (fixtures first, then created ones) */
    json_int_t next_cio_id;
    json_int_t next_delivery;
    json_int_t next_trigger;
    json_int_t next_segment;
};

/* The fixed segments every emulator starts with (see mock_state_in_segment). */
static const char *const fixture_segments =
    "["
    "{\"id\":1,\"deduplicate_id\":\"1:1700000000\",\"name\":\"All people\","
    "\"description\":\"Everyone identified in this workspace\",\"state\":\"finished\","
    "\"progress\":null,\"type\":\"dynamic\",\"tags\":null},"
    "{\"id\":2,\"deduplicate_id\":\"2:1700000000\",\"name\":\"VIP\","
    "\"description\":\"People whose attribute vip is true\",\"state\":\"finished\","
    "\"progress\":null,\"type\":\"dynamic\",\"tags\":[\"vip\"]}"
    "]";

mock_state_t *mock_state_new(void) {
    mock_state_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->people = json_array();
    s->deliveries = json_array();
    s->segments = json_loads(fixture_segments, 0, NULL);
    s->next_cio_id = 0x03000001;
    s->next_delivery = 1;
    s->next_trigger = 1;
    s->next_segment = 100;
    if (s->people == NULL || s->deliveries == NULL || s->segments == NULL) {
        mock_state_free(s);
        return NULL;
    }
    return s;
}

void mock_state_free(mock_state_t *s) {
    if (s == NULL) {
        return;
    }
    json_decref(s->people);
    json_decref(s->deliveries);
    json_decref(s->segments);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static json_int_t now_seconds(void) {
    return (json_int_t)time(NULL);
}

/* The identifier of a person record as text ("" when absent). */
static const char *record_str(const json_t *person, const char *key) {
    const char *s = json_string_value(json_object_get(person, key));
    return s != NULL ? s : "";
}

static bool identifier_matches(const json_t *person, const char *id_type, const char *value) {
    const char *have = record_str(person, id_type);
    if (strcmp(id_type, "email") == 0) {
        return have[0] != '\0' && strcasecmp(have, value) == 0;
    }
    return have[0] != '\0' && strcmp(have, value) == 0;
}

/* Index of the person, or -1. Called with the lock held. */
static long find_locked(mock_state_t *s, const char *id_type, const char *value) {
    size_t i;
    json_t *person;
    json_array_foreach(s->people, i, person) {
        if (identifier_matches(person, id_type, value)) {
            return (long)i;
        }
    }
    return -1;
}

static bool valid_id_type(const char *id_type) {
    return id_type != NULL && (strcmp(id_type, "id") == 0 || strcmp(id_type, "email") == 0 ||
                               strcmp(id_type, "cio_id") == 0);
}

/* A new person with one identifier; a cio_id is made up unless that is the identifier. */
static json_t *new_person_locked(mock_state_t *s, const char *id_type, const char *value) {
    json_t *person = json_object();
    char cio_id[32];
    if (strcmp(id_type, "cio_id") == 0) {
        snprintf(cio_id, sizeof(cio_id), "%s", value);
    } else {
        snprintf(cio_id, sizeof(cio_id), "%08llx", (unsigned long long)s->next_cio_id++);
        json_object_set_new(person, id_type, json_string(value));
    }
    json_object_set_new(person, "cio_id", json_string(cio_id));
    json_object_set_new(person, "attributes", json_object());
    json_object_set_new(person, "timestamps", json_object());
    json_object_set_new(person, "created_at", json_integer(now_seconds()));
    if (json_array_append_new(s->people, person) != 0) {
        return NULL;
    }
    return person;
}

void mock_state_identify(cio_mock_t *m, const char *id_type, const char *id_value,
                         json_t *attributes) {
    mock_state_t *s = m != NULL ? m->state : NULL;
    if (s == NULL || !valid_id_type(id_type) || id_value == NULL || id_value[0] == '\0') {
        return;
    }
    bool update_only = json_is_true(json_object_get(attributes, "_update"));
    pthread_mutex_lock(&s->lock);
    long at = find_locked(s, id_type, id_value);
    json_t *person = at >= 0 ? json_array_get(s->people, (size_t)at) : NULL;
    if (person == NULL && !update_only) {
        person = new_person_locked(s, id_type, id_value);
    }
    if (person != NULL && json_is_object(attributes)) {
        json_t *attrs = json_object_get(person, "attributes");
        json_t *stamps = json_object_get(person, "timestamps");
        json_int_t now = now_seconds();
        const char *key;
        json_t *value;
        json_object_foreach(attributes, key, value) {
            if (strcmp(key, "_update") == 0 || strcmp(key, "cio_id") == 0) {
                continue;
            }
            json_object_set(attrs, key, value);
            json_object_set_new(stamps, key, json_integer(now));
        }
        /* An email attribute is the person's email identifier; an id attribute sets a missing
         * id (identifying by email first, then giving the id). */
        json_t *email = json_object_get(attributes, "email");
        if (json_is_string(email) && json_string_length(email) > 0) {
            json_object_set(person, "email", email);
        }
        json_t *id = json_object_get(attributes, "id");
        if (json_is_string(id) && json_string_length(id) > 0 &&
            json_object_get(person, "id") == NULL) {
            json_object_set(person, "id", id);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

void mock_state_delete(cio_mock_t *m, const char *id_type, const char *id_value) {
    mock_state_t *s = m != NULL ? m->state : NULL;
    if (s == NULL || !valid_id_type(id_type) || id_value == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    long at = find_locked(s, id_type, id_value);
    if (at >= 0) {
        json_array_remove(s->people, (size_t)at);
    }
    pthread_mutex_unlock(&s->lock);
}

json_t *mock_state_person(cio_mock_t *m, const char *id_type, const char *id_value) {
    mock_state_t *s = m->state;
    if (s == NULL || !valid_id_type(id_type) || id_value == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    long at = find_locked(s, id_type, id_value);
    json_t *copy = at >= 0 ? json_deep_copy(json_array_get(s->people, (size_t)at)) : NULL;
    pthread_mutex_unlock(&s->lock);
    return copy;
}

static json_t *copy_locked(mock_state_t *s, json_t *value) {
    pthread_mutex_lock(&s->lock);
    json_t *copy = json_deep_copy(value);
    pthread_mutex_unlock(&s->lock);
    return copy;
}

json_t *mock_state_people(cio_mock_t *m) {
    return m->state != NULL ? copy_locked(m->state, m->state->people) : json_array();
}

json_t *mock_state_deliveries(cio_mock_t *m) {
    return m->state != NULL ? copy_locked(m->state, m->state->deliveries) : json_array();
}

json_t *mock_state_segments(cio_mock_t *m) {
    return m->state != NULL ? copy_locked(m->state, m->state->segments) : json_array();
}

bool mock_person_matches(const json_t *person, const json_t *identifiers) {
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)identifiers, key, value) {
        char number[32];
        const char *text = json_string_value(value);
        if (json_is_integer(value)) {
            snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            text = number;
        }
        if (text != NULL && valid_id_type(key) && identifier_matches(person, key, text)) {
            return true;
        }
    }
    return false;
}

json_t *mock_state_add_delivery(cio_mock_t *m, const char *type, const json_t *request) {
    mock_state_t *s = m->state;
    if (s == NULL) {
        return NULL;
    }
    json_int_t now = now_seconds();
    pthread_mutex_lock(&s->lock);
    /* Shaped like Customer.io's base64-looking delivery ids, unique per emulator. */
    char id[40];
    snprintf(id, sizeof(id), "RAECAAFwnUSneIa0ZXkmb%06llX", (unsigned long long)s->next_delivery++);
    json_t *record =
        json_pack("{s:s, s:s, s:O?, s:O?, s:I, s:b}", "delivery_id", id, "type", type,
                  "transactional_message_id", json_object_get(request, "transactional_message_id"),
                  "identifiers", json_object_get(request, "identifiers"), "queued_at", now,
                  "queue_draft", json_is_true(json_object_get(request, "queue_draft")));
    json_t *answer = NULL;
    if (record != NULL) {
        json_t *to = json_object_get(request, "to");
        if (json_is_string(to)) {
            json_object_set(record, "recipient", to);
        }
        json_t *subject = json_object_get(request, "subject");
        if (json_is_string(subject)) {
            json_object_set(record, "subject", subject);
        }
        answer = json_pack("{s:s, s:I}", "delivery_id", id, "queued_at", now);
        json_array_append_new(s->deliveries, record);
    }
    pthread_mutex_unlock(&s->lock);
    return answer;
}

json_int_t mock_state_add_trigger(cio_mock_t *m) {
    mock_state_t *s = m->state;
    if (s == NULL) {
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    json_int_t id = s->next_trigger++;
    pthread_mutex_unlock(&s->lock);
    return id;
}

json_t *mock_state_add_segment(cio_mock_t *m, const char *name, const char *description) {
    mock_state_t *s = m->state;
    if (s == NULL) {
        return NULL;
    }
    json_int_t now = now_seconds();
    pthread_mutex_lock(&s->lock);
    json_int_t id = s->next_segment++;
    char dedup[64];
    snprintf(dedup, sizeof(dedup), "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT, id, now);
    json_t *segment =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:n, s:s, s:n}", "id", id, "deduplicate_id", dedup,
                  "name", name, "description", description != NULL ? description : "", "state",
                  "finished", "progress", "type", "manual", "tags");
    json_t *copy = NULL;
    if (segment != NULL) {
        copy = json_deep_copy(segment);
        json_array_append_new(s->segments, segment);
    }
    pthread_mutex_unlock(&s->lock);
    return copy;
}

bool mock_state_delete_segment(cio_mock_t *m, json_int_t id) {
    mock_state_t *s = m->state;
    if (s == NULL) {
        return false;
    }
    bool found = false;
    pthread_mutex_lock(&s->lock);
    size_t i;
    json_t *segment;
    json_array_foreach(s->segments, i, segment) {
        if (json_integer_value(json_object_get(segment, "id")) == id) {
            json_array_remove(s->segments, i);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

bool mock_state_in_segment(const json_t *segment, const json_t *person) {
    json_int_t id = json_integer_value(json_object_get(segment, "id"));
    if (id == 1) {
        return true;
    }
    if (id == 2) {
        return json_is_true(json_object_get(json_object_get(person, "attributes"), "vip"));
    }
    return false; /* manual segments created through the App API start empty */
}
