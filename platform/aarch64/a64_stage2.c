/* SPDX-License-Identifier: MIT */
#include "a64_stage2.h"

#include "rvm/bytes.h"

/* Attribute bits a leaf may carry: lower attributes [11:2] and upper attributes [63:52]. */
#define LEAF_ATTR_MASK 0xFFF0000000000FFCull
/* Bits our leaves may have set at all (check): type, MemAttr, S2AP, SH, AF, XN, output address. */
#define LEAF_KNOWN_MASK                                                                            \
    (RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE | RVM_A64_MEMATTR_MASK | RVM_A64_S2AP_MASK |           \
     RVM_A64_SH_MASK | RVM_A64_DESC_AF | RVM_A64_DESC_XN | RVM_A64_DESC_OA_MASK)
#define IPA_LIMIT ((uint64_t)1 << RVM_A64_IPA_BITS)
#define PA_LIMIT  ((uint64_t)1 << RVM_A64_PA_BITS)
#define PAGE_MASK ((uint64_t)RVM_A64_TABLE_BYTES - 1u)

static uint32_t level_index(uint64_t ipa, uint32_t level)
{
    return (uint32_t)(ipa >> RVM_A64_LEVEL_SHIFT(level)) & (RVM_A64_ENTRIES - 1u);
}

/* Output address field of a leaf at `level`: [47:30], [47:21] or [47:12]. */
static uint64_t leaf_oa(uint64_t desc, uint32_t level)
{
    return desc & RVM_A64_DESC_OA_MASK & ~(RVM_A64_LEVEL_SIZE(level) - 1u);
}

static bool is_table(uint64_t desc, uint32_t level)
{
    return level < 3u && (desc & (RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE)) ==
                             (RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE);
}

/* Valid leaf: a block at levels 1-2 (0b01) or a page at level 3 (0b11); 0b01 at level 3 is
 * reserved and translates as invalid. */
static bool is_leaf(uint64_t desc, uint32_t level)
{
    if ((desc & RVM_A64_DESC_VALID) == 0) {
        return false;
    }
    return level == 3u ? (desc & RVM_A64_DESC_TYPE) != 0 : (desc & RVM_A64_DESC_TYPE) == 0;
}

static uint64_t leaf_type_bits(uint32_t level)
{
    return level == 3u ? RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE : RVM_A64_DESC_VALID;
}

static uint64_t page_pa(const struct rvm_a64_pool *pool, uint32_t page)
{
    return pool->base_pa + (uint64_t)page * RVM_A64_TABLE_BYTES;
}

uint32_t rvm_a64_pool_page(const struct rvm_a64_pool *pool, uint64_t pa)
{
    if (pa < pool->base_pa || (pa & PAGE_MASK) != 0) {
        return RVM_A64_NONE;
    }
    uint64_t page = (pa - pool->base_pa) / RVM_A64_TABLE_BYTES;
    return page < pool->npages ? (uint32_t)page : RVM_A64_NONE;
}

/* Precondition: nfree > 0 (callers count their needs first). */
static uint32_t pool_take(struct rvm_a64_pool *pool, uint32_t level, uint32_t parent,
                          uint32_t index)
{
    uint32_t page = pool->free_head;
    pool->free_head = pool->info[page].link;
    pool->nfree--;
    rvm_memset(pool->pages[page], 0, RVM_A64_TABLE_BYTES);
    pool->info[page].link = parent;
    pool->info[page].index = (uint16_t)index;
    pool->info[page].live = 0;
    pool->info[page].level = (uint8_t)level;
    return page;
}

/* Zeroed on release so a stale table pointer reads invalid descriptors, deterministically. */
static void pool_give(struct rvm_a64_pool *pool, uint32_t page)
{
    rvm_memset(pool->pages[page], 0, RVM_A64_TABLE_BYTES);
    rvm_memset(&pool->info[page], 0, sizeof(pool->info[page]));
    pool->info[page].link = pool->free_head;
    pool->free_head = page;
    pool->nfree++;
}

