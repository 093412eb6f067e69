/* SPDX-License-Identifier: MIT */
/*
 * Memory regions: typed ranges of host-physical pages, each owned by one partition, mapped into
 * its guest-physical space through the HAL (stage-2 / PMP), and moved between the tiers of
 * tier.h. Design and witness record layouts: docs/memory.md.
 *
 * Rules this module enforces (and rvm_region_check() verifies):
 *   - Host isolation: two regions never cover the same host page, except a SHARED region, which is
 *     an explicit read-only view of an IMMUTABLE region of another partition. So no host page is
 *     ever mapped by two partitions unless every mapping of it is read-only.
 *   - W^X: no region, share or mapping is writable and executable at once.
 *   - Guest isolation: a partition's mapped guest ranges do not overlap.
 *   - Every address range is page aligned and overflow checked; a region has 1..2^20-1 pages.
 *   - RAM regions are backed by one buddy block of the smallest order that holds them (the
 *     pages past npages are held but never mapped); DEVICE regions name explicit host ranges
 *     outside the allocator's RAM.
 *   - A mapped region is resident; a region goes Dormant only unmapped and unshared.
 *
 * Regions belong to partition ids; which ids exist, and who may ask for what, is the kernel's
 * business (capabilities, the gate). Every mutating operation comes as
 *     rvm_region_prepare_X(...)  validate, fill the witness entry and a plan; changes nothing
 *     rvm_region_commit_X(...)   apply the plan; cannot fail
 * and the caller appends the entry between the two (prepare -> witness -> commit) and records a
 * refusal: the kernel in its operation frame, unit tests through tests/support/witnessed.h.
 * Between a prepare and its commit nothing else may touch the table or its allocator. The
 * entry's actor is the requesting partition; a kernel may add proof_tier and cap_hash before
 * appending.
 *
 * Map and unmap also change the platform's tables, which can refuse, so they take one more step:
 *     prepare -> rvm_witness_reserve(log, 1) -> rvm_region_hal_X (may fail: witness the refusal;
 *     nothing changed) -> rvm_witness_append (cannot fail now) -> commit
 * After an unmap the kernel must invalidate the partition's VMID (it owns the VMIDs).
 *
 * Tier inputs (accesses, cut values) are cheap observations, not gated operations: they are
 * staged and applied at rvm_region_epoch(), which witnesses one RegionTierEpoch record.
 */
#ifndef RVM_REGION_H
#define RVM_REGION_H

#include "rvm/buddy.h"
#include "rvm/compress.h"
#include "rvm/error.h"
#include "rvm/hal.h"
#include "rvm/sha256.h"
#include "rvm/tier.h"
#include "rvm/types.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_REGION_MAX_PAGES 0xFFFFFu /* 4 GiB - 4 KiB: dormant images stay below 4 GiB */

enum rvm_region_type {
    RVM_REGION_DATA = 1,      /* private RAM: R or RW */
    RVM_REGION_CODE = 2,      /* private RAM: R or RX (loaded by the hypervisor, never W) */
    RVM_REGION_IMMUTABLE = 3, /* RAM its owner only reads: R or RX; the only shareable type */
    RVM_REGION_DEVICE = 4,    /* MMIO at an explicit host range outside RAM: R or RW; always Hot */
    RVM_REGION_SHARED = 5,    /* read-only view of another partition's IMMUTABLE region (share) */
};

/* One slot of the region table. Read through rvm_region_get(); change only through the ops.
 * The layout has no padding (checked in region.c), so an empty slot is all zero but generation. */
