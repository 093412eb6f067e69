/* SPDX-License-Identifier: MIT */
/*
 * Partition lifecycle: create, start, suspend, resume, hibernate, reconstruct, checkpoint,
 * destroy, and the boot-time image loader. Transitions (docs/architecture.md):
 *
 *   Created --start--> Running <--suspend/resume--> Suspended
 *   Running | Suspended --hibernate--> Hibernated --reconstruct--> Suspended
 *   any --destroy--> (free slot; the handle is stale for ever)
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define PAGE RVM_PAGE_SIZE

/* Rights of the capabilities a partition is created with. */
#define ROOT_RIGHTS ((uint8_t)RVM_CAP_RIGHTS_ALL)
#define SELF_RIGHTS ((uint8_t)(RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT | RVM_CAP_PROVE))

/* ------------------------------------------------------------------------------------------------
 * Shared pieces
 * --------------------------------------------------------------------------------------------- */

static uint64_t all_cpus(const struct rvm_kernel *k)
{
    return k->cfg.ncpus == 64 ? UINT64_MAX : ((uint64_t)1 << k->cfg.ncpus) - 1u;
}

struct rvm_handle rvm_kernel__next_cap(const struct rvm_kernel *k)
{
    uint32_t i = k->caps.free_head;
    if (i >= k->caps.capacity) {
        return rvm_cap_no_handle();
    }
    return rvm_cap_handle(i, k->caps.slots[i].generation + 1u);
}

enum rvm_err rvm_kernel__part_check_new(const struct rvm_kernel *k, uint64_t affinity,
                                        uint32_t *slot)
{
    if ((affinity & ~all_cpus(k)) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t found = RVM_KERNEL_NONE;
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state == RVM_KPART_FREE && k->parts[i].generation != UINT32_MAX) {
            found = i;
            break;
        }
    }
    if (found == RVM_KERNEL_NONE) {
        return RVM_ERR_PARTITION_LIMIT;
    }
    if (!rvm_kernel__caps_free(k, 2)) {
        return RVM_ERR_CAP_TABLE_FULL;
    }
    if (k->cfg.coherence_nodes != 0) {
        struct rvm_witness_entry e;
        struct rvm_coherence_graph_plan gp;
        enum rvm_err err = rvm_coherence_prepare_add(&k->coh, found + 1u, &e, &gp);
        if (err != RVM_OK) {
            return err;
        }
    }
    *slot = found;
    return RVM_OK;
}

void rvm_kernel__part_commit_new(struct rvm_kernel *k, uint32_t slot, rvm_partition_id creator,
                                 const struct rvm_kernel_partition_req *req, bool graph_node)
{
    struct rvm_kpart *p = &k->parts[slot];
    const uint32_t generation = p->generation;
    const rvm_partition_id id = slot + 1u;
    rvm_memset(p, 0, sizeof(*p));
    p->generation = generation;
    p->state = RVM_KPART_CREATED;
    p->urgency = req->urgency;
    p->creator = creator;
    p->ckpt = RVM_KERNEL_NONE;
    p->affinity = req->affinity != 0 ? req->affinity : all_cpus(k);
    p->entry_pc = req->entry_pc;
    for (uint32_t i = 0; i < RVM_KERNEL_ARGS; i++) { /* bound: RVM_KERNEL_ARGS */
        p->args[i] = req->args[i];
    }
    struct rvm_handle self = rvm_kernel__part_handle(k, slot);
    struct rvm_handle root =
        rvm_kernel__mint(k, RVM_CAP_TYPE_PARTITION, ROOT_RIGHTS, creator, self);
    p->self_cap = rvm_kernel__derive(k, root, SELF_RIGHTS, id);
    rvm_kernel__launch_ctx(k, slot, p->self_cap);
    if (k->cfg.coherence_nodes != 0 && graph_node) {
        struct rvm_witness_entry e;
        struct rvm_coherence_graph_plan gp;
        enum rvm_err err = rvm_coherence_prepare_add(&k->coh, id, &e, &gp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_coherence_commit_graph(&k->coh, &gp);
        }
    }
    rvm_kernel__must(k, rvm_proof_nonce_reset(&k->nonces, id));
}

uint32_t rvm_kernel__regions_of(struct rvm_kernel *k, rvm_partition_id id)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        if (r->used && r->owner == id) {
            k->order[n++] = i;
        }
    }
    return n;
}

bool rvm_kernel__alloc_feasible(const struct rvm_kernel *k, const uint32_t *regions, uint32_t n)
{
    /* Free blocks per order. Allocation takes the smallest free block that fits and splits it,
     * and nothing merges during a run of allocations, so counts per order decide feasibility. */
    uint32_t count[RVM_BUDDY_ORDER_LIMIT + 1];
    rvm_memset(count, 0, sizeof(count));
    const struct rvm_buddy *b = &k->ram;
    for (uint32_t o = 0; o <= b->max_order; o++) { /* bound: max_order + 1 lists */
        uint32_t page = b->head[o];
        for (uint32_t s = 0; s < b->npages && page != RVM_BUDDY_NIL; s++) { /* bound: npages */
            count[o]++;
            page = b->links[page].next;
        }
    }
    for (uint32_t i = 0; i < n; i++) { /* bound: n requests */
        uint32_t o = k->regions.slots[regions[i]].order;
        uint32_t j = o;
        while (j <= b->max_order && count[j] == 0) { /* bound: max_order */
            j++;
        }
        if (o > b->max_order || j > b->max_order) {
            return false;
        }
        count[j]--;
        for (uint32_t m = o; m < j; m++) { /* bound: max_order */
            count[m]++;
        }
    }
    return true;
}

