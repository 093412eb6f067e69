/* SPDX-License-Identifier: MIT */
/*
 * The witness module, function by function, including the refusal path, and the tamper
 * detection property exhaustively over every bit of a small log.
 *
 * Expected values never come from the code under test: record images are written out by hand,
 * digests and chain values come from OpenSSL (EVP one-shot digest and the SHA256_CTX state of an
 * independent OpenSSL hash of the same bytes) while the log itself runs on the portable provider.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "test_support.h"

#include "crypto_openssl.h"
#include "hal_sim.h"
#include "sink_memory.h"

#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"
#include "rvm/witness.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define RING_MAX 64

static const uint8_t test_key[32] = "witness-test-key-0123456789abcd";

struct fixture {
    struct rvm_crypto crypto; /* portable: the code under test */
    struct rvm_sim_hal sim;
    struct rvm_memory_sink sink;
    struct rvm_witness_log log;
    uint8_t ring[RING_MAX][RVM_WITNESS_RECORD_BYTES];
};

static struct fixture *fixture_new(uint32_t ring_capacity, uint64_t interval)
{
    struct fixture *f = calloc(1, sizeof(*f));
    rvm_crypto_portable(&f->crypto);
    rvm_sim_hal_init(&f->sim, &f->crypto);
    rvm_memory_sink_init(&f->sink, NULL);
    rvm_sim_hal_set_sink(&f->sim, &rvm_memory_sink_ops, &f->sink);
    struct rvm_witness_config cfg = {
        .ring = f->ring,
        .ring_capacity = ring_capacity,
        .checkpoint_interval = interval,
        .hmac_key = test_key,
        .hmac_key_len = sizeof(test_key),
    };
    assert_int_equal(rvm_witness_init(&f->log, &f->sim.hal, &cfg), RVM_OK);
    return f;
}

static void fixture_free(struct fixture *f)
{
    rvm_memory_sink_free(&f->sink);
    free(f);
}

static struct rvm_witness_entry entry_n(uint64_t n)
{
    struct rvm_witness_entry e = {
        .kind = (uint8_t)(RVM_ACT_CAP_GRANT + (n % 3)),
        .proof_tier = (uint8_t)(n % 4),
        .flags = (uint8_t)(0xA0 + n),
        .actor = (uint32_t)(n * 3 + 1),
        .target = 0x1122334455667700ull + n,
        .cap_hash = 0xC0DE0000u + (uint32_t)n,
        .payload = 0x0102030405060708ull * (n + 1),
        .aux = ~n,
    };
    return e;
}

static void append_n(struct fixture *f, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        struct rvm_witness_entry e = entry_n(f->log.appended);
        f->sim.now_ns += 10;
        assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_OK);
    }
}

/* OpenSSL's SHA256_CTX after absorbing `count` records: an independent chain value. */
static void openssl_chain(const uint8_t *images, uint64_t count, uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, images, count * RVM_WITNESS_RECORD_BYTES);
    for (int i = 0; i < 8; i++) {
        rvm_store_be32(out + 4 * i, c.h[i]);
    }
}

static void openssl_digest(const uint8_t *images, uint64_t count, uint8_t out[32])
{
    unsigned int len;
    EVP_Digest(images, count * RVM_WITNESS_RECORD_BYTES, out, &len, EVP_sha256(), NULL);
}

/* ---- encoding ---------------------------------------------------------------------------------
 */

static void test_encode_matches_hand_written_layout(void **state)
{
    (void)state;
    struct rvm_witness_record r = {
        .sequence = 0x0807060504030201ull,
        .timestamp_ns = 0x100f0e0d0c0b0a09ull,
        .kind = 0x11,
        .proof_tier = 0x12,
        .flags = 0x13,
        .actor = 0x17161514u,
        .target = 0x1f1e1d1c1b1a1918ull,
        .cap_hash = 0x23222120u,
        .payload = 0x2b2a292827262524ull,
        .prev_link = {0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33},
        .aux = 0x3b3a393837363534ull,
    };
    /* Written out by hand from the layout table in docs/witness-format.md. */
    static const uint8_t expected[64] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* 0  sequence, LE */
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, /* 8  timestamp_ns, LE */
        0x11, 0x12, 0x13, 0x00,                         /* 16 kind, tier, flags, reserved */
        0x14, 0x15, 0x16, 0x17,                         /* 20 actor, LE */
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, /* 24 target, LE */
        0x20, 0x21, 0x22, 0x23,                         /* 32 capability hash, LE */
        0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, /* 36 payload, LE */
        0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, /* 44 prev_link, as given */
        0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, /* 52 aux, LE */
        0x00, 0x00, 0x00, 0x00,                         /* 60 reserved */
    };
    uint8_t got[64];
    rvm_witness_encode(&r, got);
    assert_memory_equal(got, expected, 64);
}

static void test_decode_round_trip_and_reserved(void **state)
{
    (void)state;
    struct rvm_witness_record r = {.sequence = 42,
                                   .timestamp_ns = 7,
                                   .kind = RVM_ACT_IPC_SEND,
                                   .proof_tier = 2,
                                   .flags = 9,
                                   .actor = 5,
                                   .target = 99,
                                   .cap_hash = 0xabcdef01u,
                                   .payload = 123456789,
                                   .aux = 77};
    memcpy(r.prev_link, "ABCDEFGH", 8);
    uint8_t img[64];
    struct rvm_witness_record back;
    rvm_witness_encode(&r, img);
    assert_true(rvm_witness_decode(img, &back));
    assert_memory_equal(&back.prev_link, r.prev_link, 8);
    assert_int_equal(back.sequence, 42);
    assert_int_equal(back.timestamp_ns, 7);
    assert_int_equal(back.kind, RVM_ACT_IPC_SEND);
    assert_int_equal(back.proof_tier, 2);
    assert_int_equal(back.flags, 9);
    assert_int_equal(back.actor, 5);
    assert_int_equal(back.target, 99);
    assert_int_equal(back.cap_hash, 0xabcdef01u);
    assert_int_equal(back.payload, 123456789);
    assert_int_equal(back.aux, 77);

    img[19] = 1;
    assert_false(rvm_witness_decode(img, &back));
    img[19] = 0;
    img[63] = 0x80;
    assert_false(rvm_witness_decode(img, &back));
}

