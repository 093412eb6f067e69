/* SPDX-License-Identifier: MIT */
/*
 * Kernel paths that neither the other kernel tests nor the coverage workload take
 * (docs/evidence.md "Coverage"): the hypercalls that reach their entry point only with valid
 * arguments (the hostile run sets every register, so decode refuses those), platform events
 * before the measured boot, and a configuration with the largest CPU count. Expected values come
 * from the call table of docs/architecture.md ("The hypercall ABI") and rvm/kernel.h.
 */
#include "kernel_fixture.h"

#include "rvm/action.h"

#define R RVM_PERM_R
#define W RVM_PERM_W

static rvm_partition_id pid(struct rvm_handle h)
{
    return h.index + 1u;
}

static void run_on0(struct kfx *f, struct rvm_handle p)
{
    for (int i = 0; i < 64 && f->k.cpus[0].loaded != pid(p); i++) {
        assert_int_equal(rvm_kernel_schedule(&f->k, 0), RVM_OK);
    }
    assert_int_equal(f->k.cpus[0].loaded, pid(p));
}

static uint64_t *regs0(struct kfx *f)
{
    return &f->k.cpus[0].frame.gpr[rvm_kernel_arg_reg(f->k.cfg.arch)];
}

static enum rvm_err hcall(struct kfx *f, uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    uint64_t *x = regs0(f);
    x[0] = n;
    x[1] = a1;
    x[2] = a2;
    x[3] = a3;
    x[4] = a4;
    x[5] = a5;
    x[6] = 0;
    x[7] = 0;
    return rvm_kernel_hypercall(&f->k, 0);
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
    run_on0(f, p);
    uint64_t *x = regs0(f);
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
    accepted(f, n0, RVM_ACT_PARTITION_RESUME, pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_RUNNING);
    /* P2 calls: partition, cap, nonce (each nonce fresh). */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_CHECKPOINT, child, croot, 1, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_CHECKPOINT_CREATED, pid(p));
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_HIBERNATE, child, croot, 2, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_HIBERNATE, pid(p));
    assert_int_equal(rvm_kernel_partition_state(&f->k, c), RVM_KPART_HIBERNATED);
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_PARTITION_RECONSTRUCT, child, croot, 3, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_PARTITION_RECONSTRUCT, pid(p));
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
    accepted(f, n0, RVM_ACT_PARTITION_DESTROY, pid(p));
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
    run_on0(f, p);
    uint64_t *x = regs0(f);
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
    accepted(f, n0, RVM_ACT_REGION_UNMAP, pid(p));
    assert_false(rvm_region_get(&f->k.regions, reg)->mapped);
    /* Delegate a READ copy to itself, then revoke it with the root as authority. */
    assert_int_equal(hcall(f, RVM_HC_CAP_GRANT, rcap, rvm_handle_pack(p), RVM_CAP_READ, 0, 0),
                     RVM_OK);
    const struct rvm_handle copy = rvm_handle_unpack(x[1]);
    assert_non_null(rvm_cap_get(&f->k.caps, copy));
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_CAP_REVOKE, rcap, rvm_handle_pack(copy), 0, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_CAP_REVOKE, pid(p));
    assert_int_equal(x[1], 1); /* released: the copy */
    assert_null(rvm_cap_get(&f->k.caps, copy));
    /* Attenuate the root to READ | REVOKE: CAP_INFO shows the new rights. */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_CAP_ATTENUATE, rcap, RVM_CAP_READ | RVM_CAP_REVOKE, 0, 0, 0),
                     RVM_OK);
    accepted(f, n0, RVM_ACT_CAP_ATTENUATE, pid(p));
    assert_int_equal(hcall(f, RVM_HC_CAP_INFO, rcap, 0, 0, 0, 0), RVM_OK);
    assert_int_equal((x[1] >> 8) & 0xFFu, RVM_CAP_READ | RVM_CAP_REVOKE);
    /* Region destroy is P2 with REVOKE: the attenuated root still carries it. */
    n0 = kfx_count(f);
    assert_int_equal(hcall(f, RVM_HC_REGION_DESTROY, rvm_handle_pack(reg), rcap, 2, 0, 0), RVM_OK);
    accepted(f, n0, RVM_ACT_REGION_DESTROY, pid(p));
    assert_null(rvm_region_get(&f->k.regions, reg));
    /* A self-channel destroyed with the capability naming it. */
    assert_int_equal(hcall(f, RVM_HC_CHANNEL_CREATE, rvm_handle_pack(p), self, 0, 0, 0), RVM_OK);
    const struct rvm_handle ch = rvm_handle_unpack(x[1]);
    const struct rvm_handle chcap = kfx_cap(f, RVM_CAP_TYPE_COMM_EDGE, ch, pid(p));
    n0 = kfx_count(f);
    assert_int_equal(
        hcall(f, RVM_HC_CHANNEL_DESTROY, rvm_handle_pack(ch), rvm_handle_pack(chcap), 0, 0, 0),
        RVM_OK);
    accepted(f, n0, RVM_ACT_COMM_EDGE_DESTROY, pid(p));
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
    run_on0(f, p);
    kfx_check(f);
    kfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_calls),
        cmocka_unit_test(test_object_calls),
        cmocka_unit_test(test_events_before_boot),
        cmocka_unit_test(test_sixty_four_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
