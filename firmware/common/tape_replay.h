/* SPDX-License-Identifier: MIT */
/*
 * The tape interpreter: replays an operation tape (rvm/tape.h, docs/tape-format.md) through the
 * kernel's entry points on a machine, and stops with a named status at the first difference.
 *
 * The machine is a HAL of the real platform (stage-2 tables or PMP, guest memory, host RAM, the
 * UART as witness sink) plus the guest's own memory accesses. The interpreter stands between it
 * and the kernel: every question whose answer the simulator decided (the clock, how much the sink
 * took, an injected failure) is answered from the tape; every question the hardware answers by
 * itself is passed to the machine and its result compared with the tape's.
 *
 * Freestanding (the core's rules): the firmware runs it on QEMU or a board, and host tests run it
 * against the simulator's platform to prove a tape is complete without booting anything.
 */
#ifndef RVM_FW_TAPE_REPLAY_H
#define RVM_FW_TAPE_REPLAY_H

#include "rvm/kernel.h"
#include "rvm/tape.h"

#include <stddef.h>
#include <stdint.h>

struct rvm_replay_machine {
    const struct rvm_hal *hal; /* the real platform; its crypto is the replay's crypto */
    /* The running guest's own load (0), store (1) or instruction fetch (2) at `ipa` on `cpu`
     * (`part` runs there): RVM_OK, or RVM_ERR_GUEST_FAULT when the hardware faults it. */
    enum rvm_err (*guest_access)(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                                 uint64_t ipa, uint64_t value);
    void *ctx;
    /* Optional: the running guest's hypercall on `cpu`. The guest loads `args` into its argument
     * registers and traps; `regs` receives the x0..x7 / a0..a7 the trap delivered, which go to
     * the kernel (rvm_kernel_trap_args, rvm_kernel_hypercall). RVM_OK, or an error when the
     * guest did not trap as a hypercall (the replay stops: hal-mismatch). NULL: the tape's
     * registers go to the kernel as they are. */
    enum rvm_err (*guest_hypercall)(void *ctx, uint32_t cpu, rvm_partition_id part,
                                    const uint64_t args[8], uint64_t regs[8]);
};

struct rvm_replay {
    struct rvm_tape_reader reader;
    struct rvm_tape_header header;
    struct rvm_kernel kernel;
    struct rvm_hal hal;
    struct rvm_hal_ops ops;
    const struct rvm_replay_machine *machine;
    uint64_t now_ns; /* the last clock answer */
    struct rvm_tape_outputs out;

    /* The first problem: its status, the entry index it was found at, the entry point being
     * replayed, and for answers the question and the values that differ. */
    enum rvm_tape_status status;
    uint64_t at;
    uint32_t entry;
    uint32_t hook;
    int64_t want;
    int64_t got;
    uint64_t calls; /* CALL entries replayed */
};

/* Check the tape and start the kernel from its header in `storage` (at least
 * rvm_kernel_storage_bytes of the header's configuration, 8-byte aligned). A kernel that cannot
 * start from the configuration is RESULT_MISMATCH with entry = UINT32_MAX. */
enum rvm_tape_status rvm_replay_open(struct rvm_replay *rp, const struct rvm_replay_machine *m,
                                     const uint8_t *tape, size_t len, void *storage,
                                     size_t storage_bytes);

/* Replay every entry up to and including END. OK only when every call gave its recorded result,
 * every answer was asked for in order, and the log ends with the recorded count and digest. */
enum rvm_tape_status rvm_replay_run(struct rvm_replay *rp);

#endif
