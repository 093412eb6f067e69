/* SPDX-License-Identifier: MIT */
/*
 * The platform-backed simulated HAL (sim/hal_platform.c) through the core's HAL interface, on
 * both simulated platforms: map / unmap / activate / invalidate, guest_read / guest_write and
 * their refusals (nothing copied), guest instructions and their syndromes, stale translations
 * after a missing invalidation, and the isolation oracle.
 *
 * Expected outcomes come from a per-page model kept by the test (mapping, permissions, and a
 * shadow copy of the bytes), and syndromes from the architecture manuals (see test_a64_stage2.c
 * and test_rv_pmp.c for the field positions).
 */
#include "test_support.h"

#include "hal_platform.h"

#include "rvm/crypto_portable.h"

#define R   RVM_PERM_R
#define W   RVM_PERM_W
#define X   RVM_PERM_X
#define PG  4096ull
#define NAR 2

static const enum rvm_sim_arch arches[NAR] = {RVM_SIM_ARCH_AARCH64, RVM_SIM_ARCH_RISCV};

static const char *arch_name(enum rvm_sim_arch a)
{
    return a == RVM_SIM_ARCH_AARCH64 ? "aarch64" : "riscv";
}

static struct rvm_sim_platform *plat_new(enum rvm_sim_arch arch,
                                         const struct rvm_sim_platform_config *cfg_in)
{
    static struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sim_platform_config cfg;
    if (cfg_in != NULL) {
        cfg = *cfg_in;
    } else {
        rvm_sim_platform_default_config(&cfg, arch);
    }
    struct rvm_sim_platform *p = calloc(1, sizeof(*p));
    assert_int_equal(rvm_sim_platform_init(p, &crypto, &cfg), RVM_OK);
    return p;
}

static void plat_del(struct rvm_sim_platform *p)
{
    rvm_sim_platform_free(p);
    free(p);
}

static const struct rvm_hal_ops *ops(const struct rvm_sim_platform *p)
{
    return rvm_sim_platform_hal(p)->ops;
}

static void *ctx(const struct rvm_sim_platform *p)
{
    return rvm_sim_platform_hal(p)->ctx;
}

static enum rvm_err map(struct rvm_sim_platform *p, rvm_partition_id part, uint64_t ipa,
                        uint64_t hpa, uint64_t size, uint32_t perms)
{
    return ops(p)->s2_map(ctx(p), part, rvm_ipa(ipa), rvm_hpa(hpa), size, perms);
}

static enum rvm_err unmap(struct rvm_sim_platform *p, rvm_partition_id part, uint64_t ipa,
                          uint64_t size)
{
    return ops(p)->s2_unmap(ctx(p), part, rvm_ipa(ipa), size);
}

static enum rvm_err gread(struct rvm_sim_platform *p, rvm_partition_id part, uint64_t ipa,
                          void *dst, size_t len)
{
    return ops(p)->guest_read(ctx(p), part, rvm_ipa(ipa), dst, len);
}

static enum rvm_err gwrite(struct rvm_sim_platform *p, rvm_partition_id part, uint64_t ipa,
                           const void *src, size_t len)
{
    return ops(p)->guest_write(ctx(p), part, rvm_ipa(ipa), src, len);
}

/* A guest address for host page `hpa`: identity on RISC-V, an offset IPA window on AArch64. */
static uint64_t ipa_for(const struct rvm_sim_platform *p, uint64_t hpa)
{
    return p->cfg.arch == RVM_SIM_ARCH_RISCV ? hpa : hpa - p->cfg.ram_base + 0x100000000ull;
}

static uint64_t guest_base(const struct rvm_sim_platform *p)
{
    uint64_t base, size;
    rvm_sim_platform_guest_ram(p, &base, &size);
    return base;
}

static void test_default_hal_is_unchanged(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sim_hal sim;
    rvm_sim_hal_init(&sim, &crypto);
    uint8_t b[4];
    assert_int_equal(sim.hal.ops->s2_map(sim.hal.ctx, 1, rvm_ipa(0), rvm_hpa(0), PG, R),
                     RVM_ERR_UNSUPPORTED);
    assert_int_equal(sim.hal.ops->s2_activate(sim.hal.ctx, 0, 1, 1), RVM_ERR_UNSUPPORTED);
    assert_int_equal(sim.hal.ops->guest_read(sim.hal.ctx, 1, rvm_ipa(0), b, 4),
                     RVM_ERR_GUEST_FAULT);

    /* The platform HAL keeps every other simulated hook: the virtual clock, for one. */
    struct rvm_sim_platform *p = plat_new(RVM_SIM_ARCH_AARCH64, NULL);
    rvm_sim_hal_advance(&p->sim, 1234);
    assert_int_equal(rvm_hal_now(rvm_sim_platform_hal(p)), 1234);
    assert_ptr_equal(ops(p)->clock_now_ns, sim.hal.ops->clock_now_ns);
    plat_del(p);
}

