/* SPDX-License-Identifier: MIT */
#include "replayer.h"

#include <string.h>

#define REGISTERED_MAX 8

/* Host-side registry (not core code): filled before commands run, read afterwards. */
static const struct rvm_replayer *registered[REGISTERED_MAX];
static size_t nregistered;

bool rvm_replayer_register(const struct rvm_replayer *r)
{
    if (nregistered == REGISTERED_MAX || r == NULL || r->source == NULL || r->replay == NULL) {
        return false;
    }
    registered[nregistered++] = r;
    return true;
}

const struct rvm_replayer *rvm_replayer_find(const char *source)
{
    if (source == NULL) {
        return NULL;
    }
    for (size_t i = nregistered; i > 0; i--) {
        if (strcmp(registered[i - 1]->source, source) == 0) {
            return registered[i - 1];
        }
    }
    return NULL;
}
