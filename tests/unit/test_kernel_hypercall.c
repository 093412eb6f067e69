/* SPDX-License-Identifier: MIT */
/*
 * The hypercall ABI: calls through the registers of a CPU's live frame on both simulated
 * platforms (x0..x7 on AArch64, a0..a7 on RISC-V), results back in the caller's registers, guest
 * buffers through the platform's table walk, decode refusals before anything runs, and a seeded
 * hostile run: every call number and unknown ones with every argument register set to boundary
 * and garbage values (stale, revoked and wrong-type handles, unmapped and hypervisor-range guest
 * pointers, overflowing lengths). Each hostile call must return an error, append exactly one
 * rejection record, change nothing else, and leave rvm_kernel_check passing.
 */
#include "kernel_fixture.h"

#include "rvm/action.h"
#include "rvm/bytes.h"

#define R RVM_PERM_R
#define W RVM_PERM_W
#define X RVM_PERM_X

static enum rvm_err hcall(struct kfx *f, uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7)
{
    const uint64_t a[7] = {a1, a2, a3, a4, a5, a6, a7};
    return kfx_hcall(f, n, a);
}

static void test_version_and_results(void **state)
{
    (void)state;
    for (int arch = 0; arch < 2; arch++) {
        struct kfx *f = kfx_new_arch(arch ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64, NULL, true);
        struct rvm_handle p = kfx_part(f, true);
        kfx_run_on0(f, p);
        uint64_t n0 = kfx_count(f);
        assert_int_equal(hcall(f, RVM_HC_VERSION, 0, 0, 0, 0, 0, 0, 0), RVM_OK);
        uint64_t *x = kfx_regs0(f);
        assert_int_equal(x[0], 0);
        assert_int_equal(x[1], RVM_KERNEL_ABI_VERSION);
        assert_int_equal(x[2], rvm_handle_pack(p));
        assert_int_equal(x[3], rvm_handle_pack(kfx_p(f, p)->self_cap));
        assert_int_equal(kfx_count(f), n0); /* read-only: no record */
        /* The register file the kernel reads is the architecture's argument registers. */
        const uint32_t base = arch ? 10u : 0u;
        assert_int_equal(rvm_kernel_arg_reg(f->k.cfg.arch), base);
        assert_int_equal(f->k.cpus[0].frame.gpr[base + 1u], RVM_KERNEL_ABI_VERSION);
        /* Decode refusals: unknown number, a reserved register, out-of-range values. */
        assert_int_equal(hcall(f, RVM_HC_COUNT, 0, 0, 0, 0, 0, 0, 0), RVM_ERR_BAD_HYPERCALL);
        kfx_rejected(f, RVM_ACT_HYPERCALL, RVM_ERR_BAD_HYPERCALL, 1);
        assert_int_equal(x[0], RVM_ERR_BAD_HYPERCALL);
        assert_int_equal(hcall(f, RVM_HC_VERSION, 0, 0, 0, 0, 0, 0, 1), RVM_ERR_RESERVED_ARG);
        kfx_rejected(f, RVM_ACT_HYPERCALL, RVM_ERR_RESERVED_ARG, 1);
        assert_int_equal(x[7], 1); /* registers other than x0 keep the guest's values */
        assert_int_equal(hcall(f, RVM_HC_CAP_GRANT, 0, 0, 0x80, 0, 0, 0, 0),
                         RVM_ERR_INVALID_ARGUMENT);
        kfx_rejected(f, RVM_ACT_CAP_GRANT, RVM_ERR_INVALID_ARGUMENT, 1);
        assert_int_equal(kfx_last(f).actor, kfx_pid(p));
        kfx_check(f);
        kfx_free(f);
    }
}

