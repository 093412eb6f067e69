/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the dormant-image codec (core/src/compress.c). The first input byte picks
 * a mode:
 *   even  hostile input: the rest is an LZ body decoded to a length taken from bytes 1..2, and
 *         also a whole image, reconstructed against its own SHA-256 (so the checkpoint check
 *         passes and the header parser and decoder see the attacker's bytes);
 *   odd   round trip: the rest is raw data that must compress and reconstruct to itself.
 * Any sanitizer report or abort() is a failure. Built and run by scripts/fuzz_compress.sh.
 */
#include "rvm/bytes.h"
#include "rvm/compress.h"
#include "rvm/crypto_portable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rvm_compress_work work;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    if (size < 1) {
        return 0;
    }
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        if (n >= 2) {
            size_t out_len = rvm_load_le16(in);
            uint8_t *out = malloc(out_len + 1);
            (void)rvm_compress_decode(in + 2, n - 2, out, out_len);
            free(out);
        }
        struct rvm_compress_header h;
        if (rvm_compress_parse_header(in, n, &h) == RVM_OK && h.raw_len <= (1u << 20)) {
            uint8_t cp[32];
            rvm_crypto_sha256(&crypto, in, n, cp);
            uint8_t *out = malloc((size_t)h.raw_len);
            enum rvm_err err =
                rvm_compress_reconstruct(&crypto, in, n, cp, h.raw_len, out, (size_t)h.raw_len);
            if (err != RVM_OK && err != RVM_ERR_CORRUPT) {
                abort();
            }
            free(out);
        }
        return 0;
    }
    if (n == 0) {
        return 0;
    }
    size_t cap = RVM_COMPRESS_BOUND(n);
    uint8_t *image = malloc(cap), *out = malloc(n);
    size_t len;
    uint8_t cp[32];
    if (rvm_compress(&crypto, &work, in, n, image, cap, &len, cp) != RVM_OK ||
        rvm_compress_reconstruct(&crypto, image, len, cp, n, out, n) != RVM_OK ||
        memcmp(out, in, n) != 0) {
        abort();
    }
    free(image);
    free(out);
    return 0;
}
