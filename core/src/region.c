/* SPDX-License-Identifier: MIT */
#include "rvm/region.h"

#include "rvm/bytes.h"

_Static_assert(sizeof(struct rvm_region) == 96, "struct rvm_region must have no padding");

#define PERM_ALL       (RVM_PERM_R | RVM_PERM_W | RVM_PERM_X)
#define GENERATION_END UINT32_MAX /* a slot whose generation reaches this is retired */

/* ---- helpers --------------------------------------------------------------------------------- */

static inline bool valid_partition(rvm_partition_id p)
{
    return p != RVM_PARTITION_HYPERVISOR && p != RVM_PARTITION_INVALID;
}

static inline bool is_ram(uint32_t type)
{
    return type == RVM_REGION_DATA || type == RVM_REGION_CODE || type == RVM_REGION_IMMUTABLE;
}

static inline bool is_resident_tier(uint32_t tier)
{
    return tier == RVM_TIER_HOT || tier == RVM_TIER_WARM;
}

/* Whether a region currently covers host pages (its own or, for a share, its source's). */
static inline bool has_host_range(const struct rvm_region *r)
{
    return r->type == RVM_REGION_SHARED || r->type == RVM_REGION_DEVICE ||
           is_resident_tier(r->tier.tier);
}

static inline uint64_t region_bytes(const struct rvm_region *r)
{
    return (uint64_t)r->npages << RVM_PAGE_SHIFT; /* npages < 2^20: no overflow */
}

static inline bool ranges_overlap(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    /* Both ranges are known not to wrap. */
    return a < b + b_len && b < a + a_len;
}

static inline struct rvm_handle handle_of(const struct rvm_region_table *rt, uint32_t slot)
{
    struct rvm_handle h = {slot, rt->slots[slot].generation};
    return h;
}

static enum rvm_err find(const struct rvm_region_table *rt, struct rvm_handle h, uint32_t *slot)
{
    if (h.index >= rt->capacity) {
        return RVM_ERR_NOT_FOUND;
    }
    const struct rvm_region *r = &rt->slots[h.index];
    if (!r->used || r->generation != h.generation) {
        return h.generation < r->generation ? RVM_ERR_STALE : RVM_ERR_NOT_FOUND;
    }
    *slot = h.index;
    return RVM_OK;
}

static bool free_slot(const struct rvm_region_table *rt, uint32_t *slot)
{
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        if (!rt->slots[i].used && rt->slots[i].generation != GENERATION_END) {
            *slot = i;
            return true;
        }
    }
    return false;
}

/* The permissions a region of `type` may carry. */
static enum rvm_err check_perms(uint32_t type, uint32_t perms)
{
    if ((perms & ~(uint32_t)PERM_ALL) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_X) != 0) {
        return RVM_ERR_WX;
    }
    if ((perms & RVM_PERM_R) == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    switch (type) {
    case RVM_REGION_DATA:
    case RVM_REGION_DEVICE:
        return (perms & RVM_PERM_X) == 0 ? RVM_OK : RVM_ERR_INVALID_ARGUMENT;
    case RVM_REGION_CODE:
    case RVM_REGION_IMMUTABLE:
    case RVM_REGION_SHARED:
        return (perms & RVM_PERM_W) == 0 ? RVM_OK : RVM_ERR_INVALID_ARGUMENT;
    default:
        return RVM_ERR_INVALID_ARGUMENT;
    }
}

static void entry_fill(struct rvm_witness_entry *e, uint8_t kind, uint32_t actor, uint64_t target,
                       uint32_t flags, uint64_t payload, uint64_t aux)
{
    e->kind = kind;
    e->proof_tier = RVM_PROOF_NONE;
    e->flags = (uint8_t)flags;
    e->actor = actor;
    e->target = target;
    e->cap_hash = 0;
    e->payload = payload;
    e->aux = aux;
}

/* Empty a slot, bumping its generation so old handles go stale; retire it at the end. */
static void release_slot(struct rvm_region_table *rt, uint32_t slot)
{
    struct rvm_region *r = &rt->slots[slot];
    uint32_t gen = r->generation + 1u;
    rvm_memset(r, 0, sizeof(*r));
    r->generation = gen;
    rt->count--;
}

/* ---- init and lookup ------------------------------------------------------------------------- */