static void test_config_validation(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_sim_platform p;
    struct rvm_sim_platform_config c;
    for (int i = 0; i < 9; i++) {
        rvm_sim_platform_default_config(&c, i < 6 ? RVM_SIM_ARCH_AARCH64 : RVM_SIM_ARCH_RISCV);
        switch (i) {
        case 0:
            c.arch = RVM_SIM_ARCH_NONE;
            break;
        case 1:
            c.cpus = RVM_SIM_PLATFORM_MAX_CPUS + 1;
            break;
        case 2:
            c.ram_size = c.hyp_size;
            break;
        case 3:
            c.table_pages = (uint32_t)(c.hyp_size / PG) + 1;
            break;
        case 4:
            c.ram_base = (1ull << 40) - PG;
            break;
        case 5:
            c.ram_base += 0x800;
            break;
        case 6:
            c.pmp_entries = 32;
            break;
        case 7:
            c.max_regions = 0;
            break;
        default:
            c.max_partitions = 0;
            break;
        }
        assert_int_equal(rvm_sim_platform_init(&p, &crypto, &c), RVM_ERR_INVALID_ARGUMENT);
    }
}

static void test_round_trip_and_refusals(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        uint64_t hpa = guest_base(p);
        uint64_t ipa = ipa_for(p, hpa);
        /* Pages 0-1 RW, page 2 R, page 3 X, page 4 unmapped, page 5 RW. */
        assert_int_equal(map(p, 1, ipa, hpa, 2 * PG, R | W), RVM_OK);
        assert_int_equal(map(p, 1, ipa + 2 * PG, hpa + 2 * PG, PG, R), RVM_OK);
        assert_int_equal(map(p, 1, ipa + 3 * PG, hpa + 3 * PG, PG, X), RVM_OK);
        assert_int_equal(map(p, 1, ipa + 5 * PG, hpa + 5 * PG, PG, R | W), RVM_OK);

        uint8_t data[300], back[300];
        for (int i = 0; i < 300; i++) {
            data[i] = (uint8_t)(i * 7 + 1);
        }
        assert_int_equal(gwrite(p, 1, ipa + PG - 100, data, 300), RVM_OK);
        assert_memory_equal(rvm_sim_platform_ram(p, hpa + PG - 100, 300), data, 300);
        assert_int_equal(gread(p, 1, ipa + PG - 100, back, 300), RVM_OK);
        assert_memory_equal(back, data, 300);
        /* Reading across RW into R is fine. */
        assert_int_equal(gread(p, 1, ipa + 2 * PG - 8, back, 16), RVM_OK);

        uint8_t sentinel[300];
        memset(sentinel, 0xEE, sizeof(sentinel));
        uint8_t *ram = rvm_sim_platform_ram(p, hpa, 6 * PG);
        uint8_t *ram_before = malloc(6 * PG);
        memcpy(ram_before, ram, 6 * PG);
        struct {
            uint64_t ipa;
            size_t len;
            bool write;
            enum rvm_err want;
        } cases[] = {
            {ipa + 4 * PG, 8, false, RVM_ERR_GUEST_FAULT},      /* unmapped */
            {ipa + 4 * PG - 8, 16, false, RVM_ERR_GUEST_FAULT}, /* partly mapped */
            {ipa + 5 * PG - 8, 16, true, RVM_ERR_GUEST_FAULT},  /* ends in mapped page */
            {ipa + 2 * PG - 8, 16, true, RVM_ERR_GUEST_FAULT},  /* RW then R: write */
            {ipa + 2 * PG + 8, 8, true, RVM_ERR_GUEST_FAULT},   /* read-only */
            {ipa + 3 * PG, 8, false, RVM_ERR_GUEST_FAULT},      /* execute-only */
            {ipa + 6 * PG - 8, 300, true, RVM_ERR_GUEST_FAULT}, /* runs off the end */
            {UINT64_MAX - 10, 100, false, RVM_ERR_OVERFLOW},    /* wraps */
            {UINT64_MAX - 10, 100, true, RVM_ERR_OVERFLOW},
            {p->cfg.ram_base, 8, false, RVM_ERR_GUEST_FAULT}, /* hypervisor RAM */
            {1ull << 39, 8, false, RVM_ERR_GUEST_FAULT},      /* beyond the IPA space */
        };
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            uint8_t buf[300];
            memcpy(buf, sentinel, sizeof(buf));
            enum rvm_err err = cases[c].write ? gwrite(p, 1, cases[c].ipa, buf, cases[c].len)
                                              : gread(p, 1, cases[c].ipa, buf, cases[c].len);
            if (err != cases[c].want) {
                fail_msg("%s case %zu: want %d got %d", arch_name(arches[ai]), c, cases[c].want,
                         err);
            }
            assert_memory_equal(buf, sentinel, sizeof(buf));
            assert_memory_equal(ram, ram_before, 6 * PG);
        }
        /* Unknown partitions and the hypervisor's id never reach memory; len 0 is a no-op. */
        uint8_t buf[8];
        assert_int_equal(gread(p, 2, ipa, buf, 8), RVM_ERR_GUEST_FAULT);
        assert_int_equal(gread(p, RVM_PARTITION_HYPERVISOR, ipa, buf, 8), RVM_ERR_GUEST_FAULT);
        assert_int_equal(gread(p, 1, ipa + 4 * PG, buf, 0), RVM_OK);
        assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        free(ram_before);
        plat_del(p);
    }
}

