/* SPDX-License-Identifier: MIT */
/*
 * Coherence engine workloads. The first five re-create RVM's criterion benches
 * (crates/rvm/benches/benches/rvm_bench.rs) on the same graphs, with the same unit of work per
 * iteration; a memory clobber in every iteration keeps the compiler from hoisting the work out of
 * the loop (RVM's unblackboxed coherence benches were hoisted; its "blackboxed" figures are the
 * peers). Then the min-cut series over 8..128 nodes (a chart of the O(n^3) growth) and one whole
 * epoch of the engine.
 */
#include "harness.h"

#include "common.h"

#include "crypto_openssl.h"
#include "hal_sim.h"

#include "rvm/coherence.h"
#include "rvm/graph.h"
#include "rvm/mincut.h"
#include "rvm/witness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A graph plus min-cut scratch, sized for `cap` nodes, in one allocation. */
struct graph_ctx {
    struct rvm_graph g;
    struct rvm_mincut_scratch s;
    struct rvm_mincut_result res;
    uint32_t cap;
    struct rvm_graph_node *nodes;
    uint64_t *weights;
    uint8_t *side;
};

static struct graph_ctx *graph_ctx_new(uint32_t cap)
{
    struct graph_ctx *c = calloc(1, sizeof(*c));
    c->cap = cap;
    c->nodes = calloc(cap, sizeof(*c->nodes));
    c->weights = calloc((size_t)cap * cap, sizeof(uint64_t));
    c->side = calloc(cap, 1);
    c->s.capacity = cap;
    c->s.w = calloc((size_t)cap * cap, sizeof(uint64_t));
    c->s.key = calloc(cap, sizeof(uint64_t));
    c->s.idx = calloc(RVM_MINCUT_IDX_PER_NODE * (size_t)cap, sizeof(uint32_t));
    struct rvm_graph_config cfg = {.capacity = cap, .nodes = c->nodes, .weights = c->weights};
    if (rvm_graph_init(&c->g, &cfg) != RVM_OK) {
        abort();
    }
    for (uint32_t i = 1; i <= cap; i++) {
        if (rvm_graph_add_node(&c->g, i, NULL) != RVM_OK) {
            abort();
        }
    }
    return c;
}

static void graph_ctx_free(void *ctx)
{
    struct graph_ctx *c = ctx;
    free(c->nodes);
    free(c->weights);
    free(c->side);
    free(c->s.w);
    free(c->s.key);
    free(c->s.idx);
    free(c);
}

static void edge(struct graph_ctx *c, uint32_t a, uint32_t b, uint64_t w)
{
    if (rvm_graph_add_weight(&c->g, a, b, w) != RVM_OK) {
        abort();
    }
}

/* RVM's coherence_score_single_16node graph: chain 100 forward + 50 back, self-loops 200. */
static void *score_setup(void)
{
    struct graph_ctx *c = graph_ctx_new(16);
    for (uint32_t i = 1; i <= 15; i++) {
        edge(c, i, i + 1, 100);
        edge(c, i + 1, i, 50);
    }
    for (uint32_t i = 1; i <= 16; i++) {
        edge(c, i, i, 200);
    }
    uint16_t bp = 0;
    if (rvm_graph_score(&c->g, 8, &bp) != RVM_OK || bp != 4000) {
        abort(); /* 200 / (200 + 300) */
    }
    return c;
}

static void score_run(void *ctx, uint64_t iters)
{
    struct graph_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        uint16_t bp;
        bench_clobber();
        (void)rvm_graph_score(&c->g, 8, &bp);
        bench_keep(bp);
    }
}

/* RVM's coherence_recompute_all_16node: chain 1..16, 100 each, no self-loops; the engine's own
 * recomputation (score and pressure of every partition). */
struct engine_ctx {
    struct rvm_coherence c;
    void *storage;
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    uint8_t ring[256][RVM_WITNESS_RECORD_BYTES];
};

