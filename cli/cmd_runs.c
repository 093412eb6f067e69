/* SPDX-License-Identifier: MIT */
/* rvmsim runs: list the runs of a store. */
#include "cmd_common.h"
#include "commands.h"
#include "json_out.h"
#include "options.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void runs_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim runs --db PATH [--result R] [--limit N] [--wide | --json]\n\n"
            "Lists the runs stored in PATH, one line each: id, result, seed, records, source,\n"
            "target and content (full, or summary: records not stored). --wide adds status,\n"
            "platform, checkpoints, digest and creation time; --json prints one JSON object per\n"
            "run with every stored field (docs/json.md). --result R keeps the runs whose result\n"
            "is R (pass, expectation, safety, liveness, ...; `fail`: every result but pass);\n"
            "--limit N stops after N runs.\n");
}

struct runs_args {
    const char *db;
    const char *result;
    uint64_t limit; /* 0: no limit */
    bool json, wide;
};

static int parse_runs(int argc, char **argv, struct runs_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"wide", no_argument, NULL, 'w'},
        {"result", required_argument, NULL, 'r'},
        {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:jwr:l:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'j':
            a->json = true;
            break;
        case 'w':
            a->wide = true;
            break;
        case 'r':
            a->result = optarg;
            break;
        case 'l':
            if (!cli_option_u64("runs", "limit", optarg, &a->limit) || a->limit == 0) {
                rvm_errorf("runs: --limit must be at least 1");
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'h':
            runs_usage(stdout);
            return -1;
        default:
            return cli_option_usage(runs_usage, false);
        }
    }
    if (a->db == NULL || optind != argc) {
        rvm_errorf("runs: %s", a->db == NULL ? "--db PATH is required" : "unexpected argument");
        runs_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    if (a->json && a->wide) {
        rvm_errorf("runs: --wide and --json exclude each other");
        return RVMSIM_EXIT_USAGE;
    }
    return RVMSIM_EXIT_PASS;
}

static bool result_matches(const struct runs_args *a, const struct rvm_store_run *run)
{
    if (a->result == NULL) {
        return true;
    }
    const char *r = run->result != NULL ? run->result : "";
    if (strcmp(a->result, "fail") == 0) {
        return *r != '\0' && strcmp(r, "pass") != 0;
    }
    return strcmp(a->result, r) == 0;
}

static void print_header(const struct runs_args *a)
{
    if (a->wide) {
        printf("%6s %-9s %-8s %-14s %-14s %-14s %20s %10s %6s  %-64s  %s\n", "run", "status",
               "content", "source", "platform", "result", "seed", "records", "ckpts", "digest",
               "created");
    } else {
        printf("%6s %-12s %20s %8s %-13s %-8s %s\n", "run", "result", "seed", "records", "source",
               "target", "content");
    }
}

static void print_row(const struct runs_args *a, const struct rvm_store_run *run)
{
    char digest[65] = "-", seed[24] = "-";
    if (run->has_digest) {
        rvm_hex(run->digest, sizeof(run->digest), digest);
    }
    if (run->has_seed) {
        snprintf(seed, sizeof(seed), "%" PRIu64, run->seed);
    }
    const char *result = run->result != NULL ? run->result : "-";
    if (a->wide) {
        printf("%6lld %-9s %-8s %-14s %-14s %-14s %20s %10" PRIu64 " %6" PRIu64 "  %-64s  %s\n",
               (long long)run->id, run->status, run->content, run->source,
               run->platform != NULL ? run->platform : "-", result, seed, run->record_count,
               run->checkpoint_count, digest, run->created_at != NULL ? run->created_at : "-");
    } else {
        printf("%6lld %-12s %20s %8" PRIu64 " %-13s %-8s %s\n", (long long)run->id, result, seed,
               run->record_count, run->source, run->target != NULL ? run->target : "-",
               run->content);
    }
}

int rvmsim_cmd_runs(int argc, char **argv)
{
    struct runs_args a;
    int rc = parse_runs(argc, argv, &a);
    if (rc != RVMSIM_EXIT_PASS) {
        return rc < 0 ? RVMSIM_EXIT_PASS : rc;
    }
    struct rvm_store *st = rvm_cmd_open_store("runs", a.db, RVM_STORE_READ, &rc);
    if (st == NULL) {
        return rc;
    }
    int64_t *ids = NULL;
    size_t n = 0;
    enum rvm_store_status s = rvm_store_read_begin(st);
    if (s == RVM_STORE_OK) {
        s = rvm_store_run_ids(st, &ids, &n);
    }
    if (s != RVM_STORE_OK) {
        rvm_errorf("runs: %s", rvm_store_error(st));
        rvm_store_close(st);
        return rvm_cmd_exit_for(s);
    }
    if (!a.json) {
        print_header(&a);
    }
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    rc = RVMSIM_EXIT_PASS;
    uint64_t shown = 0;
    for (size_t i = 0; i < n && (a.limit == 0 || shown < a.limit); i++) {
        struct rvm_store_run run;
        int r = rvm_cmd_get_run("runs", st, ids[i], &run);
        if (r != RVMSIM_EXIT_PASS) {
            rc = r;
            continue;
        }
        if (result_matches(&a, &run)) {
            shown++;
            if (a.json) {
                cli_json_store_run(&j, &run);
                rvm_json_newline(&j);
            } else {
                print_row(&a, &run);
            }
        }
        rvm_store_run_free(&run);
    }
    if (shown == 0 && !a.json) {
        printf(n == 0 ? "(no runs)\n" : "(no run matches)\n");
    }
    free(ids);
    rvm_store_read_end(st);
    rvm_store_close(st);
    return rc;
}
