/* SPDX-License-Identifier: MIT */
/*
 * RISC-V PMP, trap causes and mstatus (platform/riscv).
 *
 * Expected values are computed by hand from the RISC-V Privileged Architecture 1.12:
 *   pmpNcfg: R bit 0, W bit 1, X bit 2, A [4:3] (0 OFF, 1 TOR, 2 NA4, 3 NAPOT), [6:5] reserved,
 *            L bit 7; pmpcfg0 = entries 0..7 (byte i = entry i), pmpcfg2 = entries 8..15 (RV64);
 *            CSR pmpcfg0 = 0x3A0, pmpaddr0 = 0x3B0.
 *   pmpaddr: PA[55:2]; NAPOT 2^(k+3) bytes at B = (B >> 2) | (2^k - 1).
 *   Matching: lowest-numbered entry matching any byte decides, must match all bytes; no match
 *            fails for S/U, succeeds for M; M is checked only against locked entries.
 *   mcause: fetch access fault 1, load 5, store/AMO 7. mstatus: MIE 3, MPIE 7, MPP [12:11],
 *            MPRV 17; mret sets MIE = MPIE, MPIE = 1, MPP = U, and MPRV = 0 when leaving M.
 * The random tests compare the checker against a brute-force per-byte model written here, whose
 * NAPOT test goes the other way round (encode every candidate region and compare).
 */
#include "test_support.h"

#include "rv_pmp.h"

#define R RVM_PERM_R
#define W RVM_PERM_W
#define X RVM_PERM_X

