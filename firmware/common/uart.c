/* SPDX-License-Identifier: MIT */
#include "uart.h"

#include "board.h"

void fw_uart_putc(uint8_t c)
{
    switch (fw_board.uart_kind) {
    case FW_UART_PL011:
        fw_pl011_putc(fw_board.uart_base, c);
        break;
    case FW_UART_NS16550:
        fw_ns16550_putc(fw_board.uart_base, fw_board.uart_reg_shift, c);
        break;
    default:
        break; /* no console: output is dropped, as hal.h allows */
    }
}
