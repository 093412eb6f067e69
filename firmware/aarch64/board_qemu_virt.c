/* SPDX-License-Identifier: MIT */
/* QEMU's `virt` machine, AArch64 (-M virt,virtualization=on -m 1G; QEMU 7.2 memory map). */
#include "board.h"

#include "rvm/vcpu.h"

#ifdef FW_EXIT_WITH_SEMIHOSTING
#define QEMU_VIRT_EXIT FW_EXIT_SEMIHOSTING
#define QEMU_VIRT_NAME "qemu-virt-aarch64-semihosting"
#else
#define QEMU_VIRT_EXIT FW_EXIT_PSCI
#define QEMU_VIRT_NAME "qemu-virt-aarch64"
#endif

const struct fw_board fw_board = {
    .name = QEMU_VIRT_NAME,
    .arch = RVM_VCPU_AARCH64,
    .uart_base = 0x09000000u,
    .uart_kind = FW_UART_PL011,
    .ram_base = 0x40000000u,
    .ram_size = 1024u * 1024u * 1024u, /* qemu -m 1G */
    .tape_base = 0x50000000u,
    .tape_bytes = 0x10000000u,
    .tape_length_addr = 0x4ffff000u,
    .platform = "qemu-aarch64",
    .irqchip_kind = FW_IRQCHIP_GICV2,
    .irqchip_base0 = 0x08000000u,
    .irqchip_base1 = 0x08010000u,
    .timer_hz = 62500000u,
    .exit_method = QEMU_VIRT_EXIT,
    /* with -device pvpanic-pci; the ECAM is the high one (highmem, QEMU's default), BAR 0 goes
     * to the start of the 32-bit PCI memory window */
    .panic_ecam_base = 0x4010000000u,
    .panic_bar_base = 0x10000000u,
    .mmio = {{0x00000000u, 0x40000000u},    /* flash, GIC, UART, RTC, virtio, PCI windows */
             {0x4000000000u, 0x40000000u}}, /* GICv3 redistributors, PCI ECAM */
};
