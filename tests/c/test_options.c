/*
 * Options by name (customerio/options.h): every table row settable and landing in its struct
 * field, wrong types and ranges refused naming the option, secrets never echoed, unknown names
 * refused, the tables complete against the structs, and clients and pipelines made from configs
 * against the emulator.
 */
#include "helpers.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(options, .init = fx_setup_mock_only, .fini = fx_teardown);

static const cio_config_kind_t kinds[] = {CIO_CONFIG_CLIENT, CIO_CONFIG_PIPELINE};

static cio_config_t *new_config(cio_config_kind_t kind) {
    cio_config_t *c = NULL;
    expect_ok(cio_config_new(kind, &c));
    cr_assert_not_null(c);
    return c;
}

/* The options struct of c as bytes (client or pipeline). */
static void struct_of(const cio_config_t *c, cio_config_kind_t kind, void *out) {
    if (kind == CIO_CONFIG_CLIENT)
        expect_ok(cio_config_client_options(c, (cio_client_options_t *)out));
    else
        expect_ok(cio_config_pipeline_options(c, (cio_pipeline_options_t *)out));
}

typedef union {
    cio_client_options_t client;
    cio_pipeline_options_t pipeline;
} any_options_t;

static size_t struct_size(cio_config_kind_t kind) {
    return kind == CIO_CONFIG_CLIENT ? sizeof(cio_client_options_t)
                                     : sizeof(cio_pipeline_options_t);
}

/* ---- every row settable, landing where its row says ---- */

Test(options, test_every_row_is_settable_and_lands_in_its_field) {
    for (size_t k = 0; k < 2; k++) {
        const cio_option_info_t *o;
        for (size_t i = 0; (o = cio_config_option(kinds[k], i)) != NULL; i++) {
            cio_config_t *c = new_config(kinds[k]);
            any_options_t s;
            const char *text = NULL;
            char buf[64];
            long long want_int = 0;
            double want_double = 0;
            if (strcmp(o->type, "string") == 0 || strcmp(o->type, "secret") == 0) {
                snprintf(buf, sizeof(buf), "value-of-%s", o->name);
                text = buf;
            } else if (strcmp(o->type, "int") == 0) {
                snprintf(buf, sizeof(buf), "%lld", o->max);
                text = buf;
                want_int = o->max;
            } else if (strcmp(o->type, "bool") == 0) {
                text = "true";
                want_int = 1;
            } else if (strcmp(o->type, "enum") == 0) {
                size_t last = 0;
                while (o->choices[last + 1] != NULL)
                    last++;
                text = o->choices[last];
                want_int = (long long)last;
            } else if (strcmp(o->type, "number") == 0) {
                text = "2.5";
                want_double = 2.5;
            } else {
                cr_assert_fail("%s: unknown type %s", o->name, o->type);
            }
            cr_assert_not_null(o->doc, "%s has no doc", o->name);
            cr_assert_gt(strlen(o->doc), 10, "%s: doc too short", o->name);
            expect_ok(cio_config_set(c, o->name, text));
            struct_of(c, kinds[k], &s);
            const char *field = (const char *)&s + o->offset;
            if (strcmp(o->type, "string") == 0 || strcmp(o->type, "secret") == 0) {
                const char *got;
                memcpy(&got, field, sizeof(got));
                cr_assert_str_eq(got, buf, "%s", o->name);
                cr_assert_neq(got, buf, "%s: the string was not copied", o->name);
            } else if (strcmp(o->type, "number") == 0) {
                double got;
                memcpy(&got, field, sizeof(got));
                cr_assert_eq(got, want_double, "%s", o->name);
            } else if (o->size == sizeof(int)) {
                int got;
                memcpy(&got, field, sizeof(got));
                cr_assert_eq(got, (int)want_int, "%s: got %d", o->name, got);
            } else {
                long long got; /* long and size_t on LP64 */
                memcpy(&got, field, sizeof(got));
                cr_assert_eq(got, want_int, "%s: got %lld", o->name, got);
            }
            /* NULL puts the default (zero) back. */
            expect_ok(cio_config_set(c, o->name, NULL));
            struct_of(c, kinds[k], &s);
            for (size_t b = 0; b < o->size; b++)
                cr_assert_eq(field[b], 0, "%s: not reset by NULL", o->name);
            cio_config_free(c);
        }
    }
}

