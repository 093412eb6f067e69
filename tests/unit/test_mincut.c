/* SPDX-License-Identifier: MIT */
/*
 * Stoer-Wagner min-cut against an independent oracle: brute force over every bipartition, on
 * thousands of seeded random graphs of 2..14 nodes (weights including zeros and the maximum,
 * disconnected graphs, free slots between live ones). The value must match exactly, and the
 * bipartition returned must be a real bipartition whose weight, summed here, is that value.
 * Also: the work budget in its exact units, and that a refused computation leaves the caller's
 * result alone. The C-side oracle stops at 14 nodes; tests/py/test_mincut_networkx.py compares
 * larger graphs with networkx.
 */
#include "test_support.h"

#include "rvm/graph.h"
#include "rvm/mincut.h"

#define MAXN 64

struct g_fixture {
    struct rvm_graph g;
    struct rvm_graph_node nodes[MAXN];
    uint64_t weights[MAXN * MAXN];
    struct rvm_mincut_scratch s;
    uint64_t sw[MAXN * MAXN];
    uint64_t key[MAXN];
    uint32_t idx[RVM_MINCUT_IDX_PER_NODE * MAXN];
    uint8_t side[MAXN];
};

static void fixture_init(struct g_fixture *f, uint32_t capacity)
{
    memset(f, 0, sizeof(*f));
    struct rvm_graph_config cfg = {
        .capacity = capacity, .nodes = f->nodes, .weights = f->weights, .decay_bp = 0};
    assert_int_equal(rvm_graph_init(&f->g, &cfg), RVM_OK);
    f->s =
        (struct rvm_mincut_scratch){.capacity = capacity, .w = f->sw, .key = f->key, .idx = f->idx};
}

/* The oracle: a plain symmetric matrix over n compact nodes. */
struct plain {
    uint32_t n;
    uint64_t w[MAXN][MAXN];
};

static uint64_t plain_cut(const struct plain *p, uint32_t mask)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        for (uint32_t j = i + 1; j < p->n; j++) {
            if (((mask >> i) & 1u) != ((mask >> j) & 1u)) {
                sum += p->w[i][j];
            }
        }
    }
    return sum;
}

static uint64_t brute_force(const struct plain *p)
{
    uint64_t best = UINT64_MAX;
    /* node 0 stays on one side; every non-empty subset of the others is the other side */
    for (uint32_t m = 1; m < (1u << (p->n - 1)); m++) {
        uint64_t c = plain_cut(p, m << 1);
        if (c < best) {
            best = c;
        }
    }
    return best;
}

/*
 * A deliberately plain Stoer-Wagner, straight from the paper, for graphs too large to brute
 * force: O(n^3) with a full scan per step, no packing, no lanes, no chains.
 */
static uint64_t textbook_stoer_wagner(const struct plain *p)
{
    static uint64_t w[MAXN][MAXN];
    bool merged[MAXN] = {0};
    memcpy(w, p->w, sizeof(w));
    uint64_t best = UINT64_MAX;
    for (uint32_t phase = 0; phase + 1 < p->n; phase++) {
        bool in_a[MAXN] = {0};
        uint64_t conn[MAXN] = {0};
        uint32_t prev = UINT32_MAX, last = UINT32_MAX;
        for (uint32_t step = 0; step < p->n - phase; step++) {
            uint32_t sel = UINT32_MAX;
            for (uint32_t v = 0; v < p->n; v++) {
                if (!merged[v] && !in_a[v] && (sel == UINT32_MAX || conn[v] > conn[sel])) {
                    sel = v;
                }
            }
            in_a[sel] = true;
            prev = last;
            last = sel;
            for (uint32_t v = 0; v < p->n; v++) {
                conn[v] += w[sel][v];
            }
        }
        if (conn[last] < best) {
            best = conn[last];
        }
        for (uint32_t v = 0; v < p->n; v++) {
            w[prev][v] += w[last][v];
            w[v][prev] = w[prev][v];
        }
        w[prev][prev] = 0;
        merged[last] = true;
    }
    return best;
}

static uint64_t random_weight(struct test_rng *r)
{
    switch (test_rng_below(r, 8)) {
    case 0:
    case 1:
    case 2:
        return 0;
    case 3:
        return RVM_GRAPH_WEIGHT_MAX - test_rng_below(r, 3);
    case 4:
        return 1 + test_rng_below(r, 3);
    default:
        return 1 + test_rng_below(r, 1000);
    }
}

/*
 * A random graph of n live nodes in a graph of `capacity` slots, laid out with free slots between
 * them (some slots are added and removed first). Returns the compact oracle; slot_of maps compact
 * index -> slot in ascending slot order (the order the cut's "side A" rule refers to).
 */
