/* SPDX-License-Identifier: MIT */
/*
 * vCPU contexts: return-state sanitisation for every possible saved mode value on both
 * architectures (exhaustively over the low bits of SPSR_EL2 / mstatus, with random high bits),
 * register scrubbing across a switch (nothing of the outgoing partition is readable by the
 * incoming one except the argument registers the kernel passes), and the switch's refusals.
 *
 * Expected values come from models written here from the architecture manuals' field lists
 * (Arm ARM SPSR_EL2 for exceptions taken from AArch64; RISC-V privileged spec mstatus), not from
 * the code under test.
 */
#include "test_support.h"

#include "hal_recorder.h"

#include "rvm/crypto_portable.h"
#include "rvm/sha256.h"
#include "rvm/vcpu.h"
#include "rvm/vmid.h"
#include "rvm/witness.h"

/* ---- models ------------------------------------------------------------------------------ */

/* SPSR_EL2 fields a guest may return with (bit numbers from the Arm ARM). */
static uint64_t a64_keep_mask(void)
{
    static const int bits[] = {0,  1,  2,  3,  /* M[3:0] */
                               6,  7,  8,  9,  /* F I A D */
                               10, 11,         /* BTYPE */
                               12,             /* SSBS */
                               13,             /* ALLINT */
                               22, 23, 24, 25, /* PAN UAO DIT TCO */
                               28, 29, 30, 31 /* V C Z N */};
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        m |= 1ull << bits[i];
    }
    return m;
}

/* Allowed M[4:0]: EL0t, EL1t, EL1h (AArch64; M[4] = 0). */
static bool a64_mode_allowed(uint64_t spsr)
{
    unsigned m = (unsigned)(spsr & 0x1f);
    return m == 0x0 || m == 0x4 || m == 0x5;
}

static uint64_t model_spsr(uint64_t raw, bool *coerced)
{
    *coerced = !a64_mode_allowed(raw);
    return *coerced ? 0x3C5 /* EL1h, DAIF set */ : raw & a64_keep_mask();
}

static uint64_t model_mstatus(uint64_t raw, bool *coerced)
{
    static const int keep[] = {1 /* SIE */, 5 /* SPIE */, 6 /* UBE */, 8 /* SPP */,  9,
                               10 /* VS */, 13,           14 /* FS */, 18 /* SUM */, 19 /* MXR */};
    uint64_t mpp = (raw >> 11) & 3;
    uint64_t rv64 = 1ull << 33 | 1ull << 35; /* UXL = SXL = 2 */
    *coerced = mpp > 1;
    if (*coerced) {
        return 1ull << 11 | rv64; /* MPP = S */
    }
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        m |= 1ull << keep[i];
    }
    return (raw & m) | mpp << 11 | rv64;
}

/* The whole register file after sanitisation, per sched/vcpu.h's documented rules. */
static void model_sanitise(uint8_t arch, struct rvm_vcpu_regs *r, bool *coerced)
{
    if (arch == RVM_VCPU_AARCH64) {
        r->pstate = model_spsr(r->pstate, coerced);
        for (unsigned i = 26; i < 32; i++) { /* 26 EL1/EL0 system registers are defined */
            r->sys[i] = 0;
        }
    } else {
        r->pstate = model_mstatus(r->pstate, coerced);
        r->pc &= ~1ull;
        r->gpr[0] = 0;
        r->sys[0] &= 0x2222; /* sie */
        r->sys[6] &= 0x2222; /* sip */
        for (unsigned i = 11; i < 32; i++) {
            r->sys[i] = 0;
        }
        for (unsigned i = 32; i < 64; i++) {
            r->fp[i] = 0;
        }
        r->fpcr &= 0xff;
        r->fpsr = 0;
    }
}

/* ---- sanitiser functions ----------------------------------------------------------------- */

