/* SPDX-License-Identifier: MIT */
/*
 * The proof tiers: P1 against an if-chain model on random inputs, the nonce store against an
 * exact set model, every P2 rule at its boundaries (including overflowing ranges), and P3 plain
 * and signed against planted breaks and tampering.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "cap_fixture.h"

#include "rvm/proof.h"

#define ALL RVM_CAP_RIGHTS_ALL
#define RW  (RVM_CAP_READ | RVM_CAP_WRITE)

static const struct rvm_handle obj_a = {7, 3};
static const struct rvm_handle obj_b = {9, 1};

/* ---- P1 -------------------------------------------------------------------------------------- */

/* The error P1 must report, written as the obvious if-chain. */
static enum rvm_err p1_model(const struct rvm_cap_table *t, uint32_t actor, struct rvm_handle h,
                             uint8_t type, uint8_t rights, struct rvm_handle object)
{
    if (h.index >= t->capacity) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    const struct rvm_cap_slot *s = &t->slots[h.index];
    if ((h.generation & 1) == 0 || s->generation != h.generation) {
        return RVM_ERR_CAP_STALE;
    }
    if (s->owner != actor) {
        return RVM_ERR_CAP_HOLDER;
    }
    if (s->type != type) {
        return RVM_ERR_CAP_TYPE;
    }
    if (s->object.index != object.index || s->object.generation != object.generation) {
        return RVM_ERR_CAP_OBJECT;
    }
    if ((rights & s->rights) != rights) {
        return RVM_ERR_CAP_RIGHTS;
    }
    return RVM_OK;
}

static void test_p1_each_failure(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, false);
    struct rvm_handle h = fx_mint(f, RVM_CAP_TYPE_REGION, RW, 3, obj_a, 0);
    struct rvm_handle free_slot = rvm_cap_handle(5, 1);
    const uint8_t reg = RVM_CAP_TYPE_REGION;
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, RW, obj_a), RVM_OK);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, 0, obj_a), RVM_OK);
    assert_int_equal(rvm_proof_p1(&f->t, 3, rvm_cap_handle(8, 1), reg, RW, obj_a),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, rvm_cap_handle(UINT32_MAX, 1), reg, RW, obj_a),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, rvm_cap_handle(0, 3), reg, RW, obj_a),
                     RVM_ERR_CAP_STALE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, rvm_cap_handle(0, 0), reg, RW, obj_a),
                     RVM_ERR_CAP_STALE);
    assert_int_equal(rvm_proof_p1(&f->t, 0, free_slot, 0, 0, rvm_cap_handle(0, 0)),
                     RVM_ERR_CAP_STALE); /* a free slot with all-zero fields */
    assert_int_equal(rvm_proof_p1(&f->t, 4, h, reg, RW, obj_a), RVM_ERR_CAP_HOLDER);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, RVM_CAP_TYPE_DEVICE, RW, obj_a), RVM_ERR_CAP_TYPE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, 0xFF, RW, obj_a), RVM_ERR_CAP_TYPE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, RW, obj_b), RVM_ERR_CAP_OBJECT);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, RW, rvm_cap_handle(7, 5)), RVM_ERR_CAP_OBJECT);
    for (int bit = 0; bit < 8; bit++) {
        uint8_t need = (uint8_t)(1u << bit);
        assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, need, obj_a),
                         (RW & need) ? RVM_OK : RVM_ERR_CAP_RIGHTS);
    }
    /* Priority: several failures at once report the first in the documented order. */
    assert_int_equal(rvm_proof_p1(&f->t, 4, rvm_cap_handle(9, 2), 0xFF, 0xFF, obj_b),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_proof_p1(&f->t, 4, rvm_cap_handle(0, 5), 0xFF, 0xFF, obj_b),
                     RVM_ERR_CAP_STALE);
    assert_int_equal(rvm_proof_p1(&f->t, 4, h, 0xFF, 0xFF, obj_b), RVM_ERR_CAP_HOLDER);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, 0xFF, 0xFF, obj_b), RVM_ERR_CAP_TYPE);
    assert_int_equal(rvm_proof_p1(&f->t, 3, h, reg, 0xFF, obj_b), RVM_ERR_CAP_OBJECT);
    fx_free(f);
}

/* An index past the table reads slot 0 with its check word masked off: refused even when slot 0
 * is free and every other field of the claim matches it (all zero). */
static void test_p1_out_of_range_over_a_free_slot_0(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, false);
    const struct rvm_handle zero = rvm_cap_handle(0, 0);
    for (uint32_t index = 4; index != 0; index = index == 4 ? UINT32_MAX : 0) {
        const struct rvm_handle h = rvm_cap_handle(index, 0);
        assert_false(rvm_proof_p1_pass(&f->t, 0, h, 0, 0, zero));
        assert_false(rvm_proof_p1_pass_inline(&f->t, 0, h, 0, 0, zero));
        assert_int_equal(rvm_proof_p1(&f->t, 0, h, 0, 0, zero), RVM_ERR_OUT_OF_RANGE);
    }
    assert_int_equal(rvm_proof_p1(&f->t, 0, zero, 0, 0, zero), RVM_ERR_CAP_STALE);
    fx_free(f);
}

