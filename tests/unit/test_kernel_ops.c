/* SPDX-License-Identifier: MIT */
/*
 * Kernel operations one by one: success with its record, and each error with its rejection record
 * (kind, error, stage), and "nothing changed" for refusals (the state digest without the log).
 *
 * Independent expectations: records are decoded from raw bytes (kernel_fixture.h) and compared
 * with the layouts of docs/architecture.md; guest memory and host memory are read through the
 * simulated platform; the DC-9 assignment of a split is recomputed by a small model written here;
 * HAL refusals come from the recording test double.
 */
#include "kernel_fixture.h"
#include "recorder_kernel.h"

#include "rvm/action.h"
#include "rvm/bytes.h"

#define R RVM_PERM_R
#define W RVM_PERM_W
#define X RVM_PERM_X

enum { DEC = 1, P1 = 2, P2S = 3, P3S = 4, PRE = 5 };

/* The state without the log: what a refusal must leave alone. */
static void state_digest(const struct kfx *f, uint8_t out[32])
{
    struct rvm_sha256_ctx c;
    rvm_sha256_init(&c, &f->crypto);
    rvm_cap_hash(&f->k.caps, &c);
    rvm_buddy_hash(&f->k.ram, &c);
    rvm_region_hash(&f->k.regions, &c);
    rvm_sched_hash(&f->k.sched, &c);
    rvm_coherence_hash(&f->k.coh, &c);
    rvm_sha256_update(&c, (const uint8_t *)f->k.parts,
                      f->cfg.max_partitions * sizeof(struct rvm_kpart));
    rvm_sha256_update(&c, (const uint8_t *)f->k.chans,
                      f->cfg.max_channels * sizeof(struct rvm_kchan));
    rvm_sha256_update(&c, (const uint8_t *)f->k.devs, f->cfg.max_devices * sizeof(struct rvm_kdev));
    rvm_sha256_update(&c, f->k.store, f->k.store_used);
    rvm_sha256_final(&c, out);
}

#define UNCHANGED(f, call, kind, err, stage)                                                       \
    do {                                                                                           \
        uint8_t d0_[32], d1_[32];                                                                  \
        state_digest((f), d0_);                                                                    \
        KFX_REFUSED((f), (call), (kind), (err), (stage));                                          \
        state_digest((f), d1_);                                                                    \
        assert_memory_equal(d0_, d1_, 32);                                                         \
    } while (0)

static struct rvm_kernel_auth self_auth(struct kfx *f, struct rvm_handle p, uint64_t nonce)
{
    return kfx_auth(kfx_p(f, p)->self_cap, nonce);
}

/* ---- partitions ------------------------------------------------------------------------------ */

static void test_partition_create(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_kernel_partition_req req = {0x4000, {11, 12}, 0x3, 77};
    struct rvm_handle h, root;
    assert_int_equal(rvm_kernel_partition_create(&f->k, 0, NULL, &req, &h, &root), RVM_OK);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, 0x01);
    assert_int_equal(r.tier, 0);
    assert_int_equal(r.actor, 0);
    assert_int_equal(r.target, rvm_handle_pack(h));
    assert_int_equal(r.payload, 0x4000);
    assert_int_equal(r.aux, rvm_handle_pack(root));
    const struct rvm_cap_slot *rs = rvm_cap_get(&f->k.caps, root);
    assert_non_null(rs);
    assert_int_equal(rs->owner, 0);
    assert_int_equal(rs->type, RVM_CAP_TYPE_PARTITION);
    assert_int_equal(rs->rights, 0x7F);
    const struct rvm_cap_slot *ss = rvm_cap_get(&f->k.caps, kfx_p(f, h)->self_cap);
    assert_non_null(ss);
    assert_int_equal(ss->owner, kfx_pid(h));
    assert_int_equal(ss->rights, RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT | RVM_CAP_PROVE);
    assert_int_equal(kfx_p(f, h)->affinity, 0x3);
    assert_int_equal(kfx_p(f, h)->urgency, 77);
    uint32_t g;
    assert_int_equal(rvm_graph_find(&f->k.coh.graph, kfx_pid(h), &g), RVM_OK);

    /* A partition creates a child with its self capability; the child's root is the creator's. */
    struct rvm_kernel_auth a = self_auth(f, h, 0);
    struct rvm_handle c, croot;
    assert_int_equal(rvm_kernel_partition_create(&f->k, kfx_pid(h), &a, &req, &c, &croot), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.tier, 1);
    assert_int_equal(r.actor, kfx_pid(h));
    assert_int_equal(r.cap_hash, ss->cap_hash);
    assert_int_equal(rvm_cap_get(&f->k.caps, croot)->owner, kfx_pid(h));
    assert_int_equal(kfx_p(f, c)->creator, kfx_pid(h));

    /* Errors. */
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, 0, NULL, NULL, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC);
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, 15, &a, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC); /* no such actor */
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, kfx_pid(h), NULL, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC);
    struct rvm_kernel_auth wrong = kfx_auth(croot, 0); /* names the child, not the actor */
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, kfx_pid(h), &wrong, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_CAP_OBJECT, P1);
    struct rvm_kernel_auth other = self_auth(f, c, 0); /* held by the child */
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, kfx_pid(h), &other, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_CAP_HOLDER, P1);
    struct rvm_kernel_partition_req bad = req;
    bad.affinity = 0x10; /* CPU 4 of a 2-CPU kernel */
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, 0, NULL, &bad, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC);
    /* A self capability attenuated to READ no longer creates. */
    assert_int_equal(rvm_kernel_cap_attenuate(&f->k, kfx_pid(h), a.cap, RVM_CAP_READ), RVM_OK);
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, kfx_pid(h), &a, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_CAP_RIGHTS, P1);
    while (rvm_kernel_partition_create(&f->k, 0, NULL, &req, NULL, NULL) == RVM_OK) {
    }
    kfx_rejected(f, RVM_ACT_PARTITION_CREATE, RVM_ERR_PARTITION_LIMIT, PRE);
    kfx_check(f);
    kfx_free(f);
}

static void tiny_caps(struct rvm_kernel_config *cfg)
{
    cfg->max_caps = 7;
}

static void test_partition_create_caps_full(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(tiny_caps);
    kfx_part(f, false); /* 2 */
    kfx_part(f, false); /* 4 */
    kfx_part(f, false); /* 6 */
    struct rvm_kernel_partition_req req = {0, {0, 0}, 0, 0};
    UNCHANGED(f, rvm_kernel_partition_create(&f->k, 0, NULL, &req, NULL, NULL),
              RVM_ACT_PARTITION_CREATE, RVM_ERR_CAP_TABLE_FULL, PRE);
    kfx_check(f);
    kfx_free(f);
}

static void test_partition_transitions_gated(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, false);
    struct rvm_kernel_auth sa = self_auth(f, a, 0);
    /* a may act on itself ... */
    assert_int_equal(rvm_kernel_partition_suspend(&f->k, kfx_pid(a), &sa, a), RVM_OK);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_PARTITION_SUSPEND);
    assert_int_equal(r.tier, 1);
    assert_int_equal(r.actor, kfx_pid(a));
    assert_int_equal(rvm_kernel_partition_resume(&f->k, kfx_pid(a), &sa, a), RVM_OK);
    /* ... not on b, for which it has nothing. */
    UNCHANGED(f, rvm_kernel_partition_start(&f->k, kfx_pid(a), &sa, b), RVM_ACT_PARTITION_START,
              RVM_ERR_CAP_OBJECT, P1);
    /* b's root (held by the hypervisor) granted to a with READ only: not enough. */
    struct rvm_handle broot = kfx_cap(f, RVM_CAP_TYPE_PARTITION, b, 0);
    struct rvm_handle ro;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, 0, broot, a, RVM_CAP_READ, 0, &ro), RVM_OK);
    struct rvm_kernel_auth ar = kfx_auth(ro, 0);
    UNCHANGED(f, rvm_kernel_partition_start(&f->k, kfx_pid(a), &ar, b), RVM_ACT_PARTITION_START,
              RVM_ERR_CAP_RIGHTS, P1);
    struct rvm_handle rw;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, 0, broot, a, RVM_CAP_WRITE, 0, &rw), RVM_OK);
    struct rvm_kernel_auth aw = kfx_auth(rw, 0);
    assert_int_equal(rvm_kernel_partition_start(&f->k, kfx_pid(a), &aw, b), RVM_OK);
    /* Destroy is P2: the nonce must be fresh; a replay is refused. */
    UNCHANGED(f, rvm_kernel_partition_destroy(&f->k, kfx_pid(a), &aw, b), RVM_ACT_PARTITION_DESTROY,
              RVM_ERR_PROOF_NONCE, P2S);
    aw.nonce = 5;
    assert_int_equal(rvm_kernel_partition_destroy(&f->k, kfx_pid(a), &aw, b), RVM_OK);
    assert_int_equal(kfx_last(f).tier, 2);
    /* The capability named b: it went with b. */
    assert_null(rvm_cap_get(&f->k.caps, rw));
    /* The nonce was spent by the destroy; a new request with it is a replay. */
    struct rvm_kernel_auth again = self_auth(f, a, 5);
    UNCHANGED(f, rvm_kernel_partition_checkpoint(&f->k, kfx_pid(a), &again, a),
              RVM_ACT_CHECKPOINT_CREATED, RVM_ERR_PROOF_NONCE, P2S);
    /* A time window in the past is refused by P2. */
    kfx_advance(f, 1000000);
    struct rvm_kernel_auth late = {kfx_p(f, a)->self_cap, 6, 1, 2};
    UNCHANGED(f, rvm_kernel_partition_checkpoint(&f->k, kfx_pid(a), &late, a),
              RVM_ACT_CHECKPOINT_CREATED, RVM_ERR_PROOF_TIME, P2S);
    kfx_check(f);
    kfx_free(f);
}

