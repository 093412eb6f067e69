/* SPDX-License-Identifier: MIT */
/*
 * Coverage probes of the kernel target (`rvmsim sweep --coverage`): the paths a sweep should
 * reach, named. Each is derived from what the simulator already sees, never from inside the core:
 * the result of a kernel call (kt_invoke), of an operation (kt_apply), or a witness record the
 * sink received. A run's hits are a bit set (probe i: bit i).
 */
#include "target_kernel_internal.h"

#include "rvm/action.h"

enum probe_source {
    BY_RESULT, /* a kernel call on `entry` (KT_NO_CALL: any) returned `code` */
    BY_RECORD, /* a record of kind `code` reached the sink */
    BY_TARGET, /* decided in this file from an operation's arguments and result */
};

struct probe_rule {
    uint8_t source;
    uint8_t entry; /* enum kt_entry */
    uint16_t code; /* enum rvm_err or enum rvm_action_kind */
};

enum {
    PR_CAP_REVOKE_SUBTREE,
    PR_CAP_REVOKE_REUSED,
    PR_CAP_CONSUMED,
    PR_CAP_DEPTH,
    PR_CAP_ESCALATION,
    PR_CAP_EPOCH_REVOKE,
    PR_PROOF_NONCE_REPLAY,
    PR_PROOF_NONCE_STALE,
    PR_PROOF_REJECTED,
    PR_VMID_RECLAIM,
    PR_VMID_ROLLOVER,
    PR_WITNESS_FULL,
    PR_SPLIT,
    PR_SPLIT_COOLDOWN,
    PR_SPLIT_NOT_JUSTIFIED,
    PR_SPLIT_LIMIT,
    PR_MERGE,
    PR_MERGE_NO_CHANNEL,
    PR_MERGE_LEASE,
    PR_MERGE_REGION_OVERLAP,
    PR_MERGE_CAP_INTERSECTION,
    PR_MERGE_COHERENCE_LOW,
    PR_MERGE_CUT_STALE,
    PR_MINCUT_OVER_BUDGET,
    PR_DEGRADED_ENTER,
    PR_DEGRADED_EXIT,
    PR_F1_RESTART,
    PR_F2_RECONSTRUCT,
    PR_F3_ROLLBACK,
    PR_F4_CORE_RESTART,
    PR_RECOVERY_ENTER,
    PR_HIBERNATE,
    PR_RECONSTRUCT,
    PR_RECONSTRUCT_CORRUPT,
    PR_NO_MEMORY,
    PR_BUDDY_HOSTILE_FREE,
    PR_IPC_QUEUE_FULL,
    PR_IPC_EMPTY,
    PR_LEASE_EXPIRE,
    PR_LEASE_CONFLICT,
    PR_NOTIFICATION,
    PR_BAD_HYPERCALL,
    PR_GUEST_FAULT,
    NPROBES
};

_Static_assert(NPROBES <= RVM_SIM_MAX_PROBES, "probes fit a run's bit set");
_Static_assert(NPROBES == KT_NPROBES, "the table's size in target_kernel_internal.h");

#define RESULT(e, c)                                                                               \
    {                                                                                              \
        BY_RESULT, (e), (c)                                                                        \
    }
#define RECORD(k)                                                                                  \
    {                                                                                              \
        BY_RECORD, KT_NO_CALL, (k)                                                                 \
    }
#define TARGET                                                                                     \
    {                                                                                              \
        BY_TARGET, KT_NO_CALL, 0                                                                   \
    }

