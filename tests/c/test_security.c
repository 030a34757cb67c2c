/*
 * Security properties (SECURITY.md) not covered by the suites of each API: secrets never appear
 * in errors, and CR, LF and other control characters never reach an HTTP header or URL: every
 * such input is refused before anything is sent, without echoing a secret.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(security, .init = fx_setup_mock_only, .fini = fx_teardown);

#define APP_KEY "test-app-key"

/* cio_client_new must fail with CIO_E_CONFIG and exactly this message; nothing is made. */
static void expect_config_error(const cio_client_options_t *opts, const char *message) {
    cio_client_t *c = NULL;
    cio_status_t st = cio_client_new(opts, &c);
    if (st == CIO_OK)
        cio_client_free(c);
    cr_assert_eq(st, CIO_E_CONFIG, "got %s", cio_status_str(st));
    cr_assert_null(c);
    cr_assert_str_eq(cio_last_error()->message, message);
}

/* The last error's message and response body do not contain secret. */
static void expect_secret_absent(const char *secret) {
    const cio_error_t *e = cio_last_error();
    cr_assert_not_null(e);
    cr_assert_null(strstr(e->message, secret), "the secret leaked: %s", e->message);
    if (e->response_body != NULL)
        cr_assert_null(strstr(e->response_body, secret), "the secret is in the body: %s",
                       e->response_body);
}

/* ---- headers: user agent and credentials ---- */

Test(security, test_user_agent_with_crlf_or_other_control_characters_is_refused) {
    static const char *const agents[] = {"app/1.0\r\nX-Evil: 1", "app/1.0\n", "app\t1.0",
                                         "app\x7f"};
    for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
        cio_client_options_t opts = fx_options();
        opts.user_agent = agents[i];
        expect_config_error(&opts, "client: user_agent contains a control character");
    }
    cio_client_options_t opts = fx_options();
    opts.user_agent = "app/\xff";
    expect_config_error(&opts, "client: user_agent contains a control character");
    expect_nothing_sent();
}

Test(security, test_every_credential_with_crlf_is_refused_without_echoing_it) {
    static const struct {
        size_t offset;
        const char *name;
    } fields[] = {
        {offsetof(cio_client_options_t, site_id), "site_id"},
        {offsetof(cio_client_options_t, api_key), "api_key"},
        {offsetof(cio_client_options_t, app_api_key), "app_api_key"},
        {offsetof(cio_client_options_t, cdp_api_key), "cdp_api_key"},
    };
    static const char *const values[] = {"s3cret-value\r\nX-Evil: 1", "s3cret-value\n",
                                         "s3cret-value\r", "s3cret\x01value"};
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
            cio_client_options_t opts = fx_options();
            *(const char **)((char *)&opts + fields[f].offset) = values[v];
            char message[128];
            snprintf(message, sizeof message,
                     "client: %s contains a control character (CR, LF, ...)", fields[f].name);
            expect_config_error(&opts, message);
            expect_secret_absent("s3cret");
        }
    }
    expect_nothing_sent();
}

Test(security, test_credentials_from_the_environment_with_crlf_are_refused_too) {
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    opts.api_key = NULL;
    opts.cdp_api_key = NULL;
    setenv("CUSTOMERIO_API_KEY", "env-s3cret\r\nX-Evil: 1", 1);
    expect_config_error(&opts, "client: api_key contains a control character (CR, LF, ...)");
    expect_secret_absent("env-s3cret");
    unsetenv("CUSTOMERIO_API_KEY");
    setenv("CUSTOMERIO_CDP_API_KEY", "sk_us_env-s3cret\n", 1);
    expect_config_error(&opts, "client: cdp_api_key contains a control character (CR, LF, ...)");
    expect_secret_absent("env-s3cret");
    unsetenv("CUSTOMERIO_CDP_API_KEY");
}

/* ---- URLs: base URLs, region ---- */

Test(security, test_base_urls_with_crlf_space_or_fragment_are_refused) {
    static const char *const suffixes[] = {"\r\nX-Evil: 1", "/x y",   "/\n",
                                           "/a#b",          "/a?b=1", "/\x7f"};
    static const char *const names[] = {"track_url", "app_url", "cdp_url"};
    for (size_t n = 0; n < 3; n++) {
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            char url[300];
            snprintf(url, sizeof url, "%s%s", fx.base_url, suffixes[i]);
            cio_client_options_t opts = fx_options();
            if (n == 0)
                opts.track_url = url;
            else if (n == 1)
                opts.app_url = url;
            else
                opts.cdp_url = url;
            char message[128];
            snprintf(message, sizeof message,
                     "client: %s contains a space, control character, '?' or '#'", names[n]);
            expect_config_error(&opts, message);
        }
    }
    expect_nothing_sent();
}

