/* SPDX-License-Identifier: MIT */
/*
 * The buddy allocator against a deliberately naive model: one owner word per page, and a list of
 * live allocations. Expected results come from the model alone:
 *   - an allocation of order k must return 2^k pages, aligned to 2^k pages from the base, all
 *     free in the model; it may fail with NO_MEMORY only if the model has no free, aligned run
 *     of 2^k pages inside the range (which is exactly what eager coalescing guarantees);
 *   - a free is accepted only when the model holds an allocation of that order starting there;
 *     otherwise the expected error is derived from the address and order by the rules in
 *     buddy.h, and the allocator must be unchanged (same state hash, same free count).
 * Plus hand-computed layouts for small odd sizes, the prepare/commit halves, and rvm_buddy_check
 * catching planted corruption.
 */
#include "test_support.h"

#include "rvm/buddy.h"
#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"

#define MAX_TEST_PAGES 1200u

struct model {
    uint32_t npages;
    uint32_t max_order;
    uint64_t base;
    uint32_t owner[MAX_TEST_PAGES]; /* 0 = free, else allocation id */
    struct {
        uint64_t addr;
        uint32_t order;
    } live[MAX_TEST_PAGES];
    uint32_t nlive;
    uint32_t free_count;
};

struct harness {
    struct rvm_buddy b;
    uint8_t tags[MAX_TEST_PAGES];
    struct rvm_buddy_link links[MAX_TEST_PAGES];
    struct model m;
    struct rvm_crypto crypto;
};

static struct harness *harness_new(uint64_t base, uint32_t npages, uint32_t max_order)
{
    struct harness *h = calloc(1, sizeof(*h));
    /* Garbage in the caller's storage must not matter. */
    memset(h->tags, 0xA5, sizeof(h->tags));
    memset(h->links, 0x5A, sizeof(h->links));
    struct rvm_buddy_config cfg = {rvm_hpa(base), npages, max_order, h->tags, h->links};
    assert_int_equal(rvm_buddy_init(&h->b, &cfg), RVM_OK);
    h->m.npages = npages;
    h->m.max_order = max_order;
    h->m.base = base;
    h->m.free_count = npages;
    rvm_crypto_portable(&h->crypto);
    return h;
}

static void state_hash(const struct harness *h, uint8_t out[32])
{
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, &h->crypto);
    rvm_buddy_hash(&h->b, &ctx);
    rvm_sha256_final(&ctx, out);
}

/* Is there a free run of 2^order pages aligned to 2^order from the base? */
static bool model_has_block(const struct model *m, uint32_t order)
{
    uint64_t size = (uint64_t)1 << order;
    for (uint64_t s = 0; s + size <= m->npages; s += size) {
        bool all_free = true;
        for (uint64_t p = s; p < s + size && all_free; p++) {
            all_free = m->owner[p] == 0;
        }
        if (all_free) {
            return true;
        }
    }
    return false;
}

static void do_alloc(struct harness *h, uint32_t order, uint32_t id)
{
    struct model *m = &h->m;
    rvm_hpa_t a = {0};
    enum rvm_err err = rvm_buddy_alloc(&h->b, order, &a);
    if (order > m->max_order) {
        assert_int_equal(err, RVM_ERR_OUT_OF_RANGE);
        return;
    }
    if (err == RVM_ERR_NO_MEMORY) {
        assert_false(model_has_block(m, order));
        return;
    }
    assert_int_equal(err, RVM_OK);
    assert_true(a.v >= m->base);
    uint64_t off = a.v - m->base;
    assert_int_equal(off % 4096, 0);
    uint64_t page = off / 4096;
    uint64_t size = (uint64_t)1 << order;
    assert_int_equal(page % size, 0);
    assert_true(page + size <= m->npages);
    for (uint64_t p = page; p < page + size; p++) {
        assert_int_equal(m->owner[p], 0); /* no overlap with anything live */
        m->owner[p] = id;
    }
    m->live[m->nlive].addr = a.v;
    m->live[m->nlive].order = order;
    m->nlive++;
    m->free_count -= (uint32_t)size;
}

