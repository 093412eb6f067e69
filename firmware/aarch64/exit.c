/* SPDX-License-Identifier: MIT */
/*
 * Ending the run on AArch64 (fw_board.exit_method):
 *   PSCI SYSTEM_OFF (function 0x84000008 through `smc #0`): QEMU exits with status 0. PSCI has
 *     no way to pass a status: a failure first reports a panic to QEMU's pvpanic-pci device when
 *     the board has one (QEMU -device pvpanic-pci -action panic=exit-failure exits 1); without
 *     it, the failure is visible on the console only (the line printed before the exit, and the
 *     missing end frame of the witness stream).
 *   Semihosting SYS_EXIT (operation 0x18, `hlt #0xf000`, x1 -> {ADP_Stopped_ApplicationExit,
 *     code}): QEMU started with -semihosting exits with `code`. Without -semihosting the `hlt`
 *     is an undefined instruction; the exception handler sees that it was this one and powers
 *     off through PSCI instead, so a build for semihosting never hangs on a QEMU without it.
 */
#include "arch.h"
#include "board.h"
#include "pvpanic.h"
#include "sysreg.h"

#include <stdbool.h>

#define PSCI_SYSTEM_OFF             0x84000008u
#define SEMIHOSTING_SYS_EXIT        0x18u
#define ADP_STOPPED_APPLICATIONEXIT 0x20026u

_Noreturn void fw_a64_psci_system_off(void)
{
    register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
    __asm__ volatile("smc #0" : "+r"(x0) : : "memory");
    fw_a64_park(); /* no PSCI (a board without a secure monitor): stop here */
}

/* The trap address must be known to the exception handler, so the instruction sits in its own
 * symbol: x0 = operation, x1 = parameter block. */
__asm__(".pushsection .text.semihosting, \"ax\"\n"
        ".global fw_a64_semihosting_call\n"
        "fw_a64_semihosting_call:\n"
        ".global fw_a64_semihosting_hlt\n"
        "fw_a64_semihosting_hlt:\n"
        "    hlt #0xf000\n"
        "    ret\n"
        ".popsection\n");
void fw_a64_semihosting_call(uint64_t op, const uint64_t *block);

/* The status of the exit under way, for the fallback when the semihosting call traps. */
static int exit_status;
static bool panic_reported;

_Noreturn void fw_a64_exit_without_semihosting(int status)
{
    if (status != 0 && fw_board.panic_ecam_base != 0 && !panic_reported) {
        panic_reported = true; /* a fault inside the report must not report again */
        fw_pvpanic_report(fw_board.panic_ecam_base, fw_board.panic_bar_base);
    }
    fw_a64_psci_system_off();
}

_Noreturn void fw_a64_exit_fallback(void)
{
    fw_a64_exit_without_semihosting(exit_status);
}

_Noreturn void fw_arch_exit(int status)
{
    exit_status = status;
    if (fw_board.exit_method == FW_EXIT_SEMIHOSTING) {
        const uint64_t block[2] = {ADP_STOPPED_APPLICATIONEXIT, (uint64_t)(uint32_t)status};
        fw_a64_semihosting_call(SEMIHOSTING_SYS_EXIT, block);
    }
    fw_a64_exit_without_semihosting(status);
}
