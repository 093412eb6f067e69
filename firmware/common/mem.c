/* SPDX-License-Identifier: MIT */
/*
 * The four functions a freestanding compiler may call behind the program's back (C11 5.1.2.1,
 * GCC's -ffreestanding still emits memcpy/memset for struct copies and large initialisers).
 * Byte loops, so they work on any alignment and never issue a wider access than asked for.
 *
 * This file is compiled with -fno-builtin -fno-tree-loop-distribute-patterns
 * (firmware/meson.build): without them GCC recognises each loop as the very function it
 * implements and compiles it into a call to itself.
 */
#include "mem.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        d[i] = s[i];
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0) {
        return dst;
    }
    if ((uintptr_t)d < (uintptr_t)s) {
        for (size_t i = 0; i < n; i++) { /* bound: n */
            d[i] = s[i];
        }
    } else {
        for (size_t i = n; i > 0; i--) { /* bound: n */
            d[i - 1] = s[i - 1];
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        d[i] = (unsigned char)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a;
    const unsigned char *y = b;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}