void rvm_kernel__ctx_store(const struct rvm_vcpu_regs *r, uint8_t *out)
{
    size_t at = 0;
    for (uint32_t i = 0; i < RVM_VCPU_GPRS; i++, at += 8) { /* bound: 32 */
        rvm_store_le64(out + at, r->gpr[i]);
    }
    rvm_store_le64(out + at, r->pc);
    rvm_store_le64(out + at + 8, r->pstate);
    at += 16;
    for (uint32_t i = 0; i < RVM_VCPU_SYSREGS; i++, at += 8) { /* bound: 32 */
        rvm_store_le64(out + at, r->sys[i]);
    }
    for (uint32_t i = 0; i < RVM_VCPU_FPREGS; i++, at += 8) { /* bound: 64 */
        rvm_store_le64(out + at, r->fp[i]);
    }
    rvm_store_le64(out + at, r->fpcr);
    rvm_store_le64(out + at + 8, r->fpsr);
}

void rvm_kernel__ctx_load(const uint8_t *in, struct rvm_vcpu_regs *r)
{
    size_t at = 0;
    for (uint32_t i = 0; i < RVM_VCPU_GPRS; i++, at += 8) { /* bound: 32 */
        r->gpr[i] = rvm_load_le64(in + at);
    }
    r->pc = rvm_load_le64(in + at);
    r->pstate = rvm_load_le64(in + at + 8);
    at += 16;
    for (uint32_t i = 0; i < RVM_VCPU_SYSREGS; i++, at += 8) { /* bound: 32 */
        r->sys[i] = rvm_load_le64(in + at);
    }
    for (uint32_t i = 0; i < RVM_VCPU_FPREGS; i++, at += 8) { /* bound: 64 */
        r->fp[i] = rvm_load_le64(in + at);
    }
    r->fpcr = rvm_load_le64(in + at);
    r->fpsr = rvm_load_le64(in + at + 8);
}

/* The target of a partition operation: the handle, or 0 when it does not name a live one. */
static enum rvm_err find_target(struct rvm_kop *op, struct rvm_handle p, uint32_t *slot)
{
    enum rvm_err err = rvm_kernel__part_find(op->k, p, slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, err);
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Create, start, suspend, resume
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_partition_create(struct rvm_kernel *k, rvm_partition_id actor,
                                         const struct rvm_kernel_auth *auth,
                                         const struct rvm_kernel_partition_req *req,
                                         struct rvm_handle *out, struct rvm_handle *root_cap)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_PARTITION_CREATE, 0);
    if (err != RVM_OK) {
        return err;
    }
    if (req == NULL) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    if (actor != RVM_PARTITION_HYPERVISOR) {
        err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE,
                               rvm_kernel__part_handle(k, actor - 1u));
        if (err != RVM_OK) {
            return err;
        }
    }
    uint32_t slot;
    err = rvm_kernel__part_check_new(k, req->affinity, &slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(
            &op, err == RVM_ERR_INVALID_ARGUMENT ? RVM_STAGE_DECODE : RVM_STAGE_PRECONDITION, err);
    }
    const struct rvm_handle h = rvm_kernel__part_handle(k, slot);
    const struct rvm_handle root = rvm_kernel__next_cap(k);
    op.target = rvm_handle_pack(h);
    err = rvm_kernel__append(&op, 0, req->entry_pc, rvm_handle_pack(root));
    if (err != RVM_OK) {
        return err;
    }
    rvm_kernel__part_commit_new(k, slot, actor, req, true);
    if (out != NULL) {
        *out = h;
    }
    if (root_cap != NULL) {
        *root_cap = root;
    }
    return RVM_OK;
}

/* Gate and state check shared by the simple transitions. */
static enum rvm_err transition_begin(struct rvm_kop *op, struct rvm_kernel *k,
                                     rvm_partition_id actor, const struct rvm_kernel_auth *auth,
                                     struct rvm_handle p, uint8_t kind, uint8_t tier,
                                     uint32_t allowed_states, uint32_t *slot)
{
    enum rvm_err err = rvm_kernel__begin(op, k, actor, kind, rvm_handle_pack(p));
    if (err != RVM_OK) {
        return err;
    }
    err = find_target(op, p, slot);
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__gate(op, auth, tier, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE, p);
    if (err != RVM_OK) {
        return err;
    }
    if (((allowed_states >> k->parts[*slot].state) & 1u) == 0) {
        return rvm_kernel__refuse(op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    return RVM_OK;
}

#define ST(s) (1u << (s))

/* A partition can be queued only if one of its CPUs is online. */
static bool can_run(const struct rvm_kernel *k, uint32_t slot)
{
    return (k->parts[slot].affinity & k->sched.online_mask) != 0;
}

enum rvm_err rvm_kernel_partition_start(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth, struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_START,
                                        RVM_PROOF_P1, ST(RVM_KPART_CREATED), &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (!can_run(k, slot)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_AFFINITY);
    }
    err = rvm_kernel__append(&op, 0, 0, 0);
    if (err != RVM_OK) {
        return err;
    }
    k->parts[slot].state = RVM_KPART_RUNNING;
    rvm_kernel__run(k, slot);
    return RVM_OK;
}

enum rvm_err rvm_kernel_partition_suspend(struct rvm_kernel *k, rvm_partition_id actor,
                                          const struct rvm_kernel_auth *auth, struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_SUSPEND,
                                        RVM_PROOF_P1, ST(RVM_KPART_RUNNING), &slot);
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__append(&op, 0, 0, 0);
    if (err != RVM_OK) {
        return err;
    }
    rvm_kernel__stop(k, slot);
    k->parts[slot].state = RVM_KPART_SUSPENDED;
    return RVM_OK;
}

