/* SPDX-License-Identifier: MIT */
/*
 * VMSAv8-64 stage-2 translation: register values, descriptors, a table builder over a bounded
 * page pool, and a walker that reports the fault the hardware would.
 *
 * Shared by the simulated AArch64 platform and (later) the EL2 firmware, so it follows the core's
 * rules: freestanding C11, no globals, no recursion, bounded loops, caller-provided storage.
 *
 * Every encoding below is the architectural one. Sources, by register and field name in the
 * Arm Architecture Reference Manual for A-profile (DDI 0487):
 *   - VTCR_EL2 and VTTBR_EL2 register descriptions;
 *   - "VMSAv8-64 translation table format descriptors" (table / block / page formats) and
 *     "Stage 2 memory attributes" / "Stage 2 data access permissions" (S2AP, XN, MemAttr);
 *   - ESR_EL2: exception classes 0x20 / 0x24 and the DFSC / IFSC fault status codes;
 *   - the pseudocode AArch64.TranslationTableWalk / AArch64.CheckS2Permission for the order in
 *     which faults are detected.
 *
 * Chosen configuration (docs/platforms.md explains the choice):
 *   4 KiB granule, 39-bit IPA (T0SZ = 25), walk starts at level 1 (SL0 = 1) with one 512-entry
 *   root table (no concatenation), 40-bit PA (PS = 0b010, the Cortex-A53/A72 size on QEMU virt),
 *   8-bit VMID (VS = 0), inner-shareable write-back walks, hardware AF/dirty management off.
 *   Levels: 1 (1 GiB blocks), 2 (2 MiB blocks), 3 (4 KiB pages).
 */
#ifndef RVM_A64_STAGE2_H
#define RVM_A64_STAGE2_H

#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- VTCR_EL2 -------------------------------------------------------------------------------- */

#define RVM_A64_VTCR_T0SZ_SHIFT  0u /* [5:0]   input size = 64 - T0SZ bits */
#define RVM_A64_VTCR_SL0_SHIFT   6u /* [7:6]   starting level; 4 KiB granule: 0->L2, 1->L1, 2->L0 */
#define RVM_A64_VTCR_IRGN0_SHIFT 8u /* [9:8]   inner cacheability of walks: 01 = WB RA WA */
#define RVM_A64_VTCR_ORGN0_SHIFT 10u /* [11:10] outer cacheability of walks: 01 = WB RA WA */
#define RVM_A64_VTCR_SH0_SHIFT   12u /* [13:12] shareability of walks: 11 = inner shareable */
#define RVM_A64_VTCR_TG0_SHIFT   14u /* [15:14] granule: 00 = 4 KiB */
#define RVM_A64_VTCR_PS_SHIFT    16u /* [18:16] physical address size: 010 = 40 bits */
#define RVM_A64_VTCR_VS          (1u << 19) /* 16-bit VMID (FEAT_VMID16); we use 8-bit: 0 */
#define RVM_A64_VTCR_HA          (1u << 21) /* hardware access flag update; off: AF=0 faults */
#define RVM_A64_VTCR_RES1        (1u << 31) /* bit 31 is RES1 */

#define RVM_A64_IPA_BITS   39u
#define RVM_A64_PA_BITS    40u
#define RVM_A64_T0SZ       (64u - RVM_A64_IPA_BITS)
#define RVM_A64_SL0        1u
#define RVM_A64_START_LVL  1u
#define RVM_A64_PS_40BIT   2u
#define RVM_A64_VMID_COUNT 256u

/* 0x80023559: RES1 | PS=2 | SH0=3 | ORGN0=1 | IRGN0=1 | SL0=1 | T0SZ=25. */
#define RVM_A64_VTCR_VALUE                                                                         \
    ((uint64_t)(RVM_A64_VTCR_RES1 | RVM_A64_PS_40BIT << RVM_A64_VTCR_PS_SHIFT |                    \
                3u << RVM_A64_VTCR_SH0_SHIFT | 1u << RVM_A64_VTCR_ORGN0_SHIFT |                    \
                1u << RVM_A64_VTCR_IRGN0_SHIFT | RVM_A64_SL0 << RVM_A64_VTCR_SL0_SHIFT |           \
                RVM_A64_T0SZ << RVM_A64_VTCR_T0SZ_SHIFT))

/* ---- VTTBR_EL2 ------------------------------------------------------------------------------- */

