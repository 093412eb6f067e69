/* SPDX-License-Identifier: MIT */
/*
 * The dormant-image codec. Independent expectations:
 *   - a hand-encoded image of one zero page (header and body written out byte by byte from the
 *     format in compress.h) and hand-written bodies for the decoder, valid and malformed;
 *   - SHA-256 values from OpenSSL, while the code under test runs on the portable provider;
 *   - a deliberately simple reference decoder, written here from the format description, that
 *     must agree with the core's decoder on everything the compressor produces;
 *   - every single-bit flip, truncation and extension of a small region's image is refused by
 *     verified reconstruction, which also zeroes its output; and the decoder survives random
 *     hostile bodies (run under ASan/UBSan in build-asan; libFuzzer: tests/fuzz).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "test_support.h"

#include "rvm/bytes.h"
#include "rvm/compress.h"
#include "rvm/crypto_portable.h"

#include <openssl/sha.h>

static struct rvm_crypto crypto;

static void sha(const uint8_t *p, size_t n, uint8_t out[32])
{
    SHA256(p, n, out);
}

/* ---- reference decoder: byte at a time, straight from the format text ------------------------ */

static bool ref_varint(const uint8_t *in, size_t len, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 5; i++) {
        if (*pos >= len) {
            return false;
        }
        uint8_t b = in[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            return *v <= 0xFFFFFFFFu;
        }
    }
    return false;
}

/* Returns the decoded length, or -1 for a malformed body. */
static long ref_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    size_t ip = 0, op = 0;
    while (ip < len) {
        uint8_t token = in[ip++];
        uint64_t lit = token >> 4, match = (token & 15) + 4u, ext;
        if ((token >> 4) == 15) {
            if (!ref_varint(in, len, &ip, &ext)) {
                return -1;
            }
            lit += ext;
        }
        for (uint64_t i = 0; i < lit; i++) {
            if (ip >= len || op >= cap) {
                return -1;
            }
            out[op++] = in[ip++];
        }
        if (ip == len) {
            return (token & 15) == 0 ? (long)op : -1;
        }
        uint64_t offset;
        if (!ref_varint(in, len, &ip, &offset) || offset == 0 || offset > op) {
            return -1;
        }
        if ((token & 15) == 15) {
            if (!ref_varint(in, len, &ip, &ext)) {
                return -1;
            }
            match += ext;
        }
        for (uint64_t i = 0; i < match; i++) {
            if (op >= cap) {
                return -1;
            }
            out[op] = out[op - offset];
            op++;
        }
    }
    return -1; /* a body must end right after a sequence's literals */
}

/* ---- data generators ------------------------------------------------------------------------- */

enum shape { ZEROS, RANDOM, PATTERN, TEXT, COUNTERS, SPARSE, RECORDS, MIXED_PAGES, SHAPES };

static void fill(struct test_rng *r, enum shape shape, uint8_t *buf, size_t n)
{
    size_t period = 1 + test_rng_below(r, 300);
    uint8_t pat[300];
    test_rng_fill(r, pat, sizeof(pat));
    for (size_t i = 0; i < n; i++) {
        switch (shape) {
        case ZEROS:
            buf[i] = 0;
            break;
        case RANDOM:
            buf[i] = (uint8_t)test_rng_next(r);
            break;
        case PATTERN:
            buf[i] = pat[i % period];
            break;
        case TEXT:
            buf[i] = (uint8_t) "the quick brown fox jumps over a lazy dog\n"[test_rng_below(r, 42)];
            break;
        case COUNTERS:
            buf[i] = (uint8_t)((i / 4) >> (8 * (i % 4)));
            break;
        case SPARSE:
            buf[i] = test_rng_below(r, 50) == 0 ? (uint8_t)test_rng_next(r) : 0;
            break;
        case RECORDS: { /* 32-byte records: LE32 id, LE32 kind, 8 zero bytes, 16-byte name */
            static const char names[4][17] = {"init-task.......", "net-rx-queue-0..",
                                              "blk-io-worker...", "timer-wheel....."};
            size_t rec = i / 32, off = i % 32;
            uint32_t kind = (uint32_t)(rec * 2654435761u) >> 30; /* 0..3 */
            if (off < 4) {
                buf[i] = (uint8_t)(rec >> (8 * off));
            } else if (off < 8) {
                buf[i] = (uint8_t)(kind >> (8 * (off - 4)));
            } else if (off < 16) {
                buf[i] = 0;
            } else {
                buf[i] = (uint8_t)names[kind][off - 16];
            }
            break;
        }
        default: /* MIXED_PAGES */
            switch ((i / 4096) % 3) {
            case 0:
                buf[i] = 0;
                break;
            case 1:
                buf[i] = (uint8_t)test_rng_next(r);
                break;
            default:
                buf[i] = pat[i % period];
                break;
            }
            break;
        }
    }
}