static const struct probe_rule rules[NPROBES] = {
    [PR_CAP_REVOKE_SUBTREE] = TARGET,
    [PR_CAP_REVOKE_REUSED] = TARGET,
    [PR_CAP_CONSUMED] = RESULT(KT_NO_CALL, RVM_ERR_CAP_CONSUMED),
    [PR_CAP_DEPTH] = RESULT(KT_NO_CALL, RVM_ERR_CAP_DEPTH),
    [PR_CAP_ESCALATION] = RESULT(KT_NO_CALL, RVM_ERR_CAP_ESCALATION),
    [PR_CAP_EPOCH_REVOKE] = RECORD(RVM_ACT_CAP_EPOCH_REVOKE),
    [PR_PROOF_NONCE_REPLAY] = RESULT(KT_NO_CALL, RVM_ERR_PROOF_NONCE),
    [PR_PROOF_NONCE_STALE] = RESULT(KT_NO_CALL, RVM_ERR_PROOF_NONCE_STALE),
    [PR_PROOF_REJECTED] = RECORD(RVM_ACT_PROOF_REJECTED),
    [PR_VMID_RECLAIM] = RECORD(RVM_ACT_VMID_RECLAIM),
    [PR_VMID_ROLLOVER] = RECORD(RVM_ACT_VMID_ROLLOVER),
    [PR_WITNESS_FULL] = RESULT(KT_NO_CALL, RVM_ERR_WITNESS_FULL),
    [PR_SPLIT] = RECORD(RVM_ACT_PARTITION_SPLIT),
    [PR_SPLIT_COOLDOWN] = RESULT(KT_PARTITION_SPLIT, RVM_ERR_COHERENCE_HOLD),
    [PR_SPLIT_NOT_JUSTIFIED] = RESULT(KT_PARTITION_SPLIT, RVM_ERR_SPLIT_NOT_JUSTIFIED),
    [PR_SPLIT_LIMIT] = RESULT(KT_PARTITION_SPLIT, RVM_ERR_SPLIT_LIMIT),
    [PR_MERGE] = RECORD(RVM_ACT_PARTITION_MERGE),
    [PR_MERGE_NO_CHANNEL] = RESULT(KT_PARTITION_MERGE, RVM_ERR_MERGE_NO_CHANNEL),
    [PR_MERGE_LEASE] = RESULT(KT_PARTITION_MERGE, RVM_ERR_MERGE_LEASE_CONFLICT),
    [PR_MERGE_REGION_OVERLAP] = RESULT(KT_PARTITION_MERGE, RVM_ERR_MERGE_REGION_OVERLAP),
    [PR_MERGE_CAP_INTERSECTION] = RESULT(KT_PARTITION_MERGE, RVM_ERR_MERGE_CAP_INTERSECTION),
    [PR_MERGE_COHERENCE_LOW] = RESULT(KT_PARTITION_MERGE, RVM_ERR_COHERENCE_LOW),
    [PR_MERGE_CUT_STALE] = RESULT(KT_PARTITION_MERGE, RVM_ERR_CUT_STALE),
    [PR_MINCUT_OVER_BUDGET] = RECORD(RVM_ACT_MINCUT_BUDGET_EXCEEDED),
    [PR_DEGRADED_ENTER] = RECORD(RVM_ACT_DEGRADED_ENTER),
    [PR_DEGRADED_EXIT] = RECORD(RVM_ACT_DEGRADED_EXIT),
    [PR_F1_RESTART] = RECORD(RVM_ACT_FAILURE_RESTART),
    [PR_F2_RECONSTRUCT] = RECORD(RVM_ACT_FAILURE_RECONSTRUCT),
    [PR_F3_ROLLBACK] = RECORD(RVM_ACT_FAILURE_ROLLBACK),
    [PR_F4_CORE_RESTART] = RECORD(RVM_ACT_FAILURE_CORE_RESTART),
    [PR_RECOVERY_ENTER] = TARGET,
    [PR_HIBERNATE] = RECORD(RVM_ACT_PARTITION_HIBERNATE),
    [PR_RECONSTRUCT] = RECORD(RVM_ACT_PARTITION_RECONSTRUCT),
    [PR_RECONSTRUCT_CORRUPT] = RESULT(KT_PARTITION_RECONSTRUCT, RVM_ERR_CORRUPT),
    [PR_NO_MEMORY] = RESULT(KT_NO_CALL, RVM_ERR_NO_MEMORY),
    [PR_BUDDY_HOSTILE_FREE] = TARGET,
    [PR_IPC_QUEUE_FULL] = RESULT(KT_IPC_SEND, RVM_ERR_OVERLOAD),
    [PR_IPC_EMPTY] = RESULT(KT_IPC_RECEIVE, RVM_ERR_EMPTY),
    [PR_LEASE_EXPIRE] = RECORD(RVM_ACT_DEVICE_LEASE_EXPIRE),
    [PR_LEASE_CONFLICT] = RESULT(KT_NO_CALL, RVM_ERR_LEASE_CONFLICT),
    [PR_NOTIFICATION] = RECORD(RVM_ACT_NOTIFICATION_SIGNAL),
    [PR_BAD_HYPERCALL] = RESULT(KT_HYPERCALL, RVM_ERR_BAD_HYPERCALL),
    [PR_GUEST_FAULT] = RESULT(KT_GUEST_FAULT, RVM_OK),
};

