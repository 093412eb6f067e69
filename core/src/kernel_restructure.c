/* SPDX-License-Identifier: MIT */
/*
 * Split and merge, carried out (the coherence engine decides and re-checks; the kernel moves the
 * objects). docs/architecture.md ("Split and merge") states the rules; in short:
 *
 * Split of S into S and a new child C along the engine's last good cut (S's side is A, the other
 * side B):
 *   - channels of S whose other endpoint lies on side B follow C;
 *   - DATA regions of S (resident, not viewed by anyone) are scored (DC-9) and move to C when
 *     C scores higher; IMMUTABLE regions S has mapped stay with S and C gets a read-only view at
 *     the same guest address (shared code and constants); CODE regions stay with S;
 *   - capabilities follow the objects they name (DC-8): S's capabilities on moved regions and
 *     channels are rehomed to C; S's capabilities on objects of other partitions ("shared") are
 *     attenuated to READ, and C receives a READ copy derived from them when they carry GRANT;
 *     device leases stay with S.
 * Merge of B into A: every DC-11 precondition (coherence.h), then B's regions and channels move to
 * A, its capabilities are rehomed to A except those naming B itself, which go with every other
 * capability naming B, and B is removed.
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define PAGE RVM_PAGE_SIZE

/* Cut side of partition id in the engine's last good cut (RVM_MINCUT_SIDE_NONE if unknown). */
static uint8_t side_of(const struct rvm_kernel *k, rvm_partition_id id)
{
    uint32_t g;
    if (!k->coh.have_cut || rvm_graph_find(&k->coh.graph, id, &g) != RVM_OK) {
        return RVM_MINCUT_SIDE_NONE;
    }
    return k->coh.cut_side[g];
}

static bool other_side(const struct rvm_kernel *k, rvm_partition_id peer, uint8_t mine)
{
    uint8_t s = side_of(k, peer);
    return s != RVM_MINCUT_SIDE_NONE && s != mine;
}

/* Is the object a capability names one that partition `id` owns (so it is not "shared")? */
static bool owned_by(const struct rvm_kernel *k, const struct rvm_cap_slot *s, rvm_partition_id id)
{
    uint32_t slot;
    switch (s->type) {
    case RVM_CAP_TYPE_PARTITION:
        if (rvm_kernel__part_find(k, s->object, &slot) != RVM_OK) {
            return true; /* nothing to share */
        }
        return slot + 1u == id || k->parts[slot].creator == id;
    case RVM_CAP_TYPE_REGION: {
        const struct rvm_region *r = rvm_region_get(&k->regions, s->object);
        return r == NULL || r->owner == id;
    }
    case RVM_CAP_TYPE_COMM_EDGE:
        if (rvm_kernel__chan_find(k, s->object, &slot) != RVM_OK) {
            return true;
        }
        return k->chans[slot].a == id || k->chans[slot].b == id;
    default:
        return true; /* devices (leases) and the rest stay with the source */
    }
}

/* ------------------------------------------------------------------------------------------------
 * Split
 * --------------------------------------------------------------------------------------------- */

/* Per-region decision of a split, kept in the region's kreg (reserved[0]) while it runs. */
#define MOVE_TO_CHILD  1u
#define VIEW_FOR_CHILD 2u

/*
 * DC-9, in basis points (integer arithmetic, exact):
 *   score(X) = (5000 * local(X) + 3000 * avoided(X) + 2000 * size(X)) / 10000
 *   local(A)   = (internal + same-side traffic of S) / total traffic of S; local(B) = cross-cut
 *                traffic / total (no traffic at all: local(A) = 10000, local(B) = 0)
 *   avoided(X) = local(X) * residency(r) / 20000: a hot region saves more remote accesses
 *   size(X)    = 10000 - 10000 * (pages already given to X + pages of r) / DATA pages of S
 * C gets r when score(B) > score(A); regions are taken in slot order.
 */
static bool score_moves(uint32_t local_a, uint32_t local_b, uint32_t residency, uint64_t pages_a,
                        uint64_t pages_b, uint64_t npages, uint64_t total_pages)
{
    const uint64_t avoided_a = (uint64_t)local_a * residency / 20000u;
    const uint64_t avoided_b = (uint64_t)local_b * residency / 20000u;
    const uint64_t fill_a = (pages_a + npages) * 10000u / total_pages;
    const uint64_t fill_b = (pages_b + npages) * 10000u / total_pages;
    const uint64_t size_a = fill_a >= 10000u ? 0 : 10000u - fill_a;
    const uint64_t size_b = fill_b >= 10000u ? 0 : 10000u - fill_b;
    const uint64_t score_a = 5000u * local_a + 3000u * avoided_a + 2000u * size_a;
    const uint64_t score_b = 5000u * local_b + 3000u * avoided_b + 2000u * size_b;
    return score_b > score_a;
}