/* Compress, then check everything the format promises about the image. */
static size_t compress_checked(const uint8_t *raw, size_t n, uint8_t *image, size_t cap,
                               uint8_t checkpoint[32])
{
    static struct rvm_compress_work work;
    memset(&work, 0xEE, sizeof(work)); /* scratch contents must not matter */
    size_t len = 0;
    assert_int_equal(rvm_compress(&crypto, &work, raw, n, image, cap, &len, checkpoint), RVM_OK);
    assert_true(len <= RVM_COMPRESS_BOUND(n));
    assert_memory_equal(image, "RVMZ", 4);
    assert_int_equal(image[4], 1);
    assert_true(image[5] == RVM_COMPRESS_STORED || image[5] == RVM_COMPRESS_LZ);
    assert_int_equal(rvm_load_le16(image + 6), 0);
    assert_int_equal(rvm_load_le64(image + 8), n);
    assert_int_equal(rvm_load_le64(image + 16), len - 64);
    assert_int_equal(rvm_load_le64(image + 56), 0);
    uint8_t digest[32];
    sha(raw, n, digest);
    assert_memory_equal(image + 24, digest, 32);
    sha(image, len, digest);
    assert_memory_equal(checkpoint, digest, 32);
    if (image[5] == RVM_COMPRESS_STORED) {
        assert_memory_equal(image + 64, raw, n);
    } else {
        assert_true(len - 64 < n); /* LZ is used only when it is smaller */
    }
    return len;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_zero_page_by_hand(void **state)
{
    (void)state;
    static uint8_t raw[4096];
    uint8_t image[RVM_COMPRESS_BOUND(4096)];
    uint8_t checkpoint[32];
    size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image), checkpoint);
    /*
     * One literal zero, then a match at offset 1 of the remaining 4095 bytes, then the closing
     * empty sequence. Token 0x1F: 1 literal, match nibble 15; the match extension is
     * 4095 - 4 - 15 = 4076 = 0x6C + 0x1F * 128 -> LEB128 EC 1F.
     */
    uint8_t want[70] = {'R', 'V', 'M', 'Z', 1, 1, 0, 0, 0x00, 0x10, 0, 0,
                        0,   0,   0,   0,   6, 0, 0, 0, 0,    0,    0, 0};
    sha(raw, sizeof(raw), want + 24);
    static const uint8_t body[6] = {0x1F, 0x00, 0x01, 0xEC, 0x1F, 0x00};
    memcpy(want + 64, body, sizeof(body));
    assert_int_equal(len, 70);
    assert_memory_equal(image, want, 70);
    uint8_t out[4096];
    memset(out, 0x77, sizeof(out));
    assert_int_equal(
        rvm_compress_reconstruct(&crypto, image, len, checkpoint, 4096, out, sizeof(out)), RVM_OK);
    assert_memory_equal(out, raw, sizeof(raw));
}

/* Matches that end inside an 8-byte comparison, at its upper half and in the tail after the last
 * whole word; bodies traced by hand from the rule in docs/memory.md. */
