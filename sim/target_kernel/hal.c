/* SPDX-License-Identifier: MIT */
/*
 * The HAL the kernel sees. The engine's HAL gives the clock, timers, interrupts and the witness
 * sink; the platform gives stage-2 / PMP, the TLB, guest memory and the hypervisor's view of RAM.
 * The target composes the two, and watches what passes: a stage-2 change, a TLB invalidation or a
 * VMID changing hands marks the isolation oracles due; the allocation-failure fault fires at
 * s2_map (the platform refusing a mapping for lack of table memory, the one allocation the kernel
 * asks the platform for); every RAM write is noted so a reset clears exactly those pages.
 */
#include "target_kernel_internal.h"

static void *pctx(struct kt *t)
{
    return t->plat.sim.hal.ctx;
}

void kt_note_ram(struct kt *t, uint64_t hpa, uint64_t len)
{
    if (len == 0) {
        return;
    }
    if (hpa < t->guest_base || hpa - t->guest_base >= (uint64_t)t->guest_pages * PAGE) {
        t->ram_all_dirty = true; /* outside the managed RAM: clear everything next time */
        return;
    }
    uint64_t first = (hpa - t->guest_base) / PAGE;
    uint64_t last = (hpa - t->guest_base + len - 1u) / PAGE;
    for (uint64_t p = first; p <= last && p < t->guest_pages; p++) {
        t->ram_dirty[p] = 1;
    }
}

static uint64_t h_now(void *ctx)
{
    struct kt *t = KT(ctx);
    uint64_t now = t->eng->ops->clock_now_ns(t->eng->ctx);
    kt_tape_answer(&t->tape, RVM_TAPE_H_CLOCK, now, false);
    return now;
}

static enum rvm_err h_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline)
{
    struct kt *t = KT(ctx);
    enum rvm_err err = t->eng->ops->timer_arm(t->eng->ctx, cpu, deadline);
    kt_tape_answer(&t->tape, RVM_TAPE_H_TIMER_ARM, (uint64_t)(int64_t)err, false);
    return err;
}

static void h_console(void *ctx, const char *text, size_t len)
{
    struct kt *t = KT(ctx);
    t->eng->ops->console_write(t->eng->ctx, text, len);
}

static size_t h_drain(void *ctx, uint64_t first, const uint8_t *rec, size_t n)
{
    struct kt *t = KT(ctx);
    size_t took = t->eng->ops->witness_drain(t->eng->ctx, first, rec, n);
    kt_tape_answer(&t->tape, RVM_TAPE_H_DRAIN, took, false);
    return took;
}

static bool h_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct kt *t = KT(ctx);
    bool took = t->eng->ops->witness_checkpoint(t->eng->ctx, cp);
    kt_tape_answer(&t->tape, RVM_TAPE_H_CHECKPOINT, took ? 1u : 0u, false);
    return took;
}

static enum rvm_err h_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                             uint64_t size, uint32_t perms)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO | D_MAP;
    t->touched |= part - 1u < 64u ? (uint64_t)1 << (part - 1u) : ~(uint64_t)0;
    /* Putting back what this call just unmapped reuses the table pages the unmap released: only
     * a mapping that needs new memory can find none (a kernel undoing a refused operation must
     * be able to rely on that, or nothing could ever be undone). */
    bool restore = false;
    for (uint32_t i = 0; i < t->nunmapped && !restore; i++) {
        restore = t->unmapped[i].part == part && t->unmapped[i].ipa == ipa.v &&
                  t->unmapped[i].size == size;
    }
    if (!restore && t->sim != NULL && rvm_sim_alloc_fails(t->sim)) {
        /* no table page (AArch64) / PMP slot (RISC-V) for the mapping */
        kt_tape_answer(&t->tape, RVM_TAPE_H_S2_MAP, (uint64_t)(int64_t)RVM_ERR_HAL, true);
        return RVM_ERR_HAL;
    }
    enum rvm_err err = t->plat.ops.s2_map(pctx(t), part, ipa, hpa, size, perms);
    kt_tape_answer(&t->tape, RVM_TAPE_H_S2_MAP, (uint64_t)(int64_t)err, false);
    return err;
}

static enum rvm_err h_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO | D_MAP;
    t->touched |= part - 1u < 64u ? (uint64_t)1 << (part - 1u) : ~(uint64_t)0;
    enum rvm_err err = t->plat.ops.s2_unmap(pctx(t), part, ipa, size);
    kt_tape_answer(&t->tape, RVM_TAPE_H_S2_UNMAP, (uint64_t)(int64_t)err, false);
    if (err == RVM_OK) {
        uint32_t i = t->nunmapped < 16u ? t->nunmapped++ : 15u;
        t->unmapped[i].part = part;
        t->unmapped[i].ipa = ipa.v;
        t->unmapped[i].size = size;
    }
    return err;
}

static enum rvm_err h_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct kt *t = KT(ctx);
    if (vmid < RVM_A64_VMID_COUNT && t->plat.vmid_owner[vmid] != part) {
        /* The VMID changes hands: translations the TLB still holds for it would show now (on
         * RISC-V activation reloads the hart's PMP; the oracle compares it all the same). */
        bool cached = t->riscv;
        for (uint32_t i = 0; i < t->plat.tlb.capacity && !cached; i++) {
            cached = t->plat.tlb.entries[i].valid != 0 && t->plat.tlb.entries[i].vmid == vmid;
        }
        t->dirty |= cached ? D_ISO : 0u;
    }
    enum rvm_err err = t->plat.ops.s2_activate(pctx(t), cpu, part, vmid);
    kt_tape_answer(&t->tape, RVM_TAPE_H_S2_ACTIVATE, (uint64_t)(int64_t)err, false);
    return err;
}

