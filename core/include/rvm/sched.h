/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: per-CPU bounded binary max-heap run queues of partitions.
 *
 * The scheduler knows partitions only by id (1 .. max_partitions; the kernel owns the partition
 * table and must remove one from the scheduler when it destroys it). Each CPU has one run queue, a
 * binary max-heap in caller storage, ordered by (priority descending, enqueue sequence ascending):
 * FIFO among equal priorities. A per-partition position index makes re-enqueueing a queued
 * partition an update in place (never a duplicate) and makes removal O(log n).
 *
 * Priority (docs/architecture.md "Scheduler" has the table):
 *
 *   priority = urgency + boost(pressure_bp) + critical_boost
 *   boost(p) = floor(p * 65535 / 10000)       p in basis points, 0..10000
 *
 * so the whole pressure range spans the whole urgency range (u16): 1 bp of cut pressure is worth
 * ~6.55 urgency units and 100 bp (1 %) ~655. Which terms apply depends on the mode:
 *
 *   Flow      urgency + boost          (boost is 0 while degraded: no coherence signal)
 *   Reflex    urgency                  (hard real time: latency never depends on the coherence
 *                                       engine)
 *   Recovery  urgency + critical_boost (critical_boost = 2^17 for partitions the kernel marked
 *                                       RVM_SCHED_F_CRITICAL, e.g. the ones being reconstructed,
 *                                       so they always run first; pressure is ignored because the
 *                                       coherence state is being rebuilt)
 *
 * The maximum priority is 65535 + 65535 + 2^17 < 2^18.
 *
 * Witnessing (DC-10): run-queue operations (enqueue, dequeue, switch) are the hot path
 * and are not witnessed one by one; rvm_sched_epoch_tick() witnesses one SchedulerEpoch summary per
 * epoch. A refused run-queue operation is witnessed (a ProofRejected record, attempted kind
 * SchedulerEnqueue for enqueue/dequeue, SchedulerSwitch for a switch; these two kinds appear only
 * in rejections). The administrative operations (mode,
 * degraded mode, CPU online/offline, placement attributes, removal) are prepare/commit pairs with a
 * witness record each, which the caller appends between the two.
 */
#ifndef RVM_SCHED_H
#define RVM_SCHED_H

#include "rvm/error.h"
#include "rvm/sha256.h"
#include "rvm/types.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_SCHED_MAX_CPUS        64u /* affinity masks are u64 */
#define RVM_SCHED_PRESSURE_MAX_BP 10000u
#define RVM_SCHED_PRESSURE_SCALE  65535u /* boost(10000 bp) */
/* boost(p) = (p * RVM_SCHED_PRESSURE_RECIP) >> RVM_SCHED_PRESSURE_SHIFT for every p in 0..10000:
 * the reciprocal is 65535 / 10000 rounded up to 29 fraction bits, and its excess (< 2^-29) times
 * p stays below 10^-4, the least distance of p * 6.5535 from the next integer (a multiply and a
 * shift instead of a division; tests/unit/test_sched.c checks all 10001 values). */
#define RVM_SCHED_PRESSURE_SHIFT  29u
#define RVM_SCHED_PRESSURE_RECIP  3518383522u /* ceil(65535 * 2^29 / 10000) */
#define RVM_SCHED_CRITICAL_BOOST  (1u << 17)
#define RVM_SCHED_MAX_QUEUE       (1u << 16) /* per-CPU queue capacity limit */
#define RVM_SCHED_MAX_PARTITIONS  (1u << 24)

enum rvm_sched_mode {
    RVM_SCHED_REFLEX = 0,
    RVM_SCHED_FLOW = 1,
    RVM_SCHED_RECOVERY = 2,
};

/* Why degraded mode was entered (RVM's DegradedReason); recorded in the DegradedModeEntered
 * record's payload. */
enum rvm_sched_degraded_reason {
    RVM_SCHED_DEGRADED_COHERENCE_UNAVAILABLE = 1,
    RVM_SCHED_DEGRADED_MINCUT_BUDGET = 2,
    RVM_SCHED_DEGRADED_RECOVERY = 3,
};

