/* SPDX-License-Identifier: MIT */
/* rvmsim diff: first divergence of two runs by bisection, then the records around it. */
#include "cmd_common.h"
#include "commands.h"
#include "diff.h"
#include "options.h"
#include "util.h"

#include "rvm/bytes.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_MAX_CONTEXT 1000u

static void diff_usage(FILE *out)
{
    fprintf(out, "usage: rvmsim diff --db PATH RUN_A RUN_B [--db2 PATH2] [--context N] [--json]\n\n"
                 "Compares two runs (RUN_B from PATH2 when given). Prints `identical` (exit 0) or\n"
                 "`first divergence at seq N` (exit 1) followed by the N records before it, the\n"
                 "divergent record of both runs field by field, and the records after it. The\n"
                 "divergence is found by bisection over stored chain values: about 2*log2(length)\n"
                 "lookups. Runs of different lengths diverge where the shorter one ends.\n"
                 "A summary-only run (no stored records) is compared by record count and log\n"
                 "digest: `identical` (exit 0) or `different` without a position (exit 1).\n"
                 "--context N: records shown on each side of the divergence (default 3).\n"
                 "--json: one JSON object with the verdict and both divergent records\n"
                 "(docs/json.md).\n");
}

struct side {
    const char *label;
    const char *db;
    struct rvm_store *st;
    struct rvm_store_run run;
    uint64_t count;
};

static bool get_image(struct side *s, uint64_t seq, uint8_t image[RVM_WITNESS_RECORD_BYTES],
                      int *rc)
{
    if (seq >= s->count) {
        return false;
    }
    enum rvm_store_status st = rvm_store_record_get(s->st, s->run.id, seq, image, NULL);
    if (st != RVM_STORE_OK) {
        rvm_errorf("diff: %s", rvm_store_error(s->st));
        *rc = st == RVM_STORE_NOT_FOUND ? RVMSIM_EXIT_EXPECTATION : rvm_cmd_exit_for(st);
        return false;
    }
    return true;
}

static void field_row(const char *name, const char *a, const char *b)
{
    printf("  %-14s %-34s %-34s%s\n", name, a, b, strcmp(a, b) != 0 ? "  <- differs" : "");
}

static void fields_side_by_side(const struct side *a, const struct side *b, uint64_t seq,
                                const uint8_t *ia, const uint8_t *ib)
{
    struct rvm_witness_record ra, rb;
    char va[12][48], vb[12][48];
    const char *names[] = {"sequence", "timestamp_ns", "kind",    "proof_tier", "flags", "actor",
                           "target",   "cap_hash",     "payload", "prev_link",  "aux",   "detail"};
    const uint8_t *img[2] = {ia, ib};
    struct rvm_witness_record *rec[2] = {&ra, &rb};
    char(*v[2])[48] = {va, vb};
    for (int s = 0; s < 2; s++) {
        if (img[s] == NULL) {
            for (int i = 0; i < 12; i++) {
                snprintf(v[s][i], 48, "%s", i == 0 ? "(run ended)" : "-");
            }
            continue;
        }
        struct rvm_witness_record *r = rec[s];
        char kbuf[16], link[17];
        rvm_witness_decode(img[s], r);
        rvm_hex(r->prev_link, sizeof(r->prev_link), link);
        snprintf(v[s][0], 48, "%" PRIu64, r->sequence);
        snprintf(v[s][1], 48, "%" PRIu64, r->timestamp_ns);
        snprintf(v[s][2], 48, "%s (0x%02x)", rvm_cmd_kind_name(r->kind, kbuf), r->kind);
        snprintf(v[s][3], 48, "%u", r->proof_tier);
        snprintf(v[s][4], 48, "0x%02x", r->flags);
        snprintf(v[s][5], 48, "%" PRIu32, r->actor);
        snprintf(v[s][6], 48, "0x%016" PRIx64, r->target);
        snprintf(v[s][7], 48, "0x%08" PRIx32, r->cap_hash);
        snprintf(v[s][8], 48, "0x%016" PRIx64, r->payload);
        snprintf(v[s][9], 48, "%s", link);
        snprintf(v[s][10], 48, "0x%016" PRIx64, r->aux);
        rvm_cmd_record_detail(img[s], v[s][11], 48);
        if (v[s][11][0] == '\0') {
            snprintf(v[s][11], 48, "-");
        }
    }
    printf("\nrecord %" PRIu64 " side by side:\n  %-14s %-34s %-34s\n", seq, "field", a->label,
           b->label);
    for (int i = 0; i < 12; i++) {
        field_row(names[i], va[i], vb[i]);
    }
}

