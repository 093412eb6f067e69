/* SPDX-License-Identifier: MIT */
/*
 * The run sink: where the simulator puts finished runs (`--db`).
 *
 * Two implementations: an in-memory one (the default: numbers runs and keeps nothing) and the
 * replay store (run_store_replay.c over replay/store.h, docs/replay-store.md), the only SQLite
 * path. A run is stored after it has finished, from what the engine kept of it (records as the
 * sink received them, checkpoints, state digests at epoch boundaries, fired faults, outcome), so
 * a database can never make a run behave differently, and a run is stored whole or not at all.
 *
 * `full` stores the witness log with the summary; otherwise only the summary row (a sweep's
 * passing runs). Summaries are buffered and written in batches: `commit` writes what is
 * buffered (the sink also does every few thousand runs, every two seconds of a slow sweep, and
 * before a full run, so rows keep the order of the calls).
 */
#ifndef RVM_SIM_RUN_STORE_H
#define RVM_SIM_RUN_STORE_H

#include "engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rvm_run_info {
    const char *source;        /* "run" or "sweep": selects the replayer */
    const char *scenario_path; /* as given, for the reproduction command */
    const char *scenario_text; /* the scenario's bytes (NUL-terminated) */
    const struct rvm_sim_target *target;
    uint64_t seed;
    enum rvm_sim_fault_mode faults;
    uint32_t nwnm_every; /* 0 or 1: every step */
    uint64_t epoch;      /* state digests every `epoch` records (options.epoch) */
    const char *origin;  /* outcome detail: "run", "sweep", "sweep-recheck" */
};

/* A sweep's coverage ledger (`--coverage`): per probe, the seeds of first_seed..last_seed that
 * hit it. */
struct rvm_run_coverage {
    const char *scenario_text; /* identifies the scenario (stored by its SHA-256) */
    enum rvm_sim_fault_mode faults;
    uint64_t first_seed, last_seed;
    uint64_t seeds; /* seeds swept */
    uint32_t nprobes;
    const struct rvm_sim_probe *probes;
    const uint64_t *hits;
};

struct rvm_run_sink_ops {
    /* Store one finished run. `sim` holds it (rvm_sim_records, ...) when `full`; the summary
     * comes from `o` either way. *run_id receives the store's id, or 0 for a summary that is
     * buffered until its batch is written (commit, or a few thousand more). */
    bool (*store)(void *ctx, const struct rvm_run_info *info, const struct rvm_sim_outcome *o,
                  const struct rvm_sim *sim, bool full, uint64_t *run_id);
    bool (*commit)(void *ctx);
    void (*close)(void *ctx);
    const char *(*error)(void *ctx); /* why the last call failed */
    /* Optional: store a sweep's coverage ledger (NULL: the sink keeps none). */
    bool (*coverage)(void *ctx, const struct rvm_run_coverage *c);
};

struct rvm_run_sink {
    const struct rvm_run_sink_ops *ops;
    void *ctx;
};

/* db_path NULL: the in-memory sink. Otherwise a replay store (created if needed). */
bool rvm_run_sink_open(struct rvm_run_sink *s, const char *db_path, char *err, size_t errlen);
void rvm_run_sink_close(struct rvm_run_sink *s);

bool rvm_run_sink_open_memory(struct rvm_run_sink *s);
bool rvm_run_sink_open_replay(struct rvm_run_sink *s, const char *path, char *err, size_t errlen);

bool rvm_run_store(struct rvm_run_sink *s, const struct rvm_run_info *info,
                   const struct rvm_sim_outcome *o, const struct rvm_sim *sim, bool full,
                   uint64_t *run_id);

/*
 * The metadata of a simulator run as the replay store keeps it, shared by the sink and the
 * replayer so that what one writes the other reads:
 *   options  "faults=<none|default|swarm> nwnm_every=<N> epoch=<K>"
 *   command  "rvmsim run <file> --seed <n> --faults <mode> [--nwnm-every N] [--epoch K]"
 */
void rvm_run_options_format(char *buf, size_t len, enum rvm_sim_fault_mode faults,
                            uint32_t nwnm_every, uint64_t epoch);
bool rvm_run_options_parse(const char *text, enum rvm_sim_fault_mode *faults, uint32_t *nwnm_every,
                           uint64_t *epoch, char *err, size_t errlen);

#define RVM_RUN_DEFAULT_EPOCH 64u

#endif /* RVM_SIM_RUN_STORE_H */
