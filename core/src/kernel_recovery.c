/* SPDX-License-Identifier: MIT */
/*
 * Failure classes and their escalation (RVM's DC-14, ADR-132), as this model defines them:
 *
 *   F1 restart           the partition's vCPU goes back to its launch state (entry point, boot
 *                        arguments); memory, capabilities, channels stay. Used while it has had
 *                        fewer than restart_limit restarts without a healthy epoch in between (an
 *                        epoch in which it was dispatched and did not fail).
 *   F2 reconstruct       vCPU and every resident RAM region restored from its last checkpoint
 *                        (rvm_kernel_partition_checkpoint): every image verified against the
 *                        SHA-256 kept in the kernel first. Fails without a complete checkpoint or
 *                        when any image does not verify.
 *   F3 memory rollback   region by region: a region whose checkpoint image verifies is rolled back
 *                        to it, a DATA / IMMUTABLE region without one is scrubbed; the vCPU
 * restarts from its launch state; the scheduler enters Recovery mode with the partition critical.
 * Fails when nothing verifies, or when a CODE region cannot be restored (zeroed code is not a
 * rollback). F4 core restart      see rvm_kernel_core_crash in kernel.h.
 *
 * Escalation is F1 -> F2 after restart_limit failed restarts, F2 -> F3 if reconstruction fails,
 * F3 -> F4 if rollback fails; every attempted step is one record (a failed one with flags = 1 and
 * its error in aux), all reserved before anything happens.
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define STEP_FAILED 0x01u

static bool running(const struct rvm_kernel *k, uint32_t slot)
{
    return k->parts[slot].state == RVM_KPART_RUNNING;
}

static void enter_recovery(struct rvm_kernel *k)
{
    if (k->sched.mode != RVM_SCHED_RECOVERY) {
        k->mode_before_recovery = k->sched.mode;
        struct rvm_witness_entry e;
        struct rvm_sched_mode_plan mp;
        enum rvm_err err = rvm_sched_prepare_mode(&k->sched, RVM_PARTITION_HYPERVISOR,
                                                  RVM_SCHED_RECOVERY, &e, &mp);
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_sched_commit_mode(&k->sched, &mp);
        }
    }
    k->recovery_left = k->cfg.recovery_epochs != 0 ? k->cfg.recovery_epochs : 1u;
}

/* ---- F3: which regions roll back, which are scrubbed ---------------------------------------- */

struct rollback {
    uint32_t restored;
    uint32_t scrubbed;
};

static enum rvm_err rollback(struct rvm_kernel *k, uint32_t slot, bool apply, struct rollback *rb)
{
    rb->restored = 0;
    rb->scrubbed = 0;
    if (k->scratch == NULL) {
        return RVM_ERR_NO_CHECKPOINT;
    }
    const uint32_t n = rvm_kernel__regions_of(k, slot + 1u);
    for (uint32_t i = 0; i < n; i++) { /* bound: regions of the partition */
        const uint32_t s = k->order[i];
        const struct rvm_region *r = &k->regions.slots[s];
        if (!rvm_kernel__region_is_ram(r) ||
            (r->tier.tier != RVM_TIER_HOT && r->tier.tier != RVM_TIER_WARM)) {
            continue;
        }
        const uint64_t bytes = (uint64_t)r->npages << RVM_PAGE_SHIFT;
        const uint32_t idx = k->kregs[s].ckpt;
        bool ok =
            idx != RVM_KERNEL_NONE && k->images[idx].raw_len == bytes &&
            (apply ? rvm_kernel__image_decode(k, idx) : rvm_kernel__image_check(k, idx)) == RVM_OK;
        if (ok) {
            rb->restored++;
            if (apply) {
                k->hal->ops->phys_write(k->hal->ctx, rvm_hpa(r->hpa), k->scratch, (size_t)bytes);
            }
        } else if (r->type == RVM_REGION_CODE) {
            return RVM_ERR_CORRUPT;
        } else {
            rb->scrubbed++;
            if (apply) {
                rvm_kernel__scrub(k, r->hpa, r->order);
            }
        }
    }
    return rb->restored != 0 ? RVM_OK : RVM_ERR_NO_CHECKPOINT;
}

/* ---- F4 ---------------------------------------------------------------------------------------
 */

struct restart_counts {
    uint32_t restored;
    uint32_t restarted;
    uint32_t destroyed;
};

/* The commit half of a core restart. `failed` (a slot or RVM_KERNEL_NONE) is destroyed; its
 * stage-2 mappings were already removed through the HAL (recorded in `u`). */
