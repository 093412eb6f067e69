/* SPDX-License-Identifier: MIT */
/*
 * The capability table: every operation's success and refusal paths with the exact record each
 * produces, slot reuse and generation retirement, epochs, "no witness, no mutation", the
 * consistency checker against planted corruption, and a long seeded random sequence checked
 * after every step against a deliberately simple model (explicit parent indices, full scans).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "cap_fixture.h"

#include "rvm/proof.h"

#define ALL RVM_CAP_RIGHTS_ALL
#define RW  (RVM_CAP_READ | RVM_CAP_WRITE)

static const struct rvm_handle obj_a = {7, 3};
static const struct rvm_handle obj_b = {9, 1};

/* ---- init ------------------------------------------------------------------------------------ */

static void test_init_rejects_bad_configuration(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_cap_slot slots[2];
    struct rvm_cap_table t;
    uint8_t key[65] = {0};
    struct rvm_cap_config ok = {.slots = slots, .capacity = 2};
    struct rvm_cap_config c = ok;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_OK);
    assert_int_equal(rvm_cap_check(&t), RVM_OK);
    c.slots = NULL;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    c = ok;
    c.capacity = 0;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    c.capacity = RVM_CAP_CAPACITY_MAX + 1;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    c = ok;
    c.mac_key = key;
    c.mac_key_len = 65;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    c.mac_key = NULL;
    c.mac_key_len = 4;
    assert_int_equal(rvm_cap_init(&t, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_cap_init(&t, NULL, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_cap_init(NULL, &crypto, &ok), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_cap_init(&t, &crypto, NULL), RVM_ERR_INVALID_ARGUMENT);
}

/* ---- mint ------------------------------------------------------------------------------------ */

static void test_mint_record_slot_hash_and_mac(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, true);
    struct rvm_handle h = fx_mint(f, RVM_CAP_TYPE_REGION, RW | RVM_CAP_GRANT, 3, obj_a, 0xBADCAFE);
    /* First slot, first live generation. */
    assert_int_equal(h.index, 0);
    assert_int_equal(h.generation, 1);
    const struct rvm_cap_slot *s = rvm_cap_get(&f->t, h);
    assert_non_null(s);
    assert_int_equal(s->type, RVM_CAP_TYPE_REGION);
    assert_int_equal(s->rights, 0x07);
    assert_int_equal(s->depth, 0);
    assert_int_equal(s->owner, 3);
    assert_int_equal(s->epoch, 5);
    assert_int_equal(s->root_epoch, 5);
    assert_int_equal(s->badge, 0xBADCAFE);
    assert_int_equal(s->parent.index, RVM_CAP_NONE);
    uint32_t ch = expect_cap_hash(0, s);
    assert_int_equal(s->cap_hash, ch);
    uint8_t mac[16];
    expect_mac(0, s, 0, mac);
    assert_memory_equal(s->mac, mac, 16);
    expect_record(f, 0x16, 0, 0x07, 0, pack(0, 1), ch, pack(7, 3),
                  3 | (uint64_t)RVM_CAP_TYPE_REGION << 32);
    assert_int_equal(f->t.live, 1);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_mint_unkeyed_has_zero_mac(void **state)
{
    (void)state;
    struct fx *f = fx_new(4, false);
    struct rvm_handle h = fx_mint(f, RVM_CAP_TYPE_DEVICE, ALL, 1, obj_b, 0);
    static const uint8_t zero[16] = {0};
    assert_memory_equal(rvm_cap_get(&f->t, h)->mac, zero, 16);
    fx_free(f);
}

static void mint_refused(struct fx *f, uint32_t actor, struct rvm_cap_mint_args a, uint8_t stage,
                         enum rvm_err err)
{
    uint8_t before[32], after[32];
    fx_table_digest(f, before);
    uint64_t n = fx_records(f);
    struct rvm_handle h = {123, 456};
    assert_int_equal(witnessed_cap_mint(&f->t, &f->log, actor, &a, &h), err);
    assert_int_equal(h.index, 123); /* output untouched */
    assert_int_equal(fx_records(f), n + 1);
    expect_reject(f, actor, hpack(a.object), stage, 0, 0, err, 0x16);
    fx_table_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void test_mint_refusals(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, false);
    struct rvm_cap_mint_args a = {
        .type = RVM_CAP_TYPE_REGION, .rights = RW, .owner = 1, .object = obj_a};
    struct rvm_cap_mint_args b = a;
    b.rights = 0x80;
    mint_refused(f, 0, b, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    b = a;
    b.owner = RVM_PARTITION_INVALID;
    mint_refused(f, 0, b, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    b = a;
    b.type = RVM_CAP_TYPE_COUNT;
    mint_refused(f, 0, b, RVM_STAGE_DECODE, RVM_ERR_CAP_TYPE);
    b.type = 0xFF;
    mint_refused(f, 0, b, RVM_STAGE_DECODE, RVM_ERR_CAP_TYPE);
    mint_refused(f, 1, a, RVM_STAGE_P1, RVM_ERR_PERMISSION);
    fx_mint(f, RVM_CAP_TYPE_REGION, RW, 1, obj_a, 0);
    fx_mint(f, RVM_CAP_TYPE_REGION, RW, 1, obj_a, 0);
    mint_refused(f, 0, a, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_TABLE_FULL);
    fx_free(f);
}

/* ---- grant / delegate ------------------------------------------------------------------------ */

static void test_grant_record_links_and_hash(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, true);
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    const uint32_t root_hash = rvm_cap_get(&f->t, root)->cap_hash;
    uint8_t root_mac[16];
    memcpy(root_mac, rvm_cap_get(&f->t, root)->mac, 16);
    struct rvm_cap_derive_args a = {
        .source = root, .rights = RW | RVM_CAP_GRANT_ONCE, .badge = 42, .new_owner = 2};
    struct rvm_handle c = {0, 0};
    assert_int_equal(witnessed_cap_grant(&f->t, &f->log, 1, &a, &c), RVM_OK);
    assert_int_equal(c.index, 1);
    assert_int_equal(c.generation, 1);
    const struct rvm_cap_slot *s = rvm_cap_get(&f->t, c);
    assert_non_null(s);
    /* The source holds GRANT, so nothing is consumed and the child keeps GRANT_ONCE. */
    assert_int_equal(s->rights, RW | RVM_CAP_GRANT_ONCE);
    assert_int_equal(s->depth, 1);
    assert_int_equal(s->owner, 2);
    assert_int_equal(s->badge, 42);
    assert_int_equal(s->type, RVM_CAP_TYPE_REGION);
    assert_int_equal(hpack(s->object), hpack(obj_a));
    assert_int_equal(hpack(s->parent), hpack(root));
    const struct rvm_cap_slot *r = rvm_cap_get(&f->t, root);
    assert_int_equal(hpack(r->first_child), hpack(c));
    assert_int_equal(r->rights, ALL);
    assert_memory_equal(r->mac, root_mac, 16);
    uint32_t ch = expect_cap_hash(1, s);
    assert_int_equal(s->cap_hash, ch);
    uint8_t mac[16];
    expect_mac(1, s, root_hash, mac);
    assert_memory_equal(s->mac, mac, 16);
    expect_record(f, 0x10, 1, RW | RVM_CAP_GRANT_ONCE, 1, pack(1, 1), root_hash, hpack(root),
                  2 | (uint64_t)ch << 32);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* A second child is prepended: root -> c2 -> c. */
    struct rvm_handle c2 = fx_grant(f, 1, root, RVM_CAP_READ, 3);
    r = rvm_cap_get(&f->t, root);
    assert_int_equal(hpack(r->first_child), hpack(c2));
    assert_int_equal(hpack(rvm_cap_get(&f->t, c2)->next_sibling), hpack(c));
    assert_int_equal(hpack(rvm_cap_get(&f->t, c)->prev_sibling), hpack(c2));
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_delegate_record(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, false);
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_COMM_EDGE, RW | RVM_CAP_GRANT, 4, obj_b, 0);
    struct rvm_cap_derive_args a = {.source = root, .rights = RVM_CAP_READ, .new_owner = 4};
    struct rvm_handle c;
    assert_int_equal(witnessed_cap_delegate(&f->t, &f->log, 4, &a, &c), RVM_OK);
    const struct rvm_cap_slot *s = rvm_cap_get(&f->t, c);
    expect_record(f, 0x12, 1, RVM_CAP_READ, 4, hpack(c), rvm_cap_get(&f->t, root)->cap_hash,
                  hpack(root), 4 | (uint64_t)s->cap_hash << 32);
    assert_int_equal(s->owner, 4);
    fx_free(f);
}

static void test_grant_once_is_consumed_and_not_transitive(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, true);
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    /* A middle capability holding GRANT_ONCE but not GRANT. */
    struct rvm_handle mid = fx_grant(f, 1, root, RW | RVM_CAP_GRANT_ONCE | RVM_CAP_REVOKE, 2);
    const uint32_t mid_hash = rvm_cap_get(&f->t, mid)->cap_hash;
    /* Ask for everything mid has: GRANT_ONCE is stripped from the child. */
    struct rvm_cap_derive_args a = {
        .source = mid, .rights = RW | RVM_CAP_GRANT_ONCE | RVM_CAP_REVOKE, .new_owner = 3};
    struct rvm_handle c;
    assert_int_equal(witnessed_cap_grant(&f->t, &f->log, 2, &a, &c), RVM_OK);
    const struct rvm_cap_slot *cs = rvm_cap_get(&f->t, c);
    assert_int_equal(cs->rights, RW | RVM_CAP_REVOKE);
    expect_record(f, 0x10, 1, (RW | RVM_CAP_REVOKE) | 0x80, 2, hpack(c), mid_hash, hpack(mid),
                  3 | (uint64_t)cs->cap_hash << 32);
    const struct rvm_cap_slot *ms = rvm_cap_get(&f->t, mid);
    assert_int_equal(ms->rights, RW | RVM_CAP_REVOKE);
    assert_int_equal(ms->flags, RVM_CAP_FLAG_CONSUMED);
    /* The consumed source's MAC was recomputed over its new rights. */
    uint8_t mac[16];
    expect_mac(mid.index, ms, rvm_cap_get(&f->t, root)->cap_hash, mac);
    assert_memory_equal(ms->mac, mac, 16);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* Used once: a second grant fails CAP_CONSUMED; the child cannot grant at all. */
    a.rights = RVM_CAP_READ;
    assert_int_equal(witnessed_cap_grant(&f->t, &f->log, 2, &a, NULL), RVM_ERR_CAP_CONSUMED);
    expect_reject(f, 2, hpack(mid), RVM_STAGE_P1, 0, mid_hash, RVM_ERR_CAP_CONSUMED, 0x10);
    a.source = c;
    a.new_owner = 4;
    assert_int_equal(witnessed_cap_grant(&f->t, &f->log, 3, &a, NULL), RVM_ERR_CAP_RIGHTS);
    expect_reject(f, 3, hpack(c), RVM_STAGE_P1, 0, cs->cap_hash, RVM_ERR_CAP_RIGHTS, 0x10);
    fx_free(f);
}

