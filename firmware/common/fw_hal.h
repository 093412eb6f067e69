/* SPDX-License-Identifier: MIT */
/*
 * The firmware's HAL (core/include/rvm/hal.h) in its first, minimal form:
 *   - a logical clock: time is what the firmware says it is (fw_hal_set_time), never the counter,
 *     so a run's timestamps do not depend on how fast QEMU or the board executes;
 *   - the portable crypto provider (core/src/crypto_portable.c);
 *   - the witness sink: the UART in the serial framing (witness_uart.h);
 *   - the console: the UART;
 *   - the hypervisor's view of RAM: the guest window of the board, identity-mapped;
 *   - stage-2 / PMP, guest memory and interrupts refuse (RVM_ERR_HAL / GUEST_FAULT /
 *     OUT_OF_RANGE), which the core fails closed on: no partition runs yet.
 */
#ifndef RVM_FW_HAL_H
#define RVM_FW_HAL_H

#include "witness_uart.h"

#include "rvm/hal.h"

#include <stdint.h>

#define FW_HAL_MAX_CPUS 1u

struct fw_hal {
    struct rvm_hal hal;
    uint64_t now_ns;
    uint64_t timer_deadline_ns[FW_HAL_MAX_CPUS];
    uint64_t guest_base;
    uint64_t guest_size;
    struct fw_witness_uart stream;
};

/* Fill `h` for the guest RAM window [guest_base, guest_base + guest_size). */
void fw_hal_init(struct fw_hal *h, uint64_t guest_base, uint64_t guest_size);

/* Advance the logical clock (never backwards: an earlier time is ignored). */
void fw_hal_set_time(struct fw_hal *h, uint64_t now_ns);

#endif /* RVM_FW_HAL_H */
