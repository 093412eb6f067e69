/* SPDX-License-Identifier: MIT */
/*
 * Oracles after every step (check()): the ones a call made due (isolation through the platform's
 * oracle when stage-2, the TLB or a VMID's owner changed; stage-2 agreement with the kernel's
 * mappings; the run queues' heap property; the coherence cut against a brute-force minimum over
 * every bipartition after an epoch computed one), rvm_kernel_check every CHECK_EVERY steps (the
 * subsystem that broke named) and the buddy allocator against a naive page model of the region
 * table every CROSS_EVERY steps.
 */
#include "target_kernel_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool verdict(struct rvm_sim_verdict *v, const char *inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool verdict(struct rvm_sim_verdict *v, const char *inv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    v->invariant = inv;
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    return false;
}

/*
 * RISC-V: is some hart that runs a guest (the kernel has a partition loaded on it) programmed with
 * a PMP that is not its partition's current layout? The platform's own oracle also flags harts
 * the kernel has parked: the M-mode platform reprograms a hart's PMP only when it next activates
 * a partition there, and a parked hart runs no guest code until then.
 */
static bool riscv_stale(const struct kt *t, struct rvm_sim_isolation_report *r)
{
    const struct rvm_sim_platform *p = &t->plat;
    for (uint32_t c = 0; c < t->ncpus && c < RVM_SIM_PLATFORM_MAX_CPUS; c++) {
        const struct rvm_sim_cpu *cpu = &p->cpu[c];
        if (!cpu->active || t->k.cpus[c].loaded == 0) {
            continue;
        }
        const struct rvm_rv_pmp *want = NULL;
        for (uint32_t sl = 0; sl < p->cfg.max_partitions; sl++) {
            if (p->spaces[sl].part == cpu->part) {
                want = &p->spaces[sl].image;
            }
        }
        if (t->k.cpus[c].loaded != cpu->part || want == NULL || want->count != cpu->pmp.count ||
            memcmp(want->cfg, cpu->pmp.cfg, sizeof(want->cfg)) != 0 ||
            memcmp(want->addr, cpu->pmp.addr, sizeof(want->addr)) != 0) {
            memset(r, 0, sizeof(*r));
            r->part = cpu->part;
            r->cpu = c;
            r->vmid = cpu->vmid;
            return true;
        }
    }
    return false;
}

/* The platform's isolation oracle; with `maps`, agreement with the kernel's mappings of the
 * partitions in `touched` (and with `full`, the platform's structure and every partition).
 * Without `full` the platform re-reads only the address spaces whose mappings changed since its
 * last check (the other spaces' pages come from what that check kept), and the cached
 * translations every time; the sampled full check reads every space again. */
static bool check_isolation(struct kt *t, struct rvm_sim_verdict *v, bool maps, bool full)
{
    struct rvm_sim_isolation_report r;
    enum rvm_err err = full ? rvm_sim_platform_check_isolation(&t->plat, &r)
                            : rvm_sim_platform_check_isolation_changed(&t->plat, &r);
    if (err == RVM_ERR_STALE && t->riscv && !riscv_stale(t, &r)) {
        err = RVM_OK; /* only harts the kernel has parked keep an old PMP: they run nothing */
    }
    switch (err) {
    case RVM_OK:
        break;
    case RVM_ERR_WX:
        return verdict(v, "isolation.wx",
                       "partition %u maps ipa 0x%" PRIx64 " writable and "
                       "executable",
                       r.part, r.ipa);
    case RVM_ERR_SHARE:
        return verdict(v, "isolation.share",
                       "host page 0x%" PRIx64 " mapped by partitions %u and %u, writable by one",
                       r.hpa, r.part, r.other);
    case RVM_ERR_STALE:
        if (t->riscv) {
            return verdict(v, "isolation.stale-tlb",
                           "hart %u runs partition %u (VMID %u) with a PMP that is not its current "
                           "layout: a missing invalidation",
                           r.cpu, r.part, r.vmid);
        }
        return verdict(v, "isolation.stale-tlb",
                       "a cached translation (VMID %u, ipa 0x%" PRIx64 " -> 0x%" PRIx64
                       ") grants partition %u more than its tables: a missing TLB invalidation",
                       r.vmid, r.ipa, r.hpa, r.part);
    default:
        return verdict(v, "isolation.hypervisor",
                       "partition %u maps 0x%" PRIx64 " outside guest RAM (%s)", r.part, r.hpa,
                       rvm_err_name(err));
    }
    if (!maps) {
        return true;
    }
    err = full ? rvm_sim_platform_check(&t->plat) : RVM_OK;
    if (err != RVM_OK) {
        return verdict(v, "platform.check", "%s", rvm_err_name(err));
    }
    uint64_t touched = full ? ~(uint64_t)0 : t->touched;
    t->touched = 0;
    /*
     * Agreement with the kernel's mappings. Every step: each mapped region of a partition whose
     * tables changed translates, first and last page, to the host pages the kernel gave it. With
     * `full` (sampled): also nothing else is mapped, byte for byte (the leaf walk is the costly
     * part).
     */
    const struct rvm_kernel *k = &t->k;
    for (rvm_partition_id part = 1; part <= t->cfg.max_partitions; part++) {
        if (part - 1u < 64u && (touched & ((uint64_t)1 << (part - 1u))) == 0) {
            continue;
        }
        uint64_t want = 0;
        for (uint32_t i = 0; i < k->regions.capacity; i++) {
            const struct rvm_region *g = &k->regions.slots[i];
            if (!g->used || !g->mapped || g->owner != part) {
                continue;
            }
            uint64_t size = (uint64_t)g->npages * PAGE, a = 0, b = 0;
            want += size;
            if (rvm_sim_platform_translate(&t->plat, part, g->ipa, RVM_SIM_READ, &a) != RVM_OK ||
                rvm_sim_platform_translate(&t->plat, part, g->ipa + size - PAGE, RVM_SIM_READ,
                                           &b) != RVM_OK ||
                a != g->hpa || b != g->hpa + size - PAGE) {
                return verdict(v, "isolation.mapping",
                               "partition %u's region %u (ipa 0x%" PRIx64 " -> 0x%" PRIx64
                               ") is not in its stage-2 / PMP as the kernel says",
                               part, i, g->ipa, g->hpa);
            }
        }
        uint64_t have = full ? rvm_sim_platform_mapped_bytes(&t->plat, part) : want;
        if (have != want) {
            return verdict(v, "isolation.mapping",
                           "partition %u has 0x%" PRIx64 " bytes mapped in its stage-2 / PMP but "
                           "the kernel's regions account for 0x%" PRIx64,
                           part, have, want);
        }
    }
    return true;
}