/* What the rules of buddy.h say a free of (addr, order) must return, from the model alone. */
static enum rvm_err expected_free(const struct model *m, uint64_t addr, uint32_t order,
                                  uint32_t *live_index)
{
    if (order > m->max_order) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (addr % 4096 != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    if (addr < m->base || (addr - m->base) / 4096 >= m->npages) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint64_t page = (addr - m->base) / 4096;
    if (page % ((uint64_t)1 << order) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    for (uint32_t i = 0; i < m->nlive; i++) {
        if (m->live[i].addr == addr && m->live[i].order == order) {
            *live_index = i;
            return RVM_OK;
        }
    }
    return RVM_ERR_BAD_FREE;
}

static void do_free(struct harness *h, uint64_t addr, uint32_t order)
{
    struct model *m = &h->m;
    uint32_t idx = UINT32_MAX;
    enum rvm_err want = expected_free(m, addr, order, &idx);
    uint8_t before[32], after[32];
    state_hash(h, before);
    uint32_t free_before = rvm_buddy_free_pages(&h->b);
    enum rvm_err err = rvm_buddy_free(&h->b, rvm_hpa(addr), order);
    assert_int_equal(err, want);
    if (want != RVM_OK) {
        state_hash(h, after);
        assert_memory_equal(before, after, 32);
        assert_int_equal(rvm_buddy_free_pages(&h->b), free_before);
        return;
    }
    uint64_t page = (addr - m->base) / 4096;
    uint64_t size = (uint64_t)1 << order;
    for (uint64_t p = page; p < page + size; p++) {
        m->owner[p] = 0;
    }
    m->live[idx] = m->live[--m->nlive];
    m->free_count += (uint32_t)size;
}

static void assert_consistent(const struct harness *h)
{
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    assert_int_equal(rvm_buddy_free_pages(&h->b), h->m.free_count);
    assert_int_equal(rvm_buddy_free_pages(&h->b) + rvm_buddy_allocated_pages(&h->b), h->m.npages);
}

/* A hostile free, built from the model so that it must fail (or, rarely, names a live block). */
static void hostile_free(struct harness *h, struct test_rng *r)
{
    struct model *m = &h->m;
    uint64_t addr;
    uint32_t order;
    uint32_t kind = (uint32_t)test_rng_below(r, 7);
    if (m->nlive == 0) {
        kind = 4;
    }
    uint32_t i = m->nlive ? (uint32_t)test_rng_below(r, m->nlive) : 0;
    switch (kind) {
    case 0: /* wrong order, one up or one down */
        addr = m->live[i].addr;
        order = m->live[i].order + (m->live[i].order == 0 || test_rng_below(r, 2) ? 1u : -1u);
        break;
    case 1: /* unaligned address */
        addr = m->live[i].addr + 1 + test_rng_below(r, 4095);
        order = m->live[i].order;
        break;
    case 2: /* a page inside a multi-page block (or next to a single one) */
        addr = m->live[i].addr + 4096 * (1 + test_rng_below(r, (1u << m->live[i].order)));
        order = (uint32_t)test_rng_below(r, m->max_order + 1);
        break;
    case 3: /* double free: free it properly, then again */
        addr = m->live[i].addr;
        order = m->live[i].order;
        do_free(h, addr, order);
        break;
    case 4: { /* out of range, below and above, and absurd orders */
        static const uint64_t far[] = {0, 4096, UINT64_MAX & ~(uint64_t)4095};
        uint32_t which = (uint32_t)test_rng_below(r, 5);
        if (which < 3) {
            addr = far[which];
        } else if (which == 3) {
            addr = m->base - 4096;
        } else {
            addr = m->base + (uint64_t)m->npages * 4096;
        }
        order = (uint32_t)test_rng_below(r, 40);
        break;
    }
    case 5: /* a free page's address */
    default:
        addr = m->base + 4096 * test_rng_below(r, m->npages);
        order = (uint32_t)test_rng_below(r, m->max_order + 2);
        break;
    }
    do_free(h, addr, order);
}

static void random_run(uint64_t seed, uint32_t configs, uint32_t steps)
{
    struct test_rng r = test_rng_new(seed);
    for (uint32_t c = 0; c < configs; c++) {
        uint32_t npages = 1 + (uint32_t)test_rng_below(&r, MAX_TEST_PAGES);
        uint32_t max_order = (uint32_t)test_rng_below(&r, 11);
        uint64_t base = 4096 * (1 + test_rng_below(&r, 1u << 20));
        struct harness *h = harness_new(base, npages, max_order);
        assert_consistent(h);
        uint32_t id = 1;
        for (uint32_t s = 0; s < steps; s++) {
            uint32_t op = (uint32_t)test_rng_below(&r, 10);
            if (op < 5) {
                /* Small orders are likelier, so the allocator fills up and fragments. */
                uint32_t order =
                    (uint32_t)test_rng_below(&r, 1 + test_rng_below(&r, max_order + 2));
                do_alloc(h, order, id++);
            } else if (op < 9 && h->m.nlive > 0) {
                uint32_t i = (uint32_t)test_rng_below(&r, h->m.nlive);
                do_free(h, h->m.live[i].addr, h->m.live[i].order);
            } else {
                hostile_free(h, &r);
            }
            assert_int_equal(rvm_buddy_free_pages(&h->b), h->m.free_count);
            if (s % 64 == 0) {
                assert_consistent(h);
            }
        }
        /* Free everything: the allocator must coalesce back to its initial blocks (the order of
         * equal blocks on a free list may differ, so compare the tags, not the state hash). */
        while (h->m.nlive > 0) {
            do_free(h, h->m.live[0].addr, h->m.live[0].order);
        }
        assert_consistent(h);
        struct harness *fresh = harness_new(base, npages, max_order);
        assert_memory_equal(h->tags, fresh->tags, npages);
        free(fresh);
        free(h);
    }
}

static void test_random_against_model(void **state)
{
    (void)state;
    random_run(test_seed("buddy_random_against_model", 0xB0DD1E), 60, 3000);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct rvm_buddy b;
    uint8_t tags[8];
    struct rvm_buddy_link links[8];
    struct rvm_buddy_config cfg = {rvm_hpa(0x1000), 8, 3, tags, links};
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_OK);
    cfg.npages = 0;
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_INVALID_ARGUMENT);
    cfg.npages = 0xFFFFFFFFu; /* UINT32_MAX ends a free list: not a page count */
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_buddy_init(NULL, &cfg), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_buddy_init(&b, NULL), RVM_ERR_INVALID_ARGUMENT);
    cfg.npages = 8;
    cfg.tags = NULL;
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_INVALID_ARGUMENT);
    cfg.tags = tags;
    cfg.links = NULL;
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_INVALID_ARGUMENT);
    cfg.links = links;
    cfg.max_order = 32;
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_OUT_OF_RANGE);
    cfg.max_order = 31;
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_OK);
    cfg.base = rvm_hpa(0x1800);
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_ALIGNMENT);
    cfg.base = rvm_hpa(UINT64_MAX - 4 * 4096 + 1); /* aligned, but 8 pages wrap */
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_OVERFLOW);
    cfg.base = rvm_hpa(UINT64_MAX - 8 * 4096 + 1); /* ends exactly at 2^64: wraps to 0 */
    assert_int_equal(rvm_buddy_init(&b, &cfg), RVM_ERR_OVERFLOW);
    assert_int_equal(rvm_buddy_init(NULL, &cfg), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_buddy_init(&b, NULL), RVM_ERR_INVALID_ARGUMENT);
}

