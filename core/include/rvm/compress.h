/* SPDX-License-Identifier: MIT */
/*
 * The dormant-tier image: a region's contents compressed into one self-describing byte string,
 * bound to a SHA-256 checkpoint hash. The format is specified in docs/memory.md ("Dormant
 * images"); in short (all integers little-endian):
 *
 *   header, 64 bytes
 *     0  magic "RVMZ"            4  version = 1      5  method: 0 stored, 1 LZ
 *     6  reserved u16 = 0        8  raw_len u64      16 body_len u64
 *     24 content hash: SHA-256 of the raw bytes (32)  56 reserved u64 = 0
 *   body, body_len bytes
 *     stored: the raw bytes (body_len == raw_len)
 *     LZ:     sequences  token | [lit ext] | literals | [offset | [match ext]]
 *             token high nibble L = literal count, low nibble M = match length - 4; a nibble of 15
 *             is followed by an unsigned LEB128 extension (<= 5 bytes, fits u32) that is added.
 *             The offset is an LEB128 in 1..bytes produced so far. The body ends right after
 *             the literals of its last sequence, whose M must be 0.
 *
 *   checkpoint hash = SHA-256 of the whole image (header || body).
 *
 * Two hashes, two jobs: the checkpoint hash, kept by the region in trusted core memory and
 * written into the witness record, proves the stored image is byte-for-byte the one produced
 * (any flipped bit, even one that would decode to the same data, is refused); the content hash
 * inside the image then proves the decoder reproduced exactly the bytes that were compressed.
 *
 * The decoder never trusts the body: every length and offset is range-checked before use, so any
 * byte string either decodes to exactly the requested length or fails with RVM_ERR_CORRUPT
 * without reading or writing out of bounds (fuzzed: tests/fuzz/fuzz_compress.c).
 */
#ifndef RVM_COMPRESS_H
#define RVM_COMPRESS_H

#include "rvm/error.h"
#include "rvm/hal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_COMPRESS_HEADER_BYTES 64u
#define RVM_COMPRESS_VERSION      1u
#define RVM_COMPRESS_STORED       0u
#define RVM_COMPRESS_LZ           1u
#define RVM_COMPRESS_MAX_RAW      0xFFFFFFFFull /* LZ positions are u32 */
#define RVM_COMPRESS_HASH_BITS    12u

/* Image capacity that always suffices for n raw bytes: the compressor falls back to stored. */
#define RVM_COMPRESS_BOUND(n) ((size_t)RVM_COMPRESS_HEADER_BYTES + (size_t)(n))

/* Compressor scratch (match-finder table), caller storage; contents on entry do not matter. */
struct rvm_compress_work {
    uint32_t table[1u << RVM_COMPRESS_HASH_BITS];
};

struct rvm_compress_header {
    uint8_t version;
    uint8_t method;
    uint64_t raw_len;
    uint64_t body_len;
    uint8_t content_hash[RVM_SHA256_DIGEST_BYTES];
};

/*
 * Compress raw[0..raw_len) into image (capacity image_cap), returning the image length and its
 * checkpoint hash. Deterministic: the same bytes give the same image on every build.
 * RVM_ERR_INVALID_ARGUMENT (NULL pointers, raw_len 0), RVM_ERR_OUT_OF_RANGE (raw_len above
 * RVM_COMPRESS_MAX_RAW), RVM_ERR_NO_SPACE (image_cap below what this input needs; at most
 * RVM_COMPRESS_BOUND(raw_len)).
 */
enum rvm_err rvm_compress(const struct rvm_crypto *crypto, struct rvm_compress_work *work,
                          const uint8_t *raw, size_t raw_len, uint8_t *image, size_t image_cap,
                          size_t *image_len, uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES]);

/*
 * rvm_compress without the two hashes: the same result code and image length, the image written
 * with its content-hash field zero. For sizing a set of images before committing to them, where
 * the hashes would be computed again and thrown away.
 */
enum rvm_err rvm_compress_sized(struct rvm_compress_work *work, const uint8_t *raw, size_t raw_len,
                                uint8_t *image, size_t image_cap, size_t *image_len);

