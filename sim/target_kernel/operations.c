/* SPDX-License-Identifier: MIT */
/*
 * The "kernel" target: the whole core (core/include/rvm/kernel.h) on a simulated platform
 * (sim/hal_platform.h: AArch64 stage-2 with a VMID-tagged TLB, or RISC-V PMP), driven entry
 * point by entry point. docs/simulator.md ("The kernel target") is the user's description; this
 * comment is the map of the file.
 *
 * The HAL. The engine's HAL gives the clock, timers, interrupts and the witness sink; the
 * platform gives stage-2 / PMP, the TLB, guest memory and the hypervisor's view of RAM. The
 * target composes the two (thunks below), and watches what passes: a stage-2 change, a TLB
 * invalidation or a VMID changing hands marks the isolation oracles due; the allocation-failure
 * fault fires at s2_map (the platform refusing a mapping for lack of table memory, the one
 * allocation the kernel asks the platform for); every RAM write is noted so a reset clears
 * exactly those pages.
 *
 * Objects. Classes partition, region, channel, device, cap; handles are the kernel's, packed
 * generation << 32 | index. Operations name them; objects created as a side effect (the root
 * capability minted with a partition, a channel's endpoint capabilities, the children of a
 * split) are found by a scan of the kernel's tables after every call that appended a record of a
 * kind that creates or removes objects, and handed to the engine (rvm_sim_object_new / _dead).
 * Defaults that make hand-written lines short: `actor` omitted is the hypervisor (for
 * capability operations the capability's holder, for IPC the channel's endpoint); `cap` omitted
 * is the actor's strongest capability on the object the operation names; `nonce` omitted is a
 * fresh one. An actor handle whose slot now holds another partition is refused here (STALE):
 * nobody can call as a partition that no longer exists. Values that do not fit the kernel API's
 * types are refused here too (INVALID_ARGUMENT); neither reaches the kernel.
 *
 * "No witness, no mutation" is checked here (own_nwnm), around every call into the kernel. A call
 * that appended a record passes; while the sink takes everything, a call that appends nothing
 * must be one that records nothing by design (witness.unrecorded: the kernel witnesses every
 * refusal while the log has room). So the protected state is fingerprinted only around the calls
 * that may leave no record (time slices, one in NWNM_SLICE; interrupts; hypercalls; every call
 * while the sink is not healthy): a summary of every table a kernel operation changes each time,
 * and one call in NWNM_FULL also the full rvm_kernel_hash_ex(RVM_KHASH_NO_SCHED) through the
 * engine's fast fingerprint compression.
 *
 * Oracles after every step (check()): the ones a call made due (isolation through the platform's
 * oracle when stage-2, the TLB or a VMID's owner changed; stage-2 agreement with the kernel's
 * mappings; the run queues' heap property; the coherence cut against a brute-force minimum over
 * every bipartition after an epoch computed one), rvm_kernel_check every CHECK_EVERY steps (the
 * subsystem that broke named) and the buddy allocator against a naive page model of the region
 * table every CROSS_EVERY steps. Transition invariants are judged in apply(): nothing stale or
 * revoked usable, capability monotonicity and depth, destroy leaves nothing behind, IPC FIFO
 * order and contents, a full queue drops nothing, hostile hypercalls refused, every successful
 * guest access explained by the kernel's own mappings.
 */
#include "target.h"

#include "fingerprint.h"
#include "hal_platform.h"

#include "rvm/action.h"
#include "rvm/bytes.h"
#include "rvm/kernel.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE       4096u
#define US         1000u
#define MS         1000000u
#define NONE_H     RVM_SIM_NO_OBJECT
#define FP_WORDS   RVM_SHA256_STATE_WORDS
#define HOSTILE_NR 9u

enum { CLS_PARTITION, CLS_REGION, CLS_CHANNEL, CLS_DEVICE, CLS_CAP, NCLS };

enum {
    OP_PARTITION_CREATE,
    OP_PARTITION_START,
    OP_PARTITION_SUSPEND,
    OP_PARTITION_RESUME,
    OP_PARTITION_HIBERNATE,
    OP_PARTITION_RECONSTRUCT,
    OP_PARTITION_CHECKPOINT,
    OP_PARTITION_DESTROY,
    OP_PARTITION_SPLIT,
    OP_PARTITION_MERGE,
    OP_REGION_CREATE,
    OP_REGION_MAP,
    OP_REGION_UNMAP,
    OP_REGION_DESTROY,
    OP_REGION_SHARE,
    OP_CAP_GRANT,
    OP_CAP_REVOKE,
    OP_CAP_ATTENUATE,
    OP_CAP_EPOCH_ADVANCE,
    OP_CAP_EPOCH_REVOKE,
    OP_CHANNEL_CREATE,
    OP_CHANNEL_DESTROY,
    OP_IPC_SEND,
    OP_IPC_RECEIVE,
    OP_DEVICE_REGISTER,
    OP_LEASE_GRANT,
    OP_LEASE_RENEW,
    OP_LEASE_REVOKE,
    OP_DEVICE_IRQ,
    OP_PARTITION_FAULT,
    OP_CORE_CRASH,
    OP_GUEST_ACCESS,
    OP_HYPERCALL,
    OP_SCHEDULE,
    OP_EPOCH,
    OP_BOOT_PHASE,
    OP_BOOT_LOAD,
    OP_CAP_LOOKUP,
    NOPS
};

enum {
    P_RISCV,
    P_PARTITIONS,
    P_CAPS,
    P_REGIONS,
    P_CHANNELS,
    P_DEVICES,
    P_RAM_PAGES,
    P_RING,
    P_CHECKPOINT,
    P_EPOCH,
    P_SLICE,
    P_VMIDS,
    P_IMAGES,
    P_BOOT,
    P_COHERENCE,
    P_ORACLES,
    NPARAMS
};

enum {
    Q_PARTITIONS,
    Q_RUNNING,
    Q_SUSPENDED,
    Q_HIBERNATED,
    Q_REGIONS,
    Q_MAPPED,
    Q_CHANNELS,
    Q_MESSAGES,
    Q_DEVICES,
    Q_LEASES,
    Q_CAPS,
    Q_CAP_EPOCH,
    Q_EPOCHS,
    Q_RECOVERY,
    Q_FREE_PAGES,
    Q_STORE,
    Q_FAULTS,
    Q_NOTIFICATIONS,
    Q_HYPERCALLS,
    Q_GUEST_FAULTS,
    Q_GUEST_ACCESSES,
    Q_TLB_FLUSHES,
    Q_VMID_RECLAIMS,
    Q_DISPATCHES,
    Q_LAST_CLASS,
    Q_LAST_RELEASED,
    Q_BOOTED,
    Q_CHECKS,
    Q_FINGERPRINTS,
    Q_HOSTILE,
    NQUERIES
};

enum { F_PARTITION_CRASH, F_CORE_CRASH, F_DORMANT_BITFLIP, F_GUEST_FAULT, F_HOSTILE_HC, NFAULTS };

/* What a call made due for check(). */
#define D_ISO   0x01u /* stage-2 / PMP, TLB or VMID owner changed: isolation oracles */
#define D_SCHED 0x02u /* run queues touched: heap property */
#define D_FULL  0x04u /* run rvm_kernel_check now (not only when sampled) */
#define D_CUT   0x08u /* an epoch computed a new cut: compare it with the brute-force minimum */
#define D_MAP   0x10u /* stage-2 / PMP mappings changed: the platform's structure, agreement */

/* The check and cross-check periods (steps); every step when 1. */
#define CHECK_EVERY 64u
#define CROSS_EVERY 64u
#define MINCUT_MAX  12u /* brute force over 2^(n-1) bipartitions only up to this many nodes */
#define NWNM_FULL   32u /* every n-th call that may leave no record also compares the full hash */
#define NWNM_SLICE  4u  /* time slices (the scheduler's hot path) bracketed: one in this many */

struct msg_model {
    uint64_t seq;
    uint64_t tag;
    uint32_t len;
    rvm_partition_id sender; /* the channel's sender endpoint when it was sent */
};

struct kt {
    uint64_t prm[NPARAMS];
    bool riscv;
    bool oracles; /* false: only the engine's witness oracles judge (benchmarks: the bare cost) */

    /* platform and the HAL the kernel sees */
    struct rvm_sim_platform plat;
    struct rvm_hal hal;
    struct rvm_hal_ops ops;
    const struct rvm_hal *eng; /* the engine's HAL of the current run */
    struct rvm_sim *sim;       /* the current run */
    uint64_t guest_base;
    uint32_t guest_pages;
    uint8_t *ram_dirty; /* per guest page: written since the last reset */
    bool ram_all_dirty;

    /* the kernel */
    struct rvm_kernel_config cfg;
    void *storage;
    size_t storage_bytes;
    struct rvm_kernel k;
    uint32_t ncpus;
    uint64_t next_nonce;

    /* object registry: per class and slot, the generation handed to the engine as live (0: none)
     * and the highest generation ever seen */
    uint32_t *known[NCLS];
    uint32_t *maxgen[NCLS];
    uint32_t nslots[NCLS];
    uint64_t primary; /* the handle the current op creates (the engine registers it) */
    int32_t primary_cls;

    /* IPC model: per channel slot, the messages queued (FIFO) and the generation it belongs to */
    struct msg_model *msgs;
    uint32_t *msg_head, *msg_count, *msg_gen;
    uint8_t *msg_unknown; /* a raw hypercall moved messages: unchecked until the queue empties */
    uint8_t *mark;        /* naive allocator model: one byte per guest page */
    uint8_t *payload;     /* scratch: msg_bytes + 64 */
    uint8_t *rxbuf;

    /* "no witness, no mutation": a summary of the protected state on every call that may leave
     * no record, the full hash on every NWNM_FULL-th of them */
    struct rvm_crypto fp;
    uint64_t sref;
    bool sref_valid;
    uint32_t ref[FP_WORDS];
    bool ref_valid;
    uint64_t nw_appended;
    bool nw_have, nw_full, nw_skip_ok;
    uint64_t nw_calls, nw_slices;

    /* ranges unmapped during the current call: mapping one back needs no new table memory */
    struct {
        rvm_partition_id part;
        uint64_t ipa, size;
    } unmapped[16];
    uint32_t nunmapped;
    /* partitions whose stage-2 / PMP changed since the last check (bit per slot; all: ~0) */
    uint64_t touched;

    /* check() scheduling */
    uint32_t dirty;
    uint32_t since_full, since_cross;
    uint64_t coh_epoch; /* the coherence engine's epoch count at the last look */

    /* liveness */
    uint8_t *progressed;

    /* statistics (queries) */
    uint64_t checks, fingerprints, hostile, guest_accesses, last_class, last_released;
    struct rvm_sim_verdict pending; /* a violation check() must report */
    bool has_pending;
};

static const char *const classes[NCLS] = {"partition", "region", "channel", "device", "cap"};

/* ------------------------------------------------------------------------------------------------
 * Tables: parameters, operations, queries, faults
 * --------------------------------------------------------------------------------------------- */

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
    ACTOR,
    CAP,
    ARG_U64("entry", true, 0x1000, 0x1000, 0x1000),
    ARG_U64("arg0", true, 0, 0, 255),
    ARG_U64("arg1", true, 0, 0, 255),
    ARG_U64("affinity", true, 0, 0, 3),
    ARG_U64("urgency", true, 100, 0, 200),
};
static const struct rvm_sim_arg_spec a_part[] = {ARG_OBJ("part", CLS_PARTITION, false), ACTOR, CAP};
static const struct rvm_sim_arg_spec a_part_p2[] = {ARG_OBJ("part", CLS_PARTITION, false), ACTOR,
                                                    CAP, NONCE};
static const struct rvm_sim_arg_spec a_merge[] = {
    ARG_OBJ("absorber", CLS_PARTITION, false),
    ARG_OBJ("absorbed", CLS_PARTITION, false),
    ACTOR,
    CAP,
    ARG_OBJ("cap2", CLS_CAP, true),
    NONCE,
};
static const struct rvm_sim_arg_spec a_region_create[] = {
    ARG_OBJ("owner", CLS_PARTITION, false),
    ARG_U64("type", true, RVM_REGION_DATA, RVM_REGION_DATA, RVM_REGION_IMMUTABLE),
    ARG_U64("perms", true, 0, 0, 7),
    ARG_U64("pages", true, 1, 1, 4),
    ACTOR,
    CAP,
};
static const struct rvm_sim_arg_spec a_region_map[] = {
    ARG_OBJ("region", CLS_REGION, false),
    ARG_U64("ipa", true, 0, 0, 0),
    ARG_U64("perms", true, 0, 0, 7),
    ACTOR,
    CAP,
    NONCE,
};
static const struct rvm_sim_arg_spec a_region[] = {ARG_OBJ("region", CLS_REGION, false), ACTOR,
                                                   CAP};
static const struct rvm_sim_arg_spec a_region_p2[] = {ARG_OBJ("region", CLS_REGION, false), ACTOR,
                                                      CAP, NONCE};
