/* SPDX-License-Identifier: MIT */
/*
 * The coherence engine: the communication graph (rvm/graph.h), its global minimum cut within a
 * work budget (rvm/mincut.h), per-partition coherence score and cut pressure, split/merge
 * decisions with hysteresis, and degraded mode. Design and the policy rules: docs/coherence.md.
 *
 * Per epoch the kernel calls rvm_coherence_epoch() once: weights decay, the min-cut is recomputed
 * (or, over budget, the last good one is kept), scores and pressures are recomputed, degraded mode
 * is entered or left, and at most one split or merge is recommended. The scheduler reads
 * rvm_coherence_pressure() (0 in degraded mode) and rvm_coherence_degraded().
 *
 * Operations the kernel gates come as prepare/commit pairs (the caller appends the record in
 * between; unit tests join them through tests/support/witnessed.h):
 *   add / remove partition, record IPC traffic   (GRAPH_MUTATION)
 *   split                                         (STRUCTURAL_SPLIT)
 *   merge, with every DC-11 precondition checked  (STRUCTURAL_MERGE)
 */
#ifndef RVM_COHERENCE_H
#define RVM_COHERENCE_H

#include "rvm/error.h"
#include "rvm/graph.h"
#include "rvm/mincut.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-partition engine state (one per graph slot). */
struct rvm_coherence_node {
    uint16_t score_bp;      /* at the last recomputation */
    uint16_t pressure_bp;   /* at the last recomputation */
    uint8_t flags;          /* RVM_COH_NODE_* */
    uint32_t split_streak;  /* consecutive epochs the split rule held */
    uint32_t merge_partner; /* slot of the best merge partner last epoch, or RVM_GRAPH_SLOT_NONE */
    uint32_t merge_streak;  /* consecutive epochs that partner was the best */
    uint32_t merge_latch;   /* slot a merge was recommended with (latched), or NONE */
    uint64_t hold_until;    /* no split/merge involving it before this epoch (cooldown) */
};

enum {
    RVM_COH_NODE_FROM_SPLIT = 1u << 0,    /* created by a split (counts against split_limit) */
    RVM_COH_NODE_SPLIT_LATCHED = 1u << 1, /* split recommended; re-armed below split_exit_bp */
    RVM_COH_NODE_FLAGS_ALL = 0x3u,
};

/*
 * Storage for `capacity` partitions, in one caller buffer (8-byte aligned): the graph's nodes and
 * matrix, the engine's per-node state, the last good cut, and the min-cut scratch (a second
 * matrix). 64 partitions: 70,976 bytes; 16: 5,456 bytes (plus 728 for the struct).
 */
#define RVM_COH_ALIGN8_(x) (((x) + 7u) & ~(size_t)7u)
#define RVM_COHERENCE_STORAGE_BYTES(cap)                                                           \
    (RVM_COH_ALIGN8_((size_t)(cap) * sizeof(struct rvm_graph_node)) +                              \
     2u * (size_t)(cap) * (size_t)(cap) * sizeof(uint64_t) +                                       \
     RVM_COH_ALIGN8_((size_t)(cap) * sizeof(struct rvm_coherence_node)) +                          \
     (size_t)(cap) * sizeof(uint64_t) +                                                            \
     RVM_MINCUT_IDX_PER_NODE * (size_t)(cap) * sizeof(uint32_t) + RVM_COH_ALIGN8_((size_t)(cap)))

struct rvm_coherence_config {
    uint32_t capacity;    /* partitions (graph nodes), 2..RVM_GRAPH_MAX_CAPACITY */
    void *storage;        /* RVM_COHERENCE_STORAGE_BYTES(capacity), 8-byte aligned */
    size_t storage_bytes; /* size of `storage` */

    uint16_t decay_bp;      /* edge weight lost per epoch (RVM: 500) */
    uint64_t mincut_budget; /* work units per epoch (rvm_mincut_cost); see rvm/mincut.h */

