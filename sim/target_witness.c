/* SPDX-License-Identifier: MIT */
/*
 * The "witness" target: the core's witness log (core/src/witness.c) driven operation by
 * operation, with a model beside it.
 *
 * Operations: append (every record field), reject (the rejection record), reserve (creates a
 * reservation object: "the next n appends cannot fail"), flush and seal. Faults come from the
 * engine (sink stalls and partial drains, interrupts, timers, CPUs, allocation failures, hostile
 * arguments) plus this target's own ring_bitflip (memory corruption of a record still in the ring;
 * explicit only, because it must make the oracles fail).
 *
 * Oracles, besides the engine's (chain of every record the sink receives, sink count, seal and
 * final verification, "no witness, no mutation" over the hash below):
 *   witness.record-content     each record reaching the sink carries the fields its operation
 *                              asked for and the timestamp the clock gave it
 *   witness.refused-changed    a refused append or reserve left the log's records unchanged
 *   witness.reservation        after reserve(n) succeeded, the next n appends do not fail
 *   witness.refused-while-healthy  nothing is refused while the sink takes everything
 *   witness.sequence-assigned  an append's sequence number is the next one
 *   witness.ring               ring occupancy and checkpoint queue within their capacities
 * Liveness: with faults off, every record and checkpoint reaches the sink.
 *
 * Platform use: if flush_period is set, a timer on CPU 0 flushes the ring periodically; if
 * sink_irq is set, the sink-ready interrupt (RVM_SIM_IRQ_SINK_READY) flushes it, so records drain
 * after a stall without an explicit flush.
 */
#include "target.h"

#include "rvm/bytes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CLS_RESERVATION };

enum { OP_APPEND, OP_REJECT, OP_RESERVE, OP_FLUSH, OP_SEAL };

enum { P_RING, P_CHECKPOINT, P_RESERVATIONS, P_FLUSH_PERIOD, P_SINK_IRQ };

enum {
    Q_PENDING,
    Q_REFUSED,
    Q_RESERVED,
    Q_RESERVATIONS,
    Q_CHECKPOINTS_PENDING,
    Q_IRQS,
    Q_SPURIOUS,
    Q_TIMERS,
    Q_CPU_EVENTS,
};

enum { F_RING_BITFLIP };

#define MAX_RESERVATIONS 64u

struct reservation {
    uint32_t generation;
    uint32_t remaining;
    bool live;
};

struct shadow {
    uint64_t seq; /* UINT64_MAX: empty */
    uint64_t timestamp;
    struct rvm_witness_entry e;
};

struct wtarget {
    uint32_t ring_capacity;
    uint32_t nres;
    uint64_t flush_period;
    bool sink_irq;
    uint8_t (*ring)[RVM_WITNESS_RECORD_BYTES];
    struct shadow *shadow; /* expected content of each record not yet drained */
    const struct rvm_hal *hal;
    struct rvm_witness_log log;
    struct reservation res[MAX_RESERVATIONS];
    uint64_t guarantee; /* appends that must not fail (max of outstanding reserve(n)) */
    uint64_t irqs, spurious, timers, cpu_events;
};

static const char *const classes[] = {"reservation"};

static const struct rvm_sim_arg_spec params[] = {
    [P_RING] = {"ring", RVM_SIM_ARG_U64, 0, true, 16, 2, 1024},
    [P_CHECKPOINT] = {"checkpoint", RVM_SIM_ARG_U64, 0, true, 32, 0, 1u << 20},
    [P_RESERVATIONS] = {"reservations", RVM_SIM_ARG_U64, 0, true, 4, 1, MAX_RESERVATIONS},
    [P_FLUSH_PERIOD] = {"flush_period", RVM_SIM_ARG_U64, 0, true, 0, 0, 1000000000},
    [P_SINK_IRQ] = {"sink_irq", RVM_SIM_ARG_BOOL, 0, true, 1, 0, 1},
};

/* Random draws: small actor ids and any 64-bit target/payload/aux. */
static const struct rvm_sim_arg_spec append_args[] = {
    {"kind", RVM_SIM_ARG_ACTION, 0, true, RVM_ACT_DEMO, 0, 255},
    {"tier", RVM_SIM_ARG_U64, 0, true, 0, 0, 3},
    {"flags", RVM_SIM_ARG_U64, 0, true, 0, 0, 255},
    {"actor", RVM_SIM_ARG_U64, 0, true, 0, 0, 16},
    {"target", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT64_MAX},
    {"cap", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT32_MAX},
    {"payload", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT64_MAX},
    {"aux", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT64_MAX},
    {"res", RVM_SIM_ARG_OBJECT, CLS_RESERVATION, true, 0, 0, 0},
};

