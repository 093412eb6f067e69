/* SPDX-License-Identifier: MIT */
/*
 * The proof tiers (DESIGN §3, RVM ADR-135), as pure checks over the capability table:
 *
 *   P1  the presented capability is live, held by the caller, of the required type, names the
 *       object acted on and carries the required rights. The decision is one straight-line path:
 *       passing and failing inputs execute the same instructions (tests/py/test_p1_equal_path.py
 *       compares callgrind's per-instruction counts).
 *   P2  the six policy rules, all evaluated on every call (no early exit), the first failure in
 *       rule order reported: ownership chain, region bounds, lease, real delegation depth, nonce
 *       replay, time window. Consuming the nonce is a separate commit step, so a refused or
 *       unwitnessed request consumes nothing.
 *   P3  the derivation chain walked to the root, optionally with every link's HMAC checked.
 *
 * None of these writes a witness record; the security gate (gate.h) runs them in order and
 * witnesses the outcome.
 */
#ifndef RVM_PROOF_H
#define RVM_PROOF_H

#include "rvm/cap.h"
#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------------
 * P1
 * --------------------------------------------------------------------------------------------- */

/*
 * The P1 decision, inline for hot paths: true when the capability passes. Straight-line code
 * with no branch at all, so passing and failing inputs of any kind execute the same
 * instructions: an index beyond the table reads slot 0 instead (a mask, which also keeps
 * speculation inside the table) and the same mask clears that slot's p1_check, whose missing
 * live bit then refuses. Every check contributes a difference OR-ed into one word:
 * (generation, holder) and the object are each compared as one 64-bit word; type, rights and
 * liveness (an odd slot generation, which with the equal generation makes the handle's odd too)
 * are one masked XOR against p1_check.
 */
static inline bool rvm_proof_p1_pass_inline(const struct rvm_cap_table *t, rvm_partition_id actor,
                                            struct rvm_handle cap, uint8_t type, uint8_t rights,
                                            struct rvm_handle object)
{
    const uint32_t in_range = cap.index < t->capacity ? 0xFFFFFFFFu : 0u;
    const struct rvm_cap_slot *s = &t->slots[cap.index & in_range];
    const uint64_t gen_holder =
        ((uint64_t)s->owner << 32 | s->generation) ^ ((uint64_t)actor << 32 | cap.generation);
    const uint64_t other_object = rvm_handle_pack(s->object) ^ rvm_handle_pack(object);
    const uint32_t type_rights_live =
        ((s->p1_check & in_range) ^ ((uint32_t)type | RVM_CAP_P1_LIVE)) &
        rvm_cap_p1_claim_mask(rights);
    return (gen_holder | other_object | type_rights_live) == 0;
}

/* The same decision out of line: what tests/py/test_p1_equal_path.py measures. */
bool rvm_proof_p1_pass(const struct rvm_cap_table *t, rvm_partition_id actor, struct rvm_handle cap,
                       uint8_t type, uint8_t rights, struct rvm_handle object);

/*
 * Why P1 refuses (RVM_OK when it passes), first reason in this order: RVM_ERR_OUT_OF_RANGE
 * (index >= capacity), RVM_ERR_CAP_STALE (free slot, other or even generation),
 * RVM_ERR_CAP_HOLDER (held by another partition), RVM_ERR_CAP_TYPE, RVM_ERR_CAP_OBJECT (names
 * another object), RVM_ERR_CAP_RIGHTS. Ordinary branching code: it runs only after the decision
 * has refused, to name the error that the caller and the rejection record receive anyway.
 */
enum rvm_err rvm_proof_p1_reason(const struct rvm_cap_table *t, rvm_partition_id actor,
                                 struct rvm_handle cap, uint8_t type, uint8_t rights,
                                 struct rvm_handle object);

/* Decision, then the reason when refused. */
enum rvm_err rvm_proof_p1(const struct rvm_cap_table *t, rvm_partition_id actor,
                          struct rvm_handle cap, uint8_t type, uint8_t rights,
                          struct rvm_handle object);