static void test_cfg_and_addr_encodings(void **state)
{
    (void)state;
    assert_int_equal(RVM_RV_CSR_PMPCFG0, 0x3A0);
    assert_int_equal(RVM_RV_CSR_PMPADDR0, 0x3B0);
    assert_int_equal(rvm_rv_pmpcfg(R | W | X, RVM_RV_PMP_A_NAPOT, false), 0x1F);
    assert_int_equal(rvm_rv_pmpcfg(R, RVM_RV_PMP_A_NAPOT, true), 0x99);
    assert_int_equal(rvm_rv_pmpcfg(R | W, RVM_RV_PMP_A_TOR, false), 0x0B);
    assert_int_equal(rvm_rv_pmpcfg(R, RVM_RV_PMP_A_NA4, false), 0x11);
    assert_int_equal(rvm_rv_pmpcfg(X, RVM_RV_PMP_A_OFF, false), 0x04);

    uint64_t a = 0;
    /* QEMU isolation experiment: a 1 MiB RWX partition at 0x80000000 and the UART page. */
    assert_true(rvm_rv_pmpaddr_napot(0x80000000, 1u << 20, &a));
    assert_int_equal(a, 0x2001FFFFull); /* 0x20000000 | (2^17 - 1) */
    assert_true(rvm_rv_pmpaddr_napot(0x10000000, 4096, &a));
    assert_int_equal(a, 0x040001FFull);
    assert_true(rvm_rv_pmpaddr_napot(0x1000, 8, &a));
    assert_int_equal(a, 0x400ull);
    assert_true(rvm_rv_pmpaddr_napot(0x1000, 16, &a));
    assert_int_equal(a, 0x401ull);
    assert_true(rvm_rv_pmpaddr_napot(0, 1ull << 56, &a));
    assert_int_equal(a, (1ull << 53) - 1);
    assert_false(rvm_rv_pmpaddr_napot(0x1000, 4, &a));      /* below 8 bytes: NA4 */
    assert_false(rvm_rv_pmpaddr_napot(0x1000, 0x3000, &a)); /* not a power of two */
    assert_false(rvm_rv_pmpaddr_napot(0x1800, 0x1000, &a)); /* misaligned */
    assert_false(rvm_rv_pmpaddr_napot(1ull << 56, 8, &a));  /* beyond 56-bit PA */

    struct rvm_rv_pmp pmp;
    assert_int_equal(rvm_rv_pmp_init(&pmp, 16), RVM_OK);
    assert_int_equal(rvm_rv_pmp_init(&pmp, 8), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_rv_pmp_init(&pmp, 16), RVM_OK);
    pmp.cfg[0] = 0x1F;
    pmp.cfg[1] = 0x0B;
    pmp.cfg[7] = 0x99;
    pmp.cfg[8] = 0x11;
    assert_int_equal(rvm_rv_pmpcfg_csr(&pmp, 0), 0x9900000000000B1Full);
    assert_int_equal(rvm_rv_pmpcfg_csr(&pmp, 2), 0x11ull);
    assert_int_equal(rvm_rv_pmpcfg_csr(&pmp, 1), 0); /* no odd pmpcfg on RV64 */
    assert_int_equal(rvm_rv_pmpcfg_csr(&pmp, 4), 0); /* entries 16.. absent */

    /* Decoding: NAPOT / NA4 / TOR ranges. */
    uint64_t lo, hi;
    pmp.addr[0] = 0x2001FFFF;
    assert_true(rvm_rv_pmp_range(&pmp, 0, &lo, &hi));
    assert_int_equal(lo, 0x80000000ull);
    assert_int_equal(hi, 0x80100000ull);
    pmp.addr[8] = 0x400;
    assert_true(rvm_rv_pmp_range(&pmp, 8, &lo, &hi));
    assert_int_equal(lo, 0x1000ull);
    assert_int_equal(hi, 0x1004ull);
    pmp.addr[0] = 0x20000400; /* entry 1 is TOR: [addr0 << 2, addr1 << 2) */
    pmp.addr[1] = 0x20000C00;
    assert_true(rvm_rv_pmp_range(&pmp, 1, &lo, &hi));
    assert_int_equal(lo, 0x80001000ull);
    assert_int_equal(hi, 0x80003000ull);
    pmp.addr[1] = 0x20000400; /* empty TOR matches nothing */
    assert_false(rvm_rv_pmp_range(&pmp, 1, &lo, &hi));
    pmp.cfg[0] = 0x0B; /* TOR in entry 0: from 0 */
    assert_true(rvm_rv_pmp_range(&pmp, 0, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 0x80001000ull);
    pmp.addr[7] = RVM_RV_PMPADDR_MASK; /* all 54 ones: everything */
    assert_true(rvm_rv_pmp_range(&pmp, 7, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 1ull << 57);
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_OK);
}

static void test_match_priority_and_partial(void **state)
{
    (void)state;
    struct rvm_rv_pmp pmp;
    assert_int_equal(rvm_rv_pmp_init(&pmp, 16), RVM_OK);
    /* entry 0: NA4 at 0x1000, no permissions; entry 1: NAPOT [0x1000, 0x2000) RW. */
    pmp.cfg[0] = RVM_RV_PMP_A_NA4;
    pmp.addr[0] = 0x400;
    pmp.cfg[1] = 0x1B;
    pmp.addr[1] = 0x400 | 0x1FF;
    const enum rvm_rv_priv S = RVM_RV_PRIV_S, U = RVM_RV_PRIV_U, M = RVM_RV_PRIV_M;
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1000, 4, RVM_RV_LOAD, S)); /* entry 0 wins */
    assert_true(rvm_rv_pmp_allows(&pmp, 0x1004, 4, RVM_RV_LOAD, S));
    assert_true(rvm_rv_pmp_allows(&pmp, 0x1FF8, 8, RVM_RV_STORE, U));
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1FF8, 8, RVM_RV_FETCH, S));
    /* Bytes 0xFFE..0x1001: entry 0 matches two of four bytes -> fails whatever the rest says. */
    assert_false(rvm_rv_pmp_allows(&pmp, 0xFFE, 4, RVM_RV_LOAD, M));
    /* Straddling the top of entry 1 into nothing: fails even for M. */
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1FFC, 8, RVM_RV_LOAD, M));
    /* No entry matches: S/U fail, M succeeds. */
    assert_false(rvm_rv_pmp_allows(&pmp, 0x3000, 4, RVM_RV_LOAD, S));
    assert_true(rvm_rv_pmp_allows(&pmp, 0x3000, 4, RVM_RV_LOAD, M));
    /* M ignores unlocked entries, obeys locked ones. */
    assert_true(rvm_rv_pmp_allows(&pmp, 0x1000, 4, RVM_RV_STORE, M));
    pmp.cfg[0] |= RVM_RV_PMP_L;
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1000, 4, RVM_RV_STORE, M));
    /* Zero length and wrapping accesses fail. */
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1004, 0, RVM_RV_LOAD, M));
    assert_false(rvm_rv_pmp_allows(&pmp, UINT64_MAX - 1, 4, RVM_RV_LOAD, M));

    /* mcause / mtval, and MPRV making M-mode loads S-mode ones (not fetches). */
    struct rvm_rv_fault f = {0, 0};
    uint64_t mprv_s = RVM_RV_MSTATUS_MPRV | 1ull << 11;
    assert_int_equal(rvm_rv_access_check(&pmp, mprv_s, M, 0x3000, 4, RVM_RV_LOAD, &f),
                     RVM_ERR_GUEST_FAULT);
    assert_int_equal(f.mcause, 5);
    assert_int_equal(f.mtval, 0x3000);
    assert_int_equal(rvm_rv_access_check(&pmp, mprv_s, M, 0x3008, 8, RVM_RV_STORE, &f),
                     RVM_ERR_GUEST_FAULT);
    assert_int_equal(f.mcause, 7);
    assert_int_equal(f.mtval, 0x3008);
    assert_int_equal(rvm_rv_access_check(&pmp, mprv_s, M, 0x3000, 4, RVM_RV_FETCH, &f), RVM_OK);
    assert_int_equal(rvm_rv_access_check(&pmp, 0, S, 0x1100, 4, RVM_RV_FETCH, &f),
                     RVM_ERR_GUEST_FAULT);
    assert_int_equal(f.mcause, 1);
    assert_int_equal(rvm_rv_access_check(&pmp, 1ull << 11, M, 0x3000, 4, RVM_RV_LOAD, &f), RVM_OK);
}

