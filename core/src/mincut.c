/* SPDX-License-Identifier: MIT */
#include "rvm/mincut.h"

#include "rvm/bytes.h"

#define NONE UINT32_MAX

/* Compact indices fit in IDX_BITS (RVM_GRAPH_MAX_CAPACITY nodes). */
#define IDX_BITS    10u
#define IDX_MASK    ((1u << IDX_BITS) - 1u)
/* Up to this many candidates a step finds its maximum with branches, above it with selects
 * (measured: bench/wl_coherence.c, mincut_varied_16 / mincut_varied_64 / mincut_scale_128). */
#define BRANCHY_MAX 16u

_Static_assert(RVM_GRAPH_MAX_CAPACITY <= (1u << IDX_BITS), "compact index must fit IDX_BITS");

/* Units charged for one phase over k super-nodes: the maximum-adjacency pass relaxes
 * (k-1) + (k-2) + ... + 1 keys, the merge touches k rows. */
static inline uint64_t phase_cost(uint64_t k)
{
    return k * (k - 1) / 2 + k;
}

uint64_t rvm_mincut_cost(uint32_t n)
{
    if (n < 2) {
        return 0;
    }
    /* sum over k = 2..n of k(k-1)/2 + k  =  C(n+1, 3) + n(n+1)/2 - 1 */
    uint64_t m = n;
    return (m + 1) * m * (m - 1) / 6 + m * (m + 1) / 2 - 1;
}

/*
 * One step of the maximum adjacency order with many candidates: relaxes key[0..m) against `row`
 * and returns the position of the largest key, ties to the smallest position, by selects over
 * (key << IDX_BITS | (IDX_MASK - t)) in two interleaved lanes.
 */
static inline uint32_t relax_select_wide(uint64_t *key, const uint32_t *rem, const uint64_t *row,
                                         uint32_t m)
{
    uint64_t p0 = 0, p1 = 0;
    uint32_t t = 0;
    for (; t + 1 < m; t += 2) { /* bound: m */
        uint64_t k0 = key[t] + row[rem[t]];
        uint64_t k1 = key[t + 1] + row[rem[t + 1]];
        key[t] = k0;
        key[t + 1] = k1;
        uint64_t q0 = k0 << IDX_BITS | (IDX_MASK - t);
        uint64_t q1 = k1 << IDX_BITS | (IDX_MASK - t - 1);
        p0 = q0 > p0 ? q0 : p0;
        p1 = q1 > p1 ? q1 : p1;
    }
    if (t < m) {
        uint64_t k0 = key[t] + row[rem[t]];
        key[t] = k0;
        uint64_t q0 = k0 << IDX_BITS | (IDX_MASK - t);
        p0 = q0 > p0 ? q0 : p0;
    }
    p0 = p1 > p0 ? p1 : p0;
    return IDX_MASK - (uint32_t)(p0 & IDX_MASK);
}

/* The same step with few candidates: branches, in two interleaved lanes. */
static inline uint32_t relax_select_narrow(uint64_t *key, const uint32_t *rem, const uint64_t *row,
                                           uint32_t m)
{
    uint64_t b0 = 0, b1 = 0;
    uint32_t i0 = 0, i1 = 0;
    uint32_t t = 0;
    for (; t + 1 < m; t += 2) { /* bound: m */
        uint64_t k0 = key[t] + row[rem[t]];
        uint64_t k1 = key[t + 1] + row[rem[t + 1]];
        key[t] = k0;
        key[t + 1] = k1;
        if (k0 > b0) {
            b0 = k0;
            i0 = t;
        }
        if (k1 > b1) {
            b1 = k1;
            i1 = t + 1;
        }
    }
    if (t < m) {
        uint64_t k0 = key[t] + row[rem[t]];
        key[t] = k0;
        if (k0 > b0) {
            b0 = k0;
            i0 = t;
        }
    }
    /* first maximum: the odd lane wins a tie only at a smaller t */
    return (b1 > b0 || (b1 == b0 && b1 != 0 && i1 < i0)) ? i1 : i0;
}

/* Writes the sides of a cut: the nodes marked in best_phase on side B, the rest on side A.
 * Returns the size of side A. */
static inline uint32_t write_sides(uint32_t cap, const uint32_t *slot_of, const uint32_t *mark,
                                   uint32_t n, uint32_t best_phase, uint8_t *side)
{
    for (uint32_t i = 0; i < cap; i++) { /* bound: capacity */
        side[i] = RVM_MINCUT_SIDE_NONE;
    }
    uint32_t a = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: n */
        bool on_a = mark[i] != best_phase;
        side[slot_of[i]] = on_a ? RVM_MINCUT_SIDE_A : RVM_MINCUT_SIDE_B;
        a += on_a;
    }
    return a;
}