static void test_map_refusals(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        uint64_t hpa = guest_base(p);
        uint64_t ipa = ipa_for(p, hpa);
        uint64_t end = p->cfg.ram_base + p->cfg.ram_size;
        assert_int_equal(map(p, 0, ipa, hpa, PG, R), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(map(p, RVM_PARTITION_INVALID, ipa, hpa, PG, R), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(map(p, 1, ipa, hpa, PG, 0), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(map(p, 1, ipa, hpa, PG, 8), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(map(p, 1, ipa, hpa, PG, R | W | X), RVM_ERR_WX);
        assert_int_equal(map(p, 1, ipa, hpa, PG, W), RVM_ERR_HAL);
        assert_int_equal(map(p, 1, ipa + 1, hpa, PG, R), RVM_ERR_ALIGNMENT);
        assert_int_equal(map(p, 1, ipa, hpa, 0, R), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(map(p, 1, UINT64_MAX & ~(PG - 1), hpa, 2 * PG, R), RVM_ERR_OVERFLOW);
        /* Hypervisor memory, and memory that is not there. */
        assert_int_equal(map(p, 1, ipa_for(p, p->cfg.ram_base), p->cfg.ram_base, PG, R),
                         RVM_ERR_HAL);
        assert_int_equal(map(p, 1, ipa_for(p, hpa - PG), hpa - PG, 2 * PG, R), RVM_ERR_HAL);
        assert_int_equal(map(p, 1, ipa_for(p, end - PG), end - PG, 2 * PG, R), RVM_ERR_HAL);
        assert_int_equal(map(p, 1, ipa, hpa, 2 * PG, R), RVM_OK);
        uint64_t other = arches[ai] == RVM_SIM_ARCH_RISCV ? hpa + PG : hpa + 8 * PG;
        assert_int_equal(map(p, 1, ipa + PG, other, PG, R), RVM_ERR_OVERLAP);
        if (arches[ai] == RVM_SIM_ARCH_RISCV) {
            assert_int_equal(map(p, 1, ipa + 8 * PG, hpa + 9 * PG, PG, R), RVM_ERR_HAL);
        } else {
            assert_int_equal(map(p, 1, 1ull << 39, hpa + 9 * PG, PG, R), RVM_ERR_HAL);
        }
        assert_int_equal(unmap(p, 1, ipa, 3 * PG), RVM_ERR_NOT_FOUND);
        assert_int_equal(unmap(p, 2, ipa, PG), RVM_ERR_NOT_FOUND);
        assert_int_equal(unmap(p, 1, ipa, 2 * PG), RVM_OK);
        assert_int_equal(unmap(p, 1, ipa, 2 * PG), RVM_ERR_NOT_FOUND);
        assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        plat_del(p);
    }
}

static void test_capacity_refusals_change_nothing(void **state)
{
    (void)state;
    /* RISC-V, 16 PMP entries: eight separate 5-page regions take 16 entries (OFF + TOR each); a
     * ninth is refused and the eight still work. */
    struct rvm_sim_platform *p = plat_new(RVM_SIM_ARCH_RISCV, NULL);
    uint64_t b = guest_base(p);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(map(p, 1, b + (uint64_t)i * 8 * PG, b + (uint64_t)i * 8 * PG, 5 * PG, R),
                         RVM_OK);
    }
    assert_int_equal(map(p, 1, b + 64 * PG, b + 64 * PG, 5 * PG, R), RVM_ERR_HAL);
    /* Unmapping page 2 of region 0 leaves an 8 KiB NAPOT and a misaligned 8 KiB (OFF + TOR):
     * 17 entries, refused. */
    assert_int_equal(unmap(p, 1, b + 2 * PG, PG), RVM_ERR_HAL);
    uint8_t x[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(gread(p, 1, b + (uint64_t)i * 8 * PG + 2 * PG, x, 8), RVM_OK);
    }
    assert_int_equal(gread(p, 1, b + 64 * PG, x, 8), RVM_ERR_GUEST_FAULT);
    /* Trimming region 0 to 16 KiB at an aligned base makes it one NAPOT entry: room for one. */
    assert_int_equal(unmap(p, 1, b + 4 * PG, PG), RVM_OK);
    assert_int_equal(map(p, 1, b + 64 * PG, b + 64 * PG, PG, R), RVM_OK);
    assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
    plat_del(p);

    /* AArch64 with a 3-page table pool: one root, one level-2, one level-3 table. */
    struct rvm_sim_platform_config cfg;
    rvm_sim_platform_default_config(&cfg, RVM_SIM_ARCH_AARCH64);
    cfg.table_pages = 3;
    p = plat_new(RVM_SIM_ARCH_AARCH64, &cfg);
    b = guest_base(p);
    assert_int_equal(map(p, 1, 0x1000, b, PG, R), RVM_OK);
    assert_int_equal(map(p, 2, 0x1000, b + PG, PG, R), RVM_ERR_HAL); /* no root for 2 */
    assert_int_equal(map(p, 1, 0x40000000, b + PG, PG, R), RVM_ERR_HAL);
    assert_int_equal(p->as.pool.nfree, 0);
    assert_int_equal(gread(p, 1, 0x1000, x, 8), RVM_OK);
    assert_int_equal(unmap(p, 1, 0x1000, PG), RVM_OK);
    assert_int_equal(p->as.pool.nfree, 3); /* empty and not running: the slot is recycled */
    assert_int_equal(map(p, 2, 0x1000, b + PG, PG, R), RVM_OK);
    assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
    plat_del(p);
}

static void test_guest_access_syndromes(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        bool a64 = arches[ai] == RVM_SIM_ARCH_AARCH64;
        uint64_t hpa = guest_base(p);
        uint64_t ipa = ipa_for(p, hpa);
        struct rvm_sim_guest_fault f;
        uint64_t v = 0x1122334455667788ull;
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa, &v, 8, &f),
                         RVM_ERR_WRONG_STATE);
        assert_int_equal(map(p, 1, ipa, hpa, PG, R | W), RVM_OK);
        assert_int_equal(map(p, 1, ipa + PG, hpa + PG, PG, R | X), RVM_OK);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 1, 5), RVM_OK);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 9, 1, 5), RVM_ERR_OUT_OF_RANGE);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 1, 256), RVM_ERR_OUT_OF_RANGE);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 0, 5), RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_WRITE, ipa + 8, &v, 8, &f),
                         RVM_OK);
        uint64_t got = 0;
        assert_int_equal(gread(p, 1, ipa + 8, &got, 8), RVM_OK);
        assert_int_equal(got, v);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_EXEC, ipa + PG, &got, 4, &f),
                         RVM_OK);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa + 4, &got, 8, &f),
                         RVM_ERR_INVALID_ARGUMENT); /* misaligned */
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa, &got, 3, &f),
                         RVM_ERR_INVALID_ARGUMENT);

        /* Fetch from RW (no X), store to RX, load from unmapped in the same table. */
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_EXEC, ipa, &got, 4, &f),
                         RVM_ERR_GUEST_FAULT);
        assert_int_equal(f.syndrome, a64 ? 0x8200000Full : 1u);
        assert_int_equal(f.addr, ipa);
        assert_int_equal(
            rvm_sim_platform_guest_access(p, 0, RVM_SIM_WRITE, ipa + PG + 16, &v, 8, &f),
            RVM_ERR_GUEST_FAULT);
        assert_int_equal(f.syndrome, a64 ? 0x9200004Full : 7u);
        assert_int_equal(f.addr, ipa + PG + 16);
        assert_int_equal(
            rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa + 2 * PG + 8, &got, 8, &f),
            RVM_ERR_GUEST_FAULT);
        assert_int_equal(f.syndrome, a64 ? 0x92000007ull : 5u);
        if (a64) {
            assert_int_equal(f.level, 3);
            assert_int_equal(f.hpfar, (ipa + 2 * PG) >> 12 << 4);
        } else {
            assert_int_equal(f.addr, ipa + 2 * PG + 8);
        }
        plat_del(p);
    }
}