struct rvm_region {
    uint32_t generation; /* handle generation of the current or next occupant */
    uint8_t used;        /* slot holds a region */
    uint8_t type;        /* enum rvm_region_type */
    uint8_t perms;       /* enum rvm_perm bits the region allows */
    uint8_t mapped;      /* in the owner's stage-2 */
    uint8_t map_perms;   /* perms of the live mapping (subset of perms) */
    uint8_t order;       /* RAM: buddy order of the backing block */
    uint8_t reserved[2]; /* zero */
    rvm_partition_id owner;
    uint32_t npages;
    uint32_t source; /* SHARED: slot index of the source region */
    uint64_t hpa;    /* host base while resident (a share: its source's); 0 otherwise */
    uint64_t ipa;    /* guest base while mapped; 0 otherwise */
    uint32_t source_generation;
    uint32_t shares;    /* number of SHARED regions viewing this one */
    uint32_t image_len; /* Dormant / Cold: length of the compressed image */
    uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES]; /* Dormant / Cold: SHA-256 of the image */
    struct rvm_tier_state tier;
    uint16_t reserved2; /* zero */
};

struct rvm_region_config {
    struct rvm_region *slots;             /* caller storage, `capacity` entries */
    uint32_t capacity;                    /* 1..2^31 */
    struct rvm_buddy *ram;                /* backs RAM regions; NULL: only DEVICE regions */
    const struct rvm_tier_policy *policy; /* copied; NULL: rvm_tier_policy_default() */
};

struct rvm_region_table {
    const struct rvm_hal *hal;
    struct rvm_witness_log *log;
    struct rvm_buddy *ram;
    struct rvm_region *slots;
    uint32_t capacity;
    uint32_t count;
    uint64_t epoch;
    struct rvm_tier_policy policy;
};

/* RVM_ERR_INVALID_ARGUMENT for missing storage or a policy that fails rvm_tier_policy_check. */
enum rvm_err rvm_region_init(struct rvm_region_table *rt, const struct rvm_hal *hal,
                             struct rvm_witness_log *log, const struct rvm_region_config *cfg);

/* The region a handle names, or NULL (unknown index, free slot, stale generation). */
const struct rvm_region *rvm_region_get(const struct rvm_region_table *rt, struct rvm_handle h);

/* RVM_OK, or why a handle does not name a live region: RVM_ERR_NOT_FOUND or RVM_ERR_STALE. */
enum rvm_err rvm_region_lookup(const struct rvm_region_table *rt, struct rvm_handle h);

/* ---- create / destroy ------------------------------------------------------------------------ */

struct rvm_region_create_req {
    rvm_partition_id owner; /* a guest partition: not 0, not RVM_PARTITION_INVALID */
    uint32_t type;          /* DATA, CODE, IMMUTABLE or DEVICE */
    uint32_t perms;         /* enum rvm_perm; must include R and suit the type */
    uint32_t npages;        /* 1..RVM_REGION_MAX_PAGES */
    rvm_hpa_t hpa;          /* DEVICE only: page-aligned host base; ignored otherwise */
};

struct rvm_region_create_plan {
    uint32_t slot;
    struct rvm_region region;
    bool from_ram;
    struct rvm_buddy_alloc_plan alloc;
};

/*
 * Witness RegionCreate: target = new handle, flags = type | perms << 4, payload = host base,
 * aux = owner | npages << 32. Errors: RVM_ERR_INVALID_ARGUMENT (owner, type, perms without R or
 * unsuited to the type, npages), RVM_ERR_WX, RVM_ERR_ALIGNMENT / RVM_ERR_OVERFLOW (device
 * range), RVM_ERR_OVERLAP (device range meets RAM or another region), RVM_ERR_UNSUPPORTED (RAM
 * region but no allocator), RVM_ERR_OUT_OF_RANGE (more pages than the allocator's max order),
 * RVM_ERR_NO_MEMORY, RVM_ERR_NO_SPACE (table full).
 */
enum rvm_err rvm_region_prepare_create(const struct rvm_region_table *rt, uint32_t actor,
                                       const struct rvm_region_create_req *req,
                                       struct rvm_witness_entry *entry,
                                       struct rvm_region_create_plan *plan);
struct rvm_handle rvm_region_commit_create(struct rvm_region_table *rt,
                                           const struct rvm_region_create_plan *plan);

