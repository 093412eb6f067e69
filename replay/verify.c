/* SPDX-License-Identifier: MIT */
#include "verify.h"

#include "run_keys.h"
#include "store_internal.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define VERIFY_MAX_JOBS    8u
#define VERIFY_MIN_SEGMENT 262144u /* below this a thread costs more than it saves */

bool rvm_verify_seed_keys(const struct rvm_crypto *crypto, uint64_t seed, uint8_t hmac_key[32],
                          uint8_t ed25519_pub[RVM_ED25519_PUBLIC_BYTES])
{
    struct rvm_run_keys keys;
    rvm_run_keys_derive(crypto, seed, &keys);
    memcpy(hmac_key, keys.hmac, 32);
    struct rvm_ed25519_key *k = rvm_ed25519_from_seed(keys.ed25519_seed);
    bool ok = k != NULL && rvm_ed25519_public(k, ed25519_pub);
    rvm_ed25519_free(k);
    return ok;
}

/* One contiguous range of records [lo, hi) verified by one thread. */
struct segment {
    const char *path;
    int64_t run;
    uint64_t lo, hi;
    const uint8_t *key;
    uint32_t key_len;
    const uint8_t *pin;       /* pinned Ed25519 key or NULL */
    struct rvm_store *shared; /* the caller's handle, for a single segment */
    pthread_t thread;

    struct rvm_store *st;
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_witness_verifier v;
    struct rvm_store_checkpoint_cursor *cps; /* the run's checkpoints, read as the records pass */
    struct rvm_store_checkpoint next_cp;
    bool has_next_cp; /* next_cp is the segment's next checkpoint (lo <= seq < hi) */
    uint64_t checked_cps;
    uint64_t signatures;
    bool failed;
    bool store_error;
    uint64_t fail_seq;
    char reason[400];
};

static void seg_fail(struct segment *g, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seg_fail(struct segment *g, uint64_t seq, const char *fmt, ...)
{
    if (g->failed) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof(g->reason), fmt, ap);
    va_end(ap);
    g->failed = true;
    g->fail_seq = seq;
}

/* After reading a checkpoint with status s: it is the segment's next one if it lies before the
 * segment's end. */
static void take_checkpoint(struct segment *g, enum rvm_store_status s)
{
    g->has_next_cp = s == RVM_STORE_OK && g->next_cp.cp.sequence < g->hi;
    if (s != RVM_STORE_OK && s != RVM_STORE_NOT_FOUND && !g->failed) {
        g->store_error = true;
        seg_fail(g, g->v.next_seq, "%s", rvm_store_error(g->st));
    }
}

/*
 * Positions the segment at its first checkpoint. In key order, the checkpoints before lo are
 * the earlier segments' (each takes those below its end), so this one skips them.
 */
static void open_checkpoints(struct segment *g)
{
    enum rvm_store_status s = rvm_store_checkpoint_cursor_open(g->st, g->run, &g->cps);
    /* bound: the checkpoints before lo, each read once */
    while (s == RVM_STORE_OK &&
           (s = rvm_store_checkpoint_cursor_next(g->cps, &g->next_cp)) == RVM_STORE_OK &&
           g->next_cp.cp.sequence < g->lo) {
    }
    take_checkpoint(g, s);
}

static void check_checkpoints_at(struct segment *g, uint64_t seq)
{
    /* bound: the checkpoints of this segment, each visited once */
    while (!g->failed && g->has_next_cp && g->next_cp.cp.sequence == seq) {
        const struct rvm_store_checkpoint *c = &g->next_cp;
        if (g->key == NULL) {
            seg_fail(g, seq, "checkpoint cannot be checked: the run has no checkpoint key");
            return;
        }
        enum rvm_err err = rvm_witness_verify_checkpoint(&g->v, &c->cp);
        if (err != RVM_OK) {
            seg_fail(g, seq, "checkpoint: %s", rvm_strerror(err));
            return;
        }
        if (c->has_ed25519) {
            if (g->pin != NULL && memcmp(g->pin, c->ed25519_pub, RVM_ED25519_PUBLIC_BYTES) != 0) {
                seg_fail(g, seq, "checkpoint: Ed25519 public key is not the run's key");
                return;
            }
            if (!rvm_ed25519_verify_checkpoint(c->ed25519_pub, &c->cp, c->ed25519_sig)) {
                seg_fail(g, seq, "checkpoint: Ed25519 signature is invalid");
                return;
            }
            g->signatures++;
        }
        g->checked_cps++;
        take_checkpoint(g, rvm_store_checkpoint_cursor_next(g->cps, &g->next_cp));
    }
}

