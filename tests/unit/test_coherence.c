/* SPDX-License-Identifier: MIT */
/*
 * The coherence engine: configuration rules, scores and pressures through the engine, witnessed
 * graph mutations and their refusals, the epoch (budget exhaustion keeps the last good cut and is
 * witnessed, degraded mode entered and left with records, all-or-nothing when the witness log is
 * full), split and merge decisions with hysteresis, every DC-11 merge precondition and every split
 * precondition failing with its own error and rejection record, and a 1,000-epoch stability test.
 *
 * Expected values are computed by hand in the comments, or (for the stability test) are
 * properties: bounded, non-oscillating decision sequences.
 */
#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/coherence.h"
#include "rvm/crypto_portable.h"

#define RING 1024

struct fx {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_coherence c;
    uint64_t *storage;
};

static struct rvm_coherence_config cfg_for(uint32_t cap)
{
    struct rvm_coherence_config cfg;
    rvm_coherence_default_config(&cfg, cap);
    cfg.decay_bp = 0; /* hand-computable weights unless a test wants decay */
    return cfg;
}

static struct fx *fx_new(struct rvm_coherence_config cfg)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    size_t bytes = RVM_COHERENCE_STORAGE_BYTES(cfg.capacity);
    f->storage = malloc(bytes);
    cfg.storage = f->storage;
    cfg.storage_bytes = bytes;
    assert_int_equal(rvm_coherence_init(&f->c, &cfg), RVM_OK);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);
    return f;
}

static void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f->storage);
    free(f);
}

static uint64_t nrec(struct fx *f)
{
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    return f->rec.sink.count;
}

static struct rvm_witness_record rec_at(struct fx *f, uint64_t i)
{
    assert_true(i < nrec(f));
    struct rvm_witness_record r;
    assert_true(rvm_witness_decode(f->rec.sink.records + i * RVM_WITNESS_RECORD_BYTES, &r));
    return r;
}

static struct rvm_witness_record last_rec(struct fx *f)
{
    return rec_at(f, nrec(f) - 1);
}

static uint64_t count_kind(struct fx *f, uint8_t kind)
{
    uint64_t n = 0, total = nrec(f);
    for (uint64_t i = 0; i < total; i++) {
        n += rec_at(f, i).kind == kind;
    }
    return n;
}

static void add(struct fx *f, rvm_partition_id id)
{
    assert_int_equal(witnessed_coherence_add_partition(&f->c, &f->log, 0, id), RVM_OK);
}

static void ipc(struct fx *f, rvm_partition_id a, rvm_partition_id b, uint64_t w)
{
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, a, a, b, w), RVM_OK);
}

static struct rvm_coherence_epoch_report epoch(struct fx *f, bool available)
{
    struct rvm_coherence_epoch_report rep;
    assert_int_equal(rvm_coherence_epoch(&f->c, &f->log, available, &rep), RVM_OK);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);
    return rep;
}

/* The last record is a rejection of `kind` at `stage` with `err`. */
static void assert_rejected(struct fx *f, uint8_t kind, uint8_t stage, enum rvm_err err,
                            uint64_t target)
{
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal(r.flags, stage);
    assert_int_equal(r.payload & 0xFFFFFFFFu, (uint32_t)err);
    assert_int_equal(r.payload >> 32, kind);
    assert_int_equal(r.target, target);
}

static void digest(const struct rvm_coherence *c, const struct rvm_crypto *crypto, uint8_t out[32])
{
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, crypto);
    rvm_coherence_hash(c, &ctx);
    rvm_sha256_final(&ctx, out);
}

/* ------------------------------------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------------------------------- */

static void test_init_validation(void **state)
{
    (void)state;
    struct rvm_coherence c;
    const uint32_t cap = 8;
    size_t bytes = RVM_COHERENCE_STORAGE_BYTES(cap);
    uint64_t *buf = malloc(bytes + 8);
    struct rvm_coherence_config good = cfg_for(cap);
    good.storage = buf;
    good.storage_bytes = bytes;
    assert_int_equal(rvm_coherence_init(&c, &good), RVM_OK);
    assert_int_equal(rvm_coherence_check(&c), RVM_OK);

    struct rvm_coherence_config bad;
#define EXPECT_BAD(stmt)                                                                           \
    do {                                                                                           \
        bad = good;                                                                                \
        stmt;                                                                                      \
        assert_int_equal(rvm_coherence_init(&c, &bad), RVM_ERR_INVALID_ARGUMENT);                  \
    } while (0)
    EXPECT_BAD(bad.storage = NULL);
    EXPECT_BAD(bad.storage = (uint8_t *)buf + 4);
    EXPECT_BAD(bad.storage_bytes = bytes - 1);
    EXPECT_BAD(bad.capacity = 1);
    EXPECT_BAD(bad.capacity = 16); /* storage too small for it */
    EXPECT_BAD(bad.capacity = RVM_GRAPH_MAX_CAPACITY + 1u);
    assert_int_equal(rvm_coherence_init(NULL, &good), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_coherence_init(&c, NULL), RVM_ERR_INVALID_ARGUMENT);
    EXPECT_BAD(bad.decay_bp = 10001);
    EXPECT_BAD(bad.split_enter_bp = 10001);
    EXPECT_BAD(bad.split_exit_bp = 8001); /* above enter */
    EXPECT_BAD(bad.merge_exit_bp = 7001); /* above enter */
    EXPECT_BAD(bad.merge_enter_bp = 10001);
    EXPECT_BAD(bad.straddle_bp = 0);
    EXPECT_BAD(bad.straddle_bp = 5001);
    EXPECT_BAD(bad.dwell_epochs = 0);
    EXPECT_BAD(bad.degrade_after = 0);
    EXPECT_BAD(bad.recover_after = 0);
    EXPECT_BAD(bad.split_limit = cap + 1);
    /* the anti-oscillation rule: merge_enter + split_exit must exceed 10000 */
    EXPECT_BAD((bad.merge_enter_bp = 7000, bad.split_exit_bp = 3000));
    bad = good;
    bad.merge_enter_bp = 7000;
    bad.split_exit_bp = 3001;
    assert_int_equal(rvm_coherence_init(&c, &bad), RVM_OK);
#undef EXPECT_BAD
    free(buf);
}

/* ------------------------------------------------------------------------------------------------
 * Graph mutations and scores
 * --------------------------------------------------------------------------------------------- */

