/* SPDX-License-Identifier: MIT */
/*
 * Time and external events: the time slice (schedule, timer), the epoch pipeline, interrupts and
 * CPU hot-plug. Each is an event the platform delivers rather than an operation a partition asks
 * for, so a refusal is the hypervisor's (rvm_kernel__refuse_event). The epoch drives the other
 * kernel files (coherence decisions, fault recovery, the state digest), which is why it sits above
 * them. Design: rvm/kernel.h and docs/architecture.md.
 */
#include "kernel_impl.h"
#include "rvm/bytes.h"

/* ------------------------------------------------------------------------------------------------
 * Time
 * --------------------------------------------------------------------------------------------- */

static bool cpu_ok(const struct rvm_kernel *k, uint32_t cpu)
{
    return cpu < k->cfg.ncpus && rvm_sched_cpu_is_online(&k->sched, cpu);
}

enum rvm_err rvm_kernel_schedule(struct rvm_kernel *k, uint32_t cpu)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_SCHED_SWITCH, cpu, RVM_ERR_NOT_BOOTED);
    }
    if (!cpu_ok(k, cpu)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_SCHED_SWITCH, cpu,
                                        cpu < k->cfg.ncpus ? RVM_ERR_CPU_OFFLINE
                                                           : RVM_ERR_OUT_OF_RANGE);
    }
    const rvm_partition_id cur = rvm_sched_current(&k->sched, cpu);
    if (cur != 0 && k->parts[cur - 1u].state == RVM_KPART_RUNNING) {
        /* A running partition is only ever re-queued on its own CPU (sched.h). */
        rvm_kernel__must(k, rvm_sched_enqueue_on(&k->sched, cpu, cur, k->parts[cur - 1u].urgency,
                                                 rvm_kernel__pressure(k, cur)));
    }
    struct rvm_sched_switch plan;
    enum rvm_err err = rvm_sched_prepare_switch(&k->sched, cpu, &plan);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_vcpu_cpu *c = &k->cpus[cpu];
    uint32_t fixes = 0;
    if (plan.next == 0) {
        if (c->loaded != 0) {
            rvm_kernel__must(k, rvm_vcpu_park(c, &k->parts[c->loaded - 1u].ctx));
        }
    } else {
        struct rvm_vcpu_ctx *from = c->loaded != 0 ? &k->parts[c->loaded - 1u].ctx : NULL;
        err = rvm_vcpu_switch(c, &k->vmids, cpu, from, &k->parts[plan.next - 1u].ctx, NULL, 0,
                              &fixes);
        if (err != RVM_OK) {
            return err; /* nothing switched: the next slice tries again */
        }
        k->parts[plan.next - 1u].flags |= RVM_KPART_F_RAN;
    }
    rvm_sched_commit_switch(&k->sched, &plan);
    if ((fixes & RVM_VCPU_FIX_MODE) != 0) {
        /* Its saved return state named a mode a guest may not enter: a failed partition. */
        (void)rvm_kernel_partition_fault(k, rvm_kernel__part_handle(k, plan.next - 1u),
                                         RVM_FAULT_RETURN_STATE, NULL);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_timer(struct rvm_kernel *k, uint32_t cpu)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_SCHED_SWITCH, cpu, RVM_ERR_NOT_BOOTED);
    }
    enum rvm_err epoch_err = RVM_OK;
    const uint64_t now = rvm_kernel__now(k);
    if (now >= k->next_epoch_ns) {
        epoch_err = rvm_kernel_epoch(k);
    }
    enum rvm_err err = rvm_kernel_schedule(k, cpu);
    if (cpu < k->cfg.ncpus) {
        (void)k->hal->ops->timer_arm(k->hal->ctx, cpu, rvm_kernel__now(k) + k->cfg.slice_ns);
    }
    return err != RVM_OK ? err : epoch_err;
}

/* Step 4's input: each RAM region's cut value is its owner's coherence score. */
static void stage_cuts(struct rvm_kernel *k)
{
    if (k->cfg.coherence_nodes == 0) {
        return;
    }
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        if (r->used && rvm_kernel__region_is_ram(r)) {
            (void)rvm_region_set_cut(&k->regions, rvm_kernel__region_handle(k, i),
                                     rvm_coherence_score(&k->coh, r->owner));
        }
    }
}

static uint32_t leases_due(const struct rvm_kernel *k, uint64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        n += k->devs[i].used && k->devs[i].leased && now >= k->devs[i].expires_ns ? 1u : 0u;
    }
    return n;
}