static void test_spsr_every_mode_exhaustive_low_bits(void **state)
{
    (void)state;
    uint64_t seed = test_seed("vcpu_spsr", 3);
    struct test_rng rng = test_rng_new(seed);
    unsigned allowed_modes = 0;
    for (uint64_t low = 0; low < (1u << 22); low++) { /* M, DAIF, BTYPE, ..., IL, SS */
        uint64_t raw = low | (test_rng_next(&rng) & ~((1ull << 22) - 1));
        uint32_t fixes = 0;
        bool coerced;
        uint64_t want = model_spsr(raw, &coerced);
        uint64_t got = rvm_vcpu_a64_spsr_sanitise(raw, &fixes);
        if (got != want || ((fixes & RVM_VCPU_FIX_MODE) != 0) != coerced ||
            ((fixes & RVM_VCPU_FIX_BITS) != 0) != (!coerced && got != raw)) {
            fail_msg("SPSR %#llx: got %#llx fixes %#x, want %#llx", (unsigned long long)raw,
                     (unsigned long long)got, fixes, (unsigned long long)want);
        }
        /* The property itself, independent of the model's details. */
        assert_true(a64_mode_allowed(got));
        assert_int_equal(got & (1ull << 4 | 1ull << 20 | 1ull << 21), 0); /* nRW, IL, SS */
        assert_int_equal(got >> 32, 0);
        if (low < 32 && !coerced) {
            allowed_modes++;
        }
    }
    assert_int_equal(allowed_modes, 3);
    /* Named cases. */
    uint32_t f = 0;
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x3C9 /* EL2h */, &f), 0x3C5);
    assert_int_equal(f, RVM_VCPU_FIX_MODE);
    f = 0;
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x3CD /* EL3h */, &f), 0x3C5);
    f = 0;
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x15 /* AArch32 with M[3:0] = EL1h's */, &f),
                     0x3C5);
    assert_int_equal(f, RVM_VCPU_FIX_MODE);
    f = 0;
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x10 /* AArch32 User */, &f), 0x3C5);
    f = 0;
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x60000000 /* EL0t, Z C */, &f), 0x60000000);
    assert_int_equal(f, 0);
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x3C4 | 1u << 20 | 1u << 21, &f), 0x3C4);
    assert_int_equal(f, RVM_VCPU_FIX_BITS);
    assert_int_equal(rvm_vcpu_a64_spsr_sanitise(0x3C5, NULL), 0x3C5);
}

static void test_mstatus_every_mpp_value(void **state)
{
    (void)state;
    uint64_t seed = test_seed("vcpu_mstatus", 5);
    struct test_rng rng = test_rng_new(seed);
    unsigned seen[4] = {0};
    for (uint64_t low = 0; low < (1u << 21); low++) { /* SIE .. MXR, TVM, with MPP in 11..12 */
        uint64_t raw = low | (test_rng_next(&rng) & ~((1ull << 21) - 1));
        uint32_t fixes = 0;
        bool coerced;
        uint64_t want = model_mstatus(raw, &coerced);
        uint64_t got = rvm_vcpu_rv_mstatus_sanitise(raw, &fixes);
        if (got != want || ((fixes & RVM_VCPU_FIX_MODE) != 0) != coerced) {
            fail_msg("mstatus %#llx: got %#llx, want %#llx", (unsigned long long)raw,
                     (unsigned long long)got, (unsigned long long)want);
        }
        uint64_t mpp = (got >> 11) & 3;
        assert_true(mpp == 0 || mpp == 1); /* never M (3), never the reserved 2 */
        /* MIE, MPIE, MPRV, TVM, TW, TSR, SBE, MBE, MPV, MDT and SD never come from the image. */
        assert_int_equal(got & (1ull << 3 | 1ull << 7 | 1ull << 17 | 1ull << 20 | 1ull << 21 |
                                1ull << 22 | 1ull << 36 | 1ull << 37 | 1ull << 39 | 1ull << 42 |
                                1ull << 63),
                         0);
        seen[(raw >> 11) & 3]++;
    }
    for (int m = 0; m < 4; m++) {
        assert_true(seen[m] > 0);
    }
    uint32_t f = 0;
    assert_int_equal(rvm_vcpu_rv_mstatus_sanitise(3ull << 11, &f), RVM_VCPU_RV_MSTATUS_SAFE);
    assert_int_equal(f, RVM_VCPU_FIX_MODE);
    f = 0;
    assert_int_equal(rvm_vcpu_rv_mstatus_sanitise(2ull << 11, &f), RVM_VCPU_RV_MSTATUS_SAFE);
    f = 0;
    assert_int_equal(rvm_vcpu_rv_mstatus_sanitise(0x0000000A00000000ull | 1u << 17, &f),
                     0x0000000A00000000ull); /* U-mode, MPRV stripped */
    assert_int_equal(f, RVM_VCPU_FIX_BITS);
}

