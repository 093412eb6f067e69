/* SPDX-License-Identifier: MIT */
/*
 * rvm_kernel_summary: the state fingerprint a "no witness, no mutation" oracle compares around a
 * kernel call. The contract tested field by field: a one-bit change of any field it covers
 * changes it (and undoing the change restores it); what the hot path changes without a record
 * (the scheduler, the CPUs' frames, the "ran" flag, the log's drain position) does not.
 */
#include "kernel_fixture.h"

/* A kernel with one of everything the summary walks: partitions with capabilities and nonce
 * domains, a mapped region, a channel with a queued message, a leased device, a computed cut. */
static struct kfx *populated(void)
{
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    (void)kfx_region(f, a, RVM_REGION_DATA, 1, RVM_PERM_R | RVM_PERM_W, 0);
    struct rvm_handle ch, send_cap;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, b, &ch, &send_cap, NULL), RVM_OK);
    struct rvm_kernel_auth auth = kfx_auth(send_cap, 1);
    uint8_t msg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t seq = 0;
    assert_int_equal(rvm_kernel_ipc_send(&f->k, a.index + 1u, &auth, ch, msg, sizeof(msg), 9, &seq),
                     RVM_OK);
    kfx_advance(f, f->cfg.epoch_ns);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    struct rvm_handle dev, lease;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 40, &dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, b, 1000, &lease), RVM_OK);
    kfx_check(f);
    return f;
}

