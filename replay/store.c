/* SPDX-License-Identifier: MIT */
/* The replay store: opening, schema versions, and reading runs, records and checkpoints. */
#include "build_version.h"
#include "coverage.h"
#include "manifest.h"
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every table of schema version 1. docs/replay-store.md explains each column. */
static const char schema_v1[] =
    "CREATE TABLE meta (\n"
    "  key TEXT PRIMARY KEY NOT NULL,\n"
    "  value TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),\n"
    "  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'aborted')),\n"
    "  source TEXT NOT NULL,\n"
    "  key_source TEXT NOT NULL CHECK (key_source IN ('seed', 'external', 'none')),\n"
    "  command TEXT,\n"
    "  scenario TEXT,\n"
    "  scenario_sha256 BLOB CHECK (scenario_sha256 IS NULL OR length(scenario_sha256) = 32),\n"
    "  seed INTEGER,\n"
    "  build_id TEXT,\n"
    "  core_version TEXT,\n"
    "  platform TEXT,\n"
    "  options TEXT,\n"
    "  result TEXT,\n"
    "  exit_code INTEGER,\n"
    "  record_count INTEGER NOT NULL DEFAULT 0,\n"
    "  checkpoint_count INTEGER NOT NULL DEFAULT 0,\n"
    "  digest BLOB CHECK (digest IS NULL OR length(digest) = 32),\n"
    "  chain BLOB CHECK (chain IS NULL OR length(chain) = 32)\n"
    ");\n"
    "CREATE TABLE records (\n"
    "  key INTEGER PRIMARY KEY,\n"
    "  kind INTEGER NOT NULL,\n"
    "  actor INTEGER NOT NULL,\n"
    "  target INTEGER NOT NULL,\n"
    "  image BLOB NOT NULL,\n"
    "  chain BLOB NOT NULL\n"
    ");\n"
    "CREATE VIEW record_view AS\n"
    "  SELECT key >> 40 AS run, key & 1099511627775 AS seq, kind, actor, target, image, chain\n"
    "  FROM records;\n"
    "CREATE TABLE checkpoints (\n"
    "  run INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  digest BLOB NOT NULL,\n"
    "  chain BLOB NOT NULL,\n"
    "  hmac BLOB NOT NULL,\n"
    "  ed25519_pub BLOB,\n"
    "  ed25519_sig BLOB,\n"
    "  PRIMARY KEY (run, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE state_digests (\n"
    "  run INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  digest BLOB NOT NULL,\n"
    "  PRIMARY KEY (run, seq)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE faults (\n"
    "  run INTEGER NOT NULL,\n"
    "  id INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  time_ns INTEGER NOT NULL,\n"
    "  site TEXT NOT NULL,\n"
    "  detail TEXT,\n"
    "  PRIMARY KEY (run, id)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE invariant_failures (\n"
    "  run INTEGER NOT NULL,\n"
    "  id INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  time_ns INTEGER NOT NULL,\n"
    "  oracle TEXT NOT NULL,\n"
    "  message TEXT,\n"
    "  PRIMARY KEY (run, id)\n"
    ") WITHOUT ROWID;\n";

/*
 * Migrations: migrations[i] turns schema version i + 1 into i + 2 (one transaction, run by
 * writers). A new database is created as version 1 and then migrated step by step in the same
 * transaction, so a new store and a migrated one have exactly the same tables. A database whose
 * version has no path here is refused with a message.
 *
 * Version 2 (summary-only runs of sweeps, the simulator target, outcome figures, an index for
 * merging shards by seed, and each distinct scenario text stored once in `scenarios` instead
 * of in every run row): every column is added with a default that describes the runs a
 * version-1 store holds (content 'full', scenario inline), so existing rows need no rewrite.
 */
static const char migrate_1_to_2[] =
    "ALTER TABLE runs ADD COLUMN content TEXT NOT NULL DEFAULT 'full'\n"
    "  CHECK (content IN ('full', 'summary'));\n"
    "ALTER TABLE runs ADD COLUMN target TEXT;\n"
    "ALTER TABLE runs ADD COLUMN outcome TEXT;\n"
    "CREATE INDEX runs_by_seed ON runs (seed);\n"
    "CREATE TABLE scenarios (\n"
    "  sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(sha256) = 32),\n"
    "  text TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '2');\n";

/*
 * Version 3 (witness format 2): a checkpoint row says whether it is the log's seal, and a seal may
 * end at the same record as a periodic checkpoint, so the seal flag joins the primary key. The
 * table is rebuilt (SQLite cannot change a primary key in place); rows of older stores are
 * periodic checkpoints, which is what their MACs are.
 */
static const char migrate_2_to_3[] =
    "CREATE TABLE checkpoints_v3 (\n"
    "  run INTEGER NOT NULL,\n"
    "  seq INTEGER NOT NULL,\n"
    "  seal INTEGER NOT NULL DEFAULT 0 CHECK (seal IN (0, 1)),\n"
    "  digest BLOB NOT NULL,\n"
    "  chain BLOB NOT NULL,\n"
    "  hmac BLOB NOT NULL,\n"
    "  ed25519_pub BLOB,\n"
    "  ed25519_sig BLOB,\n"
    "  PRIMARY KEY (run, seq, seal)\n"
    ") WITHOUT ROWID;\n"
    "INSERT INTO checkpoints_v3 (run, seq, digest, chain, hmac, ed25519_pub, ed25519_sig)\n"
    "  SELECT run, seq, digest, chain, hmac, ed25519_pub, ed25519_sig FROM checkpoints;\n"
    "DROP TABLE checkpoints;\n"
    "ALTER TABLE checkpoints_v3 RENAME TO checkpoints;\n"
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '3');\n";

/* Version 4: the coverage ledger of sweeps (coverage.c). Version 5: the manifest of the runs
 * (manifest.c), built for the complete runs already stored in the same transaction. */
static const char *const migrations[] = {migrate_1_to_2, migrate_2_to_3, rvm_store_migrate_coverage,
                                         rvm_store_migrate_manifest};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

void rvm_store_set_error(struct rvm_store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof(st->err), fmt, ap);
    va_end(ap);
}

enum rvm_store_status rvm_store_fail(struct rvm_store *st, int rc, const char *what)
{
    /* A statement reset or finalised after the failure clears the connection's message; the
     * code the caller kept still names the failure. */
    const char *why = st->db == NULL                         ? "no database"
                      : sqlite3_errcode(st->db) != SQLITE_OK ? sqlite3_errmsg(st->db)
                                                             : sqlite3_errstr(rc);
    rvm_store_set_error(st, "%s: %s", what, why);
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_MISMATCH:
        return RVM_STORE_CORRUPT;
    case SQLITE_CONSTRAINT:
        return RVM_STORE_REFUSED;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_FULL:
        return RVM_STORE_BAD_FILE; /* the store cannot be written here: the environment's fault */
    default:
        return RVM_STORE_ERROR;
    }
}

