/* SPDX-License-Identifier: MIT */
/*
 * The kernel's oracles: rvm_kernel_check (every subsystem's invariants plus the ones that span
 * subsystems), rvm_kernel_hash (a canonical encoding of the whole state, what StateDigest records
 * carry and the replay store re-computes), and rvm_kernel_refs (what still names a partition).
 * All read-only and bounded by the configured capacities.
 */
#include "kernel_impl.h"
#include "rvm/action.h"
#include "rvm/bytes.h"

#define BAD RVM_ERR_INTERNAL

static bool live_id(const struct rvm_kernel *k, rvm_partition_id id)
{
    return rvm_kernel__part_live_id(k, id);
}

static bool image_ok(const struct rvm_kernel *k, uint32_t idx, uint8_t kind, rvm_partition_id part,
                     uint32_t region)
{
    if (idx >= k->cfg.max_images) {
        return false;
    }
    const struct rvm_kimage *im = &k->images[idx];
    return im->used && im->kind == kind && im->part == part && im->region == region;
}

/* Does a capability's object exist? */
static bool object_live(const struct rvm_kernel *k, const struct rvm_cap_slot *s)
{
    uint32_t slot;
    switch (s->type) {
    case RVM_CAP_TYPE_PARTITION:
        return rvm_kernel__part_find(k, s->object, &slot) == RVM_OK;
    case RVM_CAP_TYPE_REGION:
        return rvm_region_get(&k->regions, s->object) != NULL;
    case RVM_CAP_TYPE_COMM_EDGE:
        return rvm_kernel__chan_find(k, s->object, &slot) == RVM_OK;
    case RVM_CAP_TYPE_DEVICE:
        return rvm_kernel__dev_find(k, s->object, &slot) == RVM_OK;
    default:
        return false; /* the kernel makes no capability of another type */
    }
}

static enum rvm_err check_partitions(const struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_kpart *p = &k->parts[i];
        const rvm_partition_id id = i + 1u;
        const uint8_t st = rvm_sched_state(&k->sched, id);
        uint32_t g;
        const bool node =
            k->cfg.coherence_nodes != 0 && rvm_graph_find(&k->coh.graph, id, &g) == RVM_OK;
        if (p->state == RVM_KPART_FREE) {
            if (st != 0 || rvm_vmid_of(&k->vmids, id) != 0 || node ||
                k->nonces.domains[id].highest != 0) {
                return BAD;
            }
            continue;
        }
        if (p->state > RVM_KPART_HIBERNATED || (p->creator != 0 && !live_id(k, p->creator)) ||
            p->ctx.owner != id || rvm_vcpu_check(&p->ctx) != RVM_OK) {
            return BAD;
        }
        const bool scheduled = (st & (RVM_SCHED_QUEUED | RVM_SCHED_RUNNING)) != 0;
        if ((p->state == RVM_KPART_RUNNING) != scheduled) {
            return BAD;
        }
        if (p->ckpt != RVM_KERNEL_NONE &&
            !image_ok(k, p->ckpt, RVM_KIMAGE_CKPT_VCPU, id, RVM_KERNEL_NONE)) {
            return BAD;
        }
        if (k->cfg.coherence_nodes != 0 && !node) {
            return BAD;
        }
    }
    for (uint32_t c = 0; c < k->cfg.ncpus; c++) { /* bound: ncpus */
        const rvm_partition_id loaded = k->cpus[c].loaded;
        if (loaded != rvm_sched_current(&k->sched, c)) {
            return BAD;
        }
        if (loaded != 0 &&
            (!live_id(k, loaded) || k->parts[loaded - 1u].state != RVM_KPART_RUNNING)) {
            return BAD;
        }
    }
    return RVM_OK;
}

static enum rvm_err check_caps(const struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) == 0) {
            continue;
        }
        if ((s->owner != 0 && !live_id(k, s->owner)) || !object_live(k, s)) {
            return BAD; /* a capability naming a dead holder or object */
        }
    }
    return RVM_OK;
}