static void test_p1_matches_model_on_random_inputs(void **state)
{
    (void)state;
    uint64_t seed = test_seed("test_p1_matches_model_on_random_inputs", 0x91);
    struct test_rng rng = test_rng_new(seed);
    struct fx *f = fx_new(16, false);
    struct rvm_handle live[12];
    for (int i = 0; i < 12; i++) {
        live[i] = fx_mint(f, (uint8_t)test_rng_below(&rng, 9), (uint8_t)(test_rng_next(&rng) & ALL),
                          (uint32_t)test_rng_below(&rng, 4),
                          rvm_cap_handle((uint32_t)test_rng_below(&rng, 3), 1), 0);
    }
    struct rvm_cap_revoke_args r = {.target = live[3]};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, NULL), RVM_OK);
    uint32_t outcomes[7] = {0};
    for (int n = 0; n < 200000; n++) {
        struct rvm_handle h;
        uint64_t pick = test_rng_below(&rng, 8);
        if (pick < 5) { /* a live capability, with the right fields most of the time */
            h = live[test_rng_below(&rng, 12)];
        } else if (pick == 5) {
            h = rvm_cap_handle((uint32_t)test_rng_next(&rng), (uint32_t)test_rng_next(&rng));
        } else {
            h = rvm_cap_handle((uint32_t)test_rng_below(&rng, 18),
                               (uint32_t)test_rng_below(&rng, 4));
        }
        const struct rvm_cap_slot *s = &f->slots[h.index < 16 ? h.index : 0];
        uint32_t actor =
            test_rng_below(&rng, 4) != 0 ? s->owner : (uint32_t)test_rng_below(&rng, 5);
        uint8_t type = test_rng_below(&rng, 4) != 0 ? s->type : (uint8_t)test_rng_next(&rng);
        struct rvm_handle obj = test_rng_below(&rng, 4) != 0
                                    ? s->object
                                    : rvm_cap_handle((uint32_t)test_rng_below(&rng, 3),
                                                     (uint32_t)test_rng_below(&rng, 3));
        uint8_t rights = test_rng_below(&rng, 2) != 0 ? (uint8_t)(s->rights & test_rng_next(&rng))
                                                      : (uint8_t)test_rng_next(&rng);
        enum rvm_err want = p1_model(&f->t, actor, h, type, rights, obj);
        assert_int_equal(rvm_proof_p1(&f->t, actor, h, type, rights, obj), want);
        assert_int_equal(rvm_proof_p1_reason(&f->t, actor, h, type, rights, obj), want);
        assert_int_equal(rvm_proof_p1_pass(&f->t, actor, h, type, rights, obj), want == RVM_OK);
        assert_int_equal(rvm_proof_p1_pass_inline(&f->t, actor, h, type, rights, obj),
                         want == RVM_OK);
        outcomes[want == RVM_OK                 ? 0
                 : want == RVM_ERR_OUT_OF_RANGE ? 1
                 : want == RVM_ERR_CAP_STALE    ? 2
                 : want == RVM_ERR_CAP_HOLDER   ? 3
                 : want == RVM_ERR_CAP_TYPE     ? 4
                 : want == RVM_ERR_CAP_OBJECT   ? 5
                                                : 6]++;
    }
    for (int k = 0; k < 7; k++) {
        assert_true(outcomes[k] > 0); /* every outcome was exercised */
    }
    fx_free(f);
}

/* ---- nonce store ----------------------------------------------------------------------------- */

#define W RVM_PROOF_NONCE_WINDOW

static void test_nonce_window_by_hand(void **state)
{
    (void)state;
    struct rvm_proof_nonce_domain dom[2];
    struct rvm_proof_nonces n;
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_nonces_init(&n, NULL, 2), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_nonces_init(NULL, dom, 2), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 2), RVM_OK);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 2, 1), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 0), RVM_ERR_PROOF_NONCE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 5), RVM_OK);
    rvm_proof_nonce_mark(&n, 0, 5);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 5), RVM_ERR_PROOF_NONCE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 1, 5), RVM_OK); /* domains are independent */
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 4), RVM_OK); /* late but in the window */
    rvm_proof_nonce_mark(&n, 0, 4);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 4), RVM_ERR_PROOF_NONCE);
    /* Jump exactly one window: 5 leaves it, 6 (never used) is still fresh, the jump is used. */
    rvm_proof_nonce_mark(&n, 0, 5 + W);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 5), RVM_ERR_PROOF_NONCE_STALE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 4), RVM_ERR_PROOF_NONCE_STALE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 6), RVM_OK);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 5 + W), RVM_ERR_PROOF_NONCE);
    /* No aliasing: values W apart share a bit position but are told apart. */
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 5 + 2 * W), RVM_OK);
    assert_int_equal(rvm_proof_check(&n), RVM_OK);
    /* The top of the range. */
    rvm_proof_nonce_mark(&n, 1, UINT64_MAX);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 1, UINT64_MAX), RVM_ERR_PROOF_NONCE);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 1, UINT64_MAX - 1), RVM_OK);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 1, UINT64_MAX - W), RVM_ERR_PROOF_NONCE_STALE);
    assert_int_equal(rvm_proof_check(&n), RVM_OK);
    assert_int_equal(rvm_proof_nonce_reset(&n, 1), RVM_OK);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 1, 3), RVM_OK);
    assert_int_equal(rvm_proof_nonce_reset(&n, 2), RVM_ERR_OUT_OF_RANGE);
}

