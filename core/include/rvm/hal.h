/* SPDX-License-Identifier: MIT */
/*
 * The hardware abstraction layer: the only way the core reaches anything that is not pure
 * computation.
 *
 * The same core object code runs against three implementations of this interface:
 *   - sim/         the simulated HAL (virtual clock, seeded faults, simulated stage-2 and PMP),
 *   - firmware/    AArch64 at EL2 and RISC-V in M-mode, on QEMU or a board,
 *   - tests/       test doubles that record every call.
 *
 * Binding is a table of function pointers plus an opaque context, not link-time symbols, so one
 * process can hold several cores (a replayer next to a live run, a test double next to the
 * simulator) and a test can swap a single hook.
 *
 * General contract, for every hook:
 *   - The core never passes a pointer it does not own for the duration of the call, and the HAL
 *     never keeps one after returning.
 *   - Hooks never call back into the core (no re-entrancy); asynchronous events reach the core
 *     through its entry points (see kernel.h once it exists: trap, interrupt and timer entries).
 *   - Hooks that can fail return an enum rvm_err; the core treats any non-OK value as "nothing
 *     happened" and fails the operation closed. A hook must therefore be all-or-nothing.
 *   - Hooks must be deterministic functions of their inputs and of the HAL's own seeded state: the
 *     simulator's reproducibility depends on it.
 *
 * The direction is one-way: core -> HAL. Nothing in this header is implemented by the core.
 */
#ifndef RVM_HAL_H
#define RVM_HAL_H

#include "rvm/error.h"
#include "rvm/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_SHA256_BLOCK_BYTES  64u
#define RVM_SHA256_DIGEST_BYTES 32u
#define RVM_SHA256_STATE_WORDS  8u

/* ------------------------------------------------------------------------------------------------
 * Crypto provider
 *
 * A separate table because it is chosen independently of the platform: the host uses OpenSSL 3
 * (SHA-NI where the CPU has it), firmware uses the portable C provider (crypto_portable.h).
 * Every provider must give bit-identical results; tests/unit/test_crypto.c checks the providers
 * against NIST FIPS 180-4 and RFC 4231 vectors and against each other on random inputs.
 * --------------------------------------------------------------------------------------------- */
struct rvm_crypto_ops {
    /*
     * Absorb `nblocks` consecutive 64-byte blocks into the SHA-256 chaining state `state`
     * (h0..h7 as native integers) with the FIPS 180-4 compression function: no padding, no
     * length. This is what exposes the running state the witness chain is made of.
     * Contract: nblocks may be 0 (no-op); `blocks` need not be aligned.
     */
    void (*sha256_compress)(void *ctx, uint32_t state[RVM_SHA256_STATE_WORDS],
                            const uint8_t *blocks, size_t nblocks);

    /* Plain SHA-256 of `len` bytes. May be faster than building it on compress. */
    void (*sha256)(void *ctx, const uint8_t *msg, size_t len, uint8_t out[RVM_SHA256_DIGEST_BYTES]);

    /* HMAC-SHA256 (RFC 2104) with a key of any length (keys > 64 bytes are hashed first). */
    void (*hmac_sha256)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg,
                        size_t len, uint8_t out[RVM_SHA256_DIGEST_BYTES]);
};

struct rvm_crypto {
    const struct rvm_crypto_ops *ops;
    void *ctx;
};

struct rvm_witness_checkpoint; /* witness.h */

/* ------------------------------------------------------------------------------------------------
 * Platform hooks
 * --------------------------------------------------------------------------------------------- */
struct rvm_hal_ops {
    /* ---- time ------------------------------------------------------------------------------- */

    /*
     * The core's logical clock in nanoseconds. Non-decreasing across calls within one run.
     * The simulator returns virtual time; hardware returns its counter scaled to ns. Witness
     * timestamps come from here, so for byte-identical logs across sim and QEMU the hardware HAL
     * runs in "logical" mode where the clock advances only by what the core schedules.
     */
    uint64_t (*clock_now_ns)(void *ctx);

    /*
     * Ask for a timer event on `cpu` at logical time `deadline_ns` (replacing the previous one for
     * that CPU). The event reaches the core through its timer entry point. Returns
     * RVM_ERR_OUT_OF_RANGE for an unknown CPU.
     */
    enum rvm_err (*timer_arm)(void *ctx, uint32_t cpu, uint64_t deadline_ns);

    /* ---- console ---------------------------------------------------------------------------- */

    /* Diagnostic text, not NUL-terminated. Best effort: never fails, may drop when not attached. */
    void (*console_write)(void *ctx, const char *text, size_t len);

    /* ---- witness sink ----------------------------------------------------------------------- */

    /*
     * Hand `count` (>= 1) consecutive encoded witness records to durable storage (SQLite in the
     * simulator, the UART on hardware). `records` holds count * 64 bytes; `first_seq` is the
     * sequence number of the first. Returns how many records, from the front, the sink has taken
     * (0..count); a sink that is stalled returns 0. The core never re-sends taken records and
     * never skips ahead: records reach the sink exactly once, in order.
     */
    size_t (*witness_drain)(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count);

    /*
     * Hand a signed checkpoint to the sink. Called only after every record the checkpoint covers
     * has been drained. Returns false when the sink cannot take it now (it will be offered again).
     */
    bool (*witness_checkpoint)(void *ctx, const struct rvm_witness_checkpoint *cp);

    /* ---- address spaces (stage-2 on AArch64, PMP on RISC-V) --------------------------------- */

