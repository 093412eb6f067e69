/* SPDX-License-Identifier: MIT */
/*
 * rvmsim explore FILE [--depth K] [--max-states N] [--time-limit SECONDS] [--jobs J] [--seed N]
 *                     [-o OUT] [--json] [--progress|--no-progress]
 *
 * Bounded exhaustive exploration (sim/explore.h): every sequence of up to K operations of the
 * file's explore block, each state judged by every oracle, states deduplicated by digest. The
 * first failing sequence is written to OUT as a scenario that `rvmsim run` reproduces (checked
 * here before it is reported). Exit code: the failure's class, else 0.
 */
#include "commands.h"
#include "explore.h"
#include "json.h"
#include "options.h"
#include "simcli.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DEPTH      4u
#define DEFAULT_MAX_STATES 2000000u

static void explore_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim explore FILE [--depth K] [--max-states N] [--time-limit SECONDS]\n"
            "                      [--jobs J] [--seed N] [-o OUT] [--json] "
            "[--progress|--no-progress]\n\n"
            "Runs every sequence of up to K operations (default %u, at most %u) of FILE's\n"
            "explore block after FILE's own steps, breadth first, judging every state with every\n"
            "oracle and expanding each distinct state (by digest) once. Stops at depth K, when\n"
            "no new state appears, at N distinct states (default %u; 0: no limit), after\n"
            "SECONDS (0: none) or at the first failure, which is written to OUT (default\n"
            "explore-fail.scn) as a scenario `rvmsim run OUT` reproduces. J worker processes\n"
            "(default 1) split each level. Faults are off. --json prints the summary as one\n"
            "JSON object. Progress goes to stderr (a line in place on a terminal, every 10 s\n"
            "otherwise). Exit code: the failure's class (3 safety, ...), else 0.\n",
            DEFAULT_DEPTH, RVM_EXPLORE_MAX_DEPTH, DEFAULT_MAX_STATES);
}

struct explore_args {
    const char *path;
    const char *out_path;
    uint64_t depth, max_states, jobs, seed;
    double time_limit;
    bool has_seed, json;
    int progress; /* -1 auto, 0 off, 1 in place, 2 plain lines */
};

