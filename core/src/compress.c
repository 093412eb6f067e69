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

#define TABLE_ENTRIES (1u << RVM_COMPRESS_HASH_BITS)
#define TABLE_WORDS   (TABLE_ENTRIES / 64u)

/* Which table entries this image has written. An unwritten entry reads as position 0, as if the
 * whole table had been zeroed first: clearing these 512 bytes costs a thirty-second of clearing
 * the 16 KiB table, which for a page of mostly zeros is most of the encoder's work. */
struct table_seen {
    uint64_t bits[TABLE_WORDS];
};

static inline size_t table_get(const struct rvm_compress_work *work, const struct table_seen *seen,
                               uint32_t h)
{
    return (seen->bits[h >> 6] >> (h & 63u)) & 1u ? work->table[h] : 0u;
}

static inline void table_put(struct rvm_compress_work *work, struct table_seen *seen, uint32_t h,
                             size_t pos)
{
    seen->bits[h >> 6] |= (uint64_t)1 << (h & 63u);
    work->table[h] = (uint32_t)pos;
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
 * does not fit in s->cap.
 */
static bool lz_encode(struct rvm_compress_work *work, const uint8_t *raw, size_t n, struct sink *s)
{
    struct table_seen seen;
    rvm_memset(&seen, 0, sizeof(seen));
    size_t anchor = 0;
    size_t ip = 0;
    while (n >= MIN_MATCH && ip <= n - MIN_MATCH) { /* bound: ip strictly increases, <= n */
        uint32_t key = rvm_load_le32(raw + ip);
        uint32_t h = hash4(key);
        size_t cand = table_get(work, &seen, h);
        table_put(work, &seen, h, ip);
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
                    table_put(work, &seen, hash4(rvm_load_le32(raw + ip - 2)), ip - 2);
                }
                continue;
            }
        }
        ip += 1u + ((ip - anchor) >> 6);
    }
    return put_sequence(s, raw + anchor, n - anchor, 0, 0);
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
    rvm_crypto_sha256(crypto, raw, raw_len, image + OFF_CONTENT_HASH);
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

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) { /* bound: n (a digest) */
        any |= p[i];
    }
    return any == 0;
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
        rvm_crypto_sha256(crypto, raw, raw_len, image + OFF_CONTENT_HASH);
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
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
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
            rvm_crypto_sha256(crypto, out, n, digest);
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
