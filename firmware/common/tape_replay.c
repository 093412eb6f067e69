/* SPDX-License-Identifier: MIT */
/*
 * The tape interpreter (tape_replay.h).
 *
 * Fault model: the tape is validated by rvm_tape_open/rvm_tape_next (checksum, then every field)
 * before any of it reaches the kernel; the kernel refuses hostile arguments itself. What can
 * still go wrong is a difference between the recorded run and this one — another result, another
 * HAL question, another answer from the hardware — and each stops the replay with its own status
 * and the entry index where it was seen. A hook that finds a problem returns a failure to the
 * kernel (which fails closed) and the replay stops after that call.
 */
#include "tape_replay.h"

#include "rvm/bytes.h"

static struct rvm_replay *RP(void *ctx)
{
    return (struct rvm_replay *)ctx;
}

static void stop(struct rvm_replay *rp, enum rvm_tape_status st, uint32_t hook, int64_t want,
                 int64_t got)
{
    if (rp->status != RVM_TAPE_S_OK) {
        return; /* keep the first problem */
    }
    rp->status = st;
    rp->at = rp->reader.index;
    rp->hook = hook;
    rp->want = want;
    rp->got = got;
}

/* The next entry must answer question `hook`; false (and the replay stopped) otherwise. An
 * entry that is not an answer is left for the interpreter's loop. */
static bool answer(struct rvm_replay *rp, uint32_t hook, struct rvm_tape_answer *a)
{
    if (rp->status != RVM_TAPE_S_OK) {
        return false;
    }
    const struct rvm_tape_reader saved = rp->reader;
    struct rvm_tape_item it;
    enum rvm_tape_status st = rvm_tape_next(&rp->reader, &it);
    if (st != RVM_TAPE_S_OK || it.type != RVM_TAPE_T_ANSWER) {
        rp->reader = saved;
        stop(rp, st != RVM_TAPE_S_OK && st != RVM_TAPE_S_NO_END ? st : RVM_TAPE_S_ANSWER_MISSING,
             hook, 0, 0);
        return false;
    }
    if (it.u.answer.hook != hook) {
        stop(rp, RVM_TAPE_S_ANSWER_MISMATCH, hook, (int64_t)it.u.answer.hook, (int64_t)hook);
        return false;
    }
    *a = it.u.answer;
    return true;
}

/* A question the machine answers: perform it (unless the failure was injected) and compare. */
static enum rvm_err performed(struct rvm_replay *rp, const struct rvm_tape_answer *a,
                              enum rvm_err got)
{
    if ((int64_t)got != (int64_t)a->value) {
        stop(rp, RVM_TAPE_S_HAL_MISMATCH, a->hook, (int64_t)a->value, (int64_t)got);
        return RVM_ERR_HAL;
    }
    return got;
}

static bool injected(const struct rvm_tape_answer *a)
{
    return (a->flags & RVM_TAPE_A_INJECTED) != 0;
}

/* ---- the HAL the kernel sees ------------------------------------------------------------------
 */

static uint64_t h_now(void *ctx)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (answer(rp, RVM_TAPE_H_CLOCK, &a)) {
        rp->now_ns = a.value;
    }
    return rp->now_ns;
}

static enum rvm_err h_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline)
{
    (void)cpu;
    (void)deadline; /* logical time: the tape's events are the timer's expiries */
    struct rvm_tape_answer a;
    return answer(RP(ctx), RVM_TAPE_H_TIMER_ARM, &a) ? (enum rvm_err)(int64_t)a.value : RVM_ERR_HAL;
}

static void h_console(void *ctx, const char *text, size_t len)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->console_write(m->ctx, text, len);
}

static size_t h_drain(void *ctx, uint64_t first, const uint8_t *rec, size_t n)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_DRAIN, &a)) {
        return 0;
    }
    if (a.value > n) {
        stop(rp, RVM_TAPE_S_OUT_OF_RANGE, RVM_TAPE_H_DRAIN, (int64_t)a.value, (int64_t)n);
        return 0;
    }
    const size_t take = (size_t)a.value;
    const struct rvm_hal *m = rp->machine->hal;
    if (take != 0 && m->ops->witness_drain(m->ctx, first, rec, take) != take) {
        stop(rp, RVM_TAPE_S_HAL_MISMATCH, RVM_TAPE_H_DRAIN, (int64_t)take, 0);
        return 0;
    }
    return take;
}

static bool h_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_CHECKPOINT, &a)) {
        return false;
    }
    const struct rvm_hal *m = rp->machine->hal;
    if (a.value != 0 && !m->ops->witness_checkpoint(m->ctx, cp)) {
        stop(rp, RVM_TAPE_S_HAL_MISMATCH, RVM_TAPE_H_CHECKPOINT, 1, 0);
        return false;
    }
    return a.value != 0;
}

static enum rvm_err h_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                             uint64_t size, uint32_t perms)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_S2_MAP, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->s2_map(m->ctx, part, ipa, hpa, size, perms));
}

static enum rvm_err h_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_S2_UNMAP, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->s2_unmap(m->ctx, part, ipa, size));
}