static const struct rvm_sim_arg_spec reject_args[] = {
    {"kind", RVM_SIM_ARG_ACTION, 0, true, RVM_ACT_DEMO, 0, 255},
    {"actor", RVM_SIM_ARG_U64, 0, true, 0, 0, 16},
    {"target", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT64_MAX},
    {"stage", RVM_SIM_ARG_U64, 0, true, RVM_STAGE_DECODE, RVM_STAGE_DECODE, RVM_STAGE_PRECONDITION},
    {"tier", RVM_SIM_ARG_U64, 0, true, 0, 0, 3},
    {"err", RVM_SIM_ARG_ERR, 0, true, RVM_ERR_INVALID_ARGUMENT, 1, 0x161},
    {"cap", RVM_SIM_ARG_U64, 0, true, 0, 0, UINT32_MAX},
    {"res", RVM_SIM_ARG_OBJECT, CLS_RESERVATION, true, 0, 0, 0},
};

static const struct rvm_sim_arg_spec reserve_args[] = {
    {"n", RVM_SIM_ARG_U64, 0, false, 1, 1, 8},
};

static const struct rvm_sim_op_spec ops[] = {
    [OP_APPEND] = {"append", "append one record with the given fields", 9, append_args, -1},
    [OP_REJECT] = {"reject", "append a rejection record (rvm_witness_reject)", 8, reject_args, -1},
    [OP_RESERVE] = {"reserve", "make room so the next n appends cannot fail", 1, reserve_args,
                    CLS_RESERVATION},
    [OP_FLUSH] = {"flush", "offer every pending record and checkpoint to the sink", 0, NULL, -1},
    [OP_SEAL] = {"seal", "checkpoint the end of the log and flush", 0, NULL, -1},
};

static const char *const queries[] = {
    [Q_PENDING] = "pending",
    [Q_REFUSED] = "refusals",
    [Q_RESERVED] = "reserved",
    [Q_RESERVATIONS] = "reservations",
    [Q_CHECKPOINTS_PENDING] = "checkpoints.pending",
    [Q_IRQS] = "irqs",
    [Q_SPURIOUS] = "irqs.spurious",
    [Q_TIMERS] = "timers",
    [Q_CPU_EVENTS] = "cpu.events",
};

static const struct rvm_sim_arg_spec bitflip_args[] = {
    {"bit", RVM_SIM_ARG_U64, 0, false, 0, 0, 511},
};

static const struct rvm_sim_fault_spec faults[] = {
    [F_RING_BITFLIP] = {"ring_bitflip",
                        "flip a bit of the oldest record still in the ring (memory corruption: "
                        "the chain oracles must catch it)",
                        1, bitflip_args, 1, 1000, RVM_SIM_FAULT_EXPLICIT},
};

/* ------------------------------------------------------------------------------------------------
 */

static void *w_create(const uint64_t *p)
{
    uint64_t ring = p[P_RING];
    if (ring < 2 || ring > 1024 || (ring & (ring - 1)) != 0 || p[P_RESERVATIONS] == 0 ||
        p[P_RESERVATIONS] > MAX_RESERVATIONS) {
        return NULL;
    }
    struct wtarget *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return NULL;
    }
    w->ring_capacity = (uint32_t)ring;
    w->nres = (uint32_t)p[P_RESERVATIONS];
    w->flush_period = p[P_FLUSH_PERIOD];
    w->sink_irq = p[P_SINK_IRQ] != 0;
    w->ring = calloc(ring, RVM_WITNESS_RECORD_BYTES);
    w->shadow = calloc(ring, sizeof(*w->shadow));
    if (w->ring == NULL || w->shadow == NULL) {
        free(w->ring);
        free(w->shadow);
        free(w);
        return NULL;
    }
    return w;
}

static void w_destroy(void *inst)
{
    struct wtarget *w = inst;
    free(w->ring);
    free(w->shadow);
    free(w);
}

