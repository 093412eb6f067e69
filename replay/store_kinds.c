/* SPDX-License-Identifier: MIT */
/*
 * The store's `kinds` table (action code -> name, from core/include/rvm/action.h) and the
 * `records_named` view over it, so SQL can say `WHERE kind_name = 'VmidAssign'`.
 *
 * They are reference data of the build that writes, not part of the versioned schema: every
 * writing command creates them when missing and rewrites the rows when this build knows other
 * names (a build that adds an action kind updates them on its first write). Readers never
 * touch them, and a store without them (written by an older build) reads as before.
 */
#include "store_internal.h"

#include "rvm/action.h"

#include <stdio.h>

static const char kinds_schema[] =
    "CREATE TABLE IF NOT EXISTS kinds (\n"
    "  code INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL\n"
    ");\n"
    "CREATE VIEW IF NOT EXISTS records_named AS\n"
    "  SELECT key >> 40 AS run, key & 1099511627775 AS seq, kind, kinds.name AS kind_name,\n"
    "         actor, target, image, chain\n"
    "  FROM records LEFT JOIN kinds ON kinds.code = records.kind;\n";

/* True when `kinds` exists and holds exactly this build's names. */
static bool kinds_current(struct rvm_store *st)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT code, name FROM kinds ORDER BY code", -1, &q, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(q);
        return false;
    }
    bool same = true;
    unsigned code = 0;
    for (;;) { /* bound: at most 256 rows are compared, then the answer is known */
        while (code < 256 && rvm_action_name((uint8_t)code) == NULL) {
            code++;
        }
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
            same = rc == SQLITE_DONE && code == 256;
            break;
        }
        const unsigned char *name = sqlite3_column_text(q, 1);
        if (code == 256 || sqlite3_column_int64(q, 0) != code || name == NULL ||
            strcmp((const char *)name, rvm_action_name((uint8_t)code)) != 0) {
            same = false;
            break;
        }
        code++;
    }
    sqlite3_finalize(q);
    return same;
}

enum rvm_store_status rvm_store_kinds_refresh(struct rvm_store *st)
{
    if (kinds_current(st)) {
        return RVM_STORE_OK;
    }
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(st->db, kinds_schema, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(st->db, "DELETE FROM kinds", NULL, NULL, NULL);
    }
    sqlite3_stmt *ins = NULL;
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(st->db, "INSERT INTO kinds (code, name) VALUES (?1, ?2)", -1, &ins,
                                NULL);
    }
    for (unsigned code = 0; code < 256 && rc == SQLITE_OK; code++) { /* bound: 256 codes */
        const char *name = rvm_action_name((uint8_t)code);
        if (name == NULL) {
            continue;
        }
        sqlite3_bind_int64(ins, 1, code);
        sqlite3_bind_text(ins, 2, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "writing the kinds table");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return s;
    }
    return RVM_STORE_OK;
}
