/* SPDX-License-Identifier: MIT */
/* rvmsim show: decoded records of a run, as a table or JSON lines. */
#include "cmd_common.h"
#include "commands.h"
#include "json_out.h"
#include "options.h"
#include "util.h"

#include "rvm/bytes.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void show_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim show --db PATH --run ID [--from SEQ] [--count N] [--kind NAME]\n"
            "                   [--actor P] [--json]\n"
            "       rvmsim show --db PATH --run ID --faults|--failures [--json]\n\n"
            "Prints the records of run ID from SEQ (default 0), at most N of them (default all),\n"
            "optionally only those of one kind (a name such as CapGrant, or a number) and/or one\n"
            "actor partition, as an aligned table with named kinds, or as JSON lines (--json,\n"
            "the same objects `export --format jsonl` writes).\n"
            "--faults lists the faults that fired in the run (position, time, site, detail);\n"
            "--failures lists its invariant failures (position, time, oracle, message). Both\n"
            "work on summary-only runs too. The record table ends with how many there are.\n");
}

struct show_args {
    const char *db;
    int64_t run_id;
    uint64_t from, count;
    struct rvm_store_filter filter;
    bool json;
    bool faults, failures;
};

/* Parses the command line into *a; -1 when the command goes on, else the exit code. */
static int show_parse_args(int argc, char **argv, struct show_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"run", required_argument, NULL, 'r'},
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"kind", required_argument, NULL, 'k'},
        {"actor", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"faults", no_argument, NULL, 'F'},
        {"failures", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t actor;
    *a = (struct show_args){.count = UINT64_MAX};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:r:f:n:k:a:jFIh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'r':
            if (!rvm_cmd_parse_run("show", optarg, &a->run_id)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'f':
            if (!rvm_parse_u64(optarg, &a->from)) {
                rvm_errorf("show: --from must be a sequence number, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'n':
            if (!rvm_parse_u64(optarg, &a->count)) {
                rvm_errorf("show: --count must be a number, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'k':
            if (!rvm_cmd_parse_kind(optarg, &a->filter.kind)) {
                rvm_errorf("show: --kind '%s' is not an action kind name or code 0..255 (names: "
                           "core/include/rvm/action.h)",
                           optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->filter.by_kind = true;
            break;
        case 'a':
            if (!rvm_parse_u64(optarg, &actor) || actor > UINT32_MAX) {
                rvm_errorf("show: --actor must be a partition id 0..%u, got '%s'", UINT32_MAX,
                           optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->filter.by_actor = true;
            a->filter.actor = (uint32_t)actor;
            break;
        case 'j':
            a->json = true;
            break;
        case 'F':
            a->faults = true;
            break;
        case 'I':
            a->failures = true;
            break;
        case 'h':
            return cli_option_usage(show_usage, true);
        default:
            return cli_option_usage(show_usage, false);
        }
    }
    if (a->db == NULL || a->run_id == 0 || optind != argc) {
        rvm_errorf("show: %s", a->db == NULL    ? "--db PATH is required"
                               : a->run_id == 0 ? "--run ID is required"
                                                : "unexpected argument");
        show_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    if (a->faults && a->failures) {
        rvm_errorf("show: --faults and --failures exclude each other");
        return RVMSIM_EXIT_USAGE;
    }
    return -1;
}

/* The rows of the run's `faults` or `invariant_failures` table; *n of them. */
static int read_events(struct rvm_store *st, int64_t run_id, enum rvm_store_event_table table,
                       struct rvm_store_event **ev, size_t *n)
{
    enum rvm_store_status s = rvm_store_events(st, run_id, table, ev, n);
    if (s != RVM_STORE_OK) {
        rvm_errorf("show: %s", rvm_store_error(st));
        return rvm_cmd_exit_for(s);
    }
    return RVMSIM_EXIT_PASS;
}

/* show --faults / --failures: a table, or JSON lines (docs/json.md "show --faults"). */
static int show_events(const struct show_args *a)
{
    const enum rvm_store_event_table table = a->faults ? RVM_STORE_FAULTS : RVM_STORE_INVARIANTS;
    int rc;
    struct rvm_store *st = rvm_cmd_open_store("show", a->db, RVM_STORE_READ, &rc);
    if (st == NULL) {
        return rc;
    }
    struct rvm_store_run run = {0};
    struct rvm_store_event *ev = NULL;
    size_t n = 0;
    enum rvm_store_status s = rvm_store_read_begin(st);
    if (s != RVM_STORE_OK) {
        rvm_errorf("show: %s", rvm_store_error(st));
        rvm_store_close(st);
        return rvm_cmd_exit_for(s);
    }
    rc = rvm_cmd_get_run("show", st, a->run_id, &run);
    if (rc == RVMSIM_EXIT_PASS) {
        rc = read_events(st, a->run_id, table, &ev, &n);
    }
    const char *name_key = a->faults ? "site" : "oracle";
    const char *text_key = a->faults ? "detail" : "message";
    if (rc == RVMSIM_EXIT_PASS && !a->json) {
        printf("%10s %14s  %-24s %s\n", "seq", "time_ns", name_key, text_key);
    }
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    for (size_t i = 0; i < n; i++) {
        if (a->json) {
            rvm_json_object_begin(&j);
            rvm_json_key_int(&j, "run", a->run_id);
            rvm_json_key_int(&j, "seq", (int64_t)ev[i].seq);
            rvm_json_key_u64(&j, "time_ns", ev[i].time_ns);
            rvm_json_key_string(&j, name_key, ev[i].name);
            if (a->faults) {
                cli_json_pairs(&j, text_key, ev[i].text); /* "step=65 part=33" as an object */
            } else {
                rvm_json_key_string(&j, text_key, ev[i].text);
            }
            rvm_json_object_end(&j);
            rvm_json_newline(&j);
        } else {
            printf("%10" PRIu64 " %14" PRIu64 "  %-24s %s\n", ev[i].seq, ev[i].time_ns, ev[i].name,
                   ev[i].text != NULL ? ev[i].text : "-");
        }
    }
    if (rc == RVMSIM_EXIT_PASS && n == 0 && !a->json) {
        printf(a->faults ? "(no fault fired in run %lld)\n" : "(no invariant failed in run %lld)\n",
               (long long)a->run_id);
    }
    rvm_store_events_free(ev, n);
    rvm_store_run_free(&run);
    rvm_store_read_end(st);
    rvm_store_close(st);
    return rc;
}

/* The line under the record table that says what else the run holds. */
static void print_event_counts(struct rvm_store *st, int64_t run_id)
{
    struct rvm_store_event *ev = NULL;
    size_t faults = 0, failures = 0;
    if (read_events(st, run_id, RVM_STORE_FAULTS, &ev, &faults) != RVMSIM_EXIT_PASS) {
        return;
    }
    rvm_store_events_free(ev, faults);
    if (read_events(st, run_id, RVM_STORE_INVARIANTS, &ev, &failures) != RVMSIM_EXIT_PASS) {
        return;
    }
    rvm_store_events_free(ev, failures);
    if (faults != 0 || failures != 0) {
        printf("(run %lld also holds %zu fired fault%s and %zu invariant failure%s: show "
               "--faults, --failures)\n",
               (long long)run_id, faults, faults == 1 ? "" : "s", failures,
               failures == 1 ? "" : "s");
    }
}

int rvmsim_cmd_show(int argc, char **argv)
{
    struct show_args args;
    int rc = show_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    const char *db = args.db;
    const int64_t run_id = args.run_id;
    const uint64_t count = args.count;
    const bool json = args.json;
    if (args.faults || args.failures) {
        return show_events(&args);
    }
    struct rvm_store_run run;
    struct rvm_store *st = rvm_cmd_open_run("show", db, run_id, &run, &rc);
    if (st == NULL) {
        return rc;
    }
    struct rvm_store_cursor *cur = NULL;
    enum rvm_store_status s =
        rvm_store_cursor_open(st, run_id, args.from, UINT64_MAX, &args.filter, &cur);
    if (s != RVM_STORE_OK) {
        rvm_errorf("show: %s", rvm_store_error(st));
        rc = rvm_cmd_exit_for(s);
        goto out;
    }
    if (!json) {
        rvm_cmd_table_header(stdout, "");
    }
    struct rvm_store_row row;
    uint64_t shown = 0, damaged = 0;
    while (shown < count && (s = rvm_store_cursor_next(cur, &row)) == RVM_STORE_OK) {
        /* The filter ran on the decoded columns, which the writer derives from the image: if they
         * disagree, the store was altered after the fact, and what would be printed is not what
         * was selected. */
        if (row.kind != row.image[RVM_WOFF_KIND] ||
            row.actor != rvm_load_le32(row.image + RVM_WOFF_ACTOR)) {
            fflush(stdout);
            rvm_errorf("show: run %lld record %" PRIu64
                       ": the stored columns disagree with the record image; run `rvmsim verify`",
                       (long long)run_id, row.seq);
            rc = RVMSIM_EXIT_EXPECTATION;
            goto out;
        }
        if (json) {
            rvm_cmd_record_json(stdout, run_id, row.image, row.chain);
            putchar('\n');
        } else {
            rvm_cmd_table_row(stdout, "", row.image);
        }
        /* A record damaged before it was stored (a failing run keeps what its sink received) is
         * shown as it is, with its position named: the image's own sequence field may be the
         * damaged part. */
        const uint64_t own = rvm_load_le64(row.image + RVM_WOFF_SEQUENCE);
        if (own != row.seq) {
            fflush(stdout);
            fprintf(stderr,
                    "rvmsim: show: run %lld: the record stored at seq %" PRIu64
                    " says it is seq %" PRIu64 " (damaged); `rvmsim verify` names the first "
                    "bad record\n",
                    (long long)run_id, row.seq, own);
            damaged++;
        }
        shown++;
    }
    if (damaged != 0) {
        rc = RVMSIM_EXIT_EXPECTATION;
    }
    if (s != RVM_STORE_OK && s != RVM_STORE_NOT_FOUND) {
        fflush(stdout);
        rvm_errorf("show: %s", rvm_store_error(st));
        rc = rvm_cmd_exit_for(s);
        goto out;
    }
    if (!json && shown == 0) {
        printf("(no records match)\n");
    }
    if (!json && args.from == 0 && count == UINT64_MAX && !args.filter.by_kind &&
        !args.filter.by_actor) {
        print_event_counts(st, run_id);
    }
out:
    rvm_store_cursor_close(cur);
    rvm_store_run_free(&run);
    rvm_store_read_end(st);
    rvm_store_close(st);
    if (fflush(stdout) != 0 && rc == RVMSIM_EXIT_PASS) {
        rc = RVMSIM_EXIT_INTERNAL;
    }
    return rc;
}
