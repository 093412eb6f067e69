/* SPDX-License-Identifier: MIT */
#include "engine.h"

#include "events.h"
#include "exit_codes.h"
#include "fingerprint.h"
#include "hal_sim.h"
#include "prng.h"
#include "run_keys.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVQ_CAPACITY       8192u
#define CHAIN_HISTORY      1024u /* chain values kept to compare checkpoints against */
#define MAX_ARMED          64u
#define MAX_EVENTS_PER_GO  100000u /* events one clock advance may deliver (a scenario limit) */
#define MAX_EVENTS_AT_ONCE 10000u  /* events due at one instant before it is a storm (a bug) */
#define DEAD_RING          16u     /* recently dead handles per class, for stale-handle faults */
#define GEN_ATTEMPTS       16u     /* tries to generate a random op whose objects exist */

struct sim_obj {
    uint64_t handle;
    uint32_t cls;
    uint32_t pos; /* index in its class's live pool */
    int32_t name; /* scenario name bound to it, -1 for none */
    bool live;
};

struct lin_entry {
    uint8_t kind; /* SCN_OP, SCN_FAULT, SCN_EXPECT, SCN_WAIT */
    uint8_t time_kind;
    uint32_t cpu;
    uint32_t index; /* op, fault id, source step (expect) */
    uint64_t time;
    uint32_t after;
    uint8_t argk[RVM_SIM_MAX_ARGS]; /* enum scn_value_kind; SCN_V_NAME: args[] is an object */
    uint64_t args[RVM_SIM_MAX_ARGS];
    int32_t creates; /* object index created, -1 */
};

struct armed {
    uint32_t kind;
    bool has_key;
    uint64_t key;
    uint32_t after;
    uint64_t args[RVM_SIM_MAX_ARGS];
};

struct pool {
    uint32_t *items;
    uint32_t count, cap;
    uint64_t dead[DEAD_RING];
    uint32_t ndead; /* total ever; ring index = ndead % DEAD_RING */
};

struct rvm_sim {
    struct rvm_sim_hal base; /* first: hal_sim's hooks and the engine's share the context */
    struct rvm_hal_ops ops;
    const struct rvm_sim_target *target;
    void *inst;
    uint32_t ncpus;
    enum rvm_err reset_err; /* what the target's reset returned, for the start check */
    uint64_t params[RVM_SIM_MAX_PARAMS];
    struct rvm_crypto crypto; /* SHA-256: the log, checkpoints, final digests */
    struct rvm_crypto fp;     /* fingerprint: per-step state comparison */
    struct rvm_run_keys keys;
    struct rvm_witness_log *log;
    bool unseeded_hook; /* RVMSIM_TEST_UNSEEDED: a deliberate determinism bug, for tests */

    /* the run */
    const struct rvm_scenario *scn;
    struct rvm_sim_options opt;
    struct rvm_sim_outcome *out;
    uint32_t phase;
    bool failed;
    bool faults_on;
    enum rvm_err last_err;
    uint64_t step;
    uint32_t cur_line;
    struct rvm_prng workload, interleave, faults, swarm;

    /* fault registry state */
    uint32_t nkinds;
    struct rvm_sim_fault_conf *conf;
    uint32_t *ambient;
    uint32_t nambient;
    uint32_t *occ;
    uint64_t *fired_count;
    struct armed armed[MAX_ARMED];
    uint32_t narmed;
    struct rvm_sim_fired *fired;
    uint64_t nfired, fired_cap;

    /* platform */
    bool online[RVM_SIM_MAX_CPUS];
    uint64_t offline_until[RVM_SIM_MAX_CPUS];
    uint32_t nonline;
    uint32_t timer_gen[RVM_SIM_MAX_CPUS];
    struct {
        uint32_t cpu;
        bool enabled;
        bool in_service;
    } irq[RVM_SIM_MAX_IRQS];
    uint64_t sink_stall_until, sink_partial_until;
    uint64_t sink_limit;
    struct rvm_evq evq;
    struct rvm_evq_item *evq_storage;
    uint32_t go_events;

    /* the sink's store and its incremental verifier */
    uint8_t *records;
    uint64_t nrecords, rec_cap;
    struct rvm_witness_checkpoint *cps;
    uint64_t ncps, cps_cap;
    struct rvm_witness_verifier ver;
    uint32_t (*history)[RVM_SHA256_STATE_WORDS];

    /* objects */
    struct sim_obj *objs;
    uint32_t nobjs, objs_cap;
    struct pool *pools; /* one per class */
    int32_t *name_obj;
    uint32_t name_cap;

    /* random blocks: swarm switches */
    bool *entry_on;
    uint64_t *block_total;
    uint32_t *block_first;
    uint32_t entry_cap, block_cap;

    /* "no witness, no mutation" */
    uint32_t ref_fp[RVM_SHA256_STATE_WORDS];
    bool ref_valid;
    bool nwnm_now;
    uint64_t nwnm_counter;

    /* state digests at epoch boundaries (replay store) */
    struct rvm_sim_state *states;
    uint64_t nstates, states_cap;
    uint64_t epochs_done; /* boundaries passed: appended / epoch at the last one */
    bool state_at_done;
    uint8_t state_at_digest[32];

    /* linearisation */
    struct lin_entry *lin;
    uint64_t nlin, lin_cap;
    int64_t fail_lin; /* lin entries up to and including the failing step: [0, fail_lin) */
};

/* ------------------------------------------------------------------------------------------------
 * Names and small helpers
 * --------------------------------------------------------------------------------------------- */

const char *rvm_sim_class_name(int cls)
{
    switch (cls) {
    case RVMSIM_EXIT_PASS:
        return "pass";
    case RVMSIM_EXIT_EXPECTATION:
        return "expectation";
    case RVMSIM_EXIT_USAGE:
        return "usage";
    case RVMSIM_EXIT_SAFETY:
        return "safety";
    case RVMSIM_EXIT_LIVENESS:
        return "liveness";
    case RVMSIM_EXIT_NONDETERMINISM:
        return "nondeterminism";
    case RVMSIM_EXIT_INTERNAL:
        return "internal";
    }
    return "unknown";
}

const char *rvm_sim_phase_name(uint32_t phase)
{
    static const char *const names[] = {"setup", "workload", "liveness", "final"};
    return phase < 4 ? names[phase] : "?";
}

static bool grow(void **buf, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    uint64_t c = *cap != 0 ? *cap : 64;
    while (c < need) {
        c *= 2;
    }
    void *p = realloc(*buf, (size_t)(c * elem));
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = c;
    return true;
}

static bool grow32(void **buf, uint32_t *cap, uint64_t need, size_t elem)
{
    uint64_t c = *cap;
    bool ok = grow(buf, &c, need, elem);
    *cap = (uint32_t)c;
    return ok;
}

static inline uint64_t now_ns(const struct rvm_sim *sim)
{
    return sim->base.now_ns;
}

static void failv(struct rvm_sim *sim, int cls, const char *invariant, const char *fmt, va_list ap)
{
    if (sim->failed) {
        return;
    }
    sim->failed = true;
    struct rvm_sim_outcome *o = sim->out;
    o->cls = cls;
    o->phase = sim->phase;
    snprintf(o->invariant, sizeof(o->invariant), "%s", invariant);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    o->fail_step = sim->phase == RVM_SIM_PHASE_WORKLOAD ? sim->step : 0;
    o->fail_line = sim->phase == RVM_SIM_PHASE_WORKLOAD ? sim->cur_line : 0;
    if (sim->opt.trace != NULL) {
        fprintf(sim->opt.trace, "t=%" PRIu64 " FAIL %s [%s] %s\n", now_ns(sim),
                rvm_sim_class_name(cls), o->invariant, o->detail);
    }
}

static void fail(struct rvm_sim *sim, int cls, const char *invariant, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct rvm_sim *sim, int cls, const char *invariant, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(sim, cls, invariant, fmt, ap);
    va_end(ap);
}

void rvm_sim_violation(struct rvm_sim *sim, const char *invariant, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(sim, RVMSIM_EXIT_SAFETY, invariant, fmt, ap);
    va_end(ap);
}

bool rvm_sim_tracing(const struct rvm_sim *sim)
{
    return sim->opt.trace != NULL;
}

