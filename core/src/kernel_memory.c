/* SPDX-License-Identifier: MIT */
/*
 * Regions and capabilities as kernel operations: the memory and capability modules' prepare /
 * commit pairs behind the kernel's gate, with the kernel's own preconditions (the owner or
 * recipient exists, capabilities for new objects, scrubbing, leases that end with their
 * capability).
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

static uint8_t perm_rights(uint32_t perms)
{
    uint8_t r = RVM_CAP_READ;
    r |= (perms & RVM_PERM_W) != 0 ? RVM_CAP_WRITE : 0u;
    r |= (perms & RVM_PERM_X) != 0 ? RVM_CAP_EXECUTE : 0u;
    return r;
}

/* Stage of a region-module refusal: malformed values are decode errors. */
static uint8_t region_stage(enum rvm_err err)
{
    return err == RVM_ERR_INVALID_ARGUMENT || err == RVM_ERR_WX || err == RVM_ERR_ALIGNMENT ||
                   err == RVM_ERR_OVERFLOW || err == RVM_ERR_NOT_FOUND || err == RVM_ERR_STALE
               ? RVM_STAGE_DECODE
               : RVM_STAGE_PRECONDITION;
}

static enum rvm_err region_target(struct rvm_kop *op, struct rvm_handle h)
{
    enum rvm_err err = rvm_region_lookup(&op->k->regions, h);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, err);
    }
    return RVM_OK;
}

static void kreg_reset(struct rvm_kernel *k, uint32_t s)
{
    rvm_memset(&k->kregs[s], 0, sizeof(k->kregs[s]));
    k->kregs[s].image = RVM_KERNEL_NONE;
    k->kregs[s].ckpt = RVM_KERNEL_NONE;
}

/* ------------------------------------------------------------------------------------------------
 * Regions
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_region_create(struct rvm_kernel *k, rvm_partition_id actor,
                                      const struct rvm_kernel_auth *auth, struct rvm_handle owner,
                                      uint32_t type, uint32_t perms, uint32_t npages,
                                      struct rvm_handle *out, struct rvm_handle *cap)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_REGION_CREATE, 0);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t oslot;
    err = rvm_kernel__part_find(k, owner, &oslot);
    if (err == RVM_OK && actor != RVM_PARTITION_HYPERVISOR && oslot + 1u != actor) {
        err = RVM_ERR_PERMISSION; /* a partition makes regions for itself */
    }
    if (err == RVM_OK && type != RVM_REGION_DATA && type != RVM_REGION_CODE &&
        type != RVM_REGION_IMMUTABLE) {
        err = RVM_ERR_INVALID_ARGUMENT;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE, owner);
    if (err != RVM_OK) {
        return err;
    }
    if (k->parts[oslot].state == RVM_KPART_HIBERNATED) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    struct rvm_region_create_req rq = {oslot + 1u, type, perms, npages, rvm_hpa(0)};
    struct rvm_witness_entry e;
    struct rvm_region_create_plan cp;
    err = rvm_region_prepare_create(&k->regions, actor, &rq, &e, &cp);
    if (err == RVM_OK && !rvm_kernel__caps_free(k, 1)) {
        err = RVM_ERR_CAP_TABLE_FULL;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, region_stage(err), err);
    }
    op.target = e.target;
    const struct rvm_handle root = rvm_kernel__next_cap(k);
    err = rvm_kernel__append(&op, e.flags, e.payload, e.aux);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_handle h = rvm_region_commit_create(&k->regions, &cp);
    kreg_reset(k, h.index);
    (void)rvm_kernel__mint(
        k, RVM_CAP_TYPE_REGION,
        (uint8_t)(perm_rights(perms) | RVM_CAP_GRANT | RVM_CAP_REVOKE | RVM_CAP_PROVE), oslot + 1u,
        h);
    if (out != NULL) {
        *out = h;
    }
    if (cap != NULL) {
        *cap = root;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_region_map(struct rvm_kernel *k, rvm_partition_id actor,
                                   const struct rvm_kernel_auth *auth, struct rvm_handle region,
                                   uint64_t ipa, uint32_t perms)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_REGION_MAP, rvm_handle_pack(region));
    if (err == RVM_OK) {
        err = region_target(&op, region);
    }
    if (err != RVM_OK) {
        return err;
    }
    if ((perms & ~(uint32_t)(RVM_PERM_R | RVM_PERM_W | RVM_PERM_X)) != 0) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    err =
        rvm_kernel__gate(&op, auth, RVM_PROOF_P2, RVM_CAP_TYPE_REGION, perm_rights(perms), region);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = rvm_region_get(&k->regions, region);
    const struct rvm_kpart *owner = &k->parts[r->owner - 1u];
    if (owner->state == RVM_KPART_HIBERNATED) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    struct rvm_witness_entry e;
    struct rvm_region_map_plan mp;
    err = rvm_region_prepare_map(&k->regions, actor, region, rvm_ipa(ipa), perms, &e, &mp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, region_stage(err), err);
    }
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_region_hal_map(&k->regions, &mp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, e.flags, e.payload, e.aux));
    rvm_region_commit_map(&k->regions, &mp);
    k->kregs[region.index].home_ipa = ipa;
    k->kregs[region.index].home_perms = (uint8_t)perms;
    return RVM_OK;
}

