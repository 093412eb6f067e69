/* SPDX-License-Identifier: MIT */
/* rvmsim runs: list the runs of a store. */
#include "cmd_common.h"
#include "commands.h"
#include "options.h"
#include "util.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void runs_usage(FILE *out)
{
    fprintf(out, "usage: rvmsim runs --db PATH [--json]\n\n"
                 "Lists the runs stored in PATH: id, status, content (full, or summary: records\n"
                 "not stored), source, platform, result, seed, records, checkpoints and digest.\n"
                 "--json prints one JSON object per run.\n");
}

static void json_str(FILE *out, const char *key, const char *value)
{
    fprintf(out, ",\"%s\":", key);
    if (value == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

int rvmsim_cmd_runs(int argc, char **argv)
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
            return cli_option_usage(runs_usage, true);
        default:
            return cli_option_usage(runs_usage, false);
        }
    }
    if (db == NULL || optind != argc) {
        rvm_errorf("runs: %s", db == NULL ? "--db PATH is required" : "unexpected argument");
        runs_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    int rc;
    struct rvm_store *st = rvm_cmd_open_store("runs", db, RVM_STORE_READ, &rc);
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
    if (!json) {
        printf("%6s %-9s %-8s %-14s %-14s %-14s %20s %10s %6s  %-64s  %s\n", "run", "status",
               "content", "source", "platform", "result", "seed", "records", "ckpts", "digest",
               "created");
    }
    rc = RVMSIM_EXIT_PASS;
    for (size_t i = 0; i < n; i++) {
        struct rvm_store_run run;
        int r = rvm_cmd_get_run("runs", st, ids[i], &run);
        if (r != RVMSIM_EXIT_PASS) {
            rc = r;
            continue;
        }
        char digest[65] = "-", seed[24] = "-";
        if (run.has_digest) {
            rvm_hex(run.digest, sizeof(run.digest), digest);
        }
        if (run.has_seed) {
            snprintf(seed, sizeof(seed), "%" PRIu64, run.seed);
        }
        if (json) {
            printf("{\"run\":%lld", (long long)run.id);
            json_str(stdout, "status", run.status);
            json_str(stdout, "content", run.content);
            json_str(stdout, "source", run.source);
            json_str(stdout, "platform", run.platform);
            json_str(stdout, "result", run.result);
            if (run.has_exit_code) {
                printf(",\"exit_code\":%d", run.exit_code);
            }
            if (run.has_seed) {
                printf(",\"seed\":%" PRIu64, run.seed);
            } else {
                printf(",\"seed\":null");
            }
            printf(",\"records\":%" PRIu64 ",\"checkpoints\":%" PRIu64, run.record_count,
                   run.checkpoint_count);
            json_str(stdout, "digest", run.has_digest ? digest : NULL);
            json_str(stdout, "key_source", run.key_source);
            json_str(stdout, "build_id", run.build_id);
            json_str(stdout, "core_version", run.core_version);
            json_str(stdout, "options", run.options);
            json_str(stdout, "target", run.target);
            json_str(stdout, "outcome", run.outcome);
            json_str(stdout, "command", run.command);
            json_str(stdout, "created_at", run.created_at);
            printf("}\n");
        } else {
            printf("%6lld %-9s %-8s %-14s %-14s %-14s %20s %10" PRIu64 " %6" PRIu64 "  %-64s  %s\n",
                   (long long)run.id, run.status, run.content, run.source,
                   run.platform != NULL ? run.platform : "-", run.result != NULL ? run.result : "-",
                   seed, run.record_count, run.checkpoint_count, digest,
                   run.created_at != NULL ? run.created_at : "-");
        }
        rvm_store_run_free(&run);
    }
    if (n == 0 && !json) {
        printf("(no runs)\n");
    }
    free(ids);
    rvm_store_read_end(st);
    rvm_store_close(st);
    return rc;
}
