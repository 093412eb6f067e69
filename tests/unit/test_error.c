/* SPDX-License-Identifier: MIT */
/*
 * The error name and message tables (rvm/error.h): a listed code's name and message, as the list
 * spells them, and the documented "UNKNOWN" / "unknown error" for codes outside the list.
 */
#include "test_support.h"

#include "rvm/error.h"

#include <string.h>

static void test_listed_codes(void **state)
{
    (void)state;
    assert_string_equal(rvm_err_name(RVM_OK), "OK");
    assert_string_equal(rvm_strerror(RVM_OK), "success");
    assert_string_equal(rvm_err_name(RVM_ERR_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(rvm_strerror(RVM_ERR_INVALID_ARGUMENT), "invalid argument");
    assert_string_equal(rvm_err_name(RVM_ERR_CAP_RIGHTS), "CAP_RIGHTS");
}

static void test_codes_outside_the_list(void **state)
{
    (void)state;
    /* the last value of the general block (0x000..0x01F) is not assigned, nor is 0xFFFF */
    const uint32_t unlisted[] = {0x01Fu, 0xFFFFu};
    for (size_t i = 0; i < sizeof(unlisted) / sizeof(unlisted[0]); i++) {
        assert_string_equal(rvm_err_name((enum rvm_err)unlisted[i]), "UNKNOWN");
        assert_string_equal(rvm_strerror((enum rvm_err)unlisted[i]), "unknown error");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_codes),
        cmocka_unit_test(test_codes_outside_the_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