/* ------------------------------------------------------------------------------------------------
 * The nonce store
 *
 * Nonces live in domains (the kernel uses one per partition slot and resets it when the slot is
 * reused). Each domain keeps the highest nonce it accepted, `highest`, and a bitmap of the last
 * RVM_PROOF_NONCE_WINDOW values below and including it.
 *
 * A nonce n is FRESH in a domain iff
 *     n != 0,  n > highest - RVM_PROOF_NONCE_WINDOW  (computed without wrapping: n + W > highest),
 *     and n has not been accepted in this domain.
 * Fresh nonces are accepted (P2 passes them); a nonce already accepted fails RVM_ERR_PROOF_NONCE;
 * a nonce at or below highest - W fails RVM_ERR_PROOF_NONCE_STALE (it is outside the window, so
 * the store could not tell whether it was used); 0 is reserved and fails RVM_ERR_PROOF_NONCE.
 *
 * Guarantees: a nonce is accepted at most once per domain for the domain's whole life (a value
 * that leaves the window can never be accepted again, because `highest` never decreases); no
 * fresh nonce is ever refused (the bitmap holds exactly the W values (highest-W, highest], each
 * at its own bit n mod W, so there is no aliasing); memory is 8 + W/8 bytes per domain. Senders
 * therefore use increasing nonces (a counter) and may reorder them by less than W.
 * --------------------------------------------------------------------------------------------- */

#define RVM_PROOF_NONCE_WINDOW 1024u
#define RVM_PROOF_NONCE_WORDS  (RVM_PROOF_NONCE_WINDOW / 64u)

struct rvm_proof_nonce_domain {
    uint64_t highest; /* 0: nothing accepted yet */
    uint64_t seen[RVM_PROOF_NONCE_WORDS];
};

struct rvm_proof_nonces {
    struct rvm_proof_nonce_domain *domains;
    uint32_t count;
};

/* RVM_ERR_INVALID_ARGUMENT for missing storage or count 0. Every domain starts empty. */
enum rvm_err rvm_proof_nonces_init(struct rvm_proof_nonces *n,
                                   struct rvm_proof_nonce_domain *storage, uint32_t count);

/* RVM_OK when fresh; RVM_ERR_OUT_OF_RANGE (domain), RVM_ERR_PROOF_NONCE, RVM_ERR_PROOF_NONCE_STALE.
 */
enum rvm_err rvm_proof_nonce_fresh(const struct rvm_proof_nonces *n, uint32_t domain,
                                   uint64_t nonce);

/* Record a nonce that rvm_proof_nonce_fresh just accepted (precondition, not re-checked). */
void rvm_proof_nonce_mark(struct rvm_proof_nonces *n, uint32_t domain, uint64_t nonce);

/* Forget a domain (its slot now belongs to a new partition). RVM_ERR_OUT_OF_RANGE for a bad one. */
enum rvm_err rvm_proof_nonce_reset(struct rvm_proof_nonces *n, uint32_t domain);

/* Invariants: no bit set for a value outside (highest - W, highest] or equal to 0, and the bit of
 * `highest` set when highest != 0. RVM_ERR_INTERNAL otherwise. */
enum rvm_err rvm_proof_check(const struct rvm_proof_nonces *n);

/* Canonical encoding of every domain (count, then highest and the bitmap words, little-endian). */
void rvm_proof_hash(const struct rvm_proof_nonces *n, struct rvm_sha256_ctx *h);

/* ------------------------------------------------------------------------------------------------
 * P2
 * --------------------------------------------------------------------------------------------- */

#define RVM_LEASE_NONE UINT64_MAX /* lease_expires_ns of an object without a lease */

/* What the kernel knows about an object (partition, region, device ... tables). */
struct rvm_object_info {
    rvm_partition_id owner; /* the partition the object belongs to */
    uint64_t base;          /* address range the object covers (size 0: none) */
    uint64_t size;
    uint64_t lease_expires_ns; /* first instant the lease is over; RVM_LEASE_NONE */
};

/*
 * The kernel's object lookup: true and `out` filled when `object` names a live object of `type`
 * (its generation is current), false otherwise. Must be a pure function of the kernel's tables.
 */
typedef bool (*rvm_proof_lookup_fn)(void *ctx, uint8_t type, struct rvm_handle object,
                                    struct rvm_object_info *out);

struct rvm_proof_ctx {
    const struct rvm_cap_table *caps;
    struct rvm_proof_nonces *nonces;
    rvm_proof_lookup_fn lookup;
    void *lookup_ctx;
    uint8_t max_depth;      /* policy limit for the real delegation depth, <= RVM_CAP_MAX_DEPTH */
    uint64_t max_window_ns; /* longest allowed not_before..not_after window */
};