void rvm_sim_tracef(struct rvm_sim *sim, const char *fmt, ...)
{
    if (sim->opt.trace == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(sim->opt.trace, "t=%" PRIu64 " ", now_ns(sim));
    vfprintf(sim->opt.trace, fmt, ap);
    fputc('\n', sim->opt.trace);
    va_end(ap);
}

bool rvm_sim_cpu_online(const struct rvm_sim *sim, uint32_t cpu)
{
    return cpu < sim->ncpus && sim->online[cpu];
}

bool rvm_sim_sink_healthy(const struct rvm_sim *sim)
{
    return now_ns(sim) >= sim->sink_stall_until && now_ns(sim) >= sim->sink_partial_until;
}

static const char *err_name(enum rvm_err e)
{
    return rvm_err_name(e);
}

static void format_value(char *buf, size_t n, const struct rvm_sim_arg_spec *a, uint64_t v)
{
    const char *name = NULL;
    if (a->type == RVM_SIM_ARG_ACTION) {
        name = rvm_scn_action_name(v);
    } else if (a->type == RVM_SIM_ARG_ERR && v <= UINT32_MAX && rvm_err_is_known((uint32_t)v)) {
        name = rvm_err_name((enum rvm_err)v);
    }
    if (name != NULL) {
        snprintf(buf, n, "%s", name);
    } else if (a->type == RVM_SIM_ARG_OBJECT) {
        if (v == RVM_SIM_NO_OBJECT) {
            snprintf(buf, n, "none");
        } else {
            snprintf(buf, n, "0x%" PRIx64, v);
        }
    } else {
        snprintf(buf, n, "%" PRIu64, v);
    }
}

static void trace_args(struct rvm_sim *sim, const struct rvm_sim_arg_spec *specs, uint32_t n,
                       const uint64_t *args)
{
    for (uint32_t i = 0; i < n; i++) {
        char v[40];
        format_value(v, sizeof(v), &specs[i], args[i]);
        fprintf(sim->opt.trace, " %s=%s", specs[i].name, v);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Oracles around every step
 * --------------------------------------------------------------------------------------------- */

static void fingerprint(struct rvm_sim *sim, uint32_t out[RVM_SHA256_STATE_WORDS])
{
    struct rvm_sha256_ctx ctx;
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_sha256_init(&ctx, &sim->fp);
    sim->target->hash(sim->inst, &ctx);
    rvm_sha256_final(&ctx, digest);
    memcpy(out, digest, sizeof(digest));
}

static uint64_t pre_step(struct rvm_sim *sim)
{
    uint32_t every = sim->opt.nwnm_every;
    sim->nwnm_now = !sim->target->own_nwnm && (every <= 1 || sim->nwnm_counter++ % every == 0);
    if (sim->nwnm_now && !sim->ref_valid) {
        fingerprint(sim, sim->ref_fp);
        sim->ref_valid = true;
    }
    return sim->log->appended;
}

static void engine_checks(struct rvm_sim *sim)
{
    const struct rvm_witness_log *log = sim->log;
    if (log->drained != sim->nrecords) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.sink-count",
             "the log counts %" PRIu64 " records drained but the sink received %" PRIu64,
             log->drained, sim->nrecords);
        return;
    }
    if (log->drained > log->appended) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.counters", "drained %" PRIu64 " > appended %" PRIu64,
             log->drained, log->appended);
        return;
    }
    if (log->drained == log->appended &&
        memcmp(log->chain, sim->ver.state, sizeof(sim->ver.state)) != 0) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.chain",
             "the log's chain value after %" PRIu64
             " records differs from the chain of the records the sink received",
             log->appended);
    }
}

static void state_digest(struct rvm_sim *sim, uint64_t appended, uint8_t out[32])
{
    static const char tag[] = "rvmsim sim state 1";
    uint8_t count[8];
    struct rvm_sha256_ctx ctx;
    rvm_store_le64(count, appended);
    rvm_sha256_init(&ctx, &sim->crypto);
    rvm_sha256_update(&ctx, (const uint8_t *)tag, sizeof(tag) - 1);
    rvm_sha256_update(&ctx, count, sizeof(count));
    sim->target->hash(sim->inst, &ctx);
    rvm_sha256_final(&ctx, out);
}

static void add_state(struct rvm_sim *sim, uint64_t seq, const uint8_t digest[32])
{
    if (sim->nstates != 0 && sim->states[sim->nstates - 1].seq == seq) {
        memcpy(sim->states[sim->nstates - 1].digest, digest, 32); /* the end of the run */
        return;
    }
    if (!grow((void **)&sim->states, &sim->states_cap, sim->nstates + 1, sizeof(*sim->states))) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory recording a state digest");
        return;
    }
    sim->states[sim->nstates].seq = seq;
    memcpy(sim->states[sim->nstates].digest, digest, 32);
    sim->nstates++;
}

/*
 * Epoch boundaries (docs/simulator.md): at a step end, when the appended record count has
 * reached the next multiple of opt.epoch since the last boundary, the state digest is taken and
 * labelled with the last appended record's sequence. Steps are the unit because a step's records
 * are witnessed together: no state between them is observable from outside.
 */
static void state_point(struct rvm_sim *sim)
{
    uint64_t n = sim->log != NULL ? sim->log->appended : 0;
    if (n == 0) {
        return;
    }
    uint64_t epoch = sim->opt.epoch;
    bool boundary = sim->opt.states && epoch != 0 && n / epoch > sim->epochs_done;
    bool at = sim->opt.has_state_at && !sim->state_at_done && n - 1 >= sim->opt.state_at;
    if (!boundary && !at) {
        return;
    }
    uint8_t digest[32];
    state_digest(sim, n, digest);
    if (boundary) {
        sim->epochs_done = n / epoch;
        add_state(sim, n - 1, digest);
    }
    if (at) {
        sim->state_at_done = true;
        memcpy(sim->state_at_digest, digest, sizeof(digest));
    }
}

static void post_step(struct rvm_sim *sim, uint64_t appended_before, const char *what)
{
    if (sim->failed) {
        return;
    }
    engine_checks(sim);
    if (sim->failed) {
        return;
    }
    struct rvm_sim_verdict v = {.invariant = "target.check", .detail = ""};
    if (!sim->target->check(sim->inst, &v)) {
        fail(sim, RVMSIM_EXIT_SAFETY, v.invariant, "%s", v.detail);
        return;
    }
    if (sim->nwnm_now) {
        uint32_t fp[RVM_SHA256_STATE_WORDS];
        fingerprint(sim, fp);
        if (sim->log->appended == appended_before && memcmp(fp, sim->ref_fp, sizeof(fp)) != 0) {
            fail(sim, RVMSIM_EXIT_SAFETY, "no-witness-no-mutation",
                 "%s changed the protected state without appending a witness record", what);
            return;
        }
        memcpy(sim->ref_fp, fp, sizeof(fp));
        sim->ref_valid = true;
    } else {
        sim->ref_valid = false;
    }
    state_point(sim);
}

/* ------------------------------------------------------------------------------------------------
 * Faults
 * --------------------------------------------------------------------------------------------- */

static const struct rvm_sim_fault_spec *kind_spec(const struct rvm_sim *sim, uint32_t kind)
{
    return rvm_sim_fault_spec(sim->target, kind);
}

static uint64_t draw_range(struct rvm_prng *p, uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == UINT64_MAX) {
        return rvm_prng_next(p);
    }
    return lo + rvm_prng_below(p, hi - lo + 1);
}

static void draw_fault_args(struct rvm_sim *sim, const struct rvm_sim_fault_spec *s, uint64_t *args)
{
    for (uint32_t i = 0; i < s->nargs; i++) {
        if (strcmp(s->args[i].name, "cpu") == 0) {
            args[i] = rvm_prng_below(&sim->faults, sim->ncpus);
        } else {
            args[i] = draw_range(&sim->faults, s->args[i].lo, s->args[i].hi);
        }
    }
}

static bool record_fired(struct rvm_sim *sim, uint32_t kind, const uint64_t *args, uint32_t after,
                         bool scripted)
{
    const struct rvm_sim_fault_spec *s = kind_spec(sim, kind);
    if (!grow((void **)&sim->fired, &sim->fired_cap, sim->nfired + 1, sizeof(*sim->fired))) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory recording a fault");
        return false;
    }
    struct rvm_sim_fired *f = &sim->fired[sim->nfired++];
    memset(f, 0, sizeof(*f));
    f->step = sim->step;
    f->time_ns = now_ns(sim);
    f->kind = kind;
    f->nargs = s->nargs;
    f->after = after;
    f->scripted = scripted;
    f->records = sim->log != NULL ? sim->log->appended : 0;
    memcpy(f->args, args, sizeof(uint64_t) * s->nargs);
    sim->fired_count[kind]++;
    sim->out->faults_fired++;
    if (sim->opt.trace != NULL) {
        fprintf(sim->opt.trace, "t=%" PRIu64 " fault %s", now_ns(sim), s->name);
        trace_args(sim, s->args, s->nargs, args);
        fprintf(sim->opt.trace, "%s\n", scripted ? " (scripted)" : "");
    }
    return true;
}

static bool push_event(struct rvm_sim *sim, uint64_t time, uint32_t kind, uint32_t a, uint32_t b,
                       uint64_t arg)
{
    if (!rvm_evq_push(&sim->evq, time, kind, a, b, arg)) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.event-queue", "more than %u pending events",
             EVQ_CAPACITY);
        return false;
    }
    return true;
}

/*
 * A site of fault kind `kind`: true when it fires here. Armed entries (from `fault` lines) are
 * consumed first; every armed entry of this kind counts this visit against its `after`.
 */
static bool site(struct rvm_sim *sim, uint32_t kind, uint64_t key, uint64_t *args_out)
{
    if (sim->narmed == 0 && !(sim->faults_on && sim->conf[kind].enabled)) {
        return false;
    }
    uint32_t visit = sim->occ[kind]++;
    int32_t fire = -1;
    for (uint32_t i = 0; i < sim->narmed; i++) {
        struct armed *a = &sim->armed[i];
        if (a->kind != kind) {
            continue;
        }
        if (a->after != 0) {
            a->after--;
            continue;
        }
        if (fire < 0 && (!a->has_key || a->key == key)) {
            fire = (int32_t)i;
        }
    }
    const struct rvm_sim_fault_spec *s = kind_spec(sim, kind);
    uint64_t args[RVM_SIM_MAX_ARGS] = {0};
    bool scripted = fire >= 0;
    if (scripted) {
        memcpy(args, sim->armed[fire].args, sizeof(args));
        memmove(&sim->armed[fire], &sim->armed[fire + 1],
                (sim->narmed - (uint32_t)fire - 1) * sizeof(sim->armed[0]));
        sim->narmed--;
    } else {
        const struct rvm_sim_fault_conf *c = &sim->conf[kind];
        if (!sim->faults_on || !c->enabled || !rvm_prng_chance(&sim->faults, c->num, c->den)) {
            return false;
        }
        draw_fault_args(sim, s, args);
    }
    if (s->nargs != 0) {
        args[0] = key;
    }
    if (!record_fired(sim, kind, args, visit, scripted)) {
        return false;
    }
    if (args_out != NULL) {
        memcpy(args_out, args, sizeof(uint64_t) * s->nargs);
    }
    return true;
}

