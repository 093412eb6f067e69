/* SPDX-License-Identifier: MIT */
/* The guest program's request page (guest.h), as numbers assembly can use too. */
#ifndef RVM_FW_GUEST_REQUEST_H
#define RVM_FW_GUEST_REQUEST_H

/* Operations (the request's first word). */
#define FW_GUEST_HYPERCALL 1
#define FW_GUEST_LOAD      2
#define FW_GUEST_STORE     3
#define FW_GUEST_FETCH     4
#define FW_GUEST_SMC       5

/* Byte offsets of the request's fields (struct fw_guest_request). */
#define FW_GUEST_REQ_OP     0
#define FW_GUEST_REQ_ADDR   8
#define FW_GUEST_REQ_VALUE  16
#define FW_GUEST_REQ_PSTATE 24
#define FW_GUEST_REQ_REGS   32
#define FW_GUEST_REQ_BYTES  96

#endif /* RVM_FW_GUEST_REQUEST_H */
