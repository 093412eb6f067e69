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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void merge_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim merge --db OUT [--json] IN...\n\n"
            "Adds every run of each store IN to the store OUT (created if needed), one\n"
            "transaction per input: an input is merged completely or not at all. Runs get new\n"
            "ids; a run already in OUT with the same source, scenario, options and seed and the\n"
            "same result and digest is skipped (a full log replaces a summary of it), one with a\n"
            "different result or digest is a conflict that refuses the input. Each copied run is\n"
            "checked: summaries are read back, full runs must reproduce their recorded digest\n"
            "and verify in OUT exactly as in IN. Runs still being written in IN are left out.\n"
            "Exit 0 when every input merged completely, 1 for a conflict, a run that did not\n"
            "copy faithfully or incomplete runs left out, 2 for an unusable input or output.\n"
            "--json: one JSON object with every input's figures (docs/json.md).\n");
}

/* A line of the text report (none with --json). */
static void merge_report(bool json, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void merge_report(bool json, const char *fmt, ...)
{
    if (json) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

static const char *merge_status_word(enum rvm_merge_status ms)
{
    switch (ms) {
    case RVM_MERGE_OK:
        return "merged";
    case RVM_MERGE_FAILED:
        return "failed";
    case RVM_MERGE_BAD_INPUT:
        return "bad_input";
    default:
        return "error";
    }
}

/* One input's entry of `merge --json`'s "inputs" array. */
static void merge_input_json(struct rvm_json *j, const char *path, enum rvm_merge_status ms,
                             const struct rvm_merge_stats *st, const char *msg)
{
    rvm_json_object_begin(j);
    rvm_json_key_string(j, "path", path);
    rvm_json_key_string(j, "status", merge_status_word(ms));
    rvm_json_key_string(j, "message", ms == RVM_MERGE_OK ? NULL : msg);
    const struct rvm_merge_stats zero = {0};
    const struct rvm_merge_stats *s = ms == RVM_MERGE_OK ? st : &zero;
    rvm_json_key_int(j, "runs", (int64_t)s->runs);
    rvm_json_key_int(j, "full", (int64_t)s->full);
    rvm_json_key_int(j, "summary", (int64_t)s->summary);
    rvm_json_key_int(j, "records", (int64_t)s->records);
    rvm_json_key_int(j, "duplicates", (int64_t)s->duplicates);
    rvm_json_key_int(j, "superseded", (int64_t)s->superseded);
    rvm_json_key_int(j, "incomplete", (int64_t)s->incomplete);
    rvm_json_key_int(j, "verified", (int64_t)s->verified);
    rvm_json_object_end(j);
}

int rvmsim_cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool json = false;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:jh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'j':
            json = true;
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
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    if (json) {
        rvm_json_object_begin(&j);
        rvm_json_key_string(&j, "out", db);
        rvm_json_key(&j, "inputs");
        rvm_json_array_begin(&j);
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
            merge_report(json,
                         "%s: merged %" PRIu64 " of %" PRIu64 " runs (%" PRIu64
                         " full with %" PRIu64 " records: %" PRIu64 " verify, %" PRIu64
                         " fail verification in both stores alike; %" PRIu64 " summaries); %" PRIu64
                         " already present%s",
                         argv[i], st.full + st.summary, st.runs, st.full, st.records, st.verified,
                         st.full - st.verified, st.summary, st.duplicates,
                         st.superseded != 0 ? "" : "\n");
            if (st.superseded != 0) {
                merge_report(json, ", %" PRIu64 " summaries replaced by full runs\n",
                             st.superseded);
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
        if (json) {
            merge_input_json(&j, argv[i], ms, &st, msg);
        }
        /* the most telling failure wins: internal > usage > a difference */
        if (code == RVMSIM_EXIT_INTERNAL ||
            (code == RVMSIM_EXIT_USAGE && worst != RVMSIM_EXIT_INTERNAL) ||
            (code == RVMSIM_EXIT_EXPECTATION && worst == RVMSIM_EXIT_PASS)) {
            worst = code;
        }
    }
    if (json) {
        rvm_json_array_end(&j);
        rvm_json_key_int(&j, "merged_inputs", merged_inputs);
        rvm_json_key_int(&j, "added", (int64_t)added);
        rvm_json_key_int(&j, "exit_code", worst);
        rvm_json_object_end(&j);
        rvm_json_newline(&j);
    } else {
        printf("merged %d of %d inputs into %s: %" PRIu64 " runs added\n", merged_inputs,
               argc - optind, db, added);
    }

    rvm_store_close(out);
    return worst;
}
