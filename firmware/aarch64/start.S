/* SPDX-License-Identifier: MIT */
/*
 * AArch64 entry (QEMU `-kernel` with an ELF enters here at EL2 with the MMU off; boards enter at
 * the image's load address the same way). CPU 0 (MPIDR affinity 0.0.0.0) sets up its stack, the
 * EL2 vector table and a zeroed .bss, and enters C; every other CPU parks in WFE, as does
 * CPU 0 should C ever return.
 */
    .section .text.start, "ax"
    .global _start
_start:
    mrs     x1, mpidr_el1
    mov     x2, #0xffffff                   /* Aff2.Aff1.Aff0 */
    movk    x2, #0xff, lsl #32              /* Aff3 */
    and     x1, x1, x2
    cbnz    x1, fw_a64_park

    ldr     x1, =__stack_top
    mov     sp, x1

    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    1f                              /* VBAR_EL2 does not exist below EL2 */
    ldr     x1, =fw_a64_el2_vectors
    msr     vbar_el2, x1
    isb
1:
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
2:  cmp     x1, x2                          /* bound: .bss size / 16 (16-byte aligned) */
    b.hs    3f
    stp     xzr, xzr, [x1], #16
    b       2b
3:
    bl      fw_a64_entry
    .global fw_a64_park
fw_a64_park:
    wfe
    b       fw_a64_park
