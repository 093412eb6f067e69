/* SPDX-License-Identifier: MIT */
/* The store manifest: entries, their hash chain and the check against the runs table. */
#include "manifest.h"

#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Version 5: the manifest (docs/replay-store.md, "Store manifest"). */
const char rvm_store_migrate_manifest[] =
    "CREATE TABLE manifest (\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  op TEXT NOT NULL CHECK (op IN ('add', 'drop')),\n"
    "  run INTEGER NOT NULL,\n"
    "  ref INTEGER NOT NULL DEFAULT 0,\n"
    "  full INTEGER NOT NULL CHECK (full IN (0, 1)),\n"
    "  record_count INTEGER NOT NULL,\n"
    "  digest BLOB,\n"
    "  identity BLOB NOT NULL,\n"
    "  run_digest BLOB NOT NULL,\n"
    "  hash BLOB NOT NULL\n"
    ");\n"
    "CREATE INDEX manifest_by_run ON manifest (run);\n"
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '5');\n";

/* The run columns the entries cover, in the order the byte layout takes them. */
#define RUN_COLUMNS                                                                                \
    "id, source, scenario_sha256, options, target, seed, result, record_count, digest, status, "   \
    "content, key_source, command, build_id, core_version, platform, exit_code, "                  \
    "checkpoint_count, chain, outcome, created_at, "                                               \
    "(SELECT hmac FROM checkpoints c WHERE c.run = runs.id AND c.seal = 1)"

#define ENTRY_COLUMNS "seq, op, run, ref, full, record_count, digest, identity, run_digest, hash"

enum run_column {
    COL_ID,
    COL_SOURCE,
    COL_SCENARIO_SHA256,
    COL_OPTIONS,
    COL_TARGET,
    COL_SEED,
    COL_RESULT,
    COL_RECORD_COUNT,
    COL_DIGEST,
    COL_STATUS,
    COL_CONTENT,
    COL_KEY_SOURCE,
    COL_COMMAND,
    COL_BUILD_ID,
    COL_CORE_VERSION,
    COL_PLATFORM,
    COL_EXIT_CODE,
    COL_CHECKPOINT_COUNT,
    COL_CHAIN,
    COL_OUTCOME,
    COL_CREATED_AT,
    COL_SEAL_HMAC,
};

struct bytes {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct bytes *b, const void *data, size_t len)
{
    if (b->oom) {
        return;
    }
    if (b->len + len > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 512;
        while (cap < b->len + len) { /* bound: doubles until it fits */
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (len != 0) {
        memcpy(b->p + b->len, data, len);
    }
    b->len += len;
}

static void put_le64(struct bytes *b, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++) { /* bound: 8 bytes */
        le[i] = (uint8_t)(v >> (8 * i));
    }
    put(b, le, sizeof(le));
}

static void put_u8(struct bytes *b, uint8_t v)
{
    put(b, &v, 1);
}

/* A text or blob column: LE32 length and the bytes, or LE32 0xFFFFFFFF for NULL. */
static void put_column_bytes(struct bytes *b, sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
        const uint8_t null_len[4] = {0xff, 0xff, 0xff, 0xff};
        put(b, null_len, sizeof(null_len));
        return;
    }
    const void *p = sqlite3_column_blob(stmt, col);
    uint32_t n = (uint32_t)sqlite3_column_bytes(stmt, col);
    const uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put(b, len, sizeof(len));
    put(b, p, n);
}

/* An integer column that may be NULL: 0x00, or 0x01 and LE64. */
static void put_column_opt_int(struct bytes *b, sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL) {
        put_u8(b, 0);
        return;
    }
    put_u8(b, 1);
    put_le64(b, rvm_store_u64(sqlite3_column_int64(stmt, col)));
}

static void put_column_int(struct bytes *b, sqlite3_stmt *stmt, int col)
{
    put_le64(b, rvm_store_u64(sqlite3_column_int64(stmt, col)));
}

static void put_tag(struct bytes *b, const char *tag)
{
    put(b, tag, strlen(tag));
}

/* What an entry records of one run row (RUN_COLUMNS). */
struct run_digests {
    uint8_t identity[32];
    uint8_t run_digest[32];
    bool full;
    uint64_t record_count;
    bool has_digest;
    uint8_t digest[32];
};

