/* SPDX-License-Identifier: MIT */
/*
 * Regions: typed, owned, mapped through the HAL, shared read-only, tiered and reconstructed.
 *
 * Independent expectations:
 *   - witness records are decoded here from raw bytes at the offsets of docs/witness-format.md
 *     and compared with layouts written out in docs/memory.md;
 *   - the platform's view comes from the HAL test double (tests/support/hal_recorder.h): every
 *     s2_map/s2_unmap call is replayed into a model of stage-2 mappings, and isolation (no
 *     writable host page visible to two partitions, W^X, no guest overlap within a partition)
 *     is checked on that model, not on the region table;
 *   - region contents live in the test (the core never reads host memory), so a reconstructed
 *     region is compared with what the test wrote; checkpoint prefixes come from OpenSSL;
 *   - "no witness, no mutation": every refused operation leaves the state digest of the table and
 *     its allocator unchanged and appends exactly one rejection record.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/buddy.h"
#include "rvm/crypto_portable.h"
#include "rvm/region.h"

#include <openssl/sha.h>

#define RAM_BASE  0x80000000ull
#define RAM_PAGES 1024u
#define DEV_BASE  0x09000000ull
#define SLOTS     24u
#define RING      256u

enum { R = RVM_PERM_R, W = RVM_PERM_W, X = RVM_PERM_X };

struct fx {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_buddy ram;
    uint8_t tags[RAM_PAGES];
    struct rvm_buddy_link links[RAM_PAGES];
    struct rvm_region slots[SLOTS];
    struct rvm_region_table rt;
    struct rvm_compress_work work;
};

static struct fx *fx_new(bool with_ram)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    struct rvm_buddy_config bc = {rvm_hpa(RAM_BASE), RAM_PAGES, 10, f->tags, f->links};
    assert_int_equal(rvm_buddy_init(&f->ram, &bc), RVM_OK);
    struct rvm_region_config rc = {f->slots, SLOTS, with_ram ? &f->ram : NULL, NULL};
    assert_int_equal(rvm_region_init(&f->rt, hal_recorder_hal(&f->rec), &f->log, &rc), RVM_OK);
    return f;
}

static void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f);
}

/* Init refuses a missing argument, a capacity outside 1..2^31 and a policy whose thresholds are
 * out of order (Warm -> Hot at or below Hot -> Warm would oscillate), and takes a valid one. */
static void test_init_refusals(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    const struct rvm_hal *hal = hal_recorder_hal(&f->rec);
    struct rvm_region_table rt;
    const struct rvm_region_config ok = {f->slots, SLOTS, &f->ram, NULL};
    struct rvm_region_config c = ok;
    const enum rvm_err inval = RVM_ERR_INVALID_ARGUMENT;
    assert_int_equal(rvm_region_init(NULL, hal, &f->log, &c), inval);
    assert_int_equal(rvm_region_init(&rt, NULL, &f->log, &c), inval);
    assert_int_equal(rvm_region_init(&rt, hal, NULL, &c), inval);
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, NULL), inval);
    c.slots = NULL;
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, &c), inval);
    c = ok;
    c.capacity = 0;
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, &c), inval);
    c.capacity = 0x80000001u;
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, &c), inval);
    struct rvm_tier_policy policy = {7000, 4000, 1000, 7000, 5000, 5000, 1000, 500};
    c = ok;
    c.policy = &policy;
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, &c), inval);
    policy.warm_to_hot = 8000;
    assert_int_equal(rvm_region_init(&rt, hal, &f->log, &c), RVM_OK);
    fx_free(f);
}

/* ---- independent views ----------------------------------------------------------------------- */

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

struct rec {
    uint8_t kind, tier, flags;
    uint32_t actor;
    uint64_t target;
    uint64_t payload, aux;
};

static struct rec record_at(struct fx *f, uint64_t seq)
{
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_true(seq < f->rec.sink.count);
    const uint8_t *p = f->rec.sink.records + seq * 64;
    struct rec r = {p[16],         p[17],         p[18],        (uint32_t)le(p + 20, 4),
                    le(p + 24, 8), le(p + 36, 8), le(p + 52, 8)};
    return r;
}

static struct rec last_record(struct fx *f)
{
    return record_at(f, rvm_witness_count(&f->log) - 1);
}

static void assert_rejected(struct fx *f, uint8_t kind, enum rvm_err err)
{
    struct rec r = last_record(f);
    assert_int_equal(r.kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal(r.payload & 0xFFFFFFFFu, err);
    assert_int_equal(r.payload >> 32, kind);
}

static void digest(struct fx *f, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &f->crypto);
    rvm_region_hash(&f->rt, &c);
    rvm_buddy_hash(&f->ram, &c);
    rvm_sha256_final(&c, out);
}

static struct rvm_handle mk(struct fx *f, uint32_t owner, uint32_t type, uint32_t perms,
                            uint32_t npages, uint64_t hpa)
{
    struct rvm_region_create_req req = {owner, type, perms, npages, rvm_hpa(hpa)};
    struct rvm_handle h = {UINT32_MAX, 0};
    assert_int_equal(witnessed_region_create(&f->rt, 0, &req, &h), RVM_OK);
    return h;
}

/* Expect a refusal that changes nothing and is witnessed once. */
#define REFUSED(f, kind, err, call)                                                                \
    do {                                                                                           \
        uint8_t before_[32], after_[32];                                                           \
        digest((f), before_);                                                                      \
        uint64_t n_ = rvm_witness_count(&(f)->log);                                                \
        assert_int_equal((call), (err));                                                           \
        digest((f), after_);                                                                       \
        assert_memory_equal(before_, after_, 32);                                                  \
        assert_int_equal(rvm_witness_count(&(f)->log), n_ + 1);                                    \
        assert_rejected((f), (kind), (err));                                                       \
        assert_int_equal(rvm_region_check(&(f)->rt), RVM_OK);                                      \
    } while (0)

/* ---- create ---------------------------------------------------------------------------------- */

static void test_create_record_and_backing(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle h = mk(f, 7, RVM_REGION_DATA, R | W, 3, 0);
    assert_int_equal(h.index, 0);
    assert_int_equal(h.generation, 1);
    /* 3 pages need an order-2 block: 4 pages held, from the bottom of RAM. */
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), 4);
    const struct rvm_region *r = rvm_region_get(&f->rt, h);
    assert_non_null(r);
    assert_int_equal(r->hpa, RAM_BASE);
    assert_int_equal(r->tier.tier, RVM_TIER_WARM);
    assert_int_equal(r->tier.recency, 5000);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x20);
    assert_int_equal(w.actor, 0);
    assert_int_equal(w.target, (1ull << 32) | 0); /* generation 1, index 0 */
    assert_int_equal(w.flags, 0x31);              /* DATA (1) | R|W (3) << 4 */
    assert_int_equal(w.payload, RAM_BASE);
    assert_int_equal(w.aux, 7 | (3ull << 32));
    /* A device region names its own host range and starts Hot. */
    struct rvm_handle d = mk(f, 7, RVM_REGION_DEVICE, R | W, 2, DEV_BASE);
    r = rvm_region_get(&f->rt, d);
    assert_int_equal(r->hpa, DEV_BASE);
    assert_int_equal(r->tier.tier, RVM_TIER_HOT);
    w = last_record(f);
    assert_int_equal(w.flags, 0x34);
    assert_int_equal(w.payload, DEV_BASE);
    assert_int_equal(w.aux, 7 | (2ull << 32));
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), 4);
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    fx_free(f);
}

