/* SPDX-License-Identifier: MIT */
/*
 * The run sink over the replay store (replay/store.h): every simulator run goes into the same
 * SQLite schema as demo runs and imports, so verify, diff, show, export, reconstruct and merge
 * work on them unchanged (docs/simulator.md "Storage", docs/replay-store.md).
 *
 * A full run is one writer in single-transaction mode: the run row, every record the sink
 * received (raw: a log a fault damaged is kept as it was, and `verify` names the damage),
 * checkpoints with their HMAC and an Ed25519 signature by the run's seed-derived key, state
 * digests at the engine's epoch boundaries, every fired fault and the failed invariant. A
 * summary is one row; summaries are buffered here and written a few thousand to a short
 * transaction, so the store's write lock is held only while rows are inserted, never while the
 * seeds behind them run (shards sharing one file take turns without stalling each other).
 */
#include "run_store.h"

#include "coverage.h"
#include "crypto_openssl.h"
#include "exit_codes.h"
#include "store.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Summaries per transaction: large enough that the commit is noise (a commit costs about as
 * much as a few hundred rows), small enough that a crash loses little. Buffered summaries are
 * also written once the oldest has waited this long (slow targets, long seeds). */
#define SUMMARIES_PER_TRANSACTION 4096u
#define SUMMARY_MAX_WAIT_NS       2000000000u

/* A summary waiting to be written: everything it needs, copied. */
struct pending {
    const char *source; /* string literals of the commands ("run", "sweep") */
    const char *target;
    uint64_t seed;
    int32_t cls;
    uint64_t records, checkpoints, time_ns;
    bool has_digest;
    uint8_t digest[32], chain[32];
    char *options, *command, *outcome;
    char *invariant, *detail; /* failing runs only */
};

struct replay_sink {
    struct rvm_store *st;
    struct pending *pending;
    size_t npending;
    uint64_t first_pending_ns;
    char *text; /* the scenario text last stored (a sweep stores one text many times) */
    uint8_t text_sha[32];
    char err[700];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pending_free(struct pending *p)
{
    free(p->options);
    free(p->command);
    free(p->outcome);
    free(p->invariant);
    free(p->detail);
}

static bool failed(struct replay_sink *r, const char *what)
{
    snprintf(r->err, sizeof(r->err), "%s: %s", what, rvm_store_error(r->st));
    return false;
}

/* Write the buffered summaries in one short transaction. */
static bool flush_summaries(struct replay_sink *r)
{
    if (r->npending == 0) {
        return true;
    }
    bool ok = rvm_store_write_begin(r->st) == RVM_STORE_OK || failed(r, "starting a transaction");
    for (size_t i = 0; ok && i < r->npending; i++) {
        const struct pending *p = &r->pending[i];
        struct rvm_store_run_info info = {
            .source = p->source,
            .key_source = "seed",
            .command = p->command,
            .scenario = r->text,
            .scenario_sha256 = r->text_sha,
            .options = p->options,
            .platform = "sim",
            .has_seed = true,
            .seed = p->seed,
            .target = p->target,
        };
        struct rvm_store_summary sum = {
            .result = rvm_sim_class_name(p->cls),
            .exit_code = p->cls,
            .record_count = p->records,
            .checkpoint_count = p->checkpoints,
            .has_digest = p->has_digest,
            .outcome = p->outcome,
        };
        memcpy(sum.digest, p->digest, sizeof(sum.digest));
        memcpy(sum.chain, p->chain, sizeof(sum.chain));
        int64_t id, kept;
        ok = rvm_store_summary_add(r->st, &info, &sum, &id) == RVM_STORE_OK &&
             rvm_store_drop_duplicate(r->st, id, &kept) == RVM_STORE_OK &&
             (kept != id || p->invariant == NULL ||
              rvm_store_event_add(r->st, id, RVM_STORE_INVARIANTS, p->records, p->time_ns,
                                  p->invariant, p->detail) == RVM_STORE_OK);
        if (!ok) {
            failed(r, "adding a run");
        }
    }
    if (ok) {
        ok = rvm_store_write_commit(r->st) == RVM_STORE_OK || failed(r, "committing runs");
    } else {
        rvm_store_write_rollback(r->st);
    }
    for (size_t i = 0; i < r->npending; i++) {
        pending_free(&r->pending[i]);
    }
    r->npending = 0;
    return ok;
}

static bool rs_commit(void *ctx)
{
    return flush_summaries(ctx);
}

static void command_of(char *buf, size_t len, const struct rvm_run_info *info)
{
    char file[1024];
    rvm_shell_quote(file, sizeof(file), info->scenario_path);
    int n = snprintf(buf, len, "rvmsim run %s --seed %" PRIu64 " --faults %s", file, info->seed,
                     rvm_sim_fault_mode_name(info->faults));
    size_t used = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
    if (info->nwnm_every > 1) {
        n = snprintf(buf + used, len - used, " --nwnm-every %" PRIu32, info->nwnm_every);
        used += n > 0 && (size_t)n < len - used ? (size_t)n : 0;
    }
    if (info->epoch != RVM_RUN_DEFAULT_EPOCH) {
        snprintf(buf + used, len - used, " --epoch %" PRIu64, info->epoch);
    }
}

static void outcome_of(char *buf, size_t len, const struct rvm_run_info *info,
                       const struct rvm_sim_outcome *o)
{
    char state[65];
    rvm_hex(o->state, sizeof(o->state), state);
    int n = snprintf(buf, len,
                     "origin=%s steps=%" PRIu64 " events=%" PRIu64 " faults_fired=%" PRIu64
                     " time_ns=%" PRIu64 " phase=%s state=%s",
                     info->origin != NULL ? info->origin : "run", o->steps, o->events,
                     o->faults_fired, o->time_ns, rvm_sim_phase_name(o->phase), state);
    if (o->cls != RVMSIM_EXIT_PASS && n > 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, " invariant=%s fail_step=%" PRIu64 " fail_line=%" PRIu32,
                 o->invariant[0] != '\0' ? o->invariant : "-", o->fail_step, o->fail_line);
    }
}