/* VMID [55:48] when VTCR_EL2.VS = 0; BADDR [47:12] (the 512-entry root is 4 KiB aligned). */
#define RVM_A64_VTTBR_VMID_SHIFT 48u
#define RVM_A64_VTTBR_BADDR_MASK 0x0000FFFFFFFFF000ull
#define RVM_A64_VTTBR_CNP        1ull /* bit 0: common-not-private, unused */

/* ---- stage-2 descriptors ----------------------------------------------------------------------
 */

#define RVM_A64_DESC_VALID    (1ull << 0)
#define RVM_A64_DESC_TYPE     (1ull << 1) /* levels 0-2: 1 table, 0 block; level 3: 1 page */
#define RVM_A64_MEMATTR_SHIFT 2u          /* MemAttr [5:2] */
#define RVM_A64_MEMATTR_MASK  (0xFull << RVM_A64_MEMATTR_SHIFT)
#define RVM_A64_S2AP_SHIFT    6u /* S2AP [7:6]: bit 6 read, bit 7 write */
#define RVM_A64_S2AP_MASK     (3ull << RVM_A64_S2AP_SHIFT)
#define RVM_A64_S2AP_READ     (1ull << 6)
#define RVM_A64_S2AP_WRITE    (1ull << 7)
#define RVM_A64_SH_SHIFT      8u /* SH [9:8] */
#define RVM_A64_SH_MASK       (3ull << RVM_A64_SH_SHIFT)
#define RVM_A64_SH_INNER      (3ull << RVM_A64_SH_SHIFT)
#define RVM_A64_DESC_AF       (1ull << 10)
#define RVM_A64_DESC_CONTIG   (1ull << 52)
#define RVM_A64_DESC_XN       (1ull << 54) /* XN (XN[1] with FEAT_XNX; XN[0], bit 53, kept 0) */
#define RVM_A64_DESC_XN0      (1ull << 53)
#define RVM_A64_DESC_SW_MASK  (0xFull << 55)        /* [58:55] reserved for software */
#define RVM_A64_DESC_OA_MASK  0x0000FFFFFFFFF000ull /* next-level table / page address [47:12] */
#define RVM_A64_DESC_OA_HIGH  0x0000FF0000000000ull /* OA bits [47:40]: beyond the 40-bit PA */

/* MemAttr values (stage 2, FWB off): [3:2] outer / device, [1:0] inner / device type. */
#define RVM_A64_MEMATTR_NORMAL_WB    0xFull /* outer WB, inner WB */
#define RVM_A64_MEMATTR_DEVICE_NGNRE 0x1ull

enum rvm_a64_memtype {
    RVM_A64_MEM_NORMAL = 0, /* RAM: Normal WB, inner shareable */
    RVM_A64_MEM_DEVICE = 1, /* MMIO: Device-nGnRE (SH ignored by hardware, written 0) */
};

#define RVM_A64_ENTRIES            512u
#define RVM_A64_TABLE_BYTES        4096u
#define RVM_A64_LEVEL_SHIFT(level) (12u + 9u * (3u - (level))) /* 30, 21, 12 for levels 1..3 */
#define RVM_A64_LEVEL_SIZE(level)  ((uint64_t)1 << RVM_A64_LEVEL_SHIFT(level))

/* ---- ESR_EL2 --------------------------------------------------------------------------------- */

#define RVM_A64_EC_SHIFT      26u
#define RVM_A64_EC_IABT_LOWER 0x20u      /* instruction abort from a lower exception level */
#define RVM_A64_EC_DABT_LOWER 0x24u      /* data abort from a lower exception level */
#define RVM_A64_ESR_IL        (1u << 25) /* 32-bit instruction */
#define RVM_A64_ESR_WNR       (1u << 6)  /* data abort caused by a write */
#define RVM_A64_ESR_ISV       (1u << 24) /* instruction syndrome valid (not modelled: 0) */

/* DFSC / IFSC (ESR_EL2.ISS[5:0]); add the level (0..3) to the base. */
#define RVM_A64_FSC_ADDR_SIZE   0x00u /* 0b0000LL address size fault */
#define RVM_A64_FSC_TRANSLATION 0x04u /* 0b0001LL translation fault */
#define RVM_A64_FSC_ACCESS_FLAG 0x08u /* 0b0010LL access flag fault (levels 1..3 here) */
#define RVM_A64_FSC_PERMISSION  0x0Cu /* 0b0011LL permission fault (levels 1..3 here) */
#define RVM_A64_FSC_WALK_EXT    0x14u /* 0b0101LL synchronous external abort on a table walk */

