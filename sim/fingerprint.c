/* SPDX-License-Identifier: MIT */
#include "fingerprint.h"

#include <string.h>

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Four 64-bit lanes, each taking one pair of words per block: the pair, each word salted with a
 * constant of its position in the block, is multiplied into 128 bits and folded (one multiply per
 * 16 bytes, the products independent of each other and of the lanes), the second word is also
 * added as it is (so a word the salt cancels still counts), and the lane is rotated after every
 * block (so where in the input a block sits matters). Only equality of two results is ever asked
 * for, so the lanes need not be mixed with each other. */
static void fp_compress(void *ctx, uint32_t state[RVM_SHA256_STATE_WORDS], const uint8_t *blocks,
                        size_t nblocks)
{
    (void)ctx;
    static const uint64_t salt[8] = {0x9e3779b185ebca87u, 0xc2b2ae3d27d4eb4fu, 0x165667b19e3779f9u,
                                     0x85ebca77c2b2ae63u, 0x27d4eb2f165667c5u, 0xff51afd7ed558ccdu,
                                     0xc4ceb9fe1a85ec53u, 0x2545f4914f6cdd1du};
    uint64_t lane[4];
    for (int i = 0; i < 4; i++) {
        lane[i] = (uint64_t)state[2 * i] | (uint64_t)state[2 * i + 1] << 32;
    }
    for (size_t b = 0; b < nblocks; b++) {
        uint64_t w[8];
        memcpy(w, blocks + 64 * b, 64);
        for (int i = 0; i < 4; i++) {
            const unsigned __int128 m =
                (unsigned __int128)(w[2 * i] ^ salt[2 * i]) * (w[2 * i + 1] ^ salt[2 * i + 1]);
            lane[i] = rotl64(lane[i] + ((uint64_t)m ^ (uint64_t)(m >> 64)) + w[2 * i + 1], 23);
        }
    }
    for (int i = 0; i < 4; i++) {
        state[2 * i] = (uint32_t)lane[i];
        state[2 * i + 1] = (uint32_t)(lane[i] >> 32);
    }
}

static const struct rvm_crypto_ops fp_ops = {
    .sha256_compress = fp_compress,
    .sha256 = NULL,
    .hmac_sha256 = NULL,
};

void rvm_fingerprint_provider(struct rvm_crypto *out)
{
    out->ops = &fp_ops;
    out->ctx = NULL;
}
