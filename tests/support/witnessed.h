/* SPDX-License-Identifier: MIT */
/*
 * Tests drive one subsystem on its own through the same prepare and commit halves the kernel
 * uses, joined by one rule: "no witness, no mutation". witnessed_commit() takes what the prepare
 * half returned, its record and its plan: a refused prepare appends the refusal record (when one
 * is given) and changes nothing; otherwise the record is appended and only then is the plan
 * committed. If the log cannot take the record, nothing is committed.
 *
 * The witnessed_<subsystem>_<operation>() functions below are that rule applied to each
 * operation (prepare, witnessed_commit, then the handle or count the plan produced), so a test
 * reads as one call per operation. The kernel does not use them: it joins the same halves in its
 * own operation frame (core/src/kernel_impl.h), with its own refusal records.
 */
#ifndef RVM_TESTS_WITNESSED_H
#define RVM_TESTS_WITNESSED_H

#include "rvm/cap.h"
#include "rvm/coherence.h"
#include "rvm/gate.h"
#include "rvm/region.h"
#include "rvm/sched.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

/* Apply a prepared plan to its subsystem's state; cannot fail (everything was validated). */
typedef void (*witnessed_commit_fn)(void *state, const void *plan);

/*
 * prepared != RVM_OK: append `refusal` (if not NULL; the refusal stands even if it cannot be
 * recorded) and return `prepared`. Otherwise append `entry` (NULL: the plan changes nothing
 * that is witnessed) and, only if that succeeded, commit(state, plan).
 */
enum rvm_err witnessed_commit(struct rvm_witness_log *log, enum rvm_err prepared,
                              const struct rvm_witness_entry *entry,
                              const struct rvm_witness_rejection *refusal,
                              witnessed_commit_fn commit, void *state, const void *plan);
/* The same, and `seq_out` (may be NULL) receives the appended record's sequence number. */
enum rvm_err witnessed_commit_seq(struct rvm_witness_log *log, enum rvm_err prepared,
                                  const struct rvm_witness_entry *entry,
                                  const struct rvm_witness_rejection *refusal,
                                  witnessed_commit_fn commit, void *state, const void *plan,
                                  uint64_t *seq_out);

/* ---- the gate (rvm/gate.h): prepare at the log's clock; P1-only requests do not read it ---- */
enum rvm_err witnessed_gate_check(const struct rvm_proof_ctx *ctx, struct rvm_witness_log *log,
                                  const struct rvm_gate_request *req, uint64_t *seq_out);

/* ---- capabilities (rvm/cap.h): the refusal record is the one the prepare half filled in ---- */

/* `out` (may be NULL) receives the new handle. */
enum rvm_err witnessed_cap_mint(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                rvm_partition_id actor, const struct rvm_cap_mint_args *a,
                                struct rvm_handle *out);
enum rvm_err witnessed_cap_grant(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                 rvm_partition_id actor, const struct rvm_cap_derive_args *a,
                                 struct rvm_handle *out);
enum rvm_err witnessed_cap_delegate(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                    rvm_partition_id actor, const struct rvm_cap_derive_args *a,
                                    struct rvm_handle *out);
/* `released` (may be NULL): capabilities released. */
enum rvm_err witnessed_cap_revoke(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                  rvm_partition_id actor, const struct rvm_cap_revoke_args *a,
                                  uint32_t *released);
/* `changed` (may be NULL): capabilities whose rights changed. */
enum rvm_err witnessed_cap_attenuate(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                     rvm_partition_id actor, const struct rvm_cap_attenuate_args *a,
                                     uint32_t *changed);
enum rvm_err witnessed_cap_epoch_advance(struct rvm_cap_table *t, struct rvm_witness_log *log);
enum rvm_err witnessed_cap_epoch_revoke(struct rvm_cap_table *t, struct rvm_witness_log *log,
                                        uint32_t epoch, uint32_t *released);

/*
 * ---- regions (rvm/region.h) ----
 * A refusal is recorded as the region table's own: stage DECODE for malformed or unknown input
 * (INVALID_ARGUMENT, OUT_OF_RANGE, ALIGNMENT, OVERFLOW, NOT_FOUND, STALE), PRECONDITION otherwise;
 * none when the log is full. Map and unmap change the platform's tables too: a record is reserved
 * first, a platform refusal is recorded and changes nothing.
 */
