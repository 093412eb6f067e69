/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the cmocka unit tests: includes in the order cmocka needs, a seeded RNG
 * that is independent of the simulator's (so tests do not trust the code they test), seed
 * reporting, and hex decoding for published vectors.
 *
 * Seeds: every randomised test calls test_seed(name, default). RVM_TEST_SEED=<n> in the
 * environment overrides the default; the seed in use is always printed, so a failure can be
 * reproduced with `RVM_TEST_SEED=<n> meson test -C build <test>`.
 */
#ifndef RVM_TESTS_TEST_SUPPORT_H
#define RVM_TESTS_TEST_SUPPORT_H

/* cmocka needs these four before it. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t test_seed(const char *test_name, uint64_t default_seed)
{
    const char *env = getenv("RVM_TEST_SEED");
    uint64_t seed = default_seed;
    if (env != NULL && *env != '\0') {
        seed = strtoull(env, NULL, 0);
    }
    printf("# %s: seed %llu (reproduce with RVM_TEST_SEED=%llu)\n", test_name,
           (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

/* SplitMix64: deliberately not the simulator's generator. */
struct test_rng {
    uint64_t state;
};

static inline struct test_rng test_rng_new(uint64_t seed)
{
    struct test_rng r = {seed};
    return r;
}

static inline uint64_t test_rng_next(struct test_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform enough for tests (bound is small); bound 0 yields 0. */
static inline uint64_t test_rng_below(struct test_rng *r, uint64_t bound)
{
    return bound == 0 ? 0 : test_rng_next(r) % bound;
}

static inline void test_rng_fill(struct test_rng *r, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)test_rng_next(r);
    }
}

static inline void hex_decode(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fail_msg("bad hex in test vector: %s", hex);
        }
        out[i] = (uint8_t)v;
    }
}

#endif /* RVM_TESTS_TEST_SUPPORT_H */
