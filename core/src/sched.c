/* SPDX-License-Identifier: MIT */
#include "rvm/sched.h"

#include "rvm/bytes.h"

#define NO_CPU 0xFFu

/* ------------------------------------------------------------------------------------------------
 * Heap primitives. Every move of a node also writes its position index, which is what makes
 * update-in-place and removal O(log n).
 * --------------------------------------------------------------------------------------------- */

/* Put (key, id) at index i of a heap where only it may be out of order. */
static void heap_fix(struct rvm_sched *s, uint32_t cpu, uint32_t i, uint64_t key,
                     rvm_partition_id id)
{
    struct rvm_sched_cpu *c = &s->cpu[cpu];
    if (i > 0 && key > c->keys[(i - 1u) >> 1]) {
        rvm_sched__sift_up(s->parts, c->keys, c->ids, i, key, id);
    } else {
        rvm_sched__sift_down(s->parts, c->keys, c->ids, c->len, i, key, id);
    }
}

static void heap_insert(struct rvm_sched *s, uint32_t cpu, uint64_t key, rvm_partition_id id)
{
    struct rvm_sched_cpu *c = &s->cpu[cpu];
    struct rvm_sched_part *p = &s->parts[id - 1u];
    p->state = (uint8_t)((p->state | RVM_SCHED_QUEUED) & ~RVM_SCHED_FORCED);
    p->qcpu = (uint8_t)cpu;
    rvm_sched__sift_up(s->parts, c->keys, c->ids, c->len++, key, id);
}

/* Remove the entry at index i; returns its key. */
static uint64_t heap_remove_at(struct rvm_sched *s, uint32_t cpu, uint32_t i)
{
    struct rvm_sched_cpu *c = &s->cpu[cpu];
    uint64_t key = c->keys[i];
    struct rvm_sched_part *p = &s->parts[c->ids[i] - 1u];
    p->state &= (uint8_t) ~(RVM_SCHED_QUEUED | RVM_SCHED_FORCED);
    p->qcpu = NO_CPU;
    c->len--;
    if (i < c->len) {
        heap_fix(s, cpu, i, c->keys[c->len], c->ids[c->len]);
    }
    return key;
}

static void heapify(struct rvm_sched *s, uint32_t cpu)
{
    struct rvm_sched_cpu *c = &s->cpu[cpu];
    for (uint32_t i = c->len / 2u; i-- > 0;) { /* bound: len / 2 */
        rvm_sched__sift_down(s->parts, c->keys, c->ids, c->len, i, c->keys[i], c->ids[i]);
    }
}

/*
 * Sequence numbers. When the next one would reach the key's 46 bits, every queued partition's
 * number is shifted down by the same amount (order kept exactly); entries older than 2^45
 * enqueues are clamped to 0. The map is monotone, so every heap stays valid and only the keys
 * are rewritten. Bounded: O(max_partitions + ncpus * queue_capacity), once per 2^45 enqueues.
 */
static void renumber(struct rvm_sched *s)
{
    const uint64_t span = RVM_SCHED_SEQ_LIMIT >> 1;
    uint64_t base = s->next_seq;
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        const struct rvm_sched_cpu *q = &s->cpu[c];
        for (uint32_t i = 0; i < q->len; i++) { /* bound: queue_capacity */
            uint64_t seq = rvm_sched__key_seq(q->keys[i]);
            if (seq < base) {
                base = seq;
            }
        }
    }
    if (s->next_seq - base > span) {
        base = s->next_seq - span;
    }
    s->next_seq -= base;
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        struct rvm_sched_cpu *q = &s->cpu[c];
        for (uint32_t i = 0; i < q->len; i++) { /* bound: queue_capacity */
            uint64_t seq = rvm_sched__key_seq(q->keys[i]);
            q->keys[i] =
                rvm_sched__key(rvm_sched__key_prio(q->keys[i]), seq < base ? 0 : seq - base);
        }
    }
}

/* The sequence number of a queued partition, from its key. */
static uint64_t queued_seq(const struct rvm_sched *s, const struct rvm_sched_part *p)
{
    return rvm_sched__key_seq(s->cpu[p->qcpu].keys[p->pos]);
}

static uint64_t take_seq(struct rvm_sched *s)
{
    if (s->next_seq >= RVM_SCHED_SEQ_LIMIT - 1u) {
        renumber(s);
    }
    return s->next_seq++;
}

/* ------------------------------------------------------------------------------------------------
 * Priority and placement
 * --------------------------------------------------------------------------------------------- */

static inline uint32_t prio_calc(const struct rvm_sched *s, uint32_t urgency, uint32_t pressure,
                                 uint32_t flags)
{
    return rvm_sched__prio(s, urgency, pressure, flags);
}