sqlite3_stmt *rvm_store_prepare(struct rvm_store *st, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        rvm_store_fail(st, rc, "preparing a statement");
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

const char *rvm_store_path(const struct rvm_store *st)
{
    return st->path;
}

const char *rvm_store_error(const struct rvm_store *st)
{
    return st->err;
}

const struct rvm_crypto *rvm_store_crypto(const struct rvm_store *st)
{
    return &st->crypto;
}

uint64_t rvm_store_lookups(const struct rvm_store *st)
{
    return st->lookups;
}

const char *rvm_store_result_name(int exit_code)
{
    static const char *const names[] = {"pass",     "expectation",    "usage",   "safety",
                                        "liveness", "nondeterminism", "internal"};
    if (exit_code < 0 || exit_code >= (int)(sizeof(names) / sizeof(names[0]))) {
        return "unknown";
    }
    return names[exit_code];
}

/* One integer from a PRAGMA or query; false (error set) on failure. */
static bool query_int(struct rvm_store *st, const char *sql, int64_t *out, int *rc_out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(stmt);
    *rc_out = rc;
    return rc == SQLITE_OK;
}

static int exec(struct rvm_store *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

static enum rvm_store_status create_schema(struct rvm_store *st)
{
    /* page_size only takes effect before the first table exists; 64 KiB pages measured 1.5x the
     * insert rate of 4 KiB ones for 64-byte records (bench: replay_ingest). */
    int rc = exec(st, "PRAGMA page_size = 65536");
    if (rc == SQLITE_OK) {
        rc = exec(st, "PRAGMA journal_mode = WAL");
    }
    if (rc == SQLITE_OK) {
        rc = exec(st, "BEGIN IMMEDIATE");
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        /* another process is creating it right now (switching a new file to WAL does not wait
         * for the busy handler): let it finish, then look again */
        usleep(20000);
        return RVM_STORE_NOT_FOUND;
    }
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "creating the schema");
    }
    /* Another process may have created it between our check and the lock. */
    int64_t tables = 0;
    if (!query_int(st, "SELECT count(*) FROM sqlite_schema", &tables, &rc)) {
        exec(st, "ROLLBACK");
        return rvm_store_fail(st, rc, "creating the schema");
    }
    if (tables != 0) {
        exec(st, "ROLLBACK");
        return RVM_STORE_NOT_FOUND; /* caller re-reads the header */
    }
    char sql[256];
    rc = exec(st, schema_v1);
    for (size_t i = 0; i < NMIGRATIONS && rc == SQLITE_OK; i++) { /* bound: NMIGRATIONS */
        rc = exec(st, migrations[i]);
    }
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 RVM_STORE_APPLICATION_ID, RVM_STORE_SCHEMA_VERSION);
        rc = exec(st, sql);
    }
    if (rc == SQLITE_OK) {
        rc = exec(
            st,
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('created_by', 'rvmsim " RVMSIM_VERSION
            "')");
    }
    if (rc == SQLITE_OK) {
        rc = exec(st, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "creating the schema");
        exec(st, "ROLLBACK");
        return s;
    }
    return RVM_STORE_OK;
}

static enum rvm_store_status migrate(struct rvm_store *st, int64_t version)
{
    /* Readers take a version-1 store as it is (it lacks only version 2's columns, which read as
     * their defaults) and never modify it; writers migrate it first. */
    if (!st->writable && version >= 1) {
        st->version = (int)version;
        return RVM_STORE_OK;
    }
    /* bound: one step per schema version */
    for (int64_t v = version; v < RVM_STORE_SCHEMA_VERSION; v++) {
        const char *step = v >= 1 && (size_t)v <= NMIGRATIONS ? migrations[v - 1] : NULL;
        if (step == NULL) {
            rvm_store_set_error(st,
                                "%s: schema version %lld is older than this build's (%d) and "
                                "cannot be migrated",
                                st->path, (long long)version, RVM_STORE_SCHEMA_VERSION);
            return RVM_STORE_BAD_FILE;
        }
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)(v + 1));
        int rc = exec(st, "BEGIN IMMEDIATE");
        int64_t now = v;
        if (rc == SQLITE_OK && !query_int(st, "PRAGMA user_version", &now, &rc)) {
            now = v;
        }
        if (rc == SQLITE_OK && now != v) {
            /* another writer migrated it between our look and the lock */
            exec(st, "ROLLBACK");
            continue;
        }
        if (rc == SQLITE_OK) {
            rc = exec(st, step);
        }
        if (rc == SQLITE_OK && step == rvm_store_migrate_manifest) {
            rc = rvm_store_manifest_build(st);
        }
        if (rc == SQLITE_OK) {
            rc = exec(st, sql);
        }
        if (rc == SQLITE_OK) {
            rc = exec(st, "COMMIT");
        }
        if (rc != SQLITE_OK) {
            enum rvm_store_status s = rvm_store_fail(st, rc, "migrating the schema");
            exec(st, "ROLLBACK");
            return s == RVM_STORE_CORRUPT ? RVM_STORE_BAD_FILE : s;
        }
    }
    st->version = RVM_STORE_SCHEMA_VERSION;
    return RVM_STORE_OK;
}

/* Check (and, for writers, create or migrate) the schema. */
static enum rvm_store_status check_schema(struct rvm_store *st)
{
    /* bound: a lost creation race is retried for up to about 60 s (20 ms apart) */
    for (int attempt = 0; attempt < 3000; attempt++) {
        int64_t app = 0, version = 0, tables = 0;
        int rc;
        if (!query_int(st, "PRAGMA application_id", &app, &rc) ||
            !query_int(st, "PRAGMA user_version", &version, &rc) ||
            !query_int(st, "SELECT count(*) FROM sqlite_schema", &tables, &rc)) {
            rvm_store_set_error(st, "%s: %s", st->path,
                                (rc & 0xff) == SQLITE_NOTADB ? "not an SQLite database"
                                                             : sqlite3_errmsg(st->db));
            return RVM_STORE_BAD_FILE;
        }
        if (app == 0 && version == 0 && tables == 0) {
            if (!st->writable) {
                rvm_store_set_error(st, "%s: empty database, not an rvmsim replay store", st->path);
                return RVM_STORE_BAD_FILE;
            }
            enum rvm_store_status s = create_schema(st);
            if (s == RVM_STORE_NOT_FOUND) {
                continue; /* lost a creation race: look again */
            }
            st->version = RVM_STORE_SCHEMA_VERSION;
            return s;
        }
        if (app != RVM_STORE_APPLICATION_ID) {
            rvm_store_set_error(st,
                                "%s: not an rvmsim replay store (application_id 0x%08llx, expected "
                                "0x%08x)",
                                st->path, (unsigned long long)app, RVM_STORE_APPLICATION_ID);
            return RVM_STORE_BAD_FILE;
        }
        if (version > RVM_STORE_SCHEMA_VERSION) {
            rvm_store_set_error(st,
                                "%s: written by a newer rvmsim (schema version %lld; this build "
                                "reads versions up to %d)",
                                st->path, (long long)version, RVM_STORE_SCHEMA_VERSION);
            return RVM_STORE_BAD_FILE;
        }
        if (version < RVM_STORE_SCHEMA_VERSION) {
            return migrate(st, version);
        }
        st->version = RVM_STORE_SCHEMA_VERSION;
        return RVM_STORE_OK;
    }
    rvm_store_set_error(st, "%s: the schema keeps changing under us", st->path);
    return RVM_STORE_ERROR;
}

