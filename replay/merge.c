/* SPDX-License-Identifier: MIT */
#include "merge.h"

#include "manifest.h"

#include "store_internal.h"
#include "util.h"
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define COPY_CHUNK 4096u /* records handed to the writer at a time */

struct merge {
    struct rvm_store *in, *out;
    struct rvm_merge_stats *stats;
    sqlite3_stmt *find; /* a run of the same identity in the output */
    uint8_t *images;
    char *msg;
    size_t msglen;
    int64_t added; /* the id of the run copy_full added last */
};

static enum rvm_merge_status failf(struct merge *m, enum rvm_merge_status status, const char *fmt,
                                   ...) __attribute__((format(printf, 3, 4)));

static enum rvm_merge_status failf(struct merge *m, enum rvm_merge_status status, const char *fmt,
                                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->msg, m->msglen, fmt, ap);
    va_end(ap);
    return status;
}

static enum rvm_merge_status store_failure(struct merge *m, struct rvm_store *st,
                                           enum rvm_store_status s, const char *what)
{
    return failf(m, s == RVM_STORE_CORRUPT ? RVM_MERGE_FAILED : RVM_MERGE_ERROR, "%s: %s", what,
                 rvm_store_error(st));
}

static struct rvm_store_run_info info_of(const struct rvm_store_run *r)
{
    return (struct rvm_store_run_info){
        .source = r->source,
        .key_source = r->key_source,
        .command = r->command,
        .scenario = r->scenario,
        .options = r->options,
        .platform = r->platform != NULL ? r->platform : "unknown",
        .build_id = r->build_id != NULL ? r->build_id : "unknown",
        .core_version = r->core_version != NULL ? r->core_version : "unknown",
        .has_seed = r->has_seed,
        .seed = r->seed,
        .target = r->target,
        .created_at = r->created_at,
    };
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The same run as the output holds it already? 0: no; 1: a duplicate to skip; 2: a summary the
 * full input run replaces (its id in *existing). A conflict is a failure. */
static enum rvm_merge_status find_existing(struct merge *m, const struct rvm_store_run *r,
                                           int *verdict, int64_t *existing)
{
    *verdict = 0;
    if (!r->has_seed) {
        return RVM_MERGE_OK; /* imports and the like have no identity beyond their bytes */
    }
    sqlite3_stmt *q = m->find;
    sqlite3_bind_int64(q, 1, rvm_store_i64(r->seed));
    if (r->has_scenario_sha256) {
        sqlite3_bind_blob(q, 2, r->scenario_sha256, 32, SQLITE_STATIC);
    }
    sqlite3_bind_text(q, 3, r->source, -1, SQLITE_STATIC);
    if (r->options != NULL) {
        sqlite3_bind_text(q, 4, r->options, -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(q);
    enum rvm_merge_status status = RVM_MERGE_OK;
    if (rc == SQLITE_ROW) {
        *existing = sqlite3_column_int64(q, 0);
        struct rvm_store_run have;
        enum rvm_store_status s = rvm_store_run_get(m->out, *existing, &have);
        if (s != RVM_STORE_OK) {
            status = store_failure(m, m->out, s, "reading the output");
        } else {
            bool same = same_text(have.result, r->result) && have.record_count == r->record_count &&
                        have.has_digest == r->has_digest &&
                        (!r->has_digest || memcmp(have.digest, r->digest, 32) == 0);
            if (!same) {
                char a[17] = "none", b[17] = "none";
                if (have.has_digest) {
                    rvm_hex(have.digest, 8, a);
                }
                if (r->has_digest) {
                    rvm_hex(r->digest, 8, b);
                }
                status = failf(m, RVM_MERGE_FAILED,
                               "run %lld (seed %llu) conflicts with run %lld of the output: "
                               "%s, %llu records, digest %s... there (build %s) but %s, %llu "
                               "records, digest %s... here (build %s): the same seed ran "
                               "differently (non-determinism, or shards of different builds)",
                               (long long)r->id, (unsigned long long)r->seed, (long long)*existing,
                               have.result != NULL ? have.result : "unknown",
                               (unsigned long long)have.record_count, a,
                               have.build_id != NULL ? have.build_id : "?",
                               r->result != NULL ? r->result : "unknown",
                               (unsigned long long)r->record_count, b,
                               r->build_id != NULL ? r->build_id : "?");
            } else if (!rvm_store_run_has_records(&have) && rvm_store_run_has_records(r)) {
                *verdict = 2;
            } else {
                *verdict = 1;
            }
            rvm_store_run_free(&have);
        }
    } else if (rc != SQLITE_DONE) {
        status = failf(m, RVM_MERGE_ERROR, "looking up seed %llu in the output: %s",
                       (unsigned long long)r->seed, sqlite3_errmsg(m->out->db));
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return status;
}

static enum rvm_merge_status copy_events(struct merge *m, const struct rvm_store_run *r, int64_t to,
                                         struct rvm_store_writer *w)
{
    for (int t = 0; t < 2; t++) {
        struct rvm_store_event *ev = NULL;
        size_t n = 0;
        enum rvm_store_status s =
            rvm_store_events(m->in, r->id, (enum rvm_store_event_table)t, &ev, &n);
        if (s != RVM_STORE_OK) {
            return store_failure(m, m->in, s, "reading the input");
        }
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            if (w != NULL) {
                ok = t == RVM_STORE_FAULTS ? rvm_store_writer_fault(w, ev[i].seq, ev[i].time_ns,
                                                                    ev[i].name, ev[i].text)
                                           : rvm_store_writer_invariant(w, ev[i].seq, ev[i].time_ns,
                                                                        ev[i].name, ev[i].text);
            } else {
                ok = rvm_store_event_add(m->out, to, (enum rvm_store_event_table)t, ev[i].seq,
                                         ev[i].time_ns, ev[i].name, ev[i].text) == RVM_STORE_OK;
            }
        }
        rvm_store_events_free(ev, n);
        if (!ok) {
            return failf(m, RVM_MERGE_ERROR, "copying faults of run %lld: %s", (long long)r->id,
                         rvm_store_error(m->out));
        }
    }
    return RVM_MERGE_OK;
}

static enum rvm_merge_status copy_summary(struct merge *m, const struct rvm_store_run *r)
{
    struct rvm_store_run_info info = info_of(r);
    struct rvm_store_summary sum = {
        .result = r->result,
        .exit_code = r->has_exit_code ? r->exit_code : -1,
        .record_count = r->record_count,
        .checkpoint_count = r->checkpoint_count,
        .has_digest = r->has_digest,
        .outcome = r->outcome,
    };
    memcpy(sum.digest, r->digest, sizeof(sum.digest));
    memcpy(sum.chain, r->chain, sizeof(sum.chain));
    int64_t id;
    enum rvm_store_status s = rvm_store_summary_add(m->out, &info, &sum, &id);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->out, s, "adding a summary run");
    }
    enum rvm_merge_status ms = copy_events(m, r, id, NULL);
    if (ms != RVM_MERGE_OK) {
        return ms;
    }
    /* read it back: what the output now says about the run is what the input said */
    struct rvm_store_run got;
    s = rvm_store_run_get(m->out, id, &got);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->out, s, "reading back a merged run");
    }
    bool same = !rvm_store_run_has_records(&got) && same_text(got.result, r->result) &&
                got.record_count == r->record_count && got.has_digest == r->has_digest &&
                memcmp(got.digest, r->digest, got.has_digest ? 32 : 0) == 0 &&
                memcmp(got.chain, r->chain, got.has_digest ? 32 : 0) == 0 &&
                got.has_seed == r->has_seed && got.seed == r->seed &&
                same_text(got.options, r->options) && same_text(got.scenario, r->scenario);
    rvm_store_run_free(&got);
    if (!same) {
        return failf(m, RVM_MERGE_FAILED, "run %lld: the merged summary reads back differently",
                     (long long)r->id);
    }
    m->stats->summary++;
    return RVM_MERGE_OK;
}