static void test_missing_invalidation_is_observable(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        bool a64 = arches[ai] == RVM_SIM_ARCH_AARCH64;
        uint64_t hpa = guest_base(p);
        uint64_t ipa = ipa_for(p, hpa);
        struct rvm_sim_isolation_report rep;
        struct rvm_sim_guest_fault f;
        uint64_t v = 42;
        assert_int_equal(map(p, 1, ipa, hpa, PG, R | W), RVM_OK);
        assert_int_equal(map(p, 1, ipa + PG, hpa + PG, PG, R | W), RVM_OK);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 1, 3), RVM_OK);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_WRITE, ipa, &v, 8, &f),
                         RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        assert_int_equal(unmap(p, 1, ipa, PG), RVM_OK);
        /* The hypervisor's own view (software walk) is already right ... */
        assert_int_equal(gread(p, 1, ipa, &v, 8), RVM_ERR_GUEST_FAULT);
        /* ... but the CPU still reaches the page: a stale translation, which the oracle sees. */
        v = 43;
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_WRITE, ipa, &v, 8, &f),
                         RVM_OK);
        assert_int_equal(*(uint64_t *)rvm_sim_platform_ram(p, hpa, 8), 43);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_STALE);
        assert_int_equal(rep.part, 1);
        assert_int_equal(rep.vmid, 3);
        if (a64) {
            assert_int_equal(rep.ipa, ipa);
            assert_int_equal(rep.hpa, hpa);
        }
        /* Invalidating another VMID does not help; this one does. */
        ops(p)->tlb_invalidate_vmid(ctx(p), 4);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_STALE);
        ops(p)->tlb_invalidate_vmid(ctx(p), 3);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_WRITE, ipa, &v, 8, &f),
                         RVM_ERR_GUEST_FAULT);
        assert_int_equal(f.syndrome, a64 ? 0x92000047ull : 7u); /* level-3 translation, WnR */
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa + PG, &v, 8, &f),
                         RVM_OK);
        /* New mappings need no invalidation: the running CPU sees them at once. */
        assert_int_equal(map(p, 1, ipa + 2 * PG, hpa + 2 * PG, PG, R), RVM_OK);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa + 2 * PG, &v, 8, &f),
                         RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        plat_del(p);
    }
}

