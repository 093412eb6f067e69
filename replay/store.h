/* SPDX-License-Identifier: MIT */
/*
 * The replay store: witness logs of runs in SQLite (schema and contracts: docs/replay-store.md).
 *
 * A store is one SQLite database in WAL mode. Records live in `records`, keyed by
 * key = run << 40 | sequence (an INTEGER PRIMARY KEY, so a run's records are one contiguous,
 * ordered key range and a lookup is one B-tree descent); every row holds the 64-byte image, the
 * chain value after it (which makes bisection possible) and decoded kind/actor/target columns
 * for queries. Runs, checkpoints (HMAC and Ed25519), state digests at epoch boundaries, fired
 * faults and invariant failures have their own tables.
 *
 * Handles are not shared between threads; open one per thread (WAL lets readers run beside one
 * writer, and writers of several processes take turns through SQLite's busy timeout).
 */
#ifndef RVM_REPLAY_STORE_H
#define RVM_REPLAY_STORE_H

#include "crypto_openssl.h"
#include "sink.h"

#include "rvm/witness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_STORE_SCHEMA_VERSION                                                                   \
    5 /* docs/replay-store.md §1; versions 1 to 4 are read, and migrated by writers */
#define RVM_STORE_APPLICATION_ID 0x52564d57 /* "RVMW" in PRAGMA application_id */
#define RVM_STORE_SEQ_BITS       40
#define RVM_STORE_MAX_RECORDS    ((uint64_t)1 << RVM_STORE_SEQ_BITS)
#define RVM_STORE_MAX_RUN        ((int64_t)(((uint64_t)1 << (63 - RVM_STORE_SEQ_BITS)) - 1))

static inline int64_t rvm_store_key(int64_t run, uint64_t seq)
{
    return (int64_t)((uint64_t)run << RVM_STORE_SEQ_BITS | seq);
}

enum rvm_store_status {
    RVM_STORE_OK = 0,
    RVM_STORE_NOT_FOUND, /* no such run, record or row */
    RVM_STORE_BAD_FILE,  /* cannot open, not a database, not an rvmsim store, schema refused */
    RVM_STORE_CORRUPT,   /* SQLite reports damage, or a stored value breaks the schema */
    RVM_STORE_REFUSED,   /* the request breaks a rule (order, limits) and changed nothing */
    RVM_STORE_ERROR,     /* any other failure: I/O, disk full, busy timeout, out of memory */
};

struct rvm_store;

enum rvm_store_mode {
    RVM_STORE_READ,  /* read-only; the file must exist and be a store */
    RVM_STORE_WRITE, /* read-write; creates the file and the schema when missing */
};

/* On failure *out is NULL and `err` holds the reason. */
enum rvm_store_status rvm_store_open(const char *path, enum rvm_store_mode mode,
                                     struct rvm_store **out, char *err, size_t errlen);
void rvm_store_close(struct rvm_store *st);
const char *rvm_store_path(const struct rvm_store *st);
/* The reason for the last failure on this handle. */
const char *rvm_store_error(const struct rvm_store *st);
/* The host crypto provider the handle uses for chain values. */
const struct rvm_crypto *rvm_store_crypto(const struct rvm_store *st);
/* Point lookups (record_get) done through this handle, for `diff --stats` and the tests. */
uint64_t rvm_store_lookups(const struct rvm_store *st);

/* The schema version of the file as opened (readers accept 1 .. RVM_STORE_SCHEMA_VERSION;
 * writers have migrated it to RVM_STORE_SCHEMA_VERSION). */
int rvm_store_schema_version(const struct rvm_store *st);

/* A consistent snapshot across several reads (BEGIN ... COMMIT of a read transaction). */
enum rvm_store_status rvm_store_read_begin(struct rvm_store *st);
void rvm_store_read_end(struct rvm_store *st);

