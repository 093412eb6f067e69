/* SPDX-License-Identifier: MIT */
/*
 * Transition invariants, judged around a kernel call: IPC FIFO order and contents against a model
 * of every queue (a full queue drops nothing; merges and splits restamp senders as the kernel
 * does), capability monotonicity and depth, nothing stale or revoked usable, destroy leaves
 * nothing behind, every successful guest access explained by the kernel's own mappings.
 */
#include "target_kernel_internal.h"

#include "rvm/bytes.h"

#include <inttypes.h>
#include <string.h>

/* Payload bytes of a message: a function of (tag, len, seq) so a receive can be checked. */
void kt_fill_payload(uint8_t *buf, uint64_t tag, uint32_t len, uint64_t seq)
{
    uint64_t x = tag * 0x9e3779b97f4a7c15u ^ seq * 0xc2b2ae3d27d4eb4fu ^ len;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9u;
        buf[i] = (uint8_t)(x >> 56);
    }
}

/* false while the model cannot be trusted for this channel */
bool kt_msg_model_sync(struct kt *t, uint32_t slot)
{
    uint32_t g = t->k.chans[slot].used ? t->k.chans[slot].generation : 0;
    if (t->msg_gen[slot] != g || (t->msg_unknown[slot] && t->k.chans[slot].count == 0)) {
        t->msg_gen[slot] = g;
        t->msg_count[slot] = 0;
        t->msg_head[slot] = 0;
        t->msg_unknown[slot] = 0;
    }
    return t->msg_unknown[slot] == 0;
}

void kt_ipc_sent(struct kt *t, uint32_t slot, uint64_t seq, uint32_t len, uint64_t tag)
{
    if (!t->oracles || !kt_msg_model_sync(t, slot)) {
        return;
    }
    uint32_t qd = t->cfg.queue_depth;
    if (t->msg_count[slot] >= qd) {
        rvm_sim_violation(t->sim, "ipc.bounded", "a send succeeded on a channel holding %u of %u",
                          t->msg_count[slot], qd);
        return;
    }
    struct msg_model *m =
        &t->msgs[(size_t)slot * qd + (t->msg_head[slot] + t->msg_count[slot]) % qd];
    m->seq = seq;
    m->len = len;
    m->tag = tag;
    m->sender = t->k.chans[slot].a;
    t->msg_count[slot]++;
}

void kt_ipc_received(struct kt *t, uint32_t slot, const struct rvm_kernel_msg *msg)
{
    if (!t->oracles || !kt_msg_model_sync(t, slot)) {
        return;
    }
    uint32_t qd = t->cfg.queue_depth;
    if (t->msg_count[slot] == 0) {
        rvm_sim_violation(t->sim, "ipc.fifo", "a receive returned a message none was sent for");
        return;
    }
    const struct msg_model *m = &t->msgs[(size_t)slot * qd + t->msg_head[slot]];
    kt_fill_payload(t->payload, m->tag, m->len, m->seq);
    if (msg->seq != m->seq || msg->len != m->len || msg->tag != m->tag ||
        msg->sender != m->sender || memcmp(t->rxbuf, t->payload, m->len) != 0) {
        rvm_sim_violation(t->sim, "ipc.fifo",
                          "received seq %" PRIu64 " len %u tag %" PRIu64 " from %u; expected seq "
                          "%" PRIu64 " len %u tag %" PRIu64 " from %u with its bytes",
                          msg->seq, msg->len, msg->tag, msg->sender, m->seq, m->len, m->tag,
                          m->sender);
        return;
    }
    t->msg_head[slot] = (t->msg_head[slot] + 1u) % qd;
    t->msg_count[slot]--;
}

/* A capability just created: within its parent's rights, one level deeper, depth bounded. */
void kt_check_new_cap(struct kt *t, struct rvm_handle h, const char *what)
{
    const struct rvm_cap_slot *s = rvm_cap_get(&t->k.caps, h);
    if (!t->oracles) {
        return;
    }
    if (s == NULL) {
        rvm_sim_violation(t->sim, "cap.created", "%s reported capability %" PRIx64 " not live",
                          what, P(h));
        return;
    }
    if (s->depth > t->cfg.max_delegation_depth || s->depth > RVM_CAP_MAX_DEPTH) {
        rvm_sim_violation(t->sim, "cap.depth", "%s made a capability of depth %u (limit %u)", what,
                          s->depth, t->cfg.max_delegation_depth);
        return;
    }
    if (s->parent.index == RVM_CAP_NONE) {
        return;
    }
    const struct rvm_cap_slot *par = rvm_cap_get(&t->k.caps, s->parent);
    if (par == NULL || s->depth != par->depth + 1u || (s->rights & ~par->rights) != 0) {
        rvm_sim_violation(t->sim, "cap.monotonicity",
                          "%s made rights 0x%02x depth %u under a parent with 0x%02x depth %u",
                          what, s->rights, s->depth, par != NULL ? par->rights : 0,
                          par != NULL ? par->depth : 0);
    }
}

/* Every object argument of a successful call was live before it (the capability presented as
 * authority only when a partition presented it: the hypervisor's is ignored). */