static enum rvm_err w_reset(void *inst, const struct rvm_sim_setup *s, struct rvm_sim *sim)
{
    struct wtarget *w = inst;
    (void)sim;
    const struct rvm_witness_config cfg = {
        .ring = w->ring,
        .ring_capacity = w->ring_capacity,
        .checkpoint_interval = s->params[P_CHECKPOINT],
        .hmac_key = s->hmac_key,
        .hmac_key_len = s->hmac_key_len,
    };
    memset(w->res, 0, sizeof(w->res));
    for (uint32_t i = 0; i < w->ring_capacity; i++) {
        w->shadow[i].seq = UINT64_MAX;
    }
    w->hal = s->hal;
    w->guarantee = 0;
    w->irqs = w->spurious = w->timers = w->cpu_events = 0;
    enum rvm_err err = rvm_witness_init(&w->log, s->hal, &cfg);
    if (err != RVM_OK) {
        return err;
    }
    if (w->sink_irq) {
        err = s->hal->ops->irq_configure(s->hal->ctx, RVM_SIM_IRQ_SINK_READY, 0, true);
        if (err != RVM_OK) {
            return err;
        }
    }
    if (w->flush_period != 0) {
        err = s->hal->ops->timer_arm(s->hal->ctx, 0, rvm_hal_now(s->hal) + w->flush_period);
    }
    return err;
}

static uint64_t res_handle(uint32_t idx, uint32_t gen)
{
    return (uint64_t)gen << 32 | idx;
}

/* The live reservation a handle names; RVM_ERR_STALE / NOT_FOUND otherwise (fail closed). */
static enum rvm_err res_lookup(struct wtarget *w, uint64_t handle, struct reservation **out)
{
    *out = NULL;
    if (handle == RVM_SIM_NO_OBJECT) {
        return RVM_OK;
    }
    uint32_t idx = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    if (idx >= w->nres || gen == 0 || gen > w->res[idx].generation) {
        return RVM_ERR_NOT_FOUND;
    }
    if (gen != w->res[idx].generation || !w->res[idx].live) {
        return RVM_ERR_STALE;
    }
    *out = &w->res[idx];
    return RVM_OK;
}

static void res_kill(struct wtarget *w, uint32_t idx, struct rvm_sim *sim)
{
    w->res[idx].live = false;
    rvm_sim_object_dead(sim, CLS_RESERVATION, res_handle(idx, w->res[idx].generation));
}

/* Periodic checkpoints that fall due while the log grows by n records (as the core counts). */
static uint64_t checkpoints_due(const struct wtarget *w, uint64_t n)
{
    uint64_t k = w->log.checkpoint_interval;
    return k == 0 ? 0 : (w->log.appended + n) / k - w->log.appended / k;
}

struct snapshot {
    uint64_t appended;
    uint32_t chain[RVM_SHA256_STATE_WORDS];
};

static void snap(const struct wtarget *w, struct snapshot *s)
{
    s->appended = w->log.appended;
    memcpy(s->chain, w->log.chain, sizeof(s->chain));
}

static bool unchanged(const struct wtarget *w, const struct snapshot *s)
{
    return s->appended == w->log.appended && memcmp(s->chain, w->log.chain, sizeof(s->chain)) == 0;
}

