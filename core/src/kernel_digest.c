/* SPDX-License-Identifier: MIT */
/*
 * The incremental state digest (version 2, docs/incremental-state-digest.md). Each slot table of
 * the kernel has a fixed-shape binary Merkle tree over its capacity and a shadow copy of the bytes
 * each leaf was computed from. At a digest a slot whose bytes differ from its shadow gets a new
 * leaf and path; the digest is SHA-256 over a top block holding the kernel's scalars, the small
 * subsystem headers, the scheduler, VMID and coherence state in full, the eight roots and each
 * CPU's frame. Change detection compares each slot's bytes with its shadow, so the table code
 * marks nothing. The exception is the image store: an image's leaf covers its bytes, which can
 * change while its descriptor does not (a bit flipped in the store, then an image committed over
 * the same offset with the same descriptor), so the functions that write the store mark the image
 * (rvm_kernel__digest_touch_image).
 */
#include "kernel_impl.h"

#include "rvm/bytes.h"

#define NODE      RVM_KDIGEST_NODE_BYTES
#define CHUNK     RVM_KDIGEST_BUDDY_CHUNK
#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/* The first byte of every leaf's SHA-256 input. */
#define LEAF_PREFIX 0x00u

/* A table's watched bytes are one or two arrays of the kernel (the slots; a region's kreg entries,
 * a channel's message headers, a buddy chunk's links), `stride` bytes per slot (the last buddy
 * chunk may be short). The shadow holds a copy of each array, one after the other, so a table
 * compares as one or two contiguous byte ranges and a difference at byte x belongs to slot x /
 * stride. */
#define MAX_SEGMENTS 2u

struct segment {
    const uint8_t *live;
    uint8_t *shadow;
    size_t stride;
    size_t bytes; /* of the whole array */
};

static void blank_roots_init(struct rvm_kernel *k);

/* ------------------------------------------------------------------------------------------------
 * Geometry
 * --------------------------------------------------------------------------------------------- */

static uint32_t table_count(const struct rvm_kernel_config *c, uint32_t t)
{
    switch (t) {
    case RVM_KDIGEST_CAPS:
        return c->max_caps;
    case RVM_KDIGEST_NONCES:
        return c->max_partitions + 1u;
    case RVM_KDIGEST_BUDDY:
        return (c->ram_pages + CHUNK - 1u) / CHUNK;
    case RVM_KDIGEST_REGIONS:
        return c->max_regions;
    case RVM_KDIGEST_PARTS:
        return c->max_partitions;
    case RVM_KDIGEST_CHANS:
        return c->max_channels;
    case RVM_KDIGEST_DEVS:
        return c->max_devices;
    default:
        return c->max_images;
    }
}

static size_t table_shadow_bytes(const struct rvm_kernel_config *c, uint32_t t)
{
    switch (t) {
    case RVM_KDIGEST_CAPS:
        return sizeof(struct rvm_cap_slot);
    case RVM_KDIGEST_NONCES:
        return sizeof(struct rvm_proof_nonce_domain);
    case RVM_KDIGEST_BUDDY:
        return CHUNK * (1u + sizeof(struct rvm_buddy_link));
    case RVM_KDIGEST_REGIONS:
        return sizeof(struct rvm_region) + sizeof(struct rvm_kreg);
    case RVM_KDIGEST_PARTS:
        return sizeof(struct rvm_kpart);
    case RVM_KDIGEST_CHANS:
        /* A message's payload is written only together with its channel's counters, so the
         * channel and its message headers are enough to notice every change. */
        return sizeof(struct rvm_kchan) + (size_t)c->queue_depth * sizeof(struct rvm_kmsg);
    case RVM_KDIGEST_DEVS:
        return sizeof(struct rvm_kdev);
    default:
        return sizeof(struct rvm_kimage);
    }
}

static uint32_t span_of(uint32_t count)
{
    uint32_t span = 1;
    while (span < count) { /* bound: 32 doublings */
        span <<= 1;
    }
    return span;
}

static size_t nodes_bytes(uint32_t count)
{
    return (size_t)2u * span_of(count) * NODE;
}

size_t rvm_kernel__digest_bytes(const struct rvm_kernel_config *cfg)
{
    if (cfg->state_digest == 1u) {
        return 0;
    }
    size_t total = 0;
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        const uint32_t n = table_count(cfg, t);
        total += ALIGN8(nodes_bytes(n)) + ALIGN8((size_t)n * table_shadow_bytes(cfg, t));
    }
    total += ALIGN8((size_t)cfg->max_images * sizeof(uint64_t));
    total += ALIGN8((size_t)cfg->max_channels * sizeof(uint64_t));
    return total + (size_t)RVM_KDIGEST_HEIGHTS * NODE;
}

void rvm_kernel__digest_init(struct rvm_kernel *k, uint8_t *area)
{
    struct rvm_kdigest *d = &k->digest;
    rvm_memset(d, 0, sizeof(*d));
    d->version = k->cfg.state_digest == 1u ? 1u : 2u;
    if (d->version == 1u) {
        return;
    }
    size_t at = 0;
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        struct rvm_kdigest_table *tb = &d->t[t];
        tb->count = table_count(&k->cfg, t);
        tb->span = span_of(tb->count);
        tb->shadow_bytes = (uint32_t)table_shadow_bytes(&k->cfg, t);
        tb->nodes = area + at;
        at += ALIGN8(nodes_bytes(tb->count));
        tb->shadow = area + at;
        at += ALIGN8((size_t)tb->count * tb->shadow_bytes);
    }
    d->store_sums = (uint64_t *)(void *)(area + at);
    at += ALIGN8((size_t)k->cfg.max_images * sizeof(uint64_t));
    d->payload_sums = (uint64_t *)(void *)(area + at);
    at += ALIGN8((size_t)k->cfg.max_channels * sizeof(uint64_t));
    d->blank = area + at;
    blank_roots_init(k);
}