/* Recompute the derived fields after a change of mode or degraded state. */
static void derive(struct rvm_sched *s)
{
    s->pressure_on = s->mode == RVM_SCHED_FLOW && s->degraded == 0;
    s->pressure_mul = s->pressure_on ? RVM_SCHED_PRESSURE_RECIP : 0u;
    s->epoch_tag = s->epoch + 1u;
    s->crit_boost = s->mode == RVM_SCHED_RECOVERY ? RVM_SCHED_CRITICAL_BOOST : 0;
    s->pressure_keep = s->degraded != 0 ? 0u : UINT32_MAX;
}

uint32_t rvm_sched_priority_of(const struct rvm_sched *s, uint16_t urgency, uint32_t pressure_bp,
                               uint8_t flags)
{
    if (pressure_bp > RVM_SCHED_PRESSURE_MAX_BP) {
        pressure_bp = RVM_SCHED_PRESSURE_MAX_BP;
    }
    return prio_calc(s, urgency, s->degraded ? 0 : pressure_bp, flags);
}

static void reprioritise_all(struct rvm_sched *s)
{
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        struct rvm_sched_cpu *q = &s->cpu[c];
        for (uint32_t i = 0; i < q->len; i++) { /* bound: queue_capacity */
            const struct rvm_sched_part *p = &s->parts[q->ids[i] - 1u];
            q->keys[i] = rvm_sched__key(prio_calc(s, p->urgency, p->pressure, p->flags),
                                        rvm_sched__key_seq(q->keys[i]));
        }
        heapify(s, c);
    }
}

static inline uint32_t cpu_load(const struct rvm_sched *s, uint32_t c, uint32_t extra)
{
    return s->cpu[c].len + extra + (s->cpu[c].current != 0 ? 1u : 0u);
}

/*
 * The least-loaded online CPU in `mask` whose queue has room (counting `extra[c]` entries that a
 * dry run has already placed there; NULL for none). Ties: `prefer`, then the lowest index.
 */
static uint32_t pick_cpu(const struct rvm_sched *s, uint64_t mask, uint32_t prefer,
                         const uint32_t *extra)
{
    uint64_t m = mask & s->online_mask;
    uint32_t best = NO_CPU;
    uint32_t best_load = UINT32_MAX;
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        if (((m >> c) & 1u) == 0) {
            continue;
        }
        uint32_t add = extra != NULL ? extra[c] : 0;
        if (s->cpu[c].len + add >= s->queue_capacity) {
            continue;
        }
        uint32_t load = cpu_load(s, c, add);
        if (load < best_load || (load == best_load && c == prefer)) {
            best = c;
            best_load = load;
        }
    }
    return best;
}

/* ------------------------------------------------------------------------------------------------
 * Init
 * --------------------------------------------------------------------------------------------- */

static void part_reset(const struct rvm_sched *s, struct rvm_sched_part *p)
{
    p->affinity = s->cpu_mask;
    p->last_epoch = 0;
    p->pos = 0;
    p->urgency = 0;
    p->pressure = 0;
    p->qcpu = NO_CPU;
    p->rcpu = NO_CPU;
    p->state = 0;
    p->flags = 0;
}

