/* SPDX-License-Identifier: MIT */
/*
 * The security gate: decode -> P1 -> P2 -> P3 (if required) -> witness -> apply.
 *
 * rvm_gate_prepare() runs the checks and, when they pass, fills the witness entry of the
 * operation and a plan; it changes nothing. The caller appends the entry and then calls
 * rvm_gate_commit() (which consumes the P2 nonce) together with its own subsystem's commit, so a
 * nonce is spent exactly when the operation is witnessed.
 *
 * Records. On success the gate emits ONE record of the requested operation's kind (req->action):
 * proof_tier = the tier required and passed, actor, target = req->object (packed), cap_hash = the
 * presented capability's identity hash, and flags / payload / aux from the request. A caller that
 * only wants a proof verified (no operation) asks for RVM_ACT_PROOF_VERIFIED_P1/P2/P3. A refusal
 * is one RVM_ACT_PROOF_REJECTED record (rvm_witness_reject) with the failing stage, the error,
 * the attempted kind, the highest tier passed and the capability's hash when the handle resolved.
 *
 * The gate has no state of its own: it works on a struct rvm_proof_ctx (caps, nonces, lookup).
 */
#ifndef RVM_GATE_H
#define RVM_GATE_H

#include "rvm/proof.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_GATE_SIGNED 0x01u /* at P3, also verify the link MACs (rvm_proof_p3_signed) */

struct rvm_gate_request {
    rvm_partition_id actor;
    uint8_t action;              /* enum rvm_action: kind of the success record */
    uint8_t tier;                /* required proof tier: RVM_PROOF_P1, _P2 or _P3 */
    uint8_t cap_type;            /* required capability type */
    uint8_t rights;              /* required rights */
    uint8_t options;             /* RVM_GATE_SIGNED */
    struct rvm_handle cap;       /* the capability presented */
    struct rvm_handle object;    /* the object the operation acts on */
    struct rvm_proof_p2_args p2; /* tier >= 2 */
    uint8_t record_flags;        /* copied into the success record */
    uint64_t payload;
    uint64_t aux;
};

struct rvm_gate_plan {
    bool consume_nonce;
    struct rvm_proof_p2_plan nonce;
};

/*
 * Stages and their errors:
 *   DECODE  INVALID_ARGUMENT: tier not 1..3, unknown action or PROOF_REJECTED, cap_type >= 9,
 *           rights or options with undefined bits, RVM_GATE_SIGNED below tier 3;
 *           OUT_OF_RANGE: nonce domain (tier >= 2); UNSUPPORTED: signed without a MAC key
 *   P1      OUT_OF_RANGE, CAP_STALE, CAP_HOLDER, CAP_TYPE, CAP_OBJECT, CAP_RIGHTS
 *   P2      STALE, PROOF_OWNER, PROOF_BOUNDS, PROOF_LEASE, PROOF_DEPTH, PROOF_NONCE,
 *           PROOF_NONCE_STALE, PROOF_TIME
 *   P3      PROOF_CHAIN, PROOF_SIGNATURE
 * On failure `rej` is ready for rvm_witness_reject(); on success `entry` and `plan` are filled.
 */
enum rvm_err rvm_gate_prepare(const struct rvm_proof_ctx *ctx, const struct rvm_gate_request *req,
                              uint64_t now_ns, struct rvm_witness_entry *entry,
                              struct rvm_gate_plan *plan, struct rvm_witness_rejection *rej);

/* Apply a passed gate (after its record was appended): consume the P2 nonce. Cannot fail. */
void rvm_gate_commit(const struct rvm_proof_ctx *ctx, const struct rvm_gate_plan *plan);

#endif /* RVM_GATE_H */
