/* SPDX-License-Identifier: MIT */
/*
 * Real guests: the tape's hypercalls and the guest's own memory accesses are performed by a small
 * guest program running in the partition's translation regime (AArch64: EL1 under the
 * partition's stage-2 tables and VMID; RISC-V: S-mode under the partition's PMP image), and the
 * trap the hardware takes is what reaches the kernel.
 *
 * The contract between the common firmware (guest.c) and each architecture (fw_arch_guest_run):
 *
 *  - The common part fills one struct fw_guest_request for a logical CPU of the tape and calls
 *    fw_arch_guest_run. The CPU's live translation is the one the machine last activated on it
 *    (struct fw_hal_cpu: `active`, `part`, `vmid`, RISC-V `pmp`); the architecture runs the
 *    guest with exactly that translation, so a fault is the hardware's verdict on the tables
 *    the kernel built.
 *  - The guest program is the firmware's, not the partition's: its code and the request lie in
 *    memory the architecture maps into the guest read-only for the run (AArch64: a reserved
 *    gigabyte of IPA added to a copy of the partition's root table; RISC-V: its own PMP
 *    entries), never in the partition's RAM, whose bytes are part of the chain. The program reads
 *    the request from there and performs it with real instructions:
 *      FW_GUEST_HYPERCALL  regs[0..7] into the argument registers (x0..x7 / a0..a7), then
 *                          `hvc #0` / `ecall`;
 *      FW_GUEST_LOAD       an 8-byte load from `addr`, then the "done" trap;
 *      FW_GUEST_STORE      an 8-byte store of `value` to `addr`, then the "done" trap;
 *      FW_GUEST_FETCH      an instruction fetch at `addr` (see the architecture for how a
 *                          permitted fetch is kept from executing partition bytes);
 *      FW_GUEST_SMC        regs[0..7] into the argument registers, then a call to the firmware
 *                          below the hypervisor (`smc #0`): it must trap to the hypervisor.
 *    The guest enters with the return state the kernel's frame holds for the CPU (`pstate`:
 *    SPSR_EL2 / the guest part of mstatus, sanitised by the core on every restore); only the
 *    privilege the program needs is forced (AArch64 EL1h, RISC-V S).
 *  - fw_arch_guest_run returns at the guest's first trap to the firmware, with struct
 *    fw_guest_trap: why (`cause`), the raw syndrome (ESR_EL2 / mcause), the faulting guest
 *    physical address for an abort (AArch64 HPFAR_EL2 page | FAR_EL2 offset; RISC-V mtval), and
 *    the guest's x0..x7 / a0..a7 at the trap. The guest is not resumed: one request, one entry,
 *    one trap. The hypervisor's own state (EL2 / M-mode registers, translation, stack) is as it
 *    was before the call.
 *  - FW_TRAP_UNAVAILABLE (nothing ran) when no guest can perform the request on this CPU: the
 *    CPU has no live translation, or `addr` lies in the range the architecture reserves for the
 *    guest program. The caller then applies the tape entry directly and counts it (the summary
 *    line), never silently.
 */
#ifndef RVM_FW_GUEST_H
#define RVM_FW_GUEST_H

#include "fw_hal.h"
#include "guest_request.h"

#include <stdint.h>

/* The request page as the guest program reads it; the operations and byte offsets are in
 * guest_request.h, which assembly includes too. */
struct fw_guest_request {
    uint64_t op;      /* FW_GUEST_REQ_OP: FW_GUEST_HYPERCALL ... FW_GUEST_SMC */
    uint64_t addr;    /* FW_GUEST_REQ_ADDR: guest physical address of a load, store or fetch */
    uint64_t value;   /* FW_GUEST_REQ_VALUE: what a store writes */
    uint64_t pstate;  /* FW_GUEST_REQ_PSTATE: the kernel frame's return state for the CPU */
    uint64_t regs[8]; /* FW_GUEST_REQ_REGS: argument registers of a hypercall or SMC */
};
_Static_assert(__builtin_offsetof(struct fw_guest_request, op) == FW_GUEST_REQ_OP, "op");
_Static_assert(__builtin_offsetof(struct fw_guest_request, addr) == FW_GUEST_REQ_ADDR, "addr");
_Static_assert(__builtin_offsetof(struct fw_guest_request, value) == FW_GUEST_REQ_VALUE, "value");
_Static_assert(__builtin_offsetof(struct fw_guest_request, pstate) == FW_GUEST_REQ_PSTATE, "ps");
_Static_assert(__builtin_offsetof(struct fw_guest_request, regs) == FW_GUEST_REQ_REGS, "regs");