/* Found by the kernel target of rvmsim: a source that had granted GRANT_ONCE onwards while it
 * still held GRANT, then lost GRANT, then used its own GRANT_ONCE, left its earlier children with
 * a right it no longer had (rvm_cap_check: rights within the parent's). They lose it with it. */
static void test_grant_once_consumption_reaches_earlier_children(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, true);
    const uint8_t GO = RVM_CAP_GRANT_ONCE;
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    struct rvm_handle child = fx_grant(f, 1, root, RW | RVM_CAP_GRANT | GO, 2);
    struct rvm_handle grand = fx_grant(f, 2, child, RW | GO, 3); /* through GRANT: child keeps GO */
    struct rvm_handle other = fx_grant(f, 1, root, GO, 4);
    /* root gives up GRANT (its subtree with it) but keeps GRANT_ONCE */
    uint32_t changed = 0;
    struct rvm_cap_attenuate_args at = {root, (uint8_t)(RW | GO | RVM_CAP_PROVE)};
    assert_int_equal(witnessed_cap_attenuate(&f->t, &f->log, 1, &at, &changed), RVM_OK);
    assert_int_equal(rvm_cap_get(&f->t, child)->rights, RW | GO);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* root now derives through GRANT_ONCE and loses it: so does everything below it */
    struct rvm_handle late = fx_grant(f, 1, root, RW, 5);
    assert_int_equal(rvm_cap_get(&f->t, root)->rights, RW | RVM_CAP_PROVE);
    assert_int_equal(rvm_cap_get(&f->t, child)->rights, RW);
    assert_int_equal(rvm_cap_get(&f->t, grand)->rights, RW);
    assert_int_equal(rvm_cap_get(&f->t, other)->rights, 0);
    assert_int_equal(rvm_cap_get(&f->t, late)->rights, RW);
    assert_int_equal(rvm_cap_get(&f->t, child)->flags, 0); /* only the source is consumed */
    /* every changed capability's MAC was recomputed over its new rights */
    uint8_t mac[16];
    const uint32_t root_hash = rvm_cap_get(&f->t, root)->cap_hash;
    expect_mac(child.index, rvm_cap_get(&f->t, child), root_hash, mac);
    assert_memory_equal(rvm_cap_get(&f->t, child)->mac, mac, 16);
    expect_mac(grand.index, rvm_cap_get(&f->t, grand), rvm_cap_get(&f->t, child)->cap_hash, mac);
    assert_memory_equal(rvm_cap_get(&f->t, grand)->mac, mac, 16);
    expect_mac(other.index, rvm_cap_get(&f->t, other), root_hash, mac);
    assert_memory_equal(rvm_cap_get(&f->t, other)->mac, mac, 16);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void derive_refused(struct fx *f, bool delegate, uint32_t actor,
                           struct rvm_cap_derive_args a, uint8_t stage, uint8_t tier,
                           uint32_t cap_hash, enum rvm_err err)
{
    uint8_t before[32], after[32];
    fx_table_digest(f, before);
    uint64_t n = fx_records(f);
    enum rvm_err got = delegate ? witnessed_cap_delegate(&f->t, &f->log, actor, &a, NULL)
                                : witnessed_cap_grant(&f->t, &f->log, actor, &a, NULL);
    assert_int_equal(got, err);
    assert_int_equal(fx_records(f), n + 1);
    expect_reject(f, actor, hpack(a.source), stage, tier, cap_hash, err, delegate ? 0x12 : 0x10);
    fx_table_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void test_grant_refusals(void **state)
{
    (void)state;
    struct fx *f = fx_new(12, false);
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, RW | RVM_CAP_GRANT, 1, obj_a, 0);
    struct rvm_handle plain = fx_mint(f, RVM_CAP_TYPE_REGION, RW, 1, obj_a, 0);
    const uint32_t rh = rvm_cap_get(&f->t, root)->cap_hash;
    const uint32_t ph = rvm_cap_get(&f->t, plain)->cap_hash;
    struct rvm_cap_derive_args ok = {.source = root, .rights = RVM_CAP_READ, .new_owner = 2};
    struct rvm_cap_derive_args a = ok;

    a.rights = 0x80;
    derive_refused(f, false, 1, a, RVM_STAGE_DECODE, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    a = ok;
    a.new_owner = 1; /* grant to oneself */
    derive_refused(f, false, 1, a, RVM_STAGE_DECODE, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    a.new_owner = RVM_PARTITION_INVALID;
    derive_refused(f, false, 1, a, RVM_STAGE_DECODE, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    a = ok; /* delegate to someone else */
    derive_refused(f, true, 1, a, RVM_STAGE_DECODE, 0, 0, RVM_ERR_INVALID_ARGUMENT);
    a = ok;
    a.source.index = 12;
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, 0, RVM_ERR_OUT_OF_RANGE);
    a.source.index = UINT32_MAX;
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, 0, RVM_ERR_OUT_OF_RANGE);
    a = ok;
    a.source.generation = 3; /* an odd generation the slot never had */
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, 0, RVM_ERR_CAP_STALE);
    a.source.generation = 0; /* even: names a free slot state */
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, 0, RVM_ERR_CAP_STALE);
    a = ok;
    a.source.index = 5; /* a never-used slot */
    a.source.generation = 1;
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, 0, RVM_ERR_CAP_STALE);
    a = ok;
    derive_refused(f, false, 3, a, RVM_STAGE_P1, 0, rh, RVM_ERR_CAP_HOLDER);
    a.source = plain;
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, ph, RVM_ERR_CAP_RIGHTS);
    a = ok;
    a.rights = RVM_CAP_READ | RVM_CAP_EXECUTE;
    derive_refused(f, false, 1, a, RVM_STAGE_P1, 0, rh, RVM_ERR_CAP_ESCALATION);

    /* Depth: a chain of delegations down to depth 8, then the 9th level is refused. */
    struct rvm_handle cur = root;
    for (int d = 1; d <= 8; d++) {
        cur = fx_grant(f, 1, cur, RW | RVM_CAP_GRANT, 1);
        assert_int_equal(rvm_cap_get(&f->t, cur)->depth, d);
    }
    a = ok;
    a.source = cur;
    a.new_owner = 1;
    derive_refused(f, true, 1, a, RVM_STAGE_PRECONDITION, 1, rvm_cap_get(&f->t, cur)->cap_hash,
                   RVM_ERR_CAP_DEPTH);
    /* Table full (12 slots: 2 roots + 8 chain + 2 more). */
    fx_grant(f, 1, root, RVM_CAP_READ, 2);
    fx_grant(f, 1, root, RVM_CAP_READ, 2);
    a = ok;
    derive_refused(f, false, 1, a, RVM_STAGE_PRECONDITION, 1, rh, RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

/* ---- revoke ---------------------------------------------------------------------------------- */

struct tree {
    struct rvm_handle root, a, b, a1, a2, a1x, other;
};

/*            root(1)                 other(1)
 *           /       \
 *        a(2)       b(3)
 *       /    \
 *    a1(2)   a2(4)
 *      |
 *    a1x(5)
 */
static struct tree build_tree(struct fx *f)
{
    struct tree t;
    const uint8_t gr = RW | RVM_CAP_GRANT | RVM_CAP_REVOKE;
    t.root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    t.other = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    t.a = fx_grant(f, 1, t.root, gr, 2);
    t.b = fx_grant(f, 1, t.root, RW, 3);
    t.a1 = fx_grant(f, 2, t.a, gr, 2);
    t.a2 = fx_grant(f, 2, t.a, RVM_CAP_READ, 4);
    t.a1x = fx_grant(f, 2, t.a1, RVM_CAP_READ, 5);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    return t;
}

static void test_revoke_removes_exactly_the_subtree(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct tree t = build_tree(f);
    const uint32_t ah = rvm_cap_get(&f->t, t.a)->cap_hash;
    struct rvm_cap_revoke_args r = {.authority = t.a, .target = t.a};
    uint32_t released = 0;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, &released), RVM_OK);
    assert_int_equal(released, 4);
    expect_record(f, 0x11, 1, 0, 2, hpack(t.a), ah, hpack(t.a), 4);
    assert_null(rvm_cap_get(&f->t, t.a));
    assert_null(rvm_cap_get(&f->t, t.a1));
    assert_null(rvm_cap_get(&f->t, t.a2));
    assert_null(rvm_cap_get(&f->t, t.a1x));
    assert_non_null(rvm_cap_get(&f->t, t.root));
    assert_non_null(rvm_cap_get(&f->t, t.b));
    assert_non_null(rvm_cap_get(&f->t, t.other));
    assert_int_equal(f->t.live, 3);
    /* Released slots moved to the next (even) generation. */
    assert_int_equal(f->slots[t.a.index].generation, t.a.generation + 1);
    assert_int_equal(f->slots[t.a1x.index].generation, t.a1x.generation + 1);
    /* root's only child is now b. */
    assert_int_equal(hpack(rvm_cap_get(&f->t, t.root)->first_child), hpack(t.b));
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_revoke_by_ancestor_and_by_hypervisor(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct tree t = build_tree(f);
    /* Partition 2 revokes a1x (owned by 5) through its ancestor a. */
    struct rvm_cap_revoke_args r = {.authority = t.a, .target = t.a1x};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, NULL), RVM_OK);
    expect_record(f, 0x11, 1, 0, 2, hpack(t.a1x), rvm_cap_get(&f->t, t.a)->cap_hash, hpack(t.a), 1);
    assert_null(rvm_cap_get(&f->t, t.a1x));
    assert_non_null(rvm_cap_get(&f->t, t.a1));
    /* The hypervisor revokes the whole root tree without an authority capability. */
    r.authority = rvm_cap_handle(999, 999);
    r.target = t.root;
    uint32_t released;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, &released), RVM_OK);
    assert_int_equal(released, 5);
    expect_record(f, 0x11, 0, 0, 0, hpack(t.root), 0, 0, 5);
    assert_int_equal(f->t.live, 1);
    assert_non_null(rvm_cap_get(&f->t, t.other));
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void revoke_refused(struct fx *f, uint32_t actor, struct rvm_cap_revoke_args a,
                           uint32_t cap_hash, enum rvm_err err)
{
    uint8_t before[32], after[32];
    fx_table_digest(f, before);
    uint64_t n = fx_records(f);
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, actor, &a, NULL), err);
    assert_int_equal(fx_records(f), n + 1);
    expect_reject(f, actor, hpack(a.target), RVM_STAGE_P1, 0, cap_hash, err, 0x11);
    fx_table_digest(f, after);
    assert_memory_equal(before, after, 32);
}

