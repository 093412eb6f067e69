/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture for the kernel tests: a kernel on the platform-backed simulated HAL (AArch64
 * stage-2 or RISC-V PMP, real table walks for guest memory), a memory witness sink, and record
 * assertions that decode the raw 64-byte images at the offsets of docs/witness-format.md (not
 * through the code under test).
 */
#ifndef RVM_TESTS_KERNEL_FIXTURE_H
#define RVM_TESTS_KERNEL_FIXTURE_H

#include "test_support.h"

#include "hal_platform.h"
#include "sink_memory.h"

#include "rvm/crypto_portable.h"
#include "rvm/kernel.h"

#include <stdbool.h>

#define KPG 4096ull

struct kfx {
    struct rvm_crypto crypto;
    struct rvm_sim_platform plat;
    struct rvm_memory_sink sink;
    struct rvm_kernel_config cfg;
    void *storage;
    size_t storage_bytes;
    struct rvm_kernel k;
    uint64_t guest_base; /* the platform's guest RAM */
    uint64_t guest_size;
};

typedef void (*kfx_tweak)(struct rvm_kernel_config *cfg);

static inline uint64_t kfx_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* A small test configuration on the platform's guest RAM. */
static inline void kfx_small_config(struct rvm_kernel_config *cfg, const struct kfx *f)
{
    rvm_kernel_default_config(cfg);
    cfg->arch = f->plat.cfg.arch == RVM_SIM_ARCH_RISCV ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
    cfg->ncpus = 2;
    cfg->nvmids = 32;
    cfg->ram_base = f->guest_base;
    cfg->ram_pages = (uint32_t)(f->guest_size / KPG);
    cfg->max_partitions = 16;
    cfg->max_caps = 256;
    cfg->max_regions = 48;
    cfg->max_channels = 16;
    cfg->queue_depth = 4;
    cfg->msg_bytes = 32;
    cfg->max_devices = 4;
    cfg->witness_ring = 256;
    cfg->coherence_nodes = 16;
    cfg->scratch_pages = 4;
    cfg->image_bytes = 64u * 1024u;
    cfg->max_images = 96;
    cfg->max_caps_per_partition = 64;
    cfg->apply_decisions = 0;
}

static inline struct kfx *kfx_new_arch(enum rvm_sim_arch arch, kfx_tweak tweak, bool boot)
{
    struct kfx *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_default_config(&pc, arch);
    pc.cpus = 4;
    assert_int_equal(rvm_sim_platform_init(&f->plat, &f->crypto, &pc), RVM_OK);
    rvm_memory_sink_init(&f->sink, NULL);
    rvm_sim_hal_set_sink(&f->plat.sim, &rvm_memory_sink_ops, &f->sink);
    rvm_sim_platform_guest_ram(&f->plat, &f->guest_base, &f->guest_size);
    /* 2 MiB of guest RAM is plenty and keeps the allocator's checks cheap. */
    if (f->guest_size > 2u * 1024u * 1024u) {
        f->guest_size = 2u * 1024u * 1024u;
    }
    kfx_small_config(&f->cfg, f);
    if (tweak != NULL) {
        tweak(&f->cfg);
    }
    f->storage_bytes = rvm_kernel_storage_bytes(&f->cfg);
    assert_true(f->storage_bytes != 0);
    f->storage = aligned_alloc(64, (f->storage_bytes + 63u) & ~(size_t)63u);
    assert_non_null(f->storage);
    assert_int_equal(rvm_kernel_init(&f->k, rvm_sim_platform_hal(&f->plat), &f->cfg, f->storage,
                                     f->storage_bytes),
                     RVM_OK);
    if (boot) {
        assert_int_equal(rvm_kernel_boot(&f->k), RVM_OK);
    }
    return f;
}

static inline struct kfx *kfx_new(kfx_tweak tweak)
{
    return kfx_new_arch(RVM_SIM_ARCH_AARCH64, tweak, true);
}

static inline void kfx_free(struct kfx *f)
{
    rvm_memory_sink_free(&f->sink);
    rvm_sim_platform_free(&f->plat);
    free(f->storage);
    free(f);
}

static inline void kfx_advance(struct kfx *f, uint64_t ns)
{
    rvm_sim_hal_advance(&f->plat.sim, ns);
}

