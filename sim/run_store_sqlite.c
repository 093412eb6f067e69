/* SPDX-License-Identifier: MIT */
/*
 * A deliberately small SQLite run sink (see run_store.h: replay/ owns the real store and its
 * schema). WAL, prepared statements, batched transactions. Tables are prefixed sim_ so they can
 * sit beside replay/'s tables in one database. A u64 seed is stored as the int64 with the same
 * bits (seeds >= 2^63 read back negative; cast to unsigned).
 */
#include "run_store.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS_PER_TRANSACTION 4096u

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sim_runs("
    "  id INTEGER PRIMARY KEY, scenario TEXT NOT NULL, scenario_sha256 TEXT,"
    "  target TEXT NOT NULL, seed INTEGER NOT NULL, faults TEXT NOT NULL, build TEXT,"
    "  origin TEXT, result TEXT, exit_code INTEGER, invariant TEXT, detail TEXT, phase TEXT,"
    "  fail_step INTEGER, fail_line INTEGER, steps INTEGER, records INTEGER,"
    "  faults_fired INTEGER, events INTEGER, time_ns INTEGER, digest TEXT, state TEXT);"
    "CREATE TABLE IF NOT EXISTS sim_records(run_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  image BLOB NOT NULL, PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS sim_checkpoints(run_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  digest BLOB NOT NULL, chain BLOB NOT NULL, hmac BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sim_faults(run_id INTEGER NOT NULL, ord INTEGER NOT NULL,"
    "  step INTEGER, time_ns INTEGER, kind TEXT NOT NULL, args TEXT, scripted INTEGER,"
    "  PRIMARY KEY(run_id, ord)) WITHOUT ROWID;";

struct sqlite_store {
    sqlite3 *db;
    sqlite3_stmt *begin, *rec, *cp, *end, *fault;
    uint32_t runs_in_tx;
    bool in_tx;
};

static bool exec(struct sqlite_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static bool tx_begin(struct sqlite_store *s)
{
    if (!s->in_tx) {
        s->in_tx = exec(s, "BEGIN");
    }
    return s->in_tx;
}

static bool sq_commit(void *ctx)
{
    struct sqlite_store *s = ctx;
    if (!s->in_tx) {
        return true;
    }
    s->in_tx = false;
    s->runs_in_tx = 0;
    return exec(s, "COMMIT");
}

static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    }
}

static bool sq_begin(void *ctx, const struct rvm_run_info *info, uint64_t *run_id)
{
    struct sqlite_store *s = ctx;
    if (!tx_begin(s)) {
        return false;
    }
    sqlite3_stmt *st = s->begin;
    bind_text(st, 1, info->scenario);
    bind_text(st, 2, info->scenario_sha256);
    bind_text(st, 3, info->target);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)info->seed);
    bind_text(st, 5, info->faults);
    bind_text(st, 6, info->build);
    bind_text(st, 7, info->origin);
    if (!step_done(st)) {
        return false;
    }
    *run_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    return true;
}

static bool sq_records(void *ctx, uint64_t run_id, uint64_t first_seq, const uint8_t *images,
                       uint64_t count)
{
    struct sqlite_store *s = ctx;
    for (uint64_t i = 0; i < count; i++) {
        sqlite3_bind_int64(s->rec, 1, (sqlite3_int64)run_id);
        sqlite3_bind_int64(s->rec, 2, (sqlite3_int64)(first_seq + i));
        sqlite3_bind_blob(s->rec, 3, images + i * RVM_WITNESS_RECORD_BYTES,
                          RVM_WITNESS_RECORD_BYTES, SQLITE_STATIC);
        if (!step_done(s->rec)) {
            return false;
        }
    }
    return true;
}

static bool sq_checkpoint(void *ctx, uint64_t run_id, const struct rvm_witness_checkpoint *cp)
{
    struct sqlite_store *s = ctx;
    sqlite3_bind_int64(s->cp, 1, (sqlite3_int64)run_id);
    sqlite3_bind_int64(s->cp, 2, (sqlite3_int64)cp->sequence);
    sqlite3_bind_blob(s->cp, 3, cp->digest, sizeof(cp->digest), SQLITE_STATIC);
    sqlite3_bind_blob(s->cp, 4, cp->chain, sizeof(cp->chain), SQLITE_STATIC);
    sqlite3_bind_blob(s->cp, 5, cp->hmac, sizeof(cp->hmac), SQLITE_STATIC);
    return step_done(s->cp);
}