static void test_checkpoint_message_layout(void **state)
{
    (void)state;
    struct rvm_witness_checkpoint cp;
    memset(&cp, 0xEE, sizeof(cp));
    cp.seal = false;
    cp.sequence = 0x0102030405060708ull;
    for (int i = 0; i < 32; i++) {
        cp.digest[i] = (uint8_t)(0x40 + i);
    }
    uint8_t msg[RVM_WITNESS_MSG_MAX], expected[40] = {8, 7, 6, 5, 4, 3, 2, 1};
    for (int i = 0; i < 32; i++) {
        expected[8 + i] = (uint8_t)(0x40 + i);
    }
    assert_int_equal(rvm_witness_checkpoint_message(&cp, msg), 40);
    assert_memory_equal(msg, expected, 40);
}

/* docs/witness-format.md §3: "rvm-seal" || LE64(sequence) || digest || LE64(sequence + 1). */
static void test_seal_message_layout(void **state)
{
    (void)state;
    struct rvm_witness_checkpoint cp;
    memset(&cp, 0xEE, sizeof(cp));
    cp.seal = true;
    cp.sequence = 0x0102030405060708ull;
    for (int i = 0; i < 32; i++) {
        cp.digest[i] = (uint8_t)(0x40 + i);
    }
    uint8_t msg[RVM_WITNESS_MSG_MAX];
    uint8_t expected[56] = {'r', 'v', 'm', '-', 's', 'e', 'a', 'l', 8, 7, 6, 5, 4, 3, 2, 1};
    for (int i = 0; i < 32; i++) {
        expected[16 + i] = (uint8_t)(0x40 + i);
    }
    const uint8_t count[8] = {9, 7, 6, 5, 4, 3, 2, 1};
    memcpy(expected + 48, count, 8);
    assert_int_equal(rvm_witness_checkpoint_message(&cp, msg), 56);
    assert_memory_equal(msg, expected, 56);
}

/* ---- init -------------------------------------------------------------------------------------
 */

static void test_init_rejects_bad_configuration(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    uint8_t ring[8][64];
    uint8_t long_key[RVM_WITNESS_HMAC_KEY_MAX + 1] = {0};
    rvm_crypto_portable(&crypto);
    rvm_sim_hal_init(&sim, &crypto);

    struct rvm_witness_config good = {.ring = ring, .ring_capacity = 8};
    struct rvm_witness_config c;

    assert_int_equal(rvm_witness_init(NULL, &sim.hal, &good), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_witness_init(&log, NULL, &good), RVM_ERR_INVALID_ARGUMENT);
    assert_int_equal(rvm_witness_init(&log, &sim.hal, NULL), RVM_ERR_INVALID_ARGUMENT);
    c = good, c.ring = NULL;
    assert_int_equal(rvm_witness_init(&log, &sim.hal, &c), RVM_ERR_INVALID_ARGUMENT);
    uint32_t bad_caps[] = {0, 1, 3, 6, 7};
    for (size_t i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
        c = good, c.ring_capacity = bad_caps[i];
        assert_int_equal(rvm_witness_init(&log, &sim.hal, &c), RVM_ERR_INVALID_ARGUMENT);
    }
    c = good, c.hmac_key = long_key, c.hmac_key_len = sizeof(long_key);
    assert_int_equal(rvm_witness_init(&log, &sim.hal, &c), RVM_ERR_INVALID_ARGUMENT);
    c = good, c.hmac_key = NULL, c.hmac_key_len = 4;
    assert_int_equal(rvm_witness_init(&log, &sim.hal, &c), RVM_ERR_INVALID_ARGUMENT);
    c = good, c.hmac_key = long_key, c.hmac_key_len = RVM_WITNESS_HMAC_KEY_MAX;
    assert_int_equal(rvm_witness_init(&log, &sim.hal, &c), RVM_OK);
    assert_int_equal(rvm_witness_init(&log, &sim.hal, &good), RVM_OK);
}

static void test_empty_log_digest_and_chain(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    uint8_t digest[32], chain[32], expected[32];
    assert_int_equal(rvm_witness_count(&f->log), 0);
    assert_int_equal(rvm_witness_pending(&f->log), 0);
    rvm_witness_digest(&f->log, digest);
    hex_decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", expected, 32);
    assert_memory_equal(digest, expected, 32);
    rvm_witness_chain_value(&f->log, chain);
    hex_decode("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19", expected, 32);
    assert_memory_equal(chain, expected, 32);
    fixture_free(f);
}

/* ---- append -----------------------------------------------------------------------------------
 */

