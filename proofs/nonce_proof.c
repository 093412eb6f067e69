/* SPDX-License-Identifier: MIT */
/* WP harness for the P2 nonce window: the annotated real source plus lemma functions. */
#include "rvm/bytes.h"

#include <stdint.h>

/* The only byte-wise store in the proved functions clears the uint64_t bitmap of a domain; WP's
 * typed memory model cannot follow __builtin_memset, so it is modelled word by word. */
/*@ requires \valid(dst + (0 .. words - 1));
    assigns dst[0 .. words - 1];
    ensures \forall integer i; 0 <= i < words ==> dst[i] == 0;
*/
void proof_zero_words(uint64_t *dst, size_t words);
#undef rvm_memset
#define rvm_memset(dst, c, n) proof_zero_words((uint64_t *)(dst), (n) / sizeof(uint64_t))

#include "proof.c"

/* A nonce is accepted at most once: once marked, it is never fresh again. */
/*@ requires \valid_read(n) && \valid(n->domains + (0 .. n->count - 1));
    requires domain < n->count;
*/
void proof_marked_nonce_is_refused(struct rvm_proof_nonces *n, uint32_t domain, uint64_t nonce)
{
    rvm_proof_nonce_mark(n, domain, nonce);
    const enum rvm_err again = rvm_proof_nonce_fresh(n, domain, nonce);
    //@ assert again != RVM_OK;
}
