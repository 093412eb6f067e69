/* SPDX-License-Identifier: MIT */
#include "rvm/compress.h"

#include "rvm/bytes.h"

static const uint8_t magic[4] = {'R', 'V', 'M', 'Z'};

enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_METHOD = 5,
    OFF_RESERVED0 = 6,
    OFF_RAW_LEN = 8,
    OFF_BODY_LEN = 16,
    OFF_CONTENT_HASH = 24,
    OFF_RESERVED1 = 56,
};

#define MIN_MATCH 4u
#define NIBBLE    15u

/* ---- content hash ---------------------------------------------------------------------------- */

/* Whether p[0..n) is all zero; n is a multiple of 8 (a digest, whole pages). */
static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8u) { /* bound: n / 8 */
        if (rvm_load_le64(p + i) != 0) {
            return false;
        }
    }
    return true;
}

/* SHA-256 of 4 KiB << k zero bytes, k = 0..8 (tests/unit/test_compress.c checks each against
 * OpenSSL). Regions are whole pages and often all zero: their content hash then costs one pass
 * that finds no set byte instead of hashing every page. */
#define ZERO_PAGE_BYTES      4096u
#define ZERO_PAGES_MAX_ORDER 8u
static const uint8_t zero_pages_sha256[ZERO_PAGES_MAX_ORDER + 1u][RVM_SHA256_DIGEST_BYTES] = {
    {0xAD, 0x7F, 0xAC, 0xB2, 0x58, 0x6F, 0xC6, 0xE9, 0x66, 0xC0, 0x04,
     0xD7, 0xD1, 0xD1, 0x6B, 0x02, 0x4F, 0x58, 0x05, 0xFF, 0x7C, 0xB4,
     0x7C, 0x7A, 0x85, 0xDA, 0xBD, 0x8B, 0x48, 0x89, 0x2C, 0xA7},
    {0x9F, 0x1D, 0xCB, 0xC3, 0x5C, 0x35, 0x0D, 0x60, 0x27, 0xF9, 0x8B,
     0xE0, 0xF5, 0xC8, 0xB4, 0x3B, 0x42, 0xCA, 0x52, 0xB7, 0x60, 0x44,
     0x59, 0xC0, 0xC4, 0x2B, 0xE3, 0xAA, 0x88, 0x91, 0x3D, 0x47},
    {0x4F, 0xE7, 0xB5, 0x9A, 0xF6, 0xDE, 0x3B, 0x66, 0x5B, 0x67, 0x78,
     0x8C, 0xC2, 0xF9, 0x98, 0x92, 0xAB, 0x82, 0x7E, 0xFA, 0xE3, 0xA4,
     0x67, 0x34, 0x2B, 0x3B, 0xB4, 0xE3, 0xBC, 0x8E, 0x5B, 0xFE},
    {0xC3, 0x50, 0x20, 0x47, 0x3A, 0xED, 0x1B, 0x46, 0x42, 0xCD, 0x72,
     0x6C, 0xAD, 0x72, 0x7B, 0x63, 0xFF, 0xF2, 0x82, 0x4A, 0xD6, 0x8C,
     0xED, 0xD7, 0xFF, 0xB7, 0x3C, 0x7C, 0xBD, 0x89, 0x04, 0x79},
    {0xDE, 0x2F, 0x25, 0x60, 0x64, 0xA0, 0xAF, 0x79, 0x77, 0x47, 0xC2,
     0xB9, 0x75, 0x05, 0xDC, 0x0B, 0x9F, 0x3D, 0xF0, 0xDE, 0x4F, 0x48,
     0x9E, 0xAC, 0x73, 0x1C, 0x23, 0xAE, 0x9C, 0xA9, 0xCC, 0x31},
    {0xFA, 0x43, 0x23, 0x9B, 0xCE, 0xE7, 0xB9, 0x7C, 0xA6, 0x2F, 0x00,
     0x7C, 0xC6, 0x84, 0x87, 0x56, 0x0A, 0x39, 0xE1, 0x9F, 0x74, 0xF3,
     0xDD, 0xE7, 0x48, 0x6D, 0xB3, 0xF9, 0x8D, 0xF8, 0xE4, 0x71},
    {0x8A, 0x39, 0xD2, 0xAB, 0xD3, 0x99, 0x9A, 0xB7, 0x3C, 0x34, 0xDB,
     0x24, 0x76, 0x84, 0x9C, 0xDD, 0xF3, 0x03, 0xCE, 0x38, 0x9B, 0x35,
     0x82, 0x68, 0x50, 0xF9, 0xA7, 0x00, 0x58, 0x9B, 0x4A, 0x90},
    {0x07, 0x85, 0x4D, 0x2F, 0xEF, 0x29, 0x7A, 0x06, 0xBA, 0x81, 0x68,
     0x5E, 0x66, 0x0C, 0x33, 0x2D, 0xE3, 0x6D, 0x5D, 0x18, 0xD5, 0x46,
     0x92, 0x7D, 0x30, 0xDA, 0xAD, 0x6D, 0x7F, 0xDA, 0x15, 0x41},
    {0x30, 0xE1, 0x49, 0x55, 0xEB, 0xF1, 0x35, 0x22, 0x66, 0xDC, 0x2F,
     0xF8, 0x06, 0x7E, 0x68, 0x10, 0x46, 0x07, 0xE7, 0x50, 0xAB, 0xB9,
     0xD3, 0xB3, 0x65, 0x82, 0xB8, 0xAF, 0x90, 0x9F, 0xCB, 0x58},
};