static void test_nonce_fill_whole_window(void **state)
{
    (void)state;
    struct rvm_proof_nonce_domain dom[1];
    struct rvm_proof_nonces n;
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 1), RVM_OK);
    /* Accept W nonces in reverse order (the highest first), then each exactly once. */
    for (uint64_t v = W; v >= 1; v--) {
        assert_int_equal(rvm_proof_nonce_fresh(&n, 0, v), RVM_OK);
        rvm_proof_nonce_mark(&n, 0, v);
    }
    for (uint64_t v = 1; v <= W; v++) {
        assert_int_equal(rvm_proof_nonce_fresh(&n, 0, v), RVM_ERR_PROOF_NONCE);
    }
    /* One step up: value 1 leaves the window, 2..W are still remembered. */
    rvm_proof_nonce_mark(&n, 0, W + 1);
    assert_int_equal(rvm_proof_nonce_fresh(&n, 0, 1), RVM_ERR_PROOF_NONCE_STALE);
    for (uint64_t v = 2; v <= W + 1; v++) {
        assert_int_equal(rvm_proof_nonce_fresh(&n, 0, v), RVM_ERR_PROOF_NONCE);
    }
    assert_int_equal(rvm_proof_check(&n), RVM_OK);
}

/* Model: every accepted value in a plain bitmap over the value range, plus the highest. */
#define NM_RANGE (1u << 22)

static void test_nonce_store_matches_exact_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("test_nonce_store_matches_exact_model", 0x5EED);
    struct test_rng rng = test_rng_new(seed);
    struct rvm_proof_nonce_domain dom[3];
    struct rvm_proof_nonces n;
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 3), RVM_OK);
    uint8_t *accepted[3];
    uint64_t highest[3] = {0, 0, 0};
    for (int d = 0; d < 3; d++) {
        accepted[d] = calloc(NM_RANGE, 1);
    }
    uint32_t outcome[3] = {0};
    for (int k = 0; k < 300000; k++) {
        uint32_t d = (uint32_t)test_rng_below(&rng, 3);
        uint64_t base = highest[d];
        uint64_t v;
        uint64_t pick = test_rng_below(&rng, 100);
        if (pick < 50) {
            v = base + 1 + test_rng_below(&rng, 4);
        } else if (pick < 90) {
            v = base > 1100 ? base - test_rng_below(&rng, 1100) : test_rng_below(&rng, base + 2);
        } else if (pick < 99) {
            v = base + test_rng_below(&rng, 3 * W);
        } else {
            v = 0;
        }
        if (v >= NM_RANGE) {
            continue;
        }
        enum rvm_err want;
        if (v == 0) {
            want = RVM_ERR_PROOF_NONCE;
        } else if (v + W <= highest[d]) {
            want = RVM_ERR_PROOF_NONCE_STALE;
        } else if (accepted[d][v]) {
            want = RVM_ERR_PROOF_NONCE;
        } else {
            want = RVM_OK;
        }
        assert_int_equal(rvm_proof_nonce_fresh(&n, d, v), want);
        outcome[want == RVM_OK ? 0 : want == RVM_ERR_PROOF_NONCE ? 1 : 2]++;
        if (want == RVM_OK) {
            rvm_proof_nonce_mark(&n, d, v);
            accepted[d][v] = 1;
            if (v > highest[d]) {
                highest[d] = v;
            }
        }
        if (k % 4096 == 0) {
            assert_int_equal(rvm_proof_check(&n), RVM_OK);
        }
    }
    assert_int_equal(rvm_proof_check(&n), RVM_OK);
    printf("# nonce model: fresh %u, replayed %u, below window %u\n", outcome[0], outcome[1],
           outcome[2]);
    assert_true(outcome[0] > 1000 && outcome[1] > 1000 && outcome[2] > 1000);
    for (int d = 0; d < 3; d++) {
        free(accepted[d]);
    }
}