static enum rvm_err check_regions(const struct rvm_kernel *k)
{
    uint64_t held = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        const struct rvm_kreg *kr = &k->kregs[i];
        if (!r->used) {
            if (kr->image != RVM_KERNEL_NONE || kr->ckpt != RVM_KERNEL_NONE ||
                kr->home_perms != 0) {
                return BAD;
            }
            continue;
        }
        if (!live_id(k, r->owner)) {
            return BAD;
        }
        const struct rvm_kpart *owner = &k->parts[r->owner - 1u];
        if (r->mapped && (owner->state == RVM_KPART_HIBERNATED || kr->home_perms != r->map_perms ||
                          kr->home_ipa != r->ipa)) {
            return BAD;
        }
        const bool ram = rvm_kernel__region_is_ram(r);
        const bool dormant = r->tier.tier == RVM_TIER_DORMANT || r->tier.tier == RVM_TIER_COLD;
        if (ram && dormant != (kr->image != RVM_KERNEL_NONE)) {
            return BAD;
        }
        if (kr->image != RVM_KERNEL_NONE &&
            (!image_ok(k, kr->image, RVM_KIMAGE_DORMANT, r->owner, i) ||
             !rvm_ct_equal(k->images[kr->image].hash, r->checkpoint, RVM_SHA256_DIGEST_BYTES))) {
            return BAD;
        }
        if (kr->ckpt != RVM_KERNEL_NONE &&
            !image_ok(k, kr->ckpt, RVM_KIMAGE_CKPT_REGION, r->owner, i)) {
            return BAD;
        }
        if (owner->state == RVM_KPART_HIBERNATED && ram && !dormant) {
            return BAD;
        }
        if (ram && r->hpa != 0) {
            held += rvm_kernel__region_pages(r);
        }
    }
    /* Allocator conservation: resident RAM regions hold exactly the allocated pages. */
    return held == rvm_buddy_allocated_pages(&k->ram) ? RVM_OK : BAD;
}

static enum rvm_err check_channels(const struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *c = &k->chans[i];
        if (!c->used) {
            if (c->count != 0 || c->a != 0 || c->b != 0) {
                return BAD;
            }
            continue;
        }
        if (!live_id(k, c->a) || !live_id(k, c->b) || c->count > k->cfg.queue_depth ||
            c->head >= k->cfg.queue_depth || c->sent - c->received != c->count) {
            return BAD;
        }
        uint64_t last = 0;
        for (uint32_t j = 0; j < c->count; j++) { /* bound: queue_depth */
            const struct rvm_kmsg *m =
                &k->msgs[(size_t)i * k->cfg.queue_depth + (c->head + j) % k->cfg.queue_depth];
            if ((m->sender != 0 && m->sender != c->a && !live_id(k, m->sender)) ||
                m->len > k->cfg.msg_bytes || m->seq <= last || m->seq >= c->next_seq) {
                return BAD;
            }
            last = m->seq;
        }
    }
    return RVM_OK;
}

static enum rvm_err check_devices(const struct rvm_kernel *k)
{
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        const struct rvm_kdev *d = &k->devs[i];
        if (!d->leased) {
            if (d->holder != 0) {
                return BAD;
            }
            continue;
        }
        const struct rvm_cap_slot *s = rvm_cap_get(&k->caps, d->lease_cap);
        struct rvm_handle dh = {i, d->generation};
        if (!d->used || !live_id(k, d->holder) || s == NULL || s->owner != d->holder ||
            s->type != RVM_CAP_TYPE_DEVICE || !rvm_cap_handle_eq(s->object, dh)) {
            return BAD;
        }
    }
    return RVM_OK;
}

static enum rvm_err check_images(const struct rvm_kernel *k)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        const struct rvm_kimage *im = &k->images[i];
        if (!im->used) {
            continue;
        }
        uint64_t end = (uint64_t)im->off + im->len;
        if (end > k->store_used || im->len == 0 || !live_id(k, im->part)) {
            return BAD;
        }
        /* Packed without overlap: no other image starts inside this one. */
        for (uint32_t j = 0; j < k->cfg.max_images; j++) { /* bound: max_images */
            const struct rvm_kimage *o = &k->images[j];
            if (j != i && o->used && o->off >= im->off && o->off < end) {
                return BAD;
            }
        }
        total += im->len;
    }
    return total == k->store_used && k->store_used <= k->cfg.image_bytes ? RVM_OK : BAD;
}

