/* SPDX-License-Identifier: MIT */
/* Sim-only glue: host memory as physical RAM, and the HAL hooks over the platform libraries. */
#include "hal_platform.h"

#include "rvm/bytes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE      RVM_PAGE_SIZE
#define PAGE_MASK (RVM_PAGE_SIZE - 1u)
#define PERM_BITS ((uint32_t)(RVM_PERM_R | RVM_PERM_W | RVM_PERM_X))
#define SLOT_NONE UINT32_MAX
#define PF_WRITE  0x1u
#define PF_MAPPED 0x2u

static struct rvm_sim_platform *plat(void *ctx)
{
    return (struct rvm_sim_platform *)ctx; /* sim is the first member */
}

static bool is_a64(const struct rvm_sim_platform *p)
{
    return p->cfg.arch == RVM_SIM_ARCH_AARCH64;
}

void rvm_sim_platform_default_config(struct rvm_sim_platform_config *cfg, enum rvm_sim_arch arch)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->arch = arch;
    cfg->cpus = 4;
    cfg->max_partitions = 64;
    cfg->ram_base = arch == RVM_SIM_ARCH_RISCV ? 0x80000000u : 0x40000000u;
    cfg->ram_size = 16u << 20;
    cfg->hyp_size = 2u << 20;
    cfg->table_pages = 256;
    cfg->tlb_entries = 64;
    cfg->pmp_entries = 16;
    cfg->max_regions = 32;
}

static bool config_ok(const struct rvm_sim_platform_config *c)
{
    uint64_t ram_end;
    if ((c->arch != RVM_SIM_ARCH_AARCH64 && c->arch != RVM_SIM_ARCH_RISCV) || c->cpus == 0 ||
        c->cpus > RVM_SIM_PLATFORM_MAX_CPUS || c->max_partitions == 0 ||
        c->max_partitions > 65536u || (c->ram_base & PAGE_MASK) != 0 ||
        (c->ram_size & PAGE_MASK) != 0 || (c->hyp_size & PAGE_MASK) != 0 ||
        c->ram_size <= c->hyp_size || c->ram_size > ((uint64_t)1 << 34) ||
        !rvm_add_u64(c->ram_base, c->ram_size, &ram_end)) {
        return false;
    }
    if (c->arch == RVM_SIM_ARCH_AARCH64) {
        return ram_end <= ((uint64_t)1 << RVM_A64_PA_BITS) && c->table_pages >= 1u &&
               (uint64_t)c->table_pages * PAGE <= c->hyp_size && c->tlb_entries >= 1u &&
               c->tlb_entries <= 65536u;
    }
    return ram_end <= ((uint64_t)1 << RVM_RV_PA_BITS) &&
           (c->pmp_entries == 16u || c->pmp_entries == 64u) && c->max_regions >= 1u &&
           c->max_regions <= 65536u;
}

/* ---- partitions' address-space slots ----------------------------------------------------------
 */

static uint32_t slot_find(const struct rvm_sim_platform *p, rvm_partition_id part)
{
    for (uint32_t i = 0; i < p->cfg.max_partitions; i++) {
        if (p->spaces[i].part == part) {
            return i;
        }
    }
    return SLOT_NONE;
}

/* A fresh empty space for `part`, or SLOT_NONE when slots or table pages run out. */
static uint32_t slot_create(struct rvm_sim_platform *p, rvm_partition_id part)
{
    uint32_t s = slot_find(p, RVM_PARTITION_INVALID);
    if (s == SLOT_NONE) {
        return SLOT_NONE;
    }
    struct rvm_sim_pspace *sp = &p->spaces[s];
    if (is_a64(p)) {
        if (rvm_a64_space_init(&p->pool, &sp->s2) != RVM_OK) {
            return SLOT_NONE;
        }
    } else {
        sp->nregions = 0;
        rvm_rv_pmp_init(&sp->image, p->cfg.pmp_entries);
    }
    sp->part = part;
    return s;
}

static bool slot_empty(const struct rvm_sim_platform *p, uint32_t s)
{
    const struct rvm_sim_pspace *sp = &p->spaces[s];
    return is_a64(p) ? p->pool.info[sp->s2.root].live == 0 : sp->nregions == 0;
}

static bool slot_running(const struct rvm_sim_platform *p, uint32_t s)
{
    for (uint32_t c = 0; c < p->cfg.cpus; c++) {
        if (p->cpu[c].active && p->cpu[c].part == p->spaces[s].part) {
            return true;
        }
    }
    return false;
}

/* Slots are recycled once nothing is mapped and no CPU runs on them. */
static void slot_maybe_release(struct rvm_sim_platform *p, uint32_t s)
{
    if (s == SLOT_NONE || !slot_empty(p, s) || slot_running(p, s)) {
        return;
    }
    struct rvm_sim_pspace *sp = &p->spaces[s];
    if (is_a64(p)) {
        rvm_a64_space_destroy(&p->pool, &sp->s2);
    }
    sp->part = RVM_PARTITION_INVALID;
    sp->nregions = 0;
}