static void test_start_affinity_offline(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0x2, 1};
    struct rvm_handle p;
    assert_int_equal(rvm_kernel_partition_create(&f->k, 0, NULL, &req, &p, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_cpu_offline(&f->k, 1), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_CPU_OFFLINE);
    UNCHANGED(f, rvm_kernel_partition_start(&f->k, 0, NULL, p), RVM_ACT_PARTITION_START,
              RVM_ERR_AFFINITY, PRE);
    KFX_REFUSED(f, rvm_kernel_cpu_offline(&f->k, 0), RVM_ACT_CPU_OFFLINE, RVM_ERR_LAST_CPU, 1);
    KFX_REFUSED(f, rvm_kernel_schedule(&f->k, 1), RVM_ACT_SCHED_SWITCH, RVM_ERR_CPU_OFFLINE, 1);
    KFX_REFUSED(f, rvm_kernel_schedule(&f->k, 9), RVM_ACT_SCHED_SWITCH, RVM_ERR_OUT_OF_RANGE, 1);
    assert_int_equal(rvm_kernel_cpu_online(&f->k, 1), RVM_OK);
    assert_int_equal(rvm_kernel_partition_start(&f->k, 0, NULL, p), RVM_OK);
    assert_int_equal(rvm_kernel_schedule(&f->k, 1), RVM_OK);
    assert_int_equal(f->k.cpus[1].loaded, kfx_pid(p));
    /* Offline moves the running partition (parked, re-queued on CPU 0, outside its affinity). */
    assert_int_equal(rvm_kernel_cpu_offline(&f->k, 1), RVM_OK);
    assert_int_equal(f->k.cpus[1].loaded, 0);
    assert_int_equal(rvm_sched_queue_cpu(&f->k.sched, kfx_pid(p)), 0);
    kfx_check(f);
    kfx_free(f);
}

static void test_hibernate_errors(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_handle created = kfx_part(f, false);
    UNCHANGED(f, rvm_kernel_partition_hibernate(&f->k, 0, NULL, created),
              RVM_ACT_PARTITION_HIBERNATE, RVM_ERR_WRONG_STATE, PRE);
    /* A region larger than the staging area. */
    struct rvm_handle big = kfx_region(f, p, RVM_REGION_DATA, 5, 0, 0);
    UNCHANGED(f, rvm_kernel_partition_hibernate(&f->k, 0, NULL, p), RVM_ACT_PARTITION_HIBERNATE,
              RVM_ERR_NO_SPACE, PRE);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, big), RVM_OK);
    /* A region another partition views. */
    struct rvm_handle imm = kfx_region(f, p, RVM_REGION_IMMUTABLE, 1, R, 0);
    struct rvm_handle view;
    assert_int_equal(rvm_kernel_region_share(&f->k, 0, NULL, imm, q, R, &view, NULL), RVM_OK);
    UNCHANGED(f, rvm_kernel_partition_hibernate(&f->k, 0, NULL, p), RVM_ACT_PARTITION_HIBERNATE,
              RVM_ERR_WRONG_STATE, PRE);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, view), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_UNSHARE);
    /* The store too small for what it holds: fill it with incompressible contents. */
    struct rvm_handle d[4];
    for (int i = 0; i < 4; i++) {
        d[i] = kfx_region(f, p, RVM_REGION_DATA, 4, R | W, 0);
        uint8_t *mem =
            rvm_sim_platform_ram(&f->plat, rvm_region_get(&f->k.regions, d[i])->hpa, 4 * KPG);
        struct test_rng rng = test_rng_new(0x1234u + (uint64_t)i);
        test_rng_fill(&rng, mem, 4 * KPG);
    }
    UNCHANGED(f, rvm_kernel_partition_hibernate(&f->k, 0, NULL, p), RVM_ACT_PARTITION_HIBERNATE,
              RVM_ERR_NO_SPACE, PRE);
    assert_int_equal(rvm_kernel_region_unmap(&f->k, 0, NULL, d[3]), RVM_OK);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, d[3]), RVM_OK);
    assert_int_equal(rvm_kernel_partition_hibernate(&f->k, 0, NULL, p), RVM_OK);
    kfx_check(f);
    kfx_free(f);
}

static void test_reconstruct_no_memory(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    kfx_region(f, p, RVM_REGION_DATA, 4, R | W, 0);
    kfx_region(f, p, RVM_REGION_DATA, 4, R | W, 0);
    assert_int_equal(rvm_kernel_partition_hibernate(&f->k, 0, NULL, p), RVM_OK);
    /* q takes all RAM but one 4-page block. */
    uint32_t free_pages = rvm_buddy_free_pages(&f->k.ram);
    struct rvm_handle hog[64];
    int nh = 0;
    while (rvm_buddy_free_pages(&f->k.ram) > 4 && nh < 64) {
        uint32_t want = 256;
        while (want > rvm_buddy_free_pages(&f->k.ram) - 4) {
            want /= 2;
        }
        assert_int_equal(rvm_kernel_region_create(&f->k, 0, NULL, q, RVM_REGION_DATA, R | W, want,
                                                  &hog[nh++], NULL),
                         RVM_OK);
    }
    (void)free_pages;
    assert_int_equal(rvm_buddy_free_pages(&f->k.ram), 4);
    UNCHANGED(f, rvm_kernel_partition_reconstruct(&f->k, 0, NULL, p), RVM_ACT_PARTITION_RECONSTRUCT,
              RVM_ERR_NO_MEMORY, PRE);
    assert_int_equal(rvm_kernel_region_destroy(&f->k, 0, NULL, hog[0]), RVM_OK);
    assert_int_equal(rvm_kernel_partition_reconstruct(&f->k, 0, NULL, p), RVM_OK);
    kfx_check(f);
    kfx_free(f);
}

static void test_checkpoint_errors(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, false);
    UNCHANGED(f, rvm_kernel_partition_checkpoint(&f->k, 0, NULL, p), RVM_ACT_CHECKPOINT_CREATED,
              RVM_ERR_WRONG_STATE, PRE);
    assert_int_equal(rvm_kernel_partition_start(&f->k, 0, NULL, p), RVM_OK);
    kfx_region(f, p, RVM_REGION_DATA, 1, R | W, 0);
    assert_int_equal(rvm_kernel_partition_checkpoint(&f->k, 0, NULL, p), RVM_OK);
    const uint32_t used = f->k.store_used;
    /* A second checkpoint replaces the first: the store holds one. */
    assert_int_equal(rvm_kernel_partition_checkpoint(&f->k, 0, NULL, p), RVM_OK);
    assert_int_equal(f->k.store_used, used);
    kfx_check(f);
    kfx_free(f);
}

/* ---- regions ------------------------------------------------------------------------------- */

