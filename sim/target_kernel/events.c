/* SPDX-License-Identifier: MIT */
/*
 * Events and faults: the engine's timer, interrupt and CPU events; fault injection (a partition
 * or the core failing, a bit flipping in the image store, a guest touching memory it does not
 * own, a hostile hypercall); liveness, faults off. Each becomes a resolved kernel call made
 * through kt_invoke.
 */
#include "target_kernel_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* After anything that may have called the kernel (`before`: the log's count then): the IPC model
 * follows merges and splits, a fresh cut is marked due, the registry follows the tables. */
void kt_after_event(struct kt *t, uint64_t before)
{
    kt_model_merges(t, before);
    if (t->k.coh.epoch != t->coh_epoch) {
        t->coh_epoch = t->k.coh.epoch;
        t->dirty |= D_CUT; /* judged before anything else can add traffic to the graph */
    }
    if (t->k.log.appended != before && kt_any_structural(t, before)) {
        kt_sync_objects(t);
    }
}

void kt_event(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    struct kt_call call;
    struct kt_result res;
    switch (ev->kind) {
    case RVM_SIM_EV_TIMER:
        kt_call_init(&call, KT_TIMER);
        call.cpu = ev->cpu;
        (void)kt_invoke(t, &call, "timer", &res);
        break;
    case RVM_SIM_EV_IRQ:
        if (ev->irq == RVM_SIM_IRQ_SINK_READY) {
            /* the platform's witness driver, not the kernel */
            (void)kt_tape_witness(t, RVM_TAPE_E_WITNESS_FLUSH);
            t->eng->ops->irq_complete(t->eng->ctx, ev->irq);
            break;
        }
        kt_call_init(&call, KT_IRQ);
        call.arg.irq = ev->irq;
        (void)kt_invoke(t, &call, "irq", &res);
        break;
    case RVM_SIM_EV_CPU_OFFLINE:
        kt_call_init(&call, KT_CPU_OFFLINE);
        call.cpu = ev->cpu;
        (void)kt_invoke(t, &call, "cpu_offline", &res);
        break;
    case RVM_SIM_EV_CPU_ONLINE:
        kt_call_init(&call, KT_CPU_ONLINE);
        call.cpu = ev->cpu;
        (void)kt_invoke(t, &call, "cpu_online", &res);
        break;
    default:
        break;
    }
    kt_after_event(t, before);
}

/* A guest instruction on `cpu` touches `ipa`: simulated hardware, no kernel call. A fault is
 * returned as RVM_ERR_GUEST_FAULT with the kernel call that reports it resolved in `fault`. */
enum rvm_err kt_guest_touch(struct kt *t, uint32_t cpu, uint64_t ipa, enum rvm_sim_access kind,
                            struct kt_call *fault)
{
    rvm_partition_id part = kt_on_cpu(t, cpu);
    if (part == 0) {
        return RVM_ERR_WRONG_STATE; /* nothing runs there: no instruction */
    }
    uint64_t word = 0x5a5a5a5a5a5a5a5au ^ ipa;
    struct rvm_sim_guest_fault gf;
    ipa &= ~(uint64_t)7u;
    struct rvm_tape_call tc;
    memset(&tc, 0, sizeof(tc));
    tc.entry = RVM_TAPE_E_GUEST_ACCESS;
    tc.cpu = cpu;
    tc.args[0] = (uint64_t)kind;
    tc.args[1] = ipa;
    tc.args[2] = word;
    const size_t at = kt_tape_call(&t->tape, &tc);
    enum rvm_err err = rvm_sim_platform_guest_access(&t->plat, cpu, kind, ipa, &word, 8, &gf);
    kt_tape_result(&t->tape, at, err);
    t->guest_accesses++;
    if (err == RVM_OK) {
        kt_check_access(t, part, ipa, kind);
        return RVM_OK;
    }
    if (err == RVM_ERR_GUEST_FAULT) {
        kt_call_init(fault, KT_GUEST_FAULT);
        fault->cpu = cpu;
        fault->arg.guest_fault = ipa;
    }
    return err;
}

