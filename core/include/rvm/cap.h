/* SPDX-License-Identifier: MIT */
/*
 * Capabilities: one table of capability slots with an explicit derivation tree.
 *
 * A capability names an object (type + struct rvm_handle), carries rights, the partition that
 * holds it (owner), a badge, its depth in the derivation tree (0 = root, at most
 * RVM_CAP_MAX_DEPTH) and the epoch it was created in. Capabilities are themselves named by a
 * handle (slot index + generation). The table is global (one for the whole kernel), so holding
 * a capability means `owner == caller`, and every authority check compares the holder.
 *
 * Slots and generations. A slot's generation is odd while it holds a capability and even while
 * it is free; allocation and release each add one. A handle therefore names a live capability
 * only when its generation is odd and equal to the slot's, and a handle to a previous occupant
 * fails with RVM_ERR_CAP_STALE forever after. A slot whose generation reaches
 * RVM_CAP_GEN_RETIRED is never reused (instead of wrapping to a generation an old handle could
 * name again), so the capacity shrinks by one slot every 2^31 reuses of a slot.
 *
 * The derivation tree. Every capability but a root has a parent; the links are explicit and carry
 * generations: `parent` in the child, `first_child` in the parent, and `next_sibling` /
 * `prev_sibling` threading the children of one parent. Invariant (checked by rvm_cap_check): every
 * link of a live slot names a live slot with exactly that generation, links are mutually
 * consistent, and free slots have no links. Revocation removes whole subtrees, so no link ever
 * names a free slot, and a slot that is reused starts with no links: a new capability can never
 * be linked into an old subtree.
 *
 * Bounds. Depth is at most RVM_CAP_MAX_DEPTH, so every walk towards the root takes at most
 * RVM_CAP_MAX_DEPTH steps. Revoking a subtree of n capabilities takes at most n iterations of an
 * outer loop (each releases one slot) each with at most RVM_CAP_MAX_DEPTH descents; n <= capacity.
 * Every loop also carries a budget (capacity or depth), so even a corrupted table cannot make an
 * operation run longer; rvm_cap_check reports the corruption. Epoch revocation is one sweep over
 * the capacity. Nothing recurses.
 *
 * Rights and attenuation. A child is derived (grant / delegate) from a source that holds GRANT or
 * GRANT_ONCE; its rights are a subset of the source's; its depth is the source's + 1. When the
 * source lacks GRANT, the derivation goes through GRANT_ONCE: the source loses GRANT_ONCE (and is
 * marked RVM_CAP_FLAG_CONSUMED; capabilities derived from it earlier lose GRANT_ONCE with it, as in
 * an attenuation) and the child never carries GRANT or GRANT_ONCE (those bits are
 * removed from the requested rights). A source holding GRANT derives through GRANT and keeps
 * GRANT_ONCE.
 *
 * Epochs. The table has a current epoch (stamped on every new capability) and a floor. Every
 * capability remembers the epoch of its tree's root (`root_epoch`; children inherit it). Epoch
 * revocation of E (floor <= E <= current) releases, in one sweep, every capability whose
 * root_epoch <= E - all capabilities of that epoch and of older ones, and everything derived
 * from them - and raises the floor to E + 1. Whole trees go at once, so no survivor links to a
 * released slot. Because the sweep is eager, P1 needs no epoch comparison: generations say it all.
 *
 * Identity hash. cap_hash (the witness field at offset 32) is the first four bytes, read
 * little-endian, of SHA-256 over the capability's 44-byte identity (rvm_cap_identity_bytes;
 * docs/witness-format.md). It is computed once, when the capability is created, and never
 * changes (rights are not part of the identity because GRANT_ONCE consumption changes them).
 *
 * Link MACs. When the table has a key, every slot also carries a 16-byte HMAC-SHA256 tag over its
 * contents and its parent's cap_hash (rvm_cap_link_mac), recomputed whenever the slot changes.
 * The signed P3 (proof.h) verifies the tags along the chain to the root.
 *
 * Operations are prepare / commit pairs (see docs/architecture.md): prepare validates and fills
 * the witness entry and a plan, changing nothing; commit applies the plan and cannot fail. Between
 * a prepare and its commit no other operation may touch the table. The caller appends the entry
 * (rvm_witness_append) between the two and, on a refusal, the rejection prepare filled in
 * (rvm_witness_reject): the kernel does it in its operation frame, unit tests through
 * tests/support/witnessed.h.
 * What each record holds is in docs/architecture.md ("Capabilities, proofs and the gate").
 */
#ifndef RVM_CAP_H
#define RVM_CAP_H