static void test_append_fills_fields_and_links(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    uint64_t seq = 999;

    for (uint64_t i = 0; i < 20; i++) {
        struct rvm_witness_entry e = entry_n(i);
        f->sim.now_ns = 1000 + 5 * i;
        assert_int_equal(rvm_witness_append(&f->log, &e, &seq), RVM_OK);
        assert_int_equal(seq, i);
    }
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_int_equal(f->sink.count, 20);
    assert_false(f->sink.out_of_order);

    for (uint64_t i = 0; i < 20; i++) {
        const uint8_t *img = f->sink.records + i * 64;
        struct rvm_witness_entry e = entry_n(i);
        uint8_t link[32];
        assert_int_equal(rvm_load_le64(img + 0), i);
        assert_int_equal(rvm_load_le64(img + 8), 1000 + 5 * i);
        assert_int_equal(img[16], e.kind);
        assert_int_equal(img[17], e.proof_tier);
        assert_int_equal(img[18], e.flags);
        assert_int_equal(img[19], 0);
        assert_int_equal(rvm_load_le32(img + 20), e.actor);
        assert_int_equal(rvm_load_le64(img + 24), e.target);
        assert_int_equal(rvm_load_le32(img + 32), e.cap_hash);
        assert_int_equal(rvm_load_le64(img + 36), e.payload);
        assert_int_equal(rvm_load_le64(img + 52), e.aux);
        assert_int_equal(rvm_load_le32(img + 60), 0);
        if (i == 0) {
            memset(link, 0, 8);
        } else {
            openssl_chain(f->sink.records, i, link);
        }
        assert_memory_equal(img + 44, link, 8);
    }

    uint8_t got[32], expected[32];
    rvm_witness_digest(&f->log, got);
    openssl_digest(f->sink.records, 20, expected);
    assert_memory_equal(got, expected, 32);
    rvm_witness_chain_value(&f->log, got);
    openssl_chain(f->sink.records, 20, expected);
    assert_memory_equal(got, expected, 32);
    fixture_free(f);
}

static void test_append_timestamp_never_goes_backwards(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    struct rvm_witness_entry e = entry_n(0);
    f->sim.now_ns = 500;
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_OK);
    f->sim.now_ns = 100; /* a misbehaving clock */
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_OK);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_int_equal(rvm_load_le64(f->sink.records + 64 + 8), 500);
    fixture_free(f);
}

/* The refusal path: a stalled sink and a full ring refuse the append and change nothing. */
static void test_append_refused_when_ring_full_and_sink_stalled(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4, 0);
    f->sim.drain_limit = 0; /* sink stalled */
    append_n(f, 4);

    struct rvm_witness_log before = f->log;
    uint8_t ring_before[4][64];
    memcpy(ring_before, f->ring, sizeof(ring_before));

    struct rvm_witness_entry e = entry_n(4);
    uint64_t seq = 12345;
    assert_int_equal(rvm_witness_append(&f->log, &e, &seq), RVM_ERR_WITNESS_FULL);
    assert_int_equal(seq, 12345);
    assert_int_equal(f->log.appended, before.appended);
    assert_int_equal(f->log.drained, before.drained);
    assert_memory_equal(f->log.chain, before.chain, sizeof(before.chain));
    assert_memory_equal(f->ring, ring_before, sizeof(ring_before));
    assert_int_equal(f->log.refused, 1);
    assert_int_equal(f->sink.count, 0);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_ERR_WITNESS_FULL);

    /* The sink recovers: the same append now succeeds and nothing was lost. */
    f->sim.drain_limit = UINT64_MAX;
    assert_int_equal(rvm_witness_append(&f->log, &e, &seq), RVM_OK);
    assert_int_equal(seq, 4);
    assert_int_equal(f->sink.count, 4);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_int_equal(f->sink.count, 5);
    assert_false(f->sink.out_of_order);
    fixture_free(f);
}

/* The records a stalled sink has not taken can be read out of the ring, and only those. */
static void test_undrained_records_are_readable(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4, 0);
    append_n(f, 2);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK); /* 0 and 1 taken */
    f->sim.drain_limit = 0;                               /* then the sink stalls */
    append_n(f, 3);                                       /* 2, 3, 4 stay in the ring */
    assert_null(rvm_witness_undrained(&f->log, 0));
    assert_null(rvm_witness_undrained(&f->log, 1));
    for (uint64_t seq = 2; seq < 5; seq++) {
        const uint8_t *img = rvm_witness_undrained(&f->log, seq);
        assert_non_null(img);
        uint64_t got = 0;
        for (int i = 7; i >= 0; i--) {
            got = got << 8 | img[i]; /* the sequence field, offset 0, little-endian */
        }
        assert_int_equal(got, seq);
    }
    assert_null(rvm_witness_undrained(&f->log, 5));
    assert_null(rvm_witness_undrained(&f->log, UINT64_MAX));
    fixture_free(f);
}

/* With no sink at all, the ring is the limit. */
static void test_append_without_sink_refuses_at_capacity(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    rvm_sim_hal_set_sink(&f->sim, NULL, NULL);
    append_n(f, 8);
    struct rvm_witness_entry e = entry_n(8);
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(rvm_witness_count(&f->log), 8);
    assert_int_equal(rvm_witness_pending(&f->log), 8);
    fixture_free(f);
}

/* A sink that takes one record per call still keeps order across ring wrap-around. */
static void test_partial_drains_keep_order_across_wrap(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4, 0);
    f->sim.drain_limit = 1;
    append_n(f, 37);
    f->sim.drain_limit = 3;
    for (int i = 0; i < 10 && rvm_witness_pending(&f->log) != 0; i++) {
        (void)rvm_witness_flush(&f->log);
    }
    assert_int_equal(rvm_witness_pending(&f->log), 0);
    assert_int_equal(f->sink.count, 37);
    assert_false(f->sink.out_of_order);
    for (uint64_t i = 0; i < 37; i++) {
        assert_int_equal(rvm_load_le64(f->sink.records + i * 64), i);
    }
    uint8_t got[32], expected[32];
    rvm_witness_digest(&f->log, got);
    openssl_digest(f->sink.records, 37, expected);
    assert_memory_equal(got, expected, 32);
    fixture_free(f);
}

