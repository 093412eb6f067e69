/* SPDX-License-Identifier: MIT */
/*
 * The firmware console: bytes to the board's UART (fw_board.uart_*), plus the few formatting
 * helpers the firmware needs (no printf: hex and decimal numbers, strings).
 *
 * The UART carries the witness stream too (witness_uart.h), whose frames must each start a
 * line: the console remembers whether the last byte ended a line, and fw_console_line_start()
 * ends a partial line before a frame is written.
 */
#ifndef RVM_FW_CONSOLE_H
#define RVM_FW_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void fw_console_write(const char *text, size_t len);
void fw_puts(const char *s); /* NUL-terminated, no newline added */
void fw_put_hex(uint64_t v); /* 0x and 16 lower-case digits */
void fw_put_dec(uint64_t v);
/* `name=0x...` followed by a space: one field of a diagnostic line. */
void fw_put_field(const char *name, uint64_t v);

/* If the last byte written did not end a line, write '\n'. */
void fw_console_line_start(void);

#endif /* RVM_FW_CONSOLE_H */
