/*
 * cli/schema.h - the import schema (a JSON or YAML file): which record types are allowed, the
 * CSV column mapping, and per section (people = identify records; each event name) the
 * attribute renames, the typed, required and normalised attributes, and whether others may
 * appear. The format is described in cli/README.md and in "cio-native import --help".
 */
#ifndef CIO_CLI_SCHEMA_H
#define CIO_CLI_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

typedef struct schema schema_t;

/* Why a record does not fit. reason is a stable code; field names the attribute. */
typedef struct schema_error {
    const char *reason; /* missing_attribute, wrong_type, bad_value, unknown_attribute,
                           unknown_event, type_not_allowed */
    char field[160];
    char message[300];
} schema_error_t;

/* Loads a schema file (.json, .yaml/.yml, or by content). NULL with a message naming the file
 * and the place ("events.purchased.attributes.price: unknown type 'money'") in err. */
schema_t *schema_load(const char *path, char *err, size_t errlen);
void schema_free(schema_t *s);

/* The CSV column mapping of the schema ("columns"), or NULL. */
const json_t *schema_columns(const schema_t *s);

/* 0 when records of this type may be imported (always, without a schema or "types"). */
int schema_check_type(const schema_t *s, const char *type, schema_error_t *err);

/*
 * Applies the section for kind ("identify" -> people, "event" -> the event name's section, else
 * none) to attributes (an object, changed in place): renames, defaults, required attributes,
 * types (text from CSV is converted; JSON values must already have the type, except that ISO
 * dates become unix seconds for timestamps), normalisation (trim, lowercase), value checks
 * (enum, pattern, format, min, max, max_length) and unknown attributes. Untyped CSV text that
 * no schema entry types gets the auto rule (JSON numbers, true, false, null; else text).
 * s may be NULL. typed: the attributes whose type the column mapping fixed (may be NULL).
 * 0, or -1 with err filled.
 */
int schema_apply(const schema_t *s, const char *kind, const char *event_name, json_t *attributes,
                 bool from_csv, const json_t *typed, schema_error_t *err);

/* Normalises a person's email identifier like the people section's "email" attribute (trim,
 * lowercase, format). value is replaced in place in ids. 0, or -1 with err filled. */
int schema_apply_email_identifier(const schema_t *s, json_t *ids, schema_error_t *err);

#endif