int rvm_store_batch_module_register(struct rvm_store *st); /* writer.c */

/* file:PATH?immutable=1 with PATH percent-encoded where a URI needs it; false if too long. */
static bool immutable_uri(const char *path, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = (size_t)snprintf(out, outlen, "file:");
    for (const char *p = path; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (n + 4 >= outlen) {
            return false;
        }
        if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    return (size_t)snprintf(out + n, outlen - n, "?immutable=1") < outlen - n;
}

/*
 * A reader on read-only media: a WAL store cannot create its shared-memory file there, so the
 * plain open fails. Nobody can be writing such a store, so it is opened immutable, unless a
 * non-empty write-ahead log sits next to it (its content would be ignored): then the reason is
 * given instead.
 */
static bool reopen_immutable(struct rvm_store *st)
{
    char wal[4200], uri[13000];
    struct stat sb;
    if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", st->path) >= sizeof(wal) ||
        !immutable_uri(st->path, uri, sizeof(uri))) {
        return false;
    }
    if (stat(wal, &sb) == 0 && sb.st_size != 0) {
        rvm_store_set_error(st,
                            "%s: cannot be read here: the directory is read-only and the store "
                            "has a write-ahead log (%s) that only a writable copy can apply",
                            st->path, wal);
        return false;
    }
    sqlite3_close_v2(st->db);
    st->db = NULL;
    if (sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK) {
        return false;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    return true;
}

/*
 * Each connection's page cache holds at most this many KiB. Appends touch only the right edge of
 * the records tree and a verify scans it in order, so neither gains from more; a bisection's
 * path (diff) is a few dozen pages. Every reading command opens one connection per thread, so
 * the bound multiplies by the threads, never by the log's length.
 *
 * It is set once the page size is final: SQLite 3.40 converts a size in KiB into pages with the
 * page size the cache had before a change, so a bound set before a new store chose 64 KiB pages
 * let that connection cache about 15 times as much (1.16 GB resident for a 10 M record demo).
 */
#define STORE_PAGE_CACHE_KIB "16384"

static enum rvm_store_status bound_page_cache(struct rvm_store *st)
{
    int rc = exec(st, "PRAGMA cache_size = -" STORE_PAGE_CACHE_KIB);
    return rc == SQLITE_OK ? RVM_STORE_OK : rvm_store_fail(st, rc, "bounding the page cache");
}

enum rvm_store_status rvm_store_open(const char *path, enum rvm_store_mode mode,
                                     struct rvm_store **out, char *err, size_t errlen)
{
    *out = NULL;
    struct rvm_store *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->path = strdup(path)) == NULL) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return RVM_STORE_ERROR;
    }
    st->writable = mode == RVM_STORE_WRITE;
    st->oc = rvm_openssl_crypto_new();
    if (st->oc == NULL) {
        snprintf(err, errlen, "OpenSSL could not provide SHA-256");
        rvm_store_close(st);
        return RVM_STORE_ERROR;
    }
    rvm_openssl_crypto_bind(st->oc, &st->crypto);

    /* One handle per thread, so SQLite's own per-connection mutex is dead weight. */
    int flags = SQLITE_OPEN_NOMUTEX |
                (st->writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
        rvm_store_close(st);
        return RVM_STORE_BAD_FILE;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 60000);
    /* Hostile databases: no triggers or views may call into our functions, and no schema-defined
     * SQL runs with more trust than the schema. */
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

    enum rvm_store_status s = check_schema(st);
    if (s != RVM_STORE_OK && !st->writable && (sqlite3_errcode(st->db) & 0xff) == SQLITE_CANTOPEN &&
        reopen_immutable(st)) {
        s = check_schema(st);
    }
    if (s == RVM_STORE_OK) {
        s = bound_page_cache(st);
    }
    int code = st->db != NULL ? sqlite3_errcode(st->db) & 0xff : SQLITE_OK;
    if (s != RVM_STORE_OK && st->writable && (code == SQLITE_CANTOPEN || code == SQLITE_READONLY)) {
        rvm_store_set_error(st,
                            "%s: cannot be written: %s (a read-only file system, file or "
                            "directory; reading commands can still open it)",
                            path, sqlite3_errmsg(st->db));
        s = RVM_STORE_BAD_FILE;
    }
    if (s == RVM_STORE_OK && st->writable && sqlite3_db_readonly(st->db, "main") == 1) {
        rvm_store_set_error(st, "%s: cannot be written: the file or its directory is read-only",
                            path);
        s = RVM_STORE_BAD_FILE;
    }
    if (s == RVM_STORE_OK && st->writable) {
        rc = exec(st, "PRAGMA synchronous = NORMAL");
        if (rc == SQLITE_OK) {
            rc = rvm_store_batch_module_register(st);
        }
        if (rc != SQLITE_OK) {
            s = rvm_store_fail(st, rc, "configuring the connection");
        }
    }
    if (s == RVM_STORE_OK && st->writable) {
        s = rvm_store_kinds_refresh(st);
    }
    if (s == RVM_STORE_OK) {
        st->get_record = rvm_store_prepare(st, "SELECT image, chain FROM records WHERE key = ?1");
        if (st->get_record == NULL) {
            /* A store whose tables are not what version 1 says. */
            s = RVM_STORE_BAD_FILE;
        }
    }
    if (s != RVM_STORE_OK) {
        snprintf(err, errlen, "%s", st->err);
        rvm_store_close(st);
        return s == RVM_STORE_CORRUPT ? RVM_STORE_BAD_FILE : s;
    }
    *out = st;
    return RVM_STORE_OK;
}

void rvm_store_close(struct rvm_store *st)
{
    if (st == NULL) {
        return;
    }
    sqlite3_finalize(st->get_record);
    sqlite3_finalize(st->get_run);
    sqlite3_finalize(st->add_summary);
    sqlite3_finalize(st->get_events[0]);
    sqlite3_finalize(st->get_events[1]);
    sqlite3_finalize(st->put_scenario);
    for (size_t i = 0; i < sizeof(st->manifest) / sizeof(st->manifest[0]); i++) {
        sqlite3_finalize(st->manifest[i]);
    }
    if (st->db != NULL) {
        sqlite3_close_v2(st->db);
    }
    rvm_openssl_crypto_free(st->oc);
    free(st->path);
    free(st);
}

