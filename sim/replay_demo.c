/* SPDX-License-Identifier: MIT */
/* The replayer of `rvmsim demo` runs: the demo workload again, from the stored seed and options. */
#include "demo.h"
#include "replayer.h"

#include "crypto_openssl.h"

#include "rvm/crypto_portable.h"

#include <stdio.h>
#include <string.h>

struct demo_replay {
    const struct rvm_replay_observer *observer;
    uint64_t next_seq;
    bool stopped;
};

static size_t replay_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct demo_replay *r = ctx;
    if (first_seq != r->next_seq || r->stopped) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (!r->observer->record(r->observer->ctx, first_seq + i,
                                 records + i * RVM_WITNESS_RECORD_BYTES)) {
            r->stopped = true;
            r->next_seq += i;
            return i;
        }
    }
    r->next_seq += count;
    return count;
}

static bool replay_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    (void)ctx, (void)cp;
    return true;
}

static const struct rvm_sink_ops replay_sink = {replay_records, replay_checkpoint};

static bool replay_state(void *ctx, uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    const struct demo_replay *r = ctx;
    return r->observer->state(r->observer->ctx, seq, digest);
}

static bool demo_replay(const struct rvm_store_run *run, uint64_t until,
                        const struct rvm_replay_observer *observer, char *msg, size_t msglen)
{
    struct rvm_demo_params p;
    char err[160];
    if (!run->has_seed) {
        snprintf(msg, msglen, "the demo run has no stored seed");
        return false;
    }
    p.seed = run->seed;
    if (!rvm_demo_params_parse(run->options, &p, err, sizeof(err))) {
        snprintf(msg, msglen, "the stored demo options '%s' cannot be replayed: %s",
                 run->options != NULL ? run->options : "", err);
        return false;
    }
    struct rvm_openssl_crypto *oc = NULL;
    struct rvm_crypto crypto;
    if (p.portable) {
        rvm_crypto_portable(&crypto);
    } else {
        oc = rvm_openssl_crypto_new();
        if (oc == NULL) {
            snprintf(msg, msglen, "OpenSSL could not provide SHA-256");
            return false;
        }
        rvm_openssl_crypto_bind(oc, &crypto);
    }
    struct demo_replay r = {.observer = observer};
    const struct rvm_demo_observer states = {.state = replay_state, .ctx = &r};
    struct rvm_demo_outcome out;
    uint64_t stop = until >= UINT64_MAX - 1 ? UINT64_MAX : until + 1;
    enum rvm_err e = rvm_demo_run(&p, &crypto, &replay_sink, &r, &states, stop, &out);
    rvm_openssl_crypto_free(oc);
    if (e != RVM_OK) {
        snprintf(msg, msglen, "the demo replay stopped: %s", out.message);
        return false;
    }
    return true;
}

const struct rvm_replayer rvm_demo_replayer = {
    .source = "demo",
    .description = "rvmsim demo (seeded witness traffic)",
    .replay = demo_replay,
};
