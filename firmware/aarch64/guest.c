/* SPDX-License-Identifier: MIT */
/*
 * The EL1 guest (common/guest.h) on AArch64.
 *
 * Translation: the CPU's live partition space (fw_hal) with one addition. The guest program's
 * page and the request page are mapped, read-only, at FW_A64_GUEST_IPA (the 508th gigabyte of
 * the 39-bit IPA space) through a level-2 and a level-3 table of the firmware's, hooked into a
 * copy of the partition's root table made just before the run; the VTTBR names that copy and
 * the partition's VMID. Every other IPA resolves through the partition's own level-2/3 tables,
 * shared, not copied, so the hardware walks exactly what the kernel built (TLB entries of the
 * VMID stay valid: the translations are the same). The partition's own tables are never
 * written. Not available (the entry is applied directly): a CPU that never activated a space, a
 * space whose root already uses that gigabyte, a request whose address lies in it or beyond
 * the CPU's physical address range (ID_AA64MMFR0_EL1.PARange: stage 1 cannot output it, on or
 * off, so a guest's access there is an address size fault at EL1 that never reaches EL2).
 *
 * Entry: HCR_EL2 = VM | TSC | RW | DC | TWI | TWE | IMO | FMO | AMO; VTTBR_EL2 as above;
 * SPSR_EL2 = the kernel frame's sanitised return state with the mode forced to EL1h (the
 * program issues `hvc`, undefined at EL0); ELR_EL2 = the program, x0 = the request's IPA and
 * every other general register (and SP_EL0/SP_EL1) = the request's IPA too, so that a store
 * through any of them faults in the read-only page instead of reaching partition memory. EL1
 * runs with its stage 1 off (HCR_EL2.DC: Normal write-back memory, coherent with EL2's view)
 * and VBAR_EL1 at the program's vectors.
 *
 * A fetch is not performed by the program (it would execute the partition's bytes with the
 * program's registers): ELR_EL2 is the address itself and software step is armed (MDSCR_EL1.SS,
 * SPSR_EL2.SS, debug exceptions routed here by MDCR_EL2.TDE). A refused fetch is an instruction
 * abort (EC 0x20); a permitted one executes one instruction, which ends in the step exception
 * (EC 0x32) or in a trap of its own (a data abort in the read-only page, an undefined
 * instruction through the program's vectors): the fetch happened either way.
 */
#include "guest.h"
#include "console.h"
#include "guest_abi.h"
#include "sysreg.h"

#include "a64_stage2.h"
#include "mem.h"

#include <stdalign.h>

#define FW_A64_GUEST_GIGABYTE 508u
#define FW_A64_GUEST_IPA      ((uint64_t)FW_A64_GUEST_GIGABYTE << 30)
#define GUEST_PROGRAM_IPA     FW_A64_GUEST_IPA
#define GUEST_REQUEST_IPA     (FW_A64_GUEST_IPA + 0x1000u)
#define GUEST_MAIN_IPA        (GUEST_PROGRAM_IPA + 0x800u)

#define HCR_VM  (1ull << 0)
#define HCR_FMO (1ull << 3)
#define HCR_IMO (1ull << 4)
#define HCR_AMO (1ull << 5)
#define HCR_DC  (1ull << 12)
#define HCR_TWI (1ull << 13)
#define HCR_TWE (1ull << 14)
#define HCR_TSC (1ull << 19)
#define HCR_RW  (1ull << 31)
#define HCR_GUEST                                                                                  \
    (HCR_VM | HCR_FMO | HCR_IMO | HCR_AMO | HCR_DC | HCR_TWI | HCR_TWE | HCR_TSC | HCR_RW)

#define MDCR_TDE   (1ull << 8)
#define MDSCR_SS   (1ull << 0)
#define SPSR_SS    (1ull << 21)
#define SPSR_M     0x1full
#define SPSR_EL1H  0x5ull
#define SCTLR_RES1 0x30d00800ull /* SCTLR_EL1's RES1 bits; M, C, I off */

#define EC_HVC64      0x16u
#define EC_SMC64      0x17u
#define EC_IABT_LOWER 0x20u
#define EC_DABT_LOWER 0x24u
#define EC_STEP_LOWER 0x32u

#define VECTOR_LOWER_SYNC 8u

struct fw_a64_world {
    uint64_t host[12];
    uint64_t host_sp;
    uint64_t vector;
    uint64_t elr;
    uint64_t spsr;
    uint64_t guest[31];
};
_Static_assert(__builtin_offsetof(struct fw_a64_world, host_sp) == FW_A64_W_HOST_SP, "host_sp");
_Static_assert(__builtin_offsetof(struct fw_a64_world, vector) == FW_A64_W_VECTOR, "vector");
_Static_assert(__builtin_offsetof(struct fw_a64_world, elr) == FW_A64_W_ELR, "elr");
_Static_assert(__builtin_offsetof(struct fw_a64_world, spsr) == FW_A64_W_SPSR, "spsr");
_Static_assert(__builtin_offsetof(struct fw_a64_world, guest) == FW_A64_W_GUEST, "guest");
_Static_assert(sizeof(struct fw_a64_world) == FW_A64_W_BYTES, "world");