/* Per-partition attribute flags (rvm_sched_prepare_placement). */
#define RVM_SCHED_F_CRITICAL 0x01u /* dispatched first in Recovery mode */
#define RVM_SCHED_F_ALL      0x01u

/* Per-partition state bits. */
#define RVM_SCHED_QUEUED  0x01u
#define RVM_SCHED_RUNNING 0x02u
/* Queued on a CPU outside its affinity: an evacuation found no allowed CPU online, or it stopped
 * running on a CPU its new affinity excludes while no allowed queue had room. Cleared when it is
 * next placed. */
#define RVM_SCHED_FORCED  0x04u

/*
 * Run-queue keys. A queue is a max-heap of 64-bit keys with the partition ids in a parallel
 * array (structure of arrays):
 *
 *   key = priority << 46 | (2^46 - 1 - seq)
 *
 * so one unsigned comparison orders by priority, then by enqueue sequence (older first): FIFO
 * among equals. Every heap access is one load or store of one word size; a node written as
 * several narrower stores and read back as one wider load defeats store-to-load forwarding (it
 * cost 3x in partition_switch), and a two-step comparison with a tie-break lookup made the sift
 * loops spill registers.
 *
 * A queued partition's sequence number lives only in its key (rvm_sched__key_seq reads it back).
 * Sequence numbers are global and unique. When the next one would reach 2^46 (after 7e13
 * enqueues) every queued partition's sequence number is renumbered downwards by the same amount,
 * which keeps the order exactly, unless a partition has stayed queued for more than 2^45
 * enqueues: such long-starved entries are all given sequence 0 (equally old; their order among
 * themselves is then the heap's). Priorities are < 2^18 (see above), so the key cannot overflow.
 */
#define RVM_SCHED_SEQ_BITS  46u
#define RVM_SCHED_SEQ_LIMIT ((uint64_t)1 << RVM_SCHED_SEQ_BITS)

/* Scheduler state of one partition id (caller storage, max_partitions entries, index id - 1). */
struct rvm_sched_part {
    uint64_t affinity;   /* CPUs it may be placed on; all configured CPUs by default */
    uint64_t last_epoch; /* 1 + the epoch of its last dispatch (0: never), for the summary */
    uint32_t pos;        /* heap index while queued */
    uint16_t urgency;    /* last deadline urgency given */
    uint16_t pressure;   /* last cut pressure given, basis points (0 while degraded) */
    uint8_t qcpu;        /* the CPU whose queue holds it, while queued */
    uint8_t rcpu;        /* the CPU running it, while running */
    uint8_t state;       /* RVM_SCHED_QUEUED | RVM_SCHED_RUNNING */
    uint8_t flags;       /* RVM_SCHED_F_* */
};

struct rvm_sched_cpu {
    uint64_t *keys;        /* queue_capacity keys of the caller's storage */
    rvm_partition_id *ids; /* the partition of each key */
    uint32_t len;
    rvm_partition_id current; /* running partition; 0 = idle */
};

/* Per-epoch counters, reported and reset by rvm_sched_epoch_tick. */
struct rvm_sched_epoch_stats {
    uint32_t switches; /* dispatches of a partition */
    uint32_t idle;     /* switches that found an empty queue */
    uint32_t distinct; /* different partitions dispatched (computed by the tick) */
};

struct rvm_sched_config {
    uint32_t ncpus;               /* 1 .. RVM_SCHED_MAX_CPUS */
    uint64_t online_mask;         /* CPUs online at start: non-empty subset of the ncpus */
    uint32_t max_partitions;      /* ids 1 .. max_partitions; <= RVM_SCHED_MAX_PARTITIONS */
    struct rvm_sched_part *parts; /* max_partitions entries */
    uint32_t queue_capacity;      /* per CPU, 1 .. RVM_SCHED_MAX_QUEUE */
    uint64_t *queue_keys;         /* ncpus * queue_capacity entries */
    rvm_partition_id *queue_ids;  /* ncpus * queue_capacity entries */
    enum rvm_sched_mode mode;     /* initial mode */
};