/* ---- host memory ------------------------------------------------------------------------------
 */

uint8_t *rvm_sim_platform_ram(const struct rvm_sim_platform *p, uint64_t hpa, uint64_t len)
{
    uint64_t end;
    if (hpa < p->cfg.ram_base || !rvm_add_u64(hpa, len, &end) ||
        end > p->cfg.ram_base + p->cfg.ram_size) {
        return NULL;
    }
    return p->ram + (hpa - p->cfg.ram_base);
}

void rvm_sim_platform_guest_ram(const struct rvm_sim_platform *p, uint64_t *base, uint64_t *size)
{
    *base = p->cfg.ram_base + p->cfg.hyp_size;
    *size = p->cfg.ram_size - p->cfg.hyp_size;
}

/* [hpa, hpa + size) lies in guest RAM (never the hypervisor's bytes). */
static bool guest_ram_range(const struct rvm_sim_platform *p, uint64_t hpa, uint64_t size)
{
    uint64_t base;
    uint64_t len;
    rvm_sim_platform_guest_ram(p, &base, &len);
    return hpa >= base && hpa - base <= len && size <= len - (hpa - base);
}

/* ---- RISC-V region lists ----------------------------------------------------------------------
 */

/* Field-wise: struct assignment need not copy padding, so memcmp of two images can differ. */
static bool pmp_equal(const struct rvm_rv_pmp *a, const struct rvm_rv_pmp *b)
{
    return a->count == b->count && memcmp(a->cfg, b->cfg, sizeof(a->cfg)) == 0 &&
           memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* scratch = regions with [base, base + size) inserted: OVERLAP first, then HAL when full. */
static enum rvm_err regions_insert(struct rvm_sim_platform *p, const struct rvm_sim_pspace *sp,
                                   uint64_t base, uint64_t size, uint32_t perms, uint32_t *n_out)
{
    for (uint32_t i = 0; i < sp->nregions; i++) {
        const struct rvm_rv_region *r = &sp->regions[i];
        if (r->base < base + size && base < r->base + r->size) {
            return RVM_ERR_OVERLAP;
        }
    }
    if (sp->nregions >= p->cfg.max_regions) {
        return RVM_ERR_HAL;
    }
    uint32_t n = 0;
    bool placed = false;
    for (uint32_t i = 0; i < sp->nregions; i++) {
        const struct rvm_rv_region *r = &sp->regions[i];
        if (!placed && base < r->base) {
            p->scratch[n++] = (struct rvm_rv_region){base, size, perms, 0};
            placed = true;
        }
        p->scratch[n++] = *r;
    }
    if (!placed) {
        p->scratch[n++] = (struct rvm_rv_region){base, size, perms, 0};
    }
    *n_out = n;
    return RVM_OK;
}

/* scratch = regions minus [base, base + size); NOT_FOUND unless every byte was mapped. */
static enum rvm_err regions_remove(struct rvm_sim_platform *p, const struct rvm_sim_pspace *sp,
                                   uint64_t base, uint64_t size, uint32_t *n_out)
{
    uint64_t end = base + size;
    uint64_t covered = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < sp->nregions; i++) {
        const struct rvm_rv_region *r = &sp->regions[i];
        uint64_t r_end = r->base + r->size;
        if (r_end <= base || r->base >= end) {
            p->scratch[n++] = *r;
            continue;
        }
        uint64_t lo = r->base > base ? r->base : base;
        uint64_t hi = r_end < end ? r_end : end;
        covered += hi - lo;
        if (r->base < base) {
            p->scratch[n++] = (struct rvm_rv_region){r->base, base - r->base, r->perms, 0};
        }
        if (r_end > end) {
            /* At most one region strictly contains the range: n <= nregions + 1 fits scratch. */
            p->scratch[n++] = (struct rvm_rv_region){end, r_end - end, r->perms, 0};
        }
    }
    if (covered != size) {
        return RVM_ERR_NOT_FOUND;
    }
    if (n > p->cfg.max_regions) {
        return RVM_ERR_HAL; /* splitting a region needs one more slot */
    }
    *n_out = n;
    return RVM_OK;
}

/* Install scratch[0..n) as the slot's regions if the PMP can express it. */
static enum rvm_err regions_commit(struct rvm_sim_platform *p, struct rvm_sim_pspace *sp,
                                   uint32_t n)
{
    struct rvm_rv_pmp image;
    enum rvm_err err = rvm_rv_pmp_build(&image, p->cfg.pmp_entries, p->scratch, n, NULL);
    if (err == RVM_ERR_NO_SPACE) {
        return RVM_ERR_HAL; /* layout does not fit the PMP entries */
    }
    if (err != RVM_OK) {
        return err;
    }
    memcpy(sp->regions, p->scratch, (size_t)n * sizeof(*sp->regions));
    sp->nregions = n;
    sp->image = image;
    return RVM_OK;
}

