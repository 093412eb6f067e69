/* SPDX-License-Identifier: MIT */
/*
 * P1, P2 with the nonce store, P3 plain and signed. Semantics: rvm/proof.h.
 */
#include "rvm/proof.h"

#include "rvm/bytes.h"

/* ------------------------------------------------------------------------------------------------
 * P1
 * --------------------------------------------------------------------------------------------- */

bool rvm_proof_p1_pass(const struct rvm_cap_table *t, rvm_partition_id actor, struct rvm_handle cap,
                       uint8_t type, uint8_t rights, struct rvm_handle object)
{
    return rvm_proof_p1_pass_inline(t, actor, cap, type, rights, object);
}

enum rvm_err rvm_proof_p1_reason(const struct rvm_cap_table *t, rvm_partition_id actor,
                                 struct rvm_handle cap, uint8_t type, uint8_t rights,
                                 struct rvm_handle object)
{
    const enum rvm_err err = rvm_cap_resolve(t, cap);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_cap_slot *s = &t->slots[cap.index];
    if (s->owner != actor) {
        return RVM_ERR_CAP_HOLDER;
    }
    if (s->type != type) {
        return RVM_ERR_CAP_TYPE;
    }
    if (!rvm_cap_handle_eq(s->object, object)) {
        return RVM_ERR_CAP_OBJECT;
    }
    if ((rights & ~s->rights) != 0) {
        return RVM_ERR_CAP_RIGHTS;
    }
    return RVM_OK;
}

enum rvm_err rvm_proof_p1(const struct rvm_cap_table *t, rvm_partition_id actor,
                          struct rvm_handle cap, uint8_t type, uint8_t rights,
                          struct rvm_handle object)
{
    if (rvm_proof_p1_pass_inline(t, actor, cap, type, rights, object)) {
        return RVM_OK;
    }
    return rvm_proof_p1_reason(t, actor, cap, type, rights, object);
}

/* ------------------------------------------------------------------------------------------------
 * Nonce store
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_proof_nonces_init(struct rvm_proof_nonces *n,
                                   struct rvm_proof_nonce_domain *storage, uint32_t count)
{
    if (n == NULL || storage == NULL || count == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    n->domains = storage;
    n->count = count;
    for (uint32_t i = 0; i < count; i++) { /* bound: count */
        rvm_memset(&storage[i], 0, sizeof(storage[i]));
    }
    return RVM_OK;
}

/* rvm_cap_get, inlined here because P2 and P3 sit on the gate's hot path. */
static inline const struct rvm_cap_slot *live_slot(const struct rvm_cap_table *t,
                                                   struct rvm_handle h)
{
    if (h.index >= t->capacity) {
        return NULL;
    }
    const struct rvm_cap_slot *s = &t->slots[h.index];
    return s->generation == h.generation && (h.generation & 1u) != 0 ? s : NULL;
}

static bool nonce_bit(const struct rvm_proof_nonce_domain *d, uint64_t nonce)
{
    const uint32_t pos = (uint32_t)(nonce % RVM_PROOF_NONCE_WINDOW);
    return ((d->seen[pos / 64u] >> (pos % 64u)) & 1u) != 0;
}

static inline enum rvm_err nonce_fresh(const struct rvm_proof_nonces *n, uint32_t domain,
                                       uint64_t nonce)
{
    if (domain >= n->count) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (nonce == 0) {
        return RVM_ERR_PROOF_NONCE;
    }
    const struct rvm_proof_nonce_domain *d = &n->domains[domain];
    if (nonce > d->highest) {
        return RVM_OK; /* everything recorded is <= highest */
    }
    if (d->highest - nonce >= RVM_PROOF_NONCE_WINDOW) {
        return RVM_ERR_PROOF_NONCE_STALE;
    }
    return nonce_bit(d, nonce) ? RVM_ERR_PROOF_NONCE : RVM_OK;
}

enum rvm_err rvm_proof_nonce_fresh(const struct rvm_proof_nonces *n, uint32_t domain,
                                   uint64_t nonce)
{
    return nonce_fresh(n, domain, nonce);
}

/* Clear `count` (< W) consecutive bit positions starting at the position of value `first`. */
static void clear_positions(struct rvm_proof_nonce_domain *d, uint64_t first, uint64_t count)
{
    uint32_t pos = (uint32_t)(first % RVM_PROOF_NONCE_WINDOW);
    uint64_t remaining = count;
    for (uint32_t k = 0; k < RVM_PROOF_NONCE_WORDS + 2u && remaining != 0; k++) { /* bound: words
                                                                                     + 2 */
        const uint32_t off = pos % 64u;
        const uint32_t room = 64u - off;
        const uint32_t take = remaining < room ? (uint32_t)remaining : room;
        const uint64_t bits = take == 64u ? ~(uint64_t)0 : (((uint64_t)1 << take) - 1u) << off;
        d->seen[pos / 64u] &= ~bits;
        pos = (pos + take) % RVM_PROOF_NONCE_WINDOW;
        remaining -= take;
    }
}

