/* SPDX-License-Identifier: MIT */
/*
 * kernel.digest-incremental: the incremental state digest's trees agree with a from-scratch
 * recomputation (rvm_kernel_digest_verify: every slot whose bytes still equal its shadow has the
 * leaf computed now, every interior node hashes its children). Run with every full check, so at
 * least every CHECK_EVERY steps and at the end of every run. A change the change test misses
 * leaves a stale leaf behind a matching shadow, which this finds before the next epoch's digest
 * would carry it into the log.
 */
#include "target_kernel_internal.h"

#include <stdio.h>

static const char *const table_names[RVM_KDIGEST_TABLES] = {
    "caps", "nonces", "buddy", "regions", "partitions", "channels", "devices", "images"};

bool kt_check_digest(const struct kt *t, struct rvm_sim_verdict *v)
{
    uint32_t table = 0;
    uint32_t slot = 0;
    if (rvm_kernel_digest_verify(&t->k, &table, &slot) == RVM_OK) {
        return true;
    }
    v->invariant = "kernel.digest-incremental";
    const char *name = table < RVM_KDIGEST_TABLES ? table_names[table] : "?";
    if (slot == UINT32_MAX) {
        snprintf(v->detail, sizeof(v->detail),
                 "the %s tree has an interior node that is not the hash of its children", name);
    } else {
        snprintf(v->detail, sizeof(v->detail),
                 "%s slot %u: its leaf differs from a from-scratch recomputation while its shadow "
                 "matches (a change the incremental digest missed)",
                 name, slot);
    }
    return false;
}