/* ---- HAL hooks --------------------------------------------------------------------------------
 */

static enum rvm_err check_range(uint64_t a, uint64_t size)
{
    uint64_t end;
    if (size == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((a & PAGE_MASK) != 0 || (size & PAGE_MASK) != 0) {
        return RVM_ERR_ALIGNMENT;
    }
    return rvm_add_u64(a, size, &end) ? RVM_OK : RVM_ERR_OVERFLOW;
}

static bool part_ok(rvm_partition_id part)
{
    return part != RVM_PARTITION_HYPERVISOR && part != RVM_PARTITION_INVALID;
}

static enum rvm_err plat_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                                uint64_t size, uint32_t perms)
{
    struct rvm_sim_platform *p = plat(ctx);
    if (!part_ok(part) || perms == 0 || (perms & ~PERM_BITS) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_X) != 0) {
        return RVM_ERR_WX;
    }
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_R) == 0) {
        return RVM_ERR_HAL; /* PMP cannot express write-only; refused on both for parity */
    }
    enum rvm_err err = check_range(ipa.v, size);
    if (err == RVM_OK) {
        err = check_range(hpa.v, size);
    }
    if (err != RVM_OK) {
        return err;
    }
    if (!guest_ram_range(p, hpa.v, size)) {
        return RVM_ERR_HAL; /* outside RAM or inside the hypervisor's own memory */
    }
    if (!is_a64(p) && ipa.v != hpa.v) {
        return RVM_ERR_HAL; /* PMP does not translate: guest addresses are host addresses */
    }
    uint32_t s = slot_find(p, part);
    bool created = false;
    if (s == SLOT_NONE) {
        s = slot_create(p, part);
        if (s == SLOT_NONE) {
            return RVM_ERR_HAL;
        }
        created = true;
    }
    struct rvm_sim_pspace *sp = &p->spaces[s];
    if (is_a64(p)) {
        err = rvm_a64_map(&p->pool, &sp->s2, ipa.v, hpa.v, size, perms, RVM_A64_MEM_NORMAL);
        if (err == RVM_ERR_NO_SPACE || err == RVM_ERR_OUT_OF_RANGE) {
            err = RVM_ERR_HAL; /* table pool exhausted / beyond the 39-bit IPA space */
        }
    } else {
        uint32_t n = 0;
        err = regions_insert(p, sp, ipa.v, size, perms, &n);
        if (err == RVM_OK) {
            err = regions_commit(p, sp, n);
        }
        if (err == RVM_OK) {
            /* New grants reach harts running the partition at once, as the walk-on-miss of
             * stage 2 would; only removals wait for an invalidation. */
            for (uint32_t c = 0; c < p->cfg.cpus; c++) {
                if (p->cpu[c].active && p->cpu[c].part == part) {
                    p->cpu[c].pmp = sp->image;
                }
            }
        }
    }
    if (err != RVM_OK && created) {
        slot_maybe_release(p, s);
    }
    return err;
}

static enum rvm_err plat_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct rvm_sim_platform *p = plat(ctx);
    if (!part_ok(part)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = check_range(ipa.v, size);
    if (err != RVM_OK) {
        return err;
    }
    uint32_t s = slot_find(p, part);
    if (s == SLOT_NONE) {
        return RVM_ERR_NOT_FOUND;
    }
    struct rvm_sim_pspace *sp = &p->spaces[s];
    if (is_a64(p)) {
        err = rvm_a64_unmap(&p->pool, &sp->s2, ipa.v, size);
        if (err == RVM_ERR_NO_SPACE) {
            err = RVM_ERR_HAL; /* splitting a block needs table pages the pool lacks */
        } else if (err == RVM_ERR_OUT_OF_RANGE) {
            err = RVM_ERR_NOT_FOUND;
        }
    } else {
        uint32_t n = 0;
        err = regions_remove(p, sp, ipa.v, size, &n);
        if (err == RVM_OK) {
            err = regions_commit(p, sp, n);
        }
        /* Live PMP registers of harts running the partition keep the old layout until
         * tlb_invalidate_vmid or s2_activate: the M-mode analogue of a stale TLB entry. */
    }
    if (err == RVM_OK) {
        slot_maybe_release(p, s);
    }
    return err;
}

static enum rvm_err plat_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct rvm_sim_platform *p = plat(ctx);
    if (cpu >= p->cfg.cpus || vmid >= RVM_A64_VMID_COUNT) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (!part_ok(part)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint32_t s = slot_find(p, part);
    if (s == SLOT_NONE) {
        s = slot_create(p, part);
        if (s == SLOT_NONE) {
            return RVM_ERR_HAL;
        }
    }
    struct rvm_sim_cpu *c = &p->cpu[cpu];
    uint32_t prev = c->active ? slot_find(p, c->part) : SLOT_NONE;
    c->active = true;
    c->part = part;
    c->vmid = vmid;
    if (is_a64(p)) {
        c->vttbr = rvm_a64_vttbr(&p->pool, &p->spaces[s].s2, (uint8_t)vmid);
    } else {
        c->pmp = p->spaces[s].image;
    }
    p->vmid_owner[vmid] = part;
    if (prev != s) {
        slot_maybe_release(p, prev);
    }
    return RVM_OK;
}

