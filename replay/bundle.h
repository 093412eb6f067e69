/* SPDX-License-Identifier: MIT */
/*
 * The evidence bundle (docs/replay-store.md "Evidence bundles"): one run's metadata, records and
 * checkpoints in one little-endian file, and `rvmsim verify FILE`, which checks a bundle or a raw
 * log without a store. Verification loads the file into a temporary store and runs the store's
 * own verifier (verify.c) over it, so a file and a stored run get the same checks and verdicts.
 */
#ifndef RVM_REPLAY_BUNDLE_H
#define RVM_REPLAY_BUNDLE_H

#include "store.h"
#include "verify.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RVM_BUNDLE_MAGIC            "RVMWBNDL"
#define RVM_BUNDLE_MAGIC_BYTES      8u
#define RVM_BUNDLE_VERSION          1u
#define RVM_BUNDLE_CHECKPOINT_BYTES 208u
#define RVM_BUNDLE_MAX_META         65536u

/* Magic, version, metadata block and record count; the records follow. False on a write error. */
bool rvm_bundle_write_head(FILE *out, const struct rvm_store_run *run, uint64_t record_count);

/* The run's checkpoint count and every checkpoint as stored (read twice, within the caller's read
 * transaction, so memory does not grow with their number); ends the bundle. A store status; on a
 * write error RVM_STORE_ERROR with *write_failed set. */
enum rvm_store_status rvm_bundle_write_checkpoints(FILE *out, struct rvm_store *st, int64_t run,
                                                   bool *write_failed);

enum rvm_file_kind {
    RVM_FILE_RAW,    /* 64-byte record images, nothing else */
    RVM_FILE_BUNDLE, /* starts with RVM_BUNDLE_MAGIC */
};

/*
 * Verifies the file at path as a bundle (by its magic) or a raw log. The verdicts are those of
 * rvm_verify_run; a raw log has no checkpoints, so when its records verify it is UNSEALED. A file
 * whose layout is broken is FAILED (tampered); one that cannot be read is ERROR with
 * store_status RVM_STORE_BAD_FILE.
 */
void rvm_verify_file(const char *path, const struct rvm_verify_options *opt,
                     enum rvm_file_kind *kind, struct rvm_verify_report *rep);

#endif /* RVM_REPLAY_BUNDLE_H */
