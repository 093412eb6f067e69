/* SPDX-License-Identifier: MIT */
/*
 * The invariant checkers can fail: each subsystem's checker refuses a state with exactly one
 * field corrupted, and accepts the same state uncorrupted.
 *
 * Each section builds a valid state through the public API (so the checker accepts it), then a
 * table of corruptions, one row per conjunct of the checker's documented invariant (the header
 * comment above each rvm_*_check and the struct field comments). The runner restores the valid
 * state before every row, asserts the checker accepts it, applies the row's corruption and asserts
 * the checker answers RVM_ERR_INTERNAL, the one error every checker documents for a violation.
 * The expected answer comes from the documented invariant, not from running the checker.
 *
 * A conjunct no corruption can reach (implied by an earlier one) has no row here; it is listed with
 * the reason in docs/coverage-checkers.md.
 */
#include "test_support.h"

#include "hal_recorder.h"
#include "witnessed.h"

#include "rvm/buddy.h"
#include "rvm/cap.h"
#include "rvm/coherence.h"
#include "rvm/crypto_portable.h"
#include "rvm/graph.h"
#include "rvm/region.h"
#include "rvm/sched.h"
#include "rvm/tier.h"
#include "rvm/vcpu.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

/* ---- the table runner ------------------------------------------------------------------------ */

struct corruption {
    const char *name;
    void (*mutate)(void *world);
};

#define ROW(fn)                                                                                    \
    {                                                                                              \
#fn, fn                                                                                    \
    }

/* Define a corruption `fn` of a world of type `type` (bound to `w`) as the statement `stmt`. */
#define CORRUPTION(type, fn, stmt)                                                                 \
    static void fn(void *world_)                                                                   \
    {                                                                                              \
        type *w = world_;                                                                          \
        stmt;                                                                                      \
    }

typedef enum rvm_err (*check_fn)(const void *world);

/* `world` is `size` bytes that hold every byte the checker reads (its pointers point into it), so
 * copying the snapshot back restores the valid state exactly. */
static void run_corruptions(void *world, size_t size, check_fn check, const struct corruption *rows,
                            size_t nrows)
{
    void *valid = malloc(size);
    assert_non_null(valid);
    memcpy(valid, world, size);
    for (size_t i = 0; i < nrows; i++) {
        memcpy(world, valid, size);
        enum rvm_err before = check(world);
        if (before != RVM_OK) {
            fail_msg("%s: the valid state is refused (%d) before the corruption", rows[i].name,
                     (int)before);
        }
        rows[i].mutate(world);
        enum rvm_err after = check(world);
        if (after != RVM_ERR_INTERNAL) {
            fail_msg("%s: the checker answers %d, not RVM_ERR_INTERNAL", rows[i].name, (int)after);
        }
    }
    memcpy(world, valid, size);
    assert_int_equal(check(world), RVM_OK);
    free(valid);
}

#define RUN(world, check, rows)                                                                    \
    run_corruptions((world), sizeof(*(world)), (check), (rows), sizeof(rows) / sizeof((rows)[0]))

/* ---- buddy allocator (rvm_buddy_check) ------------------------------------------------------- */

#define BUDDY_PAGES 100u /* blocks of 64 + 32 + 4 pages: not a power of two */
#define TAG_FREE    RVM_BUDDY_TAG_FREE
#define TAG_ALLOC   RVM_BUDDY_TAG_ALLOC

struct buddy_world {
    struct rvm_buddy b;
    uint8_t tags[BUDDY_PAGES];
    struct rvm_buddy_link links[BUDDY_PAGES];
    uint32_t page0, page2; /* first pages of an order-0 and an order-2 allocation */
};

static enum rvm_err buddy_check(const void *w)
{
    return rvm_buddy_check(&((const struct buddy_world *)w)->b);
}

/* 100 pages start as blocks of 64, 32 and 4 pages (so page 96 is a block boundary in every state),
 * then an order-0 and an order-2 allocation. The order-0 block's buddy stays free at order 0, so
 * free list 0 is not empty. Which blocks the allocator picks is its business: the rows below find
 * what they corrupt in the state. */
static struct buddy_world *buddy_world_new(void)
{
    struct buddy_world *w = calloc(1, sizeof(*w));
    const uint64_t base = 0x10000000;
    struct rvm_buddy_config cfg = {rvm_hpa(base), BUDDY_PAGES, 10, w->tags, w->links};
    assert_int_equal(rvm_buddy_init(&w->b, &cfg), RVM_OK);
    rvm_hpa_t a = {0}, b = {0};
    assert_int_equal(rvm_buddy_alloc(&w->b, 0, &a), RVM_OK);
    assert_int_equal(rvm_buddy_alloc(&w->b, 2, &b), RVM_OK);
    w->page0 = (uint32_t)((a.v - base) >> RVM_PAGE_SHIFT);
    w->page2 = (uint32_t)((b.v - base) >> RVM_PAGE_SHIFT);
    assert_int_not_equal(w->b.head[0], RVM_BUDDY_NIL);
    return w;
}

/* A free list of an order above 0 that is not empty (the order-2 split leaves one). */
static uint32_t buddy_other_order(const struct buddy_world *w)
{
    for (uint32_t k = 1; k <= w->b.max_order; k++) {
        if (w->b.head[k] != RVM_BUDDY_NIL) {
            return k;
        }
    }
    fail_msg("no free block above order 0");
    return 0;
}

static void buddy_set_order(struct buddy_world *w, uint32_t page, uint32_t order)
{
    w->tags[page] = (uint8_t)((w->tags[page] & ~RVM_BUDDY_TAG_ORDER) | order);
}

CORRUPTION(struct buddy_world, buddy_no_tags, w->b.tags = NULL)
CORRUPTION(struct buddy_world, buddy_no_links, w->b.links = NULL)
CORRUPTION(struct buddy_world, buddy_no_pages, w->b.npages = 0)
CORRUPTION(struct buddy_world, buddy_pages_over_max, w->b.npages = RVM_BUDDY_MAX_PAGES + 1u)
CORRUPTION(struct buddy_world, buddy_max_order_over_limit,
           w->b.max_order = RVM_BUDDY_ORDER_LIMIT + 1u)
CORRUPTION(struct buddy_world, buddy_base_unaligned, w->b.base += 8)
CORRUPTION(struct buddy_world, buddy_head_neither_free_nor_alloc,
           w->tags[w->page2] &= RVM_BUDDY_TAG_ORDER)
CORRUPTION(struct buddy_world, buddy_head_both_free_and_alloc, w->tags[w->page2] |= TAG_FREE)
CORRUPTION(struct buddy_world, buddy_order_over_max, buddy_set_order(w, w->page0, 11))
CORRUPTION(struct buddy_world, buddy_head_misaligned, buddy_set_order(w, w->page0 | 1u, 1))
CORRUPTION(struct buddy_world, buddy_block_past_end,
           (w->tags[96] = TAG_ALLOC | 3, w->tags[97] = 0, w->tags[98] = 0, w->tags[99] = 0))
CORRUPTION(struct buddy_world, buddy_tag_inside_block, w->tags[w->page2 + 1u] = TAG_ALLOC)
CORRUPTION(struct buddy_world, buddy_free_count_off, w->b.free_pages--)
CORRUPTION(struct buddy_world, buddy_mask_without_list, w->b.nonempty |= 1u << 7)
CORRUPTION(struct buddy_world, buddy_list_without_mask, w->b.nonempty &= ~1u)
CORRUPTION(struct buddy_world, buddy_list_above_max_order,
           (w->b.nonempty |= 1u << 11, w->b.head[11] = w->b.head[0]))
CORRUPTION(struct buddy_world, buddy_list_head_past_end, w->b.head[0] = BUDDY_PAGES)
CORRUPTION(struct buddy_world, buddy_list_head_allocated, w->b.head[0] = w->page0)
CORRUPTION(struct buddy_world, buddy_list_head_wrong_order,
           w->b.head[0] = w->b.head[buddy_other_order(w)])
CORRUPTION(struct buddy_world, buddy_back_link_broken, w->links[w->b.head[0]].prev = 3)
CORRUPTION(struct buddy_world, buddy_free_block_unlisted,
           (w->b.head[0] = RVM_BUDDY_NIL, w->b.nonempty &= ~1u))