struct rvm_region_release_plan {
    uint32_t slot;
    bool to_ram; /* return the backing block */
    uint32_t page;
    uint32_t order;
};

/*
 * Destroy a region that is unmapped and has no shares (RVM_ERR_WRONG_STATE otherwise); its RAM
 * goes back to the allocator. SHARED regions go through unshare instead (RVM_ERR_INVALID_ARGUMENT).
 * Witness RegionDestroy: target = handle, flags = type | tier << 4, payload = host base,
 * aux = owner | npages << 32. The core cannot scrub host pages; the kernel must (see
 * docs/memory.md).
 */
enum rvm_err rvm_region_prepare_destroy(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_witness_entry *entry,
                                        struct rvm_region_release_plan *plan);
void rvm_region_commit_destroy(struct rvm_region_table *rt,
                               const struct rvm_region_release_plan *plan);

/* ---- map / unmap ----------------------------------------------------------------------------- */

struct rvm_region_map_plan {
    uint32_t slot;
    rvm_partition_id owner;
    uint64_t ipa;
    uint64_t hpa;
    uint64_t size;
    uint32_t perms;
};

/*
 * Map a resident, unmapped region at `ipa` in its owner's space with `perms` (a subset of the
 * region's, including R). Witness RegionMap: target = handle, flags = perms, payload = ipa,
 * aux = hpa. Errors: lookup errors, RVM_ERR_WRONG_STATE (mapped, or not resident),
 * RVM_ERR_PERMISSION (perms beyond the region's or without R), RVM_ERR_WX, RVM_ERR_ALIGNMENT,
 * RVM_ERR_OVERFLOW, RVM_ERR_OVERLAP (another mapping of the owner), RVM_ERR_HAL (from the
 * platform: nothing changed).
 */
enum rvm_err rvm_region_prepare_map(const struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle h, rvm_ipa_t ipa, uint32_t perms,
                                    struct rvm_witness_entry *entry,
                                    struct rvm_region_map_plan *plan);
enum rvm_err rvm_region_hal_map(const struct rvm_region_table *rt,
                                const struct rvm_region_map_plan *plan);
void rvm_region_commit_map(struct rvm_region_table *rt, const struct rvm_region_map_plan *plan);

/* Unmap a mapped region (RVM_ERR_WRONG_STATE if it is not). Witness RegionUnmap: target =
 * handle, flags = perms, payload = ipa, aux = hpa. */
enum rvm_err rvm_region_prepare_unmap(const struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h, struct rvm_witness_entry *entry,
                                      struct rvm_region_map_plan *plan);
enum rvm_err rvm_region_hal_unmap(const struct rvm_region_table *rt,
                                  const struct rvm_region_map_plan *plan);
void rvm_region_commit_unmap(struct rvm_region_table *rt, const struct rvm_region_map_plan *plan);

/* ---- share / unshare / transfer -------------------------------------------------------------- */

/*
 * Give partition `borrower` a read-only view (perms R or R|X, within the source's) of a resident
 * IMMUTABLE region it does not own; the view is a new SHARED region, unmapped. Witness
 * RegionShare: target = new handle, flags = perms, payload = source handle (packed),
 * aux = borrower | source owner << 32. Errors: lookup errors, RVM_ERR_SHARE (source not
 * IMMUTABLE, or perms with W), RVM_ERR_PERMISSION (perms beyond the source's or without R),
 * RVM_ERR_INVALID_ARGUMENT (borrower invalid or the owner), RVM_ERR_WRONG_STATE (source not
 * resident), RVM_ERR_NO_SPACE.
 */
enum rvm_err rvm_region_prepare_share(const struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle source, rvm_partition_id borrower,
                                      uint32_t perms, struct rvm_witness_entry *entry,
                                      struct rvm_region_create_plan *plan);
