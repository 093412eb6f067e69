/* SPDX-License-Identifier: MIT */
/* rvmsim verify: re-check every stored run (or one) end to end. */
#include "bundle.h"
#include "cmd_common.h"
#include "commands.h"
#include "manifest.h"
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
            "                     [--allow-unsealed] [--jobs N] [--json] [--expect-manifest HEX]\n"
            "       rvmsim verify FILE [--expect-digest HEX] [--expect-count N] [--hmac-key HEX]\n"
            "                     [--ed25519-pub HEX] [--allow-unsealed]\n\n"
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
            "--json: one JSON object per run and one for the manifest instead of the text\n"
            "lines (docs/json.md); with a FILE, one object for the file.\n"
            "The store's manifest (the hash-chained list of its finished runs) is checked\n"
            "against the runs: a run deleted, downgraded to a summary, replaced or added behind\n"
            "the writers' back is tampering (exit 1). Its head is printed; give it to\n"
            "--expect-manifest HEX later to detect a manifest cut back or rewritten.\n"
            "FILE: an evidence bundle (`export --format bundle`, detected by its magic) is\n"
            "verified like a stored run. Any other file is a raw log (`export --format raw`):\n"
            "its chain is checked, and without --expect-digest/--expect-count it is reported\n"
            "'chain consistent, completeness unknown' (exit 8); with them, 0 when they match\n"
            "and 1 (tampered) when not.\n");
}

