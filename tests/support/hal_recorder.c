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

static uint64_t rec_clock_now(void *ctx)
{
    const struct hal_recorder *r = ctx;
    return r->now_ns;
}

static void rec_console_write(void *ctx, const char *text, size_t len)
{
    (void)ctx, (void)text, (void)len;
}

static size_t rec_witness_drain(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct hal_recorder *r = ctx;
    struct hal_recorder_sink *sink = &r->sink;
    if (count > r->drain_limit) {
        count = (size_t)r->drain_limit;
    }
    if (count == 0) {
        return 0;
    }
    if (first_seq != sink->count) {
        sink->out_of_order = true;
        return 0;
    }
    if (sink->count + count > sink->capacity) {
        uint64_t cap = sink->capacity != 0 ? sink->capacity : 1024;
        while (cap < sink->count + count) {
            cap *= 2;
        }
        uint8_t *p = realloc(sink->records, (size_t)cap * RVM_WITNESS_RECORD_BYTES);
        if (p == NULL) {
            return 0; /* host out of memory looks like a stalled sink: the core refuses */
        }
        sink->records = p;
        sink->capacity = cap;
    }
    memcpy(sink->records + sink->count * RVM_WITNESS_RECORD_BYTES, records,
           count * RVM_WITNESS_RECORD_BYTES);
    sink->count += count;
    return count;
}

static bool rec_witness_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct hal_recorder *r = ctx;
    (void)cp;
    if (r->checkpoint_stalled) {
        return false;
    }
    r->sink.ncheckpoints++;
    return true;
}

static enum rvm_err rec_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                   size_t len)
{
    (void)ctx, (void)part, (void)src, (void)dst, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static enum rvm_err rec_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst,
                                    const void *src, size_t len)
{
    (void)ctx, (void)part, (void)dst, (void)src, (void)len;
    return RVM_ERR_GUEST_FAULT;
}

static void rec_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    (void)ctx, (void)src;
    memset(dst, 0, len);
}

static void rec_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    (void)ctx, (void)dst, (void)src, (void)len;
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

static const struct rvm_hal_ops recorder_ops = {
    .clock_now_ns = rec_clock_now,
    .timer_arm = rec_timer_arm,
    .console_write = rec_console_write,
    .witness_drain = rec_witness_drain,
    .witness_checkpoint = rec_witness_checkpoint,
    .s2_map = rec_s2_map,
    .s2_unmap = rec_s2_unmap,
    .s2_activate = rec_s2_activate,
    .tlb_invalidate_vmid = rec_tlb_invalidate_vmid,
    .guest_read = rec_guest_read,
    .guest_write = rec_guest_write,
    .irq_configure = rec_irq_configure,
    .irq_complete = rec_irq_complete,
    .phys_read = rec_phys_read,
    .phys_write = rec_phys_write,
    .phys_zero = rec_phys_zero,
};

void hal_recorder_init(struct hal_recorder *r, const struct rvm_crypto *crypto)
{
    memset(r, 0, sizeof(*r));
    r->hal.ops = &recorder_ops;
    r->hal.ctx = r;
    r->hal.crypto = *crypto;
    r->drain_limit = UINT64_MAX;
    r->calls = calloc(HAL_RECORDER_MAX_CALLS, sizeof(*r->calls));
}

void hal_recorder_free(struct hal_recorder *r)
{
    free(r->sink.records);
    free(r->calls);
    memset(&r->sink, 0, sizeof(r->sink));
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
