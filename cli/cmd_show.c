/* SPDX-License-Identifier: MIT */
/* rvmsim show: decoded records of a run, as a table or JSON lines. */
#include "cmd_common.h"
#include "commands.h"
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
            "                   [--actor P] [--json]\n\n"
            "Prints the records of run ID from SEQ (default 0), at most N of them (default all),\n"
            "optionally only those of one kind (a name such as CapGrant, or a number) and/or one\n"
            "actor partition, as an aligned table with named kinds, or as JSON lines (--json,\n"
            "the same objects `export --format jsonl` writes).\n");
}

struct show_args {
    const char *db;
    int64_t run_id;
    uint64_t from, count;
    struct rvm_store_filter filter;
    bool json;
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t actor;
    *a = (struct show_args){.count = UINT64_MAX};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:r:f:n:k:a:jh", longopts, NULL);
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
    return -1;
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