struct verify_args {
    const char *db;
    int64_t only; /* 0: every run */
    struct rvm_verify_options opt;
    uint8_t key[64]; /* opt.hmac_key points here */
    bool json;
    const char *file; /* a bundle or raw log instead of --db */
    bool has_expect_digest, has_expect_count, has_expect_manifest;
    uint8_t expect_manifest[RVM_MANIFEST_HASH_BYTES];
    uint8_t expect_digest[32];
    uint64_t expect_count;
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
        {"expect-digest", required_argument, NULL, 'E'},
        {"expect-count", required_argument, NULL, 'C'},
        {"expect-manifest", required_argument, NULL, 'M'},
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
        case 'E':
            if (!rvm_cmd_parse_hex(optarg, a->expect_digest, sizeof(a->expect_digest))) {
                rvm_errorf("verify: --expect-digest must be 64 hex digits, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->has_expect_digest = true;
            break;
        case 'M':
            if (!rvm_cmd_parse_hex(optarg, a->expect_manifest, sizeof(a->expect_manifest))) {
                rvm_errorf("verify: --expect-manifest must be 64 hex digits, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->has_expect_manifest = true;
            break;
        case 'C':
            if (!rvm_parse_u64(optarg, &a->expect_count)) {
                rvm_errorf("verify: --expect-count must be a number, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->has_expect_count = true;
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
    if (a->db == NULL && optind + 1 == argc) {
        a->file = argv[optind++];
    }
    const char *wrong = NULL;
    if (a->db == NULL && a->file == NULL) {
        wrong = "--db PATH or a FILE is required";
    } else if (optind != argc) {
        wrong = "unexpected argument (give --db PATH or one FILE)";
    } else if (a->file != NULL && (a->only != 0 || a->opt.jobs != 0)) {
        wrong = "--run and --jobs go with --db, not with a FILE";
    } else if (a->file == NULL && (a->has_expect_digest || a->has_expect_count)) {
        wrong = "--expect-digest and --expect-count go with a FILE, not with --db";
    } else if (a->file != NULL && a->has_expect_manifest) {
        wrong = "--expect-manifest goes with --db, not with a FILE";
    }
    if (wrong != NULL) {
        rvm_errorf("verify: %s", wrong);
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

/* The outcome of `verify FILE`: printed as one text line or one JSON object. */
struct file_outcome {
    const char *verdict; /* sealed | unsealed | tampered | needs_key | error */
    int rc;
    bool to_stderr; /* needs_key and error go to stderr as `verify: FILE: reason` */
    char line[800]; /* the text line after "FILE: " */
    char reason[600];
};

/* Whether the file's records match --expect-digest/--expect-count; says the mismatch in *o. */
static bool file_expectations_hold(const struct verify_args *a, const struct rvm_verify_report *rep,
                                   struct file_outcome *o)
{
    char have[65], want[65];
    if (a->has_expect_count && rep->records != a->expect_count) {
        snprintf(o->reason, sizeof(o->reason), "%" PRIu64 " records, expected %" PRIu64,
                 rep->records, a->expect_count);
    } else if (a->has_expect_digest && memcmp(rep->digest, a->expect_digest, 32) != 0) {
        rvm_hex(rep->digest, 32, have);
        rvm_hex(a->expect_digest, 32, want);
        snprintf(o->reason, sizeof(o->reason), "digest %s, expected %s", have, want);
    } else {
        return true;
    }
    o->verdict = "tampered";
    o->rc = RVMSIM_EXIT_EXPECTATION;
    snprintf(o->line, sizeof(o->line), "tampered: %s", o->reason);
    return false;
}

static void file_outcome_of(const struct verify_args *a, enum rvm_file_kind kind,
                            const struct rvm_verify_report *rep, struct file_outcome *o)
{
    bool expected = a->has_expect_digest || a->has_expect_count;
    char digest[65];
    rvm_hex(rep->digest, sizeof(rep->digest), digest);
    memset(o, 0, sizeof(*o));
    switch (rep->verdict) {
    case RVM_VERIFY_OK:
        if (!file_expectations_hold(a, rep, o)) {
            return;
        }
        o->verdict = rep->sealed ? "sealed" : "unsealed";
        o->rc = RVMSIM_EXIT_PASS;
        snprintf(o->line, sizeof(o->line),
                 "ok: bundle, %" PRIu64 " records, %" PRIu64 " checkpoints (HMAC-SHA256, %" PRIu64
                 " Ed25519 signatures%s), %s, digest %s",
                 rep->records, rep->checkpoints, rep->signatures,
                 rep->signatures != 0 && !rep->pub_pinned ? ", key not pinned" : "",
                 rep->sealed ? "sealed" : "unsealed", digest);
        return;
    case RVM_VERIFY_UNSEALED:
        if (!file_expectations_hold(a, rep, o)) {
            return;
        }
        if (kind == RVM_FILE_RAW && expected) {
            o->verdict = "as_expected";
            o->rc = RVMSIM_EXIT_PASS;
            snprintf(o->line, sizeof(o->line),
                     "ok: raw log, %" PRIu64
                     " records, chain consistent, %s as expected, digest %s",
                     rep->records,
                     a->has_expect_digest && a->has_expect_count ? "digest and count"
                     : a->has_expect_digest                      ? "digest"
                                                                 : "count",
                     digest);
            return;
        }
        o->verdict = "unsealed";
        o->rc = RVMSIM_EXIT_UNSEALED;
        if (kind == RVM_FILE_RAW) {
            snprintf(o->reason, sizeof(o->reason),
                     "raw log, %" PRIu64 " records, chain consistent, completeness unknown (give "
                     "--expect-digest or --expect-count)",
                     rep->records);
            snprintf(o->line, sizeof(o->line), "unsealed: %s, digest %s", o->reason, digest);
        } else {
            snprintf(o->reason, sizeof(o->reason), "%s", rep->reason);
            snprintf(o->line, sizeof(o->line), "unsealed: %s", rep->reason);
        }
        return;
    case RVM_VERIFY_FAILED:
        o->verdict = "tampered";
        o->rc = RVMSIM_EXIT_EXPECTATION;
        snprintf(o->reason, sizeof(o->reason), "%s", rep->reason);
        if (rep->has_seq) {
            snprintf(o->line, sizeof(o->line), "tampered at seq %" PRIu64 ": %s", rep->seq,
                     rep->reason);
        } else {
            snprintf(o->line, sizeof(o->line), "tampered: %s", rep->reason);
        }
        return;
    case RVM_VERIFY_NEEDS_KEY:
        o->verdict = "needs_key";
        o->rc = RVMSIM_EXIT_USAGE;
        break;
    default:
        o->verdict = "error";
        o->rc = rep->store_status == RVM_STORE_BAD_FILE ? RVMSIM_EXIT_USAGE : RVMSIM_EXIT_INTERNAL;
        break;
    }
    o->to_stderr = true;
    snprintf(o->reason, sizeof(o->reason), "%s", rep->reason);
}

/* `verify FILE --json`: one object (docs/json.md "verify FILE"). */
static void file_json(const struct verify_args *a, enum rvm_file_kind kind,
                      const struct rvm_verify_report *rep, const struct file_outcome *o)
{
    bool checked = strcmp(o->verdict, "error") != 0 && strcmp(o->verdict, "needs_key") != 0;
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    rvm_json_object_begin(&j);
    rvm_json_key_string(&j, "file", a->file);
    rvm_json_key_string(&j, "kind",
                        strcmp(o->verdict, "error") == 0 ? NULL
                        : kind == RVM_FILE_BUNDLE        ? "bundle"
                                                         : "raw");
    rvm_json_key_string(&j, "verdict", o->verdict);
    rvm_json_key_int(&j, "exit_code", o->rc);
    rvm_json_key_int(&j, "records", (int64_t)rep->records);
    rvm_json_key_int(&j, "checkpoints", (int64_t)rep->checkpoints);
    rvm_json_key_int(&j, "signatures", (int64_t)rep->signatures);
    rvm_json_key_bool(&j, "sealed", checked && rep->verdict == RVM_VERIFY_OK && rep->sealed);
    rvm_json_key_bool(&j, "key_pinned", rep->pub_pinned);
    rvm_json_key(&j, "digest");
    if (checked && strcmp(o->verdict, "tampered") != 0) {
        rvm_json_hex(&j, rep->digest, sizeof(rep->digest));
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key(&j, "failed_seq");
    if (rep->verdict == RVM_VERIFY_FAILED && rep->has_seq) {
        rvm_json_int(&j, (int64_t)rep->seq);
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key_string(&j, "reason", o->reason[0] != '\0' ? o->reason : NULL);
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
}

/* `verify FILE`: a bundle or a raw log, without a store. */
static int verify_file(const struct verify_args *a)
{
    struct rvm_verify_report rep;
    enum rvm_file_kind kind;
    rvm_verify_file(a->file, &a->opt, &kind, &rep);
    struct file_outcome o;
    file_outcome_of(a, kind, &rep, &o);
    if (a->json) {
        file_json(a, kind, &rep, &o);
    } else if (o.to_stderr) {
        rvm_errorf("verify: %s: %s", a->file, o.reason);
    } else {
        printf("%s: %s\n", a->file, o.line);
    }
    return o.rc;
}

/* The store manifest against the runs (and the pinned head); returns the exit code so far. */
static int verify_manifest(struct rvm_store *st, const struct verify_args *a, int rc)
{
    struct rvm_manifest_report m;
    enum rvm_store_status s = rvm_store_manifest_check(
        st, a->has_expect_manifest ? a->expect_manifest : NULL, a->only, &m);
    if (s != RVM_STORE_OK) {
        rvm_errorf("verify: manifest: %s", rvm_store_error(st));
        return rc == RVMSIM_EXIT_PASS || rc == RVMSIM_EXIT_UNSEALED ? rvm_cmd_exit_for(s) : rc;
    }
    bool tampered = m.present ? !m.ok : a->has_expect_manifest;
    if (!m.present && a->has_expect_manifest) {
        snprintf(m.reason, sizeof(m.reason),
                 "the store has no manifest (schema version %d) but a manifest head was pinned: "
                 "it was removed",
                 rvm_store_schema_version(st));
    }
    char head[65];
    rvm_hex(m.head, sizeof(m.head), head);
    if (a->json) {
        struct rvm_json j;
        rvm_json_init(&j, stdout);
        rvm_json_object_begin(&j);
        rvm_json_key(&j, "manifest");
        rvm_json_object_begin(&j);
        rvm_json_key_string(&j, "verdict", tampered ? "tampered" : m.present ? "ok" : "absent");
        rvm_json_key_int(&j, "entries", (int64_t)m.entries);
        rvm_json_key_int(&j, "runs", (int64_t)m.runs);
        rvm_json_key(&j, "head");
        if (m.present) {
            rvm_json_hex(&j, m.head, sizeof(m.head));
        } else {
            rvm_json_null(&j);
        }
        rvm_json_key(&j, "pinned_entries");
        if (m.pin_given && m.pin_found) {
            rvm_json_int(&j, (int64_t)m.pin_entries);
        } else {
            rvm_json_null(&j);
        }
        rvm_json_key_int(&j, "problems", (int64_t)m.problems);
        rvm_json_key_string(&j, "reason", tampered ? m.reason : NULL);
        rvm_json_object_end(&j);
        rvm_json_object_end(&j);
        rvm_json_newline(&j);
    } else if (tampered) {
        printf("manifest: tampered: %s", m.reason);
        if (m.problems > 1) {
            printf(" (and %" PRIu64 " more)", m.problems - 1);
        }
        printf("\n");
    } else if (!m.present) {
        printf("manifest: none: schema version %d, written before store manifests: the set of "
               "runs is not authenticated (a writing command adds a manifest)\n",
               rvm_store_schema_version(st));
    } else {
        printf("manifest: ok: %" PRIu64 " entries, %" PRIu64 " runs, head %s", m.entries, m.runs,
               head);
        if (m.pin_given) {
            printf(", extends the pinned head (%" PRIu64 " entries; %" PRIu64 " added since)",
                   m.pin_entries, m.entries - m.pin_entries);
        }
        printf("\n");
    }
    if (tampered) {
        rvm_errorf("verify: the store manifest does not match the runs: the set of runs was "
                   "changed");
        if (rc == RVMSIM_EXIT_PASS || rc == RVMSIM_EXIT_UNSEALED) {
            rc = RVMSIM_EXIT_EXPECTATION;
        }
    }
    return rc;
}

int rvmsim_cmd_verify(int argc, char **argv)
{
    struct verify_args args;
    int rc = verify_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    if (args.file != NULL) {
        return verify_file(&args);
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
    rc = verify_manifest(st, &args, rc);
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
