/* SPDX-License-Identifier: MIT */
/*
 * VMSAv8-64 stage-2 tables, walker and TLB model (platform/aarch64, sim/tlb).
 *
 * Expected values come from the Arm ARM (DDI 0487), computed by hand here, never from the code:
 *   VTCR_EL2: T0SZ [5:0], SL0 [7:6], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14],
 *             PS [18:16], bit 31 RES1.   VTTBR_EL2: VMID [55:48] (8-bit VMID), BADDR [47:1].
 *   Stage-2 block/page descriptor: bits [1:0] = 01 block (levels 1-2) / 11 page (level 3),
 *             MemAttr [5:2], S2AP [7:6] (bit 6 read, bit 7 write), SH [9:8], AF [10],
 *             output address [47:12] (page) / [47:21] (2 MiB) / [47:30] (1 GiB), XN [54].
 *   Table descriptor: bits [1:0] = 11, next-level table address [47:12].
 *   ESR_EL2: EC [31:26] (0x24 data abort, 0x20 instruction abort, from a lower EL), IL [25],
 *             WnR [6], DFSC/IFSC [5:0]: 0b0000LL address size, 0b0001LL translation,
 *             0b0010LL access flag, 0b0011LL permission, 0b0101LL external abort on walk.
 *   QEMU 7.2 (shared/notes/qemu.md): VTCR_EL2 0x80003560 worked for a 32-bit IPA; a store to
 *             the unmapped IPA 0x44000000 gave ESR_EL2 0x93820046 and HPFAR_EL2 0x440000.
 * The random tests compare the walker against a per-page permission map kept by the test.
 */
#include "test_support.h"

#include "a64_stage2.h"
#include "a64_tlb.h"

#include "rvm/crypto_portable.h"
#include "rvm/sha256.h"

#define POOL_BASE 0x40000000ull
#define GiB       (1ull << 30)
#define MiB       (1ull << 20)
#define KiB4      4096ull
#define R         RVM_PERM_R
#define W         RVM_PERM_W
#define X         RVM_PERM_X

struct pool_fx {
    struct rvm_a64_pool pool;
    uint64_t (*pages)[512];
    struct rvm_a64_page_info *info;
    uint32_t npages;
};

static struct pool_fx *pool_new(uint32_t npages)
{
    struct pool_fx *f = calloc(1, sizeof(*f));
    f->pages = aligned_alloc(4096, (size_t)npages * 4096);
    f->info = calloc(npages, sizeof(*f->info));
    f->npages = npages;
    assert_int_equal(rvm_a64_pool_init(&f->pool, f->pages, f->info, npages, POOL_BASE), RVM_OK);
    return f;
}

static void pool_free(struct pool_fx *f)
{
    free(f->pages);
    free(f->info);
    free(f);
}

/* Raw descriptor of `ipa` at `level`, following table descriptors by hand (no walker). */
static uint64_t raw_desc(const struct pool_fx *f, const struct rvm_a64_space *s, uint64_t ipa,
                         unsigned level)
{
    uint64_t table_pa = POOL_BASE + (uint64_t)s->root * 4096;
    for (unsigned l = 1; l <= 3; l++) {
        uint64_t *t = f->pages[(table_pa - POOL_BASE) / 4096];
        unsigned shift = 12 + 9 * (3 - l);
        uint64_t d = t[(ipa >> shift) & 511];
        if (l == level) {
            return d;
        }
        assert_int_equal(d & 3, 3); /* must be a table on the way down */
        table_pa = d & 0x0000FFFFFFFFF000ull;
    }
    fail();
    return 0;
}

static void test_vtcr_and_vttbr_values(void **state)
{
    (void)state;
    /* RES1 | PS=0b010 (40-bit PA) | SH0=0b11 | ORGN0=0b01 | IRGN0=0b01 | SL0=1 | T0SZ=25 */
    uint64_t want =
        0x80000000ull | 2ull << 16 | 3ull << 12 | 1ull << 10 | 1ull << 8 | 1ull << 6 | 25ull;
    assert_int_equal(want, 0x80023559ull);
    assert_int_equal(RVM_A64_VTCR_VALUE, want);
    /* QEMU's working value differs only in T0SZ (32) and PS (0): same granule, SL0, cacheability,
     * shareability and RES1 bit. */
    uint64_t same = ~(0x3Full | 7ull << 16);
    assert_int_equal(RVM_A64_VTCR_VALUE & same, 0x80003560ull & same);

    struct pool_fx *f = pool_new(4);
    struct rvm_a64_space a, b;
    assert_int_equal(rvm_a64_space_init(&f->pool, &a), RVM_OK);
    assert_int_equal(rvm_a64_space_init(&f->pool, &b), RVM_OK);
    /* Pages are handed out in order: roots at 0x40000000 and 0x40001000. */
    assert_int_equal(rvm_a64_vttbr(&f->pool, &a, 0x5A), 0x005A000040000000ull);
    assert_int_equal(rvm_a64_vttbr(&f->pool, &b, 0xFF), 0x00FF000040001000ull);
    pool_free(f);
}