static void test_mstatus(void **state)
{
    (void)state;
    const enum rvm_rv_priv S = RVM_RV_PRIV_S, U = RVM_RV_PRIV_U, M = RVM_RV_PRIV_M;
    /* Trap from S with MIE = 1: MPIE = 1 (0x80), MIE = 0, MPP = 01 (0x800). */
    assert_int_equal(rvm_rv_trap_enter(0x8, S), 0x880);
    assert_int_equal(rvm_rv_trap_enter(0x1888, U), 0x80);
    enum rvm_rv_priv p = M;
    /* mret to S: MIE <- MPIE = 1, MPIE = 1, MPP = U. */
    assert_int_equal(rvm_rv_mret(0x880, &p), 0x88);
    assert_int_equal(p, S);
    /* mret to S with MPRV: MPRV cleared. */
    assert_int_equal(rvm_rv_mret(0x20800, &p), 0x80);
    assert_int_equal(p, S);
    /* mret to M keeps MPRV. */
    assert_int_equal(rvm_rv_mret(0x21800, &p), 0x20080);
    assert_int_equal(p, M);
    assert_int_equal(rvm_rv_mret(0x0, &p), 0x80);
    assert_int_equal(p, U);
    /* Guest state sanitising: MPP of M or the reserved 2 becomes S; S and U stay. */
    assert_int_equal(rvm_rv_mstatus_sanitize_guest(0x1888), 0x888);
    assert_int_equal(rvm_rv_mstatus_sanitize_guest(0x1000), 0x800);
    assert_int_equal(rvm_rv_mstatus_sanitize_guest(0x800), 0x800);
    assert_int_equal(rvm_rv_mstatus_sanitize_guest(0x0), 0x0);
    /* Effective privilege. */
    assert_int_equal(rvm_rv_effective_priv(0x20800, M, RVM_RV_LOAD), S);
    assert_int_equal(rvm_rv_effective_priv(0x20000, M, RVM_RV_STORE), U);
    assert_int_equal(rvm_rv_effective_priv(0x20800, M, RVM_RV_FETCH), M);
    assert_int_equal(rvm_rv_effective_priv(0x00800, M, RVM_RV_LOAD), M);
    assert_int_equal(rvm_rv_effective_priv(0x21800, S, RVM_RV_LOAD), S);
    assert_int_equal(rvm_rv_access_fault_cause(RVM_RV_FETCH), 1);
    assert_int_equal(rvm_rv_access_fault_cause(RVM_RV_LOAD), 5);
    assert_int_equal(rvm_rv_access_fault_cause(RVM_RV_STORE), 7);
}