/* The buddy allocator against a naive model: one owner per page from the region table. */
static bool check_naive_allocator(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_kernel *k = &t->k;
    uint8_t *mark = t->mark;
    uint32_t pages = k->ram.npages < t->guest_pages ? k->ram.npages : t->guest_pages;
    memset(mark, 0, pages);
    uint64_t held = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) {
        const struct rvm_region *r = &k->regions.slots[i];
        if (!r->used || r->hpa == 0 || r->type == RVM_REGION_SHARED ||
            r->type == RVM_REGION_DEVICE) {
            continue;
        }
        uint32_t order = 0;
        if (rvm_buddy_allocation_order(&k->ram, rvm_hpa(r->hpa), &order) != RVM_OK ||
            order != r->order) {
            return verdict(v, "buddy.naive-model",
                           "region %u holds 0x%" PRIx64 " (order %u) but the allocator does not "
                           "have that block allocated at that order",
                           i, r->hpa, r->order);
        }
        uint64_t first = (r->hpa - k->ram.base) / PAGE;
        uint64_t n = (uint64_t)1 << r->order;
        for (uint64_t p = first; p < first + n && p < pages; p++) {
            if (mark[p] != 0) {
                return verdict(v, "buddy.naive-model", "host page 0x%" PRIx64 " backs two regions",
                               k->ram.base + p * PAGE);
            }
            mark[p] = 1;
        }
        held += n;
    }
    if (held != rvm_buddy_allocated_pages(&k->ram) ||
        rvm_buddy_free_pages(&k->ram) + held != k->ram.npages) {
        return verdict(v, "buddy.naive-model",
                       "regions hold %" PRIu64 " pages; the allocator says %u allocated, %u free "
                       "of %u",
                       held, rvm_buddy_allocated_pages(&k->ram), rvm_buddy_free_pages(&k->ram),
                       k->ram.npages);
    }
    return true;
}