static void test_mutations_witnessed_and_refused(void **state)
{
    (void)state;
    struct fx *f = fx_new(cfg_for(4));
    add(f, 1);
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_GRAPH_MUTATION);
    assert_int_equal(r.flags, RVM_COH_OP_ADD);
    assert_int_equal(r.target, 1);
    add(f, 2);
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, 7, 1, 2, 33), RVM_OK);
    r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_GRAPH_MUTATION);
    assert_int_equal(r.flags, RVM_COH_OP_IPC);
    assert_int_equal(r.actor, 7);
    assert_int_equal(r.target, 1);
    assert_int_equal(r.payload, 2);
    assert_int_equal(r.aux, 33);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 2), 33);

    /* refusals: a rejection record each, nothing changes */
    uint8_t before[32], after[32];
    digest(&f->c, &f->crypto, before);
    assert_int_equal(witnessed_coherence_add_partition(&f->c, &f->log, 3, 1), RVM_ERR_EXISTS);
    assert_rejected(f, RVM_ACT_GRAPH_MUTATION, RVM_STAGE_DECODE, RVM_ERR_EXISTS, 1);
    assert_int_equal(witnessed_coherence_add_partition(&f->c, &f->log, 3, 0),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_rejected(f, RVM_ACT_GRAPH_MUTATION, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT, 0);
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, 3, 1, 9, 1), RVM_ERR_NOT_FOUND);
    assert_rejected(f, RVM_ACT_GRAPH_MUTATION, RVM_STAGE_DECODE, RVM_ERR_NOT_FOUND, 1);
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, 3, 9, 1, 1), RVM_ERR_NOT_FOUND);
    assert_rejected(f, RVM_ACT_GRAPH_MUTATION, RVM_STAGE_DECODE, RVM_ERR_NOT_FOUND, 9);
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, 3, 1, 2, 0),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(
        witnessed_coherence_record_ipc(&f->c, &f->log, 3, 1, 2, RVM_GRAPH_WEIGHT_MAX + 1),
        RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(witnessed_coherence_remove_partition(&f->c, &f->log, 3, 9), RVM_ERR_NOT_FOUND);
    add(f, 3);
    add(f, 4);
    digest(&f->c, &f->crypto, before);
    assert_int_equal(witnessed_coherence_add_partition(&f->c, &f->log, 3, 5), RVM_ERR_GRAPH_FULL);
    assert_rejected(f, RVM_ACT_GRAPH_MUTATION, RVM_STAGE_PRECONDITION, RVM_ERR_GRAPH_FULL, 5);
    digest(&f->c, &f->crypto, after);
    assert_memory_equal(before, after, 32);

    /* removal frees the slot for a new partition */
    assert_int_equal(witnessed_coherence_remove_partition(&f->c, &f->log, 0, 2), RVM_OK);
    assert_int_equal(last_rec(f).flags, RVM_COH_OP_REMOVE);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 2), 0);
    add(f, 5);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);

    /* with the witness log unable to take a record, the mutation does not happen */
    f->rec.drain_limit = 0;
    uint64_t appended = f->log.appended;
    for (uint64_t i = appended; i < RING + appended; i++) {
        if (witnessed_coherence_record_ipc(&f->c, &f->log, 0, 1, 5, 1) != RVM_OK) {
            break;
        }
    }
    digest(&f->c, &f->crypto, before);
    uint64_t w = rvm_graph_weight(&f->c.graph, 1, 5);
    assert_int_equal(witnessed_coherence_record_ipc(&f->c, &f->log, 0, 1, 5, 1),
                     RVM_ERR_WITNESS_FULL);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 5), w);
    digest(&f->c, &f->crypto, after);
    assert_memory_equal(before, after, 32);
    f->rec.drain_limit = UINT64_MAX;
    fx_free(f);
}

static void test_scores_and_pressures(void **state)
{
    (void)state;
    struct fx *f = fx_new(cfg_for(8));
    for (uint32_t i = 1; i <= 4; i++) {
        add(f, i);
    }
    /* 1: internal 30, external 10 (to 2) + 20 (to 3) -> score 5000, pressure 5000
     * 2: internal 0, external 10 -> 0 / 10000
     * 3: internal 5, external 20 -> 2000 / 8000
     * 4: nothing -> 10000 / 0 */
    ipc(f, 1, 1, 30);
    ipc(f, 1, 2, 4);
    ipc(f, 2, 1, 6);
    ipc(f, 3, 1, 20);
    ipc(f, 3, 3, 5);
    /* before any epoch, everything is at its initial value */
    assert_int_equal(rvm_coherence_score(&f->c, 1), 10000);
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 0);
    epoch(f, true);
    assert_int_equal(rvm_coherence_score(&f->c, 1), 5000);
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 5000);
    assert_int_equal(rvm_coherence_score(&f->c, 2), 0);
    assert_int_equal(rvm_coherence_pressure(&f->c, 2), 10000);
    assert_int_equal(rvm_coherence_score(&f->c, 3), 2000);
    assert_int_equal(rvm_coherence_pressure(&f->c, 3), 8000);
    assert_int_equal(rvm_coherence_score(&f->c, 4), 10000);
    assert_int_equal(rvm_coherence_pressure(&f->c, 4), 0);
    assert_int_equal(rvm_coherence_pressure_slot(&f->c, 2), 8000);
    assert_int_equal(rvm_coherence_pressure_slot(&f->c, 7), 0);
    assert_int_equal(rvm_coherence_pressure_slot(&f->c, UINT32_MAX), 0);
    /* unknown partitions */
    assert_int_equal(rvm_coherence_score(&f->c, 99), 10000);
    assert_int_equal(rvm_coherence_pressure(&f->c, 99), 0);
    /* predicted merged score of 1 and 3: internal 30 + 5 + 20 = 55, total 60 + 25 - 20 = 65 ->
     * 8461.5.. ; of 1 and 2: (30 + 0 + 10) / (60 + 10 - 10) = 40 / 60 -> 6666 */
    assert_int_equal(rvm_coherence_merged_score(&f->c, 0, 2), 8461);
    assert_int_equal(rvm_coherence_merged_score(&f->c, 0, 1), 6666);
    /* mutual coherence: the edge over the same denominators: 20 / 65 -> 3076, 10 / 60 -> 1666;
     * never above the merged score */
    assert_int_equal(rvm_coherence_mutual_bp(&f->c, 0, 2), 3076);
    assert_int_equal(rvm_coherence_mutual_bp(&f->c, 0, 1), 1666);
    assert_int_equal(rvm_coherence_mutual_bp(&f->c, 0, 3), 0);
    /* the epoch record: one per epoch, cut value of {1,2,3} | {4} is 0 */
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_COHERENCE_RECOMPUTED);
    assert_int_equal(r.flags, RVM_COH_EPOCH_AVAILABLE | RVM_COH_EPOCH_CUT_FRESH);
    assert_int_equal(r.payload, 0);
    assert_int_equal(r.aux, (uint64_t)4 << 32);
    assert_int_equal(r.actor, 0);
    fx_free(f);
}

/* With decay the engine's epoch decays the graph before scoring (RVM's 5 %). */
static void test_epoch_decays(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(4);
    cfg.decay_bp = 500;
    struct fx *f = fx_new(cfg);
    add(f, 1);
    add(f, 2);
    ipc(f, 1, 2, 1);
    ipc(f, 1, 1, 100);
    struct rvm_coherence_epoch_report rep = epoch(f, true);
    /* 1 -> 0 (pruned), 100 -> 95 */
    assert_int_equal(rep.pruned, 1);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 2), 0);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 1), 95);
    assert_int_equal(last_rec(f).aux, (uint64_t)2 << 32 | 1);
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 0);
    fx_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Budget and degraded mode
 * --------------------------------------------------------------------------------------------- */