enum rvm_err rvm_region_init(struct rvm_region_table *rt, const struct rvm_hal *hal,
                             struct rvm_witness_log *log, const struct rvm_region_config *cfg)
{
    if (rt == NULL || hal == NULL || log == NULL || cfg == NULL || cfg->slots == NULL ||
        cfg->capacity == 0 || cfg->capacity > 0x80000000u) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_tier_policy policy;
    if (cfg->policy != NULL) {
        policy = *cfg->policy;
    } else {
        rvm_tier_policy_default(&policy);
    }
    if (rvm_tier_policy_check(&policy) != RVM_OK) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rt->hal = hal;
    rt->log = log;
    rt->ram = cfg->ram;
    rt->slots = cfg->slots;
    rt->capacity = cfg->capacity;
    rt->count = 0;
    rt->epoch = 0;
    rt->policy = policy;
    for (uint32_t i = 0; i < cfg->capacity; i++) { /* bound: capacity */
        rvm_memset(&rt->slots[i], 0, sizeof(rt->slots[i]));
        rt->slots[i].generation = 1;
    }
    return RVM_OK;
}

const struct rvm_region *rvm_region_get(const struct rvm_region_table *rt, struct rvm_handle h)
{
    uint32_t slot;
    return find(rt, h, &slot) == RVM_OK ? &rt->slots[slot] : NULL;
}

enum rvm_err rvm_region_lookup(const struct rvm_region_table *rt, struct rvm_handle h)
{
    uint32_t slot;
    return find(rt, h, &slot);
}

/* ---- create / destroy ------------------------------------------------------------------------ */

/* A device range must avoid RAM and every host range already in use. */
static enum rvm_err device_range_free(const struct rvm_region_table *rt, uint64_t hpa,
                                      uint64_t bytes)
{
    if (rt->ram != NULL &&
        ranges_overlap(hpa, bytes, rt->ram->base, (uint64_t)rt->ram->npages << RVM_PAGE_SHIFT)) {
        return RVM_ERR_OVERLAP;
    }
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        if (r->used && r->type != RVM_REGION_SHARED && has_host_range(r) &&
            ranges_overlap(hpa, bytes, r->hpa, region_bytes(r))) {
            return RVM_ERR_OVERLAP;
        }
    }
    return RVM_OK;
}

