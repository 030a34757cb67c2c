/* tests/c/helpers.c - see helpers.h. */
#include "helpers.h"

#include "curl_body.h"

#include <criterion/criterion.h>
#include <curl/curl.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

test_fixture_t fx;

#define MAX_EXTRA_CLIENTS 8
static cio_client_t *extra_clients[MAX_EXTRA_CLIENTS];
static size_t n_extra_clients;

/*
 * JSON values a helper holds while it may still fail an assertion: a failed cr_assert leaves the
 * test at once, so these extra references are only dropped by fx_teardown. This keeps failing
 * tests free of leak reports that would hide the real failure.
 */
#define MAX_HELD 1024
static json_t *held[MAX_HELD];
static size_t n_held;

static json_t *hold(json_t *v) {
    if (v && n_held < MAX_HELD)
        held[n_held++] = json_incref(v);
    return v;
}

static void release_held(void) {
    for (size_t i = 0; i < n_held; i++)
        json_decref(held[i]);
    n_held = 0;
}

/* ---- plumbing ---- */

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *repeat_char(char c, size_t n) {
    char *s = malloc(n + 1);
    cr_assert_not_null(s, "out of memory");
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

long mock_control(const char *method, const char *path, const char *body, char **out) {
    return mock_request(method, path, NULL, body, out);
}

long mock_request(const char *method, const char *path, const char *userpwd, const char *body,
                  char **out) {
    return mock_request_with(method, path, userpwd, NULL, body, out);
}

long mock_request_with(const char *method, const char *path, const char *userpwd,
                       const char *header, const char *body, char **out) {
    cr_assert_not_null(fx.mock, "request %s %s without an emulator", method, path);
    char url[512];
    snprintf(url, sizeof url, "%s%s", fx.base_url, path);

    CURL *h = curl_easy_init();
    cr_assert_not_null(h, "curl_easy_init failed");
    curl_body_t buf = {NULL, 0};
    struct curl_slist *headers = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_body_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L); /* a big request log under ASan or valgrind */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (userpwd)
        curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
    if (header)
        headers = curl_slist_append(headers, header);
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        free(buf.data);
        cr_assert_fail("request %s %s failed: %s", method, path, curl_easy_strerror(rc));
    }
    if (out)
        *out = buf.data ? buf.data : calloc(1, 1);
    else
        free(buf.data);
    return status;
}

/* ---- fixtures ---- */

static void start_mock(void) {
    memset(&fx, 0, sizeof fx);
    n_extra_clients = 0;
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK, "curl_global_init failed");

    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    char err[256] = "";
    int rc = cio_mock_start(&mo, &fx.mock, err, sizeof err);
    cr_assert_eq(rc, 0, "cio_mock_start failed: %s", err);
    cr_assert_not_null(fx.mock, "cio_mock_start gave no handle");
    const char *url = cio_mock_base_url(fx.mock);
    cr_assert_not_null(url, "cio_mock_base_url gave NULL");
    cr_assert_lt(strlen(url), sizeof fx.base_url, "base URL too long: %s", url);
    strcpy(fx.base_url, url);
}

void fx_setup_mock_only(void) {
    start_mock();
}

void fx_setup(void) {
    start_mock();
    cio_client_options_t opts = fx_options();
    cio_status_t st = cio_client_new(&opts, &fx.client);
    cr_assert_eq(st, CIO_OK, "cio_client_new failed: %s",
                 cio_last_error() ? cio_last_error()->message : "(no error recorded)");
    cr_assert_not_null(fx.client);
}

cio_mock_t *mock_start_tls(void) {
    cio_mock_options_t o = CIO_MOCK_OPTIONS_INIT;
    o.tls_cert_file = CIO_TEST_TLS_CERT;
    o.tls_key_file = CIO_TEST_TLS_KEY;
    cio_mock_t *mock = NULL;
    char err[256];
    cr_assert_eq(cio_mock_start(&o, &mock, err, sizeof(err)), 0, "mock: %s", err);
    return mock;
}

