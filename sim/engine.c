/* SPDX-License-Identifier: MIT */
#include "engine_internal.h"

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

void engine_fail(struct rvm_sim *sim, int cls, const char *invariant, const char *fmt, ...)
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

void engine_trace_args(struct rvm_sim *sim, const struct rvm_sim_arg_spec *specs, uint32_t n,
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

uint64_t engine_pre_step(struct rvm_sim *sim)
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
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.sink-count",
                    "the log counts %" PRIu64 " records drained but the sink received %" PRIu64,
                    log->drained, sim->nrecords);
        return;
    }
    if (log->drained > log->appended) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.counters",
                    "drained %" PRIu64 " > appended %" PRIu64, log->drained, log->appended);
        return;
    }
    if (log->drained == log->appended &&
        memcmp(log->chain, sim->ver.state, sizeof(sim->ver.state)) != 0) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.chain",
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
    if (!engine_grow((void **)&sim->states, &sim->states_cap, sim->nstates + 1,
                     sizeof(*sim->states))) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory",
                    "out of memory recording a state digest");
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

void engine_post_step(struct rvm_sim *sim, uint64_t appended_before, const char *what)
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
        engine_fail(sim, RVMSIM_EXIT_SAFETY, v.invariant, "%s", v.detail);
        return;
    }
    if (sim->nwnm_now) {
        uint32_t fp[RVM_SHA256_STATE_WORDS];
        fingerprint(sim, fp);
        if (sim->log->appended == appended_before && memcmp(fp, sim->ref_fp, sizeof(fp)) != 0) {
            engine_fail(sim, RVMSIM_EXIT_SAFETY, "no-witness-no-mutation",
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
 * Events and the clock
 * --------------------------------------------------------------------------------------------- */

bool engine_push_event(struct rvm_sim *sim, uint64_t time, uint32_t kind, uint32_t a, uint32_t b,
                       uint64_t arg)
{
    if (!rvm_evq_push(&sim->evq, time, kind, a, b, arg)) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.event-queue", "more than %u pending events",
                    EVQ_CAPACITY);
        return false;
    }
    return true;
}

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
    uint64_t before = engine_pre_step(sim);
    sim->target->event(sim->inst, &ev, sim);
    engine_post_step(sim, before, what);
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
    (void)engine_push_event(sim, when, it->kind, it->a, it->b, it->arg);
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
        if (engine_fault_site(sim, RVM_SIM_F_IRQ_LOST, it->b, NULL)) {
            return;
        }
        if (engine_fault_site(sim, RVM_SIM_F_IRQ_DELAY, it->b, fa)) {
            (void)engine_push_event(sim, now_ns(sim) + fa[1], RVM_EVQ_IRQ, it->a, it->b, 0);
            return;
        }
        bool dup = engine_fault_site(sim, RVM_SIM_F_IRQ_DUP, it->b, NULL);
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
            engine_raise_irq(sim, RVM_SIM_IRQ_SINK_READY, now_ns(sim));
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
void engine_advance_to(struct rvm_sim *sim, uint64_t t)
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
            engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.event-storm",
                        "more than %u events due at %" PRIu64
                        " ns (an event re-schedules itself at once?)",
                        MAX_EVENTS_AT_ONCE, instant);
            return;
        }
        if (++delivered > MAX_EVENTS_PER_GO) {
            engine_fail(sim, RVMSIM_EXIT_USAGE, "scenario.clock-jump",
                        "advancing the clock from %" PRIu64 " ns to %" PRIu64
                        " ns delivers more than %u "
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
    engine_raise_irq(sim, irq, now_ns(sim) + delay_ns);
}

void rvm_sim_schedule(struct rvm_sim *sim, uint64_t delay_ns, uint32_t cpu, uint32_t tag,
                      uint64_t arg)
{
    (void)engine_push_event(sim, now_ns(sim) + delay_ns, RVM_EVQ_TARGET, cpu, tag, arg);
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
        engine_raise_irq(sim, RVM_SIM_IRQ_SINK_READY, now);
    }
    for (uint32_t c = 0; c < sim->ncpus; c++) {
        if (!sim->online[c]) {
            (void)engine_push_event(sim, now, RVM_EVQ_CPU_ONLINE, c, 0, 0);
        }
    }
    rvm_sim_tracef(sim, "liveness phase: faults off, at most %u rounds", sim->scn->liveness);
    for (uint32_t round = 0;; round++) { /* bound: scn->liveness + 1 */
        engine_advance_to(sim, now_ns(sim));
        if (sim->failed) {
            return;
        }
        struct rvm_sim_verdict why = {.invariant = "liveness", .detail = ""};
        uint64_t before = engine_pre_step(sim);
        enum rvm_sim_live st = sim->target->liveness(sim->inst, round, sim, &why);
        engine_post_step(sim, before, "liveness round");
        if (sim->failed || st == RVM_SIM_LIVE_DONE) {
            return;
        }
        if (round >= sim->scn->liveness) {
            engine_fail(sim, RVMSIM_EXIT_LIVENESS, why.invariant,
                        "no progress to completion after %u liveness rounds: %s", round + 1,
                        why.detail);
            return;
        }
        engine_advance_to(sim, now_ns(sim) + sim->scn->tick);
    }
}