static void test_match_ends_by_hand(void **state)
{
    (void)state;
    /*
     * "abcdefgh" x 4: eight literals, then at position 8 a match at offset 8 running to the end
     * (24 bytes: two whole words, then four bytes one by one). Token 0x8F (8 literals, match
     * nibble 15), offset 08, extension 24 - 4 - 15 = 5; then the closing empty sequence.
     */
    static const uint8_t periodic_body[] = {0x8F, 'a', 'b', 'c',  'd',  'e',
                                            'f',  'g', 'h', 0x08, 0x05, 0x00};
    /*
     * "abcdefgh" x 3 + "aZcdefgh": the match at position 8 stops at the Z (byte 5 of the second
     * word compared), length 12 + 5 = 17, token 0x8D. Position 25 ("Zcde") finds nothing; at 26
     * "cdef" matches position 2 (offset 24) for the last 6 bytes: token 0x12, literal Z, 0x18.
     */
    static const uint8_t upper_half_body[] = {0x8D, 'a', 'b',  'c',  'd', 'e',  'f',
                                              'g',  'h', 0x08, 0x12, 'Z', 0x18, 0x00};
    struct {
        const char *raw;
        const uint8_t *body;
        size_t body_len;
    } cases[] = {
        {"abcdefghabcdefghabcdefghabcdefgh", periodic_body, sizeof(periodic_body)},
        {"abcdefghabcdefghabcdefghaZcdefgh", upper_half_body, sizeof(upper_half_body)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t image[RVM_COMPRESS_BOUND(32)];
        uint8_t checkpoint[32];
        size_t len =
            compress_checked((const uint8_t *)cases[i].raw, 32, image, sizeof(image), checkpoint);
        assert_int_equal(image[5], RVM_COMPRESS_LZ);
        assert_int_equal(len, 64 + cases[i].body_len);
        assert_memory_equal(image + 64, cases[i].body, cases[i].body_len);
    }
}

struct body_case {
    const char *body;
    size_t body_len;
    size_t out_len;
    const char *want; /* NULL: must be refused */
};

static void test_decoder_by_hand(void **state)
{
    (void)state;
    static const struct body_case cases[] = {
        {"\x30"
         "abc",
         4, 3, "abc"},
        {"\x30"
         "abc",
         4, 4, NULL}, /* shorter than promised */
        {"\x30"
         "abc",
         4, 2, NULL}, /* longer than promised */
        {"\x10"
         "a\x01\x00",
         4, 5, "aaaaa"}, /* RLE through offset 1 */
        {"\x20"
         "ab\x02\x00",
         5, 6, "ababab"}, /* overlapping copy */
        {"\x21"
         "ab\x02\x00",
         5, 7, "abababa"},  /* match nibble 1: 5 bytes */
        {"\x00", 1, 0, ""}, /* empty output */
        {"", 0, 0, NULL},   /* no closing sequence */
        {"\x10"
         "a\x00\x00",
         4, 5, NULL}, /* offset 0 */
        {"\x10"
         "a\x02\x00",
         4, 5, NULL}, /* offset beyond the output */
        {"\x31"
         "abc",
         4, 3, NULL}, /* last sequence with a match nibble */
        {"\x30"
         "ab",
         3, 3, NULL}, /* literals cut short */
        {"\x10"
         "a\x01",
         3, 5, NULL}, /* ends after a match */
        {"\x10"
         "a\x01\x00\x00",
         5, 5, NULL},                                  /* trailing byte */
        {"\xF0\x80", 2, 20, NULL},                     /* truncated extension */
        {"\xF0\x80\x80\x80\x80\x80\x01", 7, 20, NULL}, /* six-byte extension */
        {"\xF0\xFF\xFF\xFF\xFF\x10", 6, 20, NULL},     /* extension beyond 32 bits */
        {"\xF0\x80\x80\x80\x80\x10"
         "abcdefghijklmno",
         21, 15, NULL}, /* 2^32: must not wrap */
        {"\x10"
         "a\x01\x00",
         4, 3, NULL}, /* match overruns the output */
        {"\x1F"
         "z\x01\x01\x00",
         5, 21, "zzzzzzzzzzzzzzzzzzzzz"}, /* 1 + 4 + 15 + 1 */
        {"\xF0\x05"
         "abcdefghijklmnopqrst",
         22, 20, "abcdefghijklmnopqrst"}, /* 15 + 5 literals */
        {"\xF0\x06"
         "abcdefghijklmnopqrst",
         22, 21, NULL}, /* promises 21 literals, has 20 */
        {"\x10"
         "a\x81\x00\x00",
         5, 5, "aaaaa"}, /* non-minimal offset encoding */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct body_case *c = &cases[i];
        uint8_t out[64];
        memset(out, 0, sizeof(out));
        enum rvm_err err =
            rvm_compress_decode((const uint8_t *)c->body, c->body_len, out, c->out_len);
        long ref = ref_decode((const uint8_t *)c->body, c->body_len, out + 32, 32);
        if (c->want == NULL) {
            assert_int_equal(err, RVM_ERR_CORRUPT);
            assert_true(ref != (long)c->out_len);
        } else {
            assert_int_equal(err, RVM_OK);
            assert_memory_equal(out, c->want, c->out_len);
            assert_int_equal(ref, (long)c->out_len);
        }
    }
}

/* rvm_compress_sized writes the same image with the content hash (bytes 24..55) left zero. */
static void sized_matches(const uint8_t *raw, size_t n, const uint8_t *image, size_t len)
{
    struct rvm_compress_work work;
    uint8_t *sized = malloc(RVM_COMPRESS_BOUND(n));
    size_t sized_len = 0;
    assert_int_equal(rvm_compress_sized(&work, raw, n, sized, RVM_COMPRESS_BOUND(n), &sized_len),
                     RVM_OK);
    assert_int_equal(sized_len, len);
    assert_memory_equal(sized, image, 24);
    for (size_t i = 24; i < 56; i++) {
        assert_int_equal(sized[i], 0);
    }
    assert_memory_equal(sized + 56, image + 56, len - 56);
    free(sized);
}

static void test_round_trip_shapes(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("compress_round_trip", 0xC0DE));
    static const size_t sizes[] = {1,  2,  3,   4,    5,    7,    8,    15,    16,    19,
                                   20, 64, 100, 4095, 4096, 4097, 8192, 12288, 65536, 70001};
    size_t max = 70001;
    uint8_t *raw = malloc(max), *image = malloc(RVM_COMPRESS_BOUND(max)), *out = malloc(max);
    uint8_t *ref = malloc(max);
    for (int shape = 0; shape < SHAPES; shape++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]) + 6; s++) {
            size_t n =
                s < sizeof(sizes) / sizeof(sizes[0]) ? sizes[s] : 1 + test_rng_below(&r, max);
            fill(&r, (enum shape)shape, raw, n);
            uint8_t checkpoint[32];
            size_t len = compress_checked(raw, n, image, RVM_COMPRESS_BOUND(n), checkpoint);
            sized_matches(raw, n, image, len);
            if (image[5] == RVM_COMPRESS_LZ) {
                assert_int_equal(ref_decode(image + 64, len - 64, ref, n), (long)n);
                assert_memory_equal(ref, raw, n);
                assert_int_equal(rvm_compress_decode(image + 64, len - 64, out, n), RVM_OK);
                assert_memory_equal(out, raw, n);
            }
            memset(out, 0x55, n);
            assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, checkpoint, n, out, n),
                             RVM_OK);
            assert_memory_equal(out, raw, n);
            /* Compressible shapes must actually compress. */
            if (n >= 4096 && shape == ZEROS) {
                assert_true(len < 64 + n / 100);
            }
            if (n >= 4096 && (shape == PATTERN || shape == RECORDS)) {
                assert_true(len < n / 2);
            }
            if (shape == RANDOM && n >= 64) {
                assert_int_equal(image[5], RVM_COMPRESS_STORED);
            }
        }
    }
    free(raw);
    free(image);
    free(out);
    free(ref);
}

