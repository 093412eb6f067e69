/* SPDX-License-Identifier: MIT */
/*
 * Store hygiene (`rvmsim store check`, `rvmsim store repair`): SQLite's integrity check, the
 * schema this build expects, and runs whose writer never finished (status `running`); repair
 * marks those `aborted` and reclaims free space.
 */
#ifndef RVM_REPLAY_STORE_CHECK_H
#define RVM_REPLAY_STORE_CHECK_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_STORE_CHECK_IDS 16 /* running runs named in a report */

struct rvm_store_check_report {
    bool integrity_ok;
    char integrity[512]; /* SQLite's first complaint when not ok */
    bool schema_ok;
    char schema[256]; /* what is missing when not ok */
    uint64_t runs;
    uint64_t running; /* runs left `running` */
    int64_t running_ids[RVM_STORE_CHECK_IDS];
    uint64_t aborted;
    uint64_t pages, free_pages;
};

/* RVM_STORE_OK when the checks ran (their findings are in *rep). */
enum rvm_store_status rvm_store_check(struct rvm_store *st, struct rvm_store_check_report *rep);

/*
 * Marks every `running` run `aborted` (*marked says how many) and VACUUMs the file (pages before
 * and after in *pages_before / *pages_after). It cannot tell a killed writer from a live one: run
 * it when no writer is at work. The store must be open for writing.
 */
enum rvm_store_status rvm_store_repair(struct rvm_store *st, uint64_t *marked,
                                       uint64_t *pages_before, uint64_t *pages_after);

#endif /* RVM_REPLAY_STORE_CHECK_H */