static bool digest_run_row(struct rvm_store *st, sqlite3_stmt *row, struct run_digests *out)
{
    struct bytes b = {0};
    put_tag(&b, "rvm-manifest identity 1");
    put_column_bytes(&b, row, COL_SOURCE);
    put_column_bytes(&b, row, COL_SCENARIO_SHA256);
    put_column_bytes(&b, row, COL_OPTIONS);
    put_column_bytes(&b, row, COL_TARGET);
    put_column_opt_int(&b, row, COL_SEED);
    put_column_bytes(&b, row, COL_RESULT);
    put_column_int(&b, row, COL_RECORD_COUNT);
    put_column_bytes(&b, row, COL_DIGEST);
    if (!b.oom) {
        rvm_crypto_sha256(&st->crypto, b.p, b.len, out->identity);
    }
    b.len = 0;
    put_tag(&b, "rvm-manifest run 1");
    put(&b, out->identity, sizeof(out->identity));
    static const int covered[] = {
        COL_STATUS,       COL_CONTENT,    COL_KEY_SOURCE, COL_COMMAND,          COL_BUILD_ID,
        COL_CORE_VERSION, COL_PLATFORM,   COL_EXIT_CODE,  COL_CHECKPOINT_COUNT, COL_CHAIN,
        COL_OUTCOME,      COL_CREATED_AT, COL_SEAL_HMAC};
    for (size_t i = 0; i < sizeof(covered) / sizeof(covered[0]); i++) { /* bound: 13 columns */
        if (covered[i] == COL_EXIT_CODE) {
            put_column_opt_int(&b, row, covered[i]);
        } else if (covered[i] == COL_CHECKPOINT_COUNT) {
            put_column_int(&b, row, covered[i]);
        } else {
            put_column_bytes(&b, row, covered[i]);
        }
    }
    bool ok = !b.oom;
    if (ok) {
        rvm_crypto_sha256(&st->crypto, b.p, b.len, out->run_digest);
    }
    free(b.p);
    const unsigned char *content = sqlite3_column_text(row, COL_CONTENT);
    out->full = content == NULL || strcmp((const char *)content, "summary") != 0;
    out->record_count = rvm_store_u64(sqlite3_column_int64(row, COL_RECORD_COUNT));
    out->has_digest = sqlite3_column_type(row, COL_DIGEST) == SQLITE_BLOB &&
                      sqlite3_column_bytes(row, COL_DIGEST) == 32;
    if (out->has_digest) {
        memcpy(out->digest, sqlite3_column_blob(row, COL_DIGEST), 32);
    }
    if (!ok) {
        rvm_store_set_error(st, "out of memory");
    }
    return ok;
}

enum manifest_op { OP_ADD = 1, OP_DROP = 2 };

struct entry {
    uint64_t seq;
    enum manifest_op op;
    int64_t run, ref;
    struct run_digests d;
    uint8_t hash[32];
};

static void entry_hash(struct rvm_store *st, const struct entry *e, const uint8_t prev[32],
                       uint8_t out[32])
{
    uint8_t m[20 + 8 + 32 + 1 + 8 + 8 + 1 + 32 + 32];
    size_t n = 0;
    memcpy(m, "rvm-manifest entry 1", 20);
    n += 20;
    for (int i = 0; i < 8; i++) { /* bound: 8 bytes */
        m[n++] = (uint8_t)(e->seq >> (8 * i));
    }
    memcpy(m + n, prev, 32);
    n += 32;
    m[n++] = (uint8_t)e->op;
    for (int i = 0; i < 8; i++) { /* bound: 8 bytes */
        m[n++] = (uint8_t)(rvm_store_u64(e->run) >> (8 * i));
    }
    for (int i = 0; i < 8; i++) { /* bound: 8 bytes */
        m[n++] = (uint8_t)(rvm_store_u64(e->ref) >> (8 * i));
    }
    m[n++] = e->d.full ? 1 : 0;
    memcpy(m + n, e->d.identity, 32);
    n += 32;
    memcpy(m + n, e->d.run_digest, 32);
    n += 32;
    rvm_crypto_sha256(&st->crypto, m, n, out);
}

enum manifest_stmt { STMT_HEAD, STMT_INSERT, STMT_RUN_ROW, STMT_ENTRY };

