/* SPDX-License-Identifier: MIT */
/*
 * Devices and their leases. A device is registered by the hypervisor with its interrupt; its root
 * Device capability stays with the hypervisor, which may grant copies (e.g. to a control
 * partition). A lease gives one partition, for a bounded time, a Device capability (READ | WRITE)
 * derived from the grantor's and the device's interrupts (NotificationSignal). There is never more
 * than one holder; a lease ends when it is revoked by someone with authority over its capability,
 * when that capability is revoked any other way, when its holder is destroyed, or at the first
 * epoch tick at or after its expiry (DeviceLeaseExpire, kernel.c).
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define LEASE_RIGHTS ((uint8_t)(RVM_CAP_READ | RVM_CAP_WRITE))

static enum rvm_err dev_target(struct rvm_kop *op, struct rvm_handle dev, uint32_t *slot)
{
    enum rvm_err err = rvm_kernel__dev_find(op->k, dev, slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, err);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_device_register(struct rvm_kernel *k, rvm_partition_id actor, uint32_t irq,
                                        struct rvm_handle *out, struct rvm_handle *cap)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_DEVICE_REGISTER, 0);
    if (err != RVM_OK) {
        return err;
    }
    if (actor != RVM_PARTITION_HYPERVISOR) {
        return rvm_kernel__refuse(&op, RVM_STAGE_P1, RVM_ERR_PERMISSION);
    }
    uint32_t slot = RVM_KERNEL_NONE;
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        const struct rvm_kdev *d = &k->devs[i];
        if (d->used && d->irq == irq) {
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_EXISTS);
        }
        if (!d->used && d->generation != UINT32_MAX && slot == RVM_KERNEL_NONE) {
            slot = i;
        }
    }
    if (slot == RVM_KERNEL_NONE) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NO_SPACE);
    }
    if (!rvm_kernel__caps_free(k, 1)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_TABLE_FULL);
    }
    struct rvm_kdev *d = &k->devs[slot];
    const struct rvm_handle h = {slot, d->generation};
    const struct rvm_handle root = rvm_kernel__next_cap(k);
    op.target = rvm_handle_pack(h);
    err = rvm_kernel__append(&op, 0, irq, rvm_handle_pack(root));
    if (err != RVM_OK) {
        return err;
    }
    d->used = 1;
    d->irq = irq;
    (void)rvm_kernel__mint(k, RVM_CAP_TYPE_DEVICE, (uint8_t)RVM_CAP_RIGHTS_ALL,
                           RVM_PARTITION_HYPERVISOR, h);
    if (out != NULL) {
        *out = h;
    }
    if (cap != NULL) {
        *cap = root;
    }
    return RVM_OK;
}

static enum rvm_err duration_check(const struct rvm_kernel *k, uint64_t duration, uint64_t *expiry)
{
    if (duration == 0 || duration > k->cfg.max_lease_ns) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!rvm_add_u64(rvm_kernel__now(k), duration, expiry)) {
        return RVM_ERR_OVERFLOW;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_lease_grant(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle dev,
                                    struct rvm_handle lessee, uint64_t duration_ns,
                                    struct rvm_handle *lease_cap)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_DEVICE_LEASE_GRANT, rvm_handle_pack(dev));
    if (err == RVM_OK) {
        err = dev_target(&op, dev, &slot);
    }
    if (err != RVM_OK) {
        return err;
    }
    uint32_t lslot;
    uint64_t expiry = 0;
    err = rvm_kernel__part_find(k, lessee, &lslot);
    if (err == RVM_OK) {
        err = duration_check(k, duration_ns, &expiry);
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P3, RVM_CAP_TYPE_DEVICE, RVM_CAP_GRANT, dev);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kdev *d = &k->devs[slot];
    if (d->leased) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_LEASE_CONFLICT);
    }
    const struct rvm_handle source = actor == RVM_PARTITION_HYPERVISOR
                                         ? rvm_kernel__root_cap(k, RVM_CAP_TYPE_DEVICE, dev)
                                         : auth->cap;
    const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, source);
    if (s == NULL || (s->rights & RVM_CAP_GRANT) == 0) {
        /* The hypervisor's own root may have been revoked: nothing to lease from. */
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_RIGHTS);
    }
    if (s->depth >= RVM_CAP_MAX_DEPTH) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_DEPTH);
    }
    if (!rvm_kernel__caps_free(k, 1)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_TABLE_FULL);
    }
    const struct rvm_handle lc = rvm_kernel__next_cap(k);
    err = rvm_kernel__append(&op, 0, rvm_handle_pack(lc), expiry);
    if (err != RVM_OK) {
        return err;
    }
    d->lease_cap = rvm_kernel__derive(k, source, LEASE_RIGHTS, lslot + 1u);
    d->leased = 1;
    d->holder = lslot + 1u;
    d->expires_ns = expiry;
    if (lease_cap != NULL) {
        *lease_cap = d->lease_cap;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_lease_renew(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle dev,
                                    uint64_t duration_ns)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_DEVICE_LEASE_RENEW, rvm_handle_pack(dev));
    if (err == RVM_OK) {
        err = dev_target(&op, dev, &slot);
    }
    if (err != RVM_OK) {
        return err;
    }
    uint64_t expiry = 0;
    err = duration_check(k, duration_ns, &expiry);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    /* P2's lease rule: a lapsed lease cannot be renewed (PROOF_LEASE). */
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P2, RVM_CAP_TYPE_DEVICE, RVM_CAP_WRITE, dev);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kdev *d = &k->devs[slot];
    if (!d->leased) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    if (rvm_kernel__now(k) >= d->expires_ns) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_LEASE_EXPIRED);
    }
    err = rvm_kernel__append(&op, 0, d->expires_ns, expiry);
    if (err != RVM_OK) {
        return err;
    }
    d->expires_ns = expiry;
    return RVM_OK;
}

enum rvm_err rvm_kernel_lease_revoke(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle dev)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_DEVICE_LEASE_REVOKE, rvm_handle_pack(dev));
    if (err == RVM_OK) {
        err = dev_target(&op, dev, &slot);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (actor != RVM_PARTITION_HYPERVISOR && auth == NULL) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    struct rvm_kdev *d = &k->devs[slot];
    if (!d->leased) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    /* Authority: REVOKE on the lease capability or an ancestor (the capability module's rule). */
    struct rvm_cap_revoke_args a = {
        actor == RVM_PARTITION_HYPERVISOR ? rvm_cap_no_handle() : auth->cap, d->lease_cap};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    err = rvm_cap_prepare_revoke(&k->caps, actor, &a, &e, &plan, &rej);
    if (err != RVM_OK) {
        op.tier = rej.passed_tier;
        op.cap_hash = rej.cap_hash;
        return rvm_kernel__refuse(&op, rej.stage, err);
    }
    op.tier = e.proof_tier;
    op.cap_hash = e.cap_hash;
    const rvm_partition_id holder = d->holder;
    err = rvm_kernel__append(&op, 0, rvm_handle_pack(d->lease_cap), holder);
    if (err != RVM_OK) {
        return err;
    }
    rvm_cap_commit_revoke(&k->caps, &plan);
    d->leased = 0;
    d->holder = 0;
    d->lease_cap = rvm_cap_no_handle();
    d->expires_ns = 0;
    return RVM_OK;
}
