/* SPDX-License-Identifier: MIT */
#include "rvm/vcpu.h"

#include "rvm/bytes.h"

/* ---- AArch64 SPSR_EL2 (Arm ARM, "SPSR_EL2, when an exception is taken from AArch64") ------- */
#define A64_M_MASK 0x1Full /* M[4:0]; M[4] = 1 would be AArch32 */
#define A64_M_EL0T 0x00u
#define A64_M_EL1T 0x04u
#define A64_M_EL1H 0x05u
#define A64_KEEP                                                                                   \
    (0xFull          /* M[3:0] */                                                                  \
     | 0xFull << 6   /* F I A D */                                                                 \
     | 0x3ull << 10  /* BTYPE */                                                                   \
     | 1ull << 12    /* SSBS */                                                                    \
     | 1ull << 13    /* ALLINT */                                                                  \
     | 1ull << 22    /* PAN */                                                                     \
     | 1ull << 23    /* UAO */                                                                     \
     | 1ull << 24    /* DIT */                                                                     \
     | 1ull << 25    /* TCO */                                                                     \
     | 0xFull << 28) /* N Z C V */

/* ---- RISC-V mstatus (privileged spec 1.12+, RV64) ----------------------------------------- */
#define RV_MPP_SHIFT 11u
#define RV_MPP_MASK  (3ull << RV_MPP_SHIFT)
#define RV_KEEP                                                                                    \
    (1ull << 1                                  /* SIE */                                          \
     | 1ull << 5                                /* SPIE */                                         \
     | 1ull << 6                                /* UBE */                                          \
     | 1ull << 8                                /* SPP */                                          \
     | 3ull << 9                                /* VS */                                           \
     | 3ull << 13                               /* FS */                                           \
     | 1ull << 18                               /* SUM */                                          \
     | 1ull << 19)                              /* MXR */
#define RV_FORCED     (2ull << 32 | 2ull << 34) /* UXL = SXL = 2: RV64 */
#define RV_S_INT_MASK 0x2222ull                 /* SSIP/SSIE, STIP/STIE, SEIP/SEIE, LCOFIP/LCOFIE */
#define RV_FCSR_MASK  0xFFull                   /* frm | fflags */
#define RV_ARG0       10u                       /* a0 = x10 */

uint64_t rvm_vcpu_a64_spsr_sanitise(uint64_t spsr, uint32_t *fixes)
{
    uint32_t f = 0;
    uint64_t m = spsr & A64_M_MASK;
    uint64_t out;
    if (m != A64_M_EL0T && m != A64_M_EL1T && m != A64_M_EL1H) {
        f = RVM_VCPU_FIX_MODE;
        out = RVM_VCPU_A64_SPSR_SAFE;
    } else {
        out = spsr & A64_KEEP;
        if (out != spsr) {
            f = RVM_VCPU_FIX_BITS;
        }
    }
    if (fixes != NULL) {
        *fixes |= f;
    }
    return out;
}

uint64_t rvm_vcpu_rv_mstatus_sanitise(uint64_t mstatus, uint32_t *fixes)
{
    uint32_t f = 0;
    uint64_t mpp = (mstatus & RV_MPP_MASK) >> RV_MPP_SHIFT;
    uint64_t out;
    if (mpp > 1u) {
        f = RVM_VCPU_FIX_MODE;
        out = RVM_VCPU_RV_MSTATUS_SAFE;
    } else {
        out = (mstatus & RV_KEEP) | (mpp << RV_MPP_SHIFT) | RV_FORCED;
        if (out != mstatus) {
            f = RVM_VCPU_FIX_BITS;
        }
    }
    if (fixes != NULL) {
        *fixes |= f;
    }
    return out;
}

static inline uint64_t keep(uint64_t v, uint64_t mask, uint32_t *f)
{
    if ((v & ~mask) != 0) {
        *f |= RVM_VCPU_FIX_REGS;
    }
    return v & mask;
}

static void zero_from(uint64_t *a, uint32_t from, uint32_t n, uint32_t *f)
{
    for (uint32_t i = from; i < n; i++) { /* bound: n <= 64 */
        if (a[i] != 0) {
            *f |= RVM_VCPU_FIX_REGS;
            a[i] = 0;
        }
    }
}

uint32_t rvm_vcpu_sanitise(uint8_t arch, struct rvm_vcpu_regs *r)
{
    uint32_t f = 0;
    if (arch == RVM_VCPU_AARCH64) {
        r->pstate = rvm_vcpu_a64_spsr_sanitise(r->pstate, &f);
        zero_from(r->sys, RVM_A64_SYS_COUNT, RVM_VCPU_SYSREGS, &f);
    } else if (arch == RVM_VCPU_RISCV64) {
        r->pstate = rvm_vcpu_rv_mstatus_sanitise(r->pstate, &f);
        if ((r->pc & 1u) != 0) {
            r->pc &= ~(uint64_t)1;
            f |= RVM_VCPU_FIX_PC;
        }
        r->gpr[0] = keep(r->gpr[0], 0, &f);
        r->sys[RVM_RV_SIE] = keep(r->sys[RVM_RV_SIE], RV_S_INT_MASK, &f);
        r->sys[RVM_RV_SIP] = keep(r->sys[RVM_RV_SIP], RV_S_INT_MASK, &f);
        zero_from(r->sys, RVM_RV_SYS_COUNT, RVM_VCPU_SYSREGS, &f);
        zero_from(r->fp, 32, RVM_VCPU_FPREGS, &f);
        r->fpcr = keep(r->fpcr, RV_FCSR_MASK, &f);
        r->fpsr = keep(r->fpsr, 0, &f);
    } else {
        rvm_memset(r, 0, sizeof(*r));
        f = RVM_VCPU_FIX_MODE | RVM_VCPU_FIX_REGS;
    }
    return f;
}

