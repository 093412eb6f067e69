/* SPDX-License-Identifier: MIT */
/*
 * rvmsim subcommands. Each lives in its own sim/cmd_<name>.c (or replay/cmd_<name>.c) and is
 * listed in the table in rvmsim.c. A command gets argv with argv[0] = its own name and returns
 * the process exit code.
 */
#ifndef RVM_SIM_COMMANDS_H
#define RVM_SIM_COMMANDS_H

/* Exit codes by class (DESIGN §4). Every command uses these and nothing else, except that a sweep
 * stopped by a signal before it found a failure exits as the shell reports a process killed by
 * that signal (RVMSIM_EXIT_SIGNAL_BASE + signal: 130 for SIGINT): it did not finish, so it must
 * not exit 0, and it found nothing that has a class. */
enum rvmsim_exit {
    RVMSIM_EXIT_PASS = 0,
    RVMSIM_EXIT_EXPECTATION = 1, /* an expectation failed (or verify/diff found a difference) */
    RVMSIM_EXIT_USAGE = 2,       /* usage or parse error */
    RVMSIM_EXIT_SAFETY = 3,      /* a safety invariant was violated */
    RVMSIM_EXIT_LIVENESS = 4,    /* the liveness phase made no progress */
    RVMSIM_EXIT_NONDETERMINISM = 5,
    RVMSIM_EXIT_INTERNAL = 6,
    RVMSIM_EXIT_SIGNAL_BASE = 128,
};

struct rvmsim_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

int rvmsim_cmd_demo(int argc, char **argv);
int rvmsim_cmd_run(int argc, char **argv);
int rvmsim_cmd_sweep(int argc, char **argv);
int rvmsim_cmd_shrink(int argc, char **argv);
int rvmsim_cmd_targets(int argc, char **argv);

/* Replay store (replay/cmd_*.c, docs/replay-store.md). */
int rvmsim_cmd_runs(int argc, char **argv);
int rvmsim_cmd_verify(int argc, char **argv);
int rvmsim_cmd_diff(int argc, char **argv);
int rvmsim_cmd_show(int argc, char **argv);
int rvmsim_cmd_export(int argc, char **argv);
int rvmsim_cmd_import(int argc, char **argv);
int rvmsim_cmd_reconstruct(int argc, char **argv);
int rvmsim_cmd_merge(int argc, char **argv);

#endif /* RVM_SIM_COMMANDS_H */
