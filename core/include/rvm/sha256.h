/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 message handling (padding, length, incremental hashing) on top of a crypto provider's
 * compression function. The provider does the rounds; this module only arranges blocks, so
 * every provider yields the same digests and the running state is always available.
 */
#ifndef RVM_SHA256_H
#define RVM_SHA256_H

#include "rvm/bytes.h"
#include "rvm/hal.h"

#include <stddef.h>
#include <stdint.h>

/* FIPS 180-4 initial hash value H(0). */
void rvm_sha256_iv(uint32_t state[RVM_SHA256_STATE_WORDS]);

/* Serialise a chaining state as 32 bytes, h0..h7 big-endian: the SHA-256 output byte order. */
void rvm_sha256_state_bytes(const uint32_t state[RVM_SHA256_STATE_WORDS],
                            uint8_t out[RVM_SHA256_DIGEST_BYTES]);

/* Inverse of rvm_sha256_state_bytes. */
void rvm_sha256_state_from_bytes(const uint8_t in[RVM_SHA256_DIGEST_BYTES],
                                 uint32_t state[RVM_SHA256_STATE_WORDS]);

/*
 * Finish a hash whose message so far is exactly `message_bytes` long, a multiple of 64, and has
 * been absorbed into `state`: compress the one padding block and write the digest. `state` is
 * not modified. This turns a witness chain value into the log digest in one compression.
 * Precondition: message_bytes % 64 == 0 and message_bytes < 2^61 (the caller's invariant).
 */
void rvm_sha256_finish_aligned(const struct rvm_crypto *crypto,
                               const uint32_t state[RVM_SHA256_STATE_WORDS], uint64_t message_bytes,
                               uint8_t out[RVM_SHA256_DIGEST_BYTES]);

/* Incremental SHA-256 over a provider, for inputs of any length. */
struct rvm_sha256_ctx {
    const struct rvm_crypto *crypto;
    uint32_t state[RVM_SHA256_STATE_WORDS];
    uint8_t buffer[RVM_SHA256_BLOCK_BYTES];
    uint32_t buffered;    /* bytes in buffer, < 64 */
    uint64_t total_bytes; /* message length so far */
};

void rvm_sha256_init(struct rvm_sha256_ctx *ctx, const struct rvm_crypto *crypto);
void rvm_sha256_update(struct rvm_sha256_ctx *ctx, const uint8_t *data, size_t len);

/* Compress the full buffer (buffered == 64) and empty it: for the word writers below. */
void rvm_sha256_absorb_buffer(struct rvm_sha256_ctx *ctx);

/*
 * rvm_sha256_update of a word's little-endian bytes, written straight into the block buffer when
 * it fits: state hashes are thousands of 4- and 8-byte fields, and a generic update per field
 * costs more than the field's share of the compression.
 */
static inline void rvm_sha256_update_le32(struct rvm_sha256_ctx *ctx, uint32_t v)
{
    if (ctx->buffered <= RVM_SHA256_BLOCK_BYTES - 4u) {
        rvm_store_le32(ctx->buffer + ctx->buffered, v);
        ctx->buffered += 4u;
        ctx->total_bytes += 4u;
        if (ctx->buffered == RVM_SHA256_BLOCK_BYTES) {
            rvm_sha256_absorb_buffer(ctx);
        }
        return;
    }
    uint8_t b[4];
    rvm_store_le32(b, v);
    rvm_sha256_update(ctx, b, sizeof(b));
}

static inline void rvm_sha256_update_le64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    if (ctx->buffered <= RVM_SHA256_BLOCK_BYTES - 8u) {
        rvm_store_le64(ctx->buffer + ctx->buffered, v);
        ctx->buffered += 8u;
        ctx->total_bytes += 8u;
        if (ctx->buffered == RVM_SHA256_BLOCK_BYTES) {
            rvm_sha256_absorb_buffer(ctx);
        }
        return;
    }
    uint8_t b[8];
    rvm_store_le64(b, v);
    rvm_sha256_update(ctx, b, sizeof(b));
}

/* Writes the digest; the context must be re-initialised before reuse. */
void rvm_sha256_final(struct rvm_sha256_ctx *ctx, uint8_t out[RVM_SHA256_DIGEST_BYTES]);

#endif /* RVM_SHA256_H */