static void random_regs(struct test_rng *rng, struct rvm_vcpu_regs *r)
{
    test_rng_fill(rng, (uint8_t *)r, sizeof(*r));
}

static void test_sanitise_whole_file(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("vcpu_file", 11));
    for (int i = 0; i < 2000; i++) {
        uint8_t arch = i % 2 ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
        struct rvm_vcpu_regs r;
        random_regs(&rng, &r);
        struct rvm_vcpu_regs want = r;
        bool coerced;
        model_sanitise(arch, &want, &coerced);
        uint32_t fixes = rvm_vcpu_sanitise(arch, &r);
        assert_memory_equal(&r, &want, sizeof(r));
        assert_int_equal((fixes & RVM_VCPU_FIX_MODE) != 0, coerced);
        /* Sanitising twice changes nothing more. */
        assert_int_equal(rvm_vcpu_sanitise(arch, &r) & (RVM_VCPU_FIX_MODE | RVM_VCPU_FIX_REGS), 0);
    }
    struct rvm_vcpu_regs r;
    random_regs(&rng, &r);
    assert_int_equal(rvm_vcpu_sanitise(7, &r), RVM_VCPU_FIX_MODE | RVM_VCPU_FIX_REGS);
    struct rvm_vcpu_regs zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&r, &zero, sizeof(r));
}

/* ---- switching --------------------------------------------------------------------------- */

struct fx {
    struct rvm_crypto crypto;
    struct hal_recorder rec;
    struct rvm_witness_log log;
    uint8_t ring[64][RVM_WITNESS_RECORD_BYTES];
    struct rvm_vmid_table vt;
    struct rvm_vmid_binding bindings[16];
    struct rvm_vcpu_cpu cpu;
    struct rvm_vcpu_ctx a;
    struct rvm_vcpu_ctx b;
};

static struct fx *fx_new(uint8_t arch)
{
    struct fx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    hal_recorder_init(&f->rec, &f->crypto);
    struct rvm_witness_config wc = {.ring = f->ring, .ring_capacity = 64};
    assert_int_equal(rvm_witness_init(&f->log, hal_recorder_hal(&f->rec), &wc), RVM_OK);
    struct rvm_vmid_config vc = {
        .nvmids = 256, .ncpus = 2, .max_partitions = 16, .bindings = f->bindings};
    assert_int_equal(rvm_vmid_init(&f->vt, &f->log, &vc), RVM_OK);
    assert_int_equal(rvm_vcpu_cpu_init(&f->cpu, arch), RVM_OK);
    assert_int_equal(rvm_vcpu_init(&f->a, arch, 1, 0x1000, NULL, 0), RVM_OK);
    assert_int_equal(rvm_vcpu_init(&f->b, arch, 2, 0x2000, NULL, 0), RVM_OK);
    return f;
}

static void fx_free(struct fx *f)
{
    hal_recorder_free(&f->rec);
    free(f);
}

#define WORDS (sizeof(struct rvm_vcpu_regs) / sizeof(uint64_t))

