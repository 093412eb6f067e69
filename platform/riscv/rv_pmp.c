/* SPDX-License-Identifier: MIT */
#include "rv_pmp.h"

#include "rvm/bytes.h"

#define PA_LIMIT   ((uint64_t)1 << RVM_RV_PA_BITS)
#define PERM_BITS  ((uint32_t)(RVM_PERM_R | RVM_PERM_W | RVM_PERM_X))
#define GRAIN_MASK 3u

static bool count_ok(uint32_t count)
{
    return count == 16u || count == 64u;
}

enum rvm_err rvm_rv_pmp_init(struct rvm_rv_pmp *pmp, uint32_t count)
{
    if (pmp == NULL || !count_ok(count)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(pmp, 0, sizeof(*pmp));
    pmp->count = count;
    return RVM_OK;
}

uint8_t rvm_rv_pmpcfg(uint32_t perms, uint8_t a, bool locked)
{
    uint32_t cfg = (uint32_t)a & RVM_RV_PMP_A_MASK;
    if ((perms & RVM_PERM_R) != 0) {
        cfg |= RVM_RV_PMP_R;
    }
    if ((perms & RVM_PERM_W) != 0) {
        cfg |= RVM_RV_PMP_W;
    }
    if ((perms & RVM_PERM_X) != 0) {
        cfg |= RVM_RV_PMP_X;
    }
    if (locked) {
        cfg |= RVM_RV_PMP_L;
    }
    return (uint8_t)cfg;
}

bool rvm_rv_pmpaddr_napot(uint64_t base, uint64_t size, uint64_t *pmpaddr)
{
    if (!rvm_is_pow2_u64(size) || size < 8u || (base & (size - 1u)) != 0 || base >= PA_LIMIT ||
        size > PA_LIMIT - base) {
        return false;
    }
    *pmpaddr = (base >> 2) | ((size >> 3) - 1u);
    return true;
}

bool rvm_rv_pmp_range(const struct rvm_rv_pmp *pmp, uint32_t i, uint64_t *lo, uint64_t *hi)
{
    if (i >= pmp->count) {
        return false;
    }
    uint64_t a = pmp->addr[i] & RVM_RV_PMPADDR_MASK;
    switch (pmp->cfg[i] & RVM_RV_PMP_A_MASK) {
    case RVM_RV_PMP_A_TOR:
        *lo = i == 0 ? 0 : (pmp->addr[i - 1u] & RVM_RV_PMPADDR_MASK) << 2;
        *hi = a << 2;
        return *lo < *hi;
    case RVM_RV_PMP_A_NA4:
        *lo = a << 2;
        *hi = *lo + 4u;
        return true;
    case RVM_RV_PMP_A_NAPOT: {
        /* a & ~(a + 1) keeps exactly the trailing ones: 2^k - 1 for a 2^(k+3)-byte region. */
        uint64_t ones = a & ~(a + 1u);
        *lo = (a & ~ones) << 2;
        *hi = *lo + ((ones + 1u) << 3);
        return true;
    }
    default:
        return false;
    }
}

void rvm_rv_pmp_write_cfg(struct rvm_rv_pmp *pmp, uint32_t i, uint8_t value)
{
    if (i >= pmp->count || (pmp->cfg[i] & RVM_RV_PMP_L) != 0) {
        return;
    }
    if ((value & RVM_RV_PMP_W) != 0 && (value & RVM_RV_PMP_R) == 0) {
        return; /* R=0 W=1 is reserved: this WARL field keeps its previous legal value */
    }
    pmp->cfg[i] = (uint8_t)(value & ~RVM_RV_PMP_RESERVED);
}

void rvm_rv_pmp_write_addr(struct rvm_rv_pmp *pmp, uint32_t i, uint64_t value)
{
    if (i >= pmp->count || (pmp->cfg[i] & RVM_RV_PMP_L) != 0) {
        return;
    }
    if (i + 1u < pmp->count && (pmp->cfg[i + 1u] & RVM_RV_PMP_L) != 0 &&
        (pmp->cfg[i + 1u] & RVM_RV_PMP_A_MASK) == RVM_RV_PMP_A_TOR) {
        return; /* the locked TOR entry above uses this address as its bottom */
    }
    pmp->addr[i] = value & RVM_RV_PMPADDR_MASK;
}

uint64_t rvm_rv_pmpcfg_csr(const struct rvm_rv_pmp *pmp, uint32_t n)
{
    if ((n & 1u) != 0 || n * 4u >= pmp->count) {
        return 0;
    }
    uint64_t v = 0;
    for (uint32_t k = 0; k < 8u; k++) {
        v |= (uint64_t)pmp->cfg[n * 4u + k] << (8u * k);
    }
    return v;
}

void rvm_rv_pmpcfg_csr_write(struct rvm_rv_pmp *pmp, uint32_t n, uint64_t value)
{
    if ((n & 1u) != 0 || n * 4u >= pmp->count) {
        return;
    }
    for (uint32_t k = 0; k < 8u; k++) {
        rvm_rv_pmp_write_cfg(pmp, n * 4u + k, (uint8_t)(value >> (8u * k)));
    }
}

bool rvm_rv_pmp_allows(const struct rvm_rv_pmp *pmp, uint64_t addr, uint64_t len,
                       enum rvm_rv_access access, enum rvm_rv_priv priv)
{
    uint64_t end;
    if (len == 0 || !rvm_add_u64(addr, len, &end)) {
        return false;
    }
    for (uint32_t i = 0; i < pmp->count && i < RVM_RV_PMP_MAX; i++) {
        uint64_t lo;
        uint64_t hi;
        if (!rvm_rv_pmp_range(pmp, i, &lo, &hi) || end <= lo || addr >= hi) {
            continue; /* no byte of the access is in this entry */
        }
        if (addr < lo || end > hi) {
            return false; /* the deciding entry must cover every byte */
        }
        uint8_t cfg = pmp->cfg[i];
        if (priv == RVM_RV_PRIV_M && (cfg & RVM_RV_PMP_L) == 0) {
            return true;
        }
        uint8_t need = access == RVM_RV_LOAD    ? RVM_RV_PMP_R
                       : access == RVM_RV_STORE ? RVM_RV_PMP_W
                                                : RVM_RV_PMP_X;
        return (cfg & need) != 0;
    }
    return priv == RVM_RV_PRIV_M;
}

enum rvm_rv_priv rvm_rv_effective_priv(uint64_t mstatus, enum rvm_rv_priv cur,
                                       enum rvm_rv_access access)
{
    if (cur == RVM_RV_PRIV_M && access != RVM_RV_FETCH && (mstatus & RVM_RV_MSTATUS_MPRV) != 0) {
        uint32_t mpp = (uint32_t)((mstatus & RVM_RV_MSTATUS_MPP_MASK) >> RVM_RV_MSTATUS_MPP_SHIFT);
        return mpp == 3u ? RVM_RV_PRIV_M : mpp == 1u ? RVM_RV_PRIV_S : RVM_RV_PRIV_U;
    }
    return cur;
}

uint64_t rvm_rv_access_fault_cause(enum rvm_rv_access access)
{
    switch (access) {
    case RVM_RV_LOAD:
        return RVM_RV_MCAUSE_LOAD_ACCESS;
    case RVM_RV_STORE:
        return RVM_RV_MCAUSE_STORE_ACCESS;
    case RVM_RV_FETCH:
        return RVM_RV_MCAUSE_FETCH_ACCESS;
    }
    return RVM_RV_MCAUSE_LOAD_ACCESS;
}

enum rvm_err rvm_rv_access_check(const struct rvm_rv_pmp *pmp, uint64_t mstatus,
                                 enum rvm_rv_priv cur, uint64_t addr, uint64_t len,
                                 enum rvm_rv_access access, struct rvm_rv_fault *fault)
{
    enum rvm_rv_priv priv = rvm_rv_effective_priv(mstatus, cur, access);
    if (rvm_rv_pmp_allows(pmp, addr, len, access, priv)) {
        return RVM_OK;
    }
    fault->mcause = rvm_rv_access_fault_cause(access);
    fault->mtval = addr;
    return RVM_ERR_GUEST_FAULT;
}

static uint64_t set_mpp(uint64_t mstatus, uint32_t mpp)
{
    return (mstatus & ~RVM_RV_MSTATUS_MPP_MASK) | (uint64_t)mpp << RVM_RV_MSTATUS_MPP_SHIFT;
}

uint64_t rvm_rv_trap_enter(uint64_t mstatus, enum rvm_rv_priv cur)
{
    uint64_t s = mstatus & ~(RVM_RV_MSTATUS_MPIE | RVM_RV_MSTATUS_MIE);
    if ((mstatus & RVM_RV_MSTATUS_MIE) != 0) {
        s |= RVM_RV_MSTATUS_MPIE;
    }
    return set_mpp(s, (uint32_t)cur);
}

uint64_t rvm_rv_mret(uint64_t mstatus, enum rvm_rv_priv *new_priv)
{
    uint32_t mpp = (uint32_t)((mstatus & RVM_RV_MSTATUS_MPP_MASK) >> RVM_RV_MSTATUS_MPP_SHIFT);
    enum rvm_rv_priv priv = mpp == 3u ? RVM_RV_PRIV_M : mpp == 1u ? RVM_RV_PRIV_S : RVM_RV_PRIV_U;
    uint64_t s = mstatus & ~RVM_RV_MSTATUS_MIE;
    if ((mstatus & RVM_RV_MSTATUS_MPIE) != 0) {
        s |= RVM_RV_MSTATUS_MIE;
    }
    s |= RVM_RV_MSTATUS_MPIE;
    s = set_mpp(s, RVM_RV_PRIV_U);
    if (priv != RVM_RV_PRIV_M) {
        s &= ~RVM_RV_MSTATUS_MPRV;
    }
    *new_priv = priv;
    return s;
}

uint64_t rvm_rv_mstatus_sanitize_guest(uint64_t mstatus)
{
    uint32_t mpp = (uint32_t)((mstatus & RVM_RV_MSTATUS_MPP_MASK) >> RVM_RV_MSTATUS_MPP_SHIFT);
    if (mpp == RVM_RV_PRIV_U || mpp == RVM_RV_PRIV_S) {
        return mstatus;
    }
    return set_mpp(mstatus, RVM_RV_PRIV_S);
}

static enum rvm_err check_regions(const struct rvm_rv_region *regions, uint32_t nregions)
{
    uint64_t prev_end = 0;
    for (uint32_t i = 0; i < nregions; i++) { /* bound: nregions */
        const struct rvm_rv_region *r = &regions[i];
        uint64_t end;
        if (r->size == 0 || r->perms == 0 || (r->perms & ~PERM_BITS) != 0 ||
            ((r->perms & RVM_PERM_W) != 0 && (r->perms & RVM_PERM_R) == 0)) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        if ((r->base & GRAIN_MASK) != 0 || (r->size & GRAIN_MASK) != 0) {
            return RVM_ERR_ALIGNMENT;
        }
        if (!rvm_add_u64(r->base, r->size, &end)) {
            return RVM_ERR_OVERFLOW;
        }
        if (end > PA_LIMIT) {
            return RVM_ERR_OUT_OF_RANGE;
        }
        if (i > 0 && r->base < prev_end) {
            return RVM_ERR_OVERLAP; /* also catches unsorted input */
        }
        prev_end = end;
    }
    return RVM_OK;
}

/* Append one entry if `emit`; count it either way. */
static void put(struct rvm_rv_pmp *pmp, uint32_t *n, bool emit, uint8_t cfg, uint64_t addr)
{
    if (emit && *n < RVM_RV_PMP_MAX) {
        pmp->cfg[*n] = cfg;
        pmp->addr[*n] = addr;
    }
    (*n)++;
}

/*
 * Encode merged runs. With emit == false only counts (pmp may be NULL), so the caller can refuse
 * a layout that does not fit before touching its output.
 */
static uint32_t encode(struct rvm_rv_pmp *pmp, bool emit, const struct rvm_rv_region *regions,
                       uint32_t nregions)
{
    uint32_t n = 0;
    bool tor_top_valid = false; /* the last entry emitted is TOR ending at tor_top */
    uint64_t tor_top = 0;
    uint32_t i = 0;
    while (i < nregions) { /* bound: i advances by >= 1 per run */
        uint64_t base = regions[i].base;
        uint64_t end = base + regions[i].size;
        uint32_t perms = regions[i].perms;
        i++;
        while (i < nregions && regions[i].base == end && regions[i].perms == perms) {
            end += regions[i].size; /* bound: nregions; no wrap: checked by check_regions */
            i++;
        }
        uint64_t size = end - base;
        uint64_t napot;
        if ((tor_top_valid && tor_top == base) || (n == 0 && base == 0)) {
            put(pmp, &n, emit, rvm_rv_pmpcfg(perms, RVM_RV_PMP_A_TOR, false), end >> 2);
            tor_top_valid = true;
            tor_top = end;
        } else if (size == 4u) {
            put(pmp, &n, emit, rvm_rv_pmpcfg(perms, RVM_RV_PMP_A_NA4, false), base >> 2);
            tor_top_valid = false;
        } else if (rvm_rv_pmpaddr_napot(base, size, &napot)) {
            put(pmp, &n, emit, rvm_rv_pmpcfg(perms, RVM_RV_PMP_A_NAPOT, false), napot);
            tor_top_valid = false;
        } else {
            put(pmp, &n, emit, RVM_RV_PMP_A_OFF, base >> 2);
            put(pmp, &n, emit, rvm_rv_pmpcfg(perms, RVM_RV_PMP_A_TOR, false), end >> 2);
            tor_top_valid = true;
            tor_top = end;
        }
    }
    return n;
}

enum rvm_err rvm_rv_pmp_build(struct rvm_rv_pmp *out, uint32_t count,
                              const struct rvm_rv_region *regions, uint32_t nregions,
                              uint32_t *used)
{
    if (out == NULL || !count_ok(count) || (regions == NULL && nregions != 0)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_regions(regions, nregions);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t need = encode(NULL, false, regions, nregions);
    if (need > count) {
        return RVM_ERR_NO_SPACE;
    }
    rvm_memset(out, 0, sizeof(*out));
    out->count = count;
    encode(out, true, regions, nregions);
    if (used != NULL) {
        *used = need;
    }
    return RVM_OK;
}

bool rvm_rv_pmp_equal(const struct rvm_rv_pmp *a, const struct rvm_rv_pmp *b)
{
    if (a->count != b->count) {
        return false;
    }
    for (uint32_t i = 0; i < RVM_RV_PMP_MAX; i++) { /* bound: RVM_RV_PMP_MAX */
        if (a->cfg[i] != b->cfg[i] || a->addr[i] != b->addr[i]) {
            return false;
        }
    }
    return true;
}

enum rvm_err rvm_rv_pmp_check(const struct rvm_rv_pmp *pmp)
{
    if (pmp == NULL || !count_ok(pmp->count)) {
        return RVM_ERR_CORRUPT;
    }
    for (uint32_t i = 0; i < RVM_RV_PMP_MAX; i++) {
        uint8_t cfg = pmp->cfg[i];
        if (i >= pmp->count) {
            if (cfg != 0 || pmp->addr[i] != 0) {
                return RVM_ERR_CORRUPT;
            }
            continue;
        }
        if ((cfg & RVM_RV_PMP_RESERVED) != 0 ||
            ((cfg & RVM_RV_PMP_W) != 0 && (cfg & RVM_RV_PMP_R) == 0) ||
            (pmp->addr[i] & ~RVM_RV_PMPADDR_MASK) != 0) {
            return RVM_ERR_CORRUPT;
        }
    }
    return RVM_OK;
}

void rvm_rv_pmp_hash(const struct rvm_rv_pmp *pmp, struct rvm_sha256_ctx *ctx)
{
    uint8_t buf[9];
    rvm_store_le32(buf, pmp->count);
    rvm_sha256_update(ctx, buf, 4);
    for (uint32_t i = 0; i < pmp->count && i < RVM_RV_PMP_MAX; i++) {
        buf[0] = pmp->cfg[i];
        rvm_store_le64(buf + 1, pmp->addr[i]);
        rvm_sha256_update(ctx, buf, sizeof(buf));
    }
}
