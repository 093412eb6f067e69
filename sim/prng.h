/* SPDX-License-Identifier: MIT */
/*
 * Deterministic pseudo-random streams for the simulator.
 *
 * One run seed, many independent streams: each concern (workload, faults, CPU interleaving, ...)
 * derives its own generator from (seed, stream name), so adding draws to one stream never shifts
 * another. The generator is xoshiro256** (Blackman and Vigna), seeded through SplitMix64; both
 * are tiny, fast and well studied. Probabilities are integer ratios, never floating point, so a
 * run is bit-identical on every host.
 */
#ifndef RVM_SIM_PRNG_H
#define RVM_SIM_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct rvm_prng {
    uint64_t s[4];
};

/* Stream `name` of run `seed`. Same (seed, name) => same sequence, on every platform. */
void rvm_prng_init(struct rvm_prng *p, uint64_t seed, const char *name);

/* The draws are inline: a simulator step makes a dozen of them (ambient faults, the operation,
 * its arguments, the interleaving), so the calls would cost as much as the arithmetic. */
static inline uint64_t rvm_prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rvm_prng_next(struct rvm_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rvm_prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rvm_prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
static inline uint64_t rvm_prng_below(struct rvm_prng *p, uint64_t bound)
{
    if (bound == 0) {
        return 0;
    }
    /* Lemire's multiply-shift with rejection of the biased low range. */
    unsigned __int128 m = (unsigned __int128)rvm_prng_next(p) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) { /* bound: each pass rejects with probability below 1/2 */
            m = (unsigned __int128)rvm_prng_next(p) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* True with probability numerator/denominator (false when denominator is 0). */
static inline bool rvm_prng_chance(struct rvm_prng *p, uint64_t numerator, uint64_t denominator)
{
    return denominator != 0 && rvm_prng_below(p, denominator) < numerator;
}

/* SplitMix64 step, exposed for deriving sub-seeds. */
uint64_t rvm_splitmix64(uint64_t *state);

#endif /* RVM_SIM_PRNG_H */
