/* SPDX-License-Identifier: MIT */
/*
 * 16550-compatible UART, transmit only: wait for the transmit holding register to be empty
 * (LSR.THRE), then write it. Register i lives at base + (i << reg_shift) (0 on QEMU's virt
 * boards, 2 on boards with 32-bit spaced registers).
 */
#include "mmio.h"
#include "uart.h"

#define NS16550_THR      0u
#define NS16550_LSR      5u
#define NS16550_LSR_THRE (1u << 5)
#define NS16550_SPIN     1000000u /* a stuck UART drops the byte rather than hang the firmware */

void fw_ns16550_putc(uint64_t base, uint8_t reg_shift, uint8_t c)
{
    for (uint32_t i = 0; i < NS16550_SPIN; i++) { /* bound: NS16550_SPIN */
        if ((fw_mmio_read8(base + ((uint64_t)NS16550_LSR << reg_shift)) & NS16550_LSR_THRE) != 0) {
            fw_mmio_write8(base + ((uint64_t)NS16550_THR << reg_shift), c);
            return;
        }
    }
}
