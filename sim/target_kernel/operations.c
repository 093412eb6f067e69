/* SPDX-License-Identifier: MIT */
/*
 * The kernel target's operations. Each one first resolves everything the target decides by
 * itself into a struct kt_call (kernel_call.c); kt_apply then makes that call in one place and
 * the operation judges the outcome.
 *
 * What resolution decides, so hand-written lines stay short: `actor` omitted is the hypervisor
 * (for capability operations the capability's holder, for IPC the channel's endpoint); `cap`
 * omitted is the actor's strongest capability on the object the operation names; `nonce` omitted
 * is a fresh one; a region maps at its host address with every permission it allows unless told
 * otherwise. An actor handle whose slot now holds another partition is refused here (STALE):
 * nobody can call as a partition that no longer exists. Values that do not fit the kernel API's
 * types are refused here too (INVALID_ARGUMENT); neither reaches the kernel.
 */
#include "target_kernel_internal.h"

#include <inttypes.h>
#include <string.h>

/* One operation in flight. */
struct step {
    const struct rvm_sim_call *op;
    const uint64_t *a; /* its arguments, indexed by the operation's *_arg enum */
    const char *what;  /* the kernel call's name in a violation */
    struct kt_call call;
    struct kt_result res;
    enum rvm_err own; /* the result of an operation that makes no kernel call */
    /* what resolution saw, for judging the outcome */
    bool chan_live;
    uint64_t seq;
    uint32_t queued;
    uint8_t src_rights;
};

/* Who calls when `actor` is omitted. */
enum natural_actor { BY_HYPERVISOR, BY_CAP_HOLDER, BY_SENDER, BY_RECEIVER };

#define NO_ACTOR (-1)

struct op_impl {
    enum kt_entry entry; /* the kernel entry point it calls (KT_NO_CALL: the target's own) */
    /* Decide every argument of the call into s->call. RVM_OK: make it (or, when call.entry is
     * KT_NO_CALL, the operation was the target's own and s->own is its result); anything else
     * refuses the operation before it reaches the kernel. */
    enum rvm_err (*resolve)(struct kt *t, struct step *s);
    /* After the call: judge what every outcome must satisfy; returns the operation's result. */
    enum rvm_err (*judge)(struct kt *t, struct step *s, enum rvm_err err);
    /* After a success and the checks common to every operation. */
    void (*accepted)(struct kt *t, struct step *s);
    int actor_arg; /* NO_ACTOR: always the hypervisor */
    enum natural_actor natural;
};

/* ------------------------------------------------------------------------------------------------
 * Resolution helpers
 * --------------------------------------------------------------------------------------------- */

_Static_assert(CAP_GRANT_SOURCE == 0 && CAP_REVOKE_AUTHORITY == 0 && CAP_ATTENUATE_CAP == 0,
               "capability operations name their capability first");
_Static_assert(IPC_SEND_CHANNEL == 0 && IPC_RECEIVE_CHANNEL == 0, "IPC names its channel first");

/* The actor a line that names none stands for: the hypervisor, the holder of the capability, or
 * the channel's endpoint. A default that cannot be resolved (the capability or channel it is read
 * from is stale or gone) refuses the operation here with the stale-object error the kernel would
 * give, and never falls back to the hypervisor: a default must not escalate. */
static enum rvm_err natural_actor(const struct kt *t, enum natural_actor n, const uint64_t *a,
                                  rvm_partition_id *out)
{
    *out = 0;
    if (n == BY_CAP_HOLDER) {
        if (!kt_live(t, CLS_CAP, a[CAP_GRANT_SOURCE])) {
            return RVM_ERR_CAP_STALE;
        }
        *out = kt_cap_holder(t, a[CAP_GRANT_SOURCE]);
    } else if (n == BY_SENDER || n == BY_RECEIVER) {
        if (!kt_live(t, CLS_CHANNEL, a[IPC_SEND_CHANNEL])) {
            return RVM_ERR_STALE;
        }
        const struct rvm_kchan *ch = &t->k.chans[H(a[IPC_SEND_CHANNEL]).index];
        *out = n == BY_SENDER ? ch->a : ch->b;
    }
    return RVM_OK;
}

/* The operation's argument `i`, or 0 when it has none there (a nonce some layouts leave out). */
static uint64_t optional_arg(const struct step *s, uint32_t i)
{
    return i < kt_ops[s->op->op].nargs ? s->a[i] : 0;
}

/* Authority for the actor on (type, object): the capability given or the actor's strongest, the
 * nonce given or the next fresh one (drawn for the hypervisor too, which presents none). */
static void authorise(struct kt *t, struct kt_call *c, uint64_t cap_arg, uint64_t nonce,
                      uint8_t type, struct rvm_handle object)
{
    memset(&c->auth, 0, sizeof(c->auth));
    c->auth.cap =
        cap_arg != RVM_SIM_NO_OBJECT ? H(cap_arg) : kt_find_cap(t, c->actor, type, object);
    c->auth.nonce = nonce != 0 ? nonce : t->next_nonce++;
}

/* The actor's own partition: creating is authorised by the creator's capability on itself. */
static struct rvm_handle self_object(const struct kt *t, rvm_partition_id actor)
{
    return actor != 0 && actor <= t->cfg.max_partitions ? kt_part_handle(t, actor - 1u) : H(0);
}