static void test_budget_exhaustion_keeps_last_good_cut(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(8);
    cfg.mincut_budget = rvm_mincut_cost(4); /* 19 units: enough for 4 nodes, not for 5 */
    cfg.degrade_after = 100;
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 1; i <= 4; i++) {
        add(f, i);
    }
    /* 1 -2- 2 -9- 3 -4- 4 (a path): the min cut is the edge of weight 2 */
    ipc(f, 1, 2, 2);
    ipc(f, 2, 3, 9);
    ipc(f, 3, 4, 4);
    struct rvm_coherence_epoch_report rep = epoch(f, true);
    assert_true(rep.cut_computed);
    assert_false(rep.over_budget);
    assert_int_equal(f->c.cut.value, 2);
    assert_int_equal(f->c.cut_epoch, 1);
    assert_int_equal(f->c.cut_side[0], RVM_MINCUT_SIDE_A);
    assert_int_equal(f->c.cut_side[1], RVM_MINCUT_SIDE_B);
    struct rvm_mincut_result good = f->c.cut;
    uint8_t sides[8];
    memcpy(sides, f->c.cut_side, sizeof(sides));

    /* a fifth partition makes the full cut cost 3+6+10+15 = 34 units: over budget */
    add(f, 5);
    ipc(f, 5, 4, 1);
    uint64_t before = nrec(f);
    rep = epoch(f, true);
    assert_false(rep.cut_computed);
    assert_true(rep.over_budget);
    assert_memory_equal(&f->c.cut, &good, sizeof(good));
    assert_memory_equal(f->c.cut_side, sides, sizeof(sides));
    assert_int_equal(f->c.cut_epoch, 1);
    assert_int_equal(f->c.budget_overruns, 1);
    /* witnessed: the overrun, then the epoch summary with the old cut's value */
    assert_int_equal(nrec(f), before + 2);
    struct rvm_witness_record r = rec_at(f, before);
    assert_int_equal(r.kind, RVM_ACT_MINCUT_BUDGET_EXCEEDED);
    assert_int_equal(r.actor, 0);
    assert_int_equal(r.target, 5);
    assert_int_equal(r.payload, 34);
    assert_int_equal(r.aux, 19);
    r = rec_at(f, before + 1);
    assert_int_equal(r.kind, RVM_ACT_COHERENCE_RECOMPUTED);
    assert_int_equal(r.flags, RVM_COH_EPOCH_AVAILABLE | RVM_COH_EPOCH_OVER_BUDGET);
    assert_int_equal(r.payload, 2);
    /* scores are still recomputed: 5 now has pressure 10000 */
    assert_int_equal(rvm_coherence_pressure(&f->c, 5), 10000);

    /* removing the fifth brings the cut back within budget */
    assert_int_equal(witnessed_coherence_remove_partition(&f->c, &f->log, 0, 5), RVM_OK);
    rep = epoch(f, true);
    assert_true(rep.cut_computed);
    assert_int_equal(f->c.cut_epoch, 3);
    fx_free(f);
}

static void test_degraded_mode(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(8);
    cfg.degrade_after = 3;
    cfg.recover_after = 2;
    struct fx *f = fx_new(cfg);
    add(f, 1);
    add(f, 2);
    ipc(f, 1, 2, 10);
    epoch(f, true);
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 10000);

    /* two bad epochs, a good one: the streak restarts */
    epoch(f, false);
    epoch(f, false);
    epoch(f, true);
    epoch(f, false);
    epoch(f, false);
    assert_false(rvm_coherence_degraded(&f->c));
    assert_int_equal(count_kind(f, RVM_ACT_DEGRADED_ENTER), 0);
    /* the third consecutive bad epoch enters degraded mode, witnessed */
    struct rvm_coherence_epoch_report rep = epoch(f, false);
    assert_true(rep.entered_degraded);
    assert_true(rvm_coherence_degraded(&f->c));
    assert_int_equal(count_kind(f, RVM_ACT_DEGRADED_ENTER), 1);
    struct rvm_witness_record r = rec_at(f, nrec(f) - 2);
    assert_int_equal(r.kind, RVM_ACT_DEGRADED_ENTER);
    assert_int_equal(r.flags, RVM_COH_DEGRADED_UNAVAILABLE);
    assert_int_equal(r.payload, 3);
    assert_int_equal(r.aux, 7);
    r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_COHERENCE_RECOMPUTED);
    assert_int_equal(r.flags, RVM_COH_EPOCH_DEGRADED);
    /* the scheduler sees no pressure; the score is still readable */
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 0);
    assert_int_equal(rvm_coherence_pressure_slot(&f->c, 0), 0);
    assert_int_equal(rvm_coherence_score(&f->c, 1), 0);
    /* split and merge are disabled */
    struct rvm_coherence_merge_request mr = {
        .absorber = 1, .absorbed = 2, .facts = RVM_COH_MERGE_FACTS_ALL};
    ipc(f, 1, 1, 1000);
    epoch(f, false);
    assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 0, &mr), RVM_ERR_COHERENCE_DEGRADED);
    assert_rejected(f, RVM_ACT_STRUCTURAL_MERGE, RVM_STAGE_PRECONDITION, RVM_ERR_COHERENCE_DEGRADED,
                    1);
    /* staying bad does not witness again; one good epoch is not enough to leave */
    epoch(f, false);
    assert_int_equal(count_kind(f, RVM_ACT_DEGRADED_ENTER), 1);
    rep = epoch(f, true);
    assert_false(rep.left_degraded);
    assert_true(rvm_coherence_degraded(&f->c));
    assert_int_equal(rep.decision.kind, RVM_COH_DECIDE_NONE);
    rep = epoch(f, true);
    assert_true(rep.left_degraded);
    assert_false(rvm_coherence_degraded(&f->c));
    r = rec_at(f, nrec(f) - 2);
    assert_int_equal(r.kind, RVM_ACT_DEGRADED_EXIT);
    assert_int_equal(r.payload, 2);
    assert_int_equal(count_kind(f, RVM_ACT_DEGRADED_EXIT), 1);
    assert_int_equal(rvm_coherence_pressure(&f->c, 2), 10000);
    fx_free(f);
}

static void test_degraded_by_budget(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(8);
    cfg.mincut_budget = 2; /* not even two nodes */
    cfg.degrade_after = 2;
    struct fx *f = fx_new(cfg);
    add(f, 1);
    add(f, 2);
    epoch(f, true);
    assert_false(rvm_coherence_degraded(&f->c));
    struct rvm_coherence_epoch_report rep = epoch(f, true);
    assert_true(rep.over_budget);
    assert_true(rep.entered_degraded);
    assert_int_equal(count_kind(f, RVM_ACT_MINCUT_BUDGET_EXCEEDED), 2);
    struct rvm_witness_record r = rec_at(f, nrec(f) - 2);
    assert_int_equal(r.kind, RVM_ACT_DEGRADED_ENTER);
    assert_int_equal(r.flags, RVM_COH_DEGRADED_OVER_BUDGET);
    fx_free(f);
}

/* An epoch that cannot be witnessed does not happen at all. */
static void test_epoch_all_or_nothing(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(8);
    cfg.decay_bp = 500;
    struct fx *f = fx_new(cfg);
    add(f, 1);
    add(f, 2);
    ipc(f, 1, 2, 1000);
    f->rec.drain_limit = 0;
    /* fill the ring up to one free record: fewer than the three an epoch reserves */
    while (rvm_witness_pending(&f->log) < RING - 1) {
        ipc(f, 1, 1, 1);
    }
    uint8_t before[32], after[32];
    digest(&f->c, &f->crypto, before);
    assert_int_equal(rvm_coherence_epoch(&f->c, &f->log, true, NULL), RVM_ERR_WITNESS_FULL);
    digest(&f->c, &f->crypto, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(f->c.epoch, 0);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 2), 1000);
    f->rec.drain_limit = UINT64_MAX;
    epoch(f, true);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 2), 950);
    fx_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Split
 * --------------------------------------------------------------------------------------------- */

/*
 * Two clusters {1,2,3} and {4,5,6} (every pair 100) and a hub 7 talking 60 to 1 and 60 to 4.
 * Min cut: 60 (the hub goes with one cluster). Hub: pressure 10000, half (5000 bp) of its external
 * weight crosses the cut: it straddles. Cluster nodes: pressure 10000, but node 1 (or 4) sends
 * only 60 / 260 = 2307 bp across, below the 2500 straddle threshold; the others send nothing.
 * No pair qualifies for merging: e.g. 2 and 3 would score 100 / 300 = 3333.
 */