enum rvm_err rvm_region_prepare_create(const struct rvm_region_table *rt, uint32_t actor,
                                       const struct rvm_region_create_req *req,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_region_create_plan *plan)
{
    if (req == NULL || !valid_partition(req->owner) ||
        (!is_ram(req->type) && req->type != RVM_REGION_DEVICE)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_perms(req->type, req->perms);
    if (err != RVM_OK) {
        return err;
    }
    if (req->npages == 0 || req->npages > RVM_REGION_MAX_PAGES) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint64_t bytes = (uint64_t)req->npages << RVM_PAGE_SHIFT;
    rvm_memset(plan, 0, sizeof(*plan));
    struct rvm_region *r = &plan->region;
    if (req->type == RVM_REGION_DEVICE) {
        uint64_t end;
        if ((req->hpa.v & (RVM_PAGE_SIZE - 1u)) != 0) {
            return RVM_ERR_ALIGNMENT;
        }
        if (!rvm_add_u64(req->hpa.v, bytes, &end)) {
            return RVM_ERR_OVERFLOW;
        }
        err = device_range_free(rt, req->hpa.v, bytes);
        if (err != RVM_OK) {
            return err;
        }
        r->hpa = req->hpa.v;
        rvm_tier_state_init(&r->tier, &rt->policy, RVM_TIER_HOT);
    } else {
        if (rt->ram == NULL) {
            return RVM_ERR_UNSUPPORTED;
        }
        uint32_t order = rvm_buddy_order_for_pages(req->npages);
        if (order > rt->ram->max_order) {
            return RVM_ERR_OUT_OF_RANGE;
        }
        err = rvm_buddy_prepare_alloc(rt->ram, order, &plan->alloc);
        if (err != RVM_OK) {
            return err;
        }
        plan->from_ram = true;
        r->order = (uint8_t)order;
        r->hpa = rt->ram->base + ((uint64_t)plan->alloc.page << RVM_PAGE_SHIFT);
        rvm_tier_state_init(&r->tier, &rt->policy, RVM_TIER_WARM);
    }
    if (!free_slot(rt, &plan->slot)) {
        return RVM_ERR_NO_SPACE;
    }
    r->generation = rt->slots[plan->slot].generation;
    r->used = 1;
    r->type = (uint8_t)req->type;
    r->perms = (uint8_t)req->perms;
    r->owner = req->owner;
    r->npages = req->npages;
    entry_fill(entry, RVM_ACT_REGION_CREATE, actor, rvm_handle_pack(handle_of(rt, plan->slot)),
               req->type | req->perms << 4, r->hpa,
               (uint64_t)req->owner | (uint64_t)req->npages << 32);
    return RVM_OK;
}

struct rvm_handle rvm_region_commit_create(struct rvm_region_table *rt,
                                           const struct rvm_region_create_plan *plan)
{
    if (plan->from_ram) {
        (void)rvm_buddy_commit_alloc(rt->ram, &plan->alloc);
    }
    rt->slots[plan->slot] = plan->region;
    rt->count++;
    return handle_of(rt, plan->slot);
}

static enum rvm_err prepare_release(const struct rvm_region_table *rt, uint32_t slot,
                                    struct rvm_region_release_plan *plan)
{
    const struct rvm_region *r = &rt->slots[slot];
    if (r->mapped || r->shares != 0) {
        return RVM_ERR_WRONG_STATE;
    }
    rvm_memset(plan, 0, sizeof(*plan));
    plan->slot = slot;
    if (is_ram(r->type) && is_resident_tier(r->tier.tier)) {
        if (rt->ram == NULL ||
            rvm_buddy_prepare_free(rt->ram, rvm_hpa(r->hpa), r->order, &plan->page) != RVM_OK) {
            return RVM_ERR_INTERNAL; /* the allocator disagrees with our record */
        }
        plan->to_ram = true;
        plan->order = r->order;
    }
    return RVM_OK;
}

enum rvm_err rvm_region_prepare_destroy(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_witness_entry *entry,
                                        struct rvm_region_release_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (r->type == RVM_REGION_SHARED) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    err = prepare_release(rt, slot, plan);
    if (err != RVM_OK) {
        return err;
    }
    entry_fill(entry, RVM_ACT_REGION_DESTROY, actor, rvm_handle_pack(h),
               r->type | (uint32_t)r->tier.tier << 4, r->hpa,
               (uint64_t)r->owner | (uint64_t)r->npages << 32);
    return RVM_OK;
}

void rvm_region_commit_destroy(struct rvm_region_table *rt,
                               const struct rvm_region_release_plan *plan)
{
    if (plan->to_ram) {
        rvm_buddy_commit_free(rt->ram, plan->page, plan->order);
    }
    release_slot(rt, plan->slot);
}

/* ---- map / unmap ----------------------------------------------------------------------------- */

enum rvm_err rvm_region_prepare_map(const struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle h, rvm_ipa_t ipa, uint32_t perms,
                                    struct rvm_witness_entry *entry,
                                    struct rvm_region_map_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (r->mapped || !has_host_range(r)) {
        return RVM_ERR_WRONG_STATE;
    }
    if ((perms & ~(uint32_t)PERM_ALL) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_X) != 0) {
        return RVM_ERR_WX;
    }
    if ((perms & ~(uint32_t)r->perms) != 0 || (perms & RVM_PERM_R) == 0) {
        return RVM_ERR_PERMISSION;
    }
    uint64_t bytes = region_bytes(r);
    uint64_t end;
    if ((ipa.v & (RVM_PAGE_SIZE - 1u)) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    if (!rvm_add_u64(ipa.v, bytes, &end)) {
        return RVM_ERR_OVERFLOW;
    }
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *o = &rt->slots[i];
        if (o->used && o->mapped && o->owner == r->owner &&
            ranges_overlap(ipa.v, bytes, o->ipa, region_bytes(o))) {
            return RVM_ERR_OVERLAP;
        }
    }
    plan->slot = slot;
    plan->owner = r->owner;
    plan->ipa = ipa.v;
    plan->hpa = r->hpa;
    plan->size = bytes;
    plan->perms = perms;
    entry_fill(entry, RVM_ACT_REGION_MAP, actor, rvm_handle_pack(h), perms, ipa.v, r->hpa);
    return RVM_OK;
}

enum rvm_err rvm_region_hal_map(const struct rvm_region_table *rt,
                                const struct rvm_region_map_plan *plan)
{
    return rt->hal->ops->s2_map(rt->hal->ctx, plan->owner, rvm_ipa(plan->ipa), rvm_hpa(plan->hpa),
                                plan->size, plan->perms);
}

void rvm_region_commit_map(struct rvm_region_table *rt, const struct rvm_region_map_plan *plan)
{
    struct rvm_region *r = &rt->slots[plan->slot];
    r->mapped = 1;
    r->ipa = plan->ipa;
    r->map_perms = (uint8_t)plan->perms;
}

enum rvm_err rvm_region_prepare_unmap(const struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h, struct rvm_witness_entry *entry,
                                      struct rvm_region_map_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (!r->mapped) {
        return RVM_ERR_WRONG_STATE;
    }
    plan->slot = slot;
    plan->owner = r->owner;
    plan->ipa = r->ipa;
    plan->hpa = r->hpa;
    plan->size = region_bytes(r);
    plan->perms = r->map_perms;
    entry_fill(entry, RVM_ACT_REGION_UNMAP, actor, rvm_handle_pack(h), r->map_perms, r->ipa,
               r->hpa);
    return RVM_OK;
}