static enum rvm_merge_status copy_records(struct merge *m, const struct rvm_store_run *r,
                                          struct rvm_store_writer *w)
{
    struct rvm_store_cursor *cur;
    enum rvm_store_status s = rvm_store_cursor_open(m->in, r->id, 0, r->record_count, NULL, &cur);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->in, s, "reading the input");
    }
    enum rvm_merge_status status = RVM_MERGE_OK;
    uint64_t next = 0;
    size_t n = 0;
    struct rvm_store_row row;
    for (;;) { /* bound: the run's records */
        s = rvm_store_cursor_next(cur, &row);
        bool end = s == RVM_STORE_NOT_FOUND;
        if (!end && s != RVM_STORE_OK) {
            status = store_failure(m, m->in, s, "reading the input");
            break;
        }
        if (!end && row.seq != next + n) {
            status = failf(m, RVM_MERGE_FAILED,
                           "run %lld: record %llu is missing from the input (the store is "
                           "damaged; `rvmsim verify` says more)",
                           (long long)r->id, (unsigned long long)(next + n));
            break;
        }
        if (!end) {
            memcpy(m->images + n * RVM_WITNESS_RECORD_BYTES, row.image, RVM_WITNESS_RECORD_BYTES);
            n++;
        }
        if (n == COPY_CHUNK || (end && n != 0)) {
            if (rvm_store_writer_records(w, next, m->images, n) != n) {
                status = failf(m, RVM_MERGE_ERROR, "run %lld: writing records: %s",
                               (long long)r->id, rvm_store_error(m->out));
                break;
            }
            next += n;
            n = 0;
        }
        if (end) {
            break;
        }
    }
    rvm_store_cursor_close(cur);
    if (status == RVM_MERGE_OK && next != r->record_count) {
        status = failf(
            m, RVM_MERGE_FAILED, "run %lld: the input holds %llu records but the run says %llu",
            (long long)r->id, (unsigned long long)next, (unsigned long long)r->record_count);
    }
    m->stats->records += next;
    return status;
}