struct split_plan {
    uint32_t child;    /* slot */
    uint32_t moved;    /* regions moved */
    uint32_t views;    /* views made for the child */
    uint32_t channels; /* channels moved */
    uint32_t rehomed;
    uint32_t attenuated;
    uint32_t copies;
};

/* Decide the regions: k->order[0..n) the source's regions; the decision goes into
 * k->kregs[s].reserved[0]. */
static void plan_regions(struct rvm_kernel *k, rvm_partition_id src, uint32_t n,
                         struct split_plan *sp)
{
    uint8_t mine = side_of(k, src);
    uint64_t internal = 0;
    uint64_t same = 0;
    uint64_t cross = 0;
    uint32_t g;
    if (rvm_graph_find(&k->coh.graph, src, &g) == RVM_OK) {
        internal = rvm_graph_internal(&k->coh.graph, g);
        for (uint32_t j = 0; j < k->coh.graph.capacity; j++) { /* bound: graph capacity */
            if (j == g || !rvm_graph_slot_live(&k->coh.graph, j)) {
                continue;
            }
            uint64_t w = rvm_graph_w(&k->coh.graph, g, j);
            uint8_t side = k->coh.have_cut ? k->coh.cut_side[j] : RVM_MINCUT_SIDE_NONE;
            if (side != RVM_MINCUT_SIDE_NONE && side != mine) {
                cross += w;
            } else {
                same += w;
            }
        }
    }
    const uint64_t total = internal + same + cross;
    const uint32_t local_b = (uint32_t)(total == 0 ? 0 : cross * 10000u / total);
    const uint32_t local_a = 10000u - local_b;
    uint64_t data_pages = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the source */
        const struct rvm_region *r = &k->regions.slots[k->order[i]];
        if (r->type == RVM_REGION_DATA) {
            data_pages += r->npages;
        }
    }
    uint64_t pages_a = 0;
    uint64_t pages_b = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the source */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        k->kregs[s].reserved[0] = 0;
        const bool resident = r->tier.tier == RVM_TIER_HOT || r->tier.tier == RVM_TIER_WARM;
        if (r->type == RVM_REGION_DATA && resident && r->shares == 0) {
            if (score_moves(local_a, local_b, rvm_tier_residency(&r->tier), pages_a, pages_b,
                            r->npages, data_pages)) {
                k->kregs[s].reserved[0] = MOVE_TO_CHILD;
                pages_b += r->npages;
                sp->moved++;
            } else {
                pages_a += r->npages;
            }
        } else if (r->type == RVM_REGION_IMMUTABLE && resident && r->mapped) {
            k->kregs[s].reserved[0] = VIEW_FOR_CHILD;
            sp->views++;
        }
    }
}

/* A refused split leaves no trace, not even the decisions plan_regions kept in the kregs. */
static void forget_decisions(struct rvm_kernel *k, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the source */
        k->kregs[k->order[i]].reserved[0] = 0;
    }
}

static bool chan_moves(const struct rvm_kernel *k, const struct rvm_kchan *c, rvm_partition_id src,
                       uint8_t mine)
{
    if (!c->used || c->a == c->b) {
        return false;
    }
    return (c->a == src && other_side(k, c->b, mine)) || (c->b == src && other_side(k, c->a, mine));
}

/* Does a capability held by the source follow to the child (rehome)? Its object moved. */
static bool cap_follows(const struct rvm_kernel *k, const struct rvm_cap_slot *s,
                        rvm_partition_id src, uint8_t mine)
{
    uint32_t slot;
    if (s->type == RVM_CAP_TYPE_REGION) {
        const struct rvm_region *r = rvm_region_get(&k->regions, s->object);
        return r != NULL && r->owner == src &&
               k->kregs[s->object.index].reserved[0] == MOVE_TO_CHILD;
    }
    if (s->type == RVM_CAP_TYPE_COMM_EDGE && rvm_kernel__chan_find(k, s->object, &slot) == RVM_OK) {
        return chan_moves(k, &k->chans[slot], src, mine);
    }
    return false;
}

