/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the serial-capture parser (replay/wire_parse.c), built and run for a few
 * seconds by scripts/run_fuzz.sh in `make test` (clang -fsanitize=fuzzer,address,undefined).
 *
 * The input is split into lines and fed to the parser the way `rvmsim import` does (stopping at
 * the first error). Besides the sanitizers' checks, every frame the parser accepts must re-encode
 * to exactly the bytes it was parsed from (the framing has one spelling per frame, so nothing
 * but a valid, canonical frame can be accepted), and the parser's counters must match the
 * frames it returned.
 */
#include "wire_parse.h"

#include "rvm/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t reencode(const struct rvm_wire_frame *f, char *line)
{
    struct rvm_wire_field fields[RVM_WIRE_FIELDS_MAX];
    switch (f->type) {
    case 'H':
        for (size_t k = 0; k < f->nfields; k++) {
            fields[k].key = f->keys[k];
            fields[k].value = f->values[k];
        }
        return rvm_wire_header(line, fields, f->nfields, RVM_WIRE_VALUE_MAX + 1);
    case 'R':
        return rvm_wire_record(line, f->image);
    case 'C':
    case 'S':
        return rvm_wire_checkpoint(line, &f->cp, f->has_ed25519 ? f->ed25519_pub : NULL,
                                   f->has_ed25519 ? f->ed25519_sig : NULL);
    case 'E':
        return rvm_wire_end(line, f->count, f->digest);
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rvm_wire_parser p;
    struct rvm_wire_frame frame;
    uint64_t records = 0, checkpoints = 0;
    bool strict = size != 0 && (data[0] & 1) != 0;
    rvm_wire_parser_init(&p, strict);
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        size_t len = end - start;
        bool overlong = len > RVM_WIRE_LINE_MAX + 1;
        if (overlong) {
            len = RVM_WIRE_LINE_MAX + 2; /* as the importer's bounded line reader passes it */
        }
        /* a copy of exactly the line, so ASan catches any read past it */
        char *line = malloc(len != 0 ? len : 1);
        memcpy(line, data + start, len);
        enum rvm_wire_result r = rvm_wire_parse_line(&p, line, len, nl != NULL, overlong, &frame);
        if (r == RVM_WIRE_FRAME) {
            char enc[RVM_WIRE_LINE_MAX];
            size_t n = reencode(&frame, enc);
            size_t body = len;
            if (body != 0 && line[body - 1] == '\r') {
                body--;
            }
            if (n != body + 1 || memcmp(enc, line, body) != 0 || enc[body] != '\n') {
                abort(); /* accepted a line that is not the canonical frame */
            }
            records += frame.type == 'R';
            checkpoints += frame.type == 'C' || frame.type == 'S';
            if (p.records != records || p.checkpoints != checkpoints) {
                abort();
            }
        }
        free(line);
        if (r == RVM_WIRE_ERROR) {
            if (p.error[0] == '\0') {
                abort(); /* every rejection says why */
            }
            return 0;
        }
        start = end + 1;
    }
    (void)rvm_wire_parser_finish(&p);
    return 0;
}
