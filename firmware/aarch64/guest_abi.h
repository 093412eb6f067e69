/* SPDX-License-Identifier: MIT */
/* Numbers shared by the EL1 guest program, the world switch (guest_program.S) and guest.c. */
#ifndef RVM_FW_A64_GUEST_ABI_H
#define RVM_FW_A64_GUEST_ABI_H

#include "guest_request.h"

/* The guest program's `hvc` immediates (ESR_EL2.ISS[15:0] of EC 0x16). */
#define FW_A64_HVC_HYPERCALL     0 /* the tape's hypercall: the kernel's ABI is hvc #0 */
#define FW_A64_HVC_DONE          1 /* the load or store completed */
#define FW_A64_HVC_EL1_EXCEPTION 2 /* the guest took an exception of its own (EL1 vectors) */
#define FW_A64_HVC_BAD_REQUEST   3 /* an operation the program does not know */

/* struct fw_a64_world (guest.c): byte offsets. */
#define FW_A64_W_HOST    0   /* x19..x30 of the hypervisor */
#define FW_A64_W_HOST_SP 96  /* its SP_EL2 */
#define FW_A64_W_VECTOR  104 /* the vector entry the guest came back on */
#define FW_A64_W_ELR     112 /* where the guest starts */
#define FW_A64_W_SPSR    120 /* its PSTATE */
#define FW_A64_W_GUEST   128 /* x0..x30 of the guest: in before the ERET, out after the trap */
#define FW_A64_W_BYTES   376

#endif /* RVM_FW_A64_GUEST_ABI_H */