/*
 * Rare: measured in at most 1 of 10,000 seeds of scenarios/kernel-smoke.scn (swarm), and out of
 * a random workload's reach by construction: a delegation chain 8 deep, as many splits as the
 * split limit, the DC-11 checks that come after "a channel joins them" and "the cut is fresh"
 * (random pairs rarely qualify), a VMID generation wrapping (2^32 changes of owner).
 */
#define PROBE(n, s)                                                                                \
    {                                                                                              \
        n, s, false                                                                                \
    }
#define RARE(n, s)                                                                                 \
    {                                                                                              \
        n, s, true                                                                                 \
    }

const struct rvm_sim_probe kt_probes[KT_NPROBES] = {
    [PR_CAP_REVOKE_SUBTREE] =
        PROBE("cap.revoke-subtree", "a revoke released 2 or more capabilities"),
    [PR_CAP_REVOKE_REUSED] = PROBE("cap.revoke-reused-slot",
                                   "a revoke naming a capability whose slot now holds another was "
                                   "refused"),
    [PR_CAP_CONSUMED] =
        PROBE("cap.grant-once-consumed", "a second grant through GRANT_ONCE refused"),
    [PR_CAP_DEPTH] = RARE("cap.depth-limit", "a delegation past the depth limit refused"),
    [PR_CAP_ESCALATION] = PROBE("cap.escalation", "a grant of rights the source lacks refused"),
    [PR_CAP_EPOCH_REVOKE] = PROBE("cap.epoch-revoke", "an epoch revoke"),
    [PR_PROOF_NONCE_REPLAY] = PROBE("proof.nonce-replay", "a nonce used twice refused"),
    [PR_PROOF_NONCE_STALE] = PROBE("proof.nonce-window-edge", "a nonce below the window refused"),
    [PR_PROOF_REJECTED] = PROBE("proof.rejected", "a proof rejected (witnessed)"),
    [PR_VMID_RECLAIM] = PROBE("vmid.reclaim", "a VMID taken from an idle partition"),
    [PR_VMID_ROLLOVER] = RARE("vmid.generation-rollover", "a VMID slot's generation wrapped"),
    [PR_WITNESS_FULL] = PROBE("witness.ring-full", "a call refused: ring full, sink stalled"),
    [PR_SPLIT] = PROBE("split.done", "a partition split"),
    [PR_SPLIT_COOLDOWN] = PROBE("split.refused-cooldown", "a split refused by the cooldown"),
    [PR_SPLIT_NOT_JUSTIFIED] =
        PROBE("split.refused-not-justified", "a split the cut does not justify refused"),
    [PR_SPLIT_LIMIT] = RARE("split.refused-limit", "a split past the split limit refused"),
    [PR_MERGE] = PROBE("merge.done", "two partitions merged"),
    [PR_MERGE_NO_CHANNEL] = PROBE("merge.refused-no-channel", "DC-11: no channel between them"),
    [PR_MERGE_LEASE] = PROBE("merge.refused-lease", "DC-11: conflicting device leases"),
    [PR_MERGE_REGION_OVERLAP] =
        RARE("merge.refused-region-overlap", "DC-11: overlapping guest ranges"),
    [PR_MERGE_CAP_INTERSECTION] =
        RARE("merge.refused-cap-intersection", "DC-11: capabilities on each other"),
    [PR_MERGE_COHERENCE_LOW] =
        PROBE("merge.refused-coherence-low", "DC-11: coherence below the merge threshold"),
    [PR_MERGE_CUT_STALE] = RARE("merge.refused-cut-stale", "DC-11: the cut is too old"),
    [PR_MINCUT_OVER_BUDGET] = PROBE("mincut.over-budget", "a min-cut ran out of budget"),
    [PR_DEGRADED_ENTER] = PROBE("coherence.degraded-enter", "degraded mode entered"),
    [PR_DEGRADED_EXIT] = PROBE("coherence.degraded-exit", "degraded mode left"),
    [PR_F1_RESTART] = PROBE("failure.f1-restart", "F1: a failed partition restarted"),
    [PR_F2_RECONSTRUCT] = PROBE("failure.f2-reconstruct", "F2: reconstructed from its checkpoint"),
    [PR_F3_ROLLBACK] = PROBE("failure.f3-rollback", "F3: rolled back"),
    [PR_F4_CORE_RESTART] = PROBE("failure.f4-core-restart", "F4: the core restarted"),
    [PR_RECOVERY_ENTER] = PROBE("recovery.mode", "the scheduler in Recovery mode after a call"),
    [PR_HIBERNATE] = PROBE("partition.hibernate", "a partition hibernated"),
    [PR_RECONSTRUCT] = PROBE("partition.reconstruct", "a hibernated partition reconstructed"),
    [PR_RECONSTRUCT_CORRUPT] =
        PROBE("partition.reconstruct-corrupt", "a reconstruction from a damaged image refused"),
    [PR_NO_MEMORY] = PROBE("memory.exhausted", "an allocation found no memory"),
    [PR_BUDDY_HOSTILE_FREE] = PROBE("buddy.hostile-free-refused", "a hostile free refused"),
    [PR_IPC_QUEUE_FULL] = PROBE("ipc.queue-full", "a send to a full queue refused"),
    [PR_IPC_EMPTY] = PROBE("ipc.empty", "a receive from an empty queue"),
    [PR_LEASE_EXPIRE] = PROBE("lease.expire", "a device lease expired"),
    [PR_LEASE_CONFLICT] = PROBE("lease.conflict", "a lease of a leased device refused"),
    [PR_NOTIFICATION] = PROBE("device.notification", "a device interrupt delivered"),
    [PR_BAD_HYPERCALL] = PROBE("hypercall.bad", "a malformed hypercall refused"),
    [PR_GUEST_FAULT] = PROBE("guest.fault", "a guest's stray access handled as a fault"),
};

