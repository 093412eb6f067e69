/* SPDX-License-Identifier: MIT */
#include "rvm/sha256.h"

#include "rvm/bytes.h"

void rvm_sha256_iv(uint32_t state[RVM_SHA256_STATE_WORDS])
{
    state[0] = 0x6a09e667u;
    state[1] = 0xbb67ae85u;
    state[2] = 0x3c6ef372u;
    state[3] = 0xa54ff53au;
    state[4] = 0x510e527fu;
    state[5] = 0x9b05688cu;
    state[6] = 0x1f83d9abu;
    state[7] = 0x5be0cd19u;
}

void rvm_sha256_state_bytes(const uint32_t state[RVM_SHA256_STATE_WORDS],
                            uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    for (uint32_t i = 0; i < RVM_SHA256_STATE_WORDS; i++) {
        rvm_store_be32(out + 4 * i, state[i]);
    }
}

void rvm_sha256_state_from_bytes(const uint8_t in[RVM_SHA256_DIGEST_BYTES],
                                 uint32_t state[RVM_SHA256_STATE_WORDS])
{
    for (uint32_t i = 0; i < RVM_SHA256_STATE_WORDS; i++) {
        state[i] = rvm_load_be32(in + 4 * i);
    }
}

void rvm_sha256_finish_aligned(const struct rvm_crypto *crypto,
                               const uint32_t state[RVM_SHA256_STATE_WORDS], uint64_t message_bytes,
                               uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    /* A block-aligned message pads to exactly one extra block: 0x80, zeros, 64-bit bit length. */
    uint8_t pad[RVM_SHA256_BLOCK_BYTES];
    uint32_t work[RVM_SHA256_STATE_WORDS];

    rvm_memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    rvm_store_be64(pad + 56, message_bytes << 3);
    rvm_memcpy(work, state, sizeof(work));
    rvm_crypto_compress(crypto, work, pad, 1);
    rvm_sha256_state_bytes(work, out);
}

void rvm_sha256_init(struct rvm_sha256_ctx *ctx, const struct rvm_crypto *crypto)
{
    ctx->crypto = crypto;
    rvm_sha256_iv(ctx->state);
    ctx->buffered = 0;
    ctx->total_bytes = 0;
}

void rvm_sha256_update(struct rvm_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    ctx->total_bytes += len;

    if (ctx->buffered != 0) {
        size_t take = RVM_SHA256_BLOCK_BYTES - ctx->buffered;
        if (take > len) {
            take = len;
        }
        rvm_memcpy(ctx->buffer + ctx->buffered, data, take);
        ctx->buffered += (uint32_t)take;
        data += take;
        len -= take;
        if (ctx->buffered < RVM_SHA256_BLOCK_BYTES) {
            return;
        }
        rvm_crypto_compress(ctx->crypto, ctx->state, ctx->buffer, 1);
        ctx->buffered = 0;
    }

    size_t whole = len / RVM_SHA256_BLOCK_BYTES;
    if (whole != 0) {
        rvm_crypto_compress(ctx->crypto, ctx->state, data, whole);
        data += whole * RVM_SHA256_BLOCK_BYTES;
        len -= whole * RVM_SHA256_BLOCK_BYTES;
    }
    if (len != 0) {
        rvm_memcpy(ctx->buffer, data, len);
        ctx->buffered = (uint32_t)len;
    }
}

void rvm_sha256_absorb_buffer(struct rvm_sha256_ctx *ctx)
{
    rvm_crypto_compress(ctx->crypto, ctx->state, ctx->buffer, 1);
    ctx->buffered = 0;
}

void rvm_sha256_final(struct rvm_sha256_ctx *ctx, uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    uint64_t bit_length = ctx->total_bytes << 3;
    uint32_t n = ctx->buffered;

    ctx->buffer[n++] = 0x80;
    if (n > RVM_SHA256_BLOCK_BYTES - 8) {
        rvm_memset(ctx->buffer + n, 0, RVM_SHA256_BLOCK_BYTES - n);
        rvm_crypto_compress(ctx->crypto, ctx->state, ctx->buffer, 1);
        n = 0;
    }
    rvm_memset(ctx->buffer + n, 0, RVM_SHA256_BLOCK_BYTES - 8 - n);
    rvm_store_be64(ctx->buffer + RVM_SHA256_BLOCK_BYTES - 8, bit_length);
    rvm_crypto_compress(ctx->crypto, ctx->state, ctx->buffer, 1);
    rvm_sha256_state_bytes(ctx->state, out);
}
