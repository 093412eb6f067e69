/* SPDX-License-Identifier: MIT */
/*
 * Ending the run on RISC-V: QEMU virt's SiFive test device (fw_board.exit_base) exits QEMU with
 * status 0 on 0x5555 and with `code` on (code << 16) | 0x3333.
 */
#include "arch.h"
#include "board.h"
#include "csr.h"
#include "mmio.h"

#define SIFIVE_TEST_PASS 0x5555u
#define SIFIVE_TEST_FAIL 0x3333u
#define CLINT_MTIME      0xbff8u

_Noreturn void fw_rv_sifive_test_exit(int status)
{
    if (fw_board.exit_method == FW_EXIT_SIFIVE_TEST) {
        fw_mmio_write32(fw_board.exit_base, status == 0
                                                ? SIFIVE_TEST_PASS
                                                : ((uint32_t)status << 16) | SIFIVE_TEST_FAIL);
    }
    fw_rv_park(); /* no exit device on this board: stop here */
}

_Noreturn void fw_arch_exit(int status)
{
    fw_rv_sifive_test_exit(status);
}

uint64_t fw_arch_counter(void)
{
    const uint64_t mtime = fw_board.irqchip_base1 + CLINT_MTIME;
    return (uint64_t)fw_mmio_read32(mtime) | (uint64_t)fw_mmio_read32(mtime + 4u) << 32;
}