/*
 * 13 pages, max order 10: the range is 8 + 4 + 1 pages (13 = 0b1101). Worked out by hand:
 * order 3 -> page 0, order 2 -> page 8, order 0 -> page 12, and then nothing is left; freeing
 * pages 0..7 and 8..11 must not merge them (8+4 is not a buddy pair), and page 12 never merges.
 */
static void test_odd_size_by_hand(void **state)
{
    (void)state;
    struct harness *h = harness_new(0x40000, 13, 10);
    rvm_hpa_t a3 = {0}, a2 = {0}, a0 = {0}, x = {0};
    assert_int_equal(rvm_buddy_alloc(&h->b, 4, &x), RVM_ERR_NO_MEMORY); /* 16 > 13 */
    assert_int_equal(rvm_buddy_alloc(&h->b, 3, &a3), RVM_OK);
    assert_int_equal(a3.v, 0x40000);
    assert_int_equal(rvm_buddy_alloc(&h->b, 2, &a2), RVM_OK);
    assert_int_equal(a2.v, 0x40000 + 8 * 4096);
    assert_int_equal(rvm_buddy_alloc(&h->b, 1, &x), RVM_ERR_NO_MEMORY); /* only page 12 left */
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &a0), RVM_OK);
    assert_int_equal(a0.v, 0x40000 + 12 * 4096);
    assert_int_equal(rvm_buddy_free_pages(&h->b), 0);
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &x), RVM_ERR_NO_MEMORY);
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, a3, 3), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, a2, 2), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, a0, 0), RVM_OK);
    assert_int_equal(rvm_buddy_free_pages(&h->b), 13);
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    /* Tags, by hand: heads at 0 (free, order 3), 8 (free, order 2), 12 (free, order 0). */
    for (uint32_t p = 0; p < 13; p++) {
        uint8_t want = p == 0 ? 0x43 : p == 8 ? 0x42 : p == 12 ? 0x40 : 0;
        assert_int_equal(h->tags[p], want);
    }
    free(h);
}

