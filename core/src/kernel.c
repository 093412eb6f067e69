/* SPDX-License-Identifier: MIT */
/*
 * The kernel object: configuration, the storage layout, initialisation, the operation frame,
 * helpers the other kernel files share, and measured boot. The base the other kernel_*.c files
 * build on: it calls none of them. Design: rvm/kernel.h and docs/architecture.md.
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define PAGE         RVM_PAGE_SIZE
#define ALIGN8(x)    (((x) + 7u) & ~(size_t)7u)
#define CTX_BYTES    (132u * 8u) /* a serialized register file (kernel_partition.c) */
#define GEN_RETIRED  UINT32_MAX
#define NO_CAP_INDEX RVM_CAP_NONE

/* ------------------------------------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------------------------------- */

void rvm_kernel_default_config(struct rvm_kernel_config *cfg)
{
    rvm_memset(cfg, 0, sizeof(*cfg));
    cfg->arch = RVM_VCPU_AARCH64;
    cfg->ncpus = 4;
    cfg->nvmids = 256;
    /* The guest RAM of the default simulated AArch64 platform (hal_platform.h): 16 MiB at
     * 0x40000000 of which the first 2 MiB are the hypervisor's. */
    cfg->ram_base = 0x40200000u;
    cfg->ram_pages = 3584;
    cfg->max_order = 10;
    cfg->max_partitions = 64;
    cfg->max_caps = 1024;
    cfg->max_regions = 256;
    cfg->max_channels = 128;
    cfg->queue_depth = 16;
    cfg->msg_bytes = 64;
    cfg->max_devices = 16;
    cfg->witness_ring = 1024;
    cfg->checkpoint_interval = 0;
    cfg->coherence_nodes = 64;
    cfg->scratch_pages = 16;
    cfg->image_bytes = 256u * 1024u;
    cfg->max_images = 512;
    cfg->epoch_ns = 1000000u;
    cfg->slice_ns = 100000u;
    cfg->max_lease_ns = 10000000000ull;
    cfg->max_window_ns = 1000000000ull;
    cfg->restart_limit = 3;
    cfg->recovery_epochs = 2;
    cfg->max_caps_per_partition = 256;
    cfg->max_delegation_depth = RVM_CAP_MAX_DEPTH;
    cfg->apply_decisions = 1;
}

void rvm_kernel_seed_config(struct rvm_kernel_config *cfg)
{
    rvm_kernel_default_config(cfg);
    /* ADR-138: 64 KiB .. 1 MiB of RAM, one core, no coherence engine, 64-entry capability
     * table, 8 queues, 4 channels per partition at most. */
    cfg->ncpus = 1;
    cfg->nvmids = 17;
    cfg->ram_pages = 128;
    cfg->max_order = 7;
    cfg->max_partitions = 16;
    cfg->max_caps = 64;
    cfg->max_regions = 32;
    cfg->max_channels = 8;
    cfg->queue_depth = 4;
    cfg->msg_bytes = 32;
    cfg->max_devices = 4;
    cfg->witness_ring = 64;
    cfg->coherence_nodes = 0;
    cfg->scratch_pages = 0;
    cfg->image_bytes = 0;
    cfg->max_images = 0;
    cfg->max_caps_per_partition = 32;
    cfg->apply_decisions = 0;
    /* The incremental digest's trees and shadow copies do not fit the 64 KiB footprint; with
     * tables this small the full stream costs little. */
    cfg->state_digest = 1;
}

static bool config_valid(const struct rvm_kernel_config *c)
{
    return (c->arch == RVM_VCPU_AARCH64 || c->arch == RVM_VCPU_RISCV64) && c->ncpus >= 1 &&
           c->ncpus <= RVM_KERNEL_MAX_CPUS && c->nvmids >= c->ncpus + 2u &&
           c->nvmids <= RVM_VMID_HW_MAX && (c->ram_base & (PAGE - 1u)) == 0 && c->ram_pages >= 1 &&
           c->ram_pages <= (1u << 24) && c->max_order <= 20 && c->max_partitions >= 1 &&
           c->max_partitions <= RVM_KERNEL_MAX_PARTITIONS && c->max_caps >= 1 &&
           c->max_caps <= (1u << 16) && c->max_regions >= 1 && c->max_regions <= (1u << 16) &&
           c->max_channels <= 4096 && c->queue_depth >= 1 && c->queue_depth <= 1024 &&
           c->msg_bytes >= 8 && c->msg_bytes <= RVM_KERNEL_MSG_MAX && (c->msg_bytes & 7u) == 0 &&
           c->max_devices <= 4096 && c->witness_ring >= 32 && c->witness_ring <= (1u << 20) &&
           rvm_is_pow2_u64(c->witness_ring) &&
           (c->coherence_nodes == 0 ||
            (c->coherence_nodes >= c->max_partitions && c->coherence_nodes >= 2 &&
             c->coherence_nodes <= RVM_GRAPH_MAX_CAPACITY)) &&
           c->scratch_pages <= (1u << 16) && c->image_bytes <= (1u << 30) &&
           c->max_images <= (1u << 16) && c->epoch_ns >= 1 && c->slice_ns >= 1 &&
           c->max_lease_ns >= 1 && c->restart_limit >= 1 &&
           c->max_delegation_depth <= RVM_CAP_MAX_DEPTH && c->state_digest <= 2u &&
           (c->witness_key != NULL || c->witness_key_len == 0) &&
           c->witness_key_len <= RVM_WITNESS_HMAC_KEY_MAX &&
           (c->cap_key != NULL || c->cap_key_len == 0) && c->cap_key_len <= RVM_CAP_MAC_KEY_MAX;
}

/* ------------------------------------------------------------------------------------------------
 * The storage layout: every table at an 8-byte aligned offset of the one caller area.
 * --------------------------------------------------------------------------------------------- */

struct layout {
    size_t ring, caps, nonces, tags, links, rslots, sparts, qkeys, qids, binds, coh, parts, kregs,
        chans, msgs, mdata, devs, cpus, images, store, scratch, work, bounce, order, undo, digest,
        total;
};

