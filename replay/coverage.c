/* SPDX-License-Identifier: MIT */
/* The coverage ledger table: its migration and the one writer. */
#include "coverage.h"

#include "store_internal.h"

const char rvm_store_migrate_coverage[] =
    "CREATE TABLE coverage (\n"
    "  scenario_sha256 BLOB NOT NULL CHECK (length(scenario_sha256) = 32),\n"
    "  faults TEXT NOT NULL,\n"
    "  first_seed INTEGER NOT NULL,\n"
    "  last_seed INTEGER NOT NULL,\n"
    "  probe TEXT NOT NULL,\n"
    "  rare INTEGER NOT NULL CHECK (rare IN (0, 1)),\n"
    "  seeds_hit INTEGER NOT NULL,\n"
    "  seeds INTEGER NOT NULL,\n"
    "  PRIMARY KEY (scenario_sha256, faults, first_seed, last_seed, probe)\n"
    ") WITHOUT ROWID;\n"
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '4');\n";

enum rvm_store_status rvm_store_coverage_put(struct rvm_store *st,
                                             const struct rvm_store_coverage *c)
{
    enum rvm_store_status s = rvm_store_write_begin(st);
    if (s != RVM_STORE_OK) {
        return s;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "INSERT OR REPLACE INTO coverage (scenario_sha256, faults, "
                                "first_seed, last_seed, probe, rare, seeds_hit, seeds) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                -1, &q, NULL);
    for (uint32_t i = 0; i < c->nrows && rc == SQLITE_OK; i++) {
        const struct rvm_store_coverage_row *r = &c->rows[i];
        sqlite3_bind_blob(q, 1, c->scenario_sha256, 32, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, c->faults, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)c->first_seed);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)c->last_seed);
        sqlite3_bind_text(q, 5, r->probe, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 6, r->rare ? 1 : 0);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)r->seeds_hit);
        sqlite3_bind_int64(q, 8, (sqlite3_int64)c->seeds);
        rc = sqlite3_step(q);
        rc = rc == SQLITE_DONE ? sqlite3_reset(q) : rc;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_OK) {
        s = rvm_store_fail(st, rc, "storing the coverage ledger");
        rvm_store_write_rollback(st);
        return s;
    }
    return rvm_store_write_commit(st);
}
