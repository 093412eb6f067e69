/* SPDX-License-Identifier: MIT */
#include "wire_parse.h"

#include "rvm/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MARKER     "RVMW "
#define MARKER_LEN 5
#define CRC_FIELD  9 /* " xxxxxxxx" */

static enum rvm_wire_result fail(struct rvm_wire_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum rvm_wire_result fail(struct rvm_wire_parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    return RVM_WIRE_ERROR;
}

void rvm_wire_parser_init(struct rvm_wire_parser *p, bool strict)
{
    memset(p, 0, sizeof(*p));
    p->strict = strict;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1; /* upper case is not produced by the encoder, so it is not accepted */
}

/* A cursor over the fields of a frame (between the type and the CRC). */
struct fields {
    const char *s;
    size_t len;
    size_t pos; /* 0-based column of the next character */
};

/* Expect " " followed by exactly 2*n lower-case hex digits; decode them. */
static bool take_hex(struct rvm_wire_parser *p, struct fields *f, uint8_t *out, size_t n,
                     const char *what)
{
    if (f->pos >= f->len || f->s[f->pos] != ' ') {
        fail(p, "column %zu: expected a space before the %s", f->pos + 1, what);
        return false;
    }
    f->pos++;
    if (f->len - f->pos < 2 * n) {
        fail(p, "column %zu: the %s is cut short (%zu hex digits expected)", f->pos + 1, what,
             2 * n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(f->s[f->pos + 2 * i]);
        int lo = hex_value(f->s[f->pos + 2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fail(p, "column %zu: bad hex digit in the %s", f->pos + 2 * i + (hi < 0 ? 1 : 2), what);
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    f->pos += 2 * n;
    return true;
}

static bool take_u64(struct rvm_wire_parser *p, struct fields *f, uint64_t *out, const char *what)
{
    uint8_t b[8];
    if (!take_hex(p, f, b, sizeof(b), what)) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        v = v << 8 | b[i];
    }
    *out = v;
    return true;
}

static bool at_end(struct rvm_wire_parser *p, const struct fields *f, char type)
{
    if (f->pos != f->len) {
        fail(p, "column %zu: unexpected text after the last field of a %c frame", f->pos + 1, type);
        return false;
    }
    return true;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static enum rvm_wire_result parse_header(struct rvm_wire_parser *p, struct fields *f,
                                         struct rvm_wire_frame *out)
{
    if (f->pos + 2 > f->len || f->s[f->pos] != ' ' || f->s[f->pos + 1] != '1' ||
        (f->pos + 2 < f->len && f->s[f->pos + 2] != ' ')) {
        return fail(p, "column %zu: framing version must be 1 (the only one this build reads)",
                    f->pos + 2);
    }
    f->pos += 2;
    out->nfields = 0;
    while (f->pos < f->len) { /* bound: the line's length */
        f->pos++;             /* the space (checked above or by the previous value's end) */
        size_t start = f->pos;
        while (f->pos < f->len && key_char(f->s[f->pos])) {
            f->pos++;
        }
        size_t klen = f->pos - start;
        if (klen == 0 || klen > RVM_WIRE_KEY_MAX || f->pos >= f->len || f->s[f->pos] != '=') {
            return fail(p, "column %zu: expected key=value (key: 1..%u of a-z 0-9 _)", start + 1,
                        RVM_WIRE_KEY_MAX);
        }
        if (out->nfields == RVM_WIRE_FIELDS_MAX) {
            return fail(p, "column %zu: more than %d header fields", start + 1,
                        RVM_WIRE_FIELDS_MAX);
        }
        char *key = out->keys[out->nfields];
        memcpy(key, f->s + start, klen);
        key[klen] = '\0';
        for (size_t i = 0; i < out->nfields; i++) {
            if (strcmp(out->keys[i], key) == 0) {
                return fail(p, "column %zu: header field '%s' given twice", start + 1, key);
            }
        }
        f->pos++; /* '=' */
        char *value = out->values[out->nfields];
        size_t vlen = 0;
        while (f->pos < f->len && f->s[f->pos] != ' ') {
            char c = f->s[f->pos];
            uint8_t byte;
            if (c == '%') {
                int hi = f->pos + 2 < f->len ? hex_value(f->s[f->pos + 1]) : -1;
                int lo = f->pos + 2 < f->len ? hex_value(f->s[f->pos + 2]) : -1;
                if (hi < 0 || lo < 0) {
                    return fail(p, "column %zu: bad %%-escape in header value", f->pos + 1);
                }
                byte = (uint8_t)(hi << 4 | lo);
                if (byte == 0) {
                    return fail(p, "column %zu: header value holds a NUL byte", f->pos + 1);
                }
                if (byte >= '!' && byte <= '~' && byte != '%') {
                    /* one spelling per value, so a frame re-encodes to the same bytes */
                    return fail(p, "column %zu: needless %%-escape of '%c'", f->pos + 1,
                                (char)byte);
                }
                f->pos += 3;
            } else if (c < '!' || c > '~') {
                return fail(p, "column %zu: unescaped control or non-ASCII byte in header value",
                            f->pos + 1);
            } else {
                byte = (uint8_t)c;
                f->pos++;
            }
            if (vlen == RVM_WIRE_VALUE_MAX) {
                return fail(p, "header value of '%s' is longer than %d bytes", key,
                            RVM_WIRE_VALUE_MAX);
            }
            value[vlen++] = (char)byte;
        }
        value[vlen] = '\0';
        out->nfields++;
    }
    return RVM_WIRE_FRAME;
}

static enum rvm_wire_result parse_frame(struct rvm_wire_parser *p, const char *s, size_t len,
                                        struct rvm_wire_frame *out)
{
    if (len < MARKER_LEN + 1 + CRC_FIELD) {
        return fail(p, "frame too short to hold a type and a checksum");
    }
    /* The checksum first: a line damaged in transit is "corrupted", whatever it now says. */
    size_t body = len - CRC_FIELD;
    if (s[body] != ' ') {
        return fail(p, "column %zu: expected a space before the checksum", body + 1);
    }
    uint32_t claimed = 0;
    for (size_t i = 0; i < 8; i++) {
        int d = hex_value(s[body + 1 + i]);
        if (d < 0) {
            return fail(p, "column %zu: bad hex digit in the checksum", body + 2 + i);
        }
        claimed = claimed << 4 | (uint32_t)d;
    }
    uint32_t actual = rvm_wire_crc32(0, (const uint8_t *)s, body);
    if (claimed != actual) {
        return fail(p, "corrupted line: checksum %08x does not match its content (%08x)", claimed,
                    actual);
    }

    memset(out, 0, sizeof(*out));
    out->type = s[MARKER_LEN];
    struct fields f = {.s = s, .len = body, .pos = MARKER_LEN + 1};
    switch (out->type) {
    case 'H':
        if (p->state != 0) {
            return fail(p, "a second header frame (one capture holds one run)");
        }
        if (parse_header(p, &f, out) != RVM_WIRE_FRAME) {
            return RVM_WIRE_ERROR;
        }
        p->state = 1;
        return RVM_WIRE_FRAME;
    case 'R':
    case 'C':
    case 'S':
    case 'E':
        break;
    default:
        return fail(p, "column %d: unknown frame type '%c'", MARKER_LEN + 1,
                    (unsigned char)out->type >= ' ' && (unsigned char)out->type < 127 ? out->type
                                                                                      : '?');
    }
    if (p->state == 0) {
        return fail(p, "%c frame before the header frame", out->type);
    }
    if (p->state == 2) {
        return fail(p, "%c frame after the end frame", out->type);
    }
    if (p->sealed && out->type != 'E') {
        return fail(p, "%c frame after the seal (the log's final checkpoint)", out->type);
    }

    if (out->type == 'R') {
        if (!take_u64(p, &f, &out->seq, "sequence") ||
            !take_hex(p, &f, out->image, RVM_WITNESS_RECORD_BYTES, "record image") ||
            !at_end(p, &f, 'R')) {
            return RVM_WIRE_ERROR;
        }
        uint64_t own = rvm_load_le64(out->image + RVM_WOFF_SEQUENCE);
        if (own != out->seq) {
            return fail(p, "the frame's sequence %llu disagrees with the record's own (%llu)",
                        (unsigned long long)out->seq, (unsigned long long)own);
        }
        if (out->seq < p->records) {
            return fail(p, "record %llu again (record %llu expected): duplicated frame",
                        (unsigned long long)out->seq, (unsigned long long)p->records);
        }
        if (out->seq > p->records) {
            return fail(p, "records %llu..%llu missing (record %llu arrived)",
                        (unsigned long long)p->records, (unsigned long long)(out->seq - 1),
                        (unsigned long long)out->seq);
        }
        p->records++;
        return RVM_WIRE_FRAME;
    }

    if (out->type == 'C' || out->type == 'S') {
        out->cp.seal = out->type == 'S';
        if (!take_u64(p, &f, &out->cp.sequence, "sequence") ||
            !take_hex(p, &f, out->cp.digest, sizeof(out->cp.digest), "digest") ||
            !take_hex(p, &f, out->cp.chain, sizeof(out->cp.chain), "chain value") ||
            !take_hex(p, &f, out->cp.hmac, sizeof(out->cp.hmac), "HMAC")) {
            return RVM_WIRE_ERROR;
        }
        if (f.pos != f.len) {
            if (!take_hex(p, &f, out->ed25519_pub, sizeof(out->ed25519_pub), "Ed25519 key") ||
                !take_hex(p, &f, out->ed25519_sig, sizeof(out->ed25519_sig), "Ed25519 signature")) {
                return RVM_WIRE_ERROR;
            }
            out->has_ed25519 = true;
        }
        if (!at_end(p, &f, out->type)) {
            return RVM_WIRE_ERROR;
        }
        out->seq = out->cp.sequence;
        if (out->cp.sequence >= p->records) {
            return fail(p, "checkpoint at seq %llu before its records (%llu received)",
                        (unsigned long long)out->cp.sequence, (unsigned long long)p->records);
        }
        /* a seal may end where the periodic checkpoint before it ended */
        if (p->checkpoints != 0 && out->cp.sequence <= p->last_checkpoint &&
            !(out->cp.seal && out->cp.sequence == p->last_checkpoint)) {
            return fail(p, "checkpoint at seq %llu does not follow the previous one (seq %llu)",
                        (unsigned long long)out->cp.sequence,
                        (unsigned long long)p->last_checkpoint);
        }
        p->checkpoints++;
        p->last_checkpoint = out->cp.sequence;
        p->sealed = out->cp.seal;
        return RVM_WIRE_FRAME;
    }

    /* 'E' */
    if (!take_u64(p, &f, &out->count, "record count") ||
        !take_hex(p, &f, out->digest, sizeof(out->digest), "digest") || !at_end(p, &f, 'E')) {
        return RVM_WIRE_ERROR;
    }
    if (out->count != p->records) {
        return fail(p, "end frame says %llu records but %llu arrived",
                    (unsigned long long)out->count, (unsigned long long)p->records);
    }
    p->state = 2;
    return RVM_WIRE_FRAME;
}

/* memmem for the marker, without relying on the GNU extension. */
static bool contains_marker(const char *s, size_t len)
{
    for (size_t i = 0; i + MARKER_LEN <= len; i++) {
        if (s[i] == 'R' && memcmp(s + i, MARKER, MARKER_LEN) == 0) {
            return true;
        }
    }
    return false;
}

enum rvm_wire_result rvm_wire_parse_line(struct rvm_wire_parser *p, const char *line, size_t len,
                                         bool terminated, bool overlong, struct rvm_wire_frame *out)
{
    p->line++;
    p->error[0] = '\0';
    if (len != 0 && line[len - 1] == '\r') {
        len--;
    }
    bool frame = len >= MARKER_LEN && memcmp(line, MARKER, MARKER_LEN) == 0;
    if (frame) {
        if (!terminated) {
            return fail(p, "truncated: the capture ends inside a frame (no end of line)");
        }
        if (overlong || len >= RVM_WIRE_LINE_MAX) {
            return fail(p, "frame line longer than %u bytes", RVM_WIRE_LINE_MAX - 1);
        }
        return parse_frame(p, line, len, out);
    }
    if (contains_marker(line, len)) {
        return fail(p, "a frame marker in the middle of a line (console output interleaved with "
                       "a frame?)");
    }
    if (p->strict) {
        return fail(p, "not a frame (strict mode accepts frames only)");
    }
    if (p->text_lines == 0) {
        p->first_text_line = p->line;
    }
    p->text_lines++;
    return RVM_WIRE_TEXT;
}

bool rvm_wire_parser_finish(struct rvm_wire_parser *p)
{
    if (p->state == 2) {
        return true;
    }
    if (p->state == 0) {
        fail(p, "no header frame: not a witness capture");
    } else {
        fail(p, "truncated capture: no end frame after %llu records",
             (unsigned long long)p->records);
    }
    return false;
}