/* The coherence engine's last cut against the minimum over every bipartition (Gray code). */
static bool check_mincut(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_coherence *coh = &t->k.coh;
    if (t->cfg.coherence_nodes == 0 || !coh->have_cut || coh->cut_epoch != coh->epoch ||
        t->cfg.apply_decisions) {
        return true; /* no fresh cut, or a carried-out decision changed the graph since */
    }
    const struct rvm_graph *g = &coh->graph;
    uint32_t node[MINCUT_MAX];
    uint32_t n = 0;
    for (uint32_t s = 0; s < g->capacity; s++) {
        if (rvm_graph_slot_live(g, s)) {
            if (n == MINCUT_MAX) {
                return true;
            }
            node[n++] = s;
        }
    }
    if (n < 2 || n != coh->cut.nodes) {
        return true; /* the graph changed since the cut (a partition came or went) */
    }
    /* Gray code over subsets of nodes 1..n-1 on side B (node 0 fixed on side A). */
    uint64_t cut = 0, best = UINT64_MAX;
    uint32_t in_b = 0;
    for (uint32_t i = 1; i < (1u << (n - 1u)); i++) {
        uint32_t bit = (uint32_t)__builtin_ctz(i) + 1u; /* node flipping sides */
        bool to_b = (in_b & (1u << bit)) == 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j == bit) {
                continue;
            }
            uint64_t w = rvm_graph_w(g, node[bit], node[j]);
            bool j_b = (in_b & (1u << j)) != 0;
            /* the edge crosses after the flip iff its ends end up on different sides */
            if (to_b == j_b) {
                cut -= w;
            } else {
                cut += w;
            }
        }
        in_b ^= 1u << bit;
        if (cut < best) {
            best = cut;
        }
    }
    if (best != coh->cut.value) {
        return verdict(v, "coherence.mincut",
                       "the engine's cut is %" PRIu64 " but the minimum over every bipartition of "
                       "%u nodes is %" PRIu64,
                       coh->cut.value, n, best);
    }
    /* the side assignment it reports achieves that value */
    uint64_t across = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = i + 1u; j < n; j++) {
            if (coh->cut_side[node[i]] != coh->cut_side[node[j]]) {
                across += rvm_graph_w(g, node[i], node[j]);
            }
        }
    }
    if (across != coh->cut.value) {
        return verdict(v, "coherence.mincut",
                       "the engine's cut sides carry %" PRIu64 ", not its value %" PRIu64, across,
                       coh->cut.value);
    }
    return true;
}

static bool full_check(struct kt *t, struct rvm_sim_verdict *v)
{
    const struct rvm_kernel *k = &t->k;
    t->checks++;
    if (rvm_kernel_check(k) == RVM_OK) {
        return true;
    }
    /* name the part that broke */
    static const struct {
        const char *name;
        int which;
    } parts[] = {{"cap.check", 0},  {"proof.check", 1}, {"buddy.check", 2},    {"region.check", 3},
                 {"sched.heap", 4}, {"vmid.check", 5},  {"coherence.check", 6}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        enum rvm_err e = RVM_OK;
        switch (parts[i].which) {
        case 0:
            e = rvm_cap_check(&k->caps);
            break;
        case 1:
            e = rvm_proof_check(&k->nonces);
            break;
        case 2:
            e = rvm_buddy_check(&k->ram);
            break;
        case 3:
            e = rvm_region_check(&k->regions);
            break;
        case 4:
            e = rvm_sched_check(&k->sched);
            break;
        case 5:
            e = rvm_vmid_check(&k->vmids);
            break;
        default:
            e = t->cfg.coherence_nodes != 0 ? rvm_coherence_check(&k->coh) : RVM_OK;
            break;
        }
        if (e != RVM_OK) {
            return verdict(v, parts[i].name, "%s", rvm_err_name(e));
        }
    }
    return verdict(v, "kernel.check", "rvm_kernel_check failed (cross-subsystem invariants%s)",
                   k->internal_error ? ": a commit step failed" : "");
}

bool kt_check(const void *inst, struct rvm_sim_verdict *v)
{
    struct kt *t = (struct kt *)(uintptr_t)inst; /* bookkeeping only: the kernel is not touched */
    uint32_t dirty = t->dirty;
    t->dirty = 0;
    if (!t->oracles) {
        return true;
    }
    if ((dirty & (D_ISO | D_MAP)) != 0 && !check_isolation(t, v, (dirty & D_MAP) != 0, false)) {
        return false;
    }
    if ((dirty & D_SCHED) != 0 && rvm_sched_check(&t->k.sched) != RVM_OK) {
        return verdict(v, "sched.heap",
                       "the run queues are not binary max-heaps keyed by priority");
    }
    if ((dirty & D_FULL) != 0 || ++t->since_full >= CHECK_EVERY || t->check_every_step) {
        t->since_full = 0;
        if (!full_check(t, v) || !check_isolation(t, v, true, true)) {
            return false;
        }
        const bool whole = (dirty & D_TREE) != 0 || ++t->since_digest_check >= DIGEST_CHECK_EVERY ||
                           t->check_every_step;
        if (whole) {
            t->since_digest_check = 0;
        }
        if (!kt_check_digest(t, v, whole)) {
            return false;
        }
    }
    if ((dirty & D_CUT) != 0 && !check_mincut(t, v)) {
        return false;
    }
    if (++t->since_cross >= CROSS_EVERY || t->check_every_step) {
        t->since_cross = 0;
        if (!check_naive_allocator(t, v)) {
            return false;
        }
    }
    return true;
}

void kt_check_every_step(void *inst, bool on)
{
    struct kt *t = inst;
    t->check_every_step = on;
}