static const char *const manifest_sql[] = {
    [STMT_HEAD] = "SELECT seq, hash FROM manifest ORDER BY seq DESC LIMIT 1",
    [STMT_INSERT] = "INSERT INTO manifest (seq, op, run, ref, full, record_count, digest, "
                    "identity, run_digest, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [STMT_RUN_ROW] = "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1",
    [STMT_ENTRY] = "SELECT " ENTRY_COLUMNS " FROM manifest WHERE seq = ?1",
};

/* The handle's prepared statement `which`, reset and without bindings; NULL on failure. */
static sqlite3_stmt *cached(struct rvm_store *st, enum manifest_stmt which)
{
    if (st->manifest[which] == NULL) {
        st->manifest[which] = rvm_store_prepare(st, manifest_sql[which]);
    } else {
        sqlite3_reset(st->manifest[which]);
        sqlite3_clear_bindings(st->manifest[which]);
    }
    return st->manifest[which];
}

/* The last entry's sequence number and hash; *next = 0 and zeros when empty. */
static int manifest_head(struct rvm_store *st, uint64_t *next, uint8_t prev[32])
{
    sqlite3_stmt *stmt = cached(st, STMT_HEAD);
    *next = 0;
    memset(prev, 0, 32);
    int rc = stmt == NULL ? SQLITE_ERROR : sqlite3_step(stmt);
    {
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_bytes(stmt, 1) != 32 || sqlite3_column_int64(stmt, 0) < 0) {
                rc = SQLITE_CORRUPT;
            } else {
                *next = (uint64_t)sqlite3_column_int64(stmt, 0) + 1;
                memcpy(prev, sqlite3_column_blob(stmt, 1), 32);
                rc = SQLITE_OK;
            }
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_reset(stmt);
    return rc;
}

static int append_entry(struct rvm_store *st, struct entry *e)
{
    uint8_t prev[32];
    int rc = manifest_head(st, &e->seq, prev);
    if (rc != SQLITE_OK) {
        return rc;
    }
    entry_hash(st, e, prev, e->hash);
    sqlite3_stmt *stmt = cached(st, STMT_INSERT);
    rc = stmt == NULL ? SQLITE_ERROR : SQLITE_OK;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, rvm_store_i64(e->seq));
        sqlite3_bind_text(stmt, 2, e->op == OP_ADD ? "add" : "drop", -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, e->run);
        sqlite3_bind_int64(stmt, 4, e->ref);
        sqlite3_bind_int(stmt, 5, e->d.full ? 1 : 0);
        sqlite3_bind_int64(stmt, 6, rvm_store_i64(e->d.record_count));
        if (e->d.has_digest) {
            sqlite3_bind_blob(stmt, 7, e->d.digest, 32, SQLITE_STATIC);
        }
        sqlite3_bind_blob(stmt, 8, e->d.identity, 32, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 9, e->d.run_digest, 32, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 10, e->hash, 32, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_reset(stmt);
    }
    return rc;
}

int rvm_store_manifest_add(struct rvm_store *st, int64_t run)
{
    if (st->version < 5) {
        return SQLITE_OK;
    }
    sqlite3_stmt *stmt = cached(st, STMT_RUN_ROW);
    struct entry e = {.op = OP_ADD, .run = run};
    int rc = stmt == NULL ? SQLITE_ERROR : SQLITE_OK;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, run);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            rc = digest_run_row(st, stmt, &e.d) ? SQLITE_OK : SQLITE_NOMEM;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_NOTFOUND;
        }
        sqlite3_reset(stmt);
    }
    return rc == SQLITE_OK ? append_entry(st, &e) : rc;
}

