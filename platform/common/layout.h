/* SPDX-License-Identifier: MIT */
/*
 * Where the kernel target's memory lies: RAM starts with the hypervisor's bytes (room for a
 * stage-2 table pool of 8 pages per partition + 16), rounded up to 64 pages so that guest RAM and
 * its buddy blocks are physically aligned (RISC-V's NAPOT PMP entries need that), and guest RAM
 * follows. The guest RAM base is hashed into the witness chain at boot and the pool's size decides
 * when a map is refused, so the simulator and every firmware that replays its tapes size the
 * platform with this one function.
 */
#ifndef RVM_PLATFORM_LAYOUT_H
#define RVM_PLATFORM_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#define RVM_LAYOUT_PAGE_BYTES      4096u
#define RVM_LAYOUT_ALIGN_PAGES     64u /* the hypervisor's bytes are a multiple of this */
#define RVM_LAYOUT_TABLES_PER_PART 8u
#define RVM_LAYOUT_TABLES_FIXED    16u

struct rvm_layout {
    uint32_t table_pages; /* the stage-2 table pool */
    uint32_t spaces;      /* address spaces held at once: every partition and the hypervisor's */
    uint64_t hyp_bytes;   /* [ram_base, guest_base): the pool, rounded up */
    uint64_t guest_base;  /* the guest RAM the kernel's allocator manages */
    uint64_t guest_bytes; /* ram_pages pages */
    uint64_t ram_bytes;   /* hyp_bytes + guest_bytes */
};

/* The layout for a kernel with `max_partitions` partitions and `ram_pages` pages of guest RAM on a
 * platform whose RAM starts at `ram_base` (page aligned). False when it does not fit in 64 bits
 * or ram_pages is 0. */
bool rvm_layout_kernel_target(struct rvm_layout *layout, uint64_t ram_base, uint32_t max_partitions,
                              uint64_t ram_pages);

#endif /* RVM_PLATFORM_LAYOUT_H */
