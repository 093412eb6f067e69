/* SPDX-License-Identifier: MIT */
#include "console.h"

#include "uart.h"

#include <stdbool.h>

#define STRING_MAX 4096u /* longest NUL-terminated string fw_puts prints */

static bool at_line_start = true;

void fw_console_write(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) { /* bound: len */
        if (text[i] == '\n') {
            fw_uart_putc('\r'); /* terminals want CR LF; the importer ignores the CR */
        }
        fw_uart_putc((uint8_t)text[i]);
    }
    if (len != 0) {
        at_line_start = text[len - 1] == '\n';
    }
}

void fw_puts(const char *s)
{
    size_t n = 0;
    while (n < STRING_MAX && s[n] != '\0') { /* bound: STRING_MAX */
        n++;
    }
    fw_console_write(s, n);
}

void fw_put_hex(uint64_t v)
{
    char buf[18];
    buf[0] = '0';
    buf[1] = 'x';
    for (unsigned i = 0; i < 16; i++) { /* bound: 16 digits */
        unsigned d = (unsigned)(v >> (60u - 4u * i)) & 0xfu;
        buf[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    fw_console_write(buf, sizeof(buf));
}

void fw_put_dec(uint64_t v)
{
    char buf[20];
    size_t n = sizeof(buf);
    do { /* bound: 20 digits of a uint64_t */
        buf[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n > 0);
    fw_console_write(buf + n, sizeof(buf) - n);
}

void fw_put_field(const char *name, uint64_t v)
{
    fw_puts(name);
    fw_puts("=");
    fw_put_hex(v);
    fw_puts(" ");
}

void fw_console_line_start(void)
{
    if (!at_line_start) {
        fw_console_write("\n", 1);
    }
}
