/* SPDX-License-Identifier: MIT */
/*
 * Host crypto provider on OpenSSL 3 libcrypto, and host-only Ed25519 checkpoint signatures.
 *
 * The compression hook uses OpenSSL's SHA-256 block function (SHA-NI on CPUs that have it)
 * through the SHA256_CTX API, the one OpenSSL interface that exposes the running state. The
 * one-shot digest and HMAC use EVP with algorithms fetched once and contexts reused, which
 * bench/bench_crypto measures against the alternatives.
 */
#ifndef RVM_HOST_CRYPTO_OPENSSL_H
#define RVM_HOST_CRYPTO_OPENSSL_H

#include "rvm/hal.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stdint.h>

struct rvm_openssl_crypto;

/* NULL on failure (OpenSSL could not fetch SHA-256 or HMAC). */
struct rvm_openssl_crypto *rvm_openssl_crypto_new(void);
void rvm_openssl_crypto_free(struct rvm_openssl_crypto *oc);
/* Bind a provider handle that uses `oc` (which must outlive it). */
void rvm_openssl_crypto_bind(struct rvm_openssl_crypto *oc, struct rvm_crypto *out);

#define RVM_ED25519_PUBLIC_BYTES    32u
#define RVM_ED25519_SIGNATURE_BYTES 64u

struct rvm_ed25519_key;

/* Deterministic key pair from a 32-byte seed (RFC 8032 private key). NULL on failure. */
struct rvm_ed25519_key *rvm_ed25519_from_seed(const uint8_t seed[32]);
void rvm_ed25519_free(struct rvm_ed25519_key *key);
bool rvm_ed25519_public(const struct rvm_ed25519_key *key, uint8_t out[RVM_ED25519_PUBLIC_BYTES]);
bool rvm_ed25519_sign(const struct rvm_ed25519_key *key, const uint8_t *msg, size_t len,
                      uint8_t sig[RVM_ED25519_SIGNATURE_BYTES]);
bool rvm_ed25519_verify(const uint8_t pub[RVM_ED25519_PUBLIC_BYTES], const uint8_t *msg, size_t len,
                        const uint8_t sig[RVM_ED25519_SIGNATURE_BYTES]);

/* Ed25519 over a witness checkpoint's 40-byte message (rvm_witness_checkpoint_message). */
bool rvm_ed25519_sign_checkpoint(const struct rvm_ed25519_key *key,
                                 const struct rvm_witness_checkpoint *cp,
                                 uint8_t sig[RVM_ED25519_SIGNATURE_BYTES]);
bool rvm_ed25519_verify_checkpoint(const uint8_t pub[RVM_ED25519_PUBLIC_BYTES],
                                   const struct rvm_witness_checkpoint *cp,
                                   const uint8_t sig[RVM_ED25519_SIGNATURE_BYTES]);

#endif /* RVM_HOST_CRYPTO_OPENSSL_H */
