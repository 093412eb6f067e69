/* SPDX-License-Identifier: MIT */
#include "aspace.h"

#include "rvm/bytes.h"

#define PAGE      RVM_PAGE_SIZE
#define PAGE_MASK (RVM_PAGE_SIZE - 1u)
#define PERM_BITS ((uint32_t)(RVM_PERM_R | RVM_PERM_W | RVM_PERM_X))
#define SLOT_NONE UINT32_MAX

static bool is_a64(const struct rvm_aspace *as)
{
    return as->cfg.arch == RVM_ASPACE_AARCH64;
}

static bool part_ok(rvm_partition_id part)
{
    return part != RVM_PARTITION_HYPERVISOR && part != RVM_PARTITION_INVALID;
}

bool rvm_aspace_guest_range(const struct rvm_aspace *as, uint64_t hpa, uint64_t size)
{
    uint64_t base = as->cfg.guest_base;
    uint64_t len = as->cfg.guest_size;
    return hpa >= base && hpa - base <= len && size <= len - (hpa - base);
}

/* ---- slots ------------------------------------------------------------------------------------
 */

static uint32_t slot_find(const struct rvm_aspace *as, rvm_partition_id part)
{
    for (uint32_t i = 0; i < as->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (as->spaces[i].part == part) {
            return i;
        }
    }
    return SLOT_NONE;
}

/* A fresh empty space for `part`, or SLOT_NONE when slots or table pages run out. */
static uint32_t slot_create(struct rvm_aspace *as, rvm_partition_id part)
{
    uint32_t s = slot_find(as, RVM_PARTITION_INVALID);
    if (s == SLOT_NONE) {
        return SLOT_NONE;
    }
    struct rvm_aspace_space *sp = &as->spaces[s];
    if (is_a64(as)) {
        if (rvm_a64_space_init(&as->pool, &sp->s2) != RVM_OK) {
            return SLOT_NONE;
        }
    } else {
        sp->nregions = 0;
        rvm_rv_pmp_init(&sp->image, as->cfg.pmp_entries);
    }
    sp->part = part;
    return s;
}

static bool slot_empty(const struct rvm_aspace *as, uint32_t s)
{
    const struct rvm_aspace_space *sp = &as->spaces[s];
    return is_a64(as) ? as->pool.info[sp->s2.root].live == 0 : sp->nregions == 0;
}

static bool slot_running(const struct rvm_aspace *as, uint32_t s)
{
    for (uint32_t c = 0; c < as->cfg.cpus; c++) { /* bound: cpus */
        if (as->running[c] == as->spaces[s].part) {
            return true;
        }
    }
    return false;
}

/* Slots are recycled once nothing is mapped and no CPU runs on them. */
static void slot_maybe_release(struct rvm_aspace *as, uint32_t s)
{
    if (s == SLOT_NONE || !slot_empty(as, s) || slot_running(as, s)) {
        return;
    }
    struct rvm_aspace_space *sp = &as->spaces[s];
    if (is_a64(as)) {
        rvm_a64_space_destroy(&as->pool, &sp->s2);
    }
    sp->part = RVM_PARTITION_INVALID;
    sp->nregions = 0;
}

/* ---- RISC-V region sets -----------------------------------------------------------------------
 */

/* scratch = regions with [base, base + size) inserted: OVERLAP first, then HAL when full. */
static enum rvm_err regions_insert(struct rvm_aspace *as, const struct rvm_aspace_space *sp,
                                   uint64_t base, uint64_t size, uint32_t perms, uint32_t *n_out)
{
    for (uint32_t i = 0; i < sp->nregions; i++) { /* bound: max_regions */
        const struct rvm_rv_region *r = &sp->regions[i];
        if (r->base < base + size && base < r->base + r->size) {
            return RVM_ERR_OVERLAP;
        }
    }
    if (sp->nregions >= as->cfg.max_regions) {
        return RVM_ERR_HAL;
    }
    uint32_t n = 0;
    bool placed = false;
    for (uint32_t i = 0; i < sp->nregions; i++) { /* bound: max_regions */
        const struct rvm_rv_region *r = &sp->regions[i];
        if (!placed && base < r->base) {
            as->scratch[n++] = (struct rvm_rv_region){base, size, perms, 0};
            placed = true;
        }
        as->scratch[n++] = *r;
    }
    if (!placed) {
        as->scratch[n++] = (struct rvm_rv_region){base, size, perms, 0};
    }
    *n_out = n;
    return RVM_OK;
}