static bool sq_end(void *ctx, uint64_t run_id, const struct rvm_sim_outcome *o,
                   const struct rvm_sim_target *target, const struct rvm_sim_fired *faults,
                   uint64_t nfaults)
{
    struct sqlite_store *s = ctx;
    char digest[65], state[65];
    rvm_hex(o->digest, sizeof(o->digest), digest);
    rvm_hex(o->state, sizeof(o->state), state);
    sqlite3_stmt *st = s->end;
    bind_text(st, 1, rvm_sim_class_name(o->cls));
    sqlite3_bind_int(st, 2, o->cls);
    bind_text(st, 3, o->invariant[0] ? o->invariant : NULL);
    bind_text(st, 4, o->detail[0] ? o->detail : NULL);
    bind_text(st, 5, rvm_sim_phase_name(o->phase));
    sqlite3_bind_int64(st, 6, (sqlite3_int64)o->fail_step);
    sqlite3_bind_int64(st, 7, o->fail_line);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)o->steps);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)o->records);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)o->faults_fired);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)o->events);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)o->time_ns);
    bind_text(st, 13, digest);
    bind_text(st, 14, state);
    sqlite3_bind_int64(st, 15, (sqlite3_int64)run_id);
    if (!step_done(st)) {
        return false;
    }
    for (uint64_t i = 0; i < nfaults && target != NULL; i++) {
        const struct rvm_sim_fault_spec *fs = rvm_sim_fault_spec(target, faults[i].kind);
        char args[512] = "";
        size_t len = 0;
        for (uint32_t a = 0; fs != NULL && a < faults[i].nargs && len < sizeof(args) - 1; a++) {
            int w = snprintf(args + len, sizeof(args) - len, "%s%s=%llu", a ? " " : "",
                             fs->args[a].name, (unsigned long long)faults[i].args[a]);
            len += w > 0 ? (size_t)w : 0;
        }
        sqlite3_bind_int64(s->fault, 1, (sqlite3_int64)run_id);
        sqlite3_bind_int64(s->fault, 2, (sqlite3_int64)i);
        sqlite3_bind_int64(s->fault, 3, (sqlite3_int64)faults[i].step);
        sqlite3_bind_int64(s->fault, 4, (sqlite3_int64)faults[i].time_ns);
        bind_text(s->fault, 5, fs != NULL ? fs->name : "?");
        bind_text(s->fault, 6, args);
        sqlite3_bind_int(s->fault, 7, faults[i].scripted);
        if (!step_done(s->fault)) {
            return false;
        }
    }
    if (++s->runs_in_tx >= RUNS_PER_TRANSACTION) {
        return sq_commit(s);
    }
    return true;
}

static void sq_close(void *ctx)
{
    struct sqlite_store *s = ctx;
    if (s == NULL) {
        return;
    }
    (void)sq_commit(s);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->rec);
    sqlite3_finalize(s->cp);
    sqlite3_finalize(s->end);
    sqlite3_finalize(s->fault);
    sqlite3_close(s->db);
    free(s);
}

static const struct rvm_run_sink_ops sqlite_ops = {
    sq_begin, sq_records, sq_checkpoint, sq_end, sq_commit, sq_close,
};

bool rvm_run_sink_open_sqlite(struct rvm_run_sink *out, const char *path, char *err, size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database '%s': %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(s);
        return false;
    }
    sqlite3_busy_timeout(s->db, 10000);
    bool ok = exec(s, schema) &&
              sqlite3_prepare_v2(s->db,
                                 "INSERT INTO sim_runs(scenario, scenario_sha256, target, seed, "
                                 "faults, build, origin) VALUES(?,?,?,?,?,?,?)",
                                 -1, &s->begin, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(s->db, "INSERT INTO sim_records VALUES(?,?,?)", -1, &s->rec,
                                 NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(s->db, "INSERT INTO sim_checkpoints VALUES(?,?,?,?,?)", -1, &s->cp,
                                 NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(s->db,
                                 "UPDATE sim_runs SET result=?, exit_code=?, invariant=?, "
                                 "detail=?, phase=?, fail_step=?, fail_line=?, steps=?, "
                                 "records=?, faults_fired=?, events=?, time_ns=?, digest=?, "
                                 "state=? WHERE id=?",
                                 -1, &s->end, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(s->db, "INSERT INTO sim_faults VALUES(?,?,?,?,?,?,?)", -1,
                                 &s->fault, NULL) == SQLITE_OK;
    if (!ok) {
        snprintf(err, errlen, "cannot use database '%s': %s", path, sqlite3_errmsg(s->db));
        sq_close(s);
        return false;
    }
    out->ops = &sqlite_ops;
    out->ctx = s;
    return true;
}
