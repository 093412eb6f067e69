/* SPDX-License-Identifier: MIT */
/*
 * "No witness, no mutation", checked around every call into the kernel (own_nwnm). A call that
 * appended a record passes; while the sink takes everything, a call that appends nothing must be
 * one that records nothing by design (witness.unrecorded: the kernel witnesses every refusal
 * while the log has room). So the protected state is fingerprinted only around the calls that
 * may leave no record (time slices, one in NWNM_SLICE; interrupts; hypercalls; every call while
 * the log is short of room): the capability and region tables (slots, the kernel's per-region
 * records and the tables' own counters) byte for byte against a copy taken before the call,
 * everything else rvm_kernel_summary covers by that summary, and one call in NWNM_FULL (the
 * NWNM_FULL-th, 2 * NWNM_FULL-th, ... of a run) also the full
 * rvm_kernel_hash_ex(RVM_KHASH_NO_SCHED) through the engine's fast fingerprint compression, less
 * the tables compared byte for byte (RVM_KHASH_NO_CAPS_REGIONS: the capability table was half its
 * cost). Copying and comparing those tables costs a third of what mixing them into the summary did
 * (they were two thirds of its cost), and the comparison is exact and covers every field the full
 * hash covers (a capability's MAC, links and epochs, a region's source and checkpoint hash, the
 * tables' counters, the key's length, the tier policy); the padding after a slot's last field,
 * the reserved bytes and the tables' pointers and key are not compared.
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

#define COPY_PIECE 1024u

static void fingerprint(struct kt *t, uint32_t out[FP_WORDS])
{
    struct rvm_sha256_ctx ctx;
    uint8_t d[RVM_SHA256_DIGEST_BYTES];
    rvm_sha256_init(&ctx, &t->fp);
    rvm_kernel_hash_ex(&t->k, &ctx, RVM_KHASH_NO_SCHED | RVM_KHASH_NO_CAPS_REGIONS);
    rvm_sha256_final(&ctx, d);
    memcpy(out, d, sizeof(d));
    t->fingerprints++;
}

/* The tables compared byte for byte instead of summarised: where each one's slots are, how many,
 * their size, and the bytes of a slot that are no state (padding, and the reserved bytes the full
 * hash leaves out: a split keeps its scratch decisions in a kreg's reserved[0] while it runs). */
enum { REF_CAPS, REF_REGIONS, REF_KREGS, REF_CAP_HEADER, REF_REGION_HEADER, REF_TABLES };

#define REF_HOLES 3u

struct ref_hole {
    size_t at, len;
};

struct ref_table {
    const uint8_t *live;
    size_t n, stride;
    struct ref_hole hole[REF_HOLES]; /* ascending; unused ones at the slot's end, empty */
};

static void ref_tables(const struct kt *t, struct ref_table out[REF_TABLES])
{
    const struct rvm_kernel *k = &t->k;
    const size_t cap_fields = offsetof(struct rvm_cap_slot, mac) + RVM_CAP_MAC_BYTES;
    const size_t cap = sizeof(struct rvm_cap_slot);
    out[REF_CAPS] = (struct ref_table){
        (const uint8_t *)k->caps.slots,
        k->caps.capacity,
        cap,
        {{cap_fields, cap - cap_fields}, {cap, 0}, {cap, 0}},
    };
    const size_t reg = sizeof(struct rvm_region);
    out[REF_REGIONS] = (struct ref_table){
        (const uint8_t *)k->regions.slots,
        k->regions.capacity,
        reg,
        {{offsetof(struct rvm_region, reserved), sizeof(k->regions.slots->reserved)},
         {offsetof(struct rvm_region, tier) + offsetof(struct rvm_tier_state, reserved), 1},
         {offsetof(struct rvm_region, reserved2), reg - offsetof(struct rvm_region, reserved2)}},
    };
    const size_t kreg_fields = offsetof(struct rvm_kreg, ckpt) + sizeof(uint32_t);
    const size_t kreg = sizeof(struct rvm_kreg);
    out[REF_KREGS] = (struct ref_table){
        (const uint8_t *)k->kregs,
        k->regions.capacity,
        kreg,
        {{offsetof(struct rvm_kreg, reserved), sizeof(k->kregs->reserved)},
         {kreg_fields, kreg - kreg_fields},
         {kreg, 0}},
    };
    /* The tables' own fields the full hash covers with them (the counters, epochs, the key's
     * length, the tier policy); the pointers, the key and its schedule are left out. */
    const size_t ct = sizeof(struct rvm_cap_table);
    const size_t ct_counters = offsetof(struct rvm_cap_table, capacity);
    const size_t ct_counters_end = offsetof(struct rvm_cap_table, epoch_floor) + sizeof(uint32_t);
    const size_t ct_key_len = offsetof(struct rvm_cap_table, mac_key_len);
    out[REF_CAP_HEADER] = (struct ref_table){
        (const uint8_t *)&k->caps,
        1,
        ct,
        {{0, ct_counters},
         {ct_counters_end, ct_key_len - ct_counters_end},
         {ct_key_len + sizeof(uint32_t), ct - ct_key_len - sizeof(uint32_t)}},
    };
    const size_t rt = sizeof(struct rvm_region_table);
    const size_t rt_fields = offsetof(struct rvm_region_table, capacity);
    const size_t rt_end = offsetof(struct rvm_region_table, policy) + sizeof(k->regions.policy);
    out[REF_REGION_HEADER] = (struct ref_table){
        (const uint8_t *)&k->regions,
        1,
        rt,
        {{0, rt_fields}, {rt_end, rt - rt_end}, {rt, 0}},
    };
}

