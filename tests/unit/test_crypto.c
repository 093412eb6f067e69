/* SPDX-License-Identifier: MIT */
/*
 * Crypto providers: the portable C provider and the OpenSSL provider against published vectors
 * (NIST FIPS 180-2 examples for SHA-256, RFC 4231 for HMAC-SHA256), against each other on seeded
 * random inputs, and the core's SHA-256 message handling (sha256.c) and HMAC with a precomputed
 * key schedule (hmac.c) on top of each.
 */
#include "test_support.h"

#include "crypto_openssl.h"
#include "rvm/crypto_portable.h"
#include "rvm/hmac.h"
#include "rvm/sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

struct providers {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto ossl;
    struct rvm_crypto portable;
};

static int setup(void **state)
{
    struct providers *p = calloc(1, sizeof(*p));
    p->oc = rvm_openssl_crypto_new();
    if (p->oc == NULL) {
        free(p);
        return -1;
    }
    rvm_openssl_crypto_bind(p->oc, &p->ossl);
    rvm_crypto_portable(&p->portable);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct providers *p = *state;
    rvm_openssl_crypto_free(p->oc);
    free(p);
    return 0;
}

static void both(struct providers *p, const struct rvm_crypto *out[2])
{
    out[0] = &p->portable;
    out[1] = &p->ossl;
}

/* Hash via the provider's one-shot, via the core's incremental wrapper fed in odd-sized pieces,
 * and compare both with the expected hex. */
static void expect_sha256(const struct rvm_crypto *c, const uint8_t *msg, size_t len,
                          const char *expected_hex)
{
    uint8_t expected[32], got[32];
    hex_decode(expected_hex, expected, sizeof(expected));

    rvm_crypto_sha256(c, msg, len, got);
    assert_memory_equal(got, expected, 32);

    struct rvm_sha256_ctx h;
    rvm_sha256_init(&h, c);
    size_t pos = 0, step = 1;
    while (pos < len) {
        size_t n = step < len - pos ? step : len - pos;
        rvm_sha256_update(&h, msg + pos, n);
        pos += n;
        step = step * 3 + 1; /* 1, 4, 13, 40, 121, ... crosses block boundaries unevenly */
    }
    rvm_sha256_final(&h, got);
    assert_memory_equal(got, expected, 32);
}