/* Regions of partition `id` with a home mapping that are not mapped now (after a reconstruct),
 * put back through the HAL (undoable). Returns how many, or the HAL's refusal. */
static enum rvm_err remap_homes(struct rvm_kernel *k, struct rvm_kernel_s2 *u, rvm_partition_id id,
                                uint32_t *count)
{
    uint32_t n = rvm_kernel__regions_of(k, id);
    *count = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        const struct rvm_kreg *kr = &k->kregs[s];
        if (kr->home_perms == 0 || r->mapped || r->hpa == 0) {
            continue;
        }
        enum rvm_err err = rvm_kernel__s2_map(k, u, s, id, kr->home_ipa, kr->home_perms);
        if (err != RVM_OK) {
            rvm_kernel__s2_undo(k, u);
            return err;
        }
        (*count)++;
    }
    return RVM_OK;
}

/* Commit the stage-2 maps recorded in k->undo into the region table. */
static void commit_maps(struct rvm_kernel *k, const struct rvm_kernel_s2 *u)
{
    for (uint32_t i = 0; i < u->n; i++) { /* bound: the changes made */
        const struct rvm_kernel_s2op *o = &k->undo[i];
        if (!o->map) {
            continue;
        }
        struct rvm_witness_entry e;
        struct rvm_region_map_plan mp;
        enum rvm_err err = rvm_region_prepare_map(&k->regions, RVM_PARTITION_HYPERVISOR,
                                                  rvm_kernel__region_handle(k, o->region),
                                                  rvm_ipa(o->ipa), o->perms, &e, &mp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_region_commit_map(&k->regions, &mp);
        }
    }
}

enum rvm_err rvm_kernel_partition_resume(struct rvm_kernel *k, rvm_partition_id actor,
                                         const struct rvm_kernel_auth *auth, struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_RESUME,
                                        RVM_PROOF_P1, ST(RVM_KPART_SUSPENDED), &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (!can_run(k, slot)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_AFFINITY);
    }
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_s2 u = {0};
    uint32_t mapped = 0;
    err = remap_homes(k, &u, slot + 1u, &mapped);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, 0, mapped, 0));
    commit_maps(k, &u);
    k->parts[slot].state = RVM_KPART_RUNNING;
    rvm_kernel__run(k, slot);
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Hibernate and reconstruct
 * --------------------------------------------------------------------------------------------- */

static bool resident(const struct rvm_region *r)
{
    return r->tier.tier == RVM_TIER_HOT || r->tier.tier == RVM_TIER_WARM;
}

static uint64_t region_bytes(const struct rvm_region *r)
{
    return (uint64_t)r->npages << RVM_PAGE_SHIFT;
}

/* The RAM regions of `id` an image operation works on (resident ones), moved to the front of
 * k->order (order kept); returns how many. With `check`, each must fit the staging area and (for
 * hibernation) have no views. */
static enum rvm_err image_regions(struct rvm_kernel *k, rvm_partition_id id, bool no_views,
                                  uint32_t *count, uint32_t *all)
{
    uint32_t n = rvm_kernel__regions_of(k, id);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (!rvm_kernel__region_is_ram(r) || !resident(r)) {
            continue;
        }
        if (no_views && r->shares != 0) {
            return RVM_ERR_WRONG_STATE;
        }
        if (region_bytes(r) > (uint64_t)k->cfg.scratch_pages * PAGE) {
            return RVM_ERR_NO_SPACE;
        }
        k->order[i] = k->order[m];
        k->order[m++] = s;
    }
    *count = m;
    *all = n;
    return RVM_OK;
}

/* Stage every listed region's image, packed from the end of the store (rvm_kernel__image_compress),
 * the vCPU's last with `with_ctx`: the total length, or NO_SPACE. No state changes (the bytes
 * beyond store_used are unused). A region unchanged since its last checkpoint adopts that
 * image's content hash. */
static enum rvm_err stage_images(struct rvm_kernel *k, uint32_t count, bool with_ctx,
                                 const struct rvm_vcpu_regs *regs, uint32_t *total)
{
    uint32_t off = 0;
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        const size_t len = (size_t)region_bytes(r);
        k->hal->ops->phys_read(k->hal->ctx, rvm_hpa(r->hpa), k->scratch, len);
        uint32_t ilen;
        enum rvm_err err = rvm_kernel__image_compress(k, off, k->scratch, len, &ilen);
        if (err != RVM_OK) {
            return err;
        }
        rvm_kernel__image_adopt(k, off, ilen, k->kregs[s].ckpt);
        off += ilen;
    }
    if (with_ctx) {
        rvm_kernel__ctx_store(regs, k->scratch);
        uint32_t ilen;
        enum rvm_err err =
            rvm_kernel__image_compress(k, off, k->scratch, RVM_KERNEL_CTX_BYTES, &ilen);
        if (err != RVM_OK) {
            return err;
        }
        off += ilen;
    }
    *total = off;
    return RVM_OK;
}

