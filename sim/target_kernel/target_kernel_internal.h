/* SPDX-License-Identifier: MIT */
/*
 * Pieces of the "kernel" target shared by its own source files (not a public interface; the
 * target itself is rvm_sim_target_kernel in target.h). docs/simulator.md ("The kernel target")
 * is the user's description; this is the map.
 *
 *   tables.c       parameters, operations and their arguments, queries, faults; the descriptor
 *   hal.c          the HAL the kernel sees: the engine's clock, timers, interrupts and witness
 *                  sink composed with the platform's stage-2 / PMP, TLB and memory, watched
 *   lifecycle.c    create, destroy, reset (RAM back to zeros, the kernel re-initialised, boot)
 *   objects.c      liveness read from the kernel's tables, the object registry, handles, picks
 *   operations.c   one function per operation: resolve the call, judge its outcome
 *   kernel_call.c  the resolved call and the one function that makes it (the seam)
 *   nwnm.c         "no witness, no mutation" around every kernel call
 *   events.c       engine events, fault injection, liveness
 *   transitions.c  transition invariants judged around a call: IPC model, capabilities, access
 *   oracles.c      check(): isolation, stage-2 agreement, heap, min-cut, allocator, full check
 *   queries.c      query(), hash(), witness()
 *
 * Objects. Classes partition, region, channel, device, cap; handles are the kernel's, packed
 * generation << 32 | index. Operations name them; objects created as a side effect (the root
 * capability minted with a partition, a channel's endpoint capabilities, the children of a
 * split) are found by a scan of the kernel's tables after every call that appended a record of a
 * kind that creates or removes objects, and handed to the engine (rvm_sim_object_new / _dead).
 */
#ifndef RVM_SIM_TARGET_KERNEL_INTERNAL_H
#define RVM_SIM_TARGET_KERNEL_INTERNAL_H

#include "target.h"

#include "hal_platform.h"

#include "rvm/kernel.h"
#include "rvm/tape.h"

#include <stdbool.h>
#include <stdint.h>

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
    OP_GUEST_PROBE,
    OP_BUDDY_FREE,
    NOPS
};

/*
 * Argument positions of each operation (the order of its rvm_sim_arg_spec table in tables.c,
 * which is indexed by these). Operations with the same layout share one.
 */