void fx_teardown(void) {
    for (size_t i = 0; i < n_extra_clients; i++)
        cio_client_free(extra_clients[i]);
    n_extra_clients = 0;
    cio_client_free(fx.client);
    fx.client = NULL;
    release_held();
    if (fx.mock)
        cio_mock_stop(fx.mock);
    fx.mock = NULL;
    curl_global_cleanup();
}

cio_client_options_t fx_options(void) {
    cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
    opts.site_id = TEST_SITE_ID;
    opts.api_key = TEST_API_KEY;
    opts.track_url = fx.base_url;
    opts.app_url = fx.base_url;
    opts.cdp_url = fx.base_url;
    opts.cdp_api_key = TEST_CDP_KEY;
    opts.ignore_env = 1;
    opts.backoff_base_ms = 10;
    opts.backoff_max_ms = 50;
    return opts;
}

cio_client_t *fx_client(const cio_client_options_t *opts) {
    cr_assert_lt(n_extra_clients, (size_t)MAX_EXTRA_CLIENTS, "too many clients in one test");
    cio_client_t *c = NULL;
    cio_status_t st = cio_client_new(opts, &c);
    cr_assert_eq(st, CIO_OK, "cio_client_new failed (%d): %s", (int)st,
                 cio_last_error() ? cio_last_error()->message : "(no error recorded)");
    cr_assert_not_null(c);
    extra_clients[n_extra_clients++] = c;
    return c;
}

/* ---- control endpoints ---- */

static json_t *fetch_requests(void) {
    char *text = NULL;
    long st = mock_control("GET", "/_mock/requests", NULL, &text);
    if (st != 200) {
        cr_log_error("GET /_mock/requests body: %s", text);
        free(text);
        cr_assert_fail("GET /_mock/requests answered %ld", st);
    }
    json_error_t jerr;
    json_t *all = json_loads(text, 0, &jerr);
    if (!all || !json_is_array(all)) {
        cr_log_error("GET /_mock/requests body: %s", text);
        free(text);
        json_decref(all);
        cr_assert_fail("GET /_mock/requests did not return a JSON array: %s", jerr.text);
    }
    free(text);
    /* Keep only API requests, in case control requests are ever logged. */
    json_t *out = json_array();
    size_t i;
    json_t *req;
    json_array_foreach(all, i, req) {
        if (strncmp(req_str(req, "path"), "/_mock", 6) != 0)
            json_array_append(out, req);
    }
    json_decref(all);
    return out;
}

json_t *mock_requests(void) {
    return hold(fetch_requests());
}

json_t *mock_requests_wait(size_t n) {
    int64_t deadline = now_ms() + 3000;
    for (;;) {
        json_t *reqs = fetch_requests();
        if (json_array_size(reqs) >= n || now_ms() > deadline)
            return hold(reqs);
        json_decref(reqs);
        sleep_ms(10);
    }
}

void mock_clear(void) {
    long st = mock_control("DELETE", "/_mock/requests", NULL, NULL);
    cr_assert(st >= 200 && st < 300, "DELETE /_mock/requests answered %ld", st);
}

void mock_fault(int count, int status, const char *body, long delay_ms, const char *retry_after,
                const char *action) {
    json_t *f = json_object();
    json_object_set_new(f, "count", json_integer(count));
    json_object_set_new(f, "status", json_integer(status));
    json_object_set_new(f, "delay_ms", json_integer(delay_ms));
    if (body)
        json_object_set_new(f, "body", json_string(body));
    if (retry_after)
        json_object_set_new(f, "retry_after", json_string(retry_after));
    if (action)
        json_object_set_new(f, "action", json_string(action));
    char *text = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    char *resp = NULL;
    long st = mock_control("POST", "/_mock/faults", text, &resp);
    free(text);
    if (st < 200 || st >= 300) {
        cr_log_error("POST /_mock/faults: %s", resp);
        free(resp);
        cr_assert_fail("POST /_mock/faults answered %ld", st);
    }
    free(resp);
}

void mock_clear_faults(void) {
    long st = mock_control("DELETE", "/_mock/faults", NULL, NULL);
    cr_assert(st >= 200 && st < 300, "DELETE /_mock/faults answered %ld", st);
}