static void test_region_ops(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_kernel_auth sp = self_auth(f, p, 0);
    struct rvm_handle r, rc;
    assert_int_equal(
        rvm_kernel_region_create(&f->k, kfx_pid(p), &sp, p, RVM_REGION_DATA, R | W, 3, &r, &rc),
        RVM_OK);
    struct krec rec = kfx_last(f);
    const struct rvm_region *reg = rvm_region_get(&f->k.regions, r);
    assert_int_equal(rec.kind, 0x20);
    assert_int_equal(rec.tier, 1);
    assert_int_equal(rec.target, rvm_handle_pack(r));
    assert_int_equal(rec.flags, RVM_REGION_DATA | (R | W) << 4);
    assert_int_equal(rec.payload, reg->hpa);
    assert_int_equal(rec.aux, kfx_pid(p) | 3ull << 32);
    const struct rvm_cap_slot *cs = rvm_cap_get(&f->k.caps, rc);
    assert_int_equal(cs->owner, kfx_pid(p));
    assert_int_equal(cs->rights,
                     RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT | RVM_CAP_REVOKE | RVM_CAP_PROVE);
    /* Create errors. */
    UNCHANGED(
        f, rvm_kernel_region_create(&f->k, kfx_pid(p), &sp, q, RVM_REGION_DATA, R, 1, NULL, NULL),
        RVM_ACT_REGION_CREATE, RVM_ERR_PERMISSION, DEC);
    UNCHANGED(f, rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DEVICE, R, 1, NULL, NULL),
              RVM_ACT_REGION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC);
    UNCHANGED(
        f, rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DATA, R | W | X, 1, NULL, NULL),
        RVM_ACT_REGION_CREATE, RVM_ERR_WX, DEC);
    UNCHANGED(f, rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DATA, R, 0, NULL, NULL),
              RVM_ACT_REGION_CREATE, RVM_ERR_INVALID_ARGUMENT, DEC);
    UNCHANGED(f,
              rvm_kernel_region_create(&f->k, 0, NULL, p, RVM_REGION_DATA, R, 100000, NULL, NULL),
              RVM_ACT_REGION_CREATE, RVM_ERR_OUT_OF_RANGE, PRE);
    struct rvm_handle stale = {q.index, q.generation + 2u};
    UNCHANGED(f, rvm_kernel_region_create(&f->k, 0, NULL, stale, RVM_REGION_DATA, R, 1, NULL, NULL),
              RVM_ACT_REGION_CREATE, RVM_ERR_STALE, DEC);

    /* Map (P2): ipa, perms within the region and within the capability. */
    struct rvm_kernel_auth ra = kfx_auth(rc, 1);
    UNCHANGED(f, rvm_kernel_region_map(&f->k, kfx_pid(p), &ra, r, 0x10001000 + 1, R),
              RVM_ACT_REGION_MAP, RVM_ERR_ALIGNMENT, DEC);
    ra.nonce = 2;
    UNCHANGED(f, rvm_kernel_region_map(&f->k, kfx_pid(p), &ra, r, 0x10000000, R | X),
              RVM_ACT_REGION_MAP, RVM_ERR_CAP_RIGHTS, P1);
    struct rvm_handle ro;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(p), rc, p, RVM_CAP_READ, 0, &ro), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_CAP_DELEGATE);
    struct rvm_kernel_auth roa = kfx_auth(ro, 3);
    UNCHANGED(f, rvm_kernel_region_map(&f->k, kfx_pid(p), &roa, r, 0x10000000, R | W),
              RVM_ACT_REGION_MAP, RVM_ERR_CAP_RIGHTS, P1);
    ra.nonce = 4;
    assert_int_equal(rvm_kernel_region_map(&f->k, kfx_pid(p), &ra, r, 0x10000000, R | W), RVM_OK);
    rec = kfx_last(f);
    assert_int_equal(rec.kind, 0x27);
    assert_int_equal(rec.tier, 2);
    assert_int_equal(rec.flags, R | W);
    assert_int_equal(rec.payload, 0x10000000);
    assert_int_equal(rec.aux, reg->hpa);
    const struct rvm_hal *hal = rvm_sim_platform_hal(&f->plat);
    assert_int_equal(hal->ops->guest_write(hal->ctx, kfx_pid(p), rvm_ipa(0x10000000), "abc", 3),
                     RVM_OK);
    ra.nonce = 5;
    UNCHANGED(f, rvm_kernel_region_map(&f->k, kfx_pid(p), &ra, r, 0x20000000, R),
              RVM_ACT_REGION_MAP, RVM_ERR_WRONG_STATE, PRE);
    struct rvm_handle r2 = kfx_region(f, p, RVM_REGION_DATA, 1, 0, 0);
    UNCHANGED(f, rvm_kernel_region_map(&f->k, 0, NULL, r2, 0x10002000, R), RVM_ACT_REGION_MAP,
              RVM_ERR_OVERLAP, PRE);
    /* Destroy needs it unmapped. */
    UNCHANGED(f, rvm_kernel_region_destroy(&f->k, 0, NULL, r), RVM_ACT_REGION_DESTROY,
              RVM_ERR_WRONG_STATE, PRE);
    /* Unmap: the translation is gone (no stale TLB entry survives the kernel's invalidation). */
    uint8_t b[3];
    struct rvm_sim_guest_fault gf;
    assert_int_equal(rvm_kernel_schedule(&f->k, 0), RVM_OK);
    assert_int_equal(f->k.cpus[0].loaded, kfx_pid(p));
    assert_int_equal(
        rvm_sim_platform_guest_access(&f->plat, 0, RVM_SIM_READ, 0x10000000, b, 1, &gf),
        RVM_OK); /* fills the TLB */
    assert_int_equal(rvm_kernel_region_unmap(&f->k, 0, NULL, r), RVM_OK);
    assert_int_equal(kfx_last(f).kind, 0x28);
    struct rvm_sim_isolation_report rep;
    assert_int_equal(rvm_sim_platform_check_isolation(&f->plat, &rep), RVM_OK);
    assert_int_equal(
        rvm_sim_platform_guest_access(&f->plat, 0, RVM_SIM_READ, 0x10000000, b, 1, &gf),
        RVM_ERR_GUEST_FAULT);
    UNCHANGED(f, rvm_kernel_region_unmap(&f->k, 0, NULL, r), RVM_ACT_REGION_UNMAP,
              RVM_ERR_WRONG_STATE, PRE);
    /* Destroy: capabilities revoked, pages scrubbed and freed. */
    const uint64_t hpa = reg->hpa;
    uint8_t *host = rvm_sim_platform_ram(&f->plat, hpa, 4 * KPG);
    assert_int_equal(host[0], 'a');
    ra.nonce = 6;
    assert_int_equal(rvm_kernel_region_destroy(&f->k, kfx_pid(p), &ra, r), RVM_OK);
    rec = kfx_last(f);
    assert_int_equal(rec.kind, 0x21);
    assert_int_equal(rec.payload, hpa);
    for (size_t i = 0; i < 4 * KPG; i++) {
        assert_int_equal(host[i], 0);
    }
    assert_null(rvm_cap_get(&f->k.caps, rc));
    assert_null(rvm_cap_get(&f->k.caps, ro));
    UNCHANGED(f, rvm_kernel_region_map(&f->k, 0, NULL, r, 0x10000000, R), RVM_ACT_REGION_MAP,
              RVM_ERR_STALE, DEC);
    kfx_check(f);
    kfx_free(f);
}

/* A read capability granted on someone else's region names it but gives no authority over the
 * owner's address space: unmap and destroy by the grantee are refused at P1 (REVOKE missing),
 * witnessed, and change nothing. Authority that the owner delegates on purpose (REVOKE) works. */
static void test_region_unmap_destroy_need_revoke(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_kernel_auth sp = self_auth(f, p, 0);
    struct rvm_handle r, rc, qread, qrevoke;
    assert_int_equal(
        rvm_kernel_region_create(&f->k, kfx_pid(p), &sp, p, RVM_REGION_DATA, R | W, 1, &r, &rc),
        RVM_OK);
    struct rvm_kernel_auth ra = kfx_auth(rc, 1);
    assert_int_equal(rvm_kernel_region_map(&f->k, kfx_pid(p), &ra, r, 0x10000000, R | W), RVM_OK);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(p), rc, q, RVM_CAP_READ, 0, &qread),
                     RVM_OK);

    struct rvm_kernel_auth qa = kfx_auth(qread, 1);
    UNCHANGED(f, rvm_kernel_region_unmap(&f->k, kfx_pid(q), &qa, r), RVM_ACT_REGION_UNMAP,
              RVM_ERR_CAP_RIGHTS, P1);
    qa.nonce = 2;
    UNCHANGED(f, rvm_kernel_region_destroy(&f->k, kfx_pid(q), &qa, r), RVM_ACT_REGION_DESTROY,
              RVM_ERR_CAP_RIGHTS, P1);
    assert_true(rvm_region_get(&f->k.regions, r)->mapped);

    assert_int_equal(
        rvm_kernel_cap_grant(&f->k, kfx_pid(p), rc, q, RVM_CAP_READ | RVM_CAP_REVOKE, 0, &qrevoke),
        RVM_OK);
    struct rvm_kernel_auth qr = kfx_auth(qrevoke, 3);
    assert_int_equal(rvm_kernel_region_unmap(&f->k, kfx_pid(q), &qr, r), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_UNMAP);
    assert_false(rvm_region_get(&f->k.regions, r)->mapped);
    kfx_check(f);
    kfx_free(f);
}