static void core_restart(struct rvm_kernel *k, uint32_t failed, const struct rvm_kernel_s2 *u,
                         struct restart_counts *rc)
{
    rvm_memset(rc, 0, sizeof(*rc));
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state != RVM_KPART_FREE) {
            rvm_kernel__stop(k, i);
        }
    }
    /* The restarted core trusts no cached translation. */
    for (uint32_t v = 1; v < k->cfg.nvmids; v++) { /* bound: nvmids */
        k->hal->ops->tlb_invalidate_vmid(k->hal->ctx, (uint16_t)v);
    }
    if (failed != RVM_KERNEL_NONE) {
        for (uint32_t i = 0; i < u->n; i++) { /* bound: the unmaps made */
            const struct rvm_kernel_s2op *o = &k->undo[i];
            struct rvm_witness_entry e;
            struct rvm_region_map_plan mp;
            enum rvm_err err =
                rvm_region_prepare_unmap(&k->regions, RVM_PARTITION_HYPERVISOR,
                                         rvm_kernel__region_handle(k, o->region), &e, &mp);
            rvm_kernel__must(k, err);
            if (err == RVM_OK) {
                rvm_region_commit_unmap(&k->regions, &mp);
            }
        }
        struct rvm_kernel_destroy_counts dc;
        rvm_kernel__destroy_commit(k, failed, &dc);
        rc->destroyed = 1;
    }
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        struct rvm_kpart *p = &k->parts[i];
        if (p->state == RVM_KPART_FREE) {
            continue;
        }
        p->restarts = 0;
        p->flags &= (uint8_t)~RVM_KPART_F_RAN;
        if (p->state != RVM_KPART_RUNNING) {
            continue;
        }
        if (rvm_kernel__ckpt_restore(k, i, true) == RVM_OK) {
            rvm_kernel__must(k, rvm_kernel__ckpt_restore(k, i, false));
            rc->restored++;
        } else {
            rvm_kernel__launch_ctx(k, i, p->self_cap);
            rc->restarted++;
        }
        rvm_kernel__run(k, i);
    }
    enter_recovery(k);
}

static enum rvm_err append_core_restart(struct rvm_kernel *k, uint64_t target, uint64_t before,
                                        const struct restart_counts *rc, uint32_t reason)
{
    struct rvm_witness_entry e = {RVM_ACT_FAILURE_CORE_RESTART,
                                  RVM_PROOF_NONE,
                                  0,
                                  RVM_PARTITION_HYPERVISOR,
                                  target,
                                  0,
                                  (uint64_t)rc->restored | (uint64_t)rc->restarted << 16 |
                                      (uint64_t)rc->destroyed << 32 | (uint64_t)reason << 48,
                                  before};
    return rvm_witness_append(&k->log, &e, NULL);
}

/* Predict the counts of a core restart without changing anything (for its record). */
static void predict_restart(struct rvm_kernel *k, uint32_t failed, struct restart_counts *rc)
{
    rvm_memset(rc, 0, sizeof(*rc));
    rc->destroyed = failed != RVM_KERNEL_NONE ? 1u : 0u;
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (i == failed || k->parts[i].state != RVM_KPART_RUNNING) {
            continue;
        }
        if (rvm_kernel__ckpt_restore(k, i, true) == RVM_OK) {
            rc->restored++;
        } else {
            rc->restarted++;
        }
    }
}

enum rvm_err rvm_kernel_core_crash(struct rvm_kernel *k)
{
    struct rvm_kop op;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, RVM_PARTITION_HYPERVISOR, RVM_ACT_FAILURE_CORE_RESTART, 0);
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__reserve(&op, 1);
    if (err != RVM_OK) {
        return err;
    }
    uint8_t before[16];
    rvm_kernel_digest(k, before);
    struct restart_counts rc;
    predict_restart(k, RVM_KERNEL_NONE, &rc);
    rvm_kernel__must(k, append_core_restart(k, 0, rvm_load_le64(before), &rc, RVM_FAULT_CORE));
    struct rvm_kernel_s2 u = {0};
    struct restart_counts done;
    core_restart(k, RVM_KERNEL_NONE, &u, &done);
    return RVM_OK;
}

/* ---- the classifier ---------------------------------------------------------------------------
 */

static enum rvm_err step_record(struct rvm_kernel *k, uint8_t kind, uint64_t target, bool failed,
                                uint32_t reason, uint32_t count, uint64_t aux)
{
    struct rvm_witness_entry e = {kind,
                                  RVM_PROOF_NONE,
                                  failed ? STEP_FAILED : 0u,
                                  RVM_PARTITION_HYPERVISOR,
                                  target,
                                  0,
                                  (uint64_t)reason | (uint64_t)count << 32,
                                  aux};
    return rvm_witness_append(&k->log, &e, NULL);
}

