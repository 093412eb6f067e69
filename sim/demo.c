/* SPDX-License-Identifier: MIT */
#include "demo.h"

#include "prng.h"
#include "run_keys.h"
#include "util.h"

#include "rvm/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rvm_demo_params_default(struct rvm_demo_params *p)
{
    *p = (struct rvm_demo_params){
        .records = 1000,
        .seed = 1,
        .checkpoint_interval = 256,
        .ring = 256,
        .epoch = 256,
    };
}

bool rvm_demo_params_check(const struct rvm_demo_params *p, char *err, size_t errlen)
{
    if (p->records == 0 || p->records > RVM_DEMO_MAX_RECORDS) {
        snprintf(err, errlen, "records must be 1..%u", RVM_DEMO_MAX_RECORDS);
        return false;
    }
    if (p->ring < 2 || p->ring > RVM_DEMO_MAX_RING || (p->ring & (p->ring - 1)) != 0) {
        snprintf(err, errlen, "ring must be a power of two in 2..%u", RVM_DEMO_MAX_RING);
        return false;
    }
    if (p->epoch == 0) {
        snprintf(err, errlen, "epoch must be at least 1");
        return false;
    }
    return true;
}

bool rvm_demo_params_format(const struct rvm_demo_params *p, char *out, size_t cap)
{
    int n =
        snprintf(out, cap,
                 "records=%llu checkpoint_interval=%llu ring=%llu epoch=%llu shared_prefix=%llu "
                 "prefix_seed=%llu crypto=%s",
                 (unsigned long long)p->records, (unsigned long long)p->checkpoint_interval,
                 (unsigned long long)p->ring, (unsigned long long)p->epoch,
                 (unsigned long long)p->shared_prefix, (unsigned long long)p->prefix_seed,
                 p->portable ? "portable" : "openssl");
    return n > 0 && (size_t)n < cap;
}

bool rvm_demo_params_parse(const char *text, struct rvm_demo_params *p, char *err, size_t errlen)
{
    static const char *const keys[] = {"records",       "checkpoint_interval", "ring",  "epoch",
                                       "shared_prefix", "prefix_seed",         "crypto"};
    enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
    uint64_t *fields[NKEYS] = {&p->records,       &p->checkpoint_interval, &p->ring, &p->epoch,
                               &p->shared_prefix, &p->prefix_seed,         NULL};
    bool seen[NKEYS] = {false};
    uint64_t seed = p->seed;
    char buf[512];

    if (text == NULL || strlen(text) >= sizeof(buf)) {
        snprintf(err, errlen, "options text missing or too long");
        return false;
    }
    rvm_demo_params_default(p);
    p->seed = seed;
    strcpy(buf, text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        size_t k = NKEYS;
        if (eq != NULL) {
            *eq = '\0';
            for (k = 0; k < NKEYS && strcmp(tok, keys[k]) != 0; k++) {
            }
        }
        if (k == NKEYS) {
            snprintf(err, errlen, "unknown option '%s'", tok);
            return false;
        }
        if (seen[k]) {
            snprintf(err, errlen, "option '%s' given twice", tok);
            return false;
        }
        seen[k] = true;
        const char *value = eq + 1;
        if (fields[k] == NULL) {
            if (strcmp(value, "openssl") == 0) {
                p->portable = false;
            } else if (strcmp(value, "portable") == 0) {
                p->portable = true;
            } else {
                snprintf(err, errlen, "crypto must be openssl or portable, got '%s'", value);
                return false;
            }
        } else if (!rvm_parse_u64(value, fields[k])) {
            snprintf(err, errlen, "option '%s' has a bad value '%s'", tok, value);
            return false;
        }
    }
    for (size_t k = 0; k < NKEYS; k++) {
        if (!seen[k]) {
            snprintf(err, errlen, "option '%s' missing", keys[k]);
            return false;
        }
    }
    return rvm_demo_params_check(p, err, errlen);
}

/* Seeded traffic that exercises every record field. */
static void demo_entry(struct rvm_prng *workload, struct rvm_witness_entry *e)
{
    static const uint8_t kinds[] = {
        RVM_ACT_PARTITION_CREATE, RVM_ACT_CAP_GRANT, RVM_ACT_CAP_REVOKE,
        RVM_ACT_REGION_MAP,       RVM_ACT_IPC_SEND,  RVM_ACT_PROOF_VERIFIED_P2,
        RVM_ACT_SCHED_EPOCH,      RVM_ACT_DEMO,      RVM_ACT_PROOF_REJECTED,
    };
    e->kind = kinds[rvm_prng_below(workload, sizeof(kinds))];
    e->proof_tier = (uint8_t)rvm_prng_below(workload, 4);
    e->flags = (uint8_t)rvm_prng_next(workload);
    e->actor = (uint32_t)rvm_prng_below(workload, 17);
    e->target = rvm_prng_next(workload);
    e->cap_hash = (uint32_t)rvm_prng_next(workload);
    e->payload = rvm_prng_next(workload);
    e->aux = rvm_prng_next(workload);
}

#define STATE_TAG "rvmsim demo state 1"

