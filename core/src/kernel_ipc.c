/* SPDX-License-Identifier: MIT */
/*
 * IPC over CommEdges: bounded per-channel FIFOs in the kernel's storage. The kernel, never the
 * caller, stamps the sender and the sequence number; only the channel's endpoints may send
 * (the sender endpoint, WRITE) and receive (the receiver endpoint, READ); a full queue refuses the
 * message with OVERLOAD and drops nothing; every message adds weight 1 to the coherence graph
 * between the endpoints (a self-channel adds internal weight).
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define SEND_RIGHTS ((uint8_t)(RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT | RVM_CAP_REVOKE))
#define RECV_RIGHTS ((uint8_t)RVM_CAP_READ)

static struct rvm_kmsg *msg_at(struct rvm_kernel *k, uint32_t ch, uint32_t i)
{
    return &k->msgs[(size_t)ch * k->cfg.queue_depth + i];
}

static uint8_t *data_at(struct rvm_kernel *k, uint32_t ch, uint32_t i)
{
    return k->msg_data + ((size_t)ch * k->cfg.queue_depth + i) * k->cfg.msg_bytes;
}

static enum rvm_err chan_target(struct rvm_kop *op, struct rvm_handle ch, uint32_t *slot)
{
    enum rvm_err err = rvm_kernel__chan_find(op->k, ch, slot);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, err);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_channel_create(struct rvm_kernel *k, rvm_partition_id actor,
                                       const struct rvm_kernel_auth *auth, struct rvm_handle sender,
                                       struct rvm_handle receiver, struct rvm_handle *out,
                                       struct rvm_handle *send_cap, struct rvm_handle *recv_cap)
{
    struct rvm_kop op;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_COMM_EDGE_CREATE, 0);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t a;
    uint32_t b;
    err = rvm_kernel__part_find(k, sender, &a);
    if (err == RVM_OK) {
        err = rvm_kernel__part_find(k, receiver, &b);
    }
    if (err == RVM_OK && actor != RVM_PARTITION_HYPERVISOR && a + 1u != actor) {
        err = RVM_ERR_PERMISSION; /* a partition opens channels from itself */
    }
    if (err != RVM_OK) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
    }
    err =
        rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_PARTITION, RVM_CAP_WRITE, receiver);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t slot = RVM_KERNEL_NONE;
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        if (!k->chans[i].used && k->chans[i].generation != UINT32_MAX) {
            slot = i;
            break;
        }
    }
    if (slot == RVM_KERNEL_NONE) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NO_SPACE);
    }
    if (!rvm_kernel__caps_free(k, 2)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_CAP_TABLE_FULL);
    }
    struct rvm_kchan *ch = &k->chans[slot];
    const struct rvm_handle h = {slot, ch->generation};
    const struct rvm_handle root = rvm_kernel__next_cap(k);
    op.target = rvm_handle_pack(h);
    err = rvm_kernel__append(&op, 0, (uint64_t)(a + 1u) | (uint64_t)(b + 1u) << 32,
                             rvm_handle_pack(root));
    if (err != RVM_OK) {
        return err;
    }
    ch->used = 1;
    ch->a = a + 1u;
    ch->b = b + 1u;
    ch->head = 0;
    ch->count = 0;
    ch->next_seq = 1;
    ch->sent = 0;
    ch->received = 0;
    const struct rvm_handle sc =
        rvm_kernel__mint(k, RVM_CAP_TYPE_COMM_EDGE, SEND_RIGHTS, a + 1u, h);
    const struct rvm_handle rc = rvm_kernel__derive(k, sc, RECV_RIGHTS, b + 1u);
    if (out != NULL) {
        *out = h;
    }
    if (send_cap != NULL) {
        *send_cap = sc;
    }
    if (recv_cap != NULL) {
        *recv_cap = rc;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_channel_destroy(struct rvm_kernel *k, rvm_partition_id actor,
                                        const struct rvm_kernel_auth *auth, struct rvm_handle ch)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err =
        rvm_kernel__begin(&op, k, actor, RVM_ACT_COMM_EDGE_DESTROY, rvm_handle_pack(ch));
    if (err == RVM_OK) {
        err = chan_target(&op, ch, &slot);
    }
    if (err == RVM_OK) {
        err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_COMM_EDGE, RVM_CAP_REVOKE, ch);
    }
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kchan *c = &k->chans[slot];
    err = rvm_kernel__append(&op, 0, c->count, 0);
    if (err != RVM_OK) {
        return err;
    }
    (void)rvm_kernel__revoke_object(k, RVM_CAP_TYPE_COMM_EDGE, ch);
    rvm_memset(msg_at(k, slot, 0), 0, (size_t)k->cfg.queue_depth * sizeof(struct rvm_kmsg));
    rvm_memset(data_at(k, slot, 0), 0, (size_t)k->cfg.queue_depth * k->cfg.msg_bytes);
    const uint32_t generation = rvm_kernel__next_generation(c->generation);
    rvm_memset(c, 0, sizeof(*c));
    c->generation = generation;
    return RVM_OK;
}

