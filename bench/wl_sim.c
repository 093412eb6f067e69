/* SPDX-License-Identifier: MIT */
/*
 * Simulator workloads: the engine running the witness target with every oracle on (chain of every
 * drained record, sink count, the target's check, "no witness, no mutation" after every step,
 * liveness phase, seal and full verification of the stored log at the end of each run).
 *
 *   sim_witness_op  simulated operations per second: one iteration is one run of 10,000 random
 *                   operations (default faults), so per-run costs are included but amortised
 *   sim_smoke_seed  one seed of scenarios/smoke.scn with swarm faults: what a sweep does per seed
 */
#include "harness.h"

#include "crypto_openssl.h"
#include "engine.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RVM_SOURCE_ROOT
#define RVM_SOURCE_ROOT "."
#endif

#define OPS_PER_RUN 10000u

static const char op_text[] = "target witness ring=16 checkpoint=64 flush_period=50us\n"
                              "cpus 2\n"
                              "random 10000\n"
                              "  append 10\n"
                              "  reject 2\n"
                              "  reserve 2 n=1..4\n"
                              "  flush 1\n"
                              "end\n";

struct sim_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_scenario scn;
    struct rvm_sim *sim;
    enum rvm_sim_fault_mode mode;
    uint64_t seed;
};

static void *setup_from(const char *text, bool from_file, enum rvm_sim_fault_mode mode)
{
    struct sim_ctx *c = calloc(1, sizeof(*c));
    struct rvm_scn_error err;
    char msg[160];
    if (c == NULL || (c->oc = rvm_openssl_crypto_new()) == NULL) {
        free(c);
        return NULL;
    }
    rvm_openssl_crypto_bind(c->oc, &c->crypto);
    bool ok = from_file ? rvm_scenario_load(text, &c->scn, &err)
                        : rvm_scenario_parse("bench.scn", text, strlen(text), &c->scn, &err);
    if (!ok) {
        fprintf(stderr, "rvmbench: %s:%u:%u: %s\n", from_file ? text : "bench.scn", err.line,
                err.col, err.msg);
    } else {
        c->sim = rvm_sim_new(&c->scn, &c->crypto, msg, sizeof(msg));
    }
    if (c->sim == NULL) {
        rvm_scenario_free(&c->scn);
        rvm_openssl_crypto_free(c->oc);
        free(c);
        return NULL;
    }
    c->mode = mode;
    c->seed = 1;
    return c;
}

static void *op_setup(void)
{
    return setup_from(op_text, false, RVM_SIM_FAULTS_DEFAULT);
}

static void *smoke_setup(void)
{
    return setup_from(RVM_SOURCE_ROOT "/scenarios/smoke.scn", true, RVM_SIM_FAULTS_SWARM);
}

static void sim_run(void *ctx, uint64_t iters)
{
    struct sim_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        struct rvm_sim_options opt = {.seed = c->seed++, .faults = c->mode};
        struct rvm_sim_outcome o;
        if (rvm_sim_run(c->sim, &c->scn, &opt, &o) != 0) {
            fprintf(stderr, "rvmbench: seed %llu failed: %s %s\n", (unsigned long long)opt.seed,
                    o.invariant, o.detail);
            abort();
        }
        bench_keep(o.records);
    }
}

static void sim_teardown(void *ctx)
{
    struct sim_ctx *c = ctx;
    rvm_sim_free(c->sim);
    rvm_scenario_free(&c->scn);
    rvm_openssl_crypto_free(c->oc);
    free(c);
}

static const struct bench_workload workloads[] = {
    {"sim_witness_op", "op",
     "simulated witness-target operation with every oracle on (runs of 10,000 random ops, "
     "default faults)",
     OPS_PER_RUN, op_setup, sim_run, sim_teardown},
    {"sim_smoke_seed", "seed", "one seed of scenarios/smoke.scn, swarm faults (a sweep's unit)", 1,
     smoke_setup, sim_run, sim_teardown},
};

struct bench_group bench_sim_group(void)
{
    struct bench_group g = {workloads, sizeof(workloads) / sizeof(workloads[0])};
    return g;
}