static void test_descriptor_encodings(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(16);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);

    /* 4 KiB pages at level 3. */
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80001000, 0x48203000, KiB4, R | W, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80002000, 0x48204000, KiB4, R | X, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0x80003000, 0x48205000, KiB4, X, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0x80004000, 0x48206000, KiB4, R, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    /* PA | XN(1<<54) | AF 0x400 | SH=11 0x300 | S2AP=11 0xC0 | MemAttr=1111 0x3C | page 0b11 */
    assert_int_equal(raw_desc(f, &s, 0x80001000, 3), 0x00400000482037FFull);
    /* S2AP=01 0x40, executable */
    assert_int_equal(raw_desc(f, &s, 0x80002000, 3), 0x000000004820477Full);
    /* S2AP=00: execute-only */
    assert_int_equal(raw_desc(f, &s, 0x80003000, 3), 0x000000004820573Full);
    assert_int_equal(raw_desc(f, &s, 0x80004000, 3), 0x004000004820677Full);

    /* A 2 MiB block at level 2 (type 0b01) and a 1 GiB block at level 1. */
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80200000, 0x48400000, 2 * MiB, R | W, RVM_A64_MEM_NORMAL),
        RVM_OK);
    assert_int_equal(raw_desc(f, &s, 0x80200000, 2), 0x00400000484007FDull);
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0x40000000, 0xC0000000, GiB, R, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    assert_int_equal(raw_desc(f, &s, 0x40000000, 1), 0x00400000C000077Dull);

    /* Table descriptors: 0b11 and a 4 KiB aligned pool address, no attribute bits. */
    uint64_t l1 = raw_desc(f, &s, 0x80001000, 1);
    assert_int_equal(l1 & 0xFFF, 3);
    assert_int_equal(l1 >> 48, 0);
    assert_true((l1 & 0xFFFFFFFFF000ull) >= POOL_BASE &&
                (l1 & 0xFFFFFFFFF000ull) < POOL_BASE + 16 * 4096);

    /* Device-nGnRE: MemAttr 0b0001, SH 00, always XN here. */
    assert_int_equal(rvm_a64_leaf_attrs(R | W, RVM_A64_MEM_DEVICE), 0x00400000000004C4ull);
    /* Same PA for a misaligned pair gets pages, not blocks: IPA 2 MiB aligned, PA not. */
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80400000, 0x48601000, 2 * MiB, R, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(raw_desc(f, &s, 0x80400000, 3), 0x004000004860177Full);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    pool_free(f);
}

static struct rvm_a64_walk walk(const struct pool_fx *f, const struct rvm_a64_space *s,
                                uint64_t ipa, enum rvm_a64_access a, enum rvm_err want)
{
    struct rvm_a64_walk w;
    assert_int_equal(rvm_a64_walk(&f->pool, rvm_a64_vttbr(&f->pool, s, 1), ipa, a, &w), want);
    return w;
}

