/* Private side of queue.c: completion queues fed by the executors, and a batch's outcome. */
#ifndef CIO_QUEUE_H
#define CIO_QUEUE_H

#include "customerio/async.h"
#include "customerio/track_v2.h"

/* A batch's outcome (track_v2.h): filled by batch.c, read and freed here. */
struct cio_batch_result {
    size_t requests;
    cio_batch_item_error_t *errors;
    size_t count, cap;
};

void cio__queue_retain(cio_queue_t *q);
/* Delivers c (NULL = nothing) and drops one reference. */
void cio__queue_push(cio_queue_t *q, cio_completion_t *c);
/* Delivers n completions at once (a poller sees all or none of them; NULL entries are skipped)
 * and drops one reference. */
void cio__queue_push_all(cio_queue_t *q, cio_completion_t **cs, size_t n);

#endif
