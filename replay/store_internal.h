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
    bool writer_active;
    uint64_t lookups;
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    sqlite3_stmt *get_record;
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
/* Prepare a statement on the handle's connection; NULL (error set) on failure. */
sqlite3_stmt *rvm_store_prepare(struct rvm_store *st, const char *sql);

#endif /* RVM_REPLAY_STORE_INTERNAL_H */
