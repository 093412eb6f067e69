/* SPDX-License-Identifier: MIT */
/*
 * The guest program on RISC-V (common/guest.h): S-mode, under the PMP image the logical CPU
 * holds (struct fw_hal_cpu.pmp, rv_pmp's image of the partition's regions) plus, in the last
 * entry, one NAPOT entry R+X for the program's own 8 KiB (code and request page, guest.S). The
 * last entry has the lowest priority, so the partition's entries decide every address they
 * cover; it is also the entry QEMU 7.2 needs configured before an mret to S-mode. An image that
 * uses the last entry itself leaves no room: FW_TRAP_UNAVAILABLE, and the request is applied
 * directly (counted).
 *
 * mstatus for the mret: the kernel frame's return state (`pstate`, the guest's part of mstatus)
 * through the core's sanitiser, MPP forced to S (the privilege the program needs), then
 * rvm_rv_mstatus_sanitize_guest; the run is refused unless MPP names S, so the guest never
 * returns into M-mode. MPRV, MIE and MPIE are zero (none is among the guest's bits), mie is
 * zero and nothing is delegated: no interrupt is taken while the guest runs. satp = 0: the guest
 * runs on physical addresses, as the partitions do here. The world switch (guest.S) enters with
 * every register zero but a0..a7 (zero too) and scrubs the guest's registers on the way back.
 *
 * A fetch that PMP allows would execute whatever the partition's memory holds, so an ebreak is
 * planted at the target for the run and the word put back afterwards (only in RAM below the
 * image, where every partition region lies). Every access trap, completed or faulted, is checked
 * against the model (rvm_rv_access_check on the same image; counted in fw_guest_stats'
 * model_checked / model_differs): the cause must be the one the model gives and mtval the
 * address; otherwise the run is FW_TRAP_OTHER (the replay stops on it) and the console says
 * which side said what.
 */
#include "guest.h"

#include "arch.h"
#include "board.h"
#include "console.h"
#include "csr.h"

#include "rv_pmp.h"
#include "rvm/vcpu.h"

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

static uint64_t guest_mstatus(uint64_t pstate)
{
    uint64_t m = rvm_vcpu_rv_mstatus_sanitise(pstate, NULL);
    m = (m & ~RVM_RV_MSTATUS_MPP_MASK) | (uint64_t)RVM_RV_PRIV_S << RVM_RV_MSTATUS_MPP_SHIFT;
    return rvm_rv_mstatus_sanitize_guest(m);
}

static bool plantable(uint64_t addr)
{
    return addr >= fw_board.ram_base && addr < (uint64_t)(uintptr_t)__image_start &&
           (addr & 7u) == 0;
}

/* The hart's PMP for the run: the CPU's image and the program's own entry. */
static bool load_pmp(const struct rvm_rv_pmp *pmp)
{
    const uint32_t last = FW_RV_PMP_ENTRIES - 1u;
    struct rvm_rv_pmp image = *pmp;
    if (!rvm_rv_pmpaddr_napot((uint64_t)(uintptr_t)__guest_start,
                              (uint64_t)(__guest_end - __guest_start), &image.addr[last])) {
        return false;
    }
    image.cfg[last] = rvm_rv_pmpcfg(RVM_PERM_R | RVM_PERM_X, RVM_RV_PMP_A_NAPOT, false);
    return fw_arch_pmp_load(&image);
}

static void write_request(const struct fw_guest_request *rq)
{
    volatile uint64_t *page = (volatile uint64_t *)(uintptr_t)fw_rv_guest_request;
    page[0] = rq->op;
    page[1] = rq->addr;
    page[2] = rq->value;
    page[3] = rq->pstate;
    for (uint32_t i = 0; i < 8u; i++) { /* bound: 8 argument registers */
        page[4u + i] = rq->regs[i];
    }
}

static void say_disagreement(const char *what, uint64_t addr, uint64_t model, uint64_t hart)
{
    fw_console_line_start();
    fw_puts("rvmfw: guest ");
    fw_puts(what);
    fw_puts(": the model (rv_pmp) and the hart disagree\nrvmfw: ");
    fw_put_field("addr", addr);
    fw_put_field("model", model);
    fw_put_field("hart", hart);
    fw_puts("\n");
}