static void test_vmid_reuse_without_invalidation(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        bool a64 = arches[ai] == RVM_SIM_ARCH_AARCH64;
        uint64_t hpa = guest_base(p);
        struct rvm_sim_isolation_report rep;
        struct rvm_sim_guest_fault f;
        /* Partition 1 owns page A, partition 2 page B; on AArch64 both at the same IPA. */
        uint64_t ipa1 = ipa_for(p, hpa), ipa2 = a64 ? ipa1 : ipa_for(p, hpa + PG);
        assert_int_equal(map(p, 1, ipa1, hpa, PG, R | W), RVM_OK);
        assert_int_equal(map(p, 2, ipa2, hpa + PG, PG, R | W), RVM_OK);
        uint64_t secret = 0x5EC12E7, zero = 0, got = 0;
        assert_int_equal(gwrite(p, 1, ipa1, &secret, 8), RVM_OK);
        assert_int_equal(gwrite(p, 2, ipa2, &zero, 8), RVM_OK);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 1, 7), RVM_OK);
        assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa1, &got, 8, &f),
                         RVM_OK);
        /* Partition 2 takes VMID 7 on the same CPU with no invalidation in between. */
        assert_int_equal(ops(p)->s2_activate(ctx(p), 0, 2, 7), RVM_OK);
        got = 0;
        enum rvm_err err = rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa1, &got, 8, &f);
        if (a64) {
            /* It reads partition 1's secret through the stale entry. */
            assert_int_equal(err, RVM_OK);
            assert_int_equal(got, secret);
            assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_STALE);
            assert_int_equal(rep.part, 2);
            ops(p)->tlb_invalidate_vmid(ctx(p), 7);
            assert_int_equal(rvm_sim_platform_guest_access(p, 0, RVM_SIM_READ, ipa1, &got, 8, &f),
                             RVM_OK);
            assert_int_equal(got, zero);
        } else {
            /* PMP has no VMID-tagged cache: activation reloads the hart's registers. */
            assert_int_equal(err, RVM_ERR_GUEST_FAULT);
            assert_int_equal(f.syndrome, 5);
        }
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        plat_del(p);
    }
}

/* Mapped bytes as the platform counts them, and a reset back to the state init leaves: the
 * simulator's kernel target resets one platform per run instead of allocating a new one. */
static void test_mapped_bytes_and_reset(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        uint64_t hpa = guest_base(p);
        struct rvm_sim_guest_fault f;
        struct rvm_sim_isolation_report rep;
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 1), 0);
        assert_int_equal(map(p, 1, ipa_for(p, hpa), hpa, 2 * PG, R | W), RVM_OK);
        assert_int_equal(map(p, 1, ipa_for(p, hpa + 4 * PG), hpa + 4 * PG, PG, R), RVM_OK);
        assert_int_equal(map(p, 2, ipa_for(p, hpa + 8 * PG), hpa + 8 * PG, 3 * PG, R), RVM_OK);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 1), 3 * PG);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 2), 3 * PG);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 3), 0);
        assert_int_equal(unmap(p, 1, ipa_for(p, hpa), 2 * PG), RVM_OK);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 1), PG);
        assert_int_equal(ops(p)->s2_activate(ctx(p), 1, 2, 5), RVM_OK);
        uint64_t v = 0;
        assert_int_equal(
            rvm_sim_platform_guest_access(p, 1, RVM_SIM_READ, ipa_for(p, hpa + 8 * PG), &v, 8, &f),
            RVM_OK);
        rvm_sim_platform_reset(p);
        /* nothing mapped, nothing running, nothing cached, every table page free again */
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 1), 0);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 2), 0);
        assert_int_equal(gread(p, 2, ipa_for(p, hpa + 8 * PG), &v, 8), RVM_ERR_GUEST_FAULT);
        assert_int_equal(
            rvm_sim_platform_guest_access(p, 1, RVM_SIM_READ, ipa_for(p, hpa + 8 * PG), &v, 8, &f),
            RVM_ERR_WRONG_STATE);
        assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        if (arches[ai] == RVM_SIM_ARCH_AARCH64) {
            assert_int_equal(p->as.pool.nfree, p->as.pool.npages);
            assert_int_equal(p->as.pool.free_head, 0);
            for (uint32_t i = 0; i < p->tlb.capacity; i++) {
                assert_int_equal(p->tlb.entries[i].valid, 0);
            }
        }
        /* and it works as before */
        assert_int_equal(map(p, 1, ipa_for(p, hpa), hpa, PG, R | W), RVM_OK);
        assert_int_equal(rvm_sim_platform_mapped_bytes(p, 1), PG);
        assert_int_equal(p->tlb_hits + p->tlb_misses, 0);
        plat_del(p);
    }
}

/* The level-3 descriptor of `ipa` in slot s, found by following the tables by hand. */
static uint64_t *leaf_desc(struct rvm_sim_platform *p, uint32_t s, uint64_t ipa)
{
    uint64_t *t = p->as.pool.pages[p->spaces[s].s2.root];
    for (unsigned l = 1; l < 3; l++) {
        uint64_t d = t[(ipa >> (12 + 9 * (3 - l))) & 511];
        assert_int_equal(d & 3, 3);
        t = p->as.pool.pages[((d & RVM_A64_DESC_OA_MASK) - p->as.pool.base_pa) / PG];
    }
    return &t[(ipa >> 12) & 511];
}

