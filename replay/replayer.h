/* SPDX-License-Identifier: MIT */
/*
 * Replayers: re-execute a stored run from its metadata, for `rvmsim reconstruct`.
 *
 * A run's `source` (demo, run, ...) names the program that produced it. A replayer for that
 * source takes the run's stored metadata (seed, options, scenario text), executes it again
 * against the core, and reports every witness record it produces and the core's state digest at
 * the run's epoch boundaries (the same points at which the original run stored them) and at the
 * stop point. `reconstruct` compares both with the store and fails closed on any difference,
 * including a stored digest the replay does not reproduce and a runs whose source has no
 * replayer.
 *
 * The replay store knows no producer: each one (the demo, the scenario simulator) defines a
 * `const struct rvm_replayer` and registers it with rvm_replayer_register() before the command
 * runs (rvmsim's main registers the simulator's, sim/replay_sim.h).
 */
#ifndef RVM_REPLAY_REPLAYER_H
#define RVM_REPLAY_REPLAYER_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rvm_replay_observer {
    /* Every record, in order from seq 0. Returning false stops the replay. */
    bool (*record)(void *ctx, uint64_t seq, const uint8_t image[RVM_WITNESS_RECORD_BYTES]);
    /* The state digest after record `seq`. Returning false stops the replay. */
    bool (*state)(void *ctx, uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);
    void *ctx;
};

struct rvm_replayer {
    const char *source;      /* the runs.source this replayer re-executes */
    const char *description; /* one line, for messages */
    /*
     * Re-execute `run` until record `until` has been produced and reported (or the run ends
     * earlier), then report the state digest at the last record produced. Deterministic: the
     * same metadata gives the same records and digests. Returns false with a message when the
     * run cannot be re-executed (unknown options, missing seed, a failure of the replay itself,
     * or the observer stopped it).
     */
    bool (*replay)(const struct rvm_store_run *run, uint64_t until,
                   const struct rvm_replay_observer *observer, char *msg, size_t msglen);
};

/* The replayer for runs of `source`, or NULL. */
const struct rvm_replayer *rvm_replayer_find(const char *source);

/* Add a replayer (tests, other front ends); a later one for the same source wins.
 * False when the table (8 entries) is full. */
bool rvm_replayer_register(const struct rvm_replayer *r);

#endif /* RVM_REPLAY_REPLAYER_H */
