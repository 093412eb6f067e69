/* SPDX-License-Identifier: MIT */
/*
 * The incremental state digest (version 2) against a from-scratch model built here: the trees are
 * rebuilt with OpenSSL's SHA-256 from leaves (the device and nonce leaves encoded by this file from
 * docs/incremental-state-digest.md, the other leaves taken from rvm_kernel_digest_leaf; every
 * interior node compressed, blank subtrees included), their
 * roots fed to the top block, and the result compared with what the kernel's incremental trees
 * give after runs of operations and epochs. A missed change, a wrong path update or a wrong tree
 * shape shows as a different digest.
 */
#include "kernel_fixture.h"

#include "rvm/bytes.h"

/* SHA256_Transform is deprecated in OpenSSL 3 but still the plain block function. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#define NODE 32u

static uint32_t model_count(const struct rvm_kernel_config *c, uint32_t t)
{
    switch (t) {
    case RVM_KDIGEST_CAPS:
        return c->max_caps;
    case RVM_KDIGEST_NONCES:
        return c->max_partitions + 1u;
    case RVM_KDIGEST_BUDDY:
        return (c->ram_pages + 63u) / 64u;
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

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void put8(struct buf *b, uint8_t v)
{
    b->b[b->n++] = v;
}

static void put32(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        put8(b, (uint8_t)(v >> (8 * i)));
    }
}

static void put64(struct buf *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        put8(b, (uint8_t)(v >> (8 * i)));
    }
}

static bool zero_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

static bool is_no_handle(struct rvm_handle h)
{
    return h.index == RVM_CAP_NONE && h.generation == 0;
}

/* Blank slots as the doc defines them (every encoded field as rvm_kernel_init sets it), written
 * out here for the tables whose encodings are short; -1: not modelled here. */
static int model_blank(const struct rvm_kernel *k, uint32_t t, uint32_t i)
{
    switch (t) {
    case RVM_KDIGEST_CAPS: {
        const struct rvm_cap_slot *s = &k->caps.slots[i];
        const uint32_t next = i + 1 < k->cfg.max_caps ? i + 1 : RVM_CAP_NONE;
        return s->generation == 0 && s->type == 0 && s->rights == 0 && s->depth == 0 &&
               s->flags == 0 && s->object.index == 0 && s->object.generation == 0 &&
               s->owner == 0 && s->cap_hash == 0 && s->epoch == 0 && s->root_epoch == 0 &&
               s->badge == 0 && is_no_handle(s->parent) && is_no_handle(s->first_child) &&
               is_no_handle(s->next_sibling) && is_no_handle(s->prev_sibling) &&
               s->next_free == next && zero_bytes(s->mac, sizeof(s->mac));
    }
    case RVM_KDIGEST_NONCES:
        return zero_bytes(&k->nonces.domains[i], sizeof(k->nonces.domains[i]));
    case RVM_KDIGEST_CHANS: {
        const struct rvm_kchan *c = &k->chans[i];
        return c->generation == 1 && c->used == 0 && c->a == 0 && c->b == 0 && c->next_seq == 0 &&
               c->sent == 0 && c->received == 0 && c->count == 0;
    }
    case RVM_KDIGEST_DEVS: {
        const struct rvm_kdev *d = &k->devs[i];
        return d->generation == 1 && d->used == 0 && d->leased == 0 && d->irq == 0 &&
               d->holder == 0 && is_no_handle(d->lease_cap) && d->expires_ns == 0 &&
               d->delivered == 0;
    }
    case RVM_KDIGEST_IMAGES: {
        const struct rvm_kimage *im = &k->images[i];
        return im->used == 0 && im->off == 0 && im->len == 0 && im->kind == 0 && im->part == 0 &&
               im->region == 0 && im->raw_len == 0 && zero_bytes(im->hash, sizeof(im->hash));
    }
    default:
        return -1;
    }
}

/* The leaf of one slot: devices and nonce domains encoded here, the rest by the core. A blank
 * slot's leaf is 32 zero bytes; no leaf carries its slot index (the tree position does). */