Test(options, test_config_starts_as_the_current_version_with_every_field_zero) {
    cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
    cio_client_options_t o, zero = CIO_CLIENT_OPTIONS_INIT;
    expect_ok(cio_config_client_options(c, &o));
    cr_assert_eq(o.version, CIO_CLIENT_OPTIONS_VERSION);
    cr_assert_eq(memcmp(&o, &zero, sizeof(o)), 0);
    cio_config_free(c);
    c = new_config(CIO_CONFIG_PIPELINE);
    cio_pipeline_options_t p, pzero = CIO_PIPELINE_OPTIONS_INIT;
    expect_ok(cio_config_pipeline_options(c, &p));
    cr_assert_eq(p.version, CIO_PIPELINE_OPTIONS_VERSION);
    cr_assert_eq(memcmp(&p, &pzero, sizeof(p)), 0);
    cio_config_free(c);
}

Test(options, test_values_by_name_and_enum_values_by_number) {
    cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
    cio_client_options_t o;
    expect_ok(cio_config_set(c, "region", "EU"));
    expect_ok(cio_config_set(c, "timeout_ms", "5000"));
    expect_ok(cio_config_set(c, "tls_insecure", "1"));
    expect_ok(cio_config_set(c, "cdp_permissive", "FALSE"));
    expect_ok(cio_config_client_options(c, &o));
    cr_assert_eq(o.region, CIO_REGION_EU);
    cr_assert_eq(o.timeout_ms, 5000);
    cr_assert_eq(o.tls_insecure, 1);
    cr_assert_eq(o.cdp_permissive, 0);
    expect_ok(cio_config_set(c, "region", "1"));
    expect_ok(cio_config_client_options(c, &o));
    cr_assert_eq(o.region, CIO_REGION_US);
    cio_config_free(c);

    c = new_config(CIO_CONFIG_PIPELINE);
    cio_pipeline_options_t p;
    expect_ok(cio_config_set(c, "sink", "pipelines"));
    expect_ok(cio_config_set(c, "when_full", "fail"));
    expect_ok(cio_config_set(c, "spool_sync", "batch"));
    expect_ok(cio_config_set(c, "max_requests_per_second", "-1"));
    expect_ok(cio_config_set(c, "max_queue_bytes", "1048576"));
    expect_ok(cio_config_pipeline_options(c, &p));
    cr_assert_eq(p.sink, CIO_SINK_PIPELINES);
    cr_assert_eq(p.when_full, CIO_WHEN_FULL_FAIL);
    cr_assert_eq(p.spool_sync, CIO_SPOOL_SYNC_BATCH);
    cr_assert_eq(p.max_requests_per_second, -1.0);
    cr_assert_eq(p.max_queue_bytes, 1048576u);
    cio_config_free(c);
}

/* ---- refusals ---- */

static void expect_refused(cio_config_t *c, cio_config_kind_t kind, const char *name,
                           const char *value, const char *needle) {
    any_options_t before, after;
    struct_of(c, kind, &before);
    expect_error(cio_config_set(c, name, value), CIO_E_INVALID_ARGUMENT, name, needle);
    struct_of(c, kind, &after);
    cr_assert_eq(memcmp(&before, &after, struct_size(kind)), 0, "%s=%s changed the config", name,
                 value);
}