/* SHA-256 of raw[0..n), the content hash. */
static void content_hash(const struct rvm_crypto *crypto, const uint8_t *raw, size_t n,
                         uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    for (uint32_t k = 0; k <= ZERO_PAGES_MAX_ORDER; k++) { /* bound: ZERO_PAGES_MAX_ORDER + 1 */
        if (n == (size_t)ZERO_PAGE_BYTES << k) {
            if (all_zero(raw, n)) {
                rvm_memcpy(out, zero_pages_sha256[k], RVM_SHA256_DIGEST_BYTES);
                return;
            }
            break;
        }
    }
    rvm_crypto_sha256(crypto, raw, n, out);
}

/* ---- encoder --------------------------------------------------------------------------------- */

/* Output cursor that refuses to run past its end; once full, every later put fails too. */
struct sink {
    uint8_t *p;
    size_t pos;
    size_t cap;
};

static inline bool put_byte(struct sink *s, uint8_t v)
{
    if (s->pos >= s->cap) {
        return false;
    }
    s->p[s->pos++] = v;
    return true;
}

static inline uint32_t varint_len(uint32_t v)
{
    uint32_t n = 1;
    while (v >= 0x80u) { /* bound: 5 */
        v >>= 7;
        n++;
    }
    return n;
}

static bool put_varint(struct sink *s, uint32_t v)
{
    while (v >= 0x80u) { /* bound: 5 */
        if (!put_byte(s, (uint8_t)(v | 0x80u))) {
            return false;
        }
        v >>= 7;
    }
    return put_byte(s, (uint8_t)v);
}

/* One sequence: literals, then (match_len != 0) a match. Lengths are <= RVM_COMPRESS_MAX_RAW. */
static bool put_sequence(struct sink *s, const uint8_t *lit, size_t nlit, uint32_t offset,
                         size_t match_len)
{
    uint32_t l = nlit >= NIBBLE ? NIBBLE : (uint32_t)nlit;
    uint32_t m = 0;
    if (match_len != 0) {
        m = match_len - MIN_MATCH >= NIBBLE ? NIBBLE : (uint32_t)(match_len - MIN_MATCH);
    }
    if (!put_byte(s, (uint8_t)(l << 4 | m))) {
        return false;
    }
    if (l == NIBBLE && !put_varint(s, (uint32_t)(nlit - NIBBLE))) {
        return false;
    }
    if (nlit > s->cap - s->pos) {
        return false;
    }
    rvm_memcpy(s->p + s->pos, lit, nlit);
    s->pos += nlit;
    if (match_len == 0) {
        return true;
    }
    if (!put_varint(s, offset)) {
        return false;
    }
    return m != NIBBLE || put_varint(s, (uint32_t)(match_len - MIN_MATCH - NIBBLE));
}

static inline uint32_t hash4(uint32_t key)
{
    return (key * 2654435761u) >> (32u - RVM_COMPRESS_HASH_BITS);
}

