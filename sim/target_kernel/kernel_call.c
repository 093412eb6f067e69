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
    [KT_PARTITION_SPLIT] = {KT_MUST_RECORD, D_SCHED | D_FULL},
    [KT_PARTITION_MERGE] = {KT_MUST_RECORD, D_SCHED | D_FULL},
    [KT_PARTITION_FAULT] = {KT_MUST_RECORD, D_SCHED | D_FULL},
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

/* Partition life cycle and restructuring. */
static enum rvm_err call_partition(struct rvm_kernel *k, const struct kt_call *c,
                                   struct kt_result *r)
{
    const rvm_partition_id actor = c->actor;
    const struct rvm_kernel_auth *auth = actor != 0 ? &c->auth : NULL;
    switch (c->entry) {
    case KT_PARTITION_CREATE:
        return rvm_kernel_partition_create(k, actor, auth, &c->arg.partition_create, &r->out,
                                           &r->out2);
    case KT_PARTITION_START:
        return rvm_kernel_partition_start(k, actor, auth, c->object);
    case KT_PARTITION_SUSPEND:
        return rvm_kernel_partition_suspend(k, actor, auth, c->object);
    case KT_PARTITION_RESUME:
        return rvm_kernel_partition_resume(k, actor, auth, c->object);
    case KT_PARTITION_HIBERNATE:
        return rvm_kernel_partition_hibernate(k, actor, auth, c->object);
    case KT_PARTITION_RECONSTRUCT:
        return rvm_kernel_partition_reconstruct(k, actor, auth, c->object);
    case KT_PARTITION_CHECKPOINT:
        return rvm_kernel_partition_checkpoint(k, actor, auth, c->object);
    case KT_PARTITION_DESTROY:
        return rvm_kernel_partition_destroy(k, actor, auth, c->object);
    case KT_PARTITION_SPLIT:
        return rvm_kernel_partition_split(k, actor, auth, c->object, &r->out);
    case KT_PARTITION_MERGE:
        return rvm_kernel_partition_merge(k, actor, auth, c->object, actor != 0 ? &c->auth2 : NULL,
                                          c->arg.partition_merge);
    case KT_PARTITION_FAULT:
        return rvm_kernel_partition_fault(k, c->object, c->arg.partition_fault, &r->fault_class);
    default:
        return RVM_ERR_UNSUPPORTED;
    }
}

/* Memory, capabilities, channels and IPC, devices. */
static enum rvm_err call_object(struct rvm_kernel *k, const struct kt_call *c, struct kt_result *r)
{
    const rvm_partition_id actor = c->actor;
    const struct rvm_kernel_auth *auth = actor != 0 ? &c->auth : NULL;
    switch (c->entry) {
    case KT_REGION_CREATE:
        return rvm_kernel_region_create(k, actor, auth, c->object, c->arg.region_create.type,
                                        c->arg.region_create.perms, c->arg.region_create.pages,
                                        &r->out, &r->out2);
    case KT_REGION_MAP:
        return rvm_kernel_region_map(k, actor, auth, c->object, c->arg.region_map.ipa,
                                     c->arg.region_map.perms);
    case KT_REGION_UNMAP:
        return rvm_kernel_region_unmap(k, actor, auth, c->object);
    case KT_REGION_DESTROY:
        return rvm_kernel_region_destroy(k, actor, auth, c->object);
    case KT_REGION_SHARE:
        return rvm_kernel_region_share(k, actor, auth, c->object, c->arg.region_share.borrower,
                                       c->arg.region_share.perms, &r->out, &r->out2);
    case KT_CAP_GRANT:
        return rvm_kernel_cap_grant(k, actor, c->object, c->arg.cap_grant.recipient,
                                    c->arg.cap_grant.rights, c->arg.cap_grant.badge, &r->out);
    case KT_CAP_REVOKE:
        return rvm_kernel_cap_revoke(k, actor, c->object, c->arg.cap_revoke, &r->released);
    case KT_CAP_ATTENUATE:
        return rvm_kernel_cap_attenuate(k, actor, c->object, c->arg.cap_attenuate);
    case KT_CAP_EPOCH_ADVANCE:
        return rvm_kernel_cap_epoch_advance(k, actor);
    case KT_CAP_EPOCH_REVOKE:
        return rvm_kernel_cap_epoch_revoke(k, actor, c->arg.cap_epoch_revoke, &r->released);
    case KT_CHANNEL_CREATE:
        return rvm_kernel_channel_create(k, actor, auth, c->object, c->arg.channel_create, &r->out,
                                         &r->out2, NULL);
    case KT_CHANNEL_DESTROY:
        return rvm_kernel_channel_destroy(k, actor, auth, c->object);
    case KT_IPC_SEND:
        return rvm_kernel_ipc_send(k, actor, auth, c->object, c->arg.ipc_send.data,
                                   c->arg.ipc_send.len, c->arg.ipc_send.tag, &r->seq);
    case KT_IPC_RECEIVE:
        return rvm_kernel_ipc_receive(k, actor, auth, c->object, c->arg.ipc_receive.buf,
                                      c->arg.ipc_receive.size, &r->msg);
    case KT_DEVICE_REGISTER:
        return rvm_kernel_device_register(k, actor, c->arg.device_register, &r->out, &r->out2);
    case KT_LEASE_GRANT:
        return rvm_kernel_lease_grant(k, actor, auth, c->object, c->arg.lease.lessee,
                                      c->arg.lease.duration_ns, &r->out);
    case KT_LEASE_RENEW:
        return rvm_kernel_lease_renew(k, actor, auth, c->object, c->arg.lease.duration_ns);
    case KT_LEASE_REVOKE:
        return rvm_kernel_lease_revoke(k, actor, auth, c->object);
    default:
        return RVM_ERR_UNSUPPORTED;
    }
}