static void test_csr_writes_and_locks(void **state)
{
    (void)state;
    struct rvm_rv_pmp pmp;
    assert_int_equal(rvm_rv_pmp_init(&pmp, 16), RVM_OK);
    rvm_rv_pmp_write_cfg(&pmp, 0, 0x7F); /* reserved bits [6:5] read as zero */
    assert_int_equal(pmp.cfg[0], 0x1F);
    rvm_rv_pmp_write_cfg(&pmp, 0, 0x02); /* R=0 W=1 is reserved: ignored */
    assert_int_equal(pmp.cfg[0], 0x1F);
    rvm_rv_pmp_write_addr(&pmp, 0, UINT64_MAX);
    assert_int_equal(pmp.addr[0], (1ull << 54) - 1);
    rvm_rv_pmp_write_cfg(&pmp, 16, 0x1F); /* absent entry */
    rvm_rv_pmp_write_addr(&pmp, 16, 5);
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_OK);

    /* Entry 2 locked TOR: its cfg, its addr and the addr of entry 1 are frozen. */
    rvm_rv_pmp_write_addr(&pmp, 1, 0x100);
    rvm_rv_pmp_write_addr(&pmp, 2, 0x200);
    rvm_rv_pmp_write_cfg(&pmp, 2, 0x89);
    rvm_rv_pmp_write_cfg(&pmp, 2, 0x0F);
    rvm_rv_pmp_write_addr(&pmp, 2, 0x300);
    rvm_rv_pmp_write_addr(&pmp, 1, 0x150);
    assert_int_equal(pmp.cfg[2], 0x89);
    assert_int_equal(pmp.addr[2], 0x200);
    assert_int_equal(pmp.addr[1], 0x100);
    /* A locked NAPOT entry does not freeze the address below it. */
    rvm_rv_pmp_write_cfg(&pmp, 4, 0x99);
    rvm_rv_pmp_write_addr(&pmp, 3, 0x123);
    assert_int_equal(pmp.addr[3], 0x123);
    /* Whole-register writes go byte by byte under the same rules. */
    rvm_rv_pmpcfg_csr_write(&pmp, 0, 0x0000000000000B0Bull);
    assert_int_equal(pmp.cfg[0], 0x0B);
    assert_int_equal(pmp.cfg[1], 0x0B);
    assert_int_equal(pmp.cfg[2], 0x89); /* locked */
    assert_int_equal(pmp.cfg[4], 0x99);
    rvm_rv_pmpcfg_csr_write(&pmp, 2, 0x1Full << 56);
    assert_int_equal(pmp.cfg[15], 0x1F);
    assert_int_equal(rvm_rv_pmpcfg_csr(&pmp, 2), 0x1Full << 56);

    pmp.cfg[3] = 0x62; /* corrupt on purpose */
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_ERR_CORRUPT);
    pmp.cfg[3] = 0;
    pmp.cfg[20] = 1; /* beyond count */
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_ERR_CORRUPT);
    pmp.cfg[20] = 0;
    pmp.addr[5] = 1ull << 60;
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_ERR_CORRUPT);
}

