/* SPDX-License-Identifier: MIT */
/*
 * The security gate: the success record of each tier, the rejection record of every stage,
 * "nothing consumed unless witnessed", and hostile random requests (every call yields exactly
 * one record, an error or the requested kind, and the tables stay consistent).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "cap_fixture.h"

#include "rvm/gate.h"
#include "rvm/proof.h"

#define ALL RVM_CAP_RIGHTS_ALL
#define RW  (RVM_CAP_READ | RVM_CAP_WRITE)

static const struct rvm_handle region = {7, 3};

struct objects {
    bool live;
    struct rvm_object_info info;
};

static bool lookup(void *ctx, uint8_t type, struct rvm_handle object, struct rvm_object_info *out)
{
    struct objects *o = ctx;
    if (!o->live || type != RVM_CAP_TYPE_REGION || object.index != region.index ||
        object.generation != region.generation) {
        return false;
    }
    *out = o->info;
    return true;
}

struct gfx {
    struct fx *f;
    struct objects objs;
    struct rvm_proof_nonce_domain dom[4];
    struct rvm_proof_nonces nonces;
    struct rvm_proof_ctx ctx;
    struct rvm_handle root, child;
    uint32_t child_hash;
    struct rvm_gate_request req; /* a tier-2 request that passes for `child` at time 1000 */
};

static struct gfx *gfx_new(bool keyed)
{
    struct gfx *g = calloc(1, sizeof(*g));
    g->f = fx_new(16, keyed);
    g->objs.live = true;
    g->objs.info = (struct rvm_object_info){
        .owner = 1, .base = 0x10000, .size = 0x4000, .lease_expires_ns = RVM_LEASE_NONE};
    assert_int_equal(rvm_proof_nonces_init(&g->nonces, g->dom, 4), RVM_OK);
    assert_int_equal(rvm_proof_ctx_init(&g->ctx, &g->f->t, &g->nonces, lookup, &g->objs, 8, 5000),
                     RVM_OK);
    g->root = fx_mint(g->f, RVM_CAP_TYPE_REGION, ALL, 1, region, 0);
    g->child = fx_grant(g->f, 1, g->root, RW | RVM_CAP_PROVE | RVM_CAP_GRANT, 2);
    g->child_hash = rvm_cap_get(&g->f->t, g->child)->cap_hash;
    g->f->rec.now_ns = 1000;
    g->req = (struct rvm_gate_request){
        .actor = 2,
        .action = RVM_ACT_REGION_MAP,
        .tier = RVM_PROOF_P2,
        .cap_type = RVM_CAP_TYPE_REGION,
        .rights = RVM_CAP_WRITE,
        .cap = g->child,
        .object = region,
        .p2 = {.nonce_domain = 2,
               .nonce = 1,
               .not_before_ns = 900,
               .not_after_ns = 1100,
               .access_addr = 0x10000,
               .access_len = 0x1000},
        .record_flags = 0x5A,
        .payload = 0x1122334455667788ull,
        .aux = 0x99,
    };
    return g;
}

static void gfx_free(struct gfx *g)
{
    fx_free(g->f);
    free(g);
}

static void test_success_records_per_tier(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(true);
    struct rvm_gate_request r = g->req;
    uint64_t seq = 0;
    /* Tier 2. */
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, &seq), RVM_OK);
    assert_int_equal(seq, fx_records(g->f) - 1);
    expect_record(g->f, RVM_ACT_REGION_MAP, 2, 0x5A, 2, pack(7, 3), g->child_hash,
                  0x1122334455667788ull, 0x99);
    assert_int_equal(rvm_proof_nonce_fresh(&g->nonces, 2, 1), RVM_ERR_PROOF_NONCE);
    /* Tier 1: no P2 inputs needed, no nonce consumed. */
    r.tier = RVM_PROOF_P1;
    r.p2 = (struct rvm_proof_p2_args){0};
    r.action = RVM_ACT_PROOF_VERIFIED_P1;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), RVM_OK);
    expect_record(g->f, RVM_ACT_PROOF_VERIFIED_P1, 1, 0x5A, 2, pack(7, 3), g->child_hash,
                  0x1122334455667788ull, 0x99);
    /* Tier 3, plain and signed. */
    r = g->req;
    r.tier = RVM_PROOF_P3;
    r.p2.nonce = 2;
    r.action = RVM_ACT_PROOF_VERIFIED_P3;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), RVM_OK);
    expect_record(g->f, RVM_ACT_PROOF_VERIFIED_P3, 3, 0x5A, 2, pack(7, 3), g->child_hash,
                  0x1122334455667788ull, 0x99);
    r.p2.nonce = 3;
    r.options = RVM_GATE_SIGNED;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), RVM_OK);
    expect_record(g->f, RVM_ACT_PROOF_VERIFIED_P3, 3, 0x5A, 2, pack(7, 3), g->child_hash,
                  0x1122334455667788ull, 0x99);
    gfx_free(g);
}

