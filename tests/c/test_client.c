/*
 * The client handle and the library-wide functions: options and their validation, environment
 * variables, regions, status names, version, last error, ULIDs, thread safety.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(client, .init = fx_setup_mock_only, .fini = fx_teardown);
TestSuite(library);

static void unset_cio_env(void) {
    unsetenv("CUSTOMERIO_SITE_ID");
    unsetenv("CUSTOMERIO_API_KEY");
    unsetenv("CUSTOMERIO_APP_API_KEY");
    unsetenv("CUSTOMERIO_REGION");
}

/* cio_client_new must fail with `want`; the message must contain needle (if non-NULL). */
static void expect_client_new_fails(const cio_client_options_t *opts, cio_status_t want,
                                    const char *needle) {
    cio_client_t *c = NULL;
    cio_status_t st = cio_client_new(opts, &c);
    if (st == CIO_OK)
        cio_client_free(c);
    expect_error(st, want, needle, NULL);
    cr_assert_null(c, "a failed cio_client_new returned a handle");
}

/* ---- options ---- */

Test(client, test_client_new_rejects_null_options) {
    cio_client_t *c = NULL;
    expect_error(cio_client_new(NULL, &c), CIO_E_INVALID_ARGUMENT, NULL, NULL);
    cr_assert_null(c);
}

Test(client, test_client_new_rejects_options_version_0) {
    cio_client_options_t opts = fx_options();
    opts.version = 0;
    expect_client_new_fails(&opts, CIO_E_INVALID_ARGUMENT, "version");
}

Test(client, test_client_new_rejects_options_version_999) {
    cio_client_options_t opts = fx_options();
    opts.version = 999;
    expect_client_new_fails(&opts, CIO_E_INVALID_ARGUMENT, "version");
}

Test(client, test_client_new_rejects_unknown_region_value) {
    cio_client_options_t opts = fx_options();
    opts.region = (cio_region_t)42;
    expect_client_new_fails(&opts, CIO_E_CONFIG, "region");
}

Test(client, test_client_new_rejects_malformed_track_url) {
    cio_client_options_t opts = fx_options();
    opts.track_url = "not a url";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "track_url");
    opts.track_url = "http://";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "track_url");
    opts.track_url = "http://127.0.0.1:1\r\nX-Evil: 1";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "track_url");
}

Test(client, test_client_new_rejects_malformed_app_url) {
    cio_client_options_t opts = fx_options();
    opts.app_url = "::::";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "app_url");
}

Test(client, test_client_new_rejects_crlf_in_credentials_without_echoing_them) {
    cio_client_options_t opts = fx_options();
    opts.api_key = "secret-abc\r\nX-Evil: 1";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "api_key");
    cr_assert_null(strstr(cio_last_error()->message, "secret-abc"), "the key leaked: %s",
                   cio_last_error()->message);

    opts = fx_options();
    opts.site_id = "site:with-colon"; /* would split user:password in HTTP Basic */
    expect_client_new_fails(&opts, CIO_E_CONFIG, "site_id");

    opts = fx_options();
    opts.site_id = "site\n";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "site_id");

    opts = fx_options();
    opts.app_api_key = "app-secret-xyz\n";
    expect_client_new_fails(&opts, CIO_E_CONFIG, "app_api_key");
    cr_assert_null(strstr(cio_last_error()->message, "app-secret-xyz"), "the key leaked: %s",
                   cio_last_error()->message);
}

Test(client, test_client_with_only_defaults_and_credentials_works) {
    /* Every other field zero: documented defaults. */
    cio_client_options_t opts = CIO_CLIENT_OPTIONS_INIT;
    opts.site_id = TEST_SITE_ID;
    opts.api_key = TEST_API_KEY;
    opts.track_url = fx.base_url;
    opts.ignore_env = 1;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_US);
    expect_ok(cio_identify(c, "a", "{}"));
    json_t *req = expect_one_request("PUT", "/api/v1/customers/a", "{}");
    cr_assert_str_eq(req_header(req, "user-agent"), "customerio-native/" CIO_VERSION_STRING " (C)");
    json_decref(req);
}

