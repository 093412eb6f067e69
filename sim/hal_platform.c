/* SPDX-License-Identifier: MIT */
/* Sim-only glue: host memory as physical RAM, and the HAL hooks over the platform libraries. */
#include "hal_platform.h"

#include "layout.h"

#include "rvm/bytes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE      RVM_PAGE_SIZE
#define PAGE_MASK (RVM_PAGE_SIZE - 1u)
#define PF_WRITE  0x1u
#define PF_MAPPED 0x2u

/* Address-space slots the incremental isolation check keeps page masks for (bits of a word). */
#define ISO_MASK_SLOTS 64u
/* Stage-2 leaves read per walk from a space's root. */
#define LEAF_BATCH     32u

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

void rvm_sim_platform_kernel_config(struct rvm_sim_platform_config *cfg, enum rvm_sim_arch arch,
                                    uint32_t max_partitions, uint64_t ram_pages)
{
    rvm_sim_platform_default_config(cfg, arch);
    struct rvm_layout layout;
    if (!rvm_layout_kernel_target(&layout, cfg->ram_base, max_partitions, ram_pages)) {
        cfg->ram_size = 0; /* refused by rvm_sim_platform_init */
        return;
    }
    cfg->cpus = RVM_SIM_PLATFORM_MAX_CPUS;
    cfg->max_partitions = layout.spaces;
    cfg->hyp_size = layout.hyp_bytes;
    cfg->ram_size = layout.ram_bytes;
    cfg->table_pages = layout.table_pages;
    cfg->tlb_entries = 64;
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

static uint64_t guest_base(const struct rvm_sim_platform *p)
{
    return p->cfg.ram_base + p->cfg.hyp_size;
}

static uint64_t guest_pages(const struct rvm_sim_platform *p)
{
    return (p->cfg.ram_size - p->cfg.hyp_size) >> RVM_PAGE_SHIFT;
}

/* [hpa, hpa + size) lies in guest RAM (never the hypervisor's bytes). */
static bool guest_ram_range(const struct rvm_sim_platform *p, uint64_t hpa, uint64_t size)
{
    return rvm_aspace_guest_range(&p->as, hpa, size);
}

/* Guest RAM for the address spaces' guest copies: already translated and range checked. */
static void aspace_ram_read(void *ctx, uint64_t hpa, void *dst, size_t len)
{
    const struct rvm_sim_platform *p = ctx;
    memcpy(dst, p->ram + (hpa - p->cfg.ram_base), len);
}

static void aspace_ram_write(void *ctx, uint64_t hpa, const void *src, size_t len)
{
    const struct rvm_sim_platform *p = ctx;
    memcpy(p->ram + (hpa - p->cfg.ram_base), src, len);
}

/* ---- HAL hooks --------------------------------------------------------------------------------
 */

/* The slot of `part` (if it has one) has mappings the isolation masks may not describe. */
static void note_space_changed(struct rvm_sim_platform *p, rvm_partition_id part)
{
    const struct rvm_aspace_space *sp = rvm_aspace_find(&p->as, part);
    if (sp == NULL) {
        return;
    }
    const size_t s = (size_t)(sp - p->spaces);
    if (s < ISO_MASK_SLOTS) {
        p->spaces_changed |= (uint64_t)1 << s;
    } else {
        p->masks_valid = false;
    }
}

static enum rvm_err plat_s2_map(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                                uint64_t size, uint32_t perms)
{
    struct rvm_sim_platform *p = plat(ctx);
    enum rvm_err err = rvm_aspace_map(&p->as, part, ipa.v, hpa.v, size, perms);
    note_space_changed(p, part); /* after: the slot may have been created by this mapping */
    if (err == RVM_OK && !is_a64(p)) {
        /* New grants reach harts running the partition at once, as the walk-on-miss of
         * stage 2 would; only removals wait for an invalidation. */
        const struct rvm_aspace_space *sp = rvm_aspace_find(&p->as, part);
        for (uint32_t c = 0; c < p->cfg.cpus; c++) {
            if (p->cpu[c].active && p->cpu[c].part == part) {
                p->cpu[c].pmp = sp->image;
            }
        }
    }
    return err;
}

/* Live PMP registers of harts running the partition keep the old layout until
 * tlb_invalidate_vmid or s2_activate: the M-mode analogue of a stale TLB entry. */
static enum rvm_err plat_s2_unmap(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size)
{
    struct rvm_sim_platform *p = plat(ctx);
    note_space_changed(p, part); /* before: an emptied slot is released */
    return rvm_aspace_unmap(&p->as, part, ipa.v, size);
}

static enum rvm_err plat_s2_activate(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid)
{
    struct rvm_sim_platform *p = plat(ctx);
    const struct rvm_aspace_space *sp = NULL;
    enum rvm_err err = rvm_aspace_activate(&p->as, cpu, part, vmid, &sp);
    if (err != RVM_OK) {
        return err;
    }
    struct rvm_sim_cpu *c = &p->cpu[cpu];
    c->active = true;
    c->part = part;
    c->vmid = vmid;
    if (is_a64(p)) {
        c->vttbr = rvm_a64_vttbr(&p->as.pool, &sp->s2, (uint8_t)vmid);
    } else {
        c->pmp = sp->image;
    }
    p->vmid_owner[vmid] = part;
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
        const struct rvm_aspace_space *sp =
            cpu->active && cpu->vmid == vmid ? rvm_aspace_find(&p->as, cpu->part) : NULL;
        if (sp != NULL) {
            cpu->pmp = sp->image;
        }
    }
}