static void test_errors_and_capacity(void **state)
{
    (void)state;
    struct rvm_compress_work work;
    uint8_t raw[256], image[RVM_COMPRESS_BOUND(256)], out[256], cp[32];
    size_t len;
    struct test_rng r = test_rng_new(3);
    test_rng_fill(&r, raw, sizeof(raw)); /* incompressible: needs the full bound */
    assert_int_equal(rvm_compress(&crypto, &work, raw, 0, image, sizeof(image), &len, cp),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_compress(&crypto, NULL, raw, 1, image, sizeof(image), &len, cp),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 256, image, 64, &len, cp), RVM_ERR_NO_SPACE);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 256, image, sizeof(image) - 1, &len, cp),
                     RVM_ERR_NO_SPACE);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 256, image, sizeof(image), &len, cp),
                     RVM_OK);
    assert_int_equal(len, sizeof(image));
    assert_int_equal(rvm_compress_sized(&work, raw, 256, image, sizeof(image) - 1, &len),
                     RVM_ERR_NO_SPACE);
    assert_int_equal(rvm_compress_sized(&work, raw, 0, image, sizeof(image), &len),
                     RVM_ERR_INVALID_ARGUMENT);
    /* A compressible input fits in far less than the bound. */
    memset(raw, 'x', sizeof(raw));
    assert_int_equal(rvm_compress(&crypto, &work, raw, 256, image, 80, &len, cp), RVM_OK);
    assert_int_equal(image[5], RVM_COMPRESS_LZ);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 256, out, 255),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 0, out, 256),
                     RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_compress_reconstruct(&crypto, NULL, len, cp, 256, out, 256),
                     RVM_ERR_INVALID_ARGUMENT);
    /* Size mismatch: the caller expects a different region size. */
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 255, out, 256),
                     RVM_ERR_CORRUPT);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 256, out, 256), RVM_OK);
}

/*
 * The image of a small region (2 pages: a table of records, then half zeros and half a repeating
 * pattern, so the body has literal runs, short and long matches and extensions): every
 * single-bit flip, every truncation and an extension must be refused, and a refused
 * reconstruction leaves zeros.
 */
static void test_every_bit_flip_refused(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("compress_bit_flips", 99));
    uint8_t raw[8192];
    fill(&r, RECORDS, raw, 4096);
    fill(&r, ZEROS, raw + 4096, 2048);
    fill(&r, PATTERN, raw + 6144, 2048);
    uint8_t image[RVM_COMPRESS_BOUND(8192) + 1], checkpoint[32];
    size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image) - 1, checkpoint);
    assert_int_equal(image[5], RVM_COMPRESS_LZ);
    static uint8_t out[8192];
    size_t decoded_same = 0;
    for (size_t bitpos = 0; bitpos < len * 8; bitpos++) {
        image[bitpos / 8] ^= (uint8_t)(1u << (bitpos % 8));
        memset(out, 0x33, sizeof(out));
        assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, checkpoint, sizeof(raw), out,
                                                  sizeof(out)),
                         RVM_ERR_CORRUPT);
        assert_int_equal(rvm_compress_check(&crypto, image, len, checkpoint, sizeof(raw)),
                         RVM_ERR_CORRUPT);
        for (size_t i = 0; i < sizeof(out); i++) {
            if (out[i] != 0) {
                fail_msg("bit %zu: output not wiped at %zu", bitpos, i);
            }
        }
        /* The bare decoder must survive the flipped body whatever it makes of it. */
        if (bitpos >= 64 * 8 &&
            rvm_compress_decode(image + 64, len - 64, out, sizeof(out)) == RVM_OK &&
            memcmp(out, raw, sizeof(raw)) == 0) {
            decoded_same++; /* harmless flips exist; the checkpoint hash still refuses them */
        }
        image[bitpos / 8] ^= (uint8_t)(1u << (bitpos % 8));
    }
    print_message("# %zu of %zu flips decode to the original; all refused\n", decoded_same,
                  len * 8);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(rvm_compress_reconstruct(&crypto, image, cut, checkpoint, sizeof(raw), out,
                                                  sizeof(out)),
                         RVM_ERR_CORRUPT);
        assert_int_equal(rvm_compress_check(&crypto, image, cut, checkpoint, sizeof(raw)),
                         RVM_ERR_CORRUPT);
    }
    /* Unflipped, the check passes for the region's length only. */
    assert_int_equal(rvm_compress_check(&crypto, image, len, checkpoint, sizeof(raw)), RVM_OK);
    assert_int_equal(rvm_compress_check(&crypto, image, len, checkpoint, sizeof(raw) - 1),
                     RVM_ERR_CORRUPT);
    image[len] = 0;
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len + 1, checkpoint, sizeof(raw), out,
                                              sizeof(out)),
                     RVM_ERR_CORRUPT);
    assert_int_equal(
        rvm_compress_reconstruct(&crypto, image, len, checkpoint, sizeof(raw), out, sizeof(out)),
        RVM_OK);
    assert_memory_equal(out, raw, sizeof(raw));
}