static void hub_traffic(struct fx *f, uint64_t scale)
{
    const rvm_partition_id x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            ipc(f, x[i], x[j], 100 * scale);
            ipc(f, y[i], y[j], 100 * scale);
        }
    }
    ipc(f, 7, 1, 60 * scale);
    ipc(f, 4, 7, 60 * scale);
}

static struct fx *hub_fixture(struct rvm_coherence_config cfg)
{
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 1; i <= 7; i++) {
        add(f, i);
    }
    hub_traffic(f, 1);
    return f;
}

static void test_split_decision_with_dwell_and_latch(void **state)
{
    (void)state;
    struct fx *f = hub_fixture(cfg_for(16));
    /* dwell 3: the rule has to hold on three consecutive epochs */
    assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    assert_int_equal(f->c.cut.value, 60);
    assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    struct rvm_coherence_epoch_report rep = epoch(f, true);
    assert_int_equal(rep.decision.kind, RVM_COH_DECIDE_SPLIT);
    assert_int_equal(rep.decision.a, 7);
    assert_int_equal(rep.decision.metric_bp, 10000);
    assert_int_equal(rep.decision.cut_value, 60);
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_COHERENCE_RECOMPUTED);
    assert_int_equal(r.flags >> RVM_COH_EPOCH_DECISION_SHIFT, RVM_COH_DECIDE_SPLIT);
    assert_int_equal(r.target, 7);
    /* latched: the same traffic never recommends it again (RVM recommends on every tick) */
    for (int i = 0; i < 200; i++) {
        hub_traffic(f, 1);
        assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    }
    fx_free(f);
}

/*
 * The split latch is a Schmitt trigger: after a recommendation the hub is re-armed only when its
 * pressure falls below split_exit_bp (6000), not when it merely dips below split_enter_bp (8000).
 * Decay 50 % per epoch makes the graph follow the traffic within a few epochs. With internal
 * traffic I and external 120 per epoch the hub's pressure settles at 120 / (120 + I):
 * I = 50 -> 7058 (between the thresholds), I = 200 -> 3750 (below exit).
 */
static void test_split_latch_rearms_below_exit(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(16);
    cfg.decay_bp = 5000;
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 1; i <= 7; i++) {
        add(f, i);
    }
    uint32_t splits = 0;
    uint64_t internal[5] = {0, 50, 0, 200, 0};
    uint32_t splits_after[5];
    for (int phase = 0; phase < 5; phase++) {
        for (int e = 0; e < 30; e++) {
            hub_traffic(f, 1);
            if (internal[phase] != 0) {
                ipc(f, 7, 7, internal[phase]);
            }
            struct rvm_coherence_epoch_report rep = epoch(f, true);
            if (rep.decision.kind == RVM_COH_DECIDE_SPLIT) {
                assert_int_equal(rep.decision.a, 7);
                splits++;
            }
            assert_int_not_equal(rep.decision.kind, RVM_COH_DECIDE_MERGE);
        }
        splits_after[phase] = splits;
    }
    assert_int_equal(splits_after[0], 1); /* recommended once */
    assert_int_equal(splits_after[1], 1); /* 7058: latched */
    assert_int_equal(splits_after[2], 1); /* back to 10000: still latched, no new excursion */
    assert_int_equal(splits_after[3], 1); /* 3750: re-armed, nothing to recommend */
    assert_int_equal(splits_after[4], 2); /* a new excursion above 8000: recommended again */
    fx_free(f);
}

/* A leaf alone on its side of the cut is the weakest boundary itself: splitting it separates
 * nothing, so it is never split, even though all of its (external) weight crosses the cut. */
static void test_lone_leaf_is_not_split(void **state)
{
    (void)state;
    struct fx *f = hub_fixture(cfg_for(16));
    add(f, 8);
    ipc(f, 8, 2, 10); /* min cut: {8} | rest, value 10; the hub no longer straddles it */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    }
    assert_int_equal(f->c.cut.value, 10);
    assert_int_equal(f->c.cut.nodes - f->c.cut.side_a, 1);
    assert_int_equal(rvm_coherence_pressure(&f->c, 8), 10000);
    struct rvm_coherence_split_request q = {
        .source = 8, .child = 100, .facts = RVM_COH_SPLIT_FACTS_ALL};
    assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 0, &q), RVM_ERR_SPLIT_NOT_JUSTIFIED);
    fx_free(f);
}

static struct rvm_coherence_split_request split_req(rvm_partition_id src, rvm_partition_id child)
{
    struct rvm_coherence_split_request q = {
        .source = src, .child = child, .facts = RVM_COH_SPLIT_FACTS_ALL, .cap_hash = 0xC0FFEE};
    return q;
}

static void test_split_preconditions(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(9);
    cfg.split_limit = 1;
    cfg.cut_max_age = 1;
    cfg.cooldown_epochs = 5;
    cfg.degrade_after = 50;
    struct fx *f = hub_fixture(cfg);
    struct rvm_coherence_split_request q = split_req(7, 100);

    /* no cut yet */
    assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 9, &q), RVM_ERR_CUT_STALE);
    assert_rejected(f, RVM_ACT_STRUCTURAL_SPLIT, RVM_STAGE_PRECONDITION, RVM_ERR_CUT_STALE, 7);
    assert_int_equal(last_rec(f).proof_tier, RVM_PROOF_P2);
    assert_int_equal(last_rec(f).cap_hash, 0xC0FFEE);
    assert_int_equal(last_rec(f).actor, 9);
    epoch(f, true);

    uint8_t before[32], after[32];
    digest(&f->c, &f->crypto, before);
    struct rvm_coherence_split_request b;
