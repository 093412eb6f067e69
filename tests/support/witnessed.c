/* SPDX-License-Identifier: MIT */
#include "witnessed.h"

#include "rvm/action.h"

#include <stddef.h>

enum rvm_err witnessed_commit(struct rvm_witness_log *log, enum rvm_err prepared,
                              const struct rvm_witness_entry *entry,
                              const struct rvm_witness_rejection *refusal,
                              witnessed_commit_fn commit, void *state, const void *plan)
{
    return witnessed_commit_seq(log, prepared, entry, refusal, commit, state, plan, NULL);
}

/* The rule itself, inlined into each caller: with a commit function known at the call, the compiler
 * calls it directly (the gate workloads measure this path). */
static inline enum rvm_err commit_rule(struct rvm_witness_log *log, enum rvm_err prepared,
                                       const struct rvm_witness_entry *entry,
                                       const struct rvm_witness_rejection *refusal,
                                       witnessed_commit_fn commit, void *state, const void *plan,
                                       uint64_t *seq_out)
{
    if (prepared != RVM_OK) {
        if (refusal != NULL) {
            (void)rvm_witness_reject(log, refusal);
        }
        return prepared;
    }
    if (entry != NULL) {
        enum rvm_err err = rvm_witness_append(log, entry, seq_out);
        if (err != RVM_OK) {
            return err;
        }
    }
    commit(state, plan);
    return RVM_OK;
}

enum rvm_err witnessed_commit_seq(struct rvm_witness_log *log, enum rvm_err prepared,
                                  const struct rvm_witness_entry *entry,
                                  const struct rvm_witness_rejection *refusal,
                                  witnessed_commit_fn commit, void *state, const void *plan,
                                  uint64_t *seq_out)
{
    return commit_rule(log, prepared, entry, refusal, commit, state, plan, seq_out);
}

/* A commit half as a witnessed_commit_fn. */
#define COMMIT_FN(name, commit_half, state_type, plan_type)                                        \
    static void name(void *state, const void *plan)                                                \
    {                                                                                              \
        commit_half((state_type *)state, (const plan_type *)plan);                                 \
    }

/* ---- the gate ----------------------------------------------------------------------------------
 */

COMMIT_FN(gate, rvm_gate_commit, const struct rvm_proof_ctx, struct rvm_gate_plan)

enum rvm_err witnessed_gate_check(const struct rvm_proof_ctx *ctx, struct rvm_witness_log *log,
                                  const struct rvm_gate_request *req, uint64_t *seq_out)
{
    struct rvm_witness_entry e;
    struct rvm_gate_plan p;
    struct rvm_witness_rejection r;
    const uint64_t now = req->tier >= RVM_PROOF_P2 ? rvm_hal_now(log->hal) : 0;
    enum rvm_err err = rvm_gate_prepare(ctx, req, now, &e, &p, &r);
    return commit_rule(log, err, &e, &r, gate, (void *)ctx, &p, seq_out);
}

/* ---- capabilities ---------------------------------------------------------------------------- */

COMMIT_FN(cap_mint, rvm_cap_commit_mint, struct rvm_cap_table, struct rvm_cap_plan)
COMMIT_FN(cap_grant, rvm_cap_commit_grant, struct rvm_cap_table, struct rvm_cap_plan)
COMMIT_FN(cap_delegate, rvm_cap_commit_delegate, struct rvm_cap_table, struct rvm_cap_plan)
COMMIT_FN(cap_revoke, rvm_cap_commit_revoke, struct rvm_cap_table, struct rvm_cap_plan)
COMMIT_FN(cap_attenuate, rvm_cap_commit_attenuate, struct rvm_cap_table, struct rvm_cap_plan)
COMMIT_FN(cap_epoch_advance, rvm_cap_commit_epoch_advance, struct rvm_cap_table,
          struct rvm_cap_plan)
COMMIT_FN(cap_epoch_revoke, rvm_cap_commit_epoch_revoke, struct rvm_cap_table, struct rvm_cap_plan)

static enum rvm_err cap_handle_out(enum rvm_err err, const struct rvm_cap_plan *p,
                                   struct rvm_handle *out)
{
    if (err == RVM_OK && out != NULL) {
        *out = rvm_cap_plan_handle(p);
    }
    return err;
}