Test(client, test_client_copies_option_strings) {
    char site[] = TEST_SITE_ID, key[] = TEST_API_KEY, url[256];
    snprintf(url, sizeof url, "%s", fx.base_url);
    cio_client_options_t opts = fx_options();
    opts.site_id = site;
    opts.api_key = key;
    opts.track_url = url;
    cio_client_t *c = fx_client(&opts);
    memset(site, 'X', strlen(site));
    memset(key, 'X', strlen(key));
    memset(url, 'X', strlen(url));
    expect_ok(cio_delete(c, "a"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/a", NULL));
}

Test(client, test_client_free_null_is_a_no_op) {
    cio_client_free(NULL);
}

Test(client, test_client_new_then_free_without_calls) {
    cio_client_options_t opts = fx_options();
    cio_client_t *c = NULL;
    expect_ok(cio_client_new(&opts, &c));
    cr_assert_not_null(c);
    cio_client_free(c);
    expect_nothing_sent();
}

/* ---- regions ---- */

Test(client, test_client_region_defaults_to_us_when_env_is_ignored) {
    setenv("CUSTOMERIO_REGION", "eu", 1);
    cio_client_options_t opts = fx_options();
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_US);
}

Test(client, test_client_region_defaults_to_us_without_env) {
    unset_cio_env();
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_US);
}

Test(client, test_client_region_eu_when_asked) {
    cio_client_options_t opts = fx_options();
    opts.region = CIO_REGION_EU;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_EU);
    opts.region = CIO_REGION_US;
    c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_US);
}

Test(client, test_client_region_from_env) {
    unset_cio_env();
    setenv("CUSTOMERIO_REGION", "EU", 1);
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_EU);
}

Test(client, test_explicit_region_wins_over_env) {
    unset_cio_env();
    setenv("CUSTOMERIO_REGION", "eu", 1);
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    opts.region = CIO_REGION_US;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_US);
}

Test(client, test_client_new_rejects_unknown_region_in_env) {
    unset_cio_env();
    setenv("CUSTOMERIO_REGION", "mars", 1);
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    expect_client_new_fails(&opts, CIO_E_CONFIG, "CUSTOMERIO_REGION");
}

Test(library, test_region_parse_accepts_us_and_eu_in_any_case) {
    static const struct {
        const char *name;
        cio_region_t want;
    } cases[] = {{"us", CIO_REGION_US}, {"US", CIO_REGION_US}, {"Us", CIO_REGION_US},
                 {"eu", CIO_REGION_EU}, {"EU", CIO_REGION_EU}, {"eU", CIO_REGION_EU}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cio_region_t r = CIO_REGION_DEFAULT;
        cr_assert_eq(cio_region_parse(cases[i].name, &r), CIO_OK, "\"%s\"", cases[i].name);
        cr_assert_eq(r, cases[i].want, "\"%s\" parsed as %d", cases[i].name, (int)r);
        cr_assert_null(cio_last_error());
    }
}

Test(library, test_region_parse_rejects_unknown_name_naming_it) {
    cio_region_t r = CIO_REGION_DEFAULT;
    expect_error(cio_region_parse("mars", &r), CIO_E_CONFIG, "mars", NULL);
    expect_error(cio_region_parse("", &r), CIO_E_CONFIG, NULL, NULL);
    expect_error(cio_region_parse("usa", &r), CIO_E_CONFIG, "usa", NULL);
    expect_error(cio_region_parse("e", &r), CIO_E_CONFIG, NULL, NULL);
}

/* ---- environment credentials ---- */

Test(client, test_client_reads_credentials_and_region_from_env) {
    unset_cio_env();
    setenv("CUSTOMERIO_SITE_ID", TEST_SITE_ID, 1);
    setenv("CUSTOMERIO_API_KEY", TEST_API_KEY, 1);
    setenv("CUSTOMERIO_REGION", "eu", 1);
    cio_client_options_t opts = fx_options();
    opts.site_id = NULL;
    opts.api_key = NULL;
    opts.ignore_env = 0;
    cio_client_t *c = fx_client(&opts);
    cr_assert_eq(cio_client_region(c), CIO_REGION_EU);
    expect_ok(cio_identify(c, "a", "{\"k\":1}"));
    json_decref(expect_one_request("PUT", "/api/v1/customers/a", "{\"k\":1}"));
}

