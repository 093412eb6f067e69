/* SPDX-License-Identifier: MIT */
/*
 * Replay store workloads (DESIGN §7: SQLite ingest >= 1 M records/s; first divergence of two
 * 10 M-record runs <= 1 ms; full verify of 10 M records <= 3 s).
 *
 * The databases live in a temporary directory ($TMPDIR, else /tmp) that is removed at exit.
 * The two 10 M-record runs are built once per rvmbench process, by the first workload that
 * needs them, through the same path `rvmsim demo --db` takes (core witness log -> SQLite sink):
 * run 1 is the demo workload of seed 1, run 2 the one of seed 2 sharing run 1's first 7,654,321
 * records, with a checkpoint every 4096 records and a state digest every 65536.
 */
#include "harness.h"

#include "demo.h"
#include "diff.h"
#include "engine.h"
#include "run_keys.h"
#include "run_store.h"
#include "scenario.h"
#include "sink_memory.h"
#include "store.h"
#include "verify.h"

#include "rvm/witness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INGEST_POOL     (1u << 20) /* pre-generated records the ingest workload cycles through */
#define INGEST_DRAIN    256u       /* records per sink call, as the core's ring drains them */
#define BIG_RECORDS     10000000u
#define BIG_DIVERGENCE  7654321u
#define BIG_CHECKPOINTS 4096u

static char tmpdir[512];

static void remove_tmpdir(void)
{
    if (tmpdir[0] == '\0') {
        return;
    }
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "rvmbench: could not remove %s\n", tmpdir);
    }
    tmpdir[0] = '\0';
}

static bool make_path(char *out, size_t cap, const char *name)
{
    if (tmpdir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/rvmbench-replay-XXXXXX",
                 base != NULL && base[0] != '\0' ? base : "/tmp");
        if (mkdtemp(tmpdir) == NULL) {
            tmpdir[0] = '\0';
            return false;
        }
        atexit(remove_tmpdir);
    }
    return (size_t)snprintf(out, cap, "%s/%s", tmpdir, name) < cap;
}

/* ------------------------------------------------------------------------------------------------
 * Ingest: records already produced by the core, into the SQLite sink
 * --------------------------------------------------------------------------------------------- */

struct ingest_ctx {
    struct rvm_store *st;
    struct rvm_memory_sink pool;
};

static void *ingest_setup(void)
{
    struct ingest_ctx *c = calloc(1, sizeof(*c));
    char path[600], err[600];
    if (c == NULL || !make_path(path, sizeof(path), "ingest.db") ||
        rvm_store_open(path, RVM_STORE_WRITE, &c->st, err, sizeof(err)) != RVM_STORE_OK) {
        free(c);
        return NULL;
    }
    struct rvm_demo_params p;
    struct rvm_demo_outcome out;
    rvm_demo_params_default(&p);
    p.records = INGEST_POOL;
    p.checkpoint_interval = 0;
    rvm_memory_sink_init(&c->pool, NULL);
    if (rvm_demo_run(&p, rvm_store_crypto(c->st), &rvm_memory_sink_ops, &c->pool, NULL, UINT64_MAX,
                     &out) != RVM_OK) {
        rvm_memory_sink_free(&c->pool);
        rvm_store_close(c->st);
        free(c);
        return NULL;
    }
    return c;
}

/* One run per call (begin, `iters` records in drain-sized pieces, finish with its commit),
 * starting another run whenever the pre-generated pool is used up. */
static void ingest_run(void *ctx, uint64_t iters)
{
    struct ingest_ctx *c = ctx;
    const struct rvm_store_run_info info = {.source = "bench", .has_seed = true, .seed = 1};
    while (iters != 0) {
        struct rvm_store_writer *w = NULL;
        if (rvm_store_writer_begin(c->st, &info, RVM_STORE_TX_BATCHES, &w) != RVM_STORE_OK) {
            fprintf(stderr, "rvmbench: %s\n", rvm_store_error(c->st));
            exit(6);
        }
        uint64_t n = iters < INGEST_POOL ? iters : INGEST_POOL;
        for (uint64_t seq = 0; seq < n; seq += INGEST_DRAIN) {
            size_t k = n - seq < INGEST_DRAIN ? (size_t)(n - seq) : INGEST_DRAIN;
            if (rvm_store_sink_ops.records(w, seq, c->pool.records + seq * 64, k) != k) {
                fprintf(stderr, "rvmbench: %s\n", rvm_store_error(c->st));
                exit(6);
            }
        }
        if (rvm_store_writer_finish(w, "pass", 0, NULL, NULL) != RVM_STORE_OK) {
            fprintf(stderr, "rvmbench: %s\n", rvm_store_error(c->st));
            exit(6);
        }
        iters -= n;
    }
}