static void test_isolation_oracle_sharing(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        struct rvm_sim_platform *p = plat_new(arches[ai], NULL);
        bool a64 = arches[ai] == RVM_SIM_ARCH_AARCH64;
        uint64_t hpa = guest_base(p);
        struct rvm_sim_isolation_report rep;
        assert_int_equal(map(p, 1, ipa_for(p, hpa), hpa, 4 * PG, R | W), RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        if (!a64) {
            /* PMP is identity: two partitions naming the same page is the same IPA too. */
            assert_int_equal(map(p, 2, hpa + 2 * PG, hpa + 2 * PG, PG, R), RVM_OK);
        } else {
            assert_int_equal(map(p, 2, 0x5000, hpa + 2 * PG, PG, R), RVM_OK);
        }
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_SHARE);
        assert_true((rep.part == 1 && rep.other == 2) || (rep.part == 2 && rep.other == 1));
        assert_int_equal(rep.hpa, hpa + 2 * PG);
        /* Read-only sharing is allowed. */
        assert_int_equal(unmap(p, 1, ipa_for(p, hpa), 4 * PG), RVM_OK);
        assert_int_equal(map(p, 1, ipa_for(p, hpa), hpa, 4 * PG, R), RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        /* W^X and hypervisor memory can only appear through corruption: plant them. */
        assert_int_equal(map(p, 3, ipa_for(p, hpa + 8 * PG), hpa + 8 * PG, PG, R | W), RVM_OK);
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        uint32_t s3 = 0;
        while (p->spaces[s3].part != 3) {
            s3++;
        }
        if (a64) {
            uint64_t *desc = leaf_desc(p, s3, ipa_for(p, hpa + 8 * PG));
            uint64_t saved = *desc;
            *desc &= ~RVM_A64_DESC_XN;
            assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_WX);
            assert_int_equal(rep.part, 3);
            *desc = (saved & ~RVM_A64_DESC_OA_MASK) | p->cfg.ram_base; /* hypervisor page */
            assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_CORRUPT);
            *desc = saved;
        } else {
            struct rvm_rv_region saved = p->spaces[s3].regions[0];
            p->spaces[s3].regions[0].perms = R | W | X;
            assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_WX);
            assert_int_equal(rvm_sim_platform_check(p), RVM_ERR_CORRUPT); /* image mismatch */
            p->spaces[s3].regions[0] = saved;
            p->spaces[s3].regions[0].base = p->cfg.ram_base;
            assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_CORRUPT);
            p->spaces[s3].regions[0] = saved;
        }
        assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_OK);
        assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        plat_del(p);
    }
}

/* The incremental isolation check (only the spaces whose mappings changed are read again) gives
 * the verdict and report of the full check after every operation of a random sequence: two
 * platforms take the same operations, one checked incrementally, one in full. Sharing violations
 * come and go (a writable page mapped by two partitions), so both the masks' bookkeeping and the
 * fall-back to the full walk are exercised; `max_partitions` 65 keeps no masks at all. */
static void incremental_against_full(enum rvm_sim_arch arch, uint32_t max_partitions, uint64_t seed)
{
    struct rvm_sim_platform_config cfg;
    rvm_sim_platform_default_config(&cfg, arch);
    cfg.max_partitions = max_partitions;
    struct rvm_sim_platform *inc = plat_new(arch, &cfg);
    struct rvm_sim_platform *full = plat_new(arch, &cfg);
    struct rvm_sim_platform *both[2] = {inc, full};
    struct test_rng rng = test_rng_new(seed);
    const uint64_t base = guest_base(inc);
    uint32_t verdicts[2] = {0, 0}; /* clean, violation */
    struct {
        rvm_partition_id part;
        uint64_t hpa, size;
    } mapped[64];
    uint32_t nmapped = 0;
    for (int op = 0; op < 400; op++) {
        const rvm_partition_id part = 1u + (rvm_partition_id)test_rng_below(&rng, 5);
        const uint64_t hpa = base + test_rng_below(&rng, 24) * PG;
        const uint64_t size = (1u + test_rng_below(&rng, 2)) * PG;
        const uint32_t roll = (uint32_t)test_rng_below(&rng, 10);
        const uint32_t perms = test_rng_below(&rng, 4) == 0 ? (R | W) : (R | (roll & 1u ? X : 0));
        const uint32_t cpu = (uint32_t)test_rng_below(&rng, 2);
        const uint16_t vmid = (uint16_t)(1u + test_rng_below(&rng, 3));
        const uint32_t gone = nmapped == 0 ? 0 : (uint32_t)test_rng_below(&rng, nmapped);
        enum rvm_err done = RVM_OK;
        for (int i = 0; i < 2; i++) {
            struct rvm_sim_platform *p = both[i];
            uint64_t v = 0;
            struct rvm_sim_guest_fault f;
            if (roll < 4) {
                done = map(p, part, ipa_for(p, hpa), hpa, size, perms);
            } else if (roll < 7 && nmapped != 0) {
                done = unmap(p, mapped[gone].part, ipa_for(p, mapped[gone].hpa), mapped[gone].size);
            } else if (roll < 9) {
                (void)ops(p)->s2_activate(ctx(p), cpu, part, vmid);
                (void)rvm_sim_platform_guest_access(p, cpu, RVM_SIM_READ, ipa_for(p, hpa), &v, 8,
                                                    &f);
            } else {
                ops(p)->tlb_invalidate_vmid(ctx(p), vmid);
            }
        }
        if (roll < 4 && done == RVM_OK && nmapped < 64) {
            mapped[nmapped].part = part;
            mapped[nmapped].hpa = hpa;
            mapped[nmapped++].size = size;
        } else if (roll >= 4 && roll < 7 && nmapped != 0 && done == RVM_OK) {
            mapped[gone] = mapped[--nmapped];
        }
        struct rvm_sim_isolation_report ri, rf;
        enum rvm_err ei = rvm_sim_platform_check_isolation_changed(inc, &ri);
        enum rvm_err ef = rvm_sim_platform_check_isolation(full, &rf);
        assert_int_equal(ei, ef);
        assert_memory_equal(&ri, &rf, sizeof(ri));
        verdicts[ef == RVM_OK ? 0 : 1]++;
    }

    assert_true(verdicts[0] > 20 && verdicts[1] > 20);
    plat_del(inc);
    plat_del(full);
}