enum rvm_err rvm_kernel_ipc_send(struct rvm_kernel *k, rvm_partition_id actor,
                                 const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                 const void *data, uint32_t len, uint64_t tag, uint64_t *seq)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_IPC_SEND, rvm_handle_pack(ch));
    if (err == RVM_OK) {
        err = chan_target(&op, ch, &slot);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (len > k->cfg.msg_bytes || (data == NULL && len != 0)) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_COMM_EDGE, RVM_CAP_WRITE, ch);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kchan *c = &k->chans[slot];
    if (actor != RVM_PARTITION_HYPERVISOR && actor != c->a) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NOT_ENDPOINT);
    }
    if (c->count >= k->cfg.queue_depth) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_OVERLOAD);
    }
    struct rvm_coherence_graph_plan gp;
    const bool coh = k->cfg.coherence_nodes != 0;
    if (coh) {
        struct rvm_witness_entry e;
        err = rvm_coherence_prepare_ipc(&k->coh, c->a, c->b, 1, &e, &gp);
        if (err != RVM_OK) {
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
        }
    }
    const uint64_t s = c->next_seq;
    err = rvm_kernel__append(&op, 0, s, (uint64_t)len | (uint64_t)c->b << 32);
    if (err != RVM_OK) {
        return err;
    }
    const uint32_t at = (c->head + c->count) % k->cfg.queue_depth;
    struct rvm_kmsg *m = msg_at(k, slot, at);
    m->sender = actor;
    m->len = len;
    m->seq = s;
    m->tag = tag;
    uint8_t *d = data_at(k, slot, at);
    rvm_memset(d, 0, k->cfg.msg_bytes);
    if (len != 0) {
        rvm_memcpy(d, data, len);
    }
    c->count++;
    c->next_seq++;
    c->sent++;
    if (coh) {
        rvm_coherence_commit_graph(&k->coh, &gp);
    }
    if (seq != NULL) {
        *seq = s;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel__ipc_receive(struct rvm_kernel *k, rvm_partition_id actor,
                                     const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                     void *buf, uint32_t cap, struct rvm_kernel_msg *msg,
                                     bool to_guest, uint64_t guest)
{
    struct rvm_kop op;
    uint32_t slot;
    enum rvm_err err = rvm_kernel__begin(&op, k, actor, RVM_ACT_IPC_RECEIVE, rvm_handle_pack(ch));
    if (err == RVM_OK) {
        err = chan_target(&op, ch, &slot);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (!to_guest && buf == NULL && cap != 0) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    err = rvm_kernel__gate(&op, auth, RVM_PROOF_P1, RVM_CAP_TYPE_COMM_EDGE, RVM_CAP_READ, ch);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_kchan *c = &k->chans[slot];
    if (actor != RVM_PARTITION_HYPERVISOR && actor != c->b) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NOT_ENDPOINT);
    }
    if (c->count == 0) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_EMPTY);
    }
    struct rvm_kmsg *m = msg_at(k, slot, c->head);
    uint8_t *d = data_at(k, slot, c->head);
    if (m->len > cap) {
        return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, RVM_ERR_NO_SPACE);
    }
    if (to_guest && m->len != 0) {
        err = k->hal->ops->guest_write(k->hal->ctx, actor, rvm_ipa(guest), d, m->len);
        if (err != RVM_OK) {
            return rvm_kernel__refuse(&op, RVM_STAGE_PRECONDITION, err);
        }
    }
    err = rvm_kernel__append(&op, 0, m->seq, (uint64_t)m->sender | (uint64_t)m->len << 32);
    if (err != RVM_OK) {
        return err;
    }
    if (msg != NULL) {
        msg->sender = m->sender;
        msg->len = m->len;
        msg->seq = m->seq;
        msg->tag = m->tag;
    }
    if (!to_guest && m->len != 0) {
        rvm_memcpy(buf, d, m->len);
    }
    rvm_memset(d, 0, k->cfg.msg_bytes);
    rvm_memset(m, 0, sizeof(*m));
    c->head = (c->head + 1u) % k->cfg.queue_depth;
    c->count--;
    c->received++;
    return RVM_OK;
}

enum rvm_err rvm_kernel_ipc_receive(struct rvm_kernel *k, rvm_partition_id actor,
                                    const struct rvm_kernel_auth *auth, struct rvm_handle ch,
                                    void *buf, uint32_t cap, struct rvm_kernel_msg *msg)
{
    return rvm_kernel__ipc_receive(k, actor, auth, ch, buf, cap, msg, false, 0);
}