/*
 * rvm_verify_row(key, kind, actor, target, image, chain): called by SQLite for every row of the
 * segment in key order; returns 0 while everything holds and 1 at the first failure, which ends
 * the query. Doing the work inside the query (rather than stepping a SELECT row by row) measured
 * 144 instead of 260 ns per row.
 */
static void verify_row(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct segment *g = sqlite3_user_data(ctx);
    uint64_t seq = g->v.next_seq;
    if (g->failed) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    int64_t key = sqlite3_value_int64(argv[0]);
    if (key != rvm_store_key(g->run, seq)) {
        if (key < rvm_store_key(g->run, seq)) {
            seg_fail(g, seq, "record: stored out of order");
        } else {
            seg_fail(g, seq, "record: missing from the store");
        }
        sqlite3_result_int(ctx, 1);
        return;
    }
    const uint8_t *image = sqlite3_value_blob(argv[4]);
    int image_len = sqlite3_value_bytes(argv[4]);
    const uint8_t *chain = sqlite3_value_blob(argv[5]);
    int chain_len = sqlite3_value_bytes(argv[5]);
    if (image == NULL || image_len != RVM_WITNESS_RECORD_BYTES) {
        seg_fail(g, seq, "record: stored image is %d bytes, not 64", image_len);
    } else if (chain == NULL || chain_len != RVM_WITNESS_CHAIN_BYTES) {
        seg_fail(g, seq, "record: stored chain value is %d bytes, not 32", chain_len);
    } else {
        enum rvm_err err = rvm_witness_verify_record(&g->v, image);
        uint8_t state[RVM_WITNESS_CHAIN_BYTES];
        if (err != RVM_OK) {
            seg_fail(g, seq, "record: %s", rvm_strerror(err));
        } else if (sqlite3_value_int64(argv[1]) != image[RVM_WOFF_KIND]) {
            seg_fail(g, seq, "record: stored kind column (%lld) disagrees with the image (%u)",
                     (long long)sqlite3_value_int64(argv[1]), image[RVM_WOFF_KIND]);
        } else if (sqlite3_value_int64(argv[2]) != rvm_load_le32(image + RVM_WOFF_ACTOR)) {
            seg_fail(g, seq, "record: stored actor column (%lld) disagrees with the image (%u)",
                     (long long)sqlite3_value_int64(argv[2]),
                     rvm_load_le32(image + RVM_WOFF_ACTOR));
        } else if (rvm_store_u64(sqlite3_value_int64(argv[3])) !=
                   rvm_load_le64(image + RVM_WOFF_TARGET)) {
            seg_fail(g, seq, "record: stored target column disagrees with the image");
        } else {
            rvm_sha256_state_bytes(g->v.state, state);
            if (memcmp(state, chain, sizeof(state)) != 0) {
                seg_fail(g, seq, "record: stored chain value disagrees with the recomputed chain");
            } else {
                check_checkpoints_at(g, seq);
            }
        }
    }
    sqlite3_result_int(ctx, g->failed ? 1 : 0);
}