enum rvm_err rvm_kernel_partition_hibernate(struct rvm_kernel *k, rvm_partition_id actor,
                                            const struct rvm_kernel_auth *auth, struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_HIBERNATE, RVM_PROOF_P2,
                         ST(RVM_KPART_RUNNING) | ST(RVM_KPART_SUSPENDED), &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (k->work == NULL) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_UNSUPPORTED);
    }
    const rvm_partition_id id = slot + 1u;
    uint32_t count;
    uint32_t all;
    uint32_t total = 0;
    err = image_regions(k, id, true, &count, &all);
    if (err == RVM_OK) {
        err = stage_images(k, count, false, NULL, &total);
    }
    if (err == RVM_OK && !rvm_kernel__images_free(k, count)) {
        err = RVM_ERR_NO_SPACE;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_s2 u = {0};
    for (uint32_t i = 0; i < all; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        if (k->regions.slots[s].mapped) {
            err = rvm_kernel__s2_unmap(k, &u, s);
            if (err != RVM_OK) {
                rvm_kernel__s2_undo(k, &u);
                return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
            }
        }
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, 0, count, total));

    rvm_kernel__stop(k, slot);
    for (uint32_t i = 0; i < u.n; i++) { /* bound: the unmaps made */
        struct rvm_witness_entry e;
        struct rvm_region_map_plan mp;
        enum rvm_err e2 =
            rvm_region_prepare_unmap(&k->regions, RVM_PARTITION_HYPERVISOR,
                                     rvm_kernel__region_handle(k, k->undo[i].region), &e, &mp);
        rvm_kernel__must(k, e2);
        if (e2 == RVM_OK) {
            rvm_region_commit_unmap(&k->regions, &mp);
        }
    }
    rvm_kernel__tlb_flush(k, id);
    uint32_t staged = k->store_used;
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_handle h = rvm_kernel__region_handle(k, s);
        struct rvm_witness_entry e;
        struct rvm_region_tier_plan tp;
        if (k->regions.slots[s].tier.tier == RVM_TIER_HOT) {
            enum rvm_err e2 = rvm_region_prepare_move(&k->regions, RVM_PARTITION_HYPERVISOR, h,
                                                      RVM_TIER_WARM, NULL, &e, &tp);
            rvm_kernel__must(k, e2);
            if (e2 == RVM_OK) {
                rvm_region_commit_move(&k->regions, &tp);
            }
        }
        const struct rvm_region *r = &k->regions.slots[s];
        const uint64_t hpa = r->hpa;
        const uint32_t order = r->order;
        const size_t len = (size_t)region_bytes(r);
        k->hal->ops->phys_read(k->hal->ctx, rvm_hpa(hpa), k->scratch, len);
        struct rvm_region_tier_io io;
        rvm_memset(&io, 0, sizeof(io));
        io.contents = k->scratch;
        io.work = k->work;
        io.image_len = rvm_kernel__image_unstage(k, &staged);
        io.staged = true;
        io.image = k->store + k->store_used;
        io.image_cap = k->cfg.image_bytes - k->store_used;
        enum rvm_err e2 = rvm_region_prepare_move(&k->regions, RVM_PARTITION_HYPERVISOR, h,
                                                  RVM_TIER_DORMANT, &io, &e, &tp);
        uint32_t idx = rvm_kernel__image_slot(k);
        if (e2 == RVM_OK && idx == RVM_KERNEL_NONE) {
            e2 = RVM_ERR_INTERNAL;
        }
        rvm_kernel__must(k, e2);
        if (e2 != RVM_OK) {
            continue;
        }
        rvm_region_commit_move(&k->regions, &tp);
        rvm_kernel__scrub(k, hpa, order);
        rvm_kernel__image_commit(k, idx, RVM_KIMAGE_DORMANT, slot, s, (uint32_t)len,
                                 (uint32_t)io.image_len, tp.checkpoint);
        k->kregs[s].image = idx;
    }
    k->parts[slot].state = RVM_KPART_HIBERNATED;
    return RVM_OK;
}

/* The Dormant regions of `id` into the front of k->order; returns how many. */
static uint32_t dormant_regions(struct rvm_kernel *k, rvm_partition_id id)
{
    uint32_t n = rvm_kernel__regions_of(k, id);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (rvm_kernel__region_is_ram(r) && r->tier.tier == RVM_TIER_DORMANT) {
            k->order[m++] = s;
        }
    }
    return m;
}

static void restore_io(struct rvm_kernel *k, uint32_t s, bool check_only,
                       struct rvm_region_tier_io *io)
{
    rvm_memset(io, 0, sizeof(*io));
    const uint32_t idx = k->kregs[s].image;
    if (idx < k->cfg.max_images && k->images[idx].used) {
        io->image = k->store + k->images[idx].off;
        io->image_len = k->images[idx].len;
    }
    io->out = k->scratch;
    io->out_cap = k->scratch_bytes;
    io->check_only = check_only;
}

