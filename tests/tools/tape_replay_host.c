/* SPDX-License-Identifier: MIT */
/*
 * Test-only: replay an operation tape on the host, through the firmware's own interpreter
 * (firmware/common/tape_replay.c), on the simulator's platform model, with the portable crypto
 * provider the firmware uses. Nothing of the run that recorded the tape is shared: the platform
 * is built from the tape's header alone. tests/py/test_tape.py runs the corpus through it to
 * prove a tape holds everything the kernel depends on before any QEMU is booted.
 *
 *   tape_replay_host TAPE [TRAPS]   prints `status=<name> at=<entry> entry=<name> calls=<n>
 *                                   records=<n> digest=<hex> trapped=<n> direct=<n>
 *                                   direct_faults=<n>` and exits 0 only for `ok`
 *
 * TRAPS gives the machine a hypercall hook, as firmware with a real guest has (guest.h):
 * `traps` delivers the tape's registers as a trap would; `traps-skew-hypercall` delivers x1
 * changed, `traps-skew-fault` reports every guest fault 8 bytes off; each skew must stop the
 * replay with hal-mismatch at that entry.
 */
#include "hal_platform.h"
#include "tape_replay.h"

#include "rvm/crypto_portable.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum trap_mode { TRAPS_NONE, TRAPS_FAITHFUL, TRAPS_SKEW_HYPERCALL, TRAPS_SKEW_FAULT };

struct machine {
    enum trap_mode traps;
    struct rvm_sim_platform plat;
    struct rvm_hal hal;
    struct rvm_hal_ops ops;
    uint64_t drained;
};

/* The platform's hooks are called with the platform's context; the few this tool replaces
 * reach the machine through this pointer (a test tool with one machine). */
static struct machine *the_machine;

static size_t m_drain(void *ctx, uint64_t first, const uint8_t *rec, size_t n)
{
    struct machine *m = the_machine;
    (void)ctx;
    (void)rec;
    if (first != m->drained) {
        fprintf(stderr, "tape_replay_host: drained %" PRIu64 ", expected %" PRIu64 "\n", first,
                m->drained);
        return 0;
    }
    m->drained += n;
    return n;
}

static bool m_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    (void)ctx;
    (void)cp;
    return true;
}

static enum rvm_err m_irq_configure(void *ctx, uint32_t irq, uint32_t cpu, bool enabled)
{
    (void)ctx;
    (void)irq;
    (void)cpu;
    (void)enabled;
    return RVM_OK;
}

static void m_irq_complete(void *ctx, uint32_t irq)
{
    (void)ctx;
    (void)irq;
}

static void m_console(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    (void)len;
}

/* The simulator's model of the trap: the fault address it reports is what the kernel gets. */
static enum rvm_err m_guest_access(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                                   uint64_t ipa, uint64_t value, uint64_t pstate,
                                   uint64_t *fault_addr)
{
    struct machine *m = ctx;
    (void)part;
    (void)pstate;
    struct rvm_sim_guest_fault gf;
    enum rvm_err err = rvm_sim_platform_guest_access(&m->plat, cpu, (enum rvm_sim_access)kind, ipa,
                                                     &value, 8, &gf);
    *fault_addr = err == RVM_ERR_GUEST_FAULT ? gf.addr : ipa;
    if (m->traps == TRAPS_SKEW_FAULT) {
        *fault_addr += 8u;
    }
    return err;
}

static bool m_hypercall(void *ctx, uint32_t cpu, uint64_t pstate, const uint64_t regs[8],
                        uint64_t trapped[8])
{
    struct machine *m = ctx;
    (void)cpu;
    (void)pstate;
    memcpy(trapped, regs, 8 * sizeof(uint64_t));
    if (m->traps == TRAPS_SKEW_HYPERCALL) {
        trapped[1] ^= 1u;
    }
    return true;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"", "traps", "traps-skew-hypercall", "traps-skew-fault"};
    enum trap_mode traps = TRAPS_NONE;
    for (uint32_t i = 1; argc == 3 && i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(argv[2], modes[i]) == 0) {
            traps = (enum trap_mode)i;
        }
    }
    if (argc < 2 || argc > 3 || (argc == 3 && traps == TRAPS_NONE)) {
        fprintf(stderr, "usage: tape_replay_host TAPE [traps|traps-skew-hypercall|"
                        "traps-skew-fault]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    static uint8_t tape[64u << 20];
    size_t len = fread(tape, 1, sizeof(tape), f);
    fclose(f);

    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    enum rvm_tape_status st = rvm_tape_open(&r, &h, &crypto, tape, len);
    if (st != RVM_TAPE_S_OK) {
        printf("status=%s at=0\n", rvm_tape_status_name(st));
        return 1;
    }

    struct machine *m = calloc(1, sizeof(*m));
    m->traps = traps;
    struct rvm_sim_platform_config pc;
    rvm_sim_platform_kernel_config(
        &pc, h.config.arch == RVM_VCPU_RISCV64 ? RVM_SIM_ARCH_RISCV : RVM_SIM_ARCH_AARCH64,
        h.config.max_partitions, h.config.ram_pages);
    if (rvm_sim_platform_init(&m->plat, &crypto, &pc) != RVM_OK) {
        printf("status=platform at=0\n");
        return 1;
    }
    uint64_t base, size;
    rvm_sim_platform_guest_ram(&m->plat, &base, &size);
    if (base != h.config.ram_base || size < (uint64_t)h.config.ram_pages * 4096u) {
        printf("status=layout at=0 ram_base=0x%" PRIx64 " tape=0x%" PRIx64 "\n", base,
               h.config.ram_base);
        return 1;
    }
    m->ops = *rvm_sim_platform_hal(&m->plat)->ops;
    m->ops.witness_drain = m_drain;
    m->ops.witness_checkpoint = m_checkpoint;
    m->ops.irq_configure = m_irq_configure;
    m->ops.irq_complete = m_irq_complete;
    m->ops.console_write = m_console;
    m->hal = *rvm_sim_platform_hal(&m->plat);
    m->hal.ops = &m->ops;
    m->hal.crypto = crypto;
    the_machine = m;

    const struct rvm_replay_machine machine = {&m->hal, m_guest_access,
                                               traps == TRAPS_NONE ? NULL : m_hypercall, m};
    size_t bytes = rvm_kernel_storage_bytes(&h.config);
    void *storage = aligned_alloc(64, (bytes + 63u) & ~(size_t)63u);
    struct rvm_replay *rp = calloc(1, sizeof(*rp));
    st = rvm_replay_open(rp, &machine, tape, len, storage, bytes);
    if (st == RVM_TAPE_S_OK) {
        st = rvm_replay_run(rp);
    }
    uint8_t digest[32];
    rvm_witness_digest(&rp->kernel.log, digest);
    char hex[65];
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    printf("status=%s at=%" PRIu64 " entry=%s hook=%s want=%" PRId64 " got=%" PRId64
           " calls=%" PRIu64 " records=%" PRIu64 " digest=%s trapped=%" PRIu64 " direct=%" PRIu64
           " direct_faults=%" PRIu64 "\n",
           rvm_tape_status_name(st), rp->at, rvm_tape_entry_name(rp->entry),
           rvm_tape_hook_name(rp->hook), rp->want, rp->got, rp->calls, rp->kernel.log.appended, hex,
           rp->trapped_hypercalls, rp->direct_hypercalls, rp->direct_faults);
    return st == RVM_TAPE_S_OK ? 0 : 1;
}