static void test_region_share(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_handle data = kfx_region(f, p, RVM_REGION_DATA, 1, 0, 0);
    struct rvm_handle imm = kfx_region(f, p, RVM_REGION_IMMUTABLE, 1, 0, 0);
    struct rvm_handle icap = kfx_cap(f, RVM_CAP_TYPE_REGION, imm, kfx_pid(p));
    struct rvm_kernel_auth a = kfx_auth(icap, 0);
    UNCHANGED(f, rvm_kernel_region_share(&f->k, kfx_pid(p), &a, imm, p, R, NULL, NULL),
              RVM_ACT_REGION_SHARE, RVM_ERR_INVALID_ARGUMENT, DEC);
    struct rvm_handle dcap = kfx_cap(f, RVM_CAP_TYPE_REGION, data, kfx_pid(p));
    struct rvm_kernel_auth da = kfx_auth(dcap, 0);
    UNCHANGED(f, rvm_kernel_region_share(&f->k, kfx_pid(p), &da, data, q, R, NULL, NULL),
              RVM_ACT_REGION_SHARE, RVM_ERR_SHARE, PRE);
    UNCHANGED(f, rvm_kernel_region_share(&f->k, kfx_pid(p), &a, imm, q, R | W, NULL, NULL),
              RVM_ACT_REGION_SHARE, RVM_ERR_SHARE, PRE);
    struct rvm_handle view, vcap;
    assert_int_equal(rvm_kernel_region_share(&f->k, kfx_pid(p), &a, imm, q, R, &view, &vcap),
                     RVM_OK);
    struct krec rec = kfx_last(f);
    assert_int_equal(rec.kind, 0x23);
    assert_int_equal(rec.target, rvm_handle_pack(view));
    assert_int_equal(rec.payload, rvm_handle_pack(imm));
    assert_int_equal(rec.aux, kfx_pid(q) | (uint64_t)kfx_pid(p) << 32);
    const struct rvm_cap_slot *vs = rvm_cap_get(&f->k.caps, vcap);
    assert_int_equal(vs->owner, kfx_pid(q));
    assert_int_equal(vs->rights, RVM_CAP_READ);
    /* The borrower maps its view (read-only) and reads the owner's bytes. */
    uint8_t *host = rvm_sim_platform_ram(&f->plat, rvm_region_get(&f->k.regions, imm)->hpa, KPG);
    memcpy(host, "shared", 6);
    struct rvm_kernel_auth va = kfx_auth(vcap, 1);
    assert_int_equal(rvm_kernel_region_map(&f->k, kfx_pid(q), &va, view,
                                           rvm_region_get(&f->k.regions, imm)->hpa, R),
                     RVM_OK);
    char buf[6];
    const struct rvm_hal *hal = rvm_sim_platform_hal(&f->plat);
    assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(q),
                                          rvm_ipa(rvm_region_get(&f->k.regions, imm)->hpa), buf, 6),
                     RVM_OK);
    assert_memory_equal(buf, "shared", 6);
    UNCHANGED(f, rvm_kernel_region_destroy(&f->k, 0, NULL, imm), RVM_ACT_REGION_DESTROY,
              RVM_ERR_WRONG_STATE, PRE);
    /* The borrower unmaps and releases its own view with the view's READ capability. */
    va.nonce = 2;
    assert_int_equal(rvm_kernel_region_unmap(&f->k, kfx_pid(q), &va, view), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_UNMAP);
    va.nonce = 3;
    assert_int_equal(rvm_kernel_region_destroy(&f->k, kfx_pid(q), &va, view), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_REGION_UNSHARE);
    kfx_check(f);
    kfx_free(f);
}

/* Map refused by the platform: witnessed, nothing changed; unmap refused in a destroy: undone. */
static void test_hal_refusals(void **state)
{
    (void)state;
    struct rkfx fx = rkfx_new(256);
    struct hal_recorder *rec = fx.rec;
    struct rvm_kernel *k = fx.k;
    struct rvm_handle p = rkfx_part(&fx), r1, r2;
    assert_int_equal(rvm_kernel_region_create(k, 0, NULL, p, RVM_REGION_DATA, R | W, 1, &r1, NULL),
                     RVM_OK);
    assert_int_equal(rvm_kernel_region_create(k, 0, NULL, p, RVM_REGION_DATA, R | W, 1, &r2, NULL),
                     RVM_OK);
    hal_recorder_fail(rec, HAL_CALL_MAP, 1, RVM_ERR_HAL);
    uint64_t n0 = rvm_witness_count(&k->log);
    assert_int_equal(rvm_kernel_region_map(k, 0, NULL, r1, 0x10000, R | W), RVM_ERR_HAL);
    assert_int_equal(rvm_witness_count(&k->log), n0 + 1u);
    assert_false(rvm_region_get(&k->regions, r1)->mapped);
    assert_int_equal(rvm_kernel_region_map(k, 0, NULL, r1, 0x10000, R | W), RVM_OK);
    assert_int_equal(rvm_kernel_region_map(k, 0, NULL, r2, 0x20000, R | W), RVM_OK);
    /* The second unmap of a destroy is refused: the first is mapped back, nothing changes. */
    hal_recorder_clear(rec);
    hal_recorder_fail_after(rec, HAL_CALL_UNMAP, 1, 1, RVM_ERR_HAL);
    n0 = rvm_witness_count(&k->log);
    assert_int_equal(rvm_kernel_partition_destroy(k, 0, NULL, p), RVM_ERR_HAL);
    assert_int_equal(rvm_witness_count(&k->log), n0 + 1u);
    assert_true(rvm_region_get(&k->regions, r1)->mapped);
    assert_true(rvm_region_get(&k->regions, r2)->mapped);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_UNMAP), 2);
    assert_int_equal(hal_recorder_count(rec, HAL_CALL_MAP), 1); /* the undo */
    assert_int_equal(rec->calls[rec->ncalls - 1].kind, HAL_CALL_MAP);
    assert_int_equal(rec->calls[rec->ncalls - 1].ipa, 0x10000);
    assert_int_equal(rvm_kernel_check(k), RVM_OK);
    assert_int_equal(rvm_kernel_partition_destroy(k, 0, NULL, p), RVM_OK);
    /* Scrubs of both regions' pages went through the HAL. */
    assert_true(hal_recorder_count(rec, HAL_CALL_PHYS_ZERO) >= 2);
    assert_int_equal(rvm_kernel_refs(k, kfx_pid(p), NULL), 0);
    assert_int_equal(rvm_kernel_check(k), RVM_OK);
    rkfx_free(&fx);
}

/* ---- capabilities ------------------------------------------------------------------------- */