static uint8_t *blank_at(const struct rvm_kdigest *d, uint32_t height)
{
    return d->blank + (size_t)height * NODE;
}

static void interior(const struct rvm_crypto *crypto, const uint8_t *left, const uint8_t *right,
                     uint8_t out[NODE]);

/* The roots of all-blank subtrees, one per height a tree of this kernel has (height 0 is the
 * blank leaf, 32 zero bytes, which is also the padding beyond a table's capacity). */
static void blank_roots_init(struct rvm_kernel *k)
{
    struct rvm_kdigest *d = &k->digest;
    uint32_t highest = 0;
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        uint32_t h = 0;
        for (uint32_t w = d->t[t].span; w > 1u; w >>= 1) { /* bound: 32 halvings */
            h++;
        }
        highest = h > highest ? h : highest;
    }
    d->heights = highest + 1u;
    rvm_memset(blank_at(d, 0), 0, NODE);
    for (uint32_t h = 1; h < d->heights; h++) { /* bound: RVM_KDIGEST_HEIGHTS */
        interior(&k->hal->crypto, blank_at(d, h - 1u), blank_at(d, h - 1u), blank_at(d, h));
    }
}

/* ------------------------------------------------------------------------------------------------
 * What a slot's change test watches
 * --------------------------------------------------------------------------------------------- */

static struct segment segment_of(const void *live, uint8_t *shadow, size_t stride, size_t bytes)
{
    struct segment s = {(const uint8_t *)live, shadow, stride, bytes};
    return s;
}

static uint32_t watched(const struct rvm_kernel *k, uint32_t t, struct segment s[MAX_SEGMENTS])
{
    const struct rvm_kdigest_table *tb = &k->digest.t[t];
    const size_t n = tb->count;
    uint8_t *sh = tb->shadow;
    switch (t) {
    case RVM_KDIGEST_CAPS:
        s[0] = segment_of(k->caps.slots, sh, sizeof(struct rvm_cap_slot),
                          n * sizeof(struct rvm_cap_slot));
        return 1;
    case RVM_KDIGEST_NONCES:
        s[0] = segment_of(k->nonces.domains, sh, sizeof(struct rvm_proof_nonce_domain),
                          n * sizeof(struct rvm_proof_nonce_domain));
        return 1;
    case RVM_KDIGEST_BUDDY: {
        const size_t links = CHUNK * sizeof(struct rvm_buddy_link);
        s[0] = segment_of(k->ram.tags, sh, CHUNK, k->ram.npages);
        s[1] = segment_of(k->ram.links, sh + n * CHUNK, links,
                          (size_t)k->ram.npages * sizeof(struct rvm_buddy_link));
        return 2;
    }
    case RVM_KDIGEST_REGIONS:
        s[0] = segment_of(k->regions.slots, sh, sizeof(struct rvm_region),
                          n * sizeof(struct rvm_region));
        s[1] = segment_of(k->kregs, sh + s[0].bytes, sizeof(struct rvm_kreg),
                          n * sizeof(struct rvm_kreg));
        return 2;
    case RVM_KDIGEST_PARTS:
        s[0] = segment_of(k->parts, sh, sizeof(struct rvm_kpart), n * sizeof(struct rvm_kpart));
        return 1;
    case RVM_KDIGEST_CHANS: {
        const size_t queue = (size_t)k->cfg.queue_depth * sizeof(struct rvm_kmsg);
        s[0] = segment_of(k->chans, sh, sizeof(struct rvm_kchan), n * sizeof(struct rvm_kchan));
        s[1] = segment_of(k->msgs, sh + s[0].bytes, queue, n * queue);
        return 2;
    }
    case RVM_KDIGEST_DEVS:
        s[0] = segment_of(k->devs, sh, sizeof(struct rvm_kdev), n * sizeof(struct rvm_kdev));
        return 1;
    default:
        s[0] = segment_of(k->images, sh, sizeof(struct rvm_kimage), n * sizeof(struct rvm_kimage));
        return 1;
    }
}

/* The xor of the 8-byte words at offset `at` of a and b (unaligned loads, no copy through memory).
 */
static inline uint64_t word_xor(const uint8_t *a, const uint8_t *b, size_t at)
{
    uint64_t x;
    uint64_t y;
    rvm_memcpy(&x, a + at, sizeof(x));
    rvm_memcpy(&y, b + at, sizeof(y));
    return x ^ y;
}

/* Most of a table is unchanged between digests, so the scan first skips equal SCAN_BLOCK-byte
 * blocks with the platform's memcmp (vectorised on hosts), then finds the difference in the
 * differing block (or the tail) 32 bytes per step with one branch, then a word at a time, then a
 * byte at a time. */
#define SCAN_BLOCK 256u