bool rvm_sim_alloc_fails(struct rvm_sim *sim)
{
    return site(sim, RVM_SIM_F_ALLOC_FAIL, 0, NULL);
}

bool rvm_sim_target_site(struct rvm_sim *sim, uint32_t fault, uint64_t key, uint64_t *args)
{
    if (fault >= sim->target->nfaults) {
        return false;
    }
    return site(sim, RVM_SIM_F_COUNT + fault, key, args);
}

static void raise_irq(struct rvm_sim *sim, uint32_t irq, uint64_t when)
{
    if (irq < RVM_SIM_MAX_IRQS && sim->irq[irq].enabled) {
        (void)push_event(sim, when, RVM_EVQ_IRQ, sim->irq[irq].cpu, irq, 0);
    }
}

/* Apply a non-site fault now. false when it cannot happen in this state (nothing recorded). */
static bool apply_fault(struct rvm_sim *sim, uint32_t kind, const uint64_t *args)
{
    uint64_t now = now_ns(sim);
    if (kind >= RVM_SIM_F_COUNT) {
        sim->target->inject(sim->inst, kind - RVM_SIM_F_COUNT, args, sim);
        /* An injected fault is damage from outside, not a mutation by the system: the state as
         * it now is becomes the reference; the oracles judge how the system copes with it. */
        sim->ref_valid = false;
        return true;
    }
    switch (kind) {
    case RVM_SIM_F_SINK_STALL:
        if (now + args[0] > sim->sink_stall_until) {
            sim->sink_stall_until = now + args[0];
        }
        return push_event(sim, now + args[0], RVM_EVQ_SINK_READY, 0, 0, 0);
    case RVM_SIM_F_SINK_PARTIAL:
        sim->sink_limit = args[0] != 0 ? args[0] : 1;
        if (now + args[1] > sim->sink_partial_until) {
            sim->sink_partial_until = now + args[1];
        }
        return push_event(sim, now + args[1], RVM_EVQ_SINK_READY, 0, 0, 0);
    case RVM_SIM_F_IRQ_SPURIOUS:
        return push_event(sim, now, RVM_EVQ_IRQ, (uint32_t)(args[1] % sim->ncpus),
                          (uint32_t)(args[0] % RVM_SIM_MAX_IRQS), 0);
    case RVM_SIM_F_CPU_OFFLINE: {
        uint32_t cpu = (uint32_t)(args[0] % sim->ncpus);
        if (!sim->online[cpu] || sim->nonline <= 1) {
            return false; /* never the last CPU: something must run */
        }
        sim->online[cpu] = false;
        sim->nonline--;
        sim->offline_until[cpu] = now + args[1];
        return push_event(sim, now, RVM_EVQ_CPU_OFFLINE, cpu, 0, 0) &&
               push_event(sim, now + args[1], RVM_EVQ_CPU_ONLINE, cpu, 0, 0);
    }
    default:
        return false; /* site kinds are armed, never applied directly */
    }
}

static void roll_ambient(struct rvm_sim *sim)
{
    for (uint32_t i = 0; i < sim->nambient && !sim->failed; i++) {
        uint32_t kind = sim->ambient[i];
        const struct rvm_sim_fault_conf *c = &sim->conf[kind];
        if (!rvm_prng_chance(&sim->faults, c->num, c->den)) {
            continue;
        }
        uint64_t args[RVM_SIM_MAX_ARGS] = {0};
        draw_fault_args(sim, kind_spec(sim, kind), args);
        if (apply_fault(sim, kind, args)) {
            (void)record_fired(sim, kind, args, 0, false);
        }
    }
}

/* ------------------------------------------------------------------------------------------------
 * Events and the clock
 * --------------------------------------------------------------------------------------------- */

static void deliver(struct rvm_sim *sim, enum rvm_sim_event_kind kind, uint32_t cpu, uint32_t irq,
                    uint64_t arg, const char *what)
{
    struct rvm_sim_event ev = {now_ns(sim), kind, cpu, irq, arg};
    sim->out->events++;
    if (sim->opt.trace != NULL) {
        fprintf(sim->opt.trace, "t=%" PRIu64 " event %s cpu%u", now_ns(sim), what, cpu);
        if (kind == RVM_SIM_EV_IRQ || kind == RVM_SIM_EV_TARGET) {
            fprintf(sim->opt.trace, " %s=%u", kind == RVM_SIM_EV_IRQ ? "irq" : "tag", irq);
        }
        fputc('\n', sim->opt.trace);
    }
    if (kind == RVM_SIM_EV_IRQ && irq < RVM_SIM_MAX_IRQS) {
        sim->irq[irq].in_service = true;
    }
    uint64_t before = pre_step(sim);
    sim->target->event(sim->inst, &ev, sim);
    post_step(sim, before, what);
}

static bool defer_if_offline(struct rvm_sim *sim, const struct rvm_evq_item *it, uint32_t cpu)
{
    if (cpu < sim->ncpus && sim->online[cpu]) {
        return false;
    }
    uint64_t when = cpu < sim->ncpus ? sim->offline_until[cpu] : now_ns(sim);
    if (when < now_ns(sim)) {
        when = now_ns(sim);
    }
    (void)push_event(sim, when, it->kind, it->a, it->b, it->arg);
    return true;
}

static void process_event(struct rvm_sim *sim, const struct rvm_evq_item *it)
{
    uint64_t fa[RVM_SIM_MAX_ARGS];
    switch (it->kind) {
    case RVM_EVQ_TIMER:
        if (it->a >= sim->ncpus || it->b != sim->timer_gen[it->a]) {
            return; /* re-armed since: this expiry no longer exists */
        }
        if (!defer_if_offline(sim, it, it->a)) {
            deliver(sim, RVM_SIM_EV_TIMER, it->a, 0, 0, "timer");
        }
        return;
    case RVM_EVQ_IRQ:
        if (defer_if_offline(sim, it, it->a)) {
            return;
        }
        if (site(sim, RVM_SIM_F_IRQ_LOST, it->b, NULL)) {
            return;
        }
        if (site(sim, RVM_SIM_F_IRQ_DELAY, it->b, fa)) {
            (void)push_event(sim, now_ns(sim) + fa[1], RVM_EVQ_IRQ, it->a, it->b, 0);
            return;
        }
        bool dup = site(sim, RVM_SIM_F_IRQ_DUP, it->b, NULL);
        deliver(sim, RVM_SIM_EV_IRQ, it->a, it->b, 0, "irq");
        if (dup && !sim->failed) {
            deliver(sim, RVM_SIM_EV_IRQ, it->a, it->b, 0, "irq");
        }
        return;
    case RVM_EVQ_CPU_OFFLINE:
        deliver(sim, RVM_SIM_EV_CPU_OFFLINE, it->a, 0, 0, "cpu-offline");
        return;
    case RVM_EVQ_CPU_ONLINE:
        if (it->a >= sim->ncpus || sim->online[it->a]) {
            return;
        }
        sim->online[it->a] = true;
        sim->nonline++;
        deliver(sim, RVM_SIM_EV_CPU_ONLINE, it->a, 0, 0, "cpu-online");
        return;
    case RVM_EVQ_SINK_READY:
        if (rvm_sim_sink_healthy(sim)) {
            raise_irq(sim, RVM_SIM_IRQ_SINK_READY, now_ns(sim));
        }
        return;
    case RVM_EVQ_TARGET:
        if (!defer_if_offline(sim, it, it->a)) {
            deliver(sim, RVM_SIM_EV_TARGET, it->a, it->b, it->arg, "target");
        }
        return;
    default:
        return;
    }
}

/* Move the clock to `t` (never backwards), delivering every event due by then in order. */
static void advance_to(struct rvm_sim *sim, uint64_t t)
{
    if (t < now_ns(sim)) {
        t = now_ns(sim);
    }
    const uint64_t from = now_ns(sim);
    uint32_t delivered = 0, at_once = 0;
    uint64_t instant = from;
    for (;;) { /* bound: MAX_EVENTS_PER_GO */
        const struct rvm_evq_item *top = rvm_evq_peek(&sim->evq);
        if (top == NULL || top->time > t || sim->failed) {
            break;
        }
        /* Events that keep time still are a defect (an event re-scheduling itself at once);
         * events that move time on are the system working, and too many of them in one
         * advance is a clock jump the scenario should make in smaller steps. */
        if (top->time > instant) {
            instant = top->time;
            at_once = 0;
        }
        if (++at_once > MAX_EVENTS_AT_ONCE) {
            fail(sim, RVMSIM_EXIT_INTERNAL, "engine.event-storm",
                 "more than %u events due at %" PRIu64
                 " ns (an event re-schedules itself at once?)",
                 MAX_EVENTS_AT_ONCE, instant);
            return;
        }
        if (++delivered > MAX_EVENTS_PER_GO) {
            fail(sim, RVMSIM_EXIT_USAGE, "scenario.clock-jump",
                 "advancing the clock from %" PRIu64 " ns to %" PRIu64 " ns delivers more than %u "
                 "events (%" PRIu64 " ns in): advance it in smaller steps, or lengthen the "
                 "target's timer periods",
                 from, t, MAX_EVENTS_PER_GO, instant - from);
            return;
        }
        struct rvm_evq_item it;
        rvm_evq_pop(&sim->evq, &it);
        if (it.time > now_ns(sim)) {
            sim->base.now_ns = it.time;
        }
        process_event(sim, &it);
    }
    sim->base.now_ns = t;
}

void rvm_sim_raise_irq(struct rvm_sim *sim, uint32_t irq, uint64_t delay_ns)
{
    raise_irq(sim, irq, now_ns(sim) + delay_ns);
}