Test(client, test_explicit_credentials_win_over_env) {
    unset_cio_env();
    setenv("CUSTOMERIO_SITE_ID", "env-site", 1);
    setenv("CUSTOMERIO_API_KEY", "env-key", 1);
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    cio_client_t *c = fx_client(&opts);
    expect_ok(cio_delete(c, "a"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/a", NULL));
}

Test(client, test_ignore_env_does_not_read_env_credentials) {
    unset_cio_env();
    setenv("CUSTOMERIO_SITE_ID", TEST_SITE_ID, 1);
    setenv("CUSTOMERIO_API_KEY", TEST_API_KEY, 1);
    cio_client_options_t opts = fx_options();
    opts.site_id = NULL;
    opts.api_key = NULL;
    opts.ignore_env = 1;
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_delete(c, "a"), CIO_E_CONFIG, "delete", NULL);
    expect_nothing_sent();
}

Test(client, test_env_credentials_are_read_when_client_is_made) {
    unset_cio_env();
    setenv("CUSTOMERIO_SITE_ID", TEST_SITE_ID, 1);
    setenv("CUSTOMERIO_API_KEY", TEST_API_KEY, 1);
    cio_client_options_t opts = fx_options();
    opts.site_id = NULL;
    opts.api_key = NULL;
    opts.ignore_env = 0;
    cio_client_t *c = fx_client(&opts);
    setenv("CUSTOMERIO_API_KEY", "changed-later", 1);
    expect_ok(cio_delete(c, "a"));
    json_decref(expect_one_request("DELETE", "/api/v1/customers/a", NULL));
}

/* ---- status names, version ---- */

Test(library, test_status_str_names_every_status) {
    const char *names[CIO_E_QUEUE_FULL + 1];
    for (int s = CIO_OK; s <= CIO_E_QUEUE_FULL; s++) {
        names[s] = cio_status_str((cio_status_t)s);
        cr_assert_not_null(names[s], "cio_status_str(%d) is NULL", s);
        cr_assert(*names[s], "cio_status_str(%d) is empty", s);
        for (int t = 0; t < s; t++)
            cr_assert(strcmp(names[s], names[t]) != 0, "statuses %d and %d share the name \"%s\"",
                      t, s, names[s]);
    }
    cr_assert_str_eq(cio_status_str(CIO_OK), "ok");
    cr_assert_str_eq(cio_status_str(CIO_E_INVALID_ARGUMENT), "invalid argument");
}

Test(library, test_status_str_of_unknown_code_is_not_null) {
    cr_assert_not_null(cio_status_str((cio_status_t)999));
    cr_assert_not_null(cio_status_str((cio_status_t)-1));
}

Test(library, test_version_matches_header) {
    cr_assert_not_null(cio_version());
    cr_assert_str_eq(cio_version(), CIO_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CIO_VERSION_MAJOR, CIO_VERSION_MINOR,
             CIO_VERSION_PATCH);
    cr_assert_str_eq(cio_version(), want);
}

/* ---- last error ---- */

Test(library, test_last_error_is_null_before_any_call) {
    cr_assert_null(cio_last_error());
}

Test(client, test_last_error_is_null_after_a_successful_call) {
    cio_client_options_t opts = fx_options();
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_identify(c, "", "{}"), CIO_E_INVALID_ARGUMENT, NULL, NULL);
    cr_assert_not_null(cio_last_error());
    cr_assert_eq(cio_identify(c, "a", "{}"), CIO_OK);
    cr_assert_null(cio_last_error(), "a successful call left an error behind");
}

