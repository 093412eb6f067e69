/* SPDX-License-Identifier: MIT */
/*
 * The communication graph of the coherence engine: one node per live partition, one undirected
 * weighted edge per pair of partitions that exchanged messages, and a self-loop per partition for
 * its internal traffic.
 *
 * Storage is a dense symmetric weight matrix in caller memory (capacity x capacity u64), indexed by
 * node slot. A matrix rather than an edge list because every consumer is dense anyway: min-cut
 * (Stoer-Wagner) is O(n^3) over the whole matrix, and an IPC message must find its edge in O(1).
 * At the default 64 nodes it is 32 KiB; the 16-partition "Seed" profile needs 2 KiB.
 *
 *   w[i][i]  internal weight of node i (traffic inside the partition)
 *   w[i][j]  weight between i and j, both directions summed (w[i][j] == w[j][i])
 *   ext[i]   cached sum of w[i][j] over j != i
 *
 * An edge exists iff its weight is non-zero, so decay that reaches zero removes it.
 *
 * This module is a data structure: its functions validate, then change the graph, and never
 * witness anything. The coherence engine (rvm/coherence.h) wraps them in witnessed operations.
 */
#ifndef RVM_GRAPH_H
#define RVM_GRAPH_H

#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_GRAPH_DEFAULT_CAPACITY 64u
#define RVM_GRAPH_MAX_CAPACITY     1024u
#define RVM_GRAPH_SLOT_NONE        UINT32_MAX

/*
 * Weights saturate here (about 4.3e9 message units per edge). The bound keeps every sum the engine
 * forms exact in 64 bits: a node's total is at most 1024 * 2^32 = 2^42, and a basis-point product
 * of a sum of two totals (x 10000 < 2^14) stays below 2^57; all weights together are below
 * C(1024, 2) * 2^32 < 2^51, which leaves the min-cut room to pack a key with a 10-bit index.
 */
#define RVM_GRAPH_WEIGHT_MAX (((uint64_t)1 << 32) - 1)

/* Basis points: 10000 = 1.0. */
#define RVM_BP_ONE 10000u

/* Small direct-mapped partition id -> slot cache (a speed aid only; lookups fall back to a scan).
 */
#define RVM_GRAPH_HINT_SLOTS 256u

struct rvm_graph_node {
    rvm_partition_id id; /* RVM_PARTITION_INVALID when the slot is free */
    uint32_t generation; /* bumped each time the slot takes a new partition */
    uint64_t ext;        /* sum of the weights to the other nodes */
};

struct rvm_graph_config {
    uint32_t capacity;            /* 2..RVM_GRAPH_MAX_CAPACITY nodes */
    struct rvm_graph_node *nodes; /* caller storage: capacity entries */
    uint64_t *weights;            /* caller storage: capacity * capacity entries */
    uint16_t decay_bp;            /* weight lost per epoch, 0..10000 basis points */
};

struct rvm_graph {
    struct rvm_graph_node *nodes;
    uint64_t *w; /* row-major, stride `capacity` */
    uint32_t capacity;
    uint32_t live;  /* live nodes */
    uint32_t edges; /* non-zero pairs i < j (self-loops are not counted) */
    uint16_t decay_bp;
    uint16_t hint[RVM_GRAPH_HINT_SLOTS]; /* slot + 1 of an id hashing here, 0 = none */
};

/* RVM_ERR_INVALID_ARGUMENT for a bad capacity, missing storage or decay above 10000. Clears the
 * storage (O(capacity^2)). */
enum rvm_err rvm_graph_init(struct rvm_graph *g, const struct rvm_graph_config *cfg);

static inline bool rvm_graph_slot_live(const struct rvm_graph *g, uint32_t slot)
{
    return slot < g->capacity && g->nodes[slot].id != RVM_PARTITION_INVALID;
}

static inline uint64_t rvm_graph_w(const struct rvm_graph *g, uint32_t a, uint32_t b)
{
    return g->w[(size_t)a * g->capacity + b];
}

/* Slot of partition `id`: RVM_OK, or RVM_ERR_NOT_FOUND (slot untouched). */
enum rvm_err rvm_graph_find(const struct rvm_graph *g, rvm_partition_id id, uint32_t *slot);

/*
 * Can `id` be added? RVM_ERR_INVALID_ARGUMENT for the hypervisor id 0 or RVM_PARTITION_INVALID,
 * RVM_ERR_EXISTS when present, RVM_ERR_GRAPH_FULL at the node bound. On RVM_OK, *slot is the slot
 * rvm_graph_add_node will use (the lowest free one).
 */
enum rvm_err rvm_graph_check_add(const struct rvm_graph *g, rvm_partition_id id, uint32_t *slot);

/* Add a node with no edges; same errors as rvm_graph_check_add. `slot` may be NULL. */
enum rvm_err rvm_graph_add_node(struct rvm_graph *g, rvm_partition_id id, uint32_t *slot);

