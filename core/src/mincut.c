/* SPDX-License-Identifier: MIT */
#include "rvm/mincut.h"

#include "rvm/bytes.h"

#define NONE UINT32_MAX

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

enum rvm_err rvm_mincut_compute(const struct rvm_graph *g, const struct rvm_mincut_scratch *s,
                                uint64_t budget, struct rvm_mincut_result *out, uint8_t *side)
{
    if (s == NULL || s->w == NULL || s->key == NULL || s->idx == NULL || s->member == NULL ||
        s->capacity < g->live || out == NULL || side == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const uint32_t cap = g->capacity;
    const uint32_t sc = s->capacity;
    uint32_t *slot_of = s->idx;      /* compact index -> slot */
    uint32_t *act = s->idx + sc;     /* active super-nodes (their representative) */
    uint32_t *rem = s->idx + 2 * sc; /* nodes not yet added to A in this phase */
    uint32_t *mark = s->idx + 3 * sc;
    uint32_t *next = s->member; /* chain of the nodes merged into each representative */
    uint64_t *key = s->key;

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

    uint64_t *w = s->w;                /* n x n, stride n: the graph compacted to its live nodes */
    for (uint32_t i = 0; i < n; i++) { /* bound: n */
        const uint64_t *src = &g->w[(size_t)slot_of[i] * cap];
        uint64_t *dst = &w[(size_t)i * n];
        for (uint32_t j = 0; j < n; j++) { /* bound: n */
            dst[j] = src[slot_of[j]];
        }
        dst[i] = 0; /* self-loops never cross a cut */
        act[i] = i;
        next[i] = NONE;
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

        /* Maximum adjacency order from act[0]. Relaxing the keys and finding the next maximum
         * are one pass; ties go to the first candidate in `rem`. */
        const uint32_t a0 = act[0];
        uint32_t m = 0;
        uint32_t bi = 0;
        uint64_t bk = 0;
        for (uint32_t t = 1; t < k; t++) { /* bound: k */
            uint32_t r = act[t];
            uint64_t kk = w[(size_t)a0 * n + r];
            key[r] = kk;
            if (kk > bk) {
                bk = kk;
                bi = m;
            }
            rem[m++] = r;
        }
        uint32_t prev = a0;
        uint32_t last = a0;
        while (m > 0) { /* bound: k - 1 additions (m decreases each time) */
            prev = last;
            last = rem[bi];
            rem[bi] = rem[--m];
            const uint64_t *row = &w[(size_t)last * n];
            bi = 0;
            bk = 0;
            for (uint32_t t = 0; t < m; t++) { /* bound: m */
                uint32_t r = rem[t];
                uint64_t kk = key[r] + row[r];
                key[r] = kk;
                if (kk > bk) {
                    bk = kk;
                    bi = t;
                }
            }
        }
        const uint64_t cut = key[last];

        if (cut < best) {
            best = cut;
            best_phase = phase;
            for (uint32_t v = last; v != NONE; v = next[v]) { /* bound: n (a chain) */
                mark[v] = phase;
            }
        }

        /* Merge `last` into `prev`: rows, columns and member chains. */
        uint64_t *prow = &w[(size_t)prev * n];
        const uint64_t *lrow = &w[(size_t)last * n];
        uint32_t lpos = 0;
        for (uint32_t t = 0; t < k; t++) { /* bound: k */
            uint32_t r = act[t];
            if (r == last) {
                lpos = t;
                continue;
            }
            if (r == prev) {
                continue;
            }
            uint64_t sum = prow[r] + lrow[r];
            prow[r] = sum;
            w[(size_t)r * n + prev] = sum;
        }
        uint32_t tail = last;
        while (next[tail] != NONE) { /* bound: n (a chain) */
            tail = next[tail];
        }
        next[tail] = next[prev];
        next[prev] = last;
        act[lpos] = act[--k];

        if (best == 0) {
            break; /* nothing is lighter than a zero cut */
        }
    }

    /* Side A is the side holding compact node 0 (the lowest live slot), whatever the phase. */
    const bool zero_marked = mark[0] == best_phase;
    for (uint32_t i = 0; i < cap; i++) { /* bound: capacity */
        side[i] = RVM_MINCUT_SIDE_NONE;
    }
    uint32_t a = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: n */
        bool on_a = (mark[i] == best_phase) == zero_marked;
        side[slot_of[i]] = on_a ? RVM_MINCUT_SIDE_A : RVM_MINCUT_SIDE_B;
        a += on_a;
    }
    out->value = best;
    out->work = work;
    out->nodes = n;
    out->side_a = a;
    out->valid = true;
    return RVM_OK;
}
