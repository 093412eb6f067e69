/* SPDX-License-Identifier: MIT */
#include "witness_uart.h"

#include "console.h"

#define FW_WIRE_VALUE_MAX 256u /* longest header value the importer accepts */

static bool emit(struct fw_witness_uart *w, const char *line, size_t len)
{
    if (len == 0) {
        w->failed = true;
        return false;
    }
    fw_console_line_start();
    fw_console_write(line, len);
    return true;
}

bool fw_witness_uart_open(struct fw_witness_uart *w, const struct rvm_wire_field *fields,
                          size_t nfields)
{
    char line[RVM_WIRE_LINE_MAX];
    w->next_seq = 0;
    w->failed = false;
    return emit(w, line, rvm_wire_header(line, fields, nfields, FW_WIRE_VALUE_MAX));
}

size_t fw_witness_uart_records(struct fw_witness_uart *w, uint64_t first_seq,
                               const uint8_t *records, size_t count)
{
    char line[RVM_WIRE_LINE_MAX];
    if (w->failed || first_seq != w->next_seq) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) { /* bound: count */
        if (!emit(w, line, rvm_wire_record(line, records + i * RVM_WITNESS_RECORD_BYTES))) {
            return i;
        }
        w->next_seq++;
    }
    return count;
}

bool fw_witness_uart_checkpoint(struct fw_witness_uart *w, const struct rvm_witness_checkpoint *cp)
{
    char line[RVM_WIRE_LINE_MAX];
    return !w->failed && emit(w, line, rvm_wire_checkpoint(line, cp, NULL, NULL));
}

bool fw_witness_uart_end(struct fw_witness_uart *w, uint64_t count,
                         const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    char line[RVM_WIRE_LINE_MAX];
    return !w->failed && emit(w, line, rvm_wire_end(line, count, digest));
}