/* Remove a live slot and all its edges. RVM_ERR_NOT_FOUND when the slot is not live. */
enum rvm_err rvm_graph_remove_slot(struct rvm_graph *g, uint32_t slot);

/*
 * Add `weight` to the edge between two live slots (a == b: to the internal weight), saturating at
 * RVM_GRAPH_WEIGHT_MAX. RVM_ERR_NOT_FOUND for a slot that is not live, RVM_ERR_OUT_OF_RANGE for a
 * weight above RVM_GRAPH_WEIGHT_MAX. Nothing changes on error.
 */
enum rvm_err rvm_graph_add_weight_slots(struct rvm_graph *g, uint32_t a, uint32_t b,
                                        uint64_t weight);

/* The same by partition id (a == b adds internal weight). */
enum rvm_err rvm_graph_add_weight(struct rvm_graph *g, rvm_partition_id a, rvm_partition_id b,
                                  uint64_t weight);

/* Weight between two partitions (0 when either is absent or there is no edge). */
uint64_t rvm_graph_weight(const struct rvm_graph *g, rvm_partition_id a, rvm_partition_id b);

/*
 * One epoch of decay: every weight becomes floor(w * (10000 - decay_bp) / 10000). With decay_bp > 0
 * every non-zero weight strictly decreases, so an edge that stops carrying traffic reaches zero
 * (and is removed) after finitely many epochs. Returns the number of edges and self-loops removed.
 */
uint32_t rvm_graph_decay(struct rvm_graph *g);

/*
 * Fold slot `gone` into slot `keep` (a merge): keep's internal weight gains gone's internal weight
 * plus the weight between them, keep's edge to every other node gains gone's edge to it, and
 * `gone` is removed. Weights saturate. RVM_ERR_NOT_FOUND / RVM_ERR_INVALID_ARGUMENT (same slot).
 */
enum rvm_err rvm_graph_merge_slots(struct rvm_graph *g, uint32_t keep, uint32_t gone);

/* ------------------------------------------------------------------------------------------------
 * Scores (exact integer basis points, floor of the exact ratio)
 *
 *   internal = w[i][i], external = ext[i], total = internal + external
 *   score    = floor(internal * 10000 / total)     10000 when total == 0
 *   pressure = floor(external * 10000 / total)         0 when total == 0
 *
 * A node with no traffic (isolated, or every edge decayed away) is fully coherent and under no
 * pressure. score + pressure is 10000 or 9999 (one floor each).
 * --------------------------------------------------------------------------------------------- */

static inline uint64_t rvm_graph_internal(const struct rvm_graph *g, uint32_t slot)
{
    return rvm_graph_w(g, slot, slot);
}

static inline uint64_t rvm_graph_external(const struct rvm_graph *g, uint32_t slot)
{
    return g->nodes[slot].ext;
}

/* floor(part * 10000 / total) for part <= total, total <= 2^50; `empty` when total == 0. */
static inline uint16_t rvm_graph_ratio_bp(uint64_t part, uint64_t total, uint16_t empty)
{
    if (total == 0) {
        return empty;
    }
    /* 32-bit division when it is exact: much cheaper on several cores, same result. */
    if (total <= UINT32_MAX / RVM_BP_ONE) {
        return (uint16_t)((uint32_t)part * RVM_BP_ONE / (uint32_t)total);
    }
    return (uint16_t)(part * RVM_BP_ONE / total);
}

static inline uint16_t rvm_graph_score_slot(const struct rvm_graph *g, uint32_t slot)
{
    uint64_t in = rvm_graph_internal(g, slot);
    return rvm_graph_ratio_bp(in, in + g->nodes[slot].ext, RVM_BP_ONE);
}

static inline uint16_t rvm_graph_pressure_slot(const struct rvm_graph *g, uint32_t slot)
{
    uint64_t ex = g->nodes[slot].ext;
    return rvm_graph_ratio_bp(ex, rvm_graph_internal(g, slot) + ex, 0);
}

/* By partition id: RVM_OK or RVM_ERR_NOT_FOUND (output untouched). */
enum rvm_err rvm_graph_score(const struct rvm_graph *g, rvm_partition_id id, uint16_t *bp);
enum rvm_err rvm_graph_pressure(const struct rvm_graph *g, rvm_partition_id id, uint16_t *bp);

/* Every invariant: symmetric matrix, cached sums, free slots all zero, weights in range, ids
 * unique and valid, counts, hints. O(capacity^2), read-only. RVM_ERR_INTERNAL when one fails. */
enum rvm_err rvm_graph_check(const struct rvm_graph *g);

/* Absorb a canonical encoding of the whole graph (capacity, decay, slots, upper triangle). */
void rvm_graph_hash(const struct rvm_graph *g, struct rvm_sha256_ctx *ctx);

#endif /* RVM_GRAPH_H */
