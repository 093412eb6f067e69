/* SPDX-License-Identifier: MIT */
/*
 * Scheduler workloads. The first two re-create RVM's criterion benches
 * (crates/rvm/benches/benches/rvm_bench.rs, bench_partition_switch) one iteration for one
 * iteration, on a scheduler configured like RVM's Scheduler<4, 256> with 32-entry run queues:
 *
 *   partition_switch                enqueue(cpu 0, p1, urgency 100, pressure 0),
 *                                   enqueue(cpu 0, p2, urgency 200, pressure 0), switch, switch
 *   partition_switch_with_pressure  for i in 0..8: enqueue(cpu 0, p(i+1), urgency 25 i,
 *                                   pressure 1000 i bp); then 8 switches
 *
 * RVM's switch_next is the scheduler decision only (its register switch is a stub), so these are
 * too. partition_switch_full adds what RVM leaves out: a VMID activation (a hit) through the HAL
 * and the full register-file save / restore / sanitise of rvm_vcpu_switch, per switch.
 */
#include "harness.h"

#include "common.h"

#include "crypto_openssl.h"
#include "hal_sim.h"

#include "rvm/crypto_portable.h"
#include "rvm/sched.h"
#include "rvm/vcpu.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

#include <stdlib.h>
#include <string.h>

#define BENCH_CPUS       4u
#define BENCH_PARTITIONS 256u
#define BENCH_QUEUE      32u
#define BENCH_RING       64u

static enum rvm_err stub_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    (void)ctx, (void)cpu, (void)part, (void)vmid;
    return RVM_OK;
}