/* ---- reserve ----------------------------------------------------------------------------------
 */

static void test_reserve(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    assert_int_equal(rvm_witness_reserve(&f->log, 9), RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(rvm_witness_reserve(&f->log, 8), RVM_OK);
    assert_int_equal(rvm_witness_reserve(&f->log, 0), RVM_OK);

    f->sim.drain_limit = 0;
    append_n(f, 6);
    assert_int_equal(rvm_witness_reserve(&f->log, 3), RVM_ERR_WITNESS_FULL);
    assert_int_equal(f->log.refused, 1);
    assert_int_equal(rvm_witness_reserve(&f->log, 2), RVM_OK);
    append_n(f, 2); /* guaranteed to succeed although the sink is stalled */
    assert_int_equal(rvm_witness_count(&f->log), 8);

    f->sim.drain_limit = UINT64_MAX;
    assert_int_equal(rvm_witness_reserve(&f->log, 8), RVM_OK);
    assert_int_equal(f->sink.count, 8);
    fixture_free(f);

    /* A checkpoint every record: a reservation of more records than the checkpoint queue has
     * slots can never be met, however healthy the sink, so it is out of range, not "full". */
    f = fixture_new(16, 1);
    assert_int_equal(rvm_witness_reserve(&f->log, RVM_WITNESS_CHECKPOINT_SLOTS), RVM_OK);
    assert_int_equal(rvm_witness_reserve(&f->log, RVM_WITNESS_CHECKPOINT_SLOTS + 1),
                     RVM_ERR_OUT_OF_RANGE);
    assert_int_equal(f->log.refused, 0);
    fixture_free(f);
}

/* ---- checkpoints ------------------------------------------------------------------------------
 */

static void expect_checkpoint(const struct rvm_memory_sink *sink, uint64_t index, uint64_t seq)
{
    const struct rvm_witness_checkpoint *cp = &sink->checkpoints[index].cp;
    uint8_t digest[32], chain[32], msg[56], mac[32];
    unsigned int mac_len;
    assert_int_equal(cp->sequence, seq);
    openssl_digest(sink->records, seq + 1, digest);
    openssl_chain(sink->records, seq + 1, chain);
    assert_memory_equal(cp->digest, digest, 32);
    assert_memory_equal(cp->chain, chain, 32);
    size_t len = 40;
    if (!cp->seal) {
        rvm_store_le64(msg, seq);
        memcpy(msg + 8, digest, 32);
    } else { /* docs/witness-format.md §3 */
        memcpy(msg, "rvm-seal", 8);
        rvm_store_le64(msg + 8, seq);
        memcpy(msg + 16, digest, 32);
        rvm_store_le64(msg + 48, seq + 1);
        len = 56;
    }
    HMAC(EVP_sha256(), test_key, sizeof(test_key), msg, len, mac, &mac_len);
    assert_memory_equal(cp->hmac, mac, 32);
}

static void test_periodic_checkpoints_and_seal(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4, 3);
    struct rvm_witness_checkpoint sealed;

    assert_int_equal(rvm_witness_seal(&f->log, &sealed), RVM_ERR_WRONG_STATE);
    append_n(f, 7); /* checkpoints due after records 3 and 6 => sequences 2 and 5 */
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 2);
    expect_checkpoint(&f->sink, 0, 2);
    expect_checkpoint(&f->sink, 1, 5);

    assert_int_equal(rvm_witness_seal(&f->log, &sealed), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 3);
    expect_checkpoint(&f->sink, 2, 6);
    assert_memory_equal(&sealed, &f->sink.checkpoints[2].cp, sizeof(sealed));

    /* Sealing exactly on a periodic checkpoint does not emit a duplicate. */
    append_n(f, 2); /* 9 records: periodic checkpoint at seq 8 */
    assert_int_equal(rvm_witness_seal(&f->log, &sealed), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 4);
    expect_checkpoint(&f->sink, 3, 8);
    assert_int_equal(sealed.sequence, 8);
    fixture_free(f);
}

/* Checkpoints are never handed over before the records they cover. */
static void test_checkpoint_waits_for_its_records(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 2);
    f->sim.drain_limit = 0;
    append_n(f, 2);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_ERR_WITNESS_FULL);
    assert_int_equal(f->sink.ncheckpoints, 0);
    f->sim.drain_limit = 1;
    (void)rvm_witness_flush(&f->log);
    assert_int_equal(f->sink.count, 1);
    assert_int_equal(f->sink.ncheckpoints, 0);
    (void)rvm_witness_flush(&f->log);
    assert_int_equal(f->sink.count, 2);
    assert_int_equal(f->sink.ncheckpoints, 1);
    fixture_free(f);
}

/* When the sink refuses checkpoints, the bounded checkpoint queue fills and appends that would
 * need another checkpoint are refused rather than dropping one. */
/* A seal refused because the sink is stalled can be retried without duplicating the checkpoint,
 * and a seal with nothing new to cover adds nothing. */
static void test_seal_retry_is_idempotent(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    append_n(f, 3);
    f->sim.checkpoint_stalled = true;
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(f->log.pending_count, 1);
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(f->log.pending_count, 1); /* not queued twice */
    f->sim.checkpoint_stalled = false;
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 1);
    expect_checkpoint(&f->sink, 0, 2);
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 1);
    append_n(f, 1); /* a new record: the next seal covers it */
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 2);
    expect_checkpoint(&f->sink, 1, 3);
    fixture_free(f);
}

