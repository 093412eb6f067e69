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

uint64_t rvm_prng_next(struct rvm_prng *p);

/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t rvm_prng_below(struct rvm_prng *p, uint64_t bound);

/* True with probability numerator/denominator (false when denominator is 0). */
bool rvm_prng_chance(struct rvm_prng *p, uint64_t numerator, uint64_t denominator);

/* SplitMix64 step, exposed for deriving sub-seeds. */
uint64_t rvm_splitmix64(uint64_t *state);

#endif /* RVM_SIM_PRNG_H */