#define TABLE_BLOCK  64u /* entries cleared together: the table has 64 such blocks */
#define TABLE_BLOCKS ((1u << RVM_COMPRESS_HASH_BITS) / TABLE_BLOCK)

/* The table entry for hash h, as if the whole table had been zeroed before the image: a block of
 * 64 entries is cleared when the image first touches it (bit b of *cleared: block b), because
 * clearing all 16 KiB up front costs more than encoding a page that is mostly zeros, which touches
 * one or two blocks. */
static inline uint32_t *table_entry(struct rvm_compress_work *work, uint64_t *cleared, uint32_t h)
{
    const uint64_t block = (uint64_t)1 << (h / TABLE_BLOCK);
    if ((*cleared & block) == 0) {
        rvm_memset(&work->table[h - h % TABLE_BLOCK], 0, TABLE_BLOCK * sizeof(work->table[0]));
        *cleared |= block;
    }
    return &work->table[h];
}

/* Index of the lowest non-zero byte of a non-zero little-endian word. */
static inline size_t first_differing_byte(uint64_t diff)
{
    const uint32_t low = (uint32_t)diff;
    return low != 0 ? rvm_ctz32(low) >> 3 : 4u + (rvm_ctz32((uint32_t)(diff >> 32)) >> 3);
}

/* Length of the match at ip against cand (cand < ip), whose first MIN_MATCH bytes are equal: the
 * bytes compare equal up to the first difference or the end of the input, eight at a time. */
static size_t match_length(const uint8_t *raw, size_t cand, size_t ip, size_t n)
{
    size_t len = MIN_MATCH;
    while (n - ip - len >= 8u) { /* bound: (n - ip) / 8 */
        const uint64_t diff = rvm_load_le64(raw + cand + len) ^ rvm_load_le64(raw + ip + len);
        if (diff != 0) {
            return len + first_differing_byte(diff);
        }
        len += 8u;
    }
    while (ip + len < n && raw[cand + len] == raw[ip + len]) { /* bound: 7 */
        len++;
    }
    return len;
}

/*
 * Greedy LZ77 with a one-entry-per-bucket hash of 4-byte keys (every bucket starts at position 0).
 * A match is taken only when it is shorter to encode than the literals it replaces; the step grows
 * over long literal stretches so incompressible data costs little. Returns false when the body
 * does not fit in s->cap. `cleared`: the table blocks already cleared (see table_entry).
 */
static bool lz_run(struct rvm_compress_work *work, const uint8_t *raw, size_t n, struct sink *s,
                   uint64_t cleared)
{
    _Static_assert(TABLE_BLOCKS == 64u, "one bit per block in a uint64_t");
    size_t anchor = 0;
    size_t ip = 0;
    while (n >= MIN_MATCH && ip <= n - MIN_MATCH) { /* bound: ip strictly increases, <= n */
        uint32_t key = rvm_load_le32(raw + ip);
        uint32_t h = hash4(key);
        uint32_t *entry = table_entry(work, &cleared, h);
        size_t cand = *entry;
        *entry = (uint32_t)ip;
        if (cand < ip && rvm_load_le32(raw + cand) == key) {
            size_t len = match_length(raw, cand, ip, n);
            uint32_t offset = (uint32_t)(ip - cand);
            if (varint_len(offset) + 1u < len) {
                if (!put_sequence(s, raw + anchor, ip - anchor, offset, len)) {
                    return false;
                }
                ip += len;
                anchor = ip;
                if (ip >= 2 && ip - 2 <= n - MIN_MATCH) {
                    *table_entry(work, &cleared, hash4(rvm_load_le32(raw + ip - 2))) =
                        (uint32_t)(ip - 2);
                }
                continue;
            }
        }
        ip += 1u + ((ip - anchor) >> 6);
    }
    return put_sequence(s, raw + anchor, n - anchor, 0, 0);
}

static bool lz_encode(struct rvm_compress_work *work, const uint8_t *raw, size_t n, struct sink *s)
{
    if (n > sizeof(work->table)) {
        /* An input larger than the table touches most blocks: clear them all at once. */
        rvm_memset(work->table, 0, sizeof(work->table));
        return lz_run(work, raw, n, s, ~(uint64_t)0);
    }
    return lz_run(work, raw, n, s, 0);
}