static const struct rvm_sim_arg_spec a_region_share[] = {
    ARG_OBJ("region", CLS_REGION, false),
    ARG_OBJ("borrower", CLS_PARTITION, false),
    ARG_U64("perms", true, RVM_PERM_R, 1, 7),
    ACTOR,
    CAP,
};
static const struct rvm_sim_arg_spec a_grant[] = {
    ARG_OBJ("source", CLS_CAP, false),     ARG_OBJ("recipient", CLS_PARTITION, false),
    ARG_U64("rights", true, 1, 1, 0x7f),   ARG_U64("badge", true, 0, 0, 0xffff),
    ARG_OBJ("actor", CLS_PARTITION, true),
};
static const struct rvm_sim_arg_spec a_revoke[] = {
    ARG_OBJ("authority", CLS_CAP, false),
    ARG_OBJ("target", CLS_CAP, false),
    ACTOR,
};
static const struct rvm_sim_arg_spec a_attenuate[] = {
    ARG_OBJ("cap", CLS_CAP, false),
    ARG_U64("rights", true, 1, 0, 0x7f),
    ACTOR,
};
static const struct rvm_sim_arg_spec a_actor[] = {ACTOR};
static const struct rvm_sim_arg_spec a_epoch_revoke[] = {ARG_U64("epoch", true, 0, 0, 4), ACTOR};
static const struct rvm_sim_arg_spec a_channel_create[] = {
    ARG_OBJ("sender", CLS_PARTITION, false),
    ARG_OBJ("receiver", CLS_PARTITION, false),
    ACTOR,
    CAP,
};
static const struct rvm_sim_arg_spec a_channel[] = {ARG_OBJ("channel", CLS_CHANNEL, false), ACTOR,
                                                    CAP};
static const struct rvm_sim_arg_spec a_send[] = {
    ARG_OBJ("channel", CLS_CHANNEL, false),
    ARG_U64("len", true, 8, 0, 40),
    ARG_U64("tag", true, 0, 0, 255),
    ACTOR,
    CAP,
};
static const struct rvm_sim_arg_spec a_receive[] = {
    ARG_OBJ("channel", CLS_CHANNEL, false),
    ARG_U64("size", true, 64, 0, 64),
    ACTOR,
    CAP,
};
static const struct rvm_sim_arg_spec a_device_register[] = {ARG_U64("irq", true, 2, 2, 15), ACTOR};
static const struct rvm_sim_arg_spec a_lease_grant[] = {
    ARG_OBJ("device", CLS_DEVICE, false),
    ARG_OBJ("lessee", CLS_PARTITION, false),
    ARG_U64("duration", true, 500 * US, 1, 2 * MS),
    ACTOR,
    CAP,
    NONCE,
};
static const struct rvm_sim_arg_spec a_lease_renew[] = {
    ARG_OBJ("device", CLS_DEVICE, false),
    ARG_U64("duration", true, 500 * US, 1, 2 * MS),
    ACTOR,
    CAP,
    NONCE,
};
static const struct rvm_sim_arg_spec a_device[] = {ARG_OBJ("device", CLS_DEVICE, false), ACTOR,
                                                   CAP};
static const struct rvm_sim_arg_spec a_device_irq[] = {ARG_OBJ("device", CLS_DEVICE, false),
                                                       ARG_U64("delay", true, 0, 0, 10 * US)};
static const struct rvm_sim_arg_spec a_fault[] = {ARG_OBJ("part", CLS_PARTITION, false),
                                                  ARG_U64("reason", true, RVM_FAULT_CRASH, 1, 3)};
static const struct rvm_sim_arg_spec a_access[] = {
    ARG_U64("pick", true, 0, 0, 255),
    ARG_U64("offset", true, 0, 0, 0x3fff),
    ARG_BOOL("write", 0),
    ARG_BOOL("exec", 0),
    ARG_BOOL("wild", 0),
};
static const struct rvm_sim_arg_spec a_hypercall[] = {
    ARG_U64("nr", true, RVM_HC_VERSION, 0, RVM_HC_COUNT + 1),
    ARG_U64("a1", true, 0, 0, 0),
    ARG_U64("a2", true, 0, 0, 0),
    ARG_U64("a3", true, 0, 0, 0),
    ARG_U64("a4", true, 0, 0, 0),
    ARG_U64("a5", true, 0, 0, 0),
    ARG_U64("a6", true, 0, 0, 0),
    ARG_U64("a7", true, 0, 0, 0),
};
static const struct rvm_sim_arg_spec a_boot_phase[] = {ARG_U64("phase", false, 0, 0, 6)};
static const struct rvm_sim_arg_spec a_cap_lookup[] = {
    ARG_OBJ("holder", CLS_PARTITION, true), ARG_OBJ("partition", CLS_PARTITION, true),
    ARG_OBJ("region", CLS_REGION, true),    ARG_OBJ("channel", CLS_CHANNEL, true),
    ARG_OBJ("device", CLS_DEVICE, true),
};
static const struct rvm_sim_arg_spec a_boot_load[] = {
    ARG_U64("pages", true, 1, 1, 2),
    ARG_U64("urgency", true, 100, 0, 200),
    ARG_U64("affinity", true, 0, 0, 3),
};

#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))

static const struct rvm_sim_op_spec ops[NOPS] = {
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
};

static const struct rvm_sim_arg_spec f_part[] = {ARG_U64("part", false, 0, 0, 63),
                                                 ARG_U64("reason", true, RVM_FAULT_CRASH, 1, 1)};
static const struct rvm_sim_arg_spec f_bit[] = {ARG_U64("bit", false, 0, 0, UINT32_MAX)};
static const struct rvm_sim_arg_spec f_guest[] = {ARG_U64("cpu", false, 0, 0, 15),
                                                  ARG_U64("where", true, 0, 0, 3),
                                                  ARG_U64("value", true, 0, 0, UINT32_MAX)};
static const struct rvm_sim_arg_spec f_hostile[] = {ARG_U64("cpu", false, 0, 0, 15),
                                                    ARG_U64("variant", true, 0, 0, HOSTILE_NR - 1),
                                                    ARG_U64("value", true, 0, 0, UINT64_MAX)};

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
};

/* ------------------------------------------------------------------------------------------------
 * The HAL the kernel sees
 * --------------------------------------------------------------------------------------------- */

static struct kt *KT(void *ctx)
{
    return (struct kt *)ctx;
}

static void *pctx(struct kt *t)
{
    return t->plat.sim.hal.ctx;
}

static void note_ram(struct kt *t, uint64_t hpa, uint64_t len)
{
    if (len == 0) {
        return;
    }
    if (hpa < t->guest_base || hpa - t->guest_base >= (uint64_t)t->guest_pages * PAGE) {
        t->ram_all_dirty = true; /* outside the managed RAM: clear everything next time */
        return;
    }
    uint64_t first = (hpa - t->guest_base) / PAGE;
    uint64_t last = (hpa - t->guest_base + len - 1u) / PAGE;
    for (uint64_t p = first; p <= last && p < t->guest_pages; p++) {
        t->ram_dirty[p] = 1;
    }
}

static uint64_t h_now(void *ctx)
{
    struct kt *t = KT(ctx);
    return t->eng->ops->clock_now_ns(t->eng->ctx);
}

static enum rvm_err h_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline)
{
    struct kt *t = KT(ctx);
    return t->eng->ops->timer_arm(t->eng->ctx, cpu, deadline);
}

static void h_console(void *ctx, const char *text, size_t len)
{
    struct kt *t = KT(ctx);
    t->eng->ops->console_write(t->eng->ctx, text, len);
}

static size_t h_drain(void *ctx, uint64_t first, const uint8_t *rec, size_t n)
{
    struct kt *t = KT(ctx);
    return t->eng->ops->witness_drain(t->eng->ctx, first, rec, n);
}

static bool h_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct kt *t = KT(ctx);
    return t->eng->ops->witness_checkpoint(t->eng->ctx, cp);
}

static enum rvm_err h_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                             uint64_t size, uint32_t perms)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO | D_MAP;
    t->touched |= part - 1u < 64u ? (uint64_t)1 << (part - 1u) : ~(uint64_t)0;
    /* Putting back what this call just unmapped reuses the table pages the unmap released: only
     * a mapping that needs new memory can find none (a kernel undoing a refused operation must
     * be able to rely on that, or nothing could ever be undone). */
    bool restore = false;
    for (uint32_t i = 0; i < t->nunmapped && !restore; i++) {
        restore = t->unmapped[i].part == part && t->unmapped[i].ipa == ipa.v &&
                  t->unmapped[i].size == size;
    }
    if (!restore && t->sim != NULL && rvm_sim_alloc_fails(t->sim)) {
        return RVM_ERR_HAL; /* no table page (AArch64) / PMP slot (RISC-V) for the mapping */
    }
    return t->plat.ops.s2_map(pctx(t), part, ipa, hpa, size, perms);
}

static enum rvm_err h_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO | D_MAP;
    t->touched |= part - 1u < 64u ? (uint64_t)1 << (part - 1u) : ~(uint64_t)0;
    enum rvm_err err = t->plat.ops.s2_unmap(pctx(t), part, ipa, size);
    if (err == RVM_OK) {
        uint32_t i = t->nunmapped < 16u ? t->nunmapped++ : 15u;
        t->unmapped[i].part = part;
        t->unmapped[i].ipa = ipa.v;
        t->unmapped[i].size = size;
    }
    return err;
}

static enum rvm_err h_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct kt *t = KT(ctx);
    if (vmid < RVM_A64_VMID_COUNT && t->plat.vmid_owner[vmid] != part) {
        /* The VMID changes hands: translations the TLB still holds for it would show now (on
         * RISC-V activation reloads the hart's PMP; the oracle compares it all the same). */
        bool cached = t->riscv;
        for (uint32_t i = 0; i < t->plat.tlb.capacity && !cached; i++) {
            cached = t->plat.tlb.entries[i].valid != 0 && t->plat.tlb.entries[i].vmid == vmid;
        }
        t->dirty |= cached ? D_ISO : 0u;
    }
    return t->plat.ops.s2_activate(pctx(t), cpu, part, vmid);
}

static void h_tlb_invalidate(void *ctx, uint16_t vmid)
{
    struct kt *t = KT(ctx);
    t->dirty |= D_ISO;
    t->plat.ops.tlb_invalidate_vmid(pctx(t), vmid);
}

static enum rvm_err h_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                 size_t len)
{
    struct kt *t = KT(ctx);
    return t->plat.ops.guest_read(pctx(t), part, src, dst, len);
}

static enum rvm_err h_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                  size_t len)
{
    struct kt *t = KT(ctx);
    enum rvm_err err = t->plat.ops.guest_write(pctx(t), part, dst, src, len);
    if (err == RVM_OK) {
        for (uint64_t off = 0; off < len; off += PAGE) { /* bound: pages of the buffer */
            uint64_t hpa;
            if (rvm_sim_platform_translate(&t->plat, part, dst.v + off, RVM_SIM_WRITE, &hpa) ==
                RVM_OK) {
                note_ram(t, hpa, 1);
            }
        }
        uint64_t hpa;
        if (rvm_sim_platform_translate(&t->plat, part, dst.v + len - 1u, RVM_SIM_WRITE, &hpa) ==
            RVM_OK) {
            note_ram(t, hpa, 1);
        }
    }
    return err;
}

static enum rvm_err h_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct kt *t = KT(ctx);
    return t->eng->ops->irq_configure(t->eng->ctx, irq, cpu, enabled);
}

static void h_irq_complete(void *ctx, uint32_t irq)
{
    struct kt *t = KT(ctx);
    t->eng->ops->irq_complete(t->eng->ctx, irq);
}

static void h_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    struct kt *t = KT(ctx);
    t->plat.ops.phys_read(pctx(t), src, dst, len);
}

static void h_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    struct kt *t = KT(ctx);
    note_ram(t, dst.v, len);
    t->plat.ops.phys_write(pctx(t), dst, src, len);
}

static void h_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    struct kt *t = KT(ctx);
    t->plat.ops.phys_zero(pctx(t), dst, len);
}

/* ------------------------------------------------------------------------------------------------
 * Life cycle
 * --------------------------------------------------------------------------------------------- */