/* The invariant rvm_proof_check states, position by position, as the model. */
static bool nonce_domain_model_ok(const struct rvm_proof_nonce_domain *d)
{
    if (d->highest != 0 &&
        ((d->seen[(d->highest % W) / 64] >> ((d->highest % W) % 64)) & 1u) == 0) {
        return false;
    }
    for (uint64_t pos = 0; pos < W; pos++) {
        if (((d->seen[pos / 64] >> (pos % 64)) & 1u) == 0) {
            continue;
        }
        uint64_t below = (d->highest % W + W - pos) % W; /* the bit stands for highest - below */
        if (below >= d->highest) {
            return false;
        }
    }
    return true;
}

static void test_nonce_check_against_model(void **state)
{
    (void)state;
    const uint64_t seed = test_seed("nonce_check_against_model", 41);
    struct test_rng rng = test_rng_new(seed);
    struct rvm_proof_nonce_domain dom[1];
    struct rvm_proof_nonces n;
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 1), RVM_OK);
    uint32_t bad = 0;
    for (int round = 0; round < 20000; round++) {
        memset(dom, 0, sizeof(dom));
        /* highest near the interesting edges: 0, small, word boundaries, W */
        static const uint64_t edges[] = {0,   1,    2,    62,   63,   64,   65,  127,
                                         128, 1022, 1023, 1024, 1025, 2047, 5000};
        dom[0].highest =
            test_rng_below(&rng, 2) ? edges[test_rng_below(&rng, 15)] : test_rng_below(&rng, 3 * W);
        /* a legal set of marks, then sometimes one stray bit anywhere */
        if (dom[0].highest != 0) {
            uint64_t h = dom[0].highest;
            dom[0].seen[(h % W) / 64] |= 1ull << ((h % W) % 64);
            for (int k = 0; k < 8; k++) {
                uint64_t v = h - test_rng_below(&rng, h < W ? h : W);
                dom[0].seen[(v % W) / 64] |= 1ull << ((v % W) % 64);
            }
        }
        if (test_rng_below(&rng, 2)) {
            uint64_t pos = test_rng_below(&rng, W);
            dom[0].seen[pos / 64] ^= 1ull << (pos % 64);
        }
        const bool ok = nonce_domain_model_ok(&dom[0]);
        bad += !ok;
        if ((rvm_proof_check(&n) == RVM_OK) != ok) {
            fail_msg("round %d: highest %llu, model says %s (seed %llu)", round,
                     (unsigned long long)dom[0].highest, ok ? "ok" : "bad",
                     (unsigned long long)seed);
        }
    }
    assert_true(bad > 1000 && bad < 19000); /* both verdicts were exercised */
}

static void test_nonce_check_and_hash(void **state)
{
    (void)state;
    struct rvm_proof_nonce_domain dom[2];
    struct rvm_proof_nonces n;
    assert_int_equal(rvm_proof_nonces_init(&n, dom, 2), RVM_OK);
    rvm_proof_nonce_mark(&n, 0, 3);
    rvm_proof_nonce_mark(&n, 1, 2000);
    assert_int_equal(rvm_proof_check(&n), RVM_OK);
    dom[0].seen[0] |= 1u << 9; /* stands for a value above highest-W.. that is <= 0 */
    assert_int_equal(rvm_proof_check(&n), RVM_ERR_INTERNAL);
    dom[0].seen[0] &= ~(1ull << 9);
    dom[0].seen[0] |= 1u; /* the value 0 */
    assert_int_equal(rvm_proof_check(&n), RVM_ERR_INTERNAL);
    dom[0].seen[0] &= ~1ull;
    dom[1].seen[2000 % W / 64] = 0; /* highest not marked */
    assert_int_equal(rvm_proof_check(&n), RVM_ERR_INTERNAL);
    rvm_proof_nonce_mark(&n, 1, 2000);
    assert_int_equal(rvm_proof_check(&n), RVM_OK);

    /* The state hash is SHA-256 of: LE32 count, then per domain LE64 highest and 16 LE64 words. */
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sha256_ctx h;
    uint8_t got[32], want[32];
    rvm_sha256_init(&h, &crypto);
    rvm_proof_hash(&n, &h);
    rvm_sha256_final(&h, got);
    uint8_t buf[4 + 2 * 136];
    put_le(buf, 2, 4);
    for (int d = 0; d < 2; d++) {
        put_le(buf + 4 + 136 * d, dom[d].highest, 8);
        for (int w = 0; w < 16; w++) {
            put_le(buf + 4 + 136 * d + 8 + 8 * w, dom[d].seen[w], 8);
        }
    }
    unsigned int len;
    EVP_Digest(buf, sizeof(buf), want, &len, EVP_sha256(), NULL);
    assert_memory_equal(got, want, 32);
}

/* ---- P2 -------------------------------------------------------------------------------------- */

struct objects {
    bool live;
    struct rvm_object_info info;
    uint32_t calls;
};