static void test_buddy_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(buddy_no_tags),
        ROW(buddy_no_links),
        ROW(buddy_no_pages),
        ROW(buddy_pages_over_max),
        ROW(buddy_max_order_over_limit),
        ROW(buddy_base_unaligned),
        ROW(buddy_head_neither_free_nor_alloc),
        ROW(buddy_head_both_free_and_alloc),
        ROW(buddy_order_over_max),
        ROW(buddy_head_misaligned),
        ROW(buddy_block_past_end),
        ROW(buddy_tag_inside_block),
        ROW(buddy_free_count_off),
        ROW(buddy_mask_without_list),
        ROW(buddy_list_without_mask),
        ROW(buddy_list_above_max_order),
        ROW(buddy_list_head_past_end),
        ROW(buddy_list_head_allocated),
        ROW(buddy_list_head_wrong_order),
        ROW(buddy_back_link_broken),
        ROW(buddy_free_block_unlisted),
    };
    struct buddy_world *w = buddy_world_new();
    RUN(w, buddy_check, rows);
    free(w);
}

/* ---- tier state (rvm_tier_state_check) ------------------------------------------------------- */

struct tier_world {
    struct rvm_tier_state s;
};

static enum rvm_err tier_check(const void *w)
{
    return rvm_tier_state_check(&((const struct tier_world *)w)->s);
}

CORRUPTION(struct tier_world, tier_unknown, w->s.tier = RVM_TIER_COUNT)
CORRUPTION(struct tier_world, tier_accessed_not_bool, w->s.accessed = 2)
CORRUPTION(struct tier_world, tier_cut_pending_not_bool, w->s.cut_pending = 2)
CORRUPTION(struct tier_world, tier_reserved_set, w->s.reserved = 1)
CORRUPTION(struct tier_world, tier_cut_over_max, w->s.cut = RVM_TIER_BP_MAX + 1u)
CORRUPTION(struct tier_world, tier_pending_cut_over_max, w->s.pending_cut = RVM_TIER_BP_MAX + 1u)
CORRUPTION(struct tier_world, tier_recency_over_max, w->s.recency = RVM_TIER_BP_MAX + 1u)
CORRUPTION(struct tier_world, tier_pending_cut_not_staged, (w->s.cut_pending = 0))

static void test_tier_state_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(tier_unknown),
        ROW(tier_accessed_not_bool),
        ROW(tier_cut_pending_not_bool),
        ROW(tier_reserved_set),
        ROW(tier_cut_over_max),
        ROW(tier_pending_cut_over_max),
        ROW(tier_recency_over_max),
        ROW(tier_pending_cut_not_staged),
    };
    /* Every field at its documented upper bound, a cut value staged. */
    struct tier_world w = {{RVM_TIER_COLD, 1, 1, 0, RVM_TIER_BP_MAX, 4000, RVM_TIER_BP_MAX}};
    RUN(&w, tier_check, rows);
}

/* ---- vCPU context (rvm_vcpu_check) ----------------------------------------------------------- */

struct vcpu_world {
    struct rvm_vcpu_ctx c;
};

static enum rvm_err vcpu_check(const void *w)
{
    return rvm_vcpu_check(&((const struct vcpu_world *)w)->c);
}

CORRUPTION(struct vcpu_world, vcpu_unknown_arch, w->c.arch = 3)
CORRUPTION(struct vcpu_world, vcpu_no_arch, w->c.arch = 0)
CORRUPTION(struct vcpu_world, vcpu_owned_by_hypervisor, w->c.owner = RVM_PARTITION_HYPERVISOR)

static void test_vcpu_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(vcpu_unknown_arch),
        ROW(vcpu_no_arch),
        ROW(vcpu_owned_by_hypervisor),
    };
    struct vcpu_world w;
    memset(&w, 0, sizeof(w));
    const uint64_t args[2] = {7, 9};
    assert_int_equal(rvm_vcpu_init(&w.c, RVM_VCPU_AARCH64, 4, 0x40080000, args, 2), RVM_OK);
    RUN(&w, vcpu_check, rows);
}

/* ---- regions (rvm_region_check and its per-slot half) ---------------------------------------- */

#define RAM_BASE  0x80000000ull
#define RAM_PAGES 1024u
#define DEV_BASE  0x09000000ull
#define SLOTS     8u
#define RING      64u

enum { R = RVM_PERM_R, W = RVM_PERM_W, X = RVM_PERM_X };

struct region_world {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_buddy ram;
    uint8_t tags[RAM_PAGES];
    struct rvm_buddy_link links[RAM_PAGES];
    struct rvm_region slots[SLOTS];
    struct rvm_region_table rt;
    /* slot indices of the regions built below */
    uint32_t v, b, a, d, z;
};

static enum rvm_err region_check(const void *w)
{
    return rvm_region_check(&((const struct region_world *)w)->rt);
}

static struct rvm_handle region_new(struct region_world *w, uint32_t owner, uint32_t type,
                                    uint32_t perms, uint32_t npages, uint64_t hpa)
{
    struct rvm_region_create_req req = {owner, type, perms, npages, rvm_hpa(hpa)};
    struct rvm_handle h = {UINT32_MAX, 0};
    assert_int_equal(witnessed_region_create(&w->rt, 0, &req, &h), RVM_OK);
    return h;
}

static struct region_world *region_world_new(bool with_ram)
{
    struct region_world *w = calloc(1, sizeof(*w));
    rvm_crypto_portable(&w->crypto);
    hal_recorder_init(&w->rec, &w->crypto);
    struct rvm_witness_config wc = {.ring = w->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&w->log, hal_recorder_hal(&w->rec), &wc), RVM_OK);
    struct rvm_buddy_config bc = {rvm_hpa(RAM_BASE), RAM_PAGES, 10, w->tags, w->links};
    assert_int_equal(rvm_buddy_init(&w->ram, &bc), RVM_OK);
    struct rvm_region_config rc = {w->slots, SLOTS, with_ram ? &w->ram : NULL, NULL};
    assert_int_equal(rvm_region_init(&w->rt, hal_recorder_hal(&w->rec), &w->log, &rc), RVM_OK);
    return w;
}

/*
 * Slot order matters to which conjunct sees a corruption first, so the view V of partition 3 sits
 * below its IMMUTABLE source B of partition 2 (a filler created first and destroyed leaves slot 0
 * free for it). Then A (partition 1, DATA RW, mapped RW), D (partition 1, DEVICE RW, 2 pages,
 * mapped RW) and Z (partition 2, DATA RW, moved to Dormant).
 */
static struct region_world *region_world_full(struct rvm_compress_work *work)
{
    struct region_world *w = region_world_new(true);
    struct rvm_handle filler = region_new(w, 1, RVM_REGION_DATA, R, 1, 0);
    struct rvm_handle b = region_new(w, 2, RVM_REGION_IMMUTABLE, R, 1, 0);
    assert_int_equal(witnessed_region_destroy(&w->rt, 1, filler), RVM_OK);
    struct rvm_handle v;
    assert_int_equal(witnessed_region_share(&w->rt, 2, b, 3, R, &v), RVM_OK);
    assert_true(v.index < b.index);
    assert_int_equal(witnessed_region_map(&w->rt, 3, v, rvm_ipa(0x1000), R), RVM_OK);
    struct rvm_handle a = region_new(w, 1, RVM_REGION_DATA, R | W, 1, 0);
    assert_int_equal(witnessed_region_map(&w->rt, 1, a, rvm_ipa(0x1000), R | W), RVM_OK);
    struct rvm_handle d = region_new(w, 1, RVM_REGION_DEVICE, R | W, 2, DEV_BASE);
    assert_int_equal(witnessed_region_map(&w->rt, 1, d, rvm_ipa(0x10000), R | W), RVM_OK);
    struct rvm_handle z = region_new(w, 2, RVM_REGION_DATA, R | W, 1, 0);
    static uint8_t contents[RVM_PAGE_SIZE], image[RVM_COMPRESS_BOUND(RVM_PAGE_SIZE)];
    memset(contents, 0x5A, sizeof(contents));
    struct rvm_region_tier_io io = {contents, work, image, sizeof(image), 0, NULL, 0, false, false};
    assert_int_equal(witnessed_region_move(&w->rt, 2, z, RVM_TIER_DORMANT, &io), RVM_OK);
    w->v = v.index;
    w->b = b.index;
    w->a = a.index;
    w->d = d.index;
    w->z = z.index;
    assert_int_equal(rvm_region_check(&w->rt), RVM_OK);
    return w;
}

