/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture for the capability, proof and gate tests: a capability table on the portable
 * crypto provider, a witness log on the HAL recorder, record assertions, and independent
 * expected values (identity hashes and link MACs computed with OpenSSL from byte layouts written
 * out here from the documentation, not from the code under test).
 */
#ifndef RVM_TESTS_CAP_FIXTURE_H
#define RVM_TESTS_CAP_FIXTURE_H

#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/cap.h"
#include "rvm/crypto_portable.h"
#include "rvm/witness.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>

#define FX_RING    64u
#define FX_CAP_MAX 64u

static const uint8_t fx_mac_key[32] = "cap-link-mac-key-0123456789abcd";

struct fx {
    struct rvm_crypto crypto; /* portable provider: the code under test */
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[FX_RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_cap_slot slots[FX_CAP_MAX];
    struct rvm_cap_table t;
};

static inline struct fx *fx_new_epoch(uint32_t capacity, bool keyed, uint32_t epoch)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = FX_RING};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    struct rvm_cap_config cc = {.slots = f->slots,
                                .capacity = capacity,
                                .initial_epoch = epoch,
                                .mac_key = keyed ? fx_mac_key : NULL,
                                .mac_key_len = keyed ? (uint32_t)sizeof(fx_mac_key) : 0};
    assert_int_equal(rvm_cap_init(&f->t, &f->crypto, &cc), RVM_OK);
    return f;
}

static inline struct fx *fx_new(uint32_t capacity, bool keyed)
{
    return fx_new_epoch(capacity, keyed, 5);
}

static inline void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f);
}

static inline uint64_t fx_records(const struct fx *f)
{
    return rvm_witness_count(&f->log);
}

/* The most recent record, decoded from the ring. */
static inline struct rvm_witness_record fx_last(const struct fx *f)
{
    struct rvm_witness_record r;
    assert_true(rvm_witness_count(&f->log) > 0);
    uint64_t seq = rvm_witness_count(&f->log) - 1;
    assert_true(rvm_witness_decode(f->ring[seq % FX_RING], &r));
    assert_int_equal(r.sequence, seq);
    return r;
}

static inline void expect_record(const struct fx *f, uint8_t kind, uint8_t tier, uint8_t flags,
                                 uint32_t actor, uint64_t target, uint32_t cap_hash,
                                 uint64_t payload, uint64_t aux)
{
    struct rvm_witness_record r = fx_last(f);
    assert_int_equal(r.kind, kind);
    assert_int_equal(r.proof_tier, tier);
    assert_int_equal(r.flags, flags);
    assert_int_equal(r.actor, actor);
    assert_int_equal(r.target, target);
    assert_int_equal(r.cap_hash, cap_hash);
    assert_int_equal(r.payload, payload);
    assert_int_equal(r.aux, aux);
}

/* A ProofRejected record as docs/witness-format.md "Rejections" lays it out. */
static inline void expect_reject(const struct fx *f, uint32_t actor, uint64_t target, uint8_t stage,
                                 uint8_t passed_tier, uint32_t cap_hash, uint32_t err,
                                 uint8_t attempted)
{
    expect_record(f, 0x53, passed_tier, stage, actor, target, cap_hash,
                  (uint64_t)err | (uint64_t)attempted << 32, 0);
}

static inline uint64_t pack(uint32_t index, uint32_t generation)
{
    return (uint64_t)generation << 32 | index;
}

static inline uint64_t hpack(struct rvm_handle h)
{
    return pack(h.index, h.generation);
}

static inline void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* The 44 identity bytes, from the table in docs/witness-format.md §4 (written independently). */
static inline void expect_identity(uint32_t index, const struct rvm_cap_slot *s, uint8_t m[44])
{
    memset(m, 0, 44);
    put_le(m + 0, index, 4);
    put_le(m + 4, s->generation, 4);
    m[8] = s->type;
    m[9] = s->depth;
    put_le(m + 12, s->owner, 4);
    put_le(m + 16, s->epoch, 4);
    put_le(m + 20, pack(s->object.index, s->object.generation), 8);
    put_le(m + 28, s->badge, 8);
    put_le(m + 36, pack(s->parent.index, s->parent.generation), 8);
}

/* cap_hash with OpenSSL. */
static inline uint32_t expect_cap_hash(uint32_t index, const struct rvm_cap_slot *s)
{
    uint8_t m[44], d[32];
    unsigned int len;
    expect_identity(index, s, m);
    EVP_Digest(m, sizeof(m), d, &len, EVP_sha256(), NULL);
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

/* Link MAC with OpenSSL's HMAC. */
static inline void expect_mac(uint32_t index, const struct rvm_cap_slot *s, uint32_t parent_hash,
                              uint8_t out[16])
{
    uint8_t m[60], d[32];
    unsigned int len = 0;
    memset(m, 0, sizeof(m));
    expect_identity(index, s, m);
    m[44] = s->rights;
    m[45] = s->flags;
    put_le(m + 48, s->root_epoch, 4);
    put_le(m + 52, s->cap_hash, 4);
    put_le(m + 56, parent_hash, 4);
    HMAC(EVP_sha256(), fx_mac_key, sizeof(fx_mac_key), m, sizeof(m), d, &len);
    memcpy(out, d, 16);
}

/* SHA-256 of the table's canonical encoding, to show that a refused operation changed nothing. */
static inline void fx_table_digest(const struct fx *f, uint8_t out[32])
{
    struct rvm_sha256_ctx h;
    rvm_sha256_init(&h, &f->crypto);
    rvm_cap_hash(&f->t, &h);
    rvm_sha256_final(&h, out);
}

static inline struct rvm_handle fx_mint(struct fx *f, uint8_t type, uint8_t rights, uint32_t owner,
                                        struct rvm_handle object, uint64_t badge)
{
    struct rvm_cap_mint_args a = {
        .type = type, .rights = rights, .owner = owner, .object = object, .badge = badge};
    struct rvm_handle h = {0, 0};
    assert_int_equal(witnessed_cap_mint(&f->t, &f->log, 0, &a, &h), RVM_OK);
    return h;
}

static inline struct rvm_handle fx_grant(struct fx *f, uint32_t actor, struct rvm_handle src,
                                         uint8_t rights, uint32_t new_owner)
{
    struct rvm_cap_derive_args a = {
        .source = src, .rights = rights, .badge = 0x77, .new_owner = new_owner};
    struct rvm_handle h = {0, 0};
    enum rvm_err err = new_owner == actor ? witnessed_cap_delegate(&f->t, &f->log, actor, &a, &h)
                                          : witnessed_cap_grant(&f->t, &f->log, actor, &a, &h);
    assert_int_equal(err, RVM_OK);
    return h;
}

#endif /* RVM_TESTS_CAP_FIXTURE_H */