/* Why the guest trapped. */
enum fw_guest_cause {
    FW_TRAP_UNAVAILABLE = 0, /* no guest ran: apply directly */
    FW_TRAP_HYPERCALL = 1,   /* hvc #0 / ecall from the guest */
    FW_TRAP_SMC = 2,         /* a call to the firmware below, stopped at the hypervisor */
    FW_TRAP_DATA_ABORT = 3,  /* stage-2 / PMP fault on a load or store */
    FW_TRAP_FETCH_ABORT = 4, /* stage-2 / PMP fault on an instruction fetch */
    FW_TRAP_DONE = 5,        /* the access completed; the program reported back */
    FW_TRAP_OTHER = 6,       /* anything else (the syndrome says what) */
    FW_TRAP_COUNT = 7,
};

struct fw_guest_trap {
    uint32_t cause;    /* enum fw_guest_cause */
    uint64_t syndrome; /* ESR_EL2 / mcause as taken */
    uint64_t addr;     /* the faulting guest physical address of an abort */
    uint64_t regs[8];  /* x0..x7 / a0..a7 at the trap */
};

/* Run the guest program on logical `cpu` with the translation `h` holds live for it until it
 * traps (see above). Provided by each architecture (firmware/<arch>/guest.c). */
enum fw_guest_cause fw_arch_guest_run(struct fw_hal *h, uint32_t cpu,
                                      const struct fw_guest_request *rq,
                                      struct fw_guest_trap *trap);

/* Traps taken by real guests, by cause, and the tape entries applied directly instead. */
struct fw_guest_stats {
    uint64_t traps[FW_TRAP_COUNT];
    uint64_t direct_accesses;
    /* Aborts whose syndrome or address differ from the platform model's prediction for the
     * same tables (AArch64: rvm_a64_walk / rvm_a64_esr; the architecture says which fields). */
    uint64_t model_checked;
    uint64_t model_differs;
};

extern struct fw_guest_stats fw_guest_stats;

/* The tape's guest_access kind 3: the guest reads a register of the hypervisor's privilege. The
 * request is FW_GUEST_SMC (RISC-V: a read of mstatus, illegal instruction; AArch64: an smc,
 * trapped by HCR_EL2.TSC) and the trap it must take is FW_TRAP_SMC, a guest fault. */
#define FW_GUEST_KIND_PRIV_PROBE 3u

/* The machine's hooks (tape_replay.h, struct rvm_replay_machine), over fw_arch_guest_run. */
enum rvm_err fw_guest_access(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                             uint64_t ipa, uint64_t value, uint64_t pstate, uint64_t *fault_addr);
bool fw_guest_hypercall(void *ctx, uint32_t cpu, uint64_t pstate, const uint64_t regs[8],
                        uint64_t trapped[8]);

/* A guest `smc` with PSCI SYSTEM_OFF in x0 on the first CPU with a live translation: it must
 * trap to the firmware (counted), never power the machine off. False when it did not trap. */
bool fw_guest_smc_probe(struct fw_hal *h);

/* The console line `guest: traps hypercall=N smc=N data-abort=N fetch-abort=N done=N other=N
 * direct hypercall=N access=N fault=N model checked=N differs=N` (outside the witness
 * framing). The interpreter counts
 * the hypercalls and guest_fault calls it applied directly (struct rvm_replay). */
void fw_guest_report(uint64_t direct_hypercalls, uint64_t direct_faults);

#endif /* RVM_FW_GUEST_H */
