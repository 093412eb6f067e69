/* SPDX-License-Identifier: MIT */
/*
 * RISC-V physical memory protection (PMP) as an M-mode hypervisor uses it to confine S-mode
 * partitions, plus the trap-cause and mstatus facts that go with it.
 *
 * Shared by the simulated RISC-V platform and (later) the M-mode firmware, so it follows the
 * core's rules: freestanding C11, no globals, no recursion, bounded loops, caller storage.
 *
 * Encodings are the architectural ones, from the RISC-V Privileged Architecture (version 1.12,
 * "Physical Memory Protection" and "Machine Status Registers (mstatus)", "Machine Cause Register
 * (mcause)"), RV64:
 *   - pmpNcfg (8 bits): R bit 0, W bit 1, X bit 2, A bits [4:3] (0 OFF, 1 TOR, 2 NA4, 3 NAPOT),
 *     bits [6:5] reserved (read as zero), L bit 7. pmpcfg0 holds entries 0..7, pmpcfg2 entries
 *     8..15, ... (odd pmpcfg registers do not exist on RV64). CSR numbers 0x3A0 + n, 0x3B0 + i.
 *   - pmpaddrN holds physical address bits [55:2] (54 bits). NAPOT: a region of 2^(k+3) bytes
 *     is encoded as (base >> 2) with its k low bits set to one and bit k zero; NA4 is 4 bytes at
 *     pmpaddr << 2; TOR entry i covers [pmpaddr(i-1) << 2, pmpaddr(i) << 2), with 0 below entry 0.
 *   - The lowest-numbered entry that matches any byte of an access decides it; it must match
 *     every byte or the access fails. No match: M-mode succeeds, S/U-mode fails. M-mode is
 *     checked only against locked (L) entries. Locked entries ignore writes to their cfg and addr,
 *     and a locked TOR entry also locks the previous pmpaddr.
 *   - mcause exception codes: instruction access fault 1, load access fault 5, store/AMO access
 *     fault 7 (observed under QEMU: shared/notes/qemu.md); mtval holds the faulting address.
 *   - mstatus: MIE bit 3, MPIE bit 7, MPP bits [12:11], MPRV bit 17. With MPRV = 1, M-mode loads
 *     and stores are checked as if at privilege MPP (instruction fetches are not).
 *
 * Granularity: G = 0 (4-byte grains), as on QEMU virt.
 */
#ifndef RVM_RV_PMP_H
#define RVM_RV_PMP_H

#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- pmpcfg ---------------------------------------------------------------------------------- */

#define RVM_RV_PMP_R        0x01u
#define RVM_RV_PMP_W        0x02u
#define RVM_RV_PMP_X        0x04u
#define RVM_RV_PMP_A_SHIFT  3u
#define RVM_RV_PMP_A_MASK   0x18u
#define RVM_RV_PMP_A_OFF    0x00u
#define RVM_RV_PMP_A_TOR    0x08u
#define RVM_RV_PMP_A_NA4    0x10u
#define RVM_RV_PMP_A_NAPOT  0x18u
#define RVM_RV_PMP_RESERVED 0x60u
#define RVM_RV_PMP_L        0x80u

#define RVM_RV_PMPADDR_BITS 54u /* pmpaddr = PA[55:2] on RV64 */
#define RVM_RV_PMPADDR_MASK (((uint64_t)1 << RVM_RV_PMPADDR_BITS) - 1u)
#define RVM_RV_PA_BITS      56u
#define RVM_RV_PMP_MAX      64u

#define RVM_RV_CSR_PMPCFG0  0x3A0u
#define RVM_RV_CSR_PMPADDR0 0x3B0u

/* ---- mcause / mstatus ------------------------------------------------------------------------ */

#define RVM_RV_MCAUSE_FETCH_ACCESS 1u
#define RVM_RV_MCAUSE_ILLEGAL      2u
#define RVM_RV_MCAUSE_LOAD_ACCESS  5u
#define RVM_RV_MCAUSE_STORE_ACCESS 7u
#define RVM_RV_MCAUSE_ECALL_U      8u
#define RVM_RV_MCAUSE_ECALL_S      9u
#define RVM_RV_MCAUSE_INTERRUPT    ((uint64_t)1 << 63)

