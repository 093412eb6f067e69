/* SPDX-License-Identifier: MIT */
/*
 * Tier policy: every (from, to) move at residencies below, at and above each threshold, the
 * recommendations, and the recency arithmetic of an epoch, all against values worked out by hand
 * from the rules in tier.h and RVM's default thresholds (rvm-memory tier.rs: 7000 / 4000 / 1000
 * demotion, 8000 / 5000 promotion).
 */
#include "test_support.h"

#include "rvm/tier.h"

static struct rvm_tier_state at(uint8_t tier, uint16_t cut, uint16_t recency)
{
    struct rvm_tier_state s = {.tier = tier, .cut = cut, .recency = recency};
    return s;
}

static void test_defaults(void **state)
{
    (void)state;
    struct rvm_tier_policy p;
    rvm_tier_policy_default(&p);
    assert_int_equal(p.hot_to_warm, 7000);
    assert_int_equal(p.warm_to_dormant, 4000);
    assert_int_equal(p.dormant_to_cold, 1000);
    assert_int_equal(p.warm_to_hot, 8000);
    assert_int_equal(p.dormant_to_warm, 5000);
    assert_int_equal(p.initial_recency, 5000);
    assert_int_equal(p.access_boost, 1000);
    assert_int_equal(p.decay_bp, 500);
    assert_int_equal(rvm_tier_policy_check(&p), RVM_OK);
}

static void test_policy_check(void **state)
{
    (void)state;
    struct rvm_tier_policy p, d;
    rvm_tier_policy_default(&d);
    p = d, p.warm_to_hot = 7000; /* not above hot_to_warm: no hysteresis */
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.dormant_to_warm = 4000;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.warm_to_dormant = 7001; /* above hot_to_warm */
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.dormant_to_cold = 4001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.warm_to_hot = 20001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.warm_to_hot = 20000;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_OK);
    p = d, p.dormant_to_warm = 20001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    /* hot_to_warm above the limit implies warm_to_hot <= hot_to_warm: the order refuses it too */
    p = d, p.warm_to_hot = 20000, p.hot_to_warm = 20001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.access_boost = 10001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.decay_bp = 10001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    p = d, p.initial_recency = 10001;
    assert_int_equal(rvm_tier_policy_check(&p), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_tier_policy_check(NULL), RVM_ERR_INVALID_ARGUMENT);
}

struct move_case {
    uint8_t from, to;
    uint16_t cut, recency;
    enum rvm_err want;
    bool promote;
};

