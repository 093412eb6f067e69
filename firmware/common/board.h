/* SPDX-License-Identifier: MIT */
/*
 * A board as C data: everything the firmware needs to know about the machine it runs on, so a
 * board port is one more `struct fw_board` (docs/firmware.md, "Porting to a board") and the code
 * never tests which board it is on.
 */
#ifndef RVM_FW_BOARD_H
#define RVM_FW_BOARD_H

#include <stdint.h>

enum fw_uart_kind {
    FW_UART_PL011 = 1,   /* Arm PrimeCell UART: DR at +0x00, FR.TXFF (bit 5) at +0x18 */
    FW_UART_NS16550 = 2, /* 16550: THR at +0, LSR.THRE (bit 5) at +(5 << reg_shift) */
};

enum fw_irqchip_kind {
    FW_IRQCHIP_GICV2 = 1, /* base0: distributor, base1: CPU interface */
    FW_IRQCHIP_GICV3 = 2, /* base0: distributor, base1: redistributors */
    FW_IRQCHIP_PLIC = 3,  /* base0: PLIC, base1: CLINT (machine timer) */
};

/* How the firmware ends the run and hands a status to whoever started it. */
enum fw_exit_method {
    FW_EXIT_PSCI = 1,        /* SYSTEM_OFF through `smc`: status 0; a failure signals the panic
                                device first, if the board has one (panic_ecam_base) */
    FW_EXIT_SEMIHOSTING = 2, /* Arm semihosting SYS_EXIT (`hlt #0xf000`): QEMU -semihosting
                                exits with the code; without -semihosting it falls back to PSCI */
    FW_EXIT_SIFIVE_TEST = 3, /* SiFive test device at exit_base: 0x5555 or code << 16 | 0x3333 */
};

/* A physical range the stage-1 identity map (AArch64) makes Device-nGnRnE. */
struct fw_mmio_range {
    uint64_t base;
    uint64_t size;
};

#define FW_BOARD_MMIO_MAX 4u

struct fw_board {
    const char *name; /* the `platform` field of the witness header */
    uint8_t arch;     /* enum rvm_vcpu_arch */

    uint64_t uart_base;
    uint8_t uart_kind; /* enum fw_uart_kind */
    uint8_t uart_reg_shift;

    uint64_t ram_base; /* all of RAM, including where the firmware itself is loaded */
    uint64_t ram_size;

    /* The operation tape: QEMU's loader puts the file at tape_base (-device loader,file=TAPE,
     * addr=tape_base,force-raw=on) and may write its length in bytes as a u64 at
     * tape_length_addr (-device loader,addr=tape_length_addr,data=LEN,data-len=8); without that
     * word the header's body length is taken. A tape longer than tape_bytes is refused. Guest RAM
     * (the kernel target's layout, platform/common/layout.h) starts at ram_base plus the
     * hypervisor's bytes and must end below the firmware image (docs/firmware.md, "Memory map"). */
    uint64_t tape_base;
    uint64_t tape_bytes;
    uint64_t tape_length_addr;
    const char *platform; /* the witness header's `platform` */

    uint8_t irqchip_kind; /* enum fw_irqchip_kind */
    uint64_t irqchip_base0;
    uint64_t irqchip_base1;

    uint64_t timer_hz; /* CNTFRQ_EL0 / the timebase-frequency of the CLINT's mtime */

    uint8_t exit_method; /* enum fw_exit_method */
    uint64_t exit_base;  /* SiFive test device; unused by the other methods */
    /* A failure status where the exit method has none (PSCI): QEMU's pvpanic-pci device, found
     * through the PCI ECAM at panic_ecam_base and given BAR 0 at panic_bar_base (pvpanic.h).
     * 0: none. */
    uint64_t panic_ecam_base;
    uint64_t panic_bar_base;

    struct fw_mmio_range mmio[FW_BOARD_MMIO_MAX]; /* size 0 ends the list */
};

/* The board this image was built for (firmware/<arch>/board_*.c). */
extern const struct fw_board fw_board;

#endif /* RVM_FW_BOARD_H */
