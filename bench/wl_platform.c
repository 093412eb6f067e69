/* SPDX-License-Identifier: MIT */
/*
 * Simulated platform workloads: the per-access costs the simulator pays for every guest memory
 * access (stage-2 walk, TLB hit, PMP check, guest_read through the HAL) and the cost of building
 * address spaces (map + unmap of a page with its tables, PMP image build). RVM has no
 * counterpart: its stage-2 code is never exercised by its benches.
 */
#include "harness.h"

#include "hal_platform.h"

#include "rvm/crypto_portable.h"

#include <stdlib.h>
#include <string.h>

#define PG 4096ull

struct plat_ctx {
    struct rvm_crypto crypto;
    struct rvm_sim_platform p;
    uint64_t ipa; /* 16 mapped pages start here */
    uint64_t vttbr;
    struct rvm_rv_pmp pmp;
    struct rvm_rv_region regions[8];
};

static void *plat_setup(enum rvm_sim_arch arch)
{
    struct plat_ctx *c = calloc(1, sizeof(*c));
    rvm_crypto_portable(&c->crypto);
    struct rvm_sim_platform_config cfg;
    rvm_sim_platform_default_config(&cfg, arch);
    if (rvm_sim_platform_init(&c->p, &c->crypto, &cfg) != RVM_OK) {
        free(c);
        return NULL;
    }
    uint64_t base, size;
    rvm_sim_platform_guest_ram(&c->p, &base, &size);
    c->ipa = arch == RVM_SIM_ARCH_RISCV ? base : 0x80000000ull;
    const struct rvm_hal *hal = rvm_sim_platform_hal(&c->p);
    /* 16 single-page mappings (level-3 leaves; on RISC-V merged into one PMP entry). */
    for (uint64_t i = 0; i < 16; i++) {
        hal->ops->s2_map(hal->ctx, 1, rvm_ipa(c->ipa + i * PG), rvm_hpa(base + i * PG), PG,
                         RVM_PERM_R | RVM_PERM_W);
    }
    hal->ops->s2_activate(hal->ctx, 0, 1, 1);
    c->vttbr = c->p.cpu[0].vttbr;
    for (uint32_t i = 0; i < 8; i++) {
        c->regions[i] = (struct rvm_rv_region){0x80000000ull + i * 0x10000ull,
                                               i % 2 ? 0x3000 : 0x4000, RVM_PERM_R, 0};
    }
    rvm_rv_pmp_build(&c->pmp, 16, c->regions, 8, NULL);
    return c;
}

static void *a64_setup(void)
{
    return plat_setup(RVM_SIM_ARCH_AARCH64);
}

static void *rv_setup(void)
{
    return plat_setup(RVM_SIM_ARCH_RISCV);
}

static void plat_teardown(void *ctx)
{
    struct plat_ctx *c = ctx;
    rvm_sim_platform_free(&c->p);
    free(c);
}

static void a64_walk_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    struct rvm_a64_walk w;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_a64_walk(&c->p.as.pool, c->vttbr, c->ipa + (i & 15) * PG + 8, RVM_A64_READ, &w);
        bench_keep(w.oa);
    }
}

static void a64_tlb_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    struct rvm_a64_walk w;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_a64_tlb_translate(&c->p.tlb, &c->p.as.pool, c->vttbr, c->ipa + (i & 15) * PG,
                              RVM_A64_READ, &w, NULL);
        bench_keep(w.oa);
    }
}

static void a64_map_unmap_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    /* A page in an empty GiB: each map takes a level-2 and a level-3 table, each unmap returns
     * them. */
    const struct rvm_a64_space *s = &c->p.spaces[0].s2;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_a64_map(&c->p.as.pool, s, 0x40000000ull, 0x40F00000ull, PG, RVM_PERM_R,
                    RVM_A64_MEM_NORMAL);
        rvm_a64_unmap(&c->p.as.pool, s, 0x40000000ull, PG);
    }
}

static void rv_pmp_check_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        /* Hits the last of the 8 regions (entries 14-15): a worst case for a 16-entry PMP. */
        bool ok = rvm_rv_pmp_allows(&c->pmp, 0x80070000ull + (i & 0xFF) * 8, 8, RVM_RV_LOAD,
                                    RVM_RV_PRIV_S);
        bench_keep(ok);
    }
}

static void rv_pmp_build_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    struct rvm_rv_pmp out;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_rv_pmp_build(&out, 16, c->regions, 8, NULL);
        bench_keep(out.addr[0]);
    }
}

static void guest_read_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    const struct rvm_hal *hal = rvm_sim_platform_hal(&c->p);
    uint8_t buf[64];
    for (uint64_t i = 0; i < iters; i++) {
        hal->ops->guest_read(hal->ctx, 1, rvm_ipa(c->ipa + (i & 15) * PG + 128), buf, sizeof(buf));
        bench_keep(buf[0]);
    }
}

static void guest_access_run(void *ctx, uint64_t iters)
{
    struct plat_ctx *c = ctx;
    struct rvm_sim_guest_fault f;
    uint64_t v = 0;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_sim_platform_guest_access(&c->p, 0, RVM_SIM_READ, c->ipa + (i & 15) * PG + 64, &v, 8,
                                      &f);
        bench_keep(v);
    }
}

static const struct bench_workload platform_workloads[] = {
    {"platform_a64_walk", "walk", "stage-2 software walk, 3 levels to a 4 KiB page", 1, a64_setup,
     a64_walk_run, plat_teardown},
    {"platform_a64_tlb_hit", "access", "stage-2 translation hitting the 64-entry TLB model", 1,
     a64_setup, a64_tlb_run, plat_teardown},
    {"platform_a64_map_unmap", "pair",
     "map + unmap one page needing (and returning) a level-2 and a level-3 table", 1, a64_setup,
     a64_map_unmap_run, plat_teardown},
    {"platform_a64_guest_read_64B", "copy", "HAL guest_read of 64 bytes (walk, then copy)", 1,
     a64_setup, guest_read_run, plat_teardown},
    {"platform_a64_guest_access", "access",
     "simulated 8-byte guest load through TLB and tables on CPU 0", 1, a64_setup, guest_access_run,
     plat_teardown},
    {"platform_rv_pmp_check", "access", "PMP check of an 8-byte S-mode load matching entry 15", 1,
     rv_setup, rv_pmp_check_run, plat_teardown},
    {"platform_rv_pmp_build", "build", "PMP image for 8 regions (16 entries)", 1, rv_setup,
     rv_pmp_build_run, plat_teardown},
    {"platform_rv_guest_read_64B", "copy", "HAL guest_read of 64 bytes (PMP via MPRV, then copy)",
     1, rv_setup, guest_read_run, plat_teardown},
    {"platform_rv_guest_access", "access", "simulated 8-byte guest load against the hart's PMP", 1,
     rv_setup, guest_access_run, plat_teardown},
};

struct bench_group bench_platform_group(void)
{
    struct bench_group g = {platform_workloads,
                            sizeof(platform_workloads) / sizeof(platform_workloads[0])};
    return g;
}