static void plan_caps(const struct rvm_kernel *k, rvm_partition_id src, struct split_plan *sp)
{
    const uint8_t mine = side_of(k, src);
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) == 0 || s->owner != src) {
            continue;
        }
        if (cap_follows(k, s, src, mine)) {
            sp->rehomed++;
        } else if (!owned_by(k, s, src)) {
            sp->attenuated++;
            sp->copies += (s->rights & (RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE)) != 0 &&
                                  s->depth < RVM_CAP_MAX_DEPTH
                              ? 1u
                              : 0u;
        }
    }
}

static uint32_t free_region_slots(const struct rvm_kernel *k)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        n += k->regions.slots[i].used ? 0u : 1u;
    }
    return n;
}

static void commit_regions_to(struct rvm_kernel *k, uint32_t n, rvm_partition_id to,
                              bool all_regions)
{
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the source */
        const uint32_t s = k->order[i];
        struct rvm_region *r = &k->regions.slots[s];
        if (!all_regions && k->kregs[s].reserved[0] != MOVE_TO_CHILD) {
            continue;
        }
        if (!r->used || r->type == RVM_REGION_SHARED) {
            continue;
        }
        const struct rvm_handle h = rvm_kernel__region_handle(k, s);
        struct rvm_witness_entry e;
        const bool was_mapped = r->mapped != 0;
        const uint64_t ipa = r->ipa;
        const uint32_t perms = r->map_perms;
        if (was_mapped) {
            struct rvm_region_map_plan mp;
            enum rvm_err err =
                rvm_region_prepare_unmap(&k->regions, RVM_PARTITION_HYPERVISOR, h, &e, &mp);
            rvm_kernel__must(k, err);
            if (err == RVM_OK) {
                rvm_region_commit_unmap(&k->regions, &mp);
            }
        }
        struct rvm_region_transfer_plan tp;
        enum rvm_err err =
            rvm_region_prepare_transfer(&k->regions, RVM_PARTITION_HYPERVISOR, h, to, &e, &tp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_region_commit_transfer(&k->regions, &tp);
        }
        /* The old owner's checkpoint does not cover the new owner. */
        rvm_kernel__image_free(k, k->kregs[s].ckpt);
        k->kregs[s].ckpt = RVM_KERNEL_NONE;
        if (was_mapped) {
            struct rvm_region_map_plan mp;
            err = rvm_region_prepare_map(&k->regions, RVM_PARTITION_HYPERVISOR, h, rvm_ipa(ipa),
                                         perms, &e, &mp);
            rvm_kernel__must(k, err);
            if (err == RVM_OK) {
                rvm_region_commit_map(&k->regions, &mp);
            }
        }
        k->kregs[s].reserved[0] = 0;
    }
}

static void rehome(struct rvm_kernel *k, uint32_t i, rvm_partition_id to)
{
    struct rvm_cap_plan plan;
    enum rvm_err err =
        rvm_cap_prepare_rehome(&k->caps, rvm_cap_handle(i, k->caps.slots[i].generation), to, &plan);
    rvm_kernel__must(k, err);
    if (err == RVM_OK) {
        rvm_cap_commit_rehome(&k->caps, &plan);
    }
}

static void commit_split_caps(struct rvm_kernel *k, rvm_partition_id src, rvm_partition_id child)
{
    const uint8_t mine = side_of(k, src);
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) == 0 || s->owner != src) {
            continue;
        }
        if (cap_follows(k, s, src, mine)) {
            rehome(k, i, child);
        } else if (!owned_by(k, s, src)) {
            const struct rvm_handle h = rvm_cap_handle(i, s->generation);
            if ((s->rights & (RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE)) != 0 &&
                s->depth < RVM_CAP_MAX_DEPTH) {
                (void)rvm_kernel__derive(k, h, RVM_CAP_READ, child);
            }
            struct rvm_cap_attenuate_args a = {h,
                                               (uint8_t)(k->caps.slots[i].rights & RVM_CAP_READ)};
            struct rvm_witness_entry e;
            struct rvm_cap_plan plan;
            struct rvm_witness_rejection rej;
            enum rvm_err err =
                rvm_cap_prepare_attenuate(&k->caps, RVM_PARTITION_HYPERVISOR, &a, &e, &plan, &rej);
            rvm_kernel__must(k, err);
            if (err == RVM_OK) {
                rvm_cap_commit_attenuate(&k->caps, &plan);
            }
        }
    }
}

