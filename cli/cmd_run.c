/* SPDX-License-Identifier: MIT */
/*
 * rvmsim run FILE [--seed N] [--db PATH] [--faults none|default|swarm] [--trace]
 *                 [--nwnm-every N] [--epoch K]
 *
 * Runs one scenario with one seed, prints the failure (if any) and, as its last line,
 * `run=<id> seed=<n> records=<n> digest=<64 hex> result=<class>`. The exit code is the class.
 * With --db the run goes into the replay store in full (docs/simulator.md "Storage").
 */
#include "commands.h"
#include "engine.h"
#include "json_out.h"
#include "options.h"
#include "run_store.h"
#include "simcli.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim run FILE [--seed N] [--db PATH] [--faults none|default|swarm] "
            "[--trace]\n"
            "                  [--nwnm-every N] [--epoch K] [--tape FILE] [--json]\n\n"
            "Runs the scenario FILE with seed N (default: the file's `seed`, else 1). Faults\n"
            "default to the file's `faults` line, else `default`. --trace prints one line per\n"
            "event. --db stores the run in a replay store (created if needed): scenario, seed,\n"
            "options, result, every record, signed checkpoints, fired faults, and a state\n"
            "digest every K records (--epoch, default 64; 0: only at the end) for `rvmsim\n"
            "reconstruct`; `rvmsim verify/diff/show/export` read it. --tape writes the run's\n"
            "operation tape, which firmware replays on QEMU or a board (docs/tape-format.md).\n"
            "The last line is `run=<id> seed=<n> records=<n> digest=<hex> result=<class>`;\n"
            "the exit code is the class: 0 pass, 1 expectation, 2 usage/parse, 3 safety,\n"
            "4 liveness, 6 internal. --json prints one JSON object instead (docs/json.md;\n"
            "--trace then goes to stderr).\n");
}

/* The one positional argument, the scenario FILE; NULL (and the usage printed) otherwise. */
static const char *scenario_argument(int argc, char **argv)
{
    if (optind + 1 == argc) {
        return argv[optind];
    }
    if (optind == argc) {
        rvm_errorf("run: missing scenario FILE");
    } else {
        rvm_errorf("run: unexpected argument '%s'", argv[optind + 1]);
    }
    run_usage(stderr);
    return NULL;
}

/* The run's result lines: a failure with its reproduction, then the counters and the run line. */
static void print_outcome(const struct rvm_sim_outcome *o, const char *path, uint64_t seed,
                          enum rvm_sim_fault_mode mode, uint64_t run_id)
{
    if (o->cls != RVMSIM_EXIT_PASS) {
        char line[600], repro[1600];
        simcli_describe(line, sizeof(line), o, path);
        simcli_repro(repro, sizeof(repro), path, seed, mode);
        printf("FAIL %s\n", line);
        printf("reproduce: %s\n", repro);
    }
    char digest[65];
    rvm_hex(o->digest, sizeof(o->digest), digest);
    printf("steps=%" PRIu64 " faults=%" PRIu64 " events=%" PRIu64 " time_ns=%" PRIu64 "\n",
           o->steps, o->faults_fired, o->events, o->time_ns);
    printf("run=%" PRIu64 " seed=%" PRIu64 " records=%" PRIu64 " digest=%s result=%s\n", run_id,
           seed, o->records, digest, rvm_sim_class_name(o->cls));
    fflush(stdout);
}

/* The run's result as one JSON object (docs/json.md "run"). */
static void print_outcome_json(const struct rvm_sim_outcome *o, const char *path, uint64_t seed,
                               enum rvm_sim_fault_mode mode, uint64_t run_id)
{
    struct rvm_json j;
    rvm_json_init(&j, stdout);
    rvm_json_object_begin(&j);
    rvm_json_key(&j, "run");
    if (run_id != 0) {
        rvm_json_int(&j, (int64_t)run_id);
    } else {
        rvm_json_null(&j);
    }
    rvm_json_key_string(&j, "scenario", path);
    rvm_json_key_u64(&j, "seed", seed);
    rvm_json_key_string(&j, "faults", rvm_sim_fault_mode_name(mode));
    cli_json_sim_outcome_members(&j, o);
    char repro[1600];
    simcli_repro(repro, sizeof(repro), path, seed, mode);
    rvm_json_key_string(&j, "reproduce", repro);
    rvm_json_object_end(&j);
    rvm_json_newline(&j);
    fflush(stdout);
}

/* The run's operation tape into `path`; the exit code `rc` unless writing it failed. */
static int write_tape(struct rvm_sim *sim, const char *path, int rc)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    const char *why = "";
    if (!rvm_sim_tape(sim, &bytes, &len, &why)) {
        rvm_errorf("run: no tape written: %s", why);
        rc = rc == RVMSIM_EXIT_PASS ? RVMSIM_EXIT_USAGE : rc;
    } else if (!rvm_write_file(path, bytes, len)) {
        rvm_errorf("run: writing the tape to '%s' failed: %s", path, strerror(errno));
        rc = rc == RVMSIM_EXIT_PASS ? RVMSIM_EXIT_INTERNAL : rc;
    }
    free(bytes);
    return rc;
}

