/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer (host/json.c). Independent expectations: every expected text is written out
 * by hand here from RFC 8259 (escapes, separators) and RFC 3629 (which byte sequences are
 * UTF-8); the pytest suite additionally parses every command's --json with Python's json.
 */
#include "test_support.h"

#include "json.h"

#include <stdbool.h>

struct capture {
    char *text;
    size_t len;
    FILE *f;
    struct rvm_json j;
};

static void capture_open(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    assert_non_null(c->f);
    rvm_json_init(&c->j, c->f);
}

/* Closes the stream and compares the whole output with `expected`. */
static void capture_expect(struct capture *c, const char *expected, bool ok)
{
    bool was_ok = rvm_json_ok(&c->j);
    fclose(c->f);
    assert_string_equal(c->text, expected);
    assert_int_equal(was_ok, ok);
    free(c->text);
}

static void test_nested_object(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c);
    struct rvm_json *j = &c.j;
    rvm_json_object_begin(j);
    rvm_json_key_int(j, "run", 3);
    rvm_json_key_u64(j, "seed", UINT64_MAX);
    rvm_json_key_i64(j, "neg", INT64_MIN);
    rvm_json_key(j, "outcome");
    rvm_json_object_begin(j);
    rvm_json_key_string(j, "reason", "ok");
    rvm_json_key_null(j, "invariant");
    rvm_json_object_end(j);
    rvm_json_key(j, "seeds");
    rvm_json_array_begin(j);
    rvm_json_u64(j, 1);
    rvm_json_u64(j, 2);
    rvm_json_array_begin(j);
    rvm_json_array_end(j);
    rvm_json_object_begin(j);
    rvm_json_object_end(j);
    rvm_json_array_end(j);
    rvm_json_key_bool(j, "t", true);
    rvm_json_key_bool(j, "f", false);
    static const uint8_t bytes[] = {0x00, 0xab, 0xff};
    rvm_json_key_hex(j, "digest", bytes, sizeof(bytes));
    rvm_json_key_hex(j, "empty", bytes, 0);
    rvm_json_object_end(j);
    rvm_json_newline(j);
    capture_expect(&c,
                   "{\"run\":3,\"seed\":\"18446744073709551615\",\"neg\":\"-9223372036854775808\","
                   "\"outcome\":{\"reason\":\"ok\",\"invariant\":null},"
                   "\"seeds\":[\"1\",\"2\",[],{}],\"t\":true,\"f\":false,"
                   "\"digest\":\"00abff\",\"empty\":\"\"}\n",
                   true);
}

static void test_string_escapes(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c);
    static const char raw[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f"
                              "e";
    rvm_json_string_n(&c.j, raw, sizeof(raw) - 1);
    capture_expect(&c,
                   "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f"
                   "e\"",
                   true);

    /* an embedded NUL is kept (escaped) when the length is given */
    capture_open(&c);
    rvm_json_string_n(&c.j, "a\0b", 3);
    capture_expect(&c, "\"a\\u0000b\"", true);

    capture_open(&c);
    rvm_json_string(&c.j, NULL);
    capture_expect(&c, "null", true);

    /* keys are escaped the same way */
    capture_open(&c);
    rvm_json_object_begin(&c.j);
    rvm_json_key_int(&c.j, "k\"\n", 0);
    rvm_json_object_end(&c.j);
    capture_expect(&c, "{\"k\\\"\\n\":0}", true);
}

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *in;
        const char *out;
    } cases[] = {
        /* valid: 2-, 3- and 4-byte forms, the edges of each range */
        {"\xc3\xa9", "\"\xc3\xa9\""},
        {"\xe2\x82\xac", "\"\xe2\x82\xac\""},
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
        {"\xed\x9f\xbf", "\"\xed\x9f\xbf\""},         /* U+D7FF */
        {"\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""}, /* U+10FFFF */
        /* invalid: lone continuation, overlong, surrogate, above U+10FFFF, truncated, 0xff */
        {"\x80", "\"\\ufffd\""},
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},
        {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
        {"a\xe2\x82", "\"a\\ufffd\\ufffd\""},
        {"\xff"
         "b",
         "\"\\ufffdb\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture c;
        capture_open(&c);
        rvm_json_string(&c.j, cases[i].in);
        capture_expect(&c, cases[i].out, true);
    }
}

static void test_numbers(void **state)
{
    (void)state;
    struct {
        double v;
        const char *out;
    } cases[] = {
        {0.0, "0"},
        {1.5, "1.5"},
        {-2.0, "-2"},
        {0.1, "0.1"},
        {1e300, "1e+300"},
        {123456789.125, "123456789.125"},
        {1.0 / 3.0, "0.3333333333333333"} /* Python: repr(1/3) */,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture c;
        capture_open(&c);
        rvm_json_double(&c.j, cases[i].v);
        capture_expect(&c, cases[i].out, true);
    }
    struct capture c;
    capture_open(&c);
    rvm_json_array_begin(&c.j);
    rvm_json_double(&c.j, 0.0 / 0.0);
    rvm_json_double(&c.j, 1.0 / 0.0);
    rvm_json_int(&c.j, -7);
    rvm_json_int(&c.j, 9007199254740991);
    rvm_json_array_end(&c.j);
    capture_expect(&c, "[null,null,-7,9007199254740991]", true);
}

static void test_misuse(void **state)
{
    (void)state;
    struct capture c;

    /* a value where a key is due: nothing more is written */
    capture_open(&c);
    rvm_json_object_begin(&c.j);
    rvm_json_int(&c.j, 1);
    rvm_json_object_end(&c.j);
    capture_expect(&c, "{", false);

    /* a key in an array */
    capture_open(&c);
    rvm_json_array_begin(&c.j);
    rvm_json_key(&c.j, "k");
    capture_expect(&c, "[", false);

    /* mismatched end */
    capture_open(&c);
    rvm_json_array_begin(&c.j);
    rvm_json_object_end(&c.j);
    capture_expect(&c, "[", false);

    /* a key without its value */
    capture_open(&c);
    rvm_json_object_begin(&c.j);
    rvm_json_key(&c.j, "k");
    rvm_json_object_end(&c.j);
    capture_expect(&c, "{\"k\":", false);

    /* unclosed document, and a newline inside a container */
    capture_open(&c);
    rvm_json_array_begin(&c.j);
    rvm_json_newline(&c.j);
    capture_expect(&c, "[", false);

    /* end without begin */
    capture_open(&c);
    rvm_json_object_end(&c.j);
    capture_expect(&c, "", false);

    /* nesting beyond the limit */
    capture_open(&c);
    for (int i = 0; i < RVM_JSON_MAX_DEPTH + 1; i++) {
        rvm_json_array_begin(&c.j);
    }
    fclose(c.f);
    assert_int_equal(strlen(c.text), RVM_JSON_MAX_DEPTH);
    assert_false(rvm_json_ok(&c.j));
    free(c.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_object), cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_utf8),          cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