enum rvm_err rvm_kernel_check(const struct rvm_kernel *k)
{
    if (k->internal_error) {
        return BAD;
    }
    enum rvm_err err = rvm_cap_check(&k->caps);
    if (err == RVM_OK) {
        err = rvm_proof_check(&k->nonces);
    }
    if (err == RVM_OK) {
        err = rvm_buddy_check(&k->ram);
    }
    if (err == RVM_OK) {
        err = rvm_region_check(&k->regions);
    }
    if (err == RVM_OK) {
        err = rvm_sched_check(&k->sched);
    }
    if (err == RVM_OK) {
        err = rvm_vmid_check(&k->vmids);
    }
    if (err == RVM_OK && k->cfg.coherence_nodes != 0) {
        err = rvm_coherence_check(&k->coh);
    }
    if (err == RVM_OK) {
        err = check_partitions(k);
    }
    if (err == RVM_OK) {
        err = check_caps(k);
    }
    if (err == RVM_OK) {
        err = check_regions(k);
    }
    if (err == RVM_OK) {
        err = check_channels(k);
    }
    if (err == RVM_OK) {
        err = check_devices(k);
    }
    if (err == RVM_OK) {
        err = check_images(k);
    }
    return err == RVM_OK ? RVM_OK : BAD;
}

/* ------------------------------------------------------------------------------------------------
 * Hash
 * --------------------------------------------------------------------------------------------- */

static inline void h32(struct rvm_sha256_ctx *c, uint32_t v)
{
    rvm_sha256_update_le32(c, v);
}

static inline void h64(struct rvm_sha256_ctx *c, uint64_t v)
{
    rvm_sha256_update_le64(c, v);
}

static void hash_regs(struct rvm_sha256_ctx *c, const struct rvm_vcpu_regs *r)
{
    uint8_t buf[RVM_KERNEL_CTX_BYTES];
    rvm_kernel__ctx_store(r, buf);
    rvm_sha256_update(c, buf, sizeof(buf));
}

/* Consecutive objects' encodings are gathered into one buffer and absorbed together: a table of
 * small slots costs a few SHA-256 updates instead of one per slot. */
struct batch {
    struct rvm_sha256_ctx *c;
    size_t n;
    uint8_t buf[8u * RVM_KENC_MAX_BYTES];
};

static void batch_flush(struct batch *b)
{
    rvm_sha256_update(b->c, b->buf, b->n);
    b->n = 0;
}

/* Room for one more encoding (RVM_KENC_MAX_BYTES); batch_took records its length. */
static uint8_t *batch_room(struct batch *b)
{
    if (b->n > sizeof(b->buf) - RVM_KENC_MAX_BYTES) {
        batch_flush(b);
    }
    return b->buf + b->n;
}

static void batch_took(struct batch *b, size_t len)
{
    b->n += len;
}

/* The kernel's own tables, in the version-1 form of the encoders shared with the digest's leaves
 * (kernel_impl.h). */
static void hash_tables(const struct rvm_kernel *k, struct rvm_sha256_ctx *c, bool sched,
                        bool kregs)
{
    struct batch b = {c, 0, {0}};
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_kpart *p = &k->parts[i];
        const uint8_t pf = sched ? p->flags : (uint8_t)(p->flags & ~(uint32_t)RVM_KPART_F_RAN);
        batch_took(&b, rvm_kernel__encode_part(p, pf, RVM_KENC_STREAM, batch_room(&b)));
        if (sched && p->state != RVM_KPART_FREE) {
            batch_flush(&b);
            rvm_vcpu_hash(&p->ctx, c);
        }
    }
    const uint32_t kreg_slots = kregs ? k->cfg.max_regions : 0;
    for (uint32_t i = 0; i < kreg_slots; i++) { /* bound: max_regions */
        batch_took(&b, rvm_kernel__encode_kreg(&k->kregs[i], RVM_KENC_STREAM, batch_room(&b)));
    }
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *ch = &k->chans[i];
        batch_took(&b, rvm_kernel__encode_chan(ch, RVM_KENC_STREAM, batch_room(&b)));
        if (!ch->used) {
            continue;
        }
        for (uint32_t j = 0; j < ch->count; j++) { /* bound: queue_depth */
            const size_t m = (size_t)i * k->cfg.queue_depth + (ch->head + j) % k->cfg.queue_depth;
            batch_took(&b, rvm_kernel__encode_msg(&k->msgs[m], batch_room(&b)));
            batch_flush(&b);
            rvm_sha256_update(c, k->msg_data + m * k->cfg.msg_bytes, k->msgs[m].len);
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        batch_took(&b, rvm_kernel__encode_dev(&k->devs[i], batch_room(&b)));
    }
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        batch_took(&b, rvm_kernel__encode_image(&k->images[i], RVM_KENC_STREAM, batch_room(&b)));
    }
    batch_flush(&b);
}