/* The first offset in [at, end) where the two ranges differ, or `end`. */
static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t at, size_t end)
{
    for (; at + SCAN_BLOCK <= end; at += SCAN_BLOCK) { /* bound: (end - at) / SCAN_BLOCK */
        if (rvm_memcmp(a + at, b + at, SCAN_BLOCK) != 0) {
            break;
        }
    }
    /* In a differing block, or the tail. */
    for (; at + 32u <= end; at += 32u) { /* bound: SCAN_BLOCK / 32 */
        if ((word_xor(a, b, at) | word_xor(a, b, at + 8u) | word_xor(a, b, at + 16u) |
             word_xor(a, b, at + 24u)) != 0) {
            break;
        }
    }
    for (; at + 8u <= end; at += 8u) { /* bound: 4 (a differing chunk or the tail) */
        if (word_xor(a, b, at) != 0) {
            break;
        }
    }
    for (; at < end; at++) { /* bound: 8 (a differing word or the tail) */
        if (a[at] != b[at]) {
            return at;
        }
    }
    return end;
}

/* Two nodes are equal: a word at a time, leaving at the first difference (nodes that differ
 * usually differ in their first word). */
static bool node_equal(const uint8_t *a, const uint8_t *b)
{
    for (size_t at = 0; at < NODE; at += 8u) { /* bound: NODE / 8 */
        if (word_xor(a, b, at) != 0) {
            return false;
        }
    }
    return true;
}

/* Slot i's part of a segment: [first, end). */
static size_t slot_start(const struct segment *s, uint32_t i)
{
    return (size_t)i * s->stride;
}

static size_t slot_end(const struct segment *s, uint32_t i)
{
    const size_t end = slot_start(s, i) + s->stride;
    return end < s->bytes ? end : s->bytes;
}

/* The first slot at or after `from` whose part of the segment differs from its shadow, or `count`.
 */
static uint32_t next_changed(const struct segment *s, uint32_t from, uint32_t count)
{
    if (from >= count) {
        return count;
    }
    const size_t x = first_difference(s->live, s->shadow, slot_start(s, from), s->bytes);
    return x == s->bytes ? count : (uint32_t)(x / s->stride);
}

/* The slots of a table whose watched bytes differ from their shadow, in ascending order: each
 * segment's scan resumes where it stopped, so a pass over the table reads it once. */
struct changed_scan {
    struct segment s[MAX_SEGMENTS];
    uint32_t nseg;
    uint32_t count;
    uint32_t next[MAX_SEGMENTS];
};

static void scan_start(const struct rvm_kernel *k, uint32_t t, struct changed_scan *c)
{
    c->nseg = watched(k, t, c->s);
    c->count = k->digest.t[t].count;
    c->next[1] = c->count;
    for (uint32_t j = 0; j < c->nseg; j++) { /* bound: MAX_SEGMENTS */
        c->next[j] = next_changed(&c->s[j], 0, c->count);
    }
}

/* The lowest changed slot not yet passed, or `count`. */
static uint32_t scan_peek(const struct changed_scan *c)
{
    return c->next[0] < c->next[1] ? c->next[0] : c->next[1];
}

/* Continue after slot i (the slot scan_peek gave). */
static void scan_past(struct changed_scan *c, uint32_t i)
{
    for (uint32_t j = 0; j < c->nseg; j++) { /* bound: MAX_SEGMENTS */
        if (c->next[j] <= i) {
            c->next[j] = next_changed(&c->s[j], i + 1u, c->count);
        }
    }
}

static void shadow_take(struct rvm_kernel *k, uint32_t t, uint32_t i)
{
    struct segment s[MAX_SEGMENTS];
    const uint32_t n = watched(k, t, s);
    for (uint32_t j = 0; j < n; j++) { /* bound: MAX_SEGMENTS */
        const size_t at = slot_start(&s[j], i);
        rvm_memcpy(s[j].shadow + at, s[j].live + at, slot_end(&s[j], i) - at);
    }
}

void rvm_kernel__digest_touch_image(struct rvm_kernel *k, uint32_t image)
{
    struct rvm_kdigest_table *tb = &k->digest.t[RVM_KDIGEST_IMAGES];
    if (k->digest.version != 2u || image >= tb->count) {
        return;
    }
    /* A shadow that differs from its slot makes the next digest recompute the leaf. The shadow's
     * `used` byte is set to a value the kernel never stores there (it writes only 0 and 1), so
     * no later change to the slot before that digest (an image moved down by a free, say) can
     * make the two equal again; a byte derived from the slot at touch time could be matched. */
    tb->shadow[(size_t)image * sizeof(struct rvm_kimage) + offsetof(struct rvm_kimage, used)] =
        0xFFu;
}

/* ------------------------------------------------------------------------------------------------
 * Leaf encodings (docs/incremental-state-digest.md, "Leaves")
 * --------------------------------------------------------------------------------------------- */

/* Each encoder writes one slot's fields into a byte buffer (after the leaf's two prefix bytes), so
 * a leaf costs one SHA-256 update for its fixed part instead of one per field. */

/* The longest fixed part: a buddy chunk's tags and links after the prefix. */
#define LEAF_BUF (2u + CHUNK * (1u + 2u * 4u))

static size_t leaf_cap(const struct rvm_cap_slot *s, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, s->generation);
    at = rvm_kenc_u8(at, s->type);
    at = rvm_kenc_u8(at, s->rights);
    at = rvm_kenc_u8(at, s->depth);
    at = rvm_kenc_u8(at, s->flags);
    at = rvm_kenc_handle(at, s->object);
    at = rvm_kenc_u32(at, s->owner);
    at = rvm_kenc_u32(at, s->cap_hash);
    at = rvm_kenc_u32(at, s->epoch);
    at = rvm_kenc_u32(at, s->root_epoch);
    at = rvm_kenc_u64(at, s->badge);
    at = rvm_kenc_handle(at, s->parent);
    at = rvm_kenc_handle(at, s->first_child);
    at = rvm_kenc_handle(at, s->next_sibling);
    at = rvm_kenc_handle(at, s->prev_sibling);
    at = rvm_kenc_u32(at, s->next_free);
    rvm_memcpy(at, s->mac, RVM_CAP_MAC_BYTES);
    return (size_t)(at + RVM_CAP_MAC_BYTES - out);
}