static void test_moves(void **state)
{
    (void)state;
    struct rvm_tier_policy p;
    rvm_tier_policy_default(&p);
    enum { H = RVM_TIER_HOT, W = RVM_TIER_WARM, D = RVM_TIER_DORMANT, C = RVM_TIER_COLD };
    static const struct move_case cases[] = {
        /* promotions: thresholds 8000 (-> Hot) and 5000 (-> Warm); Cold -> Dormant has none */
        {W, H, 0, 7999, RVM_ERR_RESIDENCY_LOW, true},
        {W, H, 3000, 5000, RVM_OK, true}, /* exactly 8000 */
        {W, H, 10000, 10000, RVM_OK, true},
        {D, W, 0, 4999, RVM_ERR_RESIDENCY_LOW, true},
        {D, W, 4999, 1, RVM_OK, true},
        {C, D, 0, 0, RVM_OK, true},
        /* demotions: always allowed, one step */
        {H, W, 10000, 10000, RVM_OK, false},
        {W, D, 10000, 10000, RVM_OK, false},
        {D, C, 0, 9000, RVM_OK, false},
        /* skips and non-moves */
        {H, D, 0, 0, RVM_ERR_TIER, false},
        {H, C, 0, 0, RVM_ERR_TIER, false},
        {W, C, 0, 0, RVM_ERR_TIER, false},
        {D, H, 10000, 10000, RVM_ERR_TIER, false},
        {C, W, 10000, 10000, RVM_ERR_TIER, false},
        {C, H, 10000, 10000, RVM_ERR_TIER, false},
        {H, H, 0, 0, RVM_ERR_TIER, false},
        {W, W, 0, 0, RVM_ERR_TIER, false},
        {D, D, 0, 0, RVM_ERR_TIER, false},
        {C, C, 0, 0, RVM_ERR_TIER, false},
        {W, 4, 0, 0, RVM_ERR_OUT_OF_RANGE, false},
        {H, 255, 0, 0, RVM_ERR_OUT_OF_RANGE, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct move_case *c = &cases[i];
        struct rvm_tier_state s = at(c->from, c->cut, c->recency);
        bool promote = !c->promote;
        enum rvm_err err = rvm_tier_check_move(&p, &s, c->to, &promote);
        if (err != c->want) {
            fail_msg("case %zu: %d -> %d got %d want %d", i, c->from, c->to, err, c->want);
        }
        if (err == RVM_OK || err == RVM_ERR_RESIDENCY_LOW) {
            assert_int_equal(promote, c->promote);
        }
    }
}

static void test_recommend(void **state)
{
    (void)state;
    struct rvm_tier_policy p;
    rvm_tier_policy_default(&p);
    struct {
        uint8_t tier;
        uint16_t cut, recency;
        uint8_t want;
    } cases[] = {
        {RVM_TIER_HOT, 0, 6999, RVM_TIER_WARM},
        {RVM_TIER_HOT, 2000, 5000, RVM_TIER_HOT}, /* 7000: stays */
        {RVM_TIER_WARM, 0, 7999, RVM_TIER_WARM},
        {RVM_TIER_WARM, 4000, 4000, RVM_TIER_HOT},
        {RVM_TIER_WARM, 0, 3999, RVM_TIER_DORMANT},
        {RVM_TIER_WARM, 4000, 0, RVM_TIER_WARM},
        {RVM_TIER_DORMANT, 0, 5000, RVM_TIER_WARM},
        {RVM_TIER_DORMANT, 0, 4999, RVM_TIER_DORMANT},
        {RVM_TIER_DORMANT, 500, 499, RVM_TIER_COLD},
        {RVM_TIER_DORMANT, 0, 1000, RVM_TIER_DORMANT},
        {RVM_TIER_COLD, 10000, 10000, RVM_TIER_COLD}, /* never auto-restored */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rvm_tier_state s = at(cases[i].tier, cases[i].cut, cases[i].recency);
        assert_int_equal(rvm_tier_recommend(&p, &s), cases[i].want);
    }
}

static void test_epoch_arithmetic(void **state)
{
    (void)state;
    struct rvm_tier_policy p;
    rvm_tier_policy_default(&p);
    struct rvm_tier_state s;
    rvm_tier_state_init(&s, &p, RVM_TIER_WARM);
    assert_int_equal(s.recency, 5000);
    assert_int_equal(s.cut, 0);
    /* 5% decay, rounded up: 5000 -> 4750 -> 4512 (237.5 rounds to 238). */
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 4750);
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 4512);
    /* A touched epoch adds 1000 instead of decaying; the staged cut applies at the epoch. */
    rvm_tier_touch(&s);
    rvm_tier_stage_cut(&s, 2500);
    assert_int_equal(s.cut, 0);
    assert_int_equal(rvm_tier_residency(&s), 4512);
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 5512);
    assert_int_equal(s.cut, 2500);
    assert_int_equal(s.accessed, 0);
    assert_int_equal(s.cut_pending, 0);
    assert_int_equal(rvm_tier_residency(&s), 8012);
    /* Saturates at 10000. */
    s.recency = 9500;
    rvm_tier_touch(&s);
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 10000);
    /* Rounding up makes small values reach 0: 19 -> 19 - 1 = 18, 1 -> 0, 0 -> 0. */
    s.recency = 19;
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 18);
    s.recency = 1;
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 0);
    rvm_tier_epoch(&p, &s);
    assert_int_equal(s.recency, 0);
    /* The cut stays until a new one is staged. */
    assert_int_equal(s.cut, 2500);
    /* From 10000, untouched, the region falls below 4000 (Warm -> Dormant advice) after 18
     * epochs: 10000 * 0.95^18 = 3972, 3967 with the rounding up (computed by hand). */
    s.cut = 0;
    s.recency = 10000;
    int epochs = 0;
    while (rvm_tier_recommend(&p, &s) != RVM_TIER_DORMANT) {
        rvm_tier_epoch(&p, &s);
        epochs++;
        assert_true(epochs < 100);
    }
    assert_int_equal(epochs, 18);
}

static void test_state_check(void **state)
{
    (void)state;
    struct rvm_tier_state s = at(RVM_TIER_WARM, 0, 0);
    assert_int_equal(rvm_tier_state_check(&s), RVM_OK);
    s.tier = 4;
    assert_int_equal(rvm_tier_state_check(&s), RVM_ERR_INTERNAL);
    s = at(RVM_TIER_WARM, 10001, 0);
    assert_int_equal(rvm_tier_state_check(&s), RVM_ERR_INTERNAL);
    s = at(RVM_TIER_WARM, 0, 10001);
    assert_int_equal(rvm_tier_state_check(&s), RVM_ERR_INTERNAL);
    s = at(RVM_TIER_WARM, 0, 0);
    s.pending_cut = 5; /* a staged value without the flag */
    assert_int_equal(rvm_tier_state_check(&s), RVM_ERR_INTERNAL);
    s = at(RVM_TIER_WARM, 0, 0);
    s.accessed = 2;
    assert_int_equal(rvm_tier_state_check(&s), RVM_ERR_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_policy_check),
        cmocka_unit_test(test_moves),
        cmocka_unit_test(test_recommend),
        cmocka_unit_test(test_epoch_arithmetic),
        cmocka_unit_test(test_state_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
