/* SPDX-License-Identifier: MIT */
/*
 * A witness sink that keeps every record and checkpoint in host memory, signing each checkpoint
 * with Ed25519 when given a key. Used by tests, the demo and `rvmsim run` before records reach
 * SQLite.
 */
#ifndef RVM_HOST_SINK_MEMORY_H
#define RVM_HOST_SINK_MEMORY_H

#include "crypto_openssl.h"
#include "sink.h"

#include <stdbool.h>
#include <stdint.h>

struct rvm_signed_checkpoint {
    struct rvm_witness_checkpoint cp;
    uint8_t ed25519[RVM_ED25519_SIGNATURE_BYTES]; /* all zero when the sink has no key */
};

struct rvm_memory_sink {
    uint8_t *records; /* count * 64 bytes */
    uint64_t count;
    uint64_t capacity;
    struct rvm_signed_checkpoint *checkpoints;
    uint64_t ncheckpoints;
    uint64_t checkpoint_capacity;
    const struct rvm_ed25519_key *signer; /* may be NULL */
    bool out_of_order; /* set if a drain ever skipped or repeated a sequence number */
};

extern const struct rvm_sink_ops rvm_memory_sink_ops;

void rvm_memory_sink_init(struct rvm_memory_sink *sink, const struct rvm_ed25519_key *signer);
void rvm_memory_sink_free(struct rvm_memory_sink *sink);

#endif /* RVM_HOST_SINK_MEMORY_H */
