/* SPDX-License-Identifier: MIT */
/* The first C code on AArch64 (start.S): check the exception level, map memory, run fw_main. */
#include "arch.h"
#include "console.h"
#include "sysreg.h"

void fw_a64_entry(void);

void fw_a64_entry(void)
{
    const uint64_t el = (FW_READ_SYSREG(CurrentEL) >> 2) & 3u;
    if (el != 2) {
        /* QEMU without `virtualization=on` enters at EL1, with `secure=on` at EL3. */
        fw_puts("rvmfw: entered at EL");
        fw_put_dec(el);
        fw_puts(", the firmware runs at EL2 (qemu -M virt,virtualization=on)\n");
        fw_a64_park();
    }
#ifndef FW_MMU_OFF
    fw_a64_mmu_enable();
#endif
    fw_main();
}

uint64_t fw_arch_counter(void)
{
    fw_a64_isb(); /* not read ahead of the code it times */
    return FW_READ_SYSREG(cntpct_el0);
}