struct rvm_sched {
    struct rvm_witness_log *log;
    struct rvm_sched_part *parts;
    uint32_t max_partitions;
    uint32_t queue_capacity;
    uint32_t ncpus;
    uint64_t cpu_mask;    /* all configured CPUs */
    uint64_t online_mask; /* online CPUs, never empty */
    uint64_t next_seq;
    uint64_t epoch;
    uint64_t degraded_since; /* epoch degraded mode was entered */
    uint8_t mode;            /* enum rvm_sched_mode */
    uint8_t degraded;        /* bool */
    uint8_t degraded_reason;
    uint8_t pressure_on;    /* derived: mode == Flow && !degraded */
    uint32_t pressure_mul;  /* derived: RVM_SCHED_PRESSURE_RECIP when pressure_on, else 0 */
    uint32_t crit_boost;    /* derived: RVM_SCHED_CRITICAL_BOOST in Recovery mode, else 0 */
    uint32_t pressure_keep; /* derived: 0 while degraded, else all ones (masks a stored pressure) */
    uint64_t epoch_tag;     /* derived: epoch + 1, what a dispatch stores in last_epoch */
    struct rvm_sched_epoch_stats stats;
    struct rvm_sched_cpu cpu[RVM_SCHED_MAX_CPUS];
};

/*
 * Every partition starts with affinity = all configured CPUs, no flags, not queued. The log is
 * borrowed. RVM_ERR_INVALID_ARGUMENT for a bad configuration. Nothing is witnessed (boot).
 */
enum rvm_err rvm_sched_init(struct rvm_sched *s, struct rvm_witness_log *log,
                            const struct rvm_sched_config *cfg);

/* The priority a partition with these inputs gets in the scheduler's current mode. */
uint32_t rvm_sched_priority_of(const struct rvm_sched *s, uint16_t urgency, uint32_t pressure_bp,
                               uint8_t flags);

/* ------------------------------------------------------------------------------------------------
 * Run-queue operations (hot path; not witnessed on success, a rejection record on refusal)
 * --------------------------------------------------------------------------------------------- */

/*
 * Make partition `id` runnable with the given deadline urgency and cut pressure (basis points,
 * 0..10000; ignored and stored as 0 while degraded).
 *   - Already queued: updated in place (same queue, same sequence number: its FIFO place among
 *     equals is kept), never duplicated.
 *   - Running (on CPU c): queued on c, so it can never be dispatched on two CPUs at once.
 *   - Otherwise: placed on the least-loaded online CPU its affinity allows (load = queue length
 *     + 1 if running something; ties: the CPU it last ran on, then the lowest index), skipping
 *     full queues.
 * Errors: OUT_OF_RANGE (id, pressure), AFFINITY (no allowed online CPU), QUEUE_FULL.
 */
enum rvm_err rvm_sched_enqueue(struct rvm_sched *s, rvm_partition_id id, uint16_t urgency,
                               uint32_t pressure_bp);

/*
 * As rvm_sched_enqueue but on a chosen CPU. A partition queued elsewhere moves (keeping its
 * sequence number). Errors: OUT_OF_RANGE, CPU_OFFLINE, AFFINITY (CPU not in its mask),
 * RUNNING_ELSEWHERE (it runs on another CPU), QUEUE_FULL.
 */
static inline enum rvm_err rvm_sched_enqueue_on(struct rvm_sched *s, uint32_t cpu,
                                                rvm_partition_id id, uint16_t urgency,
                                                uint32_t pressure_bp);

/* Take a queued partition off its run queue (it blocked). WRONG_STATE when it is not queued. */
enum rvm_err rvm_sched_dequeue(struct rvm_sched *s, rvm_partition_id id);

