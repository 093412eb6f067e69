/* SPDX-License-Identifier: MIT */
/* SHA256_CTX is deprecated in OpenSSL 3 but is the only API that exposes the chaining state. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto_openssl.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

struct rvm_openssl_crypto {
    EVP_MD *sha256;
    EVP_MD_CTX *md_ctx;
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac_ctx;
    SHA256_CTX block_ctx;
    bool in_place; /* SHA256_Transform may run directly on the caller's state (see below) */
};

/*
 * Move the 32-byte chaining state as two 16-byte halves: OpenSSL's SHA-NI code loads and stores
 * h[] that way, and a copy of a different width makes the CPU miss store-to-load forwarding on
 * every block (measured: 44 ns per block instead of 39.5 ns).
 */
static inline void copy_state(uint32_t *dst, const uint32_t *src)
{
#if defined(__x86_64__)
    _mm_storeu_si128((__m128i *)(void *)dst, _mm_loadu_si128((const __m128i *)(const void *)src));
    _mm_storeu_si128((__m128i *)(void *)(dst + 4),
                     _mm_loadu_si128((const __m128i *)(const void *)(src + 4)));
#else
    memcpy(dst, src, 8 * sizeof(uint32_t));
#endif
}

/*
 * In-place mode. OpenSSL's block function reads and writes only SHA256_CTX.h[0..7], the first
 * member of the public struct, so it can run on the caller's uint32_t[8] directly. That removes
 * two trips of the chaining state through memory per block, which is most of what separates the
 * witness chain from the bare SHA-NI latency (bench: witness_append vs sha256_chain_floor_openssl).
 * It is enabled only after in_place_self_test() proves, on the installed libcrypto, that the
 * result is right and that not one byte past h[] is touched.
 */
static bool in_place_self_test(void)
{
    union {
        SHA256_CTX ctx;
        uint8_t bytes[sizeof(SHA256_CTX) + 64];
    } probe;
    SHA256_CTX reference;
    uint8_t block[RVM_SHA256_BLOCK_BYTES];

    for (size_t i = 0; i < sizeof(block); i++) {
        block[i] = (uint8_t)(i * 13 + 1);
    }
    memset(&probe, 0xA5, sizeof(probe));
    SHA256_Init(&reference);
    memcpy(probe.bytes, reference.h, sizeof(reference.h));
    SHA256_Transform(&reference, block);
    SHA256_Transform(&probe.ctx, block);
    if (memcmp(probe.bytes, reference.h, sizeof(reference.h)) != 0) {
        return false;
    }
    for (size_t i = sizeof(reference.h); i < sizeof(probe.bytes); i++) {
        if (probe.bytes[i] != 0xA5) {
            return false;
        }
    }
    return true;
}

/* Several blocks in place: apart from the single-block op so that op needs no saved registers. */
__attribute__((noinline)) static void compress_blocks_in_place(SHA256_CTX *c, const uint8_t *blocks,
                                                               size_t nblocks)
{
    for (size_t i = 0; i < nblocks; i++) { /* bound: nblocks */
        SHA256_Transform(c, blocks + i * RVM_SHA256_BLOCK_BYTES);
    }
}

/*
 * The in-place compression is its own op (bound when the self-test passed) so a single block, what
 * every witness append asks for, is one jump to SHA256_Transform: no mode test, no saved registers.
 */
static void ossl_compress_in_place(void *ctx, uint32_t state[RVM_SHA256_STATE_WORDS],
                                   const uint8_t *blocks, size_t nblocks)
{
    SHA256_CTX *c = (SHA256_CTX *)(void *)state;

    (void)ctx;
    if (nblocks == 1) {
        SHA256_Transform(c, blocks);
        return;
    }
    compress_blocks_in_place(c, blocks, nblocks);
}

static void ossl_compress(void *ctx, uint32_t state[RVM_SHA256_STATE_WORDS], const uint8_t *blocks,
                          size_t nblocks)
{
    struct rvm_openssl_crypto *oc = ctx;
    SHA256_CTX *c = &oc->block_ctx;

    /* SHA256_Transform runs exactly the block function on the ctx's h[] (SHA-NI where present);
     * measured 4-5 ns cheaper per block than SHA256_Update (bench: sha256_compress_*). */
    copy_state(c->h, state);
    for (size_t i = 0; i < nblocks; i++) {
        SHA256_Transform(c, blocks + i * RVM_SHA256_BLOCK_BYTES);
    }
    copy_state(state, c->h);
}

static void ossl_sha256(void *ctx, const uint8_t *msg, size_t len,
                        uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_openssl_crypto *oc = ctx;
    unsigned int out_len = 0;

    if (EVP_DigestInit_ex2(oc->md_ctx, oc->sha256, NULL) != 1 ||
        EVP_DigestUpdate(oc->md_ctx, msg, len) != 1 ||
        EVP_DigestFinal_ex(oc->md_ctx, out, &out_len) != 1 || out_len != RVM_SHA256_DIGEST_BYTES) {
        abort(); /* host-side library failure, not input-dependent */
    }
}

