/* SPDX-License-Identifier: MIT */
/* What each architecture's start code provides to the common firmware (firmware/<arch>/). */
#ifndef RVM_FW_ARCH_H
#define RVM_FW_ARCH_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses of a firmware run (QEMU's exit status where the exit method carries one). */
#define FW_EXIT_OK        0
#define FW_EXIT_FAILED    1 /* the program found an error and said which on the console */
#define FW_EXIT_EXCEPTION 3 /* an exception nobody handles: the syndrome is on the console */

/* End the run with `status` through the board's exit method; never returns. */
_Noreturn void fw_arch_exit(int status);

/* The free-running counter (CNTPCT_EL0 / the CLINT's mtime), fw_board.timer_hz ticks a second:
 * for console reports of how long the run took, never for anything the witness log sees. */
uint64_t fw_arch_counter(void);

/* Make the CPU take an exception the firmware does not handle (tests of the fault path). */
void fw_arch_trigger_fault(void);

/* Load a partition's stage-2 translation into the CPU: on AArch64 VTCR_EL2 and VTTBR_EL2 (the
 * CPU translates with it once HCR_EL2.VM is set); not called on RISC-V (fw_arch_pmp_load). */
void fw_arch_s2_load(uint64_t vttbr);

/* Invalidate the cached stage-1+2 translations of the VMID in `vttbr` (AArch64: TLBI
 * VMALLS12E1IS acts on the VMID in VTTBR_EL2, so that VTTBR is loaded for the operation and the
 * current one restored); nothing on RISC-V. */
void fw_arch_s2_invalidate(uint64_t vttbr);

/* RISC-V: write a PMP image into the hart's pmpaddr/pmpcfg registers and read them back; false
 * when the hart holds other values than the model (rv_pmp.h) says the same writes leave.
 * AArch64: not called (true). */
struct rvm_rv_pmp;
bool fw_arch_pmp_load(const struct rvm_rv_pmp *image);

/* The common program, entered by the start code with the stack, bss and (AArch64) MMU set up. */
_Noreturn void fw_main(void);

#endif /* RVM_FW_ARCH_H */