static void test_fault_codes(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(16);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);

    /* Nothing mapped: translation fault at level 1 (DFSC 0b000101). */
    struct rvm_a64_walk w = walk(f, &s, 0, RVM_A64_READ, RVM_ERR_GUEST_FAULT);
    assert_int_equal(w.fsc, 0x05);
    assert_int_equal(w.level, 1);
    assert_int_equal(rvm_a64_esr(&w, RVM_A64_READ), 0x92000005u);
    /* Beyond the 39-bit IPA space: translation fault, level 0 (0b000100). */
    w = walk(f, &s, 1ull << 39, RVM_A64_READ, RVM_ERR_GUEST_FAULT);
    assert_int_equal(w.fsc, 0x04);
    w = walk(f, &s, UINT64_MAX, RVM_A64_WRITE, RVM_ERR_GUEST_FAULT);
    assert_int_equal(w.fsc, 0x04);

    assert_int_equal(rvm_a64_map(&f->pool, &s, 0x80001000, 0x48203000, KiB4, R, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    w = walk(f, &s, 0x80001234, RVM_A64_READ, RVM_OK);
    assert_int_equal(w.oa, 0x48203234ull);
    assert_int_equal(w.level, 3);
    /* Same level-3 table, next page: level 3 (0b000111); same 1 GiB, other 2 MiB: level 2. */
    assert_int_equal(walk(f, &s, 0x80002000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x07);
    assert_int_equal(walk(f, &s, 0x80400000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x06);
    assert_int_equal(walk(f, &s, 0xC0000000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x05);
    /* Write to read-only: permission fault level 3 (0b001111), WnR set. */
    w = walk(f, &s, 0x80001000, RVM_A64_WRITE, RVM_ERR_GUEST_FAULT);
    assert_int_equal(w.fsc, 0x0F);
    assert_int_equal(rvm_a64_esr(&w, RVM_A64_WRITE), 0x9200004Fu);
    /* Fetch from XN: instruction abort, EC 0x20, IFSC permission level 3, no WnR. */
    w = walk(f, &s, 0x80001000, RVM_A64_EXEC, RVM_ERR_GUEST_FAULT);
    assert_int_equal(rvm_a64_esr(&w, RVM_A64_EXEC), 0x8200000Fu);

    /* Read-only blocks: permission faults at levels 2 (0b001110) and 1 (0b001101). */
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80200000, 0x48400000, 2 * MiB, R, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x40000000, 0xC0000000, GiB, R | X, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(walk(f, &s, 0x80234000, RVM_A64_WRITE, RVM_ERR_GUEST_FAULT).fsc, 0x0E);
    assert_int_equal(walk(f, &s, 0x40000008, RVM_A64_WRITE, RVM_ERR_GUEST_FAULT).fsc, 0x0D);
    w = walk(f, &s, 0x7FFFFFF8, RVM_A64_EXEC, RVM_OK);
    assert_int_equal(w.oa, 0xFFFFFFF8ull);
    assert_int_equal(w.level, 1);

    /* Access flag clear: 0b001011 at level 3, 0b001010 at level 2. */
    uint64_t *l3 = &f->pages[(raw_desc(f, &s, 0x80001000, 2) & 0xFFFFFFFFF000ull) / 4096 -
                             POOL_BASE / 4096][1];
    *l3 &= ~(1ull << 10);
    assert_int_equal(walk(f, &s, 0x80001000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x0B);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    *l3 |= 1ull << 10;
    /* Output address beyond the 40-bit PA: address size fault at the leaf's level (0b000011). */
    *l3 |= 1ull << 40;
    assert_int_equal(walk(f, &s, 0x80001000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x03);
    *l3 &= ~(1ull << 40);
    /* Level-3 descriptor of type 0b01 is reserved: translation fault level 3. */
    *l3 &= ~2ull;
    assert_int_equal(walk(f, &s, 0x80001000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x07);
    *l3 |= 2ull;
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);

    /* Table address outside the pool: external abort on the walk fetching level 2 (0b010110);
     * table address beyond the PA size: address size fault at level 1 (0b000001). */
    uint64_t *l1 = &f->pages[s.root][2];
    uint64_t saved = *l1;
    *l1 = 0x00000000DEAD0003ull;
    assert_int_equal(walk(f, &s, 0x80001000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x16);
    *l1 = saved | 1ull << 41;
    assert_int_equal(walk(f, &s, 0x80001000, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x01);
    *l1 = saved;
    /* VTTBR base beyond the PA size: address size fault level 0. */
    struct rvm_a64_walk w2;
    assert_int_equal(rvm_a64_walk(&f->pool, 1ull << 44, 0, RVM_A64_READ, &w2), RVM_ERR_GUEST_FAULT);
    assert_int_equal(w2.fsc, 0x00);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    pool_free(f);
}

static void test_matches_qemu_observation(void **state)
{
    (void)state;
    /* QEMU: guest store to unmapped IPA 0x44000000 with the level-1 entry pointing to a table
     * and the level-2 entry invalid -> ESR_EL2 0x93820046, HPFAR_EL2 0x440000. We do not model
     * the instruction syndrome (ISV [24], SAS [23:22], SSE [21], SRT [20:16], SF [15], AR [14]). */
    struct pool_fx *f = pool_new(8);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x40000000, 0x40000000, 2 * MiB, R | X, RVM_A64_MEM_NORMAL),
        RVM_OK);
    struct rvm_a64_walk w = walk(f, &s, 0x44000000, RVM_A64_WRITE, RVM_ERR_GUEST_FAULT);
    assert_int_equal(rvm_a64_esr(&w, RVM_A64_WRITE), 0x93820046u & ~0x01FFC000u);
    assert_int_equal(rvm_a64_hpfar(0x44000000), 0x440000ull);
    pool_free(f);
}

static void test_argument_validation(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(8);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    struct rvm_a64_pool *p = &f->pool;
    const enum rvm_a64_memtype n = RVM_A64_MEM_NORMAL;
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2000, 0, R, n), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1001, 0x2000, KiB4, R, n), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2800, KiB4, R, n), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2000, 0x1800, R, n), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2000, KiB4, 0, n), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2000, KiB4, 8, n), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0x1000, 0x2000, KiB4, R, 7), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_map(p, &s, 0xFFFFFFFFFFFFF000ull, 0, 2 * KiB4, R, n),
                     RVM_ERR_OVERFLOW);
    assert_int_equal(rvm_a64_map(p, &s, 0, 0xFFFFFFFFFFFFF000ull, 2 * KiB4, R, n),
                     RVM_ERR_OVERFLOW);
    assert_int_equal(rvm_a64_map(p, &s, (1ull << 39) - KiB4, 0, 2 * KiB4, R, n),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_a64_map(p, &s, 0, (1ull << 40) - KiB4, 2 * KiB4, R, n),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_a64_map(p, &s, (1ull << 39) - KiB4, (1ull << 40) - KiB4, KiB4, R, n),
                     RVM_OK);
    assert_int_equal(rvm_a64_unmap(p, &s, 0x1000, KiB4), RVM_ERR_NOT_FOUND);
    assert_int_equal(rvm_a64_unmap(p, &s, 0x1000, 0), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_unmap(p, &s, 0xFFFFFFFFFFFFF000ull, 2 * KiB4), RVM_ERR_OVERFLOW);
    struct rvm_a64_space bad = {RVM_A64_NONE};
    assert_int_equal(rvm_a64_map(p, &bad, 0, 0, KiB4, R, n), RVM_ERR_INVALID_ARGUMENT);
    bad.root = 5; /* a free page, not a root */
    assert_int_equal(rvm_a64_map(p, &bad, 0, 0, KiB4, R, n), RVM_ERR_INVALID_ARGUMENT);

    struct rvm_a64_pool q;
    assert_int_equal(rvm_a64_pool_init(&q, f->pages, f->info, 0, POOL_BASE),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_a64_pool_init(&q, f->pages, f->info, 1, POOL_BASE + 8), RVM_ERR_ALIGNMENT);
    assert_int_equal(rvm_a64_pool_init(&q, f->pages, f->info, 2, (1ull << 40) - KiB4),
                     RVM_ERR_OUT_OF_RANGE);
    pool_free(f);
}