enum rvm_err rvm_region_hal_unmap(const struct rvm_region_table *rt,
                                  const struct rvm_region_map_plan *plan)
{
    return rt->hal->ops->s2_unmap(rt->hal->ctx, plan->owner, rvm_ipa(plan->ipa), plan->size);
}

void rvm_region_commit_unmap(struct rvm_region_table *rt, const struct rvm_region_map_plan *plan)
{
    struct rvm_region *r = &rt->slots[plan->slot];
    r->mapped = 0;
    r->ipa = 0;
    r->map_perms = 0;
}

/* reserve -> platform -> witness -> commit. A platform refusal is witnessed in the reserved
 * record and changes nothing. */
/* ---- share / unshare / transfer -------------------------------------------------------------- */

enum rvm_err rvm_region_prepare_share(const struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle source, rvm_partition_id borrower,
                                      uint32_t perms, struct rvm_witness_entry *entry,
                                      struct rvm_region_create_plan *plan)
{
    uint32_t src;
    enum rvm_err err = find(rt, source, &src);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *s = &rt->slots[src];
    if ((perms & ~(uint32_t)PERM_ALL) != 0 || !valid_partition(borrower) || borrower == s->owner) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (s->type != RVM_REGION_IMMUTABLE || (perms & RVM_PERM_W) != 0) {
        return RVM_ERR_SHARE;
    }
    if ((perms & ~(uint32_t)s->perms) != 0 || (perms & RVM_PERM_R) == 0) {
        return RVM_ERR_PERMISSION;
    }
    if (!is_resident_tier(s->tier.tier)) {
        return RVM_ERR_WRONG_STATE;
    }
    rvm_memset(plan, 0, sizeof(*plan));
    if (s->shares == UINT32_MAX || !free_slot(rt, &plan->slot)) {
        return RVM_ERR_NO_SPACE;
    }
    struct rvm_region *r = &plan->region;
    r->generation = rt->slots[plan->slot].generation;
    r->used = 1;
    r->type = RVM_REGION_SHARED;
    r->perms = (uint8_t)perms;
    r->owner = borrower;
    r->npages = s->npages;
    r->hpa = s->hpa;
    r->source = src;
    r->source_generation = s->generation;
    rvm_tier_state_init(&r->tier, &rt->policy, RVM_TIER_WARM); /* unused: follows the source */
    entry_fill(entry, RVM_ACT_REGION_SHARE, actor, rvm_handle_pack(handle_of(rt, plan->slot)),
               perms, rvm_handle_pack(source), (uint64_t)borrower | (uint64_t)s->owner << 32);
    return RVM_OK;
}

struct rvm_handle rvm_region_commit_share(struct rvm_region_table *rt,
                                          const struct rvm_region_create_plan *plan)
{
    rt->slots[plan->region.source].shares++;
    rt->slots[plan->slot] = plan->region;
    rt->count++;
    return handle_of(rt, plan->slot);
}

enum rvm_err rvm_region_prepare_unshare(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_witness_entry *entry,
                                        struct rvm_region_release_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (r->type != RVM_REGION_SHARED) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    err = prepare_release(rt, slot, plan);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_handle src = {r->source, r->source_generation};
    entry_fill(entry, RVM_ACT_REGION_UNSHARE, actor, rvm_handle_pack(h), r->perms,
               rvm_handle_pack(src), r->owner);
    return RVM_OK;
}

void rvm_region_commit_unshare(struct rvm_region_table *rt,
                               const struct rvm_region_release_plan *plan)
{
    rt->slots[rt->slots[plan->slot].source].shares--;
    release_slot(rt, plan->slot);
}

enum rvm_err rvm_region_prepare_transfer(const struct rvm_region_table *rt, uint32_t actor,
                                         struct rvm_handle h, rvm_partition_id to,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_region_transfer_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (r->type == RVM_REGION_SHARED || !valid_partition(to) || to == r->owner) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (r->mapped || r->shares != 0) {
        return RVM_ERR_WRONG_STATE;
    }
    plan->slot = slot;
    plan->to = to;
    entry_fill(entry, RVM_ACT_REGION_TRANSFER, actor, rvm_handle_pack(h), r->type,
               (uint64_t)r->owner | (uint64_t)to << 32, 0);
    return RVM_OK;
}

