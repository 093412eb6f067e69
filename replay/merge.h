/* SPDX-License-Identifier: MIT */
/*
 * Merging stores (`rvmsim merge`): the shard databases of a sweep spread over several machines
 * become one store that lists every run once.
 *
 * One input is one write transaction on the output: either everything it brings is added, or
 * (a conflict, a run that does not copy faithfully, an I/O error) nothing. Runs get new ids in
 * the output; a run's identity across stores is (source, scenario SHA-256, options, seed). A run
 * whose identity is already in the output with the same result, record count and log digest is
 * skipped as a duplicate (a full log replaces a summary of the same run); with a different
 * result or digest it is a conflict: the same seed ran differently (non-determinism, or shards
 * of different builds), and the input is refused.
 *
 * Every copied run is checked: a summary's row is read back and compared; a full run's records,
 * checkpoints (with their Ed25519 signatures), state digests, faults and invariant failures are
 * copied as stored (raw: the output recomputes every chain value), its record count, digest and
 * chain must come out equal to the input's, and `verify` must give the same verdict and first bad
 * sequence on the copy as on the original -- so a run that verifies is merged only if its copy
 * verifies, and a failing run kept as evidence of a damaged log keeps exactly its damage.
 */
#ifndef RVM_REPLAY_MERGE_H
#define RVM_REPLAY_MERGE_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct rvm_merge_stats {
    uint64_t runs;       /* runs in the input */
    uint64_t full;       /* added with their records */
    uint64_t summary;    /* added as summaries */
    uint64_t records;    /* records copied */
    uint64_t duplicates; /* already in the output: skipped */
    uint64_t superseded; /* summaries in the output replaced by the input's full run */
    uint64_t
        incomplete;    /* running in the input (a writer that died or is still busy): not merged */
    uint64_t aborted;  /* marked aborted (`rvmsim store repair`): not merged, not an error */
    uint64_t verified; /* full runs that verify in the input and in the output */
};

enum rvm_merge_status {
    RVM_MERGE_OK,
    RVM_MERGE_FAILED,    /* a conflict or a run that did not copy faithfully: input rolled back */
    RVM_MERGE_BAD_INPUT, /* the input is not a usable store (or is the output itself) */
    RVM_MERGE_ERROR,     /* I/O, out of memory, busy */
};

/* Merge the store at `in_path` into `out` (opened for writing, no transaction open). `msg` says
 * why when the status is not OK. */
enum rvm_merge_status rvm_merge_store(struct rvm_store *out, const char *in_path,
                                      struct rvm_merge_stats *stats, char *msg, size_t msglen);

#endif /* RVM_REPLAY_MERGE_H */