static void test_cap_ops(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle p = kfx_part(f, true);
    struct rvm_handle q = kfx_part(f, true);
    struct rvm_handle self = kfx_p(f, p)->self_cap;
    struct rvm_handle stale = {q.index, q.generation + 2u};
    UNCHANGED(f, rvm_kernel_cap_grant(&f->k, kfx_pid(p), self, stale, RVM_CAP_READ, 0, NULL),
              RVM_ACT_CAP_GRANT, RVM_ERR_STALE, DEC);
    UNCHANGED(f, rvm_kernel_cap_grant(&f->k, kfx_pid(q), self, p, RVM_CAP_READ, 0, NULL),
              RVM_ACT_CAP_GRANT, RVM_ERR_CAP_HOLDER, P1);
    UNCHANGED(f, rvm_kernel_cap_grant(&f->k, kfx_pid(p), self, q, RVM_CAP_REVOKE, 0, NULL),
              RVM_ACT_CAP_GRANT, RVM_ERR_CAP_ESCALATION, P1);
    struct rvm_handle g;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(p), self, q, RVM_CAP_READ, 9, &g), RVM_OK);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_CAP_GRANT);
    assert_int_equal(r.target, rvm_handle_pack(g));
    assert_int_equal(r.aux & 0xFFFFFFFFu, kfx_pid(q));
    /* Attenuate. */
    UNCHANGED(f, rvm_kernel_cap_attenuate(&f->k, kfx_pid(q), self, RVM_CAP_READ),
              RVM_ACT_CAP_ATTENUATE, RVM_ERR_CAP_HOLDER, P1);
    UNCHANGED(f, rvm_kernel_cap_attenuate(&f->k, kfx_pid(q), g, RVM_CAP_WRITE),
              RVM_ACT_CAP_ATTENUATE, RVM_ERR_CAP_ESCALATION, P1);
    assert_int_equal(
        rvm_kernel_cap_attenuate(&f->k, kfx_pid(p), self, RVM_CAP_READ | RVM_CAP_WRITE), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_CAP_ATTENUATE);
    assert_int_equal(r.flags, RVM_CAP_READ | RVM_CAP_WRITE);
    assert_int_equal(r.aux, 2); /* itself and the copy it granted */
    assert_int_equal(rvm_cap_get(&f->k.caps, self)->rights, RVM_CAP_READ | RVM_CAP_WRITE);
    assert_int_equal(rvm_cap_get(&f->k.caps, g)->rights, RVM_CAP_READ);
    /* Revoke: the hypervisor revokes p's root; the self capability and q's copy go with it. */
    struct rvm_handle root = kfx_cap(f, RVM_CAP_TYPE_PARTITION, p, 0);
    uint32_t released = 0;
    UNCHANGED(f, rvm_kernel_cap_revoke(&f->k, kfx_pid(q), g, root, NULL), RVM_ACT_CAP_REVOKE,
              RVM_ERR_CAP_RIGHTS, P1);
    assert_int_equal(rvm_kernel_cap_revoke(&f->k, 0, rvm_cap_no_handle(), root, &released), RVM_OK);
    assert_int_equal(released, 3);
    assert_null(rvm_cap_get(&f->k.caps, g));
    /* Epoch operations are the hypervisor's. */
    UNCHANGED(f, rvm_kernel_cap_epoch_advance(&f->k, kfx_pid(q)), RVM_ACT_CAP_EPOCH_ADVANCE,
              RVM_ERR_PERMISSION, P1);
    UNCHANGED(f, rvm_kernel_cap_epoch_revoke(&f->k, kfx_pid(q), 1, NULL), RVM_ACT_CAP_EPOCH_REVOKE,
              RVM_ERR_PERMISSION, P1);
    assert_int_equal(rvm_kernel_cap_epoch_advance(&f->k, 0), RVM_OK);
    assert_int_equal(kfx_last(f).kind, RVM_ACT_CAP_EPOCH_ADVANCE);
    kfx_check(f);
    kfx_free(f);
}

/* ---- IPC --------------------------------------------------------------------------------------
 */

static void test_ipc(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_kernel_auth sa = self_auth(f, a, 0);
    /* a needs a capability naming b to open a channel to it. */
    UNCHANGED(f, rvm_kernel_channel_create(&f->k, kfx_pid(a), &sa, a, b, NULL, NULL, NULL),
              RVM_ACT_COMM_EDGE_CREATE, RVM_ERR_CAP_OBJECT, P1);
    UNCHANGED(f, rvm_kernel_channel_create(&f->k, kfx_pid(a), &sa, b, a, NULL, NULL, NULL),
              RVM_ACT_COMM_EDGE_CREATE, RVM_ERR_PERMISSION, DEC);
    struct rvm_handle bself = kfx_p(f, b)->self_cap;
    struct rvm_handle tob;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(b), bself, a, RVM_CAP_WRITE, 0, &tob),
                     RVM_OK);
    struct rvm_kernel_auth ta = kfx_auth(tob, 0);
    struct rvm_handle ch, sc, rc;
    assert_int_equal(rvm_kernel_channel_create(&f->k, kfx_pid(a), &ta, a, b, &ch, &sc, &rc),
                     RVM_OK);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, 0x30);
    assert_int_equal(r.target, rvm_handle_pack(ch));
    assert_int_equal(r.payload, kfx_pid(a) | (uint64_t)kfx_pid(b) << 32);
    assert_int_equal(r.aux, rvm_handle_pack(sc));
    assert_int_equal(rvm_cap_get(&f->k.caps, sc)->owner, kfx_pid(a));
    assert_int_equal(rvm_cap_get(&f->k.caps, rc)->owner, kfx_pid(b));
    assert_int_equal(rvm_cap_get(&f->k.caps, rc)->rights, RVM_CAP_READ);
    struct rvm_kernel_auth as = kfx_auth(sc, 0);
    struct rvm_kernel_auth br = kfx_auth(rc, 0);
    /* Sending: only the sender endpoint, with WRITE; the kernel stamps sender and sequence. */
    UNCHANGED(f, rvm_kernel_ipc_send(&f->k, kfx_pid(b), &br, ch, "x", 1, 0, NULL), RVM_ACT_IPC_SEND,
              RVM_ERR_CAP_RIGHTS, P1);
    UNCHANGED(f, rvm_kernel_ipc_send(&f->k, kfx_pid(a), &as, ch, "x", 33, 0, NULL),
              RVM_ACT_IPC_SEND, RVM_ERR_INVALID_ARGUMENT, DEC);
    uint64_t w0 = rvm_graph_weight(&f->k.coh.graph, kfx_pid(a), kfx_pid(b));
    for (uint32_t i = 0; i < f->cfg.queue_depth; i++) {
        uint64_t seq = 0;
        char m[16];
        snprintf(m, sizeof(m), "m%u", i);
        assert_int_equal(rvm_kernel_ipc_send(&f->k, kfx_pid(a), &as, ch, m, 3, 100 + i, &seq),
                         RVM_OK);
        assert_int_equal(seq, i + 1u);
        r = kfx_last(f);
        assert_int_equal(r.kind, 0x32);
        assert_int_equal(r.payload, i + 1u);
        assert_int_equal(r.aux, 3u | (uint64_t)kfx_pid(b) << 32);
    }
    assert_int_equal(rvm_graph_weight(&f->k.coh.graph, kfx_pid(a), kfx_pid(b)),
                     w0 + f->cfg.queue_depth);
    /* Full: OVERLOAD, and nothing queued is dropped or changed. */
    UNCHANGED(f, rvm_kernel_ipc_send(&f->k, kfx_pid(a), &as, ch, "zz", 2, 0, NULL),
              RVM_ACT_IPC_SEND, RVM_ERR_OVERLOAD, PRE);
    /* Receiving: only the receiver. */
    char buf[32];
    struct rvm_kernel_msg m;
    UNCHANGED(f, rvm_kernel_ipc_receive(&f->k, kfx_pid(a), &as, ch, buf, sizeof(buf), &m),
              RVM_ACT_IPC_RECEIVE, RVM_ERR_NOT_ENDPOINT, PRE);
    UNCHANGED(f, rvm_kernel_ipc_receive(&f->k, kfx_pid(b), &br, ch, buf, 2, &m),
              RVM_ACT_IPC_RECEIVE, RVM_ERR_NO_SPACE, PRE);
    for (uint32_t i = 0; i < f->cfg.queue_depth; i++) {
        memset(&m, 0, sizeof(m));
        assert_int_equal(rvm_kernel_ipc_receive(&f->k, kfx_pid(b), &br, ch, buf, sizeof(buf), &m),
                         RVM_OK);
        char want[16];
        snprintf(want, sizeof(want), "m%u", i);
        assert_memory_equal(buf, want, 3);
        assert_int_equal(m.sender, kfx_pid(a));
        assert_int_equal(m.seq, i + 1u);
        assert_int_equal(m.tag, 100 + i);
        r = kfx_last(f);
        assert_int_equal(r.kind, 0x33);
        assert_int_equal(r.payload, i + 1u);
        assert_int_equal(r.aux, kfx_pid(a) | 3ull << 32);
    }
    UNCHANGED(f, rvm_kernel_ipc_receive(&f->k, kfx_pid(b), &br, ch, buf, sizeof(buf), &m),
              RVM_ACT_IPC_RECEIVE, RVM_ERR_EMPTY, PRE);
    /* Destroy needs REVOKE (the receiver's capability has READ only). */
    UNCHANGED(f, rvm_kernel_channel_destroy(&f->k, kfx_pid(b), &br, ch), RVM_ACT_COMM_EDGE_DESTROY,
              RVM_ERR_CAP_RIGHTS, P1);
    assert_int_equal(rvm_kernel_ipc_send(&f->k, kfx_pid(a), &as, ch, "q", 1, 0, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_channel_destroy(&f->k, kfx_pid(a), &as, ch), RVM_OK);
    assert_int_equal(kfx_last(f).payload, 1); /* the queued message, dropped and counted */
    assert_null(rvm_cap_get(&f->k.caps, rc));
    UNCHANGED(f, rvm_kernel_ipc_send(&f->k, kfx_pid(a), &as, ch, "q", 1, 0, NULL), RVM_ACT_IPC_SEND,
              RVM_ERR_STALE, DEC);
    kfx_check(f);
    kfx_free(f);
}

