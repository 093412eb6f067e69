/* SPDX-License-Identifier: MIT */
/*
 * The EL2 stage-1 identity map, caches on.
 *
 * 4 KiB granule, 39-bit virtual addresses (T0SZ 25: the walk starts at level 1, 512 entries
 * of 1 GiB; QEMU virt's PCI ECAM is at 256 GiB). A gigabyte that holds RAM gets a level-2 table of
 * 2 MiB blocks: Normal write-back memory inside [ram_base, ram_base + ram_size), Device memory
 * inside a board MMIO range, nothing elsewhere. A gigabyte wholly inside an MMIO range is one
 * Device block. Everything else faults, so a stray pointer traps instead of reading nothing. RAM is
 * executable, devices never are.
 *
 * With the MMU off every data access is Device memory: correct (the flags include
 * -mstrict-align) but several times slower. Build with FW_MMU_OFF to compare or to debug.
 */
#include "board.h"
#include "sysreg.h"

#include <stdbool.h>

#define GIB        (1ull << 30)
#define BLOCK_2M   (1ull << 21)
#define L1_ENTRIES 512u
#define L2_ENTRIES 512u
#define RAM_L2_MAX 2u /* gigabytes of RAM the map can describe in 2 MiB blocks */

#define DESC_BLOCK   0x1ull
#define DESC_TABLE   0x3ull
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_SH_IS   (3ull << 8)
#define DESC_AF      (1ull << 10)
#define DESC_XN      (1ull << 54)

#define MAIR_DEVICE_NGNRNE 0x00ull /* attribute index 0 */
#define MAIR_NORMAL_WB     0xffull /* attribute index 1: inner and outer write-back, RW-allocate */
#define ATTR_DEVICE        0u
#define ATTR_NORMAL        1u

/* TCR_EL2: RES1 bits 31 and 23, PS = 40-bit (2), SH0 inner shareable, IRGN0/ORGN0 write-back
 * write-allocate, TG0 4 KiB (0), T0SZ 25. */
#define TCR_EL2_VALUE                                                                              \
    ((1ull << 31) | (1ull << 23) | (2ull << 16) | (3ull << 12) | (1ull << 10) | (1ull << 8) | 25ull)

#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

static _Alignas(4096) uint64_t l1_table[512];
static _Alignas(4096) uint64_t l2_tables[RAM_L2_MAX][L2_ENTRIES];

static bool inside(uint64_t base, uint64_t size, uint64_t start, uint64_t len)
{
    return start >= base && len <= size && start - base <= size - len;
}

static bool in_mmio(uint64_t start, uint64_t len)
{
    for (uint32_t i = 0; i < FW_BOARD_MMIO_MAX && fw_board.mmio[i].size != 0; i++) {
        /* bound: FW_BOARD_MMIO_MAX */
        if (inside(fw_board.mmio[i].base, fw_board.mmio[i].size, start, len)) {
            return true;
        }
    }
    return false;
}

static uint64_t block(uint64_t addr, uint64_t len)
{
    if (inside(fw_board.ram_base, fw_board.ram_size, addr, len)) {
        return addr | DESC_BLOCK | DESC_ATTR(ATTR_NORMAL) | DESC_SH_IS | DESC_AF;
    }
    if (in_mmio(addr, len)) {
        return addr | DESC_BLOCK | DESC_ATTR(ATTR_DEVICE) | DESC_AF | DESC_XN;
    }
    return 0;
}

static bool overlaps_ram(uint64_t start, uint64_t len)
{
    return start < fw_board.ram_base + fw_board.ram_size && fw_board.ram_base < start + len;
}

void fw_a64_mmu_enable(void)
{
    uint32_t used_l2 = 0;
    for (uint32_t g = 0; g < L1_ENTRIES; g++) { /* bound: L1_ENTRIES */
        const uint64_t base = (uint64_t)g * GIB;
        if (overlaps_ram(base, GIB) && used_l2 < RAM_L2_MAX) {
            uint64_t *l2 = l2_tables[used_l2++];
            for (uint32_t i = 0; i < L2_ENTRIES; i++) { /* bound: L2_ENTRIES */
                l2[i] = block(base + (uint64_t)i * BLOCK_2M, BLOCK_2M);
            }
            l1_table[g] = (uint64_t)(uintptr_t)l2 | DESC_TABLE;
        } else {
            l1_table[g] = block(base, GIB);
        }
    }
    fw_a64_dsb_sy();
    FW_WRITE_SYSREG(mair_el2, MAIR_DEVICE_NGNRNE | (MAIR_NORMAL_WB << 8));
    FW_WRITE_SYSREG(tcr_el2, TCR_EL2_VALUE);
    FW_WRITE_SYSREG(ttbr0_el2, (uint64_t)(uintptr_t)l1_table);
    fw_a64_isb();
    __asm__ volatile("tlbi alle2" ::: "memory");
    fw_a64_dsb_sy();
    fw_a64_isb();
    FW_WRITE_SYSREG(sctlr_el2, FW_READ_SYSREG(sctlr_el2) | SCTLR_M | SCTLR_C | SCTLR_I);
    fw_a64_isb();
}
