/* SPDX-License-Identifier: MIT */
#include "pvpanic.h"

#include "mmio.h"

#define PCI_SLOTS           32u
#define PCI_ECAM_SLOT_SHIFT 15u /* bus 0, function 0: slot << 15 */
#define PCI_VENDOR_DEVICE   0x00u
#define PCI_COMMAND         0x04u
#define PCI_COMMAND_MEMORY  0x2u
#define PCI_BAR0            0x10u
#define PVPANIC_ID          0x00111b36u /* device 0x0011, vendor 0x1b36 (Red Hat, QEMU) */
#define PVPANIC_PANICKED    0x1u

void fw_pvpanic_report(uint64_t ecam_base, uint64_t bar_base)
{
    for (uint32_t slot = 0; slot < PCI_SLOTS; slot++) { /* bound: PCI_SLOTS */
        const uint64_t cfg = ecam_base + ((uint64_t)slot << PCI_ECAM_SLOT_SHIFT);
        if (fw_mmio_read32(cfg + PCI_VENDOR_DEVICE) != PVPANIC_ID) {
            continue;
        }
        fw_mmio_write32(cfg + PCI_BAR0, (uint32_t)bar_base);
        fw_mmio_write32(cfg + PCI_COMMAND, fw_mmio_read32(cfg + PCI_COMMAND) | PCI_COMMAND_MEMORY);
        fw_mmio_write8(bar_base, PVPANIC_PANICKED);
        return;
    }
}