void rvm_proof_nonce_mark(struct rvm_proof_nonces *n, uint32_t domain, uint64_t nonce)
{
    if (domain >= n->count) {
        return;
    }
    struct rvm_proof_nonce_domain *d = &n->domains[domain];
    if (nonce > d->highest) {
        /* The window slides up: positions of the values highest+1 .. nonce now stand for those
         * values, no longer for the ones W below them, which leave the window. */
        const uint64_t advance = nonce - d->highest;
        if (advance >= RVM_PROOF_NONCE_WINDOW) {
            rvm_memset(d->seen, 0, sizeof(d->seen));
        } else if (advance > 1) {
            /* (nonce's own position is set below, so a step of one clears nothing) */
            clear_positions(d, d->highest + 1, advance - 1);
        }
        d->highest = nonce;
    }
    const uint32_t pos = (uint32_t)(nonce % RVM_PROOF_NONCE_WINDOW);
    d->seen[pos / 64u] |= (uint64_t)1 << (pos % 64u);
}

enum rvm_err rvm_proof_nonce_reset(struct rvm_proof_nonces *n, uint32_t domain)
{
    if (domain >= n->count) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    rvm_memset(&n->domains[domain], 0, sizeof(n->domains[domain]));
    return RVM_OK;
}

enum rvm_err rvm_proof_check(const struct rvm_proof_nonces *n)
{
    if (n->domains == NULL || n->count == 0) {
        return RVM_ERR_INTERNAL;
    }
    for (uint32_t i = 0; i < n->count; i++) { /* bound: count */
        const struct rvm_proof_nonce_domain *d = &n->domains[i];
        if (d->highest != 0 && !nonce_bit(d, d->highest)) {
            return RVM_ERR_INTERNAL;
        }
        /* A set bit stands for the value highest - ((highest - pos) mod W), which must be >= 1.
         * With highest >= W every position stands for such a value. Below that, position p
         * stands for p itself, so exactly the positions 1..highest may be set: checked a word at
         * a time. */
        if (d->highest >= RVM_PROOF_NONCE_WINDOW) {
            continue;
        }
        const uint32_t hi = (uint32_t)d->highest;
        for (uint32_t w = 0; w < RVM_PROOF_NONCE_WORDS; w++) { /* bound: W / 64 */
            const uint32_t first = w * 64u;                    /* positions first .. first + 63 */
            uint64_t allowed;
            if (hi < first) {
                allowed = 0;
            } else if (hi - first >= 63u) {
                allowed = ~(uint64_t)0;
            } else {
                allowed = ((uint64_t)1 << (hi - first + 1u)) - 1u;
            }
            if (w == 0) {
                allowed &= ~(uint64_t)1; /* position 0 would stand for the value 0 */
            }
            if ((d->seen[w] & ~allowed) != 0) {
                return RVM_ERR_INTERNAL;
            }
        }
    }
    return RVM_OK;
}

void rvm_proof_hash(const struct rvm_proof_nonces *n, struct rvm_sha256_ctx *h)
{
    uint8_t buf[8 * (1 + RVM_PROOF_NONCE_WORDS)];
    rvm_store_le32(buf, n->count);
    rvm_sha256_update(h, buf, 4);
    for (uint32_t i = 0; i < n->count; i++) { /* bound: count */
        const struct rvm_proof_nonce_domain *d = &n->domains[i];
        rvm_store_le64(buf, d->highest);
        for (uint32_t w = 0; w < RVM_PROOF_NONCE_WORDS; w++) {
            rvm_store_le64(buf + 8 + 8 * w, d->seen[w]);
        }
        rvm_sha256_update(h, buf, sizeof(buf));
    }
}

