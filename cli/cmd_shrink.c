/* SPDX-License-Identifier: MIT */
/*
 * rvmsim shrink FILE --seed N -o OUT [--faults MODE] [--max-runs R]
 *
 * Reduces a failing run to a minimal scenario that fails with the same class and invariant:
 *
 *  1. Run FILE with the seed, recording every step as it executed (rvm_sim_linearize): each
 *     operation with its time, CPU and concrete arguments (objects by name), each fault that
 *     fired as a `fault` line where it fired, expectations where they were, and `faults none`.
 *     Steps after the failing one are dropped. This scenario needs no seed; it is run once to
 *     prove it fails the same way.
 *  2. Delta debugging (Zeller's ddmin) over its steps, operations and faults alike: try subsets
 *     and complements of ever finer partitions, keep any candidate that still fails with the same
 *     class and invariant. A candidate drops the operations whose objects' creators were
 *     removed, and expectations about a previous operation that no longer exists.
 *  3. Simplify what is left: optional arguments back to their defaults, one at a time.
 *  4. Write OUT, parse it back and run it with a different seed: it must fail the same way.
 */
#include "commands.h"
#include "engine.h"
#include "options.h"
#include "simcli.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct shrinker {
    const struct rvm_scenario *lin; /* the linearised run: the universe of steps */
    struct rvm_sim *sim;
    uint64_t seed;
    int cls;
    char invariant[64];
    uint64_t runs, max_runs;
    bool *keep;  /* scratch: lin->nsteps */
    bool *avail; /* scratch: lin->nnames */
};

/* Build the scenario made of the steps `units[0..n)` (indices into lin->steps, ascending). */
static bool build(struct shrinker *sh, const uint32_t *units, uint32_t n, struct rvm_scenario *out)
{
    const struct rvm_scenario *L = sh->lin;
    if (!rvm_scenario_init_from(out, L, L->path)) {
        return false;
    }
    out->has_faults = true;
    out->faults = RVM_SIM_FAULTS_NONE;
    for (uint32_t i = 0; i < L->nnames; i++) {
        if (rvm_scenario_add_name(out, L->names[i].text, L->names[i].cls) < 0) {
            rvm_scenario_free(out);
            return false;
        }
        sh->avail[i] = false;
    }
    memset(sh->keep, 0, L->nsteps * sizeof(bool));
    for (uint32_t i = 0; i < n; i++) {
        sh->keep[units[i]] = true;
    }
    bool have_op = false;
    for (uint32_t i = 0; i < L->nsteps; i++) {
        const struct scn_step *st = &L->steps[i];
        if (!sh->keep[i]) {
            continue;
        }
        if (st->kind == SCN_OP) {
            bool ok = true;
            for (uint32_t a = 0; a < RVM_SIM_MAX_ARGS; a++) {
                if (st->args[a].kind == SCN_V_NAME && !sh->avail[st->args[a].name]) {
                    ok = false; /* its object's creator is gone */
                }
            }
            if (!ok) {
                continue;
            }
            if (st->bind >= 0) {
                sh->avail[st->bind] = true;
            }
            have_op = true;
        } else if (st->kind == SCN_EXPECT && st->expect != SCN_EXPECT_QUERY && !have_op) {
            continue;
        }
        if (!rvm_scenario_add_step(out, st)) {
            rvm_scenario_free(out);
            return false;
        }
    }
    return true;
}

static bool fails_same(struct shrinker *sh, const struct rvm_scenario *c, uint64_t seed)
{
    struct rvm_sim_options opt = {.seed = seed, .faults = RVM_SIM_FAULTS_NONE};
    struct rvm_sim_outcome o;
    sh->runs++;
    rvm_sim_run(sh->sim, c, &opt, &o);
    return o.cls == sh->cls && strcmp(o.invariant, sh->invariant) == 0;
}