static bool lookup(void *ctx, uint8_t type, struct rvm_handle object, struct rvm_object_info *out)
{
    struct objects *o = ctx;
    o->calls++;
    if (!o->live || type != RVM_CAP_TYPE_REGION || object.index != obj_a.index ||
        object.generation != obj_a.generation) {
        return false;
    }
    *out = o->info;
    return true;
}

struct p2fx {
    struct fx *f;
    struct objects objs;
    struct rvm_proof_nonce_domain dom[4];
    struct rvm_proof_nonces nonces;
    struct rvm_proof_ctx ctx;
    struct rvm_handle root, child, grandchild;
    struct rvm_proof_p2_args args; /* passes for `child` used by partition 2 at time 1000 */
};

static struct p2fx *p2fx_new(bool keyed)
{
    struct p2fx *p = calloc(1, sizeof(*p));
    p->f = fx_new(16, keyed);
    p->objs.live = true;
    p->objs.info = (struct rvm_object_info){
        .owner = 1, .base = 0x10000, .size = 0x4000, .lease_expires_ns = RVM_LEASE_NONE};
    assert_int_equal(rvm_proof_nonces_init(&p->nonces, p->dom, 4), RVM_OK);
    assert_int_equal(rvm_proof_ctx_init(&p->ctx, &p->f->t, &p->nonces, lookup, &p->objs, 8, 5000),
                     RVM_OK);
    p->root = fx_mint(p->f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    p->child = fx_grant(p->f, 1, p->root, RW | RVM_CAP_GRANT, 2);
    p->grandchild = fx_grant(p->f, 2, p->child, RW, 3);
    p->args = (struct rvm_proof_p2_args){.nonce_domain = 2,
                                         .nonce = 10,
                                         .not_before_ns = 900,
                                         .not_after_ns = 1100,
                                         .access_addr = 0x11000,
                                         .access_len = 0x100};
    return p;
}

static void p2fx_free(struct p2fx *p)
{
    fx_free(p->f);
    free(p);
}

static enum rvm_err p2(struct p2fx *p, uint32_t actor, struct rvm_handle cap,
                       struct rvm_proof_p2_args a, uint64_t now)
{
    struct rvm_proof_p2_plan plan = {0, 0};
    enum rvm_err err = rvm_proof_p2(&p->ctx, actor, cap, &a, now, &plan);
    if (err == RVM_OK) {
        assert_int_equal(plan.nonce_domain, a.nonce_domain);
        assert_int_equal(plan.nonce, a.nonce);
    }
    return err;
}

static void test_p2_ctx_init_rejects_bad_arguments(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    struct rvm_proof_ctx c;
    assert_int_equal(rvm_proof_ctx_init(&c, NULL, &p->nonces, lookup, NULL, 8, 1),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_ctx_init(&c, &p->f->t, NULL, lookup, NULL, 8, 1),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_ctx_init(&c, &p->f->t, &p->nonces, NULL, NULL, 8, 1),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_proof_ctx_init(&c, &p->f->t, &p->nonces, lookup, NULL, 9, 1),
                     RVM_ERR_INVALID_ARGUMENT);
    p2fx_free(p);
}

static void test_p2_passes_and_consumes_only_on_commit(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    struct rvm_proof_p2_plan plan;
    assert_int_equal(rvm_proof_p2(&p->ctx, 2, p->child, &p->args, 1000, &plan), RVM_OK);
    assert_int_equal(rvm_proof_p2(&p->ctx, 1, p->root, &p->args, 1000, &plan), RVM_OK);
    assert_int_equal(rvm_proof_p2(&p->ctx, 3, p->grandchild, &p->args, 1000, &plan), RVM_OK);
    /* Checking alone consumes nothing; the commit does. */
    assert_int_equal(rvm_proof_p2(&p->ctx, 2, p->child, &p->args, 1000, &plan), RVM_OK);
    rvm_proof_p2_commit(&p->ctx, &plan);
    assert_int_equal(rvm_proof_p2(&p->ctx, 2, p->child, &p->args, 1000, &plan),
                     RVM_ERR_PROOF_NONCE);
    assert_int_equal(p->dom[2].highest, 10);
    p2fx_free(p);
}

static void test_p2_rule_ownership(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    assert_int_equal(p2(p, 3, p->child, p->args, 1000), RVM_ERR_PROOF_OWNER); /* not the holder */
    p->objs.info.owner = 9; /* the object changed hands: the chain's root is not its owner */
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_PROOF_OWNER);
    assert_int_equal(p2(p, 1, p->root, p->args, 1000), RVM_ERR_PROOF_OWNER);
    p->objs.info.owner = 1;
    p->objs.live = false; /* the object is gone (its generation moved on) */
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_STALE);
    p->objs.live = true;
    /* Handles that do not name a live capability. */
    assert_int_equal(p2(p, 2, rvm_cap_handle(16, 1), p->args, 1000), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(p2(p, 2, rvm_cap_handle(p->child.index, 7), p->args, 1000), RVM_ERR_CAP_STALE);
    p2fx_free(p);
}

