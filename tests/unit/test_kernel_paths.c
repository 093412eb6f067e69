/* SPDX-License-Identifier: MIT */
/*
 * Kernel paths that neither the other kernel tests nor the coverage workload take
 * (docs/evidence.md "Coverage"): the hypercalls that reach their entry point only with valid
 * arguments (the hostile run sets every register, so decode refuses those), platform events
 * before the measured boot, and a configuration with the largest CPU count. Expected values come
 * from the call table of docs/architecture.md ("The hypercall ABI") and rvm/kernel.h.
 */
#include "kernel_fixture.h"

#include "recorder_kernel.h"

#include "rvm/action.h"

#define R RVM_PERM_R
#define W RVM_PERM_W

static enum rvm_err hcall(struct kfx *f, uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    const uint64_t a[7] = {a1, a2, a3, a4, a5, 0, 0};
    return kfx_hcall(f, n, a);
}

/* How many live capabilities `owner` holds naming (type, object). */
static uint32_t caps_on(const struct kfx *f, uint8_t type, struct rvm_handle object,
                        rvm_partition_id owner)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->k.caps.capacity; i++) {
        const struct rvm_cap_slot *c = &f->k.caps.slots[i];
        n += (c->generation & 1u) && c->type == type && c->owner == owner &&
             rvm_cap_handle_eq(c->object, object);
    }
    return n;
}

/* A read-only view for `borrower` of a fresh IMMUTABLE region of `owner`, mapped at `ipa` (0: not
 * mapped). */
static struct rvm_handle view_of_new(struct kfx *f, struct rvm_handle owner,
                                     struct rvm_handle borrower, uint64_t ipa,
                                     struct rvm_handle *source)
{
    *source = kfx_region(f, owner, RVM_REGION_IMMUTABLE, 1, 0, 0);
    struct rvm_handle v;
    assert_int_equal(rvm_kernel_region_share(&f->k, 0, NULL, *source, borrower, R, &v, NULL),
                     RVM_OK);
    if (ipa != 0) {
        assert_int_equal(rvm_kernel_region_map(&f->k, 0, NULL, v, ipa, R), RVM_OK);
    }
    return v;
}

/* The call succeeded and appended one record of `kind` with the caller as actor. */
static void accepted(struct kfx *f, uint64_t n0, uint8_t kind, rvm_partition_id caller)
{
    assert_int_equal(kfx_count(f), n0 + 1u);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, kind);
    assert_int_equal(r.actor, caller);
}

/* Partition lifecycle calls 16..23 on a child the caller created (it holds the child's root). */
static void test_partition_calls(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    kfx_run_on0(f, p);
    uint64_t *x = kfx_regs0(f);
    const uint64_t self = rvm_handle_pack(kfx_p(f, p)->self_cap);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_CREATE, self, 0x3000, 5, 6, 0), RVM_OK);
    const uint64_t child = x[1];
    const uint64_t croot = x[2];
    const struct rvm_handle c = rvm_handle_unpack(child);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_START, child, croot, 0, 0, 0), RVM_OK);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_SUSPEND, child, croot, 0, 0, 0), RVM_OK);
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_SUSPENDED);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_RESUME, child, croot, 0, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_RESUME, kfx_pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_RUNNING);
    /* P2 calls: partition, cap, nonce (each nonce fresh). */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_CHECKPOINT, child, croot, 1, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_CHECKPOINT_CREATED, kfx_pid(p));
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_HIBERNATE, child, croot, 2, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_HIBERNATE, kfx_pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_HIBERNATED);
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_RECONSTRUCT, child, croot, 3, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_RECONSTRUCT, kfx_pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_SUSPENDED);
    /* A split must be justified by the coherence engine's cut; there is none: refused after
     * the gate passed, with no child (x1 keeps the guest's value). */
    n0 = kfx_count(f);
    assert_int_not_equal(hcall(f, RVM_HC_PARTITION_SPLIT, child, croot, 4, 0, 0), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal((kfx_last(f).payload >> 32) & 0xFFu, RVM_ACT_PARTITION_SPLIT);
    assert_int_equal(kfx_last(f).flags, RVM_STAGE_PRECONDITION);
    assert_int_equal(x[1], child);
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_DESTROY, child, croot, 5, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_DESTROY, kfx_pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_FREE);
    kfx_check(f);
    kfx_free(f);
}