enum rvm_err kt_guest_probe(struct kt *t, uint32_t cpu, struct kt_call *fault)
{
    rvm_partition_id part = kt_on_cpu(t, cpu);
    if (part == 0) {
        return RVM_ERR_WRONG_STATE; /* nothing runs there: no instruction */
    }
    if (!t->riscv) {
        return RVM_ERR_UNSUPPORTED;
    }
    struct rvm_tape_call tc;
    memset(&tc, 0, sizeof(tc));
    tc.entry = RVM_TAPE_E_GUEST_ACCESS;
    tc.cpu = cpu;
    tc.args[0] = RVM_SIM_PRIV_PROBE;
    const size_t at = kt_tape_call(&t->tape, &tc);
    uint64_t word = 0;
    struct rvm_sim_guest_fault gf;
    enum rvm_err err =
        rvm_sim_platform_guest_access(&t->plat, cpu, RVM_SIM_PRIV_PROBE, 0, &word, 8, &gf);
    kt_tape_result(&t->tape, at, err);
    t->guest_accesses++;
    if (err == RVM_ERR_GUEST_FAULT) {
        kt_call_init(fault, KT_PARTITION_FAULT);
        fault->object = kt_part_handle(t, part - 1u);
        fault->arg.partition_fault = RVM_FAULT_CRASH;
    }
    return err;
}

/* The partition on a busy CPU traps with registers built to attack (the fault's `variant`). */
static void hostile_hypercall(struct kt *t, const uint64_t *args)
{
    uint32_t cpu = kt_busy_cpu(t, args[HOSTILE_CPU]);
    if (cpu == UINT32_MAX) {
        return;
    }
    rvm_partition_id me = kt_on_cpu(t, cpu);
    uint64_t v = args[HOSTILE_VALUE];
    const uint64_t variant = args[HOSTILE_VARIANT] % HOSTILE_NR;
    uint64_t x[HYPERCALL_NREGS] = {0}; /* x0..x7 */
    struct rvm_handle self = kt_part_handle(t, me - 1u);
    struct rvm_handle own = kt_held_cap(t, me, RVM_CAP_TYPE_PARTITION, false, v);
    struct rvm_handle chan_cap = kt_held_cap(t, me, RVM_CAP_TYPE_COMM_EDGE, false, v);
    const struct rvm_cap_slot *cs = rvm_cap_get(&t->k.caps, chan_cap);
    uint64_t chan = cs != NULL ? P(cs->object) : kt_dead_handle(t, CLS_CHANNEL, v);
    uint64_t pmax = t->plat.cfg.ram_base + t->plat.cfg.ram_size;
    switch (variant) {
    case 0: /* a stale capability: CAP_INFO on a dead slot generation */
        x[0] = RVM_HC_CAP_INFO;
        x[1] = kt_dead_handle(t, CLS_CAP, v);
        break;
    case 1: /* a revoked capability presented for an operation on a live object */
        x[0] = RVM_HC_PARTITION_SUSPEND;
        x[1] = P(self);
        x[2] = kt_dead_handle(t, CLS_CAP, v + 1u);
        break;
    case 2: /* the wrong type: a non-partition capability for a partition operation */
        x[0] = RVM_HC_PARTITION_SUSPEND;
        x[1] = P(self);
        x[2] = P(kt_held_cap(t, me, RVM_CAP_TYPE_PARTITION, true, v));
        if (H(x[2]).index == RVM_CAP_NONE) {
            x[2] = P(chan_cap);
        }
        break;
    case 3: /* a buffer nothing is mapped at */
    case 4: /* a buffer in the hypervisor's own memory */
    case 5: /* a length that wraps the address space */
        x[0] = RVM_HC_IPC_SEND;
        x[1] = chan;
        x[2] = P(chan_cap);
        x[3] = variant == 3   ? 0x7ff00000u + (v % 16u) * PAGE
               : variant == 4 ? t->plat.cfg.ram_base + (v % 4u) * PAGE
                              : UINT64_MAX - 7u;
        x[4] = variant == 5 ? 16u : 8u;
        if (variant == 4 && v % 2u == 1u) {
            x[3] = pmax + (v % 4u) * PAGE; /* beyond RAM */
        }
        break;
    case 6: /* a call number that does not exist */
        x[0] = RVM_HC_COUNT + v % 1000u;
        break;
    case 7: /* a register the call does not use is set */
        x[0] = RVM_HC_VERSION;
        x[1 + v % 7u] = v | 1u;
        break;
    default: /* forged handles: a partition handle for start, with its own cap */
        x[0] = RVM_HC_PARTITION_START;
        x[1] = v | 0x8000000000000000u;
        x[2] = P(own);
        break;
    }
    uint64_t before = t->k.log.appended;
    t->hostile++;
    struct kt_call call;
    struct kt_result res;
    kt_call_init(&call, KT_HYPERCALL);
    call.cpu = cpu;
    memcpy(call.arg.hypercall, x, sizeof(x));
    enum rvm_err err = kt_invoke(t, &call, "hostile_hypercall", &res);
    if (err == RVM_OK) {
        rvm_sim_violation(t->sim, "kernel.hostile-accepted",
                          "hostile hypercall (variant %" PRIu64 ", x0=%" PRIu64 " x1=0x%" PRIx64
                          " x2=0x%" PRIx64 ") succeeded",
                          variant, x[0], x[1], x[2]);
    }
    kt_after_event(t, before);
}

