/* SPDX-License-Identifier: MIT */
/* Stage-2 registers and TLB maintenance at EL2 (arch.h). */
#include "arch.h"
#include "sysreg.h"

#include "a64_stage2.h"

void fw_arch_s2_load(uint64_t vttbr)
{
    fw_a64_dsb_sy(); /* the tables' descriptors are visible to the walker first */
    FW_WRITE_SYSREG(vtcr_el2, RVM_A64_VTCR_VALUE);
    FW_WRITE_SYSREG(vttbr_el2, vttbr);
    fw_a64_isb();
}

void fw_arch_s2_invalidate(uint64_t vttbr)
{
    const uint64_t current = FW_READ_SYSREG(vttbr_el2);
    fw_a64_dsb_sy();
    FW_WRITE_SYSREG(vttbr_el2, vttbr);
    fw_a64_isb();
    __asm__ volatile("tlbi vmalls12e1is" ::: "memory");
    fw_a64_dsb_sy();
    FW_WRITE_SYSREG(vttbr_el2, current);
    fw_a64_isb();
}

bool fw_arch_pmp_load(const struct rvm_rv_pmp *image)
{
    (void)image; /* no PMP on AArch64: stage-2 tables confine the partitions */
    return true;
}