static void test_revoke_refusals(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct tree t = build_tree(f);
    const uint32_t ah = rvm_cap_get(&f->t, t.a)->cap_hash;
    const uint32_t bh = rvm_cap_get(&f->t, t.b)->cap_hash;
    const uint32_t a1h = rvm_cap_get(&f->t, t.a1)->cap_hash;
    struct rvm_cap_revoke_args r = {.authority = t.a, .target = t.a1};
    r.target.index = 16;
    revoke_refused(f, 2, r, 0, RVM_ERR_OUT_OF_RANGE);
    r.target = t.a1;
    r.target.generation += 2;
    revoke_refused(f, 2, r, 0, RVM_ERR_CAP_STALE);
    r.target = t.a1;
    r.authority.index = UINT32_MAX;
    revoke_refused(f, 2, r, 0, RVM_ERR_OUT_OF_RANGE);
    r.authority = t.a;
    r.authority.generation ^= 1;
    revoke_refused(f, 2, r, 0, RVM_ERR_CAP_STALE);
    r.authority = t.a;
    revoke_refused(f, 3, r, ah, RVM_ERR_CAP_HOLDER);
    /* b has no REVOKE, even on itself. */
    r.authority = t.b;
    r.target = t.b;
    revoke_refused(f, 3, r, bh, RVM_ERR_CAP_RIGHTS);
    /* a1 holds REVOKE but a2 is its sibling, not its descendant; nor is a its descendant. */
    r.authority = t.a1;
    r.target = t.a2;
    revoke_refused(f, 2, r, a1h, RVM_ERR_PERMISSION);
    r.target = t.a;
    revoke_refused(f, 2, r, a1h, RVM_ERR_PERMISSION);
    /* a different tree of the same object */
    r.authority = t.other;
    r.target = t.a1x;
    revoke_refused(f, 1, r, rvm_cap_get(&f->t, t.other)->cap_hash, RVM_ERR_PERMISSION);
    fx_free(f);
}