/* The partition on a busy CPU touches memory it does not own (the fault's `where`). */
static void guest_fault(struct kt *t, const uint64_t *args)
{
    uint32_t cpu = kt_busy_cpu(t, args[GUEST_FAULT_CPU]);
    if (cpu == UINT32_MAX) {
        return;
    }
    uint64_t v = args[GUEST_FAULT_VALUE];
    uint64_t ipa;
    switch (args[GUEST_FAULT_WHERE] % 4u) {
    case 0:
        ipa = 0x7ff00000u + (v % 256u) * PAGE; /* nothing is mapped there */
        break;
    case 1:
        ipa = t->plat.cfg.ram_base + (v % 16u) * PAGE; /* the hypervisor's memory */
        break;
    case 2:
        ipa = t->plat.cfg.ram_base + t->plat.cfg.ram_size + (v % 16u) * PAGE; /* beyond RAM */
        break;
    default:
        ipa = t->guest_base + (v % t->guest_pages) * PAGE; /* any guest page, maybe another's */
        break;
    }
    uint64_t before = t->k.log.appended;
    struct kt_call call;
    if (kt_guest_touch(t, cpu, ipa + (v & 0xff8u), v & 1u ? RVM_SIM_WRITE : RVM_SIM_READ, &call) ==
        RVM_ERR_GUEST_FAULT) {
        struct kt_result res;
        (void)kt_invoke(t, &call, "guest_fault", &res);
    }
    kt_after_event(t, before);
}

void kt_inject(void *inst, uint32_t fault, const uint64_t *args, struct rvm_sim *sim)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    struct kt_call call;
    struct kt_result res;
    switch (fault) {
    case F_PARTITION_CRASH: {
        uint32_t s = kt_live_slot_from(t, args[PARTITION_CRASH_PART]);
        if (s == UINT32_MAX || !fits32(args[PARTITION_CRASH_REASON])) {
            return;
        }
        kt_call_init(&call, KT_PARTITION_FAULT);
        call.object = kt_part_handle(t, s);
        call.arg.partition_fault = (uint32_t)args[PARTITION_CRASH_REASON];
        (void)kt_invoke(t, &call, "partition_crash", &res);
        break;
    }
    case F_CORE_CRASH:
        kt_call_init(&call, KT_CORE_CRASH);
        (void)kt_invoke(t, &call, "core_crash", &res);
        break;
    case F_DORMANT_BITFLIP:
        if (k->store_used != 0) {
            struct rvm_tape_call tc;
            memset(&tc, 0, sizeof(tc));
            tc.entry = RVM_TAPE_E_FLIP_IMAGE_BIT;
            tc.args[0] = args[DORMANT_BITFLIP_BIT] % ((uint64_t)k->store_used * 8u);
            const size_t at = kt_tape_call(&t->tape, &tc);
            struct rvm_tape_outputs out;
            kt_tape_result(&t->tape, at, rvm_tape_apply(k, &tc, &out));
            t->ref_valid = t->sref_valid = false; /* damage from outside: a new reference */
        }
        break;
    case F_GUEST_FAULT:
        guest_fault(t, args);
        break;
    case F_HOSTILE_HC:
        hostile_hypercall(t, args);
        break;
    case F_COHERENCE_UNAVAILABLE: /* the platform's answer at the next epochs (hal.c) */
        t->coh_unavailable_left = args[COHERENCE_FAULT_EPOCHS];
        break;
    case F_MINCUT_OVER_BUDGET:
        t->coh_short_left = args[COHERENCE_FAULT_EPOCHS];
        break;
    default:
        break;
    }
    kt_after_event(t, before);
}