/*
 * One write transaction around many additions (BEGIN IMMEDIATE ... COMMIT): summary runs of a
 * sweep in batches, everything one merge input brings. Inside it, a writer in
 * RVM_STORE_TX_SINGLE mode works in a savepoint of its own, so discarding it drops only its run.
 */
enum rvm_store_status rvm_store_write_begin(struct rvm_store *st);
enum rvm_store_status rvm_store_write_commit(struct rvm_store *st);
void rvm_store_write_rollback(struct rvm_store *st);
bool rvm_store_in_write(const struct rvm_store *st);

/* ------------------------------------------------------------------------------------------------
 * Runs
 * --------------------------------------------------------------------------------------------- */

struct rvm_store_run {
    int64_t id;
    char status[16];     /* running | complete | aborted */
    char source[32];     /* demo | run | import-raw | import-serial | ... */
    char key_source[16]; /* seed | external | none: where the checkpoint keys come from */
    char *created_at;    /* strings below: heap, NULL when absent; rvm_store_run_free */
    char *command;
    char *scenario;
    char *build_id;
    char *core_version;
    char *platform;
    char *options;
    char *result;
    bool has_scenario_sha256;
    uint8_t scenario_sha256[32];
    bool has_seed;
    uint64_t seed;
    bool has_exit_code;
    int exit_code;
    uint64_t record_count;
    uint64_t checkpoint_count;
    bool has_digest; /* digest and chain are set once the run is complete */
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
    /* schema version 2 (a version-1 store reads as content "full", target and outcome NULL) */
    char content[16]; /* full | summary: whether records, checkpoints and states are stored */
    char *target;     /* the simulator target ("witness", "kernel"); NULL for other sources */
    char *outcome;    /* the producer's outcome figures, key=value pairs separated by spaces */
};

/* False for a summary-only run: its records, checkpoints and state digests were never stored
 * (record_count and digest say what the run produced). */
static inline bool rvm_store_run_has_records(const struct rvm_store_run *run)
{
    return run->content[0] != 's';
}

void rvm_store_run_free(struct rvm_store_run *run);
enum rvm_store_status rvm_store_run_get(struct rvm_store *st, int64_t id,
                                        struct rvm_store_run *out);
/* Ids of every run, ascending. *ids is malloc'ed (free it), NULL when there are none. */
enum rvm_store_status rvm_store_run_ids(struct rvm_store *st, int64_t **ids, size_t *count);
/* Ids of the runs whose content is `content` ("full" or "summary"), ascending. */
enum rvm_store_status rvm_store_run_ids_of(struct rvm_store *st, const char *content, int64_t **ids,
                                           size_t *count);
/* Number of runs whose content is `content`. */
enum rvm_store_status rvm_store_run_count_of(struct rvm_store *st, const char *content,
                                             uint64_t *count);

/* Number of stored records of a run (1 + the highest stored sequence; 0 when none). */
enum rvm_store_status rvm_store_record_extent(struct rvm_store *st, int64_t run, uint64_t *count);

/* ------------------------------------------------------------------------------------------------
 * Records
 * --------------------------------------------------------------------------------------------- */

/* One point lookup. `image` and `chain` may be NULL. NOT_FOUND when the row does not exist;
 * CORRUPT when the row's blobs have the wrong size. */
enum rvm_store_status rvm_store_record_get(struct rvm_store *st, int64_t run, uint64_t seq,
                                           uint8_t image[RVM_WITNESS_RECORD_BYTES],
                                           uint8_t chain[RVM_WITNESS_CHAIN_BYTES]);

struct rvm_store_row {
    uint64_t seq; /* from the key */
    uint8_t kind; /* the decoded columns as stored (verify checks them against the image) */
    uint32_t actor;
    uint64_t target;
    uint8_t image[RVM_WITNESS_RECORD_BYTES];
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
};

struct rvm_store_filter {
    bool by_kind;
    uint8_t kind;
    bool by_actor;
    uint32_t actor;
};