    /* Decision policy (docs/coherence.md). */
    uint16_t split_enter_bp;  /* pressure at or above which a split is considered */
    uint16_t split_exit_bp;   /* pressure below which a recommended split is re-armed */
    uint16_t straddle_bp;     /* minimum share of a partition's external weight that must cross
                                 the min-cut (1..5000) */
    uint16_t merge_enter_bp;  /* mutual coherence to recommend a merge, and predicted merged
                                 score a merge needs (DC-11) */
    uint16_t merge_exit_bp;   /* mutual coherence below which a recommended merge re-arms */
    uint32_t dwell_epochs;    /* a rule must hold this many consecutive epochs (>= 1) */
    uint32_t cooldown_epochs; /* no split/merge involving a partition for this long after one */
    uint32_t cut_max_age;     /* a cut older than this many epochs justifies nothing */
    uint32_t split_limit;     /* live partitions created by splits, at most */

    /* Degraded mode (DC-6). */
    uint32_t degrade_after; /* consecutive unavailable / over-budget epochs to enter (>= 1) */
    uint32_t recover_after; /* consecutive healthy epochs to leave (>= 1) */
};

/*
 * Defaults for `capacity` partitions (storage left NULL): decay 500 bp; a budget that covers a
 * full min-cut at capacity; split at pressure >= 8000, re-armed below 6000, straddle 2500; merge
 * at predicted score >= 7000, re-armed below 6000; dwell 3, cooldown 16, cut age 4, split limit
 * capacity / 4; degrade after 3 bad epochs, recover after 3 good ones.
 */
void rvm_coherence_default_config(struct rvm_coherence_config *cfg, uint32_t capacity);

enum rvm_coherence_decision_kind {
    RVM_COH_DECIDE_NONE = 0,
    RVM_COH_DECIDE_SPLIT = 1,
    RVM_COH_DECIDE_MERGE = 2,
};

struct rvm_coherence_decision {
    uint8_t kind;       /* enum rvm_coherence_decision_kind */
    rvm_partition_id a; /* split: the partition to split; merge: the absorber */
    rvm_partition_id b; /* merge: the partition absorbed; split: 0 */
    uint16_t metric_bp; /* split: pressure; merge: mutual coherence */
    uint64_t cut_value; /* the min-cut weight the decision used */
};

/* What one epoch did (for the caller and the tests). */
struct rvm_coherence_epoch_report {
    struct rvm_coherence_decision decision;
    uint32_t pruned;   /* edges removed by decay */
    bool cut_computed; /* a new cut was computed this epoch */
    bool over_budget;  /* the min-cut ran out of budget */
    bool entered_degraded;
    bool left_degraded;
};

struct rvm_coherence {
    struct rvm_graph graph;
    struct rvm_mincut_scratch scratch;
    struct rvm_coherence_node *node; /* capacity entries */
    uint8_t *cut_side;               /* last good cut, by slot (enum rvm_mincut_side) */
    struct rvm_mincut_result cut;    /* last good cut */
    uint64_t cut_epoch;              /* epoch it was computed in (valid when have_cut) */
    bool have_cut;

    uint64_t epoch; /* epochs run */
    bool degraded;
    uint32_t bad_streak;      /* consecutive unavailable / over-budget epochs */
    uint32_t good_streak;     /* consecutive healthy epochs */
    uint8_t bad_reasons;      /* RVM_COH_DEGRADED_* seen during the bad streak */
    uint32_t split_created;   /* live partitions with RVM_COH_NODE_FROM_SPLIT */
    uint64_t budget_overruns; /* epochs whose min-cut ran out of budget, ever */

    uint64_t mincut_budget;
    uint16_t split_enter_bp, split_exit_bp, straddle_bp, merge_enter_bp, merge_exit_bp;
    uint32_t dwell_epochs, cooldown_epochs, cut_max_age, split_limit;
    uint32_t degrade_after, recover_after;
};