enum rvm_err rvm_sim_platform_translate(const struct rvm_sim_platform *p, rvm_partition_id part,
                                        uint64_t ipa, enum rvm_sim_access kind, uint64_t *hpa)
{
    return rvm_aspace_translate(&p->as, part, ipa, 1, (enum rvm_aspace_access)kind, hpa);
}

static enum rvm_err plat_guest_read(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                                    size_t len)
{
    return rvm_aspace_guest_read(&plat(ctx)->as, part, src.v, dst, len);
}

static enum rvm_err plat_guest_write(void *ctx, rvm_partition_id part, rvm_ipa_t dst,
                                     const void *src, size_t len)
{
    return rvm_aspace_guest_write(&plat(ctx)->as, part, dst.v, src, len);
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
    if (cpu >= p->cfg.cpus || (kind != RVM_SIM_READ && kind != RVM_SIM_WRITE &&
                               kind != RVM_SIM_EXEC && kind != RVM_SIM_PRIV_PROBE)) {
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
    if (kind == RVM_SIM_PRIV_PROBE) {
        if (is_a64(p)) {
            return RVM_ERR_UNSUPPORTED;
        }
        /* S-mode reading mstatus: illegal instruction, mtval = the instruction (the firmware's
         * guest program runs `csrr t2, mstatus`) */
        p->guest_faults++;
        fault->syndrome = RVM_RV_MCAUSE_ILLEGAL;
        fault->addr = RVM_SIM_RV_CSRR_MSTATUS;
        return RVM_ERR_GUEST_FAULT;
    }
    uint64_t hpa;
    if (is_a64(p)) {
        struct rvm_a64_walk w;
        bool hit = false;
        enum rvm_a64_access a = (enum rvm_a64_access)kind;
        enum rvm_err err = rvm_a64_tlb_translate(&p->tlb, &p->as.pool, c->vttbr, ipa, a, &w, &hit);
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
    return rvm_aspace_mapped_bytes(&p->as, part);
}

enum rvm_err rvm_sim_platform_check(const struct rvm_sim_platform *p)
{
    enum rvm_err err = rvm_aspace_check(&p->as);
    if (err != RVM_OK) {
        return err;
    }
    for (uint32_t c = 0; c < p->cfg.cpus; c++) {
        if (p->cpu[c].active && rvm_aspace_find(&p->as, p->cpu[c].part) == NULL) {
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
    const bool w = (perms & RVM_PERM_W) != 0;
    const uint64_t bit = s < ISO_MASK_SLOTS ? (uint64_t)1 << s : 0;
    uint64_t *spaces = p->page_spaces + ((hpa - guest_base(p)) >> RVM_PAGE_SHIFT);
    uint64_t *writers = p->page_writers + ((hpa - guest_base(p)) >> RVM_PAGE_SHIFT);
    for (uint64_t i = 0; i < pages; i++) {
        uint32_t owner = p->page_owner[first + i];
        uint8_t flags = p->page_flags[first + i];
        if ((flags & PF_MAPPED) != 0 && owner != s && (w || (flags & PF_WRITE) != 0)) {
            r->other = p->spaces[owner].part;
            r->ipa = ipa + (i << RVM_PAGE_SHIFT);
            r->hpa = hpa + (i << RVM_PAGE_SHIFT);
            return RVM_ERR_SHARE;
        }
        p->page_owner[first + i] = s;
        p->page_flags[first + i] = (uint8_t)(flags | PF_MAPPED | (w ? PF_WRITE : 0));
        spaces[i] |= bit;
        writers[i] |= w ? bit : 0;
    }
    return RVM_OK;
}

/* Slot s's mapped ranges from `*from` on (AArch64: leaves from that IPA; RISC-V: regions from
 * that index) into out[0..LEAF_BATCH): how many; `*from` moves past them. */
static uint32_t space_ranges(const struct rvm_sim_platform *p, uint32_t s, uint64_t *from,
                             struct rvm_a64_leaf out[LEAF_BATCH])
{
    const struct rvm_aspace_space *sp = &p->spaces[s];
    uint32_t n = 0;
    if (is_a64(p)) {
        n = rvm_a64_space_leaves(&p->as.pool, &sp->s2, *from, out, LEAF_BATCH);
        if (n != 0) {
            *from = out[n - 1u].ipa + out[n - 1u].size;
        }
        return n;
    }
    for (; *from < sp->nregions && n < LEAF_BATCH; (*from)++) { /* bound: LEAF_BATCH */
        const struct rvm_rv_region *g = &sp->regions[*from];
        out[n].ipa = out[n].oa = g->base;
        out[n].size = g->size;
        out[n].perms = g->perms;
        n++;
    }
    return n;
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
            const struct rvm_aspace_space *sp = rvm_aspace_find(&p->as, owner);
            uint64_t ipa = e->ipa_page << RVM_PAGE_SHIFT;
            struct rvm_a64_walk w;
            bool coherent = false;
            if (sp != NULL) {
                uint64_t vttbr = rvm_a64_vttbr(&p->as.pool, &sp->s2, 0);
                enum rvm_err err = rvm_a64_walk(&p->as.pool, vttbr, ipa, RVM_A64_READ, &w);
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
        const struct rvm_aspace_space *sp = rvm_aspace_find(&p->as, cpu->part);
        if (sp == NULL || !rvm_rv_pmp_equal(&cpu->pmp, &sp->image)) {
            r->part = cpu->part;
            r->cpu = c;
            r->vmid = cpu->vmid;
            return RVM_ERR_STALE;
        }
    }
    return RVM_OK;
}

/* One mapped range of slot s into the page masks; false where the full check would report a
 * violation (W and X, memory outside guest RAM, a page another slot maps where either writes). */
static bool mask_range(struct rvm_sim_platform *p, uint32_t s, uint64_t hpa, uint64_t size,
                       uint32_t perms)
{
    const bool w = (perms & RVM_PERM_W) != 0;
    if ((w && (perms & RVM_PERM_X) != 0) || !guest_ram_range(p, hpa, size)) {
        return false;
    }
    const uint64_t first = (hpa - guest_base(p)) >> RVM_PAGE_SHIFT;
    const uint64_t pages = size >> RVM_PAGE_SHIFT;
    const uint64_t bit = (uint64_t)1 << s;
    for (uint64_t i = first; i < first + pages; i++) { /* bound: the range's pages */
        const uint64_t others = p->page_spaces[i] & ~bit;
        if (others != 0 && (w || (p->page_writers[i] & ~bit) != 0)) {
            return false;
        }
        p->page_spaces[i] |= bit;
        p->page_writers[i] |= w ? bit : 0;
    }
    return true;
}

/* What a walk over a slot's ranges does with each: note it in the page owners (the full walk) or
 * add it to the page masks (the incremental check). */
enum range_use { RANGE_NOTE, RANGE_MASK };

/* Slot s's mapped ranges in order, each noted (RVM_OK, or the violation, reported in *r) or added
 * to the masks (RVM_OK, or RVM_ERR_INTERNAL where the full check must decide): the first result
 * other than RVM_OK, else RVM_OK. */
static enum rvm_err each_range(struct rvm_sim_platform *p, uint32_t s, enum range_use use,
                               struct rvm_sim_isolation_report *r)
{
    struct rvm_a64_leaf leaf[LEAF_BATCH];
    uint64_t from = 0;
    uint32_t n = LEAF_BATCH;
    /* bound: one iteration per LEAF_BATCH ranges of the slot */
    while (n == LEAF_BATCH && (n = space_ranges(p, s, &from, leaf)) != 0) {
        for (uint32_t i = 0; i < n; i++) { /* bound: LEAF_BATCH */
            const struct rvm_a64_leaf *l = &leaf[i];
            enum rvm_err err = RVM_OK;
            if (use == RANGE_NOTE) {
                err = note_range(p, s, l->ipa, l->oa, l->size, l->perms, r);
            } else if (!mask_range(p, s, l->oa, l->size, l->perms)) {
                err = RVM_ERR_INTERNAL;
            }
            if (err != RVM_OK) {
                return err;
            }
        }
    }
    return RVM_OK;
}

enum rvm_err rvm_sim_platform_check_isolation(struct rvm_sim_platform *p,
                                              struct rvm_sim_isolation_report *report)
{
    struct rvm_sim_isolation_report scratch;
    struct rvm_sim_isolation_report *r = report != NULL ? report : &scratch;
    memset(r, 0, sizeof(*r));
    uint64_t ram_pages = p->cfg.ram_size >> RVM_PAGE_SHIFT;
    memset(p->page_flags, 0, (size_t)ram_pages);
    memset(p->page_spaces, 0, (size_t)guest_pages(p) * sizeof(*p->page_spaces));
    memset(p->page_writers, 0, (size_t)guest_pages(p) * sizeof(*p->page_writers));
    p->masks_valid = false;
    p->spaces_changed = 0;
    for (uint32_t s = 0; s < p->cfg.max_partitions; s++) {
        if (p->spaces[s].part == RVM_PARTITION_INVALID) {
            continue;
        }
        enum rvm_err err = each_range(p, s, RANGE_NOTE, r);
        if (err != RVM_OK) {
            return err;
        }
    }
    p->masks_valid = p->cfg.max_partitions <= ISO_MASK_SLOTS;
    memset(r, 0, sizeof(*r));
    return check_stale(p, r);
}

enum rvm_err rvm_sim_platform_check_isolation_changed(struct rvm_sim_platform *p,
                                                      struct rvm_sim_isolation_report *report)
{
    if (!p->masks_valid) {
        return rvm_sim_platform_check_isolation(p, report);
    }
    const uint64_t changed = p->spaces_changed;
    if (changed != 0) {
        /* The masks held every slot's mappings and no violation: only pages a changed slot maps
         * now can be in one, so those slots are taken out and read again. */
        const uint64_t pages = guest_pages(p);
        for (uint64_t i = 0; i < pages; i++) { /* bound: guest RAM pages */
            p->page_spaces[i] &= ~changed;
            p->page_writers[i] &= ~changed;
        }
        for (uint32_t s = 0; s < p->cfg.max_partitions; s++) { /* bound: max_partitions <= 64 */
            if ((changed & ((uint64_t)1 << s)) == 0 || p->spaces[s].part == RVM_PARTITION_INVALID) {
                continue;
            }
            if (each_range(p, s, RANGE_MASK, NULL) != RVM_OK) {
                return rvm_sim_platform_check_isolation(p, report); /* its report */
            }
        }
        p->spaces_changed = 0;
    }
    struct rvm_sim_isolation_report scratch;
    struct rvm_sim_isolation_report *r = report != NULL ? report : &scratch;
    memset(r, 0, sizeof(*r));
    return check_stale(p, r);
}

/* ---- life cycle -------------------------------------------------------------------------------
 */

static void sim_cpus_clear(struct rvm_sim_platform *p)
{
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
}

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
    free(p->page_spaces);
    free(p->page_writers);
    memset(p, 0, sizeof(*p));
}

void rvm_sim_platform_reset(struct rvm_sim_platform *p)
{
    rvm_aspace_reset(&p->as);
    if (is_a64(p)) {
        (void)rvm_a64_tlb_init(&p->tlb, p->tlb_entries, p->cfg.tlb_entries);
    }
    sim_cpus_clear(p);
    p->masks_valid = false;
    p->spaces_changed = 0;
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
    p->page_spaces = calloc((size_t)guest_pages(p), sizeof(*p->page_spaces));
    p->page_writers = calloc((size_t)guest_pages(p), sizeof(*p->page_writers));
    bool ok = p->spaces != NULL && p->page_owner != NULL && p->page_flags != NULL &&
              p->page_spaces != NULL && p->page_writers != NULL;
    if (ok && is_a64(p)) {
        p->pool_info = calloc(cfg->table_pages, sizeof(*p->pool_info));
        p->tlb_entries = calloc(cfg->tlb_entries, sizeof(*p->tlb_entries));
        ok = p->pool_info != NULL && p->tlb_entries != NULL &&
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
    struct rvm_aspace_config acfg = {
        .arch = is_a64(p) ? RVM_ASPACE_AARCH64 : RVM_ASPACE_RISCV,
        .cpus = cfg->cpus,
        .max_partitions = cfg->max_partitions,
        .pmp_entries = cfg->pmp_entries,
        .max_regions = cfg->max_regions,
    };
    rvm_sim_platform_guest_ram(p, &acfg.guest_base, &acfg.guest_size);
    struct rvm_aspace_storage storage = {
        .spaces = p->spaces,
        .running = p->running,
        .table_pages = (uint64_t(*)[RVM_A64_ENTRIES])p->ram,
        .table_info = p->pool_info,
        .table_npages = cfg->table_pages,
        .table_base_pa = cfg->ram_base,
        .regions = p->region_store,
        .scratch = p->scratch,
    };
    struct rvm_aspace_memory mem = {p, aspace_ram_read, aspace_ram_write};
    if (rvm_aspace_init(&p->as, &acfg, &storage, &mem) != RVM_OK) {
        rvm_sim_platform_free(p);
        return RVM_ERR_NO_MEMORY;
    }
    sim_cpus_clear(p);
    return RVM_OK;
}