static void *segment_main(void *arg)
{
    struct segment *g = arg;
    char err[512];

    if (g->shared != NULL) {
        g->st = g->shared;
    } else if (rvm_store_open(g->path, RVM_STORE_READ, &g->st, err, sizeof(err)) != RVM_STORE_OK) {
        g->store_error = true;
        seg_fail(g, g->lo, "%s", err);
        return NULL;
    }
    g->oc = rvm_openssl_crypto_new();
    if (g->oc == NULL) {
        g->store_error = true;
        seg_fail(g, g->lo, "OpenSSL could not provide SHA-256");
        goto out;
    }
    rvm_openssl_crypto_bind(g->oc, &g->crypto);
    rvm_witness_verifier_init(&g->v, &g->crypto, g->key, g->key_len);

    if (g->lo != 0) {
        /* resume from the stored chain value and timestamp before the segment; the previous
         * segment checks both against what it recomputes */
        uint8_t image[RVM_WITNESS_RECORD_BYTES], chain[RVM_WITNESS_CHAIN_BYTES];
        enum rvm_store_status s = rvm_store_record_get(g->st, g->run, g->lo - 1, image, chain);
        if (s != RVM_STORE_OK) {
            if (s == RVM_STORE_NOT_FOUND || s == RVM_STORE_CORRUPT) {
                seg_fail(g, g->lo - 1, "record: missing from the store");
            } else {
                g->store_error = true;
                seg_fail(g, g->lo - 1, "%s", rvm_store_error(g->st));
            }
            goto out;
        }
        rvm_sha256_state_from_bytes(chain, g->v.state);
        g->v.next_seq = g->lo;
        g->v.last_timestamp = rvm_load_le64(image + RVM_WOFF_TIMESTAMP);
    }
    open_checkpoints(g);
    if (g->failed) {
        goto out;
    }

    int rc = sqlite3_create_function(g->st->db, "rvm_verify_row", 6,
                                     SQLITE_UTF8 | SQLITE_DIRECTONLY, g, verify_row, NULL, NULL);
    sqlite3_stmt *stmt = NULL;
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(g->st->db,
                                "SELECT key FROM records WHERE key >= ?1 AND key < ?2 AND "
                                "rvm_verify_row(key, kind, actor, target, image, chain) "
                                "ORDER BY key LIMIT 1",
                                -1, &stmt, NULL);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, rvm_store_key(g->run, g->lo));
        sqlite3_bind_int64(stmt, 2, rvm_store_key(g->run, g->hi));
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE && !g->failed) {
        /* damage SQLite itself found: report it at the record the scan had reached */
        if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
            seg_fail(g, g->v.next_seq, "record: unreadable: %s", sqlite3_errmsg(g->st->db));
        } else {
            g->store_error = true;
            seg_fail(g, g->v.next_seq, "reading records: %s", sqlite3_errmsg(g->st->db));
        }
    }
    sqlite3_finalize(stmt);
    /* SQLite removes a function only while no statement is active */
    rvm_store_checkpoint_cursor_close(g->cps);
    g->cps = NULL;
    sqlite3_create_function(g->st->db, "rvm_verify_row", 6, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    if (!g->failed && g->v.next_seq != g->hi) {
        seg_fail(g, g->v.next_seq, "record: missing from the store");
    }
out:
    rvm_store_checkpoint_cursor_close(g->cps);
    g->cps = NULL;
    rvm_openssl_crypto_free(g->oc);
    g->oc = NULL;
    if (g->shared == NULL) {
        rvm_store_close(g->st);
    }
    g->st = NULL;
    return NULL;
}

static void report(struct rvm_verify_report *rep, enum rvm_verify_verdict verdict, bool has_seq,
                   uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct rvm_verify_report *rep, enum rvm_verify_verdict verdict, bool has_seq,
                   uint64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
    va_end(ap);
    rep->verdict = verdict;
    rep->has_seq = has_seq;
    rep->seq = seq;
}

static unsigned auto_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) {
        return 1;
    }
    return n > (long)VERIFY_MAX_JOBS ? VERIFY_MAX_JOBS : (unsigned)n;
}

/* The checkpoint key and the Ed25519 key a run's checkpoints must verify with. */
struct verify_keys {
    uint8_t seed_hmac[32];
    uint8_t seed_pub[RVM_ED25519_PUBLIC_BYTES];
    const uint8_t *hmac; /* NULL: none known */
    uint32_t hmac_len;
    const uint8_t *pub; /* NULL: not pinned */
};

