/* SPDX-License-Identifier: MIT */
/* The kernel target's tables: parameters, operations and their arguments (indexed by the
 * argument enums of target_kernel_internal.h), queries, fault kinds; and the target itself. */
#include "target_kernel_internal.h"

const char *const kt_classes[NCLS] = {"partition", "region", "channel", "device", "cap"};

#define ARG_OBJ(n, c, opt)                                                                         \
    {                                                                                              \
        n, RVM_SIM_ARG_OBJECT, c, opt, 0, 0, 0                                                     \
    }
#define ARG_U64(n, opt, def, lo, hi)                                                               \
    {                                                                                              \
        n, RVM_SIM_ARG_U64, 0, opt, def, lo, hi                                                    \
    }
#define ARG_BOOL(n, def)                                                                           \
    {                                                                                              \
        n, RVM_SIM_ARG_BOOL, 0, true, def, 0, 1                                                    \
    }
#define ACTOR ARG_OBJ("actor", CLS_PARTITION, true)
#define CAP   ARG_OBJ("cap", CLS_CAP, true)
#define NONCE ARG_U64("nonce", true, 0, 0, 0)

static const struct rvm_sim_arg_spec params[NPARAMS] = {
    [P_RISCV] = {"riscv", RVM_SIM_ARG_BOOL, 0, true, 0, 0, 1},
    [P_PARTITIONS] = ARG_U64("partitions", true, 8, 2, 64),
    [P_CAPS] = ARG_U64("caps", true, 128, 16, 4096),
    [P_REGIONS] = ARG_U64("regions", true, 32, 4, 1024),
    [P_CHANNELS] = ARG_U64("channels", true, 8, 1, 256),
    [P_DEVICES] = ARG_U64("devices", true, 4, 0, 64),
    [P_RAM_PAGES] = ARG_U64("ram_pages", true, 256, 16, 16384),
    [P_RING] = ARG_U64("ring", true, 64, 32, 65536),
    [P_CHECKPOINT] = ARG_U64("checkpoint", true, 64, 0, 1u << 20),
    [P_EPOCH] = ARG_U64("epoch", true, 200 * US, 1 * US, 1000 * MS),
    [P_SLICE] = ARG_U64("slice", true, 20 * US, 1 * US, 1000 * MS),
    [P_VMIDS] = ARG_U64("vmids", true, 0, 0, 256),
    [P_IMAGES] = ARG_U64("images", true, 2, 0, 8),
    [P_BOOT] = {"boot", RVM_SIM_ARG_BOOL, 0, true, 1, 0, 1},
    [P_COHERENCE] = ARG_U64("coherence", true, 1, 0, 2),
    [P_ORACLES] = {"oracles", RVM_SIM_ARG_BOOL, 0, true, 1, 0, 1},
};