static void fault_detail(char *buf, size_t len, const struct rvm_sim_target *target,
                         const struct rvm_sim_fired *f)
{
    const struct rvm_sim_fault_spec *fs = rvm_sim_fault_spec(target, f->kind);
    int n = snprintf(buf, len, "step=%" PRIu64, f->step);
    size_t used = n > 0 && (size_t)n < len ? (size_t)n : len - 1;
    for (uint32_t a = 0; fs != NULL && a < f->nargs && used + 1 < len; a++) {
        n = snprintf(buf + used, len - used, " %s=%" PRIu64, fs->args[a].name, f->args[a]);
        used += n > 0 && (size_t)n < len - used ? (size_t)n : len - used - 1;
    }
    if (fs != NULL && (fs->flags & RVM_SIM_FAULT_SITE) && used + 1 < len) {
        n = snprintf(buf + used, len - used, " after=%" PRIu32, f->after);
        used += n > 0 && (size_t)n < len - used ? (size_t)n : len - used - 1;
    }
    if (f->scripted && used + 1 < len) {
        snprintf(buf + used, len - used, " scripted");
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

static char *dup_or_null(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

static bool store_summary(struct replay_sink *r, const struct rvm_store_run_info *info,
                          const struct rvm_sim_outcome *o, const char *outcome, uint64_t *run_id)
{
    if (r->npending == 0) {
        free(r->pending);
        r->pending = calloc(SUMMARIES_PER_TRANSACTION, sizeof(*r->pending));
        if (r->pending == NULL) {
            snprintf(r->err, sizeof(r->err), "out of memory");
            return false;
        }
        r->first_pending_ns = mono_ns();
    }
    struct pending *p = &r->pending[r->npending];
    memset(p, 0, sizeof(*p));
    p->source = info->source;
    p->target = info->target;
    p->seed = info->seed;
    p->cls = o->cls;
    p->records = o->records;
    p->checkpoints = o->checkpoints;
    p->time_ns = o->time_ns;
    /* a target that never started has no log, hence no digest */
    p->has_digest = !all_zero(o->digest, sizeof(o->digest));
    memcpy(p->digest, o->digest, sizeof(p->digest));
    memcpy(p->chain, o->chain, sizeof(p->chain));
    p->options = dup_or_null(info->options);
    p->command = dup_or_null(info->command);
    p->outcome = dup_or_null(outcome);
    bool ok = p->options != NULL && p->command != NULL && p->outcome != NULL;
    if (o->cls != RVMSIM_EXIT_PASS) {
        p->invariant = strdup(o->invariant[0] != '\0' ? o->invariant : "unknown");
        p->detail = strdup(o->detail);
        ok = ok && p->invariant != NULL && p->detail != NULL;
    }
    if (!ok) {
        pending_free(p);
        snprintf(r->err, sizeof(r->err), "out of memory");
        return false;
    }
    r->npending++;
    *run_id = 0; /* assigned when the batch is written */
    if (r->npending == SUMMARIES_PER_TRANSACTION ||
        mono_ns() - r->first_pending_ns >= SUMMARY_MAX_WAIT_NS) {
        return flush_summaries(r);
    }
    return true;
}

static bool store_full(struct replay_sink *r, const struct rvm_store_run_info *info,
                       const struct rvm_sim_outcome *o, const struct rvm_sim *sim,
                       const struct rvm_sim_target *target, const char *outcome, uint64_t *run_id)
{
    if (!flush_summaries(r)) { /* in order, and the writer takes its own transaction */
        return false;
    }
    struct rvm_ed25519_key *signer = rvm_ed25519_from_seed(rvm_sim_ed25519_seed(sim));
    if (signer == NULL) {
        snprintf(r->err, sizeof(r->err), "OpenSSL could not make the run's Ed25519 key");
        return false;
    }
    struct rvm_store_writer *w;
    if (rvm_store_writer_begin(r->st, info, RVM_STORE_TX_SINGLE, &w) != RVM_STORE_OK) {
        rvm_ed25519_free(signer);
        return failed(r, "adding a run");
    }
    /* the log as the sink received it, damage included: verify reports it, the store keeps it */
    rvm_store_writer_set_raw(w, true);
    bool ok = rvm_store_writer_set_signer(w, signer) && rvm_store_writer_set_outcome(w, outcome);
    uint64_t n, ncps, nstates, nfired;
    const uint8_t *recs = rvm_sim_records(sim, &n);
    const struct rvm_witness_checkpoint *cps = rvm_sim_checkpoints(sim, &ncps);
    const struct rvm_sim_state *states = rvm_sim_states(sim, &nstates);
    const struct rvm_sim_fired *fired = rvm_sim_fired(sim, &nfired);
    if (ok && n != 0) {
        ok = rvm_store_writer_records(w, 0, recs, (size_t)n) == n;
    }
    for (uint64_t i = 0; ok && i < ncps; i++) {
        if (!rvm_store_writer_checkpoint(w, &cps[i], NULL, NULL)) {
            /* only a broken core hands the sink such a checkpoint; the run already failed on
             * it (witness.checkpoint-order): keep the run, and say what was left out */
            char msg[160];
            snprintf(msg, sizeof(msg), "checkpoint at seq %" PRIu64 " not stored: %s",
                     cps[i].sequence, rvm_store_error(r->st));
            ok = rvm_store_writer_invariant(w, n, o->time_ns, "store.checkpoint", msg);
        }
    }
    /* boundaries the sink never received records for (a run that failed with records still in
     * the ring) cannot be checked against a stored log: the replayer leaves them out too */
    for (uint64_t i = 0; ok && i < nstates && states[i].seq < n; i++) {
        ok = rvm_store_writer_state(w, states[i].seq, states[i].digest);
    }
    for (uint64_t i = 0; ok && i < nfired; i++) {
        const struct rvm_sim_fault_spec *fs = rvm_sim_fault_spec(target, fired[i].kind);
        char detail[512];
        fault_detail(detail, sizeof(detail), target, &fired[i]);
        ok = rvm_store_writer_fault(w, fired[i].records, fired[i].time_ns,
                                    fs != NULL ? fs->name : "unknown", detail);
    }
    if (ok && o->cls != RVMSIM_EXIT_PASS) {
        ok = rvm_store_writer_invariant(w, o->records, o->time_ns,
                                        o->invariant[0] != '\0' ? o->invariant : "unknown",
                                        o->detail);
    }
    if (!ok) {
        failed(r, "storing the run");
        rvm_store_writer_discard(w);
        rvm_ed25519_free(signer);
        return false;
    }
    int64_t id = rvm_store_writer_run(w), kept = id;
    enum rvm_store_status s =
        rvm_store_writer_finish(w, rvm_sim_class_name(o->cls), o->cls, NULL, NULL);
    rvm_ed25519_free(signer);
    if (s == RVM_STORE_OK) {
        s = rvm_store_drop_duplicate(r->st, id, &kept);
    }
    if (s != RVM_STORE_OK) {
        return failed(r, "storing the run");
    }
    *run_id = (uint64_t)kept;
    return true;
}

static bool rs_store(void *ctx, const struct rvm_run_info *info, const struct rvm_sim_outcome *o,
                     const struct rvm_sim *sim, bool full, uint64_t *run_id)
{
    struct replay_sink *r = ctx;
    char options[160], command[1400], outcome[700];
    rvm_run_options_format(options, sizeof(options), info->faults, info->nwnm_every, info->epoch);
    command_of(command, sizeof(command), info);
    outcome_of(outcome, sizeof(outcome), info, o);
    if (r->text == NULL || strcmp(info->scenario_text, r->text) != 0) {
        /* buffered summaries refer to the text they were stored with */
        if (!flush_summaries(r)) {
            return false;
        }
        char *copy = strdup(info->scenario_text);
        if (copy == NULL) {
            snprintf(r->err, sizeof(r->err), "out of memory");
            return false;
        }
        free(r->text);
        r->text = copy;
        rvm_crypto_sha256(rvm_store_crypto(r->st), (const uint8_t *)r->text, strlen(r->text),
                          r->text_sha);
    }
    struct rvm_store_run_info ri = {
        .scenario_sha256 = r->text_sha,
        .source = info->source,
        .key_source = "seed",
        .command = command,
        .scenario = r->text,
        .options = options,
        .platform = "sim",
        .has_seed = true,
        .seed = info->seed,
        .target = info->target->name,
    };
    if (full && sim != NULL) {
        return store_full(r, &ri, o, sim, info->target, outcome, run_id);
    }
    return store_summary(r, &ri, o, outcome, run_id);
}

static void rs_close(void *ctx)
{
    struct replay_sink *r = ctx;
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->npending; i++) {
        pending_free(&r->pending[i]); /* close() after a failed commit */
    }
    free(r->pending);
    free(r->text);
    rvm_store_close(r->st);
    free(r);
}

static const char *rs_error(void *ctx)
{
    return ((struct replay_sink *)ctx)->err;
}

/* The ledger goes in after every run of the sweep: written last, in its own transaction. */
static bool rs_coverage(void *ctx, const struct rvm_run_coverage *c)
{
    struct replay_sink *r = ctx;
    if (!flush_summaries(r)) {
        return false;
    }
    struct rvm_store_coverage_row rows[RVM_SIM_MAX_PROBES];
    struct rvm_store_coverage sc = {
        .faults = rvm_sim_fault_mode_name(c->faults),
        .first_seed = c->first_seed,
        .last_seed = c->last_seed,
        .seeds = c->seeds,
        .nrows = c->nprobes < RVM_SIM_MAX_PROBES ? c->nprobes : RVM_SIM_MAX_PROBES,
        .rows = rows,
    };
    rvm_crypto_sha256(rvm_store_crypto(r->st), (const uint8_t *)c->scenario_text,
                      strlen(c->scenario_text), sc.scenario_sha256);
    for (uint32_t i = 0; i < sc.nrows; i++) {
        rows[i] = (struct rvm_store_coverage_row){c->probes[i].name, c->probes[i].rare, c->hits[i]};
    }
    return rvm_store_coverage_put(r->st, &sc) == RVM_STORE_OK ||
           failed(r, "storing the coverage ledger");
}

static const struct rvm_run_sink_ops replay_ops = {
    .store = rs_store,
    .commit = rs_commit,
    .close = rs_close,
    .error = rs_error,
    .coverage = rs_coverage,
};

bool rvm_run_sink_open_replay(struct rvm_run_sink *s, const char *path, char *err, size_t errlen)
{
    struct replay_sink *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (rvm_store_open(path, RVM_STORE_WRITE, &r->st, err, errlen) != RVM_STORE_OK) {
        free(r);
        return false;
    }
    s->ops = &replay_ops;
    s->ctx = r;
    return true;
}