/* The model's verdict on one append attempt (append or reject). */
static enum rvm_err do_append(struct wtarget *w, const struct rvm_witness_entry *e, bool reject,
                              const struct rvm_witness_rejection *r, struct reservation *res,
                              struct rvm_sim *sim)
{
    struct snapshot before;
    snap(w, &before);
    uint64_t now = rvm_hal_now(w->hal);
    uint64_t expect_ts = now > w->log.last_timestamp ? now : w->log.last_timestamp;
    uint64_t seq = UINT64_MAX;
    enum rvm_err err;
    if (reject) {
        err = rvm_witness_reject(&w->log, r);
        seq = w->log.appended - 1;
    } else {
        err = rvm_witness_append(&w->log, e, &seq);
    }
    if (err == RVM_OK) {
        if (seq != before.appended || w->log.appended != before.appended + 1) {
            rvm_sim_violation(sim, "witness.sequence-assigned",
                              "append got sequence %" PRIu64 ", expected %" PRIu64, seq,
                              before.appended);
            return err;
        }
        struct shadow *sh = &w->shadow[seq & (w->ring_capacity - 1)];
        sh->seq = seq;
        sh->timestamp = expect_ts;
        if (reject) {
            sh->e = (struct rvm_witness_entry){
                .kind = RVM_ACT_PROOF_REJECTED,
                .proof_tier = r->passed_tier,
                .flags = r->stage,
                .actor = r->actor,
                .target = r->target,
                .cap_hash = r->cap_hash,
                .payload = (uint64_t)(uint32_t)r->err | (uint64_t)r->attempted_kind << 32,
            };
        } else {
            sh->e = *e;
        }
        if (w->guarantee != 0) {
            w->guarantee--;
        }
        if (res != NULL && --res->remaining == 0) {
            res_kill(w, (uint32_t)(res - w->res), sim);
        }
        return err;
    }
    if (!unchanged(w, &before)) {
        rvm_sim_violation(sim, "witness.refused-changed",
                          "a refused append (%s) changed the log: %" PRIu64 " -> %" PRIu64
                          " records",
                          rvm_err_name(err), before.appended, w->log.appended);
    } else if (err == RVM_ERR_WITNESS_FULL && w->guarantee != 0) {
        rvm_sim_violation(sim, "witness.reservation",
                          "append refused although %" PRIu64 " appends were reserved",
                          w->guarantee);
    } else if (rvm_sim_sink_healthy(sim)) {
        rvm_sim_violation(sim, "witness.refused-while-healthy",
                          "append refused (%s) while the sink takes every record",
                          rvm_err_name(err));
    }
    return err;
}

/* append: a record built from the arguments, optionally against a reservation */
static enum rvm_err w_op_append(struct wtarget *w, const uint64_t *a, struct rvm_sim *sim)
{
    struct reservation *res = NULL;
    /* decode: every field must fit its record field (hostile arguments fail closed) */
    if (a[0] > 0xff || a[1] > 3 || a[2] > 0xff || a[3] > UINT32_MAX || a[5] > UINT32_MAX) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = res_lookup(w, a[8], &res);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_witness_entry e = {
        .kind = (uint8_t)a[0],
        .proof_tier = (uint8_t)a[1],
        .flags = (uint8_t)a[2],
        .actor = (uint32_t)a[3],
        .target = a[4],
        .cap_hash = (uint32_t)a[5],
        .payload = a[6],
        .aux = a[7],
    };
    return do_append(w, &e, false, NULL, res, sim);
}

/* reject: a rejection record built from the arguments */
static enum rvm_err w_op_reject(struct wtarget *w, const uint64_t *a, struct rvm_sim *sim)
{
    struct reservation *res = NULL;
    if (a[0] > 0xff || a[1] > UINT32_MAX || a[3] > 0xff || a[4] > 3 || a[5] > UINT32_MAX ||
        a[6] > UINT32_MAX) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = res_lookup(w, a[7], &res);
    if (err != RVM_OK) {
        return err;
    }
    const struct rvm_witness_rejection r = {
        .actor = (uint32_t)a[1],
        .target = a[2],
        .attempted_kind = (uint8_t)a[0],
        .stage = (uint8_t)a[3],
        .passed_tier = (uint8_t)a[4],
        .cap_hash = (uint32_t)a[6],
        .err = (enum rvm_err)a[5],
    };
    return do_append(w, NULL, true, &r, res, sim);
}

