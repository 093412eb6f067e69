/* SPDX-License-Identifier: MIT */
/*
 * The replayer of simulator runs (sources "run" and "sweep") for `rvmsim reconstruct`: the
 * stored scenario text, seed and options go through the engine again, with the same epoch
 * boundaries, and every record the sink receives and every state digest are handed to the
 * comparison. Target-independent: a run of any target the registry knows (the witness target
 * today, the kernel once it is bound) replays the same way.
 */
#include "replay_sim.h"

#include "crypto_openssl.h"
#include "engine.h"
#include "run_store.h"
#include "scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sim_replay(const struct rvm_store_run *run, uint64_t until,
                       const struct rvm_replay_observer *observer, char *msg, size_t msglen)
{
    if (!run->has_seed || run->scenario == NULL) {
        snprintf(msg, msglen, "the simulator run has no stored %s",
                 run->has_seed ? "scenario text" : "seed");
        return false;
    }
    enum rvm_sim_fault_mode faults;
    uint32_t nwnm = 1;
    uint64_t epoch = 0;
    char err[240];
    if (!rvm_run_options_parse(run->options, &faults, &nwnm, &epoch, err, sizeof(err))) {
        snprintf(msg, msglen, "the stored options '%s' cannot be replayed: %s",
                 run->options != NULL ? run->options : "", err);
        return false;
    }
    char name[64];
    snprintf(name, sizeof(name), "(scenario of run %lld)", (long long)run->id);
    struct rvm_scenario scn;
    struct rvm_scn_error perr;
    if (!rvm_scenario_parse(name, run->scenario, strlen(run->scenario), &scn, &perr)) {
        snprintf(msg, msglen,
                 "the stored scenario does not parse with this build: line %u col %u: %s",
                 perr.line, perr.col, perr.msg);
        return false;
    }
    bool ok = false;
    struct rvm_openssl_crypto *oc = NULL;
    struct rvm_sim *sim = NULL;
    if (run->target != NULL && strcmp(run->target, scn.target->name) != 0) {
        snprintf(msg, msglen, "the run says target %s but its scenario names %s", run->target,
                 scn.target->name);
        goto out;
    }
    oc = rvm_openssl_crypto_new();
    if (oc == NULL) {
        snprintf(msg, msglen, "OpenSSL could not provide SHA-256");
        goto out;
    }
    struct rvm_crypto crypto;
    rvm_openssl_crypto_bind(oc, &crypto);
    sim = rvm_sim_new(&scn, &crypto, err, sizeof(err));
    if (sim == NULL) {
        snprintf(msg, msglen, "the engine cannot run the stored scenario: %s", err);
        goto out;
    }
    struct rvm_sim_options opt = {
        .seed = run->seed,
        .faults = faults,
        .nwnm_every = nwnm,
        .states = true,
        .epoch = epoch,
        .has_state_at = true,
        .state_at = until,
    };
    struct rvm_sim_outcome o;
    rvm_sim_run(sim, &scn, &opt, &o);

    uint64_t n, nstates;
    const uint8_t *recs = rvm_sim_records(sim, &n);
    const struct rvm_sim_state *states = rvm_sim_states(sim, &nstates);
    uint8_t at_digest[32];
    bool has_at = rvm_sim_state_at(sim, at_digest);
    uint64_t j = 0;
    ok = true;
    /* bound: the records the sink received, up to `until` */
    for (uint64_t seq = 0; seq < n && seq <= until && ok; seq++) {
        ok = observer->record(observer->ctx, seq, recs + seq * RVM_WITNESS_RECORD_BYTES);
        bool boundary = false;
        while (ok && j < nstates && states[j].seq == seq) { /* bound: nstates */
            ok = observer->state(observer->ctx, seq, states[j].digest);
            boundary = true;
            j++;
        }
        if (ok && seq == until && !boundary && has_at) {
            ok = observer->state(observer->ctx, seq, at_digest);
        }
    }
    if (!ok) {
        snprintf(msg, msglen, "the comparison stopped the replay");
    }
out:
    rvm_sim_free(sim);
    rvm_openssl_crypto_free(oc);
    rvm_scenario_free(&scn);
    return ok;
}

const struct rvm_replayer rvm_sim_run_replayer = {
    .source = "run",
    .description = "rvmsim run (a scenario through the simulator engine)",
    .replay = sim_replay,
};

const struct rvm_replayer rvm_sim_sweep_replayer = {
    .source = "sweep",
    .description = "rvmsim sweep (a scenario through the simulator engine)",
    .replay = sim_replay,
};

bool rvm_sim_replayers_register(void)
{
    return rvm_replayer_register(&rvm_demo_replayer) &&
           rvm_replayer_register(&rvm_sim_run_replayer) &&
           rvm_replayer_register(&rvm_sim_sweep_replayer);
}