static void model_leaf(const struct rvm_kernel *k, uint32_t t, uint32_t i, uint8_t out[NODE])
{
    struct buf b = {{0}, 0};
    put8(&b, 0x00);
    put8(&b, (uint8_t)t);
    if ((t == RVM_KDIGEST_DEVS || t == RVM_KDIGEST_NONCES) && model_blank(k, t, i) == 1) {
        memset(out, 0, NODE);
        return;
    }
    if (t == RVM_KDIGEST_DEVS) {
        const struct rvm_kdev *d = &k->devs[i];
        put32(&b, d->generation);
        put8(&b, d->used);
        put8(&b, d->leased);
        put32(&b, d->irq);
        put32(&b, d->holder);
        put64(&b, (uint64_t)d->lease_cap.generation << 32 | d->lease_cap.index);
        put64(&b, d->expires_ns);
        put64(&b, d->delivered);
    } else if (t == RVM_KDIGEST_NONCES) {
        const struct rvm_proof_nonce_domain *d = &k->nonces.domains[i];
        put64(&b, d->highest);
        for (uint32_t w = 0; w < RVM_PROOF_NONCE_WORDS; w++) {
            put64(&b, d->seen[w]);
        }
    } else {
        rvm_kernel_digest_leaf(k, t, i, out);
        return;
    }
    SHA256(b.b, b.n, out);
}

/* An interior node: one SHA-256 compression of left || right from the standard IV, no padding
 * (OpenSSL's block function, deprecated as an API but the reference here). */
static void model_compress(const uint8_t block[64], uint8_t out[NODE])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Transform(&c, block);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c.h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c.h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c.h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c.h[i];
    }
}

/* The root of a table: leaves padded with zero nodes to a power of two, interior nodes one
 * compression of left || right, level by level. */
static void model_root(const struct rvm_kernel *k, uint32_t t, uint8_t root[NODE])
{
    const uint32_t n = model_count(&k->cfg, t);
    uint32_t span = 1;
    while (span < n) {
        span *= 2;
    }
    uint8_t(*level)[NODE] = calloc(span, NODE);
    assert_non_null(level);
    for (uint32_t i = 0; i < n; i++) {
        model_leaf(k, t, i, level[i]);
    }
    for (uint32_t w = span; w > 1; w /= 2) {
        for (uint32_t j = 0; j < w / 2; j++) {
            uint8_t in[2 * NODE];
            memcpy(in, level[2 * j], NODE);
            memcpy(in + NODE, level[2 * j + 1], NODE);
            model_compress(in, level[j]);
        }
    }
    memcpy(root, level[0], NODE);
    free(level);
}

static void model_digest(const struct rvm_kernel *k, uint8_t out[32])
{
    uint8_t roots[RVM_KDIGEST_TABLES][NODE];
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) {
        model_root(k, t, roots[t]);
    }
    rvm_kernel_digest_top(k, roots, out);
}

static void assert_digest_matches_model(struct kfx *f)
{
    uint8_t want[32];
    uint8_t got[32];
    model_digest(&f->k, want);
    rvm_kernel_digest_v2(&f->k, got);
    assert_memory_equal(got, want, 32);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
}

static void test_incremental_equals_model(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    assert_int_equal(f->k.digest.version, 2);
    assert_digest_matches_model(f); /* the first digest builds every tree */
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_handle dev;
    struct rvm_handle lease;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 40, &dev, NULL), RVM_OK);
    assert_digest_matches_model(f);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, b, 1000, &lease), RVM_OK);
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, b, &ch, NULL, NULL), RVM_OK);
    static const uint8_t msg[] = "incremental";
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, msg, sizeof(msg), 9, NULL), RVM_OK);
    (void)kfx_region(f, a, RVM_REGION_DATA, 2, 0, 0);
    assert_digest_matches_model(f);
    for (int e = 0; e < 3; e++) {
        kfx_advance(f, f->cfg.epoch_ns);
        assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
        const struct krec d = kfx_last(f);
        assert_int_equal(d.kind, RVM_ACT_STATE_DIGEST_V2);
        assert_digest_matches_model(f);
    }
    assert_int_equal(rvm_kernel_partition_suspend(&f->k, 0, NULL, b), RVM_OK);
    assert_digest_matches_model(f);
    kfx_free(f);
}