static void ingest_teardown(void *ctx)
{
    struct ingest_ctx *c = ctx;
    rvm_memory_sink_free(&c->pool);
    rvm_store_close(c->st);
    free(c);
}

/* The whole `demo --db` path: core appends, SQLite sink, state digests. */
struct demo_ctx {
    struct rvm_store *st;
};

static void *demo_setup(void)
{
    struct demo_ctx *c = calloc(1, sizeof(*c));
    char path[600], err[600];
    if (c == NULL || !make_path(path, sizeof(path), "demo.db") ||
        rvm_store_open(path, RVM_STORE_WRITE, &c->st, err, sizeof(err)) != RVM_STORE_OK) {
        free(c);
        return NULL;
    }
    return c;
}

static bool demo_state(void *ctx, uint64_t seq, const uint8_t digest[32])
{
    return rvm_store_writer_state(ctx, seq, digest);
}

static void demo_run(void *ctx, uint64_t iters)
{
    struct demo_ctx *c = ctx;
    struct rvm_demo_params p;
    rvm_demo_params_default(&p);
    p.records = iters;
    p.ring = 4096;
    p.checkpoint_interval = BIG_CHECKPOINTS;
    p.epoch = 65536;
    const struct rvm_store_run_info info = {.source = "demo", .has_seed = true, .seed = 1};
    struct rvm_store_writer *w = NULL;
    struct rvm_demo_outcome out;
    if (rvm_store_writer_begin(c->st, &info, RVM_STORE_TX_BATCHES, &w) != RVM_STORE_OK) {
        exit(6);
    }
    const struct rvm_demo_observer obs = {.state = demo_state, .ctx = w};
    if (rvm_demo_run(&p, rvm_store_crypto(c->st), &rvm_store_sink_ops, w, &obs, UINT64_MAX, &out) !=
            RVM_OK ||
        rvm_store_writer_finish(w, "pass", 0, NULL, NULL) != RVM_STORE_OK) {
        fprintf(stderr, "rvmbench: %s: %s\n", out.message, rvm_store_error(c->st));
        exit(6);
    }
}

static void demo_teardown(void *ctx)
{
    struct demo_ctx *c = ctx;
    rvm_store_close(c->st);
    free(c);
}

/* ------------------------------------------------------------------------------------------------
 * Two 10 M-record runs: first divergence and full verify
 * --------------------------------------------------------------------------------------------- */

static char big_path[600];
static bool big_built;

/* Runs 1 and 2: 10 M records diverging at BIG_DIVERGENCE; runs 3 and 4: 1 M records diverging
 * at SMALL_DIVERGENCE. */
#define SMALL_RECORDS    1000000u
#define SMALL_DIVERGENCE 654321u