/*
 * The second line of defence: an image whose checkpoint matches (as if the compressor itself
 * were wrong) but whose body decodes to other bytes fails on the content hash.
 */
static void test_content_hash_checked(void **state)
{
    (void)state;
    uint8_t raw[4096];
    for (size_t i = 0; i < sizeof(raw); i++) {
        raw[i] = (uint8_t)(i % 251);
    }
    uint8_t image[RVM_COMPRESS_BOUND(4096)], checkpoint[32], out[4096];
    size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image), checkpoint);
    assert_int_equal(image[5], RVM_COMPRESS_LZ);
    /* Literal bytes 0..250 follow the first token (0xF0 + ext): change one of them. */
    image[64 + 2 + 10] ^= 0x01;
    sha(image, len, checkpoint); /* re-sign the tampered image */
    assert_int_equal(rvm_compress_decode(image + 64, len - 64, out, sizeof(out)), RVM_OK);
    assert_int_equal(
        rvm_compress_reconstruct(&crypto, image, len, checkpoint, sizeof(raw), out, sizeof(out)),
        RVM_ERR_CORRUPT);
    /* The check without decoding trusts a signed image to be the encoder's: only the restoring
     * pass, which decodes, sees a defect like this one (docs/memory.md). */
    assert_int_equal(rvm_compress_check(&crypto, image, len, checkpoint, sizeof(raw)), RVM_OK);
    /* Same for a stored image. */
    struct test_rng r = test_rng_new(8);
    test_rng_fill(&r, raw, sizeof(raw));
    len = compress_checked(raw, sizeof(raw), image, sizeof(image), checkpoint);
    assert_int_equal(image[5], RVM_COMPRESS_STORED);
    image[100] ^= 0x80;
    sha(image, len, checkpoint);
    assert_int_equal(
        rvm_compress_reconstruct(&crypto, image, len, checkpoint, sizeof(raw), out, sizeof(out)),
        RVM_ERR_CORRUPT);
}

static void test_header_parse(void **state)
{
    (void)state;
    uint8_t raw[100], image[RVM_COMPRESS_BOUND(100)], cp[32];
    memset(raw, 7, sizeof(raw));
    size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image), cp);
    struct rvm_compress_header h;
    assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_OK);
    assert_int_equal(h.raw_len, 100);
    assert_int_equal(h.body_len, len - 64);
    assert_int_equal(rvm_compress_parse_header(image, 63, &h), RVM_ERR_CORRUPT);
    assert_int_equal(rvm_compress_parse_header(image, len + 1, &h), RVM_ERR_CORRUPT);
    static const size_t fields[] = {0, 3, 4, 5, 6, 7, 15, 16, 23, 56, 63};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        image[fields[i]] ^= 0x02;
        assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_ERR_CORRUPT);
        image[fields[i]] ^= 0x02;
    }
    image[5] = RVM_COMPRESS_STORED; /* stored, but body_len != raw_len */
    assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_ERR_CORRUPT);
}

/* Every pointer argument may be NULL: each entry point refuses it instead of touching memory. */
/* All-zero regions of 1..256 pages (and 3 and 512, which no shortcut covers): the content hash
 * is OpenSSL's SHA-256 of the zeros, and one set byte anywhere makes it that of the new bytes. */
static void test_zero_regions(void **state)
{
    (void)state;
    static const size_t pages[] = {1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        const size_t n = pages[i] * 4096;
        uint8_t *raw = calloc(n, 1);
        uint8_t *image = malloc(RVM_COMPRESS_BOUND(n));
        uint8_t *out = malloc(n);
        uint8_t cp[32];
        for (int variant = 0; variant < 3; variant++) {
            const size_t at = variant == 1 ? n - 1 : 0;
            raw[at] = variant == 0 ? 0 : 0x80; /* compress_checked compares with OpenSSL */
            size_t len = compress_checked(raw, n, image, RVM_COMPRESS_BOUND(n), cp);
            memset(out, 0x11, n);
            assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, n, out, n), RVM_OK);
            assert_memory_equal(out, raw, n);
            /* A content hash naming the other contents is refused after decoding. */
            image[24] ^= 0x01;
            sha(image, len, cp);
            assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, n, out, n),
                             RVM_ERR_CORRUPT);
            raw[at] = 0;
        }
        free(raw);
        free(image);
        free(out);
    }
}

