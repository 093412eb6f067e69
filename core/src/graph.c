/* SPDX-License-Identifier: MIT */
#include "rvm/graph.h"

#include "rvm/bytes.h"

static inline uint64_t *wp(struct rvm_graph *g, uint32_t a, uint32_t b)
{
    return &g->w[(size_t)a * g->capacity + b];
}

static inline uint32_t hint_of(rvm_partition_id id)
{
    return id & (RVM_GRAPH_HINT_SLOTS - 1u);
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r = a + b; /* both <= RVM_GRAPH_WEIGHT_MAX: no wrap */
    return r > RVM_GRAPH_WEIGHT_MAX ? RVM_GRAPH_WEIGHT_MAX : r;
}

enum rvm_err rvm_graph_init(struct rvm_graph *g, const struct rvm_graph_config *cfg)
{
    if (g == NULL || cfg == NULL || cfg->nodes == NULL || cfg->weights == NULL ||
        cfg->capacity < 2 || cfg->capacity > RVM_GRAPH_MAX_CAPACITY || cfg->decay_bp > RVM_BP_ONE) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(g, 0, sizeof(*g));
    g->nodes = cfg->nodes;
    g->w = cfg->weights;
    g->capacity = cfg->capacity;
    g->decay_bp = cfg->decay_bp;
    rvm_memset(g->w, 0, (size_t)cfg->capacity * cfg->capacity * sizeof(uint64_t));
    for (uint32_t i = 0; i < cfg->capacity; i++) { /* bound: capacity */
        g->nodes[i].id = RVM_PARTITION_INVALID;
        g->nodes[i].generation = 0;
        g->nodes[i].ext = 0;
    }
    return RVM_OK;
}

enum rvm_err rvm_graph_find(const struct rvm_graph *g, rvm_partition_id id, uint32_t *slot)
{
    if (id == RVM_PARTITION_INVALID) {
        return RVM_ERR_NOT_FOUND;
    }
    uint32_t h = g->hint[hint_of(id)];
    if (h != 0 && h <= g->capacity && g->nodes[h - 1].id == id) {
        *slot = h - 1;
        return RVM_OK;
    }
    for (uint32_t i = 0; i < g->capacity; i++) { /* bound: capacity */
        if (g->nodes[i].id == id) {
            *slot = i;
            return RVM_OK;
        }
    }
    return RVM_ERR_NOT_FOUND;
}

enum rvm_err rvm_graph_check_add(const struct rvm_graph *g, rvm_partition_id id, uint32_t *slot)
{
    if (id == RVM_PARTITION_HYPERVISOR || id == RVM_PARTITION_INVALID) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t free_slot = RVM_GRAPH_SLOT_NONE;
    for (uint32_t i = 0; i < g->capacity; i++) { /* bound: capacity */
        if (g->nodes[i].id == id) {
            return RVM_ERR_EXISTS;
        }
        if (free_slot == RVM_GRAPH_SLOT_NONE && g->nodes[i].id == RVM_PARTITION_INVALID) {
            free_slot = i;
        }
    }
    if (free_slot == RVM_GRAPH_SLOT_NONE) {
        return RVM_ERR_GRAPH_FULL;
    }
    *slot = free_slot;
    return RVM_OK;
}

enum rvm_err rvm_graph_add_node(struct rvm_graph *g, rvm_partition_id id, uint32_t *slot)
{
    uint32_t s;
    enum rvm_err err = rvm_graph_check_add(g, id, &s);
    if (err != RVM_OK) {
        return err;
    }
    /* A free slot's row and column are all zero already (rvm_graph_check proves it). */
    g->nodes[s].id = id;
    g->nodes[s].generation++;
    g->nodes[s].ext = 0;
    g->live++;
    g->hint[hint_of(id)] = (uint16_t)(s + 1);
    if (slot != NULL) {
        *slot = s;
    }
    return RVM_OK;
}