/* The blank rule: a slot's core leaf is the zero node exactly when the model calls it blank
 * (fresh kernel, after objects exist, and after they are gone again); regions and partitions
 * are blank in a fresh kernel and not once used. */
static void assert_blank_rule(const struct rvm_kernel *k)
{
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) {
        for (uint32_t i = 0; i < model_count(&k->cfg, t); i++) {
            const int want = model_blank(k, t, i);
            if (want < 0) {
                continue;
            }
            uint8_t leaf[NODE];
            rvm_kernel_digest_leaf(k, t, i, leaf);
            assert_int_equal(zero_bytes(leaf, NODE), want);
        }
    }
}

static void test_blank_leaves(void **state)
{
    (void)state;
    struct kfx *f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, NULL, false); /* not booted */
    uint32_t blank_caps = 0;
    for (uint32_t t = 0; t < RVM_KDIGEST_TABLES; t++) {
        for (uint32_t i = 0; i < model_count(&f->cfg, t); i++) {
            uint8_t leaf[NODE];
            rvm_kernel_digest_leaf(&f->k, t, i, leaf);
            if (t == RVM_KDIGEST_REGIONS || t == RVM_KDIGEST_PARTS) {
                assert_true(zero_bytes(leaf, NODE));
            }
            blank_caps += t == RVM_KDIGEST_CAPS && zero_bytes(leaf, NODE);
        }
    }
    assert_int_equal(blank_caps, f->cfg.max_caps);
    assert_blank_rule(&f->k);
    assert_int_equal(rvm_kernel_boot(&f->k), RVM_OK);
    assert_blank_rule(&f->k);
    struct rvm_handle a = kfx_part(f, true);
    (void)kfx_region(f, a, RVM_REGION_DATA, 2, 0, 0);
    assert_blank_rule(&f->k);
    uint8_t leaf[NODE];
    rvm_kernel_digest_leaf(&f->k, RVM_KDIGEST_PARTS, 0, leaf);
    assert_false(zero_bytes(leaf, NODE));
    rvm_kernel_digest_leaf(&f->k, RVM_KDIGEST_REGIONS, 0, leaf);
    assert_false(zero_bytes(leaf, NODE));
    struct rvm_handle dev;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 40, &dev, NULL), RVM_OK);
    assert_blank_rule(&f->k);
    kfx_free(f);
}

/* A slot changed behind the trees' back (here: by the test) is found by the oracle before a
 * digest, and the next digest follows the state. */
static void test_verify_finds_a_stale_leaf(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    uint8_t d[32];
    rvm_kernel_digest_v2(&f->k, d);
    struct rvm_kdigest_table *tb = &f->k.digest.t[RVM_KDIGEST_DEVS];
    f->k.devs[1].irq = 77;
    memcpy(tb->shadow + tb->shadow_bytes, &f->k.devs[1], sizeof(f->k.devs[1]));
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_DEVS);
    assert_int_equal(slot, 1);
    kfx_free(f);
}

/* An image's bytes changed in the store without the writers' mark are found by the cheap check
 * (and by the whole one); a flip through the kernel, which marks the image, is not a finding. */
static void test_outside_shadow_finds_a_stale_image(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    (void)kfx_region(f, p, RVM_REGION_DATA, 2, 0, 0);
    assert_int_equal(rvm_kernel_partition_checkpoint(&f->k, 0, NULL, p), RVM_OK);
    uint8_t d[32];
    rvm_kernel_digest_v2(&f->k, d);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot), RVM_OK);
    assert_int_equal(rvm_kernel_flip_image_bit(&f->k, 3), RVM_OK);
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot), RVM_OK);
    assert_digest_matches_model(f);
    uint32_t image = UINT32_MAX;
    for (uint32_t i = 0; i < f->cfg.max_images; i++) {
        if (f->k.images[i].used && f->k.images[i].len != 0 && image == UINT32_MAX) {
            image = i;
        }
    }
    assert_true(image != UINT32_MAX);
    f->k.store[f->k.images[image].off] ^= 0x10; /* no mark */
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot),
                     RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_IMAGES);
    assert_int_equal(slot, image);
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_IMAGES);
    kfx_free(f);
}