int rvm_store_manifest_build(struct rvm_store *st)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        st->db, "SELECT " RUN_COLUMNS " FROM runs WHERE status = 'complete' ORDER BY id", -1, &stmt,
        NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) { /* bound: the runs */
        struct entry e = {.op = OP_ADD, .run = sqlite3_column_int64(stmt, COL_ID)};
        rc = digest_run_row(st, stmt, &e.d) ? append_entry(st, &e) : SQLITE_NOMEM;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* An entry from a row of ENTRY_COLUMNS; SQLITE_CORRUPT when a column is malformed. */
static int entry_from_row(sqlite3_stmt *stmt, struct entry *e)
{
    const unsigned char *op = sqlite3_column_text(stmt, 1);
    memset(e, 0, sizeof(*e));
    e->seq = rvm_store_u64(sqlite3_column_int64(stmt, 0));
    bool add = op != NULL && strcmp((const char *)op, "add") == 0;
    bool drop = op != NULL && strcmp((const char *)op, "drop") == 0;
    e->op = drop ? OP_DROP : OP_ADD;
    e->run = sqlite3_column_int64(stmt, 2);
    e->ref = sqlite3_column_int64(stmt, 3);
    e->d.full = sqlite3_column_int64(stmt, 4) != 0;
    e->d.record_count = rvm_store_u64(sqlite3_column_int64(stmt, 5));
    e->d.has_digest = sqlite3_column_bytes(stmt, 6) == 32;
    if (e->d.has_digest) {
        memcpy(e->d.digest, sqlite3_column_blob(stmt, 6), 32);
    }
    if ((!add && !drop) || sqlite3_column_bytes(stmt, 7) != 32 ||
        sqlite3_column_bytes(stmt, 8) != 32 || sqlite3_column_bytes(stmt, 9) != 32) {
        return SQLITE_CORRUPT;
    }
    memcpy(e->d.identity, sqlite3_column_blob(stmt, 7), 32);
    memcpy(e->d.run_digest, sqlite3_column_blob(stmt, 8), 32);
    memcpy(e->hash, sqlite3_column_blob(stmt, 9), 32);
    return SQLITE_OK;
}

/* Reads the entry at `seq`. */
static int read_entry(struct rvm_store *st, int64_t seq, struct entry *e)
{
    sqlite3_stmt *stmt = cached(st, STMT_ENTRY);
    if (stmt == NULL) {
        return SQLITE_ERROR;
    }
    sqlite3_bind_int64(stmt, 1, seq);
    int rc = sqlite3_step(stmt);
    rc = rc == SQLITE_ROW ? entry_from_row(stmt, e) : rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
    sqlite3_reset(stmt);
    return rc;
}

/* The newest `add` entry of run `run`. */
static int read_add_entry(struct rvm_store *st, int64_t run, struct entry *e)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT " ENTRY_COLUMNS " FROM manifest WHERE run = ?1 AND op = "
                                "'add' ORDER BY seq DESC LIMIT 1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, run);
        rc = sqlite3_step(stmt);
        rc = rc == SQLITE_ROW ? entry_from_row(stmt, e) : rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
    }
    sqlite3_finalize(stmt);
    return rc;
}

int rvm_store_manifest_drop(struct rvm_store *st, int64_t dropped, int64_t kept)
{
    if (st->version < 5) {
        return SQLITE_OK;
    }
    struct entry e;
    int rc = read_add_entry(st, dropped, &e);
    if (rc != SQLITE_OK) {
        return rc;
    }
    e.op = OP_DROP;
    e.run = dropped;
    e.ref = kept;
    return append_entry(st, &e);
}

/* ------------------------------------------------------------------------------------------------
 * The check
 * --------------------------------------------------------------------------------------------- */

struct check {
    struct rvm_store *st;
    struct rvm_manifest_report *rep;
    uint32_t *live; /* run id -> 1 + seq of its live add entry, 0 when not listed */
    int64_t max_run;
    int64_t only; /* > 0: compare only this run with its entry */
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
    if (c->rep->problems++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->rep->reason, sizeof(c->rep->reason), fmt, ap);
        va_end(ap);
    }
}

static bool run_in_range(const struct check *c, int64_t run)
{
    return run >= 1 && run <= c->max_run;
}