static enum rvm_err h_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_S2_ACTIVATE, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->s2_activate(m->ctx, cpu, part, vmid));
}

static void h_tlb_invalidate(void *ctx, uint16_t vmid)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->tlb_invalidate_vmid(m->ctx, vmid);
}

static enum rvm_err h_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                 size_t len)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_GUEST_READ, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->guest_read(m->ctx, part, src, dst, len));
}

static enum rvm_err h_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                  size_t len)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_GUEST_WRITE, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->guest_write(m->ctx, part, dst, src, len));
}

static enum rvm_err h_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct rvm_replay *rp = RP(ctx);
    struct rvm_tape_answer a;
    if (!answer(rp, RVM_TAPE_H_IRQ_CONFIGURE, &a)) {
        return RVM_ERR_HAL;
    }
    if (injected(&a)) {
        return (enum rvm_err)(int64_t)a.value;
    }
    const struct rvm_hal *m = rp->machine->hal;
    return performed(rp, &a, m->ops->irq_configure(m->ctx, irq, cpu, enabled));
}

/* The one optional answer: present only when the simulator changed the budget. */
static uint64_t h_coherence_budget(void *ctx, uint64_t configured)
{
    struct rvm_replay *rp = RP(ctx);
    if (rp->status != RVM_TAPE_S_OK) {
        return configured;
    }
    const struct rvm_tape_reader saved = rp->reader;
    struct rvm_tape_item it;
    if (rvm_tape_next(&rp->reader, &it) == RVM_TAPE_S_OK && it.type == RVM_TAPE_T_ANSWER &&
        it.u.answer.hook == RVM_TAPE_H_COHERENCE) {
        return it.u.answer.value;
    }
    rp->reader = saved;
    return configured;
}

static void h_irq_complete(void *ctx, uint32_t irq)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->irq_complete(m->ctx, irq);
}

static void h_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->phys_read(m->ctx, src, dst, len);
}

static void h_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->phys_write(m->ctx, dst, src, len);
}

static void h_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    const struct rvm_hal *m = RP(ctx)->machine->hal;
    m->ops->phys_zero(m->ctx, dst, len);
}

/* ---- the interpreter ---------------------------------------------------------------------------
 */

enum rvm_tape_status rvm_replay_open(struct rvm_replay *rp, const struct rvm_replay_machine *m,
                                     const uint8_t *tape, size_t len, void *storage,
                                     size_t storage_bytes)
{
    rvm_memset(rp, 0, sizeof(*rp));
    rp->machine = m;
    rp->entry = UINT32_MAX;
    enum rvm_tape_status st = rvm_tape_open(&rp->reader, &rp->header, &m->hal->crypto, tape, len);
    if (st != RVM_TAPE_S_OK) {
        rp->status = st;
        return st;
    }
    rp->ops.clock_now_ns = h_now;
    rp->ops.timer_arm = h_timer_arm;
    rp->ops.console_write = h_console;
    rp->ops.witness_drain = h_drain;
    rp->ops.witness_checkpoint = h_checkpoint;
    rp->ops.s2_map = h_s2_map;
    rp->ops.s2_unmap = h_s2_unmap;
    rp->ops.s2_activate = h_s2_activate;
    rp->ops.tlb_invalidate_vmid = h_tlb_invalidate;
    rp->ops.guest_read = h_guest_read;
    rp->ops.guest_write = h_guest_write;
    rp->ops.irq_configure = h_irq_configure;
    rp->ops.irq_complete = h_irq_complete;
    rp->ops.coherence_budget = h_coherence_budget;
    rp->ops.phys_read = h_phys_read;
    rp->ops.phys_write = h_phys_write;
    rp->ops.phys_zero = h_phys_zero;
    rp->hal.ops = &rp->ops;
    rp->hal.ctx = rp;
    rp->hal.crypto = m->hal->crypto;
    enum rvm_err err =
        rvm_kernel_init(&rp->kernel, &rp->hal, &rp->header.config, storage, storage_bytes);
    if (rp->status != RVM_TAPE_S_OK) {
        return rp->status;
    }
    if (err != RVM_OK) {
        stop(rp, RVM_TAPE_S_RESULT_MISMATCH, 0, RVM_OK, err);
    }
    return rp->status;
}

/* The guest's own access: performed by the machine; a fault it took is remembered for the
 * guest_fault call the tape has next for that CPU. */
static enum rvm_err replay_guest_access(struct rvm_replay *rp, const struct rvm_tape_call *c)
{
    const struct rvm_vcpu_cpu *cpu = &rp->kernel.cpus[c->cpu];
    if (cpu->loaded == 0 || c->args[0] > 3u) { /* 0 load, 1 store, 2 fetch, 3 register probe */
        return RVM_ERR_WRONG_STATE;
    }
    uint64_t fault_addr = c->args[1];
    const enum rvm_err got =
        rp->machine->guest_access(rp->machine->ctx, c->cpu, cpu->loaded, (uint32_t)c->args[0],
                                  c->args[1], c->args[2], cpu->frame.pstate, &fault_addr);
    rp->fault_pending = got == RVM_ERR_GUEST_FAULT;
    rp->fault_cpu = c->cpu;
    rp->fault_addr = fault_addr;
    return got;
}