struct sched_ctx {
    struct rvm_crypto crypto;
    struct rvm_sim_hal sim;
    struct rvm_hal_ops ops;
    struct rvm_witness_log log;
    uint8_t ring[BENCH_RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_sched sched;
    struct rvm_sched_part parts[BENCH_PARTITIONS];
    uint64_t queue_keys[BENCH_CPUS * BENCH_QUEUE];
    rvm_partition_id queue_ids[BENCH_CPUS * BENCH_QUEUE];
    struct rvm_vmid_table vmids;
    struct rvm_vmid_binding bindings[BENCH_PARTITIONS];
    struct rvm_vcpu_cpu cpu0;
    struct rvm_vcpu_ctx ctx[3];
};

static void *sched_setup(void)
{
    struct sched_ctx *c = aligned_alloc(64, (sizeof(struct sched_ctx) + 63u) & ~(size_t)63u);
    if (c == NULL) {
        return NULL;
    }
    memset(c, 0, sizeof(*c));
    rvm_crypto_portable(&c->crypto);
    rvm_sim_hal_init(&c->sim, &c->crypto);
    rvm_sim_hal_set_sink(&c->sim, &bench_null_sink, NULL);
    c->ops = *c->sim.hal.ops;
    c->ops.s2_activate = stub_s2_activate;
    c->sim.hal.ops = &c->ops;
    struct rvm_witness_config wcfg = {.ring = c->ring, .ring_capacity = BENCH_RING};
    struct rvm_sched_config scfg = {.ncpus = BENCH_CPUS,
                                    .online_mask = (1u << BENCH_CPUS) - 1u,
                                    .max_partitions = BENCH_PARTITIONS,
                                    .parts = c->parts,
                                    .queue_capacity = BENCH_QUEUE,
                                    .queue_keys = c->queue_keys,
                                    .queue_ids = c->queue_ids,
                                    .mode = RVM_SCHED_FLOW};
    struct rvm_vmid_config vcfg = {.nvmids = RVM_VMID_HW_MAX,
                                   .ncpus = BENCH_CPUS,
                                   .max_partitions = BENCH_PARTITIONS,
                                   .bindings = c->bindings};
    if (rvm_witness_init(&c->log, &c->sim.hal, &wcfg) != RVM_OK ||
        rvm_sched_init(&c->sched, &c->log, &scfg) != RVM_OK ||
        rvm_vmid_init(&c->vmids, &c->log, &vcfg) != RVM_OK ||
        rvm_vcpu_cpu_init(&c->cpu0, RVM_VCPU_AARCH64) != RVM_OK ||
        rvm_vcpu_init(&c->ctx[1], RVM_VCPU_AARCH64, 1, 0x40000000u, NULL, 0) != RVM_OK ||
        rvm_vcpu_init(&c->ctx[2], RVM_VCPU_AARCH64, 2, 0x80000000u, NULL, 0) != RVM_OK) {
        free(c);
        return NULL;
    }
    return c;
}

static void sched_teardown(void *ctx)
{
    free(ctx);
}

static void switch_run(void *ctx, uint64_t iters)
{
    struct sched_ctx *c = ctx;
    struct rvm_sched *s = &c->sched;
    struct rvm_sched_switch r1;
    struct rvm_sched_switch r2;
    for (uint64_t i = 0; i < iters; i++) {
        if ((rvm_sched_enqueue_on(s, 0, 1, 100, 0) | rvm_sched_enqueue_on(s, 0, 2, 200, 0) |
             rvm_sched_switch_next(s, 0, &r1) | rvm_sched_switch_next(s, 0, &r2)) != RVM_OK) {
            abort();
        }
        bench_keep(r1.next);
        bench_keep(r2.next);
    }
}

static void pressure_run(void *ctx, uint64_t iters)
{
    struct sched_ctx *c = ctx;
    struct rvm_sched *s = &c->sched;
    for (uint64_t it = 0; it < iters; it++) {
        enum rvm_err err = RVM_OK;
        for (uint32_t i = 0; i < 8u; i++) {
            err |= rvm_sched_enqueue_on(s, 0, i + 1u, (uint16_t)(i * 25u), i * 1000u);
        }
        for (uint32_t i = 0; i < 8u; i++) {
            struct rvm_sched_switch r;
            err |= rvm_sched_switch_next(s, 0, &r);
            bench_keep(r.next);
        }
        if (err != RVM_OK) {
            abort();
        }
    }
}

/*
 * RVM's work and no more, in C: the same two benches on a bare per-CPU binary max-heap of
 * (priority, partition) entries. Enqueue computes the priority (urgency plus a clamped pressure
 * boost), appends and sifts up; a switch takes the root, moves the last entry to the root, sifts
 * down and records the CPU's current partition. Nothing is kept per partition, so there is no FIFO
 * order among equal priorities, no update in place of a queued partition (a second enqueue makes a
 * duplicate entry), no queued/running state, affinity or online check, and no refusal record.
 * It is what partition_switch and _with_pressure would cost without those, measured in the same
 * build: the ratio to it is the price of the semantics RVM leaves out.
 */
struct bare_entry {
    uint32_t prio;
    uint32_t id;
};

struct bare_sched {
    struct bare_entry queue[BENCH_CPUS][BENCH_QUEUE];
    uint32_t len[BENCH_CPUS];
    uint32_t current[BENCH_CPUS];
    uint32_t switches;
};

static bool bare_enqueue(struct bare_sched *b, uint32_t cpu, uint32_t id, uint16_t urgency,
                         uint32_t pressure_bp)
{
    if (cpu >= BENCH_CPUS || id == 0 || b->len[cpu] >= BENCH_QUEUE) {
        return false;
    }
    struct bare_entry *q = b->queue[cpu];
    const uint32_t boost = pressure_bp > 0xFFFFu ? 0xFFFFu : pressure_bp;
    const struct bare_entry e = {urgency + boost, id};
    uint32_t i = b->len[cpu]++;
    while (i > 0 && q[(i - 1u) / 2u].prio < e.prio) { /* bound: log2(BENCH_QUEUE) levels */
        q[i] = q[(i - 1u) / 2u];
        i = (i - 1u) / 2u;
    }
    q[i] = e;
    return true;
}

static uint32_t bare_switch(struct bare_sched *b, uint32_t cpu)
{
    if (cpu >= BENCH_CPUS || b->len[cpu] == 0) {
        return 0;
    }
    struct bare_entry *q = b->queue[cpu];
    const uint32_t next = q[0].id;
    const uint32_t len = --b->len[cpu];
    const struct bare_entry last = q[len];
    uint32_t i = 0;
    for (;;) { /* bound: log2(BENCH_QUEUE) levels */
        uint32_t c = 2u * i + 1u;
        if (c >= len) {
            break;
        }
        if (c + 1u < len && q[c + 1u].prio > q[c].prio) {
            c++;
        }
        if (q[c].prio <= last.prio) {
            break;
        }
        q[i] = q[c];
        i = c;
    }
    q[i] = last;
    b->current[cpu] = next;
    b->switches++;
    return next;
}

static void *bare_setup(void)
{
    return calloc(1, sizeof(struct bare_sched));
}

static void bare_switch_run(void *ctx, uint64_t iters)
{
    struct bare_sched *b = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t cpu = 0;
        bench_clobber();
        const bool first = bare_enqueue(b, cpu, 1, 100, 0);
        const bool second = bare_enqueue(b, cpu, 2, 200, 0);
        if (!first || !second) {
            abort();
        }
        bench_keep(bare_switch(b, cpu));
        bench_keep(bare_switch(b, cpu));
    }
}