static void test_slot_reuse_never_joins_an_old_subtree(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct tree t = build_tree(f);
    struct rvm_cap_revoke_args r = {.authority = t.a, .target = t.a1};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, NULL), RVM_OK);
    /* The freed slots are reused by an unrelated root and its child. */
    struct rvm_handle n1 = fx_mint(f, RVM_CAP_TYPE_DEVICE, ALL, 7, obj_b, 0);
    struct rvm_handle n2 = fx_grant(f, 7, n1, RW, 8);
    assert_true(n1.index == t.a1.index || n1.index == t.a1x.index);
    assert_true(n2.index == t.a1.index || n2.index == t.a1x.index);
    assert_int_equal(rvm_cap_get(&f->t, n1)->generation, f->slots[n1.index].generation);
    assert_true(n1.generation >= 3 && n2.generation >= 3);
    /* Old handles to those slots are stale for every operation. */
    assert_null(rvm_cap_get(&f->t, t.a1));
    assert_null(rvm_cap_get(&f->t, t.a1x));
    r.authority = t.a;
    r.target = t.a1;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, NULL), RVM_ERR_CAP_STALE);
    /* Revoking the old parent's tree leaves the new capabilities alone. */
    r.target = t.a;
    uint32_t released;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, &released), RVM_OK);
    assert_int_equal(released, 2); /* a and a2 */
    assert_non_null(rvm_cap_get(&f->t, n1));
    assert_non_null(rvm_cap_get(&f->t, n2));
    assert_int_equal(hpack(rvm_cap_get(&f->t, n2)->parent), hpack(n1));
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_generation_exhaustion_retires_the_slot(void **state)
{
    (void)state;
    struct fx *f = fx_new(2, false);
    /* Age slot 0 (the free-list head) to the last usable even generation. */
    f->slots[0].generation = RVM_CAP_GEN_RETIRED - 2;
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    struct rvm_handle h = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    assert_int_equal(h.index, 0);
    assert_int_equal(h.generation, 0xFFFFFFFDu);
    struct rvm_cap_revoke_args r = {.target = h};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, NULL), RVM_OK);
    assert_int_equal(f->slots[0].generation, RVM_CAP_GEN_RETIRED);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* Slot 0 is never handed out again: one mint fits (slot 1), the next finds the table full. */
    struct rvm_handle h2 = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    assert_int_equal(h2.index, 1);
    struct rvm_cap_mint_args a = {.type = 1, .rights = 1, .owner = 1, .object = obj_a};
    assert_int_equal(witnessed_cap_mint(&f->t, &f->log, 0, &a, NULL), RVM_ERR_CAP_TABLE_FULL);
    /* No handle with any generation names slot 0. */
    for (uint32_t g = 0xFFFFFFF0u; g != 0; g++) {
        assert_null(rvm_cap_get(&f->t, rvm_cap_handle(0, g)));
    }
    fx_free(f);
}

static void test_revoke_is_bounded(void **state)
{
    (void)state;
    /* The largest subtrees: the whole table as one wide tree, then as a tree 8 deep. */
    struct fx *f = fx_new(FX_CAP_MAX, false);
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    for (uint32_t i = 1; i < FX_CAP_MAX; i++) {
        fx_grant(f, 1, root, RVM_CAP_READ, 2 + i);
    }
    struct rvm_cap_revoke_args r = {.authority = root, .target = root};
    uint32_t released = 0;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 1, &r, &released), RVM_OK);
    assert_int_equal(released, FX_CAP_MAX);
    assert_int_equal(f->t.live, 0);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    struct rvm_handle level[9] = {root};
    uint32_t made = 1;
    for (uint32_t d = 1; d <= 8; d++) { /* a spine 8 deep, with leaves hanging off it */
        level[d] = fx_grant(f, 1, level[d - 1], ALL, 1);
        made++;
        for (uint32_t k = 0; k < 6 && made < FX_CAP_MAX; k++, made++) {
            fx_grant(f, 1, level[d - 1], RVM_CAP_READ, 5);
        }
    }
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, &released), RVM_ERR_CAP_STALE);
    r.target = root;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, &released), RVM_OK);
    assert_int_equal(released, made);
    assert_int_equal(f->t.live, 0);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);

    /* A corrupted table (a cycle in a sibling list) still terminates; the checker reports it. */
    f = fx_new(8, false);
    root = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    struct rvm_handle c1 = fx_grant(f, 1, root, RVM_CAP_READ, 2);
    struct rvm_handle c2 = fx_grant(f, 1, root, RVM_CAP_READ, 3);
    f->slots[c1.index].next_sibling = c2; /* root -> c2 -> c1 -> c2 -> ... */
    assert_int_equal(rvm_cap_check(&f->t), RVM_ERR_INTERNAL);
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    r.target = root;
    assert_int_equal(rvm_cap_prepare_revoke(&f->t, 0, &r, &e, &plan, &rej), RVM_OK);
    assert_true(plan.count <= 8); /* the visit budget is the capacity */
    rvm_cap_commit_revoke(&f->t, &plan);
    assert_int_equal(rvm_cap_check(&f->t), RVM_ERR_INTERNAL);
    fx_free(f);
}

/* ---- epochs ---------------------------------------------------------------------------------- */