static bool test_units(struct shrinker *sh, const uint32_t *units, uint32_t n)
{
    if (sh->runs >= sh->max_runs) {
        return false;
    }
    struct rvm_scenario c;
    if (!build(sh, units, n, &c)) {
        return false;
    }
    bool r = fails_same(sh, &c, sh->seed);
    rvm_scenario_free(&c);
    return r;
}

/* ddmin: on return units[0..*n) is 1-minimal (or the run budget is spent). */
static void ddmin(struct shrinker *sh, uint32_t *units, uint32_t *n)
{
    uint32_t *cand = malloc(sizeof(uint32_t) * (*n + 1));
    if (cand == NULL) {
        return;
    }
    uint32_t gran = 2;
    while (*n >= 2 && sh->runs < sh->max_runs) {
        if (gran > *n) {
            gran = *n;
        }
        uint32_t chunk = (*n + gran - 1) / gran;
        bool reduced = false;
        /* subsets */
        for (uint32_t start = 0; start < *n && !reduced; start += chunk) {
            uint32_t len = start + chunk > *n ? *n - start : chunk;
            if (len == *n) {
                continue;
            }
            if (test_units(sh, units + start, len)) {
                memmove(units, units + start, len * sizeof(uint32_t));
                *n = len;
                gran = 2;
                reduced = true;
            }
        }
        /* complements */
        for (uint32_t start = 0; start < *n && !reduced && gran > 2; start += chunk) {
            uint32_t len = start + chunk > *n ? *n - start : chunk;
            uint32_t m = 0;
            for (uint32_t i = 0; i < *n; i++) {
                if (i < start || i >= start + len) {
                    cand[m++] = units[i];
                }
            }
            if (test_units(sh, cand, m)) {
                memcpy(units, cand, m * sizeof(uint32_t));
                *n = m;
                gran = gran > 3 ? gran - 1 : 2;
                reduced = true;
            }
        }
        if (!reduced) {
            if (gran >= *n) {
                break;
            }
            gran = gran * 2 > *n ? *n : gran * 2;
        }
    }
    free(cand);
}

static void shrink_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim shrink FILE --seed N -o OUT [--faults none|default|swarm] "
            "[--max-runs R]\n"
            "                     [--no-reduce]\n\n"
            "Reduces the failing run of FILE with seed N to a minimal scenario OUT that fails\n"
            "with the same class and invariant and replays without a seed (every operation,\n"
            "time, CPU and fault is written out). --max-runs bounds the work (default 20000).\n"
            "--no-reduce writes the recorded run as it is (passing runs too): the seeded run as\n"
            "an explicit script that replays it exactly, same digest.\n");
}

struct shrink_args {
    const char *path;
    const char *out_path;
    uint64_t seed, max_runs;
    bool has_faults, no_reduce;
    enum rvm_sim_fault_mode mode;
};