Test(library, test_error_clear_forgets_the_error) {
    cio_region_t r;
    cr_assert_eq(cio_region_parse("mars", &r), CIO_E_CONFIG);
    cr_assert_not_null(cio_last_error());
    cio_error_clear();
    cr_assert_null(cio_last_error());
}

static void *fail_in_other_thread(void *arg) {
    (void)arg;
    /* A new thread starts with no error, even though the main thread has one. */
    int clean = cio_last_error() == NULL;
    cio_region_t r;
    cio_region_parse("pluto", &r);
    clean = clean && cio_last_error() && strstr(cio_last_error()->message, "pluto");
    return clean ? (void *)1 : NULL;
}

Test(library, test_last_error_is_per_thread) {
    cio_region_t r;
    cr_assert_eq(cio_region_parse("mars", &r), CIO_E_CONFIG);
    pthread_t t;
    void *ok = NULL;
    cr_assert_eq(pthread_create(&t, NULL, fail_in_other_thread, NULL), 0);
    pthread_join(t, &ok);
    cr_assert_not_null(ok, "the other thread saw this thread's error or lost its own");
    cr_assert_not_null(cio_last_error());
    cr_assert_not_null(strstr(cio_last_error()->message, "mars"), "message: %s",
                       cio_last_error()->message);
}

/* ---- ULIDs ---- */

Test(library, test_ulid_is_26_crockford_chars_with_current_time) {
    char u[CIO_ULID_BUFSIZE];
    memset(u, '?', sizeof u);
    int64_t before = (int64_t)time(NULL) * 1000;
    cr_assert_eq(cio_ulid(u), CIO_OK);
    int64_t after = ((int64_t)time(NULL) + 1) * 1000;
    cr_assert_eq(u[26], '\0', "not NUL-terminated");
    cr_assert(is_ulid(u), "\"%s\" is not a ULID", u);
    /* The first 10 characters are the 48-bit millisecond timestamp. */
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    int64_t ms = 0;
    for (int i = 0; i < 10; i++)
        ms = ms * 32 + (int64_t)(strchr(alphabet, u[i]) - alphabet);
    cr_assert(ms >= before && ms <= after, "ULID time %lld is not now (%lld..%lld)", (long long)ms,
              (long long)before, (long long)after);
}

Test(library, test_ulid_is_strictly_monotonic_over_10000_calls) {
    char prev[CIO_ULID_BUFSIZE], cur[CIO_ULID_BUFSIZE];
    cr_assert_eq(cio_ulid(prev), CIO_OK);
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(cio_ulid(cur), CIO_OK);
        cr_assert(is_ulid(cur), "\"%s\" is not a ULID", cur);
        cr_assert(strcmp(prev, cur) < 0, "call %d: %s is not after %s", i, cur, prev);
        memcpy(prev, cur, sizeof cur);
    }
}

#define ULID_THREADS 4
#define ULIDS_PER_THREAD 2000

static char thread_ulids[ULID_THREADS * ULIDS_PER_THREAD][CIO_ULID_BUFSIZE];

static void *make_ulids(void *arg) {
    size_t t = (size_t)arg;
    for (size_t i = 0; i < ULIDS_PER_THREAD; i++) {
        char *out = thread_ulids[t * ULIDS_PER_THREAD + i];
        if (cio_ulid(out) != CIO_OK)
            return NULL;
        if (i > 0 && strcmp(out - CIO_ULID_BUFSIZE, out) >= 0)
            return NULL;
    }
    return (void *)1;
}

static int cmp_ulid(const void *a, const void *b) {
    return strcmp(a, b);
}

Test(library, test_ulid_is_unique_and_monotonic_across_threads) {
    pthread_t th[ULID_THREADS];
    for (size_t t = 0; t < ULID_THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, make_ulids, (void *)t), 0);
    int all_ok = 1;
    for (size_t t = 0; t < ULID_THREADS; t++) {
        void *ok = NULL;
        pthread_join(th[t], &ok);
        all_ok = all_ok && ok;
    }
    cr_assert(all_ok, "a thread got an error or a non-increasing ULID");
    size_t n = ULID_THREADS * ULIDS_PER_THREAD;
    qsort(thread_ulids, n, CIO_ULID_BUFSIZE, cmp_ulid);
    for (size_t i = 1; i < n; i++)
        cr_assert(strcmp(thread_ulids[i - 1], thread_ulids[i]) != 0, "duplicate ULID %s",
                  thread_ulids[i]);
}