static size_t take(size_t *at, size_t bytes)
{
    size_t o = *at;
    *at = ALIGN8(*at + bytes);
    return o;
}

static size_t scratch_bytes_of(const struct rvm_kernel_config *c)
{
    return c->scratch_pages == 0 ? 0 : (size_t)c->scratch_pages * PAGE + CTX_BYTES;
}

static void layout(const struct rvm_kernel_config *c, struct layout *l)
{
    size_t at = 0;
    const size_t np = c->max_partitions;
    const size_t nmsg = (size_t)c->max_channels * c->queue_depth;
    l->ring = take(&at, (size_t)c->witness_ring * RVM_WITNESS_RECORD_BYTES);
    l->caps = take(&at, (size_t)c->max_caps * sizeof(struct rvm_cap_slot));
    l->nonces = take(&at, (np + 1u) * sizeof(struct rvm_proof_nonce_domain));
    l->tags = take(&at, c->ram_pages);
    l->links = take(&at, (size_t)c->ram_pages * sizeof(struct rvm_buddy_link));
    l->rslots = take(&at, (size_t)c->max_regions * sizeof(struct rvm_region));
    l->sparts = take(&at, np * sizeof(struct rvm_sched_part));
    l->qkeys = take(&at, (size_t)c->ncpus * np * sizeof(uint64_t));
    l->qids = take(&at, (size_t)c->ncpus * np * sizeof(rvm_partition_id));
    l->binds = take(&at, np * sizeof(struct rvm_vmid_binding));
    l->coh =
        take(&at, c->coherence_nodes == 0 ? 0 : RVM_COHERENCE_STORAGE_BYTES(c->coherence_nodes));
    l->parts = take(&at, np * sizeof(struct rvm_kpart));
    l->kregs = take(&at, (size_t)c->max_regions * sizeof(struct rvm_kreg));
    l->chans = take(&at, (size_t)c->max_channels * sizeof(struct rvm_kchan));
    l->msgs = take(&at, nmsg * sizeof(struct rvm_kmsg));
    l->mdata = take(&at, nmsg * c->msg_bytes);
    l->devs = take(&at, (size_t)c->max_devices * sizeof(struct rvm_kdev));
    l->cpus = take(&at, (size_t)c->ncpus * sizeof(struct rvm_vcpu_cpu));
    l->images = take(&at, (size_t)c->max_images * sizeof(struct rvm_kimage));
    l->store = take(&at, c->image_bytes);
    l->scratch = take(&at, scratch_bytes_of(c));
    l->work = take(&at, c->scratch_pages == 0 ? 0 : sizeof(struct rvm_compress_work));
    l->bounce = take(&at, c->msg_bytes);
    l->order = take(&at, (size_t)c->max_regions * sizeof(uint32_t));
    l->undo = take(&at, 2u * (size_t)c->max_regions * sizeof(struct rvm_kernel_s2op));
    l->digest = take(&at, rvm_kernel__digest_bytes(c));
    l->total = at;
}

size_t rvm_kernel_storage_bytes(const struct rvm_kernel_config *cfg)
{
    if (cfg == NULL || !config_valid(cfg)) {
        return 0;
    }
    struct layout l;
    layout(cfg, &l);
    return l.total;
}

/* ------------------------------------------------------------------------------------------------
 * P2's view of the kernel's objects
 * --------------------------------------------------------------------------------------------- */