static void test_region_and_ipc_calls(void **state)
{
    (void)state;
    for (int arch = 0; arch < 2; arch++) {
        struct kfx *f = kfx_new_arch(arch ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64, NULL, true);
        struct rvm_handle p = kfx_part(f, true);
        kfx_run_on0(f, p);
        uint64_t *x = kfx_regs0(f);
        const uint64_t self = rvm_handle_pack(kfx_p(f, p)->self_cap);
        /* Create a data region and map it (at its host address: RISC-V needs ipa == hpa). */
        assert_int_equal(hcall(f, RVM_HC_REGION_CREATE, self, RVM_REGION_DATA, R | W, 1, 0, 0, 0),
                         RVM_OK);
        const struct rvm_handle reg = rvm_handle_unpack(x[1]);
        const uint64_t rcap = x[2];
        assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_CREATE);
        assert_int_equal(kfx_last(f).actor, kfx_pid(p));
        const uint64_t ipa = rvm_region_get(&f->k.regions, reg)->hpa;
        assert_int_equal(
            hcall(f, RVM_HC_REGION_MAP, rvm_handle_pack(reg), rcap, ipa, R | W, 1, 0, 0), RVM_OK);
        assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_MAP);
        /* A self-channel: send from guest memory, receive into guest memory. */
        assert_int_equal(hcall(f, RVM_HC_CHANNEL_CREATE, rvm_handle_pack(p), self, 0, 0, 0, 0, 0),
                         RVM_OK);
        const uint64_t ch = x[1];
        const uint64_t sc = x[2];
        const uint64_t rc = x[3];
        const struct rvm_hal *hal = rvm_sim_platform_hal(&f->plat);
        assert_int_equal(
            hal->ops->guest_write(hal->ctx, kfx_pid(p), rvm_ipa(ipa), "hello guest", 11), RVM_OK);
        assert_int_equal(hcall(f, RVM_HC_IPC_SEND, ch, sc, ipa, 11, 0xAB, 0, 0), RVM_OK);
        assert_int_equal(x[1], 1); /* the sequence number */
        /* Send from memory the guest cannot read: refused at decode, nothing queued. */
        assert_int_equal(hcall(f, RVM_HC_IPC_SEND, ch, sc, 0x7FF000000, 4, 0, 0, 0),
                         RVM_ERR_GUEST_FAULT);
        kfx_rejected(f, RVM_ACT_IPC_SEND, RVM_ERR_GUEST_FAULT, 1);
        assert_int_equal(hcall(f, RVM_HC_IPC_SEND, ch, sc, UINT64_MAX - 2, 4, 0, 0, 0),
                         RVM_ERR_OVERFLOW);
        assert_int_equal(hcall(f, RVM_HC_IPC_SEND, ch, sc, ipa, f->cfg.msg_bytes + 1u, 0, 0, 0),
                         RVM_ERR_INVALID_ARGUMENT);
        assert_int_equal(f->k.chans[rvm_handle_unpack(ch).index].count, 1);
        /* Receive into a buffer the guest cannot write: refused, the message stays queued. */
        assert_int_equal(hcall(f, RVM_HC_IPC_RECV, ch, rc, 0x7FF000000, 32, 0, 0, 0),
                         RVM_ERR_GUEST_FAULT);
        kfx_rejected(f, RVM_ACT_IPC_RECEIVE, RVM_ERR_GUEST_FAULT, 5);
        assert_int_equal(f->k.chans[rvm_handle_unpack(ch).index].count, 1);
        assert_int_equal(hcall(f, RVM_HC_IPC_RECV, ch, rc, ipa + 100, 32, 0, 0, 0), RVM_OK);
        assert_int_equal(x[1], 11);
        assert_int_equal(x[2], kfx_pid(p));
        assert_int_equal(x[3], 1);
        assert_int_equal(x[4], 0xAB);
        char buf[11];
        assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(p), rvm_ipa(ipa + 100), buf, 11),
                         RVM_OK);
        assert_memory_equal(buf, "hello guest", 11);
        /* CAP_INFO reads a held capability; refuses another's. */
        assert_int_equal(hcall(f, RVM_HC_CAP_INFO, rcap, 0, 0, 0, 0, 0, 0), RVM_OK);
        assert_int_equal(x[1] & 0xFF, RVM_CAP_TYPE_REGION);
        assert_int_equal(x[2], rvm_handle_pack(reg));
        struct rvm_handle root = kfx_cap(f, RVM_CAP_TYPE_PARTITION, p, 0);
        assert_int_equal(hcall(f, RVM_HC_CAP_INFO, rvm_handle_pack(root), 0, 0, 0, 0, 0, 0),
                         RVM_ERR_CAP_HOLDER);
        kfx_rejected(f, RVM_ACT_PROOF_VERIFIED_P1, RVM_ERR_CAP_HOLDER, 2);
        /* A child partition, started by the caller. */
        assert_int_equal(hcall(f, RVM_HC_PARTITION_CREATE, self, 0x3000, 5, 6, 0, 9, 0), RVM_OK);
        const uint64_t child = x[1];
        const uint64_t croot = x[2];
        assert_int_equal(hcall(f, RVM_HC_PARTITION_START, child, croot, 0, 0, 0, 0, 0), RVM_OK);
        assert_int_equal(rvm_kernel_partition_state(&f->k, rvm_handle_unpack(child)),
                         RVM_KPART_RUNNING);
        /* Suspending itself: the result goes into its saved context (it left the CPU). */
        assert_int_equal(
            hcall(f, RVM_HC_PARTITION_SUSPEND, rvm_handle_pack(p), self, 0, 0, 0, 0, 0), RVM_OK);
        assert_int_equal(f->k.cpus[0].loaded, 0);
        assert_int_equal(kfx_p(f, p)->ctx.regs.gpr[rvm_kernel_arg_reg(f->k.cfg.arch)], 0);
        assert_int_equal(kfx_p(f, p)->ctx.regs.gpr[rvm_kernel_arg_reg(f->k.cfg.arch) + 1u],
                         0); /* no result value: x1 = 0 */
        /* Nothing runs on CPU 0 now: a hypercall there is refused. */
        assert_int_equal(rvm_kernel_hypercall(&f->k, 0), RVM_ERR_WRONG_STATE);
        kfx_rejected(f, RVM_ACT_HYPERCALL, RVM_ERR_WRONG_STATE, 1);
        kfx_check(f);
        kfx_free(f);
    }
}