static enum rvm_err cap_count_out(enum rvm_err err, const struct rvm_cap_plan *p, uint32_t *out)
{
    if (err == RVM_OK && out != NULL) {
        *out = p->count;
    }
    return err;
}

enum rvm_err witnessed_cap_mint(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                rvm_partition_id actor, const struct rvm_cap_mint_args *a,
                                struct rvm_handle *out)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_mint(t, actor, a, &e, &p, &r);
    return cap_handle_out(witnessed_commit(log, err, &e, &r, cap_mint, t, &p), &p, out);
}

enum rvm_err witnessed_cap_grant(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                 rvm_partition_id actor, const struct rvm_cap_derive_args *a,
                                 struct rvm_handle *out)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_grant(t, actor, a, &e, &p, &r);
    return cap_handle_out(witnessed_commit(log, err, &e, &r, cap_grant, t, &p), &p, out);
}

enum rvm_err witnessed_cap_delegate(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                    rvm_partition_id actor, const struct rvm_cap_derive_args *a,
                                    struct rvm_handle *out)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_delegate(t, actor, a, &e, &p, &r);
    return cap_handle_out(witnessed_commit(log, err, &e, &r, cap_delegate, t, &p), &p, out);
}

enum rvm_err witnessed_cap_revoke(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                  rvm_partition_id actor, const struct rvm_cap_revoke_args *a,
                                  uint32_t *released)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_revoke(t, actor, a, &e, &p, &r);
    return cap_count_out(witnessed_commit(log, err, &e, &r, cap_revoke, t, &p), &p, released);
}

enum rvm_err witnessed_cap_attenuate(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                     rvm_partition_id actor, const struct rvm_cap_attenuate_args *a,
                                     uint32_t *changed)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_attenuate(t, actor, a, &e, &p, &r);
    return cap_count_out(witnessed_commit(log, err, &e, &r, cap_attenuate, t, &p), &p, changed);
}

enum rvm_err witnessed_cap_epoch_advance(struct rvm_cap_table *t, struct rvm_witness_log *log)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_epoch_advance(t, &e, &p, &r);
    return witnessed_commit(log, err, &e, &r, cap_epoch_advance, t, &p);
}

enum rvm_err witnessed_cap_epoch_revoke(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                        uint32_t epoch, uint32_t *released)
{
    struct rvm_witness_entry e;
    struct rvm_cap_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_cap_prepare_epoch_revoke(t, epoch, &e, &p, &r);
    return cap_count_out(witnessed_commit(log, err, &e, &r, cap_epoch_revoke, t, &p), &p, released);
}

/* ---- regions -----------------------------------------------------------------------------------
 */

static const struct rvm_witness_rejection *region_refusal(struct rvm_witness_rejection *r,
                                                          uint32_t actor, uint64_t target,
                                                          uint8_t kind, enum rvm_err err)
{
    if (err == RVM_OK || err == RVM_ERR_WITNESS_FULL) {
        return NULL;
    }
    bool decode = err == RVM_ERR_INVALID_ARGUMENT || err == RVM_ERR_OUT_OF_RANGE ||
                  err == RVM_ERR_ALIGNMENT || err == RVM_ERR_OVERFLOW || err == RVM_ERR_NOT_FOUND ||
                  err == RVM_ERR_STALE;
    *r = (struct rvm_witness_rejection){.actor = actor,
                                        .target = target,
                                        .attempted_kind = kind,
                                        .stage = decode ? RVM_STAGE_DECODE : RVM_STAGE_PRECONDITION,
                                        .passed_tier = RVM_PROOF_NONE,
                                        .cap_hash = 0,
                                        .err = err};
    return r;
}

/* The commits that create a region hand back its handle. */
struct region_made {
    struct rvm_region_table *rt;
    struct rvm_handle handle;
};

static void region_create(void *state, const void *plan)
{
    struct region_made *m = state;
    m->handle = rvm_region_commit_create(m->rt, plan);
}

static void region_share(void *state, const void *plan)
{
    struct region_made *m = state;
    m->handle = rvm_region_commit_share(m->rt, plan);
}

