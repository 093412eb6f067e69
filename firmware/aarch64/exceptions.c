/* SPDX-License-Identifier: MIT */
/*
 * Exceptions taken to EL2 (vectors.S). None is expected yet: each one prints its syndrome on the
 * console and ends the run with FW_EXIT_EXCEPTION, so a fault is reported in milliseconds
 * instead of hanging the run until a timeout.
 *
 * One exception is expected: the semihosting `hlt` trapping as an undefined instruction when
 * QEMU runs without -semihosting (exit.c); that exit continues through PSCI instead. An
 * exception taken while reporting one exits at once (the console itself may be what faults).
 */
#include "arch.h"
#include "console.h"
#include "sysreg.h"

#include <stdbool.h>

#define ESR_EC_SHIFT   26u
#define ESR_EC_UNKNOWN 0x00u
#define ESR_EC_MASK    0x3fu

static const char *const entry_names[16] = {
    "sync (EL2, SP_EL0)", "irq (EL2, SP_EL0)", "fiq (EL2, SP_EL0)", "serror (EL2, SP_EL0)",
    "sync (EL2, SP_EL2)", "irq (EL2, SP_EL2)", "fiq (EL2, SP_EL2)", "serror (EL2, SP_EL2)",
    "sync (lower, A64)",  "irq (lower, A64)",  "fiq (lower, A64)",  "serror (lower, A64)",
    "sync (lower, A32)",  "irq (lower, A32)",  "fiq (lower, A32)",  "serror (lower, A32)",
};

void fw_a64_exception(uint64_t entry);

void fw_a64_exception(uint64_t entry)
{
    static bool reporting;
    const uint64_t esr = FW_READ_SYSREG(esr_el2);
    const uint64_t elr = FW_READ_SYSREG(elr_el2);

    if (((esr >> ESR_EC_SHIFT) & ESR_EC_MASK) == ESR_EC_UNKNOWN &&
        elr == (uint64_t)(uintptr_t)fw_a64_semihosting_hlt) {
        fw_a64_exit_fallback(); /* semihosting is not enabled: exit the other way */
    }
    if (reporting) {
        fw_a64_exit_without_semihosting(FW_EXIT_EXCEPTION);
    }
    reporting = true;

    const uint64_t far = FW_READ_SYSREG(far_el2);
    const uint64_t hpfar = FW_READ_SYSREG(hpfar_el2);
    const uint64_t spsr = FW_READ_SYSREG(spsr_el2);
    fw_console_line_start();
    fw_puts("rvmfw: unhandled exception: ");
    fw_puts(entry_names[entry & 15u]);
    fw_puts("\nrvmfw: ");
    fw_put_field("esr", esr);
    fw_put_field("ec", (esr >> ESR_EC_SHIFT) & ESR_EC_MASK);
    fw_put_field("far", far);
    fw_put_field("hpfar", hpfar);
    fw_put_field("elr", elr);
    fw_put_field("spsr", spsr);
    fw_puts("\n");
    fw_arch_exit(FW_EXIT_EXCEPTION);
}

void fw_arch_trigger_fault(void)
{
    /* Above the 512 GiB the identity map covers (T0SZ 25): a level-0/1 translation fault at EL2,
     * with FAR_EL2 naming the address. With the MMU off it is beyond the physical address range
     * instead: an address size fault, just as unhandled. */
    const volatile uint64_t *outside = (const volatile uint64_t *)(uintptr_t)0x0000ff0000000000u;
    (void)*outside;
}