enum rvm_err witnessed_region_create(struct rvm_region_table *rt, uint32_t actor,
                                     const struct rvm_region_create_req *req,
                                     struct rvm_handle *out);
enum rvm_err witnessed_region_destroy(struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h);
enum rvm_err witnessed_region_map(struct rvm_region_table *rt, uint32_t actor, struct rvm_handle h,
                                  rvm_ipa_t ipa, uint32_t perms);
enum rvm_err witnessed_region_unmap(struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle h);
enum rvm_err witnessed_region_share(struct rvm_region_table *rt, uint32_t actor,
                                    struct rvm_handle source, rvm_partition_id borrower,
                                    uint32_t perms, struct rvm_handle *out);
enum rvm_err witnessed_region_unshare(struct rvm_region_table *rt, uint32_t actor,
                                      struct rvm_handle h);
enum rvm_err witnessed_region_transfer(struct rvm_region_table *rt, uint32_t actor,
                                       struct rvm_handle h, rvm_partition_id to);
/* A tier move; a refusal names RegionPromote when `target` is a hotter tier, else RegionDemote. */
enum rvm_err witnessed_region_move(struct rvm_region_table *rt, uint32_t actor, struct rvm_handle h,
                                   uint32_t target, struct rvm_region_tier_io *io);

/*
 * ---- the coherence engine (rvm/coherence.h) ----
 * Graph mutations are recorded with `actor` as the actor. A refusal's stage: DECODE for
 * INVALID_ARGUMENT, NOT_FOUND, EXISTS and OUT_OF_RANGE, P2 for COHERENCE_PROOF, PRECONDITION
 * otherwise; split and merge check their P2 proof right after decoding, so a precondition refusal
 * of theirs has passed P2 and carries the request's cap_hash.
 */
enum rvm_err witnessed_coherence_add_partition(struct rvm_coherence *c, struct rvm_witness_log *log,
                                               uint32_t actor, rvm_partition_id id);
enum rvm_err witnessed_coherence_remove_partition(struct rvm_coherence *c,
                                                  struct rvm_witness_log *log, uint32_t actor,
                                                  rvm_partition_id id);
enum rvm_err witnessed_coherence_record_ipc(struct rvm_coherence *c, struct rvm_witness_log *log,
                                            uint32_t actor, rvm_partition_id from,
                                            rvm_partition_id to, uint64_t weight);
enum rvm_err witnessed_coherence_split(struct rvm_coherence *c, struct rvm_witness_log *log,
                                       uint32_t actor,
                                       const struct rvm_coherence_split_request *req);
enum rvm_err witnessed_coherence_merge(struct rvm_coherence *c, struct rvm_witness_log *log,
                                       uint32_t actor,
                                       const struct rvm_coherence_merge_request *req);

/*
 * ---- the scheduler's administrative operations (rvm/sched.h) ----
 * A refusal names the kind the prepare half put in the entry; stage DECODE for OUT_OF_RANGE and
 * INVALID_ARGUMENT, PRECONDITION otherwise. Target: the partition (placement, remove), the CPU
 * (online, offline) or 0 (mode, degraded mode).
 */
enum rvm_err witnessed_sched_set_placement(struct rvm_sched *s, uint32_t actor, rvm_partition_id id,
                                           uint64_t affinity, uint32_t flags);
enum rvm_err witnessed_sched_remove(struct rvm_sched *s, uint32_t actor, rvm_partition_id id);
enum rvm_err witnessed_sched_set_mode(struct rvm_sched *s, uint32_t actor, uint32_t mode);
enum rvm_err witnessed_sched_enter_degraded(struct rvm_sched *s, uint32_t actor, uint32_t reason);
enum rvm_err witnessed_sched_exit_degraded(struct rvm_sched *s, uint32_t actor);
enum rvm_err witnessed_sched_cpu_online(struct rvm_sched *s, uint32_t actor, uint32_t cpu);
enum rvm_err witnessed_sched_cpu_offline(struct rvm_sched *s, uint32_t actor, uint32_t cpu);

/*
 * ---- VMIDs (rvm/vmid.h) ----
 * Release a partition's VMID binding. A refusal is recorded at stage DECODE; releasing a partition
 * that holds no VMID commits without a record.
 */
enum rvm_err witnessed_vmid_release(struct rvm_vmid_table *t, uint32_t actor, rvm_partition_id id);

#endif /* RVM_TESTS_WITNESSED_H */