/* The image without its content hash (left zero): header and body. */
static enum rvm_err encode_image(struct rvm_compress_work *work, const uint8_t *raw, size_t raw_len,
                                 uint8_t *image, size_t image_cap, size_t *image_len)
{
    if ((uint64_t)raw_len > RVM_COMPRESS_MAX_RAW) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (image_cap < RVM_COMPRESS_HEADER_BYTES + 1u) {
        return RVM_ERR_NO_SPACE;
    }
    /* LZ must beat storing, so its body gets at most raw_len - 1 bytes. */
    size_t room = image_cap - RVM_COMPRESS_HEADER_BYTES;
    struct sink s = {image + RVM_COMPRESS_HEADER_BYTES, 0, room < raw_len ? room : raw_len - 1u};
    uint8_t method = RVM_COMPRESS_LZ;
    if (!lz_encode(work, raw, raw_len, &s)) {
        if (room < raw_len) {
            return RVM_ERR_NO_SPACE;
        }
        method = RVM_COMPRESS_STORED;
        rvm_memcpy(image + RVM_COMPRESS_HEADER_BYTES, raw, raw_len);
        s.pos = raw_len;
    }
    rvm_memset(image, 0, RVM_COMPRESS_HEADER_BYTES);
    rvm_memcpy(image + OFF_MAGIC, magic, sizeof(magic));
    image[OFF_VERSION] = RVM_COMPRESS_VERSION;
    image[OFF_METHOD] = method;
    rvm_store_le64(image + OFF_RAW_LEN, (uint64_t)raw_len);
    rvm_store_le64(image + OFF_BODY_LEN, (uint64_t)s.pos);
    *image_len = RVM_COMPRESS_HEADER_BYTES + s.pos;
    return RVM_OK;
}

