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
    csrw    mscratch, zero                  /* no guest runs (the trap vector's test) */
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

/* Every trap. mscratch is non-zero only while a guest runs (guest.S): then the trap is the
 * guest's, sp becomes its context and fw_rv_guest_trap returns to the firmware (t0 is the
 * guest's, scratch here). Otherwise the firmware itself trapped: a stack of its own (the faulting
 * code's stack may be what broke) and the report; nothing returns from that. */
    .balign 4
    .global fw_rv_trap_vector
fw_rv_trap_vector:
    csrrw   sp, mscratch, sp
    beqz    sp, 1f
    la      t0, fw_rv_guest_trap
    jr      t0
1:  csrrw   sp, mscratch, sp
    la      sp, __exception_stack_top
    call    fw_rv_trap
    j       fw_rv_park
