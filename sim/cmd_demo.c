/* SPDX-License-Identifier: MIT */
/*
 * rvmsim demo: the foundation's end-to-end path. Appends seeded pseudo-random witness records
 * through the core's witness log on the simulated HAL, drains them to a memory sink that signs
 * checkpoints with Ed25519, verifies the stored log (chain, HMAC and Ed25519 checkpoints), and
 * prints the log digest. With --export the raw records are written so that `sha256sum FILE`
 * prints the same digest.
 */
#include "commands.h"
#include "crypto_openssl.h"
#include "hal_sim.h"
#include "prng.h"
#include "run_keys.h"
#include "sink_memory.h"
#include "util.h"

#include "rvm/crypto_portable.h"
#include "rvm/witness.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MAX_RECORDS 100000000u
#define DEMO_MAX_RING    (1u << 20)

struct demo_options {
    uint64_t records;
    uint64_t seed;
    uint64_t checkpoint_interval;
    uint64_t ring;
    const char *export_path;
    bool portable;
};

static void demo_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim demo [--records N] [--seed N] [--checkpoint-interval K] [--ring N]\n"
            "                   [--crypto openssl|portable] [--export FILE]\n\n"
            "Appends N seeded pseudo-random witness records (default 1000, seed 1), signs a\n"
            "checkpoint every K records (default 256) and at the end, verifies the stored log and\n"
            "prints its digest. --export writes the raw 64-byte records: `sha256sum FILE` equals\n"
            "the digest. --ring sets the in-core ring capacity (power of two, default 256).\n");
}