uint64_t fw_a64_guest_enter(struct fw_a64_world *w);
extern const char fw_a64_guest_page[];

static alignas(4096) uint64_t shadow_root[RVM_A64_ENTRIES];
static alignas(4096) uint64_t guest_l2[RVM_A64_ENTRIES];
static alignas(4096) uint64_t guest_l3[RVM_A64_ENTRIES];
static alignas(4096) uint8_t request_page[4096];
static struct fw_a64_world world;
static bool prepared;
static uint32_t pa_bits; /* ID_AA64MMFR0_EL1.PARange: the widest address stage 1 can output */

static uint64_t pa(const void *p)
{
    return (uint64_t)(uintptr_t)p; /* EL2 runs identity-mapped */
}

static uint64_t page_desc(const void *page, bool exec)
{
    return pa(page) | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE |
           (RVM_A64_MEMATTR_NORMAL_WB << RVM_A64_MEMATTR_SHIFT) | RVM_A64_S2AP_READ |
           RVM_A64_SH_INNER | RVM_A64_DESC_AF | (exec ? 0u : RVM_A64_DESC_XN);
}

static void prepare(void)
{
    guest_l2[0] = pa(guest_l3) | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE;
    guest_l3[0] = page_desc(fw_a64_guest_page, true);
    guest_l3[1] = page_desc(request_page, false);
    /* The debug exceptions software step needs: the OS lock (set at reset) released. */
    FW_WRITE_SYSREG(oslar_el1, 0);
    static const uint8_t parange_bits[8] = {32, 36, 40, 42, 44, 48, 52, 52};
    pa_bits = parange_bits[FW_READ_SYSREG(id_aa64mmfr0_el1) & 7u];
    __asm__ volatile("ic iallu" ::: "memory"); /* the program page as the loader wrote it */
    prepared = true;
}

/* An address no guest instruction can reach as an IPA: the program's own gigabyte, or beyond
 * the physical address range, where the guest's stage 1 (on or off) faults at EL1 before
 * anything reaches stage 2. */
static bool unreachable(uint64_t ipa)
{
    return (ipa >> 30) == FW_A64_GUEST_GIGABYTE || (ipa >> pa_bits) != 0;
}

static enum fw_guest_cause classify(const struct fw_guest_request *rq, uint64_t vector,
                                    uint64_t esr)
{
    const uint32_t ec = (uint32_t)(esr >> RVM_A64_EC_SHIFT) & 0x3fu;
    if (vector != VECTOR_LOWER_SYNC) {
        return FW_TRAP_OTHER;
    }
    if (ec == EC_HVC64) {
        const uint32_t imm = (uint32_t)esr & 0xffffu;
        return imm == FW_A64_HVC_HYPERCALL ? FW_TRAP_HYPERCALL
               : imm == FW_A64_HVC_DONE    ? FW_TRAP_DONE
                                           : FW_TRAP_OTHER;
    }
    if (ec == EC_SMC64) {
        return FW_TRAP_SMC;
    }
    if (ec == EC_IABT_LOWER) {
        return FW_TRAP_FETCH_ABORT;
    }
    if (ec == EC_DABT_LOWER) {
        return FW_TRAP_DATA_ABORT;
    }
    return ec == EC_STEP_LOWER && rq->op == FW_GUEST_FETCH ? FW_TRAP_DONE : FW_TRAP_OTHER;
}

/* The syndrome bits the model predicts: EC, IL, EA, CM, S1PTW, WnR and the fault status code.
 * ISV, SAS, SSE, SRT, SF and AR describe the faulting instruction's register and width, which a
 * model of the tables cannot know (docs/deviations.md FW3). */
#define ESR_MODEL_MASK 0xfe0003ffull

/* Compare a real abort with what the platform model predicts for the same tables and access;
 * the first difference is shown on the console. */
static void check_model(const struct fw_hal *h, uint64_t vttbr, const struct fw_guest_request *rq,
                        const struct fw_guest_trap *trap)
{
    const enum rvm_a64_access access = rq->op == FW_GUEST_FETCH   ? RVM_A64_EXEC
                                       : rq->op == FW_GUEST_STORE ? RVM_A64_WRITE
                                                                  : RVM_A64_READ;
    struct rvm_a64_walk w;
    const bool faults = rvm_a64_walk(&h->as.pool, vttbr, rq->addr, access, &w) != RVM_OK;
    const uint64_t model_esr = faults ? rvm_a64_esr(&w, access) : 0u;
    fw_guest_stats.model_checked++;
    if (faults && (trap->syndrome & ESR_MODEL_MASK) == model_esr && trap->addr == rq->addr) {
        return;
    }
    if (fw_guest_stats.model_differs++ == 0) {
        fw_console_line_start();
        fw_puts("guest: abort differs from the model: ");
        fw_put_field("ipa", rq->addr);
        fw_put_field("esr", trap->syndrome);
        fw_put_field("model_esr", model_esr);
        fw_put_field("addr", trap->addr);
        fw_puts("\n");
    }
}