enum rvm_err rvm_compress(const struct rvm_crypto *crypto, struct rvm_compress_work *work,
                          const uint8_t *raw, size_t raw_len, uint8_t *image, size_t image_cap,
                          size_t *image_len, uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES])
{
    if (crypto == NULL || work == NULL || raw == NULL || image == NULL || image_len == NULL ||
        checkpoint == NULL || raw_len == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    enum rvm_err err = encode_image(work, raw, raw_len, image, image_cap, image_len);
    if (err != RVM_OK) {
        return err;
    }
    content_hash(crypto, raw, raw_len, image + OFF_CONTENT_HASH);
    rvm_crypto_sha256(crypto, image, *image_len, checkpoint);
    return RVM_OK;
}

enum rvm_err rvm_compress_sized(struct rvm_compress_work *work, const uint8_t *raw, size_t raw_len,
                                uint8_t *image, size_t image_cap, size_t *image_len)
{
    if (work == NULL || raw == NULL || image == NULL || image_len == NULL || raw_len == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    return encode_image(work, raw, raw_len, image, image_cap, image_len);
}

size_t rvm_compress_image_len(const uint8_t *image, size_t image_cap)
{
    if (image == NULL || image_cap < RVM_COMPRESS_HEADER_BYTES) {
        return 0;
    }
    const uint64_t body_len = rvm_load_le64(image + OFF_BODY_LEN);
    if (body_len > (uint64_t)(image_cap - RVM_COMPRESS_HEADER_BYTES)) {
        return 0;
    }
    const size_t len = RVM_COMPRESS_HEADER_BYTES + (size_t)body_len;
    struct rvm_compress_header h;
    return rvm_compress_parse_header(image, len, &h) == RVM_OK ? len : 0;
}

enum rvm_err rvm_compress_seal(const struct rvm_crypto *crypto, const uint8_t *raw, size_t raw_len,
                               uint8_t *image, size_t image_len,
                               uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES])
{
    if (crypto == NULL || raw == NULL || image == NULL || checkpoint == NULL || raw_len == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_compress_header h;
    if (rvm_compress_parse_header(image, image_len, &h) != RVM_OK ||
        h.raw_len != (uint64_t)raw_len) {
        return RVM_ERR_CORRUPT;
    }
    /* Zero until sealed or adopted; a real SHA-256 of zero would be written again unchanged. */
    if (all_zero(image + OFF_CONTENT_HASH, RVM_SHA256_DIGEST_BYTES)) {
        content_hash(crypto, raw, raw_len, image + OFF_CONTENT_HASH);
    }
    rvm_crypto_sha256(crypto, image, image_len, checkpoint);
    return RVM_OK;
}

bool rvm_compress_adopt_hash(const struct rvm_crypto *crypto, uint8_t *image, size_t image_len,
                             const uint8_t *prev, size_t prev_len,
                             const uint8_t prev_checkpoint[RVM_SHA256_DIGEST_BYTES])
{
    if (crypto == NULL || image == NULL || prev == NULL || prev_checkpoint == NULL ||
        image_len != prev_len || image_len < RVM_COMPRESS_HEADER_BYTES ||
        rvm_memcmp(image, prev, OFF_CONTENT_HASH) != 0 ||
        rvm_memcmp(image + OFF_RESERVED1, prev + OFF_RESERVED1, image_len - OFF_RESERVED1) != 0) {
        return false;
    }
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_crypto_sha256(crypto, prev, prev_len, digest);
    if (!rvm_ct_equal(digest, prev_checkpoint, sizeof(digest))) {
        return false;
    }
    rvm_memcpy(image + OFF_CONTENT_HASH, prev + OFF_CONTENT_HASH, RVM_SHA256_DIGEST_BYTES);
    return true;
}

/* ---- decoder --------------------------------------------------------------------------------- */

static inline bool get_varint(const uint8_t *in, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    for (uint32_t i = 0; i < 5u; i++) {
        if (*pos >= len) {
            return false;
        }
        uint32_t byte = in[(*pos)++];
        if (i == 4u && byte > 0x0Fu) {
            return false; /* more than 32 bits */
        }
        v |= (byte & 0x7Fu) << (7u * i);
        if ((byte & 0x80u) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* out[op..op+len) = the bytes `offset` back, which may overlap what is being written. The copy
 * source is a whole number of periods back and never overlaps the destination chunk; the chunk
 * doubles each round. Preconditions: 1 <= offset <= op, op + len <= size of out. */
static void copy_match(uint8_t *out, size_t op, size_t offset, size_t len)
{
    uint8_t *dst = out + op;
    if (offset == 1) {
        rvm_memset(dst, dst[-1], len);
        return;
    }
    size_t done = 0;
    while (done < len) { /* bound: O(log2(len)) rounds; `span` at least doubles after the first */
        size_t span = ((done + offset) / offset) * offset;
        size_t chunk = len - done < span ? len - done : span;
        rvm_memcpy(dst + done, dst + done - span, chunk);
        done += chunk;
    }
}

enum rvm_err rvm_compress_decode(const uint8_t *body, size_t body_len, uint8_t *out, size_t out_len)
{
    if (body == NULL || (out == NULL && out_len != 0)) {
        return RVM_ERR_CORRUPT;
    }
    size_t ip = 0;
    size_t op = 0;
    for (;;) { /* bound: every round consumes at least its token byte; body_len rounds */
        if (ip >= body_len) {
            return RVM_ERR_CORRUPT;
        }
        uint32_t token = body[ip++];
        uint32_t ext;
        size_t lit = token >> 4;
        if (lit == NIBBLE) {
            if (!get_varint(body, body_len, &ip, &ext)) {
                return RVM_ERR_CORRUPT;
            }
            lit += ext;
        }
        if (lit > body_len - ip || lit > out_len - op) {
            return RVM_ERR_CORRUPT;
        }
        if (lit != 0) {
            rvm_memcpy(out + op, body + ip, lit);
        }
        ip += lit;
        op += lit;
        if (ip == body_len) {
            return (token & NIBBLE) == 0 && op == out_len ? RVM_OK : RVM_ERR_CORRUPT;
        }
        uint32_t offset;
        if (!get_varint(body, body_len, &ip, &offset) || offset == 0 || offset > op) {
            return RVM_ERR_CORRUPT;
        }
        size_t match = (token & NIBBLE) + MIN_MATCH;
        if ((token & NIBBLE) == NIBBLE) {
            if (!get_varint(body, body_len, &ip, &ext)) {
                return RVM_ERR_CORRUPT;
            }
            match += ext;
        }
        if (match > out_len - op) {
            return RVM_ERR_CORRUPT;
        }
        copy_match(out, op, offset, match);
        op += match;
    }
}

enum rvm_err rvm_compress_parse_header(const uint8_t *image, size_t image_len,
                                       struct rvm_compress_header *h)
{
    if (image == NULL || h == NULL || image_len < RVM_COMPRESS_HEADER_BYTES) {
        return RVM_ERR_CORRUPT;
    }
    h->version = image[OFF_VERSION];
    h->method = image[OFF_METHOD];
    h->raw_len = rvm_load_le64(image + OFF_RAW_LEN);
    h->body_len = rvm_load_le64(image + OFF_BODY_LEN);
    rvm_memcpy(h->content_hash, image + OFF_CONTENT_HASH, RVM_SHA256_DIGEST_BYTES);
    bool ok = image[0] == magic[0] && image[1] == magic[1] && image[2] == magic[2] &&
              image[3] == magic[3] && h->version == RVM_COMPRESS_VERSION &&
              (h->method == RVM_COMPRESS_STORED || h->method == RVM_COMPRESS_LZ) &&
              rvm_load_le16(image + OFF_RESERVED0) == 0 &&
              rvm_load_le64(image + OFF_RESERVED1) == 0 && h->raw_len != 0 &&
              h->raw_len <= RVM_COMPRESS_MAX_RAW &&
              h->body_len == (uint64_t)(image_len - RVM_COMPRESS_HEADER_BYTES) &&
              (h->method != RVM_COMPRESS_STORED || h->body_len == h->raw_len);
    return ok ? RVM_OK : RVM_ERR_CORRUPT;
}

/* The image is the one `checkpoint` names and its header describes expected_raw_len bytes. */
static bool image_matches(const struct rvm_crypto *crypto, const uint8_t *image, size_t image_len,
                          const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES],
                          uint64_t expected_raw_len, struct rvm_compress_header *h)
{
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_crypto_sha256(crypto, image, image_len, digest);
    return rvm_ct_equal(digest, checkpoint, sizeof(digest)) &&
           rvm_compress_parse_header(image, image_len, h) == RVM_OK &&
           h->raw_len == expected_raw_len;
}

enum rvm_err rvm_compress_check(const struct rvm_crypto *crypto, const uint8_t *image,
                                size_t image_len, const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES],
                                uint64_t expected_raw_len)
{
    if (crypto == NULL || image == NULL || checkpoint == NULL || expected_raw_len == 0) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    struct rvm_compress_header h;
    return image_matches(crypto, image, image_len, checkpoint, expected_raw_len, &h)
               ? RVM_OK
               : RVM_ERR_CORRUPT;
}

enum rvm_err rvm_compress_reconstruct(const struct rvm_crypto *crypto, const uint8_t *image,
                                      size_t image_len,
                                      const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES],
                                      uint64_t expected_raw_len, uint8_t *out, size_t out_cap)
{
    if (crypto == NULL || image == NULL || checkpoint == NULL || out == NULL ||
        expected_raw_len == 0 || expected_raw_len > (uint64_t)out_cap) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    size_t n = (size_t)expected_raw_len;
    struct rvm_compress_header h;
    enum rvm_err err = RVM_ERR_CORRUPT;
    if (image_matches(crypto, image, image_len, checkpoint, expected_raw_len, &h)) {
        const uint8_t *body = image + RVM_COMPRESS_HEADER_BYTES;
        if (h.method == RVM_COMPRESS_STORED) {
            rvm_memcpy(out, body, n);
            err = RVM_OK;
        } else {
            err = rvm_compress_decode(body, (size_t)h.body_len, out, n);
        }
        if (err == RVM_OK) {
            uint8_t digest[RVM_SHA256_DIGEST_BYTES];
            content_hash(crypto, out, n, digest);
            if (!rvm_ct_equal(digest, h.content_hash, sizeof(digest))) {
                err = RVM_ERR_CORRUPT;
            }
        }
    }
    if (err != RVM_OK) {
        rvm_memset(out, 0, n);
    }
    return err;
}