enum rvm_err rvm_kernel_partition_reconstruct(struct rvm_kernel *k, rvm_partition_id actor,
                                              const struct rvm_kernel_auth *auth,
                                              struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_RECONSTRUCT,
                                        RVM_PROOF_P2, ST(RVM_KPART_HIBERNATED), &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (k->scratch == NULL) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_UNSUPPORTED);
    }
    const uint32_t count = dormant_regions(k, slot + 1u);
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        struct rvm_region_tier_io io;
        restore_io(k, s, true, &io); /* deciding: the images are decoded below */
        struct rvm_witness_entry e;
        struct rvm_region_tier_plan tp;
        err = rvm_region_prepare_restore(&k->regions, RVM_PARTITION_HYPERVISOR,
                                         rvm_kernel__region_handle(k, s), &io, &e, &tp);
        if (err == RVM_ERR_NO_MEMORY) {
            err = RVM_OK; /* judged for all of them together below */
        }
        if (err != RVM_OK) {
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
        }
    }
    if (!rvm_kernel__alloc_feasible(k, k->order, count)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NO_MEMORY);
    }
    err = rvm_kernel__append(&op, 0, count, 0);
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        struct rvm_region_tier_io io;
        restore_io(k, s, false, &io);
        struct rvm_witness_entry e;
        struct rvm_region_tier_plan tp;
        enum rvm_err e2 = rvm_region_prepare_restore(&k->regions, RVM_PARTITION_HYPERVISOR,
                                                     rvm_kernel__region_handle(k, s), &io, &e, &tp);
        rvm_kernel__must(k, e2);
        if (e2 != RVM_OK) {
            continue;
        }
        rvm_region_commit_move(&k->regions, &tp);
        const struct rvm_region *r = &k->regions.slots[s];
        k->hal->ops->phys_write(k->hal->ctx, rvm_hpa(r->hpa), k->scratch, (size_t)region_bytes(r));
        rvm_kernel__image_free(k, k->kregs[s].image);
        k->kregs[s].image = RVM_KERNEL_NONE;
    }
    k->parts[slot].state = RVM_KPART_SUSPENDED;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Checkpoint
 * --------------------------------------------------------------------------------------------- */

static void free_checkpoint(struct rvm_kernel *k, uint32_t slot, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        struct rvm_kreg *kr = &k->kregs[k->order[i]];
        rvm_kernel__image_free(k, kr->ckpt);
        kr->ckpt = RVM_KERNEL_NONE;
    }
    rvm_kernel__image_free(k, k->parts[slot].ckpt);
    k->parts[slot].ckpt = RVM_KERNEL_NONE;
}

