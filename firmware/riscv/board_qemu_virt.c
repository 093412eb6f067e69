/* SPDX-License-Identifier: MIT */
/* QEMU's `virt` machine, RISC-V 64 (-M virt -m 1G -bios; QEMU 7.2 memory map). */
#include "board.h"

#include "rvm/vcpu.h"

const struct fw_board fw_board = {
    .name = "qemu-virt-riscv64",
    .arch = RVM_VCPU_RISCV64,
    .uart_base = 0x10000000u,
    .uart_kind = FW_UART_NS16550,
    .uart_reg_shift = 0,
    .ram_base = 0x80000000u,
    .ram_size = 1024u * 1024u * 1024u, /* qemu -m 1G; QEMU puts the device tree at its top */
    .tape_base = 0x90000000u,
    .tape_bytes = 0x10000000u,
    .tape_length_addr = 0x8ffff000u,
    .platform = "qemu-riscv64",
    .irqchip_kind = FW_IRQCHIP_PLIC,
    .irqchip_base0 = 0x0c000000u,
    .irqchip_base1 = 0x02000000u,
    .timer_hz = 10000000u,
    .exit_method = FW_EXIT_SIFIVE_TEST,
    .exit_base = 0x00100000u,
    .mmio = {{0x00000000u, 0x80000000u}},
};
