/*
 * cli/record_types.h - the import record types (the "type" field of a record, or --type): their
 * names and what each record carries. A table only: cli/operation.c turns a record into a request
 * with the core's builder for its kind, cli/schema.c checks a schema's "types" against the names.
 * Read-only data: thread-safe, except that record_type_list() builds its text on its first call.
 */
#ifndef CIO_CLI_RECORD_TYPES_H
#define CIO_CLI_RECORD_TYPES_H

#include <stdbool.h>

/* One per record type, in the table's order; each is built by one core builder. */
typedef enum record_kind {
    RK_IDENTIFY,
    RK_EVENT,
    RK_PAGE,
    RK_SCREEN,
    RK_DELETE,
    RK_DEVICE,
    RK_DELETE_DEVICE,
    RK_SUPPRESS,
    RK_UNSUPPRESS,
    RK_RELATIONSHIPS,
    RK_DELETE_RELATIONSHIPS,
    RK_MERGE,
    RK_OBJECT,
    RK_OBJECT_DELETE,
    RK_OBJECT_EVENT,
    RK_OBJECT_RELATIONSHIPS,
    RK_OBJECT_DELETE_RELATIONSHIPS,
    RK_DELIVERY_EVENT
} record_kind_t;

/* What a record of the type carries besides its identifiers. */
enum {
    RT_ATTRS = 1 << 0,    /* attributes (every other field becomes one) */
    RT_NAME = 1 << 1,     /* a name (or name_alias) */
    RT_EVENT = 1 << 2,    /* an event: event_id, and timestamp as an event option */
    RT_DEVICE = 1 << 3,   /* a device object */
    RT_RELS = 1 << 4,     /* relationships */
    RT_MERGE = 1 << 5,    /* primary and secondary instead of identifiers */
    RT_OBJECT = 1 << 6,   /* object identifiers */
    RT_DELIVERY = 1 << 7, /* a delivery_id */
};

typedef struct record_type {
    const char *name; /* the record's "type" */
    record_kind_t kind;
    unsigned flags;
    const char *name_alias; /* another field that may carry the name, or NULL */
} record_type_t;

/* The type called name, or NULL. */
const record_type_t *record_type_find(const char *name);
/* Whether name is a record type. */
bool record_type_known(const char *name);
/* "identify, event, ...": every name, for messages (static storage). */
const char *record_type_list(void);

#endif
