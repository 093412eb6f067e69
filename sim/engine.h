/* SPDX-License-Identifier: MIT */
/*
 * The simulation engine: runs one scenario with one seed against its target and judges it.
 *
 * The engine owns the simulated platform around the target: the virtual clock, the event queue
 * (timers, interrupts, CPU hot-plug, the target's own events), several simulated CPUs whose
 * interleaving the seed chooses, the witness sink, and the fault registry. One seed decides
 * everything through independent PRNG streams: "workload" (random operations and their
 * arguments), "interleave" (time between steps, which CPU runs a step), "faults" (which faults
 * fire, with what arguments), "swarm" (which fault and operation kinds a swarm run switches off).
 *
 * After every step (an operation, an event, a liveness round) the oracles run: the witness chain
 * of every record the sink received (verified incrementally as it arrives), the sink holding
 * exactly the drained records, the target's own check(), and "no witness, no mutation" (the
 * target's state fingerprint may change only in a step that appended a record). After the
 * workload, a liveness phase turns faults off and requires the target to settle within a bound;
 * then the log is sealed and the stored log verified end to end.
 *
 * An engine is created once per (target, parameters) and reused for many runs: a run allocates
 * nothing per operation (buffers grow geometrically and are kept between runs).
 */
#ifndef RVM_SIM_ENGINE_H
#define RVM_SIM_ENGINE_H

#include "faults.h"
#include "scenario.h"
#include "target.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rvm_sim_options {
    uint64_t seed;
    enum rvm_sim_fault_mode faults;
    FILE *trace;         /* one line per event when non-NULL */
    bool linearize;      /* record the executed run for rvm_sim_linearize (the shrinker) */
    uint32_t nwnm_every; /* "no witness, no mutation" every N steps; 0 or 1 = every step */
    /* State digests for the replay store (docs/simulator.md "Epoch boundaries"): with `states`,
     * at the end of the first step (or the reset) at which the appended record count reaches a
     * multiple of `epoch` (0: no such boundaries) beyond the last boundary, and at the end of
     * the run. Read-only: the run is the same with or without them. */
    bool states;
    uint64_t epoch;
    /* Also the state digest at the end of the step that appended record `state_at` (reconstruct
     * --at a sequence that is not an epoch boundary). */
    bool has_state_at;
    uint64_t state_at;
    /* Record the operation tape (docs/tape-format.md; rvm_sim_tape after the run). */
    bool tape;
    /* The final state digest (rvm_sim_outcome.state) only if the run fails; a passing run leaves
     * it zero. A sweep asks for it on passing seeds it neither re-runs nor stores. */
    bool state_if_failed;
};

/* A state digest after record `seq`: SHA-256 of "rvmsim sim state 1", the appended record count
 * (LE64) and the target's canonical state (its hash()). */
struct rvm_sim_state {
    uint64_t seq;
    uint8_t digest[32];
};

/* A fault that fired. */
struct rvm_sim_fired {
    uint64_t step; /* operation steps started when it fired */
    uint64_t time_ns;
    uint32_t kind; /* fault id (faults.h numbering) */
    uint32_t nargs;
    uint32_t after; /* site kinds: earlier visits of the same site in that step */
    bool scripted;  /* from a `fault` line rather than by chance */
    uint64_t args[RVM_SIM_MAX_ARGS];
    uint64_t records; /* witness records appended when it fired */
};

enum rvm_sim_phase {
    RVM_SIM_PHASE_SETUP,
    RVM_SIM_PHASE_WORKLOAD,
    RVM_SIM_PHASE_LIVENESS,
    RVM_SIM_PHASE_FINAL,
};

/* The result of a run. Fixed size, no pointers: sweeps send it between processes. */
struct rvm_sim_outcome {
    int32_t cls;        /* enum rvmsim_exit */
    uint32_t phase;     /* enum rvm_sim_phase where it failed (or FINAL on a pass) */
    char invariant[64]; /* stable name of what failed; "" on a pass */
    char detail[256];
    uint64_t fail_step; /* operation step (1-based) in which it failed; 0 when not in one */
    uint32_t fail_line; /* scenario line of that step; 0 when unknown */
    uint32_t reserved;
    uint64_t steps;   /* operation steps executed */
    uint64_t records; /* witness records appended */
    uint64_t faults_fired;
    uint64_t events;
    uint64_t time_ns;
    uint8_t digest[32];   /* witness log digest (DESIGN §3) */
    uint8_t state[32];    /* SHA-256 of the target's canonical state at the end */
    uint8_t chain[32];    /* the log's chain value after its last record */
    uint64_t checkpoints; /* checkpoints the sink received */
    uint64_t probes;      /* coverage probes the run hit (bit i: the target's probes[i]) */
};