enum partition_create_arg {
    PARTITION_CREATE_ACTOR,
    PARTITION_CREATE_CAP,
    PARTITION_CREATE_ENTRY,
    PARTITION_CREATE_ARG0,
    PARTITION_CREATE_ARG1,
    PARTITION_CREATE_AFFINITY,
    PARTITION_CREATE_URGENCY,
};
/* start, suspend, resume (no nonce); hibernate, reconstruct, checkpoint, destroy, split */
enum partition_arg { PARTITION_PART, PARTITION_ACTOR, PARTITION_CAP, PARTITION_NONCE };
enum partition_merge_arg {
    MERGE_ABSORBER,
    MERGE_ABSORBED,
    MERGE_ACTOR,
    MERGE_CAP,
    MERGE_CAP2,
    MERGE_NONCE,
};
enum region_create_arg {
    REGION_CREATE_OWNER,
    REGION_CREATE_TYPE,
    REGION_CREATE_PERMS,
    REGION_CREATE_PAGES,
    REGION_CREATE_ACTOR,
    REGION_CREATE_CAP,
};
enum region_map_arg {
    REGION_MAP_REGION,
    REGION_MAP_IPA,
    REGION_MAP_PERMS,
    REGION_MAP_ACTOR,
    REGION_MAP_CAP,
    REGION_MAP_NONCE,
};
/* unmap (no nonce), destroy */
enum region_arg { REGION_REGION, REGION_ACTOR, REGION_CAP, REGION_NONCE };
enum region_share_arg {
    REGION_SHARE_REGION,
    REGION_SHARE_BORROWER,
    REGION_SHARE_PERMS,
    REGION_SHARE_ACTOR,
    REGION_SHARE_CAP,
};
enum cap_grant_arg {
    CAP_GRANT_SOURCE,
    CAP_GRANT_RECIPIENT,
    CAP_GRANT_RIGHTS,
    CAP_GRANT_BADGE,
    CAP_GRANT_ACTOR,
};
enum cap_revoke_arg { CAP_REVOKE_AUTHORITY, CAP_REVOKE_TARGET, CAP_REVOKE_ACTOR };
enum cap_attenuate_arg { CAP_ATTENUATE_CAP, CAP_ATTENUATE_RIGHTS, CAP_ATTENUATE_ACTOR };
enum cap_epoch_advance_arg { CAP_EPOCH_ADVANCE_ACTOR };
enum cap_epoch_revoke_arg { CAP_EPOCH_REVOKE_EPOCH, CAP_EPOCH_REVOKE_ACTOR };
enum channel_create_arg {
    CHANNEL_CREATE_SENDER,
    CHANNEL_CREATE_RECEIVER,
    CHANNEL_CREATE_ACTOR,
    CHANNEL_CREATE_CAP,
};
enum channel_destroy_arg { CHANNEL_DESTROY_CHANNEL, CHANNEL_DESTROY_ACTOR, CHANNEL_DESTROY_CAP };
enum ipc_send_arg { IPC_SEND_CHANNEL, IPC_SEND_LEN, IPC_SEND_TAG, IPC_SEND_ACTOR, IPC_SEND_CAP };
enum ipc_receive_arg { IPC_RECEIVE_CHANNEL, IPC_RECEIVE_SIZE, IPC_RECEIVE_ACTOR, IPC_RECEIVE_CAP };
enum device_register_arg { DEVICE_REGISTER_IRQ, DEVICE_REGISTER_ACTOR };
enum lease_grant_arg {
    LEASE_GRANT_DEVICE,
    LEASE_GRANT_LESSEE,
    LEASE_GRANT_DURATION,
    LEASE_GRANT_ACTOR,
    LEASE_GRANT_CAP,
    LEASE_GRANT_NONCE,
};
enum lease_renew_arg {
    LEASE_RENEW_DEVICE,
    LEASE_RENEW_DURATION,
    LEASE_RENEW_ACTOR,
    LEASE_RENEW_CAP,
    LEASE_RENEW_NONCE,
};
enum lease_revoke_arg { LEASE_REVOKE_DEVICE, LEASE_REVOKE_ACTOR, LEASE_REVOKE_CAP };
enum device_irq_arg { DEVICE_IRQ_DEVICE, DEVICE_IRQ_DELAY };
enum partition_fault_arg { PARTITION_FAULT_PART, PARTITION_FAULT_REASON };
enum guest_access_arg {
    GUEST_ACCESS_PICK,
    GUEST_ACCESS_OFFSET,
    GUEST_ACCESS_WRITE,
    GUEST_ACCESS_EXEC,
    GUEST_ACCESS_WILD,
};
/* x0..x7 in order: the call number, then its arguments */
enum hypercall_arg {
    HYPERCALL_NR,
    HYPERCALL_A1,
    HYPERCALL_A2,
    HYPERCALL_A3,
    HYPERCALL_A4,
    HYPERCALL_A5,
    HYPERCALL_A6,
    HYPERCALL_A7,
    HYPERCALL_NREGS,
};
enum boot_phase_arg { BOOT_PHASE_PHASE };
enum boot_load_arg { BOOT_LOAD_PAGES, BOOT_LOAD_URGENCY, BOOT_LOAD_AFFINITY };
/* `holder`, then the one object of each class that may be given */
enum cap_lookup_arg {
    CAP_LOOKUP_HOLDER,
    CAP_LOOKUP_PARTITION,
    CAP_LOOKUP_REGION,
    CAP_LOOKUP_CHANNEL,
    CAP_LOOKUP_DEVICE,
};