static void test_p2_rule_bounds(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    struct {
        uint64_t addr, len;
        bool ok;
    } cases[] = {
        {0x10000, 0x4000, true},               /* the whole region */
        {0x13FFF, 1, true},                    /* the last byte */
        {0x14000, 0, true},                    /* no access at all */
        {0, 0, true},                          /* no access at all */
        {0xFFFF, 1, false},                    /* one below */
        {0x14000, 1, false},                   /* one above */
        {0x13FFF, 2, false},                   /* straddles the end */
        {0x10000, 0x4001, false},              /* one byte too long */
        {0x10001, UINT64_MAX, false},          /* len - would wrap the size check */
        {UINT64_MAX, 2, false},                /* end wraps */
        {UINT64_MAX - 0x10, 0x20, false},      /* end wraps */
        {0x10000 + 0x2000, UINT64_MAX, false}, /* huge length */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rvm_proof_p2_args a = p->args;
        a.access_addr = cases[i].addr;
        a.access_len = cases[i].len;
        assert_int_equal(p2(p, 2, p->child, a, 1000), cases[i].ok ? RVM_OK : RVM_ERR_PROOF_BOUNDS);
    }
    /* An object at the very top of the address space: base + size would overflow. */
    p->objs.info.base = UINT64_MAX - 0xFF;
    p->objs.info.size = 0x1000;
    struct rvm_proof_p2_args a = p->args;
    a.access_addr = UINT64_MAX - 0x10;
    a.access_len = 0x10; /* ends exactly at UINT64_MAX: fits */
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_OK);
    a.access_len = 0x11; /* would end beyond 2^64 - 1 */
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_BOUNDS);
    /* An object with no address range refuses every access but allows none. */
    p->objs.info.base = 0;
    p->objs.info.size = 0;
    a.access_addr = 0;
    a.access_len = 1;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_BOUNDS);
    a.access_len = 0;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_OK);
    p2fx_free(p);
}

static void test_p2_rule_lease(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    p->objs.info.lease_expires_ns = 1001;
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_OK);
    p->objs.info.lease_expires_ns = 1000; /* over at the instant it expires */
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_PROOF_LEASE);
    p->objs.info.lease_expires_ns = 0;
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_PROOF_LEASE);
    p->objs.info.lease_expires_ns = RVM_LEASE_NONE;
    struct rvm_proof_p2_args a = p->args;
    a.not_after_ns = UINT64_MAX;
    a.not_before_ns = UINT64_MAX - 10;
    assert_int_equal(p2(p, 2, p->child, a, UINT64_MAX), RVM_OK); /* no lease never expires */
    p2fx_free(p);
}

static void test_p2_rule_depth(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    p->ctx.max_depth = 1;
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_OK);
    assert_int_equal(p2(p, 3, p->grandchild, p->args, 1000), RVM_ERR_PROOF_DEPTH);
    p->ctx.max_depth = 0;
    assert_int_equal(p2(p, 1, p->root, p->args, 1000), RVM_OK);
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_PROOF_DEPTH);
    p->ctx.max_depth = 8;
    /* The recorded depth is checked against the real chain, not trusted. */
    struct rvm_cap_slot *g = &p->f->slots[p->grandchild.index];
    g->depth = 1;
    assert_int_equal(p2(p, 3, p->grandchild, p->args, 1000), RVM_ERR_PROOF_DEPTH);
    g->depth = 2;
    p->f->slots[p->child.index].parent.generation += 2; /* a broken link higher up */
    assert_int_equal(p2(p, 3, p->grandchild, p->args, 1000), RVM_ERR_PROOF_DEPTH);
    p2fx_free(p);
}

static void test_p2_chain_steps_walks_to_the_root(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    const struct rvm_cap_slot *slots = p->f->slots;
    const struct rvm_cap_slot *root = NULL;
    /* p2fx_new minted root and granted child from it, grandchild from child: 0, 1, 2 steps. */
    assert_int_equal(rvm_proof_chain_steps(&p->f->t, &slots[p->root.index], &root), 0);
    assert_ptr_equal(root, &slots[p->root.index]);
    root = NULL;
    assert_int_equal(rvm_proof_chain_steps(&p->f->t, &slots[p->grandchild.index], &root), 2);
    assert_ptr_equal(root, &slots[p->root.index]);
    /* A stale parent link on the way up: no root, and *root is left alone. */
    p->f->slots[p->child.index].parent.generation += 2;
    root = NULL;
    assert_int_equal(rvm_proof_chain_steps(&p->f->t, &slots[p->grandchild.index], &root),
                     RVM_PROOF_CHAIN_BROKEN);
    assert_null(root);
    p2fx_free(p);
}

