/* SPDX-License-Identifier: MIT */
/*
 * Buddy allocator for host-physical pages (4 KiB).
 *
 * Manages `npages` pages starting at a page-aligned `base`; npages need not be a power of two (the
 * range is cut into the largest aligned blocks that fit, and those never merge past the end).
 * Blocks are 2^order pages, order 0..max_order (default 10: 4 MiB), aligned to their size
 * relative to `base` (pass a base aligned to 2^max_order pages for physically aligned blocks).
 *
 * Per-page metadata lives in caller storage: one tag byte per page and one link pair per page.
 * A tag is non-zero only on the first page of a block and records whether the block is free or
 * allocated and its order. That is what makes every bad free an error instead of corruption: a
 * free must name the first page of an allocated block of exactly that order, so a wrong address,
 * a wrong order, an address inside a block, an unaligned or out-of-range address and a double
 * free are all refused and change nothing. (A stale free of a block that has since been handed
 * out again at the same order cannot be told apart by an allocator; the region layer frees only
 * what its own records say it holds.)
 *
 * Free blocks sit on one doubly linked list per order, threaded through the link storage, with a
 * bit mask of non-empty orders, so alloc is a find-first-set plus splits and free is a run of
 * O(1) buddy merges. Invariant: free_pages + allocated pages == npages, always.
 *
 * This is bookkeeping, not a gated kernel operation: it takes no witness log. Its callers (region
 * create/destroy and the tier moves in region.h) witness the operation that needs the pages; for
 * that they use the prepare/commit split below, so the allocation happens only after the witness.
 * Not thread-safe; the kernel serialises calls.
 */
#ifndef RVM_BUDDY_H
#define RVM_BUDDY_H

#include "rvm/bytes.h"
#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_BUDDY_DEFAULT_MAX_ORDER 10u
#define RVM_BUDDY_ORDER_LIMIT       31u         /* max_order <= 31: page indices are u32 */
#define RVM_BUDDY_MAX_PAGES         0xFFFFFFFEu /* UINT32_MAX ends a list */
#define RVM_BUDDY_NIL               0xFFFFFFFFu

/* Link storage for one page; meaningful only while the page heads a free block. */
struct rvm_buddy_link {
    uint32_t next;
    uint32_t prev;
};

struct rvm_buddy_config {
    rvm_hpa_t base;               /* page aligned */
    uint32_t npages;              /* 1..RVM_BUDDY_MAX_PAGES; base + npages pages must not wrap */
    uint32_t max_order;           /* 0..RVM_BUDDY_ORDER_LIMIT */
    uint8_t *tags;                /* caller storage: npages bytes (contents ignored) */
    struct rvm_buddy_link *links; /* caller storage: npages entries (contents ignored) */
};

struct rvm_buddy {
    uint64_t base;
    uint32_t npages;
    uint32_t max_order;
    uint32_t free_pages;
    uint32_t nonempty; /* bit k set <=> free list k is non-empty */
    uint8_t *tags;
    struct rvm_buddy_link *links;
    uint32_t head[RVM_BUDDY_ORDER_LIMIT + 1]; /* first free block of each order, or NIL */
};

/* A validated allocation that has not happened yet (rvm_buddy_prepare_alloc). */
struct rvm_buddy_alloc_plan {
    uint32_t page;       /* first page of the block that will be returned */
    uint32_t order;      /* requested order */
    uint32_t from_order; /* order of the free block that will be split */
};

/*
 * Initialise over caller storage; every page starts free. RVM_ERR_INVALID_ARGUMENT (missing
 * storage, npages 0 or too large), RVM_ERR_OUT_OF_RANGE (max_order), RVM_ERR_ALIGNMENT (base),
 * RVM_ERR_OVERFLOW (the range wraps the address space).
 */
enum rvm_err rvm_buddy_init(struct rvm_buddy *b, const struct rvm_buddy_config *cfg);

/*
 * Allocate 2^order contiguous pages; *out receives the host address of the first.
 * RVM_ERR_OUT_OF_RANGE when order > max_order, RVM_ERR_NO_MEMORY when no block is big enough
 * (fragmentation included). On error nothing changes. (Inline, at the end of this header.)
 */
static inline enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, uint32_t order, rvm_hpa_t *out);

/*
 * Free the block of 2^order pages at `addr`, merging with free buddies. Errors change nothing:
 * RVM_ERR_OUT_OF_RANGE (order > max_order, or addr outside the managed range), RVM_ERR_ALIGNMENT
 * (addr not page aligned, or not aligned to the block size), RVM_ERR_BAD_FREE (addr is not the
 * start of an allocated block of exactly this order: wrong order, double free, inside a block).
 * (Inline, at the end of this header.)
 */
