/* SPDX-License-Identifier: MIT */
/* Scenario steps: scripted and random operations, faults, expectations and waits. */
#include "engine_internal.h"

#include "events.h"
#include "exit_codes.h"
#include "prng.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *err_name(enum rvm_err e)
{
    return rvm_err_name(e);
}

static void step_begin(struct rvm_sim *sim, uint32_t line)
{
    sim->cur_line = line;
    memset(sim->occ, 0, sizeof(*sim->occ) * sim->nkinds);
}

/* Opens an operation step of scenario line `line`: counts it, begins it and rolls the ambient
 * faults; returns the fired-fault mark from which the step's faults are reported. */
static uint64_t step_open(struct rvm_sim *sim, uint32_t line)
{
    sim->step++;
    sim->out->steps = sim->step;
    step_begin(sim, line);
    uint64_t mark = sim->nfired;
    if (sim->faults_on) {
        engine_roll_ambient(sim);
    }
    return mark;
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
        uint64_t before = engine_pre_step(sim);
        err = sim->target->apply(sim->inst, call, &created, sim);
        sim->last_err = err;
        if (err == RVM_OK && spec->creates >= 0) {
            created_obj = engine_add_object(sim, (uint32_t)spec->creates, created, bind);
        }
        if (sim->opt.trace != NULL) {
            fprintf(sim->opt.trace, "t=%" PRIu64 " step=%" PRIu64 " cpu%u %s", now_ns(sim),
                    sim->step, call->cpu, spec->name);
            engine_trace_args(sim, spec->args, spec->nargs, call->args);
            fprintf(sim->opt.trace, " -> %s", err_name(err));
            if (created_obj >= 0) {
                fprintf(sim->opt.trace, " (new %s 0x%" PRIx64 ")",
                        sim->target->classes[spec->creates], created);
            }
            fputc('\n', sim->opt.trace);
        }
        engine_post_step(sim, before, spec->name);
    } else if (!sim->failed) {
        sim->last_err = err;
        rvm_sim_tracef(sim, "step=%" PRIu64 " cpu%u %s -> CPU_OFFLINE (not run)", sim->step,
                       call->cpu, spec->name);
    }

    if (sim->opt.linearize) {
        engine_lin_faults(sim, mark, sim->nfired);
        struct lin_entry *e = engine_lin_add(sim);
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
        engine_lin_mark_fail(sim);
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

void engine_step_op(struct rvm_sim *sim, const struct scn_step *st)
{
    uint64_t mark = step_open(sim, st->line);
    engine_advance_to(sim, step_time(sim, st));

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

void engine_step_explore(struct rvm_sim *sim, uint32_t line, uint64_t tick,
                         struct rvm_sim_call *call, const uint8_t *argk, const uint64_t *lin_args)
{
    uint64_t mark = step_open(sim, line);
    engine_advance_to(sim, now_ns(sim) + tick);
    run_op(sim, call, -1, argk, lin_args, mark);
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
    const uint64_t *upto = &sim->entry_upto[sim->block_first[block]];
    const uint32_t *pick_table =
        sim->block_pick[block] != NO_PICK_TABLE ? &sim->pick_entry[sim->block_pick[block]] : NULL;
    struct rvm_prng *w = &sim->workload;

    for (uint32_t attempt = 0; attempt < GEN_ATTEMPTS; attempt++) {
        /* the first entry whose running weight passes the pick: a switched-off entry adds 0.
         * The running weights never decrease, so that entry's index is the number of them the
         * pick reaches: looked up in the block's pick table, or counted without a branch on the
         * pick (a loop exit at a random entry is a mispredicted branch in every step). */
        const uint64_t pick = rvm_prng_below(w, sim->block_total[block]);
        uint32_t first = 0;
        if (pick_table != NULL && pick < sim->block_total[block]) {
            first = pick_table[pick];
        } else {
            for (uint32_t i = 0; i < r->nentries; i++) { /* bound: the block's entries */
                first += upto[i] <= pick;
            }
        }
        if (first == r->nentries) {
            return false;
        }
        const struct scn_random_entry *e = &r->entries[first];
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
                call->args[a] = engine_draw_range(w, v->lo, v->hi);
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
                call->args[a] = engine_draw_range(w, as->lo, as->hi);
                break;
            }
            lin_args[a] = call->args[a];
        }
        if (!ok) {
            continue;
        }
        if (spec->nargs != 0 && engine_fault_site(sim, RVM_SIM_F_HOSTILE_ARGS, e->op, NULL)) {
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

void engine_step_random(struct rvm_sim *sim, uint32_t block, uint32_t line)
{
    uint64_t mark = step_open(sim, line);
    uint64_t delta = 1 + rvm_prng_below(&sim->interleave, 2 * sim->scn->tick);
    engine_advance_to(sim, now_ns(sim) + delta);
    if (sim->failed) {
        if (sim->opt.linearize) {
            engine_lin_faults(sim, mark, sim->nfired);
            engine_lin_wait(sim);
            engine_lin_mark_fail(sim);
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
            engine_lin_faults(sim, mark, sim->nfired);
            engine_lin_wait(sim);
        }
        return;
    }
    run_op(sim, &call, -1, argk, lin_args, mark);
}

/* The handle of the object a query asks about, as an operation argument would get it. */
static uint64_t query_object(const struct rvm_sim *sim, const struct scn_value *o)
{
    switch (o->kind) {
    case SCN_V_NAME: {
        int32_t idx = sim->name_obj[o->name];
        return idx >= 0 ? sim->objs[idx].handle : RVM_SIM_UNBOUND_OBJECT;
    }
    case SCN_V_LIT:
        return o->lo;
    default:
        return RVM_SIM_NO_OBJECT;
    }
}

static uint64_t query_value(struct rvm_sim *sim, uint8_t src, uint32_t index,
                            const struct scn_value *obj)
{
    switch (src) {
    case SCN_Q_TARGET:
        return sim->target->query(sim->inst, index, query_object(sim, obj));
    case SCN_Q_FIRED:
        return index < sim->nkinds ? sim->fired_count[index] : 0;
    default:
        break;
    }
    switch (index) {
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

void engine_delta_snapshot(struct rvm_sim *sim, uint32_t i)
{
    const struct rvm_scenario *scn = sim->scn;
    for (uint32_t j = i + 1; j < scn->nsteps; j++) { /* bound: the steps up to the next op */
        const struct scn_step *st = &scn->steps[j];
        if (st->kind == SCN_OP || st->kind == SCN_RANDOM) {
            return;
        }
        if (st->kind == SCN_EXPECT && st->expect == SCN_EXPECT_QUERY && st->delta &&
            st->delta_slot < RVM_SCN_MAX_DELTAS) {
            sim->delta_base[st->delta_slot] = query_value(sim, st->qsrc, st->qindex, &st->qobj);
        }
    }
}

static const char *query_name(const struct rvm_sim *sim, uint8_t src, uint32_t index,
                              const struct scn_value *obj, char *buf, size_t n)
{
    const char *name = src == SCN_Q_TARGET  ? sim->target->queries[index]
                       : src == SCN_Q_FIRED ? kind_spec(sim, index)->name
                                            : rvm_scn_engine_queries[index];
    const char *prefix = src == SCN_Q_FIRED ? "fired." : "";
    if (obj->kind == SCN_V_NAME) {
        snprintf(buf, n, "%s%s(%s)", prefix, name, sim->scn->names[obj->name].text);
    } else if (obj->kind == SCN_V_LIT) {
        snprintf(buf, n, "%s%s(0x%" PRIx64 ")", prefix, name, obj->lo);
    } else {
        snprintf(buf, n, "%s%s", prefix, name);
    }
    return buf;
}

static bool compare(enum scn_cmp cmp, bool is_signed, uint64_t v, uint64_t x)
{
    int64_t sv = (int64_t)v, sx = (int64_t)x;
    switch (cmp) {
    case SCN_EQ:
        return v == x;
    case SCN_NE:
        return v != x;
    case SCN_LT:
        return is_signed ? sv < sx : v < x;
    case SCN_LE:
        return is_signed ? sv <= sx : v <= x;
    case SCN_GT:
        return is_signed ? sv > sx : v > x;
    default:
        return is_signed ? sv >= sx : v >= x;
    }
}

static void check_query(struct rvm_sim *sim, const struct scn_step *st)
{
    static const char *const cmps[] = {"==", "!=", "<", "<=", ">", ">="};
    uint64_t v = query_value(sim, st->qsrc, st->qindex, &st->qobj), x = st->value;
    if (st->delta) {
        v -= st->delta_slot < RVM_SCN_MAX_DELTAS ? sim->delta_base[st->delta_slot] : 0;
    } else if (st->rhs_query) {
        x = query_value(sim, st->rqsrc, st->rqindex, &st->rqobj);
    }
    if (compare((enum scn_cmp)st->cmp, st->delta, v, x)) {
        return;
    }
    char buf[96], rbuf[96], inv[64];
    const char *name = query_name(sim, st->qsrc, st->qindex, &st->qobj, buf, sizeof(buf));
    snprintf(inv, sizeof(inv), "expect.%.56s", name);
    if (st->delta) {
        engine_fail(sim, RVMSIM_EXIT_EXPECTATION, inv,
                    "expected %s delta %s %+" PRId64 ", got %+" PRId64, name, cmps[st->cmp],
                    (int64_t)x, (int64_t)v);
    } else if (st->rhs_query) {
        const char *rname = query_name(sim, st->rqsrc, st->rqindex, &st->rqobj, rbuf, sizeof(rbuf));
        engine_fail(sim, RVMSIM_EXIT_EXPECTATION, inv,
                    "expected %s %s %s, got %" PRIu64 " %s %" PRIu64, name, cmps[st->cmp], rname, v,
                    cmps[st->cmp], x);
    } else {
        engine_fail(sim, RVMSIM_EXIT_EXPECTATION, inv, "expected %s %s %" PRIu64 ", got %" PRIu64,
                    name, cmps[st->cmp], x, v);
    }
}

static void check_expect(struct rvm_sim *sim, const struct scn_step *st)
{
    switch (st->expect) {
    case SCN_EXPECT_OK:
        if (sim->last_err != RVM_OK) {
            engine_fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.ok", "expected ok, got %s",
                        err_name(sim->last_err));
        }
        return;
    case SCN_EXPECT_REFUSED:
        if (sim->last_err == RVM_OK) {
            engine_fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.refused",
                        "expected a refusal, got ok");
        }
        return;
    case SCN_EXPECT_ERR:
        if ((uint64_t)sim->last_err != st->value) {
            engine_fail(sim, RVMSIM_EXIT_EXPECTATION, "expect.err", "expected %s, got %s",
                        st->value <= UINT32_MAX && rvm_err_is_known((uint32_t)st->value)
                            ? rvm_err_name((enum rvm_err)st->value)
                            : "an unknown error",
                        err_name(sim->last_err));
        }
        return;
    default:
        check_query(sim, st);
        return;
    }
}

/* Fault, expect and wait lines: with a timestamp they advance the clock first. */
void engine_step_other(struct rvm_sim *sim, const struct scn_step *st, uint32_t src_index)
{
    uint64_t mark = sim->nfired, mid = mark;
    bool timed = st->time_kind != SCN_TIME_NONE;
    sim->cur_line = st->line;
    if (timed) {
        step_begin(sim, st->line);
        engine_advance_to(sim, step_time(sim, st));
        mid = sim->nfired;
        if (sim->opt.linearize) {
            engine_lin_faults(sim, mark, mid);
            engine_lin_wait(sim);
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
                engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.armed-faults",
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
        } else if (engine_apply_fault(sim, st->index, args)) {
            (void)engine_record_fired(sim, st->index, args, 0, true);
        } else {
            rvm_sim_tracef(sim, "fault %s has no effect now", s->name);
        }
    } else if (!sim->failed && st->kind == SCN_EXPECT) {
        check_expect(sim, st);
    }
    if (sim->opt.linearize) {
        engine_lin_faults(sim, mid, sim->nfired);
        if (st->kind == SCN_EXPECT) {
            struct lin_entry *e = engine_lin_add(sim);
            if (e != NULL) {
                e->kind = SCN_EXPECT;
                e->index = src_index;
            }
        }
        engine_lin_mark_fail(sim);
    }
}
