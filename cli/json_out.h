/* SPDX-License-Identifier: MIT */
/* The JSON objects several rvmsim commands share (schemas in docs/json.md), written with the one
 * JSON writer (host/json.h). */
#ifndef RVM_CLI_JSON_OUT_H
#define RVM_CLI_JSON_OUT_H

#include "engine.h"
#include "json.h"
#include "store.h"

#include <stdint.h>

/* `key` and, as its value, the space-separated `k=v` words of `pairs` as an object of strings
 * ({"steps":"200","phase":"final"}); a word without '=' (a flag such as "scripted") maps to true.
 * NULL pairs: null. */
void cli_json_pairs(struct rvm_json *j, const char *key, const char *pairs);

/* A simulated run's outcome as members of the object being written: result, exit_code, failure
 * (null on a pass, else class, invariant, phase, step, line, time_ns, detail), the counters and
 * the digests. */
void cli_json_sim_outcome_members(struct rvm_json *j, const struct rvm_sim_outcome *o);

/* A stored run (`runs --json`) as one object. */
void cli_json_store_run(struct rvm_json *j, const struct rvm_store_run *run);

#endif /* RVM_CLI_JSON_OUT_H */
