/*
 * The certificate authorities from the environment, as the official clients take them (issue 15:
 * behind a TLS-inspecting proxy, switching must not break): REQUESTS_CA_BUNDLE, else
 * SSL_CERT_FILE, plus SSL_CERT_DIR; the ca_file option beats all three, and ignore_env ignores
 * them. The emulator serves HTTPS with a certificate only its own file vouches for (a private CA).
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

static cio_mock_t *tls_mock;

static void setup(void) {
    unsetenv("REQUESTS_CA_BUNDLE");
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    tls_mock = mock_start_tls();
}

static void teardown(void) {
    cio_mock_stop(tls_mock);
}

TestSuite(tls_env, .init = setup, .fini = teardown, .timeout = 60);

/* Identifies once through a client reading the environment (or not); returns the status. */
static cio_status_t identify_with(const char *ca_file, int ignore_env) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = TEST_SITE_ID;
    o.api_key = TEST_API_KEY;
    o.track_url = cio_mock_base_url(tls_mock);
    o.ca_file = ca_file;
    o.ignore_env = ignore_env;
    o.max_attempts = 5;
    o.backoff_base_ms = 500;
    cio_client_t *c = NULL;
    cio_status_t made = cio_client_new(&o, &c);
    if (made == CIO_E_CONFIG)
        return made;
    cr_assert_eq(made, CIO_OK, "%s", cio_last_error()->message);
    cio_status_t st = cio_identify(c, "42", "{}");
    if (st != CIO_OK) /* a refusal is permanent: one attempt, at once */
        cr_assert_eq(cio_last_error()->attempts, 1, "%s", cio_last_error()->message);
    cio_client_free(c);
    return st;
}

Test(tls_env, test_without_ca_variables_a_private_ca_fails_verification_at_once) {
    int64_t start = now_ms();
    cr_assert_eq(identify_with(NULL, 0), CIO_E_NETWORK);
    cr_assert_lt(now_ms() - start, 1500);
}

Test(tls_env, test_ssl_cert_file_is_trusted) {
    setenv("SSL_CERT_FILE", CIO_TEST_TLS_CERT, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
}

Test(tls_env, test_ssl_cert_dir_is_trusted) {
    setenv("SSL_CERT_DIR", CIO_TEST_TLS_CERT_DIR, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
}

Test(tls_env, test_requests_ca_bundle_is_trusted) {
    setenv("REQUESTS_CA_BUNDLE", CIO_TEST_TLS_CERT, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
}

Test(tls_env, test_requests_ca_bundle_beats_ssl_cert_file) {
    setenv("REQUESTS_CA_BUNDLE", CIO_TEST_TLS_CERT, 1);
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
}

Test(tls_env, test_ca_file_option_beats_the_environment) {
    setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
    cr_assert_eq(identify_with(CIO_TEST_TLS_CERT, 0), CIO_OK, "%s", cio_last_error()->message);
    setenv("SSL_CERT_FILE", CIO_TEST_TLS_CERT, 1);
    unsetenv("REQUESTS_CA_BUNDLE");
    cr_assert_eq(identify_with(CIO_TEST_TLS_CERT ".not-there", 0), CIO_E_CONFIG);
}

Test(tls_env, test_ignore_env_ignores_the_ca_variables) {
    setenv("SSL_CERT_FILE", CIO_TEST_TLS_CERT, 1);
    setenv("SSL_CERT_DIR", CIO_TEST_TLS_CERT_DIR, 1);
    cr_assert_eq(identify_with(NULL, 1), CIO_E_NETWORK);
}

Test(tls_env, test_empty_ca_variables_are_ignored) {
    setenv("REQUESTS_CA_BUNDLE", "", 1);
    setenv("SSL_CERT_FILE", CIO_TEST_TLS_CERT, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
}

/* Python's requests takes a REQUESTS_CA_BUNDLE that is a directory as its CA directory
 * (ca_cert_dir); it was handed to libcurl as a file and every request failed. */
Test(tls_env, test_requests_ca_bundle_directory_is_a_ca_directory) {
    setenv("REQUESTS_CA_BUNDLE", CIO_TEST_TLS_CERT_DIR, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
    unsetenv("REQUESTS_CA_BUNDLE");
    setenv("SSL_CERT_FILE", CIO_TEST_TLS_CERT_DIR, 1);
    cr_assert_eq(identify_with(NULL, 0), CIO_OK, "%s", cio_last_error()->message);
    unsetenv("SSL_CERT_FILE");
    cr_assert_eq(identify_with(CIO_TEST_TLS_CERT_DIR, 0), CIO_OK, "%s", cio_last_error()->message);
}

/* A CA path that cannot be opened at all is a configuration error, said once by cio_client_new
 * naming where it came from (not its value), instead of failing every request. */
static void expect_config_error(const char *ca_file, const char *named) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = TEST_SITE_ID;
    o.api_key = TEST_API_KEY;
    o.track_url = cio_mock_base_url(tls_mock);
    o.ca_file = ca_file;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_E_CONFIG);
    cr_assert_null(c);
    const char *m = cio_last_error()->message;
    cr_assert_not_null(strstr(m, named), "%s", m);
    cr_assert_not_null(strstr(m, "cannot be read"), "%s", m);
    cr_assert_null(strstr(m, "secret-dir"), "the path is in the message: %s", m);
}

Test(tls_env, test_unreadable_ca_path_fails_the_client_naming_its_source) {
    setenv("REQUESTS_CA_BUNDLE", "/nonexistent/secret-dir/ca.pem", 1);
    expect_config_error(NULL, "client: REQUESTS_CA_BUNDLE ");
    unsetenv("REQUESTS_CA_BUNDLE");
    setenv("SSL_CERT_FILE", "/nonexistent/secret-dir/ca.pem", 1);
    expect_config_error(NULL, "client: SSL_CERT_FILE ");
    expect_config_error("/nonexistent/secret-dir/ca.pem", "client: ca_file ");
}