static void random_graph(struct test_rng *r, struct g_fixture *f, uint32_t capacity, uint32_t n,
                         struct plain *p, uint32_t *slot_of)
{
    fixture_init(f, capacity);
    /* fill every slot, then free capacity - n of them at random */
    for (uint32_t i = 0; i < capacity; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, 100 + i, NULL), RVM_OK);
    }
    uint32_t to_free = capacity - n;
    while (to_free > 0) {
        uint32_t s = (uint32_t)test_rng_below(r, capacity);
        if (rvm_graph_slot_live(&f->g, s)) {
            assert_int_equal(rvm_graph_remove_slot(&f->g, s), RVM_OK);
            to_free--;
        }
    }
    uint32_t k = 0;
    for (uint32_t s = 0; s < capacity; s++) {
        if (rvm_graph_slot_live(&f->g, s)) {
            slot_of[k++] = s;
        }
    }
    assert_int_equal(k, n);
    memset(p, 0, sizeof(*p));
    p->n = n;
    /* components: with probability 1/3 the graph is cut into several groups with no edge between */
    uint32_t comp[MAXN];
    uint32_t ncomp = test_rng_below(r, 3) == 0 ? 1 + (uint32_t)test_rng_below(r, 3) : 1;
    for (uint32_t i = 0; i < n; i++) {
        comp[i] = (uint32_t)test_rng_below(r, ncomp);
    }
    uint32_t density = 1 + (uint32_t)test_rng_below(r, 4); /* edges present with p = density/4 */
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = i + 1; j < n; j++) {
            if (comp[i] != comp[j] || test_rng_below(r, 4) >= density) {
                continue;
            }
            uint64_t w = random_weight(r);
            /* add in two random directions/portions, as IPC would */
            uint64_t part = w == 0 ? 0 : test_rng_below(r, w + 1);
            if (part != 0) {
                assert_int_equal(rvm_graph_add_weight_slots(&f->g, slot_of[i], slot_of[j], part),
                                 RVM_OK);
            }
            if (w - part != 0) {
                assert_int_equal(
                    rvm_graph_add_weight_slots(&f->g, slot_of[j], slot_of[i], w - part), RVM_OK);
            }
            p->w[i][j] = p->w[j][i] = w;
        }
        if (test_rng_below(r, 3) == 0) { /* self-loops never count */
            assert_int_equal(
                rvm_graph_add_weight_slots(&f->g, slot_of[i], slot_of[i], random_weight(r)),
                RVM_OK);
        }
    }
    assert_int_equal(rvm_graph_check(&f->g), RVM_OK);
}

static void test_random_graphs_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = test_seed("mincut_brute_force", 20261121);
    struct test_rng r = test_rng_new(seed);
    struct g_fixture *f = malloc(sizeof(*f));
    uint32_t zero_cuts = 0;
    const uint32_t graphs = 3000;
    for (uint32_t t = 0; t < graphs; t++) {
        /* skew towards the larger sizes, which are the interesting ones */
        uint32_t n = 2 + (uint32_t)test_rng_below(&r, 13);
        if (test_rng_below(&r, 2) == 0) {
            n = 10 + (uint32_t)test_rng_below(&r, 5);
        }
        uint32_t capacity = n + (uint32_t)test_rng_below(&r, MAXN - n + 1);
        struct plain p;
        uint32_t slot_of[MAXN];
        random_graph(&r, f, capacity, n, &p, slot_of);

        struct rvm_mincut_result res;
        memset(f->side, 0xEE, sizeof(f->side));
        assert_int_equal(
            rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side), RVM_OK);
        uint64_t expect = brute_force(&p);
        if (res.value != expect) {
            fail_msg("graph %u (n=%u cap=%u, seed %llu): min-cut %llu, brute force %llu", t, n,
                     capacity, (unsigned long long)seed, (unsigned long long)res.value,
                     (unsigned long long)expect);
        }
        zero_cuts += expect == 0;
        assert_true(res.valid);
        assert_int_equal(res.nodes, n);
        assert_true(res.work <= rvm_mincut_cost(n));

        /* the bipartition is real, achieves the value, and side A holds the lowest live slot */
        uint32_t mask = 0, on_a = 0;
        for (uint32_t s = 0; s < capacity; s++) {
            bool live = rvm_graph_slot_live(&f->g, s);
            if (!live) {
                assert_int_equal(f->side[s], RVM_MINCUT_SIDE_NONE);
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            uint8_t sd = f->side[slot_of[i]];
            assert_true(sd == RVM_MINCUT_SIDE_A || sd == RVM_MINCUT_SIDE_B);
            if (sd == RVM_MINCUT_SIDE_B) {
                mask |= 1u << i;
            } else {
                on_a++;
            }
        }
        assert_int_equal(f->side[slot_of[0]], RVM_MINCUT_SIDE_A);
        assert_int_not_equal(mask, 0);
        assert_int_equal(on_a, res.side_a);
        assert_int_equal(plain_cut(&p, mask), res.value);
    }
    /* the generator really produced disconnected graphs */
    assert_true(zero_cuts > graphs / 10);
    free(f);
}

