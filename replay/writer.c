/* SPDX-License-Identifier: MIT */
/*
 * Adding a run to the store: buffered batches of records with their chain values, checkpoints,
 * state digests, faults and invariant failures; and the writer as a simulated-HAL witness sink.
 *
 * Records are inserted by one prepared `INSERT INTO records SELECT ... FROM rvm_batch`, where
 * rvm_batch is an eponymous virtual table over the writer's buffer. Compared with one INSERT
 * per row this keeps the B-tree cursor open across the batch (appends take SQLite's
 * append-at-end path instead of a root-to-leaf search per row) and avoids a bind/step/reset per
 * row: measured 1.4-1.5 M rows/s instead of 1.1 M on this machine (bench: replay_ingest).
 */
#include "build_version.h"
#include "manifest.h"
#include "store_internal.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef RVM_CORE_VERSION
#define RVM_CORE_VERSION "unknown"
#endif

/* Records per batch. Each commit rewrites the partly filled last leaf and the right edge of the
 * tree, so larger batches write less: 16384 (1 MiB of images) measured 40% less system time
 * than 4096. */
#define WRITER_BATCH 16384u

/* Checkpoints, state digests and events held before they are written regardless of the records:
 * a copy (merge, a bundle's verify) adds a run's checkpoints after all its records, and holding
 * them all would make memory grow with the log. */
#define WRITER_PENDING_MAX 1024u

struct pending_checkpoint {
    struct rvm_witness_checkpoint cp;
    bool has_ed25519;
    uint8_t pub[RVM_ED25519_PUBLIC_BYTES];
    uint8_t sig[RVM_ED25519_SIGNATURE_BYTES];
};

struct pending_event {
    uint64_t seq;
    uint64_t time_ns;
    char *name; /* site or oracle */
    char *text; /* detail or message, may be NULL */
};

struct rvm_store_writer {
    struct rvm_store *st;
    enum rvm_store_tx tx;
    int64_t run;
    uint64_t next_seq; /* records taken */
    uint64_t flushed;  /* records written to the database */
    uint32_t chain[RVM_SHA256_STATE_WORDS];
    uint8_t *images;      /* WRITER_BATCH records */
    uint8_t *chains;      /* their chain values */
    size_t buffered;      /* records in the buffer */
    uint64_t checkpoints; /* taken */
    uint64_t last_cp_seq; /* sequence of the last checkpoint taken */
    bool last_cp_seal;    /* the last checkpoint taken is the seal */
    uint64_t last_state_seq;
    bool has_state;
    const struct rvm_ed25519_key *signer;
    uint8_t signer_pub[RVM_ED25519_PUBLIC_BYTES];
    struct pending_checkpoint *cps;
    size_t ncps, cps_cap;
    struct rvm_store_state *states;
    size_t nstates, states_cap;
    struct pending_event *faults;
    size_t nfaults, faults_cap;
    uint64_t faults_written;
    struct pending_event *invariants;
    size_t ninvariants, invariants_cap;
    uint64_t invariants_written;
    bool failed;    /* a write failed: nothing more is taken */
    bool raw;       /* store images as given (rvm_store_writer_set_raw) */
    bool savepoint; /* single mode inside the store's write transaction */
    char *outcome;
    struct checkpointer *checkpointer; /* batch mode: WAL checkpoints off the writer thread */
    sqlite3_stmt *insert_records;      /* explicit keys */
    sqlite3_stmt *append_records;      /* keys assigned by SQLite as max(key) + 1 */
    sqlite3_stmt *max_key;
    sqlite3_stmt *insert_checkpoint;
    sqlite3_stmt *insert_state;
    sqlite3_stmt *insert_fault;
    sqlite3_stmt *insert_invariant;
    sqlite3_stmt *update_progress;
};

/* ------------------------------------------------------------------------------------------------
 * rvm_batch: an eponymous, read-only virtual table over the batch being inserted
 * --------------------------------------------------------------------------------------------- */

struct batch_vtab {
    sqlite3_vtab base;
    struct rvm_store *st;
};

struct batch_cursor {
    sqlite3_vtab_cursor base;
    size_t row;
};

static int batch_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err)
{
    (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(key, kind, actor, target, image, chain)");
    if (rc != SQLITE_OK) {
        return rc;
    }
    struct batch_vtab *v = sqlite3_malloc(sizeof(*v));
    if (v == NULL) {
        return SQLITE_NOMEM;
    }
    memset(v, 0, sizeof(*v));
    v->st = aux;
    *out = &v->base;
    return SQLITE_OK;
}

static int batch_disconnect(sqlite3_vtab *vtab)
{
    sqlite3_free(vtab);
    return SQLITE_OK;
}

static int batch_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info)
{
    (void)vtab;
    info->estimatedCost = 1.0;
    /* rows come in buffer order, which is rowid order: no sorter for ORDER BY rowid */
    info->orderByConsumed =
        info->nOrderBy == 1 && info->aOrderBy[0].iColumn == -1 && !info->aOrderBy[0].desc;
    return SQLITE_OK;
}

