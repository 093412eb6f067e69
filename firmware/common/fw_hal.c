/* SPDX-License-Identifier: MIT */
#include "fw_hal.h"

#include "console.h"
#include "mem.h"

#include "rvm/crypto_portable.h"

static struct fw_hal *fw(void *ctx)
{
    return ctx;
}

static uint64_t h_now(void *ctx)
{
    return fw(ctx)->now_ns;
}

static enum rvm_err h_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    if (cpu >= FW_HAL_MAX_CPUS) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    fw(ctx)->timer_deadline_ns[cpu] = deadline_ns;
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

static enum rvm_err h_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                             uint64_t size, uint32_t perms)
{
    (void)ctx, (void)part, (void)ipa, (void)hpa, (void)size, (void)perms;
    return RVM_ERR_HAL;
}

static enum rvm_err h_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    (void)ctx, (void)part, (void)ipa, (void)size;
    return RVM_ERR_HAL;
}

static enum rvm_err h_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    (void)ctx, (void)cpu, (void)part, (void)vmid;
    return RVM_ERR_HAL;
}

static void h_tlb_invalidate(void *ctx, uint16_t vmid)
{
    (void)ctx, (void)vmid; /* nothing is ever mapped for a guest, so nothing is cached */
}

static enum rvm_err h_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                 size_t len)
{
    (void)ctx, (void)part, (void)src, (void)dst, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static enum rvm_err h_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                  size_t len)
{
    (void)ctx, (void)part, (void)dst, (void)src, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static enum rvm_err h_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    (void)ctx, (void)irq, (void)cpu, (void)enabled;
    return RVM_ERR_OUT_OF_RANGE;
}

static void h_irq_complete(void *ctx, uint32_t irq)
{
    (void)ctx, (void)irq;
}

/* The core passes only ranges inside the window it was given (hal.h); anything else is a core
 * defect, and touching it could overwrite the firmware, so it is ignored (reads give zeros). */
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

void fw_hal_init(struct fw_hal *h, uint64_t guest_base, uint64_t guest_size)
{
    memset(h, 0, sizeof(*h));
    h->hal.ops = &fw_hal_ops;
    h->hal.ctx = h;
    rvm_crypto_portable(&h->hal.crypto);
    h->guest_base = guest_base;
    h->guest_size = guest_size;
}

void fw_hal_set_time(struct fw_hal *h, uint64_t now_ns)
{
    if (now_ns > h->now_ns) {
        h->now_ns = now_ns;
    }
}
