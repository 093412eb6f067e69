/* SPDX-License-Identifier: MIT */
/*
 * Drives P1 with one kind of input so that tests/py/test_p1_equal_path.py can count, under
 * valgrind's callgrind, the instructions executed inside rvm_proof_p1_pass (the P1 decision) for
 * passing and for each kind of failing input.
 *
 *   p1_probe MODE [ITERS]
 *
 * MODE is pass, range, stale, free, holder, type, object, rights or all (every check fails).
 * The modes branchy-pass / branchy-fail run a deliberately early-returning P1 (probe_branchy_p1)
 * on the same inputs: the test requires callgrind to tell those two apart, which shows that the
 * measurement can see a difference in the path when there is one.
 */
#include "rvm/cap.h"
#include "rvm/crypto_portable.h"
#include "rvm/proof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPACITY 16u

struct input {
    rvm_partition_id actor;
    struct rvm_handle cap;
    uint8_t type;
    uint8_t rights;
    struct rvm_handle object;
};

enum rvm_err probe_branchy_p1(const struct rvm_cap_table *t, rvm_partition_id actor,
                              struct rvm_handle cap, uint8_t type, uint8_t rights,
                              struct rvm_handle object);

__attribute__((noinline)) enum rvm_err probe_branchy_p1(const struct rvm_cap_table *t,
                                                        rvm_partition_id actor,
                                                        struct rvm_handle cap, uint8_t type,
                                                        uint8_t rights, struct rvm_handle object)
{
    if (cap.index >= t->capacity) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    const struct rvm_cap_slot *s = &t->slots[cap.index];
    if (s->generation != cap.generation || (cap.generation & 1u) == 0) {
        return RVM_ERR_CAP_STALE;
    }
    if (s->owner != actor) {
        return RVM_ERR_CAP_HOLDER;
    }
    if (s->type != type) {
        return RVM_ERR_CAP_TYPE;
    }
    if (s->object.index != object.index || s->object.generation != object.generation) {
        return RVM_ERR_CAP_OBJECT;
    }
    return (rights & ~s->rights) != 0 ? RVM_ERR_CAP_RIGHTS : RVM_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: p1_probe MODE [ITERS]\n");
        return 2;
    }
    const char *mode = argv[1];
    unsigned long iters = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;

    static struct rvm_cap_slot slots[CAPACITY];
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_cap_table t;
    struct rvm_cap_config cfg = {.slots = slots, .capacity = CAPACITY};
    if (rvm_cap_init(&t, &crypto, &cfg) != RVM_OK) {
        return 2;
    }
    const struct rvm_handle object = {7, 3};
    struct rvm_cap_mint_args a = {.type = RVM_CAP_TYPE_REGION,
                                  .rights = RVM_CAP_READ | RVM_CAP_WRITE,
                                  .owner = 1,
                                  .object = object};
    struct rvm_witness_entry e;
    struct rvm_cap_plan plan;
    struct rvm_witness_rejection rej;
    if (rvm_cap_prepare_mint(&t, 0, &a, &e, &plan, &rej) != RVM_OK) {
        return 2;
    }
    rvm_cap_commit_mint(&t, &plan);
    const struct rvm_handle cap = rvm_cap_plan_handle(&plan);

    const struct input pass = {1, cap, RVM_CAP_TYPE_REGION, RVM_CAP_WRITE, object};
    struct input in = pass;
    enum rvm_err want = RVM_OK;
    bool branchy = false;
    if (strcmp(mode, "pass") == 0) {
    } else if (strcmp(mode, "range") == 0) {
        in.cap.index = CAPACITY + 5, want = RVM_ERR_OUT_OF_RANGE;
    } else if (strcmp(mode, "stale") == 0) {
        in.cap.generation += 2, want = RVM_ERR_CAP_STALE;
    } else if (strcmp(mode, "free") == 0) {
        in.cap.index = 9, want = RVM_ERR_CAP_STALE;
    } else if (strcmp(mode, "holder") == 0) {
        in.actor = 2, want = RVM_ERR_CAP_HOLDER;
    } else if (strcmp(mode, "type") == 0) {
        in.type = RVM_CAP_TYPE_DEVICE, want = RVM_ERR_CAP_TYPE;
    } else if (strcmp(mode, "object") == 0) {
        in.object.generation = 4, want = RVM_ERR_CAP_OBJECT;
    } else if (strcmp(mode, "rights") == 0) {
        in.rights = RVM_CAP_EXECUTE, want = RVM_ERR_CAP_RIGHTS;
    } else if (strcmp(mode, "all") == 0) {
        in = (struct input){9, {UINT32_MAX, 0}, 0xFF, 0xFF, {1, 1}}, want = RVM_ERR_OUT_OF_RANGE;
    } else if (strcmp(mode, "branchy-pass") == 0) {
        branchy = true;
    } else if (strcmp(mode, "branchy-fail") == 0) {
        in.cap.index = CAPACITY + 5, want = RVM_ERR_OUT_OF_RANGE, branchy = true;
    } else {
        fprintf(stderr, "p1_probe: unknown mode %s\n", mode);
        return 2;
    }
    unsigned long wrong = 0;
    for (unsigned long i = 0; i < iters; i++) {
        /* volatile copy: the compiler must pass the inputs anew on every call */
        volatile struct input v = in;
        struct input x = v;
        if (branchy) {
            wrong += probe_branchy_p1(&t, x.actor, x.cap, x.type, x.rights, x.object) != want;
        } else {
            wrong += rvm_proof_p1_pass(&t, x.actor, x.cap, x.type, x.rights, x.object) !=
                     (want == RVM_OK);
            /* the reason, outside the measured function, must match the mode */
            wrong += rvm_proof_p1(&t, x.actor, x.cap, x.type, x.rights, x.object) != want;
        }
    }
    printf("%s %lu calls, %lu unexpected results\n", mode, iters, wrong);
    return wrong == 0 ? 0 : 1;
}
