/* SPDX-License-Identifier: MIT */
/*
 * The witness stream on the UART, in the project's serial framing (core/include/rvm/wire.h,
 * docs/replay-store.md section 3): one header frame, then every record and checkpoint as the core
 * drains them, then one end frame. `rvmsim import --format serial` reads the capture.
 *
 * The frames come from the core's own encoder (rvm_wire_*), so firmware and simulator print
 * byte-identical lines; this module only keeps the order (records consecutive from 0) and makes
 * every frame start a line even when console text without a newline came before it.
 */
#ifndef RVM_FW_WITNESS_UART_H
#define RVM_FW_WITNESS_UART_H

#include "rvm/wire.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_witness_uart {
    uint64_t next_seq; /* the next record the stream expects */
    bool failed;       /* a frame could not be encoded: the stream is broken, take nothing more */
};

/* Writes the header frame. False when a field cannot be encoded. */
bool fw_witness_uart_open(struct fw_witness_uart *w, const struct rvm_wire_field *fields,
                          size_t nfields);

/* The HAL's witness_drain and witness_checkpoint hooks. */
size_t fw_witness_uart_records(struct fw_witness_uart *w, uint64_t first_seq,
                               const uint8_t *records, size_t count);
bool fw_witness_uart_checkpoint(struct fw_witness_uart *w, const struct rvm_witness_checkpoint *cp);

/* Writes the end frame: `count` records whose SHA-256 is `digest`. */
bool fw_witness_uart_end(struct fw_witness_uart *w, uint64_t count,
                         const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);

#endif /* RVM_FW_WITNESS_UART_H */
