/* SPDX-License-Identifier: MIT */
/*
 * Partitions' address spaces over the real encodings: the hal.h address-space contract (s2_map,
 * s2_unmap, s2_activate, guest_read, guest_write) for an AArch64 EL2 platform (VMSAv8-64 stage-2
 * tables, a64_stage2.h) or a RISC-V M-mode platform (PMP images built from region sets,
 * rv_pmp.h). The simulator's HAL and the firmware HALs both call this one implementation, so the
 * error codes that end up in witness records are the same on both.
 *
 * Freestanding like core/: every array is caller storage (struct rvm_aspace_storage), physical
 * memory is reached through the caller's callbacks (struct rvm_aspace_memory) except the stage-2
 * table pool, which the caller hands over as directly addressable pages.
 *
 * What stays with the caller: the CPUs' translation registers (VTTBR_EL2, the live PMP CSRs),
 * TLB maintenance, and which memory counts as RAM beyond the guest range given here.
 */
#ifndef RVM_PLATFORM_ASPACE_H
#define RVM_PLATFORM_ASPACE_H

#include "a64_stage2.h"
#include "rv_pmp.h"

#include "rvm/error.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rvm_aspace_arch {
    RVM_ASPACE_AARCH64 = 1,
    RVM_ASPACE_RISCV = 2,
};

/* Values match enum rvm_a64_access. */
enum rvm_aspace_access {
    RVM_ASPACE_READ = 0,
    RVM_ASPACE_WRITE = 1,
    RVM_ASPACE_EXEC = 2,
};

struct rvm_aspace_config {
    enum rvm_aspace_arch arch;
    uint32_t cpus;           /* CPUs that can run a partition */
    uint32_t max_partitions; /* address spaces held at once */
    uint64_t guest_base;     /* the host-physical range partitions may be given, page aligned */
    uint64_t guest_size;
    uint32_t pmp_entries; /* RISC-V: 16 or 64 */
    uint32_t max_regions; /* RISC-V: mapped ranges per partition */
};

/* One partition's address space. */
struct rvm_aspace_space {
    rvm_partition_id part; /* RVM_PARTITION_INVALID when the slot is free */
    struct rvm_a64_space s2;
    struct rvm_rv_region *regions; /* RISC-V: sorted, max_regions of storage */
    uint32_t nregions;
    struct rvm_rv_pmp image; /* RISC-V: the PMP image built from regions */
};

/* Caller storage, sized from the configuration. */
struct rvm_aspace_storage {
    struct rvm_aspace_space *spaces; /* max_partitions */
    rvm_partition_id *running;       /* cpus: the partition each CPU runs */
    /* AArch64: the stage-2 table pool. */
    uint64_t (*table_pages)[RVM_A64_ENTRIES];
    struct rvm_a64_page_info *table_info;
    uint32_t table_npages;
    uint64_t table_base_pa;
    /* RISC-V. */
    struct rvm_rv_region *regions; /* max_partitions * max_regions */
    struct rvm_rv_region *scratch; /* max_regions + 1 */
};

/* Guest RAM as the hypervisor reaches it; only called for ranges inside the guest range. */
struct rvm_aspace_memory {
    void *ctx;
    void (*read)(void *ctx, uint64_t hpa, void *dst, size_t len);
    void (*write)(void *ctx, uint64_t hpa, const void *src, size_t len);
};

struct rvm_aspace {
    struct rvm_aspace_config cfg;
    struct rvm_a64_pool pool; /* AArch64 */
    struct rvm_aspace_space *spaces;
    rvm_partition_id *running;
    struct rvm_rv_region *scratch;
    struct rvm_aspace_memory mem;
};

/*
 * Take the storage: every slot free, no CPU running a partition, the table pool free and zeroed.
 * RVM_ERR_INVALID_ARGUMENT for a configuration or storage the platform cannot use.
 */
enum rvm_err rvm_aspace_init(struct rvm_aspace *as, const struct rvm_aspace_config *cfg,
                             const struct rvm_aspace_storage *storage,
                             const struct rvm_aspace_memory *mem);

/* Back to the state rvm_aspace_init left: every space destroyed, the table pages zeroed and the
 * pool's free list in the order a fresh pool has (a run allocates the same pages whatever ran
 * before it). */
void rvm_aspace_reset(struct rvm_aspace *as);

/*
 * s2_map: map [ipa, ipa + size) of `part` to [hpa, hpa + size) with `perms`. Refused, in this
 * order: a bad partition or permission set (INVALID_ARGUMENT), W and X together (WX), W without
 * R (HAL: PMP cannot express it, refused on both for parity), an empty, unaligned or wrapping
 * range (INVALID_ARGUMENT, ALIGNMENT, OVERFLOW), host memory outside the guest range (HAL), on
 * RISC-V ipa != hpa (HAL), no free slot or table page (HAL), an overlap (OVERLAP on RISC-V; the
 * stage-2 builder's code on AArch64), a full region set or a layout the PMP cannot express (HAL),
 * a table pool running dry or an IPA beyond the 39-bit space (HAL).
 */
enum rvm_err rvm_aspace_map(struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                            uint64_t hpa, uint64_t size, uint32_t perms);

/* s2_unmap: the whole range must be mapped (NOT_FOUND otherwise); splitting a block or a region
 * that needs storage the platform lacks is HAL. An emptied space no CPU runs is released. */
enum rvm_err rvm_aspace_unmap(struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                              uint64_t size);

/*
 * s2_activate bookkeeping: `cpu` now runs `part` (its space created empty if it has none), the
 * space it ran before is released if empty. *space is what the caller loads into the CPU's
 * translation registers (rvm_a64_vttbr of space->s2, or space->image).
 * RVM_ERR_OUT_OF_RANGE for a CPU or VMID beyond the platform, INVALID_ARGUMENT for a bad
 * partition, HAL when no slot is free.
 */
enum rvm_err rvm_aspace_activate(struct rvm_aspace *as, uint32_t cpu, rvm_partition_id part,
                                 uint16_t vmid, const struct rvm_aspace_space **space);

/* The space of `part`, or NULL. */
const struct rvm_aspace_space *rvm_aspace_find(const struct rvm_aspace *as, rvm_partition_id part);

/* Software translation of [ipa, ipa + len) (len within one page) of `part` from its current
 * tables / regions: RVM_OK with *hpa inside the guest range, or RVM_ERR_GUEST_FAULT. */
enum rvm_err rvm_aspace_translate(const struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                                  uint64_t len, enum rvm_aspace_access kind, uint64_t *hpa);

/* guest_read / guest_write: every page of the range is checked before any byte moves, so a
 * fault anywhere moves nothing (RVM_ERR_GUEST_FAULT; OVERFLOW for a wrapping range). */
enum rvm_err rvm_aspace_guest_read(const struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                                   void *dst, size_t len);
enum rvm_err rvm_aspace_guest_write(const struct rvm_aspace *as, rvm_partition_id part,
                                    uint64_t ipa, const void *src, size_t len);

/* Bytes `part` has mapped (0 when it has no space). */
uint64_t rvm_aspace_mapped_bytes(const struct rvm_aspace *as, rvm_partition_id part);

/* Structural invariants: the table pool, one slot per partition, PMP images that match their
 * region sets, every running CPU's space present. RVM_ERR_CORRUPT (or the pool's code). */
enum rvm_err rvm_aspace_check(const struct rvm_aspace *as);

/* [hpa, hpa + size) lies in the guest range. */
bool rvm_aspace_guest_range(const struct rvm_aspace *as, uint64_t hpa, uint64_t size);

#endif /* RVM_PLATFORM_ASPACE_H */