static void test_checkpoint_queue_full_refuses(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(16, 1);
    f->sim.checkpoint_stalled = true;
    append_n(f, RVM_WITNESS_CHECKPOINT_SLOTS);
    struct rvm_witness_entry e = entry_n(9);
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_ERR_WITNESS_FULL);
    assert_int_equal(rvm_witness_count(&f->log), RVM_WITNESS_CHECKPOINT_SLOTS);
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_ERR_WITNESS_FULL);
    f->sim.checkpoint_stalled = false;
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_OK);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, RVM_WITNESS_CHECKPOINT_SLOTS + 1);
    for (uint64_t i = 0; i <= RVM_WITNESS_CHECKPOINT_SLOTS; i++) {
        expect_checkpoint(&f->sink, i, i);
    }
    fixture_free(f);
}

/* ---- verification -----------------------------------------------------------------------------
 */

struct sealed_log {
    uint8_t *images;
    uint64_t count;
    struct rvm_witness_checkpoint *cps;
    uint64_t ncps;
};

static struct sealed_log make_sealed_log(uint64_t count, uint64_t interval)
{
    struct fixture *f = fixture_new(8, interval);
    append_n(f, count);
    assert_int_equal(rvm_witness_close(&f->log, NULL), RVM_OK);
    struct sealed_log s = {.count = count, .ncps = f->sink.ncheckpoints};
    s.images = malloc(count * 64);
    memcpy(s.images, f->sink.records, count * 64);
    s.cps = malloc(s.ncps * sizeof(*s.cps));
    for (uint64_t i = 0; i < s.ncps; i++) {
        s.cps[i] = f->sink.checkpoints[i].cp;
    }
    fixture_free(f);
    return s;
}

static void free_sealed_log(struct sealed_log *s)
{
    free(s->images);
    free(s->cps);
}

static struct rvm_witness_verify_result verify(const struct sealed_log *s, const uint8_t *images,
                                               uint64_t count,
                                               const struct rvm_witness_checkpoint *cps)
{
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    return rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, images, count, cps,
                                  s->ncps, true);
}

static void test_verify_record_each_error(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(4, 0);
    struct rvm_crypto crypto;
    struct rvm_witness_verifier v;
    uint8_t img[64];
    rvm_crypto_portable(&crypto);
    rvm_witness_verifier_init(&v, &crypto, test_key, sizeof(test_key));

    assert_int_equal(rvm_witness_verify_record(&v, s.images + 64), RVM_ERR_WITNESS_SEQUENCE);
    memcpy(img, s.images, 64);
    img[19] = 1;
    assert_int_equal(rvm_witness_verify_record(&v, img), RVM_ERR_WITNESS_RESERVED);
    memcpy(img, s.images, 64);
    img[44] ^= 1; /* genesis link must be zero */
    assert_int_equal(rvm_witness_verify_record(&v, img), RVM_ERR_WITNESS_LINK);
    assert_int_equal(v.next_seq, 0); /* failures leave the verifier unchanged */
    assert_int_equal(rvm_witness_verify_record(&v, s.images), RVM_OK);

    memcpy(img, s.images + 64, 64);
    rvm_store_le64(img + 8, 0); /* earlier than record 0's timestamp (10) */
    assert_int_equal(rvm_witness_verify_record(&v, img), RVM_ERR_WITNESS_TIME);
    memcpy(img, s.images + 64, 64);
    img[50] ^= 0x40;
    assert_int_equal(rvm_witness_verify_record(&v, img), RVM_ERR_WITNESS_LINK);
    assert_int_equal(rvm_witness_verify_record(&v, s.images + 64), RVM_OK);

    uint8_t digest[32], expected[32];
    rvm_witness_verifier_digest(&v, digest);
    openssl_digest(s.images, 2, expected);
    assert_memory_equal(digest, expected, 32);
    free_sealed_log(&s);
}

static void test_verify_checkpoint_each_error(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(6, 3); /* checkpoints at 2 and 5 */
    struct rvm_crypto crypto;
    struct rvm_witness_verifier v;
    struct rvm_witness_checkpoint cp;
    rvm_crypto_portable(&crypto);
    rvm_witness_verifier_init(&v, &crypto, test_key, sizeof(test_key));

    assert_int_equal(rvm_witness_verify_checkpoint(&v, &s.cps[0]), RVM_ERR_WITNESS_TRUNCATED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rvm_witness_verify_record(&v, s.images + 64 * i), RVM_OK);
    }
    assert_int_equal(rvm_witness_verify_checkpoint(&v, &s.cps[1]), RVM_ERR_WITNESS_TRUNCATED);
    assert_int_equal(rvm_witness_verify_checkpoint(&v, &s.cps[0]), RVM_OK);
    cp = s.cps[0];
    cp.hmac[31] ^= 1;
    assert_int_equal(rvm_witness_verify_checkpoint(&v, &cp), RVM_ERR_WITNESS_CHECKPOINT);
    cp = s.cps[0];
    cp.chain[0] ^= 1;
    assert_int_equal(rvm_witness_verify_checkpoint(&v, &cp), RVM_ERR_WITNESS_DIGEST);
    assert_int_equal(rvm_witness_verify_record(&v, s.images + 64 * 3), RVM_OK);
    assert_int_equal(rvm_witness_verify_checkpoint(&v, &s.cps[0]), RVM_ERR_INVALID_ARGUMENT);

    /* The standalone check: HMAC, then chain/digest binding, then range. */
    assert_int_equal(rvm_witness_checkpoint_check(&crypto, test_key, sizeof(test_key), &s.cps[1]),
                     RVM_OK);
    cp = s.cps[1];
    cp.digest[5] ^= 2;
    assert_int_equal(rvm_witness_checkpoint_check(&crypto, test_key, sizeof(test_key), &cp),
                     RVM_ERR_WITNESS_CHECKPOINT);
    cp = s.cps[1];
    cp.chain[5] ^= 2; /* chain is not under the HMAC, but must finalise to the signed digest */
    assert_int_equal(rvm_witness_checkpoint_check(&crypto, test_key, sizeof(test_key), &cp),
                     RVM_ERR_WITNESS_DIGEST);
    assert_int_equal(
        rvm_witness_checkpoint_check(&crypto, (const uint8_t *)"wrong key", 9, &s.cps[1]),
        RVM_ERR_WITNESS_CHECKPOINT);
    free_sealed_log(&s);
}

