/* SPDX-License-Identifier: MIT */
/*
 * QEMU's pvpanic PCI device (`-device pvpanic-pci`): the one way a guest that has only PSCI can
 * make QEMU exit with a failure status (`-action panic=exit-failure`). Absent device: no effect.
 */
#ifndef RVM_FW_PVPANIC_H
#define RVM_FW_PVPANIC_H

#include <stdint.h>

/*
 * Find the device on bus 0 of the ECAM at `ecam_base`, give its BAR 0 the address `bar_base`
 * (inside the board's PCI memory window), enable memory decoding and report a panic.
 */
void fw_pvpanic_report(uint64_t ecam_base, uint64_t bar_base);

#endif /* RVM_FW_PVPANIC_H */