enum rvm_err rvm_a64_pool_init(struct rvm_a64_pool *pool, uint64_t (*pages)[RVM_A64_ENTRIES],
                               struct rvm_a64_page_info *info, uint32_t npages, uint64_t base_pa)
{
    if (pool == NULL || pages == NULL || info == NULL || npages == 0 || npages == RVM_A64_NONE) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((base_pa & PAGE_MASK) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    uint64_t bytes = (uint64_t)npages * RVM_A64_TABLE_BYTES;
    if (base_pa >= PA_LIMIT || bytes > PA_LIMIT - base_pa) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    pool->pages = pages;
    pool->info = info;
    pool->base_pa = base_pa;
    pool->npages = npages;
    pool->nfree = npages;
    pool->free_head = 0;
    for (uint32_t i = 0; i < npages; i++) { /* bound: npages */
        rvm_memset(pages[i], 0, RVM_A64_TABLE_BYTES);
        rvm_memset(&info[i], 0, sizeof(info[i]));
        info[i].link = i + 1u < npages ? i + 1u : RVM_A64_NONE;
    }
    return RVM_OK;
}

static bool space_ok(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space)
{
    return pool != NULL && space != NULL && space->root < pool->npages &&
           pool->info[space->root].level == 1u;
}

enum rvm_err rvm_a64_space_init(struct rvm_a64_pool *pool, struct rvm_a64_space *space)
{
    if (pool == NULL || space == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (pool->nfree == 0) {
        return RVM_ERR_NO_SPACE;
    }
    space->root = pool_take(pool, 1u, RVM_A64_NONE, 0);
    return RVM_OK;
}

void rvm_a64_space_destroy(struct rvm_a64_pool *pool, struct rvm_a64_space *space)
{
    if (!space_ok(pool, space)) {
        return;
    }
    uint64_t(*pages)[RVM_A64_ENTRIES] = pool->pages;
    uint32_t root = space->root;
    for (uint32_t i = 0; i < RVM_A64_ENTRIES; i++) {
        if (!is_table(pages[root][i], 1u)) {
            continue;
        }
        uint32_t l2 = rvm_a64_pool_page(pool, pages[root][i] & RVM_A64_DESC_OA_MASK);
        if (l2 == RVM_A64_NONE) {
            continue;
        }
        for (uint32_t j = 0; j < RVM_A64_ENTRIES; j++) {
            if (!is_table(pages[l2][j], 2u)) {
                continue;
            }
            uint32_t l3 = rvm_a64_pool_page(pool, pages[l2][j] & RVM_A64_DESC_OA_MASK);
            if (l3 != RVM_A64_NONE) {
                pool_give(pool, l3);
            }
        }
        pool_give(pool, l2);
    }
    pool_give(pool, root);
    space->root = RVM_A64_NONE;
}

uint64_t rvm_a64_vttbr(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                       uint8_t vmid)
{
    return (uint64_t)vmid << RVM_A64_VTTBR_VMID_SHIFT |
           (page_pa(pool, space->root) & RVM_A64_VTTBR_BADDR_MASK);
}

uint64_t rvm_a64_leaf_attrs(uint32_t perms, enum rvm_a64_memtype memtype)
{
    uint64_t attrs = RVM_A64_DESC_AF;
    if (memtype == RVM_A64_MEM_DEVICE) {
        attrs |= RVM_A64_MEMATTR_DEVICE_NGNRE << RVM_A64_MEMATTR_SHIFT;
    } else {
        attrs |= RVM_A64_MEMATTR_NORMAL_WB << RVM_A64_MEMATTR_SHIFT | RVM_A64_SH_INNER;
    }
    if ((perms & RVM_PERM_R) != 0) {
        attrs |= RVM_A64_S2AP_READ;
    }
    if ((perms & RVM_PERM_W) != 0) {
        attrs |= RVM_A64_S2AP_WRITE;
    }
    if ((perms & RVM_PERM_X) == 0) {
        attrs |= RVM_A64_DESC_XN;
    }
    return attrs;
}

static uint32_t leaf_perms(uint64_t desc)
{
    uint32_t perms = 0;
    if ((desc & RVM_A64_S2AP_READ) != 0) {
        perms |= RVM_PERM_R;
    }
    if ((desc & RVM_A64_S2AP_WRITE) != 0) {
        perms |= RVM_PERM_W;
    }
    if ((desc & RVM_A64_DESC_XN) == 0) {
        perms |= RVM_PERM_X;
    }
    return perms;
}

bool rvm_a64_perm_allows(uint32_t perms, enum rvm_a64_access access)
{
    switch (access) {
    case RVM_A64_READ:
        return (perms & RVM_PERM_R) != 0;
    case RVM_A64_WRITE:
        return (perms & RVM_PERM_W) != 0;
    case RVM_A64_EXEC:
        /* Stage 2 needs only XN clear for a fetch, not read permission. */
        return (perms & RVM_PERM_X) != 0;
    }
    return false;
}

/* Validation shared by map and unmap: 4 KiB multiples, no wrap, inside the IPA space. */
static enum rvm_err check_ipa_range(uint64_t ipa, uint64_t size)
{
    if (size == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((ipa & PAGE_MASK) != 0 || (size & PAGE_MASK) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    uint64_t end;
    if (!rvm_add_u64(ipa, size, &end)) {
        return RVM_ERR_OVERFLOW;
    }
    return end <= IPA_LIMIT ? RVM_OK : RVM_ERR_OUT_OF_RANGE;
}

/*
 * One pass of map. With commit == false nothing is written: the pass checks for overlap and
 * counts the table pages the range needs, remembering per level the one table it would have
 * created last ("virtual" tables: addresses only grow, so a region is never revisited once left).
 * With commit == true it writes, and cannot fail once the dry run succeeded and the pool holds
 * the counted pages.
 */
static enum rvm_err map_pass(struct rvm_a64_pool *pool, uint32_t root, uint64_t ipa, uint64_t pa,
                             uint64_t size, uint64_t attrs, bool commit, uint32_t *needed)
{
    uint64_t cur = ipa;
    uint64_t end = ipa + size;
    uint64_t delta = pa - ipa; /* modular: oa = cur + delta */
    uint64_t vt_base[4] = {0, 0, 0, 0};
    bool vt_valid[4] = {false, false, false, false};
    uint32_t count = 0;
    while (cur < end) { /* bound: each iteration places one leaf, advancing cur by >= 4 KiB */
        uint32_t table = root;
        bool virt = false;
        for (uint32_t level = 1; level <= 3u; level++) {
            uint64_t bsize = RVM_A64_LEVEL_SIZE(level);
            uint64_t base = cur & ~(bsize - 1u);
            uint64_t oa = cur + delta;
            uint32_t idx = level_index(cur, level);
            uint64_t e = virt ? 0 : pool->pages[table][idx];
            if ((e & RVM_A64_DESC_VALID) != 0) {
                if (!is_table(e, level)) {
                    return RVM_ERR_OVERLAP;
                }
                table = rvm_a64_pool_page(pool, e & RVM_A64_DESC_OA_MASK);
                if (table == RVM_A64_NONE) {
                    return RVM_ERR_CORRUPT;
                }
                continue;
            }
            if (!commit && level < 3u && vt_valid[level + 1u] && vt_base[level + 1u] == base) {
                virt = true;
                continue;
            }
            if (level == 3u ||
                ((cur & (bsize - 1u)) == 0 && (oa & (bsize - 1u)) == 0 && end - cur >= bsize)) {
                if (commit) {
                    pool->pages[table][idx] = leaf_oa(oa, level) | attrs | leaf_type_bits(level);
                    pool->info[table].live++;
                }
                cur += bsize;
                break;
            }
            count++;
            if (commit) {
                uint32_t t = pool_take(pool, level + 1u, table, idx);
                pool->pages[table][idx] = page_pa(pool, t) | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE;
                pool->info[table].live++;
                table = t;
            } else {
                vt_valid[level + 1u] = true;
                vt_base[level + 1u] = base;
                virt = true;
            }
        }
    }
    *needed = count;
    return RVM_OK;
}

enum rvm_err rvm_a64_map(struct rvm_a64_pool *pool, const struct rvm_a64_space *space, uint64_t ipa,
                         uint64_t pa, uint64_t size, uint32_t perms, enum rvm_a64_memtype memtype)
{
    if (!space_ok(pool, space)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (perms == 0 || (perms & ~(uint32_t)(RVM_PERM_R | RVM_PERM_W | RVM_PERM_X)) != 0 ||
        (memtype != RVM_A64_MEM_NORMAL && memtype != RVM_A64_MEM_DEVICE)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_ipa_range(ipa, size);
    if (err != RVM_OK) {
        return err;
    }
    if ((pa & PAGE_MASK) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    uint64_t pa_end;
    if (!rvm_add_u64(pa, size, &pa_end)) {
        return RVM_ERR_OVERFLOW;
    }
    if (pa_end > PA_LIMIT) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint64_t attrs = rvm_a64_leaf_attrs(perms, memtype);
    uint32_t needed = 0;
    err = map_pass(pool, space->root, ipa, pa, size, attrs, false, &needed);
    if (err != RVM_OK) {
        return err;
    }
    if (needed > pool->nfree) {
        return RVM_ERR_NO_SPACE;
    }
    return map_pass(pool, space->root, ipa, pa, size, attrs, true, &needed);
}

/* After a leaf was removed from path[level]: return tables that became empty, bottom up. */
static void prune(struct rvm_a64_pool *pool, const uint32_t path[4], uint32_t level)
{
    for (uint32_t l = level; l > 1u; l--) { /* bound: at most 2 levels */
        uint32_t t = path[l];
        if (pool->info[t].live != 0) {
            return;
        }
        uint32_t parent = path[l - 1u];
        pool->pages[parent][pool->info[t].index] = 0;
        pool->info[parent].live--;
        pool_give(pool, t);
    }
}

/*
 * One pass of unmap, with the same dry-run / commit structure as map_pass. In the dry run a
 * "virtual" table is a block that would have been split, so all its entries are leaves.
 */
static enum rvm_err unmap_pass(struct rvm_a64_pool *pool, uint32_t root, uint64_t ipa,
                               uint64_t size, bool commit, uint32_t *needed)
{
    uint64_t cur = ipa;
    uint64_t end = ipa + size;
    uint64_t vt_base[4] = {0, 0, 0, 0};
    bool vt_valid[4] = {false, false, false, false};
    uint32_t count = 0;
    while (cur < end) { /* bound: each iteration removes one leaf, advancing cur by >= 4 KiB */
        uint32_t path[4] = {root, root, root, root};
        uint32_t table = root;
        bool virt = false;
        for (uint32_t level = 1; level <= 3u; level++) {
            path[level] = table;
            uint64_t bsize = RVM_A64_LEVEL_SIZE(level);
            uint64_t base = cur & ~(bsize - 1u);
            uint32_t idx = level_index(cur, level);
            if (!commit && level < 3u && vt_valid[level + 1u] && vt_base[level + 1u] == base) {
                virt = true;
                continue;
            }
            uint64_t e = 0;
            if (!virt) {
                e = pool->pages[table][idx];
                if (is_table(e, level)) {
                    table = rvm_a64_pool_page(pool, e & RVM_A64_DESC_OA_MASK);
                    if (table == RVM_A64_NONE) {
                        return RVM_ERR_CORRUPT;
                    }
                    continue;
                }
                if (!is_leaf(e, level)) {
                    return RVM_ERR_NOT_FOUND;
                }
            }
            if (cur == base && end - cur >= bsize) {
                if (commit) {
                    pool->pages[table][idx] = 0;
                    pool->info[table].live--;
                    prune(pool, path, level);
                }
                cur += bsize;
                break;
            }
            /* Partly covered block (level < 3: a page is always covered whole): split it. */
            count++;
            if (commit) {
                uint32_t t = pool_take(pool, level + 1u, table, idx);
                uint64_t oa = leaf_oa(e, level);
                uint64_t attrs = (e & LEAF_ATTR_MASK) | leaf_type_bits(level + 1u);
                uint64_t step = RVM_A64_LEVEL_SIZE(level + 1u);
                for (uint32_t i = 0; i < RVM_A64_ENTRIES; i++) {
                    pool->pages[t][i] = (oa + (uint64_t)i * step) | attrs;
                }
                pool->info[t].live = (uint16_t)RVM_A64_ENTRIES;
                pool->pages[table][idx] = page_pa(pool, t) | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE;
                table = t;
            } else {
                vt_valid[level + 1u] = true;
                vt_base[level + 1u] = base;
                virt = true;
            }
        }
    }
    *needed = count;
    return RVM_OK;
}

enum rvm_err rvm_a64_unmap(struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                           uint64_t ipa, uint64_t size)
{
    if (!space_ok(pool, space)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_ipa_range(ipa, size);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t needed = 0;
    err = unmap_pass(pool, space->root, ipa, size, false, &needed);
    if (err != RVM_OK) {
        return err;
    }
    if (needed > pool->nfree) {
        return RVM_ERR_NO_SPACE;
    }
    return unmap_pass(pool, space->root, ipa, size, true, &needed);
}

static enum rvm_err walk_fault(struct rvm_a64_walk *out, enum rvm_a64_fault_kind kind,
                               uint32_t level)
{
    static const uint8_t base[] = {
        [RVM_A64_FAULT_ADDR_SIZE] = RVM_A64_FSC_ADDR_SIZE,
        [RVM_A64_FAULT_TRANSLATION] = RVM_A64_FSC_TRANSLATION,
        [RVM_A64_FAULT_ACCESS_FLAG] = RVM_A64_FSC_ACCESS_FLAG,
        [RVM_A64_FAULT_PERMISSION] = RVM_A64_FSC_PERMISSION,
        [RVM_A64_FAULT_WALK_EXT] = RVM_A64_FSC_WALK_EXT,
    };
    out->kind = (uint8_t)kind;
    out->level = (uint8_t)level;
    out->fsc = (uint8_t)(base[kind] + level);
    return RVM_ERR_GUEST_FAULT;
}

enum rvm_err rvm_a64_walk(const struct rvm_a64_pool *pool, uint64_t vttbr, uint64_t ipa,
                          enum rvm_a64_access access, struct rvm_a64_walk *out)
{
    rvm_memset(out, 0, sizeof(*out));
    out->ipa = ipa;
    if (ipa >= IPA_LIMIT) {
        /* Input address beyond VTCR_EL2.T0SZ: the pseudocode reports level 0. */
        return walk_fault(out, RVM_A64_FAULT_TRANSLATION, 0);
    }
    uint64_t table_pa = vttbr & RVM_A64_VTTBR_BADDR_MASK;
    if (table_pa >= PA_LIMIT) {
        return walk_fault(out, RVM_A64_FAULT_ADDR_SIZE, 0);
    }
    for (uint32_t level = RVM_A64_START_LVL; level <= 3u; level++) {
        uint32_t table = rvm_a64_pool_page(pool, table_pa);
        if (table == RVM_A64_NONE) {
            return walk_fault(out, RVM_A64_FAULT_WALK_EXT, level);
        }
        uint64_t desc = pool->pages[table][level_index(ipa, level)];
        if (is_table(desc, level)) {
            if ((desc & RVM_A64_DESC_OA_HIGH) != 0) {
                return walk_fault(out, RVM_A64_FAULT_ADDR_SIZE, level);
            }
            table_pa = desc & RVM_A64_DESC_OA_MASK;
            continue;
        }
        if (!is_leaf(desc, level)) {
            return walk_fault(out, RVM_A64_FAULT_TRANSLATION, level);
        }
        if ((desc & RVM_A64_DESC_OA_HIGH) != 0) {
            return walk_fault(out, RVM_A64_FAULT_ADDR_SIZE, level);
        }
        if ((desc & RVM_A64_DESC_AF) == 0) {
            return walk_fault(out, RVM_A64_FAULT_ACCESS_FLAG, level);
        }
        out->desc = desc;
        out->perms = (uint8_t)leaf_perms(desc);
        out->level = (uint8_t)level;
        out->oa = leaf_oa(desc, level) | (ipa & (RVM_A64_LEVEL_SIZE(level) - 1u));
        if (!rvm_a64_perm_allows(out->perms, access)) {
            return walk_fault(out, RVM_A64_FAULT_PERMISSION, level);
        }
        return RVM_OK;
    }
    return walk_fault(out, RVM_A64_FAULT_TRANSLATION, 3u); /* unreachable: level 3 has no tables */
}

uint32_t rvm_a64_esr(const struct rvm_a64_walk *fault, enum rvm_a64_access access)
{
    uint32_t ec = access == RVM_A64_EXEC ? RVM_A64_EC_IABT_LOWER : RVM_A64_EC_DABT_LOWER;
    uint32_t esr = ec << RVM_A64_EC_SHIFT | RVM_A64_ESR_IL | fault->fsc;
    if (access == RVM_A64_WRITE) {
        esr |= RVM_A64_ESR_WNR;
    }
    return esr;
}

/* The first index >= k whose entry has the valid bit, or RVM_A64_ENTRIES. Most of a table is
 * empty, so empty stretches are skipped eight entries at a time. */
static uint32_t next_valid(const uint64_t *table, uint32_t k)
{
    for (; k < RVM_A64_ENTRIES && (k & 7u) != 0; k++) { /* bound: 7 */
        if ((table[k] & RVM_A64_DESC_VALID) != 0) {
            return k;
        }
    }
    for (; k < RVM_A64_ENTRIES; k += 8u) { /* bound: RVM_A64_ENTRIES / 8 */
        const uint64_t any = table[k] | table[k + 1u] | table[k + 2u] | table[k + 3u] |
                             table[k + 4u] | table[k + 5u] | table[k + 6u] | table[k + 7u];
        if ((any & RVM_A64_DESC_VALID) != 0) {
            break;
        }
    }
    for (; k < RVM_A64_ENTRIES; k++) { /* bound: 8 (a group with a valid entry) */
        if ((table[k] & RVM_A64_DESC_VALID) != 0) {
            return k;
        }
    }
    return RVM_A64_ENTRIES;
}

static enum rvm_err check_table(const struct rvm_a64_pool *pool, uint32_t t)
{
    uint32_t level = pool->info[t].level;
    uint32_t live = 0;
    for (uint32_t idx = next_valid(pool->pages[t], 0); idx < RVM_A64_ENTRIES;
         idx = next_valid(pool->pages[t], idx + 1u)) { /* bound: RVM_A64_ENTRIES */
        uint64_t e = pool->pages[t][idx];
        live++;
        if (is_table(e, level)) {
            if ((e & ~(RVM_A64_DESC_OA_MASK | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE)) != 0) {
                return RVM_ERR_CORRUPT;
            }
            uint32_t q = rvm_a64_pool_page(pool, e & RVM_A64_DESC_OA_MASK);
            if (q == RVM_A64_NONE || pool->info[q].level != level + 1u || pool->info[q].link != t ||
                pool->info[q].index != idx) {
                return RVM_ERR_CORRUPT;
            }
            continue;
        }
        uint64_t oa_low = RVM_A64_DESC_OA_MASK & (RVM_A64_LEVEL_SIZE(level) - 1u);
        if (!is_leaf(e, level) || (e & ~LEAF_KNOWN_MASK) != 0 || (e & oa_low) != 0 ||
            (e & RVM_A64_DESC_OA_HIGH) != 0 || (e & RVM_A64_DESC_AF) == 0) {
            return RVM_ERR_CORRUPT;
        }
    }
    if (live != pool->info[t].live) {
        return RVM_ERR_CORRUPT;
    }
    if (level == 1u) {
        return pool->info[t].link == RVM_A64_NONE ? RVM_OK : RVM_ERR_CORRUPT;
    }
    uint32_t parent = pool->info[t].link;
    if (live == 0 || parent >= pool->npages || pool->info[parent].level + 1u != level ||
        pool->info[t].index >= RVM_A64_ENTRIES) {
        return RVM_ERR_CORRUPT;
    }
    uint64_t up = pool->pages[parent][pool->info[t].index];
    if (!is_table(up, level - 1u) || (up & RVM_A64_DESC_OA_MASK) != page_pa(pool, t)) {
        return RVM_ERR_CORRUPT;
    }
    return RVM_OK;
}

enum rvm_err rvm_a64_pool_check(const struct rvm_a64_pool *pool)
{
    if (pool == NULL || pool->pages == NULL || pool->info == NULL || pool->npages == 0 ||
        pool->nfree > pool->npages) {
        return RVM_ERR_CORRUPT;
    }
    uint32_t free_pages = 0;
    for (uint32_t i = 0; i < pool->npages; i++) { /* bound: npages, 512 reads each */
        uint32_t level = pool->info[i].level;
        if (level == 0) {
            free_pages++;
            continue;
        }
        if (level > 3u) {
            return RVM_ERR_CORRUPT;
        }
        enum rvm_err err = check_table(pool, i);
        if (err != RVM_OK) {
            return err;
        }
    }
    if (free_pages != pool->nfree) {
        return RVM_ERR_CORRUPT;
    }
    /* nfree steps that end exactly at NONE: an acyclic list of distinct free pages. */
    uint32_t p = pool->free_head;
    for (uint32_t k = 0; k < pool->nfree; k++) { /* bound: nfree <= npages */
        if (p >= pool->npages || pool->info[p].level != 0) {
            return RVM_ERR_CORRUPT;
        }
        p = pool->info[p].link;
    }
    return p == RVM_A64_NONE ? RVM_OK : RVM_ERR_CORRUPT;
}

static bool leaf_out(struct rvm_a64_leaf *out, uint64_t ipa, uint32_t level, uint64_t desc)
{
    out->ipa = ipa;
    out->size = RVM_A64_LEVEL_SIZE(level);
    out->oa = leaf_oa(desc, level);
    out->desc = desc;
    out->level = level;
    out->perms = leaf_perms(desc);
    return true;
}

uint32_t rvm_a64_space_leaves(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                              uint64_t from, struct rvm_a64_leaf *out, uint32_t max)
{
    if (max == 0 || !space_ok(pool, space) || from >= IPA_LIMIT) {
        return 0;
    }
    const uint64_t(*pages)[RVM_A64_ENTRIES] = (const uint64_t(*)[RVM_A64_ENTRIES])pool->pages;
    uint32_t root = space->root;
    uint32_t i0 = level_index(from, 1u);
    uint32_t n = 0;
    for (uint32_t i = next_valid(pages[root], i0); i < RVM_A64_ENTRIES;
         i = next_valid(pages[root], i + 1u)) { /* bound: RVM_A64_ENTRIES */
        uint64_t e1 = pages[root][i];
        uint64_t ipa1 = (uint64_t)i << RVM_A64_LEVEL_SHIFT(1u);
        if (is_leaf(e1, 1u)) {
            leaf_out(&out[n++], ipa1, 1u, e1);
            if (n == max) {
                return n;
            }
            continue;
        }
        uint32_t l2 =
            is_table(e1, 1u) ? rvm_a64_pool_page(pool, e1 & RVM_A64_DESC_OA_MASK) : RVM_A64_NONE;
        if (l2 == RVM_A64_NONE) {
            continue;
        }
        /* Only the table that contains `from` is entered part-way. */
        uint32_t j0 = i == i0 ? level_index(from, 2u) : 0;
        for (uint32_t j = next_valid(pages[l2], j0); j < RVM_A64_ENTRIES;
             j = next_valid(pages[l2], j + 1u)) { /* bound: RVM_A64_ENTRIES */
            uint64_t e2 = pages[l2][j];
            uint64_t ipa2 = ipa1 | (uint64_t)j << RVM_A64_LEVEL_SHIFT(2u);
            if (is_leaf(e2, 2u)) {
                leaf_out(&out[n++], ipa2, 2u, e2);
                if (n == max) {
                    return n;
                }
                continue;
            }
            uint32_t l3 = is_table(e2, 2u) ? rvm_a64_pool_page(pool, e2 & RVM_A64_DESC_OA_MASK)
                                           : RVM_A64_NONE;
            if (l3 == RVM_A64_NONE) {
                continue;
            }
            uint32_t k0 = i == i0 && j == level_index(from, 2u) ? level_index(from, 3u) : 0;
            for (uint32_t k = next_valid(pages[l3], k0); k < RVM_A64_ENTRIES;
                 k = next_valid(pages[l3], k + 1u)) { /* bound: RVM_A64_ENTRIES */
                if (is_leaf(pages[l3][k], 3u)) {
                    leaf_out(&out[n++], ipa2 | (uint64_t)k << RVM_A64_LEVEL_SHIFT(3u), 3u,
                             pages[l3][k]);
                    if (n == max) {
                        return n;
                    }
                }
            }
        }
    }
    return n;
}

bool rvm_a64_space_next_leaf(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                             uint64_t from, struct rvm_a64_leaf *out)
{
    return rvm_a64_space_leaves(pool, space, from, out, 1u) == 1u;
}

static void hash_leaf(struct rvm_sha256_ctx *ctx, uint64_t ipa, uint32_t level, uint64_t desc)
{
    uint8_t rec[17];
    rvm_store_le64(rec, ipa);
    rec[8] = (uint8_t)level;
    rvm_store_le64(rec + 9, desc);
    rvm_sha256_update(ctx, rec, sizeof(rec));
}

void rvm_a64_space_hash(const struct rvm_a64_pool *pool, const struct rvm_a64_space *space,
                        struct rvm_sha256_ctx *ctx)
{
    struct rvm_a64_leaf leaf;
    uint64_t from = 0;
    /* bound: one iteration per leaf, at most 512^3; each strictly advances `from` */
    while (rvm_a64_space_next_leaf(pool, space, from, &leaf)) {
        hash_leaf(ctx, leaf.ipa, leaf.level, leaf.desc);
        from = leaf.ipa + leaf.size;
    }
}