static void plat_tlb_invalidate_vmid(void *ctx, uint16_t vmid)
{
    struct rvm_sim_platform *p = plat(ctx);
    if (vmid >= RVM_A64_VMID_COUNT) {
        return;
    }
    if (is_a64(p)) {
        rvm_a64_tlb_invalidate_vmid(&p->tlb, (uint8_t)vmid);
        return;
    }
    for (uint32_t c = 0; c < p->cfg.cpus; c++) {
        struct rvm_sim_cpu *cpu = &p->cpu[c];
        uint32_t s = cpu->active && cpu->vmid == vmid ? slot_find(p, cpu->part) : SLOT_NONE;
        if (s != SLOT_NONE) {
            cpu->pmp = p->spaces[s].image;
        }
    }
}

/* Software translation of one address of slot s for `kind`: the walk the firmware HAL does. */
static enum rvm_err slot_translate(const struct rvm_sim_platform *p, uint32_t s, uint64_t ipa,
                                   uint64_t len, enum rvm_sim_access kind, uint64_t *hpa)
{
    const struct rvm_sim_pspace *sp = &p->spaces[s];
    if (is_a64(p)) {
        struct rvm_a64_walk w;
        uint64_t vttbr = rvm_a64_vttbr(&p->pool, &sp->s2, 0);
        if (rvm_a64_walk(&p->pool, vttbr, ipa, (enum rvm_a64_access)kind, &w) != RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
        *hpa = w.oa;
    } else {
        /* M-mode with MPRV = 1 and MPP = S: checked against the partition's PMP as S-mode. */
        struct rvm_rv_fault f;
        uint64_t mstatus = RVM_RV_MSTATUS_MPRV | (uint64_t)RVM_RV_PRIV_S
                                                     << RVM_RV_MSTATUS_MPP_SHIFT;
        enum rvm_rv_access a = kind == RVM_SIM_WRITE  ? RVM_RV_STORE
                               : kind == RVM_SIM_EXEC ? RVM_RV_FETCH
                                                      : RVM_RV_LOAD;
        enum rvm_rv_priv cur = a == RVM_RV_FETCH ? RVM_RV_PRIV_S : RVM_RV_PRIV_M;
        if (rvm_rv_access_check(&sp->image, mstatus, cur, ipa, len, a, &f) != RVM_OK) {
            return RVM_ERR_GUEST_FAULT;
        }
        *hpa = ipa;
    }
    return guest_ram_range(p, *hpa, len) ? RVM_OK : RVM_ERR_GUEST_FAULT;
}

enum rvm_err rvm_sim_platform_translate(const struct rvm_sim_platform *p, rvm_partition_id part,
                                        uint64_t ipa, enum rvm_sim_access kind, uint64_t *hpa)
{
    uint32_t s = part_ok(part) ? slot_find(p, part) : SLOT_NONE;
    if (s == SLOT_NONE) {
        return RVM_ERR_GUEST_FAULT;
    }
    return slot_translate(p, s, ipa, 1, kind, hpa);
}

/*
 * guest_read / guest_write: check every page of the range first, then copy, so a fault anywhere
 * copies nothing. Chunks never cross a 4 KiB page, and every mapping is page granular, so each
 * chunk lies in one leaf / one PMP entry.
 */
static enum rvm_err guest_copy(struct rvm_sim_platform *p, rvm_partition_id part, uint64_t ipa,
                               uint8_t *host, size_t len, bool write)
{
    if (len == 0) {
        return RVM_OK;
    }
    uint64_t last;
    if (!rvm_add_u64(ipa, (uint64_t)len - 1u, &last)) {
        return RVM_ERR_OVERFLOW;
    }
    uint32_t s = part_ok(part) ? slot_find(p, part) : SLOT_NONE;
    if (s == SLOT_NONE) {
        return RVM_ERR_GUEST_FAULT;
    }
    enum rvm_sim_access kind = write ? RVM_SIM_WRITE : RVM_SIM_READ;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t a = ipa;
        size_t done = 0;
        while (done < len) { /* bound: one iteration per page of the range */
            uint64_t chunk = PAGE - (a & PAGE_MASK);
            if (chunk > len - done) {
                chunk = len - done;
            }
            uint64_t hpa = 0;
            if (slot_translate(p, s, a, chunk, kind, &hpa) != RVM_OK) {
                return RVM_ERR_GUEST_FAULT; /* only possible in pass 0 */
            }
            if (pass == 1) {
                uint8_t *ram = p->ram + (hpa - p->cfg.ram_base);
                if (write) {
                    memcpy(ram, host + done, (size_t)chunk);
                } else {
                    memcpy(host + done, ram, (size_t)chunk);
                }
            }
            done += (size_t)chunk;
            a += chunk;
        }
    }
    return RVM_OK;
}