void rvm_sim_schedule(struct rvm_sim *sim, uint64_t delay_ns, uint32_t cpu, uint32_t tag,
                      uint64_t arg)
{
    (void)push_event(sim, now_ns(sim) + delay_ns, RVM_EVQ_TARGET, cpu, tag, arg);
}

/* ------------------------------------------------------------------------------------------------
 * HAL hooks the engine provides on top of hal_sim
 * --------------------------------------------------------------------------------------------- */

static enum rvm_err eng_timer_arm(void *ctx, uint32_t cpu, uint64_t deadline_ns)
{
    struct rvm_sim *sim = ctx;
    uint64_t fa[RVM_SIM_MAX_ARGS];
    if (cpu >= sim->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (site(sim, RVM_SIM_F_TIMER_SKEW, cpu, fa)) {
        if (fa[2] != 0) {
            deadline_ns = deadline_ns > fa[1] ? deadline_ns - fa[1] : 0;
        } else {
            deadline_ns = deadline_ns + fa[1] < deadline_ns ? UINT64_MAX : deadline_ns + fa[1];
        }
    }
    if (deadline_ns < now_ns(sim)) {
        deadline_ns = now_ns(sim);
    }
    sim->timer_gen[cpu]++;
    return push_event(sim, deadline_ns, RVM_EVQ_TIMER, cpu, sim->timer_gen[cpu], 0)
               ? RVM_OK
               : RVM_ERR_NO_SPACE;
}

static enum rvm_err eng_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    struct rvm_sim *sim = ctx;
    if (irq >= RVM_SIM_MAX_IRQS || cpu >= sim->ncpus) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    sim->irq[irq].cpu = cpu;
    sim->irq[irq].enabled = enabled;
    return RVM_OK;
}

static void eng_irq_complete(void *ctx, uint32_t irq)
{
    struct rvm_sim *sim = ctx;
    if (irq < RVM_SIM_MAX_IRQS) {
        sim->irq[irq].in_service = false;
    }
}

static size_t eng_drain(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_sim *sim = ctx;
    uint64_t now = now_ns(sim);
    if (now < sim->sink_stall_until) {
        return 0;
    }
    if (now < sim->sink_partial_until && count > sim->sink_limit) {
        count = (size_t)sim->sink_limit;
    }
    if (count == 0) {
        return 0;
    }
    if (first_seq != sim->nrecords) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.sequence",
             "the sink was offered record %" PRIu64 " but holds %" PRIu64
             " (a record lost or duplicated)",
             first_seq, sim->nrecords);
        return 0;
    }
    if (!grow((void **)&sim->records, &sim->rec_cap, sim->nrecords + count,
              RVM_WITNESS_RECORD_BYTES)) {
        return 0; /* host out of memory looks like a stalled sink */
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *img = records + i * RVM_WITNESS_RECORD_BYTES;
        enum rvm_err err = rvm_witness_verify_record(&sim->ver, img);
        if (err != RVM_OK) {
            fail(sim, RVMSIM_EXIT_SAFETY, "witness.chain",
                 "record %" PRIu64 " as received by the sink fails verification: %s", first_seq + i,
                 rvm_err_name(err));
        }
        memcpy(sim->history[(first_seq + i) % CHAIN_HISTORY], sim->ver.state,
               sizeof(sim->ver.state));
    }
    memcpy(sim->records + sim->nrecords * RVM_WITNESS_RECORD_BYTES, records,
           count * RVM_WITNESS_RECORD_BYTES);
    sim->nrecords += count;
    if (sim->target->drained != NULL) {
        sim->target->drained(sim->inst, first_seq, records, count, sim);
    }
    return count;
}

static bool eng_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_sim *sim = ctx;
    if (now_ns(sim) < sim->sink_stall_until) {
        return false;
    }
    if (cp->sequence >= sim->nrecords) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.checkpoint-order",
             "checkpoint at record %" PRIu64 " arrived before that record (sink holds %" PRIu64 ")",
             cp->sequence, sim->nrecords);
        return false;
    }
    if (sim->nrecords - cp->sequence <= CHAIN_HISTORY) {
        uint32_t state[RVM_SHA256_STATE_WORDS];
        uint8_t bytes[RVM_WITNESS_CHAIN_BYTES];
        memcpy(state, sim->history[cp->sequence % CHAIN_HISTORY], sizeof(state));
        rvm_sha256_state_bytes(state, bytes);
        if (memcmp(bytes, cp->chain, sizeof(bytes)) != 0) {
            fail(sim, RVMSIM_EXIT_SAFETY, "witness.checkpoint",
                 "checkpoint at record %" PRIu64 " does not match the chain of the records",
                 cp->sequence);
        }
    }
    if (!grow((void **)&sim->cps, &sim->cps_cap, sim->ncps + 1, sizeof(*sim->cps))) {
        return false;
    }
    sim->cps[sim->ncps++] = *cp;
    return true;
}

/* ------------------------------------------------------------------------------------------------
 * Objects
 * --------------------------------------------------------------------------------------------- */

static int32_t add_object(struct rvm_sim *sim, uint32_t cls, uint64_t handle, int32_t name)
{
    if (cls >= sim->target->nclasses) {
        return -1;
    }
    struct pool *p = &sim->pools[cls];
    if (!grow32((void **)&sim->objs, &sim->objs_cap, sim->nobjs + 1, sizeof(*sim->objs)) ||
        !grow32((void **)&p->items, &p->cap, p->count + 1, sizeof(*p->items))) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory tracking objects");
        return -1;
    }
    uint32_t idx = sim->nobjs++;
    sim->objs[idx] = (struct sim_obj){handle, cls, p->count, name, true};
    p->items[p->count++] = idx;
    if (name >= 0) {
        sim->name_obj[name] = (int32_t)idx;
    }
    return (int32_t)idx;
}

void rvm_sim_object_new(struct rvm_sim *sim, uint32_t cls, uint64_t handle)
{
    (void)add_object(sim, cls, handle, -1);
}

void rvm_sim_object_dead(struct rvm_sim *sim, uint32_t cls, uint64_t handle)
{
    if (cls >= sim->target->nclasses) {
        return;
    }
    struct pool *p = &sim->pools[cls];
    for (uint32_t i = 0; i < p->count; i++) {
        struct sim_obj *o = &sim->objs[p->items[i]];
        if (o->handle != handle) {
            continue;
        }
        o->live = false;
        uint32_t last = p->items[--p->count];
        p->items[i] = last;
        sim->objs[last].pos = i;
        p->dead[p->ndead++ % DEAD_RING] = handle;
        return;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Linearisation log
 * --------------------------------------------------------------------------------------------- */

static struct lin_entry *lin_add(struct rvm_sim *sim)
{
    if (!sim->opt.linearize) {
        return NULL;
    }
    if (!grow((void **)&sim->lin, &sim->lin_cap, sim->nlin + 1, sizeof(*sim->lin))) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory recording the run");
        return NULL;
    }
    struct lin_entry *e = &sim->lin[sim->nlin++];
    memset(e, 0, sizeof(*e));
    e->creates = -1;
    return e;
}

/* Fired faults [from, to) as `fault` lines (hostile arguments live in the op lines instead). */
static void lin_faults(struct rvm_sim *sim, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to && sim->opt.linearize; i++) {
        const struct rvm_sim_fired *f = &sim->fired[i];
        if (f->kind == RVM_SIM_F_HOSTILE_ARGS) {
            continue;
        }
        struct lin_entry *e = lin_add(sim);
        if (e == NULL) {
            return;
        }
        const struct rvm_sim_fault_spec *s = kind_spec(sim, f->kind);
        e->kind = SCN_FAULT;
        e->index = f->kind;
        e->after = (s->flags & RVM_SIM_FAULT_SITE) ? f->after : 0;
        for (uint32_t a = 0; a < f->nargs && a < RVM_SIM_MAX_ARGS; a++) {
            e->argk[a] = SCN_V_LIT;
            e->args[a] = f->args[a];
        }
    }
}

static void lin_wait(struct rvm_sim *sim)
{
    struct lin_entry *e = lin_add(sim);
    if (e != NULL) {
        e->kind = SCN_WAIT;
        e->time_kind = SCN_TIME_ABS;
        e->time = now_ns(sim);
    }
}