/* Max order 0: every block is one page and nothing ever merges. */
static void test_max_order_zero(void **state)
{
    (void)state;
    struct harness *h = harness_new(0x1000, 5, 0);
    rvm_hpa_t a[5], x;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rvm_buddy_alloc(&h->b, 0, &a[i]), RVM_OK);
        assert_int_equal(a[i].v, 0x1000 + 4096u * (uint64_t)i); /* lowest address first */
    }
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &x), RVM_ERR_NO_MEMORY);
    assert_int_equal(rvm_buddy_alloc(&h->b, 1, &x), RVM_ERR_OUT_OF_RANGE);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rvm_buddy_free(&h->b, a[i], 0), RVM_OK);
    }
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    for (uint32_t p = 0; p < 5; p++) {
        assert_int_equal(h->tags[p], 0x40);
    }
    free(h);
}

/* RVM's mixed-order scenario on 16 pages, with the exact addresses a buddy must produce. */
static void test_coalescing_by_hand(void **state)
{
    (void)state;
    struct harness *h = harness_new(0x10000000, 16, 10);
    rvm_hpa_t a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
    assert_int_equal(rvm_buddy_alloc(&h->b, 3, &a), RVM_OK);
    assert_int_equal(rvm_buddy_alloc(&h->b, 2, &b), RVM_OK);
    assert_int_equal(rvm_buddy_alloc(&h->b, 1, &c), RVM_OK);
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &d), RVM_OK);
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &e), RVM_OK);
    assert_int_equal(a.v, 0x10000000);
    assert_int_equal(b.v, 0x10008000);
    assert_int_equal(c.v, 0x1000C000);
    assert_int_equal(d.v, 0x1000E000);
    assert_int_equal(e.v, 0x1000F000);
    assert_int_equal(rvm_buddy_free_pages(&h->b), 0);
    assert_int_equal(rvm_buddy_free(&h->b, e, 0), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, d, 0), RVM_OK); /* 14+15 -> order 1 at 14 */
    assert_int_equal(h->tags[14], 0x41);
    assert_int_equal(h->tags[15], 0);
    assert_int_equal(rvm_buddy_free(&h->b, c, 1), RVM_OK); /* 12..15 -> order 2 at 12 */
    assert_int_equal(h->tags[12], 0x42);
    assert_int_equal(rvm_buddy_free(&h->b, b, 2), RVM_OK); /* 8..15 -> order 3 at 8 */
    assert_int_equal(rvm_buddy_free(&h->b, a, 3), RVM_OK); /* 0..15 -> order 4 at 0 */
    assert_int_equal(h->tags[0], 0x44);
    rvm_hpa_t big;
    assert_int_equal(rvm_buddy_alloc(&h->b, 4, &big), RVM_OK);
    assert_int_equal(big.v, 0x10000000);
    free(h);
}