#define EXPECT_SPLIT(stmt, err, stage)                                                             \
    do {                                                                                           \
        b = q;                                                                                     \
        stmt;                                                                                      \
        assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 9, &b), err);                   \
        assert_rejected(f, RVM_ACT_STRUCTURAL_SPLIT, stage, err, b.source);                        \
    } while (0)
    EXPECT_SPLIT(b.facts |= 1u << 5, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    EXPECT_SPLIT(b.child = 0, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    EXPECT_SPLIT(b.child = RVM_PARTITION_INVALID, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    EXPECT_SPLIT(b.source = 42, RVM_ERR_NOT_FOUND, RVM_STAGE_DECODE);
    EXPECT_SPLIT(b.child = 3, RVM_ERR_EXISTS, RVM_STAGE_DECODE);
    EXPECT_SPLIT(b.facts &= ~(uint32_t)RVM_COH_SPLIT_P2_PROOF, RVM_ERR_COHERENCE_PROOF,
                 RVM_STAGE_P2);
    assert_int_equal(last_rec(f).proof_tier, RVM_PROOF_NONE);
    EXPECT_SPLIT(b.facts &= ~(uint32_t)RVM_COH_SPLIT_SOURCE_RUNNING, RVM_ERR_COHERENCE_STATE,
                 RVM_STAGE_PRECONDITION);
    EXPECT_SPLIT(b.source = 2, RVM_ERR_SPLIT_NOT_JUSTIFIED, RVM_STAGE_PRECONDITION);
    EXPECT_SPLIT(b.source = 1, RVM_ERR_SPLIT_NOT_JUSTIFIED, RVM_STAGE_PRECONDITION);
    digest(&f->c, &f->crypto, after);
    assert_memory_equal(before, after, 32);

    /* the good one: witnessed with the child, the pressure and the cut */
    assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 9, &q), RVM_OK);
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_STRUCTURAL_SPLIT);
    assert_int_equal(r.actor, 9);
    assert_int_equal(r.proof_tier, RVM_PROOF_P2);
    assert_int_equal(r.target, 7);
    assert_int_equal(r.payload, (uint64_t)10000 << 32 | 100);
    assert_int_equal(r.aux, 60);
    assert_int_equal(r.cap_hash, 0xC0FFEE);
    assert_int_equal(f->c.split_created, 1);
    uint32_t slot;
    assert_int_equal(rvm_graph_find(&f->c.graph, 100, &slot), RVM_OK);
    assert_int_equal(f->c.node[slot].flags, RVM_COH_NODE_FROM_SPLIT);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);

    /* cooldown: the source and the child are held */
    EXPECT_SPLIT(b.child = 101, RVM_ERR_COHERENCE_HOLD, RVM_STAGE_PRECONDITION);
    for (int i = 0; i < 5; i++) {
        epoch(f, true);
    }
    /* after the cooldown: the split limit (1) is reached */
    EXPECT_SPLIT(b.child = 101, RVM_ERR_SPLIT_LIMIT, RVM_STAGE_PRECONDITION);
    /* the graph bound (9 = 8 live + 1) comes first when the graph is full */
    add(f, 200);
    EXPECT_SPLIT(b.child = 101, RVM_ERR_GRAPH_FULL, RVM_STAGE_PRECONDITION);
    assert_int_equal(witnessed_coherence_remove_partition(&f->c, &f->log, 0, 200), RVM_OK);
    /* removing the child frees its split allowance */
    assert_int_equal(witnessed_coherence_remove_partition(&f->c, &f->log, 0, 100), RVM_OK);
    assert_int_equal(f->c.split_created, 0);
    /* a cut older than cut_max_age (1) justifies nothing: two epochs without the engine */
    epoch(f, false);
    epoch(f, false);
    EXPECT_SPLIT(b.child = 101, RVM_ERR_CUT_STALE, RVM_STAGE_PRECONDITION);
    epoch(f, true);
    b = q;
    b.child = 101;
    assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 9, &b), RVM_OK);
#undef EXPECT_SPLIT
    fx_free(f);
}

/* The bound on partitions created by splitting holds for recommendations too. */
static void test_split_limit_bounds_recommendations(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(16);
    cfg.split_limit = 0;
    struct fx *f = hub_fixture(cfg);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    }
    fx_free(f);
    /* nor when the graph has no room for the child (prepare_split: GRAPH_FULL): the hub
     * pattern's seven partitions fill a graph of seven */
    f = hub_fixture(cfg_for(7));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    }
    fx_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Merge (DC-11)
 * --------------------------------------------------------------------------------------------- */

/*
 * 1 and 2 talk 100 to each other and 10 internally each; 1 talks 5 to 3; 3 has 1000 internal.
 * merged(1,2) = (10 + 10 + 100) / (115 + 110 - 100) = 120 / 125 = 9600, mutual 100 / 125 = 8000.
 * merged(1,3) = (10 + 1000 + 5) / (115 + 1005 - 5) = 1015 / 1115 = 9103.1.. (DC-11 would allow
 * it) but mutual 5 / 1115 = 44: two coherent partitions with a trickle between them are not
 * merge candidates.
 */
static struct fx *pair_fixture(struct rvm_coherence_config cfg)
{
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 1; i <= 4; i++) {
        add(f, i);
    }
    ipc(f, 1, 2, 100);
    ipc(f, 1, 1, 10);
    ipc(f, 2, 2, 10);
    ipc(f, 1, 3, 5);
    ipc(f, 3, 3, 1000);
    return f;
}

static void test_merge_decision(void **state)
{
    (void)state;
    struct fx *f = pair_fixture(cfg_for(8));
    epoch(f, true);
    assert_int_equal(rvm_coherence_merged_score(&f->c, 0, 1), 9600);
    assert_int_equal(rvm_coherence_merged_score(&f->c, 0, 2), 9103);
    assert_int_equal(rvm_coherence_mutual_bp(&f->c, 0, 1), 8000);
    assert_int_equal(rvm_coherence_mutual_bp(&f->c, 0, 2), 44);
    epoch(f, true);
    struct rvm_coherence_epoch_report rep = epoch(f, true);
    assert_int_equal(rep.decision.kind, RVM_COH_DECIDE_MERGE);
    assert_int_equal(rep.decision.a, 1);
    assert_int_equal(rep.decision.b, 2);
    assert_int_equal(rep.decision.metric_bp, 8000);
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.flags >> RVM_COH_EPOCH_DECISION_SHIFT, RVM_COH_DECIDE_MERGE);
    assert_int_equal(r.target, (uint64_t)2 << 32 | 1);
    /* latched: not recommended again while the pair stays above merge_exit */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    }
    /* 1 merged with 3 instead (merged score 9103 >= 7000): the latch 1 held with 2 is released
     * on both sides (rvm_coherence_check: a latch names a live partner latched back) */
    struct rvm_coherence_merge_request q = {
        .absorber = 1, .absorbed = 3, .facts = RVM_COH_MERGE_FACTS_ALL, .cap_hash = 0};
    assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 5, &q), RVM_OK);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);
    assert_int_equal(f->c.node[0].merge_latch, RVM_GRAPH_SLOT_NONE);
    assert_int_equal(f->c.node[1].merge_latch, RVM_GRAPH_SLOT_NONE);
    assert_int_equal(epoch(f, true).decision.kind, RVM_COH_DECIDE_NONE);
    /* the epoch's report is optional */
    assert_int_equal(rvm_coherence_epoch_budget(&f->c, &f->log, 0, NULL), RVM_OK);
    fx_free(f);
}

/*
 * Ties are broken the same way whatever order the partitions joined the graph in, so a
 * recommendation depends on the traffic alone (docs/coherence.md: the cut is canonical; the lower
 * id absorbs the higher). Each pattern is run with the partitions added in ascending, descending
 * and a rotated order, and the decision after dwell_epochs must be the same in all three.
 */
typedef void (*traffic_pattern)(struct fx *f);

/* Cliques {1,2,3} and {4,5,6} (100 per edge) and two hubs, 7 between 1 (60) and 4 (70) and 8
 * between 2 (60) and 5 (70): the one minimum cut (120) is {1,2,3} | the rest, and each hub sends
 * 60 of its 130 across it (4615 bp >= straddle 2500) with pressure 10000. */
static void two_hubs(struct fx *f)
{
    const rvm_partition_id x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            ipc(f, x[i], x[j], 100);
            ipc(f, y[i], y[j], 100);
        }
    }
    ipc(f, 7, 1, 60);
    ipc(f, 7, 4, 70);
    ipc(f, 8, 2, 60);
    ipc(f, 8, 5, 70);
}

/* The same with internal traffic at hub 8: pressure 130 / 140 = 9285 bp, still >= 8000. */
static void two_unequal_hubs(struct fx *f)
{
    two_hubs(f);
    ipc(f, 8, 8, 10);
}

static void one_partner_two_ways(struct fx *f)
{
    ipc(f, 1, 1, 1000);
    ipc(f, 1, 2, 100);
    ipc(f, 1, 3, 100);
}

static void one_partner_preferred(struct fx *f)
{
    ipc(f, 1, 1, 1000);
    ipc(f, 1, 2, 100);
    ipc(f, 1, 3, 150);
}

static void two_pairs(struct fx *f)
{
    ipc(f, 1, 2, 100);
    ipc(f, 3, 4, 100);
}

static void unequal_pairs(struct fx *f)
{
    ipc(f, 1, 2, 100);
    ipc(f, 3, 4, 100);
    ipc(f, 3, 3, 20);
}