/* W^X and per-type permissions, every combination, against a table written by hand. */
static void test_perms_by_type(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    /* rows: type; columns: perms 0..7 (R=1 W=2 X=4); OK, INVALID_ARGUMENT (I) or WX */
    enum { O = RVM_OK, I = RVM_ERR_INVALID_ARGUMENT, V = RVM_ERR_WX };
    static const int table[4][8] = {
        /*            0  R  W  RW X  RX WX RWX */
        /* DATA */ {I, O, I, O, I, I, V, V},
        /* CODE */ {I, O, I, I, I, O, V, V},
        /* IMM  */ {I, O, I, I, I, O, V, V},
        /* DEV  */ {I, O, I, O, I, I, V, V},
    };
    uint64_t dev = DEV_BASE;
    for (uint32_t type = 1; type <= 4; type++) {
        for (uint32_t perms = 0; perms < 8; perms++) {
            struct rvm_region_create_req req = {3, type, perms, 1, rvm_hpa(dev)};
            int want = table[type - 1][perms];
            if (want == O) {
                struct rvm_handle h;
                assert_int_equal(witnessed_region_create(&f->rt, 0, &req, &h), RVM_OK);
                assert_int_equal(witnessed_region_destroy(&f->rt, 0, h), RVM_OK);
                dev += 4096;
            } else {
                REFUSED(f, RVM_ACT_REGION_CREATE, (enum rvm_err)want,
                        witnessed_region_create(&f->rt, 0, &req, NULL));
            }
        }
    }
    struct rvm_region_create_req req = {3, RVM_REGION_DATA, 8 | R, 1, rvm_hpa(0)};
    REFUSED(f, RVM_ACT_REGION_CREATE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_create(&f->rt, 0, &req, NULL));
    for (uint32_t type = 0; type < 8; type += 5) { /* 0 and 5 (SHARED: only through share) */
        req.type = type;
        req.perms = R;
        REFUSED(f, RVM_ACT_REGION_CREATE, RVM_ERR_INVALID_ARGUMENT,
                witnessed_region_create(&f->rt, 0, &req, NULL));
    }
    fx_free(f);
}

static void test_create_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_region_create_req q = {1, RVM_REGION_DATA, R | W, 1, rvm_hpa(0)};
#define TRY(field, value, err)                                                                     \
    do {                                                                                           \
        struct rvm_region_create_req q2 = q;                                                       \
        q2.field = value;                                                                          \
        REFUSED(f, RVM_ACT_REGION_CREATE, err, witnessed_region_create(&f->rt, 0, &q2, NULL));     \
    } while (0)
    TRY(owner, 0, RVM_ERR_INVALID_ARGUMENT);
    TRY(owner, UINT32_MAX, RVM_ERR_INVALID_ARGUMENT);
    TRY(npages, 0, RVM_ERR_INVALID_ARGUMENT);
    TRY(npages, RVM_REGION_MAX_PAGES + 1, RVM_ERR_INVALID_ARGUMENT);
    TRY(npages, 1025, RVM_ERR_OUT_OF_RANGE); /* needs order 11 > max order 10 */
    q.type = RVM_REGION_DEVICE;
    q.hpa = rvm_hpa(DEV_BASE);
    q.npages = 2;
    TRY(hpa, rvm_hpa(DEV_BASE + 8), RVM_ERR_ALIGNMENT);
    TRY(hpa, rvm_hpa(UINT64_MAX & ~0xFFFull), RVM_ERR_OVERFLOW);
    TRY(hpa, rvm_hpa(RAM_BASE + 4096 * 100), RVM_ERR_OVERLAP); /* inside RAM */
    TRY(hpa, rvm_hpa(RAM_BASE - 4096), RVM_ERR_OVERLAP);       /* 2 pages: runs into RAM */
    mk(f, 1, RVM_REGION_DEVICE, R | W, 2, DEV_BASE);
    TRY(hpa, rvm_hpa(DEV_BASE + 4096), RVM_ERR_OVERLAP); /* overlaps the first device */
    TRY(hpa, rvm_hpa(DEV_BASE - 4096), RVM_ERR_OVERLAP);
    mk(f, 1, RVM_REGION_DEVICE, R | W, 2, DEV_BASE + 2 * 4096); /* adjacent is fine */
    /* Memory exhausted: one region takes all 1024 pages. */
    struct rvm_handle big = mk(f, 2, RVM_REGION_DATA, R, 1024, 0);
    q.type = RVM_REGION_DATA;
    q.npages = 1;
    REFUSED(f, RVM_ACT_REGION_CREATE, RVM_ERR_NO_MEMORY,
            witnessed_region_create(&f->rt, 0, &q, NULL));
    assert_int_equal(witnessed_region_destroy(&f->rt, 0, big), RVM_OK);
    /* Table full. */
    for (uint32_t i = 0; i < SLOTS - 2; i++) {
        mk(f, 2, RVM_REGION_DATA, R, 1, 0);
    }
    REFUSED(f, RVM_ACT_REGION_CREATE, RVM_ERR_NO_SPACE,
            witnessed_region_create(&f->rt, 0, &q, NULL));
    fx_free(f);
    /* Without an allocator only device regions exist. */
    f = fx_new(false);
    REFUSED(f, RVM_ACT_REGION_CREATE, RVM_ERR_UNSUPPORTED,
            witnessed_region_create(&f->rt, 0, &q, NULL));
    mk(f, 1, RVM_REGION_DEVICE, R, 1, RAM_BASE); /* no RAM range to collide with */
    fx_free(f);
#undef TRY
}

/* ---- map / unmap ----------------------------------------------------------------------------- */

static const struct hal_call *last_call(struct fx *f)
{
    assert_true(f->rec.ncalls > 0);
    return &f->rec.calls[f->rec.ncalls - 1];
}

