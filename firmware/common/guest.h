/* SPDX-License-Identifier: MIT */
/*
 * Real guests: a small program the firmware runs in the partition's privilege (RISC-V S-mode;
 * AArch64 EL1) under the partition's live translation, to perform one guest instruction of the
 * tape for real. The guest reads its request from a page inside its own protection region (the
 * request page), performs it, and the trap it takes comes back to the firmware as an exit.
 *
 * A run enters the guest with every general register zero (the register scrub between partitions:
 * nothing of the firmware's or another partition's state reaches it) and returns only what the
 * trap delivered: the cause, the faulting address, the return address and the argument registers
 * (x0..x7 / a0..a7, the only registers a hypercall carries).
 */
#ifndef RVM_FW_GUEST_H
#define RVM_FW_GUEST_H

#include "rvm/error.h"

#include <stdint.h>

struct rvm_rv_pmp;

/* What the guest does (fw_guest_request.op). */
enum fw_guest_op {
    FW_GUEST_HYPERCALL = 1, /* load regs[0..7] into the argument registers and trap to the kernel */
    FW_GUEST_LOAD = 2,      /* 8-byte load from addr */
    FW_GUEST_STORE = 3,     /* 8-byte store of value to addr */
    FW_GUEST_FETCH = 4,     /* jump to addr (the firmware plants a breakpoint there) */
    FW_GUEST_PRIV_PROBE = 5, /* read a register only the hypervisor's privilege may read */
};

/* The request page's layout (little-endian u64s at offset 0), as the guest reads it. */
struct fw_guest_request {
    uint64_t op; /* enum fw_guest_op */
    uint64_t addr;
    uint64_t value;
    uint64_t regs[8];
};

#define FW_GUEST_REQUEST_OP    0
#define FW_GUEST_REQUEST_ADDR  8
#define FW_GUEST_REQUEST_VALUE 16
#define FW_GUEST_REQUEST_REGS  24

/* How the guest came back. */
enum fw_guest_exit_kind {
    FW_GUEST_EXIT_HYPERCALL = 1, /* it trapped to the kernel: regs hold its argument registers */
    FW_GUEST_EXIT_DONE = 2,      /* the access completed (the guest's breakpoint after it, or the
                                    planted one at a fetch's target) */
    FW_GUEST_EXIT_FAULT = 3,     /* an access fault: addr is the faulting address */
    FW_GUEST_EXIT_PRIV = 4,      /* an illegal / privileged instruction: addr its encoding */
    FW_GUEST_EXIT_OTHER = 5,     /* anything else: cause says what */
};

struct fw_guest_exit {
    uint32_t kind;  /* enum fw_guest_exit_kind */
    uint64_t cause; /* the architecture's syndrome: mcause / ESR_EL2 */
    uint64_t pc;    /* where it trapped: mepc / ELR_EL2 */
    uint64_t addr;  /* mtval / FAR_EL2 */
    uint64_t regs[8];
};

/* Trap counts of the guest runs of this boot, for the console summary (not the witness log). */
struct fw_guest_counts {
    uint64_t runs;
    uint64_t hypercalls;
    uint64_t done;
    uint64_t faults;
    uint64_t priv;
    uint64_t software; /* accesses the machine had to check in software (no run possible) */
};

/*
 * Run the guest once on this CPU under `pmp` (RISC-V: the image the logical CPU's PMP holds;
 * AArch64: `vttbr`). RVM_OK with *ex filled; RVM_ERR_UNSUPPORTED when no guest can run here (no
 * guest on this architecture, no PMP entry left for the guest's own pages), and the caller checks
 * the access in software instead; RVM_ERR_HAL when the hardware does not hold what was written.
 */
enum rvm_err fw_arch_guest_run(const struct rvm_rv_pmp *pmp, uint64_t vttbr,
                               const struct fw_guest_request *rq, struct fw_guest_exit *ex);

#endif /* RVM_FW_GUEST_H */