#define SLOT(name) (w->slots[w->name])

static uint32_t ram_page_of(const struct region_world *w, uint32_t slot)
{
    return (uint32_t)((w->slots[slot].hpa - RAM_BASE) >> RVM_PAGE_SHIFT);
}

/* the table */
CORRUPTION(struct region_world, region_no_slots, w->rt.slots = NULL)
CORRUPTION(struct region_world, region_no_capacity, w->rt.capacity = 0)
CORRUPTION(struct region_world, region_policy_out_of_order,
           w->rt.policy.warm_to_hot = w->rt.policy.hot_to_warm)
CORRUPTION(struct region_world, region_count_off, w->rt.count++)
CORRUPTION(struct region_world, region_free_slot_generation_zero,
           w->slots[SLOTS - 1].generation = 0)
CORRUPTION(struct region_world, region_free_slot_not_clear, w->slots[SLOTS - 1].npages = 1)
CORRUPTION(struct region_world, region_more_ram_than_allocated, w->ram.free_pages = w->ram.npages)
/* every slot */
CORRUPTION(struct region_world, region_generation_zero, SLOT(a).generation = 0)
CORRUPTION(struct region_world, region_generation_retired, SLOT(a).generation = UINT32_MAX)
CORRUPTION(struct region_world, region_reserved0_set, SLOT(a).reserved[0] = 1)
CORRUPTION(struct region_world, region_reserved1_set, SLOT(a).reserved[1] = 1)
CORRUPTION(struct region_world, region_reserved2_set, SLOT(a).reserved2 = 1)
CORRUPTION(struct region_world, region_owned_by_hypervisor,
           SLOT(a).owner = RVM_PARTITION_HYPERVISOR)
CORRUPTION(struct region_world, region_owned_by_invalid, SLOT(a).owner = RVM_PARTITION_INVALID)
CORRUPTION(struct region_world, region_no_pages, SLOT(a).npages = 0)
CORRUPTION(struct region_world, region_too_many_pages, SLOT(a).npages = RVM_REGION_MAX_PAGES + 1u)
CORRUPTION(struct region_world, region_write_and_execute, SLOT(a).perms = R | W | X)
CORRUPTION(struct region_world, region_unknown_type, SLOT(a).type = 6)
CORRUPTION(struct region_world, region_tier_state_broken, SLOT(a).tier.recency = 10001)
/* a share */
CORRUPTION(struct region_world, share_source_past_capacity, SLOT(v).source = SLOTS)
CORRUPTION(struct region_world, share_source_free, SLOT(v).source = SLOTS - 1)
CORRUPTION(struct region_world, share_source_generation_stale, SLOT(v).source_generation++)
CORRUPTION(struct region_world, share_source_not_immutable,
           (SLOT(v).source = w->a, SLOT(v).source_generation = SLOT(a).generation))
CORRUPTION(struct region_world, share_source_not_resident, SLOT(b).tier.tier = RVM_TIER_DORMANT)
CORRUPTION(struct region_world, share_source_own_owner, SLOT(v).owner = SLOT(b).owner)
CORRUPTION(struct region_world, share_other_pages, SLOT(v).hpa += RVM_PAGE_SIZE)
CORRUPTION(struct region_world, share_other_length, SLOT(v).npages = 2)
CORRUPTION(struct region_world, share_more_perms_than_source, SLOT(v).perms = R | X)
CORRUPTION(struct region_world, share_shared_again, SLOT(v).shares = 1)
CORRUPTION(struct region_world, share_with_image, SLOT(v).image_len = 100)
CORRUPTION(struct region_world, share_with_order, SLOT(v).order = 1)
CORRUPTION(struct region_world, share_not_warm, SLOT(v).tier.tier = RVM_TIER_HOT)
/* not a share */
CORRUPTION(struct region_world, private_with_source, SLOT(a).source = 1)
CORRUPTION(struct region_world, private_with_source_generation, SLOT(a).source_generation = 1)
/* a device */
CORRUPTION(struct region_world, device_not_hot, SLOT(d).tier.tier = RVM_TIER_WARM)
CORRUPTION(struct region_world, device_shared, SLOT(d).shares = 1)
CORRUPTION(struct region_world, device_with_image, SLOT(d).image_len = 100)
CORRUPTION(struct region_world, device_with_order, SLOT(d).order = 1)
CORRUPTION(struct region_world, device_unaligned, SLOT(d).hpa += 8)
CORRUPTION(struct region_world, device_wraps, SLOT(d).hpa = 0xFFFFFFFFFFFFF000ull)
CORRUPTION(struct region_world, device_inside_ram, SLOT(d).hpa = RAM_BASE + 512u * RVM_PAGE_SIZE)
/* resident RAM */
CORRUPTION(struct region_world, ram_region_without_allocator, w->rt.ram = NULL)
CORRUPTION(struct region_world, ram_resident_with_image, SLOT(a).image_len = 100)
CORRUPTION(struct region_world, ram_order_not_smallest, SLOT(a).order = 1)
CORRUPTION(struct region_world, ram_backing_not_allocated,
           SLOT(a).hpa = RAM_BASE + 1000u * RVM_PAGE_SIZE)
CORRUPTION(struct region_world, ram_backing_other_order,
           w->tags[ram_page_of(w, w->a)] = TAG_ALLOC | 1)
CORRUPTION(struct region_world, ram_resident_with_checkpoint, SLOT(a).checkpoint[5] = 1)
/* dormant RAM */
CORRUPTION(struct region_world, dormant_with_pages, SLOT(z).hpa = RAM_BASE)
CORRUPTION(struct region_world, dormant_mapped, SLOT(z).mapped = 1)
CORRUPTION(struct region_world, dormant_shared, SLOT(z).shares = 1)
CORRUPTION(struct region_world, dormant_image_only_header,
           SLOT(z).image_len = RVM_COMPRESS_HEADER_BYTES)
/* a mapping */
CORRUPTION(struct region_world, mapping_beyond_perms, SLOT(a).map_perms = R | X)
CORRUPTION(struct region_world, mapping_without_read, SLOT(a).map_perms = W)
CORRUPTION(struct region_world, mapping_unaligned, SLOT(a).ipa += 0x800)
CORRUPTION(struct region_world, mapping_wraps, SLOT(a).ipa = 0xFFFFFFFFFFFFF000ull)
CORRUPTION(struct region_world, unmapped_with_ipa, SLOT(z).ipa = 0x5000)
CORRUPTION(struct region_world, unmapped_with_perms, SLOT(z).map_perms = R)
/* pairs */
CORRUPTION(struct region_world, pages_covered_twice, SLOT(a).hpa = SLOT(b).hpa)
CORRUPTION(struct region_world, guest_ranges_overlap, SLOT(d).ipa = SLOT(a).ipa)
CORRUPTION(struct region_world, share_count_off, SLOT(b).shares = 0)

static void test_region_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(region_no_slots),
        ROW(region_no_capacity),
        ROW(region_policy_out_of_order),
        ROW(region_count_off),
        ROW(region_free_slot_generation_zero),
        ROW(region_free_slot_not_clear),
        ROW(region_more_ram_than_allocated),
        ROW(region_generation_zero),
        ROW(region_generation_retired),
        ROW(region_reserved0_set),
        ROW(region_reserved1_set),
        ROW(region_reserved2_set),
        ROW(region_owned_by_hypervisor),
        ROW(region_owned_by_invalid),
        ROW(region_no_pages),
        ROW(region_too_many_pages),
        ROW(region_write_and_execute),
        ROW(region_unknown_type),
        ROW(region_tier_state_broken),
        ROW(share_source_past_capacity),
        ROW(share_source_free),
        ROW(share_source_generation_stale),
        ROW(share_source_not_immutable),
        ROW(share_source_not_resident),
        ROW(share_source_own_owner),
        ROW(share_other_pages),
        ROW(share_other_length),
        ROW(share_more_perms_than_source),
        ROW(share_shared_again),
        ROW(share_with_image),
        ROW(share_with_order),
        ROW(share_not_warm),
        ROW(private_with_source),
        ROW(private_with_source_generation),
        ROW(device_not_hot),
        ROW(device_shared),
        ROW(device_with_image),
        ROW(device_with_order),
        ROW(device_unaligned),
        ROW(device_wraps),
        ROW(device_inside_ram),
        ROW(ram_region_without_allocator),
        ROW(ram_resident_with_image),
        ROW(ram_order_not_smallest),
        ROW(ram_backing_not_allocated),
        ROW(ram_backing_other_order),
        ROW(ram_resident_with_checkpoint),
        ROW(dormant_with_pages),
        ROW(dormant_mapped),
        ROW(dormant_shared),
        ROW(dormant_image_only_header),
        ROW(mapping_beyond_perms),
        ROW(mapping_without_read),
        ROW(mapping_unaligned),
        ROW(mapping_wraps),
        ROW(unmapped_with_ipa),
        ROW(unmapped_with_perms),
        ROW(pages_covered_twice),
        ROW(guest_ranges_overlap),
        ROW(share_count_off),
    };
    struct rvm_compress_work *work = calloc(1, sizeof(*work));
    struct region_world *w = region_world_full(work);
    RUN(w, region_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
    free(work);
}