struct rvm_handle rvm_region_commit_share(struct rvm_region_table *rt,
                                          const struct rvm_region_create_plan *plan);

/* Remove an unmapped SHARED region. Witness RegionUnshare: target = handle, payload = source
 * handle, aux = borrower. RVM_ERR_INVALID_ARGUMENT if it is not SHARED. */
enum rvm_err rvm_region_prepare_unshare(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_witness_entry *entry,
                                        struct rvm_region_release_plan *plan);
void rvm_region_commit_unshare(struct rvm_region_table *rt,
                               const struct rvm_region_release_plan *plan);

struct rvm_region_transfer_plan {
    uint32_t slot;
    rvm_partition_id to;
};

/* Hand an unmapped, unshared, non-SHARED region to another partition. Witness RegionTransfer:
 * target = handle, payload = from | to << 32 (RVM's layout). */
enum rvm_err rvm_region_prepare_transfer(const struct rvm_region_table *rt, uint32_t actor,
                                         struct rvm_handle h, rvm_partition_id to,
                                         struct rvm_witness_entry *entry,
                                         struct rvm_region_transfer_plan *plan);
void rvm_region_commit_transfer(struct rvm_region_table *rt,
                                const struct rvm_region_transfer_plan *plan);

/* ---- tier moves ------------------------------------------------------------------------------ */

/*
 * Buffers for the moves that touch contents (all caller storage; the core never reads host
 * memory itself: the kernel copies pages in and out).
 *   Warm -> Dormant   contents: the region's npages * 4096 bytes; work, image/image_cap: where
 *                     the image goes; image_len receives its length. Keep the image: it is the
 *                     region's only copy from now on. With staged, image[0..image_len) already
 *                     holds rvm_compress_sized's output for contents, which is only sealed
 *                     (rvm_compress_seal) instead of encoded again.
 *   Dormant -> Warm   image/image_len: the stored image; out/out_cap (>= npages * 4096) receive
 *                     the verified contents, which the kernel copies into the new host pages
 *                     (rvm_region_get(...)->hpa) before mapping them.
 *   Cold -> Dormant   image/image_len and out/out_cap (scratch): the image is verified in full.
 * Hot <-> Warm and Dormant -> Cold need none (io may be NULL). With check_only, Dormant -> Warm
 * and Cold -> Dormant check only the image's hash and header (rvm_compress_check) and leave out
 * untouched: the same result, for a pass that decides before the pass that restores.
 */
struct rvm_region_tier_io {
    const uint8_t *contents;
    struct rvm_compress_work *work;
    uint8_t *image;
    size_t image_cap;
    size_t image_len;
    uint8_t *out;
    size_t out_cap;
    bool check_only;
    bool staged;
};

struct rvm_region_tier_plan {
    uint32_t slot;
    uint8_t from;
    uint8_t to;
    bool alloc;   /* Dormant -> Warm: allocate */
    bool release; /* Warm -> Dormant: free */
    struct rvm_buddy_alloc_plan alloc_plan;
    uint32_t page; /* release: first page */
    uint32_t image_len;
    uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES];
};

/*
 * Move a region one tier up or down (tier.h rules). Only DATA, CODE and IMMUTABLE regions move
 * (RVM_ERR_TIER for DEVICE and SHARED). Warm -> Dormant needs the region unmapped and unshared
 * (RVM_ERR_WRONG_STATE). Dormant -> Warm and Cold -> Dormant verify the image against the
 * region's checkpoint and fail closed with RVM_ERR_CORRUPT, leaving the region where it was.
 * Witness RegionPromote / RegionDemote: target = handle, payload bytes 0 from tier, 1 to tier,
 * 2..3 residency (LE16), 4..7 image length (LE32, 0 when none); aux = the new host base for
 * Dormant -> Warm, the first 8 bytes of the checkpoint hash (as LE64) for moves into or out of
 * Dormant and Cold otherwise, 0 for Hot <-> Warm.
 */
