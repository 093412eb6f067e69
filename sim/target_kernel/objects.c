/* SPDX-License-Identifier: MIT */
/*
 * Objects: liveness read straight from the kernel's tables, the registry of what the engine knows
 * as live, handles, capabilities found by holder and object, and the picks fault injection makes
 * (a live partition, a busy CPU, a held or a certainly dead handle).
 */
#include "target_kernel_internal.h"

#include "rvm/action.h"

/* The generation slot `i` of class `c` holds while live, or 0 when it is free. */
static uint32_t slot_gen(const struct kt *t, uint32_t c, uint32_t i)
{
    const struct rvm_kernel *k = &t->k;
    switch (c) {
    case CLS_PARTITION:
        return k->parts[i].state != RVM_KPART_FREE ? k->parts[i].generation : 0;
    case CLS_REGION:
        return k->regions.slots[i].used ? k->regions.slots[i].generation : 0;
    case CLS_CHANNEL:
        return k->chans[i].used ? k->chans[i].generation : 0;
    case CLS_DEVICE:
        return k->devs[i].used ? k->devs[i].generation : 0;
    default:
        return (k->caps.slots[i].generation & 1u) != 0 ? k->caps.slots[i].generation : 0;
    }
}

/* Any generation the slot has (live or the next occupant's): for the monotonicity oracle. */
uint32_t kt_slot_any_gen(const struct kt *t, uint32_t c, uint32_t i)
{
    const struct rvm_kernel *k = &t->k;
    switch (c) {
    case CLS_PARTITION:
        return k->parts[i].generation;
    case CLS_REGION:
        return k->regions.slots[i].generation;
    case CLS_CHANNEL:
        return k->chans[i].generation;
    case CLS_DEVICE:
        return k->devs[i].generation;
    default:
        return k->caps.slots[i].generation;
    }
}

bool kt_live(const struct kt *t, uint32_t c, uint64_t handle)
{
    if (handle == RVM_SIM_NO_OBJECT || handle == RVM_SIM_UNBOUND_OBJECT) {
        return false;
    }
    struct rvm_handle h = H(handle);
    return h.index < t->nslots[c] && h.generation != 0 && slot_gen(t, c, h.index) == h.generation;
}

struct rvm_handle kt_part_handle(const struct kt *t, uint32_t slot)
{
    struct rvm_handle h = {slot, t->k.parts[slot].generation};
    return h;
}

/* One slot of kt_sync_objects: `any` is the slot's generation, `live` whether it holds an object.
 */
static inline void sync_slot(struct kt *t, uint32_t c, uint32_t i, uint32_t any, bool live)
{
    const uint32_t g = live ? any : 0;
    const uint32_t had = t->known[c][i];
    if (any == t->maxgen[c][i] && g == had) {
        return; /* nothing happened to this slot: most of them, most of the time */
    }
    if (any < t->maxgen[c][i]) {
        rvm_sim_violation(t->sim, "kernel.generation",
                          "%s slot %u went back from generation %u to %u", kt_classes[c], i,
                          t->maxgen[c][i], any);
    }
    t->maxgen[c][i] = any > t->maxgen[c][i] ? any : t->maxgen[c][i];
    if (g == had) {
        return;
    }
    if (had != 0) {
        struct rvm_handle h = {i, had};
        rvm_sim_object_dead(t->sim, c, P(h));
    }
    t->known[c][i] = g;
    if (g != 0) {
        struct rvm_handle h = {i, g};
        if (!((int32_t)c == t->primary_cls && P(h) == t->primary)) {
            rvm_sim_object_new(t->sim, c, P(h));
        }
    }
}

/*
 * Bring the registry in line with the kernel's tables: new live objects go to the engine (except
 * the op's own, which the engine adds), dead ones leave it. Generations never go back
 * (kernel.generation): a handle that was once stale stays stale. One loop per table (in the
 * order of the classes, slot by slot, so the engine learns of objects in the same order as
 * slot_gen and kt_slot_any_gen would give them) reads each slot's fields directly.
 */
