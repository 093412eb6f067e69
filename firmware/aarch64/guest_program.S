/* SPDX-License-Identifier: MIT */
/*
 * The EL1 guest program (common/guest.h) and the EL2 world switch around it (aarch64/guest.c).
 *
 * The program is one page, mapped read-only and executable into every guest at the reserved IPA
 * (guest.c): the EL1 vector table at offset 0 (every EL1 exception reports itself with
 * `hvc #FW_A64_HVC_EL1_EXCEPTION`, so nothing ever hangs in the guest) and the request loop at
 * 0x800, entered with x0 = the request page's IPA. It reads one request and performs it with
 * real instructions; it is never resumed after its trap.
 */
#include "guest_abi.h"

    .section .text.guest, "ax"
    .balign 4096
    .global fw_a64_guest_page
fw_a64_guest_page:
    .rept 16
    .balign 0x80
    hvc     #FW_A64_HVC_EL1_EXCEPTION
    .endr

    .balign 0x800
fw_a64_guest_main:
    ldr     x9, [x0, #FW_GUEST_REQ_OP]
    ldr     x10, [x0, #FW_GUEST_REQ_ADDR]
    ldr     x11, [x0, #FW_GUEST_REQ_VALUE]
    cmp     x9, #FW_GUEST_HYPERCALL
    b.eq    1f
    cmp     x9, #FW_GUEST_LOAD
    b.eq    2f
    cmp     x9, #FW_GUEST_STORE
    b.eq    3f
    cmp     x9, #FW_GUEST_SMC
    b.eq    4f
    hvc     #FW_A64_HVC_BAD_REQUEST
1:  ldp     x6, x7, [x0, #(FW_GUEST_REQ_REGS + 48)]
    ldp     x4, x5, [x0, #(FW_GUEST_REQ_REGS + 32)]
    ldp     x2, x3, [x0, #(FW_GUEST_REQ_REGS + 16)]
    ldp     x0, x1, [x0, #FW_GUEST_REQ_REGS]
    hvc     #FW_A64_HVC_HYPERCALL
    hvc     #FW_A64_HVC_BAD_REQUEST
2:  ldr     x12, [x10]
    hvc     #FW_A64_HVC_DONE
3:  str     x11, [x10]
    hvc     #FW_A64_HVC_DONE
4:  ldp     x6, x7, [x0, #(FW_GUEST_REQ_REGS + 48)]
    ldp     x4, x5, [x0, #(FW_GUEST_REQ_REGS + 32)]
    ldp     x2, x3, [x0, #(FW_GUEST_REQ_REGS + 16)]
    ldp     x0, x1, [x0, #FW_GUEST_REQ_REGS]
    smc     #0
    hvc     #FW_A64_HVC_BAD_REQUEST
    .balign 4096

/*
 * uint64_t fw_a64_guest_enter(struct fw_a64_world *w): save the hypervisor's callee-saved
 * registers and stack pointer in *w, load the guest's x0..x30 from it, ERET to ELR/SPSR from it.
 * Returns (through fw_a64_guest_exit) the vector entry the guest's exception came in on.
 */
    .text
    .global fw_a64_guest_enter
fw_a64_guest_enter:
    stp     x19, x20, [x0, #(FW_A64_W_HOST + 0)]
    stp     x21, x22, [x0, #(FW_A64_W_HOST + 16)]
    stp     x23, x24, [x0, #(FW_A64_W_HOST + 32)]
    stp     x25, x26, [x0, #(FW_A64_W_HOST + 48)]
    stp     x27, x28, [x0, #(FW_A64_W_HOST + 64)]
    stp     x29, x30, [x0, #(FW_A64_W_HOST + 80)]
    mov     x9, sp
    str     x9, [x0, #FW_A64_W_HOST_SP]
    ldr     x9, [x0, #FW_A64_W_ELR]
    msr     elr_el2, x9
    ldr     x9, [x0, #FW_A64_W_SPSR]
    msr     spsr_el2, x9
    msr     tpidr_el2, x0                   /* the vectors find the world here */
    ldp     x2, x3, [x0, #(FW_A64_W_GUEST + 16)]
    ldp     x4, x5, [x0, #(FW_A64_W_GUEST + 32)]
    ldp     x6, x7, [x0, #(FW_A64_W_GUEST + 48)]
    ldp     x8, x9, [x0, #(FW_A64_W_GUEST + 64)]
    ldp     x10, x11, [x0, #(FW_A64_W_GUEST + 80)]
    ldp     x12, x13, [x0, #(FW_A64_W_GUEST + 96)]
    ldp     x14, x15, [x0, #(FW_A64_W_GUEST + 112)]
    ldp     x16, x17, [x0, #(FW_A64_W_GUEST + 128)]
    ldp     x18, x19, [x0, #(FW_A64_W_GUEST + 144)]
    ldp     x20, x21, [x0, #(FW_A64_W_GUEST + 160)]
    ldp     x22, x23, [x0, #(FW_A64_W_GUEST + 176)]
    ldp     x24, x25, [x0, #(FW_A64_W_GUEST + 192)]
    ldp     x26, x27, [x0, #(FW_A64_W_GUEST + 208)]
    ldp     x28, x29, [x0, #(FW_A64_W_GUEST + 224)]
    ldr     x30, [x0, #(FW_A64_W_GUEST + 240)]
    ldp     x0, x1, [x0, #FW_A64_W_GUEST]
    eret

/*
 * Entered from the lower-EL vectors (vectors.S) with the guest's x0, x1 pushed on the EL2 stack,
 * x0 = the world, x1 = the vector entry: save the guest's registers, restore the hypervisor's
 * and return from fw_a64_guest_enter with the entry.
 */
    .global fw_a64_guest_exit
fw_a64_guest_exit:
    str     x1, [x0, #FW_A64_W_VECTOR]
    stp     x2, x3, [x0, #(FW_A64_W_GUEST + 16)]
    stp     x4, x5, [x0, #(FW_A64_W_GUEST + 32)]
    stp     x6, x7, [x0, #(FW_A64_W_GUEST + 48)]
    stp     x8, x9, [x0, #(FW_A64_W_GUEST + 64)]
    stp     x10, x11, [x0, #(FW_A64_W_GUEST + 80)]
    stp     x12, x13, [x0, #(FW_A64_W_GUEST + 96)]
    stp     x14, x15, [x0, #(FW_A64_W_GUEST + 112)]
    stp     x16, x17, [x0, #(FW_A64_W_GUEST + 128)]
    stp     x18, x19, [x0, #(FW_A64_W_GUEST + 144)]
    stp     x20, x21, [x0, #(FW_A64_W_GUEST + 160)]
    stp     x22, x23, [x0, #(FW_A64_W_GUEST + 176)]
    stp     x24, x25, [x0, #(FW_A64_W_GUEST + 192)]
    stp     x26, x27, [x0, #(FW_A64_W_GUEST + 208)]
    stp     x28, x29, [x0, #(FW_A64_W_GUEST + 224)]
    str     x30, [x0, #(FW_A64_W_GUEST + 240)]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #FW_A64_W_GUEST]
    msr     tpidr_el2, xzr
    ldp     x19, x20, [x0, #(FW_A64_W_HOST + 0)]
    ldp     x21, x22, [x0, #(FW_A64_W_HOST + 16)]
    ldp     x23, x24, [x0, #(FW_A64_W_HOST + 32)]
    ldp     x25, x26, [x0, #(FW_A64_W_HOST + 48)]
    ldp     x27, x28, [x0, #(FW_A64_W_HOST + 64)]
    ldp     x29, x30, [x0, #(FW_A64_W_HOST + 80)]
    ldr     x9, [x0, #FW_A64_W_HOST_SP]
    mov     sp, x9
    ldr     x0, [x0, #FW_A64_W_VECTOR]
    ret