static void test_map_unmap(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 2, 0);
    struct rvm_handle b = mk(f, 1, RVM_REGION_CODE, R | X, 1, 0);
    const struct rvm_region *ra = rvm_region_get(&f->rt, a);
    assert_int_equal(witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x40000000), R | W), RVM_OK);
    const struct hal_call *c = last_call(f);
    assert_int_equal(c->kind, HAL_CALL_MAP);
    assert_int_equal(c->partition, 1);
    assert_int_equal(c->ipa, 0x40000000);
    assert_int_equal(c->hpa, ra->hpa);
    assert_int_equal(c->size, 2 * 4096);
    assert_int_equal(c->perms, R | W);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x27);
    assert_int_equal(w.actor, 1);
    assert_int_equal(w.flags, R | W);
    assert_int_equal(w.payload, 0x40000000);
    assert_int_equal(w.aux, ra->hpa);
    rvm_hpa_t hpa;
    uint32_t perms;
    assert_int_equal(rvm_region_translate(&f->rt, 1, rvm_ipa(0x40001234), &hpa, &perms), RVM_OK);
    assert_int_equal(hpa.v, ra->hpa + 0x1234);
    assert_int_equal(perms, R | W);
    assert_int_equal(rvm_region_translate(&f->rt, 1, rvm_ipa(0x40002000), &hpa, NULL),
                     RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_region_translate(&f->rt, 2, rvm_ipa(0x40001000), &hpa, NULL),
                     RVM_ERR_NOT_FOUND);
    size_t calls = f->rec.ncalls;
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_WRONG_STATE,
            witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x50000000), R));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_OVERLAP,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40001000), R));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_ALIGNMENT,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002800), R));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_OVERFLOW,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(UINT64_MAX & ~0xFFFull), R));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_PERMISSION,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002000), R | W));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_PERMISSION,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002000), X));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_WX,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002000), R | W | X));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002000), R | 16));
    assert_int_equal(f->rec.ncalls, calls); /* refusals never reach the platform */
    /* Adjacent is fine, and so is the same guest address in another partition's space. */
    assert_int_equal(witnessed_region_map(&f->rt, 1, b, rvm_ipa(0x40002000), R), RVM_OK);
    struct rvm_handle c2 = mk(f, 2, RVM_REGION_DATA, R | W, 2, 0);
    assert_int_equal(witnessed_region_map(&f->rt, 2, c2, rvm_ipa(0x40000000), R | W), RVM_OK);
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    /* Unmap goes through the HAL with the mapping's range. */
    assert_int_equal(witnessed_region_unmap(&f->rt, 1, a), RVM_OK);
    c = last_call(f);
    assert_int_equal(c->kind, HAL_CALL_UNMAP);
    assert_int_equal(c->partition, 1);
    assert_int_equal(c->ipa, 0x40000000);
    assert_int_equal(c->size, 2 * 4096);
    w = last_record(f);
    assert_int_equal(w.kind, 0x28);
    assert_int_equal(w.payload, 0x40000000);
    REFUSED(f, RVM_ACT_REGION_UNMAP, RVM_ERR_WRONG_STATE, witnessed_region_unmap(&f->rt, 1, a));
    /* Mapped regions cannot be destroyed or transferred. */
    REFUSED(f, RVM_ACT_REGION_DESTROY, RVM_ERR_WRONG_STATE, witnessed_region_destroy(&f->rt, 1, b));
    REFUSED(f, RVM_ACT_REGION_TRANSFER, RVM_ERR_WRONG_STATE,
            witnessed_region_transfer(&f->rt, 1, b, 3));
    fx_free(f);
}

/* A platform that refuses leaves no trace in the core: same digest, one rejection record. */
static void test_hal_refusal_leaves_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 4, 0);
    hal_recorder_fail(&f->rec, HAL_CALL_MAP, 1, RVM_ERR_HAL);
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_HAL,
            witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x1000000), R | W));
    assert_int_equal(last_call(f)->result, RVM_ERR_HAL);
    assert_int_equal(hal_recorder_count(&f->rec, HAL_CALL_MAP), 1);
    assert_false(rvm_region_get(&f->rt, a)->mapped);
    assert_int_equal(rvm_region_translate(&f->rt, 1, rvm_ipa(0x1000000), NULL, NULL),
                     RVM_ERR_NOT_FOUND);
    /* The HAL's own code is what the record carries (the simulator says UNSUPPORTED). */
    hal_recorder_fail(&f->rec, HAL_CALL_MAP, 1, RVM_ERR_UNSUPPORTED);
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_UNSUPPORTED,
            witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x1000000), R | W));
    assert_int_equal(witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x1000000), R | W), RVM_OK);
    hal_recorder_fail(&f->rec, HAL_CALL_UNMAP, 1, RVM_ERR_HAL);
    REFUSED(f, RVM_ACT_REGION_UNMAP, RVM_ERR_HAL, witnessed_region_unmap(&f->rt, 1, a));
    assert_true(rvm_region_get(&f->rt, a)->mapped);
    assert_int_equal(witnessed_region_unmap(&f->rt, 1, a), RVM_OK);
    fx_free(f);
}

/* A full witness log refuses everything before the platform is asked. */
static void test_witness_full_changes_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 1, 0);
    f->rec.drain_limit = 0; /* the sink stalls */
    struct rvm_witness_entry e = {.kind = RVM_ACT_DEMO};
    while (rvm_witness_append(&f->log, &e, NULL) == RVM_OK) {
    }
    uint8_t before[32], after[32];
    digest(f, before);
    size_t calls = f->rec.ncalls;
    uint64_t n = rvm_witness_count(&f->log);
    struct rvm_region_create_req q = {1, RVM_REGION_DATA, R, 1, rvm_hpa(0)};
    assert_int_equal(witnessed_region_create(&f->rt, 0, &q, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_region_map(&f->rt, 1, a, rvm_ipa(0), R), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_region_destroy(&f->rt, 1, a), RVM_ERR_WITNESS_FULL);
    assert_int_equal(witnessed_region_transfer(&f->rt, 1, a, 2), RVM_ERR_WITNESS_FULL);
    /* A refusal is still reported, though its rejection record cannot be written either. */
    assert_int_equal(witnessed_region_move(&f->rt, 1, a, RVM_TIER_HOT, NULL),
                     RVM_ERR_RESIDENCY_LOW);
    assert_int_equal(rvm_region_epoch(&f->rt), RVM_ERR_WITNESS_FULL);
    digest(f, after);
    assert_memory_equal(before, after, 32);
    assert_int_equal(f->rec.ncalls, calls);
    assert_int_equal(rvm_witness_count(&f->log), n);
    f->rec.drain_limit = UINT64_MAX;
    assert_int_equal(witnessed_region_map(&f->rt, 1, a, rvm_ipa(0), R), RVM_OK);
    fx_free(f);
}

/* ---- share / unshare / transfer / destroy ---------------------------------------------------- */