enum rvm_a64_access {
    RVM_A64_READ = 0,
    RVM_A64_WRITE = 1,
    RVM_A64_EXEC = 2,
};

enum rvm_a64_fault_kind {
    RVM_A64_FAULT_NONE = 0,
    RVM_A64_FAULT_ADDR_SIZE,
    RVM_A64_FAULT_TRANSLATION,
    RVM_A64_FAULT_ACCESS_FLAG,
    RVM_A64_FAULT_PERMISSION,
    RVM_A64_FAULT_WALK_EXT,
};

/*
 * Outcome of a translation. On a fault kind, level, fsc and ipa are set; a permission fault also
 * reports the leaf (desc, perms, oa) it found, which is what a TLB may cache.
 */
struct rvm_a64_walk {
    uint64_t ipa;
    uint64_t oa;   /* output (host physical) address of ipa */
    uint64_t desc; /* leaf descriptor */
    uint8_t level; /* level of the leaf, or of the fault */
    uint8_t kind;  /* enum rvm_a64_fault_kind */
    uint8_t fsc;   /* DFSC/IFSC as ESR_EL2 would report it (valid when kind != NONE) */
    uint8_t perms; /* enum rvm_perm bits the leaf grants (valid on success or permission fault) */
};

/* ---- table page pool ------------------------------------------------------------------------- */

#define RVM_A64_NONE UINT32_MAX

/* Per-page bookkeeping, caller storage parallel to the pages. */
struct rvm_a64_page_info {
    uint32_t link;  /* free page: next free page; level 2/3 table: parent page; root: NONE */
    uint16_t index; /* slot in the parent table that points here */
    uint16_t live;  /* valid descriptors in this table */
    uint8_t level;  /* 0 free, else the table's level (1 = a root) */
    uint8_t reserved[3];
};

/*
 * The bounded supply of translation table pages. Every table of every address space built on
 * this pool comes from here; `base_pa` is the physical address of pages[0] (on firmware the
 * identity-mapped address of the array; in the simulator an address in hypervisor RAM), so table
 * descriptors hold real physical addresses and the walker follows them back into the pool.
 */
struct rvm_a64_pool {
    uint64_t (*pages)[RVM_A64_ENTRIES];
    struct rvm_a64_page_info *info;
    uint64_t base_pa;
    uint32_t npages;
    uint32_t nfree;
    uint32_t free_head;
};

/*
 * Take `npages` (>= 1) pages of caller storage. base_pa must be 4 KiB aligned and the pool must
 * lie below 2^40. Every page starts free and zeroed.
 */
enum rvm_err rvm_a64_pool_init(struct rvm_a64_pool *pool, uint64_t (*pages)[RVM_A64_ENTRIES],
                               struct rvm_a64_page_info *info, uint32_t npages, uint64_t base_pa);

/* ---- address spaces ----------------------------------------------------------------------------
 */

struct rvm_a64_space {
    uint32_t root; /* pool page of the level-1 table, RVM_A64_NONE when not created */
};

/* Take a root table from the pool (RVM_ERR_NO_SPACE when empty). */
enum rvm_err rvm_a64_space_init(struct rvm_a64_pool *pool, struct rvm_a64_space *space);

/* Return every table of the space to the pool. The space is empty afterwards. */
void rvm_a64_space_destroy(struct rvm_a64_pool *pool, struct rvm_a64_space *space);

/* VTTBR_EL2 for this space: BADDR = root table PA, VMID in [55:48]. */
uint64_t rvm_a64_vttbr(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                       uint8_t vmid);

/*
 * The leaf descriptor bits (everything but the output address and the type bits) for a mapping
 * with `perms` (enum rvm_perm) of `memtype`: AF set, S2AP from R/W, XN unless X, MemAttr and SH.
 */
uint64_t rvm_a64_leaf_attrs(uint32_t perms, enum rvm_a64_memtype memtype);

/*
 * Map [ipa, ipa + size) to [pa, pa + size). ipa, pa and size must be 4 KiB multiples, size > 0,
 * the IPA range inside the 39-bit space and the PA range inside the 40-bit space. The largest
 * blocks that fit (1 GiB, 2 MiB) are used where IPA and PA alignment allow.
 * All or nothing: RVM_ERR_OVERLAP if any page is already mapped, RVM_ERR_NO_SPACE if the pool
 * cannot supply the tables the range needs (counted before anything is written).
 */
