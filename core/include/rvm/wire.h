/* SPDX-License-Identifier: MIT */
/*
 * Wire framing of the witness stream on a serial line (UART).
 *
 * Hardware builds have no SQLite: they print their witness records and checkpoints to the UART,
 * interleaved with whatever else the console carries, and `rvmsim import --format serial` turns
 * the capture into a stored run. Each frame is one line of printable ASCII:
 *
 *   RVMW <type> <fields...> <crc>\n
 *
 * where <crc> is the CRC-32 (ISO-HDLC, the zlib/PNG polynomial) of every byte from the leading
 * 'R' up to the last field, as 8 lower-case hex digits. The frame types and their fields are
 * specified in docs/replay-store.md ("Serial framing"); this header is the encoder, written for
 * the freestanding core so that firmware and simulator print byte-identical frames.
 *
 * Every function writes at most RVM_WIRE_LINE_MAX bytes, including the final '\n', returns the
 * number written, and writes no NUL terminator (a UART sends exactly `len` bytes).
 */
#ifndef RVM_WIRE_H
#define RVM_WIRE_H

#include "rvm/witness.h"

#include <stddef.h>
#include <stdint.h>

#define RVM_WIRE_LINE_MAX    512u /* longest frame line, '\n' included */
#define RVM_WIRE_VERSION     1u   /* framing version, the first field of the header frame */
#define RVM_WIRE_KEY_MAX     32u  /* header keys: 1..32 of [a-z0-9_] */
#define RVM_WIRE_RECORD_LINE 162u /* exact length of a record frame */
#define RVM_WIRE_ED25519_PUB 32u
#define RVM_WIRE_ED25519_SIG 64u

/* CRC-32/ISO-HDLC, chained like zlib's crc32(): start with 0, feed the previous result back. */
uint32_t rvm_wire_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* `RVMW R <seq:16 hex> <image:128 hex> <crc>`; seq is the image's own sequence field. */
size_t rvm_wire_record(char out[RVM_WIRE_LINE_MAX], const uint8_t image[RVM_WITNESS_RECORD_BYTES]);

/*
 * `RVMW C <seq:16> <digest:64> <chain:64> <hmac:64> [<pub:64> <sig:128>] <crc>`, or `RVMW S`
 * with the same fields for the log's seal (cp->seal). The Ed25519 public key and signature are
 * optional (host builds sign, firmware does not): pass both or neither.
 */
size_t rvm_wire_checkpoint(char out[RVM_WIRE_LINE_MAX], const struct rvm_witness_checkpoint *cp,
                           const uint8_t *ed25519_pub, const uint8_t *ed25519_sig);

/* `RVMW E <count:16> <digest:64> <crc>`: the log ended after `count` records with this digest. */
size_t rvm_wire_end(char out[RVM_WIRE_LINE_MAX], uint64_t count,
                    const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);

/* One key=value pair of the header frame. Values are NUL-terminated byte strings. */
struct rvm_wire_field {
    const char *key;
    const char *value;
};

/*
 * `RVMW H 1 <key>=<value> ... <crc>`. Keys must be 1..RVM_WIRE_KEY_MAX characters of
 * [a-z0-9_]; value bytes outside '!'..'~', and '%', are written as %XX. Returns 0 (and the
 * content of `out` is unspecified) when a key is invalid or the line would not fit.
 * At most `max_value` bytes of each value are read (bound for unterminated input).
 */
size_t rvm_wire_header(char out[RVM_WIRE_LINE_MAX], const struct rvm_wire_field *fields,
                       size_t nfields, size_t max_value);

#endif /* RVM_WIRE_H */