/*
 * Switching. The partition that was running on `cpu` stops running (it stays queued only if it
 * was re-enqueued); the head of the CPU's queue, if any, becomes the running one. An empty queue
 * makes the CPU idle (next = 0).
 *
 * prepare is read-only, so a kernel can do the fallible part of a context switch (VMID activation,
 * rvm_vcpu_switch) between prepare and commit; the commit cannot fail as long as no other
 * scheduler operation ran in between.
 */
struct rvm_sched_switch {
    uint32_t cpu;
    rvm_partition_id prev; /* 0: the CPU was idle */
    rvm_partition_id next; /* 0: the CPU goes idle */
};

enum rvm_err rvm_sched_prepare_switch(const struct rvm_sched *s, uint32_t cpu,
                                      struct rvm_sched_switch *plan);
void rvm_sched_commit_switch(struct rvm_sched *s, const struct rvm_sched_switch *plan);
/* prepare + commit. Errors: OUT_OF_RANGE (cpu), CPU_OFFLINE. */
static inline enum rvm_err rvm_sched_switch_next(struct rvm_sched *s, uint32_t cpu,
                                                 struct rvm_sched_switch *out);

/* ------------------------------------------------------------------------------------------------
 * Administrative operations: prepare (validates, fills the witness entry, changes nothing) /
 * commit (cannot fail); the caller appends the record between them and witnesses a refusal.
 * `actor` is the partition that asked (0: the hypervisor).
 * --------------------------------------------------------------------------------------------- */

/*
 * SchedulerPlacement (0x68): set a partition's affinity mask (non-empty subset of the configured
 * CPUs) and flags (RVM_SCHED_F_*). A queued partition whose queue CPU is no longer allowed moves to
 * the least-loaded allowed online CPU, unless it is running there (then the new mask applies at its
 * next placement). Record: target = id, payload = mask, aux = flags | (from_cpu + 1) << 8 |
 * (to_cpu + 1) << 16 when it moved.
 */
struct rvm_sched_placement_plan {
    rvm_partition_id id;
    uint64_t affinity;
    uint8_t flags;
    bool move;
    uint32_t to_cpu;
};

enum rvm_err rvm_sched_prepare_placement(const struct rvm_sched *s, uint32_t actor,
                                         rvm_partition_id id, uint64_t affinity, uint32_t flags,
                                         struct rvm_witness_entry *e,
                                         struct rvm_sched_placement_plan *plan);
void rvm_sched_commit_placement(struct rvm_sched *s, const struct rvm_sched_placement_plan *plan);

/*
 * SchedulerRemove (0x69): forget a partition (its destruction): off its queue, off its CPU, and
 * its attributes reset. Record: target = id, payload = state bits it had, aux = cpu it was running
 * on + 1 (0: none). Always allowed for a valid id.
 */
struct rvm_sched_remove_plan {
    rvm_partition_id id;
};

enum rvm_err rvm_sched_prepare_remove(const struct rvm_sched *s, uint32_t actor,
                                      rvm_partition_id id, struct rvm_witness_entry *e,
                                      struct rvm_sched_remove_plan *plan);
void rvm_sched_commit_remove(struct rvm_sched *s, const struct rvm_sched_remove_plan *plan);

/*
 * SchedulerModeSwitch (0x61): change mode; every queued priority is recomputed and every queue
 * re-heapified. WRONG_STATE when already in that mode. Record: payload = new mode, aux = old mode.
 */
struct rvm_sched_mode_plan {
    uint8_t mode;
};

enum rvm_err rvm_sched_prepare_mode(const struct rvm_sched *s, uint32_t actor, uint32_t mode,
                                    struct rvm_witness_entry *e, struct rvm_sched_mode_plan *plan);
void rvm_sched_commit_mode(struct rvm_sched *s, const struct rvm_sched_mode_plan *plan);

/*
 * DegradedModeEntered (0x75) / DegradedModeExited (0x76). Entering drops the pressure signal: every
 * stored pressure becomes 0, queued priorities are recomputed, and later enqueues store 0 until
 * exit. Exiting restores nothing (fresh pressures arrive with the next enqueues). WRONG_STATE when
 * already in / not in degraded mode. Records: enter payload = reason, aux = epoch; exit payload =
 * reason it had been entered for, aux = epochs spent degraded.
 */
