/* SPDX-License-Identifier: MIT */
/*
 * The communication graph: capacity limits (errors, never writes outside the caller's storage),
 * weights (both directions summed, self-loops internal, saturation), decay and pruning computed by
 * hand, merge folding, scores and pressures on hand-computed graphs, check() catching corruption,
 * and hash() depending on state only.
 */
#include "test_support.h"

#include "rvm/crypto_portable.h"
#include "rvm/graph.h"

#define CAP    8
#define CANARY 0xA5A5A5A5A5A5A5A5ull

struct fixture {
    struct rvm_graph g;
    /* canaries on both sides of the caller storage */
    uint64_t pre[4];
    struct rvm_graph_node nodes[CAP];
    uint64_t mid[4];
    uint64_t weights[CAP * CAP];
    uint64_t post[4];
};

static void fixture_init(struct fixture *f, uint32_t capacity, uint16_t decay)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < 4; i++) {
        f->pre[i] = f->mid[i] = f->post[i] = CANARY;
    }
    struct rvm_graph_config cfg = {
        .capacity = capacity, .nodes = f->nodes, .weights = f->weights, .decay_bp = decay};
    assert_int_equal(rvm_graph_init(&f->g, &cfg), RVM_OK);
}

static void assert_canaries(const struct fixture *f)
{
    for (int i = 0; i < 4; i++) {
        assert_true(f->pre[i] == CANARY && f->mid[i] == CANARY && f->post[i] == CANARY);
    }
}