struct rvm_store_cursor;

/* Rows of `run` with from <= seq < to, ascending, optionally filtered on the stored columns. */
enum rvm_store_status rvm_store_cursor_open(struct rvm_store *st, int64_t run, uint64_t from,
                                            uint64_t to, const struct rvm_store_filter *filter,
                                            struct rvm_store_cursor **out);
/* RVM_STORE_OK with a row, RVM_STORE_NOT_FOUND at the end, or an error. */
enum rvm_store_status rvm_store_cursor_next(struct rvm_store_cursor *cur,
                                            struct rvm_store_row *row);
void rvm_store_cursor_close(struct rvm_store_cursor *cur);

/* ------------------------------------------------------------------------------------------------
 * Checkpoints and state digests
 * --------------------------------------------------------------------------------------------- */

struct rvm_store_checkpoint {
    struct rvm_witness_checkpoint cp;
    bool has_ed25519;
    uint8_t ed25519_pub[RVM_ED25519_PUBLIC_BYTES];
    uint8_t ed25519_sig[RVM_ED25519_SIGNATURE_BYTES];
};

struct rvm_store_checkpoint_cursor;

/* The checkpoints of a run, ascending by sequence, one at a time (what rvm_store_checkpoints
 * gives as an array, in memory independent of their number). */
enum rvm_store_status rvm_store_checkpoint_cursor_open(struct rvm_store *st, int64_t run,
                                                       struct rvm_store_checkpoint_cursor **out);
/* RVM_STORE_OK with a checkpoint, RVM_STORE_NOT_FOUND at the end, RVM_STORE_CORRUPT for a
 * malformed row, or an error. */
enum rvm_store_status rvm_store_checkpoint_cursor_next(struct rvm_store_checkpoint_cursor *cur,
                                                       struct rvm_store_checkpoint *c);
void rvm_store_checkpoint_cursor_close(struct rvm_store_checkpoint_cursor *cur);

/* All checkpoints of a run, ascending by sequence; *out is malloc'ed. */
enum rvm_store_status rvm_store_checkpoints(struct rvm_store *st, int64_t run,
                                            struct rvm_store_checkpoint **out, size_t *count);

struct rvm_store_state {
    uint64_t seq;
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
};

struct rvm_store_state_cursor;

/* The state digests of a run, ascending by sequence, one at a time. */
enum rvm_store_status rvm_store_state_cursor_open(struct rvm_store *st, int64_t run,
                                                  struct rvm_store_state_cursor **out);
/* RVM_STORE_OK with a state digest, RVM_STORE_NOT_FOUND at the end, RVM_STORE_CORRUPT for a
 * malformed row, or an error. */
enum rvm_store_status rvm_store_state_cursor_next(struct rvm_store_state_cursor *cur,
                                                  struct rvm_store_state *d);
void rvm_store_state_cursor_close(struct rvm_store_state_cursor *cur);

/* All state digests of a run, ascending by sequence; *out is malloc'ed. */
enum rvm_store_status rvm_store_states(struct rvm_store *st, int64_t run,
                                       struct rvm_store_state **out, size_t *count);

/* A row of `faults` (name = site, text = detail) or `invariant_failures` (oracle, message). */
struct rvm_store_event {
    uint64_t seq;
    uint64_t time_ns;
    char *name;
    char *text; /* NULL when absent */
};

enum rvm_store_event_table {
    RVM_STORE_FAULTS,
    RVM_STORE_INVARIANTS,
};

/* All rows of one run in `table`, by id; free with rvm_store_events_free. */
enum rvm_store_status rvm_store_events(struct rvm_store *st, int64_t run,
                                       enum rvm_store_event_table table,
                                       struct rvm_store_event **out, size_t *count);
void rvm_store_events_free(struct rvm_store_event *ev, size_t count);