static bool kernel_lookup(void *ctx, uint8_t type, struct rvm_handle object,
                          struct rvm_object_info *out)
{
    const struct rvm_kernel *k = ctx;
    uint32_t slot;
    out->owner = RVM_PARTITION_HYPERVISOR;
    out->base = 0;
    out->size = 0;
    out->lease_expires_ns = RVM_LEASE_NONE;
    switch (type) {
    case RVM_CAP_TYPE_PARTITION:
        if (rvm_kernel__part_find(k, object, &slot) != RVM_OK) {
            return false;
        }
        out->owner = k->parts[slot].creator;
        return true;
    case RVM_CAP_TYPE_REGION: {
        const struct rvm_region *r = rvm_region_get(&k->regions, object);
        if (r == NULL) {
            return false;
        }
        out->owner = r->owner;
        out->size = (uint64_t)r->npages << RVM_PAGE_SHIFT;
        return true;
    }
    case RVM_CAP_TYPE_COMM_EDGE:
        if (rvm_kernel__chan_find(k, object, &slot) != RVM_OK) {
            return false;
        }
        out->owner = k->chans[slot].a;
        return true;
    case RVM_CAP_TYPE_DEVICE:
        if (rvm_kernel__dev_find(k, object, &slot) != RVM_OK) {
            return false;
        }
        if (k->devs[slot].leased) {
            out->lease_expires_ns = k->devs[slot].expires_ns;
        }
        return true;
    default:
        return false;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Initialisation
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_init(struct rvm_kernel *k, const struct rvm_hal *hal,
                             const struct rvm_kernel_config *cfg, void *storage, size_t bytes)
{
    if (k == NULL || hal == NULL || cfg == NULL || storage == NULL || !config_valid(cfg) ||
        ((uintptr_t)storage & 7u) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct layout l;
    layout(cfg, &l);
    if (bytes < l.total) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    uint8_t *base = storage;
    rvm_memset(k, 0, sizeof(*k));
    rvm_memset(base, 0, l.total);
    k->hal = hal;
    k->cfg = *cfg;
    k->cfg.witness_key = NULL;
    k->cfg.cap_key = NULL;
    const uint32_t np = cfg->max_partitions;

    struct rvm_witness_config wc = {(uint8_t(*)[RVM_WITNESS_RECORD_BYTES])(void *)(base + l.ring),
                                    cfg->witness_ring, cfg->checkpoint_interval, cfg->witness_key,
                                    cfg->witness_key_len};
    struct rvm_cap_config cc = {(struct rvm_cap_slot *)(void *)(base + l.caps), cfg->max_caps, 1,
                                cfg->cap_key, cfg->cap_key_len};
    struct rvm_buddy_config bc = {rvm_hpa(cfg->ram_base), cfg->ram_pages, cfg->max_order,
                                  base + l.tags, (struct rvm_buddy_link *)(void *)(base + l.links)};
    struct rvm_region_config rc = {(struct rvm_region *)(void *)(base + l.rslots), cfg->max_regions,
                                   &k->ram, NULL};
    struct rvm_sched_config sc = {cfg->ncpus,
                                  cfg->ncpus == 64 ? UINT64_MAX : ((uint64_t)1 << cfg->ncpus) - 1u,
                                  np,
                                  (struct rvm_sched_part *)(void *)(base + l.sparts),
                                  np,
                                  (uint64_t *)(void *)(base + l.qkeys),
                                  (rvm_partition_id *)(void *)(base + l.qids),
                                  RVM_SCHED_FLOW};
    struct rvm_vmid_config vc = {cfg->nvmids, cfg->ncpus, np,
                                 (struct rvm_vmid_binding *)(void *)(base + l.binds)};
    if (rvm_witness_init(&k->log, hal, &wc) != RVM_OK ||
        rvm_cap_init(&k->caps, &hal->crypto, &cc) != RVM_OK ||
        rvm_proof_nonces_init(&k->nonces,
                              (struct rvm_proof_nonce_domain *)(void *)(base + l.nonces),
                              np + 1u) != RVM_OK ||
        rvm_proof_ctx_init(&k->proof, &k->caps, &k->nonces, kernel_lookup, k,
                           cfg->max_delegation_depth, cfg->max_window_ns) != RVM_OK ||
        rvm_buddy_init(&k->ram, &bc) != RVM_OK ||
        rvm_region_init(&k->regions, hal, &k->log, &rc) != RVM_OK ||
        rvm_sched_init(&k->sched, &k->log, &sc) != RVM_OK ||
        rvm_vmid_init(&k->vmids, &k->log, &vc) != RVM_OK) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    if (cfg->coherence_nodes != 0) {
        struct rvm_coherence_config hc;
        rvm_coherence_default_config(&hc, cfg->coherence_nodes);
        hc.storage = base + l.coh;
        hc.storage_bytes = RVM_COHERENCE_STORAGE_BYTES(cfg->coherence_nodes);
        if (rvm_coherence_init(&k->coh, &hc) != RVM_OK) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
    }
    k->parts = (struct rvm_kpart *)(void *)(base + l.parts);
    k->kregs = (struct rvm_kreg *)(void *)(base + l.kregs);
    k->chans = (struct rvm_kchan *)(void *)(base + l.chans);
    k->msgs = (struct rvm_kmsg *)(void *)(base + l.msgs);
    k->msg_data = base + l.mdata;
    k->devs = (struct rvm_kdev *)(void *)(base + l.devs);
    k->cpus = (struct rvm_vcpu_cpu *)(void *)(base + l.cpus);
    k->images = (struct rvm_kimage *)(void *)(base + l.images);
    k->store = base + l.store;
    k->scratch = cfg->scratch_pages != 0 ? base + l.scratch : NULL;
    k->scratch_bytes = scratch_bytes_of(cfg);
    k->work = cfg->scratch_pages != 0 ? (struct rvm_compress_work *)(void *)(base + l.work) : NULL;
    k->bounce = base + l.bounce;
    k->order = (uint32_t *)(void *)(base + l.order);
    k->undo = (struct rvm_kernel_s2op *)(void *)(base + l.undo);
    for (uint32_t i = 0; i < np; i++) { /* bound: max_partitions */
        k->parts[i].generation = 1;
        k->parts[i].ckpt = RVM_KERNEL_NONE;
    }
    for (uint32_t i = 0; i < cfg->max_regions; i++) { /* bound: max_regions */
        k->kregs[i].image = RVM_KERNEL_NONE;
        k->kregs[i].ckpt = RVM_KERNEL_NONE;
    }
    for (uint32_t i = 0; i < cfg->max_channels; i++) { /* bound: max_channels */
        k->chans[i].generation = 1;
    }
    for (uint32_t i = 0; i < cfg->max_devices; i++) { /* bound: max_devices */
        k->devs[i].generation = 1;
        k->devs[i].lease_cap = rvm_cap_no_handle();
    }
    for (uint32_t c = 0; c < cfg->ncpus; c++) { /* bound: ncpus */
        if (rvm_vcpu_cpu_init(&k->cpus[c], cfg->arch) != RVM_OK) {
            return RVM_ERR_INVALID_ARGUMENT;
        }
    }
    rvm_sha256_init(&k->images_ctx, &hal->crypto);
    rvm_kernel__digest_init(k, base + l.digest);
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * The operation frame
 * --------------------------------------------------------------------------------------------- */

static void op_init(struct rvm_kop *op, struct rvm_kernel *k, rvm_partition_id actor, uint8_t kind,
                    uint64_t target)
{
    rvm_memset(op, 0, sizeof(*op));
    op->k = k;
    op->actor = actor;
    op->kind = kind;
    op->target = target;
}

enum rvm_err rvm_kernel__refuse(struct rvm_kop *op, uint8_t stage, enum rvm_err err)
{
    struct rvm_witness_rejection r = {op->actor, op->target,   op->kind, stage,
                                      op->tier,  op->cap_hash, err};
    (void)rvm_witness_reject(&op->k->log,
                             &r); /* the refusal stands even if it cannot be recorded */
    return err;
}

enum rvm_err rvm_kernel__refuse_event(struct rvm_kernel *k, uint8_t kind, uint64_t target,
                                      enum rvm_err err)
{
    struct rvm_kop op;
    op_init(&op, k, RVM_PARTITION_HYPERVISOR, kind, target);
    return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, err);
}

enum rvm_err rvm_kernel__begin(struct rvm_kop *op, struct rvm_kernel *k, rvm_partition_id actor,
                               uint8_t kind, uint64_t target)
{
    op_init(op, k, actor, kind, target);
    if (!rvm_kernel_booted(k)) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, RVM_ERR_NOT_BOOTED);
    }
    if (actor != RVM_PARTITION_HYPERVISOR && !rvm_kernel__part_live_id(k, actor)) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel__gate(struct rvm_kop *op, const struct rvm_kernel_auth *auth, uint8_t tier,
                              uint8_t cap_type, uint8_t rights, struct rvm_handle object)
{
    struct rvm_kernel *k = op->k;
    if (op->actor == RVM_PARTITION_HYPERVISOR) {
        return RVM_OK; /* the hypervisor is trusted: nothing to present */
    }
    if (auth == NULL) {
        return rvm_kernel__refuse(op, RVM_STAGE_DECODE, RVM_ERR_INVALID_ARGUMENT);
    }
    struct rvm_gate_request req;
    rvm_memset(&req, 0, sizeof(req));
    req.actor = op->actor;
    req.action = op->kind;
    req.tier = tier;
    req.cap_type = cap_type;
    req.rights = rights;
    req.cap = auth->cap;
    req.object = object;
    uint64_t now = 0;
    if (tier >= RVM_PROOF_P2) {
        now = rvm_kernel__now(k);
        req.p2.nonce_domain = op->actor;
        req.p2.nonce = auth->nonce;
        req.p2.not_before_ns = auth->not_before_ns;
        req.p2.not_after_ns = auth->not_after_ns;
        if (auth->not_before_ns == 0 && auth->not_after_ns == 0) {
            req.p2.not_before_ns = now;
            req.p2.not_after_ns = now;
        }
    }
    if (tier == RVM_PROOF_P3 && k->caps.mac_key_len != 0) {
        req.options = RVM_GATE_SIGNED;
    }
    struct rvm_witness_entry e;
    struct rvm_witness_rejection rej;
    struct rvm_gate_plan plan;
    enum rvm_err err = rvm_gate_prepare(&k->proof, &req, now, &e, &plan, &rej);
    if (err != RVM_OK) {
        rej.target = op->target;
        if (rej.passed_tier < op->tier) {
            rej.passed_tier = op->tier;
        }
        (void)rvm_witness_reject(&k->log, &rej);
        return err;
    }
    if (!op->gated || plan.consume_nonce) {
        op->gate = plan;
    }
    if (!op->gated) {
        op->cap_hash = e.cap_hash;
    }
    op->gated = true;
    if (tier > op->tier) {
        op->tier = tier;
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel__reserve(struct rvm_kop *op, uint32_t n)
{
    enum rvm_err err = rvm_witness_reserve(&op->k->log, n);
    if (err != RVM_OK) {
        return rvm_kernel__refuse(op, RVM_STAGE_PRECONDITION, err);
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel__append(struct rvm_kop *op, uint8_t flags, uint64_t payload, uint64_t aux)
{
    struct rvm_witness_entry e = {op->kind,   op->tier,     flags,   op->actor,
                                  op->target, op->cap_hash, payload, aux};
    enum rvm_err err = rvm_witness_append(&op->k->log, &e, NULL);
    if (err != RVM_OK) {
        return err;
    }
    if (op->gated) {
        rvm_gate_commit(&op->k->proof, &op->gate);
    }
    return RVM_OK;
}

void rvm_kernel__must(struct rvm_kernel *k, enum rvm_err err)
{
    if (err != RVM_OK) {
        k->internal_error = 1;
    }
}

enum rvm_err rvm_kernel__event(struct rvm_kernel *k, uint8_t kind, uint8_t flags, uint64_t target,
                               uint64_t payload, uint64_t aux)
{
    struct rvm_witness_entry e = {kind, RVM_PROOF_NONE, flags, RVM_PARTITION_HYPERVISOR, target,
                                  0,    payload,        aux};
    return rvm_witness_append(&k->log, &e, NULL);
}

/* ------------------------------------------------------------------------------------------------
 * Objects
 * --------------------------------------------------------------------------------------------- */

uint32_t rvm_kernel__next_generation(uint32_t generation)
{
    return generation >= GEN_RETIRED - 1u ? GEN_RETIRED : generation + 1u;
}

enum rvm_err rvm_kernel__part_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot)
{
    if (h.index >= k->cfg.max_partitions) {
        return RVM_ERR_NOT_FOUND;
    }
    const struct rvm_kpart *p = &k->parts[h.index];
    if (p->state == RVM_KPART_FREE || p->generation != h.generation) {
        return RVM_ERR_STALE;
    }
    *slot = h.index;
    return RVM_OK;
}

enum rvm_err rvm_kernel__chan_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot)
{
    if (h.index >= k->cfg.max_channels) {
        return RVM_ERR_NOT_FOUND;
    }
    const struct rvm_kchan *c = &k->chans[h.index];
    if (!c->used || c->generation != h.generation) {
        return RVM_ERR_STALE;
    }
    *slot = h.index;
    return RVM_OK;
}

enum rvm_err rvm_kernel__dev_find(const struct rvm_kernel *k, struct rvm_handle h, uint32_t *slot)
{
    if (h.index >= k->cfg.max_devices) {
        return RVM_ERR_NOT_FOUND;
    }
    const struct rvm_kdev *d = &k->devs[h.index];
    if (!d->used || d->generation != h.generation) {
        return RVM_ERR_STALE;
    }
    *slot = h.index;
    return RVM_OK;
}

bool rvm_kernel__part_live_id(const struct rvm_kernel *k, rvm_partition_id id)
{
    return id >= 1 && id <= k->cfg.max_partitions && k->parts[id - 1u].state != RVM_KPART_FREE;
}

struct rvm_handle rvm_kernel__part_handle(const struct rvm_kernel *k, uint32_t slot)
{
    struct rvm_handle h = {slot, k->parts[slot].generation};
    return h;
}

struct rvm_handle rvm_kernel__region_handle(const struct rvm_kernel *k, uint32_t slot)
{
    struct rvm_handle h = {slot, k->regions.slots[slot].generation};
    return h;
}

enum rvm_err rvm_kernel_partition_lookup(const struct rvm_kernel *k, struct rvm_handle p,
                                         uint32_t *slot)
{
    return rvm_kernel__part_find(k, p, slot);
}

struct rvm_handle rvm_kernel_partition_handle(const struct rvm_kernel *k, rvm_partition_id id)
{
    if (!rvm_kernel__part_live_id(k, id)) {
        return rvm_cap_no_handle();
    }
    return rvm_kernel__part_handle(k, id - 1u);
}

uint8_t rvm_kernel_partition_state(const struct rvm_kernel *k, struct rvm_handle p)
{
    uint32_t slot;
    return rvm_kernel__part_find(k, p, &slot) == RVM_OK ? k->parts[slot].state : RVM_KPART_FREE;
}

/* ------------------------------------------------------------------------------------------------
 * Capabilities
 * --------------------------------------------------------------------------------------------- */

bool rvm_kernel__caps_free(const struct rvm_kernel *k, uint32_t n)
{
    uint32_t i = k->caps.free_head;
    for (uint32_t have = 0; have < n; have++) { /* bound: n (and the free list) */
        if (i == NO_CAP_INDEX || i >= k->caps.capacity) {
            return false;
        }
        i = k->caps.slots[i].next_free;
    }
    return true;
}

struct rvm_handle rvm_kernel__mint(struct rvm_kernel *k, uint8_t type, uint8_t rights,
                                   rvm_partition_id owner, struct rvm_handle object)
{
    struct rvm_cap_mint_args a = {type, rights, owner, object, 0};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    enum rvm_err err =
        rvm_cap_prepare_mint(&k->caps, RVM_PARTITION_HYPERVISOR, &a, &e, &plan, &rej);
    rvm_kernel__must(k, err);
    if (err != RVM_OK) {
        return rvm_cap_no_handle();
    }
    rvm_cap_commit_mint(&k->caps, &plan);
    return rvm_cap_plan_handle(&plan);
}

struct rvm_handle rvm_kernel__derive(struct rvm_kernel *k, struct rvm_handle source, uint8_t rights,
                                     rvm_partition_id owner)
{
    const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, source);
    if (s == NULL) {
        rvm_kernel__must(k, RVM_ERR_INTERNAL);
        return rvm_cap_no_handle();
    }
    struct rvm_cap_derive_args a = {source, (uint8_t)(rights & s->rights), 0, owner};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    enum rvm_err err = s->owner == owner
                           ? rvm_cap_prepare_delegate(&k->caps, s->owner, &a, &e, &plan, &rej)
                           : rvm_cap_prepare_grant(&k->caps, s->owner, &a, &e, &plan, &rej);
    rvm_kernel__must(k, err);
    if (err != RVM_OK) {
        return rvm_cap_no_handle();
    }
    rvm_cap_commit_grant(&k->caps, &plan);
    return rvm_cap_plan_handle(&plan);
}

static uint32_t revoke_slot(struct rvm_kernel *k, uint32_t i)
{
    const struct rvm_cap_slot *s = &k->caps.slots[i];
    struct rvm_cap_revoke_args a = {rvm_cap_no_handle(), rvm_cap_handle(i, s->generation)};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    enum rvm_err err =
        rvm_cap_prepare_revoke(&k->caps, RVM_PARTITION_HYPERVISOR, &a, &e, &plan, &rej);
    rvm_kernel__must(k, err);
    if (err != RVM_OK) {
        return 0;
    }
    rvm_cap_commit_revoke(&k->caps, &plan);
    return plan.count;
}

static bool cap_live(const struct rvm_cap_slot *s)
{
    return (s->generation & 1u) != 0;
}

uint32_t rvm_kernel__revoke_cap(struct rvm_kernel *k, struct rvm_handle cap)
{
    return rvm_cap_get(&k->caps, cap) != NULL ? revoke_slot(k, cap.index) : 0u;
}

uint32_t rvm_kernel__revoke_object(struct rvm_kernel *k, uint8_t type, struct rvm_handle object)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if (cap_live(s) && s->type == type && rvm_cap_handle_eq(s->object, object)) {
            n += revoke_slot(k, i);
        }
    }
    return n;
}

uint32_t rvm_kernel__revoke_held(struct rvm_kernel *k, rvm_partition_id id)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if (cap_live(s) && s->owner == id) {
            n += revoke_slot(k, i);
        }
    }
    return n;
}