enum rvm_err rvm_sched_init(struct rvm_sched *s, struct rvm_witness_log *log,
                            const struct rvm_sched_config *cfg)
{
    if (s == NULL || log == NULL || cfg == NULL || cfg->parts == NULL || cfg->queue_keys == NULL ||
        cfg->queue_ids == NULL || cfg->ncpus == 0 || cfg->ncpus > RVM_SCHED_MAX_CPUS ||
        cfg->max_partitions == 0 || cfg->max_partitions > RVM_SCHED_MAX_PARTITIONS ||
        cfg->queue_capacity == 0 || cfg->queue_capacity > RVM_SCHED_MAX_QUEUE ||
        (uint32_t)cfg->mode > RVM_SCHED_RECOVERY) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint64_t cpu_mask = cfg->ncpus == 64u ? UINT64_MAX : ((uint64_t)1 << cfg->ncpus) - 1u;
    if (cfg->online_mask == 0 || (cfg->online_mask & ~cpu_mask) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(s, 0, sizeof(*s));
    s->log = log;
    s->parts = cfg->parts;
    s->max_partitions = cfg->max_partitions;
    s->queue_capacity = cfg->queue_capacity;
    s->ncpus = cfg->ncpus;
    s->cpu_mask = cpu_mask;
    s->online_mask = cfg->online_mask;
    s->mode = (uint8_t)cfg->mode;
    derive(s);
    for (uint32_t c = 0; c < cfg->ncpus; c++) { /* bound: ncpus <= 64 */
        s->cpu[c].keys = cfg->queue_keys + (size_t)c * cfg->queue_capacity;
        s->cpu[c].ids = cfg->queue_ids + (size_t)c * cfg->queue_capacity;
    }
    for (uint32_t i = 0; i < cfg->max_partitions; i++) { /* bound: max_partitions */
        part_reset(s, &s->parts[i]);
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Run-queue operations
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err refuse(struct rvm_sched *s, uint32_t actor, uint64_t target, uint8_t kind,
                           uint8_t stage, enum rvm_err err)
{
    const struct rvm_witness_rejection r = {
        .actor = actor,
        .target = target,
        .attempted_kind = kind,
        .stage = stage,
        .passed_tier = RVM_PROOF_NONE,
        .cap_hash = 0,
        .err = err,
    };
    (void)rvm_witness_reject(s->log, &r);
    return err;
}

__attribute__((noinline, cold)) static enum rvm_err
refuse_enqueue(struct rvm_sched *s, rvm_partition_id id, uint8_t stage, enum rvm_err err)
{
    return refuse(s, 0, id, RVM_ACT_SCHED_ENQUEUE, stage, err);
}

/* Argument validation shared by both enqueue forms. */
static inline bool enqueue_args_ok(const struct rvm_sched *s, rvm_partition_id id,
                                   uint32_t pressure_bp)
{
    return id - 1u < s->max_partitions && pressure_bp <= RVM_SCHED_PRESSURE_MAX_BP;
}

/* Queue partition p (id) on cpu with a new priority; cpu has been validated. */
static enum rvm_err enqueue_at(struct rvm_sched *s, uint32_t cpu, rvm_partition_id id,
                               struct rvm_sched_part *p, uint16_t urgency, uint32_t pressure)
{
    uint32_t prio = prio_calc(s, urgency, pressure, p->flags);
    uint64_t seq;
    if ((p->state & RVM_SCHED_QUEUED) != 0) {
        seq = queued_seq(s, p);
        if (p->qcpu == cpu) {
            heap_fix(s, cpu, p->pos, rvm_sched__key(prio, seq), id);
            p->urgency = urgency;
            p->pressure = (uint16_t)pressure;
            return RVM_OK;
        }
        if (s->cpu[cpu].len >= s->queue_capacity) {
            return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_QUEUE_FULL);
        }
        (void)heap_remove_at(s, p->qcpu, p->pos); /* keeps seq: its FIFO place */
    } else {
        if (s->cpu[cpu].len >= s->queue_capacity) {
            return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_QUEUE_FULL);
        }
        seq = take_seq(s);
    }
    p->urgency = urgency;
    p->pressure = (uint16_t)pressure;
    heap_insert(s, cpu, rvm_sched__key(prio, seq), id);
    return RVM_OK;
}

enum rvm_err rvm_sched__enqueue_on_general(struct rvm_sched *s, uint32_t cpu, rvm_partition_id id,
                                           uint16_t urgency, uint32_t pressure_bp)
{
    if (!enqueue_args_ok(s, id, pressure_bp) || cpu >= s->ncpus) {
        return refuse_enqueue(s, id, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE);
    }
    if (((s->online_mask >> cpu) & 1u) == 0) {
        return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_CPU_OFFLINE);
    }
    struct rvm_sched_part *p = &s->parts[id - 1u];
    bool running = (p->state & RVM_SCHED_RUNNING) != 0;
    if (running && p->rcpu != cpu) {
        return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_RUNNING_ELSEWHERE);
    }
    if (((p->affinity >> cpu) & 1u) == 0 && !running) {
        return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_AFFINITY);
    }
    return enqueue_at(s, cpu, id, p, urgency, s->degraded ? 0 : pressure_bp);
}

enum rvm_err rvm_sched_enqueue(struct rvm_sched *s, rvm_partition_id id, uint16_t urgency,
                               uint32_t pressure_bp)
{
    if (!enqueue_args_ok(s, id, pressure_bp)) {
        return refuse_enqueue(s, id, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE);
    }
    struct rvm_sched_part *p = &s->parts[id - 1u];
    uint32_t cpu;
    if ((p->state & RVM_SCHED_QUEUED) != 0) {
        cpu = p->qcpu;
    } else if ((p->state & RVM_SCHED_RUNNING) != 0) {
        cpu = p->rcpu;
    } else {
        cpu = pick_cpu(s, p->affinity, p->rcpu, NULL);
        if (cpu == NO_CPU) {
            return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION,
                                  (p->affinity & s->online_mask) == 0 ? RVM_ERR_AFFINITY
                                                                      : RVM_ERR_QUEUE_FULL);
        }
    }
    return enqueue_at(s, cpu, id, p, urgency, s->degraded ? 0 : pressure_bp);
}

