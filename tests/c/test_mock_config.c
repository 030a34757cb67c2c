/*
 * The emulator's standing faults (POST /_mock/config): a random share of failing requests and a
 * requests-per-second limit answered with 429 + Retry-After, as `cio-native mock --fail-rate` and
 * `--rate-limit` use them.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

TestSuite(mock_config, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

static void configure(const char *json) {
    char *answer = NULL;
    long st = mock_control("POST", "/_mock/config", json, &answer);
    cr_assert_eq(st, 204, "config %s: %ld %s", json, st, answer);
    free(answer);
}

Test(mock_config, test_rate_limit_answers_429_with_retry_after_and_retries_get_through) {
    configure("{\"rate_limit\":5}");
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *once = fx_client(&o);
    int limited = 0;
    for (int i = 0; i < 10; i++)
        limited += cio_delete(once, "a") == CIO_E_RATE_LIMITED;
    cr_assert_geq(limited, 4, "only %d of 10 requests were limited", limited);
    json_t *reqs = mock_requests();
    size_t i;
    json_t *req;
    bool saw_429 = false;
    json_array_foreach(reqs, i, req) {
        saw_429 = saw_429 || req_status(req) == 429;
    }
    json_decref(reqs);
    cr_assert(saw_429);
    /* the default client honours Retry-After and gets every call through */
    o.max_attempts = 6;
    cio_client_t *patient = fx_client(&o);
    for (int k = 0; k < 8; k++)
        expect_ok(cio_delete(patient, "b"));
}

Test(mock_config, test_fail_rate_fails_that_share_and_can_be_reset) {
    configure("{\"fail_rate\":1,\"fail_status\":503}");
    cio_client_options_t o = fx_options();
    o.max_attempts = 1;
    cio_client_t *c = fx_client(&o);
    expect_error(cio_delete(c, "a"), CIO_E_SERVER, "503", NULL);
    configure("{\"fail_rate\":0}");
    expect_ok(cio_delete(c, "a"));
    char *answer = NULL;
    cr_assert_eq(mock_control("GET", "/_mock/config", NULL, &answer), 200);
    cr_assert_not_null(strstr(answer, "\"fail_rate\""), "%s", answer);
    free(answer);
}

Test(mock_config, test_pipeline_delivers_everything_once_at_a_30_percent_fail_rate) {
    configure("{\"fail_rate\":0.3}");
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.batch_bytes = 4096;
    o.linger_ms = 10;
    o.max_requests_per_second = -1;
    cio_pipeline_t *p = NULL;
    cr_assert_eq(cio_pipeline_new(fx.client, &o, &p), CIO_OK);
    for (int i = 0; i < 300; i++) {
        char op[160];
        snprintf(op, sizeof op,
                 "{\"type\":\"person\",\"action\":\"event\",\"identifiers\":{\"id\":\"p%d\"},"
                 "\"name\":\"e\"}",
                 i);
        cr_assert_eq(cio_pipeline_enqueue(p, op, NULL), CIO_OK);
    }
    cr_assert_eq(cio_pipeline_flush(p, 30000), CIO_OK);
    cio_pipeline_stats_t s;
    cio_pipeline_stats(p, &s);
    cr_assert_eq(s.delivered, 300);
    cio_pipeline_close(p, 1000);
    json_t *reqs = mock_requests();
    json_t *ids = json_object();
    size_t i, total = 0, failed = 0;
    json_t *req;
    json_array_foreach(reqs, i, req) {
        if (req_status(req) != 200) {
            failed++;
            continue;
        }
        json_t *body = req_body_json(req);
        size_t j;
        json_t *op;
        json_array_foreach(json_object_get(body, "batch"), j, op) {
            const char *id = json_string_value(json_object_get(op, "id"));
            cr_assert_null(json_object_get(ids, id), "%s delivered twice", id);
            json_object_set_new(ids, id, json_true());
            total++;
        }
        json_decref(body);
    }
    cr_assert_eq(total, 300);
    cr_assert_gt(failed, 0, "no request failed: the fail rate was not exercised");
    json_decref(ids);
    json_decref(reqs);
}

Test(mock_config, test_bad_config_is_refused) {
    char *answer = NULL;
    cr_assert_eq(mock_control("POST", "/_mock/config", "{\"fail_rate\":2}", &answer), 400);
    free(answer);
    answer = NULL;
    cr_assert_eq(mock_control("POST", "/_mock/config", "{\"chaos\":1}", &answer), 400);
    free(answer);
}