/* ------------------------------------------------------------------------------------------------
 * Partitions
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err resolve_partition_create(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (a[PARTITION_CREATE_URGENCY] > 0xffff) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    authorise(t, &s->call, a[PARTITION_CREATE_CAP], 0, RVM_CAP_TYPE_PARTITION,
              self_object(t, s->call.actor));
    struct rvm_kernel_partition_req req = {a[PARTITION_CREATE_ENTRY],
                                           {a[PARTITION_CREATE_ARG0], a[PARTITION_CREATE_ARG1]},
                                           a[PARTITION_CREATE_AFFINITY],
                                           (uint16_t)a[PARTITION_CREATE_URGENCY]};
    s->call.arg.partition_create = req;
    return RVM_OK;
}

/* start, suspend, resume, hibernate, reconstruct, checkpoint, destroy, split */
static enum rvm_err resolve_partition(struct kt *t, struct step *s)
{
    struct rvm_handle part = H(s->a[PARTITION_PART]);
    authorise(t, &s->call, s->a[PARTITION_CAP], optional_arg(s, PARTITION_NONCE),
              RVM_CAP_TYPE_PARTITION, part);
    s->call.object = part;
    return RVM_OK;
}

static enum rvm_err resolve_partition_merge(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    struct kt_call *c = &s->call;
    authorise(t, c, a[MERGE_CAP], a[MERGE_NONCE], RVM_CAP_TYPE_PARTITION, H(a[MERGE_ABSORBER]));
    c->auth2 = c->auth;
    c->auth2.cap = a[MERGE_CAP2] != RVM_SIM_NO_OBJECT
                       ? H(a[MERGE_CAP2])
                       : kt_find_cap(t, c->actor, RVM_CAP_TYPE_PARTITION, H(a[MERGE_ABSORBED]));
    c->object = H(a[MERGE_ABSORBER]);
    c->arg.partition_merge = H(a[MERGE_ABSORBED]);
    return RVM_OK;
}

static void accepted_partition_destroy(struct kt *t, struct step *s)
{
    kt_check_gone(t, H(s->a[PARTITION_PART]).index + 1u, "partition_destroy");
}

static void accepted_partition_merge(struct kt *t, struct step *s)
{
    if (!kt_live(t, CLS_PARTITION, s->a[MERGE_ABSORBED])) {
        kt_check_gone(t, H(s->a[MERGE_ABSORBED]).index + 1u, "partition_merge");
    }
}