static inline uint64_t kfx_count(const struct kfx *f)
{
    return rvm_witness_count(&f->k.log);
}

/* A record decoded from the sink's raw bytes. */
struct krec {
    uint64_t seq, time;
    uint8_t kind, tier, flags;
    uint32_t actor;
    uint64_t target;
    uint32_t cap_hash;
    uint64_t payload, aux;
};

static inline struct krec kfx_rec(struct kfx *f, uint64_t seq)
{
    assert_int_equal(rvm_witness_flush(&f->k.log), RVM_OK);
    assert_true(seq < f->sink.count);
    const uint8_t *p = f->sink.records + seq * 64u;
    struct krec r = {kfx_le(p, 8),
                     kfx_le(p + 8, 8),
                     p[16],
                     p[17],
                     p[18],
                     (uint32_t)kfx_le(p + 20, 4),
                     kfx_le(p + 24, 8),
                     (uint32_t)kfx_le(p + 32, 4),
                     kfx_le(p + 36, 8),
                     kfx_le(p + 52, 8)};
    return r;
}

static inline struct krec kfx_last(struct kfx *f)
{
    assert_true(kfx_count(f) > 0);
    return kfx_rec(f, kfx_count(f) - 1u);
}

/* The most recent record is a rejection of `kind` with `err` at `stage` (0: any stage). */
static inline void kfx_rejected(struct kfx *f, uint8_t kind, enum rvm_err err, uint8_t stage)
{
    struct krec r = kfx_last(f);
    assert_int_equal(r.kind, 0x53);
    if ((uint32_t)(r.payload & 0xFFFFFFFFu) != (uint32_t)err) {
        fail_msg("rejected with %s, expected %s",
                 rvm_err_name((enum rvm_err)(r.payload & 0xFFFFFFFFu)), rvm_err_name(err));
    }
    assert_int_equal((r.payload >> 32) & 0xFFu, kind);
    if (stage != 0) {
        assert_int_equal(r.flags, stage);
    }
}

/* Run `call`, which must fail with `err` and append exactly one rejection of `kind`. */
#define KFX_REFUSED(f, call, kind, err, stage)                                                     \
    do {                                                                                           \
        uint64_t kfx_n0_ = kfx_count(f);                                                           \
        assert_int_equal((call), (err));                                                           \
        assert_int_equal(kfx_count(f), kfx_n0_ + 1u);                                              \
        kfx_rejected((f), (kind), (err), (stage));                                                 \
    } while (0)

static inline void kfx_check(const struct kfx *f)
{
    enum rvm_err err = rvm_kernel_check(&f->k);
    if (err != RVM_OK) {
        fail_msg("rvm_kernel_check: %s", rvm_err_name(err));
    }
}

static inline void kfx_digest(const struct kfx *f, uint8_t out[16])
{
    rvm_kernel_digest(&f->k, out);
}

/* Create and start a partition as the hypervisor. */
static inline struct rvm_handle kfx_part(struct kfx *f, bool start)
{
    struct rvm_kernel_partition_req req = {0x1000, {7, 8}, 0, 100};
    struct rvm_handle h;
    assert_int_equal(rvm_kernel_partition_create(&f->k, 0, NULL, &req, &h, NULL), RVM_OK);
    if (start) {
        assert_int_equal(rvm_kernel_partition_start(&f->k, 0, NULL, h), RVM_OK);
    }
    return h;
}

static inline struct rvm_kpart *kfx_p(struct kfx *f, struct rvm_handle h)
{
    return &f->k.parts[h.index];
}

/* A DATA region of `pages` for `owner` (as the hypervisor), mapped at `ipa` (0: at its host
 * address, which RISC-V requires) with `perms` (0: unmapped). */
static inline struct rvm_handle kfx_region(struct kfx *f, struct rvm_handle owner, uint32_t type,
                                           uint32_t pages, uint32_t perms, uint64_t ipa)
{
    struct rvm_handle r;
    uint32_t rperms =
        type == RVM_REGION_DATA ? (RVM_PERM_R | RVM_PERM_W) : (RVM_PERM_R | RVM_PERM_X);
    assert_int_equal(rvm_kernel_region_create(&f->k, 0, NULL, owner, type, rperms, pages, &r, NULL),
                     RVM_OK);
    if (perms != 0) {
        if (ipa == 0) {
            ipa = rvm_region_get(&f->k.regions, r)->hpa;
        }
        assert_int_equal(rvm_kernel_region_map(&f->k, 0, NULL, r, ipa, perms), RVM_OK);
    }
    return r;
}