/* reserve: room for n records, judged against the ring, the checkpoint queue and the sink */
static enum rvm_err w_op_reserve(struct wtarget *w, const uint64_t *a, uint64_t *created,
                                 struct rvm_sim *sim)
{
    enum rvm_err err;
    uint64_t n = a[0];
    if (n == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t slot = w->nres;
    for (uint32_t i = 0; i < w->nres; i++) {
        if (!w->res[i].live) {
            slot = i;
            break;
        }
    }
    if (slot == w->nres || rvm_sim_alloc_fails(sim)) {
        return RVM_ERR_NO_SPACE;
    }
    struct snapshot before;
    snap(w, &before);
    err = rvm_witness_reserve(&w->log, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
    if (!unchanged(w, &before)) {
        rvm_sim_violation(sim, "witness.refused-changed", "reserve changed the records");
        return err;
    }
    if (err != RVM_OK) {
        if (n > w->ring_capacity) {
            if (err != RVM_ERR_OUT_OF_RANGE) {
                rvm_sim_violation(sim, "witness.reserve-range",
                                  "reserve(%" PRIu64 ") beyond a ring of %u gave %s", n,
                                  w->ring_capacity, rvm_err_name(err));
            }
        } else if (checkpoints_due(w, n) > RVM_WITNESS_CHECKPOINT_SLOTS) {
            /* More checkpoints would fall due than the queue holds: no drain could help. */
            if (err != RVM_ERR_OUT_OF_RANGE) {
                rvm_sim_violation(sim, "witness.reserve-range",
                                  "reserve(%" PRIu64 ") needing more than %u checkpoints gave %s",
                                  n, RVM_WITNESS_CHECKPOINT_SLOTS, rvm_err_name(err));
            }
        } else if (n <= w->guarantee) {
            rvm_sim_violation(sim, "witness.reservation",
                              "reserve(%" PRIu64 ") refused within an earlier reservation of "
                              "%" PRIu64,
                              n, w->guarantee);
        } else if (rvm_sim_sink_healthy(sim)) {
            rvm_sim_violation(sim, "witness.refused-while-healthy",
                              "reserve(%" PRIu64 ") refused (%s) while the sink takes every "
                              "record",
                              n, rvm_err_name(err));
        }
        return err;
    }
    if (n > w->ring_capacity) {
        rvm_sim_violation(sim, "witness.reserve-range",
                          "reserve(%" PRIu64 ") beyond a ring of %u succeeded", n,
                          w->ring_capacity);
        return err;
    }
    struct reservation *r = &w->res[slot];
    r->generation++;
    r->remaining = (uint32_t)n;
    r->live = true;
    if (n > w->guarantee) {
        w->guarantee = n;
    }
    *created = res_handle(slot, r->generation);
    return RVM_OK;
}

/* seal: a checkpoint over the log's end, which ends every reservation */
static enum rvm_err w_op_seal(struct wtarget *w, struct rvm_sim *sim)
{
    struct rvm_witness_checkpoint cp;
    uint64_t appended = w->log.appended;
    enum rvm_err err = rvm_witness_seal(&w->log, &cp);
    if (appended == 0) {
        if (err != RVM_ERR_WRONG_STATE) {
            rvm_sim_violation(sim, "witness.seal-empty", "sealing an empty log gave %s",
                              rvm_err_name(err));
        }
        return err;
    }
    /* A seal queues a checkpoint, which may use the slot a reservation counted on: it ends
     * every outstanding reservation (documented in docs/simulator.md). */
    w->guarantee = 0;
    for (uint32_t i = 0; i < w->nres; i++) {
        if (w->res[i].live) {
            res_kill(w, i, sim);
        }
    }
    if (err == RVM_OK) {
        uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
        rvm_witness_chain_value(&w->log, chain);
        if (cp.sequence != appended - 1 || memcmp(cp.chain, chain, sizeof(chain)) != 0) {
            rvm_sim_violation(sim, "witness.seal", "the seal does not cover the log end");
        }
    }
    if (err != RVM_OK && rvm_sim_sink_healthy(sim)) {
        rvm_sim_violation(sim, "witness.refused-while-healthy",
                          "seal failed (%s) while the sink takes everything", rvm_err_name(err));
    }
    return err;
}

static enum rvm_err w_apply(void *inst, const struct rvm_sim_call *c, uint64_t *created,
                            struct rvm_sim *sim)
{
    struct wtarget *w = inst;
    const uint64_t *a = c->args;
    enum rvm_err err;

    switch (c->op) {
    case OP_APPEND:
        return w_op_append(w, a, sim);
    case OP_REJECT:
        return w_op_reject(w, a, sim);
    case OP_RESERVE:
        return w_op_reserve(w, a, created, sim);
    case OP_FLUSH:
        err = rvm_witness_flush(&w->log);
        if (err != RVM_OK && rvm_sim_sink_healthy(sim)) {
            rvm_sim_violation(sim, "witness.refused-while-healthy",
                              "flush left records behind while the sink takes everything");
        }
        return err;
    case OP_SEAL:
        return w_op_seal(w, sim);
    default:
        return RVM_ERR_UNSUPPORTED;
    }
}

static void w_event(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim)
{
    struct wtarget *w = inst;
    (void)sim;
    switch (ev->kind) {
    case RVM_SIM_EV_TIMER:
        w->timers++;
        if (w->flush_period != 0) {
            (void)rvm_witness_flush(&w->log);
            (void)w->hal->ops->timer_arm(w->hal->ctx, ev->cpu, ev->time_ns + w->flush_period);
        }
        break;
    case RVM_SIM_EV_IRQ:
        if (ev->irq == RVM_SIM_IRQ_SINK_READY && w->sink_irq) {
            w->irqs++;
            (void)rvm_witness_flush(&w->log);
        } else {
            w->spurious++;
        }
        w->hal->ops->irq_complete(w->hal->ctx, ev->irq);
        break;
    case RVM_SIM_EV_CPU_OFFLINE:
    case RVM_SIM_EV_CPU_ONLINE:
        w->cpu_events++;
        break;
    default:
        break;
    }
}

static void w_inject(void *inst, uint32_t fault, const uint64_t *args, struct rvm_sim *sim)
{
    struct wtarget *w = inst;
    (void)sim;
    if (fault == F_RING_BITFLIP && w->log.appended > w->log.drained) {
        uint8_t *img = w->ring[w->log.drained & (w->ring_capacity - 1)];
        uint64_t bit = args[0] % (8 * RVM_WITNESS_RECORD_BYTES);
        img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

static bool w_check(const void *inst, struct rvm_sim_verdict *v)
{
    const struct wtarget *w = inst;
    const struct rvm_witness_log *log = &w->log;
    uint64_t pending = log->appended - log->drained;
    if (log->drained > log->appended || pending > w->ring_capacity ||
        log->pending_count > RVM_WITNESS_CHECKPOINT_SLOTS ||
        log->pending_head >= RVM_WITNESS_CHECKPOINT_SLOTS) {
        v->invariant = "witness.ring";
        snprintf(v->detail, sizeof(v->detail),
                 "appended %" PRIu64 ", drained %" PRIu64 ", ring %u, checkpoints pending %u",
                 log->appended, log->drained, w->ring_capacity, log->pending_count);
        return false;
    }
    if (pending + w->guarantee > w->ring_capacity) {
        v->invariant = "witness.reservation";
        snprintf(v->detail, sizeof(v->detail),
                 "%" PRIu64 " appends reserved but only %" PRIu64 " ring slots free", w->guarantee,
                 w->ring_capacity - pending);
        return false;
    }
    return true;
}

/* The state "no witness, no mutation" protects: the records (count, chain) and the log's clock.
 * Sink progress (drained, delivered checkpoints) and statistics are not mutations. */
static void w_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct wtarget *w = inst;
    uint8_t buf[8 * 3 + 4 * RVM_SHA256_STATE_WORDS];
    rvm_store_le64(buf, w->log.appended);
    rvm_store_le64(buf + 8, w->log.last_timestamp);
    rvm_store_le64(buf + 16, w->log.next_checkpoint_at);
    for (uint32_t i = 0; i < RVM_SHA256_STATE_WORDS; i++) {
        rvm_store_le32(buf + 24 + 4 * i, w->log.chain[i]);
    }
    rvm_sha256_update(ctx, buf, sizeof(buf));
}

/* Exploration's state: what decides how later operations go (records waiting for the sink, the
 * log's clock, the distance to the next checkpoint, checkpoints queued, whether a seal is
 * pending, the reservations), not the history (record count and chain). */
static void w_explore_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct wtarget *w = inst;
    const struct rvm_witness_log *log = &w->log;
    uint8_t buf[8 * 6];
    rvm_store_le64(buf, log->appended - log->drained);
    rvm_store_le64(buf + 8, log->last_timestamp);
    rvm_store_le64(buf + 16, log->next_checkpoint_at - log->appended);
    rvm_store_le64(buf + 24, log->pending_count);
    rvm_store_le64(buf + 32, log->appended - log->sealed_at);
    rvm_store_le64(buf + 40, w->guarantee);
    rvm_sha256_update(ctx, buf, sizeof(buf));
    for (uint32_t i = 0; i < w->nres; i++) { /* bound: reservation slots */
        uint8_t r[9];
        rvm_store_le32(r, w->res[i].generation);
        rvm_store_le32(r + 4, w->res[i].remaining);
        r[8] = w->res[i].live;
        rvm_sha256_update(ctx, r, sizeof(r));
    }
}

static struct rvm_witness_log *w_witness(void *inst)
{
    struct wtarget *w = inst;
    return &w->log;
}

static enum rvm_sim_live w_liveness(void *inst, uint32_t round, struct rvm_sim *sim,
                                    struct rvm_sim_verdict *why)
{
    struct wtarget *w = inst;
    (void)round;
    (void)sim;
    /* round 0 judges the state the workload left; later rounds drive the drain */
    if (round != 0) {
        (void)rvm_witness_flush(&w->log);
    }
    uint64_t pending = w->log.appended - w->log.drained;
    if (pending == 0 && w->log.pending_count == 0) {
        return RVM_SIM_LIVE_DONE;
    }
    why->invariant = "witness.drain";
    snprintf(why->detail, sizeof(why->detail),
             "%" PRIu64 " records and %u checkpoints still not in the sink", pending,
             w->log.pending_count);
    return RVM_SIM_LIVE_PENDING;
}

static uint64_t w_query(const void *inst, uint32_t q, uint64_t obj)
{
    (void)obj;
    const struct wtarget *w = inst;
    uint64_t n = 0;
    switch (q) {
    case Q_PENDING:
        return w->log.appended - w->log.drained;
    case Q_REFUSED:
        return w->log.refused;
    case Q_RESERVED:
        return w->guarantee;
    case Q_RESERVATIONS:
        for (uint32_t i = 0; i < w->nres; i++) {
            n += w->res[i].live;
        }
        return n;
    case Q_CHECKPOINTS_PENDING:
        return w->log.pending_count;
    case Q_IRQS:
        return w->irqs;
    case Q_SPURIOUS:
        return w->spurious;
    case Q_TIMERS:
        return w->timers;
    case Q_CPU_EVENTS:
        return w->cpu_events;
    default:
        return 0;
    }
}

static void w_drained(void *inst, uint64_t first_seq, const uint8_t *records, size_t count,
                      struct rvm_sim *sim)
{
    struct wtarget *w = inst;
    for (size_t i = 0; i < count; i++) {
        uint64_t seq = first_seq + i;
        struct shadow *sh = &w->shadow[seq & (w->ring_capacity - 1)];
        struct rvm_witness_record r;
        (void)rvm_witness_decode(records + i * RVM_WITNESS_RECORD_BYTES, &r);
        if (sh->seq != seq) {
            rvm_sim_violation(sim, "witness.record-content",
                              "record %" PRIu64 " reached the sink but no append produced it", seq);
            return;
        }
        const struct rvm_witness_entry *e = &sh->e;
        if (r.kind != e->kind || r.proof_tier != e->proof_tier || r.flags != e->flags ||
            r.actor != e->actor || r.target != e->target || r.cap_hash != e->cap_hash ||
            r.payload != e->payload || r.aux != e->aux || r.timestamp_ns != sh->timestamp) {
            rvm_sim_violation(sim, "witness.record-content",
                              "record %" PRIu64 " differs from what its operation appended "
                              "(kind 0x%02x vs 0x%02x, payload 0x%" PRIx64 " vs 0x%" PRIx64
                              ", time %" PRIu64 " vs %" PRIu64 ")",
                              seq, r.kind, e->kind, r.payload, e->payload, r.timestamp_ns,
                              sh->timestamp);
            return;
        }
        sh->seq = UINT64_MAX;
    }
}

const struct rvm_sim_target rvm_sim_target_witness = {
    .name = "witness",
    .summary = "the core's witness log: append, reject, reserve, flush, seal",
    .classes = classes,
    .nclasses = 1,
    .ops = ops,
    .nops = sizeof(ops) / sizeof(ops[0]),
    .params = params,
    .nparams = sizeof(params) / sizeof(params[0]),
    .queries = queries,
    .nqueries = sizeof(queries) / sizeof(queries[0]),
    .faults = faults,
    .nfaults = sizeof(faults) / sizeof(faults[0]),
    .create = w_create,
    .destroy = w_destroy,
    .reset = w_reset,
    .apply = w_apply,
    .event = w_event,
    .inject = w_inject,
    .check = w_check,
    .hash = w_hash,
    .explore_hash = w_explore_hash,
    .witness = w_witness,
    .liveness = w_liveness,
    .query = w_query,
    .drained = w_drained,
};