/* Reads the run's checkpoints and state digests through once, so that a malformed row is
 * reported as damaged input before any of them is copied. */
static enum rvm_merge_status check_readable(struct merge *m, const struct rvm_store_run *r)
{
    struct rvm_store_checkpoint_cursor *cps;
    struct rvm_store_checkpoint c;
    enum rvm_store_status s = rvm_store_checkpoint_cursor_open(m->in, r->id, &cps);
    while (s == RVM_STORE_OK) { /* bound: the run's checkpoints */
        s = rvm_store_checkpoint_cursor_next(cps, &c);
    }
    rvm_store_checkpoint_cursor_close(cps);
    if (s == RVM_STORE_NOT_FOUND) {
        struct rvm_store_state_cursor *states;
        struct rvm_store_state d;
        s = rvm_store_state_cursor_open(m->in, r->id, &states);
        while (s == RVM_STORE_OK) { /* bound: the run's state digests */
            s = rvm_store_state_cursor_next(states, &d);
        }
        rvm_store_state_cursor_close(states);
    }
    return s == RVM_STORE_NOT_FOUND ? RVM_MERGE_OK
                                    : store_failure(m, m->in, s, "reading the input");
}

static enum rvm_merge_status copy_checkpoints(struct merge *m, const struct rvm_store_run *r,
                                              struct rvm_store_writer *w, size_t *ncps)
{
    struct rvm_store_checkpoint_cursor *cur;
    enum rvm_store_status s = rvm_store_checkpoint_cursor_open(m->in, r->id, &cur);
    enum rvm_merge_status status = RVM_MERGE_OK;
    struct rvm_store_checkpoint c;
    /* bound: the run's checkpoints */
    while (s == RVM_STORE_OK && (s = rvm_store_checkpoint_cursor_next(cur, &c)) == RVM_STORE_OK) {
        if (!rvm_store_writer_checkpoint(w, &c.cp, c.has_ed25519 ? c.ed25519_pub : NULL,
                                         c.has_ed25519 ? c.ed25519_sig : NULL)) {
            status =
                failf(m, RVM_MERGE_FAILED, "run %lld: checkpoint at seq %llu: %s", (long long)r->id,
                      (unsigned long long)c.cp.sequence, rvm_store_error(m->out));
            break;
        }
        (*ncps)++;
    }
    rvm_store_checkpoint_cursor_close(cur);
    if (status == RVM_MERGE_OK && s != RVM_STORE_NOT_FOUND) {
        status = store_failure(m, m->in, s, "reading the input");
    }
    return status;
}

static enum rvm_merge_status copy_states(struct merge *m, const struct rvm_store_run *r,
                                         struct rvm_store_writer *w)
{
    struct rvm_store_state_cursor *cur;
    enum rvm_store_status s = rvm_store_state_cursor_open(m->in, r->id, &cur);
    enum rvm_merge_status status = RVM_MERGE_OK;
    struct rvm_store_state d;
    /* bound: the run's state digests */
    while (s == RVM_STORE_OK && (s = rvm_store_state_cursor_next(cur, &d)) == RVM_STORE_OK) {
        if (!rvm_store_writer_state(w, d.seq, d.digest)) {
            status = failf(m, RVM_MERGE_FAILED, "run %lld: state digest at seq %llu: %s",
                           (long long)r->id, (unsigned long long)d.seq, rvm_store_error(m->out));
            break;
        }
    }
    rvm_store_state_cursor_close(cur);
    if (status == RVM_MERGE_OK && s != RVM_STORE_NOT_FOUND) {
        status = store_failure(m, m->in, s, "reading the input");
    }
    return status;
}

