/* SPDX-License-Identifier: MIT */
/* A sweep's failure report: the failures grouped by class and invariant, each group with its
 * count, first seeds, the shortest failing run's reproduce command and the `shrink` command to
 * run on it; as text or as the `sweep --json` object (docs/json.md "sweep"). */
#ifndef RVM_CLI_SWEEP_REPORT_H
#define RVM_CLI_SWEEP_REPORT_H

#include "faults.h"
#include "json.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sweep_failure {
    uint64_t seed;
    int cls;
    char invariant[64];
    uint64_t steps;   /* operation steps the failing run executed: "shortest" means fewest */
    uint64_t records; /* then fewest records */
    char text[700];   /* the one-line description printed as it was found */
};

/* What the report needs to know about the sweep. */
struct sweep_report_scope {
    const char *path;
    enum rvm_sim_fault_mode mode;
};

/* Failures of one class and invariant. */
struct sweep_group {
    int cls;
    const char *invariant;
    size_t count;
    size_t first;    /* index of the group's lowest seed in the failures (sorted by seed) */
    size_t shortest; /* index of its run with the fewest steps (then records, then lowest seed) */
};

/* Groups `fails` (sorted by seed): *groups is malloc'ed (free it), ordered by count, largest
 * first, then by lowest seed. Returns the number of groups; 0 with *groups NULL when there are
 * no failures or memory ran out. */
size_t sweep_group_failures(const struct sweep_failure *fails, size_t n,
                            struct sweep_group **groups);

/* The grouped report as text to `out` ("failures by class and invariant:" ...). */
void sweep_report_text(FILE *out, const struct sweep_report_scope *scope,
                       const struct sweep_failure *fails, size_t n);

/* The members "groups" and "failures" of the `sweep --json` object. */
void sweep_report_json(struct rvm_json *j, const struct sweep_report_scope *scope,
                       const struct sweep_failure *fails, size_t n);

#endif /* RVM_CLI_SWEEP_REPORT_H */
