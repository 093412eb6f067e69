/* SPDX-License-Identifier: MIT */
#include "sink_memory.h"

#include <stdlib.h>
#include <string.h>

static bool grow(void **buf, uint64_t *capacity, uint64_t need, size_t elem)
{
    if (need <= *capacity) {
        return true;
    }
    uint64_t cap = *capacity != 0 ? *capacity : 1024;
    while (cap < need) {
        cap *= 2;
    }
    void *p = realloc(*buf, (size_t)(cap * elem));
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *capacity = cap;
    return true;
}

static size_t memory_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_memory_sink *sink = ctx;
    if (first_seq != sink->count) {
        sink->out_of_order = true;
        return 0;
    }
    void *buf = sink->records;
    if (!grow(&buf, &sink->capacity, sink->count + count, RVM_WITNESS_RECORD_BYTES)) {
        return 0; /* host out of memory looks like a stalled sink: the core refuses the append */
    }
    sink->records = buf;
    memcpy(sink->records + sink->count * RVM_WITNESS_RECORD_BYTES, records,
           count * RVM_WITNESS_RECORD_BYTES);
    sink->count += count;
    return count;
}

static bool memory_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_memory_sink *sink = ctx;
    void *buf = sink->checkpoints;
    if (!grow(&buf, &sink->checkpoint_capacity, sink->ncheckpoints + 1,
              sizeof(struct rvm_signed_checkpoint))) {
        return false;
    }
    sink->checkpoints = buf;
    struct rvm_signed_checkpoint *slot = &sink->checkpoints[sink->ncheckpoints];
    slot->cp = *cp;
    memset(slot->ed25519, 0, sizeof(slot->ed25519));
    if (sink->signer != NULL && !rvm_ed25519_sign_checkpoint(sink->signer, cp, slot->ed25519)) {
        return false;
    }
    sink->ncheckpoints++;
    return true;
}

const struct rvm_sink_ops rvm_memory_sink_ops = {
    .records = memory_records,
    .checkpoint = memory_checkpoint,
};

void rvm_memory_sink_init(struct rvm_memory_sink *sink, const struct rvm_ed25519_key *signer)
{
    memset(sink, 0, sizeof(*sink));
    sink->signer = signer;
}

void rvm_memory_sink_free(struct rvm_memory_sink *sink)
{
    free(sink->records);
    free(sink->checkpoints);
    memset(sink, 0, sizeof(*sink));
}
