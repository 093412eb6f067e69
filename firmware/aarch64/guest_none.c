/* SPDX-License-Identifier: MIT */
/* The RISC-V guest hooks on AArch64 (arch.h, guest.h): no PMP, and guest accesses are checked in
 * software through the stage-2 tables. */
#include "arch.h"
#include "guest.h"

bool fw_arch_pmp_load(const struct rvm_rv_pmp *image)
{
    (void)image;
    return true;
}

enum rvm_err fw_arch_guest_run(const struct rvm_rv_pmp *pmp, uint64_t vttbr,
                               const struct fw_guest_request *rq, struct fw_guest_exit *ex)
{
    (void)pmp, (void)vttbr, (void)rq, (void)ex;
    return RVM_ERR_UNSUPPORTED;
}
