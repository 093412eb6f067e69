/* SPDX-License-Identifier: MIT */
/*
 * The resolved kernel call and the one function that makes it.
 *
 * Everything the target decides by itself (the default actor, the strongest capability, the
 * next nonce, ipa = hpa, handles from the registry, where a boot image loads, the payload bytes)
 * is decided before a call gets here; kt_call_kernel only passes a struct kt_call to the kernel
 * entry point it names. That separation is the point: the sequence of resolved calls is all a
 * run's kernel sees, so it can be recorded and replayed by bare-metal firmware through the same
 * entry points, with no simulator state behind it. kt_call_kernel therefore reads nothing but
 * the kernel and the call (the payload bytes the call points at included).
 *
 * kt_invoke is the simulator's wrapper around it: the "no witness, no mutation" bracket, what the
 * call makes due for check(), and the statistics the queries report.
 */
#include "target_kernel_internal.h"

#include <string.h>

/* Per entry point: how the no-witness-no-mutation bracket treats it, what it makes due. */
static const struct {
    enum kt_bracket bracket;
    uint32_t dirty;
} entries[KT_NENTRIES] = {
    [KT_PARTITION_START] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_SUSPEND] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_RESUME] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_HIBERNATE] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_RECONSTRUCT] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_CHECKPOINT] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_DESTROY] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_SPLIT] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_MERGE] = {KT_MUST_RECORD, D_SCHED},
    [KT_PARTITION_FAULT] = {KT_MUST_RECORD, D_SCHED},
    [KT_CORE_CRASH] = {KT_MUST_RECORD, D_SCHED | D_FULL | D_ISO},
    [KT_GUEST_FAULT] = {KT_MUST_RECORD, D_SCHED},
    [KT_HYPERCALL] = {KT_MAY_SKIP, D_SCHED},
    [KT_SCHEDULE] = {KT_MAY_SKIP, D_SCHED},
    [KT_EPOCH] = {KT_MUST_RECORD, D_SCHED},
    [KT_BOOT_PHASE] = {KT_MUST_RECORD, D_SCHED},
    [KT_TIMER] = {KT_SLICE, D_SCHED},
    [KT_IRQ] = {KT_MAY_SKIP, 0},
    [KT_CPU_OFFLINE] = {KT_MUST_RECORD, D_SCHED},
    [KT_CPU_ONLINE] = {KT_MUST_RECORD, D_SCHED},
};

void kt_call_init(struct kt_call *c, enum kt_entry entry)
{
    memset(c, 0, sizeof(*c));
    c->entry = entry;
}

void kt_result_init(struct kt_result *r)
{
    memset(r, 0, sizeof(*r));
    r->out = rvm_cap_no_handle();
    r->out2 = rvm_cap_no_handle();
}

