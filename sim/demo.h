/* SPDX-License-Identifier: MIT */
/*
 * The demo workload: seeded pseudo-random witness records appended through the core's witness
 * log on the simulated HAL. `rvmsim demo` runs it once into its sinks; the replay store's demo
 * replayer (sim/replay_demo.c) runs it again from the stored parameters to reconstruct a run.
 *
 * Its "state" is everything that decides what comes next: the log's chain and length, the
 * virtual clock and the PRNG streams. rvm_demo_run() reports a digest of that state at every
 * epoch boundary (after records epoch-1, 2*epoch-1, ... and after the last record), which is
 * what the store records and `rvmsim reconstruct` compares.
 */
#ifndef RVM_SIM_DEMO_H
#define RVM_SIM_DEMO_H

#include "hal_sim.h"

#include "rvm/hal.h"
#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_DEMO_MAX_RECORDS 100000000u
#define RVM_DEMO_MAX_RING    (1u << 20)

struct rvm_demo_params {
    uint64_t records;             /* 1..RVM_DEMO_MAX_RECORDS */
    uint64_t seed;                /* decides the workload and the checkpoint keys */
    uint64_t checkpoint_interval; /* 0 = only the seal */
    uint64_t ring;                /* in-core ring capacity: power of two, 2..RVM_DEMO_MAX_RING */
    uint64_t epoch;               /* state digest every `epoch` records; >= 1 */
    uint64_t shared_prefix;       /* the first N records are drawn from `prefix_seed`'s stream */
    uint64_t prefix_seed;
    bool portable; /* crypto provider used by the run (does not change the records) */
};

void rvm_demo_params_default(struct rvm_demo_params *p);

/* Range checks of every field; false with a message naming the field. */
bool rvm_demo_params_check(const struct rvm_demo_params *p, char *err, size_t errlen);

/*
 * Canonical text of the parameters other than the seed, as stored in a run's `options`:
 * "records=1000 checkpoint_interval=256 ring=256 epoch=256 shared_prefix=0 prefix_seed=0
 * crypto=openssl". Returns false if `cap` is too small.
 */
bool rvm_demo_params_format(const struct rvm_demo_params *p, char *out, size_t cap);

/* Strict inverse of rvm_demo_params_format (the seed is not part of the text): every key must
 * appear exactly once, nothing else may. */
bool rvm_demo_params_parse(const char *text, struct rvm_demo_params *p, char *err, size_t errlen);

/* Receives a state digest; returning false stops the run (rvm_demo_run returns RVM_ERR_INTERNAL).
 */
struct rvm_demo_observer {
    bool (*state)(void *ctx, uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);
    void *ctx;
};

struct rvm_demo_outcome {
    uint64_t records; /* appended */
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
    bool sealed;
    char message[160]; /* why it failed, when it did */
};

/*
 * Run the workload into `sink`. With `stop_after` < p->records the run stops after that many
 * records, drains them, reports the state digest at the last one and does not seal; otherwise
 * all records are appended and the log is sealed. `observer` may be NULL.
 * Returns RVM_OK, or the error that stopped it (message in out->message).
 */
enum rvm_err rvm_demo_run(const struct rvm_demo_params *p, const struct rvm_crypto *crypto,
                          const struct rvm_sink_ops *sink, void *sink_ctx,
                          const struct rvm_demo_observer *observer, uint64_t stop_after,
                          struct rvm_demo_outcome *out);

#endif /* RVM_SIM_DEMO_H */