    /*
     * Map [ipa, ipa + size) of partition `part` to [hpa, hpa + size) with `perms` (enum rvm_perm).
     * The core has already checked alignment, overflow, W^X and ownership; the HAL may still
     * refuse (RVM_ERR_HAL: out of table memory, no PMP entry left, range it cannot express) and
     * then must leave the existing mappings exactly as they were.
     */
    enum rvm_err (*s2_map)(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, rvm_hpa_t hpa,
                           uint64_t size, uint32_t perms);

    /* Remove a mapping created by s2_map (same range). Does not invalidate TLBs by itself. */
    enum rvm_err (*s2_unmap)(void *ctx, rvm_partition_id part, rvm_ipa_t ipa, uint64_t size);

    /*
     * Make `part`'s address space current on `cpu`, tagged with hardware VMID `vmid`
     * (VTTBR_EL2.VMID / hgatp.VMID; PMP reprogramming on M-mode). The core guarantees that a VMID
     * last used by another partition has been invalidated with tlb_invalidate_vmid first.
     */
    enum rvm_err (*s2_activate)(void *ctx, uint32_t cpu, rvm_partition_id part, uint16_t vmid);

    /* Invalidate every TLB entry tagged with `vmid`, on all CPUs, and wait for completion. */
    void (*tlb_invalidate_vmid)(void *ctx, uint16_t vmid);

    /* ---- guest memory ----------------------------------------------------------------------- */

    /*
     * Copy between guest memory of `part` and a core buffer. The HAL walks the partition's real
     * stage-2 / PMP configuration: every byte must be mapped with R (for read) or W (for write),
     * else RVM_ERR_GUEST_FAULT and nothing is copied. Ranges that wrap return RVM_ERR_OVERFLOW.
     * These are the only way the core dereferences a guest pointer.
     */
    enum rvm_err (*guest_read)(void *ctx, rvm_partition_id part, rvm_ipa_t src, void *dst,
                               size_t len);
    enum rvm_err (*guest_write)(void *ctx, rvm_partition_id part, rvm_ipa_t dst, const void *src,
                                size_t len);

    /* ---- interrupts ------------------------------------------------------------------------- */

    /*
     * Route physical interrupt `irq` to `cpu` and enable or disable it (GIC distributor / PLIC).
     * RVM_ERR_OUT_OF_RANGE for an interrupt or CPU the platform does not have.
     */
    enum rvm_err (*irq_configure)(void *ctx, uint32_t irq, uint32_t cpu, bool enabled);

    /* Signal end of handling for `irq` (GIC EOI / PLIC complete). */
    void (*irq_complete)(void *ctx, uint32_t irq);

    /* ---- hypervisor access to host RAM (added for the kernel) ------------------------------- */

    /*
     * Copy out of / into / zero host-physical RAM as the hypervisor sees it (its own mapping of
     * RAM on hardware, the simulated RAM in the simulator). The core uses these only for pages of
     * the RAM range it manages with its allocator (the range the HAL handed it, e.g.
     * rvm_sim_platform_guest_ram), never for hypervisor memory or MMIO: to copy a region's
     * contents into a dormant image or checkpoint and back, and to scrub pages it takes back from
     * a partition before they can be handed out again (the allocator does not zero them). Ranges
     * the core passes never wrap and lie inside that RAM, so these hooks cannot fail; a HAL
     * without RAM behind them (the plain simulated HAL) reads zeros and drops writes.
     */
    void (*phys_read)(void *ctx, rvm_hpa_t src, void *dst, size_t len);
    void (*phys_write)(void *ctx, rvm_hpa_t dst, const void *src, size_t len);
    void (*phys_zero)(void *ctx, rvm_hpa_t dst, uint64_t len);

    /* ---- the coherence engine (optional) ---------------------------------------------------- */

    /*
     * Asked once per kernel epoch: the min-cut work the coherence engine may spend this epoch,
     * `configured` when it has all it was given, less when the platform is short of it, 0 when the
     * engine is unavailable. Such epochs count towards degraded mode (docs/coherence.md). NULL:
     * always `configured`.
     */
    uint64_t (*coherence_budget)(void *ctx, uint64_t configured);
};

struct rvm_hal {
    const struct rvm_hal_ops *ops;
    void *ctx;
    struct rvm_crypto crypto;
};

/* Thin call wrappers so core code reads as `rvm_hal_now(hal)` rather than pointer plumbing. */
static inline uint64_t rvm_hal_now(const struct rvm_hal *hal)
{
    return hal->ops->clock_now_ns(hal->ctx);
}

static inline void rvm_hal_console(const struct rvm_hal *hal, const char *text, size_t len)
{
    hal->ops->console_write(hal->ctx, text, len);
}

static inline void rvm_crypto_compress(const struct rvm_crypto *c,
                                       uint32_t state[RVM_SHA256_STATE_WORDS],
                                       const uint8_t *blocks, size_t nblocks)
{
    c->ops->sha256_compress(c->ctx, state, blocks, nblocks);
}

static inline void rvm_crypto_sha256(const struct rvm_crypto *c, const uint8_t *msg, size_t len,
                                     uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    c->ops->sha256(c->ctx, msg, len, out);
}

static inline void rvm_crypto_hmac(const struct rvm_crypto *c, const uint8_t *key, size_t key_len,
                                   const uint8_t *msg, size_t len,
                                   uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    c->ops->hmac_sha256(c->ctx, key, key_len, msg, len, out);
}

#endif /* RVM_HAL_H */
