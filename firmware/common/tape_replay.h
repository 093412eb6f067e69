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
     * (`part` runs there, `pstate` is its frame's return state): RVM_OK, or
     * RVM_ERR_GUEST_FAULT when the hardware faults it, with the faulting guest physical address
     * the trap reported in `fault_addr`. The guest_fault call that follows in the tape gets that
     * address, not the tape's. */
    enum rvm_err (*guest_access)(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                                 uint64_t ipa, uint64_t value, uint64_t pstate,
                                 uint64_t *fault_addr);
    /* Optional (NULL: every hypercall is applied directly). The guest on `cpu` issues a
     * hypercall with `regs` in its argument registers; true with the registers the trap handler
     * saw in `trapped`, which are what the kernel decodes; false when no guest can run here
     * (the entry is applied directly). */
    bool (*hypercall)(void *ctx, uint32_t cpu, uint64_t pstate, const uint64_t regs[8],
                      uint64_t trapped[8]);
    void *ctx;
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

    /* The real guest fault the last entry took, for the guest_fault call that must come next:
     * its CPU and the address the trap reported. */
    bool fault_pending;
    uint32_t fault_cpu;
    uint64_t fault_addr;
    uint64_t trapped_hypercalls; /* hypercalls the kernel decoded from the machine's trap */
    uint64_t direct_hypercalls;  /* hypercalls applied as recorded (no guest could run them) */
    uint64_t direct_faults;      /* guest_fault calls with no faulting guest access before them */
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