void rvm_region_commit_transfer(struct rvm_region_table *rt,
                                const struct rvm_region_transfer_plan *plan)
{
    rt->slots[plan->slot].owner = plan->to;
}

/* ---- tier moves ------------------------------------------------------------------------------ */

static enum rvm_err prepare_to_dormant(const struct rvm_region_table *rt,
                                       const struct rvm_region *r, struct rvm_region_tier_io *io,
                                       struct rvm_region_tier_plan *plan)
{
    if (r->mapped || r->shares != 0) {
        return RVM_ERR_WRONG_STATE;
    }
    if (io == NULL || io->contents == NULL || io->work == NULL || io->image == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (rt->ram == NULL ||
        rvm_buddy_prepare_free(rt->ram, rvm_hpa(r->hpa), r->order, &plan->page) != RVM_OK) {
        return RVM_ERR_INTERNAL;
    }
    size_t len = io->image_len;
    enum rvm_err err =
        io->staged ? rvm_compress_seal(&rt->hal->crypto, io->contents, (size_t)region_bytes(r),
                                       io->image, len, plan->checkpoint)
                   : rvm_compress(&rt->hal->crypto, io->work, io->contents, (size_t)region_bytes(r),
                                  io->image, io->image_cap, &len, plan->checkpoint);
    if (err != RVM_OK) {
        return err;
    }
    io->image_len = len;
    plan->image_len = (uint32_t)len; /* < 4 GiB: npages < 2^20 */
    plan->release = true;
    return RVM_OK;
}

/* Dormant -> Warm and Cold -> Dormant: the image must be the one the checkpoint names. */
static enum rvm_err verify_image(const struct rvm_region_table *rt, const struct rvm_region *r,
                                 struct rvm_region_tier_io *io)
{
    if (io == NULL || io->image == NULL || io->out == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (io->out_cap < region_bytes(r)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (io->image_len != r->image_len) {
        rvm_memset(io->out, 0, (size_t)region_bytes(r));
        return RVM_ERR_CORRUPT; /* size mismatch */
    }
    if (io->check_only) {
        return rvm_compress_check(&rt->hal->crypto, io->image, io->image_len, r->checkpoint,
                                  region_bytes(r));
    }
    return rvm_compress_reconstruct(&rt->hal->crypto, io->image, io->image_len, r->checkpoint,
                                    region_bytes(r), io->out, io->out_cap);
}

static uint64_t checkpoint_prefix(const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES])
{
    return rvm_load_le64(checkpoint);
}

static enum rvm_err prepare_move(const struct rvm_region_table *rt, uint32_t actor,
                                 struct rvm_handle h, uint32_t target, bool restore,
                                 struct rvm_region_tier_io *io, struct rvm_witness_entry *entry,
                                 struct rvm_region_tier_plan *plan)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_region *r = &rt->slots[slot];
    if (!is_ram(r->type) || (restore && r->tier.tier != RVM_TIER_DORMANT)) {
        return RVM_ERR_TIER;
    }
    bool promote = false;
    err = rvm_tier_check_move(&rt->policy, &r->tier, target, &promote);
    if (restore && err == RVM_ERR_RESIDENCY_LOW) {
        err = RVM_OK; /* an explicit restore needs no residency, like Cold -> Dormant */
        promote = true;
    }
    if (err != RVM_OK) {
        return err;
    }
    rvm_memset(plan, 0, sizeof(*plan));
    plan->slot = slot;
    plan->from = r->tier.tier;
    plan->to = (uint8_t)target;
    plan->image_len = r->image_len;
    rvm_memcpy(plan->checkpoint, r->checkpoint, sizeof(plan->checkpoint));
    uint64_t aux = 0;
    if (plan->from == RVM_TIER_WARM && target == RVM_TIER_DORMANT) {
        err = prepare_to_dormant(rt, r, io, plan);
        aux = checkpoint_prefix(plan->checkpoint);
    } else if (plan->from == RVM_TIER_DORMANT && target == RVM_TIER_WARM) {
        if (rt->ram == NULL) {
            return RVM_ERR_INTERNAL; /* a RAM region without RAM: rvm_region_check says so too */
        }
        err = rvm_buddy_prepare_alloc(rt->ram, r->order, &plan->alloc_plan);
        if (err == RVM_OK) {
            err = verify_image(rt, r, io);
        }
        plan->alloc = true;
        plan->image_len = 0;
        rvm_memset(plan->checkpoint, 0, sizeof(plan->checkpoint));
        aux = rt->ram->base + ((uint64_t)plan->alloc_plan.page << RVM_PAGE_SHIFT);
    } else if (plan->from == RVM_TIER_COLD && target == RVM_TIER_DORMANT) {
        err = verify_image(rt, r, io);
        aux = checkpoint_prefix(plan->checkpoint);
    } else if (plan->from == RVM_TIER_DORMANT && target == RVM_TIER_COLD) {
        aux = checkpoint_prefix(plan->checkpoint);
    }
    if (err != RVM_OK) {
        return err;
    }
    uint32_t residency = rvm_tier_residency(&r->tier);
    entry_fill(entry, promote ? RVM_ACT_REGION_PROMOTE : RVM_ACT_REGION_DEMOTE, actor,
               rvm_handle_pack(h), 0,
               (uint64_t)plan->from | (uint64_t)target << 8 | (uint64_t)residency << 16 |
                   (uint64_t)plan->image_len << 32,
               aux);
    return RVM_OK;
}

enum rvm_err rvm_region_prepare_move(const struct rvm_region_table *rt, uint32_t actor,
                                     struct rvm_handle h, uint32_t target,
                                     struct rvm_region_tier_io *io, struct rvm_witness_entry *entry,
                                     struct rvm_region_tier_plan *plan)
{
    return prepare_move(rt, actor, h, target, false, io, entry, plan);
}

enum rvm_err rvm_region_prepare_restore(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_region_tier_io *io,
                                        struct rvm_witness_entry *entry,
                                        struct rvm_region_tier_plan *plan)
{
    return prepare_move(rt, actor, h, RVM_TIER_WARM, true, io, entry, plan);
}

void rvm_region_commit_move(struct rvm_region_table *rt, const struct rvm_region_tier_plan *plan)
{
    struct rvm_region *r = &rt->slots[plan->slot];
    if (plan->release) {
        rvm_buddy_commit_free(rt->ram, plan->page, r->order);
        r->hpa = 0;
    }
    if (plan->alloc) {
        r->hpa = rvm_buddy_commit_alloc(rt->ram, &plan->alloc_plan).v;
    }
    r->image_len = plan->image_len;
    rvm_memcpy(r->checkpoint, plan->checkpoint, sizeof(r->checkpoint));
    r->tier.tier = plan->to;
}

/* ---- tier inputs and the epoch --------------------------------------------------------------- */

enum rvm_err rvm_region_touch(struct rvm_region_table *rt, struct rvm_handle h)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_region *r = &rt->slots[slot];
    if (r->type == RVM_REGION_SHARED) {
        r = &rt->slots[r->source]; /* a view in use keeps its source warm */
    }
    if (!is_ram(r->type)) {
        return RVM_ERR_TIER;
    }
    rvm_tier_touch(&r->tier);
    return RVM_OK;
}

