/* SPDX-License-Identifier: MIT */
/*
 * The hart's PMP registers (arch.h fw_arch_pmp_load): a partition's image, as platform/riscv's
 * rv_pmp builds it, written into pmpaddr0..15 and pmpcfg0/pmpcfg2, then read back and compared
 * with what the model says the same writes leave (rvm_rv_pmp_write_*: WARL fields, locks). A
 * difference is the model and the hart disagreeing, and the activation fails with RVM_ERR_HAL.
 *
 * Order: every entry is switched OFF first (pmpcfg = 0), then the addresses are written, then
 * the configurations, so no half-written entry is ever in force. The model's images lock
 * nothing (rv_pmp.h), so M-mode stays unrestricted and every entry can be rewritten on the next
 * switch. sfence.vma afterwards: the privileged spec requires it for PMP changes to order with
 * cached translations.
 */
#include "arch.h"
#include "csr.h"

#include "rv_pmp.h"

#define FW_RV_PMP_ENTRIES 16u

#define PMPADDR_CASE(n)                                                                            \
    case n:                                                                                        \
        __asm__ volatile("csrw pmpaddr" #n ", %0" ::"r"(value));                                   \
        break

static void write_pmpaddr(uint32_t i, uint64_t value)
{
    switch (i) {
        PMPADDR_CASE(0);
        PMPADDR_CASE(1);
        PMPADDR_CASE(2);
        PMPADDR_CASE(3);
        PMPADDR_CASE(4);
        PMPADDR_CASE(5);
        PMPADDR_CASE(6);
        PMPADDR_CASE(7);
        PMPADDR_CASE(8);
        PMPADDR_CASE(9);
        PMPADDR_CASE(10);
        PMPADDR_CASE(11);
        PMPADDR_CASE(12);
        PMPADDR_CASE(13);
        PMPADDR_CASE(14);
        PMPADDR_CASE(15);
    default:
        break;
    }
}

#define PMPADDR_READ_CASE(n)                                                                       \
    case n:                                                                                        \
        __asm__ volatile("csrr %0, pmpaddr" #n : "=r"(value));                                     \
        break

static uint64_t read_pmpaddr(uint32_t i)
{
    uint64_t value = 0;
    switch (i) {
        PMPADDR_READ_CASE(0);
        PMPADDR_READ_CASE(1);
        PMPADDR_READ_CASE(2);
        PMPADDR_READ_CASE(3);
        PMPADDR_READ_CASE(4);
        PMPADDR_READ_CASE(5);
        PMPADDR_READ_CASE(6);
        PMPADDR_READ_CASE(7);
        PMPADDR_READ_CASE(8);
        PMPADDR_READ_CASE(9);
        PMPADDR_READ_CASE(10);
        PMPADDR_READ_CASE(11);
        PMPADDR_READ_CASE(12);
        PMPADDR_READ_CASE(13);
        PMPADDR_READ_CASE(14);
        PMPADDR_READ_CASE(15);
    default:
        break;
    }
    return value;
}

bool fw_arch_pmp_load(const struct rvm_rv_pmp *image)
{
    if (image->count != FW_RV_PMP_ENTRIES) {
        return false; /* QEMU virt's harts implement 16 entries */
    }
    /* What the hart must hold afterwards: the writes below, applied to the model's registers. */
    struct rvm_rv_pmp expect;
    (void)rvm_rv_pmp_init(&expect, FW_RV_PMP_ENTRIES);
    __asm__ volatile("csrw pmpcfg0, zero\n\tcsrw pmpcfg2, zero" ::: "memory");
    for (uint32_t i = 0; i < FW_RV_PMP_ENTRIES; i++) { /* bound: 16 entries */
        write_pmpaddr(i, image->addr[i]);
        rvm_rv_pmp_write_addr(&expect, i, image->addr[i]);
    }
    const uint64_t cfg0 = rvm_rv_pmpcfg_csr(image, 0);
    const uint64_t cfg2 = rvm_rv_pmpcfg_csr(image, 2);
    __asm__ volatile("csrw pmpcfg0, %0\n\tcsrw pmpcfg2, %1\n\tsfence.vma" ::"r"(cfg0), "r"(cfg2)
                     : "memory");
    rvm_rv_pmpcfg_csr_write(&expect, 0, cfg0);
    rvm_rv_pmpcfg_csr_write(&expect, 2, cfg2);

    bool same = FW_CSR_READ(pmpcfg0) == rvm_rv_pmpcfg_csr(&expect, 0) &&
                FW_CSR_READ(pmpcfg2) == rvm_rv_pmpcfg_csr(&expect, 2);
    for (uint32_t i = 0; i < FW_RV_PMP_ENTRIES; i++) { /* bound: 16 entries */
        same = same && read_pmpaddr(i) == expect.addr[i];
    }
    return same;
}