static enum rvm_err resolve_partition_fault(struct kt *t, struct step *s)
{
    (void)t;
    if (!fits32(s->a[PARTITION_FAULT_REASON])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->call.object = H(s->a[PARTITION_FAULT_PART]);
    s->call.arg.partition_fault = (uint32_t)s->a[PARTITION_FAULT_REASON];
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Regions
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err resolve_region_create(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    uint64_t type = a[REGION_CREATE_TYPE], perms = a[REGION_CREATE_PERMS];
    if (!fits32(type) || !fits32(perms) || !fits32(a[REGION_CREATE_PAGES])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (perms == 0) {
        perms = type == RVM_REGION_DATA ? (RVM_PERM_R | RVM_PERM_W) : (RVM_PERM_R | RVM_PERM_X);
    }
    authorise(t, &s->call, a[REGION_CREATE_CAP], 0, RVM_CAP_TYPE_PARTITION,
              self_object(t, s->call.actor));
    s->call.object = H(a[REGION_CREATE_OWNER]);
    s->call.arg.region_create.type = (uint32_t)type;
    s->call.arg.region_create.perms = (uint32_t)perms;
    s->call.arg.region_create.pages = (uint32_t)a[REGION_CREATE_PAGES];
    return RVM_OK;
}

static enum rvm_err resolve_region_map(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (!fits32(a[REGION_MAP_PERMS])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_handle region = H(a[REGION_MAP_REGION]);
    uint64_t ipa = a[REGION_MAP_IPA];
    uint32_t perms = (uint32_t)a[REGION_MAP_PERMS];
    const struct rvm_region *r = rvm_region_get(&t->k.regions, region);
    if (r != NULL && ipa == 0) {
        ipa = r->hpa; /* at its host address: the one layout both platforms can express */
    }
    if (r != NULL && perms == 0) {
        perms = r->perms;
    }
    authorise(t, &s->call, a[REGION_MAP_CAP], a[REGION_MAP_NONCE], RVM_CAP_TYPE_REGION, region);
    s->call.object = region;
    s->call.arg.region_map.ipa = ipa;
    s->call.arg.region_map.perms = perms;
    return RVM_OK;
}

/* unmap, destroy */
static enum rvm_err resolve_region(struct kt *t, struct step *s)
{
    struct rvm_handle region = H(s->a[REGION_REGION]);
    authorise(t, &s->call, s->a[REGION_CAP], optional_arg(s, REGION_NONCE), RVM_CAP_TYPE_REGION,
              region);
    s->call.object = region;
    return RVM_OK;
}

static enum rvm_err resolve_region_share(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (!fits32(a[REGION_SHARE_PERMS])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_handle region = H(a[REGION_SHARE_REGION]);
    authorise(t, &s->call, a[REGION_SHARE_CAP], 0, RVM_CAP_TYPE_REGION, region);
    s->call.object = region;
    s->call.arg.region_share.borrower = H(a[REGION_SHARE_BORROWER]);
    s->call.arg.region_share.perms = (uint32_t)a[REGION_SHARE_PERMS];
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Capabilities
 * --------------------------------------------------------------------------------------------- */

static uint8_t rights_of(const struct kt *t, uint64_t cap)
{
    const struct rvm_cap_slot *slot = rvm_cap_get(&t->k.caps, H(cap));
    return slot != NULL ? slot->rights : 0;
}

static enum rvm_err resolve_cap_grant(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (a[CAP_GRANT_RIGHTS] > 0xff) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->src_rights = rights_of(t, a[CAP_GRANT_SOURCE]);
    s->call.object = H(a[CAP_GRANT_SOURCE]);
    s->call.arg.cap_grant.recipient = H(a[CAP_GRANT_RECIPIENT]);
    s->call.arg.cap_grant.rights = (uint8_t)a[CAP_GRANT_RIGHTS];
    s->call.arg.cap_grant.badge = a[CAP_GRANT_BADGE];
    return RVM_OK;
}

static void accepted_cap_grant(struct kt *t, struct step *s)
{
    kt_check_new_cap(t, s->res.out, "cap_grant");
    const struct rvm_cap_slot *slot = rvm_cap_get(&t->k.caps, s->res.out);
    if (slot != NULL && (s->src_rights & RVM_CAP_GRANT) == 0 &&
        (slot->rights & (RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE)) != 0) {
        rvm_sim_violation(t->sim, "cap.grant-once",
                          "a child made through GRANT_ONCE carries 0x%02x", slot->rights);
    }
}

static enum rvm_err resolve_cap_revoke(struct kt *t, struct step *s)
{
    (void)t;
    s->call.object = H(s->a[CAP_REVOKE_AUTHORITY]);
    s->call.arg.cap_revoke = H(s->a[CAP_REVOKE_TARGET]);
    return RVM_OK;
}

static enum rvm_err judge_cap_revoke(struct kt *t, struct step *s, enum rvm_err err)
{
    if (err == RVM_OK && rvm_cap_get(&t->k.caps, H(s->a[CAP_REVOKE_TARGET])) != NULL) {
        rvm_sim_violation(t->sim, "cap.revoked-usable",
                          "capability 0x%" PRIx64 " still resolves after its revocation",
                          s->a[CAP_REVOKE_TARGET]);
    }
    return err;
}

static enum rvm_err resolve_cap_attenuate(struct kt *t, struct step *s)
{
    if (s->a[CAP_ATTENUATE_RIGHTS] > 0xff) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->src_rights = rights_of(t, s->a[CAP_ATTENUATE_CAP]);
    s->call.object = H(s->a[CAP_ATTENUATE_CAP]);
    s->call.arg.cap_attenuate = (uint8_t)s->a[CAP_ATTENUATE_RIGHTS];
    return RVM_OK;
}

static enum rvm_err judge_cap_attenuate(struct kt *t, struct step *s, enum rvm_err err)
{
    const struct rvm_cap_slot *slot = rvm_cap_get(&t->k.caps, H(s->a[CAP_ATTENUATE_CAP]));
    if (err == RVM_OK && slot != NULL && (slot->rights & ~s->src_rights) != 0) {
        rvm_sim_violation(t->sim, "cap.monotonicity", "attenuate turned rights 0x%02x into 0x%02x",
                          s->src_rights, slot->rights);
    }
    return err;
}

static enum rvm_err resolve_cap_epoch_revoke(struct kt *t, struct step *s)
{
    (void)t;
    if (!fits32(s->a[CAP_EPOCH_REVOKE_EPOCH])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->call.arg.cap_epoch_revoke = (uint32_t)s->a[CAP_EPOCH_REVOKE_EPOCH];
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Channels and IPC
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err resolve_channel_create(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    authorise(t, &s->call, a[CHANNEL_CREATE_CAP], 0, RVM_CAP_TYPE_PARTITION,
              H(a[CHANNEL_CREATE_RECEIVER]));
    s->call.object = H(a[CHANNEL_CREATE_SENDER]);
    s->call.arg.channel_create = H(a[CHANNEL_CREATE_RECEIVER]);
    return RVM_OK;
}

static enum rvm_err resolve_channel_destroy(struct kt *t, struct step *s)
{
    struct rvm_handle ch = H(s->a[CHANNEL_DESTROY_CHANNEL]);
    authorise(t, &s->call, s->a[CHANNEL_DESTROY_CAP], 0, RVM_CAP_TYPE_COMM_EDGE, ch);
    s->call.object = ch;
    return RVM_OK;
}

/* Longer than any message, so the kernel's own length check is exercised. */
#define IPC_MAX_LEN (RVM_KERNEL_MSG_MAX + 64u)

static enum rvm_err resolve_ipc_send(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (!fits32(a[IPC_SEND_LEN])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t len = (uint32_t)a[IPC_SEND_LEN];
    struct rvm_handle ch = H(a[IPC_SEND_CHANNEL]);
    s->chan_live = kt_live(t, CLS_CHANNEL, a[IPC_SEND_CHANNEL]);
    s->seq = s->chan_live ? t->k.chans[ch.index].next_seq : 0;
    s->queued = s->chan_live ? t->k.chans[ch.index].count : 0;
    if (len <= IPC_MAX_LEN) {
        kt_fill_payload(t->payload, a[IPC_SEND_TAG], len, s->seq);
    }
    authorise(t, &s->call, a[IPC_SEND_CAP], 0, RVM_CAP_TYPE_COMM_EDGE, ch);
    s->call.object = ch;
    s->call.arg.ipc_send.data = t->payload;
    s->call.arg.ipc_send.len = len <= IPC_MAX_LEN ? len : IPC_MAX_LEN;
    s->call.arg.ipc_send.tag = a[IPC_SEND_TAG];
    return RVM_OK;
}

static enum rvm_err judge_ipc_send(struct kt *t, struct step *s, enum rvm_err err)
{
    const uint32_t slot = H(s->a[IPC_SEND_CHANNEL]).index;
    if (err == RVM_OK && s->chan_live) {
        if (s->res.seq != s->seq) {
            rvm_sim_violation(t->sim, "ipc.sequence",
                              "send stamped %" PRIu64 ", the channel's next was %" PRIu64,
                              s->res.seq, s->seq);
        }
        kt_ipc_sent(t, slot, s->res.seq, (uint32_t)s->a[IPC_SEND_LEN], s->a[IPC_SEND_TAG]);
    } else if (err == RVM_OK) {
        rvm_sim_violation(t->sim, "kernel.stale-accepted", "a send on a dead channel succeeded");
    } else if (s->chan_live && t->k.chans[slot].count != s->queued) {
        rvm_sim_violation(t->sim, "ipc.bounded", "a refused send changed the queue (%u -> %u)",
                          s->queued, t->k.chans[slot].count);
    }
    return err;
}

static enum rvm_err resolve_ipc_receive(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (!fits32(a[IPC_RECEIVE_SIZE])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_handle ch = H(a[IPC_RECEIVE_CHANNEL]);
    authorise(t, &s->call, a[IPC_RECEIVE_CAP], 0, RVM_CAP_TYPE_COMM_EDGE, ch);
    uint32_t size = (uint32_t)a[IPC_RECEIVE_SIZE];
    s->call.object = ch;
    s->call.arg.ipc_receive.buf = t->rxbuf;
    s->call.arg.ipc_receive.size = size <= IPC_MAX_LEN ? size : IPC_MAX_LEN;
    return RVM_OK;
}

static enum rvm_err judge_ipc_receive(struct kt *t, struct step *s, enum rvm_err err)
{
    if (err == RVM_OK && kt_live(t, CLS_CHANNEL, s->a[IPC_RECEIVE_CHANNEL])) {
        kt_ipc_received(t, H(s->a[IPC_RECEIVE_CHANNEL]).index, &s->res.msg);
    }
    return err;
}

/* ------------------------------------------------------------------------------------------------
 * Devices and leases
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err resolve_device_register(struct kt *t, struct step *s)
{
    (void)t;
    if (!fits32(s->a[DEVICE_REGISTER_IRQ])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->call.arg.device_register = (uint32_t)s->a[DEVICE_REGISTER_IRQ];
    return RVM_OK;
}

static enum rvm_err judge_device_register(struct kt *t, struct step *s, enum rvm_err err)
{
    if (err == RVM_OK && s->a[DEVICE_REGISTER_IRQ] < RVM_SIM_MAX_IRQS) {
        /* the board wires the line: routed to CPU 0 */
        (void)t->eng->ops->irq_configure(t->eng->ctx, (uint32_t)s->a[DEVICE_REGISTER_IRQ], 0, true);
    }
    return err;
}

static enum rvm_err resolve_lease_grant(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    struct rvm_handle dev = H(a[LEASE_GRANT_DEVICE]);
    authorise(t, &s->call, a[LEASE_GRANT_CAP], a[LEASE_GRANT_NONCE], RVM_CAP_TYPE_DEVICE, dev);
    s->call.object = dev;
    s->call.arg.lease.lessee = H(a[LEASE_GRANT_LESSEE]);
    s->call.arg.lease.duration_ns = a[LEASE_GRANT_DURATION];
    return RVM_OK;
}

static void accepted_lease_grant(struct kt *t, struct step *s)
{
    kt_check_new_cap(t, s->res.out, "lease_grant");
}

static enum rvm_err resolve_lease_renew(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    struct rvm_handle dev = H(a[LEASE_RENEW_DEVICE]);
    authorise(t, &s->call, a[LEASE_RENEW_CAP], a[LEASE_RENEW_NONCE], RVM_CAP_TYPE_DEVICE, dev);
    s->call.object = dev;
    s->call.arg.lease.duration_ns = a[LEASE_RENEW_DURATION];
    return RVM_OK;
}

static enum rvm_err resolve_lease_revoke(struct kt *t, struct step *s)
{
    struct rvm_handle dev = H(s->a[LEASE_REVOKE_DEVICE]);
    authorise(t, &s->call, s->a[LEASE_REVOKE_CAP], 0, RVM_CAP_TYPE_DEVICE, dev);
    s->call.object = dev;
    return RVM_OK;
}

/* Not a kernel call: the device raises its line through the engine, which delivers it later. */
static enum rvm_err resolve_device_irq(struct kt *t, struct step *s)
{
    if (!kt_live(t, CLS_DEVICE, s->a[DEVICE_IRQ_DEVICE])) {
        return RVM_ERR_STALE;
    }
    rvm_sim_raise_irq(t->sim, t->k.devs[H(s->a[DEVICE_IRQ_DEVICE]).index].irq,
                      s->a[DEVICE_IRQ_DELAY]);
    s->own = RVM_OK;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * What runs on a CPU, the epoch pipeline, boot, lookups
 * --------------------------------------------------------------------------------------------- */

/* Entry points that take nothing the operation could vary (epoch, core crash, epoch advance). */
static enum rvm_err resolve_as_is(struct kt *t, struct step *s)
{
    (void)t;
    (void)s;
    return RVM_OK;
}

static enum rvm_err resolve_schedule(struct kt *t, struct step *s)
{
    (void)t;
    s->call.cpu = s->op->cpu;
    return RVM_OK;
}

/* The partition on the operation's CPU touches one of its own mapped regions (pick, offset) or,
 * wild, the address pick * 4096. Simulated hardware: only a fault reaches the kernel. */
static enum rvm_err resolve_guest_access(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    const struct rvm_region_table *rt = &t->k.regions;
    enum rvm_sim_access kind = a[GUEST_ACCESS_WRITE] != 0  ? RVM_SIM_WRITE
                               : a[GUEST_ACCESS_EXEC] != 0 ? RVM_SIM_EXEC
                                                           : RVM_SIM_READ;
    rvm_partition_id part = kt_on_cpu(t, s->op->cpu);
    uint64_t ipa = a[GUEST_ACCESS_PICK] * PAGE + a[GUEST_ACCESS_OFFSET];
    if (a[GUEST_ACCESS_WILD] == 0 && part != 0) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < rt->capacity; i++) { /* bound: max_regions */
            const struct rvm_region *r = &rt->slots[i];
            n += r->used && r->mapped && r->owner == part;
        }
        uint32_t want = n != 0 ? (uint32_t)(a[GUEST_ACCESS_PICK] % n) : 0;
        for (uint32_t i = 0; i < rt->capacity && n != 0; i++) { /* bound: max_regions */
            const struct rvm_region *r = &rt->slots[i];
            if (r->used && r->mapped && r->owner == part && want-- == 0) {
                ipa = r->ipa + a[GUEST_ACCESS_OFFSET] % ((uint64_t)r->npages * PAGE);
                break;
            }
        }
    }
    enum rvm_err err = kt_guest_touch(t, s->op->cpu, ipa, kind, &s->call);
    if (err == RVM_ERR_GUEST_FAULT) {
        s->what = "guest_fault";
        return RVM_OK;
    }
    s->call.entry = KT_NO_CALL;
    s->own = err;
    return RVM_OK;
}

static enum rvm_err judge_guest_access(struct kt *t, struct step *s, enum rvm_err err)
{
    (void)t;
    return s->call.entry == KT_GUEST_FAULT ? RVM_ERR_GUEST_FAULT : err;
}

/* The partition on the operation's CPU reads an M-mode register: only the fault reaches the
 * kernel. */
static enum rvm_err resolve_guest_probe(struct kt *t, struct step *s)
{
    enum rvm_err err = kt_guest_probe(t, s->op->cpu, &s->call);
    if (err == RVM_ERR_GUEST_FAULT) {
        s->what = "guest_probe";
        return RVM_OK;
    }
    s->call.entry = KT_NO_CALL;
    s->own = err;
    return RVM_OK;
}

static enum rvm_err judge_guest_probe(struct kt *t, struct step *s, enum rvm_err err)
{
    (void)t;
    return s->call.entry == KT_PARTITION_FAULT ? RVM_ERR_GUEST_FAULT : err;
}

/* The partition on the operation's CPU traps with x0..x7 = the arguments. */
static enum rvm_err resolve_hypercall(struct kt *t, struct step *s)
{
    (void)t;
    s->call.cpu = s->op->cpu;
    memcpy(s->call.arg.hypercall, s->a, sizeof(s->call.arg.hypercall));
    return RVM_OK;
}

static enum rvm_err judge_hypercall(struct kt *t, struct step *s, enum rvm_err err)
{
    const uint64_t nr = s->a[HYPERCALL_NR];
    const uint32_t slot = H(s->a[HYPERCALL_A1]).index;
    if (err == RVM_OK && (nr == RVM_HC_IPC_SEND || nr == RVM_HC_IPC_RECV) &&
        slot < t->cfg.max_channels) {
        (void)kt_msg_model_sync(t, slot); /* a guest moved a message the model missed */
        t->msg_unknown[slot] = 1;
    }
    return err;
}

static enum rvm_err resolve_boot_phase(struct kt *t, struct step *s)
{
    (void)t;
    if (!fits32(s->a[BOOT_PHASE_PHASE])) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    s->call.arg.boot_phase = (uint32_t)s->a[BOOT_PHASE_PHASE];
    return RVM_OK;
}

static enum rvm_err resolve_boot_load(struct kt *t, struct step *s)
{
    const uint64_t *a = s->a;
    if (a[BOOT_LOAD_URGENCY] > 0xffff) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint64_t bytes = a[BOOT_LOAD_PAGES] * PAGE;
    struct rvm_kernel_image img = {kt_image_bytes,
                                   bytes > sizeof(kt_image_bytes) ? sizeof(kt_image_bytes) : bytes,
                                   0x20000000u,
                                   0x20000000u,
                                   {0, 0},
                                   (uint16_t)a[BOOT_LOAD_URGENCY],
                                   a[BOOT_LOAD_AFFINITY]};
    if (t->riscv) {
        struct rvm_buddy_alloc_plan plan; /* PMP does not translate: load where it lands */
        if (rvm_buddy_prepare_alloc(&t->k.ram, 0, &plan) == RVM_OK) {
            img.load_ipa = img.entry_pc = t->k.ram.base + (uint64_t)plan.page * PAGE;
        }
    }
    s->call.arg.boot_load = img;
    return RVM_OK;
}

/* Not a kernel call: the strongest capability `holder` (none: the hypervisor) has on the one
 * object given. */
static enum rvm_err resolve_cap_lookup(struct kt *t, struct step *s)
{
    static const struct {
        uint32_t arg;
        uint8_t type;
    } objects[] = {{CAP_LOOKUP_PARTITION, RVM_CAP_TYPE_PARTITION},
                   {CAP_LOOKUP_REGION, RVM_CAP_TYPE_REGION},
                   {CAP_LOOKUP_CHANNEL, RVM_CAP_TYPE_COMM_EDGE},
                   {CAP_LOOKUP_DEVICE, RVM_CAP_TYPE_DEVICE}};
    rvm_partition_id holder = 0;
    if (!kt_actor_of(t, s->a[CAP_LOOKUP_HOLDER], 0, &holder)) {
        return RVM_ERR_STALE;
    }
    s->own = RVM_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
        uint64_t object = s->a[objects[i].arg];
        if (object != RVM_SIM_NO_OBJECT) {
            s->res.out = kt_find_cap(t, holder, objects[i].type, H(object));
            s->own = s->res.out.index != RVM_CAP_NONE ? RVM_OK : RVM_ERR_NOT_FOUND;
            break;
        }
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Hostile buddy frees: the allocator must refuse a free of anything but an allocated block at its
 * own order, and change nothing. Not a kernel entry point (the allocator takes no witness), so no
 * tape entry: a refused free leaves the state, and so the chain, as it was.
 * --------------------------------------------------------------------------------------------- */

/* The block a live RAM region holds, by the region table's record. */
static bool region_block(const struct kt *t, uint64_t region, uint64_t *hpa, uint32_t *order)
{
    if (!kt_live(t, CLS_REGION, region)) {
        return false;
    }
    const struct rvm_region *r = &t->k.regions.slots[H(region).index];
    if (r->type == RVM_REGION_DEVICE || r->type == RVM_REGION_SHARED || r->hpa == 0) {
        return false;
    }
    *hpa = r->hpa;
    *order = r->order;
    return true;
}

/* A page no live region's block covers, at or after page `from` of RAM (wrapping); 0 if none. */
static uint64_t unallocated_page(const struct kt *t, uint64_t from)
{
    const struct rvm_buddy *b = &t->k.ram;
    for (uint32_t n = 0; n < b->npages; n++) { /* bound: the managed pages */
        const uint64_t addr = b->base + (uint64_t)((from + n) % b->npages) * PAGE;
        bool covered = false;
        for (uint32_t i = 0; i < t->k.regions.capacity && !covered; i++) { /* bound: regions */
            const struct rvm_region *r = &t->k.regions.slots[i];
            const uint64_t size = (uint64_t)PAGE << r->order;
            covered = r->used && r->type != RVM_REGION_DEVICE && r->type != RVM_REGION_SHARED &&
                      r->hpa != 0 && addr >= r->hpa && addr - r->hpa < size;
        }
        uint32_t order;
        if (!covered && rvm_buddy_allocation_order(b, rvm_hpa(addr), &order) != RVM_OK) {
            return addr;
        }
    }
    return 0;
}

static enum rvm_err resolve_buddy_free(struct kt *t, struct step *s)
{
    const uint64_t pattern = s->a[BUDDY_FREE_PATTERN], arg = s->a[BUDDY_FREE_ADDR];
    uint64_t addr = arg, order = s->a[BUDDY_FREE_ORDER];
    uint64_t hpa = 0;
    uint32_t held = 0;
    if (pattern != BF_GIVEN && pattern != BF_NEVER_ALLOC &&
        !region_block(t, s->a[BUDDY_FREE_REGION], &hpa, &held)) {
        return RVM_ERR_STALE; /* these patterns name a resident RAM region's block */
    }
    switch (pattern) {
    case BF_WRONG_ORDER:
        addr = hpa;
        order = held + 1u + order % 2u; /* above its own order: never the block's */
        break;
    case BF_NEVER_ALLOC:
        addr = unallocated_page(t, arg);
        if (addr == 0) {
            return RVM_ERR_NO_MEMORY; /* every page is allocated: no such free exists */
        }
        break;
    case BF_INSIDE:
        if (held == 0) {
            return RVM_ERR_INVALID_ARGUMENT; /* a one-page block has no inside */
        }
        addr = hpa + (uint64_t)PAGE * (1u + arg % (((uint64_t)1 << held) - 1u));
        order = 0; /* aligned at order 0, but no block starts there */
        break;
    case BF_UNALIGNED:
        addr = hpa + 1u + arg % (PAGE - 1u);
        order = held;
        break;
    default:
        break;
    }
    uint32_t at;
    if (rvm_buddy_allocation_order(&t->k.ram, rvm_hpa(addr), &at) == RVM_OK && at == order) {
        return RVM_ERR_INVALID_ARGUMENT; /* a genuine free of a block in use: not hostile */
    }
    const struct rvm_buddy before = t->k.ram;
    enum rvm_err err =
        rvm_buddy_free(&t->k.ram, rvm_hpa(addr), order > UINT32_MAX ? UINT32_MAX : (uint32_t)order);
    const struct rvm_buddy *after = &t->k.ram;
    t->hostile++;
    if (err == RVM_OK || after->free_pages != before.free_pages ||
        after->nonempty != before.nonempty ||
        memcmp(after->head, before.head, sizeof(before.head)) != 0) {
        rvm_sim_violation(t->sim, "buddy.hostile-free",
                          "free of 0x%" PRIx64 " order %" PRIu64 " returned %s and %s", addr, order,
                          rvm_err_name(err),
                          err == RVM_OK ? "was accepted" : "changed the allocator");
    }
    s->own = err;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * The table and apply()
 * --------------------------------------------------------------------------------------------- */

#define PARTITION_OP(entry, accepted)                                                              \
    {                                                                                              \
        entry, resolve_partition, NULL, accepted, PARTITION_ACTOR, BY_HYPERVISOR                   \
    }

static const struct op_impl impls[NOPS] = {
    [OP_PARTITION_CREATE] = {KT_PARTITION_CREATE, resolve_partition_create, NULL, NULL,
                             PARTITION_CREATE_ACTOR, BY_HYPERVISOR},
    [OP_PARTITION_START] = PARTITION_OP(KT_PARTITION_START, NULL),
    [OP_PARTITION_SUSPEND] = PARTITION_OP(KT_PARTITION_SUSPEND, NULL),
    [OP_PARTITION_RESUME] = PARTITION_OP(KT_PARTITION_RESUME, NULL),
    [OP_PARTITION_HIBERNATE] = PARTITION_OP(KT_PARTITION_HIBERNATE, NULL),
    [OP_PARTITION_RECONSTRUCT] = PARTITION_OP(KT_PARTITION_RECONSTRUCT, NULL),
    [OP_PARTITION_CHECKPOINT] = PARTITION_OP(KT_PARTITION_CHECKPOINT, NULL),
    [OP_PARTITION_DESTROY] = PARTITION_OP(KT_PARTITION_DESTROY, accepted_partition_destroy),
    [OP_PARTITION_SPLIT] = PARTITION_OP(KT_PARTITION_SPLIT, NULL),
    [OP_PARTITION_MERGE] = {KT_PARTITION_MERGE, resolve_partition_merge, NULL,
                            accepted_partition_merge, MERGE_ACTOR, BY_HYPERVISOR},
    [OP_REGION_CREATE] = {KT_REGION_CREATE, resolve_region_create, NULL, NULL, REGION_CREATE_ACTOR,
                          BY_HYPERVISOR},
    [OP_REGION_MAP] = {KT_REGION_MAP, resolve_region_map, NULL, NULL, REGION_MAP_ACTOR,
                       BY_HYPERVISOR},
    [OP_REGION_UNMAP] = {KT_REGION_UNMAP, resolve_region, NULL, NULL, REGION_ACTOR, BY_HYPERVISOR},
    [OP_REGION_DESTROY] = {KT_REGION_DESTROY, resolve_region, NULL, NULL, REGION_ACTOR,
                           BY_HYPERVISOR},
    [OP_REGION_SHARE] = {KT_REGION_SHARE, resolve_region_share, NULL, NULL, REGION_SHARE_ACTOR,
                         BY_HYPERVISOR},
    [OP_CAP_GRANT] = {KT_CAP_GRANT, resolve_cap_grant, NULL, accepted_cap_grant, CAP_GRANT_ACTOR,
                      BY_CAP_HOLDER},
    [OP_CAP_REVOKE] = {KT_CAP_REVOKE, resolve_cap_revoke, judge_cap_revoke, NULL, CAP_REVOKE_ACTOR,
                       BY_CAP_HOLDER},
    [OP_CAP_ATTENUATE] = {KT_CAP_ATTENUATE, resolve_cap_attenuate, judge_cap_attenuate, NULL,
                          CAP_ATTENUATE_ACTOR, BY_CAP_HOLDER},
    [OP_CAP_EPOCH_ADVANCE] = {KT_CAP_EPOCH_ADVANCE, resolve_as_is, NULL, NULL,
                              CAP_EPOCH_ADVANCE_ACTOR, BY_HYPERVISOR},
    [OP_CAP_EPOCH_REVOKE] = {KT_CAP_EPOCH_REVOKE, resolve_cap_epoch_revoke, NULL, NULL,
                             CAP_EPOCH_REVOKE_ACTOR, BY_HYPERVISOR},
    [OP_CHANNEL_CREATE] = {KT_CHANNEL_CREATE, resolve_channel_create, NULL, NULL,
                           CHANNEL_CREATE_ACTOR, BY_HYPERVISOR},
    [OP_CHANNEL_DESTROY] = {KT_CHANNEL_DESTROY, resolve_channel_destroy, NULL, NULL,
                            CHANNEL_DESTROY_ACTOR, BY_HYPERVISOR},
    [OP_IPC_SEND] = {KT_IPC_SEND, resolve_ipc_send, judge_ipc_send, NULL, IPC_SEND_ACTOR,
                     BY_SENDER},
    [OP_IPC_RECEIVE] = {KT_IPC_RECEIVE, resolve_ipc_receive, judge_ipc_receive, NULL,
                        IPC_RECEIVE_ACTOR, BY_RECEIVER},
    [OP_DEVICE_REGISTER] = {KT_DEVICE_REGISTER, resolve_device_register, judge_device_register,
                            NULL, DEVICE_REGISTER_ACTOR, BY_HYPERVISOR},
    [OP_LEASE_GRANT] = {KT_LEASE_GRANT, resolve_lease_grant, NULL, accepted_lease_grant,
                        LEASE_GRANT_ACTOR, BY_HYPERVISOR},
    [OP_LEASE_RENEW] = {KT_LEASE_RENEW, resolve_lease_renew, NULL, NULL, LEASE_RENEW_ACTOR,
                        BY_HYPERVISOR},
    [OP_LEASE_REVOKE] = {KT_LEASE_REVOKE, resolve_lease_revoke, NULL, NULL, LEASE_REVOKE_ACTOR,
                         BY_HYPERVISOR},
    [OP_DEVICE_IRQ] = {KT_NO_CALL, resolve_device_irq, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_PARTITION_FAULT] = {KT_PARTITION_FAULT, resolve_partition_fault, NULL, NULL, NO_ACTOR,
                            BY_HYPERVISOR},
    [OP_CORE_CRASH] = {KT_CORE_CRASH, resolve_as_is, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_GUEST_ACCESS] = {KT_NO_CALL, resolve_guest_access, judge_guest_access, NULL, NO_ACTOR,
                         BY_HYPERVISOR},
    [OP_HYPERCALL] = {KT_HYPERCALL, resolve_hypercall, judge_hypercall, NULL, NO_ACTOR,
                      BY_HYPERVISOR},
    [OP_SCHEDULE] = {KT_SCHEDULE, resolve_schedule, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_EPOCH] = {KT_EPOCH, resolve_as_is, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_BOOT_PHASE] = {KT_BOOT_PHASE, resolve_boot_phase, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_BOOT_LOAD] = {KT_BOOT_LOAD, resolve_boot_load, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_CAP_LOOKUP] = {KT_NO_CALL, resolve_cap_lookup, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
    [OP_GUEST_PROBE] = {KT_NO_CALL, resolve_guest_probe, judge_guest_probe, NULL, NO_ACTOR,
                        BY_HYPERVISOR},
    [OP_BUDDY_FREE] = {KT_NO_CALL, resolve_buddy_free, NULL, NULL, NO_ACTOR, BY_HYPERVISOR},
};

static enum rvm_err apply_op(struct kt *t, const struct rvm_sim_call *c, uint64_t *created,
                             struct rvm_sim *sim, bool *was_live)
{
    const struct rvm_sim_op_spec *spec = &kt_ops[c->op];
    const struct op_impl *impl = &impls[c->op];
    const uint64_t before = t->k.log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = spec->creates;

    for (uint32_t i = 0; i < spec->nargs; i++) { /* bound: the operation's arguments */
        if (spec->args[i].type == RVM_SIM_ARG_OBJECT) {
            was_live[i] = kt_live(t, spec->args[i].cls, c->args[i]);
        }
    }

    struct step s;
    memset(&s, 0, sizeof(s));
    s.op = c;
    s.a = c->args;
    s.what = spec->name;
    kt_call_init(&s.call, impl->entry);
    kt_result_init(&s.res);
    if (impl->actor_arg != NO_ACTOR) {
        rvm_partition_id dflt = 0;
        enum rvm_err unresolved = natural_actor(t, impl->natural, c->args, &dflt);
        if (c->args[impl->actor_arg] == RVM_SIM_NO_OBJECT && unresolved != RVM_OK) {
            return unresolved;
        }
        if (!kt_actor_of(t, c->args[impl->actor_arg], dflt, &s.call.actor)) {
            return RVM_ERR_STALE;
        }
    }
    enum rvm_err err = impl->resolve(t, &s);
    if (err != RVM_OK) {
        return err;
    }
    err = s.call.entry != KT_NO_CALL ? kt_invoke(t, &s.call, s.what, &s.res) : s.own;
    if (impl->judge != NULL) {
        err = impl->judge(t, &s, err);
    }
    if (err == RVM_OK) {
        kt_check_args_live(t, c, was_live, s.call.actor);
        if (spec->creates >= 0) {
            *created = P(s.res.out);
            t->primary = *created;
        }
        if (impl->accepted != NULL) {
            impl->accepted(t, &s);
        }
    }
    kt_after_event(t, before);
    return err;
}

enum rvm_err kt_apply(void *inst, const struct rvm_sim_call *c, uint64_t *created,
                      struct rvm_sim *sim)
{
    struct kt *t = inst;
    if (c->op >= NOPS) {
        return RVM_ERR_UNSUPPORTED;
    }
    bool was_live[RVM_SIM_MAX_ARGS] = {false};
    enum rvm_err err = apply_op(t, c, created, sim, was_live);
    kt_probe_op(t, c, was_live, err);
    return err;
}