static void test_epoch_advance_and_revoke(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct rvm_handle r5 = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    assert_int_equal(witnessed_cap_epoch_advance(&f->t, &f->log), RVM_OK);
    expect_record(f, 0x17, 0, 0, 0, 0, 0, 6, 5);
    assert_int_equal(f->t.epoch, 6);
    /* A child made in epoch 6 from the epoch-5 root, and a root of epoch 6. */
    struct rvm_handle c6 = fx_grant(f, 1, r5, RW, 2);
    assert_int_equal(rvm_cap_get(&f->t, c6)->epoch, 6);
    assert_int_equal(rvm_cap_get(&f->t, c6)->root_epoch, 5);
    struct rvm_handle r6 = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    assert_int_equal(witnessed_cap_epoch_advance(&f->t, &f->log), RVM_OK);
    struct rvm_handle r7 = fx_mint(f, RVM_CAP_TYPE_REGION, ALL, 1, obj_a, 0);
    /* Revoking epoch 5 takes r5 and its epoch-6 child, nothing else. */
    uint32_t released;
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, 5, &released), RVM_OK);
    assert_int_equal(released, 2);
    expect_record(f, 0x15, 0, 0, 0, 0, 0, 5, 2);
    assert_null(rvm_cap_get(&f->t, r5));
    assert_null(rvm_cap_get(&f->t, c6));
    assert_non_null(rvm_cap_get(&f->t, r6));
    assert_non_null(rvm_cap_get(&f->t, r7));
    assert_int_equal(f->t.epoch_floor, 6);
    assert_int_equal(f->t.epoch, 7);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* Revoking the current epoch moves the current epoch on. */
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, 7, &released), RVM_OK);
    assert_int_equal(released, 2);
    assert_int_equal(f->t.epoch_floor, 8);
    assert_int_equal(f->t.epoch, 8);
    assert_int_equal(f->t.live, 0);
    /* Out of range: already revoked, and the future. */
    uint64_t n = fx_records(f);
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, 7, NULL), RVM_ERR_OUT_OF_RANGE);
    expect_reject(f, 0, 0, RVM_STAGE_DECODE, 0, 0, RVM_ERR_OUT_OF_RANGE, 0x15);
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, 9, NULL), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(fx_records(f), n + 2);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_epoch_overflow(void **state)
{
    (void)state;
    struct fx *f = fx_new_epoch(4, false, UINT32_MAX);
    assert_int_equal(witnessed_cap_epoch_advance(&f->t, &f->log), RVM_ERR_OVERFLOW);
    expect_reject(f, 0, 0, RVM_STAGE_PRECONDITION, 0, 0, RVM_ERR_OVERFLOW, 0x17);
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, UINT32_MAX, NULL),
                     RVM_ERR_OVERFLOW);
    expect_reject(f, 0, 0, RVM_STAGE_PRECONDITION, 0, 0, RVM_ERR_OVERFLOW, 0x15);
    assert_int_equal(f->t.epoch, UINT32_MAX);
    fx_free(f);
}

/* ---- no witness, no mutation ----------------------------------------------------------------- */

static void test_full_witness_log_changes_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, true);
    struct tree t = build_tree(f);
    f->rec.drain_limit = 0; /* the sink stalls */
    struct rvm_witness_entry e = {.kind = RVM_ACT_DEMO};
    while (rvm_witness_append(&f->log, &e, NULL) == RVM_OK) {
    }
    uint8_t before[32], after[32];
    fx_table_digest(f, before);
    uint64_t n = fx_records(f);
    struct rvm_cap_mint_args m = {.type = 1, .rights = 1, .owner = 1, .object = obj_a};
    assert_int_equal(witnessed_cap_mint(&f->t, &f->log, 0, &m, NULL), RVM_ERR_WITNESS_FULL);
    struct rvm_cap_derive_args d = {.source = t.a, .rights = 1, .new_owner = 9};
    assert_int_equal(witnessed_cap_grant(&f->t, &f->log, 2, &d, NULL), RVM_ERR_WITNESS_FULL);
    d.new_owner = 2;
    assert_int_equal(witnessed_cap_delegate(&f->t, &f->log, 2, &d, NULL), RVM_ERR_WITNESS_FULL);
    struct rvm_cap_revoke_args r = {.authority = t.a, .target = t.a};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_cap_epoch_advance(&f->t, &f->log), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_cap_epoch_revoke(&f->t, &f->log, 5, NULL), RVM_ERR_WITNESS_FULL);
    /* Refusals could not be recorded either (the log is full); they are refused all the same. */
    fx_table_digest(f, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(fx_records(f), n);
    /* Once the sink drains again, the same operations go through. */
    f->rec.drain_limit = UINT64_MAX;
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 2, &r, NULL), RVM_OK);
    assert_null(rvm_cap_get(&f->t, t.a));
    fx_free(f);
}

/* ---- the checker and the state hash ---------------------------------------------------------- */

/* ---- P1's check word ------------------------------------------------------------------------- */

/* p1_check by its documented layout (cap.h): type in bits 0..7, the rights the slot lacks in bits
 * 8..15, bit 16 while live; the expected words are written out by hand. */
static void test_p1_check_word_follows_the_slot(void **state)
{
    (void)state;
    struct fx *f = fx_new(8, true);
    const uint8_t GO = RVM_CAP_GRANT_ONCE;
    struct rvm_handle root = fx_mint(f, RVM_CAP_TYPE_REGION, RW | GO, 1, obj_a, 0);
    assert_int_equal(f->slots[root.index].p1_check, 0x1BC01u); /* lacks 0x80 0x20 0x10 0x08 0x04 */
    assert_int_equal(f->slots[5].p1_check, 0u);                /* free */
    /* A grant through GRANT_ONCE: the child never gets it, the source loses it. */
    struct rvm_handle child = fx_grant(f, 1, root, RVM_CAP_READ, 2);
    assert_int_equal(f->slots[child.index].p1_check, 0x1FE01u);
    assert_int_equal(f->slots[root.index].p1_check, 0x1FC01u);
    /* Attenuation rewrites the whole subtree's words. */
    struct rvm_handle dev = fx_mint(f, RVM_CAP_TYPE_DEVICE, ALL, 1, obj_b, 0);
    assert_int_equal(f->slots[dev.index].p1_check, 0x18003u);
    uint32_t changed = 0;
    struct rvm_cap_attenuate_args at = {root, RVM_CAP_WRITE};
    assert_int_equal(witnessed_cap_attenuate(&f->t, &f->log, 1, &at, &changed), RVM_OK);
    assert_int_equal(f->slots[root.index].p1_check, 0x1FD01u);
    assert_int_equal(f->slots[child.index].p1_check, 0x1FF01u);
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    /* Released slots go back to 0, and so P1 refuses their old handles. */
    struct rvm_cap_revoke_args r = {root, root};
    assert_int_equal(witnessed_cap_revoke(&f->t, &f->log, 0, &r, NULL), RVM_OK);
    assert_int_equal(f->slots[root.index].p1_check, 0u);
    assert_int_equal(f->slots[child.index].p1_check, 0u);
    assert_false(rvm_proof_p1_pass(&f->t, 1, root, RVM_CAP_TYPE_REGION, 0, obj_a));
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    fx_free(f);
}

static void test_check_detects_planted_corruption(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, false);
    struct tree t = build_tree(f);
    struct rvm_cap_slot saved;
#define PLANT(slot, stmt)                                                                          \
    do {                                                                                           \
        saved = f->slots[slot];                                                                    \
        stmt;                                                                                      \
        assert_int_equal(rvm_cap_check(&f->t), RVM_ERR_INTERNAL);                                  \
        f->slots[slot] = saved;                                                                    \
        assert_int_equal(rvm_cap_check(&f->t), RVM_OK);                                            \
    } while (0)
    PLANT(t.a1.index, f->slots[t.a1.index].rights |= RVM_CAP_EXECUTE); /* escalation */
    PLANT(t.a1.index, f->slots[t.a1.index].depth = 3);
    PLANT(t.a1.index, f->slots[t.a1.index].parent.generation += 2); /* parent link stale */
    PLANT(t.a.index, f->slots[t.a.index].first_child = t.a1x);      /* child list wrong */
    PLANT(t.b.index, f->slots[t.b.index].first_child = t.a1x);      /* a leaf claims a child */
    PLANT(t.a2.index, f->slots[t.a2.index].next_sibling = t.a2);    /* sibling cycle */
    PLANT(t.a1x.index, f->slots[t.a1x.index].root_epoch = 4);
    PLANT(t.a1x.index, f->slots[t.a1x.index].epoch = 99);
    PLANT(t.b.index, f->slots[t.b.index].type = RVM_CAP_TYPE_DEVICE);
    PLANT(t.b.index, f->slots[t.b.index].object = obj_b);
    PLANT(t.b.index, f->slots[t.b.index].generation += 1); /* freed without unlinking */
    PLANT(t.root.index, f->slots[t.root.index].flags = 0x80);
    PLANT(15, f->slots[15].next_free = 15);  /* free-list cycle */
    PLANT(15, f->slots[15].parent = t.root); /* link on a free slot */
    PLANT(15, f->slots[15].generation = 7);  /* live slot nobody links or counts */
    /* P1's check word out of step with the slot: every right, another type, not live, live */
    PLANT(t.a1.index, f->slots[t.a1.index].p1_check &= ~0xFF00u);
    PLANT(t.b.index, f->slots[t.b.index].p1_check ^= RVM_CAP_TYPE_DEVICE ^ RVM_CAP_TYPE_REGION);
    PLANT(t.root.index, f->slots[t.root.index].p1_check = 0);
    PLANT(15, f->slots[15].p1_check = RVM_CAP_P1_LIVE);
    saved = f->slots[0];
    f->t.live++;
    assert_int_equal(rvm_cap_check(&f->t), RVM_ERR_INTERNAL);
    f->t.live--;
    f->t.free_head = 3; /* a live slot on the free list */
    assert_int_equal(rvm_cap_check(&f->t), RVM_ERR_INTERNAL);
