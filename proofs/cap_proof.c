/* SPDX-License-Identifier: MIT */
/* WP harness for capability handle resolution: the annotated real source. */
#include "cap.c"