enum rvm_err rvm_kernel_region_unmap(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle region)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_REGION_UNMAP, rvm_handle_pack(region));
    if (err == RVM_OK) {
        err = region_target(&op, region);
    }
    if (err != RVM_OK) {
        return err;
    }
    /* REVOKE, not READ: READ only names the region, and a partition that was granted a read
     * capability must not be able to tear down its owner's mapping. Every region root carries
     * REVOKE; the owner can delegate it on purpose. A borrower unmaps its own read-only view
     * (whose capability is READ (| EXECUTE)) with READ. */
    const bool view = rvm_region_get(&k->regions, region)->type == RVM_REGION_SHARED;
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_REGION,
                           view ? RVM_CAP_READ : RVM_CAP_REVOKE, region);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_witness_entry e;
    struct rvm_region_map_plan mp;
    err = rvm_region_prepare_unmap(&k->regions, actor, region, &e, &mp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, region_stage(err), err);
    }
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_region_hal_unmap(&k->regions, &mp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
    }
    rvm_kernel__must(k, rvm_kernel__append(&op, e.flags, e.payload, e.aux));
    rvm_region_commit_unmap(&k->regions, &mp);
    k->kregs[region.index].home_ipa = 0;
    k->kregs[region.index].home_perms = 0;
    rvm_kernel__tlb_flush(k, mp.owner);
    return RVM_OK;
}

enum rvm_err rvm_kernel_region_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                       const struct rvm_kernel_auth *auth, struct rvm_handle region)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_REGION_DESTROY, rvm_handle_pack(region));
    if (err == RVM_OK) {
        err = region_target(&op, region);
    }
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = rvm_region_get(&k->regions, region);
    const bool view = r->type == RVM_REGION_SHARED;
    if (view) {
        op.kind = RVM_ACT_REGION_UNSHARE;
    }
    /* A borrower releases its own read-only view with READ; destroying the region itself is an
     * administrative act on the object and needs REVOKE (see region_unmap). */
    err = rvm_kernel__gate(&op, auth, view ? RVM_PROOF_P1 : RVM_PROOF_P2, RVM_CAP_TYPE_REGION,
                           view ? RVM_CAP_READ : RVM_CAP_REVOKE, region);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_witness_entry e;
    struct rvm_region_release_plan rp;
    err = view ? rvm_region_prepare_unshare(&k->regions, actor, region, &e, &rp)
               : rvm_region_prepare_destroy(&k->regions, actor, region, &e, &rp);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, region_stage(err), err);
    }
    err = rvm_kernel__append(&op, e.flags, e.payload, e.aux);
    if (err != RVM_OK) {
        return err;
    }
    const bool scrub = rvm_kernel__region_is_ram(r) && r->hpa != 0;
    const uint64_t hpa = r->hpa;
    const uint32_t order = r->order;
    (void)rvm_kernel__revoke_object(k, RVM_CAP_TYPE_REGION, region);
    rvm_kernel__image_free(k, k->kregs[region.index].image);
    rvm_kernel__image_free(k, k->kregs[region.index].ckpt);
    if (view) {
        rvm_region_commit_unshare(&k->regions, &rp);
    } else {
        rvm_region_commit_destroy(&k->regions, &rp);
    }
    if (scrub) {
        rvm_kernel__scrub(k, hpa, order);
    }
    kreg_reset(k, region.index);
    return RVM_OK;
}