enum rvm_err rvm_graph_remove_slot(struct rvm_graph *g, uint32_t slot)
{
    if (!rvm_graph_slot_live(g, slot)) {
        return RVM_ERR_NOT_FOUND;
    }
    for (uint32_t j = 0; j < g->capacity; j++) { /* bound: capacity */
        uint64_t w = *wp(g, slot, j);
        if (w == 0) {
            continue;
        }
        if (j != slot) {
            g->nodes[j].ext -= w;
            *wp(g, j, slot) = 0;
            g->edges--;
        }
        *wp(g, slot, j) = 0;
    }
    rvm_partition_id id = g->nodes[slot].id;
    if (g->hint[hint_of(id)] == slot + 1) {
        g->hint[hint_of(id)] = 0;
    }
    g->nodes[slot].id = RVM_PARTITION_INVALID;
    g->nodes[slot].ext = 0;
    g->live--;
    return RVM_OK;
}

enum rvm_err rvm_graph_add_weight_slots(struct rvm_graph *g, uint32_t a, uint32_t b,
                                        uint64_t weight)
{
    if (!rvm_graph_slot_live(g, a) || !rvm_graph_slot_live(g, b)) {
        return RVM_ERR_NOT_FOUND;
    }
    if (weight > RVM_GRAPH_WEIGHT_MAX) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint64_t old = *wp(g, a, b);
    uint64_t neu = sat_add(old, weight);
    if (a == b) {
        *wp(g, a, a) = neu;
        return RVM_OK;
    }
    if (old == 0 && neu != 0) {
        g->edges++;
    }
    *wp(g, a, b) = neu;
    *wp(g, b, a) = neu;
    g->nodes[a].ext += neu - old;
    g->nodes[b].ext += neu - old;
    return RVM_OK;
}

enum rvm_err rvm_graph_add_weight(struct rvm_graph *g, rvm_partition_id a, rvm_partition_id b,
                                  uint64_t weight)
{
    uint32_t sa, sb;
    if (rvm_graph_find(g, a, &sa) != RVM_OK || rvm_graph_find(g, b, &sb) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    return rvm_graph_add_weight_slots(g, sa, sb, weight);
}

uint64_t rvm_graph_weight(const struct rvm_graph *g, rvm_partition_id a, rvm_partition_id b)
{
    uint32_t sa, sb;
    if (rvm_graph_find(g, a, &sa) != RVM_OK || rvm_graph_find(g, b, &sb) != RVM_OK) {
        return 0;
    }
    return rvm_graph_w(g, sa, sb);
}

uint32_t rvm_graph_decay(struct rvm_graph *g)
{
    if (g->decay_bp == 0) {
        return 0;
    }
    const uint64_t keep = RVM_BP_ONE - g->decay_bp;
    const uint32_t n = g->capacity;
    uint32_t pruned = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: capacity */
        g->nodes[i].ext = 0;
    }
    /* Upper triangle including the diagonal, mirrored; the cached sums are rebuilt on the way. */
    for (uint32_t i = 0; i < n; i++) { /* bound: capacity */
        if (g->nodes[i].id == RVM_PARTITION_INVALID) {
            continue;
        }
        uint64_t *row = wp(g, i, 0);
        for (uint32_t j = i; j < n; j++) { /* bound: capacity */
            uint64_t w = row[j];
            if (w == 0) {
                continue;
            }
            uint64_t d = w * keep / RVM_BP_ONE; /* w < 2^32, keep <= 10^4: no overflow */
            row[j] = d;
            if (j == i) {
                pruned += d == 0;
                continue;
            }
            *wp(g, j, i) = d;
            if (d == 0) {
                pruned++;
                g->edges--;
                continue;
            }
            g->nodes[i].ext += d;
            g->nodes[j].ext += d;
        }
    }
    return pruned;
}