#define RVM_RV_MSTATUS_SIE       ((uint64_t)1 << 1)
#define RVM_RV_MSTATUS_MIE       ((uint64_t)1 << 3)
#define RVM_RV_MSTATUS_SPIE      ((uint64_t)1 << 5)
#define RVM_RV_MSTATUS_MPIE      ((uint64_t)1 << 7)
#define RVM_RV_MSTATUS_SPP       ((uint64_t)1 << 8)
#define RVM_RV_MSTATUS_MPP_SHIFT 11u
#define RVM_RV_MSTATUS_MPP_MASK  ((uint64_t)3 << RVM_RV_MSTATUS_MPP_SHIFT)
#define RVM_RV_MSTATUS_MPRV      ((uint64_t)1 << 17)

enum rvm_rv_priv {
    RVM_RV_PRIV_U = 0,
    RVM_RV_PRIV_S = 1,
    RVM_RV_PRIV_M = 3,
};

enum rvm_rv_access {
    RVM_RV_LOAD = 0,
    RVM_RV_STORE = 1,
    RVM_RV_FETCH = 2,
};

/* ---- PMP state ---------------------------------------------------------------------------------
 */

/* One hart's PMP registers. Entries at and above `count` do not exist and stay zero. */
struct rvm_rv_pmp {
    uint32_t count; /* implemented entries: 16 or 64 */
    uint8_t cfg[RVM_RV_PMP_MAX];
    uint64_t addr[RVM_RV_PMP_MAX];
};

/* All entries OFF with address 0. count must be 16 or 64 (RVM_ERR_INVALID_ARGUMENT otherwise). */
enum rvm_err rvm_rv_pmp_init(struct rvm_rv_pmp *pmp, uint32_t count);

/* pmpNcfg byte for `perms` (enum rvm_perm), address mode `a` (RVM_RV_PMP_A_*) and lock. */
uint8_t rvm_rv_pmpcfg(uint32_t perms, uint8_t a, bool locked);

/*
 * pmpaddr for a NAPOT region of `size` bytes at `base` (size a power of two >= 8, base aligned to
 * size, region below 2^56). Returns false when the region cannot be expressed.
 */
bool rvm_rv_pmpaddr_napot(uint64_t base, uint64_t size, uint64_t *pmpaddr);

/* The bytes [*lo, *hi) entry i matches; false when it matches nothing (OFF, empty TOR). */
bool rvm_rv_pmp_range(const struct rvm_rv_pmp *pmp, uint32_t i, uint64_t *lo, uint64_t *hi);

/* CSR writes as the hart performs them: WARL fields and the lock rules. Out-of-range i ignored.
 * A cfg value with W set and R clear (reserved) is ignored: the entry keeps its old value. */
void rvm_rv_pmp_write_cfg(struct rvm_rv_pmp *pmp, uint32_t i, uint8_t value);
void rvm_rv_pmp_write_addr(struct rvm_rv_pmp *pmp, uint32_t i, uint64_t value);
/* The value of CSR pmpcfg<n> (n even on RV64; 0 for odd or absent registers), and a write of it
 * (byte by byte, each under the lock rules). */
uint64_t rvm_rv_pmpcfg_csr(const struct rvm_rv_pmp *pmp, uint32_t n);
void rvm_rv_pmpcfg_csr_write(struct rvm_rv_pmp *pmp, uint32_t n, uint64_t value);

/* ---- the hardware check ---------------------------------------------------------------------- */

/*
 * Whether an access of `len` (>= 1) bytes at `addr` at privilege `priv` passes PMP. An access
 * whose end wraps past 2^64 fails.
 */
bool rvm_rv_pmp_allows(const struct rvm_rv_pmp *pmp, uint64_t addr, uint64_t len,
                       enum rvm_rv_access access, enum rvm_rv_priv priv);