static struct engine_ctx *engine_new(uint32_t cap, uint16_t decay)
{
    struct engine_ctx *e = calloc(1, sizeof(*e));
    struct rvm_coherence_config cfg;
    rvm_coherence_default_config(&cfg, cap);
    cfg.decay_bp = decay;
    cfg.storage_bytes = RVM_COHERENCE_STORAGE_BYTES(cap);
    e->storage = aligned_alloc(64, (cfg.storage_bytes + 63) & ~(size_t)63);
    cfg.storage = e->storage;
    if (rvm_coherence_init(&e->c, &cfg) != RVM_OK) {
        abort();
    }
    for (uint32_t i = 1; i <= cap; i++) {
        if (rvm_graph_add_node(&e->c.graph, i, NULL) != RVM_OK) {
            abort();
        }
    }
    e->oc = rvm_openssl_crypto_new();
    if (e->oc == NULL) {
        abort();
    }
    rvm_openssl_crypto_bind(e->oc, &e->crypto);
    rvm_sim_hal_init(&e->sim, &e->crypto);
    rvm_sim_hal_set_sink(&e->sim, &bench_null_sink, NULL);
    struct rvm_witness_config wc = {.ring = e->ring, .ring_capacity = 256};
    if (rvm_witness_init(&e->log, &e->sim.hal, &wc) != RVM_OK) {
        abort();
    }
    return e;
}

static void engine_free(void *ctx)
{
    struct engine_ctx *e = ctx;
    rvm_openssl_crypto_free(e->oc);
    free(e->storage);
    free(e);
}

static void *recompute_setup(void)
{
    struct engine_ctx *e = engine_new(16, 0);
    for (uint32_t i = 1; i <= 15; i++) {
        if (rvm_graph_add_weight(&e->c.graph, i, i + 1, 100) != RVM_OK) {
            abort();
        }
    }
    return e;
}

static void recompute_run(void *ctx, uint64_t iters)
{
    struct engine_ctx *e = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        bench_clobber();
        rvm_coherence_recompute(&e->c);
    }
    bench_keep(e->c.node[7].pressure_bp);
}

/* RVM's cut_pressure_16node: chain 100 forward + 50 back, self-loops 500 on 1..8; one iteration
 * is the pressure of all 16 partitions, looked up by id. */
static void *pressure_setup(void)
{
    struct graph_ctx *c = graph_ctx_new(16);
    for (uint32_t i = 1; i <= 15; i++) {
        edge(c, i, i + 1, 100);
        edge(c, i + 1, i, 50);
    }
    for (uint32_t i = 1; i <= 8; i++) {
        edge(c, i, i, 500);
    }
    return c;
}

static void pressure_run(void *ctx, uint64_t iters)
{
    struct graph_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        bench_clobber();
        for (uint32_t id = 1; id <= 16; id++) {
            uint16_t bp;
            (void)rvm_graph_pressure(&c->g, id, &bp);
            bench_keep(bp);
        }
    }
}

static void mincut_run(void *ctx, uint64_t iters)
{
    struct graph_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        bench_clobber();
        if (rvm_mincut_compute(&c->g, &c->s, RVM_MINCUT_BUDGET_UNLIMITED, &c->res, c->side) !=
            RVM_OK) {
            abort();
        }
    }
    bench_keep(c->res.value);
}

static void expect_cut(struct graph_ctx *c, uint64_t value)
{
    if (rvm_mincut_compute(&c->g, &c->s, RVM_MINCUT_BUDGET_UNLIMITED, &c->res, c->side) != RVM_OK ||
        c->res.value != value) {
        fprintf(stderr, "wl_coherence: min-cut %llu, expected %llu\n",
                (unsigned long long)c->res.value, (unsigned long long)value);
        abort();
    }
}