COMMIT_FN(region_destroy, rvm_region_commit_destroy, struct rvm_region_table,
          struct rvm_region_release_plan)
COMMIT_FN(region_unshare, rvm_region_commit_unshare, struct rvm_region_table,
          struct rvm_region_release_plan)
COMMIT_FN(region_transfer, rvm_region_commit_transfer, struct rvm_region_table,
          struct rvm_region_transfer_plan)
COMMIT_FN(region_map, rvm_region_commit_map, struct rvm_region_table, struct rvm_region_map_plan)
COMMIT_FN(region_unmap, rvm_region_commit_unmap, struct rvm_region_table,
          struct rvm_region_map_plan)
COMMIT_FN(region_move, rvm_region_commit_move, struct rvm_region_table, struct rvm_region_tier_plan)

enum rvm_err witnessed_region_create(struct rvm_region_table *rt, uint32_t actor,
                                     const struct rvm_region_create_req *req,
                                     struct rvm_handle *out)
{
    struct rvm_witness_entry e;
    struct rvm_region_create_plan p;
    struct rvm_witness_rejection r;
    struct region_made m = {rt, {0, 0}};
    enum rvm_err err = rvm_region_prepare_create(rt, actor, req, &e, &p);
    err =
        witnessed_commit(rt->log, err, &e, region_refusal(&r, actor, 0, RVM_ACT_REGION_CREATE, err),
                         region_create, &m, &p);
    if (err == RVM_OK && out != NULL) {
        *out = m.handle;
    }
    return err;
}

enum rvm_err witnessed_region_destroy(struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h)
{
    struct rvm_witness_entry e;
    struct rvm_region_release_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_region_prepare_destroy(rt, actor, h, &e, &p);
    return witnessed_commit(
        rt->log, err, &e,
        region_refusal(&r, actor, rvm_handle_pack(h), RVM_ACT_REGION_DESTROY, err), region_destroy,
        rt, &p);
}

/* prepare -> reserve one record -> the platform change (may refuse) -> append -> commit. */
static enum rvm_err region_map_op(struct rvm_region_table *rt, uint32_t actor, struct rvm_handle h,
                                  uint8_t kind, enum rvm_err prepared,
                                  const struct rvm_witness_entry *e,
                                  const struct rvm_region_map_plan *p, bool map)
{
    enum rvm_err err = prepared;
    bool platform_changed = false;
    if (err == RVM_OK) {
        err = rvm_witness_reserve(rt->log, 1);
        if (err != RVM_OK) {
            return err;
        }
        err = map ? rvm_region_hal_map(rt, p) : rvm_region_hal_unmap(rt, p);
        platform_changed = err == RVM_OK;
    }
    struct rvm_witness_rejection r;
    err =
        witnessed_commit(rt->log, err, e, region_refusal(&r, actor, rvm_handle_pack(h), kind, err),
                         map ? region_map : region_unmap, rt, p);
    if (err != RVM_OK && platform_changed) {
        /* Cannot happen after a successful reserve; put the platform back to stay closed. */
        (void)(map ? rvm_region_hal_unmap(rt, p) : rvm_region_hal_map(rt, p));
    }
    return err;
}

enum rvm_err witnessed_region_map(struct rvm_region_table *rt, uint32_t actor, struct rvm_handle h,
                                  rvm_ipa_t ipa, uint32_t perms)
{
    struct rvm_witness_entry e;
    struct rvm_region_map_plan p;
    enum rvm_err err = rvm_region_prepare_map(rt, actor, h, ipa, perms, &e, &p);
    return region_map_op(rt, actor, h, RVM_ACT_REGION_MAP, err, &e, &p, true);
}

enum rvm_err witnessed_region_unmap(struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle h)
{
    struct rvm_witness_entry e;
    struct rvm_region_map_plan p;
    enum rvm_err err = rvm_region_prepare_unmap(rt, actor, h, &e, &p);
    return region_map_op(rt, actor, h, RVM_ACT_REGION_UNMAP, err, &e, &p, false);
}

