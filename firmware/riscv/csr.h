/* SPDX-License-Identifier: MIT */
/* CSR access for the RISC-V firmware. */
#ifndef RVM_FW_RV_CSR_H
#define RVM_FW_RV_CSR_H

#include <stdint.h>

#define FW_CSR_READ(name)                                                                          \
    ({                                                                                             \
        uint64_t v_;                                                                               \
        __asm__ volatile("csrr %0, " #name : "=r"(v_));                                            \
        v_;                                                                                        \
    })

/* Parks the hart for good (start.S). */
_Noreturn void fw_rv_park(void);

/* Ends the run through the board's SiFive test device (exit.c). */
_Noreturn void fw_rv_sifive_test_exit(int status);

#endif /* RVM_FW_RV_CSR_H */