static void h_tlb_invalidate(void *ctx, uint16_t vmid)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO;
    t->plat.ops.tlb_invalidate_vmid(pctx(t), vmid);
}

static enum rvm_err h_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                 size_t len)
{
    struct kt *t = KT(ctx);
    enum rvm_err err = t->plat.ops.guest_read(pctx(t), part, src, dst, len);
    kt_tape_answer(&t->tape, RVM_TAPE_H_GUEST_READ, (uint64_t)(int64_t)err, false);
    return err;
}

static enum rvm_err h_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                  size_t len)
{
    struct kt *t = KT(ctx);
    enum rvm_err err = t->plat.ops.guest_write(pctx(t), part, dst, src, len);
    kt_tape_answer(&t->tape, RVM_TAPE_H_GUEST_WRITE, (uint64_t)(int64_t)err, false);
    if (err == RVM_OK) {
        for (uint64_t off = 0; off < len; off += PAGE) { /* bound: pages of the buffer */
            uint64_t hpa;
            if (rvm_sim_platform_translate(&t->plat, part, dst.v + off, RVM_SIM_WRITE, &hpa) ==
                RVM_OK) {
                kt_note_ram(t, hpa, 1);
            }
        }
        uint64_t hpa;
        if (rvm_sim_platform_translate(&t->plat, part, dst.v + len - 1u, RVM_SIM_WRITE, &hpa) ==
            RVM_OK) {
            kt_note_ram(t, hpa, 1);
        }
    }
    return err;
}

static enum rvm_err h_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct kt *t = KT(ctx);
    enum rvm_err err = t->eng->ops->irq_configure(t->eng->ctx, irq, cpu, enabled);
    kt_tape_answer(&t->tape, RVM_TAPE_H_IRQ_CONFIGURE, (uint64_t)(int64_t)err, false);
    return err;
}

static void h_irq_complete(void *ctx, uint32_t irq)
{
    struct kt *t = KT(ctx);
    t->eng->ops->irq_complete(t->eng->ctx, irq);
}

static void h_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    struct kt *t = KT(ctx);
    t->plat.ops.phys_read(pctx(t), src, dst, len);
}

static void h_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    struct kt *t = KT(ctx);
    kt_note_ram(t, dst.v, len);
    t->plat.ops.phys_write(pctx(t), dst, src, len);
}

/* A page of guest RAM no write reached since the reset cleared it holds zeros already (the reset
 * relies on the same record of writes): only the written pages of the range are cleared, and a
 * page cleared whole is clean again. A range outside the guest RAM goes to the platform as it
 * is (it counts the violation). */
static void h_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    struct kt *t = KT(ctx);
    const uint64_t ram_bytes = (uint64_t)t->guest_pages * PAGE;
    if (t->ram_all_dirty || len == 0 || dst.v < t->guest_base ||
        dst.v - t->guest_base > ram_bytes || len > ram_bytes - (dst.v - t->guest_base)) {
        t->plat.ops.phys_zero(pctx(t), dst, len);
        return;
    }
    const uint64_t start = dst.v - t->guest_base, end = start + len;
    for (uint64_t p = start / PAGE; p * PAGE < end; p++) { /* bound: the pages of the range */
        if (t->ram_dirty[p] == 0) {
            continue;
        }
        const uint64_t from = p * PAGE > start ? p * PAGE : start;
        const uint64_t to = (p + 1u) * PAGE < end ? (p + 1u) * PAGE : end;
        t->plat.ops.phys_zero(pctx(t), rvm_hpa(t->guest_base + from), to - from);
        if (to - from == PAGE) {
            t->ram_dirty[p] = 0;
        }
    }
}

/* What the coherence_unavailable and mincut_over_budget faults left to do; the tape carries an
 * answer only when one changes the budget (an optional answer, docs/tape-format.md). */
static uint64_t h_coherence_budget(void *ctx, uint64_t configured)
{
    struct kt *t = KT(ctx);
    uint64_t budget = configured;
    if (t->coh_unavailable_left != 0) {
        t->coh_unavailable_left--;
        budget = 0;
    } else if (t->coh_short_left != 0) {
        t->coh_short_left--;
        budget = SHORT_BUDGET < configured ? SHORT_BUDGET : configured;
    }
    if (budget != configured) {
        kt_tape_answer(&t->tape, RVM_TAPE_H_COHERENCE, budget, true);
    }
    return budget;
}

void kt_hal_init(struct kt *t)
{
    t->ops = (struct rvm_hal_ops){
        .clock_now_ns = h_now,
        .timer_arm = h_timer_arm,
        .console_write = h_console,
        .witness_drain = h_drain,
        .witness_checkpoint = h_checkpoint,
        .s2_map = h_s2_map,
        .s2_unmap = h_s2_unmap,
        .s2_activate = h_s2_activate,
        .tlb_invalidate_vmid = h_tlb_invalidate,
        .guest_read = h_guest_read,
        .guest_write = h_guest_write,
        .irq_configure = h_irq_configure,
        .irq_complete = h_irq_complete,
        .phys_read = h_phys_read,
        .phys_write = h_phys_write,
        .phys_zero = h_phys_zero,
        .coherence_budget = h_coherence_budget,
    };
    t->hal.ops = &t->ops;
    t->hal.ctx = t;
}