/* One refused request: exactly one rejection record, nothing consumed. */
static void refused(struct gfx *g, struct rvm_gate_request r, uint8_t stage, uint8_t tier,
                    uint32_t cap_hash, enum rvm_err err)
{
    uint64_t n = fx_records(g->f);
    uint8_t nbefore[32], nafter[32], tbefore[32], tafter[32];
    struct rvm_sha256_ctx h;
    rvm_sha256_init(&h, &g->f->crypto);
    rvm_proof_hash(&g->nonces, &h);
    rvm_sha256_final(&h, nbefore);
    fx_table_digest(g->f, tbefore);
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), err);
    assert_int_equal(fx_records(g->f), n + 1);
    expect_reject(g->f, r.actor, hpack(r.object), stage, tier, cap_hash, err, r.action);
    rvm_sha256_init(&h, &g->f->crypto);
    rvm_proof_hash(&g->nonces, &h);
    rvm_sha256_final(&h, nafter);
    fx_table_digest(g->f, tafter);
    assert_memory_equal(nbefore, nafter, 32);
    assert_memory_equal(tbefore, tafter, 32);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(false);
    struct rvm_gate_request r;
    const uint8_t D = RVM_STAGE_DECODE;
    r = g->req, r.tier = 0;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.tier = 4;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.action = 0x00; /* no such kind */
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.action = 0xEE;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.action = RVM_ACT_PROOF_REJECTED; /* cannot be a success */
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.cap_type = 9;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.rights = 0x80;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.options = 0x02;
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.options = RVM_GATE_SIGNED; /* signed needs tier 3 */
    refused(g, r, D, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    r = g->req, r.p2.nonce_domain = 4;
    refused(g, r, D, 0, 0, RVM_ERR_OUT_OF_RANGE);
    r = g->req, r.tier = RVM_PROOF_P3, r.options = RVM_GATE_SIGNED; /* the table has no key */
    refused(g, r, D, 0, 0, RVM_ERR_UNSUPPORTED);
    /* Tier 1 does not look at the P2 fields at all. */
    r = g->req, r.tier = RVM_PROOF_P1, r.p2.nonce_domain = UINT32_MAX;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), RVM_OK);
    gfx_free(g);
}

static void test_p1_refusals(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(false);
    struct rvm_gate_request r;
    const uint8_t S = RVM_STAGE_P1;
    r = g->req, r.cap = rvm_cap_handle(16, 1);
    refused(g, r, S, 0, 0, RVM_ERR_OUT_OF_RANGE);
    r = g->req, r.cap.generation += 2;
    refused(g, r, S, 0, 0, RVM_ERR_CAP_STALE);
    r = g->req, r.actor = 3;
    refused(g, r, S, 0, g->child_hash, RVM_ERR_CAP_HOLDER);
    r = g->req, r.cap_type = RVM_CAP_TYPE_DEVICE;
    refused(g, r, S, 0, g->child_hash, RVM_ERR_CAP_TYPE);
    r = g->req, r.object.generation = 4; /* a region that no longer exists */
    refused(g, r, S, 0, g->child_hash, RVM_ERR_CAP_OBJECT);
    r = g->req, r.rights = RVM_CAP_EXECUTE;
    refused(g, r, S, 0, g->child_hash, RVM_ERR_CAP_RIGHTS);
    /* A revoked capability is refused as stale. */
    struct rvm_cap_revoke_args rv = {.authority = g->root, .target = g->child};
    assert_int_equal(witnessed_cap_revoke(&g->f->t, &g->f->log, 1, &rv, NULL), RVM_OK);
    r = g->req;
    refused(g, r, S, 0, 0, RVM_ERR_CAP_STALE);
    gfx_free(g);
}