#undef PLANT
    fx_free(f);
}

static void test_state_hash_is_canonical(void **state)
{
    (void)state;
    struct fx *f = fx_new(16, true), *g = fx_new(16, true);
    build_tree(f);
    build_tree(g);
    uint8_t a[32], b[32];
    fx_table_digest(f, a);
    fx_table_digest(g, b);
    assert_memory_equal(a, b, 32);
    fx_mint(g, RVM_CAP_TYPE_REGION, 1, 1, obj_a, 1);
    fx_table_digest(g, b);
    assert_memory_not_equal(a, b, 32);
    /* Independent of the code: the header and slot encodings hashed with OpenSSL. */
    uint8_t *buf = calloc(1, 24 + 16 * 92);
    put_le(buf + 0, 16, 4);
    put_le(buf + 4, f->t.live, 4);
    put_le(buf + 8, f->t.free_head, 4);
    put_le(buf + 12, f->t.epoch, 4);
    put_le(buf + 16, f->t.epoch_floor, 4);
    put_le(buf + 20, 32, 4);
    for (int i = 0; i < 16; i++) {
        const struct rvm_cap_slot *s = &f->slots[i];
        uint8_t *p = buf + 24 + 92 * i;
        put_le(p, s->generation, 4);
        p[4] = s->type;
        p[5] = s->rights;
        p[6] = s->depth;
        p[7] = s->flags;
        put_le(p + 8, hpack(s->object), 8);
        put_le(p + 16, s->owner, 4);
        put_le(p + 20, s->cap_hash, 4);
        put_le(p + 24, s->epoch, 4);
        put_le(p + 28, s->root_epoch, 4);
        put_le(p + 32, s->badge, 8);
        put_le(p + 40, hpack(s->parent), 8);
        put_le(p + 48, hpack(s->first_child), 8);
        put_le(p + 56, hpack(s->next_sibling), 8);
        put_le(p + 64, hpack(s->prev_sibling), 8);
        put_le(p + 72, s->next_free, 4);
        memcpy(p + 76, s->mac, 16);
    }
    unsigned int len;
    EVP_Digest(buf, 24 + 16 * 92, b, &len, EVP_sha256(), NULL);
    assert_memory_equal(a, b, 32);
    free(buf);
    fx_free(f);
    fx_free(g);
}

/* ---- randomised sequences against a simple model --------------------------------------------- */

#define M_CAP   24u
#define M_POOL  256u
#define M_STEPS 20000u

struct mcap {
    bool live;
    uint32_t gen; /* the slot's generation (free or live) */
    bool retired;
    uint8_t type, rights, depth;
    bool consumed;
    uint32_t owner;
    uint32_t parent; /* slot index, or NONE */
    uint32_t epoch, root_epoch;
    struct rvm_handle object;
};

struct model {
    struct mcap c[M_CAP];
    uint32_t epoch, floor;
    struct rvm_handle pool[M_POOL]; /* every handle ever issued (ring), live or not */
    uint32_t npool;
};

static bool m_live(const struct model *m, struct rvm_handle h)
{
    return h.index < M_CAP && m->c[h.index].live && m->c[h.index].gen == h.generation;
}

static uint32_t m_free_slots(const struct model *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < M_CAP; i++) {
        n += !m->c[i].live && !m->c[i].retired;
    }
    return n;
}

/* Is `anc` (a live index) the same as or an ancestor of `i`? Walks parent indices. */
static bool m_is_ancestor_or_self(const struct model *m, uint32_t anc, uint32_t i)
{
    for (int k = 0; k < 20 && i != RVM_CAP_NONE; k++) {
        if (i == anc) {
            return true;
        }
        i = m->c[i].parent;
    }
    return false;
}

/* Release index i in the model. */
static void m_release(struct model *m, uint32_t i)
{
    m->c[i].live = false;
    m->c[i].gen++;
    m->c[i].retired = m->c[i].gen == RVM_CAP_GEN_RETIRED;
}

/* Release the subtree of r by repeated full scans; returns how many. */
static uint32_t m_revoke(struct model *m, uint32_t r)
{
    bool in[M_CAP] = {false};
    in[r] = true;
    for (bool grew = true; grew;) {
        grew = false;
        for (uint32_t i = 0; i < M_CAP; i++) {
            if (m->c[i].live && !in[i] && m->c[i].parent != RVM_CAP_NONE && in[m->c[i].parent]) {
                in[i] = true;
                grew = true;
            }
        }
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < M_CAP; i++) {
        if (in[i]) {
            m_release(m, i);
            n++;
        }
    }
    return n;
}

static void m_remember(struct model *m, struct rvm_handle h)
{
    m->pool[m->npool++ % M_POOL] = h;
}

static struct rvm_handle m_pick(struct model *m, struct test_rng *rng)
{
    uint64_t r = test_rng_below(rng, 20);
    if (r == 0 || m->npool == 0) { /* garbage */
        return rvm_cap_handle((uint32_t)test_rng_below(rng, M_CAP + 3),
                              (uint32_t)test_rng_below(rng, 8));
    }
    if (r == 1) {
        return rvm_cap_handle((uint32_t)test_rng_next(rng), (uint32_t)test_rng_next(rng));
    }
    if (r < 16) { /* a live one, found by scanning the model from a random start */
        uint32_t start = (uint32_t)test_rng_below(rng, M_CAP);
        for (uint32_t k = 0; k < M_CAP; k++) {
            uint32_t i = (start + k) % M_CAP;
            if (m->c[i].live) {
                return rvm_cap_handle(i, m->c[i].gen);
            }
        }
    }
    uint32_t n = m->npool < M_POOL ? m->npool : M_POOL; /* any issued handle, often stale */
    return m->pool[test_rng_below(rng, n)];
}

static enum rvm_err m_handle_err(const struct model *m, struct rvm_handle h)
{
    if (h.index >= M_CAP) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    return m_live(m, h) ? RVM_OK : RVM_ERR_CAP_STALE;
}