enum rvm_err rvm_region_set_cut(struct rvm_region_table *rt, struct rvm_handle h, uint32_t cut)
{
    uint32_t slot;
    enum rvm_err err = find(rt, h, &slot);
    if (err != RVM_OK) {
        return err;
    }
    if (cut > RVM_TIER_BP_MAX) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!is_ram(rt->slots[slot].type)) {
        return RVM_ERR_TIER;
    }
    rvm_tier_stage_cut(&rt->slots[slot].tier, (uint16_t)cut);
    return RVM_OK;
}

static inline bool tiered(const struct rvm_region *r)
{
    return r->used && is_ram(r->type);
}

enum rvm_err rvm_region_epoch(struct rvm_region_table *rt)
{
    /* Work out the summary on copies first: the record goes in before anything changes. */
    uint32_t touched = 0;
    uint32_t advised = 0;
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        if (!tiered(r)) {
            continue;
        }
        struct rvm_tier_state next = r->tier;
        touched += next.accessed;
        rvm_tier_epoch(&rt->policy, &next);
        advised += rvm_tier_recommend(&rt->policy, &next) != next.tier;
    }
    struct rvm_witness_entry entry;
    entry_fill(&entry, RVM_ACT_REGION_TIER_EPOCH, 0, 0, 0, rt->epoch + 1u,
               (uint64_t)touched | (uint64_t)advised << 32);
    enum rvm_err err = rvm_witness_append(rt->log, &entry, NULL);
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        if (tiered(&rt->slots[i])) {
            rvm_tier_epoch(&rt->policy, &rt->slots[i].tier);
        }
    }
    rt->epoch++;
    return RVM_OK;
}

uint32_t rvm_region_recommend(const struct rvm_region_table *rt, struct rvm_region_advice *out,
                              uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < rt->capacity && n < cap; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        if (!tiered(r)) {
            continue;
        }
        enum rvm_tier want = rvm_tier_recommend(&rt->policy, &r->tier);
        if (want != r->tier.tier) {
            out[n].region = handle_of(rt, i);
            out[n].from = r->tier.tier;
            out[n].to = (uint8_t)want;
            n++;
        }
    }
    return n;
}