/*
 * The platform side of a split: moved regions leave the source's space and enter the child's,
 * views appear in the child's, all at the same guest addresses (the child's space is empty).
 * Undone as a whole when a step fails.
 */
static enum rvm_err split_map_regions(struct rvm_kernel *k, uint32_t n, rvm_partition_id cid)
{
    enum rvm_err err = RVM_OK;
    struct rvm_kernel_s2 u = {0};
    for (uint32_t i = 0; i < n && err == RVM_OK; i++) { /* bound: regions of the source */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        const uint8_t d = k->kregs[s].reserved[0];
        if (d == MOVE_TO_CHILD && r->mapped) {
            err = rvm_kernel__s2_unmap(k, &u, s);
            if (err == RVM_OK) {
                err = rvm_kernel__s2_map(k, &u, s, cid, r->ipa, r->map_perms);
            }
        } else if (d == VIEW_FOR_CHILD) {
            err = rvm_kernel__s2_map(k, &u, s, cid, r->ipa, r->map_perms);
        }
    }
    if (err != RVM_OK) {
        rvm_kernel__s2_undo(k, &u);
    }
    return err;
}

/* The channels that move with the child: their end and the messages the source sent on them. */
static void commit_split_channels(struct rvm_kernel *k, rvm_partition_id src, rvm_partition_id cid,
                                  uint8_t mine)
{
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        struct rvm_kchan *c = &k->chans[i];
        if (chan_moves(k, c, src, mine)) {
            if (c->a == src) {
                c->a = cid;
            } else {
                c->b = cid;
            }
            /* Messages the source sent on it go with it: they now come from the child (a
             * queued message names its channel's sender, or a live partition). */
            for (uint32_t j = 0; j < c->count; j++) { /* bound: queue_depth */
                struct rvm_kmsg *m =
                    &k->msgs[(size_t)i * k->cfg.queue_depth + (c->head + j) % k->cfg.queue_depth];
                if (m->sender == src) {
                    m->sender = cid;
                }
            }
        }
    }
}

/* The child's read-only views of the source's regions planned as VIEW_FOR_CHILD: shared, mapped
 * at the region's address and granted to the child. */
static void commit_split_views(struct rvm_kernel *k, uint32_t n, rvm_partition_id cid)
{
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the source */
        const uint32_t s = k->order[i];
        if (k->kregs[s].reserved[0] != VIEW_FOR_CHILD) {
            continue;
        }
        k->kregs[s].reserved[0] = 0;
        const struct rvm_region *r = &k->regions.slots[s];
        const uint64_t ipa = r->ipa;
        const uint32_t perms = r->map_perms;
        struct rvm_witness_entry e;
        struct rvm_region_create_plan vp;
        enum rvm_err e2 =
            rvm_region_prepare_share(&k->regions, RVM_PARTITION_HYPERVISOR,
                                     rvm_kernel__region_handle(k, s), cid, perms, &e, &vp);
        rvm_kernel__must(k, e2);
        if (e2 != RVM_OK) {
            continue;
        }
        const struct rvm_handle v = rvm_region_commit_share(&k->regions, &vp);
        rvm_memset(&k->kregs[v.index], 0, sizeof(k->kregs[v.index]));
        k->kregs[v.index].image = RVM_KERNEL_NONE;
        k->kregs[v.index].ckpt = RVM_KERNEL_NONE;
        k->kregs[v.index].home_ipa = ipa;
        k->kregs[v.index].home_perms = (uint8_t)perms;
        struct rvm_region_map_plan mp;
        e2 = rvm_region_prepare_map(&k->regions, RVM_PARTITION_HYPERVISOR, v, rvm_ipa(ipa), perms,
                                    &e, &mp);
        rvm_kernel__must(k, e2);
        if (e2 == RVM_OK) {
            rvm_region_commit_map(&k->regions, &mp);
        }
        (void)rvm_kernel__mint(
            k, RVM_CAP_TYPE_REGION,
            (uint8_t)(RVM_CAP_READ | ((perms & RVM_PERM_X) != 0 ? RVM_CAP_EXECUTE : 0u)), cid, v);
    }
}

