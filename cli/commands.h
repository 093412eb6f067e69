/* SPDX-License-Identifier: MIT */
/*
 * rvmsim subcommands. Each lives in its own cli/cmd_<name>.c and is listed in the table in
 * rvmsim.c. A command gets argv with argv[0] = its own name and returns the process exit code.
 */
#ifndef RVM_CLI_COMMANDS_H
#define RVM_CLI_COMMANDS_H

#include "exit_codes.h"

struct rvmsim_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

int rvmsim_cmd_demo(int argc, char **argv);
int rvmsim_cmd_run(int argc, char **argv);
int rvmsim_cmd_sweep(int argc, char **argv);
int rvmsim_cmd_shrink(int argc, char **argv);
int rvmsim_cmd_explore(int argc, char **argv);
int rvmsim_cmd_targets(int argc, char **argv);
int rvmsim_cmd_qemu(int argc, char **argv);

/* Over the replay store (docs/replay-store.md). */
int rvmsim_cmd_runs(int argc, char **argv);
int rvmsim_cmd_verify(int argc, char **argv);
int rvmsim_cmd_diff(int argc, char **argv);
int rvmsim_cmd_show(int argc, char **argv);
int rvmsim_cmd_export(int argc, char **argv);
int rvmsim_cmd_import(int argc, char **argv);
int rvmsim_cmd_reconstruct(int argc, char **argv);
int rvmsim_cmd_merge(int argc, char **argv);
int rvmsim_cmd_store(int argc, char **argv);

#endif /* RVM_CLI_COMMANDS_H */
