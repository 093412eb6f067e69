/* SPDX-License-Identifier: MIT */
/*
 * The simulator engine: event queue order against a sorted-list model, the scenario parser's
 * errors and its print/parse round trip, the fault modes, and the engine's oracles against a
 * small probe target that can be told to misbehave (mutate without a witness record, break its
 * own invariant, never settle), so every oracle is seen to fire and to stay quiet.
 */
#include "test_support.h"

#include "crypto_openssl.h"
#include "engine.h"
#include "events.h"
#include "exit_codes.h"
#include "faults.h"
#include "scenario.h"
#include "target.h"
#include "util.h"

#include "rvm/bytes.h"

#include <inttypes.h>

/* ------------------------------------------------------------------------------------------------
 * Event queue
 * --------------------------------------------------------------------------------------------- */

struct model_ev {
    uint64_t time, order;
    uint32_t a;
};

static void test_evq_matches_sorted_model(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("evq_matches_sorted_model", 11));
    enum { CAP = 512 };
    static struct rvm_evq_item storage[CAP];
    static struct model_ev model[CAP];
    uint32_t nmodel = 0;
    uint64_t order = 0;
    struct rvm_evq q;
    rvm_evq_init(&q, storage, CAP);

    for (int round = 0; round < 20000; round++) {
        bool do_push = nmodel == 0 || (nmodel < CAP && test_rng_below(&rng, 3) != 0);
        if (do_push) {
            uint64_t t = test_rng_below(&rng, 50); /* many equal times: FIFO must hold */
            uint32_t a = (uint32_t)test_rng_below(&rng, 1000);
            assert_true(rvm_evq_push(&q, t, RVM_EVQ_TARGET, a, 0, 0));
            model[nmodel++] = (struct model_ev){t, order++, a};
        } else {
            /* the model's minimum by (time, order), found by a plain scan */
            uint32_t best = 0;
            for (uint32_t i = 1; i < nmodel; i++) {
                if (model[i].time < model[best].time ||
                    (model[i].time == model[best].time && model[i].order < model[best].order)) {
                    best = i;
                }
            }
            struct rvm_evq_item it;
            assert_true(rvm_evq_pop(&q, &it));
            assert_int_equal(it.time, model[best].time);
            assert_int_equal(it.a, model[best].a);
            model[best] = model[--nmodel];
        }
        assert_int_equal(q.count, nmodel);
    }
    /* full queue refuses, empty queue pops nothing */
    while (nmodel < CAP) {
        assert_true(rvm_evq_push(&q, 1, RVM_EVQ_TARGET, 0, 0, 0));
        nmodel++;
    }
    assert_false(rvm_evq_push(&q, 1, RVM_EVQ_TARGET, 0, 0, 0));
    rvm_evq_clear(&q);
    struct rvm_evq_item it;
    assert_false(rvm_evq_pop(&q, &it));
}

/* ------------------------------------------------------------------------------------------------
 * Parser
 * --------------------------------------------------------------------------------------------- */

struct parse_case {
    const char *text;
    uint32_t line, col;
    const char *msg;
};

