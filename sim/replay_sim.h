/* SPDX-License-Identifier: MIT */
/* The replayers of simulator runs (sources "demo", "run" and "sweep"), for `rvmsim reconstruct`. */
#ifndef RVM_SIM_REPLAY_SIM_H
#define RVM_SIM_REPLAY_SIM_H

#include "replayer.h"

#include <stdbool.h>

extern const struct rvm_replayer rvm_demo_replayer; /* sim/replay_demo.c */
extern const struct rvm_replayer rvm_sim_run_replayer;
extern const struct rvm_replayer rvm_sim_sweep_replayer;

/* Add all three to the replayer registry (rvmsim's main does, before any command runs). */
bool rvm_sim_replayers_register(void);

#endif /* RVM_SIM_REPLAY_SIM_H */
