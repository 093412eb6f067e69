/* SPDX-License-Identifier: MIT */
/* Pieces of the store shared by its own source files (not a public interface). */
#ifndef RVM_REPLAY_STORE_INTERNAL_H
#define RVM_REPLAY_STORE_INTERNAL_H

#include "store.h"

#include <sqlite3.h>
#include <string.h>

/* What the rvm_batch virtual table shows while a batch INSERT runs. */
struct rvm_store_batch_view {
    int64_t base_key;
    size_t count;
    const uint8_t *images; /* count * 64 */
    const uint8_t *chains; /* count * 32 */
};

struct rvm_store {
    sqlite3 *db;
    char *path;
    bool writable;
    bool in_read_tx;
    bool in_write_tx; /* rvm_store_write_begin .. commit/rollback */
    bool writer_active;
    int version; /* schema version of the file (1 is read-only compatible) */
    uint64_t lookups;
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    sqlite3_stmt *get_record;
    sqlite3_stmt *get_run;     /* prepared on first use */
    sqlite3_stmt *add_summary; /* prepared on first use */
    sqlite3_stmt *get_events[2];
    sqlite3_stmt *put_scenario;
    sqlite3_stmt *manifest[4]; /* manifest.c, prepared on first use */
    const struct rvm_store_batch_view *batch;
    char err[512];
};

/* u64 <-> SQLite's int64 as two's complement, without implementation-defined conversions. */
static inline int64_t rvm_store_i64(uint64_t v)
{
    int64_t r;
    memcpy(&r, &v, sizeof(r));
    return r;
}

static inline uint64_t rvm_store_u64(int64_t v)
{
    uint64_t r;
    memcpy(&r, &v, sizeof(r));
    return r;
}

enum rvm_store_status rvm_store_fail(struct rvm_store *st, int rc, const char *what);
void rvm_store_set_error(struct rvm_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bind a run's metadata to parameters first .. first + 10 of `stmt`: source, key_source,
 * command, scenario (left NULL: the text goes into `scenarios`, which this adds to),
 * scenario_sha256, seed, build_id, core_version, platform, options, target. */
int rvm_store_bind_run_info(struct rvm_store *st, sqlite3_stmt *stmt,
                            const struct rvm_store_run_info *info, int first);
/* Prepare a statement on the handle's connection; NULL (error set) on failure. */
sqlite3_stmt *rvm_store_prepare(struct rvm_store *st, const char *sql);

/* Writers: create or update the `kinds` table and `records_named` view (store_kinds.c). */
enum rvm_store_status rvm_store_kinds_refresh(struct rvm_store *st);

#endif /* RVM_REPLAY_STORE_INTERNAL_H */
