/* SPDX-License-Identifier: MIT */
#include "common.h"

#include "harness.h"

static size_t null_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    (void)ctx, (void)first_seq;
    bench_keep(records);
    return count;
}

static bool null_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    (void)ctx;
    bench_keep(cp);
    return true;
}

const struct rvm_sink_ops bench_null_sink = {null_records, null_checkpoint};