enum rvm_err rvm_sched_dequeue(struct rvm_sched *s, rvm_partition_id id)
{
    if (id - 1u >= s->max_partitions) {
        return refuse_enqueue(s, id, RVM_STAGE_DECODE, RVM_ERR_OUT_OF_RANGE);
    }
    struct rvm_sched_part *p = &s->parts[id - 1u];
    if ((p->state & RVM_SCHED_QUEUED) == 0) {
        return refuse_enqueue(s, id, RVM_STAGE_PRECONDITION, RVM_ERR_WRONG_STATE);
    }
    (void)heap_remove_at(s, p->qcpu, p->pos);
    return RVM_OK;
}

enum rvm_err rvm_sched_prepare_switch(const struct rvm_sched *s, uint32_t cpu,
                                      struct rvm_sched_switch *plan)
{
    if (cpu >= s->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (((s->online_mask >> cpu) & 1u) == 0) {
        return RVM_ERR_CPU_OFFLINE;
    }
    const struct rvm_sched_cpu *c = &s->cpu[cpu];
    plan->cpu = cpu;
    plan->prev = c->current;
    plan->next = c->len != 0 ? c->ids[0] : 0;
    return RVM_OK;
}

/*
 * A partition is queued on the CPU it runs on even when its affinity excludes that CPU (an
 * affinity change while it ran), because queueing it elsewhere could dispatch it twice. Once it
 * stops running it moves to an allowed CPU, or is marked FORCED when none has room.
 */
static void stopped_outside_affinity(struct rvm_sched *s, uint32_t cpu, struct rvm_sched_part *p)
{
    uint32_t to = pick_cpu(s, p->affinity, NO_CPU, NULL);
    if (to == NO_CPU) {
        p->state |= RVM_SCHED_FORCED;
        return;
    }
    rvm_partition_id id = s->cpu[cpu].ids[p->pos];
    uint64_t key = heap_remove_at(s, cpu, p->pos);
    heap_insert(s, to, key, id);
}

void rvm_sched_commit_switch(struct rvm_sched *s, const struct rvm_sched_switch *plan)
{
    struct rvm_sched_cpu *c = &s->cpu[plan->cpu];
    if (c->current != 0) {
        struct rvm_sched_part *prev = &s->parts[c->current - 1u];
        prev->state &= (uint8_t)~RVM_SCHED_RUNNING;
        if ((prev->state & RVM_SCHED_QUEUED) != 0 && ((prev->affinity >> plan->cpu) & 1u) == 0 &&
            c->current != plan->next) {
            stopped_outside_affinity(s, plan->cpu, prev);
        }
    }
    rvm_partition_id next = plan->next;
    struct rvm_sched_part *p = next != 0 ? &s->parts[next - 1u] : NULL;
    /* Defensive: dispatch only what prepare saw at the head of this queue. */
    if (p == NULL || (p->state & RVM_SCHED_QUEUED) == 0 || p->qcpu != plan->cpu) {
        c->current = 0;
        s->stats.idle++;
        return;
    }
    (void)heap_remove_at(s, plan->cpu, p->pos);
    p->state |= RVM_SCHED_RUNNING;
    p->rcpu = (uint8_t)plan->cpu;
    p->last_epoch = s->epoch_tag;
    c->current = next;
    s->stats.switches++;
}

enum rvm_err rvm_sched__switch_next_general(struct rvm_sched *s, uint32_t cpu,
                                            struct rvm_sched_switch *out)
{
    enum rvm_err err = rvm_sched_prepare_switch(s, cpu, out);
    if (err != RVM_OK) {
        return refuse(s, 0, cpu, RVM_ACT_SCHED_SWITCH,
                      err == RVM_ERR_OUT_OF_RANGE ? RVM_STAGE_DECODE : RVM_STAGE_PRECONDITION, err);
    }
    rvm_sched_commit_switch(s, out);
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Administrative operations
 * --------------------------------------------------------------------------------------------- */

static void entry_init(struct rvm_witness_entry *e, uint8_t kind, uint32_t actor, uint64_t target)
{
    rvm_memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->actor = actor;
    e->target = target;
}

/* Runs prepare's result through the log: on refusal a rejection record, else the entry. */
enum rvm_err rvm_sched_prepare_placement(const struct rvm_sched *s, uint32_t actor,
                                         rvm_partition_id id, uint64_t affinity, uint32_t flags,
                                         struct rvm_witness_entry *e,
                                         struct rvm_sched_placement_plan *plan)
{
    entry_init(e, RVM_ACT_SCHED_PLACEMENT, actor, id);
    if (id - 1u >= s->max_partitions) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (affinity == 0 || (affinity & ~s->cpu_mask) != 0 || (flags & ~RVM_SCHED_F_ALL) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const struct rvm_sched_part *p = &s->parts[id - 1u];
    plan->id = id;
    plan->affinity = affinity;
    plan->flags = (uint8_t)flags;
    plan->move = false;
    plan->to_cpu = NO_CPU;
    if ((p->state & RVM_SCHED_QUEUED) != 0 && ((affinity >> p->qcpu) & 1u) == 0 &&
        !((p->state & RVM_SCHED_RUNNING) != 0 && p->rcpu == p->qcpu)) {
        uint32_t to = pick_cpu(s, affinity, NO_CPU, NULL);
        if (to == NO_CPU) {
            return (affinity & s->online_mask) == 0 ? RVM_ERR_AFFINITY : RVM_ERR_QUEUE_FULL;
        }
        plan->move = true;
        plan->to_cpu = to;
    }
    e->payload = affinity;
    e->aux = flags;
    if (plan->move) {
        e->aux |= (uint64_t)(p->qcpu + 1u) << 8 | (uint64_t)(plan->to_cpu + 1u) << 16;
    }
    return RVM_OK;
}

void rvm_sched_commit_placement(struct rvm_sched *s, const struct rvm_sched_placement_plan *plan)
{
    struct rvm_sched_part *p = &s->parts[plan->id - 1u];
    p->affinity = plan->affinity;
    p->flags = plan->flags;
    if ((p->state & RVM_SCHED_QUEUED) == 0) {
        return;
    }
    uint32_t from = p->qcpu;
    uint64_t key =
        rvm_sched__key(prio_calc(s, p->urgency, p->pressure, p->flags), queued_seq(s, p));
    if (plan->move) {
        (void)heap_remove_at(s, from, p->pos);
        heap_insert(s, plan->to_cpu, key, plan->id);
    } else {
        if (((p->affinity >> from) & 1u) != 0) {
            p->state &= (uint8_t)~RVM_SCHED_FORCED;
        }
        heap_fix(s, from, p->pos, key, plan->id);
    }
}

enum rvm_err rvm_sched_prepare_remove(const struct rvm_sched *s, uint32_t actor,
                                      rvm_partition_id id, struct rvm_witness_entry *e,
                                      struct rvm_sched_remove_plan *plan)
{
    entry_init(e, RVM_ACT_SCHED_REMOVE, actor, id);
    if (id - 1u >= s->max_partitions) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    const struct rvm_sched_part *p = &s->parts[id - 1u];
    e->payload = p->state;
    e->aux = (p->state & RVM_SCHED_RUNNING) != 0 ? (uint64_t)p->rcpu + 1u : 0;
    plan->id = id;
    return RVM_OK;
}

void rvm_sched_commit_remove(struct rvm_sched *s, const struct rvm_sched_remove_plan *plan)
{
    struct rvm_sched_part *p = &s->parts[plan->id - 1u];
    if ((p->state & RVM_SCHED_QUEUED) != 0) {
        (void)heap_remove_at(s, p->qcpu, p->pos);
    }
    if ((p->state & RVM_SCHED_RUNNING) != 0) {
        s->cpu[p->rcpu].current = 0;
    }
    part_reset(s, p);
}

enum rvm_err rvm_sched_prepare_mode(const struct rvm_sched *s, uint32_t actor, uint32_t mode,
                                    struct rvm_witness_entry *e, struct rvm_sched_mode_plan *plan)
{
    entry_init(e, RVM_ACT_SCHED_MODE_SWITCH, actor, 0);
    if (mode > RVM_SCHED_RECOVERY) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (mode == s->mode) {
        return RVM_ERR_WRONG_STATE;
    }
    e->payload = mode;
    e->aux = s->mode;
    plan->mode = (uint8_t)mode;
    return RVM_OK;
}

void rvm_sched_commit_mode(struct rvm_sched *s, const struct rvm_sched_mode_plan *plan)
{
    s->mode = plan->mode;
    derive(s);
    reprioritise_all(s);
}

enum rvm_err rvm_sched_prepare_degraded(const struct rvm_sched *s, uint32_t actor, bool enter,
                                        uint32_t reason, struct rvm_witness_entry *e,
                                        struct rvm_sched_degraded_plan *plan)
{
    entry_init(e, enter ? RVM_ACT_DEGRADED_ENTER : RVM_ACT_DEGRADED_EXIT, actor, 0);
    if (enter && (reason < RVM_SCHED_DEGRADED_COHERENCE_UNAVAILABLE ||
                  reason > RVM_SCHED_DEGRADED_RECOVERY)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((s->degraded != 0) == enter) {
        return RVM_ERR_WRONG_STATE;
    }
    plan->enter = enter;
    plan->reason = (uint8_t)(enter ? reason : s->degraded_reason);
    e->payload = plan->reason;
    e->aux = enter ? s->epoch : s->epoch - s->degraded_since;
    return RVM_OK;
}

void rvm_sched_commit_degraded(struct rvm_sched *s, const struct rvm_sched_degraded_plan *plan)
{
    if (plan->enter) {
        s->degraded = 1;
        s->degraded_reason = plan->reason;
        s->degraded_since = s->epoch;
        derive(s);
        for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
            s->parts[i].pressure = 0;
        }
        reprioritise_all(s);
    } else {
        /* Every stored pressure is 0 since entry, so no priority changes. */
        s->degraded = 0;
        s->degraded_reason = 0;
        derive(s);
    }
}

static uint32_t evacuation_cpu(const struct rvm_sched *s, uint64_t remaining,
                               const struct rvm_sched_part *p, const uint32_t *extra);

static void evacuate_one(struct rvm_sched *s, struct rvm_sched_part *p, rvm_partition_id id,
                         uint64_t seq)
{
    uint32_t to = evacuation_cpu(s, s->online_mask, p, NULL);
    heap_insert(s, to, rvm_sched__key(prio_calc(s, p->urgency, p->pressure, p->flags), seq), id);
    if (((p->affinity >> to) & 1u) == 0) {
        p->state |= RVM_SCHED_FORCED;
    }
}

/* Destination for one evacuated partition: an allowed CPU, else any (affinity broken, as the
 * only alternative is losing it). NO_CPU when every remaining queue is full. */
static uint32_t evacuation_cpu(const struct rvm_sched *s, uint64_t remaining,
                               const struct rvm_sched_part *p, const uint32_t *extra)
{
    uint32_t to = pick_cpu(s, p->affinity & remaining, NO_CPU, extra);
    if (to == NO_CPU && (p->affinity & remaining & s->online_mask) == 0) {
        to = pick_cpu(s, remaining, NO_CPU, extra);
    }
    return to;
}

/* Queued on, or running on, `cpu`: what an offline of that CPU must move. */
static inline bool on_cpu(const struct rvm_sched_part *p, uint32_t cpu)
{
    return ((p->state & RVM_SCHED_QUEUED) != 0 && p->qcpu == cpu) ||
           ((p->state & RVM_SCHED_RUNNING) != 0 && p->rcpu == cpu);
}

enum rvm_err rvm_sched_prepare_cpu(const struct rvm_sched *s, uint32_t actor, uint32_t cpu,
                                   bool online, struct rvm_witness_entry *e,
                                   struct rvm_sched_cpu_plan *plan)
{
    entry_init(e, online ? RVM_ACT_CPU_ONLINE : RVM_ACT_CPU_OFFLINE, actor, cpu);
    if (cpu >= s->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    uint64_t bit = (uint64_t)1 << cpu;
    plan->cpu = cpu;
    plan->online = online;
    plan->moved = 0;
    if (online) {
        return (s->online_mask & bit) != 0 ? RVM_ERR_WRONG_STATE : RVM_OK;
    }
    if ((s->online_mask & bit) == 0) {
        return RVM_ERR_WRONG_STATE;
    }
    if (s->online_mask == bit) {
        return RVM_ERR_LAST_CPU;
    }
    /* Dry run of the commit's placement, in the same order, so the commit cannot fail. */
    uint32_t extra[RVM_SCHED_MAX_CPUS] = {0};
    uint64_t remaining = s->online_mask & ~bit;
    uint32_t moved = 0;
    for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_sched_part *p = &s->parts[i];
        if (!on_cpu(p, cpu)) {
            continue;
        }
        uint32_t to = evacuation_cpu(s, remaining, p, extra);
        if (to == NO_CPU) {
            return RVM_ERR_QUEUE_FULL;
        }
        extra[to]++;
        moved++;
    }
    plan->moved = moved;
    e->payload = moved;
    e->aux = s->cpu[cpu].current;
    return RVM_OK;
}

void rvm_sched_commit_cpu(struct rvm_sched *s, const struct rvm_sched_cpu_plan *plan)
{
    uint32_t cpu = plan->cpu;
    uint64_t bit = (uint64_t)1 << cpu;
    if (plan->online) {
        s->online_mask |= bit;
        return;
    }
    s->online_mask &= ~bit;
    s->cpu[cpu].current = 0;
    /* Increasing id order: canonical, so the result does not depend on the heap's layout. */
    for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
        struct rvm_sched_part *p = &s->parts[i];
        if (!on_cpu(p, cpu)) {
            continue;
        }
        rvm_partition_id id = i + 1u;
        if ((p->state & RVM_SCHED_RUNNING) != 0 && p->rcpu == cpu) {
            p->state &= (uint8_t)~RVM_SCHED_RUNNING;
        }
        uint64_t seq;
        if ((p->state & RVM_SCHED_QUEUED) != 0) {
            seq = queued_seq(s, p); /* kept: its FIFO place */
            (void)heap_remove_at(s, cpu, p->pos);
        } else {
            seq = take_seq(s); /* it was running: queued afresh */
        }
        evacuate_one(s, p, id, seq);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Epoch summary
 * --------------------------------------------------------------------------------------------- */

static uint32_t popcount64(uint64_t v)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < 64; i++) { /* bound: 64 bits */
        n += (uint32_t)((v >> i) & 1u);
    }
    return n;
}

enum rvm_err rvm_sched_epoch_tick(struct rvm_sched *s, struct rvm_sched_epoch_summary *out)
{
    uint32_t runnable = 0;
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        runnable += s->cpu[c].len;
        rvm_partition_id cur = s->cpu[c].current;
        if (cur != 0 && (s->parts[cur - 1u].state & RVM_SCHED_QUEUED) == 0) {
            runnable++;
        }
    }
    uint32_t online = popcount64(s->online_mask);
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
        distinct += s->parts[i].last_epoch == s->epoch_tag ? 1u : 0u;
    }

