/* SPDX-License-Identifier: MIT */
/*
 * Option values more than one rvmsim command takes, parsed and refused the same way everywhere:
 * on a bad value each prints "<cmd>: --<option> must be ..., got '<text>'" and returns false, and
 * the command exits RVMSIM_EXIT_USAGE. Run ids (--run) are rvm_cmd_parse_run (cmd_common.h).
 */
#ifndef RVM_CLI_OPTIONS_H
#define RVM_CLI_OPTIONS_H

#include "faults.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* An unsigned 64-bit integer (decimal or 0x hex): --seed, demo's --shared-prefix and so on. */
bool cli_option_u64(const char *cmd, const char *option, const char *text, uint64_t *out);

/* --faults: none, default or swarm. */
bool cli_option_faults(const char *cmd, const char *text, enum rvm_sim_fault_mode *mode);

/* --help and an unknown option: the command's usage on stdout and RVMSIM_EXIT_PASS, or on stderr
 * and RVMSIM_EXIT_USAGE. */
int cli_option_usage(void (*usage)(FILE *out), bool asked);

#endif /* RVM_CLI_OPTIONS_H */