void closed_port_url(char *out, size_t outlen) {
    cio_mock_options_t mo = CIO_MOCK_OPTIONS_INIT;
    cio_mock_t *m = NULL;
    char err[256] = "";
    cr_assert_eq(cio_mock_start(&mo, &m, err, sizeof err), 0, "cio_mock_start failed: %s", err);
    snprintf(out, outlen, "%s", cio_mock_base_url(m));
    cio_mock_stop(m);
}

/* ---- request accessors ---- */

const char *req_str(const json_t *req, const char *field) {
    const char *s = json_string_value(json_object_get(req, field));
    return s ? s : "";
}

const char *req_header(const json_t *req, const char *name) {
    return json_string_value(json_object_get(json_object_get(req, "headers"), name));
}

int req_status(const json_t *req) {
    return (int)json_integer_value(json_object_get(req, "status"));
}

json_t *req_body_json(const json_t *req) {
    cr_assert_null(json_object_get(req, "body_base64"), "request body is not UTF-8");
    const char *body = req_str(req, "body");
    json_error_t jerr;
    json_t *v = hold(json_loads(body, JSON_DECODE_ANY, &jerr));
    cr_assert_not_null(v, "request body is not JSON (%s): %s", jerr.text, body);
    return v;
}

size_t each_batch_op_n(json_t *reqs, void (*fn)(long long n, void *user), void *user) {
    size_t total = 0, i;
    json_t *req;
    json_array_foreach(reqs, i, req) {
        int status = req_status(req);
        if (status < 200 || status >= 300 || strcmp(req_str(req, "path"), "/api/v2/batch") != 0)
            continue;
        json_t *body = req_body_json(req);
        size_t k;
        json_t *op;
        json_array_foreach(json_object_get(body, "batch"), k, op) {
            fn((long long)json_integer_value(
                   json_object_get(json_object_get(op, "attributes"), "n")),
               user);
            total++;
        }
        json_decref(body);
    }
    return total;
}

typedef struct counted {
    unsigned *counts;
    size_t max;
} counted_t;

static void count_n(long long n, void *user) {
    counted_t *c = user;
    cr_assert(n >= 0 && (size_t)n < c->max, "unexpected operation n=%lld", n);
    c->counts[n]++;
}

size_t count_batch_op_ns(json_t *reqs, unsigned *counts, size_t max) {
    counted_t c = {counts, max};
    return each_batch_op_n(reqs, count_n, &c);
}

/* ---- assertions ---- */

bool is_ulid(const char *s) {
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if (!s || strlen(s) != 26)
        return false;
    if (s[0] < '0' || s[0] > '7')
        return false;
    for (size_t i = 0; i < 26; i++) {
        if (!strchr(alphabet, s[i]) || s[i] == '\0')
            return false;
    }
    return true;
}

void expect_track_headers(const json_t *req) {
    const char *auth = req_header(req, "authorization");
    cr_assert_not_null(auth, "no Authorization header");
    cr_assert_str_eq(auth, TEST_BASIC_AUTH, "Authorization header");
    const char *ua = req_header(req, "user-agent");
    cr_assert(ua && *ua, "no User-Agent header");
    const char *ct = req_header(req, "content-type");
    bool has_body = *req_str(req, "body") != '\0' || json_object_get(req, "body_base64");
    if (has_body) {
        cr_assert_not_null(ct, "a body was sent without Content-Type");
        cr_assert(strncmp(ct, "application/json", 16) == 0, "Content-Type is \"%s\"", ct);
    } else if (ct) {
        cr_assert(strncmp(ct, "application/json", 16) == 0,
                  "a request without a body has Content-Type \"%s\"", ct);
    }
}

static json_t *one_request(const char *method, const char *path, const char *query) {
    json_t *reqs = mock_requests_wait(1);
    if (json_array_size(reqs) != 1) {
        char *dump = json_dumps(reqs, JSON_INDENT(1));
        cr_log_error("requests: %s", dump);
        free(dump);
    }
    cr_assert_eq(json_array_size(reqs), 1, "expected exactly one request, got %zu",
                 json_array_size(reqs));
    json_t *req = hold(json_incref(json_array_get(reqs, 0)));
    json_decref(reqs);
    cr_assert_str_eq(req_str(req, "method"), method, "method");
    cr_assert_str_eq(req_str(req, "path"), path, "raw path");
    cr_assert_str_eq(req_str(req, "query"), query, "raw query");
    cr_assert_eq(req_status(req), 200, "the emulator answered %d", req_status(req));
    expect_track_headers(req);
    return req;
}

