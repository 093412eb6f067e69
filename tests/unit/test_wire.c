/* SPDX-License-Identifier: MIT */
/*
 * The serial framing: the core's encoder (rvm/wire.h) and the replay store's parser
 * (replay/wire_parse.h).
 *
 * Expected lines were produced by an independent implementation (Python's zlib.crc32 and
 * bytes.hex() from the grammar in docs/replay-store.md), and the CRC against the published
 * CRC-32/ISO-HDLC check value. The parser is tested for every rejection it promises, with the
 * line it names, and for never accepting a single corrupted byte.
 */
#include "test_support.h"

#include "wire_parse.h"

#include "rvm/bytes.h"
#include "rvm/wire.h"

static const char expected_record[] =
    "RVMW R 342d261f18110a03 "
    "030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e"
    "454c535a61686f767d848b9299a0a7aeb5bc 79e99b7a\n";

static const char expected_checkpoint[] =
    "RVMW C 0000000000001234 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f "
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f f054be7e\n";

static const char expected_checkpoint_signed[] =
    "RVMW C 0000000000001234 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f "
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f "
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f "
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadae"
    "afb0b1b2b3b4b5b6b7b8b9babbbcbdbebf 27db5902\n";

static const char expected_end[] =
    "RVMW E 00000000000003e8 abababababababababababababababababababababababababababababababab "
    "c0ba2b3f\n";

static const char expected_header[] =
    "RVMW H 1 platform=qemu-aarch64 build=0.1.0%20(abc) note=100%25 09f5a1a3\n";

static void hand_image(uint8_t image[64])
{
    for (int i = 0; i < 64; i++) {
        image[i] = (uint8_t)(i * 7 + 3);
    }
}

static void hand_checkpoint(struct rvm_witness_checkpoint *cp, uint8_t pub[32], uint8_t sig[64])
{
    memset(cp, 0, sizeof(*cp));
    cp->sequence = 0x1234;
    for (int i = 0; i < 32; i++) {
        cp->digest[i] = (uint8_t)i;
        cp->chain[i] = (uint8_t)(32 + i);
        cp->hmac[i] = (uint8_t)(64 + i);
        pub[i] = (uint8_t)(96 + i);
    }
    for (int i = 0; i < 64; i++) {
        sig[i] = (uint8_t)(128 + i);
    }
}

