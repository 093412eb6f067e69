/* SPDX-License-Identifier: MIT */
/*
 * A partition's saved register file, the context switch, register scrubbing and sanitisation of
 * the saved return state, for AArch64 (guest at EL1/EL0, hypervisor at EL2) and RISC-V (guest in
 * S/U-mode, hypervisor in M-mode).
 *
 * Model. Each physical CPU has one live register frame (struct rvm_vcpu_cpu.frame): the trap entry
 * path stores the guest's registers there and the exit path loads every one of them back before
 * ERET / MRET. A switch saves the frame into the outgoing partition's context and overwrites the
 * whole frame with the incoming partition's context, so no register of the outgoing partition
 * survives into the next, except the argument registers the kernel deliberately sets:
 *
 *   AArch64  x0..x7   (gpr[0..7])
 *   RISC-V   a0..a7   (x10..x17, gpr[10..17])
 *
 * (at most RVM_VCPU_MAX_ARGS values, given explicitly to rvm_vcpu_switch: a hypercall result or
 * an IPC message the kernel has checked). Anything the guest can read that is not in
 * struct rvm_vcpu_regs (debug, PMU, SVE, AArch32 state, other counters) must be trapped or
 * disabled by the HAL; it is not part of the model.
 *
 * Sanitisation (rvm_vcpu_sanitise, applied to the frame on every restore, whatever the saved
 * context says; also for any context that arrives from outside, e.g. a reconstruction):
 *
 *   AArch64 SPSR_EL2. M[4:0] must be EL0t (0b00000), EL1t (0b00100) or EL1h (0b00101): never EL2
 *     or EL3, never AArch32 (M[4] = 1), never a reserved encoding. Any other value is replaced by
 *     the safe state EL1h with D, A, I, F masked (0x3C5) and RVM_VCPU_FIX_MODE is reported. For an
 *     allowed mode only the guest's PSTATE fields are kept: NZCV, DAIF, BTYPE, SSBS, ALLINT, PAN,
 *     UAO, DIT, TCO; IL (illegal execution state), SS (software step) and every RES0 bit,
 *     including bits 32..63, are cleared (RVM_VCPU_FIX_BITS).
 *   RISC-V mstatus. MPP must be U (0) or S (1): never M (3) and never the reserved 2 (MPP is WARL
 *     and an implementation may turn 2 into M). Otherwise the safe state MPP = S with everything
 *     else clear is used (RVM_VCPU_FIX_MODE). For an allowed mode only the guest's sstatus fields
 *     are kept (SIE, SPIE, UBE, SPP, VS, FS, SUM, MXR) and UXL = SXL = 2 (RV64) is forced; the
 *     M-mode fields (MIE, MPIE, MPRV, TVM, TW, TSR, SBE, MBE, MDT, ...) are the HAL's policy,
 *     merged on the way out, and are cleared here (RVM_VCPU_FIX_BITS): a saved MPRV = 1 would make
 *     M-mode's own loads and stores translate like the guest's.
 *   The return address (ELR_EL2 / mepc) is a guest address translated by the guest's own regime,
 *     so any value is harmless; mepc bit 0 is cleared (it is always zero in hardware,
 *     RVM_VCPU_FIX_PC). RISC-V x0 is forced to 0, sip/sie keep only supervisor-level bits, fcsr its
 *     8 defined bits; entries of sys[] and fp[] that an architecture does not use are forced to 0
 *     (RVM_VCPU_FIX_REGS).
 *
 * Nothing here is witnessed: a switch is the hot path (DC-10); VMID changes inside a switch are
 * witnessed by vmid.c. A coerced return state is counted per CPU and reported to the caller,
 * which decides what happens to the partition.
 */
#ifndef RVM_VCPU_H
#define RVM_VCPU_H

#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/vmid.h"

#include <stdbool.h>
#include <stdint.h>

enum rvm_vcpu_arch {
    RVM_VCPU_ARCH_NONE = 0,
    RVM_VCPU_AARCH64 = 1,
    RVM_VCPU_RISCV64 = 2,
};