/*
 * Liveness, faults off: guests that have run are done (the hypervisor suspends them), so lower
 * priorities get the CPU; every partition that is Running must be dispatched within the bound,
 * and the witness log must drain.
 */
enum rvm_sim_live kt_liveness(void *inst, uint32_t round, struct rvm_sim *sim,
                              struct rvm_sim_verdict *why)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    if (round == 0) {
        memset(t->progressed, 0, t->cfg.max_partitions + 1u);
        t->dirty |= D_ISO | D_MAP | D_SCHED;
    }
    if (!rvm_kernel_booted(k)) {
        (void)kt_tape_witness(t, RVM_TAPE_E_WITNESS_FLUSH);
        return k->log.drained == k->log.appended && k->log.pending_count == 0
                   ? RVM_SIM_LIVE_DONE
                   : RVM_SIM_LIVE_PENDING;
    }
    struct kt_call call;
    struct kt_result res;
    for (uint32_t cpu = 0; cpu < t->ncpus && round != 0; cpu++) {
        if (!rvm_sim_cpu_online(sim, cpu)) {
            continue;
        }
        rvm_partition_id cur = kt_on_cpu(t, cpu);
        if (cur != 0 && t->progressed[cur] && k->parts[cur - 1u].state == RVM_KPART_RUNNING) {
            kt_call_init(&call, KT_PARTITION_SUSPEND); /* by the hypervisor */
            call.object = kt_part_handle(t, cur - 1u);
            (void)kt_invoke(t, &call, "liveness suspend", &res);
        }
        kt_call_init(&call, KT_SCHEDULE);
        call.cpu = cpu;
        (void)kt_invoke(t, &call, "liveness schedule", &res);
        cur = kt_on_cpu(t, cpu);
        if (cur != 0) {
            t->progressed[cur] = 1;
        }
    }
    t->dirty |= D_SCHED;
    kt_after_event(t, before);
    (void)kt_tape_witness(t, RVM_TAPE_E_WITNESS_FLUSH);
    uint32_t waiting = 0, first = 0;
    for (uint32_t i = 0; i < t->cfg.max_partitions; i++) {
        if (k->parts[i].state == RVM_KPART_RUNNING && !t->progressed[i + 1u]) {
            if (waiting++ == 0) {
                first = i + 1u;
            }
        }
    }
    if (waiting == 0 && k->log.drained == k->log.appended && k->log.pending_count == 0) {
        /* The run ends here: its last judgement is the full one, whatever the sampling left. */
        t->dirty |= D_FULL | D_ISO | D_MAP | D_TREE;
        return RVM_SIM_LIVE_DONE;
    }
    if (waiting != 0) {
        why->invariant = "kernel.liveness";
        snprintf(why->detail, sizeof(why->detail),
                 "%u runnable partitions never dispatched (first: partition %u, urgency %u)",
                 waiting, first, k->parts[first - 1u].urgency);
    } else {
        why->invariant = "witness.drain";
        snprintf(why->detail, sizeof(why->detail), "%" PRIu64 " records still not in the sink",
                 k->log.appended - k->log.drained);
    }
    return RVM_SIM_LIVE_PENDING;
}
