/* SPDX-License-Identifier: MIT */
/*
 * The operation tape recorder (docs/tape-format.md): while a run records, every resolved call
 * the kernel receives becomes a CALL entry, every answer the simulator's HAL gives the kernel
 * during it an ANSWER entry, and the guest's own memory accesses GUEST_ACCESS entries. The
 * encoding is the core's (rvm/tape.h), the same module the firmware decodes with.
 *
 * A CALL is written before the call runs (its answers follow it) and its result filled in
 * afterwards. A tape that could not be recorded completely (host memory, a payload the format
 * cannot carry) is marked failed and never written out: a partial tape would replay as a
 * different run.
 */
#include "target_kernel_internal.h"

#include <stdlib.h>
#include <string.h>

void kt_tape_reset(struct kt_tape *tp, bool on, const struct rvm_hal *eng)
{
    tp->on = on;
    tp->eng = eng;
    tp->len = 0;
    tp->entries = 0;
    tp->failed = NULL;
}

void kt_tape_free(struct kt_tape *tp)
{
    free(tp->buf);
    memset(tp, 0, sizeof(*tp));
}

static uint8_t *reserve(struct kt_tape *tp, size_t bytes)
{
    if (tp->failed != NULL) {
        return NULL;
    }
    if (tp->len + bytes > tp->cap) {
        size_t cap = tp->cap != 0 ? tp->cap : 1u << 16;
        while (cap < tp->len + bytes) { /* bound: doubling up to the size needed */
            cap *= 2u;
        }
        uint8_t *b = realloc(tp->buf, cap);
        if (b == NULL) {
            tp->failed = "out of memory recording the tape";
            return NULL;
        }
        tp->buf = b;
        tp->cap = cap;
    }
    uint8_t *at = tp->buf + tp->len;
    tp->len += bytes;
    tp->entries++;
    return at;
}

size_t kt_tape_call(struct kt_tape *tp, const struct rvm_tape_call *c)
{
    if (!tp->on) {
        return SIZE_MAX;
    }
    const size_t bytes = rvm_tape_call_bytes(c);
    uint8_t *at = reserve(tp, bytes);
    if (at == NULL) {
        return SIZE_MAX;
    }
    if (rvm_tape_encode_call(at, bytes, c) != bytes) {
        tp->failed = "a call the tape format cannot carry (payload too long)";
        return SIZE_MAX;
    }
    return (size_t)(at - tp->buf);
}

void kt_tape_result(struct kt_tape *tp, size_t at, enum rvm_err result)
{
    if (tp->on && at != SIZE_MAX && tp->failed == NULL) {
        rvm_tape_set_expect(tp->buf + at, (int32_t)result);
    }
}

void kt_tape_answer(struct kt_tape *tp, enum rvm_tape_hook hook, uint64_t value, bool injected)
{
    if (!tp->on) {
        return;
    }
    uint8_t *at = reserve(tp, RVM_TAPE_ANSWER_BYTES);
    if (at != NULL) {
        struct rvm_tape_answer a = {hook, injected ? RVM_TAPE_A_INJECTED : 0u, value};
        rvm_tape_encode_answer(at, &a);
    }
}

enum rvm_err kt_tape_witness(struct kt *t, enum rvm_tape_entry entry)
{
    struct rvm_tape_call c;
    memset(&c, 0, sizeof(c));
    c.entry = entry;
    size_t at = kt_tape_call(&t->tape, &c);
    struct rvm_tape_outputs out;
    enum rvm_err err = rvm_tape_apply(&t->k, &c, &out);
    kt_tape_result(&t->tape, at, err);
    return err;
}

enum rvm_err kt_seal(void *inst)
{
    return kt_tape_witness(inst, RVM_TAPE_E_WITNESS_SEAL);
}

bool kt_tape_finish(void *inst, uint64_t seed, uint64_t records, const uint8_t digest[32],
                    uint8_t **bytes, size_t *len, const char **why)
{
    struct kt *t = inst;
    struct kt_tape *tp = &t->tape;
    if (!tp->on || tp->failed != NULL) {
        *why = tp->on ? tp->failed : "the run did not record a tape";
        return false;
    }
    uint8_t *end = reserve(tp, RVM_TAPE_END_BYTES);
    if (end == NULL) {
        *why = tp->failed;
        return false;
    }
    struct rvm_tape_end e = {records, {0}};
    memcpy(e.digest, digest, sizeof(e.digest));
    rvm_tape_encode_end(end, &e);
    const size_t total = RVM_TAPE_HEADER_BYTES + tp->len;
    uint8_t *out = malloc(total);
    if (out == NULL) {
        tp->len -= RVM_TAPE_END_BYTES;
        tp->entries--;
        *why = "out of memory writing the tape";
        return false;
    }
    struct rvm_tape_header h;
    memset(&h, 0, sizeof(h));
    h.seed = seed;
    h.body_bytes = tp->len;
    h.entries = tp->entries;
    h.config = t->cfg;
    h.end_records = records;
    memcpy(h.end_digest, digest, sizeof(h.end_digest));
    if (!rvm_tape_encode_header(out, &h)) {
        free(out);
        *why = "the run's keys are longer than the tape format carries";
        return false;
    }
    memcpy(out + RVM_TAPE_HEADER_BYTES, tp->buf, tp->len);
    tp->len -= RVM_TAPE_END_BYTES; /* the run can still go on (a tape per finish) */
    tp->entries--;
    rvm_tape_seal(&t->hal.crypto, out, total);
    *bytes = out;
    *len = total;
    return true;
}
