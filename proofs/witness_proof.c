/* SPDX-License-Identifier: MIT */
/* WP harness for the witness ring's room accounting: the annotated real source. */
#include "witness.c"