/* The tape's entry point for each of the target's. */
static const uint16_t tape_entry[KT_NENTRIES] = {
    [KT_PARTITION_CREATE] = RVM_TAPE_E_PARTITION_CREATE,
    [KT_PARTITION_START] = RVM_TAPE_E_PARTITION_START,
    [KT_PARTITION_SUSPEND] = RVM_TAPE_E_PARTITION_SUSPEND,
    [KT_PARTITION_RESUME] = RVM_TAPE_E_PARTITION_RESUME,
    [KT_PARTITION_HIBERNATE] = RVM_TAPE_E_PARTITION_HIBERNATE,
    [KT_PARTITION_RECONSTRUCT] = RVM_TAPE_E_PARTITION_RECONSTRUCT,
    [KT_PARTITION_CHECKPOINT] = RVM_TAPE_E_PARTITION_CHECKPOINT,
    [KT_PARTITION_DESTROY] = RVM_TAPE_E_PARTITION_DESTROY,
    [KT_PARTITION_SPLIT] = RVM_TAPE_E_PARTITION_SPLIT,
    [KT_PARTITION_MERGE] = RVM_TAPE_E_PARTITION_MERGE,
    [KT_REGION_CREATE] = RVM_TAPE_E_REGION_CREATE,
    [KT_REGION_MAP] = RVM_TAPE_E_REGION_MAP,
    [KT_REGION_UNMAP] = RVM_TAPE_E_REGION_UNMAP,
    [KT_REGION_DESTROY] = RVM_TAPE_E_REGION_DESTROY,
    [KT_REGION_SHARE] = RVM_TAPE_E_REGION_SHARE,
    [KT_CAP_GRANT] = RVM_TAPE_E_CAP_GRANT,
    [KT_CAP_REVOKE] = RVM_TAPE_E_CAP_REVOKE,
    [KT_CAP_ATTENUATE] = RVM_TAPE_E_CAP_ATTENUATE,
    [KT_CAP_EPOCH_ADVANCE] = RVM_TAPE_E_CAP_EPOCH_ADVANCE,
    [KT_CAP_EPOCH_REVOKE] = RVM_TAPE_E_CAP_EPOCH_REVOKE,
    [KT_CHANNEL_CREATE] = RVM_TAPE_E_CHANNEL_CREATE,
    [KT_CHANNEL_DESTROY] = RVM_TAPE_E_CHANNEL_DESTROY,
    [KT_IPC_SEND] = RVM_TAPE_E_IPC_SEND,
    [KT_IPC_RECEIVE] = RVM_TAPE_E_IPC_RECEIVE,
    [KT_DEVICE_REGISTER] = RVM_TAPE_E_DEVICE_REGISTER,
    [KT_LEASE_GRANT] = RVM_TAPE_E_LEASE_GRANT,
    [KT_LEASE_RENEW] = RVM_TAPE_E_LEASE_RENEW,
    [KT_LEASE_REVOKE] = RVM_TAPE_E_LEASE_REVOKE,
    [KT_PARTITION_FAULT] = RVM_TAPE_E_PARTITION_FAULT,
    [KT_CORE_CRASH] = RVM_TAPE_E_CORE_CRASH,
    [KT_GUEST_FAULT] = RVM_TAPE_E_GUEST_FAULT,
    [KT_HYPERCALL] = RVM_TAPE_E_HYPERCALL,
    [KT_SCHEDULE] = RVM_TAPE_E_SCHEDULE,
    [KT_EPOCH] = RVM_TAPE_E_EPOCH,
    [KT_BOOT_PHASE] = RVM_TAPE_E_BOOT_PHASE,
    [KT_BOOT_LOAD] = RVM_TAPE_E_BOOT_LOAD,
    [KT_TIMER] = RVM_TAPE_E_TIMER,
    [KT_IRQ] = RVM_TAPE_E_IRQ,
    [KT_CPU_OFFLINE] = RVM_TAPE_E_CPU_OFFLINE,
    [KT_CPU_ONLINE] = RVM_TAPE_E_CPU_ONLINE,
};

/* Arguments in the tape's layout (docs/tape-format.md lists them per entry point). */
static void tape_args(const struct kt_call *c, uint64_t *x, struct rvm_tape_call *tc)
{
    x[0] = P(c->object);
    switch (c->entry) {
    case KT_PARTITION_CREATE:
        x[0] = c->arg.partition_create.entry_pc;
        x[1] = c->arg.partition_create.args[0];
        x[2] = c->arg.partition_create.args[1];
        x[3] = c->arg.partition_create.affinity;
        x[4] = c->arg.partition_create.urgency;
        break;
    case KT_PARTITION_MERGE:
        x[1] = P(c->arg.partition_merge);
        x[2] = P(c->auth2.cap);
        x[3] = c->auth2.nonce;
        x[4] = c->auth2.not_before_ns;
        x[5] = c->auth2.not_after_ns;
        break;
    case KT_PARTITION_FAULT:
        x[1] = c->arg.partition_fault;
        break;
    case KT_REGION_CREATE:
        x[1] = c->arg.region_create.type;
        x[2] = c->arg.region_create.perms;
        x[3] = c->arg.region_create.pages;
        break;
    case KT_REGION_MAP:
        x[1] = c->arg.region_map.ipa;
        x[2] = c->arg.region_map.perms;
        break;
    case KT_REGION_SHARE:
        x[1] = P(c->arg.region_share.borrower);
        x[2] = c->arg.region_share.perms;
        break;
    case KT_CAP_GRANT:
        x[1] = P(c->arg.cap_grant.recipient);
        x[2] = c->arg.cap_grant.rights;
        x[3] = c->arg.cap_grant.badge;
        break;
    case KT_CAP_REVOKE:
        x[1] = P(c->arg.cap_revoke);
        break;
    case KT_CAP_ATTENUATE:
        x[1] = c->arg.cap_attenuate;
        break;
    case KT_CAP_EPOCH_REVOKE:
        x[0] = c->arg.cap_epoch_revoke;
        break;
    case KT_CHANNEL_CREATE:
        x[1] = P(c->arg.channel_create);
        break;
    case KT_IPC_SEND:
        x[1] = c->arg.ipc_send.tag;
        tc->data = c->arg.ipc_send.data;
        tc->data_len = c->arg.ipc_send.len;
        break;
    case KT_IPC_RECEIVE:
        x[1] = c->arg.ipc_receive.size;
        break;
    case KT_DEVICE_REGISTER:
        x[0] = c->arg.device_register;
        break;
    case KT_LEASE_GRANT:
        x[1] = P(c->arg.lease.lessee);
        x[2] = c->arg.lease.duration_ns;
        break;
    case KT_LEASE_RENEW:
        x[1] = c->arg.lease.duration_ns;
        break;
    case KT_GUEST_FAULT:
        x[0] = c->arg.guest_fault;
        break;
    case KT_HYPERCALL:
        memcpy(x, c->arg.hypercall, sizeof(c->arg.hypercall));
        break;
    case KT_BOOT_PHASE:
        x[0] = c->arg.boot_phase;
        break;
    case KT_BOOT_LOAD:
        x[0] = c->arg.boot_load.load_ipa;
        x[1] = c->arg.boot_load.entry_pc;
        x[2] = c->arg.boot_load.args[0];
        x[3] = c->arg.boot_load.args[1];
        x[4] = c->arg.boot_load.urgency;
        x[5] = c->arg.boot_load.affinity;
        tc->data = c->arg.boot_load.data;
        tc->data_len = (uint32_t)c->arg.boot_load.len;
        break;
    case KT_IRQ:
        x[0] = c->arg.irq;
        break;
    default:
        break;
    }
}

