/* SPDX-License-Identifier: MIT */
#include "rvm/coherence.h"

#include "rvm/bytes.h"

#define NONE RVM_GRAPH_SLOT_NONE

/* ------------------------------------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------------------------------- */

void rvm_coherence_default_config(struct rvm_coherence_config *cfg, uint32_t capacity)
{
    rvm_memset(cfg, 0, sizeof(*cfg));
    cfg->capacity = capacity;
    cfg->decay_bp = 500;
    cfg->mincut_budget = rvm_mincut_cost(capacity);
    cfg->split_enter_bp = 8000;
    cfg->split_exit_bp = 6000;
    cfg->straddle_bp = 2500;
    cfg->merge_enter_bp = 7000;
    cfg->merge_exit_bp = 6000;
    cfg->dwell_epochs = 3;
    cfg->cooldown_epochs = 16;
    cfg->cut_max_age = 4;
    cfg->split_limit = capacity / 4;
    cfg->degrade_after = 3;
    cfg->recover_after = 3;
}

static bool policy_valid(uint32_t capacity, uint16_t split_enter, uint16_t split_exit,
                         uint16_t straddle, uint16_t merge_enter, uint16_t merge_exit,
                         uint32_t dwell, uint32_t split_limit, uint32_t degrade_after,
                         uint32_t recover_after)
{
    return split_enter <= RVM_BP_ONE && merge_enter <= RVM_BP_ONE && split_exit <= split_enter &&
           merge_exit <= merge_enter && straddle >= 1 && straddle <= RVM_BP_ONE / 2 && dwell >= 1 &&
           degrade_after >= 1 && recover_after >= 1 && split_limit <= capacity &&
           /* A merged partition must sit below the split re-arm level, see docs/coherence.md. */
           (uint32_t)merge_enter + split_exit > RVM_BP_ONE;
}

static void node_clear(struct rvm_coherence_node *n)
{
    n->score_bp = RVM_BP_ONE;
    n->pressure_bp = 0;
    n->flags = 0;
    n->split_streak = 0;
    n->merge_partner = NONE;
    n->merge_streak = 0;
    n->merge_latch = NONE;
    n->hold_until = 0;
}