static void ossl_hmac(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                      uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_openssl_crypto *oc = ctx;
    static const uint8_t empty_key[1] = {0};
    size_t out_len = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    /* OpenSSL rejects a NULL key even with length 0; an empty HMAC key is legal (RFC 2104). */
    if (EVP_MAC_init(oc->mac_ctx, key_len != 0 ? key : empty_key, key_len, params) != 1 ||
        EVP_MAC_update(oc->mac_ctx, msg, len) != 1 ||
        EVP_MAC_final(oc->mac_ctx, out, &out_len, RVM_SHA256_DIGEST_BYTES) != 1 ||
        out_len != RVM_SHA256_DIGEST_BYTES) {
        abort();
    }
}

static const struct rvm_crypto_ops openssl_ops = {
    .sha256_compress = ossl_compress,
    .sha256 = ossl_sha256,
    .hmac_sha256 = ossl_hmac,
};

static const struct rvm_crypto_ops openssl_in_place_ops = {
    .sha256_compress = ossl_compress_in_place,
    .sha256 = ossl_sha256,
    .hmac_sha256 = ossl_hmac,
};

struct rvm_openssl_crypto *rvm_openssl_crypto_new(void)
{
    struct rvm_openssl_crypto *oc = calloc(1, sizeof(*oc));
    if (oc == NULL) {
        return NULL;
    }
    oc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    oc->md_ctx = EVP_MD_CTX_new();
    oc->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    oc->mac_ctx = oc->hmac != NULL ? EVP_MAC_CTX_new(oc->hmac) : NULL;
    if (oc->sha256 == NULL || oc->md_ctx == NULL || oc->mac_ctx == NULL ||
        SHA256_Init(&oc->block_ctx) != 1) {
        rvm_openssl_crypto_free(oc);
        return NULL;
    }
    oc->in_place = getenv("RVM_OPENSSL_NO_IN_PLACE") == NULL && in_place_self_test();
    return oc;
}

void rvm_openssl_crypto_free(struct rvm_openssl_crypto *oc)
{
    if (oc == NULL) {
        return;
    }
    EVP_MAC_CTX_free(oc->mac_ctx);
    EVP_MAC_free(oc->hmac);
    EVP_MD_CTX_free(oc->md_ctx);
    EVP_MD_free(oc->sha256);
    free(oc);
}

void rvm_openssl_crypto_bind(struct rvm_openssl_crypto *oc, struct rvm_crypto *out)
{
    out->ops = oc->in_place ? &openssl_in_place_ops : &openssl_ops;
    out->ctx = oc;
}

/* ---- Ed25519 ----------------------------------------------------------------------------------
 */

struct rvm_ed25519_key {
    EVP_PKEY *pkey;
};

struct rvm_ed25519_key *rvm_ed25519_from_seed(const uint8_t seed[32])
{
    struct rvm_ed25519_key *key = calloc(1, sizeof(*key));
    if (key == NULL) {
        return NULL;
    }
    key->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (key->pkey == NULL) {
        free(key);
        return NULL;
    }
    return key;
}

void rvm_ed25519_free(struct rvm_ed25519_key *key)
{
    if (key != NULL) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

bool rvm_ed25519_public(const struct rvm_ed25519_key *key, uint8_t out[RVM_ED25519_PUBLIC_BYTES])
{
    size_t len = RVM_ED25519_PUBLIC_BYTES;
    return EVP_PKEY_get_raw_public_key(key->pkey, out, &len) == 1 &&
           len == RVM_ED25519_PUBLIC_BYTES;
}

bool rvm_ed25519_sign(const struct rvm_ed25519_key *key, const uint8_t *msg, size_t len,
                      uint8_t sig[RVM_ED25519_SIGNATURE_BYTES])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = RVM_ED25519_SIGNATURE_BYTES;
    bool ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
              EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1 &&
              sig_len == RVM_ED25519_SIGNATURE_BYTES;
    EVP_MD_CTX_free(ctx);
    return ok;
}

bool rvm_ed25519_verify(const uint8_t pub[RVM_ED25519_PUBLIC_BYTES], const uint8_t *msg, size_t len,
                        const uint8_t sig[RVM_ED25519_SIGNATURE_BYTES])
{
    EVP_PKEY *pkey =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, RVM_ED25519_PUBLIC_BYTES);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = pkey != NULL && ctx != NULL &&
              EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, RVM_ED25519_SIGNATURE_BYTES, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

bool rvm_ed25519_sign_checkpoint(const struct rvm_ed25519_key *key,
                                 const struct rvm_witness_checkpoint *cp,
                                 uint8_t sig[RVM_ED25519_SIGNATURE_BYTES])
{
    uint8_t msg[RVM_WITNESS_MSG_MAX];
    size_t len = rvm_witness_checkpoint_message(cp, msg);
    return rvm_ed25519_sign(key, msg, len, sig);
}

bool rvm_ed25519_verify_checkpoint(const uint8_t pub[RVM_ED25519_PUBLIC_BYTES],
                                   const struct rvm_witness_checkpoint *cp,
                                   const uint8_t sig[RVM_ED25519_SIGNATURE_BYTES])
{
    uint8_t msg[RVM_WITNESS_MSG_MAX];
    size_t len = rvm_witness_checkpoint_message(cp, msg);
    return rvm_ed25519_verify(pub, msg, len, sig);
}