struct rvm_handle rvm_kernel__root_cap(const struct rvm_kernel *k, uint8_t type,
                                       struct rvm_handle object)
{
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if (cap_live(s) && s->depth == 0 && s->type == type &&
            rvm_cap_handle_eq(s->object, object)) {
            return rvm_cap_handle(i, s->generation);
        }
    }
    return rvm_cap_no_handle();
}

void rvm_kernel__leases_sync(struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        struct rvm_kdev *d = &k->devs[i];
        if (!d->used || !d->leased) {
            continue;
        }
        const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, d->lease_cap);
        if (s == NULL || s->owner != d->holder) {
            d->leased = 0;
            d->holder = 0;
            d->lease_cap = rvm_cap_no_handle();
            d->expires_ns = 0;
        }
    }
}

/* ------------------------------------------------------------------------------------------------
 * Scheduling and CPUs
 * --------------------------------------------------------------------------------------------- */

uint16_t rvm_kernel__pressure(const struct rvm_kernel *k, rvm_partition_id id)
{
    return k->cfg.coherence_nodes != 0 ? rvm_coherence_pressure(&k->coh, id) : 0;
}

static uint64_t cpu_mask(const struct rvm_kernel *k)
{
    return k->cfg.ncpus == 64 ? UINT64_MAX : ((uint64_t)1 << k->cfg.ncpus) - 1u;
}

