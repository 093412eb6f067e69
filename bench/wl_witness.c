/* SPDX-License-Identifier: MIT */
/*
 * Witness log workloads: append with the full SHA-256 chain, and chain verification, per record.
 * The sink accepts every record without copying, so the figure is the core's own cost (encode,
 * one compression, ring bookkeeping, amortised drain calls).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "harness.h"

#include "common.h"

#include "crypto_openssl.h"
#include "hal_sim.h"

#include "rvm/crypto_portable.h"
#include "rvm/witness.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_RING 1024u

struct append_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    uint8_t ring[BENCH_RING][RVM_WITNESS_RECORD_BYTES];
};

static void *append_setup_with(bool portable, uint64_t interval)
{
    struct append_ctx *c = calloc(1, sizeof(*c));
    static const uint8_t key[32] = "bench-key";
    c->oc = rvm_openssl_crypto_new();
    if (c->oc == NULL) {
        free(c);
        return NULL;
    }
    if (portable) {
        rvm_crypto_portable(&c->crypto);
    } else {
        rvm_openssl_crypto_bind(c->oc, &c->crypto);
    }
    rvm_sim_hal_init(&c->sim, &c->crypto);
    rvm_sim_hal_set_sink(&c->sim, &bench_null_sink, NULL);
    struct rvm_witness_config cfg = {.ring = c->ring,
                                     .ring_capacity = BENCH_RING,
                                     .checkpoint_interval = interval,
                                     .hmac_key = key,
                                     .hmac_key_len = sizeof(key)};
    if (rvm_witness_init(&c->log, &c->sim.hal, &cfg) != RVM_OK) {
        rvm_openssl_crypto_free(c->oc);
        free(c);
        return NULL;
    }
    return c;
}

static void *append_setup(void)
{
    return append_setup_with(false, 0);
}

static void *append_portable_setup(void)
{
    return append_setup_with(true, 0);
}

static void *append_ckpt_setup(void)
{
    return append_setup_with(false, 1024);
}

static void append_teardown(void *ctx)
{
    struct append_ctx *c = ctx;
    rvm_openssl_crypto_free(c->oc);
    free(c);
}

static void append_run(void *ctx, uint64_t iters)
{
    struct append_ctx *c = ctx;
    struct rvm_witness_entry e = {.kind = RVM_ACT_IPC_SEND,
                                  .proof_tier = 1,
                                  .actor = 3,
                                  .target = 42,
                                  .cap_hash = 0xabcd,
                                  .payload = 7};
    for (uint64_t i = 0; i < iters; i++) {
        e.payload = i;
        c->sim.now_ns += 3;
        if (rvm_witness_append(&c->log, &e, NULL) != RVM_OK) {
            abort();
        }
    }
    bench_keep(c->log.chain[0]);
}

/* RVM's witness_emit_10000: ten thousand appends per iteration. */
static void append_10000_run(void *ctx, uint64_t iters)
{
    append_run(ctx, iters * 10000);
}

struct verify_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    uint8_t *images;
    uint64_t count;
};

static void *verify_setup_n(uint64_t count)
{
    struct append_ctx *a = append_setup_with(false, 0);
    struct verify_ctx *v = calloc(1, sizeof(*v));
    if (a == NULL) {
        free(v);
        return NULL;
    }
    v->oc = rvm_openssl_crypto_new();
    rvm_openssl_crypto_bind(v->oc, &v->crypto);
    v->count = count;
    v->images = malloc(count * RVM_WITNESS_RECORD_BYTES);
    /* Build the log through the core and capture it from the ring in order. */
    for (uint64_t i = 0; i < count; i++) {
        append_run(a, 1);
        memcpy(v->images + i * RVM_WITNESS_RECORD_BYTES, a->ring[i % BENCH_RING],
               RVM_WITNESS_RECORD_BYTES);
    }
    append_teardown(a);
    return v;
}

static void *verify64_setup(void)
{
    return verify_setup_n(64);
}

static void *verify10k_setup(void)
{
    return verify_setup_n(10000);
}

static void verify_teardown(void *ctx)
{
    struct verify_ctx *v = ctx;
    rvm_openssl_crypto_free(v->oc);
    free(v->images);
    free(v);
}

static void verify_run(void *ctx, uint64_t iters)
{
    struct verify_ctx *v = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_witness_verify_result r = rvm_witness_verify_log(
            &v->crypto, NULL, 0, NULL, 0, v->images, v->count, NULL, 0, false);
        if (r.err != RVM_OK) {
            abort();
        }
    }
}

/* ---- crypto alternatives, to justify the provider's choices ---------------------------------- */

struct crypto_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto ossl;
    struct rvm_crypto portable;
    uint8_t block[64];
    uint32_t state[8];
};

