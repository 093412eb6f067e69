/* SPDX-License-Identifier: MIT */
/* The C library memory functions, for a firmware image that has no C library (mem.c). */
#ifndef RVM_FW_MEM_H
#define RVM_FW_MEM_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* RVM_FW_MEM_H */
