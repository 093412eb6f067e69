/* SPDX-License-Identifier: MIT */
/*
 * The kernel's cross-subsystem checker can fail: rvm_kernel_check refuses a kernel state with one
 * field corrupted, for each conjunct of the invariants rvm/kernel.h lists above it (partition
 * states agree with the scheduler and the CPUs; nothing names a free or dead object: capability
 * holders and objects, region owners, channel endpoints and queued senders, lease holders and
 * capabilities, VMID bindings, graph nodes, images; allocator conservation; image store
 * accounting), and accepts the same state uncorrupted. RVM_ERR_INTERNAL is the documented answer
 * to a violation.
 *
 * The state is built through the kernel's public operations on the simulated platform; the runner
 * restores it (the kernel struct and its storage area) before every row. The subsystem checkers
 * the kernel check calls first have their own tables in test_checkers.c; a corruption here keeps
 * them satisfied, so the row reaches the kernel's own conjunct. Conjuncts no single corruption
 * can reach are listed with the reason in docs/coverage-checkers.md.
 *
 * Also rvm_kernel_refs, the reference scan: its documented answer for ids outside the partition
 * range, and the references it must report (rvm/kernel.h RVM_KREF_*).
 */
#include "kernel_fixture.h"

#include "rvm/graph.h"

enum { R = RVM_PERM_R, W = RVM_PERM_W };

struct kworld {
    struct kfx *f;
    struct rvm_kernel *k;
    /* partitions: two running, one suspended, one hibernated, one created (never started) */
    struct rvm_handle p, q, s, h, c;
    rvm_partition_id free_id; /* a partition id whose slot is free */
    /* regions: p's DATA (mapped) and IMMUTABLE, s's DATA (mapped), q's and c's DATA (unmapped),
     * h's DATA (Dormant) */
    struct rvm_handle p_data, p_imm, s_data, q_data, c_data, h_data;
    uint32_t free_region;
    struct rvm_handle chan; /* p -> q with two queued messages */
    uint32_t free_chan;
    struct rvm_handle dev, dev2, dev3; /* dev and dev2 leased to p, dev3 registered only */
    uint32_t free_image;               /* an unused image slot */
};