/*
 * Staged images: rvm_compress in two steps, for a caller that sizes a set of images with
 * rvm_compress_sized before committing to them and then keeps those bytes instead of encoding
 * again.
 *
 * rvm_compress_image_len: the length (64 + body_len) of the image whose header starts at `image`,
 * or 0 unless that header is valid and the image fits in image_cap.
 *
 * rvm_compress_seal: finish an image that rvm_compress_sized wrote for raw[0..raw_len) (the same
 * bytes, unchanged since): write its content hash, unless rvm_compress_adopt_hash already did,
 * and return its checkpoint hash. The image is then byte for byte what rvm_compress writes.
 * RVM_ERR_INVALID_ARGUMENT for NULL pointers or raw_len 0, RVM_ERR_CORRUPT unless the header is
 * valid for image_len and says raw_len.
 *
 * rvm_compress_adopt_hash: when the staged `image` has the same header and body as `prev` and
 * `prev` is the image `prev_checkpoint` names, copy prev's content hash into image and return
 * true. The raw bytes are then the ones prev was compressed from (the encoder is deterministic
 * and its images decode to their input), so their hash need not be computed again. False (image
 * unchanged) otherwise, including for a prev that no longer matches its checkpoint.
 */
size_t rvm_compress_image_len(const uint8_t *image, size_t image_cap);
enum rvm_err rvm_compress_seal(const struct rvm_crypto *crypto, const uint8_t *raw, size_t raw_len,
                               uint8_t *image, size_t image_len,
                               uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES]);
bool rvm_compress_adopt_hash(const struct rvm_crypto *crypto, uint8_t *image, size_t image_len,
                             const uint8_t *prev, size_t prev_len,
                             const uint8_t prev_checkpoint[RVM_SHA256_DIGEST_BYTES]);

/*
 * Parse and check a header against the image length: magic, version, method, reserved bytes
 * zero, body_len == image_len - 64, and (stored) body_len == raw_len. RVM_ERR_CORRUPT otherwise.
 */
enum rvm_err rvm_compress_parse_header(const uint8_t *image, size_t image_len,
                                       struct rvm_compress_header *h);

/*
 * Decode an LZ body that must produce exactly out_len bytes. Safe on any input: returns
 * RVM_ERR_CORRUPT (out contents then unspecified) unless the body is well formed, consumed
 * exactly, and yields exactly out_len bytes.
 */
enum rvm_err rvm_compress_decode(const uint8_t *body, size_t body_len, uint8_t *out,
                                 size_t out_len);

/*
 * Verified reconstruction: the image's SHA-256 must equal `checkpoint` (the trusted copy), its
 * header must be valid with raw_len == expected_raw_len, the body must decode, and the result's
 * SHA-256 must equal the header's content hash. On success out[0..expected_raw_len) holds the
 * original bytes. Any failure returns RVM_ERR_CORRUPT and zeroes out[0..expected_raw_len), so no
 * partly decoded data survives; RVM_ERR_INVALID_ARGUMENT for NULL pointers or out_cap too small.
 */
enum rvm_err rvm_compress_reconstruct(const struct rvm_crypto *crypto, const uint8_t *image,
                                      size_t image_len,
                                      const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES],
                                      uint64_t expected_raw_len, uint8_t *out, size_t out_cap);

/*
 * Whether rvm_compress_reconstruct would succeed, without decoding: the image's SHA-256 must equal
 * `checkpoint` and its header must be valid with raw_len == expected_raw_len. For a pass that
 * only decides (can every image of a checkpoint be restored?) before the pass that restores.
 * `checkpoint` is the hash rvm_compress returned, so a match means these are exactly the bytes it
 * wrote, which decode to the bytes it compressed (the codec round-trips: tests/unit/
 * test_compress.c, tests/fuzz/fuzz_compress.c); the restoring pass still decodes and checks the
 * content hash, so an encoder or decoder defect is caught there. RVM_ERR_CORRUPT otherwise;
 * RVM_ERR_INVALID_ARGUMENT for NULL pointers or expected_raw_len 0.
 */
enum rvm_err rvm_compress_check(const struct rvm_crypto *crypto, const uint8_t *image,
                                size_t image_len, const uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES],
                                uint64_t expected_raw_len);

#endif /* RVM_COMPRESS_H */
