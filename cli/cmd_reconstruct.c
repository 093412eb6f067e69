/* SPDX-License-Identifier: MIT */
/*
 * rvmsim reconstruct: re-execute a stored run with its replayer and compare, record by record
 * and at every stored state digest, what the core produces now with what the store holds.
 */
#include "cmd_common.h"
#include "commands.h"
#include "options.h"
#include "replayer.h"
#include "util.h"

#include "rvm/action.h"
#include "rvm/sha256.h"
#include "rvm/witness.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "build_version.h"

static void reconstruct_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim reconstruct --db PATH --run ID --at SEQ\n\n"
            "Re-executes run ID from its stored metadata (seed, options, scenario) against the\n"
            "core, up to record SEQ, and compares every record the core produces with the stored\n"
            "one and the core's state digest at every stored epoch boundary up to SEQ with the\n"
            "recorded one. Exit 0 when the log reproduces the state, 1 at the first difference\n"
            "(or when the stored data cannot be replayed), 2 for a run without a replayer, a\n"
            "run whose epochs carry version-1 state digests (StateDigest 0x7B), a missing run\n"
            "or SEQ beyond the run.\n");
}

struct compare {
    struct rvm_store *st;
    struct rvm_store_cursor *cur;
    const struct rvm_store_state *states;
    size_t nstates;
    size_t next_state; /* stored digests before this one have been matched */
    uint64_t at;
    uint64_t records; /* records compared */
    uint64_t matched; /* state digests compared and equal */
    uint32_t chain[RVM_SHA256_STATE_WORDS];
    bool has_final;
    uint8_t final_state[RVM_SHA256_DIGEST_BYTES];
    bool failed;
    int fail_code;
    bool has_fail_seq; /* a state digest's sequence; otherwise the record being compared */
    uint64_t fail_seq;
    char reason[600];
};

static bool failf(struct compare *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool failf(struct compare *c, int code, const char *fmt, ...)
{
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
        va_end(ap);
        c->failed = true;
        c->fail_code = code;
    }
    return false;
}

static bool on_record(void *ctx, uint64_t seq, const uint8_t image[RVM_WITNESS_RECORD_BYTES])
{
    struct compare *c = ctx;
    if (c->failed) {
        return false;
    }
    if (seq > c->at) {
        return false; /* the replayer went past the stop point: nothing more to compare */
    }
    if (seq != c->records) {
        return failf(c, RVMSIM_EXIT_EXPECTATION,
                     "the replay skipped from record %" PRIu64 " to %" PRIu64, c->records, seq);
    }
    struct rvm_store_row row;
    enum rvm_store_status s = rvm_store_cursor_next(c->cur, &row);
    if (s == RVM_STORE_NOT_FOUND || (s == RVM_STORE_OK && row.seq != seq)) {
        return failf(c, RVMSIM_EXIT_EXPECTATION, "record %" PRIu64 ": missing from the store", seq);
    }
    if (s != RVM_STORE_OK) {
        return failf(c, rvm_cmd_exit_for(s), "%s", rvm_store_error(c->st));
    }
    if (row.image[RVM_WOFF_KIND] == RVM_ACT_STATE_DIGEST &&
        image[RVM_WOFF_KIND] == RVM_ACT_STATE_DIGEST_V2) {
        return failf(c, RVMSIM_EXIT_USAGE,
                     "record %" PRIu64 " is a version-1 StateDigest (0x7B); this build's kernel "
                     "writes version-2 digests (StateDigestV2 0x7C, "
                     "docs/incremental-state-digest.md), so it cannot re-execute this run's "
                     "epochs to the same records. Its chain, checkpoints and seal still verify "
                     "(rvmsim verify); reconstruct it with a build from before version 2",
                     seq);
    }
    if (memcmp(row.image, image, RVM_WITNESS_RECORD_BYTES) != 0) {
        char replayed[129], stored[129];
        rvm_hex(image, RVM_WITNESS_RECORD_BYTES, replayed);
        rvm_hex(row.image, RVM_WITNESS_RECORD_BYTES, stored);
        return failf(c, RVMSIM_EXIT_EXPECTATION,
                     "record %" PRIu64 " differs: the replay produced\n  %s\nthe store holds\n  %s",
                     seq, replayed, stored);
    }
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
    rvm_crypto_compress(rvm_store_crypto(c->st), c->chain, image, 1);
    rvm_sha256_state_bytes(c->chain, chain);
    if (memcmp(chain, row.chain, sizeof(chain)) != 0) {
        return failf(c, RVMSIM_EXIT_EXPECTATION,
                     "record %" PRIu64 ": the stored chain value is not the chain of the records",
                     seq);
    }
    c->records++;
    return true;
}