/* What arrives on a CPU or from the board: traps, time, interrupts, boot. */
static enum rvm_err call_platform(struct rvm_kernel *k, const struct kt_call *c,
                                  struct kt_result *r)
{
    switch (c->entry) {
    case KT_CORE_CRASH:
        return rvm_kernel_core_crash(k);
    case KT_GUEST_FAULT:
        return rvm_kernel_guest_fault(k, c->cpu, c->arg.guest_fault, &r->fault_class);
    case KT_HYPERCALL:
        if (c->cpu < k->cfg.ncpus && k->cpus[c->cpu].loaded != 0) {
            const uint32_t base = rvm_kernel_arg_reg(k->cfg.arch);
            for (uint32_t i = 0; i < HYPERCALL_NREGS; i++) {
                k->cpus[c->cpu].frame.gpr[base + i] = c->arg.hypercall[i]; /* the guest's own */
            }
        }
        return rvm_kernel_hypercall(k, c->cpu);
    case KT_SCHEDULE:
        return rvm_kernel_schedule(k, c->cpu);
    case KT_EPOCH:
        return rvm_kernel_epoch(k);
    case KT_BOOT_PHASE:
        return rvm_kernel_boot_phase(k, c->arg.boot_phase);
    case KT_BOOT_LOAD:
        return rvm_kernel_boot_load(k, &c->arg.boot_load, &r->out);
    case KT_TIMER:
        return rvm_kernel_timer(k, c->cpu);
    case KT_IRQ:
        return rvm_kernel_irq(k, c->arg.irq);
    case KT_CPU_OFFLINE:
        return rvm_kernel_cpu_offline(k, c->cpu);
    case KT_CPU_ONLINE:
        return rvm_kernel_cpu_online(k, c->cpu);
    default:
        return RVM_ERR_UNSUPPORTED;
    }
}

enum rvm_err kt_call_kernel(struct rvm_kernel *k, const struct kt_call *c, struct kt_result *r)
{
    kt_result_init(r);
    switch (c->entry) {
    case KT_PARTITION_CREATE:
    case KT_PARTITION_START:
    case KT_PARTITION_SUSPEND:
    case KT_PARTITION_RESUME:
    case KT_PARTITION_HIBERNATE:
    case KT_PARTITION_RECONSTRUCT:
    case KT_PARTITION_CHECKPOINT:
    case KT_PARTITION_DESTROY:
    case KT_PARTITION_SPLIT:
    case KT_PARTITION_MERGE:
    case KT_PARTITION_FAULT:
        return call_partition(k, c, r);
    case KT_CORE_CRASH:
    case KT_GUEST_FAULT:
    case KT_HYPERCALL:
    case KT_SCHEDULE:
    case KT_EPOCH:
    case KT_BOOT_PHASE:
    case KT_BOOT_LOAD:
    case KT_TIMER:
    case KT_IRQ:
    case KT_CPU_OFFLINE:
    case KT_CPU_ONLINE:
        return call_platform(k, c, r);
    default:
        return call_object(k, c, r);
    }
}

enum rvm_err kt_invoke(struct kt *t, const struct kt_call *c, const char *what, struct kt_result *r)
{
    kt_nw_begin(t, entries[c->entry].bracket);
    enum rvm_err err = kt_call_kernel(&t->k, c, r);
    kt_nw_end(t, what, err);
    t->dirty |= entries[c->entry].dirty;
    if (c->entry == KT_PARTITION_FAULT || c->entry == KT_GUEST_FAULT) {
        t->last_class = r->fault_class;
    }
    if (c->entry == KT_CAP_REVOKE || c->entry == KT_CAP_EPOCH_REVOKE) {
        t->last_released = r->released;
    }
    return err;
}