    struct rvm_witness_entry e;
    entry_init(&e, RVM_ACT_SCHED_EPOCH, 0, s->epoch);
    e.flags = (uint8_t)(s->mode | (s->degraded != 0 ? 4u : 0u));
    e.payload = (uint64_t)s->stats.switches | (uint64_t)runnable << 32;
    e.aux = (uint64_t)distinct | (uint64_t)online << 48;
    enum rvm_err err = rvm_witness_append(s->log, &e, NULL);
    if (err != RVM_OK) {
        return err;
    }
    if (out != NULL) {
        out->epoch = s->epoch;
        out->stats = s->stats;
        out->stats.distinct = distinct;
        out->runnable = runnable;
        out->online_cpus = online;
        out->mode = s->mode;
        out->degraded = s->degraded != 0;
    }
    rvm_memset(&s->stats, 0, sizeof(s->stats));
    s->epoch++;
    s->epoch_tag = s->epoch + 1u;
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Queries, check, hash
 * --------------------------------------------------------------------------------------------- */

uint8_t rvm_sched_state(const struct rvm_sched *s, rvm_partition_id id)
{
    return id - 1u < s->max_partitions ? s->parts[id - 1u].state : 0;
}

int32_t rvm_sched_queue_cpu(const struct rvm_sched *s, rvm_partition_id id)
{
    if (id - 1u >= s->max_partitions || (s->parts[id - 1u].state & RVM_SCHED_QUEUED) == 0) {
        return -1;
    }
    return s->parts[id - 1u].qcpu;
}

static bool check_cpus(const struct rvm_sched *s, uint32_t *queued_total)
{
    uint32_t total = 0;
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        const struct rvm_sched_cpu *q = &s->cpu[c];
        bool online = ((s->online_mask >> c) & 1u) != 0;
        if (q->len > s->queue_capacity || (!online && (q->len != 0 || q->current != 0))) {
            return false;
        }
        if (q->current != 0) {
            if (q->current - 1u >= s->max_partitions) {
                return false;
            }
            const struct rvm_sched_part *p = &s->parts[q->current - 1u];
            if ((p->state & RVM_SCHED_RUNNING) == 0 || p->rcpu != c) {
                return false;
            }
        }
        for (uint32_t i = 0; i < q->len; i++) { /* bound: queue_capacity */
            rvm_partition_id id = q->ids[i];
            if (id - 1u >= s->max_partitions) {
                return false;
            }
            const struct rvm_sched_part *p = &s->parts[id - 1u];
            if ((p->state & RVM_SCHED_QUEUED) == 0 || p->qcpu != c || p->pos != i ||
                rvm_sched__key_seq(q->keys[i]) >= s->next_seq ||
                rvm_sched__key_prio(q->keys[i]) !=
                    prio_calc(s, p->urgency, p->pressure, p->flags)) {
                return false;
            }
            if (i > 0 && q->keys[i] > q->keys[(i - 1u) >> 1]) {
                return false;
            }
            bool allowed = ((p->affinity >> c) & 1u) != 0;
            bool running_here = (p->state & RVM_SCHED_RUNNING) != 0 && p->rcpu == c;
            if (!allowed && !running_here && (p->state & RVM_SCHED_FORCED) == 0) {
                return false;
            }
        }
        total += q->len;
    }
    *queued_total = total;
    return true;
}