/* ------------------------------------------------------------------------------------------------
 * Writing a run
 *
 * A writer adds one run. Records are buffered and inserted in batches with one prepared INSERT
 * ... SELECT over the buffer, which is what reaches >= 1 M records/s. Two modes:
 *   - RVM_STORE_TX_BATCHES (live runs): the run row is committed at once with status 'running';
 *     each batch is its own transaction, so the write lock is held only while a batch is
 *     written and other processes can add runs in between;
 *   - RVM_STORE_TX_SINGLE (imports): everything, run row included, is one transaction that
 *     finish() commits; abort, a failure or a crash leaves the database exactly as it was.
 * The writer computes every record's chain value itself from the images it is given.
 * --------------------------------------------------------------------------------------------- */

struct rvm_store_run_info {
    const char *source;     /* required */
    const char *key_source; /* seed | external | none; NULL = seed when has_seed, else none */
    const char *command;
    const char *scenario;
    const char *options;
    const char *platform;     /* NULL = "sim" */
    const char *build_id;     /* NULL = this build (RVMSIM_VERSION) */
    const char *core_version; /* NULL = this build's core version */
    bool has_seed;
    uint64_t seed;
    const char *target;     /* the simulator target, or NULL */
    const char *created_at; /* NULL = now (merge keeps the original time) */
    /* SHA-256 of `scenario` when the caller has it already (a sweep: one text, a million
     * runs); NULL = computed here. */
    const uint8_t *scenario_sha256;
};

enum rvm_store_tx {
    RVM_STORE_TX_BATCHES,
    RVM_STORE_TX_SINGLE,
};

struct rvm_store_writer;

enum rvm_store_status rvm_store_writer_begin(struct rvm_store *st,
                                             const struct rvm_store_run_info *info,
                                             enum rvm_store_tx tx, struct rvm_store_writer **out);
int64_t rvm_store_writer_run(const struct rvm_store_writer *w);
uint64_t rvm_store_writer_count(const struct rvm_store_writer *w);

/* Sign every checkpoint given to the writer with Ed25519 (host runs). `signer` must outlive w. */
bool rvm_store_writer_set_signer(struct rvm_store_writer *w, const struct rvm_ed25519_key *signer);

/*
 * Raw mode: store the images exactly as given, record i at sequence i, without the sink's check
 * that each image carries its own sequence. For logs that are stored as evidence after the fact
 * (a failing simulator run whose log a fault damaged; a merge copying such a run): `verify`
 * then reports the damage at its sequence number instead of the store refusing the run.
 */
void rvm_store_writer_set_raw(struct rvm_store_writer *w, bool raw);

/* The run's outcome column (key=value figures), written by finish. False when out of memory. */
bool rvm_store_writer_set_outcome(struct rvm_store_writer *w, const char *outcome);

/*
 * Take records first_seq .. first_seq+count-1. Returns how many were taken from the front: fewer
 * than count when first_seq is not the next sequence, an image's own sequence disagrees, or a
 * batch could not be written (the reason is in rvm_store_error).
 */
size_t rvm_store_writer_records(struct rvm_store_writer *w, uint64_t first_seq,
                                const uint8_t *images, size_t count);

/* A checkpoint over records already taken. `sig`/`pub` may be NULL: the writer's signer (if
 * any) signs instead. False when refused (beyond the records, not ascending) or not written. */
bool rvm_store_writer_checkpoint(struct rvm_store_writer *w,
                                 const struct rvm_witness_checkpoint *cp,
                                 const uint8_t *ed25519_pub, const uint8_t *ed25519_sig);

/* A state digest after record `seq` (epoch boundaries, reconstruct). */
bool rvm_store_writer_state(struct rvm_store_writer *w, uint64_t seq,
                            const uint8_t digest[RVM_SHA256_DIGEST_BYTES]);

/* A fault that fired / an invariant that failed, after `seq` records (witness position). */
bool rvm_store_writer_fault(struct rvm_store_writer *w, uint64_t seq, uint64_t time_ns,
                            const char *site, const char *detail);