static size_t leaf_nonce(const struct rvm_proof_nonce_domain *d, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u64(out, d->highest);
    for (uint32_t w = 0; w < RVM_PROOF_NONCE_WORDS; w++) { /* bound: RVM_PROOF_NONCE_WORDS */
        at = rvm_kenc_u64(at, d->seen[w]);
    }
    return (size_t)(at - out);
}

static size_t leaf_buddy(const struct rvm_buddy *b, uint32_t chunk, uint8_t *out)
{
    const uint32_t first = chunk * CHUNK;
    const uint32_t pages = b->npages - first < CHUNK ? b->npages - first : CHUNK;
    rvm_memcpy(out, b->tags + first, pages);
    uint8_t *at = out + pages;
    for (uint32_t p = first; p < first + pages; p++) { /* bound: CHUNK */
        at = rvm_kenc_u32(at, b->links[p].next);
        at = rvm_kenc_u32(at, b->links[p].prev);
    }
    return (size_t)(at - out);
}

static size_t leaf_region(const struct rvm_region *r, const struct rvm_kreg *kr, uint8_t *out)
{
    uint8_t *at = rvm_kenc_u32(out, r->generation);
    at = rvm_kenc_u8(at, r->used);
    at = rvm_kenc_u8(at, r->type);
    at = rvm_kenc_u8(at, r->perms);
    at = rvm_kenc_u8(at, r->mapped);
    at = rvm_kenc_u8(at, r->map_perms);
    at = rvm_kenc_u8(at, r->order);
    at = rvm_kenc_u8(at, r->tier.tier);
    at = rvm_kenc_u8(at, r->tier.accessed);
    at = rvm_kenc_u8(at, r->tier.cut_pending);
    at = rvm_kenc_u32(at, (uint32_t)r->tier.cut | (uint32_t)r->tier.pending_cut << 16);
    at = rvm_kenc_u32(at, r->tier.recency);
    at = rvm_kenc_u32(at, r->owner);
    at = rvm_kenc_u32(at, r->npages);
    at = rvm_kenc_u64(at, r->hpa);
    at = rvm_kenc_u64(at, r->ipa);
    at = rvm_kenc_u32(at, r->source);
    at = rvm_kenc_u32(at, r->source_generation);
    at = rvm_kenc_u32(at, r->shares);
    at = rvm_kenc_u32(at, r->image_len);
    rvm_memcpy(at, r->checkpoint, sizeof(r->checkpoint));
    at += sizeof(r->checkpoint);
    return (size_t)(at - out) + rvm_kernel__encode_kreg(kr, RVM_KENC_LEAF, at);
}

/* The channel, then its queued messages oldest first, each header with its payload. */
static void leaf_chan(struct rvm_sha256_ctx *c, const struct rvm_kernel *k, uint32_t i,
                      uint8_t *buf, size_t n)
{
    const struct rvm_kchan *ch = &k->chans[i];
    n += rvm_kernel__encode_chan(ch, RVM_KENC_LEAF, buf + n);
    const uint32_t count = ch->count <= k->cfg.queue_depth ? ch->count : k->cfg.queue_depth;
    for (uint32_t j = 0; j < count; j++) { /* bound: queue_depth */
        const uint32_t at = (ch->head + j) % k->cfg.queue_depth;
        const size_t m = (size_t)i * k->cfg.queue_depth + at;
        const struct rvm_kmsg *msg = &k->msgs[m];
        const uint32_t len = msg->len <= k->cfg.msg_bytes ? msg->len : k->cfg.msg_bytes;
        n += rvm_kernel__encode_msg(msg, buf + n);
        rvm_sha256_update(c, buf, n);
        n = 0;
        rvm_sha256_update(c, k->msg_data + m * k->cfg.msg_bytes, len);
    }
    rvm_sha256_update(c, buf, n);
}

/* The descriptor, then the image's bytes in the store (not only the trusted hash, so a flipped bit
 * in the store shows). */
static void leaf_image(struct rvm_sha256_ctx *c, const struct rvm_kernel *k,
                       const struct rvm_kimage *im, uint8_t *buf, size_t n)
{
    n += rvm_kernel__encode_image(im, RVM_KENC_LEAF, buf + n);
    rvm_sha256_update(c, buf, n);
    if (im->used && im->off <= k->cfg.image_bytes && im->len <= k->cfg.image_bytes - im->off) {
        rvm_sha256_update(c, k->store + im->off, im->len);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Blank slots: every field a leaf encodes holds the value rvm_kernel_init gives it. Each test pins
 * every encoded field, so exactly one encoding per (table, slot) is blank and its leaf can be the
 * constant zero node without two states sharing a leaf. The buddy table has none: a chunk's
 * initial tags depend on how the free blocks fall.
 * --------------------------------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        any |= p[i];
    }
    return any == 0;
}

static bool words_zero(const uint64_t *w, uint32_t n)
{
    uint64_t any = 0;
    for (uint32_t i = 0; i < n; i++) { /* bound: n */
        any |= w[i];
    }
    return any == 0;
}

static bool no_handle(struct rvm_handle h)
{
    return rvm_handle_pack(h) == rvm_handle_pack(rvm_cap_no_handle());
}