static void kernel_config(const struct kt *t, uint32_t ncpus, struct rvm_kernel_config *c)
{
    const uint64_t *p = t->prm;
    rvm_kernel_default_config(c);
    c->arch = t->riscv ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
    c->ncpus = ncpus;
    c->nvmids = p[P_VMIDS] != 0 ? (uint32_t)p[P_VMIDS] : ncpus + 2u;
    c->ram_base = t->guest_base;
    c->ram_pages = t->guest_pages;
    c->max_order = 6;
    c->max_partitions = (uint32_t)p[P_PARTITIONS];
    c->max_caps = (uint32_t)p[P_CAPS];
    c->max_regions = (uint32_t)p[P_REGIONS];
    c->max_channels = (uint32_t)p[P_CHANNELS];
    c->queue_depth = 4;
    c->msg_bytes = 32;
    c->max_devices = (uint32_t)p[P_DEVICES];
    c->witness_ring = (uint32_t)p[P_RING];
    c->checkpoint_interval = p[P_CHECKPOINT];
    c->coherence_nodes = p[P_COHERENCE] != 0 ? c->max_partitions : 0;
    c->scratch_pages = 4;
    c->image_bytes = 32u * 1024u;
    c->max_images = 2u * c->max_regions;
    c->epoch_ns = p[P_EPOCH];
    c->slice_ns = p[P_SLICE];
    c->max_lease_ns = 2 * MS;
    c->max_window_ns = 1000 * MS;
    c->max_caps_per_partition = c->max_caps / 2u;
    c->apply_decisions = p[P_COHERENCE] == 2u;
}

static void kt_destroy(void *inst)
{
    struct kt *t = inst;
    if (t == NULL) {
        return;
    }
    rvm_sim_platform_free(&t->plat);
    free(t->storage);
    free(t->ram_dirty);
    for (uint32_t c = 0; c < NCLS; c++) {
        free(t->known[c]);
        free(t->maxgen[c]);
    }
    free(t->msgs);
    free(t->msg_head);
    free(t->msg_count);
    free(t->msg_gen);
    free(t->msg_unknown);
    free(t->mark);
    free(t->payload);
    free(t->rxbuf);
    free(t->progressed);
    free(t);
}

static void *kt_create(const uint64_t *p)
{
    struct kt *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    memcpy(t->prm, p, sizeof(t->prm));
    t->riscv = p[P_RISCV] != 0;
    t->oracles = p[P_ORACLES] != 0;
    if ((p[P_RING] & (p[P_RING] - 1u)) != 0) {
        free(t);
        return NULL;
    }
    /* The platform: RAM = hypervisor bytes (the stage-2 table pool) + the guest RAM the kernel's
     * allocator manages, aligned to the largest buddy block so blocks are physically aligned
     * (RISC-V's NAPOT PMP entries want that). */
    const uint64_t block = (uint64_t)PAGE << 6;
    uint64_t table_pages = 8u * p[P_PARTITIONS] + 16u;
    uint64_t hyp = (table_pages * PAGE + block - 1u) / block * block;
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_default_config(&pc, t->riscv ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64);
    pc.cpus = RVM_SIM_PLATFORM_MAX_CPUS;
    pc.max_partitions = (uint32_t)p[P_PARTITIONS] + 1u;
    pc.hyp_size = hyp;
    pc.ram_size = hyp + p[P_RAM_PAGES] * PAGE;
    pc.table_pages = (uint32_t)table_pages;
    pc.tlb_entries = 64;
    struct rvm_crypto none = {0};
    if (rvm_sim_platform_init(&t->plat, &none, &pc) != RVM_OK) {
        free(t);
        return NULL;
    }
    uint64_t gsize;
    rvm_sim_platform_guest_ram(&t->plat, &t->guest_base, &gsize);
    t->guest_pages = (uint32_t)(gsize / PAGE);
    t->ram_dirty = calloc(t->guest_pages, 1);

    /* Storage for the largest CPU count the platform has; a run uses what its `cpus` needs. */
    kernel_config(t, RVM_SIM_PLATFORM_MAX_CPUS, &t->cfg);
    if (t->cfg.nvmids < RVM_SIM_PLATFORM_MAX_CPUS + 2u) {
        t->cfg.nvmids = RVM_SIM_PLATFORM_MAX_CPUS + 2u; /* sizing only: a run checks its own */
    }
    t->storage_bytes = rvm_kernel_storage_bytes(&t->cfg);
    if (t->storage_bytes == 0 || t->ram_dirty == NULL) {
        kt_destroy(t);
        return NULL;
    }
    t->storage = aligned_alloc(64, (t->storage_bytes + 63u) & ~(size_t)63u);
    t->nslots[CLS_PARTITION] = t->cfg.max_partitions;
    t->nslots[CLS_REGION] = t->cfg.max_regions;
    t->nslots[CLS_CHANNEL] = t->cfg.max_channels;
    t->nslots[CLS_DEVICE] = t->cfg.max_devices;
    t->nslots[CLS_CAP] = t->cfg.max_caps;
    bool ok = t->storage != NULL;
    for (uint32_t c = 0; c < NCLS && ok; c++) {
        t->known[c] = calloc(t->nslots[c] + 1u, sizeof(uint32_t));
        t->maxgen[c] = calloc(t->nslots[c] + 1u, sizeof(uint32_t));
        ok = t->known[c] != NULL && t->maxgen[c] != NULL;
    }
    uint32_t nch = t->cfg.max_channels + 1u;
    t->msgs = calloc((size_t)nch * t->cfg.queue_depth, sizeof(*t->msgs));
    t->msg_head = calloc(nch, sizeof(uint32_t));
    t->msg_count = calloc(nch, sizeof(uint32_t));
    t->msg_gen = calloc(nch, sizeof(uint32_t));
    t->msg_unknown = calloc(nch, 1);
    t->mark = calloc(t->guest_pages + 1u, 1);
    t->payload = calloc(RVM_KERNEL_MSG_MAX + 64u, 1);
    t->rxbuf = calloc(RVM_KERNEL_MSG_MAX + 64u, 1);
    t->progressed = calloc(t->cfg.max_partitions + 1u, 1);
    ok = ok && t->msgs != NULL && t->msg_head != NULL && t->msg_count != NULL &&
         t->msg_gen != NULL && t->msg_unknown != NULL && t->mark != NULL && t->payload != NULL &&
         t->rxbuf != NULL && t->progressed != NULL;
    if (!ok) {
        kt_destroy(t);
        return NULL;
    }
    rvm_fingerprint_provider(&t->fp);
    t->ops = (struct rvm_hal_ops){
        .clock_now_ns = h_now,
        .timer_arm = h_timer_arm,
        .console_write = h_console,
        .witness_drain = h_drain,
        .witness_checkpoint = h_checkpoint,
        .s2_map = h_s2_map,
        .s2_unmap = h_s2_unmap,
        .s2_activate = h_s2_activate,
        .tlb_invalidate_vmid = h_tlb_invalidate,
        .guest_read = h_guest_read,
        .guest_write = h_guest_write,
        .irq_configure = h_irq_configure,
        .irq_complete = h_irq_complete,
        .phys_read = h_phys_read,
        .phys_write = h_phys_write,
        .phys_zero = h_phys_zero,
    };
    t->hal.ops = &t->ops;
    t->hal.ctx = t;
    return t;
}

/* ------------------------------------------------------------------------------------------------
 * Objects: liveness read straight from the kernel's tables, the registry, handles
 * --------------------------------------------------------------------------------------------- */

static struct rvm_handle H(uint64_t v) {
    return rvm_handle_unpack(v);
}

static uint64_t
P(struct rvm_handle h)
{
    return rvm_handle_pack(h);
}

/* The generation slot `i` of class `c` holds while live, or 0 when it is free. */
static uint32_t slot_gen(const struct kt *t, uint32_t c, uint32_t i)
{
    const struct rvm_kernel *k = &t->k;
    switch (c) {
    case CLS_PARTITION:
        return k->parts[i].state != RVM_KPART_FREE ? k->parts[i].generation : 0;
    case CLS_REGION:
        return k->regions.slots[i].used ? k->regions.slots[i].generation : 0;
    case CLS_CHANNEL:
        return k->chans[i].used ? k->chans[i].generation : 0;
    case CLS_DEVICE:
        return k->devs[i].used ? k->devs[i].generation : 0;
    default:
        return (k->caps.slots[i].generation & 1u) != 0 ? k->caps.slots[i].generation : 0;
    }
}

/* Any generation the slot has (live or the next occupant's): for the monotonicity oracle. */
static uint32_t slot_any_gen(const struct kt *t, uint32_t c, uint32_t i)
{
    const struct rvm_kernel *k = &t->k;
    switch (c) {
    case CLS_PARTITION:
        return k->parts[i].generation;
    case CLS_REGION:
        return k->regions.slots[i].generation;
    case CLS_CHANNEL:
        return k->chans[i].generation;
    case CLS_DEVICE:
        return k->devs[i].generation;
    default:
        return k->caps.slots[i].generation;
    }
}

static bool live(const struct kt *t, uint32_t c, uint64_t handle)
{
    if (handle == RVM_SIM_NO_OBJECT || handle == RVM_SIM_UNBOUND_OBJECT) {
        return false;
    }
    struct rvm_handle h = H(handle);
    return h.index < t->nslots[c] && h.generation != 0 && slot_gen(t, c, h.index) == h.generation;
}

static struct rvm_handle part_handle(const struct kt *t, uint32_t slot)
{
    struct rvm_handle h = {slot, t->k.parts[slot].generation};
    return h;
}

/*
 * Bring the registry in line with the kernel's tables: new live objects go to the engine (except
 * the op's own, which the engine adds), dead ones leave it. Generations never go back
 * (kernel.generation): a handle that was once stale stays stale.
 */
static void sync_objects(struct kt *t)
{
    for (uint32_t c = 0; c < NCLS; c++) {
        for (uint32_t i = 0; i < t->nslots[c]; i++) { /* bound: the class's table */
            uint32_t any = slot_any_gen(t, c, i);
            if (any < t->maxgen[c][i]) {
                rvm_sim_violation(t->sim, "kernel.generation",
                                  "%s slot %u went back from generation %u to %u", classes[c], i,
                                  t->maxgen[c][i], any);
            }
            t->maxgen[c][i] = any > t->maxgen[c][i] ? any : t->maxgen[c][i];
            uint32_t g = slot_gen(t, c, i);
            uint32_t had = t->known[c][i];
            if (g == had) {
                continue;
            }
            if (had != 0) {
                struct rvm_handle h = {i, had};
                rvm_sim_object_dead(t->sim, c, P(h));
            }
            t->known[c][i] = g;
            if (g != 0) {
                struct rvm_handle h = {i, g};
                if (!((int32_t)c == t->primary_cls && P(h) == t->primary)) {
                    rvm_sim_object_new(t->sim, c, P(h));
                }
            }
        }
    }
}

/* Record kinds after which objects may have appeared or gone. */
static bool structural(uint8_t kind)
{
    switch (kind) {
    case RVM_ACT_IPC_SEND:
    case RVM_ACT_IPC_RECEIVE:
    case RVM_ACT_NOTIFICATION_SIGNAL:
    case RVM_ACT_PROOF_REJECTED:
    case RVM_ACT_SCHED_EPOCH:
    case RVM_ACT_COHERENCE_RECOMPUTED:
    case RVM_ACT_STATE_DIGEST:
    case RVM_ACT_REGION_TIER_EPOCH:
    case RVM_ACT_REGION_MAP:
    case RVM_ACT_REGION_UNMAP:
    case RVM_ACT_PARTITION_START:
    case RVM_ACT_PARTITION_SUSPEND:
    case RVM_ACT_PARTITION_RESUME:
    case RVM_ACT_VMID_ASSIGN:
    case RVM_ACT_VMID_RECLAIM:
    case RVM_ACT_VMID_RELEASE:
    case RVM_ACT_CPU_ONLINE:
    case RVM_ACT_CPU_OFFLINE:
    case RVM_ACT_CAP_ATTENUATE:
    case RVM_ACT_CAP_EPOCH_ADVANCE:
    case RVM_ACT_CHECKPOINT_CREATED:
    case RVM_ACT_FAILURE_RESTART:
    case RVM_ACT_DEVICE_LEASE_RENEW:
    case RVM_ACT_MINCUT_BUDGET_EXCEEDED:
    case RVM_ACT_DEGRADED_ENTER:
    case RVM_ACT_DEGRADED_EXIT:
    case RVM_ACT_BOOT_PHASE:
    case RVM_ACT_RECOVERY_EXIT:
        return false;
    default:
        return true;
    }
}

/* Did the records appended since `from` include a structural kind? */
static bool any_structural(const struct kt *t, uint64_t from)
{
    const struct rvm_witness_log *log = &t->k.log;
    if (log->appended - from > (uint64_t)log->ring_mask + 1u) {
        return true;
    }
    for (uint64_t s = from; s < log->appended; s++) {
        if (structural(log->ring[s & log->ring_mask][16])) {
            return true;
        }
    }
    return false;
}

/* The strongest capability `holder` has on (type, object): most rights, then shallowest. */
static struct rvm_handle find_cap(const struct kt *t, rvm_partition_id holder, uint8_t type,
                                  struct rvm_handle object)
{
    const struct rvm_cap_table *ct = &t->k.caps;
    struct rvm_handle best = rvm_cap_no_handle();
    int32_t best_score = -1;
    for (uint32_t i = 0; i < ct->capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &ct->slots[i];
        if ((s->generation & 1u) == 0 || s->owner != holder || s->type != type ||
            s->object.index != object.index || s->object.generation != object.generation) {
            continue;
        }
        int32_t score = (int32_t)__builtin_popcount(s->rights) * 16 + (15 - (int32_t)s->depth);
        if (score > best_score) {
            best_score = score;
            best = rvm_cap_handle(i, s->generation);
        }
    }
    return best;
}

