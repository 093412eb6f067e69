/* SPDX-License-Identifier: MIT */
/*
 * The first firmware program: the whole core on the board, measured boot, witness stream out.
 *
 * It initialises the kernel with the simulator kernel target's default configuration (1 CPU,
 * 8 partitions, the board's guest RAM window), runs the seven boot phases, flushes and seals
 * the witness log and ends the stream, then exits 0. Every step's error is printed and exits
 * FW_EXIT_FAILED. The run is verifiable with the seed's keys (`rvmsim import --format serial`
 * derives them from the header's `seed` exactly as below); it is not yet the simulator's chain
 * for the same seed (docs/firmware.md, "What is not shared yet").
 *
 * Build-time switches (firmware/meson.build): FW_SEED (decimal), FW_TRIGGER_FAULT (take an
 * unhandled exception after booting, for the tests of the exception path).
 */
#include "arch.h"
#include "board.h"
#include "console.h"
#include "fw_hal.h"
#include "mem.h"

#include "rvm/bytes.h"
#include "rvm/kernel.h"

#include "fw_build_id.h"

#ifndef FW_SEED
#define FW_SEED 1
#endif
#define FW_STR_(x) #x
#define FW_STR(x)  FW_STR_(x)

#define PAGE          4096u
#define US            1000u
#define MS            1000000u
#define STORAGE_BYTES (192u * 1024u)

static struct fw_hal fw_hal;
static struct rvm_kernel fw_kernel;
static _Alignas(64) uint8_t fw_storage[STORAGE_BYTES];

/* The checkpoint HMAC key of a run with `seed`: SHA-256("rvmsim hmac key" || LE64(seed)), the
 * convention of docs/replay-store.md ("keys derivable from the seed"), so the importer can
 * verify the checkpoints from the header alone. */
static void derive_hmac_key(const struct rvm_crypto *crypto, uint64_t seed, uint8_t out[32])
{
    static const char label[] = "rvmsim hmac key";
    uint8_t msg[sizeof(label) - 1u + 8u];
    memcpy(msg, label, sizeof(label) - 1u);
    rvm_store_le64(msg + sizeof(label) - 1u, seed);
    rvm_crypto_sha256(crypto, msg, sizeof(msg), out);
}

/* The kernel target's defaults (sim/target_kernel.c) for one CPU. */
static void kernel_config(struct rvm_kernel_config *c)
{
    rvm_kernel_default_config(c);
    c->arch = fw_board.arch;
    c->ncpus = 1;
    c->nvmids = c->ncpus + 2u;
    c->ram_base = fw_board.guest_base;
    c->ram_pages = (uint32_t)(fw_board.guest_size / PAGE);
    c->max_order = 6;
    c->max_partitions = 8;
    c->max_caps = 128;
    c->max_regions = 32;
    c->max_channels = 8;
    c->queue_depth = 4;
    c->msg_bytes = 32;
    c->max_devices = 4;
    c->witness_ring = 64;
    c->checkpoint_interval = 64;
    c->coherence_nodes = c->max_partitions;
    c->scratch_pages = 4;
    c->image_bytes = 32u * 1024u;
    c->max_images = 2u * c->max_regions;
    c->epoch_ns = 200u * US;
    c->slice_ns = 20u * US;
    c->max_lease_ns = 2u * MS;
    c->max_window_ns = 1000u * MS;
    c->max_caps_per_partition = c->max_caps / 2u;
    c->apply_decisions = 0;
}

static _Noreturn void fail(const char *what, enum rvm_err err)
{
    fw_console_line_start();
    fw_puts("rvmfw: ");
    fw_puts(what);
    fw_puts(" failed: ");
    fw_puts(rvm_err_name(err));
    fw_puts("\n");
    fw_arch_exit(FW_EXIT_FAILED);
}

_Noreturn void fw_main(void)
{
    static const uint8_t cap_key[32] = "rvmfw: capability link-MAC key";
    const uint64_t seed = FW_SEED;
    const uint64_t started = fw_arch_counter();

    fw_puts("rvmfw: ");
    fw_puts(fw_board.name);
    fw_puts(" build " FW_BUILD_ID "\n");

    /* QEMU may have put the device tree in the window: the kernel's RAM starts as zeros. */
    memset((void *)(uintptr_t)fw_board.guest_base, 0, (size_t)fw_board.guest_size);
    fw_hal_init(&fw_hal, fw_board.guest_base, fw_board.guest_size);

    const struct rvm_wire_field header[] = {
        {"platform", fw_board.name}, {"source", "firmware"}, {"seed", FW_STR(FW_SEED)},
        {"build", FW_BUILD_ID},      {"program", "boot"},
    };
    if (!fw_witness_uart_open(&fw_hal.stream, header, sizeof(header) / sizeof(header[0]))) {
        fail("witness header", RVM_ERR_INVALID_ARGUMENT);
    }

    uint8_t hmac_key[32];
    derive_hmac_key(&fw_hal.hal.crypto, seed, hmac_key);
    struct rvm_kernel_config cfg;
    kernel_config(&cfg);
    cfg.witness_key = hmac_key;
    cfg.witness_key_len = sizeof(hmac_key);
    cfg.cap_key = cap_key;
    cfg.cap_key_len = sizeof(cap_key);
    size_t need = rvm_kernel_storage_bytes(&cfg);
    if (need == 0 || need > sizeof(fw_storage)) {
        fail("kernel storage", RVM_ERR_OUT_OF_RANGE);
    }

    enum rvm_err err = rvm_kernel_init(&fw_kernel, &fw_hal.hal, &cfg, fw_storage, need);
    if (err != RVM_OK) {
        fail("rvm_kernel_init", err);
    }
    err = rvm_kernel_boot(&fw_kernel);
    if (err != RVM_OK) {
        fail("rvm_kernel_boot", err);
    }
    err = rvm_witness_flush(&fw_kernel.log);
    if (err != RVM_OK) {
        fail("rvm_witness_flush", err);
    }

#ifdef FW_TRIGGER_FAULT
    fw_puts("rvmfw: taking an unhandled exception on purpose\n");
    fw_arch_trigger_fault();
#endif

    err = rvm_witness_seal(&fw_kernel.log, NULL);
    if (err != RVM_OK) {
        fail("rvm_witness_seal", err);
    }
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_witness_digest(&fw_kernel.log, digest);
    if (!fw_witness_uart_end(&fw_hal.stream, rvm_witness_count(&fw_kernel.log), digest)) {
        fail("witness end", RVM_ERR_INVALID_ARGUMENT);
    }
    fw_puts("rvmfw: booted, ");
    fw_put_dec(rvm_witness_count(&fw_kernel.log));
    fw_puts(" records sealed in ");
    fw_put_dec((fw_arch_counter() - started) * 1000000u / fw_board.timer_hz);
    fw_puts(" us\n");
    fw_arch_exit(FW_EXIT_OK);
}