enum rvm_err rvm_kernel_partition_checkpoint(struct rvm_kernel *k, rvm_partition_id actor,
                                             const struct rvm_kernel_auth *auth,
                                             struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        transition_begin(&op, k, actor, auth, p, RVM_ACT_CHECKPOINT_CREATED, RVM_PROOF_P2,
                         ST(RVM_KPART_RUNNING) | ST(RVM_KPART_SUSPENDED), &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (k->work == NULL) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_UNSUPPORTED);
    }
    const rvm_partition_id id = slot + 1u;
    /* The registers as they are now: a CPU running it holds them in its frame. */
    struct rvm_kpart *part = &k->parts[slot];
    const struct rvm_vcpu_regs *regs = &part->ctx.regs;
    for (uint32_t c = 0; c < k->cfg.ncpus; c++) { /* bound: ncpus */
        if (k->cpus[c].loaded == id) {
            regs = &k->cpus[c].frame;
        }
    }
    uint32_t count;
    uint32_t all;
    uint32_t total = 0;
    err = image_regions(k, id, false, &count, &all);
    if (err == RVM_OK) {
        err = stage_images(k, count, true, regs, &total);
    }
    if (err == RVM_OK && !rvm_kernel__images_free(k, count + 1u)) {
        err = RVM_ERR_NO_SPACE;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    err = rvm_kernel__append(&op, 0, count, total);
    if (err != RVM_OK) {
        return err;
    }
    /* Drop the previous checkpoint (of every region it owns now), then write the new one from
     * the staged images (freeing moves only bytes below the stage). */
    uint32_t staged = k->store_used;
    free_checkpoint(k, slot, all);
    uint8_t hash[RVM_SHA256_DIGEST_BYTES];
    for (uint32_t i = 0; i < count; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        const size_t len = (size_t)region_bytes(r);
        k->hal->ops->phys_read(k->hal->ctx, rvm_hpa(r->hpa), k->scratch, len);
        uint32_t idx = rvm_kernel__image_slot(k);
        const uint32_t ilen = rvm_kernel__image_unstage(k, &staged);
        enum rvm_err e2 = rvm_compress_seal(&k->hal->crypto, k->scratch, len,
                                            k->store + k->store_used, ilen, hash);
        if (e2 == RVM_OK && idx == RVM_KERNEL_NONE) {
            e2 = RVM_ERR_INTERNAL;
        }
        rvm_kernel__must(k, e2);
        if (e2 == RVM_OK) {
            rvm_kernel__image_commit(k, idx, RVM_KIMAGE_CKPT_REGION, slot, s, (uint32_t)len, ilen,
                                     hash);
            k->kregs[s].ckpt = idx;
        }
    }
    rvm_kernel__ctx_store(regs, k->scratch);
    uint32_t idx = rvm_kernel__image_slot(k);
    const uint32_t ilen = rvm_kernel__image_unstage(k, &staged);
    enum rvm_err e2 = rvm_compress_seal(&k->hal->crypto, k->scratch, RVM_KERNEL_CTX_BYTES,
                                        k->store + k->store_used, ilen, hash);
    if (e2 == RVM_OK && idx == RVM_KERNEL_NONE) {
        e2 = RVM_ERR_INTERNAL;
    }
    rvm_kernel__must(k, e2);
    if (e2 == RVM_OK) {
        rvm_kernel__image_commit(k, idx, RVM_KIMAGE_CKPT_VCPU, slot, RVM_KERNEL_NONE,
                                 RVM_KERNEL_CTX_BYTES, ilen, hash);
        part->ckpt = idx;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel__ckpt_restore(struct rvm_kernel *k, uint32_t slot, bool verify_only)
{
    struct rvm_kpart *part = &k->parts[slot];
    if (part->ckpt == RVM_KERNEL_NONE || k->scratch == NULL) {
        return RVM_ERR_NO_CHECKPOINT;
    }
    const uint32_t n = rvm_kernel__regions_of(k, slot + 1u);
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (!rvm_kernel__region_is_ram(r) || !resident(r)) {
            continue;
        }
        const uint32_t idx = k->kregs[s].ckpt;
        if (idx == RVM_KERNEL_NONE) {
            return RVM_ERR_NO_CHECKPOINT; /* a region created after the checkpoint */
        }
        if (k->images[idx].raw_len != region_bytes(r)) {
            return RVM_ERR_CORRUPT;
        }
        enum rvm_err err =
            verify_only ? rvm_kernel__image_check(k, idx) : rvm_kernel__image_decode(k, idx);
        if (err != RVM_OK) {
            return err;
        }
        if (!verify_only) {
            k->hal->ops->phys_write(k->hal->ctx, rvm_hpa(r->hpa), k->scratch,
                                    (size_t)region_bytes(r));
        }
    }
    if (k->images[part->ckpt].raw_len != RVM_KERNEL_CTX_BYTES) {
        return RVM_ERR_CORRUPT;
    }
    if (verify_only) {
        /* Whether it would restore: hashes and headers, no decoding (rvm_compress_check). */
        return rvm_kernel__image_check(k, part->ckpt);
    }
    enum rvm_err err = rvm_kernel__image_decode(k, part->ckpt);
    if (err != RVM_OK) {
        return err;
    }
    rvm_kernel__ctx_load(k->scratch, &part->ctx.regs);
    (void)rvm_vcpu_sanitise(k->cfg.arch, &part->ctx.regs); /* it came from outside */
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Destroy
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel__destroy_unmap(struct rvm_kernel *k, struct rvm_kernel_s2 *u, uint32_t slot)
{
    const rvm_partition_id id = slot + 1u;
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        if (!r->used || !r->mapped) {
            continue;
        }
        bool ours = r->owner == id;
        bool view_of_ours = r->type == RVM_REGION_SHARED && r->source < k->regions.capacity &&
                            k->regions.slots[r->source].owner == id;
        if (ours || view_of_ours) {
            enum rvm_err err = rvm_kernel__s2_unmap(k, u, i);
            if (err != RVM_OK) {
                rvm_kernel__s2_undo(k, u);
                return err;
            }
        }
    }
    return RVM_OK;
}

/* Release one region (unmapped, no views): its capabilities, images, slot and pages. */
static void region_release(struct rvm_kernel *k, uint32_t s)
{
    const struct rvm_handle h = rvm_kernel__region_handle(k, s);
    const struct rvm_region *r = &k->regions.slots[s];
    const bool scrub = rvm_kernel__region_is_ram(r) && r->hpa != 0;
    const uint64_t hpa = r->hpa;
    const uint32_t order = r->order;
    (void)rvm_kernel__revoke_object(k, RVM_CAP_TYPE_REGION, h);
    rvm_kernel__image_free(k, k->kregs[s].image);
    rvm_kernel__image_free(k, k->kregs[s].ckpt);
    struct rvm_witness_entry e;
    struct rvm_region_release_plan rp;
    enum rvm_err err;
    if (r->type == RVM_REGION_SHARED) {
        err = rvm_region_prepare_unshare(&k->regions, RVM_PARTITION_HYPERVISOR, h, &e, &rp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_region_commit_unshare(&k->regions, &rp);
        }
    } else {
        err = rvm_region_prepare_destroy(&k->regions, RVM_PARTITION_HYPERVISOR, h, &e, &rp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_region_commit_destroy(&k->regions, &rp);
        }
    }
    if (err == RVM_OK && scrub) {
        rvm_kernel__scrub(k, hpa, order);
    }
    rvm_memset(&k->kregs[s], 0, sizeof(k->kregs[s]));
    k->kregs[s].image = RVM_KERNEL_NONE;
    k->kregs[s].ckpt = RVM_KERNEL_NONE;
}

/* Commit the unmaps recorded in k->undo into the region table and flush the TLBs concerned. */
static void commit_unmaps(struct rvm_kernel *k, const struct rvm_kernel_s2 *u)
{
    for (uint32_t i = 0; i < u->n; i++) { /* bound: the changes made */
        const struct rvm_kernel_s2op *o = &k->undo[i];
        if (o->map) {
            continue;
        }
        struct rvm_witness_entry e;
        struct rvm_region_map_plan mp;
        enum rvm_err err =
            rvm_region_prepare_unmap(&k->regions, RVM_PARTITION_HYPERVISOR,
                                     rvm_kernel__region_handle(k, o->region), &e, &mp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_region_commit_unmap(&k->regions, &mp);
        }
        rvm_kernel__tlb_flush(k, o->part);
    }
}

void rvm_kernel__destroy_commit(struct rvm_kernel *k, uint32_t slot,
                                struct rvm_kernel_destroy_counts *c)
{
    const rvm_partition_id id = slot + 1u;
    const struct rvm_handle self = rvm_kernel__part_handle(k, slot);
    rvm_memset(c, 0, sizeof(*c));
    rvm_kernel__stop(k, slot);
    /* Device leases it holds end (their capabilities go with everything it holds, below). */
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        struct rvm_kdev *d = &k->devs[i];
        if (d->used && d->leased && d->holder == id) {
            d->leased = 0;
            d->holder = 0;
            d->lease_cap = rvm_cap_no_handle();
            d->expires_ns = 0;
        }
    }
    /* Channels it is an endpoint of. */
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        struct rvm_kchan *ch = &k->chans[i];
        if (!ch->used || (ch->a != id && ch->b != id)) {
            continue;
        }
        struct rvm_handle chh = {i, ch->generation};
        c->caps += rvm_kernel__revoke_object(k, RVM_CAP_TYPE_COMM_EDGE, chh);
        c->messages += ch->count;
        c->channels++;
        rvm_memset(k->msgs + (size_t)i * k->cfg.queue_depth, 0,
                   (size_t)k->cfg.queue_depth * sizeof(struct rvm_kmsg));
        rvm_memset(k->msg_data + (size_t)i * k->cfg.queue_depth * k->cfg.msg_bytes, 0,
                   (size_t)k->cfg.queue_depth * k->cfg.msg_bytes);
        const uint32_t generation = rvm_kernel__next_generation(ch->generation);
        rvm_memset(ch, 0, sizeof(*ch));
        ch->generation = generation;
    }
    /* Other partitions' views of its regions first (a viewed region cannot be destroyed). */
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        if (r->used && r->type == RVM_REGION_SHARED && r->owner != id &&
            r->source < k->regions.capacity && k->regions.slots[r->source].owner == id) {
            region_release(k, i);
        }
    }
    /* Its own regions: views it holds, then its RAM. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
            const struct rvm_region *r = &k->regions.slots[i];
            if (r->used && r->owner == id && (r->type == RVM_REGION_SHARED) == (pass == 0)) {
                region_release(k, i);
                c->regions++;
            }
        }
    }
    /* Every capability it holds, and every capability naming it. */
    c->caps += rvm_kernel__revoke_held(k, id);
    c->caps += rvm_kernel__revoke_object(k, RVM_CAP_TYPE_PARTITION, self);
    rvm_kernel__leases_sync(k);
    /* Partitions it created are adopted by the hypervisor. */
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state != RVM_KPART_FREE && k->parts[i].creator == id) {
            k->parts[i].creator = RVM_PARTITION_HYPERVISOR;
        }
    }
    rvm_kernel__image_free(k, k->parts[slot].ckpt);
    struct rvm_witness_entry e;
    struct rvm_vmid_release_plan vp;
    enum rvm_err err = rvm_vmid_prepare_release(&k->vmids, RVM_PARTITION_HYPERVISOR, id, &e, &vp);
    rvm_kernel__must(k, err);
    if (err == RVM_OK) {
        rvm_vmid_commit_release(&k->vmids, &vp);
    }
    uint32_t gslot;
    if (k->cfg.coherence_nodes != 0 && rvm_graph_find(&k->coh.graph, id, &gslot) == RVM_OK) {
        struct rvm_coherence_graph_plan gp;
        err = rvm_coherence_prepare_remove(&k->coh, id, &e, &gp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_coherence_commit_graph(&k->coh, &gp);
        }
    }
    rvm_kernel__must(k, rvm_proof_nonce_reset(&k->nonces, id));
    /* The slot: registers scrubbed, the generation moved on so every old handle is stale. */
    const uint32_t generation = rvm_kernel__next_generation(k->parts[slot].generation);
    rvm_memset(&k->parts[slot], 0, sizeof(k->parts[slot]));
    k->parts[slot].generation = generation;
    k->parts[slot].ckpt = RVM_KERNEL_NONE;
}