static void test_init_validation(void **state)
{
    (void)state;
    struct fixture f;
    struct rvm_graph g;
    struct rvm_graph_config cfg = {
        .capacity = CAP, .nodes = f.nodes, .weights = f.weights, .decay_bp = 500};
    struct rvm_graph_config bad = cfg;
    bad.capacity = 1;
    assert_int_equal(rvm_graph_init(&g, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad.capacity = RVM_GRAPH_MAX_CAPACITY + 1;
    assert_int_equal(rvm_graph_init(&g, &bad), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_graph_init(NULL, &cfg), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_graph_init(&g, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad = cfg;
    bad.nodes = NULL;
    assert_int_equal(rvm_graph_init(&g, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = cfg;
    bad.weights = NULL;
    assert_int_equal(rvm_graph_init(&g, &bad), RVM_ERR_INVALID_ARGUMENT);
    bad = cfg;
    bad.decay_bp = 10001;
    assert_int_equal(rvm_graph_init(&g, &bad), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_graph_init(&g, &cfg), RVM_OK);
    assert_int_equal(rvm_graph_check(&g), RVM_OK);
}

static void test_capacity_limit(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    fixture_init(f, CAP, 0);
    for (uint32_t i = 0; i < CAP; i++) {
        uint32_t slot = 99;
        assert_int_equal(rvm_graph_add_node(&f->g, 1000 + i, &slot), RVM_OK);
        assert_int_equal(slot, i);
    }
    /* full: an error, no write anywhere, the graph unchanged */
    uint32_t slot = 77;
    assert_int_equal(rvm_graph_add_node(&f->g, 5000, &slot), RVM_ERR_GRAPH_FULL);
    assert_int_equal(slot, 77);
    assert_int_equal(rvm_graph_check_add(&f->g, 5000, &slot), RVM_ERR_GRAPH_FULL);
    assert_int_equal(f->g.live, CAP);
    assert_int_equal(rvm_graph_find(&f->g, 5000, &slot), RVM_ERR_NOT_FOUND);
    /* duplicates and reserved ids */
    assert_int_equal(rvm_graph_add_node(&f->g, 1003, NULL), RVM_ERR_EXISTS);
    assert_int_equal(rvm_graph_add_node(&f->g, RVM_PARTITION_HYPERVISOR, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_graph_add_node(&f->g, RVM_PARTITION_INVALID, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    /* every pair connected at full capacity, then removal frees the lowest slot for reuse */
    for (uint32_t i = 0; i < CAP; i++) {
        for (uint32_t j = 0; j < CAP; j++) {
            assert_int_equal(rvm_graph_add_weight(&f->g, 1000 + i, 1000 + j, 1), RVM_OK);
        }
    }
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    assert_int_equal(f->g.edges, CAP * (CAP - 1) / 2);
    assert_int_equal(rvm_graph_remove_slot(&f->g, 3), RVM_OK);
    assert_int_equal(rvm_graph_remove_slot(&f->g, 3), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_remove_slot(&f->g, CAP), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_remove_slot(&f->g, UINT32_MAX), RVM_ERR_NOT_FOUND);
    assert_int_equal(f->g.edges, (CAP - 1) * (CAP - 2) / 2);
    uint32_t gen = f->nodes[3].generation;
    assert_int_equal(rvm_graph_add_node(&f->g, 5000, &slot), RVM_OK);
    assert_int_equal(slot, 3);
    assert_int_equal(f->nodes[3].generation, gen + 1);
    assert_int_equal(rvm_graph_weight(&f->g, 5000, 1000), 0);
    assert_int_equal(rvm_graph_external(&f->g, 3), 0);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    assert_canaries(f);
    free(f);
}

static void test_weights(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    fixture_init(f, CAP, 0);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 7), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 1, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 3, 40), RVM_OK);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 12);
    assert_int_equal(rvm_graph_weight(&f->g, 2, 1), 12);
    assert_int_equal(rvm_graph_weight(&f->g, 3, 3), 40);
    assert_int_equal(rvm_graph_internal(&f->g, 2), 40);
    assert_int_equal(rvm_graph_external(&f->g, 0), 12);
    assert_int_equal(rvm_graph_external(&f->g, 1), 12);
    assert_int_equal(rvm_graph_external(&f->g, 2), 0);
    assert_int_equal(f->g.edges, 1);
    /* errors change nothing */
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 9, 1), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_add_weight(&f->g, 9, 1, 1), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, RVM_GRAPH_WEIGHT_MAX + 1),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_graph_add_weight_slots(&f->g, 0, 5, 1), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_add_weight_slots(&f->g, 0, UINT32_MAX, 1), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 12);
    /* saturation keeps the cached sums exact */
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, RVM_GRAPH_WEIGHT_MAX), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, RVM_GRAPH_WEIGHT_MAX), RVM_OK);
    assert_true(rvm_graph_weight(&f->g, 1, 2) == RVM_GRAPH_WEIGHT_MAX);
    assert_true(rvm_graph_external(&f->g, 0) == RVM_GRAPH_WEIGHT_MAX);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    free(f);
}