static int parse_demo_options(int argc, char **argv, struct demo_options *o)
{
    static const struct option longopts[] = {
        {"records", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"checkpoint-interval", required_argument, NULL, 'k'},
        {"ring", required_argument, NULL, 'r'},
        {"crypto", required_argument, NULL, 'c'},
        {"export", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct demo_options){.records = 1000, .seed = 1, .checkpoint_interval = 256, .ring = 256};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "n:s:k:r:c:o:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'n':
            if (!rvm_parse_u64(optarg, &o->records) || o->records == 0 ||
                o->records > DEMO_MAX_RECORDS) {
                rvm_errorf("demo: --records must be 1..%u, got '%s'", DEMO_MAX_RECORDS, optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 's':
            if (!rvm_parse_u64(optarg, &o->seed)) {
                rvm_errorf("demo: --seed must be an unsigned 64-bit integer, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'k':
            if (!rvm_parse_u64(optarg, &o->checkpoint_interval)) {
                rvm_errorf("demo: --checkpoint-interval must be an integer, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'r':
            if (!rvm_parse_u64(optarg, &o->ring) || o->ring < 2 || o->ring > DEMO_MAX_RING ||
                (o->ring & (o->ring - 1)) != 0) {
                rvm_errorf("demo: --ring must be a power of two in 2..%u, got '%s'", DEMO_MAX_RING,
                           optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'c':
            if (strcmp(optarg, "openssl") == 0) {
                o->portable = false;
            } else if (strcmp(optarg, "portable") == 0) {
                o->portable = true;
            } else {
                rvm_errorf("demo: --crypto must be 'openssl' or 'portable', got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'o':
            o->export_path = optarg;
            break;
        case 'h':
            demo_usage(stdout);
            return -1;
        default:
            demo_usage(stderr);
            return RVMSIM_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        rvm_errorf("demo: unexpected argument '%s'", argv[optind]);
        return RVMSIM_EXIT_USAGE;
    }
    return RVMSIM_EXIT_PASS;
}

/* Seeded traffic that exercises every record field. */
static void demo_entry(struct rvm_prng *workload, struct rvm_witness_entry *e)
{
    static const uint8_t kinds[] = {
        RVM_ACT_PARTITION_CREATE, RVM_ACT_CAP_GRANT, RVM_ACT_CAP_REVOKE,
        RVM_ACT_REGION_MAP,       RVM_ACT_IPC_SEND,  RVM_ACT_PROOF_VERIFIED_P2,
        RVM_ACT_SCHED_EPOCH,      RVM_ACT_DEMO,      RVM_ACT_PROOF_REJECTED,
    };
    e->kind = kinds[rvm_prng_below(workload, sizeof(kinds))];
    e->proof_tier = (uint8_t)rvm_prng_below(workload, 4);
    e->flags = (uint8_t)rvm_prng_next(workload);
    e->actor = (uint32_t)rvm_prng_below(workload, 17);
    e->target = rvm_prng_next(workload);
    e->cap_hash = (uint32_t)rvm_prng_next(workload);
    e->payload = rvm_prng_next(workload);
    e->aux = rvm_prng_next(workload);
}

/* Re-verifies what the sink stored, as an independent reader of the stored bytes would. */
static int demo_verify(const struct rvm_crypto *crypto, const struct rvm_run_keys *keys,
                       const struct rvm_ed25519_key *signer, const struct rvm_memory_sink *sink)
{
    uint8_t pub[RVM_ED25519_PUBLIC_BYTES];
    struct rvm_witness_checkpoint *cps = calloc(sink->ncheckpoints + 1, sizeof(*cps));
    if (cps == NULL || !rvm_ed25519_public(signer, pub)) {
        free(cps);
        rvm_errorf("demo: out of memory");
        return RVMSIM_EXIT_INTERNAL;
    }
    for (uint64_t i = 0; i < sink->ncheckpoints; i++) {
        cps[i] = sink->checkpoints[i].cp;
        if (!rvm_ed25519_verify_checkpoint(pub, &cps[i], sink->checkpoints[i].ed25519)) {
            rvm_errorf("demo: Ed25519 signature of checkpoint at seq %llu is invalid",
                       (unsigned long long)cps[i].sequence);
            free(cps);
            return RVMSIM_EXIT_EXPECTATION;
        }
    }
    struct rvm_witness_verify_result res =
        rvm_witness_verify_log(crypto, keys->hmac, sizeof(keys->hmac), NULL, 0, sink->records,
                               sink->count, cps, sink->ncheckpoints, true);
    free(cps);
    if (res.err != RVM_OK) {
        rvm_errorf("demo: stored log fails verification at seq %llu: %s",
                   (unsigned long long)res.bad_sequence, rvm_strerror(res.err));
        return RVMSIM_EXIT_EXPECTATION;
    }
    return RVMSIM_EXIT_PASS;
}

int rvmsim_cmd_demo(int argc, char **argv)
{
    struct demo_options opt;
    int rc = parse_demo_options(argc, argv, &opt);
    if (rc != RVMSIM_EXIT_PASS) {
        return rc < 0 ? RVMSIM_EXIT_PASS : rc;
    }

    struct rvm_openssl_crypto *oc = rvm_openssl_crypto_new();
    struct rvm_crypto crypto;
    if (oc == NULL) {
        rvm_errorf("demo: OpenSSL could not provide SHA-256/HMAC");
        return RVMSIM_EXIT_INTERNAL;
    }
    if (opt.portable) {
        rvm_crypto_portable(&crypto);
    } else {
        rvm_openssl_crypto_bind(oc, &crypto);
    }

    struct rvm_run_keys keys;
    rvm_run_keys_derive(&crypto, opt.seed, &keys);
    struct rvm_ed25519_key *signer = rvm_ed25519_from_seed(keys.ed25519_seed);
    uint8_t(*ring)[RVM_WITNESS_RECORD_BYTES] = calloc(opt.ring, RVM_WITNESS_RECORD_BYTES);
    struct rvm_memory_sink sink;
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    rvm_memory_sink_init(&sink, signer);
    rvm_sim_hal_init(&sim, &crypto);
    rvm_sim_hal_set_sink(&sim, &rvm_memory_sink_ops, &sink);

    const struct rvm_witness_config config = {
        .ring = ring,
        .ring_capacity = (uint32_t)opt.ring,
        .checkpoint_interval = opt.checkpoint_interval,
        .hmac_key = keys.hmac,
        .hmac_key_len = sizeof(keys.hmac),
    };
    rc = RVMSIM_EXIT_INTERNAL;
    if (signer == NULL || ring == NULL || rvm_witness_init(&log, &sim.hal, &config) != RVM_OK) {
        rvm_errorf("demo: set-up failed");
        goto out;
    }

    struct rvm_prng workload;
    rvm_prng_init(&workload, opt.seed, "workload");
    for (uint64_t i = 0; i < opt.records; i++) {
        struct rvm_witness_entry e;
        demo_entry(&workload, &e);
        rvm_sim_hal_advance(&sim, 1 + rvm_prng_below(&workload, 1000));
        enum rvm_err err = rvm_witness_append(&log, &e, NULL);
        if (err != RVM_OK) {
            rvm_errorf("demo: append %llu refused: %s", (unsigned long long)i, rvm_strerror(err));
            goto out;
        }
    }
    enum rvm_err err = rvm_witness_seal(&log, NULL);
    if (err != RVM_OK || sink.count != opt.records || sink.out_of_order) {
        rvm_errorf("demo: draining the log failed: %s", rvm_strerror(err));
        goto out;
    }

    rc = demo_verify(&crypto, &keys, signer, &sink);
    if (rc != RVMSIM_EXIT_PASS) {
        goto out;
    }

    uint8_t digest[RVM_SHA256_DIGEST_BYTES], chain[RVM_WITNESS_CHAIN_BYTES];
    char digest_hex[65], chain_hex[65];
    rvm_witness_digest(&log, digest);
    rvm_witness_chain_value(&log, chain);
    rvm_hex(digest, sizeof(digest), digest_hex);
    rvm_hex(chain, sizeof(chain), chain_hex);

    if (opt.export_path != NULL) {
        if (!rvm_write_file(opt.export_path, sink.records, sink.count * RVM_WITNESS_RECORD_BYTES)) {
            rvm_errorf("demo: cannot write '%s': %m", opt.export_path);
            rc = RVMSIM_EXIT_USAGE;
            goto out;
        }
        printf("exported %llu bytes to %s\n",
               (unsigned long long)(sink.count * RVM_WITNESS_RECORD_BYTES), opt.export_path);
    }
    printf("verified: chain of %llu records, %llu checkpoints (HMAC-SHA256 and Ed25519)\n",
           (unsigned long long)sink.count, (unsigned long long)sink.ncheckpoints);
    printf("chain=%s\n", chain_hex);
    printf("seed=%llu records=%llu digest=%s\n", (unsigned long long)opt.seed,
           (unsigned long long)log.appended, digest_hex);
    rc = RVMSIM_EXIT_PASS;

out:
    rvm_memory_sink_free(&sink);
    rvm_ed25519_free(signer);
    free(ring);
    rvm_openssl_crypto_free(oc);
    return rc;
}
