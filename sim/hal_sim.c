/* SPDX-License-Identifier: MIT */
#include "hal_sim.h"

#include <string.h>

static uint64_t sim_clock_now(void *ctx)
{
    const struct rvm_sim_hal *sim = ctx;
    return sim->now_ns;
}

static enum rvm_err sim_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    (void)ctx;
    (void)cpu;
    (void)deadline_ns;
    return RVM_ERR_UNSUPPORTED;
}

static void sim_console_write(void *ctx, const char *text, size_t len)
{
    struct rvm_sim_hal *sim = ctx;
    if (sim->console != NULL) {
        fwrite(text, 1, len, sim->console);
    }
}

static size_t sim_witness_drain(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_sim_hal *sim = ctx;
    if (sim->sink == NULL) {
        return 0;
    }
    if (count > sim->drain_limit) {
        count = (size_t)sim->drain_limit;
    }
    if (count == 0) {
        return 0;
    }
    return sim->sink->records(sim->sink_ctx, first_seq, records, count);
}

static bool sim_witness_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_sim_hal *sim = ctx;
    if (sim->sink == NULL || sim->checkpoint_stalled) {
        return false;
    }
    return sim->sink->checkpoint(sim->sink_ctx, cp);
}

static enum rvm_err sim_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                               uint64_t size, uint32_t perms)
{
    (void)ctx, (void)part, (void)ipa, (void)hpa, (void)size, (void)perms;
    return RVM_ERR_UNSUPPORTED;
}

static enum rvm_err sim_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    (void)ctx, (void)part, (void)ipa, (void)size;
    return RVM_ERR_UNSUPPORTED;
}

static enum rvm_err sim_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    (void)ctx, (void)cpu, (void)part, (void)vmid;
    return RVM_ERR_UNSUPPORTED;
}

static void sim_tlb_invalidate_vmid(void *ctx, uint16_t vmid)
{
    (void)ctx, (void)vmid;
}

static enum rvm_err sim_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                   size_t len)
{
    (void)ctx, (void)part, (void)src, (void)dst, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static enum rvm_err sim_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst,
                                    const void *src, size_t len)
{
    (void)ctx, (void)part, (void)dst, (void)src, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static enum rvm_err sim_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    (void)ctx, (void)irq, (void)cpu, (void)enabled;
    return RVM_ERR_UNSUPPORTED;
}

static void sim_irq_complete(void *ctx, uint32_t irq)
{
    (void)ctx, (void)irq;
}

/* No RAM behind the plain simulated HAL: reads see zeros, writes and scrubs go nowhere. */
static void sim_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    (void)ctx, (void)src;
    memset(dst, 0, len);
}

static void sim_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    (void)ctx, (void)dst, (void)src, (void)len;
}

static void sim_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    (void)ctx, (void)dst, (void)len;
}

static const struct rvm_hal_ops sim_ops = {
    .clock_now_ns = sim_clock_now,
    .timer_arm = sim_timer_arm,
    .console_write = sim_console_write,
    .witness_drain = sim_witness_drain,
    .witness_checkpoint = sim_witness_checkpoint,
    .s2_map = sim_s2_map,
    .s2_unmap = sim_s2_unmap,
    .s2_activate = sim_s2_activate,
    .tlb_invalidate_vmid = sim_tlb_invalidate_vmid,
    .guest_read = sim_guest_read,
    .guest_write = sim_guest_write,
    .irq_configure = sim_irq_configure,
    .irq_complete = sim_irq_complete,
    .phys_read = sim_phys_read,
    .phys_write = sim_phys_write,
    .phys_zero = sim_phys_zero,
};

void rvm_sim_hal_init(struct rvm_sim_hal *sim, const struct rvm_crypto *crypto)
{
    memset(sim, 0, sizeof(*sim));
    sim->hal.ops = &sim_ops;
    sim->hal.ctx = sim;
    sim->hal.crypto = *crypto;
    sim->drain_limit = UINT64_MAX;
}
