/* SPDX-License-Identifier: MIT */
#include "rvm/error.h"

#include <stddef.h>

struct error_entry {
    uint32_t code;
    const char *name;
    const char *message;
};

static const struct error_entry error_table[] = {
#define RVM_ERROR_ROW_(name, value, msg) {value, #name, msg},
    RVM_ERROR_LIST(RVM_ERROR_ROW_)
#undef RVM_ERROR_ROW_
};

#define ERROR_TABLE_LEN (sizeof(error_table) / sizeof(error_table[0]))

/* Linear scan: bounded by the table size, and only used on error and reporting paths. */
static const struct error_entry *error_lookup(uint32_t code)
{
    for (size_t i = 0; i < ERROR_TABLE_LEN; i++) {
        if (error_table[i].code == code) {
            return &error_table[i];
        }
    }
    return NULL;
}

const char *rvm_err_name(enum rvm_err err)
{
    const struct error_entry *e = error_lookup((uint32_t)err);
    return e != NULL ? e->name : "UNKNOWN";
}

const char *rvm_strerror(enum rvm_err err)
{
    const struct error_entry *e = error_lookup((uint32_t)err);
    return e != NULL ? e->message : "unknown error";
}

int rvm_err_is_known(uint32_t err)
{
    return error_lookup(err) != NULL;
}