/* SHA-256 over a fixed encoding of everything that decides the rest of the run. */
static void state_digest(const struct rvm_crypto *crypto, const struct rvm_witness_log *log,
                         uint64_t now, const struct rvm_prng *own, const struct rvm_prng *prefix,
                         uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    uint8_t buf[sizeof(STATE_TAG) - 1 + 8 + RVM_WITNESS_CHAIN_BYTES + 8 + 64];
    size_t n = sizeof(STATE_TAG) - 1;
    memcpy(buf, STATE_TAG, n);
    rvm_store_le64(buf + n, rvm_witness_count(log));
    n += 8;
    rvm_witness_chain_value(log, buf + n);
    n += RVM_WITNESS_CHAIN_BYTES;
    rvm_store_le64(buf + n, now);
    n += 8;
    for (int i = 0; i < 4; i++, n += 8) {
        rvm_store_le64(buf + n, own->s[i]);
    }
    for (int i = 0; i < 4; i++, n += 8) {
        rvm_store_le64(buf + n, prefix->s[i]);
    }
    rvm_crypto_sha256(crypto, buf, n, out);
}

/* Flush until everything has reached the sink, as long as each pass makes progress: a sink may
 * take only part of what it is offered, and one flush offers each span once. */
static enum rvm_err drain_all(struct rvm_witness_log *log, enum rvm_err err)
{
    while (err == RVM_ERR_WITNESS_FULL) { /* bound: each pass drains something, or we stop */
        uint64_t drained = log->drained;
        uint32_t pending = log->pending_count;
        err = rvm_witness_flush(log);
        if (err == RVM_ERR_WITNESS_FULL && log->drained == drained &&
            log->pending_count == pending) {
            break;
        }
    }
    return err;
}

enum rvm_err rvm_demo_run(const struct rvm_demo_params *p, const struct rvm_crypto *crypto,
                          const struct rvm_sink_ops *sink, void *sink_ctx,
                          const struct rvm_demo_observer *observer, uint64_t stop_after,
                          struct rvm_demo_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (!rvm_demo_params_check(p, out->message, sizeof(out->message))) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    bool full = stop_after >= p->records;
    uint64_t total = full ? p->records : stop_after;

    struct rvm_run_keys keys;
    rvm_run_keys_derive(crypto, p->seed, &keys);
    uint8_t(*ring)[RVM_WITNESS_RECORD_BYTES] = calloc(p->ring, RVM_WITNESS_RECORD_BYTES);
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    rvm_sim_hal_init(&sim, crypto);
    rvm_sim_hal_set_sink(&sim, sink, sink_ctx);
    const struct rvm_witness_config config = {
        .ring = ring,
        .ring_capacity = (uint32_t)p->ring,
        .checkpoint_interval = p->checkpoint_interval,
        .hmac_key = keys.hmac,
        .hmac_key_len = sizeof(keys.hmac),
    };
    enum rvm_err err = ring == NULL ? RVM_ERR_NO_SPACE : rvm_witness_init(&log, &sim.hal, &config);
    if (err != RVM_OK) {
        snprintf(out->message, sizeof(out->message), "set-up failed: %s", rvm_strerror(err));
        free(ring);
        return err;
    }

    struct rvm_prng own, prefix;
    rvm_prng_init(&own, p->seed, "workload");
    rvm_prng_init(&prefix, p->prefix_seed, "workload");
    for (uint64_t i = 0; i < total; i++) {
        struct rvm_prng *stream = i < p->shared_prefix ? &prefix : &own;
        struct rvm_witness_entry e;
        demo_entry(stream, &e);
        rvm_sim_hal_advance(&sim, 1 + rvm_prng_below(stream, 1000));
        err = rvm_witness_append(&log, &e, NULL);
        if (err != RVM_OK) {
            snprintf(out->message, sizeof(out->message), "append %llu refused: %s",
                     (unsigned long long)i, rvm_strerror(err));
            goto done;
        }
        bool boundary = (i + 1) % p->epoch == 0 || i + 1 == total;
        if (boundary && observer != NULL) {
            uint8_t digest[RVM_SHA256_DIGEST_BYTES];
            /* the observer may look at the records, so they must have reached the sink */
            err = drain_all(&log, rvm_witness_flush(&log));
            if (err != RVM_OK) {
                snprintf(out->message, sizeof(out->message), "draining the log failed: %s",
                         rvm_strerror(err));
                goto done;
            }
            state_digest(crypto, &log, sim.now_ns, &own, &prefix, digest);
            if (!observer->state(observer->ctx, i, digest)) {
                err = RVM_ERR_INTERNAL;
                snprintf(out->message, sizeof(out->message), "state observer failed at seq %llu",
                         (unsigned long long)i);
                goto done;
            }
        }
    }
    if (full) {
        err = rvm_witness_close(&log, NULL);
        if (err == RVM_ERR_WITNESS_FULL) {
            /* the sink took only part: drain, then close again (a retried close never queues a
             * second final checkpoint) */
            err = drain_all(&log, err);
            if (err == RVM_OK) {
                err = rvm_witness_close(&log, NULL);
            }
        }
        err = drain_all(&log, err);
    } else {
        err = drain_all(&log, rvm_witness_flush(&log));
    }
    if (err != RVM_OK) {
        snprintf(out->message, sizeof(out->message), "draining the log failed: %s",
                 rvm_strerror(err));
        goto done;
    }
    out->sealed = full;

done:
    out->records = rvm_witness_count(&log);
    rvm_witness_digest(&log, out->digest);
    rvm_witness_chain_value(&log, out->chain);
    free(ring);
    return err;
}
