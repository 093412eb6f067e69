/* SPDX-License-Identifier: MIT */
/*
 * Running the S-mode guest (common/guest.h) on RISC-V. The hart's PMP gets the logical CPU's
 * image (the partition's regions as rv_pmp built them) plus, in the last entry, one NAPOT entry
 * R+X for the guest's own 8 KiB (code and request page, guest.S): the lowest-priority entry, so
 * the partition's entries decide every address they cover, and it is the entry QEMU 7.2 needs
 * configured before an mret to S-mode. An image that uses the last entry leaves no room: the run
 * is refused with RVM_ERR_UNSUPPORTED and the caller checks the access in software.
 *
 * mstatus for the mret: MPP = S, MPRV = 0 (M-mode loads and stores keep their own privilege),
 * MPIE = MIE = 0 (no interrupt is taken in the guest: mie is zero and nothing is delegated), then
 * rvm_rv_mstatus_sanitize_guest, and the run is refused unless MPP names S: the guest can never
 * return into M-mode. satp = 0: the guest runs on physical addresses, as partitions do here.
 *
 * A fetch that PMP allows would execute whatever the partition's memory holds, so the firmware
 * plants an ebreak at the target for the run and puts the word back afterwards (only inside RAM
 * below the image, where every partition region lies).
 */
#include "guest.h"
#include "arch.h"
#include "board.h"
#include "csr.h"

#include "rv_pmp.h"

#define FW_RV_PMP_ENTRIES 16u
#define MCAUSE_BREAKPOINT 3u
#define INSN_EBREAK       0x00100073u

struct fw_rv_guest_ctx {
    uint64_t host[16]; /* ra, sp, gp, tp, s0..s11 (guest.S CTX_*) */
    uint64_t mepc;
    uint64_t mstatus;
    uint64_t a[8];
};

_Static_assert(__builtin_offsetof(struct fw_rv_guest_ctx, mepc) == 128, "guest.S CTX_MEPC");
_Static_assert(__builtin_offsetof(struct fw_rv_guest_ctx, mstatus) == 136, "guest.S CTX_MSTATUS");
_Static_assert(__builtin_offsetof(struct fw_rv_guest_ctx, a) == 144, "guest.S CTX_A0");

void fw_rv_guest_enter(struct fw_rv_guest_ctx *ctx);
extern char fw_rv_guest_stub[];
extern char fw_rv_guest_request[];
extern char __guest_start[], __guest_end[], __image_start[];

static uint64_t guest_mstatus(void)
{
    uint64_t m = FW_CSR_READ(mstatus);
    m &= ~(RVM_RV_MSTATUS_MPP_MASK | RVM_RV_MSTATUS_MPRV | RVM_RV_MSTATUS_MPIE |
           RVM_RV_MSTATUS_MIE | RVM_RV_MSTATUS_SIE | RVM_RV_MSTATUS_SPIE);
    m |= (uint64_t)RVM_RV_PRIV_S << RVM_RV_MSTATUS_MPP_SHIFT;
    return rvm_rv_mstatus_sanitize_guest(m);
}

static bool plantable(uint64_t addr)
{
    return addr >= fw_board.ram_base && addr < (uint64_t)(uintptr_t)__image_start &&
           (addr & 7u) == 0;
}

static void classify(struct fw_guest_exit *ex)
{
    switch (ex->cause) {
    case RVM_RV_MCAUSE_ECALL_S:
        ex->kind = FW_GUEST_EXIT_HYPERCALL;
        break;
    case MCAUSE_BREAKPOINT:
        ex->kind = FW_GUEST_EXIT_DONE;
        break;
    case RVM_RV_MCAUSE_FETCH_ACCESS:
    case RVM_RV_MCAUSE_LOAD_ACCESS:
    case RVM_RV_MCAUSE_STORE_ACCESS:
        ex->kind = FW_GUEST_EXIT_FAULT;
        break;
    case RVM_RV_MCAUSE_ILLEGAL:
        ex->kind = FW_GUEST_EXIT_PRIV;
        break;
    default:
        ex->kind = FW_GUEST_EXIT_OTHER;
        break;
    }
}

enum rvm_err fw_arch_guest_run(const struct rvm_rv_pmp *pmp, uint64_t vttbr,
                               const struct fw_guest_request *rq, struct fw_guest_exit *ex)
{
    (void)vttbr;
    const uint32_t last = FW_RV_PMP_ENTRIES - 1u;
    if (pmp == NULL || pmp->count != FW_RV_PMP_ENTRIES ||
        (pmp->cfg[last] & RVM_RV_PMP_A_MASK) != RVM_RV_PMP_A_OFF) {
        return RVM_ERR_UNSUPPORTED;
    }
    struct rvm_rv_pmp image = *pmp;
    const uint64_t base = (uint64_t)(uintptr_t)__guest_start;
    if (!rvm_rv_pmpaddr_napot(base, (uint64_t)(__guest_end - __guest_start), &image.addr[last])) {
        return RVM_ERR_INTERNAL;
    }
    image.cfg[last] = rvm_rv_pmpcfg(RVM_PERM_R | RVM_PERM_X, RVM_RV_PMP_A_NAPOT, false);
    if (!fw_arch_pmp_load(&image)) {
        return RVM_ERR_HAL;
    }

    struct fw_rv_guest_ctx ctx = {0};
    ctx.mepc = (uint64_t)(uintptr_t)fw_rv_guest_stub;
    ctx.mstatus = guest_mstatus();
    if ((ctx.mstatus & RVM_RV_MSTATUS_MPP_MASK) != (uint64_t)RVM_RV_PRIV_S
                                                       << RVM_RV_MSTATUS_MPP_SHIFT) {
        return RVM_ERR_INTERNAL; /* never mret into M-mode */
    }
    volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)fw_rv_guest_request;
    page[0] = rq->op;
    page[1] = rq->addr;
    page[2] = rq->value;
    for (uint32_t i = 0; i < 8u; i++) { /* bound: 8 argument registers */
        page[3u + i] = rq->regs[i];
    }
    volatile uint32_t *planted = NULL;
    uint32_t saved = 0;
    if (rq->op == FW_GUEST_FETCH && plantable(rq->addr)) {
        planted = (volatile uint32_t *)(uintptr_t)rq->addr;
        saved = *planted;
        *planted = INSN_EBREAK;
    }
    __asm__ volatile("csrw satp, zero\n\tcsrw medeleg, zero\n\tcsrw mideleg, zero\n\t"
                     "csrw mie, zero\n\tfence.i" ::
                         : "memory");
    fw_rv_guest_enter(&ctx);
    ex->cause = FW_CSR_READ(mcause);
    ex->pc = FW_CSR_READ(mepc);
    ex->addr = FW_CSR_READ(mtval);
    if (planted != NULL) {
        *planted = saved;
        __asm__ volatile("fence.i" ::: "memory");
    }
    for (uint32_t i = 0; i < 8u; i++) { /* bound: 8 argument registers */
        ex->regs[i] = ctx.a[i];
    }
    classify(ex);
    return RVM_OK;
}