enum buddy_free_arg { BUDDY_FREE_PATTERN, BUDDY_FREE_REGION, BUDDY_FREE_ADDR, BUDDY_FREE_ORDER };
/* What a hostile buddy free names (the region's block when a region is given). */
enum buddy_free_pattern {
    BF_GIVEN,       /* addr and order as given */
    BF_WRONG_ORDER, /* the start of the region's block, another order */
    BF_NEVER_ALLOC, /* a free page at or after page `addr` of RAM, order `order` */
    BF_INSIDE,      /* a page inside the region's block (of two pages or more) */
    BF_UNALIGNED,   /* the region's block start plus `addr` % 4096 (not 0) bytes */
    BF_PATTERNS
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
    /* the coherence engine's last good cut */
    Q_CUT_VALUE,
    Q_CUT_SIDE_A,
    Q_CUT_EPOCH,
    Q_DEGRADED,
    /* one object's (query_cls): a dead or forged object answers KT_Q_DEAD (`*.live`: 0) */
    Q_PART_STATE,
    Q_PART_SIDE,
    Q_PART_SCORE,
    Q_PART_PRESSURE,
    Q_PART_VMID,
    Q_CAP_LIVE,
    Q_CAP_RIGHTS,
    Q_CAP_DEPTH,
    Q_CAP_HOLDER,
    Q_REGION_TIER,
    Q_REGION_MAPPED,
    Q_CHAN_LENGTH,
    NQUERIES
};

#define KT_Q_DEAD UINT64_MAX

enum {
    F_PARTITION_CRASH,
    F_CORE_CRASH,
    F_DORMANT_BITFLIP,
    F_GUEST_FAULT,
    F_HOSTILE_HC,
    F_COHERENCE_UNAVAILABLE,
    F_MINCUT_OVER_BUDGET,
    NFAULTS
};

/* Argument positions of each fault kind. */
enum partition_crash_arg { PARTITION_CRASH_PART, PARTITION_CRASH_REASON };
enum dormant_bitflip_arg { DORMANT_BITFLIP_BIT };
enum guest_fault_arg { GUEST_FAULT_CPU, GUEST_FAULT_WHERE, GUEST_FAULT_VALUE };
enum hostile_hypercall_arg { HOSTILE_CPU, HOSTILE_VARIANT, HOSTILE_VALUE };
enum coherence_fault_arg { COHERENCE_FAULT_EPOCHS };

/* The min-cut budget of an over-budget epoch: below the cost of any cut (2 partitions cost 3). */
#define SHORT_BUDGET 1u

/* What a call made due for check(). */
#define D_ISO   0x01u /* stage-2 / PMP, TLB or VMID owner changed: isolation oracles */
#define D_SCHED 0x02u /* run queues touched: heap property */
#define D_FULL  0x04u /* run rvm_kernel_check now (not only when sampled) */
#define D_CUT   0x08u /* an epoch computed a new cut: compare it with the brute-force minimum */
#define D_MAP   0x10u /* stage-2 / PMP mappings changed: the platform's structure, agreement */
#define D_TREE  0x80u /* the end of a run: kernel.digest-incremental now (check_digest.c) */

/* The check and cross-check periods (steps); every step when 1. */
#define CHECK_EVERY 64u
#define CROSS_EVERY 64u
#define MINCUT_MAX  12u /* brute force over 2^(n-1) bipartitions only up to this many nodes */
#define NWNM_FULL                                                                                  \
    32u /* the n-th, 2n-th, ... call that may leave no record also compares the full hash */
#define NWNM_SLICE 4u /* time slices (the scheduler's hot path) bracketed: one in this many */

/* kernel.digest-incremental checks the leaves that can go stale behind a matching shadow at every
 * full check, and every leaf and interior node (more than an epoch's digest costs) on every n-th
 * full check and at the end of every run (D_TREE). */
#define DIGEST_CHECK_EVERY 32u

struct msg_model {
    uint64_t seq;
    uint64_t tag;
    uint32_t len;
    rvm_partition_id sender; /* the channel's sender endpoint when it was sent */
};

/* The operation tape being recorded (tape.c). */
struct kt_tape {
    bool on;
    uint8_t *buf;
    size_t len, cap;
    uint64_t entries;
    const char *failed;        /* why the tape cannot be completed, NULL while it can */
    const struct rvm_hal *eng; /* the engine's clock: a call's time without asking the HAL */
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
    struct kt_tape tape;
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
    uint64_t sref;    /* rvm_kernel_summary_ex without the tables compared byte for byte ... */
    uint8_t *nw_copy; /* ... which are copied here (kt_nw_copy_bytes) */
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

