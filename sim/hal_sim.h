/* SPDX-License-Identifier: MIT */
/*
 * The simulated HAL: the core's platform when it runs inside rvmsim or a host test.
 *
 * Time is virtual (advanced only by the simulator), the console is a FILE or nothing, and witness
 * records go to a pluggable sink (memory for tests and the demo, SQLite for the replay store).
 * Platform hooks the foundation does not simulate yet answer RVM_ERR_UNSUPPORTED, which the core
 * treats like any refusal: fail closed.
 * For simulated AArch64 stage-2 / RISC-V PMP behind those hooks, see rvm_sim_platform_init
 * (hal_platform.h): the same HAL with the address-space and guest-memory hooks implemented.
 */
#ifndef RVM_SIM_HAL_SIM_H
#define RVM_SIM_HAL_SIM_H

#include "sink.h"

#include "rvm/hal.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rvm_sim_hal {
    struct rvm_hal hal; /* hand &sim->hal to the core */
    uint64_t now_ns;
    FILE *console; /* NULL: console output is dropped */
    const struct rvm_sink_ops *sink;
    void *sink_ctx;
    /* Fault knob: at most this many records are accepted per drain call (0 = sink stalled). */
    uint64_t drain_limit;
    bool checkpoint_stalled;
};

/* A HAL with time 0, no console, no sink (drains are refused) and the given crypto provider. */
void rvm_sim_hal_init(struct rvm_sim_hal *sim, const struct rvm_crypto *crypto);

static inline void rvm_sim_hal_set_sink(struct rvm_sim_hal *sim, const struct rvm_sink_ops *ops,
                                        void *ctx)
{
    sim->sink = ops;
    sim->sink_ctx = ctx;
}

static inline void rvm_sim_hal_advance(struct rvm_sim_hal *sim, uint64_t ns)
{
    sim->now_ns += ns;
}

#endif /* RVM_SIM_HAL_SIM_H */