/* A channel a -> b with one message the hypervisor queued on it. */
static struct rvm_handle channel_with_message(struct kfx *f, struct rvm_handle a,
                                              struct rvm_handle b)
{
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, b, &ch, NULL, NULL), RVM_OK);
    static const uint8_t msg[] = "payload";
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, msg, sizeof(msg), 9, NULL), RVM_OK);
    return ch;
}

/* A queued message's payload changed behind the channel's back is found the same way. */
static void test_outside_shadow_finds_a_stale_payload(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    const struct rvm_handle ch = channel_with_message(f, a, b);
    uint8_t d[32];
    rvm_kernel_digest_v2(&f->k, d);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot), RVM_OK);
    const struct rvm_kchan *c = &f->k.chans[ch.index];
    const size_t m = (size_t)ch.index * f->cfg.queue_depth + c->head;
    f->k.msg_data[m * f->cfg.msg_bytes + 2] ^= 0x01;
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot),
                     RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_CHANS);
    assert_int_equal(slot, ch.index);
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_ERR_INTERNAL);
    assert_int_equal(table, RVM_KDIGEST_CHANS);
    kfx_free(f);
}

/* Version 1 still writes StateDigest (0x7B) records of the full stream. */
static void version1(struct rvm_kernel_config *cfg)
{
    cfg->state_digest = 1;
}

static void test_version1_records(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(version1);
    (void)kfx_part(f, true);
    kfx_advance(f, f->cfg.epoch_ns);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_STATE_DIGEST);
    kfx_free(f);
}

/* ------------------------------------------------------------------------------------------------
 * One field away from blank: the doc's blank rule says a slot's leaf is the zero node only while
 * every encoded field holds its init value, so changing any single field of a free slot must
 * change the digest (and the trees must still agree with the model).
 * --------------------------------------------------------------------------------------------- */

enum field_home { IN_SLOT, IN_KREG };

struct one_field {
    uint32_t table;
    enum field_home home;
    size_t offset;
    const char *name;
};

/* One encoded field: its table, its struct and member, and a name for failure messages. */
#define FIELD(table, home, type, m)                                                                \
    {                                                                                              \
        table, home, offsetof(type, m), #table ": " #m                                             \
    }
#define CAP(m)   FIELD(RVM_KDIGEST_CAPS, IN_SLOT, struct rvm_cap_slot, m)
#define NONCE(m) FIELD(RVM_KDIGEST_NONCES, IN_SLOT, struct rvm_proof_nonce_domain, m)
#define REG(m)   FIELD(RVM_KDIGEST_REGIONS, IN_SLOT, struct rvm_region, m)
#define KREG(m)  FIELD(RVM_KDIGEST_REGIONS, IN_KREG, struct rvm_kreg, m)
#define PART(m)  FIELD(RVM_KDIGEST_PARTS, IN_SLOT, struct rvm_kpart, m)
#define CHAN(m)  FIELD(RVM_KDIGEST_CHANS, IN_SLOT, struct rvm_kchan, m)
#define DEV(m)   FIELD(RVM_KDIGEST_DEVS, IN_SLOT, struct rvm_kdev, m)
#define IMAGE(m) FIELD(RVM_KDIGEST_IMAGES, IN_SLOT, struct rvm_kimage, m)

