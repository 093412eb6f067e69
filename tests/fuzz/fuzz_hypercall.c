/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the hypercall decoder (core/src/kernel_hypercall.c): a booted kernel on the
 * simulated platform with one started partition on CPU 0, then a sequence of hypercalls whose
 * number and argument registers come from the input. After every call the kernel's own
 * consistency check (rvm_kernel_check) must pass and x0 must hold the returned error when the
 * caller is still on the CPU; ASan and UBSan catch the rest.
 *
 * Input: byte 0 selects the architecture (bit 0: RISC-V); then up to 16 calls of 57 bytes: the
 * call number (mod RVM_HC_COUNT + 4, so unknown numbers occur) and seven argument registers of
 * 8 bytes each, whose first byte chooses how the other seven make the value: 0 a small number,
 * 1 a 56-bit value, 2 a result register of the previous call (a live handle), 3 zero.
 */
#include "hal_platform.h"
#include "sink_memory.h"

#include "rvm/crypto_portable.h"
#include "rvm/kernel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CALL_BYTES 57u
#define MAX_CALLS  16u

struct fuzz_kernel {
    struct rvm_crypto crypto;
    struct rvm_sim_platform plat;
    struct rvm_memory_sink sink;
    struct rvm_kernel_config cfg;
    void *storage;
    struct rvm_kernel k;
};

static bool fuzz_kernel_init(struct fuzz_kernel *f, enum rvm_sim_arch arch)
{
    rvm_crypto_portable(&f->crypto);
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_default_config(&pc, arch);
    pc.cpus = 2;
    if (rvm_sim_platform_init(&f->plat, &f->crypto, &pc) != RVM_OK) {
        return false;
    }
    rvm_memory_sink_init(&f->sink, NULL);
    rvm_sim_hal_set_sink(&f->plat.sim, &rvm_memory_sink_ops, &f->sink);
    uint64_t base, size;
    rvm_sim_platform_guest_ram(&f->plat, &base, &size);
    if (size > 2u * 1024u * 1024u) {
        size = 2u * 1024u * 1024u;
    }
    rvm_kernel_default_config(&f->cfg);
    f->cfg.arch = arch == RVM_SIM_ARCH_RISCV ? RVM_VCPU_RISCV64 : RVM_VCPU_AARCH64;
    f->cfg.ncpus = 2;
    f->cfg.nvmids = 32;
    f->cfg.ram_base = base;
    f->cfg.ram_pages = (uint32_t)(size / 4096u);
    f->cfg.max_partitions = 8;
    f->cfg.max_caps = 128;
    f->cfg.max_regions = 16;
    f->cfg.max_channels = 8;
    f->cfg.queue_depth = 4;
    f->cfg.msg_bytes = 32;
    f->cfg.max_devices = 4;
    f->cfg.witness_ring = 256;
    f->cfg.coherence_nodes = 8;
    f->cfg.scratch_pages = 4;
    f->cfg.image_bytes = 16u * 1024u;
    f->cfg.max_images = 16;
    f->cfg.max_caps_per_partition = 32;
    f->cfg.apply_decisions = 0;
    size_t bytes = rvm_kernel_storage_bytes(&f->cfg);
    f->storage = aligned_alloc(64, (bytes + 63u) & ~(size_t)63u);
    if (bytes == 0 || f->storage == NULL ||
        rvm_kernel_init(&f->k, rvm_sim_platform_hal(&f->plat), &f->cfg, f->storage, bytes) !=
            RVM_OK ||
        rvm_kernel_boot(&f->k) != RVM_OK) {
        return false;
    }
    struct rvm_kernel_partition_req req = {0x1000, {7, 8}, 0, 100};
    struct rvm_handle h;
    return rvm_kernel_partition_create(&f->k, 0, NULL, &req, &h, NULL) == RVM_OK &&
           rvm_kernel_partition_start(&f->k, 0, NULL, h) == RVM_OK;
}

static void fuzz_kernel_free(struct fuzz_kernel *f)
{
    rvm_memory_sink_free(&f->sink);
    rvm_sim_platform_free(&f->plat);
    free(f->storage);
}

static uint64_t arg_value(const uint8_t *b, const uint64_t results[4])
{
    uint64_t v = 0;
    for (int i = 7; i >= 1; i--) {
        v = v << 8 | b[i];
    }
    switch (b[0] & 3u) {
    case 0:
        return b[1];
    case 1:
        return v;
    case 2:
        return results[b[1] & 3u];
    default:
        return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static struct fuzz_kernel f;
    memset(&f, 0, sizeof(f));
    if (!fuzz_kernel_init(&f, (data[0] & 1u) ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64)) {
        abort(); /* the fixed set-up must always work */
    }
    const uint32_t base = rvm_kernel_arg_reg(f.k.cfg.arch);
    uint64_t results[4] = {0};
    size_t calls = (size - 1) / CALL_BYTES;
    if (calls > MAX_CALLS) {
        calls = MAX_CALLS;
    }
    for (size_t c = 0; c < calls; c++) {
        const uint8_t *in = data + 1 + c * CALL_BYTES;
        /* bound: the kernel has at most max_partitions runnable partitions */
        for (int i = 0; i < 8 && f.k.cpus[0].loaded == 0; i++) {
            (void)rvm_kernel_schedule(&f.k, 0);
        }
        uint64_t regs[8];
        regs[0] = in[0] % (RVM_HC_COUNT + 4u);
        for (int r = 1; r < 8; r++) {
            regs[r] = arg_value(in + 1 + (size_t)(r - 1) * 8u, results);
        }
        rvm_kernel_trap_args(&f.k, 0, regs);
        const uint32_t caller = f.k.cpus[0].loaded;
        enum rvm_err err = rvm_kernel_hypercall(&f.k, 0);
        if (rvm_kernel_check(&f.k) != RVM_OK) {
            abort();
        }
        if (caller != 0 && f.k.cpus[0].loaded == caller) {
            const uint64_t *x = &f.k.cpus[0].frame.gpr[base];
            if (x[0] != (uint64_t)err) {
                abort(); /* the result must reach the caller's x0 / a0 */
            }
            memcpy(results, x + 1, sizeof(results));
        }
    }
    fuzz_kernel_free(&f);
    return 0;
}