enum rvm_err rvm_coherence_init(struct rvm_coherence *c, const struct rvm_coherence_config *cfg)
{
    if (c == NULL || cfg == NULL || cfg->storage == NULL || ((uintptr_t)cfg->storage & 7u) != 0 ||
        cfg->capacity < 2 || cfg->capacity > RVM_GRAPH_MAX_CAPACITY ||
        cfg->storage_bytes < RVM_COHERENCE_STORAGE_BYTES(cfg->capacity) ||
        !policy_valid(cfg->capacity, cfg->split_enter_bp, cfg->split_exit_bp, cfg->straddle_bp,
                      cfg->merge_enter_bp, cfg->merge_exit_bp, cfg->dwell_epochs, cfg->split_limit,
                      cfg->degrade_after, cfg->recover_after)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const size_t n = cfg->capacity;
    /* Carve the buffer: 8-byte items first, then 4-byte, then bytes. */
    uint8_t *p = cfg->storage;
    uint64_t *weights = (uint64_t *)(void *)p;
    p += n * n * sizeof(uint64_t);
    uint64_t *mc_w = (uint64_t *)(void *)p;
    p += n * n * sizeof(uint64_t);
    uint64_t *mc_key = (uint64_t *)(void *)p;
    p += n * sizeof(uint64_t);
    struct rvm_graph_node *nodes = (struct rvm_graph_node *)(void *)p;
    p += RVM_COH_ALIGN8_(n * sizeof(struct rvm_graph_node));
    struct rvm_coherence_node *state = (struct rvm_coherence_node *)(void *)p;
    p += RVM_COH_ALIGN8_(n * sizeof(struct rvm_coherence_node));
    uint32_t *mc_idx = (uint32_t *)(void *)p;
    p += RVM_MINCUT_IDX_PER_NODE * n * sizeof(uint32_t);
    uint8_t *cut_side = p;

    struct rvm_graph_config gc = {
        .capacity = cfg->capacity, .nodes = nodes, .weights = weights, .decay_bp = cfg->decay_bp};
    rvm_memset(c, 0, sizeof(*c));
    enum rvm_err err = rvm_graph_init(&c->graph, &gc);
    if (err != RVM_OK) {
        return err;
    }
    c->scratch.capacity = cfg->capacity;
    c->scratch.w = mc_w;
    c->scratch.key = mc_key;
    c->scratch.idx = mc_idx;
    c->node = state;
    c->cut_side = cut_side;
    for (size_t i = 0; i < n; i++) { /* bound: capacity */
        node_clear(&state[i]);
        cut_side[i] = RVM_MINCUT_SIDE_NONE;
    }
    c->mincut_budget = cfg->mincut_budget;
    c->split_enter_bp = cfg->split_enter_bp;
    c->split_exit_bp = cfg->split_exit_bp;
    c->straddle_bp = cfg->straddle_bp;
    c->merge_enter_bp = cfg->merge_enter_bp;
    c->merge_exit_bp = cfg->merge_exit_bp;
    c->dwell_epochs = cfg->dwell_epochs;
    c->cooldown_epochs = cfg->cooldown_epochs;
    c->cut_max_age = cfg->cut_max_age;
    c->split_limit = cfg->split_limit;
    c->degrade_after = cfg->degrade_after;
    c->recover_after = cfg->recover_after;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------------------------------- */

uint16_t rvm_coherence_pressure(const struct rvm_coherence *c, rvm_partition_id id)
{
    uint32_t s;
    if (c->degraded || rvm_graph_find(&c->graph, id, &s) != RVM_OK) {
        return 0;
    }
    return c->node[s].pressure_bp;
}

uint16_t rvm_coherence_score(const struct rvm_coherence *c, rvm_partition_id id)
{
    uint32_t s;
    if (rvm_graph_find(&c->graph, id, &s) != RVM_OK) {
        return RVM_BP_ONE;
    }
    return c->node[s].score_bp;
}

void rvm_coherence_recompute(struct rvm_coherence *c)
{
    const struct rvm_graph *g = &c->graph;
    for (uint32_t i = 0; i < g->capacity; i++) { /* bound: capacity */
        if (!rvm_graph_slot_live(g, i)) {
            continue;
        }
        uint64_t in = rvm_graph_internal(g, i);
        uint64_t ex = g->nodes[i].ext;
        c->node[i].score_bp = rvm_graph_ratio_bp(in, in + ex, RVM_BP_ONE);
        c->node[i].pressure_bp = rvm_graph_ratio_bp(ex, in + ex, 0);
    }
}

uint16_t rvm_coherence_merged_score(const struct rvm_coherence *c, uint32_t a, uint32_t b)
{
    const struct rvm_graph *g = &c->graph;
    uint64_t ab = rvm_graph_w(g, a, b);
    uint64_t in = rvm_graph_internal(g, a) + rvm_graph_internal(g, b) + ab;
    /* The edge between them was external to both; merged, it is internal once. */
    uint64_t total = rvm_graph_internal(g, a) + g->nodes[a].ext + rvm_graph_internal(g, b) +
                     g->nodes[b].ext - ab;
    return rvm_graph_ratio_bp(in, total, RVM_BP_ONE);
}

uint16_t rvm_coherence_mutual_bp(const struct rvm_coherence *c, uint32_t a, uint32_t b)
{
    const struct rvm_graph *g = &c->graph;
    uint64_t ab = rvm_graph_w(g, a, b);
    uint64_t total = rvm_graph_internal(g, a) + g->nodes[a].ext + rvm_graph_internal(g, b) +
                     g->nodes[b].ext - ab;
    return rvm_graph_ratio_bp(ab, total, 0);
}

/* Weight from slot i to the other side of the last good cut. */
static uint64_t cross_weight(const struct rvm_coherence *c, uint32_t i, uint8_t other)
{
    uint64_t cross = 0;
    for (uint32_t j = 0; j < c->graph.capacity; j++) { /* bound: capacity */
        if (c->cut_side[j] == other) {
            cross += rvm_graph_w(&c->graph, i, j);
        }
    }
    return cross;
}

/*
 * The cut half of the split rule: i lies on a side of the last good cut that holds at least one
 * other partition, and at least straddle_bp of its external weight crosses the cut. Since the cut
 * is minimum, no partition on a side of two or more sends more than half its external weight
 * across (moving it would give a lighter cut), so straddle_bp is capped at 5000.
 */
static bool straddles(const struct rvm_coherence *c, uint32_t i, const uint32_t count[3])
{
    uint8_t s = c->cut_side[i];
    if (s == RVM_MINCUT_SIDE_NONE) {
        return false;
    }
    uint8_t other = s == RVM_MINCUT_SIDE_A ? RVM_MINCUT_SIDE_B : RVM_MINCUT_SIDE_A;
    if (count[s] < 2 || count[other] < 1) {
        return false;
    }
    uint64_t cross = cross_weight(c, i, other);
    return cross > 0 && cross * RVM_BP_ONE >= (uint64_t)c->straddle_bp * c->graph.nodes[i].ext;
}

static void side_counts(const struct rvm_coherence *c, uint32_t count[3])
{
    count[0] = count[1] = count[2] = 0;
    for (uint32_t j = 0; j < c->graph.capacity; j++) { /* bound: capacity */
        count[c->cut_side[j] <= 2 ? c->cut_side[j] : 0]++;
    }
}

static bool cut_usable(const struct rvm_coherence *c)
{
    return c->have_cut && c->cut.valid && c->epoch - c->cut_epoch <= c->cut_max_age;
}

static bool held(const struct rvm_coherence *c, uint32_t slot)
{
    return c->epoch < c->node[slot].hold_until;
}

static uint64_t hold_until(const struct rvm_coherence *c)
{
    uint64_t t;
    return rvm_add_u64(c->epoch, c->cooldown_epochs, &t) ? t : UINT64_MAX;
}

static bool split_room(const struct rvm_coherence *c)
{
    return c->graph.live < c->graph.capacity && c->split_created < c->split_limit;
}

/* Forget every reference to a slot that is about to be freed. */
static void clear_references(struct rvm_coherence *c, uint32_t slot)
{
    for (uint32_t i = 0; i < c->graph.capacity; i++) { /* bound: capacity */
        if (c->node[i].merge_partner == slot) {
            c->node[i].merge_partner = NONE;
            c->node[i].merge_streak = 0;
        }
        if (c->node[i].merge_latch == slot) {
            c->node[i].merge_latch = NONE;
        }
    }
}

static void free_slot_state(struct rvm_coherence *c, uint32_t slot)
{
    clear_references(c, slot);
    if (c->node[slot].flags & RVM_COH_NODE_FROM_SPLIT) {
        c->split_created--;
    }
    node_clear(&c->node[slot]);
    c->cut_side[slot] = RVM_MINCUT_SIDE_NONE;
}

/* ------------------------------------------------------------------------------------------------
 * Graph mutations
 * --------------------------------------------------------------------------------------------- */

static void graph_entry(struct rvm_witness_entry *e, uint8_t op, rvm_partition_id a,
                        rvm_partition_id b, uint64_t weight)
{
    rvm_memset(e, 0, sizeof(*e));
    e->kind = RVM_ACT_GRAPH_MUTATION;
    e->flags = op;
    e->target = a;
    e->payload = b;
    e->aux = weight;
}

enum rvm_err rvm_coherence_prepare_add(const struct rvm_coherence *c, rvm_partition_id id,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_coherence_graph_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = rvm_graph_check_add(&c->graph, id, &slot);
    if (err != RVM_OK) {
        return err;
    }
    graph_entry(entry, RVM_COH_OP_ADD, id, 0, 0);
    *plan = (struct rvm_coherence_graph_plan){
        .op = RVM_COH_OP_ADD, .slot_a = slot, .slot_b = NONE, .a = id};
    return RVM_OK;
}

enum rvm_err rvm_coherence_prepare_remove(const struct rvm_coherence *c, rvm_partition_id id,
                                          struct rvm_witness_entry *entry,
                                          struct rvm_coherence_graph_plan *plan)
{
    uint32_t slot;
    if (rvm_graph_find(&c->graph, id, &slot) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    graph_entry(entry, RVM_COH_OP_REMOVE, id, 0, 0);
    *plan = (struct rvm_coherence_graph_plan){
        .op = RVM_COH_OP_REMOVE, .slot_a = slot, .slot_b = NONE, .a = id};
    return RVM_OK;
}

enum rvm_err rvm_coherence_prepare_ipc(const struct rvm_coherence *c, rvm_partition_id from,
                                       rvm_partition_id to, uint64_t weight,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_coherence_graph_plan *plan)
{
    if (weight == 0 || weight > RVM_GRAPH_WEIGHT_MAX) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint32_t sa, sb;
    if (rvm_graph_find(&c->graph, from, &sa) != RVM_OK ||
        rvm_graph_find(&c->graph, to, &sb) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    graph_entry(entry, RVM_COH_OP_IPC, from, to, weight);
    *plan = (struct rvm_coherence_graph_plan){
        .op = RVM_COH_OP_IPC, .slot_a = sa, .slot_b = sb, .a = from, .b = to, .weight = weight};
    return RVM_OK;
}

void rvm_coherence_commit_graph(struct rvm_coherence *c,
                                const struct rvm_coherence_graph_plan *plan)
{
    uint32_t slot;
    switch (plan->op) {
    case RVM_COH_OP_ADD:
        if (rvm_graph_add_node(&c->graph, plan->a, &slot) == RVM_OK) {
            node_clear(&c->node[slot]);
            c->cut_side[slot] = RVM_MINCUT_SIDE_NONE;
        }
        break;
    case RVM_COH_OP_REMOVE:
        free_slot_state(c, plan->slot_a);
        (void)rvm_graph_remove_slot(&c->graph, plan->slot_a);
        break;
    case RVM_COH_OP_IPC:
        (void)rvm_graph_add_weight_slots(&c->graph, plan->slot_a, plan->slot_b, plan->weight);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------------------------------------
 * The epoch: decisions
 * --------------------------------------------------------------------------------------------- */

static void reset_streaks(struct rvm_coherence *c)
{
    for (uint32_t i = 0; i < c->graph.capacity; i++) { /* bound: capacity */
        c->node[i].split_streak = 0;
        c->node[i].merge_partner = NONE;
        c->node[i].merge_streak = 0;
    }
}

/* Re-arm latches whose metric fell below the exit level (Schmitt trigger). */
static void update_latches(struct rvm_coherence *c)
{
    for (uint32_t i = 0; i < c->graph.capacity; i++) { /* bound: capacity */
        if (!rvm_graph_slot_live(&c->graph, i)) {
            continue;
        }
        struct rvm_coherence_node *n = &c->node[i];
        if ((n->flags & RVM_COH_NODE_SPLIT_LATCHED) && n->pressure_bp < c->split_exit_bp) {
            n->flags = (uint8_t)(n->flags & ~RVM_COH_NODE_SPLIT_LATCHED);
        }
        uint32_t l = n->merge_latch;
        if (l != NONE && l > i && rvm_coherence_mutual_bp(c, i, l) < c->merge_exit_bp) {
            n->merge_latch = NONE;
            c->node[l].merge_latch = NONE;
        }
    }
}

static inline uint32_t sat_inc(uint32_t v)
{
    return v == UINT32_MAX ? v : v + 1;
}

/* Is (p, a, b) a better merge than (bp, ba, bb)? Higher score, then lower ids. */
static bool merge_better(uint16_t p, rvm_partition_id a, rvm_partition_id b, uint16_t bp,
                         rvm_partition_id ba, rvm_partition_id bb)
{
    if (p != bp) {
        return p > bp;
    }
    return a != ba ? a < ba : b < bb;
}

static struct rvm_coherence_decision decide(struct rvm_coherence *c)
{
    struct rvm_coherence_decision d = {0};
    const struct rvm_graph *g = &c->graph;
    const uint32_t n = g->capacity;
    uint32_t count[3];
    side_counts(c, count);

    /* Split: pressure at or above split_enter_bp and straddling the cut, for dwell epochs. */
    uint32_t split_slot = NONE;
    for (uint32_t i = 0; i < n; i++) { /* bound: capacity */
        if (!rvm_graph_slot_live(g, i)) {
            continue;
        }
        struct rvm_coherence_node *nd = &c->node[i];
        bool rule = !held(c, i) && !(nd->flags & RVM_COH_NODE_SPLIT_LATCHED) &&
                    nd->pressure_bp >= c->split_enter_bp && straddles(c, i, count);
        nd->split_streak = rule ? sat_inc(nd->split_streak) : 0;
        if (!rule || nd->split_streak < c->dwell_epochs) {
            continue;
        }
        if (split_slot == NONE || nd->pressure_bp > c->node[split_slot].pressure_bp ||
            (nd->pressure_bp == c->node[split_slot].pressure_bp &&
             g->nodes[i].id < g->nodes[split_slot].id)) {
            split_slot = i;
        }
    }

    /* Merge: each partition's best partner (mutual coherence at or above merge_enter_bp, which
     * implies the predicted merged score DC-11 asks for); a pair is ready when the same partner
     * stayed best for dwell epochs. */
    uint32_t ma = NONE, mb = NONE;
    uint16_t mp = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: capacity */
        if (!rvm_graph_slot_live(g, i)) {
            continue;
        }
        struct rvm_coherence_node *nd = &c->node[i];
        uint32_t best = NONE;
        uint16_t best_p = 0;
        if (!held(c, i) && nd->merge_latch == NONE && g->nodes[i].ext != 0) {
            for (uint32_t j = 0; j < n; j++) { /* bound: capacity */
                if (j == i || rvm_graph_w(g, i, j) == 0 || held(c, j) ||
                    c->node[j].merge_latch != NONE) {
                    continue;
                }
                uint16_t p = rvm_coherence_mutual_bp(c, i, j);
                if (p >= c->merge_enter_bp &&
                    (best == NONE || p > best_p ||
                     (p == best_p && g->nodes[j].id < g->nodes[best].id))) {
                    best = j;
                    best_p = p;
                }
            }
        }
        if (best == NONE) {
            nd->merge_partner = NONE;
            nd->merge_streak = 0;
            continue;
        }
        nd->merge_streak = best == nd->merge_partner ? sat_inc(nd->merge_streak) : 1;
        nd->merge_partner = best;
        if (nd->merge_streak < c->dwell_epochs) {
            continue;
        }
        rvm_partition_id lo =
            g->nodes[i].id < g->nodes[best].id ? g->nodes[i].id : g->nodes[best].id;
        rvm_partition_id hi = g->nodes[i].id ^ g->nodes[best].id ^ lo;
        if (ma == NONE || merge_better(best_p, lo, hi, mp, g->nodes[ma].id, g->nodes[mb].id)) {
            ma = g->nodes[i].id == lo ? i : best;
            mb = ma == i ? best : i;
            mp = best_p;
        }
    }

    if (split_slot != NONE && split_room(c)) {
        struct rvm_coherence_node *nd = &c->node[split_slot];
        nd->flags |= RVM_COH_NODE_SPLIT_LATCHED;
        nd->split_streak = 0;
        d.kind = RVM_COH_DECIDE_SPLIT;
        d.a = g->nodes[split_slot].id;
        d.metric_bp = nd->pressure_bp;
        d.cut_value = c->cut.value;
    } else if (ma != NONE) {
        /* The lower partition id absorbs the higher one. */
        c->node[ma].merge_latch = mb;
        c->node[mb].merge_latch = ma;
        c->node[ma].merge_streak = c->node[mb].merge_streak = 0;
        c->node[ma].merge_partner = c->node[mb].merge_partner = NONE;
        d.kind = RVM_COH_DECIDE_MERGE;
        d.a = g->nodes[ma].id;
        d.b = g->nodes[mb].id;
        d.metric_bp = mp;
        d.cut_value = c->cut.value;
    }
    return d;
}

enum rvm_err rvm_coherence_epoch(struct rvm_coherence *c, struct rvm_witness_log *log,
                                 bool available, struct rvm_coherence_epoch_report *report)
{
    return rvm_coherence_epoch_budget(c, log, available ? c->mincut_budget : 0u, report);
}

/* An epoch with this budget is a bad one: the engine is unavailable or the cut costs more. */
static bool bad_epoch(const struct rvm_coherence *c, uint64_t budget)
{
    return budget == 0u || (c->graph.live >= 2u && rvm_mincut_cost(c->graph.live) > budget);
}

bool rvm_coherence_degraded_after(const struct rvm_coherence *c, uint64_t budget)
{
    if (bad_epoch(c, budget)) {
        return c->degraded || sat_inc(c->bad_streak) >= c->degrade_after;
    }
    return c->degraded && sat_inc(c->good_streak) < c->recover_after;
}

enum rvm_err rvm_coherence_epoch_budget(struct rvm_coherence *c, struct rvm_witness_log *log,
                                        uint64_t budget, struct rvm_coherence_epoch_report *report)
{
    const bool available = budget != 0u;
    /* Budget record + degraded transition + summary: reserved so the epoch is all-or-nothing. */
    enum rvm_err err = rvm_witness_reserve(log, 3);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_coherence_epoch_report rep;
    rvm_memset(&rep, 0, sizeof(rep));
    c->epoch++;
    rep.pruned = rvm_graph_decay(&c->graph);

    if (available) {
        struct rvm_mincut_result r;
        if (rvm_mincut_compute(&c->graph, &c->scratch, budget, &r, c->cut_side) == RVM_OK) {
            c->cut = r;
            c->cut_epoch = c->epoch;
            c->have_cut = true;
            rep.cut_computed = true;
        } else {
            rep.over_budget = true;
            c->budget_overruns++;
            struct rvm_witness_entry e = {
                .kind = RVM_ACT_MINCUT_BUDGET_EXCEEDED,
                .target = c->graph.live,
                .payload = rvm_mincut_cost(c->graph.live),
                .aux = budget,
            };
            (void)rvm_witness_append(log, &e, NULL); /* reserved */
        }
        rvm_coherence_recompute(c);
        update_latches(c);
    }

    if (!available || rep.over_budget) {
        c->bad_streak = sat_inc(c->bad_streak);
        c->good_streak = 0;
        c->bad_reasons |=
            (uint8_t)(!available ? RVM_COH_DEGRADED_UNAVAILABLE : RVM_COH_DEGRADED_OVER_BUDGET);
    } else {
        c->good_streak = sat_inc(c->good_streak);
        c->bad_streak = 0;
        c->bad_reasons = 0;
    }
    if (!c->degraded && c->bad_streak >= c->degrade_after) {
        c->degraded = true;
        rep.entered_degraded = true;
        struct rvm_witness_entry e = {
            .kind = RVM_ACT_DEGRADED_ENTER,
            .flags = c->bad_reasons,
            .payload = c->bad_streak,
            .aux = c->epoch,
        };
        (void)rvm_witness_append(log, &e, NULL); /* reserved */
    } else if (c->degraded && c->good_streak >= c->recover_after) {
        c->degraded = false;
        rep.left_degraded = true;
        struct rvm_witness_entry e = {
            .kind = RVM_ACT_DEGRADED_EXIT,
            .payload = c->good_streak,
            .aux = c->epoch,
        };
        (void)rvm_witness_append(log, &e, NULL); /* reserved */
    }

    if (available && !c->degraded && cut_usable(c)) {
        rep.decision = decide(c);
    } else {
        reset_streaks(c); /* the rules must hold on consecutive evaluated epochs */
    }

    uint32_t pruned = rep.pruned;
    struct rvm_witness_entry e = {
        .kind = RVM_ACT_COHERENCE_RECOMPUTED,
        .flags = (uint8_t)((available ? RVM_COH_EPOCH_AVAILABLE : 0u) |
                           (rep.cut_computed ? RVM_COH_EPOCH_CUT_FRESH : 0u) |
                           (rep.over_budget ? RVM_COH_EPOCH_OVER_BUDGET : 0u) |
                           (c->degraded ? RVM_COH_EPOCH_DEGRADED : 0u) |
                           (uint32_t)rep.decision.kind << RVM_COH_EPOCH_DECISION_SHIFT),
        .target = (uint64_t)rep.decision.b << 32 | rep.decision.a,
        .payload = c->have_cut ? c->cut.value : 0,
        .aux = (uint64_t)c->graph.live << 32 | pruned,
    };
    (void)rvm_witness_append(log, &e, NULL); /* reserved */
    if (report != NULL) {
        *report = rep;
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Split
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_coherence_prepare_split(const struct rvm_coherence *c, uint32_t actor,
                                         const struct rvm_coherence_split_request *req,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_coherence_split_plan *plan)
{
    uint32_t src, child_slot;
    if (req == NULL || entry == NULL || plan == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((req->facts & ~(uint32_t)RVM_COH_SPLIT_FACTS_ALL) != 0 ||
        req->child == RVM_PARTITION_HYPERVISOR || req->child == RVM_PARTITION_INVALID) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (rvm_graph_find(&c->graph, req->source, &src) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    if (rvm_graph_find(&c->graph, req->child, &child_slot) == RVM_OK) {
        return RVM_ERR_EXISTS;
    }
    if (!(req->facts & RVM_COH_SPLIT_P2_PROOF)) {
        return RVM_ERR_COHERENCE_PROOF;
    }
    if (!(req->facts & RVM_COH_SPLIT_SOURCE_RUNNING)) {
        return RVM_ERR_COHERENCE_STATE;
    }
    if (c->degraded) {
        return RVM_ERR_COHERENCE_DEGRADED;
    }
    if (held(c, src)) {
        return RVM_ERR_COHERENCE_HOLD;
    }
    if (rvm_graph_check_add(&c->graph, req->child, &child_slot) != RVM_OK) {
        return RVM_ERR_GRAPH_FULL; /* the id was validated above: only the bound is left */
    }
    if (c->split_created >= c->split_limit) {
        return RVM_ERR_SPLIT_LIMIT;
    }
    if (!cut_usable(c)) {
        return RVM_ERR_CUT_STALE;
    }
    uint32_t count[3];
    side_counts(c, count);
    uint16_t pressure = rvm_graph_pressure_slot(&c->graph, src);
    if (pressure < c->split_enter_bp || !straddles(c, src, count)) {
        return RVM_ERR_SPLIT_NOT_JUSTIFIED;
    }
    rvm_memset(entry, 0, sizeof(*entry));
    entry->kind = RVM_ACT_STRUCTURAL_SPLIT;
    entry->proof_tier = RVM_PROOF_P2;
    entry->actor = actor;
    entry->target = req->source;
    entry->cap_hash = req->cap_hash;
    entry->payload = (uint64_t)pressure << 32 | req->child;
    entry->aux = c->cut.value;
    plan->source_slot = src;
    plan->child_slot = child_slot;
    plan->child = req->child;
    return RVM_OK;
}

void rvm_coherence_commit_split(struct rvm_coherence *c,
                                const struct rvm_coherence_split_plan *plan)
{
    uint32_t slot;
    if (rvm_graph_add_node(&c->graph, plan->child, &slot) != RVM_OK) {
        return; /* unreachable after a successful prepare */
    }
    node_clear(&c->node[slot]);
    c->cut_side[slot] = RVM_MINCUT_SIDE_NONE;
    c->node[slot].flags = RVM_COH_NODE_FROM_SPLIT;
    c->split_created++;
    uint64_t until = hold_until(c);
    c->node[slot].hold_until = until;
    c->node[plan->source_slot].hold_until = until;
}

/* ------------------------------------------------------------------------------------------------
 * Merge (DC-11)
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_coherence_prepare_merge(const struct rvm_coherence *c, uint32_t actor,
                                         const struct rvm_coherence_merge_request *req,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_coherence_merge_plan *plan)
{
    uint32_t a, b;
    if (req == NULL || entry == NULL || plan == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const uint32_t f = req->facts;
    if ((f & ~(uint32_t)RVM_COH_MERGE_FACTS_ALL) != 0 || req->absorber == req->absorbed) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (rvm_graph_find(&c->graph, req->absorber, &a) != RVM_OK ||
        rvm_graph_find(&c->graph, req->absorbed, &b) != RVM_OK) {
        return RVM_ERR_NOT_FOUND;
    }
    if (!(f & RVM_COH_MERGE_P2_PROOF)) {
        return RVM_ERR_COHERENCE_PROOF;
    }
    if (!(f & RVM_COH_MERGE_A_ACTIVE) || !(f & RVM_COH_MERGE_B_ACTIVE)) {
        return RVM_ERR_COHERENCE_STATE;
    }
    if (!(f & RVM_COH_MERGE_SHARED_CHANNEL)) {
        return RVM_ERR_MERGE_NO_CHANNEL;
    }
    uint16_t score = rvm_coherence_merged_score(c, a, b);
    if (score < c->merge_enter_bp) {
        return RVM_ERR_COHERENCE_LOW;
    }
    if (!(f & RVM_COH_MERGE_NO_LEASE_CONFLICT)) {
        return RVM_ERR_MERGE_LEASE_CONFLICT;
    }
    if (!(f & RVM_COH_MERGE_NO_REGION_OVERLAP)) {
        return RVM_ERR_MERGE_REGION_OVERLAP;
    }
    if (!(f & RVM_COH_MERGE_CAP_INTERSECTION)) {
        return RVM_ERR_MERGE_CAP_INTERSECTION;
    }
    if (c->degraded) {
        return RVM_ERR_COHERENCE_DEGRADED;
    }
    if (held(c, a) || held(c, b)) {
        return RVM_ERR_COHERENCE_HOLD;
    }
    rvm_memset(entry, 0, sizeof(*entry));
    entry->kind = RVM_ACT_STRUCTURAL_MERGE;
    entry->proof_tier = RVM_PROOF_P2;
    entry->actor = actor;
    entry->target = req->absorber;
    entry->cap_hash = req->cap_hash;
    entry->payload = (uint64_t)score << 32 | req->absorbed;
    entry->aux = rvm_graph_w(&c->graph, a, b);
    plan->keep_slot = a;
    plan->gone_slot = b;
    return RVM_OK;
}

void rvm_coherence_commit_merge(struct rvm_coherence *c,
                                const struct rvm_coherence_merge_plan *plan)
{
    uint32_t keep = plan->keep_slot;
    uint32_t gone = plan->gone_slot;
    if (!rvm_graph_slot_live(&c->graph, keep) || !rvm_graph_slot_live(&c->graph, gone) ||
        keep == gone) {
        return; /* unreachable after a successful prepare */
    }
    free_slot_state(c, gone);
    (void)rvm_graph_merge_slots(&c->graph, keep, gone);
    struct rvm_coherence_node *k = &c->node[keep];
    if (k->merge_latch != NONE) {
        c->node[k->merge_latch].merge_latch = NONE;
        k->merge_latch = NONE;
    }
    k->hold_until = hold_until(c);
    /* The scheduler must not see the survivor's pre-merge pressure until the next epoch. */
    rvm_coherence_recompute(c);
}

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

static bool node_is_clear(const struct rvm_coherence_node *n)
{
    return n->score_bp == RVM_BP_ONE && n->pressure_bp == 0 && n->flags == 0 &&
           n->split_streak == 0 && n->merge_partner == NONE && n->merge_streak == 0 &&
           n->merge_latch == NONE && n->hold_until == 0;
}

enum rvm_err rvm_coherence_check(const struct rvm_coherence *c)
{
    const struct rvm_graph *g = &c->graph;
    if (rvm_graph_check(g) != RVM_OK || c->scratch.capacity != g->capacity ||
        !policy_valid(g->capacity, c->split_enter_bp, c->split_exit_bp, c->straddle_bp,
                      c->merge_enter_bp, c->merge_exit_bp, c->dwell_epochs, c->split_limit,
                      c->degrade_after, c->recover_after) ||
        (c->have_cut && c->cut_epoch > c->epoch) || (c->bad_streak != 0 && c->good_streak != 0) ||
        c->split_created > c->split_limit) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t from_split = 0;
    for (uint32_t i = 0; i < g->capacity; i++) { /* bound: capacity */
        const struct rvm_coherence_node *n = &c->node[i];
        if (c->cut_side[i] > RVM_MINCUT_SIDE_B) {
            return RVM_ERR_INTERNAL;
        }
        if (!rvm_graph_slot_live(g, i)) {
            if (!node_is_clear(n) || c->cut_side[i] != RVM_MINCUT_SIDE_NONE) {
                return RVM_ERR_INTERNAL;
            }
            continue;
        }
        from_split += (n->flags & RVM_COH_NODE_FROM_SPLIT) != 0;
        uint32_t sum = (uint32_t)n->score_bp + n->pressure_bp;
        if ((n->flags & ~(uint32_t)RVM_COH_NODE_FLAGS_ALL) != 0 || n->score_bp > RVM_BP_ONE ||
            sum < RVM_BP_ONE - 1 || sum > RVM_BP_ONE) {
            return RVM_ERR_INTERNAL;
        }
        if (n->merge_partner != NONE &&
            (n->merge_partner == i || !rvm_graph_slot_live(g, n->merge_partner))) {
            return RVM_ERR_INTERNAL;
        }
        if (n->merge_latch != NONE &&
            (n->merge_latch == i || !rvm_graph_slot_live(g, n->merge_latch) ||
             c->node[n->merge_latch].merge_latch != i)) {
            return RVM_ERR_INTERNAL;
        }
    }
    if (from_split != c->split_created) {
        return RVM_ERR_INTERNAL;
    }
    return RVM_OK;
}

static void absorb_u64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    rvm_sha256_update_le64(ctx, v);
}

void rvm_coherence_hash(const struct rvm_coherence *c, struct rvm_sha256_ctx *ctx)
{
    absorb_u64(ctx, c->epoch);
    absorb_u64(ctx, (uint64_t)c->degraded | (uint64_t)c->have_cut << 1 |
                        (uint64_t)c->bad_reasons << 8 | (uint64_t)c->split_created << 32);
    absorb_u64(ctx, (uint64_t)c->bad_streak << 32 | c->good_streak);
    absorb_u64(ctx, c->budget_overruns);
    absorb_u64(ctx, c->cut_epoch);
    absorb_u64(ctx, c->cut.value);
    absorb_u64(ctx, c->cut.work);
    absorb_u64(ctx, (uint64_t)c->cut.nodes << 32 | c->cut.side_a);
    absorb_u64(ctx, (uint64_t)c->cut.valid);
    absorb_u64(ctx, c->mincut_budget);
    absorb_u64(ctx, (uint64_t)c->split_enter_bp | (uint64_t)c->split_exit_bp << 16 |
                        (uint64_t)c->straddle_bp << 32 | (uint64_t)c->merge_enter_bp << 48);
    absorb_u64(ctx, (uint64_t)c->merge_exit_bp | (uint64_t)c->dwell_epochs << 32);
    absorb_u64(ctx, (uint64_t)c->cooldown_epochs << 32 | c->cut_max_age);
    absorb_u64(ctx, (uint64_t)c->split_limit << 32 | c->degrade_after);
    absorb_u64(ctx, c->recover_after);
    for (uint32_t i = 0; i < c->graph.capacity; i++) { /* bound: capacity */
        const struct rvm_coherence_node *n = &c->node[i];
        absorb_u64(ctx, (uint64_t)n->score_bp | (uint64_t)n->pressure_bp << 16 |
                            (uint64_t)n->flags << 32 | (uint64_t)c->cut_side[i] << 40);
        absorb_u64(ctx, (uint64_t)n->split_streak << 32 | n->merge_streak);
        absorb_u64(ctx, (uint64_t)n->merge_partner << 32 | n->merge_latch);
        absorb_u64(ctx, n->hold_until);
    }
    rvm_graph_hash(&c->graph, ctx);
}