static void test_parse_errors_have_positions(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"append\n", 1, 1, "expected 'target"},
        {"", 1, 1, "no 'target' line"},
        {"target nope\n", 1, 8, "unknown target 'nope'"},
        {"target witness ring=2000\n", 1, 1, "must be in 2..1024"},
        {"target witness\nappnd\n", 2, 1, "unknown operation 'appnd'"},
        {"target witness\nappend kind=NOPE\n", 2, 13, "'kind' must be an action kind"},
        {"target witness\nappend colour=1\n", 2, 8, "has no argument 'colour'"},
        {"target witness\nappend aux=1 aux=2\n", 2, 14, "given twice"},
        {"target witness\nreserve\n", 2, 8, "needs argument 'n='"},
        {"target witness\nappend res=R\n", 2, 12, "unknown object 'R'"},
        {"target witness\nreserve n=1 as R\nreserve n=1 as R\n", 3, 16, "already used"},
        {"target witness\nflush as X\n", 2, 7, "creates no object"},
        {"target witness\nappend\ncpus 2\n", 3, 1, "must come before the first step"},
        {"target witness\ncpus 2\ncpu2 append\n", 3, 1, "cpus 0..1"},
        {"target witness\n@5us append\n@4us append\n", 3, 1, "is before 5000"},
        {"target witness\n@5xs append\n", 2, 1, "bad timestamp"},
        {"target witness\nexpect ok\n", 2, 8, "needs an operation line"},
        {"target witness\nappend\nexpect err NOPE\n", 3, 12, "unknown error 'NOPE'"},
        {"target witness\nexpect bogus == 1\n", 2, 8, "unknown value 'bogus'"},
        {"target witness\nexpect records =< 1\n", 2, 16, "expected a comparison"},
        {"target witness\nfault nope\n", 2, 7, "unknown fault kind"},
        {"target witness\nfault sink_stall\n", 2, 17, "needs argument 'duration='"},
        {"target witness\nrandom 5\n append 1\n", 4, 1, "not closed"},
        {"target witness\nrandom 5\n append 0\nend\n", 4, 1, "weight above 0"},
        {"target witness\nrandom 5\n append 1 kind=9..3\nend\n", 3, 16, "empty range"},
        {"target witness\nappend kind=1..3\n", 2, 13, "only allowed in random blocks"},
        {"target witness\nend\n", 2, 1, "'end' without 'random'"},
        {"target witness\nappend payload=18446744073709551616\n", 2, 16, "unsigned integer"},
        {"target witness\nenable sink_stall 3/2\n", 2, 19, "NUM/DEN"},
        {"target witness\nappend\x01\n", 2, 7, "control character"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rvm_scenario s;
        struct rvm_scn_error err;
        const struct parse_case *c = &cases[i];
        bool ok = rvm_scenario_parse("t.scn", c->text, strlen(c->text), &s, &err);
        if (ok || err.line != c->line || err.col != c->col || strstr(err.msg, c->msg) == NULL) {
            print_error("case %zu (%s): got %s %u:%u '%s'\n", i, c->text, ok ? "ok" : "error",
                        err.line, err.col, err.msg);
            bad++;
        }
        if (ok) {
            rvm_scenario_free(&s);
        }
    }
    assert_int_equal(bad, 0);
}

static const char roundtrip_text[] =
    "# comment\n"
    "target witness ring=8 checkpoint=4 reservations=3 flush_period=5000 sink_irq=0\n"
    "cpus 3\n"
    "tick 2000\n"
    "liveness 7\n"
    "seed 99\n"
    "faults swarm\n"
    "enable sink_stall 1/7\n"
    "disable irq_dup\n"
    "@1000 cpu2 append kind=CAP_GRANT tier=2 flags=129 actor=7 target=5 cap=3 payload=9 aux=1\n"
    "reserve n=2 as R\n"
    "append res=R\n"
    "append res=none\n"
    "append res=0x500000001\n"
    "expect err NOT_FOUND\n"
    "fault sink_stall duration=5000\n"
    "fault irq_lost irq=1 after=2\n"
    "@+300\n"
    "expect records >= 2\n"
    "expect fired.irq_lost == 0\n"
    "random 10\n"
    "  append 3 kind=16..20 res=R\n"
    "  seal 1\n"
    "end\n";

static char *print_to_string(const struct rvm_scenario *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rvm_scenario_write(f, s, NULL));
    fclose(f);
    return buf;
}

