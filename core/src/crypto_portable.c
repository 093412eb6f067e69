/* SPDX-License-Identifier: MIT */
#include "rvm/crypto_portable.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes. */
static const uint32_t round_constants[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

void rvm_sha256_compress_portable(uint32_t state[RVM_SHA256_STATE_WORDS], const uint8_t *blocks,
                                  size_t nblocks)
{
    for (size_t b = 0; b < nblocks; b++) { /* bound: nblocks */
        const uint8_t *block = blocks + b * RVM_SHA256_BLOCK_BYTES;
        uint32_t w[64];

        for (unsigned t = 0; t < 16; t++) {
            w[t] = rvm_load_be32(block + 4 * t);
        }
        for (unsigned t = 16; t < 64; t++) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        uint32_t a = state[0], b1 = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];

        for (unsigned t = 0; t < 64; t++) {
            uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            uint32_t choose = (e & f) ^ (~e & g);
            uint32_t t1 = h + big_s1 + choose + round_constants[t] + w[t];
            uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            uint32_t majority = (a & b1) ^ (a & c) ^ (b1 & c);
            uint32_t t2 = big_s0 + majority;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b1;
            b1 = a;
            a = t1 + t2;
        }

        state[0] += a;
        state[1] += b1;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

static void portable_compress(void *ctx, uint32_t state[RVM_SHA256_STATE_WORDS],
                              const uint8_t *blocks, size_t nblocks)
{
    (void)ctx;
    rvm_sha256_compress_portable(state, blocks, nblocks);
}

static const struct rvm_crypto_ops portable_ops;

static void portable_sha256(void *ctx, const uint8_t *msg, size_t len,
                            uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_crypto self = {&portable_ops, ctx};
    struct rvm_sha256_ctx h;

    rvm_sha256_init(&h, &self);
    rvm_sha256_update(&h, msg, len);
    rvm_sha256_final(&h, out);
}

/* RFC 2104 HMAC: H((K ^ opad) || H((K ^ ipad) || m)) with K zero-padded to the block size. */
static void portable_hmac(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg,
                          size_t len, uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_crypto self = {&portable_ops, ctx};
    uint8_t block_key[RVM_SHA256_BLOCK_BYTES];
    uint8_t pad[RVM_SHA256_BLOCK_BYTES];
    uint8_t inner[RVM_SHA256_DIGEST_BYTES];
    struct rvm_sha256_ctx h;

    rvm_memset(block_key, 0, sizeof(block_key));
    if (key_len > RVM_SHA256_BLOCK_BYTES) {
        portable_sha256(ctx, key, key_len, block_key);
    } else if (key_len != 0) {
        rvm_memcpy(block_key, key, key_len);
    }

    for (unsigned i = 0; i < RVM_SHA256_BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block_key[i] ^ 0x36u);
    }
    rvm_sha256_init(&h, &self);
    rvm_sha256_update(&h, pad, sizeof(pad));
    rvm_sha256_update(&h, msg, len);
    rvm_sha256_final(&h, inner);

    for (unsigned i = 0; i < RVM_SHA256_BLOCK_BYTES; i++) {
        pad[i] = (uint8_t)(block_key[i] ^ 0x5cu);
    }
    rvm_sha256_init(&h, &self);
    rvm_sha256_update(&h, pad, sizeof(pad));
    rvm_sha256_update(&h, inner, sizeof(inner));
    rvm_sha256_final(&h, out);
}

static const struct rvm_crypto_ops portable_ops = {
    .sha256_compress = portable_compress,
    .sha256 = portable_sha256,
    .hmac_sha256 = portable_hmac,
};

void rvm_crypto_portable(struct rvm_crypto *out)
{
    out->ops = &portable_ops;
    out->ctx = NULL;
}
