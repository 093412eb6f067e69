/* SPDX-License-Identifier: MIT */
#include "rvm/buddy.h"

#include "rvm/bytes.h"

#define TAG_FREE  RVM_BUDDY_TAG_FREE
#define TAG_ALLOC RVM_BUDDY_TAG_ALLOC
#define TAG_ORDER RVM_BUDDY_TAG_ORDER

static inline uint32_t bit(uint32_t order)
{
    return (uint32_t)1 << order;
}

static inline void list_push(struct rvm_buddy *b, uint32_t order, uint32_t page)
{
    uint32_t first = b->head[order];
    rvm_buddy_link_set_(b->links, page, first, RVM_BUDDY_NIL);
    if (first != RVM_BUDDY_NIL) {
        b->links[first].prev = page;
    }
    b->head[order] = page;
    b->nonempty |= bit(order);
}

uint32_t rvm_buddy_order_for_pages(uint64_t npages)
{
    uint32_t order = 0;
    while (order < 32u && ((uint64_t)1 << order) < npages) { /* bound: 32 */
        order++;
    }
    return order;
}

enum rvm_err rvm_buddy_init(struct rvm_buddy *b, const struct rvm_buddy_config *cfg)
{
    if (b == NULL || cfg == NULL || cfg->tags == NULL || cfg->links == NULL || cfg->npages == 0 ||
        cfg->npages > RVM_BUDDY_MAX_PAGES) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (cfg->max_order > RVM_BUDDY_ORDER_LIMIT) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if ((cfg->base.v & (RVM_PAGE_SIZE - 1u)) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    uint64_t end;
    if (!rvm_add_u64(cfg->base.v, (uint64_t)cfg->npages << RVM_PAGE_SHIFT, &end)) {
        return RVM_ERR_OVERFLOW;
    }
    b->base = cfg->base.v;
    b->npages = cfg->npages;
    b->max_order = cfg->max_order;
    b->free_pages = cfg->npages;
    b->nonempty = 0;
    b->tags = cfg->tags;
    b->links = cfg->links;
    for (uint32_t k = 0; k <= RVM_BUDDY_ORDER_LIMIT; k++) {
        b->head[k] = RVM_BUDDY_NIL;
    }
    rvm_memset(b->tags, 0, cfg->npages);
    /*
     * Cut [0, npages) into the largest aligned blocks, walking down from the top so that pushing
     * each onto its list leaves the lowest address first. The block ending at p has order
     * ctz(p) (capped at max_order), which is also the greedy cut from the bottom.
     */
    uint32_t p = cfg->npages;
    while (p != 0) { /* bound: 32 + npages >> max_order blocks */
        uint32_t order = rvm_ctz32(p);
        if (order > cfg->max_order) {
            order = cfg->max_order;
        }
        p -= bit(order);
        b->tags[p] = (uint8_t)(TAG_FREE | order);
        list_push(b, order, p);
    }
    return RVM_OK;
}

enum rvm_err rvm_buddy_prepare_alloc(const struct rvm_buddy *b, uint32_t order,
                                     struct rvm_buddy_alloc_plan *plan)
{
    if (order > b->max_order) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint32_t avail = b->nonempty >> order;
    if (avail == 0) {
        return RVM_ERR_NO_MEMORY;
    }
    uint32_t from = order + rvm_ctz32(avail);
    plan->page = b->head[from];
    plan->order = order;
    plan->from_order = from;
    return RVM_OK;
}

rvm_hpa_t rvm_buddy_commit_alloc(struct rvm_buddy *b, const struct rvm_buddy_alloc_plan *plan)
{
    uint32_t page = rvm_buddy_take_(b, plan->order, plan->from_order);
    return rvm_hpa(b->base + ((uint64_t)page << RVM_PAGE_SHIFT));
}

enum rvm_err rvm_buddy_prepare_free(const struct rvm_buddy *b, rvm_hpa_t addr, uint32_t order,
                                    uint32_t *page)
{
    uint32_t p;
    enum rvm_err err = rvm_buddy_locate_(b, addr.v, order, &p);
    if (err != RVM_OK) {
        return err;
    }
    if (b->tags[p] != (TAG_ALLOC | order)) {
        return RVM_ERR_BAD_FREE;
    }
    *page = p;
    return RVM_OK;
}

void rvm_buddy_commit_free(struct rvm_buddy *b, uint32_t page, uint32_t order)
{
    rvm_buddy_release_(b, page, order);
}

enum rvm_err rvm_buddy_allocation_order(const struct rvm_buddy *b, rvm_hpa_t addr, uint32_t *order)
{
    uint32_t page;
    if (rvm_buddy_locate_(b, addr.v, 0, &page) != RVM_OK || (b->tags[page] & TAG_ALLOC) == 0) {
        return RVM_ERR_NOT_FOUND;
    }
    *order = b->tags[page] & TAG_ORDER;
    return RVM_OK;
}

enum rvm_err rvm_buddy_check(const struct rvm_buddy *b)
{
    if (b->tags == NULL || b->links == NULL || b->npages == 0 || b->npages > RVM_BUDDY_MAX_PAGES ||
        b->max_order > RVM_BUDDY_ORDER_LIMIT || (b->base & (RVM_PAGE_SIZE - 1u)) != 0) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t per_order[RVM_BUDDY_ORDER_LIMIT + 1] = {0};
    uint64_t free_pages = 0;
    uint64_t p = 0;
    while (p < b->npages) { /* bound: npages (each block advances p by >= 1) */
        uint32_t tag = b->tags[p];
        uint32_t order = tag & TAG_ORDER;
        uint32_t state = tag & ~TAG_ORDER;
        if ((state != TAG_FREE && state != TAG_ALLOC) || order > b->max_order ||
            (p & (bit(order) - 1u)) != 0 || p + bit(order) > b->npages) {
            return RVM_ERR_INTERNAL;
        }
        for (uint64_t q = p + 1; q < p + bit(order); q++) { /* bound: block size */
            if (b->tags[q] != 0) {
                return RVM_ERR_INTERNAL;
            }
        }
        if (state == TAG_FREE) {
            free_pages += bit(order);
            per_order[order]++;
            uint64_t buddy = p ^ bit(order);
            if (order < b->max_order && buddy < b->npages && b->tags[buddy] == (TAG_FREE | order)) {
                return RVM_ERR_INTERNAL; /* two free buddies left unmerged */
            }
        }
        p += bit(order);
    }
    if (free_pages != b->free_pages) {
        return RVM_ERR_INTERNAL;
    }
    for (uint32_t k = 0; k <= RVM_BUDDY_ORDER_LIMIT; k++) {
        bool listed = (b->nonempty & bit(k)) != 0;
        if (listed != (b->head[k] != RVM_BUDDY_NIL) || (k > b->max_order && listed)) {
            return RVM_ERR_INTERNAL;
        }
        /* The list must hold per_order[k] distinct free heads of order k: a walk that finds only
         * such heads, with matching back links, and ends after exactly that many, cannot have a
         * cycle or a duplicate, so it holds all of them. */
        uint32_t prev = RVM_BUDDY_NIL;
        uint32_t node = b->head[k];
        uint32_t seen = 0;
        while (node != RVM_BUDDY_NIL) { /* bound: per_order[k] + 1 */
            if (node >= b->npages || b->tags[node] != (TAG_FREE | k) ||
                b->links[node].prev != prev || seen == per_order[k]) {
                return RVM_ERR_INTERNAL;
            }
            seen++;
            prev = node;
            node = b->links[node].next;
        }
        if (seen != per_order[k]) {
            return RVM_ERR_INTERNAL;
        }
    }
    return RVM_OK;
}

static void absorb_u32(struct rvm_sha256_ctx *ctx, uint32_t v)
{
    uint8_t le[4];
    rvm_store_le32(le, v);
    rvm_sha256_update(ctx, le, sizeof(le));
}

void rvm_buddy_hash(const struct rvm_buddy *b, struct rvm_sha256_ctx *ctx)
{
    static const uint8_t domain[8] = {'r', 'v', 'm', 'b', 'u', 'd', 'd', 'y'};
    uint8_t le[8];
    rvm_sha256_update(ctx, domain, sizeof(domain));
    rvm_store_le64(le, b->base);
    rvm_sha256_update(ctx, le, sizeof(le));
    absorb_u32(ctx, b->npages);
    absorb_u32(ctx, b->max_order);
    absorb_u32(ctx, b->free_pages);
    /* Tags are canonical: non-zero exactly on block heads, holding state and order. */
    rvm_sha256_update(ctx, b->tags, b->npages);
    for (uint32_t k = 0; k <= b->max_order; k++) {
        uint32_t node = b->head[k];
        uint32_t steps = 0;
        while (node < b->npages && steps < b->npages) { /* bound: npages */
            absorb_u32(ctx, node);
            node = b->links[node].next;
            steps++;
        }
        absorb_u32(ctx, UINT32_MAX); /* list terminator: no page has this index */
    }
}