/* Every field the doc's leaf encodings list, in their order. */
static const struct one_field encoded_fields[] = {
    CAP(generation),
    CAP(type),
    CAP(rights),
    CAP(depth),
    CAP(flags),
    CAP(object.index),
    CAP(object.generation),
    CAP(owner),
    CAP(cap_hash),
    CAP(epoch),
    CAP(root_epoch),
    CAP(badge),
    CAP(parent.index),
    CAP(parent.generation),
    CAP(first_child),
    CAP(next_sibling),
    CAP(prev_sibling),
    CAP(next_free),
    CAP(mac),
    NONCE(highest),
    NONCE(seen),
    REG(generation),
    REG(used),
    REG(type),
    REG(perms),
    REG(mapped),
    REG(map_perms),
    REG(order),
    REG(tier.tier),
    REG(tier.accessed),
    REG(tier.cut_pending),
    REG(tier.cut),
    REG(tier.pending_cut),
    REG(tier.recency),
    REG(owner),
    REG(npages),
    REG(hpa),
    REG(ipa),
    REG(source),
    REG(source_generation),
    REG(shares),
    REG(image_len),
    REG(checkpoint),
    KREG(home_ipa),
    KREG(home_perms),
    KREG(image),
    KREG(ckpt),
    PART(generation),
    PART(state),
    PART(flags),
    PART(urgency),
    PART(creator),
    PART(restarts),
    PART(faults),
    PART(ckpt),
    PART(notifications),
    PART(affinity),
    PART(self_cap),
    PART(entry_pc),
    PART(args),
    PART(ctx.owner),
    PART(ctx.arch),
    PART(ctx.regs.pc),
    PART(ctx.regs.pstate),
    PART(ctx.regs.fpcr),
    PART(ctx.regs.fpsr),
    PART(ctx.regs.gpr),
    PART(ctx.regs.sys),
    PART(ctx.regs.fp),
    CHAN(generation),
    CHAN(used),
    CHAN(a),
    CHAN(b),
    CHAN(next_seq),
    CHAN(sent),
    CHAN(received),
    CHAN(count),
    DEV(generation),
    DEV(used),
    DEV(leased),
    DEV(irq),
    DEV(holder),
    DEV(lease_cap),
    DEV(expires_ns),
    DEV(delivered),
    IMAGE(used),
    IMAGE(off),
    IMAGE(len),
    IMAGE(kind),
    IMAGE(part),
    IMAGE(region),
    IMAGE(raw_len),
    IMAGE(hash),
};

static uint8_t *field_byte(struct rvm_kernel *k, const struct one_field *fd, uint32_t i)
{
    switch (fd->table) {
    case RVM_KDIGEST_CAPS:
        return (uint8_t *)&k->caps.slots[i] + fd->offset;
    case RVM_KDIGEST_NONCES:
        return (uint8_t *)&k->nonces.domains[i] + fd->offset;
    case RVM_KDIGEST_REGIONS:
        return fd->home == IN_KREG ? (uint8_t *)&k->kregs[i] + fd->offset
                                   : (uint8_t *)&k->regions.slots[i] + fd->offset;
    case RVM_KDIGEST_PARTS:
        return (uint8_t *)&k->parts[i] + fd->offset;
    case RVM_KDIGEST_CHANS:
        return (uint8_t *)&k->chans[i] + fd->offset;
    case RVM_KDIGEST_DEVS:
        return (uint8_t *)&k->devs[i] + fd->offset;
    default:
        return (uint8_t *)&k->images[i] + fd->offset;
    }
}

static void test_one_field_is_not_blank(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    uint8_t blank[32];
    rvm_kernel_digest_v2(&f->k, blank);
    assert_digest_matches_model(f);
    for (size_t j = 0; j < sizeof(encoded_fields) / sizeof(encoded_fields[0]); j++) {
        const struct one_field *fd = &encoded_fields[j];
        /* The last slot of each table is free after boot; its leaf starts as the zero node. */
        const uint32_t slot = model_count(&f->cfg, fd->table) - 1u;
        uint8_t leaf[NODE];
        rvm_kernel_digest_leaf(&f->k, fd->table, slot, leaf);
        assert_true(zero_bytes(leaf, NODE));
        uint8_t *at = field_byte(&f->k, fd, slot);
        *at ^= 0x01; /* the lowest byte of the field (or of its first element) */
        print_message("# %s\n", fd->name); /* names the field on a failure */
        rvm_kernel_digest_leaf(&f->k, fd->table, slot, leaf);
        assert_false(zero_bytes(leaf, NODE));
        if (fd->table == RVM_KDIGEST_DEVS || fd->table == RVM_KDIGEST_NONCES) {
            uint8_t want[NODE];
            model_leaf(&f->k, fd->table, slot, want);
            assert_memory_equal(leaf, want, NODE);
        }
        uint8_t d[32];
        rvm_kernel_digest_v2(&f->k, d);
        assert_memory_not_equal(d, blank, 32);
        assert_digest_matches_model(f);
        *at ^= 0x01;
        rvm_kernel_digest_v2(&f->k, d);
        assert_memory_equal(d, blank, 32);
    }
    kfx_free(f);
}