static void test_p2_rule_nonce(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    struct rvm_proof_p2_args a = p->args;
    a.nonce = 0;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_NONCE);
    a.nonce_domain = 4;
    a.nonce = 1;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_OUT_OF_RANGE);
    rvm_proof_nonce_mark(&p->nonces, 2, 10 + W);
    assert_int_equal(p2(p, 2, p->child, p->args, 1000), RVM_ERR_PROOF_NONCE_STALE);
    a = p->args;
    a.nonce = 10 + W;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_NONCE);
    a.nonce_domain = 3;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_OK);
    p2fx_free(p);
}

static void test_p2_rule_time_window(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    assert_int_equal(p2(p, 2, p->child, p->args, 900), RVM_OK);
    assert_int_equal(p2(p, 2, p->child, p->args, 1100), RVM_OK);
    assert_int_equal(p2(p, 2, p->child, p->args, 899), RVM_ERR_PROOF_TIME);
    assert_int_equal(p2(p, 2, p->child, p->args, 1101), RVM_ERR_PROOF_TIME);
    struct rvm_proof_p2_args a = p->args;
    a.not_before_ns = 1000;
    a.not_after_ns = 1000 + 5000; /* exactly the longest window */
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_OK);
    a.not_after_ns++;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_TIME);
    a.not_before_ns = 1100; /* reversed */
    a.not_after_ns = 900;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_TIME);
    a.not_before_ns = 0;
    a.not_after_ns = UINT64_MAX;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_TIME);
    p2fx_free(p);
}

static void test_p2_reports_first_failing_rule(void **state)
{
    (void)state;
    struct p2fx *p = p2fx_new(false);
    struct rvm_proof_p2_args a = p->args;
    a.access_addr = 0;                  /* bounds */
    a.nonce = 0;                        /* nonce */
    a.not_after_ns = 950;               /* time */
    p->objs.info.lease_expires_ns = 10; /* lease */
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_BOUNDS);
    a.access_addr = p->args.access_addr;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_LEASE);
    p->objs.info.lease_expires_ns = RVM_LEASE_NONE;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_NONCE);
    a.nonce = 77;
    assert_int_equal(p2(p, 2, p->child, a, 1000), RVM_ERR_PROOF_TIME);
    assert_int_equal(p2(p, 3, p->child, a, 1000), RVM_ERR_PROOF_OWNER);
    /* The object was looked up on every call, refused or not. */
    assert_int_equal(p->objs.calls, 5);
    /* A refusal consumed nothing. */
    assert_int_equal(rvm_proof_nonce_fresh(&p->nonces, 2, 77), RVM_OK);
    p2fx_free(p);
}

/* ---- P3 -------------------------------------------------------------------------------------- */

static struct rvm_handle chain8(struct fx *f, struct rvm_handle *all)
{
    struct rvm_handle cur = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    all[0] = cur;
    for (int d = 1; d <= 8; d++) {
        if (d == 4) {
            assert_int_equal(witnessed_cap_epoch_advance(&f->t, &f->log), RVM_OK);
        }
        cur = fx_grant(f, (uint32_t)d, cur, (uint8_t)(ALL >> (d / 3)) | RVM_CAP_GRANT,
                       (uint32_t)d + 1);
        all[d] = cur;
    }
    return cur;
}

static void test_p3_walks_to_the_root(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, true);
    struct rvm_handle all[9];
    struct rvm_handle leaf = chain8(f, all);
    for (int d = 0; d <= 8; d++) {
        assert_int_equal(rvm_proof_p3(&f->t, all[d]), RVM_OK);
        assert_int_equal(rvm_proof_p3_signed(&f->t, all[d]), RVM_OK);
    }
    assert_int_equal(rvm_cap_get(&f->t, leaf)->epoch, 6);
    assert_int_equal(rvm_proof_p3(&f->t, rvm_cap_handle(16, 1)), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_proof_p3(&f->t, rvm_cap_handle(leaf.index, leaf.generation + 2)),
                     RVM_ERR_CAP_STALE);
    assert_int_equal(rvm_proof_p3_signed(&f->t, rvm_cap_handle(leaf.index, 0)), RVM_ERR_CAP_STALE);
    fx_free(f);
}

static void test_p3_detects_each_broken_link(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, true);
    struct rvm_handle all[9];
    struct rvm_handle leaf = chain8(f, all);
    struct rvm_cap_slot saved;
