/* SPDX-License-Identifier: MIT */
#include "run_keys.h"

#include "rvm/bytes.h"

#include <string.h>

static void derive(const struct rvm_crypto *crypto, const char *label, uint64_t seed,
                   uint8_t out[32])
{
    uint8_t msg[64];
    size_t n = strlen(label);
    memcpy(msg, label, n);
    rvm_store_le64(msg + n, seed);
    rvm_crypto_sha256(crypto, msg, n + 8, out);
}

void rvm_run_keys_derive(const struct rvm_crypto *crypto, uint64_t seed, struct rvm_run_keys *out)
{
    derive(crypto, "rvmsim hmac key", seed, out->hmac);
    derive(crypto, "rvmsim ed25519 key", seed, out->ed25519_seed);
}
