/* SPDX-License-Identifier: MIT */
#include "rvm/action.h"

#include <stddef.h>

const char *rvm_action_name(uint8_t kind)
{
    switch (kind) {
#define RVM_ACTION_CASE_(name, code, display)                                                      \
    case code:                                                                                     \
        return display;
        RVM_ACTION_LIST(RVM_ACTION_CASE_)
#undef RVM_ACTION_CASE_
    default:
        return NULL;
    }
}