static void snapshot(const struct pool_fx *f, uint8_t *buf)
{
    memcpy(buf, f->pages, (size_t)f->npages * 4096);
    memcpy(buf + (size_t)f->npages * 4096, f->info, f->npages * sizeof(*f->info));
    memcpy(buf + (size_t)f->npages * (4096 + sizeof(*f->info)), &f->pool, sizeof(f->pool));
}

static size_t snapshot_size(const struct pool_fx *f)
{
    return (size_t)f->npages * (4096 + sizeof(*f->info)) + sizeof(f->pool);
}

static void test_exhaustion_changes_nothing(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(3);
    uint8_t *before = malloc(snapshot_size(f));
    uint8_t *after = malloc(snapshot_size(f));
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    /* One page needs a level-2 and a level-3 table: the pool is now empty. */
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0, 0x48000000, KiB4, R, RVM_A64_MEM_NORMAL), RVM_OK);
    assert_int_equal(f->pool.nfree, 0);
    snapshot(f, before);
    /* A page in another GiB, and a range that crosses into one, need new tables. */
    assert_int_equal(rvm_a64_map(&f->pool, &s, GiB, 0x48000000, KiB4, R, RVM_A64_MEM_NORMAL),
                     RVM_ERR_NO_SPACE);
    assert_int_equal(rvm_a64_map(&f->pool, &s, KiB4, 0x48001000, GiB, R, RVM_A64_MEM_NORMAL),
                     RVM_ERR_NO_SPACE);
    snapshot(f, after);
    assert_memory_equal(before, after, snapshot_size(f));
    /* A page in the existing level-3 table needs none. */
    assert_int_equal(rvm_a64_map(&f->pool, &s, KiB4, 0x48001000, KiB4, R, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    /* Unmapping everything returns both tables. */
    assert_int_equal(rvm_a64_unmap(&f->pool, &s, 0, 2 * KiB4), RVM_OK);
    assert_int_equal(f->pool.nfree, 2);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);

    /* Splitting a 1 GiB block to unmap one page needs a level-2 and a level-3 table. */
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0, 0x80000000, GiB, R | W, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    assert_int_equal(f->pool.nfree, 2);
    struct rvm_a64_space other;
    assert_int_equal(rvm_a64_space_init(&f->pool, &other), RVM_OK); /* leave one page */
    snapshot(f, before);
    assert_int_equal(rvm_a64_unmap(&f->pool, &s, 0, KiB4), RVM_ERR_NO_SPACE);
    snapshot(f, after);
    assert_memory_equal(before, after, snapshot_size(f));
    rvm_a64_space_destroy(&f->pool, &other);
    assert_int_equal(rvm_a64_unmap(&f->pool, &s, 0, KiB4), RVM_OK);
    assert_int_equal(f->pool.nfree, 0);
    assert_int_equal(walk(f, &s, 0, RVM_A64_READ, RVM_ERR_GUEST_FAULT).fsc, 0x07);
    struct rvm_a64_walk w = walk(f, &s, KiB4 + 8, RVM_A64_WRITE, RVM_OK);
    assert_int_equal(w.oa, 0x80001008ull);
    assert_int_equal(w.level, 3);
    w = walk(f, &s, 2 * MiB, RVM_A64_READ, RVM_OK);
    assert_int_equal(w.oa, 0x80200000ull);
    assert_int_equal(w.level, 2);
    assert_int_equal(raw_desc(f, &s, 2 * MiB, 2), 0x00400000802007FDull);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    /* Unmapping the rest of the GiB empties and returns both split tables. */
    assert_int_equal(rvm_a64_unmap(&f->pool, &s, KiB4, GiB - KiB4), RVM_OK);
    assert_int_equal(f->pool.nfree, 2);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    rvm_a64_space_destroy(&f->pool, &s);
    assert_int_equal(f->pool.nfree, 3);
    free(before);
    free(after);
    pool_free(f);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(8);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80001000, 0x48000000, 3 * KiB4, R | W, RVM_A64_MEM_NORMAL),
        RVM_OK);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    uint32_t l3 =
        (uint32_t)((raw_desc(f, &s, 0x80001000, 2) & 0xFFFFFFFFF000ull) - POOL_BASE) / 4096;

    f->info[l3].live++;
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    f->info[l3].live--;

    uint64_t saved = f->pages[l3][1];
    f->pages[l3][1] |= 1ull << 55; /* software bit */
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    f->pages[l3][1] = saved;

    uint32_t head = f->pool.free_head;
    f->info[head].link = head; /* free list cycle */
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    f->info[head].link = head + 1;

    f->pool.nfree--;
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    f->pool.nfree++;

    uint64_t l1 = f->pages[s.root][2];
    f->pages[s.root][3] = l1; /* a second reference to the same level-2 table */
    f->info[s.root].live++;
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_ERR_CORRUPT);
    f->pages[s.root][3] = 0;
    f->info[s.root].live--;
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    pool_free(f);
}