static void test_hostile_frees_by_hand(void **state)
{
    (void)state;
    struct harness *h = harness_new(0x10000000, 16, 10);
    rvm_hpa_t a = {0}, b = {0};
    assert_int_equal(rvm_buddy_alloc(&h->b, 2, &a), RVM_OK); /* pages 0..3 */
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &b), RVM_OK); /* page 4 */
    uint8_t before[32], after[32];
    state_hash(h, before);
    assert_int_equal(rvm_buddy_free(&h->b, a, 1), RVM_ERR_BAD_FREE); /* wrong order (smaller) */
    assert_int_equal(rvm_buddy_free(&h->b, a, 3), RVM_ERR_BAD_FREE); /* wrong order (larger) */
    assert_int_equal(rvm_buddy_free(&h->b, a, 11), RVM_ERR_OUT_OF_RANGE); /* above max order */
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 4096), 0), RVM_ERR_BAD_FREE); /* inside */
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 4096), 2), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 8), 2), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v - 4096), 0), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 16 * 4096), 0), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 8 * 4096), 3),
                     RVM_ERR_BAD_FREE); /* free */
    assert_int_equal(rvm_buddy_free(&h->b, rvm_hpa(a.v + 5 * 4096), 0),
                     RVM_ERR_BAD_FREE); /* free */
    state_hash(h, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(rvm_buddy_free(&h->b, b, 0), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, b, 0), RVM_ERR_BAD_FREE); /* double free */
    assert_int_equal(rvm_buddy_free(&h->b, a, 2), RVM_OK);
    assert_int_equal(rvm_buddy_free(&h->b, a, 2), RVM_ERR_BAD_FREE); /* double free, merged */
    assert_int_equal(rvm_buddy_free_pages(&h->b), 16);
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    free(h);
}

static void test_prepare_commit_match_alloc(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("buddy_prepare_commit", 77));
    struct harness *x = harness_new(0x200000, 300, 6);
    struct harness *y = harness_new(0x200000, 300, 6);
    rvm_hpa_t live[300];
    uint32_t orders[300];
    uint32_t n = 0;
    for (int step = 0; step < 4000; step++) {
        if (test_rng_below(&r, 2) == 0 || n == 0) {
            uint32_t order = (uint32_t)test_rng_below(&r, 5);
            struct rvm_buddy_alloc_plan plan;
            rvm_hpa_t a;
            uint8_t before[32], after[32];
            state_hash(y, before);
            enum rvm_err e1 = rvm_buddy_prepare_alloc(&y->b, order, &plan);
            state_hash(y, after);
            assert_memory_equal(before, after, 32); /* prepare changes nothing */
            enum rvm_err e2 = rvm_buddy_alloc(&x->b, order, &a);
            assert_int_equal(e1, e2);
            if (e1 == RVM_OK) {
                rvm_hpa_t b = rvm_buddy_commit_alloc(&y->b, &plan);
                assert_int_equal(a.v, b.v);
                assert_int_equal(plan.page, (b.v - 0x200000) / 4096);
                live[n] = a;
                orders[n++] = order;
            }
        } else {
            uint32_t i = (uint32_t)test_rng_below(&r, n);
            uint32_t page;
            assert_int_equal(rvm_buddy_prepare_free(&y->b, live[i], orders[i], &page), RVM_OK);
            rvm_buddy_commit_free(&y->b, page, orders[i]);
            assert_int_equal(rvm_buddy_free(&x->b, live[i], orders[i]), RVM_OK);
            uint32_t got;
            assert_int_equal(rvm_buddy_allocation_order(&x->b, live[i], &got), RVM_ERR_NOT_FOUND);
            live[i] = live[--n];
            orders[i] = orders[n];
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t got = 99;
            assert_int_equal(rvm_buddy_allocation_order(&x->b, live[i], &got), RVM_OK);
            assert_int_equal(got, orders[i]);
        }
        uint8_t hx[32], hy[32];
        state_hash(x, hx);
        state_hash(y, hy);
        assert_memory_equal(hx, hy, 32);
    }
    assert_int_equal(rvm_buddy_check(&x->b), RVM_OK);
    free(x);
    free(y);
}