enum rvm_err rvm_kernel_partition_split(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth,
                                        struct rvm_handle source, struct rvm_handle *child)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_PARTITION_SPLIT, rvm_handle_pack(source));
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__part_find(k, source, &slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P2, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE, source);
    if (err != RVM_OK) {
        return err;
    }
    if (k->cfg.coherence_nodes == 0) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_UNSUPPORTED);
    }
    const rvm_partition_id src = slot + 1u;
    struct rvm_kpart *sp_part = &k->parts[slot];
    struct split_plan sp;
    rvm_memset(&sp, 0, sizeof(sp));
    err = rvm_kernel__part_check_new(k, sp_part->affinity, &sp.child);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    struct rvm_coherence_split_request cr = {
        src, sp.child + 1u,
        (sp_part->state == RVM_KPART_RUNNING ? (uint32_t)RVM_COH_SPLIT_SOURCE_RUNNING : 0u) |
            (uint32_t)RVM_COH_SPLIT_P2_PROOF,
        op.cap_hash};
    struct rvm_witness_entry ce;
    struct rvm_coherence_split_plan cp;
    err = rvm_coherence_prepare_split(&k->coh, actor, &cr, &ce, &cp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    const uint32_t n = rvm_kernel__regions_of(k, src);
    plan_regions(k, src, n, &sp);
    plan_caps(k, src, &sp);
    const uint8_t mine = side_of(k, src);
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        sp.channels += chan_moves(k, &k->chans[i], src, mine) ? 1u : 0u;
    }
    if (free_region_slots(k) < sp.views) {
        err = RVM_ERR_NO_SPACE;
    } else if (!rvm_kernel__caps_free(k, 2u + sp.views + sp.copies)) {
        err = RVM_ERR_CAP_TABLE_FULL;
    }
    if (err == RVM_OK) {
        err = rvm_kernel__reserve(&op, 1);
        if (err != RVM_OK) {
            forget_decisions(k, n);
            return err;
        }
        err = split_map_regions(k, n, sp.child + 1u);
    }
    if (err != RVM_OK) {
        forget_decisions(k, n);
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    const struct rvm_handle ch = rvm_kernel__part_handle(k, sp.child);
    rvm_kernel__must(k, rvm_kernel__append(&op, 0, rvm_handle_pack(ch),
                                           (uint64_t)sp.moved | (uint64_t)sp.channels << 16 |
                                               (uint64_t)sp.rehomed << 32 |
                                               (uint64_t)sp.attenuated << 48));

    /* The child: the source's launch state, owned by the source's creator. */
    struct rvm_kernel_partition_req req;
    rvm_memset(&req, 0, sizeof(req));
    req.entry_pc = sp_part->entry_pc;
    req.args[0] = sp_part->args[0];
    req.args[1] = sp_part->args[1];
    req.affinity = sp_part->affinity;
    req.urgency = sp_part->urgency;
    const rvm_partition_id cid = sp.child + 1u;
    rvm_kernel__part_commit_new(k, sp.child, sp_part->creator, &req, false);
    rvm_coherence_commit_split(&k->coh, &cp);
    /* Capabilities first (they look at where the regions are now), then the objects. */
    commit_split_caps(k, src, cid);
    commit_split_channels(k, src, cid, mine);
    commit_split_views(k, n, cid);
    commit_regions_to(k, n, cid, false);
    rvm_kernel__tlb_flush(k, src);
    k->parts[sp.child].state = RVM_KPART_RUNNING;
    rvm_kernel__run(k, sp.child);
    if (child != NULL) {
        *child = ch;
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Merge
 * --------------------------------------------------------------------------------------------- */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Guest ranges (mapped, or remembered homes) of `a` and `b` overlap. */
static bool spaces_overlap(const struct rvm_kernel *k, rvm_partition_id a, rvm_partition_id b)
{
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *ri = &k->regions.slots[i];
        if (!ri->used || ri->owner != b || k->kregs[i].home_perms == 0) {
            continue;
        }
        const uint64_t len_i = (uint64_t)ri->npages << RVM_PAGE_SHIFT;
        for (uint32_t j = 0; j < k->regions.capacity; j++) { /* bound: max_regions */
            const struct rvm_region *rj = &k->regions.slots[j];
            if (rj->used && rj->owner == a && k->kregs[j].home_perms != 0 &&
                ranges_overlap(k->kregs[i].home_ipa, len_i, k->kregs[j].home_ipa,
                               (uint64_t)rj->npages << RVM_PAGE_SHIFT)) {
                return true;
            }
        }
    }
    return false;
}

static uint32_t caps_held(const struct rvm_kernel *k, rvm_partition_id id,
                          struct rvm_handle exclude_object)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) != 0 && s->owner == id &&
            !(s->type == RVM_CAP_TYPE_PARTITION && rvm_cap_handle_eq(s->object, exclude_object))) {
            n++;
        }
    }
    return n;
}

