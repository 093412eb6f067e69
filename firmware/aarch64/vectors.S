/* SPDX-License-Identifier: MIT */
/*
 * The EL2 exception vector table: 16 entries of 0x80 bytes (current EL with SP_EL0, current EL
 * with SP_ELx, lower EL AArch64, lower EL AArch32; each synchronous, IRQ, FIQ, SError).
 * An exception from a lower EL while a guest runs (TPIDR_EL2 holds its world, guest.c) returns
 * to the hypervisor through fw_a64_guest_exit (guest_program.S). Every other exception is
 * unexpected: its entry switches to a stack of its own (the faulting code's stack may be what
 * broke) and reports it: fw_a64_exception(entry index).
 */
    .macro  entry index
    .balign 0x80
    ldr     x1, =__exception_stack_top
    mov     sp, x1
    mov     x0, #\index
    b       fw_a64_exception
    .endm

    .macro  lower index
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mrs     x0, tpidr_el2
    mov     x1, #\index
    cbnz    x0, fw_a64_guest_exit
    ldr     x1, =__exception_stack_top
    mov     sp, x1
    mov     x0, #\index
    b       fw_a64_exception
    .endm

    .section .text.vectors, "ax"
    .balign 2048
    .global fw_a64_el2_vectors
fw_a64_el2_vectors:
    entry 0
    entry 1
    entry 2
    entry 3
    entry 4
    entry 5
    entry 6
    entry 7
    lower 8
    lower 9
    lower 10
    lower 11
    entry 12
    entry 13
    entry 14
    entry 15
    .ltorg