/* A table without an allocator holds only DEVICE regions, anywhere page aligned. */
CORRUPTION(struct region_world, ramless_device_unaligned, SLOT(d).hpa += 8)

static void test_region_check_without_ram(void **state)
{
    (void)state;
    static const struct corruption rows[] = {ROW(ramless_device_unaligned)};
    struct region_world *w = region_world_new(false);
    w->d = region_new(w, 1, RVM_REGION_DEVICE, R, 4, RAM_BASE).index;
    RUN(w, region_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
}

/* ---- capabilities (rvm_cap_check and its per-slot half) -------------------------------------- */

#define CAPS 16u

struct cap_world {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_cap_slot slots[CAPS];
    struct rvm_cap_table t;
    /* slot indices: root, its two children (first = the parent's first_child, second = the
     * first's next sibling), the grandchild under `child`, and a second root */
    uint32_t root, first, second, child, grandchild, root2, leaf;
};

static enum rvm_err cap_check(const void *w)
{
    return rvm_cap_check(&((const struct cap_world *)w)->t);
}

#define CAP(name) (w->slots[w->name])

/* Rewrite a slot's P1 check word after a corruption of its type or rights, so that the corruption
 * reaches the checker conjunct it is meant for (rvm_cap_check compares the word first). */
static void reword(struct rvm_cap_slot *s)
{
    s->p1_check = rvm_cap_p1_check_word(s->type, s->rights);
}
#define HANDLE(idx) rvm_cap_handle((idx), w->slots[(idx)].generation)

static const struct rvm_handle cap_none = {RVM_CAP_NONE, 0};

static struct rvm_handle cap_grant(struct cap_world *w, rvm_partition_id actor,
                                   struct rvm_handle source, uint8_t rights, rvm_partition_id to)
{
    struct rvm_cap_derive_args a = {
        .source = source, .rights = rights, .badge = 0, .new_owner = to};
    struct rvm_handle h = cap_none;
    assert_int_equal(witnessed_cap_grant(&w->t, &w->log, actor, &a, &h), RVM_OK);
    return h;
}

/*
 * Epoch 5: a root (partition 1, all rights) and a second root (partition 5). Epoch 6: the root
 * granted to partitions 2 and 3 (R|W|GRANT). Epoch 7: partition 2 granted on to partition 4 (R),
 * and partition 3 on to partitions 6 and 7 (R; the leaf is the one of these two that is not its
 * parent's first child).
 * The rest of the table is free, on the free list.
 */
static struct cap_world *cap_world_new(void)
{
    struct cap_world *w = calloc(1, sizeof(*w));
    rvm_crypto_portable(&w->crypto);
    hal_recorder_init(&w->rec, &w->crypto);
    struct rvm_witness_config wc = {.ring = w->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&w->log, hal_recorder_hal(&w->rec), &wc), RVM_OK);
    struct rvm_cap_config cc = {.slots = w->slots, .capacity = CAPS, .initial_epoch = 5};
    assert_int_equal(rvm_cap_init(&w->t, &w->crypto, &cc), RVM_OK);
    struct rvm_cap_mint_args m = {
        .type = RVM_CAP_TYPE_REGION, .rights = RVM_CAP_RIGHTS_ALL, .owner = 1, .object = {3, 1}};
    struct rvm_handle root, root2;
    assert_int_equal(witnessed_cap_mint(&w->t, &w->log, 0, &m, &root), RVM_OK);
    m.owner = 5;
    m.object.index = 4;
    assert_int_equal(witnessed_cap_mint(&w->t, &w->log, 0, &m, &root2), RVM_OK);
    assert_int_equal(witnessed_cap_epoch_advance(&w->t, &w->log), RVM_OK);
    const uint8_t rwg = RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT;
    struct rvm_handle child = cap_grant(w, 1, root, rwg, 2);
    struct rvm_handle other = cap_grant(w, 1, root, rwg, 3);
    assert_int_equal(witnessed_cap_epoch_advance(&w->t, &w->log), RVM_OK);
    struct rvm_handle grandchild = cap_grant(w, 2, child, RVM_CAP_READ, 4);
    struct rvm_handle leaf = cap_grant(w, 3, other, RVM_CAP_READ, 6);
    struct rvm_handle leaf2 = cap_grant(w, 3, other, RVM_CAP_READ, 7);
    if (rvm_cap_handle_eq(w->slots[other.index].first_child, leaf)) {
        leaf = leaf2; /* the leaf is the one with a previous sibling */
    }
    w->first = w->slots[root.index].first_child.index;
    w->root = root.index;
    w->root2 = root2.index;
    w->child = child.index;
    w->grandchild = grandchild.index;
    w->leaf = leaf.index;
    w->second = w->slots[w->first].next_sibling.index;
    assert_true(w->second < CAPS);
    assert_int_equal(rvm_cap_check(&w->t), RVM_OK);
    return w;
}

static uint32_t cap_free_slot(const struct cap_world *w)
{
    return w->t.free_head;
}

/* the table */
CORRUPTION(struct cap_world, cap_no_slots, w->t.slots = NULL)
CORRUPTION(struct cap_world, cap_no_capacity, w->t.capacity = 0)
CORRUPTION(struct cap_world, cap_capacity_over_max, w->t.capacity = RVM_CAP_CAPACITY_MAX + 1u)
CORRUPTION(struct cap_world, cap_floor_above_epoch, w->t.epoch_floor = w->t.epoch + 1u)
CORRUPTION(struct cap_world, cap_key_too_long, w->t.mac_key_len = RVM_CAP_MAC_KEY_MAX + 1u)
CORRUPTION(struct cap_world, cap_live_count_off, w->t.live++)
CORRUPTION(struct cap_world, cap_free_head_past_capacity, w->t.free_head = CAPS + 5u)
CORRUPTION(struct cap_world, cap_free_list_holds_live, w->t.free_head = w->root)
CORRUPTION(struct cap_world, cap_free_list_holds_retired,
           w->slots[cap_free_slot(w)].generation = RVM_CAP_GEN_RETIRED)
CORRUPTION(struct cap_world, cap_free_list_short,
           w->slots[cap_free_slot(w)].next_free = RVM_CAP_NONE)
CORRUPTION(struct cap_world, cap_free_with_parent,
           w->slots[cap_free_slot(w)].parent = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_free_with_child,
           w->slots[cap_free_slot(w)].first_child = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_free_with_next_sibling,
           w->slots[cap_free_slot(w)].next_sibling = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_free_with_prev_sibling,
           w->slots[cap_free_slot(w)].prev_sibling = HANDLE(w->root))