static void test_p2_and_p3_refusals(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(true);
    struct rvm_gate_request r;
    const uint8_t S2 = RVM_STAGE_P2, S3 = RVM_STAGE_P3;
    const uint32_t ch = g->child_hash;
    g->objs.live = false;
    refused(g, g->req, S2, 1, ch, RVM_ERR_STALE);
    g->objs.live = true;
    g->objs.info.owner = 5;
    refused(g, g->req, S2, 1, ch, RVM_ERR_PROOF_OWNER);
    g->objs.info.owner = 1;
    r = g->req, r.p2.access_addr = 0x14000;
    refused(g, r, S2, 1, ch, RVM_ERR_PROOF_BOUNDS);
    g->objs.info.lease_expires_ns = 1000;
    refused(g, g->req, S2, 1, ch, RVM_ERR_PROOF_LEASE);
    g->objs.info.lease_expires_ns = RVM_LEASE_NONE;
    g->ctx.max_depth = 0;
    refused(g, g->req, S2, 1, ch, RVM_ERR_PROOF_DEPTH);
    g->ctx.max_depth = 8;
    r = g->req, r.p2.nonce = 0;
    refused(g, r, S2, 1, ch, RVM_ERR_PROOF_NONCE);
    r = g->req, r.p2.not_after_ns = 999;
    refused(g, r, S2, 1, ch, RVM_ERR_PROOF_TIME);
    /* Replay: the first use passes, the second is refused at P2. */
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &g->req, NULL), RVM_OK);
    refused(g, g->req, S2, 1, ch, RVM_ERR_PROOF_NONCE);
    rvm_proof_nonce_mark(&g->nonces, 2, 5000);
    r = g->req, r.p2.nonce = 2;
    refused(g, r, S2, 1, ch, RVM_ERR_PROOF_NONCE_STALE);
    /* P3: break the chain, then tamper with a link. */
    r = g->req, r.tier = RVM_PROOF_P3, r.p2.nonce = 6000;
    g->f->slots[g->child.index].epoch = 1; /* older than its parent */
    refused(g, r, S3, 2, ch, RVM_ERR_PROOF_CHAIN);
    g->f->slots[g->child.index].epoch = 5;
    g->f->slots[g->root.index].badge = 1;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL), RVM_OK); /* plain: fine */
    r.p2.nonce = 6001, r.options = RVM_GATE_SIGNED;
    refused(g, r, S3, 2, ch, RVM_ERR_PROOF_SIGNATURE);
    gfx_free(g);
}

static void test_nothing_consumed_unless_witnessed(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(false);
    /* prepare alone changes nothing: the same nonce passes again. */
    struct rvm_witness_entry e;
    struct rvm_gate_plan plan;
    struct rvm_witness_rejection rej;
    assert_int_equal(rvm_gate_prepare(&g->ctx, &g->req, 1000, &e, &plan, &rej), RVM_OK);
    assert_int_equal(rvm_gate_prepare(&g->ctx, &g->req, 1000, &e, &plan, &rej), RVM_OK);
    assert_int_equal(e.kind, RVM_ACT_REGION_MAP);
    assert_int_equal(e.proof_tier, 2);
    assert_int_equal(e.cap_hash, g->child_hash);
    /* A full log: the success record cannot be appended, so the nonce is not spent. */
    g->f->rec.drain_limit = 0;
    struct rvm_witness_entry demo = {.kind = RVM_ACT_DEMO};
    while (rvm_witness_append(&g->f->log, &demo, NULL) == RVM_OK) {
    }
    uint64_t n = fx_records(g->f);
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &g->req, NULL),
                     RVM_ERR_WITNESS_FULL);
    assert_int_equal(fx_records(g->f), n);
    assert_int_equal(rvm_proof_nonce_fresh(&g->nonces, 2, 1), RVM_OK);
    /* A refusal on a full log is still a refusal. */
    struct rvm_gate_request bad = g->req;
    bad.tier = 0;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &bad, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    g->f->rec.drain_limit = UINT64_MAX;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &g->req, NULL), RVM_OK);
    assert_int_equal(rvm_proof_nonce_fresh(&g->nonces, 2, 1), RVM_ERR_PROOF_NONCE);
    gfx_free(g);
}

static void test_gate_uses_the_log_clock(void **state)
{
    (void)state;
    struct gfx *g = gfx_new(false);
    g->f->rec.now_ns = 1101; /* after not_after */
    refused(g, g->req, RVM_STAGE_P2, 1, g->child_hash, RVM_ERR_PROOF_TIME);
    g->f->rec.now_ns = 1100;
    assert_int_equal(witnessed_gate_check(&g->ctx, &g->f->log, &g->req, NULL), RVM_OK);
    gfx_free(g);
}