/* A parent and its forked child making ids in the same millisecond must not make the same ones:
 * both would otherwise count on from the parent's last id. */
Test(library, test_ulid_parent_and_forked_child_never_make_the_same_id) {
    int same_ms = 0;
    for (int round = 0; round < 200 && same_ms < 20; round++) {
        char before[CIO_ULID_BUFSIZE], parent[CIO_ULID_BUFSIZE], child[CIO_ULID_BUFSIZE] = "";
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        cr_assert_eq(cio_ulid(before), CIO_OK);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            char id[CIO_ULID_BUFSIZE];
            int ok = cio_ulid(id) == CIO_OK && write(fds[1], id, sizeof id) == sizeof id;
            _exit(ok ? 0 : 1);
        }
        cr_assert_eq(cio_ulid(parent), CIO_OK);
        cr_assert_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fds[0]);
        close(fds[1]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        same_ms += memcmp(child, before, 10) == 0 && memcmp(parent, before, 10) == 0;
        cr_assert_str_neq(child, parent, "round %d: the child made the parent's id", round);
    }
}

/* Spins until the wall clock is past the millisecond of ULID u. */
static void wait_past_ms_of(const char *u) {
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    int64_t ms = 0;
    for (int i = 0; i < 10; i++)
        ms = ms * 32 + (int64_t)(strchr(alphabet, u[i]) - alphabet);
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > ms)
            return;
    }
}

/* Random bits are drawn ahead, many ids' worth at a time: a forked child must not draw the ones
 * its parent holds, or both would start their next millisecond from the same bits. */
Test(library, test_ulid_forked_child_draws_random_bits_of_its_own) {
    for (int round = 0; round < 20; round++) {
        char before[CIO_ULID_BUFSIZE], parent[CIO_ULID_BUFSIZE], child[CIO_ULID_BUFSIZE] = "";
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        cr_assert_eq(cio_ulid(before), CIO_OK);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            char id[CIO_ULID_BUFSIZE];
            wait_past_ms_of(before);
            int ok = cio_ulid(id) == CIO_OK && write(fds[1], id, sizeof id) == sizeof id;
            _exit(ok ? 0 : 1);
        }
        wait_past_ms_of(before);
        cr_assert_eq(cio_ulid(parent), CIO_OK);
        cr_assert_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fds[0]);
        close(fds[1]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        cr_assert(memcmp(child + 10, parent + 10, 16) != 0,
                  "round %d: the child (%s) drew the parent's (%s) random bits", round, child,
                  parent);
    }
}

/* The 80-bit random part of a ULID (its last 16 characters) as two 40-bit halves. */
static void ulid_random(const char *u, uint64_t *high, uint64_t *low) {
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    *high = *low = 0;
    for (int i = 10; i < 26; i++) {
        uint64_t *half = i < 18 ? high : low;
        *half = *half * 32 + (uint64_t)(strchr(alphabet, u[i]) - alphabet);
    }
}

/* Whether b's random part is a's plus one (the carry from the low half included). */
static bool ulid_is_next(const char *a, const char *b) {
    uint64_t ah, al, bh, bl;
    ulid_random(a, &ah, &al);
    ulid_random(b, &bh, &bl);
    uint64_t carry = al == 0xFFFFFFFFFFull;
    return bl == ((al + 1) & 0xFFFFFFFFFFull) && bh == ah + carry;
}

/* Within one millisecond an id is the previous one plus one, carries included (the characters
 * that change are rewritten, not the whole id re-encoded). */