static int print_divergence(struct side *a, struct side *b, uint64_t first, uint64_t context)
{
    int rc = RVMSIM_EXIT_EXPECTATION;
    uint8_t ia[RVM_WITNESS_RECORD_BYTES], ib[RVM_WITNESS_RECORD_BYTES];
    uint64_t from = first > context ? first - context : 0;

    printf("first divergence at seq %" PRIu64 "\n", first);
    printf("  A = run %lld in %s (%" PRIu64 " records), B = run %lld in %s (%" PRIu64
           " records)\n\n",
           (long long)a->run.id, a->db, a->count, (long long)b->run.id, b->db, b->count);
    rvm_cmd_table_header(stdout, "     ");
    for (uint64_t seq = from; seq < first; seq++) {
        if (!get_image(a, seq, ia, &rc)) {
            return rc;
        }
        rvm_cmd_table_row(stdout, "A=B  ", ia);
    }
    int err = RVMSIM_EXIT_EXPECTATION;
    for (uint64_t seq = first; seq <= first + context; seq++) {
        bool has_a = get_image(a, seq, ia, &err);
        bool has_b = get_image(b, seq, ib, &err);
        if (err != RVMSIM_EXIT_EXPECTATION) {
            return err;
        }
        if (!has_a && !has_b) {
            break;
        }
        if (has_a) {
            rvm_cmd_table_row(stdout, "A    ", ia);
        } else {
            printf("A    %10" PRIu64 " (run ended after %" PRIu64 " records)\n", seq, a->count);
        }
        if (has_b) {
            rvm_cmd_table_row(stdout, "B    ", ib);
        } else {
            printf("B    %10" PRIu64 " (run ended after %" PRIu64 " records)\n", seq, b->count);
        }
        if (!has_a || !has_b) {
            break;
        }
    }
    bool has_a = get_image(a, first, ia, &err);
    bool has_b = get_image(b, first, ib, &err);
    if (err != RVMSIM_EXIT_EXPECTATION) {
        return err;
    }
    fields_side_by_side(a, b, first, has_a ? ia : NULL, has_b ? ib : NULL);
    return rc;
}

static void json_side(struct rvm_json *j, const char *key, const struct side *s)
{
    rvm_json_key(j, key);
    rvm_json_object_begin(j);
    rvm_json_key_int(j, "run", s->run.id);
    rvm_json_key_string(j, "db", s->db);
    rvm_json_key_int(j, "records", (int64_t)s->count);
    rvm_json_key_string(j, "content", s->run.content);
    rvm_json_key(j, "digest");
    if (s->run.has_digest) {
        rvm_json_hex(j, s->run.digest, sizeof(s->run.digest));
    } else {
        rvm_json_null(j);
    }
    rvm_json_object_end(j);
}

/* `diff --json` (docs/json.md "diff"): `verdict` identical | diverged | different; `first` is
 * the first divergent seq (diverged only, else negative); lookups < 0: no bisection ran. */
