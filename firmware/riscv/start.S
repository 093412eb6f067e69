/* SPDX-License-Identifier: MIT */
/*
 * RISC-V entry in M-mode (QEMU `-bios` enters every hart here at 0x80000000, a0 = hartid,
 * a1 = device tree). Hart 0 sets up its stack, the trap vector and a zeroed .bss, and enters C;
 * every other hart parks in WFI, as does hart 0 should C ever return.
 */
    .section .text.start, "ax"
    .global _start
_start:
    csrr    t0, mhartid
    bnez    t0, fw_rv_park

    la      sp, __stack_top
    la      t0, fw_rv_trap_vector
    csrw    mtvec, t0                       /* direct mode: the vector is 4-byte aligned */

    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f                      /* bound: .bss size / 8 (8-byte aligned) */
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    call    fw_main
    .global fw_rv_park
fw_rv_park:
    wfi
    j       fw_rv_park

/* Every trap: switch to a stack of its own (the faulting code's stack may be what broke) and
 * report it. Nothing returns from here yet. */
    .balign 4
    .global fw_rv_trap_vector
fw_rv_trap_vector:
    la      sp, __exception_stack_top
    call    fw_rv_trap
    j       fw_rv_park