static uint32_t merge_facts(const struct rvm_kernel *k, rvm_partition_id a, rvm_partition_id b,
                            struct rvm_handle bh)
{
    uint32_t f = RVM_COH_MERGE_P2_PROOF; /* the gate passed (or the hypervisor asked) */
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *c = &k->chans[i];
        if (c->used && ((c->a == a && c->b == b) || (c->a == b && c->b == a))) {
            f |= RVM_COH_MERGE_SHARED_CHANNEL;
        }
    }
    bool lease = false;
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        lease |= k->devs[i].used && k->devs[i].leased && k->devs[i].holder == b;
    }
    if (!lease) {
        f |= RVM_COH_MERGE_NO_LEASE_CONFLICT;
    }
    if (!spaces_overlap(k, a, b)) {
        f |= RVM_COH_MERGE_NO_REGION_OVERLAP;
    }
    if (caps_held(k, a, bh) + caps_held(k, b, bh) <= k->cfg.max_caps_per_partition) {
        f |= RVM_COH_MERGE_CAP_INTERSECTION;
    }
    const uint8_t sa = k->parts[a - 1u].state;
    const uint8_t sb = k->parts[b - 1u].state;
    if (sa == RVM_KPART_RUNNING || sa == RVM_KPART_SUSPENDED) {
        f |= RVM_COH_MERGE_A_ACTIVE;
    }
    if (sb == RVM_KPART_RUNNING || sb == RVM_KPART_SUSPENDED) {
        f |= RVM_COH_MERGE_B_ACTIVE;
    }
    return f;
}

static uint8_t merge_stage(enum rvm_err err)
{
    return err == RVM_ERR_COHERENCE_PROOF                                ? RVM_STAGE_P2
           : err == RVM_ERR_INVALID_ARGUMENT || err == RVM_ERR_NOT_FOUND ? RVM_STAGE_DECODE
                                                                         : RVM_STAGE_PRECONDITION;
}