void kt_check_args_live(struct kt *t, const struct rvm_sim_call *c, const bool *was_live,
                        rvm_partition_id actor)
{
    const struct rvm_sim_op_spec *spec = &kt_ops[c->op];
    for (uint32_t a = 0; a < spec->nargs && t->oracles; a++) {
        const struct rvm_sim_arg_spec *as = &spec->args[a];
        if (as->type != RVM_SIM_ARG_OBJECT || c->args[a] == RVM_SIM_NO_OBJECT || was_live[a]) {
            continue;
        }
        bool authority_arg = (strcmp(as->name, "cap") == 0 && c->op != OP_CAP_ATTENUATE) ||
                             strcmp(as->name, "cap2") == 0 || strcmp(as->name, "authority") == 0;
        if (authority_arg && actor == 0) {
            continue;
        }
        if (strcmp(as->name, "actor") == 0 && c->args[a] == RVM_SIM_PRIVILEGED_OBJECT) {
            continue; /* `actor=hypervisor` names the hypervisor, which is no partition */
        }
        rvm_sim_violation(t->sim, "kernel.stale-accepted",
                          "%s succeeded with %s=0x%" PRIx64 ", which named no live %s", spec->name,
                          as->name, c->args[a], kt_classes[as->cls]);
        return;
    }
}

void kt_check_gone(struct kt *t, rvm_partition_id id, const char *what)
{
    if (!t->oracles) {
        return;
    }
    uint32_t n = 0;
    uint32_t where = rvm_kernel_refs(&t->k, id, &n);
    if (where != 0) {
        rvm_sim_violation(t->sim, "kernel.destroy-leftovers",
                          "%s left %u references to partition %u behind (RVM_KREF bits 0x%x)", what,
                          n, id, where);
    }
}

/* A successful guest access must be one the kernel's own tables allow: a mapped region of the
 * running partition covering the address with the permission, at the host page it says. */
void kt_check_access(struct kt *t, rvm_partition_id part, uint64_t ipa, enum rvm_sim_access kind)
{
    if (!t->oracles) {
        t->ram_all_dirty = kind == RVM_SIM_WRITE || t->ram_all_dirty;
        return;
    }
    const struct rvm_region_table *rt = &t->k.regions;
    uint32_t need = kind == RVM_SIM_WRITE  ? RVM_PERM_W
                    : kind == RVM_SIM_EXEC ? RVM_PERM_X
                                           : RVM_PERM_R;
    for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &rt->slots[i];
        uint64_t size = (uint64_t)r->npages * PAGE;
        if (!r->used || !r->mapped || r->owner != part || ipa < r->ipa || ipa - r->ipa >= size) {
            continue;
        }
        uint64_t hpa = 0;
        if ((r->map_perms & need) == need &&
            rvm_sim_platform_translate(&t->plat, part, ipa, kind, &hpa) == RVM_OK &&
            hpa == r->hpa + (ipa - r->ipa)) {
            if (kind == RVM_SIM_WRITE) {
                kt_note_ram(t, hpa, 1);
            }
            return;
        }
        break;
    }
    t->ram_all_dirty = true; /* the write may have landed anywhere */
    rvm_sim_violation(t->sim, "isolation.guest-access",
                      "partition %u's %s at 0x%" PRIx64 " succeeded but no mapped region of it "
                      "allows that",
                      part,
                      kind == RVM_SIM_WRITE  ? "write"
                      : kind == RVM_SIM_EXEC ? "fetch"
                                             : "read",
                      ipa);
}

/* A merge of b into a restamps b's queued messages with a, a split restamps the source's messages
 * on the channels that move to the child (kernel_restructure.c): so does the model. Read from the
 * PartitionMerge / PartitionSplit records, which the epoch pipeline may write too. */
void kt_model_merges(struct kt *t, uint64_t from)
{
    const struct rvm_witness_log *log = &t->k.log;
    for (uint64_t sq = from; sq < log->appended && sq + log->ring_mask + 1u > log->appended; sq++) {
        const uint8_t *r = log->ring[sq & log->ring_mask];
        if (r[16] != RVM_ACT_PARTITION_MERGE && r[16] != RVM_ACT_PARTITION_SPLIT) {
            continue;
        }
        /* merge: b (payload) into a (target); split: source b (target) gives channels to a */
        bool merge = r[16] == RVM_ACT_PARTITION_MERGE;
        rvm_partition_id a = rvm_load_le32(merge ? r + 24 : r + 36) + 1u;
        rvm_partition_id b = rvm_load_le32(merge ? r + 36 : r + 24) + 1u;
        uint32_t qd = t->cfg.queue_depth;
        for (uint32_t c = 0; c < t->cfg.max_channels; c++) {
            const struct rvm_kchan *ch = &t->k.chans[c];
            if (!merge && !(ch->used && (ch->a == a || ch->b == a))) {
                continue; /* a split restamps only the channels that moved to the child */
            }
            for (uint32_t j = 0; j < t->msg_count[c]; j++) {
                struct msg_model *m = &t->msgs[(size_t)c * qd + (t->msg_head[c] + j) % qd];
                m->sender = m->sender == b ? a : m->sender;
            }
        }
    }
}
