/* SPDX-License-Identifier: MIT */
#include "store_check.h"

#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static bool one_int(struct rvm_store *st, const char *sql, int64_t *out, int *rc)
{
    sqlite3_stmt *stmt = NULL;
    *rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(stmt);
        if (*rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(stmt, 0);
            *rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    return *rc == SQLITE_OK;
}

/* PRAGMA integrity_check's first line: "ok" or the first problem. */
static int integrity(struct rvm_store *st, struct rvm_store_check_report *rep)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check(1)", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(stmt, 0);
            snprintf(rep->integrity, sizeof(rep->integrity), "%s", text != NULL ? text : "");
            rep->integrity_ok = text != NULL && strcmp(text, "ok") == 0;
            rc = SQLITE_OK;
        }
    }
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
        snprintf(rep->integrity, sizeof(rep->integrity), "%s", sqlite3_errmsg(st->db));
        rep->integrity_ok = false;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* The columns of schema version 5 that the commands read, table by table. */
static const char *const expected_columns[][2] = {
    {"runs", "id"},           {"runs", "status"},
    {"runs", "record_count"}, {"runs", "digest"},
    {"runs", "content"},      {"records", "key"},
    {"records", "image"},     {"records", "chain"},
    {"checkpoints", "seq"},   {"checkpoints", "seal"},
    {"checkpoints", "hmac"},  {"state_digests", "digest"},
    {"faults", "site"},       {"invariant_failures", "oracle"},
    {"scenarios", "text"},    {"meta", "value"},
    {"manifest", "hash"},     {"manifest", "run_digest"},
};

static int schema(struct rvm_store *st, struct rvm_store_check_report *rep)
{
    rep->schema_ok = true;
    if (rvm_store_schema_version(st) != RVM_STORE_SCHEMA_VERSION) {
        /* older versions are read as they are (opening refuses anything else) */
        snprintf(rep->schema, sizeof(rep->schema),
                 "schema version %d, read as it is (this build writes %d; a writing command "
                 "migrates it)",
                 rvm_store_schema_version(st), RVM_STORE_SCHEMA_VERSION);
        return SQLITE_OK;
    }
    for (size_t i = 0; i < sizeof(expected_columns) / sizeof(expected_columns[0]); i++) {
        char sql[160];
        int64_t n = 0;
        int rc;
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
                 expected_columns[i][0], expected_columns[i][1]);
        if (!one_int(st, sql, &n, &rc)) {
            return rc;
        }
        if (n != 1) {
            rep->schema_ok = false;
            snprintf(rep->schema, sizeof(rep->schema), "table %s has no column %s",
                     expected_columns[i][0], expected_columns[i][1]);
            return SQLITE_OK;
        }
    }
    return SQLITE_OK;
}

static int run_statuses(struct rvm_store *st, struct rvm_store_check_report *rep)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, "SELECT id, status FROM runs ORDER BY id", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) { /* bound: the runs */
        const char *status = (const char *)sqlite3_column_text(stmt, 1);
        rep->runs++;
        if (status != NULL && strcmp(status, "running") == 0) {
            if (rep->running < RVM_STORE_CHECK_IDS) {
                rep->running_ids[rep->running] = sqlite3_column_int64(stmt, 0);
            }
            rep->running++;
        } else if (status != NULL && strcmp(status, "aborted") == 0) {
            rep->aborted++;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum rvm_store_status rvm_store_check(struct rvm_store *st, struct rvm_store_check_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    int64_t pages = 0, free_pages = 0;
    int rc = integrity(st, rep);
    if (rc == SQLITE_OK) {
        rc = schema(st, rep);
    }
    if (rc == SQLITE_OK) {
        rc = run_statuses(st, rep);
    }
    if (rc == SQLITE_OK && one_int(st, "PRAGMA page_count", &pages, &rc) &&
        one_int(st, "PRAGMA freelist_count", &free_pages, &rc)) {
        rep->pages = (uint64_t)pages;
        rep->free_pages = (uint64_t)free_pages;
    }
    if (rc != SQLITE_OK) {
        if (!rep->integrity_ok || (rc & 0xff) == SQLITE_CORRUPT) {
            return RVM_STORE_OK; /* damage already reported by the integrity check */
        }
        return rvm_store_fail(st, rc, "checking the store");
    }
    return RVM_STORE_OK;
}

enum rvm_store_status rvm_store_repair(struct rvm_store *st, uint64_t *marked,
                                       uint64_t *pages_before, uint64_t *pages_after)
{
    int64_t before = 0, after = 0;
    int rc;
    *marked = 0;
    if (!one_int(st, "PRAGMA page_count", &before, &rc)) {
        return rvm_store_fail(st, rc, "reading the page count");
    }
    rc = sqlite3_exec(st->db,
                      "BEGIN IMMEDIATE; UPDATE runs SET status = 'aborted' WHERE status = "
                      "'running'",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        *marked = (uint64_t)sqlite3_changes(st->db);
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "marking abandoned runs aborted");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        *marked = 0;
        return s;
    }
    /* VACUUM rewrites the file without its free pages; the WAL is folded back in first */
    rc = sqlite3_exec(st->db, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "reclaiming free space (VACUUM)");
    }
    if (!one_int(st, "PRAGMA page_count", &after, &rc)) {
        return rvm_store_fail(st, rc, "reading the page count");
    }
    *pages_before = (uint64_t)before;
    *pages_after = (uint64_t)after;
    return RVM_STORE_OK;
}