enum rvm_err rvm_region_translate(const struct rvm_region_table *rt, rvm_partition_id part,
                                  rvm_ipa_t ipa, rvm_hpa_t *hpa, uint32_t *perms)
{
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        if (r->used && r->mapped && r->owner == part && ipa.v >= r->ipa &&
            ipa.v - r->ipa < region_bytes(r)) {
            if (hpa != NULL) {
                *hpa = rvm_hpa(r->hpa + (ipa.v - r->ipa));
            }
            if (perms != NULL) {
                *perms = r->map_perms;
            }
            return RVM_OK;
        }
    }
    return RVM_ERR_NOT_FOUND;
}

/* ---- oracles --------------------------------------------------------------------------------- */

static bool zero_bytes(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        acc |= p[i];
    }
    return acc == 0;
}

static bool slot_ok(const struct rvm_region_table *rt, uint32_t i, uint64_t *ram_pages)
{
    const struct rvm_region *r = &rt->slots[i];
    uint64_t bytes = region_bytes(r);
    uint64_t end;
    if (r->generation == 0 || r->generation == GENERATION_END || r->reserved[0] != 0 ||
        r->reserved[1] != 0 || r->reserved2 != 0 || !valid_partition(r->owner) || r->npages == 0 ||
        r->npages > RVM_REGION_MAX_PAGES || check_perms(r->type, r->perms) != RVM_OK ||
        rvm_tier_state_check(&r->tier) != RVM_OK) {
        return false;
    }
    if (r->type == RVM_REGION_SHARED) {
        if (r->source >= rt->capacity) {
            return false;
        }
        const struct rvm_region *s = &rt->slots[r->source];
        if (!s->used || s->generation != r->source_generation || s->type != RVM_REGION_IMMUTABLE ||
            !is_resident_tier(s->tier.tier) || s->owner == r->owner || s->hpa != r->hpa ||
            s->npages != r->npages || (r->perms & ~(uint32_t)s->perms) != 0 || r->shares != 0 ||
            r->image_len != 0 || r->order != 0 || r->tier.tier != RVM_TIER_WARM) {
            return false;
        }
    } else {
        if (r->source != 0 || r->source_generation != 0) {
            return false;
        }
        if (r->type == RVM_REGION_DEVICE) {
            if (r->tier.tier != RVM_TIER_HOT || r->shares != 0 || r->image_len != 0 ||
                r->order != 0 || (r->hpa & (RVM_PAGE_SIZE - 1u)) != 0 ||
                !rvm_add_u64(r->hpa, bytes, &end) ||
                (rt->ram != NULL && ranges_overlap(r->hpa, bytes, rt->ram->base,
                                                   (uint64_t)rt->ram->npages << RVM_PAGE_SHIFT))) {
                return false;
            }
        } else if (is_resident_tier(r->tier.tier)) {
            uint32_t order;
            if (rt->ram == NULL || r->image_len != 0 ||
                r->order != rvm_buddy_order_for_pages(r->npages) ||
                rvm_buddy_allocation_order(rt->ram, rvm_hpa(r->hpa), &order) != RVM_OK ||
                order != r->order || !zero_bytes(r->checkpoint, sizeof(r->checkpoint))) {
                return false;
            }
            *ram_pages += (uint64_t)1 << r->order;
        } else if (r->hpa != 0 || r->mapped || r->shares != 0 ||
                   r->image_len <= RVM_COMPRESS_HEADER_BYTES) {
            return false;
        }
    }
    if (r->mapped) {
        if ((r->map_perms & ~(uint32_t)r->perms) != 0 || (r->map_perms & RVM_PERM_R) == 0 ||
            ((r->map_perms & RVM_PERM_W) != 0 && (r->map_perms & RVM_PERM_X) != 0) ||
            (r->ipa & (RVM_PAGE_SIZE - 1u)) != 0 || !rvm_add_u64(r->ipa, bytes, &end) ||
            !has_host_range(r)) {
            return false;
        }
    } else if (r->ipa != 0 || r->map_perms != 0) {
        return false;
    }
    return true;
}

/* The region whose pages a region covers: itself, or a share's source. */
static inline uint32_t root_of(const struct rvm_region *r, uint32_t i)
{
    return r->type == RVM_REGION_SHARED ? r->source : i;
}

