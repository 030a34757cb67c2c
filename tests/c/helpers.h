/*
 * tests/c/helpers.h - fixtures and assertions shared by the C test suite.
 *
 * Every test runs in its own process (Criterion forks one per test), so the fixture lives in
 * process-wide globals: `fx.mock` is an emulator on a free port, `fx.client` a client pointed at
 * it with the emulator's credentials and a short backoff. The emulator's request log is read over
 * its HTTP control endpoints with libcurl and parsed with jansson.
 */
#ifndef CIO_TEST_HELPERS_H
#define CIO_TEST_HELPERS_H

#include <customerio/customerio.h>

#include <cio_mock.h>
#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The emulator's default credentials, and their HTTP Basic form. */
#define TEST_SITE_ID "test-site"
#define TEST_API_KEY "test-key"
#define TEST_BASIC_AUTH "Basic dGVzdC1zaXRlOnRlc3Qta2V5" /* base64("test-site:test-key") */
#define TEST_CDP_KEY "test-cdp-key"
#define TEST_CDP_AUTH "Basic dGVzdC1jZHAta2V5Og==" /* base64("test-cdp-key:") */

typedef struct test_fixture {
    cio_mock_t *mock;
    cio_client_t *client; /* NULL when the suite builds its own clients */
    char base_url[256];   /* the emulator's base URL, e.g. "http://127.0.0.1:40123" */
} test_fixture_t;

extern test_fixture_t fx;

/* Criterion .init/.fini: emulator + default client (fx_setup) or emulator only. */
void fx_setup(void);
void fx_setup_mock_only(void);
void fx_teardown(void);

/* A second emulator serving HTTPS with the test certificate (CIO_TEST_TLS_CERT, self-signed for
 * 127.0.0.1); the caller stops it with cio_mock_stop. */
cio_mock_t *mock_start_tls(void);

/* Options pointing at fx.mock: credentials, both base URLs, ignore_env = 1, backoff 10..50 ms. */
cio_client_options_t fx_options(void);
/* cio_client_new that must succeed; the client is freed by fx_teardown (up to 8 per test). */
cio_client_t *fx_client(const cio_client_options_t *opts);

/* ---- the emulator's control endpoints ---- */

/*
 * GET /_mock/requests: a new reference to the array of logged (non-control) requests.
 * Values returned by these helpers (and by req_body_json) are also held by the fixture until
 * fx_teardown, so a test that fails an assertion before its json_decref leaks nothing.
 */
json_t *mock_requests(void);
/* Same, first waiting (up to ~3 s) until at least `n` requests are logged. */
json_t *mock_requests_wait(size_t n);
/* DELETE /_mock/requests. */
void mock_clear(void);
/* POST /_mock/faults. body/retry_after/action may be NULL (not sent). */
void mock_fault(int count, int status, const char *body, long delay_ms, const char *retry_after,
                const char *action);
/* Any control request (path under /_mock); returns the HTTP status and, when out is non-NULL,
 * the body (malloc'd; free it). */
long mock_control(const char *method, const char *path, const char *body, char **out);
/* The same for any path, with HTTP Basic userpwd ("user:password") when non-NULL: a raw request
 * the client would never send (it validates first). */
long mock_request(const char *method, const char *path, const char *userpwd, const char *body,
                  char **out);
/* The same with one more header line ("X-Strict-Mode: 1"), when non-NULL. */
long mock_request_with(const char *method, const char *path, const char *userpwd,
                       const char *header, const char *body, char **out);
/* DELETE /_mock/faults. */
void mock_clear_faults(void);
/* A URL on which nothing listens (an emulator was started there and stopped). */
void closed_port_url(char *out, size_t outlen);

/* ---- request accessors (req is one element of the log array) ---- */

const char *req_str(const json_t *req, const char *field);   /* "" when absent */
const char *req_header(const json_t *req, const char *name); /* NULL when absent */
int req_status(const json_t *req);
/* The body parsed as JSON (new reference); fails the test when it does not parse. */
json_t *req_body_json(const json_t *req);
/* Calls fn(n, user) with attributes.n of every operation in the answered (2xx) /api/v2/batch
 * requests of reqs (a request log array), in the order sent; how many operations that was. */
size_t each_batch_op_n(json_t *reqs, void (*fn)(long long n, void *user), void *user);
/* Adds to counts[n] for each of those operations (every n must be in [0, max)); how many. */
size_t count_batch_op_ns(json_t *reqs, unsigned *counts, size_t max);

/* ---- assertions ---- */

/* 26 Crockford base-32 characters (0-9 A-Z without I L O U), first one 0-7. */
bool is_ulid(const char *s);

/*
 * Exactly one request was logged, with this method and raw path (and an empty query), the Track
 * headers (expect_track_headers) and, when body_json is non-NULL, a body equal to it as JSON;
 * NULL = no body at all. Returns the request (a new reference; json_decref it).
 */
json_t *expect_one_request(const char *method, const char *path, const char *body_json);
/* Same, with a raw query string ("id_type=email"; "" = none). */
json_t *expect_one_request_q(const char *method, const char *path, const char *query,
                             const char *body_json);
/*
 * For events: the body's "id" must be a ULID (returned in id_out when non-NULL, 27 bytes), and
 * the rest of the body must equal body_without_id.
 */
json_t *expect_one_event(const char *method, const char *path, const char *body_without_id,
                         char *id_out);
/* authorization (Basic test-site:test-key), user-agent present, content-type application/json
 * when a body was sent (and never form-urlencoded). */
void expect_track_headers(const json_t *req);
/* The emulator received no request at all. */
void expect_nothing_sent(void);
/* `got` is `want`, cio_last_error() agrees, and its message contains each non-NULL needle. */
void expect_error(cio_status_t got, cio_status_t want, const char *needle1, const char *needle2);
/* `got` is CIO_OK and cio_last_error() is NULL. */
void expect_ok(cio_status_t got);

/* A monotonic clock in milliseconds. */
int64_t now_ms(void);
/* A NUL-terminated string of n copies of c (malloc'd). */
char *repeat_char(char c, size_t n);

/* Whether fd becomes readable within timeout_ms. */
bool fd_readable(int fd, int timeout_ms);
/* The next completion on q, waiting up to 5 s (fails the test after that). */
cio_completion_t *next_completion(cio_queue_t *q);

#endif