/*
 * RVM_ERR_INVALID_ARGUMENT for missing or small or misaligned storage, a bad capacity or decay,
 * or an inconsistent policy: thresholds above 10000, exit above enter, straddle outside 1..5000,
 * dwell / degrade_after / recover_after of 0, split_limit above capacity, or
 * merge_enter_bp + split_exit_bp <= 10000 (the anti-oscillation rule, docs/coherence.md).
 */
enum rvm_err rvm_coherence_init(struct rvm_coherence *c, const struct rvm_coherence_config *cfg);

/* ------------------------------------------------------------------------------------------------
 * For the scheduler
 * --------------------------------------------------------------------------------------------- */

static inline bool rvm_coherence_degraded(const struct rvm_coherence *c)
{
    return c->degraded;
}

/* Cut pressure of a partition for scheduling: 0 in degraded mode or for an unknown partition. */
uint16_t rvm_coherence_pressure(const struct rvm_coherence *c, rvm_partition_id id);

/* The same by graph slot (O(1); 0 for a free slot). */
static inline uint16_t rvm_coherence_pressure_slot(const struct rvm_coherence *c, uint32_t slot)
{
    if (c->degraded || !rvm_graph_slot_live(&c->graph, slot)) {
        return 0;
    }
    return c->node[slot].pressure_bp;
}

/* Score at the last recomputation (10000 for an unknown partition), whatever the mode. */
uint16_t rvm_coherence_score(const struct rvm_coherence *c, rvm_partition_id id);

/* ------------------------------------------------------------------------------------------------
 * Graph mutations (GRAPH_MUTATION records: flags = op, target = partition, payload = peer,
 * aux = weight). The kernel composes the prepare/commit pairs into its own operations (partition
 * create/destroy, IPC send), whose records cover them.
 * --------------------------------------------------------------------------------------------- */

enum rvm_coherence_graph_op {
    RVM_COH_OP_ADD = 1,
    RVM_COH_OP_REMOVE = 2,
    RVM_COH_OP_IPC = 3,
};

struct rvm_coherence_graph_plan {
    uint8_t op;
    uint32_t slot_a, slot_b;
    rvm_partition_id a, b;
    uint64_t weight;
};

enum rvm_err rvm_coherence_prepare_add(const struct rvm_coherence *c, rvm_partition_id id,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_coherence_graph_plan *plan);
enum rvm_err rvm_coherence_prepare_remove(const struct rvm_coherence *c, rvm_partition_id id,
                                          struct rvm_witness_entry *entry,
                                          struct rvm_coherence_graph_plan *plan);
/* IPC of `weight` units from `from` to `to` (from == to: internal traffic); weight >= 1. */
enum rvm_err rvm_coherence_prepare_ipc(const struct rvm_coherence *c, rvm_partition_id from,
                                       rvm_partition_id to, uint64_t weight,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_coherence_graph_plan *plan);
void rvm_coherence_commit_graph(struct rvm_coherence *c,
                                const struct rvm_coherence_graph_plan *plan);

/* ------------------------------------------------------------------------------------------------
 * The epoch
 * --------------------------------------------------------------------------------------------- */

/* Bits of the COHERENCE_RECOMPUTED record's flags. */
enum {
    RVM_COH_EPOCH_AVAILABLE = 1u << 0,   /* the engine ran this epoch */
    RVM_COH_EPOCH_CUT_FRESH = 1u << 1,   /* a new cut was computed */
    RVM_COH_EPOCH_OVER_BUDGET = 1u << 2, /* the min-cut ran out of budget */
    RVM_COH_EPOCH_DEGRADED = 1u << 3,    /* degraded after this epoch */
    RVM_COH_EPOCH_DECISION_SHIFT = 4,    /* bits 4..5: enum rvm_coherence_decision_kind */
};

/* Reasons in a DEGRADED_ENTER record's flags (the kinds of bad epoch seen in the streak). */
enum {
    RVM_COH_DEGRADED_UNAVAILABLE = 1u << 0,
    RVM_COH_DEGRADED_OVER_BUDGET = 1u << 1,
};