static void test_share_read_only(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle lib = mk(f, 1, RVM_REGION_IMMUTABLE, R | X, 2, 0);
    struct rvm_handle data = mk(f, 1, RVM_REGION_DATA, R, 1, 0);
    struct rvm_handle view;
    REFUSED(f, RVM_ACT_REGION_SHARE, RVM_ERR_SHARE,
            witnessed_region_share(&f->rt, 1, data, 2, R, NULL)); /* only IMMUTABLE is shareable */
    REFUSED(f, RVM_ACT_REGION_SHARE, RVM_ERR_SHARE,
            witnessed_region_share(&f->rt, 1, lib, 2, R | W, NULL)); /* never writable */
    REFUSED(f, RVM_ACT_REGION_SHARE, RVM_ERR_PERMISSION,
            witnessed_region_share(&f->rt, 1, lib, 2, X, NULL)); /* needs R */
    REFUSED(f, RVM_ACT_REGION_SHARE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_share(&f->rt, 1, lib, 1, R, NULL)); /* with its own owner */
    REFUSED(f, RVM_ACT_REGION_SHARE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_share(&f->rt, 1, lib, 0, R, NULL)); /* with the hypervisor id */
    assert_int_equal(witnessed_region_share(&f->rt, 1, lib, 2, R, &view), RVM_OK);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x23);
    assert_int_equal(w.target, (uint64_t)view.generation << 32 | view.index);
    assert_int_equal(w.flags, R);
    assert_int_equal(w.payload, (uint64_t)lib.generation << 32 | lib.index);
    assert_int_equal(w.aux, 2 | (1ull << 32));
    const struct rvm_region *rl = rvm_region_get(&f->rt, lib);
    const struct rvm_region *rv = rvm_region_get(&f->rt, view);
    assert_int_equal(rv->type, RVM_REGION_SHARED);
    assert_int_equal(rv->hpa, rl->hpa);
    assert_int_equal(rl->shares, 1);
    /* Both map the same host pages, read-only in the borrower. */
    assert_int_equal(witnessed_region_map(&f->rt, 1, lib, rvm_ipa(0x10000), R | X), RVM_OK);
    assert_int_equal(witnessed_region_map(&f->rt, 2, view, rvm_ipa(0x20000), R), RVM_OK);
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_WRONG_STATE,
            witnessed_region_map(&f->rt, 2, view, rvm_ipa(0x30000), R));
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    /* A shared source stays put: no destroy, transfer or dormancy while views exist. */
    assert_int_equal(witnessed_region_unmap(&f->rt, 1, lib), RVM_OK);
    REFUSED(f, RVM_ACT_REGION_DESTROY, RVM_ERR_WRONG_STATE,
            witnessed_region_destroy(&f->rt, 1, lib));
    REFUSED(f, RVM_ACT_REGION_TRANSFER, RVM_ERR_WRONG_STATE,
            witnessed_region_transfer(&f->rt, 1, lib, 3));
    static uint8_t contents[2 * 4096], image[RVM_COMPRESS_BOUND(2 * 4096)];
    struct rvm_region_tier_io io = {contents, &f->work, image, sizeof(image), 0,
                                    NULL,     0,        false, false};
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_WRONG_STATE,
            witnessed_region_move(&f->rt, 1, lib, RVM_TIER_DORMANT, &io));
    /* Views are removed with unshare, never destroy or transfer, and only when unmapped. */
    REFUSED(f, RVM_ACT_REGION_DESTROY, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_destroy(&f->rt, 2, view));
    REFUSED(f, RVM_ACT_REGION_TRANSFER, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_transfer(&f->rt, 2, view, 3));
    REFUSED(f, RVM_ACT_REGION_UNSHARE, RVM_ERR_WRONG_STATE,
            witnessed_region_unshare(&f->rt, 2, view));
    REFUSED(f, RVM_ACT_REGION_UNSHARE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_unshare(&f->rt, 1, lib));
    assert_int_equal(witnessed_region_unmap(&f->rt, 2, view), RVM_OK);
    assert_int_equal(witnessed_region_unshare(&f->rt, 2, view), RVM_OK);
    w = last_record(f);
    assert_int_equal(w.kind, 0x24);
    assert_int_equal(w.payload, (uint64_t)lib.generation << 32 | lib.index);
    assert_int_equal(rvm_region_get(&f->rt, lib)->shares, 0);
    assert_int_equal(witnessed_region_destroy(&f->rt, 1, lib), RVM_OK);
    w = last_record(f);
    assert_int_equal(w.kind, 0x21);
    assert_int_equal(w.flags, RVM_REGION_IMMUTABLE | RVM_TIER_WARM << 4);
    assert_int_equal(w.aux, 1 | (2ull << 32));
    /* Stale handles: the slot's generation moved on. */
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_STALE,
            witnessed_region_map(&f->rt, 1, lib, rvm_ipa(0), R));
    REFUSED(f, RVM_ACT_REGION_UNSHARE, RVM_ERR_STALE, witnessed_region_unshare(&f->rt, 2, view));
    struct rvm_handle bogus = {SLOTS, 1};
    REFUSED(f, RVM_ACT_REGION_DESTROY, RVM_ERR_NOT_FOUND,
            witnessed_region_destroy(&f->rt, 1, bogus));
    struct rvm_handle future = {lib.index, lib.generation + 5};
    REFUSED(f, RVM_ACT_REGION_DESTROY, RVM_ERR_NOT_FOUND,
            witnessed_region_destroy(&f->rt, 1, future));
    /* A new region reuses the slot with a new generation. */
    struct rvm_handle again = mk(f, 4, RVM_REGION_DATA, R, 1, 0);
    assert_int_equal(again.index, lib.index < view.index ? lib.index : view.index);
    assert_true(again.generation > 1);
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), 2); /* data (1) + again (1) */
    fx_free(f);
}

static void test_transfer(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 1, 0);
    struct rvm_handle b = mk(f, 2, RVM_REGION_DATA, R | W, 1, 0);
    REFUSED(f, RVM_ACT_REGION_TRANSFER, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_transfer(&f->rt, 1, a, 1));
    REFUSED(f, RVM_ACT_REGION_TRANSFER, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_transfer(&f->rt, 1, a, 0));
    assert_int_equal(witnessed_region_transfer(&f->rt, 1, a, 2), RVM_OK);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x22);
    assert_int_equal(w.payload, 1 | (2ull << 32));
    assert_int_equal(rvm_region_get(&f->rt, a)->owner, 2);
    /* Now partition 2's guest ranges must not collide. */
    assert_int_equal(witnessed_region_map(&f->rt, 2, b, rvm_ipa(0x8000), R), RVM_OK);
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_OVERLAP,
            witnessed_region_map(&f->rt, 2, a, rvm_ipa(0x8000), R));
    assert_int_equal(witnessed_region_map(&f->rt, 2, a, rvm_ipa(0x9000), R | W), RVM_OK);
    assert_int_equal(last_call(f)->partition, 2);
    fx_free(f);
}

/* ---- tiers ----------------------------------------------------------------------------------- */

static void fill_contents(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (i / 4096) % 2 ? (uint8_t)(seed + i / 7) : (i % 64 < 8 ? (uint8_t)(seed ^ i) : 0);
    }
}