enum rvm_err rvm_region_prepare_move(const struct rvm_region_table *rt, uint32_t actor,
                                     struct rvm_handle h, uint32_t target,
                                     struct rvm_region_tier_io *io, struct rvm_witness_entry *entry,
                                     struct rvm_region_tier_plan *plan);
void rvm_region_commit_move(struct rvm_region_table *rt, const struct rvm_region_tier_plan *plan);

/*
 * An explicit restore Dormant -> Warm (the kernel reconstructing a hibernated partition, or
 * recovery): exactly prepare_move to Warm, except that the residency threshold does not apply
 * (like Cold -> Dormant, it is a decision, not a recommendation). RVM_ERR_TIER unless the region
 * is a Dormant RAM region. Commit with rvm_region_commit_move; the record is RegionPromote.
 */
enum rvm_err rvm_region_prepare_restore(const struct rvm_region_table *rt, uint32_t actor,
                                        struct rvm_handle h, struct rvm_region_tier_io *io,
                                        struct rvm_witness_entry *entry,
                                        struct rvm_region_tier_plan *plan);

/* ---- tier inputs and the epoch --------------------------------------------------------------- */

/* Note an access to a region (applied at the next epoch); touching a SHARED view touches its
 * source. Lookup errors, RVM_ERR_TIER for a DEVICE region. Not witnessed on its own. */
enum rvm_err rvm_region_touch(struct rvm_region_table *rt, struct rvm_handle h);

/* Stage the coherence cut value (basis points, <= 10000, else RVM_ERR_OUT_OF_RANGE) for the next
 * epoch; RVM_ERR_TIER for DEVICE and SHARED regions. Not witnessed on its own. */
enum rvm_err rvm_region_set_cut(struct rvm_region_table *rt, struct rvm_handle h, uint32_t cut);

/*
 * End a tier epoch: apply staged cut values and recency boost/decay to every region except
 * SHARED ones (which follow their source). Witnessed directly (actor 0) with one
 * RegionTierEpoch record: target = 0, payload = the new epoch number, aux = regions touched |
 * regions now recommended to move << 32. RVM_ERR_WITNESS_FULL: nothing changed.
 */
enum rvm_err rvm_region_epoch(struct rvm_region_table *rt);

struct rvm_region_advice {
    struct rvm_handle region;
    uint8_t from;
    uint8_t to;
};

/* Up to `cap` regions whose tier the thresholds want changed, in slot order; returns the number
 * written. Read-only: the kernel decides and moves the region with rvm_region_prepare_move; a
 * region advised to go Dormant must first be unmapped and unshared. */
uint32_t rvm_region_recommend(const struct rvm_region_table *rt, struct rvm_region_advice *out,
                              uint32_t cap);

/* Guest -> host translation for `part` through its mapped regions: RVM_ERR_NOT_FOUND if `ipa`
 * is not mapped; *hpa and *perms (may be NULL) receive the result. */
enum rvm_err rvm_region_translate(const struct rvm_region_table *rt, rvm_partition_id part,
                                  rvm_ipa_t ipa, rvm_hpa_t *hpa, uint32_t *perms);

/* ---- oracles --------------------------------------------------------------------------------- */

/*
 * Invariants (RVM_ERR_INTERNAL on a violation): per-slot consistency (type, perms, W^X, tier
 * state, residency vs. backing, shares count, sources), host isolation over all pairs (two
 * mappings of one host page by different partitions are both read-only, and only through a
 * share), guest isolation per partition, and RAM regions' backing blocks are allocated in the
 * allocator at the recorded order. O(capacity^2), read-only.
 */
enum rvm_err rvm_region_check(const struct rvm_region_table *rt);

/* Absorb a canonical encoding of the table (capacity, epoch, policy, every slot in index order). */
void rvm_region_hash(const struct rvm_region_table *rt, struct rvm_sha256_ctx *ctx);

#endif /* RVM_REGION_H */