/* Applies one entry to the set of listed runs. */
static void replay_entry(struct check *c, const struct entry *e)
{
    if (!run_in_range(c, e->run)) {
        problem(c, "manifest entry %llu names run %lld, beyond the store's limit",
                (unsigned long long)e->seq, (long long)e->run);
        return;
    }
    uint32_t *slot = &c->live[e->run];
    if (e->op == OP_ADD) {
        if (*slot != 0) {
            problem(c, "manifest entry %llu adds run %lld, which entry %u already lists",
                    (unsigned long long)e->seq, (long long)e->run, *slot - 1);
        } else {
            c->rep->runs++;
        }
        *slot = (uint32_t)(e->seq + 1);
        return;
    }
    struct entry was, kept;
    if (*slot == 0 || read_entry(c->st, *slot - 1, &was) != SQLITE_OK) {
        problem(c, "manifest entry %llu drops run %lld, which it does not list",
                (unsigned long long)e->seq, (long long)e->run);
        return;
    }
    if (!run_in_range(c, e->ref) || c->live[e->ref] == 0 || e->ref == e->run ||
        read_entry(c->st, c->live[e->ref] - 1, &kept) != SQLITE_OK) {
        problem(c, "manifest entry %llu drops run %lld for run %lld, which it does not list",
                (unsigned long long)e->seq, (long long)e->run, (long long)e->ref);
    } else if (memcmp(was.d.identity, e->d.identity, 32) != 0 ||
               memcmp(was.d.run_digest, e->d.run_digest, 32) != 0 || was.d.full != e->d.full) {
        problem(c, "manifest entry %llu drops run %lld but does not describe it as entry %llu does",
                (unsigned long long)e->seq, (long long)e->run, (unsigned long long)was.seq);
    } else if (memcmp(kept.d.identity, e->d.identity, 32) != 0 || (e->d.full && !kept.d.full)) {
        problem(c,
                "manifest entry %llu drops run %lld for run %lld, which is not the same run "
                "(identity, result, count and digest) stored at least as completely",
                (unsigned long long)e->seq, (long long)e->run, (long long)e->ref);
    }
    *slot = 0;
    c->rep->runs--;
}

/* The hash chain and the set of listed runs, entry by entry. */
static int check_chain(struct check *c, const uint8_t *pin)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(c->st->db, "SELECT " ENTRY_COLUMNS " FROM manifest ORDER BY seq",
                                -1, &stmt, NULL);
    uint8_t prev[32] = {0};
    uint64_t expected = 0;
    bool chain_ok = true;
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) { /* bound: the entries */
        rc = SQLITE_OK;
        int64_t seq = sqlite3_column_int64(stmt, 0);
        struct entry e;
        if (seq < 0 || (uint64_t)seq != expected || expected >= UINT32_MAX - 1) {
            problem(c,
                    "manifest entry %llu is missing (the entries go on at %lld): entries were "
                    "removed",
                    (unsigned long long)expected, (long long)seq);
            chain_ok = false;
            break;
        }
        if (entry_from_row(stmt, &e) != SQLITE_OK) {
            problem(c, "manifest entry %lld is malformed", (long long)seq);
            chain_ok = false;
            break;
        }
        uint8_t h[32];
        entry_hash(c->st, &e, prev, h);
        if (memcmp(h, e.hash, 32) != 0) {
            problem(c,
                    "manifest entry %lld does not follow from the entries before it (an entry "
                    "was changed, removed or reordered)",
                    (long long)seq);
            chain_ok = false;
            break;
        }
        if (pin != NULL && memcmp(pin, e.hash, 32) == 0) {
            c->rep->pin_found = true;
            c->rep->pin_entries = expected + 1;
        }
        replay_entry(c, &e);
        memcpy(prev, e.hash, 32);
        expected++;
    }
    sqlite3_finalize(stmt);
    c->rep->entries = expected;
    memcpy(c->rep->head, prev, 32);
    if (rc == SQLITE_DONE || !chain_ok) {
        rc = SQLITE_OK;
    }
    return rc;
}

/* Compares a listed run's row with its entry; says what differs. */
static void compare_run(struct check *c, int64_t id, const struct run_digests *row,
                        const struct entry *e)
{
    if (memcmp(row->run_digest, e->d.run_digest, 32) == 0 &&
        memcmp(row->identity, e->d.identity, 32) == 0) {
        return;
    }
    if (row->full != e->d.full) {
        problem(c,
                "run %lld differs from its manifest entry %llu: %s in the manifest, %s in the "
                "store (%s)",
                (long long)id, (unsigned long long)e->seq, e->d.full ? "full" : "summary",
                row->full ? "full" : "summary", e->d.full ? "downgraded" : "content changed");
    } else if (row->record_count != e->d.record_count) {
        problem(c,
                "run %lld differs from its manifest entry %llu: %llu records in the manifest, "
                "%llu in the store",
                (long long)id, (unsigned long long)e->seq, (unsigned long long)e->d.record_count,
                (unsigned long long)row->record_count);
    } else if (row->has_digest != e->d.has_digest ||
               (row->has_digest && memcmp(row->digest, e->d.digest, 32) != 0)) {
        problem(c, "run %lld differs from its manifest entry %llu: another log digest",
                (long long)id, (unsigned long long)e->seq);
    } else {
        problem(c,
                "run %lld differs from its manifest entry %llu: a column the manifest covers "
                "(identity, result, status, counts, digests, seal, metadata) was changed",
                (long long)id, (unsigned long long)e->seq);
    }
}

