/* SPDX-License-Identifier: MIT */
/*
 * The portable crypto provider: SHA-256 and HMAC-SHA256 in plain freestanding C, for firmware
 * and any platform without a faster provider. Stateless, so its context pointer is unused.
 */
#ifndef RVM_CRYPTO_PORTABLE_H
#define RVM_CRYPTO_PORTABLE_H

#include "rvm/hal.h"

/* Fill `out` with the portable provider. */
void rvm_crypto_portable(struct rvm_crypto *out);

/* The raw compression function, exposed for tests and for providers that fall back to it. */
void rvm_sha256_compress_portable(uint32_t state[RVM_SHA256_STATE_WORDS], const uint8_t *blocks,
                                  size_t nblocks);

#endif /* RVM_CRYPTO_PORTABLE_H */