static void test_tier_moves(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    enum { PAGES = 3 };
    static uint8_t contents[PAGES * 4096], out[PAGES * 4096];
    static uint8_t image[RVM_COMPRESS_BOUND(PAGES * 4096)];
    fill_contents(contents, sizeof(contents), 42);
    struct rvm_handle a = mk(f, 5, RVM_REGION_DATA, R | W, PAGES, 0);
    struct rvm_handle dev = mk(f, 5, RVM_REGION_DEVICE, R | W, 1, DEV_BASE);
    uint64_t hpa0 = rvm_region_get(&f->rt, a)->hpa;
    /* Warm -> Hot needs residency 8000; a new region has 5000. */
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_RESIDENCY_LOW,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_HOT, NULL));
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_TIER, /* Hot -> Hot is no promotion */
            witnessed_region_move(&f->rt, 5, dev, RVM_TIER_HOT, NULL));
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_TIER,
            witnessed_region_move(&f->rt, 5, dev, RVM_TIER_WARM, NULL));
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_TIER,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_COLD, NULL));
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_OUT_OF_RANGE,
            witnessed_region_move(&f->rt, 5, a, 7, NULL));
    /* A cut value of 4000 staged, one touched epoch: 4000 + 6000 = 10000. */
    assert_int_equal(rvm_region_set_cut(&f->rt, a, 4000), RVM_OK);
    assert_int_equal(rvm_region_set_cut(&f->rt, a, 10001), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_region_touch(&f->rt, a), RVM_OK);
    assert_int_equal(rvm_region_epoch(&f->rt), RVM_OK);
    assert_int_equal(rvm_region_get(&f->rt, a)->tier.recency, 6000);
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_HOT, NULL), RVM_OK);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x25);
    assert_int_equal(w.payload, RVM_TIER_WARM | RVM_TIER_HOT << 8 | 10000ull << 16);
    assert_int_equal(w.aux, 0);
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, NULL), RVM_OK);
    assert_int_equal(last_record(f).kind, 0x26);
    /* Warm -> Dormant: only unmapped, and it needs the contents and room for the image. */
    assert_int_equal(witnessed_region_map(&f->rt, 5, a, rvm_ipa(0), R | W), RVM_OK);
    struct rvm_region_tier_io io = {contents, &f->work,    image, sizeof(image), 0,
                                    out,      sizeof(out), false, false};
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_WRONG_STATE,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io));
    assert_int_equal(witnessed_region_unmap(&f->rt, 5, a), RVM_OK);
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, NULL));
    io.image_cap = 100;
    REFUSED(f, RVM_ACT_REGION_DEMOTE, RVM_ERR_NO_SPACE,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io));
    io.image_cap = sizeof(image);
    uint32_t allocated = rvm_buddy_allocated_pages(&f->ram);
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io), RVM_OK);
    size_t image_len = io.image_len;
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), allocated - 4); /* order-2 block back */
    const struct rvm_region *r = rvm_region_get(&f->rt, a);
    assert_int_equal(r->tier.tier, RVM_TIER_DORMANT);
    assert_int_equal(r->hpa, 0);
    assert_int_equal(r->image_len, image_len);
    uint8_t cp[32];
    SHA256(image, image_len, cp);
    assert_memory_equal(r->checkpoint, cp, 32);
    w = last_record(f);
    assert_int_equal(w.kind, 0x26);
    assert_int_equal(w.payload & 0xFFFF, RVM_TIER_WARM | RVM_TIER_DORMANT << 8);
    assert_int_equal(w.payload >> 32, image_len);
    assert_int_equal(w.aux, le(cp, 8));
    REFUSED(f, RVM_ACT_REGION_MAP, RVM_ERR_WRONG_STATE,
            witnessed_region_map(&f->rt, 5, a, rvm_ipa(0), R));
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    /* Dormant -> Warm fails closed on a corrupted image, a wrong length, or low residency. */
    image[image_len / 2] ^= 0x10;
    memset(out, 0xAB, sizeof(out));
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_CORRUPT,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io));
    for (size_t i = 0; i < sizeof(out); i++) {
        assert_int_equal(out[i], 0); /* nothing half-decoded escapes */
    }
    image[image_len / 2] ^= 0x10;
    io.image_len = image_len - 1;
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_CORRUPT,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io));
    io.image_len = image_len;
    io.out_cap = sizeof(out) - 1;
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_INVALID_ARGUMENT,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io));
    io.out_cap = sizeof(out);
    assert_int_equal(rvm_region_set_cut(&f->rt, a, 0), RVM_OK);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rvm_region_epoch(&f->rt), RVM_OK); /* 6000 decays below 5000 */
    }
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_RESIDENCY_LOW,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io));
    assert_int_equal(rvm_region_set_cut(&f->rt, a, 5000), RVM_OK);
    assert_int_equal(rvm_region_epoch(&f->rt), RVM_OK);
    /* Dormant -> Cold and back: Cold -> Dormant verifies the image too. */
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_COLD, NULL), RVM_OK);
    assert_int_equal(last_record(f).aux, le(cp, 8));
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_TIER,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io));
    image[3] ^= 1;
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_CORRUPT,
            witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io));
    image[3] ^= 1;
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io), RVM_OK);
    /* check_only decides the same without decoding: out stays as it was. */
    struct rvm_witness_entry e;
    struct rvm_region_tier_plan tp;
    io.check_only = true;
    memset(out, 0xAB, sizeof(out));
    assert_int_equal(rvm_region_prepare_restore(&f->rt, 5, a, &io, &e, &tp), RVM_OK);
    image[image_len - 1] ^= 0x80;
    assert_int_equal(rvm_region_prepare_restore(&f->rt, 5, a, &io, &e, &tp), RVM_ERR_CORRUPT);
    image[image_len - 1] ^= 0x80;
    for (size_t i = 0; i < sizeof(out); i++) {
        assert_int_equal(out[i], 0xAB);
    }
    io.check_only = false;
    /* Reconstruction: fresh pages, the original bytes, a record naming the new host base. */
    memset(out, 0, sizeof(out));
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_WARM, &io), RVM_OK);
    assert_memory_equal(out, contents, sizeof(contents));
    r = rvm_region_get(&f->rt, a);
    assert_int_equal(r->tier.tier, RVM_TIER_WARM);
    assert_int_equal(r->image_len, 0);
    assert_int_equal(r->hpa, hpa0); /* the same block was free again */
    w = last_record(f);
    assert_int_equal(w.kind, 0x25);
    assert_int_equal(w.aux, hpa0);
    assert_int_equal(w.payload & 0xFFFF, RVM_TIER_DORMANT | RVM_TIER_WARM << 8);
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), allocated);
    assert_int_equal(witnessed_region_map(&f->rt, 5, a, rvm_ipa(0), R | W), RVM_OK);
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    /* A dormant region can be destroyed; nothing goes back to the allocator. */
    assert_int_equal(witnessed_region_unmap(&f->rt, 5, a), RVM_OK);
    assert_int_equal(witnessed_region_move(&f->rt, 5, a, RVM_TIER_DORMANT, &io), RVM_OK);
    allocated = rvm_buddy_allocated_pages(&f->ram);
    assert_int_equal(witnessed_region_destroy(&f->rt, 5, a), RVM_OK);
    assert_int_equal(rvm_buddy_allocated_pages(&f->ram), allocated);
    assert_int_equal(last_record(f).flags, RVM_REGION_DATA | RVM_TIER_DORMANT << 4);
    fx_free(f);
}

/* Dormant -> Warm with no free memory is refused before the image is even examined. */
static void test_reconstruct_needs_memory(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    static uint8_t contents[4096], out[4096], image[RVM_COMPRESS_BOUND(4096)];
    fill_contents(contents, sizeof(contents), 1);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 1, 0);
    struct rvm_region_tier_io io = {contents, &f->work,    image, sizeof(image), 0,
                                    out,      sizeof(out), false, false};
    assert_int_equal(witnessed_region_move(&f->rt, 1, a, RVM_TIER_DORMANT, &io), RVM_OK);
    struct rvm_handle all = mk(f, 2, RVM_REGION_DATA, R, 1024, 0);
    REFUSED(f, RVM_ACT_REGION_PROMOTE, RVM_ERR_NO_MEMORY,
            witnessed_region_move(&f->rt, 1, a, RVM_TIER_WARM, &io));
    assert_int_equal(witnessed_region_destroy(&f->rt, 2, all), RVM_OK);
    assert_int_equal(witnessed_region_move(&f->rt, 1, a, RVM_TIER_WARM, &io), RVM_OK);
    assert_memory_equal(out, contents, sizeof(out));
    fx_free(f);
}

