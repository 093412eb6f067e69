/* SPDX-License-Identifier: MIT */
/*
 * The store's coverage ledger table (schema version 4): per sweep and probe, how many seeds hit
 * the probe (docs/replay-store.md, "coverage"). Written by `rvmsim sweep --coverage --db`.
 */
#ifndef RVM_REPLAY_COVERAGE_H
#define RVM_REPLAY_COVERAGE_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* The migration from schema version 2 to 3: the `coverage` table. */
extern const char rvm_store_migrate_coverage[];

struct rvm_store_coverage_row {
    const char *probe;
    bool rare;
    uint64_t seeds_hit;
};

struct rvm_store_coverage {
    uint8_t scenario_sha256[32];
    const char *faults; /* none | default | swarm */
    uint64_t first_seed, last_seed;
    uint64_t seeds; /* seeds swept */
    uint32_t nrows;
    const struct rvm_store_coverage_row *rows;
};

/* Replace the ledger of this (scenario, faults, seed range), in a transaction of its own. */
enum rvm_store_status rvm_store_coverage_put(struct rvm_store *st,
                                             const struct rvm_store_coverage *c);

#endif /* RVM_REPLAY_COVERAGE_H */
