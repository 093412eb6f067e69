/* SPDX-License-Identifier: MIT */
/*
 * The capability table and its derivation tree. Design, invariants and bounds: rvm/cap.h.
 */
#include "rvm/cap.h"

#include "rvm/bytes.h"

#define GRANT_BITS ((uint8_t)(RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE))

static bool gen_live(uint32_t generation)
{
    return (generation & 1u) != 0;
}

static struct rvm_handle handle_of(uint32_t index, const struct rvm_cap_slot *s)
{
    return rvm_cap_handle(index, s->generation);
}

const struct rvm_cap_slot *rvm_cap_get(const struct rvm_cap_table *t, struct rvm_handle h)
{
    if (h.index >= t->capacity) {
        return NULL;
    }
    const struct rvm_cap_slot *s = &t->slots[h.index];
    if (s->generation != h.generation || !gen_live(h.generation)) {
        return NULL;
    }
    return s;
}

enum rvm_err rvm_cap_resolve(const struct rvm_cap_table *t, struct rvm_handle h)
{
    if (h.index >= t->capacity) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    return rvm_cap_get(t, h) != NULL ? RVM_OK : RVM_ERR_CAP_STALE;
}

/* A link's slot index, or RVM_CAP_NONE when the link is empty or (corruption only) out of range:
 * traversals go through here so that even a damaged table is never read out of bounds. */
static uint32_t link_index(const struct rvm_cap_table *t, struct rvm_handle h)
{
    return h.index < t->capacity ? h.index : RVM_CAP_NONE;
}

static void slot_reset_links(struct rvm_cap_slot *s)
{
    s->parent = rvm_cap_no_handle();
    s->first_child = rvm_cap_no_handle();
    s->next_sibling = rvm_cap_no_handle();
    s->prev_sibling = rvm_cap_no_handle();
    s->next_free = RVM_CAP_NONE;
}