/* Whether the end-of-run verification of the stored log is done in full, record by record, for
 * this seed (1 in FULL_VERIFY_EVERY, by a hash of the seed, independent of the sweep's re-run
 * sample); the other seeds rely on the sink's verification of the same bytes. */
static bool full_verify_sampled(uint64_t seed)
{
    uint64_t h = seed ^ 0x7665726966792d31u; /* "verify-1": not the re-run sample's hash */
    return rvm_splitmix64(&h) % FULL_VERIFY_EVERY == 0;
}

/*
 * The end-of-run verification of the stored log without recomputing its chain: true only if
 * rvm_witness_verify_log of the stored records and checkpoints would pass. The sink verified
 * every stored record in order from the genesis with this run's verifier (a failure there ends
 * the run) and copied exactly the bytes it verified, so what is left is what the log verification
 * adds: each checkpoint covers a stored record, in order, matches the chain after that record
 * (kept in the history ring), carries a valid HMAC and digest, and the last one seals the last
 * record with nothing after a seal. False when any of that fails or cannot be shown (more records
 * than the history holds): the caller then verifies in full, which gives the verdict and its
 * report.
 */
static bool stored_log_follows_sink(const struct rvm_sim *sim)
{
    const uint64_t n = sim->nrecords;
    if (sim->ver.next_seq != n || n > CHAIN_HISTORY) {
        return false;
    }
    bool sealed = false;
    uint64_t last = 0;
    for (uint64_t i = 0; i < sim->ncps; i++) { /* bound: the checkpoints received */
        const struct rvm_witness_checkpoint *cp = &sim->cps[i];
        if (sealed || cp->sequence >= n || cp->sequence < last) {
            return false;
        }
        uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
        rvm_sha256_state_bytes(sim->history[cp->sequence % CHAIN_HISTORY], chain);
        if (memcmp(chain, cp->chain, sizeof(chain)) != 0 ||
            rvm_witness_checkpoint_check(&sim->crypto, sim->keys.hmac, sizeof(sim->keys.hmac),
                                         cp) != RVM_OK) {
            return false;
        }
        sealed = cp->seal;
        last = cp->sequence;
        if (sealed && cp->sequence != n - 1u) {
            return false; /* a record after the seal */
        }
    }
    return n == 0 || sealed;
}

static void final_phase(struct rvm_sim *sim)
{
    sim->phase = RVM_SIM_PHASE_FINAL;
    struct rvm_witness_log *log = sim->log;
    if (log->appended != 0) {
        enum rvm_err err =
            sim->target->seal != NULL ? sim->target->seal(sim->inst) : rvm_witness_close(log, NULL);
        if (err != RVM_OK) {
            engine_fail(sim, RVMSIM_EXIT_LIVENESS, "witness.seal",
                        "sealing the log failed with faults off: %s", rvm_err_name(err));
            return;
        }
    }
    engine_checks(sim);
    if (sim->failed) {
        return;
    }
    if (sim->nrecords != log->appended) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.lost",
                    "%" PRIu64 " records appended, %" PRIu64 " reached the sink", log->appended,
                    sim->nrecords);
        return;
    }
    if (stored_log_follows_sink(sim) && !full_verify_sampled(sim->opt.seed)) {
        return;
    }
    struct rvm_witness_verify_result res = rvm_witness_verify_log(
        &sim->crypto, sim->keys.hmac, sizeof(sim->keys.hmac), NULL, 0, sim->records, sim->nrecords,
        sim->cps, sim->ncps, sim->nrecords != 0);
    if (res.err != RVM_OK) {
        engine_fail(sim, RVMSIM_EXIT_SAFETY, "witness.verify",
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
    engine_hal_install(sim);
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
    free(sim->entry_upto);
    free(sim->block_total);
    free(sim->block_first);
    free(sim->block_pick);
    free(sim->pick_entry);
    free(sim->lin);
    free(sim->states);
    free(sim);
}

/* The pick tables of the random blocks (engine_internal.h): a step's operation is then one load
 * instead of a search through the running weights. */
static bool pick_tables(struct rvm_sim *sim, const struct rvm_scenario *scn)
{
    if (!engine_grow32((void **)&sim->block_pick, &sim->block_pick_cap, scn->nrandoms + 1,
                       sizeof(uint32_t))) {
        return false;
    }
    uint64_t size = 0;
    for (uint32_t b = 0; b < scn->nrandoms; b++) { /* bound: the random blocks */
        const bool table = sim->block_total[b] <= PICK_TABLE_MAX;
        sim->block_pick[b] = table ? (uint32_t)size : NO_PICK_TABLE;
        size += table ? sim->block_total[b] : 0;
    }
    if (!engine_grow32((void **)&sim->pick_entry, &sim->pick_cap, size + 1, sizeof(uint32_t))) {
        return false;
    }
    for (uint32_t b = 0; b < scn->nrandoms; b++) { /* bound: the random blocks */
        if (sim->block_pick[b] == NO_PICK_TABLE) {
            continue;
        }
        uint32_t *pick = &sim->pick_entry[sim->block_pick[b]];
        const uint64_t *upto = &sim->entry_upto[sim->block_first[b]];
        uint64_t from = 0;
        for (uint32_t i = 0; i < scn->randoms[b].nentries; i++) { /* bound: the block's entries */
            for (uint64_t v = from; v < upto[i]; v++) {           /* bound: PICK_TABLE_MAX in all */
                pick[v] = i;
            }
            from = upto[i];
        }
    }
    return true;
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
    if (!engine_grow32((void **)&sim->name_obj, &sim->name_cap, scn->nnames + 1,
                       sizeof(*sim->name_obj))) {
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
    if (!engine_grow32((void **)&sim->entry_on, &sim->entry_cap, nentries + 1, sizeof(bool)) ||
        !engine_grow32((void **)&sim->entry_upto, &sim->upto_cap, nentries + 1, sizeof(uint64_t)) ||
        !engine_grow32((void **)&sim->block_first, &sim->block_cap, scn->nrandoms + 1,
                       sizeof(uint32_t))) {
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
            sim->entry_upto[first + i] = sim->block_total[b];
        }
        sim->block_first[b] = first;
        first += r->nentries;
    }
    if (!pick_tables(sim, scn)) {
        return false;
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
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "target.reset", "target %s could not start: %s",
                    t->name, rvm_err_name(err));
        return true;
    }
    return true;
}