static bool blank_cap(const struct rvm_cap_slot *s, uint32_t i, uint32_t capacity)
{
    const uint32_t next = i + 1u < capacity ? i + 1u : RVM_CAP_NONE;
    return s->generation == 0 && s->type == 0 && s->rights == 0 && s->depth == 0 && s->flags == 0 &&
           rvm_handle_pack(s->object) == 0 && s->owner == 0 && s->cap_hash == 0 && s->epoch == 0 &&
           s->root_epoch == 0 && s->badge == 0 && no_handle(s->parent) &&
           no_handle(s->first_child) && no_handle(s->next_sibling) && no_handle(s->prev_sibling) &&
           s->next_free == next && all_zero(s->mac, RVM_CAP_MAC_BYTES);
}

static bool blank_nonce(const struct rvm_proof_nonce_domain *d)
{
    return d->highest == 0 && words_zero(d->seen, RVM_PROOF_NONCE_WORDS);
}

static bool blank_region(const struct rvm_region *r, const struct rvm_kreg *kr)
{
    return r->generation == 1u && r->used == 0 && r->type == 0 && r->perms == 0 && r->mapped == 0 &&
           r->map_perms == 0 && r->order == 0 && r->tier.tier == 0 && r->tier.accessed == 0 &&
           r->tier.cut_pending == 0 && r->tier.cut == 0 && r->tier.pending_cut == 0 &&
           r->tier.recency == 0 && r->owner == 0 && r->npages == 0 && r->hpa == 0 && r->ipa == 0 &&
           r->source == 0 && r->source_generation == 0 && r->shares == 0 && r->image_len == 0 &&
           all_zero(r->checkpoint, sizeof(r->checkpoint)) && kr->home_ipa == 0 &&
           kr->home_perms == 0 && kr->image == RVM_KERNEL_NONE && kr->ckpt == RVM_KERNEL_NONE;
}

static bool blank_part(const struct rvm_kpart *p)
{
    const struct rvm_vcpu_regs *r = &p->ctx.regs;
    return p->generation == 1u && p->state == 0 && p->flags == 0 && p->urgency == 0 &&
           p->creator == 0 && p->restarts == 0 && p->faults == 0 && p->ckpt == RVM_KERNEL_NONE &&
           p->notifications == 0 && p->affinity == 0 && rvm_handle_pack(p->self_cap) == 0 &&
           p->entry_pc == 0 && words_zero(p->args, RVM_KERNEL_ARGS) && p->ctx.owner == 0 &&
           p->ctx.arch == 0 && r->pc == 0 && r->pstate == 0 && r->fpcr == 0 && r->fpsr == 0 &&
           words_zero(r->gpr, RVM_VCPU_GPRS) && words_zero(r->sys, RVM_VCPU_SYSREGS) &&
           words_zero(r->fp, RVM_VCPU_FPREGS);
}

static bool blank_chan(const struct rvm_kchan *ch)
{
    return ch->generation == 1u && ch->used == 0 && ch->a == 0 && ch->b == 0 && ch->next_seq == 0 &&
           ch->sent == 0 && ch->received == 0 && ch->count == 0;
}

static bool blank_dev(const struct rvm_kdev *d)
{
    return d->generation == 1u && d->used == 0 && d->leased == 0 && d->irq == 0 && d->holder == 0 &&
           no_handle(d->lease_cap) && d->expires_ns == 0 && d->delivered == 0;
}

static bool blank_image(const struct rvm_kimage *im)
{
    return im->used == 0 && im->off == 0 && im->len == 0 && im->kind == 0 && im->part == 0 &&
           im->region == 0 && im->raw_len == 0 && all_zero(im->hash, sizeof(im->hash));
}

static bool leaf_blank(const struct rvm_kernel *k, uint32_t table, uint32_t index)
{
    switch (table) {
    case RVM_KDIGEST_CAPS:
        return blank_cap(&k->caps.slots[index], index, k->caps.capacity);
    case RVM_KDIGEST_NONCES:
        return blank_nonce(&k->nonces.domains[index]);
    case RVM_KDIGEST_BUDDY:
        return false;
    case RVM_KDIGEST_REGIONS:
        return blank_region(&k->regions.slots[index], &k->kregs[index]);
    case RVM_KDIGEST_PARTS:
        return blank_part(&k->parts[index]);
    case RVM_KDIGEST_CHANS:
        return blank_chan(&k->chans[index]);
    case RVM_KDIGEST_DEVS:
        return blank_dev(&k->devs[index]);
    default:
        return blank_image(&k->images[index]);
    }
}

/* The slot's position in its fixed-shape tree binds its index (the root commits to the ordered
 * leaves), so the leaf carries the table id and the slot's fields only. */
void rvm_kernel_digest_leaf(const struct rvm_kernel *k, uint32_t table, uint32_t index,
                            uint8_t out[RVM_KDIGEST_NODE_BYTES])
{
    if (leaf_blank(k, table, index)) {
        rvm_memset(out, 0, NODE);
        return;
    }
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &k->hal->crypto);
    uint8_t buf[LEAF_BUF];
    buf[0] = LEAF_PREFIX;
    buf[1] = (uint8_t)table;
    size_t n = 2;
    switch (table) {
    case RVM_KDIGEST_CAPS:
        n += leaf_cap(&k->caps.slots[index], buf + n);
        break;
    case RVM_KDIGEST_NONCES:
        n += leaf_nonce(&k->nonces.domains[index], buf + n);
        break;
    case RVM_KDIGEST_BUDDY:
        n += leaf_buddy(&k->ram, index, buf + n);
        break;
    case RVM_KDIGEST_REGIONS:
        n += leaf_region(&k->regions.slots[index], &k->kregs[index], buf + n);
        break;
    case RVM_KDIGEST_PARTS: {
        const struct rvm_kpart *p = &k->parts[index];
        n += rvm_kernel__encode_part(p, p->flags, RVM_KENC_LEAF, buf + n);
        rvm_sha256_update(&c, buf, n);
        n = 0;
        rvm_vcpu_hash(&p->ctx, &c);
        break;
    }
    case RVM_KDIGEST_CHANS:
        leaf_chan(&c, k, index, buf, n);
        n = 0;
        break;
    case RVM_KDIGEST_DEVS:
        n += rvm_kernel__encode_dev(&k->devs[index], buf + n);
        break;
    default:
        leaf_image(&c, k, &k->images[index], buf, n);
        n = 0;
        break;
    }
    rvm_sha256_update(&c, buf, n);
    rvm_sha256_final(&c, out);
}