static bool on_state(void *ctx, uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    struct compare *c = ctx;
    if (c->failed) {
        return false;
    }
    if (seq > c->at) {
        return true;
    }
    if (c->next_state < c->nstates && c->states[c->next_state].seq < seq) {
        c->has_fail_seq = true;
        c->fail_seq = c->states[c->next_state].seq;
        return failf(c, RVMSIM_EXIT_EXPECTATION,
                     "the store has a state digest at seq %" PRIu64
                     " that the replay does not produce",
                     c->states[c->next_state].seq);
    }
    if (seq == c->at) {
        c->has_final = true;
        memcpy(c->final_state, digest, RVM_SHA256_DIGEST_BYTES);
    }
    if (c->next_state < c->nstates && c->states[c->next_state].seq == seq) {
        if (memcmp(c->states[c->next_state].digest, digest, RVM_SHA256_DIGEST_BYTES) != 0) {
            char replayed[65], stored[65];
            rvm_hex(digest, RVM_SHA256_DIGEST_BYTES, replayed);
            rvm_hex(c->states[c->next_state].digest, RVM_SHA256_DIGEST_BYTES, stored);
            c->has_fail_seq = true;
            c->fail_seq = seq;
            return failf(c, RVMSIM_EXIT_EXPECTATION,
                         "state digest at seq %" PRIu64 " differs: replay %s, store %s", seq,
                         replayed, stored);
        }
        c->next_state++;
        c->matched++;
    } else if (seq != c->at) {
        c->has_fail_seq = true;
        c->fail_seq = seq;
        return failf(c, RVMSIM_EXIT_EXPECTATION,
                     "the replay produces a state digest at seq %" PRIu64
                     " (an epoch boundary) that the store does not have",
                     seq);
    }
    return true;
}

struct reconstruct_args {
    const char *db;
    int64_t run_id;
    uint64_t at;
};