/* Larger graphs (15..64 nodes, where a step has enough candidates to take the branch-free path)
 * against the textbook model. */
static void test_larger_graphs_match_textbook(void **state)
{
    (void)state;
    uint64_t seed = test_seed("mincut_textbook", 4242);
    struct test_rng r = test_rng_new(seed);
    struct g_fixture *f = malloc(sizeof(*f));
    for (uint32_t t = 0; t < 300; t++) {
        uint32_t n = 15 + (uint32_t)test_rng_below(&r, 50);
        uint32_t capacity = n + (uint32_t)test_rng_below(&r, MAXN - n + 1);
        struct plain p;
        uint32_t slot_of[MAXN];
        random_graph(&r, f, capacity, n, &p, slot_of);
        struct rvm_mincut_result res;
        assert_int_equal(
            rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side), RVM_OK);
        uint64_t expect = textbook_stoer_wagner(&p);
        if (res.value != expect) {
            fail_msg("graph %u (n=%u, seed %llu): min-cut %llu, textbook %llu", t, n,
                     (unsigned long long)seed, (unsigned long long)res.value,
                     (unsigned long long)expect);
        }
        uint64_t mask_cut = 0;
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t j = i + 1; j < n; j++) {
                if (f->side[slot_of[i]] != f->side[slot_of[j]]) {
                    mask_cut += p.w[i][j];
                }
            }
        }
        assert_int_equal(mask_cut, res.value);
        assert_int_equal(f->side[slot_of[0]], RVM_MINCUT_SIDE_A);
    }
    free(f);
}

static void test_tiny_graphs(void **state)
{
    (void)state;
    struct g_fixture *f = malloc(sizeof(*f));
    struct rvm_mincut_result res;

    /* empty and single-node graphs: no cut, the single node on side A */
    fixture_init(f, 4);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, 0, &res, f->side), RVM_OK);
    assert_false(res.valid);
    assert_int_equal(res.nodes, 0);
    assert_int_equal(rvm_graph_add_node(&f->g, 7, NULL), RVM_OK);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, 0, &res, f->side), RVM_OK);
    assert_false(res.valid);
    assert_int_equal(res.value, 0);
    assert_int_equal(f->side[0], RVM_MINCUT_SIDE_A);
    assert_int_equal(f->side[1], RVM_MINCUT_SIDE_NONE);

    /* two nodes: the cut is the edge, both directions summed */
    assert_int_equal(rvm_graph_add_node(&f->g, 9, NULL), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 7, 9, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 9, 7, 6), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 9, 9, 100), RVM_OK);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, 3, &res, f->side), RVM_OK);
    assert_true(res.valid);
    assert_int_equal(res.value, 11);
    assert_int_equal(res.work, 3);
    assert_int_equal(f->side[0], RVM_MINCUT_SIDE_A);
    assert_int_equal(f->side[1], RVM_MINCUT_SIDE_B);
    free(f);
}

/* RVM's bench graphs: the weak link must be found (RVM's neighbourhood cut does not). */
static void test_rvm_bench_graphs(void **state)
{
    (void)state;
    struct g_fixture *f = malloc(sizeof(*f));
    struct rvm_mincut_result res;

    fixture_init(f, 16);
    for (uint32_t i = 1; i <= 16; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    for (uint32_t i = 1; i <= 15; i++) {
        uint64_t w = i == 8 ? 10 : 1000;
        assert_int_equal(rvm_graph_add_weight(&f->g, i, i + 1, w), RVM_OK);
        assert_int_equal(rvm_graph_add_weight(&f->g, i + 1, i, w), RVM_OK);
    }
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_OK);
    assert_int_equal(res.value, 20);
    for (uint32_t s = 0; s < 16; s++) {
        assert_int_equal(f->side[s], s < 8 ? RVM_MINCUT_SIDE_A : RVM_MINCUT_SIDE_B);
    }
    assert_int_equal(res.side_a, 8);

    fixture_init(f, 8);
    for (uint32_t i = 1; i <= 4; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    assert_int_equal(rvm_graph_add_weight(&f->g, 1, 2, 1000), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 1, 1000), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 4, 1000), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 4, 3, 1000), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 2, 3, 10), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&f->g, 3, 2, 10), RVM_OK);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_OK);
    assert_int_equal(res.value, 20);
    assert_int_equal(f->side[0], RVM_MINCUT_SIDE_A);
    assert_int_equal(f->side[1], RVM_MINCUT_SIDE_A);
    assert_int_equal(f->side[2], RVM_MINCUT_SIDE_B);
    assert_int_equal(f->side[3], RVM_MINCUT_SIDE_B);
    free(f);
}