/* ------------------------------------------------------------------------------------------------
 * Trees
 * --------------------------------------------------------------------------------------------- */

/* One SHA-256 compression of left || right from the standard IV, without padding: a node costs
 * one compression instead of the two a padded 64-byte message takes. A leaf is a padded SHA-256
 * digest, a different function, so a leaf cannot be taken for an interior node. */
static void interior(const struct rvm_crypto *crypto, const uint8_t *left, const uint8_t *right,
                     uint8_t out[NODE])
{
    uint8_t block[2u * NODE];
    uint32_t state[RVM_SHA256_STATE_WORDS];
    rvm_memcpy(block, left, NODE);
    rvm_memcpy(block + NODE, right, NODE);
    rvm_sha256_iv(state);
    rvm_crypto_compress(crypto, state, block, 1);
    rvm_sha256_state_bytes(state, out);
}

static uint8_t *node_at(const struct rvm_kdigest_table *tb, uint32_t n)
{
    return tb->nodes + (size_t)n * NODE;
}

/* Node `n` at `height` (>= 1) from its children: an all-blank subtree's root is taken from the
 * table of blank roots, so a tree costs compressions in proportion to its non-blank leaves. */
static void node_from_children(const struct rvm_kernel *k, const struct rvm_kdigest_table *tb,
                               uint32_t n, uint32_t height, uint8_t out[NODE])
{
    const uint8_t *left = node_at(tb, 2u * n);
    const uint8_t *right = node_at(tb, 2u * n + 1u);
    const uint8_t *below = blank_at(&k->digest, height - 1u);
    if (node_equal(left, below) && node_equal(right, below)) {
        rvm_memcpy(out, blank_at(&k->digest, height), NODE);
    } else {
        interior(&k->hal->crypto, left, right, out);
    }
}

/* One step of the store sum: a bijection of the running value for a fixed word and of the word for
 * a fixed running value (xor, multiplication by an odd constant, rotation), so a change confined to
 * one word always changes the sum; the rotation carries high bits into the next multiplication,
 * so changes in two words do not cancel for a simple pattern (as they would in a linear sum). */
static uint64_t mix(uint64_t sum, uint64_t word)
{
    const uint64_t m = (sum ^ word) * 0x100000001b3u;
    return m << 29 | m >> 35;
}

static uint64_t sum_bytes(uint64_t sum, const uint8_t *p, size_t len)
{
    sum = mix(sum, len);
    size_t i = 0;
    for (; i + 8u <= len; i += 8u) { /* bound: len / 8 */
        uint64_t w;
        rvm_memcpy(&w, p + i, 8);
        sum = mix(sum, w);
    }
    for (; i < len; i++) { /* bound: 7 */
        sum = mix(sum, p[i]);
    }
    return sum;
}

uint64_t rvm_kernel_digest_outside_sum(const struct rvm_kernel *k, uint32_t table, uint32_t slot)
{
    uint64_t sum = 0;
    if (table == RVM_KDIGEST_IMAGES) {
        const struct rvm_kimage *im = &k->images[slot];
        if (im->used && im->off <= k->cfg.image_bytes && im->len <= k->cfg.image_bytes - im->off) {
            sum = sum_bytes(sum, k->store + im->off, im->len);
        }
    } else if (table == RVM_KDIGEST_CHANS) {
        /* The payloads leaf_chan hashes, in its order. */
        const struct rvm_kchan *ch = &k->chans[slot];
        const uint32_t depth = k->cfg.queue_depth;
        const uint32_t count = ch->count <= depth ? ch->count : depth;
        for (uint32_t j = 0; j < count; j++) { /* bound: queue_depth */
            const size_t m = (size_t)slot * depth + (ch->head + j) % depth;
            const uint32_t len = k->msgs[m].len;
            sum = sum_bytes(sum, k->msg_data + m * k->cfg.msg_bytes,
                            len <= k->cfg.msg_bytes ? len : k->cfg.msg_bytes);
        }
    }
    return sum;
}

static void note_outside_sum(struct rvm_kernel *k, uint32_t t, uint32_t i)
{
    if (t == RVM_KDIGEST_IMAGES) {
        k->digest.store_sums[i] = rvm_kernel_digest_outside_sum(k, t, i);
    } else if (t == RVM_KDIGEST_CHANS) {
        k->digest.payload_sums[i] = rvm_kernel_digest_outside_sum(k, t, i);
    }
}