enum rvm_err rvm_cap_init(struct rvm_cap_table *t, const struct rvm_crypto *crypto,
                          const struct rvm_cap_config *cfg)
{
    if (t == NULL || crypto == NULL || cfg == NULL || cfg->slots == NULL || cfg->capacity == 0 ||
        cfg->capacity > RVM_CAP_CAPACITY_MAX || cfg->mac_key_len > RVM_CAP_MAC_KEY_MAX ||
        (cfg->mac_key == NULL && cfg->mac_key_len != 0)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(t, 0, sizeof(*t));
    t->slots = cfg->slots;
    t->capacity = cfg->capacity;
    t->crypto = crypto;
    t->epoch = cfg->initial_epoch;
    t->epoch_floor = cfg->initial_epoch;
    if (cfg->mac_key_len != 0) {
        rvm_memcpy(t->mac_key, cfg->mac_key, cfg->mac_key_len);
        rvm_hmac_key_init(&t->mac_schedule, crypto, cfg->mac_key, cfg->mac_key_len);
    }
    t->mac_key_len = cfg->mac_key_len;
    for (uint32_t i = 0; i < cfg->capacity; i++) { /* bound: capacity */
        struct rvm_cap_slot *s = &t->slots[i];
        rvm_memset(s, 0, sizeof(*s));
        slot_reset_links(s);
        s->next_free = i + 1 < cfg->capacity ? i + 1 : RVM_CAP_NONE;
    }
    t->free_head = 0;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Identity hash and link MAC
 * --------------------------------------------------------------------------------------------- */

void rvm_cap_identity_bytes(uint32_t index, const struct rvm_cap_slot *s,
                            uint8_t out[RVM_CAP_IDENTITY_BYTES])
{
    rvm_store_le32(out + 0, index);
    rvm_store_le32(out + 4, s->generation);
    out[8] = s->type;
    out[9] = s->depth;
    out[10] = 0;
    out[11] = 0;
    rvm_store_le32(out + 12, s->owner);
    rvm_store_le32(out + 16, s->epoch);
    rvm_store_le64(out + 20, rvm_handle_pack(s->object));
    rvm_store_le64(out + 28, s->badge);
    rvm_store_le64(out + 36, rvm_handle_pack(s->parent));
}

uint32_t rvm_cap_identity_hash(const struct rvm_crypto *crypto, uint32_t index,
                               const struct rvm_cap_slot *s)
{
    uint8_t msg[RVM_CAP_IDENTITY_BYTES];
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_cap_identity_bytes(index, s, msg);
    rvm_crypto_sha256(crypto, msg, sizeof(msg), digest);
    return rvm_load_le32(digest);
}

void rvm_cap_link_mac(const struct rvm_cap_table *t, uint32_t index, const struct rvm_cap_slot *s,
                      uint32_t parent_cap_hash, uint8_t out[RVM_CAP_MAC_BYTES])
{
    if (t->mac_key_len == 0) {
        rvm_memset(out, 0, RVM_CAP_MAC_BYTES);
        return;
    }
    uint8_t msg[RVM_CAP_MAC_MSG_BYTES];
    uint8_t tag[RVM_SHA256_DIGEST_BYTES];
    rvm_cap_identity_bytes(index, s, msg);
    msg[44] = s->rights;
    msg[45] = s->flags;
    msg[46] = 0;
    msg[47] = 0;
    rvm_store_le32(msg + 48, s->root_epoch);
    rvm_store_le32(msg + 52, s->cap_hash);
    rvm_store_le32(msg + 56, parent_cap_hash);
    rvm_hmac_mac(&t->mac_schedule, t->crypto, msg, sizeof(msg), tag);
    rvm_memcpy(out, tag, RVM_CAP_MAC_BYTES);
}

/* ------------------------------------------------------------------------------------------------
 * Shared pieces of the operations
 * --------------------------------------------------------------------------------------------- */

static void rej_init(struct rvm_witness_rejection *rej, rvm_partition_id actor, uint64_t target,
                     uint8_t kind)
{
    rej->actor = actor;
    rej->target = target;
    rej->attempted_kind = kind;
    rej->stage = 0;
    rej->passed_tier = RVM_PROOF_NONE;
    rej->cap_hash = 0;
    rej->err = RVM_OK;
}

static enum rvm_err refuse(struct rvm_witness_rejection *rej, enum rvm_reject_stage stage,
                           enum rvm_proof_tier passed, enum rvm_err err)
{
    rej->stage = (uint8_t)stage;
    rej->passed_tier = (uint8_t)passed;
    rej->err = err;
    return err;
}

static void entry_init(struct rvm_witness_entry *e, uint8_t kind, uint8_t tier,
                       rvm_partition_id actor)
{
    rvm_memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->proof_tier = tier;
    e->actor = actor;
}

static void plan_init(struct rvm_cap_plan *p, enum rvm_cap_op op)
{
    rvm_memset(p, 0, sizeof(*p));
    p->op = (uint8_t)op;
    p->index = RVM_CAP_NONE;
    p->source = RVM_CAP_NONE;
}

/* Take the head of the free list (the slot the plan filled in). */
static void take_free_head(struct rvm_cap_table *t, uint32_t index)
{
    t->free_head = t->slots[index].next_free;
}

/* Release one slot: bump the generation to even, clear it, push it on the free list unless its
 * generations are exhausted. Links from other slots must already be gone. */
static void release(struct rvm_cap_table *t, uint32_t index)
{
    struct rvm_cap_slot *s = &t->slots[index];
    uint32_t generation = s->generation + 1;
    rvm_memset(s, 0, sizeof(*s));
    slot_reset_links(s);
    s->generation = generation;
    if (generation != RVM_CAP_GEN_RETIRED) {
        s->next_free = t->free_head;
        t->free_head = index;
    }
    t->live--;
}

/* Remove a non-root slot from its parent's list of children. */
static void unlink_from_parent(struct rvm_cap_table *t, uint32_t index)
{
    struct rvm_cap_slot *s = &t->slots[index];
    uint32_t parent = link_index(t, s->parent);
    if (s->depth == 0 || parent == RVM_CAP_NONE) {
        return;
    }
    uint32_t prev = link_index(t, s->prev_sibling);
    uint32_t next = link_index(t, s->next_sibling);
    if (prev != RVM_CAP_NONE) {
        t->slots[prev].next_sibling = s->next_sibling;
    } else {
        t->slots[parent].first_child = s->next_sibling;
    }
    if (next != RVM_CAP_NONE) {
        t->slots[next].prev_sibling = s->prev_sibling;
    }
    s->next_sibling = rvm_cap_no_handle();
    s->prev_sibling = rvm_cap_no_handle();
}

/* Number of capabilities in the subtree rooted at `root` (pre-order walk over the explicit links,
 * no stack). */
static uint32_t subtree_count(const struct rvm_cap_table *t, uint32_t root)
{
    uint32_t count = 0;
    uint32_t cur = root;
    for (uint32_t budget = t->capacity; budget != 0; budget--) { /* bound: capacity (each
                                                                    iteration visits a new slot) */
        count++;
        uint32_t child = link_index(t, t->slots[cur].first_child);
        if (child != RVM_CAP_NONE) {
            cur = child;
            continue;
        }
        /* Climb until a node with a next sibling, or back to the root. */
        for (uint32_t k = 0; k <= RVM_CAP_MAX_DEPTH; k++) { /* bound: depth */
            if (cur == root || link_index(t, t->slots[cur].next_sibling) != RVM_CAP_NONE) {
                break;
            }
            uint32_t up = link_index(t, t->slots[cur].parent);
            if (up == RVM_CAP_NONE) {
                return count; /* corruption; rvm_cap_check reports it */
            }
            cur = up;
        }
        if (cur == root) {
            break;
        }
        uint32_t next = link_index(t, t->slots[cur].next_sibling);
        if (next == RVM_CAP_NONE) {
            break; /* climbing budget exhausted: corruption */
        }
        cur = next;
    }
    return count;
}

/* The live parent of a live slot, or NULL for a root (or a broken link). */
static const struct rvm_cap_slot *parent_of(const struct rvm_cap_table *t,
                                            const struct rvm_cap_slot *s)
{
    if (s->depth == 0) {
        return NULL;
    }
    return rvm_cap_get(t, s->parent);
}

static uint32_t parent_hash(const struct rvm_cap_table *t, const struct rvm_cap_slot *s)
{
    const struct rvm_cap_slot *p = parent_of(t, s);
    return p != NULL ? p->cap_hash : 0;
}

/* ------------------------------------------------------------------------------------------------
 * Mint
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_cap_prepare_mint(const struct rvm_cap_table *t, rvm_partition_id actor,
                                  const struct rvm_cap_mint_args *a,
                                  struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                  struct rvm_witness_rejection *rej)
{
    rej_init(rej, actor, rvm_handle_pack(a->object), RVM_ACT_CAP_MINT);
    if ((a->rights & ~RVM_CAP_RIGHTS_ALL) != 0 || a->owner == RVM_PARTITION_INVALID) {
        return refuse(rej, RVM_STAGE_DECODE, RVM_PROOF_NONE, RVM_ERR_INVALID_ARGUMENT);
    }
    if (a->type >= RVM_CAP_TYPE_COUNT) {
        return refuse(rej, RVM_STAGE_DECODE, RVM_PROOF_NONE, RVM_ERR_CAP_TYPE);
    }
    if (actor != RVM_PARTITION_HYPERVISOR) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_PERMISSION);
    }
    if (t->free_head == RVM_CAP_NONE) {
        return refuse(rej, RVM_STAGE_PRECONDITION, RVM_PROOF_NONE, RVM_ERR_CAP_TABLE_FULL);
    }
    plan_init(plan, RVM_CAP_OP_MINT);
    uint32_t index = t->free_head;
    struct rvm_cap_slot *s = &plan->slot;
    slot_reset_links(s);
    s->generation = t->slots[index].generation + 1;
    s->type = a->type;
    s->rights = a->rights;
    s->p1_check = rvm_cap_p1_check_word(s->type, s->rights);
    s->object = a->object;
    s->owner = a->owner;
    s->epoch = t->epoch;
    s->root_epoch = t->epoch;
    s->badge = a->badge;
    s->cap_hash = rvm_cap_identity_hash(t->crypto, index, s);
    rvm_cap_link_mac(t, index, s, 0, s->mac);
    plan->index = index;

    entry_init(entry, RVM_ACT_CAP_MINT, RVM_PROOF_NONE, actor);
    entry->flags = a->rights;
    entry->target = rvm_handle_pack(handle_of(index, s));
    entry->cap_hash = s->cap_hash;
    entry->payload = rvm_handle_pack(a->object);
    entry->aux = (uint64_t)a->owner | (uint64_t)a->type << 32;
    return RVM_OK;
}

void rvm_cap_commit_mint(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    take_free_head(t, plan->index);
    t->slots[plan->index] = plan->slot;
    t->live++;
}

/* ------------------------------------------------------------------------------------------------
 * Grant and delegate
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err prepare_derive(const struct rvm_cap_table *t, rvm_partition_id actor,
                                   const struct rvm_cap_derive_args *a, uint8_t kind,
                                   struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                   struct rvm_witness_rejection *rej)
{
    rej_init(rej, actor, rvm_handle_pack(a->source), kind);
    bool owner_ok = kind == RVM_ACT_CAP_GRANT
                        ? a->new_owner != actor && a->new_owner != RVM_PARTITION_INVALID
                        : a->new_owner == actor;
    if ((a->rights & ~RVM_CAP_RIGHTS_ALL) != 0 || !owner_ok) {
        return refuse(rej, RVM_STAGE_DECODE, RVM_PROOF_NONE, RVM_ERR_INVALID_ARGUMENT);
    }
    enum rvm_err err = rvm_cap_resolve(t, a->source);
    if (err != RVM_OK) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, err);
    }
    const uint32_t sidx = a->source.index;
    const struct rvm_cap_slot *src = &t->slots[sidx];
    rej->cap_hash = src->cap_hash;
    if (src->owner != actor) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_HOLDER);
    }
    const bool has_grant = (src->rights & RVM_CAP_GRANT) != 0;
    if (!has_grant && (src->rights & RVM_CAP_GRANT_ONCE) == 0) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE,
                      (src->flags & RVM_CAP_FLAG_CONSUMED) != 0 ? RVM_ERR_CAP_CONSUMED
                                                                : RVM_ERR_CAP_RIGHTS);
    }
    if ((a->rights & ~src->rights) != 0) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_ESCALATION);
    }
    if (src->depth >= RVM_CAP_MAX_DEPTH) {
        return refuse(rej, RVM_STAGE_PRECONDITION, RVM_PROOF_P1, RVM_ERR_CAP_DEPTH);
    }
    if (t->free_head == RVM_CAP_NONE) {
        return refuse(rej, RVM_STAGE_PRECONDITION, RVM_PROOF_P1, RVM_ERR_CAP_TABLE_FULL);
    }

    const bool via_once = !has_grant;
    plan_init(plan, RVM_CAP_OP_DERIVE);
    const uint32_t index = t->free_head;
    struct rvm_cap_slot *c = &plan->slot;
    slot_reset_links(c);
    c->generation = t->slots[index].generation + 1;
    c->type = src->type;
    c->rights = via_once ? (uint8_t)(a->rights & ~GRANT_BITS) : a->rights;
    c->p1_check = rvm_cap_p1_check_word(c->type, c->rights);
    c->depth = (uint8_t)(src->depth + 1);
    c->object = src->object;
    c->owner = a->new_owner;
    c->epoch = t->epoch;
    c->root_epoch = src->root_epoch;
    c->badge = a->badge;
    c->parent = a->source;
    c->next_sibling = src->first_child;
    c->cap_hash = rvm_cap_identity_hash(t->crypto, index, c);
    rvm_cap_link_mac(t, index, c, src->cap_hash, c->mac);
    plan->index = index;

    plan->source = sidx;
    plan->source_rights = src->rights;
    plan->source_flags = src->flags;
    rvm_memcpy(plan->source_mac, src->mac, RVM_CAP_MAC_BYTES);
    if (via_once) {
        struct rvm_cap_slot after = *src;
        after.rights = (uint8_t)(src->rights & ~RVM_CAP_GRANT_ONCE);
        after.flags = (uint8_t)(src->flags | RVM_CAP_FLAG_CONSUMED);
        rvm_cap_link_mac(t, sidx, &after, parent_hash(t, src), plan->source_mac);
        plan->source_rights = after.rights;
        plan->source_flags = after.flags;
    }

    entry_init(entry, kind, RVM_PROOF_P1, actor);
    entry->flags = (uint8_t)(c->rights | (via_once ? RVM_CAP_WFLAG_GRANT_ONCE_USED : 0u));
    entry->target = rvm_handle_pack(handle_of(index, c));
    entry->cap_hash = src->cap_hash;
    entry->payload = rvm_handle_pack(a->source);
    entry->aux = (uint64_t)a->new_owner | (uint64_t)c->cap_hash << 32;
    return RVM_OK;
}

static void and_subtree(struct rvm_cap_table *t, uint32_t root, uint8_t mask);

static void commit_derive(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    const uint32_t index = plan->index;
    const struct rvm_handle child = rvm_cap_plan_handle(plan);
    take_free_head(t, index);
    t->slots[index] = plan->slot;
    struct rvm_cap_slot *src = &t->slots[plan->source];
    uint32_t old_first = link_index(t, src->first_child);
    if (old_first != RVM_CAP_NONE) {
        t->slots[old_first].prev_sibling = child;
    }
    src->first_child = child;
    const bool consumed = src->rights != plan->source_rights;
    src->rights = plan->source_rights;
    src->p1_check = rvm_cap_p1_check_word(src->type, src->rights);
    src->flags = plan->source_flags;
    rvm_memcpy(src->mac, plan->source_mac, RVM_CAP_MAC_BYTES);
    t->live++;
    if (consumed) {
        /* The source gave up GRANT_ONCE: so does everything derived from it earlier (children it
         * granted while it still held GRANT), or they would hold a right their parent lacks. */
        and_subtree(t, plan->source, plan->source_rights);
    }
}