/* The image leaf of the doc, written out here: the descriptor, then the image's bytes when the
 * descriptor's range lies inside the store. */
static void model_image_leaf(const struct rvm_kernel *k, uint32_t i, uint8_t out[NODE])
{
    const struct rvm_kimage *im = &k->images[i];
    struct buf b = {{0}, 0};
    put8(&b, 0x00);
    put8(&b, RVM_KDIGEST_IMAGES);
    put8(&b, im->used);
    put32(&b, im->off);
    put32(&b, im->len);
    put8(&b, im->kind);
    put32(&b, im->part);
    put32(&b, im->region);
    put32(&b, im->raw_len);
    memcpy(b.b + b.n, im->hash, sizeof(im->hash));
    b.n += sizeof(im->hash);
    const uint64_t end = (uint64_t)im->off + im->len;
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, b.b, b.n);
    if (im->used && end <= k->cfg.image_bytes) {
        SHA256_Update(&c, k->store + im->off, im->len);
    }
    SHA256_Final(out, &c);
}

/* A descriptor whose range leaves the store (only a corrupted kernel has one) is hashed without
 * bytes and has no outside sum; the sum of another table than images and channels is zero. */
static void test_image_range_outside_the_store(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    const uint32_t slot = f->cfg.max_images - 1u;
    struct rvm_kimage *im = &f->k.images[slot];
    const uint32_t ranges[][2] = {
        {0, 16},                         /* inside: the first 16 bytes of the store */
        {f->cfg.image_bytes + 1u, 0},    /* starts past the end */
        {16, f->cfg.image_bytes},        /* ends past the end */
        {f->cfg.image_bytes, UINT32_MAX} /* its end wraps in 32 bits */
    };
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        im->used = 1;
        im->off = ranges[r][0];
        im->len = ranges[r][1];
        uint8_t got[NODE];
        uint8_t want[NODE];
        rvm_kernel_digest_leaf(&f->k, RVM_KDIGEST_IMAGES, slot, got);
        model_image_leaf(&f->k, slot, want);
        assert_memory_equal(got, want, NODE);
        if (r != 0) {
            assert_int_equal(rvm_kernel_digest_outside_sum(&f->k, RVM_KDIGEST_IMAGES, slot), 0);
        }
    }
    memset(im, 0, sizeof(*im));
    f->k.caps.slots[0].badge = 42;
    assert_int_equal(rvm_kernel_digest_outside_sum(&f->k, RVM_KDIGEST_CAPS, 0), 0);
    assert_int_equal(rvm_kernel_digest_outside_sum(&f->k, RVM_KDIGEST_DEVS, 0), 0);
    kfx_free(f);
}

/* An interior node changed behind the trees' back (every leaf still right) is a finding of the
 * whole check, reported for its table with no slot. */
static void test_verify_finds_a_corrupted_interior_node(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    uint8_t d[32];
    rvm_kernel_digest_v2(&f->k, d);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
    const uint32_t tables[] = {RVM_KDIGEST_CAPS, RVM_KDIGEST_DEVS, RVM_KDIGEST_IMAGES};
    for (size_t j = 0; j < sizeof(tables) / sizeof(tables[0]); j++) {
        uint8_t *root = f->k.digest.t[tables[j]].nodes + NODE; /* node 1 */
        root[5] ^= 0x80;
        assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_ERR_INTERNAL);
        assert_int_equal(table, tables[j]);
        assert_int_equal(slot, UINT32_MAX);
        root[5] ^= 0x80;
        assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
    }
    kfx_free(f);
}

/* The kernel-internal mark the store writers call; out-of-range indexes and version 1 kernels
 * have nothing to mark. */
void rvm_kernel__digest_touch_image(struct rvm_kernel *k, uint32_t image);

/* Before the first digest and with version 1 there are no trees: both checks have nothing to
 * find, and marking an image changes nothing. */