/* Every leaf from the state, every interior node from its children (the tree's first digest). */
static void build_table(struct rvm_kernel *k, uint32_t t)
{
    struct rvm_kdigest_table *tb = &k->digest.t[t];
    rvm_memset(tb->nodes, 0, nodes_bytes(tb->count));
    for (uint32_t i = 0; i < tb->count; i++) { /* bound: count */
        rvm_kernel_digest_leaf(k, t, i, node_at(tb, tb->span + i));
        shadow_take(k, t, i);
        note_outside_sum(k, t, i);
    }
    uint32_t height = 1;
    for (uint32_t w = tb->span >> 1; w >= 1u; w >>= 1) { /* bound: log2(span) levels */
        for (uint32_t n = w; n < 2u * w; n++) {          /* bound: w */
            node_from_children(k, tb, n, height, node_at(tb, n));
        }
        height++;
    }
}

/* Recompute the path above leaf node `n` up to, not including, the first ancestor it shares with
 * leaf node `next` (0: none, up to the root). Leaves are visited in ascending order, so a shared
 * ancestor is computed once, by the climb of the last changed leaf below it. */
static void climb(struct rvm_kernel *k, const struct rvm_kdigest_table *tb, uint32_t n,
                  uint32_t next)
{
    uint32_t height = 0;
    while (n > 1u) { /* bound: log2(span) */
        n >>= 1;
        next >>= 1;
        height++;
        if (n == next) {
            return;
        }
        node_from_children(k, tb, n, height, node_at(tb, n));
    }
}

/* New leaves for slots that changed since the last digest, and the union of their paths to the
 * root. The changed slots come in ascending order from a scan of each segment that resumes where
 * it stopped, so the whole table is read once. */
static void refresh_table(struct rvm_kernel *k, uint32_t t)
{
    struct rvm_kdigest_table *tb = &k->digest.t[t];
    struct changed_scan scan;
    scan_start(k, t, &scan);
    uint32_t pending = 0; /* leaf node whose path waits for the next changed leaf */
    for (uint32_t step = 0; step < tb->count; step++) { /* bound: count */
        const uint32_t i = scan_peek(&scan);
        if (i >= tb->count) {
            break;
        }
        shadow_take(k, t, i);
        scan_past(&scan, i);
        const uint32_t n = tb->span + i;
        rvm_kernel_digest_leaf(k, t, i, node_at(tb, n));
        note_outside_sum(k, t, i);
        if (pending != 0) {
            climb(k, tb, pending, n);
        }
        pending = n;
    }
    if (pending != 0) {
        climb(k, tb, pending, 0);
    }
}

/* ------------------------------------------------------------------------------------------------
 * The top block
 * --------------------------------------------------------------------------------------------- */

/* Bytes of the top block before the scheduler's state: the scalars, the log and the small
 * subsystem headers (at most 32 allocator order heads). */
#define TOP_FIXED_BYTES 384u

static size_t top_fixed(const struct rvm_kernel *k, uint8_t *out)
{
    static const uint8_t tag[] = "rvm-kernel-state-v2";
    rvm_memcpy(out, tag, sizeof(tag) - 1u);
    uint8_t *at = out + sizeof(tag) - 1u;
    at = rvm_kenc_u8(at, k->boot_next);
    rvm_memcpy(at, k->attestation, sizeof(k->attestation));
    at += sizeof(k->attestation);
    at = rvm_kenc_u32(at, k->images_loaded);
    at = rvm_kenc_u64(at, k->epoch);
    at = rvm_kenc_u64(at, k->next_epoch_ns);
    at = rvm_kenc_u32(at, k->recovery_left);
    at = rvm_kenc_u8(at, k->mode_before_recovery);
    at = rvm_kenc_u8(at, k->internal_error);
    at = rvm_kenc_u32(at, k->store_used);
    at = rvm_kenc_u64(at, rvm_witness_count(&k->log));
    rvm_witness_chain_value(&k->log, at);
    at += RVM_WITNESS_CHAIN_BYTES;
    const struct rvm_cap_table *ct = &k->caps;
    at = rvm_kenc_u32(at, ct->capacity);
    at = rvm_kenc_u32(at, ct->live);
    at = rvm_kenc_u32(at, ct->free_head);
    at = rvm_kenc_u32(at, ct->epoch);
    at = rvm_kenc_u32(at, ct->epoch_floor);
    at = rvm_kenc_u32(at, ct->mac_key_len);
    at = rvm_kenc_u32(at, k->nonces.count);
    const struct rvm_buddy *b = &k->ram;
    at = rvm_kenc_u64(at, b->base);
    at = rvm_kenc_u32(at, b->npages);
    at = rvm_kenc_u32(at, b->max_order);
    at = rvm_kenc_u32(at, b->free_pages);
    at = rvm_kenc_u32(at, b->nonempty);
    for (uint32_t o = 0; o <= b->max_order && o <= RVM_BUDDY_ORDER_LIMIT; o++) { /* bound: 32 */
        at = rvm_kenc_u32(at, b->head[o]);
    }
    const struct rvm_region_table *rt = &k->regions;
    at = rvm_kenc_u32(at, rt->capacity);
    at = rvm_kenc_u32(at, rt->count);
    at = rvm_kenc_u64(at, rt->epoch);
    const uint16_t pol[8] = {rt->policy.hot_to_warm,     rt->policy.warm_to_dormant,
                             rt->policy.dormant_to_cold, rt->policy.warm_to_hot,
                             rt->policy.dormant_to_warm, rt->policy.initial_recency,
                             rt->policy.access_boost,    rt->policy.decay_bp};
    for (uint32_t j = 0; j < 8u; j++) { /* bound: 8 */
        rvm_store_le16(at, pol[j]);
        at += 2;
    }
    return (size_t)(at - out);
}

