/* SPDX-License-Identifier: MIT */
#include "a64_tlb.h"

#include "rvm/bytes.h"

enum rvm_err rvm_a64_tlb_init(struct rvm_a64_tlb *tlb, struct rvm_a64_tlb_entry *entries,
                              uint32_t capacity)
{
    if (tlb == NULL || entries == NULL || capacity == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    tlb->entries = entries;
    tlb->capacity = capacity;
    tlb->next_victim = 0;
    rvm_a64_tlb_invalidate_all(tlb);
    return RVM_OK;
}

void rvm_a64_tlb_invalidate_vmid(struct rvm_a64_tlb *tlb, uint8_t vmid)
{
    for (uint32_t i = 0; i < tlb->capacity; i++) { /* bound: capacity */
        if (tlb->entries[i].valid != 0 && tlb->entries[i].vmid == vmid) {
            rvm_memset(&tlb->entries[i], 0, sizeof(tlb->entries[i]));
        }
    }
}

void rvm_a64_tlb_invalidate_all(struct rvm_a64_tlb *tlb)
{
    for (uint32_t i = 0; i < tlb->capacity; i++) { /* bound: capacity */
        rvm_memset(&tlb->entries[i], 0, sizeof(tlb->entries[i]));
    }
}

uint32_t rvm_a64_tlb_count(const struct rvm_a64_tlb *tlb, uint8_t vmid)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < tlb->capacity; i++) { /* bound: capacity */
        if (tlb->entries[i].valid != 0 && tlb->entries[i].vmid == vmid) {
            n++;
        }
    }
    return n;
}

/* A free slot if there is one, else the round-robin victim. */
static uint32_t victim(struct rvm_a64_tlb *tlb)
{
    for (uint32_t i = 0; i < tlb->capacity; i++) { /* bound: capacity */
        if (tlb->entries[i].valid == 0) {
            return i;
        }
    }
    uint32_t v = tlb->next_victim % tlb->capacity;
    tlb->next_victim = (v + 1u) % tlb->capacity;
    return v;
}

enum rvm_err rvm_a64_tlb_translate(struct rvm_a64_tlb *tlb, const struct rvm_a64_pool *pool,
                                   uint64_t vttbr, uint64_t ipa, enum rvm_a64_access access,
                                   struct rvm_a64_walk *out, bool *hit)
{
    uint8_t vmid = (uint8_t)(vttbr >> RVM_A64_VTTBR_VMID_SHIFT);
    uint64_t ipa_page = ipa >> RVM_PAGE_SHIFT;
    if (hit != NULL) {
        *hit = false;
    }
    for (uint32_t i = 0; i < tlb->capacity; i++) { /* bound: capacity */
        const struct rvm_a64_tlb_entry *e = &tlb->entries[i];
        if (e->valid == 0 || e->vmid != vmid || e->ipa_page != ipa_page) {
            continue;
        }
        if (hit != NULL) {
            *hit = true;
        }
        rvm_memset(out, 0, sizeof(*out));
        out->ipa = ipa;
        out->level = e->level;
        out->perms = e->perms;
        if (!rvm_a64_perm_allows(e->perms, access)) {
            out->kind = RVM_A64_FAULT_PERMISSION;
            out->fsc = (uint8_t)(RVM_A64_FSC_PERMISSION + e->level);
            return RVM_ERR_GUEST_FAULT;
        }
        out->oa = e->oa_page << RVM_PAGE_SHIFT | (ipa & (RVM_PAGE_SIZE - 1u));
        return RVM_OK;
    }
    enum rvm_err err = rvm_a64_walk(pool, vttbr, ipa, access, out);
    if (err == RVM_OK || out->kind == RVM_A64_FAULT_PERMISSION) {
        uint64_t oa = out->oa;
        struct rvm_a64_tlb_entry *e = &tlb->entries[victim(tlb)];
        e->ipa_page = ipa_page;
        e->oa_page = oa >> RVM_PAGE_SHIFT;
        e->vmid = vmid;
        e->perms = out->perms;
        e->level = out->level;
        e->valid = 1;
        e->reserved = 0;
    }
    return err;
}