struct rvm_sched_degraded_plan {
    bool enter;
    uint8_t reason;
};

enum rvm_err rvm_sched_prepare_degraded(const struct rvm_sched *s, uint32_t actor, bool enter,
                                        uint32_t reason, struct rvm_witness_entry *e,
                                        struct rvm_sched_degraded_plan *plan);
void rvm_sched_commit_degraded(struct rvm_sched *s, const struct rvm_sched_degraded_plan *plan);

/*
 * CpuOnline (0x66) / CpuOffline (0x67). Offline moves everything queued on the CPU, and the
 * partition running there (re-queued with a fresh sequence number if it was not queued), in
 * increasing id order, each to the least-loaded online CPU its affinity allows (ties: lowest index;
 * any online CPU when none is allowed any more, marking it RVM_SCHED_FORCED); queued partitions
 * keep their sequence numbers. Nothing is lost or duplicated. O(max_partitions).
 * Errors: OUT_OF_RANGE, WRONG_STATE (already online/offline), LAST_CPU, QUEUE_FULL (the other
 * queues cannot take everything; nothing moves). Records: target = cpu; offline payload = number of
 * partitions moved (the running one included), aux = the partition that was running (0: none);
 * online payload = aux = 0.
 */
struct rvm_sched_cpu_plan {
    uint32_t cpu;
    bool online;
    uint32_t moved;
};

enum rvm_err rvm_sched_prepare_cpu(const struct rvm_sched *s, uint32_t actor, uint32_t cpu,
                                   bool online, struct rvm_witness_entry *e,
                                   struct rvm_sched_cpu_plan *plan);
void rvm_sched_commit_cpu(struct rvm_sched *s, const struct rvm_sched_cpu_plan *plan);

/* ------------------------------------------------------------------------------------------------
 * Epoch summary (internal event, actor 0)
 * --------------------------------------------------------------------------------------------- */

struct rvm_sched_epoch_summary {
    uint64_t epoch; /* the epoch that ended */
    struct rvm_sched_epoch_stats stats;
    uint32_t runnable; /* partitions queued or running at the end of the epoch */
    uint32_t online_cpus;
    uint8_t mode;
    bool degraded;
};

/*
 * End the current epoch: append one SchedulerEpoch (0x60) record, then reset the counters and
 * advance the epoch. Record: target = epoch, flags = mode | degraded << 2, payload = switches |
 * runnable << 32, aux = distinct | online_cpus << 48 (bits 32..47 are zero).
 * RVM_ERR_WITNESS_FULL: nothing changes (the counters keep running). `out` may be NULL.
 */
enum rvm_err rvm_sched_epoch_tick(struct rvm_sched *s, struct rvm_sched_epoch_summary *out);

/* ------------------------------------------------------------------------------------------------
 * Queries, invariants and state hash
 * --------------------------------------------------------------------------------------------- */

static inline rvm_partition_id rvm_sched_current(const struct rvm_sched *s, uint32_t cpu)
{
    return cpu < s->ncpus ? s->cpu[cpu].current : 0;
}

static inline uint32_t rvm_sched_queue_len(const struct rvm_sched *s, uint32_t cpu)
{
    return cpu < s->ncpus ? s->cpu[cpu].len : 0;
}

static inline bool rvm_sched_cpu_is_online(const struct rvm_sched *s, uint32_t cpu)
{
    return cpu < s->ncpus && ((s->online_mask >> cpu) & 1u) != 0;
}

/* State bits of a partition (0 for an id out of range). */
uint8_t rvm_sched_state(const struct rvm_sched *s, rvm_partition_id id);

/* The CPU whose queue holds `id`, or -1 when it is not queued. */
int32_t rvm_sched_queue_cpu(const struct rvm_sched *s, rvm_partition_id id);

