/* SPDX-License-Identifier: MIT */
#include "witnessed.h"

#include <stddef.h>

enum rvm_err witnessed_commit(struct rvm_witness_log *log, enum rvm_err prepared,
                              const struct rvm_witness_entry *entry,
                              const struct rvm_witness_rejection *refusal,
                              witnessed_commit_fn commit, void *state, const void *plan)
{
    if (prepared != RVM_OK) {
        if (refusal != NULL) {
            (void)rvm_witness_reject(log, refusal);
        }
        return prepared;
    }
    if (entry != NULL) {
        enum rvm_err err = rvm_witness_append(log, entry, NULL);
        if (err != RVM_OK) {
            return err;
        }
    }
    commit(state, plan);
    return RVM_OK;
}

/* A commit half as a witnessed_commit_fn. */
#define COMMIT_FN(name, commit_half, state_type, plan_type)                                        \
    static void name(void *state, const void *plan)                                                \
    {                                                                                              \
        commit_half((state_type *)state, (const plan_type *)plan);                                 \
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