/* An access request's trap against the model's verdict on the same image. */
static enum fw_guest_cause access_cause(const struct rvm_rv_pmp *pmp,
                                        const struct fw_guest_request *rq,
                                        const struct fw_guest_trap *t, uint64_t pc)
{
    const enum rvm_rv_access a = rq->op == FW_GUEST_STORE   ? RVM_RV_STORE
                                 : rq->op == FW_GUEST_FETCH ? RVM_RV_FETCH
                                                            : RVM_RV_LOAD;
    struct rvm_rv_fault f = {0, 0};
    const bool allowed = rvm_rv_access_check(pmp, 0, RVM_RV_PRIV_S, rq->addr, 8, a, &f) == RVM_OK;
    if (t->syndrome == MCAUSE_BREAKPOINT && (a != RVM_RV_FETCH || pc == rq->addr)) {
        fw_guest_stats.model_checked++;
        if (!allowed) {
            fw_guest_stats.model_differs++;
            say_disagreement("access", rq->addr, f.mcause, 0);
            return FW_TRAP_OTHER;
        }
        return FW_TRAP_DONE;
    }
    if (t->syndrome == rvm_rv_access_fault_cause(a)) {
        fw_guest_stats.model_checked++;
        if (allowed || f.mcause != t->syndrome || f.mtval != t->addr) {
            fw_guest_stats.model_differs++;
            say_disagreement("access fault", t->addr, allowed ? 0 : f.mcause, t->syndrome);
            return FW_TRAP_OTHER;
        }
        return a == RVM_RV_FETCH ? FW_TRAP_FETCH_ABORT : FW_TRAP_DATA_ABORT;
    }
    return FW_TRAP_OTHER;
}

static enum fw_guest_cause cause_of(const struct rvm_rv_pmp *pmp, const struct fw_guest_request *rq,
                                    const struct fw_guest_trap *t, uint64_t pc)
{
    switch (rq->op) {
    case FW_GUEST_HYPERCALL:
        return t->syndrome == RVM_RV_MCAUSE_ECALL_S ? FW_TRAP_HYPERCALL : FW_TRAP_OTHER;
    case FW_GUEST_SMC: /* the M-mode register read: an illegal instruction in S-mode */
        return t->syndrome == RVM_RV_MCAUSE_ILLEGAL ? FW_TRAP_SMC : FW_TRAP_OTHER;
    case FW_GUEST_LOAD:
    case FW_GUEST_STORE:
    case FW_GUEST_FETCH:
        return access_cause(pmp, rq, t, pc);
    default:
        return FW_TRAP_OTHER;
    }
}

enum fw_guest_cause fw_arch_guest_run(struct fw_hal *h, uint32_t cpu,
                                      const struct fw_guest_request *rq, struct fw_guest_trap *trap)
{
    if (cpu >= FW_HAL_MAX_CPUS || !h->cpu[cpu].active) {
        return FW_TRAP_UNAVAILABLE;
    }
    const struct rvm_rv_pmp *pmp = &h->cpu[cpu].pmp;
    if (pmp->count != FW_RV_PMP_ENTRIES ||
        (pmp->cfg[FW_RV_PMP_ENTRIES - 1u] & RVM_RV_PMP_A_MASK) != RVM_RV_PMP_A_OFF) {
        return FW_TRAP_UNAVAILABLE; /* no entry left for the program's own pages */
    }
    const uint64_t guest = (uint64_t)(uintptr_t)__guest_start;
    if (rq->addr - guest < (uint64_t)(__guest_end - __guest_start)) {
        return FW_TRAP_UNAVAILABLE; /* the program's own pages are not the partition's */
    }
    struct fw_rv_guest_ctx ctx = {0};
    ctx.mepc = (uint64_t)(uintptr_t)fw_rv_guest_stub;
    ctx.mstatus = guest_mstatus(rq->pstate);
    if ((ctx.mstatus & RVM_RV_MSTATUS_MPP_MASK) != (uint64_t)RVM_RV_PRIV_S
                                                       << RVM_RV_MSTATUS_MPP_SHIFT) {
        return FW_TRAP_UNAVAILABLE; /* never mret into M-mode (cannot happen: MPP was forced) */
    }
    if (!load_pmp(pmp)) {
        h->pmp_disagreements++;
        say_disagreement("pmp registers", 0, 0, 0);
        trap->syndrome = 0;
        return FW_TRAP_OTHER;
    }
    write_request(rq);
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
    trap->syndrome = FW_CSR_READ(mcause);
    const uint64_t pc = FW_CSR_READ(mepc);
    trap->addr = FW_CSR_READ(mtval);
    if (planted != NULL) {
        *planted = saved;
        __asm__ volatile("fence.i" ::: "memory");
    }
    for (uint32_t i = 0; i < 8u; i++) { /* bound: 8 argument registers */
        trap->regs[i] = ctx.a[i];
    }
    /* the hart's PMP back to the image of the CPU it runs, without the program's entry */
    if (!fw_arch_pmp_load(&h->cpu[h->hart_cpu].pmp)) {
        h->pmp_disagreements++;
    }
    trap->cause = cause_of(pmp, rq, trap, pc);
    return (enum fw_guest_cause)trap->cause;
}
