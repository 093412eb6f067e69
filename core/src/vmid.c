/* SPDX-License-Identifier: MIT */
#include "rvm/vmid.h"

#include "rvm/bytes.h"

enum rvm_err rvm_vmid_init(struct rvm_vmid_table *t, struct rvm_witness_log *log,
                           const struct rvm_vmid_config *cfg)
{
    if (t == NULL || log == NULL || log->hal == NULL || cfg == NULL || cfg->bindings == NULL ||
        cfg->nvmids < 2 || cfg->nvmids > RVM_VMID_HW_MAX || cfg->ncpus == 0 ||
        cfg->ncpus > RVM_VMID_MAX_CPUS || cfg->ncpus >= cfg->nvmids - 1u ||
        cfg->max_partitions == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(t, 0, sizeof(*t));
    t->log = log;
    t->hal = log->hal;
    t->bindings = cfg->bindings;
    t->max_partitions = cfg->max_partitions;
    t->nvmids = cfg->nvmids;
    t->ncpus = cfg->ncpus;
    rvm_memset(cfg->bindings, 0, (size_t)cfg->max_partitions * sizeof(*cfg->bindings));
    return RVM_OK;
}

static inline bool binding_valid(const struct rvm_vmid_table *t, rvm_partition_id id,
                                 const struct rvm_vmid_binding *b)
{
    return b->vmid != 0 && b->vmid < t->nvmids && t->slots[b->vmid].owner == id &&
           t->slots[b->vmid].generation == b->generation;
}

uint16_t rvm_vmid_of(const struct rvm_vmid_table *t, rvm_partition_id id)
{
    if (id - 1u >= t->max_partitions) {
        return 0;
    }
    const struct rvm_vmid_binding *b = &t->bindings[id - 1u];
    return binding_valid(t, id, b) ? b->vmid : 0;
}

/*
 * Choose the slot for a partition without a binding: a clean free slot, else a dirty free one,
 * else the least recently activated owned one; never a slot loaded on a CPU. 0 when none.
 */
static uint16_t choose_victim(const struct rvm_vmid_table *t)
{
    uint32_t clean_free = 0;
    uint32_t dirty_free = 0;
    uint32_t lru = 0;
    for (uint32_t v = 1; v < t->nvmids; v++) { /* bound: nvmids <= 256 */
        const struct rvm_vmid_slot *sl = &t->slots[v];
        if (sl->loaded_mask != 0) {
            continue;
        }
        if (sl->owner == 0) {
            if (sl->dirty == 0) {
                clean_free = v;
                break;
            }
            if (dirty_free == 0) {
                dirty_free = v;
            }
        } else if (lru == 0 || sl->last_used < t->slots[lru].last_used) {
            lru = v;
        }
    }
    return (uint16_t)(clean_free != 0 ? clean_free : dirty_free != 0 ? dirty_free : lru);
}

__attribute__((noinline)) static enum rvm_err bind_new(struct rvm_vmid_table *t, uint32_t cpu,
                                                       rvm_partition_id id, uint16_t *vmid_out)
{
    uint16_t v = choose_victim(t);
    if (v == 0) {
        return RVM_ERR_VMID_BUSY;
    }
    struct rvm_vmid_slot *sl = &t->slots[v];
    rvm_partition_id old = sl->owner;
    bool flush = sl->dirty != 0;
    uint32_t gen = sl->generation + 1u;
#ifdef RVM_PLANTED_BUG_VMID_REUSE_NO_FLUSH
    /* Planted defect (test builds only, meson -Dplanted_bug=vmid_reuse_no_flush): a VMID changes
     * hands without the TLB invalidation, so the new owner can hit the previous owner's cached
     * translations. The simulator's isolation oracle (the platform's stale-TLB check) must find
     * this; the record still claims the invalidation happened. */
    bool planted_skip = flush;
    flush = false;
#endif

    const struct rvm_witness_entry e = {
        .kind = old != 0 ? RVM_ACT_VMID_RECLAIM : RVM_ACT_VMID_ASSIGN,
        .proof_tier = RVM_PROOF_NONE,
#ifdef RVM_PLANTED_BUG_VMID_REUSE_NO_FLUSH
        .flags = planted_skip ? RVM_VMID_FLAG_INVALIDATED : 0,
#else
        .flags = flush ? RVM_VMID_FLAG_INVALIDATED : 0,
#endif
        .actor = 0,
        .target = (uint64_t)gen << 32 | v,
        .cap_hash = 0,
        .payload = (uint64_t)id | (uint64_t)old << 32,
        .aux = cpu,
    };
    enum rvm_err err = rvm_witness_append(t->log, &e, NULL);
    if (err != RVM_OK) {
        return err;
    }
    if (flush) {
        t->hal->ops->tlb_invalidate_vmid(t->hal->ctx, v);
        sl->dirty = 0;
        t->stats.invalidations++;
    }
#ifdef RVM_PLANTED_BUG_VMID_REUSE_NO_FLUSH
    if (planted_skip) {
        sl->dirty = 0;
        t->stats.invalidations++;
    }
#endif
    if (old != 0) {
        t->bindings[old - 1u].vmid = 0;
        t->bindings[old - 1u].generation = 0;
        t->stats.reclaims++;
    } else {
        t->stats.assigns++;
    }
    sl->owner = id;
    sl->generation = gen;
    t->bindings[id - 1u].vmid = v;
    t->bindings[id - 1u].generation = gen;
    *vmid_out = v;
    return RVM_OK;
}

enum rvm_err rvm_vmid_activate(struct rvm_vmid_table *t, uint32_t cpu, rvm_partition_id id,
                               uint16_t *vmid_out)
{
    if (cpu >= t->ncpus || id - 1u >= t->max_partitions) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    const struct rvm_vmid_binding *b = &t->bindings[id - 1u];
    uint16_t v = b->vmid;
    t->stats.activations++;
    if (binding_valid(t, id, b)) {
        t->stats.hits++;
    } else {
        enum rvm_err err = bind_new(t, cpu, id, &v);
        if (err != RVM_OK) {
            return err;
        }
    }
    if (t->hal->ops->s2_activate(t->hal->ctx, cpu, id, v) != RVM_OK) {
        return RVM_ERR_HAL;
    }
    uint64_t bit = (uint64_t)1 << cpu;
    uint16_t prev = t->loaded[cpu];
    if (prev != 0) {
        t->slots[prev].loaded_mask &= ~bit;
    }
    struct rvm_vmid_slot *sl = &t->slots[v];
    t->loaded[cpu] = v;
    sl->loaded_mask |= bit;
    sl->dirty = 1;
    sl->last_used = ++t->clock;
    if (vmid_out != NULL) {
        *vmid_out = v;
    }
    return RVM_OK;
}

enum rvm_err rvm_vmid_cpu_offline(struct rvm_vmid_table *t, uint32_t cpu)
{
    if (cpu >= t->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint16_t prev = t->loaded[cpu];
    if (prev != 0) {
        t->slots[prev].loaded_mask &= ~((uint64_t)1 << cpu);
        t->loaded[cpu] = 0;
    }
    return RVM_OK;
}

enum rvm_err rvm_vmid_prepare_release(const struct rvm_vmid_table *t, uint32_t actor,
                                      rvm_partition_id id, struct rvm_witness_entry *e,
                                      struct rvm_vmid_release_plan *plan)
{
    rvm_memset(e, 0, sizeof(*e));
    e->kind = RVM_ACT_VMID_RELEASE;
    e->actor = actor;
    if (id - 1u >= t->max_partitions) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    const struct rvm_vmid_binding *b = &t->bindings[id - 1u];
    plan->id = id;
    plan->noop = !binding_valid(t, id, b);
    if (!plan->noop) {
        e->target = (uint64_t)b->generation << 32 | b->vmid;
        e->payload = id;
    }
    return RVM_OK;
}

void rvm_vmid_commit_release(struct rvm_vmid_table *t, const struct rvm_vmid_release_plan *plan)
{
    if (plan->noop) {
        return;
    }
    struct rvm_vmid_binding *b = &t->bindings[plan->id - 1u];
    struct rvm_vmid_slot *sl = &t->slots[b->vmid];
    sl->owner = 0;
    sl->generation++;
    b->vmid = 0;
    b->generation = 0;
}

enum rvm_err rvm_vmid_check(const struct rvm_vmid_table *t)
{
    if (t->nvmids < 2 || t->nvmids > RVM_VMID_HW_MAX || t->ncpus == 0 ||
        t->ncpus > RVM_VMID_MAX_CPUS || t->slots[0].owner != 0 || t->slots[0].loaded_mask != 0) {
        return RVM_ERR_INTERNAL;
    }
    for (uint32_t c = 0; c < t->ncpus; c++) { /* bound: ncpus <= 64 */
        if (t->loaded[c] >= t->nvmids) {
            return RVM_ERR_INTERNAL;
        }
    }
    uint32_t owned = 0;
    for (uint32_t v = 1; v < RVM_VMID_HW_MAX; v++) { /* bound: 256 */
        const struct rvm_vmid_slot *sl = &t->slots[v];
        uint64_t mask = 0;
        for (uint32_t c = 0; c < t->ncpus; c++) { /* bound: ncpus <= 64 */
            mask |= t->loaded[c] == v ? (uint64_t)1 << c : 0u;
        }
        if (sl->loaded_mask != mask || (v >= t->nvmids && (sl->owner != 0 || sl->dirty != 0)) ||
            sl->last_used > t->clock || (sl->loaded_mask != 0 && sl->dirty == 0)) {
            return RVM_ERR_INTERNAL;
        }
        if (sl->owner != 0) {
            if (sl->owner - 1u >= t->max_partitions) {
                return RVM_ERR_INTERNAL;
            }
            const struct rvm_vmid_binding *b = &t->bindings[sl->owner - 1u];
            if (b->vmid != v || b->generation != sl->generation) {
                return RVM_ERR_INTERNAL;
            }
            owned++;
        }
    }
    uint32_t bound = 0;
    for (uint32_t i = 0; i < t->max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_vmid_binding *b = &t->bindings[i];
        if (b->vmid == 0) {
            continue;
        }
        /* A slot that changes hands clears its previous owner's binding, so none is stale. */
        if (!binding_valid(t, i + 1u, b)) {
            return RVM_ERR_INTERNAL;
        }
        bound++;
    }
    if (owned != bound || t->stats.hits > t->stats.activations) {
        return RVM_ERR_INTERNAL;
    }
    return RVM_OK;
}

static void absorb_u64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    rvm_sha256_update_le64(ctx, v);
}

void rvm_vmid_hash(const struct rvm_vmid_table *t, struct rvm_sha256_ctx *ctx)
{
    static const uint8_t tag[8] = {'r', 'v', 'm', 'v', 'm', 'i', 'd', 0};
    rvm_sha256_update(ctx, tag, sizeof(tag));
    absorb_u64(ctx,
               (uint64_t)t->nvmids | (uint64_t)t->ncpus << 16 | (uint64_t)t->max_partitions << 32);
    absorb_u64(ctx, t->clock);
    for (uint32_t c = 0; c < t->ncpus; c++) { /* bound: ncpus <= 64 */
        absorb_u64(ctx, t->loaded[c]);
    }
    for (uint32_t v = 0; v < t->nvmids; v++) { /* bound: nvmids <= 256 */
        const struct rvm_vmid_slot *sl = &t->slots[v];
        absorb_u64(ctx, (uint64_t)sl->owner | (uint64_t)sl->generation << 32);
        absorb_u64(ctx, sl->last_used);
        absorb_u64(ctx, sl->loaded_mask);
        absorb_u64(ctx, sl->dirty);
    }
    for (uint32_t i = 0; i < t->max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_vmid_binding *b = &t->bindings[i];
        absorb_u64(ctx, (uint64_t)b->vmid | (uint64_t)b->generation << 32);
    }
}