/* The oracle must be able to fail: plant each kind of corruption and watch it. */
static void test_check_catches_corruption(void **state)
{
    (void)state;
    struct harness *h = harness_new(0x10000000, 64, 10);
    struct harness *saved = malloc(sizeof(*saved));
    rvm_hpa_t a = {0}, b = {0};
    assert_int_equal(rvm_buddy_alloc(&h->b, 0, &a), RVM_OK); /* page 0; page 1 free, order 0 */
    assert_int_equal(rvm_buddy_alloc(&h->b, 2, &b), RVM_OK); /* pages 4..7 */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    *saved = *h;

    h->tags[5] = 0x40; /* a tag inside an allocated block */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->tags[9] = 0x40; /* a tag inside a free block */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->b.free_pages++;
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->links[h->b.head[0]].prev = 3; /* broken back link */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->links[h->b.head[0]].next = h->b.head[0]; /* cycle */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->b.head[0] = RVM_BUDDY_NIL; /* a free block missing from its list */
    h->b.nonempty &= ~1u;
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->b.nonempty |= 1u << 9; /* mask says non-empty, list is empty */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    h->tags[0] = 0x81; /* allocated block with an order that runs into page 1's block */
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    /* Pages 0 and 1 both free at order 0 and correctly listed, but not merged. */
    h->tags[0] = 0x40;
    h->links[0].next = h->b.head[0];
    h->links[0].prev = RVM_BUDDY_NIL;
    h->links[h->b.head[0]].prev = 0;
    h->b.head[0] = 0;
    h->b.free_pages++;
    assert_int_equal(rvm_buddy_check(&h->b), RVM_ERR_INTERNAL);
    *h = *saved;
    assert_int_equal(rvm_buddy_check(&h->b), RVM_OK);
    free(saved);
    free(h);
}

/* The state hash follows the state: equal states hash equal, any change shows. */
static void test_hash_tracks_state(void **state)
{
    (void)state;
    struct harness *a = harness_new(0x10000000, 100, 10);
    struct harness *b = harness_new(0x10000000, 100, 10);
    uint8_t ha[32], hb[32];
    state_hash(a, ha);
    state_hash(b, hb);
    assert_memory_equal(ha, hb, 32);
    rvm_hpa_t x = {0};
    assert_int_equal(rvm_buddy_alloc(&a->b, 0, &x), RVM_OK);
    state_hash(a, ha);
    assert_memory_not_equal(ha, hb, 32);
    assert_int_equal(rvm_buddy_free(&a->b, x, 0), RVM_OK); /* merges back to the same blocks */
    state_hash(a, ha);
    assert_memory_equal(ha, hb, 32);
    struct harness *c = harness_new(0x10001000, 100, 10); /* same shape, other base */
    state_hash(c, ha);
    assert_memory_not_equal(ha, hb, 32);
    struct harness *d = harness_new(0x10000000, 100, 9); /* other max order */
    state_hash(d, ha);
    assert_memory_not_equal(ha, hb, 32);
    free(a);
    free(b);
    free(c);
    free(d);
}

static void test_ctz_portable(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 32; i++) {
        assert_int_equal(rvm_ctz32_portable(1u << i), i);
        assert_int_equal(rvm_ctz32_portable(0xFFFFFFFFu << i), i);
    }
    struct test_rng r = test_rng_new(5);
    for (int i = 0; i < 100000; i++) {
        uint32_t v = (uint32_t)test_rng_next(&r) | 1u << (i % 32);
        assert_int_equal(rvm_ctz32_portable(v), (uint32_t)__builtin_ctz(v));
        assert_int_equal(rvm_ctz32(v), (uint32_t)__builtin_ctz(v));
    }
}

static void test_order_for_pages(void **state)
{
    (void)state;
    assert_int_equal(rvm_buddy_order_for_pages(0), 0);
    assert_int_equal(rvm_buddy_order_for_pages(1), 0);
    assert_int_equal(rvm_buddy_order_for_pages(2), 1);
    assert_int_equal(rvm_buddy_order_for_pages(3), 2);
    assert_int_equal(rvm_buddy_order_for_pages(4), 2);
    assert_int_equal(rvm_buddy_order_for_pages(5), 3);
    assert_int_equal(rvm_buddy_order_for_pages(1024), 10);
    assert_int_equal(rvm_buddy_order_for_pages(1025), 11);
    assert_int_equal(rvm_buddy_order_for_pages((uint64_t)1 << 31), 31);
    assert_int_equal(rvm_buddy_order_for_pages(((uint64_t)1 << 31) + 1), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_odd_size_by_hand),
        cmocka_unit_test(test_max_order_zero),
        cmocka_unit_test(test_coalescing_by_hand),
        cmocka_unit_test(test_hostile_frees_by_hand),
        cmocka_unit_test(test_prepare_commit_match_alloc),
        cmocka_unit_test(test_check_catches_corruption),
        cmocka_unit_test(test_hash_tracks_state),
        cmocka_unit_test(test_ctz_portable),
        cmocka_unit_test(test_order_for_pages),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