static struct rvm_coherence_decision decide_in_order(struct rvm_coherence_config cfg,
                                                     const rvm_partition_id *ids, uint32_t n,
                                                     traffic_pattern pattern)
{
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 0; i < n; i++) {
        add(f, ids[i]);
    }
    pattern(f);
    struct rvm_coherence_decision d = {0};
    for (uint32_t e = 0; e < cfg.dwell_epochs; e++) {
        d = epoch(f, true).decision;
    }
    fx_free(f);
    return d;
}

static struct rvm_coherence_decision same_in_every_order(struct rvm_coherence_config cfg,
                                                         uint32_t n, traffic_pattern pattern)
{
    rvm_partition_id up[8], down[8], rot[8];
    for (uint32_t i = 0; i < n; i++) {
        up[i] = i + 1u;
        down[i] = n - i;
        rot[i] = (i + n / 2u) % n + 1u;
    }
    struct rvm_coherence_decision d = decide_in_order(cfg, up, n, pattern);
    const rvm_partition_id *others[2] = {down, rot};
    for (int o = 0; o < 2; o++) {
        struct rvm_coherence_decision e = decide_in_order(cfg, others[o], n, pattern);
        assert_int_equal(e.kind, d.kind);
        assert_int_equal(e.a, d.a);
        assert_int_equal(e.b, d.b);
        assert_int_equal(e.metric_bp, d.metric_bp);
    }
    return d;
}

static void test_ties_do_not_depend_on_join_order(void **state)
{
    (void)state;
    /* two hubs of equal pressure straddle the cut: one of them is recommended */
    struct rvm_coherence_decision d = same_in_every_order(cfg_for(16), 8, two_hubs);
    assert_int_equal(d.kind, RVM_COH_DECIDE_SPLIT);
    assert_true(d.a == 7 || d.a == 8);
    assert_int_equal(d.metric_bp, 10000);
    d = same_in_every_order(cfg_for(16), 8, two_unequal_hubs);
    assert_int_equal(d.kind, RVM_COH_DECIDE_SPLIT);
    assert_true((d.a == 7 && d.metric_bp == 10000) || (d.a == 8 && d.metric_bp == 9285));
    /* 1 is equally the best partner of 2 and of 3 (mutual 100 / 1200 = 833 bp), with merge
     * thresholds lowered below that (and split_exit raised to keep merge_enter + split_exit >
     * 10000): 1 absorbs one of them */
    struct rvm_coherence_config low = cfg_for(8);
    low.merge_enter_bp = 500;
    low.merge_exit_bp = 400;
    low.split_enter_bp = 9700;
    low.split_exit_bp = 9600;
    d = same_in_every_order(low, 3, one_partner_two_ways);
    assert_int_equal(d.kind, RVM_COH_DECIDE_MERGE);
    assert_int_equal(d.a, 1);
    assert_true(d.b == 2 || d.b == 3);
    assert_int_equal(d.metric_bp, 833);
    /* 1's best partner is the one it shares more with: 3 (150 / 1250 = 1200 bp against 2's
     * 100 / 1200 = 833 bp) */
    d = same_in_every_order(low, 3, one_partner_preferred);
    assert_int_equal(d.kind, RVM_COH_DECIDE_MERGE);
    assert_int_equal(d.a, 1);
    assert_int_equal(d.b, 3);
    assert_int_equal(d.metric_bp, 1200);
    /* two separate pairs, each talking only to itself (mutual 10000): one pair, lower id first */
    d = same_in_every_order(cfg_for(8), 4, two_pairs);
    assert_int_equal(d.kind, RVM_COH_DECIDE_MERGE);
    assert_true((d.a == 1 && d.b == 2) || (d.a == 3 && d.b == 4));
    assert_int_equal(d.metric_bp, 10000);
    /* two pairs of different strength: (3, 4) also has internal traffic, 100 / 120 = 8333 bp */
    d = same_in_every_order(cfg_for(8), 4, unequal_pairs);
    assert_int_equal(d.kind, RVM_COH_DECIDE_MERGE);
    assert_true((d.a == 1 && d.b == 2 && d.metric_bp == 10000) ||
                (d.a == 3 && d.b == 4 && d.metric_bp == 8333));
}

static struct rvm_coherence_merge_request merge_req(rvm_partition_id a, rvm_partition_id b)
{
    struct rvm_coherence_merge_request q = {
        .absorber = a, .absorbed = b, .facts = RVM_COH_MERGE_FACTS_ALL, .cap_hash = 0xBEEF};
    return q;
}

static void test_merge_preconditions(void **state)
{
    (void)state;
    struct rvm_coherence_config cfg = cfg_for(8);
    cfg.cooldown_epochs = 3;
    struct fx *f = pair_fixture(cfg);
    epoch(f, true);
    struct rvm_coherence_merge_request q = merge_req(1, 2), b;
    uint8_t before[32], after[32];
    digest(&f->c, &f->crypto, before);
#define EXPECT_MERGE(stmt, err, stage)                                                             \
    do {                                                                                           \
        b = q;                                                                                     \
        stmt;                                                                                      \
        assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 5, &b), err);                   \
        assert_rejected(f, RVM_ACT_STRUCTURAL_MERGE, stage, err, b.absorber);                      \
    } while (0)
    const uint32_t all = RVM_COH_MERGE_FACTS_ALL;
    assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 5, NULL), RVM_ERR_INVALID_ARGUMENT);
    assert_rejected(f, RVM_ACT_STRUCTURAL_MERGE, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT, 0);
    assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 5, NULL), RVM_ERR_INVALID_ARGUMENT);
    assert_rejected(f, RVM_ACT_STRUCTURAL_SPLIT, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT, 0);
    /* a missing entry or plan is refused like a missing request */
    struct rvm_witness_entry we;
    struct rvm_coherence_merge_plan mplan;
    struct rvm_coherence_split_plan splan;
    struct rvm_coherence_split_request sq = {1, 9, RVM_COH_SPLIT_FACTS_ALL, 0};
    assert_int_equal(rvm_coherence_prepare_merge(&f->c, 5, &q, NULL, &mplan),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_coherence_prepare_merge(&f->c, 5, &q, &we, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_coherence_prepare_split(&f->c, 5, &sq, NULL, &splan),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_coherence_prepare_split(&f->c, 5, &sq, &we, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    EXPECT_MERGE(b.facts = all | 0x80u, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    EXPECT_MERGE(b.absorbed = 1, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    EXPECT_MERGE(b.absorbed = 9, RVM_ERR_NOT_FOUND, RVM_STAGE_DECODE);
    EXPECT_MERGE(b.absorber = 9, RVM_ERR_NOT_FOUND, RVM_STAGE_DECODE);
    /* each DC-11 fact missing on its own: its own error */
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_P2_PROOF, RVM_ERR_COHERENCE_PROOF,
                 RVM_STAGE_P2);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_A_ACTIVE, RVM_ERR_COHERENCE_STATE,
                 RVM_STAGE_PRECONDITION);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_B_ACTIVE, RVM_ERR_COHERENCE_STATE,
                 RVM_STAGE_PRECONDITION);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_SHARED_CHANNEL, RVM_ERR_MERGE_NO_CHANNEL,
                 RVM_STAGE_PRECONDITION);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_NO_LEASE_CONFLICT,
                 RVM_ERR_MERGE_LEASE_CONFLICT, RVM_STAGE_PRECONDITION);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_NO_REGION_OVERLAP,
                 RVM_ERR_MERGE_REGION_OVERLAP, RVM_STAGE_PRECONDITION);
    EXPECT_MERGE(b.facts = all & ~(uint32_t)RVM_COH_MERGE_CAP_INTERSECTION,
                 RVM_ERR_MERGE_CAP_INTERSECTION, RVM_STAGE_PRECONDITION);
    /* zero-initialised facts fail closed (on the first check) */
    EXPECT_MERGE(b.facts = 0, RVM_ERR_COHERENCE_PROOF, RVM_STAGE_P2);
    /* coherence: 2 and 4 share nothing: merged = 10 / 110 -> 909 */
    EXPECT_MERGE(b.absorber = 4, RVM_ERR_COHERENCE_LOW, RVM_STAGE_PRECONDITION);
    digest(&f->c, &f->crypto, after);
    assert_memory_equal(before, after, 32);

    assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 5, &q), RVM_OK);
    struct rvm_witness_record r = last_rec(f);
    assert_int_equal(r.kind, RVM_ACT_STRUCTURAL_MERGE);
    assert_int_equal(r.actor, 5);
    assert_int_equal(r.proof_tier, RVM_PROOF_P2);
    assert_int_equal(r.target, 1);
    assert_int_equal(r.payload, (uint64_t)9600 << 32 | 2);
    assert_int_equal(r.aux, 100);
    assert_int_equal(r.cap_hash, 0xBEEF);
    /* folded: 1 now holds 120 internal and its 5 to 3; 2 is gone */
    uint32_t slot;
    assert_int_equal(rvm_graph_find(&f->c.graph, 2, &slot), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 1), 120);
    assert_int_equal(rvm_graph_weight(&f->c.graph, 1, 3), 5);
    /* recomputed right away: 120 / 125 = 9600, pressure 400 */
    assert_int_equal(rvm_coherence_score(&f->c, 1), 9600);
    assert_int_equal(rvm_coherence_pressure(&f->c, 1), 400);
    assert_int_equal(rvm_coherence_check(&f->c), RVM_OK);
    /* the survivor is in cooldown: 1 with 3 would score (120 + 1000 + 5) / (125 + 1005 - 5)
     * = 10000, but is held */
    EXPECT_MERGE(b.absorbed = 3, RVM_ERR_COHERENCE_HOLD, RVM_STAGE_PRECONDITION);
    for (int i = 0; i < 3; i++) {
        epoch(f, true);
    }
    b = q;
    b.absorbed = 3;
    assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 5, &b), RVM_OK);