static inline bool arch_ok(uint8_t arch)
{
    return arch == RVM_VCPU_AARCH64 || arch == RVM_VCPU_RISCV64;
}

static inline uint32_t arg_base(uint8_t arch)
{
    return arch == RVM_VCPU_RISCV64 ? RV_ARG0 : 0u;
}

static void put_args(uint8_t arch, struct rvm_vcpu_regs *r, const uint64_t *args, uint32_t nargs)
{
    uint32_t base = arg_base(arch);
    for (uint32_t i = 0; i < nargs; i++) { /* bound: nargs <= RVM_VCPU_MAX_ARGS */
        r->gpr[base + i] = args[i];
    }
}

enum rvm_err rvm_vcpu_init(struct rvm_vcpu_ctx *ctx, uint8_t arch, rvm_partition_id owner,
                           uint64_t entry_pc, const uint64_t *args, uint32_t nargs)
{
    if (!arch_ok(arch)) {
        return RVM_ERR_BAD_ARCH;
    }
    if (owner == RVM_PARTITION_HYPERVISOR || nargs > RVM_VCPU_MAX_ARGS) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (nargs > 0 && args == NULL) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_memset(ctx, 0, sizeof(*ctx));
    ctx->arch = arch;
    ctx->owner = owner;
    ctx->regs.pc = entry_pc;
    ctx->regs.pstate = arch == RVM_VCPU_AARCH64 ? RVM_VCPU_A64_SPSR_SAFE : RVM_VCPU_RV_MSTATUS_SAFE;
    put_args(arch, &ctx->regs, args, nargs);
    (void)rvm_vcpu_sanitise(arch, &ctx->regs); /* canonical pc */
    return RVM_OK;
}

enum rvm_err rvm_vcpu_cpu_init(struct rvm_vcpu_cpu *c, uint8_t arch)
{
    if (!arch_ok(arch)) {
        return RVM_ERR_BAD_ARCH;
    }
    rvm_memset(c, 0, sizeof(*c));
    c->arch = arch;
    return RVM_OK;
}

enum rvm_err rvm_vcpu_switch(struct rvm_vcpu_cpu *c, struct rvm_vmid_table *vmids, uint32_t cpu,
                             struct rvm_vcpu_ctx *from, const struct rvm_vcpu_ctx *to,
                             const uint64_t *args, uint32_t nargs, uint32_t *fixes_out)
{
    if (to == NULL || to->arch != c->arch || (from != NULL && from->arch != c->arch)) {
        return RVM_ERR_BAD_ARCH;
    }
    if (to->owner == RVM_PARTITION_HYPERVISOR || nargs > RVM_VCPU_MAX_ARGS) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if ((nargs > 0 && args == NULL) || (from == NULL) != (c->loaded == 0) ||
        (from != NULL && from->owner != c->loaded)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (to->owner != c->loaded) {
        enum rvm_err err = rvm_vmid_activate(vmids, cpu, to->owner, NULL);
        if (err != RVM_OK) {
            return err;
        }
        if (from != NULL) {
            from->regs = c->frame;
        }
        c->frame = to->regs;
        c->loaded = to->owner;
        c->switches++;
    }
    put_args(c->arch, &c->frame, args, nargs);
    uint32_t fixes = rvm_vcpu_sanitise(c->arch, &c->frame);
    if ((fixes & RVM_VCPU_FIX_MODE) != 0) {
        c->coerced++;
    }
    if (fixes_out != NULL) {
        *fixes_out = fixes;
    }
    return RVM_OK;
}

enum rvm_err rvm_vcpu_park(struct rvm_vcpu_cpu *c, struct rvm_vcpu_ctx *from)
{
    if ((from == NULL) != (c->loaded == 0) || (from != NULL && from->owner != c->loaded) ||
        (from != NULL && from->arch != c->arch)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (from != NULL) {
        from->regs = c->frame;
    }
    rvm_memset(&c->frame, 0, sizeof(c->frame));
    c->loaded = 0;
    return RVM_OK;
}

enum rvm_err rvm_vcpu_check(const struct rvm_vcpu_ctx *ctx)
{
    if (!arch_ok(ctx->arch) || ctx->owner == RVM_PARTITION_HYPERVISOR) {
        return RVM_ERR_INTERNAL;
    }
    struct rvm_vcpu_regs r = ctx->regs;
    uint32_t fixes = rvm_vcpu_sanitise(ctx->arch, &r);
    return (fixes & (RVM_VCPU_FIX_MODE | RVM_VCPU_FIX_REGS)) == 0 ? RVM_OK : RVM_ERR_INTERNAL;
}

static void absorb_words(struct rvm_sha256_ctx *sha, const uint64_t *w, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) { /* bound: n <= 64 */
        rvm_sha256_update_le64(sha, w[i]);
    }
}

void rvm_vcpu_hash(const struct rvm_vcpu_ctx *ctx, struct rvm_sha256_ctx *sha)
{
    static const uint8_t tag[8] = {'r', 'v', 'm', 'v', 'c', 'p', 'u', 0};
    const struct rvm_vcpu_regs *r = &ctx->regs;
    const uint64_t head[] = {(uint64_t)ctx->arch | (uint64_t)ctx->owner << 32, r->pc, r->pstate,
                             r->fpcr, r->fpsr};
    rvm_sha256_update(sha, tag, sizeof(tag));
    absorb_words(sha, head, (uint32_t)RVM_ARRAY_LEN(head));
    absorb_words(sha, r->gpr, RVM_VCPU_GPRS);
    absorb_words(sha, r->sys, RVM_VCPU_SYSREGS);
    absorb_words(sha, r->fp, RVM_VCPU_FPREGS);
}