static void expire_leases(struct rvm_kernel *k, uint64_t now)
{
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        struct rvm_kdev *d = &k->devs[i];
        if (!d->used || !d->leased || now < d->expires_ns) {
            continue;
        }
        struct rvm_handle dh = {i, d->generation};
        struct rvm_handle lc = d->lease_cap;
        rvm_partition_id holder = d->holder;
        rvm_kernel__must(k, rvm_kernel__event(k, RVM_ACT_DEVICE_LEASE_EXPIRE, 0,
                                              rvm_handle_pack(dh), rvm_handle_pack(lc), holder));
        (void)rvm_kernel__revoke_cap(k, lc);
        d->leased = 0;
        d->holder = 0;
        d->lease_cap = rvm_cap_no_handle();
        d->expires_ns = 0;
    }
}

static void recovery_step(struct rvm_kernel *k)
{
    if (k->recovery_left == 0 || --k->recovery_left != 0) {
        return;
    }
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        struct rvm_kpart *p = &k->parts[i];
        if (p->state != RVM_KPART_FREE && (p->flags & RVM_KPART_F_CRITICAL) != 0) {
            p->flags &= (uint8_t)~RVM_KPART_F_CRITICAL;
            struct rvm_witness_entry e;
            struct rvm_sched_placement_plan pp;
            const struct rvm_sched_part *sp = &k->sched.parts[i];
            if (rvm_sched_prepare_placement(&k->sched, RVM_PARTITION_HYPERVISOR, i + 1u,
                                            sp->affinity, 0, &e, &pp) == RVM_OK) {
                rvm_sched_commit_placement(&k->sched, &pp);
            }
        }
    }
    rvm_kernel__must(k, rvm_kernel__event(k, RVM_ACT_RECOVERY_EXIT, 0, 0, k->mode_before_recovery,
                                          k->sched.mode));
    if (k->sched.mode != k->mode_before_recovery) {
        struct rvm_witness_entry e;
        struct rvm_sched_mode_plan mp;
        if (rvm_sched_prepare_mode(&k->sched, RVM_PARTITION_HYPERVISOR, k->mode_before_recovery, &e,
                                   &mp) == RVM_OK) {
            rvm_sched_commit_mode(&k->sched, &mp);
        }
    }
}

/* DC-14 bookkeeping: a partition that ran an epoch without failing has recovered. */
static void healthy_partitions(struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        struct rvm_kpart *p = &k->parts[i];
        if (p->state != RVM_KPART_FREE && (p->flags & RVM_KPART_F_RAN) != 0) {
            p->restarts = 0;
        }
        p->flags &= (uint8_t)~RVM_KPART_F_RAN;
    }
}

/* The scheduler follows the coherence engine into and out of degraded mode, witnessed: the
 * epoch reserved the record (degraded_changes). */
static void sync_degraded(struct rvm_kernel *k)
{
    const bool want = rvm_coherence_degraded(&k->coh);
    if ((k->sched.degraded != 0) == want) {
        return;
    }
    const uint8_t reason = (k->coh.bad_reasons & RVM_COH_DEGRADED_UNAVAILABLE) != 0
                               ? RVM_SCHED_DEGRADED_COHERENCE_UNAVAILABLE
                               : RVM_SCHED_DEGRADED_MINCUT_BUDGET;
    struct rvm_witness_entry e;
    struct rvm_sched_degraded_plan dp;
    if (rvm_sched_prepare_degraded(&k->sched, RVM_PARTITION_HYPERVISOR, want, reason, &e, &dp) ==
            RVM_OK &&
        rvm_witness_append(&k->log, &e, NULL) == RVM_OK) {
        rvm_sched_commit_degraded(&k->sched, &dp);
    }
}

/* The records the scheduler's degraded transition of an epoch with `budget` needs (0 or 1). */
static uint32_t degraded_changes(const struct rvm_kernel *k, uint64_t budget)
{
    return rvm_coherence_degraded_after(&k->coh, budget) != (k->sched.degraded != 0) ? 1u : 0u;
}

/* This epoch's min-cut work budget: the platform's answer (0: the engine is unavailable). */
static uint64_t coherence_budget(const struct rvm_kernel *k)
{
    const uint64_t configured = k->coh.mincut_budget;
    return k->hal->ops->coherence_budget != NULL
               ? k->hal->ops->coherence_budget(k->hal->ctx, configured)
               : configured;
}