static void test_parse_print_roundtrip(void **state)
{
    (void)state;
    struct rvm_scenario a, b;
    struct rvm_scn_error err;
    assert_true(rvm_scenario_parse("a.scn", roundtrip_text, strlen(roundtrip_text), &a, &err));
    assert_int_equal(a.ncpus, 3);
    assert_int_equal(a.tick, 2000);
    assert_int_equal(a.liveness, 7);
    assert_int_equal(a.seed, 99);
    assert_int_equal(a.faults, RVM_SIM_FAULTS_SWARM);
    assert_int_equal(a.noverrides, 2);
    assert_int_equal(a.nsteps, 12);
    assert_int_equal(a.steps[0].time_kind, SCN_TIME_ABS);
    assert_int_equal(a.steps[0].cpu, 2);
    assert_int_equal(a.steps[0].args[0].lo, 0x10); /* CAP_GRANT */
    assert_int_equal(a.steps[4].args[8].lo, 0x500000001u);
    assert_int_equal(a.steps[7].after, 2);
    assert_int_equal(a.steps[8].kind, SCN_WAIT);
    assert_int_equal(a.randoms[0].entries[0].args[0].kind, SCN_V_RANGE);

    char *text = print_to_string(&a);
    assert_true(rvm_scenario_parse("b.scn", text, strlen(text), &b, &err));
    char *again = print_to_string(&b);
    assert_string_equal(text, again); /* printing is a fixed point after one round */
    assert_int_equal(a.nsteps, b.nsteps);
    for (uint32_t i = 0; i < a.nsteps; i++) {
        const struct scn_step *x = &a.steps[i], *y = &b.steps[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->time_kind, y->time_kind);
        assert_int_equal(x->time, y->time);
        assert_int_equal(x->cpu, y->cpu);
        assert_int_equal(x->index, y->index);
        assert_int_equal(x->after, y->after);
        for (uint32_t k = 0; k < RVM_SIM_MAX_ARGS; k++) {
            assert_int_equal(x->args[k].kind, y->args[k].kind);
            assert_int_equal(x->args[k].lo, y->args[k].lo);
        }
    }
    free(text);
    free(again);
    rvm_scenario_free(&a);
    rvm_scenario_free(&b);
}

/* ------------------------------------------------------------------------------------------------
 * Fault modes
 * --------------------------------------------------------------------------------------------- */

static bool conf_equal(const struct rvm_sim_fault_conf *a, const struct rvm_sim_fault_conf *b,
                       uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].enabled != b[i].enabled || a[i].num != b[i].num || a[i].den != b[i].den) {
            return false;
        }
    }
    return true;
}

static void test_fault_modes(void **state)
{
    (void)state;
    const struct rvm_sim_target *t = &rvm_sim_target_witness;
    uint32_t n = rvm_sim_fault_count(t);
    struct rvm_sim_fault_conf c1[64], c2[64];
    assert_true(n <= 64);
    struct rvm_prng p1, p2;
    int32_t bitflip = rvm_sim_fault_find(t, "ring_bitflip");
    assert_true(bitflip >= (int32_t)RVM_SIM_F_COUNT);

    rvm_prng_init(&p1, 5, "swarm");
    rvm_sim_faults_configure(t, RVM_SIM_FAULTS_NONE, NULL, 0, &p1, c1);
    for (uint32_t i = 0; i < n; i++) {
        assert_false(c1[i].enabled);
    }
    rvm_prng_init(&p1, 5, "swarm");
    rvm_sim_faults_configure(t, RVM_SIM_FAULTS_DEFAULT, NULL, 0, &p1, c1);
    for (uint32_t i = 0; i < n; i++) {
        const struct rvm_sim_fault_spec *s = rvm_sim_fault_spec(t, i);
        assert_int_equal(c1[i].enabled, (s->flags & RVM_SIM_FAULT_DEFAULT) != 0);
        assert_int_equal(c1[i].num, s->num);
    }
    assert_false(c1[bitflip].enabled);

    /* swarm: deterministic per seed, varies across seeds, never explicit-only kinds */
    uint32_t differs = 0;
    for (uint64_t seed = 1; seed <= 64; seed++) {
        rvm_prng_init(&p1, seed, "swarm");
        rvm_prng_init(&p2, seed, "swarm");
        rvm_sim_faults_configure(t, RVM_SIM_FAULTS_SWARM, NULL, 0, &p1, c1);
        rvm_sim_faults_configure(t, RVM_SIM_FAULTS_SWARM, NULL, 0, &p2, c2);
        assert_true(conf_equal(c1, c2, n));
        assert_false(c1[bitflip].enabled);
        for (uint32_t i = 0; i < n; i++) {
            assert_true(!c1[i].enabled || (uint64_t)c1[i].num * 2 <= c1[i].den);
        }
        rvm_prng_init(&p2, seed + 1000, "swarm");
        rvm_sim_faults_configure(t, RVM_SIM_FAULTS_SWARM, NULL, 0, &p2, c2);
        differs += !conf_equal(c1, c2, n);
    }
    assert_true(differs > 32);

    /* overrides: enable an explicit-only kind at a given ratio, disable a default one */
    struct rvm_sim_fault_override ov[2] = {{(uint32_t)bitflip, true, 1, 3},
                                           {RVM_SIM_F_SINK_STALL, false, 0, 0}};
    rvm_prng_init(&p1, 5, "swarm");
    rvm_sim_faults_configure(t, RVM_SIM_FAULTS_DEFAULT, ov, 2, &p1, c1);
    assert_true(c1[bitflip].enabled);
    assert_int_equal(c1[bitflip].num, 1);
    assert_int_equal(c1[bitflip].den, 3);
    assert_false(c1[RVM_SIM_F_SINK_STALL].enabled);
    /* ... but none means none */
    rvm_prng_init(&p1, 5, "swarm");
    rvm_sim_faults_configure(t, RVM_SIM_FAULTS_NONE, ov, 2, &p1, c1);
    assert_false(c1[bitflip].enabled);
}