static void one_channel(struct rvm_kernel_config *cfg)
{
    cfg->max_channels = 1;
}

static void test_channel_limit(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(one_channel);
    struct rvm_handle a = kfx_part(f, true);
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, a, NULL, NULL, NULL), RVM_OK);
    UNCHANGED(f, rvm_kernel_channel_create(&f->k, 0, NULL, a, a, NULL, NULL, NULL),
              RVM_ACT_COMM_EDGE_CREATE, RVM_ERR_NO_SPACE, PRE);
    kfx_check(f);
    kfx_free(f);
}

/* ---- devices and leases --------------------------------------------------------------------- */

static void test_leases(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle ctl = kfx_part(f, true);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_handle dev, root;
    UNCHANGED(f, rvm_kernel_device_register(&f->k, kfx_pid(a), 5, NULL, NULL),
              RVM_ACT_DEVICE_REGISTER, RVM_ERR_PERMISSION, P1);
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 5, &dev, &root), RVM_OK);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, 0x44);
    assert_int_equal(r.payload, 5);
    assert_int_equal(r.aux, rvm_handle_pack(root));
    UNCHANGED(f, rvm_kernel_device_register(&f->k, 0, 5, NULL, NULL), RVM_ACT_DEVICE_REGISTER,
              RVM_ERR_EXISTS, PRE);
    /* The hypervisor hands a control partition authority over the device. */
    struct rvm_handle cc;
    assert_int_equal(
        rvm_kernel_cap_grant(&f->k, 0, root, ctl,
                             RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT | RVM_CAP_REVOKE, 0, &cc),
        RVM_OK);
    struct rvm_kernel_auth ca = kfx_auth(cc, 1);
    UNCHANGED(f, rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, a, 0, NULL),
              RVM_ACT_DEVICE_LEASE_GRANT, RVM_ERR_OUT_OF_RANGE, DEC);
    UNCHANGED(
        f, rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, a, f->cfg.max_lease_ns + 1, NULL),
        RVM_ACT_DEVICE_LEASE_GRANT, RVM_ERR_OUT_OF_RANGE, DEC);
    struct rvm_handle lc;
    const uint64_t t0 = f->plat.sim.now_ns;
    assert_int_equal(rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, a, 5000, &lc), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, 0x40);
    assert_int_equal(r.tier, 3);
    assert_int_equal(r.payload, rvm_handle_pack(lc));
    assert_int_equal(r.aux, t0 + 5000);
    const struct rvm_cap_slot *ls = rvm_cap_get(&f->k.caps, lc);
    assert_int_equal(ls->owner, kfx_pid(a));
    assert_int_equal(ls->rights, RVM_CAP_READ | RVM_CAP_WRITE);
    /* No two holders. */
    ca.nonce = 2;
    UNCHANGED(f, rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, b, 5000, NULL),
              RVM_ACT_DEVICE_LEASE_GRANT, RVM_ERR_LEASE_CONFLICT, PRE);
    /* The holder's capability cannot lease further (no GRANT). */
    struct rvm_kernel_auth la = kfx_auth(lc, 1);
    UNCHANGED(f, rvm_kernel_lease_grant(&f->k, kfx_pid(a), &la, dev, b, 5000, NULL),
              RVM_ACT_DEVICE_LEASE_GRANT, RVM_ERR_CAP_RIGHTS, P1);
    /* Interrupts reach the holder. */
    assert_int_equal(rvm_kernel_irq(&f->k, 5), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, 0x35);
    assert_int_equal(r.target, rvm_handle_pack(a));
    assert_int_equal(r.payload, 5);
    assert_int_equal(kfx_p(f, a)->notifications, 1);
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_irq(&f->k, 6), RVM_OK); /* nobody's: completed, ignored */
    assert_int_equal(kfx_count(f), n0);
    /* Renew by the holder (P2) while valid; after expiry P2's lease rule refuses. */
    la.nonce = 2;
    kfx_advance(f, 1000);
    assert_int_equal(rvm_kernel_lease_renew(&f->k, kfx_pid(a), &la, dev, 8000), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, 0x43);
    assert_int_equal(r.payload, t0 + 5000);
    assert_int_equal(r.aux, t0 + 1000 + 8000);
    kfx_advance(f, 9000);
    la.nonce = 3;
    UNCHANGED(f, rvm_kernel_lease_renew(&f->k, kfx_pid(a), &la, dev, 8000),
              RVM_ACT_DEVICE_LEASE_RENEW, RVM_ERR_PROOF_LEASE, P2S);
    UNCHANGED(f, rvm_kernel_lease_renew(&f->k, 0, NULL, dev, 8000), RVM_ACT_DEVICE_LEASE_RENEW,
              RVM_ERR_LEASE_EXPIRED, PRE);
    /* The tick reaps it. */
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_false(f->k.devs[dev.index].leased);
    assert_null(rvm_cap_get(&f->k.caps, lc));
    UNCHANGED(f, rvm_kernel_lease_renew(&f->k, 0, NULL, dev, 8000), RVM_ACT_DEVICE_LEASE_RENEW,
              RVM_ERR_WRONG_STATE, PRE);
    /* Revoke needs REVOKE on the lease capability or an ancestor. */
    ca.nonce = 3;
    assert_int_equal(rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, b, 5000, &lc), RVM_OK);
    struct rvm_kernel_auth lb = kfx_auth(lc, 0);
    UNCHANGED(f, rvm_kernel_lease_revoke(&f->k, kfx_pid(b), &lb, dev), RVM_ACT_DEVICE_LEASE_REVOKE,
              RVM_ERR_CAP_RIGHTS, P1);
    struct rvm_kernel_auth cr = kfx_auth(cc, 0);
    assert_int_equal(rvm_kernel_lease_revoke(&f->k, kfx_pid(ctl), &cr, dev), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, 0x41);
    assert_int_equal(r.payload, rvm_handle_pack(lc));
    assert_int_equal(r.aux, kfx_pid(b));
    assert_false(f->k.devs[dev.index].leased);
    UNCHANGED(f, rvm_kernel_lease_revoke(&f->k, kfx_pid(ctl), &cr, dev),
              RVM_ACT_DEVICE_LEASE_REVOKE, RVM_ERR_WRONG_STATE, PRE);
    /* A lease whose capability is revoked another way ends too. */
    ca.nonce = 4;
    assert_int_equal(rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, b, 5000, &lc), RVM_OK);
    assert_int_equal(rvm_kernel_cap_revoke(&f->k, kfx_pid(ctl), cc, lc, NULL), RVM_OK);
    assert_false(f->k.devs[dev.index].leased);
    kfx_check(f);
    /* Epoch revocation: every capability rooted in epoch 1 goes, leases with them. */
    ca.nonce = 5;
    assert_int_equal(rvm_kernel_lease_grant(&f->k, kfx_pid(ctl), &ca, dev, b, 5000, &lc), RVM_OK);
    assert_int_equal(rvm_kernel_cap_epoch_advance(&f->k, 0), RVM_OK);
    uint32_t released = 0;
    UNCHANGED(f, rvm_kernel_cap_epoch_revoke(&f->k, 0, 7, NULL), RVM_ACT_CAP_EPOCH_REVOKE,
              RVM_ERR_OUT_OF_RANGE, DEC);
    assert_int_equal(rvm_kernel_cap_epoch_revoke(&f->k, 0, 1, &released), RVM_OK);
    r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_CAP_EPOCH_REVOKE);
    assert_int_equal(r.payload, 1);
    assert_int_equal(r.aux, released);
    assert_int_equal(f->k.caps.live, 0);
    assert_false(f->k.devs[dev.index].leased);
    kfx_check(f);
    kfx_free(f);
}

