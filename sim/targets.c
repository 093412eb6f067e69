/* SPDX-License-Identifier: MIT */
/*
 * The targets rvmsim knows. A new target (the kernel) is one line here plus its
 * sim/target_<name>.c; scenario files select it with `target <name>`.
 */
#include "target.h"

#include <string.h>

static const struct rvm_sim_target *const targets[] = {
    &rvm_sim_target_witness,
    &rvm_sim_target_kernel,
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

/* Tests may add one target of their own (a deliberately broken one, to prove an oracle works). */
static const struct rvm_sim_target *test_target;

void rvm_sim_target_register_test(const struct rvm_sim_target *t)
{
    test_target = t;
}

const struct rvm_sim_target *rvm_sim_target_at(size_t i)
{
    if (i < NTARGETS) {
        return targets[i];
    }
    return i == NTARGETS ? test_target : NULL;
}

const struct rvm_sim_target *rvm_sim_target_find(const char *name)
{
    for (size_t i = 0; rvm_sim_target_at(i) != NULL; i++) {
        if (strcmp(rvm_sim_target_at(i)->name, name) == 0) {
            return rvm_sim_target_at(i);
        }
    }
    return NULL;
}