static void test_checks_without_trees(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(version1);
    uint32_t table = 77;
    uint32_t slot = 77;
    f->k.devs[0].irq ^= 1u; /* would be a finding with trees */
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot), RVM_OK);
    assert_int_equal(table, 77);
    assert_int_equal(slot, 77);
    rvm_kernel__digest_touch_image(&f->k, 0);
    kfx_free(f);

    f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, NULL, false);
    assert_int_equal(f->k.digest.version, 2);
    f->k.devs[0].irq ^= 1u;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
    assert_int_equal(rvm_kernel_digest_verify_outside_shadow(&f->k, &table, &slot), RVM_OK);
    f->k.devs[0].irq ^= 1u;
    assert_int_equal(rvm_kernel_boot(&f->k), RVM_OK);
    uint8_t before[32];
    uint8_t after[32];
    rvm_kernel_digest_v2(&f->k, before);
    const struct rvm_kdigest_table *tb = &f->k.digest.t[RVM_KDIGEST_IMAGES];
    uint8_t *copy = malloc((size_t)tb->count * tb->shadow_bytes);
    assert_non_null(copy);
    memcpy(copy, tb->shadow, (size_t)tb->count * tb->shadow_bytes);
    rvm_kernel__digest_touch_image(&f->k, f->cfg.max_images);
    rvm_kernel__digest_touch_image(&f->k, UINT32_MAX);
    assert_memory_equal(copy, tb->shadow, (size_t)tb->count * tb->shadow_bytes);
    free(copy);
    rvm_kernel_digest_v2(&f->k, after);
    assert_memory_equal(before, after, 32);
    assert_digest_matches_model(f);
    kfx_free(f);
}

/* Without a coherence engine the top block leaves its state out; the trees still match. */
static void no_coherence(struct rvm_kernel_config *cfg)
{
    cfg->coherence_nodes = 0;
}

static void test_no_coherence_engine(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(no_coherence);
    (void)kfx_part(f, true);
    kfx_advance(f, f->cfg.epoch_ns);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_STATE_DIGEST_V2);
    assert_digest_matches_model(f);
    kfx_free(f);
}

/* RAM that is not a whole number of 64-page chunks (nor of 8 pages) leaves a short last buddy
 * leaf; a change in its last pages' tags is seen like any other. */
static void odd_ram(struct rvm_kernel_config *cfg)
{
    cfg->ram_pages -= 3u;
}

static void test_short_last_buddy_chunk(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(odd_ram);
    (void)kfx_part(f, true);
    assert_digest_matches_model(f);
    uint8_t before[32];
    uint8_t changed[32];
    rvm_kernel_digest_v2(&f->k, before);
    uint8_t *tag = &f->k.ram.tags[f->cfg.ram_pages - 1u];
    *tag ^= 0x40;
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK); /* stale: skipped */
    assert_digest_matches_model(f);
    rvm_kernel_digest_v2(&f->k, changed);
    assert_memory_not_equal(before, changed, 32);
    *tag ^= 0x40;
    rvm_kernel_digest_v2(&f->k, changed);
    assert_memory_equal(before, changed, 32);
    kfx_free(f);
}

/* A change confined to a table's second watched array (a region's kreg entry, a buddy chunk's
 * links) is found by the change scan, alone or next to a change in the first array of another slot
 * of the same table, in any order, up to the last slot. */
static void test_changes_in_the_second_watched_array(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    assert_digest_matches_model(f);
    const uint32_t last = f->cfg.max_regions - 1u;
    f->k.kregs[last].home_ipa ^= 0x1000u;
    assert_digest_matches_model(f);
    f->k.kregs[1].home_ipa ^= 0x2000u;
    f->k.regions.slots[3].ipa ^= 0x3000u;
    assert_digest_matches_model(f);
    f->k.regions.slots[0].ipa ^= 0x4000u;
    f->k.kregs[2].home_ipa ^= 0x5000u;
    f->k.kregs[last].home_ipa ^= 0x1000u;
    assert_digest_matches_model(f);
    f->k.ram.links[0].prev ^= 1u;
    f->k.ram.links[f->cfg.ram_pages - 1u].next ^= 1u;
    assert_digest_matches_model(f);
    uint32_t table = 0;
    uint32_t slot = 0;
    assert_int_equal(rvm_kernel_digest_verify(&f->k, &table, &slot), RVM_OK);
    kfx_free(f);
}