/* Do the state bytes of slot `a` and `b` of `tab` differ? */
static bool slot_differs(const struct ref_table *tab, const uint8_t *a, const uint8_t *b)
{
    size_t from = 0;
    for (uint32_t h = 0; h < REF_HOLES; h++) { /* bound: REF_HOLES */
        if (memcmp(a + from, b + from, tab->hole[h].at - from) != 0) {
            return true;
        }
        from = tab->hole[h].at + tab->hole[h].len;
    }
    return memcmp(a + from, b + from, tab->stride - from) != 0;
}

size_t kt_nw_copy_bytes(const struct rvm_kernel_config *cfg)
{
    return (size_t)cfg->max_caps * sizeof(struct rvm_cap_slot) +
           (size_t)cfg->max_regions * (sizeof(struct rvm_region) + sizeof(struct rvm_kreg)) +
           sizeof(struct rvm_cap_table) + sizeof(struct rvm_region_table);
}

/* The reference the next call is compared with: the summary of what the tables above leave out,
 * and a copy of those tables. */
static void take_reference(struct kt *t)
{
    t->sref =
        rvm_kernel_summary_ex(&t->k, RVM_KSUMMARY_NO_CAP_SLOTS | RVM_KSUMMARY_NO_REGION_SLOTS);
    struct ref_table tab[REF_TABLES];
    ref_tables(t, tab);
    uint8_t *copy = t->nw_copy;
    for (uint32_t i = 0; i < REF_TABLES; i++) { /* bound: REF_TABLES */
        const size_t bytes = tab[i].n * tab[i].stride;
        /* in 1 KiB pieces: glibc copies a whole table with `rep movsb`, which callgrind counts
         * byte by byte; a piece the compiler inlines as `rep movsq` counts 8 bytes per step (a
         * 64-byte piece, inlined as vector moves, costs more instructions and was no faster) */
        for (size_t at = 0; at < bytes; at += COPY_PIECE) { /* bound: bytes / COPY_PIECE */
            memcpy(copy + at, tab[i].live + at, bytes - at < COPY_PIECE ? bytes - at : COPY_PIECE);
        }
        copy += bytes;
    }
    t->sref_valid = true;
}

/* Does some field of a compared table differ from the reference? Each table is compared whole
 * first; where that differs, slot by slot without the holes, and `*moved` says that some byte
 * moved (a new reference is due even if no field changed). */
static bool tables_changed(const struct kt *t, bool *moved)
{
    struct ref_table tab[REF_TABLES];
    ref_tables(t, tab);
    const uint8_t *copy = t->nw_copy;
    *moved = false;
    for (uint32_t i = 0; i < REF_TABLES; i++) { /* bound: REF_TABLES */
        const size_t bytes = tab[i].n * tab[i].stride;
        if (memcmp(copy, tab[i].live, bytes) != 0) {
            *moved = true;
            for (size_t s = 0; s < bytes; s += tab[i].stride) { /* bound: the table's slots */
                if (slot_differs(&tab[i], copy + s, tab[i].live + s)) {
                    return true;
                }
            }
        }
        copy += bytes;
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
        /* the last of every NWNM_FULL, not the first: a run's first bracket would otherwise
         * always pay for one, whatever the run's length */
        t->nw_full = t->nw_calls++ % NWNM_FULL == NWNM_FULL - 1u;
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
    bool moved = false;
    bool changed = rvm_kernel_summary_ex(&t->k, RVM_KSUMMARY_NO_CAP_SLOTS |
                                                    RVM_KSUMMARY_NO_REGION_SLOTS) != t->sref ||
                   tables_changed(t, &moved);
    if (changed || moved) {
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
