/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ABI: decode, then invoke (seL4's split). Decoding reads the registers of the CPU's
 * live frame, checks the call number, that every register the call does not use is zero, every
 * value's range, and copies any guest buffer the call reads into the kernel (guest_read, which
 * walks the partition's own stage-2 / PMP with its rights) - all before anything runs. A refusal at
 * decode is witnessed (stage 1) like every other. The invoke half is the same kernel entry point a
 * scenario or the platform calls, with the caller as the actor and the presented capability and
 * nonce from the registers. Results go back into the caller's registers: the live frame if the
 * caller is still loaded on the CPU, its saved context otherwise (it suspended or hibernated
 * itself), nowhere if it destroyed itself.
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

struct hc_spec {
    uint8_t kind;  /* attempted kind of a refusal at decode */
    uint8_t nargs; /* x1 .. x_nargs are arguments; the rest of x1..x7 must be 0 */
};

static const struct hc_spec specs[RVM_HC_COUNT] = {
    [RVM_HC_VERSION] = {RVM_ACT_HYPERCALL, 0},
    [RVM_HC_YIELD] = {RVM_ACT_SCHED_SWITCH, 0},
    [RVM_HC_CAP_GRANT] = {RVM_ACT_CAP_GRANT, 4},
    [RVM_HC_CAP_REVOKE] = {RVM_ACT_CAP_REVOKE, 2},
    [RVM_HC_CAP_ATTENUATE] = {RVM_ACT_CAP_ATTENUATE, 2},
    [RVM_HC_CAP_INFO] = {RVM_ACT_PROOF_VERIFIED_P1, 1},
    [RVM_HC_REGION_CREATE] = {RVM_ACT_REGION_CREATE, 4},
    [RVM_HC_REGION_MAP] = {RVM_ACT_REGION_MAP, 5},
    [RVM_HC_REGION_UNMAP] = {RVM_ACT_REGION_UNMAP, 2},
    [RVM_HC_REGION_DESTROY] = {RVM_ACT_REGION_DESTROY, 3},
    [RVM_HC_REGION_SHARE] = {RVM_ACT_REGION_SHARE, 4},
    [RVM_HC_CHANNEL_CREATE] = {RVM_ACT_COMM_EDGE_CREATE, 2},
    [RVM_HC_CHANNEL_DESTROY] = {RVM_ACT_COMM_EDGE_DESTROY, 2},
    [RVM_HC_IPC_SEND] = {RVM_ACT_IPC_SEND, 5},
    [RVM_HC_IPC_RECV] = {RVM_ACT_IPC_RECEIVE, 4},
    [RVM_HC_PARTITION_CREATE] = {RVM_ACT_PARTITION_CREATE, 6},
    [RVM_HC_PARTITION_START] = {RVM_ACT_PARTITION_START, 2},
    [RVM_HC_PARTITION_SUSPEND] = {RVM_ACT_PARTITION_SUSPEND, 2},
    [RVM_HC_PARTITION_RESUME] = {RVM_ACT_PARTITION_RESUME, 2},
    [RVM_HC_PARTITION_DESTROY] = {RVM_ACT_PARTITION_DESTROY, 3},
    [RVM_HC_PARTITION_HIBERNATE] = {RVM_ACT_PARTITION_HIBERNATE, 3},
    [RVM_HC_PARTITION_RECONSTRUCT] = {RVM_ACT_PARTITION_RECONSTRUCT, 3},
    [RVM_HC_PARTITION_CHECKPOINT] = {RVM_ACT_CHECKPOINT_CREATED, 3},
    [RVM_HC_PARTITION_SPLIT] = {RVM_ACT_PARTITION_SPLIT, 3},
    [RVM_HC_PARTITION_MERGE] = {RVM_ACT_PARTITION_MERGE, 5},
    [RVM_HC_LEASE_GRANT] = {RVM_ACT_DEVICE_LEASE_GRANT, 5},
    [RVM_HC_LEASE_RENEW] = {RVM_ACT_DEVICE_LEASE_RENEW, 4},
    [RVM_HC_LEASE_REVOKE] = {RVM_ACT_DEVICE_LEASE_REVOKE, 2},
};

struct hc {
    struct rvm_kernel *k;
    uint32_t cpu;
    rvm_partition_id caller;
    struct rvm_handle caller_h;
    uint64_t x[8]; /* x0..x7 as the guest left them */
    uint64_t r[4]; /* results x1..x4 */
};

static enum rvm_err decode_refuse(struct hc *h, uint8_t kind, enum rvm_err err)
{
    struct rvm_kop op;
    rvm_memset(&op, 0, sizeof(op));
    op.k = h->k;
    op.actor = h->caller;
    op.kind = kind;
    return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
}

static struct rvm_handle H(uint64_t v) {
    return rvm_handle_unpack(v);
}

static struct rvm_kernel_auth
auth_of(uint64_t cap, uint64_t nonce)
{
    struct rvm_kernel_auth a = {rvm_handle_unpack(cap), nonce, 0, 0};
    return a;
}

/* Results into whatever now holds the caller's registers. */
static void deliver(struct hc *h, enum rvm_err err)
{
    struct rvm_kernel *k = h->k;
    struct rvm_vcpu_regs *regs = NULL;
    if (k->cpus[h->cpu].loaded == h->caller) {
        regs = &k->cpus[h->cpu].frame;
    } else if (rvm_kernel__part_find(k, h->caller_h, &(uint32_t){0}) == RVM_OK) {
        regs = &k->parts[h->caller - 1u].ctx.regs;
    }
    if (regs == NULL) {
        return; /* it destroyed itself */
    }
    const uint32_t base = rvm_kernel_arg_reg(k->cfg.arch);
    regs->gpr[base] = (uint64_t)err;
    for (uint32_t i = 0; i < 4; i++) { /* bound: 4 result registers */
        regs->gpr[base + 1u + i] = err == RVM_OK ? h->r[i] : h->x[1u + i];
    }
}

/* Range checks that need no kernel state (the invoke half checks objects and authority). */
static enum rvm_err decode_values(const struct hc *h, uint64_t n)
{
    const uint64_t *x = h->x;
    const struct rvm_kernel *k = h->k;
    uint64_t end;
    switch (n) {
    case RVM_HC_CAP_GRANT:
        return x[3] > RVM_CAP_RIGHTS_ALL ? RVM_ERR_INVALID_ARGUMENT : RVM_OK;
    case RVM_HC_CAP_ATTENUATE:
        return x[2] > RVM_CAP_RIGHTS_ALL ? RVM_ERR_INVALID_ARGUMENT : RVM_OK;
    case RVM_HC_REGION_CREATE:
        if (x[2] < RVM_REGION_DATA || x[2] > RVM_REGION_IMMUTABLE || x[3] > 7u || x[4] == 0 ||
            x[4] > RVM_REGION_MAX_PAGES) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        return RVM_OK;
    case RVM_HC_REGION_MAP:
    case RVM_HC_REGION_SHARE:
        return x[4] > 7u ? RVM_ERR_INVALID_ARGUMENT : RVM_OK;
    case RVM_HC_IPC_SEND:
        if (x[4] > k->cfg.msg_bytes) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        return rvm_add_u64(x[3], x[4], &end) ? RVM_OK : RVM_ERR_OVERFLOW;
    case RVM_HC_IPC_RECV:
        return rvm_add_u64(x[3], x[4], &end) ? RVM_OK : RVM_ERR_OVERFLOW;
    case RVM_HC_PARTITION_CREATE:
        return x[6] > UINT16_MAX ? RVM_ERR_INVALID_ARGUMENT : RVM_OK;
    case RVM_HC_LEASE_GRANT:
        return x[4] == 0 || x[4] > k->cfg.max_lease_ns ? RVM_ERR_OUT_OF_RANGE : RVM_OK;
    case RVM_HC_LEASE_RENEW:
        return x[3] == 0 || x[3] > k->cfg.max_lease_ns ? RVM_ERR_OUT_OF_RANGE : RVM_OK;
    default:
        return RVM_OK;
    }
}

static enum rvm_err cap_info(struct hc *h)
{
    struct rvm_kernel *k = h->k;
    const struct rvm_handle c = H(h->x[1]);
    enum rvm_err err = rvm_cap_resolve(&k->caps, c);
    const struct rvm_cap_slot *s = err == RVM_OK ? &k->caps.slots[c.index] : NULL;
    if (err == RVM_OK && s->owner != h->caller) {
        err = RVM_ERR_CAP_HOLDER;
    }
    if (err != RVM_OK) {
        struct rvm_kop op;
        rvm_memset(&op, 0, sizeof(op));
        op.k = k;
        op.actor = h->caller;
        op.kind = RVM_ACT_PROOF_VERIFIED_P1;
        op.target = h->x[1];
        return rvm_kernel__refuse(&op, RVM_STAGE_P1, err);
    }
    h->r[0] = (uint64_t)s->type | (uint64_t)s->rights << 8 | (uint64_t)s->depth << 16 |
              (uint64_t)s->flags << 24;
    h->r[1] = rvm_handle_pack(s->object);
    h->r[2] = s->badge;
    return RVM_OK;
}

static enum rvm_err invoke(struct hc *h, uint64_t n)
{
    struct rvm_kernel *k = h->k;
    const uint64_t *x = h->x;
    const rvm_partition_id me = h->caller;
    struct rvm_handle o1 = rvm_cap_no_handle();
    struct rvm_handle o2 = rvm_cap_no_handle();
    struct rvm_handle o3 = rvm_cap_no_handle();
    struct rvm_kernel_auth a = auth_of(x[2], 0);
    enum rvm_err err;
    switch (n) {
    case RVM_HC_VERSION:
        h->r[0] = RVM_KERNEL_ABI_VERSION;
        h->r[1] = rvm_handle_pack(h->caller_h);
        h->r[2] = rvm_handle_pack(k->parts[me - 1u].self_cap);
        return RVM_OK;
    case RVM_HC_CAP_GRANT:
        err = rvm_kernel_cap_grant(k, me, H(x[1]), H(x[2]), (uint8_t)x[3], x[4], &o1);
        h->r[0] = rvm_handle_pack(o1);
        return err;
    case RVM_HC_CAP_REVOKE: {
        uint32_t released = 0;
        err = rvm_kernel_cap_revoke(k, me, H(x[1]), H(x[2]), &released);
        h->r[0] = released;
        return err;
    }
    case RVM_HC_CAP_ATTENUATE:
        return rvm_kernel_cap_attenuate(k, me, H(x[1]), (uint8_t)x[2]);
    case RVM_HC_CAP_INFO:
        return cap_info(h);
    case RVM_HC_REGION_CREATE:
        a = auth_of(x[1], 0);
        err = rvm_kernel_region_create(k, me, &a, h->caller_h, (uint32_t)x[2], (uint32_t)x[3],
                                       (uint32_t)x[4], &o1, &o2);
        h->r[0] = rvm_handle_pack(o1);
        h->r[1] = rvm_handle_pack(o2);
        return err;
    case RVM_HC_REGION_MAP:
        a = auth_of(x[2], x[5]);
        return rvm_kernel_region_map(k, me, &a, H(x[1]), x[3], (uint32_t)x[4]);
    case RVM_HC_REGION_UNMAP:
        return rvm_kernel_region_unmap(k, me, &a, H(x[1]));
    case RVM_HC_REGION_DESTROY:
        a = auth_of(x[2], x[3]);
        return rvm_kernel_region_destroy(k, me, &a, H(x[1]));
    case RVM_HC_REGION_SHARE:
        err = rvm_kernel_region_share(k, me, &a, H(x[1]), H(x[3]), (uint32_t)x[4], &o1, &o2);
        h->r[0] = rvm_handle_pack(o1);
        h->r[1] = rvm_handle_pack(o2);
        return err;
    case RVM_HC_CHANNEL_CREATE:
        err = rvm_kernel_channel_create(k, me, &a, h->caller_h, H(x[1]), &o1, &o2, &o3);
        h->r[0] = rvm_handle_pack(o1);
        h->r[1] = rvm_handle_pack(o2);
        h->r[2] = rvm_handle_pack(o3);
        return err;
    case RVM_HC_CHANNEL_DESTROY:
        return rvm_kernel_channel_destroy(k, me, &a, H(x[1]));
    case RVM_HC_IPC_SEND: {
        uint64_t seq = 0;
        err = rvm_kernel_ipc_send(k, me, &a, H(x[1]), k->bounce, (uint32_t)x[4], x[5], &seq);
        h->r[0] = seq;
        return err;
    }
    case RVM_HC_IPC_RECV: {
        struct rvm_kernel_msg m;
        rvm_memset(&m, 0, sizeof(m));
        const uint32_t cap = x[4] > k->cfg.msg_bytes ? k->cfg.msg_bytes : (uint32_t)x[4];
        err = rvm_kernel__ipc_receive(k, me, &a, H(x[1]), NULL, cap, &m, true, x[3]);
        h->r[0] = m.len;
        h->r[1] = m.sender;
        h->r[2] = m.seq;
        h->r[3] = m.tag;
        return err;
    }
    case RVM_HC_PARTITION_CREATE: {
        struct rvm_kernel_partition_req req = {x[2], {x[3], x[4]}, x[5], (uint16_t)x[6]};
        a = auth_of(x[1], 0);
        err = rvm_kernel_partition_create(k, me, &a, &req, &o1, &o2);
        h->r[0] = rvm_handle_pack(o1);
        h->r[1] = rvm_handle_pack(o2);
        return err;
    }
    case RVM_HC_PARTITION_START:
        return rvm_kernel_partition_start(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_SUSPEND:
        return rvm_kernel_partition_suspend(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_RESUME:
        return rvm_kernel_partition_resume(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_DESTROY:
        a = auth_of(x[2], x[3]);
        return rvm_kernel_partition_destroy(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_HIBERNATE:
        a = auth_of(x[2], x[3]);
        return rvm_kernel_partition_hibernate(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_RECONSTRUCT:
        a = auth_of(x[2], x[3]);
        return rvm_kernel_partition_reconstruct(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_CHECKPOINT:
        a = auth_of(x[2], x[3]);
        return rvm_kernel_partition_checkpoint(k, me, &a, H(x[1]));
    case RVM_HC_PARTITION_SPLIT:
        a = auth_of(x[2], x[3]);
        err = rvm_kernel_partition_split(k, me, &a, H(x[1]), &o1);
        h->r[0] = rvm_handle_pack(o1);
        return err;
    case RVM_HC_PARTITION_MERGE: {
        a = auth_of(x[2], x[5]);
        struct rvm_kernel_auth b = auth_of(x[4], 0);
        return rvm_kernel_partition_merge(k, me, &a, H(x[1]), &b, H(x[3]));
    }
    case RVM_HC_LEASE_GRANT:
        a = auth_of(x[2], x[5]);
        err = rvm_kernel_lease_grant(k, me, &a, H(x[1]), H(x[3]), x[4], &o1);
        h->r[0] = rvm_handle_pack(o1);
        return err;
    case RVM_HC_LEASE_RENEW:
        a = auth_of(x[2], x[4]);
        return rvm_kernel_lease_renew(k, me, &a, H(x[1]), x[3]);
    case RVM_HC_LEASE_REVOKE:
        return rvm_kernel_lease_revoke(k, me, &a, H(x[1]));
    default:
        return RVM_ERR_BAD_HYPERCALL; /* unreachable: decode checked the number */
    }
}

void rvm_kernel_trap_args(struct rvm_kernel *k, uint32_t cpu, const uint64_t regs[8])
{
    if (cpu >= k->cfg.ncpus || k->cpus[cpu].loaded == 0) {
        return;
    }
    const uint32_t base = rvm_kernel_arg_reg(k->cfg.arch);
    for (uint32_t i = 0; i < 8; i++) { /* bound: 8 argument registers */
        k->cpus[cpu].frame.gpr[base + i] = regs[i];
    }
}

enum rvm_err rvm_kernel_hypercall(struct rvm_kernel *k, uint32_t cpu)
{
    struct hc h;
    rvm_memset(&h, 0, sizeof(h));
    h.k = k;
    h.cpu = cpu;
    if (!rvm_kernel_booted(k) || cpu >= k->cfg.ncpus || k->cpus[cpu].loaded == 0 ||
        !rvm_kernel__part_live_id(k, k->cpus[cpu].loaded)) {
        return decode_refuse(&h, RVM_ACT_HYPERCALL,
                             !rvm_kernel_booted(k) ? RVM_ERR_NOT_BOOTED
                             : cpu >= k->cfg.ncpus ? RVM_ERR_OUT_OF_RANGE
                                                   : RVM_ERR_WRONG_STATE);
    }
    h.caller = k->cpus[cpu].loaded;
    h.caller_h = rvm_kernel__part_handle(k, h.caller - 1u);
    k->hypercalls++;
    const uint32_t base = rvm_kernel_arg_reg(k->cfg.arch);
    for (uint32_t i = 0; i < 8; i++) { /* bound: 8 argument registers */
        h.x[i] = k->cpus[cpu].frame.gpr[base + i];
    }
    /* ---- decode: nothing below runs until all of it passed ---- */
    const uint64_t n = h.x[0];
    enum rvm_err err = RVM_OK;
    if (n >= RVM_HC_COUNT) {
        err = decode_refuse(&h, RVM_ACT_HYPERCALL, RVM_ERR_BAD_HYPERCALL);
        deliver(&h, err);
        return err;
    }
    const struct hc_spec *spec = &specs[n];
    for (uint32_t i = (uint32_t)spec->nargs + 1u; i < 8; i++) { /* bound: 7 registers */
        if (h.x[i] != 0) {
            err = RVM_ERR_RESERVED_ARG;
        }
    }
    if (err == RVM_OK) {
        err = decode_values(&h, n);
    }
    if (err == RVM_OK && n == RVM_HC_IPC_SEND && h.x[4] != 0) {
        /* The message comes in through the partition's own translation and rights. */
        err = k->hal->ops->guest_read(k->hal->ctx, h.caller, rvm_ipa(h.x[3]), k->bounce,
                                      (size_t)h.x[4]);
    }
    if (err != RVM_OK) {
        (void)decode_refuse(&h, spec->kind, err);
        deliver(&h, err);
        return err;
    }
    /* ---- invoke ---- */
    if (n == RVM_HC_YIELD) {
        deliver(&h, RVM_OK); /* into the frame before it is saved by the switch */
        return rvm_kernel_schedule(k, cpu);
    }
    err = invoke(&h, n);
    deliver(&h, err);
    return err;
}
