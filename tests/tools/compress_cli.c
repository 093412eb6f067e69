/* SPDX-License-Identifier: MIT */
/*
 * Test-only driver of the core's dormant-image compressor, for tests/py/test_compress_model.py.
 *
 * stdin: any number of records, each u32 raw_len | u32 image_cap | raw_len bytes (little-endian).
 * For each, stdout gets i32 result code (enum rvm_err), then when it is RVM_OK u32 image_len |
 * the image | its 32-byte checkpoint hash, all from rvm_compress with the portable SHA-256, its
 * scratch table left holding positions inside the input.
 * Exit 2 on malformed input.
 */
#include "rvm/compress.h"
#include "rvm/crypto_portable.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_u32(uint32_t *v)
{
    uint8_t b[4];
    size_t got = fread(b, 1, sizeof(b), stdin);
    if (got == 0 && feof(stdin)) {
        return 0;
    }
    if (got != sizeof(b)) {
        return -1;
    }
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

static void write_u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, sizeof(b), stdout);
}

int main(void)
{
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    static struct rvm_compress_work work;
    for (;;) {
        uint32_t raw_len, cap;
        int r = read_u32(&raw_len);
        if (r == 0) {
            return 0;
        }
        if (r < 0 || read_u32(&cap) != 1) {
            fprintf(stderr, "compress_cli: truncated record header\n");
            return 2;
        }
        uint8_t *raw = malloc(raw_len + 1u);
        uint8_t *image = malloc(cap + 1u);
        if (raw == NULL || image == NULL || fread(raw, 1, raw_len, stdin) != raw_len) {
            fprintf(stderr, "compress_cli: short record or out of memory\n");
            return 2;
        }
        /* The scratch table's contents on entry must not matter. Leave in each entry the first
         * position of this input whose 4 bytes hash to it (the rest 0): an encoder that read a
         * stale entry instead of treating it as 0 would find a real earlier match there. */
        memset(&work, 0, sizeof(work));
        for (size_t i = raw_len >= 4 ? raw_len - 4 + 1 : 0; i-- > 0;) {
            uint32_t key = (uint32_t)raw[i] | (uint32_t)raw[i + 1] << 8 |
                           (uint32_t)raw[i + 2] << 16 | (uint32_t)raw[i + 3] << 24;
            work.table[(key * 2654435761u) >> (32u - RVM_COMPRESS_HASH_BITS)] = (uint32_t)i;
        }
        size_t len = 0;
        uint8_t checkpoint[RVM_SHA256_DIGEST_BYTES];
        enum rvm_err err = rvm_compress(&crypto, &work, raw, raw_len, image, cap, &len, checkpoint);
        write_u32((uint32_t)(int32_t)err);
        if (err == RVM_OK) {
            write_u32((uint32_t)len);
            fwrite(image, 1, len, stdout);
            fwrite(checkpoint, 1, sizeof(checkpoint), stdout);
        }
        free(raw);
        free(image);
    }
}