void kt_sync_objects(struct kt *t)
{
    const struct rvm_kernel *k = &t->k;
    for (uint32_t i = 0; i < t->nslots[CLS_PARTITION]; i++) { /* bound: max_partitions */
        sync_slot(t, CLS_PARTITION, i, k->parts[i].generation, k->parts[i].state != RVM_KPART_FREE);
    }
    for (uint32_t i = 0; i < t->nslots[CLS_REGION]; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        sync_slot(t, CLS_REGION, i, r->generation, r->used);
    }
    for (uint32_t i = 0; i < t->nslots[CLS_CHANNEL]; i++) { /* bound: max_channels */
        sync_slot(t, CLS_CHANNEL, i, k->chans[i].generation, k->chans[i].used);
    }
    for (uint32_t i = 0; i < t->nslots[CLS_DEVICE]; i++) { /* bound: max_devices */
        sync_slot(t, CLS_DEVICE, i, k->devs[i].generation, k->devs[i].used);
    }
    for (uint32_t i = 0; i < t->nslots[CLS_CAP]; i++) { /* bound: max_caps */
        const uint32_t gen = k->caps.slots[i].generation;
        sync_slot(t, CLS_CAP, i, gen, (gen & 1u) != 0);
    }
}

/* Record kinds after which objects may have appeared or gone. */
static bool structural(uint8_t kind)
{
    switch (kind) {
    case RVM_ACT_IPC_SEND:
    case RVM_ACT_IPC_RECEIVE:
    case RVM_ACT_NOTIFICATION_SIGNAL:
    case RVM_ACT_PROOF_REJECTED:
    case RVM_ACT_SCHED_EPOCH:
    case RVM_ACT_COHERENCE_RECOMPUTED:
    case RVM_ACT_STATE_DIGEST:
    case RVM_ACT_STATE_DIGEST_V2:
    case RVM_ACT_REGION_TIER_EPOCH:
    case RVM_ACT_REGION_MAP:
    case RVM_ACT_REGION_UNMAP:
    case RVM_ACT_PARTITION_START:
    case RVM_ACT_PARTITION_SUSPEND:
    case RVM_ACT_PARTITION_RESUME:
    case RVM_ACT_VMID_ASSIGN:
    case RVM_ACT_VMID_RECLAIM:
    case RVM_ACT_VMID_RELEASE:
    case RVM_ACT_CPU_ONLINE:
    case RVM_ACT_CPU_OFFLINE:
    case RVM_ACT_CAP_ATTENUATE:
    case RVM_ACT_CAP_EPOCH_ADVANCE:
    case RVM_ACT_CHECKPOINT_CREATED:
    case RVM_ACT_FAILURE_RESTART:
    case RVM_ACT_DEVICE_LEASE_RENEW:
    case RVM_ACT_MINCUT_BUDGET_EXCEEDED:
    case RVM_ACT_DEGRADED_ENTER:
    case RVM_ACT_DEGRADED_EXIT:
    case RVM_ACT_BOOT_PHASE:
    case RVM_ACT_RECOVERY_EXIT:
        return false;
    default:
        return true;
    }
}

/* Did the records appended since `from` include a structural kind? */
bool kt_any_structural(const struct kt *t, uint64_t from)
{
    const struct rvm_witness_log *log = &t->k.log;
    if (log->appended - from > (uint64_t)log->ring_mask + 1u) {
        return true;
    }
    for (uint64_t s = from; s < log->appended; s++) {
        if (structural(log->ring[s & log->ring_mask][16])) {
            return true;
        }
    }
    return false;
}

/* The strongest capability `holder` has on (type, object): most rights, then shallowest. */
struct rvm_handle kt_find_cap(const struct kt *t, rvm_partition_id holder, uint8_t type,
                              struct rvm_handle object)
{
    const struct rvm_cap_table *ct = &t->k.caps;
    struct rvm_handle best = rvm_cap_no_handle();
    int32_t best_score = -1;
    /* live (odd generation) and held by `holder`, in one test of both words: the branch is then
     * almost always not taken, where a test of the generation alone goes either way */
    const uint64_t live_owner = 0xffffffff00000001u;
    const uint64_t want = (uint64_t)holder << 32 | 1u;
    for (uint32_t i = 0; i < ct->capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &ct->slots[i];
        if (((s->generation | (uint64_t)s->owner << 32) & live_owner) != want || s->type != type ||
            s->object.index != object.index || s->object.generation != object.generation) {
            continue;
        }
        int32_t score = (int32_t)__builtin_popcount(s->rights) * 16 + (15 - (int32_t)s->depth);
        if (score > best_score) {
            best_score = score;
            best = rvm_cap_handle(i, s->generation);
        }
    }
    return best;
}