/* -1 to go on, else the exit code */
static int explore_parse_args(int argc, char **argv, struct explore_args *a)
{
    static const struct option longopts[] = {
        {"depth", required_argument, NULL, 'k'},
        {"max-states", required_argument, NULL, 'm'},
        {"time-limit", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'j'},
        {"seed", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'J'},
        {"progress", no_argument, NULL, 'p'},
        {"no-progress", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct explore_args){.out_path = "explore-fail.scn",
                               .depth = DEFAULT_DEPTH,
                               .max_states = DEFAULT_MAX_STATES,
                               .jobs = 1,
                               .progress = -1};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "k:m:t:j:s:o:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        uint64_t secs = 0;
        switch (c) {
        case 'k':
            if (!rvm_parse_u64(optarg, &a->depth) || a->depth == 0 ||
                a->depth > RVM_EXPLORE_MAX_DEPTH) {
                rvm_errorf("explore: --depth must be 1..%u, got '%s'", RVM_EXPLORE_MAX_DEPTH,
                           optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'm':
            if (!cli_option_u64("explore", "max-states", optarg, &a->max_states)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 't':
            if (!rvm_parse_u64(optarg, &secs) || secs > 86400u * 365u) {
                rvm_errorf("explore: --time-limit must be whole seconds, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            a->time_limit = (double)secs;
            break;
        case 'j':
            if (!rvm_parse_u64(optarg, &a->jobs) || a->jobs == 0 || a->jobs > 64) {
                rvm_errorf("explore: --jobs must be 1..64, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 's':
            if (!cli_option_u64("explore", "seed", optarg, &a->seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            a->has_seed = true;
            break;
        case 'o':
            a->out_path = optarg;
            break;
        case 'J':
            a->json = true;
            break;
        case 'p':
            a->progress = 1;
            break;
        case 'P':
            a->progress = 0;
            break;
        case 'h':
            return cli_option_usage(explore_usage, true);
        default:
            return cli_option_usage(explore_usage, false);
        }
    }
    if (optind + 1 != argc) {
        if (optind == argc) {
            rvm_errorf("explore: missing scenario FILE");
        } else {
            rvm_errorf("explore: unexpected argument '%s'", argv[optind + 1]);
        }
        explore_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    a->path = argv[optind];
    if (a->progress < 0) {
        a->progress = isatty(STDERR_FILENO) ? 1 : 2;
    }
    return -1;
}

struct explore_ui {
    int progress;
    bool json;
    uint64_t distinct_before; /* distinct states when the last level ended */
};

static void show_progress(void *ctx, const struct rvm_explore_stats *st)
{
    const struct explore_ui *ui = ctx;
    if (ui->progress == 0) {
        return;
    }
    fprintf(stderr,
            "%sexplore: depth %u, %" PRIu64 "/%" PRIu64 " states expanded, %" PRIu64
            " runs, %" PRIu64 " distinct, %.0f s%s",
            ui->progress == 1 ? "\r\033[K" : "", st->depth, st->expanded, st->frontier, st->runs,
            st->distinct, st->seconds, ui->progress == 1 ? "" : "\n");
    fflush(stderr);
}

static void show_level(void *ctx, const struct rvm_explore_stats *st)
{
    struct explore_ui *ui = ctx;
    if (ui->progress == 1) {
        fputs("\r\033[K", stderr);
    }
    if (!ui->json) {
        printf("depth %u: %" PRIu64 " runs from %" PRIu64 " states, %" PRIu64
               " new states (%" PRIu64 " distinct), %.1f s\n",
               st->depth_done, st->level_runs, st->frontier, st->distinct - ui->distinct_before,
               st->distinct, st->seconds);
        fflush(stdout);
    }
    ui->distinct_before = st->distinct;
}

/* Writes the failing sequence, reads it back and runs it as `rvmsim run` would (a fresh engine,
 * the scenario's seed or 1, its faults none); true when it fails the same way. */
static bool write_failure(struct rvm_sim *sim, const struct rvm_scenario *scn,
                          const struct explore_args *a, const struct rvm_explore_result *res,
                          const struct rvm_crypto *crypto, bool *reproduced)
{
    *reproduced = false;
    struct rvm_scenario lin;
    if (!rvm_sim_linearize(sim, scn, true, &lin)) {
        rvm_errorf("explore: out of memory recording the failing sequence");
        return false;
    }
    const struct rvm_sim_outcome *o = &res->outcome;
    char comment[1400], file[1024];
    rvm_shell_quote(file, sizeof(file), a->path);
    snprintf(comment, sizeof(comment),
             "Found by: rvmsim explore %s (sequence of %u explored operations)\n"
             "Result: %s [%s] (exit %d)\n"
             "Replays without a seed: every operation, time and CPU is explicit.\n"
             "expect-exit: %d",
             file, res->path_len, rvm_sim_class_name(o->cls), o->invariant, o->cls, o->cls);
    FILE *f = fopen(a->out_path, "w");
    bool ok = f != NULL && rvm_scenario_write(f, &lin, comment);
    ok = f != NULL && fclose(f) == 0 && ok;
    rvm_scenario_free(&lin);
    if (!ok) {
        rvm_errorf("explore: cannot write '%s': %s", a->out_path, strerror(errno));
        return false;
    }
    struct rvm_scenario check;
    struct rvm_scn_error perr;
    if (!rvm_scenario_load(a->out_path, &check, &perr)) {
        rvm_errorf("explore: internal error: %s:%u:%u: %s", a->out_path, perr.line, perr.col,
                   perr.msg);
        return false;
    }
    char err[256];
    struct rvm_sim *fresh = rvm_sim_new(&check, crypto, err, sizeof(err));
    if (fresh != NULL) {
        struct rvm_sim_options opt = {.seed = check.has_seed ? check.seed : 1,
                                      .faults = RVM_SIM_FAULTS_NONE};
        struct rvm_sim_outcome again;
        rvm_sim_run(fresh, &check, &opt, &again);
        *reproduced = again.cls == o->cls && strcmp(again.invariant, o->invariant) == 0;
        rvm_sim_free(fresh);
    }
    rvm_scenario_free(&check);
    return true;
}

static void print_summary(const struct explore_args *a, const struct rvm_explore_result *res,
                          bool wrote, bool reproduced)
{
    const struct rvm_explore_stats *st = &res->stats;
    const struct rvm_sim_outcome *o = &res->outcome;
    const bool failed = res->stop == RVM_EXPLORE_FAILED;
    if (a->json) {
        struct rvm_json j;
        rvm_json_init(&j, stdout);
        rvm_json_object_begin(&j);
        rvm_json_key_string(&j, "scenario", a->path);
        rvm_json_key_int(&j, "depth_limit", (int64_t)a->depth);
        rvm_json_key_int(&j, "jobs", (int64_t)a->jobs);
        rvm_json_key_string(&j, "stop", rvm_explore_stop_name(res->stop));
        rvm_json_key_int(&j, "depth_reached", st->depth_done);
        rvm_json_key_int(&j, "runs", (int64_t)st->runs);
        rvm_json_key_int(&j, "distinct_states", (int64_t)st->distinct);
        rvm_json_key_int(&j, "root_choices", (int64_t)st->root_choices);
        rvm_json_key_double(&j, "seconds", st->seconds);
        if (st->depth > st->depth_done) {
            rvm_json_key(&j, "partial_level");
            rvm_json_object_begin(&j);
            rvm_json_key_int(&j, "depth", st->depth);
            rvm_json_key_int(&j, "runs", (int64_t)st->level_runs);
            rvm_json_key_int(&j, "expanded", (int64_t)st->expanded);
            rvm_json_key_int(&j, "states", (int64_t)st->frontier);
            rvm_json_object_end(&j);
        }
        if (failed) {
            rvm_json_key(&j, "failure");
            rvm_json_object_begin(&j);
            rvm_json_key_string(&j, "class", rvm_sim_class_name(o->cls));
            rvm_json_key_int(&j, "exit", o->cls);
            rvm_json_key_string(&j, "invariant", o->invariant);
            rvm_json_key_string(&j, "detail", o->detail);
            rvm_json_key_int(&j, "operations", res->path_len);
            rvm_json_key_string(&j, "scenario", wrote ? a->out_path : "");
            rvm_json_key_bool(&j, "reproduced", reproduced);
            rvm_json_object_end(&j);
        }
        rvm_json_object_end(&j);
        rvm_json_newline(&j);
        return;
    }
    if (failed) {
        printf("FAIL after %u explored operations: %s [%s] %s\n", res->path_len,
               rvm_sim_class_name(o->cls), o->invariant, o->detail);
        if (wrote) {
            char outq[1024], prog[512];
            rvm_shell_quote(outq, sizeof(outq), a->out_path);
            rvm_shell_quote(prog, sizeof(prog), program_invocation_name);
            printf("wrote %s; reproduce with: %s run %s%s\n", a->out_path, prog, outq,
                   reproduced ? "" : "  (WARNING: that run did not fail the same way)");
        }
    }
    if (st->depth > st->depth_done && res->stop != RVM_EXPLORE_FAILED) {
        printf("depth %u (not complete): %" PRIu64 " runs from %" PRIu64 " of its %" PRIu64
               " states\n",
               st->depth, st->level_runs, st->expanded, st->frontier);
    }
    printf("states visited %" PRIu64 ", distinct states %" PRIu64 ", depth reached %u of %" PRIu64
           ", %.1f s, stopped: %s\n",
           st->runs + 1u, st->distinct, st->depth_done, a->depth, st->seconds,
           rvm_explore_stop_name(res->stop));
}

int rvmsim_cmd_explore(int argc, char **argv)
{
    struct explore_args a;
    int rc = explore_parse_args(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    struct rvm_scenario scn;
    rc = simcli_load(a.path, &scn);
    if (rc != 0) {
        return rc;
    }
    if (scn.explore.line == 0) {
        rvm_errorf("explore: %s has no explore block (docs/scenario-format.md)", a.path);
        rvm_scenario_free(&scn);
        return RVMSIM_EXIT_USAGE;
    }
    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = simcli_crypto(&crypto);
    struct rvm_sim *sim = NULL;
    struct rvm_explore_result res = {0};
    char err[256];
    rc = RVMSIM_EXIT_INTERNAL;
    if (oc == NULL) {
        goto out;
    }
    sim = rvm_sim_new(&scn, &crypto, err, sizeof(err));
    if (sim == NULL) {
        rvm_errorf("explore: %s: %s", a.path, err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    struct explore_ui ui = {.progress = a.progress, .json = a.json, .distinct_before = 1};
    const struct rvm_explore_config cfg = {
        .depth = (uint32_t)a.depth,
        .max_states = a.max_states,
        .time_limit = a.time_limit,
        .jobs = (uint32_t)a.jobs,
        .seed = a.has_seed     ? a.seed
                : scn.has_seed ? scn.seed
                               : 1,
        .progress = show_progress,
        .progress_ctx = &ui,
        .progress_every = a.progress == 1 ? 1.0 : 10.0,
        .level_done = show_level,
    };
    rvm_explore(sim, &scn, &cfg, &res);
    if (a.progress == 1) {
        fputs("\r\033[K", stderr);
    }
    bool wrote = false, reproduced = false;
    if (res.stop == RVM_EXPLORE_FAILED) {
        wrote = write_failure(sim, &scn, &a, &res, &crypto, &reproduced);
    }
    print_summary(&a, &res, wrote, reproduced);
    if (res.stop == RVM_EXPLORE_ERROR) {
        rvm_errorf("explore: %s", res.error);
        rc = RVMSIM_EXIT_INTERNAL;
    } else if (res.stop == RVM_EXPLORE_FAILED) {
        rc = res.outcome.cls != RVMSIM_EXIT_PASS ? res.outcome.cls : RVMSIM_EXIT_INTERNAL;
    } else {
        rc = RVMSIM_EXIT_PASS;
    }

out:
    rvm_explore_result_free(&res);
    rvm_sim_free(sim);
    rvm_openssl_crypto_free(oc);
    rvm_scenario_free(&scn);
    return rc;
}