static void space_digest(const struct pool_fx *f, const struct rvm_a64_space *s, uint8_t out[32])
{
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, &crypto);
    rvm_a64_space_hash(&f->pool, s, &ctx);
    rvm_sha256_final(&ctx, out);
}

static void test_hash_is_canonical(void **state)
{
    (void)state;
    struct pool_fx *a = pool_new(16), *b = pool_new(16);
    struct rvm_a64_space sa, sb, filler;
    assert_int_equal(rvm_a64_space_init(&a->pool, &sa), RVM_OK);
    assert_int_equal(rvm_a64_space_init(&b->pool, &filler), RVM_OK); /* shift b's pages */
    assert_int_equal(rvm_a64_space_init(&b->pool, &sb), RVM_OK);
    const enum rvm_a64_memtype n = RVM_A64_MEM_NORMAL;
    assert_int_equal(rvm_a64_map(&a->pool, &sa, 0x1000, 0x48001000, KiB4, R, n), RVM_OK);
    assert_int_equal(rvm_a64_map(&a->pool, &sa, GiB, 0x80000000, 2 * MiB, R | W, n), RVM_OK);
    assert_int_equal(rvm_a64_map(&b->pool, &sb, GiB, 0x80000000, 2 * MiB, R | W, n), RVM_OK);
    assert_int_equal(rvm_a64_map(&b->pool, &sb, 0x1000, 0x48001000, KiB4, R, n), RVM_OK);
    uint8_t da[32], db[32];
    space_digest(a, &sa, da);
    space_digest(b, &sb, db);
    assert_memory_equal(da, db, 32);
    assert_int_equal(rvm_a64_unmap(&b->pool, &sb, 0x1000, KiB4), RVM_OK);
    assert_int_equal(rvm_a64_map(&b->pool, &sb, 0x1000, 0x48001000, KiB4, R | X, n), RVM_OK);
    space_digest(b, &sb, db);
    assert_memory_not_equal(da, db, 32);
    pool_free(a);
    pool_free(b);
}

/* ---- randomised comparison with a per-page model -------------------------------------------- */

#define WIN_PAGES (1u << 20) /* model window: IPA [0, 4 GiB) */
#define PA_BASE   (1ull << 32)

struct model {
    uint32_t *pa_page; /* output page number + 1; 0 = unmapped */
    uint8_t *perms;
    uint64_t mapped;
};

static bool model_any(const struct model *m, uint64_t first, uint64_t n, bool mapped)
{
    for (uint64_t i = 0; i < n; i++) {
        if ((m->pa_page[first + i] != 0) == mapped) {
            return true;
        }
    }
    return false;
}

#define HOT_FIRST (1u << 18) + 5000 /* small ranges cluster in 64 MiB from here (32 L3 tables) */
#define HOT_PAGES (1u << 14)

/* A random range: mostly small and page aligned, sometimes 2 MiB / 1 GiB aligned blocks. */
static void random_range(struct test_rng *rng, uint64_t *ipa, uint64_t *pa, uint64_t *size)
{
    uint64_t kind = test_rng_below(rng, 100);
    uint64_t pages, align;
    if (kind < 60) {
        pages = 1 + test_rng_below(rng, 40);
        align = 1;
    } else if (kind < 85) {
        pages = 512 * (1 + test_rng_below(rng, 3)) + (test_rng_below(rng, 2) ? 0 : 3);
        align = 512;
    } else if (kind < 93) {
        pages = 1u << 18;
        align = 1u << 18;
    } else {
        pages = 1 + test_rng_below(rng, 3000);
        align = 1;
    }
    uint64_t first = test_rng_below(rng, (WIN_PAGES - pages) / align + 1) * align;
    if (align == 1 && test_rng_below(rng, 10) < 8) {
        first = HOT_FIRST + test_rng_below(rng, HOT_PAGES - pages);
    }
    if (align > 1 && test_rng_below(rng, 4) == 0) {
        first += 1 + test_rng_below(rng, 7); /* misalign the IPA */
        if (first + pages > WIN_PAGES) {
            first -= 8;
        }
    }
    uint64_t pa_first = test_rng_below(rng, (WIN_PAGES - pages) / align + 1) * align;
    if (test_rng_below(rng, 5) == 0) {
        pa_first = (pa_first + 1) % (WIN_PAGES - pages); /* misalign the PA */
    }
    *ipa = first * KiB4;
    *pa = PA_BASE + pa_first * KiB4;
    *size = pages * KiB4;
}