enum rvm_err witnessed_region_share(struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle source, rvm_partition_id borrower,
                                    uint32_t perms, struct rvm_handle *out)
{
    struct rvm_witness_entry e;
    struct rvm_region_create_plan p;
    struct rvm_witness_rejection r;
    struct region_made m = {rt, {0, 0}};
    enum rvm_err err = rvm_region_prepare_share(rt, actor, source, borrower, perms, &e, &p);
    err = witnessed_commit(
        rt->log, err, &e,
        region_refusal(&r, actor, rvm_handle_pack(source), RVM_ACT_REGION_SHARE, err), region_share,
        &m, &p);
    if (err == RVM_OK && out != NULL) {
        *out = m.handle;
    }
    return err;
}

enum rvm_err witnessed_region_unshare(struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h)
{
    struct rvm_witness_entry e;
    struct rvm_region_release_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_region_prepare_unshare(rt, actor, h, &e, &p);
    return witnessed_commit(
        rt->log, err, &e,
        region_refusal(&r, actor, rvm_handle_pack(h), RVM_ACT_REGION_UNSHARE, err), region_unshare,
        rt, &p);
}

enum rvm_err witnessed_region_transfer(struct rvm_region_table *rt, uint32_t actor,
                                       struct rvm_handle h, rvm_partition_id to)
{
    struct rvm_witness_entry e;
    struct rvm_region_transfer_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_region_prepare_transfer(rt, actor, h, to, &e, &p);
    return witnessed_commit(
        rt->log, err, &e,
        region_refusal(&r, actor, rvm_handle_pack(h), RVM_ACT_REGION_TRANSFER, err),
        region_transfer, rt, &p);
}

enum rvm_err witnessed_region_move(struct rvm_region_table *rt, uint32_t actor, struct rvm_handle h,
                                   uint32_t target, struct rvm_region_tier_io *io)
{
    struct rvm_witness_entry e;
    struct rvm_region_tier_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_region_prepare_move(rt, actor, h, target, io, &e, &p);
    uint8_t kind = RVM_ACT_REGION_DEMOTE;
    const struct rvm_region *region = rvm_region_get(rt, h);
    if (err != RVM_OK && region != NULL && target < region->tier.tier) {
        kind = RVM_ACT_REGION_PROMOTE;
    }
    return witnessed_commit(rt->log, err, &e,
                            region_refusal(&r, actor, rvm_handle_pack(h), kind, err), region_move,
                            rt, &p);
}

/* ---- the coherence engine ----------------------------------------------------------------------
 */

static const struct rvm_witness_rejection *coherence_refusal(struct rvm_witness_rejection *r,
                                                             uint32_t actor, uint64_t target,
                                                             uint8_t kind, enum rvm_err err,
                                                             bool proof_gated, uint32_t cap_hash)
{
    uint8_t stage = RVM_STAGE_PRECONDITION;
    if (err == RVM_ERR_INVALID_ARGUMENT || err == RVM_ERR_NOT_FOUND || err == RVM_ERR_EXISTS ||
        err == RVM_ERR_OUT_OF_RANGE) {
        stage = RVM_STAGE_DECODE;
    } else if (err == RVM_ERR_COHERENCE_PROOF) {
        stage = RVM_STAGE_P2;
    }
    *r = (struct rvm_witness_rejection){
        .actor = actor,
        .target = target,
        .attempted_kind = kind,
        .stage = stage,
        .passed_tier =
            (proof_gated && stage == RVM_STAGE_PRECONDITION) ? RVM_PROOF_P2 : RVM_PROOF_NONE,
        .cap_hash = cap_hash,
        .err = err,
    };
    return r;
}

COMMIT_FN(coherence_graph, rvm_coherence_commit_graph, struct rvm_coherence,
          struct rvm_coherence_graph_plan)
COMMIT_FN(coherence_split, rvm_coherence_commit_split, struct rvm_coherence,
          struct rvm_coherence_split_plan)
COMMIT_FN(coherence_merge, rvm_coherence_commit_merge, struct rvm_coherence,
          struct rvm_coherence_merge_plan)

static enum rvm_err coherence_graph_op(struct rvm_coherence *c, struct rvm_witness_log *log,
                                       uint32_t actor, enum rvm_err err,
                                       struct rvm_witness_entry *e,
                                       const struct rvm_coherence_graph_plan *p,
                                       rvm_partition_id target)
{
    struct rvm_witness_rejection r;
    e->actor = actor;
    return witnessed_commit(
        log, err, e, coherence_refusal(&r, actor, target, RVM_ACT_GRAPH_MUTATION, err, false, 0),
        coherence_graph, c, p);
}