/* ------------------------------------------------------------------------------------------------
 * P2
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_proof_ctx_init(struct rvm_proof_ctx *ctx, const struct rvm_cap_table *caps,
                                struct rvm_proof_nonces *nonces, rvm_proof_lookup_fn lookup,
                                void *lookup_ctx, uint8_t max_depth, uint64_t max_window_ns)
{
    if (ctx == NULL || caps == NULL || nonces == NULL || lookup == NULL ||
        max_depth > RVM_CAP_MAX_DEPTH) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    ctx->caps = caps;
    ctx->nonces = nonces;
    ctx->lookup = lookup;
    ctx->lookup_ctx = lookup_ctx;
    ctx->max_depth = max_depth;
    ctx->max_window_ns = max_window_ns;
    return RVM_OK;
}

uint32_t rvm_proof_chain_steps(const struct rvm_cap_table *t, const struct rvm_cap_slot *s,
                               const struct rvm_cap_slot **root)
{
    const struct rvm_cap_slot *r = s;
    uint32_t steps = 0;
    for (uint32_t k = 0; k < RVM_CAP_MAX_DEPTH && r->depth != 0; k++) { /* bound: depth */
        const struct rvm_cap_slot *up = live_slot(t, r->parent);
        if (up == NULL || up->depth + 1 != r->depth) {
            return RVM_PROOF_CHAIN_BROKEN;
        }
        r = up;
        steps++;
    }
    if (r->depth != 0) {
        return RVM_PROOF_CHAIN_BROKEN;
    }
    *root = r;
    return steps;
}

enum rvm_err rvm_proof_p2(const struct rvm_proof_ctx *ctx, rvm_partition_id actor,
                          struct rvm_handle cap, const struct rvm_proof_p2_args *a, uint64_t now_ns,
                          struct rvm_proof_p2_plan *plan)
{
    const struct rvm_cap_table *t = ctx->caps;
    const struct rvm_cap_slot *s = live_slot(t, cap);
    if (s == NULL) {
        return cap.index >= t->capacity ? RVM_ERR_OUT_OF_RANGE : RVM_ERR_CAP_STALE;
    }
    struct rvm_object_info info;
    const bool live = ctx->lookup(ctx->lookup_ctx, s->type, s->object, &info);
    return rvm_proof_p2_rules_inline(ctx, s, s->owner == actor, live ? &info : NULL, a, now_ns,
                                     plan);
}

void rvm_proof_p2_commit(const struct rvm_proof_ctx *ctx, const struct rvm_proof_p2_plan *plan)
{
    rvm_proof_nonce_mark(ctx->nonces, plan->nonce_domain, plan->nonce);
}

/* ------------------------------------------------------------------------------------------------
 * P3
 * --------------------------------------------------------------------------------------------- */

static bool mac_ok(const struct rvm_cap_table *t, uint32_t index, const struct rvm_cap_slot *s,
                   uint32_t parent_cap_hash)
{
    uint8_t expect[RVM_CAP_MAC_BYTES];
    rvm_cap_link_mac(t, index, s, parent_cap_hash, expect);
    return rvm_ct_equal(expect, s->mac, RVM_CAP_MAC_BYTES);
}

static enum rvm_err p3_walk(const struct rvm_cap_table *t, struct rvm_handle cap, bool sign)
{
    const enum rvm_err err = rvm_cap_resolve(t, cap);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t index = cap.index;
    const struct rvm_cap_slot *s = &t->slots[index];
    for (uint32_t k = 0; k <= RVM_CAP_MAX_DEPTH; k++) { /* bound: depth + 1 */
        if (s->root_epoch < t->epoch_floor) {
            return RVM_ERR_PROOF_CHAIN;
        }
        if (s->depth == 0) {
            if (s->parent.index != RVM_CAP_NONE || s->root_epoch != s->epoch) {
                return RVM_ERR_PROOF_CHAIN;
            }
            if (sign && !mac_ok(t, index, s, 0)) {
                return RVM_ERR_PROOF_SIGNATURE;
            }
            return RVM_OK;
        }
        const struct rvm_cap_slot *p = live_slot(t, s->parent);
        if (p == NULL || p->depth + 1 != s->depth || p->epoch > s->epoch ||
            p->root_epoch != s->root_epoch || p->type != s->type ||
            !rvm_cap_handle_eq(p->object, s->object) || (s->rights & ~p->rights) != 0) {
            return RVM_ERR_PROOF_CHAIN;
        }
        if (sign && !mac_ok(t, index, s, p->cap_hash)) {
            return RVM_ERR_PROOF_SIGNATURE;
        }
        index = s->parent.index;
        s = p;
    }
    return RVM_ERR_PROOF_CHAIN;
}

enum rvm_err rvm_proof_p3(const struct rvm_cap_table *t, struct rvm_handle cap)
{
    return p3_walk(t, cap, false);
}

enum rvm_err rvm_proof_p3_signed(const struct rvm_cap_table *t, struct rvm_handle cap)
{
    if (t->mac_key_len == 0) {
        return RVM_ERR_UNSUPPORTED;
    }
    return p3_walk(t, cap, true);
}