static void test_epoch_and_recommend(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 1, 0);
    struct rvm_handle b = mk(f, 1, RVM_REGION_IMMUTABLE, R, 1, 0);
    struct rvm_handle d = mk(f, 1, RVM_REGION_DEVICE, R | W, 1, DEV_BASE);
    struct rvm_handle v;
    assert_int_equal(witnessed_region_share(&f->rt, 1, b, 2, R, &v), RVM_OK);
    /* Epoch 1: a touched with cut 3000 (5000 + 1000 + 3000 = 9000 -> advice Hot), b untouched
     * (4750: stays Warm). */
    assert_int_equal(rvm_region_touch(&f->rt, a), RVM_OK);
    assert_int_equal(rvm_region_set_cut(&f->rt, a, 3000), RVM_OK);
    assert_int_equal(rvm_region_touch(&f->rt, d), RVM_ERR_TIER);        /* devices are not tiered */
    assert_int_equal(rvm_region_set_cut(&f->rt, v, 100), RVM_ERR_TIER); /* views follow */
    struct rvm_handle stale = {a.index, a.generation + 1};
    assert_int_equal(rvm_region_touch(&f->rt, stale), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_region_epoch(&f->rt), RVM_OK);
    struct rec w = last_record(f);
    assert_int_equal(w.kind, 0x29);
    assert_int_equal(w.actor, 0);
    assert_int_equal(w.target, 0);
    assert_int_equal(w.payload, 1);
    assert_int_equal(w.aux, 1 | (1ull << 32));
    assert_int_equal(rvm_region_get(&f->rt, a)->tier.recency, 6000);
    assert_int_equal(rvm_region_get(&f->rt, a)->tier.cut, 3000);
    assert_int_equal(rvm_region_get(&f->rt, b)->tier.recency, 4750);
    assert_int_equal(rvm_region_get(&f->rt, d)->tier.recency, 5000);
    assert_int_equal(rvm_region_get(&f->rt, v)->tier.recency, 5000);
    struct rvm_region_advice adv[4];
    assert_int_equal(rvm_region_recommend(&f->rt, adv, 4), 1);
    assert_int_equal(adv[0].region.index, a.index);
    assert_int_equal(adv[0].from, RVM_TIER_WARM);
    assert_int_equal(adv[0].to, RVM_TIER_HOT);
    assert_int_equal(rvm_region_recommend(&f->rt, adv, 0), 0);
    /* Four idle epochs, worked out by hand: b 4750 -> 4512 -> 4286 -> 4071 -> 3867 (< 4000:
     * advice Dormant); a 6000 -> 5700 -> 5415 -> 5144 -> 4886, + cut 3000 = 7886 (no advice). */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rvm_region_epoch(&f->rt), RVM_OK);
    }
    assert_int_equal(rvm_region_get(&f->rt, b)->tier.recency, 3867);
    assert_int_equal(rvm_region_get(&f->rt, a)->tier.recency, 4886);
    assert_int_equal(last_record(f).payload, 5);
    assert_int_equal(last_record(f).aux, 0 | (1ull << 32)); /* none touched, one advised */
    assert_int_equal(rvm_region_recommend(&f->rt, adv, 4), 1);
    assert_int_equal(adv[0].region.index, b.index);
    assert_int_equal(adv[0].to, RVM_TIER_DORMANT);
    fx_free(f);
}

/* ---- the oracle can fail --------------------------------------------------------------------- */

static void test_check_catches_corruption(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    struct rvm_handle a = mk(f, 1, RVM_REGION_DATA, R | W, 1, 0);
    struct rvm_handle b = mk(f, 2, RVM_REGION_IMMUTABLE, R, 1, 0);
    struct rvm_handle v;
    assert_int_equal(witnessed_region_share(&f->rt, 2, b, 3, R, &v), RVM_OK);
    assert_int_equal(witnessed_region_map(&f->rt, 1, a, rvm_ipa(0x1000), R | W), RVM_OK);
    assert_int_equal(witnessed_region_map(&f->rt, 3, v, rvm_ipa(0x1000), R), RVM_OK);
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    struct rvm_region saved[SLOTS];
    memcpy(saved, f->slots, sizeof(saved));
    const uint32_t count = f->rt.count;
    struct rvm_region *sa = &f->slots[a.index], *sb = &f->slots[b.index], *sv = &f->slots[v.index];
#define PLANT(stmt)                                                                                \
    do {                                                                                           \
        stmt;                                                                                      \
        assert_int_equal(rvm_region_check(&f->rt), RVM_ERR_INTERNAL);                              \
        memcpy(f->slots, saved, sizeof(saved));                                                    \
        f->rt.count = count;                                                                       \
        assert_int_equal(rvm_region_check(&f->rt), RVM_OK);                                        \
    } while (0)
    PLANT(sa->map_perms = R | W | X);           /* W^X */
    PLANT(sa->perms = R | W | X);               /* W^X on the region */
    PLANT(sv->hpa = sa->hpa);                   /* a view of a writable page */
    PLANT(sv->perms = R | W);                   /* a writable view */
    PLANT(sb->hpa = sa->hpa);                   /* two regions on one host page */
    PLANT(sb->shares = 0);                      /* share count off */
    PLANT(sv->owner = 2);                       /* a view owned by the source's owner */
    PLANT((sa->owner = 3, sa->ipa = 0x1000));   /* guest overlap within partition 3 */
    PLANT(sa->hpa += 4096);                     /* backing not what the allocator holds */
    PLANT(sa->order = 1);                       /* wrong order */
    PLANT(sa->tier.tier = RVM_TIER_DORMANT);    /* mapped while dormant */
    PLANT(sa->tier.recency = 10001);            /* out-of-range tier state */
    PLANT(f->rt.count++);                       /* count off */
    PLANT(f->slots[SLOTS - 1].hpa = 5);         /* garbage in a free slot */
    PLANT(sa->ipa = 0x1800);                    /* unaligned mapping */
    PLANT(sv->source_generation++);             /* view of a stale source */
    PLANT((sa->mapped = 0, sa->map_perms = 0)); /* unmapped but still an ipa */
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
#undef PLANT
    fx_free(f);
}

/* ---- randomised run with a platform-side isolation oracle ------------------------------------ */

struct mapping {
    uint32_t part;
    uint64_t ipa, hpa, size;
    uint32_t perms;
};

struct world {
    struct fx *f;
    struct mapping maps[SLOTS];
    uint32_t nmaps;
    size_t seen_calls;
    struct rvm_handle handles[256]; /* every handle ever issued (live or stale) */
    uint32_t nhandles;
    uint8_t *contents[SLOTS]; /* what the test "wrote" into each RAM region, by slot */
    uint8_t *images[SLOTS];
    size_t image_len[SLOTS];
    uint32_t ok[256];       /* successful operations by action kind */
    uint32_t reconstructed; /* Dormant -> Warm with the contents checked */
    uint32_t refused;
};

