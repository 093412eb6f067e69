/* SPDX-License-Identifier: MIT */
/*
 * "No witness, no mutation", checked around every call into the kernel (own_nwnm). A call that
 * appended a record passes; while the sink takes everything, a call that appends nothing must be
 * one that records nothing by design (witness.unrecorded: the kernel witnesses every refusal
 * while the log has room). So the protected state is fingerprinted only around the calls that
 * may leave no record (time slices, one in NWNM_SLICE; interrupts; hypercalls; every call while
 * the sink is not healthy): rvm_kernel_summary, and one call in NWNM_FULL also the full
 * rvm_kernel_hash_ex(RVM_KHASH_NO_SCHED) through the engine's fast fingerprint compression.
 */
#include "target_kernel_internal.h"

#include <string.h>

static void fingerprint(struct kt *t, uint32_t out[FP_WORDS])
{
    struct rvm_sha256_ctx ctx;
    uint8_t d[RVM_SHA256_DIGEST_BYTES];
    rvm_sha256_init(&ctx, &t->fp);
    rvm_kernel_hash_ex(&t->k, &ctx, RVM_KHASH_NO_SCHED);
    rvm_sha256_final(&ctx, d);
    memcpy(out, d, sizeof(d));
    t->fingerprints++;
}

/* `may_skip`: this call may legitimately append nothing (a time slice, an interrupt nobody owns,
 * a hypercall that records nothing). */
static void begin(struct kt *t, bool may_skip)
{
    t->nw_skip_ok = false;
    t->nunmapped = 0;
    t->nw_appended = t->k.log.appended;
    t->nw_have = false;
    t->nw_full = false;
    if (t->oracles && (may_skip || t->sim == NULL || !rvm_sim_sink_healthy(t->sim))) {
        if (!t->sref_valid) {
            t->sref = rvm_kernel_summary(&t->k);
            t->sref_valid = true;
        }
        t->nw_have = true;
        t->nw_full = t->nw_calls++ % NWNM_FULL == 0;
        if (t->nw_full && !t->ref_valid) {
            fingerprint(t, t->ref);
            t->ref_valid = true;
        }
    }
}

/* A timer interrupt is a time slice (the epoch pipeline when due). Slices change only what the
 * protected state leaves out unless they append a record, so while the sink is healthy only one
 * in NWNM_SLICE is fingerprinted (every refusal would still have to be witnessed). */
void kt_nw_begin(struct kt *t, enum kt_bracket bracket)
{
    if (bracket != KT_SLICE) {
        begin(t, bracket == KT_MAY_SKIP);
        return;
    }
    bool sample =
        t->nw_slices++ % NWNM_SLICE == 0 || t->sim == NULL || !rvm_sim_sink_healthy(t->sim);
    begin(t, sample);
    t->nw_skip_ok = !sample;
}

void kt_nw_end(struct kt *t, const char *what, enum rvm_err err)
{
    if (!t->oracles || t->k.log.appended != t->nw_appended) {
        t->ref_valid = t->sref_valid = false;
        return;
    }
    if (!t->nw_have && t->nw_skip_ok) {
        t->ref_valid = t->sref_valid = false; /* an unsampled time slice */
        return;
    }
    if (!t->nw_have) {
        rvm_sim_violation(t->sim, "witness.unrecorded",
                          "%s returned %s and appended no record although the sink takes every "
                          "record",
                          what, rvm_err_name(err));
        t->ref_valid = t->sref_valid = false;
        return;
    }
    uint64_t now = rvm_kernel_summary(&t->k);
    bool changed = now != t->sref;
    t->sref = now;
    if (t->nw_full) {
        uint32_t full[FP_WORDS];
        fingerprint(t, full);
        changed = changed || memcmp(full, t->ref, sizeof(full)) != 0;
        memcpy(t->ref, full, sizeof(full));
    } else {
        t->ref_valid = false; /* the full reference is not known to be current any more */
    }
    if (changed) {
        rvm_sim_violation(t->sim, "no-witness-no-mutation",
                          "%s (%s) changed the protected kernel state without appending a "
                          "witness record",
                          what, rvm_err_name(err));
    }
}