static void test_decay_and_pruning(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    fixture_init(f, CAP, 500); /* 5 % per epoch, RVM's default */
    for (uint32_t i = 1; i <= 4; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 1000), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 3, 1), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 4, 20), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 4, 4, 3), RVM_OK);
    /* by hand: 1000 -> 950 -> 902 (902.5) -> 856 (856.9); 1 -> 0 (pruned);
     * 20 -> 19 -> 18 (18.05) -> 17 (17.1); 3 -> 2 (2.85) -> 1 (1.9) -> 0 (0.95, pruned) */
    assert_int_equal(rvm_graph_decay(&f->g), 1);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 950);
    assert_int_equal(rvm_graph_weight(&f->g, 2, 3), 0);
    assert_int_equal(rvm_graph_weight(&f->g, 3, 4), 19);
    assert_int_equal(rvm_graph_weight(&f->g, 4, 4), 2);
    assert_int_equal(f->g.edges, 2);
    assert_int_equal(rvm_graph_external(&f->g, 1), 950); /* node 2 lost its edge to 3 */
    assert_int_equal(rvm_graph_external(&f->g, 2), 19);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    assert_int_equal(rvm_graph_decay(&f->g), 0);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 902);
    assert_int_equal(rvm_graph_weight(&f->g, 3, 4), 18);
    assert_int_equal(rvm_graph_weight(&f->g, 4, 4), 1);
    assert_int_equal(rvm_graph_decay(&f->g), 1); /* the self-loop */
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 856);
    assert_int_equal(rvm_graph_weight(&f->g, 3, 4), 17);
    assert_int_equal(rvm_graph_weight(&f->g, 4, 4), 0);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);

    /* every edge eventually reaches zero: at most ~ln(2^32)/0.05 epochs */
    uint32_t epochs = 0;
    while (f->g.edges != 0) {
        rvm_graph_decay(&f->g);
        assert_true(++epochs < 600);
    }
    assert_int_equal(rvm_graph_external(&f->g, 0), 0);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);

    /* 0 bp: nothing changes; 10000 bp: everything goes at once */
    fixture_init(f, CAP, 0);
    assert_int_equal(rvm_graph_add_node(&f->g, 1, NULL), RVM_OK);
    assert_int_equal(rvm_graph_add_node(&f->g, 2, NULL), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 3), RVM_OK);
    assert_int_equal(rvm_graph_decay(&f->g), 0);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 2), 3);
    fixture_init(f, CAP, 10000);
    assert_int_equal(rvm_graph_add_node(&f->g, 1, NULL), RVM_OK);
    assert_int_equal(rvm_graph_add_node(&f->g, 2, NULL), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, RVM_GRAPH_WEIGHT_MAX), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 1, 5), RVM_OK);
    assert_int_equal(rvm_graph_decay(&f->g), 2);
    assert_int_equal(f->g.edges, 0);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    free(f);
}