/* ------------------------------------------------------------------------------------------------
 * The probe target: a counter beside a witness log, with ways to misbehave
 * --------------------------------------------------------------------------------------------- */

enum { PROBE_OK, PROBE_SNEAK, PROBE_NOOP, PROBE_SCHEDULE };

struct probe {
    struct rvm_witness_log log;
    uint8_t ring[16][RVM_WITNESS_RECORD_BYTES];
    const struct rvm_hal *hal;
    uint64_t value;    /* protected state */
    uint64_t settle;   /* liveness rounds it needs */
    uint64_t progress; /* rounds so far */
};

static const struct rvm_sim_arg_spec probe_params[] = {
    {"settle", RVM_SIM_ARG_U64, 0, true, 0, 0, 1000000},
};
static const struct rvm_sim_arg_spec probe_by[] = {
    {"by", RVM_SIM_ARG_U64, 0, true, 1, 0, 100},
};
static const struct rvm_sim_op_spec probe_ops[] = {
    [PROBE_OK] = {"ok", "witness, then add `by`", 1, probe_by, -1},
    [PROBE_SNEAK] = {"sneak", "add `by` without a witness record", 1, probe_by, -1},
    [PROBE_NOOP] = {"noop", "nothing", 0, NULL, -1},
    [PROBE_SCHEDULE] = {"schedule", "an event that sneaks later", 0, NULL, -1},
};
static const char *const probe_queries[] = {"value"};

static void *probe_create(const uint64_t *params)
{
    struct probe *p = calloc(1, sizeof(*p));
    if (p != NULL) {
        p->settle = params[0];
    }
    return p;
}

static enum rvm_err probe_reset(void *inst, const struct rvm_sim_setup *s, struct rvm_sim *sim)
{
    struct probe *p = inst;
    (void)sim;
    const struct rvm_witness_config cfg = {.ring = p->ring,
                                           .ring_capacity = 16,
                                           .checkpoint_interval = 0,
                                           .hmac_key = s->hmac_key,
                                           .hmac_key_len = s->hmac_key_len};
    p->hal = s->hal;
    p->value = 0;
    p->progress = 0;
    return rvm_witness_init(&p->log, s->hal, &cfg);
}

static enum rvm_err probe_apply(void *inst, const struct rvm_sim_call *c, uint64_t *created,
                                struct rvm_sim *sim)
{
    struct probe *p = inst;
    (void)created;
    switch (c->op) {
    case PROBE_OK: {
        const struct rvm_witness_entry e = {.kind = RVM_ACT_DEMO, .payload = c->args[0]};
        enum rvm_err err = rvm_witness_append(&p->log, &e, NULL);
        if (err == RVM_OK) {
            p->value += c->args[0];
        }
        return err;
    }
    case PROBE_SNEAK:
        p->value += c->args[0];
        return RVM_OK;
    case PROBE_SCHEDULE:
        rvm_sim_schedule(sim, 500, 0, 7, 0);
        return RVM_OK;
    default:
        return RVM_OK;
    }
}

static void probe_event(void *inst, const struct rvm_sim_event *ev, struct rvm_sim *sim)
{
    struct probe *p = inst;
    (void)sim;
    if (ev->kind == RVM_SIM_EV_TARGET && ev->irq == 7) {
        p->value++; /* an event handler that mutates without a witness record */
    }
}

static void probe_inject(void *inst, uint32_t f, const uint64_t *args, struct rvm_sim *sim)
{
    (void)inst, (void)f, (void)args, (void)sim;
}

