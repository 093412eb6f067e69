/* SPDX-License-Identifier: MIT */
/*
 * rvmsim's exit codes by class (DESIGN §4). Every command uses these and nothing else, except that
 * a sweep stopped by a signal before it found a failure exits as the shell reports a process
 * killed by that signal (RVMSIM_EXIT_SIGNAL_BASE + signal: 130 for SIGINT): it did not finish, so
 * it must not exit 0, and it found nothing that has a class. The simulator's outcomes and the
 * replay store's verdicts are reported in the same classes.
 */
#ifndef RVM_HOST_EXIT_CODES_H
#define RVM_HOST_EXIT_CODES_H

enum rvmsim_exit {
    RVMSIM_EXIT_PASS = 0,
    RVMSIM_EXIT_EXPECTATION = 1, /* an expectation failed; verify: tampered; diff: a difference */
    RVMSIM_EXIT_USAGE = 2,       /* usage or parse error */
    RVMSIM_EXIT_SAFETY = 3,      /* a safety invariant was violated */
    RVMSIM_EXIT_LIVENESS = 4,    /* the liveness phase made no progress */
    RVMSIM_EXIT_NONDETERMINISM = 5,
    RVMSIM_EXIT_INTERNAL = 6,
    RVMSIM_EXIT_DIVERGED = 7, /* rvmsim qemu: the hardware's chain differs from the simulator's */
    RVMSIM_EXIT_UNSEALED = 8, /* verify/import: every record present verifies, but the log has no
                                 seal (its producer stopped early, or it was cut short) */
    RVMSIM_EXIT_SIGNAL_BASE = 128,
};

#endif /* RVM_HOST_EXIT_CODES_H */