/* scratch = regions minus [base, base + size); NOT_FOUND unless every byte was mapped. */
static enum rvm_err regions_remove(struct rvm_aspace *as, const struct rvm_aspace_space *sp,
                                   uint64_t base, uint64_t size, uint32_t *n_out)
{
    uint64_t end = base + size;
    uint64_t covered = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < sp->nregions; i++) { /* bound: max_regions */
        const struct rvm_rv_region *r = &sp->regions[i];
        uint64_t r_end = r->base + r->size;
        if (r_end <= base || r->base >= end) {
            as->scratch[n++] = *r;
            continue;
        }
        uint64_t lo = r->base > base ? r->base : base;
        uint64_t hi = r_end < end ? r_end : end;
        covered += hi - lo;
        if (r->base < base) {
            as->scratch[n++] = (struct rvm_rv_region){r->base, base - r->base, r->perms, 0};
        }
        if (r_end > end) {
            /* At most one region strictly contains the range: n <= nregions + 1 fits scratch. */
            as->scratch[n++] = (struct rvm_rv_region){end, r_end - end, r->perms, 0};
        }
    }
    if (covered != size) {
        return RVM_ERR_NOT_FOUND;
    }
    if (n > as->cfg.max_regions) {
        return RVM_ERR_HAL; /* splitting a region needs one more slot */
    }
    *n_out = n;
    return RVM_OK;
}

/* Install scratch[0..n) as the slot's regions if the PMP can express it. */
static enum rvm_err regions_commit(struct rvm_aspace *as, struct rvm_aspace_space *sp, uint32_t n)
{
    struct rvm_rv_pmp image;
    enum rvm_err err = rvm_rv_pmp_build(&image, as->cfg.pmp_entries, as->scratch, n, NULL);
    if (err == RVM_ERR_NO_SPACE) {
        return RVM_ERR_HAL; /* layout does not fit the PMP entries */
    }
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t i = 0; i < n; i++) { /* bound: max_regions */
        sp->regions[i] = as->scratch[i];
    }
    sp->nregions = n;
    sp->image = image;
    return RVM_OK;
}

/* ---- the address-space contract ---------------------------------------------------------------
 */