static bool probe_check(const void *inst, struct rvm_sim_verdict *v)
{
    const struct probe *p = inst;
    if (p->value == 13) {
        v->invariant = "probe.unlucky";
        snprintf(v->detail, sizeof(v->detail), "value is 13");
        return false;
    }
    return true;
}

static void probe_hash(const void *inst, struct rvm_sha256_ctx *ctx)
{
    const struct probe *p = inst;
    uint8_t b[8];
    rvm_store_le64(b, p->value);
    rvm_sha256_update(ctx, b, sizeof(b));
}

static struct rvm_witness_log *probe_witness(void *inst)
{
    return &((struct probe *)inst)->log;
}

static enum rvm_sim_live probe_liveness(void *inst, uint32_t round, struct rvm_sim *sim,
                                        struct rvm_sim_verdict *why)
{
    struct probe *p = inst;
    (void)round, (void)sim;
    (void)rvm_witness_flush(&p->log);
    if (p->progress++ >= p->settle) {
        return RVM_SIM_LIVE_DONE;
    }
    why->invariant = "probe.settle";
    snprintf(why->detail, sizeof(why->detail), "%" PRIu64 " of %" PRIu64 " rounds", p->progress,
             p->settle);
    return RVM_SIM_LIVE_PENDING;
}

static uint64_t probe_query(const void *inst, uint32_t q, uint64_t obj)
{
    (void)obj;
    (void)q;
    return ((const struct probe *)inst)->value;
}

static const struct rvm_sim_target probe_target = {
    .name = "probe",
    .summary = "test target",
    .classes = NULL,
    .nclasses = 0,
    .ops = probe_ops,
    .nops = 4,
    .params = probe_params,
    .nparams = 1,
    .queries = probe_queries,
    .nqueries = 1,
    .faults = NULL,
    .nfaults = 0,
    .create = probe_create,
    .destroy = free,
    .reset = probe_reset,
    .apply = probe_apply,
    .event = probe_event,
    .inject = probe_inject,
    .check = probe_check,
    .hash = probe_hash,
    .witness = probe_witness,
    .liveness = probe_liveness,
    .query = probe_query,
    .drained = NULL,
};

struct run_result {
    struct rvm_sim_outcome o;
};

static struct rvm_sim_outcome run_text(const char *text, uint64_t seed,
                                       enum rvm_sim_fault_mode mode)
{
    struct rvm_scenario s;
    struct rvm_scn_error err;
    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = rvm_openssl_crypto_new();
    assert_non_null(oc);
    rvm_openssl_crypto_bind(oc, &crypto);
    if (!rvm_scenario_parse("probe.scn", text, strlen(text), &s, &err)) {
        print_error("%u:%u: %s\n", err.line, err.col, err.msg);
        fail();
    }
    char msg[128];
    struct rvm_sim *sim = rvm_sim_new(&s, &crypto, msg, sizeof(msg));
    assert_non_null(sim);
    struct rvm_sim_options opt = {.seed = seed, .faults = mode};
    struct rvm_sim_outcome o;
    rvm_sim_run(sim, &s, &opt, &o);
    rvm_sim_free(sim);
    rvm_scenario_free(&s);
    rvm_openssl_crypto_free(oc);
    return o;
}

static int probe_setup(void **state)
{
    (void)state;
    rvm_sim_target_register_test(&probe_target);
    return 0;
}

static int probe_teardown(void **state)
{
    (void)state;
    rvm_sim_target_register_test(NULL);
    return 0;
}

static void test_oracle_quiet_on_good_steps(void **state)
{
    (void)state;
    struct rvm_sim_outcome o = run_text("target probe\nok by=5\nnoop\nok by=1\n"
                                        "expect value == 6\nexpect records == 2\n",
                                        1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_PASS);
    assert_int_equal(o.records, 2);
    assert_int_equal(o.steps, 3);
}