enum rvm_err rvm_kernel_partition_merge(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth_absorber,
                                        struct rvm_handle absorber,
                                        const struct rvm_kernel_auth *auth_absorbed,
                                        struct rvm_handle absorbed)
{
    struct rvm_kop op;
    uint32_t sa;
    uint32_t sb;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_PARTITION_MERGE, rvm_handle_pack(absorber));
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__part_find(k, absorber, &sa);
    if (err == RVM_OK) {
        err = rvm_kernel__part_find(k, absorbed, &sb);
    }
    if (err == RVM_OK && sa == sb) {
        err = RVM_ERR_INVALID_ARGUMENT;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err = rvm_kernel__gate(&op, auth_absorber, RVM_PROOF_P2, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE,
                           absorber);
    if (err == RVM_OK) {
        err = rvm_kernel__gate(&op, auth_absorbed, RVM_PROOF_P1, RVM_CAP_TYPE_PARTITION,
                               RVM_CAP_WRITE, absorbed);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (k->cfg.coherence_nodes == 0) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_UNSUPPORTED);
    }
    const rvm_partition_id a = sa + 1u;
    const rvm_partition_id b = sb + 1u;
    struct rvm_coherence_merge_request mr = {a, b, merge_facts(k, a, b, absorbed), op.cap_hash};
    struct rvm_witness_entry ce;
    struct rvm_coherence_merge_plan mp;
    err = rvm_coherence_prepare_merge(&k->coh, actor, &mr, &ce, &mp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, merge_stage(err), err);
    }
    const uint32_t n = rvm_kernel__regions_of(k, b);
    uint32_t moved = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the absorbed partition */
        const struct rvm_region *r = &k->regions.slots[k->order[i]];
        if (r->shares != 0) {
            /* Another partition (perhaps the absorber) views it: a transfer would break the view.
             */
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
        }
        moved += r->type != RVM_REGION_SHARED ? 1u : 0u;
    }
    uint32_t chans = 0;
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        chans += k->chans[i].used && (k->chans[i].a == b || k->chans[i].b == b) ? 1u : 0u;
    }
    const uint32_t rehomed = caps_held(k, b, absorbed);
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_s2 u = {0};
    for (uint32_t i = 0; i < n && err == RVM_OK; i++) { /* bound: regions of the absorbed one */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (!r->mapped) {
            continue;
        }
        err = rvm_kernel__s2_unmap(k, &u, s);
        if (err == RVM_OK && r->type != RVM_REGION_SHARED) {
            err = rvm_kernel__s2_map(k, &u, s, a, r->ipa, r->map_perms);
        }
    }
    if (err != RVM_OK) {
        rvm_kernel__s2_undo(k, &u);
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(
        k, rvm_kernel__append(&op, 0, rvm_handle_pack(absorbed),
                              (uint64_t)moved | (uint64_t)chans << 16 | (uint64_t)rehomed << 32));
    rvm_coherence_commit_merge(&k->coh, &mp);
    rvm_kernel__stop(k, sb);
    rvm_kernel__tlb_flush(k, b);
    /* Capabilities naming the absorbed partition go; the rest of what it holds follows A. */
    (void)rvm_kernel__revoke_object(k, RVM_CAP_TYPE_PARTITION, absorbed);
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) != 0 && s->owner == b) {
            rehome(k, i, a);
        }
    }
    /* Views it held are dropped (the capabilities on them were rehomed, so revoke those too). */
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the absorbed partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (r->type != RVM_REGION_SHARED) {
            continue;
        }
        const struct rvm_handle h = rvm_kernel__region_handle(k, s);
        struct rvm_witness_entry e;
        struct rvm_region_map_plan um;
        if (r->mapped &&
            rvm_region_prepare_unmap(&k->regions, RVM_PARTITION_HYPERVISOR, h, &e, &um) == RVM_OK) {
            rvm_region_commit_unmap(&k->regions, &um);
        }
        (void)rvm_kernel__revoke_object(k, RVM_CAP_TYPE_REGION, h);
        struct rvm_region_release_plan rp;
        enum rvm_err e2 =
            rvm_region_prepare_unshare(&k->regions, RVM_PARTITION_HYPERVISOR, h, &e, &rp);
        rvm_kernel__must(k, e2);
        if (e2 == RVM_OK) {
            rvm_region_commit_unshare(&k->regions, &rp);
        }
        rvm_memset(&k->kregs[s], 0, sizeof(k->kregs[s]));
        k->kregs[s].image = RVM_KERNEL_NONE;
        k->kregs[s].ckpt = RVM_KERNEL_NONE;
    }
    commit_regions_to(k, n, a, true);
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        struct rvm_kchan *c = &k->chans[i];
        if (c->used && c->a == b) {
            c->a = a;
        }
        if (c->used && c->b == b) {
            c->b = a;
        }
        /* Messages b sent and still queued now come from the absorber, like everything else of
         * b's: b's id must not survive the merge (rvm_kernel_refs, rvm_kernel_check). */
        for (uint32_t j = 0; c->used && j < c->count; j++) { /* bound: queue_depth */
            struct rvm_kmsg *m =
                &k->msgs[(size_t)i * k->cfg.queue_depth + (c->head + j) % k->cfg.queue_depth];
            if (m->sender == b) {
                m->sender = a;
            }
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state != RVM_KPART_FREE && k->parts[i].creator == b) {
            k->parts[i].creator = a;
        }
    }
    struct rvm_kernel_destroy_counts dc;
    rvm_kernel__destroy_commit(k, sb, &dc);
    return RVM_OK;
}

enum rvm_err rvm_kernel__apply_decision(struct rvm_kernel *k,
                                        const struct rvm_coherence_decision *d)
{
    if (!rvm_kernel__part_live_id(k, d->a)) {
        return RVM_ERR_NOT_FOUND;
    }
    const struct rvm_handle a = rvm_kernel__part_handle(k, d->a - 1u);
    if (d->kind == RVM_COH_DECIDE_SPLIT) {
        return rvm_kernel_partition_split(k, RVM_PARTITION_HYPERVISOR, NULL, a, NULL);
    }
    if (!rvm_kernel__part_live_id(k, d->b)) {
        return RVM_ERR_NOT_FOUND;
    }
    return rvm_kernel_partition_merge(k, RVM_PARTITION_HYPERVISOR, NULL, a, NULL,
                                      rvm_kernel__part_handle(k, d->b - 1u));
}
