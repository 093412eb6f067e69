/* SPDX-License-Identifier: MIT */
#include "sink_tee.h"

#include <string.h>

void rvm_tee_sink_init(struct rvm_tee_sink *tee)
{
    memset(tee, 0, sizeof(*tee));
}

bool rvm_tee_sink_add(struct rvm_tee_sink *tee, const struct rvm_sink_ops *ops, void *ctx)
{
    if (tee->count == RVM_TEE_MAX) {
        return false;
    }
    tee->branch[tee->count].ops = ops;
    tee->branch[tee->count].ctx = ctx;
    tee->branch[tee->count].next_seq = 0;
    tee->branch[tee->count].checkpoints_fed = tee->checkpoints_offered;
    tee->count++;
    return true;
}

static size_t tee_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_tee_sink *tee = ctx;
    uint64_t end = first_seq + count;
    uint64_t all = end; /* records every branch holds, from first_seq on */

    for (unsigned b = 0; b < tee->count; b++) {
        uint64_t next = tee->branch[b].next_seq;
        if (next < first_seq) {
            return 0; /* the core skipped records this branch never saw */
        }
        if (next < end) {
            size_t offset = (size_t)(next - first_seq);
            size_t taken = tee->branch[b].ops->records(tee->branch[b].ctx, next,
                                                       records + offset * RVM_WITNESS_RECORD_BYTES,
                                                       count - offset);
            if (taken > count - offset) {
                taken = count - offset;
            }
            tee->branch[b].next_seq = next + taken;
        }
        if (tee->branch[b].next_seq < all) {
            all = tee->branch[b].next_seq;
        }
    }
    return (size_t)(all - first_seq);
}

static bool tee_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_tee_sink *tee = ctx;
    bool all = true;
    for (unsigned b = 0; b < tee->count; b++) {
        if (tee->branch[b].checkpoints_fed > tee->checkpoints_offered) {
            continue; /* took this one on an earlier offer */
        }
        if (tee->branch[b].ops->checkpoint(tee->branch[b].ctx, cp)) {
            tee->branch[b].checkpoints_fed++;
        } else {
            all = false;
        }
    }
    if (all) {
        tee->checkpoints_offered++;
    }
    return all;
}

const struct rvm_sink_ops rvm_tee_sink_ops = {
    .records = tee_records,
    .checkpoint = tee_checkpoint,
};