static enum rvm_err fault(struct rvm_kernel *k, struct rvm_handle p, uint32_t reason,
                          uint64_t detail, uint32_t *class_out)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = rvm_kernel__begin(&op, k, RVM_PARTITION_HYPERVISOR, RVM_ACT_FAILURE_RESTART,
                                         rvm_handle_pack(p));
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__part_find(k, p, &slot);
    if (err == RVM_OK && (reason == 0 || reason >= RVM_FAULT_CORE)) {
        err = RVM_ERR_INVALID_ARGUMENT;
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    struct rvm_kpart *part = &k->parts[slot];
    if (part->state != RVM_KPART_RUNNING && part->state != RVM_KPART_SUSPENDED) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    const uint64_t target = rvm_handle_pack(p);
    uint32_t cls = 1;
    enum rvm_err f2 = RVM_OK;
    enum rvm_err f3 = RVM_OK;
    struct rollback rb = {0, 0};
    if (part->restarts >= k->cfg.restart_limit) {
        cls = 2;
        f2 = rvm_kernel__ckpt_restore(k, slot, true);
        if (f2 != RVM_OK) {
            cls = 3;
            f3 = rollback(k, slot, false, &rb);
            if (f3 != RVM_OK) {
                cls = 4;
            }
        }
    }
    op.kind = cls == 1 ? RVM_ACT_FAILURE_RESTART : RVM_ACT_FAILURE_RECONSTRUCT;
    err = rvm_kernel__reserve(&op, cls == 1 ? 1u : cls - 1u);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kernel_s2 u = {0};
    if (cls == 4) {
        /* The failed partition is destroyed by the restart: remove its mappings first. */
        op.kind = RVM_ACT_FAILURE_CORE_RESTART;
        err = rvm_kernel__destroy_unmap(k, &u, slot);
        if (err != RVM_OK) {
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
        }
    }
    part->faults++;
    switch (cls) {
    case 1:
        rvm_kernel__must(k, step_record(k, RVM_ACT_FAILURE_RESTART, target, false, reason,
                                        part->restarts + 1u, detail));
        rvm_kernel__stop(k, slot);
        rvm_kernel__launch_ctx(k, slot, part->self_cap);
        part->restarts++;
        part->flags &= (uint8_t)~RVM_KPART_F_RAN;
        break;
    case 2:
        rvm_kernel__must(k, step_record(k, RVM_ACT_FAILURE_RECONSTRUCT, target, false, reason,
                                        part->restarts, detail));
        rvm_kernel__stop(k, slot);
        rvm_kernel__must(k, rvm_kernel__ckpt_restore(k, slot, false));
        part->restarts = 0;
        part->flags &= (uint8_t)~RVM_KPART_F_RAN;
        break;
    case 3:
        rvm_kernel__must(k, step_record(k, RVM_ACT_FAILURE_RECONSTRUCT, target, true, reason,
                                        part->restarts, (uint64_t)f2));
        rvm_kernel__must(k, step_record(k, RVM_ACT_FAILURE_ROLLBACK, target, false, reason,
                                        rb.restored | rb.scrubbed << 16, detail));
        rvm_kernel__stop(k, slot);
        rvm_kernel__must(k, rollback(k, slot, true, &rb));
        rvm_kernel__launch_ctx(k, slot, part->self_cap);
        part->restarts = 0;
        part->flags = (uint8_t)((part->flags & ~RVM_KPART_F_RAN) | RVM_KPART_F_CRITICAL);
        enter_recovery(k);
        break;
    default: {
        rvm_kernel__must(k, step_record(k, RVM_ACT_FAILURE_RECONSTRUCT, target, true, reason,
                                        part->restarts, (uint64_t)f2));
        rvm_kernel__must(
            k, step_record(k, RVM_ACT_FAILURE_ROLLBACK, target, true, reason, 0, (uint64_t)f3));
        uint8_t before[16];
        rvm_kernel_digest(k, before);
        struct restart_counts rc;
        predict_restart(k, slot, &rc);
        rvm_kernel__must(k, append_core_restart(k, target, rvm_load_le64(before), &rc, reason));
        struct restart_counts done;
        core_restart(k, slot, &u, &done);
        break;
    }
    }
    if (cls <= 3 && running(k, slot)) {
        rvm_kernel__run(k, slot);
    }
    if (class_out != NULL) {
        *class_out = cls;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_partition_fault(struct rvm_kernel *k, struct rvm_handle p, uint32_t reason,
                                        uint32_t *class_out)
{
    return fault(k, p, reason, 0, class_out);
}

enum rvm_err rvm_kernel_guest_fault(struct rvm_kernel *k, uint32_t cpu, uint64_t ipa,
                                    uint32_t *class_out)
{
    const rvm_partition_id id = rvm_sched_current(&k->sched, cpu);
    if (!rvm_kernel_booted(k) || id == 0 || !rvm_kernel__part_live_id(k, id)) {
        struct rvm_kop op;
        rvm_memset(&op, 0, sizeof(op));
        op.k = k;
        op.kind = RVM_ACT_FAILURE_RESTART;
        op.target = cpu;
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE,
                                  rvm_kernel_booted(k) ? RVM_ERR_WRONG_STATE : RVM_ERR_NOT_BOOTED);
    }
    return fault(k, rvm_kernel__part_handle(k, id - 1u), RVM_FAULT_GUEST_MEMORY, ipa, class_out);
}