static enum rvm_merge_status copy_full(struct merge *m, const struct rvm_store_run *r)
{
    struct rvm_store_run_info info = info_of(r);
    struct rvm_store_writer *w;
    enum rvm_store_status s = rvm_store_writer_begin(m->out, &info, RVM_STORE_TX_SINGLE, &w);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->out, s, "adding a run");
    }
    rvm_store_writer_set_raw(w, true);
    enum rvm_merge_status status = RVM_MERGE_OK;
    if (!rvm_store_writer_set_outcome(w, r->outcome)) {
        status = failf(m, RVM_MERGE_ERROR, "out of memory");
    }
    if (status == RVM_MERGE_OK) {
        status = copy_records(m, r, w);
    }
    size_t ncps = 0;
    if (status == RVM_MERGE_OK) {
        status = check_readable(m, r);
    }
    if (status == RVM_MERGE_OK) {
        status = copy_checkpoints(m, r, w, &ncps);
    }
    if (status == RVM_MERGE_OK) {
        status = copy_states(m, r, w);
    }
    if (status == RVM_MERGE_OK) {
        status = copy_events(m, r, 0, w);
    }
    if (status != RVM_MERGE_OK) {
        rvm_store_writer_discard(w);
        return status;
    }
    int64_t id = rvm_store_writer_run(w);
    uint8_t digest[RVM_SHA256_DIGEST_BYTES], chain[RVM_WITNESS_CHAIN_BYTES];
    s = rvm_store_writer_finish(w, r->result, r->has_exit_code ? r->exit_code : -1, digest, chain);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->out, s, "finishing a merged run");
    }
    m->added = id;
    if (r->has_digest &&
        (memcmp(digest, r->digest, sizeof(digest)) != 0 || memcmp(chain, r->chain, 32) != 0)) {
        return failf(m, RVM_MERGE_FAILED,
                     "run %lld: its stored records do not give its recorded digest (the input "
                     "is damaged; `rvmsim verify --db INPUT --run %lld` says where)",
                     (long long)r->id, (long long)r->id);
    }
    if (ncps != r->checkpoint_count) {
        return failf(m, RVM_MERGE_FAILED,
                     "run %lld: the input holds %zu checkpoints but the run says %llu",
                     (long long)r->id, ncps, (unsigned long long)r->checkpoint_count);
    }
    /* the copy must verify exactly as the original does */
    struct rvm_verify_options vo = {.jobs = 1};
    struct rvm_verify_report a, b;
    rvm_verify_run(m->in, r->id, &vo, &a);
    rvm_verify_run(m->out, id, &vo, &b);
    if (a.verdict == RVM_VERIFY_ERROR || b.verdict == RVM_VERIFY_ERROR) {
        return failf(m, RVM_MERGE_ERROR, "run %lld: verifying: %s", (long long)r->id,
                     a.verdict == RVM_VERIFY_ERROR ? a.reason : b.reason);
    }
    if (a.verdict != b.verdict || a.has_seq != b.has_seq || a.seq != b.seq ||
        strcmp(a.reason, b.reason) != 0) {
        return failf(m, RVM_MERGE_FAILED,
                     "run %lld: the copy does not verify as the original does (original: %s; "
                     "copy: %s)",
                     (long long)r->id, a.verdict == RVM_VERIFY_OK ? "ok" : a.reason,
                     b.verdict == RVM_VERIFY_OK ? "ok" : b.reason);
    }
    m->stats->verified += a.verdict == RVM_VERIFY_OK;
    m->stats->full++;
    return RVM_MERGE_OK;
}