enum rvm_store_status rvm_store_read_begin(struct rvm_store *st)
{
    if (st->in_read_tx) {
        return RVM_STORE_OK;
    }
    int rc = exec(st, "BEGIN");
    if (rc == SQLITE_OK) {
        /* BEGIN is deferred: touch the database so the snapshot is taken now */
        int64_t ignored;
        if (!query_int(st, "SELECT count(*) FROM sqlite_schema", &ignored, &rc)) {
            exec(st, "ROLLBACK");
        }
    }
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "starting a read transaction");
    }
    st->in_read_tx = true;
    return RVM_STORE_OK;
}

void rvm_store_read_end(struct rvm_store *st)
{
    if (st->in_read_tx) {
        exec(st, "COMMIT");
        st->in_read_tx = false;
    }
}

int rvm_store_schema_version(const struct rvm_store *st)
{
    return st->version;
}

enum rvm_store_status rvm_store_write_begin(struct rvm_store *st)
{
    if (!st->writable || st->in_write_tx || st->in_read_tx || st->writer_active) {
        rvm_store_set_error(st, "%s: the handle cannot start a write transaction now", st->path);
        return RVM_STORE_REFUSED;
    }
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "starting a write transaction");
    }
    st->in_write_tx = true;
    return RVM_STORE_OK;
}

enum rvm_store_status rvm_store_write_commit(struct rvm_store *st)
{
    if (!st->in_write_tx || st->writer_active) {
        rvm_store_set_error(st, "%s: no write transaction to commit", st->path);
        return RVM_STORE_REFUSED;
    }
    int rc = exec(st, "COMMIT");
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "committing");
        exec(st, "ROLLBACK");
        st->in_write_tx = false;
        return s;
    }
    st->in_write_tx = false;
    return RVM_STORE_OK;
}

void rvm_store_write_rollback(struct rvm_store *st)
{
    if (st->in_write_tx) {
        exec(st, "ROLLBACK");
        st->in_write_tx = false;
    }
}

bool rvm_store_in_write(const struct rvm_store *st)
{
    return st->in_write_tx;
}

/* ------------------------------------------------------------------------------------------------
 * Runs
 * --------------------------------------------------------------------------------------------- */

void rvm_store_run_free(struct rvm_store_run *run)
{
    free(run->created_at);
    free(run->command);
    free(run->scenario);
    free(run->build_id);
    free(run->core_version);
    free(run->platform);
    free(run->options);
    free(run->result);
    free(run->target);
    free(run->outcome);
    memset(run, 0, sizeof(*run));
}

static bool column_text(sqlite3_stmt *stmt, int col, char **out)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (text == NULL) {
        *out = NULL;
        return true;
    }
    *out = strdup((const char *)text);
    return *out != NULL;
}

static bool column_text_fixed(sqlite3_stmt *stmt, int col, char *out, size_t cap)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (text == NULL || strlen((const char *)text) >= cap) {
        return false;
    }
    strcpy(out, (const char *)text);
    return true;
}

/* A 32-byte blob column: false when NULL or of another size. */
static bool column_blob32(sqlite3_stmt *stmt, int col, uint8_t out[32])
{
    const void *b = sqlite3_column_blob(stmt, col);
    if (b == NULL || sqlite3_column_bytes(stmt, col) != 32) {
        return false;
    }
    memcpy(out, b, 32);
    return true;
}

enum rvm_store_status rvm_store_run_get(struct rvm_store *st, int64_t id, struct rvm_store_run *out)
{
    memset(out, 0, sizeof(*out));
    if (st->get_run == NULL) {
        /* a version-1 store has no version-2 columns: they read as their defaults */
        st->get_run = rvm_store_prepare(
            st, st->version >= 2
                    ? "SELECT id, status, source, key_source, created_at, command, "
                      "coalesce(scenario, (SELECT text FROM scenarios WHERE sha256 = "
                      "runs.scenario_sha256)), "
                      "build_id, core_version, platform, options, result, scenario_sha256, seed, "
                      "exit_code, record_count, checkpoint_count, digest, chain, content, target, "
                      "outcome FROM runs WHERE id = ?1"
                    : "SELECT id, status, source, key_source, created_at, command, scenario, "
                      "build_id, core_version, platform, options, result, scenario_sha256, seed, "
                      "exit_code, record_count, checkpoint_count, digest, chain, 'full', NULL, "
                      "NULL FROM runs WHERE id = ?1");
        if (st->get_run == NULL) {
            return RVM_STORE_CORRUPT;
        }
    }
    sqlite3_stmt *stmt = st->get_run;
    sqlite3_bind_int64(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    enum rvm_store_status s = RVM_STORE_OK;
    if (rc == SQLITE_DONE) {
        rvm_store_set_error(st, "%s: no run %lld", st->path, (long long)id);
        s = RVM_STORE_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        s = rvm_store_fail(st, rc, "reading a run");
    } else {
        out->id = sqlite3_column_int64(stmt, 0);
        bool ok = column_text_fixed(stmt, 1, out->status, sizeof(out->status)) &&
                  column_text_fixed(stmt, 2, out->source, sizeof(out->source)) &&
                  column_text_fixed(stmt, 3, out->key_source, sizeof(out->key_source)) &&
                  column_text(stmt, 4, &out->created_at) && column_text(stmt, 5, &out->command) &&
                  column_text(stmt, 6, &out->scenario) && column_text(stmt, 7, &out->build_id) &&
                  column_text(stmt, 8, &out->core_version) &&
                  column_text(stmt, 9, &out->platform) && column_text(stmt, 10, &out->options) &&
                  column_text(stmt, 11, &out->result) &&
                  column_text_fixed(stmt, 19, out->content, sizeof(out->content)) &&
                  column_text(stmt, 20, &out->target) && column_text(stmt, 21, &out->outcome);
        out->has_scenario_sha256 = column_blob32(stmt, 12, out->scenario_sha256);
        out->has_seed = sqlite3_column_type(stmt, 13) == SQLITE_INTEGER;
        out->seed = rvm_store_u64(sqlite3_column_int64(stmt, 13));
        out->has_exit_code = sqlite3_column_type(stmt, 14) == SQLITE_INTEGER;
        out->exit_code = sqlite3_column_int(stmt, 14);
        int64_t records = sqlite3_column_int64(stmt, 15);
        int64_t checkpoints = sqlite3_column_int64(stmt, 16);
        out->record_count = (uint64_t)(records < 0 ? 0 : records);
        out->checkpoint_count = (uint64_t)(checkpoints < 0 ? 0 : checkpoints);
        bool has_digest = column_blob32(stmt, 17, out->digest);
        bool has_chain = column_blob32(stmt, 18, out->chain);
        out->has_digest = has_digest && has_chain;
        bool summary = ok && strcmp(out->content, "summary") == 0;
        if (!ok || records < 0 || (uint64_t)records > RVM_STORE_MAX_RECORDS || checkpoints < 0 ||
            (!summary && strcmp(out->content, "full") != 0)) {
            rvm_store_set_error(st, "%s: run %lld has malformed metadata", st->path, (long long)id);
            s = RVM_STORE_CORRUPT;
        } else if (strcmp(out->status, "complete") == 0 && !out->has_digest && !summary) {
            /* a summary may lack a digest: a run whose worker died produced none */
            rvm_store_set_error(st, "%s: complete run %lld has no digest", st->path, (long long)id);
            s = RVM_STORE_CORRUPT;
        }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (s != RVM_STORE_OK) {
        rvm_store_run_free(out);
    }
    return s;
}

/* Ids from `stmt` (one integer column), ascending; finalizes stmt. */
static enum rvm_store_status collect_ids(struct rvm_store *st, sqlite3_stmt *stmt, int64_t **ids,
                                         size_t *count)
{
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap != 0 ? cap * 2 : 64;
            int64_t *grown = realloc(*ids, cap * sizeof(**ids));
            if (grown == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *ids = grown;
        }
        (*ids)[(*count)++] = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *count = 0;
        return rvm_store_fail(st, rc, "listing runs");
    }
    return RVM_STORE_OK;
}

enum rvm_store_status rvm_store_run_ids(struct rvm_store *st, int64_t **ids, size_t *count)
{
    *ids = NULL;
    *count = 0;
    sqlite3_stmt *stmt = rvm_store_prepare(st, "SELECT id FROM runs ORDER BY id");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    return collect_ids(st, stmt, ids, count);
}

enum rvm_store_status rvm_store_run_ids_of(struct rvm_store *st, const char *content, int64_t **ids,
                                           size_t *count)
{
    *ids = NULL;
    *count = 0;
    if (st->version < 2) {
        /* every run of a version-1 store is stored in full */
        return strcmp(content, "full") == 0 ? rvm_store_run_ids(st, ids, count) : RVM_STORE_OK;
    }
    sqlite3_stmt *stmt =
        rvm_store_prepare(st, "SELECT id FROM runs WHERE content = ?1 ORDER BY id");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_text(stmt, 1, content, -1, SQLITE_TRANSIENT);
    return collect_ids(st, stmt, ids, count);
}

enum rvm_store_status rvm_store_run_count_of(struct rvm_store *st, const char *content,
                                             uint64_t *count)
{
    *count = 0;
    sqlite3_stmt *stmt = rvm_store_prepare(
        st, st->version >= 2 ? "SELECT count(*) FROM runs WHERE content = ?1"
                             : "SELECT CASE WHEN ?1 = 'full' THEN count(*) ELSE 0 END FROM runs");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_text(stmt, 1, content, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    enum rvm_store_status s = RVM_STORE_OK;
    if (rc == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(stmt, 0);
        *count = n < 0 ? 0 : (uint64_t)n;
    } else {
        s = rvm_store_fail(st, rc, "counting runs");
    }
    sqlite3_finalize(stmt);
    return s;
}

enum rvm_store_status rvm_store_record_extent(struct rvm_store *st, int64_t run, uint64_t *count)
{
    *count = 0;
    sqlite3_stmt *stmt =
        rvm_store_prepare(st, "SELECT max(key) FROM records WHERE key >= ?1 AND key < ?2");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_int64(stmt, 1, rvm_store_key(run, 0));
    sqlite3_bind_int64(stmt, 2, rvm_store_key(run + 1, 0));
    int rc = sqlite3_step(stmt);
    enum rvm_store_status s = RVM_STORE_OK;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) {
            *count =
                (rvm_store_u64(sqlite3_column_int64(stmt, 0)) & (RVM_STORE_MAX_RECORDS - 1)) + 1;
        }
    } else {
        s = rvm_store_fail(st, rc, "reading the records of a run");
    }
    sqlite3_finalize(stmt);
    return s;
}

