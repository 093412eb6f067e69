/* SPDX-License-Identifier: MIT */
/*
 * A witness sink that writes the serial framing (core/include/rvm/wire.h) to a FILE, as the
 * hardware builds do on their UART: `rvmsim demo --serial FILE` uses it to produce captures that
 * `rvmsim import --format serial` reads.
 */
#ifndef RVM_REPLAY_SERIAL_SINK_H
#define RVM_REPLAY_SERIAL_SINK_H

#include "crypto_openssl.h"
#include "sink.h"

#include "rvm/wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rvm_serial_sink {
    FILE *f;
    const struct rvm_ed25519_key *signer; /* may be NULL: checkpoints without Ed25519 */
    uint8_t pub[32];
    uint64_t next_seq;
    bool failed;
};

extern const struct rvm_sink_ops rvm_serial_sink_ops;

/* Writes the header frame. False if a field is invalid or the write fails. */
bool rvm_serial_sink_open(struct rvm_serial_sink *s, FILE *f, const struct rvm_wire_field *fields,
                          size_t nfields, const struct rvm_ed25519_key *signer);

/* Writes the end frame (after the sealed log has been drained). */
bool rvm_serial_sink_end(struct rvm_serial_sink *s, uint64_t count,
                         const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);

#endif /* RVM_REPLAY_SERIAL_SINK_H */
