/* SPDX-License-Identifier: MIT */
#include "prng.h"

uint64_t rvm_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* FNV-1a of the stream name: only used to separate streams, not for security. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *c = (const unsigned char *)name; *c != 0; c++) {
        h ^= *c;
        h *= 0x100000001b3u;
    }
    return h;
}

void rvm_prng_init(struct rvm_prng *p, uint64_t seed, const char *name)
{
    uint64_t sm = seed;
    uint64_t mixed = rvm_splitmix64(&sm) ^ name_hash(name);
    for (int i = 0; i < 4; i++) {
        p->s[i] = rvm_splitmix64(&mixed);
    }
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rvm_prng_next(struct rvm_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rvm_prng_below(struct rvm_prng *p, uint64_t bound)
{
    if (bound == 0) {
        return 0;
    }
    /* Lemire's multiply-shift with rejection of the biased low range. */
    unsigned __int128 m = (unsigned __int128)rvm_prng_next(p) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (unsigned __int128)rvm_prng_next(p) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

bool rvm_prng_chance(struct rvm_prng *p, uint64_t numerator, uint64_t denominator)
{
    if (denominator == 0) {
        return false;
    }
    return rvm_prng_below(p, denominator) < numerator;
}