enum fw_guest_cause fw_arch_guest_run(struct fw_hal *h, uint32_t cpu,
                                      const struct fw_guest_request *rq, struct fw_guest_trap *trap)
{
    const struct fw_hal_cpu *c = &h->cpu[cpu];
    const struct rvm_aspace_space *sp = c->active ? rvm_aspace_find(&h->as, c->part) : NULL;
    const bool addressed =
        rq->op == FW_GUEST_LOAD || rq->op == FW_GUEST_STORE || rq->op == FW_GUEST_FETCH;
    if (!prepared) {
        prepare();
    }
    if (sp == NULL || (addressed && unreachable(rq->addr))) {
        return FW_TRAP_UNAVAILABLE;
    }
    const uint64_t vttbr = rvm_a64_vttbr(&h->as.pool, &sp->s2, (uint8_t)c->vmid);
    const uint64_t *root = (const uint64_t *)(uintptr_t)(vttbr & RVM_A64_VTTBR_BADDR_MASK);
    if ((root[FW_A64_GUEST_GIGABYTE] & RVM_A64_DESC_VALID) != 0) {
        return FW_TRAP_UNAVAILABLE;
    }
    memcpy(shadow_root, root, sizeof(shadow_root));
    shadow_root[FW_A64_GUEST_GIGABYTE] = pa(guest_l2) | RVM_A64_DESC_VALID | RVM_A64_DESC_TYPE;
    memcpy(request_page, rq, sizeof(*rq));

    const bool fetch = rq->op == FW_GUEST_FETCH;
    memset(&world, 0, sizeof(world));
    for (uint32_t i = 0; i < 31; i++) { /* bound: 31 general registers */
        world.guest[i] = GUEST_REQUEST_IPA;
    }
    world.elr = fetch ? rq->addr : GUEST_MAIN_IPA;
    world.spsr = (rq->pstate & ~(SPSR_M | SPSR_SS)) | SPSR_EL1H | (fetch ? SPSR_SS : 0u);

    const uint64_t saved_vttbr = FW_READ_SYSREG(vttbr_el2);
    const uint64_t saved_hcr = FW_READ_SYSREG(hcr_el2);
    const uint64_t saved_mdcr = FW_READ_SYSREG(mdcr_el2);
    FW_WRITE_SYSREG(sctlr_el1, SCTLR_RES1);
    FW_WRITE_SYSREG(vbar_el1, GUEST_PROGRAM_IPA);
    FW_WRITE_SYSREG(sp_el1, GUEST_REQUEST_IPA);
    FW_WRITE_SYSREG(sp_el0, GUEST_REQUEST_IPA);
    FW_WRITE_SYSREG(mdscr_el1, fetch ? MDSCR_SS : 0u);
    FW_WRITE_SYSREG(mdcr_el2, saved_mdcr | MDCR_TDE);
    fw_a64_dsb_sy(); /* the copied root and the request are visible to the walker and the guest */
    FW_WRITE_SYSREG(vtcr_el2, RVM_A64_VTCR_VALUE);
    FW_WRITE_SYSREG(vttbr_el2, pa(shadow_root) | ((uint64_t)c->vmid << RVM_A64_VTTBR_VMID_SHIFT));
    FW_WRITE_SYSREG(hcr_el2, HCR_GUEST);
    fw_a64_isb();

    const uint64_t vector = fw_a64_guest_enter(&world);

    trap->syndrome = FW_READ_SYSREG(esr_el2);
    const uint64_t far = FW_READ_SYSREG(far_el2);
    const uint64_t hpfar = FW_READ_SYSREG(hpfar_el2);
    FW_WRITE_SYSREG(hcr_el2, saved_hcr);
    FW_WRITE_SYSREG(mdscr_el1, 0u);
    FW_WRITE_SYSREG(mdcr_el2, saved_mdcr);
    FW_WRITE_SYSREG(vttbr_el2, saved_vttbr);
    fw_a64_isb();

    trap->cause = classify(rq, vector, trap->syndrome);
    /* HPFAR_EL2.FIPA holds IPA[47:12] in bits [43:4]; FAR_EL2 the page offset (stage 1 off:
     * the virtual address is the IPA). */
    trap->addr = ((hpfar >> 4) << 12) | (far & 0xfffu);
    memcpy(trap->regs, world.guest, sizeof(trap->regs));
    if (trap->cause == FW_TRAP_DATA_ABORT || trap->cause == FW_TRAP_FETCH_ABORT) {
        check_model(h, vttbr, rq, trap);
    }
    return (enum fw_guest_cause)trap->cause;
}