/* Capability, region, channel and lease calls 3, 4, 8, 9, 12, 27 on the caller's objects. */
static void test_object_calls(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    kfx_run_on0(f, p);
    uint64_t *x = kfx_regs0(f);
    const uint64_t self = rvm_handle_pack(kfx_p(f, p)->self_cap);
    assert_int_equal(hcall(f, RVM_HC_REGION_CREATE, self, RVM_REGION_DATA, R | W, 1, 0), RVM_OK);
    const struct rvm_handle reg = rvm_handle_unpack(x[1]);
    const uint64_t rcap = x[2];
    const uint64_t ipa = rvm_region_get(&f->k.regions, reg)->hpa;
    assert_int_equal(hcall(f, RVM_HC_REGION_MAP, rvm_handle_pack(reg), rcap, ipa, R | W, 1),
                     RVM_OK);
    assert_true(rvm_region_get(&f->k.regions, reg)->mapped);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_REGION_UNMAP, rvm_handle_pack(reg), rcap, 0, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_REGION_UNMAP, kfx_pid(p));
    assert_false(rvm_region_get(&f->k.regions, reg)->mapped);
    /* Delegate a READ copy to itself, then revoke it with the root as authority. */
    assert_int_equal(hcall(f, RVM_HC_CAP_GRANT, rcap, rvm_handle_pack(p), RVM_CAP_READ, 0, 0),
                     RVM_OK);
    const struct rvm_handle copy = rvm_handle_unpack(x[1]);
    assert_non_null(rvm_cap_get(&f->k.caps, copy));
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_CAP_REVOKE, rcap, rvm_handle_pack(copy), 0, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_CAP_REVOKE, kfx_pid(p));
    assert_int_equal(x[1], 1); /* released: the copy */
    assert_null(rvm_cap_get(&f->k.caps, copy));
    /* Attenuate the root to READ | REVOKE: CAP_INFO shows the new rights. */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_CAP_ATTENUATE, rcap, RVM_CAP_READ | RVM_CAP_REVOKE, 0, 0, 0),
                     RVM_OK);
    accepted(f, n0, RVM_ACT_CAP_ATTENUATE, kfx_pid(p));
    assert_int_equal(hcall(f, RVM_HC_CAP_INFO, rcap, 0, 0, 0, 0), RVM_OK);
    assert_int_equal((x[1] >> 8) & 0xFFu, RVM_CAP_READ | RVM_CAP_REVOKE);
    /* Region destroy is P2 with REVOKE: the attenuated root still carries it. */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_REGION_DESTROY, rvm_handle_pack(reg), rcap, 2, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_REGION_DESTROY, kfx_pid(p));
    assert_null(rvm_region_get(&f->k.regions, reg));
    /* A self-channel destroyed with the capability naming it. */
    assert_int_equal(hcall(f, RVM_HC_CHANNEL_CREATE, rvm_handle_pack(p), self, 0, 0, 0), RVM_OK);
    const struct rvm_handle ch = rvm_handle_unpack(x[1]);
    const struct rvm_handle chcap = kfx_cap(f, RVM_CAP_TYPE_COMM_EDGE, ch, kfx_pid(p));
    n0 = kfx_count(f);
    assert_int_equal(
        hcall(f, RVM_HC_CHANNEL_DESTROY, rvm_handle_pack(ch), rvm_handle_pack(chcap), 0, 0, 0),
        RVM_OK);
    accepted(f, n0, RVM_ACT_COMM_EDGE_DESTROY, kfx_pid(p));
    assert_false(f->k.chans[ch.index].used);
    /* A lease the hypervisor granted it: the lease capability carries READ | WRITE only, and
     * ending a lease needs REVOKE on it or an ancestor, so the holder is refused at P1. */
    struct rvm_handle dev, lease;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 9, &dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, p, 1000000, &lease), RVM_OK);
    n0 = kfx_count(f);
    assert_int_equal(
        hcall(f, RVM_HC_LEASE_REVOKE, rvm_handle_pack(dev), rvm_handle_pack(lease), 0, 0, 0),
        RVM_ERR_CAP_RIGHTS);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_DEVICE_LEASE_REVOKE, RVM_ERR_CAP_RIGHTS, RVM_STAGE_P1);
    assert_non_null(rvm_cap_get(&f->k.caps, lease));
    kfx_check(f);
    kfx_free(f);
}

/* A decode refusal: the call's result, one rejection record of `kind` at stage 1 (decode). */
static void decode_refused(struct kfx *f, enum rvm_err got, enum rvm_err want, uint8_t kind,
                           uint64_t n0)
{
    assert_int_equal(got, want);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, kind, want, RVM_STAGE_DECODE);
}

/* Value ranges decode checks, each from the call table's "Errors beyond the operation's"
 * (docs/architecture.md), on a CPU out of range, and trapped arguments on a CPU nothing runs on. */
static void test_decode_ranges(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    kfx_run_on0(f, p);
    const uint64_t self = rvm_handle_pack(kfx_p(f, p)->self_cap);
    /* REGION_CREATE: type 1..3, perms <= 7, pages 1..RVM_REGION_MAX_PAGES */
    const uint64_t bad_create[][3] = {{0, R | W, 1},
                                      {4, R | W, 1},
                                      {RVM_REGION_DATA, 8, 1},
                                      {RVM_REGION_DATA, R | W, 0},
                                      {RVM_REGION_DATA, R | W, RVM_REGION_MAX_PAGES + 1ull}};
    for (size_t i = 0; i < sizeof(bad_create) / sizeof(bad_create[0]); i++) {
        uint64_t n0 = kfx_count(f);
        decode_refused(f,
                       hcall(f, RVM_HC_REGION_CREATE, self, bad_create[i][0], bad_create[i][1],
                             bad_create[i][2], 0),
                       RVM_ERR_INVALID_ARGUMENT, RVM_ACT_REGION_CREATE, n0);
    }
    /* IPC_RECV: buffer ipa + length overflows */
    uint64_t n0 = kfx_count(f);
    decode_refused(f, hcall(f, RVM_HC_IPC_RECV, 0, 0, UINT64_MAX - 2, 4, 0), RVM_ERR_OVERFLOW,
                   RVM_ACT_IPC_RECEIVE, n0);
    /* LEASE_GRANT (duration in x4) and LEASE_RENEW (in x3): 1 .. max_lease_ns */
    const uint64_t bad_duration[2] = {0, f->cfg.max_lease_ns + 1u};
    for (int i = 0; i < 2; i++) {
        n0 = kfx_count(f);
        decode_refused(f, hcall(f, RVM_HC_LEASE_GRANT, 0, 0, 0, bad_duration[i], 0),
                       RVM_ERR_OUT_OF_RANGE, RVM_ACT_DEVICE_LEASE_GRANT, n0);
        n0 = kfx_count(f);
        decode_refused(f, hcall(f, RVM_HC_LEASE_RENEW, 0, 0, bad_duration[i], 0, 0),
                       RVM_ERR_OUT_OF_RANGE, RVM_ACT_DEVICE_LEASE_RENEW, n0);
    }
    /* a CPU the configuration does not have */
    n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_hypercall(&f->k, f->cfg.ncpus), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_HYPERCALL, RVM_ERR_OUT_OF_RANGE, RVM_STAGE_DECODE);
    /* trapped arguments go nowhere on a CPU nothing runs on, or one out of range */
    const uint64_t regs[8] = {RVM_HC_VERSION, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(f->k.cpus[1].loaded, 0);
    struct rvm_vcpu_regs before = f->k.cpus[1].frame;
    rvm_kernel_trap_args(&f->k, 1, regs);
    assert_memory_equal(&f->k.cpus[1].frame, &before, sizeof(before));
    rvm_kernel_trap_args(&f->k, f->cfg.ncpus, regs);
    kfx_check(f);
    kfx_free(f);
}

/* A partition destroys itself by hypercall: accepted, and the result goes nowhere (docs: "nowhere
 * if it destroyed itself"); the CPU runs nothing afterwards. */