static bool build_big_run(struct rvm_store *st, uint64_t seed, uint64_t records,
                          uint64_t divergence)
{
    struct rvm_demo_params p;
    rvm_demo_params_default(&p);
    p.records = records;
    p.seed = seed;
    p.ring = 4096;
    p.checkpoint_interval = BIG_CHECKPOINTS;
    p.epoch = 65536;
    p.shared_prefix = divergence;
    p.prefix_seed = 1;
    char options[256];
    rvm_demo_params_format(&p, options, sizeof(options));
    const struct rvm_store_run_info info = {
        .source = "demo", .options = options, .has_seed = true, .seed = seed};
    /* signed like a real demo run, so verify checks the Ed25519 signatures too */
    struct rvm_run_keys keys;
    rvm_run_keys_derive(rvm_store_crypto(st), seed, &keys);
    struct rvm_ed25519_key *signer = rvm_ed25519_from_seed(keys.ed25519_seed);
    struct rvm_store_writer *w = NULL;
    struct rvm_demo_outcome out;
    if (signer == NULL ||
        rvm_store_writer_begin(st, &info, RVM_STORE_TX_BATCHES, &w) != RVM_STORE_OK ||
        !rvm_store_writer_set_signer(w, signer)) {
        rvm_store_writer_discard(w);
        rvm_ed25519_free(signer);
        return false;
    }
    const struct rvm_demo_observer obs = {.state = demo_state, .ctx = w};
    bool ok = rvm_demo_run(&p, rvm_store_crypto(st), &rvm_store_sink_ops, w, &obs, UINT64_MAX,
                           &out) == RVM_OK;
    if (!ok) {
        fprintf(stderr, "rvmbench: building the 10 M-record run failed: %s: %s\n", out.message,
                rvm_store_error(st));
        rvm_store_writer_discard(w);
    } else {
        ok = rvm_store_writer_finish(w, "pass", 0, NULL, NULL) == RVM_STORE_OK;
    }
    rvm_ed25519_free(signer);
    return ok;
}

static bool ensure_big(void)
{
    if (big_built) {
        return true;
    }
    char err[600];
    struct rvm_store *st = NULL;
    if (!make_path(big_path, sizeof(big_path), "big.db") ||
        rvm_store_open(big_path, RVM_STORE_WRITE, &st, err, sizeof(err)) != RVM_STORE_OK) {
        return false;
    }
    fprintf(stderr,
            "rvmbench: building two %u-record and two %u-record runs in %s (set-up, "
            "not timed)\n",
            BIG_RECORDS, SMALL_RECORDS, big_path);
    big_built = build_big_run(st, 1, BIG_RECORDS, BIG_DIVERGENCE) &&
                build_big_run(st, 2, BIG_RECORDS, BIG_DIVERGENCE) &&
                build_big_run(st, 3, SMALL_RECORDS, SMALL_DIVERGENCE) &&
                build_big_run(st, 4, SMALL_RECORDS, SMALL_DIVERGENCE);
    rvm_store_close(st);
    return big_built;
}

struct big_ctx {
    struct rvm_store *st;
};

static void *big_setup(void)
{
    struct big_ctx *c = calloc(1, sizeof(*c));
    char err[600];
    if (c == NULL || !ensure_big() ||
        rvm_store_open(big_path, RVM_STORE_READ, &c->st, err, sizeof(err)) != RVM_STORE_OK) {
        free(c);
        return NULL;
    }
    return c;
}

static void big_teardown(void *ctx)
{
    struct big_ctx *c = ctx;
    rvm_store_close(c->st);
    free(c);
}

static void diff_pair(struct rvm_store *st, int64_t run_a, int64_t run_b, uint64_t records,
                      uint64_t divergence)
{
    struct rvm_diff_side a = {st, run_a, records}, b = {st, run_b, records};
    struct rvm_diff_result res;
    char err[512];
    if (rvm_diff_first_divergence(&a, &b, &res, err, sizeof(err)) != RVM_DIFF_OK || res.identical ||
        res.first != divergence) {
        fprintf(stderr, "rvmbench: diff gave the wrong answer (%s)\n", err);
        exit(6);
    }
}

static void diff_once(struct rvm_store *st)
{
    diff_pair(st, 1, 2, BIG_RECORDS, BIG_DIVERGENCE);
}

/* Bisection on an open handle inside a read transaction, as `rvmsim diff` runs it. */
static void diff_run(void *ctx, uint64_t iters)
{
    struct big_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        if (rvm_store_read_begin(c->st) != RVM_STORE_OK) {
            exit(6);
        }
        diff_once(c->st);
        rvm_store_read_end(c->st);
    }
}

static void diff_1m_run(void *ctx, uint64_t iters)
{
    struct big_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        if (rvm_store_read_begin(c->st) != RVM_STORE_OK) {
            exit(6);
        }
        diff_pair(c->st, 3, 4, SMALL_RECORDS, SMALL_DIVERGENCE);
        rvm_store_read_end(c->st);
    }
}