/* one live slot */
CORRUPTION(struct cap_world, cap_unknown_type, CAP(root).type = RVM_CAP_TYPE_COUNT)
CORRUPTION(struct cap_world, cap_unknown_right, CAP(grandchild).rights |= 0x80)
CORRUPTION(struct cap_world, cap_too_deep, CAP(root).depth = RVM_CAP_MAX_DEPTH + 1u)
CORRUPTION(struct cap_world, cap_unknown_flag, CAP(root).flags = 0x02)
CORRUPTION(struct cap_world, cap_live_on_free_list, CAP(root).next_free = cap_free_slot(w))
CORRUPTION(struct cap_world, cap_consumed_keeps_grant_once, CAP(root).flags = RVM_CAP_FLAG_CONSUMED)
CORRUPTION(struct cap_world, cap_root_epoch_below_floor, w->t.epoch_floor = 6)
CORRUPTION(struct cap_world, cap_epoch_in_future, CAP(grandchild).epoch = w->t.epoch + 1u)
CORRUPTION(struct cap_world, cap_root_epoch_after_epoch, CAP(grandchild).root_epoch = 8)
/* links */
CORRUPTION(struct cap_world, cap_first_child_not_its_child,
           CAP(child).first_child = HANDLE(w->root2))
CORRUPTION(struct cap_world, cap_first_child_free,
           CAP(child).first_child = rvm_cap_handle(cap_free_slot(w), 1))
CORRUPTION(struct cap_world, cap_first_child_has_prev, CAP(first).prev_sibling = HANDLE(w->second))
CORRUPTION(struct cap_world, cap_root_with_parent, CAP(root2).parent = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_root_epoch_differs, CAP(root2).epoch = 6)
CORRUPTION(struct cap_world, cap_root_with_next_sibling, CAP(root2).next_sibling = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_root_with_prev_sibling, CAP(root2).prev_sibling = HANDLE(w->root))
CORRUPTION(struct cap_world, cap_parent_free,
           CAP(grandchild).parent = rvm_cap_handle(cap_free_slot(w), 1))
CORRUPTION(struct cap_world, cap_depth_skips, CAP(grandchild).depth = 3)
CORRUPTION(struct cap_world, cap_rights_grow,
           (CAP(grandchild).rights = RVM_CAP_READ | RVM_CAP_EXECUTE, reword(&CAP(grandchild))))
CORRUPTION(struct cap_world, cap_older_than_parent, CAP(grandchild).epoch = 5)
CORRUPTION(struct cap_world, cap_other_tree, CAP(grandchild).root_epoch = 6)
CORRUPTION(struct cap_world, cap_type_differs_from_parent,
           (CAP(grandchild).type = RVM_CAP_TYPE_DEVICE, reword(&CAP(grandchild))))
CORRUPTION(struct cap_world, cap_object_differs_from_parent, CAP(grandchild).object.index = 9)
CORRUPTION(struct cap_world, cap_not_first_child_without_prev, CAP(second).prev_sibling = cap_none)
CORRUPTION(struct cap_world, cap_prev_sibling_free,
           CAP(second).prev_sibling = rvm_cap_handle(cap_free_slot(w), 1))
CORRUPTION(struct cap_world, cap_prev_sibling_not_linked,
           CAP(second).prev_sibling = HANDLE(w->grandchild))
CORRUPTION(struct cap_world, cap_prev_sibling_other_parent,
           (CAP(second).prev_sibling = HANDLE(w->grandchild),
            CAP(grandchild).next_sibling = HANDLE(w->second)))
CORRUPTION(struct cap_world, cap_next_sibling_free,
           CAP(grandchild).next_sibling = rvm_cap_handle(cap_free_slot(w), 1))
CORRUPTION(struct cap_world, cap_next_sibling_not_linked,
           CAP(grandchild).next_sibling = HANDLE(w->leaf))
CORRUPTION(struct cap_world, cap_next_sibling_other_parent,
           (CAP(grandchild).next_sibling = HANDLE(w->leaf),
            CAP(leaf).prev_sibling = HANDLE(w->grandchild)))

static void test_cap_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(cap_no_slots),
        ROW(cap_no_capacity),
        ROW(cap_capacity_over_max),
        ROW(cap_floor_above_epoch),
        ROW(cap_key_too_long),
        ROW(cap_live_count_off),
        ROW(cap_free_head_past_capacity),
        ROW(cap_free_list_holds_live),
        ROW(cap_free_list_holds_retired),
        ROW(cap_free_list_short),
        ROW(cap_free_with_parent),
        ROW(cap_free_with_child),
        ROW(cap_free_with_next_sibling),
        ROW(cap_free_with_prev_sibling),
        ROW(cap_unknown_type),
        ROW(cap_unknown_right),
        ROW(cap_too_deep),
        ROW(cap_unknown_flag),
        ROW(cap_live_on_free_list),
        ROW(cap_consumed_keeps_grant_once),
        ROW(cap_root_epoch_below_floor),
        ROW(cap_epoch_in_future),
        ROW(cap_root_epoch_after_epoch),
        ROW(cap_first_child_not_its_child),
        ROW(cap_first_child_free),
        ROW(cap_first_child_has_prev),
        ROW(cap_root_with_parent),
        ROW(cap_root_epoch_differs),
        ROW(cap_root_with_next_sibling),
        ROW(cap_root_with_prev_sibling),
        ROW(cap_parent_free),
        ROW(cap_depth_skips),
        ROW(cap_rights_grow),
        ROW(cap_older_than_parent),
        ROW(cap_other_tree),
        ROW(cap_type_differs_from_parent),
        ROW(cap_object_differs_from_parent),
        ROW(cap_not_first_child_without_prev),
        ROW(cap_prev_sibling_free),
        ROW(cap_prev_sibling_not_linked),
        ROW(cap_prev_sibling_other_parent),
        ROW(cap_next_sibling_free),
        ROW(cap_next_sibling_not_linked),
        ROW(cap_next_sibling_other_parent),
    };
    struct cap_world *w = cap_world_new();
    RUN(w, cap_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
}

/* ---- scheduler (rvm_sched_check and its run-queue half) ------------------------------------- */

#define SCHED_CPUS  3u
#define SCHED_PARTS 6u
#define SCHED_QCAP  4u

struct sched_world {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_sched_part parts[SCHED_PARTS];
    uint64_t keys[SCHED_CPUS * SCHED_QCAP];
    rvm_partition_id ids[SCHED_CPUS * SCHED_QCAP];
    struct rvm_sched s;
};

static enum rvm_err sched_check(const void *w)
{
    return rvm_sched_check(&((const struct sched_world *)w)->s);
}

/*
 * Reflex mode, CPUs 0 and 1 online of 3. Partition 1 runs on CPU 0 and is queued there again, with
 * partition 2 (another urgency: another key); partition 4, placed on CPU 1 only, and partition 3
 * queue on CPU 1. Partitions 5 and 6 are neither queued nor running.
 */
static struct sched_world *sched_world_new(void)
{
    struct sched_world *w = calloc(1, sizeof(*w));
    rvm_crypto_portable(&w->crypto);
    hal_recorder_init(&w->rec, &w->crypto);
    struct rvm_witness_config wc = {.ring = w->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&w->log, hal_recorder_hal(&w->rec), &wc), RVM_OK);
    struct rvm_sched_config sc = {.ncpus = SCHED_CPUS,
                                  .online_mask = 0x3,
                                  .max_partitions = SCHED_PARTS,
                                  .parts = w->parts,
                                  .queue_capacity = SCHED_QCAP,
                                  .queue_keys = w->keys,
                                  .queue_ids = w->ids,
                                  .mode = RVM_SCHED_REFLEX};
    assert_int_equal(rvm_sched_init(&w->s, &w->log, &sc), RVM_OK);
    struct rvm_sched_switch sw;
    assert_int_equal(rvm_sched_enqueue_on(&w->s, 0, 1, 100, 0), RVM_OK);
    assert_int_equal(rvm_sched_switch_next(&w->s, 0, &sw), RVM_OK);
    assert_int_equal(sw.next, 1);
    assert_int_equal(rvm_sched_enqueue_on(&w->s, 0, 1, 100, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&w->s, 0, 2, 300, 0), RVM_OK);
    assert_int_equal(witnessed_sched_set_placement(&w->s, 0, 4, 1u << 1, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue(&w->s, 4, 200, 0), RVM_OK);
    assert_int_equal(rvm_sched_enqueue_on(&w->s, 1, 3, 50, 0), RVM_OK);
    assert_int_equal(w->s.cpu[0].len, 2);
    assert_int_equal(w->s.cpu[1].len, 2);
    assert_int_equal(rvm_sched_check(&w->s), RVM_OK);
    return w;
}

#define PART(id) (w->parts[(id)-1u])

/* Exchange the first two entries of CPU 0's heap, keeping each partition's position right: only
 * the heap order breaks. */