void rvm_kernel__stop(struct rvm_kernel *k, uint32_t slot)
{
    const rvm_partition_id id = slot + 1u;
    for (uint32_t c = 0; c < k->cfg.ncpus; c++) { /* bound: ncpus */
        if (k->cpus[c].loaded == id) {
            rvm_kernel__must(k, rvm_vcpu_park(&k->cpus[c], &k->parts[slot].ctx));
        }
    }
    struct rvm_witness_entry e;
    struct rvm_sched_remove_plan plan;
    enum rvm_err err = rvm_sched_prepare_remove(&k->sched, RVM_PARTITION_HYPERVISOR, id, &e, &plan);
    rvm_kernel__must(k, err);
    if (err == RVM_OK) {
        rvm_sched_commit_remove(&k->sched, &plan);
    }
}

void rvm_kernel__run(struct rvm_kernel *k, uint32_t slot)
{
    struct rvm_kpart *p = &k->parts[slot];
    const rvm_partition_id id = slot + 1u;
    uint64_t affinity = p->affinity & cpu_mask(k);
    if ((affinity & k->sched.online_mask) == 0) {
        affinity = cpu_mask(k); /* every allowed CPU is offline: run anywhere rather than never */
    }
    struct rvm_witness_entry e;
    struct rvm_sched_placement_plan plan;
    enum rvm_err err = rvm_sched_prepare_placement(
        &k->sched, RVM_PARTITION_HYPERVISOR, id, affinity,
        (p->flags & RVM_KPART_F_CRITICAL) != 0 ? RVM_SCHED_F_CRITICAL : 0u, &e, &plan);
    rvm_kernel__must(k, err);
    if (err == RVM_OK) {
        rvm_sched_commit_placement(&k->sched, &plan);
    }
    rvm_kernel__must(k, rvm_sched_enqueue(&k->sched, id, p->urgency, rvm_kernel__pressure(k, id)));
}