/* ------------------------------------------------------------------------------------------------
 * Records
 * --------------------------------------------------------------------------------------------- */

enum rvm_store_status rvm_store_record_get(struct rvm_store *st, int64_t run, uint64_t seq,
                                           uint8_t image[RVM_WITNESS_RECORD_BYTES],
                                           uint8_t chain[RVM_WITNESS_CHAIN_BYTES])
{
    sqlite3_stmt *stmt = st->get_record;
    enum rvm_store_status s = RVM_STORE_OK;
    st->lookups++;
    if (seq >= RVM_STORE_MAX_RECORDS) {
        rvm_store_set_error(st, "%s: run %lld has no record %llu", st->path, (long long)run,
                            (unsigned long long)seq);
        return RVM_STORE_NOT_FOUND;
    }
    sqlite3_bind_int64(stmt, 1, rvm_store_key(run, seq));
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const void *img = sqlite3_column_blob(stmt, 0);
        int img_len = sqlite3_column_bytes(stmt, 0);
        const void *ch = sqlite3_column_blob(stmt, 1);
        int ch_len = sqlite3_column_bytes(stmt, 1);
        if (img == NULL || img_len != RVM_WITNESS_RECORD_BYTES || ch == NULL ||
            ch_len != RVM_WITNESS_CHAIN_BYTES) {
            rvm_store_set_error(st,
                                "%s: run %lld record %llu is malformed (image %d bytes, chain %d "
                                "bytes)",
                                st->path, (long long)run, (unsigned long long)seq, img_len, ch_len);
            s = RVM_STORE_CORRUPT;
        } else {
            if (image != NULL) {
                memcpy(image, img, RVM_WITNESS_RECORD_BYTES);
            }
            if (chain != NULL) {
                memcpy(chain, ch, RVM_WITNESS_CHAIN_BYTES);
            }
        }
    } else if (rc == SQLITE_DONE) {
        rvm_store_set_error(st, "%s: run %lld has no record %llu", st->path, (long long)run,
                            (unsigned long long)seq);
        s = RVM_STORE_NOT_FOUND;
    } else {
        s = rvm_store_fail(st, rc, "reading a record");
    }
    sqlite3_reset(stmt);
    return s;
}

struct rvm_store_cursor {
    struct rvm_store *st;
    sqlite3_stmt *stmt;
    int64_t run;
};

