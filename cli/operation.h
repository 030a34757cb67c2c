/*
 * cli/operation.h - turning one import record into one Track v2 request.
 *
 * A record is an object with a "type" (identify, event, page, screen, delete, device,
 * delete_device, suppress, unsuppress, relationships, delete_relationships, merge, object,
 * object_delete, object_event, object_relationships, object_delete_relationships,
 * delivery_event: record_types.h), the person's identifier ("id", else "cio_id", else "email"; or
 * an "identifiers" object), the type's own fields ("name", "timestamp", "event_id", "device",
 * "relationships", "primary"/"secondary", "object_type_id"/"object_id", "delivery_id"), and
 * attributes: an "attributes" object and/or any other top-level field. The full description is
 * in cli/README.md. The schema is applied to the attributes; the core's builder for the type
 * (customerio/track_v2.h) writes, validates and prepares the operation.
 */
#ifndef CIO_CLI_OPERATION_H
#define CIO_CLI_OPERATION_H

#include "record_types.h"
#include "records.h"
#include "schema.h"

#include <customerio/customerio.h>

#include <stdbool.h>

typedef struct op_error {
    const char *reason;  /* missing_type, unknown_type, missing_identifier, missing_field,
                            bad_field, unexpected_field, or a schema_error_t reason; when the
                            core refused the operation, cio_status_str(status) */
    cio_status_t status; /* CIO_OK, or the core builder's refusal (message: its words) */
    char field[160];
    char message[300];
} op_error_t;

/*
 * The request for rec (one Track v2 operation, prepared: queue it with
 * cio_pipeline_enqueue_request(), free it with cio_request_free()), or NULL with err filled.
 * default_type is used for records without a "type" (may be NULL). rec->value is consumed
 * (changed in place). Uses the thread's cio_last_error() (thread-safe otherwise).
 */
cio_request_t *op_from_record(record_t *rec, const char *default_type, const schema_t *schema,
                              op_error_t *err);

#endif
