/* SPDX-License-Identifier: MIT */
/*
 * Checkpoint keys of a simulated run, derived from its seed.
 *
 * A simulated run must be re-verifiable by anyone holding its seed, so its keys are public by
 * construction: HMAC key = SHA-256("rvmsim hmac key" || LE64(seed)), Ed25519 private seed =
 * SHA-256("rvmsim ed25519 key" || LE64(seed)). These authenticate a log's origin within the
 * tool chain; real deployments provision their own secret keys (docs/witness-format.md).
 */
#ifndef RVM_HOST_RUN_KEYS_H
#define RVM_HOST_RUN_KEYS_H

#include "rvm/hal.h"

#include <stdint.h>

struct rvm_run_keys {
    uint8_t hmac[32];
    uint8_t ed25519_seed[32];
};

void rvm_run_keys_derive(const struct rvm_crypto *crypto, uint64_t seed, struct rvm_run_keys *out);

#endif /* RVM_HOST_RUN_KEYS_H */