Test(library, test_ulid_in_the_same_millisecond_is_the_previous_plus_one) {
    char prev[CIO_ULID_BUFSIZE], cur[CIO_ULID_BUFSIZE];
    size_t same_ms = 0, carries = 0;
    cr_assert_eq(cio_ulid(prev), CIO_OK);
    for (int i = 0; i < 200000; i++) {
        cr_assert_eq(cio_ulid(cur), CIO_OK);
        cr_assert(is_ulid(cur), "\"%s\" is not a ULID", cur);
        if (memcmp(prev, cur, 10) == 0) {
            same_ms++;
            carries += prev[25] == 'Z';
            cr_assert(ulid_is_next(prev, cur), "%s does not follow %s", cur, prev);
        } else {
            cr_assert(strcmp(prev, cur) < 0, "%s is not after %s", cur, prev);
        }
        memcpy(prev, cur, sizeof cur);
    }
    cr_log_info("%zu ids in the same millisecond as the one before, %zu carries", same_ms, carries);
    cr_assert_gt(same_ms, 1000, "too few ids shared a millisecond to check anything");
}

/* Threads share one sequence: the ids all threads made in one millisecond, sorted, are
 * consecutive numbers (a thread of its own would start from random bits of its own). */
Test(library, test_ulid_threads_in_one_millisecond_count_on_one_sequence) {
    pthread_t th[ULID_THREADS];
    for (size_t t = 0; t < ULID_THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, make_ulids, (void *)t), 0);
    for (size_t t = 0; t < ULID_THREADS; t++) {
        void *ok = NULL;
        pthread_join(th[t], &ok);
        cr_assert(ok, "a thread got an error or a non-increasing ULID");
    }
    size_t n = ULID_THREADS * ULIDS_PER_THREAD, checked = 0;
    qsort(thread_ulids, n, CIO_ULID_BUFSIZE, cmp_ulid);
    for (size_t i = 1; i < n; i++) {
        if (memcmp(thread_ulids[i - 1], thread_ulids[i], 10) != 0)
            continue;
        checked++;
        cr_assert(ulid_is_next(thread_ulids[i - 1], thread_ulids[i]), "%s then %s",
                  thread_ulids[i - 1], thread_ulids[i]);
    }
    cr_assert_gt(checked, 0, "no two ids shared a millisecond");
}

/* ---- one client shared by many threads ---- */

#define TRACK_THREADS 8
#define TRACKS_PER_THREAD 50

typedef struct track_worker {
    cio_client_t *client;
    int index;
    int failures;
    int errors_left_behind;
    char first_failure[256];
} track_worker_t;

static void *track_many(void *arg) {
    track_worker_t *w = arg;
    for (int i = 0; i < TRACKS_PER_THREAD; i++) {
        char customer[32], data[64];
        snprintf(customer, sizeof customer, "thread-%d", w->index);
        snprintf(data, sizeof data, "{\"thread\":%d,\"i\":%d}", w->index, i);
        cio_status_t st = cio_track(w->client, customer, "concurrent", data, NULL);
        if (st != CIO_OK) {
            if (!w->failures++)
                snprintf(w->first_failure, sizeof w->first_failure, "%s: %s", cio_status_str(st),
                         cio_last_error() ? cio_last_error()->message : "(no error)");
        } else if (cio_last_error()) {
            w->errors_left_behind++;
        }
    }
    return NULL;
}