static void test_verify_log_from_genesis_and_from_checkpoints(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(10, 4); /* checkpoints at 3, 7, and the seal at 9 */
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    assert_int_equal(s.ncps, 3);

    struct rvm_witness_verify_result r = verify(&s, s.images, s.count, s.cps);
    assert_int_equal(r.err, RVM_OK);

    /* Resume from each checkpoint and verify only the rest. */
    for (uint64_t c = 0; c < s.ncps; c++) {
        uint64_t first = s.cps[c].sequence + 1;
        r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), &s.cps[c], first,
                                   s.images + first * 64, s.count - first, s.cps, s.ncps, true);
        assert_int_equal(r.err, RVM_OK);
    }
    /* A resumed verification catches a change after the checkpoint... */
    s.images[8 * 64 + 30] ^= 4;
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), &s.cps[0], 4, s.images + 4 * 64,
                               6, s.cps, s.ncps, true);
    assert_int_not_equal(r.err, RVM_OK);
    s.images[8 * 64 + 30] ^= 4;
    /* ...and rejects a forged starting checkpoint or a misaligned range. */
    struct rvm_witness_checkpoint forged = s.cps[0];
    forged.sequence = 2;
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), &forged, 3, s.images + 3 * 64,
                               7, s.cps, s.ncps, true);
    assert_int_equal(r.err, RVM_ERR_WITNESS_CHECKPOINT);
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), &s.cps[0], 5, s.images + 5 * 64,
                               5, s.cps, s.ncps, true);
    assert_int_equal(r.err, RVM_ERR_INVALID_ARGUMENT);
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 1, s.images + 64, 9,
                               s.cps, s.ncps, true);
    assert_int_equal(r.err, RVM_ERR_INVALID_ARGUMENT);

    /* Unsealed logs are accepted only when sealing is not required. */
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, s.images, 9, s.cps, 2,
                               true);
    assert_int_equal(r.err, RVM_ERR_WITNESS_UNSEALED);
    assert_int_equal(r.bad_sequence, 8);
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, s.images, 9, s.cps, 2,
                               false);
    assert_int_equal(r.err, RVM_OK);

    /* Checkpoints out of order are an error, not silently skipped. */
    struct rvm_witness_checkpoint swapped[3] = {s.cps[1], s.cps[0], s.cps[2]};
    r = verify(&s, s.images, s.count, swapped);
    assert_int_not_equal(r.err, RVM_OK);
    free_sealed_log(&s);
}

/* The final checkpoint is queued even where a periodic one ends, exactly once, and says so. */
static void test_close_queues_one_seal(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 4);
    struct rvm_witness_checkpoint out;
    assert_int_equal(rvm_witness_close(&f->log, &out), RVM_ERR_WRONG_STATE);
    append_n(f, 8);                                            /* periodic checkpoints at 3 and 7 */
    assert_int_equal(rvm_witness_seal(&f->log, NULL), RVM_OK); /* covered: nothing new */
    assert_int_equal(f->sink.ncheckpoints, 2);
    assert_int_equal(rvm_witness_close(&f->log, &out), RVM_OK);
    assert_int_equal(f->sink.ncheckpoints, 3);
    expect_checkpoint(&f->sink, 2, 7);
    assert_false(f->sink.checkpoints[1].cp.seal);
    assert_true(f->sink.checkpoints[2].cp.seal);
    assert_memory_equal(&out, &f->sink.checkpoints[2].cp, sizeof(out));
    assert_int_equal(rvm_witness_close(&f->log, NULL), RVM_OK); /* a retry adds nothing */
    assert_int_equal(f->sink.ncheckpoints, 3);
    /* the seal's MAC is over its own message, not the periodic one's */
    uint8_t msg[RVM_WITNESS_MSG_MAX], mac[32];
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    size_t len = rvm_witness_checkpoint_message(&out, msg);
    assert_int_equal(len, RVM_WITNESS_SEAL_MSG_LEN);
    rvm_crypto_hmac(&crypto, test_key, sizeof(test_key), msg, len, mac);
    assert_memory_equal(mac, out.hmac, 32);
    struct rvm_witness_entry e = entry_n(9);
    assert_int_equal(rvm_witness_append(&f->log, &e, NULL), RVM_OK);
    assert_int_equal(rvm_witness_close(&f->log, NULL), RVM_ERR_WRONG_STATE);
    fixture_free(f);
}

/* A log cut at ANY checkpoint (its checkpoints up to there kept, every MAC valid) is unsealed,
 * never sealed; a periodic checkpoint relabelled as the seal fails its MAC; anything after the
 * seal is tampering. */