static void lin_mark_fail(struct rvm_sim *sim)
{
    if (sim->failed && sim->fail_lin < 0) {
        sim->fail_lin = (int64_t)sim->nlin;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Steps
 * --------------------------------------------------------------------------------------------- */

static void step_begin(struct rvm_sim *sim, uint32_t line)
{
    sim->cur_line = line;
    memset(sim->occ, 0, sizeof(*sim->occ) * sim->nkinds);
}

static uint64_t step_time(const struct rvm_sim *sim, const struct scn_step *st)
{
    switch (st->time_kind) {
    case SCN_TIME_ABS:
        return st->time;
    case SCN_TIME_REL:
        return now_ns(sim) + st->time;
    default:
        return now_ns(sim) + sim->scn->tick;
    }
}

/* Apply a resolved call; records the op in the linearisation (with its faults before it). */
static void run_op(struct rvm_sim *sim, struct rvm_sim_call *call, int32_t bind,
                   const uint8_t *argk, const uint64_t *lin_args, uint64_t mark)
{
    const struct rvm_sim_op_spec *spec = &sim->target->ops[call->op];
    int32_t created_obj = -1;
    uint64_t created = RVM_SIM_NO_OBJECT;
    enum rvm_err err = RVM_ERR_CPU_OFFLINE;

    if (!sim->failed && call->cpu < sim->ncpus && sim->online[call->cpu]) {
        uint64_t before = pre_step(sim);
        err = sim->target->apply(sim->inst, call, &created, sim);
        sim->last_err = err;
        if (err == RVM_OK && spec->creates >= 0) {
            created_obj = add_object(sim, (uint32_t)spec->creates, created, bind);
        }
        if (sim->opt.trace != NULL) {
            fprintf(sim->opt.trace, "t=%" PRIu64 " step=%" PRIu64 " cpu%u %s", now_ns(sim),
                    sim->step, call->cpu, spec->name);
            trace_args(sim, spec->args, spec->nargs, call->args);
            fprintf(sim->opt.trace, " -> %s", err_name(err));
            if (created_obj >= 0) {
                fprintf(sim->opt.trace, " (new %s 0x%" PRIx64 ")",
                        sim->target->classes[spec->creates], created);
            }
            fputc('\n', sim->opt.trace);
        }
        post_step(sim, before, spec->name);
    } else if (!sim->failed) {
        sim->last_err = err;
        rvm_sim_tracef(sim, "step=%" PRIu64 " cpu%u %s -> CPU_OFFLINE (not run)", sim->step,
                       call->cpu, spec->name);
    }

    if (sim->opt.linearize) {
        lin_faults(sim, mark, sim->nfired);
        struct lin_entry *e = lin_add(sim);
        if (e != NULL) {
            e->kind = SCN_OP;
            e->time_kind = SCN_TIME_ABS;
            e->time = now_ns(sim);
            e->cpu = call->cpu;
            e->index = call->op;
            memcpy(e->argk, argk, sizeof(e->argk));
            memcpy(e->args, lin_args, sizeof(e->args));
            e->creates = created_obj;
        }
        lin_mark_fail(sim);
    }
}

static void resolve_scripted(struct rvm_sim *sim, const struct scn_step *st,
                             const struct rvm_sim_op_spec *spec, struct rvm_sim_call *call,
                             uint8_t *argk, uint64_t *lin_args)
{
    for (uint32_t a = 0; a < spec->nargs; a++) {
        const struct scn_value *v = &st->args[a];
        const struct rvm_sim_arg_spec *as = &spec->args[a];
        argk[a] = v->kind;
        lin_args[a] = v->lo;
        switch (v->kind) {
        case SCN_V_LIT:
            call->args[a] = v->lo;
            break;
        case SCN_V_NONE:
            call->args[a] = RVM_SIM_NO_OBJECT;
            break;
        case SCN_V_NAME: {
            int32_t o = sim->name_obj[v->name];
            if (o >= 0) {
                call->args[a] = sim->objs[o].handle;
                lin_args[a] = (uint64_t)o;
            } else {
                call->args[a] = RVM_SIM_UNBOUND_OBJECT;
                argk[a] = SCN_V_LIT;
                lin_args[a] = RVM_SIM_UNBOUND_OBJECT;
            }
            break;
        }
        default:
            call->args[a] = as->type == RVM_SIM_ARG_OBJECT ? RVM_SIM_NO_OBJECT : as->def;
            argk[a] = SCN_V_DEFAULT;
            break;
        }
    }
}

static void step_op(struct rvm_sim *sim, const struct scn_step *st)
{
    sim->step++;
    sim->out->steps = sim->step;
    step_begin(sim, st->line);
    uint64_t mark = sim->nfired;
    if (sim->faults_on) {
        roll_ambient(sim);
    }
    advance_to(sim, step_time(sim, st));

    const struct rvm_sim_op_spec *spec = &sim->target->ops[st->index];
    struct rvm_sim_call call = {.op = st->index, .cpu = st->cpu >= 0 ? (uint32_t)st->cpu : 0};
    uint8_t argk[RVM_SIM_MAX_ARGS] = {0};
    uint64_t lin_args[RVM_SIM_MAX_ARGS] = {0};
    resolve_scripted(sim, st, spec, &call, argk, lin_args);
    int32_t bind = st->bind;
    if (bind >= 0) {
        sim->name_obj[bind] = -1;
    }
    run_op(sim, &call, bind, argk, lin_args, mark);
}

/* A hostile value for an argument: garbage, a stale or wrong-class handle, a boundary value. */
static uint64_t hostile_value(struct rvm_sim *sim, const struct rvm_sim_arg_spec *a)
{
    struct rvm_prng *p = &sim->faults;
    if (a->type == RVM_SIM_ARG_BOOL) {
        return rvm_prng_below(p, 2); /* a flag has no other value (nor a spelling for one) */
    }
    if (a->type == RVM_SIM_ARG_OBJECT) {
        const struct pool *own = &sim->pools[a->cls];
        switch (rvm_prng_below(p, 5)) {
        case 0:
            if (own->ndead != 0) {
                uint32_t n = own->ndead < DEAD_RING ? own->ndead : DEAD_RING;
                return own->dead[rvm_prng_below(p, n)];
            }
            return RVM_SIM_UNBOUND_OBJECT;
        case 1:
            for (uint32_t c = 0; c < sim->target->nclasses; c++) {
                const struct pool *other = &sim->pools[c];
                if (c != a->cls && other->count != 0) {
                    return sim->objs[other->items[rvm_prng_below(p, other->count)]].handle;
                }
            }
            return 0;
        case 2:
            return RVM_SIM_UNBOUND_OBJECT;
        case 3:
            return 0;
        default:
            return rvm_prng_next(p);
        }
    }
    switch (rvm_prng_below(p, 6)) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX;
    case 2:
        return (uint64_t)1 << 63;
    case 3:
        return a->hi < UINT64_MAX ? a->hi + 1 : 0;
    case 4:
        return (uint64_t)UINT32_MAX + 1;
    default:
        return rvm_prng_next(p);
    }
}

static bool gen_random(struct rvm_sim *sim, uint32_t block, struct rvm_sim_call *call,
                       uint8_t *argk, uint64_t *lin_args)
{
    const struct scn_random *r = &sim->scn->randoms[block];
    const bool *on = &sim->entry_on[sim->block_first[block]];
    struct rvm_prng *w = &sim->workload;

    for (uint32_t attempt = 0; attempt < GEN_ATTEMPTS; attempt++) {
        uint64_t pick = rvm_prng_below(w, sim->block_total[block]);
        const struct scn_random_entry *e = NULL;
        for (uint32_t i = 0; i < r->nentries; i++) {
            uint64_t wgt = on[i] ? r->entries[i].weight : 0;
            if (pick < wgt) {
                e = &r->entries[i];
                break;
            }
            pick -= wgt;
        }
        if (e == NULL) {
            return false;
        }
        const struct rvm_sim_op_spec *spec = &sim->target->ops[e->op];
        bool ok = true;
        call->op = e->op;
        for (uint32_t a = 0; a < spec->nargs && ok; a++) {
            const struct scn_value *v = &e->args[a];
            const struct rvm_sim_arg_spec *as = &spec->args[a];
            argk[a] = SCN_V_LIT;
            switch (v->kind) {
            case SCN_V_LIT:
                call->args[a] = v->lo;
                break;
            case SCN_V_RANGE:
                call->args[a] = draw_range(w, v->lo, v->hi);
                break;
            case SCN_V_NONE:
                call->args[a] = RVM_SIM_NO_OBJECT;
                argk[a] = SCN_V_NONE;
                break;
            case SCN_V_NAME: {
                int32_t o = sim->name_obj[v->name];
                call->args[a] = o >= 0 ? sim->objs[o].handle : RVM_SIM_UNBOUND_OBJECT;
                if (o >= 0) {
                    argk[a] = SCN_V_NAME;
                    lin_args[a] = (uint64_t)o;
                    continue;
                }
                break;
            }
            default:
                if (as->type == RVM_SIM_ARG_OBJECT) {
                    const struct pool *p = &sim->pools[as->cls];
                    if (p->count == 0 || (as->optional && rvm_prng_below(w, 4) == 0)) {
                        if (!as->optional) {
                            ok = false;
                            break;
                        }
                        call->args[a] = RVM_SIM_NO_OBJECT;
                        argk[a] = SCN_V_NONE;
                        break;
                    }
                    uint32_t o = p->items[rvm_prng_below(w, p->count)];
                    call->args[a] = sim->objs[o].handle;
                    argk[a] = SCN_V_NAME;
                    lin_args[a] = o;
                    continue;
                }
                call->args[a] = draw_range(w, as->lo, as->hi);
                break;
            }
            lin_args[a] = call->args[a];
        }
        if (!ok) {
            continue;
        }
        if (spec->nargs != 0 && site(sim, RVM_SIM_F_HOSTILE_ARGS, e->op, NULL)) {
            struct rvm_sim_fired *f = &sim->fired[sim->nfired - 1];
            uint32_t a = (uint32_t)rvm_prng_below(&sim->faults, spec->nargs);
            uint64_t v = hostile_value(sim, &spec->args[a]);
            call->args[a] = v;
            argk[a] = SCN_V_LIT;
            lin_args[a] = v;
            f->args[0] = a;
            f->args[1] = v;
        }
        return true;
    }
    return false;
}

static void step_random_one(struct rvm_sim *sim, uint32_t block, uint32_t line)
{
    sim->step++;
    sim->out->steps = sim->step;
    step_begin(sim, line);
    uint64_t mark = sim->nfired;
    if (sim->faults_on) {
        roll_ambient(sim);
    }
    uint64_t delta = 1 + rvm_prng_below(&sim->interleave, 2 * sim->scn->tick);
    advance_to(sim, now_ns(sim) + delta);
    if (sim->failed) {
        if (sim->opt.linearize) {
            lin_faults(sim, mark, sim->nfired);
            lin_wait(sim);
            lin_mark_fail(sim);
        }
        return;
    }

    /* the interleaving: which online CPU runs this step */
    uint64_t k = rvm_prng_below(&sim->interleave, sim->nonline);
    uint32_t cpu = 0;
    for (uint32_t c = 0; c < sim->ncpus; c++) {
        if (sim->online[c] && k-- == 0) {
            cpu = c;
            break;
        }
    }
    struct rvm_sim_call call = {.cpu = cpu};
    uint8_t argk[RVM_SIM_MAX_ARGS] = {0};
    uint64_t lin_args[RVM_SIM_MAX_ARGS] = {0};
    if (!gen_random(sim, block, &call, argk, lin_args)) {
        rvm_sim_tracef(sim, "step=%" PRIu64 " (no operation possible: no objects yet)", sim->step);
        if (sim->opt.linearize) {
            lin_faults(sim, mark, sim->nfired);
            lin_wait(sim);
        }
        return;
    }
    run_op(sim, &call, -1, argk, lin_args, mark);
}

static uint64_t query_value(struct rvm_sim *sim, const struct scn_step *st)
{
    switch (st->qsrc) {
    case SCN_Q_TARGET:
        return sim->target->query(sim->inst, st->qindex);
    case SCN_Q_FIRED:
        return st->qindex < sim->nkinds ? sim->fired_count[st->qindex] : 0;
    default:
        break;
    }
    switch (st->qindex) {
    case SCN_EQ_STEP:
        return sim->step;
    case SCN_EQ_TIME:
        return now_ns(sim);
    case SCN_EQ_RECORDS:
        return sim->log->appended;
    case SCN_EQ_SINK_RECORDS:
        return sim->nrecords;
    case SCN_EQ_SINK_CHECKPOINTS:
        return sim->ncps;
    case SCN_EQ_CPUS_ONLINE:
        return sim->nonline;
    case SCN_EQ_FAULTS_FIRED:
        return sim->out->faults_fired;
    case SCN_EQ_EVENTS:
        return sim->out->events;
    default:
        return 0;
    }
}

static const char *query_name(const struct rvm_sim *sim, const struct scn_step *st, char *buf,
                              size_t n)
{
    if (st->qsrc == SCN_Q_TARGET) {
        return sim->target->queries[st->qindex];
    }
    if (st->qsrc == SCN_Q_FIRED) {
        snprintf(buf, n, "fired.%s", kind_spec(sim, st->qindex)->name);
        return buf;
    }
    return rvm_scn_engine_queries[st->qindex];
}

static void check_expect(struct rvm_sim *sim, const struct scn_step *st)
{
    static const char *const cmps[] = {"==", "!=", "<", "<=", ">", ">="};
    switch (st->expect) {
    case SCN_EXPECT_OK:
        if (sim->last_err != RVM_OK) {
            fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.ok", "expected ok, got %s",
                 err_name(sim->last_err));
        }
        return;
    case SCN_EXPECT_REFUSED:
        if (sim->last_err == RVM_OK) {
            fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.refused", "expected a refusal, got ok");
        }
        return;
    case SCN_EXPECT_ERR:
        if ((uint64_t)sim->last_err != st->value) {
            fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.err", "expected %s, got %s",
                 st->value <= UINT32_MAX && rvm_err_is_known((uint32_t)st->value)
                     ? rvm_err_name((enum rvm_err)st->value)
                     : "an unknown error",
                 err_name(sim->last_err));
        }
        return;
    default: {
        uint64_t v = query_value(sim, st), x = st->value;
        bool ok = false;
        switch (st->cmp) {
        case SCN_EQ:
            ok = v == x;
            break;
        case SCN_NE:
            ok = v != x;
            break;
        case SCN_LT:
            ok = v < x;
            break;
        case SCN_LE:
            ok = v <= x;
            break;
        case SCN_GT:
            ok = v > x;
            break;
        default:
            ok = v >= x;
            break;
        }
        if (!ok) {
            char buf[80], inv[64];
            const char *name = query_name(sim, st, buf, sizeof(buf));
            snprintf(inv, sizeof(inv), "expect.%.56s", name);
            fail(sim, RVMSIM_EXIT_EXPECTATION, inv, "expected %s %s %" PRIu64 ", got %" PRIu64,
                 name, cmps[st->cmp], x, v);
        }
        return;
    }
    }
}