#include "rvm/error.h"
#include "rvm/hal.h"
#include "rvm/hmac.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rights (DESIGN §3). */
enum rvm_cap_right {
    RVM_CAP_READ = 0x01,
    RVM_CAP_WRITE = 0x02,
    RVM_CAP_GRANT = 0x04,
    RVM_CAP_REVOKE = 0x08,
    RVM_CAP_EXECUTE = 0x10,
    RVM_CAP_PROVE = 0x20,
    RVM_CAP_GRANT_ONCE = 0x40,
};
#define RVM_CAP_RIGHTS_ALL 0x7Fu

/* Object types, RVM's CapType values. */
enum rvm_cap_type {
    RVM_CAP_TYPE_PARTITION = 0,
    RVM_CAP_TYPE_REGION = 1,
    RVM_CAP_TYPE_COMM_EDGE = 2,
    RVM_CAP_TYPE_DEVICE = 3,
    RVM_CAP_TYPE_SCHEDULER = 4,
    RVM_CAP_TYPE_WITNESS_LOG = 5,
    RVM_CAP_TYPE_PROOF = 6,
    RVM_CAP_TYPE_VCPU = 7,
    RVM_CAP_TYPE_COHERENCE = 8,
    RVM_CAP_TYPE_COUNT = 9,
};

#define RVM_CAP_MAX_DEPTH      8u
#define RVM_CAP_CAPACITY_MAX   (1u << 20)
#define RVM_CAP_GEN_RETIRED    0xFFFFFFFEu /* a free slot with this generation is never reused */
#define RVM_CAP_NONE           RVM_HANDLE_INVALID_INDEX /* "no slot" in links */
#define RVM_CAP_MAC_BYTES      16u                      /* HMAC-SHA256 truncated to 128 bits */
#define RVM_CAP_MAC_KEY_MAX    64u
#define RVM_CAP_IDENTITY_BYTES 44u
#define RVM_CAP_MAC_MSG_BYTES  60u

/* Slot flags. */
#define RVM_CAP_FLAG_CONSUMED 0x01u /* GRANT_ONCE was used: a later grant fails CAP_CONSUMED */

/* Witness flags of a grant/delegate record: bits 0..6 the child's rights, bit 7 this one. */
#define RVM_CAP_WFLAG_GRANT_ONCE_USED 0x80u

/*
 * One capability slot. P1 reads three words of it: generation and owner side by side (one 64-bit
 * comparison against handle generation + caller), the object (one 64-bit comparison), and
 * p1_check, a word derived from type, rights and liveness (rvm_cap_p1_check_word) so that the
 * type, rights and liveness tests are one XOR and one AND. Every write of generation, type or
 * rights rewrites p1_check; rvm_cap_check verifies it. Free slots keep only their generation and
 * free-list link; every other field (p1_check included) is zero and every link RVM_CAP_NONE.
 */
struct rvm_cap_slot {
    uint32_t generation;    /* odd: live; even: free */
    rvm_partition_id owner; /* the holder */
    struct rvm_handle object;
    uint8_t type;        /* enum rvm_cap_type */
    uint8_t rights;      /* enum rvm_cap_right bits */
    uint8_t depth;       /* 0 = root */
    uint8_t flags;       /* RVM_CAP_FLAG_* */
    uint32_t cap_hash;   /* identity hash, fixed at creation */
    uint32_t epoch;      /* epoch at creation */
    uint32_t root_epoch; /* epoch of the tree's root (<= epoch) */
    uint64_t badge;
    struct rvm_handle parent; /* {RVM_CAP_NONE, 0} for a root */
    struct rvm_handle first_child;
    struct rvm_handle next_sibling;
    struct rvm_handle prev_sibling;
    uint32_t next_free; /* free-list link while free; RVM_CAP_NONE while live */
    uint8_t mac[RVM_CAP_MAC_BYTES];
    uint32_t p1_check; /* live: rvm_cap_p1_check_word(type, rights); free: 0 */
};

/*
 * P1's check word of a live slot: the type in bits 0..7, the rights the slot lacks (~rights) in
 * bits 8..15 and RVM_CAP_P1_LIVE; a free slot's is 0. A claim of type T needing rights R passes
 * it when ((p1_check ^ (T | RVM_CAP_P1_LIVE)) & rvm_cap_p1_claim_mask(R)) == 0.
 */
#define RVM_CAP_P1_LIVE 0x10000u

static inline uint32_t rvm_cap_p1_check_word(uint8_t type, uint8_t rights)
{
    return (uint32_t)type | (uint32_t)(uint8_t)~rights << 8 | RVM_CAP_P1_LIVE;
}

