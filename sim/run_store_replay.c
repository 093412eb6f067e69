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
 * summary is one row, added inside a transaction that spans many of them.
 */
#include "run_store.h"

#include "commands.h"
#include "crypto_openssl.h"
#include "simcli.h"
#include "store.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Summaries per transaction: large enough that the commit is noise (a commit costs about as
 * much as a few hundred rows), small enough that other writers of the file get their turn. */
#define SUMMARIES_PER_TRANSACTION 4096u

struct replay_sink {
    struct rvm_store *st;
    uint32_t in_batch;
    const char *text; /* the scenario text last hashed (a sweep stores one text many times) */
    uint8_t text_sha[32];
    char err[700];
};

static bool failed(struct replay_sink *r, const char *what)
{
    snprintf(r->err, sizeof(r->err), "%s: %s", what, rvm_store_error(r->st));
    return false;
}

static bool rs_commit(void *ctx)
{
    struct replay_sink *r = ctx;
    r->in_batch = 0;
    if (!rvm_store_in_write(r->st)) {
        return true;
    }
    return rvm_store_write_commit(r->st) == RVM_STORE_OK || failed(r, "committing runs");
}

static void command_of(char *buf, size_t len, const struct rvm_run_info *info)
{
    char file[1024];
    simcli_quote(file, sizeof(file), info->scenario_path);
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

static bool store_summary(struct replay_sink *r, const struct rvm_store_run_info *info,
                          const struct rvm_sim_outcome *o, const char *outcome, uint64_t *run_id)
{
    if (!rvm_store_in_write(r->st) && rvm_store_write_begin(r->st) != RVM_STORE_OK) {
        return failed(r, "starting a transaction");
    }
    struct rvm_store_summary sum = {
        .result = rvm_sim_class_name(o->cls),
        .exit_code = o->cls,
        .record_count = o->records,
        .checkpoint_count = o->checkpoints,
        /* a target that never started has no log, hence no digest */
        .has_digest = !all_zero(o->digest, sizeof(o->digest)),
        .outcome = outcome,
    };
    memcpy(sum.digest, o->digest, sizeof(sum.digest));
    memcpy(sum.chain, o->chain, sizeof(sum.chain));
    int64_t id;
    if (rvm_store_summary_add(r->st, info, &sum, &id) != RVM_STORE_OK) {
        return failed(r, "adding a run");
    }
    if (o->cls != RVMSIM_EXIT_PASS &&
        rvm_store_event_add(r->st, id, RVM_STORE_INVARIANTS, o->records, o->time_ns,
                            o->invariant[0] != '\0' ? o->invariant : "unknown",
                            o->detail) != RVM_STORE_OK) {
        return failed(r, "adding a run");
    }
    *run_id = (uint64_t)id;
    if (++r->in_batch >= SUMMARIES_PER_TRANSACTION) {
        return rs_commit(r);
    }
    return true;
}

static bool store_full(struct replay_sink *r, const struct rvm_store_run_info *info,
                       const struct rvm_sim_outcome *o, const struct rvm_sim *sim,
                       const struct rvm_sim_target *target, const char *outcome, uint64_t *run_id)
{
    if (!rs_commit(r)) { /* the writer takes its own transaction */
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
    int64_t id = rvm_store_writer_run(w);
    enum rvm_store_status s =
        rvm_store_writer_finish(w, rvm_sim_class_name(o->cls), o->cls, NULL, NULL);
    rvm_ed25519_free(signer);
    if (s != RVM_STORE_OK) {
        return failed(r, "storing the run");
    }
    *run_id = (uint64_t)id;
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
    if (info->scenario_text != r->text) {
        rvm_crypto_sha256(rvm_store_crypto(r->st), (const uint8_t *)info->scenario_text,
                          strlen(info->scenario_text), r->text_sha);
        r->text = info->scenario_text;
    }
    struct rvm_store_run_info ri = {
        .scenario_sha256 = r->text_sha,
        .source = info->source,
        .key_source = "seed",
        .command = command,
        .scenario = info->scenario_text,
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
    if (rvm_store_in_write(r->st)) {
        rvm_store_write_rollback(r->st); /* close() after a failed commit */
    }
    rvm_store_close(r->st);
    free(r);
}

static const char *rs_error(void *ctx)
{
    return ((struct replay_sink *)ctx)->err;
}

static const struct rvm_run_sink_ops replay_ops = {
    .store = rs_store,
    .commit = rs_commit,
    .close = rs_close,
    .error = rs_error,
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
