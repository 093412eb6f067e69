/* SPDX-License-Identifier: MIT */
/*
 * The incremental state digest (version 2) against a from-scratch model built here: the trees are
 * rebuilt with OpenSSL's SHA-256 from leaves (the device and nonce leaves encoded by this file from
 * docs/incremental-state-digest.md, the other leaves taken from rvm_kernel_digest_leaf), their
 * roots fed to the top block, and the result compared with what the kernel's incremental trees
 * give after runs of operations and epochs. A missed change, a wrong path update or a wrong tree
 * shape shows as a different digest.
 */
#include "kernel_fixture.h"

#include "rvm/bytes.h"

/* SHA256_Transform is deprecated in OpenSSL 3 but still the plain block function. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#define NODE 32u

static uint32_t model_count(const struct rvm_kernel_config *c, uint32_t t)
{
    switch (t) {
    case RVM_KDIGEST_CAPS:
        return c->max_caps;
    case RVM_KDIGEST_NONCES:
        return c->max_partitions + 1u;
    case RVM_KDIGEST_BUDDY:
        return (c->ram_pages + 63u) / 64u;
    case RVM_KDIGEST_REGIONS:
        return c->max_regions;
    case RVM_KDIGEST_PARTS:
        return c->max_partitions;
    case RVM_KDIGEST_CHANS:
        return c->max_channels;
    case RVM_KDIGEST_DEVS:
        return c->max_devices;
    default:
        return c->max_images;
    }
}

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void put8(struct buf *b, uint8_t v)
{
    b->b[b->n++] = v;
}

static void put32(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        put8(b, (uint8_t)(v >> (8 * i)));
    }
}

static void put64(struct buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        put8(b, (uint8_t)(v >> (8 * i)));
    }
}

/* The leaf of one slot: devices and nonce domains encoded here, the rest by the core. */
static void model_leaf(const struct rvm_kernel *k, uint32_t t, uint32_t i, uint8_t out[NODE])
{
    struct buf b = {{0}, 0};
    put8(&b, 0x00);
    put8(&b, (uint8_t)t);
    put32(&b, i);
    if (t == RVM_KDIGEST_DEVS) {
        const struct rvm_kdev *d = &k->devs[i];
        put32(&b, d->generation);
        put8(&b, d->used);
        put8(&b, d->leased);
        put32(&b, d->irq);
        put32(&b, d->holder);
        put64(&b, (uint64_t)d->lease_cap.generation << 32 | d->lease_cap.index);
        put64(&b, d->expires_ns);
        put64(&b, d->delivered);
    } else if (t == RVM_KDIGEST_NONCES) {
        const struct rvm_proof_nonce_domain *d = &k->nonces.domains[i];
        put64(&b, d->highest);
        for (uint32_t w = 0; w < RVM_PROOF_NONCE_WORDS; w++) {
            put64(&b, d->seen[w]);
        }
    } else {
        rvm_kernel_digest_leaf(k, t, i, out);
        return;
    }
    SHA256(b.b, b.n, out);
}

/* An interior node: one SHA-256 compression of left || right from the standard IV, no padding
 * (OpenSSL's block function, deprecated as an API but the reference here). */
static void model_compress(const uint8_t block[64], uint8_t out[NODE])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Transform(&c, block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c.h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c.h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c.h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c.h[i];
    }
}

/* The root of a table: leaves padded with zero nodes to a power of two, interior nodes one
 * compression of left || right, level by level. */
static void model_root(const struct rvm_kernel *k, uint32_t t, uint8_t root[NODE])
{
    const uint32_t n = model_count(&k->cfg, t);
    uint32_t span = 1;
    while (span < n) {
        span *= 2;
    }
    uint8_t(*level)[NODE] = calloc(span, NODE);
    assert_non_null(level);
    for (uint32_t i = 0; i < n; i++) {
        model_leaf(k, t, i, level[i]);
    }
    for (uint32_t w = span; w > 1; w /= 2) {
        for (uint32_t j = 0; j < w / 2; j++) {
            uint8_t in[2 * NODE];
            memcpy(in, level[2 * j], NODE);
            memcpy(in + NODE, level[2 * j + 1], NODE);
            model_compress(in, level[j]);
        }
    }
    memcpy(root, level[0], NODE);
    free(level);
}

static void model_digest(const struct rvm_kernel *k, uint8_t out[32])
{
    uint8_t roots[RVM_KDIGEST_TABLES][NODE];
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) {
        model_root(k, t, roots[t]);
    }
    rvm_kernel_digest_top(k, roots, out);
}

static void assert_digest_matches_model(struct kfx *f)
{
    uint8_t want[32];
    uint8_t got[32];
    model_digest(&f->k, want);
    rvm_kernel_digest_v2(&f->k, got);
    assert_memory_equal(got, want, 32);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
}

static void test_incremental_equals_model(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    assert_int_equal(f->k.digest.version, 2);
    assert_digest_matches_model(f); /* the first digest builds every tree */
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_handle dev;
    struct rvm_handle lease;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 40, &dev, NULL), RVM_OK);
    assert_digest_matches_model(f);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, b, 1000, &lease), RVM_OK);
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, b, &ch, NULL, NULL), RVM_OK);
    static const uint8_t msg[] = "incremental";
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, msg, sizeof(msg), 9, NULL), RVM_OK);
    (void)kfx_region(f, a, RVM_REGION_DATA, 2, 0, 0);
    assert_digest_matches_model(f);
    for (int e = 0; e < 3; e++) {
        kfx_advance(f, f->cfg.epoch_ns);
        assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
        const struct krec d = kfx_last(f);
        assert_int_equal(d.kind, RVM_ACT_STATE_DIGEST_V2);
        assert_digest_matches_model(f);
    }
    assert_int_equal(rvm_kernel_partition_suspend(&f->k, 0, NULL, b), RVM_OK);
    assert_digest_matches_model(f);
    kfx_free(f);
}

/* A slot changed behind the trees' back (here: by the test) is found by the oracle before a
 * digest, and the next digest follows the state. */
static void test_verify_finds_a_stale_leaf(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    uint8_t d[32];
    rvm_kernel_digest_v2(&f->k, d);
    struct rvm_kdigest_table *tb = &f->k.digest.t[RVM_KDIGEST_DEVS];
    f->k.devs[1].irq = 77;
    memcpy(tb->shadow + tb->shadow_bytes, &f->k.devs[1], sizeof(f->k.devs[1]));
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_DEVS);
    assert_int_equal(slot, 1);
    kfx_free(f);
}

/* Version 1 still writes StateDigest (0x7B) records of the full stream. */
static void version1(struct rvm_kernel_config *cfg)
{
    cfg->state_digest = 1;
}

static void test_version1_records(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(version1);
    (void)kfx_part(f, true);
    kfx_advance(f, f->cfg.epoch_ns);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_STATE_DIGEST);
    kfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_equals_model),
        cmocka_unit_test(test_verify_finds_a_stale_leaf),
        cmocka_unit_test(test_version1_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