/* Chooses the keys from the options or the run's seed; false when the run cannot be checked. */
static bool choose_keys(struct rvm_store *st, const struct rvm_store_run *run,
                        const struct rvm_verify_options *opt, struct verify_keys *k,
                        struct rvm_verify_report *rep)
{
    bool seed_keys = strcmp(run->key_source, "seed") == 0;
    if (seed_keys && !run->has_seed) {
        report(rep, RVM_VERIFY_FAILED, false, 0,
               "run metadata says its keys come from the seed, but it has no seed");
        return false;
    }
    if (seed_keys &&
        !rvm_verify_seed_keys(rvm_store_crypto(st), run->seed, k->seed_hmac, k->seed_pub)) {
        report(rep, RVM_VERIFY_ERROR, false, 0, "OpenSSL could not derive the run's keys");
        rep->store_status = RVM_STORE_ERROR;
        return false;
    }
    if (opt->hmac_key != NULL) {
        k->hmac = opt->hmac_key;
        k->hmac_len = (uint32_t)opt->hmac_key_len;
    } else if (seed_keys) {
        k->hmac = k->seed_hmac;
        k->hmac_len = sizeof(k->seed_hmac);
    }
    if (opt->pin_ed25519) {
        k->pub = opt->ed25519_pub;
    } else if (seed_keys) {
        k->pub = k->seed_pub;
    }
    rep->pub_pinned = k->pub != NULL;
    return true;
}

/* What the checks of a run's end need of its checkpoints, gathered in one pass over them so that
 * memory does not grow with their number. */
struct checkpoint_survey {
    size_t count;
    uint64_t first_seq;
    bool has_seal; /* the first seal: its place in key order and its sequence */
    size_t seal_index;
    uint64_t seal_seq;
    bool last_is_seal;
    bool beyond; /* the first checkpoint (in key order) at or after the run's last record */
    uint64_t beyond_seq;
};

static enum rvm_store_status survey_checkpoints(struct rvm_store *st, int64_t run_id,
                                                uint64_t records, struct checkpoint_survey *sv)
{
    memset(sv, 0, sizeof(*sv));
    struct rvm_store_checkpoint_cursor *cur;
    enum rvm_store_status s = rvm_store_checkpoint_cursor_open(st, run_id, &cur);
    struct rvm_store_checkpoint c;
    /* bound: the run's checkpoints, each read once */
    while (s == RVM_STORE_OK && (s = rvm_store_checkpoint_cursor_next(cur, &c)) == RVM_STORE_OK) {
        if (sv->count == 0) {
            sv->first_seq = c.cp.sequence;
        }
        if (c.cp.seal && !sv->has_seal) {
            sv->has_seal = true;
            sv->seal_index = sv->count;
            sv->seal_seq = c.cp.sequence;
        }
        if (c.cp.sequence >= records && !sv->beyond) {
            sv->beyond = true;
            sv->beyond_seq = c.cp.sequence;
        }
        sv->last_is_seal = c.cp.seal;
        sv->count++;
    }
    rvm_store_checkpoint_cursor_close(cur);
    return s == RVM_STORE_NOT_FOUND ? RVM_STORE_OK : s;
}

/*
 * Splits records [0, count) into segments and verifies them with their checkpoints, in threads
 * when there is more than one. NULL when out of memory (reported).
 */
static struct segment *verify_segments(struct rvm_store *st, int64_t run_id,
                                       const struct rvm_verify_options *opt, uint64_t count,
                                       const struct verify_keys *k, uint64_t *nseg_out,
                                       struct rvm_verify_report *rep)
{
    unsigned jobs = opt->jobs != 0 ? opt->jobs : auto_jobs();
    uint64_t nseg = count / (opt->min_segment != 0 ? opt->min_segment : VERIFY_MIN_SEGMENT);
    if (nseg > jobs) {
        nseg = jobs;
    }
    if (nseg == 0) {
        nseg = 1;
    }
    struct segment *segs = calloc((size_t)nseg, sizeof(*segs));
    if (segs == NULL) {
        report(rep, RVM_VERIFY_ERROR, false, 0, "out of memory");
        rep->store_status = RVM_STORE_ERROR;
        return NULL;
    }
    for (uint64_t i = 0; i < nseg; i++) {
        struct segment *g = &segs[i];
        g->path = rvm_store_path(st);
        g->run = run_id;
        g->lo = count * i / nseg;
        g->hi = count * (i + 1) / nseg;
        g->key = k->hmac;
        g->key_len = k->hmac_len;
        g->pin = k->pub;
        g->shared = nseg == 1 ? st : NULL;
    }
    if (nseg == 1) {
        segment_main(&segs[0]);
    } else {
        size_t started = 0;
        for (; started < nseg; started++) {
            if (pthread_create(&segs[started].thread, NULL, segment_main, &segs[started]) != 0) {
                break;
            }
        }
        for (size_t i = 0; i < started; i++) {
            pthread_join(segs[i].thread, NULL);
        }
        for (size_t i = started; i < nseg; i++) {
            segment_main(&segs[i]); /* could not start a thread: do it here */
        }
    }
    *nseg_out = nseg;
    return segs;
}