static void assert_line(const char *got, size_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* CRC-32/ISO-HDLC check value (the CRC RevEng catalogue) */
    assert_int_equal(rvm_wire_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
    assert_int_equal(rvm_wire_crc32(0, NULL, 0), 0);
    /* chaining: feeding the halves gives the whole */
    uint32_t c = rvm_wire_crc32(0, (const uint8_t *)"1234", 4);
    assert_int_equal(rvm_wire_crc32(c, (const uint8_t *)"56789", 5), 0xcbf43926u);
}

static void test_encoder_lines(void **state)
{
    (void)state;
    char line[RVM_WIRE_LINE_MAX];
    uint8_t image[64], pub[32], sig[64], digest[32];
    struct rvm_witness_checkpoint cp;
    hand_image(image);
    hand_checkpoint(&cp, pub, sig);
    memset(digest, 0xab, sizeof(digest));

    size_t n = rvm_wire_record(line, image);
    assert_int_equal(n, RVM_WIRE_RECORD_LINE);
    assert_line(line, n, expected_record);
    assert_line(line, rvm_wire_checkpoint(line, &cp, NULL, NULL), expected_checkpoint);
    assert_line(line, rvm_wire_checkpoint(line, &cp, pub, sig), expected_checkpoint_signed);
    /* a key without a signature (or the reverse) is "neither" */
    assert_line(line, rvm_wire_checkpoint(line, &cp, pub, NULL), expected_checkpoint);
    assert_line(line, rvm_wire_end(line, 1000, digest), expected_end);

    const struct rvm_wire_field fields[] = {
        {"platform", "qemu-aarch64"}, {"build", "0.1.0 (abc)"}, {"note", "100%"}};
    assert_line(line, rvm_wire_header(line, fields, 3, 64), expected_header);
    assert_line(line, rvm_wire_header(line, NULL, 0, 64), "RVMW H 1 1130aae8\n");
}

static void test_encoder_header_refusals(void **state)
{
    (void)state;
    char line[RVM_WIRE_LINE_MAX];
    const struct rvm_wire_field bad_key[] = {{"Platform", "x"}};
    const struct rvm_wire_field empty_key[] = {{"", "x"}};
    const struct rvm_wire_field long_key[] = {{"abcdefghijklmnopqrstuvwxyz0123456", "x"}};
    assert_int_equal(rvm_wire_header(line, bad_key, 1, 64), 0);
    assert_int_equal(rvm_wire_header(line, empty_key, 1, 64), 0);
    assert_int_equal(rvm_wire_header(line, long_key, 1, 64), 0);
    /* keys are [a-z0-9_] only: a character just above 'z' or just below '0' is refused */
    const struct rvm_wire_field above_z[] = {{"a{", "x"}};
    const struct rvm_wire_field below_0[] = {{"a-b", "x"}};
    assert_int_equal(rvm_wire_header(line, above_z, 1, 64), 0);
    assert_int_equal(rvm_wire_header(line, below_0, 1, 64), 0);
    /* '_' and digits are key characters; value bytes above '~' are written %XX in lower-case hex
     * (docs/replay-store.md; CRC-32 of "RVMW H 1 a_9=%7f%80x" from Python's zlib.crc32) */
    const struct rvm_wire_field underscore[] = {{"a_9", "\x7f\x80x"}};
    assert_line(line, rvm_wire_header(line, underscore, 1, 64), "RVMW H 1 a_9=%7f%80x 067c7d45\n");

    /* too long for one line: refused, never cut */
    static char big[400];
    memset(big, ' ', sizeof(big) - 1); /* each space becomes %20 */
    const struct rvm_wire_field huge[] = {{"v", big}};
    assert_int_equal(rvm_wire_header(line, huge, 1, sizeof(big)), 0);
    /* max_value bounds how much of a value is read */
    const struct rvm_wire_field bounded[] = {{"v", big}};
    size_t n = rvm_wire_header(line, bounded, 1, 2);
    assert_true(n > 0);
    assert_memory_equal(line, "RVMW H 1 v=%20%20 ", 18);
}

/* ------------------------------------------------------------------------------------------------
 * Parser
 * --------------------------------------------------------------------------------------------- */

/* A capture of `records` records of a valid-looking log (the parser does not check chains). */
struct capture {
    char text[64 * 1024];
    size_t len;
    size_t line_start[256];
    size_t nlines;
};

static void cap_add(struct capture *c, const char *line, size_t n)
{
    assert_true(c->len + n < sizeof(c->text));
    c->line_start[c->nlines++] = c->len;
    memcpy(c->text + c->len, line, n);
    c->len += n;
    c->text[c->len] = '\0';
}

static void make_capture(struct capture *c, unsigned records, bool with_end)
{
    char line[RVM_WIRE_LINE_MAX];
    memset(c, 0, sizeof(*c));
    const struct rvm_wire_field fields[] = {{"platform", "sim"}, {"seed", "7"}};
    cap_add(c, line, rvm_wire_header(line, fields, 2, 64));
    for (unsigned i = 0; i < records; i++) {
        uint8_t image[64];
        hand_image(image);
        rvm_store_le64(image, i);
        cap_add(c, line, rvm_wire_record(line, image));
        if (i % 4 == 3) {
            struct rvm_witness_checkpoint cp;
            uint8_t pub[32], sig[64];
            hand_checkpoint(&cp, pub, sig);
            cp.sequence = i;
            cap_add(c, line, rvm_wire_checkpoint(line, &cp, i % 8 == 7 ? pub : NULL, sig));
        }
    }
    if (with_end) {
        uint8_t digest[32] = {0};
        cap_add(c, line, rvm_wire_end(line, records, digest));
    }
}

/* Feed a whole text; returns the number of frames, or -(line) of the first error. */
static long feed(const char *text, size_t len, bool strict, struct rvm_wire_parser *p)
{
    struct rvm_wire_frame frame;
    long frames = 0;
    size_t start = 0;
    rvm_wire_parser_init(p, strict);
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        enum rvm_wire_result r =
            rvm_wire_parse_line(p, text + start, end - start, nl != NULL, false, &frame);
        if (r == RVM_WIRE_ERROR) {
            return -(long)p->line;
        }
        frames += r == RVM_WIRE_FRAME;
        start = end + 1;
    }
    if (!rvm_wire_parser_finish(p)) {
        return -(long)(p->line + 1);
    }
    return frames;
}