void rvm_kernel_digest_top(const struct rvm_kernel *k,
                           const uint8_t roots[RVM_KDIGEST_TABLES][RVM_KDIGEST_NODE_BYTES],
                           uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &k->hal->crypto);
    uint8_t fixed[TOP_FIXED_BYTES];
    rvm_sha256_update(&c, fixed, top_fixed(k, fixed));
    /* These change at every epoch, so they go in whole. */
    rvm_sched_hash(&k->sched, &c);
    rvm_vmid_hash(&k->vmids, &c);
    if (k->cfg.coherence_nodes != 0) {
        rvm_coherence_hash(&k->coh, &c);
    }
    rvm_sha256_update(&c, &roots[0][0], (size_t)RVM_KDIGEST_TABLES * NODE);
    for (uint32_t i = 0; i < k->cfg.ncpus; i++) { /* bound: ncpus */
        uint8_t cpu[4u + RVM_KERNEL_CTX_BYTES];
        rvm_store_le32(cpu, k->cpus[i].loaded);
        rvm_kernel__ctx_store(&k->cpus[i].frame, cpu + 4);
        rvm_sha256_update(&c, cpu, sizeof(cpu));
    }
    rvm_sha256_final(&c, out);
}

void rvm_kernel_digest_v2(struct rvm_kernel *k, uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    struct rvm_kdigest *d = &k->digest;
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        if (d->primed) {
            refresh_table(k, t);
        } else {
            build_table(k, t);
        }
    }
    d->primed = 1;
    uint8_t roots[RVM_KDIGEST_TABLES][NODE];
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        /* Node 1 is also the only leaf of a one-slot tree and the zero leaf of an empty one. */
        rvm_memcpy(roots[t], node_at(&d->t[t], 1u), NODE);
    }
    rvm_kernel_digest_top(k, roots, out);
}

uint8_t rvm_kernel_state_digest(struct rvm_kernel *k, uint8_t out[16])
{
    if (k->digest.version == 1u) {
        rvm_kernel_digest(k, out);
        return RVM_ACT_STATE_DIGEST;
    }
    uint8_t full[RVM_SHA256_DIGEST_BYTES];
    rvm_kernel_digest_v2(k, full);
    rvm_memcpy(out, full, 16);
    return RVM_ACT_STATE_DIGEST_V2;
}

/* ------------------------------------------------------------------------------------------------
 * The oracle
 * --------------------------------------------------------------------------------------------- */

static bool leaves_agree(const struct rvm_kernel *k, uint32_t t, uint32_t *slot)
{
    const struct rvm_kdigest_table *tb = &k->digest.t[t];
    struct changed_scan scan;
    scan_start(k, t, &scan);
    for (uint32_t i = 0; i < tb->span; i++) { /* bound: span */
        uint8_t fresh[NODE];
        *slot = i;
        if (i < tb->count) {
            if (scan_peek(&scan) == i) {
                scan_past(&scan, i);
                continue; /* the next digest recomputes it */
            }
            rvm_kernel_digest_leaf(k, t, i, fresh);
        } else {
            rvm_memset(fresh, 0, NODE);
        }
        if (!node_equal(fresh, node_at(tb, tb->span + i))) {
            return false;
        }
    }
    return true;
}

static bool nodes_agree(const struct rvm_kernel *k, uint32_t t)
{
    const struct rvm_kdigest_table *tb = &k->digest.t[t];
    uint32_t height = 1;
    for (uint32_t w = tb->span >> 1; w >= 1u; w >>= 1) { /* bound: log2(span) levels */
        for (uint32_t n = w; n < 2u * w; n++) {          /* bound: w */
            uint8_t fresh[NODE];
            node_from_children(k, tb, n, height, fresh);
            if (!node_equal(fresh, node_at(tb, n))) {
                return false;
            }
        }
        height++;
    }
    return true;
}

enum rvm_err rvm_kernel_digest_verify_outside_shadow(const struct rvm_kernel *k, uint32_t *table,
                                                     uint32_t *slot)
{
    const struct rvm_kdigest *d = &k->digest;
    if (d->version != 2u || !d->primed) {
        return RVM_OK;
    }
    static const uint32_t tables[2] = {RVM_KDIGEST_CHANS, RVM_KDIGEST_IMAGES};
    for (uint32_t j = 0; j < 2u; j++) { /* bound: 2 */
        const uint32_t t = tables[j];
        const uint64_t *sums = t == RVM_KDIGEST_CHANS ? d->payload_sums : d->store_sums;
        struct changed_scan scan;
        scan_start(k, t, &scan);
        *table = t;
        for (uint32_t i = 0; i < d->t[t].count; i++) { /* bound: max_channels, max_images */
            *slot = i;
            if (scan_peek(&scan) == i) {
                scan_past(&scan, i); /* the next digest recomputes its leaf and sum */
            } else if (rvm_kernel_digest_outside_sum(k, t, i) != sums[i]) {
                return RVM_ERR_INTERNAL;
            }
        }
    }
    return RVM_OK;
}

enum rvm_err rvm_kernel_digest_verify(const struct rvm_kernel *k, uint32_t *table, uint32_t *slot)
{
    if (k->digest.version != 2u || !k->digest.primed) {
        return RVM_OK;
    }
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) { /* bound: RVM_KDIGEST_TABLES */
        *table = t;
        if (!leaves_agree(k, t, slot)) {
            return RVM_ERR_INTERNAL;
        }
        *slot = UINT32_MAX;
        if (!nodes_agree(k, t)) {
            return RVM_ERR_INTERNAL;
        }
    }
    return RVM_OK;
}