/* RVM's mincut_4node: two strong pairs (1000 each way) joined by a weak link (10 each way). */
static void *mincut4_setup(void)
{
    struct graph_ctx *c = graph_ctx_new(4);
    edge(c, 1, 2, 1000), edge(c, 2, 1, 1000);
    edge(c, 3, 4, 1000), edge(c, 4, 3, 1000);
    edge(c, 2, 3, 10), edge(c, 3, 2, 10);
    expect_cut(c, 20);
    return c;
}

/* RVM's mincut_16node: a chain of 16, 1000 each way, with a weak link 8-9 of 10 each way. The
 * global cut is that link, weight 20 (RVM's neighbourhood heuristic does not find it). */
static void *mincut16_setup(void)
{
    struct graph_ctx *c = graph_ctx_new(16);
    for (uint32_t i = 1; i <= 15; i++) {
        uint64_t w = i == 8 ? 10 : 1000;
        edge(c, i, i + 1, w);
        edge(c, i + 1, i, w);
    }
    expect_cut(c, 20);
    for (uint32_t s = 0; s < 16; s++) {
        if (c->side[s] != (s < 8 ? RVM_MINCUT_SIDE_A : RVM_MINCUT_SIDE_B)) {
            abort();
        }
    }
    return c;
}

/* The growth series: a ring (so the graph is connected and no phase stops early) plus each other
 * pair with probability 1/2, weights 1..100, from a fixed LCG. */
static struct graph_ctx *scale_graph(uint32_t n)
{
    struct graph_ctx *c = graph_ctx_new(n);
    uint64_t x = 0x9E3779B97F4A7C15ull ^ n;
    for (uint32_t i = 1; i <= n; i++) {
        edge(c, i, i % n + 1, 50);
        for (uint32_t j = i + 2; j <= n; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if ((x >> 63) != 0) {
                edge(c, i, j, 1 + (x >> 33) % 100);
            }
        }
    }
    if (rvm_mincut_compute(&c->g, &c->s, RVM_MINCUT_BUDGET_UNLIMITED, &c->res, c->side) != RVM_OK ||
        !c->res.valid) {
        abort();
    }
    return c;
}

/* 64 different random graphs of one size, cut in turn: the branch predictor cannot learn one
 * graph's exact history, as it can when the same graph is cut over and over. */
#define VARIED 64

struct varied_ctx {
    struct graph_ctx *g[VARIED];
};

static void *varied_setup_n(uint32_t n)
{
    struct varied_ctx *v = calloc(1, sizeof(*v));
    uint64_t x = 0x2545F4914F6CDD1Dull ^ n;
    for (uint32_t k = 0; k < VARIED; k++) {
        struct graph_ctx *c = graph_ctx_new(n);
        for (uint32_t i = 1; i <= n; i++) {
            edge(c, i, i % n + 1, 50);
            for (uint32_t j = i + 2; j <= n; j++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                if ((x >> 63) != 0) {
                    edge(c, i, j, 1 + (x >> 33) % 100);
                }
            }
        }
        v->g[k] = c;
    }
    return v;
}

static void *varied16_setup(void)
{
    return varied_setup_n(16);
}

static void *varied64_setup(void)
{
    return varied_setup_n(64);
}

static void varied_run(void *ctx, uint64_t iters)
{
    struct varied_ctx *v = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        struct graph_ctx *c = v->g[i % VARIED];
        if (rvm_mincut_compute(&c->g, &c->s, RVM_MINCUT_BUDGET_UNLIMITED, &c->res, c->side) !=
            RVM_OK) {
            abort();
        }
        bench_keep(c->res.value);
    }
}

static void varied_free(void *ctx)
{
    struct varied_ctx *v = ctx;
    for (uint32_t k = 0; k < VARIED; k++) {
        graph_ctx_free(v->g[k]);
    }
    free(v);
}

static void *scale8_setup(void)
{
    return scale_graph(8);
}
static void *scale16_setup(void)
{
    return scale_graph(16);
}
static void *scale32_setup(void)
{
    return scale_graph(32);
}
static void *scale64_setup(void)
{
    return scale_graph(64);
}
static void *scale128_setup(void)
{
    return scale_graph(128);
}