static void check_access(const struct pool_fx *f, const struct rvm_a64_space *s,
                         const struct model *m, uint64_t page, enum rvm_a64_access a, uint64_t seed)
{
    struct rvm_a64_walk w;
    uint64_t ipa = page * KiB4 + (page * 8 % 4096);
    enum rvm_err err = rvm_a64_walk(&f->pool, rvm_a64_vttbr(&f->pool, s, 3), ipa, a, &w);
    if (m->pa_page[page] == 0) {
        if (err != RVM_ERR_GUEST_FAULT || w.kind != RVM_A64_FAULT_TRANSLATION || w.level < 1) {
            fail_msg("seed %llu: ipa %#llx unmapped but walk gave %d kind %d",
                     (unsigned long long)seed, (unsigned long long)ipa, err, w.kind);
        }
        return;
    }
    uint32_t perms = m->perms[page];
    bool ok = a == RVM_A64_READ ? (perms & R) : a == RVM_A64_WRITE ? (perms & W) : (perms & X);
    if (!ok) {
        if (err != RVM_ERR_GUEST_FAULT || w.kind != RVM_A64_FAULT_PERMISSION ||
            w.fsc != 0x0C + w.level) {
            fail_msg("seed %llu: ipa %#llx perms %u access %d: want permission fault, got %d",
                     (unsigned long long)seed, (unsigned long long)ipa, perms, a, err);
        }
        return;
    }
    uint64_t want = (uint64_t)(m->pa_page[page] - 1) * KiB4 + (ipa & 4095);
    if (err != RVM_OK || w.oa != want) {
        fail_msg("seed %llu: ipa %#llx: want oa %#llx, got err %d oa %#llx",
                 (unsigned long long)seed, (unsigned long long)ipa, (unsigned long long)want, err,
                 (unsigned long long)w.oa);
    }
}

/* Every leaf, enumerated by next_leaf, agrees with the model and covers exactly its pages. */
static void check_leaves(const struct pool_fx *f, const struct rvm_a64_space *s,
                         const struct model *m)
{
    struct rvm_a64_leaf leaf;
    uint64_t from = 0, pages = 0;
    while (rvm_a64_space_next_leaf(&f->pool, s, from, &leaf)) {
        assert_true(leaf.ipa >= from);
        for (uint64_t i = 0; i < leaf.size / KiB4; i++) {
            uint64_t pg = leaf.ipa / KiB4 + i;
            assert_true(pg < WIN_PAGES);
            assert_int_equal(m->pa_page[pg], leaf.oa / KiB4 + i + 1);
            assert_int_equal(m->perms[pg], leaf.perms);
        }
        pages += leaf.size / KiB4;
        from = leaf.ipa + leaf.size;
    }
    assert_int_equal(pages, m->mapped);
    /* Batches of three give the same leaves in the same order as next_leaf, one at a time. */
    struct rvm_a64_leaf batch[3];
    from = 0;
    uint32_t n = 0;
    assert_int_equal(rvm_a64_space_leaves(&f->pool, s, 0, batch, 0), 0);
    while ((n = rvm_a64_space_leaves(&f->pool, s, from, batch, 3)) != 0) {
        for (uint32_t i = 0; i < n; i++) {
            assert_true(rvm_a64_space_next_leaf(&f->pool, s, from, &leaf));
            assert_int_equal(batch[i].ipa, leaf.ipa);
            assert_int_equal(batch[i].size, leaf.size);
            assert_int_equal(batch[i].desc, leaf.desc);
            from = leaf.ipa + leaf.size;
        }
        if (n < 3) {
            assert_false(rvm_a64_space_next_leaf(&f->pool, s, from, &leaf));
        }
    }
}

