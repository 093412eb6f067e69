/* SPDX-License-Identifier: MIT */
#include "hal_recorder.h"

#include <stdlib.h>
#include <string.h>

static enum rvm_err record(struct hal_recorder *r, struct hal_call call)
{
    call.result = RVM_OK;
    if (r->fail_skip[call.kind] != 0) {
        r->fail_skip[call.kind]--;
    } else if (r->fail_count[call.kind] != 0) {
        r->fail_count[call.kind]--;
        call.result = r->fail_with[call.kind];
    }
    if (r->ncalls < HAL_RECORDER_MAX_CALLS) {
        r->calls[r->ncalls++] = call;
    } else {
        r->overflowed = true;
    }
    return call.result;
}

static enum rvm_err rec_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                               uint64_t size, uint32_t perms)
{
    struct hal_call c = {.kind = HAL_CALL_MAP,
                         .partition = part,
                         .ipa = ipa.v,
                         .hpa = hpa.v,
                         .size = size,
                         .perms = perms};
    return record(ctx, c);
}

static enum rvm_err rec_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct hal_call c = {.kind = HAL_CALL_UNMAP, .partition = part, .ipa = ipa.v, .size = size};
    return record(ctx, c);
}

static enum rvm_err rec_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct hal_call c = {.kind = HAL_CALL_ACTIVATE, .cpu = cpu, .partition = part, .vmid = vmid};
    return record(ctx, c);
}

static void rec_tlb_invalidate_vmid(void *ctx, uint16_t vmid)
{
    struct hal_call c = {.kind = HAL_CALL_TLB_INVALIDATE_VMID, .vmid = vmid};
    (void)record(ctx, c);
}

static enum rvm_err rec_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct hal_call c = {
        .kind = HAL_CALL_IRQ_CONFIGURE, .irq = irq, .cpu = cpu, .enabled = enabled};
    return record(ctx, c);
}

static void rec_irq_complete(void *ctx, uint32_t irq)
{
    struct hal_call c = {.kind = HAL_CALL_IRQ_COMPLETE, .irq = irq};
    (void)record(ctx, c);
}

static enum rvm_err rec_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    struct hal_call c = {.kind = HAL_CALL_TIMER_ARM, .cpu = cpu, .deadline_ns = deadline_ns};
    return record(ctx, c);
}

static void rec_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    struct hal_call c = {.kind = HAL_CALL_PHYS_ZERO, .hpa = dst.v, .size = len};
    (void)record(ctx, c);
}

void hal_recorder_init(struct hal_recorder *r, const struct rvm_crypto *crypto)
{
    memset(r, 0, sizeof(*r));
    rvm_sim_hal_init(&r->sim, crypto);
    r->ops = *r->sim.hal.ops;
    r->ops.s2_map = rec_s2_map;
    r->ops.s2_unmap = rec_s2_unmap;
    r->ops.s2_activate = rec_s2_activate;
    r->ops.tlb_invalidate_vmid = rec_tlb_invalidate_vmid;
    r->ops.irq_configure = rec_irq_configure;
    r->ops.irq_complete = rec_irq_complete;
    r->ops.timer_arm = rec_timer_arm;
    r->ops.phys_zero = rec_phys_zero;
    r->sim.hal.ops = &r->ops;
    r->calls = calloc(HAL_RECORDER_MAX_CALLS, sizeof(*r->calls));
    rvm_memory_sink_init(&r->sink, NULL);
    rvm_sim_hal_set_sink(&r->sim, &rvm_memory_sink_ops, &r->sink);
}

void hal_recorder_free(struct hal_recorder *r)
{
    rvm_memory_sink_free(&r->sink);
    free(r->calls);
    r->calls = NULL;
}

void hal_recorder_fail(struct hal_recorder *r, enum hal_call_kind kind, uint32_t count,
                       enum rvm_err err)
{
    r->fail_count[kind] = count;
    r->fail_with[kind] = err;
}

void hal_recorder_fail_after(struct hal_recorder *r, enum hal_call_kind kind, uint32_t skip,
                             uint32_t count, enum rvm_err err)
{
    r->fail_skip[kind] = skip;
    r->fail_count[kind] = count;
    r->fail_with[kind] = err;
}

size_t hal_recorder_count(const struct hal_recorder *r, enum hal_call_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->ncalls; i++) {
        n += r->calls[i].kind == kind;
    }
    return n;
}

void hal_recorder_clear(struct hal_recorder *r)
{
    r->ncalls = 0;
    r->overflowed = false;
}