static void *crypto_setup(void)
{
    struct crypto_ctx *c = calloc(1, sizeof(*c));
    c->oc = rvm_openssl_crypto_new();
    if (c->oc == NULL) {
        free(c);
        return NULL;
    }
    rvm_openssl_crypto_bind(c->oc, &c->ossl);
    rvm_crypto_portable(&c->portable);
    memset(c->block, 0x5a, sizeof(c->block));
    return c;
}

static void crypto_teardown(void *ctx)
{
    struct crypto_ctx *c = ctx;
    rvm_openssl_crypto_free(c->oc);
    free(c);
}

static void compress_openssl_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_crypto_compress(&c->ossl, c->state, c->block, 1);
    }
    bench_keep(c->state[0]);
}

static void compress_portable_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_crypto_compress(&c->portable, c->state, c->block, 1);
    }
    bench_keep(c->state[0]);
}

static void transform_direct_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    SHA256_CTX s;
    SHA256_Init(&s);
    for (uint64_t i = 0; i < iters; i++) {
        SHA256_Transform(&s, c->block);
    }
    bench_keep(s.h[0]);
}

/* The physical floor of a witness chain on this CPU: bare SHA256_Transform calls where, as in the
 * witness chain, each block carries 8 bytes of the previous chain value at offset 44. */
static void chain_floor_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    SHA256_CTX s;
    SHA256_Init(&s);
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t link = (uint64_t)s.h[0] | (uint64_t)s.h[1] << 32;
        memcpy(c->block + 44, &link, sizeof(link));
        SHA256_Transform(&s, c->block);
    }
    bench_keep(s.h[0]);
}

static void evp_reused_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    uint8_t out[32];
    for (uint64_t i = 0; i < iters; i++) {
        rvm_crypto_sha256(&c->ossl, c->block, 64, out);
        bench_keep(out[0]);
    }
}

static void evp_oneshot_run(void *ctx, uint64_t iters)
{
    struct crypto_ctx *c = ctx;
    uint8_t out[32];
    unsigned int len;
    for (uint64_t i = 0; i < iters; i++) {
        EVP_Digest(c->block, 64, out, &len, EVP_sha256(), NULL);
        bench_keep(out[0]);
    }
}

static const struct bench_workload witness_workloads[] = {
    {"witness_append", "record",
     "append one record with the full SHA-256 chain (OpenSSL provider); RVM witness_emit_single "
     "hashes 16 bytes into a 32-bit link",
     1, append_setup, append_run, append_teardown},
    {"witness_emit_10000", "record", "10,000 appends per iteration (RVM witness_emit_10000)", 10000,
     append_setup, append_10000_run, append_teardown},
    {"witness_append_portable", "record", "witness_append on the portable C provider (firmware)", 1,
     append_portable_setup, append_run, append_teardown},
    {"witness_append_checkpoint1024", "record",
     "witness_append with an HMAC-SHA256 checkpoint every 1024 records", 1, append_ckpt_setup,
     append_run, append_teardown},
    {"witness_verify_64", "record",
     "verify a 64-record chain (sequence, reserved, time, link, compression); RVM "
     "witness_verify_chain_64 / 64",
     64, verify64_setup, verify_run, verify_teardown},
    {"witness_verify_10000", "record", "verify a 10,000-record chain", 10000, verify10k_setup,
     verify_run, verify_teardown},
    {"sha256_compress_openssl_hook", "block",
     "one compression through the OpenSSL provider hook (SHA256_Update on a block-aligned ctx)", 1,
     crypto_setup, compress_openssl_run, crypto_teardown},
    {"sha256_compress_openssl_transform", "block",
     "one compression via SHA256_Transform directly (lower bound for the hook)", 1, crypto_setup,
     transform_direct_run, crypto_teardown},
    {"sha256_chain_floor_openssl", "block",
     "bare SHA256_Transform where each block depends on the previous output, as in the witness "
     "chain: the floor for witness_append and witness_verify on this machine",
     1, crypto_setup, chain_floor_run, crypto_teardown},
    {"sha256_compress_portable", "block", "one compression in portable C", 1, crypto_setup,
     compress_portable_run, crypto_teardown},
    {"sha256_64B_evp_reused", "hash",
     "SHA-256 of 64 bytes via EVP with a pre-fetched EVP_MD and reused EVP_MD_CTX", 1, crypto_setup,
     evp_reused_run, crypto_teardown},
    {"sha256_64B_evp_oneshot", "hash", "SHA-256 of 64 bytes via the one-shot EVP_Digest helper", 1,
     crypto_setup, evp_oneshot_run, crypto_teardown},
};

struct bench_group bench_witness_group(void)
{
    struct bench_group g = {witness_workloads,
                            sizeof(witness_workloads) / sizeof(witness_workloads[0])};
    return g;
}
