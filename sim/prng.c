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