static void expect_error(const char *text, size_t len, bool strict, long line, const char *needle)
{
    struct rvm_wire_parser p;
    long r = feed(text, len, strict, &p);
    if (r != -line || strstr(p.error, needle) == NULL) {
        fail_msg("expected an error at line %ld containing '%s', got %ld: '%s'", line, needle, r,
                 p.error);
    }
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    struct capture c;
    make_capture(&c, 9, true);
    struct rvm_wire_parser p;
    struct rvm_wire_frame f;
    rvm_wire_parser_init(&p, true);
    for (size_t i = 0; i < c.nlines; i++) {
        size_t start = c.line_start[i];
        size_t end = (i + 1 < c.nlines ? c.line_start[i + 1] : c.len) - 1;
        assert_int_equal(rvm_wire_parse_line(&p, c.text + start, end - start, true, false, &f),
                         RVM_WIRE_FRAME);
        /* re-encoding what was parsed gives the same bytes */
        char line[RVM_WIRE_LINE_MAX];
        size_t n = 0;
        switch (f.type) {
        case 'H': {
            struct rvm_wire_field fields[RVM_WIRE_FIELDS_MAX];
            for (size_t k = 0; k < f.nfields; k++) {
                fields[k].key = f.keys[k];
                fields[k].value = f.values[k];
            }
            assert_int_equal(f.nfields, 2);
            assert_string_equal(f.keys[1], "seed");
            assert_string_equal(f.values[1], "7");
            n = rvm_wire_header(line, fields, f.nfields, RVM_WIRE_VALUE_MAX);
            break;
        }
        case 'R':
            assert_int_equal(f.seq, rvm_load_le64(f.image));
            n = rvm_wire_record(line, f.image);
            break;
        case 'C':
            n = rvm_wire_checkpoint(line, &f.cp, f.has_ed25519 ? f.ed25519_pub : NULL,
                                    f.ed25519_sig);
            break;
        default:
            assert_int_equal(f.count, 9);
            n = rvm_wire_end(line, f.count, f.digest);
            break;
        }
        assert_int_equal(n, end - start + 1);
        assert_memory_equal(line, c.text + start, n);
    }
    assert_true(rvm_wire_parser_finish(&p));
    assert_int_equal(p.records, 9);
    assert_int_equal(p.checkpoints, 2);

    /* CRLF line ends and console text are fine (not in strict mode) */
    char text[sizeof(c.text) + 64];
    int n = snprintf(text, sizeof(text), "boot: hello\r\n%s", c.text);
    assert_int_equal(feed(text, (size_t)n, false, &p), (long)c.nlines);
    assert_int_equal(p.text_lines, 1);
    assert_int_equal(p.first_text_line, 1);
    expect_error(text, (size_t)n, true, 1, "strict");
}

/* Replace line `index` (0-based) of the capture with `repl` (which includes its '\n'). */
static size_t with_line(const struct capture *c, size_t index, const char *repl, char *out)
{
    size_t start = c->line_start[index];
    size_t end = index + 1 < c->nlines ? c->line_start[index + 1] : c->len;
    memcpy(out, c->text, start);
    size_t n = strlen(repl);
    memcpy(out + start, repl, n);
    memcpy(out + start + n, c->text + end, c->len - end);
    return start + n + (c->len - end);
}