/*
 * Every invariant: heap order on every queue, position index and queue CPU agree with the heaps,
 * each partition queued at most once, cached priorities equal the formula for the current mode,
 * running partitions agree with the CPUs, offline CPUs are empty and idle, a running partition
 * is queued (if at all) on its own CPU, a queued partition sits on a CPU its affinity allows
 * unless it runs there or is marked FORCED, each key's priority part equals the formula and its
 * sequence part is below next_seq, degraded mode has no stored pressure, derived fields match.
 * RVM_ERR_INTERNAL when any is broken. Bounded: O(max_partitions + ncpus * queue_capacity).
 */
enum rvm_err rvm_sched_check(const struct rvm_sched *s);

/*
 * Absorb a canonical encoding: configuration, mode, degraded state, epoch and counters, each CPU's
 * online bit / current / queue length, and every partition record in id order with its queue
 * node's (priority, sequence) when queued. Heap-array layout is not part of it (the dispatch order
 * depends only on the keys, which are unique).
 */
void rvm_sched_hash(const struct rvm_sched *s, struct rvm_sha256_ctx *ctx);

/* ------------------------------------------------------------------------------------------------
 * Hot path, inline.
 *
 * rvm_sched_enqueue_on and rvm_sched_switch_next are what a kernel runs on every tick and every
 * switch, so their common cases (inserting a partition that is not queued; dispatching the head
 * when the previous partition may stay where it is) are inline here and compile into the caller
 * as straight-line code. Every other case goes to the out-of-line general implementation in
 * sched.c (the rvm_sched__*_general functions), which handles all cases itself; the fast path
 * must behave exactly like it (the unit tests drive both against one model). The rvm_sched__
 * names are internal.
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_sched__enqueue_on_general(struct rvm_sched *s, uint32_t cpu, rvm_partition_id id,
                                           uint16_t urgency, uint32_t pressure_bp);
enum rvm_err rvm_sched__switch_next_general(struct rvm_sched *s, uint32_t cpu,
                                            struct rvm_sched_switch *out);

/* prio << SEQ_BITS | (SEQ_LIMIT - 1 - seq), written as a difference (the low part cannot borrow:
 * seq < SEQ_LIMIT - 1) so that no 46-bit constant is materialised. */
static inline uint64_t rvm_sched__key(uint32_t prio, uint64_t seq)
{
    return (((uint64_t)prio + 1u) << RVM_SCHED_SEQ_BITS) - (seq + 1u);
}

/* rvm_sched__key(prio, next_seq - 1), from the next_seq the enqueue stores: passing seq + 1
 * instead let the compiler reassociate the key into two subtractions. */
static inline uint64_t rvm_sched__key_of_next(uint32_t prio, uint64_t next_seq)
{
    return (((uint64_t)prio + 1u) << RVM_SCHED_SEQ_BITS) - next_seq;
}

static inline uint32_t rvm_sched__key_prio(uint64_t key)
{
    return (uint32_t)(key >> RVM_SCHED_SEQ_BITS);
}

static inline uint64_t rvm_sched__key_seq(uint64_t key)
{
    return (RVM_SCHED_SEQ_LIMIT - 1u) - (key & (RVM_SCHED_SEQ_LIMIT - 1u));
}

#define RVM_SCHED__HOT __attribute__((always_inline)) static inline

/* Marks a fast case as the expected one, so that the compiler lays it out as the fall-through
 * path and the call into the general implementation out of line (without it GCC did the
 * opposite: a taken jump into the fast case and another back, on every operation). */
#define RVM_SCHED__FAST(cond) __builtin_expect((cond), 1)

/* The record of id (1-based). The index is computed in size_t so that the - 1 folds into the
 * address displacement instead of costing an instruction on every position-index write. */
RVM_SCHED__HOT struct rvm_sched_part *rvm_sched__part(struct rvm_sched_part *parts,
                                                      rvm_partition_id id)
{
    return &parts[(size_t)id - 1u];
}

/* Move (key, id) up from hole i, keeping the position index. The walks index in size_t: no
 * zero-extension on every address. */
