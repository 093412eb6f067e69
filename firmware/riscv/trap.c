/* SPDX-License-Identifier: MIT */
/*
 * M-mode traps (start.S). None is expected yet: each one prints mcause, mepc and mtval and ends
 * the run with FW_EXIT_EXCEPTION. A trap taken while reporting one exits at once (the console
 * itself may be what faults).
 */
#include "arch.h"
#include "console.h"
#include "csr.h"

#include <stdbool.h>

void fw_rv_trap(void);

void fw_rv_trap(void)
{
    static bool reporting;
    if (reporting) {
        fw_rv_sifive_test_exit(FW_EXIT_EXCEPTION);
    }
    reporting = true;
    const uint64_t mcause = FW_CSR_READ(mcause);
    const uint64_t mepc = FW_CSR_READ(mepc);
    const uint64_t mtval = FW_CSR_READ(mtval);
    fw_console_line_start();
    fw_puts("rvmfw: unhandled ");
    fw_puts((mcause >> 63) != 0 ? "interrupt" : "exception");
    fw_puts("\nrvmfw: ");
    fw_put_field("mcause", mcause);
    fw_put_field("mepc", mepc);
    fw_put_field("mtval", mtval);
    fw_put_field("mstatus", FW_CSR_READ(mstatus));
    fw_puts("\n");
    fw_arch_exit(FW_EXIT_EXCEPTION);
}

void fw_arch_trigger_fault(void)
{
    __asm__ volatile("unimp"); /* illegal instruction: mcause 2, mtval = the instruction */
}