enum rvm_err witnessed_coherence_add_partition(struct rvm_coherence *c, struct rvm_witness_log *log,
                                               uint32_t actor, rvm_partition_id id)
{
    struct rvm_witness_entry e;
    struct rvm_coherence_graph_plan p;
    enum rvm_err err = rvm_coherence_prepare_add(c, id, &e, &p);
    return coherence_graph_op(c, log, actor, err, &e, &p, id);
}

enum rvm_err witnessed_coherence_remove_partition(struct rvm_coherence *c,
                                                  struct rvm_witness_log *log, uint32_t actor,
                                                  rvm_partition_id id)
{
    struct rvm_witness_entry e;
    struct rvm_coherence_graph_plan p;
    enum rvm_err err = rvm_coherence_prepare_remove(c, id, &e, &p);
    return coherence_graph_op(c, log, actor, err, &e, &p, id);
}

enum rvm_err witnessed_coherence_record_ipc(struct rvm_coherence *c, struct rvm_witness_log *log,
                                            uint32_t actor, rvm_partition_id from,
                                            rvm_partition_id to, uint64_t weight)
{
    struct rvm_witness_entry e;
    struct rvm_coherence_graph_plan p;
    enum rvm_err err = rvm_coherence_prepare_ipc(c, from, to, weight, &e, &p);
    return coherence_graph_op(c, log, actor, err, &e, &p, from);
}

enum rvm_err witnessed_coherence_split(struct rvm_coherence *c, struct rvm_witness_log *log,
                                       uint32_t actor,
                                       const struct rvm_coherence_split_request *req)
{
    struct rvm_witness_entry e;
    struct rvm_coherence_split_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_coherence_prepare_split(c, actor, req, &e, &p);
    return witnessed_commit(log, err, &e,
                            coherence_refusal(&r, actor, req != NULL ? req->source : 0,
                                              RVM_ACT_STRUCTURAL_SPLIT, err, true,
                                              req != NULL ? req->cap_hash : 0),
                            coherence_split, c, &p);
}

enum rvm_err witnessed_coherence_merge(struct rvm_coherence *c, struct rvm_witness_log *log,
                                       uint32_t actor,
                                       const struct rvm_coherence_merge_request *req)
{
    struct rvm_witness_entry e;
    struct rvm_coherence_merge_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_coherence_prepare_merge(c, actor, req, &e, &p);
    return witnessed_commit(log, err, &e,
                            coherence_refusal(&r, actor, req != NULL ? req->absorber : 0,
                                              RVM_ACT_STRUCTURAL_MERGE, err, true,
                                              req != NULL ? req->cap_hash : 0),
                            coherence_merge, c, &p);
}

/* ---- the scheduler -----------------------------------------------------------------------------
 */

static const struct rvm_witness_rejection *sched_refusal(struct rvm_witness_rejection *r,
                                                         uint32_t actor, uint64_t target,
                                                         const struct rvm_witness_entry *e,
                                                         enum rvm_err err)
{
    bool decode = err == RVM_ERR_OUT_OF_RANGE || err == RVM_ERR_INVALID_ARGUMENT;
    *r = (struct rvm_witness_rejection){
        .actor = actor,
        .target = target,
        .attempted_kind = e->kind,
        .stage = decode ? RVM_STAGE_DECODE : RVM_STAGE_PRECONDITION,
        .passed_tier = RVM_PROOF_NONE,
        .cap_hash = 0,
        .err = err,
    };
    return r;
}

COMMIT_FN(sched_placement, rvm_sched_commit_placement, struct rvm_sched,
          struct rvm_sched_placement_plan)
COMMIT_FN(sched_remove, rvm_sched_commit_remove, struct rvm_sched, struct rvm_sched_remove_plan)
COMMIT_FN(sched_mode, rvm_sched_commit_mode, struct rvm_sched, struct rvm_sched_mode_plan)
COMMIT_FN(sched_degraded, rvm_sched_commit_degraded, struct rvm_sched,
          struct rvm_sched_degraded_plan)