/* Hostile requests: random values in every field. */
static void test_random_hostile_requests(void **state)
{
    (void)state;
    uint64_t seed = test_seed("test_random_hostile_requests", 0x4057);
    struct test_rng rng = test_rng_new(seed);
    struct gfx *g = gfx_new((seed & 1) != 0);
    struct rvm_handle caps[6] = {g->root, g->child};
    caps[2] = fx_grant(g->f, 2, g->child, RW, 3);
    caps[3] = fx_mint(g->f, RVM_CAP_TYPE_DEVICE, ALL, 3, rvm_cap_handle(1, 1), 0);
    caps[4] = rvm_cap_handle(10, 1); /* never used */
    caps[5] = rvm_cap_handle(40, 1); /* out of range */
    uint32_t passed = 0, by_stage[6] = {0};
    for (int k = 0; k < 50000; k++) {
        struct rvm_gate_request r = g->req;
        uint64_t mode = test_rng_below(&rng, 4);
        if (mode == 0) { /* everything random */
            uint8_t raw[sizeof(r)];
            test_rng_fill(&rng, raw, sizeof(raw));
            memcpy(&r, raw, sizeof(r));
        } else { /* plausible, with a few fields disturbed */
            r.cap = caps[test_rng_below(&rng, 6)];
            r.actor = test_rng_below(&rng, 4) != 0 && r.cap.index < 16
                          ? g->f->slots[r.cap.index].owner
                          : (uint32_t)test_rng_below(&rng, 4);
            static const uint8_t kinds[] = {RVM_ACT_REGION_MAP, RVM_ACT_IPC_SEND,
                                            RVM_ACT_PROOF_VERIFIED_P2, RVM_ACT_PARTITION_CREATE};
            r.tier = test_rng_below(&rng, 8) == 0 ? (uint8_t)test_rng_below(&rng, 5)
                                                  : (uint8_t)(1 + test_rng_below(&rng, 3));
            r.action = test_rng_below(&rng, 8) == 0 ? (uint8_t)test_rng_next(&rng)
                                                    : kinds[test_rng_below(&rng, 4)];
            if (test_rng_below(&rng, 8) == 0) {
                r.cap_type = (uint8_t)test_rng_below(&rng, 10);
            }
            r.rights = (uint8_t)(test_rng_next(&rng) & (mode == 1 ? 0xFF : RW));
            if (test_rng_below(&rng, 2) == 0) {
                r.cap_type = g->f->slots[r.cap.index < 16 ? r.cap.index : 0].type;
                r.object = g->f->slots[r.cap.index < 16 ? r.cap.index : 0].object;
            }
            r.options = test_rng_below(&rng, 6) == 0 ? (uint8_t)test_rng_below(&rng, 3) : 0;
            r.p2.nonce = test_rng_below(&rng, 3) == 0 ? test_rng_next(&rng) : (uint64_t)k + 10;
            r.p2.nonce_domain = (uint32_t)test_rng_below(&rng, test_rng_below(&rng, 8) ? 4 : 6);
            if (mode == 2) {
                r.p2.access_addr = test_rng_next(&rng);
                r.p2.access_len = test_rng_next(&rng) >> test_rng_below(&rng, 64);
                r.p2.not_before_ns = test_rng_next(&rng) >> test_rng_below(&rng, 64);
                r.p2.not_after_ns = test_rng_next(&rng) >> test_rng_below(&rng, 64);
            }
        }
        g->f->rec.now_ns = 1000 + test_rng_below(&rng, 50);
        uint64_t n = fx_records(g->f);
        enum rvm_err err = witnessed_gate_check(&g->ctx, &g->f->log, &r, NULL);
        assert_int_equal(fx_records(g->f), n + 1);
        struct rvm_witness_record rec = fx_last(g->f);
        if (err == RVM_OK) {
            passed++;
            assert_int_equal(rec.kind, r.action);
            assert_int_equal(rec.proof_tier, r.tier);
        } else {
            assert_int_equal(rec.kind, 0x53);
            assert_int_equal(rec.payload, (uint64_t)err | (uint64_t)r.action << 32);
            assert_true(rec.flags >= RVM_STAGE_DECODE && rec.flags <= RVM_STAGE_P3);
            assert_true(rvm_err_is_known(err));
            by_stage[rec.flags]++;
        }
        if (k % 1000 == 0) {
            assert_int_equal(rvm_cap_check(&g->f->t), RVM_OK);
            assert_int_equal(rvm_proof_check(&g->nonces), RVM_OK);
        }
    }
    printf("# hostile requests: passed %u, refused at decode %u, P1 %u, P2 %u, P3 %u\n", passed,
           by_stage[1], by_stage[2], by_stage[3], by_stage[4]);
    assert_true(passed > 0 && by_stage[1] > 0 && by_stage[2] > 0 && by_stage[3] > 0);
    gfx_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_records_per_tier),
        cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_p1_refusals),
        cmocka_unit_test(test_p2_and_p3_refusals),
        cmocka_unit_test(test_nothing_consumed_unless_witnessed),
        cmocka_unit_test(test_gate_uses_the_log_clock),
        cmocka_unit_test(test_random_hostile_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
