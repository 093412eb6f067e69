/* SPDX-License-Identifier: MIT */
/* Fault sites, ambient faults and their record: what a run draws from its seed or its script. */
#include "engine_internal.h"

#include "exit_codes.h"
#include "prng.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void draw_fault_args(struct rvm_sim *sim, const struct rvm_sim_fault_spec *s, uint64_t *args)
{
    for (uint32_t i = 0; i < s->nargs; i++) {
        if (strcmp(s->args[i].name, "cpu") == 0) {
            args[i] = rvm_prng_below(&sim->faults, sim->ncpus);
        } else {
            args[i] = engine_draw_range(&sim->faults, s->args[i].lo, s->args[i].hi);
        }
    }
}

bool engine_record_fired(struct rvm_sim *sim, uint32_t kind, const uint64_t *args, uint32_t after,
                         bool scripted)
{
    const struct rvm_sim_fault_spec *s = kind_spec(sim, kind);
    if (!engine_grow((void **)&sim->fired, &sim->fired_cap, sim->nfired + 1, sizeof(*sim->fired))) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory recording a fault");
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
        engine_trace_args(sim, s->args, s->nargs, args);
        fprintf(sim->opt.trace, "%s\n", scripted ? " (scripted)" : "");
    }
    return true;
}

/*
 * A site of fault kind `kind`: true when it fires here. Armed entries (from `fault` lines) are
 * consumed first; every armed entry of this kind counts this visit against its `after`.
 */
bool engine_fault_site(struct rvm_sim *sim, uint32_t kind, uint64_t key, uint64_t *args_out)
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
    if (!engine_record_fired(sim, kind, args, visit, scripted)) {
        return false;
    }
    if (args_out != NULL) {
        memcpy(args_out, args, sizeof(uint64_t) * s->nargs);
    }
    return true;
}

bool rvm_sim_alloc_fails(struct rvm_sim *sim)
{
    return engine_fault_site(sim, RVM_SIM_F_ALLOC_FAIL, 0, NULL);
}

bool rvm_sim_target_site(struct rvm_sim *sim, uint32_t fault, uint64_t key, uint64_t *args)
{
    if (fault >= sim->target->nfaults) {
        return false;
    }
    return engine_fault_site(sim, RVM_SIM_F_COUNT + fault, key, args);
}

void engine_raise_irq(struct rvm_sim *sim, uint32_t irq, uint64_t when)
{
    if (irq < RVM_SIM_MAX_IRQS && sim->irq[irq].enabled) {
        (void)engine_push_event(sim, when, RVM_EVQ_IRQ, sim->irq[irq].cpu, irq, 0);
    }
}

/* Apply a non-site fault now. false when it cannot happen in this state (nothing recorded). */
bool engine_apply_fault(struct rvm_sim *sim, uint32_t kind, const uint64_t *args)
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
        return engine_push_event(sim, now + args[0], RVM_EVQ_SINK_READY, 0, 0, 0);
    case RVM_SIM_F_SINK_PARTIAL:
        sim->sink_limit = args[0] != 0 ? args[0] : 1;
        if (now + args[1] > sim->sink_partial_until) {
            sim->sink_partial_until = now + args[1];
        }
        return engine_push_event(sim, now + args[1], RVM_EVQ_SINK_READY, 0, 0, 0);
    case RVM_SIM_F_IRQ_SPURIOUS:
        return engine_push_event(sim, now, RVM_EVQ_IRQ, (uint32_t)(args[1] % sim->ncpus),
                                 (uint32_t)(args[0] % RVM_SIM_MAX_IRQS), 0);
    case RVM_SIM_F_CPU_OFFLINE: {
        uint32_t cpu = (uint32_t)(args[0] % sim->ncpus);
        if (!sim->online[cpu] || sim->nonline <= 1) {
            return false; /* never the last CPU: something must run */
        }
        sim->online[cpu] = false;
        sim->nonline--;
        sim->offline_until[cpu] = now + args[1];
        return engine_push_event(sim, now, RVM_EVQ_CPU_OFFLINE, cpu, 0, 0) &&
               engine_push_event(sim, now + args[1], RVM_EVQ_CPU_ONLINE, cpu, 0, 0);
    }
    default:
        return false; /* site kinds are armed, never applied directly */
    }
}

void engine_roll_ambient(struct rvm_sim *sim)
{
    for (uint32_t i = 0; i < sim->nambient && !sim->failed; i++) {
        uint32_t kind = sim->ambient[i];
        const struct rvm_sim_fault_conf *c = &sim->conf[kind];
        if (!rvm_prng_chance(&sim->faults, c->num, c->den)) {
            continue;
        }
        uint64_t args[RVM_SIM_MAX_ARGS] = {0};
        draw_fault_args(sim, kind_spec(sim, kind), args);
        if (engine_apply_fault(sim, kind, args)) {
            (void)engine_record_fired(sim, kind, args, 0, false);
        }
    }
}
