/* SPDX-License-Identifier: MIT */
#include "options.h"

#include "exit_codes.h"
#include "util.h"

bool cli_option_u64(const char *cmd, const char *option, const char *text, uint64_t *out)
{
    if (!rvm_parse_u64(text, out)) {
        rvm_errorf("%s: --%s must be an unsigned 64-bit integer, got '%s'", cmd, option, text);
        return false;
    }
    return true;
}

bool cli_option_faults(const char *cmd, const char *text, enum rvm_sim_fault_mode *mode)
{
    if (!rvm_sim_fault_mode_parse(text, mode)) {
        rvm_errorf("%s: --faults must be none, default or swarm, got '%s'", cmd, text);
        return false;
    }
    return true;
}

int cli_option_usage(void (*usage)(FILE *out), bool asked)
{
    usage(asked ? stdout : stderr);
    return asked ? RVMSIM_EXIT_PASS : RVMSIM_EXIT_USAGE;
}