static void test_builder_layouts(void **state)
{
    (void)state;
    struct rvm_rv_pmp pmp;
    uint32_t used = 0;
    /* UART page RW then a 1 MiB RWX partition: two NAPOT entries. */
    struct rvm_rv_region two[] = {{0x10000000, 0x1000, R | W, 0},
                                  {0x80000000, 1u << 20, R | W | X, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, two, 2, &used), RVM_OK);
    assert_int_equal(used, 2);
    assert_int_equal(pmp.cfg[0], 0x1B);
    assert_int_equal(pmp.addr[0], 0x040001FFull);
    assert_int_equal(pmp.cfg[1], 0x1F);
    assert_int_equal(pmp.addr[1], 0x2001FFFFull);
    for (int i = 2; i < 16; i++) {
        assert_int_equal(pmp.cfg[i], 0);
        assert_int_equal(pmp.addr[i], 0);
    }
    assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_OK);

    /* 12 KiB RW at 0x80000000 (not a power of two): OFF bottom + TOR top; the adjacent R page
     * chains on with one TOR entry. */
    struct rvm_rv_region tor[] = {{0x80000000, 0x3000, R | W, 0}, {0x80003000, 0x1000, R, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, tor, 2, &used), RVM_OK);
    assert_int_equal(used, 3);
    assert_int_equal(pmp.cfg[0], 0x00);
    assert_int_equal(pmp.addr[0], 0x20000000ull);
    assert_int_equal(pmp.cfg[1], 0x0B);
    assert_int_equal(pmp.addr[1], 0x20000C00ull);
    assert_int_equal(pmp.cfg[2], 0x09);
    assert_int_equal(pmp.addr[2], 0x20001000ull);

    /* A region at address 0 in entry 0 is one TOR entry. */
    struct rvm_rv_region zero[] = {{0, 0x3000, R, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, zero, 1, &used), RVM_OK);
    assert_int_equal(used, 1);
    assert_int_equal(pmp.cfg[0], 0x09);
    assert_int_equal(pmp.addr[0], 0xC00ull);

    /* Adjacent regions with equal permissions merge: 8 KiB aligned -> one NAPOT. */
    struct rvm_rv_region merge[] = {{0x80000000, 0x1000, R | W, 0}, {0x80001000, 0x1000, R | W, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, merge, 2, &used), RVM_OK);
    assert_int_equal(used, 1);
    assert_int_equal(pmp.cfg[0], 0x1B);
    assert_int_equal(pmp.addr[0], 0x200003FFull);

    /* 4 bytes: NA4. */
    struct rvm_rv_region na4[] = {{0x10000000, 4, R, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, na4, 1, &used), RVM_OK);
    assert_int_equal(pmp.cfg[0], 0x11);
    assert_int_equal(pmp.addr[0], 0x04000000ull);
}

static void test_builder_refusals_leave_output(void **state)
{
    (void)state;
    struct rvm_rv_pmp pmp, before;
    memset(&pmp, 0xAA, sizeof(pmp));
    before = pmp;
    /* Nine separate 12 KiB regions need 18 entries. */
    struct rvm_rv_region many[9];
    for (int i = 0; i < 9; i++) {
        many[i] = (struct rvm_rv_region){0x80000000ull + (uint64_t)i * 0x10000, 0x3000, R, 0};
    }
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, many, 9, NULL), RVM_ERR_NO_SPACE);
    assert_memory_equal(&pmp, &before, sizeof(pmp));
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, many, 8, NULL), RVM_OK); /* exactly 16 */
    memset(&pmp, 0xAA, sizeof(pmp));
    uint32_t used = 0;
    assert_int_equal(rvm_rv_pmp_build(&pmp, 64, many, 9, &used), RVM_OK);
    assert_int_equal(used, 18);

    memset(&pmp, 0xAA, sizeof(pmp));
    struct rvm_rv_region bad[2] = {{0x2000, 0x1000, R, 0}, {0x1000, 0x1000, R, 0}};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 2, NULL), RVM_ERR_OVERLAP); /* unsorted */
    bad[1] = (struct rvm_rv_region){0x2800, 0x1000, R, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 2, NULL), RVM_ERR_OVERLAP);
    bad[0] = (struct rvm_rv_region){0x2000, 0x1000, W, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad[0] = (struct rvm_rv_region){0x2000, 0x1000, 0, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad[0] = (struct rvm_rv_region){0x2000, 0, R, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_INVALID_ARGUMENT);
    bad[0] = (struct rvm_rv_region){0x2002, 0x1000, R, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_ALIGNMENT);
    bad[0] = (struct rvm_rv_region){(1ull << 56) - 0x1000, 0x2000, R, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_OUT_OF_RANGE);
    bad[0] = (struct rvm_rv_region){UINT64_MAX - 0xFFF, 0x2000, R, 0};
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, bad, 1, NULL), RVM_ERR_OVERFLOW);
    assert_int_equal(rvm_rv_pmp_build(&pmp, 32, bad, 0, NULL), RVM_ERR_INVALID_ARGUMENT);
    assert_memory_equal(&pmp, &before, sizeof(pmp));
    assert_int_equal(rvm_rv_pmp_build(&pmp, 16, NULL, 0, &used), RVM_OK); /* nothing mapped */
    assert_int_equal(used, 0);
    assert_false(rvm_rv_pmp_allows(&pmp, 0x1000, 4, RVM_RV_LOAD, RVM_RV_PRIV_S));
}