/* What a destroy will remove, for its record. */
static void destroy_counts(const struct rvm_kernel *k, rvm_partition_id id,
                           struct rvm_kernel_destroy_counts *c)
{
    rvm_memset(c, 0, sizeof(*c));
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        c->regions += k->regions.slots[i].used && k->regions.slots[i].owner == id ? 1u : 0u;
    }
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *ch = &k->chans[i];
        if (ch->used && (ch->a == id || ch->b == id)) {
            c->channels++;
            c->messages += ch->count;
        }
    }
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        c->caps += (s->generation & 1u) != 0 && s->owner == id ? 1u : 0u;
    }
}

enum rvm_err rvm_kernel_partition_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                          const struct rvm_kernel_auth *auth, struct rvm_handle p)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        transition_begin(&op, k, actor, auth, p, RVM_ACT_PARTITION_DESTROY, RVM_PROOF_P2,
                         ST(RVM_KPART_CREATED) | ST(RVM_KPART_RUNNING) | ST(RVM_KPART_SUSPENDED) |
                             ST(RVM_KPART_HIBERNATED),
                         &slot);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_destroy_counts c;
    destroy_counts(k, slot + 1u, &c);
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_s2 u = {0};
    err = rvm_kernel__destroy_unmap(k, &u, slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, 0,
                                           (uint64_t)c.regions | (uint64_t)c.channels << 16 |
                                               (uint64_t)c.messages << 32,
                                           c.caps));
    commit_unmaps(k, &u);
    rvm_kernel__destroy_commit(k, slot, &c);
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Boot-time image loading
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_boot_load(struct rvm_kernel *k, const struct rvm_kernel_image *img,
                                  struct rvm_handle *out)
{
    struct rvm_kop op;
    rvm_memset(&op, 0, sizeof(op));
    op.k = k;
    op.kind = RVM_ACT_BOOT_ATTESTATION;
    if (k->boot_next != RVM_BOOT_ROOT_PARTITION) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_BOOT_ORDER);
    }
    uint64_t end;
    if (img == NULL || img->data == NULL || img->len == 0 || (img->load_ipa & (PAGE - 1u)) != 0 ||
        !rvm_add_u64(img->len, PAGE - 1u, &end) || (end >> RVM_PAGE_SHIFT) > RVM_REGION_MAX_PAGES) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    const uint32_t npages = (uint32_t)(end >> RVM_PAGE_SHIFT);
    uint32_t slot;
    enum rvm_err err = rvm_kernel__part_check_new(k, img->affinity, &slot);
    if (err == RVM_OK && !rvm_kernel__caps_free(k, 3)) {
        err = RVM_ERR_CAP_TABLE_FULL;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    const rvm_partition_id id = slot + 1u;
    struct rvm_region_create_req rq = {id, RVM_REGION_CODE, RVM_PERM_R | RVM_PERM_X, npages,
                                       rvm_hpa(0)};
    struct rvm_witness_entry e;
    struct rvm_region_create_plan cp;
    err = rvm_region_prepare_create(&k->regions, RVM_PARTITION_HYPERVISOR, &rq, &e, &cp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    /* The mapping must be possible too: its range does not wrap (the new space is empty). */
    uint64_t ipa_end;
    if (!rvm_add_u64(img->load_ipa, (uint64_t)npages << RVM_PAGE_SHIFT, &ipa_end)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_OVERFLOW);
    }
    uint8_t hash[RVM_SHA256_DIGEST_BYTES];
    rvm_crypto_sha256(&k->hal->crypto, img->data, (size_t)img->len, hash);
    op.target = rvm_handle_pack(rvm_kernel__part_handle(k, slot));
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    const uint64_t hpa = cp.region.hpa;
    err = k->hal->ops->s2_map(k->hal->ctx, id, rvm_ipa(img->load_ipa), rvm_hpa(hpa),
                              (uint64_t)npages << RVM_PAGE_SHIFT, RVM_PERM_R | RVM_PERM_X);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, 0, rvm_load_le64(hash), img->len));

    struct rvm_kernel_partition_req req;
    rvm_memset(&req, 0, sizeof(req));
    req.entry_pc = img->entry_pc;
    req.args[0] = img->args[0];
    req.args[1] = img->args[1];
    req.affinity = img->affinity;
    req.urgency = img->urgency;
    rvm_kernel__part_commit_new(k, slot, RVM_PARTITION_HYPERVISOR, &req, true);
    const struct rvm_handle rh = rvm_region_commit_create(&k->regions, &cp);
    (void)rvm_kernel__mint(
        k, RVM_CAP_TYPE_REGION,
        (uint8_t)(RVM_CAP_READ | RVM_CAP_EXECUTE | RVM_CAP_GRANT | RVM_CAP_REVOKE | RVM_CAP_PROVE),
        id, rh);
    k->hal->ops->phys_write(k->hal->ctx, rvm_hpa(hpa), img->data, (size_t)img->len);
    struct rvm_region_map_plan mp;
    err = rvm_region_prepare_map(&k->regions, RVM_PARTITION_HYPERVISOR, rh, rvm_ipa(img->load_ipa),
                                 RVM_PERM_R | RVM_PERM_X, &e, &mp);
    rvm_kernel__must(k, err);
    if (err == RVM_OK) {
        rvm_region_commit_map(&k->regions, &mp);
    }
    k->kregs[rh.index].home_ipa = img->load_ipa;
    k->kregs[rh.index].home_perms = RVM_PERM_R | RVM_PERM_X;
    uint8_t m[RVM_SHA256_DIGEST_BYTES + 24];
    rvm_memcpy(m, hash, RVM_SHA256_DIGEST_BYTES);
    rvm_store_le64(m + 32, img->len);
    rvm_store_le64(m + 40, img->load_ipa);
    rvm_store_le64(m + 48, img->entry_pc);
    rvm_sha256_update(&k->images_ctx, m, sizeof(m));
    k->images_loaded++;
    if (out != NULL) {
        *out = rvm_kernel__part_handle(k, slot);
    }
    return RVM_OK;
}