enum rvm_err rvm_cap_prepare_grant(const struct rvm_cap_table *t, rvm_partition_id actor,
                                   const struct rvm_cap_derive_args *a,
                                   struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                   struct rvm_witness_rejection *rej)
{
    return prepare_derive(t, actor, a, RVM_ACT_CAP_GRANT, entry, plan, rej);
}

void rvm_cap_commit_grant(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    commit_derive(t, plan);
}

enum rvm_err rvm_cap_prepare_delegate(const struct rvm_cap_table *t, rvm_partition_id actor,
                                      const struct rvm_cap_derive_args *a,
                                      struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                      struct rvm_witness_rejection *rej)
{
    return prepare_derive(t, actor, a, RVM_ACT_CAP_DELEGATE, entry, plan, rej);
}

void rvm_cap_commit_delegate(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    commit_derive(t, plan);
}

/* ------------------------------------------------------------------------------------------------
 * Revoke
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_cap_prepare_revoke(const struct rvm_cap_table *t, rvm_partition_id actor,
                                    const struct rvm_cap_revoke_args *a,
                                    struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                    struct rvm_witness_rejection *rej)
{
    rej_init(rej, actor, rvm_handle_pack(a->target), RVM_ACT_CAP_REVOKE);
    enum rvm_err err = rvm_cap_resolve(t, a->target);
    if (err != RVM_OK) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, err);
    }
    const struct rvm_cap_slot *target = &t->slots[a->target.index];
    uint8_t tier = RVM_PROOF_NONE;
    uint32_t auth_hash = 0;
    uint64_t auth_packed = 0;
    if (actor != RVM_PARTITION_HYPERVISOR) {
        err = rvm_cap_resolve(t, a->authority);
        if (err != RVM_OK) {
            return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, err);
        }
        const struct rvm_cap_slot *auth = &t->slots[a->authority.index];
        rej->cap_hash = auth->cap_hash;
        if (auth->owner != actor) {
            return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_HOLDER);
        }
        if ((auth->rights & RVM_CAP_REVOKE) == 0) {
            return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_RIGHTS);
        }
        /* The authority must be the target or one of its ancestors: walk up from the target. */
        bool found = rvm_cap_handle_eq(a->target, a->authority);
        const struct rvm_cap_slot *cur = target;
        for (uint32_t k = 0; k < RVM_CAP_MAX_DEPTH && !found; k++) { /* bound: depth */
            const struct rvm_cap_slot *up = parent_of(t, cur);
            if (up == NULL) {
                break;
            }
            found = rvm_cap_handle_eq(cur->parent, a->authority);
            cur = up;
        }
        if (!found) {
            return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_PERMISSION);
        }
        tier = RVM_PROOF_P1;
        auth_hash = auth->cap_hash;
        auth_packed = rvm_handle_pack(a->authority);
    }
    plan_init(plan, RVM_CAP_OP_REVOKE);
    plan->index = a->target.index;
    plan->count = subtree_count(t, a->target.index);

    entry_init(entry, RVM_ACT_CAP_REVOKE, tier, actor);
    entry->target = rvm_handle_pack(a->target);
    entry->cap_hash = auth_hash;
    entry->payload = auth_packed;
    entry->aux = plan->count;
    return RVM_OK;
}