#define RVM_VCPU_GPRS     32u
#define RVM_VCPU_SYSREGS  32u
#define RVM_VCPU_FPREGS   64u
#define RVM_VCPU_MAX_ARGS 8u

/* sys[] layout on AArch64: the EL1/EL0 system registers a guest owns. */
enum rvm_vcpu_a64_sys {
    RVM_A64_SP_EL1,
    RVM_A64_ELR_EL1,
    RVM_A64_SPSR_EL1,
    RVM_A64_SCTLR_EL1,
    RVM_A64_ACTLR_EL1,
    RVM_A64_CPACR_EL1,
    RVM_A64_TTBR0_EL1,
    RVM_A64_TTBR1_EL1,
    RVM_A64_TCR_EL1,
    RVM_A64_MAIR_EL1,
    RVM_A64_AMAIR_EL1,
    RVM_A64_VBAR_EL1,
    RVM_A64_CONTEXTIDR_EL1,
    RVM_A64_TPIDR_EL0,
    RVM_A64_TPIDRRO_EL0,
    RVM_A64_TPIDR_EL1,
    RVM_A64_ESR_EL1,
    RVM_A64_FAR_EL1,
    RVM_A64_AFSR0_EL1,
    RVM_A64_AFSR1_EL1,
    RVM_A64_PAR_EL1,
    RVM_A64_CNTKCTL_EL1,
    RVM_A64_CNTV_CTL_EL0,
    RVM_A64_CNTV_CVAL_EL0,
    RVM_A64_MDSCR_EL1,
    RVM_A64_CSSELR_EL1,
    RVM_A64_SYS_COUNT,
};

/* sys[] layout on RISC-V: the S-mode CSRs (sstatus lives in pstate, as part of mstatus). */
enum rvm_vcpu_rv_sys {
    RVM_RV_SIE,
    RVM_RV_STVEC,
    RVM_RV_SSCRATCH,
    RVM_RV_SEPC,
    RVM_RV_SCAUSE,
    RVM_RV_STVAL,
    RVM_RV_SIP,
    RVM_RV_SATP,
    RVM_RV_SCOUNTEREN,
    RVM_RV_SENVCFG,
    RVM_RV_STIMECMP,
    RVM_RV_SYS_COUNT,
};

struct rvm_vcpu_regs {
    uint64_t gpr[RVM_VCPU_GPRS]; /* AArch64: x0..x30, [31] = SP_EL0. RISC-V: x0..x31 */
    uint64_t pc;                 /* ELR_EL2 / mepc: where the guest resumes */
    uint64_t pstate;             /* SPSR_EL2 / the guest's part of mstatus */
    uint64_t sys[RVM_VCPU_SYSREGS];
    uint64_t fp[RVM_VCPU_FPREGS]; /* AArch64: V0..V31 as (low, high) pairs. RISC-V: f0..f31 */
    uint64_t fpcr;                /* FPCR / fcsr */
    uint64_t fpsr;                /* FPSR / unused (0) */
};

/* A partition's saved context (kept by the kernel with the partition). */
struct rvm_vcpu_ctx {
    struct rvm_vcpu_regs regs;
    rvm_partition_id owner;
    uint8_t arch; /* enum rvm_vcpu_arch */
};

/* One physical CPU's live frame. */
struct rvm_vcpu_cpu {
    struct rvm_vcpu_regs frame;
    rvm_partition_id loaded; /* whose registers the frame holds; 0: none (scrubbed) */
    uint8_t arch;
    uint64_t switches;
    uint64_t coerced; /* restores whose return mode had to be replaced */
};

/* What rvm_vcpu_sanitise changed. */
#define RVM_VCPU_FIX_MODE 0x01u /* forbidden return mode: replaced by the safe state */
#define RVM_VCPU_FIX_BITS 0x02u /* forbidden or non-guest bits of the return state cleared */
#define RVM_VCPU_FIX_PC   0x04u /* return address made canonical */
#define RVM_VCPU_FIX_REGS 0x08u /* registers outside the architecture's file forced to 0 */