enum rvm_err rvm_sched_check(const struct rvm_sched *s)
{
    if (s->ncpus == 0 || s->ncpus > RVM_SCHED_MAX_CPUS || s->online_mask == 0 ||
        s->next_seq >= RVM_SCHED_SEQ_LIMIT || (s->online_mask & ~s->cpu_mask) != 0 ||
        s->mode > RVM_SCHED_RECOVERY ||
        s->pressure_on != (s->mode == RVM_SCHED_FLOW && s->degraded == 0) ||
        s->crit_boost != (s->mode == RVM_SCHED_RECOVERY ? RVM_SCHED_CRITICAL_BOOST : 0u) ||
        s->pressure_mul != (s->pressure_on ? RVM_SCHED_PRESSURE_RECIP : 0u) ||
        s->pressure_keep != (s->degraded != 0 ? 0u : UINT32_MAX) || s->epoch_tag != s->epoch + 1u) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t queued_total = 0;
    if (!check_cpus(s, &queued_total)) {
        return RVM_ERR_INTERNAL;
    }
    uint32_t queued_parts = 0;
    for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_sched_part *p = &s->parts[i];
        rvm_partition_id id = i + 1u;
        if ((p->state & ~(RVM_SCHED_QUEUED | RVM_SCHED_RUNNING | RVM_SCHED_FORCED)) != 0 ||
            ((p->state & RVM_SCHED_FORCED) != 0 && (p->state & RVM_SCHED_QUEUED) == 0) ||
            (p->flags & ~RVM_SCHED_F_ALL) != 0 || p->affinity == 0 ||
            (p->affinity & ~s->cpu_mask) != 0 || p->pressure > RVM_SCHED_PRESSURE_MAX_BP ||
            (s->degraded != 0 && p->pressure != 0)) {
            return RVM_ERR_INTERNAL;
        }
        if ((p->state & RVM_SCHED_QUEUED) != 0) {
            /* The heap scan proved the node at (qcpu, pos) names it; check the reverse. */
            if (p->qcpu >= s->ncpus || p->pos >= s->cpu[p->qcpu].len ||
                s->cpu[p->qcpu].ids[p->pos] != id) {
                return RVM_ERR_INTERNAL;
            }
            queued_parts++;
        }
        if ((p->state & RVM_SCHED_RUNNING) != 0) {
            if (p->rcpu >= s->ncpus || s->cpu[p->rcpu].current != id) {
                return RVM_ERR_INTERNAL;
            }
            if ((p->state & RVM_SCHED_QUEUED) != 0 && p->qcpu != p->rcpu) {
                return RVM_ERR_INTERNAL;
            }
        }
    }
    return queued_parts == queued_total ? RVM_OK : RVM_ERR_INTERNAL;
}