static void test_yield(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0x1, 10}; /* both on CPU 0 */
    struct rvm_handle a, b;
    assert_int_equal(rvm_kernel_partition_create(&f->k, 0, NULL, &req, &a, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_partition_create(&f->k, 0, NULL, &req, &b, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_partition_start(&f->k, 0, NULL, a), RVM_OK);
    assert_int_equal(rvm_kernel_partition_start(&f->k, 0, NULL, b), RVM_OK);
    kfx_run_on0(f, a);
    uint64_t *x = kfx_regs0(f);
    x[9] = 0x1111; /* some register of a's */
    assert_int_equal(hcall(f, RVM_HC_YIELD, 0, 0, 0, 0, 0, 0, 0), RVM_OK);
    /* b runs now; a's registers (with the result) were saved; b sees none of them. */
    assert_int_equal(f->k.cpus[0].loaded, kfx_pid(b));
    assert_int_not_equal(f->k.cpus[0].frame.gpr[9], 0x1111);
    assert_int_equal(kfx_p(f, a)->ctx.regs.gpr[9], 0x1111);
    assert_int_equal(kfx_p(f, a)->ctx.regs.gpr[0], RVM_OK);
    kfx_check(f);
    kfx_free(f);
}

/* ---- the hostile run ------------------------------------------------------------------------ */

struct world {
    struct rvm_handle caller, other, dead_part, region, dead_region, view, chan, dead_chan, dev,
        dead_cap, revoked_cap, other_cap;
    uint64_t mapped_ipa, ro_ipa;
};

static void build_world(struct kfx *f, struct world *w)
{
    w->caller = kfx_part(f, true);
    w->other = kfx_part(f, true);
    w->dead_part = kfx_part(f, true);
    w->region = kfx_region(f, w->caller, RVM_REGION_DATA, 1, R | W, 0);
    w->mapped_ipa = rvm_region_get(&f->k.regions, w->region)->ipa;
    struct rvm_handle imm = kfx_region(f, w->other, RVM_REGION_IMMUTABLE, 1, R, 0);
    assert_int_equal(rvm_kernel_region_share(&f->k, 0, NULL, imm, w->caller, R, &w->view, NULL),
                     RVM_OK);
    w->ro_ipa = rvm_region_get(&f->k.regions, imm)->hpa;
    assert_int_equal(rvm_kernel_region_map(&f->k, 0, NULL, w->view, w->ro_ipa, R), RVM_OK);
    w->dead_region = kfx_region(f, w->other, RVM_REGION_DATA, 1, 0, 0);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, w->dead_region), RVM_OK);
    assert_int_equal(
        rvm_kernel_channel_create(&f->k, 0, NULL, w->other, w->caller, &w->chan, NULL, NULL),
        RVM_OK);
    assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, w->chan, "q", 1, 0, NULL), RVM_OK);
    assert_int_equal(
        rvm_kernel_channel_create(&f->k, 0, NULL, w->caller, w->other, &w->dead_chan, NULL, NULL),
        RVM_OK);
    assert_int_equal(rvm_kernel_channel_destroy(&f->k, 0, NULL, w->dead_chan), RVM_OK);
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 7, &w->dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, w->dev, w->other, 1000000000, NULL),
                     RVM_OK);
    /* A capability the caller had and lost, one of a destroyed partition, and other's own. */
    struct rvm_handle oself = kfx_p(f, w->other)->self_cap;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(w->other), oself, w->caller, RVM_CAP_READ,
                                          0, &w->revoked_cap),
                     RVM_OK);
    assert_int_equal(rvm_kernel_cap_revoke(&f->k, 0, rvm_cap_no_handle(), w->revoked_cap, NULL),
                     RVM_OK);
    w->dead_cap = kfx_p(f, w->dead_part)->self_cap;
    assert_int_equal(rvm_kernel_partition_destroy(&f->k, 0, NULL, w->dead_part), RVM_OK);
    w->other_cap = oself;
    kfx_run_on0(f, w->caller);
}