/* Cost of a full computation, by hand: sum over k = n..2 of k(k-1)/2 + k. */
static void test_cost_units(void **state)
{
    (void)state;
    assert_int_equal(rvm_mincut_cost(0), 0);
    assert_int_equal(rvm_mincut_cost(1), 0);
    assert_int_equal(rvm_mincut_cost(2), 3);                 /* 1 + 2 */
    assert_int_equal(rvm_mincut_cost(3), 3 + 6);             /* + (3 + 3) */
    assert_int_equal(rvm_mincut_cost(4), 9 + 10);            /* + (6 + 4) */
    assert_int_equal(rvm_mincut_cost(16), 815);              /* C(17,3) + 136 - 1 */
    assert_int_equal(rvm_mincut_cost(64), 43680 + 2080 - 1); /* C(65,3) + 64*65/2 - 1 */
    uint64_t sum = 0;
    for (uint64_t k = 2; k <= 1024; k++) {
        sum += k * (k - 1) / 2 + k;
    }
    assert_int_equal(rvm_mincut_cost(1024), sum);
}

/* A connected graph (a ring) so that no phase stops early at a zero cut. */
static void ring(struct g_fixture *f, uint32_t n)
{
    fixture_init(f, n);
    for (uint32_t i = 1; i <= n; i++) {
        assert_int_equal(rvm_graph_add_node(&f->g, i, NULL), RVM_OK);
    }
    for (uint32_t i = 1; i <= n; i++) {
        assert_int_equal(rvm_graph_add_weight(&f->g, i, i % n + 1, 10 + i), RVM_OK);
    }
}

static void test_budget_exhaustion_leaves_result(void **state)
{
    (void)state;
    struct g_fixture *f = malloc(sizeof(*f));
    for (uint32_t n = 2; n <= 20; n++) {
        ring(f, n);
        uint64_t full = rvm_mincut_cost(n);
        struct rvm_mincut_result res, before;
        memset(&res, 0x5A, sizeof(res));
        before = res;
        uint8_t side_before[MAXN];
        memset(f->side, 0x77, sizeof(f->side));
        memcpy(side_before, f->side, sizeof(side_before));
        /* one unit short of the full computation: refused, nothing written */
        assert_int_equal(rvm_mincut_compute(&f->g, &f->s, full - 1, &res, f->side),
                         RVM_ERR_MINCUT_BUDGET);
        assert_memory_equal(&res, &before, sizeof(res));
        assert_memory_equal(f->side, side_before, sizeof(side_before));
        assert_int_equal(rvm_mincut_compute(&f->g, &f->s, 0, &res, f->side), RVM_ERR_MINCUT_BUDGET);
        assert_memory_equal(&res, &before, sizeof(res));
        /* exactly the full cost: done, and the work reported is that cost */
        assert_int_equal(rvm_mincut_compute(&f->g, &f->s, full, &res, f->side), RVM_OK);
        assert_int_equal(res.work, full);
        /* a ring's min-cut is its two lightest edges: 11 + 12 */
        assert_int_equal(res.value, 23);
    }
    free(f);
}

static void test_bad_scratch(void **state)
{
    (void)state;
    struct g_fixture *f = malloc(sizeof(*f));
    ring(f, 6);
    struct rvm_mincut_result res;
    struct rvm_mincut_scratch small = f->s;
    small.capacity = 5;
    assert_int_equal(rvm_mincut_compute(&f->g, &small, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    struct rvm_mincut_scratch none = f->s;
    none.w = NULL;
    assert_int_equal(rvm_mincut_compute(&f->g, &none, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    /* each other missing piece of scratch or output is refused the same way */
    none = f->s;
    none.key = NULL;
    assert_int_equal(rvm_mincut_compute(&f->g, &none, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    none = f->s;
    none.idx = NULL;
    assert_int_equal(rvm_mincut_compute(&f->g, &none, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_mincut_compute(&f->g, NULL, RVM_MINCUT_BUDGET_UNLIMITED, &res, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, NULL, f->side),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_mincut_compute(&f->g, &f->s, RVM_MINCUT_BUDGET_UNLIMITED, &res, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_graphs_match_brute_force),
        cmocka_unit_test(test_larger_graphs_match_textbook),
        cmocka_unit_test(test_tiny_graphs),
        cmocka_unit_test(test_rvm_bench_graphs),
        cmocka_unit_test(test_cost_units),
        cmocka_unit_test(test_budget_exhaustion_leaves_result),
        cmocka_unit_test(test_bad_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