/* Adds up the segments' counts; false after reporting the first segment that failed. */
static bool segments_passed(const struct segment *segs, uint64_t nseg,
                            struct rvm_verify_report *rep)
{
    for (uint64_t i = 0; i < nseg; i++) {
        rep->signatures += segs[i].signatures;
        rep->checkpoints += segs[i].checked_cps;
        if (segs[i].failed) {
            rep->records = segs[i].fail_seq;
            if (segs[i].store_error) {
                rep->store_status = RVM_STORE_ERROR;
                report(rep, RVM_VERIFY_ERROR, true, segs[i].fail_seq, "%s", segs[i].reason);
            } else {
                report(rep, RVM_VERIFY_FAILED, true, segs[i].fail_seq, "%s", segs[i].reason);
            }
            return false;
        }
    }
    return true;
}

/* A seal must be the last checkpoint and end at the last record: does the first seal break
 * that? (A later seal would follow it, so the first one breaks it.) */
static bool misplaced_seal(const struct checkpoint_survey *sv, uint64_t count)
{
    return sv->has_seal && (sv->seal_index + 1 != sv->count || sv->seal_seq + 1 != count);
}

/* Why a run has no seal, for the UNSEALED verdict. */
static void report_unsealed(const struct rvm_store_run *run, uint64_t count,
                            struct rvm_verify_report *rep)
{
    if (strcmp(run->status, "complete") != 0) {
        report(rep, RVM_VERIFY_UNSEALED, false, 0,
               "the run is %s (status '%s'): its writer did not finish; the %llu stored records "
               "verify, and how many more there were is unknown",
               strcmp(run->status, "aborted") == 0 ? "aborted" : "incomplete", run->status,
               (unsigned long long)count);
    } else {
        report(rep, RVM_VERIFY_UNSEALED, count != 0, count == 0 ? 0 : count - 1,
               "no seal (final checkpoint) after the last record: the producer stopped before "
               "sealing (a failing run, a raw import) or the log was cut short; the %llu stored "
               "records verify (--allow-unsealed accepts that)",
               (unsigned long long)count);
    }
}

/* What the verified records must agree with: the run's end, digest, seal and checkpoint count. */
static void check_run_end(const struct rvm_store_run *run, const struct rvm_verify_options *opt,
                          const struct checkpoint_survey *sv, uint64_t count, uint64_t extent,
                          const uint32_t *chain_state, struct rvm_verify_report *rep)
{
    bool complete = strcmp(run->status, "complete") == 0;
    if (sv->beyond) {
        report(rep, RVM_VERIFY_FAILED, true, sv->beyond_seq,
               "checkpoint: %s (it lies beyond the last record, %llu)",
               rvm_strerror(RVM_ERR_WITNESS_TRUNCATED),
               (unsigned long long)(count == 0 ? 0 : count - 1));
        return;
    }
    if (extent > count) {
        report(rep, RVM_VERIFY_FAILED, true, count,
               "record: stored beyond the run's end (%llu records)", (unsigned long long)count);
        return;
    }
    if (misplaced_seal(sv, count)) {
        report(rep, RVM_VERIFY_FAILED, true, sv->seal_seq + 1,
               "record: %s (the seal is at seq %llu)", rvm_strerror(RVM_ERR_WITNESS_AFTER_SEAL),
               (unsigned long long)sv->seal_seq);
        return;
    }
    if (complete) {
        uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
        rvm_sha256_state_bytes(chain_state, chain);
        if (memcmp(chain, run->chain, sizeof(chain)) != 0 ||
            memcmp(rep->digest, run->digest, sizeof(rep->digest)) != 0) {
            report(rep, RVM_VERIFY_FAILED, count != 0, count == 0 ? 0 : count - 1,
                   "the run's recorded digest disagrees with its records");
            return;
        }
        if (run->checkpoint_count != sv->count) {
            report(rep, RVM_VERIFY_FAILED, false, 0,
                   "the run records %llu checkpoints but the store holds %zu",
                   (unsigned long long)run->checkpoint_count, sv->count);
            return;
        }
    }
    rep->sealed = count != 0 && sv->count != 0 && sv->last_is_seal;
    if ((!rep->sealed && count != 0) || !complete) {
        if (!opt->allow_unsealed) {
            report_unsealed(run, count, rep);
            return;
        }
        rep->sealed = false;
    }
    rep->verdict = RVM_VERIFY_OK;
}

