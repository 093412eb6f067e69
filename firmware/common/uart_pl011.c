/* SPDX-License-Identifier: MIT */
/*
 * Arm PL011 (PrimeCell UART), transmit only. QEMU's model and the firmware of real boards leave
 * it enabled at a working baud rate, so nothing is programmed: wait while the transmit FIFO is
 * full, then write the data register.
 */
#include "mmio.h"
#include "uart.h"

#define PL011_DR      0x00u
#define PL011_FR      0x18u
#define PL011_FR_TXFF (1u << 5)
#define PL011_SPIN    1000000u /* a stuck UART drops the byte rather than hang the firmware */

void fw_pl011_putc(uint64_t base, uint8_t c)
{
    for (uint32_t i = 0; i < PL011_SPIN; i++) { /* bound: PL011_SPIN */
        if ((fw_mmio_read32(base + PL011_FR) & PL011_FR_TXFF) == 0) {
            fw_mmio_write32(base + PL011_DR, c);
            return;
        }
    }
}