static int batch_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **out)
{
    (void)vtab;
    struct batch_cursor *c = sqlite3_malloc(sizeof(*c));
    if (c == NULL) {
        return SQLITE_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static int batch_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int batch_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
                        sqlite3_value **argv)
{
    (void)idx, (void)idx_str, (void)argc, (void)argv;
    ((struct batch_cursor *)cur)->row = 0;
    return SQLITE_OK;
}

static int batch_next(sqlite3_vtab_cursor *cur)
{
    ((struct batch_cursor *)cur)->row++;
    return SQLITE_OK;
}

static const struct rvm_store_batch_view *batch_of(sqlite3_vtab_cursor *cur)
{
    return ((struct batch_vtab *)cur->pVtab)->st->batch;
}

static int batch_eof(sqlite3_vtab_cursor *cur)
{
    const struct rvm_store_batch_view *b = batch_of(cur);
    return b == NULL || ((struct batch_cursor *)cur)->row >= b->count;
}

static int batch_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct rvm_store_batch_view *b = batch_of(cur);
    size_t row = ((struct batch_cursor *)cur)->row;
    const uint8_t *img = b->images + row * RVM_WITNESS_RECORD_BYTES;
    switch (col) {
    case 0:
        sqlite3_result_int64(ctx, b->base_key + (int64_t)row);
        break;
    case 1:
        sqlite3_result_int(ctx, img[RVM_WOFF_KIND]);
        break;
    case 2:
        sqlite3_result_int64(ctx, rvm_load_le32(img + RVM_WOFF_ACTOR));
        break;
    case 3:
        sqlite3_result_int64(ctx, rvm_store_i64(rvm_load_le64(img + RVM_WOFF_TARGET)));
        break;
    case 4:
        sqlite3_result_blob(ctx, img, RVM_WITNESS_RECORD_BYTES, SQLITE_STATIC);
        break;
    default:
        sqlite3_result_blob(ctx, b->chains + row * RVM_WITNESS_CHAIN_BYTES, RVM_WITNESS_CHAIN_BYTES,
                            SQLITE_STATIC);
        break;
    }
    return SQLITE_OK;
}

static int batch_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((struct batch_cursor *)cur)->row;
    return SQLITE_OK;
}

static const sqlite3_module batch_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: it exists as `rvm_batch` without CREATE VIRTUAL TABLE */
    .xConnect = batch_connect,
    .xBestIndex = batch_best_index,
    .xDisconnect = batch_disconnect,
    .xDestroy = batch_disconnect,
    .xOpen = batch_open,
    .xClose = batch_close,
    .xFilter = batch_filter,
    .xNext = batch_next,
    .xEof = batch_eof,
    .xColumn = batch_column,
    .xRowid = batch_rowid,
};

int rvm_store_batch_module_register(struct rvm_store *st);
int rvm_store_batch_module_register(struct rvm_store *st)
{
    return sqlite3_create_module(st->db, "rvm_batch", &batch_module, st);
}

/* ------------------------------------------------------------------------------------------------
 * The writer
 * --------------------------------------------------------------------------------------------- */

static int exec(struct rvm_store_writer *w, const char *sql)
{
    return sqlite3_exec(w->st->db, sql, NULL, NULL, NULL);
}

/* Undo the writer's transaction, or only its savepoint inside the store's write transaction. */
static void tx_abort(struct rvm_store_writer *w)
{
    if (w->savepoint) {
        exec(w, "ROLLBACK TO rvm_writer; RELEASE rvm_writer");
    } else {
        exec(w, "ROLLBACK");
    }
}

static int tx_end(struct rvm_store_writer *w)
{
    return exec(w, w->savepoint ? "RELEASE rvm_writer" : "COMMIT");
}

static void finalize_all(struct rvm_store_writer *w)
{
    sqlite3_finalize(w->insert_records);
    sqlite3_finalize(w->append_records);
    sqlite3_finalize(w->max_key);
    sqlite3_finalize(w->insert_checkpoint);
    sqlite3_finalize(w->insert_state);
    sqlite3_finalize(w->insert_fault);
    sqlite3_finalize(w->insert_invariant);
    sqlite3_finalize(w->update_progress);
}

static void free_events(struct pending_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ev[i].name);
        free(ev[i].text);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Checkpoints of the WAL on a helper thread (batch mode)
 *
 * With synchronous=NORMAL the only fsyncs of a WAL database are those of its checkpoints, which
 * SQLite runs inside the commit that finds the WAL over 1000 pages: the writer then waits for the
 * disk to copy and flush 64 MiB. A live run has a helper thread on its own connection run a
 * PASSIVE checkpoint after each commit instead (what SQLite's WAL documentation suggests; it
 * never blocks the writer), so the commit that crosses the threshold finds the pages already
 * copied and flushed and only finishes the job. Measured: 400 instead of 700-1000 ns per record
 * (bench: replay_ingest).
 * --------------------------------------------------------------------------------------------- */

struct checkpointer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool requested;
    bool stop;
    sqlite3 *db;
};

