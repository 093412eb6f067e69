/* SPDX-License-Identifier: MIT */
/* System register access for the AArch64 firmware. */
#ifndef RVM_FW_A64_SYSREG_H
#define RVM_FW_A64_SYSREG_H

#include <stdint.h>

#define FW_READ_SYSREG(name)                                                                       \
    ({                                                                                             \
        uint64_t v_;                                                                               \
        __asm__ volatile("mrs %0, " #name : "=r"(v_));                                             \
        v_;                                                                                        \
    })

#define FW_WRITE_SYSREG(name, v) __asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)))

static inline void fw_a64_isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

static inline void fw_a64_dsb_sy(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

/* Parks the CPU for good (start.S). */
_Noreturn void fw_a64_park(void);

/* The semihosting `hlt` in exit.c: the exception handler recognises a trap on it (semihosting
 * not enabled) and falls back to PSCI instead of reporting an exception. */
extern const char fw_a64_semihosting_hlt[];
_Noreturn void fw_a64_psci_system_off(void);

/* Ends the run by PSCI, reporting a failure `status` to the panic device first (exit.c). */
_Noreturn void fw_a64_exit_without_semihosting(int status);
/* The same for the exit under way, whose semihosting call trapped. */
_Noreturn void fw_a64_exit_fallback(void);

void fw_a64_mmu_enable(void);

#endif /* RVM_FW_A64_SYSREG_H */