const char *rvm_sim_class_name(int cls);
const char *rvm_sim_phase_name(uint32_t phase);

/* NULL (and `err` filled) when the target cannot be created with the scenario's parameters. */
struct rvm_sim *rvm_sim_new(const struct rvm_scenario *scn, const struct rvm_crypto *crypto,
                            char *err, size_t errlen);
void rvm_sim_free(struct rvm_sim *sim);

/*
 * Run `scn` (same target, parameters and cpus as the engine was created with). Returns
 * out->cls. The records, checkpoints and fired faults stay readable until the next run.
 */
int rvm_sim_run(struct rvm_sim *sim, const struct rvm_scenario *scn,
                const struct rvm_sim_options *opt, struct rvm_sim_outcome *out);

const uint8_t *rvm_sim_records(const struct rvm_sim *sim, uint64_t *count);
const struct rvm_witness_checkpoint *rvm_sim_checkpoints(const struct rvm_sim *sim,
                                                         uint64_t *count);
const struct rvm_sim_fired *rvm_sim_fired(const struct rvm_sim *sim, uint64_t *count);
const uint8_t *rvm_sim_hmac_key(const struct rvm_sim *sim, uint32_t *len);
/* The run's Ed25519 private key seed (derived from its seed, like the HMAC key). */
const uint8_t *rvm_sim_ed25519_seed(const struct rvm_sim *sim);
/* State digests at the epoch boundaries of the last run (options.epoch), ascending by seq. */
const struct rvm_sim_state *rvm_sim_states(const struct rvm_sim *sim, uint64_t *count);
/* The operation tape of the last run (options.tape): malloc'd into *bytes, ending with the
 * system log's record count and digest. false with *why when there is none. */
bool rvm_sim_tape(struct rvm_sim *sim, uint8_t **bytes, size_t *len, const char **why);
/* The digest requested with options.state_at: false when the run never appended that record. */
bool rvm_sim_state_at(const struct rvm_sim *sim, uint8_t digest[32]);

/*
 * The last run (made with opt.linearize) as a scenario that replays it without its seed: every
 * operation with its time, CPU and concrete arguments, every fault that fired as a `fault` line
 * where it fired, expectations where they were, and `faults none`. With `upto_fail`, steps after
 * the failing one are left out. `out` is initialised here; free it with rvm_scenario_free.
 */
bool rvm_sim_linearize(const struct rvm_sim *sim, const struct rvm_scenario *src, bool upto_fail,
                       struct rvm_scenario *out);

/*
 * Exploration (sim/explore.h, docs/simulator.md "Bounded exploration"): a run of `scn`'s steps,
 * then operations chosen one by one from its explore block, each judged by every oracle (the
 * target's sampled ones after every step). The liveness and final phases are not run. false
 * when the scenario's own steps failed (out->cls says how).
 */
bool rvm_sim_explore_begin(struct rvm_sim *sim, const struct rvm_scenario *scn,
                           const struct rvm_sim_options *opt, struct rvm_sim_outcome *out);
/* How many operations the explore block offers in the current state: its lines in order, each
 * with every CPU and every value of every argument (`*`: every live object of the class). */
uint64_t rvm_sim_explore_choices(struct rvm_sim *sim);
/* Run choice `choice` (< rvm_sim_explore_choices) as the next step; false when the run failed. */
bool rvm_sim_explore_step(struct rvm_sim *sim, uint64_t choice);
/* The explored state's digest: SHA-256 over the target's explore_hash (or hash). */
void rvm_sim_explore_digest(struct rvm_sim *sim, uint8_t out[32]);
/* The outcome so far (steps, records, the failure): ends the run like rvm_sim_run. */
int rvm_sim_explore_end(struct rvm_sim *sim);

#endif /* RVM_SIM_ENGINE_H */