/*
 * Run one epoch. `available` is false when the engine is disabled this epoch (then only the decay
 * runs; the epoch counts towards degraded mode). Records, all with actor 0, reserved up front so
 * that either all are written or, with RVM_ERR_WITNESS_FULL, nothing changes:
 *   MINCUT_BUDGET_EXCEEDED  when the budget ran out: payload = work a full cut needs,
 *                           aux = budget, target = live partitions
 *   DEGRADED_ENTER          flags = reasons, payload = bad streak, aux = epoch
 *   DEGRADED_EXIT           payload = good streak, aux = epoch
 *   COHERENCE_RECOMPUTED    every epoch: flags as above, target = decision (a | b << 32),
 *                           payload = last good cut value, aux = live << 32 | pruned
 * `report` may be NULL.
 */
enum rvm_err rvm_coherence_epoch(struct rvm_coherence *c, struct rvm_witness_log *log,
                                 bool available, struct rvm_coherence_epoch_report *report);

/* The same with this epoch's min-cut work budget (0: the engine is unavailable) instead of the
 * configured one; `available` above is `budget = mincut_budget` or 0. */
enum rvm_err rvm_coherence_epoch_budget(struct rvm_coherence *c, struct rvm_witness_log *log,
                                        uint64_t budget, struct rvm_coherence_epoch_report *report);

/* Whether the engine will be in degraded mode after an epoch run with `budget` (read-only: for a
 * caller that reserves witness records for what follows the transition). */
bool rvm_coherence_degraded_after(const struct rvm_coherence *c, uint64_t budget);

/* Score and pressure of every live partition from the graph as it is now (part of the epoch;
 * exposed for benchmarks and tests). */
void rvm_coherence_recompute(struct rvm_coherence *c);

/* Predicted score of the union of two live slots (DC-11's coherence precondition):
 * (int_a + int_b + w_ab) / (total_a + total_b - w_ab). */
uint16_t rvm_coherence_merged_score(const struct rvm_coherence *c, uint32_t a, uint32_t b);

/* Mutual coherence of two live slots (the merge recommendation's metric): the share of all the
 * traffic touching either that flows between them, w_ab / (total_a + total_b - w_ab). Never above
 * the merged score, so a recommended merge always passes the coherence precondition. */
uint16_t rvm_coherence_mutual_bp(const struct rvm_coherence *c, uint32_t a, uint32_t b);

/* ------------------------------------------------------------------------------------------------
 * Split and merge
 * --------------------------------------------------------------------------------------------- */

/* Facts other subsystems establish; every bit must be set (zero-initialised facts fail). */
enum {
    RVM_COH_SPLIT_SOURCE_RUNNING = 1u << 0, /* the partition to split is Running */
    RVM_COH_SPLIT_P2_PROOF = 1u << 1,       /* a P2 proof validated split authority */
    RVM_COH_SPLIT_FACTS_ALL = 0x3u,
};

struct rvm_coherence_split_request {
    rvm_partition_id source;
    rvm_partition_id child; /* id of the partition the kernel creates for the split */
    uint32_t facts;         /* RVM_COH_SPLIT_* */
    uint32_t cap_hash;      /* the capability exercised (for the records) */
};

struct rvm_coherence_split_plan {
    uint32_t source_slot;
    uint32_t child_slot;
    rvm_partition_id child;
};

/*
 * Checks, in order (each with its own error): ids (DECODE: INVALID_ARGUMENT, NOT_FOUND, EXISTS),
 * P2 proof (COHERENCE_PROOF), source Running (COHERENCE_STATE), not degraded (COHERENCE_DEGRADED),
 * cooldown (COHERENCE_HOLD), room in the graph (GRAPH_FULL) and under split_limit (SPLIT_LIMIT),
 * a cut no older than cut_max_age (CUT_STALE), the split rule: pressure >= split_enter_bp and the
 * source straddles the cut (SPLIT_NOT_JUSTIFIED).
 * The entry is STRUCTURAL_SPLIT: target = source, payload = child | pressure << 32,
 * aux = cut value, proof tier P2. Commit adds the child (no edges), marks it FROM_SPLIT, and puts
 * source and child in cooldown.
 */
