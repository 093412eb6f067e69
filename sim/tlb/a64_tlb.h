/* SPDX-License-Identifier: MIT */
/*
 * A model of the stage-2 TLB: a small cache of translations tagged by VMID.
 *
 * It exists so that the simulator can observe what real hardware would do when the hypervisor
 * forgets an invalidation: after an unmap, or after giving a VMID to another partition, a cached
 * translation keeps working until `TLBI VMALLS12E1IS` (here rvm_a64_tlb_invalidate_vmid) removes
 * it. Only the simulator uses this model (firmware has the real TLB); it follows the core's rules
 * anyway because it lives next to the table code.
 *
 * Simplifications (docs/platforms.md): one TLB shared by all CPUs (invalidation is broadcast, so
 * per-CPU TLBs would only differ in which entries happen to be filled), entries are 4 KiB even for
 * block mappings, fully associative with round-robin replacement, and only successful walks or
 * permission faults (a valid leaf with AF set) are cached, never translation, access flag,
 * address size or walk faults.
 */
#ifndef RVM_A64_TLB_H
#define RVM_A64_TLB_H

#include "a64_stage2.h"

#include <stdbool.h>
#include <stdint.h>

struct rvm_a64_tlb_entry {
    uint64_t ipa_page; /* IPA >> 12 */
    uint64_t oa_page;  /* output address >> 12 */
    uint8_t vmid;
    uint8_t perms; /* enum rvm_perm */
    uint8_t level; /* level of the leaf it was filled from */
    uint8_t valid;
    uint32_t reserved;
};

struct rvm_a64_tlb {
    struct rvm_a64_tlb_entry *entries; /* caller storage */
    uint32_t capacity;
    uint32_t next_victim;
};

/* capacity >= 1 entries of caller storage; starts empty. */
enum rvm_err rvm_a64_tlb_init(struct rvm_a64_tlb *tlb, struct rvm_a64_tlb_entry *entries,
                              uint32_t capacity);

/* TLBI VMALLS12E1IS for one VMID: drop every entry tagged `vmid`. */
void rvm_a64_tlb_invalidate_vmid(struct rvm_a64_tlb *tlb, uint8_t vmid);

/* TLBI ALLE1IS: drop everything. */
void rvm_a64_tlb_invalidate_all(struct rvm_a64_tlb *tlb);

/*
 * Translate `ipa` for `access` under `vttbr` (VMID from VTTBR_EL2[55:48]) the way the CPU does:
 * a hit answers from the cached translation and permissions, even if the tables have changed
 * since; a miss walks and fills. *hit (may be NULL) tells which happened. Same result contract as
 * rvm_a64_walk.
 */
enum rvm_err rvm_a64_tlb_translate(struct rvm_a64_tlb *tlb, const struct rvm_a64_pool *pool,
                                   uint64_t vttbr, uint64_t ipa, enum rvm_a64_access access,
                                   struct rvm_a64_walk *out, bool *hit);

/* Number of valid entries tagged `vmid`. */
uint32_t rvm_a64_tlb_count(const struct rvm_a64_tlb *tlb, uint8_t vmid);

#endif /* RVM_A64_TLB_H */