/* A run that stopped before its sink took everything (a failure, a stall that outlived the run)
 * still keeps every record the core appended: the tail is copied out of the ring as it is, so
 * what a store holds and the digest the run prints are the same records. Not a drain: the core's
 * log is only read, and nothing is judged here (a tail a fault damaged is stored damaged, and
 * `rvmsim verify` says so). */
static void keep_undrained(struct rvm_sim *sim)
{
    if (sim->log == NULL || sim->nrecords != sim->log->drained) {
        return;
    }
    const uint64_t tail = sim->log->appended - sim->nrecords;
    if (tail == 0 || !engine_grow((void **)&sim->records, &sim->rec_cap, sim->nrecords + tail,
                                  RVM_WITNESS_RECORD_BYTES)) {
        return;
    }
    for (uint64_t seq = sim->nrecords; seq < sim->log->appended; seq++) { /* bound: the tail */
        const uint8_t *img = rvm_witness_undrained(sim->log, seq);
        if (img == NULL) {
            return;
        }
        memcpy(sim->records + seq * RVM_WITNESS_RECORD_BYTES, img, RVM_WITNESS_RECORD_BYTES);
        sim->nrecords = seq + 1u;
    }
}

bool engine_start(struct rvm_sim *sim, const struct rvm_scenario *scn,
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
        return false;
    }
    if (!setup_run(sim, scn, opt)) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory setting up the run");
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
    return true;
}

void engine_workload(struct rvm_sim *sim, const struct rvm_scenario *scn)
{
    for (uint32_t i = 0; i < scn->nsteps && !sim->failed; i++) {
        const struct scn_step *st = &scn->steps[i];
        switch (st->kind) {
        case SCN_OP:
            engine_delta_snapshot(sim, i);
            engine_step_op(sim, st);
            break;
        case SCN_RANDOM: {
            engine_delta_snapshot(sim, i);
            uint64_t n = scn->randoms[st->index].count;
            for (uint64_t k = 0; k < n && !sim->failed; k++) {
                engine_step_random(sim, st->index, st->line);
            }
            break;
        }
        default:
            engine_step_other(sim, st, i);
            break;
        }
    }
}

int engine_finish(struct rvm_sim *sim)
{
    struct rvm_sim_outcome *out = sim->out;
    keep_undrained(sim);
    out->probes = sim->target->probes_hit != NULL
                      ? sim->target->probes_hit(sim->inst, sim->records, sim->nrecords)
                      : 0;
    out->steps = sim->step;
    out->time_ns = now_ns(sim);
    out->checkpoints = sim->ncps;
    if (sim->log != NULL) {
        out->records = sim->log->appended;
        rvm_witness_digest(sim->log, out->digest);
        rvm_sha256_state_bytes(sim->log->chain, out->chain);
        if (!sim->opt.state_if_failed || out->cls != RVMSIM_EXIT_PASS) {
            struct rvm_sha256_ctx ctx;
            rvm_sha256_init(&ctx, &sim->crypto);
            sim->target->hash(sim->inst, &ctx);
            rvm_sha256_final(&ctx, out->state);
        } else {
            memset(out->state, 0, sizeof(out->state));
        }
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

int rvm_sim_run(struct rvm_sim *sim, const struct rvm_scenario *scn,
                const struct rvm_sim_options *opt, struct rvm_sim_outcome *out)
{
    if (!engine_start(sim, scn, opt, out)) {
        return out->cls;
    }
    engine_workload(sim, scn);
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
    return engine_finish(sim);
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