static void test_destroy_self(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    kfx_run_on0(f, p);
    const uint64_t self = rvm_handle_pack(kfx_p(f, p)->self_cap);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_DESTROY, rvm_handle_pack(p), self, 1, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_DESTROY, kfx_pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, p), RVM_KPART_FREE);
    assert_int_equal(f->k.cpus[0].loaded, 0);
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(p), NULL), 0);
    kfx_check(f);
    kfx_free(f);
}

/* Boot to the ROOT_PARTITION phase (image loading) without handing off. */
static void boot_to_images(struct kfx *f)
{
    for (uint32_t phase = 0; phase < RVM_BOOT_ROOT_PARTITION; phase++) {
        assert_int_equal(rvm_kernel_boot_phase(&f->k, phase), RVM_OK);
    }
}

static void boot_load_refused(struct kfx *f, const struct rvm_kernel_image *img, enum rvm_err err,
                              uint8_t stage)
{
    const uint64_t n0 = kfx_count(f);
    const uint64_t loaded = f->k.images_loaded;
    assert_int_equal(rvm_kernel_boot_load(&f->k, img, NULL), err);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_BOOT_ATTESTATION, err, stage);
    assert_int_equal(f->k.images_loaded, loaded);
}

static void five_caps(struct rvm_kernel_config *cfg)
{
    cfg->max_caps = 5;
}

/* Images rvm/kernel.h's struct rvm_kernel_image rules out (no image, no data, longer than
 * RVM_REGION_MAX_PAGES pages, a length that wraps), an affinity naming no configured CPU, more
 * pages than RAM, a load range that wraps, one the platform cannot map (beyond the 39-bit IPA
 * space of the AArch64 stage 2), and one image too many for a five-slot capability table (each
 * takes three: root, self and its code region's; the two left hold a partition but not its
 * region's capability). */