/* ---- split and merge ----------------------------------------------------------------------- */

/* DC-9 as documented, written out independently. */
static bool model_moves(double local_b, double residency, double pages_a, double pages_b,
                        double npages, double total)
{
    double la = 1.0 - local_b;
    double sa = 1.0 - (pages_a + npages) / total;
    double sb = 1.0 - (pages_b + npages) / total;
    if (sa < 0) {
        sa = 0;
    }
    if (sb < 0) {
        sb = 0;
    }
    double score_a = 0.5 * la + 0.3 * la * residency / 20000.0 + 0.2 * sa;
    double score_b = 0.5 * local_b + 0.3 * local_b * residency / 20000.0 + 0.2 * sb;
    return score_b > score_a + 1e-9;
}

static void test_split(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle x1 = kfx_part(f, true);
    struct rvm_handle x2 = kfx_part(f, true);
    struct rvm_handle s = kfx_part(f, true);
    struct rvm_handle y1 = kfx_part(f, true);
    struct rvm_handle y2 = kfx_part(f, true);
    /* Without a cut the split is not justified. */
    UNCHANGED(f, rvm_kernel_partition_split(&f->k, 0, NULL, s, NULL), RVM_ACT_PARTITION_SPLIT,
              RVM_ERR_CUT_STALE, PRE);
    kfx_traffic(f, x1, x2, 100);
    kfx_traffic(f, y1, y2, 100);
    kfx_traffic(f, s, x1, 30);
    kfx_traffic(f, s, y1, 30);
    /* s has sent a message on each side that is still queued */
    struct rvm_handle qx = kfx_queued(f, s, x1);
    struct rvm_handle qy = kfx_queued(f, s, y1);
    /* s's memory: two equal DATA regions and an IMMUTABLE one it runs code from. */
    struct rvm_handle d1 = kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x100000);
    struct rvm_handle d2 = kfx_region(f, s, RVM_REGION_DATA, 1, R | W, 0x200000);
    struct rvm_handle code = kfx_region(f, s, RVM_REGION_IMMUTABLE, 1, R | X, 0x1000);
    memcpy(rvm_sim_platform_ram(&f->plat, rvm_region_get(&f->k.regions, d2)->hpa, 8), "moveme!", 8);
    /* s holds a capability on x1 (shared object) with GRANT, and one on its own region. */
    struct rvm_handle xs;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, kfx_pid(x1), kfx_p(f, x1)->self_cap, s,
                                          RVM_CAP_READ | RVM_CAP_WRITE | RVM_CAP_GRANT, 0, &xs),
                     RVM_OK);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    assert_true(f->k.coh.have_cut);
    /* Expected assignment from the documented rule. */
    uint32_t g;
    assert_int_equal(rvm_graph_find(&f->k.coh.graph, kfx_pid(s), &g), RVM_OK);
    const uint8_t side = f->k.coh.cut_side[g];
    uint64_t cross = 0, total = rvm_graph_internal(&f->k.coh.graph, g);
    struct rvm_handle others[4] = {x1, x2, y1, y2};
    for (int i = 0; i < 4; i++) {
        uint32_t go;
        assert_int_equal(rvm_graph_find(&f->k.coh.graph, kfx_pid(others[i]), &go), RVM_OK);
        uint64_t w = rvm_graph_w(&f->k.coh.graph, g, go);
        total += w;
        if (f->k.coh.cut_side[go] != side) {
            cross += w;
        }
    }
    assert_true(cross > 0);
    double lb = (double)(uint32_t)(cross * 10000 / total) / 10000.0;
    double res1 = rvm_tier_residency(&rvm_region_get(&f->k.regions, d1)->tier);
    double res2 = rvm_tier_residency(&rvm_region_get(&f->k.regions, d2)->tier);
    bool m1 = model_moves(lb, res1, 0, 0, 1, 2);
    bool m2 = model_moves(lb, res2, m1 ? 0 : 1, m1 ? 1 : 0, 1, 2);
    assert_true(m1 || m2); /* the pattern is made so that one of them moves */
    struct rvm_handle child;
    uint64_t n0 = kfx_count(f);
    assert_int_equal(rvm_kernel_partition_split(&f->k, 0, NULL, s, &child), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_PARTITION_SPLIT);
    assert_int_equal(r.target, rvm_handle_pack(s));
    assert_int_equal(r.payload, rvm_handle_pack(child));
    assert_int_equal(r.aux & 0xFFFF, (uint64_t)m1 + (uint64_t)m2);
    assert_int_equal((r.aux >> 16) & 0xFFFF, 2); /* the two channels to the other side */
    assert_int_equal(rvm_kernel_partition_state(&f->k, child), RVM_KPART_RUNNING);
    /* The channel that moved to the child carries s's queued message as the child's (found by
     * rvmsim: stamped s, it outlived s and named a dead partition); the other still says s. */
    const bool qy_moved = f->k.chans[qy.index].a == kfx_pid(child);
    const struct rvm_handle qm = qy_moved ? qy : qx, qs = qy_moved ? qx : qy;
    assert_int_equal(f->k.chans[qm.index].a, kfx_pid(child));
    assert_int_equal(kfx_oldest_sender(f, qm), kfx_pid(child));
    assert_int_equal(kfx_oldest_sender(f, qs), kfx_pid(s));
    const struct rvm_handle moved = m2 ? d2 : d1;
    const struct rvm_region *mr = rvm_region_get(&f->k.regions, moved);
    assert_int_equal(mr->owner, kfx_pid(child));
    assert_true(mr->mapped);
    /* The child reads the moved region at the same address; the source no longer can. */
    const struct rvm_hal *hal = rvm_sim_platform_hal(&f->plat);
    uint8_t b[8];
    const uint64_t mipa = m2 ? 0x200000 : 0x100000;
    assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(child), rvm_ipa(mipa), b, 8), RVM_OK);
    if (m2) {
        assert_memory_equal(b, "moveme!", 8);
    }
    assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(s), rvm_ipa(mipa), b, 8),
                     RVM_ERR_GUEST_FAULT);
    /* The child runs the shared code through a read-only view at the same address. */
    assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(child), rvm_ipa(0x1000), b, 4), RVM_OK);
    assert_int_equal(hal->ops->guest_write(hal->ctx, kfx_pid(child), rvm_ipa(0x1000), b, 4),
                     RVM_ERR_GUEST_FAULT);
    assert_int_equal(rvm_region_get(&f->k.regions, code)->owner, kfx_pid(s));
    /* Capabilities followed: the moved region's capability is the child's now. */
    struct rvm_handle mcap = kfx_cap(f, RVM_CAP_TYPE_REGION, moved, kfx_pid(child));
    (void)mcap;
    /* The shared one: s keeps READ only, the child got a READ copy. */
    assert_int_equal(rvm_cap_get(&f->k.caps, xs)->rights, RVM_CAP_READ);
    struct rvm_handle ccopy = kfx_cap(f, RVM_CAP_TYPE_PARTITION, x1, kfx_pid(child));
    assert_int_equal(rvm_cap_get(&f->k.caps, ccopy)->rights, RVM_CAP_READ);
    /* Cooldown: no second split right away. */
    UNCHANGED(f, rvm_kernel_partition_split(&f->k, 0, NULL, s, NULL), RVM_ACT_PARTITION_SPLIT,
              RVM_ERR_COHERENCE_HOLD, PRE);
    struct rvm_sim_isolation_report rep;
    assert_int_equal(rvm_sim_platform_check_isolation(&f->plat, &rep), RVM_OK);
    kfx_check(f);
    /* Lifecycle path: both halves destroyed leave nothing (s first: the child's channel and the
     * message on it stay, and must not name s). */
    assert_int_equal(rvm_kernel_partition_destroy(&f->k, 0, NULL, s), RVM_OK);
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(s), NULL), 0);
    kfx_check(f);
    assert_int_equal(rvm_kernel_partition_destroy(&f->k, 0, NULL, child), RVM_OK);
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(child), NULL), 0);
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(s), NULL), 0);
    kfx_check(f);
    kfx_free(f);
}