static enum rvm_err plat_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                    size_t len)
{
    return guest_copy(plat(ctx), part, src.v, dst, len, false);
}

static enum rvm_err plat_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst,
                                     const void *src, size_t len)
{
    /* The buffer is only read from in the write direction. */
    return guest_copy(plat(ctx), part, dst.v, (uint8_t *)(uintptr_t)src, len, true);
}

/* ---- hypervisor access to RAM -------------------------------------------------------------------
 * Only the guest RAM the core's allocator manages; anything else is a core bug, counted for the
 * tests and otherwise ignored (reads see zeros). */

static uint8_t *phys_range(struct rvm_sim_platform *p, uint64_t hpa, uint64_t len)
{
    if (!guest_ram_range(p, hpa, len)) {
        p->phys_violations++;
        return NULL;
    }
    return p->ram + (hpa - p->cfg.ram_base);
}

static void plat_phys_read(void *ctx, rvm_hpa_t src, void *dst, size_t len)
{
    uint8_t *ram = phys_range(plat(ctx), src.v, len);
    if (ram != NULL) {
        memcpy(dst, ram, len);
    } else {
        memset(dst, 0, len);
    }
}

static void plat_phys_write(void *ctx, rvm_hpa_t dst, const void *src, size_t len)
{
    uint8_t *ram = phys_range(plat(ctx), dst.v, len);
    if (ram != NULL) {
        memcpy(ram, src, len);
    }
}

static void plat_phys_zero(void *ctx, rvm_hpa_t dst, uint64_t len)
{
    uint8_t *ram = phys_range(plat(ctx), dst.v, len);
    if (ram != NULL) {
        memset(ram, 0, (size_t)len);
    }
}

/* ---- guest instructions -----------------------------------------------------------------------
 */