void rvm_verify_run(struct rvm_store *st, int64_t run_id, const struct rvm_verify_options *opt,
                    struct rvm_verify_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    struct rvm_store_run run;
    struct checkpoint_survey cps;
    struct segment *segs = NULL;
    struct verify_keys keys = {0};

    enum rvm_store_status s = rvm_store_run_get(st, run_id, &run);
    if (s != RVM_STORE_OK) {
        rep->store_status = s;
        if (s == RVM_STORE_CORRUPT) {
            report(rep, RVM_VERIFY_FAILED, false, 0, "%s", rvm_store_error(st));
        } else {
            report(rep, RVM_VERIFY_ERROR, false, 0, "%s", rvm_store_error(st));
        }
        return;
    }

    if (!rvm_store_run_has_records(&run)) {
        rep->records = run.record_count;
        if (run.has_digest) {
            memcpy(rep->digest, run.digest, sizeof(rep->digest));
        }
        report(rep, RVM_VERIFY_SUMMARY, false, 0,
               "summary only: the run's %llu records were not stored (a sweep stores the log of "
               "failing runs only), so there is nothing to verify",
               (unsigned long long)run.record_count);
        goto out;
    }
    if (!choose_keys(st, &run, opt, &keys, rep)) {
        goto out;
    }

    bool complete = strcmp(run.status, "complete") == 0;
    uint64_t extent = 0;
    s = rvm_store_record_extent(st, run_id, &extent);
    if (s != RVM_STORE_OK) {
        rep->store_status = s;
        report(rep, s == RVM_STORE_CORRUPT ? RVM_VERIFY_FAILED : RVM_VERIFY_ERROR, false, 0, "%s",
               rvm_store_error(st));
        goto out;
    }
    uint64_t count = complete ? run.record_count : extent;

    s = survey_checkpoints(st, run_id, count, &cps);
    /* the segments read the checkpoints again on their own connections: the pages the survey
     * left in this connection's cache would only add to the memory the verify holds */
    sqlite3_db_release_memory(st->db);
    if (s != RVM_STORE_OK) {
        rep->store_status = s;
        report(rep, s == RVM_STORE_CORRUPT ? RVM_VERIFY_FAILED : RVM_VERIFY_ERROR, false, 0, "%s",
               rvm_store_error(st));
        goto out;
    }
    if (cps.count != 0 && keys.hmac == NULL) {
        if (strcmp(run.key_source, "external") == 0) {
            report(rep, RVM_VERIFY_NEEDS_KEY, false, 0,
                   "the run's checkpoints were made with an external key: give --hmac-key");
        } else {
            report(rep, RVM_VERIFY_FAILED, true, cps.first_seq,
                   "checkpoint: the run has checkpoints but no key to check them");
        }
        goto out;
    }

    uint64_t nseg = 0;
    segs = verify_segments(st, run_id, opt, count, &keys, &nseg, rep);
    if (segs == NULL || !segments_passed(segs, nseg, rep)) {
        goto out;
    }
    rep->records = count;
    const struct segment *last = &segs[nseg - 1];
    rvm_sha256_finish_aligned(rvm_store_crypto(st), last->v.state, count * RVM_WITNESS_RECORD_BYTES,
                              rep->digest);
    check_run_end(&run, opt, &cps, count, extent, last->v.state, rep);

out:
    free(segs);
    rvm_store_run_free(&run);
}
