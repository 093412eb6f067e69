/* SPDX-License-Identifier: MIT */
/*
 * Byte-level helpers for the freestanding core.
 *
 * Every on-the-wire format (witness records, checkpoints, hypercall buffers) is encoded with these
 * explicit little/big-endian accessors, never by casting a struct over bytes, so the encoding is
 * the same on every host and compiler.
 */
#ifndef RVM_BYTES_H
#define RVM_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The core has no libc: these map to the compiler's builtins, which the freestanding targets
 * resolve to inline code or to the firmware's own mem* routines. */
#define rvm_memcpy(dst, src, n)  __builtin_memcpy((dst), (src), (n))
#define rvm_memset(dst, c, n)    __builtin_memset((dst), (c), (n))
#define rvm_memmove(dst, src, n) __builtin_memmove((dst), (src), (n))
#define rvm_memcmp(a, b, n)      __builtin_memcmp((a), (b), (n))

#define RVM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Fixed-endian loads and stores. The value is byte-swapped when the host's order differs from
 * the format's and moved with __builtin_memcpy, which compiles to one unaligned access where the
 * target allows it (x86-64, aarch64 without -mstrict-align, riscv with Zicclsm) and to byte
 * accesses elsewhere. Shift-and-mask byte sequences looked equivalent but GCC 12 did not merge
 * them inside the witness encoder (~95 instructions per record instead of ~15).
 */
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "the compiler must predefine __BYTE_ORDER__"
#endif
#define RVM_HOST_IS_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* Byte swaps written as shifts: GCC turns them into bswap/rev where the ISA has one, and unlike
 * __builtin_bswap* they never become libgcc calls (riscv64 without Zbb). */
static inline uint16_t rvm_bswap16(uint16_t v)
{
    return (uint16_t)((v >> 8) | (v << 8));
}

static inline uint32_t rvm_bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0x0000ff00u) | ((v << 8) & 0x00ff0000u) | (v << 24);
}

static inline uint64_t rvm_bswap64(uint64_t v)
{
    return (uint64_t)rvm_bswap32((uint32_t)v) << 32 | rvm_bswap32((uint32_t)(v >> 32));
}

static inline uint16_t rvm_to_le16(uint16_t v)
{
    return RVM_HOST_IS_LE ? v : rvm_bswap16(v);
}

static inline uint32_t rvm_to_le32(uint32_t v)
{
    return RVM_HOST_IS_LE ? v : rvm_bswap32(v);
}

static inline uint64_t rvm_to_le64(uint64_t v)
{
    return RVM_HOST_IS_LE ? v : rvm_bswap64(v);
}

static inline uint32_t rvm_to_be32(uint32_t v)
{
    return RVM_HOST_IS_LE ? rvm_bswap32(v) : v;
}

static inline uint64_t rvm_to_be64(uint64_t v)
{
    return RVM_HOST_IS_LE ? rvm_bswap64(v) : v;
}

static inline void rvm_store_le16(uint8_t *p, uint16_t v)
{
    v = rvm_to_le16(v);
    __builtin_memcpy(p, &v, sizeof(v));
}

static inline void rvm_store_le32(uint8_t *p, uint32_t v)
{
    v = rvm_to_le32(v);
    __builtin_memcpy(p, &v, sizeof(v));
}

static inline void rvm_store_le64(uint8_t *p, uint64_t v)
{
    v = rvm_to_le64(v);
    __builtin_memcpy(p, &v, sizeof(v));
}

static inline uint16_t rvm_load_le16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return rvm_to_le16(v);
}

static inline uint32_t rvm_load_le32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return rvm_to_le32(v);
}

static inline uint64_t rvm_load_le64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return rvm_to_le64(v);
}

static inline void rvm_store_be32(uint8_t *p, uint32_t v)
{
    v = rvm_to_be32(v);
    __builtin_memcpy(p, &v, sizeof(v));
}

static inline uint32_t rvm_load_be32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return rvm_to_be32(v);
}

static inline void rvm_store_be64(uint8_t *p, uint64_t v)
{
    v = rvm_to_be64(v);
    __builtin_memcpy(p, &v, sizeof(v));
}

/*
 * Constant-time equality of two byte strings of length n: the time depends on n only, never on
 * where the first difference is. Used for MACs and digests an attacker may probe.
 */
static inline bool rvm_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) { /* bound: n */
        diff |= (uint8_t)(a[i] ^ b[i]);
    }
    return diff == 0;
}

/* Overflow-checked a + b for sizes and addresses: returns false (and leaves *out alone) on wrap. */
static inline bool rvm_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        return false;
    }
    *out = r;
    return true;
}

static inline bool rvm_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) {
        return false;
    }
    *out = r;
    return true;
}

static inline bool rvm_is_pow2_u64(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/*
 * Count trailing zeros of a non-zero 32-bit value. The de Bruijn version is always available (and
 * tested against the builtin); rvm_ctz32 uses the builtin only where the ISA has the instruction,
 * because elsewhere (riscv64 without Zbb) GCC would call libgcc's __ctzsi2, which the freestanding
 * core cannot link.
 */
static inline uint32_t rvm_ctz32_portable(uint32_t v)
{
    static const uint8_t debruijn[32] = {0,  1,  28, 2,  29, 14, 24, 3,  30, 22, 20,
                                         15, 25, 17, 4,  8,  31, 27, 13, 23, 21, 19,
                                         16, 7,  26, 12, 18, 6,  11, 5,  10, 9};
    return debruijn[((v & (0u - v)) * 0x077CB531u) >> 27];
}

static inline uint32_t rvm_ctz32(uint32_t v)
{
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__riscv_zbb)
    return (uint32_t)__builtin_ctz(v);
#else
    return rvm_ctz32_portable(v);
#endif
}

#endif /* RVM_BYTES_H */