/* Fault, expect and wait lines: with a timestamp they advance the clock first. */
static void step_other(struct rvm_sim *sim, const struct scn_step *st, uint32_t src_index)
{
    uint64_t mark = sim->nfired, mid = mark;
    bool timed = st->time_kind != SCN_TIME_NONE;
    sim->cur_line = st->line;
    if (timed) {
        step_begin(sim, st->line);
        advance_to(sim, step_time(sim, st));
        mid = sim->nfired;
        if (sim->opt.linearize) {
            lin_faults(sim, mark, mid);
            lin_wait(sim);
        }
    }
    if (!sim->failed && st->kind == SCN_FAULT) {
        const struct rvm_sim_fault_spec *s = kind_spec(sim, st->index);
        uint64_t args[RVM_SIM_MAX_ARGS] = {0};
        for (uint32_t a = 0; a < s->nargs; a++) {
            args[a] = st->args[a].kind == SCN_V_DEFAULT ? s->args[a].def : st->args[a].lo;
        }
        if (s->flags & RVM_SIM_FAULT_SITE) {
            if (sim->narmed == MAX_ARMED) {
                fail(sim, RVMSIM_EXIT_INTERNAL, "engine.armed-faults",
                     "more than %u site faults armed at once", MAX_ARMED);
            } else {
                struct armed *a = &sim->armed[sim->narmed++];
                memset(a, 0, sizeof(*a));
                a->kind = st->index;
                a->has_key = s->nargs != 0 && st->args[0].kind != SCN_V_DEFAULT;
                a->key = args[0];
                a->after = st->after;
                memcpy(a->args, args, sizeof(args));
                rvm_sim_tracef(sim, "fault %s armed", s->name);
            }
        } else if (apply_fault(sim, st->index, args)) {
            (void)record_fired(sim, st->index, args, 0, true);
        } else {
            rvm_sim_tracef(sim, "fault %s has no effect now", s->name);
        }
    } else if (!sim->failed && st->kind == SCN_EXPECT) {
        check_expect(sim, st);
    }
    if (sim->opt.linearize) {
        lin_faults(sim, mid, sim->nfired);
        if (st->kind == SCN_EXPECT) {
            struct lin_entry *e = lin_add(sim);
            if (e != NULL) {
                e->kind = SCN_EXPECT;
                e->index = src_index;
            }
        }
        lin_mark_fail(sim);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Liveness and the end of a run
 * --------------------------------------------------------------------------------------------- */

static void liveness_phase(struct rvm_sim *sim)
{
    sim->phase = RVM_SIM_PHASE_LIVENESS;
    sim->faults_on = false;
    sim->narmed = 0;
    uint64_t now = now_ns(sim);
    bool sink_was_faulty = !rvm_sim_sink_healthy(sim);
    sim->sink_stall_until = 0;
    sim->sink_partial_until = 0;
    if (sink_was_faulty) {
        raise_irq(sim, RVM_SIM_IRQ_SINK_READY, now);
    }
    for (uint32_t c = 0; c < sim->ncpus; c++) {
        if (!sim->online[c]) {
            (void)push_event(sim, now, RVM_EVQ_CPU_ONLINE, c, 0, 0);
        }
    }
    rvm_sim_tracef(sim, "liveness phase: faults off, at most %u rounds", sim->scn->liveness);
    for (uint32_t round = 0;; round++) { /* bound: scn->liveness + 1 */
        advance_to(sim, now_ns(sim));
        if (sim->failed) {
            return;
        }
        struct rvm_sim_verdict why = {.invariant = "liveness", .detail = ""};
        uint64_t before = pre_step(sim);
        enum rvm_sim_live st = sim->target->liveness(sim->inst, round, sim, &why);
        post_step(sim, before, "liveness round");
        if (sim->failed || st == RVM_SIM_LIVE_DONE) {
            return;
        }
        if (round >= sim->scn->liveness) {
            fail(sim, RVMSIM_EXIT_LIVENESS, why.invariant,
                 "no progress to completion after %u liveness rounds: %s", round + 1, why.detail);
            return;
        }
        advance_to(sim, now_ns(sim) + sim->scn->tick);
    }
}

static void final_phase(struct rvm_sim *sim)
{
    sim->phase = RVM_SIM_PHASE_FINAL;
    struct rvm_witness_log *log = sim->log;
    if (log->appended != 0) {
        enum rvm_err err =
            sim->target->seal != NULL ? sim->target->seal(sim->inst) : rvm_witness_seal(log, NULL);
        if (err != RVM_OK) {
            fail(sim, RVMSIM_EXIT_LIVENESS, "witness.seal",
                 "sealing the log failed with faults off: %s", rvm_err_name(err));
            return;
        }
    }
    engine_checks(sim);
    if (sim->failed) {
        return;
    }
    if (sim->nrecords != log->appended) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.lost",
             "%" PRIu64 " records appended, %" PRIu64 " reached the sink", log->appended,
             sim->nrecords);
        return;
    }
    struct rvm_witness_verify_result res = rvm_witness_verify_log(
        &sim->crypto, sim->keys.hmac, sizeof(sim->keys.hmac), NULL, 0, sim->records, sim->nrecords,
        sim->cps, sim->ncps, sim->nrecords != 0);
    if (res.err != RVM_OK) {
        fail(sim, RVMSIM_EXIT_SAFETY, "witness.verify",
             "the stored log fails verification at %" PRIu64 ": %s", res.bad_sequence,
             rvm_err_name(res.err));
    }
}

/* ------------------------------------------------------------------------------------------------
 * Engine life cycle
 * --------------------------------------------------------------------------------------------- */

static bool setup_run(struct rvm_sim *sim, const struct rvm_scenario *scn,
                      const struct rvm_sim_options *opt);