    uint32_t since_digest_check; /* full checks since the last kernel.digest-incremental */

    bool check_every_step; /* exploration: the sampled oracles run after every step */
    uint64_t coh_epoch;    /* the coherence engine's epoch count at the last look */

    /* liveness */
    uint8_t *progressed;

    /* the platform's coherence engine: epochs it is still unavailable / short of budget for */
    uint64_t coh_unavailable_left, coh_short_left;

    uint64_t probe_bits; /* coverage probes hit by results so far (probes.c) */

    /* statistics (queries) */
    uint64_t checks, fingerprints, hostile, guest_accesses, last_class, last_released;
    struct rvm_sim_verdict pending; /* a violation check() must report */
    bool has_pending;
};

/* ------------------------------------------------------------------------------------------------
 * The resolved kernel call (kernel_call.c)
 * --------------------------------------------------------------------------------------------- */

/* The kernel entry points the target calls. */
enum kt_entry {
    KT_NO_CALL, /* the operation is the target's own (a lookup, an interrupt, a guest access) */
    KT_PARTITION_CREATE,
    KT_PARTITION_START,
    KT_PARTITION_SUSPEND,
    KT_PARTITION_RESUME,
    KT_PARTITION_HIBERNATE,
    KT_PARTITION_RECONSTRUCT,
    KT_PARTITION_CHECKPOINT,
    KT_PARTITION_DESTROY,
    KT_PARTITION_SPLIT,
    KT_PARTITION_MERGE,
    KT_REGION_CREATE,
    KT_REGION_MAP,
    KT_REGION_UNMAP,
    KT_REGION_DESTROY,
    KT_REGION_SHARE,
    KT_CAP_GRANT,
    KT_CAP_REVOKE,
    KT_CAP_ATTENUATE,
    KT_CAP_EPOCH_ADVANCE,
    KT_CAP_EPOCH_REVOKE,
    KT_CHANNEL_CREATE,
    KT_CHANNEL_DESTROY,
    KT_IPC_SEND,
    KT_IPC_RECEIVE,
    KT_DEVICE_REGISTER,
    KT_LEASE_GRANT,
    KT_LEASE_RENEW,
    KT_LEASE_REVOKE,
    KT_PARTITION_FAULT,
    KT_CORE_CRASH,
    KT_GUEST_FAULT,
    KT_HYPERCALL,
    KT_SCHEDULE,
    KT_EPOCH,
    KT_BOOT_PHASE,
    KT_BOOT_LOAD,
    KT_TIMER,
    KT_IRQ,
    KT_CPU_OFFLINE,
    KT_CPU_ONLINE,
    KT_NENTRIES
};

/*
 * One kernel call with every argument decided: nothing in it refers to the target's defaults,
 * registry or counters any more. `auth` / `auth2` are presented only when a partition calls
 * (actor != 0); the hypervisor presents none.
 */
struct kt_call {
    enum kt_entry entry;
    rvm_partition_id actor;       /* 0: the hypervisor */
    struct rvm_kernel_auth auth;  /* capability, nonce and window for `object` */
    struct rvm_kernel_auth auth2; /* partition_merge: the same for the absorbed partition */
    struct rvm_handle object;     /* what the entry point acts on (the owner, the sender, ...) */
    uint32_t cpu;                 /* schedule, timer, hypercall, guest fault, CPU on/offline */
    union {
        struct rvm_kernel_partition_req partition_create;
        struct rvm_handle partition_merge; /* the absorbed partition */
        struct {
            uint32_t type, perms, pages;
        } region_create;
        struct {
            uint64_t ipa;
            uint32_t perms;
        } region_map;
        struct {
            struct rvm_handle borrower;
            uint32_t perms;
        } region_share;
        struct {
            struct rvm_handle recipient;
            uint8_t rights;
            uint64_t badge;
        } cap_grant;
        struct rvm_handle cap_revoke;     /* the capability revoked (object: the authority) */
        uint8_t cap_attenuate;            /* the rights left */
        uint32_t cap_epoch_revoke;        /* the epoch */
        struct rvm_handle channel_create; /* the receiver (object: the sender) */
        struct {
            const uint8_t *data;
            uint32_t len;
            uint64_t tag;
        } ipc_send;
        struct {
            uint8_t *buf;
            uint32_t size;
        } ipc_receive;
        uint32_t device_register; /* the interrupt line */
        struct {
            struct rvm_handle lessee; /* lease_grant only */
            uint64_t duration_ns;
        } lease;
        uint32_t partition_fault; /* the reason */
        uint64_t guest_fault;     /* the faulting ipa */
        uint64_t hypercall[HYPERCALL_NREGS];
        uint32_t boot_phase;
        struct rvm_kernel_image boot_load;
        uint32_t irq;
    } arg;
};