static void *checkpointer_main(void *arg)
{
    struct checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->requested && !c->stop) {
            pthread_cond_wait(&c->wake, &c->lock);
        }
        if (c->stop) {
            break;
        }
        c->requested = false;
        pthread_mutex_unlock(&c->lock);
        (void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* NULL when it cannot start: the writer's commits then checkpoint on their own, as usual. */
static struct checkpointer *checkpointer_start(const char *path)
{
    struct checkpointer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    /* the connection must have read the database once to know it is in WAL mode, or its
     * checkpoints do nothing */
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    return c;
}

static void checkpointer_poke(struct checkpointer *c)
{
    if (c != NULL) {
        pthread_mutex_lock(&c->lock);
        c->requested = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
}

static void checkpointer_stop(struct checkpointer *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    sqlite3_close(c->db);
    free(c);
}

static void writer_free(struct rvm_store_writer *w)
{
    if (w == NULL) {
        return;
    }
    checkpointer_stop(w->checkpointer);
    finalize_all(w);
    free_events(w->faults, w->nfaults);
    free_events(w->invariants, w->ninvariants);
    free(w->faults);
    free(w->invariants);
    free(w->cps);
    free(w->states);
    free(w->images);
    free(w->chains);
    free(w->outcome);
    w->st->writer_active = false;
    free(w);
}

static bool prepare_all(struct rvm_store_writer *w)
{
    struct rvm_store *st = w->st;
    w->insert_records = rvm_store_prepare(
        st, "INSERT INTO records (key, kind, actor, target, image, chain) "
            "SELECT key, kind, actor, target, image, chain FROM rvm_batch ORDER BY rowid");
    w->append_records =
        rvm_store_prepare(st, "INSERT INTO records (kind, actor, target, image, chain) "
                              "SELECT kind, actor, target, image, chain FROM rvm_batch "
                              "ORDER BY rowid");
    w->max_key = rvm_store_prepare(st, "SELECT max(key) FROM records");
    w->insert_checkpoint =
        rvm_store_prepare(st, "INSERT INTO checkpoints (run, seq, digest, chain, hmac, "
                              "ed25519_pub, ed25519_sig, seal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                              "?7, ?8)");
    w->insert_state = rvm_store_prepare(
        st, "INSERT OR REPLACE INTO state_digests (run, seq, digest) VALUES (?1, ?2, ?3)");
    w->insert_fault = rvm_store_prepare(st, "INSERT INTO faults (run, id, seq, time_ns, site, "
                                            "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    w->insert_invariant =
        rvm_store_prepare(st, "INSERT INTO invariant_failures (run, id, seq, time_ns, oracle, "
                              "message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    w->update_progress = rvm_store_prepare(
        st, "UPDATE runs SET record_count = ?2, checkpoint_count = ?3 WHERE id = ?1");
    return w->insert_records != NULL && w->append_records != NULL && w->max_key != NULL &&
           w->insert_checkpoint != NULL && w->insert_state != NULL && w->insert_fault != NULL &&
           w->insert_invariant != NULL && w->update_progress != NULL;
}

static int bind_text_or_null(sqlite3_stmt *stmt, int i, const char *text)
{
    return text != NULL ? sqlite3_bind_text(stmt, i, text, -1, SQLITE_TRANSIENT)
                        : sqlite3_bind_null(stmt, i);
}

/* Keep the scenario text once, in `scenarios` (schema version 2), and give its SHA-256. */
static int put_scenario(struct rvm_store *st, const struct rvm_store_run_info *info,
                        uint8_t sha[RVM_SHA256_DIGEST_BYTES])
{
    if (info->scenario_sha256 != NULL) {
        memcpy(sha, info->scenario_sha256, RVM_SHA256_DIGEST_BYTES);
    } else {
        rvm_crypto_sha256(&st->crypto, (const uint8_t *)info->scenario, strlen(info->scenario),
                          sha);
    }
    if (st->put_scenario == NULL) {
        st->put_scenario =
            rvm_store_prepare(st, "INSERT OR IGNORE INTO scenarios (sha256, text) VALUES (?1, ?2)");
        if (st->put_scenario == NULL) {
            return SQLITE_ERROR;
        }
    }
    sqlite3_bind_blob(st->put_scenario, 1, sha, RVM_SHA256_DIGEST_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st->put_scenario, 2, info->scenario, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st->put_scenario);
    sqlite3_reset(st->put_scenario);
    sqlite3_clear_bindings(st->put_scenario);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int rvm_store_bind_run_info(struct rvm_store *st, sqlite3_stmt *stmt,
                            const struct rvm_store_run_info *info, int first)
{
    const char *key_source = info->key_source != NULL ? info->key_source
                             : info->has_seed         ? "seed"
                                                      : "none";
    sqlite3_bind_text(stmt, first, info->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, first + 1, key_source, -1, SQLITE_TRANSIENT);
    bind_text_or_null(stmt, first + 2, info->command);
    /* first + 3, the inline scenario column, stays NULL: the text is in `scenarios` */
    if (info->scenario != NULL) {
        uint8_t sha[RVM_SHA256_DIGEST_BYTES];
        int rc = put_scenario(st, info, sha);
        if (rc != SQLITE_OK) {
            return rc;
        }
        sqlite3_bind_blob(stmt, first + 4, sha, sizeof(sha), SQLITE_TRANSIENT);
    }
    if (info->has_seed) {
        sqlite3_bind_int64(stmt, first + 5, rvm_store_i64(info->seed));
    }
    sqlite3_bind_text(stmt, first + 6, info->build_id != NULL ? info->build_id : RVMSIM_VERSION, -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, first + 7,
                      info->core_version != NULL ? info->core_version : RVM_CORE_VERSION, -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, first + 8, info->platform != NULL ? info->platform : "sim", -1,
                      SQLITE_TRANSIENT);
    bind_text_or_null(stmt, first + 9, info->options);
    bind_text_or_null(stmt, first + 10, info->target);
    return SQLITE_OK;
}

static enum rvm_store_status insert_run(struct rvm_store_writer *w,
                                        const struct rvm_store_run_info *info)
{
    struct rvm_store *st = w->st;
    sqlite3_stmt *stmt = rvm_store_prepare(
        st, "INSERT INTO runs (status, source, key_source, command, scenario, scenario_sha256, "
            "seed, build_id, core_version, platform, options, target, created_at) "
            "VALUES ('running', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
            "coalesce(?12, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))");
    if (stmt == NULL) {
        return RVM_STORE_CORRUPT;
    }
    int rc = rvm_store_bind_run_info(st, stmt, info, 1);
    bind_text_or_null(stmt, 12, info->created_at);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return rvm_store_fail(st, rc, "adding a run");
    }
    w->run = sqlite3_last_insert_rowid(st->db);
    if (w->run < 1 || w->run > RVM_STORE_MAX_RUN) {
        rvm_store_set_error(st, "%s: run id %lld is beyond the store's limit of %lld runs",
                            st->path, (long long)w->run, (long long)RVM_STORE_MAX_RUN);
        return RVM_STORE_REFUSED;
    }
    return RVM_STORE_OK;
}

enum rvm_store_status rvm_store_writer_begin(struct rvm_store *st,
                                             const struct rvm_store_run_info *info,
                                             enum rvm_store_tx tx, struct rvm_store_writer **out)
{
    *out = NULL;
    if (!st->writable || st->writer_active || st->in_read_tx ||
        (st->in_write_tx && tx != RVM_STORE_TX_SINGLE)) {
        rvm_store_set_error(st, "%s: the handle cannot start a writer now", st->path);
        return RVM_STORE_REFUSED;
    }
    if (info->source == NULL) {
        rvm_store_set_error(st, "a run needs a source");
        return RVM_STORE_REFUSED;
    }
    struct rvm_store_writer *w = calloc(1, sizeof(*w));
    if (w == NULL || (w->images = malloc(WRITER_BATCH * RVM_WITNESS_RECORD_BYTES)) == NULL ||
        (w->chains = malloc(WRITER_BATCH * RVM_WITNESS_CHAIN_BYTES)) == NULL) {
        if (w != NULL) {
            free(w->images);
            free(w);
        }
        rvm_store_set_error(st, "out of memory");
        return RVM_STORE_ERROR;
    }
    w->st = st;
    w->tx = tx;
    w->savepoint = st->in_write_tx;
    st->writer_active = true;
    rvm_sha256_iv(w->chain);
    if (!prepare_all(w)) {
        writer_free(w);
        return RVM_STORE_CORRUPT;
    }
    int rc = exec(w, w->savepoint ? "SAVEPOINT rvm_writer" : "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = rvm_store_fail(st, rc, "starting a write transaction");
        writer_free(w);
        return s;
    }
    enum rvm_store_status s = insert_run(w, info);
    if (s == RVM_STORE_OK && tx == RVM_STORE_TX_BATCHES) {
        rc = exec(w, "COMMIT");
        if (rc != SQLITE_OK) {
            s = rvm_store_fail(st, rc, "adding a run");
        }
    }
    if (s != RVM_STORE_OK) {
        tx_abort(w);
        writer_free(w);
        return s;
    }
    if (tx == RVM_STORE_TX_BATCHES) {
        w->checkpointer = checkpointer_start(st->path); /* NULL: SQLite checkpoints alone */
    }
    *out = w;
    return RVM_STORE_OK;
}

int64_t rvm_store_writer_run(const struct rvm_store_writer *w)
{
    return w->run;
}

uint64_t rvm_store_writer_count(const struct rvm_store_writer *w)
{
    return w->next_seq;
}

enum rvm_store_status rvm_store_writer_chain_at(struct rvm_store_writer *w, uint64_t seq,
                                                uint8_t chain[RVM_WITNESS_CHAIN_BYTES])
{
    if (seq >= w->next_seq) {
        rvm_store_set_error(w->st, "no record %llu yet", (unsigned long long)seq);
        return RVM_STORE_NOT_FOUND;
    }
    if (seq >= w->flushed) {
        memcpy(chain, w->chains + (seq - w->flushed) * RVM_WITNESS_CHAIN_BYTES,
               RVM_WITNESS_CHAIN_BYTES);
        return RVM_STORE_OK;
    }
    return rvm_store_record_get(w->st, w->run, seq, NULL, chain);
}

bool rvm_store_writer_set_signer(struct rvm_store_writer *w, const struct rvm_ed25519_key *signer)
{
    if (signer != NULL && !rvm_ed25519_public(signer, w->signer_pub)) {
        return false;
    }
    w->signer = signer;
    return true;
}

void rvm_store_writer_set_raw(struct rvm_store_writer *w, bool raw)
{
    w->raw = raw;
}

bool rvm_store_writer_set_outcome(struct rvm_store_writer *w, const char *outcome)
{
    char *copy = NULL;
    if (outcome != NULL && (copy = strdup(outcome)) == NULL) {
        rvm_store_set_error(w->st, "out of memory");
        return false;
    }
    free(w->outcome);
    w->outcome = copy;
    return true;
}

static int bind_blob(sqlite3_stmt *stmt, int i, const void *data, int len)
{
    return sqlite3_bind_blob(stmt, i, data, len, SQLITE_STATIC);
}

static int step_reset(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_events(struct rvm_store_writer *w, sqlite3_stmt *stmt, struct pending_event *ev,
                        size_t n, uint64_t *written)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(stmt, 1, w->run);
        sqlite3_bind_int64(stmt, 2, rvm_store_i64(*written + i));
        sqlite3_bind_int64(stmt, 3, rvm_store_i64(ev[i].seq));
        sqlite3_bind_int64(stmt, 4, rvm_store_i64(ev[i].time_ns));
        sqlite3_bind_text(stmt, 5, ev[i].name, -1, SQLITE_STATIC);
        bind_text_or_null(stmt, 6, ev[i].text);
        int rc = step_reset(stmt);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    return SQLITE_OK;
}

/* Largest key in the table (-1 when empty), inside the current transaction. */
static int max_key(struct rvm_store_writer *w, int64_t *out)
{
    int rc = sqlite3_step(w->max_key);
    *out = -1;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(w->max_key, 0) == SQLITE_INTEGER) {
            *out = sqlite3_column_int64(w->max_key, 0);
        }
        rc = SQLITE_OK;
    }
    sqlite3_reset(w->max_key);
    return rc;
}

/* Rows [from, from + count) of the buffer through `stmt`. */
static int insert_rows(struct rvm_store_writer *w, sqlite3_stmt *stmt, size_t from, size_t count)
{
    if (count == 0) {
        return SQLITE_OK;
    }
    struct rvm_store_batch_view view = {
        .base_key = rvm_store_key(w->run, w->flushed + from),
        .count = count,
        .images = w->images + from * RVM_WITNESS_RECORD_BYTES,
        .chains = w->chains + from * RVM_WITNESS_CHAIN_BYTES,
    };
    w->st->batch = &view;
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    w->st->batch = NULL;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Insert the buffered records. When the run's previous record is the largest key in the table
 * (always, unless another process is writing a later run into the same file), the rows are
 * appended without keys: SQLite gives each max(key) + 1 (documented for tables without
 * AUTOINCREMENT), which is exactly run << 40 | seq, and skips the per-row uniqueness search an
 * explicit key needs (measured: a third less CPU per record). Otherwise, and for a run's first
 * record, keys are explicit. The last row is checked afterwards either way.
 */
static int insert_records(struct rvm_store_writer *w)
{
    int64_t base = rvm_store_key(w->run, w->flushed);
    int64_t last = base + (int64_t)w->buffered - 1;
    int64_t top;
    int rc = max_key(w, &top);
    if (rc != SQLITE_OK) {
        return rc;
    }
    size_t explicit_rows = top == base - 1 ? 0 : top < base ? 1 : w->buffered;
    rc = insert_rows(w, w->insert_records, 0, explicit_rows);
    if (rc == SQLITE_OK) {
        rc = insert_rows(w, w->append_records, explicit_rows, w->buffered - explicit_rows);
    }
    if (rc == SQLITE_OK && explicit_rows < w->buffered) {
        uint8_t image[RVM_WITNESS_RECORD_BYTES];
        uint64_t seq = w->flushed + w->buffered - 1;
        rc = max_key(w, &top);
        /* The row at the last key must hold our last image, byte for byte: its sequence field
         * is not enough, because a failing run's records may be corrupted (that is often why it
         * failed) and are stored as received. */
        if (rc == SQLITE_OK &&
            (top != last || rvm_store_record_get(w->st, w->run, seq, image, NULL) != RVM_STORE_OK ||
             memcmp(image, w->images + (w->buffered - 1u) * RVM_WITNESS_RECORD_BYTES,
                    RVM_WITNESS_RECORD_BYTES) != 0)) {
            rvm_store_set_error(w->st, "appended records did not get the expected keys");
            rc = SQLITE_INTERNAL;
        }
    }
    return rc;
}

/* The status for a failed write: SQLITE_INTERNAL is the writer's own check (insert_records),
 * which has already set the message; anything else is SQLite's. */
static enum rvm_store_status write_failure(struct rvm_store_writer *w, int rc, const char *what)
{
    return rc == SQLITE_INTERNAL ? RVM_STORE_ERROR : rvm_store_fail(w->st, rc, what);
}

/* Write everything buffered, inside the current transaction. */
static int write_buffered(struct rvm_store_writer *w)
{
    int rc = SQLITE_OK;
    if (w->buffered != 0) {
        rc = insert_records(w);
    }
    for (size_t i = 0; i < w->ncps && rc == SQLITE_OK; i++) {
        const struct pending_checkpoint *c = &w->cps[i];
        sqlite3_stmt *s = w->insert_checkpoint;
        sqlite3_bind_int64(s, 1, w->run);
        sqlite3_bind_int64(s, 2, rvm_store_i64(c->cp.sequence));
        bind_blob(s, 3, c->cp.digest, RVM_SHA256_DIGEST_BYTES);
        bind_blob(s, 4, c->cp.chain, RVM_WITNESS_CHAIN_BYTES);
        bind_blob(s, 5, c->cp.hmac, RVM_SHA256_DIGEST_BYTES);
        if (c->has_ed25519) {
            bind_blob(s, 6, c->pub, RVM_ED25519_PUBLIC_BYTES);
            bind_blob(s, 7, c->sig, RVM_ED25519_SIGNATURE_BYTES);
        }
        sqlite3_bind_int(s, 8, c->cp.seal ? 1 : 0);
        rc = step_reset(s);
    }
    for (size_t i = 0; i < w->nstates && rc == SQLITE_OK; i++) {
        sqlite3_bind_int64(w->insert_state, 1, w->run);
        sqlite3_bind_int64(w->insert_state, 2, rvm_store_i64(w->states[i].seq));
        bind_blob(w->insert_state, 3, w->states[i].digest, RVM_SHA256_DIGEST_BYTES);
        rc = step_reset(w->insert_state);
    }
    if (rc == SQLITE_OK) {
        rc = write_events(w, w->insert_fault, w->faults, w->nfaults, &w->faults_written);
    }
    if (rc == SQLITE_OK) {
        rc = write_events(w, w->insert_invariant, w->invariants, w->ninvariants,
                          &w->invariants_written);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(w->update_progress, 1, w->run);
        sqlite3_bind_int64(w->update_progress, 2, rvm_store_i64(w->next_seq));
        sqlite3_bind_int64(w->update_progress, 3, rvm_store_i64(w->checkpoints));
        rc = step_reset(w->update_progress);
    }
    return rc;
}

/* The buffer has reached the database (and, in batch mode, is committed): drop it. */
static void clear_buffered(struct rvm_store_writer *w)
{
    w->flushed += w->buffered;
    w->buffered = 0;
    w->ncps = 0;
    w->nstates = 0;
    free_events(w->faults, w->nfaults);
    w->faults_written += w->nfaults;
    w->nfaults = 0;
    free_events(w->invariants, w->ninvariants);
    w->invariants_written += w->ninvariants;
    w->ninvariants = 0;
}

enum rvm_store_status rvm_store_writer_flush(struct rvm_store_writer *w)
{
    if (w->failed) {
        return RVM_STORE_ERROR;
    }
    if (w->buffered == 0 && w->ncps == 0 && w->nstates == 0 && w->nfaults == 0 &&
        w->ninvariants == 0) {
        return RVM_STORE_OK;
    }
    int rc = SQLITE_OK;
    if (w->tx == RVM_STORE_TX_BATCHES) {
        rc = exec(w, "BEGIN IMMEDIATE");
    }
    if (rc == SQLITE_OK) {
        rc = write_buffered(w);
    }
    if (rc == SQLITE_OK && w->tx == RVM_STORE_TX_BATCHES) {
        rc = exec(w, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        enum rvm_store_status s = write_failure(w, rc, "writing witness records");
        if (w->tx == RVM_STORE_TX_BATCHES) {
            exec(w, "ROLLBACK");
        }
        /* In single mode a failed statement may leave the transaction half-applied, and in
         * batch mode the buffer was not stored: either way this writer cannot continue. */
        w->failed = true;
        return s;
    }
    clear_buffered(w);
    checkpointer_poke(w->checkpointer);
    return RVM_STORE_OK;
}

size_t rvm_store_writer_records(struct rvm_store_writer *w, uint64_t first_seq,
                                const uint8_t *images, size_t count)
{
    struct rvm_store *st = w->st;
    if (w->failed) {
        return 0;
    }
    if (first_seq != w->next_seq) {
        rvm_store_set_error(st, "records offered from seq %llu, expected %llu",
                            (unsigned long long)first_seq, (unsigned long long)w->next_seq);
        return 0;
    }
    size_t taken = 0;
    while (taken < count) {
        if (w->buffered == WRITER_BATCH && rvm_store_writer_flush(w) != RVM_STORE_OK) {
            break;
        }
        if (w->next_seq >= RVM_STORE_MAX_RECORDS) {
            rvm_store_set_error(st, "a run holds at most %llu records",
                                (unsigned long long)RVM_STORE_MAX_RECORDS);
            break;
        }
        size_t n = count - taken;
        if (n > WRITER_BATCH - w->buffered) {
            n = WRITER_BATCH - w->buffered;
        }
        const uint8_t *src = images + taken * RVM_WITNESS_RECORD_BYTES;
        uint8_t *img = w->images + w->buffered * RVM_WITNESS_RECORD_BYTES;
        uint8_t *ch = w->chains + w->buffered * RVM_WITNESS_CHAIN_BYTES;
        size_t ok = 0;
        for (; ok < n; ok++) {
            const uint8_t *rec = src + ok * RVM_WITNESS_RECORD_BYTES;
            if (!w->raw && rvm_load_le64(rec + RVM_WOFF_SEQUENCE) != w->next_seq + ok) {
                rvm_store_set_error(st, "record offered as seq %llu carries seq %llu",
                                    (unsigned long long)(w->next_seq + ok),
                                    (unsigned long long)rvm_load_le64(rec + RVM_WOFF_SEQUENCE));
                break;
            }
            memcpy(img + ok * RVM_WITNESS_RECORD_BYTES, rec, RVM_WITNESS_RECORD_BYTES);
            rvm_crypto_compress(&st->crypto, w->chain, rec, 1);
            rvm_sha256_state_bytes(w->chain, ch + ok * RVM_WITNESS_CHAIN_BYTES);
        }
        w->buffered += ok;
        w->next_seq += ok;
        taken += ok;
        if (ok < n) {
            break;
        }
    }
    return taken;
}

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            size_t grown_cap_ = (cap) != 0 ? (cap)*2 : 16;                                         \
            void *grown_ = realloc((arr), grown_cap_ * sizeof(*(arr)));                            \
            if (grown_ == NULL) {                                                                  \
                rvm_store_set_error(w->st, "out of memory");                                       \
                return false;                                                                      \
            }                                                                                      \
            (arr) = grown_;                                                                        \
            (cap) = grown_cap_;                                                                    \
        }                                                                                          \
    } while (0)

static bool flush_if_pending_full(struct rvm_store_writer *w)
{
    return w->ncps + w->nstates + w->nfaults + w->ninvariants < WRITER_PENDING_MAX ||
           rvm_store_writer_flush(w) == RVM_STORE_OK;
}

bool rvm_store_writer_checkpoint(struct rvm_store_writer *w,
                                 const struct rvm_witness_checkpoint *cp,
                                 const uint8_t *ed25519_pub, const uint8_t *ed25519_sig)
{
    if (w->failed) {
        return false;
    }
    /* ascending; only a seal may end where the previous checkpoint ended, and nothing follows a
     * seal */
    bool after_previous = w->checkpoints == 0 || cp->sequence > w->last_cp_seq ||
                          (cp->seal && cp->sequence == w->last_cp_seq && !w->last_cp_seal);
    if (cp->sequence >= w->next_seq || !after_previous || w->last_cp_seal) {
        rvm_store_set_error(w->st,
                            "checkpoint at seq %llu refused: %llu records taken, last checkpoint "
                            "at %llu",
                            (unsigned long long)cp->sequence, (unsigned long long)w->next_seq,
                            (unsigned long long)w->last_cp_seq);
        return false;
    }
    GROW(w->cps, w->ncps, w->cps_cap);
    struct pending_checkpoint *c = &w->cps[w->ncps];
    c->cp = *cp;
    c->has_ed25519 = false;
    if (ed25519_pub != NULL && ed25519_sig != NULL) {
        memcpy(c->pub, ed25519_pub, sizeof(c->pub));
        memcpy(c->sig, ed25519_sig, sizeof(c->sig));
        c->has_ed25519 = true;
    } else if (w->signer != NULL) {
        if (!rvm_ed25519_sign_checkpoint(w->signer, cp, c->sig)) {
            rvm_store_set_error(w->st, "Ed25519 signing failed");
            return false;
        }
        memcpy(c->pub, w->signer_pub, sizeof(c->pub));
        c->has_ed25519 = true;
    }
    w->ncps++;
    w->checkpoints++;
    w->last_cp_seq = cp->sequence;
    w->last_cp_seal = cp->seal;
    return flush_if_pending_full(w);
}

bool rvm_store_writer_state(struct rvm_store_writer *w, uint64_t seq,
                            const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    if (w->failed || seq >= w->next_seq || (w->has_state && seq <= w->last_state_seq)) {
        rvm_store_set_error(w->st, "state digest at seq %llu refused", (unsigned long long)seq);
        return false;
    }
    GROW(w->states, w->nstates, w->states_cap);
    w->states[w->nstates].seq = seq;
    memcpy(w->states[w->nstates].digest, digest, RVM_SHA256_DIGEST_BYTES);
    w->nstates++;
    w->has_state = true;
    w->last_state_seq = seq;
    return flush_if_pending_full(w);
}

static bool add_event(struct rvm_store_writer *w, struct pending_event **arr, size_t *n,
                      size_t *cap, uint64_t seq, uint64_t time_ns, const char *name,
                      const char *text)
{
    if (w->failed || name == NULL) {
        return false;
    }
    GROW(*arr, *n, *cap);
    struct pending_event *ev = &(*arr)[*n];
    ev->seq = seq;
    ev->time_ns = time_ns;
    ev->name = strdup(name);
    ev->text = text != NULL ? strdup(text) : NULL;
    if (ev->name == NULL || (text != NULL && ev->text == NULL)) {
        free(ev->name);
        free(ev->text);
        rvm_store_set_error(w->st, "out of memory");
        return false;
    }
    (*n)++;
    return flush_if_pending_full(w);
}

bool rvm_store_writer_fault(struct rvm_store_writer *w, uint64_t seq, uint64_t time_ns,
                            const char *site, const char *detail)
{
    return add_event(w, &w->faults, &w->nfaults, &w->faults_cap, seq, time_ns, site, detail);
}

bool rvm_store_writer_invariant(struct rvm_store_writer *w, uint64_t seq, uint64_t time_ns,
                                const char *oracle, const char *message)
{
    return add_event(w, &w->invariants, &w->ninvariants, &w->invariants_cap, seq, time_ns, oracle,
                     message);
}

enum rvm_store_status rvm_store_writer_finish(struct rvm_store_writer *w, const char *result,
                                              int exit_code,
                                              uint8_t digest_out[RVM_SHA256_DIGEST_BYTES],
                                              uint8_t chain_out[RVM_WITNESS_CHAIN_BYTES])
{
    struct rvm_store *st = w->st;
    uint8_t digest[RVM_SHA256_DIGEST_BYTES], chain[RVM_WITNESS_CHAIN_BYTES];
    rvm_sha256_finish_aligned(&st->crypto, w->chain, w->next_seq * RVM_WITNESS_RECORD_BYTES,
                              digest);
    rvm_sha256_state_bytes(w->chain, chain);

    int rc = SQLITE_OK;
    if (w->failed) {
        rc = SQLITE_ERROR;
    } else if (w->tx == RVM_STORE_TX_BATCHES) {
        rc = exec(w, "BEGIN IMMEDIATE");
    }
    if (rc == SQLITE_OK) {
        rc = write_buffered(w);
    }
    if (rc == SQLITE_OK) {
        sqlite3_stmt *stmt = rvm_store_prepare(
            st, "UPDATE runs SET status = 'complete', result = ?2, exit_code = ?3, "
                "record_count = ?4, checkpoint_count = ?5, digest = ?6, chain = ?7, "
                "outcome = ?8 WHERE id = ?1");
        if (stmt == NULL) {
            rc = SQLITE_ERROR;
        } else {
            sqlite3_bind_int64(stmt, 1, w->run);
            sqlite3_bind_text(stmt, 2, result != NULL ? result : "unknown", -1, SQLITE_TRANSIENT);
            if (exit_code >= 0) {
                sqlite3_bind_int(stmt, 3, exit_code);
            }
            sqlite3_bind_int64(stmt, 4, rvm_store_i64(w->next_seq));
            sqlite3_bind_int64(stmt, 5, rvm_store_i64(w->checkpoints));
            bind_blob(stmt, 6, digest, sizeof(digest));
            bind_blob(stmt, 7, chain, sizeof(chain));
            bind_text_or_null(stmt, 8, w->outcome);
            rc = step_reset(stmt);
            sqlite3_finalize(stmt);
        }
    }
    if (rc == SQLITE_OK) {
        rc = rvm_store_manifest_add(st, w->run); /* in the transaction that completes the run */
    }
    if (rc == SQLITE_OK) {
        rc = w->tx == RVM_STORE_TX_SINGLE ? tx_end(w) : exec(w, "COMMIT");
    }
    enum rvm_store_status s = RVM_STORE_OK;
    if (rc != SQLITE_OK) {
        /* after an earlier failure its reason stays in st->err */
        s = w->failed ? RVM_STORE_ERROR : write_failure(w, rc, "finishing a run");
        if (w->tx == RVM_STORE_TX_SINGLE) {
            tx_abort(w);
        } else {
            exec(w, "ROLLBACK");
        }
    }
    if (s == RVM_STORE_OK) {
        if (digest_out != NULL) {
            memcpy(digest_out, digest, sizeof(digest));
        }
        if (chain_out != NULL) {
            memcpy(chain_out, chain, sizeof(chain));
        }
    }
    writer_free(w);
    return s;
}

void rvm_store_writer_discard(struct rvm_store_writer *w)
{
    if (w == NULL) {
        return;
    }
    if (w->tx == RVM_STORE_TX_SINGLE) {
        tx_abort(w);
    } else {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "BEGIN IMMEDIATE; DELETE FROM records WHERE key >= %lld AND key < %lld; "
                 "DELETE FROM checkpoints WHERE run = %lld; "
                 "DELETE FROM state_digests WHERE run = %lld; "
                 "DELETE FROM faults WHERE run = %lld; "
                 "DELETE FROM invariant_failures WHERE run = %lld; "
                 "DELETE FROM runs WHERE id = %lld; COMMIT",
                 (long long)rvm_store_key(w->run, 0), (long long)rvm_store_key(w->run + 1, 0),
                 (long long)w->run, (long long)w->run, (long long)w->run, (long long)w->run,
                 (long long)w->run);
        if (exec(w, sql) != SQLITE_OK) {
            exec(w, "ROLLBACK");
        }
    }
    writer_free(w);
}

/* ------------------------------------------------------------------------------------------------
 * The writer as a witness sink
 * --------------------------------------------------------------------------------------------- */

static size_t sink_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    return rvm_store_writer_records(ctx, first_seq, records, count);
}

static bool sink_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    return rvm_store_writer_checkpoint(ctx, cp, NULL, NULL);
}

const struct rvm_sink_ops rvm_store_sink_ops = {
    .records = sink_records,
    .checkpoint = sink_checkpoint,
};
