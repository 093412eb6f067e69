/* SPDX-License-Identifier: MIT */
/*
 * kernel.digest-incremental: the incremental state digest's trees agree with a from-scratch
 * recomputation. A change the change test misses leaves a stale leaf behind a matching shadow,
 * which this finds before the next epoch's digest would carry it into the log. Only the channel
 * and image leaves cover bytes outside their shadow, so only they can go stale while the change
 * test is right: rvm_kernel_digest_verify_outside_shadow (a channel's payloads and an image's store
 * bytes compared with the sum taken with its leaf) runs at every full check. The whole check
 * (every leaf, every interior node: rvm_kernel_digest_verify) runs with `whole`, which the caller
 * sets on every DIGEST_CHECK_EVERY-th full check and at the end of every run.
 */
#include "target_kernel_internal.h"

#include <stdio.h>

static const char *const table_names[RVM_KDIGEST_TABLES] = {
    "caps", "nonces", "buddy", "regions", "partitions", "channels", "devices", "images"};

bool kt_check_digest(const struct kt *t, struct rvm_sim_verdict *v, bool whole)
{
    uint32_t table = 0;
    uint32_t slot = 0;
    const enum rvm_err err = whole ? rvm_kernel_digest_verify(&t->k, &table, &slot)
                                   : rvm_kernel_digest_verify_outside_shadow(&t->k, &table, &slot);
    if (err == RVM_OK) {
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