/* The same from a freshly opened connection each time (empty SQLite page cache): what one
 * `rvmsim diff` invocation pays, minus process start-up and printing. */
static void diff_cold_run(void *ctx, uint64_t iters)
{
    (void)ctx;
    char err[600];
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_store *st = NULL;
        if (rvm_store_open(big_path, RVM_STORE_READ, &st, err, sizeof(err)) != RVM_STORE_OK ||
            rvm_store_read_begin(st) != RVM_STORE_OK) {
            exit(6);
        }
        diff_once(st);
        rvm_store_read_end(st);
        rvm_store_close(st);
    }
}

static void verify_with(void *ctx, uint64_t iters, unsigned jobs)
{
    struct big_ctx *c = ctx;
    struct rvm_verify_options opt = {.jobs = jobs};
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_verify_report rep;
        rvm_verify_run(c->st, 1, &opt, &rep);
        if (rep.verdict != RVM_VERIFY_OK || rep.records != BIG_RECORDS) {
            fprintf(stderr, "rvmbench: verify failed: %s\n", rep.reason);
            exit(6);
        }
    }
}

static void verify_run(void *ctx, uint64_t iters)
{
    verify_with(ctx, iters, 0);
}

static void verify1_run(void *ctx, uint64_t iters)
{
    verify_with(ctx, iters, 1);
}

/* ------------------------------------------------------------------------------------------------
 * The simulator's runs in the store (sim/run_store_replay.c): what --db adds to a sweep
 * --------------------------------------------------------------------------------------------- */

struct simdb_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_scenario scn;
    char *text;
    struct rvm_sim *sim;
    struct rvm_run_sink sink;
    struct rvm_sim_outcome o; /* a smoke seed's outcome, stored again and again (summaries) */
    uint64_t seed;
};

static void simdb_teardown(void *ctx)
{
    struct simdb_ctx *c = ctx;
    if (c->sink.ops != NULL) {
        rvm_run_sink_close(&c->sink);
    }
    rvm_sim_free(c->sim);
    rvm_scenario_free(&c->scn);
    free(c->text);
    rvm_openssl_crypto_free(c->oc);
    free(c);
}

static void *simdb_setup_named(const char *name)
{
    struct simdb_ctx *c = calloc(1, sizeof(*c));
    char path[600], err[600];
    const char *file = RVM_SOURCE_ROOT "/scenarios/smoke.scn";
    FILE *f = fopen(file, "rb");
    if (c == NULL || f == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        free(c);
        return NULL;
    }
    c->text = calloc(1, 1u << 16);
    size_t len = c->text != NULL ? fread(c->text, 1, (1u << 16) - 1, f) : 0;
    fclose(f);
    struct rvm_scn_error perr;
    c->oc = rvm_openssl_crypto_new();
    if (c->oc == NULL || len == 0 || !rvm_scenario_parse(file, c->text, len, &c->scn, &perr)) {
        free(c->text);
        rvm_openssl_crypto_free(c->oc);
        free(c);
        return NULL;
    }
    rvm_openssl_crypto_bind(c->oc, &c->crypto);
    c->sim = rvm_sim_new(&c->scn, &c->crypto, err, sizeof(err));
    if (c->sim == NULL || !make_path(path, sizeof(path), name) ||
        !rvm_run_sink_open(&c->sink, path, err, sizeof(err))) {
        simdb_teardown(c);
        return NULL;
    }
    struct rvm_sim_options opt = {.seed = 5, .faults = RVM_SIM_FAULTS_SWARM};
    rvm_sim_run(c->sim, &c->scn, &opt, &c->o);
    c->seed = 1;
    return c;
}

static void *simdb_summary_setup(void)
{
    return simdb_setup_named("sim-summary.db");
}

static void *simdb_full_setup(void)
{
    return simdb_setup_named("sim-full.db");
}