void rvm_kernel__launch_ctx(struct rvm_kernel *k, uint32_t slot, struct rvm_handle self_cap)
{
    struct rvm_kpart *p = &k->parts[slot];
    uint64_t args[2u + RVM_KERNEL_ARGS];
    args[0] = rvm_handle_pack(rvm_kernel__part_handle(k, slot));
    args[1] = rvm_handle_pack(self_cap);
    for (uint32_t i = 0; i < RVM_KERNEL_ARGS; i++) { /* bound: RVM_KERNEL_ARGS */
        args[2u + i] = p->args[i];
    }
    rvm_kernel__must(
        k, rvm_vcpu_init(&p->ctx, k->cfg.arch, slot + 1u, p->entry_pc, args, 2u + RVM_KERNEL_ARGS));
}

void rvm_kernel__tlb_flush(struct rvm_kernel *k, rvm_partition_id id)
{
    uint16_t vmid = rvm_vmid_of(&k->vmids, id);
    if (vmid != 0) {
        k->hal->ops->tlb_invalidate_vmid(k->hal->ctx, vmid);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Memory
 * --------------------------------------------------------------------------------------------- */

void rvm_kernel__scrub(struct rvm_kernel *k, uint64_t hpa, uint32_t order)
{
    k->hal->ops->phys_zero(k->hal->ctx, rvm_hpa(hpa), ((uint64_t)1 << order) << RVM_PAGE_SHIFT);
}

bool rvm_kernel__region_is_ram(const struct rvm_region *r)
{
    return r->type == RVM_REGION_DATA || r->type == RVM_REGION_CODE ||
           r->type == RVM_REGION_IMMUTABLE;
}

uint32_t rvm_kernel__region_pages(const struct rvm_region *r)
{
    return (uint32_t)1 << r->order;
}

uint32_t rvm_kernel__image_slot(const struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        if (!k->images[i].used) {
            return i;
        }
    }
    return RVM_KERNEL_NONE;
}

bool rvm_kernel__images_free(const struct rvm_kernel *k, uint32_t n)
{
    uint32_t have = 0;
    for (uint32_t i = 0; i < k->cfg.max_images && have < n; i++) { /* bound: max_images */
        have += k->images[i].used ? 0u : 1u;
    }
    return have >= n;
}

void rvm_kernel__image_free(struct rvm_kernel *k, uint32_t idx)
{
    if (idx >= k->cfg.max_images || !k->images[idx].used) {
        return;
    }
    const uint32_t off = k->images[idx].off;
    const uint32_t len = k->images[idx].len;
    /* Move the tail down over the hole (none when this image is the last). */
    const uint32_t tail = off + len < k->store_used ? k->store_used - off - len : 0u;
    rvm_memmove(k->store + off, k->store + off + len, tail);
    rvm_memset(k->store + k->store_used - len, 0, len);
    k->store_used -= len;
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        if (k->images[i].used && k->images[i].off > off) {
            k->images[i].off -= len;
        }
    }
    rvm_memset(&k->images[idx], 0, sizeof(k->images[idx]));
#if !defined(RVM_PLANTED_BUG_DIGEST_IMAGE_UNMARKED)
    rvm_kernel__digest_touch_image(k, idx);
#endif
}

enum rvm_err rvm_kernel__image_compress(struct rvm_kernel *k, uint32_t offset, const uint8_t *raw,
                                        size_t raw_len, uint32_t *len)
{
    if (k->work == NULL) {
        return RVM_ERR_UNSUPPORTED;
    }
    uint64_t start = (uint64_t)k->store_used + offset;
    if (start > k->cfg.image_bytes) {
        return RVM_ERR_NO_SPACE;
    }
    size_t out_len = 0;
    const size_t cap = (size_t)(k->cfg.image_bytes - start);
    enum rvm_err err = rvm_compress_sized(k->work, raw, raw_len, k->store + start, cap, &out_len);
    if (err != RVM_OK) {
        return err;
    }
    *len = (uint32_t)out_len;
    return RVM_OK;
}

void rvm_kernel__image_adopt(struct rvm_kernel *k, uint32_t offset, uint32_t len, uint32_t prev)
{
    if (prev >= k->cfg.max_images || !k->images[prev].used) {
        return; /* no earlier checkpoint of this region */
    }
    const struct rvm_kimage *im = &k->images[prev];
    (void)rvm_compress_adopt_hash(&k->hal->crypto, k->store + k->store_used + offset, len,
                                  k->store + im->off, im->len, im->hash);
}

uint32_t rvm_kernel__image_unstage(struct rvm_kernel *k, uint32_t *from)
{
    const size_t len = rvm_compress_image_len(k->store + *from, k->cfg.image_bytes - *from);
    rvm_memmove(k->store + k->store_used, k->store + *from, len);
    *from += (uint32_t)len;
    return (uint32_t)len;
}