static void test_oracle_no_witness_no_mutation(void **state)
{
    (void)state;
    struct rvm_sim_outcome o =
        run_text("target probe\nok by=1\nok by=1\nsneak by=1\nok by=1\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_SAFETY);
    assert_string_equal(o.invariant, "no-witness-no-mutation");
    assert_int_equal(o.fail_step, 3);
    assert_int_equal(o.fail_line, 4);
    /* a sneak of 0 changes nothing: no violation */
    o = run_text("target probe\nok\nsneak by=0\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_PASS);
}

static void test_oracle_event_mutation(void **state)
{
    (void)state;
    struct rvm_sim_outcome o =
        run_text("target probe\nschedule\n@+2us\nok\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_SAFETY);
    assert_string_equal(o.invariant, "no-witness-no-mutation");
    assert_true(strstr(o.detail, "target") != NULL); /* it names the event, not an op */
}

static void test_oracle_target_check(void **state)
{
    (void)state;
    struct rvm_sim_outcome o =
        run_text("target probe\nok by=10\nok by=3\nok\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_SAFETY);
    assert_string_equal(o.invariant, "probe.unlucky");
    assert_int_equal(o.fail_step, 2);
}

static void test_liveness_bound(void **state)
{
    (void)state;
    struct rvm_sim_outcome o =
        run_text("target probe settle=5\nliveness 5\nok\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_PASS);
    o = run_text("target probe settle=6\nliveness 5\nok\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_LIVENESS);
    assert_string_equal(o.invariant, "probe.settle");
    assert_int_equal(o.phase, RVM_SIM_PHASE_LIVENESS);
}

static void test_expectations(void **state)
{
    (void)state;
    struct rvm_sim_outcome o =
        run_text("target probe\nok by=2\nexpect value == 3\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_EXPECTATION);
    assert_string_equal(o.invariant, "expect.value");
    o = run_text("target probe\nok\nexpect err WITNESS_FULL\n", 1, RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_EXPECTATION);
    assert_string_equal(o.invariant, "expect.err");
    o = run_text("target probe\n@7us noop\nexpect time == 7us\nexpect step == 1\n", 1,
                 RVM_SIM_FAULTS_NONE);
    assert_int_equal(o.cls, RVMSIM_EXIT_PASS);
}

static const char witness_random[] =
    "target witness ring=4 checkpoint=4 flush_period=15us\n"
    "cpus 3\n"
    "reserve n=2 as R\n"
    "append res=R\n"
    "random 400\n"
    "  append 20\n  reject 5\n  reserve 4 n=1..4\n  flush 3\n  seal 1\n"
    "end\n";

static void run_witness(const char *text, uint64_t seed, enum rvm_sim_fault_mode mode,
                        struct rvm_sim *sim, struct rvm_scenario *s, struct rvm_sim_outcome *o,
                        bool linearize)
{
    struct rvm_sim_options opt = {.seed = seed, .faults = mode, .linearize = linearize};
    (void)text;
    rvm_sim_run(sim, s, &opt, o);
}

static void test_engine_deterministic_and_seed_sensitive(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = rvm_openssl_crypto_new();
    rvm_openssl_crypto_bind(oc, &crypto);
    struct rvm_scenario s;
    struct rvm_scn_error err;
    char msg[128];
    assert_true(rvm_scenario_parse("w.scn", witness_random, strlen(witness_random), &s, &err));
    struct rvm_sim *a = rvm_sim_new(&s, &crypto, msg, sizeof(msg));
    struct rvm_sim *b = rvm_sim_new(&s, &crypto, msg, sizeof(msg));
    assert_non_null(a);
    assert_non_null(b);
    uint32_t distinct = 0;
    uint8_t prev[32] = {0};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        enum rvm_sim_fault_mode mode = seed % 2 ? RVM_SIM_FAULTS_SWARM : RVM_SIM_FAULTS_DEFAULT;
        struct rvm_sim_outcome x, y, z;
        run_witness(witness_random, seed, mode, a, &s, &x, false);
        run_witness(witness_random, seed, mode, a, &s, &y, false); /* same engine, reused */
        run_witness(witness_random, seed, mode, b, &s, &z, true);  /* another engine */
        assert_int_equal(x.cls, RVMSIM_EXIT_PASS);
        assert_memory_equal(&x, &y, sizeof(x));
        assert_memory_equal(&x, &z, sizeof(x));
        distinct += memcmp(prev, x.digest, 32) != 0;
        memcpy(prev, x.digest, 32);
    }
    assert_true(distinct >= 39);
    rvm_sim_free(a);
    rvm_sim_free(b);
    rvm_scenario_free(&s);
    rvm_openssl_crypto_free(oc);
}

/* Many events and site-fault visits per step: the `after=` counts of site faults matter. */
static const char witness_busy[] = "target witness ring=4 checkpoint=4 flush_period=1us\n"
                                   "cpus 2\n"
                                   "tick 20us\n"
                                   "enable timer_skew 1/4\n"
                                   "enable irq_spurious 1/2\n"
                                   "enable irq_lost 1/3\n"
                                   "random 100\n"
                                   "  append 5\n  reserve 1 n=1..3\n  flush 1\n"
                                   "end\n";

/* The linearised run replays the seeded one exactly: same records, digest, final state, events
 * delivered and end time. */
static void replay_check(const char *text, uint64_t base, uint32_t nseeds)
{
    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = rvm_openssl_crypto_new();
    rvm_openssl_crypto_bind(oc, &crypto);
    struct rvm_scenario s;
    struct rvm_scn_error err;
    char msg[128];
    assert_true(rvm_scenario_parse("w.scn", text, strlen(text), &s, &err));
    struct rvm_sim *sim = rvm_sim_new(&s, &crypto, msg, sizeof(msg));
    for (uint64_t seed = base; seed < base + nseeds; seed++) {
        enum rvm_sim_fault_mode mode = seed % 2 ? RVM_SIM_FAULTS_SWARM : RVM_SIM_FAULTS_DEFAULT;
        struct rvm_sim_outcome x, y;
        struct rvm_scenario lin;
        run_witness(text, seed, mode, sim, &s, &x, true);
        assert_true(rvm_sim_linearize(sim, &s, false, &lin));
        assert_int_equal(lin.nrandoms, 0);
        /* through text, as the shrinker writes it */
        char *out = print_to_string(&lin);
        struct rvm_scenario back;
        assert_true(rvm_scenario_parse("lin.scn", out, strlen(out), &back, &err));
        run_witness(NULL, seed + 77, RVM_SIM_FAULTS_NONE, sim, &back, &y, false);
        if (memcmp(x.digest, y.digest, 32) != 0 || x.records != y.records ||
            memcmp(x.state, y.state, 32) != 0 || x.events != y.events || x.time_ns != y.time_ns ||
            x.cls != y.cls) {
            print_error("seed %" PRIu64 ": replay differs (records %" PRIu64 " vs %" PRIu64
                        ", events %" PRIu64 " vs %" PRIu64 ")\n",
                        seed, x.records, y.records, x.events, y.events);
            fail();
        }
        free(out);
        rvm_scenario_free(&back);
        rvm_scenario_free(&lin);
    }
    rvm_sim_free(sim);
    rvm_scenario_free(&s);
    rvm_openssl_crypto_free(oc);
}

static void test_linearised_run_replays_exactly(void **state)
{
    (void)state;
    uint64_t base = test_seed("linearised_run_replays_exactly", 1000);
    replay_check(witness_random, base, 40);
    replay_check(witness_busy, base, 40);
}

/* ------------------------------------------------------------------------------------------------
 * One engine for many seeds (a sweep worker): a seed's run must not depend on what ran before
 * --------------------------------------------------------------------------------------------- */

#define HISTORY_SEEDS 12u

struct kernel_fixture {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_scenario scn;
};

static void kernel_fixture_load(struct kernel_fixture *f)
{
    struct rvm_scn_error err;
    f->oc = rvm_openssl_crypto_new();
    assert_non_null(f->oc);
    rvm_openssl_crypto_bind(f->oc, &f->crypto);
    assert_true(
        rvm_scenario_load(RVM_TEST_SOURCE_ROOT "/scenarios/kernel-smoke.scn", &f->scn, &err));
}

static void kernel_fixture_free(struct kernel_fixture *f)
{
    rvm_scenario_free(&f->scn);
    rvm_openssl_crypto_free(f->oc);
}

static struct rvm_sim *kernel_engine(struct kernel_fixture *f)
{
    char msg[256];
    struct rvm_sim *sim = rvm_sim_new(&f->scn, &f->crypto, msg, sizeof(msg));
    if (sim == NULL) {
        print_error("%s\n", msg);
    }
    assert_non_null(sim);
    return sim;
}

static void run_seed(struct rvm_sim *sim, struct kernel_fixture *f, uint64_t seed,
                     enum rvm_sim_fault_mode mode, struct rvm_sim_outcome *o)
{
    struct rvm_sim_options opt = {.seed = seed, .faults = mode, .nwnm_every = 1};
    rvm_sim_run(sim, &f->scn, &opt, o);
}

static void assert_same_outcome(uint64_t seed, const struct rvm_sim_outcome *fresh,
                                const struct rvm_sim_outcome *reused, const char *how)
{
    if (memcmp(fresh, reused, sizeof(*fresh)) != 0) {
        char a[65], b[65];
        rvm_hex(fresh->digest, 32, a);
        rvm_hex(reused->digest, 32, b);
        print_error("seed %" PRIu64 " %s: %s [%s] records=%" PRIu64 " digest=%s, fresh engine: %s "
                    "[%s] records=%" PRIu64 " digest=%s\n",
                    seed, how, rvm_sim_class_name(reused->cls), reused->invariant, reused->records,
                    b, rvm_sim_class_name(fresh->cls), fresh->invariant, fresh->records, a);
        fail();
    }
}

/* Kernel smoke seeds (swarm faults: RAM writes, failed runs, faults on the sink) run on a fresh
 * engine each, then on one engine in ascending order, on another in descending order with
 * unrelated runs between them (other seeds, other fault modes, a tape, state digests): every
 * outcome (class, digests, final state, chain, counts, probes) is the same byte for byte. */
static void test_kernel_seed_independent_of_history(void **state)
{
    (void)state;
    struct kernel_fixture f;
    kernel_fixture_load(&f);
    const uint64_t base = test_seed("kernel_seed_independent_of_history", 7000);
    static struct rvm_sim_outcome fresh[HISTORY_SEEDS];
    for (uint32_t i = 0; i < HISTORY_SEEDS; i++) {
        struct rvm_sim *sim = kernel_engine(&f);
        run_seed(sim, &f, base + i, RVM_SIM_FAULTS_SWARM, &fresh[i]);
        rvm_sim_free(sim);
    }

    struct rvm_sim *up = kernel_engine(&f);
    for (uint32_t i = 0; i < HISTORY_SEEDS; i++) {
        struct rvm_sim_outcome o;
        run_seed(up, &f, base + i, RVM_SIM_FAULTS_SWARM, &o);
        assert_same_outcome(base + i, &fresh[i], &o, "after the seeds below it");
    }
    rvm_sim_free(up);

    struct rvm_sim *down = kernel_engine(&f);
    for (uint32_t k = HISTORY_SEEDS; k-- > 0;) {
        struct rvm_sim_outcome o, other;
        run_seed(down, &f, base + k, RVM_SIM_FAULTS_SWARM, &o);
        assert_same_outcome(base + k, &fresh[k], &o, "after the seeds above it and other runs");
        run_seed(down, &f, base + 1000u + k, k % 2 ? RVM_SIM_FAULTS_DEFAULT : RVM_SIM_FAULTS_NONE,
                 &other);
        struct rvm_sim_options opt = {.seed = base + 2000u + k,
                                      .faults = RVM_SIM_FAULTS_SWARM,
                                      .nwnm_every = 1,
                                      .tape = true,
                                      .states = true,
                                      .epoch = 16};
        rvm_sim_run(down, &f.scn, &opt, &other);
    }
    rvm_sim_free(down);
    kernel_fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evq_matches_sorted_model),
        cmocka_unit_test(test_parse_errors_have_positions),
        cmocka_unit_test(test_parse_print_roundtrip),
        cmocka_unit_test(test_fault_modes),
        cmocka_unit_test_setup_teardown(test_oracle_quiet_on_good_steps, probe_setup,
                                        probe_teardown),
        cmocka_unit_test_setup_teardown(test_oracle_no_witness_no_mutation, probe_setup,
                                        probe_teardown),
        cmocka_unit_test_setup_teardown(test_oracle_event_mutation, probe_setup, probe_teardown),
        cmocka_unit_test_setup_teardown(test_oracle_target_check, probe_setup, probe_teardown),
        cmocka_unit_test_setup_teardown(test_liveness_bound, probe_setup, probe_teardown),
        cmocka_unit_test_setup_teardown(test_expectations, probe_setup, probe_teardown),
        cmocka_unit_test(test_engine_deterministic_and_seed_sensitive),
        cmocka_unit_test(test_linearised_run_replays_exactly),
        cmocka_unit_test(test_kernel_seed_independent_of_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