/* Replay new platform calls into the mapping model. */
static void absorb_calls(struct world *wd)
{
    struct hal_recorder *rec = &wd->f->rec;
    assert_false(rec->overflowed);
    for (; wd->seen_calls < rec->ncalls; wd->seen_calls++) {
        const struct hal_call *c = &rec->calls[wd->seen_calls];
        if (c->result != RVM_OK) {
            continue;
        }
        if (c->kind == HAL_CALL_MAP) {
            assert_true(wd->nmaps < SLOTS);
            struct mapping m = {c->partition, c->ipa, c->hpa, c->size, c->perms};
            wd->maps[wd->nmaps++] = m;
        } else if (c->kind == HAL_CALL_UNMAP) {
            uint32_t i = 0;
            while (i < wd->nmaps && !(wd->maps[i].part == c->partition &&
                                      wd->maps[i].ipa == c->ipa && wd->maps[i].size == c->size)) {
                i++;
            }
            assert_true(i < wd->nmaps); /* unmap of something that is mapped */
            wd->maps[i] = wd->maps[--wd->nmaps];
        } else {
            fail_msg("unexpected platform call %d", c->kind);
        }
    }
    if (rec->ncalls > HAL_RECORDER_MAX_CALLS / 2) {
        hal_recorder_clear(rec);
        wd->seen_calls = 0;
    }
}

static bool overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
    return a < b + bn && b < a + an;
}

/* Isolation on the platform's side, and agreement with the table. */
static void platform_oracle(struct world *wd)
{
    for (uint32_t i = 0; i < wd->nmaps; i++) {
        const struct mapping *m = &wd->maps[i];
        assert_false((m->perms & W) && (m->perms & X));
        assert_true(m->perms & R);
        bool in_ram = m->hpa >= RAM_BASE && m->hpa + m->size <= RAM_BASE + RAM_PAGES * 4096ull;
        bool in_dev = m->hpa >= DEV_BASE && m->hpa + m->size <= DEV_BASE + 64 * 4096ull;
        assert_true(in_ram || in_dev);
        for (uint32_t j = i + 1; j < wd->nmaps; j++) {
            const struct mapping *n = &wd->maps[j];
            if (m->part == n->part) {
                assert_false(overlap(m->ipa, m->size, n->ipa, n->size));
            } else if (overlap(m->hpa, m->size, n->hpa, n->size)) {
                assert_false((m->perms | n->perms) & W); /* shared only read-only */
            }
        }
    }
    uint32_t mapped = 0;
    for (uint32_t s = 0; s < SLOTS; s++) {
        const struct rvm_region *r = &wd->f->slots[s];
        if (!r->used || !r->mapped) {
            continue;
        }
        mapped++;
        bool found = false;
        for (uint32_t i = 0; i < wd->nmaps && !found; i++) {
            const struct mapping *m = &wd->maps[i];
            found = m->part == r->owner && m->ipa == r->ipa && m->hpa == r->hpa &&
                    m->size == (uint64_t)r->npages * 4096 && m->perms == r->map_perms;
        }
        assert_true(found);
    }
    assert_int_equal(mapped, wd->nmaps);
    /* The allocator serves only this table here: it holds exactly the resident RAM regions'
     * blocks (npages rounded up to a power of two), so nothing leaks. */
    uint64_t held = 0;
    for (uint32_t s = 0; s < SLOTS; s++) {
        const struct rvm_region *r = &wd->f->slots[s];
        if (r->used && r->type != RVM_REGION_DEVICE && r->type != RVM_REGION_SHARED &&
            r->tier.tier <= RVM_TIER_WARM) {
            uint64_t block = 1;
            while (block < r->npages) {
                block *= 2;
            }
            held += block;
        }
    }
    assert_int_equal(held, rvm_buddy_allocated_pages(&wd->f->ram));
}

/* Mostly a live handle (chosen through the table: selection only, never an expectation),
 * sometimes a stale or made-up one. */
static struct rvm_handle pick(struct world *wd, struct test_rng *r)
{
    if (wd->nhandles == 0 || test_rng_below(r, 16) == 0) {
        struct rvm_handle h = {(uint32_t)test_rng_below(r, SLOTS + 2),
                               (uint32_t)test_rng_below(r, 4)};
        return h;
    }
    struct rvm_handle h = wd->handles[test_rng_below(r, wd->nhandles)];
    for (int tries = 0; tries < 8 && rvm_region_get(&wd->f->rt, h) == NULL; tries++) {
        h = wd->handles[test_rng_below(r, wd->nhandles)];
    }
    return h;
}

static void remember(struct world *wd, struct rvm_handle h)
{
    if (wd->nhandles < 256) {
        wd->handles[wd->nhandles++] = h;
    } else {
        wd->handles[h.index % 256] = h;
    }
}

