/* SPDX-License-Identifier: MIT */
/*
 * The EL2 exception vector table: 16 entries of 0x80 bytes (current EL with SP_EL0, current EL
 * with SP_ELx, lower EL AArch64, lower EL AArch32; each synchronous, IRQ, FIQ, SError).
 * Nothing is handled yet, so every entry switches to a stack of its own (the faulting code's
 * stack may be what broke) and reports the exception: fw_a64_exception(entry index).
 */
    .macro  entry index
    .balign 0x80
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
    entry 8
    entry 9
    entry 10
    entry 11
    entry 12
    entry 13
    entry 14
    entry 15
    .ltorg