static void test_boot_load_refusals(void **state)
{
    (void)state;
    struct kfx *f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, NULL, false);
    boot_to_images(f);
    static const uint8_t code[16] = {1, 2, 3};
    const struct rvm_kernel_image good = {code, sizeof(code), 0x100000, 0x100000, {0, 0}, 0, 0};
    struct rvm_kernel_image bad = good;
    boot_load_refused(f, NULL, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    bad.data = NULL;
    boot_load_refused(f, &bad, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    bad = good;
    bad.len = (uint64_t)RVM_REGION_MAX_PAGES * KPG + 1u;
    boot_load_refused(f, &bad, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    bad.len = UINT64_MAX;
    boot_load_refused(f, &bad, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_DECODE);
    bad = good;
    bad.affinity = 1ull << 40; /* the kernel has 2 CPUs */
    boot_load_refused(f, &bad, RVM_ERR_INVALID_ARGUMENT, RVM_STAGE_PRECONDITION);
    bad = good;
    bad.len = (uint64_t)f->cfg.ram_pages * KPG + KPG; /* refused before a byte is read */
    boot_load_refused(f, &bad, RVM_ERR_NO_MEMORY, RVM_STAGE_PRECONDITION);
    bad = good;
    bad.load_ipa = 0 - KPG;
    bad.len = 2u * KPG;
    uint8_t *two_pages = calloc(2, KPG);
    bad.data = two_pages;
    boot_load_refused(f, &bad, RVM_ERR_OVERFLOW, RVM_STAGE_DECODE);
    free(two_pages);
    bad = good;
    bad.load_ipa = 1ull << 39;
    const uint64_t n0 = kfx_count(f);
    assert_int_not_equal(rvm_kernel_boot_load(&f->k, &bad, NULL), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_PROOF_REJECTED);
    assert_int_equal(kfx_last(f).flags, RVM_STAGE_PRECONDITION);
    assert_int_equal(f->k.images_loaded, 0);
    /* the good image loads, without asking for its handle */
    assert_int_equal(rvm_kernel_boot_load(&f->k, &good, NULL), RVM_OK);
    assert_int_equal(f->k.images_loaded, 1);
    kfx_free(f);

    f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, five_caps, false);
    boot_to_images(f);
    struct rvm_handle first;
    assert_int_equal(rvm_kernel_boot_load(&f->k, &good, &first), RVM_OK);
    bad = good;
    bad.load_ipa = 0x200000;
    boot_load_refused(f, &bad, RVM_ERR_CAP_TABLE_FULL, RVM_STAGE_PRECONDITION);
    kfx_free(f);
}

/*
 * A split of s over every kind of object docs/architecture.md ("Split and merge") names. The cut:
 * cliques {x1, x2} and {y1, y2}, s talking equally to x1 and y1 (15 messages each way and one
 * queued each way), so s straddles it with local(A) = local(B) = 5000 bp exactly. DC-9 then
 * decides the four equal one-page DATA regions by size(X) alone, in slot order: the first stays
 * (tie), the second moves (B has fewer pages), the third stays, the fourth moves. Partitions z
 * (no traffic) and w (created by s) join after the cut was computed, as do a channel from s to
 * itself and one to z, both without traffic (z has no side in the cut).
 */
static void test_split_every_object_kind(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle x1 = kfx_part(f, true);
    struct rvm_handle x2 = kfx_part(f, true);
    struct rvm_handle s = kfx_part(f, true);
    struct rvm_handle y1 = kfx_part(f, true);
    struct rvm_handle y2 = kfx_part(f, true);
    const struct rvm_handle xx = kfx_traffic(f, x1, x2, 100);
    kfx_traffic(f, y1, y2, 100);
    kfx_traffic(f, s, x1, 15);
    kfx_traffic(f, x1, s, 15);
    kfx_traffic(f, s, y1, 15);
    kfx_traffic(f, y1, s, 15);
    const struct rvm_handle q_sx = kfx_queued(f, s, x1), q_sy = kfx_queued(f, s, y1);
    const struct rvm_handle q_xs = kfx_queued(f, x1, s), q_ys = kfx_queued(f, y1, s);
    /* s's memory */
    struct rvm_handle d[4];
    d[0] = kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x100000);
    d[1] = kfx_region(f, s, RVM_REGION_DATA, 1, 0, 0);
    d[2] = kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x300000);
    d[3] = kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x400000);
    const struct rvm_handle code = kfx_region(f, s, RVM_REGION_CODE, 1, R | RVM_PERM_X, 0x1000);
    const struct rvm_handle imm = kfx_region(f, s, RVM_REGION_IMMUTABLE, 1, R, 0x2000);
    const struct rvm_handle imm_idle = kfx_region(f, s, RVM_REGION_IMMUTABLE, 1, 0, 0);
    /* capabilities s holds on objects of others */
    const struct rvm_handle xr1 = kfx_region(f, x1, RVM_REGION_DATA, 1, 0, 0);
    const struct rvm_handle xr2 = kfx_region(f, x1, RVM_REGION_DATA, 1, 0, 0);
    struct rvm_handle c_xr1, c_xr2, c_chan, c_x1, deep;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(x1),
                                          kfx_cap(f, RVM_CAP_TYPE_REGION, xr1, kfx_pid(x1)), s,
                                          RVM_CAP_READ | RVM_CAP_GRANT, 0, &c_xr1),
                     RVM_OK);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(x1),
                                          kfx_cap(f, RVM_CAP_TYPE_REGION, xr2, kfx_pid(x1)), s,
                                          RVM_CAP_READ, 0, &c_xr2),
                     RVM_OK);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(x1),
                                          kfx_cap(f, RVM_CAP_TYPE_COMM_EDGE, xx, kfx_pid(x1)), s,
                                          RVM_CAP_READ, 0, &c_chan),
                     RVM_OK);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(x1), kfx_p(f, x1)->self_cap, s,
                                          RVM_CAP_READ | RVM_CAP_GRANT, 0, &c_x1),
                     RVM_OK);
    /* a capability on x1 at the deepest derivation level, with GRANT, reaching s through others */
    struct rvm_handle cur = kfx_p(f, x1)->self_cap;
    rvm_partition_id holder = kfx_pid(x1);
    for (int i = 0; i < 16 && rvm_cap_get(&f->k.caps, cur)->depth + 1u < RVM_CAP_MAX_DEPTH; i++) {
        const struct rvm_handle next_holder = (i & 1) ? y2 : x2;
        assert_int_equal(rvm_kernel_cap_grant(&f->k, holder, cur, next_holder,
                                              RVM_CAP_READ | RVM_CAP_GRANT, 0, &deep),
                         RVM_OK);
        cur = deep;
        holder = kfx_pid(next_holder);
    }
    assert_int_equal(
        rvm_kernel_cap_grant(&f->k, holder, cur, s, RVM_CAP_READ | RVM_CAP_GRANT, 0, &deep),
        RVM_OK);
    assert_int_equal(rvm_cap_get(&f->k.caps, deep)->depth, RVM_CAP_MAX_DEPTH);
    /* a device leased to s */
    struct rvm_handle dev, lease;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 9, &dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, s, 1000000000, &lease), RVM_OK);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_true(f->k.coh.have_cut);
    /* after the cut: z, and w created by s (s holds w's root) */
    struct rvm_handle z = kfx_part(f, true);
    struct rvm_kernel_auth sself = kfx_auth(kfx_p(f, s)->self_cap, 0);
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0, 1};
    struct rvm_handle w;
    assert_int_equal(rvm_kernel_partition_create(&f->k, kfx_pid(s), &sself, &req, &w, NULL),
                     RVM_OK);
    const uint32_t s_on_w = caps_on(f, RVM_CAP_TYPE_PARTITION, w, kfx_pid(s));
    assert_true(s_on_w >= 1);
    /* channels without traffic: s to itself, s to z (no side in the cut): neither moves */
    struct rvm_handle ch_self, ch_z;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, s, s, &ch_self, NULL, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, s, z, &ch_z, NULL, NULL), RVM_OK);

    struct rvm_handle child;
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, &child), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_PARTITION_SPLIT);
    assert_int_equal(r.aux & 0xFFFF, 2);         /* d[1] and d[3] */
    assert_int_equal((r.aux >> 16) & 0xFFFF, 4); /* the four channels to the other side */
    assert_int_equal(r.aux >> 48, 5);            /* c_xr1, c_xr2, c_chan, c_x1, deep */
    const rvm_partition_id c = kfx_pid(child);
    /* regions */
    assert_int_equal(rvm_region_get(&f->k.regions, d[0])->owner, kfx_pid(s));
    assert_int_equal(rvm_region_get(&f->k.regions, d[1])->owner, c);
    assert_false(rvm_region_get(&f->k.regions, d[1])->mapped);
    assert_int_equal(rvm_region_get(&f->k.regions, d[2])->owner, kfx_pid(s));
    assert_int_equal(rvm_region_get(&f->k.regions, d[3])->owner, c);
    assert_true(rvm_region_get(&f->k.regions, d[3])->mapped);
    assert_int_equal(rvm_region_get(&f->k.regions, d[3])->ipa, 0x400000);
    assert_true(caps_on(f, RVM_CAP_TYPE_REGION, d[1], c) >= 1);
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_REGION, d[1], kfx_pid(s)), 0);
    assert_int_equal(rvm_region_get(&f->k.regions, code)->owner, kfx_pid(s));
    assert_int_equal(rvm_region_get(&f->k.regions, imm)->owner, kfx_pid(s));
    assert_int_equal(rvm_region_get(&f->k.regions, imm)->shares, 1); /* the child's view */
    assert_int_equal(rvm_region_get(&f->k.regions, imm_idle)->shares, 0);
    /* channels: the ones to the other side moved with their queued messages from s */
    const bool x_moved = f->k.chans[q_sx.index].a == c;
    const struct rvm_handle out_moved = x_moved ? q_sx : q_sy, in_moved = x_moved ? q_xs : q_ys;
    const struct rvm_handle out_kept = x_moved ? q_sy : q_sx;
    assert_int_equal(kfx_oldest_sender(f, out_moved), c);
    assert_int_equal(f->k.chans[in_moved.index].b, c);
    assert_int_equal(kfx_oldest_sender(f, in_moved), x_moved ? kfx_pid(x1) : kfx_pid(y1));
    assert_int_equal(f->k.chans[out_kept.index].a, kfx_pid(s));
    assert_int_equal(f->k.chans[ch_self.index].a, kfx_pid(s));
    assert_int_equal(f->k.chans[ch_self.index].b, kfx_pid(s));
    assert_int_equal(f->k.chans[ch_z.index].a, kfx_pid(s));
    assert_int_equal(kfx_oldest_sender(f, out_kept), kfx_pid(s));
    /* shared objects: s keeps READ; the child gets a READ copy where s could grant (not at the
     * deepest level) */
    assert_int_equal(rvm_cap_get(&f->k.caps, c_xr1)->rights, RVM_CAP_READ);
    assert_int_equal(rvm_cap_get(&f->k.caps, c_xr2)->rights, RVM_CAP_READ);
    assert_int_equal(rvm_cap_get(&f->k.caps, c_chan)->rights, RVM_CAP_READ);
    assert_int_equal(rvm_cap_get(&f->k.caps, c_x1)->rights, RVM_CAP_READ);
    assert_int_equal(rvm_cap_get(&f->k.caps, deep)->rights, RVM_CAP_READ);
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_REGION, xr1, c), 1);
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_REGION, xr2, c), 0);
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_COMM_EDGE, xx, c), 0);
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_PARTITION, x1, c), 1);
    /* what s owns or created stays: w's root, the lease */
    assert_int_equal(caps_on(f, RVM_CAP_TYPE_PARTITION, w, kfx_pid(s)), s_on_w);
    assert_int_equal(rvm_cap_get(&f->k.caps, lease)->owner, kfx_pid(s));
    assert_int_equal(kfx_p(f, w)->creator, kfx_pid(s));
    assert_int_equal(rvm_kernel_partition_state(&f->k, z), RVM_KPART_RUNNING);
    kfx_check(f);
    kfx_free(f);
}