rvm_partition_id kt_cap_holder(const struct kt *t, uint64_t cap)
{
    const struct rvm_cap_slot *s = kt_live(t, CLS_CAP, cap) ? &t->k.caps.slots[H(cap).index] : NULL;
    return s != NULL ? s->owner : 0;
}

/* The actor of a call: `dflt` for `none`, the hypervisor (0) for `hypervisor`; a partition by its
 * handle. A handle whose slot holds another partition now cannot call (false: refused here,
 * STALE). */
bool kt_actor_of(const struct kt *t, uint64_t h, rvm_partition_id dflt, rvm_partition_id *out)
{
    if (h == RVM_SIM_NO_OBJECT) {
        *out = dflt;
        return true;
    }
    if (h == RVM_SIM_PRIVILEGED_OBJECT) { /* `actor=hypervisor`: named, never defaulted to */
        *out = 0;
        return true;
    }
    struct rvm_handle a = H(h);
    if (a.index < t->cfg.max_partitions && t->k.parts[a.index].state != RVM_KPART_FREE &&
        t->k.parts[a.index].generation != a.generation) {
        return false;
    }
    *out = a.index >= RVM_PARTITION_INVALID - 1u ? RVM_PARTITION_INVALID : a.index + 1u;
    return true;
}

/* The partition loaded on `cpu`, or 0. */
rvm_partition_id kt_on_cpu(const struct kt *t, uint32_t cpu)
{
    return cpu < t->ncpus ? t->k.cpus[cpu].loaded : 0;
}

/* The first live partition at or after slot `from` (cyclically), or UINT32_MAX. */
uint32_t kt_live_slot_from(const struct kt *t, uint64_t from)
{
    uint32_t n = t->cfg.max_partitions;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((from + i) % n);
        if (t->k.parts[s].state != RVM_KPART_FREE) {
            return s;
        }
    }
    return UINT32_MAX;
}

/* A CPU with a partition loaded, starting at `cpu`, or UINT32_MAX. */
uint32_t kt_busy_cpu(const struct kt *t, uint64_t cpu)
{
    for (uint32_t i = 0; i < t->ncpus; i++) {
        uint32_t c = (uint32_t)((cpu + i) % t->ncpus);
        if (kt_on_cpu(t, c) != 0) {
            return c;
        }
    }
    return UINT32_MAX;
}

/* A capability of class `type` (or any other type when `other`) held by `holder`. */
struct rvm_handle kt_held_cap(const struct kt *t, rvm_partition_id holder, uint8_t type, bool other,
                              uint64_t pick)
{
    const struct rvm_cap_table *ct = &t->k.caps;
    uint32_t n = ct->capacity;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((pick + i) % n);
        const struct rvm_cap_slot *c = &ct->slots[s];
        if ((c->generation & 1u) != 0 && c->owner == holder &&
            (other ? c->type != type : c->type == type)) {
            return rvm_cap_handle(s, c->generation);
        }
    }
    return rvm_cap_no_handle();
}

/* A handle that is certainly dead: a slot's previous generation (or one never used). */
uint64_t kt_dead_handle(const struct kt *t, uint32_t cls, uint64_t pick)
{
    uint32_t n = t->nslots[cls];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((pick + i) % n);
        uint32_t g = kt_slot_any_gen(t, cls, s);
        /* the previous occupant's generation (capabilities: live generations are odd) */
        uint32_t prev = cls != CLS_CAP ? g - 1u : (g & 1u) != 0 ? g - 2u : g - 1u;
        if (g >= 2u && prev >= 1u && prev < g) {
            struct rvm_handle h = {s, prev};
            if (!kt_live(t, cls, P(h))) {
                return P(h);
            }
        }
    }
    struct rvm_handle h = {0, 0xfffffffdu};
    return P(h);
}