static void as_words(const struct rvm_vcpu_regs *r, uint64_t w[WORDS])
{
    memcpy(w, r, sizeof(*r));
}

/*
 * A runs (its live registers are in the frame), B's saved context holds a given mode value; after
 * the switch the frame is exactly B's context with the arguments, sanitised, A's context holds
 * A's live registers, and no value of A's is anywhere in the frame.
 */
static void switch_case(struct fx *f, uint8_t arch, struct test_rng *rng, uint64_t mode_bits)
{
    struct rvm_vcpu_regs a_live;
    random_regs(rng, &a_live);
    f->cpu.frame = a_live;
    f->cpu.loaded = 1;
    random_regs(rng, &f->b.regs);
    if (arch == RVM_VCPU_AARCH64) {
        f->b.regs.pstate = (f->b.regs.pstate & ~0x1full) | mode_bits;
    } else {
        f->b.regs.pstate = (f->b.regs.pstate & ~(3ull << 11)) | mode_bits << 11;
    }
    struct rvm_vcpu_regs b_saved = f->b.regs;
    uint32_t nargs = (uint32_t)test_rng_below(rng, RVM_VCPU_MAX_ARGS + 1);
    uint64_t args[RVM_VCPU_MAX_ARGS];
    for (uint32_t i = 0; i < RVM_VCPU_MAX_ARGS; i++) {
        args[i] = test_rng_next(rng);
    }
    uint64_t coerced_before = f->cpu.coerced;
    uint32_t fixes = 0;
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &f->b, args, nargs, &fixes),
                     RVM_OK);
    /* Expected frame. */
    struct rvm_vcpu_regs want = b_saved;
    unsigned base = arch == RVM_VCPU_RISCV64 ? 10 : 0; /* a0 = x10 */
    for (uint32_t i = 0; i < nargs; i++) {
        want.gpr[base + i] = args[i];
    }
    bool coerced;
    model_sanitise(arch, &want, &coerced);
    assert_memory_equal(&f->cpu.frame, &want, sizeof(want));
    assert_memory_equal(&f->a.regs, &a_live, sizeof(a_live));
    assert_memory_equal(&f->b.regs, &b_saved, sizeof(b_saved)); /* the saved context is untouched */
    assert_int_equal(f->cpu.loaded, 2);
    assert_int_equal((fixes & RVM_VCPU_FIX_MODE) != 0, coerced);
    assert_int_equal(f->cpu.coerced, coerced_before + (coerced ? 1 : 0));
    /* Scrubbing, stated directly: no word of A's live file is readable in the frame. */
    uint64_t fw[WORDS];
    uint64_t aw[WORDS];
    as_words(&f->cpu.frame, fw);
    as_words(&a_live, aw);
    for (size_t i = 0; i < WORDS; i++) {
        for (size_t j = 0; j < WORDS; j++) {
            if (fw[i] == aw[j] && fw[i] != 0) {
                fail_msg("frame word %zu holds A's word %zu", i, j);
            }
        }
    }
    /* Back to A for the next case. */
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->b, &f->a, NULL, 0, NULL), RVM_OK);
}

static void test_switch_scrubs_and_sanitises_every_mode(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("vcpu_switch", 17));
    for (int a = 0; a < 2; a++) {
        uint8_t arch = a ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
        struct fx *f = fx_new(arch);
        uint64_t nmodes = arch == RVM_VCPU_AARCH64 ? 32 : 4;
        for (uint64_t mode = 0; mode < nmodes; mode++) {
            for (int rep = 0; rep < 20; rep++) {
                switch_case(f, arch, &rng, mode);
            }
        }
        /* Every switch activated the incoming partition's VMID through the HAL. */
        assert_int_equal(hal_recorder_count(&f->rec, HAL_CALL_ACTIVATE), nmodes * 20 * 2);
        fx_free(f);
    }
}