/* Staged images: sized, then sealed (or adopted and sealed), they are rvm_compress's bytes. */
static void test_staged_images(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("compress_staged", 7));
    static struct rvm_compress_work work;
    static uint8_t raw[8192], image[RVM_COMPRESS_BOUND(8192)], staged[RVM_COMPRESS_BOUND(8192)];
    for (int shape = 0; shape < SHAPES; shape++) {
        fill(&r, (enum shape)shape, raw, sizeof(raw));
        uint8_t cp[32], sealed_cp[32];
        size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image), cp);
        size_t staged_len = 0;
        assert_int_equal(
            rvm_compress_sized(&work, raw, sizeof(raw), staged, sizeof(staged), &staged_len),
            RVM_OK);
        assert_int_equal(rvm_compress_image_len(staged, sizeof(staged)), len);
        assert_int_equal(rvm_compress_image_len(staged, len), len);
        assert_int_equal(rvm_compress_image_len(staged, len - 1), 0); /* runs past the cap */
        /* Sealed: the content hash computed, the same bytes and checkpoint as rvm_compress. */
        assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw), staged, len, sealed_cp),
                         RVM_OK);
        assert_memory_equal(staged, image, len);
        assert_memory_equal(sealed_cp, cp, 32);
        /* Adopted from an earlier image of the same bytes: sealing leaves that hash in place,
         * whatever raw it is given. */
        assert_int_equal(rvm_compress_sized(&work, raw, sizeof(raw), staged, sizeof(staged), &len),
                         RVM_OK);
        assert_true(rvm_compress_adopt_hash(&crypto, staged, len, image, len, cp));
        static uint8_t other[8192];
        memset(other, 0x5A, sizeof(other));
        assert_int_equal(rvm_compress_seal(&crypto, other, sizeof(other), staged, len, sealed_cp),
                         RVM_OK);
        assert_memory_equal(staged, image, len);
        assert_memory_equal(sealed_cp, cp, 32);
        /* Not adopted: other bytes, another length, or an earlier image damaged in its content
         * hash (the only bytes not compared) or anywhere else. */
        raw[sizeof(raw) / 2] ^= 0x01;
        assert_int_equal(
            rvm_compress_sized(&work, raw, sizeof(raw), staged, sizeof(staged), &staged_len),
            RVM_OK);
        assert_false(rvm_compress_adopt_hash(&crypto, staged, staged_len, image, len, cp));
        raw[sizeof(raw) / 2] ^= 0x01;
        assert_int_equal(
            rvm_compress_sized(&work, raw, sizeof(raw), staged, sizeof(staged), &staged_len),
            RVM_OK);
        assert_false(rvm_compress_adopt_hash(&crypto, staged, len, image, len - 1, cp));
        image[24 + 7] ^= 0x40;
        assert_false(rvm_compress_adopt_hash(&crypto, staged, len, image, len, cp));
        image[24 + 7] ^= 0x40;
        image[len - 1] ^= 0x01;
        assert_false(rvm_compress_adopt_hash(&crypto, staged, len, image, len, cp));
        image[len - 1] ^= 0x01;
        for (size_t i = 24; i < 56; i++) {
            assert_int_equal(staged[i], 0); /* nothing adopted by the refusals */
        }
    }
}