/* Does v name a live capability the caller holds? Such a value could authorise something. */
static bool held_by(const struct kfx *f, uint64_t v, rvm_partition_id who)
{
    struct rvm_handle h = rvm_handle_unpack(v);
    const struct rvm_cap_slot *s = rvm_cap_get(&f->k.caps, h);
    return s != NULL && s->owner == who;
}

static uint64_t hostile_value(struct test_rng *rng, const struct kfx *f, const struct world *w)
{
    const uint64_t pool[] = {
        0,
        1,
        2,
        7,
        0x7F,
        0x80,
        0xFF,
        0xFFFF,
        0x7FFFFFFF,
        0xFFFFFFFF,
        0x100000000ull,
        0x8000000000000000ull,
        UINT64_MAX,
        UINT64_MAX - 1u,
        KPG,
        KPG - 1u,
        (uint64_t)f->cfg.msg_bytes,
        (uint64_t)f->cfg.msg_bytes + 1u,
        f->cfg.max_lease_ns + 1u,
        /* stale, revoked, dead */
        rvm_handle_pack(w->dead_part),
        rvm_handle_pack(w->dead_region),
        rvm_handle_pack(w->dead_chan),
        rvm_handle_pack(w->dead_cap),
        rvm_handle_pack(w->revoked_cap),
        /* live handles of every class (wrong type in most places) and another's capability */
        rvm_handle_pack(w->caller),
        rvm_handle_pack(w->other),
        rvm_handle_pack(w->region),
        rvm_handle_pack(w->view),
        rvm_handle_pack(w->chan),
        rvm_handle_pack(w->dev),
        rvm_handle_pack(w->other_cap),
        /* guest pointers: mapped RW, mapped R only, unmapped, the hypervisor's RAM, beyond IPA */
        w->mapped_ipa,
        w->ro_ipa,
        0x7FF000000ull,
        f->plat.cfg.ram_base,
        1ull << 40,
        UINT64_MAX - 8u,
    };
    uint64_t pick = test_rng_below(rng, sizeof(pool) / sizeof(pool[0]) + 2u);
    if (pick < sizeof(pool) / sizeof(pool[0])) {
        return pool[pick];
    }
    return pick == sizeof(pool) / sizeof(pool[0]) ? test_rng_next(rng)
                                                  : test_rng_next(rng) & 0xFFFF;
}

/* The state a refusal must leave alone (the log and the hot path excluded: a rejection is a
 * record, and a hypercall's decode reads the frame). */
static void protected_digest(const struct kfx *f, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &f->crypto);
    rvm_cap_hash(&f->k.caps, &c);
    rvm_proof_hash(&f->k.nonces, &c);
    rvm_buddy_hash(&f->k.ram, &c);
    rvm_region_hash(&f->k.regions, &c);
    rvm_sched_hash(&f->k.sched, &c);
    rvm_vmid_hash(&f->k.vmids, &c);
    rvm_coherence_hash(&f->k.coh, &c);
    rvm_sha256_update(&c, (const uint8_t *)f->k.parts,
                      f->cfg.max_partitions * sizeof(struct rvm_kpart));
    rvm_sha256_update(&c, (const uint8_t *)f->k.kregs,
                      f->cfg.max_regions * sizeof(struct rvm_kreg));
    rvm_sha256_update(&c, (const uint8_t *)f->k.chans,
                      f->cfg.max_channels * sizeof(struct rvm_kchan));
    rvm_sha256_update(&c, (const uint8_t *)f->k.msgs,
                      f->cfg.max_channels * f->cfg.queue_depth * sizeof(struct rvm_kmsg));
    rvm_sha256_update(&c, (const uint8_t *)f->k.devs, f->cfg.max_devices * sizeof(struct rvm_kdev));
    rvm_sha256_final(&c, out);
}