/* A hypercall: the guest traps with the tape's registers, and the kernel decodes the registers
 * the trap delivered (through the one dispatcher, rvm_tape_apply). Without a guest on the CPU
 * the entry is applied as recorded. */
static enum rvm_err replay_hypercall(struct rvm_replay *rp, const struct rvm_tape_call *c)
{
    const struct rvm_vcpu_cpu *cpu = &rp->kernel.cpus[c->cpu];
    uint64_t trapped[8];
    if (rp->machine->hypercall == NULL || cpu->loaded == 0 ||
        !rp->machine->hypercall(rp->machine->ctx, c->cpu, cpu->frame.pstate, c->args, trapped)) {
        rp->direct_hypercalls++;
        return rvm_tape_apply(&rp->kernel, c, &rp->out);
    }
    for (uint32_t i = 0; i < 8; i++) { /* bound: 8 argument registers */
        if (trapped[i] != c->args[i]) {
            stop(rp, RVM_TAPE_S_HAL_MISMATCH, 0, (int64_t)c->args[i], (int64_t)trapped[i]);
            return RVM_ERR_HAL;
        }
    }
    struct rvm_tape_call real = *c;
    rvm_memcpy(real.args, trapped, sizeof(real.args));
    rp->trapped_hypercalls++;
    return rvm_tape_apply(&rp->kernel, &real, &rp->out);
}

/* A guest fault right after a real one on the same CPU: the kernel gets the address the trap
 * reported. Any other is applied as recorded. */
static enum rvm_err replay_guest_fault(struct rvm_replay *rp, const struct rvm_tape_call *c,
                                       bool real_fault)
{
    if (!real_fault || rp->fault_cpu != c->cpu) {
        rp->direct_faults++;
        return rvm_tape_apply(&rp->kernel, c, &rp->out);
    }
    if (rp->fault_addr != c->args[0]) {
        stop(rp, RVM_TAPE_S_HAL_MISMATCH, 0, (int64_t)c->args[0], (int64_t)rp->fault_addr);
        return RVM_ERR_HAL;
    }
    struct rvm_tape_call real = *c;
    real.args[0] = rp->fault_addr;
    return rvm_tape_apply(&rp->kernel, &real, &rp->out);
}

static void replay_call(struct rvm_replay *rp, const struct rvm_tape_call *c)
{
    rp->entry = c->entry;
    rp->calls++;
    const bool real_fault = rp->fault_pending;
    rp->fault_pending = false;
    enum rvm_err got;
    if (c->entry == RVM_TAPE_E_GUEST_ACCESS) {
        got = replay_guest_access(rp, c);
    } else if (c->entry == RVM_TAPE_E_HYPERCALL) {
        got = replay_hypercall(rp, c);
    } else if (c->entry == RVM_TAPE_E_GUEST_FAULT) {
        got = replay_guest_fault(rp, c, real_fault);
    } else {
        got = rvm_tape_apply(&rp->kernel, c, &rp->out);
    }
    if (rp->status == RVM_TAPE_S_OK && (int64_t)got != (int64_t)c->expect) {
        stop(rp, RVM_TAPE_S_RESULT_MISMATCH, 0, c->expect, got);
    }
}

static void replay_end(struct rvm_replay *rp, const struct rvm_tape_end *e)
{
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_witness_digest(&rp->kernel.log, digest);
    if (rp->kernel.log.appended != e->records || e->records != rp->header.end_records) {
        stop(rp, RVM_TAPE_S_END_MISMATCH, 0, (int64_t)e->records, (int64_t)rp->kernel.log.appended);
    } else if (!rvm_ct_equal(digest, e->digest, sizeof(digest)) ||
               !rvm_ct_equal(digest, rp->header.end_digest, sizeof(digest))) {
        stop(rp, RVM_TAPE_S_END_MISMATCH, 0, 0, 0);
    } else if (rp->reader.pos != rp->reader.len) {
        stop(rp, RVM_TAPE_S_BAD_LENGTH, 0, 0, 0); /* something after END */
    }
}

enum rvm_tape_status rvm_replay_run(struct rvm_replay *rp)
{
    /* bound: the body's length; every entry takes at least 8 bytes */
    for (uint64_t i = 0; i <= rp->reader.len / 8u && rp->status == RVM_TAPE_S_OK; i++) {
        struct rvm_tape_item it;
        enum rvm_tape_status st = rvm_tape_next(&rp->reader, &it);
        if (st != RVM_TAPE_S_OK) {
            stop(rp, st, 0, 0, 0);
            break;
        }
        if (it.type == RVM_TAPE_T_CALL) {
            replay_call(rp, &it.u.call);
        } else if (it.type == RVM_TAPE_T_ANSWER) {
            stop(rp, RVM_TAPE_S_ANSWER_UNUSED, it.u.answer.hook, 0, 0);
        } else {
            replay_end(rp, &it.u.end);
            return rp->status;
        }
    }
    return rp->status;
}