static inline enum rvm_err rvm_buddy_free(struct rvm_buddy *b, rvm_hpa_t addr, uint32_t order);

/* ---- prepare/commit halves, for callers that must witness before they allocate --------------- */

/* Validate and pick the block rvm_buddy_alloc would return; changes nothing. Same errors. */
enum rvm_err rvm_buddy_prepare_alloc(const struct rvm_buddy *b, uint32_t order,
                                     struct rvm_buddy_alloc_plan *plan);

/* Carry out a plan from rvm_buddy_prepare_alloc on the unchanged allocator. Cannot fail. */
rvm_hpa_t rvm_buddy_commit_alloc(struct rvm_buddy *b, const struct rvm_buddy_alloc_plan *plan);

/* Validate a free (same errors as rvm_buddy_free); changes nothing. *page receives the index. */
enum rvm_err rvm_buddy_prepare_free(const struct rvm_buddy *b, rvm_hpa_t addr, uint32_t order,
                                    uint32_t *page);

/* Free a block validated by rvm_buddy_prepare_free on the unchanged allocator. Cannot fail. */
void rvm_buddy_commit_free(struct rvm_buddy *b, uint32_t page, uint32_t order);

/* ---- queries --------------------------------------------------------------------------------- */

/* The order of the allocated block starting at addr; RVM_ERR_NOT_FOUND if there is none. */
enum rvm_err rvm_buddy_allocation_order(const struct rvm_buddy *b, rvm_hpa_t addr, uint32_t *order);

static inline uint32_t rvm_buddy_free_pages(const struct rvm_buddy *b)
{
    return b->free_pages;
}

static inline uint32_t rvm_buddy_allocated_pages(const struct rvm_buddy *b)
{
    return b->npages - b->free_pages;
}

static inline uint32_t rvm_buddy_total_pages(const struct rvm_buddy *b)
{
    return b->npages;
}

/* Smallest order whose block holds `npages` pages (0 for 0 or 1); 32 when npages > 2^31. */
uint32_t rvm_buddy_order_for_pages(uint64_t npages);

/*
 * Invariants, read-only, O(npages + free blocks): every page is covered by exactly one block
 * (tags only on block heads, heads aligned and inside the range), free lists hold exactly the
 * free heads of their order with consistent back links, no two free buddies of the same order
 * below max_order, the non-empty mask matches the lists, and free_pages matches the tags.
 * RVM_ERR_INTERNAL on any violation.
 */
enum rvm_err rvm_buddy_check(const struct rvm_buddy *b);

/*
 * Absorb a canonical encoding: base, npages, max_order, every block (head page, state, order)
 * in address order, then every free list in list order (list order decides future allocations).
 */
void rvm_buddy_hash(const struct rvm_buddy *b, struct rvm_sha256_ctx *ctx);

/* ------------------------------------------------------------------------------------------------
 * Inline fast paths. Allocation and free are a few dozen instructions, so a call costs a large
 * share of them; these are the implementation, not API (use the functions above).
 *
 * Tag byte of a block's first page: state in the top two bits, order in the low six; every other
 * page's tag is 0. The hot paths copy the allocator's fields into locals and write them back
 * once, because tags are uint8_t, which may alias anything, and every tag store would otherwise
 * force a reload of head[], nonempty and the array pointers from *b.
 * --------------------------------------------------------------------------------------------- */

#define RVM_BUDDY_TAG_FREE  0x40u
#define RVM_BUDDY_TAG_ALLOC 0x80u
#define RVM_BUDDY_TAG_ORDER 0x3Fu

/* A link pair moves as one 64-bit word: GCC otherwise assembles it in vector registers. */
static inline void rvm_buddy_link_set_(struct rvm_buddy_link *links, uint32_t i, uint32_t next,
                                       uint32_t prev)
{
#if RVM_HOST_IS_LE
    uint64_t v = (uint64_t)prev << 32 | next;
#else
    uint64_t v = (uint64_t)next << 32 | prev;
#endif
    __builtin_memcpy(&links[i], &v, sizeof(v));
}

/* Take the first block of list `from` (the lowest non-empty order >= order) and split it down to
 * `order`; returns the first page. */
