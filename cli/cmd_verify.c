/* SPDX-License-Identifier: MIT */
/* rvmsim verify: re-check every stored run (or one) end to end. */
#include "cmd_common.h"
#include "commands.h"
#include "options.h"
#include "util.h"
#include "verify.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim verify --db PATH [--run ID] [--hmac-key HEX] [--ed25519-pub HEX]\n"
            "                     [--allow-unsealed] [--jobs N] [--json]\n\n"
            "Re-computes every chain value and the log digest of each run (or of run ID),\n"
            "checks every stored chain value and decoded column against the record images, and\n"
            "every checkpoint: HMAC-SHA256, digest/chain binding, Ed25519 signature and key.\n"
            "Simulated runs' keys derive from their seed; --hmac-key (64 hex digits or any even\n"
            "length) gives an external key, --ed25519-pub pins the signing key.\n"
            "Each run gets one verdict: 'ok ... sealed' (complete and authenticated: its seal,\n"
            "the final checkpoint, ends the log), 'unsealed' (every stored record verifies but\n"
            "no seal ends the log: a failing run, a raw import, a writer that did not finish, or\n"
            "a log cut short; --allow-unsealed accepts it) or 'tampered' (the first bad sequence\n"
            "number and what is wrong). Summary-only runs (a sweep's passing runs) have no\n"
            "stored records: they are counted and skipped; --run naming one is exit 2.\n"
            "Exit 0 if every run verifies, 1 if any is tampered, 8 if none is tampered but some\n"
            "is unsealed, 2 for a missing run, an unusable database or a missing key.\n"
            "--json: one JSON object per run instead of the text lines (docs/json.md).\n");
}

struct verify_args {
    const char *db;
    int64_t only; /* 0: every run */
    struct rvm_verify_options opt;
    uint8_t key[64]; /* opt.hmac_key points here */
    bool json;
};

