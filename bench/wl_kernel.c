/* SPDX-License-Identifier: MIT */
/*
 * Kernel workloads (report only; RVM has no counterpart that goes through a whole kernel):
 *
 *   kernel_hypercall_version   one VERSION hypercall from the partition on CPU 0: read the frame,
 *                              decode (reserved registers, ranges), invoke, write the results
 *   kernel_hypercall_ipc       IPC_SEND from a guest buffer + IPC_RECV into one, by hypercall on a
 *                              self-channel: guest_read / guest_write through the simulated
 *                              stage-2 walk, P1 twice, two witness records, the coherence graph
 *   kernel_ipc_send_receive    the same through the kernel API (no guest memory, no decode)
 *   kernel_schedule_16         one time slice on CPU 0 among 16 running partitions: re-queue,
 *                              dispatch, VMID activation (a hit), full register switch
 *   kernel_epoch_16            one epoch of a 16-partition system with traffic: scheduler summary,
 *                              coherence epoch (min-cut over 16 nodes), tier epoch, the state
 *                              digest (SHA-256 of the whole kernel state)
 *
 * The AArch64 simulated platform backs the HAL; records go to a sink that keeps nothing; the
 * portable SHA-256 provider is used (firmware's, and stable under callgrind).
 */
#include "harness.h"

#include "common.h"

#include "hal_platform.h"

#include "rvm/crypto_portable.h"
#include "rvm/kernel.h"

#include <stdlib.h>
#include <string.h>

struct kctx {
    struct rvm_crypto crypto;
    struct rvm_sim_platform plat;
    struct rvm_kernel k;
    void *storage;
    struct rvm_handle p[16];
    struct rvm_handle ch;
    struct rvm_handle sc, rc;
    uint64_t buf_ipa;
};

static void *kernel_setup_n(uint32_t nparts)
{
    struct kctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    rvm_crypto_portable(&c->crypto);
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_default_config(&pc, RVM_SIM_ARCH_AARCH64);
    if (rvm_sim_platform_init(&c->plat, &c->crypto, &pc) != RVM_OK) {
        free(c);
        return NULL;
    }
    rvm_sim_hal_set_sink(&c->plat.sim, &bench_null_sink, NULL);
    uint64_t base, size;
    rvm_sim_platform_guest_ram(&c->plat, &base, &size);
    struct rvm_kernel_config cfg;
    rvm_kernel_default_config(&cfg);
    cfg.ram_base = base;
    cfg.ram_pages = 512;
    cfg.max_partitions = 16;
    cfg.coherence_nodes = 16;
    cfg.max_caps = 256;
    cfg.max_regions = 32;
    cfg.max_channels = 32;
    cfg.witness_ring = 256;
    cfg.apply_decisions = 0;
    size_t bytes = rvm_kernel_storage_bytes(&cfg);
    c->storage = aligned_alloc(64, (bytes + 63u) & ~(size_t)63u);
    if (c->storage == NULL ||
        rvm_kernel_init(&c->k, rvm_sim_platform_hal(&c->plat), &cfg, c->storage, bytes) != RVM_OK ||
        rvm_kernel_boot(&c->k) != RVM_OK) {
        abort();
    }
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0x1, 100};
    for (uint32_t i = 0; i < nparts; i++) {
        if (rvm_kernel_partition_create(&c->k, 0, NULL, &req, &c->p[i], NULL) != RVM_OK ||
            rvm_kernel_partition_start(&c->k, 0, NULL, c->p[i]) != RVM_OK) {
            abort();
        }
    }
    /* Traffic between neighbours, so the coherence graph has edges. */
    for (uint32_t i = 0; i + 1 < nparts; i++) {
        struct rvm_handle ch;
        char b[8];
        if (rvm_kernel_channel_create(&c->k, 0, NULL, c->p[i], c->p[i + 1], &ch, NULL, NULL) !=
            RVM_OK) {
            abort();
        }
        for (uint32_t m = 0; m < 4; m++) {
            (void)rvm_kernel_ipc_send(&c->k, 0, NULL, ch, "x", 1, 0, NULL);
            (void)rvm_kernel_ipc_receive(&c->k, 0, NULL, ch, b, sizeof(b), NULL);
        }
    }
    /* p[0] on CPU 0 with a self-channel and a mapped data page for guest buffers. */
    if (rvm_kernel_channel_create(&c->k, 0, NULL, c->p[0], c->p[0], &c->ch, &c->sc, &c->rc) !=
        RVM_OK) {
        abort();
    }
    struct rvm_handle r;
    if (rvm_kernel_region_create(&c->k, 0, NULL, c->p[0], 1, RVM_PERM_R | RVM_PERM_W, 1, &r,
                                 NULL) != RVM_OK) {
        abort();
    }
    c->buf_ipa = 0x10000000u;
    if (rvm_kernel_region_map(&c->k, 0, NULL, r, c->buf_ipa, RVM_PERM_R | RVM_PERM_W) != RVM_OK) {
        abort();
    }
    for (int i = 0; i < 64 && c->k.cpus[0].loaded != c->p[0].index + 1u; i++) {
        (void)rvm_kernel_schedule(&c->k, 0);
    }
    return c;
}

