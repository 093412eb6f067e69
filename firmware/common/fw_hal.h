/* SPDX-License-Identifier: MIT */
/*
 * The machine under the tape interpreter (tape_replay.h): the HAL of the real board.
 *   - partitions' address spaces: the platform's rvm_aspace module (platform/common/aspace.h),
 *     its stage-2 table pool in firmware memory; on AArch64 an activation also loads VTCR_EL2 /
 *     VTTBR_EL2 and an invalidation runs TLBI VMALLS12E1IS for the named VMID (fw_arch_s2_*);
 *   - each CPU's live translation, as the simulator's platform keeps it: the space it last
 *     activated, and on RISC-V the PMP image it holds (a removal reaches a hart only at the next
 *     activation or invalidation of its VMID);
 *   - the hypervisor's view of RAM: the guest window, identity-mapped;
 *   - the witness sink and the console: the UART (witness_uart.h);
 *   - the portable crypto provider;
 *   - the clock, the timer and the sink's acceptance are answered by the tape, never asked here;
 *     interrupt routing is accepted without touching the interrupt controller (no partition takes
 *     a real interrupt in a replay).
 */
#ifndef RVM_FW_HAL_H
#define RVM_FW_HAL_H

#include "witness_uart.h"

#include "aspace.h"
#include "rvm/hal.h"

#include <stdbool.h>
#include <stdint.h>

/* The CPUs the platform has: the simulator platform's count (RVM_SIM_PLATFORM_MAX_CPUS), so
 * the address-space module refuses the same CPUs on both. */
#define FW_HAL_MAX_CPUS 8u

struct fw_hal_cpu {
    bool active; /* has activated a space since the start */
    rvm_partition_id part;
    uint16_t vmid;
    struct rvm_rv_pmp pmp; /* RISC-V: the image its PMP registers hold */
};

struct fw_hal {
    struct rvm_hal hal;
    struct rvm_aspace as;
    uint64_t guest_base;
    uint64_t guest_size;
    struct fw_hal_cpu cpu[FW_HAL_MAX_CPUS];
    rvm_partition_id running[FW_HAL_MAX_CPUS];
    uint64_t vmid_vttbr[RVM_A64_VMID_COUNT]; /* AArch64: the VTTBR each VMID was last loaded with */
    struct fw_witness_uart stream;
    uint32_t hart_cpu;          /* RISC-V: the logical CPU whose PMP image the hart holds */
    uint64_t pmp_disagreements; /* RISC-V: PMP read-backs that differed from the model */
};

/* Storage of the address spaces for `spaces` partitions and a pool of `table_pages`. */
struct fw_hal_storage {
    struct rvm_aspace_space *spaces;
    uint64_t (*table_pages)[RVM_A64_ENTRIES]; /* 4 KiB aligned */
    struct rvm_a64_page_info *table_info;
    struct rvm_rv_region *regions; /* spaces * FW_HAL_PMP_REGIONS */
    struct rvm_rv_region *scratch; /* FW_HAL_PMP_REGIONS + 1 */
};

/* RISC-V: the simulator platform's PMP (16 entries, 32 mapped ranges a partition). */
#define FW_HAL_PMP_ENTRIES 16u
#define FW_HAL_PMP_REGIONS 32u

/* Fill `h` for guest RAM [guest_base, guest_base + guest_size) and `spaces` address spaces with
 * `table_pages` of stage-2 table pool; RVM_ERR_INVALID_ARGUMENT when the platform refuses. */
enum rvm_err fw_hal_init(struct fw_hal *h, uint8_t arch, uint64_t guest_base, uint64_t guest_size,
                         uint32_t spaces, uint32_t table_pages,
                         const struct fw_hal_storage *storage);

/* The guest's own access (tape_replay.h, struct rvm_replay_machine): `kind` 0 load, 1 store,
 * 2 fetch of 8 bytes at `ipa` through the CPU's live translation, on real memory. Applied
 * directly, for a request no real guest could perform (guest.h). */
enum rvm_err fw_hal_guest_access(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                                 uint64_t ipa, uint64_t value);

#endif /* RVM_FW_HAL_H */