static rvm_partition_id cap_holder(const struct kt *t, uint64_t cap)
{
    const struct rvm_cap_slot *s = live(t, CLS_CAP, cap) ? &t->k.caps.slots[H(cap).index] : NULL;
    return s != NULL ? s->owner : 0;
}

/* ------------------------------------------------------------------------------------------------
 * "No witness, no mutation" around every kernel call
 * --------------------------------------------------------------------------------------------- */

static void fingerprint(struct kt *t, uint32_t out[FP_WORDS])
{
    struct rvm_sha256_ctx ctx;
    uint8_t d[RVM_SHA256_DIGEST_BYTES];
    rvm_sha256_init(&ctx, &t->fp);
    rvm_kernel_hash_ex(&t->k, &ctx, RVM_KHASH_NO_SCHED);
    rvm_sha256_final(&ctx, d);
    memcpy(out, d, sizeof(d));
    t->fingerprints++;
}

/* `may_skip`: this call may legitimately append nothing (a time slice, an interrupt nobody owns,
 * a hypercall that records nothing). */
static void nw_begin(struct kt *t, bool may_skip);

/* A timer interrupt: a time slice (the epoch pipeline when due). Slices change only what the
 * protected state leaves out unless they append a record, so while the sink is healthy only one
 * in NWNM_SLICE is fingerprinted (every refusal would still have to be witnessed). */
static void nw_begin_slice(struct kt *t)
{
    bool sample =
        t->nw_slices++ % NWNM_SLICE == 0 || t->sim == NULL || !rvm_sim_sink_healthy(t->sim);
    nw_begin(t, sample);
    t->nw_skip_ok = !sample;
}

static void nw_begin(struct kt *t, bool may_skip)
{
    t->nw_skip_ok = false;
    t->nunmapped = 0;
    t->nw_appended = t->k.log.appended;
    t->nw_have = false;
    t->nw_full = false;
    if (t->oracles && (may_skip || t->sim == NULL || !rvm_sim_sink_healthy(t->sim))) {
        if (!t->sref_valid) {
            t->sref = rvm_kernel_summary(&t->k);
            t->sref_valid = true;
        }
        t->nw_have = true;
        t->nw_full = t->nw_calls++ % NWNM_FULL == 0;
        if (t->nw_full && !t->ref_valid) {
            fingerprint(t, t->ref);
            t->ref_valid = true;
        }
    }
}

static void nw_end(struct kt *t, const char *what, enum rvm_err err)
{
    if (!t->oracles || t->k.log.appended != t->nw_appended) {
        t->ref_valid = t->sref_valid = false;
        return;
    }
    if (!t->nw_have && t->nw_skip_ok) {
        t->ref_valid = t->sref_valid = false; /* an unsampled time slice */
        return;
    }
    if (!t->nw_have) {
        rvm_sim_violation(t->sim, "witness.unrecorded",
                          "%s returned %s and appended no record although the sink takes every "
                          "record",
                          what, rvm_err_name(err));
        t->ref_valid = t->sref_valid = false;
        return;
    }
    uint64_t now = rvm_kernel_summary(&t->k);
    bool changed = now != t->sref;
    t->sref = now;
    if (t->nw_full) {
        uint32_t full[FP_WORDS];
        fingerprint(t, full);
        changed = changed || memcmp(full, t->ref, sizeof(full)) != 0;
        memcpy(t->ref, full, sizeof(full));
    } else {
        t->ref_valid = false; /* the full reference is not known to be current any more */
    }
    if (changed) {
        rvm_sim_violation(t->sim, "no-witness-no-mutation",
                          "%s (%s) changed the protected kernel state without appending a "
                          "witness record",
                          what, rvm_err_name(err));
    }
}

/* ------------------------------------------------------------------------------------------------
 * Reset
 * --------------------------------------------------------------------------------------------- */

static const uint8_t cap_key[32] = "rvmsim kernel target: cap MACs";
static const uint8_t image_bytes[64] = "rvmsim kernel target: a boot image; its bytes are measured";

static enum rvm_err boot_all(struct kt *t)
{
    struct rvm_kernel *k = &t->k;
    for (uint32_t ph = 0; ph < RVM_BOOT_ROOT_PARTITION; ph++) {
        enum rvm_err err = rvm_kernel_boot_phase(k, ph);
        if (err != RVM_OK) {
            return err;
        }
    }
    for (uint32_t i = 0; i < t->prm[P_IMAGES]; i++) {
        struct rvm_kernel_image img = {image_bytes,
                                       sizeof(image_bytes),
                                       0x10000000u + i * 0x100000u,
                                       0x10000000u + i * 0x100000u,
                                       {i, 0},
                                       100,
                                       0};
        if (t->riscv) {
            struct rvm_buddy_alloc_plan plan; /* PMP does not translate: load where it lands */
            if (rvm_buddy_prepare_alloc(&k->ram, 0, &plan) != RVM_OK) {
                return RVM_ERR_NO_MEMORY;
            }
            img.load_ipa = img.entry_pc = k->ram.base + (uint64_t)plan.page * PAGE;
        }
        struct rvm_handle h;
        enum rvm_err err = rvm_kernel_boot_load(k, &img, &h);
        if (err != RVM_OK) {
            return err;
        }
    }
    for (uint32_t ph = RVM_BOOT_ROOT_PARTITION; ph < RVM_KERNEL_BOOT_PHASES; ph++) {
        enum rvm_err err = rvm_kernel_boot_phase(k, ph);
        if (err != RVM_OK) {
            return err;
        }
    }
    return RVM_OK;
}

static enum rvm_err kt_reset(void *inst, const struct rvm_sim_setup *s, struct rvm_sim *sim)
{
    struct kt *t = inst;
    if (s->ncpus > RVM_SIM_PLATFORM_MAX_CPUS) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    t->sim = sim;
    t->eng = s->hal;
    t->ncpus = s->ncpus;
    t->hal.crypto = s->hal->crypto;

    /* RAM back to zeros where the last run wrote, the platform to its initial state */
    if (t->ram_all_dirty) {
        memset(rvm_sim_platform_ram(&t->plat, t->guest_base, (uint64_t)t->guest_pages * PAGE), 0,
               (size_t)t->guest_pages * PAGE);
        memset(t->ram_dirty, 0, t->guest_pages);
    } else {
        for (uint32_t p = 0; p < t->guest_pages; p++) {
            if (t->ram_dirty[p] != 0) {
                memset(rvm_sim_platform_ram(&t->plat, t->guest_base + (uint64_t)p * PAGE, PAGE), 0,
                       PAGE);
                t->ram_dirty[p] = 0;
            }
        }
    }
    t->ram_all_dirty = false;
    rvm_sim_platform_reset(&t->plat);

    kernel_config(t, s->ncpus, &t->cfg);
    t->cfg.witness_key = s->hmac_key;
    t->cfg.witness_key_len = s->hmac_key_len;
    /* The capability link-MAC key is the target's, not the run's: MACs reach the records through
     * StateDigest, and a recorded run (rvmsim shrink) must replay to the same log with any seed. */
    t->cfg.cap_key = cap_key;
    t->cfg.cap_key_len = sizeof(cap_key);
    enum rvm_err err = rvm_kernel_init(&t->k, &t->hal, &t->cfg, t->storage, t->storage_bytes);
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t c = 0; c < NCLS; c++) {
        memset(t->known[c], 0, sizeof(uint32_t) * t->nslots[c]);
        memset(t->maxgen[c], 0, sizeof(uint32_t) * t->nslots[c]);
    }
    memset(t->msg_count, 0, sizeof(uint32_t) * (t->cfg.max_channels + 1u));
    memset(t->msg_gen, 0, sizeof(uint32_t) * (t->cfg.max_channels + 1u));
    memset(t->msg_unknown, 0, t->cfg.max_channels + 1u);
    memset(t->progressed, 0, t->cfg.max_partitions + 1u);
    t->next_nonce = 1;
    t->ref_valid = t->sref_valid = false;
    t->nw_calls = t->nw_slices = 0;
    t->dirty = D_ISO | D_MAP | D_SCHED | D_FULL;
    t->since_full = t->since_cross = 0;
    t->coh_epoch = 0;
    t->checks = t->fingerprints = t->hostile = t->guest_accesses = 0;
    t->last_class = t->last_released = 0;
    t->has_pending = false;
    t->primary = NONE_H;
    t->primary_cls = -1;
    /* the sink-ready interrupt drains the log, as the platform's witness driver would */
    err = s->hal->ops->irq_configure(s->hal->ctx, RVM_SIM_IRQ_SINK_READY, 0, true);
    if (err == RVM_OK && t->prm[P_BOOT] != 0) {
        err = boot_all(t);
    }
    if (err == RVM_OK) {
        sync_objects(t);
    }
    return err;
}

/* ------------------------------------------------------------------------------------------------
 * Operations
 * --------------------------------------------------------------------------------------------- */

/* The actor of a call: the hypervisor (0) for `none`; a partition by its handle. A handle whose
 * slot holds another partition now cannot call (false: refused here, STALE). */
static bool actor_of(const struct kt *t, uint64_t h, rvm_partition_id dflt, rvm_partition_id *out)
{
    if (h == RVM_SIM_NO_OBJECT) {
        *out = dflt;
        return true;
    }
    struct rvm_handle a = H(h);
    if (a.index < t->cfg.max_partitions && t->k.parts[a.index].state != RVM_KPART_FREE &&
        t->k.parts[a.index].generation != a.generation) {
        return false;
    }
    *out = a.index >= RVM_PARTITION_INVALID - 1u ? RVM_PARTITION_INVALID : a.index + 1u;
    return true;
}

struct call {
    rvm_partition_id actor;
    struct rvm_kernel_auth auth, auth2;
    const struct rvm_kernel_auth *pa, *pa2; /* NULL for the hypervisor */
};

/* Authority for `actor` on (type, object): the given capability, or the actor's own. */
static void authority(struct kt *t, struct call *c, uint64_t cap_arg, uint64_t nonce, uint8_t type,
                      struct rvm_handle object, struct rvm_kernel_auth *a)
{
    memset(a, 0, sizeof(*a));
    a->cap = cap_arg != RVM_SIM_NO_OBJECT ? H(cap_arg) : find_cap(t, c->actor, type, object);
    a->nonce = nonce != 0 ? nonce : t->next_nonce++;
}

static bool fits32(uint64_t v)
{
    return v <= UINT32_MAX;
}

/* Payload bytes of a message: a function of (tag, len, seq) so a receive can be checked. */
static void fill_payload(uint8_t *buf, uint64_t tag, uint32_t len, uint64_t seq)
{
    uint64_t x = tag * 0x9e3779b97f4a7c15u ^ seq * 0xc2b2ae3d27d4eb4fu ^ len;
    for (uint32_t i = 0; i < len; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9u;
        buf[i] = (uint8_t)(x >> 56);
    }
}

/* false while the model cannot be trusted for this channel */
static bool msg_model_sync(struct kt *t, uint32_t slot)
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

