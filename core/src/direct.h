/* Synchronous transfers on the calling thread (direct.c): each thread that makes a synchronous
 * call on a client gets an easy handle of its own for that client, whose TLS sessions and DNS
 * cache are shared with the client's other threads. Private. */
#ifndef CIO_DIRECT_H
#define CIO_DIRECT_H

#include "engine.h"
#include "client_internal.h"

/*
 * The calling thread's transfer for client, ready for a call: the caller sets t->call, t->url
 * and t->headers, runs cio__direct_perform() and gives it back with cio__direct_end(). NULL when
 * this thread cannot have one now (out of memory, or it is already inside a call on client):
 * the call then goes through the engine. Thread-safe (the transfer is the thread's own).
 */
cio_transfer_t *cio__direct_begin(cio_client_t *client);

/*
 * Runs every attempt of t->call on the calling thread, waiting between them as the engine does
 * (retry.c's table and backoff, Retry-After), then fills t->call with the final outcome
 * (cio__transfer_complete). The answer's headers stay in t->header_block until the next call.
 */
void cio__direct_perform(cio_client_t *client, cio_transfer_t *t);

/* What stays with the thread's transfer from call to call, for http.c: a buffer for the URL, and
 * the header list of each (auth, has a body) pair, built once (they depend on the client's
 * settings only). Freed with the transfer. */
cio_buf_t *cio__direct_url(cio_transfer_t *t);
struct curl_slist **cio__direct_headers(cio_transfer_t *t, int auth, bool has_body);

/* Ends the call begun with cio__direct_begin(). */
void cio__direct_end(cio_transfer_t *t);

/* cio__direct_client_free and cio__direct_after_fork_in_child: client_internal.h. */

#endif
