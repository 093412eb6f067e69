/* SPDX-License-Identifier: MIT */
/*
 * One error enum for the whole core.
 *
 * Codes are stable: they are written into witness records (a rejection record carries the code in
 * its payload), stored in replay databases and compared across builds, so a code is never
 * renumbered or reused. Each subsystem owns a block of 32 values; add new codes at the end of your
 * block.
 *
 * The list is an X-macro so the enum, the name table and the message table cannot disagree:
 *   X(NAME, value, "human message")
 */
#ifndef RVM_ERROR_H
#define RVM_ERROR_H

#include <stdint.h>

#define RVM_ERROR_LIST(X)                                                                          \
    /* 0x000 general */                                                                            \
    X(OK, 0x000, "success")                                                                        \
    X(INVALID_ARGUMENT, 0x001, "invalid argument")                                                 \
    X(OUT_OF_RANGE, 0x002, "value out of range")                                                   \
    X(OVERFLOW, 0x003, "arithmetic overflow in a size or address")                                 \
    X(NO_SPACE, 0x004, "fixed-capacity table is full")                                             \
    X(NOT_FOUND, 0x005, "object not found")                                                        \
    X(STALE, 0x006, "stale object: generation does not match")                                     \
    X(WRONG_STATE, 0x007, "object is in the wrong state for this operation")                       \
    X(UNSUPPORTED, 0x008, "operation not supported in this configuration")                         \
    X(INTERNAL, 0x009, "internal invariant violated")                                              \
    X(EXISTS, 0x00A, "object already exists")                                                      \
    X(HAL, 0x00B, "the platform layer refused the request")                                        \
    X(PERMISSION, 0x00C, "caller has no authority for this operation")                             \
                                                                                                   \
    /* 0x020 witness log */                                                                        \
    X(WITNESS_FULL, 0x020, "witness ring full and sink cannot drain: mutation refused")            \
    X(WITNESS_SEQUENCE, 0x021, "witness record has an unexpected sequence number")                 \
    X(WITNESS_LINK, 0x022, "witness record prev_link does not match the chain")                    \
    X(WITNESS_RESERVED, 0x023, "witness record has non-zero reserved bytes")                       \
    X(WITNESS_TIME, 0x024, "witness record timestamp goes backwards")                              \
    X(WITNESS_CHECKPOINT, 0x025, "witness checkpoint signature is invalid")                        \
    X(WITNESS_DIGEST, 0x026, "witness log digest does not match the checkpoint")                   \
    X(WITNESS_TRUNCATED, 0x027, "witness log is shorter than its checkpoint")                      \
    X(WITNESS_UNSEALED, 0x028, "witness log ends without its final checkpoint (seal)")             \
    X(WITNESS_AFTER_SEAL, 0x029, "witness log continues after its final checkpoint (seal)")        \
                                                                                                   \
    /* 0x040 capabilities */                                                                       \
    X(CAP_RIGHTS, 0x040, "capability lacks the required rights")                                   \
    X(CAP_TYPE, 0x041, "capability names an object of the wrong type")                             \
    X(CAP_STALE, 0x042, "capability is stale (slot reused or epoch revoked)")                      \
    X(CAP_DEPTH, 0x043, "capability delegation depth limit exceeded")                              \
    X(CAP_CONSUMED, 0x044, "GRANT_ONCE capability already used")                                   \
    X(CAP_TABLE_FULL, 0x045, "capability table is full")                                           \
    X(CAP_ESCALATION, 0x046, "requested rights exceed the parent's rights")                        \
    X(CAP_OBJECT, 0x047, "capability names a different object")                                    \
    X(CAP_HOLDER, 0x048, "capability is not held by the caller")                                   \
                                                                                                   \
    /* 0x060 proofs and the security gate */                                                       \
    X(PROOF_OWNER, 0x060, "P2: caller does not own the object")                                    \
    X(PROOF_BOUNDS, 0x061, "P2: access outside the region's bounds")                               \
    X(PROOF_LEASE, 0x062, "P2: lease has expired")                                                 \
    X(PROOF_DEPTH, 0x063, "P2: real delegation depth exceeds the policy")                          \
    X(PROOF_NONCE, 0x064, "P2: nonce already used")                                                \
    X(PROOF_TIME, 0x065, "P2: outside the allowed time window")                                    \
    X(PROOF_CHAIN, 0x066, "P3: derivation chain is broken")                                        \
    X(PROOF_SIGNATURE, 0x067, "P3: derivation link signature is invalid")                          \
    X(PROOF_TIER, 0x068, "proof tier is insufficient for this operation")                          \
    X(PROOF_NONCE_STALE, 0x069, "P2: nonce is older than the replay window")                       \
                                                                                                   \
    /* 0x080 partitions */                                                                         \
    X(PARTITION_LIMIT, 0x080, "partition limit reached")                                           \
    X(SPLIT_PRECONDITION, 0x081, "split preconditions not met")                                    \
    X(MERGE_PRECONDITION, 0x082, "merge preconditions not met")                                    \
                                                                                                   \
    /* 0x0A0 memory */                                                                             \
    X(NO_MEMORY, 0x0A0, "out of physical memory")                                                  \
    X(BAD_FREE, 0x0A1, "free of an address that is not an allocation of that order")               \
    X(ALIGNMENT, 0x0A2, "address or size is not aligned")                                          \
    X(OVERLAP, 0x0A3, "memory range overlaps an existing mapping")                                 \
    X(WX, 0x0A4, "mapping would be writable and executable")                                       \
    X(SHARE, 0x0A5, "host page is already mapped by another partition")                            \
    X(TIER, 0x0A6, "invalid memory tier transition")                                               \
    X(CORRUPT, 0x0A7, "stored data failed its integrity check")                                    \
    X(RESIDENCY_LOW, 0x0A8, "residency below the tier's promotion threshold")                      \
                                                                                                   \
    /* 0x0C0 scheduler and CPUs */                                                                 \
    X(QUEUE_FULL, 0x0C0, "run queue is full")                                                      \
    X(CPU_OFFLINE, 0x0C1, "CPU is offline")                                                        \
    X(AFFINITY, 0x0C2, "no online CPU allowed by the affinity mask")                               \
    X(LAST_CPU, 0x0C3, "cannot take the last online CPU offline")                                  \
    X(RUNNING_ELSEWHERE, 0x0C4, "partition is running on another CPU")                             \
    X(VMID_BUSY, 0x0C5, "every VMID is loaded on a CPU: none can be reclaimed")                    \
    X(BAD_ARCH, 0x0C6, "vCPU context is for another architecture or none")                         \
                                                                                                   \
    /* 0x0E0 communication */                                                                      \
    X(OVERLOAD, 0x0E0, "IPC queue full: message not accepted")                                     \
    X(NOT_ENDPOINT, 0x0E1, "caller is not an endpoint of this channel")                            \
    X(EMPTY, 0x0E2, "IPC queue empty")                                                             \
                                                                                                   \
    /* 0x100 devices */                                                                            \
    X(LEASE_EXPIRED, 0x100, "device lease has expired")                                            \
    X(LEASE_CONFLICT, 0x101, "device is leased to another partition")                              \
                                                                                                   \
    /* 0x120 coherence */                                                                          \
    X(GRAPH_FULL, 0x120, "coherence graph node or edge limit reached")                             \
    X(MINCUT_BUDGET, 0x121, "min-cut work budget exhausted")                                       \
    X(COHERENCE_LOW, 0x122, "coherence below threshold")                                           \
    X(COHERENCE_DEGRADED, 0x123, "coherence engine degraded: split and merge are disabled")        \
    X(COHERENCE_PROOF, 0x124, "split/merge: no valid P2 proof of authority")                       \
    X(COHERENCE_STATE, 0x125, "split/merge: partition lifecycle state does not allow it")          \
    X(COHERENCE_HOLD, 0x126, "split/merge: partition is in its cooldown")                          \
    X(CUT_STALE, 0x127, "no min-cut result recent enough to justify a split")                      \
    X(SPLIT_NOT_JUSTIFIED, 0x128, "split not justified by cut pressure and the min-cut")           \
    X(SPLIT_LIMIT, 0x129, "bound on partitions created by splitting reached")                      \
    X(MERGE_NO_CHANNEL, 0x12A, "merge: the partitions share no channel")                           \
    X(MERGE_LEASE_CONFLICT, 0x12B, "merge: conflicting device leases")                             \
    X(MERGE_REGION_OVERLAP, 0x12C, "merge: overlapping mutable memory regions")                    \
    X(MERGE_CAP_INTERSECTION, 0x12D, "merge: capability intersection is not valid")                \
                                                                                                   \
    /* 0x140 recovery and boot */                                                                  \
    X(ESCALATED, 0x140, "failure escalated beyond recovery")                                       \
    X(BOOT_ORDER, 0x141, "boot phase out of order")                                                \
    X(NOT_BOOTED, 0x142, "kernel has not completed its measured boot")                             \
    X(NO_CHECKPOINT, 0x143, "partition has no usable checkpoint")                                  \
                                                                                                   \
    /* 0x160 hypercalls and guest memory */                                                        \
    X(BAD_HYPERCALL, 0x160, "unknown hypercall number")                                            \
    X(GUEST_FAULT, 0x161, "guest address not mapped with the required rights")                     \
    X(RESERVED_ARG, 0x162, "a hypercall register the call does not use is not zero")

enum rvm_err {
#define RVM_ERROR_ENUM_(name, value, msg) RVM_ERR_##name = value,
    RVM_ERROR_LIST(RVM_ERROR_ENUM_)
#undef RVM_ERROR_ENUM_
        RVM_OK = RVM_ERR_OK, /* the spelling every call site uses */
};

/* Short stable identifier, e.g. "CAP_RIGHTS"; "UNKNOWN" for a value outside the list. */
const char *rvm_err_name(enum rvm_err err);

/* Human-readable message; "unknown error" for a value outside the list. */
const char *rvm_strerror(enum rvm_err err);

/* True when err is one of the listed codes (useful when decoding a code from a witness record). */
int rvm_err_is_known(uint32_t err);

#endif /* RVM_ERROR_H */