struct rvm_sim *rvm_sim_new(const struct rvm_scenario *scn, const struct rvm_crypto *crypto,
                            char *err, size_t errlen)
{
    const struct rvm_sim_target *t = scn->target;
    if (t->max_cpus != 0 && scn->ncpus > t->max_cpus) {
        snprintf(err, errlen, "target %s runs on at most %u CPUs, the scenario says cpus %u",
                 t->name, t->max_cpus, scn->ncpus);
        return NULL;
    }
    struct rvm_sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rvm_sim_hal_init(&sim->base, crypto);
    sim->ops = *sim->base.hal.ops;
    sim->ops.timer_arm = eng_timer_arm;
    sim->ops.irq_configure = eng_irq_configure;
    sim->ops.irq_complete = eng_irq_complete;
    sim->ops.witness_drain = eng_drain;
    sim->ops.witness_checkpoint = eng_checkpoint;
    sim->base.hal.ops = &sim->ops;
    sim->target = t;
    sim->ncpus = scn->ncpus;
    memcpy(sim->params, scn->params, sizeof(sim->params));
    sim->crypto = *crypto;
    rvm_fingerprint_provider(&sim->fp);
    const char *hook = getenv("RVMSIM_TEST_UNSEEDED");
    sim->unseeded_hook = hook != NULL && *hook != '\0' && strcmp(hook, "0") != 0;

    sim->nkinds = rvm_sim_fault_count(t);
    sim->conf = calloc(sim->nkinds, sizeof(*sim->conf));
    sim->ambient = calloc(sim->nkinds, sizeof(*sim->ambient));
    sim->occ = calloc(sim->nkinds, sizeof(*sim->occ));
    sim->fired_count = calloc(sim->nkinds, sizeof(*sim->fired_count));
    sim->evq_storage = calloc(EVQ_CAPACITY, sizeof(*sim->evq_storage));
    sim->history = calloc(CHAIN_HISTORY, sizeof(*sim->history));
    sim->pools = calloc(t->nclasses + 1, sizeof(*sim->pools));
    if (sim->conf == NULL || sim->ambient == NULL || sim->occ == NULL || sim->fired_count == NULL ||
        sim->evq_storage == NULL || sim->history == NULL || sim->pools == NULL) {
        snprintf(err, errlen, "out of memory");
        rvm_sim_free(sim);
        return NULL;
    }
    rvm_evq_init(&sim->evq, sim->evq_storage, EVQ_CAPACITY);
    sim->inst = t->create(scn->params);
    if (sim->inst == NULL) {
        snprintf(err, errlen, "target %s cannot be created with these parameters", t->name);
        rvm_sim_free(sim);
        return NULL;
    }
    /* Start the system once (seed 0, no faults, nothing run): parameters that are each in range
     * but cannot start together (more boot images than partitions, more CPUs than the platform
     * has) are the scenario's error, a usage error here, not an internal failure of every seed. */
    struct rvm_sim_outcome probe;
    memset(&probe, 0, sizeof(probe));
    const struct rvm_sim_options start_only = {.faults = RVM_SIM_FAULTS_NONE, .nwnm_every = 1};
    sim->out = &probe;
    sim->reset_err = RVM_OK;
    const bool set_up = setup_run(sim, scn, &start_only);
    sim->out = NULL;
    if (!set_up || sim->failed) {
        snprintf(err, errlen, "target %s cannot start with these parameters and cpus %u: %s",
                 t->name, sim->ncpus,
                 !set_up                    ? "out of memory"
                 : sim->reset_err != RVM_OK ? rvm_err_name(sim->reset_err)
                                            : probe.detail);
        rvm_sim_free(sim);
        return NULL;
    }
    return sim;
}

void rvm_sim_free(struct rvm_sim *sim)
{
    if (sim == NULL) {
        return;
    }
    if (sim->inst != NULL) {
        sim->target->destroy(sim->inst);
    }
    if (sim->pools != NULL) {
        for (uint32_t c = 0; c < sim->target->nclasses; c++) {
            free(sim->pools[c].items);
        }
    }
    free(sim->pools);
    free(sim->conf);
    free(sim->ambient);
    free(sim->occ);
    free(sim->fired_count);
    free(sim->fired);
    free(sim->evq_storage);
    free(sim->history);
    free(sim->records);
    free(sim->cps);
    free(sim->objs);
    free(sim->name_obj);
    free(sim->entry_on);
    free(sim->block_total);
    free(sim->block_first);
    free(sim->lin);
    free(sim->states);
    free(sim);
}

static bool setup_run(struct rvm_sim *sim, const struct rvm_scenario *scn,
                      const struct rvm_sim_options *opt)
{
    const struct rvm_sim_target *t = sim->target;
    uint64_t seed = opt->seed;

    sim->scn = scn;
    sim->opt = *opt;
    sim->phase = RVM_SIM_PHASE_SETUP;
    sim->failed = false;
    sim->last_err = RVM_OK;
    sim->step = 0;
    sim->cur_line = 0;
    sim->base.now_ns = 0;
    sim->fail_lin = -1;
    sim->nlin = 0;

    rvm_prng_init(&sim->workload, seed, "workload");
    rvm_prng_init(&sim->interleave, sim->unseeded_hook ? seed ^ (uint64_t)getpid() : seed,
                  "interleave");
    rvm_prng_init(&sim->faults, seed, "faults");
    rvm_prng_init(&sim->swarm, seed, "swarm");

    rvm_sim_faults_configure(t, opt->faults, scn->overrides, scn->noverrides, &sim->swarm,
                             sim->conf);
    sim->faults_on = false; /* the target starts fault-free; faults begin with the workload */
    sim->nambient = 0;
    for (uint32_t k = 0; k < sim->nkinds; k++) {
        const struct rvm_sim_fault_spec *s = kind_spec(sim, k);
        if (sim->conf[k].enabled && !(s->flags & RVM_SIM_FAULT_SITE)) {
            sim->ambient[sim->nambient++] = k;
        }
    }
    memset(sim->fired_count, 0, sizeof(*sim->fired_count) * sim->nkinds);
    memset(sim->occ, 0, sizeof(*sim->occ) * sim->nkinds);
    sim->narmed = 0;
    sim->nfired = 0;

    for (uint32_t c = 0; c < RVM_SIM_MAX_CPUS; c++) {
        sim->online[c] = c < sim->ncpus;
        sim->offline_until[c] = 0;
        sim->timer_gen[c] = 0;
    }
    sim->nonline = sim->ncpus;
    memset(sim->irq, 0, sizeof(sim->irq));
    sim->sink_stall_until = sim->sink_partial_until = 0;
    sim->sink_limit = 0;
    rvm_evq_clear(&sim->evq);
    sim->nrecords = 0;
    sim->ncps = 0;
    sim->nstates = 0;
    sim->epochs_done = 0;
    sim->state_at_done = false;

    rvm_run_keys_derive(&sim->crypto, seed, &sim->keys);
    rvm_witness_verifier_init(&sim->ver, &sim->crypto, sim->keys.hmac, sizeof(sim->keys.hmac));

    sim->nobjs = 0;
    for (uint32_t c = 0; c < t->nclasses; c++) {
        sim->pools[c].count = 0;
        sim->pools[c].ndead = 0;
    }
    if (!grow32((void **)&sim->name_obj, &sim->name_cap, scn->nnames + 1, sizeof(*sim->name_obj))) {
        return false;
    }
    for (uint32_t i = 0; i < scn->nnames; i++) {
        sim->name_obj[i] = -1;
    }
    sim->ref_valid = false;
    sim->nwnm_counter = 0;

    /* random blocks: totals and, in swarm mode, which operation kinds this seed switches off */
    uint32_t nentries = 0;
    for (uint32_t b = 0; b < scn->nrandoms; b++) {
        nentries += scn->randoms[b].nentries;
    }
    if (!grow32((void **)&sim->entry_on, &sim->entry_cap, nentries + 1, sizeof(bool)) ||
        !grow32((void **)&sim->block_first, &sim->block_cap, scn->nrandoms + 1, sizeof(uint32_t))) {
        return false;
    }
    uint64_t *totals = realloc(sim->block_total, sizeof(uint64_t) * (scn->nrandoms + 1));
    if (totals == NULL) {
        return false;
    }
    sim->block_total = totals;
    uint32_t first = 0;
    for (uint32_t b = 0; b < scn->nrandoms; b++) {
        const struct scn_random *r = &scn->randoms[b];
        bool *on = &sim->entry_on[first];
        uint32_t live = 0;
        for (uint32_t i = 0; i < r->nentries; i++) {
            bool keep = rvm_prng_chance(&sim->swarm, 1, 2);
            on[i] = r->entries[i].weight != 0 && (opt->faults != RVM_SIM_FAULTS_SWARM || keep);
            live += on[i];
        }
        if (live == 0) {
            /* swarm switched every kind off: keep one, chosen by the seed */
            uint32_t weighted = 0;
            for (uint32_t i = 0; i < r->nentries; i++) {
                weighted += r->entries[i].weight != 0;
            }
            uint64_t k = rvm_prng_below(&sim->swarm, weighted);
            for (uint32_t i = 0; i < r->nentries; i++) {
                if (r->entries[i].weight != 0 && k-- == 0) {
                    on[i] = true;
                }
            }
        }
        sim->block_total[b] = 0;
        for (uint32_t i = 0; i < r->nentries; i++) {
            sim->block_total[b] += on[i] ? r->entries[i].weight : 0;
        }
        sim->block_first[b] = first;
        first += r->nentries;
    }

    const struct rvm_sim_setup setup = {
        .hal = &sim->base.hal,
        .params = sim->params,
        .ncpus = sim->ncpus,
        .seed = seed,
        .hmac_key = sim->keys.hmac,
        .hmac_key_len = sizeof(sim->keys.hmac),
        .tape = sim->opt.tape,
    };
    sim->log = NULL;
    enum rvm_err err = t->reset(sim->inst, &setup, sim);
    sim->reset_err = err;
    struct rvm_witness_log *log = t->witness(sim->inst);
    sim->faults_on = opt->faults != RVM_SIM_FAULTS_NONE;
    if (err == RVM_OK && log != NULL) {
        sim->log = log;   /* only a started system has a log worth judging */
        state_point(sim); /* a target may witness its boot */
    } else {
        fail(sim, RVMSIM_EXIT_INTERNAL, "target.reset", "target %s could not start: %s", t->name,
             rvm_err_name(err));
        return true;
    }
    return true;
}

