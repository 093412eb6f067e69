/* SPDX-License-Identifier: MIT */
/*
 * Hardware VMIDs multiplexed over more partitions (RVM's DC-12).
 *
 * The hardware tags TLB entries with an 8-bit VMID (VTTBR_EL2.VMID on AArch64, hgatp.VMID /
 * the PMP context on RISC-V). There are more partitions than VMIDs, so a VMID is a cache slot:
 *
 *   - VMID 0 is the hypervisor's and is never given to a partition; 1 .. nvmids-1 are.
 *   - Each slot has an owner and a generation. A partition's binding is (vmid, generation); it is
 *     valid while the slot still has that owner and generation. Reassigning a slot bumps its
 *     generation, so the previous owner's binding goes stale without anyone having to find it.
 *   - A partition without a valid binding gets, in this order: a slot never loaded since its last
 *     invalidation (no flush needed); a released slot (flushed); the least-recently-activated
 *     owned slot (its owner loses it: "reclaim", flushed). Slots currently loaded on any CPU are
 *     never taken (a CPU that stopped running a guest still holds the VMID in VTTBR and can fill
 *     TLB entries with it), which is why nvmids - 1 must exceed the number of CPUs.
 *   - "Flushed" means tlb_invalidate_vmid(vmid) through the HAL before the new owner's
 *     s2_activate. A slot is dirty from its first activation until that flush, so a VMID that
 *     ran partition A is always invalidated before it runs any other partition (or a partition
 *     that reuses A's id after A was released).
 *
 * Witnessing: an assignment (VmidAssign 0xA2) or a reclaim (VmidReclaim 0xA0) appends one record,
 * actor 0, before anything changes: target = generation << 32 | vmid (the slot as a handle),
 * payload = new owner | previous owner << 32, aux = cpu, flags bit 0 = a TLB invalidation was
 * issued. A release (VmidRelease 0xA4) is a prepare/commit pair. Activations that hit a valid
 * binding are the hot path and append nothing.
 */
#ifndef RVM_VMID_H
#define RVM_VMID_H

#include "rvm/error.h"
#include "rvm/hal.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_VMID_HW_MAX           256u /* 8-bit VMIDs */
#define RVM_VMID_MAX_CPUS         64u
#define RVM_VMID_FLAG_INVALIDATED 0x01u /* witness flags: a TLB invalidation was issued */

struct rvm_vmid_slot {
    rvm_partition_id owner; /* 0: free */
    uint32_t generation;    /* bumped on every change of owner */
    uint64_t last_used;     /* activation counter value of its last activation (LRU) */
    uint64_t loaded_mask;   /* CPUs whose VTTBR holds this VMID */
    uint8_t dirty;          /* activated since its last invalidation */
};

/* A partition's VMID binding (caller storage, one per partition id, index id - 1). */
struct rvm_vmid_binding {
    uint16_t vmid; /* 0: none */
    uint32_t generation;
};

struct rvm_vmid_config {
    uint32_t nvmids;                   /* hardware VMIDs incl. the reserved 0: 2 .. 256 */
    uint32_t ncpus;                    /* 1 .. 64, and < nvmids - 1 */
    uint32_t max_partitions;           /* ids 1 .. max_partitions */
    struct rvm_vmid_binding *bindings; /* max_partitions entries */
};

struct rvm_vmid_stats {
    uint64_t activations;
    uint64_t hits; /* activations that found a valid binding */
    uint64_t assigns;
    uint64_t reclaims;
    uint64_t invalidations;
};

struct rvm_vmid_table {
    struct rvm_witness_log *log; /* appends go through the log's HAL too */
    const struct rvm_hal *hal;
    struct rvm_vmid_binding *bindings;
    uint32_t max_partitions;
    uint32_t nvmids;
    uint32_t ncpus;
    uint64_t clock; /* activation counter (deterministic LRU, not time) */
    uint16_t loaded[RVM_VMID_MAX_CPUS];
    struct rvm_vmid_stats stats;
    struct rvm_vmid_slot slots[RVM_VMID_HW_MAX];
};

/* All VMIDs free and clean (the boot code invalidated the whole TLB). INVALID_ARGUMENT for a bad
 * configuration. Nothing is witnessed. */
enum rvm_err rvm_vmid_init(struct rvm_vmid_table *t, struct rvm_witness_log *log,
                           const struct rvm_vmid_config *cfg);

/*
 * Make partition `id`'s address space current on `cpu` under a VMID that only it has used since
 * that VMID's last invalidation: get or keep a binding (witnessed when it changes), invalidate when
 * required, then HAL s2_activate. `vmid_out` may be NULL.
 * Errors: OUT_OF_RANGE (cpu, id); WITNESS_FULL (nothing changed); VMID_BUSY (cannot happen with a
 * valid configuration); HAL (s2_activate refused: a new binding stays, witnessed, but this CPU's
 * loaded VMID is unchanged).
 */
enum rvm_err rvm_vmid_activate(struct rvm_vmid_table *t, uint32_t cpu, rvm_partition_id id,
                               uint16_t *vmid_out);

/* The CPU went offline: it no longer holds a VMID. OUT_OF_RANGE for a bad cpu. */
enum rvm_err rvm_vmid_cpu_offline(struct rvm_vmid_table *t, uint32_t cpu);

/* The partition's current valid VMID, or 0. */
uint16_t rvm_vmid_of(const struct rvm_vmid_table *t, rvm_partition_id id);

/*
 * VmidRelease (0xA4): the partition is being destroyed; its slot becomes free (and stays dirty, so
 * the next owner, even one reusing this id, gets an invalidation first). A partition without a
 * valid binding has nothing to release: prepare sets plan->noop, commit does nothing and nothing
 * is witnessed. Record: actor, target = generation << 32 | vmid, payload = id.
 */
struct rvm_vmid_release_plan {
    rvm_partition_id id;
    bool noop;
};

enum rvm_err rvm_vmid_prepare_release(const struct rvm_vmid_table *t, uint32_t actor,
                                      rvm_partition_id id, struct rvm_witness_entry *e,
                                      struct rvm_vmid_release_plan *plan);
void rvm_vmid_commit_release(struct rvm_vmid_table *t, const struct rvm_vmid_release_plan *plan);

/*
 * Invariants: slot 0 unused; each owned slot's owner has a binding to it with its generation, and
 * every non-empty binding is valid (a slot that changes hands clears the old binding); loaded
 * masks agree with loaded[]; a loaded slot is dirty; counters are consistent.
 * RVM_ERR_INTERNAL when broken.
 */
enum rvm_err rvm_vmid_check(const struct rvm_vmid_table *t);

/* Canonical encoding: configuration, clock, loaded[], every slot, every binding. */
void rvm_vmid_hash(const struct rvm_vmid_table *t, struct rvm_sha256_ctx *ctx);

#endif /* RVM_VMID_H */