/* The root capability naming (type, object) held by `owner`, found by scanning the table. */
static inline struct rvm_handle kfx_cap(const struct kfx *f, uint8_t type, struct rvm_handle object,
                                        uint32_t owner)
{
    for (uint32_t i = 0; i < f->k.caps.capacity; i++) {
        const struct rvm_cap_slot *s = &f->k.caps.slots[i];
        if ((s->generation & 1u) && s->type == type && s->owner == owner &&
            s->object.index == object.index && s->object.generation == object.generation) {
            struct rvm_handle h = {i, s->generation};
            return h;
        }
    }
    fail_msg("no capability of type %u on object %u held by %u", type, object.index, owner);
    return rvm_cap_no_handle();
}

static inline struct rvm_kernel_auth kfx_auth(struct rvm_handle cap, uint64_t nonce)
{
    struct rvm_kernel_auth a = {cap, nonce, 0, 0};
    return a;
}

/* The partition id of a partition handle (its slot + 1). */
static inline rvm_partition_id kfx_pid(struct rvm_handle h)
{
    return h.index + 1u;
}

/* Put a partition on CPU 0 (schedule until it is there). */
static inline void kfx_run_on0(struct kfx *f, struct rvm_handle p)
{
    for (int i = 0; i < 64 && f->k.cpus[0].loaded != kfx_pid(p); i++) {
        assert_int_equal(rvm_kernel_schedule(&f->k, 0), RVM_OK);
    }
    assert_int_equal(f->k.cpus[0].loaded, kfx_pid(p));
}

/* The argument registers of CPU 0 (x0.. on AArch64, a0.. on RISC-V). */
static inline uint64_t *kfx_regs0(struct kfx *f)
{
    return &f->k.cpus[0].frame.gpr[rvm_kernel_arg_reg(f->k.cfg.arch)];
}

/* Hypercall n with arguments a[0..6] from whatever runs on CPU 0. */
static inline enum rvm_err kfx_hcall(struct kfx *f, uint64_t n, const uint64_t a[7])
{
    uint64_t *x = kfx_regs0(f);
    x[0] = n;
    for (int i = 0; i < 7; i++) {
        x[i + 1] = a[i];
    }
    return rvm_kernel_hypercall(&f->k, 0);
}

/* n messages over a fresh channel from -> to, sent and received by the hypervisor; the channel. */
static inline struct rvm_handle kfx_traffic(struct kfx *f, struct rvm_handle from,
                                            struct rvm_handle to, int n)
{
    struct rvm_handle ch;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, from, to, &ch, NULL, NULL), RVM_OK);
    char buf[32];
    for (int i = 0; i < n; i++) {
        assert_int_equal(rvm_kernel_ipc_send(&f->k, 0, NULL, ch, "t", 1, 0, NULL), RVM_OK);
        assert_int_equal(rvm_kernel_ipc_receive(&f->k, 0, NULL, ch, buf, sizeof(buf), NULL),
                         RVM_OK);
    }
    return ch;
}

/* A channel from -> to with one message `from` itself sent (so the kernel stamped it `from`). */
static inline struct rvm_handle kfx_queued(struct kfx *f, struct rvm_handle from,
                                           struct rvm_handle to)
{
    struct rvm_handle ch, sc;
    assert_int_equal(rvm_kernel_channel_create(&f->k, 0, NULL, from, to, &ch, &sc, NULL), RVM_OK);
    struct rvm_kernel_auth au = kfx_auth(sc, 0);
    assert_int_equal(rvm_kernel_ipc_send(&f->k, kfx_pid(from), &au, ch, "queued", 6, 7, NULL),
                     RVM_OK);
    return ch;
}

/* The sender stamped on the oldest message queued on channel `ch`. */
static inline rvm_partition_id kfx_oldest_sender(const struct kfx *f, struct rvm_handle ch)
{
    const struct rvm_kchan *c = &f->k.chans[ch.index];
    assert_true(c->used && c->count > 0);
    return f->k.msgs[(size_t)ch.index * f->cfg.queue_depth + c->head].sender;
}

#endif /* RVM_TESTS_KERNEL_FIXTURE_H */