/* Cliques {x1, x2} and {y1, y2} and s talking equally to x1 and y1, the cut computed: s
 * straddles it with pressure 10000 (docs/coherence.md, split rule). Returns s; x1 and x2 in
 * x_out[0..1] (may be NULL). */
static struct rvm_handle straddling(struct kfx *f, struct rvm_handle x_out[2])
{
    struct rvm_handle x1 = kfx_part(f, true);
    struct rvm_handle x2 = kfx_part(f, true);
    struct rvm_handle s = kfx_part(f, true);
    struct rvm_handle y1 = kfx_part(f, true);
    struct rvm_handle y2 = kfx_part(f, true);
    kfx_traffic(f, x1, x2, 100);
    kfx_traffic(f, y1, y2, 100);
    kfx_traffic(f, s, x1, 30);
    kfx_traffic(f, s, y1, 30);
    if (x_out != NULL) {
        x_out[0] = x1;
        x_out[1] = x2;
    }
    return s;
}

static void split_refused(struct kfx *f, struct rvm_handle s, enum rvm_err err)
{
    const uint64_t n0 = kfx_count(f);
    const uint32_t live = f->k.coh.graph.live;
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, NULL), err);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_PARTITION_SPLIT, err, RVM_STAGE_PRECONDITION);
    assert_int_equal(f->k.coh.graph.live, live);
    kfx_check(f);
}

static void tight_tables(struct rvm_kernel_config *cfg)
{
    cfg->max_regions = 4;
    cfg->max_caps = 48;
}

/* A split needs a region slot per view for the child (NO_SPACE) and capability slots for the
 * child's two, its views' and its READ copies (CAP_TABLE_FULL); refused before anything changes,
 * and accepted once there is room. */
static void test_split_room(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(tight_tables);
    struct rvm_handle x[2];
    struct rvm_handle s = straddling(f, x);
    const struct rvm_handle x1 = x[0];
    kfx_region(f, s, RVM_REGION_IMMUTABLE, 1, R, 0x2000); /* the child gets a view of it */
    struct rvm_handle filler[3];
    for (int i = 0; i < 3; i++) {
        filler[i] = kfx_region(f, x1, RVM_REGION_DATA, 1, 0, 0);
    }
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    split_refused(f, s, RVM_ERR_NO_SPACE);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, filler[0]), RVM_OK);
    /* fill the capability table, then free two slots: the child's own two fit, its view's not */
    const struct rvm_handle self = kfx_p(f, x1)->self_cap;
    struct rvm_handle granted[64];
    int n = 0;
    enum rvm_err err = RVM_OK;
    while (n < 64 && err == RVM_OK) {
        err = rvm_kernel_cap_grant(&f->k, kfx_pid(x1), self, x1, RVM_CAP_READ, 0, &granted[n]);
        n += err == RVM_OK;
    }
    assert_int_equal(err, RVM_ERR_CAP_TABLE_FULL);
    assert_true(n >= 3);
    uint32_t released = 0;
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(
            rvm_kernel_cap_revoke(&f->k, 0, rvm_cap_no_handle(), granted[n - i], &released),
            RVM_OK);
    }
    split_refused(f, s, RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(
        rvm_kernel_cap_revoke(&f->k, 0, rvm_cap_no_handle(), granted[n - 3], &released), RVM_OK);
    struct rvm_handle child;
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, &child), RVM_OK);
    assert_int_equal(rvm_kernel_partition_state(&f->k, child), RVM_KPART_RUNNING);
    kfx_check(f);
    kfx_free(f);
}

/* A split that cannot reserve its record (stalled sink, full ring) changes nothing, not even the
 * per-region decisions it keeps in the kregs while it plans; with room again it goes through. */
static void test_split_without_room_leaves_no_decision(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle x[2];
    struct rvm_handle s = straddling(f, x);
    kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x1000);  /* decided: moves to the child */
    kfx_region(f, s, RVM_REGION_IMMUTABLE, 1, R, 0x2000); /* decided: a view for the child */
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    /* Fill the ring over a channel inside one clique, which leaves s straddling the cut. */
    struct rvm_handle ch = kfx_traffic(f, x[0], x[1], 0);
    f->plat.sim.drain_limit = 0;
    enum rvm_err err = RVM_OK;
    char buf[8];
    for (int i = 0; i < 4096 && err != RVM_ERR_WITNESS_FULL; i++) {
        err = rvm_kernel_ipc_send(&f->k, 0, NULL, ch, "t", 1, 0, NULL);
        if (err == RVM_OK) {
            err = rvm_kernel_ipc_receive(&f->k, 0, NULL, ch, buf, sizeof(buf), NULL);
        }
    }
    assert_int_equal(err, RVM_ERR_WITNESS_FULL);
    const uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(kfx_count(f), n0);
    for (uint32_t i = 0; i < f->cfg.max_regions; i++) {
        assert_int_equal(f->k.kregs[i].reserved[0], 0);
    }
    f->plat.sim.drain_limit = UINT64_MAX;
    struct rvm_handle child;
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, &child), RVM_OK);
    kfx_check(f);
    kfx_free(f);
}