void rvm_kernel__image_commit(struct rvm_kernel *k, uint32_t idx, uint8_t kind, uint32_t part_slot,
                              uint32_t region, uint32_t raw_len, uint32_t len,
                              const uint8_t hash[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_kimage *im = &k->images[idx];
    rvm_memset(im, 0, sizeof(*im));
    im->off = k->store_used;
    im->len = len;
    im->used = 1;
    im->kind = kind;
    im->part = part_slot + 1u;
    im->region = region;
    im->raw_len = raw_len;
    rvm_memcpy(im->hash, hash, RVM_SHA256_DIGEST_BYTES);
    k->store_used += len;
#if !defined(RVM_PLANTED_BUG_DIGEST_IMAGE_UNMARKED)
    /* The store changed under this descriptor. The planted bug digest_image_unmarked leaves out
     * this mark and the one in rvm_kernel__image_free: an image committed over a corrupted one
     * with the same descriptor then keeps the corrupted image's leaf. */
    rvm_kernel__digest_touch_image(k, idx);
#endif
}

/* Verify image idx, and with `out` (the scratch area) decode it there. */
static enum rvm_err image_verify(const struct rvm_kernel *k, uint32_t idx, uint8_t *out)
{
    const struct rvm_kimage *im = &k->images[idx];
    if (idx >= k->cfg.max_images || !im->used || im->raw_len > k->scratch_bytes) {
        return RVM_ERR_CORRUPT;
    }
    if (out == NULL) {
        return rvm_compress_check(&k->hal->crypto, k->store + im->off, im->len, im->hash,
                                  im->raw_len);
    }
    return rvm_compress_reconstruct(&k->hal->crypto, k->store + im->off, im->len, im->hash,
                                    im->raw_len, out, k->scratch_bytes);
}

enum rvm_err rvm_kernel__image_decode(struct rvm_kernel *k, uint32_t idx)
{
    return image_verify(k, idx, k->scratch);
}

enum rvm_err rvm_kernel__image_check(const struct rvm_kernel *k, uint32_t idx)
{
    return image_verify(k, idx, NULL);
}

/* ---- undoable stage-2 changes ------------------------------------------------------------- */

static enum rvm_err s2_do(struct rvm_kernel *k, const struct rvm_kernel_s2op *o, bool forward)
{
    const bool map = forward ? o->map != 0 : o->map == 0;
    if (map) {
        return k->hal->ops->s2_map(k->hal->ctx, o->part, rvm_ipa(o->ipa), rvm_hpa(o->hpa), o->size,
                                   o->perms);
    }
    return k->hal->ops->s2_unmap(k->hal->ctx, o->part, rvm_ipa(o->ipa), o->size);
}

static enum rvm_err s2_push(struct rvm_kernel *k, struct rvm_kernel_s2 *u,
                            const struct rvm_kernel_s2op *o)
{
    if (u->n >= 2u * k->cfg.max_regions) {
        return RVM_ERR_INTERNAL;
    }
    enum rvm_err err = s2_do(k, o, true);
    if (err != RVM_OK) {
        return err;
    }
    k->undo[u->n++] = *o;
    return RVM_OK;
}

enum rvm_err rvm_kernel__s2_unmap(struct rvm_kernel *k, struct rvm_kernel_s2 *u, uint32_t region)
{
    const struct rvm_region *r = &k->regions.slots[region];
    struct rvm_kernel_s2op o;
    rvm_memset(&o, 0, sizeof(o));
    o.region = region;
    o.map = 0;
    o.perms = r->map_perms;
    o.part = r->owner;
    o.ipa = r->ipa;
    o.hpa = r->hpa;
    o.size = (uint64_t)r->npages << RVM_PAGE_SHIFT;
    return s2_push(k, u, &o);
}

enum rvm_err rvm_kernel__s2_map(struct rvm_kernel *k, struct rvm_kernel_s2 *u, uint32_t region,
                                rvm_partition_id part, uint64_t ipa, uint32_t perms)
{
    const struct rvm_region *r = &k->regions.slots[region];
    struct rvm_kernel_s2op o;
    rvm_memset(&o, 0, sizeof(o));
    o.region = region;
    o.map = 1;
    o.perms = (uint8_t)perms;
    o.part = part;
    o.ipa = ipa;
    o.hpa = r->hpa;
    o.size = (uint64_t)r->npages << RVM_PAGE_SHIFT;
    return s2_push(k, u, &o);
}

void rvm_kernel__s2_undo(struct rvm_kernel *k, struct rvm_kernel_s2 *u)
{
    while (u->n > 0) { /* bound: the changes made, <= 2 * max_regions */
        u->n--;
        /* Putting back what the platform just did cannot be refused by a HAL that keeps its
         * contract; if it is, the platform and the tables disagree: report it. */
        rvm_kernel__must(k, s2_do(k, &k->undo[u->n], false));
    }
}

/* ------------------------------------------------------------------------------------------------
 * Measured boot
 * --------------------------------------------------------------------------------------------- */

static size_t put32(uint8_t *b, size_t at, uint32_t v)
{
    rvm_store_le32(b + at, v);
    return at + 4u;
}

static size_t put64(uint8_t *b, size_t at, uint64_t v)
{
    rvm_store_le64(b + at, v);
    return at + 8u;
}

/* The canonical bytes each configuration phase measures (docs/architecture.md). */
static size_t phase_bytes(const struct rvm_kernel *k, uint32_t phase, uint8_t buf[64])
{
    const struct rvm_kernel_config *c = &k->cfg;
    size_t n = 0;
    switch (phase) {
    case RVM_BOOT_HAL_INIT:
        n = put32(buf, n, c->arch);
        n = put32(buf, n, c->ncpus);
        n = put32(buf, n, c->nvmids);
        n = put64(buf, n, c->ram_base);
        n = put32(buf, n, c->ram_pages);
        break;
    case RVM_BOOT_MEMORY_INIT:
        n = put32(buf, n, c->max_order);
        n = put32(buf, n, c->max_regions);
        n = put32(buf, n, c->scratch_pages);
        n = put32(buf, n, c->image_bytes);
        n = put32(buf, n, c->max_images);
        break;
    case RVM_BOOT_CAPABILITY_INIT:
        n = put32(buf, n, c->max_caps);
        n = put32(buf, n, k->caps.epoch);
        n = put32(buf, n, c->max_delegation_depth);
        n = put64(buf, n, c->max_window_ns);
        n = put32(buf, n, k->caps.mac_key_len);
        break;
    case RVM_BOOT_WITNESS_INIT:
        n = put32(buf, n, c->witness_ring);
        n = put64(buf, n, c->checkpoint_interval);
        n = put32(buf, n, k->log.hmac_key_len);
        break;
    case RVM_BOOT_SCHEDULER_INIT:
        n = put32(buf, n, c->max_partitions);
        n = put64(buf, n, c->epoch_ns);
        n = put64(buf, n, c->slice_ns);
        n = put32(buf, n, c->coherence_nodes);
        n = put32(buf, n, c->restart_limit);
        n = put32(buf, n, c->recovery_epochs);
        n = put32(buf, n, c->apply_decisions);
        break;
    default: /* HANDOFF */
        n = put32(buf, n, k->images_loaded);
        break;
    }
    return n;
}

static void start_loaded(struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state == RVM_KPART_CREATED) {
            k->parts[i].state = RVM_KPART_RUNNING;
            rvm_kernel__run(k, i);
        }
    }
    const uint64_t now = rvm_kernel__now(k);
    for (uint32_t c = 0; c < k->cfg.ncpus; c++) { /* bound: ncpus */
        (void)k->hal->ops->timer_arm(k->hal->ctx, c, now + k->cfg.slice_ns);
    }
    k->next_epoch_ns = now + k->cfg.epoch_ns;
}