static void test_random_against_page_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("a64_random_against_page_model", 0xA64);
    struct test_rng rng = test_rng_new(seed);
    struct pool_fx *f = pool_new(64);
    uint8_t *before = malloc(snapshot_size(f));
    uint8_t *after = malloc(snapshot_size(f));
    struct model m = {calloc(WIN_PAGES, 4), calloc(WIN_PAGES, 1), 0};
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    unsigned counts[4] = {0}; /* ok map, ok unmap, no space, refused */
    enum { HIST = 256 };
    uint64_t hist_ipa[HIST], hist_size[HIST]; /* recent successful maps, for targeted unmaps */
    unsigned nhist = 0, hist_next = 0;
    for (int op = 0; op < 2500; op++) {
        uint64_t ipa, pa, size;
        random_range(&rng, &ipa, &pa, &size);
        uint64_t first = ipa / KiB4, n = size / KiB4;
        snapshot(f, before);
        bool do_map = test_rng_below(&rng, 100) < 55;
        if (do_map) {
            uint32_t perms = 1 + (uint32_t)test_rng_below(&rng, 7);
            enum rvm_err err = rvm_a64_map(&f->pool, &s, ipa, pa, size, perms, RVM_A64_MEM_NORMAL);
            if (model_any(&m, first, n, true)) {
                assert_int_equal(err, RVM_ERR_OVERLAP);
            } else if (err == RVM_OK) {
                for (uint64_t i = 0; i < n; i++) {
                    m.pa_page[first + i] = (uint32_t)(pa / KiB4 + i + 1);
                    m.perms[first + i] = (uint8_t)perms;
                }
                m.mapped += n;
                counts[0]++;
                hist_ipa[hist_next % HIST] = ipa;
                hist_size[hist_next % HIST] = size;
                hist_next++;
                nhist = hist_next < HIST ? hist_next : HIST;
            } else {
                assert_int_equal(err, RVM_ERR_NO_SPACE);
                counts[2]++;
            }
            if (err != RVM_OK) {
                counts[3]++;
                snapshot(f, after);
                assert_memory_equal(before, after, snapshot_size(f));
            }
        } else {
            /* Unmap: mostly all or part of a range mapped earlier (splitting blocks). */
            if (nhist > 0 && test_rng_below(&rng, 4) != 0) {
                unsigned h = (unsigned)test_rng_below(&rng, nhist);
                uint64_t hp = hist_size[h] / KiB4;
                uint64_t skip = test_rng_below(&rng, 3) == 0 ? test_rng_below(&rng, hp) : 0;
                first = hist_ipa[h] / KiB4 + skip;
                n = test_rng_below(&rng, 2) ? hp - skip : 1 + test_rng_below(&rng, hp - skip);
                ipa = first * KiB4;
                size = n * KiB4;
            }
            enum rvm_err err = rvm_a64_unmap(&f->pool, &s, ipa, size);
            if (model_any(&m, first, n, false)) {
                assert_int_equal(err, RVM_ERR_NOT_FOUND);
            } else if (err == RVM_OK) {
                memset(&m.pa_page[first], 0, n * 4);
                memset(&m.perms[first], 0, n);
                m.mapped -= n;
                counts[1]++;
            } else {
                assert_int_equal(err, RVM_ERR_NO_SPACE);
                counts[2]++;
            }
            if (err != RVM_OK) {
                counts[3]++;
                snapshot(f, after);
                assert_memory_equal(before, after, snapshot_size(f));
            }
        }
        assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
        for (int k = 0; k < 24; k++) {
            uint64_t page =
                k < 12 ? first + test_rng_below(&rng, n + 2) : test_rng_below(&rng, WIN_PAGES);
            if (page >= WIN_PAGES) {
                page = WIN_PAGES - 1;
            }
            check_access(f, &s, &m, page, (enum rvm_a64_access)test_rng_below(&rng, 3), seed);
        }
        if (op % 100 == 0) {
            check_leaves(f, &s, &m);
        }
    }
    check_leaves(f, &s, &m);
    printf("# a64 random: %u maps, %u unmaps, %u pool exhaustions, %u refusals\n", counts[0],
           counts[1], counts[2], counts[3]);
    assert_true(counts[0] > 100 && counts[1] > 100 && counts[2] > 0);
    /* Tear down through the API: every table but the root goes back. */
    struct rvm_a64_leaf leaf;
    while (rvm_a64_space_next_leaf(&f->pool, &s, 0, &leaf)) {
        assert_int_equal(rvm_a64_unmap(&f->pool, &s, leaf.ipa, leaf.size), RVM_OK);
    }
    assert_int_equal(f->pool.nfree, f->npages - 1);
    assert_int_equal(rvm_a64_pool_check(&f->pool), RVM_OK);
    free(m.pa_page);
    free(m.perms);
    free(before);
    free(after);
    pool_free(f);
}

/* ---- TLB model ----------------------------------------------------------------------------------
 */

static void test_tlb_stale_after_unmap_until_invalidated(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(8);
    struct rvm_a64_tlb_entry entries[8];
    struct rvm_a64_tlb tlb;
    assert_int_equal(rvm_a64_tlb_init(&tlb, entries, 8), RVM_OK);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    uint64_t vttbr = rvm_a64_vttbr(&f->pool, &s, 9);
    assert_int_equal(
        rvm_a64_map(&f->pool, &s, 0x80000000, 0x48000000, KiB4, R | W, RVM_A64_MEM_NORMAL), RVM_OK);
    struct rvm_a64_walk w;
    bool hit = true;
    assert_int_equal(
        rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, 0x80000010, RVM_A64_WRITE, &w, &hit), RVM_OK);
    assert_false(hit);
    assert_int_equal(rvm_a64_tlb_count(&tlb, 9), 1);
    assert_int_equal(rvm_a64_unmap(&f->pool, &s, 0x80000000, KiB4), RVM_OK);
    /* The tables say "unmapped"; the TLB still translates: the stale entry is observable. */
    assert_int_equal(rvm_a64_walk(&f->pool, vttbr, 0x80000010, RVM_A64_READ, &w),
                     RVM_ERR_GUEST_FAULT);
    assert_int_equal(
        rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, 0x80000020, RVM_A64_WRITE, &w, &hit), RVM_OK);
    assert_true(hit);
    assert_int_equal(w.oa, 0x48000020ull);
    /* Invalidating another VMID changes nothing; this one removes it. */
    rvm_a64_tlb_invalidate_vmid(&tlb, 10);
    assert_int_equal(rvm_a64_tlb_count(&tlb, 9), 1);
    rvm_a64_tlb_invalidate_vmid(&tlb, 9);
    assert_int_equal(rvm_a64_tlb_count(&tlb, 9), 0);
    assert_int_equal(
        rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, 0x80000020, RVM_A64_WRITE, &w, &hit),
        RVM_ERR_GUEST_FAULT);
    assert_false(hit);
    assert_int_equal(w.fsc, 0x05); /* tables were pruned back to the root */
    /* Faults are not cached. */
    assert_int_equal(rvm_a64_tlb_count(&tlb, 9), 0);
    pool_free(f);
}

