/* SPDX-License-Identifier: MIT */
/* What the engine reads of the kernel target: the state hash, the witness log, the queries. */
#include "target_kernel_internal.h"

void kt_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct kt *t = inst;
    rvm_kernel_hash(&t->k, ctx);
}

static void explore_u64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8u; i++) {
        b[i] = (uint8_t)(v >> (8u * i));
    }
    rvm_sha256_update(ctx, b, sizeof(b));
}

/*
 * Exploration's state: the kernel's tables (scheduler included, the log's history left out), what
 * of the log decides whether the next records fit (records waiting for the sink, the distance to
 * the next checkpoint, checkpoints queued), and the platform state the kernel's tables do not
 * determine: each CPU's translation registers, the last owner of each VMID and the TLB's
 * entries, which a missing invalidation leaves behind. Guest RAM contents are left out: no
 * oracle reads them.
 */
void kt_explore_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct kt *t = inst;
    const struct rvm_witness_log *log = &t->k.log;
    rvm_kernel_hash_ex(&t->k, ctx, RVM_KHASH_NO_LOG);
    explore_u64(ctx, log->appended - log->drained);
    explore_u64(ctx, log->next_checkpoint_at - log->appended);
    explore_u64(ctx, log->pending_count);
    const struct rvm_sim_platform *p = &t->plat;
    for (uint32_t c = 0; c < RVM_SIM_PLATFORM_MAX_CPUS; c++) { /* bound: platform CPUs */
        const struct rvm_sim_cpu *cpu = &p->cpu[c];
        explore_u64(ctx, (uint64_t)cpu->active << 48 | (uint64_t)cpu->vmid << 32 | cpu->part);
        explore_u64(ctx, cpu->vttbr);
        explore_u64(ctx, p->running[c]);
        rvm_sha256_update(ctx, (const uint8_t *)&cpu->pmp, sizeof(cpu->pmp));
    }
    for (uint32_t v = 0; v < RVM_A64_VMID_COUNT; v++) { /* bound: hardware VMIDs */
        explore_u64(ctx, p->vmid_owner[v]);
    }
    explore_u64(ctx, p->tlb.next_victim);
    for (uint32_t i = 0; i < p->tlb.capacity; i++) { /* bound: TLB entries */
        const struct rvm_a64_tlb_entry *e = &p->tlb.entries[i];
        if (e->valid) {
            explore_u64(ctx, i);
            explore_u64(ctx, e->ipa_page);
            explore_u64(ctx, e->oa_page);
            explore_u64(ctx, (uint64_t)e->vmid << 16 | (uint64_t)e->perms << 8 | e->level);
        }
    }
}

struct rvm_witness_log *kt_witness(void *inst)
{
    struct kt *t = inst;
    return &t->k.log;
}

/* The coherence engine's side of the last good cut for partition `id` (enum rvm_mincut_side). */
static uint64_t cut_side(const struct rvm_kernel *k, rvm_partition_id id)
{
    uint32_t slot;
    if (k->cfg.coherence_nodes == 0 || !k->coh.have_cut ||
        rvm_graph_find(&k->coh.graph, id, &slot) != RVM_OK) {
        return RVM_MINCUT_SIDE_NONE;
    }
    return k->coh.cut_side[slot];
}

/* A query about one object; `obj` is live in its class (checked by the caller). */
static uint64_t object_query(const struct kt *t, uint32_t q, uint64_t obj)
{
    const struct rvm_kernel *k = &t->k;
    const struct rvm_handle h = H(obj);
    const rvm_partition_id id = h.index + 1u;
    const bool coh = k->cfg.coherence_nodes != 0;
    switch (q) {
    case Q_PART_STATE:
        return k->parts[h.index].state;
    case Q_PART_SIDE:
        return cut_side(k, id);
    case Q_PART_SCORE:
        return coh ? rvm_coherence_score(&k->coh, id) : RVM_BP_ONE;
    case Q_PART_PRESSURE:
        return coh ? rvm_coherence_pressure(&k->coh, id) : 0;
    case Q_PART_VMID:
        return rvm_vmid_of(&k->vmids, id);
    case Q_CAP_LIVE:
        return 1;
    case Q_CAP_RIGHTS:
        return k->caps.slots[h.index].rights;
    case Q_CAP_DEPTH:
        return k->caps.slots[h.index].depth;
    case Q_CAP_HOLDER:
        return k->caps.slots[h.index].owner;
    case Q_REGION_TIER:
        return k->regions.slots[h.index].tier.tier;
    case Q_REGION_MAPPED:
        return k->regions.slots[h.index].mapped;
    default: /* Q_CHAN_LENGTH */
        return k->chans[h.index].count;
    }
}

