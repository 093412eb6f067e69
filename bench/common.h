/* SPDX-License-Identifier: MIT */
/* Pieces several benchmark workload files share. */
#ifndef RVM_BENCH_COMMON_H
#define RVM_BENCH_COMMON_H

#include "hal_sim.h"

/*
 * A witness sink that takes every record and checkpoint without copying, so a workload measures
 * the core's own cost (encoding, chaining, ring bookkeeping, amortised drain calls).
 */
extern const struct rvm_sink_ops bench_null_sink;

#endif /* RVM_BENCH_COMMON_H */
