/* SPDX-License-Identifier: MIT */
/* Stage-2 hooks (arch.h): RISC-V has no stage-2 registers here; a partition switch loads its PMP
 * image instead (pmp.c, fw_arch_pmp_load), so these are never called. */
#include "arch.h"

void fw_arch_s2_load(uint64_t vttbr)
{
    (void)vttbr;
}

void fw_arch_s2_invalidate(uint64_t vttbr)
{
    (void)vttbr;
}