static void sched_swap_heap(struct sched_world *w)
{
    struct rvm_sched_cpu *q = &w->s.cpu[0];
    uint64_t k = q->keys[0];
    rvm_partition_id id = q->ids[0];
    q->keys[0] = q->keys[1];
    q->ids[0] = q->ids[1];
    q->keys[1] = k;
    q->ids[1] = id;
    PART(q->ids[0]).pos = 0;
    PART(q->ids[1]).pos = 1;
}

/* Give queued partition id the sequence number seq in its key (key layout from sched.h:
 * priority << 46 | (2^46 - 1 - seq)). */
static void sched_set_key_seq(struct sched_world *w, rvm_partition_id id, uint64_t seq)
{
    uint64_t *key = &w->s.cpu[PART(id).qcpu].keys[PART(id).pos];
    *key = (*key >> 46 << 46) | (((1ull << 46) - 1) - seq);
}

/* the scheduler */
CORRUPTION(struct sched_world, sched_no_cpus, w->s.ncpus = 0)
CORRUPTION(struct sched_world, sched_too_many_cpus, w->s.ncpus = RVM_SCHED_MAX_CPUS + 1u)
CORRUPTION(struct sched_world, sched_no_cpu_online, w->s.online_mask = 0)
CORRUPTION(struct sched_world, sched_sequence_exhausted, w->s.next_seq = RVM_SCHED_SEQ_LIMIT)
CORRUPTION(struct sched_world, sched_unconfigured_cpu_online, w->s.online_mask |= 1u << 3)
CORRUPTION(struct sched_world, sched_unknown_mode, w->s.mode = RVM_SCHED_RECOVERY + 1u)
CORRUPTION(struct sched_world, sched_pressure_on_in_reflex, w->s.pressure_on = 1)
CORRUPTION(struct sched_world, sched_boost_outside_recovery, w->s.crit_boost = 1)
CORRUPTION(struct sched_world, sched_pressure_scale_while_off, w->s.pressure_mul = 1)
CORRUPTION(struct sched_world, sched_epoch_tag_off, w->s.epoch_tag++)
/* the run queues */
CORRUPTION(struct sched_world, queue_longer_than_capacity, w->s.cpu[0].len = SCHED_QCAP + 1u)
CORRUPTION(struct sched_world, queue_on_offline_cpu, w->s.cpu[2].len = 1)
CORRUPTION(struct sched_world, running_on_offline_cpu, w->s.cpu[2].current = 5)
CORRUPTION(struct sched_world, running_unknown_id, w->s.cpu[0].current = SCHED_PARTS + 1u)
CORRUPTION(struct sched_world, running_not_marked_running, w->s.cpu[1].current = 3)
CORRUPTION(struct sched_world, running_on_other_cpu_per_partition, PART(1).rcpu = 1)
CORRUPTION(struct sched_world, queued_unknown_id, w->s.cpu[1].ids[0] = SCHED_PARTS + 1u)
CORRUPTION(struct sched_world, queued_hypervisor_id, w->s.cpu[1].ids[0] = 0)
CORRUPTION(struct sched_world, queued_not_marked_queued, PART(3).state = 0)
CORRUPTION(struct sched_world, queued_on_other_cpu_per_partition, PART(3).qcpu = 0)
CORRUPTION(struct sched_world, queued_at_other_position, PART(3).pos = 3)
CORRUPTION(struct sched_world, queued_sequence_in_future, sched_set_key_seq(w, 3, w->s.next_seq))
CORRUPTION(struct sched_world, queued_key_stale, w->s.cpu[1].keys[PART(3).pos] ^= 1ull << 46)
CORRUPTION(struct sched_world, queue_heap_order_broken, sched_swap_heap(w))
CORRUPTION(struct sched_world, queued_outside_affinity, PART(4).affinity = 1u << 0)
/* each partition */
CORRUPTION(struct sched_world, part_unknown_state_bit, PART(6).state = 0x08)
CORRUPTION(struct sched_world, part_forced_not_queued, PART(6).state = RVM_SCHED_FORCED)
CORRUPTION(struct sched_world, part_unknown_flag, PART(6).flags = 0x02)
CORRUPTION(struct sched_world, part_no_affinity, PART(6).affinity = 0)
CORRUPTION(struct sched_world, part_affinity_unconfigured_cpu, PART(6).affinity |= 1u << 5)
CORRUPTION(struct sched_world, part_pressure_over_max,
           PART(6).pressure = RVM_SCHED_PRESSURE_MAX_BP + 1u)
CORRUPTION(struct sched_world, part_pressure_while_degraded,
           (w->s.degraded = 1, PART(6).pressure = 100))
CORRUPTION(struct sched_world, part_queued_on_unknown_cpu,
           (PART(6).state = RVM_SCHED_QUEUED, PART(6).qcpu = SCHED_CPUS))
CORRUPTION(struct sched_world, part_queued_past_queue_end,
           (PART(6).state = RVM_SCHED_QUEUED, PART(6).qcpu = 0, PART(6).pos = 2))
CORRUPTION(struct sched_world, part_queued_not_in_queue,
           (PART(6).state = RVM_SCHED_QUEUED, PART(6).qcpu = 0, PART(6).pos = 0))
CORRUPTION(struct sched_world, part_running_on_unknown_cpu,
           (PART(6).state = RVM_SCHED_RUNNING, PART(6).rcpu = SCHED_CPUS))
CORRUPTION(struct sched_world, part_running_not_current,
           (PART(6).state = RVM_SCHED_RUNNING, PART(6).rcpu = 1))
CORRUPTION(struct sched_world, part_running_on_one_queued_on_another,
           (w->s.cpu[0].current = 0, w->s.cpu[1].current = 1, PART(1).rcpu = 1))

static void test_sched_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(sched_no_cpus),
        ROW(sched_too_many_cpus),
        ROW(sched_no_cpu_online),
        ROW(sched_sequence_exhausted),
        ROW(sched_unconfigured_cpu_online),
        ROW(sched_unknown_mode),
        ROW(sched_pressure_on_in_reflex),
        ROW(sched_boost_outside_recovery),
        ROW(sched_pressure_scale_while_off),
        ROW(sched_epoch_tag_off),
        ROW(queue_longer_than_capacity),
        ROW(queue_on_offline_cpu),
        ROW(running_on_offline_cpu),
        ROW(running_unknown_id),
        ROW(running_not_marked_running),
        ROW(running_on_other_cpu_per_partition),
        ROW(queued_unknown_id),
        ROW(queued_hypervisor_id),
        ROW(queued_not_marked_queued),
        ROW(queued_on_other_cpu_per_partition),
        ROW(queued_at_other_position),
        ROW(queued_sequence_in_future),
        ROW(queued_key_stale),
        ROW(queue_heap_order_broken),
        ROW(queued_outside_affinity),
        ROW(part_unknown_state_bit),
        ROW(part_forced_not_queued),
        ROW(part_unknown_flag),
        ROW(part_no_affinity),
        ROW(part_affinity_unconfigured_cpu),
        ROW(part_pressure_over_max),
        ROW(part_pressure_while_degraded),
        ROW(part_queued_on_unknown_cpu),
        ROW(part_queued_past_queue_end),
        ROW(part_queued_not_in_queue),
        ROW(part_running_on_unknown_cpu),
        ROW(part_running_not_current),
        ROW(part_running_on_one_queued_on_another),
    };
    struct sched_world *w = sched_world_new();
    RUN(w, sched_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
}

/* ---- VMIDs (rvm_vmid_check) ------------------------------------------------------------------ */

#define VMIDS      8u
#define VMID_CPUS  2u
#define VMID_PARTS 6u

struct vmid_world {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_vmid_binding bindings[VMID_PARTS];
    struct rvm_vmid_table t;
    uint16_t v1, v2, v3; /* the VMIDs of partitions 1, 2, 3 */
};

static enum rvm_err vmid_check(const void *w)
{
    return rvm_vmid_check(&((const struct vmid_world *)w)->t);
}

