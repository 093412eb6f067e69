/* SPDX-License-Identifier: MIT */
/*
 * A fast, non-cryptographic stand-in for the SHA-256 compression function, used only for the
 * simulator's per-step "no witness, no mutation" comparison of state hashes.
 *
 * Targets hash their state through struct rvm_sha256_ctx (rvm_x_hash), which calls the
 * provider's compression function; handing that context this provider instead of SHA-256 turns
 * the same canonical encoding into a 256-bit fingerprint at a fraction of the cost, so the oracle
 * can run after every step. It is never used for the witness log, checkpoints or the final state
 * digest, which are SHA-256. Collisions only matter if a bug's mutation happens to collide; with
 * 256 bits of well-mixed state that is not a practical concern.
 */
#ifndef RVM_SIM_FINGERPRINT_H
#define RVM_SIM_FINGERPRINT_H

#include "rvm/hal.h"

/* A provider whose sha256_compress is the fingerprint mix (sha256/hmac are not provided). */
void rvm_fingerprint_provider(struct rvm_crypto *out);

#endif /* RVM_SIM_FINGERPRINT_H */