Test(options, test_wrong_types_and_ranges_are_refused_naming_the_option) {
    cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
    expect_ok(cio_config_set(c, "timeout_ms", "7"));
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", "abc", "\"abc\"");
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", "-1", "from 0 to");
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", "1.5", "whole number");
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", "", "whole number");
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", " 5", "whole number");
    expect_refused(c, CIO_CONFIG_CLIENT, "timeout_ms", "99999999999999999999", "whole number");
    expect_refused(c, CIO_CONFIG_CLIENT, "max_attempts", "2147483648", "2147483647");
    expect_refused(c, CIO_CONFIG_CLIENT, "tls_insecure", "maybe", "true, false, 1 or 0");
    expect_refused(c, CIO_CONFIG_CLIENT, "region", "mars", "one of default, us, eu");
    expect_refused(c, CIO_CONFIG_CLIENT, "region", "3", "one of default, us, eu");
    cio_config_free(c);

    c = new_config(CIO_CONFIG_PIPELINE);
    expect_refused(c, CIO_CONFIG_PIPELINE, "when_full", "drop", "one of block, fail");
    expect_refused(c, CIO_CONFIG_PIPELINE, "spool_sync", "sometimes", "one of none, batch, always");
    expect_refused(c, CIO_CONFIG_PIPELINE, "sink", "kafka", "one of track_v2, pipelines");
    expect_refused(c, CIO_CONFIG_PIPELINE, "max_requests_per_second", "fast", "finite number");
    expect_refused(c, CIO_CONFIG_PIPELINE, "max_requests_per_second", "inf", "finite number");
    expect_refused(c, CIO_CONFIG_PIPELINE, "max_queue_bytes", "-5", "whole number");
    cio_config_free(c);
}

Test(options, test_unknown_names_are_refused) {
    cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
    expect_error(cio_config_set(c, "timeout", "5"), CIO_E_INVALID_ARGUMENT,
                 "unknown client option \"timeout\"", NULL);
    expect_error(cio_config_set(c, "Timeout_ms", "5"), CIO_E_INVALID_ARGUMENT, "Timeout_ms", NULL);
    /* A pipeline option is not a client option, and the reverse. */
    expect_error(cio_config_set(c, "linger_ms", "5"), CIO_E_INVALID_ARGUMENT,
                 "unknown client option", NULL);
    cio_config_free(c);
    c = new_config(CIO_CONFIG_PIPELINE);
    expect_error(cio_config_set(c, "site_id", "x"), CIO_E_INVALID_ARGUMENT,
                 "unknown pipeline option \"site_id\"", NULL);
    cio_config_free(c);
    cio_config_t *bad = NULL;
    expect_error(cio_config_new((cio_config_kind_t)7, &bad), CIO_E_INVALID_ARGUMENT, "kind", NULL);
    cr_assert_null(bad);
}

Test(options, test_secrets_are_never_in_messages) {
    static const char *const secrets[] = {"api_key", "app_api_key", "cdp_api_key"};
    for (size_t i = 0; i < 3; i++) {
        const cio_option_info_t *o = NULL;
        for (size_t j = 0; (o = cio_config_option(CIO_CONFIG_CLIENT, j)) != NULL; j++)
            if (strcmp(o->name, secrets[i]) == 0)
                break;
        cr_assert_not_null(o, "%s is not in the table", secrets[i]);
        cr_assert_str_eq(o->type, "secret", "%s is not marked secret", secrets[i]);

        /* A secret the client refuses (a line break in it): the message names the option, not
         * the value. */
        cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
        cio_client_options_t fo = fx_options();
        expect_ok(cio_config_set(c, "site_id", TEST_SITE_ID));
        expect_ok(cio_config_set(c, "api_key", TEST_API_KEY));
        expect_ok(cio_config_set(c, "ignore_env", "true"));
        expect_ok(cio_config_set(c, "track_url", fo.track_url));
        expect_ok(cio_config_set(c, secrets[i], "TOPSECRET-1234\r\nX"));
        cio_client_t *client = NULL;
        cio_status_t st = cio_client_new_from_config(c, &client);
        if (st == CIO_OK) {
            cio_client_free(client);
            cr_assert_fail("%s with CR/LF was accepted", secrets[i]);
        }
        cr_assert_not_null(cio_last_error());
        cr_assert_not_null(strstr(cio_last_error()->message, secrets[i]), "%s",
                           cio_last_error()->message);
        cr_assert_null(strstr(cio_last_error()->message, "TOPSECRET"), "%s",
                       cio_last_error()->message);
        /* An unknown name after a secret was set does not show it either. */
        expect_error(cio_config_set(c, "nope", "x"), CIO_E_INVALID_ARGUMENT, "nope", NULL);
        cr_assert_null(strstr(cio_last_error()->message, "TOPSECRET"));
        cio_config_free(c);
    }
}