enum rvm_err rvm_sim_platform_guest_access(struct rvm_sim_platform *p, uint32_t cpu,
                                           enum rvm_sim_access kind, uint64_t ipa, void *buf,
                                           size_t len, struct rvm_sim_guest_fault *fault)
{
    if (cpu >= p->cfg.cpus ||
        (kind != RVM_SIM_READ && kind != RVM_SIM_WRITE && kind != RVM_SIM_EXEC)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if ((len != 1 && len != 2 && len != 4 && len != 8) || (ipa & (len - 1u)) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    const struct rvm_sim_cpu *c = &p->cpu[cpu];
    if (!c->active) {
        return RVM_ERR_WRONG_STATE;
    }
    memset(fault, 0, sizeof(*fault));
    uint64_t hpa;
    if (is_a64(p)) {
        struct rvm_a64_walk w;
        bool hit = false;
        enum rvm_a64_access a = (enum rvm_a64_access)kind;
        enum rvm_err err = rvm_a64_tlb_translate(&p->tlb, &p->pool, c->vttbr, ipa, a, &w, &hit);
        if (hit) {
            p->tlb_hits++;
        } else {
            p->tlb_misses++;
        }
        if (err == RVM_OK && rvm_sim_platform_ram(p, w.oa, len) == NULL) {
            /* Output address with no memory behind it: synchronous external abort. */
            w.kind = RVM_A64_FAULT_NONE;
            w.level = 0;
            w.fsc = 0x10u;
            err = RVM_ERR_GUEST_FAULT;
        }
        if (err != RVM_OK) {
            p->guest_faults++;
            fault->syndrome = rvm_a64_esr(&w, a);
            fault->addr = ipa;
            fault->hpfar = rvm_a64_hpfar(ipa);
            fault->level = w.level;
            fault->kind = w.kind;
            return RVM_ERR_GUEST_FAULT;
        }
        hpa = w.oa;
    } else {
        struct rvm_rv_fault f;
        enum rvm_rv_access a = kind == RVM_SIM_WRITE  ? RVM_RV_STORE
                               : kind == RVM_SIM_EXEC ? RVM_RV_FETCH
                                                      : RVM_RV_LOAD;
        enum rvm_err err = rvm_rv_access_check(&c->pmp, 0, RVM_RV_PRIV_S, ipa, len, a, &f);
        if (err == RVM_OK && rvm_sim_platform_ram(p, ipa, len) == NULL) {
            f.mcause = rvm_rv_access_fault_cause(a); /* no memory there: also an access fault */
            f.mtval = ipa;
            err = RVM_ERR_GUEST_FAULT;
        }
        if (err != RVM_OK) {
            p->guest_faults++;
            fault->syndrome = f.mcause;
            fault->addr = f.mtval;
            return RVM_ERR_GUEST_FAULT;
        }
        hpa = ipa;
    }
    uint8_t *ram = rvm_sim_platform_ram(p, hpa, len);
    if (kind == RVM_SIM_WRITE) {
        memcpy(ram, buf, len);
    } else {
        memcpy(buf, ram, len);
    }
    return RVM_OK;
}

/* ---- oracles ----------------------------------------------------------------------------------
 */

uint64_t rvm_sim_platform_mapped_bytes(const struct rvm_sim_platform *p, rvm_partition_id part)
{
    uint32_t s = part_ok(part) ? slot_find(p, part) : SLOT_NONE;
    if (s == SLOT_NONE) {
        return 0;
    }
    const struct rvm_sim_pspace *sp = &p->spaces[s];
    uint64_t total = 0;
    if (is_a64(p)) {
        struct rvm_a64_leaf leaf;
        uint64_t from = 0;
        while (rvm_a64_space_next_leaf(&p->pool, &sp->s2, from, &leaf)) {
            total += leaf.size;
            from = leaf.ipa + leaf.size;
        }
        return total;
    }
    for (uint32_t i = 0; i < sp->nregions; i++) {
        total += sp->regions[i].size;
    }
    return total;
}

enum rvm_err rvm_sim_platform_check(const struct rvm_sim_platform *p)
{
    if (is_a64(p)) {
        enum rvm_err err = rvm_a64_pool_check(&p->pool);
        if (err != RVM_OK) {
            return err;
        }
    }
    uint32_t roots = 0;
    for (uint32_t s = 0; s < p->cfg.max_partitions; s++) {
        const struct rvm_sim_pspace *sp = &p->spaces[s];
        if (sp->part == RVM_PARTITION_INVALID) {
            continue;
        }
        if (!part_ok(sp->part) || slot_find(p, sp->part) != s) {
            return RVM_ERR_CORRUPT; /* one slot per partition */
        }
        if (is_a64(p)) {
            if (sp->s2.root >= p->pool.npages || p->pool.info[sp->s2.root].level != 1u) {
                return RVM_ERR_CORRUPT;
            }
            roots++;
            continue;
        }
        struct rvm_rv_pmp image;
        if (sp->nregions > p->cfg.max_regions || rvm_rv_pmp_check(&sp->image) != RVM_OK ||
            rvm_rv_pmp_build(&image, p->cfg.pmp_entries, sp->regions, sp->nregions, NULL) !=
                RVM_OK ||
            !pmp_equal(&image, &sp->image)) {
            return RVM_ERR_CORRUPT;
        }
    }
    if (is_a64(p)) {
        /* Every root in the pool belongs to exactly one slot. */
        uint32_t pool_roots = 0;
        for (uint32_t i = 0; i < p->pool.npages; i++) {
            pool_roots += p->pool.info[i].level == 1u;
        }
        if (pool_roots != roots) {
            return RVM_ERR_CORRUPT;
        }
    }
    for (uint32_t c = 0; c < p->cfg.cpus; c++) {
        if (p->cpu[c].active && slot_find(p, p->cpu[c].part) == SLOT_NONE) {
            return RVM_ERR_CORRUPT;
        }
        if (!is_a64(p) && rvm_rv_pmp_check(&p->cpu[c].pmp) != RVM_OK) {
            return RVM_ERR_CORRUPT;
        }
    }
    return RVM_OK;
}

/* Record one mapped range of slot s for the sharing check; the first violation wins. */
static enum rvm_err note_range(const struct rvm_sim_platform *p, uint32_t s, uint64_t ipa,
                               uint64_t hpa, uint64_t size, uint32_t perms,
                               struct rvm_sim_isolation_report *r)
{
    r->part = p->spaces[s].part;
    r->ipa = ipa;
    r->hpa = hpa;
    if ((perms & RVM_PERM_W) != 0 && (perms & RVM_PERM_X) != 0) {
        return RVM_ERR_WX;
    }
    if (!guest_ram_range(p, hpa, size)) {
        return RVM_ERR_CORRUPT;
    }
    uint64_t first = (hpa - p->cfg.ram_base) >> RVM_PAGE_SHIFT;
    uint64_t pages = size >> RVM_PAGE_SHIFT;
    for (uint64_t i = 0; i < pages; i++) {
        uint32_t owner = p->page_owner[first + i];
        uint8_t flags = p->page_flags[first + i];
        bool w = (perms & RVM_PERM_W) != 0;
        if ((flags & PF_MAPPED) != 0 && owner != s && (w || (flags & PF_WRITE) != 0)) {
            r->other = p->spaces[owner].part;
            r->ipa = ipa + (i << RVM_PAGE_SHIFT);
            r->hpa = hpa + (i << RVM_PAGE_SHIFT);
            return RVM_ERR_SHARE;
        }
        p->page_owner[first + i] = s;
        p->page_flags[first + i] = (uint8_t)(flags | PF_MAPPED | (w ? PF_WRITE : 0));
    }
    return RVM_OK;
}

static enum rvm_err check_stale(const struct rvm_sim_platform *p,
                                struct rvm_sim_isolation_report *r)
{
    if (is_a64(p)) {
        for (uint32_t i = 0; i < p->tlb.capacity; i++) {
            const struct rvm_a64_tlb_entry *e = &p->tlb.entries[i];
            if (e->valid == 0) {
                continue;
            }
            rvm_partition_id owner = p->vmid_owner[e->vmid];
            uint32_t s = slot_find(p, owner);
            uint64_t ipa = e->ipa_page << RVM_PAGE_SHIFT;
            struct rvm_a64_walk w;
            bool coherent = false;
            if (s != SLOT_NONE) {
                uint64_t vttbr = rvm_a64_vttbr(&p->pool, &p->spaces[s].s2, 0);
                enum rvm_err err = rvm_a64_walk(&p->pool, vttbr, ipa, RVM_A64_READ, &w);
                coherent = (err == RVM_OK || w.kind == RVM_A64_FAULT_PERMISSION) &&
                           w.oa >> RVM_PAGE_SHIFT == e->oa_page && (e->perms & ~w.perms) == 0;
            }
            if (!coherent) {
                r->part = owner;
                r->vmid = e->vmid;
                r->ipa = ipa;
                r->hpa = e->oa_page << RVM_PAGE_SHIFT;
                return RVM_ERR_STALE;
            }
        }
        return RVM_OK;
    }
    for (uint32_t c = 0; c < p->cfg.cpus; c++) {
        const struct rvm_sim_cpu *cpu = &p->cpu[c];
        if (!cpu->active) {
            continue;
        }
        uint32_t s = slot_find(p, cpu->part);
        if (s == SLOT_NONE || !pmp_equal(&cpu->pmp, &p->spaces[s].image)) {
            r->part = cpu->part;
            r->cpu = c;
            r->vmid = cpu->vmid;
            return RVM_ERR_STALE;
        }
    }
    return RVM_OK;
}

enum rvm_err rvm_sim_platform_check_isolation(const struct rvm_sim_platform *p,
                                              struct rvm_sim_isolation_report *report)
{
    struct rvm_sim_isolation_report scratch;
    struct rvm_sim_isolation_report *r = report != NULL ? report : &scratch;
    memset(r, 0, sizeof(*r));
    uint64_t ram_pages = p->cfg.ram_size >> RVM_PAGE_SHIFT;
    memset(p->page_flags, 0, (size_t)ram_pages);
    for (uint32_t s = 0; s < p->cfg.max_partitions; s++) {
        const struct rvm_sim_pspace *sp = &p->spaces[s];
        if (sp->part == RVM_PARTITION_INVALID) {
            continue;
        }
        enum rvm_err err = RVM_OK;
        if (is_a64(p)) {
            struct rvm_a64_leaf leaf;
            uint64_t from = 0;
            while (err == RVM_OK && rvm_a64_space_next_leaf(&p->pool, &sp->s2, from, &leaf)) {
                err = note_range(p, s, leaf.ipa, leaf.oa, leaf.size, leaf.perms, r);
                from = leaf.ipa + leaf.size;
            }
        } else {
            for (uint32_t i = 0; i < sp->nregions && err == RVM_OK; i++) {
                const struct rvm_rv_region *g = &sp->regions[i];
                err = note_range(p, s, g->base, g->base, g->size, g->perms, r);
            }
        }
        if (err != RVM_OK) {
            return err;
        }
    }
    memset(r, 0, sizeof(*r));
    return check_stale(p, r);
}

/* ---- life cycle -------------------------------------------------------------------------------
 */

void rvm_sim_platform_free(struct rvm_sim_platform *p)
{
    if (p->ram != NULL) {
        munmap(p->ram, (size_t)p->cfg.ram_size);
    }
    free(p->pool_info);
    free(p->tlb_entries);
    free(p->spaces);
    free(p->region_store);
    free(p->scratch);
    free(p->page_owner);
    free(p->page_flags);
    memset(p, 0, sizeof(*p));
}

void rvm_sim_platform_reset(struct rvm_sim_platform *p)
{
    for (uint32_t s = 0; s < p->cfg.max_partitions; s++) {
        struct rvm_sim_pspace *sp = &p->spaces[s];
        if (sp->part != RVM_PARTITION_INVALID && is_a64(p)) {
            rvm_a64_space_destroy(&p->pool, &sp->s2);
        }
        sp->part = RVM_PARTITION_INVALID;
        sp->s2.root = RVM_A64_NONE;
        sp->nregions = 0;
    }
    if (is_a64(p)) {
        /* Every table page is free and zeroed again; the free list goes back to the order a
         * fresh pool has, so a run allocates the same pages whatever ran before it. */
        for (uint32_t i = 0; i < p->pool.npages; i++) {
            if (p->pool.info[i].level != 0) { /* not reachable from any space: clear it too */
                memset(p->pool.pages[i], 0, RVM_A64_TABLE_BYTES);
                memset(&p->pool.info[i], 0, sizeof(p->pool.info[i]));
            }
            p->pool.info[i].link = i + 1u < p->pool.npages ? i + 1u : RVM_A64_NONE;
        }
        p->pool.free_head = 0;
        p->pool.nfree = p->pool.npages;
        (void)rvm_a64_tlb_init(&p->tlb, p->tlb_entries, p->cfg.tlb_entries);
    }
    for (uint32_t c = 0; c < RVM_SIM_PLATFORM_MAX_CPUS; c++) {
        memset(&p->cpu[c], 0, sizeof(p->cpu[c]));
        p->cpu[c].part = RVM_PARTITION_INVALID;
        if (!is_a64(p)) {
            rvm_rv_pmp_init(&p->cpu[c].pmp, p->cfg.pmp_entries);
        }
    }
    for (uint32_t v = 0; v < RVM_A64_VMID_COUNT; v++) {
        p->vmid_owner[v] = RVM_PARTITION_INVALID;
    }
    p->tlb_hits = p->tlb_misses = p->guest_faults = p->phys_violations = 0;
    p->sim.now_ns = 0;
}

enum rvm_err rvm_sim_platform_init(struct rvm_sim_platform *p, const struct rvm_crypto *crypto,
                                   const struct rvm_sim_platform_config *cfg)
{
    struct rvm_sim_platform_config defaults;
    if (cfg == NULL) {
        rvm_sim_platform_default_config(&defaults, RVM_SIM_ARCH_AARCH64);
        cfg = &defaults;
    }
    memset(p, 0, sizeof(*p));
    if (!config_ok(cfg)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_sim_hal_init(&p->sim, crypto);
    p->ops = *p->sim.hal.ops;
    p->ops.s2_map = plat_s2_map;
    p->ops.s2_unmap = plat_s2_unmap;
    p->ops.s2_activate = plat_s2_activate;
    p->ops.tlb_invalidate_vmid = plat_tlb_invalidate_vmid;
    p->ops.guest_read = plat_guest_read;
    p->ops.guest_write = plat_guest_write;
    p->ops.phys_read = plat_phys_read;
    p->ops.phys_write = plat_phys_write;
    p->ops.phys_zero = plat_phys_zero;
    p->sim.hal.ops = &p->ops;
    p->cfg = *cfg;

    /* Anonymous mappings are zero-filled lazily: a large simulated RAM costs only what is used. */
    void *ram = mmap(NULL, (size_t)cfg->ram_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED) {
        rvm_sim_platform_free(p);
        return RVM_ERR_NO_MEMORY;
    }
    p->ram = ram;
    uint64_t ram_pages = cfg->ram_size >> RVM_PAGE_SHIFT;
    p->spaces = calloc(cfg->max_partitions, sizeof(*p->spaces));
    p->page_owner = calloc((size_t)ram_pages, sizeof(*p->page_owner));
    p->page_flags = calloc((size_t)ram_pages, 1);
    bool ok = p->spaces != NULL && p->page_owner != NULL && p->page_flags != NULL;
    if (ok && is_a64(p)) {
        p->pool_info = calloc(cfg->table_pages, sizeof(*p->pool_info));
        p->tlb_entries = calloc(cfg->tlb_entries, sizeof(*p->tlb_entries));
        ok = p->pool_info != NULL && p->tlb_entries != NULL &&
             rvm_a64_pool_init(&p->pool, (uint64_t(*)[RVM_A64_ENTRIES])p->ram, p->pool_info,
                               cfg->table_pages, cfg->ram_base) == RVM_OK &&
             rvm_a64_tlb_init(&p->tlb, p->tlb_entries, cfg->tlb_entries) == RVM_OK;
    } else if (ok) {
        p->region_store =
            calloc((size_t)cfg->max_partitions * cfg->max_regions, sizeof(*p->region_store));
        p->scratch = calloc((size_t)cfg->max_regions + 1u, sizeof(*p->scratch));
        ok = p->region_store != NULL && p->scratch != NULL;
    }
    if (!ok) {
        rvm_sim_platform_free(p);
        return RVM_ERR_NO_MEMORY;
    }
    for (uint32_t s = 0; s < cfg->max_partitions; s++) {
        p->spaces[s].part = RVM_PARTITION_INVALID;
        p->spaces[s].s2.root = RVM_A64_NONE;
        if (p->region_store != NULL) {
            p->spaces[s].regions = &p->region_store[(size_t)s * cfg->max_regions];
        }
    }
    for (uint32_t c = 0; c < RVM_SIM_PLATFORM_MAX_CPUS; c++) {
        p->cpu[c].part = RVM_PARTITION_INVALID;
        if (!is_a64(p)) {
            rvm_rv_pmp_init(&p->cpu[c].pmp, cfg->pmp_entries);
        }
    }
    for (uint32_t v = 0; v < RVM_A64_VMID_COUNT; v++) {
        p->vmid_owner[v] = RVM_PARTITION_INVALID;
    }
    return RVM_OK;
}
