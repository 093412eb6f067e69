/* SPDX-License-Identifier: MIT */
/*
 * Global minimum cut of the whole communication graph (Stoer-Wagner), within a work budget.
 *
 * The graph is every live node of a struct rvm_graph with its undirected weights (self-loops do
 * not cross any cut and are ignored). The result is the weight of a minimum cut over all
 * bipartitions of the live nodes and one bipartition that achieves it.
 *
 * Algorithm: Stoer & Wagner (1997) on a dense matrix. n - 1 phases; a phase grows a set A from one
 * super-node by maximum adjacency (always adding the outside node most tightly connected to A);
 * the weight connecting the last-added node t to the rest is a cut ("cut of the phase"); t is then
 * merged into the node added before it. The lightest cut of the phase is a global minimum cut.
 * O(n^3) time, no recursion, every loop bounded by n. A phase that finds a zero cut stops early:
 * nothing lighter exists (disconnected graph).
 *
 * Work budget, in deterministic units (never time): a phase over k super-nodes costs
 * k(k-1)/2 + k units (its maximum-adjacency relaxations plus the merge). Before each phase the
 * cost is charged; if it would exceed the budget the computation stops with
 * RVM_ERR_MINCUT_BUDGET and the caller's previous result is left untouched. rvm_mincut_cost(n) is
 * the cost of a full computation over n nodes (a budget at least that large never runs out).
 */
#ifndef RVM_MINCUT_H
#define RVM_MINCUT_H

#include "rvm/error.h"
#include "rvm/graph.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_MINCUT_BUDGET_UNLIMITED UINT64_MAX
#define RVM_MINCUT_IDX_PER_NODE     7u

/* Side of each slot in a cut. */
enum rvm_mincut_side {
    RVM_MINCUT_SIDE_NONE = 0, /* not in the graph the cut was computed on */
    RVM_MINCUT_SIDE_A = 1,    /* the side holding the lowest live slot */
    RVM_MINCUT_SIDE_B = 2,
};

/* Caller-provided working storage, sized for the graph's capacity; clobbered by every call. */
struct rvm_mincut_scratch {
    uint32_t capacity;
    uint64_t *w;   /* capacity * capacity */
    uint64_t *key; /* capacity */
    uint32_t *idx; /* RVM_MINCUT_IDX_PER_NODE * capacity */
};

struct rvm_mincut_result {
    uint64_t value;  /* weight of the cut */
    uint64_t work;   /* budget units used */
    uint32_t nodes;  /* live nodes in the graph the cut was computed on */
    uint32_t side_a; /* how many of them are on side A (the rest are on side B) */
    bool valid;      /* nodes >= 2 (with fewer there is no cut; value is 0) */
};

/* Work units of a full computation over n nodes (Stoer-Wagner phases for k = n..2). */
uint64_t rvm_mincut_cost(uint32_t n);

/*
 * Compute the minimum cut of g. On RVM_OK, *out is the result and side[slot] (capacity entries)
 * says where each slot lies (NONE for free slots). RVM_ERR_MINCUT_BUDGET when the budget runs
 * out: *out and side are not touched (so the caller's last good cut survives). RVM_ERR_INVALID_
 * ARGUMENT when the scratch is smaller than the graph.
 */
enum rvm_err rvm_mincut_compute(const struct rvm_graph *g, const struct rvm_mincut_scratch *s,
                                uint64_t budget, struct rvm_mincut_result *out, uint8_t *side);

#endif /* RVM_MINCUT_H */