static inline uint32_t rvm_cap_p1_claim_mask(uint8_t rights)
{
    return 0xFF00FFu | (uint32_t)rights << 8;
}

struct rvm_cap_config {
    struct rvm_cap_slot *slots; /* caller storage: capacity slots */
    uint32_t capacity;          /* 1 .. RVM_CAP_CAPACITY_MAX */
    uint32_t initial_epoch;
    const uint8_t *mac_key; /* copied; NULL/0: no link MACs, signed P3 is unsupported */
    uint32_t mac_key_len;   /* <= RVM_CAP_MAC_KEY_MAX */
};

struct rvm_cap_table {
    struct rvm_cap_slot *slots;
    uint32_t capacity;
    uint32_t live;        /* live capabilities */
    uint32_t free_head;   /* first free slot or RVM_CAP_NONE */
    uint32_t epoch;       /* current epoch */
    uint32_t epoch_floor; /* every live capability has root_epoch >= floor; floor <= epoch */
    const struct rvm_crypto *crypto;
    uint8_t mac_key[RVM_CAP_MAC_KEY_MAX];
    uint32_t mac_key_len;
    struct rvm_hmac_key mac_schedule; /* of mac_key, when mac_key_len != 0 */
};

/* RVM_ERR_INVALID_ARGUMENT for missing storage, a bad capacity or an over-long key. */
enum rvm_err rvm_cap_init(struct rvm_cap_table *t, const struct rvm_crypto *crypto,
                          const struct rvm_cap_config *cfg);

/* The live capability `h` names, or NULL (index out of range, free slot, old generation). */
const struct rvm_cap_slot *rvm_cap_get(const struct rvm_cap_table *t, struct rvm_handle h);

/* RVM_OK, RVM_ERR_OUT_OF_RANGE (index >= capacity) or RVM_ERR_CAP_STALE (no such capability). */
enum rvm_err rvm_cap_resolve(const struct rvm_cap_table *t, struct rvm_handle h);

static inline struct rvm_handle rvm_cap_handle(uint32_t index, uint32_t generation)
{
    struct rvm_handle h = {index, generation};
    return h;
}

static inline struct rvm_handle rvm_cap_no_handle(void)
{
    return rvm_cap_handle(RVM_CAP_NONE, 0);
}

static inline bool rvm_cap_handle_eq(struct rvm_handle a, struct rvm_handle b)
{
    return a.index == b.index && a.generation == b.generation;
}

/* The 44 identity bytes of the capability in slot `index` (docs/witness-format.md §4). */
void rvm_cap_identity_bytes(uint32_t index, const struct rvm_cap_slot *s,
                            uint8_t out[RVM_CAP_IDENTITY_BYTES]);

/* cap_hash: LE32 of the first 4 bytes of SHA-256(identity bytes). */
uint32_t rvm_cap_identity_hash(const struct rvm_crypto *crypto, uint32_t index,
                               const struct rvm_cap_slot *s);

/*
 * The link MAC of the capability in slot `index`: HMAC-SHA256(key, M) truncated to 16 bytes,
 * M = identity (44) || rights || flags || 0x00 0x00 || LE32 root_epoch || LE32 cap_hash ||
 * LE32 parent_cap_hash (0 for a root). All zero when the table has no key.
 */
void rvm_cap_link_mac(const struct rvm_cap_table *t, uint32_t index, const struct rvm_cap_slot *s,
                      uint32_t parent_cap_hash, uint8_t out[RVM_CAP_MAC_BYTES]);

/* ------------------------------------------------------------------------------------------------
 * Operations
 * --------------------------------------------------------------------------------------------- */

enum rvm_cap_op {
    RVM_CAP_OP_NONE = 0,
    RVM_CAP_OP_MINT,
    RVM_CAP_OP_DERIVE,
    RVM_CAP_OP_REVOKE,
    RVM_CAP_OP_EPOCH_ADVANCE,
    RVM_CAP_OP_EPOCH_REVOKE,
    RVM_CAP_OP_ATTENUATE,
    RVM_CAP_OP_REHOME,
};

/* What a prepare decided; consumed by the matching commit. */
struct rvm_cap_plan {
    uint8_t op;               /* enum rvm_cap_op */
    uint32_t index;           /* mint/derive: the new slot; revoke: the subtree root */
    uint32_t count;           /* revoke / epoch revoke: capabilities released */
    uint32_t epoch;           /* epoch ops: the new current epoch / the revoked epoch */
    struct rvm_cap_slot slot; /* mint/derive: the new slot's contents */
    uint32_t source;          /* derive: the source slot */
    uint8_t source_rights;    /* derive: the source's rights and flags afterwards */
    uint8_t source_flags;
    uint8_t source_mac[RVM_CAP_MAC_BYTES];
};

