/* SPDX-License-Identifier: MIT */
#include "faults.h"

#include <string.h>

#define US 1000u

static const struct rvm_sim_arg_spec a_sink_stall[] = {
    {.name = "duration", .type = RVM_SIM_ARG_U64, .lo = 1 * US, .hi = 60 * US},
};
static const struct rvm_sim_arg_spec a_sink_partial[] = {
    {.name = "limit", .type = RVM_SIM_ARG_U64, .lo = 1, .hi = 3},
    {.name = "duration", .type = RVM_SIM_ARG_U64, .lo = 1 * US, .hi = 60 * US},
};
static const struct rvm_sim_arg_spec a_timer_skew[] = {
    {.name = "cpu", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_CPUS - 1},
    {.name = "delta", .type = RVM_SIM_ARG_U64, .lo = 1, .hi = 50 * US},
    {.name = "early", .type = RVM_SIM_ARG_BOOL, .optional = true, .lo = 0, .hi = 1},
};
static const struct rvm_sim_arg_spec a_irq[] = {
    {.name = "irq", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_IRQS - 1},
};
static const struct rvm_sim_arg_spec a_irq_delay[] = {
    {.name = "irq", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_IRQS - 1},
    {.name = "by", .type = RVM_SIM_ARG_U64, .lo = 1, .hi = 50 * US},
};
static const struct rvm_sim_arg_spec a_irq_spurious[] = {
    {.name = "irq", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = 7},
    {.name = "cpu", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_CPUS - 1},
};
static const struct rvm_sim_arg_spec a_cpu_offline[] = {
    {.name = "cpu", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_CPUS - 1},
    {.name = "duration", .type = RVM_SIM_ARG_U64, .lo = 1 * US, .hi = 100 * US},
};
static const struct rvm_sim_arg_spec a_hostile[] = {
    {.name = "arg", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = RVM_SIM_MAX_ARGS - 1},
    {.name = "value", .type = RVM_SIM_ARG_U64, .lo = 0, .hi = UINT64_MAX},
};

#define DS (RVM_SIM_FAULT_DEFAULT | RVM_SIM_FAULT_SWARM)

const struct rvm_sim_fault_spec rvm_sim_engine_faults[RVM_SIM_F_COUNT] = {
    [RVM_SIM_F_SINK_STALL] = {"sink_stall", "the witness sink takes nothing for a while", 1,
                              a_sink_stall, 1, 100, DS},
    [RVM_SIM_F_SINK_PARTIAL] = {"sink_partial",
                                "the witness sink takes only a few records per drain", 2,
                                a_sink_partial, 1, 100, DS},
    [RVM_SIM_F_TIMER_SKEW] = {"timer_skew", "a timer fires late (or early)", 3, a_timer_skew, 1, 10,
                              DS | RVM_SIM_FAULT_SITE},
    [RVM_SIM_F_IRQ_LOST] = {"irq_lost", "an interrupt delivery is lost", 1, a_irq, 1, 20,
                            DS | RVM_SIM_FAULT_SITE},
    [RVM_SIM_F_IRQ_DELAY] = {"irq_delay", "an interrupt delivery is delayed", 2, a_irq_delay, 1, 20,
                             DS | RVM_SIM_FAULT_SITE},
    [RVM_SIM_F_IRQ_DUP] = {"irq_dup", "an interrupt is delivered twice", 1, a_irq, 1, 20,
                           DS | RVM_SIM_FAULT_SITE},
    [RVM_SIM_F_IRQ_SPURIOUS] = {"irq_spurious", "an interrupt no device raised", 2, a_irq_spurious,
                                1, 100, DS},
    [RVM_SIM_F_CPU_OFFLINE] = {"cpu_offline", "a CPU goes offline, then comes back", 2,
                               a_cpu_offline, 1, 200, DS},
    [RVM_SIM_F_ALLOC_FAIL] = {"alloc_fail", "an allocation fails", 0, NULL, 1, 20,
                              DS | RVM_SIM_FAULT_SITE},
    [RVM_SIM_F_HOSTILE_ARGS] = {"hostile_args",
                                "a random operation gets a hostile argument (garbage, stale or "
                                "wrong-type handle, boundary value)",
                                2, a_hostile, 1, 50, DS | RVM_SIM_FAULT_SITE},
};

