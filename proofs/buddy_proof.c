/* SPDX-License-Identifier: MIT */
/* WP harness for the buddy allocator: the annotated real source plus lemma functions. */
#include "buddy.c"

/* The prepare/commit allocation path never hands out a page that is not a free block head. */
/*@ requires buddy_storage(b) && buddy_heads(b) && buddy_mask(b) && \valid(plan) &&
             \separated(plan, b, b->tags + (0 .. b->npages - 1), b->links + (0 .. b->npages - 1));
    requires 0 <= allocated < b->npages;
    requires \forall integer k; 0 <= k <= 31 ==> b->tags[allocated] != (0x40 | k);
*/
void proof_alloc_never_hands_out_allocated(struct rvm_buddy *b, uint32_t order,
                                           struct rvm_buddy_alloc_plan *plan, uint32_t allocated)
{
    if (rvm_buddy_prepare_alloc(b, order, plan) == RVM_OK) {
        rvm_hpa_t got = rvm_buddy_commit_alloc(b, plan);
        //@ assert got.v != \at(b->base, Pre) + allocated * 4096;
    }
}