static void absorb_u64(struct rvm_sha256_ctx *ctx, uint64_t v)
{
    rvm_sha256_update_le64(ctx, v);
}

void rvm_sched_hash(const struct rvm_sched *s, struct rvm_sha256_ctx *ctx)
{
    static const uint8_t tag[8] = {'r', 'v', 'm', 's', 'c', 'h', 'e', 'd'};
    rvm_sha256_update(ctx, tag, sizeof(tag));
    absorb_u64(ctx, (uint64_t)s->ncpus | (uint64_t)s->queue_capacity << 32);
    absorb_u64(ctx, s->max_partitions);
    absorb_u64(ctx, s->online_mask);
    absorb_u64(ctx, s->next_seq);
    absorb_u64(ctx, s->epoch);
    absorb_u64(ctx, s->degraded_since);
    absorb_u64(ctx,
               (uint64_t)s->mode | (uint64_t)s->degraded << 8 | (uint64_t)s->degraded_reason << 16);
    absorb_u64(ctx, (uint64_t)s->stats.switches | (uint64_t)s->stats.idle << 32);
    absorb_u64(ctx, s->stats.distinct);
    for (uint32_t c = 0; c < s->ncpus; c++) { /* bound: ncpus <= 64 */
        absorb_u64(ctx, (uint64_t)s->cpu[c].current | (uint64_t)s->cpu[c].len << 32);
    }
    for (uint32_t i = 0; i < s->max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_sched_part *p = &s->parts[i];
        bool queued = (p->state & RVM_SCHED_QUEUED) != 0;
        absorb_u64(ctx, p->affinity);
        absorb_u64(ctx, p->last_epoch);
        absorb_u64(ctx, (uint64_t)p->urgency | (uint64_t)p->pressure << 16 |
                            (uint64_t)(queued ? p->qcpu : NO_CPU) << 32 | (uint64_t)p->rcpu << 40 |
                            (uint64_t)p->state << 48 | (uint64_t)p->flags << 56);
        if (queued) {
            absorb_u64(ctx, s->cpu[p->qcpu].keys[p->pos]); /* priority and sequence */
        }
    }
}