static void ipc_sent(struct kt *t, uint32_t slot, uint64_t seq, uint32_t len, uint64_t tag)
{
    if (!t->oracles || !msg_model_sync(t, slot)) {
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

static void ipc_received(struct kt *t, uint32_t slot, const struct rvm_kernel_msg *msg)
{
    if (!t->oracles || !msg_model_sync(t, slot)) {
        return;
    }
    uint32_t qd = t->cfg.queue_depth;
    if (t->msg_count[slot] == 0) {
        rvm_sim_violation(t->sim, "ipc.fifo", "a receive returned a message none was sent for");
        return;
    }
    const struct msg_model *m = &t->msgs[(size_t)slot * qd + t->msg_head[slot]];
    fill_payload(t->payload, m->tag, m->len, m->seq);
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
static void check_new_cap(struct kt *t, struct rvm_handle h, const char *what)
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
static void check_args_live(struct kt *t, const struct rvm_sim_call *c, const bool *was_live,
                            rvm_partition_id actor)
{
    const struct rvm_sim_op_spec *spec = &ops[c->op];
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
        rvm_sim_violation(t->sim, "kernel.stale-accepted",
                          "%s succeeded with %s=0x%" PRIx64 ", which named no live %s", spec->name,
                          as->name, c->args[a], classes[as->cls]);
        return;
    }
}

static void check_gone(struct kt *t, rvm_partition_id id, const char *what)
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

/* The partition loaded on `cpu`, or 0. */
static rvm_partition_id on_cpu(const struct kt *t, uint32_t cpu)
{
    return cpu < t->ncpus ? t->k.cpus[cpu].loaded : 0;
}

/* A successful guest access must be one the kernel's own tables allow: a mapped region of the
 * running partition covering the address with the permission, at the host page it says. */
static void check_access(struct kt *t, rvm_partition_id part, uint64_t ipa,
                         enum rvm_sim_access kind)
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
                note_ram(t, hpa, 1);
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

/* A guest instruction on `cpu` at `ipa`; a fault goes to the kernel. */
static enum rvm_err guest_touch(struct kt *t, uint32_t cpu, uint64_t ipa, enum rvm_sim_access kind)
{
    rvm_partition_id part = on_cpu(t, cpu);
    if (part == 0) {
        return RVM_ERR_WRONG_STATE; /* nothing runs there: no instruction */
    }
    uint64_t word = 0x5a5a5a5a5a5a5a5au ^ ipa;
    struct rvm_sim_guest_fault gf;
    ipa &= ~(uint64_t)7u;
    enum rvm_err err = rvm_sim_platform_guest_access(&t->plat, cpu, kind, ipa, &word, 8, &gf);
    t->guest_accesses++;
    if (err == RVM_OK) {
        check_access(t, part, ipa, kind);
        return RVM_OK;
    }
    if (err != RVM_ERR_GUEST_FAULT) {
        return err;
    }
    uint32_t cls = 0;
    nw_begin(t, false);
    err = rvm_kernel_guest_fault(&t->k, cpu, ipa, &cls);
    nw_end(t, "guest_fault", err);
    t->last_class = cls;
    t->dirty |= D_SCHED;
    return RVM_ERR_GUEST_FAULT;
}

/* The partition on `cpu` traps with x0..x7 = regs. */
static enum rvm_err hypercall(struct kt *t, uint32_t cpu, const uint64_t regs[8], const char *what)
{
    rvm_partition_id part = on_cpu(t, cpu);
    if (part != 0) {
        const uint32_t base = rvm_kernel_arg_reg(t->cfg.arch);
        for (uint32_t i = 0; i < 8; i++) {
            t->k.cpus[cpu].frame.gpr[base + i] = regs[i]; /* the guest's own registers */
        }
    }
    nw_begin(t, true);
    enum rvm_err err = rvm_kernel_hypercall(&t->k, cpu);
    nw_end(t, what, err);
    t->dirty |= D_SCHED;
    return err;
}

static void after_event(struct kt *t, uint64_t before);

static enum rvm_err kt_apply(void *inst, const struct rvm_sim_call *c, uint64_t *created,
                             struct rvm_sim *sim)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    const uint64_t *a = c->args;
    const struct rvm_sim_op_spec *spec = &ops[c->op];
    struct call cl;
    memset(&cl, 0, sizeof(cl));
    struct rvm_handle out = rvm_cap_no_handle(), out2 = rvm_cap_no_handle();
    enum rvm_err err = RVM_ERR_UNSUPPORTED;
    bool called = true;
    uint64_t before = k->log.appended;
    uint8_t src_rights = 0;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = spec->creates;

    bool was_live[RVM_SIM_MAX_ARGS] = {false};
    for (uint32_t i = 0; i < spec->nargs; i++) {
        if (spec->args[i].type == RVM_SIM_ARG_OBJECT) {
            was_live[i] = live(t, spec->args[i].cls, a[i]);
        }
    }

    /* The natural actor of the operation when none is given. */
    rvm_partition_id dflt = 0;
    uint32_t actor_arg = UINT32_MAX;
    for (uint32_t i = 0; i < spec->nargs; i++) {
        if (strcmp(spec->args[i].name, "actor") == 0) {
            actor_arg = i;
        }
    }
    switch (c->op) {
    case OP_CAP_GRANT:
    case OP_CAP_REVOKE:
    case OP_CAP_ATTENUATE:
        dflt = cap_holder(t, a[0]);
        break;
    case OP_IPC_SEND:
    case OP_IPC_RECEIVE:
        if (live(t, CLS_CHANNEL, a[0])) {
            const struct rvm_kchan *ch = &k->chans[H(a[0]).index];
            dflt = c->op == OP_IPC_SEND ? ch->a : ch->b;
        }
        break;
    default:
        break;
    }
    if (actor_arg != UINT32_MAX && !actor_of(t, a[actor_arg], dflt, &cl.actor)) {
        return RVM_ERR_STALE;
    }
#define AUTH(cap_idx, nonce_val, type, obj)                                                        \
    do {                                                                                           \
        authority(t, &cl, a[cap_idx], (nonce_val), (type), (obj), &cl.auth);                       \
        cl.pa = cl.actor != 0 ? &cl.auth : NULL;                                                   \
    } while (0)
#define SELF_OBJ                                                                                   \
    (cl.actor != 0 && cl.actor <= t->cfg.max_partitions ? part_handle(t, cl.actor - 1u) : H(0))

    switch (c->op) {
    case OP_PARTITION_CREATE: {
        if (a[6] > 0xffff) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        AUTH(1, 0, RVM_CAP_TYPE_PARTITION, SELF_OBJ);
        struct rvm_kernel_partition_req req = {a[2], {a[3], a[4]}, a[5], (uint16_t)a[6]};
        nw_begin(t, false);
        err = rvm_kernel_partition_create(k, cl.actor, cl.pa, &req, &out, &out2);
        break;
    }
    case OP_PARTITION_START:
    case OP_PARTITION_SUSPEND:
    case OP_PARTITION_RESUME:
        AUTH(2, 0, RVM_CAP_TYPE_PARTITION, H(a[0]));
        nw_begin(t, false);
        err = c->op == OP_PARTITION_START ? rvm_kernel_partition_start(k, cl.actor, cl.pa, H(a[0]))
              : c->op == OP_PARTITION_SUSPEND
                  ? rvm_kernel_partition_suspend(k, cl.actor, cl.pa, H(a[0]))
                  : rvm_kernel_partition_resume(k, cl.actor, cl.pa, H(a[0]));
        t->dirty |= D_SCHED;
        break;
    case OP_PARTITION_HIBERNATE:
    case OP_PARTITION_RECONSTRUCT:
    case OP_PARTITION_CHECKPOINT:
    case OP_PARTITION_DESTROY:
    case OP_PARTITION_SPLIT: {
        AUTH(2, a[3], RVM_CAP_TYPE_PARTITION, H(a[0]));
        nw_begin(t, false);
        switch (c->op) {
        case OP_PARTITION_HIBERNATE:
            err = rvm_kernel_partition_hibernate(k, cl.actor, cl.pa, H(a[0]));
            break;
        case OP_PARTITION_RECONSTRUCT:
            err = rvm_kernel_partition_reconstruct(k, cl.actor, cl.pa, H(a[0]));
            break;
        case OP_PARTITION_CHECKPOINT:
            err = rvm_kernel_partition_checkpoint(k, cl.actor, cl.pa, H(a[0]));
            break;
        case OP_PARTITION_DESTROY:
            err = rvm_kernel_partition_destroy(k, cl.actor, cl.pa, H(a[0]));
            break;
        default:
            err = rvm_kernel_partition_split(k, cl.actor, cl.pa, H(a[0]), &out);
            t->dirty |= D_FULL;
            break;
        }
        t->dirty |= D_SCHED;
        break;
    }
    case OP_PARTITION_MERGE:
        AUTH(3, a[5], RVM_CAP_TYPE_PARTITION, H(a[0]));
        cl.auth2 = cl.auth;
        cl.auth2.cap = a[4] != RVM_SIM_NO_OBJECT
                           ? H(a[4])
                           : find_cap(t, cl.actor, RVM_CAP_TYPE_PARTITION, H(a[1]));
        cl.pa2 = cl.actor != 0 ? &cl.auth2 : NULL;
        nw_begin(t, false);
        err = rvm_kernel_partition_merge(k, cl.actor, cl.pa, H(a[0]), cl.pa2, H(a[1]));
        t->dirty |= D_SCHED | D_FULL;
        break;
    case OP_REGION_CREATE: {
        uint64_t type = a[1], perms = a[2];
        if (!fits32(type) || !fits32(perms) || !fits32(a[3])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        if (perms == 0) {
            perms = type == RVM_REGION_DATA ? (RVM_PERM_R | RVM_PERM_W) : (RVM_PERM_R | RVM_PERM_X);
        }
        AUTH(5, 0, RVM_CAP_TYPE_PARTITION, SELF_OBJ);
        nw_begin(t, false);
        err = rvm_kernel_region_create(k, cl.actor, cl.pa, H(a[0]), (uint32_t)type, (uint32_t)perms,
                                       (uint32_t)a[3], &out, &out2);
        break;
    }
    case OP_REGION_MAP: {
        if (!fits32(a[2])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        uint64_t ipa = a[1];
        uint32_t perms = (uint32_t)a[2];
        const struct rvm_region *r = rvm_region_get(&k->regions, H(a[0]));
        if (r != NULL && ipa == 0) {
            ipa = r->hpa; /* at its host address: the one layout both platforms can express */
        }
        if (r != NULL && perms == 0) {
            perms = r->perms;
        }
        AUTH(4, a[5], RVM_CAP_TYPE_REGION, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_region_map(k, cl.actor, cl.pa, H(a[0]), ipa, perms);
        break;
    }
    case OP_REGION_UNMAP:
        AUTH(2, 0, RVM_CAP_TYPE_REGION, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_region_unmap(k, cl.actor, cl.pa, H(a[0]));
        break;
    case OP_REGION_DESTROY:
        AUTH(2, a[3], RVM_CAP_TYPE_REGION, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_region_destroy(k, cl.actor, cl.pa, H(a[0]));
        break;
    case OP_REGION_SHARE:
        if (!fits32(a[2])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        AUTH(4, 0, RVM_CAP_TYPE_REGION, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_region_share(k, cl.actor, cl.pa, H(a[0]), H(a[1]), (uint32_t)a[2], &out,
                                      &out2);
        break;
    case OP_CAP_GRANT: {
        if (a[2] > 0xff) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        const struct rvm_cap_slot *src = rvm_cap_get(&k->caps, H(a[0]));
        src_rights = src != NULL ? src->rights : 0;
        nw_begin(t, false);
        err = rvm_kernel_cap_grant(k, cl.actor, H(a[0]), H(a[1]), (uint8_t)a[2], a[3], &out);
        break;
    }
    case OP_CAP_REVOKE: {
        uint32_t released = 0;
        nw_begin(t, false);
        err = rvm_kernel_cap_revoke(k, cl.actor, H(a[0]), H(a[1]), &released);
        t->last_released = released;
        if (err == RVM_OK && rvm_cap_get(&k->caps, H(a[1])) != NULL) {
            rvm_sim_violation(sim, "cap.revoked-usable",
                              "capability 0x%" PRIx64 " still resolves after its revocation", a[1]);
        }
        break;
    }
    case OP_CAP_ATTENUATE: {
        if (a[1] > 0xff) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, H(a[0]));
        src_rights = s != NULL ? s->rights : 0;
        nw_begin(t, false);
        err = rvm_kernel_cap_attenuate(k, cl.actor, H(a[0]), (uint8_t)a[1]);
        s = rvm_cap_get(&k->caps, H(a[0]));
        if (err == RVM_OK && s != NULL && (s->rights & ~src_rights) != 0) {
            rvm_sim_violation(sim, "cap.monotonicity", "attenuate turned rights 0x%02x into 0x%02x",
                              src_rights, s->rights);
        }
        break;
    }
    case OP_CAP_EPOCH_ADVANCE:
        nw_begin(t, false);
        err = rvm_kernel_cap_epoch_advance(k, cl.actor);
        break;
    case OP_CAP_EPOCH_REVOKE: {
        if (!fits32(a[0])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        uint32_t released = 0;
        nw_begin(t, false);
        err = rvm_kernel_cap_epoch_revoke(k, cl.actor, (uint32_t)a[0], &released);
        t->last_released = released;
        break;
    }
    case OP_CHANNEL_CREATE:
        AUTH(3, 0, RVM_CAP_TYPE_PARTITION, H(a[1]));
        nw_begin(t, false);
        err = rvm_kernel_channel_create(k, cl.actor, cl.pa, H(a[0]), H(a[1]), &out, &out2, NULL);
        break;
    case OP_CHANNEL_DESTROY:
        AUTH(2, 0, RVM_CAP_TYPE_COMM_EDGE, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_channel_destroy(k, cl.actor, cl.pa, H(a[0]));
        break;
    case OP_IPC_SEND: {
        if (!fits32(a[1])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        uint32_t len = (uint32_t)a[1];
        struct rvm_handle ch = H(a[0]);
        bool chan_live = live(t, CLS_CHANNEL, a[0]);
        uint64_t seq = chan_live ? k->chans[ch.index].next_seq : 0;
        uint32_t count = chan_live ? k->chans[ch.index].count : 0;
        if (len <= RVM_KERNEL_MSG_MAX + 64u) {
            fill_payload(t->payload, a[2], len, seq);
        }
        AUTH(4, 0, RVM_CAP_TYPE_COMM_EDGE, ch);
        uint64_t got = 0;
        nw_begin(t, false);
        err = rvm_kernel_ipc_send(k, cl.actor, cl.pa, ch, t->payload,
                                  len <= RVM_KERNEL_MSG_MAX + 64u ? len : RVM_KERNEL_MSG_MAX + 64u,
                                  a[2], &got);
        if (err == RVM_OK && chan_live) {
            if (got != seq) {
                rvm_sim_violation(sim, "ipc.sequence",
                                  "send stamped %" PRIu64 ", the channel's next was %" PRIu64, got,
                                  seq);
            }
            ipc_sent(t, ch.index, got, len, a[2]);
        } else if (err == RVM_OK) {
            rvm_sim_violation(sim, "kernel.stale-accepted", "a send on a dead channel succeeded");
        } else if (chan_live && k->chans[ch.index].count != count) {
            rvm_sim_violation(sim, "ipc.bounded", "a refused send changed the queue (%u -> %u)",
                              count, k->chans[ch.index].count);
        }
        break;
    }
    case OP_IPC_RECEIVE: {
        if (!fits32(a[1])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        struct rvm_handle ch = H(a[0]);
        AUTH(3, 0, RVM_CAP_TYPE_COMM_EDGE, ch);
        struct rvm_kernel_msg msg;
        memset(&msg, 0, sizeof(msg));
        uint32_t size =
            (uint32_t)a[1] <= RVM_KERNEL_MSG_MAX + 64u ? (uint32_t)a[1] : RVM_KERNEL_MSG_MAX + 64u;
        nw_begin(t, false);
        err = rvm_kernel_ipc_receive(k, cl.actor, cl.pa, ch, t->rxbuf, size, &msg);
        if (err == RVM_OK && live(t, CLS_CHANNEL, a[0])) {
            ipc_received(t, ch.index, &msg);
        }
        break;
    }
    case OP_DEVICE_REGISTER:
        if (!fits32(a[0])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        nw_begin(t, false);
        err = rvm_kernel_device_register(k, cl.actor, (uint32_t)a[0], &out, &out2);
        if (err == RVM_OK && a[0] < RVM_SIM_MAX_IRQS) {
            /* the board wires the line: routed to CPU 0 */
            (void)t->eng->ops->irq_configure(t->eng->ctx, (uint32_t)a[0], 0, true);
        }
        break;
    case OP_LEASE_GRANT:
        AUTH(4, a[5], RVM_CAP_TYPE_DEVICE, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_lease_grant(k, cl.actor, cl.pa, H(a[0]), H(a[1]), a[2], &out);
        break;
    case OP_LEASE_RENEW:
        AUTH(3, a[4], RVM_CAP_TYPE_DEVICE, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_lease_renew(k, cl.actor, cl.pa, H(a[0]), a[1]);
        break;
    case OP_LEASE_REVOKE:
        AUTH(2, 0, RVM_CAP_TYPE_DEVICE, H(a[0]));
        nw_begin(t, false);
        err = rvm_kernel_lease_revoke(k, cl.actor, cl.pa, H(a[0]));
        break;
    case OP_DEVICE_IRQ:
        called = false;
        if (!live(t, CLS_DEVICE, a[0])) {
            return RVM_ERR_STALE;
        }
        rvm_sim_raise_irq(sim, k->devs[H(a[0]).index].irq, a[1]);
        err = RVM_OK;
        break;
    case OP_PARTITION_FAULT: {
        if (!fits32(a[1])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        uint32_t cls = 0;
        nw_begin(t, false);
        err = rvm_kernel_partition_fault(k, H(a[0]), (uint32_t)a[1], &cls);
        t->last_class = cls;
        t->dirty |= D_SCHED | D_FULL;
        break;
    }
    case OP_CORE_CRASH:
        nw_begin(t, false);
        err = rvm_kernel_core_crash(k);
        t->dirty |= D_SCHED | D_FULL | D_ISO;
        break;
    case OP_GUEST_ACCESS: {
        called = false;
        enum rvm_sim_access kind = a[2] != 0   ? RVM_SIM_WRITE
                                   : a[3] != 0 ? RVM_SIM_EXEC
                                               : RVM_SIM_READ;
        rvm_partition_id part = on_cpu(t, c->cpu);
        uint64_t ipa = a[0] * PAGE + a[1];
        if (a[4] == 0 && part != 0) {
            /* one of its own mapped regions, chosen by `pick` */
            uint32_t n = 0;
            for (uint32_t i = 0; i < k->regions.capacity; i++) {
                const struct rvm_region *r = &k->regions.slots[i];
                n += r->used && r->mapped && r->owner == part;
            }
            uint32_t want = n != 0 ? (uint32_t)(a[0] % n) : 0;
            for (uint32_t i = 0; i < k->regions.capacity && n != 0; i++) {
                const struct rvm_region *r = &k->regions.slots[i];
                if (r->used && r->mapped && r->owner == part && want-- == 0) {
                    ipa = r->ipa + a[1] % ((uint64_t)r->npages * PAGE);
                    break;
                }
            }
        }
        err = guest_touch(t, c->cpu, ipa, kind);
        break;
    }
    case OP_HYPERCALL:
        called = false; /* bracketed inside */
        err = hypercall(t, c->cpu, a, "hypercall");
        if (err == RVM_OK && (a[0] == RVM_HC_IPC_SEND || a[0] == RVM_HC_IPC_RECV) &&
            H(a[1]).index < t->cfg.max_channels) {
            (void)msg_model_sync(t, H(a[1]).index); /* a guest moved a message the model missed */
            t->msg_unknown[H(a[1]).index] = 1;
        }
        break;
    case OP_SCHEDULE:
        nw_begin(t, true);
        err = rvm_kernel_schedule(k, c->cpu);
        t->dirty |= D_SCHED;
        break;
    case OP_EPOCH:
        nw_begin(t, false);
        err = rvm_kernel_epoch(k);
        t->dirty |= D_SCHED;
        break;
    case OP_BOOT_PHASE:
        if (!fits32(a[0])) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        nw_begin(t, false);
        err = rvm_kernel_boot_phase(k, (uint32_t)a[0]);
        t->dirty |= D_SCHED;
        break;
    case OP_BOOT_LOAD: {
        if (a[1] > 0xffff) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
        struct rvm_kernel_image img = {
            image_bytes, a[0] * PAGE > sizeof(image_bytes) ? sizeof(image_bytes) : a[0] * PAGE,
            0x20000000u, 0x20000000u,
            {0, 0},      (uint16_t)a[1],
            a[2]};
        if (t->riscv) {
            struct rvm_buddy_alloc_plan plan;
            if (rvm_buddy_prepare_alloc(&k->ram, 0, &plan) == RVM_OK) {
                img.load_ipa = img.entry_pc = k->ram.base + (uint64_t)plan.page * PAGE;
            }
        }
        nw_begin(t, false);
        err = rvm_kernel_boot_load(k, &img, &out);
        break;
    }
    case OP_CAP_LOOKUP: {
        called = false;
        static const uint8_t types[] = {RVM_CAP_TYPE_PARTITION, RVM_CAP_TYPE_REGION,
                                        RVM_CAP_TYPE_COMM_EDGE, RVM_CAP_TYPE_DEVICE};
        rvm_partition_id holder = 0;
        if (!actor_of(t, a[0], 0, &holder)) {
            return RVM_ERR_STALE;
        }
        err = RVM_ERR_NOT_FOUND;
        for (uint32_t i = 0; i < 4; i++) {
            if (a[1 + i] != RVM_SIM_NO_OBJECT) {
                out = find_cap(t, holder, types[i], H(a[1 + i]));
                err = out.index != RVM_CAP_NONE ? RVM_OK : RVM_ERR_NOT_FOUND;
                break;
            }
        }
        break;
    }
    default:
        return RVM_ERR_UNSUPPORTED;
    }
#undef AUTH
#undef SELF_OBJ
    if (called) {
        nw_end(t, spec->name, err);
    }

    if (err == RVM_OK) {
        check_args_live(t, c, was_live, cl.actor);
        if (spec->creates >= 0) {
            *created = P(out);
            t->primary = *created;
        }
        switch (c->op) {
        case OP_CAP_GRANT:
            check_new_cap(t, out, "cap_grant");
            if (err == RVM_OK) {
                const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, out);
                if (s != NULL && (src_rights & RVM_CAP_GRANT) == 0 &&
                    (s->rights & (RVM_CAP_GRANT | RVM_CAP_GRANT_ONCE)) != 0) {
                    rvm_sim_violation(sim, "cap.grant-once",
                                      "a child made through GRANT_ONCE carries 0x%02x", s->rights);
                }
            }
            break;
        case OP_LEASE_GRANT:
            check_new_cap(t, out, "lease_grant");
            break;
        case OP_PARTITION_DESTROY:
            check_gone(t, H(a[0]).index + 1u, "partition_destroy");
            break;
        case OP_PARTITION_MERGE:
            if (!live(t, CLS_PARTITION, a[1])) {
                check_gone(t, H(a[1]).index + 1u, "partition_merge");
            }
            break;
        default:
            break;
        }
    }
    after_event(t, before);
    return err;
}

/* ------------------------------------------------------------------------------------------------
 * Events and faults
 * --------------------------------------------------------------------------------------------- */

/* A merge of b into a restamps b's queued messages with a, a split restamps the source's messages
 * on the channels that move to the child (kernel_restructure.c): so does the model. Read from the
 * PartitionMerge / PartitionSplit records, which the epoch pipeline may write too. */
static void model_merges(struct kt *t, uint64_t from)
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

static void after_event(struct kt *t, uint64_t before)
{
    model_merges(t, before);
    if (t->k.coh.epoch != t->coh_epoch) {
        t->coh_epoch = t->k.coh.epoch;
        t->dirty |= D_CUT; /* judged before anything else can add traffic to the graph */
    }
    if (t->k.log.appended != before && any_structural(t, before)) {
        sync_objects(t);
    }
}

static void kt_event(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    enum rvm_err err;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    switch (ev->kind) {
    case RVM_SIM_EV_TIMER:
        nw_begin_slice(t);
        err = rvm_kernel_timer(k, ev->cpu);
        nw_end(t, "timer", err);
        t->dirty |= D_SCHED;
        break;
    case RVM_SIM_EV_IRQ:
        if (ev->irq == RVM_SIM_IRQ_SINK_READY) {
            (void)rvm_witness_flush(&k->log); /* the platform's witness driver, not the kernel */
            t->eng->ops->irq_complete(t->eng->ctx, ev->irq);
            break;
        }
        nw_begin(t, true);
        err = rvm_kernel_irq(k, ev->irq);
        nw_end(t, "irq", err);
        break;
    case RVM_SIM_EV_CPU_OFFLINE:
        nw_begin(t, false);
        err = rvm_kernel_cpu_offline(k, ev->cpu);
        nw_end(t, "cpu_offline", err);
        t->dirty |= D_SCHED;
        break;
    case RVM_SIM_EV_CPU_ONLINE:
        nw_begin(t, false);
        err = rvm_kernel_cpu_online(k, ev->cpu);
        nw_end(t, "cpu_online", err);
        t->dirty |= D_SCHED;
        break;
    default:
        break;
    }
    after_event(t, before);
}

/* The first live partition at or after slot `from` (cyclically), or UINT32_MAX. */
static uint32_t live_slot_from(const struct kt *t, uint64_t from)
{
    uint32_t n = t->cfg.max_partitions;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((from + i) % n);
        if (t->k.parts[s].state != RVM_KPART_FREE) {
            return s;
        }
    }
    return UINT32_MAX;
}

/* A CPU with a partition loaded, starting at `cpu`, or UINT32_MAX. */
static uint32_t busy_cpu(const struct kt *t, uint64_t cpu)
{
    for (uint32_t i = 0; i < t->ncpus; i++) {
        uint32_t c = (uint32_t)((cpu + i) % t->ncpus);
        if (on_cpu(t, c) != 0) {
            return c;
        }
    }
    return UINT32_MAX;
}

/* A capability of class `type` (or any other type when `other`) held by `holder`. */
static struct rvm_handle held_cap(const struct kt *t, rvm_partition_id holder, uint8_t type,
                                  bool other, uint64_t pick)
{
    const struct rvm_cap_table *ct = &t->k.caps;
    uint32_t n = ct->capacity;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((pick + i) % n);
        const struct rvm_cap_slot *c = &ct->slots[s];
        if ((c->generation & 1u) != 0 && c->owner == holder &&
            (other ? c->type != type : c->type == type)) {
            return rvm_cap_handle(s, c->generation);
        }
    }
    return rvm_cap_no_handle();
}

/* A handle that is certainly dead: a slot's previous generation (or one never used). */
static uint64_t dead_handle(const struct kt *t, uint32_t cls, uint64_t pick)
{
    uint32_t n = t->nslots[cls];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)((pick + i) % n);
        uint32_t g = slot_any_gen(t, cls, s);
        /* the previous occupant's generation (capabilities: live generations are odd) */
        uint32_t prev = cls != CLS_CAP ? g - 1u : (g & 1u) != 0 ? g - 2u : g - 1u;
        if (g >= 2u && prev >= 1u && prev < g) {
            struct rvm_handle h = {s, prev};
            if (!live(t, cls, P(h))) {
                return P(h);
            }
        }
    }
    struct rvm_handle h = {0, 0xfffffffdu};
    return P(h);
}

static void hostile_hypercall(struct kt *t, const uint64_t *args)
{
    uint32_t cpu = busy_cpu(t, args[0]);
    if (cpu == UINT32_MAX) {
        return;
    }
    rvm_partition_id me = on_cpu(t, cpu);
    uint64_t v = args[2];
    uint64_t x[8] = {0};
    struct rvm_handle self = part_handle(t, me - 1u);
    struct rvm_handle own = held_cap(t, me, RVM_CAP_TYPE_PARTITION, false, v);
    struct rvm_handle chan_cap = held_cap(t, me, RVM_CAP_TYPE_COMM_EDGE, false, v);
    const struct rvm_cap_slot *cs = rvm_cap_get(&t->k.caps, chan_cap);
    uint64_t chan = cs != NULL ? P(cs->object) : dead_handle(t, CLS_CHANNEL, v);
    uint64_t pmax = t->plat.cfg.ram_base + t->plat.cfg.ram_size;
    switch (args[1] % HOSTILE_NR) {
    case 0: /* a stale capability: CAP_INFO on a dead slot generation */
        x[0] = RVM_HC_CAP_INFO;
        x[1] = dead_handle(t, CLS_CAP, v);
        break;
    case 1: /* a revoked capability presented for an operation on a live object */
        x[0] = RVM_HC_PARTITION_SUSPEND;
        x[1] = P(self);
        x[2] = dead_handle(t, CLS_CAP, v + 1u);
        break;
    case 2: /* the wrong type: a non-partition capability for a partition operation */
        x[0] = RVM_HC_PARTITION_SUSPEND;
        x[1] = P(self);
        x[2] = P(held_cap(t, me, RVM_CAP_TYPE_PARTITION, true, v));
        if (H(x[2]).index == RVM_CAP_NONE) {
            x[2] = P(chan_cap);
        }
        break;
    case 3: /* a buffer nothing is mapped at */
    case 4: /* a buffer in the hypervisor's own memory */
    case 5: /* a length that wraps the address space */
        x[0] = RVM_HC_IPC_SEND;
        x[1] = chan;
        x[2] = P(chan_cap);
        x[3] = args[1] % HOSTILE_NR == 3   ? 0x7ff00000u + (v % 16u) * PAGE
               : args[1] % HOSTILE_NR == 4 ? t->plat.cfg.ram_base + (v % 4u) * PAGE
                                           : UINT64_MAX - 7u;
        x[4] = args[1] % HOSTILE_NR == 5 ? 16u : 8u;
        if (args[1] % HOSTILE_NR == 4 && v % 2u == 1u) {
            x[3] = pmax + (v % 4u) * PAGE; /* beyond RAM */
        }
        break;
    case 6: /* a call number that does not exist */
        x[0] = RVM_HC_COUNT + v % 1000u;
        break;
    case 7: /* a register the call does not use is set */
        x[0] = RVM_HC_VERSION;
        x[1 + v % 7u] = v | 1u;
        break;
    default: /* forged handles: a partition handle for start, with its own cap */
        x[0] = RVM_HC_PARTITION_START;
        x[1] = v | 0x8000000000000000u;
        x[2] = P(own);
        break;
    }
    uint64_t before = t->k.log.appended;
    t->hostile++;
    enum rvm_err err = hypercall(t, cpu, x, "hostile_hypercall");
    if (err == RVM_OK) {
        rvm_sim_violation(t->sim, "kernel.hostile-accepted",
                          "hostile hypercall (variant %" PRIu64 ", x0=%" PRIu64 " x1=0x%" PRIx64
                          " x2=0x%" PRIx64 ") succeeded",
                          args[1] % HOSTILE_NR, x[0], x[1], x[2]);
    }
    after_event(t, before);
}

static void guest_fault(struct kt *t, const uint64_t *args)
{
    uint32_t cpu = busy_cpu(t, args[0]);
    if (cpu == UINT32_MAX) {
        return;
    }
    uint64_t v = args[2];
    uint64_t ipa;
    switch (args[1] % 4u) {
    case 0:
        ipa = 0x7ff00000u + (v % 256u) * PAGE; /* nothing is mapped there */
        break;
    case 1:
        ipa = t->plat.cfg.ram_base + (v % 16u) * PAGE; /* the hypervisor's memory */
        break;
    case 2:
        ipa = t->plat.cfg.ram_base + t->plat.cfg.ram_size + (v % 16u) * PAGE; /* beyond RAM */
        break;
    default:
        ipa = t->guest_base + (v % t->guest_pages) * PAGE; /* any guest page, maybe another's */
        break;
    }
    uint64_t before = t->k.log.appended;
    (void)guest_touch(t, cpu, ipa + (v & 0xff8u), v & 1u ? RVM_SIM_WRITE : RVM_SIM_READ);
    after_event(t, before);
}

static void kt_inject(void *inst, uint32_t fault, const uint64_t *args, struct rvm_sim *sim)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    switch (fault) {
    case F_PARTITION_CRASH: {
        uint32_t s = live_slot_from(t, args[0]);
        if (s == UINT32_MAX || !fits32(args[1])) {
            return;
        }
        uint32_t cls = 0;
        nw_begin(t, false);
        enum rvm_err err =
            rvm_kernel_partition_fault(k, part_handle(t, s), (uint32_t)args[1], &cls);
        nw_end(t, "partition_crash", err);
        t->last_class = cls;
        t->dirty |= D_SCHED | D_FULL;
        break;
    }
    case F_CORE_CRASH: {
        nw_begin(t, false);
        enum rvm_err err = rvm_kernel_core_crash(k);
        nw_end(t, "core_crash", err);
        t->dirty |= D_SCHED | D_FULL | D_ISO;
        break;
    }
    case F_DORMANT_BITFLIP:
        if (k->store_used != 0) {
            (void)rvm_kernel_flip_image_bit(k, args[0] % ((uint64_t)k->store_used * 8u));
            t->ref_valid = t->sref_valid = false; /* damage from outside: a new reference */
        }
        break;
    case F_GUEST_FAULT:
        guest_fault(t, args);
        break;
    case F_HOSTILE_HC:
        hostile_hypercall(t, args);
        break;
    default:
        break;
    }
    after_event(t, before);
}

/* ------------------------------------------------------------------------------------------------
 * Oracles
 * --------------------------------------------------------------------------------------------- */

static bool verdict(struct rvm_sim_verdict *v, const char *inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool verdict(struct rvm_sim_verdict *v, const char *inv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    v->invariant = inv;
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    return false;
}

/*
 * RISC-V: is some hart that runs a guest (the kernel has a partition loaded on it) programmed with
 * a PMP that is not its partition's current layout? The platform's own oracle also flags harts
 * the kernel has parked: the M-mode platform reprograms a hart's PMP only when it next activates
 * a partition there, and a parked hart runs no guest code until then.
 */
static bool riscv_stale(const struct kt *t, struct rvm_sim_isolation_report *r)
{
    const struct rvm_sim_platform *p = &t->plat;
    for (uint32_t c = 0; c < t->ncpus && c < RVM_SIM_PLATFORM_MAX_CPUS; c++) {
        const struct rvm_sim_cpu *cpu = &p->cpu[c];
        if (!cpu->active || t->k.cpus[c].loaded == 0) {
            continue;
        }
        const struct rvm_rv_pmp *want = NULL;
        for (uint32_t sl = 0; sl < p->cfg.max_partitions; sl++) {
            if (p->spaces[sl].part == cpu->part) {
                want = &p->spaces[sl].image;
            }
        }
        if (t->k.cpus[c].loaded != cpu->part || want == NULL || want->count != cpu->pmp.count ||
            memcmp(want->cfg, cpu->pmp.cfg, sizeof(want->cfg)) != 0 ||
            memcmp(want->addr, cpu->pmp.addr, sizeof(want->addr)) != 0) {
            memset(r, 0, sizeof(*r));
            r->part = cpu->part;
            r->cpu = c;
            r->vmid = cpu->vmid;
            return true;
        }
    }
    return false;
}

/* The platform's isolation oracle; with `maps`, agreement with the kernel's mappings of the
 * partitions in `touched` (and with `full`, the platform's structure and every partition). */
static bool check_isolation(struct kt *t, struct rvm_sim_verdict *v, bool maps, bool full)
{
    struct rvm_sim_isolation_report r;
    enum rvm_err err = rvm_sim_platform_check_isolation(&t->plat, &r);
    if (err == RVM_ERR_STALE && t->riscv && !riscv_stale(t, &r)) {
        err = RVM_OK; /* only harts the kernel has parked keep an old PMP: they run nothing */
    }
    switch (err) {
    case RVM_OK:
        break;
    case RVM_ERR_WX:
        return verdict(v, "isolation.wx",
                       "partition %u maps ipa 0x%" PRIx64 " writable and "
                       "executable",
                       r.part, r.ipa);
    case RVM_ERR_SHARE:
        return verdict(v, "isolation.share",
                       "host page 0x%" PRIx64 " mapped by partitions %u and %u, writable by one",
                       r.hpa, r.part, r.other);
    case RVM_ERR_STALE:
        if (t->riscv) {
            return verdict(v, "isolation.stale-tlb",
                           "hart %u runs partition %u (VMID %u) with a PMP that is not its current "
                           "layout: a missing invalidation",
                           r.cpu, r.part, r.vmid);
        }
        return verdict(v, "isolation.stale-tlb",
                       "a cached translation (VMID %u, ipa 0x%" PRIx64 " -> 0x%" PRIx64
                       ") grants partition %u more than its tables: a missing TLB invalidation",
                       r.vmid, r.ipa, r.hpa, r.part);
    default:
        return verdict(v, "isolation.hypervisor",
                       "partition %u maps 0x%" PRIx64 " outside guest RAM (%s)", r.part, r.hpa,
                       rvm_err_name(err));
    }
    if (!maps) {
        return true;
    }
    err = full ? rvm_sim_platform_check(&t->plat) : RVM_OK;
    if (err != RVM_OK) {
        return verdict(v, "platform.check", "%s", rvm_err_name(err));
    }
    uint64_t touched = full ? ~(uint64_t)0 : t->touched;
    t->touched = 0;
    /*
     * Agreement with the kernel's mappings. Every step: each mapped region of a partition whose
     * tables changed translates, first and last page, to the host pages the kernel gave it. With
     * `full` (sampled): also nothing else is mapped, byte for byte (the leaf walk is the costly
     * part).
     */
    const struct rvm_kernel *k = &t->k;
    for (rvm_partition_id part = 1; part <= t->cfg.max_partitions; part++) {
        if (part - 1u < 64u && (touched & ((uint64_t)1 << (part - 1u))) == 0) {
            continue;
        }
        uint64_t want = 0;
        for (uint32_t i = 0; i < k->regions.capacity; i++) {
            const struct rvm_region *g = &k->regions.slots[i];
            if (!g->used || !g->mapped || g->owner != part) {
                continue;
            }
            uint64_t size = (uint64_t)g->npages * PAGE, a = 0, b = 0;
            want += size;
            if (rvm_sim_platform_translate(&t->plat, part, g->ipa, RVM_SIM_READ, &a) != RVM_OK ||
                rvm_sim_platform_translate(&t->plat, part, g->ipa + size - PAGE, RVM_SIM_READ,
                                           &b) != RVM_OK ||
                a != g->hpa || b != g->hpa + size - PAGE) {
                return verdict(v, "isolation.mapping",
                               "partition %u's region %u (ipa 0x%" PRIx64 " -> 0x%" PRIx64
                               ") is not in its stage-2 / PMP as the kernel says",
                               part, i, g->ipa, g->hpa);
            }
        }
        uint64_t have = full ? rvm_sim_platform_mapped_bytes(&t->plat, part) : want;
        if (have != want) {
            return verdict(v, "isolation.mapping",
                           "partition %u has 0x%" PRIx64 " bytes mapped in its stage-2 / PMP but "
                           "the kernel's regions account for 0x%" PRIx64,
                           part, have, want);
        }
    }
    return true;
}

/* The buddy allocator against a naive model: one owner per page from the region table. */
static bool check_naive_allocator(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_kernel *k = &t->k;
    uint8_t *mark = t->mark;
    uint32_t pages = k->ram.npages < t->guest_pages ? k->ram.npages : t->guest_pages;
    memset(mark, 0, pages);
    uint64_t held = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) {
        const struct rvm_region *r = &k->regions.slots[i];
        if (!r->used || r->hpa == 0 || r->type == RVM_REGION_SHARED ||
            r->type == RVM_REGION_DEVICE) {
            continue;
        }
        uint32_t order = 0;
        if (rvm_buddy_allocation_order(&k->ram, rvm_hpa(r->hpa), &order) != RVM_OK ||
            order != r->order) {
            return verdict(v, "buddy.naive-model",
                           "region %u holds 0x%" PRIx64 " (order %u) but the allocator does not "
                           "have that block allocated at that order",
                           i, r->hpa, r->order);
        }
        uint64_t first = (r->hpa - k->ram.base) / PAGE;
        uint64_t n = (uint64_t)1 << r->order;
        for (uint64_t p = first; p < first + n && p < pages; p++) {
            if (mark[p] != 0) {
                return verdict(v, "buddy.naive-model", "host page 0x%" PRIx64 " backs two regions",
                               k->ram.base + p * PAGE);
            }
            mark[p] = 1;
        }
        held += n;
    }
    if (held != rvm_buddy_allocated_pages(&k->ram) ||
        rvm_buddy_free_pages(&k->ram) + held != k->ram.npages) {
        return verdict(v, "buddy.naive-model",
                       "regions hold %" PRIu64 " pages; the allocator says %u allocated, %u free "
                       "of %u",
                       held, rvm_buddy_allocated_pages(&k->ram), rvm_buddy_free_pages(&k->ram),
                       k->ram.npages);
    }
    return true;
}

/* The coherence engine's last cut against the minimum over every bipartition (Gray code). */
static bool check_mincut(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_coherence *coh = &t->k.coh;
    if (t->cfg.coherence_nodes == 0 || !coh->have_cut || coh->cut_epoch != coh->epoch ||
        t->cfg.apply_decisions) {
        return true; /* no fresh cut, or a carried-out decision changed the graph since */
    }
    const struct rvm_graph *g = &coh->graph;
    uint32_t node[MINCUT_MAX];
    uint32_t n = 0;
    for (uint32_t s = 0; s < g->capacity; s++) {
        if (rvm_graph_slot_live(g, s)) {
            if (n == MINCUT_MAX) {
                return true;
            }
            node[n++] = s;
        }
    }
    if (n < 2 || n != coh->cut.nodes) {
        return true; /* the graph changed since the cut (a partition came or went) */
    }
    /* Gray code over subsets of nodes 1..n-1 on side B (node 0 fixed on side A). */
    uint64_t cut = 0, best = UINT64_MAX;
    uint32_t in_b = 0;
    for (uint32_t i = 1; i < (1u << (n - 1u)); i++) {
        uint32_t bit = (uint32_t)__builtin_ctz(i) + 1u; /* node flipping sides */
        bool to_b = (in_b & (1u << bit)) == 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j == bit) {
                continue;
            }
            uint64_t w = rvm_graph_w(g, node[bit], node[j]);
            bool j_b = (in_b & (1u << j)) != 0;
            /* the edge crosses after the flip iff its ends end up on different sides */
            if (to_b == j_b) {
                cut -= w;
            } else {
                cut += w;
            }
        }
        in_b ^= 1u << bit;
        if (cut < best) {
            best = cut;
        }
    }
    if (best != coh->cut.value) {
        return verdict(v, "coherence.mincut",
                       "the engine's cut is %" PRIu64 " but the minimum over every bipartition of "
                       "%u nodes is %" PRIu64,
                       coh->cut.value, n, best);
    }
    /* the side assignment it reports achieves that value */
    uint64_t across = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = i + 1u; j < n; j++) {
            if (coh->cut_side[node[i]] != coh->cut_side[node[j]]) {
                across += rvm_graph_w(g, node[i], node[j]);
            }
        }
    }
    if (across != coh->cut.value) {
        return verdict(v, "coherence.mincut",
                       "the engine's cut sides carry %" PRIu64 ", not its value %" PRIu64, across,
                       coh->cut.value);
    }
    return true;
}

static bool full_check(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_kernel *k = &t->k;
    t->checks++;
    if (rvm_kernel_check(k) == RVM_OK) {
        return true;
    }
    /* name the part that broke */
    static const struct {
        const char *name;
        int which;
    } parts[] = {{"cap.check", 0},  {"proof.check", 1}, {"buddy.check", 2},    {"region.check", 3},
                 {"sched.heap", 4}, {"vmid.check", 5},  {"coherence.check", 6}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        enum rvm_err e = RVM_OK;
        switch (parts[i].which) {
        case 0:
            e = rvm_cap_check(&k->caps);
            break;
        case 1:
            e = rvm_proof_check(&k->nonces);
            break;
        case 2:
            e = rvm_buddy_check(&k->ram);
            break;
        case 3:
            e = rvm_region_check(&k->regions);
            break;
        case 4:
            e = rvm_sched_check(&k->sched);
            break;
        case 5:
            e = rvm_vmid_check(&k->vmids);
            break;
        default:
            e = t->cfg.coherence_nodes != 0 ? rvm_coherence_check(&k->coh) : RVM_OK;
            break;
        }
        if (e != RVM_OK) {
            return verdict(v, parts[i].name, "%s", rvm_err_name(e));
        }
    }
    return verdict(v, "kernel.check", "rvm_kernel_check failed (cross-subsystem invariants%s)",
                   k->internal_error ? ": a commit step failed" : "");
}

static bool kt_check(const void *inst, struct rvm_sim_verdict *v)
{
    struct kt *t = (struct kt *)(uintptr_t)inst; /* bookkeeping only: the kernel is not touched */
    uint32_t dirty = t->dirty;
    t->dirty = 0;
    if (!t->oracles) {
        return true;
    }
    if ((dirty & (D_ISO | D_MAP)) != 0 && !check_isolation(t, v, (dirty & D_MAP) != 0, false)) {
        return false;
    }
    if ((dirty & D_SCHED) != 0 && rvm_sched_check(&t->k.sched) != RVM_OK) {
        return verdict(v, "sched.heap",
                       "the run queues are not binary max-heaps keyed by priority");
    }
    if ((dirty & D_FULL) != 0 || ++t->since_full >= CHECK_EVERY) {
        t->since_full = 0;
        if (!full_check(t, v) || !check_isolation(t, v, true, true)) {
            return false;
        }
    }
    if ((dirty & D_CUT) != 0 && !check_mincut(t, v)) {
        return false;
    }
    if (++t->since_cross >= CROSS_EVERY) {
        t->since_cross = 0;
        if (!check_naive_allocator(t, v)) {
            return false;
        }
    }
    return true;
}

static void kt_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct kt *t = inst;
    rvm_kernel_hash(&t->k, ctx);
}

static struct rvm_witness_log *kt_witness(void *inst)
{
    struct kt *t = inst;
    return &t->k.log;
}

/*
 * Liveness, faults off: guests that have run are done (the hypervisor suspends them), so lower
 * priorities get the CPU; every partition that is Running must be dispatched within the bound,
 * and the witness log must drain.
 */
static enum rvm_sim_live kt_liveness(void *inst, uint32_t round, struct rvm_sim *sim,
                                     struct rvm_sim_verdict *why)
{
    struct kt *t = inst;
    struct rvm_kernel *k = &t->k;
    uint64_t before = k->log.appended;
    t->sim = sim;
    t->primary = NONE_H;
    t->primary_cls = -1;
    if (round == 0) {
        memset(t->progressed, 0, t->cfg.max_partitions + 1u);
        t->dirty |= D_FULL | D_ISO | D_MAP | D_SCHED;
    }
    if (!rvm_kernel_booted(k)) {
        (void)rvm_witness_flush(&k->log);
        return k->log.drained == k->log.appended && k->log.pending_count == 0
                   ? RVM_SIM_LIVE_DONE
                   : RVM_SIM_LIVE_PENDING;
    }
    for (uint32_t cpu = 0; cpu < t->ncpus && round != 0; cpu++) {
        if (!rvm_sim_cpu_online(sim, cpu)) {
            continue;
        }
        rvm_partition_id cur = on_cpu(t, cpu);
        if (cur != 0 && t->progressed[cur] && k->parts[cur - 1u].state == RVM_KPART_RUNNING) {
            nw_begin(t, false);
            enum rvm_err err = rvm_kernel_partition_suspend(k, 0, NULL, part_handle(t, cur - 1u));
            nw_end(t, "liveness suspend", err);
        }
        nw_begin(t, true);
        enum rvm_err err = rvm_kernel_schedule(k, cpu);
        nw_end(t, "liveness schedule", err);
        cur = on_cpu(t, cpu);
        if (cur != 0) {
            t->progressed[cur] = 1;
        }
    }
    t->dirty |= D_SCHED;
    after_event(t, before);
    (void)rvm_witness_flush(&k->log);
    uint32_t waiting = 0, first = 0;
    for (uint32_t i = 0; i < t->cfg.max_partitions; i++) {
        if (k->parts[i].state == RVM_KPART_RUNNING && !t->progressed[i + 1u]) {
            if (waiting++ == 0) {
                first = i + 1u;
            }
        }
    }
    if (waiting == 0 && k->log.drained == k->log.appended && k->log.pending_count == 0) {
        return RVM_SIM_LIVE_DONE;
    }
    if (waiting != 0) {
        why->invariant = "kernel.liveness";
        snprintf(why->detail, sizeof(why->detail),
                 "%u runnable partitions never dispatched (first: partition %u, urgency %u)",
                 waiting, first, k->parts[first - 1u].urgency);
    } else {
        why->invariant = "witness.drain";
        snprintf(why->detail, sizeof(why->detail), "%" PRIu64 " records still not in the sink",
                 k->log.appended - k->log.drained);
    }
    return RVM_SIM_LIVE_PENDING;
}

static uint64_t kt_query(const void *inst, uint32_t q)
{
    const struct kt *t = inst;
    const struct rvm_kernel *k = &t->k;
    uint64_t n = 0;
    switch (q) {
    case Q_PARTITIONS:
    case Q_RUNNING:
    case Q_SUSPENDED:
    case Q_HIBERNATED:
    case Q_FAULTS:
        for (uint32_t i = 0; i < t->cfg.max_partitions; i++) {
            uint8_t st = k->parts[i].state;
            n += q == Q_PARTITIONS   ? st != RVM_KPART_FREE
                 : q == Q_RUNNING    ? st == RVM_KPART_RUNNING
                 : q == Q_SUSPENDED  ? st == RVM_KPART_SUSPENDED
                 : q == Q_HIBERNATED ? st == RVM_KPART_HIBERNATED
                                     : (st != RVM_KPART_FREE ? k->parts[i].faults : 0);
        }
        return n;
    case Q_REGIONS:
        return k->regions.count;
    case Q_MAPPED:
        for (uint32_t i = 0; i < k->regions.capacity; i++) {
            n += k->regions.slots[i].used && k->regions.slots[i].mapped;
        }
        return n;
    case Q_CHANNELS:
    case Q_MESSAGES:
        for (uint32_t i = 0; i < t->cfg.max_channels; i++) {
            n += q == Q_CHANNELS ? k->chans[i].used : (k->chans[i].used ? k->chans[i].count : 0);
        }
        return n;
    case Q_DEVICES:
    case Q_LEASES:
    case Q_NOTIFICATIONS:
        for (uint32_t i = 0; i < t->cfg.max_devices; i++) {
            n += q == Q_DEVICES  ? k->devs[i].used
                 : q == Q_LEASES ? k->devs[i].leased
                                 : k->devs[i].delivered;
        }
        return n;
    case Q_CAPS:
        return k->caps.live;
    case Q_CAP_EPOCH:
        return k->caps.epoch;
    case Q_EPOCHS:
        return k->epoch;
    case Q_RECOVERY:
        return k->recovery_left;
    case Q_FREE_PAGES:
        return rvm_buddy_free_pages(&k->ram);
    case Q_STORE:
        return k->store_used;
    case Q_HYPERCALLS:
        return k->hypercalls;
    case Q_GUEST_FAULTS:
        return t->plat.guest_faults;
    case Q_GUEST_ACCESSES:
        return t->guest_accesses;
    case Q_TLB_FLUSHES:
        return k->vmids.stats.invalidations;
    case Q_VMID_RECLAIMS:
        return k->vmids.stats.reclaims;
    case Q_DISPATCHES:
        for (uint32_t c = 0; c < t->ncpus; c++) {
            n += k->cpus[c].switches;
        }
        return n;
    case Q_LAST_CLASS:
        return t->last_class;
    case Q_LAST_RELEASED:
        return t->last_released;
    case Q_BOOTED:
        return rvm_kernel_booted(k);
    case Q_CHECKS:
        return t->checks;
    case Q_FINGERPRINTS:
        return t->fingerprints;
    case Q_HOSTILE:
        return t->hostile;
    default:
        return 0;
    }
}

const struct rvm_sim_target rvm_sim_target_kernel = {
    .name = "kernel",
    .summary = "the whole core (rvm_kernel_*) on a simulated AArch64 stage-2 or RISC-V PMP "
               "platform",
    .classes = classes,
    .nclasses = NCLS,
    .ops = ops,
    .nops = NOPS,
    .params = params,
    .nparams = NPARAMS,
    .queries = queries,
    .nqueries = NQUERIES,
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
    .witness = kt_witness,
    .liveness = kt_liveness,
    .query = kt_query,
    .drained = NULL,
    .own_nwnm = true,
    .max_cpus = RVM_SIM_PLATFORM_MAX_CPUS,
};
