/* SPDX-License-Identifier: MIT */
/* Stage-2 hooks (arch.h): M-mode keeps partitions' PMP images in software until guests run in
 * S-mode, so there is no register to load and no TLB to invalidate. */
#include "arch.h"

void fw_arch_s2_load(uint64_t vttbr)
{
    (void)vttbr;
}

void fw_arch_s2_invalidate(uint64_t vttbr)
{
    (void)vttbr;
}