enum rvm_err rvm_region_check(const struct rvm_region_table *rt)
{
    if (rt->slots == NULL || rt->capacity == 0 || rvm_tier_policy_check(&rt->policy) != RVM_OK) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t used = 0;
    uint64_t ram_pages = 0;
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        if (!r->used) {
            if (r->generation == 0 || !zero_bytes((const uint8_t *)r + sizeof(r->generation),
                                                  sizeof(*r) - sizeof(r->generation))) {
                return RVM_ERR_INTERNAL;
            }
            continue;
        }
        used++;
        if (!slot_ok(rt, i, &ram_pages)) {
            return RVM_ERR_INTERNAL;
        }
    }
    if (used != rt->count || (rt->ram != NULL && ram_pages > rvm_buddy_allocated_pages(rt->ram))) {
        return RVM_ERR_INTERNAL;
    }
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity^2 pairs */
        const struct rvm_region *a = &rt->slots[i];
        if (!a->used) {
            continue;
        }
        uint32_t shares = 0;
        for (uint32_t j = 0; j < rt->capacity; j++) {
            const struct rvm_region *b = &rt->slots[j];
            if (!b->used || j == i) {
                continue;
            }
            shares += b->type == RVM_REGION_SHARED && b->source == i;
            if (j < i) {
                continue; /* each unordered pair once below */
            }
            bool host = has_host_range(a) && has_host_range(b) &&
                        ranges_overlap(a->hpa, region_bytes(a), b->hpa, region_bytes(b));
            if (host && root_of(a, i) != root_of(b, j)) {
                return RVM_ERR_INTERNAL; /* host pages covered twice without a share */
            }
            if (host && a->mapped && b->mapped && a->owner != b->owner &&
                ((a->map_perms | b->map_perms) & RVM_PERM_W) != 0) {
                return RVM_ERR_INTERNAL; /* a writable page visible to two partitions */
            }
            if (a->mapped && b->mapped && a->owner == b->owner &&
                ranges_overlap(a->ipa, region_bytes(a), b->ipa, region_bytes(b))) {
                return RVM_ERR_INTERNAL; /* guest ranges of one partition overlap */
            }
        }
        if (shares != a->shares) {
            return RVM_ERR_INTERNAL;
        }
    }
    return RVM_OK;
}

void rvm_region_hash(const struct rvm_region_table *rt, struct rvm_sha256_ctx *ctx)
{
    static const uint8_t domain[8] = {'r', 'v', 'm', 'r', 'e', 'g', 'i', 'o'};
    uint8_t buf[112];
    rvm_sha256_update(ctx, domain, sizeof(domain));
    rvm_store_le32(buf, rt->capacity);
    rvm_store_le32(buf + 4, rt->count);
    rvm_store_le64(buf + 8, rt->epoch);
    rvm_store_le16(buf + 16, rt->policy.hot_to_warm);
    rvm_store_le16(buf + 18, rt->policy.warm_to_dormant);
    rvm_store_le16(buf + 20, rt->policy.dormant_to_cold);
    rvm_store_le16(buf + 22, rt->policy.warm_to_hot);
    rvm_store_le16(buf + 24, rt->policy.dormant_to_warm);
    rvm_store_le16(buf + 26, rt->policy.initial_recency);
    rvm_store_le16(buf + 28, rt->policy.access_boost);
    rvm_store_le16(buf + 30, rt->policy.decay_bp);
    rvm_sha256_update(ctx, buf, 32);
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: capacity */
        const struct rvm_region *r = &rt->slots[i];
        rvm_memset(buf, 0, sizeof(buf));
        rvm_store_le32(buf, r->generation);
        buf[4] = r->used;
        buf[5] = r->type;
        buf[6] = r->perms;
        buf[7] = r->mapped;
        buf[8] = r->map_perms;
        buf[9] = r->order;
        buf[10] = r->tier.tier;
        buf[11] = r->tier.accessed;
        buf[12] = r->tier.cut_pending;
        rvm_store_le16(buf + 14, r->tier.cut);
        rvm_store_le16(buf + 16, r->tier.pending_cut);
        rvm_store_le16(buf + 18, r->tier.recency);
        rvm_store_le32(buf + 20, r->owner);
        rvm_store_le32(buf + 24, r->npages);
        rvm_store_le64(buf + 28, r->hpa);
        rvm_store_le64(buf + 36, r->ipa);
        rvm_store_le32(buf + 44, r->source);
        rvm_store_le32(buf + 48, r->source_generation);
        rvm_store_le32(buf + 52, r->shares);
        rvm_store_le32(buf + 56, r->image_len);
        rvm_memcpy(buf + 60, r->checkpoint, sizeof(r->checkpoint));
        rvm_sha256_update(ctx, buf, 92);
    }
}
