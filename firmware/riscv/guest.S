/* SPDX-License-Identifier: MIT */
/*
 * The S-mode guest and the world switch around it (guest.c, common/guest.h).
 *
 * fw_rv_guest_enter(ctx): saves the firmware's callee-saved registers, ra, sp, gp and tp in ctx,
 * puts ctx in mscratch (which is zero while the firmware runs, so the trap vector can tell a
 * guest's trap from its own), loads mepc and mstatus from ctx, loads a0..a7 from ctx, zeroes
 * every other register and mret's. The guest's trap arrives at fw_rv_trap_vector (start.S),
 * which comes here (fw_rv_guest_trap) with sp = ctx: a0..a7 are stored in ctx, mscratch cleared,
 * the firmware's registers restored and every temporary and argument register zeroed, so nothing
 * of the guest stays in the firmware's registers; fw_rv_guest_enter then returns.
 *
 * The guest (section .guest, its own 8 KiB with the request page, the only memory outside the
 * partition's regions its PMP gives it) reads the request page (common/guest_request.h) and
 * performs one request:
 *   1 hypercall: a0..a7 from the page, ecall (mcause 9)
 *   2 load / 3 store: an 8-byte ld / sd at the page's address (access fault 5 / 7), then ebreak
 *   4 fetch: a jump to the address (fault 1; where it is allowed the firmware planted an ebreak)
 *   5 the call below the hypervisor (FW_GUEST_SMC): on RISC-V nothing lies below M-mode, so the
 *     guest reaches for M-mode's privilege instead: csrr of mstatus, an M-mode register
 *     (illegal instruction, mcause 2, mtval the instruction), then ebreak
 * An unknown request ends in ebreak at once.
 */
#include "guest_request.h"

#define CTX_RA      0
#define CTX_SP      8
#define CTX_GP      16
#define CTX_TP      24
#define CTX_S0      32
#define CTX_MEPC    128
#define CTX_MSTATUS 136
#define CTX_A0      144

    .section .text, "ax"
    .global fw_rv_guest_enter
fw_rv_guest_enter:
    sd      ra, CTX_RA(a0)
    sd      sp, CTX_SP(a0)
    sd      gp, CTX_GP(a0)
    sd      tp, CTX_TP(a0)
    sd      s0, CTX_S0 + 0 * 8(a0)
    sd      s1, CTX_S0 + 1 * 8(a0)
    sd      s2, CTX_S0 + 2 * 8(a0)
    sd      s3, CTX_S0 + 3 * 8(a0)
    sd      s4, CTX_S0 + 4 * 8(a0)
    sd      s5, CTX_S0 + 5 * 8(a0)
    sd      s6, CTX_S0 + 6 * 8(a0)
    sd      s7, CTX_S0 + 7 * 8(a0)
    sd      s8, CTX_S0 + 8 * 8(a0)
    sd      s9, CTX_S0 + 9 * 8(a0)
    sd      s10, CTX_S0 + 10 * 8(a0)
    sd      s11, CTX_S0 + 11 * 8(a0)
    ld      t0, CTX_MEPC(a0)
    csrw    mepc, t0
    ld      t0, CTX_MSTATUS(a0)
    csrw    mstatus, t0
    csrw    mscratch, a0
    ld      a1, CTX_A0 + 1 * 8(a0)
    ld      a2, CTX_A0 + 2 * 8(a0)
    ld      a3, CTX_A0 + 3 * 8(a0)
    ld      a4, CTX_A0 + 4 * 8(a0)
    ld      a5, CTX_A0 + 5 * 8(a0)
    ld      a6, CTX_A0 + 6 * 8(a0)
    ld      a7, CTX_A0 + 7 * 8(a0)
    ld      a0, CTX_A0 + 0 * 8(a0)
    li      ra, 0
    li      sp, 0
    li      gp, 0
    li      tp, 0
    li      t0, 0
    li      t1, 0
    li      t2, 0
    li      t3, 0
    li      t4, 0
    li      t5, 0
    li      t6, 0
    li      s0, 0
    li      s1, 0
    li      s2, 0
    li      s3, 0
    li      s4, 0
    li      s5, 0
    li      s6, 0
    li      s7, 0
    li      s8, 0
    li      s9, 0
    li      s10, 0
    li      s11, 0
    mret

    .global fw_rv_guest_trap