static void applying(struct rvm_kernel_config *cfg)
{
    cfg->apply_decisions = 1;
}

/* With apply_decisions the epoch carries out the engine's split recommendation itself (after
 * dwell_epochs, 3 by default): a PartitionSplit record by the hypervisor, a Running child. */
static void test_split_applied_by_the_epoch(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(applying);
    struct rvm_handle s = straddling(f, NULL);
    const uint32_t live = f->k.coh.graph.live;
    for (int e = 0; e < 3; e++) {
        assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    }
    assert_int_equal(f->k.coh.graph.live, live + 1u);
    bool found = false;
    for (uint64_t i = 0; i < kfx_count(f); i++) {
        struct krec r = kfx_rec(f, i);
        if (r.kind == RVM_ACT_PARTITION_SPLIT) {
            assert_int_equal(r.actor, 0);
            assert_int_equal(r.target, rvm_handle_pack(s));
            assert_int_equal(rvm_kernel_partition_state(&f->k, rvm_handle_unpack(r.payload)),
                             RVM_KPART_RUNNING);
            found = true;
        }
    }
    assert_true(found);
    kfx_check(f);
    kfx_free(f);
}

/* Optional out-parameters left NULL (rvm/kernel.h: "may be NULL" / only written when asked), and
 * the entry points refused before the measured boot that the other test does not name. */
static void test_optional_outputs(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 11, NULL, NULL), RVM_OK);
    assert_int_equal(f->k.devs[0].irq, 11);
    struct rvm_handle r;
    assert_int_equal(
        rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DATA, R | W, 1, NULL, NULL), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_CREATE);
    r = kfx_region(f, p, RVM_REGION_IMMUTABLE, 1, 0, 0);
    assert_int_equal(rvm_kernel_region_share(&f->k, 0, NULL, r, q, R, NULL, NULL), RVM_OK);
    assert_int_equal(rvm_region_get(&f->k.regions, r)->shares, 1);
    /* a send of a length with no data is malformed */
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, p, q, &ch, NULL, NULL), RVM_OK);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, NULL, 4, 0, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_IPC_SEND, RVM_ERR_INVALID_ARGUMENT, 0);
    assert_int_equal(f->k.chans[ch.index].count, 0);
    /* revoke every tree rooted before a new epoch (rvm/cap.h: E from floor to current) */
    assert_int_equal(rvm_kernel_cap_epoch_advance(&f->k, 0), RVM_OK);
    const uint32_t old_epoch = f->k.caps.epoch - 1u;
    assert_true(old_epoch >= f->k.caps.epoch_floor);
    assert_int_equal(rvm_kernel_cap_epoch_revoke(&f->k, 0, old_epoch, NULL), RVM_OK);
    assert_int_equal(f->k.caps.epoch_floor, old_epoch + 1u);
    kfx_check(f);
    kfx_free(f);

    f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, NULL, false);
    assert_int_equal(rvm_kernel_core_crash(&f->k), RVM_ERR_NOT_BOOTED);
    const struct rvm_handle none = {0, 1};
    assert_int_equal(rvm_kernel_partition_fault(&f->k, none, RVM_FAULT_CRASH, NULL),
                     RVM_ERR_NOT_BOOTED);
    kfx_free(f);
}

/* Odds and ends: a boot phase after HANDOFF is out of order (rvm/kernel.h: BOOT_ORDER); a timer
 * on a CPU the configuration lacks is refused and changes no CPU; a guest fault without asking
 * for the class; a receive into no buffer with room claimed is malformed. */
static void test_odds_and_ends(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_boot_phase(&f->k, RVM_KERNEL_BOOT_PHASES), RVM_ERR_BOOT_ORDER);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_BOOT_PHASE, RVM_ERR_BOOT_ORDER, RVM_STAGE_DECODE);
    assert_int_not_equal(rvm_kernel_timer(&f->k, f->cfg.ncpus), RVM_OK);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    kfx_run_on0(f, p);
    assert_int_equal(rvm_kernel_guest_fault(&f->k, 0, 0x7FF000000, NULL), RVM_OK);
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, p, q, &ch, NULL, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, "m", 1, 0, NULL), RVM_OK);
    n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_ipc_receive(&f->k, 0, NULL, ch, NULL, 4, NULL),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(kfx_count(f), n0 + 1u);
    assert_int_equal(f->k.chans[ch.index].count, 1); /* the message stays queued */
    kfx_check(f);
    kfx_free(f);
}

/* Every operation that mints a capability needs a free slot for it, checked before anything
 * changes (rvm/kernel.h partition create: CAP_TABLE_FULL; the same for regions, views, devices,
 * leases and the two capabilities of a channel). */
static void test_full_capability_table(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_handle imm = kfx_region(f, p, RVM_REGION_IMMUTABLE, 1, 0, 0);
    struct rvm_handle dev;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 9, &dev, NULL), RVM_OK);
    const struct rvm_handle self = kfx_p(f, p)->self_cap;
    struct rvm_handle last = rvm_cap_no_handle(), g;
    enum rvm_err err = RVM_OK;
    for (uint32_t i = 0; i <= f->cfg.max_caps && err == RVM_OK; i++) {
        err = rvm_kernel_cap_grant(&f->k, kfx_pid(p), self, q, RVM_CAP_READ, i, &g);
        if (err == RVM_OK) {
            last = g;
        }
    }
    assert_int_equal(err, RVM_ERR_CAP_TABLE_FULL);
    uint32_t regions = 0;
    for (uint32_t i = 0; i < f->k.regions.capacity; i++) {
        regions += f->k.regions.slots[i].used;
    }
    uint64_t n0 = kfx_count(f);
    assert_int_equal(
        rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DATA, R | W, 1, NULL, NULL),
        RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(rvm_kernel_region_share(&f->k, 0, NULL, imm, q, R, NULL, NULL),
                     RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 10, NULL, NULL), RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, q, 1000000, NULL),
                     RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(kfx_count(f), n0 + 4u);
    for (uint32_t i = 0; i < f->k.regions.capacity; i++) {
        regions -= f->k.regions.slots[i].used;
    }
    assert_int_equal(regions, 0); /* no region was created */
    assert_int_equal(rvm_region_get(&f->k.regions, imm)->shares, 0);
    /* one slot free: a channel needs two */
    uint32_t released = 0;
    assert_int_equal(rvm_kernel_cap_revoke(&f->k, 0, rvm_cap_no_handle(), last, &released), RVM_OK);
    n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, p, q, NULL, NULL, NULL),
                     RVM_ERR_CAP_TABLE_FULL);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_COMM_EDGE_CREATE, RVM_ERR_CAP_TABLE_FULL, RVM_STAGE_PRECONDITION);
    kfx_check(f);
    kfx_free(f);
}

