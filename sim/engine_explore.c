/* SPDX-License-Identifier: MIT */
/* Runs driven one chosen operation at a time, for bounded exploration (sim/explore.h). */
#include "engine_internal.h"

#include "exit_codes.h"

#include <inttypes.h>
#include <string.h>

bool rvm_sim_explore_begin(struct rvm_sim *sim, const struct rvm_scenario *scn,
                           const struct rvm_sim_options *opt, struct rvm_sim_outcome *out)
{
    if (sim->target->check_every_step != NULL) {
        sim->target->check_every_step(sim->inst, true);
    }
    if (!engine_start(sim, scn, opt, out)) {
        return false;
    }
    engine_workload(sim, scn);
    return !sim->failed;
}

/* Values argument `a` of entry `e` takes in the current state (0: the entry cannot run now). */
static uint64_t arg_values(const struct rvm_sim *sim, const struct rvm_sim_arg_spec *spec,
                           const struct scn_value *v)
{
    switch (v->kind) {
    case SCN_V_RANGE:
        return v->hi - v->lo + 1u;
    case SCN_V_ANY:
        return sim->pools[spec->cls].count;
    case SCN_V_DEFAULT:
        /* a required object left out ranges over every live object, like `*` */
        if (spec->type == RVM_SIM_ARG_OBJECT && !spec->optional) {
            return sim->pools[spec->cls].count;
        }
        return 1;
    default:
        return 1;
    }
}

static uint64_t entry_choices(const struct rvm_sim *sim, const struct scn_explore_entry *e)
{
    const struct rvm_sim_op_spec *spec = &sim->target->ops[e->op];
    uint64_t n = (uint64_t)e->cpu_hi - e->cpu_lo + 1u;
    for (uint32_t a = 0; a < spec->nargs && n != 0; a++) {
        n *= arg_values(sim, &spec->args[a], &e->args[a]);
    }
    return n;
}

uint64_t rvm_sim_explore_choices(struct rvm_sim *sim)
{
    const struct scn_explore *x = &sim->scn->explore;
    uint64_t n = 0;
    for (uint32_t i = 0; i < x->nentries; i++) {
        n += entry_choices(sim, &x->entries[i]);
    }
    return n;
}

/* Value number `k` of argument `a`: the call's value and how the linearisation writes it. */
static void arg_value(const struct rvm_sim *sim, const struct rvm_sim_arg_spec *spec,
                      const struct scn_value *v, uint64_t k, uint64_t *value, uint8_t *argk,
                      uint64_t *lin)
{
    *argk = SCN_V_LIT;
    switch (v->kind) {
    case SCN_V_LIT:
        *value = v->lo;
        break;
    case SCN_V_RANGE:
        *value = v->lo + k;
        break;
    case SCN_V_NONE:
        *value = RVM_SIM_NO_OBJECT;
        *argk = SCN_V_NONE;
        break;
    case SCN_V_NAME: {
        int32_t o = sim->name_obj[v->name];
        *value = o >= 0 ? sim->objs[o].handle : RVM_SIM_UNBOUND_OBJECT;
        if (o >= 0) {
            *argk = SCN_V_NAME;
            *lin = (uint64_t)o;
            return;
        }
        break;
    }
    default:
        if (spec->type == RVM_SIM_ARG_OBJECT && (v->kind == SCN_V_ANY || !spec->optional)) {
            uint32_t o = sim->pools[spec->cls].items[k];
            *value = sim->objs[o].handle;
            *argk = SCN_V_NAME;
            *lin = o;
            return;
        }
        *value = spec->type == RVM_SIM_ARG_OBJECT ? RVM_SIM_NO_OBJECT : spec->def;
        *argk = SCN_V_DEFAULT;
        break;
    }
    *lin = *value;
}

bool rvm_sim_explore_step(struct rvm_sim *sim, uint64_t choice)
{
    const struct scn_explore *x = &sim->scn->explore;
    for (uint32_t i = 0; i < x->nentries; i++) {
        const struct scn_explore_entry *e = &x->entries[i];
        uint64_t n = entry_choices(sim, e);
        if (choice >= n) {
            choice -= n;
            continue;
        }
        /* mixed radix, the CPU the lowest digit, then the arguments in order */
        const struct rvm_sim_op_spec *spec = &sim->target->ops[e->op];
        uint64_t ncpu = (uint64_t)e->cpu_hi - e->cpu_lo + 1u;
        struct rvm_sim_call call = {.op = e->op, .cpu = e->cpu_lo + (uint32_t)(choice % ncpu)};
        choice /= ncpu;
        uint8_t argk[RVM_SIM_MAX_ARGS] = {0};
        uint64_t lin[RVM_SIM_MAX_ARGS] = {0};
        for (uint32_t a = 0; a < spec->nargs; a++) {
            uint64_t m = arg_values(sim, &spec->args[a], &e->args[a]);
            arg_value(sim, &spec->args[a], &e->args[a], choice % m, &call.args[a], &argk[a],
                      &lin[a]);
            choice /= m;
        }
        engine_step_explore(sim, e->line, x->tick, &call, argk, lin);
        return !sim->failed;
    }
    engine_fail(sim, RVMSIM_EXIT_INTERNAL, "explore.choice",
                "choice beyond the %" PRIu64 " the explore block offers here",
                rvm_sim_explore_choices(sim));
    return false;
}

void rvm_sim_explore_digest(struct rvm_sim *sim, uint8_t out[32])
{
    static const char tag[] = "rvmsim explore state 1";
    struct rvm_sha256_ctx ctx;
    rvm_sha256_init(&ctx, &sim->crypto);
    rvm_sha256_update(&ctx, (const uint8_t *)tag, sizeof(tag) - 1);
    if (sim->target->explore_hash != NULL) {
        sim->target->explore_hash(sim->inst, &ctx);
    } else {
        sim->target->hash(sim->inst, &ctx);
    }
    rvm_sha256_final(&ctx, out);
}

int rvm_sim_explore_end(struct rvm_sim *sim)
{
    if (!sim->failed) {
        sim->out->cls = RVMSIM_EXIT_PASS;
        sim->out->phase = RVM_SIM_PHASE_WORKLOAD;
    }
    return engine_finish(sim);
}