const char *rvm_sim_fault_mode_name(enum rvm_sim_fault_mode m)
{
    switch (m) {
    case RVM_SIM_FAULTS_NONE:
        return "none";
    case RVM_SIM_FAULTS_DEFAULT:
        return "default";
    case RVM_SIM_FAULTS_SWARM:
        return "swarm";
    }
    return "?";
}

bool rvm_sim_fault_mode_parse(const char *text, enum rvm_sim_fault_mode *out)
{
    static const enum rvm_sim_fault_mode modes[] = {RVM_SIM_FAULTS_NONE, RVM_SIM_FAULTS_DEFAULT,
                                                    RVM_SIM_FAULTS_SWARM};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(text, rvm_sim_fault_mode_name(modes[i])) == 0) {
            *out = modes[i];
            return true;
        }
    }
    return false;
}

uint32_t rvm_sim_fault_count(const struct rvm_sim_target *t)
{
    return RVM_SIM_F_COUNT + (t != NULL ? t->nfaults : 0);
}

const struct rvm_sim_fault_spec *rvm_sim_fault_spec(const struct rvm_sim_target *t, uint32_t id)
{
    if (id < RVM_SIM_F_COUNT) {
        return &rvm_sim_engine_faults[id];
    }
    if (t != NULL && id - RVM_SIM_F_COUNT < t->nfaults) {
        return &t->faults[id - RVM_SIM_F_COUNT];
    }
    return NULL;
}

int32_t rvm_sim_fault_find(const struct rvm_sim_target *t, const char *name)
{
    uint32_t n = rvm_sim_fault_count(t);
    for (uint32_t i = 0; i < n; i++) {
        if (strcmp(rvm_sim_fault_spec(t, i)->name, name) == 0) {
            return (int32_t)i;
        }
    }
    return -1;
}

/* Swarm scales a kind's base probability by one of these (num, den), capped at 1/2. */
static const uint32_t swarm_scale[][2] = {{1, 4}, {1, 1}, {4, 1}};

void rvm_sim_faults_configure(const struct rvm_sim_target *t, enum rvm_sim_fault_mode mode,
                              const struct rvm_sim_fault_override *ov, uint32_t nov,
                              struct rvm_prng *swarm, struct rvm_sim_fault_conf *out)
{
    uint32_t n = rvm_sim_fault_count(t);
    for (uint32_t i = 0; i < n; i++) {
        const struct rvm_sim_fault_spec *s = rvm_sim_fault_spec(t, i);
        struct rvm_sim_fault_conf c = {false, s->num, s->den};
        /* Two draws per kind whatever the mode and flags, so the stream stays aligned. */
        bool on = rvm_prng_chance(swarm, 1, 2);
        uint64_t scale = rvm_prng_below(swarm, sizeof(swarm_scale) / sizeof(swarm_scale[0]));
        bool explicit_only = (s->flags & RVM_SIM_FAULT_EXPLICIT) != 0;
        switch (mode) {
        case RVM_SIM_FAULTS_NONE:
            break;
        case RVM_SIM_FAULTS_DEFAULT:
            c.enabled = !explicit_only && (s->flags & RVM_SIM_FAULT_DEFAULT) != 0;
            break;
        case RVM_SIM_FAULTS_SWARM:
            c.enabled = !explicit_only && (s->flags & RVM_SIM_FAULT_SWARM) != 0 && on;
            c.num = s->num * swarm_scale[scale][0];
            c.den = s->den * swarm_scale[scale][1];
            if (c.den != 0 && (uint64_t)c.num * 2 > c.den) {
                c.num = 1;
                c.den = 2;
            }
            break;
        }
        out[i] = c;
    }
    if (mode == RVM_SIM_FAULTS_NONE) {
        return; /* none means none: scripted `fault` lines are the only faults */
    }
    for (uint32_t k = 0; k < nov; k++) {
        if (ov[k].id >= n) {
            continue;
        }
        struct rvm_sim_fault_conf *c = &out[ov[k].id];
        c->enabled = ov[k].enable;
        if (ov[k].enable && ov[k].den != 0) {
            c->num = ov[k].num;
            c->den = ov[k].den;
        }
    }
}