/* The handle a mint or derive plan creates. */
static inline struct rvm_handle rvm_cap_plan_handle(const struct rvm_cap_plan *p)
{
    return rvm_cap_handle(p->index, p->slot.generation);
}

/*
 * Mint: a root capability for a new object. Only the hypervisor (actor 0) mints; the kernel mints
 * a root for the object's owner when it creates the object (P2's ownership rule relies on it).
 *   DECODE        INVALID_ARGUMENT (rights outside RVM_CAP_RIGHTS_ALL, owner
 * RVM_PARTITION_INVALID), CAP_TYPE (type >= RVM_CAP_TYPE_COUNT) P1            PERMISSION (actor is
 * not the hypervisor) PRECONDITION  CAP_TABLE_FULL Record CAP_MINT: actor 0, tier 0, flags =
 * rights, target = new handle, cap_hash = its hash, payload = object handle (packed), aux = owner |
 * type << 32.
 */
struct rvm_cap_mint_args {
    uint8_t type;
    uint8_t rights;
    rvm_partition_id owner;
    struct rvm_handle object;
    uint64_t badge;
};

enum rvm_err rvm_cap_prepare_mint(const struct rvm_cap_table *t, rvm_partition_id actor,
                                  const struct rvm_cap_mint_args *a,
                                  struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                  struct rvm_witness_rejection *rej);