Test(client, test_shared_client_is_thread_safe_8_threads_x_50_tracks) {
    cio_client_options_t opts = fx_options();
    cio_client_t *c = fx_client(&opts);
    pthread_t th[TRACK_THREADS];
    track_worker_t w[TRACK_THREADS];
    for (int t = 0; t < TRACK_THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].client = c;
        w[t].index = t;
        cr_assert_eq(pthread_create(&th[t], NULL, track_many, &w[t]), 0);
    }
    for (int t = 0; t < TRACK_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < TRACK_THREADS; t++) {
        cr_assert_eq(w[t].failures, 0, "thread %d: %d failures, first: %s", t, w[t].failures,
                     w[t].first_failure);
        cr_assert_eq(w[t].errors_left_behind, 0, "thread %d: error left after success", t);
    }

    size_t total = TRACK_THREADS * TRACKS_PER_THREAD;
    json_t *reqs = mock_requests_wait(total);
    cr_assert_eq(json_array_size(reqs), total, "%zu requests logged, expected %zu",
                 json_array_size(reqs), total);
    json_t *ids = json_object();      /* used as a set */
    json_t *payloads = json_object(); /* "thread/i" seen */
    size_t i;
    json_t *req;
    json_array_foreach(reqs, i, req) {
        cr_assert_eq(req_status(req), 200);
        cr_assert_str_eq(req_str(req, "method"), "POST");
        expect_track_headers(req);
        json_t *body = req_body_json(req);
        const char *id = json_string_value(json_object_get(body, "id"));
        cr_assert(is_ulid(id), "bad id in request %zu", i);
        cr_assert_null(json_object_get(ids, id), "event id %s sent twice", id);
        json_object_set_new(ids, id, json_true());
        json_t *data = json_object_get(body, "data");
        int th_i = (int)json_integer_value(json_object_get(data, "thread"));
        char path[64], key[32];
        snprintf(path, sizeof path, "/api/v1/customers/thread-%d/events", th_i);
        cr_assert_str_eq(req_str(req, "path"), path, "body and path of one request disagree");
        snprintf(key, sizeof key, "%d/%d", th_i,
                 (int)json_integer_value(json_object_get(data, "i")));
        json_object_set_new(payloads, key, json_true());
        json_decref(body);
    }
    cr_assert_eq(json_object_size(ids), total);
    cr_assert_eq(json_object_size(payloads), total, "some events were sent twice or lost");
    json_decref(payloads);
    json_decref(ids);
    json_decref(reqs);
}

/* ---- keep-alive ----
 * The emulator's log records neither the client's port nor a connection id, so connection reuse
 * cannot be observed from here; 20 sequential calls on one client at least must all succeed. */
Test(client, test_sequential_calls_on_one_client_all_succeed) {
    cio_client_options_t opts = fx_options();
    cio_client_t *c = fx_client(&opts);
    for (int i = 0; i < 20; i++)
        expect_ok(cio_delete(c, "a"));
    json_t *reqs = mock_requests_wait(20);
    cr_assert_eq(json_array_size(reqs), 20);
    json_decref(reqs);
}

/* ---- proxy ---- */

/* The proxy option sends every request to the proxy in absolute form. The emulator stands in
 * for the proxy here: it logs the request target it was sent, which names the origin server
 * (a host that does not resolve: the request can only have gone through the proxy). */
Test(client, test_proxy_option_sends_requests_through_the_proxy) {
    cio_client_options_t o = fx_options();
    o.track_url = "http://customerio.invalid";
    o.proxy = cio_mock_base_url(fx.mock);
    o.max_attempts = 1;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    cio_status_t st = cio_identify(c, "42", "{}");
    cr_assert_neq(st, CIO_OK, "the emulator answers an absolute-form target 404");
    json_t *reqs = mock_requests();
    cr_assert_eq(json_array_size(reqs), 1);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "path"),
                     "http://customerio.invalid/api/v1/customers/42");
    cio_client_free(c);
}

/* "" means no proxy, whatever the environment says; a proxy nobody listens on fails the call
 * (the environment's proxy is used when the option is left NULL). */
Test(client, test_empty_proxy_ignores_the_environments_proxy) {
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    cr_assert_eq(cio_identify(c, "42", "{}"), CIO_E_NETWORK,
                 "the environment's proxy was not used");
    cio_client_free(c);
    o.proxy = "";
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    expect_ok(cio_identify(c, "42", "{}"));
    cio_client_free(c);
    unsetenv("http_proxy");
}

Test(client, test_proxy_with_a_control_character_is_refused_without_echoing_it) {
    cio_client_options_t o = fx_options();
    o.proxy = "http://user:s3cret@proxy:3128\r\nX-Injected: 1";
    expect_client_new_fails(&o, CIO_E_CONFIG, "proxy contains a control character");
    cr_assert_null(strstr(cio_last_error()->message, "s3cret"), "%s", cio_last_error()->message);
}
