/* SPDX-License-Identifier: MIT */
/*
 * Bounded exhaustive exploration (rvmsim explore; docs/simulator.md "Bounded exploration").
 *
 * Breadth first over the states a scenario's explore block can reach: the root is the state after
 * the scenario's own steps; a state's successors are the states after each operation the block
 * offers there (every line, every CPU, every value of every argument, every live object for `*`).
 * Every successor is judged by every oracle after its step. States are told apart by the target's
 * explore digest, so a state reached by several sequences is expanded once, and depth K covers
 * every sequence of up to K operations. A state is re-created by running its sequence from the
 * start (no snapshots): a run at depth d costs the reset plus d + 1 operations.
 *
 * Worker processes (jobs) split each level; the parent keeps the digests and the sequences. With
 * one job the search is deterministic; with more, the counts of completed levels are the same and
 * the failing sequence reported is a shortest one, not necessarily the first in order.
 */
#ifndef RVM_SIM_EXPLORE_H
#define RVM_SIM_EXPLORE_H

#include "engine.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_EXPLORE_MAX_DEPTH 64u /* operations in one explored sequence */

enum rvm_explore_stop {
    RVM_EXPLORE_EXHAUSTED,  /* no new state at the last level: every reachable state seen */
    RVM_EXPLORE_DEPTH,      /* every sequence of up to `depth` operations was run */
    RVM_EXPLORE_MAX_STATES, /* the distinct-state limit was reached */
    RVM_EXPLORE_TIME,       /* the time limit was reached */
    RVM_EXPLORE_FAILED,     /* a sequence failed an oracle */
    RVM_EXPLORE_ERROR,      /* the search itself failed (memory, a worker died) */
};

struct rvm_explore_stats {
    uint64_t runs;         /* operation sequences run, each ending in a judged state */
    uint64_t distinct;     /* distinct states by digest, the root included */
    uint32_t depth_done;   /* every state up to this depth was expanded */
    uint32_t depth;        /* the level being expanded (depth_done + 1 while searching) */
    uint64_t frontier;     /* distinct states at depth - 1, whose successors that level runs */
    uint64_t expanded;     /* of them, expanded so far */
    uint64_t level_runs;   /* runs of the level being expanded */
    double seconds;        /* wall time so far */
    uint64_t root_choices; /* operations the explore block offers in the root state */
};

struct rvm_explore_config {
    uint32_t depth;      /* sequences of at most this many operations */
    uint64_t max_states; /* stop at this many distinct states; 0: no limit */
    double time_limit;   /* seconds; 0: none */
    uint32_t jobs;       /* worker processes (1: the search runs in this process) */
    uint64_t seed;       /* the runs' seed (keys; random blocks among the scenario's steps) */
    /* Called by the parent about every `progress_every` seconds while searching (NULL: never). */
    void (*progress)(void *ctx, const struct rvm_explore_stats *st);
    void *progress_ctx;
    double progress_every;
    /* Called by the parent after each completed level (NULL: never), with progress_ctx. */
    void (*level_done)(void *ctx, const struct rvm_explore_stats *st);
};

struct rvm_explore_result {
    enum rvm_explore_stop stop;
    struct rvm_explore_stats stats;
    char error[160]; /* RVM_EXPLORE_ERROR: why */
    /* RVM_EXPLORE_FAILED: the failing sequence (its choices, in rvm_sim_explore_step's
     * numbering, from the root) and the outcome of running it. malloc'd; free with
     * rvm_explore_result_free. */
    uint32_t *path;
    uint32_t path_len;
    struct rvm_sim_outcome outcome;
};

/* Explores `scn` (which must have an explore block) on `sim` (created for it). Faults are off:
 * only the scenario's own `fault` lines act. */
void rvm_explore(struct rvm_sim *sim, const struct rvm_scenario *scn,
                 const struct rvm_explore_config *cfg, struct rvm_explore_result *res);

/* Runs the sequence `path` from the root with linearisation on, leaving the run readable for
 * rvm_sim_linearize; returns the outcome's class. */
int rvm_explore_replay(struct rvm_sim *sim, const struct rvm_scenario *scn, uint64_t seed,
                       const uint32_t *path, uint32_t len, struct rvm_sim_outcome *out);

void rvm_explore_result_free(struct rvm_explore_result *res);

const char *rvm_explore_stop_name(enum rvm_explore_stop stop);

#endif /* RVM_SIM_EXPLORE_H */
