/*
 * The fleet-wide rate limit (issue 18): a GCRA kept in Redis per workspace ({cio:W}:rate), on
 * Redis's clock (TIME), taken before every request by every sender configured with the same
 * Redis (workers, and pipelines with ratelimit_url); a pause key ({cio:W}:pause) set from a
 * 429's Retry-After makes every sender wait it out together. When Redis cannot be reached, a
 * sender paces itself alone at rate / senders until Redis answers again.
 *
 * Customer.io's published limits are the one table in ratelimit.c (cio__ratelimit_default).
 *
 * Threading: take() and publish_pause() are called by one thread (the pipeline thread); pause()
 * by another (the engine thread, when a 429 arrives): it only notes the pause (an atomic), so the
 * engine thread never waits on Redis.
 */
#ifndef CIO_RATELIMIT_H
#define CIO_RATELIMIT_H

#include "customerio/request.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cio_ratelimit cio_ratelimit_t;

/* Customer.io's limit for api: *limit requests per *period_ms. */
void cio__ratelimit_default(cio_api_t api, double *limit, long *period_ms);

/* A limiter of limit requests per period_ms on url for the keys of prefix ("{cio:W}"), shared
 * by senders senders (the fallback's divisor; < 1 = 1). CIO_E_CONFIG for a bad URL. */
cio_status_t cio__ratelimit_new(const char *url, const char *prefix, double limit, long period_ms,
                                int senders, cio_ratelimit_t **out);
void cio__ratelimit_free(cio_ratelimit_t *rl);
/* Waits until one request may go; false when *stop became true first (nothing taken). */
bool cio__ratelimit_take(cio_ratelimit_t *rl, const bool *stop);
/* A 429 said to wait ms: every sender of the workspace waits. Noted here (any thread, no I/O);
 * set in Redis by publish_pause() or the next take(); when Redis is unreachable, this sender
 * waits it out alone and sets it at a later take(). */
void cio__ratelimit_pause(cio_ratelimit_t *rl, long ms);
/* Whether a noted pause waits to be set in Redis (any thread). */
bool cio__ratelimit_pause_pending(cio_ratelimit_t *rl);
/* Sets a noted pause in Redis now (the pipeline thread; waits on Redis, so no lock held). */
void cio__ratelimit_publish_pause(cio_ratelimit_t *rl);
/* Times take() had to wait (this limiter). */
uint64_t cio__ratelimit_waits(const cio_ratelimit_t *rl);

#endif