enum rvm_err rvm_kernel_region_share(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle region,
                                     struct rvm_handle borrower, uint32_t perms,
                                     struct rvm_handle *view, struct rvm_handle *view_cap)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_REGION_SHARE, rvm_handle_pack(region));
    if (err == RVM_OK) {
        err = region_target(&op, region);
    }
    if (err != RVM_OK) {
        return err;
    }
    uint32_t bslot;
    err = rvm_kernel__part_find(k, borrower, &bslot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_REGION, RVM_CAP_GRANT, region);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_witness_entry e;
    struct rvm_region_create_plan cp;
    err = rvm_region_prepare_share(&k->regions, actor, region, bslot + 1u, perms, &e, &cp);
    if (err == RVM_OK && !rvm_kernel__caps_free(k, 1)) {
        err = RVM_ERR_CAP_TABLE_FULL;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, region_stage(err), err);
    }
    const struct rvm_handle vcap = rvm_kernel__next_cap(k);
    op.target = e.target;
    err = rvm_kernel__append(&op, e.flags, e.payload, e.aux);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_handle v = rvm_region_commit_share(&k->regions, &cp);
    kreg_reset(k, v.index);
    (void)rvm_kernel__mint(k, RVM_CAP_TYPE_REGION, perm_rights(perms & ~(uint32_t)RVM_PERM_W),
                           bslot + 1u, v);
    if (view != NULL) {
        *view = v;
    }
    if (view_cap != NULL) {
        *view_cap = vcap;
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Capabilities
 * --------------------------------------------------------------------------------------------- */

/* Append the capability module's record (or its rejection) under the kernel's rules. */
static enum rvm_err cap_witness(struct rvm_kernel *k, enum rvm_err prepared,
                                const struct rvm_witness_entry *e,
                                const struct rvm_witness_rejection *rej)
{
    if (prepared != RVM_OK) {
        (void)rvm_witness_reject(&k->log, rej);
        return prepared;
    }
    return rvm_witness_append(&k->log, e, NULL);
}

enum rvm_err rvm_kernel_cap_grant(struct rvm_kernel *k, rvm_partition_id actor,
                                  struct rvm_handle source, struct rvm_handle recipient,
                                  uint8_t rights, uint64_t badge, struct rvm_handle *out)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_CAP_GRANT, rvm_handle_pack(source));
    if (err != RVM_OK) {
        return err;
    }
    uint32_t rslot;
    err = rvm_kernel__part_find(k, recipient, &rslot); /* the kernel's precondition (cap.h) */
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    struct rvm_cap_derive_args a = {source, rights, badge, rslot + 1u};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    const bool delegate = rslot + 1u == actor;
    err = delegate ? rvm_cap_prepare_delegate(&k->caps, actor, &a, &e, &plan, &rej)
                   : rvm_cap_prepare_grant(&k->caps, actor, &a, &e, &plan, &rej);
    err = cap_witness(k, err, &e, &rej);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_grant(&k->caps, &plan);
    if (out != NULL) {
        *out = rvm_cap_plan_handle(&plan);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_cap_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                   struct rvm_handle authority, struct rvm_handle target,
                                   uint32_t *released)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_CAP_REVOKE, rvm_handle_pack(target));
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_cap_revoke_args a = {authority, target};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    err = cap_witness(k, rvm_cap_prepare_revoke(&k->caps, actor, &a, &e, &plan, &rej), &e, &rej);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_revoke(&k->caps, &plan);
    rvm_kernel__leases_sync(k);
    if (released != NULL) {
        *released = plan.count;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_cap_attenuate(struct rvm_kernel *k, rvm_partition_id actor,
                                      struct rvm_handle cap, uint8_t rights)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_CAP_ATTENUATE, rvm_handle_pack(cap));
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_cap_attenuate_args a = {cap, rights};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    err = cap_witness(k, rvm_cap_prepare_attenuate(&k->caps, actor, &a, &e, &plan, &rej), &e, &rej);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_attenuate(&k->caps, &plan);
    return RVM_OK;
}

enum rvm_err rvm_kernel_cap_epoch_advance(struct rvm_kernel *k, rvm_partition_id actor)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_CAP_EPOCH_ADVANCE, 0);
    if (err != RVM_OK) {
        return err;
    }
    if (actor != RVM_PARTITION_HYPERVISOR) {
        return rvm_kernel__refuse(&op, RVM_STAGE_P1, RVM_ERR_PERMISSION);
    }
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    err = cap_witness(k, rvm_cap_prepare_epoch_advance(&k->caps, &e, &plan, &rej), &e, &rej);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_epoch_advance(&k->caps, &plan);
    return RVM_OK;
}

enum rvm_err rvm_kernel_cap_epoch_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                         uint32_t epoch, uint32_t *released)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_CAP_EPOCH_REVOKE, 0);
    if (err != RVM_OK) {
        return err;
    }
    if (actor != RVM_PARTITION_HYPERVISOR) {
        return rvm_kernel__refuse(&op, RVM_STAGE_P1, RVM_ERR_PERMISSION);
    }
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    err = cap_witness(k, rvm_cap_prepare_epoch_revoke(&k->caps, epoch, &e, &plan, &rej), &e, &rej);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_epoch_revoke(&k->caps, &plan);
    rvm_kernel__leases_sync(k);
    if (released != NULL) {
        *released = plan.count;
    }
    return RVM_OK;
}
