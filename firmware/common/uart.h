/* SPDX-License-Identifier: MIT */
/* Polled UART output through the board's description (fw_board.uart_kind selects the driver). */
#ifndef RVM_FW_UART_H
#define RVM_FW_UART_H

#include <stdint.h>

void fw_uart_putc(uint8_t c);

/* Drivers, by kind (uart_pl011.c, uart_ns16550.c). */
void fw_pl011_putc(uint64_t base, uint8_t c);
void fw_ns16550_putc(uint64_t base, uint8_t reg_shift, uint8_t c);

#endif /* RVM_FW_UART_H */
