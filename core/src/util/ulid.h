/* ULIDs (ulid.c; the public cio_ulid is in customerio/track.h). Private: not installed.
 * Includes nothing above util/. Thread-safe. */
#ifndef CIO_UTIL_ULID_H
#define CIO_UTIL_ULID_H

#include "customerio/track.h" /* cio_ulid, exported from ulid.c */

#include <stdint.h>

/* (public: cio_ulid) cio_ulid for a wall-clock time the caller already read (ms since 1970). */
cio_status_t cio__ulid_at(uint64_t wall_ms, char out[CIO_ULID_BUFSIZE]);

/* Draws the random bytes of the next ids ahead of them: OpenSSL sets its generator up on its
 * first use in a process (millions of instructions), which a pipeline's first enqueue would
 * otherwise pay. Best effort: a failure is met again, and reported, by the id that needs it. */
void cio__ulid_warm_up(void);

#endif
