/*
 * customerio/customerio.h - the whole public API of libcustomerio.
 *
 *   common.h  status codes, version, export macro
 *   errors.h  cio_last_error(): what went wrong, per thread
 *   client.h  the client handle and its options
 *   track.h   Track API v1
 *   track_v2.h Track API v2 (entity and batch)
 *   cdp.h     the Pipelines API (Data Pipelines, Segment-shaped)
 *   app.h     App API: transactional messages, broadcasts, customers, segments, templates
 *   async.h   completion queues: any call made asynchronous, for event loops
 *   pipeline.h the delivery pipeline: batched, paced, retried, spooled
 *   webhook.h reporting webhooks: verify signatures, parse events, drop redeliveries
 *   json.h    reading JSON in place: the scanner the library checks its input with
 *   request.h requests built without a client, and the executors that send them
 */
#ifndef CUSTOMERIO_CUSTOMERIO_H
#define CUSTOMERIO_CUSTOMERIO_H

#include "common.h"
#include "types.h"
#include "errors.h"
#include "client.h"
#include "track.h"
#include "track_v2.h"
#include "cdp.h"
#include "app.h"
#include "async.h"
#include "pipeline.h"
#include "webhook.h"
#include "json.h"
#include "request.h"
#include "options.h"
#include "redis.h"

#endif
