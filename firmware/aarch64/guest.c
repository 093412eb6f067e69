/* SPDX-License-Identifier: MIT */
/* The guest program (guest.h): not on this architecture yet, so every request is applied
 * directly by the interpreter and counted as such. */
#include "guest.h"

enum fw_guest_cause fw_arch_guest_run(struct fw_hal *h, uint32_t cpu,
                                      const struct fw_guest_request *rq, struct fw_guest_trap *trap)
{
    (void)h, (void)cpu, (void)rq, (void)trap;
    return FW_TRAP_UNAVAILABLE;
}
