/* SPDX-License-Identifier: MIT */
/*
 * Parser of serial captures of the witness stream (frames: core/include/rvm/wire.h, grammar and
 * rules: docs/replay-store.md "Serial framing").
 *
 * The parser is fed one line at a time and checks everything that can be checked without keys
 * or a database: the line's CRC, the exact field syntax, and the order of frames (one header
 * first; records consecutive from 0; checkpoints ascending and only over records already seen;
 * one end frame whose count matches; nothing after it). Console text between frames is allowed
 * and counted, unless the parser is strict. Chain and signature checks are the importer's.
 * It allocates nothing and is the target of tests/fuzz/fuzz_wire_parse.c.
 */
#ifndef RVM_REPLAY_WIRE_PARSE_H
#define RVM_REPLAY_WIRE_PARSE_H

#include "rvm/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_WIRE_FIELDS_MAX 16
#define RVM_WIRE_VALUE_MAX  256

struct rvm_wire_frame {
    char type; /* 'H', 'R', 'C', 'S' (a seal: cp.seal is set) or 'E' */
    /* R */
    uint8_t image[RVM_WITNESS_RECORD_BYTES];
    /* C */
    struct rvm_witness_checkpoint cp;
    bool has_ed25519;
    uint8_t ed25519_pub[RVM_WIRE_ED25519_PUB];
    uint8_t ed25519_sig[RVM_WIRE_ED25519_SIG];
    /* R: the record's sequence; E: the record count */
    uint64_t seq;
    uint64_t count;
    uint8_t digest[RVM_SHA256_DIGEST_BYTES]; /* E */
    /* H: key=value pairs, values %-decoded (NUL-terminated; a value holding a NUL byte is
     * refused) */
    size_t nfields;
    char keys[RVM_WIRE_FIELDS_MAX][RVM_WIRE_KEY_MAX + 1];
    char values[RVM_WIRE_FIELDS_MAX][RVM_WIRE_VALUE_MAX + 1];
};

enum rvm_wire_result {
    RVM_WIRE_FRAME, /* a frame was parsed into *out */
    RVM_WIRE_TEXT,  /* not a frame: console output, skipped and counted */
    RVM_WIRE_ERROR, /* message in parser->error; the capture must be rejected */
};

struct rvm_wire_parser {
    bool strict;      /* any line that is not a frame is an error */
    uint64_t line;    /* 1-based number of the last line fed */
    int state;        /* 0 before the header, 1 in the log, 2 after the end frame */
    uint64_t records; /* record frames accepted == the next expected sequence */
    uint64_t checkpoints;
    uint64_t last_checkpoint;
    bool sealed; /* an S frame was accepted: only the end frame may follow */
    uint64_t text_lines;
    uint64_t first_text_line;
    char error[256];
};

void rvm_wire_parser_init(struct rvm_wire_parser *p, bool strict);

/*
 * One line, without its '\n' (one trailing '\r' is ignored). `terminated` is false for a last
 * line that had no '\n' (a capture cut off mid-line). Lines longer than RVM_WIRE_LINE_MAX may be
 * passed truncated to any length > RVM_WIRE_LINE_MAX with `overlong` set.
 */
enum rvm_wire_result rvm_wire_parse_line(struct rvm_wire_parser *p, const char *line, size_t len,
                                         bool terminated, bool overlong,
                                         struct rvm_wire_frame *out);

/* End of input: false (error set) unless an end frame was seen. */
bool rvm_wire_parser_finish(struct rvm_wire_parser *p);

#endif /* RVM_REPLAY_WIRE_PARSE_H */
