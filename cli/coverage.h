/* SPDX-License-Identifier: MIT */
/*
 * The coverage ledger of a sweep (`rvmsim sweep --coverage`): per probe of the target, how many
 * of the swept seeds hit it, and which probes no seed hit. Probes are the target's
 * (rvm_sim_target.probes); each run reports its hits as a bit set in its outcome.
 */
#ifndef RVMSIM_COVERAGE_H
#define RVMSIM_COVERAGE_H

#include "run_store.h"
#include "target.h"

#include <stdint.h>
#include <stdio.h>

struct rvm_coverage {
    const struct rvm_sim_target *target;
    uint64_t seeds;
    uint64_t hits[RVM_SIM_MAX_PROBES];
};

void rvm_coverage_init(struct rvm_coverage *c, const struct rvm_sim_target *target);
void rvm_coverage_add(struct rvm_coverage *c, uint64_t probes);

/* Probes no seed hit, `rare` ones included or not. */
uint32_t rvm_coverage_missing(const struct rvm_coverage *c, bool rare);

/* The ledger: one line per probe (seeds, share, rare), then the never-hit list. `brief`: only the
 * never-hit list. */
void rvm_coverage_print(FILE *f, const struct rvm_coverage *c, bool brief);

/* The counts for the run store (one row per probe, keyed by the sweep's scenario and seeds). */
void rvm_coverage_export(const struct rvm_coverage *c, struct rvm_run_coverage *out);

#endif /* RVMSIM_COVERAGE_H */