void rvm_kernel_hash_ex(const struct rvm_kernel *k, struct rvm_sha256_ctx *c, uint32_t flags)
{
    const bool sched = (flags & RVM_KHASH_NO_SCHED) == 0;
    const bool tables = (flags & RVM_KHASH_NO_CAPS_REGIONS) == 0;
    static const uint8_t tag[] = "rvm-kernel-state-v1";
    rvm_sha256_update(c, tag, sizeof(tag) - 1u);
    /* The kernel's own scalars. */
    rvm_sha256_update(c, &k->boot_next, 1);
    rvm_sha256_update(c, k->attestation, sizeof(k->attestation));
    h32(c, k->images_loaded);
    h64(c, k->epoch);
    h64(c, k->next_epoch_ns);
    h32(c, k->recovery_left);
    rvm_sha256_update(c, &k->mode_before_recovery, 1);
    rvm_sha256_update(c, &k->internal_error, 1);
    h32(c, k->store_used);
    /* The log as far as it goes. */
    if ((flags & RVM_KHASH_NO_LOG) == 0u) {
        uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
        rvm_witness_chain_value(&k->log, chain);
        h64(c, rvm_witness_count(&k->log));
        rvm_sha256_update(c, chain, sizeof(chain));
    }
    /* Every subsystem. */
    if (tables) {
        rvm_cap_hash(&k->caps, c);
    }
    rvm_proof_hash(&k->nonces, c);
    rvm_buddy_hash(&k->ram, c);
    if (tables) {
        rvm_region_hash(&k->regions, c);
    }
    if (sched) {
        rvm_sched_hash(&k->sched, c);
        rvm_vmid_hash(&k->vmids, c);
    }
    if (k->cfg.coherence_nodes != 0) {
        rvm_coherence_hash(&k->coh, c);
    }
    hash_tables(k, c, sched, tables);
    rvm_sha256_update(c, k->store, k->store_used);
    if (sched) {
        for (uint32_t i = 0; i < k->cfg.ncpus; i++) { /* bound: ncpus */
            h32(c, k->cpus[i].loaded);
            hash_regs(c, &k->cpus[i].frame);
        }
    }
}

void rvm_kernel_hash(const struct rvm_kernel *k, struct rvm_sha256_ctx *ctx)
{
    rvm_kernel_hash_ex(k, ctx, RVM_KHASH_ALL);
}

void rvm_kernel_digest(const struct rvm_kernel *k, uint8_t out[16])
{
    struct rvm_sha256_ctx c;
    uint8_t d[RVM_SHA256_DIGEST_BYTES];
    rvm_sha256_init(&c, &k->hal->crypto);
    rvm_kernel_hash(k, &c);
    rvm_sha256_final(&c, d);
    rvm_memcpy(out, d, 16);
}

/* One word into the summary: each word is multiplied on its own (the products do not depend on
 * each other, so they overlap in the pipeline) and salted with its position, so moving a value
 * from one field to another changes the sum. */
struct summary_acc {
    uint64_t acc;
    uint64_t pos;
};

static inline void summary_mix(struct summary_acc *s, uint64_t v)
{
    uint64_t x = (v ^ (s->pos++ * 0x9e3779b97f4a7c15u)) * 0xff51afd7ed558ccdu;
    s->acc += x ^ (x >> 31);
}

uint64_t rvm_kernel_summary(const struct rvm_kernel *k)
{
    return rvm_kernel_summary_ex(k, RVM_KSUMMARY_ALL);
}