static void compare(const struct fx *f, const struct model *m)
{
    assert_int_equal(rvm_cap_check(&f->t), RVM_OK);
    assert_int_equal(f->t.epoch, m->epoch);
    assert_int_equal(f->t.epoch_floor, m->floor);
    uint32_t live = 0;
    for (uint32_t i = 0; i < M_CAP; i++) {
        const struct mcap *c = &m->c[i];
        const struct rvm_cap_slot *s = &f->slots[i];
        assert_int_equal(s->generation, c->gen);
        assert_int_equal((s->generation & 1u) != 0, c->live);
        if (!c->live) {
            continue;
        }
        live++;
        assert_int_equal(s->type, c->type);
        assert_int_equal(s->rights, c->rights);
        assert_int_equal(s->depth, c->depth);
        assert_int_equal(s->owner, c->owner);
        assert_int_equal(s->epoch, c->epoch);
        assert_int_equal(s->root_epoch, c->root_epoch);
        assert_int_equal((s->flags & RVM_CAP_FLAG_CONSUMED) != 0, c->consumed);
        /* Model invariants: depth bound, attenuation, live parent one level up. */
        assert_true(c->depth <= 8);
        if (c->parent == RVM_CAP_NONE) {
            assert_int_equal(c->depth, 0);
            assert_int_equal(s->parent.index, RVM_CAP_NONE);
        } else {
            const struct mcap *p = &m->c[c->parent];
            assert_true(p->live);
            assert_int_equal(p->depth + 1, c->depth);
            assert_int_equal(c->rights & ~p->rights, 0);
            assert_int_equal(s->parent.index, c->parent);
            assert_int_equal(s->parent.generation, p->gen);
        }
    }
    assert_int_equal(f->t.live, live);
    /* Nothing revoked or stale is usable: every remembered handle resolves iff the model says it
     * is live, and P1 refuses the dead ones as stale. */
    uint32_t n = m->npool < M_POOL ? m->npool : M_POOL;
    for (uint32_t k = 0; k < n; k++) {
        struct rvm_handle h = m->pool[k];
        bool live_h = m_live(m, h);
        assert_int_equal(rvm_cap_get(&f->t, h) != NULL, live_h);
        if (!live_h) {
            assert_int_equal(rvm_proof_p1(&f->t, m->c[h.index].owner, h, m->c[h.index].type, 0,
                                          m->c[h.index].object),
                             RVM_ERR_CAP_STALE);
        }
    }
}

