/*
 * customerio/common.h - export macro, version and the status codes every call returns.
 *
 * Included by every other public header; you normally include <customerio/customerio.h>.
 */
#ifndef CUSTOMERIO_COMMON_H
#define CUSTOMERIO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CIO_STATIC)
#define CIO_EXTERN
#elif defined(__GNUC__)
#define CIO_EXTERN __attribute__((visibility("default")))
#else
#define CIO_EXTERN
#endif

#define CIO_VERSION_MAJOR 0
#define CIO_VERSION_MINOR 1
#define CIO_VERSION_PATCH 0
#define CIO_VERSION_STRING "0.1.0"

/*
 * Every function that can fail returns a cio_status_t. CIO_OK is 0; every error is positive.
 * On error, cio_last_error() (customerio/errors.h) describes what went wrong on this thread.
 * New codes may be added at the end; treat unknown codes as errors.
 */
typedef enum cio_status {
    CIO_OK = 0,
    CIO_E_INVALID_ARGUMENT = 1,  /* bad input, detected before anything was sent */
    CIO_E_CONFIG = 2,            /* missing credentials, unknown region, bad base URL */
    CIO_E_PAYLOAD_TOO_LARGE = 3, /* body over the API's limit (locally, or HTTP 413) */
    CIO_E_AUTH = 4,              /* HTTP 401 or 403: wrong credentials or wrong region */
    CIO_E_BAD_REQUEST = 5,       /* HTTP 400 or 422: the server rejected the payload */
    CIO_E_NOT_FOUND = 6,         /* HTTP 404 */
    CIO_E_RATE_LIMITED = 7,      /* HTTP 429, still after every retry */
    CIO_E_SERVER = 8,            /* HTTP 5xx, still after every retry */
    CIO_E_HTTP = 9,              /* any other unexpected HTTP status */
    CIO_E_NETWORK = 10,          /* connection refused/reset, DNS, TLS ... after every retry */
    CIO_E_TIMEOUT = 11,          /* connect or total timeout, after every retry */
    CIO_E_NOMEM = 12,            /* out of memory */
    CIO_E_INTERNAL = 13,         /* a bug in this library or an unusable libcurl */
    CIO_E_CLOSED = 14,           /* the client is shutting down */
    CIO_E_SIGNATURE = 15,        /* a webhook signature does not match */
    CIO_E_STALE = 16,            /* a webhook timestamp is outside the tolerance window */
    CIO_E_PARTIAL = 17,          /* a batch was delivered but some items were rejected */
    CIO_E_QUEUE_FULL = 18        /* the pipeline's queue is full (memory bound reached) */
} cio_status_t;

/* A static, never-NULL English name for a status ("ok", "invalid argument", ...). Thread-safe. */
CIO_EXTERN const char *cio_status_str(cio_status_t status);

/* The library version as "MAJOR.MINOR.PATCH"; static storage. Thread-safe. */
CIO_EXTERN const char *cio_version(void);

#ifdef __cplusplus
}
#endif

#endif