static void test_truncation_at_every_checkpoint_is_unsealed(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(23, 3); /* 2, 5, ..., 20, then the seal at 22 */
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    assert_int_equal(s.ncps, 8);
    assert_int_equal(verify(&s, s.images, s.count, s.cps).err, RVM_OK);
    for (uint64_t c = 0; c + 1 < s.ncps; c++) {
        uint64_t kept = s.cps[c].sequence + 1;
        struct rvm_witness_verify_result r = rvm_witness_verify_log(
            &crypto, test_key, sizeof(test_key), NULL, 0, s.images, kept, s.cps, c + 1, true);
        assert_int_equal(r.err, RVM_ERR_WITNESS_UNSEALED);
        assert_int_equal(r.bad_sequence, kept - 1);
        r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, s.images, kept,
                                   s.cps, c + 1, false);
        assert_int_equal(r.err, RVM_OK); /* every record present verifies */
        struct rvm_witness_checkpoint forged[8];
        memcpy(forged, s.cps, (c + 1) * sizeof(forged[0]));
        forged[c].seal = true;
        r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, s.images, kept,
                                   forged, c + 1, true);
        assert_int_equal(r.err, RVM_ERR_WITNESS_CHECKPOINT);
    }
    /* every record kept, the seal deleted */
    struct rvm_witness_verify_result r = rvm_witness_verify_log(
        &crypto, test_key, sizeof(test_key), NULL, 0, s.images, s.count, s.cps, s.ncps - 1, true);
    assert_int_equal(r.err, RVM_ERR_WITNESS_UNSEALED);
    free_sealed_log(&s);

    /* records appended after the seal */
    struct fixture *f = fixture_new(16, 0);
    append_n(f, 3);
    assert_int_equal(rvm_witness_close(&f->log, NULL), RVM_OK);
    append_n(f, 2);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, f->sink.records, 5,
                               &f->sink.checkpoints[0].cp, 1, true);
    assert_int_equal(r.err, RVM_ERR_WITNESS_AFTER_SEAL);
    assert_int_equal(r.bad_sequence, 3);
    fixture_free(f);
}

/* Every single-bit flip in every record of a sealed log is detected. */
static void test_tamper_every_bit_of_every_record(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(12, 4);
    uint64_t detected = 0, total = 0;
    for (uint64_t byte = 0; byte < s.count * 64; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            s.images[byte] ^= (uint8_t)(1u << bit);
            struct rvm_witness_verify_result r = verify(&s, s.images, s.count, s.cps);
            s.images[byte] ^= (uint8_t)(1u << bit);
            total++;
            if (r.err != RVM_OK) {
                detected++;
            } else {
                fail_msg("flip of bit %d in byte %llu (record %llu offset %llu) not detected", bit,
                         (unsigned long long)byte, (unsigned long long)(byte / 64),
                         (unsigned long long)(byte % 64));
            }
        }
    }
    assert_int_equal(detected, total);
    assert_int_equal(total, 12 * 64 * 8);
    assert_int_equal(verify(&s, s.images, s.count, s.cps).err, RVM_OK);
    free_sealed_log(&s);
}

/* Every single-bit flip in any checkpoint is detected. */
static void test_tamper_every_bit_of_every_checkpoint(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(12, 4);
    assert_int_equal(s.ncps, 4); /* 3, 7, 11 and the seal at 11 */
    for (uint64_t c = 0; c < s.ncps; c++) {
        /* the seal flag is under the MAC: flipping it either way is detected */
        s.cps[c].seal = !s.cps[c].seal;
        if (verify(&s, s.images, s.count, s.cps).err == RVM_OK) {
            fail_msg("checkpoint %llu: flipping its seal flag was not detected",
                     (unsigned long long)c);
        }
        s.cps[c].seal = !s.cps[c].seal;
        uint8_t *raw = (uint8_t *)&s.cps[c];
        /* Bytes of the struct that carry data: sequence, digest, chain, hmac. */
        size_t fields[][2] = {
            {offsetof(struct rvm_witness_checkpoint, sequence), 8},
            {offsetof(struct rvm_witness_checkpoint, digest), 32},
            {offsetof(struct rvm_witness_checkpoint, chain), 32},
            {offsetof(struct rvm_witness_checkpoint, hmac), 32},
        };
        for (size_t fi = 0; fi < 4; fi++) {
            for (size_t b = 0; b < fields[fi][1]; b++) {
                for (int bit = 0; bit < 8; bit++) {
                    raw[fields[fi][0] + b] ^= (uint8_t)(1u << bit);
                    struct rvm_witness_verify_result r = verify(&s, s.images, s.count, s.cps);
                    raw[fields[fi][0] + b] ^= (uint8_t)(1u << bit);
                    if (r.err == RVM_OK) {
                        fail_msg("checkpoint %llu field %zu byte %zu bit %d flip not detected",
                                 (unsigned long long)c, fi, b, bit);
                    }
                }
            }
        }
    }
    free_sealed_log(&s);
}

/* Dropping, duplicating, swapping, truncating and inserting records are all detected, including
 * an insertion whose links an attacker recomputed without knowing the key. */