/* Parses the command line into *a; -1 when the command goes on, else the exit code. */
static int reconstruct_parse_args(int argc, char **argv, struct reconstruct_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"run", required_argument, NULL, 'r'},
        {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool has_at = false;
    *a = (struct reconstruct_args){0};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:r:a:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'r':
            if (!rvm_cmd_parse_run("reconstruct", optarg, &a->run_id)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'a':
            if (!rvm_parse_u64(optarg, &a->at)) {
                rvm_errorf("reconstruct: --at must be a sequence number, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            has_at = true;
            break;
        case 'h':
            return cli_option_usage(reconstruct_usage, true);
        default:
            return cli_option_usage(reconstruct_usage, false);
        }
    }
    if (a->db == NULL || a->run_id == 0 || !has_at || optind != argc) {
        rvm_errorf("reconstruct: --db, --run and --at are required (and nothing else)");
        reconstruct_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    return -1;
}

int rvmsim_cmd_reconstruct(int argc, char **argv)
{
    struct reconstruct_args args;
    int rc = reconstruct_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    const char *db = args.db;
    const int64_t run_id = args.run_id;
    const uint64_t at = args.at;
    struct rvm_store_run run;
    struct rvm_store *st = rvm_cmd_open_run("reconstruct", db, run_id, &run, &rc);
    if (st == NULL) {
        return rc;
    }
    struct rvm_store_state *states = NULL;
    size_t nstates = 0;
    struct compare c = {.st = st, .at = at};
    enum rvm_store_status s = RVM_STORE_OK;
    const struct rvm_replayer *replayer = rvm_replayer_find(run.source);
    if (replayer == NULL) {
        rvm_errorf("reconstruct: run %lld comes from '%s', which this build cannot re-execute "
                   "(no replayer): nothing to compare",
                   (long long)run_id, run.source);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    uint64_t count = run.record_count;
    if (strcmp(run.status, "complete") != 0) {
        s = rvm_store_record_extent(st, run_id, &count);
        if (s != RVM_STORE_OK) {
            rvm_errorf("reconstruct: %s", rvm_store_error(st));
            rc = rvm_cmd_exit_for(s);
            goto out;
        }
    }
    if (at >= count) {
        rvm_errorf("reconstruct: run %lld has %" PRIu64 " records: --at must be 0..%" PRIu64,
                   (long long)run_id, count, count == 0 ? 0 : count - 1);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    if (run.build_id == NULL || strcmp(run.build_id, RVMSIM_VERSION) != 0) {
        rvm_errorf("reconstruct: note: run %lld was recorded by build '%s'; replaying with '%s'",
                   (long long)run_id, run.build_id != NULL ? run.build_id : "unknown",
                   RVMSIM_VERSION);
    }
    s = rvm_store_states(st, run_id, &states, &nstates);
    if (s == RVM_STORE_OK) {
        s = rvm_store_cursor_open(st, run_id, 0, at + 1, NULL, &c.cur);
    }
    if (s != RVM_STORE_OK) {
        rvm_errorf("reconstruct: %s", rvm_store_error(st));
        rc = rvm_cmd_exit_for(s);
        goto out;
    }
    c.states = states;
    c.nstates = nstates;
    rvm_sha256_iv(c.chain);

    const struct rvm_replay_observer obs = {.record = on_record, .state = on_state, .ctx = &c};
    char msg[400];
    bool ok = replayer->replay(&run, at, &obs, msg, sizeof(msg));
    if (!c.failed && !ok) {
        failf(&c, RVMSIM_EXIT_EXPECTATION, "the run cannot be re-executed: %s", msg);
    }
    if (!c.failed && c.records != at + 1) {
        failf(&c, RVMSIM_EXIT_EXPECTATION,
              "the replay ended after %" PRIu64 " records, before seq %" PRIu64, c.records, at);
    }
    if (!c.failed && c.next_state < nstates && states[c.next_state].seq <= at) {
        c.has_fail_seq = true;
        c.fail_seq = states[c.next_state].seq;
        failf(&c, RVMSIM_EXIT_EXPECTATION,
              "the store has a state digest at seq %" PRIu64 " that the replay does not produce",
              states[c.next_state].seq);
    }
    if (!c.failed && !c.has_final) {
        failf(&c, RVMSIM_EXIT_EXPECTATION, "the replay reported no state digest at seq %" PRIu64,
              at);
    }
    if (c.failed) {
        printf("run %lld: reconstruction FAILED at seq %" PRIu64 ": %s\n", (long long)run_id,
               c.has_fail_seq ? c.fail_seq : c.records, c.reason);
        rc = c.fail_code;
        goto out;
    }
    char chain[65], state[65];
    uint8_t chain_bytes[RVM_WITNESS_CHAIN_BYTES];
    rvm_sha256_state_bytes(c.chain, chain_bytes);
    rvm_hex(chain_bytes, sizeof(chain_bytes), chain);
    rvm_hex(c.final_state, sizeof(c.final_state), state);
    bool boundary = c.matched != 0 && states[c.next_state - 1].seq == at;
    printf("run %lld: reconstructed to seq %" PRIu64 " with the %s replayer: records 0..%" PRIu64
           " identical (chain %s); %" PRIu64 " recorded state digest%s match%s\n",
           (long long)run_id, at, replayer->source, at, chain, c.matched, c.matched == 1 ? "" : "s",
           c.matched == 1 ? "es" : "");
    printf("state digest at seq %" PRIu64 ": %s (%s)\n", at, state,
           boundary ? "recorded there, equal" : "not an epoch boundary: reproduced, not recorded");
    rc = RVMSIM_EXIT_PASS;
out:
    rvm_store_cursor_close(c.cur);
    free(states);
    rvm_store_run_free(&run);
    rvm_store_read_end(st);
    rvm_store_close(st);
    return rc;
}