static void test_incremental_isolation_agrees_with_full(void **state)
{
    (void)state;
    for (int ai = 0; ai < NAR; ai++) {
        for (uint64_t seed = 1; seed <= 8; seed++) {
            incremental_against_full(arches[ai], 64, seed);
        }
        incremental_against_full(arches[ai], 65, 9);
    }
}

/* What the incremental check does not see: a table changed behind the platform's hooks (here
 * an AArch64 leaf made executable in place) is found only by the full check, which the kernel
 * target samples for that reason; after it the incremental check reports it too. */
static void test_incremental_isolation_reads_only_changed_spaces(void **state)
{
    (void)state;
    struct rvm_sim_platform *p = plat_new(RVM_SIM_ARCH_AARCH64, NULL);
    const uint64_t hpa = guest_base(p);
    struct rvm_sim_isolation_report rep;
    assert_int_equal(map(p, 1, ipa_for(p, hpa), hpa, PG, R | W), RVM_OK);
    assert_int_equal(map(p, 2, ipa_for(p, hpa + PG), hpa + PG, PG, R), RVM_OK);
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_OK);
    uint32_t s1 = 0;
    while (p->spaces[s1].part != 1) {
        s1++;
    }
    uint64_t *desc = leaf_desc(p, s1, ipa_for(p, hpa));
    *desc &= ~RVM_A64_DESC_XN;
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_OK); /* not read */
    /* a change to partition 2's space does not make partition 1's be read again either */
    assert_int_equal(map(p, 2, ipa_for(p, hpa + 2 * PG), hpa + 2 * PG, PG, R), RVM_OK);
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_OK);
    assert_int_equal(rvm_sim_platform_check_isolation(p, &rep), RVM_ERR_WX);
    assert_int_equal(rep.part, 1);
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_ERR_WX);
    /* and a change to partition 1's own space is read at once */
    *desc |= RVM_A64_DESC_XN;
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_OK);
    assert_int_equal(map(p, 1, ipa_for(p, hpa + 3 * PG), hpa + 3 * PG, PG, R), RVM_OK);
    *desc &= ~RVM_A64_DESC_XN;
    assert_int_equal(rvm_sim_platform_check_isolation_changed(p, &rep), RVM_ERR_WX);
    plat_del(p);
}

/* ---- randomised: the HAL against a per-page model with shadow memory ---------------------------
 */

#define MPAGES 64 /* model window: guest pages [0, 64) of each partition */

/* AArch64: partition k's window starts 32 pages below a 2 MiB boundary in GiB k, so it needs two
 * level-3 tables. */
static uint64_t a64_window(rvm_partition_id part)
{
    return ((uint64_t)part << 30) + 0x200000 - 32 * PG;
}

struct hmodel {
    int64_t host[3][MPAGES]; /* host page index in guest RAM, -1 unmapped */
    uint8_t perms[3][MPAGES];
    uint8_t *shadow; /* expected bytes of guest RAM */
};

