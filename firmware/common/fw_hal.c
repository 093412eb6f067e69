/* SPDX-License-Identifier: MIT */
#include "fw_hal.h"

#include "arch.h"
#include "console.h"
#include "mem.h"

#include "rvm/crypto_portable.h"
#include "rvm/vcpu.h"

static struct fw_hal *fw(void *ctx)
{
    return ctx;
}

static bool is_a64(const struct fw_hal *h)
{
    return h->as.cfg.arch == RVM_ASPACE_AARCH64;
}

/* Answered by the tape (tape_replay.c); present so the HAL is complete. */
static uint64_t h_now(void *ctx)
{
    (void)ctx;
    return 0;
}

static enum rvm_err h_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    (void)ctx, (void)cpu, (void)deadline_ns;
    return RVM_OK;
}

static void h_console(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    fw_console_write(text, len);
}

static size_t h_drain(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    return fw_witness_uart_records(&fw(ctx)->stream, first_seq, records, count);
}

static bool h_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    return fw_witness_uart_checkpoint(&fw(ctx)->stream, cp);
}

/* RISC-V: the hart's PMP registers follow the image of the logical CPU that last activated a
 * space (one hart runs every logical CPU of the tape). False when the hart disagrees with the
 * model about what it holds. */
static bool hart_follow(struct fw_hal *h, uint32_t cpu)
{
    if (is_a64(h) || cpu != h->hart_cpu) {
        return true;
    }
    if (fw_arch_pmp_load(&h->cpu[cpu].pmp)) {
        return true;
    }
    h->pmp_disagreements++;
    return false;
}

static enum rvm_err h_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                             uint64_t size, uint32_t perms)
{
    struct fw_hal *h = fw(ctx);
    enum rvm_err err = rvm_aspace_map(&h->as, part, ipa.v, hpa.v, size, perms);
    if (err == RVM_OK && !is_a64(h)) {
        /* A grant reaches the harts running the partition at once (the walk-on-miss of a
         * stage-2 table would); only removals wait for an invalidation. */
        const struct rvm_aspace_space *sp = rvm_aspace_find(&h->as, part);
        for (uint32_t c = 0; c < FW_HAL_MAX_CPUS; c++) { /* bound: FW_HAL_MAX_CPUS */
            if (h->cpu[c].active && h->cpu[c].part == part) {
                h->cpu[c].pmp = sp->image;
                if (!hart_follow(h, c)) {
                    err = RVM_ERR_HAL;
                }
            }
        }
    }
    return err;
}

static enum rvm_err h_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    return rvm_aspace_unmap(&fw(ctx)->as, part, ipa.v, size);
}

static enum rvm_err h_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct fw_hal *h = fw(ctx);
    const struct rvm_aspace_space *sp = NULL;
    enum rvm_err err = rvm_aspace_activate(&h->as, cpu, part, vmid, &sp);
    if (err != RVM_OK) {
        return err;
    }
    struct fw_hal_cpu *c = &h->cpu[cpu];
    c->active = true;
    c->part = part;
    c->vmid = vmid;
    if (is_a64(h)) {
        const uint64_t vttbr = rvm_a64_vttbr(&h->as.pool, &sp->s2, (uint8_t)vmid);
        h->vmid_vttbr[vmid] = vttbr;
        fw_arch_s2_load(vttbr);
    } else {
        c->pmp = sp->image;
        h->hart_cpu = cpu;
        if (!hart_follow(h, cpu)) {
            return RVM_ERR_HAL;
        }
    }
    return RVM_OK;
}

static void h_tlb_invalidate(void *ctx, uint16_t vmid)
{
    struct fw_hal *h = fw(ctx);
    if (vmid >= RVM_A64_VMID_COUNT) {
        return;
    }
    if (is_a64(h)) {
        if (h->vmid_vttbr[vmid] != 0) {
            fw_arch_s2_invalidate(h->vmid_vttbr[vmid]);
        }
        return;
    }
    for (uint32_t c = 0; c < FW_HAL_MAX_CPUS; c++) { /* bound: FW_HAL_MAX_CPUS */
        struct fw_hal_cpu *cpu = &h->cpu[c];
        const struct rvm_aspace_space *sp =
            cpu->active && cpu->vmid == vmid ? rvm_aspace_find(&h->as, cpu->part) : NULL;
        if (sp != NULL) {
            cpu->pmp = sp->image;
            (void)hart_follow(h, c); /* no result to give: a disagreement is counted */
        }
    }
}

static enum rvm_err h_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                 size_t len)
{
    return rvm_aspace_guest_read(&fw(ctx)->as, part, src.v, dst, len);
}

static enum rvm_err h_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                  size_t len)
{
    return rvm_aspace_guest_write(&fw(ctx)->as, part, dst.v, src, len);
}

static enum rvm_err h_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    (void)ctx, (void)irq, (void)cpu, (void)enabled;
    return RVM_OK;
}

static void h_irq_complete(void *ctx, uint32_t irq)
{
    (void)ctx, (void)irq;
}