int rvmsim_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"faults", required_argument, NULL, 'f'},
        {"trace", no_argument, NULL, 't'},
        {"nwnm-every", required_argument, NULL, 'n'},
        {"epoch", required_argument, NULL, 'e'},
        {"tape", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t seed = 0, nwnm = 1, epoch = RVM_RUN_DEFAULT_EPOCH;
    bool has_seed = false, has_faults = false, trace = false, json = false;
    enum rvm_sim_fault_mode mode = RVM_SIM_FAULTS_DEFAULT;
    const char *db = NULL, *tape = NULL;

    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "s:d:f:tn:e:T:jh", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 's':
            if (!cli_option_u64("run", "seed", optarg, &seed)) {
                return RVMSIM_EXIT_USAGE;
            }
            has_seed = true;
            break;
        case 'd':
            db = optarg;
            break;
        case 'f':
            if (!cli_option_faults("run", optarg, &mode)) {
                return RVMSIM_EXIT_USAGE;
            }
            has_faults = true;
            break;
        case 't':
            trace = true;
            break;
        case 'n':
            if (!rvm_parse_u64(optarg, &nwnm) || nwnm == 0 || nwnm > UINT32_MAX) {
                rvm_errorf("run: --nwnm-every must be 1..2^32-1, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'e':
            if (!rvm_parse_u64(optarg, &epoch)) {
                rvm_errorf("run: --epoch must be a record count, got '%s'", optarg);
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'T':
            tape = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return cli_option_usage(run_usage, true);
        default:
            return cli_option_usage(run_usage, false);
        }
    }
    const char *path = scenario_argument(argc, argv);
    if (path == NULL) {
        return RVMSIM_EXIT_USAGE;
    }

    struct rvm_scenario scn;
    char *text = NULL;
    int rc = simcli_load_text(path, &scn, &text);
    if (rc != 0) {
        return rc;
    }
    if (!has_seed) {
        seed = scn.has_seed ? scn.seed : 1;
    }
    if (!has_faults) {
        mode = scn.has_faults ? scn.faults : RVM_SIM_FAULTS_DEFAULT;
    }

    struct rvm_crypto crypto;
    struct rvm_openssl_crypto *oc = simcli_crypto(&crypto);
    struct rvm_run_sink sink = {0};
    struct rvm_sim *sim = NULL;
    char err[256] = "";
    rc = RVMSIM_EXIT_INTERNAL;
    if (oc == NULL) {
        goto out;
    }
    if (!rvm_run_sink_open(&sink, db, err, sizeof(err))) {
        rvm_errorf("run: %s", err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }
    sim = rvm_sim_new(&scn, &crypto, err, sizeof(err));
    if (sim == NULL) {
        rvm_errorf("%s: %s", path, err);
        rc = RVMSIM_EXIT_USAGE;
        goto out;
    }

    struct rvm_sim_options opt = {
        .seed = seed,
        .faults = mode,
        .trace = trace ? (json ? stderr : stdout) : NULL,
        .nwnm_every = (uint32_t)nwnm,
        .states = db != NULL, /* state digests only matter to a store */
        .epoch = epoch,
        .tape = tape != NULL,
    };
    struct rvm_sim_outcome o;
    rc = rvm_sim_run(sim, &scn, &opt, &o);
    if (tape != NULL) {
        rc = write_tape(sim, tape, rc);
    }

    struct rvm_run_info info = {
        .source = "run",
        .scenario_path = path,
        .scenario_text = text,
        .target = scn.target,
        .seed = seed,
        .faults = mode,
        .nwnm_every = (uint32_t)nwnm,
        .epoch = epoch,
        .origin = "run",
    };
    uint64_t run_id = 0;
    if (!rvm_run_store(&sink, &info, &o, sim, true, &run_id) || !sink.ops->commit(sink.ctx)) {
        rvm_errorf("run: storing the run in '%s' failed: %s", db != NULL ? db : "memory",
                   sink.ops->error(sink.ctx));
        if (rc == RVMSIM_EXIT_PASS) {
            rc = RVMSIM_EXIT_INTERNAL;
        }
    }

    if (json) {
        print_outcome_json(&o, path, seed, mode, run_id);
    } else {
        print_outcome(&o, path, seed, mode, run_id);
    }

out:
    rvm_sim_free(sim);
    if (sink.ops != NULL) {
        rvm_run_sink_close(&sink);
    }
    rvm_openssl_crypto_free(oc);
    rvm_scenario_free(&scn);
    free(text);
    return rc;
}