/* Scores and pressures computed by hand. */
static void test_scores(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    uint16_t bp = 0;
    fixture_init(f, CAP, 0);
    /* empty graph: unknown partitions are errors */
    assert_int_equal(rvm_graph_score(&f->g, 1, &bp), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_pressure(&f->g, 1, &bp), RVM_ERR_NOT_FOUND);
    for (uint32_t i = 1; i <= 5; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    /* isolated node: fully coherent, no pressure */
    assert_int_equal(rvm_graph_score(&f->g, 5, &bp), RVM_OK);
    assert_int_equal(bp, 10000);
    assert_int_equal(rvm_graph_pressure(&f->g, 5, &bp), RVM_OK);
    assert_int_equal(bp, 0);
    /* only internal traffic */
    assert_int_equal(rvm_graph_add_weight(&f->g, 4, 4, 9), RVM_OK);
    assert_int_equal(rvm_graph_score(&f->g, 4, &bp), RVM_OK);
    assert_int_equal(bp, 10000);
    assert_int_equal(rvm_graph_pressure(&f->g, 4, &bp), RVM_OK);
    assert_int_equal(bp, 0);
    /* node 1: internal 1, external 2 (to node 2) -> score 1/3 = 3333, pressure 2/3 = 6666 */
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 1, 1), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 2), RVM_OK);
    assert_int_equal(rvm_graph_score(&f->g, 1, &bp), RVM_OK);
    assert_int_equal(bp, 3333);
    assert_int_equal(rvm_graph_pressure(&f->g, 1, &bp), RVM_OK);
    assert_int_equal(bp, 6666);
    /* node 2: no internal, external 2 -> 0 / 10000 */
    assert_int_equal(rvm_graph_score(&f->g, 2, &bp), RVM_OK);
    assert_int_equal(bp, 0);
    assert_int_equal(rvm_graph_pressure(&f->g, 2, &bp), RVM_OK);
    assert_int_equal(bp, 10000);
    /* node 3: internal 7, external 3+1 (to 1 and 2) -> 7/11 = 6363.6.., 4/11 = 3636.3.. */
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 3, 7), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 1, 3), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 3, 1), RVM_OK);
    assert_int_equal(rvm_graph_score(&f->g, 3, &bp), RVM_OK);
    assert_int_equal(bp, 6363);
    assert_int_equal(rvm_graph_pressure(&f->g, 3, &bp), RVM_OK);
    assert_int_equal(bp, 3636);
    /* large weights take the 64-bit path: internal 2^31, external 2^32-1 */
    assert_int_equal(rvm_graph_add_weight(&f->g, 5, 5, (uint64_t)1 << 31), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 5, 4, RVM_GRAPH_WEIGHT_MAX), RVM_OK);
    /* 2^31 / (2^31 + 2^32 - 1) = 0.33333333333 -> 3333; external 6666.66.. -> 6666 */
    assert_int_equal(rvm_graph_score(&f->g, 5, &bp), RVM_OK);
    assert_int_equal(bp, 3333);
    assert_int_equal(rvm_graph_pressure(&f->g, 5, &bp), RVM_OK);
    assert_int_equal(bp, 6666);
    /* the 32-bit and 64-bit division paths agree at their boundary */
    const uint64_t edge = UINT32_MAX / 10000; /* 429496 */
    assert_int_equal(rvm_graph_ratio_bp(edge / 3, edge, 0), (edge / 3) * 10000 / edge);
    assert_int_equal(rvm_graph_ratio_bp(edge / 3 + 1, edge + 1, 0),
                     (edge / 3 + 1) * 10000 / (edge + 1));
    assert_int_equal(rvm_graph_ratio_bp(edge, edge, 0), 10000);
    assert_int_equal(rvm_graph_ratio_bp(edge + 1, edge + 1, 0), 10000);
    /* against a 128-bit model, across both paths and up to the largest totals */
    struct test_rng r = test_rng_new(test_seed("graph_ratio", 99));
    for (int i = 0; i < 200000; i++) {
        uint64_t total = 1 + (test_rng_next(&r) >> (14 + test_rng_below(&r, 50)));
        uint64_t part = test_rng_below(&r, total + 1);
        uint64_t expect = (uint64_t)((unsigned __int128)part * 10000 / total);
        if (rvm_graph_ratio_bp(part, total, 0) != expect) {
            fail_msg("ratio %llu / %llu", (unsigned long long)part, (unsigned long long)total);
        }
    }
    free(f);
}

/* RVM's coherence_score_single_16node graph: node 8 has internal 200 and 4 x 75 external... */
static void test_rvm_bench_graph_score(void **state)
{
    (void)state;
    struct rvm_graph_node nodes[16];
    uint64_t weights[16 * 16];
    struct rvm_graph g;
    struct rvm_graph_config cfg = {.capacity = 16, .nodes = nodes, .weights = weights};
    assert_int_equal(rvm_graph_init(&g, &cfg), RVM_OK);
    for (uint32_t i = 1; i <= 16; i++) {
        assert_int_equal(rvm_graph_add_node(&g, i, NULL), RVM_OK);
    }
    for (uint32_t i = 1; i <= 15; i++) {
        assert_int_equal(rvm_graph_add_weight(&g, i, i + 1, 100), RVM_OK);
        assert_int_equal(rvm_graph_add_weight(&g, i + 1, i, 50), RVM_OK);
    }
    for (uint32_t i = 1; i <= 16; i++) {
        assert_int_equal(rvm_graph_add_weight(&g, i, i, 200), RVM_OK);
    }
    /* node 8: internal 200, external 150 + 150 = 300: score 200/500 = 4000, pressure 6000;
     * node 1 (an end): 200 / (200 + 150) = 5714.28.., pressure 4285.7.. */
    uint16_t bp;
    assert_int_equal(rvm_graph_score(&g, 8, &bp), RVM_OK);
    assert_int_equal(bp, 4000);
    assert_int_equal(rvm_graph_pressure(&g, 8, &bp), RVM_OK);
    assert_int_equal(bp, 6000);
    assert_int_equal(rvm_graph_score(&g, 1, &bp), RVM_OK);
    assert_int_equal(bp, 5714);
    assert_int_equal(rvm_graph_pressure(&g, 16, &bp), RVM_OK);
    assert_int_equal(bp, 4285);
}