static void stream_hash(const struct rvm_kernel *k, uint32_t flags, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &k->hal->crypto);
    rvm_kernel_hash_ex(k, &c, flags);
    rvm_sha256_final(&c, out);
}

/* The version-1 stream, through the encoders it shares with the leaves: a queued message's payload
 * is in both forms of the stream, the scheduler's RAN flag only in the full one. */
static void test_version1_stream_covers_messages_and_the_ran_flag(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    const struct rvm_handle ch = channel_with_message(f, a, b);
    uint8_t all[32];
    uint8_t nosched[32];
    uint8_t now[32];
    stream_hash(&f->k, RVM_KHASH_ALL, all);
    stream_hash(&f->k, RVM_KHASH_NO_SCHED, nosched);
    const size_t m = (size_t)ch.index * f->cfg.queue_depth + f->k.chans[ch.index].head;
    f->k.msg_data[m * f->cfg.msg_bytes + 1] ^= 0x01;
    stream_hash(&f->k, RVM_KHASH_ALL, now);
    assert_memory_not_equal(now, all, 32);
    stream_hash(&f->k, RVM_KHASH_NO_SCHED, now);
    assert_memory_not_equal(now, nosched, 32);
    f->k.msg_data[m * f->cfg.msg_bytes + 1] ^= 0x01;
    f->k.parts[a.index].flags ^= RVM_KPART_F_RAN;
    stream_hash(&f->k, RVM_KHASH_ALL, now);
    assert_memory_not_equal(now, all, 32);
    stream_hash(&f->k, RVM_KHASH_NO_SCHED, now);
    assert_memory_equal(now, nosched, 32);
    kfx_free(f);
}

/* Every slot of a table changed at once: the change scan runs to the table's end. */
/* The change scan skips equal blocks a stretch at a time and then narrows down to the slot: one
 * changed byte anywhere in a slot's register file (which crosses the scan's block boundaries at
 * every alignment between the first and the last partition) must be found, whichever slot it is. */
static void test_a_single_changed_byte_anywhere_is_found(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    assert_digest_matches_model(f);
    const uint32_t slots[2] = {0, f->cfg.max_partitions - 1u};
    for (uint32_t s = 0; s < 2u; s++) {
        uint8_t *regs = (uint8_t *)&f->k.parts[slots[s]].ctx.regs;
        for (size_t b = 0; b < sizeof(struct rvm_vcpu_regs); b++) {
            regs[b] ^= 0x5Au;
            assert_digest_matches_model(f);
        }
    }
    kfx_free(f);
}

static void test_every_slot_of_a_table_changed(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    (void)kfx_part(f, true);
    assert_digest_matches_model(f);
    for (uint32_t i = 0; i < f->cfg.max_devices; i++) {
        f->k.devs[i].irq ^= 0x100u;
    }
    assert_digest_matches_model(f);
    kfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_equals_model),
        cmocka_unit_test(test_verify_finds_a_stale_leaf),
        cmocka_unit_test(test_blank_leaves),
        cmocka_unit_test(test_outside_shadow_finds_a_stale_image),
        cmocka_unit_test(test_outside_shadow_finds_a_stale_payload),
        cmocka_unit_test(test_version1_records),
        cmocka_unit_test(test_one_field_is_not_blank),
        cmocka_unit_test(test_image_range_outside_the_store),
        cmocka_unit_test(test_verify_finds_a_corrupted_interior_node),
        cmocka_unit_test(test_checks_without_trees),
        cmocka_unit_test(test_no_coherence_engine),
        cmocka_unit_test(test_short_last_buddy_chunk),
        cmocka_unit_test(test_changes_in_the_second_watched_array),
        cmocka_unit_test(test_version1_stream_covers_messages_and_the_ran_flag),
        cmocka_unit_test(test_every_slot_of_a_table_changed),
        cmocka_unit_test(test_a_single_changed_byte_anywhere_is_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