static void hit(struct kt *t, uint32_t probe)
{
    t->probe_bits |= (uint64_t)1 << probe;
}

void kt_probe_call(struct kt *t, uint32_t entry, enum rvm_err err)
{
    if (t->k.sched.mode == RVM_SCHED_RECOVERY) {
        hit(t, PR_RECOVERY_ENTER);
    }
    const uint16_t code = (uint16_t)err;
    for (uint32_t i = 0; i < NPROBES; i++) { /* bound: the probes */
        const struct probe_rule *r = &rules[i];
        /* the code first: it rules out almost every rule at once */
        if (r->code == code && r->source == BY_RESULT &&
            (r->entry == KT_NO_CALL || r->entry == entry)) {
            hit(t, i);
        }
    }
}

void kt_probe_op(struct kt *t, const struct rvm_sim_call *c, const bool *was_live, enum rvm_err err)
{
    if (c->op == OP_BUDDY_FREE && err != RVM_OK && err != RVM_ERR_INVALID_ARGUMENT &&
        err != RVM_ERR_STALE) {
        hit(t, PR_BUDDY_HOSTILE_FREE);
    }
    if (c->op != OP_CAP_REVOKE) {
        return;
    }
    if (err == RVM_OK && t->last_released >= 2u) {
        hit(t, PR_CAP_REVOKE_SUBTREE);
    }
    for (uint32_t a = CAP_REVOKE_AUTHORITY; a <= CAP_REVOKE_TARGET; a++) {
        const uint64_t h = c->args[a];
        if (err != RVM_OK && !was_live[a] && h != RVM_SIM_NO_OBJECT &&
            h != RVM_SIM_UNBOUND_OBJECT && H(h).index < t->nslots[CLS_CAP] &&
            kt_slot_any_gen(t, CLS_CAP, H(h).index) != H(h).generation &&
            (kt_slot_any_gen(t, CLS_CAP, H(h).index) & 1u) != 0) {
            hit(t, PR_CAP_REVOKE_REUSED); /* its slot holds a later capability now */
        }
    }
}

uint64_t kt_probes_hit(void *inst, const uint8_t *records, uint64_t count)
{
    struct kt *t = inst;
    uint64_t bits = t->probe_bits;
    bool kind_seen[256] = {false};
    for (uint64_t i = 0; i < count; i++) { /* bound: the records */
        struct rvm_witness_record rec;
        if (rvm_witness_decode(records + i * RVM_WITNESS_RECORD_BYTES, &rec)) {
            kind_seen[rec.kind] = true;
        }
    }
    for (uint32_t i = 0; i < NPROBES; i++) { /* bound: the probes */
        if (rules[i].source == BY_RECORD && kind_seen[rules[i].code & 0xffu]) {
            bits |= (uint64_t)1 << i;
        }
    }
    return bits;
}