static void test_tamper_structural_edits(void **state)
{
    (void)state;
    struct sealed_log s = make_sealed_log(12, 4);
    uint8_t *buf = malloc((s.count + 1) * 64);

    for (uint64_t drop = 0; drop < s.count; drop++) {
        memcpy(buf, s.images, drop * 64);
        memcpy(buf + drop * 64, s.images + (drop + 1) * 64, (s.count - drop - 1) * 64);
        assert_int_not_equal(verify(&s, buf, s.count - 1, s.cps).err, RVM_OK);
    }
    for (uint64_t dup = 0; dup < s.count; dup++) {
        memcpy(buf, s.images, (dup + 1) * 64);
        memcpy(buf + (dup + 1) * 64, s.images + dup * 64, (s.count - dup) * 64);
        assert_int_not_equal(verify(&s, buf, s.count + 1, s.cps).err, RVM_OK);
    }
    for (uint64_t i = 0; i + 1 < s.count; i++) {
        memcpy(buf, s.images, s.count * 64);
        memcpy(buf + i * 64, s.images + (i + 1) * 64, 64);
        memcpy(buf + (i + 1) * 64, s.images + i * 64, 64);
        assert_int_not_equal(verify(&s, buf, s.count, s.cps).err, RVM_OK);
    }
    for (uint64_t keep = 0; keep < s.count; keep++) {
        assert_int_not_equal(verify(&s, s.images, keep, s.cps).err, RVM_OK);
    }

    /* Forgery: rewrite the log from record 5 with a different payload and recompute every
     * sequence number and link. Without the key the checkpoints give it away. */
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    memcpy(buf, s.images, s.count * 64);
    rvm_store_le64(buf + 5 * 64 + 36, 0xBADBADBADull);
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, buf, 6 * 64);
    for (uint64_t i = 6; i < s.count; i++) {
        for (int w = 0; w < 2; w++) {
            rvm_store_be32(buf + i * 64 + 44 + 4 * w, c.h[w]);
        }
        SHA256_Update(&c, buf + i * 64, 64);
    }
    struct rvm_witness_verify_result r = verify(&s, buf, s.count, s.cps);
    assert_int_equal(r.err, RVM_ERR_WITNESS_DIGEST);
    assert_int_equal(r.bad_sequence, 7); /* the first checkpoint after the forgery */
    /* Without checkpoints the forged chain is internally consistent: that is why logs are
     * sealed and why verification of a stored run requires the seal. */
    r = rvm_witness_verify_log(&crypto, test_key, sizeof(test_key), NULL, 0, buf, s.count, NULL, 0,
                               false);
    assert_int_equal(r.err, RVM_OK);
    free(buf);
    free_sealed_log(&s);
}

/* The rejection record's layout, byte by byte. */
static void test_reject_record_layout(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8, 0);
    f->sim.now_ns = 77;
    struct rvm_witness_rejection r = {.actor = 9,
                                      .target = 0x0000000300000005ull,
                                      .attempted_kind = RVM_ACT_CAP_GRANT,
                                      .stage = RVM_STAGE_P2,
                                      .passed_tier = RVM_PROOF_P1,
                                      .cap_hash = 0x12345678u,
                                      .err = RVM_ERR_PROOF_NONCE};
    assert_int_equal(rvm_witness_reject(&f->log, &r), RVM_OK);
    assert_int_equal(rvm_witness_flush(&f->log), RVM_OK);
    const uint8_t *img = f->sink.records;
    static const uint8_t expected_16_to_44[28] = {
        0x53, 0x01, 0x03, 0x00,                         /* ProofRejected, P1 passed, stage P2 */
        0x09, 0x00, 0x00, 0x00,                         /* actor 9 */
        0x05, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, /* target: index 5, generation 3 */
        0x78, 0x56, 0x34, 0x12,                         /* cap_hash */
        0x64, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, /* payload: err 0x064, kind 0x10 */
    };
    assert_memory_equal(img + 16, expected_16_to_44, sizeof(expected_16_to_44));
    assert_int_equal(rvm_load_le64(img + 8), 77);
    assert_int_equal(rvm_load_le64(img + 52), 0);

    /* When even the rejection cannot be recorded, the caller learns it. */
    rvm_sim_hal_set_sink(&f->sim, NULL, NULL);
    for (int i = 0; i < 8; i++) { /* the flushed ring has all 8 slots free */
        assert_int_equal(rvm_witness_reject(&f->log, &r), RVM_OK);
    }
    assert_int_equal(rvm_witness_reject(&f->log, &r), RVM_ERR_WITNESS_FULL);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_matches_hand_written_layout),
        cmocka_unit_test(test_decode_round_trip_and_reserved),
        cmocka_unit_test(test_checkpoint_message_layout),
        cmocka_unit_test(test_seal_message_layout),
        cmocka_unit_test(test_close_queues_one_seal),
        cmocka_unit_test(test_truncation_at_every_checkpoint_is_unsealed),
        cmocka_unit_test(test_init_rejects_bad_configuration),
        cmocka_unit_test(test_empty_log_digest_and_chain),
        cmocka_unit_test(test_append_fills_fields_and_links),
        cmocka_unit_test(test_append_timestamp_never_goes_backwards),
        cmocka_unit_test(test_append_refused_when_ring_full_and_sink_stalled),
        cmocka_unit_test(test_undrained_records_are_readable),
        cmocka_unit_test(test_append_without_sink_refuses_at_capacity),
        cmocka_unit_test(test_partial_drains_keep_order_across_wrap),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_periodic_checkpoints_and_seal),
        cmocka_unit_test(test_checkpoint_waits_for_its_records),
        cmocka_unit_test(test_seal_retry_is_idempotent),
        cmocka_unit_test(test_checkpoint_queue_full_refuses),
        cmocka_unit_test(test_verify_record_each_error),
        cmocka_unit_test(test_verify_checkpoint_each_error),
        cmocka_unit_test(test_verify_log_from_genesis_and_from_checkpoints),
        cmocka_unit_test(test_tamper_every_bit_of_every_record),
        cmocka_unit_test(test_tamper_every_bit_of_every_checkpoint),
        cmocka_unit_test(test_tamper_structural_edits),
        cmocka_unit_test(test_reject_record_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