/* FIPS 180-2 Appendix B examples and the widely published empty-string digest. */
static void test_sha256_nist_vectors(void **state)
{
    const struct rvm_crypto *cs[2];
    both(*state, cs);
    for (int i = 0; i < 2; i++) {
        expect_sha256(cs[i], (const uint8_t *)"", 0,
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        expect_sha256(cs[i], (const uint8_t *)"abc", 3,
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        expect_sha256(cs[i], (const uint8_t *)two_block, strlen(two_block),
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        size_t million = 1000000;
        uint8_t *a = malloc(million);
        memset(a, 'a', million);
        expect_sha256(cs[i], a, million,
                      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
    }
}

struct hmac_vector {
    const char *key_hex;
    size_t key_repeat; /* when non-zero, key is key_hex's single byte repeated this many times */
    const char *data;
    size_t data_repeat_byte_count;
    uint8_t data_byte;
    const char *mac_hex;
    size_t truncate; /* RFC 4231 case 5 compares only the first 16 bytes */
};

/* RFC 4231 section 4, test cases 1-7 (HMAC-SHA-256 column). */
static const struct hmac_vector rfc4231[] = {
    {"0b", 20, "Hi There", 0, 0, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     32},
    {"4a656665", 0, "what do ya want for nothing?", 0, 0,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32},
    {"aa", 20, NULL, 50, 0xdd, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     32},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, NULL, 50, 0xcd,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32},
    {"0c", 20, "Test With Truncation", 0, 0, "a3b6167473100ee06e0c796c2955552b", 16},
    {"aa", 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32},
    {"aa", 131,
     "This is a test using a larger than block-size key and a larger than block-size data. The "
     "key needs to be hashed before being used by the HMAC algorithm.",
     0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32},
};

static void test_hmac_rfc4231_vectors(void **state)
{
    const struct rvm_crypto *cs[2];
    both(*state, cs);
    for (size_t v = 0; v < sizeof(rfc4231) / sizeof(rfc4231[0]); v++) {
        const struct hmac_vector *t = &rfc4231[v];
        uint8_t key[256], data[256], expected[32], got[32];
        size_t key_len, data_len;
        if (t->key_repeat != 0) {
            uint8_t b;
            hex_decode(t->key_hex, &b, 1);
            memset(key, b, t->key_repeat);
            key_len = t->key_repeat;
        } else {
            key_len = strlen(t->key_hex) / 2;
            hex_decode(t->key_hex, key, key_len);
        }
        if (t->data != NULL) {
            data_len = strlen(t->data);
            memcpy(data, t->data, data_len);
        } else {
            data_len = t->data_repeat_byte_count;
            memset(data, t->data_byte, data_len);
        }
        hex_decode(t->mac_hex, expected, t->truncate);
        for (int i = 0; i < 2; i++) {
            rvm_crypto_hmac(cs[i], key, key_len, data, data_len, got);
            if (memcmp(got, expected, t->truncate) != 0) {
                fail_msg("RFC 4231 case %zu differs for provider %d", v + 1, i);
            }
            struct rvm_hmac_key hk;
            rvm_hmac_key_init(&hk, cs[i], key, key_len);
            rvm_hmac_mac(&hk, cs[i], data, data_len, got);
            if (memcmp(got, expected, t->truncate) != 0) {
                fail_msg("RFC 4231 case %zu differs for the key schedule on provider %d", v + 1, i);
            }
        }
    }
}

/* Providers agree with each other and with OpenSSL's one-shot EVP/HMAC (a third code path) on
 * seeded random lengths 0..300 and random keys 0..150 bytes. */
static void test_providers_agree_on_random_inputs(void **state)
{
    struct providers *p = *state;
    uint64_t seed = test_seed("test_providers_agree_on_random_inputs", 20261121);
    struct test_rng rng = test_rng_new(seed);
    uint8_t msg[300], key[150];

    for (int round = 0; round < 2000; round++) {
        size_t len = test_rng_below(&rng, sizeof(msg) + 1);
        size_t key_len = test_rng_below(&rng, sizeof(key) + 1);
        test_rng_fill(&rng, msg, len);
        test_rng_fill(&rng, key, key_len);

        uint8_t a[32], b[32], ref[32];
        unsigned int ref_len = 0;
        rvm_crypto_sha256(&p->portable, msg, len, a);
        rvm_crypto_sha256(&p->ossl, msg, len, b);
        EVP_Digest(msg, len, ref, &ref_len, EVP_sha256(), NULL);
        if (memcmp(a, ref, 32) != 0 || memcmp(b, ref, 32) != 0) {
            fail_msg("SHA-256 disagreement at round %d len %zu (seed %llu)", round, len,
                     (unsigned long long)seed);
        }

        rvm_crypto_hmac(&p->portable, key, key_len, msg, len, a);
        rvm_crypto_hmac(&p->ossl, key, key_len, msg, len, b);
        HMAC(EVP_sha256(), key_len ? key : (const uint8_t *)"", (int)key_len, msg, len, ref,
             &ref_len);
        if (memcmp(a, ref, 32) != 0 || memcmp(b, ref, 32) != 0) {
            fail_msg("HMAC disagreement at round %d len %zu key %zu (seed %llu)", round, len,
                     key_len, (unsigned long long)seed);
        }
        struct rvm_hmac_key hk;
        rvm_hmac_key_init(&hk, &p->portable, key, key_len);
        rvm_hmac_mac(&hk, &p->portable, msg, len, a);
        rvm_hmac_mac(&hk, &p->ossl, msg, len, b); /* a schedule is provider-independent */
        if (memcmp(a, ref, 32) != 0 || memcmp(b, ref, 32) != 0) {
            fail_msg("HMAC key schedule disagrees at round %d len %zu key %zu (seed %llu)", round,
                     len, key_len, (unsigned long long)seed);
        }
    }
}

/* The compression hooks agree block by block, including multi-block calls and nblocks == 0. */
static void test_compress_agrees(void **state)
{
    struct providers *p = *state;
    uint64_t seed = test_seed("test_compress_agrees", 7);
    struct test_rng rng = test_rng_new(seed);
    uint8_t blocks[64 * 8];

    for (int round = 0; round < 500; round++) {
        uint32_t s1[8], s2[8];
        for (int i = 0; i < 8; i++) {
            s1[i] = s2[i] = (uint32_t)test_rng_next(&rng);
        }
        size_t n = test_rng_below(&rng, 9);
        test_rng_fill(&rng, blocks, n * 64);
        rvm_crypto_compress(&p->portable, s1, blocks, n);
        rvm_crypto_compress(&p->ossl, s2, blocks, n);
        if (memcmp(s1, s2, sizeof(s1)) != 0) {
            fail_msg("compress disagreement at round %d (seed %llu)", round,
                     (unsigned long long)seed);
        }
    }
}

/* The OpenSSL provider's two compression paths (in place on the caller's state, and copying
 * through its own SHA256_CTX) agree with the portable provider on chained blocks. */
static void test_openssl_in_place_and_copying_paths_agree(void **state)
{
    struct providers *p = *state;
    setenv("RVM_OPENSSL_NO_IN_PLACE", "1", 1);
    struct rvm_openssl_crypto *copying = rvm_openssl_crypto_new();
    unsetenv("RVM_OPENSSL_NO_IN_PLACE");
    assert_non_null(copying);
    struct rvm_crypto copy_provider;
    rvm_openssl_crypto_bind(copying, &copy_provider);

    uint32_t a[8], b[8], c[8];
    rvm_sha256_iv(a);
    rvm_sha256_iv(b);
    rvm_sha256_iv(c);
    uint8_t block[64 * 3];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(block); i++) {
            block[i] = (uint8_t)(a[i % 8] >> (i % 24)); /* data depends on the chain, as in a log */
        }
        size_t n = (size_t)(round % 4);
        rvm_crypto_compress(&p->ossl, a, block, n);
        rvm_crypto_compress(&copy_provider, b, block, n);
        rvm_crypto_compress(&p->portable, c, block, n);
        assert_memory_equal(a, c, sizeof(a));
        assert_memory_equal(b, c, sizeof(b));
    }
    rvm_openssl_crypto_free(copying);
}

/* finish_aligned(state after k blocks, 64k) is SHA-256 of those k blocks, per OpenSSL. */
static void test_finish_aligned_matches_full_hash(void **state)
{
    struct providers *p = *state;
    uint8_t msg[64 * 5];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7 + 3);
    }
    for (size_t k = 0; k <= 5; k++) {
        uint32_t st[8];
        uint8_t got[32], ref[32];
        unsigned int ref_len;
        rvm_sha256_iv(st);
        rvm_crypto_compress(&p->portable, st, msg, k);
        rvm_sha256_finish_aligned(&p->portable, st, k * 64, got);
        EVP_Digest(msg, k * 64, ref, &ref_len, EVP_sha256(), NULL);
        assert_memory_equal(got, ref, 32);
    }
}

/* State serialisation is big-endian per word and round-trips. */
static void test_state_bytes_round_trip(void **state)
{
    (void)state;
    uint32_t st[8] = {0x01020304u, 0x05060708u, 0x090a0b0cu, 0x0d0e0f10u,
                      0x11121314u, 0x15161718u, 0x191a1b1cu, 0x1d1e1f20u};
    uint8_t bytes[32], expected[32];
    uint32_t back[8];
    for (int i = 0; i < 32; i++) {
        expected[i] = (uint8_t)(i + 1);
    }
    rvm_sha256_state_bytes(st, bytes);
    assert_memory_equal(bytes, expected, 32);
    rvm_sha256_state_from_bytes(bytes, back);
    assert_memory_equal(back, st, sizeof(st));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_nist_vectors),
        cmocka_unit_test(test_hmac_rfc4231_vectors),
        cmocka_unit_test(test_providers_agree_on_random_inputs),
        cmocka_unit_test(test_compress_agrees),
        cmocka_unit_test(test_openssl_in_place_and_copying_paths_agree),
        cmocka_unit_test(test_finish_aligned_matches_full_hash),
        cmocka_unit_test(test_state_bytes_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
