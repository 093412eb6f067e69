/* SPDX-License-Identifier: MIT */
/*
 * A HAL test double for core unit tests: a virtual clock, a witness sink in memory, no console and
 * no RAM (reads see zeros), plus a log of every platform call the core makes (stage-2/PMP map,
 * unmap, activate, TLB invalidation, interrupt configuration, timer, scrub), with per-kind failure
 * injection. Tests assert on the recorded calls, e.g. "no partition ran under a VMID without an
 * invalidation in between". It needs nothing but the core, so a core test links neither the
 * simulator nor its host libraries.
 */
#ifndef RVM_TESTS_HAL_RECORDER_H
#define RVM_TESTS_HAL_RECORDER_H

#include "rvm/hal.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hal_call_kind {
    HAL_CALL_MAP,
    HAL_CALL_UNMAP,
    HAL_CALL_ACTIVATE,
    HAL_CALL_TLB_INVALIDATE_VMID,
    HAL_CALL_IRQ_CONFIGURE,
    HAL_CALL_IRQ_COMPLETE,
    HAL_CALL_TIMER_ARM,
    HAL_CALL_PHYS_ZERO, /* a scrub: hpa, size (the recorder has no RAM: reads see zeros) */
    HAL_CALL_KINDS,
};

struct hal_call {
    enum hal_call_kind kind;
    uint32_t partition;
    uint64_t ipa;
    uint64_t hpa;
    uint64_t size;
    uint32_t perms;
    uint32_t cpu;
    uint16_t vmid;
    uint32_t irq;
    bool enabled;
    uint64_t deadline_ns;
    enum rvm_err result; /* what the double returned */
};

#define HAL_RECORDER_MAX_CALLS 65536u

/* Every record the core drained, in sequence order (count * RVM_WITNESS_RECORD_BYTES). */
struct hal_recorder_sink {
    uint8_t *records;
    uint64_t count;
    uint64_t capacity;
    uint64_t ncheckpoints;
    bool out_of_order; /* set if a drain ever skipped or repeated a sequence number */
};

struct hal_recorder {
    struct rvm_hal hal; /* hand hal_recorder_hal() to the core */
    uint64_t now_ns;
    /* Sink stalls: at most this many records are accepted per drain (0 = stalled); checkpoints
     * refused while checkpoint_stalled. */
    uint64_t drain_limit;
    bool checkpoint_stalled;
    struct hal_recorder_sink sink;
    struct hal_call *calls; /* HAL_RECORDER_MAX_CALLS entries; older calls are not overwritten */
    size_t ncalls;
    bool overflowed; /* more calls than fit: assertions about "all calls" are void */
    /* Failure injection: the next `fail_count[k]` calls of kind k return `fail_with[k]`. */
    uint32_t fail_count[HAL_CALL_KINDS];
    enum rvm_err fail_with[HAL_CALL_KINDS];
    uint32_t fail_skip[HAL_CALL_KINDS]; /* calls of the kind let through before the failures */
};

/* A recorder at time 0 whose witness records go to its own sink. Free with hal_recorder_free. */
void hal_recorder_init(struct hal_recorder *r, const struct rvm_crypto *crypto);
void hal_recorder_free(struct hal_recorder *r);

static inline const struct rvm_hal *hal_recorder_hal(const struct hal_recorder *r)
{
    return &r->hal;
}

/* Make the next `count` calls of `kind` fail with `err`. */
void hal_recorder_fail(struct hal_recorder *r, enum hal_call_kind kind, uint32_t count,
                       enum rvm_err err);

/* Let the next `skip` calls of `kind` succeed, then make `count` fail with `err`. */
void hal_recorder_fail_after(struct hal_recorder *r, enum hal_call_kind kind, uint32_t skip,
                             uint32_t count, enum rvm_err err);

/* Number of recorded calls of `kind`. */
size_t hal_recorder_count(const struct hal_recorder *r, enum hal_call_kind kind);

void hal_recorder_clear(struct hal_recorder *r);

#endif /* RVM_TESTS_HAL_RECORDER_H */