#define BREAK(idx, stmt, err)                                                                      \
    do {                                                                                           \
        saved = f->slots[idx];                                                                     \
        stmt;                                                                                      \
        assert_int_equal(rvm_proof_p3(&f->t, leaf), err);                                          \
        assert_int_equal(rvm_proof_p3_signed(&f->t, leaf), err);                                   \
        f->slots[idx] = saved;                                                                     \
        assert_int_equal(rvm_proof_p3_signed(&f->t, leaf), RVM_OK);                                \
    } while (0)
    const uint32_t mid = all[5].index, root = all[0].index;
    BREAK(mid, f->slots[mid].parent.generation += 2, RVM_ERR_PROOF_CHAIN); /* stale parent */
    BREAK(mid, f->slots[mid].parent.index = 99, RVM_ERR_PROOF_CHAIN);      /* out of range */
    BREAK(mid, f->slots[mid].depth = 7, RVM_ERR_PROOF_CHAIN);              /* depth jump */
    BREAK(mid, f->slots[mid].epoch = 2, RVM_ERR_PROOF_CHAIN);              /* epoch goes down */
    BREAK(mid, f->slots[mid].root_epoch = 6, RVM_ERR_PROOF_CHAIN);
    BREAK(mid, f->slots[mid].rights |= RVM_CAP_REVOKE | 0x40, RVM_ERR_PROOF_CHAIN);
    BREAK(mid, f->slots[mid].type = RVM_CAP_TYPE_DEVICE, RVM_ERR_PROOF_CHAIN);
    BREAK(mid, f->slots[mid].object = obj_b, RVM_ERR_PROOF_CHAIN);
    BREAK(root, f->slots[root].parent = all[1], RVM_ERR_PROOF_CHAIN); /* root with a parent */
    BREAK(root, f->slots[root].epoch = 9, RVM_ERR_PROOF_CHAIN);
    BREAK(root, f->slots[root].depth = 1, RVM_ERR_PROOF_CHAIN);
    f->t.epoch_floor = 6; /* the tree's epoch is below the floor */
    assert_int_equal(rvm_proof_p3(&f->t, leaf), RVM_ERR_PROOF_CHAIN);
    f->t.epoch_floor = 5;
#undef BREAK
    fx_free(f);
}

static void test_p3_signed_detects_tampering(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, true);
    struct rvm_handle all[9];
    struct rvm_handle leaf = chain8(f, all);
    struct rvm_cap_slot saved;
#define TAMPER(idx, stmt)                                                                          \
    do {                                                                                           \
        saved = f->slots[idx];                                                                     \
        stmt;                                                                                      \
        assert_int_equal(rvm_proof_p3(&f->t, leaf), RVM_OK); /* structurally fine */               \
        assert_int_equal(rvm_proof_p3_signed(&f->t, leaf), RVM_ERR_PROOF_SIGNATURE);               \
        f->slots[idx] = saved;                                                                     \
    } while (0)
    for (int d = 0; d <= 8; d++) {
        const uint32_t i = all[d].index;
        TAMPER(i, f->slots[i].badge ^= 1);
        TAMPER(i, f->slots[i].owner += 1);
        TAMPER(i, f->slots[i].cap_hash ^= 0x100);
        TAMPER(i, f->slots[i].mac[d] ^= 0x80);
        if (d == 8) { /* on the leaf, so that attenuation still holds */
            TAMPER(i, f->slots[i].rights &= (uint8_t)~RVM_CAP_READ);
        }
    }
#undef TAMPER
    assert_int_equal(rvm_proof_p3_signed(&f->t, leaf), RVM_OK);
    struct fx *g = fx_new(4, false);
    struct rvm_handle h = fx_mint(g, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    assert_int_equal(rvm_proof_p3(&g->t, h), RVM_OK);
    assert_int_equal(rvm_proof_p3_signed(&g->t, h), RVM_ERR_UNSUPPORTED);
    fx_free(g);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p1_each_failure),
        cmocka_unit_test(test_p1_out_of_range_over_a_free_slot_0),
        cmocka_unit_test(test_p1_matches_model_on_random_inputs),
        cmocka_unit_test(test_nonce_window_by_hand),
        cmocka_unit_test(test_nonce_fill_whole_window),
        cmocka_unit_test(test_nonce_store_matches_exact_model),
        cmocka_unit_test(test_nonce_check_and_hash),
        cmocka_unit_test(test_nonce_check_against_model),
        cmocka_unit_test(test_p2_ctx_init_rejects_bad_arguments),
        cmocka_unit_test(test_p2_passes_and_consumes_only_on_commit),
        cmocka_unit_test(test_p2_rule_ownership),
        cmocka_unit_test(test_p2_rule_bounds),
        cmocka_unit_test(test_p2_rule_lease),
        cmocka_unit_test(test_p2_rule_depth),
        cmocka_unit_test(test_p2_chain_steps_walks_to_the_root),
        cmocka_unit_test(test_p2_rule_nonce),
        cmocka_unit_test(test_p2_rule_time_window),
        cmocka_unit_test(test_p2_reports_first_failing_rule),
        cmocka_unit_test(test_p3_walks_to_the_root),
        cmocka_unit_test(test_p3_detects_each_broken_link),
        cmocka_unit_test(test_p3_signed_detects_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