Test(security, test_region_names_with_control_characters_are_not_echoed) {
    cio_region_t r;
    cr_assert_eq(cio_region_parse("eu\r\nX-Evil: 1", &r), CIO_E_CONFIG);
    cr_assert_str_eq(cio_last_error()->message,
                     "region: unknown region (expected \"us\" or \"eu\")");
    cio_client_options_t opts = fx_options();
    opts.ignore_env = 0;
    setenv("CUSTOMERIO_REGION", "us\n", 1);
    expect_config_error(&opts, "client: CUSTOMERIO_REGION is not \"us\" or \"eu\"");
    unsetenv("CUSTOMERIO_REGION");
}

/* ---- URLs: ids that become path segments ---- */

Test(security, test_path_ids_with_crlf_are_refused_before_sending) {
    cio_client_options_t opts = fx_options();
    opts.app_api_key = APP_KEY;
    cio_client_t *c = fx_client(&opts);
    const char *bad = "x\r\nHost: evil.example";
    expect_error(cio_delete_device(c, "42", bad), CIO_E_INVALID_ARGUMENT, "delete_device",
                 "control character");
    expect_error(cio_delete_device(c, bad, "tok"), CIO_E_INVALID_ARGUMENT, "delete_device",
                 "control character");
    const char *ids[] = {"42"};
    expect_error(cio_segment_add_customers(c, bad, ids, 1, CIO_ID_TYPE_ID), CIO_E_INVALID_ARGUMENT,
                 "segment", "control character");
    expect_error(cio_suppress(c, bad), CIO_E_INVALID_ARGUMENT, "suppress", "control character");
    expect_error(cio_v2_person_delete(c, CIO_ID_TYPE_ID, bad), CIO_E_INVALID_ARGUMENT, NULL,
                 "control character");
    char *resp = NULL;
    expect_error(cio_transactional_get(c, bad, &resp), CIO_E_INVALID_ARGUMENT, "control character",
                 NULL);
    cr_assert_null(resp);
    expect_nothing_sent();
}

/* ---- secrets in errors on 401 answers, every kind of credential ---- */

Test(security, test_wrong_app_key_401_error_never_contains_the_key) {
    cio_client_options_t opts = fx_options();
    opts.app_api_key = "app-s3cret-WRONG-7c1d";
    cio_client_t *c = fx_client(&opts);
    char *resp = NULL;
    expect_error(cio_customers_get_attributes(c, CIO_ID_TYPE_ID, "42", &resp), CIO_E_AUTH,
                 "customers_get_attributes: HTTP 401", NULL);
    cr_assert_eq(cio_last_error()->http_status, 401);
    expect_secret_absent("s3cret");
    cio_free(resp);
}

Test(security, test_wrong_cdp_key_401_error_never_contains_the_key) {
    static const char *const keys[] = {"cdp-s3cret-WRONG",
                                       "sk_us_s3cret-WRONG"}; /* Basic, Bearer */
    for (size_t i = 0; i < 2; i++) {
        cio_client_options_t opts = fx_options();
        opts.cdp_api_key = keys[i];
        cio_client_t *c = fx_client(&opts);
        expect_error(cio_cdp_identify(c, "42", NULL, NULL, NULL), CIO_E_AUTH, "HTTP 401", NULL);
        expect_secret_absent("s3cret");
    }
}

Test(security, test_wrong_track_key_401_error_never_contains_the_key_v1_and_v2) {
    cio_client_options_t opts = fx_options();
    opts.api_key = "track-s3cret-WRONG";
    cio_client_t *c = fx_client(&opts);
    expect_error(cio_identify(c, "42", "{}"), CIO_E_AUTH, "HTTP 401", NULL);
    expect_secret_absent("s3cret");
    expect_error(cio_v2_person_identify(c, CIO_ID_TYPE_ID, "42", NULL), CIO_E_AUTH, "HTTP 401",
                 NULL);
    expect_secret_absent("s3cret");
}