enum rvm_err rvm_kernel_epoch(struct rvm_kernel *k)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(
            k, k->digest.version == 1u ? RVM_ACT_STATE_DIGEST : RVM_ACT_STATE_DIGEST_V2, 0,
            RVM_ERR_NOT_BOOTED);
    }
    const uint64_t now = rvm_kernel__now(k);
    const bool coh = k->cfg.coherence_nodes != 0;
    const uint32_t due = leases_due(k, now);
    const uint64_t budget = coh ? coherence_budget(k) : 0u;
    /* sched 1, coherence 3 and the scheduler's degraded transition, decision 1, tier 1, leases,
     * recovery 1, digest 1 */
    uint32_t need = 1u + (coh ? 3u + degraded_changes(k, budget) : 0u) +
                    (coh && k->cfg.apply_decisions ? 1u : 0u) + 1u + due + 1u + 1u;
    enum rvm_err err = rvm_witness_reserve(&k->log, need);
    if (err != RVM_OK) {
        return err; /* the epoch is deferred, whole: the next timer tries again */
    }
    /* 1 */
    rvm_kernel__must(k, rvm_sched_epoch_tick(&k->sched, NULL));
    /* 2, 3 */
    if (coh) {
        struct rvm_coherence_epoch_report rep;
        rvm_kernel__must(k, rvm_coherence_epoch_budget(&k->coh, &k->log, budget, &rep));
        sync_degraded(k);
        if (k->cfg.apply_decisions && rep.decision.kind != RVM_COH_DECIDE_NONE) {
            (void)rvm_kernel__apply_decision(k, &rep.decision);
        }
    }
    /* 4 */
    stage_cuts(k);
    rvm_kernel__must(k, rvm_region_epoch(&k->regions));
    /* 5 */
    expire_leases(k, now);
    /* 6 */
    recovery_step(k);
    healthy_partitions(k);
    /* 7 */
    k->epoch++;
    k->next_epoch_ns = now + k->cfg.epoch_ns;
    uint8_t d[16];
    const uint8_t kind = rvm_kernel_state_digest(k, d);
    rvm_kernel__must(
        k, rvm_kernel__event(k, kind, 0, k->epoch, rvm_load_le64(d), rvm_load_le64(d + 8)));
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Interrupts and CPU hot-plug
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_irq(struct rvm_kernel *k, uint32_t irq)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_NOTIFICATION_SIGNAL, irq, RVM_ERR_NOT_BOOTED);
    }
    enum rvm_err err = RVM_OK;
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        struct rvm_kdev *d = &k->devs[i];
        if (!d->used || !d->leased || d->irq != irq) {
            continue;
        }
        struct rvm_handle dh = {i, d->generation};
        err = rvm_kernel__event(k, RVM_ACT_NOTIFICATION_SIGNAL, 0,
                                rvm_handle_pack(rvm_kernel__part_handle(k, d->holder - 1u)), irq,
                                rvm_handle_pack(dh));
        if (err == RVM_OK) {
            d->delivered++;
            k->parts[d->holder - 1u].notifications++;
        }
        break;
    }
    k->hal->ops->irq_complete(k->hal->ctx, irq);
    return err;
}

enum rvm_err rvm_kernel_cpu_offline(struct rvm_kernel *k, uint32_t cpu)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_CPU_OFFLINE, cpu, RVM_ERR_NOT_BOOTED);
    }
    struct rvm_witness_entry e;
    struct rvm_sched_cpu_plan plan;
    enum rvm_err err =
        rvm_sched_prepare_cpu(&k->sched, RVM_PARTITION_HYPERVISOR, cpu, false, &e, &plan);
    if (err != RVM_OK) {
        return rvm_kernel__refuse_event(k, RVM_ACT_CPU_OFFLINE, cpu, err);
    }
    err = rvm_witness_append(&k->log, &e, NULL);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_vcpu_cpu *c = &k->cpus[cpu];
    if (c->loaded != 0) {
        rvm_kernel__must(k, rvm_vcpu_park(c, &k->parts[c->loaded - 1u].ctx));
    }
    rvm_sched_commit_cpu(&k->sched, &plan);
    rvm_kernel__must(k, rvm_vmid_cpu_offline(&k->vmids, cpu));
    return RVM_OK;
}

enum rvm_err rvm_kernel_cpu_online(struct rvm_kernel *k, uint32_t cpu)
{
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse_event(k, RVM_ACT_CPU_ONLINE, cpu, RVM_ERR_NOT_BOOTED);
    }
    struct rvm_witness_entry e;
    struct rvm_sched_cpu_plan plan;
    enum rvm_err err =
        rvm_sched_prepare_cpu(&k->sched, RVM_PARTITION_HYPERVISOR, cpu, true, &e, &plan);
    if (err != RVM_OK) {
        return rvm_kernel__refuse_event(k, RVM_ACT_CPU_ONLINE, cpu, err);
    }
    err = rvm_witness_append(&k->log, &e, NULL);
    if (err != RVM_OK) {
        return err;
    }
    rvm_sched_commit_cpu(&k->sched, &plan);
    (void)k->hal->ops->timer_arm(k->hal->ctx, cpu, rvm_kernel__now(k) + k->cfg.slice_ns);
    return RVM_OK;
}