RVM_SCHED__HOT void rvm_sched__sift_up(struct rvm_sched_part *parts, uint64_t *keys,
                                       rvm_partition_id *ids, size_t i, uint64_t key,
                                       rvm_partition_id id)
{
    while (i > 0) { /* bound: log2(queue_capacity) + 1 levels */
        size_t parent = (i - 1u) >> 1;
        uint64_t pk = keys[parent];
        if (pk >= key) {
            break;
        }
        rvm_partition_id pid = ids[parent];
        keys[i] = pk;
        ids[i] = pid;
        rvm_sched__part(parts, pid)->pos = (uint32_t)i;
        i = parent;
    }
    keys[i] = key;
    ids[i] = id;
    rvm_sched__part(parts, id)->pos = (uint32_t)i;
}

/* Move (key, id) down from hole i in a heap of len entries, keeping the position index. */
RVM_SCHED__HOT void rvm_sched__sift_down(struct rvm_sched_part *parts, uint64_t *keys,
                                         rvm_partition_id *ids, size_t len, size_t i, uint64_t key,
                                         rvm_partition_id id)
{
    for (;;) { /* bound: log2(len) + 1 levels; i at least doubles each time */
        size_t c = 2u * i + 1u;
        if (c >= len) {
            break;
        }
        uint64_t ck = keys[c];
        if (c + 1u < len && keys[c + 1u] > ck) {
            ck = keys[++c];
        }
        if (ck <= key) {
            break;
        }
        rvm_partition_id cid = ids[c];
        keys[i] = ck;
        ids[i] = cid;
        rvm_sched__part(parts, cid)->pos = (uint32_t)i;
        i = c;
    }
    keys[i] = key;
    ids[i] = id;
    rvm_sched__part(parts, id)->pos = (uint32_t)i;
}

/*
 * Take the head off a heap of len + 1 entries: move the last entry (key, id at index len) down from
 * the root of the remaining len. The last entry's key stays at keys[len] (inside the queue's
 * storage: len is below the capacity), so the right child of the last inner node always exists:
 * when it is that stale copy, choosing it (it is larger than the left child) then stops the walk
 * (it is not larger than the moving key), where the bounded choice would have taken the left
 * child and stopped as well. The heap comes out identical, with one bound test per level fewer.
 */
RVM_SCHED__HOT void rvm_sched__sift_down_last(struct rvm_sched_part *parts, uint64_t *keys,
                                              rvm_partition_id *ids, size_t len)
{
    const uint64_t key = keys[len];
    size_t i = 0;
    for (size_t c = 1; c < len; c = 2u * c + 1u) { /* bound: log2(len) + 1 levels */
        uint64_t ck = keys[c];
        uint64_t rk = keys[c + 1u];
        if (rk > ck) {
            ck = rk;
            c++;
        }
        if (ck <= key) {
            break;
        }
        rvm_partition_id cid = ids[c];
        keys[i] = ck;
        ids[i] = cid;
        rvm_sched__part(parts, cid)->pos = (uint32_t)i;
        i = c;
    }
    rvm_partition_id id = ids[len];
    keys[i] = key;
    ids[i] = id;
    rvm_sched__part(parts, id)->pos = (uint32_t)i;
}

_Static_assert(RVM_SCHED_F_CRITICAL == 1u, "rvm_sched__prio moves bit 0 of flags to the boost");

/* crit_boost is 0 or the single bit RVM_SCHED_CRITICAL_BOOST, so of flags * CRITICAL_BOOST it
 * keeps exactly the F_CRITICAL bit (bit 0 of flags lands on the boost's bit). */
static inline uint32_t rvm_sched__prio(const struct rvm_sched *s, uint32_t urgency,
                                       uint32_t pressure, uint32_t flags)
{
    return urgency + (uint32_t)((uint64_t)pressure * s->pressure_mul >> RVM_SCHED_PRESSURE_SHIFT) +
           (flags * RVM_SCHED_CRITICAL_BOOST & s->crit_boost);
}