static const struct rvm_sim_arg_spec a_create[] = {
    [PARTITION_CREATE_ACTOR] = ACTOR,
    [PARTITION_CREATE_CAP] = CAP,
    [PARTITION_CREATE_ENTRY] = ARG_U64("entry", true, 0x1000, 0x1000, 0x1000),
    [PARTITION_CREATE_ARG0] = ARG_U64("arg0", true, 0, 0, 255),
    [PARTITION_CREATE_ARG1] = ARG_U64("arg1", true, 0, 0, 255),
    [PARTITION_CREATE_AFFINITY] = ARG_U64("affinity", true, 0, 0, 3),
    [PARTITION_CREATE_URGENCY] = ARG_U64("urgency", true, 100, 0, 200),
};
static const struct rvm_sim_arg_spec a_part[] = {
    [PARTITION_PART] = ARG_OBJ("part", CLS_PARTITION, false),
    [PARTITION_ACTOR] = ACTOR,
    [PARTITION_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_part_p2[] = {
    [PARTITION_PART] = ARG_OBJ("part", CLS_PARTITION, false),
    [PARTITION_ACTOR] = ACTOR,
    [PARTITION_CAP] = CAP,
    [PARTITION_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_merge[] = {
    [MERGE_ABSORBER] = ARG_OBJ("absorber", CLS_PARTITION, false),
    [MERGE_ABSORBED] = ARG_OBJ("absorbed", CLS_PARTITION, false),
    [MERGE_ACTOR] = ACTOR,
    [MERGE_CAP] = CAP,
    [MERGE_CAP2] = ARG_OBJ("cap2", CLS_CAP, true),
    [MERGE_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_region_create[] = {
    [REGION_CREATE_OWNER] = ARG_OBJ("owner", CLS_PARTITION, false),
    [REGION_CREATE_TYPE] =
        ARG_U64("type", true, RVM_REGION_DATA, RVM_REGION_DATA, RVM_REGION_IMMUTABLE),
    [REGION_CREATE_PERMS] = ARG_U64("perms", true, 0, 0, 7),
    [REGION_CREATE_PAGES] = ARG_U64("pages", true, 1, 1, 4),
    [REGION_CREATE_ACTOR] = ACTOR,
    [REGION_CREATE_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_region_map[] = {
    [REGION_MAP_REGION] = ARG_OBJ("region", CLS_REGION, false),
    [REGION_MAP_IPA] = ARG_U64("ipa", true, 0, 0, 0),
    [REGION_MAP_PERMS] = ARG_U64("perms", true, 0, 0, 7),
    [REGION_MAP_ACTOR] = ACTOR,
    [REGION_MAP_CAP] = CAP,
    [REGION_MAP_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_region[] = {
    [REGION_REGION] = ARG_OBJ("region", CLS_REGION, false),
    [REGION_ACTOR] = ACTOR,
    [REGION_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_region_p2[] = {
    [REGION_REGION] = ARG_OBJ("region", CLS_REGION, false),
    [REGION_ACTOR] = ACTOR,
    [REGION_CAP] = CAP,
    [REGION_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_region_share[] = {
    [REGION_SHARE_REGION] = ARG_OBJ("region", CLS_REGION, false),
    [REGION_SHARE_BORROWER] = ARG_OBJ("borrower", CLS_PARTITION, false),
    [REGION_SHARE_PERMS] = ARG_U64("perms", true, RVM_PERM_R, 1, 7),
    [REGION_SHARE_ACTOR] = ACTOR,
    [REGION_SHARE_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_grant[] = {
    [CAP_GRANT_SOURCE] = ARG_OBJ("source", CLS_CAP, false),
    [CAP_GRANT_RECIPIENT] = ARG_OBJ("recipient", CLS_PARTITION, false),
    [CAP_GRANT_RIGHTS] = ARG_U64("rights", true, 1, 1, 0x7f),
    [CAP_GRANT_BADGE] = ARG_U64("badge", true, 0, 0, 0xffff),
    [CAP_GRANT_ACTOR] = ACTOR,
};
static const struct rvm_sim_arg_spec a_revoke[] = {
    [CAP_REVOKE_AUTHORITY] = ARG_OBJ("authority", CLS_CAP, false),
    [CAP_REVOKE_TARGET] = ARG_OBJ("target", CLS_CAP, false),
    [CAP_REVOKE_ACTOR] = ACTOR,
};
static const struct rvm_sim_arg_spec a_attenuate[] = {
    [CAP_ATTENUATE_CAP] = ARG_OBJ("cap", CLS_CAP, false),
    [CAP_ATTENUATE_RIGHTS] = ARG_U64("rights", true, 1, 0, 0x7f),
    [CAP_ATTENUATE_ACTOR] = ACTOR,
};
static const struct rvm_sim_arg_spec a_actor[] = {[CAP_EPOCH_ADVANCE_ACTOR] = ACTOR};
static const struct rvm_sim_arg_spec a_epoch_revoke[] = {
    [CAP_EPOCH_REVOKE_EPOCH] = ARG_U64("epoch", true, 0, 0, 4),
    [CAP_EPOCH_REVOKE_ACTOR] = ACTOR,
};
static const struct rvm_sim_arg_spec a_channel_create[] = {
    [CHANNEL_CREATE_SENDER] = ARG_OBJ("sender", CLS_PARTITION, false),
    [CHANNEL_CREATE_RECEIVER] = ARG_OBJ("receiver", CLS_PARTITION, false),
    [CHANNEL_CREATE_ACTOR] = ACTOR,
    [CHANNEL_CREATE_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_channel[] = {
    [CHANNEL_DESTROY_CHANNEL] = ARG_OBJ("channel", CLS_CHANNEL, false),
    [CHANNEL_DESTROY_ACTOR] = ACTOR,
    [CHANNEL_DESTROY_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_send[] = {
    [IPC_SEND_CHANNEL] = ARG_OBJ("channel", CLS_CHANNEL, false),
    [IPC_SEND_LEN] = ARG_U64("len", true, 8, 0, 40),
    [IPC_SEND_TAG] = ARG_U64("tag", true, 0, 0, 255),
    [IPC_SEND_ACTOR] = ACTOR,
    [IPC_SEND_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_receive[] = {
    [IPC_RECEIVE_CHANNEL] = ARG_OBJ("channel", CLS_CHANNEL, false),
    [IPC_RECEIVE_SIZE] = ARG_U64("size", true, 64, 0, 64),
    [IPC_RECEIVE_ACTOR] = ACTOR,
    [IPC_RECEIVE_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_device_register[] = {
    [DEVICE_REGISTER_IRQ] = ARG_U64("irq", true, 2, 2, 15),
    [DEVICE_REGISTER_ACTOR] = ACTOR,
};
static const struct rvm_sim_arg_spec a_lease_grant[] = {
    [LEASE_GRANT_DEVICE] = ARG_OBJ("device", CLS_DEVICE, false),
    [LEASE_GRANT_LESSEE] = ARG_OBJ("lessee", CLS_PARTITION, false),
    [LEASE_GRANT_DURATION] = ARG_U64("duration", true, 500 * US, 1, 2 * MS),
    [LEASE_GRANT_ACTOR] = ACTOR,
    [LEASE_GRANT_CAP] = CAP,
    [LEASE_GRANT_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_lease_renew[] = {
    [LEASE_RENEW_DEVICE] = ARG_OBJ("device", CLS_DEVICE, false),
    [LEASE_RENEW_DURATION] = ARG_U64("duration", true, 500 * US, 1, 2 * MS),
    [LEASE_RENEW_ACTOR] = ACTOR,
    [LEASE_RENEW_CAP] = CAP,
    [LEASE_RENEW_NONCE] = NONCE,
};
static const struct rvm_sim_arg_spec a_device[] = {
    [LEASE_REVOKE_DEVICE] = ARG_OBJ("device", CLS_DEVICE, false),
    [LEASE_REVOKE_ACTOR] = ACTOR,
    [LEASE_REVOKE_CAP] = CAP,
};
static const struct rvm_sim_arg_spec a_device_irq[] = {
    [DEVICE_IRQ_DEVICE] = ARG_OBJ("device", CLS_DEVICE, false),
    [DEVICE_IRQ_DELAY] = ARG_U64("delay", true, 0, 0, 10 * US),
};
static const struct rvm_sim_arg_spec a_fault[] = {
    [PARTITION_FAULT_PART] = ARG_OBJ("part", CLS_PARTITION, false),
    [PARTITION_FAULT_REASON] = ARG_U64("reason", true, RVM_FAULT_CRASH, 1, 3),
};
static const struct rvm_sim_arg_spec a_access[] = {
    [GUEST_ACCESS_PICK] = ARG_U64("pick", true, 0, 0, 255),
    [GUEST_ACCESS_OFFSET] = ARG_U64("offset", true, 0, 0, 0x3fff),
    [GUEST_ACCESS_WRITE] = ARG_BOOL("write", 0),
    [GUEST_ACCESS_EXEC] = ARG_BOOL("exec", 0),
    [GUEST_ACCESS_WILD] = ARG_BOOL("wild", 0),
};
static const struct rvm_sim_arg_spec a_hypercall[] = {
    [HYPERCALL_NR] = ARG_U64("nr", true, RVM_HC_VERSION, 0, RVM_HC_COUNT + 1),
    [HYPERCALL_A1] = ARG_U64("a1", true, 0, 0, 0),
    [HYPERCALL_A2] = ARG_U64("a2", true, 0, 0, 0),
    [HYPERCALL_A3] = ARG_U64("a3", true, 0, 0, 0),
    [HYPERCALL_A4] = ARG_U64("a4", true, 0, 0, 0),
    [HYPERCALL_A5] = ARG_U64("a5", true, 0, 0, 0),
    [HYPERCALL_A6] = ARG_U64("a6", true, 0, 0, 0),
    [HYPERCALL_A7] = ARG_U64("a7", true, 0, 0, 0),
};
static const struct rvm_sim_arg_spec a_boot_phase[] = {
    [BOOT_PHASE_PHASE] = ARG_U64("phase", false, 0, 0, 6),
};
static const struct rvm_sim_arg_spec a_cap_lookup[] = {
    [CAP_LOOKUP_HOLDER] = ARG_OBJ("holder", CLS_PARTITION, true),
    [CAP_LOOKUP_PARTITION] = ARG_OBJ("partition", CLS_PARTITION, true),
    [CAP_LOOKUP_REGION] = ARG_OBJ("region", CLS_REGION, true),
    [CAP_LOOKUP_CHANNEL] = ARG_OBJ("channel", CLS_CHANNEL, true),
    [CAP_LOOKUP_DEVICE] = ARG_OBJ("device", CLS_DEVICE, true),
};
static const struct rvm_sim_arg_spec a_buddy_free[] = {
    [BUDDY_FREE_PATTERN] = ARG_U64("pattern", true, BF_GIVEN, 0, BF_PATTERNS - 1u),
    [BUDDY_FREE_REGION] = ARG_OBJ("region", CLS_REGION, true),
    [BUDDY_FREE_ADDR] = ARG_U64("addr", true, 0, 0, 4095),
    [BUDDY_FREE_ORDER] = ARG_U64("order", true, 0, 0, 12),
};
static const struct rvm_sim_arg_spec a_boot_load[] = {
    [BOOT_LOAD_PAGES] = ARG_U64("pages", true, 1, 1, 2),
    [BOOT_LOAD_URGENCY] = ARG_U64("urgency", true, 100, 0, 200),
    [BOOT_LOAD_AFFINITY] = ARG_U64("affinity", true, 0, 0, 3),
};

#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

const struct rvm_sim_op_spec kt_ops[NOPS] = {
    [OP_PARTITION_CREATE] = {"partition_create",
                             "create a partition (Created); mints its root "
                             "and self capabilities",
                             N(a_create), a_create, CLS_PARTITION},
    [OP_PARTITION_START] = {"partition_start", "Created -> Running", N(a_part), a_part, -1},
    [OP_PARTITION_SUSPEND] = {"partition_suspend", "Running -> Suspended", N(a_part), a_part, -1},
    [OP_PARTITION_RESUME] = {"partition_resume", "Suspended -> Running (maps back)", N(a_part),
                             a_part, -1},
    [OP_PARTITION_HIBERNATE] = {"partition_hibernate", "compress its regions to Dormant images",
                                N(a_part_p2), a_part_p2, -1},
    [OP_PARTITION_RECONSTRUCT] = {"partition_reconstruct",
                                  "verify and restore its Dormant images (-> Suspended)",
                                  N(a_part_p2), a_part_p2, -1},
    [OP_PARTITION_CHECKPOINT] = {"partition_checkpoint", "checkpoint its memory and vCPU",
                                 N(a_part_p2), a_part_p2, -1},
    [OP_PARTITION_DESTROY] = {"partition_destroy", "destroy: nothing may remain", N(a_part_p2),
                              a_part_p2, -1},
    [OP_PARTITION_SPLIT] = {"partition_split", "split along the coherence cut", N(a_part_p2),
                            a_part_p2, CLS_PARTITION},
    [OP_PARTITION_MERGE] = {"partition_merge", "merge absorbed into absorber (DC-11)", N(a_merge),
                            a_merge, -1},
    [OP_REGION_CREATE] = {"region_create", "a RAM region (perms 0: RW for DATA, RX otherwise)",
                          N(a_region_create), a_region_create, CLS_REGION},
    [OP_REGION_MAP] = {"region_map",
                       "map a region (ipa 0: at its host address; perms 0: all it allows)",
                       N(a_region_map), a_region_map, -1},
    [OP_REGION_UNMAP] = {"region_unmap", "unmap a region", N(a_region), a_region, -1},
    [OP_REGION_DESTROY] = {"region_destroy", "destroy an unmapped region", N(a_region_p2),
                           a_region_p2, -1},
    [OP_REGION_SHARE] = {"region_share", "a read-only view of an IMMUTABLE region",
                         N(a_region_share), a_region_share, CLS_REGION},
    [OP_CAP_GRANT] = {"cap_grant", "grant (or delegate) a capability", N(a_grant), a_grant,
                      CLS_CAP},
    [OP_CAP_REVOKE] = {"cap_revoke", "revoke a capability and its subtree", N(a_revoke), a_revoke,
                       -1},
    [OP_CAP_ATTENUATE] = {"cap_attenuate", "reduce a capability's rights", N(a_attenuate),
                          a_attenuate, -1},
    [OP_CAP_EPOCH_ADVANCE] = {"cap_epoch_advance", "advance the capability epoch", N(a_actor),
                              a_actor, -1},
    [OP_CAP_EPOCH_REVOKE] = {"cap_epoch_revoke", "revoke every capability of an epoch",
                             N(a_epoch_revoke), a_epoch_revoke, -1},
    [OP_CHANNEL_CREATE] = {"channel_create", "a channel sender -> receiver", N(a_channel_create),
                           a_channel_create, CLS_CHANNEL},
    [OP_CHANNEL_DESTROY] = {"channel_destroy", "destroy a channel (queued messages dropped)",
                            N(a_channel), a_channel, -1},
    [OP_IPC_SEND] = {"ipc_send", "send len bytes and a tag (actor: the sender endpoint)", N(a_send),
                     a_send, -1},
    [OP_IPC_RECEIVE] = {"ipc_receive", "receive the oldest message (actor: the receiver)",
                        N(a_receive), a_receive, -1},
    [OP_DEVICE_REGISTER] = {"device_register", "register a device with an interrupt line",
                            N(a_device_register), a_device_register, CLS_DEVICE},
    [OP_LEASE_GRANT] = {"lease_grant", "lease a device (P3); creates the lease capability",
                        N(a_lease_grant), a_lease_grant, CLS_CAP},
    [OP_LEASE_RENEW] = {"lease_renew", "renew a lease", N(a_lease_renew), a_lease_renew, -1},
    [OP_LEASE_REVOKE] = {"lease_revoke", "end a lease", N(a_device), a_device, -1},
    [OP_DEVICE_IRQ] = {"device_irq", "the device raises its interrupt (through the engine)",
                       N(a_device_irq), a_device_irq, -1},
    [OP_PARTITION_FAULT] = {"partition_fault",
                            "the partition failed (reason 1 crash .. 3 return state): F1..F4",
                            N(a_fault), a_fault, -1},
    [OP_CORE_CRASH] = {"core_crash", "the core failed: F4 core restart", 0, NULL, -1},
    [OP_GUEST_ACCESS] = {"guest_access",
                         "the partition on this CPU touches memory: one of its mapped regions "
                         "(pick, offset) or, wild, the address pick * 4096; a fault is reported",
                         N(a_access), a_access, -1},
    [OP_GUEST_PROBE] = {"guest_probe",
                        "the partition on this CPU reads a register of the hypervisor's "
                        "privilege (RISC-V: the M-mode CSR mstatus): an illegal instruction, "
                        "reported as a partition fault (crash); riscv=true only",
                        0, NULL, -1},
    [OP_HYPERCALL] = {"hypercall", "the partition on this CPU traps with x0..x7 = nr, a1..a7",
                      N(a_hypercall), a_hypercall, -1},
    [OP_SCHEDULE] = {"schedule", "a time slice on this CPU", 0, NULL, -1},
    [OP_EPOCH] = {"epoch", "run the epoch pipeline now", 0, NULL, -1},
    [OP_BOOT_PHASE] = {"boot_phase", "run a measured boot phase (target kernel boot=false)",
                       N(a_boot_phase), a_boot_phase, -1},
    [OP_BOOT_LOAD] = {"boot_load", "load a partition image during ROOT_PARTITION", N(a_boot_load),
                      a_boot_load, CLS_PARTITION},
    [OP_CAP_LOOKUP] = {"cap_lookup",
                       "not a kernel call: name the strongest capability `holder` (none: the "
                       "hypervisor) has on the one object given, e.g. a root minted with it",
                       N(a_cap_lookup), a_cap_lookup, CLS_CAP},
    [OP_BUDDY_FREE] =
        {"buddy_free",
         "hostile: free a block the allocator does not hold at that order (pattern: "
         "0 addr/order as given, 1 the region's block at another order, 2 a free "
         "page, 3 inside the region's block, 4 unaligned); must be refused and change "
         "nothing",
         N(a_buddy_free), a_buddy_free, -1},
};

static const char *const queries[NQUERIES] = {
    [Q_PARTITIONS] = "partitions",
    [Q_RUNNING] = "running",
    [Q_SUSPENDED] = "suspended",
    [Q_HIBERNATED] = "hibernated",
    [Q_REGIONS] = "regions",
    [Q_MAPPED] = "mapped",
    [Q_CHANNELS] = "channels",
    [Q_MESSAGES] = "messages",
    [Q_DEVICES] = "devices",
    [Q_LEASES] = "leases",
    [Q_CAPS] = "caps",
    [Q_CAP_EPOCH] = "cap.epoch",
    [Q_EPOCHS] = "epochs",
    [Q_RECOVERY] = "recovery",
    [Q_FREE_PAGES] = "free_pages",
    [Q_STORE] = "store",
    [Q_FAULTS] = "faults",
    [Q_NOTIFICATIONS] = "notifications",
    [Q_HYPERCALLS] = "hypercalls",
    [Q_GUEST_FAULTS] = "guest.faults",
    [Q_GUEST_ACCESSES] = "guest.accesses",
    [Q_TLB_FLUSHES] = "tlb.flushes",
    [Q_VMID_RECLAIMS] = "vmid.reclaims",
    [Q_DISPATCHES] = "dispatches",
    [Q_LAST_CLASS] = "last.class",
    [Q_LAST_RELEASED] = "last.released",
    [Q_BOOTED] = "booted",
    [Q_CHECKS] = "checks",
    [Q_FINGERPRINTS] = "fingerprints",
    [Q_HOSTILE] = "hostile",
    [Q_CUT_VALUE] = "cut.value",
    [Q_CUT_SIDE_A] = "cut.side_a",
    [Q_CUT_EPOCH] = "cut.epoch",
    [Q_DEGRADED] = "degraded",
    [Q_PART_STATE] = "part.state",
    [Q_PART_SIDE] = "part.side",
    [Q_PART_SCORE] = "part.score",
    [Q_PART_PRESSURE] = "part.pressure",
    [Q_PART_VMID] = "part.vmid",
    [Q_CAP_LIVE] = "cap.live",
    [Q_CAP_RIGHTS] = "cap.rights",
    [Q_CAP_DEPTH] = "cap.depth",
    [Q_CAP_HOLDER] = "cap.holder",
    [Q_REGION_TIER] = "region.tier",
    [Q_REGION_MAPPED] = "region.mapped",
    [Q_CHAN_LENGTH] = "channel.length",
};

/* The object each query asks about; the rest are values of the whole system. */
const int32_t kt_query_cls[NQUERIES] = {
    [Q_PARTITIONS] = -1,
    [Q_RUNNING] = -1,
    [Q_SUSPENDED] = -1,
    [Q_HIBERNATED] = -1,
    [Q_REGIONS] = -1,
    [Q_MAPPED] = -1,
    [Q_CHANNELS] = -1,
    [Q_MESSAGES] = -1,
    [Q_DEVICES] = -1,
    [Q_LEASES] = -1,
    [Q_CAPS] = -1,
    [Q_CAP_EPOCH] = -1,
    [Q_EPOCHS] = -1,
    [Q_RECOVERY] = -1,
    [Q_FREE_PAGES] = -1,
    [Q_STORE] = -1,
    [Q_FAULTS] = -1,
    [Q_NOTIFICATIONS] = -1,
    [Q_HYPERCALLS] = -1,
    [Q_GUEST_FAULTS] = -1,
    [Q_GUEST_ACCESSES] = -1,
    [Q_TLB_FLUSHES] = -1,
    [Q_VMID_RECLAIMS] = -1,
    [Q_DISPATCHES] = -1,
    [Q_LAST_CLASS] = -1,
    [Q_LAST_RELEASED] = -1,
    [Q_BOOTED] = -1,
    [Q_CHECKS] = -1,
    [Q_FINGERPRINTS] = -1,
    [Q_HOSTILE] = -1,
    [Q_CUT_VALUE] = -1,
    [Q_CUT_SIDE_A] = -1,
    [Q_CUT_EPOCH] = -1,
    [Q_DEGRADED] = -1,
    [Q_PART_STATE] = CLS_PARTITION,
    [Q_PART_SIDE] = CLS_PARTITION,
    [Q_PART_SCORE] = CLS_PARTITION,
    [Q_PART_PRESSURE] = CLS_PARTITION,
    [Q_PART_VMID] = CLS_PARTITION,
    [Q_CAP_LIVE] = CLS_CAP,
    [Q_CAP_RIGHTS] = CLS_CAP,
    [Q_CAP_DEPTH] = CLS_CAP,
    [Q_CAP_HOLDER] = CLS_CAP,
    [Q_REGION_TIER] = CLS_REGION,
    [Q_REGION_MAPPED] = CLS_REGION,
    [Q_CHAN_LENGTH] = CLS_CHANNEL,
};

static const struct rvm_sim_arg_spec f_part[] = {
    [PARTITION_CRASH_PART] = ARG_U64("part", false, 0, 0, 63),
    [PARTITION_CRASH_REASON] = ARG_U64("reason", true, RVM_FAULT_CRASH, 1, 1),
};
static const struct rvm_sim_arg_spec f_bit[] = {
    [DORMANT_BITFLIP_BIT] = ARG_U64("bit", false, 0, 0, UINT32_MAX),
};
static const struct rvm_sim_arg_spec f_coherence[] = {
    [COHERENCE_FAULT_EPOCHS] = ARG_U64("epochs", false, 1, 1, 8),
};
static const struct rvm_sim_arg_spec f_guest[] = {
    [GUEST_FAULT_CPU] = ARG_U64("cpu", false, 0, 0, 15),
    [GUEST_FAULT_WHERE] = ARG_U64("where", true, 0, 0, 3),
    [GUEST_FAULT_VALUE] = ARG_U64("value", true, 0, 0, UINT32_MAX),
};
static const struct rvm_sim_arg_spec f_hostile[] = {
    [HOSTILE_CPU] = ARG_U64("cpu", false, 0, 0, 15),
    [HOSTILE_VARIANT] = ARG_U64("variant", true, 0, 0, HOSTILE_NR - 1),
    [HOSTILE_VALUE] = ARG_U64("value", true, 0, 0, UINT64_MAX),
};

#define DS (RVM_SIM_FAULT_DEFAULT | RVM_SIM_FAULT_SWARM)

static const struct rvm_sim_fault_spec faults[NFAULTS] = {
    [F_PARTITION_CRASH] = {"partition_crash",
                           "a partition fails (the live partition at or after slot `part`): F1 "
                           "restart, escalating to F2 / F3 / F4",
                           N(f_part), f_part, 1, 200, DS},
    [F_CORE_CRASH] = {"core_crash", "the core fails and recovers (F4: core restart)", 0, NULL, 1,
                      2000, DS},
    [F_DORMANT_BITFLIP] = {"dormant_bitflip",
                           "a bit flips in dormant / checkpoint memory (the image store): "
                           "reconstruction must fail closed",
                           N(f_bit), f_bit, 1, 100, DS},
    [F_GUEST_FAULT] = {"guest_fault",
                       "the partition on `cpu` touches memory it does not own (where: 0 unmapped, "
                       "1 hypervisor RAM, 2 beyond RAM, 3 another partition's page)",
                       N(f_guest), f_guest, 1, 100, DS},
    [F_HOSTILE_HC] = {"hostile_hypercall",
                      "the partition on `cpu` makes a hostile hypercall (variant: 0 stale cap, 1 "
                      "revoked cap, 2 wrong-type cap, 3 unmapped buffer, 4 hypervisor-range "
                      "buffer, 5 overflowing length, 6 unknown number, 7 reserved register set, 8 "
                      "forged handle)",
                      N(f_hostile), f_hostile, 1, 50, DS},
    [F_COHERENCE_UNAVAILABLE] = {"coherence_unavailable",
                                 "the coherence engine is unavailable for the next `epochs` "
                                 "kernel epochs (degraded mode after 3 in a row)",
                                 N(f_coherence), f_coherence, 1, 200, RVM_SIM_FAULT_SWARM},
    [F_MINCUT_OVER_BUDGET] = {"mincut_over_budget",
                              "the min-cut budget of the next `epochs` kernel epochs is below the "
                              "cost of any cut (degraded mode after 3 in a row)",
                              N(f_coherence), f_coherence, 1, 200, RVM_SIM_FAULT_SWARM},
};

const struct rvm_sim_target rvm_sim_target_kernel = {
    .name = "kernel",
    .summary = "the whole core (rvm_kernel_*) on a simulated AArch64 stage-2 or RISC-V PMP "
               "platform",
    .classes = kt_classes,
    .nclasses = NCLS,
    .ops = kt_ops,
    .nops = NOPS,
    .params = params,
    .nparams = NPARAMS,
    .queries = queries,
    .nqueries = NQUERIES,
    .query_cls = kt_query_cls,
    .probes = kt_probes,
    .nprobes = KT_NPROBES,
    .probes_hit = kt_probes_hit,
    .faults = faults,
    .nfaults = NFAULTS,
    .create = kt_create,
    .destroy = kt_destroy,
    .reset = kt_reset,
    .apply = kt_apply,
    .event = kt_event,
    .inject = kt_inject,
    .check = kt_check,
    .hash = kt_hash,
    .explore_hash = kt_explore_hash,
    .check_every_step = kt_check_every_step,
    .witness = kt_witness,
    .liveness = kt_liveness,
    .query = kt_query,
    .drained = NULL,
    .seal = kt_seal,
    .tape = kt_tape_finish,
    .own_nwnm = true,
    .max_cpus = RVM_SIM_PLATFORM_MAX_CPUS,
};
