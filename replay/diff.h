/* SPDX-License-Identifier: MIT */
/*
 * First divergence of two stored runs by bisection over chain values (`rvmsim diff`).
 *
 * The chain value after record i fingerprints records 0..i (docs/witness-format.md §2), so
 * "chain values equal at i" is true up to the first divergence and false from there on: a
 * binary search finds it with 2 * ceil(log2(n)) + 2 point lookups, whatever the runs' lengths.
 * The answer is then checked locally (the records at the divergence differ and both stored chain
 * values follow from the common chain value before them), so a store whose chain column was
 * tampered with is reported instead of trusted.
 */
#ifndef RVM_REPLAY_DIFF_H
#define RVM_REPLAY_DIFF_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

struct rvm_diff_side {
    struct rvm_store *st;
    int64_t run;
    uint64_t count; /* records of the run */
};

struct rvm_diff_result {
    bool identical;
    uint64_t first;                     /* first divergent sequence when !identical */
    uint64_t lookups;                   /* point lookups used, both sides together */
    enum rvm_store_status store_status; /* of the failed lookup, for RVM_DIFF_STORE_ERROR */
};

enum rvm_diff_status {
    RVM_DIFF_OK,
    RVM_DIFF_INCONSISTENT, /* stored chain values contradict the images: run `verify` */
    RVM_DIFF_STORE_ERROR,  /* a lookup failed; message in `err` */
};

enum rvm_diff_status rvm_diff_first_divergence(const struct rvm_diff_side *a,
                                               const struct rvm_diff_side *b,
                                               struct rvm_diff_result *out, char *err,
                                               size_t errlen);

#endif /* RVM_REPLAY_DIFF_H */