static inline uint32_t rvm_buddy_take_(struct rvm_buddy *b, uint32_t order, uint32_t from)
{
    uint8_t *tags = b->tags;
    struct rvm_buddy_link *links = b->links;
    uint32_t *head = b->head;
    uint32_t nonempty = b->nonempty;
    uint32_t page = head[from];
    uint32_t next = links[page].next;
    head[from] = next;
    if (next == RVM_BUDDY_NIL) {
        nonempty &= ~((uint32_t)1 << from);
    } else {
        links[next].prev = RVM_BUDDY_NIL;
    }
    /* Every list from order to from - 1 was empty, so each upper half is alone on its list. */
    if (from > order) {
        nonempty |= (((uint32_t)1 << from) - 1u) & ~(((uint32_t)1 << order) - 1u);
        uint32_t size = (uint32_t)1 << from;
        for (uint32_t k = from; k > order;) { /* bound: from - order <= max_order */
            k--;
            size >>= 1;
            uint32_t upper = page + size;
            rvm_buddy_link_set_(links, upper, RVM_BUDDY_NIL, RVM_BUDDY_NIL);
            head[k] = upper;
            tags[upper] = (uint8_t)(RVM_BUDDY_TAG_FREE | k);
        }
    }
    b->nonempty = nonempty;
    b->free_pages -= (uint32_t)1 << order;
    tags[page] = (uint8_t)(RVM_BUDDY_TAG_ALLOC | order);
    return page;
}

/* Page index of addr, or why addr cannot start a block of `order`. */
static inline enum rvm_err rvm_buddy_locate_(const struct rvm_buddy *b, uint64_t addr,
                                             uint32_t order, uint32_t *page)
{
    if (order > b->max_order) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if ((addr & (RVM_PAGE_SIZE - 1u)) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    if (addr < b->base || ((addr - b->base) >> RVM_PAGE_SHIFT) >= b->npages) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint32_t p = (uint32_t)((addr - b->base) >> RVM_PAGE_SHIFT);
    if ((p & (((uint32_t)1 << order) - 1u)) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    *page = p;
    return RVM_OK;
}

/* Free the allocated block at `page` of `order`, merging upwards, and list the result. */
static inline void rvm_buddy_release_(struct rvm_buddy *b, uint32_t page, uint32_t order)
{
    uint8_t *tags = b->tags;
    struct rvm_buddy_link *links = b->links;
    uint32_t *head = b->head;
    uint32_t nonempty = b->nonempty;
    const uint32_t npages = b->npages;
    uint32_t size = (uint32_t)1 << order;
    uint32_t want = RVM_BUDDY_TAG_FREE | order; /* tag of a free buddy at the current order */
    const uint32_t top = RVM_BUDDY_TAG_FREE | b->max_order;
    b->free_pages += size;
    tags[page] = 0;
    /* A buddy past the end cannot be free: blocks never extend beyond npages. */
    while (want < top) { /* bound: max_order - order */
        uint32_t buddy = page ^ size;
        if (buddy >= npages || tags[buddy] != want) {
            break;
        }
        uint64_t both;
        __builtin_memcpy(&both, &links[buddy], sizeof(both));
        if (both == UINT64_MAX) { /* alone on its list (next == prev == NIL) */
            head[want & RVM_BUDDY_TAG_ORDER] = RVM_BUDDY_NIL;
            nonempty &= ~size;
        } else {
            uint32_t next = links[buddy].next;
            uint32_t prev = links[buddy].prev;
            if (prev == RVM_BUDDY_NIL) {
                head[want & RVM_BUDDY_TAG_ORDER] = next;
            } else {
                links[prev].next = next;
            }
            if (next != RVM_BUDDY_NIL) {
                links[next].prev = prev;
            }
        }
        tags[buddy] = 0;
        page &= ~size;
        size <<= 1;
        want++;
    }
    order = want & RVM_BUDDY_TAG_ORDER;
    uint32_t first = head[order];
    rvm_buddy_link_set_(links, page, first, RVM_BUDDY_NIL);
    if (first != RVM_BUDDY_NIL) {
        links[first].prev = page;
    }
    head[order] = page;
    b->nonempty = nonempty | size;
    tags[page] = (uint8_t)want;
}

static inline enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, uint32_t order, rvm_hpa_t *out)
{
    if (order > b->max_order) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint32_t avail = b->nonempty >> order;
    if (avail == 0) {
        return RVM_ERR_NO_MEMORY;
    }
    uint32_t page = rvm_buddy_take_(b, order, order + rvm_ctz32(avail));
    *out = rvm_hpa(b->base + ((uint64_t)page << RVM_PAGE_SHIFT));
    return RVM_OK;
}

static inline enum rvm_err rvm_buddy_free(struct rvm_buddy *b, rvm_hpa_t addr, uint32_t order)
{
    uint32_t page;
    enum rvm_err err = rvm_buddy_locate_(b, addr.v, order, &page);
    if (err != RVM_OK) {
        return err;
    }
    if (b->tags[page] != (RVM_BUDDY_TAG_ALLOC | order)) {
        return RVM_ERR_BAD_FREE;
    }
    rvm_buddy_release_(b, page, order);
    return RVM_OK;
}

#endif /* RVM_BUDDY_H */