/* ---- brute-force model of the matching rules --------------------------------------------------
 */

static bool model_byte_matches(const struct rvm_rv_pmp *p, unsigned i, uint64_t b)
{
    uint64_t w = b >> 2;
    switch (p->cfg[i] & 0x18) {
    case 0x08: /* TOR */
        return (i == 0 ? 0 : p->addr[i - 1]) <= w && w < p->addr[i];
    case 0x10: /* NA4 */
        return w == p->addr[i];
    case 0x18: /* NAPOT: does some 2^(k+3)-byte aligned region holding b encode to addr? */
        for (unsigned k = 0; k <= 54; k++) {
            uint64_t region_words = 2ull << k;
            uint64_t base_w = w & ~(region_words - 1);
            if ((base_w | ((1ull << k) - 1)) == p->addr[i]) {
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

static bool model_allows(const struct rvm_rv_pmp *p, uint64_t a, unsigned len,
                         enum rvm_rv_access acc, enum rvm_rv_priv priv)
{
    for (unsigned i = 0; i < p->count; i++) {
        unsigned hits = 0;
        for (unsigned j = 0; j < len; j++) {
            hits += model_byte_matches(p, i, a + j);
        }
        if (hits == 0) {
            continue;
        }
        if (hits != len) {
            return false;
        }
        uint8_t c = p->cfg[i];
        if (priv == RVM_RV_PRIV_M && !(c & 0x80)) {
            return true;
        }
        return acc == RVM_RV_LOAD ? (c & 1) : acc == RVM_RV_STORE ? (c & 2) : (c & 4);
    }
    return priv == RVM_RV_PRIV_M;
}

static void test_random_checker_against_byte_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("rv_random_checker_against_byte_model", 0x9E3);
    struct test_rng rng = test_rng_new(seed);
    static const uint8_t perms[] = {0, 1, 3, 4, 5, 7}; /* never W without R */
    static const enum rvm_rv_priv privs[] = {RVM_RV_PRIV_U, RVM_RV_PRIV_S, RVM_RV_PRIV_M};
    unsigned allowed = 0, denied = 0;
    for (int round = 0; round < 400; round++) {
        struct rvm_rv_pmp pmp;
        assert_int_equal(rvm_rv_pmp_init(&pmp, test_rng_below(&rng, 4) ? 16 : 64), RVM_OK);
        unsigned used = 1 + (unsigned)test_rng_below(&rng, 8);
        for (unsigned i = 0; i < used; i++) {
            uint8_t a = (uint8_t)(test_rng_below(&rng, 4) << 3);
            uint8_t c = (uint8_t)(a | perms[test_rng_below(&rng, 6)]);
            if (test_rng_below(&rng, 5) == 0) {
                c |= 0x80;
            }
            uint64_t addr = test_rng_below(&rng, 0x1000); /* words: bytes [0, 0x4000) */
            if (a == 0x18) {
                unsigned k = (unsigned)test_rng_below(&rng, 10);
                addr = (addr & ~((2ull << k) - 1)) | ((1ull << k) - 1);
            }
            pmp.cfg[i] = c;
            pmp.addr[i] = addr;
        }
        for (int q = 0; q < 200; q++) {
            static const unsigned lens[] = {1, 2, 4, 8};
            uint64_t a = test_rng_below(&rng, 0x4100);
            unsigned len = lens[test_rng_below(&rng, 4)];
            enum rvm_rv_access acc = (enum rvm_rv_access)test_rng_below(&rng, 3);
            enum rvm_rv_priv priv = privs[test_rng_below(&rng, 3)];
            bool want = model_allows(&pmp, a, len, acc, priv);
            bool got = rvm_rv_pmp_allows(&pmp, a, len, acc, priv);
            if (want != got) {
                fail_msg("seed %llu round %d: access %#llx+%u acc %d priv %d: model %d, pmp %d",
                         (unsigned long long)seed, round, (unsigned long long)a, len, acc, priv,
                         want, got);
            }
            want ? allowed++ : denied++;
        }
    }
    printf("# rv checker: %u allowed, %u denied\n", allowed, denied);
    assert_true(allowed > 1000 && denied > 1000);
}

static void test_random_builder_against_page_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("rv_random_builder_against_page_model", 0x5EED);
    struct test_rng rng = test_rng_new(seed);
    enum { PAGES = 256 };
    const uint64_t base = 0x80000000;
    static const uint8_t perms[] = {1, 3, 4, 5, 7};
    unsigned built = 0, refused = 0;
    for (int round = 0; round < 300; round++) {
        uint8_t page_perm[PAGES] = {0};
        struct rvm_rv_region regions[40];
        uint32_t n = 0;
        uint64_t pg = test_rng_below(&rng, 4);
        while (n < 30 && pg < PAGES) { /* <= 60 entries: always fits 64 */
            uint64_t len = 1 + test_rng_below(&rng, test_rng_below(&rng, 3) ? 4 : 32);
            if (pg + len > PAGES) {
                len = PAGES - pg;
            }
            uint8_t pm = perms[test_rng_below(&rng, 5)];
            regions[n++] = (struct rvm_rv_region){base + pg * 4096, len * 4096, pm, 0};
            memset(&page_perm[pg], pm, len);
            pg += len + test_rng_below(&rng, 3); /* sometimes adjacent */
        }
        struct rvm_rv_pmp pmp, before;
        memset(&pmp, 0x5A, sizeof(pmp));
        before = pmp;
        uint32_t count = test_rng_below(&rng, 2) ? 16 : 64;
        enum rvm_err err = rvm_rv_pmp_build(&pmp, count, regions, n, NULL);
        if (err == RVM_ERR_NO_SPACE) {
            refused++;
            assert_memory_equal(&pmp, &before, sizeof(pmp));
            assert_true(count == 16);
            continue;
        }
        assert_int_equal(err, RVM_OK);
        assert_int_equal(rvm_rv_pmp_check(&pmp), RVM_OK);
        built++;
        for (uint64_t p = 0; p < PAGES + 2; p++) {
            for (int acc = 0; acc < 3; acc++) {
                uint64_t off = test_rng_below(&rng, 4096 / 8) * 8;
                uint8_t pm = p < PAGES ? page_perm[p] : 0;
                bool want = acc == 0 ? (pm & R) : acc == 1 ? (pm & W) : (pm & X);
                uint64_t a = base + p * 4096 + off;
                bool s = rvm_rv_pmp_allows(&pmp, a, 8, (enum rvm_rv_access)acc, RVM_RV_PRIV_S);
                /* M-mode with MPRV and MPP = S must give the same answer for loads/stores. */
                struct rvm_rv_fault f;
                uint64_t mst = RVM_RV_MSTATUS_MPRV | 1ull << 11;
                enum rvm_err e = rvm_rv_access_check(&pmp, mst, RVM_RV_PRIV_M, a, 8,
                                                     (enum rvm_rv_access)acc, &f);
                if (s != want || (acc != 2 && (e == RVM_OK) != want)) {
                    fail_msg("seed %llu round %d: page %llu acc %d perm %u: want %d got %d/%d",
                             (unsigned long long)seed, round, (unsigned long long)p, acc, pm, want,
                             s, e == RVM_OK);
                }
                /* A page-crossing access into a different-permission neighbour fails. */
            }
        }
    }
    printf("# rv builder: %u layouts built, %u refused (16 entries)\n", built, refused);
    assert_true(built > 50 && refused > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cfg_and_addr_encodings),
        cmocka_unit_test(test_match_priority_and_partial),
        cmocka_unit_test(test_mstatus),
        cmocka_unit_test(test_csr_writes_and_locks),
        cmocka_unit_test(test_builder_layouts),
        cmocka_unit_test(test_builder_refusals_leave_output),
        cmocka_unit_test(test_random_checker_against_byte_model),
        cmocka_unit_test(test_random_builder_against_page_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
