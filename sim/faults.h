/* SPDX-License-Identifier: MIT */
/*
 * The fault registry: the engine's own fault kinds, and the per-run configuration of every kind
 * (the engine's followed by the target's), BUGGIFY style.
 *
 * A run first decides which kinds are enabled and how likely each is (--faults none|default|swarm
 * plus the scenario's `enable` / `disable` lines); the swarm choices come from the seed's "swarm"
 * stream. Then, during the run, an enabled kind fires with its integer probability once per step
 * (ambient kinds: a sink stall, a spurious interrupt, a CPU going offline) or each time its site
 * is reached (site kinds: an interrupt delivery, a timer arming, an allocation, an operation's
 * arguments). Every firing is recorded with its step, time and arguments, which is exactly what a
 * scripted `fault` line needs, so the shrinker can replay a run's faults without its seed.
 *
 * Kernel-level kinds (hostile hypercalls, guest memory faults, dormant-memory bit flips, partition
 * crash, core crash and recovery) belong to the kernel target: it lists them in its faults[] table
 * and they are found by name like these.
 */
#ifndef RVM_SIM_FAULTS_H
#define RVM_SIM_FAULTS_H

#include "prng.h"
#include "target.h"

#include <stdbool.h>
#include <stdint.h>

enum rvm_sim_engine_fault {
    RVM_SIM_F_SINK_STALL,   /* the witness sink takes nothing for `duration` ns */
    RVM_SIM_F_SINK_PARTIAL, /* the sink takes at most `limit` records per drain for `duration` */
    RVM_SIM_F_TIMER_SKEW,   /* a timer armed on `cpu` fires `delta` ns late (or early) */
    RVM_SIM_F_IRQ_LOST,     /* a delivery of interrupt `irq` is lost */
    RVM_SIM_F_IRQ_DELAY,    /* a delivery of interrupt `irq` is delayed by `by` ns */
    RVM_SIM_F_IRQ_DUP,      /* a delivery of interrupt `irq` happens twice */
    RVM_SIM_F_IRQ_SPURIOUS, /* interrupt `irq` arrives on `cpu` though no device raised it */
    RVM_SIM_F_CPU_OFFLINE,  /* `cpu` goes offline for `duration` ns */
    RVM_SIM_F_ALLOC_FAIL,   /* an allocation (rvm_sim_alloc_fails) fails */
    RVM_SIM_F_HOSTILE_ARGS, /* a random operation gets a hostile value in argument `arg` */
    RVM_SIM_F_COUNT,
};

extern const struct rvm_sim_fault_spec rvm_sim_engine_faults[RVM_SIM_F_COUNT];

enum rvm_sim_fault_mode {
    RVM_SIM_FAULTS_NONE,
    RVM_SIM_FAULTS_DEFAULT,
    RVM_SIM_FAULTS_SWARM,
};

const char *rvm_sim_fault_mode_name(enum rvm_sim_fault_mode m);
bool rvm_sim_fault_mode_parse(const char *text, enum rvm_sim_fault_mode *out);

/* Kinds are numbered engine first, then the target's: id < RVM_SIM_F_COUNT is the engine's. */
uint32_t rvm_sim_fault_count(const struct rvm_sim_target *t);
const struct rvm_sim_fault_spec *rvm_sim_fault_spec(const struct rvm_sim_target *t, uint32_t id);
/* -1 when no kind has that name. */
int32_t rvm_sim_fault_find(const struct rvm_sim_target *t, const char *name);

/* A scenario's override of one kind: `enable KIND [N/D]` or `disable KIND`. */
struct rvm_sim_fault_override {
    uint32_t id;
    bool enable;
    uint32_t num, den; /* 0/0: the kind's base probability */
};

/* The per-run decision for one kind. */
struct rvm_sim_fault_conf {
    bool enabled;
    uint32_t num, den;
};

/*
 * Decide every kind's configuration for a run. `swarm` is the run's "swarm" stream (drawn from in
 * a fixed order for every kind, so adding a target kind does not change the engine kinds' draws).
 */
void rvm_sim_faults_configure(const struct rvm_sim_target *t, enum rvm_sim_fault_mode mode,
                              const struct rvm_sim_fault_override *ov, uint32_t nov,
                              struct rvm_prng *swarm, struct rvm_sim_fault_conf *out);

#endif /* RVM_SIM_FAULTS_H */