static void test_random_sequences_against_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("test_random_sequences_against_model", 0xCA9AB1E5ull);
    struct test_rng rng = test_rng_new(seed);
    struct fx *f = fx_new(M_CAP, (seed & 1) != 0);
    struct model *m = calloc(1, sizeof(*m));
    m->epoch = m->floor = 5;
    for (uint32_t i = 0; i < M_CAP; i++) {
        m->c[i].parent = RVM_CAP_NONE;
    }
    /* Age two slots so retirement happens during the run. */
    f->slots[M_CAP - 1].generation = RVM_CAP_GEN_RETIRED - 6;
    m->c[M_CAP - 1].gen = RVM_CAP_GEN_RETIRED - 6;
    f->slots[M_CAP - 2].generation = RVM_CAP_GEN_RETIRED - 2;
    m->c[M_CAP - 2].gen = RVM_CAP_GEN_RETIRED - 2;

    enum { C_MINT, C_GRANT, C_DELEGATE, C_REVOKE, C_ADVANCE, C_EPOCH_REVOKE, C_REFUSED, C_N };
    uint32_t counts[C_N] = {0};
    static uint32_t errs[0x200];
    for (uint32_t step = 0; step < M_STEPS; step++) {
        uint64_t before = fx_records(f);
        uint64_t op = test_rng_below(&rng, 100);
        enum rvm_err expect = RVM_OK, got;
        uint8_t kind;
        if (op < 12) { /* mint */
            kind = 0x16;
            uint32_t actor = test_rng_below(&rng, 10) == 0 ? 1 : 0;
            struct rvm_cap_mint_args a = {
                .type =
                    (uint8_t)test_rng_below(&rng, 30) == 0 ? 9 : (uint8_t)test_rng_below(&rng, 9),
                .rights = (uint8_t)(test_rng_below(&rng, 30) == 0
                                        ? 0x80
                                        : (test_rng_next(&rng) & 0x7F) |
                                              (test_rng_below(&rng, 3) != 0 ? RVM_CAP_GRANT : 0)),
                .owner = (uint32_t)test_rng_below(&rng, 5),
                .object = rvm_cap_handle((uint32_t)test_rng_below(&rng, 4), 1),
                .badge = test_rng_next(&rng)};
            if (a.rights & 0x80) {
                expect = RVM_ERR_INVALID_ARGUMENT;
            } else if (a.type >= 9) {
                expect = RVM_ERR_CAP_TYPE;
            } else if (actor != 0) {
                expect = RVM_ERR_PERMISSION;
            } else if (m_free_slots(m) == 0) {
                expect = RVM_ERR_CAP_TABLE_FULL;
            }
            struct rvm_handle h = {0, 0};
            got = witnessed_cap_mint(&f->t, &f->log, actor, &a, &h);
            assert_int_equal(got, expect);
            if (got == RVM_OK) {
                struct mcap *c = &m->c[h.index];
                assert_false(c->live);
                assert_false(c->retired);
                assert_int_equal(h.generation, c->gen + 1);
                *c = (struct mcap){.live = true,
                                   .gen = h.generation,
                                   .type = a.type,
                                   .rights = a.rights,
                                   .owner = a.owner,
                                   .parent = RVM_CAP_NONE,
                                   .epoch = m->epoch,
                                   .root_epoch = m->epoch,
                                   .object = a.object};
                m_remember(m, h);
            }
        } else if (op < 60) { /* grant or delegate */
            struct rvm_handle src = m_pick(m, &rng);
            if (test_rng_below(&rng, 4) == 0) { /* grow deep chains: the deepest live one */
                for (uint32_t i = 0; i < M_CAP; i++) {
                    if (m->c[i].live &&
                        (!m_live(m, src) || m->c[i].depth > m->c[src.index].depth)) {
                        src = rvm_cap_handle(i, m->c[i].gen);
                    }
                }
            }
            bool delegate = test_rng_below(&rng, 3) == 0;
            kind = delegate ? 0x12 : 0x10;
            uint32_t actor = m_live(m, src) && test_rng_below(&rng, 8) != 0
                                 ? m->c[src.index].owner
                                 : (uint32_t)test_rng_below(&rng, 5);
            uint8_t want =
                m_live(m, src) && test_rng_below(&rng, 6) != 0
                    ? (uint8_t)(m->c[src.index].rights & (test_rng_next(&rng) | RVM_CAP_GRANT))
                    : (uint8_t)(test_rng_next(&rng) &
                                (test_rng_below(&rng, 20) == 0 ? 0xFF : 0x7F));
            uint32_t to = delegate ? actor : (actor + 1 + (uint32_t)test_rng_below(&rng, 4)) % 5;
            if (!delegate && test_rng_below(&rng, 40) == 0) {
                to = actor;
            }
            if (!delegate && test_rng_below(&rng, 40) == 0) {
                to = RVM_PARTITION_INVALID;
            }
            struct rvm_cap_derive_args a = {
                .source = src, .rights = want, .badge = step, .new_owner = to};
            const struct mcap *s = src.index < M_CAP ? &m->c[src.index] : NULL;
            bool has_g = s && (s->rights & RVM_CAP_GRANT);
            bool has_go = s && (s->rights & RVM_CAP_GRANT_ONCE);
            if ((want & 0x80) || (!delegate && (to == actor || to == RVM_PARTITION_INVALID))) {
                expect = RVM_ERR_INVALID_ARGUMENT;
            } else if ((expect = m_handle_err(m, src)) != RVM_OK) {
            } else if (s->owner != actor) {
                expect = RVM_ERR_CAP_HOLDER;
            } else if (!has_g && !has_go) {
                expect = s->consumed ? RVM_ERR_CAP_CONSUMED : RVM_ERR_CAP_RIGHTS;
            } else if (want & ~s->rights) {
                expect = RVM_ERR_CAP_ESCALATION;
            } else if (s->depth >= 8) {
                expect = RVM_ERR_CAP_DEPTH;
            } else if (m_free_slots(m) == 0) {
                expect = RVM_ERR_CAP_TABLE_FULL;
            }
            struct rvm_handle h = {0, 0};
            got = delegate ? witnessed_cap_delegate(&f->t, &f->log, actor, &a, &h)
                           : witnessed_cap_grant(&f->t, &f->log, actor, &a, &h);
            assert_int_equal(got, expect);
            if (got == RVM_OK) {
                struct mcap *c = &m->c[h.index];
                struct mcap *p = &m->c[src.index];
                assert_false(c->live);
                assert_false(c->retired);
                assert_int_equal(h.generation, c->gen + 1);
                bool once = !has_g;
                *c = (struct mcap){
                    .live = true,
                    .gen = h.generation,
                    .type = p->type,
                    .rights = once ? (uint8_t)(want & ~(RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE)) : want,
                    .depth = (uint8_t)(p->depth + 1),
                    .owner = to,
                    .parent = src.index,
                    .epoch = m->epoch,
                    .root_epoch = p->root_epoch,
                    .object = p->object};
                if (once) {
                    /* The source gives up GRANT_ONCE, and so does all it derived earlier. */
                    for (uint32_t i = 0; i < M_CAP; i++) {
                        if (m->c[i].live && m_is_ancestor_or_self(m, src.index, i)) {
                            m->c[i].rights &= (uint8_t)~RVM_CAP_GRANT_ONCE;
                        }
                    }
                    p->consumed = true;
                }
                m_remember(m, h);
            }
        } else if (op < 90) { /* revoke */
            kind = 0x11;
            struct rvm_handle target = m_pick(m, &rng);
            struct rvm_handle auth = test_rng_below(&rng, 2) == 0 ? target : m_pick(m, &rng);
            uint32_t actor = test_rng_below(&rng, 12) == 0 ? 0
                             : m_live(m, auth) && test_rng_below(&rng, 6) != 0
                                 ? m->c[auth.index].owner
                                 : (uint32_t)test_rng_below(&rng, 5);
            uint32_t expect_n = 0;
            if ((expect = m_handle_err(m, target)) != RVM_OK) {
            } else if (actor == 0) {
            } else if ((expect = m_handle_err(m, auth)) != RVM_OK) {
            } else if (m->c[auth.index].owner != actor) {
                expect = RVM_ERR_CAP_HOLDER;
            } else if (!(m->c[auth.index].rights & RVM_CAP_REVOKE)) {
                expect = RVM_ERR_CAP_RIGHTS;
            } else if (!m_is_ancestor_or_self(m, auth.index, target.index)) {
                expect = RVM_ERR_PERMISSION;
            }
            struct rvm_cap_revoke_args a = {.authority = auth, .target = target};
            uint32_t released = 0;
            got = witnessed_cap_revoke(&f->t, &f->log, actor, &a, &released);
            assert_int_equal(got, expect);
            if (got == RVM_OK) {
                expect_n = m_revoke(m, target.index);
                assert_int_equal(released, expect_n);
                assert_int_equal(fx_last(f).aux, expect_n);
            }
        } else if (op < 96) { /* epoch advance */
            kind = 0x17;
            got = witnessed_cap_epoch_advance(&f->t, &f->log);
            assert_int_equal(got, RVM_OK);
            m->epoch++;
        } else { /* epoch revoke, sometimes out of range */
            kind = 0x15;
            uint32_t e =
                test_rng_below(&rng, 2) == 0
                    ? m->floor
                    : m->floor - 1 + (uint32_t)test_rng_below(&rng, m->epoch - m->floor + 3);
            if (e < m->floor || e > m->epoch) {
                expect = RVM_ERR_OUT_OF_RANGE;
            }
            uint32_t released = 0;
            got = witnessed_cap_epoch_revoke(&f->t, &f->log, e, &released);
            assert_int_equal(got, expect);
            if (got == RVM_OK) {
                uint32_t n = 0;
                for (uint32_t i = 0; i < M_CAP; i++) {
                    if (m->c[i].live && m->c[i].root_epoch <= e) {
                        m_release(m, i);
                        n++;
                    }
                }
                assert_int_equal(released, n);
                m->floor = e + 1;
                if (m->epoch < m->floor) {
                    m->epoch = m->floor;
                }
            }
        }
        /* Exactly one record per operation: its own kind, or the rejection with the error. */
        assert_int_equal(fx_records(f), before + 1);
        struct rvm_witness_record rec = fx_last(f);
        if (got == RVM_OK) {
            assert_int_equal(rec.kind, kind);
        } else {
            assert_int_equal(rec.kind, 0x53);
            assert_int_equal(rec.payload, (uint64_t)got | (uint64_t)kind << 32);
        }
        errs[got & 0x1FF]++;
        counts[got != RVM_OK  ? C_REFUSED
               : kind == 0x16 ? C_MINT
               : kind == 0x10 ? C_GRANT
               : kind == 0x12 ? C_DELEGATE
               : kind == 0x11 ? C_REVOKE
               : kind == 0x17 ? C_ADVANCE
                              : C_EPOCH_REVOKE]++;
        compare(f, m);
    }
    printf("# random sequences: mint %u, grant %u, delegate %u, revoke %u, epoch revoke %u, "
           "epoch advance %u, refused %u; retired slots %u\n",
           counts[C_MINT], counts[C_GRANT], counts[C_DELEGATE], counts[C_REVOKE],
           counts[C_EPOCH_REVOKE], counts[C_ADVANCE], counts[C_REFUSED],
           (m->c[M_CAP - 1].retired ? 1u : 0u) + (m->c[M_CAP - 2].retired ? 1u : 0u));
    for (int e = 1; e < 0x200; e++) {
        if (errs[e]) {
            printf("# %s %u\n", rvm_err_name((enum rvm_err)e), errs[e]);
        }
    }
    free(m);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_configuration),
        cmocka_unit_test(test_mint_record_slot_hash_and_mac),
        cmocka_unit_test(test_mint_unkeyed_has_zero_mac),
        cmocka_unit_test(test_mint_refusals),
        cmocka_unit_test(test_grant_record_links_and_hash),
        cmocka_unit_test(test_delegate_record),
        cmocka_unit_test(test_grant_once_is_consumed_and_not_transitive),
        cmocka_unit_test(test_grant_once_consumption_reaches_earlier_children),
        cmocka_unit_test(test_grant_refusals),
        cmocka_unit_test(test_revoke_removes_exactly_the_subtree),
        cmocka_unit_test(test_revoke_by_ancestor_and_by_hypervisor),
        cmocka_unit_test(test_revoke_refusals),
        cmocka_unit_test(test_slot_reuse_never_joins_an_old_subtree),
        cmocka_unit_test(test_generation_exhaustion_retires_the_slot),
        cmocka_unit_test(test_revoke_is_bounded),
        cmocka_unit_test(test_epoch_advance_and_revoke),
        cmocka_unit_test(test_epoch_overflow),
        cmocka_unit_test(test_full_witness_log_changes_nothing),
        cmocka_unit_test(test_p1_check_word_follows_the_slot),
        cmocka_unit_test(test_check_detects_planted_corruption),
        cmocka_unit_test(test_state_hash_is_canonical),
        cmocka_unit_test(test_random_sequences_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