/* Platform events and calls before the measured boot: NOT_BOOTED, nothing runs. */
static void test_events_before_boot(void **state)
{
    (void)state;
    struct kfx *f = kfx_new_arch(RVM_SIM_ARCH_AARCH64, NULL, false);
    assert_int_equal(rvm_kernel_schedule(&f->k, 0), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_timer(&f->k, 0), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_irq(&f->k, 9), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_cpu_offline(&f->k, 1), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_cpu_online(&f->k, 1), RVM_ERR_NOT_BOOTED);
    assert_int_equal(rvm_kernel_hypercall(&f->k, 0), RVM_ERR_NOT_BOOTED);
    uint32_t cls = 0xEE;
    assert_int_equal(rvm_kernel_guest_fault(&f->k, 0, 0x1000, &cls), RVM_ERR_NOT_BOOTED);
    assert_int_equal(cls, 0xEE);
    assert_int_equal(f->k.cpus[0].loaded, 0);
    kfx_free(f);
}

static void sixty_four_cpus(struct rvm_kernel_config *cfg)
{
    cfg->ncpus = 64;
    cfg->nvmids = 66;
}

/* The largest CPU count: every CPU is in the mask (1 << 64 would overflow), a partition with
 * affinity 0 (any CPU) starts and runs. */
static void test_sixty_four_cpus(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(sixty_four_cpus);
    struct rvm_handle p = kfx_part(f, true);
    assert_int_equal(rvm_kernel_partition_state(&f->k, p), RVM_KPART_RUNNING);
    kfx_run_on0(f, p);
    kfx_check(f);
    kfx_free(f);
}

/* Merge of b into a where b holds views (mapped and not) of c's regions, has an unmapped region
 * and created a partition (docs/architecture.md "Split and merge": B's views are dropped, B's
 * children are adopted by A); first refused while c views a region of b (the region cannot change
 * owner under a view, as for hibernate and region destroy: WRONG_STATE). */
static void test_merge_views_and_children(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_handle c = kfx_part(f, true);
    kfx_traffic(f, a, b, 200);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    struct rvm_handle rb = kfx_region(f, b, RVM_REGION_DATA, 1, R | W, 0x200000);
    struct rvm_handle idle = kfx_region(f, b, RVM_REGION_DATA, 1, 0, 0);
    struct rvm_handle csrc;
    struct rvm_handle bview = view_of_new(f, c, b, 0x300000, &csrc);
    struct rvm_handle csrc2;
    struct rvm_handle bview2 = view_of_new(f, c, b, 0, &csrc2);
    struct rvm_kernel_auth bself = kfx_auth(kfx_p(f, b)->self_cap, 0);
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0, 1};
    struct rvm_handle d;
    assert_int_equal(rvm_kernel_partition_create(&f->k, kfx_pid(b), &bself, &req, &d, NULL),
                     RVM_OK);
    assert_int_equal(kfx_p(f, d)->creator, kfx_pid(b));
    /* c views a region of b: refused before anything changes. */
    struct rvm_handle bsrc;
    struct rvm_handle cview = view_of_new(f, b, c, 0x400000, &bsrc);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ERR_WRONG_STATE);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_PARTITION_MERGE, RVM_ERR_WRONG_STATE, RVM_STAGE_PRECONDITION);
    assert_int_equal(rvm_kernel_partition_state(&f->k, b), RVM_KPART_RUNNING);
    assert_int_equal(rvm_region_get(&f->k.regions, rb)->owner, kfx_pid(b));
    assert_int_equal(rvm_kernel_region_unmap(&f->k, 0, NULL, cview), RVM_OK);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, cview), RVM_OK);
    n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_PARTITION_MERGE);
    /* regions moved: rb, idle and bsrc (the view is not b's region: dropped) */
    assert_int_equal(r.aux & 0xFFFF, 3);
    assert_int_equal(rvm_kernel_partition_state(&f->k, b), RVM_KPART_FREE);
    assert_int_equal(rvm_region_get(&f->k.regions, rb)->owner, kfx_pid(a));
    assert_true(rvm_region_get(&f->k.regions, rb)->mapped);
    assert_int_equal(rvm_region_get(&f->k.regions, idle)->owner, kfx_pid(a));
    assert_false(rvm_region_get(&f->k.regions, idle)->mapped);
    assert_null(rvm_region_get(&f->k.regions, bview));
    assert_null(rvm_region_get(&f->k.regions, bview2));
    assert_int_equal(rvm_region_get(&f->k.regions, csrc2)->shares, 0);
    assert_int_equal(rvm_region_get(&f->k.regions, csrc)->shares, 0);
    assert_int_equal(rvm_region_get(&f->k.regions, csrc)->owner, kfx_pid(c));
    assert_int_equal(kfx_p(f, d)->creator, kfx_pid(a));
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(b), NULL), 0);
    kfx_check(f);
    kfx_free(f);
}

static void no_coherence(struct rvm_kernel_config *cfg)
{
    cfg->coherence_nodes = 0;
}

/* Without the coherence engine there is nothing to justify a merge: UNSUPPORTED. */
static void test_merge_without_coherence(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(no_coherence);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ERR_UNSUPPORTED);
    assert_int_equal(kfx_count(f), n0 + 1u);
    kfx_rejected(f, RVM_ACT_PARTITION_MERGE, RVM_ERR_UNSUPPORTED, RVM_STAGE_PRECONDITION);
    assert_int_equal(rvm_kernel_partition_state(&f->k, b), RVM_KPART_RUNNING);
    kfx_check(f);
    kfx_free(f);
}

