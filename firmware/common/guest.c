/* SPDX-License-Identifier: MIT */
/* The machine's guest hooks over the architecture's guest program (guest.h). */
#include "guest.h"

#include "console.h"
#include "mem.h"

struct fw_guest_stats fw_guest_stats;

static void request(struct fw_guest_request *rq, uint64_t op, uint64_t addr, uint64_t value,
                    uint64_t pstate)
{
    memset(rq, 0, sizeof(*rq));
    rq->op = op;
    rq->addr = addr;
    rq->value = value;
    rq->pstate = pstate;
}

enum rvm_err fw_guest_access(void *ctx, uint32_t cpu, rvm_partition_id part, uint32_t kind,
                             uint64_t ipa, uint64_t value, uint64_t pstate, uint64_t *fault_addr)
{
    struct fw_hal *h = ctx;
    *fault_addr = ipa;
    if (cpu >= FW_HAL_MAX_CPUS || kind > FW_GUEST_KIND_PRIV_PROBE || (ipa & 7u) != 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    static const uint64_t ops[4] = {FW_GUEST_LOAD, FW_GUEST_STORE, FW_GUEST_FETCH, FW_GUEST_SMC};
    struct fw_guest_request rq;
    request(&rq, ops[kind], ipa, value, pstate);
    struct fw_guest_trap trap;
    const enum fw_guest_cause cause = fw_arch_guest_run(h, cpu, &rq, &trap);
    if (cause == FW_TRAP_UNAVAILABLE) {
        fw_guest_stats.direct_accesses++;
        /* the hypervisor's register is refused whatever the translation */
        return kind == FW_GUEST_KIND_PRIV_PROBE
                   ? RVM_ERR_GUEST_FAULT
                   : fw_hal_guest_access(ctx, cpu, part, kind, ipa, value);
    }
    fw_guest_stats.traps[cause]++;
    if (kind == FW_GUEST_KIND_PRIV_PROBE) {
        /* trapped to the hypervisor as the illegal instruction / smc it is, or a difference */
        return cause == FW_TRAP_SMC ? RVM_ERR_GUEST_FAULT : RVM_ERR_HAL;
    }
    const uint32_t abort = kind == RVM_ASPACE_EXEC ? FW_TRAP_FETCH_ABORT : FW_TRAP_DATA_ABORT;
    if (cause == abort) {
        *fault_addr = trap.addr;
        return RVM_ERR_GUEST_FAULT;
    }
    /* Anything but the abort of its own kind means the access went through: a permitted fetch
     * may end in a trap of the one instruction it fetched (guest program, architecture). */
    return cause == FW_TRAP_DONE || kind == RVM_ASPACE_EXEC ? RVM_OK : RVM_ERR_HAL;
}

bool fw_guest_hypercall(void *ctx, uint32_t cpu, uint64_t pstate, const uint64_t regs[8],
                        uint64_t trapped[8])
{
    struct fw_hal *h = ctx;
    struct fw_guest_request rq;
    request(&rq, FW_GUEST_HYPERCALL, 0, 0, pstate);
    memcpy(rq.regs, regs, sizeof(rq.regs));
    struct fw_guest_trap trap;
    const enum fw_guest_cause cause =
        cpu < FW_HAL_MAX_CPUS ? fw_arch_guest_run(h, cpu, &rq, &trap) : FW_TRAP_UNAVAILABLE;
    if (cause == FW_TRAP_UNAVAILABLE) {
        return false;
    }
    fw_guest_stats.traps[cause]++;
    if (cause != FW_TRAP_HYPERCALL) {
        /* the guest did not reach its hvc/ecall: a firmware defect, shown as a difference */
        memset(trapped, 0xff, 8 * sizeof(uint64_t));
        return true;
    }
    memcpy(trapped, trap.regs, sizeof(trap.regs));
    return true;
}

bool fw_guest_smc_probe(struct fw_hal *h)
{
    for (uint32_t c = 0; c < FW_HAL_MAX_CPUS; c++) { /* bound: FW_HAL_MAX_CPUS */
        if (!h->cpu[c].active) {
            continue;
        }
        struct fw_guest_request rq;
        request(&rq, FW_GUEST_SMC, 0, 0, 0);
        rq.regs[0] = 0x84000008u; /* PSCI SYSTEM_OFF: what must never reach the firmware below */
        struct fw_guest_trap trap;
        const enum fw_guest_cause cause = fw_arch_guest_run(h, c, &rq, &trap);
        if (cause == FW_TRAP_UNAVAILABLE) {
            continue;
        }
        fw_guest_stats.traps[cause]++;
        return cause == FW_TRAP_SMC;
    }
    return true; /* no CPU ever ran a partition: nothing to probe with */
}

void fw_guest_report(uint64_t direct_hypercalls, uint64_t direct_faults)
{
    static const char *const names[FW_TRAP_COUNT] = {
        NULL, "hypercall", "smc", "data-abort", "fetch-abort", "done", "other",
    };
    fw_console_line_start();
    fw_puts("guest: traps");
    for (uint32_t i = 1; i < FW_TRAP_COUNT; i++) { /* bound: FW_TRAP_COUNT */
        fw_puts(" ");
        fw_puts(names[i]);
        fw_puts("=");
        fw_put_dec(fw_guest_stats.traps[i]);
    }
    fw_puts(" direct hypercall=");
    fw_put_dec(direct_hypercalls);
    fw_puts(" access=");
    fw_put_dec(fw_guest_stats.direct_accesses);
    fw_puts(" fault=");
    fw_put_dec(direct_faults);
    fw_puts(" model checked=");
    fw_put_dec(fw_guest_stats.model_checked);
    fw_puts(" differs=");
    fw_put_dec(fw_guest_stats.model_differs);
    fw_puts("\n");
}