static struct kworld *kworld_new(void)
{
    struct kworld *w = calloc(1, sizeof(*w));
    w->f = kfx_new(NULL);
    struct kfx *f = w->f;
    struct rvm_kernel *k = &f->k;
    w->k = k;
    w->p = kfx_part(f, true);
    w->q = kfx_part(f, true);
    w->s = kfx_part(f, true);
    w->h = kfx_part(f, true);
    w->c = kfx_part(f, false);
    w->p_data = kfx_region(f, w->p, RVM_REGION_DATA, 2, R | W, 0);
    w->p_imm = kfx_region(f, w->p, RVM_REGION_IMMUTABLE, 1, 0, 0);
    w->s_data = kfx_region(f, w->s, RVM_REGION_DATA, 1, R | W, 0);
    w->q_data = kfx_region(f, w->q, RVM_REGION_DATA, 1, 0, 0);
    w->c_data = kfx_region(f, w->c, RVM_REGION_DATA, 1, 0, 0);
    w->h_data = kfx_region(f, w->h, RVM_REGION_DATA, 1, 0, 0);
    struct rvm_handle send_cap;
    assert_int_equal(rvm_kernel_channel_create(k, 0, NULL, w->p, w->q, &w->chan, &send_cap, NULL),
                     RVM_OK);
    struct rvm_kernel_auth a = kfx_auth(send_cap, 0);
    assert_int_equal(rvm_kernel_ipc_send(k, kfx_pid(w->p), &a, w->chan, "hi", 2, 1, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_ipc_send(k, 0, NULL, w->chan, "yo", 2, 2, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_device_register(k, 0, 33, &w->dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_device_register(k, 0, 34, &w->dev2, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_device_register(k, 0, 35, &w->dev3, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(k, 0, NULL, w->dev, w->p, 1000000000, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(k, 0, NULL, w->dev2, w->p, 1000000000, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_partition_checkpoint(k, 0, NULL, w->p), RVM_OK);
    assert_int_equal(rvm_kernel_partition_suspend(k, 0, NULL, w->s), RVM_OK);
    assert_int_equal(rvm_kernel_partition_hibernate(k, 0, NULL, w->h), RVM_OK);
    assert_int_equal(rvm_kernel_schedule(k, 0), RVM_OK);
    w->free_id = 0;
    for (uint32_t i = k->cfg.max_partitions; i-- > 0;) {
        if (k->parts[i].state == RVM_KPART_FREE) {
            w->free_id = i + 1u;
        }
    }
    w->free_region = UINT32_MAX;
    for (uint32_t i = k->regions.capacity; i-- > 0;) {
        if (!k->regions.slots[i].used) {
            w->free_region = i;
        }
    }
    w->free_chan = UINT32_MAX;
    for (uint32_t i = k->cfg.max_channels; i-- > 0;) {
        if (!k->chans[i].used) {
            w->free_chan = i;
        }
    }
    w->free_image = UINT32_MAX;
    for (uint32_t i = k->cfg.max_images; i-- > 0;) {
        if (!k->images[i].used) {
            w->free_image = i;
        }
    }
    assert_true(w->free_id != 0 && w->free_region != UINT32_MAX && w->free_chan != UINT32_MAX &&
                w->free_image != UINT32_MAX);
    /* What the rows rely on, as the operations document it. */
    assert_int_equal(k->parts[w->s.index].state, RVM_KPART_SUSPENDED);
    assert_int_equal(k->parts[w->h.index].state, RVM_KPART_HIBERNATED);
    assert_int_equal(k->parts[w->c.index].state, RVM_KPART_CREATED);
    assert_int_not_equal(k->parts[w->p.index].ckpt, RVM_KERNEL_NONE);
    assert_int_not_equal(k->kregs[w->p_data.index].ckpt, RVM_KERNEL_NONE);
    assert_int_not_equal(k->kregs[w->h_data.index].image, RVM_KERNEL_NONE);
    assert_int_equal(k->chans[w->chan.index].count, 2);
    assert_true(k->devs[w->dev.index].leased && k->devs[w->dev2.index].leased);
    kfx_check(f);
    return w;
}

static void kworld_free(struct kworld *w)
{
    kfx_free(w->f);
    free(w);
}

/* ---- the table runner: the kernel struct and its storage area are the whole state ------------ */

struct kcorruption {
    const char *name;
    void (*mutate)(struct kworld *w);
};

#define KROW(fn)                                                                                   \
    {                                                                                              \
#fn, fn                                                                                    \
    }
/* Change a capability's type and rewrite its P1 check word to match, so that the corruption
 * reaches the kernel's own conjunct instead of rvm_cap_check's check-word comparison. */
static void retype_cap(struct rvm_cap_slot *s, uint8_t type)
{
    s->type = type;
    s->p1_check = rvm_cap_p1_check_word(type, s->rights);
}

#define KCORRUPTION(fn, stmt)                                                                      \
    static void fn(struct kworld *w)                                                               \
    {                                                                                              \
        struct rvm_kernel *k = w->k;                                                               \
        (void)k;                                                                                   \
        stmt;                                                                                      \
    }

static void run_kernel_corruptions(struct kworld *w, const struct kcorruption *rows, size_t nrows)
{
    struct kfx *f = w->f;
    struct rvm_kernel *saved = malloc(sizeof(*saved));
    uint8_t *storage = malloc(f->storage_bytes);
    assert_true(saved != NULL && storage != NULL);
    memcpy(saved, &f->k, sizeof(*saved));
    memcpy(storage, f->storage, f->storage_bytes);
    for (size_t i = 0; i < nrows; i++) {
        memcpy(&f->k, saved, sizeof(*saved));
        memcpy(f->storage, storage, f->storage_bytes);
        enum rvm_err before = rvm_kernel_check(&f->k);
        if (before != RVM_OK) {
            fail_msg("%s: the valid state is refused (%d) before the corruption", rows[i].name,
                     (int)before);
        }
        rows[i].mutate(w);
        enum rvm_err after = rvm_kernel_check(&f->k);
        if (after != RVM_ERR_INTERNAL) {
            fail_msg("%s: rvm_kernel_check answers %d, not RVM_ERR_INTERNAL", rows[i].name,
                     (int)after);
        }
    }
    memcpy(&f->k, saved, sizeof(*saved));
    memcpy(f->storage, storage, f->storage_bytes);
    kfx_check(f);
    free(saved);
    free(storage);
}

#define KRUN(w, rows) run_kernel_corruptions((w), (rows), sizeof(rows) / sizeof((rows)[0]))

#define KPART(h) (k->parts[(h).index])
#define KREG(h)  (k->kregs[(h).index])
#define KCHAN    (k->chans[w->chan.index])
#define KDEV(h)  (k->devs[(h).index])
#define KMSG(j)                                                                                    \
    (k->msgs[(size_t)w->chan.index * k->cfg.queue_depth + (KCHAN.head + (j)) % k->cfg.queue_depth])

/* A VMID nobody owns, bound to the free partition id: the VMID table stays consistent. */
static void bind_vmid_to_free_id(struct kworld *w)
{
    struct rvm_vmid_table *t = &w->k->vmids;
    for (uint32_t v = 1; v < t->nvmids; v++) {
        if (t->slots[v].owner == 0 && t->slots[v].loaded_mask == 0) {
            t->slots[v].owner = w->free_id;
            t->bindings[w->free_id - 1u].vmid = (uint16_t)v;
            t->bindings[w->free_id - 1u].generation = t->slots[v].generation;
            assert_int_equal(rvm_vmid_check(t), RVM_OK);
            return;
        }
    }
    fail_msg("no free VMID");
}

/* Nonce 1 accepted in the free id's domain: highest 1, window bit 1 (rvm_proof_check holds). */
static void accept_nonce_for_free_id(struct kworld *w)
{
    struct rvm_proof_nonce_domain *d = &w->k->nonces.domains[w->free_id];
    d->highest = 1;
    d->seen[0] = 1u << 1;
    assert_int_equal(rvm_proof_check(&w->k->nonces), RVM_OK);
}

static void remove_graph_node(struct kworld *w, rvm_partition_id id)
{
    uint32_t slot = 0;
    assert_int_equal(rvm_graph_find(&w->k->coh.graph, id, &slot), RVM_OK);
    assert_int_equal(rvm_graph_remove_slot(&w->k->coh.graph, slot), RVM_OK);
}

/* A root capability with no derived ones, naming q's region: changing its object or type leaves
 * the capability table's own derivation checks satisfied. */
static struct rvm_cap_slot *q_region_root_cap(struct kworld *w)
{
    struct rvm_cap_table *t = &w->k->caps;
    for (uint32_t i = 0; i < t->capacity; i++) {
        struct rvm_cap_slot *s = &t->slots[i];
        if ((s->generation & 1u) != 0 && s->type == RVM_CAP_TYPE_REGION && s->depth == 0 &&
            rvm_cap_handle_eq(s->object, w->q_data) && s->first_child.index == RVM_CAP_NONE) {
            return s;
        }
    }
    fail_msg("no childless root capability on q's region");
    return NULL;
}

/* An image record no table names, appended at the end of the store (which grows to hold it). */
static struct rvm_kimage *append_image(struct kworld *w, rvm_partition_id part)
{
    struct rvm_kimage *im = &w->k->images[w->free_image];
    im->used = 1;
    im->kind = RVM_KIMAGE_DORMANT;
    im->off = w->k->store_used;
    im->len = 16;
    im->part = part;
    im->region = w->free_region;
    w->k->store_used += 16;
    return im;
}

/* partitions */
KCORRUPTION(kpart_free_but_scheduled, KPART(w->p).state = RVM_KPART_FREE)
KCORRUPTION(kpart_free_with_vmid, bind_vmid_to_free_id(w))
KCORRUPTION(kpart_free_with_graph_node,
            assert_int_equal(rvm_graph_add_node(&k->coh.graph, w->free_id, NULL), RVM_OK))
KCORRUPTION(kpart_free_with_nonces, accept_nonce_for_free_id(w))
KCORRUPTION(kpart_state_unknown, KPART(w->c).state = RVM_KPART_HIBERNATED + 1u)
KCORRUPTION(kpart_creator_dead, KPART(w->c).creator = w->free_id)
KCORRUPTION(kpart_context_other_owner, KPART(w->c).ctx.owner = kfx_pid(w->q))
KCORRUPTION(kpart_context_broken, KPART(w->c).ctx.arch = 0)
KCORRUPTION(kpart_running_not_scheduled, KPART(w->s).state = RVM_KPART_RUNNING)
KCORRUPTION(kpart_scheduled_not_running, KPART(w->p).state = RVM_KPART_SUSPENDED)
KCORRUPTION(kpart_ckpt_past_images, KPART(w->p).ckpt = k->cfg.max_images)
KCORRUPTION(kpart_ckpt_unused_image, KPART(w->p).ckpt = w->free_image)
KCORRUPTION(kpart_ckpt_other_kind, KPART(w->p).ckpt = KREG(w->p_data).ckpt)
KCORRUPTION(kpart_ckpt_other_partition, k->images[KPART(w->p).ckpt].part = kfx_pid(w->q))
KCORRUPTION(kpart_ckpt_names_region, k->images[KPART(w->p).ckpt].region = w->p_data.index)
KCORRUPTION(kpart_without_graph_node, remove_graph_node(w, kfx_pid(w->c)))
KCORRUPTION(kcpu_loaded_not_current, k->cpus[1].loaded = kfx_pid(w->q))
/* capabilities */
KCORRUPTION(kcap_holder_dead, q_region_root_cap(w)->owner = w->free_id)
KCORRUPTION(kcap_object_dead, q_region_root_cap(w)->object.generation += 2u)
KCORRUPTION(kcap_object_of_unmade_type, retype_cap(q_region_root_cap(w), RVM_CAP_TYPE_SCHEDULER))
/* regions */
KCORRUPTION(kreg_free_with_image, k->kregs[w->free_region].image = KREG(w->h_data).image)
KCORRUPTION(kreg_free_with_ckpt, k->kregs[w->free_region].ckpt = KREG(w->p_data).ckpt)
KCORRUPTION(kreg_free_with_home, k->kregs[w->free_region].home_perms = R)
KCORRUPTION(kreg_owner_dead, k->regions.slots[w->q_data.index].owner = w->free_id)
KCORRUPTION(kreg_mapped_owner_hibernated, KPART(w->s).state = RVM_KPART_HIBERNATED)
KCORRUPTION(kreg_home_perms_differ, KREG(w->p_data).home_perms = R)
KCORRUPTION(kreg_home_ipa_differs, KREG(w->p_data).home_ipa += RVM_PAGE_SIZE)
KCORRUPTION(kreg_dormant_without_image, KREG(w->h_data).image = RVM_KERNEL_NONE)
KCORRUPTION(kreg_resident_with_image, KREG(w->q_data).image = KREG(w->h_data).image)
KCORRUPTION(kreg_image_other_kind, KREG(w->h_data).image = KPART(w->p).ckpt)
KCORRUPTION(kreg_image_hash_differs, k->images[KREG(w->h_data).image].hash[0] ^= 1u)
KCORRUPTION(kreg_ckpt_other_kind, KREG(w->p_data).ckpt = KPART(w->p).ckpt)
KCORRUPTION(kreg_resident_owner_hibernated, KPART(w->c).state = RVM_KPART_HIBERNATED)
KCORRUPTION(kreg_page_leaked, k->ram.free_pages--)
/* channels */
KCORRUPTION(kchan_free_with_messages, k->chans[w->free_chan].count = 1)
KCORRUPTION(kchan_free_with_sender, k->chans[w->free_chan].a = kfx_pid(w->p))
KCORRUPTION(kchan_free_with_receiver, k->chans[w->free_chan].b = kfx_pid(w->q))
KCORRUPTION(kchan_sender_dead, KCHAN.a = w->free_id)
KCORRUPTION(kchan_receiver_dead, KCHAN.b = w->free_id)
KCORRUPTION(kchan_over_depth,
            (KCHAN.count = k->cfg.queue_depth + 1u, KCHAN.sent = KCHAN.received + KCHAN.count))
KCORRUPTION(kchan_head_past_depth, KCHAN.head = k->cfg.queue_depth)
KCORRUPTION(kchan_counts_disagree, KCHAN.sent++)
KCORRUPTION(kmsg_sender_dead, KMSG(0).sender = w->free_id)
KCORRUPTION(kmsg_too_long, KMSG(1).len = k->cfg.msg_bytes + 1u)
KCORRUPTION(kmsg_out_of_order, KMSG(1).seq = KMSG(0).seq)
KCORRUPTION(kmsg_from_future, KMSG(1).seq = KCHAN.next_seq)
/* devices */
KCORRUPTION(kdev_unleased_with_holder, KDEV(w->dev3).holder = kfx_pid(w->p))
KCORRUPTION(kdev_leased_unregistered, KDEV(w->dev).used = 0)
KCORRUPTION(kdev_holder_dead, KDEV(w->dev).holder = w->free_id)
KCORRUPTION(kdev_lease_cap_stale, KDEV(w->dev).lease_cap.generation += 2u)
KCORRUPTION(kdev_lease_cap_other_holder, KDEV(w->dev).lease_cap = KPART(w->q).self_cap)
KCORRUPTION(kdev_lease_cap_not_device, KDEV(w->dev).lease_cap = KPART(w->p).self_cap)
KCORRUPTION(kdev_lease_cap_other_device, KDEV(w->dev).lease_cap = KDEV(w->dev2).lease_cap)
/* images */
KCORRUPTION(kimg_past_store, k->images[KPART(w->p).ckpt].len += k->store_used)
KCORRUPTION(kimg_empty, append_image(w, kfx_pid(w->q))->len = 0)
KCORRUPTION(kimg_of_dead_partition, append_image(w, w->free_id))
KCORRUPTION(kimg_overlap, append_image(w, kfx_pid(w->q))->off = k->images[KPART(w->p).ckpt].off)
KCORRUPTION(kimg_store_used_off, k->store_used++)
KCORRUPTION(kimg_store_over_capacity, k->cfg.image_bytes = k->store_used - 1u)
KCORRUPTION(kernel_internal_error, k->internal_error = 1)

static void test_kernel_check(void **state)
{
    (void)state;
    static const struct kcorruption rows[] = {
        KROW(kpart_free_but_scheduled),
        KROW(kpart_free_with_vmid),
        KROW(kpart_free_with_graph_node),
        KROW(kpart_free_with_nonces),
        KROW(kpart_state_unknown),
        KROW(kpart_creator_dead),
        KROW(kpart_context_other_owner),
        KROW(kpart_context_broken),
        KROW(kpart_running_not_scheduled),
        KROW(kpart_scheduled_not_running),
        KROW(kpart_ckpt_past_images),
        KROW(kpart_ckpt_unused_image),
        KROW(kpart_ckpt_other_kind),
        KROW(kpart_ckpt_other_partition),
        KROW(kpart_ckpt_names_region),
        KROW(kpart_without_graph_node),
        KROW(kcpu_loaded_not_current),
        KROW(kcap_holder_dead),
        KROW(kcap_object_dead),
        KROW(kcap_object_of_unmade_type),
        KROW(kreg_free_with_image),
        KROW(kreg_free_with_ckpt),
        KROW(kreg_free_with_home),
        KROW(kreg_owner_dead),
        KROW(kreg_mapped_owner_hibernated),
        KROW(kreg_home_perms_differ),
        KROW(kreg_home_ipa_differs),
        KROW(kreg_dormant_without_image),
        KROW(kreg_resident_with_image),
        KROW(kreg_image_other_kind),
        KROW(kreg_image_hash_differs),
        KROW(kreg_ckpt_other_kind),
        KROW(kreg_resident_owner_hibernated),
        KROW(kreg_page_leaked),
        KROW(kchan_free_with_messages),
        KROW(kchan_free_with_sender),
        KROW(kchan_free_with_receiver),
        KROW(kchan_sender_dead),
        KROW(kchan_receiver_dead),
        KROW(kchan_over_depth),
        KROW(kchan_head_past_depth),
        KROW(kchan_counts_disagree),
        KROW(kmsg_sender_dead),
        KROW(kmsg_too_long),
        KROW(kmsg_out_of_order),
        KROW(kmsg_from_future),
        KROW(kdev_unleased_with_holder),
        KROW(kdev_leased_unregistered),
        KROW(kdev_holder_dead),
        KROW(kdev_lease_cap_stale),
        KROW(kdev_lease_cap_other_holder),
        KROW(kdev_lease_cap_not_device),
        KROW(kdev_lease_cap_other_device),
        KROW(kimg_past_store),
        KROW(kimg_empty),
        KROW(kimg_of_dead_partition),
        KROW(kimg_overlap),
        KROW(kimg_store_used_off),
        KROW(kimg_store_over_capacity),
        KROW(kernel_internal_error),
    };
    struct kworld *w = kworld_new();
    KRUN(w, rows);
    kworld_free(w);
}

/* rvm_kernel_refs: ids outside 1..max_partitions name nothing (0, and a count of 0); a partition
 * with an unmapped region, non-default scheduler attributes, or the scheduler's current slot of a
 * CPU is referenced by each of them. */
static void test_kernel_refs(void **state)
{
    (void)state;
    struct kworld *w = kworld_new();
    struct rvm_kernel *k = w->k;
    uint32_t n = 7;
    assert_int_equal(rvm_kernel_refs(k, 0, &n), 0);
    assert_int_equal(n, 0);
    n = 7;
    assert_int_equal(rvm_kernel_refs(k, k->cfg.max_partitions + 1u, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(rvm_kernel_refs(k, 0, NULL), 0);
    /* c (never started) owns an unmapped region: a REGION reference and no MAPPING one. */
    const uint32_t c_refs = rvm_kernel_refs(k, kfx_pid(w->c), NULL);
    assert_true((c_refs & RVM_KREF_REGION) != 0);
    assert_true((c_refs & RVM_KREF_MAPPING) == 0);
    assert_true((c_refs & RVM_KREF_SCHED) == 0); /* created, never scheduled, default attributes */
    assert_true((c_refs & RVM_KREF_CPU) == 0);
    /* Non-default scheduler attributes alone are a SCHED reference. */
    struct rvm_sched_part saved = k->sched.parts[w->c.index];
    k->sched.parts[w->c.index].flags = RVM_SCHED_F_ALL;
    assert_true((rvm_kernel_refs(k, kfx_pid(w->c), NULL) & RVM_KREF_SCHED) != 0);
    k->sched.parts[w->c.index] = saved;
    k->sched.parts[w->c.index].affinity = 1u;
    assert_true((rvm_kernel_refs(k, kfx_pid(w->c), NULL) & RVM_KREF_SCHED) != 0);
    k->sched.parts[w->c.index] = saved;
    /* The scheduler's current partition of a CPU is a CPU reference even when no frame holds it. */
    rvm_partition_id current = k->sched.cpu[1].current;
    k->sched.cpu[1].current = kfx_pid(w->c);
    assert_true((rvm_kernel_refs(k, kfx_pid(w->c), NULL) & RVM_KREF_CPU) != 0);
    k->sched.cpu[1].current = current;
    assert_int_equal(rvm_kernel_refs(k, kfx_pid(w->c), NULL), c_refs);
    kfx_check(w->f);
    kworld_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_check),
        cmocka_unit_test(test_kernel_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
