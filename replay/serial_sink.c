/* SPDX-License-Identifier: MIT */
#include "serial_sink.h"

#include <string.h>

static bool put(struct rvm_serial_sink *s, const char *line, size_t len)
{
    if (len == 0 || fwrite(line, 1, len, s->f) != len) {
        s->failed = true;
    }
    return !s->failed;
}

bool rvm_serial_sink_open(struct rvm_serial_sink *s, FILE *f, const struct rvm_wire_field *fields,
                          size_t nfields, const struct rvm_ed25519_key *signer)
{
    char line[RVM_WIRE_LINE_MAX];
    memset(s, 0, sizeof(*s));
    s->f = f;
    s->signer = signer;
    if (signer != NULL && !rvm_ed25519_public(signer, s->pub)) {
        return false;
    }
    return put(s, line, rvm_wire_header(line, fields, nfields, 4096));
}

static size_t serial_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct rvm_serial_sink *s = ctx;
    char line[RVM_WIRE_LINE_MAX];
    if (s->failed || first_seq != s->next_seq) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        if (!put(s, line, rvm_wire_record(line, records + i * RVM_WITNESS_RECORD_BYTES))) {
            return i; /* a UART that cannot take more stalls the core */
        }
        s->next_seq++;
    }
    return count;
}

static bool serial_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct rvm_serial_sink *s = ctx;
    char line[RVM_WIRE_LINE_MAX];
    uint8_t sig[RVM_ED25519_SIGNATURE_BYTES];
    if (s->failed) {
        return false;
    }
    if (s->signer != NULL) {
        if (!rvm_ed25519_sign_checkpoint(s->signer, cp, sig)) {
            return false;
        }
        return put(s, line, rvm_wire_checkpoint(line, cp, s->pub, sig));
    }
    return put(s, line, rvm_wire_checkpoint(line, cp, NULL, NULL));
}

const struct rvm_sink_ops rvm_serial_sink_ops = {
    .records = serial_records,
    .checkpoint = serial_checkpoint,
};

bool rvm_serial_sink_end(struct rvm_serial_sink *s, uint64_t count,
                         const uint8_t digest[RVM_SHA256_DIGEST_BYTES])
{
    char line[RVM_WIRE_LINE_MAX];
    return !s->failed && put(s, line, rvm_wire_end(line, count, digest));
}