static void hostile_run(enum rvm_sim_arch arch, uint64_t seed, uint32_t calls)
{
    struct kfx *f = kfx_new_arch(arch, NULL, true);
    struct world w;
    build_world(f, &w);
    struct test_rng rng = test_rng_new(seed);
    const rvm_partition_id caller = kfx_pid(w.caller);
    uint32_t per_call[RVM_HC_COUNT + 1] = {0};
    for (uint32_t i = 0; i < calls; i++) {
        uint64_t n;
        uint64_t pick = test_rng_below(&rng, RVM_HC_COUNT + 6u);
        if (pick < RVM_HC_COUNT) {
            n = pick;
        } else {
            const uint64_t unknown[] = {RVM_HC_COUNT, RVM_HC_COUNT + 1u,
                                        255,          0x100000000ull,
                                        UINT64_MAX,   test_rng_next(&rng) | 0x80000000ull};
            n = unknown[pick - RVM_HC_COUNT];
        }
        uint64_t a[8];
        a[0] = n;
        bool nonzero = false;
        for (int r = 1; r < 8; r++) {
            do {
                a[r] = hostile_value(&rng, f, &w);
            } while (held_by(f, a[r], caller)); /* never present real authority */
            nonzero |= a[r] != 0;
        }
        if (!nonzero) {
            a[1 + test_rng_below(&rng, 7)] = 1;
        }
        uint8_t before[32], after[32];
        protected_digest(f, before);
        const uint64_t n0 = kfx_count(f);
        uint64_t *x = kfx_regs0(f);
        for (int r = 0; r < 8; r++) {
            x[r] = a[r];
        }
        enum rvm_err err = rvm_kernel_hypercall(&f->k, 0);
        if (err == RVM_OK) {
            fail_msg("call %u: hypercall %llu with hostile arguments succeeded (seed %llu)", i,
                     (unsigned long long)n, (unsigned long long)seed);
        }
        assert_int_equal(x[0], (uint64_t)err);
        assert_int_equal(kfx_count(f), n0 + 1u);
        struct krec r = kfx_last(f);
        assert_int_equal(r.kind, 0x53);
        assert_int_equal(r.actor, caller);
        assert_int_equal((uint32_t)(r.payload & 0xFFFFFFFFu), (uint32_t)err);
        protected_digest(f, after);
        if (memcmp(before, after, 32) != 0) {
            fail_msg("call %u: hypercall %llu refused with %s but changed state (seed %llu)", i,
                     (unsigned long long)n, rvm_err_name(err), (unsigned long long)seed);
        }
        enum rvm_err cerr = rvm_kernel_check(&f->k);
        if (cerr != RVM_OK) {
            fail_msg("call %u: rvm_kernel_check after hypercall %llu: %s (seed %llu)", i,
                     (unsigned long long)n, rvm_err_name(cerr), (unsigned long long)seed);
        }
        assert_int_equal(f->k.cpus[0].loaded, caller);
        per_call[n < RVM_HC_COUNT ? n : RVM_HC_COUNT]++;
    }
    for (uint32_t c = 0; c <= RVM_HC_COUNT; c++) {
        assert_true(per_call[c] > 0); /* every call number and the unknown ones were tried */
    }
    kfx_free(f);
}

static void test_hostile(void **state)
{
    (void)state;
    uint64_t seed = test_seed("test_hostile", 0x5EED0006u);
    const char *env = getenv("RVM_HOSTILE_CALLS");
    uint32_t calls = env != NULL ? (uint32_t)strtoul(env, NULL, 0) : 8000u;
    hostile_run(RVM_SIM_ARCH_AARCH64, seed, calls);
    hostile_run(RVM_SIM_ARCH_RISCV, seed + 1u, calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_results),
        cmocka_unit_test(test_region_and_ipc_calls),
        cmocka_unit_test(test_yield),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