static void random_step(struct world *wd, struct test_rng *r)
{
    struct fx *f = wd->f;
    uint32_t actor = (uint32_t)test_rng_below(r, 5);
    uint32_t part = 1 + (uint32_t)test_rng_below(r, 4);
    /* Guest slots 32 KiB apart hold the largest region (8 pages); a few odd addresses overlap. */
    static const uint64_t ipas[] = {0x0,     0x8000,  0x10000, 0x18000, 0x20000, 0x28000,
                                    0x30000, 0x38000, 0x4000,  0x3000,  0x7000};
    uint64_t ipa = ipas[test_rng_below(r, 11)];
    struct rvm_handle h = pick(wd, r);
    const struct rvm_region *cur = rvm_region_get(&f->rt, h);
    /* Permissions: usually the region's own, or a valid subset; sometimes anything. */
    uint32_t perms = (uint32_t)test_rng_below(r, 8);
    if (cur != NULL && test_rng_below(r, 4) != 0) {
        perms = cur->perms & (test_rng_below(r, 2) ? 7u : R);
    }
    uint8_t before[32], after[32];
    digest(f, before);
    uint64_t nrec = rvm_witness_count(&f->log);
    enum rvm_err err;
    uint32_t op = (uint32_t)test_rng_below(r, 100);
    bool witnessed = true;
    uint8_t kind;
    if (test_rng_below(r, 10) == 0) {
        hal_recorder_fail(&f->rec, test_rng_below(r, 2) ? HAL_CALL_MAP : HAL_CALL_UNMAP, 1,
                          RVM_ERR_HAL);
    }
    if (op < 15) {
        kind = RVM_ACT_REGION_CREATE;
        uint32_t type = 1 + (uint32_t)test_rng_below(r, 5);
        static const uint32_t good[6] = {0, R | W, R | X, R, R | W, R};
        if (test_rng_below(r, 4) != 0) {
            perms = good[type];
        }
        struct rvm_region_create_req q = {part, type, perms, 1 + (uint32_t)test_rng_below(r, 8),
                                          rvm_hpa(DEV_BASE + 4096 * test_rng_below(r, 56))};
        struct rvm_handle nh;
        err = witnessed_region_create(&f->rt, actor, &q, &nh);
        if (err == RVM_OK) {
            remember(wd, nh);
            const struct rvm_region *reg = rvm_region_get(&f->rt, nh);
            free(wd->contents[nh.index]);
            wd->contents[nh.index] = malloc((size_t)reg->npages * 4096);
            fill_contents(wd->contents[nh.index], (size_t)reg->npages * 4096,
                          (uint32_t)test_rng_next(r));
        }
    } else if (op < 23) {
        kind = RVM_ACT_REGION_DESTROY;
        err = witnessed_region_destroy(&f->rt, actor, h);
    } else if (op < 40) {
        kind = RVM_ACT_REGION_MAP;
        err = witnessed_region_map(&f->rt, actor, h, rvm_ipa(ipa), perms);
    } else if (op < 50) {
        kind = RVM_ACT_REGION_UNMAP;
        err = witnessed_region_unmap(&f->rt, actor, h);
    } else if (op < 58) {
        kind = RVM_ACT_REGION_SHARE;
        struct rvm_handle nh;
        err = witnessed_region_share(&f->rt, actor, h, part, perms & (R | X), &nh);
        if (err == RVM_OK) {
            remember(wd, nh);
        }
    } else if (op < 63) {
        kind = RVM_ACT_REGION_UNSHARE;
        err = witnessed_region_unshare(&f->rt, actor, h);
    } else if (op < 68) {
        kind = RVM_ACT_REGION_TRANSFER;
        err = witnessed_region_transfer(&f->rt, actor, h, part);
    } else if (op < 85) {
        const struct rvm_region *reg = cur;
        uint32_t target = (uint32_t)test_rng_below(r, 4);
        if (reg != NULL && test_rng_below(r, 4) != 0) { /* usually one step, up or down */
            target = reg->tier.tier == 0 ? 1 : reg->tier.tier + (test_rng_below(r, 2) ? 1u : -1u);
        }
        kind =
            reg != NULL && target < reg->tier.tier ? RVM_ACT_REGION_PROMOTE : RVM_ACT_REGION_DEMOTE;
        static uint8_t out[8 * 4096], img[RVM_COMPRESS_BOUND(8 * 4096)];
        struct rvm_region_tier_io io = {NULL, &f->work,    img,   sizeof(img), 0,
                                        out,  sizeof(out), false, false};
        uint32_t s = h.index < SLOTS ? h.index : 0;
        bool from_dormant = reg != NULL && reg->tier.tier >= RVM_TIER_DORMANT;
        if (reg != NULL && !from_dormant) {
            io.contents = wd->contents[s];
        } else if (from_dormant && wd->images[s] != NULL) {
            memcpy(img, wd->images[s], wd->image_len[s]);
            io.image_len = wd->image_len[s];
            if (test_rng_below(r, 8) == 0) {
                img[test_rng_below(r, io.image_len)] ^= (uint8_t)(1u << test_rng_below(r, 8));
            }
        }
        err = witnessed_region_move(&f->rt, actor, h, target, &io);
        if (err == RVM_OK && reg != NULL) {
            if (target == RVM_TIER_DORMANT && !from_dormant) {
                free(wd->images[s]);
                wd->images[s] = malloc(io.image_len);
                memcpy(wd->images[s], img, io.image_len);
                wd->image_len[s] = io.image_len;
            } else if (target == RVM_TIER_WARM && from_dormant) {
                assert_memory_equal(out, wd->contents[s], (size_t)reg->npages * 4096);
                wd->reconstructed++;
            }
        }
    } else if (op < 93) {
        witnessed = false;
        kind = 0;
        err = test_rng_below(r, 2)
                  ? rvm_region_touch(&f->rt, h)
                  : rvm_region_set_cut(
                        &f->rt, h,
                        test_rng_below(r, 8) == 0 ? 10001 : (uint32_t)test_rng_below(r, 10001));
    } else {
        kind = RVM_ACT_REGION_TIER_EPOCH;
        err = rvm_region_epoch(&f->rt);
    }
    hal_recorder_fail(&f->rec, HAL_CALL_MAP, 0, RVM_OK);
    hal_recorder_fail(&f->rec, HAL_CALL_UNMAP, 0, RVM_OK);
    digest(f, after);
    if (err == RVM_OK) {
        wd->ok[kind]++;
    } else {
        wd->refused++;
    }
    if (err != RVM_OK) {
        assert_memory_equal(before, after, 32); /* no witness, no mutation */
        if (witnessed) {
            assert_int_equal(rvm_witness_count(&f->log), nrec + 1);
            assert_rejected(f, kind, err);
        }
    } else if (witnessed) {
        assert_int_equal(rvm_witness_count(&f->log), nrec + 1);
        assert_int_equal(last_record(f).kind, kind);
        assert_memory_not_equal(before, after, 32); /* the digest sees every change */
    } else {
        assert_int_equal(rvm_witness_count(&f->log), nrec);
    }
    absorb_calls(wd);
    platform_oracle(wd);
    assert_int_equal(rvm_region_check(&f->rt), RVM_OK);
    assert_int_equal(rvm_buddy_check(&f->ram), RVM_OK);
}

static void test_random_isolation(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("region_random_isolation", 0x5EED));
    for (int run = 0; run < 6; run++) {
        struct world *wd = calloc(1, sizeof(*wd));
        wd->f = fx_new(true);
        for (int step = 0; step < 2500; step++) {
            random_step(wd, &r);
        }
        print_message("# run %d: ok create %u map %u unmap %u share %u unshare %u transfer %u "
                      "destroy %u promote %u demote %u epoch %u; reconstructed %u; refused %u\n",
                      run, wd->ok[RVM_ACT_REGION_CREATE], wd->ok[RVM_ACT_REGION_MAP],
                      wd->ok[RVM_ACT_REGION_UNMAP], wd->ok[RVM_ACT_REGION_SHARE],
                      wd->ok[RVM_ACT_REGION_UNSHARE], wd->ok[RVM_ACT_REGION_TRANSFER],
                      wd->ok[RVM_ACT_REGION_DESTROY], wd->ok[RVM_ACT_REGION_PROMOTE],
                      wd->ok[RVM_ACT_REGION_DEMOTE], wd->ok[RVM_ACT_REGION_TIER_EPOCH],
                      wd->reconstructed, wd->refused);
        for (uint32_t s = 0; s < SLOTS; s++) {
            free(wd->contents[s]);
            free(wd->images[s]);
        }
        fx_free(wd->f);
        free(wd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_refusals),
        cmocka_unit_test(test_create_record_and_backing),
        cmocka_unit_test(test_perms_by_type),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_map_unmap),
        cmocka_unit_test(test_hal_refusal_leaves_nothing),
        cmocka_unit_test(test_witness_full_changes_nothing),
        cmocka_unit_test(test_share_read_only),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_tier_moves),
        cmocka_unit_test(test_reconstruct_needs_memory),
        cmocka_unit_test(test_epoch_and_recommend),
        cmocka_unit_test(test_check_catches_corruption),
        cmocka_unit_test(test_random_isolation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