void rvm_cap_commit_mint(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/*
 * Grant (to another partition, record CAP_GRANT) and delegate (to the holder itself, e.g. a
 * narrower or differently badged copy for a sub-component; record CAP_DELEGATE).
 *   DECODE        INVALID_ARGUMENT (rights outside RVM_CAP_RIGHTS_ALL; grant: new_owner is the
 *                 actor or RVM_PARTITION_INVALID; delegate: new_owner is not the actor)
 *   P1            OUT_OF_RANGE / CAP_STALE (source), CAP_HOLDER (actor does not hold it),
 *                 CAP_CONSUMED (its GRANT_ONCE was used and it has no GRANT), CAP_RIGHTS (neither
 *                 GRANT nor GRANT_ONCE), CAP_ESCALATION (rights not a subset of the source's)
 *   PRECONDITION  CAP_DEPTH (child would be deeper than RVM_CAP_MAX_DEPTH), CAP_TABLE_FULL
 * Record: actor, tier 1, flags = child rights | RVM_CAP_WFLAG_GRANT_ONCE_USED when GRANT_ONCE was
 * consumed, target = child handle, cap_hash = the source's, payload = source handle,
 * aux = new_owner | child cap_hash << 32.
 * The partition named by new_owner is not checked here (the kernel's precondition).
 */
struct rvm_cap_derive_args {
    struct rvm_handle source;
    uint8_t rights;
    uint64_t badge;
    rvm_partition_id new_owner;
};

enum rvm_err rvm_cap_prepare_grant(const struct rvm_cap_table *t, rvm_partition_id actor,
                                   const struct rvm_cap_derive_args *a,
                                   struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                   struct rvm_witness_rejection *rej);
void rvm_cap_commit_grant(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

enum rvm_err rvm_cap_prepare_delegate(const struct rvm_cap_table *t, rvm_partition_id actor,
                                      const struct rvm_cap_derive_args *a,
                                      struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                      struct rvm_witness_rejection *rej);
void rvm_cap_commit_delegate(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/*
 * Revoke: release `target` and its whole subtree. The actor must hold `authority`, which must
 * carry REVOKE and be `target` itself or an ancestor of it. The hypervisor (actor 0) needs no
 * authority capability (`authority` is then ignored).
 *   P1            OUT_OF_RANGE / CAP_STALE (target, then authority), CAP_HOLDER, CAP_RIGHTS (no
 *                 REVOKE), PERMISSION (authority is neither the target nor an ancestor of it)
 * Record CAP_REVOKE: actor, tier 1 (0 for the hypervisor), target = target handle,
 * cap_hash = the authority's (0 for the hypervisor), payload = authority handle (0 for the
 * hypervisor), aux = number of capabilities released.
 */
struct rvm_cap_revoke_args {
    struct rvm_handle authority;
    struct rvm_handle target;
};

enum rvm_err rvm_cap_prepare_revoke(const struct rvm_cap_table *t, rvm_partition_id actor,
                                    const struct rvm_cap_revoke_args *a,
                                    struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                    struct rvm_witness_rejection *rej);
void rvm_cap_commit_revoke(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/*
 * Attenuate: lower the rights of a capability in place to `rights` (a subset of what it has), and
 * with it every capability derived from it (each keeps `its rights & rights`, so children stay
 * within their parents). The actor must hold it; the hypervisor (actor 0) may attenuate any.
 * Identity and cap_hash are unchanged (rights are not part of the identity); link MACs are
 * recomputed. The kernel uses it for DC-8 (shared objects become read-only on a split).
 *   DECODE        INVALID_ARGUMENT (rights outside RVM_CAP_RIGHTS_ALL)
 *   P1            OUT_OF_RANGE / CAP_STALE, CAP_HOLDER, CAP_ESCALATION (rights not a subset)
 * Record CAP_ATTENUATE 0x14: actor, tier 1 (0 for the hypervisor), flags = new rights, target =
 * the capability, cap_hash = its hash, payload = its previous rights, aux = capabilities changed
 * (itself and its descendants). Bound: one pre-order walk of the subtree (<= capacity slots).
 */
struct rvm_cap_attenuate_args {
    struct rvm_handle cap;
    uint8_t rights;
};

enum rvm_err rvm_cap_prepare_attenuate(const struct rvm_cap_table *t, rvm_partition_id actor,
                                       const struct rvm_cap_attenuate_args *a,
                                       struct rvm_witness_entry *entry, struct rvm_cap_plan *plan,
                                       struct rvm_witness_rejection *rej);
void rvm_cap_commit_attenuate(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/*
 * Rehome (kernel only: DC-8 "capabilities follow the objects they name" on split and merge):
 * the capability `cap` gets a new holder, keeping its slot, handle, rights and its place in the
 * derivation tree (so capabilities derived from it survive). Its identity changes (the owner is
 * part of it), so its cap_hash and link MAC are recomputed, and so are the link MACs of its direct
 * children (they cover the parent's cap_hash). The old holder's P1 then fails CAP_HOLDER.
 *   DECODE        INVALID_ARGUMENT (new_owner RVM_PARTITION_INVALID)
 *   P1            OUT_OF_RANGE / CAP_STALE
 * No record and no wrapper: the kernel operation that moves the object (PartitionSplit,
 * PartitionMerge) covers it. Bound: the direct children (<= capacity).
 */
enum rvm_err rvm_cap_prepare_rehome(const struct rvm_cap_table *t, struct rvm_handle cap,
                                    rvm_partition_id new_owner, struct rvm_cap_plan *plan);
void rvm_cap_commit_rehome(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/*
 * Epochs (kernel operations, actor 0, tier 0).
 * Advance: a new current epoch; nothing is revoked.
 *   PRECONDITION  OVERFLOW (current epoch is UINT32_MAX)
 *   Record CAP_EPOCH_ADVANCE: target 0, payload = new epoch, aux = previous epoch.
 * Revoke epoch E: release every capability whose tree was rooted in an epoch <= E.
 *   DECODE        OUT_OF_RANGE (E < floor: already revoked; E > current)
 *   PRECONDITION  OVERFLOW (E == UINT32_MAX: no epoch could follow)
 *   Record CAP_EPOCH_REVOKE: target 0, payload = E, aux = number of capabilities released.
 *   Afterwards floor = E + 1 and current = max(current, E + 1).
 */
enum rvm_err rvm_cap_prepare_epoch_advance(const struct rvm_cap_table *t,
                                           struct rvm_witness_entry *entry,
                                           struct rvm_cap_plan *plan,
                                           struct rvm_witness_rejection *rej);
void rvm_cap_commit_epoch_advance(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

enum rvm_err rvm_cap_prepare_epoch_revoke(const struct rvm_cap_table *t, uint32_t epoch,
                                          struct rvm_witness_entry *entry,
                                          struct rvm_cap_plan *plan,
                                          struct rvm_witness_rejection *rej);
void rvm_cap_commit_epoch_revoke(struct rvm_cap_table *t, const struct rvm_cap_plan *plan);

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

/*
 * Every invariant of the header comment, in one O(capacity) read-only pass (plus the free list):
 * generations and counts, field ranges, depth = parent depth + 1, rights within the parent's,
 * epochs ordered, all links live with matching generations and mutually consistent, the free
 * list exactly the free non-retired slots. RVM_ERR_INTERNAL when something is wrong.
 * Identity hashes and MACs are not recomputed here (the signed P3 checks MACs).
 */
enum rvm_err rvm_cap_check(const struct rvm_cap_table *t);

/* Absorb a canonical little-endian encoding of the whole table (not the MAC key). */
void rvm_cap_hash(const struct rvm_cap_table *t, struct rvm_sha256_ctx *h);

#endif /* RVM_CAP_H */
