/* SPDX-License-Identifier: MIT */
/*
 * HMAC-SHA-256 (RFC 2104) with the key schedule computed once. A MAC under a fixed key spends two
 * of its compressions on the key alone (the ipad and the opad block); a key's pair of chaining
 * states after those blocks lets every later MAC start from there. The result is byte-for-byte
 * the HMAC the provider's hmac_sha256 computes.
 */
#ifndef RVM_HMAC_H
#define RVM_HMAC_H

#include "rvm/hal.h"

#include <stddef.h>
#include <stdint.h>

/* The chaining states after absorbing (key ^ ipad) and (key ^ opad), each one block. */
struct rvm_hmac_key {
    uint32_t inner[RVM_SHA256_STATE_WORDS];
    uint32_t outer[RVM_SHA256_STATE_WORDS];
};

/* Any key length; a key longer than one block is hashed first, as RFC 2104 says. */
void rvm_hmac_key_init(struct rvm_hmac_key *hk, const struct rvm_crypto *crypto, const uint8_t *key,
                       size_t key_len);

void rvm_hmac_mac(const struct rvm_hmac_key *hk, const struct rvm_crypto *crypto,
                  const uint8_t *msg, size_t len, uint8_t out[RVM_SHA256_DIGEST_BYTES]);

#endif /* RVM_HMAC_H */
