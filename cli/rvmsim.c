/* SPDX-License-Identifier: MIT */
/* rvmsim: command dispatcher. */
#include "commands.h"
#include "replay_sim.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#include "build_version.h"

static const struct rvmsim_command commands[] = {
    {"demo", "append witness records, verify them and print the log digest", rvmsim_cmd_demo},
    {"run", "run one scenario file with one seed", rvmsim_cmd_run},
    {"sweep", "run a scenario over a range of seeds in worker processes", rvmsim_cmd_sweep},
    {"shrink", "reduce a failing run to a minimal scenario that fails the same way",
     rvmsim_cmd_shrink},
    {"explore", "run every sequence of up to K operations of a scenario's explore block",
     rvmsim_cmd_explore},
    {"qemu", "run a scenario on the firmware under QEMU and compare it with the simulator",
     rvmsim_cmd_qemu},
    {"targets", "list each target's operations, parameters, values and fault kinds",
     rvmsim_cmd_targets},
    {"runs", "list the runs of a replay store", rvmsim_cmd_runs},
    {"verify", "re-verify stored runs: chain, checkpoints, signatures, digest", rvmsim_cmd_verify},
    {"diff", "first divergence of two runs (bisection over chain values)", rvmsim_cmd_diff},
    {"show", "decoded records of a run (table or JSON lines)", rvmsim_cmd_show},
    {"export", "a run's records as raw images or JSON lines", rvmsim_cmd_export},
    {"import", "store a raw log or a serial capture as a verified run", rvmsim_cmd_import},
    {"reconstruct", "re-execute a run and compare records and state digests",
     rvmsim_cmd_reconstruct},
    {"merge", "merge stores (the shards of a sweep) into one, one transaction per input",
     rvmsim_cmd_merge},
    {"store", "check a store's integrity, schema and unfinished runs; repair them",
     rvmsim_cmd_store},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: rvmsim <command> [options]\n"
                 "       rvmsim <command> --help     (or: rvmsim help <command>)\n"
                 "       rvmsim --version\n\n"
                 "Deterministic simulator and reference model of the RVM hypervisor core.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out,
            "\nexit codes: 0 pass, 1 expectation failed, 2 usage or parse error, 3 safety "
            "invariant,\n            4 liveness, 5 non-determinism, 6 internal error, 7 diverged "
            "from the simulator (qemu),\n            8 unsealed log (verify, import; 1 is "
            "tampered)\n");
}

/* Edit distance of two short words (a command name and what was typed), capped at 9. */
static unsigned distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 15 || lb > 15) {
        return 9;
    }
    unsigned row[16], prev[16];
    for (size_t j = 0; j <= lb; j++) {
        prev[j] = (unsigned)j;
    }
    for (size_t i = 1; i <= la; i++) {
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            unsigned del = prev[j] + 1u, ins = row[j - 1] + 1u;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, row, sizeof(prev));
    }
    return prev[lb] < 9u ? prev[lb] : 9u;
}

/* The command `name` was probably meant to be, or NULL. */
static const char *suggestion(const char *name)
{
    const char *best = NULL;
    unsigned best_d = 3; /* at most two edits away */
    for (size_t i = 0; i < NCOMMANDS; i++) {
        unsigned d = distance(name, commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    (void)rvm_sim_replayers_register(); /* reconstruct re-executes simulator runs */
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc >= 3) {
            for (size_t i = 0; i < NCOMMANDS; i++) {
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *help_argv[] = {argv[2], (char *)"--help", NULL};
                    return commands[i].run(2, help_argv);
                }
            }
        }
        usage(stdout);
        return RVMSIM_EXIT_PASS;
    }
    if (strcmp(name, "--version") == 0) {
        printf("rvmsim %s\n", RVMSIM_VERSION);
        return RVMSIM_EXIT_PASS;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(name, commands[i].name) == 0) {
            rvm_error_context(commands[i].name); /* every message: "rvmsim: CMD: ..." */
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    const char *meant = suggestion(name);
    if (meant != NULL) {
        fprintf(stderr, "rvmsim: unknown command '%s'; did you mean '%s'?\n", name, meant);
        return RVMSIM_EXIT_USAGE;
    }
    fprintf(stderr, "rvmsim: unknown command '%s'\n\n", name);
    usage(stderr);
    return RVMSIM_EXIT_USAGE;
}
