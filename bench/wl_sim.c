/* SPDX-License-Identifier: MIT */
/*
 * Simulator workloads: the engine running the witness target with every oracle on (chain of every
 * drained record, sink count, the target's check, "no witness, no mutation" after every step,
 * liveness phase, seal and full verification of the stored log at the end of each run).
 *
 *   sim_witness_op  simulated operations per second: one iteration is one run of 10,000 random
 *                   operations (default faults), so per-run costs are included but amortised
 *   sim_smoke_seed  one seed of scenarios/smoke.scn with swarm faults: what a sweep does per seed
 *
 * The kernel target (sim/target_kernel/: the whole core on the simulated AArch64 platform):
 *
 *   sim_kernel_op        simulated kernel operations per second with every oracle on: runs of
 *                        10,000 random operations (the smoke workload's mix, default faults)
 *   sim_kernel_op_bare   the same runs with the kernel target's oracles off (`oracles=false`;
 *                        the engine's witness-chain checks stay): what the kernel itself costs
 *   sim_kernel_smoke_seed  one seed of scenarios/kernel-smoke.scn, swarm faults: the unit of
 *                        `make run` and of the 1,000,000-seed target
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

/* The mix of scenarios/kernel-smoke.scn in long runs; %s is `oracles=true` or `oracles=false`. */
static const char kernel_op_text[] =
    "target kernel partitions=8 caps=96 regions=24 channels=6 devices=2 ram_pages=192 ring=32 "
    "checkpoint=64 epoch=50us slice=5us images=2 %s\n"
    "cpus 2\n"
    "random 10000\n"
    "  partition_create 5 actor=none cap=none\n"
    "  partition_start 8 actor=none cap=none\n"
    "  partition_suspend 2 actor=none cap=none\n"
    "  partition_resume 3 actor=none cap=none\n"
    "  partition_checkpoint 2 actor=none cap=none\n"
    "  partition_hibernate 1 actor=none cap=none\n"
    "  partition_reconstruct 2 actor=none cap=none\n"
    "  partition_destroy 1 actor=none cap=none\n"
    "  partition_split 1 actor=none cap=none\n"
    "  partition_merge 1 actor=none cap=none cap2=none\n"
    "  region_create 6 actor=none cap=none perms=0 pages=1..2\n"
    "  region_map 8 cap=none perms=0\n"
    "  region_unmap 2 actor=none cap=none\n"
    "  region_destroy 2 actor=none cap=none\n"
    "  region_share 1 actor=none cap=none\n"
    "  cap_grant 4 actor=none\n"
    "  cap_revoke 2 actor=none\n"
    "  cap_attenuate 1 actor=none\n"
    "  cap_epoch_advance 1 actor=none\n"
    "  cap_epoch_revoke 1 actor=none\n"
    "  channel_create 3 actor=none cap=none\n"
    "  channel_destroy 1 actor=none cap=none\n"
    "  ipc_send 10 actor=none cap=none len=0..32\n"
    "  ipc_receive 6 actor=none cap=none\n"
    "  device_register 1 actor=none\n"
    "  lease_grant 2 actor=none cap=none duration=20us..200us\n"
    "  lease_renew 1 actor=none cap=none\n"
    "  lease_revoke 1 actor=none cap=none\n"
    "  device_irq 2\n"
    "  partition_fault 1\n"
    "  guest_access 12 wild=false\n"
    "  hypercall 3 nr=0..1\n"
    "  schedule 2\n"
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

static void *kernel_op_setup_with(const char *oracles)
{
    static char text[sizeof(kernel_op_text) + 32];
    snprintf(text, sizeof(text), kernel_op_text, oracles);
    return setup_from(text, false, RVM_SIM_FAULTS_DEFAULT);
}

static void *kernel_op_setup(void)
{
    return kernel_op_setup_with("oracles=true");
}

static void *kernel_op_bare_setup(void)
{
    return kernel_op_setup_with("oracles=false");
}

static void *kernel_smoke_setup(void)
{
    return setup_from(RVM_SOURCE_ROOT "/scenarios/kernel-smoke.scn", true, RVM_SIM_FAULTS_SWARM);
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
    {"sim_kernel_op", "op",
     "simulated kernel operation with every oracle on (runs of 10,000 random operations of the "
     "kernel smoke mix, default faults)",
     OPS_PER_RUN, kernel_op_setup, sim_run, sim_teardown},
    {"sim_kernel_op_bare", "op",
     "the same with the kernel target's oracles off: the kernel's own cost in the simulator",
     OPS_PER_RUN, kernel_op_bare_setup, sim_run, sim_teardown},
    {"sim_kernel_smoke_seed", "seed",
     "one seed of scenarios/kernel-smoke.scn, swarm faults (the unit of make run)", 1,
     kernel_smoke_setup, sim_run, sim_teardown},
};

struct bench_group bench_sim_group(void)
{
    struct bench_group g = {workloads, sizeof(workloads) / sizeof(workloads[0])};
    return g;
}