/* The staged-image calls refuse what they cannot use. */
static void test_staged_refusals(void **state)
{
    (void)state;
    struct rvm_compress_work work;
    uint8_t raw[256], image[RVM_COMPRESS_BOUND(256)], cp[32];
    size_t len;
    memset(raw, 'q', sizeof(raw));
    assert_int_equal(rvm_compress_sized(&work, raw, sizeof(raw), image, sizeof(image), &len),
                     RVM_OK);
    assert_int_equal(rvm_compress_image_len(NULL, sizeof(image)), 0);
    assert_int_equal(rvm_compress_image_len(image, 63), 0);
    image[0] ^= 1;
    assert_int_equal(rvm_compress_image_len(image, sizeof(image)), 0); /* bad magic */
    assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw), image, len, cp), RVM_ERR_CORRUPT);
    image[0] ^= 1;
    const enum rvm_err inval = RVM_ERR_INVALID_ARGUMENT;
    assert_int_equal(rvm_compress_seal(NULL, raw, sizeof(raw), image, len, cp), inval);
    assert_int_equal(rvm_compress_seal(&crypto, NULL, sizeof(raw), image, len, cp), inval);
    assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw), NULL, len, cp), inval);
    assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw), image, len, NULL), inval);
    assert_int_equal(rvm_compress_seal(&crypto, raw, 0, image, len, cp), inval);
    assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw) - 1, image, len, cp),
                     RVM_ERR_CORRUPT); /* the header says another length */
    assert_int_equal(rvm_compress_seal(&crypto, raw, sizeof(raw), image, len + 1, cp),
                     RVM_ERR_CORRUPT);
    uint8_t prev[RVM_COMPRESS_BOUND(256)], prev_cp[32];
    size_t prev_len;
    assert_int_equal(
        rvm_compress(&crypto, &work, raw, sizeof(raw), prev, sizeof(prev), &prev_len, prev_cp),
        RVM_OK);
    assert_false(rvm_compress_adopt_hash(NULL, image, len, prev, prev_len, prev_cp));
    assert_false(rvm_compress_adopt_hash(&crypto, NULL, len, prev, prev_len, prev_cp));
    assert_false(rvm_compress_adopt_hash(&crypto, image, len, NULL, prev_len, prev_cp));
    assert_false(rvm_compress_adopt_hash(&crypto, image, len, prev, prev_len, NULL));
    assert_false(rvm_compress_adopt_hash(&crypto, image, 10, prev, 10, prev_cp));
    prev[5] ^= 1; /* the header compared too */
    assert_false(rvm_compress_adopt_hash(&crypto, image, len, prev, prev_len, prev_cp));
    prev[5] ^= 1;
    assert_true(rvm_compress_adopt_hash(&crypto, image, len, prev, prev_len, prev_cp));
}

static void test_null_arguments_refused(void **state)
{
    (void)state;
    struct rvm_compress_work work;
    uint8_t raw[64], image[RVM_COMPRESS_BOUND(64)], out[64], cp[32];
    size_t len;
    memset(raw, 'a', sizeof(raw));
    const enum rvm_err inval = RVM_ERR_INVALID_ARGUMENT;
    assert_int_equal(rvm_compress(NULL, &work, raw, 64, image, sizeof(image), &len, cp), inval);
    assert_int_equal(rvm_compress(&crypto, &work, NULL, 64, image, sizeof(image), &len, cp), inval);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 64, NULL, sizeof(image), &len, cp), inval);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 64, image, sizeof(image), NULL, cp), inval);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 64, image, sizeof(image), &len, NULL),
                     inval);
    assert_int_equal(rvm_compress_sized(NULL, raw, 64, image, sizeof(image), &len), inval);
    assert_int_equal(rvm_compress_sized(&work, NULL, 64, image, sizeof(image), &len), inval);
    assert_int_equal(rvm_compress_sized(&work, raw, 64, NULL, sizeof(image), &len), inval);
    assert_int_equal(rvm_compress_sized(&work, raw, 64, image, sizeof(image), NULL), inval);
    assert_int_equal(rvm_compress(&crypto, &work, raw, 64, image, sizeof(image), &len, cp), RVM_OK);
    assert_int_equal(rvm_compress_reconstruct(NULL, image, len, cp, 64, out, 64), inval);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, NULL, 64, out, 64), inval);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 64, NULL, 64), inval);
    assert_int_equal(rvm_compress_check(NULL, image, len, cp, 64), inval);
    assert_int_equal(rvm_compress_check(&crypto, NULL, len, cp, 64), inval);
    assert_int_equal(rvm_compress_check(&crypto, image, len, NULL, 64), inval);
    assert_int_equal(rvm_compress_check(&crypto, image, len, cp, 0), inval);
    assert_int_equal(rvm_compress_check(&crypto, image, len, cp, 64), RVM_OK);
    struct rvm_compress_header h;
    assert_int_equal(rvm_compress_parse_header(NULL, len, &h), RVM_ERR_CORRUPT);
    assert_int_equal(rvm_compress_parse_header(image, len, NULL), RVM_ERR_CORRUPT);
    /* the decoder: no body, or no output for a non-empty region */
    assert_int_equal(rvm_compress_decode(NULL, 4, out, 64), RVM_ERR_CORRUPT);
    assert_int_equal(rvm_compress_decode(image + 64, len - 64, NULL, 64), RVM_ERR_CORRUPT);
    assert_int_equal(rvm_compress_reconstruct(&crypto, image, len, cp, 64, out, 64), RVM_OK);
    assert_memory_equal(out, raw, sizeof(raw));
}

/* Header fields the bit flips of test_header_parse do not reach: each magic byte, a zero raw
 * length, a raw length past RVM_COMPRESS_MAX_RAW (all with a consistent body length). */