/* ---- the tables against the structs ---- */

/* Each field of the struct, version excepted, has a row: the rows (with the fields set by C
 * only) cover the struct with nothing left between them but padding. A field added to a struct
 * without a row leaves a gap at least its size, and fails here. */
static void expect_complete(cio_config_kind_t kind, size_t size, const size_t *c_only_offsets,
                            const size_t *c_only_sizes, size_t n_c_only) {
    typedef struct {
        size_t offset, size;
        const char *name;
    } span_t;
    span_t spans[64];
    size_t n = 0;
    spans[n++] = (span_t){0, sizeof(unsigned int), "version"};
    for (size_t i = 0; i < n_c_only; i++)
        spans[n++] = (span_t){c_only_offsets[i], c_only_sizes[i], "(C only)"};
    const cio_option_info_t *o;
    for (size_t i = 0; (o = cio_config_option(kind, i)) != NULL; i++) {
        cr_assert_lt(n, 64);
        spans[n++] = (span_t){o->offset, o->size, o->name};
        cr_assert(o->since_version >= 1 && o->since_version <= (kind == CIO_CONFIG_CLIENT
                                                                    ? CIO_CLIENT_OPTIONS_VERSION
                                                                    : CIO_PIPELINE_OPTIONS_VERSION),
                  "%s: since_version %u", o->name, o->since_version);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(cio_config_option(kind, j)->name, o->name, "%s twice", o->name);
    }
    /* Sort by offset (insertion sort: a few dozen rows). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && spans[j].offset < spans[j - 1].offset; j--) {
            span_t t = spans[j];
            spans[j] = spans[j - 1];
            spans[j - 1] = t;
        }
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_geq(spans[i].offset, end, "%s overlaps the field before it", spans[i].name);
        cr_assert_lt(spans[i].offset - end, spans[i].size,
                     "a field without a row before %s (gap of %zu bytes at offset %zu)",
                     spans[i].name, spans[i].offset - end, end);
        end = spans[i].offset + spans[i].size;
    }
    cr_assert_lt(size - end, 8, "a field without a row at the end (%zu bytes after offset %zu)",
                 size - end, end);
}

Test(options, test_client_table_covers_every_field) {
    expect_complete(CIO_CONFIG_CLIENT, sizeof(cio_client_options_t), NULL, NULL, 0);
    cr_assert_str_eq(cio_config_option(CIO_CONFIG_CLIENT, 0)->name, "site_id");
    cr_assert_eq(cio_config_option(CIO_CONFIG_CLIENT, 0)->offset,
                 offsetof(cio_client_options_t, site_id));
    cr_assert_null(cio_config_option((cio_config_kind_t)0, 0));
}

Test(options, test_pipeline_table_covers_every_field) {
    /* The callback, its argument, the report queue and a caller's store are pointers: C callers
     * set them on the struct (cio_config_pipeline_options), the queue is an argument of
     * cio_pipeline_new_from_config. */
    const size_t offs[] = {
        offsetof(cio_pipeline_options_t, on_report), offsetof(cio_pipeline_options_t, report_user),
        offsetof(cio_pipeline_options_t, report_queue), offsetof(cio_pipeline_options_t, store)};
    const size_t sizes[] = {sizeof(cio_report_fn), sizeof(void *), sizeof(cio_queue_t *),
                            sizeof(cio_store_t *)};
    expect_complete(CIO_CONFIG_PIPELINE, sizeof(cio_pipeline_options_t), offs, sizes, 4);
}

