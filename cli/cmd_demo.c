/* SPDX-License-Identifier: MIT */
/*
 * rvmsim demo: the foundation's end-to-end path. Appends seeded pseudo-random witness records
 * (sim/demo.c) through the core's witness log on the simulated HAL and drains them to its
 * sinks: memory (verified here with chain, HMAC and Ed25519 checks), the SQLite replay store
 * (--db, verified there by the store's own verifier) and a serial capture (--serial), all
 * through one tee so each sees every record exactly once. Prints the log digest; with --export
 * the raw records are written so that `sha256sum FILE` prints the same digest.
 */
#include "build_version.h"
#include "commands.h"
#include "crypto_openssl.h"
#include "demo.h"
#include "hal_sim.h"
#include "options.h"
#include "run_keys.h"
#include "serial_sink.h"
#include "sink_memory.h"
#include "sink_tee.h"
#include "store.h"
#include "util.h"
#include "verify.h"

#include "rvm/crypto_portable.h"
#include "rvm/witness.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct demo_options {
    struct rvm_demo_params params;
    const char *export_path;
    const char *db_path;
    const char *serial_path;
};

static void demo_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim demo [--records N] [--seed N] [--checkpoint-interval K] [--ring N]\n"
            "                   [--crypto openssl|portable] [--export FILE] [--db PATH]\n"
            "                   [--serial FILE] [--epoch N] [--shared-prefix N --prefix-seed S]\n\n"
            "Appends N seeded pseudo-random witness records (default 1000, seed 1), signs a\n"
            "checkpoint every K records (default 256) and at the end, verifies the stored log and\n"
            "prints its digest. --export writes the raw 64-byte records: `sha256sum FILE` equals\n"
            "the digest. --ring sets the in-core ring capacity (power of two, default 256).\n"
            "--db stores the run in a replay store (created if needed) with a state digest every\n"
            "--epoch records (default 256); --serial writes the witness stream in the serial\n"
            "framing the hardware builds print. --shared-prefix N --prefix-seed S draws the first\n"
            "N records from seed S's stream, so runs of different seeds share a prefix.\n");
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
        {"db", required_argument, NULL, 'd'},
        {"serial", required_argument, NULL, 'S'},
        {"epoch", required_argument, NULL, 'e'},
        {"shared-prefix", required_argument, NULL, 'p'},
        {"prefix-seed", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rvm_demo_params *p = &o->params;
    memset(o, 0, sizeof(*o));
    rvm_demo_params_default(p);
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "n:s:k:r:c:o:d:S:e:p:P:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'n':
            if (!rvm_parse_u64(optarg, &p->records) || p->records == 0 ||
                p->records > RVM_DEMO_MAX_RECORDS) {
                rvm_errorf("demo: --records must be 1..%u, got '%s'", RVM_DEMO_MAX_RECORDS, optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 's':
            if (!cli_option_u64("demo", "seed", optarg, &p->seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'k':
            if (!rvm_parse_u64(optarg, &p->checkpoint_interval)) {
                rvm_errorf("demo: --checkpoint-interval must be an integer, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'r':
            if (!rvm_parse_u64(optarg, &p->ring) || p->ring < 2 || p->ring > RVM_DEMO_MAX_RING ||
                (p->ring & (p->ring - 1)) != 0) {
                rvm_errorf("demo: --ring must be a power of two in 2..%u, got '%s'",
                           RVM_DEMO_MAX_RING, optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'c':
            if (strcmp(optarg, "openssl") == 0) {
                p->portable = false;
            } else if (strcmp(optarg, "portable") == 0) {
                p->portable = true;
            } else {
                rvm_errorf("demo: --crypto must be 'openssl' or 'portable', got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'o':
            o->export_path = optarg;
            break;
        case 'd':
            o->db_path = optarg;
            break;
        case 'S':
            o->serial_path = optarg;
            break;
        case 'e':
            if (!rvm_parse_u64(optarg, &p->epoch) || p->epoch == 0) {
                rvm_errorf("demo: --epoch must be a positive integer, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'p':
            if (!cli_option_u64("demo", "shared-prefix", optarg, &p->shared_prefix)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'P':
            if (!cli_option_u64("demo", "prefix-seed", optarg, &p->prefix_seed)) {
                return RVMSIM_EXIT_USAGE;
            }
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

/* Re-verifies what the memory sink stored, as an independent reader of the stored bytes would. */
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

static bool store_state(void *ctx, uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    return rvm_store_writer_state(ctx, seq, digest);
}

/* argv joined with spaces, for the run's `command` column. */
static char *join_command(int argc, char **argv)
{
    size_t len = sizeof("rvmsim");
    for (int i = 0; i < argc; i++) {
        len += strlen(argv[i]) + 1;
    }
    char *s = malloc(len);
    if (s == NULL) {
        return NULL;
    }
    strcpy(s, "rvmsim");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

struct demo_run {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_run_keys keys;
    struct rvm_ed25519_key *signer;
    struct rvm_tee_sink tee;
    bool use_memory;
    struct rvm_memory_sink memory;
    struct rvm_store *store;
    struct rvm_store_writer *writer;
    FILE *serial_file;
    struct rvm_serial_sink serial;
    char options[256];
    char *command;
};

static int attach_sinks(struct demo_run *d, const struct demo_options *opt, int argc, char **argv)
{
    const struct rvm_demo_params *p = &opt->params;
    rvm_tee_sink_init(&d->tee);
    if (d->use_memory) {
        rvm_memory_sink_init(&d->memory, d->signer);
        rvm_tee_sink_add(&d->tee, &rvm_memory_sink_ops, &d->memory);
    }
    if (!rvm_demo_params_format(p, d->options, sizeof(d->options))) {
        rvm_errorf("demo: options text too long");
        return RVMSIM_EXIT_INTERNAL;
    }
    if (opt->db_path != NULL) {
        char err[600];
        if (rvm_store_open(opt->db_path, RVM_STORE_WRITE, &d->store, err, sizeof(err)) !=
            RVM_STORE_OK) {
            rvm_errorf("demo: %s", err);
            return RVMSIM_EXIT_USAGE;
        }
        d->command = join_command(argc, argv);
        const struct rvm_store_run_info info = {
            .source = "demo",
            .key_source = "seed",
            .command = d->command,
            .options = d->options,
            .platform = "sim",
            .has_seed = true,
            .seed = p->seed,
        };
        if (rvm_store_writer_begin(d->store, &info, RVM_STORE_TX_BATCHES, &d->writer) !=
                RVM_STORE_OK ||
            !rvm_store_writer_set_signer(d->writer, d->signer)) {
            rvm_errorf("demo: %s", rvm_store_error(d->store));
            return RVMSIM_EXIT_INTERNAL;
        }
        rvm_tee_sink_add(&d->tee, &rvm_store_sink_ops, d->writer);
    }
    if (opt->serial_path != NULL) {
        d->serial_file = fopen(opt->serial_path, "w");
        if (d->serial_file == NULL) {
            rvm_errorf("demo: cannot write '%s': %m", opt->serial_path);
            return RVMSIM_EXIT_USAGE;
        }
        char seed[24];
        snprintf(seed, sizeof(seed), "%llu", (unsigned long long)p->seed);
        const struct rvm_wire_field fields[] = {
            {"platform", "sim"},       {"source", "demo"},      {"seed", seed},
            {"build", RVMSIM_VERSION}, {"options", d->options},
        };
        /* Console text ahead of the frames, as a real UART capture has (boot messages). */
        fprintf(d->serial_file, "rvmsim demo: seed %s, witness frames follow\n", seed);
        if (!rvm_serial_sink_open(&d->serial, d->serial_file, fields,
                                  sizeof(fields) / sizeof(fields[0]), d->signer)) {
            rvm_errorf("demo: cannot write '%s'", opt->serial_path);
            return RVMSIM_EXIT_USAGE;
        }
        rvm_tee_sink_add(&d->tee, &rvm_serial_sink_ops, &d->serial);
    }
    return RVMSIM_EXIT_PASS;
}

/* Verify the stored run with the replay store's own verifier, as `rvmsim verify` would. */
static int verify_stored(struct demo_run *d, int64_t run, uint64_t *checkpoints)
{
    struct rvm_verify_options vopt = {0};
    struct rvm_verify_report rep;
    rvm_verify_run(d->store, run, &vopt, &rep);
    if (rep.verdict != RVM_VERIFY_OK) {
        rvm_errorf("demo: stored run %lld fails verification%s%llu: %s", (long long)run,
                   rep.has_seq ? " at seq " : "", rep.has_seq ? (unsigned long long)rep.seq : 0ull,
                   rep.reason);
        return RVMSIM_EXIT_EXPECTATION;
    }
    *checkpoints = rep.checkpoints;
    return RVMSIM_EXIT_PASS;
}

int rvmsim_cmd_demo(int argc, char **argv)
{
    struct demo_options opt;
    int rc = parse_demo_options(argc, argv, &opt);
    if (rc != RVMSIM_EXIT_PASS) {
        return rc < 0 ? RVMSIM_EXIT_PASS : rc;
    }
    const struct rvm_demo_params *p = &opt.params;

    struct demo_run d;
    memset(&d, 0, sizeof(d));
    d.use_memory = opt.db_path == NULL || opt.export_path != NULL;
    d.oc = rvm_openssl_crypto_new();
    if (d.oc == NULL) {
        rvm_errorf("demo: OpenSSL could not provide SHA-256/HMAC");
        return RVMSIM_EXIT_INTERNAL;
    }
    if (p->portable) {
        rvm_crypto_portable(&d.crypto);
    } else {
        rvm_openssl_crypto_bind(d.oc, &d.crypto);
    }
    rvm_run_keys_derive(&d.crypto, p->seed, &d.keys);
    d.signer = rvm_ed25519_from_seed(d.keys.ed25519_seed);
    rc = RVMSIM_EXIT_INTERNAL;
    if (d.signer == NULL) {
        rvm_errorf("demo: set-up failed");
        goto out;
    }
    rc = attach_sinks(&d, &opt, argc, argv);
    if (rc != RVMSIM_EXIT_PASS) {
        goto out;
    }

    const struct rvm_demo_observer states = {.state = store_state, .ctx = d.writer};
    struct rvm_demo_outcome outcome;
    enum rvm_err err = rvm_demo_run(p, &d.crypto, &rvm_tee_sink_ops, &d.tee,
                                    d.writer != NULL ? &states : NULL, UINT64_MAX, &outcome);
    if (err != RVM_OK) {
        rvm_errorf("demo: %s%s%s", outcome.message, d.store != NULL ? ": " : "",
                   d.store != NULL ? rvm_store_error(d.store) : "");
        rc = RVMSIM_EXIT_INTERNAL;
        goto out;
    }
    if (d.use_memory && (d.memory.count != p->records || d.memory.out_of_order)) {
        rvm_errorf("demo: draining the log failed");
        rc = RVMSIM_EXIT_INTERNAL;
        goto out;
    }
    if (d.use_memory) {
        rc = demo_verify(&d.crypto, &d.keys, d.signer, &d.memory);
        if (rc != RVMSIM_EXIT_PASS) {
            goto out;
        }
    }

    uint64_t checkpoints = d.use_memory ? d.memory.ncheckpoints : 0;
    char digest_hex[65], chain_hex[65];
    rvm_hex(outcome.digest, sizeof(outcome.digest), digest_hex);
    rvm_hex(outcome.chain, sizeof(outcome.chain), chain_hex);

    if (d.serial_file != NULL) {
        bool ok = rvm_serial_sink_end(&d.serial, outcome.records, outcome.digest);
        fprintf(d.serial_file, "rvmsim demo: done\n");
        ok = fclose(d.serial_file) == 0 && ok;
        d.serial_file = NULL;
        if (!ok) {
            rvm_errorf("demo: writing '%s' failed", opt.serial_path);
            rc = RVMSIM_EXIT_INTERNAL;
            goto out;
        }
        printf("serial capture of %llu records written to %s\n",
               (unsigned long long)outcome.records, opt.serial_path);
    }
    if (d.writer != NULL) {
        int64_t run = rvm_store_writer_run(d.writer);
        uint8_t stored_digest[RVM_SHA256_DIGEST_BYTES];
        enum rvm_store_status s =
            rvm_store_writer_finish(d.writer, "pass", RVMSIM_EXIT_PASS, stored_digest, NULL);
        d.writer = NULL;
        if (s != RVM_STORE_OK) {
            rvm_errorf("demo: storing the run failed: %s", rvm_store_error(d.store));
            rc = RVMSIM_EXIT_INTERNAL;
            goto out;
        }
        if (memcmp(stored_digest, outcome.digest, sizeof(stored_digest)) != 0) {
            rvm_errorf("demo: the store computed another digest than the core");
            rc = RVMSIM_EXIT_INTERNAL;
            goto out;
        }
        rc = verify_stored(&d, run, &checkpoints);
        if (rc != RVMSIM_EXIT_PASS) {
            goto out;
        }
        printf("stored run %lld in %s (verified)\n", (long long)run, opt.db_path);
    }
    if (opt.export_path != NULL) {
        if (!rvm_write_file(opt.export_path, d.memory.records,
                            d.memory.count * RVM_WITNESS_RECORD_BYTES)) {
            rvm_errorf("demo: cannot write '%s': %m", opt.export_path);
            rc = RVMSIM_EXIT_USAGE;
            goto out;
        }
        printf("exported %llu bytes to %s\n",
               (unsigned long long)(d.memory.count * RVM_WITNESS_RECORD_BYTES), opt.export_path);
    }
    printf("verified: chain of %llu records, %llu checkpoints (HMAC-SHA256 and Ed25519)\n",
           (unsigned long long)outcome.records, (unsigned long long)checkpoints);
    printf("chain=%s\n", chain_hex);
    printf("seed=%llu records=%llu digest=%s\n", (unsigned long long)p->seed,
           (unsigned long long)outcome.records, digest_hex);
    rc = RVMSIM_EXIT_PASS;

out:
    if (d.writer != NULL) {
        rvm_store_writer_discard(d.writer);
    }
    if (d.serial_file != NULL) {
        fclose(d.serial_file);
    }
    rvm_store_close(d.store);
    free(d.command);
    if (d.use_memory) {
        rvm_memory_sink_free(&d.memory);
    }
    rvm_ed25519_free(d.signer);
    rvm_openssl_crypto_free(d.oc);
    return rc;
}