static void test_header_fields_refused(void **state)
{
    (void)state;
    uint8_t raw[100], image[RVM_COMPRESS_BOUND(100)], cp[32];
    memset(raw, 7, sizeof(raw));
    size_t len = compress_checked(raw, sizeof(raw), image, sizeof(image), cp);
    struct rvm_compress_header h;
    for (size_t i = 0; i < 4; i++) {
        image[i] ^= 0x40;
        assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_ERR_CORRUPT);
        image[i] ^= 0x40;
    }
    uint8_t saved[8];
    memcpy(saved, image + 8, 8);
    memset(image + 8, 0, 8); /* raw_len 0 */
    assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_ERR_CORRUPT);
    const uint64_t too_big = (uint64_t)RVM_COMPRESS_MAX_RAW + 1u;
    for (size_t i = 0; i < 8; i++) {
        image[8 + i] = (uint8_t)(too_big >> (8 * i));
    }
    assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_ERR_CORRUPT);
    memcpy(image + 8, saved, 8);
    assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_OK);
}

/* Every image capacity from "header only" to the bound: a capacity is refused with NO_SPACE
 * below some minimum and accepted from it on (the encoding does not depend on the room it is
 * given), and every accepted image decodes to the input. The input has a literal run, an offset
 * and a match length that each need a two-byte varint, so the room runs out inside each. */
static void test_every_capacity(void **state)
{
    (void)state;
    static struct rvm_compress_work work;
    enum { N = 200 + 300 + 200 + 20 };
    uint8_t raw[N], image[RVM_COMPRESS_BOUND(N)], out[N];
    struct test_rng r = test_rng_new(11);
    test_rng_fill(&r, raw, 200); /* 200 literals: length 15 + varint(185), 2 bytes */
    memset(raw + 200, 'x', 300); /* a match of offset 1, length 299: varint(280) */
    memcpy(raw + 500, raw, 200); /* a match at offset 500: varint(500), 2 bytes */
    test_rng_fill(&r, raw + 700, 20);
    size_t first_ok = 0;
    for (size_t cap = 0; cap <= sizeof(image); cap++) {
        size_t len = 0;
        enum rvm_err err = rvm_compress_sized(&work, raw, N, image, cap, &len);
        if (err == RVM_ERR_NO_SPACE) {
            if (first_ok != 0) {
                fail_msg("capacity %zu refused after %zu was accepted", cap, first_ok);
            }
            continue;
        }
        assert_int_equal(err, RVM_OK);
        if (first_ok == 0) {
            first_ok = cap;
        }
        assert_true(len <= cap);
        struct rvm_compress_header h;
        assert_int_equal(rvm_compress_parse_header(image, len, &h), RVM_OK);
        assert_int_equal(h.method, RVM_COMPRESS_LZ);
        memset(out, 0, sizeof(out));
        assert_int_equal(rvm_compress_decode(image + 64, len - 64, out, N), RVM_OK);
        assert_memory_equal(out, raw, N);
    }
    assert_true(first_ok > 64 && first_ok < 64 + 300); /* it compresses */
}

/* Random hostile bodies, biased towards plausible tokens: no crash, no out-of-bounds access. */
static void test_hostile_bodies(void **state)
{
    (void)state;
    struct test_rng r = test_rng_new(test_seed("compress_hostile", 4242));
    uint8_t body[96], out[512], ref[512];
    size_t agree = 0;
    for (int i = 0; i < 300000; i++) {
        size_t n = (size_t)test_rng_below(&r, sizeof(body) + 1);
        test_rng_fill(&r, body, n);
        for (size_t k = 0; k < n; k++) {
            if (test_rng_below(&r, 3) == 0) {
                body[k] &= 0x1F; /* small lengths and offsets are likelier to parse */
            }
        }
        long want = ref_decode(body, n, ref, sizeof(ref));
        size_t out_len = (size_t)test_rng_below(&r, sizeof(out) + 1);
        if (want >= 0 && test_rng_below(&r, 4) != 0) {
            out_len = (size_t)want + (test_rng_below(&r, 4) == 0); /* exact, or one more */
        }
        enum rvm_err err = rvm_compress_decode(body, n, out, out_len);
        /* The reference decodes without a length target: both must agree on validity. */
        bool ref_ok = want >= 0 && (size_t)want == out_len;
        assert_int_equal(err == RVM_OK, ref_ok);
        if (ref_ok) {
            assert_memory_equal(out, ref, out_len);
            agree++;
        }
    }
    print_message("# %zu hostile bodies happened to be valid\n", agree);
}

static int setup(void **state)
{
    (void)state;
    rvm_crypto_portable(&crypto);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_page_by_hand),     cmocka_unit_test(test_match_ends_by_hand),
        cmocka_unit_test(test_decoder_by_hand),       cmocka_unit_test(test_round_trip_shapes),
        cmocka_unit_test(test_errors_and_capacity),   cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_content_hash_checked),  cmocka_unit_test(test_header_parse),
        cmocka_unit_test(test_zero_regions),          cmocka_unit_test(test_staged_images),
        cmocka_unit_test(test_staged_refusals),       cmocka_unit_test(test_null_arguments_refused),
        cmocka_unit_test(test_header_fields_refused), cmocka_unit_test(test_every_capacity),
        cmocka_unit_test(test_hostile_bodies),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