uint64_t kt_query(const void *inst, uint32_t q, uint64_t obj)
{
    const struct kt *t = inst;
    if (q >= Q_PART_STATE && q < NQUERIES) {
        int32_t cls = kt_query_cls[q];
        if (!kt_live(t, (uint32_t)cls, obj)) {
            return q == Q_CAP_LIVE ? 0 : KT_Q_DEAD;
        }
        return object_query(t, q, obj);
    }
    const struct rvm_kernel *k = &t->k;
    uint64_t n = 0;
    switch (q) {
    case Q_PARTITIONS:
    case Q_RUNNING:
    case Q_SUSPENDED:
    case Q_HIBERNATED:
    case Q_FAULTS:
        for (uint32_t i = 0; i < t->cfg.max_partitions; i++) {
            uint8_t st = k->parts[i].state;
            n += q == Q_PARTITIONS   ? st != RVM_KPART_FREE
                 : q == Q_RUNNING    ? st == RVM_KPART_RUNNING
                 : q == Q_SUSPENDED  ? st == RVM_KPART_SUSPENDED
                 : q == Q_HIBERNATED ? st == RVM_KPART_HIBERNATED
                                     : (st != RVM_KPART_FREE ? k->parts[i].faults : 0);
        }
        return n;
    case Q_REGIONS:
        return k->regions.count;
    case Q_MAPPED:
        for (uint32_t i = 0; i < k->regions.capacity; i++) {
            n += k->regions.slots[i].used && k->regions.slots[i].mapped;
        }
        return n;
    case Q_CHANNELS:
    case Q_MESSAGES:
        for (uint32_t i = 0; i < t->cfg.max_channels; i++) {
            n += q == Q_CHANNELS ? k->chans[i].used : (k->chans[i].used ? k->chans[i].count : 0);
        }
        return n;
    case Q_DEVICES:
    case Q_LEASES:
    case Q_NOTIFICATIONS:
        for (uint32_t i = 0; i < t->cfg.max_devices; i++) {
            n += q == Q_DEVICES  ? k->devs[i].used
                 : q == Q_LEASES ? k->devs[i].leased
                                 : k->devs[i].delivered;
        }
        return n;
    case Q_CAPS:
        return k->caps.live;
    case Q_CAP_EPOCH:
        return k->caps.epoch;
    case Q_EPOCHS:
        return k->epoch;
    case Q_RECOVERY:
        return k->recovery_left;
    case Q_FREE_PAGES:
        return rvm_buddy_free_pages(&k->ram);
    case Q_STORE:
        return k->store_used;
    case Q_HYPERCALLS:
        return k->hypercalls;
    case Q_GUEST_FAULTS:
        return t->plat.guest_faults;
    case Q_GUEST_ACCESSES:
        return t->guest_accesses;
    case Q_TLB_FLUSHES:
        return k->vmids.stats.invalidations;
    case Q_VMID_RECLAIMS:
        return k->vmids.stats.reclaims;
    case Q_DISPATCHES:
        for (uint32_t c = 0; c < t->ncpus; c++) {
            n += k->cpus[c].switches;
        }
        return n;
    case Q_LAST_CLASS:
        return t->last_class;
    case Q_LAST_RELEASED:
        return t->last_released;
    case Q_BOOTED:
        return rvm_kernel_booted(k);
    case Q_CHECKS:
        return t->checks;
    case Q_FINGERPRINTS:
        return t->fingerprints;
    case Q_HOSTILE:
        return t->hostile;
    case Q_CUT_VALUE:
        return k->cfg.coherence_nodes != 0 && k->coh.have_cut ? k->coh.cut.value : 0;
    case Q_CUT_SIDE_A:
        return k->cfg.coherence_nodes != 0 && k->coh.have_cut ? k->coh.cut.side_a : 0;
    case Q_CUT_EPOCH:
        return k->cfg.coherence_nodes != 0 && k->coh.have_cut ? k->coh.cut_epoch : 0;
    case Q_DEGRADED:
        return k->sched.degraded;
    default:
        return 0;
    }
}