void kt_tape_call_of(const struct kt_call *c, uint64_t now_ns, struct rvm_tape_call *tc)
{
    memset(tc, 0, sizeof(*tc));
    tc->entry = tape_entry[c->entry];
    tc->cpu = c->cpu;
    tc->actor = c->actor;
    tc->time_ns = now_ns;
    if (c->actor != 0) { /* the hypervisor acts without an authority */
        tc->flags = RVM_TAPE_F_AUTH;
        tc->auth = c->auth;
    }
    tape_args(c, tc->args, tc);
}

enum rvm_err kt_call_kernel(struct rvm_kernel *k, struct kt_tape *tape, const struct kt_call *c,
                            struct kt_result *r)
{
    kt_result_init(r);
    if (c->entry == KT_NO_CALL || c->entry >= KT_NENTRIES) {
        return RVM_ERR_UNSUPPORTED;
    }
    struct rvm_tape_call tc;
    kt_tape_call_of(c, tape->on ? tape->eng->ops->clock_now_ns(tape->eng->ctx) : 0, &tc);
    const size_t at = kt_tape_call(tape, &tc);
    struct rvm_tape_outputs out;
    enum rvm_err err = rvm_tape_apply(k, &tc, &out);
    kt_tape_result(tape, at, err);
    r->out = rvm_tape_unpack(out.out[0]);
    r->out2 = rvm_tape_unpack(out.out[1]);
    r->released = out.count;
    r->fault_class = out.count;
    r->seq = out.out[0];
    r->msg = out.msg;
    if (c->entry == KT_IPC_RECEIVE && err == RVM_OK && c->arg.ipc_receive.buf != NULL) {
        memcpy(c->arg.ipc_receive.buf, out.data,
               out.msg.len < c->arg.ipc_receive.size ? out.msg.len : c->arg.ipc_receive.size);
    }
    return err;
}

enum rvm_err kt_invoke(struct kt *t, const struct kt_call *c, const char *what, struct kt_result *r)
{
    kt_nw_begin(t, entries[c->entry].bracket);
    enum rvm_err err = kt_call_kernel(&t->k, &t->tape, c, r);
    kt_nw_end(t, what, err);
    kt_probe_call(t, c->entry, err);
    t->dirty |= entries[c->entry].dirty;
    if (c->entry == KT_PARTITION_FAULT || c->entry == KT_GUEST_FAULT) {
        t->last_class = r->fault_class;
    }
    if (c->entry == KT_CAP_REVOKE || c->entry == KT_CAP_EPOCH_REVOKE) {
        t->last_released = r->released;
    }
    return err;
}
