/* SPDX-License-Identifier: MIT */
/*
 * The security gate. Pipeline and records: rvm/gate.h.
 */
#include "rvm/gate.h"

#include "rvm/action.h"
#include "rvm/bytes.h"

/* Action kinds a success record may carry: every listed kind except the rejection record. */
#define GATE_KIND_(name, code, display) [code] = (code) != RVM_ACT_PROOF_REJECTED,
static const uint8_t gate_known_kind[256] = {RVM_ACTION_LIST(GATE_KIND_)};
#undef GATE_KIND_

/* Fill the rejection record (only on the refusal path, to keep the passing path short). */
static enum rvm_err refuse(struct rvm_witness_rejection *rej, const struct rvm_gate_request *req,
                           enum rvm_reject_stage stage, enum rvm_proof_tier passed,
                           uint32_t cap_hash, enum rvm_err err)
{
    rej->actor = req->actor;
    rej->target = rvm_handle_pack(req->object);
    rej->attempted_kind = req->action;
    rej->stage = (uint8_t)stage;
    rej->passed_tier = (uint8_t)passed;
    rej->cap_hash = cap_hash;
    rej->err = err;
    return err;
}

static enum rvm_err decode(const struct rvm_proof_ctx *ctx, const struct rvm_gate_request *req)
{
    if (req->tier < RVM_PROOF_P1 || req->tier > RVM_PROOF_P3 || gate_known_kind[req->action] == 0 ||
        req->cap_type >= RVM_CAP_TYPE_COUNT || (req->rights & ~RVM_CAP_RIGHTS_ALL) != 0 ||
        (req->options & ~RVM_GATE_SIGNED) != 0 ||
        ((req->options & RVM_GATE_SIGNED) != 0 && req->tier != RVM_PROOF_P3)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (req->tier >= RVM_PROOF_P2 && req->p2.nonce_domain >= ctx->nonces->count) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if ((req->options & RVM_GATE_SIGNED) != 0 && ctx->caps->mac_key_len == 0) {
        return RVM_ERR_UNSUPPORTED;
    }
    return RVM_OK;
}

/* Inlined into both entry points: the gate is on every privileged operation's path. */
static inline __attribute__((always_inline)) enum rvm_err
prepare(const struct rvm_proof_ctx *ctx, const struct rvm_gate_request *req, uint64_t now_ns,
        struct rvm_witness_entry *entry, struct rvm_gate_plan *plan,
        struct rvm_witness_rejection *rej)
{
    const struct rvm_cap_table *t = ctx->caps;
    enum rvm_err err = decode(ctx, req);
    if (err != RVM_OK) {
        return refuse(rej, req, RVM_STAGE_DECODE, RVM_PROOF_NONE, 0, err);
    }

    if (!rvm_proof_p1_pass_inline(t, req->actor, req->cap, req->cap_type, req->rights,
                                  req->object)) {
        const struct rvm_cap_slot *s = rvm_cap_get(t, req->cap);
        return refuse(
            rej, req, RVM_STAGE_P1, RVM_PROOF_NONE, s != NULL ? s->cap_hash : 0,
            rvm_proof_p1_reason(t, req->actor, req->cap, req->cap_type, req->rights, req->object));
    }
    /* P1 passed: the handle names this live slot, held by the actor. */
    const struct rvm_cap_slot *slot = &t->slots[req->cap.index];
    const uint32_t cap_hash = slot->cap_hash;

    plan->consume_nonce = false;
    if (req->tier >= RVM_PROOF_P2) {
        struct rvm_object_info info;
        const bool live = ctx->lookup(ctx->lookup_ctx, slot->type, slot->object, &info);
        err = rvm_proof_p2_rules_inline(ctx, slot, true, live ? &info : NULL, &req->p2, now_ns,
                                        &plan->nonce);
        if (err != RVM_OK) {
            return refuse(rej, req, RVM_STAGE_P2, RVM_PROOF_P1, cap_hash, err);
        }
        plan->consume_nonce = true;
    }
    if (req->tier == RVM_PROOF_P3) {
        err = (req->options & RVM_GATE_SIGNED) != 0 ? rvm_proof_p3_signed(t, req->cap)
                                                    : rvm_proof_p3(t, req->cap);
        if (err != RVM_OK) {
            return refuse(rej, req, RVM_STAGE_P3, RVM_PROOF_P2, cap_hash, err);
        }
    }

    entry->kind = req->action;
    entry->proof_tier = req->tier;
    entry->flags = req->record_flags;
    entry->actor = req->actor;
    entry->target = rvm_handle_pack(req->object);
    entry->cap_hash = cap_hash;
    entry->payload = req->payload;
    entry->aux = req->aux;
    return RVM_OK;
}

enum rvm_err rvm_gate_prepare(const struct rvm_proof_ctx *ctx, const struct rvm_gate_request *req,
                              uint64_t now_ns, struct rvm_witness_entry *entry,
                              struct rvm_gate_plan *plan, struct rvm_witness_rejection *rej)
{
    return prepare(ctx, req, now_ns, entry, plan, rej);
}

void rvm_gate_commit(const struct rvm_proof_ctx *ctx, const struct rvm_gate_plan *plan)
{
    if (plan->consume_nonce) {
        rvm_proof_nonce_mark(ctx->nonces, plan->nonce.nonce_domain, plan->nonce.nonce);
    }
}