static void test_tlb_vmid_reuse_without_invalidation(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(16);
    struct rvm_a64_tlb_entry entries[4];
    struct rvm_a64_tlb tlb;
    assert_int_equal(rvm_a64_tlb_init(&tlb, entries, 4), RVM_OK);
    struct rvm_a64_space a, b;
    assert_int_equal(rvm_a64_space_init(&f->pool, &a), RVM_OK);
    assert_int_equal(rvm_a64_space_init(&f->pool, &b), RVM_OK);
    const enum rvm_a64_memtype n = RVM_A64_MEM_NORMAL;
    assert_int_equal(rvm_a64_map(&f->pool, &a, 0x1000, 0x48001000, KiB4, R | W, n), RVM_OK);
    assert_int_equal(rvm_a64_map(&f->pool, &b, 0x1000, 0x49001000, KiB4, R, n), RVM_OK);
    struct rvm_a64_walk w;
    assert_int_equal(rvm_a64_tlb_translate(&tlb, &f->pool, rvm_a64_vttbr(&f->pool, &a, 7), 0x1000,
                                           RVM_A64_READ, &w, NULL),
                     RVM_OK);
    /* B now runs under A's old VMID 7 with no invalidation: it reaches A's page, writably. */
    uint64_t vttbr_b = rvm_a64_vttbr(&f->pool, &b, 7);
    assert_int_equal(
        rvm_a64_tlb_translate(&tlb, &f->pool, vttbr_b, 0x1008, RVM_A64_WRITE, &w, NULL), RVM_OK);
    assert_int_equal(w.oa, 0x48001008ull);
    rvm_a64_tlb_invalidate_vmid(&tlb, 7);
    assert_int_equal(
        rvm_a64_tlb_translate(&tlb, &f->pool, vttbr_b, 0x1008, RVM_A64_WRITE, &w, NULL),
        RVM_ERR_GUEST_FAULT);
    assert_int_equal(w.kind, RVM_A64_FAULT_PERMISSION);
    /* The permission fault came from a valid leaf: cached, and served from the TLB next time. */
    assert_int_equal(rvm_a64_tlb_count(&tlb, 7), 1);
    bool hit = false;
    assert_int_equal(rvm_a64_tlb_translate(&tlb, &f->pool, vttbr_b, 0x1000, RVM_A64_READ, &w, &hit),
                     RVM_OK);
    assert_true(hit);
    assert_int_equal(w.oa, 0x49001000ull);
    /* A different VMID is a different tag: no hit. */
    assert_int_equal(rvm_a64_tlb_translate(&tlb, &f->pool, rvm_a64_vttbr(&f->pool, &b, 8), 0x1000,
                                           RVM_A64_READ, &w, &hit),
                     RVM_OK);
    assert_false(hit);
    pool_free(f);
}

static void test_tlb_capacity_and_replacement(void **state)
{
    (void)state;
    struct pool_fx *f = pool_new(8);
    struct rvm_a64_tlb_entry entries[4];
    struct rvm_a64_tlb tlb;
    assert_int_equal(rvm_a64_tlb_init(&tlb, entries, 4), RVM_OK);
    assert_int_equal(rvm_a64_tlb_init(&tlb, entries, 0), RVM_ERR_INVALID_ARGUMENT);
    struct rvm_a64_space s;
    assert_int_equal(rvm_a64_space_init(&f->pool, &s), RVM_OK);
    assert_int_equal(rvm_a64_map(&f->pool, &s, 0, 0x48000000, 8 * KiB4, R, RVM_A64_MEM_NORMAL),
                     RVM_OK);
    uint64_t vttbr = rvm_a64_vttbr(&f->pool, &s, 1);
    struct rvm_a64_walk w;
    bool hit;
    for (uint64_t i = 0; i < 6; i++) {
        assert_int_equal(
            rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, i * KiB4, RVM_A64_READ, &w, &hit), RVM_OK);
        assert_false(hit);
    }
    assert_int_equal(rvm_a64_tlb_count(&tlb, 1), 4);
    /* Round robin over a full TLB: pages 4 and 5 replaced the entries of pages 0 and 1. */
    assert_int_equal(rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, 2 * KiB4, RVM_A64_READ, &w, &hit),
                     RVM_OK);
    assert_true(hit);
    assert_int_equal(rvm_a64_tlb_translate(&tlb, &f->pool, vttbr, 0, RVM_A64_READ, &w, &hit),
                     RVM_OK);
    assert_false(hit);
    rvm_a64_tlb_invalidate_all(&tlb);
    assert_int_equal(rvm_a64_tlb_count(&tlb, 1), 0);
    pool_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vtcr_and_vttbr_values),
        cmocka_unit_test(test_descriptor_encodings),
        cmocka_unit_test(test_fault_codes),
        cmocka_unit_test(test_matches_qemu_observation),
        cmocka_unit_test(test_argument_validation),
        cmocka_unit_test(test_exhaustion_changes_nothing),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_hash_is_canonical),
        cmocka_unit_test(test_random_against_page_model),
        cmocka_unit_test(test_tlb_stale_after_unmap_until_invalidated),
        cmocka_unit_test(test_tlb_vmid_reuse_without_invalidation),
        cmocka_unit_test(test_tlb_capacity_and_replacement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