#undef EXPECT_MERGE
    fx_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * Stability
 * --------------------------------------------------------------------------------------------- */

#define MAX_FLOWS 64

struct flow {
    rvm_partition_id a, b;
    uint64_t w;
};

struct model {
    struct flow flows[MAX_FLOWS];
    uint32_t nflows;
};

static void flow(struct model *m, rvm_partition_id a, rvm_partition_id b, uint64_t w)
{
    assert_true(m->nflows < MAX_FLOWS);
    m->flows[m->nflows++] = (struct flow){a, b, w};
}

struct decision_log {
    struct rvm_coherence_decision d[64];
    uint64_t epoch[64];
    rvm_partition_id child[64]; /* the partition a split created (0 when not applied) */
    uint32_t n;
};

/*
 * Run `epochs` epochs of a fixed traffic pattern. With `apply`, the test plays the kernel: a
 * recommended split moves the source's flows to partitions on the far side of the cut to a new
 * child; a recommended merge renames the absorbed partition to the absorber in every flow.
 */
static void run_pattern(struct fx *f, struct model *m, uint32_t epochs, bool apply,
                        struct decision_log *log)
{
    rvm_partition_id next_child = 1000;
    memset(log, 0, sizeof(*log));
    for (uint32_t e = 0; e < epochs; e++) {
        for (uint32_t i = 0; i < m->nflows; i++) {
            ipc(f, m->flows[i].a, m->flows[i].b, m->flows[i].w);
        }
        struct rvm_coherence_epoch_report rep = epoch(f, true);
        if (rep.decision.kind == RVM_COH_DECIDE_NONE) {
            continue;
        }
        assert_true(log->n < 64);
        log->d[log->n] = rep.decision;
        log->epoch[log->n++] = f->c.epoch;
        if (!apply) {
            continue;
        }
        if (rep.decision.kind == RVM_COH_DECIDE_SPLIT) {
            rvm_partition_id src = rep.decision.a, child = next_child++;
            uint32_t ss;
            assert_int_equal(rvm_graph_find(&f->c.graph, src, &ss), RVM_OK);
            uint8_t side = f->c.cut_side[ss];
            struct rvm_coherence_split_request q = split_req(src, child);
            assert_int_equal(witnessed_coherence_split(&f->c, &f->log, 0, &q), RVM_OK);
            log->child[log->n - 1] = child;
            for (uint32_t i = 0; i < m->nflows; i++) {
                struct flow *fl = &m->flows[i];
                rvm_partition_id peer = fl->a == src ? fl->b : fl->b == src ? fl->a : 0;
                uint32_t ps;
                if (peer == 0 || peer == src || rvm_graph_find(&f->c.graph, peer, &ps) != RVM_OK ||
                    f->c.cut_side[ps] == side) {
                    continue;
                }
                if (fl->a == src) {
                    fl->a = child;
                } else {
                    fl->b = child;
                }
            }
        } else {
            struct rvm_coherence_merge_request q = merge_req(rep.decision.a, rep.decision.b);
            assert_int_equal(witnessed_coherence_merge(&f->c, &f->log, 0, &q), RVM_OK);
            for (uint32_t i = 0; i < m->nflows; i++) {
                if (m->flows[i].a == rep.decision.b) {
                    m->flows[i].a = rep.decision.a;
                }
                if (m->flows[i].b == rep.decision.b) {
                    m->flows[i].b = rep.decision.a;
                }
            }
        }
    }
}

/*
 * Oscillation is a decision that undoes an earlier one, or repeats it: merging a split partition
 * with its own child, splitting the survivor of a merge, splitting a partition twice, or (when
 * the decisions are not applied) recommending the same merge twice.
 */
static void assert_no_oscillation(const struct decision_log *log)
{
    for (uint32_t i = 0; i < log->n; i++) {
        for (uint32_t j = i + 1; j < log->n; j++) {
            const struct rvm_coherence_decision *x = &log->d[i], *y = &log->d[j];
            bool bad = false;
            if (x->kind == RVM_COH_DECIDE_SPLIT && y->kind == RVM_COH_DECIDE_MERGE) {
                bad = (y->a == x->a && y->b == log->child[i]) ||
                      (y->b == x->a && y->a == log->child[i]);
            } else if (x->kind == RVM_COH_DECIDE_MERGE && y->kind == RVM_COH_DECIDE_SPLIT) {
                bad = y->a == x->a;
            } else if (x->kind == y->kind) {
                bad = x->a == y->a && x->b == y->b;
            }
            if (bad) {
                fail_msg("decision %u (kind %u on %u/%u at epoch %llu) and %u (kind %u on %u/%u "
                         "at epoch %llu) oscillate",
                         i, x->kind, x->a, x->b, (unsigned long long)log->epoch[i], j, y->kind,
                         y->a, y->b, (unsigned long long)log->epoch[j]);
            }
        }
    }
}