/* RVM_ERR_INVALID_ARGUMENT for a missing table, store or lookup, or max_depth > 8. */
enum rvm_err rvm_proof_ctx_init(struct rvm_proof_ctx *ctx, const struct rvm_cap_table *caps,
                                struct rvm_proof_nonces *nonces, rvm_proof_lookup_fn lookup,
                                void *lookup_ctx, uint8_t max_depth, uint64_t max_window_ns);

/* The request-side inputs of P2. */
struct rvm_proof_p2_args {
    uint32_t nonce_domain;
    uint64_t nonce;
    uint64_t not_before_ns; /* the request is valid for now in [not_before_ns, not_after_ns] */
    uint64_t not_after_ns;
    uint64_t access_addr; /* range the operation touches; access_len 0: none */
    uint64_t access_len;
};

struct rvm_proof_p2_plan {
    uint32_t nonce_domain;
    uint64_t nonce;
};

/*
 * P2 for capability `cap` used by `actor` at time `now_ns`. The handle must name a live
 * capability (else RVM_ERR_OUT_OF_RANGE / RVM_ERR_CAP_STALE); the gate runs P1 first. Rules:
 *  1 ownership  RVM_ERR_STALE when the capability's object is not live (lookup false);
 *               RVM_ERR_PROOF_OWNER unless the actor holds the capability and the root of its
 *               derivation chain is held by the object's owner (roots are minted to the owner;
 *               a chain that does not reach a root is left to rule 4).
 *  2 bounds     RVM_ERR_PROOF_BOUNDS unless access_len == 0 or: addr + len does not exceed
 *               UINT64_MAX, and [addr, addr + len) lies inside [base, base + size) - computed
 *               as addr >= base, addr - base <= size, len <= size - (addr - base), so no
 *               intermediate value can wrap.
 *  3 lease      RVM_ERR_PROOF_LEASE unless lease_expires_ns == RVM_LEASE_NONE or now < it.
 *  4 depth      RVM_ERR_PROOF_DEPTH unless the chain really walked to a root (each parent live,
 *               depth one less each step) has exactly the recorded depth and it is <= max_depth.
 *  5 nonce      rvm_proof_nonce_fresh() (RVM_ERR_OUT_OF_RANGE, _PROOF_NONCE, _PROOF_NONCE_STALE).
 *  6 time       RVM_ERR_PROOF_TIME unless not_before <= now <= not_after and
 *               not_after - not_before <= max_window_ns.
 * On success `plan` holds the nonce for rvm_proof_p2_commit. Changes nothing.
 */
enum rvm_err rvm_proof_p2(const struct rvm_proof_ctx *ctx, rvm_partition_id actor,
                          struct rvm_handle cap, const struct rvm_proof_p2_args *a, uint64_t now_ns,
                          struct rvm_proof_p2_plan *plan);

/* ---- P2's rules inline, for the security gate ---------------------------------------------- */

#define RVM_PROOF_CHAIN_BROKEN UINT32_MAX

/*
 * The real delegation chain above the live slot `s`: the number of parent steps to its root, each
 * parent live and exactly one level up, with *root set to the root; RVM_PROOF_CHAIN_BROKEN (and
 * *root untouched) when the chain does not reach a depth-0 slot that way.
 */
uint32_t rvm_proof_chain_steps(const struct rvm_cap_table *t, const struct rvm_cap_slot *s,
                               const struct rvm_cap_slot **root);

/* The first failed rule in rule order (at least one failed); nonce_err is rule 5's answer. */
static inline enum rvm_err rvm_proof_p2_first_failure(bool live, bool owner_ok, bool bounds_ok,
                                                      bool lease_ok, bool depth_ok,
                                                      enum rvm_err nonce_err)
{
    if (!live) {
        return RVM_ERR_STALE;
    }
    if (!owner_ok) {
        return RVM_ERR_PROOF_OWNER;
    }
    if (!bounds_ok) {
        return RVM_ERR_PROOF_BOUNDS;
    }
    if (!lease_ok) {
        return RVM_ERR_PROOF_LEASE;
    }
    if (!depth_ok) {
        return RVM_ERR_PROOF_DEPTH;
    }
    return nonce_err != RVM_OK ? nonce_err : RVM_ERR_PROOF_TIME;
}