enum rvm_err rvm_kernel_boot_phase(struct rvm_kernel *k, uint32_t phase)
{
    struct rvm_kop op;
    op_init(&op, k, RVM_PARTITION_HYPERVISOR, RVM_ACT_BOOT_PHASE, phase);
    if (phase != k->boot_next || phase >= RVM_KERNEL_BOOT_PHASES) {
        return rvm_kernel__refuse(&op, RVM_STAGE_DECODE, RVM_ERR_BOOT_ORDER);
    }
    uint8_t m[RVM_SHA256_DIGEST_BYTES];
    if (phase == RVM_BOOT_ROOT_PARTITION) {
        struct rvm_sha256_ctx copy = k->images_ctx;
        rvm_sha256_final(&copy, m);
    } else {
        uint8_t buf[64];
        size_t n = phase_bytes(k, phase, buf);
        rvm_crypto_sha256(&k->hal->crypto, buf, n, m);
    }
    uint8_t ext[RVM_SHA256_DIGEST_BYTES * 2u + 1u];
    uint8_t acc[RVM_SHA256_DIGEST_BYTES];
    rvm_memcpy(ext, k->attestation, RVM_SHA256_DIGEST_BYTES);
    ext[RVM_SHA256_DIGEST_BYTES] = (uint8_t)phase;
    rvm_memcpy(ext + RVM_SHA256_DIGEST_BYTES + 1u, m, RVM_SHA256_DIGEST_BYTES);
    rvm_crypto_sha256(&k->hal->crypto, ext, sizeof(ext), acc);

    const bool handoff = phase == RVM_BOOT_HANDOFF;
    /* DC-1/DC-6: without the engine the scheduler runs on deadlines alone from the start, and
     * entering that degraded mode is witnessed like every other entry. */
    const bool degraded = phase == RVM_BOOT_SCHEDULER_INIT && k->cfg.coherence_nodes == 0;
    enum rvm_err err = rvm_kernel__reserve(&op, 1u + (handoff ? 1u : 0u) + (degraded ? 1u : 0u));
    if (err != RVM_OK) {
        return err;
    }
    err = rvm_kernel__append(&op, 0, rvm_load_le64(m), rvm_load_le64(acc));
    if (err != RVM_OK) {
        return err;
    }
    rvm_memcpy(k->attestation, acc, sizeof(acc));
    k->boot_next = (uint8_t)(phase + 1u);
    if (degraded) {
        struct rvm_witness_entry e;
        struct rvm_sched_degraded_plan dp;
        err = rvm_sched_prepare_degraded(&k->sched, RVM_PARTITION_HYPERVISOR, true,
                                         RVM_SCHED_DEGRADED_COHERENCE_UNAVAILABLE, &e, &dp);
        if (err == RVM_OK) {
            err = rvm_witness_append(&k->log, &e, NULL); /* reserved above: cannot fail */
        }
        rvm_kernel__must(k, err);
        if (err == RVM_OK) {
            rvm_sched_commit_degraded(&k->sched, &dp);
        }
    }
    if (handoff) {
        start_loaded(k);
        op.kind = RVM_ACT_BOOT_COMPLETE;
        op.target = k->images_loaded;
        rvm_kernel__must(k, rvm_kernel__append(&op, 0, rvm_load_le64(k->attestation),
                                               rvm_load_le64(k->attestation + 8)));
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_boot(struct rvm_kernel *k)
{
    for (uint32_t p = k->boot_next; p < RVM_KERNEL_BOOT_PHASES; p++) { /* bound: 7 phases */
        enum rvm_err err = rvm_kernel_boot_phase(k, p);
        if (err != RVM_OK) {
            return err;
        }
    }
    return RVM_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Fault injection
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_kernel_flip_image_bit(struct rvm_kernel *k, uint64_t bit)
{
    if (bit >= (uint64_t)k->store_used * 8u) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    k->store[bit >> 3] ^= (uint8_t)(1u << (bit & 7u));
    const uint64_t byte = bit >> 3;
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        const struct rvm_kimage *im = &k->images[i];
        if (im->used && byte >= im->off && byte - im->off < im->len) {
            rvm_kernel__digest_touch_image(k, i);
        }
    }
    return RVM_OK;
}