static int diff_json(struct side *a, struct side *b, const char *verdict, int64_t first,
                     int64_t lookups)
{
    struct rvm_json j;
    int rc = RVMSIM_EXIT_EXPECTATION;
    rvm_json_init(&j, stdout);
    rvm_json_object_begin(&j);
    rvm_json_key_string(&j, "verdict", verdict);
    json_side(&j, "a", a);
    json_side(&j, "b", b);
    rvm_json_key(&j, "first_divergence");
    if (first >= 0) {
        rvm_json_int(&j, first);
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key(&j, "lookups");
    if (lookups >= 0) {
        rvm_json_int(&j, lookups);
    } else {
        rvm_json_null(&j);
    }
    if (first >= 0) {
        struct side *sides[2] = {a, b};
        const char *keys[2] = {"a_record", "b_record"};
        for (int k = 0; k < 2; k++) {
            uint8_t image[RVM_WITNESS_RECORD_BYTES];
            int err = RVMSIM_EXIT_EXPECTATION;
            rvm_json_key(&j, keys[k]);
            if (get_image(sides[k], (uint64_t)first, image, &err)) {
                rvm_cmd_record_json_write(&j, sides[k]->run.id, image, NULL);
            } else {
                rvm_json_null(&j);
                if (err != RVMSIM_EXIT_EXPECTATION) {
                    rc = err;
                }
            }
        }
    }
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
    return strcmp(verdict, "identical") == 0 ? RVMSIM_EXIT_PASS : rc;
}

static int open_side(struct side *s, int64_t id)
{
    int rc = rvm_cmd_get_run("diff", s->st, id, &s->run);
    if (rc != RVMSIM_EXIT_PASS) {
        return rc;
    }
    if (strcmp(s->run.status, "complete") == 0) {
        s->count = s->run.record_count;
    } else {
        enum rvm_store_status st = rvm_store_record_extent(s->st, id, &s->count);
        if (st != RVM_STORE_OK) {
            rvm_errorf("diff: %s", rvm_store_error(s->st));
            return rvm_cmd_exit_for(st);
        }
        rvm_errorf("diff: warning: run %lld in %s is incomplete (status %s); comparing its %" PRIu64
                   " stored records",
                   (long long)id, s->db, s->run.status, s->count);
    }
    return RVMSIM_EXIT_PASS;
}

/*
 * At least one run stores only a summary: no records to bisect. Equal record counts and log
 * digests still prove the logs identical (the digest is SHA-256 of every record); otherwise the
 * runs differ but where cannot be said.
 */
static int summary_diff(struct side *a, struct side *b, bool json)
{
    const struct side *summary = !rvm_store_run_has_records(&a->run) ? a : b;
    char da[65] = "none", db[65] = "none";
    if (a->run.has_digest) {
        rvm_hex(a->run.digest, sizeof(a->run.digest), da);
    }
    if (b->run.has_digest) {
        rvm_hex(b->run.digest, sizeof(b->run.digest), db);
    }
    if (!a->run.has_digest || !b->run.has_digest) {
        rvm_errorf("diff: run %lld in %s stores only a summary without a log digest (result %s): "
                   "there is nothing to compare",
                   (long long)summary->run.id, summary->db,
                   summary->run.result != NULL ? summary->run.result : "unknown");
        return RVMSIM_EXIT_USAGE;
    }
    if (json) {
        bool same = a->count == b->count && strcmp(da, db) == 0;
        return diff_json(a, b, same ? "identical" : "different", -1, -1);
    }
    if (a->count == b->count && strcmp(da, db) == 0) {
        printf("identical: run %lld in %s and run %lld in %s, %" PRIu64 " records, digest %s "
               "(compared by log digest: run %lld stores only a summary)\n",
               (long long)a->run.id, a->db, (long long)b->run.id, b->db, a->count, da,
               (long long)summary->run.id);
        return RVMSIM_EXIT_PASS;
    }
    printf("different: run %lld in %s (%" PRIu64 " records, digest %s) and run %lld in %s (%" PRIu64
           " records, digest %s)\n",
           (long long)a->run.id, a->db, a->count, da, (long long)b->run.id, b->db, b->count, db);
    printf("the first divergence cannot be located: run %lld stores only a summary, its records "
           "were not stored\n",
           (long long)summary->run.id);
    (void)rvm_cmd_need_records("diff", &summary->run, summary->db);
    return RVMSIM_EXIT_EXPECTATION;
}

int rvmsim_cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},      {"db2", required_argument, NULL, 'D'},
        {"context", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *db2 = NULL;
    uint64_t context = 3;
    bool json = false;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:D:c:jh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'D':
            db2 = optarg;
            break;
        case 'c':
            if (!rvm_parse_u64(optarg, &context) || context > DIFF_MAX_CONTEXT) {
                rvm_errorf("diff: --context must be 0..%u, got '%s'", DIFF_MAX_CONTEXT, optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return cli_option_usage(diff_usage, true);
        default:
            return cli_option_usage(diff_usage, false);
        }
    }
    if (db == NULL || argc - optind != 2) {
        rvm_errorf("diff: %s", db == NULL ? "--db PATH is required" : "expected RUN_A RUN_B");
        diff_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    int64_t id_a, id_b;
    if (!rvm_cmd_parse_run("diff", argv[optind], &id_a) ||
        !rvm_cmd_parse_run("diff", argv[optind + 1], &id_b)) {
        return RVMSIM_EXIT_USAGE;
    }

    struct side a = {.label = "A", .db = db}, b = {.label = "B", .db = db2 != NULL ? db2 : db};
    int rc;
    a.st = rvm_cmd_open_store("diff", a.db, RVM_STORE_READ, &rc);
    if (a.st == NULL) {
        return rc;
    }
    b.st = db2 != NULL ? rvm_cmd_open_store("diff", b.db, RVM_STORE_READ, &rc) : a.st;
    if (b.st == NULL) {
        rvm_store_close(a.st);
        return rc;
    }
    enum rvm_store_status s = rvm_store_read_begin(a.st);
    if (s == RVM_STORE_OK) {
        s = rvm_store_read_begin(b.st);
    }
    if (s != RVM_STORE_OK) {
        rvm_errorf("diff: %s", rvm_store_error(s == RVM_STORE_OK ? b.st : a.st));
        rc = rvm_cmd_exit_for(s);
        goto out;
    }
    rc = open_side(&a, id_a);
    if (rc == RVMSIM_EXIT_PASS) {
        rc = open_side(&b, id_b);
    }
    if (rc != RVMSIM_EXIT_PASS) {
        goto out;
    }
    if (!rvm_store_run_has_records(&a.run) || !rvm_store_run_has_records(&b.run)) {
        rc = summary_diff(&a, &b, json);
        goto out;
    }

    struct rvm_diff_side da = {a.st, a.run.id, a.count}, dbs = {b.st, b.run.id, b.count};
    struct rvm_diff_result res;
    char err[512];
    enum rvm_diff_status ds = rvm_diff_first_divergence(&da, &dbs, &res, err, sizeof(err));
    if (ds == RVM_DIFF_INCONSISTENT) {
        rvm_errorf("diff: %s", err);
        rc = RVMSIM_EXIT_EXPECTATION;
        goto out;
    }
    if (ds != RVM_DIFF_OK) {
        rvm_errorf("diff: %s", err);
        /* a record the run's length promises is missing or malformed: the store is damaged */
        rc = res.store_status == RVM_STORE_NOT_FOUND || res.store_status == RVM_STORE_CORRUPT
                 ? RVMSIM_EXIT_EXPECTATION
                 : RVMSIM_EXIT_INTERNAL;
        goto out;
    }
    if (json) {
        rc = diff_json(&a, &b, res.identical ? "identical" : "diverged",
                       res.identical ? -1 : (int64_t)res.first, (int64_t)res.lookups);
        goto out;
    }
    if (res.identical) {
        char digest[65] = "-";
        if (a.run.has_digest) {
            rvm_hex(a.run.digest, sizeof(a.run.digest), digest);
        }
        printf("identical: run %lld in %s and run %lld in %s, %" PRIu64 " records, digest %s\n",
               (long long)a.run.id, a.db, (long long)b.run.id, b.db, a.count, digest);
        rc = RVMSIM_EXIT_PASS;
    } else {
        rc = print_divergence(&a, &b, res.first, context);
    }
    printf("(bisection: %" PRIu64 " lookups)\n", res.lookups);

out:
    rvm_store_run_free(&a.run);
    rvm_store_run_free(&b.run);
    rvm_store_read_end(a.st);
    if (b.st != a.st) {
        rvm_store_read_end(b.st);
        rvm_store_close(b.st);
    }
    rvm_store_close(a.st);
    return rc;
}
