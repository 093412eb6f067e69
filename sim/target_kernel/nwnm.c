/* SPDX-License-Identifier: MIT */
/*
 * "No witness, no mutation", checked around every call into the kernel (own_nwnm). A call that
 * appended a record passes; while the sink takes everything, a call that appends nothing must be
 * one that records nothing by design (witness.unrecorded: the kernel witnesses every refusal
 * while the log has room). So the protected state is fingerprinted only around the calls that
 * may leave no record (time slices, one in NWNM_SLICE; interrupts; hypercalls; every call while
 * the log is short of room): the capability slots byte for byte against a copy taken before the
 * call, everything else rvm_kernel_summary covers by that summary, and one call in NWNM_FULL also
 * the full rvm_kernel_hash_ex(RVM_KHASH_NO_SCHED) through the engine's fast fingerprint
 * compression. Copying and comparing the slots costs a third of what mixing them into the
 * summary did (they were half of its cost), and the comparison is exact and covers every field of
 * a slot (MAC, links, epochs), all of which the full hash covers too, so it asks nothing the full
 * hash does not; the padding after a slot's MAC is no state and is not compared.
 *
 * "Short of room" is what lets a call be refused without a record (RVM_ERR_WITNESS_FULL): the
 * sink is not healthy and the log has no room left for the most records one call reserves
 * (kt_call_records) or for the checkpoints they could make due. While a stalled or partial sink
 * still leaves that much room, a call that appends nothing is witness.unrecorded exactly as
 * with a healthy sink, so no fingerprint is needed.
 */
#include "target_kernel_internal.h"

#include <stddef.h>
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

/* The reference the next call is compared with: the summary without the capability slots, and
 * the slots themselves. */
static void take_reference(struct kt *t)
{
    t->sref = rvm_kernel_summary_ex(&t->k, RVM_KSUMMARY_NO_CAP_SLOTS);
    /* slot by slot: a fixed-size copy the compiler inlines as vector moves (one memcpy of the
     * table is `rep movsb`, which callgrind counts byte by byte) */
    struct rvm_cap_slot *restrict ref = t->cap_ref;
    const struct rvm_cap_slot *restrict now = t->k.caps.slots;
    const uint32_t n = t->k.caps.capacity;
    for (uint32_t i = 0; i < n; i++) { /* bound: max_caps */
        memcpy(&ref[i], &now[i], sizeof(ref[i]));
    }
    t->sref_valid = true;
}

/* Does some capability slot's field differ from the reference? (The whole table compared first:
 * a slot's padding, which is no state, is looked at only when something differs.) */
static bool caps_changed(const struct kt *t)
{
    const struct rvm_cap_slot *now = t->k.caps.slots;
    const uint32_t n = t->k.caps.capacity;
    if (memcmp(t->cap_ref, now, (size_t)n * sizeof(*now)) == 0) {
        return false;
    }
    const size_t fields = offsetof(struct rvm_cap_slot, mac) + sizeof(now->mac);
    for (uint32_t i = 0; i < n; i++) { /* bound: max_caps */
        if (memcmp(&t->cap_ref[i], &now[i], fields) != 0) {
            return true;
        }
    }
    return false;
}

/* The most records one kernel call reserves: an epoch's (scheduler 1, coherence 3 and a degraded
 * transition 1, a carried-out decision 1, tiers 1, one per lease falling due, recovery 1, the
 * state digest 1), above every other entry point's. */
static uint64_t kt_call_records(const struct kt *t)
{
    return 9u + (uint64_t)t->cfg.max_devices;
}

/* May the log refuse the next call for want of room (and so the call leave no record)? */
static bool log_short(const struct kt *t)
{
    if (t->sim == NULL) {
        return true;
    }
    if (rvm_sim_sink_healthy(t->sim)) {
        return false;
    }
    const struct rvm_witness_log *log = &t->k.log;
    const uint64_t need = kt_call_records(t);
    const uint64_t ring_free = (uint64_t)log->ring_mask + 1u - (log->appended - log->drained);
    if (log->appended - log->drained > (uint64_t)log->ring_mask + 1u || ring_free < need) {
        return true;
    }
    const uint64_t every = log->checkpoint_interval;
    const uint64_t due = every == 0 ? 0 : (log->appended + need) / every - log->appended / every;
    return RVM_WITNESS_CHECKPOINT_SLOTS - log->pending_count < due;
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
    if (t->oracles && (may_skip || log_short(t))) {
        if (!t->sref_valid) {
            take_reference(t);
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
 * protected state leaves out unless they append a record, so while the log has room only one
 * in NWNM_SLICE is fingerprinted (every refusal would still have to be witnessed). */
void kt_nw_begin(struct kt *t, enum kt_bracket bracket)
{
    if (bracket != KT_SLICE) {
        begin(t, bracket == KT_MAY_SKIP);
        return;
    }
    bool sample = t->nw_slices++ % NWNM_SLICE == 0 || log_short(t);
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
                          "%s returned %s and appended no record although the log had room for "
                          "it",
                          what, rvm_err_name(err));
        t->ref_valid = t->sref_valid = false;
        return;
    }
    bool changed =
        rvm_kernel_summary_ex(&t->k, RVM_KSUMMARY_NO_CAP_SLOTS) != t->sref || caps_changed(t);
    if (changed) {
        take_reference(t);
    }
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