enum rvm_err rvm_graph_merge_slots(struct rvm_graph *g, uint32_t keep, uint32_t gone)
{
    if (!rvm_graph_slot_live(g, keep) || !rvm_graph_slot_live(g, gone)) {
        return RVM_ERR_NOT_FOUND;
    }
    if (keep == gone) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    /* The edge between them becomes internal traffic of the survivor. */
    uint64_t between = *wp(g, keep, gone);
    uint64_t internal = sat_add(sat_add(*wp(g, keep, keep), *wp(g, gone, gone)), between);
    for (uint32_t j = 0; j < g->capacity; j++) { /* bound: capacity */
        if (j == keep || j == gone) {
            continue;
        }
        uint64_t wg = *wp(g, gone, j);
        if (wg == 0) {
            continue;
        }
        uint64_t wk = *wp(g, keep, j);
        uint64_t neu = sat_add(wk, wg);
        if (wk == 0) {
            g->edges++;
        }
        *wp(g, keep, j) = neu;
        *wp(g, j, keep) = neu;
        g->nodes[keep].ext += neu - wk;
        /* j loses its edge to `gone` below; here it only gains what saturation did not cut off. */
        g->nodes[j].ext += neu - wk;
    }
    *wp(g, keep, keep) = internal;
    if (between != 0) {
        *wp(g, keep, gone) = 0;
        *wp(g, gone, keep) = 0;
        g->nodes[keep].ext -= between;
        g->nodes[gone].ext -= between;
        g->edges--;
    }
    return rvm_graph_remove_slot(g, gone);
}

enum rvm_err rvm_graph_score(const struct rvm_graph *g, rvm_partition_id id, uint16_t *bp)
{
    uint32_t s;
    if (rvm_graph_find(g, id, &s) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    *bp = rvm_graph_score_slot(g, s);
    return RVM_OK;
}

enum rvm_err rvm_graph_pressure(const struct rvm_graph *g, rvm_partition_id id, uint16_t *bp)
{
    uint32_t s;
    if (rvm_graph_find(g, id, &s) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    *bp = rvm_graph_pressure_slot(g, s);
    return RVM_OK;
}

enum rvm_err rvm_graph_check(const struct rvm_graph *g)
{
    const uint32_t n = g->capacity;
    if (n < 2 || n > RVM_GRAPH_MAX_CAPACITY || g->decay_bp > RVM_BP_ONE || g->live > n) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t live = 0;
    uint32_t edges = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: capacity */
        const bool li = rvm_graph_slot_live(g, i);
        rvm_partition_id id = g->nodes[i].id;
        if (li) {
            live++;
            if (id == RVM_PARTITION_HYPERVISOR) {
                return RVM_ERR_INTERNAL;
            }
        }
        uint64_t ext = 0;
        for (uint32_t j = 0; j < n; j++) { /* bound: capacity */
            uint64_t w = rvm_graph_w(g, i, j);
            if (w > RVM_GRAPH_WEIGHT_MAX || w != rvm_graph_w(g, j, i)) {
                return RVM_ERR_INTERNAL;
            }
            if (w != 0 && (!li || !rvm_graph_slot_live(g, j))) {
                return RVM_ERR_INTERNAL; /* a free slot's row and column are zero */
            }
            if (j != i) {
                ext += w;
                edges += (w != 0 && j > i);
            }
            if (li && j > i && g->nodes[j].id == id) {
                return RVM_ERR_INTERNAL; /* duplicate id */
            }
        }
        if (ext != g->nodes[i].ext) {
            return RVM_ERR_INTERNAL;
        }
    }
    if (live != g->live || edges != g->edges) {
        return RVM_ERR_INTERNAL;
    }
    for (uint32_t h = 0; h < RVM_GRAPH_HINT_SLOTS; h++) { /* bound: RVM_GRAPH_HINT_SLOTS */
        uint32_t s = g->hint[h];
        if (s != 0 &&
            (s > n || !rvm_graph_slot_live(g, s - 1) || hint_of(g->nodes[s - 1].id) != h)) {
            return RVM_ERR_INTERNAL;
        }
    }
    return RVM_OK;
}

static void absorb_u64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    rvm_sha256_update_le64(ctx, v);
}

void rvm_graph_hash(const struct rvm_graph *g, struct rvm_sha256_ctx *ctx)
{
    /* The id hint cache is left out: it changes speed, never behaviour. */
    absorb_u64(ctx, (uint64_t)g->capacity << 32 | g->decay_bp);
    absorb_u64(ctx, (uint64_t)g->live << 32 | g->edges);
    for (uint32_t i = 0; i < g->capacity; i++) { /* bound: capacity */
        absorb_u64(ctx, (uint64_t)g->nodes[i].generation << 32 | g->nodes[i].id);
        for (uint32_t j = i; j < g->capacity; j++) { /* bound: capacity */
            absorb_u64(ctx, rvm_graph_w(g, i, j));
        }
    }
}