static void bare_pressure_run(void *ctx, uint64_t iters)
{
    struct bare_sched *b = ctx;
    for (uint64_t it = 0; it < iters; it++) {
        bool ok = true;
        bench_clobber();
        for (uint32_t i = 0; i < 8u; i++) {
            ok &= bare_enqueue(b, 0, i + 1u, (uint16_t)(i * 25u), i * 1000u);
        }
        for (uint32_t i = 0; i < 8u; i++) {
            bench_keep(bare_switch(b, 0));
        }
        if (!ok) {
            abort();
        }
    }
}

/* The scheduler decision, then the context switch it implies (prepare / vcpu switch / commit). */
static void full_run(void *ctx, uint64_t iters)
{
    struct sched_ctx *c = ctx;
    struct rvm_sched *s = &c->sched;
    for (uint64_t it = 0; it < iters; it++) {
        enum rvm_err err =
            rvm_sched_enqueue_on(s, 0, 1, 100, 0) | rvm_sched_enqueue_on(s, 0, 2, 200, 0);
        for (uint32_t k = 0; k < 2u; k++) {
            struct rvm_sched_switch plan;
            err |= rvm_sched_prepare_switch(s, 0, &plan);
            /* The context the CPU frame holds (the scheduler's prev may have gone idle). */
            struct rvm_vcpu_ctx *from = c->cpu0.loaded != 0 ? &c->ctx[c->cpu0.loaded] : NULL;
            err |= rvm_vcpu_switch(&c->cpu0, &c->vmids, 0, from, &c->ctx[plan.next], NULL, 0, NULL);
            rvm_sched_commit_switch(s, &plan);
        }
        if (err != RVM_OK) {
            abort();
        }
        bench_keep(c->cpu0.frame.pc);
    }
}

static const struct bench_workload sched_workloads[] = {
    {"partition_switch", "iteration",
     "2 enqueues + 2 switch decisions on CPU 0 (RVM partition_switch: 19.7 ns, AMD EPYC "
     "2026-12-07)",
     1, sched_setup, switch_run, sched_teardown},
    {"partition_switch_with_pressure", "iteration",
     "8 enqueues with urgency 25i, pressure 1000i bp + 8 switch decisions (RVM: 134 ns, AMD "
     "EPYC 2026-12-07)",
     1, sched_setup, pressure_run, sched_teardown},
    {"rvm_work_partition_switch", "iteration",
     "partition_switch's calls on a bare heap doing only what RVM's scheduler does (no "
     "per-partition "
     "state): the price of our semantics is the ratio to it",
     1, bare_setup, bare_switch_run, free},
    {"rvm_work_partition_switch_with_pressure", "iteration",
     "partition_switch_with_pressure's calls on the same bare heap", 1, bare_setup,
     bare_pressure_run, free},
    {"partition_switch_full", "iteration",
     "partition_switch plus, per switch, VMID activation (hit) and register save/restore/sanitise "
     "(no RVM counterpart: RVM's register switch is a stub)",
     1, sched_setup, full_run, sched_teardown},
};

struct bench_group bench_sched_group(void)
{
    struct bench_group g = {sched_workloads, sizeof(sched_workloads) / sizeof(sched_workloads[0])};
    return g;
}