enum rvm_err rvm_a64_map(struct rvm_a64_pool *pool, const struct rvm_a64_space *space, uint64_t ipa,
                         uint64_t pa, uint64_t size, uint32_t perms, enum rvm_a64_memtype memtype);

/*
 * Unmap [ipa, ipa + size). Blocks partly covered are split into next-level tables (which needs
 * pool pages: RVM_ERR_NO_SPACE, nothing changed, when the pool cannot supply them); tables that
 * become empty return to the pool. RVM_ERR_NOT_FOUND, nothing changed, when any page of the range
 * is not mapped. Does not touch any TLB.
 */
enum rvm_err rvm_a64_unmap(struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                           uint64_t ipa, uint64_t size);

/*
 * Translate `ipa` for `access` at EL1 the way the hardware walks from `vttbr` (ignoring the
 * VMID): RVM_OK with out->oa, or RVM_ERR_GUEST_FAULT with the fault kind, level and DFSC.
 * Detection order follows the Arm pseudocode: IPA beyond T0SZ (translation fault, level 0),
 * VTTBR base beyond PA size (address size, level 0), then per level: external abort when a table
 * address is outside the pool, invalid or reserved descriptor (translation), table / output
 * address beyond PA size (address size), access flag clear (access flag), then S2AP / XN
 * (permission).
 */
enum rvm_err rvm_a64_walk(const struct rvm_a64_pool *pool, uint64_t vttbr, uint64_t ipa,
                          enum rvm_a64_access access, struct rvm_a64_walk *out);

/* Stage-2 permission check of a leaf descriptor's S2AP/XN (AArch64.CheckS2Permission). */
bool rvm_a64_perm_allows(uint32_t perms, enum rvm_a64_access access);

/* ESR_EL2 for a stage-2 abort of `access`: EC (0x24 data / 0x20 instruction), IL, WnR, FSC. */
uint32_t rvm_a64_esr(const struct rvm_a64_walk *fault, enum rvm_a64_access access);

/* HPFAR_EL2 for a faulting IPA: FIPA (IPA[47:12]) in bits [43:4]. */
static inline uint64_t rvm_a64_hpfar(uint64_t ipa)
{
    return (ipa >> 12) << 4;
}

/*
 * Invariants of the pool and every table in it: free list and counts agree, each table's live
 * count matches its valid descriptors, each non-root table is referenced exactly once by a table
 * descriptor one level up and is not empty, leaf descriptors carry no reserved bits, have AF set
 * and an output address inside the PA size. RVM_ERR_CORRUPT on the first violation.
 * Bound: npages * 512 descriptor reads.
 */
enum rvm_err rvm_a64_pool_check(const struct rvm_a64_pool *pool);

/*
 * Absorb the canonical image of a space's mappings: for every leaf in IPA order, its IPA (u64
 * LE), level (u8) and descriptor (u64 LE). Independent of where the tables sit in the pool.
 */
void rvm_a64_space_hash(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                        struct rvm_sha256_ctx *ctx);

/* One mapping as the tables hold it. */
struct rvm_a64_leaf {
    uint64_t ipa;  /* first IPA of the block / page */
    uint64_t size; /* 1 GiB, 2 MiB or 4 KiB */
    uint64_t oa;   /* output address of ipa */
    uint64_t desc;
    uint32_t level;
    uint32_t perms; /* enum rvm_perm */
};

/*
 * The first leaf of `space`, in IPA order, whose range ends after `from`; false when there is
 * none. Iterate with from = leaf.ipa + leaf.size. Bound: 3 * 512 descriptor reads per call.
 */
bool rvm_a64_space_next_leaf(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                             uint64_t from, struct rvm_a64_leaf *out);

/*
 * Up to `max` leaves in a row, the first the one rvm_a64_space_next_leaf would give for `from`:
 * the number written to out[0..max), fewer than `max` only when the space has no more. Iterate
 * with from = the last leaf's ipa + size. One walk from the root per batch instead of per leaf.
 * Bound: 3 * 512 descriptor reads per call.
 */
uint32_t rvm_a64_space_leaves(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                              uint64_t from, struct rvm_a64_leaf *out, uint32_t max);

/* Pool page holding the table at physical address `pa`, or RVM_A64_NONE. */
uint32_t rvm_a64_pool_page(const struct rvm_a64_pool *pool, uint64_t pa);

#endif /* RVM_A64_STAGE2_H */