static void stability_case(struct model *m, const rvm_partition_id *ids, uint32_t nids, bool apply,
                           uint32_t max_decisions, uint32_t settle_by, struct decision_log *out)
{
    struct rvm_coherence_config cfg = cfg_for(32);
    cfg.decay_bp = 500; /* RVM's decay: weights converge to about 20 x the per-epoch traffic */
    struct fx *f = fx_new(cfg);
    for (uint32_t i = 0; i < nids; i++) {
        add(f, ids[i]);
    }
    run_pattern(f, m, 1000, apply, out);
    printf("# stability (%u partitions, %s): %u decisions", nids, apply ? "applied" : "ignored",
           out->n);
    for (uint32_t i = 0; i < out->n; i++) {
        printf(" %s %u/%u@%llu", out->d[i].kind == RVM_COH_DECIDE_SPLIT ? "split" : "merge",
               out->d[i].a, out->d[i].b, (unsigned long long)out->epoch[i]);
    }
    printf("\n");
    assert_true(out->n <= max_decisions);
    for (uint32_t i = 0; i < out->n; i++) {
        assert_true(out->epoch[i] <= settle_by);
    }
    assert_no_oscillation(out);
    assert_true(f->c.graph.live <= nids + f->c.split_limit);
    fx_free(f);
}

static void test_stability_1000_epochs(void **state)
{
    (void)state;
    struct decision_log log;
    const rvm_partition_id ids[] = {1, 2, 3, 4, 5, 6, 7, 10, 11, 12};

    /* the hub pattern alone: exactly one split (the hub), then quiet */
    struct model hub = {0};
    flow(&hub, 1, 2, 100), flow(&hub, 1, 3, 100), flow(&hub, 2, 3, 100);
    flow(&hub, 4, 5, 100), flow(&hub, 4, 6, 100), flow(&hub, 5, 6, 100);
    flow(&hub, 7, 1, 60), flow(&hub, 7, 4, 60);
    struct model m = hub;
    stability_case(&m, ids, 7, true, 1, 10, &log);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.d[0].kind, RVM_COH_DECIDE_SPLIT);
    assert_int_equal(log.d[0].a, 7);
    m = hub; /* the kernel ignores it: still recommended once only */
    stability_case(&m, ids, 7, false, 1, 10, &log);
    assert_int_equal(log.n, 1);

    /* a tightly coupled pair beside an independent third: exactly one merge, then quiet */
    struct model pair = {0};
    flow(&pair, 10, 11, 100), flow(&pair, 10, 10, 10), flow(&pair, 11, 11, 10);
    flow(&pair, 10, 12, 5), flow(&pair, 12, 12, 1000);
    m = pair;
    stability_case(&m, ids + 7, 3, true, 1, 10, &log);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.d[0].kind, RVM_COH_DECIDE_MERGE);
    assert_int_equal(log.d[0].a, 10);
    assert_int_equal(log.d[0].b, 11);
    m = pair;
    stability_case(&m, ids + 7, 3, false, 1, 10, &log);
    assert_int_equal(log.n, 1);

    /* both together, applied and not applied: bounded, settled early, never undone */
    struct model both = hub;
    for (uint32_t i = 0; i < pair.nflows; i++) {
        both.flows[both.nflows++] = pair.flows[i];
    }
    flow(&both, 12, 3, 40);
    m = both;
    stability_case(&m, ids, 10, true, 4, 100, &log);
    m = both;
    stability_case(&m, ids, 10, false, 4, 100, &log);

    /* a symmetric ring where every partition looks alike: no decision at all */
    struct model ring = {0};
    for (rvm_partition_id i = 1; i <= 7; i++) {
        flow(&ring, i, i % 7 + 1, 50);
        flow(&ring, i, i, 40);
    }
    m = ring;
    stability_case(&m, ids, 7, true, 0, 0, &log);
}

/* Seeded random traffic patterns: the decision sequence is bounded and never undoes itself. */
static void test_stability_random_patterns(void **state)
{
    (void)state;
    uint64_t seed = test_seed("coherence_stability", 7);
    struct test_rng r = test_rng_new(seed);
    const rvm_partition_id ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    for (int t = 0; t < 12; t++) {
        struct model m = {0};
        uint32_t n = 4 + (uint32_t)test_rng_below(&r, 9);
        uint32_t flows = n + (uint32_t)test_rng_below(&r, 2 * n);
        for (uint32_t i = 0; i < flows; i++) {
            rvm_partition_id a = ids[test_rng_below(&r, n)], b = ids[test_rng_below(&r, n)];
            flow(&m, a, b, 1 + test_rng_below(&r, 200));
        }
        struct decision_log log;
        /* every split or merge changes the partition count by one, within the split bound and
         * the initial count: a handful of decisions at most, all within the first 300 epochs */
        stability_case(&m, ids, n, true, 2 * n, 300, &log);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

static void test_check_and_hash(void **state)
{
    (void)state;
    struct fx *a = hub_fixture(cfg_for(16));
    struct fx *b = hub_fixture(cfg_for(16));
    for (int i = 0; i < 4; i++) {
        epoch(a, true);
        epoch(b, true);
    }
    uint8_t da[32], db[32];
    digest(&a->c, &a->crypto, da);
    digest(&b->c, &b->crypto, db);
    assert_memory_equal(da, db, 32);
    ipc(b, 1, 2, 1);
    digest(&b->c, &b->crypto, db);
    assert_memory_not_equal(da, db, 32);

    /* check() catches engine-level corruption */
    assert_int_equal(rvm_coherence_check(&a->c), RVM_OK);
    a->c.split_created++;
    assert_int_equal(rvm_coherence_check(&a->c), RVM_ERR_INTERNAL);
    a->c.split_created--;
    a->c.node[9].flags = RVM_COH_NODE_FROM_SPLIT; /* a free slot with state */
    assert_int_equal(rvm_coherence_check(&a->c), RVM_ERR_INTERNAL);
    a->c.node[9].flags = 0;
    a->c.cut_side[12] = RVM_MINCUT_SIDE_A; /* a side for a free slot */
    assert_int_equal(rvm_coherence_check(&a->c), RVM_ERR_INTERNAL);
    a->c.cut_side[12] = RVM_MINCUT_SIDE_NONE;
    a->c.node[0].merge_latch = 1; /* one-sided latch */
    assert_int_equal(rvm_coherence_check(&a->c), RVM_ERR_INTERNAL);
    a->c.node[0].merge_latch = RVM_GRAPH_SLOT_NONE;
    a->c.node[0].pressure_bp = 1234; /* score + pressure no longer one whole */
    assert_int_equal(rvm_coherence_check(&a->c), RVM_ERR_INTERNAL);
    a->c.node[0].pressure_bp = 10000;
    assert_int_equal(rvm_coherence_check(&a->c), RVM_OK);
    fx_free(a);
    fx_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_mutations_witnessed_and_refused),
        cmocka_unit_test(test_scores_and_pressures),
        cmocka_unit_test(test_epoch_decays),
        cmocka_unit_test(test_budget_exhaustion_keeps_last_good_cut),
        cmocka_unit_test(test_degraded_mode),
        cmocka_unit_test(test_degraded_by_budget),
        cmocka_unit_test(test_epoch_all_or_nothing),
        cmocka_unit_test(test_split_decision_with_dwell_and_latch),
        cmocka_unit_test(test_split_latch_rearms_below_exit),
        cmocka_unit_test(test_lone_leaf_is_not_split),
        cmocka_unit_test(test_split_preconditions),
        cmocka_unit_test(test_split_limit_bounds_recommendations),
        cmocka_unit_test(test_merge_decision),
        cmocka_unit_test(test_ties_do_not_depend_on_join_order),
        cmocka_unit_test(test_merge_preconditions),
        cmocka_unit_test(test_stability_1000_epochs),
        cmocka_unit_test(test_stability_random_patterns),
        cmocka_unit_test(test_check_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
