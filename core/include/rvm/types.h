/* SPDX-License-Identifier: MIT */
/*
 * Identities and address types shared by every core module.
 *
 * Addresses are wrapped in single-member structs so a guest address can never be passed where a
 * host address is expected without an explicit conversion the reader can see.
 */
#ifndef RVM_TYPES_H
#define RVM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Partition ids are u32; 0 is the hypervisor itself and never names a guest. */
typedef uint32_t rvm_partition_id;
#define RVM_PARTITION_HYPERVISOR ((rvm_partition_id)0)
#define RVM_PARTITION_INVALID    ((rvm_partition_id)UINT32_MAX)

/*
 * Every kernel object (partition, region, channel, device, capability slot) is named by the index
 * of its slot plus the slot's generation. A slot's generation increases each time the slot is
 * reused, so a handle to the previous occupant fails with RVM_ERR_STALE instead of silently
 * naming the new one.
 */
struct rvm_handle {
    uint32_t index;
    uint32_t generation;
};

#define RVM_HANDLE_INVALID_INDEX UINT32_MAX

/* Packs a handle into the 64-bit target field of a witness record: generation high, index low. */
static inline uint64_t rvm_handle_pack(struct rvm_handle h)
{
    return (uint64_t)h.generation << 32 | h.index;
}

static inline struct rvm_handle rvm_handle_unpack(uint64_t v)
{
    struct rvm_handle h = {(uint32_t)v, (uint32_t)(v >> 32)};
    return h;
}

/* Guest-physical (intermediate physical) address: what a partition sees. */
typedef struct {
    uint64_t v;
} rvm_ipa_t;

/* Host-physical address: what the hypervisor's stage-2 / PMP entries point at. */
typedef struct {
    uint64_t v;
} rvm_hpa_t;

static inline rvm_ipa_t rvm_ipa(uint64_t v)
{
    rvm_ipa_t a = {v};
    return a;
}

static inline rvm_hpa_t rvm_hpa(uint64_t v)
{
    rvm_hpa_t a = {v};
    return a;
}

#define RVM_PAGE_SHIFT 12u
#define RVM_PAGE_SIZE  ((uint64_t)1 << RVM_PAGE_SHIFT)

/* Which proof tier authorised an action (witness record offset 17). */
enum rvm_proof_tier {
    RVM_PROOF_NONE = 0,
    RVM_PROOF_P1 = 1,
    RVM_PROOF_P2 = 2,
    RVM_PROOF_P3 = 3,
};

/* Access permissions for stage-2 / PMP mappings. */
enum rvm_perm {
    RVM_PERM_R = 1u << 0,
    RVM_PERM_W = 1u << 1,
    RVM_PERM_X = 1u << 2,
};

#endif /* RVM_TYPES_H */