COMMIT_FN(sched_cpu, rvm_sched_commit_cpu, struct rvm_sched, struct rvm_sched_cpu_plan)

enum rvm_err witnessed_sched_set_placement(struct rvm_sched *s, uint32_t actor, rvm_partition_id id,
                                           uint64_t affinity, uint32_t flags)
{
    struct rvm_witness_entry e;
    struct rvm_sched_placement_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_sched_prepare_placement(s, actor, id, affinity, flags, &e, &p);
    return witnessed_commit(s->log, err, &e, sched_refusal(&r, actor, id, &e, err), sched_placement,
                            s, &p);
}

enum rvm_err witnessed_sched_remove(struct rvm_sched *s, uint32_t actor, rvm_partition_id id)
{
    struct rvm_witness_entry e;
    struct rvm_sched_remove_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_sched_prepare_remove(s, actor, id, &e, &p);
    return witnessed_commit(s->log, err, &e, sched_refusal(&r, actor, id, &e, err), sched_remove, s,
                            &p);
}

enum rvm_err witnessed_sched_set_mode(struct rvm_sched *s, uint32_t actor, uint32_t mode)
{
    struct rvm_witness_entry e;
    struct rvm_sched_mode_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_sched_prepare_mode(s, actor, mode, &e, &p);
    return witnessed_commit(s->log, err, &e, sched_refusal(&r, actor, 0, &e, err), sched_mode, s,
                            &p);
}

static enum rvm_err sched_degraded_op(struct rvm_sched *s, uint32_t actor, bool enter,
                                      uint32_t reason)
{
    struct rvm_witness_entry e;
    struct rvm_sched_degraded_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_sched_prepare_degraded(s, actor, enter, reason, &e, &p);
    return witnessed_commit(s->log, err, &e, sched_refusal(&r, actor, 0, &e, err), sched_degraded,
                            s, &p);
}

enum rvm_err witnessed_sched_enter_degraded(struct rvm_sched *s, uint32_t actor, uint32_t reason)
{
    return sched_degraded_op(s, actor, true, reason);
}

enum rvm_err witnessed_sched_exit_degraded(struct rvm_sched *s, uint32_t actor)
{
    return sched_degraded_op(s, actor, false, 0);
}

static enum rvm_err sched_cpu_op(struct rvm_sched *s, uint32_t actor, uint32_t cpu, bool online)
{
    struct rvm_witness_entry e;
    struct rvm_sched_cpu_plan p;
    struct rvm_witness_rejection r;
    enum rvm_err err = rvm_sched_prepare_cpu(s, actor, cpu, online, &e, &p);
    return witnessed_commit(s->log, err, &e, sched_refusal(&r, actor, cpu, &e, err), sched_cpu, s,
                            &p);
}

enum rvm_err witnessed_sched_cpu_online(struct rvm_sched *s, uint32_t actor, uint32_t cpu)
{
    return sched_cpu_op(s, actor, cpu, true);
}

enum rvm_err witnessed_sched_cpu_offline(struct rvm_sched *s, uint32_t actor, uint32_t cpu)
{
    return sched_cpu_op(s, actor, cpu, false);
}

/* ---- VMIDs -------------------------------------------------------------------------------------
 */

COMMIT_FN(vmid_release, rvm_vmid_commit_release, struct rvm_vmid_table,
          struct rvm_vmid_release_plan)

enum rvm_err witnessed_vmid_release(struct rvm_vmid_table *t, uint32_t actor, rvm_partition_id id)
{
    struct rvm_witness_entry e;
    struct rvm_vmid_release_plan p;
    enum rvm_err err = rvm_vmid_prepare_release(t, actor, id, &e, &p);
    const struct rvm_witness_rejection r = {
        .actor = actor,
        .target = id,
        .attempted_kind = RVM_ACT_VMID_RELEASE,
        .stage = RVM_STAGE_DECODE,
        .passed_tier = RVM_PROOF_NONE,
        .cap_hash = 0,
        .err = err,
    };
    return witnessed_commit(t->log, err, err == RVM_OK && p.noop ? NULL : &e, &r, vmid_release, t,
                            &p);
}