/* Parses the command line into *a; -1 when the command goes on, else the exit code. */
static int verify_parse_args(int argc, char **argv, struct verify_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"run", required_argument, NULL, 'r'},
        {"hmac-key", required_argument, NULL, 'k'},
        {"ed25519-pub", required_argument, NULL, 'p'},
        {"allow-unsealed", no_argument, NULL, 'u'},
        {"jobs", required_argument, NULL, 'j'},
        {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:r:k:p:uj:Jh", longopts, NULL);
        if (c == -1) {
            break;
        }
        uint64_t v;
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'r':
            if (!rvm_cmd_parse_run("verify", optarg, &a->only)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'k': {
            size_t len = strlen(optarg) / 2;
            if (len == 0 || len > sizeof(a->key) || !rvm_cmd_parse_hex(optarg, a->key, len)) {
                rvm_errorf("verify: --hmac-key must be 1..64 bytes of hex, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->opt.hmac_key = a->key;
            a->opt.hmac_key_len = len;
            break;
        }
        case 'p':
            if (!rvm_cmd_parse_hex(optarg, a->opt.ed25519_pub, sizeof(a->opt.ed25519_pub))) {
                rvm_errorf("verify: --ed25519-pub must be 64 hex digits, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->opt.pin_ed25519 = true;
            break;
        case 'u':
            a->opt.allow_unsealed = true;
            break;
        case 'J':
            a->json = true;
            break;
        case 'j':
            if (!rvm_parse_u64(optarg, &v) || v == 0 || v > 64) {
                rvm_errorf("verify: --jobs must be 1..64, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->opt.jobs = (unsigned)v;
            break;
        case 'h':
            return cli_option_usage(verify_usage, true);
        default:
            return cli_option_usage(verify_usage, false);
        }
    }
    if (a->db == NULL || optind != argc) {
        rvm_errorf("verify: %s", a->db == NULL ? "--db PATH is required" : "unexpected argument");
        verify_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    return -1;
}

/* `verify --json`: one line per run (docs/json.md "verify"); returns the exit code so far. */
static int verify_json_line(int64_t id, const struct rvm_verify_report *rep, int rc)
{
    static const char *const verdicts[] = {
        [RVM_VERIFY_OK] = "sealed",           [RVM_VERIFY_FAILED] = "tampered",
        [RVM_VERIFY_UNSEALED] = "unsealed",   [RVM_VERIFY_SUMMARY] = "summary",
        [RVM_VERIFY_NEEDS_KEY] = "needs_key",
    };
    const unsigned v = (unsigned)rep->verdict;
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    rvm_json_object_begin(&j);
    rvm_json_key_int(&j, "run", id);
    const char *verdict =
        v < sizeof(verdicts) / sizeof(verdicts[0]) && verdicts[v] != NULL ? verdicts[v] : "error";
    if (rep->verdict == RVM_VERIFY_OK && !rep->sealed) {
        verdict = "unsealed"; /* accepted with --allow-unsealed */
    }
    rvm_json_key_string(&j, "verdict", verdict);
    rvm_json_key_int(&j, "records", (int64_t)rep->records);
    rvm_json_key_int(&j, "checkpoints", (int64_t)rep->checkpoints);
    rvm_json_key_int(&j, "signatures", (int64_t)rep->signatures);
    rvm_json_key_bool(&j, "sealed", rep->sealed);
    rvm_json_key_bool(&j, "key_pinned", rep->pub_pinned);
    rvm_json_key(&j, "digest");
    if (rep->verdict == RVM_VERIFY_OK) {
        rvm_json_hex(&j, rep->digest, sizeof(rep->digest));
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key(&j, "failed_seq");
    if (rep->verdict != RVM_VERIFY_OK && rep->has_seq) {
        rvm_json_int(&j, (int64_t)rep->seq);
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key_string(&j, "reason", rep->verdict == RVM_VERIFY_OK ? NULL : rep->reason);
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
    switch (rep->verdict) {
    case RVM_VERIFY_OK:
        return rc;
    case RVM_VERIFY_FAILED:
        return rc == RVMSIM_EXIT_PASS || rc == RVMSIM_EXIT_UNSEALED ? RVMSIM_EXIT_EXPECTATION : rc;
    case RVM_VERIFY_UNSEALED:
        return rc == RVMSIM_EXIT_PASS ? RVMSIM_EXIT_UNSEALED : rc;
    case RVM_VERIFY_SUMMARY:
    case RVM_VERIFY_NEEDS_KEY:
        return RVMSIM_EXIT_USAGE;
    default:
        return rep->store_status == RVM_STORE_NOT_FOUND ? RVMSIM_EXIT_USAGE : RVMSIM_EXIT_INTERNAL;
    }
}

int rvmsim_cmd_verify(int argc, char **argv)
{
    struct verify_args args;
    int rc = verify_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    const char *db = args.db;
    const int64_t only = args.only;
    const struct rvm_verify_options *opt = &args.opt;
    struct rvm_store *st = rvm_cmd_open_store("verify", db, RVM_STORE_READ, &rc);
    if (st == NULL) {
        return rc;
    }
    int64_t *ids = NULL;
    size_t n = 0;
    uint64_t summaries = 0;
    if (only != 0) {
        ids = malloc(sizeof(*ids));
        if (ids != NULL) {
            ids[0] = only;
            n = 1;
        }
    } else {
        /* summary-only runs have nothing to verify: skip them without reading each row */
        enum rvm_store_status s = rvm_store_run_ids_of(st, "full", &ids, &n);
        if (s == RVM_STORE_OK) {
            s = rvm_store_run_count_of(st, "summary", &summaries);
        }
        if (s != RVM_STORE_OK) {
            rvm_errorf("verify: %s", rvm_store_error(st));
            rvm_store_close(st);
            return rvm_cmd_exit_for(s);
        }
    }
    size_t failed = 0, unsealed = 0;
    rc = RVMSIM_EXIT_PASS;
    for (size_t i = 0; i < n; i++) {
        struct rvm_verify_report rep;
        rvm_verify_run(st, ids[i], opt, &rep);
        if (args.json) {
            failed += rep.verdict == RVM_VERIFY_FAILED;
            rc = verify_json_line(ids[i], &rep, rc);
            continue;
        }
        char digest[65];
        switch (rep.verdict) {
        case RVM_VERIFY_OK:
            rvm_hex(rep.digest, sizeof(rep.digest), digest);
            printf("run %lld: ok: %" PRIu64 " records, %" PRIu64
                   " checkpoints (HMAC-SHA256, %" PRIu64 " Ed25519 signatures%s), %s, digest %s\n",
                   (long long)ids[i], rep.records, rep.checkpoints, rep.signatures,
                   rep.signatures != 0 && !rep.pub_pinned ? ", key not pinned" : "",
                   rep.sealed ? "sealed" : "unsealed", digest);
            break;
        case RVM_VERIFY_FAILED:
            failed++;
            if (rep.has_seq) {
                printf("run %lld: tampered at seq %" PRIu64 ": %s\n", (long long)ids[i], rep.seq,
                       rep.reason);
            } else {
                printf("run %lld: tampered: %s\n", (long long)ids[i], rep.reason);
            }
            if (rc == RVMSIM_EXIT_PASS || rc == RVMSIM_EXIT_UNSEALED) {
                rc = RVMSIM_EXIT_EXPECTATION;
            }
            break;
        case RVM_VERIFY_UNSEALED:
            unsealed++;
            printf("run %lld: unsealed: %s\n", (long long)ids[i], rep.reason);
            if (rc == RVMSIM_EXIT_PASS) {
                rc = RVMSIM_EXIT_UNSEALED;
            }
            break;
        case RVM_VERIFY_SUMMARY: {
            printf("run %lld: not verified: %s\n", (long long)ids[i], rep.reason);
            struct rvm_store_run run;
            if (rvm_store_run_get(st, ids[i], &run) == RVM_STORE_OK) {
                (void)rvm_cmd_need_records("verify", &run, db);
                rvm_store_run_free(&run);
            }
            rc = RVMSIM_EXIT_USAGE;
            break;
        }
        case RVM_VERIFY_NEEDS_KEY:
            rvm_errorf("verify: run %lld: %s", (long long)ids[i], rep.reason);
            rc = RVMSIM_EXIT_USAGE;
            break;
        default:
            rvm_errorf("verify: run %lld: %s", (long long)ids[i], rep.reason);
            rc = rep.store_status == RVM_STORE_NOT_FOUND ? RVMSIM_EXIT_USAGE : RVMSIM_EXIT_INTERNAL;
            break;
        }
    }
    if (summaries != 0 && !args.json) {
        printf("%" PRIu64 " summary-only run%s not verified: %s records were not stored\n",
               summaries, summaries == 1 ? "" : "s", summaries == 1 ? "its" : "their");
    }
    if (n == 0 && summaries == 0 && !args.json) {
        printf("no runs in %s\n", db);
    }
    if (failed != 0) {
        rvm_errorf("verify: %zu of %zu runs tampered", failed, n);
    }
    if (unsealed != 0) {
        rvm_errorf("verify: %zu of %zu runs unsealed: their completeness is not proven", unsealed,
                   n);
    }
    free(ids);
    rvm_store_close(st);
    return rc;
}