static void test_merge_slots(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    fixture_init(f, CAP, 0);
    for (uint32_t i = 1; i <= 4; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 1, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 2, 6), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 10), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 3, 3), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 3, 4), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 4, 8), RVM_OK);
    assert_int_equal(rvm_graph_merge_slots(&f->g, 0, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_graph_merge_slots(&f->g, 0, 6), RVM_ERR_NOT_FOUND);
    /* 1 absorbs 2: internal 5 + 6 + 10 = 21; edge to 3: 3 + 4 = 7; edge to 4: 8 */
    assert_int_equal(rvm_graph_merge_slots(&f->g, 0, 1), RVM_OK);
    uint32_t slot;
    assert_int_equal(rvm_graph_find(&f->g, 2, &slot), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 1), 21);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 3), 7);
    assert_int_equal(rvm_graph_weight(&f->g, 1, 4), 8);
    assert_int_equal(rvm_graph_external(&f->g, 0), 15);
    assert_int_equal(rvm_graph_external(&f->g, 2), 7);
    assert_int_equal(rvm_graph_external(&f->g, 3), 8);
    assert_int_equal(f->g.edges, 2);
    assert_int_equal(f->g.live, 3);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    free(f);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct fixture *f = malloc(sizeof(*f));
    fixture_init(f, CAP, 0);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 4), RVM_OK);
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);

    f->weights[0 * CAP + 1]++; /* asymmetric */
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->weights[0 * CAP + 1]--;
    f->nodes[2].ext = 1; /* cached sum wrong */
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->nodes[2].ext = 0;
    f->weights[5 * CAP + 5] = 1; /* weight on a free slot */
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->weights[5 * CAP + 5] = 0;
    f->nodes[2].id = 1; /* duplicate id */
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->nodes[2].id = 3;
    f->g.edges = 2;
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->g.edges = 1;
    f->g.live = 4;
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->g.live = 3;
    f->g.hint[7] = 1; /* a hint naming a slot whose id does not hash there */
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->g.hint[7] = 0;
    f->weights[2 * CAP + 2] = RVM_GRAPH_WEIGHT_MAX + 1;
    assert_int_equal(rvm_graph_check(&f->g), RVM_ERR_INTERNAL);
    f->weights[2 * CAP + 2] = 0;
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
    free(f);
}

static void graph_digest(const struct rvm_graph *g, uint8_t out[32])
{
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, &crypto);
    rvm_graph_hash(g, &ctx);
    rvm_sha256_final(&ctx, out);
}

static void test_hash_is_state_only(void **state)
{
    (void)state;
    struct fixture *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    fixture_init(a, CAP, 100);
    fixture_init(b, CAP, 100);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(rvm_graph_add_node(&a->g, i, NULL), RVM_OK);
        assert_int_equal(rvm_graph_add_node(&b->g, i, NULL), RVM_OK);
    }
    /* the same weights reached in a different order and with different directions */
    assert_int_equal(rvm_graph_add_weight(&a->g, 1, 2, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&a->g, 2, 3, 7), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&b->g, 3, 2, 3), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&b->g, 2, 1, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&b->g, 2, 3, 4), RVM_OK);
    uint8_t da[32], db[32];
    graph_digest(&a->g, da);
    graph_digest(&b->g, db);
    assert_memory_equal(da, db, 32);
    assert_int_equal(rvm_graph_add_weight(&b->g, 1, 1, 1), RVM_OK);
    graph_digest(&b->g, db);
    assert_memory_not_equal(da, db, 32);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_capacity_limit),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_decay_and_pruning),
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_rvm_bench_graph_score),
        cmocka_unit_test(test_merge_slots),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_hash_is_state_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