/* 8 VMIDs, 2 CPUs. Partition 1 ran on CPU 0, then partition 3; partition 2 runs on CPU 1. */
static struct vmid_world *vmid_world_new(void)
{
    struct vmid_world *w = calloc(1, sizeof(*w));
    rvm_crypto_portable(&w->crypto);
    hal_recorder_init(&w->rec, &w->crypto);
    struct rvm_witness_config wc = {.ring = w->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&w->log, hal_recorder_hal(&w->rec), &wc), RVM_OK);
    struct rvm_vmid_config vc = {VMIDS, VMID_CPUS, VMID_PARTS, w->bindings};
    assert_int_equal(rvm_vmid_init(&w->t, &w->log, &vc), RVM_OK);
    assert_int_equal(rvm_vmid_activate(&w->t, 0, 1, &w->v1), RVM_OK);
    assert_int_equal(rvm_vmid_activate(&w->t, 1, 2, &w->v2), RVM_OK);
    assert_int_equal(rvm_vmid_activate(&w->t, 0, 3, &w->v3), RVM_OK);
    assert_int_equal(rvm_vmid_check(&w->t), RVM_OK);
    return w;
}

/* the table */
CORRUPTION(struct vmid_world, vmid_fewer_than_two, w->t.nvmids = 1)
CORRUPTION(struct vmid_world, vmid_more_than_hardware, w->t.nvmids = RVM_VMID_HW_MAX + 1u)
CORRUPTION(struct vmid_world, vmid_no_cpus, w->t.ncpus = 0)
CORRUPTION(struct vmid_world, vmid_too_many_cpus, w->t.ncpus = RVM_VMID_MAX_CPUS + 1u)
CORRUPTION(struct vmid_world, vmid_reserved_owned, w->t.slots[0].owner = 4)
CORRUPTION(struct vmid_world, vmid_reserved_loaded, w->t.slots[0].loaded_mask = 1)
CORRUPTION(struct vmid_world, vmid_cpu_loads_unknown, w->t.loaded[0] = VMIDS)
CORRUPTION(struct vmid_world, vmid_more_hits_than_activations,
           w->t.stats.hits = w->t.stats.activations + 1u)
/* each VMID */
CORRUPTION(struct vmid_world, vmid_loaded_mask_off, w->t.slots[w->v2].loaded_mask |= 1u)
CORRUPTION(struct vmid_world, vmid_beyond_range_owned, w->t.slots[VMIDS].owner = 4)
CORRUPTION(struct vmid_world, vmid_beyond_range_dirty, w->t.slots[VMIDS].dirty = 1)
CORRUPTION(struct vmid_world, vmid_used_in_future, w->t.slots[w->v1].last_used = w->t.clock + 1u)
CORRUPTION(struct vmid_world, vmid_loaded_clean, w->t.slots[w->v2].dirty = 0)
CORRUPTION(struct vmid_world, vmid_owner_unknown, w->t.slots[w->v1].owner = VMID_PARTS + 1u)
CORRUPTION(struct vmid_world, vmid_owned_twice, w->t.slots[7].owner = 2)
CORRUPTION(struct vmid_world, vmid_generation_mismatch, w->bindings[0].generation++)
/* each binding */
CORRUPTION(struct vmid_world, binding_names_unowned_vmid, w->bindings[3].vmid = 7)
CORRUPTION(struct vmid_world, binding_past_nvmids, w->bindings[3].vmid = VMIDS)

static void test_vmid_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(vmid_fewer_than_two),
        ROW(vmid_more_than_hardware),
        ROW(vmid_no_cpus),
        ROW(vmid_too_many_cpus),
        ROW(vmid_reserved_owned),
        ROW(vmid_reserved_loaded),
        ROW(vmid_cpu_loads_unknown),
        ROW(vmid_more_hits_than_activations),
        ROW(vmid_loaded_mask_off),
        ROW(vmid_beyond_range_owned),
        ROW(vmid_beyond_range_dirty),
        ROW(vmid_used_in_future),
        ROW(vmid_loaded_clean),
        ROW(vmid_owner_unknown),
        ROW(vmid_owned_twice),
        ROW(vmid_generation_mismatch),
        ROW(binding_names_unowned_vmid),
        ROW(binding_past_nvmids),
    };
    struct vmid_world *w = vmid_world_new();
    assert_true(w->v1 != w->v2 && w->v1 != w->v3 && w->v2 != w->v3);
    assert_true(w->v1 < 7 && w->v2 < 7 && w->v3 < 7); /* VMID 7 is free (rows use it) */
    RUN(w, vmid_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
}

/* ---- communication graph (rvm_graph_check) --------------------------------------------------- */

#define GRAPH_CAP 4u

struct graph_world {
    struct rvm_graph g;
    struct rvm_graph_node nodes[GRAPH_CAP];
    uint64_t weights[GRAPH_CAP * GRAPH_CAP];
    uint32_t hinted; /* index of the hint that names partition 1's slot */
};

static enum rvm_err graph_check(const void *w)
{
    return rvm_graph_check(&((const struct graph_world *)w)->g);
}

/* Partitions 1, 2, 3 in slots 0, 1, 2; partition 2 removed again (slot 1 free, slot 3 never
 * used); an edge 1-3 of weight 5 and an internal weight 7 on partition 1. */
static struct graph_world *graph_world_new(void)
{
    struct graph_world *w = calloc(1, sizeof(*w));
    struct rvm_graph_config gc = {GRAPH_CAP, w->nodes, w->weights, 0};
    assert_int_equal(rvm_graph_init(&w->g, &gc), RVM_OK);
    for (rvm_partition_id id = 1; id <= 3; id++) {
        uint32_t slot = UINT32_MAX;
        assert_int_equal(rvm_graph_add_node(&w->g, id, &slot), RVM_OK);
        assert_int_equal(slot, id - 1u); /* the lowest free slot, documented */
    }
    assert_int_equal(rvm_graph_remove_slot(&w->g, 1), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&w->g, 1, 3, 5), RVM_OK);
    assert_int_equal(rvm_graph_add_weight(&w->g, 1, 1, 7), RVM_OK);
    w->hinted = RVM_GRAPH_HINT_SLOTS;
    for (uint32_t h = 0; h < RVM_GRAPH_HINT_SLOTS; h++) {
        if (w->g.hint[h] == 1) {
            w->hinted = h;
        }
    }
    assert_true(w->hinted < RVM_GRAPH_HINT_SLOTS);
    assert_int_equal(rvm_graph_check(&w->g), RVM_OK);
    return w;
}

#define WEIGHT(a, b) (w->weights[(a)*GRAPH_CAP + (b)])

CORRUPTION(struct graph_world, graph_capacity_below_two, w->g.capacity = 1)
CORRUPTION(struct graph_world, graph_capacity_over_max, w->g.capacity = RVM_GRAPH_MAX_CAPACITY + 1u)
CORRUPTION(struct graph_world, graph_decay_over_one, w->g.decay_bp = RVM_BP_ONE + 1u)
CORRUPTION(struct graph_world, graph_more_live_than_capacity, w->g.live = GRAPH_CAP + 1u)
CORRUPTION(struct graph_world, graph_live_hypervisor, w->nodes[2].id = RVM_PARTITION_HYPERVISOR)
CORRUPTION(struct graph_world, graph_weight_over_max,
           (WEIGHT(0, 2) = RVM_GRAPH_WEIGHT_MAX + 1u, WEIGHT(2, 0) = RVM_GRAPH_WEIGHT_MAX + 1u))
CORRUPTION(struct graph_world, graph_weight_asymmetric, WEIGHT(0, 2)++)
CORRUPTION(struct graph_world, graph_edge_to_free_slot_above, (WEIGHT(0, 3) = 1, WEIGHT(3, 0) = 1))
CORRUPTION(struct graph_world, graph_edge_from_free_slot, (WEIGHT(1, 1) = 1))
CORRUPTION(struct graph_world, graph_duplicate_id, w->nodes[2].id = 1)
CORRUPTION(struct graph_world, graph_external_weight_off, w->nodes[0].ext++)
CORRUPTION(struct graph_world, graph_live_count_off, w->g.live++)
CORRUPTION(struct graph_world, graph_edge_count_off, w->g.edges++)
CORRUPTION(struct graph_world, graph_hint_past_capacity, w->g.hint[w->hinted] = GRAPH_CAP + 1u)
CORRUPTION(struct graph_world, graph_hint_to_free_slot, w->g.hint[w->hinted] = 2)
CORRUPTION(struct graph_world, graph_hint_for_other_hash,
           w->g.hint[(w->hinted + 1u) % RVM_GRAPH_HINT_SLOTS] = 1)