int rvm_sim_run(struct rvm_sim *sim, const struct rvm_scenario *scn,
                const struct rvm_sim_options *opt, struct rvm_sim_outcome *out)
{
    memset(out, 0, sizeof(*out));
    sim->out = out;
    if (scn->target != sim->target || scn->ncpus != sim->ncpus ||
        memcmp(scn->params, sim->params, sizeof(sim->params)) != 0) {
        out->cls = RVMSIM_EXIT_INTERNAL;
        snprintf(out->invariant, sizeof(out->invariant), "engine.scenario");
        snprintf(out->detail, sizeof(out->detail),
                 "scenario header differs from the engine's (target, parameters or cpus)");
        return out->cls;
    }
    if (!setup_run(sim, scn, opt)) {
        fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory setting up the run");
    }
    if (!sim->failed) {
        rvm_sim_tracef(sim, "run seed=%" PRIu64 " faults=%s target=%s cpus=%u", opt->seed,
                       rvm_sim_fault_mode_name(opt->faults), sim->target->name, sim->ncpus);
        if (sim->opt.trace != NULL) {
            for (uint32_t k = 0; k < sim->nkinds; k++) {
                if (sim->conf[k].enabled) {
                    rvm_sim_tracef(sim, "fault kind %s enabled at %u/%u", kind_spec(sim, k)->name,
                                   sim->conf[k].num, sim->conf[k].den);
                }
            }
        }
        /* the reference state before the first step */
        sim->ref_valid = false;
        sim->phase = RVM_SIM_PHASE_WORKLOAD;
        engine_checks(sim);
    }
    for (uint32_t i = 0; i < scn->nsteps && !sim->failed; i++) {
        const struct scn_step *st = &scn->steps[i];
        switch (st->kind) {
        case SCN_OP:
            step_op(sim, st);
            break;
        case SCN_RANDOM: {
            uint64_t n = scn->randoms[st->index].count;
            for (uint64_t k = 0; k < n && !sim->failed; k++) {
                step_random_one(sim, st->index, st->line);
            }
            break;
        }
        default:
            step_other(sim, st, i);
            break;
        }
    }
    if (!sim->failed) {
        liveness_phase(sim);
    }
    if (!sim->failed) {
        final_phase(sim);
    }
    if (!sim->failed) {
        out->cls = RVMSIM_EXIT_PASS;
        out->phase = RVM_SIM_PHASE_FINAL;
    }
    out->steps = sim->step;
    out->time_ns = now_ns(sim);
    out->checkpoints = sim->ncps;
    if (sim->log != NULL) {
        out->records = sim->log->appended;
        rvm_witness_digest(sim->log, out->digest);
        rvm_sha256_state_bytes(sim->log->chain, out->chain);
        struct rvm_sha256_ctx ctx;
        rvm_sha256_init(&ctx, &sim->crypto);
        sim->target->hash(sim->inst, &ctx);
        rvm_sha256_final(&ctx, out->state);
        bool at = sim->opt.has_state_at && !sim->state_at_done && out->records > sim->opt.state_at;
        if ((sim->opt.states || at) && out->records != 0) {
            /* the end of the run is a boundary too, labelled with the last record (a failing
             * step ends the run without passing a boundary of its own) */
            uint8_t digest[32];
            state_digest(sim, out->records, digest);
            if (sim->opt.states) {
                add_state(sim, out->records - 1, digest);
            }
            if (at) {
                sim->state_at_done = true;
                memcpy(sim->state_at_digest, digest, sizeof(digest));
            }
        }
    }
    sim->out = NULL;
    return out->cls;
}

const uint8_t *rvm_sim_records(const struct rvm_sim *sim, uint64_t *count)
{
    *count = sim->nrecords;
    return sim->records;
}

bool rvm_sim_tape(struct rvm_sim *sim, uint8_t **bytes, size_t *len, const char **why)
{
    if (sim->target->tape == NULL || !sim->opt.tape) {
        *why = "the run recorded no tape (its target cannot)";
        return false;
    }
    if (sim->log == NULL) {
        *why = "the system never started";
        return false;
    }
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_witness_digest(sim->log, digest);
    return sim->target->tape(sim->inst, sim->opt.seed, sim->log->appended, digest, bytes, len, why);
}

const struct rvm_witness_checkpoint *rvm_sim_checkpoints(const struct rvm_sim *sim, uint64_t *count)
{
    *count = sim->ncps;
    return sim->cps;
}

const struct rvm_sim_fired *rvm_sim_fired(const struct rvm_sim *sim, uint64_t *count)
{
    *count = sim->nfired;
    return sim->fired;
}

const uint8_t *rvm_sim_hmac_key(const struct rvm_sim *sim, uint32_t *len)
{
    *len = sizeof(sim->keys.hmac);
    return sim->keys.hmac;
}

const uint8_t *rvm_sim_ed25519_seed(const struct rvm_sim *sim)
{
    return sim->keys.ed25519_seed;
}

const struct rvm_sim_state *rvm_sim_states(const struct rvm_sim *sim, uint64_t *count)
{
    *count = sim->nstates;
    return sim->states;
}

bool rvm_sim_state_at(const struct rvm_sim *sim, uint8_t digest[32])
{
    if (!sim->state_at_done) {
        return false;
    }
    memcpy(digest, sim->state_at_digest, 32);
    return true;
}

/* ------------------------------------------------------------------------------------------------
 * Linearisation into a seedless scenario
 * --------------------------------------------------------------------------------------------- */

static int32_t name_for_object(struct rvm_scenario *out, const struct rvm_scenario *src,
                               const struct rvm_sim *sim, uint32_t obj)
{
    const struct sim_obj *o = &sim->objs[obj];
    char text[96];
    if (o->name >= 0 && (uint32_t)o->name < src->nnames) {
        snprintf(text, sizeof(text), "%s", src->names[o->name].text);
    } else {
        snprintf(text, sizeof(text), "%s%u", sim->target->classes[o->cls], obj + 1);
    }
    /* keep generated names clear of the scenario's own */
    for (uint32_t i = 0; i < out->nnames; i++) { /* bound: names so far */
        if (strcmp(out->names[i].text, text) == 0) {
            size_t len = strlen(text);
            if (len + 2 >= sizeof(text)) {
                return -1;
            }
            text[len] = '_';
            text[len + 1] = '\0';
            i = (uint32_t)-1; /* restart the scan with the new spelling */
        }
    }
    return rvm_scenario_add_name(out, text, o->cls);
}

bool rvm_sim_linearize(const struct rvm_sim *sim, const struct rvm_scenario *src, bool upto_fail,
                       struct rvm_scenario *out)
{
    if (!rvm_scenario_init_from(out, src, src->path)) {
        return false;
    }
    out->has_faults = true;
    out->faults = RVM_SIM_FAULTS_NONE;
    uint64_t n = sim->nlin;
    if (upto_fail && sim->fail_lin >= 0 && sim->phase == RVM_SIM_PHASE_WORKLOAD) {
        n = (uint64_t)sim->fail_lin;
    }
    int32_t *obj_name = malloc(sizeof(int32_t) * (sim->nobjs + 1));
    if (obj_name == NULL) {
        rvm_scenario_free(out);
        return false;
    }
    for (uint32_t i = 0; i < sim->nobjs; i++) {
        obj_name[i] = -1;
    }
    bool ok = true;
    for (uint64_t i = 0; i < n && ok; i++) {
        const struct lin_entry *e = &sim->lin[i];
        struct scn_step st = {.cpu = -1, .bind = -1};
        if (e->kind == SCN_EXPECT) {
            st = src->steps[e->index];
            st.time_kind = SCN_TIME_NONE;
            st.line = st.col = 0;
            ok = rvm_scenario_add_step(out, &st);
            continue;
        }
        if (e->kind == SCN_WAIT) {
            st.kind = SCN_WAIT;
            st.time_kind = SCN_TIME_ABS;
            st.time = e->time;
            ok = rvm_scenario_add_step(out, &st);
            continue;
        }
        st.kind = e->kind;
        st.index = e->index;
        st.after = e->after;
        st.time_kind = e->time_kind;
        st.time = e->time;
        if (e->kind == SCN_OP) {
            st.cpu = (int32_t)e->cpu;
        }
        for (uint32_t a = 0; a < RVM_SIM_MAX_ARGS; a++) {
            st.args[a].kind = e->argk[a];
            st.args[a].lo = st.args[a].hi = e->args[a];
            if (e->argk[a] == SCN_V_NAME) {
                uint32_t o = (uint32_t)e->args[a];
                if (o >= sim->nobjs || obj_name[o] < 0) {
                    /* created outside the linearised range: pass the handle itself */
                    st.args[a].kind = SCN_V_LIT;
                    st.args[a].lo = st.args[a].hi = o < sim->nobjs ? sim->objs[o].handle : 0;
                } else {
                    st.args[a].name = (uint32_t)obj_name[o];
                }
            }
        }
        if (e->kind == SCN_OP && e->creates >= 0) {
            int32_t nm = name_for_object(out, src, sim, (uint32_t)e->creates);
            if (nm < 0) {
                ok = false;
                break;
            }
            obj_name[e->creates] = nm;
            st.bind = nm;
        }
        ok = rvm_scenario_add_step(out, &st);
    }
    free(obj_name);
    if (!ok) {
        rvm_scenario_free(out);
    }
    return ok;
}