/* A frame line with a correct CRC over the given body. */
static void framed(const char *body, char *out)
{
    sprintf(out, "%s %08x\n", body, rvm_wire_crc32(0, (const uint8_t *)body, strlen(body)));
}

static void test_parse_rejections(void **state)
{
    (void)state;
    struct capture c;
    static char text[sizeof(c.text) + 1024];
    char line[RVM_WIRE_LINE_MAX + 64];
    make_capture(&c, 8, true);
    /* lines: 1 H, 2 R0, 3 R1, 4 R2, 5 R3, 6 C3, 7 R4 ... 10 R7, 11 C7, 12 E */
    size_t n;

    /* corrupted byte: checksum */
    memcpy(text, c.text, c.len);
    text[c.line_start[2] + 30] ^= 0x01;
    expect_error(text, c.len, false, 3, "checksum");

    /* upper-case hex with a matching CRC */
    char body[RVM_WIRE_LINE_MAX];
    memcpy(body, c.text + c.line_start[1], RVM_WIRE_RECORD_LINE - 10);
    body[RVM_WIRE_RECORD_LINE - 10] = '\0';
    body[40] = 'A';
    framed(body, line);
    n = with_line(&c, 1, line, text);
    expect_error(text, n, false, 2, "bad hex digit");

    /* the frame's sequence field disagrees with the image */
    memcpy(body, c.text + c.line_start[2], RVM_WIRE_RECORD_LINE - 10);
    body[RVM_WIRE_RECORD_LINE - 10] = '\0';
    body[22] = '5'; /* the sequence field says 5, the image says 1 */
    framed(body, line);
    n = with_line(&c, 2, line, text);
    expect_error(text, n, false, 3, "disagrees");

    /* a record line missing: the next one names the gap */
    n = with_line(&c, 2, "", text);
    expect_error(text, n, false, 3, "records 1..1 missing");

    /* a duplicated line */
    memcpy(line, c.text + c.line_start[2], RVM_WIRE_RECORD_LINE);
    line[RVM_WIRE_RECORD_LINE] = '\0';
    char dup[2 * RVM_WIRE_RECORD_LINE + 1];
    memcpy(dup, line, RVM_WIRE_RECORD_LINE);
    memcpy(dup + RVM_WIRE_RECORD_LINE, line, RVM_WIRE_RECORD_LINE + 1);
    n = with_line(&c, 2, dup, text);
    expect_error(text, n, false, 4, "again");

    /* the capture ends inside a frame / without its end frame / with no frames at all */
    expect_error(c.text, c.line_start[4] + 40, false, 5, "truncated");
    expect_error(c.text, c.line_start[11], false, 12, "no end frame");
    expect_error("just console text\n", 18, false, 2, "no header");

    /* order: a frame before the header, a second header, a frame after the end */
    expect_error(c.text + c.line_start[1], c.len - c.line_start[1], false, 1, "before the header");
    n = with_line(&c, 3, expected_header, text);
    expect_error(text, n, false, 4, "second header");
    memcpy(text, c.text, c.len);
    memcpy(text + c.len, c.text + c.line_start[1], RVM_WIRE_RECORD_LINE);
    expect_error(text, c.len + RVM_WIRE_RECORD_LINE, false, 13, "after the end");

    /* checkpoint before its records; checkpoints not ascending */
    {
        char first_cp[RVM_WIRE_LINE_MAX + 1];
        size_t len = c.line_start[6] - c.line_start[5];
        memcpy(first_cp, c.text + c.line_start[5], len);
        first_cp[len] = '\0';
        n = with_line(&c, 1, first_cp, text);
        expect_error(text, n, false, 2, "before its records");
        n = with_line(&c, 10, first_cp, text); /* C3 again where C7 was */
        expect_error(text, n, false, 11, "does not follow");
    }

    /* end frame with the wrong count */
    uint8_t digest[32] = {0};
    rvm_wire_end(line, 7, digest);
    line[RVM_WIRE_LINE_MAX - 1] = '\0';
    line[strchr(line, '\n') - line + 1] = '\0';
    n = with_line(&c, 11, line, text);
    expect_error(text, n, false, 12, "end frame says 7");

    /* a marker in the middle of a line: output interleaved with a frame */
    snprintf(text, sizeof(text), "%.*sboot: %s", (int)c.line_start[1], c.text,
             c.text + c.line_start[1]);
    expect_error(text, strlen(text), false, 2, "middle of a line");

    /* header rules */
    const char *bad_headers[][2] = {
        {"RVMW H 2 a=b", "version"},        {"RVMW H 1 A=b", "key=value"},
        {"RVMW H 1 a=b a=c", "twice"},      {"RVMW H 1 a=%4", "escape"},
        {"RVMW H 1 a=%00", "NUL"},          {"RVMW H 1 a=%41", "needless"},
        {"RVMW H 1 a=b  c=d", "key=value"}, {"RVMW H 1 a=b ", "key=value"},
        {"RVMW X 1", "unknown frame type"}, {"RVMW R 1", "before the header"},
    };
    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        framed(bad_headers[i][0], line);
        expect_error(line, strlen(line), false, 1, bad_headers[i][1]);
    }
    /* field syntax of R, C and E frames after a valid header */
    const char *bad_frames[][2] = {
        {"RVMW R 1", "cut short"},
        {"RVMW R 0000000000000000", "expected a space before the record image"},
        {"RVMW R 0000000000000000 00", "cut short"},
        {"RVMW E 0000000000000000 00", "cut short"},
        {"RVMW E 0000000000000000 "
         "0000000000000000000000000000000000000000000000000000000000000000 x",
         "unexpected text"},
        {"RVMW Rx", "expected a space"},
    };
    for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
        char two[2 * RVM_WIRE_LINE_MAX];
        framed(bad_frames[i][0], line);
        snprintf(two, sizeof(two), "%s", expected_header);
        strcat(two, line);
        expect_error(two, strlen(two), false, 2, bad_frames[i][1]);
    }

    /* 17 fields; a 257-byte value */
    strcpy(body, "RVMW H 1");
    for (int i = 0; i < 17; i++) {
        sprintf(body + strlen(body), " k%d=v", i);
    }
    framed(body, line);
    expect_error(line, strlen(line), false, 1, "more than 16");
    strcpy(body, "RVMW H 1 v=");
    memset(body + strlen(body), 'x', 257);
    body[11 + 257] = '\0';
    framed(body, line);
    expect_error(line, strlen(line), false, 1, "longer than 256");

    /* overlong lines: a frame is refused, console text is not */
    struct rvm_wire_parser p;
    struct rvm_wire_frame f;
    rvm_wire_parser_init(&p, false);
    assert_int_equal(rvm_wire_parse_line(&p, "RVMW R 00", 9, true, true, &f), RVM_WIRE_ERROR);
    assert_non_null(strstr(p.error, "longer"));
    rvm_wire_parser_init(&p, false);
    assert_int_equal(rvm_wire_parse_line(&p, "console", 7, true, true, &f), RVM_WIRE_TEXT);
}

/* CRC-32 detects every error confined to 32 consecutive bits, so no single corrupted byte of a
 * frame line is ever accepted as a (different) frame. */
static void test_parse_never_accepts_a_corrupted_byte(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("parse_never_accepts_a_corrupted_byte", 8));
    struct capture c;
    make_capture(&c, 8, true);
    static char text[sizeof(c.text)];
    for (int trial = 0; trial < 20000; trial++) {
        memcpy(text, c.text, c.len);
        size_t pos = (size_t)test_rng_below(&rng, c.len);
        uint8_t flip = (uint8_t)(1 + test_rng_below(&rng, 255));
        text[pos] = (char)(text[pos] ^ flip);
        struct rvm_wire_parser p;
        long r = feed(text, c.len, true, &p);
        if (r >= 0) {
            fail_msg("byte %zu xor 0x%02x accepted", pos, flip);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_encoder_lines),
        cmocka_unit_test(test_encoder_header_refusals),
        cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_parse_rejections),
        cmocka_unit_test(test_parse_never_accepts_a_corrupted_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