void rvm_cap_commit_revoke(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    const uint32_t root = plan->index;
    unlink_from_parent(t, root);
    /*
     * Post-order release without a stack: descend along first children to a leaf, release it
     * (it is always its parent's first child, so the parent's list just advances), then continue
     * with its next sibling or, if none, with its parent, which has become a leaf.
     */
    uint32_t cur = root;
    for (uint32_t budget = t->capacity; budget != 0; budget--) { /* bound: capacity (one slot
                                                                    released per iteration) */
        for (uint32_t k = 0; k <= RVM_CAP_MAX_DEPTH; k++) {      /* bound: depth */
            uint32_t child = link_index(t, t->slots[cur].first_child);
            if (child == RVM_CAP_NONE) {
                break;
            }
            cur = child;
        }
        if (cur == root) {
            release(t, root);
            return;
        }
        struct rvm_cap_slot *s = &t->slots[cur];
        uint32_t parent = link_index(t, s->parent);
        uint32_t next = link_index(t, s->next_sibling);
        if (parent == RVM_CAP_NONE) {
            return; /* corruption; rvm_cap_check reports it */
        }
        t->slots[parent].first_child = s->next_sibling;
        if (next != RVM_CAP_NONE) {
            t->slots[next].prev_sibling = rvm_cap_no_handle();
        }
        release(t, cur);
        cur = next != RVM_CAP_NONE ? next : parent;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Epochs
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_cap_prepare_epoch_advance(const struct rvm_cap_table *t,
                                           struct rvm_witness_entry *entry,
                                           struct rvm_cap_plan *plan,
                                           struct rvm_witness_rejection *rej)
{
    rej_init(rej, RVM_PARTITION_HYPERVISOR, 0, RVM_ACT_CAP_EPOCH_ADVANCE);
    if (t->epoch == UINT32_MAX) {
        return refuse(rej, RVM_STAGE_PRECONDITION, RVM_PROOF_NONE, RVM_ERR_OVERFLOW);
    }
    plan_init(plan, RVM_CAP_OP_EPOCH_ADVANCE);
    plan->epoch = t->epoch + 1;
    entry_init(entry, RVM_ACT_CAP_EPOCH_ADVANCE, RVM_PROOF_NONE, RVM_PARTITION_HYPERVISOR);
    entry->payload = plan->epoch;
    entry->aux = t->epoch;
    return RVM_OK;
}

void rvm_cap_commit_epoch_advance(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    t->epoch = plan->epoch;
}

enum rvm_err rvm_cap_prepare_epoch_revoke(const struct rvm_cap_table *t, uint32_t epoch,
                                          struct rvm_witness_entry *entry,
                                          struct rvm_cap_plan *plan,
                                          struct rvm_witness_rejection *rej)
{
    rej_init(rej, RVM_PARTITION_HYPERVISOR, 0, RVM_ACT_CAP_EPOCH_REVOKE);
    if (epoch < t->epoch_floor || epoch > t->epoch) {
        return refuse(rej, RVM_STAGE_DECODE, RVM_PROOF_NONE, RVM_ERR_OUT_OF_RANGE);
    }
    if (epoch == UINT32_MAX) {
        return refuse(rej, RVM_STAGE_PRECONDITION, RVM_PROOF_NONE, RVM_ERR_OVERFLOW);
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < t->capacity; i++) { /* bound: capacity */
        const struct rvm_cap_slot *s = &t->slots[i];
        count += gen_live(s->generation) && s->root_epoch <= epoch;
    }
    plan_init(plan, RVM_CAP_OP_EPOCH_REVOKE);
    plan->epoch = epoch;
    plan->count = count;
    entry_init(entry, RVM_ACT_CAP_EPOCH_REVOKE, RVM_PROOF_NONE, RVM_PARTITION_HYPERVISOR);
    entry->payload = epoch;
    entry->aux = count;
    return RVM_OK;
}

void rvm_cap_commit_epoch_revoke(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    /* Whole trees share root_epoch, so the released set has no links to survivors. */
    for (uint32_t i = 0; i < t->capacity; i++) { /* bound: capacity */
        const struct rvm_cap_slot *s = &t->slots[i];
        if (gen_live(s->generation) && s->root_epoch <= plan->epoch) {
            release(t, i);
        }
    }
    t->epoch_floor = plan->epoch + 1;
    if (t->epoch < t->epoch_floor) {
        t->epoch = t->epoch_floor;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Attenuate and rehome
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_cap_prepare_attenuate(const struct rvm_cap_table *t, rvm_partition_id actor,
                                       const struct rvm_cap_attenuate_args *a,
                                       struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                       struct rvm_witness_rejection *rej)
{
    rej_init(rej, actor, rvm_handle_pack(a->cap), RVM_ACT_CAP_ATTENUATE);
    if ((a->rights & ~RVM_CAP_RIGHTS_ALL) != 0) {
        return refuse(rej, RVM_STAGE_DECODE, RVM_PROOF_NONE, RVM_ERR_INVALID_ARGUMENT);
    }
    enum rvm_err err = rvm_cap_resolve(t, a->cap);
    if (err != RVM_OK) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, err);
    }
    const struct rvm_cap_slot *s = &t->slots[a->cap.index];
    rej->cap_hash = s->cap_hash;
    if (actor != RVM_PARTITION_HYPERVISOR && s->owner != actor) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_HOLDER);
    }
    if ((a->rights & ~s->rights) != 0) {
        return refuse(rej, RVM_STAGE_P1, RVM_PROOF_NONE, RVM_ERR_CAP_ESCALATION);
    }
    plan_init(plan, RVM_CAP_OP_ATTENUATE);
    plan->index = a->cap.index;
    plan->source_rights = a->rights;
    plan->count = subtree_count(t, a->cap.index);
    entry_init(entry, RVM_ACT_CAP_ATTENUATE,
               actor == RVM_PARTITION_HYPERVISOR ? RVM_PROOF_NONE : RVM_PROOF_P1, actor);
    entry->flags = a->rights;
    entry->target = rvm_handle_pack(a->cap);
    entry->cap_hash = s->cap_hash;
    entry->payload = s->rights;
    entry->aux = plan->count;
    return RVM_OK;
}