fw_rv_guest_trap:                           /* sp = ctx, mscratch = the guest's sp */
    sd      a0, CTX_A0 + 0 * 8(sp)
    sd      a1, CTX_A0 + 1 * 8(sp)
    sd      a2, CTX_A0 + 2 * 8(sp)
    sd      a3, CTX_A0 + 3 * 8(sp)
    sd      a4, CTX_A0 + 4 * 8(sp)
    sd      a5, CTX_A0 + 5 * 8(sp)
    sd      a6, CTX_A0 + 6 * 8(sp)
    sd      a7, CTX_A0 + 7 * 8(sp)
    csrw    mscratch, zero
    ld      ra, CTX_RA(sp)
    ld      gp, CTX_GP(sp)
    ld      tp, CTX_TP(sp)
    ld      s0, CTX_S0 + 0 * 8(sp)
    ld      s1, CTX_S0 + 1 * 8(sp)
    ld      s2, CTX_S0 + 2 * 8(sp)
    ld      s3, CTX_S0 + 3 * 8(sp)
    ld      s4, CTX_S0 + 4 * 8(sp)
    ld      s5, CTX_S0 + 5 * 8(sp)
    ld      s6, CTX_S0 + 6 * 8(sp)
    ld      s7, CTX_S0 + 7 * 8(sp)
    ld      s8, CTX_S0 + 8 * 8(sp)
    ld      s9, CTX_S0 + 9 * 8(sp)
    ld      s10, CTX_S0 + 10 * 8(sp)
    ld      s11, CTX_S0 + 11 * 8(sp)
    li      t0, 0
    li      t1, 0
    li      t2, 0
    li      t3, 0
    li      t4, 0
    li      t5, 0
    li      t6, 0
    li      a0, 0
    li      a1, 0
    li      a2, 0
    li      a3, 0
    li      a4, 0
    li      a5, 0
    li      a6, 0
    li      a7, 0
    ld      sp, CTX_SP(sp)
    ret

/* ---- the guest: S-mode, position-independent, touches only its own 8 KiB and the target ---- */
    .section .guest, "awx"
    .option norelax                         /* sizes fixed at assembly: the page must fit */
    .global fw_rv_guest_stub
fw_rv_guest_stub:
    lla     t0, fw_rv_guest_request
    ld      t1, FW_GUEST_REQ_OP(t0)
    li      t2, FW_GUEST_HYPERCALL
    beq     t1, t2, 1f
    li      t2, FW_GUEST_LOAD
    beq     t1, t2, 2f
    li      t2, FW_GUEST_STORE
    beq     t1, t2, 3f
    li      t2, FW_GUEST_FETCH
    beq     t1, t2, 4f
    li      t2, FW_GUEST_SMC
    beq     t1, t2, 5f
    ebreak
1:  ld      a0, FW_GUEST_REQ_REGS + 0 * 8(t0)
    ld      a1, FW_GUEST_REQ_REGS + 1 * 8(t0)
    ld      a2, FW_GUEST_REQ_REGS + 2 * 8(t0)
    ld      a3, FW_GUEST_REQ_REGS + 3 * 8(t0)
    ld      a4, FW_GUEST_REQ_REGS + 4 * 8(t0)
    ld      a5, FW_GUEST_REQ_REGS + 5 * 8(t0)
    ld      a6, FW_GUEST_REQ_REGS + 6 * 8(t0)
    ld      a7, FW_GUEST_REQ_REGS + 7 * 8(t0)
    ecall
    ebreak
2:  ld      t2, FW_GUEST_REQ_ADDR(t0)
    ld      t3, 0(t2)
    ebreak
3:  ld      t2, FW_GUEST_REQ_ADDR(t0)
    ld      t3, FW_GUEST_REQ_VALUE(t0)
    sd      t3, 0(t2)
    ebreak
4:  ld      t2, FW_GUEST_REQ_ADDR(t0)
    jr      t2
5:  csrr    t2, mstatus
    ebreak

    .balign 4096
    .global fw_rv_guest_request
fw_rv_guest_request:
    .space  4096