/* The privilege loads/stores are checked at: MPP when in M-mode with MPRV set, else `cur`. */
enum rvm_rv_priv rvm_rv_effective_priv(uint64_t mstatus, enum rvm_rv_priv cur,
                                       enum rvm_rv_access access);

/* mcause of an access fault for this kind of access (1, 5 or 7). */
uint64_t rvm_rv_access_fault_cause(enum rvm_rv_access access);

struct rvm_rv_fault {
    uint64_t mcause;
    uint64_t mtval;
};

/*
 * The full check of one access by a hart at privilege `cur` with `mstatus`: RVM_OK, or
 * RVM_ERR_GUEST_FAULT with mcause and mtval (the access address) in *fault.
 */
enum rvm_err rvm_rv_access_check(const struct rvm_rv_pmp *pmp, uint64_t mstatus,
                                 enum rvm_rv_priv cur, uint64_t addr, uint64_t len,
                                 enum rvm_rv_access access, struct rvm_rv_fault *fault);

/* Trap into M-mode from `cur`: MPIE <- MIE, MIE <- 0, MPP <- cur. */
uint64_t rvm_rv_trap_enter(uint64_t mstatus, enum rvm_rv_priv cur);

/* mret: privilege <- MPP, MIE <- MPIE, MPIE <- 1, MPP <- U, and MPRV <- 0 unless returning to M. */
uint64_t rvm_rv_mret(uint64_t mstatus, enum rvm_rv_priv *new_priv);

/* Sanitise a saved guest mstatus before mret: MPP that names M (or the reserved 2) becomes S, so
 * a guest can never return into M-mode. */
uint64_t rvm_rv_mstatus_sanitize_guest(uint64_t mstatus);

/* ---- building a partition's PMP image -------------------------------------------------------- */

/* A range of physical memory a partition may access in S/U-mode. */
struct rvm_rv_region {
    uint64_t base;
    uint64_t size;
    uint32_t perms; /* enum rvm_perm; W without R cannot be expressed */
    uint32_t reserved;
};

/*
 * Express `regions` (sorted by base, non-overlapping, 4-byte granular, below 2^56, size > 0) as
 * PMP entries 0.. of a `count`-entry PMP (16 or 64), entries left over OFF, no entry locked.
 * Adjacent regions with equal permissions are merged; a run becomes one NA4 / NAPOT entry, one
 * TOR entry when the previous entry ends where it starts (or it starts at 0 in entry 0), else
 * an OFF entry holding the base plus a TOR entry.
 * RVM_ERR_NO_SPACE when the layout needs more than `count` entries, RVM_ERR_INVALID_ARGUMENT /
 * ALIGNMENT / OVERFLOW / OUT_OF_RANGE / OVERLAP for bad input; *out is written only on success.
 * *used (may be NULL) receives the number of entries used.
 */
enum rvm_err rvm_rv_pmp_build(struct rvm_rv_pmp *out, uint32_t count,
                              const struct rvm_rv_region *regions, uint32_t nregions,
                              uint32_t *used);

/*
 * Invariants of a PMP image: count is 16 or 64, no reserved cfg bits or W-without-R, pmpaddr
 * within 54 bits, absent entries zero. RVM_ERR_CORRUPT otherwise.
 */
enum rvm_err rvm_rv_pmp_check(const struct rvm_rv_pmp *pmp);

/* Same count and the same cfg and pmpaddr in every slot (implemented or not), field by field:
 * struct assignment need not copy padding, so comparing two images' bytes can differ. */
bool rvm_rv_pmp_equal(const struct rvm_rv_pmp *a, const struct rvm_rv_pmp *b);

/* Absorb count (u32 LE) and each implemented entry's cfg (u8) and pmpaddr (u64 LE). */
void rvm_rv_pmp_hash(const struct rvm_rv_pmp *pmp, struct rvm_sha256_ctx *ctx);

#endif /* RVM_RV_PMP_H */