/*
 * rvm_proof_p2's six rules for the live slot `s`, with two answers the caller already has:
 * `holder_ok`, whether s->owner is the acting partition (P1 checked it), and `object`, what
 * ctx->lookup filled for s->type and s->object (NULL when it returned false). The same rules,
 * results and plan as rvm_proof_p2; inline because the security gate runs it on every tier-2
 * request, right after its P1 resolved the slot. Each rule is one branch-free truth value (every
 * operand is a plain load or compare, safe to evaluate whatever the others say), so all six are
 * evaluated and a passing request takes one test; the rule order matters only when naming a
 * refusal.
 */
static inline enum rvm_err rvm_proof_p2_rules_inline(const struct rvm_proof_ctx *ctx,
                                                     const struct rvm_cap_slot *s, bool holder_ok,
                                                     const struct rvm_object_info *object,
                                                     const struct rvm_proof_p2_args *a,
                                                     uint64_t now_ns,
                                                     struct rvm_proof_p2_plan *plan)
{
    static const struct rvm_object_info nothing = {0, 0, 0, RVM_LEASE_NONE};
    const bool live = object != NULL; /* the rules still run, on an object that has nothing */
    const struct rvm_object_info *info = live ? object : &nothing;

    const struct rvm_cap_slot *root = s;
    const uint32_t steps = s->depth == 0 ? 0 : rvm_proof_chain_steps(ctx->caps, s, &root);
    const bool chain_broken = steps == RVM_PROOF_CHAIN_BROKEN;

    /* A broken chain has no root to compare; rule 4 refuses it. */
    const bool owner_ok = holder_ok & (chain_broken | (root->owner == info->owner));
    const uint64_t offset = a->access_addr - info->base; /* only decides when addr >= base */
    const bool bounds_ok = (a->access_len == 0) |
                           ((a->access_len <= UINT64_MAX - a->access_addr) & /* end fits in u64 */
                            (a->access_addr >= info->base) & (offset <= info->size) &
                            (a->access_len <= info->size - offset));
    const bool lease_ok =
        (info->lease_expires_ns == RVM_LEASE_NONE) | (now_ns < info->lease_expires_ns);
    const bool depth_ok = steps <= ctx->max_depth; /* also false for a broken chain */
    const enum rvm_err nonce_err = rvm_proof_nonce_fresh(ctx->nonces, a->nonce_domain, a->nonce);
    const bool time_ok = (a->not_before_ns <= now_ns) & (now_ns <= a->not_after_ns) &
                         (a->not_after_ns - a->not_before_ns <= ctx->max_window_ns);

    if (!(live & owner_ok & bounds_ok & lease_ok & depth_ok & (nonce_err == RVM_OK) & time_ok)) {
        return rvm_proof_p2_first_failure(live, owner_ok, bounds_ok, lease_ok, depth_ok, nonce_err);
    }
    plan->nonce_domain = a->nonce_domain;
    plan->nonce = a->nonce;
    return RVM_OK;
}

/* Consume the nonce of a P2 that passed (after its witness record was appended). */
void rvm_proof_p2_commit(const struct rvm_proof_ctx *ctx, const struct rvm_proof_p2_plan *plan);

/* ------------------------------------------------------------------------------------------------
 * P3
 * --------------------------------------------------------------------------------------------- */

/*
 * Walk from `cap` to its root (at most RVM_CAP_MAX_DEPTH steps). Every step requires: the parent
 * link names a live slot with that generation, the parent's depth is exactly one less (strictly
 * decreasing), parent epoch <= child epoch (monotonic), equal root_epoch not below the table's
 * floor, same type and object, child rights within the parent's; the walk must end at a depth-0
 * slot with no parent. RVM_ERR_OUT_OF_RANGE / RVM_ERR_CAP_STALE for the handle itself,
 * RVM_ERR_PROOF_CHAIN for any broken link.
 */
enum rvm_err rvm_proof_p3(const struct rvm_cap_table *t, struct rvm_handle cap);

/*
 * P3 plus every slot on the chain (the capability, each ancestor and the root) must carry the
 * link MAC rvm_cap_link_mac() computes now (constant-time comparison): RVM_ERR_PROOF_SIGNATURE.
 * RVM_ERR_UNSUPPORTED when the table has no MAC key.
 */
enum rvm_err rvm_proof_p3_signed(const struct rvm_cap_table *t, struct rvm_handle cap);

#endif /* RVM_PROOF_H */
