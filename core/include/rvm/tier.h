/* SPDX-License-Identifier: MIT */
/*
 * Memory tiers and the residency rule (ADR-136): the pure policy half. Region records
 * (region.h) embed a struct rvm_tier_state; region.c performs the moves and witnesses them.
 *
 *   Hot (0)      resident, mapped on the partition's CPUs; placement hint for the platform
 *   Warm (1)     resident
 *   Dormant (2)  not resident: contents held as a compressed image with a SHA-256 checkpoint
 *                (compress.h); the host pages are back in the allocator
 *   Cold (3)     the image has been handed to persistent storage; only the checkpoint is kept
 *
 * Residency = cut value + recency, both in basis points (0..10000), so 0..20000.
 *   - cut value: the coherence engine's figure for the region's partition, supplied by the
 *     caller; staged and applied at the next epoch. 0 without a coherence engine (DC-1).
 *   - recency: starts at initial_recency; at each epoch, a region touched during the epoch gains
 *     access_boost (capped at 10000), an untouched one loses decay_bp/10000 of its recency,
 *     rounded up so it reaches 0.
 *
 * Moves go one step at a time (Hot <-> Warm <-> Dormant <-> Cold). Promotions need residency at
 * or above their threshold (Warm->Hot: warm_to_hot, Dormant->Warm: dormant_to_warm) except
 * Cold->Dormant, which is an explicit restore (recovery) and never recommended. Demotions are
 * always allowed, since memory pressure is a reason on its own; the thresholds decide what
 * rvm_tier_recommend() proposes. Each promotion threshold must exceed the demotion threshold out
 * of the tier it promotes into, so a region cannot be recommended up and straight back down.
 */
#ifndef RVM_TIER_H
#define RVM_TIER_H

#include "rvm/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rvm_tier {
    RVM_TIER_HOT = 0,
    RVM_TIER_WARM = 1,
    RVM_TIER_DORMANT = 2,
    RVM_TIER_COLD = 3,
};

#define RVM_TIER_COUNT         4u
#define RVM_TIER_BP_MAX        10000u /* cut values and recency are basis points */
#define RVM_TIER_RESIDENCY_MAX 20000u

struct rvm_tier_policy {
    uint16_t hot_to_warm;     /* recommend Hot -> Warm below this residency (default 7000) */
    uint16_t warm_to_dormant; /* recommend Warm -> Dormant below this (4000) */
    uint16_t dormant_to_cold; /* recommend Dormant -> Cold below this (1000) */
    uint16_t warm_to_hot;     /* Warm -> Hot needs at least this (8000) */
    uint16_t dormant_to_warm; /* Dormant -> Warm needs at least this (5000) */
    uint16_t initial_recency; /* recency of a new region (5000) */
    uint16_t access_boost;    /* recency gained in an epoch with an access (1000) */
    uint16_t decay_bp;        /* share of recency lost in an epoch without one (500 = 5%) */
};

struct rvm_tier_state {
    uint8_t tier;         /* enum rvm_tier */
    uint8_t accessed;     /* touched since the last epoch */
    uint8_t cut_pending;  /* a new cut value is staged */
    uint8_t reserved;     /* zero */
    uint16_t cut;         /* applied cut value, basis points */
    uint16_t pending_cut; /* staged cut value */
    uint16_t recency;     /* basis points */
};

/* RVM's thresholds (rvm-memory tier.rs TierThresholds::DEFAULT) and our recency parameters. */
void rvm_tier_policy_default(struct rvm_tier_policy *p);

/*
 * RVM_OK when every threshold is <= RVM_TIER_RESIDENCY_MAX, initial_recency, access_boost and
 * decay_bp are <= 10000, warm_to_hot > hot_to_warm, dormant_to_warm > warm_to_dormant, and
 * hot_to_warm >= warm_to_dormant >= dormant_to_cold; RVM_ERR_INVALID_ARGUMENT otherwise.
 */
enum rvm_err rvm_tier_policy_check(const struct rvm_tier_policy *p);

void rvm_tier_state_init(struct rvm_tier_state *s, const struct rvm_tier_policy *p,
                         enum rvm_tier tier);

static inline uint32_t rvm_tier_residency(const struct rvm_tier_state *s)
{
    return (uint32_t)s->cut + s->recency;
}

/*
 * Whether moving from s->tier to `target` is allowed now. RVM_ERR_OUT_OF_RANGE for a target that
 * is not a tier, RVM_ERR_TIER when it is not one step away, RVM_ERR_RESIDENCY_LOW when a
 * promotion's threshold is not met. `promote` (may be NULL) tells which direction it is.
 */
enum rvm_err rvm_tier_check_move(const struct rvm_tier_policy *p, const struct rvm_tier_state *s,
                                 uint32_t target, bool *promote);

/* The tier the thresholds ask for (s->tier when none); never Cold -> Dormant. */
enum rvm_tier rvm_tier_recommend(const struct rvm_tier_policy *p, const struct rvm_tier_state *s);

/* Note an access (applied at the next epoch). */
static inline void rvm_tier_touch(struct rvm_tier_state *s)
{
    s->accessed = 1;
}

/* Stage a cut value (<= 10000, the caller checks) for the next epoch. */
static inline void rvm_tier_stage_cut(struct rvm_tier_state *s, uint16_t cut)
{
    s->pending_cut = cut;
    s->cut_pending = 1;
}

/* End of epoch: apply the staged cut value, boost or decay recency, clear the access mark. */
void rvm_tier_epoch(const struct rvm_tier_policy *p, struct rvm_tier_state *s);

/* RVM_OK when the fields are in range (tier valid, flags 0/1, basis points <= 10000). */
enum rvm_err rvm_tier_state_check(const struct rvm_tier_state *s);

#endif /* RVM_TIER_H */