/* The core passes only ranges inside the guest window (hal.h); anything else is a core defect,
 * and touching it could overwrite the firmware, so it is ignored (reads give zeros). */
static unsigned char *window(const struct fw_hal *h, uint64_t hpa, uint64_t len)
{
    if (hpa < h->guest_base || len > h->guest_size || hpa - h->guest_base > h->guest_size - len) {
        return NULL;
    }
    return (unsigned char *)(uintptr_t)hpa;
}

static void h_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    const unsigned char *p = window(fw(ctx), src.v, len);
    if (p != NULL) {
        memcpy(dst, p, len);
    } else {
        memset(dst, 0, len);
    }
}

static void h_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    unsigned char *p = window(fw(ctx), dst.v, len);
    if (p != NULL) {
        memcpy(p, src, len);
    }
}

static void h_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    unsigned char *p = window(fw(ctx), dst.v, len);
    if (p != NULL) {
        memset(p, 0, (size_t)len);
    }
}

static const struct rvm_hal_ops fw_hal_ops = {
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
};

/* Guest RAM for the address spaces' guest copies: already translated and range checked. */
static void aspace_read(void *ctx, uint64_t hpa, void *dst, size_t len)
{
    (void)ctx;
    memcpy(dst, (const void *)(uintptr_t)hpa, len);
}

static void aspace_write(void *ctx, uint64_t hpa, const void *src, size_t len)
{
    (void)ctx;
    memcpy((void *)(uintptr_t)hpa, src, len);
}

enum rvm_err fw_hal_init(struct fw_hal *h, uint8_t arch, uint64_t guest_base, uint64_t guest_size,
                         uint32_t spaces, uint32_t table_pages,
                         const struct fw_hal_storage *storage)
{
    memset(h, 0, sizeof(*h));
    h->hal.ops = &fw_hal_ops;
    h->hal.ctx = h;
    rvm_crypto_portable(&h->hal.crypto);
    h->guest_base = guest_base;
    h->guest_size = guest_size;
    const struct rvm_aspace_config cfg = {
        .arch = arch == RVM_VCPU_RISCV64 ? RVM_ASPACE_RISCV : RVM_ASPACE_AARCH64,
        .cpus = FW_HAL_MAX_CPUS,
        .max_partitions = spaces,
        .guest_base = guest_base,
        .guest_size = guest_size,
        .pmp_entries = FW_HAL_PMP_ENTRIES,
        .max_regions = FW_HAL_PMP_REGIONS,
    };
    const struct rvm_aspace_storage st = {
        .spaces = storage->spaces,
        .running = h->running,
        .table_pages = storage->table_pages,
        .table_info = storage->table_info,
        .table_npages = table_pages,
        .table_base_pa = (uint64_t)(uintptr_t)storage->table_pages,
        .regions = storage->regions,
        .scratch = storage->scratch,
    };
    const struct rvm_aspace_memory mem = {h, aspace_read, aspace_write};
    for (uint32_t c = 0; c < FW_HAL_MAX_CPUS; c++) { /* bound: FW_HAL_MAX_CPUS */
        h->cpu[c].part = RVM_PARTITION_INVALID;
        if (cfg.arch == RVM_ASPACE_RISCV) {
            (void)rvm_rv_pmp_init(&h->cpu[c].pmp, FW_HAL_PMP_ENTRIES);
        }
    }
    return rvm_aspace_init(&h->as, &cfg, &st, &mem);
}

enum rvm_err fw_hal_guest_access(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                                 uint64_t ipa, uint64_t value)
{
    struct fw_hal *h = fw(ctx);
    (void)part; /* the CPU's live translation decides, as on the hardware */
    const uint64_t len = 8;
    if (cpu >= FW_HAL_MAX_CPUS || kind > RVM_ASPACE_EXEC || (ipa & (len - 1u)) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const struct fw_hal_cpu *c = &h->cpu[cpu];
    if (!c->active) {
        return RVM_ERR_WRONG_STATE;
    }
    uint64_t hpa = ipa;
    if (is_a64(h)) {
        if (rvm_aspace_translate(&h->as, c->part, ipa, len, (enum rvm_aspace_access)kind, &hpa) !=
            RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
    } else {
        struct rvm_rv_fault f;
        const enum rvm_rv_access a = kind == RVM_ASPACE_WRITE  ? RVM_RV_STORE
                                     : kind == RVM_ASPACE_EXEC ? RVM_RV_FETCH
                                                               : RVM_RV_LOAD;
        if (rvm_rv_access_check(&c->pmp, 0, RVM_RV_PRIV_S, ipa, len, a, &f) != RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
    }
    volatile uint64_t *word = (volatile uint64_t *)(uintptr_t)hpa;
    if (window(h, hpa, len) == NULL) {
        return RVM_ERR_GUEST_FAULT; /* no RAM of the guest's behind it: an external abort */
    }
    if (kind == RVM_ASPACE_WRITE) {
        *word = value;
    } else {
        (void)*word;
    }
    return RVM_OK;
}
