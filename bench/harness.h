/* SPDX-License-Identifier: MIT */
/*
 * The benchmark harness. A workload is a named unit of work with a stated unit; the harness
 * calibrates an iteration count, warms up, takes repeated samples and reports min / median /
 * max nanoseconds per unit, as a table on stdout and as JSON lines.
 *
 * Each subsystem registers its workloads in bench/wl_<area>.c through a function listed in
 * rvmbench.c. In --fixed mode the harness runs each workload a fixed number of iterations with
 * no timing, for instruction counting under callgrind (the CI gate).
 */
#ifndef RVM_BENCH_HARNESS_H
#define RVM_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

struct bench_workload {
    const char *name;        /* stable id, e.g. "witness_append" */
    const char *unit;        /* what one op is, e.g. "record" */
    const char *description; /* one line: what is measured and any RVM counterpart */
    uint64_t ops_per_iter;   /* units of work per iteration */
    void *(*setup)(void);    /* may be NULL; the returned context goes to run/teardown */
    void (*run)(void *ctx, uint64_t iters);
    void (*teardown)(void *ctx); /* may be NULL */
};

struct bench_group {
    const struct bench_workload *workloads;
    size_t count;
};

/* Keep a value alive without letting the compiler see through it. */
#define bench_keep(value) __asm__ volatile("" : : "g"(value) : "memory")
#define bench_clobber()   __asm__ volatile("" : : : "memory")

/* Workload groups; one per bench/wl_<area>.c. */
struct bench_group bench_witness_group(void);
struct bench_group bench_platform_group(void);
struct bench_group bench_coherence_group(void);
struct bench_group bench_cap_group(void);
struct bench_group bench_sim_group(void);
struct bench_group bench_mem_group(void);
struct bench_group bench_sched_group(void);
struct bench_group bench_replay_group(void);
struct bench_group bench_kernel_group(void);

#endif /* RVM_BENCH_HARNESS_H */