bool rvm_store_writer_invariant(struct rvm_store_writer *w, uint64_t seq, uint64_t time_ns,
                                const char *oracle, const char *message);

/* The chain value the writer computed after record `seq` (< count): from its buffer or, for
 * records already written, from the database (inside the writer's own transaction). */
enum rvm_store_status rvm_store_writer_chain_at(struct rvm_store_writer *w, uint64_t seq,
                                                uint8_t chain[RVM_WITNESS_CHAIN_BYTES]);

/* Write what is buffered (and commit it, in batch mode). */
enum rvm_store_status rvm_store_writer_flush(struct rvm_store_writer *w);

/*
 * Flush, then mark the run complete with its result class (pass, expectation, usage, safety,
 * liveness, nondeterminism, internal, unknown) and exit code (< 0: none), record count, checkpoint
 * count, digest and chain value; commit. The writer is freed either way. digest/chain may be NULL.
 */
enum rvm_store_status rvm_store_writer_finish(struct rvm_store_writer *w, const char *result,
                                              int exit_code,
                                              uint8_t digest[RVM_SHA256_DIGEST_BYTES],
                                              uint8_t chain[RVM_WITNESS_CHAIN_BYTES]);

/* Give up: single mode rolls everything back; batch mode deletes what was written. Frees w. */
void rvm_store_writer_discard(struct rvm_store_writer *w);

/* ------------------------------------------------------------------------------------------------
 * Summary-only runs (schema version 2)
 *
 * A sweep stores one row per run and the records only of failing runs. A summary run has
 * content 'summary', status 'complete', its result, record count and (when known) the log
 * digest and chain value the producer computed, and no records, checkpoints or state digests.
 * verify, diff, show, export and reconstruct say so instead of reporting missing records.
 * Inside rvm_store_write_begin/commit, many are added in one transaction.
 * --------------------------------------------------------------------------------------------- */

struct rvm_store_summary {
    const char *result; /* class name, as for rvm_store_writer_finish */
    int exit_code;      /* < 0: none */
    uint64_t record_count;
    uint64_t checkpoint_count;
    bool has_digest; /* digest and chain of the producer's log */
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
    const char *outcome; /* may be NULL */
};

enum rvm_store_status rvm_store_summary_add(struct rvm_store *st,
                                            const struct rvm_store_run_info *info,
                                            const struct rvm_store_summary *sum, int64_t *run_id);

/*
 * Re-running a seed into a store is idempotent: when an earlier complete run has the same
 * identity as `run` (source, scenario SHA-256, options, target, seed), the same result, record
 * count and log digest, and the same content (or it is full and `run` a summary of it), `run` is
 * deleted and *kept is that earlier run's id;
 * otherwise *kept = run. Runs without a seed (imports) are always kept. Inside the caller's
 * write transaction when one is open, else in its own.
 */
enum rvm_store_status rvm_store_drop_duplicate(struct rvm_store *st, int64_t run, int64_t *kept);

/* Add a row to `faults` or `invariant_failures` of an existing run (summary runs; a writer's
 * own run takes them through rvm_store_writer_fault/invariant). */
enum rvm_store_status rvm_store_event_add(struct rvm_store *st, int64_t run,
                                          enum rvm_store_event_table table, uint64_t seq,
                                          uint64_t time_ns, const char *name, const char *text);

/* The writer as a simulated-HAL witness sink (ctx = the writer). A record batch that cannot be
 * written makes the sink stall (0 taken), so the core refuses the append: no witness, no
 * mutation. */
extern const struct rvm_sink_ops rvm_store_sink_ops;

/* Exit-code class names used in runs.result (index = enum rvmsim_exit value). */
const char *rvm_store_result_name(int exit_code);

#endif /* RVM_REPLAY_STORE_H */