RVM_SCHED__HOT enum rvm_err rvm_sched_enqueue_on(struct rvm_sched *s, uint32_t cpu,
                                                 rvm_partition_id id, uint16_t urgency,
                                                 uint32_t pressure_bp)
{
    /* online_mask has no bit at or above ncpus, so the online test below also bounds cpu; the
     * comparison with the constant folds away when the caller's cpu is a constant. */
    if (RVM_SCHED__FAST(id - 1u < s->max_partitions && cpu < RVM_SCHED_MAX_CPUS &&
                        pressure_bp <= RVM_SCHED_PRESSURE_MAX_BP)) {
        struct rvm_sched_part *p = rvm_sched__part(s->parts, id);
        struct rvm_sched_cpu *c = &s->cpu[cpu];
        uint32_t st = p->state;
        /* Fast case: not queued, not running elsewhere, allowed and online here, room, and
         * no sequence renumbering due. */
        if (RVM_SCHED__FAST((st & RVM_SCHED_QUEUED) == 0 && c->len < s->queue_capacity &&
                            (s->next_seq + 1u) >> RVM_SCHED_SEQ_BITS == 0 &&
                            (((s->online_mask & p->affinity) >> cpu) & 1u) != 0 &&
                            ((st & RVM_SCHED_RUNNING) == 0 || p->rcpu == cpu))) {
            pressure_bp &= s->pressure_keep;
            uint64_t next_seq = s->next_seq + 1u;
            s->next_seq = next_seq;
            uint64_t key = rvm_sched__key_of_next(
                rvm_sched__prio(s, urgency, pressure_bp, p->flags), next_seq);
            p->urgency = urgency;
            p->pressure = (uint16_t)pressure_bp;
            p->state = (uint8_t)(st | RVM_SCHED_QUEUED);
            p->qcpu = (uint8_t)cpu;
            rvm_sched__sift_up(s->parts, c->keys, c->ids, c->len++, key, id);
            return RVM_OK;
        }
    }
    return rvm_sched__enqueue_on_general(s, cpu, id, urgency, pressure_bp);
}

RVM_SCHED__HOT enum rvm_err rvm_sched_switch_next(struct rvm_sched *s, uint32_t cpu,
                                                  struct rvm_sched_switch *out)
{
    /* cpu < 64 and online implies cpu < ncpus (see rvm_sched_enqueue_on). */
    if (RVM_SCHED__FAST(cpu < RVM_SCHED_MAX_CPUS && ((s->online_mask >> cpu) & 1u) != 0 &&
                        s->cpu[cpu].len != 0)) {
        struct rvm_sched_cpu *c = &s->cpu[cpu];
        struct rvm_sched_part *parts = s->parts;
        rvm_partition_id prev = c->current;
        struct rvm_sched_part *pp = prev != 0 ? rvm_sched__part(parts, prev) : NULL;
        /* Fast case: the previous partition (if any) is not left queued on a CPU its affinity
         * excludes (then it has to move: the general path does that). */
        if (RVM_SCHED__FAST(prev == 0 || (pp->state & RVM_SCHED_QUEUED) == 0 ||
                            ((pp->affinity >> cpu) & 1u) != 0)) {
            if (prev != 0) {
                pp->state &= (uint8_t)~RVM_SCHED_RUNNING;
            }
            /* Everything about prev and next is written before the heap walk, which touches
             * only the records of queued partitions (next is no longer one): fewer values stay
             * live across the walk. */
            rvm_partition_id next = c->ids[0];
            uint32_t len = --c->len;
            struct rvm_sched_part *p = rvm_sched__part(parts, next);
            p->state = RVM_SCHED_RUNNING;
            p->rcpu = (uint8_t)cpu;
            p->last_epoch = s->epoch_tag;
            s->stats.switches++;
            c->current = next;
            out->cpu = cpu;
            out->prev = prev;
            out->next = next;
            if (len != 0) {
                rvm_sched__sift_down_last(parts, c->keys, c->ids, len);
            }
            return RVM_OK;
        }
    }
    return rvm_sched__switch_next_general(s, cpu, out);
}

#endif /* RVM_SCHED_H */