static void test_graph_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(graph_capacity_below_two),  ROW(graph_capacity_over_max),
        ROW(graph_decay_over_one),      ROW(graph_more_live_than_capacity),
        ROW(graph_live_hypervisor),     ROW(graph_weight_over_max),
        ROW(graph_weight_asymmetric),   ROW(graph_edge_to_free_slot_above),
        ROW(graph_edge_from_free_slot), ROW(graph_duplicate_id),
        ROW(graph_external_weight_off), ROW(graph_live_count_off),
        ROW(graph_edge_count_off),      ROW(graph_hint_past_capacity),
        ROW(graph_hint_to_free_slot),   ROW(graph_hint_for_other_hash),
    };
    struct graph_world *w = graph_world_new();
    RUN(w, graph_check, rows);
    free(w);
}

/* ---- coherence engine (rvm_coherence_check) -------------------------------------------------- */

#define COH_CAP 4u

struct coherence_world {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[RING][RVM_WITNESS_RECORD_BYTES];
    uint64_t storage[RVM_COHERENCE_STORAGE_BYTES(COH_CAP) / 8u + 1u];
    struct rvm_coherence c;
};

static enum rvm_err coherence_check(const void *w)
{
    return rvm_coherence_check(&((const struct coherence_world *)w)->c);
}

/* Partitions 1, 2, 3 (slots 0..2) talking 1-2 and 2-3, one epoch run (a cut computed); slot 3 is
 * free. */
static struct coherence_world *coherence_world_new(void)
{
    struct coherence_world *w = calloc(1, sizeof(*w));
    rvm_crypto_portable(&w->crypto);
    hal_recorder_init(&w->rec, &w->crypto);
    struct rvm_witness_config wc = {.ring = w->ring, .ring_capacity = RING};
    assert_int_equal(rvm_witness_init(&w->log, hal_recorder_hal(&w->rec), &wc), RVM_OK);
    struct rvm_coherence_config cfg;
    rvm_coherence_default_config(&cfg, COH_CAP);
    cfg.storage = w->storage;
    cfg.storage_bytes = RVM_COHERENCE_STORAGE_BYTES(COH_CAP);
    assert_int_equal(rvm_coherence_init(&w->c, &cfg), RVM_OK);
    for (rvm_partition_id id = 1; id <= 3; id++) {
        assert_int_equal(witnessed_coherence_add_partition(&w->c, &w->log, 0, id), RVM_OK);
    }
    assert_int_equal(witnessed_coherence_record_ipc(&w->c, &w->log, 1, 1, 2, 40), RVM_OK);
    assert_int_equal(witnessed_coherence_record_ipc(&w->c, &w->log, 2, 2, 3, 10), RVM_OK);
    assert_int_equal(rvm_coherence_epoch(&w->c, &w->log, true, NULL), RVM_OK);
    assert_true(w->c.have_cut);
    assert_int_equal(rvm_coherence_check(&w->c), RVM_OK);
    return w;
}

#define NODE(i)   (w->c.node[(i)])
#define FREE_SLOT 3u

/* the engine */
CORRUPTION(struct coherence_world, coh_graph_broken, w->c.graph.edges++)
CORRUPTION(struct coherence_world, coh_scratch_other_capacity, w->c.scratch.capacity++)
CORRUPTION(struct coherence_world, coh_policy_exit_above_enter,
           w->c.split_exit_bp = (uint16_t)(w->c.split_enter_bp + 1u))
CORRUPTION(struct coherence_world, coh_cut_from_future, w->c.cut_epoch = w->c.epoch + 1u)
CORRUPTION(struct coherence_world, coh_bad_and_good_streak,
           (w->c.bad_streak = 1, w->c.good_streak = 1))
CORRUPTION(struct coherence_world, coh_more_splits_than_limit,
           w->c.split_created = w->c.split_limit + 1u)
CORRUPTION(struct coherence_world, coh_split_count_off, w->c.split_created++)
CORRUPTION(struct coherence_world, coh_cut_side_unknown, w->c.cut_side[0] = RVM_MINCUT_SIDE_B + 1u)
/* a free slot */
CORRUPTION(struct coherence_world, coh_free_score, NODE(FREE_SLOT).score_bp = 0)
CORRUPTION(struct coherence_world, coh_free_pressure, NODE(FREE_SLOT).pressure_bp = 1)
CORRUPTION(struct coherence_world, coh_free_flags,
           NODE(FREE_SLOT).flags = RVM_COH_NODE_SPLIT_LATCHED)
CORRUPTION(struct coherence_world, coh_free_split_streak, NODE(FREE_SLOT).split_streak = 1)
CORRUPTION(struct coherence_world, coh_free_merge_partner, NODE(FREE_SLOT).merge_partner = 0)
CORRUPTION(struct coherence_world, coh_free_merge_streak, NODE(FREE_SLOT).merge_streak = 1)
CORRUPTION(struct coherence_world, coh_free_merge_latch, NODE(FREE_SLOT).merge_latch = 0)
CORRUPTION(struct coherence_world, coh_free_hold, NODE(FREE_SLOT).hold_until = 1)
CORRUPTION(struct coherence_world, coh_free_on_cut_side,
           w->c.cut_side[FREE_SLOT] = RVM_MINCUT_SIDE_A)
/* a live slot */
CORRUPTION(struct coherence_world, coh_unknown_flag, NODE(0).flags = 0x4)
CORRUPTION(struct coherence_world, coh_score_over_one,
           (NODE(0).score_bp = RVM_BP_ONE + 1u, NODE(0).pressure_bp = 0))
CORRUPTION(struct coherence_world, coh_score_and_pressure_short,
           (NODE(0).score_bp = 5000, NODE(0).pressure_bp = 4998))
CORRUPTION(struct coherence_world, coh_score_and_pressure_over,
           (NODE(0).score_bp = 5000, NODE(0).pressure_bp = 5001))
CORRUPTION(struct coherence_world, coh_merge_partner_self, NODE(0).merge_partner = 0)
CORRUPTION(struct coherence_world, coh_merge_partner_free, NODE(0).merge_partner = FREE_SLOT)
CORRUPTION(struct coherence_world, coh_merge_latch_self, NODE(0).merge_latch = 0)
CORRUPTION(struct coherence_world, coh_merge_latch_free, NODE(0).merge_latch = FREE_SLOT)
CORRUPTION(struct coherence_world, coh_merge_latch_one_sided, NODE(0).merge_latch = 1)

static void test_coherence_check(void **state)
{
    (void)state;
    static const struct corruption rows[] = {
        ROW(coh_graph_broken),
        ROW(coh_scratch_other_capacity),
        ROW(coh_policy_exit_above_enter),
        ROW(coh_cut_from_future),
        ROW(coh_bad_and_good_streak),
        ROW(coh_more_splits_than_limit),
        ROW(coh_split_count_off),
        ROW(coh_cut_side_unknown),
        ROW(coh_free_score),
        ROW(coh_free_pressure),
        ROW(coh_free_flags),
        ROW(coh_free_split_streak),
        ROW(coh_free_merge_partner),
        ROW(coh_free_merge_streak),
        ROW(coh_free_merge_latch),
        ROW(coh_free_hold),
        ROW(coh_free_on_cut_side),
        ROW(coh_unknown_flag),
        ROW(coh_score_over_one),
        ROW(coh_score_and_pressure_short),
        ROW(coh_score_and_pressure_over),
        ROW(coh_merge_partner_self),
        ROW(coh_merge_partner_free),
        ROW(coh_merge_latch_self),
        ROW(coh_merge_latch_free),
        ROW(coh_merge_latch_one_sided),
    };
    struct coherence_world *w = coherence_world_new();
    RUN(w, coherence_check, rows);
    hal_recorder_free(&w->rec);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_check),
        cmocka_unit_test(test_tier_state_check),
        cmocka_unit_test(test_vcpu_check),
        cmocka_unit_test(test_region_check),
        cmocka_unit_test(test_region_check_without_ram),
        cmocka_unit_test(test_cap_check),
        cmocka_unit_test(test_sched_check),
        cmocka_unit_test(test_vmid_check),
        cmocka_unit_test(test_graph_check),
        cmocka_unit_test(test_coherence_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