static void test_switch_refusals_change_nothing(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(23);
    struct fx *f = fx_new(RVM_VCPU_AARCH64);
    struct rvm_vcpu_regs live;
    random_regs(&rng, &live);
    f->cpu.frame = live;
    f->cpu.loaded = 1;
    struct rvm_vcpu_ctx a_before = f->a;
    struct rvm_vcpu_ctx rv;
    assert_int_equal(rvm_vcpu_init(&rv, RVM_VCPU_RISCV64, 3, 0, NULL, 0), RVM_OK);
    uint64_t args[9] = {0};
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &rv, NULL, 0, NULL),
                     RVM_ERR_BAD_ARCH);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, NULL, NULL, 0, NULL),
                     RVM_ERR_BAD_ARCH);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &f->b, args, 9, NULL),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &f->b, NULL, 1, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->b, &f->a, NULL, 0, NULL),
                     RVM_ERR_INVALID_ARGUMENT); /* B's context is not what the CPU holds */
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, NULL, &f->b, NULL, 0, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 5, &f->a, &f->b, NULL, 0, NULL),
                     RVM_ERR_OUT_OF_RANGE); /* from the VMID table: CPU 5 does not exist */
    /* The HAL refuses the address-space switch. */
    hal_recorder_fail(&f->rec, HAL_CALL_ACTIVATE, 1, RVM_ERR_HAL);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &f->b, NULL, 0, NULL), RVM_ERR_HAL);
    assert_memory_equal(&f->cpu.frame, &live, sizeof(live));
    assert_memory_equal(&f->a, &a_before, sizeof(a_before));
    assert_int_equal(f->cpu.loaded, 1);
    /* Owner 0 is never a partition. */
    struct rvm_vcpu_ctx hv = f->b;
    hv.owner = 0;
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &hv, NULL, 0, NULL),
                     RVM_ERR_OUT_OF_RANGE);
    fx_free(f);
}

static void test_switch_to_loaded_partition_delivers_args_only(void **state)
{
    (void)state;
    struct fx *f = fx_new(RVM_VCPU_RISCV64);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, NULL, &f->a, NULL, 0, NULL), RVM_OK);
    f->cpu.frame.gpr[5] = 0x55;        /* A ran and changed t0 */
    f->cpu.frame.pstate |= 3ull << 11; /* and its trap image claims M-mode */
    size_t calls = f->rec.ncalls;
    uint64_t args[2] = {0xA0, 0xA1};
    uint32_t fixes = 0;
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, &f->a, &f->a, args, 2, &fixes), RVM_OK);
    assert_int_equal(f->rec.ncalls, calls); /* no HAL call: nothing changes hands */
    assert_int_equal(f->cpu.frame.gpr[5], 0x55);
    assert_int_equal(f->cpu.frame.gpr[10], 0xA0);
    assert_int_equal(f->cpu.frame.gpr[11], 0xA1);
    assert_int_equal((f->cpu.frame.pstate >> 11) & 3, 1);
    assert_true(fixes & RVM_VCPU_FIX_MODE);
    assert_int_equal(f->cpu.coerced, 1);
    fx_free(f);
}

static void test_park_saves_and_zeroes(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(29);
    struct fx *f = fx_new(RVM_VCPU_AARCH64);
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, NULL, &f->a, NULL, 0, NULL), RVM_OK);
    struct rvm_vcpu_regs live;
    random_regs(&rng, &live);
    f->cpu.frame = live;
    assert_int_equal(rvm_vcpu_park(&f->cpu, &f->b), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vcpu_park(&f->cpu, NULL), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_vcpu_park(&f->cpu, &f->a), RVM_OK);
    assert_memory_equal(&f->a.regs, &live, sizeof(live));
    struct rvm_vcpu_regs zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&f->cpu.frame, &zero, sizeof(zero));
    assert_int_equal(f->cpu.loaded, 0);
    assert_int_equal(rvm_vcpu_park(&f->cpu, NULL), RVM_OK);
    /* From an empty CPU, a switch has nothing to save. */
    assert_int_equal(rvm_vcpu_switch(&f->cpu, &f->vt, 0, NULL, &f->b, NULL, 0, NULL), RVM_OK);
    assert_int_equal(f->cpu.loaded, 2);
    fx_free(f);
}