/* Safe / initial return states. */
#define RVM_VCPU_A64_SPSR_SAFE   0x3C5ull              /* EL1h, DAIF masked */
#define RVM_VCPU_RV_MSTATUS_SAFE 0x0000000A00000800ull /* MPP = S, UXL = SXL = 2 */

/* The sanitisers, pure. `fixes` (may be NULL) gets RVM_VCPU_FIX_* bits or'ed in. */
uint64_t rvm_vcpu_a64_spsr_sanitise(uint64_t spsr, uint32_t *fixes);
uint64_t rvm_vcpu_rv_mstatus_sanitise(uint64_t mstatus, uint32_t *fixes);

/* Sanitise a whole register file for `arch`; returns the RVM_VCPU_FIX_* bits (0: it was clean).
 * An unknown arch zeroes the file and returns RVM_VCPU_FIX_MODE | RVM_VCPU_FIX_REGS. */
uint32_t rvm_vcpu_sanitise(uint8_t arch, struct rvm_vcpu_regs *r);

/*
 * A fresh context: every register 0, pc = entry, the initial return state (EL1h with DAIF masked /
 * S-mode), and up to RVM_VCPU_MAX_ARGS boot arguments in the argument registers.
 * Errors: BAD_ARCH, OUT_OF_RANGE (owner 0, nargs), INVALID_ARGUMENT (args NULL with nargs > 0).
 */
enum rvm_err rvm_vcpu_init(struct rvm_vcpu_ctx *ctx, uint8_t arch, rvm_partition_id owner,
                           uint64_t entry_pc, const uint64_t *args, uint32_t nargs);

/* A CPU with a zeroed frame and nothing loaded. BAD_ARCH for an unknown arch. */
enum rvm_err rvm_vcpu_cpu_init(struct rvm_vcpu_cpu *c, uint8_t arch);

/*
 * Switch CPU `cpu` from the partition whose registers the frame holds (`from`, NULL when none) to
 * `to`:
 *   1. validate (both contexts of this CPU's architecture, `from` is the loaded partition's,
 *      `to` has an owner, nargs <= RVM_VCPU_MAX_ARGS);
 *   2. rvm_vmid_activate(vmids, cpu, to->owner) (may witness a VMID assignment or reclaim and
 *      invalidate TLBs; on failure nothing else happens);
 *   3. save the frame into `from`;
 *   4. overwrite the whole frame with `to`'s registers, put args[0..nargs) in the argument
 *      registers, and sanitise the frame.
 * When `to` is already loaded, only step 4's argument delivery and sanitisation happen.
 * `fixes_out` (may be NULL) gets the sanitiser's RVM_VCPU_FIX_* bits.
 * Errors: BAD_ARCH, INVALID_ARGUMENT (from does not match what is loaded, bad args), OUT_OF_RANGE,
 * and whatever rvm_vmid_activate returns (WITNESS_FULL, HAL, ...), in which case the frame and
 * `from` are unchanged.
 */
enum rvm_err rvm_vcpu_switch(struct rvm_vcpu_cpu *c, struct rvm_vmid_table *vmids, uint32_t cpu,
                             struct rvm_vcpu_ctx *from, const struct rvm_vcpu_ctx *to,
                             const uint64_t *args, uint32_t nargs, uint32_t *fixes_out);

/*
 * The CPU stops running guests (idle or going offline): save the frame into `from` (which must be
 * the loaded partition's context) and zero the frame. INVALID_ARGUMENT on a mismatch.
 */
enum rvm_err rvm_vcpu_park(struct rvm_vcpu_cpu *c, struct rvm_vcpu_ctx *from);

/* Invariants of a saved context: a known architecture, an owner, and a file that the sanitiser
 * would leave unchanged except for return-state bits a trap can legitimately produce. Here: the
 * return mode is allowed and unused slots are zero. RVM_ERR_INTERNAL otherwise. */
enum rvm_err rvm_vcpu_check(const struct rvm_vcpu_ctx *ctx);

/* Canonical encoding of a context: arch, owner, every register little-endian. */
void rvm_vcpu_hash(const struct rvm_vcpu_ctx *ctx, struct rvm_sha256_ctx *sha);

#endif /* RVM_VCPU_H */