uint64_t rvm_kernel_summary_ex(const struct rvm_kernel *k, uint32_t parts)
{
    struct summary_acc sm = {0x243f6a8885a308d3u, 0};
    struct summary_acc *h = &sm;
    summary_mix(h, k->boot_next | (uint64_t)k->images_loaded << 8 |
                       (uint64_t)k->internal_error << 40 | (uint64_t)k->mode_before_recovery << 48);
    summary_mix(h, k->epoch);
    summary_mix(h, k->next_epoch_ns);
    summary_mix(h, k->recovery_left | (uint64_t)k->store_used << 32);
    summary_mix(h, k->log.appended);
    summary_mix(h, k->log.chain[0] | (uint64_t)k->log.chain[7] << 32);
    const struct rvm_cap_table *ct = &k->caps;
    summary_mix(h, ct->live | (uint64_t)ct->free_head << 32);
    summary_mix(h, ct->epoch | (uint64_t)ct->epoch_floor << 32);
    const uint32_t cap_slots = (parts & RVM_KSUMMARY_NO_CAP_SLOTS) != 0 ? 0 : ct->capacity;
    for (uint32_t i = 0; i < cap_slots; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *c = &ct->slots[i];
        summary_mix(h, c->generation | (uint64_t)c->owner << 32);
        if ((c->generation & 1u) != 0) {
            summary_mix(h, c->type | (uint64_t)c->rights << 8 | (uint64_t)c->depth << 16 |
                               (uint64_t)c->flags << 24 | (uint64_t)c->object.index << 32);
            summary_mix(h, c->object.generation | (uint64_t)c->parent.index << 32);
            summary_mix(h, c->first_child.index | (uint64_t)c->next_sibling.index << 32);
            summary_mix(h, c->badge ^ c->epoch);
        }
    }
    for (uint32_t i = 0; i < k->nonces.count; i++) { /* bound: max_partitions + 1 */
        summary_mix(h, k->nonces.domains[i].highest);
    }
    const struct rvm_buddy *b = &k->ram;
    summary_mix(h, b->free_pages | (uint64_t)b->nonempty << 32);
    for (uint32_t o = 0; o <= b->max_order; o++) { /* bound: max_order */
        summary_mix(h, b->head[o]);
    }
    const struct rvm_region_table *rt = &k->regions;
    summary_mix(h, rt->count | (uint64_t)rt->epoch << 32);
    const uint32_t region_slots = (parts & RVM_KSUMMARY_NO_REGION_SLOTS) != 0 ? 0 : rt->capacity;
    for (uint32_t i = 0; i < region_slots; i++) { /* bound: max_regions */
        const struct rvm_region *r = &rt->slots[i];
        summary_mix(h, r->generation | (uint64_t)r->used << 32 | (uint64_t)r->mapped << 40 |
                           (uint64_t)r->map_perms << 48 | (uint64_t)r->tier.tier << 56);
        if (r->used) {
            summary_mix(h, r->owner | (uint64_t)r->npages << 32);
            summary_mix(h, r->hpa ^ r->ipa << 1);
            summary_mix(h, r->shares | (uint64_t)r->image_len << 32);
            summary_mix(h, r->tier.cut | (uint64_t)r->tier.recency << 16 |
                               (uint64_t)r->tier.pending_cut << 32 | (uint64_t)r->perms << 48);
            const struct rvm_kreg *kr = &k->kregs[i];
            summary_mix(h, kr->home_ipa ^ ((uint64_t)kr->home_perms << 56));
            summary_mix(h, kr->image | (uint64_t)kr->ckpt << 32);
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        const struct rvm_kpart *p = &k->parts[i];
        summary_mix(h, p->generation | (uint64_t)p->state << 32 |
                           (uint64_t)(p->flags & ~(uint32_t)RVM_KPART_F_RAN) << 40 |
                           (uint64_t)p->urgency << 48);
        if (p->state != RVM_KPART_FREE) {
            summary_mix(h, p->creator | (uint64_t)p->restarts << 32);
            summary_mix(h, p->faults | (uint64_t)p->ckpt << 32);
            summary_mix(h,
                        p->notifications ^ p->affinity << 8 ^ rvm_handle_pack(p->self_cap) << 16);
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *c = &k->chans[i];
        summary_mix(h, c->generation | (uint64_t)c->used << 32);
        if (c->used) {
            summary_mix(h, c->a | (uint64_t)c->b << 32);
            summary_mix(h, c->head | (uint64_t)c->count << 32);
            summary_mix(h, c->next_seq ^ c->sent << 20 ^ c->received << 40);
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        const struct rvm_kdev *d = &k->devs[i];
        summary_mix(h, d->generation | (uint64_t)d->used << 32 | (uint64_t)d->leased << 40);
        summary_mix(h, d->holder | (uint64_t)d->irq << 32);
        summary_mix(h, d->expires_ns ^ d->delivered << 32 ^ rvm_handle_pack(d->lease_cap) << 7);
    }
    if (k->cfg.coherence_nodes != 0) {
        const struct rvm_coherence *c = &k->coh;
        summary_mix(h, c->graph.live | (uint64_t)c->graph.edges << 32);
        summary_mix(h, c->epoch ^ (uint64_t)c->degraded << 63 ^ (uint64_t)c->have_cut << 62);
        summary_mix(h, c->cut.value ^ c->cut_epoch << 32);
    }
    return sm.acc ^ sm.pos;
}

/* ------------------------------------------------------------------------------------------------
 * References to a partition
 * --------------------------------------------------------------------------------------------- */

uint32_t rvm_kernel_refs(const struct rvm_kernel *k, rvm_partition_id id, uint32_t *count)
{
    uint32_t where = 0;
    uint32_t n = 0;
#define REF(bit)                                                                                   \
    do {                                                                                           \
        where |= (bit);                                                                            \
        n++;                                                                                       \
    } while (0)
    if (id == 0 || id > k->cfg.max_partitions) {
        if (count != NULL) {
            *count = 0;
        }
        return 0;
    }
    const uint32_t slot = id - 1u;
    if (k->parts[slot].state != RVM_KPART_FREE) {
        REF(RVM_KREF_SLOT);
    }
    for (uint32_t i = 0; i < k->caps.capacity; i++) { /* bound: max_caps */
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        if ((s->generation & 1u) == 0) {
            continue;
        }
        if (s->owner == id) {
            REF(RVM_KREF_CAP_HOLDER);
        }
        if (s->type == RVM_CAP_TYPE_PARTITION && s->object.index == slot) {
            REF(RVM_KREF_CAP_OBJECT);
        }
    }
    for (uint32_t i = 0; i < k->regions.capacity; i++) { /* bound: max_regions */
        const struct rvm_region *r = &k->regions.slots[i];
        if (r->used && r->owner == id) {
            REF(RVM_KREF_REGION);
            if (r->mapped) {
                REF(RVM_KREF_MAPPING);
            }
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) { /* bound: max_channels */
        const struct rvm_kchan *c = &k->chans[i];
        if (c->used && (c->a == id || c->b == id)) {
            REF(RVM_KREF_CHANNEL);
        }
        for (uint32_t j = 0; c->used && j < c->count; j++) { /* bound: queue_depth */
            const struct rvm_kmsg *m =
                &k->msgs[(size_t)i * k->cfg.queue_depth + (c->head + j) % k->cfg.queue_depth];
            if (m->sender == id) {
                REF(RVM_KREF_MESSAGE);
            }
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) { /* bound: max_devices */
        if (k->devs[i].leased && k->devs[i].holder == id) {
            REF(RVM_KREF_LEASE);
        }
    }
    const struct rvm_sched_part *sp = &k->sched.parts[slot];
    if (sp->state != 0 || sp->flags != 0 || sp->affinity != k->sched.cpu_mask) {
        REF(RVM_KREF_SCHED);
    }
    for (uint32_t c = 0; c < k->cfg.ncpus; c++) { /* bound: ncpus */
        if (k->cpus[c].loaded == id || k->sched.cpu[c].current == id) {
            REF(RVM_KREF_CPU);
        }
    }
    if (rvm_vmid_of(&k->vmids, id) != 0) {
        REF(RVM_KREF_VMID);
    }
    for (uint32_t v = 0; v < RVM_VMID_HW_MAX; v++) { /* bound: 256 VMIDs */
        if (k->vmids.slots[v].owner == id) {
            REF(RVM_KREF_VMID);
        }
    }
    uint32_t g;
    if (k->cfg.coherence_nodes != 0 && rvm_graph_find(&k->coh.graph, id, &g) == RVM_OK) {
        REF(RVM_KREF_GRAPH);
    }
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) { /* bound: max_partitions */
        if (k->parts[i].state != RVM_KPART_FREE && k->parts[i].creator == id) {
            REF(RVM_KREF_CREATOR);
        }
    }
    for (uint32_t i = 0; i < k->cfg.max_images; i++) { /* bound: max_images */
        if (k->images[i].used && k->images[i].part == id) {
            REF(RVM_KREF_IMAGE);
        }
    }
    if (k->nonces.domains[id].highest != 0) {
        REF(RVM_KREF_NONCE);
    }
#undef REF
    if (count != NULL) {
        *count = n;
    }
    return where;
}