/* What a call gave back. */
struct kt_result {
    struct rvm_handle out, out2; /* objects or capabilities it created */
    uint32_t released;           /* cap_revoke, cap_epoch_revoke */
    uint64_t seq;                /* ipc_send: the sequence number stamped */
    struct rvm_kernel_msg msg;   /* ipc_receive */
    uint32_t fault_class;        /* partition_fault, guest_fault */
};

void kt_call_init(struct kt_call *c, enum kt_entry entry);
void kt_result_init(struct kt_result *r);
enum rvm_err kt_call_kernel(struct rvm_kernel *k, struct kt_tape *tape, const struct kt_call *c,
                            struct kt_result *r);
enum rvm_err kt_invoke(struct kt *t, const struct kt_call *c, const char *what,
                       struct kt_result *r);

/* ------------------------------------------------------------------------------------------------
 * Shared between the files
 * --------------------------------------------------------------------------------------------- */

extern const char *const kt_classes[NCLS];
extern const struct rvm_sim_op_spec kt_ops[NOPS];
extern const int32_t kt_query_cls[NQUERIES];
extern const uint8_t kt_image_bytes[64];

static inline struct kt *KT(void *ctx)
{
    return (struct kt *)ctx;
}

static inline struct rvm_handle H(uint64_t v) {
    return rvm_handle_unpack(v);
}

static inline uint64_t
P(struct rvm_handle h)
{
    return rvm_handle_pack(h);
}

static inline bool fits32(uint64_t v)
{
    return v <= UINT32_MAX;
}

/* tape.c */
void kt_tape_reset(struct kt_tape *tp, bool on, const struct rvm_hal *eng);
void kt_tape_call_of(const struct kt_call *c, uint64_t now_ns, struct rvm_tape_call *tc);
void kt_tape_free(struct kt_tape *tp);
size_t kt_tape_call(struct kt_tape *tp, const struct rvm_tape_call *c); /* SIZE_MAX: none */
void kt_tape_result(struct kt_tape *tp, size_t at, enum rvm_err result);
void kt_tape_answer(struct kt_tape *tp, enum rvm_tape_hook hook, uint64_t value, bool injected);
enum rvm_err kt_tape_witness(struct kt *t, enum rvm_tape_entry entry);
enum rvm_err kt_seal(void *inst);
bool kt_tape_finish(void *inst, uint64_t seed, uint64_t records, const uint8_t digest[32],
                    uint8_t **bytes, size_t *len, const char **why);

/* hal.c */
void kt_hal_init(struct kt *t);
void kt_note_ram(struct kt *t, uint64_t hpa, uint64_t len);

/* lifecycle.c */
void *kt_create(const uint64_t *p);
void kt_destroy(void *inst);
enum rvm_err kt_reset(void *inst, const struct rvm_sim_setup *s, struct rvm_sim *sim);

/* objects.c */
uint32_t kt_slot_any_gen(const struct kt *t, uint32_t c, uint32_t i);
bool kt_live(const struct kt *t, uint32_t c, uint64_t handle);
struct rvm_handle kt_part_handle(const struct kt *t, uint32_t slot);
void kt_sync_objects(struct kt *t);
bool kt_any_structural(const struct kt *t, uint64_t from);
struct rvm_handle kt_find_cap(const struct kt *t, rvm_partition_id holder, uint8_t type,
                              struct rvm_handle object);