/* Parses the command line into *a; -1 when the command goes on, else the exit code. */
static int shrink_parse_args(int argc, char **argv, struct shrink_args *a)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"faults", required_argument, NULL, 'f'},
        {"max-runs", required_argument, NULL, 'm'},
        {"no-reduce", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool has_seed = false;
    *a = (struct shrink_args){.max_runs = 20000, .mode = RVM_SIM_FAULTS_DEFAULT};

    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "s:o:f:m:rh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 's':
            if (!cli_option_u64("shrink", "seed", optarg, &a->seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            has_seed = true;
            break;
        case 'o':
            a->out_path = optarg;
            break;
        case 'f':
            if (!cli_option_faults("shrink", optarg, &a->mode)) {
                return RVMSIM_EXIT_USAGE;
            }
            a->has_faults = true;
            break;
        case 'm':
            if (!rvm_parse_u64(optarg, &a->max_runs) || a->max_runs == 0) {
                rvm_errorf("shrink: --max-runs must be at least 1, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'r':
            a->no_reduce = true;
            break;
        case 'h':
            return cli_option_usage(shrink_usage, true);
        default:
            return cli_option_usage(shrink_usage, false);
        }
    }
    if (optind + 1 != argc || a->out_path == NULL || !has_seed) {
        rvm_errorf(optind == argc        ? "shrink: missing scenario FILE"
                   : optind + 1 != argc  ? "shrink: unexpected argument after FILE"
                   : a->out_path == NULL ? "shrink: -o OUT is required"
                                         : "shrink: --seed N is required");
        shrink_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    a->path = argv[optind];
    return -1;
}

/* Step 3: optional arguments back to their defaults, one at a time, while the failure stays. */
static void simplify_defaults(struct shrinker *sh, struct rvm_scenario *best)
{
    for (uint32_t i = 0; i < best->nsteps && sh->runs < sh->max_runs; i++) {
        struct scn_step *st = &best->steps[i];
        const struct rvm_sim_arg_spec *specs = NULL;
        uint32_t nargs = 0;
        if (st->kind == SCN_OP) {
            specs = best->target->ops[st->index].args;
            nargs = best->target->ops[st->index].nargs;
        }
        for (uint32_t a = 0; a < nargs && sh->runs < sh->max_runs; a++) {
            if (st->args[a].kind == SCN_V_DEFAULT || !specs[a].optional) {
                continue;
            }
            struct scn_value saved = st->args[a];
            st->args[a] = (struct scn_value){.kind = SCN_V_DEFAULT};
            if (!fails_same(sh, best, sh->seed)) {
                st->args[a] = saved;
            }
        }
    }
}

/* Step 4: writes OUT, reads it back and replays it with another seed; the exit code. */
static int write_and_check(struct shrinker *sh, const struct shrink_args *a,
                           const struct rvm_scenario *best, struct rvm_scenario *check)
{
    char comment[1400], file[1024];
    rvm_shell_quote(file, sizeof(file), a->path);
    snprintf(comment, sizeof(comment),
             "%s by: rvmsim shrink %s --seed %" PRIu64 " --faults %s%s\n"
             "Result: %s%s%s%s (exit %d)\n"
             "Replays without a seed: every operation, time, CPU and fault is explicit.\n"
             "expect-exit: %d",
             a->no_reduce ? "Recorded" : "Shrunk", file, a->seed, rvm_sim_fault_mode_name(a->mode),
             a->no_reduce ? " --no-reduce" : "", rvm_sim_class_name(sh->cls),
             sh->invariant[0] ? " [" : "", sh->invariant, sh->invariant[0] ? "]" : "", sh->cls,
             sh->cls);
    FILE *f = fopen(a->out_path, "w");
    if (f == NULL) {
        rvm_errorf("shrink: cannot write '%s': %m", a->out_path);
        return RVMSIM_EXIT_USAGE;
    }
    bool written = rvm_scenario_write(f, best, comment);
    if (fclose(f) != 0 || !written) {
        rvm_errorf("shrink: cannot write '%s'", a->out_path);
        return RVMSIM_EXIT_USAGE;
    }
    struct rvm_scn_error perr;
    if (!rvm_scenario_load(a->out_path, check, &perr)) {
        rvm_errorf("shrink: internal error: %s:%u:%u: %s", a->out_path, perr.line, perr.col,
                   perr.msg);
        return RVMSIM_EXIT_INTERNAL;
    }
    if (!fails_same(sh, check, a->seed + 1)) {
        rvm_errorf("shrink: internal error: %s does not reproduce the failure", a->out_path);
        return RVMSIM_EXIT_INTERNAL;
    }
    return RVMSIM_EXIT_PASS;
}

int rvmsim_cmd_shrink(int argc, char **argv)
{
    struct shrink_args args;
    int rc = shrink_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    const char *path = args.path;
    const uint64_t seed = args.seed;
    const bool no_reduce = args.no_reduce;
    struct rvm_scenario scn, lin = {0}, best = {0}, check = {0};
    rc = simcli_load(path, &scn);
    if (rc != 0) {
        return rc;
    }
    if (!args.has_faults) {
        args.mode = scn.has_faults ? scn.faults : RVM_SIM_FAULTS_DEFAULT;
    }
    const enum rvm_sim_fault_mode mode = args.mode;

    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = simcli_crypto(&crypto);
    struct shrinker sh = {.seed = seed, .max_runs = args.max_runs};
    uint32_t *units = NULL;
    char err[256];
    rc = RVMSIM_EXIT_INTERNAL;
    if (oc == NULL) {
        goto out;
    }
    sh.sim = rvm_sim_new(&scn, &crypto, err, sizeof(err));
    if (sh.sim == NULL) {
        rvm_errorf("%s: %s", path, err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }

    /* 1. the original run, recorded */
    struct rvm_sim_options opt = {.seed = seed, .faults = mode, .linearize = true};
    struct rvm_sim_outcome o;
    rvm_sim_run(sh.sim, &scn, &opt, &o);
    if (o.cls == RVMSIM_EXIT_PASS && !no_reduce) {
        rvm_errorf("shrink: %s with seed %" PRIu64 " (faults %s) passes: nothing to shrink", path,
                   seed, rvm_sim_fault_mode_name(mode));
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    sh.cls = o.cls;
    snprintf(sh.invariant, sizeof(sh.invariant), "%s", o.invariant);
    char what[620];
    simcli_describe(what, sizeof(what), &o, path);
    if (o.cls == RVMSIM_EXIT_PASS) {
        printf("original: seed %" PRIu64 " passes\n", seed);
    } else {
        printf("original: seed %" PRIu64 " fails: %s\n", seed, what);
    }
    if (!rvm_sim_linearize(sh.sim, &scn, !no_reduce, &lin)) {
        rvm_errorf("shrink: out of memory recording the run");
        goto out;
    }
    uint32_t nops = rvm_scenario_count(&lin, SCN_OP), nfaults = rvm_scenario_count(&lin, SCN_FAULT);
    sh.keep = calloc(lin.nsteps + 1, sizeof(bool));
    sh.avail = calloc(lin.nnames + 1, sizeof(bool));
    units = malloc(sizeof(uint32_t) * (lin.nsteps + 1));
    if (sh.keep == NULL || sh.avail == NULL || units == NULL) {
        goto out;
    }
    sh.lin = &lin;
    uint32_t n = lin.nsteps;
    for (uint32_t i = 0; i < n; i++) {
        units[i] = i;
    }
    if (!test_units(&sh, units, n)) {
        rvm_errorf("shrink: the recorded run (%u operations, %u faults) does not reproduce the "
                   "failure without its seed; cannot shrink",
                   nops, nfaults);
        goto out;
    }
    printf("recorded: %u operations and %u faults reproduce it without the seed\n", nops, nfaults);

    /* 2. delta debugging over the steps */
    if (!no_reduce) {
        ddmin(&sh, units, &n);
    }

    /* 3. optional arguments back to their defaults */
    if (!build(&sh, units, n, &best)) {
        goto out;
    }
    if (!no_reduce) {
        simplify_defaults(&sh, &best);
    }

    /* 4. write, read back, and replay with another seed */
    rc = write_and_check(&sh, &args, &best, &check);
    if (rc != RVMSIM_EXIT_PASS) {
        goto out;
    }
    printf("%s: %u operations, %u faults -> %u operations, %u faults (%" PRIu64 " runs)\n",
           no_reduce ? "recorded" : "shrunk", nops, nfaults, rvm_scenario_count(&best, SCN_OP),
           rvm_scenario_count(&best, SCN_FAULT), sh.runs);
    char outq[1024], prog[512];
    rvm_shell_quote(outq, sizeof(outq), args.out_path);
    rvm_shell_quote(prog, sizeof(prog), program_invocation_name);
    printf("wrote %s; reproduce with: %s run %s\n", args.out_path, prog, outq);

out:
    free(units);
    free(sh.keep);
    free(sh.avail);
    rvm_scenario_free(&check);
    rvm_scenario_free(&best);
    rvm_scenario_free(&lin);
    rvm_sim_free(sh.sim);
    rvm_openssl_crypto_free(oc);
    rvm_scenario_free(&scn);
    return rc;
}
