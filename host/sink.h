/* SPDX-License-Identifier: MIT */
/*
 * Where drained witness records and checkpoints go: the interface between a HAL's witness hooks
 * and the sinks that keep them (memory, SQLite store, serial capture, tee). Same contract as the
 * HAL's drain hooks (core/include/rvm/hal.h): `records` takes records first_seq.. in order and
 * returns how many it accepted; `checkpoint` returns false when it could not keep it.
 */
#ifndef RVM_HOST_SINK_H
#define RVM_HOST_SINK_H

#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rvm_sink_ops {
    size_t (*records)(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count);
    bool (*checkpoint)(void *ctx, const struct rvm_witness_checkpoint *cp);
};

#endif /* RVM_HOST_SINK_H */
