/* SPDX-License-Identifier: MIT */
/*
 * The store manifest (schema version 5, docs/replay-store.md "Store manifest"): an append-only,
 * hash-chained list of the store's finished runs. Every run that becomes `complete` appends an
 * `add` entry (its identity, counts, digests, status and content, its seal's MAC); a run removed
 * as an exact duplicate of another (re-runs, merge replacing a summary by the full run) appends a
 * `drop` entry naming the run kept. Deleting, downgrading, replacing or reordering runs behind
 * the writers' back leaves the manifest disagreeing with the runs table, which `verify --db` and
 * `store check` report; a manifest rewritten to match is caught only against a pinned head
 * (`--expect-manifest`), since nothing secret authenticates it.
 */
#ifndef RVM_REPLAY_MANIFEST_H
#define RVM_REPLAY_MANIFEST_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define RVM_MANIFEST_HASH_BYTES 32

/* The migration from schema version 4 to 5: the `manifest` table (entries: manifest.c). */
extern const char rvm_store_migrate_manifest[];

/*
 * Appends an `add` entry for every complete run, by id (the migration to version 5, inside its
 * transaction). Returns an SQLite result code.
 */
int rvm_store_manifest_build(struct rvm_store *st);

/* Appends an `add` entry for run `run` as its row now reads (inside the caller's transaction).
 * Returns an SQLite result code; a store below version 5 has no manifest and gets none. */
int rvm_store_manifest_add(struct rvm_store *st, int64_t run);

/* Appends a `drop` entry: run `dropped` (an exact duplicate of run `kept`) was removed. */
int rvm_store_manifest_drop(struct rvm_store *st, int64_t dropped, int64_t kept);

struct rvm_manifest_report {
    bool present; /* schema version 5 or later: the store has a manifest */
    bool ok; /* the chain holds, it agrees with the runs table, and the pin (if any) is in it */
    uint64_t entries;
    uint64_t runs;                         /* runs the manifest lists (added and not dropped) */
    uint8_t head[RVM_MANIFEST_HASH_BYTES]; /* hash of the last entry; zero when empty */
    bool pin_given, pin_found;
    uint64_t pin_entries; /* entries up to and including the pinned head */
    uint64_t problems;    /* disagreements found (reason names the first) */
    char reason[512];
};

/*
 * Checks the manifest: every entry's hash from the one before it, the sequence of adds and
 * drops, every listed run against its row (all complete, same digests), every complete run
 * listed, and `pin` (NULL: none) being the hash of one of its entries (all zero: the empty
 * manifest, which every manifest extends). `only` > 0 limits the comparison with the runs table
 * to that run (the chain and the pin are checked whole). RVM_STORE_OK when the check ran
 * (findings in *rep).
 */
enum rvm_store_status rvm_store_manifest_check(struct rvm_store *st,
                                               const uint8_t pin[RVM_MANIFEST_HASH_BYTES],
                                               int64_t only, struct rvm_manifest_report *rep);

#endif /* RVM_REPLAY_MANIFEST_H */