enum rvm_err rvm_coherence_prepare_split(const struct rvm_coherence *c, uint32_t actor,
                                         const struct rvm_coherence_split_request *req,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_coherence_split_plan *plan);
void rvm_coherence_commit_split(struct rvm_coherence *c,
                                const struct rvm_coherence_split_plan *plan);

/* DC-11 facts (every bit must be set). The coherence threshold is the engine's own check. */
enum {
    RVM_COH_MERGE_SHARED_CHANNEL = 1u << 0,    /* a CommEdge connects the two */
    RVM_COH_MERGE_NO_LEASE_CONFLICT = 1u << 1, /* no conflicting device leases */
    RVM_COH_MERGE_NO_REGION_OVERLAP = 1u << 2, /* no overlapping mutable regions */
    RVM_COH_MERGE_CAP_INTERSECTION = 1u << 3,  /* the capability intersection is valid */
    RVM_COH_MERGE_A_ACTIVE = 1u << 4,          /* absorber is Running or Suspended */
    RVM_COH_MERGE_B_ACTIVE = 1u << 5,          /* absorbed is Running or Suspended */
    RVM_COH_MERGE_P2_PROOF = 1u << 6,          /* a P2 proof validated merge authority */
    RVM_COH_MERGE_FACTS_ALL = 0x7Fu,
};

struct rvm_coherence_merge_request {
    rvm_partition_id absorber; /* survives */
    rvm_partition_id absorbed; /* folded into the absorber and removed */
    uint32_t facts;            /* RVM_COH_MERGE_* */
    uint32_t cap_hash;
};

struct rvm_coherence_merge_plan {
    uint32_t keep_slot;
    uint32_t gone_slot;
};

/*
 * Checks, in order: ids (DECODE: INVALID_ARGUMENT for unknown fact bits or equal ids, NOT_FOUND),
 * P2 proof (COHERENCE_PROOF, stage P2), lifecycle of both (COHERENCE_STATE), shared channel
 * (MERGE_NO_CHANNEL), predicted merged score >= merge_enter_bp (COHERENCE_LOW), device leases
 * (MERGE_LEASE_CONFLICT), mutable regions (MERGE_REGION_OVERLAP), capability intersection
 * (MERGE_CAP_INTERSECTION), then the engine's own: not degraded (COHERENCE_DEGRADED), cooldown
 * (COHERENCE_HOLD). The entry is STRUCTURAL_MERGE: target = absorber, payload = absorbed |
 * predicted score << 32, aux = weight between them, proof tier P2. Commit folds the absorbed
 * partition's traffic into the absorber (their mutual traffic becomes internal), removes it, and
 * puts the absorber in cooldown.
 */
enum rvm_err rvm_coherence_prepare_merge(const struct rvm_coherence *c, uint32_t actor,
                                         const struct rvm_coherence_merge_request *req,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_coherence_merge_plan *plan);
void rvm_coherence_commit_merge(struct rvm_coherence *c,
                                const struct rvm_coherence_merge_plan *plan);

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

/* Graph invariants plus the engine's: per-node state of free slots is clear, latches and partners
 * name live slots, split_created matches the FROM_SPLIT flags, cut sides only on live slots and
 * consistent with the recorded counts, cached scores match the policy ranges. */
enum rvm_err rvm_coherence_check(const struct rvm_coherence *c);

/* Absorb a canonical encoding of the whole engine state, graph included. */
void rvm_coherence_hash(const struct rvm_coherence *c, struct rvm_sha256_ctx *ctx);

#endif /* RVM_COHERENCE_H */
