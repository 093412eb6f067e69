/* SPDX-License-Identifier: MIT */
/* WP harness for the overflow-checked arithmetic and the region range test. */
#include <stdbool.h>
#include <stdint.h>

/* GCC's documented semantics of the overflow builtins at uint64_t (the only use in the core): the
 * wrapped result is stored and the return value says whether the exact result did not fit. */
/*@ assigns *r;
    ensures *r == (uint64_t)(a + b);
    ensures \result <==> a + b > 18446744073709551615;
*/
bool __builtin_add_overflow(uint64_t a, uint64_t b, uint64_t *r);
/*@ assigns *r;
    ensures *r == (uint64_t)(a * b);
    ensures \result <==> a * b > 18446744073709551615;
*/
bool __builtin_mul_overflow(uint64_t a, uint64_t b, uint64_t *r);

#include "region.c"

/* The range test is exact: two non-empty, non-wrapping ranges share an address iff ranges_overlap
 * says so. (For an empty range strictly inside another it answers "overlap": conservative, and
 * no caller passes an empty range, since region sizes are npages >= 1 pages.) */
/*@ requires a + a_len <= 18446744073709551615 && b + b_len <= 18446744073709551615;
    requires a_len >= 1 && b_len >= 1;
    assigns \nothing;
*/
void proof_overlap_exact(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
    bool overlap = ranges_overlap(a, a_len, b, b_len);
    /* the higher start is a shared address whenever the test says the ranges overlap */
    //@ assert witness_a: overlap && b <= a ==> (a < a + a_len && b <= a < b + b_len);
    //@ assert witness_b: overlap && a < b ==> (a <= b < a + a_len && b < b + b_len);
    /*@ assert exact: overlap <==>
          (\exists integer x; a <= x < a + a_len && b <= x < b + b_len); */
}