static struct rvm_run_info simdb_info(struct simdb_ctx *c, const char *source)
{
    return (struct rvm_run_info){.source = source,
                                 .scenario_path = "scenarios/smoke.scn",
                                 .scenario_text = c->text,
                                 .target = c->scn.target,
                                 .seed = c->seed++,
                                 .faults = RVM_SIM_FAULTS_SWARM,
                                 .nwnm_every = 1,
                                 .epoch = RVM_RUN_DEFAULT_EPOCH,
                                 .origin = "sweep"};
}

/* One summary row as a sweep's parent stores it for a passing seed (batched transactions). */
static void simdb_summary_run(void *ctx, uint64_t iters)
{
    struct simdb_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_run_info info = simdb_info(c, "sweep");
        uint64_t id;
        if (!rvm_run_store(&c->sink, &info, &c->o, NULL, false, &id)) {
            fprintf(stderr, "rvmbench: %s\n", c->sink.ops->error(c->sink.ctx));
            exit(6);
        }
    }
    (void)c->sink.ops->commit(c->sink.ctx);
}

/* One smoke seed run with state digests and stored in full (`rvmsim run --db` minus the
 * process): engine, records, Ed25519-signed checkpoints, states, faults, one transaction. */
static void simdb_full_run(void *ctx, uint64_t iters)
{
    struct simdb_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_run_info info = simdb_info(c, "run");
        struct rvm_sim_options opt = {.seed = info.seed,
                                      .faults = RVM_SIM_FAULTS_SWARM,
                                      .states = true,
                                      .epoch = RVM_RUN_DEFAULT_EPOCH};
        struct rvm_sim_outcome o;
        rvm_sim_run(c->sim, &c->scn, &opt, &o);
        uint64_t id;
        if (!rvm_run_store(&c->sink, &info, &o, c->sim, true, &id)) {
            fprintf(stderr, "rvmbench: %s\n", c->sink.ops->error(c->sink.ctx));
            exit(6);
        }
    }
}

static const struct bench_workload replay_workloads[] = {
    {"replay_sim_summary", "run",
     "one sweep summary row (a passing smoke seed) into the replay store, batched transactions: "
     "what `sweep --db` adds per passing seed, in the parent",
     1, simdb_summary_setup, simdb_summary_run, simdb_teardown},
    {"replay_sim_full", "run",
     "one smoke seed (swarm) run and stored in full: records, Ed25519-signed checkpoints, state "
     "digests every 64 records, faults; one transaction (`rvmsim run --db` without the process)",
     1, simdb_full_setup, simdb_full_run, simdb_teardown},
    {"replay_ingest", "record",
     "SQLite sink ingest of core-produced records in drain-sized calls (chain value computed, "
     "batched INSERT, one run and its commits per sample); DESIGN target >= 1 M records/s",
     1, ingest_setup, ingest_run, ingest_teardown},
    {"replay_demo_db", "record",
     "rvmsim demo --db end to end: core append, SQLite sink, checkpoint every 4096 (Ed25519 "
     "unsigned here), state digest every 65536",
     1, demo_setup, demo_run, demo_teardown},
    {"replay_diff_1M", "diff",
     "first divergence of two 1 M-record runs (at seq 654321) by bisection, open handle", 1,
     big_setup, diff_1m_run, big_teardown},
    {"replay_diff_10M", "diff",
     "first divergence of two 10 M-record runs (at seq 7654321) by bisection, open handle, one "
     "read transaction; DESIGN target <= 1 ms",
     1, big_setup, diff_run, big_teardown},
    {"replay_diff_10M_cold", "diff",
     "the same from a newly opened store each time (open, schema check, bisection, close)", 1,
     big_setup, diff_cold_run, big_teardown},
    {"replay_verify_10M", "record",
     "full verify of a 10 M-record run (chain, stored chain values and columns, 2442 HMAC and "
     "Ed25519 checkpoints, digest), one thread per CPU; DESIGN target <= 3 s per run",
     BIG_RECORDS, big_setup, verify_run, big_teardown},
    {"replay_verify_10M_1job", "record", "replay_verify_10M on one thread", BIG_RECORDS, big_setup,
     verify1_run, big_teardown},
};

struct bench_group bench_replay_group(void)
{
    struct bench_group g = {replay_workloads,
                            sizeof(replay_workloads) / sizeof(replay_workloads[0])};
    return g;
}