Test(options, test_config_of_the_other_kind_is_refused) {
    cio_config_t *c = new_config(CIO_CONFIG_PIPELINE);
    cio_client_t *client = NULL;
    cio_client_options_t o;
    expect_error(cio_client_new_from_config(c, &client), CIO_E_INVALID_ARGUMENT, "pipeline options",
                 NULL);
    cr_assert_null(client);
    expect_error(cio_config_client_options(c, &o), CIO_E_INVALID_ARGUMENT, "pipeline options",
                 NULL);
    cio_config_free(c);
    cio_config_free(NULL);
}

/* ---- clients and pipelines from configs, against the emulator ---- */

Test(options, test_client_from_config_owns_its_strings_and_sends) {
    cio_client_options_t fo = fx_options();
    char site[32], key[32], url[256], ua[32];
    snprintf(site, sizeof(site), "%s", TEST_SITE_ID);
    snprintf(key, sizeof(key), "%s", TEST_API_KEY);
    snprintf(url, sizeof(url), "%s", fo.track_url);
    snprintf(ua, sizeof(ua), "opts-test/1");
    cio_config_t *c = new_config(CIO_CONFIG_CLIENT);
    expect_ok(cio_config_set(c, "site_id", site));
    expect_ok(cio_config_set(c, "api_key", key));
    expect_ok(cio_config_set(c, "track_url", url));
    expect_ok(cio_config_set(c, "user_agent", ua));
    expect_ok(cio_config_set(c, "ignore_env", "1"));
    expect_ok(cio_config_set(c, "max_attempts", "1"));
    /* The caller's buffers change (a binding's temporaries): the config kept copies. */
    memset(site, 'x', sizeof(site) - 1);
    memset(key, 'x', sizeof(key) - 1);
    memset(ua, 'x', sizeof(ua) - 1);
    cio_client_t *client = NULL;
    expect_ok(cio_client_new_from_config(c, &client));
    cio_config_free(c);
    expect_ok(cio_identify(client, "u1", "{\"plan\":\"pro\"}"));
    json_t *reqs = mock_requests_wait(1);
    cr_assert_eq(json_array_size(reqs), 1);
    const json_t *r = json_array_get(reqs, 0);
    cr_assert_str_eq(req_str(r, "method"), "PUT");
    cr_assert_str_eq(req_str(r, "path"), "/api/v1/customers/u1");
    cr_assert_str_eq(req_header(r, "authorization"), TEST_BASIC_AUTH);
    cr_assert_str_eq(req_header(r, "user-agent"), "opts-test/1");
    json_decref(reqs);
    cio_client_free(client);
}

Test(options, test_pipeline_from_config_reports_to_its_queue) {
    cio_client_options_t fo = fx_options();
    cio_client_t *client = fx_client(&fo);
    cio_queue_t *q = NULL;
    expect_ok(cio_queue_new(&q));
    cio_config_t *c = new_config(CIO_CONFIG_PIPELINE);
    expect_ok(cio_config_set(c, "linger_ms", "1"));
    expect_ok(cio_config_set(c, "report_successes", "true"));
    expect_ok(cio_config_set(c, "max_batch_items", "10"));
    cio_pipeline_t *p = NULL;
    expect_ok(cio_pipeline_new_from_config(client, c, q, &p));
    cio_config_free(c);
    uint64_t seq = 0;
    expect_ok(cio_pipeline_enqueue(
        p, "{\"type\":\"person\",\"action\":\"identify\",\"identifiers\":{\"id\":\"u1\"}}", &seq));
    expect_ok(cio_pipeline_flush(p, 5000));
    cio_completion_t *done = NULL;
    expect_ok(cio_queue_poll(q, &done));
    cr_assert_not_null(done, "no delivery report on the queue");
    cr_assert_eq(done->token, seq);
    cr_assert_eq(done->status, CIO_OK);
    cio_completion_free(done);
    expect_ok(cio_pipeline_close(p, 1000));
    json_t *reqs = mock_requests_wait(1);
    cr_assert_str_eq(req_str(json_array_get(reqs, 0), "path"), "/api/v2/batch");
    json_decref(reqs);
    cio_queue_free(q);
}