/* The platform refuses a stage-2 request of a merge (the map of b's first region into a, then the
 * unmap of its second from b): the merge is refused and what was asked is undone (rvm/kernel.h:
 * "undo what they asked when a later request is refused, so a refusal leaves no trace"); with a
 * full ring it cannot reserve its record; asked again, it goes through. */
static void test_merge_platform_refusal(void **state)
{
    (void)state;
    struct rkfx fx = rkfx_new(1024);
    struct hal_recorder *rec = fx.rec;
    struct rvm_kernel *k = fx.k;
    struct rvm_handle a = rkfx_part(&fx), b = rkfx_part(&fx), rb, ch;
    assert_int_equal(rvm_kernel_partition_start(k, 0, NULL, a), RVM_OK);
    assert_int_equal(rvm_kernel_partition_start(k, 0, NULL, b), RVM_OK);
    assert_int_equal(rvm_kernel_channel_create(k, 0, NULL, a, b, &ch, NULL, NULL), RVM_OK);
    char buf[32];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(rvm_kernel_ipc_send(k, 0, NULL, ch, "t", 1, 0, NULL), RVM_OK);
        assert_int_equal(rvm_kernel_ipc_receive(k, 0, NULL, ch, buf, sizeof(buf), NULL), RVM_OK);
    }
    assert_int_equal(rvm_kernel_epoch(k), RVM_OK);
    assert_int_equal(rvm_kernel_region_create(k, 0, NULL, b, RVM_REGION_DATA, R | W, 1, &rb, NULL),
                     RVM_OK);
    assert_int_equal(rvm_kernel_region_map(k, 0, NULL, rb, 0x20000, R | W), RVM_OK);
    struct rvm_handle rb2;
    assert_int_equal(rvm_kernel_region_create(k, 0, NULL, b, RVM_REGION_DATA, R | W, 1, &rb2, NULL),
                     RVM_OK);
    assert_int_equal(rvm_kernel_region_map(k, 0, NULL, rb2, 0x30000, R | W), RVM_OK);
    /* The map of the first region into a refused: its unmap from b is undone. */
    hal_recorder_clear(rec);
    hal_recorder_fail(rec, HAL_CALL_MAP, 1, RVM_ERR_HAL);
    uint64_t n0 = rvm_witness_count(&k->log);
    assert_int_equal(rvm_kernel_partition_merge(k, 0, NULL, a, NULL, b), RVM_ERR_HAL);
    assert_int_equal(rvm_witness_count(&k->log), n0 + 1u);
    assert_int_equal(rvm_kernel_partition_state(k, b), RVM_KPART_RUNNING);
    assert_int_equal(rvm_region_get(&k->regions, rb)->owner, kfx_pid(b));
    assert_true(rvm_region_get(&k->regions, rb)->mapped);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_UNMAP), 1);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_MAP), 2);
    assert_int_equal(rec->calls[rec->ncalls - 1].kind, HAL_CALL_MAP);
    assert_int_equal(rec->calls[rec->ncalls - 1].partition, kfx_pid(b));
    assert_int_equal(rec->calls[rec->ncalls - 1].ipa, 0x20000);
    assert_int_equal(rvm_kernel_check(k), RVM_OK);
    /* The unmap of the second region from b refused: the first goes back from a to b. */
    hal_recorder_clear(rec);
    hal_recorder_fail_after(rec, HAL_CALL_UNMAP, 1, 1, RVM_ERR_HAL);
    n0 = rvm_witness_count(&k->log);
    assert_int_equal(rvm_kernel_partition_merge(k, 0, NULL, a, NULL, b), RVM_ERR_HAL);
    assert_int_equal(rvm_witness_count(&k->log), n0 + 1u);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_UNMAP), 3); /* rb, rb2 (refused), rb from a */
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_MAP), 2);   /* rb into a, rb back into b */
    assert_int_equal(rec->calls[rec->ncalls - 1].partition, kfx_pid(b));
    assert_int_equal(rec->calls[rec->ncalls - 1].ipa, 0x20000);
    assert_true(rvm_region_get(&k->regions, rb)->mapped);
    assert_true(rvm_region_get(&k->regions, rb2)->mapped);
    assert_int_equal(rvm_kernel_check(k), RVM_OK);
    /* A stalled sink and a full ring: the merge cannot reserve its record and changes nothing. */
    rec->drain_limit = 0;
    enum rvm_err err = RVM_OK;
    for (int i = 0; i < 4096 && err != RVM_ERR_WITNESS_FULL; i++) {
        err = rvm_kernel_ipc_send(k, 0, NULL, ch, "t", 1, 0, NULL);
        if (err == RVM_OK) {
            err = rvm_kernel_ipc_receive(k, 0, NULL, ch, buf, sizeof(buf), NULL);
        }
    }
    assert_int_equal(err, RVM_ERR_WITNESS_FULL);
    hal_recorder_clear(rec);
    assert_int_equal(rvm_kernel_partition_merge(k, 0, NULL, a, NULL, b), RVM_ERR_WITNESS_FULL);
    assert_int_equal(rvm_kernel_partition_state(k, b), RVM_KPART_RUNNING);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_UNMAP), 0);
    rec->drain_limit = UINT64_MAX;
    assert_int_equal(rvm_kernel_partition_merge(k, 0, NULL, a, NULL, b), RVM_OK);
    assert_int_equal(rvm_region_get(&k->regions, rb)->owner, kfx_pid(a));
    assert_int_equal(rvm_kernel_check(k), RVM_OK);
    rkfx_free(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_calls),
        cmocka_unit_test(test_object_calls),
        cmocka_unit_test(test_decode_ranges),
        cmocka_unit_test(test_destroy_self),
        cmocka_unit_test(test_boot_load_refusals),
        cmocka_unit_test(test_split_every_object_kind),
        cmocka_unit_test(test_split_room),
        cmocka_unit_test(test_split_without_room_leaves_no_decision),
        cmocka_unit_test(test_split_applied_by_the_epoch),
        cmocka_unit_test(test_optional_outputs),
        cmocka_unit_test(test_odds_and_ends),
        cmocka_unit_test(test_full_capability_table),
        cmocka_unit_test(test_events_before_boot),
        cmocka_unit_test(test_sixty_four_cpus),
        cmocka_unit_test(test_merge_views_and_children),
        cmocka_unit_test(test_merge_without_coherence),
        cmocka_unit_test(test_merge_platform_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