static void test_random_against_model(void **state)
{
    (void)state;
    uint64_t seed = test_seed("hal_platform_random_against_model", 0xBEEF);
    for (int ai = 0; ai < NAR; ai++) {
        struct test_rng rng = test_rng_new(seed + (uint64_t)ai);
        struct rvm_sim_platform_config cfg;
        rvm_sim_platform_default_config(&cfg, arches[ai]);
        cfg.pmp_entries = 64;
        cfg.table_pages = 7; /* 2 roots + 2 level-2 + 4 level-3 would be needed at most */
        struct rvm_sim_platform *p = plat_new(arches[ai], &cfg);
        bool a64 = arches[ai] == RVM_SIM_ARCH_AARCH64;
        uint64_t gbase, gsize;
        rvm_sim_platform_guest_ram(p, &gbase, &gsize);
        struct hmodel m;
        memset(m.host, 0xFF, sizeof(m.host));
        memset(m.perms, 0, sizeof(m.perms));
        m.shadow = calloc(MPAGES * 2, PG);
        /* Partition k's guest page g: AArch64 IPA a64_window(k) + g pages (host page chosen
         * freely among 2*MPAGES); RISC-V identity on host pages [MPAGES*(k-1), MPAGES*k). */
        unsigned ok_ops = 0, refused = 0, faults = 0, copies = 0;
        for (int op = 0; op < 4000; op++) {
            rvm_partition_id part = 1 + (rvm_partition_id)test_rng_below(&rng, 2);
            uint64_t g = test_rng_below(&rng, MPAGES);
            uint64_t n = 1 + test_rng_below(&rng, 6);
            if (g + n > MPAGES) {
                n = MPAGES - g;
            }
            uint64_t host_first =
                a64 ? test_rng_below(&rng, 2 * MPAGES - n + 1) : (uint64_t)(part - 1) * MPAGES + g;
            uint64_t ipa = a64 ? a64_window(part) + g * PG : gbase + host_first * PG;
            uint64_t kind = test_rng_below(&rng, 10);
            if (kind >= 5 && test_rng_below(&rng, 10) < 7) {
                /* Copies mostly start at a mapped page, so they succeed often enough. */
                for (uint64_t k = 0; k < MPAGES && m.host[part][g] < 0; k++) {
                    g = (g + 1) % MPAGES;
                }
            }
            if (kind < 3) {
                static const uint32_t pset[] = {R, R | W, R | X, X};
                uint32_t perms = pset[test_rng_below(&rng, 4)];
                bool any = false;
                for (uint64_t i = 0; i < n; i++) {
                    any |= m.host[part][g + i] >= 0;
                }
                enum rvm_err err = map(p, part, ipa, gbase + host_first * PG, n * PG, perms);
                if (any) {
                    assert_int_equal(err, RVM_ERR_OVERLAP);
                } else if (err == RVM_OK) {
                    for (uint64_t i = 0; i < n; i++) {
                        m.host[part][g + i] = (int64_t)(host_first + i);
                        m.perms[part][g + i] = (uint8_t)perms;
                    }
                    ok_ops++;
                } else {
                    assert_int_equal(err, RVM_ERR_HAL); /* tables / PMP entries ran out */
                    refused++;
                }
            } else if (kind < 5) {
                bool all = true;
                for (uint64_t i = 0; i < n; i++) {
                    all &= m.host[part][g + i] >= 0;
                }
                enum rvm_err err = unmap(p, part, ipa, n * PG);
                if (!all) {
                    assert_int_equal(err, RVM_ERR_NOT_FOUND);
                } else if (err == RVM_OK) {
                    for (uint64_t i = 0; i < n; i++) {
                        m.host[part][g + i] = -1;
                        m.perms[part][g + i] = 0;
                    }
                    ok_ops++;
                } else {
                    assert_int_equal(err, RVM_ERR_HAL);
                    refused++;
                }
            } else {
                /* A copy of 1..2*PG bytes at a random offset inside the window. */
                bool write = kind >= 8;
                uint64_t off = test_rng_below(&rng, PG);
                size_t len =
                    1 + (size_t)test_rng_below(&rng, test_rng_below(&rng, 4) ? PG / 4 : 2 * PG);
                uint64_t first_byte = g * PG + off;
                if (first_byte + len > MPAGES * PG) {
                    len = (size_t)(MPAGES * PG - first_byte);
                }
                uint64_t gipa = a64 ? a64_window(part) + first_byte
                                    : gbase + (uint64_t)(part - 1) * MPAGES * PG + first_byte;
                bool allowed = true;
                for (uint64_t b = first_byte / PG; b <= (first_byte + len - 1) / PG; b++) {
                    uint32_t need = write ? W : R;
                    allowed &= m.host[part][b] >= 0 && (m.perms[part][b] & need) != 0;
                }
                uint8_t *buf = malloc(len), *want = malloc(len);
                test_rng_fill(&rng, buf, len);
                memcpy(want, buf, len);
                enum rvm_err err =
                    write ? gwrite(p, part, gipa, buf, len) : gread(p, part, gipa, buf, len);
                if (err != (allowed ? RVM_OK : RVM_ERR_GUEST_FAULT)) {
                    fail_msg("seed %llu %s op %d: part %u %s %#llx+%zu: want %s, got %d",
                             (unsigned long long)seed, arch_name(arches[ai]), op, part,
                             write ? "write" : "read", (unsigned long long)gipa, len,
                             allowed ? "ok" : "fault", err);
                }
                /* Apply to / compare with the shadow byte by byte through the model. */
                for (size_t i = 0; i < len && allowed; i++) {
                    uint64_t gb = first_byte + i;
                    uint64_t hb = (uint64_t)m.host[part][gb / PG] * PG + gb % PG;
                    if (write) {
                        m.shadow[hb] = buf[i];
                    } else {
                        want[i] = m.shadow[hb];
                    }
                }
                if (!write) {
                    assert_memory_equal(buf, want, len); /* unchanged on a fault */
                }
                if (op % 64 == 0 || (write && allowed)) {
                    assert_memory_equal(m.shadow, rvm_sim_platform_ram(p, gbase, MPAGES * 2 * PG),
                                        MPAGES * 2 * PG);
                }
                allowed ? copies++ : faults++;
                free(buf);
                free(want);
            }
            assert_int_equal(rvm_sim_platform_check(p), RVM_OK);
        }
        printf("# %s: %u maps/unmaps, %u capacity refusals, %u copies, %u faults\n",
               arch_name(arches[ai]), ok_ops, refused, copies, faults);
        assert_true(ok_ops > 150 && copies > 200 && faults > 200);
        if (a64) {
            assert_true(refused > 0);
        }
        free(m.shadow);
        plat_del(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_hal_is_unchanged),
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_round_trip_and_refusals),
        cmocka_unit_test(test_map_refusals),
        cmocka_unit_test(test_capacity_refusals_change_nothing),
        cmocka_unit_test(test_guest_access_syndromes),
        cmocka_unit_test(test_missing_invalidation_is_observable),
        cmocka_unit_test(test_vmid_reuse_without_invalidation),
        cmocka_unit_test(test_isolation_oracle_sharing),
        cmocka_unit_test(test_incremental_isolation_agrees_with_full),
        cmocka_unit_test(test_incremental_isolation_reads_only_changed_spaces),
        cmocka_unit_test(test_mapped_bytes_and_reset),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
