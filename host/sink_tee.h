/* SPDX-License-Identifier: MIT */
/*
 * A witness sink that hands every record and checkpoint to several sinks (memory, SQLite, a
 * serial capture, ...). The core may offer records again when a sink took fewer than offered;
 * the tee remembers how far each branch got, so no branch ever sees a record twice or out of
 * order, and it reports only what every branch has taken.
 */
#ifndef RVM_HOST_SINK_TEE_H
#define RVM_HOST_SINK_TEE_H

#include "sink.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_TEE_MAX 4

struct rvm_tee_sink {
    struct {
        const struct rvm_sink_ops *ops;
        void *ctx;
        uint64_t next_seq;        /* first record this branch has not taken */
        uint64_t checkpoints_fed; /* checkpoints this branch has taken */
    } branch[RVM_TEE_MAX];
    unsigned count;
    uint64_t checkpoints_offered; /* checkpoints every branch has taken */
};

extern const struct rvm_sink_ops rvm_tee_sink_ops;

void rvm_tee_sink_init(struct rvm_tee_sink *tee);
/* False when RVM_TEE_MAX branches are already attached. */
bool rvm_tee_sink_add(struct rvm_tee_sink *tee, const struct rvm_sink_ops *ops, void *ctx);

#endif /* RVM_HOST_SINK_TEE_H */
