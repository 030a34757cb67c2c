/*
 * TLS: the emulator serves HTTPS with a self-signed certificate made at build time. The client
 * verifies certificates by default, so it refuses that server (and does not retry: a bad
 * certificate does not heal), accepts it given the certificate as ca_file, and skips the check
 * only when told to.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cio_mock_t *tls_mock;

static void start_tls_mock(void) {
    tls_mock = mock_start_tls();
    cr_assert_eq(strncmp(cio_mock_base_url(tls_mock), "https://", 8), 0);
}

static void stop_tls_mock(void) {
    cio_mock_stop(tls_mock);
}

TestSuite(tls, .init = start_tls_mock, .fini = stop_tls_mock);

static cio_client_t *client_for(const char *ca_file, int insecure) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = TEST_SITE_ID;
    o.api_key = TEST_API_KEY;
    o.ignore_env = 1;
    o.track_url = cio_mock_base_url(tls_mock);
    o.backoff_base_ms = 10;
    o.backoff_max_ms = 20;
    o.ca_file = ca_file;
    o.tls_insecure = insecure;
    cio_client_t *c = NULL;
    cr_assert_eq(cio_client_new(&o, &c), CIO_OK);
    return c;
}

Test(tls, test_self_signed_server_is_rejected_by_default_without_retry) {
    cio_client_t *c = client_for(NULL, 0);
    cio_status_t st = cio_identify(c, "42", "{}");
    cr_assert_eq(st, CIO_E_NETWORK, "got %s", cio_status_str(st));
    const cio_error_t *e = cio_last_error();
    cr_assert_eq(e->attempts, 1, "a certificate failure was retried (%d attempts)", e->attempts);
    cr_assert_not_null(strstr(e->message, "identify"), "%s", e->message);
    cr_assert_not_null(strstr(e->message, "certificate"), "%s", e->message);
    cio_client_free(c);
}

Test(tls, test_server_is_accepted_with_its_certificate_as_ca_file) {
    cio_client_t *c = client_for(CIO_TEST_TLS_CERT, 0);
    cr_assert_eq(cio_identify(c, "42", "{\"plan\":\"tls\"}"), CIO_OK, "%s",
                 cio_last_error() ? cio_last_error()->message : "");
    cio_client_free(c);
}

Test(tls, test_tls_insecure_skips_verification) {
    cio_client_t *c = client_for(NULL, 1);
    cr_assert_eq(cio_track(c, "42", "e", NULL, NULL), CIO_OK);
    cio_client_free(c);
}

/* A CA file that can be read but holds no certificate fails each request, permanently (one that
 * cannot be read at all fails cio_client_new: test_tls_env.c). */
Test(tls, test_unusable_ca_file_fails_without_retry) {
    char path[] = "/tmp/cio-ca-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "not a certificate\n", 18), 18);
    close(fd);
    cio_client_t *c = client_for(path, 0);
    cio_status_t st = cio_identify(c, "42", "{}");
    unlink(path);
    cr_assert_eq(st, CIO_E_NETWORK, "got %s", cio_status_str(st));
    cr_assert_eq(cio_last_error()->attempts, 1);
    cio_client_free(c);
}