static enum rvm_err check_range(uint64_t a, uint64_t size)
{
    uint64_t end;
    if (size == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((a & PAGE_MASK) != 0 || (size & PAGE_MASK) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    return rvm_add_u64(a, size, &end) ? RVM_OK : RVM_ERR_OVERFLOW;
}

enum rvm_err rvm_aspace_map(struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                            uint64_t hpa, uint64_t size, uint32_t perms)
{
    if (!part_ok(part) || perms == 0 || (perms & ~PERM_BITS) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_X) != 0) {
        return RVM_ERR_WX;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_R) == 0) {
        return RVM_ERR_HAL; /* PMP cannot express write-only; refused on both for parity */
    }
    enum rvm_err err = check_range(ipa, size);
    if (err == RVM_OK) {
        err = check_range(hpa, size);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (!rvm_aspace_guest_range(as, hpa, size)) {
        return RVM_ERR_HAL; /* outside RAM or inside the hypervisor's own memory */
    }
    if (!is_a64(as) && ipa != hpa) {
        return RVM_ERR_HAL; /* PMP does not translate: guest addresses are host addresses */
    }
    uint32_t s = slot_find(as, part);
    bool created = false;
    if (s == SLOT_NONE) {
        s = slot_create(as, part);
        if (s == SLOT_NONE) {
            return RVM_ERR_HAL;
        }
        created = true;
    }
    struct rvm_aspace_space *sp = &as->spaces[s];
    if (is_a64(as)) {
        err = rvm_a64_map(&as->pool, &sp->s2, ipa, hpa, size, perms, RVM_A64_MEM_NORMAL);
        if (err == RVM_ERR_NO_SPACE || err == RVM_ERR_OUT_OF_RANGE) {
            err = RVM_ERR_HAL; /* table pool exhausted / beyond the 39-bit IPA space */
        }
    } else {
        uint32_t n = 0;
        err = regions_insert(as, sp, ipa, size, perms, &n);
        if (err == RVM_OK) {
            err = regions_commit(as, sp, n);
        }
    }
    if (err != RVM_OK && created) {
        slot_maybe_release(as, s);
    }
    return err;
}

enum rvm_err rvm_aspace_unmap(struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                              uint64_t size)
{
    if (!part_ok(part)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_range(ipa, size);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t s = slot_find(as, part);
    if (s == SLOT_NONE) {
        return RVM_ERR_NOT_FOUND;
    }
    struct rvm_aspace_space *sp = &as->spaces[s];
    if (is_a64(as)) {
        err = rvm_a64_unmap(&as->pool, &sp->s2, ipa, size);
        if (err == RVM_ERR_NO_SPACE) {
            err = RVM_ERR_HAL; /* splitting a block needs table pages the pool lacks */
        } else if (err == RVM_ERR_OUT_OF_RANGE) {
            err = RVM_ERR_NOT_FOUND;
        }
    } else {
        uint32_t n = 0;
        err = regions_remove(as, sp, ipa, size, &n);
        if (err == RVM_OK) {
            err = regions_commit(as, sp, n);
        }
    }
    if (err == RVM_OK) {
        slot_maybe_release(as, s);
    }
    return err;
}

enum rvm_err rvm_aspace_activate(struct rvm_aspace *as, uint32_t cpu, rvm_partition_id part,
                                 uint16_t vmid, const struct rvm_aspace_space **space)
{
    if (cpu >= as->cfg.cpus || vmid >= RVM_A64_VMID_COUNT) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!part_ok(part)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t s = slot_find(as, part);
    if (s == SLOT_NONE) {
        s = slot_create(as, part);
        if (s == SLOT_NONE) {
            return RVM_ERR_HAL;
        }
    }
    rvm_partition_id before = as->running[cpu];
    uint32_t prev = before != RVM_PARTITION_INVALID ? slot_find(as, before) : SLOT_NONE;
    as->running[cpu] = part;
    if (prev != s) {
        slot_maybe_release(as, prev);
    }
    *space = &as->spaces[s];
    return RVM_OK;
}

const struct rvm_aspace_space *rvm_aspace_find(const struct rvm_aspace *as, rvm_partition_id part)
{
    uint32_t s = part_ok(part) ? slot_find(as, part) : SLOT_NONE;
    return s == SLOT_NONE ? NULL : &as->spaces[s];
}

/* Software translation within one page of one space for `kind`. */
static enum rvm_err space_translate(const struct rvm_aspace *as, const struct rvm_aspace_space *sp,
                                    uint64_t ipa, uint64_t len, enum rvm_aspace_access kind,
                                    uint64_t *hpa)
{
    if (is_a64(as)) {
        struct rvm_a64_walk w;
        uint64_t vttbr = rvm_a64_vttbr(&as->pool, &sp->s2, 0);
        if (rvm_a64_walk(&as->pool, vttbr, ipa, (enum rvm_a64_access)kind, &w) != RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
        *hpa = w.oa;
    } else {
        /* M-mode with MPRV = 1 and MPP = S: checked against the partition's PMP as S-mode. */
        struct rvm_rv_fault f;
        uint64_t mstatus = RVM_RV_MSTATUS_MPRV | (uint64_t)RVM_RV_PRIV_S
                                                     << RVM_RV_MSTATUS_MPP_SHIFT;
        enum rvm_rv_access a = kind == RVM_ASPACE_WRITE  ? RVM_RV_STORE
                               : kind == RVM_ASPACE_EXEC ? RVM_RV_FETCH
                                                         : RVM_RV_LOAD;
        enum rvm_rv_priv cur = a == RVM_RV_FETCH ? RVM_RV_PRIV_S : RVM_RV_PRIV_M;
        if (rvm_rv_access_check(&sp->image, mstatus, cur, ipa, len, a, &f) != RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
        *hpa = ipa;
    }
    return rvm_aspace_guest_range(as, *hpa, len) ? RVM_OK : RVM_ERR_GUEST_FAULT;
}

enum rvm_err rvm_aspace_translate(const struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                                  uint64_t len, enum rvm_aspace_access kind, uint64_t *hpa)
{
    const struct rvm_aspace_space *sp = rvm_aspace_find(as, part);
    if (sp == NULL) {
        return RVM_ERR_GUEST_FAULT;
    }
    return space_translate(as, sp, ipa, len, kind, hpa);
}

/*
 * Check every page of the range first, then copy, so a fault anywhere copies nothing. Chunks
 * never cross a 4 KiB page, and every mapping is page granular, so each chunk lies in one leaf /
 * one PMP entry.
 */
static enum rvm_err guest_copy(const struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                               uint8_t *host, size_t len, bool write)
{
    if (len == 0) {
        return RVM_OK;
    }
    uint64_t last;
    if (!rvm_add_u64(ipa, (uint64_t)len - 1u, &last)) {
        return RVM_ERR_OVERFLOW;
    }
    const struct rvm_aspace_space *sp = rvm_aspace_find(as, part);
    if (sp == NULL) {
        return RVM_ERR_GUEST_FAULT;
    }
    enum rvm_aspace_access kind = write ? RVM_ASPACE_WRITE : RVM_ASPACE_READ;
    for (int pass = 0; pass < 2; pass++) { /* bound: check, then copy */
        uint64_t a = ipa;
        size_t done = 0;
        while (done < len) { /* bound: one iteration per page of the range */
            uint64_t chunk = PAGE - (a & PAGE_MASK);
            if (chunk > len - done) {
                chunk = len - done;
            }
            uint64_t hpa = 0;
            if (space_translate(as, sp, a, chunk, kind, &hpa) != RVM_OK) {
                return RVM_ERR_GUEST_FAULT; /* only possible in pass 0 */
            }
            if (pass == 1) {
                if (write) {
                    as->mem.write(as->mem.ctx, hpa, host + done, (size_t)chunk);
                } else {
                    as->mem.read(as->mem.ctx, hpa, host + done, (size_t)chunk);
                }
            }
            done += (size_t)chunk;
            a += chunk;
        }
    }
    return RVM_OK;
}

enum rvm_err rvm_aspace_guest_read(const struct rvm_aspace *as, rvm_partition_id part, uint64_t ipa,
                                   void *dst, size_t len)
{
    return guest_copy(as, part, ipa, dst, len, false);
}

enum rvm_err rvm_aspace_guest_write(const struct rvm_aspace *as, rvm_partition_id part,
                                    uint64_t ipa, const void *src, size_t len)
{
    /* The buffer is only read from in the write direction. */
    return guest_copy(as, part, ipa, (uint8_t *)(uintptr_t)src, len, true);
}

/* Leaves read per walk from a space's root. */
#define LEAF_BATCH 32u

uint64_t rvm_aspace_mapped_bytes(const struct rvm_aspace *as, rvm_partition_id part)
{
    const struct rvm_aspace_space *sp = rvm_aspace_find(as, part);
    if (sp == NULL) {
        return 0;
    }
    uint64_t total = 0;
    if (is_a64(as)) {
        struct rvm_a64_leaf leaf[LEAF_BATCH];
        uint64_t from = 0;
        uint32_t n = LEAF_BATCH;
        /* bound: one iteration per LEAF_BATCH leaves of the space, at most the pool's entries */
        while (n == LEAF_BATCH &&
               (n = rvm_a64_space_leaves(&as->pool, &sp->s2, from, leaf, LEAF_BATCH)) != 0) {
            for (uint32_t i = 0; i < n; i++) { /* bound: LEAF_BATCH */
                total += leaf[i].size;
            }
            from = leaf[n - 1u].ipa + leaf[n - 1u].size;
        }
        return total;
    }
    for (uint32_t i = 0; i < sp->nregions; i++) { /* bound: max_regions */
        total += sp->regions[i].size;
    }
    return total;
}

enum rvm_err rvm_aspace_check(const struct rvm_aspace *as)
{
    if (is_a64(as)) {
        enum rvm_err err = rvm_a64_pool_check(&as->pool);
        if (err != RVM_OK) {
            return err;
        }
    }
    uint32_t roots = 0;
    for (uint32_t s = 0; s < as->cfg.max_partitions; s++) { /* bound: max_partitions */
        const struct rvm_aspace_space *sp = &as->spaces[s];
        if (sp->part == RVM_PARTITION_INVALID) {
            continue;
        }
        if (!part_ok(sp->part) || slot_find(as, sp->part) != s) {
            return RVM_ERR_CORRUPT; /* one slot per partition */
        }
        if (is_a64(as)) {
            if (sp->s2.root >= as->pool.npages || as->pool.info[sp->s2.root].level != 1u) {
                return RVM_ERR_CORRUPT;
            }
            roots++;
            continue;
        }
        struct rvm_rv_pmp image;
        if (sp->nregions > as->cfg.max_regions || rvm_rv_pmp_check(&sp->image) != RVM_OK ||
            rvm_rv_pmp_build(&image, as->cfg.pmp_entries, sp->regions, sp->nregions, NULL) !=
                RVM_OK ||
            !rvm_rv_pmp_equal(&image, &sp->image)) {
            return RVM_ERR_CORRUPT;
        }
    }
    if (is_a64(as)) {
        /* Every root in the pool belongs to exactly one slot. */
        uint32_t pool_roots = 0;
        for (uint32_t i = 0; i < as->pool.npages; i++) { /* bound: table pool pages */
            pool_roots += as->pool.info[i].level == 1u;
        }
        if (pool_roots != roots) {
            return RVM_ERR_CORRUPT;
        }
    }
    for (uint32_t c = 0; c < as->cfg.cpus; c++) { /* bound: cpus */
        if (as->running[c] != RVM_PARTITION_INVALID && slot_find(as, as->running[c]) == SLOT_NONE) {
            return RVM_ERR_CORRUPT;
        }
    }
    return RVM_OK;
}

/* ---- life cycle -------------------------------------------------------------------------------
 */

static void slots_clear(struct rvm_aspace *as)
{
    for (uint32_t s = 0; s < as->cfg.max_partitions; s++) { /* bound: max_partitions */
        struct rvm_aspace_space *sp = &as->spaces[s];
        sp->part = RVM_PARTITION_INVALID;
        sp->s2.root = RVM_A64_NONE;
        sp->nregions = 0;
    }
    for (uint32_t c = 0; c < as->cfg.cpus; c++) { /* bound: cpus */
        as->running[c] = RVM_PARTITION_INVALID;
    }
}

enum rvm_err rvm_aspace_init(struct rvm_aspace *as, const struct rvm_aspace_config *cfg,
                             const struct rvm_aspace_storage *storage,
                             const struct rvm_aspace_memory *mem)
{
    bool a64 = cfg->arch == RVM_ASPACE_AARCH64;
    if ((!a64 && cfg->arch != RVM_ASPACE_RISCV) || cfg->cpus == 0 || cfg->max_partitions == 0 ||
        storage->spaces == NULL || storage->running == NULL || mem->read == NULL ||
        mem->write == NULL ||
        (!a64 && (storage->regions == NULL || storage->scratch == NULL || cfg->max_regions == 0))) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    as->cfg = *cfg;
    as->spaces = storage->spaces;
    as->running = storage->running;
    as->scratch = storage->scratch;
    as->mem = *mem;
    if (a64) {
        enum rvm_err err = rvm_a64_pool_init(&as->pool, storage->table_pages, storage->table_info,
                                             storage->table_npages, storage->table_base_pa);
        if (err != RVM_OK) {
            return err;
        }
    }
    slots_clear(as);
    for (uint32_t s = 0; s < cfg->max_partitions; s++) { /* bound: max_partitions */
        as->spaces[s].regions = a64 ? NULL : &storage->regions[(size_t)s * cfg->max_regions];
    }
    return RVM_OK;
}

void rvm_aspace_reset(struct rvm_aspace *as)
{
    for (uint32_t s = 0; s < as->cfg.max_partitions; s++) { /* bound: max_partitions */
        struct rvm_aspace_space *sp = &as->spaces[s];
        if (sp->part != RVM_PARTITION_INVALID && is_a64(as)) {
            rvm_a64_space_destroy(&as->pool, &sp->s2);
        }
    }
    slots_clear(as);
    if (!is_a64(as)) {
        return;
    }
    for (uint32_t i = 0; i < as->pool.npages; i++) { /* bound: table pool pages */
        if (as->pool.info[i].level != 0) { /* not reachable from any space: clear it too */
            for (uint32_t e = 0; e < RVM_A64_ENTRIES; e++) { /* bound: entries per table */
                as->pool.pages[i][e] = 0;
            }
            as->pool.info[i] = (struct rvm_a64_page_info){0};
        }
        as->pool.info[i].link = i + 1u < as->pool.npages ? i + 1u : RVM_A64_NONE;
    }
    as->pool.free_head = 0;
    as->pool.nfree = as->pool.npages;
}