/* Every capability of the subtree at `root` (the root included) keeps only the rights in `mask`,
 * its MAC recomputed. */
static void and_subtree(struct rvm_cap_table *t, uint32_t root, uint8_t mask)
{
    /* Pre-order walk as in subtree_count; a MAC covers the parent's cap_hash, which attenuation
     * leaves alone, so the order of the updates does not matter. */
    uint32_t cur = root;
    for (uint32_t budget = t->capacity; budget != 0; budget--) { /* bound: capacity (each
                                                                    iteration visits a new slot) */
        struct rvm_cap_slot *s = &t->slots[cur];
        s->rights &= mask;
        s->p1_check = rvm_cap_p1_check_word(s->type, s->rights);
        rvm_cap_link_mac(t, cur, s, parent_hash(t, s), s->mac);
        uint32_t child = link_index(t, s->first_child);
        if (child != RVM_CAP_NONE) {
            cur = child;
            continue;
        }
        for (uint32_t k = 0; k <= RVM_CAP_MAX_DEPTH; k++) { /* bound: depth */
            if (cur == root || link_index(t, t->slots[cur].next_sibling) != RVM_CAP_NONE) {
                break;
            }
            uint32_t up = link_index(t, t->slots[cur].parent);
            if (up == RVM_CAP_NONE) {
                return; /* corruption; rvm_cap_check reports it */
            }
            cur = up;
        }
        if (cur == root) {
            return;
        }
        uint32_t next = link_index(t, t->slots[cur].next_sibling);
        if (next == RVM_CAP_NONE) {
            return; /* climbing budget exhausted: corruption */
        }
        cur = next;
    }
}

