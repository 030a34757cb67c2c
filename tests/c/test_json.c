/*
 * customerio/json.h: the scanner the library checks operations and messages with, public so the
 * emulator (and any program) reads JSON the same way. Pure functions: no emulator needed.
 */
#include <customerio/customerio.h>

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cio_json_value_t scan_ok(const char *text) {
    cio_json_value_t root;
    cio_status_t st = cio_json_scan(text, strlen(text), &root);
    cr_assert_eq(st, CIO_OK, "%s: %s", text, cio_last_error()->message);
    return root;
}

static void expect_refused(const char *text, size_t len, const char *message) {
    cio_json_value_t root;
    cr_assert_eq(cio_json_scan(text, len, &root), CIO_E_INVALID_ARGUMENT, "accepted: %s", text);
    cr_assert_str_eq(cio_last_error()->message, message);
}

Test(json, test_scan_accepts_every_kind_of_value) {
    static const struct {
        const char *text;
        cio_json_kind_t kind;
    } cases[] = {
        {"null", CIO_JSON_NULL},
        {" true ", CIO_JSON_TRUE},
        {"false", CIO_JSON_FALSE},
        {"-0", CIO_JSON_INTEGER},
        {"9223372036854775807", CIO_JSON_INTEGER},
        {"9223372036854775808", CIO_JSON_REAL},
        {"-9223372036854775808", CIO_JSON_INTEGER},
        {"1.5e-3", CIO_JSON_REAL},
        {"\"\\u00e9\\ud83d\\ude00\"", CIO_JSON_STRING},
        {"[]", CIO_JSON_ARRAY},
        {"\n{ }\t", CIO_JSON_OBJECT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cio_json_value_t v = scan_ok(cases[i].text);
        cr_assert_eq(v.kind, cases[i].kind, "%s", cases[i].text);
    }
}

Test(json, test_scan_refuses_with_column_and_reason) {
    expect_refused("{\"a\":1,}", 8, "JSON: column 8: expected a member name");
    expect_refused("[1 2]", 5, "JSON: column 4: expected ',' or ']'");
    expect_refused("\"\\u0000\"", 8, "JSON: column 2: \\u0000 is not allowed");
    expect_refused("\"\xff\"", 3, "JSON: column 2: invalid UTF-8 in a string");
    expect_refused("1 2", 3, "JSON: column 3: end of input expected");
    expect_refused("{\"a\":1}", 6, "JSON: column 7: expected ',' or '}'"); /* len cuts it */
    expect_refused(NULL, 0, "JSON: text is NULL");
}

Test(json, test_members_and_elements_are_read_in_place) {
    const char *text = "{\"type\":\"person\", \"n\": -42, \"list\":[1,\"two\",{\"x\":[]}],"
                       "\"type\":\"object\",\"esc\\u0061ped\":\"a\\nb\"}";
    cio_json_value_t root = scan_ok(text), v;
    cr_assert(cio_json_get(&root, "type", &v));
    cr_assert(cio_json_string_is(&v, "object"), "the last of a repeated key counts");
    cr_assert(cio_json_get(&root, "n", &v));
    int64_t n = 0;
    cr_assert(cio_json_int(&v, &n));
    cr_assert_eq(n, -42);
    cr_assert(cio_json_get(&root, "escaped", &v), "keys compare decoded");
    char buf[8];
    cr_assert_eq(cio_json_string(&v, buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "a\nb");
    cr_assert_not(cio_json_get(&root, "missing", &v));

    cr_assert(cio_json_get(&root, "list", &v));
    const char *cursor = NULL;
    cio_json_value_t item;
    const char *expect[] = {"1", "\"two\"", "{\"x\":[]}"};
    size_t count = 0;
    while (cio_json_next(&v, &cursor, NULL, &item)) {
        cr_assert_lt(count, 3);
        cr_assert_eq(item.len, strlen(expect[count]));
        cr_assert(memcmp(item.text, expect[count], item.len) == 0);
        count++;
    }
    cr_assert_eq(count, 3);

    /* Strings: the whole decoded length is returned even when buf is short. */
    cio_json_value_t s = scan_ok("\"h\\u00e9llo\"");
    char small[3];
    cr_assert_eq(cio_json_string(&s, small, sizeof small), 6);
    cr_assert_str_eq(small, "h\xc3");
    cr_assert_eq(cio_json_string(&root, small, sizeof small), 0, "not a string");
    cr_assert_not(cio_json_int(&s, &n));
}

/* Found by tests/fuzz/fuzz_json: a string with escapes that decodes to 256 bytes or more never
 * compared equal (cio_json_string_is decoded into a 256-byte buffer), so cio_json_get missed
 * such keys. */
Test(json, test_long_escaped_strings_compare_decoded) {
    char text[700], key[400];
    memset(key, 'k', 300);
    memcpy(key + 300, "A", 2);
    snprintf(text, sizeof text, "{\"%.300s\\u0041\":1,\"x\":\"%.300s\\n\"}", key, key);
    cio_json_value_t root = scan_ok(text), v;
    cr_assert(cio_json_get(&root, key, &v), "a 301-byte key with an escape is found");
    cr_assert_eq(v.len, 1);
    cr_assert_eq(v.text[0], '1');
    key[300] = '\n';
    cr_assert(cio_json_get(&root, "x", &v));
    cr_assert(cio_json_string_is(&v, key), "a 301-byte value with an escape compares equal");
    key[300] = 'A';
    cr_assert_not(cio_json_string_is(&v, key), "the decoded last byte differs");
    key[299] = '\0';
    cr_assert_not(cio_json_string_is(&v, key), "a prefix is not equal");
}

/* Found by fuzz_json: a name with a backslash in it ("\u006b" as six characters) matched a
 * member spelt "\u006b" in the text, whose name is "k". */
Test(json, test_a_name_with_a_backslash_matches_only_its_own_decoding) {
    const char *text = "{\"k\":1,\"\\\\u006b\":false,\"\\u006b\":[3]}";
    cio_json_value_t root = scan_ok(text), v;
    cr_assert(cio_json_get(&root, "\\u006b", &v));
    cr_assert_eq(v.kind, CIO_JSON_FALSE);
    cr_assert(cio_json_get(&root, "k", &v));
    cr_assert_eq(v.kind, CIO_JSON_ARRAY, "the last \"k\" counts");
}