enum rvm_store_status rvm_store_cursor_open(struct rvm_store *st, int64_t run, uint64_t from,
                                            uint64_t to, const struct rvm_store_filter *filter,
                                            struct rvm_store_cursor **out)
{
    *out = NULL;
    if (from > RVM_STORE_MAX_RECORDS) {
        from = RVM_STORE_MAX_RECORDS;
    }
    if (to > RVM_STORE_MAX_RECORDS) {
        to = RVM_STORE_MAX_RECORDS;
    }
    struct rvm_store_cursor *cur = calloc(1, sizeof(*cur));
    if (cur == NULL) {
        rvm_store_set_error(st, "out of memory");
        return RVM_STORE_ERROR;
    }
    cur->st = st;
    cur->run = run;
    cur->stmt =
        rvm_store_prepare(st, "SELECT key, kind, actor, target, image, chain FROM records "
                              "WHERE key >= ?1 AND key < ?2 "
                              "AND (?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR actor = ?4) "
                              "ORDER BY key");
    if (cur->stmt == NULL) {
        free(cur);
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_int64(cur->stmt, 1, rvm_store_key(run, from));
    sqlite3_bind_int64(cur->stmt, 2,
                       to >= RVM_STORE_MAX_RECORDS ? rvm_store_key(run + 1, 0)
                                                   : rvm_store_key(run, to));
    if (filter != NULL && filter->by_kind) {
        sqlite3_bind_int(cur->stmt, 3, filter->kind);
    }
    if (filter != NULL && filter->by_actor) {
        sqlite3_bind_int64(cur->stmt, 4, filter->actor);
    }
    *out = cur;
    return RVM_STORE_OK;
}

enum rvm_store_status rvm_store_cursor_next(struct rvm_store_cursor *cur, struct rvm_store_row *row)
{
    int rc = sqlite3_step(cur->stmt);
    if (rc == SQLITE_DONE) {
        return RVM_STORE_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        return rvm_store_fail(cur->st, rc, "reading records");
    }
    sqlite3_stmt *s = cur->stmt;
    row->seq = rvm_store_u64(sqlite3_column_int64(s, 0)) & (RVM_STORE_MAX_RECORDS - 1);
    int64_t kind = sqlite3_column_int64(s, 1);
    int64_t actor = sqlite3_column_int64(s, 2);
    row->target = rvm_store_u64(sqlite3_column_int64(s, 3));
    const void *img = sqlite3_column_blob(s, 4);
    int img_len = sqlite3_column_bytes(s, 4);
    const void *ch = sqlite3_column_blob(s, 5);
    int ch_len = sqlite3_column_bytes(s, 5);
    if (kind < 0 || kind > 255 || actor < 0 || actor > UINT32_MAX || img == NULL ||
        img_len != RVM_WITNESS_RECORD_BYTES || ch == NULL || ch_len != RVM_WITNESS_CHAIN_BYTES) {
        rvm_store_set_error(cur->st, "%s: run %lld record %llu is malformed", cur->st->path,
                            (long long)cur->run, (unsigned long long)row->seq);
        return RVM_STORE_CORRUPT;
    }
    row->kind = (uint8_t)kind;
    row->actor = (uint32_t)actor;
    memcpy(row->image, img, RVM_WITNESS_RECORD_BYTES);
    memcpy(row->chain, ch, RVM_WITNESS_CHAIN_BYTES);
    return RVM_STORE_OK;
}

void rvm_store_cursor_close(struct rvm_store_cursor *cur)
{
    if (cur != NULL) {
        sqlite3_finalize(cur->stmt);
        free(cur);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Checkpoints and state digests
 * --------------------------------------------------------------------------------------------- */

static bool grow_array(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    size_t n = *cap != 0 ? *cap * 2 : 64;
    while (n < need) {
        n *= 2;
    }
    void *p = realloc(*array, n * elem);
    if (p == NULL) {
        return false;
    }
    *array = p;
    *cap = n;
    return true;
}

/* The rows of one run's table, read one at a time: what both cursors below and the array
 * readers built on them share. */
struct run_rows {
    struct rvm_store *st;
    int64_t run;
    sqlite3_stmt *stmt;
};

static enum rvm_store_status run_rows_open(struct run_rows *rows, struct rvm_store *st, int64_t run,
                                           const char *sql)
{
    rows->st = st;
    rows->run = run;
    rows->stmt = rvm_store_prepare(st, sql);
    if (rows->stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_int64(rows->stmt, 1, run);
    return RVM_STORE_OK;
}

/* RVM_STORE_OK with a row to read, RVM_STORE_NOT_FOUND at the end, or an error. */
static enum rvm_store_status run_rows_step(struct run_rows *rows, const char *what)
{
    int rc = sqlite3_step(rows->stmt);
    if (rc == SQLITE_DONE) {
        return RVM_STORE_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        return rvm_store_fail(rows->st, rc, what);
    }
    return RVM_STORE_OK;
}

typedef enum rvm_store_status (*run_row_reader)(struct run_rows *rows, void *item);

/* Every row of `sql` for `run` through `read` into a malloc'ed array of `size`-byte items. */
static enum rvm_store_status run_rows_collect(struct rvm_store *st, int64_t run, const char *sql,
                                              run_row_reader read, size_t size, void **out,
                                              size_t *count)
{
    *out = NULL;
    *count = 0;
    struct run_rows rows;
    enum rvm_store_status s = run_rows_open(&rows, st, run, sql);
    if (s != RVM_STORE_OK) {
        return s;
    }
    size_t cap = 0;
    for (;;) {
        if (!grow_array(out, &cap, *count + 1, size)) {
            rvm_store_set_error(st, "out of memory");
            s = RVM_STORE_ERROR;
            break;
        }
        s = read(&rows, (char *)*out + *count * size);
        if (s != RVM_STORE_OK) {
            break;
        }
        ++*count;
    }
    sqlite3_finalize(rows.stmt);
    if (s == RVM_STORE_NOT_FOUND) {
        return RVM_STORE_OK;
    }
    free(*out);
    *out = NULL;
    *count = 0;
    return s;
}

static const char *checkpoint_sql(const struct rvm_store *st)
{
    /* before version 3 every checkpoint was periodic */
    return st->version >= 3 ? "SELECT seq, digest, chain, hmac, ed25519_pub, ed25519_sig, seal "
                              "FROM checkpoints WHERE run = ?1 ORDER BY seq, seal"
                            : "SELECT seq, digest, chain, hmac, ed25519_pub, ed25519_sig, 0 "
                              "FROM checkpoints WHERE run = ?1 ORDER BY seq";
}

static enum rvm_store_status read_checkpoint(struct run_rows *rows, void *item)
{
    struct rvm_store_checkpoint *c = item;
    enum rvm_store_status s = run_rows_step(rows, "reading checkpoints");
    if (s != RVM_STORE_OK) {
        return s;
    }
    memset(c, 0, sizeof(*c));
    int64_t seq = sqlite3_column_int64(rows->stmt, 0);
    const void *pub = sqlite3_column_blob(rows->stmt, 4);
    const void *sig = sqlite3_column_blob(rows->stmt, 5);
    bool has_pub = pub != NULL && sqlite3_column_bytes(rows->stmt, 4) == RVM_ED25519_PUBLIC_BYTES;
    bool has_sig =
        sig != NULL && sqlite3_column_bytes(rows->stmt, 5) == RVM_ED25519_SIGNATURE_BYTES;
    bool pub_null = sqlite3_column_type(rows->stmt, 4) == SQLITE_NULL;
    bool sig_null = sqlite3_column_type(rows->stmt, 5) == SQLITE_NULL;
    int64_t seal = sqlite3_column_int64(rows->stmt, 6);
    if (seq < 0 || (seal != 0 && seal != 1) || !column_blob32(rows->stmt, 1, c->cp.digest) ||
        !column_blob32(rows->stmt, 2, c->cp.chain) || !column_blob32(rows->stmt, 3, c->cp.hmac) ||
        !((has_pub && has_sig) || (pub_null && sig_null))) {
        rvm_store_set_error(rows->st, "%s: run %lld checkpoint at seq %lld is malformed",
                            rows->st->path, (long long)rows->run, (long long)seq);
        return RVM_STORE_CORRUPT;
    }
    c->cp.sequence = (uint64_t)seq;
    c->cp.seal = seal == 1;
    c->has_ed25519 = has_pub && has_sig;
    if (c->has_ed25519) {
        memcpy(c->ed25519_pub, pub, RVM_ED25519_PUBLIC_BYTES);
        memcpy(c->ed25519_sig, sig, RVM_ED25519_SIGNATURE_BYTES);
    }
    return RVM_STORE_OK;
}

static const char state_sql[] = "SELECT seq, digest FROM state_digests WHERE run = ?1 ORDER BY seq";

static enum rvm_store_status read_state(struct run_rows *rows, void *item)
{
    struct rvm_store_state *d = item;
    enum rvm_store_status s = run_rows_step(rows, "reading state digests");
    if (s != RVM_STORE_OK) {
        return s;
    }
    int64_t seq = sqlite3_column_int64(rows->stmt, 0);
    if (seq < 0 || !column_blob32(rows->stmt, 1, d->digest)) {
        rvm_store_set_error(rows->st, "%s: run %lld state digest at seq %lld is malformed",
                            rows->st->path, (long long)rows->run, (long long)seq);
        return RVM_STORE_CORRUPT;
    }
    d->seq = (uint64_t)seq;
    return RVM_STORE_OK;
}

struct rvm_store_checkpoint_cursor {
    struct run_rows rows;
};

enum rvm_store_status rvm_store_checkpoint_cursor_open(struct rvm_store *st, int64_t run,
                                                       struct rvm_store_checkpoint_cursor **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL) {
        rvm_store_set_error(st, "out of memory");
        return RVM_STORE_ERROR;
    }
    enum rvm_store_status s = run_rows_open(&(*out)->rows, st, run, checkpoint_sql(st));
    if (s != RVM_STORE_OK) {
        free(*out);
        *out = NULL;
    }
    return s;
}

enum rvm_store_status rvm_store_checkpoint_cursor_next(struct rvm_store_checkpoint_cursor *cur,
                                                       struct rvm_store_checkpoint *c)
{
    return read_checkpoint(&cur->rows, c);
}

void rvm_store_checkpoint_cursor_close(struct rvm_store_checkpoint_cursor *cur)
{
    if (cur != NULL) {
        sqlite3_finalize(cur->rows.stmt);
        free(cur);
    }
}

enum rvm_store_status rvm_store_checkpoints(struct rvm_store *st, int64_t run,
                                            struct rvm_store_checkpoint **out, size_t *count)
{
    void *items;
    enum rvm_store_status s = run_rows_collect(st, run, checkpoint_sql(st), read_checkpoint,
                                               sizeof(**out), &items, count);
    *out = items;
    return s;
}

struct rvm_store_state_cursor {
    struct run_rows rows;
};

enum rvm_store_status rvm_store_state_cursor_open(struct rvm_store *st, int64_t run,
                                                  struct rvm_store_state_cursor **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL) {
        rvm_store_set_error(st, "out of memory");
        return RVM_STORE_ERROR;
    }
    enum rvm_store_status s = run_rows_open(&(*out)->rows, st, run, state_sql);
    if (s != RVM_STORE_OK) {
        free(*out);
        *out = NULL;
    }
    return s;
}

enum rvm_store_status rvm_store_state_cursor_next(struct rvm_store_state_cursor *cur,
                                                  struct rvm_store_state *d)
{
    return read_state(&cur->rows, d);
}

void rvm_store_state_cursor_close(struct rvm_store_state_cursor *cur)
{
    if (cur != NULL) {
        sqlite3_finalize(cur->rows.stmt);
        free(cur);
    }
}

enum rvm_store_status rvm_store_states(struct rvm_store *st, int64_t run,
                                       struct rvm_store_state **out, size_t *count)
{
    void *items;
    enum rvm_store_status s =
        run_rows_collect(st, run, state_sql, read_state, sizeof(**out), &items, count);
    *out = items;
    return s;
}

static const char *const event_tables[] = {"faults", "invariant_failures"};
static const char *const event_columns[] = {"site, detail", "oracle, message"};

void rvm_store_events_free(struct rvm_store_event *ev, size_t count)
{
    for (size_t i = 0; ev != NULL && i < count; i++) {
        free(ev[i].name);
        free(ev[i].text);
    }
    free(ev);
}

enum rvm_store_status rvm_store_events(struct rvm_store *st, int64_t run,
                                       enum rvm_store_event_table table,
                                       struct rvm_store_event **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    int t = table != RVM_STORE_FAULTS;
    if (st->get_events[t] == NULL) {
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT seq, time_ns, %s FROM %s WHERE run = ?1 ORDER BY id",
                 event_columns[t], event_tables[t]);
        st->get_events[t] = rvm_store_prepare(st, sql);
        if (st->get_events[t] == NULL) {
            return RVM_STORE_CORRUPT;
        }
    }
    sqlite3_stmt *stmt = st->get_events[t];
    sqlite3_bind_int64(stmt, 1, run);
    size_t cap = 0;
    enum rvm_store_status s = RVM_STORE_OK;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        void *arr = *out;
        if (!grow_array(&arr, &cap, *count + 1, sizeof(**out))) {
            rvm_store_set_error(st, "out of memory");
            s = RVM_STORE_ERROR;
            break;
        }
        *out = arr;
        struct rvm_store_event *e = &(*out)[*count];
        memset(e, 0, sizeof(*e));
        e->seq = rvm_store_u64(sqlite3_column_int64(stmt, 0));
        e->time_ns = rvm_store_u64(sqlite3_column_int64(stmt, 1));
        (*count)++;
        if (!column_text(stmt, 2, &e->name) || e->name == NULL || !column_text(stmt, 3, &e->text)) {
            rvm_store_set_error(st, "%s: run %lld has a malformed %s row", st->path, (long long)run,
                                event_tables[table != RVM_STORE_FAULTS]);
            s = RVM_STORE_CORRUPT;
            break;
        }
    }
    if (s == RVM_STORE_OK && rc != SQLITE_DONE) {
        s = rvm_store_fail(st, rc, "reading faults or invariant failures");
    }
    sqlite3_reset(stmt);
    if (s != RVM_STORE_OK) {
        rvm_store_events_free(*out, *count);
        *out = NULL;
        *count = 0;
    }
    return s;
}