void rvm_cap_commit_attenuate(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    and_subtree(t, plan->index, plan->source_rights);
}

enum rvm_err rvm_cap_prepare_rehome(const struct rvm_cap_table *t, struct rvm_handle cap,
                                    rvm_partition_id new_owner, struct rvm_cap_plan *plan)
{
    if (new_owner == RVM_PARTITION_INVALID) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = rvm_cap_resolve(t, cap);
    if (err != RVM_OK) {
        return err;
    }
    plan_init(plan, RVM_CAP_OP_REHOME);
    plan->index = cap.index;
    plan->slot = t->slots[cap.index];
    plan->slot.owner = new_owner;
    plan->slot.cap_hash = rvm_cap_identity_hash(t->crypto, cap.index, &plan->slot);
    rvm_cap_link_mac(t, cap.index, &plan->slot, parent_hash(t, &plan->slot), plan->slot.mac);
    return RVM_OK;
}

void rvm_cap_commit_rehome(struct rvm_cap_table *t, const struct rvm_cap_plan *plan)
{
    struct rvm_cap_slot *s = &t->slots[plan->index];
    s->owner = plan->slot.owner;
    s->cap_hash = plan->slot.cap_hash;
    rvm_memcpy(s->mac, plan->slot.mac, RVM_CAP_MAC_BYTES);
    uint32_t child = link_index(t, s->first_child);
    for (uint32_t budget = t->capacity; budget != 0 && child != RVM_CAP_NONE; budget--) {
        /* bound: capacity (distinct children) */
        struct rvm_cap_slot *c = &t->slots[child];
        rvm_cap_link_mac(t, child, c, s->cap_hash, c->mac);
        child = link_index(t, c->next_sibling);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Wrappers: prepare -> witness -> commit, refusals witnessed
 * --------------------------------------------------------------------------------------------- */

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

static bool is_none(struct rvm_handle h)
{
    return h.index == RVM_CAP_NONE && h.generation == 0;
}

static bool check_live_slot(const struct rvm_cap_table *t, uint32_t i, const struct rvm_cap_slot *s)
{
    const struct rvm_handle self = handle_of(i, s);
    if (s->type >= RVM_CAP_TYPE_COUNT || (s->rights & ~RVM_CAP_RIGHTS_ALL) != 0 ||
        s->depth > RVM_CAP_MAX_DEPTH || (s->flags & ~RVM_CAP_FLAG_CONSUMED) != 0 ||
        s->next_free != RVM_CAP_NONE || s->p1_check != rvm_cap_p1_check_word(s->type, s->rights)) {
        return false;
    }
    if ((s->flags & RVM_CAP_FLAG_CONSUMED) != 0 && (s->rights & RVM_CAP_GRANT_ONCE) != 0) {
        return false;
    }
    if (s->root_epoch < t->epoch_floor || s->epoch > t->epoch || s->root_epoch > s->epoch) {
        return false;
    }
    if (!is_none(s->first_child)) {
        const struct rvm_cap_slot *c = rvm_cap_get(t, s->first_child);
        if (c == NULL || !rvm_cap_handle_eq(c->parent, self) || !is_none(c->prev_sibling)) {
            return false;
        }
    }
    if (s->depth == 0) {
        return is_none(s->parent) && s->root_epoch == s->epoch && is_none(s->next_sibling) &&
               is_none(s->prev_sibling);
    }
    const struct rvm_cap_slot *p = rvm_cap_get(t, s->parent);
    if (p == NULL || p->depth + 1 != s->depth || (s->rights & ~p->rights) != 0 ||
        p->epoch > s->epoch || p->root_epoch != s->root_epoch || p->type != s->type ||
        !rvm_cap_handle_eq(p->object, s->object)) {
        return false;
    }
    if (is_none(s->prev_sibling)) {
        if (!rvm_cap_handle_eq(p->first_child, self)) {
            return false;
        }
    } else {
        const struct rvm_cap_slot *prev = rvm_cap_get(t, s->prev_sibling);
        if (prev == NULL || !rvm_cap_handle_eq(prev->next_sibling, self) ||
            !rvm_cap_handle_eq(prev->parent, s->parent)) {
            return false;
        }
    }
    if (!is_none(s->next_sibling)) {
        const struct rvm_cap_slot *next = rvm_cap_get(t, s->next_sibling);
        if (next == NULL || !rvm_cap_handle_eq(next->prev_sibling, self) ||
            !rvm_cap_handle_eq(next->parent, s->parent)) {
            return false;
        }
    }
    return true;
}

enum rvm_err rvm_cap_check(const struct rvm_cap_table *t)
{
    if (t->slots == NULL || t->capacity == 0 || t->capacity > RVM_CAP_CAPACITY_MAX ||
        t->epoch_floor > t->epoch || t->mac_key_len > RVM_CAP_MAC_KEY_MAX) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t live = 0;
    uint32_t nfree = 0;
    for (uint32_t i = 0; i < t->capacity; i++) { /* bound: capacity */
        const struct rvm_cap_slot *s = &t->slots[i];
        if (gen_live(s->generation)) {
            live++;
            if (!check_live_slot(t, i, s)) {
                return RVM_ERR_INTERNAL;
            }
            continue;
        }
        if (!is_none(s->parent) || !is_none(s->first_child) || !is_none(s->next_sibling) ||
            !is_none(s->prev_sibling) || s->p1_check != 0) {
            return RVM_ERR_INTERNAL;
        }
        nfree += s->generation != RVM_CAP_GEN_RETIRED;
    }
    if (live != t->live) {
        return RVM_ERR_INTERNAL;
    }
    /* The free list holds exactly the free, non-retired slots: `nfree` steps must visit only such
     * slots and end the list (a repeated slot would be a cycle that never ends). */
    uint32_t cur = t->free_head;
    for (uint32_t k = 0; k < nfree; k++) { /* bound: capacity */
        if (cur >= t->capacity) {
            return RVM_ERR_INTERNAL;
        }
        const struct rvm_cap_slot *s = &t->slots[cur];
        if (gen_live(s->generation) || s->generation == RVM_CAP_GEN_RETIRED) {
            return RVM_ERR_INTERNAL;
        }
        cur = s->next_free;
    }
    return cur == RVM_CAP_NONE ? RVM_OK : RVM_ERR_INTERNAL;
}

#define SLOT_ENCODING_BYTES 92u

void rvm_cap_hash(const struct rvm_cap_table *t, struct rvm_sha256_ctx *h)
{
    uint8_t hdr[24];
    rvm_store_le32(hdr + 0, t->capacity);
    rvm_store_le32(hdr + 4, t->live);
    rvm_store_le32(hdr + 8, t->free_head);
    rvm_store_le32(hdr + 12, t->epoch);
    rvm_store_le32(hdr + 16, t->epoch_floor);
    rvm_store_le32(hdr + 20, t->mac_key_len);
    rvm_sha256_update(h, hdr, sizeof(hdr));
    for (uint32_t i = 0; i < t->capacity; i++) { /* bound: capacity */
        const struct rvm_cap_slot *s = &t->slots[i];
        uint8_t b[SLOT_ENCODING_BYTES];
        rvm_store_le32(b + 0, s->generation);
        b[4] = s->type;
        b[5] = s->rights;
        b[6] = s->depth;
        b[7] = s->flags;
        rvm_store_le64(b + 8, rvm_handle_pack(s->object));
        rvm_store_le32(b + 16, s->owner);
        rvm_store_le32(b + 20, s->cap_hash);
        rvm_store_le32(b + 24, s->epoch);
        rvm_store_le32(b + 28, s->root_epoch);
        rvm_store_le64(b + 32, s->badge);
        rvm_store_le64(b + 40, rvm_handle_pack(s->parent));
        rvm_store_le64(b + 48, rvm_handle_pack(s->first_child));
        rvm_store_le64(b + 56, rvm_handle_pack(s->next_sibling));
        rvm_store_le64(b + 64, rvm_handle_pack(s->prev_sibling));
        rvm_store_le32(b + 72, s->next_free);
        rvm_memcpy(b + 76, s->mac, RVM_CAP_MAC_BYTES);
        rvm_sha256_update(h, b, sizeof(b));
    }
}