/* Flip the lowest bit of `field`: the summary must change, and come back when it is undone. */
#define COVERED(f, field)                                                                          \
    do {                                                                                           \
        const uint64_t before_ = rvm_kernel_summary(&(f)->k);                                      \
        const __typeof__(field) saved_ = (field);                                                  \
        (field) = (__typeof__(field))(saved_ ^ 1u);                                                \
        if (rvm_kernel_summary(&(f)->k) == before_) {                                              \
            fail_msg("changing %s left the summary as it was", #field);                            \
        }                                                                                          \
        (field) = saved_;                                                                          \
        assert_true(rvm_kernel_summary(&(f)->k) == before_);                                       \
    } while (0)

/* Change `field` (by `change`): the summary must stay as it was. */
#define LEFT_OUT(f, field, change)                                                                 \
    do {                                                                                           \
        const uint64_t before_ = rvm_kernel_summary(&(f)->k);                                      \
        const __typeof__(field) saved_ = (field);                                                  \
        (field) = (__typeof__(field))(saved_ ^ (change));                                          \
        if (rvm_kernel_summary(&(f)->k) != before_) {                                              \
            fail_msg("changing %s changed the summary", #field);                                   \
        }                                                                                          \
        (field) = saved_;                                                                          \
    } while (0)

static uint32_t first_live_cap(const struct kfx *f, uint32_t from)
{
    for (uint32_t i = from; i < f->k.caps.capacity; i++) {
        if ((f->k.caps.slots[i].generation & 1u) != 0) {
            return i;
        }
    }
    fail_msg("no live capability at or after slot %u", from);
    return 0;
}

static void test_kernel_scalars_and_log(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    COVERED(f, k->boot_next);
    COVERED(f, k->images_loaded);
    COVERED(f, k->internal_error);
    COVERED(f, k->mode_before_recovery);
    COVERED(f, k->epoch);
    COVERED(f, k->next_epoch_ns);
    COVERED(f, k->recovery_left);
    COVERED(f, k->store_used);
    COVERED(f, k->log.appended);
    COVERED(f, k->log.chain[0]);
    COVERED(f, k->log.chain[7]);
    kfx_free(f);
}

static void test_capabilities_and_nonces(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    COVERED(f, k->caps.live);
    COVERED(f, k->caps.free_head);
    COVERED(f, k->caps.epoch);
    COVERED(f, k->caps.epoch_floor);
    /* every live slot, not only the first: a loop bound that stops early shows here */
    uint32_t checked = 0;
    for (uint32_t i = first_live_cap(f, 0); i < k->caps.capacity; i++) {
        struct rvm_cap_slot *c = &k->caps.slots[i];
        if ((c->generation & 1u) == 0) {
            continue;
        }
        COVERED(f, c->generation);
        COVERED(f, c->owner);
        COVERED(f, c->type);
        COVERED(f, c->rights);
        COVERED(f, c->depth);
        COVERED(f, c->flags);
        COVERED(f, c->object.index);
        COVERED(f, c->object.generation);
        COVERED(f, c->parent.index);
        COVERED(f, c->first_child.index);
        COVERED(f, c->next_sibling.index);
        COVERED(f, c->badge);
        COVERED(f, c->epoch);
        checked++;
    }
    assert_true(checked >= 4);
    assert_true(k->nonces.count >= 2);
    for (uint32_t i = 0; i < k->nonces.count; i++) {
        COVERED(f, k->nonces.domains[i].highest);
    }
    kfx_free(f);
}

static void test_allocator_and_regions(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    COVERED(f, k->ram.free_pages);
    COVERED(f, k->ram.nonempty);
    for (uint32_t o = 0; o <= k->ram.max_order; o++) {
        COVERED(f, k->ram.head[o]);
    }
    COVERED(f, k->regions.count);
    COVERED(f, k->regions.epoch);
    uint32_t mapped = 0;
    for (uint32_t i = 0; i < k->regions.capacity; i++) {
        struct rvm_region *r = &k->regions.slots[i];
        COVERED(f, r->generation);
        COVERED(f, r->used);
        if (!r->used) {
            continue;
        }
        mapped += r->mapped;
        COVERED(f, r->mapped);
        COVERED(f, r->map_perms);
        COVERED(f, r->tier.tier);
        COVERED(f, r->owner);
        COVERED(f, r->npages);
        COVERED(f, r->hpa);
        COVERED(f, r->ipa);
        COVERED(f, r->shares);
        COVERED(f, r->image_len);
        COVERED(f, r->tier.cut);
        COVERED(f, r->tier.recency);
        COVERED(f, r->tier.pending_cut);
        COVERED(f, r->perms);
        COVERED(f, k->kregs[i].home_ipa);
        COVERED(f, k->kregs[i].home_perms);
        COVERED(f, k->kregs[i].image);
        COVERED(f, k->kregs[i].ckpt);
    }
    assert_true(mapped >= 1);
    kfx_free(f);
}

static void test_partitions_channels_devices_coherence(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    for (uint32_t i = 0; i < k->cfg.max_partitions; i++) {
        struct rvm_kpart *p = &k->parts[i];
        COVERED(f, p->generation);
        COVERED(f, p->state);
        COVERED(f, p->urgency);
        if (p->state == RVM_KPART_FREE) {
            continue;
        }
        COVERED(f, p->creator);
        COVERED(f, p->restarts);
        COVERED(f, p->faults);
        COVERED(f, p->ckpt);
        COVERED(f, p->notifications);
        COVERED(f, p->affinity);
        COVERED(f, p->self_cap.index);
    }
    uint32_t queued = 0;
    for (uint32_t i = 0; i < k->cfg.max_channels; i++) {
        struct rvm_kchan *c = &k->chans[i];
        COVERED(f, c->generation);
        COVERED(f, c->used);
        if (!c->used) {
            continue;
        }
        queued += c->count;
        COVERED(f, c->a);
        COVERED(f, c->b);
        COVERED(f, c->head);
        COVERED(f, c->count);
        COVERED(f, c->next_seq);
        COVERED(f, c->sent);
        COVERED(f, c->received);
    }
    assert_int_equal(queued, 1);
    uint32_t leased = 0;
    for (uint32_t i = 0; i < k->cfg.max_devices; i++) {
        struct rvm_kdev *d = &k->devs[i];
        leased += d->leased;
        COVERED(f, d->generation);
        COVERED(f, d->used);
        COVERED(f, d->leased);
        COVERED(f, d->holder);
        COVERED(f, d->irq);
        COVERED(f, d->expires_ns);
        COVERED(f, d->delivered);
        COVERED(f, d->lease_cap.index);
    }
    assert_int_equal(leased, 1);
    assert_true(k->cfg.coherence_nodes != 0);
    COVERED(f, k->coh.graph.live);
    COVERED(f, k->coh.graph.edges);
    COVERED(f, k->coh.epoch);
    COVERED(f, k->coh.degraded);
    COVERED(f, k->coh.have_cut);
    COVERED(f, k->coh.cut.value);
    COVERED(f, k->coh.cut_epoch);
    kfx_free(f);
}

/* What changes on the hot path without a record (DC-10), or by the sink, is not protected. */
static void test_hot_path_state_left_out(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    LEFT_OUT(f, k->parts[0].flags, RVM_KPART_F_RAN);
    LEFT_OUT(f, k->cpus[0].loaded, 1u);
    LEFT_OUT(f, k->cpus[0].frame.gpr[0], 1u);
    LEFT_OUT(f, k->cpus[0].switches, 1u);
    LEFT_OUT(f, k->parts[0].ctx.regs.pc, 4u);
    LEFT_OUT(f, k->vmids.stats.invalidations, 1u);
    /* the sink taking records moves the drain position only */
    const uint64_t before = rvm_kernel_summary(k);
    assert_true(k->log.drained < k->log.appended);
    assert_int_equal(rvm_witness_flush(&k->log), RVM_OK);
    assert_true(k->log.drained == k->log.appended);
    assert_true(rvm_kernel_summary(k) == before);
    /* a time slice that dispatches what already runs there records nothing and changes nothing
     * the summary covers (the first slice on that CPU was witnessed) */
    assert_int_equal(rvm_kernel_schedule(k, 0), RVM_OK);
    const uint64_t dispatched = rvm_kernel_summary(k);
    const uint64_t records = k->log.appended;
    assert_int_equal(rvm_kernel_schedule(k, 0), RVM_OK);
    assert_true(k->log.appended == records);
    assert_true(rvm_kernel_summary(k) == dispatched);
    kfx_free(f);
}

/* Without the capability slots: a slot's field leaves it as it was (the caller compares the slots
 * itself), the table's own counters still change it, and the rest is the full summary's. */
static void test_without_capability_slots(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    assert_true(rvm_kernel_summary_ex(k, RVM_KSUMMARY_ALL) == rvm_kernel_summary(k));
    const uint64_t before = rvm_kernel_summary_ex(k, RVM_KSUMMARY_NO_CAP_SLOTS);
    assert_true(before != rvm_kernel_summary(k));
    struct rvm_cap_slot *c = &k->caps.slots[first_live_cap(f, 0)];
    c->owner ^= 1u;
    c->badge ^= 1u;
    assert_true(rvm_kernel_summary_ex(k, RVM_KSUMMARY_NO_CAP_SLOTS) == before);
    c->owner ^= 1u;
    c->badge ^= 1u;
    k->caps.live ^= 1u;
    assert_true(rvm_kernel_summary_ex(k, RVM_KSUMMARY_NO_CAP_SLOTS) != before);
    k->caps.live ^= 1u;
    k->regions.slots[0].generation ^= 2u;
    assert_true(rvm_kernel_summary_ex(k, RVM_KSUMMARY_NO_CAP_SLOTS) != before);
    k->regions.slots[0].generation ^= 2u;
    assert_true(rvm_kernel_summary_ex(k, RVM_KSUMMARY_NO_CAP_SLOTS) == before);
    kfx_free(f);
}

/* Without the region slots: a region's or its kernel record's field leaves it as it was, the
 * table's count and epoch still change it; both parts left out together. */
static void test_without_region_slots(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    const uint32_t none = RVM_KSUMMARY_NO_REGION_SLOTS;
    const uint32_t both = RVM_KSUMMARY_NO_CAP_SLOTS | RVM_KSUMMARY_NO_REGION_SLOTS;
    const uint64_t before = rvm_kernel_summary_ex(k, none);
    const uint64_t before_both = rvm_kernel_summary_ex(k, both);
    const uint64_t full = rvm_kernel_summary(k);
    assert_true(before != rvm_kernel_summary(k) && before_both != before);
    uint32_t used = 0;
    while (!k->regions.slots[used].used) {
        used++;
    }
    k->regions.slots[used].hpa ^= 0x1000u;
    k->kregs[used].home_ipa ^= 0x1000u;
    assert_true(rvm_kernel_summary_ex(k, none) == before);
    assert_true(rvm_kernel_summary_ex(k, both) == before_both);
    assert_true(rvm_kernel_summary(k) != full);
    k->regions.slots[used].hpa ^= 0x1000u;
    k->kregs[used].home_ipa ^= 0x1000u;
    k->regions.count ^= 1u;
    assert_true(rvm_kernel_summary_ex(k, none) != before);
    assert_true(rvm_kernel_summary_ex(k, both) != before_both);
    k->regions.count ^= 1u;
    k->caps.slots[first_live_cap(f, 0)].owner ^= 1u;
    assert_true(rvm_kernel_summary_ex(k, none) != before);
    assert_true(rvm_kernel_summary_ex(k, both) == before_both);
    k->caps.slots[first_live_cap(f, 0)].owner ^= 1u;
    kfx_free(f);
}

static void state_hash(const struct rvm_kernel *k, uint32_t flags, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &k->hal->crypto);
    rvm_kernel_hash_ex(k, &c, flags);
    rvm_sha256_final(&c, out);
}

/* Flips a field of a capability slot, of each table header and of a region with its kreg (a second
 * call undoes it). */
static void flip_caps_regions(struct rvm_kernel *k, struct rvm_cap_slot *c, uint32_t used)
{
    c->owner ^= 1u;
    k->caps.live ^= 1u;
    k->caps.mac_key_len ^= 1u;
    k->regions.slots[used].hpa ^= 0x1000u;
    k->regions.count ^= 1u;
    k->regions.policy.decay_bp ^= 1u;
    k->kregs[used].home_ipa ^= 0x1000u;
}

/* rvm_kernel_hash_ex without the capability and region tables (which the oracle compares byte for
 * byte): their slots, their headers and the kregs leave it as it was; everything else (here a
 * partition's notification count) still changes it, alone and with the scheduler left out. */
static void test_hash_without_caps_and_regions(void **state)
{
    (void)state;
    struct kfx *f = populated();
    struct rvm_kernel *k = &f->k;
    const uint32_t flag = RVM_KHASH_NO_CAPS_REGIONS;
    const uint32_t with_sched = RVM_KHASH_NO_CAPS_REGIONS | RVM_KHASH_NO_SCHED;
    uint8_t all[32], before[32], before_sched[32], now[32];
    state_hash(k, RVM_KHASH_ALL, all);
    state_hash(k, flag, before);
    state_hash(k, with_sched, before_sched);
    assert_memory_not_equal(all, before, 32);
    uint32_t used = 0;
    while (!k->regions.slots[used].used) {
        used++;
    }
    struct rvm_cap_slot *c = &k->caps.slots[first_live_cap(f, 0)];
    flip_caps_regions(k, c, used);
    state_hash(k, flag, now);
    assert_memory_equal(now, before, 32);
    state_hash(k, with_sched, now);
    assert_memory_equal(now, before_sched, 32);
    state_hash(k, RVM_KHASH_ALL, now);
    assert_memory_not_equal(now, all, 32);
    flip_caps_regions(k, c, used);
    state_hash(k, RVM_KHASH_ALL, now);
    assert_memory_equal(now, all, 32);
    k->parts[0].notifications ^= 1u;
    state_hash(k, flag, now);
    assert_memory_not_equal(now, before, 32);
    state_hash(k, with_sched, now);
    assert_memory_not_equal(now, before_sched, 32);
    k->parts[0].notifications ^= 1u;
    kfx_free(f);
}

/* A witnessed operation changes it (the record alone moves the log's position). */
static void test_witnessed_operation_changes_it(void **state)
{
    (void)state;
    struct kfx *f = populated();
    const uint64_t before = rvm_kernel_summary(&f->k);
    const uint64_t records = kfx_count(f);
    (void)kfx_part(f, false);
    assert_true(kfx_count(f) > records);
    assert_true(rvm_kernel_summary(&f->k) != before);
    kfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_scalars_and_log),
        cmocka_unit_test(test_capabilities_and_nonces),
        cmocka_unit_test(test_allocator_and_regions),
        cmocka_unit_test(test_partitions_channels_devices_coherence),
        cmocka_unit_test(test_hot_path_state_left_out),
        cmocka_unit_test(test_without_capability_slots),
        cmocka_unit_test(test_without_region_slots),
        cmocka_unit_test(test_hash_without_caps_and_regions),
        cmocka_unit_test(test_witnessed_operation_changes_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