/* Every run row against the listed set; then what is listed but not in the store. */
static int check_runs(struct check *c)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(c->st->db, "SELECT " RUN_COLUMNS " FROM runs ORDER BY id", -1,
                                &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) { /* bound: the runs */
        rc = SQLITE_OK;
        int64_t id = sqlite3_column_int64(stmt, COL_ID);
        if (c->only > 0 && id != c->only) {
            continue;
        }
        const unsigned char *status = sqlite3_column_text(stmt, COL_STATUS);
        bool complete = status != NULL && strcmp((const char *)status, "complete") == 0;
        uint32_t slot = run_in_range(c, id) ? c->live[id] : 0;
        if (slot == 0) {
            if (complete) {
                problem(c,
                        "run %lld is complete in the store but not in the manifest (added "
                        "behind the writers' back, or the manifest was cut back)",
                        (long long)id);
            }
            continue;
        }
        c->live[id] = 0;
        struct entry e;
        struct run_digests row;
        if (read_entry(c->st, slot - 1, &e) != SQLITE_OK) {
            problem(c, "manifest entry %u is malformed", slot - 1);
            continue;
        }
        if (!complete) {
            problem(c, "run %lld is listed complete by manifest entry %llu but the store says %s",
                    (long long)id, (unsigned long long)e.seq,
                    status != NULL ? (const char *)status : "nothing");
            continue;
        }
        if (!digest_run_row(c->st, stmt, &row)) {
            rc = SQLITE_NOMEM;
            break;
        }
        compare_run(c, id, &row, &e);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        return rc;
    }
    for (int64_t id = 1; id <= c->max_run; id++) { /* bound: max_run <= RVM_STORE_MAX_RUN */
        if (c->live[id] != 0 && (c->only <= 0 || id == c->only)) {
            problem(c,
                    "run %lld is in the manifest (entry %u) but not in the store: it was deleted",
                    (long long)id, c->live[id] - 1);
        }
    }
    return SQLITE_OK;
}

enum rvm_store_status rvm_store_manifest_check(struct rvm_store *st,
                                               const uint8_t pin[RVM_MANIFEST_HASH_BYTES],
                                               int64_t only, struct rvm_manifest_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    static const uint8_t zero[RVM_MANIFEST_HASH_BYTES] = {0};
    rep->pin_given = pin != NULL;
    if (pin != NULL && memcmp(pin, zero, sizeof(zero)) == 0) {
        rep->pin_found = true; /* the empty manifest: every manifest extends it */
        pin = NULL;
    }
    if (st->version < 5) {
        return RVM_STORE_OK;
    }
    rep->present = true;
    struct check c = {.st = st, .rep = rep, .only = only};
    int rc = SQLITE_OK;
    int64_t max_manifest = 0, max_runs = 0;
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT (SELECT coalesce(max(id), 0) FROM runs), "
                            "(SELECT coalesce(max(run), 0) FROM manifest)",
                            -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        max_runs = sqlite3_column_int64(stmt, 0);
        max_manifest = sqlite3_column_int64(stmt, 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "reading the manifest");
    }
    c.max_run = max_runs > max_manifest ? max_runs : max_manifest;
    if (c.max_run > RVM_STORE_MAX_RUN) {
        c.max_run = RVM_STORE_MAX_RUN;
    }
    if (c.max_run < 0) {
        c.max_run = 0;
    }
    c.live = calloc((size_t)c.max_run + 1, sizeof(*c.live));
    if (c.live == NULL) {
        rvm_store_set_error(st, "out of memory");
        return RVM_STORE_ERROR;
    }
    rc = check_chain(&c, pin);
    if (rc == SQLITE_OK) {
        rc = check_runs(&c);
    }
    free(c.live);
    if (rc != SQLITE_OK) {
        return rvm_store_fail(st, rc, "reading the manifest");
    }
    if (pin != NULL && !rep->pin_found) {
        problem(&c,
                "the pinned manifest head is not in the manifest: it was cut back or rewritten");
    }
    rep->ok = rep->problems == 0;
    return RVM_STORE_OK;
}
