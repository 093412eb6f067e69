/* SPDX-License-Identifier: MIT */
/* The run as it happened, recorded step by step and written out as a seedless scenario. */
#include "engine_internal.h"

#include "exit_codes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lin_entry *engine_lin_add(struct rvm_sim *sim)
{
    if (!sim->opt.linearize) {
        return NULL;
    }
    if (!engine_grow((void **)&sim->lin, &sim->lin_cap, sim->nlin + 1, sizeof(*sim->lin))) {
        engine_fail(sim, RVMSIM_EXIT_INTERNAL, "engine.memory", "out of memory recording the run");
        return NULL;
    }
    struct lin_entry *e = &sim->lin[sim->nlin++];
    memset(e, 0, sizeof(*e));
    e->creates = -1;
    return e;
}

/* Fired faults [from, to) as `fault` lines (hostile arguments live in the op lines instead). */
void engine_lin_faults(struct rvm_sim *sim, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to && sim->opt.linearize; i++) {
        const struct rvm_sim_fired *f = &sim->fired[i];
        if (f->kind == RVM_SIM_F_HOSTILE_ARGS) {
            continue;
        }
        struct lin_entry *e = engine_lin_add(sim);
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

void engine_lin_wait(struct rvm_sim *sim)
{
    struct lin_entry *e = engine_lin_add(sim);
    if (e != NULL) {
        e->kind = SCN_WAIT;
        e->time_kind = SCN_TIME_ABS;
        e->time = now_ns(sim);
    }
}

void engine_lin_mark_fail(struct rvm_sim *sim)
{
    if (sim->failed && sim->fail_lin < 0) {
        sim->fail_lin = (int64_t)sim->nlin;
    }
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
