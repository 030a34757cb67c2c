/* Private side of track_v2.c: one operation validated and prepared, batch answers read, the
 * requests of the Track v2 builders. */
#ifndef CIO_TRACK_V2_INTERNAL_H
#define CIO_TRACK_V2_INTERNAL_H

#include "customerio/track_v2.h"
#include "util/buf.h"
#include "util/error.h"

/*
 * Validates one v2 operation (text) and appends what goes on the wire to out: the caller's bytes,
 * with an "id" (ULID) prepended to events that have none. label names it in errors.
 */
cio_status_t cio__v2_prepare_operation(const char *call, const char *label, const char *text,
                                       cio_buf_t *out);
/* One rejected item of a batch request: its index within that request. */
typedef void (*cio_item_error_fn)(void *user, size_t index, const char *reason, const char *field,
                                  const char *message);
/* Reads a batch answer's {"errors":[{"batch_index",...}]}, calling fn per rejected item. */
void cio__v2_item_errors(const char *response, size_t len, size_t n_items, cio_item_error_fn fn,
                         void *user);
/* Validates one v2 operation (text), adds an event id if needed, and makes the request that
 * POSTs it to /entity in *out (cio_v2_*_request; call names it in errors and in the request). */
cio_status_t cio__v2_operation_request(const char *call, const char *text, cio_request_t **out);
/* The request POSTing a prepared operation (body, taken over) to /entity. */
cio_status_t cio__v2_entity_make(const char *call, cio_buf_t *body, cio_request_t **out);
/* CIO_E_PAYLOAD_TOO_LARGE naming label when an operation of len bytes is over 32 KB. */
cio_status_t cio__v2_check_size(const char *call, const char *label, size_t len);

#endif