enum rvm_store_status rvm_store_event_add(struct rvm_store *st, int64_t run,
                                          enum rvm_store_event_table table, uint64_t seq,
                                          uint64_t time_ns, const char *name, const char *text)
{
    char sql[240];
    const char *t = event_tables[table != RVM_STORE_FAULTS];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (run, id, seq, time_ns, %s) VALUES (?1, (SELECT coalesce(max(id) "
             "+ 1, 0) FROM %s WHERE run = ?1), ?2, ?3, ?4, ?5)",
             t, event_columns[table != RVM_STORE_FAULTS], t);
    if (!st->writable || name == NULL) {
        rvm_store_set_error(st, "%s: cannot add a row to %s", st->path, t);
        return RVM_STORE_REFUSED;
    }
    sqlite3_stmt *stmt = rvm_store_prepare(st, sql);
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_int64(stmt, 1, run);
    sqlite3_bind_int64(stmt, 2, rvm_store_i64(seq));
    sqlite3_bind_int64(stmt, 3, rvm_store_i64(time_ns));
    sqlite3_bind_text(stmt, 4, name, -1, SQLITE_TRANSIENT);
    if (text != NULL) {
        sqlite3_bind_text(stmt, 5, text, -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? RVM_STORE_OK : rvm_store_fail(st, rc, "adding a row");
}

enum rvm_store_status rvm_store_summary_add(struct rvm_store *st,
                                            const struct rvm_store_run_info *info,
                                            const struct rvm_store_summary *sum, int64_t *run_id)
{
    *run_id = 0;
    if (!st->writable || st->writer_active || st->in_read_tx || info->source == NULL) {
        rvm_store_set_error(st, "%s: cannot add a summary run now", st->path);
        return RVM_STORE_REFUSED;
    }
    if (st->add_summary == NULL) {
        st->add_summary = rvm_store_prepare(
            st, "INSERT INTO runs (status, content, source, key_source, command, scenario, "
                "scenario_sha256, seed, build_id, core_version, platform, options, target, "
                "result, exit_code, record_count, checkpoint_count, digest, chain, outcome, "
                "created_at) VALUES ('complete', 'summary', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
                "coalesce(?19, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
        if (st->add_summary == NULL) {
            return RVM_STORE_CORRUPT;
        }
    }
    sqlite3_stmt *stmt = st->add_summary;
    int rc = rvm_store_bind_run_info(st, stmt, info, 1);
    if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(stmt);
        return rvm_store_fail(st, rc, "adding a summary run");
    }
    sqlite3_bind_text(stmt, 12, sum->result != NULL ? sum->result : "unknown", -1,
                      SQLITE_TRANSIENT);
    if (sum->exit_code >= 0) {
        sqlite3_bind_int(stmt, 13, sum->exit_code);
    }
    sqlite3_bind_int64(stmt, 14, rvm_store_i64(sum->record_count));
    sqlite3_bind_int64(stmt, 15, rvm_store_i64(sum->checkpoint_count));
    if (sum->has_digest) {
        sqlite3_bind_blob(stmt, 16, sum->digest, RVM_SHA256_DIGEST_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 17, sum->chain, RVM_WITNESS_CHAIN_BYTES, SQLITE_STATIC);
    }
    if (sum->outcome != NULL) {
        sqlite3_bind_text(stmt, 18, sum->outcome, -1, SQLITE_TRANSIENT);
    }
    if (info->created_at != NULL) {
        sqlite3_bind_text(stmt, 19, info->created_at, -1, SQLITE_TRANSIENT);
    }
    enum rvm_store_status s = RVM_STORE_OK;
    /* the row and its manifest entry go in together */
    rc = st->in_write_tx ? SQLITE_OK : exec(st, "SAVEPOINT rvm_summary");
    if (rc == SQLITE_OK) {
        rc = sum->record_count > RVM_STORE_MAX_RECORDS ? SQLITE_CONSTRAINT : sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        s = rvm_store_fail(st, rc, "adding a summary run");
    } else {
        *run_id = sqlite3_last_insert_rowid(st->db);
        if (*run_id < 1 || *run_id > RVM_STORE_MAX_RUN) {
            rvm_store_set_error(st, "%s: run id %lld is beyond the store's limit of %lld runs",
                                st->path, (long long)*run_id, (long long)RVM_STORE_MAX_RUN);
            s = RVM_STORE_REFUSED;
        }
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (s == RVM_STORE_OK) {
        rc = rvm_store_manifest_add(st, *run_id);
        if (rc != SQLITE_OK) {
            s = rvm_store_fail(st, rc, "adding a summary run to the manifest");
            if (!st->in_write_tx) {
                exec(st, "ROLLBACK TO rvm_summary");
            }
            *run_id = 0;
        }
    }
    if (s == RVM_STORE_REFUSED && *run_id > 0) {
        char sql[80];
        snprintf(sql, sizeof(sql), "DELETE FROM runs WHERE id = %lld", (long long)*run_id);
        exec(st, sql);
        *run_id = 0;
    }
    if (!st->in_write_tx) {
        exec(st, "RELEASE rvm_summary");
    }
    return s;
}

enum rvm_store_status rvm_store_drop_duplicate(struct rvm_store *st, int64_t run, int64_t *kept)
{
    *kept = run;
    sqlite3_stmt *stmt = rvm_store_prepare(
        st,
        "SELECT o.id FROM runs n JOIN runs o ON o.seed = n.seed AND o.source = n.source AND "
        "o.scenario_sha256 IS n.scenario_sha256 AND o.options IS n.options AND "
        "o.target IS n.target AND (o.content = n.content OR o.content = 'full') AND "
        "o.result IS n.result AND "
        "o.record_count = n.record_count AND o.digest = n.digest AND o.id < n.id AND "
        "o.status = 'complete' WHERE n.id = ?1 AND n.status = 'complete' ORDER BY o.id LIMIT 1");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    sqlite3_bind_int64(stmt, 1, run);
    int rc = sqlite3_step(stmt);
    int64_t earlier = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? RVM_STORE_OK : rvm_store_fail(st, rc, "looking for a duplicate");
    }
    char sql[640];
    snprintf(
        sql, sizeof(sql),
        "%sDELETE FROM records WHERE key >= %lld AND key < %lld; "
        "DELETE FROM checkpoints WHERE run = %lld; DELETE FROM state_digests WHERE run = %lld; "
        "DELETE FROM faults WHERE run = %lld; DELETE FROM invariant_failures WHERE run = %lld; "
        "DELETE FROM runs WHERE id = %lld;",
        st->in_write_tx ? "" : "BEGIN IMMEDIATE; ", (long long)rvm_store_key(run, 0),
        (long long)rvm_store_key(run + 1, 0), (long long)run, (long long)run, (long long)run,
        (long long)run, (long long)run);
    rc = exec(st, sql);
    if (rc == SQLITE_OK) {
        rc = rvm_store_manifest_drop(st, run, earlier);
    }
    if (rc == SQLITE_OK && !st->in_write_tx) {
        rc = exec(st, "COMMIT");
    }
    if (rc == SQLITE_NOTFOUND) {
        rvm_store_set_error(st,
                            "%s: run %lld is not in the store manifest, which was changed "
                            "(`rvmsim verify --db` says how)",
                            st->path, (long long)run);
        if (!st->in_write_tx) {
            exec(st, "ROLLBACK");
        }
        return RVM_STORE_CORRUPT;
    }
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "dropping a duplicate run");
        if (!st->in_write_tx) {
            exec(st, "ROLLBACK");
        }
        return s;
    }
    *kept = earlier;
    return RVM_STORE_OK;
}
