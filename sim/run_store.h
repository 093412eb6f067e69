/* SPDX-License-Identifier: MIT */
/*
 * The run sink: where the simulator puts finished runs (`--db`).
 *
 * THIS IS THE SEAM to the replay store (replay/, DESIGN §5). The simulator only ever talks to
 * struct rvm_run_sink; two implementations live here: an in-memory one (the default: counts what
 * it is given, keeps nothing) and a deliberately small SQLite one (run_store_sqlite.c, tables
 * prefixed sim_). At merge, replay/'s store implements these five entry points (or
 * rvm_run_sink_open() is pointed at it) and run_store_sqlite.c can go; nothing else changes.
 *
 * Order of calls for one run: begin_run, then (only for runs stored in full) records in order and
 * checkpoints, then end_run. `commit` ends a batch (sweeps store many runs per transaction).
 */
#ifndef RVM_SIM_RUN_STORE_H
#define RVM_SIM_RUN_STORE_H

#include "engine.h"

#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rvm_run_info {
    const char *scenario;        /* path as given */
    const char *scenario_sha256; /* hex of the file's bytes, or NULL */
    const char *target;
    uint64_t seed;
    const char *faults; /* none|default|swarm */
    const char *build;  /* rvmsim version and git describe */
    const char *origin; /* "run", "sweep", "sweep-recheck", "shrink" */
};

struct rvm_run_sink_ops {
    bool (*begin_run)(void *ctx, const struct rvm_run_info *info, uint64_t *run_id);
    bool (*records)(void *ctx, uint64_t run_id, uint64_t first_seq, const uint8_t *images,
                    uint64_t count);
    bool (*checkpoint)(void *ctx, uint64_t run_id, const struct rvm_witness_checkpoint *cp);
    /* The summary, and the faults that fired (names resolved through `target`). */
    bool (*end_run)(void *ctx, uint64_t run_id, const struct rvm_sim_outcome *o,
                    const struct rvm_sim_target *target, const struct rvm_sim_fired *faults,
                    uint64_t nfaults);
    bool (*commit)(void *ctx);
    void (*close)(void *ctx);
};

struct rvm_run_sink {
    const struct rvm_run_sink_ops *ops;
    void *ctx;
};

/* db_path NULL: the in-memory sink. Otherwise a SQLite file (":memory:" works too). */
bool rvm_run_sink_open(struct rvm_run_sink *s, const char *db_path, char *err, size_t errlen);
void rvm_run_sink_close(struct rvm_run_sink *s);

bool rvm_run_sink_open_memory(struct rvm_run_sink *s);
bool rvm_run_sink_open_sqlite(struct rvm_run_sink *s, const char *path, char *err, size_t errlen);

/*
 * Store the run an engine just finished: begin, then (when `full`) every record the sink received
 * and every checkpoint, then the summary with the fired faults. *run_id receives the id.
 */
bool rvm_run_store(struct rvm_run_sink *s, const struct rvm_run_info *info,
                   const struct rvm_sim *sim, const struct rvm_sim_target *target,
                   const struct rvm_sim_outcome *o, bool full, uint64_t *run_id);

#endif /* RVM_SIM_RUN_STORE_H */
