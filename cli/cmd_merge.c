/* SPDX-License-Identifier: MIT */
/*
 * rvmsim merge --db OUT IN...: merge the stores of a sharded sweep (or any stores) into OUT,
 * one transaction per input, checking every run it copies (replay/merge.h).
 */
#include "cmd_common.h"
#include "commands.h"
#include "merge.h"
#include "options.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void merge_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim merge --db OUT IN...\n\n"
            "Adds every run of each store IN to the store OUT (created if needed), one\n"
            "transaction per input: an input is merged completely or not at all. Runs get new\n"
            "ids; a run already in OUT with the same source, scenario, options and seed and the\n"
            "same result and digest is skipped (a full log replaces a summary of it), one with a\n"
            "different result or digest is a conflict that refuses the input. Each copied run is\n"
            "checked: summaries are read back, full runs must reproduce their recorded digest\n"
            "and verify in OUT exactly as in IN. Runs still being written in IN are left out.\n"
            "Exit 0 when every input merged completely, 1 for a conflict, a run that did not\n"
            "copy faithfully or incomplete runs left out, 2 for an unusable input or output.\n");
}

int rvmsim_cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'h':
            return cli_option_usage(merge_usage, true);
        default:
            return cli_option_usage(merge_usage, false);
        }
    }
    if (db == NULL || optind == argc) {
        rvm_errorf("merge: %s", db == NULL ? "--db OUT is required" : "no input store given");
        merge_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    int rc;
    struct rvm_store *out = rvm_cmd_open_store("merge", db, RVM_STORE_WRITE, &rc);
    if (out == NULL) {
        return rc;
    }
    int worst = RVMSIM_EXIT_PASS;
    uint64_t added = 0;
    int merged_inputs = 0;
    for (int i = optind; i < argc; i++) {
        struct rvm_merge_stats st;
        char msg[900];
        enum rvm_merge_status ms = rvm_merge_store(out, argv[i], &st, msg, sizeof(msg));
        int code = RVMSIM_EXIT_PASS;
        switch (ms) {
        case RVM_MERGE_OK:
            merged_inputs++;
            added += st.full + st.summary;
            printf("%s: merged %" PRIu64 " of %" PRIu64 " runs (%" PRIu64 " full with %" PRIu64
                   " records: %" PRIu64 " verify, %" PRIu64
                   " fail verification in both stores alike; %" PRIu64 " summaries); %" PRIu64
                   " already present%s",
                   argv[i], st.full + st.summary, st.runs, st.full, st.records, st.verified,
                   st.full - st.verified, st.summary, st.duplicates,
                   st.superseded != 0 ? "" : "\n");
            if (st.superseded != 0) {
                printf(", %" PRIu64 " summaries replaced by full runs\n", st.superseded);
            }
            if (st.incomplete != 0) {
                rvm_errorf("merge: %s: %" PRIu64 " incomplete run%s (status running: a writer "
                           "did not finish; `rvmsim store repair` marks them aborted) left out",
                           argv[i], st.incomplete, st.incomplete == 1 ? "" : "s");
                code = RVMSIM_EXIT_EXPECTATION;
            }
            if (st.aborted != 0) {
                rvm_errorf("merge: note: %s: %" PRIu64 " aborted run%s left out", argv[i],
                           st.aborted, st.aborted == 1 ? "" : "s");
            }
            break;
        case RVM_MERGE_FAILED:
            rvm_errorf("merge: %s: not merged (nothing of it was added): %s", argv[i], msg);
            code = RVMSIM_EXIT_EXPECTATION;
            break;
        case RVM_MERGE_BAD_INPUT:
            rvm_errorf("merge: %s: not merged: %s", argv[i], msg);
            code = RVMSIM_EXIT_USAGE;
            break;
        default:
            rvm_errorf("merge: %s: not merged: %s", argv[i], msg);
            code = RVMSIM_EXIT_INTERNAL;
            break;
        }
        /* the most telling failure wins: internal > usage > a difference */
        if (code == RVMSIM_EXIT_INTERNAL ||
            (code == RVMSIM_EXIT_USAGE && worst != RVMSIM_EXIT_INTERNAL) ||
            (code == RVMSIM_EXIT_EXPECTATION && worst == RVMSIM_EXIT_PASS)) {
            worst = code;
        }
    }
    printf("merged %d of %d inputs into %s: %" PRIu64 " runs added\n", merged_inputs, argc - optind,
           db, added);
    rvm_store_close(out);
    return worst;
}