enum rvm_err rvm_mincut_compute(const struct rvm_graph *g, const struct rvm_mincut_scratch *s,
                                uint64_t budget, struct rvm_mincut_result *out, uint8_t *side)
{
    if (s == NULL || s->w == NULL || s->key == NULL || s->idx == NULL || s->capacity < g->live ||
        out == NULL || side == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const uint32_t cap = g->capacity;
    const uint32_t sc = s->capacity;
    uint32_t *slot_of = s->idx;      /* compact index -> slot */
    uint32_t *act = s->idx + sc;     /* active super-nodes (their representative) */
    uint32_t *rem = s->idx + 2 * sc; /* nodes not yet added to A in this phase */
    uint32_t *mark = s->idx + 3 * sc;
    uint32_t *next = s->idx + 4 * sc; /* member chains: nodes merged into each representative */
    uint32_t *tail = s->idx + 5 * sc;
    uint32_t *pos = s->idx + 6 * sc; /* position of each representative in act */
    uint64_t *key = s->key;          /* key of rem[t], kept aligned with rem */

    uint32_t n = 0;
    for (uint32_t i = 0; i < cap && n < sc; i++) { /* bound: capacity */
        if (rvm_graph_slot_live(g, i)) {
            slot_of[n++] = i;
        }
    }

    if (n < 2) {
        for (uint32_t i = 0; i < cap; i++) { /* bound: capacity */
            side[i] = RVM_MINCUT_SIDE_NONE;
        }
        if (n == 1) {
            side[slot_of[0]] = RVM_MINCUT_SIDE_A;
        }
        out->value = 0;
        out->work = 0;
        out->nodes = n;
        out->side_a = n;
        out->valid = false;
        return RVM_OK;
    }

    /* The graph compacted to its live nodes: n x n, stride n. When the live slots are exactly
     * 0..n-1 (no holes) the rows are prefixes of the graph's rows. The diagonal is copied too:
     * the phases never read it (a node is never relaxed against itself). */
    uint64_t *w = s->w;
    const bool no_holes = slot_of[n - 1] == n - 1;
    for (uint32_t i = 0; i < n; i++) { /* bound: n */
        const uint64_t *src = &g->w[(size_t)slot_of[i] * cap];
        uint64_t *dst = &w[(size_t)i * n];
        if (no_holes) {
            rvm_memcpy(dst, src, (size_t)n * sizeof(uint64_t));
        } else {
            for (uint32_t j = 0; j < n; j++) { /* bound: n */
                dst[j] = src[slot_of[j]];
            }
        }
        act[i] = i;
        pos[i] = i;
        next[i] = NONE;
        tail[i] = i;
        mark[i] = NONE;
    }

    uint64_t best = UINT64_MAX;
    uint32_t best_phase = NONE;
    uint64_t work = 0;
    uint32_t k = n;
    for (uint32_t phase = 0; k > 1; phase++) { /* bound: n - 1 phases (k decreases each time) */
        uint64_t cost = phase_cost(k);
        if (cost > budget - work) {
            return RVM_ERR_MINCUT_BUDGET;
        }
        work += cost;

        /*
         * Maximum adjacency order from act[0], which starts A. Each step relaxes the keys of the
         * nodes outside A against the node added last and finds the largest key in the same
         * pass, ties going to the first in rem; the first step, against act[0], sets the keys.
         *
         * Finding the maximum: with few candidates, branches (predicted, they let the next step
         * start before this one's maximum is known); with many, the running maximum changes too
         * often for prediction, so selects over (key << IDX_BITS | (IDX_MASK - t)), whose
         * maximum is the largest key at the smallest t (keys stay below 2^51, all weights
         * together, so this fits). Both find the same node. Two interleaved maxima break the
         * compare-select dependency chain.
         */
        uint32_t m = k - 1;
        for (uint32_t t = 0; t < m; t++) { /* bound: k */
            rem[t] = act[t + 1];
            key[t] = 0;
        }
        uint32_t prev = act[0];
        uint32_t last = act[0];
        uint64_t cut = 0;
        for (;;) { /* bound: k - 1 steps (m decreases each time) */
            const uint64_t *row = &w[(size_t)last * n];
            uint32_t bi;
            if (m > BRANCHY_MAX) {
                bi = relax_select_wide(key, rem, row, m);
            } else {
                bi = relax_select_narrow(key, rem, row, m);
            }
            prev = last;
            last = rem[bi];
            cut = key[bi];
            m--;
            rem[bi] = rem[m];
            key[bi] = key[m];
            if (m == 0) {
                break;
            }
        }

        if (cut < best) {
            best = cut;
            best_phase = phase;
            for (uint32_t v = last; v != NONE; v = next[v]) { /* bound: n (a chain) */
                mark[v] = phase;
            }
        }

        /* Merge `last` into `prev`. Every active row is updated, `last` and `prev` included:
         * what lands on prev's diagonal or in last's row is never read again. */
        uint64_t *prow = &w[(size_t)prev * n];
        const uint64_t *lrow = &w[(size_t)last * n];
        for (uint32_t t = 0; t < k; t++) { /* bound: k */
            uint32_t r = act[t];
            uint64_t sum = prow[r] + lrow[r];
            prow[r] = sum;
            w[(size_t)r * n + prev] = sum;
        }
        next[tail[prev]] = last;
        tail[prev] = tail[last];
        uint32_t lpos = pos[last];
        act[lpos] = act[--k];
        pos[act[lpos]] = lpos;

        if (best == 0) {
            break; /* nothing is lighter than a zero cut */
        }
    }

    /* Side A is the unmarked side, which holds compact node 0 (the lowest live slot): node 0 is
     * act[0], the start of every phase, so it is never the last node added and never merged
     * into another node's chain, hence never marked. */
    uint32_t a = write_sides(cap, slot_of, mark, n, best_phase, side);
    out->value = best;
    out->work = work;
    out->nodes = n;
    out->side_a = a;
    out->valid = true;
    return RVM_OK;
}