static void small_cap_quota(struct rvm_kernel_config *cfg)
{
    cfg->max_caps_per_partition = 2;
}

static void test_merge(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    struct rvm_handle c = kfx_part(f, true);
    struct rvm_handle z = kfx_part(f, false);
    /* No channel between them. */
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_MERGE_NO_CHANNEL, PRE);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, a), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_INVALID_ARGUMENT, DEC);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, z), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_COHERENCE_STATE, PRE);
    /* A channel but weak mutual coherence: a talks mostly to c. */
    kfx_traffic(f, a, b, 10);
    kfx_traffic(f, a, c, 100);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_COHERENCE_LOW, PRE);
    /* Strong: a and b talk to each other. */
    kfx_traffic(f, b, a, 400);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    /* b holds a lease: conflict. */
    struct rvm_handle dev;
    assert_int_equal(rvm_kernel_device_register(&f->k, 0, 9, &dev, NULL), RVM_OK);
    assert_int_equal(rvm_kernel_lease_grant(&f->k, 0, NULL, dev, b, 1000000, NULL), RVM_OK);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_MERGE_LEASE_CONFLICT, PRE);
    assert_int_equal(rvm_kernel_lease_revoke(&f->k, 0, NULL, dev), RVM_OK);
    /* Overlapping mappings. */
    struct rvm_handle ra = kfx_region(f, a, RVM_REGION_DATA, 1, R | W, 0x100000);
    struct rvm_handle rb = kfx_region(f, b, RVM_REGION_DATA, 1, R | W, 0x100000);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_MERGE_REGION_OVERLAP, PRE);
    assert_int_equal(rvm_kernel_region_unmap(&f->k, 0, NULL, rb), RVM_OK);
    assert_int_equal(rvm_kernel_region_map(&f->k, 0, NULL, rb, 0x200000, R | W), RVM_OK);
    memcpy(rvm_sim_platform_ram(&f->plat, rvm_region_get(&f->k.regions, rb)->hpa, 6), "b-data", 6);
    /* A partition merges two it holds capabilities for: P2 on the absorber, P1 on the other. */
    struct rvm_handle aroot = kfx_cap(f, RVM_CAP_TYPE_PARTITION, a, 0);
    struct rvm_handle broot = kfx_cap(f, RVM_CAP_TYPE_PARTITION, b, 0);
    struct rvm_handle ca, cb;
    assert_int_equal(rvm_kernel_cap_grant(&f->k, 0, aroot, c, RVM_CAP_WRITE, 0, &ca), RVM_OK);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, 0, broot, c, RVM_CAP_READ, 0, &cb), RVM_OK);
    struct rvm_kernel_auth aa = kfx_auth(ca, 1);
    struct rvm_kernel_auth ab = kfx_auth(cb, 0);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, kfx_pid(c), &aa, a, &ab, b),
              RVM_ACT_PARTITION_MERGE, RVM_ERR_CAP_RIGHTS, P1);
    assert_int_equal(rvm_kernel_cap_grant(&f->k, 0, broot, c, RVM_CAP_WRITE, 0, &cb), RVM_OK);
    ab = kfx_auth(cb, 0);
    const uint32_t bcaps = 0;
    (void)bcaps;
    struct rvm_handle bself = kfx_p(f, b)->self_cap;
    (void)bself;
    /* b has sent a message to a that is still queued */
    struct rvm_handle qb = kfx_queued(f, b, a);
    uint64_t n0 = kfx_count(f);
    aa.nonce = 2;
    assert_int_equal(rvm_kernel_partition_merge(&f->k, kfx_pid(c), &aa, a, &ab, b), RVM_OK);
    assert_int_equal(kfx_count(f), n0 + 1u);
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, RVM_ACT_PARTITION_MERGE);
    assert_int_equal(r.tier, 2);
    assert_int_equal(r.target, rvm_handle_pack(a));
    assert_int_equal(r.payload, rvm_handle_pack(b));
    assert_int_equal(r.aux & 0xFFFF, 1);
    /* b is gone; its region is a's, mapped at the same address in a's space. */
    assert_int_equal(rvm_kernel_partition_state(&f->k, b), RVM_KPART_FREE);
    assert_int_equal(rvm_kernel_refs(&f->k, kfx_pid(b), NULL), 0);
    /* its queued message is the absorber's now (found by rvmsim: it named b after b was gone) */
    assert_int_equal(kfx_oldest_sender(f, qb), kfx_pid(a));
    assert_int_equal(rvm_region_get(&f->k.regions, rb)->owner, kfx_pid(a));
    const struct rvm_hal *hal = rvm_sim_platform_hal(&f->plat);
    char buf[6];
    assert_int_equal(hal->ops->guest_read(hal->ctx, kfx_pid(a), rvm_ipa(0x200000), buf, 6), RVM_OK);
    assert_memory_equal(buf, "b-data", 6);
    /* b's capability on its region followed it to a (rehomed, P1 now passes for a). */
    struct rvm_handle rbcap = kfx_cap(f, RVM_CAP_TYPE_REGION, rb, kfx_pid(a));
    struct rvm_kernel_auth ra2 = kfx_auth(rbcap, 0);
    assert_int_equal(rvm_kernel_region_unmap(&f->k, kfx_pid(a), &ra2, rb), RVM_OK);
    /* Channels: the b -> a channel is now a -> a. */
    bool loop = false;
    for (uint32_t i = 0; i < f->cfg.max_channels; i++) {
        loop |=
            f->k.chans[i].used && f->k.chans[i].a == kfx_pid(a) && f->k.chans[i].b == kfx_pid(a);
    }
    assert_true(loop);
    (void)ra;
    kfx_check(f);
    kfx_free(f);
}

static void test_merge_cap_quota(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(small_cap_quota);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    kfx_traffic(f, a, b, 100);
    assert_int_equal(rvm_kernel_epoch(&f->k), RVM_OK);
    UNCHANGED(f, rvm_kernel_partition_merge(&f->k, 0, NULL, a, NULL, b), RVM_ACT_PARTITION_MERGE,
              RVM_ERR_MERGE_CAP_INTERSECTION, PRE);
    kfx_check(f);
    kfx_free(f);
}

static void apply(struct rvm_kernel_config *cfg)
{
    cfg->apply_decisions = 1;
}

/* The tick carries out the engine's decision (a merge of a pair that only talks to itself). */
static void test_tick_applies_decision(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(apply);
    struct rvm_handle a = kfx_part(f, true);
    struct rvm_handle b = kfx_part(f, true);
    kfx_part(f, true);
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, a, b, &ch, NULL, NULL), RVM_OK);
    bool merged = false;
    char buf[32];
    for (int e = 0; e < 10 && !merged; e++) {
        for (int i = 0; i < 50; i++) {
            assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, "t", 1, 0, NULL), RVM_OK);
            assert_int_equal(rvm_kernel_ipc_receive(&f->k, 0, NULL, ch, buf, 32, NULL), RVM_OK);
        }
        kfx_advance(f, f->cfg.epoch_ns);
        assert_int_equal(rvm_kernel_timer(&f->k, 0), RVM_OK);
        merged = rvm_kernel_partition_state(&f->k, b) == RVM_KPART_FREE;
        kfx_check(f);
    }
    assert_true(merged);
    bool seen = false;
    for (uint64_t s = 0; s < kfx_count(f); s++) {
        struct krec r = kfx_rec(f, s);
        if (r.kind == RVM_ACT_PARTITION_MERGE) {
            seen = true;
            assert_int_equal(r.actor, 0);
            assert_int_equal(r.target, rvm_handle_pack(a));
        }
    }
    assert_true(seen);
    kfx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition_create),
        cmocka_unit_test(test_partition_create_caps_full),
        cmocka_unit_test(test_partition_transitions_gated),
        cmocka_unit_test(test_start_affinity_offline),
        cmocka_unit_test(test_hibernate_errors),
        cmocka_unit_test(test_reconstruct_no_memory),
        cmocka_unit_test(test_checkpoint_errors),
        cmocka_unit_test(test_region_ops),
        cmocka_unit_test(test_region_unmap_destroy_need_revoke),
        cmocka_unit_test(test_region_share),
        cmocka_unit_test(test_hal_refusals),
        cmocka_unit_test(test_cap_ops),
        cmocka_unit_test(test_ipc),
        cmocka_unit_test(test_channel_limit),
        cmocka_unit_test(test_leases),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_cap_quota),
        cmocka_unit_test(test_tick_applies_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
