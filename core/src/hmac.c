/* SPDX-License-Identifier: MIT */
#include "rvm/hmac.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#define HMAC_IPAD 0x36u
#define HMAC_OPAD 0x5cu

static void pad_state(const struct rvm_crypto *crypto,
                      const uint8_t key_block[RVM_SHA256_BLOCK_BYTES], uint8_t pad,
                      uint32_t state[RVM_SHA256_STATE_WORDS])
{
    uint8_t block[RVM_SHA256_BLOCK_BYTES];
    for (uint32_t i = 0; i < RVM_SHA256_BLOCK_BYTES; i++) { /* bound: one block */
        block[i] = (uint8_t)(key_block[i] ^ pad);
    }
    rvm_sha256_iv(state);
    rvm_crypto_compress(crypto, state, block, 1);
}

void rvm_hmac_key_init(struct rvm_hmac_key *hk, const struct rvm_crypto *crypto, const uint8_t *key,
                       size_t key_len)
{
    uint8_t key_block[RVM_SHA256_BLOCK_BYTES];
    rvm_memset(key_block, 0, sizeof(key_block));
    if (key_len > RVM_SHA256_BLOCK_BYTES) {
        struct rvm_sha256_ctx c;
        rvm_sha256_init(&c, crypto);
        rvm_sha256_update(&c, key, key_len);
        rvm_sha256_final(&c, key_block);
    } else if (key_len != 0) {
        rvm_memcpy(key_block, key, key_len);
    }
    pad_state(crypto, key_block, HMAC_IPAD, hk->inner);
    pad_state(crypto, key_block, HMAC_OPAD, hk->outer);
}

/* A hash whose first block (a padded key) is already absorbed into `state`. */
static void resume(struct rvm_sha256_ctx *c, const struct rvm_crypto *crypto,
                   const uint32_t state[RVM_SHA256_STATE_WORDS])
{
    c->crypto = crypto;
    rvm_memcpy(c->state, state, sizeof(c->state));
    c->buffered = 0;
    c->total_bytes = RVM_SHA256_BLOCK_BYTES;
}

void rvm_hmac_mac(const struct rvm_hmac_key *hk, const struct rvm_crypto *crypto,
                  const uint8_t *msg, size_t len, uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_sha256_ctx c;
    uint8_t inner[RVM_SHA256_DIGEST_BYTES];
    resume(&c, crypto, hk->inner);
    rvm_sha256_update(&c, msg, len);
    rvm_sha256_final(&c, inner);
    resume(&c, crypto, hk->outer);
    rvm_sha256_update(&c, inner, sizeof(inner));
    rvm_sha256_final(&c, out);
}