rvm_partition_id kt_cap_holder(const struct kt *t, uint64_t cap);
bool kt_actor_of(const struct kt *t, uint64_t h, rvm_partition_id dflt, rvm_partition_id *out);
rvm_partition_id kt_on_cpu(const struct kt *t, uint32_t cpu);
uint32_t kt_live_slot_from(const struct kt *t, uint64_t from);
uint32_t kt_busy_cpu(const struct kt *t, uint64_t cpu);
struct rvm_handle kt_held_cap(const struct kt *t, rvm_partition_id holder, uint8_t type, bool other,
                              uint64_t pick);
uint64_t kt_dead_handle(const struct kt *t, uint32_t cls, uint64_t pick);

/* nwnm.c */
enum kt_bracket { KT_MUST_RECORD, KT_MAY_SKIP, KT_SLICE };
size_t kt_nw_copy_bytes(const struct rvm_kernel_config *cfg);
void kt_nw_begin(struct kt *t, enum kt_bracket bracket);
void kt_nw_end(struct kt *t, const char *what, enum rvm_err err);

/* operations.c */
enum rvm_err kt_apply(void *inst, const struct rvm_sim_call *c, uint64_t *created,
                      struct rvm_sim *sim);

/* events.c */
void kt_after_event(struct kt *t, uint64_t before);
/* The partition on `cpu` reads a register of the hypervisor's privilege (RISC-V: an M-mode CSR):
 * simulated hardware, recorded as the tape's guest_access kind 3. The illegal instruction is
 * returned as RVM_ERR_GUEST_FAULT with the kernel call that reports it (a partition fault, the
 * guest crashed) resolved in `fault`; UNSUPPORTED on AArch64 (no model of it there). */
enum rvm_err kt_guest_probe(struct kt *t, uint32_t cpu, struct kt_call *fault);
enum rvm_err kt_guest_touch(struct kt *t, uint32_t cpu, uint64_t ipa, enum rvm_sim_access kind,
                            struct kt_call *fault);
void kt_event(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim);
void kt_inject(void *inst, uint32_t fault, const uint64_t *args, struct rvm_sim *sim);
enum rvm_sim_live kt_liveness(void *inst, uint32_t round, struct rvm_sim *sim,
                              struct rvm_sim_verdict *why);

/* transitions.c */
void kt_fill_payload(uint8_t *buf, uint64_t tag, uint32_t len, uint64_t seq);
bool kt_msg_model_sync(struct kt *t, uint32_t slot);
void kt_ipc_sent(struct kt *t, uint32_t slot, uint64_t seq, uint32_t len, uint64_t tag);
void kt_ipc_received(struct kt *t, uint32_t slot, const struct rvm_kernel_msg *msg);
void kt_model_merges(struct kt *t, uint64_t from);
void kt_check_new_cap(struct kt *t, struct rvm_handle h, const char *what);
void kt_check_args_live(struct kt *t, const struct rvm_sim_call *c, const bool *was_live,
                        rvm_partition_id actor);
void kt_check_gone(struct kt *t, rvm_partition_id id, const char *what);
void kt_check_access(struct kt *t, rvm_partition_id part, uint64_t ipa, enum rvm_sim_access kind);

/* oracles.c */
bool kt_check(const void *inst, struct rvm_sim_verdict *v);
bool kt_check_digest(const struct kt *t, struct rvm_sim_verdict *v,
                     bool whole); /* check_digest.c */

/* queries.c */
uint64_t kt_query(const void *inst, uint32_t q, uint64_t obj);

/* Coverage probes (probes.c). */
#define KT_NPROBES 43u
extern const struct rvm_sim_probe kt_probes[KT_NPROBES];
void kt_probe_call(struct kt *t, uint32_t entry, enum rvm_err err);
void kt_probe_op(struct kt *t, const struct rvm_sim_call *c, const bool *was_live,
                 enum rvm_err err);
uint64_t kt_probes_hit(void *inst, const uint8_t *records, uint64_t count);
void kt_hash(const void *inst, struct rvm_sha256_ctx *ctx);
void kt_explore_hash(const void *inst, struct rvm_sha256_ctx *ctx);
void kt_check_every_step(void *inst, bool on);
struct rvm_witness_log *kt_witness(void *inst);

#endif /* RVM_SIM_TARGET_KERNEL_INTERNAL_H */
