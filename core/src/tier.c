/* SPDX-License-Identifier: MIT */
#include "rvm/tier.h"

void rvm_tier_policy_default(struct rvm_tier_policy *p)
{
    p->hot_to_warm = 7000;
    p->warm_to_dormant = 4000;
    p->dormant_to_cold = 1000;
    p->warm_to_hot = 8000;
    p->dormant_to_warm = 5000;
    p->initial_recency = 5000;
    p->access_boost = 1000;
    p->decay_bp = 500;
}

enum rvm_err rvm_tier_policy_check(const struct rvm_tier_policy *p)
{
    bool ok = p != NULL && p->warm_to_hot <= RVM_TIER_RESIDENCY_MAX &&
              p->dormant_to_warm <= RVM_TIER_RESIDENCY_MAX &&
              p->hot_to_warm <= RVM_TIER_RESIDENCY_MAX && p->initial_recency <= RVM_TIER_BP_MAX &&
              p->access_boost <= RVM_TIER_BP_MAX && p->decay_bp <= RVM_TIER_BP_MAX &&
              p->warm_to_hot > p->hot_to_warm && p->dormant_to_warm > p->warm_to_dormant &&
              p->hot_to_warm >= p->warm_to_dormant && p->warm_to_dormant >= p->dormant_to_cold;
    return ok ? RVM_OK : RVM_ERR_INVALID_ARGUMENT;
}

void rvm_tier_state_init(struct rvm_tier_state *s, const struct rvm_tier_policy *p,
                         enum rvm_tier tier)
{
    s->tier = (uint8_t)tier;
    s->accessed = 0;
    s->cut_pending = 0;
    s->reserved = 0;
    s->cut = 0;
    s->pending_cut = 0;
    s->recency = p->initial_recency;
}

enum rvm_err rvm_tier_check_move(const struct rvm_tier_policy *p, const struct rvm_tier_state *s,
                                 uint32_t target, bool *promote)
{
    if (target >= RVM_TIER_COUNT) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint32_t from = s->tier;
    uint32_t residency = rvm_tier_residency(s);
    if (target + 1u == from) {
        if (promote != NULL) {
            *promote = true;
        }
        if ((target == RVM_TIER_HOT && residency < p->warm_to_hot) ||
            (target == RVM_TIER_WARM && residency < p->dormant_to_warm)) {
            return RVM_ERR_RESIDENCY_LOW;
        }
        return RVM_OK; /* Cold -> Dormant: explicit restore, no threshold */
    }
    if (target == from + 1u) {
        if (promote != NULL) {
            *promote = false;
        }
        return RVM_OK;
    }
    return RVM_ERR_TIER;
}

enum rvm_tier rvm_tier_recommend(const struct rvm_tier_policy *p, const struct rvm_tier_state *s)
{
    uint32_t r = rvm_tier_residency(s);
    switch (s->tier) {
    case RVM_TIER_HOT:
        return r < p->hot_to_warm ? RVM_TIER_WARM : RVM_TIER_HOT;
    case RVM_TIER_WARM:
        if (r >= p->warm_to_hot) {
            return RVM_TIER_HOT;
        }
        return r < p->warm_to_dormant ? RVM_TIER_DORMANT : RVM_TIER_WARM;
    case RVM_TIER_DORMANT:
        if (r >= p->dormant_to_warm) {
            return RVM_TIER_WARM;
        }
        return r < p->dormant_to_cold ? RVM_TIER_COLD : RVM_TIER_DORMANT;
    default:
        return RVM_TIER_COLD;
    }
}

void rvm_tier_epoch(const struct rvm_tier_policy *p, struct rvm_tier_state *s)
{
    if (s->cut_pending) {
        s->cut = s->pending_cut;
        s->cut_pending = 0;
        s->pending_cut = 0;
    }
    uint32_t r = s->recency;
    if (s->accessed) {
        r += p->access_boost;
        r = r > RVM_TIER_BP_MAX ? RVM_TIER_BP_MAX : r;
    } else {
        r -= (r * p->decay_bp + (RVM_TIER_BP_MAX - 1u)) / RVM_TIER_BP_MAX; /* rounded up */
    }
    s->recency = (uint16_t)r;
    s->accessed = 0;
}

enum rvm_err rvm_tier_state_check(const struct rvm_tier_state *s)
{
    bool ok = s->tier < RVM_TIER_COUNT && s->accessed <= 1 && s->cut_pending <= 1 &&
              s->reserved == 0 && s->cut <= RVM_TIER_BP_MAX && s->pending_cut <= RVM_TIER_BP_MAX &&
              s->recency <= RVM_TIER_BP_MAX && (s->cut_pending || s->pending_cut == 0);
    return ok ? RVM_OK : RVM_ERR_INTERNAL;
}