static void test_init_context(void **state)
{
    (void)state;
    struct rvm_vcpu_ctx c;
    uint64_t args[3] = {7, 8, 9};
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_AARCH64, 4, 0x40080000, args, 3), RVM_OK);
    assert_int_equal(c.regs.pc, 0x40080000);
    assert_int_equal(c.regs.pstate, 0x3C5);
    assert_int_equal(c.regs.gpr[0], 7);
    assert_int_equal(c.regs.gpr[2], 9);
    assert_int_equal(c.regs.gpr[3], 0);
    assert_int_equal(c.owner, 4);
    assert_int_equal(rvm_vcpu_check(&c), RVM_OK);
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_RISCV64, 4, 0x80200001, args, 2), RVM_OK);
    assert_int_equal(c.regs.pc, 0x80200000);
    assert_int_equal(c.regs.pstate, 0x0000000A00000800ull);
    assert_int_equal(c.regs.gpr[10], 7);
    assert_int_equal(c.regs.gpr[11], 8);
    assert_int_equal(c.regs.gpr[12], 0);
    assert_int_equal(rvm_vcpu_init(&c, 0, 4, 0, NULL, 0), RVM_ERR_BAD_ARCH);
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_AARCH64, 0, 0, NULL, 0), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_AARCH64, 1, 0, args, 9), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_AARCH64, 1, 0, NULL, 1), RVM_ERR_INVALID_ARGUMENT);
    struct rvm_vcpu_cpu cpu;
    assert_int_equal(rvm_vcpu_cpu_init(&cpu, 3), RVM_ERR_BAD_ARCH);
}

static void test_check_and_hash(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_vcpu_ctx c;
    assert_int_equal(rvm_vcpu_init(&c, RVM_VCPU_AARCH64, 1, 0x1000, NULL, 0), RVM_OK);
    uint8_t h1[32];
    uint8_t h2[32];
    struct rvm_sha256_ctx s;
    rvm_sha256_init(&s, &crypto);
    rvm_vcpu_hash(&c, &s);
    rvm_sha256_final(&s, h1);
    c.regs.fp[63] ^= 1;
    rvm_sha256_init(&s, &crypto);
    rvm_vcpu_hash(&c, &s);
    rvm_sha256_final(&s, h2);
    assert_memory_not_equal(h1, h2, 32);
    c.regs.fp[63] ^= 1;
    c.regs.pstate = 0x3C9; /* EL2h */
    assert_int_equal(rvm_vcpu_check(&c), RVM_ERR_INTERNAL);
    c.regs.pstate = 0x3C5;
    c.regs.sys[31] = 1;
    assert_int_equal(rvm_vcpu_check(&c), RVM_ERR_INTERNAL);
    c.regs.sys[31] = 0;
    assert_int_equal(rvm_vcpu_check(&c), RVM_OK);
    c.owner = 0;
    assert_int_equal(rvm_vcpu_check(&c), RVM_ERR_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spsr_every_mode_exhaustive_low_bits),
        cmocka_unit_test(test_mstatus_every_mpp_value),
        cmocka_unit_test(test_sanitise_whole_file),
        cmocka_unit_test(test_switch_scrubs_and_sanitises_every_mode),
        cmocka_unit_test(test_switch_refusals_change_nothing),
        cmocka_unit_test(test_switch_to_loaded_partition_delivers_args_only),
        cmocka_unit_test(test_park_saves_and_zeroes),
        cmocka_unit_test(test_init_context),
        cmocka_unit_test(test_check_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