static void expect_json_equal(json_t *got, const char *want_text) {
    json_error_t jerr;
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(want, "bad expected JSON in the test (%s): %s", jerr.text, want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        cr_log_error("body was     %s", g);
        cr_log_error("body expected %s", w);
        free(g);
        free(w);
        json_decref(want);
        cr_assert_fail("request body differs from the expected JSON");
    }
    json_decref(want);
}

json_t *expect_one_request_q(const char *method, const char *path, const char *query,
                             const char *body_json) {
    json_t *req = one_request(method, path, query);
    if (body_json) {
        json_t *body = req_body_json(req);
        expect_json_equal(body, body_json);
        json_decref(body);
    } else {
        cr_assert_null(json_object_get(req, "body_base64"), "unexpected body");
        cr_assert_str_eq(req_str(req, "body"), "", "expected no body");
    }
    return req;
}

json_t *expect_one_request(const char *method, const char *path, const char *body_json) {
    return expect_one_request_q(method, path, "", body_json);
}

json_t *expect_one_event(const char *method, const char *path, const char *body_without_id,
                         char *id_out) {
    json_t *req = one_request(method, path, "");
    json_t *body = req_body_json(req);
    cr_assert(json_is_object(body), "event body is not an object");
    const char *id = json_string_value(json_object_get(body, "id"));
    cr_assert_not_null(id, "event body has no string \"id\"");
    cr_assert(is_ulid(id), "event id \"%s\" is not a ULID", id);
    if (id_out)
        memcpy(id_out, id, 27);
    json_object_del(body, "id");
    expect_json_equal(body, body_without_id);
    json_decref(body);
    return req;
}

void expect_nothing_sent(void) {
    json_t *reqs = fetch_requests();
    size_t n = json_array_size(reqs);
    if (n) {
        char *dump = json_dumps(reqs, JSON_INDENT(1));
        cr_log_error("requests: %s", dump);
        free(dump);
    }
    json_decref(reqs);
    cr_assert_eq(n, 0, "expected nothing sent, the emulator got %zu request(s)", n);
}

void expect_error(cio_status_t got, cio_status_t want, const char *needle1, const char *needle2) {
    const cio_error_t *e = cio_last_error();
    const char *msg = e && e->message ? e->message : "(no error recorded)";
    cr_assert_eq(got, want, "status %d (%s), expected %d (%s); message: %s", (int)got,
                 cio_status_str(got), (int)want, cio_status_str(want), msg);
    cr_assert_not_null(e, "cio_last_error() is NULL after a failure");
    cr_assert_eq(e->status, want, "cio_last_error()->status is %d", (int)e->status);
    cr_assert_not_null(e->message, "cio_last_error()->message is NULL");
    cr_assert(*e->message, "cio_last_error()->message is empty");
    if (needle1)
        cr_assert_not_null(strstr(e->message, needle1), "message \"%s\" does not mention \"%s\"",
                           e->message, needle1);
    if (needle2)
        cr_assert_not_null(strstr(e->message, needle2), "message \"%s\" does not mention \"%s\"",
                           e->message, needle2);
}

void expect_ok(cio_status_t got) {
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(got, CIO_OK, "status %d (%s): %s", (int)got, cio_status_str(got),
                 e && e->message ? e->message : "(no error recorded)");
    cr_assert_null(e, "cio_last_error() is not NULL after a successful call");
}

bool fd_readable(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

cio_completion_t *next_completion(cio_queue_t *q) {
    for (int waited = 0; waited < 5000; waited += 10) {
        cio_completion_t *c = NULL;
        cr_assert_eq(cio_queue_poll(q, &c), CIO_OK);
        if (c != NULL)
            return c;
        fd_readable(cio_queue_fd(q), 10);
    }
    cr_assert_fail("no completion within 5 s");
    return NULL;
}