static enum rvm_merge_status merge_run(struct merge *m, int64_t id)
{
    struct rvm_store_run r;
    enum rvm_store_status s = rvm_store_run_get(m->in, id, &r);
    if (s != RVM_STORE_OK) {
        return store_failure(m, m->in, s, "reading the input");
    }
    enum rvm_merge_status status = RVM_MERGE_OK;
    int verdict = 0;
    int64_t existing = 0;
    if (strcmp(r.status, "complete") != 0) {
        /* a writer that died: nothing trustworthy to merge */
        if (strcmp(r.status, "aborted") == 0) {
            m->stats->aborted++;
        } else {
            m->stats->incomplete++;
        }
        goto out;
    }
    if (r.has_scenario_sha256 && r.scenario != NULL) {
        uint8_t sha[RVM_SHA256_DIGEST_BYTES];
        rvm_crypto_sha256(rvm_store_crypto(m->in), (const uint8_t *)r.scenario, strlen(r.scenario),
                          sha);
        if (memcmp(sha, r.scenario_sha256, sizeof(sha)) != 0) {
            status = failf(m, RVM_MERGE_FAILED,
                           "run %lld: its scenario text does not have its recorded SHA-256",
                           (long long)id);
            goto out;
        }
    }
    status = find_existing(m, &r, &verdict, &existing);
    if (status != RVM_MERGE_OK) {
        goto out;
    }
    if (verdict == 1) {
        m->stats->duplicates++;
        goto out;
    }
    status = rvm_store_run_has_records(&r) ? copy_full(m, &r) : copy_summary(m, &r);
    if (status == RVM_MERGE_OK && verdict == 2) {
        /* the summary goes after the full run is in (so the run gets an id of its own), and the
         * manifest says which run replaced it */
        char sql[240];
        snprintf(sql, sizeof(sql),
                 "DELETE FROM faults WHERE run = %lld; DELETE FROM invariant_failures WHERE run = "
                 "%lld; DELETE FROM runs WHERE id = %lld AND content = 'summary'",
                 (long long)existing, (long long)existing, (long long)existing);
        int rc = sqlite3_exec(m->out->db, sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            rc = rvm_store_manifest_drop(m->out, existing, m->added);
        }
        if (rc != SQLITE_OK) {
            status = failf(m, RVM_MERGE_ERROR, "replacing run %lld: %s", (long long)existing,
                           sqlite3_errmsg(m->out->db));
            goto out;
        }
        m->stats->superseded++;
    }
out:
    rvm_store_run_free(&r);
    return status;
}

enum rvm_merge_status rvm_merge_store(struct rvm_store *out, const char *in_path,
                                      struct rvm_merge_stats *stats, char *msg, size_t msglen)
{
    memset(stats, 0, sizeof(*stats));
    struct merge m = {.out = out, .stats = stats, .msg = msg, .msglen = msglen};
    msg[0] = '\0';
    struct stat a, b;
    if (stat(in_path, &a) == 0 && stat(rvm_store_path(out), &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
        return failf(&m, RVM_MERGE_BAD_INPUT, "%s is the output database itself", in_path);
    }
    char err[600];
    enum rvm_store_status s = rvm_store_open(in_path, RVM_STORE_READ, &m.in, err, sizeof(err));
    if (s != RVM_STORE_OK) {
        return failf(&m, s == RVM_STORE_BAD_FILE ? RVM_MERGE_BAD_INPUT : RVM_MERGE_ERROR, "%s",
                     err);
    }
    enum rvm_merge_status status = RVM_MERGE_OK;
    int64_t *ids = NULL;
    size_t n = 0;
    m.images = malloc((size_t)COPY_CHUNK * RVM_WITNESS_RECORD_BYTES);
    if (m.images == NULL) {
        status = failf(&m, RVM_MERGE_ERROR, "out of memory");
        goto close_in;
    }
    s = rvm_store_read_begin(m.in);
    if (s == RVM_STORE_OK) {
        s = rvm_store_run_ids(m.in, &ids, &n);
    }
    if (s != RVM_STORE_OK) {
        status = store_failure(&m, m.in, s, "reading the input");
        goto close_in;
    }
    stats->runs = n;
    m.find = rvm_store_prepare(
        out, "SELECT id FROM runs WHERE seed = ?1 AND scenario_sha256 IS ?2 AND source = ?3 AND "
             "options IS ?4 AND status = 'complete' ORDER BY id LIMIT 1");
    if (m.find == NULL) {
        status = failf(&m, RVM_MERGE_ERROR, "%s", rvm_store_error(out));
        goto close_in;
    }
    s = rvm_store_write_begin(out);
    if (s != RVM_STORE_OK) {
        status = store_failure(&m, out, s, "writing the output");
        goto close_in;
    }
    for (size_t i = 0; i < n && status == RVM_MERGE_OK; i++) {
        status = merge_run(&m, ids[i]);
    }
    if (status == RVM_MERGE_OK) {
        s = rvm_store_write_commit(out);
        if (s != RVM_STORE_OK) {
            status = store_failure(&m, out, s, "committing the merge");
        }
    } else {
        rvm_store_write_rollback(out);
    }
close_in:
    sqlite3_finalize(m.find);
    free(ids);
    free(m.images);
    rvm_store_read_end(m.in);
    rvm_store_close(m.in);
    return status;
}