static void *kernel_setup(void)
{
    return kernel_setup_n(16);
}

static void kernel_teardown(void *ctx)
{
    struct kctx *c = ctx;
    rvm_sim_platform_free(&c->plat);
    free(c->storage);
    free(c);
}

static uint64_t *args0(struct kctx *c)
{
    return &c->k.cpus[0].frame.gpr[0];
}

static void version_run(void *ctx, uint64_t iters)
{
    struct kctx *c = ctx;
    uint64_t *x = args0(c);
    for (uint64_t i = 0; i < iters; i++) {
        x[0] = RVM_HC_VERSION;
        x[1] = x[2] = x[3] = x[4] = x[5] = x[6] = x[7] = 0;
        enum rvm_err err = rvm_kernel_hypercall(&c->k, 0);
        bench_keep(err);
    }
}

static void hc_ipc_run(void *ctx, uint64_t iters)
{
    struct kctx *c = ctx;
    uint64_t *x = args0(c);
    const uint64_t ch = rvm_handle_pack(c->ch);
    for (uint64_t i = 0; i < iters; i++) {
        x[0] = RVM_HC_IPC_SEND;
        x[1] = ch;
        x[2] = rvm_handle_pack(c->sc);
        x[3] = c->buf_ipa;
        x[4] = 16;
        x[5] = i;
        x[6] = x[7] = 0;
        enum rvm_err err = rvm_kernel_hypercall(&c->k, 0);
        bench_keep(err);
        x[0] = RVM_HC_IPC_RECV;
        x[1] = ch;
        x[2] = rvm_handle_pack(c->rc);
        x[3] = c->buf_ipa + 64;
        x[4] = 32;
        x[5] = x[6] = x[7] = 0;
        err = rvm_kernel_hypercall(&c->k, 0);
        bench_keep(err);
    }
}

static void ipc_run(void *ctx, uint64_t iters)
{
    struct kctx *c = ctx;
    struct rvm_kernel_auth as = {c->sc, 0, 0, 0};
    struct rvm_kernel_auth ar = {c->rc, 0, 0, 0};
    const rvm_partition_id me = c->p[0].index + 1u;
    uint8_t msg[16] = "benchmark msg";
    uint8_t buf[64];
    for (uint64_t i = 0; i < iters; i++) {
        enum rvm_err err = rvm_kernel_ipc_send(&c->k, me, &as, c->ch, msg, sizeof(msg), i, NULL);
        bench_keep(err);
        err = rvm_kernel_ipc_receive(&c->k, me, &ar, c->ch, buf, sizeof(buf), NULL);
        bench_keep(err);
    }
}

static void schedule_run(void *ctx, uint64_t iters)
{
    struct kctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        enum rvm_err err = rvm_kernel_schedule(&c->k, 0);
        bench_keep(err);
    }
}

static void epoch_run(void *ctx, uint64_t iters)
{
    struct kctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        rvm_sim_hal_advance(&c->plat.sim, c->k.cfg.epoch_ns);
        enum rvm_err err = rvm_kernel_epoch(&c->k);
        bench_keep(err);
    }
}

static const struct bench_workload kernel_workloads[] = {
    {"kernel_hypercall_version", "call",
     "VERSION hypercall: frame read, decode, invoke, results (no record)", 1, kernel_setup,
     version_run, kernel_teardown},
    {"kernel_hypercall_ipc", "message",
     "IPC_SEND + IPC_RECV hypercalls through guest buffers (stage-2 walk), 2 records", 1,
     kernel_setup, hc_ipc_run, kernel_teardown},
    {"kernel_ipc_send_receive", "message", "kernel API send + receive on a channel, 2 records", 1,
     kernel_setup, ipc_run, kernel_teardown},
    {"kernel_schedule_16", "switch",
     "time slice on CPU 0 among 16 running partitions: requeue, dispatch, VMID hit, register "
     "switch",
     1, kernel_setup, schedule_run, kernel_teardown},
    {"kernel_epoch_16", "epoch",
     "epoch pipeline of a 16-partition system: sched summary, coherence + min-cut, tiers, "
     "SHA-256 state digest",
     1, kernel_setup, epoch_run, kernel_teardown},
};

struct bench_group bench_kernel_group(void)
{
    struct bench_group g = {kernel_workloads,
                            sizeof(kernel_workloads) / sizeof(kernel_workloads[0])};
    return g;
}