/* One whole epoch of a 16-partition engine: decay 5 %, the min-cut, scores, decisions and the
 * epoch record (OpenSSL provider, a sink that takes everything), with the traffic that keeps the
 * graph in its steady state re-recorded each epoch (15 IPC flows, unwitnessed). */
static void *epoch_setup(void)
{
    struct engine_ctx *e = engine_new(16, 500);
    return e;
}

static void epoch_run(void *ctx, uint64_t iters)
{
    struct engine_ctx *e = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        for (uint32_t p = 1; p <= 15; p++) {
            (void)rvm_graph_add_weight_slots(&e->c.graph, p - 1, p, p == 8 ? 5 : 100);
        }
        e->sim.now_ns += 1000;
        if (rvm_coherence_epoch(&e->c, &e->log, true, NULL) != RVM_OK) {
            abort();
        }
    }
    bench_keep(e->c.cut.value);
}

static const struct bench_workload coherence_workloads[] = {
    {"coherence_score_single_16node", "score",
     "score of one partition of 16 by id (lookup + exact basis points); RVM "
     "coherence_score_single_16node (blackboxed: 76.6 ns)",
     1, score_setup, score_run, graph_ctx_free},
    {"coherence_recompute_all_16node", "recompute",
     "score and pressure of all 16 partitions; RVM coherence_recompute_all_16node (blackboxed, "
     "scores only: 831 ns)",
     1, recompute_setup, recompute_run, engine_free},
    {"cut_pressure_16node", "16 pressures",
     "cut pressure of each of 16 partitions by id; RVM cut_pressure_16node (740 ns)", 1,
     pressure_setup, pressure_run, graph_ctx_free},
    {"mincut_4node", "cut",
     "global Stoer-Wagner min-cut, 4 nodes, two pairs joined by a weak link (cut 20); RVM "
     "mincut_4node (163 ns, neighbourhood only)",
     1, mincut4_setup, mincut_run, graph_ctx_free},
    {"mincut_16node", "cut",
     "global Stoer-Wagner min-cut, chain of 16 with one weak link (finds it: cut 20); RVM "
     "mincut_16node (192 ns, does not find it)",
     1, mincut16_setup, mincut_run, graph_ctx_free},
    {"mincut_scale_8", "cut", "global min-cut, 8 nodes, ring + half of all pairs", 1, scale8_setup,
     mincut_run, graph_ctx_free},
    {"mincut_scale_16", "cut", "global min-cut, 16 nodes, ring + half of all pairs", 1,
     scale16_setup, mincut_run, graph_ctx_free},
    {"mincut_scale_32", "cut", "global min-cut, 32 nodes, ring + half of all pairs", 1,
     scale32_setup, mincut_run, graph_ctx_free},
    {"mincut_scale_64", "cut", "global min-cut, 64 nodes, ring + half of all pairs", 1,
     scale64_setup, mincut_run, graph_ctx_free},
    {"mincut_scale_128", "cut", "global min-cut, 128 nodes, ring + half of all pairs", 1,
     scale128_setup, mincut_run, graph_ctx_free},
    {"mincut_varied_16", "cut",
     "global min-cut, 16 nodes, 64 different random graphs in turn (no learnt branch history)", 1,
     varied16_setup, varied_run, varied_free},
    {"mincut_varied_64", "cut",
     "global min-cut, 64 nodes, 64 different random graphs in turn (no learnt branch history)", 1,
     varied64_setup, varied_run, varied_free},
    {"coherence_epoch_16node", "epoch",
     "one engine epoch, 16 partitions: decay, min-cut, scores, decisions, epoch record", 1,
     epoch_setup, epoch_run, engine_free},
};

struct bench_group bench_coherence_group(void)
{
    struct bench_group g = {coherence_workloads,
                            sizeof(coherence_workloads) / sizeof(coherence_workloads[0])};
    return g;
}
