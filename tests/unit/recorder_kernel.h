/* SPDX-License-Identifier: MIT */
/*
 * A booted kernel on the HAL recorder (tests/support/hal_recorder.h) instead of the platform: for
 * the tests that make the platform refuse one request and then look at every HAL call the kernel
 * made. Eight partitions, 256 pages at 0x80000000, two CPUs and two devices.
 */
#ifndef RVM_TESTS_RECORDER_KERNEL_H
#define RVM_TESTS_RECORDER_KERNEL_H

#include "test_support.h"

#include "hal_recorder.h"

#include "rvm/crypto_portable.h"
#include "rvm/kernel.h"

struct rkfx {
    struct rvm_crypto crypto;
    struct hal_recorder *rec;
    struct rvm_kernel *k;
    void *storage;
};

static inline struct rkfx rkfx_new(uint32_t witness_ring)
{
    struct rkfx f;
    rvm_crypto_portable(&f.crypto);
    f.rec = calloc(1, sizeof(*f.rec));
    assert_non_null(f.rec);
    hal_recorder_init(f.rec, &f.crypto);
    struct rvm_kernel_config cfg;
    rvm_kernel_default_config(&cfg);
    cfg.ram_base = 0x80000000u;
    cfg.ram_pages = 256;
    cfg.ncpus = 2;
    cfg.nvmids = 16;
    cfg.max_partitions = 8;
    cfg.coherence_nodes = 8;
    cfg.max_caps = 128;
    cfg.max_regions = 16;
    cfg.max_channels = 4;
    cfg.max_devices = 2;
    cfg.witness_ring = witness_ring;
    size_t bytes = rvm_kernel_storage_bytes(&cfg);
    f.storage = aligned_alloc(8, (bytes + 7u) & ~(size_t)7u);
    f.k = calloc(1, sizeof(*f.k));
    assert_non_null(f.storage);
    assert_non_null(f.k);
    assert_int_equal(rvm_kernel_init(f.k, hal_recorder_hal(f.rec), &cfg, f.storage, bytes), RVM_OK);
    assert_int_equal(rvm_kernel_boot(f.k), RVM_OK);
    return f;
}

static inline void rkfx_free(struct rkfx *f)
{
    free(f->k);
    free(f->storage);
    hal_recorder_free(f->rec);
    free(f->rec);
}

/* A partition created by the hypervisor itself with the smallest request. */
static inline struct rvm_handle rkfx_part(struct rkfx *f)
{
    struct rvm_kernel_partition_req req = {0x1000, {0, 0}, 0, 1};
    struct rvm_handle p;
    assert_int_equal(rvm_kernel_partition_create(f->k, 0, NULL, &req, &p, NULL), RVM_OK);
    return p;
}

#endif /* RVM_TESTS_RECORDER_KERNEL_H */
