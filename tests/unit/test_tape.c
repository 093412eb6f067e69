/* SPDX-License-Identifier: MIT */
/*
 * The operation tape codec (rvm/tape.h): byte layout against docs/tape-format.md, written out by
 * hand here; round trips; and hostile tapes — truncated at every length, every single bit
 * flipped, re-sealed tapes with unknown entries, bad lengths and out-of-range fields — each
 * refused with its named reason. The checksum is checked against a one-shot SHA-256 of the bytes it
 * covers.
 */
#include "test_support.h"

#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"
#include "rvm/tape.h"

#include "kernel_fixture.h"

static const uint8_t wkey[32] = "tape-test witness key 0123456789";
static const uint8_t ckey[5] = "capk!";

struct tape {
    uint8_t bytes[4096];
    size_t len;
};

static void header_of(struct rvm_tape_header *h)
{
    memset(h, 0, sizeof(*h));
    rvm_kernel_default_config(&h->config);
    h->config.ncpus = 2;
    h->config.witness_key = wkey;
    h->config.witness_key_len = sizeof(wkey);
    h->config.cap_key = ckey;
    h->config.cap_key_len = sizeof(ckey);
    h->seed = 0x1122334455667788ull;
    h->end_records = 7;
    for (uint32_t i = 0; i < 32; i++) {
        h->end_digest[i] = (uint8_t)(0xa0 + i);
    }
}

static void call_of(struct rvm_tape_call *c)
{
    static const uint8_t msg[11] = "hello tape";
    memset(c, 0, sizeof(*c));
    c->entry = RVM_TAPE_E_IPC_SEND;
    c->cpu = 1;
    c->flags = RVM_TAPE_F_AUTH;
    c->actor = 3;
    c->expect = -5;
    c->time_ns = 123456789;
    c->auth.cap = (struct rvm_handle){9, 4};
    c->auth.nonce = 77;
    c->auth.not_before_ns = 10;
    c->auth.not_after_ns = 20;
    c->args[0] = 0x0000000200000001ull;
    c->args[1] = 42;
    c->args[7] = UINT64_MAX;
    c->data = msg;
    c->data_len = sizeof(msg);
}

/* header, one CALL, two ANSWERs, END; sealed with the portable provider */
static void build(struct tape *t, const struct rvm_crypto *crypto)
{
    struct rvm_tape_header h;
    header_of(&h);
    struct rvm_tape_call c;
    call_of(&c);
    size_t at = RVM_TAPE_HEADER_BYTES;
    at += rvm_tape_encode_call(t->bytes + at, sizeof(t->bytes) - at, &c);
    struct rvm_tape_answer a1 = {RVM_TAPE_H_CLOCK, 0, 5000};
    struct rvm_tape_answer a2 = {RVM_TAPE_H_S2_MAP, RVM_TAPE_A_INJECTED, (uint64_t)RVM_ERR_HAL};
    at += rvm_tape_encode_answer(t->bytes + at, &a1);
    at += rvm_tape_encode_answer(t->bytes + at, &a2);
    struct rvm_tape_end e = {7, {0}};
    memcpy(e.digest, h.end_digest, 32);
    at += rvm_tape_encode_end(t->bytes + at, &e);
    h.body_bytes = at - RVM_TAPE_HEADER_BYTES;
    h.entries = 4;
    assert_true(rvm_tape_encode_header(t->bytes, &h));
    t->len = at;
    rvm_tape_seal(crypto, t->bytes, t->len);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_layout_by_hand(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct tape *t = calloc(1, sizeof(*t));
    build(t, &crypto);
    const uint8_t *b = t->bytes;
    assert_memory_equal(b, "RVMTAPE\0", 8);
    assert_int_equal(le32(b + 8), 1);
    assert_int_equal(le32(b + 12), 512);
    assert_int_equal(le64(b + 16), 136 + 16 + 24 + 24 + 48); /* 11-byte payload padded to 16 */
    assert_int_equal(le64(b + 24), 4);
    assert_int_equal(le64(b + 32), 0x1122334455667788ull);
    assert_int_equal(le64(b + 40 + 8 * 1), 2); /* ncpus, the 2nd config field */
    assert_int_equal(le32(b + 264), 32);       /* witness key length */
    assert_int_equal(le32(b + 268), 5);        /* cap key length */
    assert_memory_equal(b + 272, wkey, 32);
    assert_memory_equal(b + 336, "capk!", 5);
    assert_int_equal(b + 341 - b, 341);
    assert_int_equal(b[341], 0);
    assert_int_equal(le64(b + 400), 7);
    assert_int_equal(b[408], 0xa0);
    /* checksum: one-shot SHA-256 (checked against NIST vectors in test_crypto) of the
     * concatenation header[0..480) || body, built here */
    uint8_t *cat = malloc(t->len);
    memcpy(cat, b, 480);
    memcpy(cat + 480, b + 512, t->len - 512);
    uint8_t sum[32];
    crypto.ops->sha256(crypto.ctx, cat, t->len - 32, sum);
    free(cat);
    assert_memory_equal(b + 480, sum, 32);
    /* the CALL */
    const uint8_t *e = b + 512;
    assert_int_equal(e[0] | e[1] << 8, 1);                   /* type */
    assert_int_equal(e[2] | e[3] << 8, RVM_TAPE_E_IPC_SEND); /* entry point */
    assert_int_equal(RVM_TAPE_E_IPC_SEND, 22);               /* docs/tape-format.md */
    assert_int_equal(le32(e + 4), 152);
    assert_int_equal(le32(e + 8), 1);
    assert_int_equal(le32(e + 12), 1);
    assert_int_equal(le32(e + 16), 3);
    assert_int_equal(le32(e + 20), 0xfffffffbu);
    assert_int_equal(le64(e + 24), 123456789);
    assert_int_equal(le64(e + 32), 0x0000000400000009ull); /* generation 4, index 9 */
    assert_int_equal(le64(e + 40), 77);
    assert_int_equal(le64(e + 48), 10);
    assert_int_equal(le64(e + 56), 20);
    assert_int_equal(le64(e + 64), 0x0000000200000001ull);
    assert_int_equal(le64(e + 72), 42);
    assert_int_equal(le64(e + 120), UINT64_MAX);
    assert_int_equal(le32(e + 128), 11);
    assert_memory_equal(e + 136, "hello tape", 11);
    assert_int_equal(e[147], 0);
    /* the injected-failure ANSWER */
    const uint8_t *a = e + 152 + 24;
    assert_int_equal(a[0], 2);
    assert_int_equal(a[2], RVM_TAPE_H_S2_MAP);
    assert_int_equal(le32(a + 8), 1);
    assert_int_equal(le64(a + 16), (uint64_t)RVM_ERR_HAL);
    free(t);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct tape *t = calloc(1, sizeof(*t));
    build(t, &crypto);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    assert_int_equal(rvm_tape_open(&r, &h, &crypto, t->bytes, t->len), RVM_TAPE_S_OK);
    struct rvm_tape_header want;
    header_of(&want);
    assert_int_equal(h.config.ncpus, 2);
    assert_int_equal(h.config.max_partitions, want.config.max_partitions);
    assert_int_equal(h.config.epoch_ns, want.config.epoch_ns);
    assert_int_equal(h.config.witness_key_len, 32);
    assert_memory_equal(h.config.witness_key, wkey, 32);
    assert_int_equal(h.end_records, 7);
    struct rvm_tape_item it;
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_OK);
    assert_int_equal(it.type, RVM_TAPE_T_CALL);
    struct rvm_tape_call c;
    call_of(&c);
    assert_int_equal(it.u.call.entry, c.entry);
    assert_int_equal(it.u.call.expect, -5);
    assert_int_equal(it.u.call.auth.cap.index, 9);
    assert_int_equal(it.u.call.auth.cap.generation, 4);
    assert_int_equal(it.u.call.args[7], UINT64_MAX);
    assert_int_equal(it.u.call.data_len, 11);
    assert_memory_equal(it.u.call.data, "hello tape", 11);
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_OK);
    assert_int_equal(it.u.answer.hook, RVM_TAPE_H_CLOCK);
    assert_int_equal(it.u.answer.value, 5000);
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_OK);
    assert_int_equal(it.u.answer.flags, RVM_TAPE_A_INJECTED);
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_OK);
    assert_int_equal(it.type, RVM_TAPE_T_END);
    assert_int_equal(it.u.end.records, 7);
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_NO_END);
    assert_int_equal(r.index, 4);
    free(t);
}

/* Every prefix and every single-bit flip of a valid tape is refused before any entry is read. */
static void test_truncation_and_bit_flips(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct tape *t = calloc(1, sizeof(*t));
    build(t, &crypto);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    for (size_t n = 0; n < t->len; n++) {
        enum rvm_tape_status st = rvm_tape_open(&r, &h, &crypto, t->bytes, n);
        assert_int_equal(st, RVM_TAPE_S_TRUNCATED);
    }
    uint32_t refused = 0;
    for (size_t bit = 0; bit < t->len * 8; bit++) {
        t->bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        enum rvm_tape_status st = rvm_tape_open(&r, &h, &crypto, t->bytes, t->len);
        t->bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (st == RVM_TAPE_S_OK) {
            fail_msg("bit %zu flipped was accepted", bit);
        }
        refused++;
    }
    assert_int_equal(refused, t->len * 8);
    assert_int_equal(rvm_tape_open(&r, &h, &crypto, t->bytes, t->len), RVM_TAPE_S_OK);
    free(t);
}

/* Change one byte, re-seal (a tape an attacker wrote with a valid checksum), expect `want` from
 * opening or from reading the entries. */
static void expect_refused(const struct rvm_crypto *crypto, size_t at, uint8_t value,
                           enum rvm_tape_status want)
{
    struct tape *t = calloc(1, sizeof(*t));
    build(t, crypto);
    t->bytes[at] = value;
    rvm_tape_seal(crypto, t->bytes, t->len);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    enum rvm_tape_status st = rvm_tape_open(&r, &h, crypto, t->bytes, t->len);
    struct rvm_tape_item it;
    for (uint32_t i = 0; i < 8 && st == RVM_TAPE_S_OK; i++) {
        st = rvm_tape_next(&r, &it);
    }
    if (st != want) {
        fail_msg("byte %zu = 0x%02x: %s, wanted %s", at, value, rvm_tape_status_name(st),
                 rvm_tape_status_name(want));
    }
    free(t);
}

static void test_hostile_fields(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    const size_t call = 512, ans = 512 + 152, end = 512 + 152 + 48;
    expect_refused(&crypto, 0, 'X', RVM_TAPE_S_BAD_MAGIC);
    expect_refused(&crypto, 8, 2, RVM_TAPE_S_BAD_VERSION);
    expect_refused(&crypto, 13, 1, RVM_TAPE_S_BAD_VERSION);            /* header size 0x100 */
    expect_refused(&crypto, 40 + 8 * 1 + 4, 1, RVM_TAPE_S_BAD_HEADER); /* ncpus > u32 */
    expect_refused(&crypto, 40 + 8 * 1, 0, RVM_TAPE_S_BAD_HEADER);     /* ncpus 0 */
    expect_refused(&crypto, 40 + 8 * 1, 65, RVM_TAPE_S_BAD_HEADER);    /* ncpus 65 */
    expect_refused(&crypto, 40 + 1, 1, RVM_TAPE_S_BAD_HEADER);         /* arch > u8 */
    expect_refused(&crypto, 264, 65, RVM_TAPE_S_BAD_HEADER);           /* key longer than 64 */
    expect_refused(&crypto, 450, 1, RVM_TAPE_S_BAD_HEADER);            /* reserved not zero */
    expect_refused(&crypto, 16, 0x10, RVM_TAPE_S_BAD_LENGTH);   /* the file is longer than said */
    expect_refused(&crypto, 17, 0x10, RVM_TAPE_S_TRUNCATED);    /* body longer than given */
    expect_refused(&crypto, call, 9, RVM_TAPE_S_UNKNOWN_ENTRY); /* entry type 9 */
    expect_refused(&crypto, call + 2, RVM_TAPE_E_COUNT, RVM_TAPE_S_UNKNOWN_ENTRY);
    expect_refused(&crypto, call + 4, 151, RVM_TAPE_S_BAD_LENGTH);    /* not a multiple of 8 */
    expect_refused(&crypto, call + 4, 144, RVM_TAPE_S_BAD_LENGTH);    /* payload does not fit */
    expect_refused(&crypto, call + 5, 0x40, RVM_TAPE_S_TRUNCATED);    /* longer than the body */
    expect_refused(&crypto, call + 8, 2, RVM_TAPE_S_OUT_OF_RANGE);    /* CPU 2 of 2 */
    expect_refused(&crypto, call + 12, 3, RVM_TAPE_S_OUT_OF_RANGE);   /* unknown flag */
    expect_refused(&crypto, call + 129, 0x20, RVM_TAPE_S_BAD_LENGTH); /* payload > 4096 */
    expect_refused(&crypto, ans + 2, RVM_TAPE_H_COUNT, RVM_TAPE_S_UNKNOWN_ENTRY);
    expect_refused(&crypto, ans + 4, 32, RVM_TAPE_S_BAD_LENGTH);
    expect_refused(&crypto, ans + 8, 2, RVM_TAPE_S_OUT_OF_RANGE);
    expect_refused(&crypto, end + 4, 40, RVM_TAPE_S_BAD_LENGTH);
    expect_refused(&crypto, 268, 65, RVM_TAPE_S_BAD_HEADER);     /* cap key longer than 64 */
    expect_refused(&crypto, call + 4, 8, RVM_TAPE_S_BAD_LENGTH); /* CALL shorter than 136 */
    expect_refused(&crypto, call + 4, 0, RVM_TAPE_S_BAD_LENGTH); /* entry of 0 bytes */
    expect_refused(&crypto, call + 4, 4, RVM_TAPE_S_BAD_LENGTH); /* entry of 4 bytes */
}

/* The encoder refuses what the format cannot hold and writes nothing past `room`. */
static void test_encoder_refusals(void **state)
{
    (void)state;
    static uint8_t out[RVM_TAPE_CALL_BYTES + RVM_TAPE_DATA_MAX + 8];
    static const uint8_t big[RVM_TAPE_DATA_MAX + 1];
    struct rvm_tape_call c;
    call_of(&c);
    const size_t need = 136 + 16; /* CALL 136 bytes + 11 payload bytes padded to 16 */
    assert_int_equal(rvm_tape_call_bytes(&c), need);
    memset(out, 0xEE, sizeof(out));
    assert_int_equal(rvm_tape_encode_call(out, need - 1, &c), 0);
    assert_int_equal(out[0], 0xEE);
    assert_int_equal(rvm_tape_encode_call(out, need, &c), need);
    c.entry = RVM_TAPE_E_COUNT;
    assert_int_equal(rvm_tape_encode_call(out, sizeof(out), &c), 0);
    call_of(&c);
    c.data = big;
    c.data_len = RVM_TAPE_DATA_MAX + 1;
    assert_int_equal(rvm_tape_encode_call(out, sizeof(out), &c), 0);
    c.data_len = RVM_TAPE_DATA_MAX;
    assert_int_equal(rvm_tape_encode_call(out, sizeof(out), &c), 136 + 4096);
    c.data = NULL;
    c.data_len = 1;
    assert_int_equal(rvm_tape_encode_call(out, sizeof(out), &c), 0);

    static uint8_t hdr[RVM_TAPE_HEADER_BYTES];
    static const uint8_t long_key[RVM_TAPE_KEY_MAX + 1];
    struct rvm_tape_header h;
    header_of(&h);
    h.config.witness_key = long_key;
    h.config.witness_key_len = RVM_TAPE_KEY_MAX + 1;
    assert_false(rvm_tape_encode_header(hdr, &h));
    header_of(&h);
    h.config.cap_key = long_key;
    h.config.cap_key_len = RVM_TAPE_KEY_MAX + 1;
    assert_false(rvm_tape_encode_header(hdr, &h));
    header_of(&h);
    h.config.witness_key = NULL;
    assert_false(rvm_tape_encode_header(hdr, &h));
    header_of(&h);
    h.config.cap_key = NULL;
    assert_false(rvm_tape_encode_header(hdr, &h));
    header_of(&h);
    h.config.cap_key = long_key;
    h.config.cap_key_len = RVM_TAPE_KEY_MAX;
    assert_true(rvm_tape_encode_header(hdr, &h));
    /* no keys at all: both lengths zero, both key fields zero */
    header_of(&h);
    h.config.witness_key = NULL;
    h.config.witness_key_len = 0;
    h.config.cap_key = NULL;
    h.config.cap_key_len = 0;
    memset(hdr, 0x5A, sizeof(hdr));
    assert_true(rvm_tape_encode_header(hdr, &h));
    for (size_t i = 264; i < 400; i++) { /* key lengths at 264, keys at 272 and 336 */
        assert_int_equal(hdr[i], 0);
    }

    /* sealing something shorter than a header leaves it alone */
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    memset(hdr, 0x5A, sizeof(hdr));
    rvm_tape_seal(&crypto, hdr, RVM_TAPE_HEADER_BYTES - 1);
    for (size_t i = 0; i < sizeof(hdr); i++) {
        assert_int_equal(hdr[i], 0x5A);
    }
}

/* A receive asking for more than the largest message any configuration allows. */
static void test_receive_larger_than_any_message(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    const size_t call = 512;
    for (uint32_t extra = 0; extra < 2; extra++) {
        struct tape *t = calloc(1, sizeof(*t));
        build(t, &crypto);
        rvm_store_le16(t->bytes + call + 2, RVM_TAPE_E_IPC_RECEIVE);
        rvm_store_le64(t->bytes + call + 64 + 8,
                       256u + extra); /* args[1]: 256 is the format's limit */
        rvm_tape_seal(&crypto, t->bytes, t->len);
        struct rvm_tape_reader r;
        struct rvm_tape_header h;
        assert_int_equal(rvm_tape_open(&r, &h, &crypto, t->bytes, t->len), RVM_TAPE_S_OK);
        struct rvm_tape_item it;
        assert_int_equal(rvm_tape_next(&r, &it),
                         extra == 0 ? RVM_TAPE_S_OK : RVM_TAPE_S_OUT_OF_RANGE);
        free(t);
    }
}

/* Fewer than 8 bytes after the last entry: not an entry header, so the tape is truncated. */
static void test_short_tail_truncated(void **state)
{
    (void)state;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct tape *t = calloc(1, sizeof(*t));
    build(t, &crypto);
    t->len += 4; /* four zero bytes after END */
    rvm_store_le64(t->bytes + 16, t->len - RVM_TAPE_HEADER_BYTES);
    rvm_tape_seal(&crypto, t->bytes, t->len);
    struct rvm_tape_reader r;
    struct rvm_tape_header h;
    assert_int_equal(rvm_tape_open(&r, &h, &crypto, t->bytes, t->len), RVM_TAPE_S_OK);
    struct rvm_tape_item it;
    for (int i = 0; i < 4; i++) { /* CALL, two ANSWERs, END */
        assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_OK);
    }
    assert_int_equal(it.type, RVM_TAPE_T_END);
    assert_int_equal(rvm_tape_next(&r, &it), RVM_TAPE_S_TRUNCATED);
    free(t);
}

/* An argument wider than the kernel entry point's parameter is refused, not truncated: the
 * kernel is not called (no record, same state digest). */
static void test_apply_refuses_wide_arguments(void **state)
{
    (void)state;
    struct kfx *f = kfx_new(NULL);
    static const struct {
        uint32_t entry;
        uint32_t arg;
        uint64_t value;
    } wide[] = {
        {RVM_TAPE_E_BOOT_PHASE, 0, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_BOOT_LOAD, 4, UINT16_MAX + 1u},        /* urgency */
        {RVM_TAPE_E_PARTITION_CREATE, 4, UINT16_MAX + 1u}, /* urgency */
        {RVM_TAPE_E_REGION_CREATE, 1, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_REGION_CREATE, 2, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_REGION_CREATE, 3, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_REGION_SHARE, 2, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_CAP_GRANT, 2, UINT8_MAX + 1u},
        {RVM_TAPE_E_DEVICE_REGISTER, 0, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_REGION_MAP, 2, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_CAP_ATTENUATE, 1, UINT8_MAX + 1u},
        {RVM_TAPE_E_CAP_EPOCH_REVOKE, 0, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_IPC_RECEIVE, 1, 257},
        {RVM_TAPE_E_PARTITION_FAULT, 1, (uint64_t)UINT32_MAX + 1u},
        {RVM_TAPE_E_IRQ, 0, (uint64_t)UINT32_MAX + 1u},
    };
    uint8_t before[16], after[16];
    kfx_digest(f, before);
    const uint64_t records = kfx_count(f);
    static struct rvm_tape_outputs out;
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        struct rvm_tape_call c;
        memset(&c, 0, sizeof(c));
        c.entry = wide[i].entry;
        c.args[wide[i].arg] = wide[i].value;
        enum rvm_err err = rvm_tape_apply(&f->k, &c, &out);
        if (err != RVM_ERR_OUT_OF_RANGE) {
            fail_msg("%s a%u = 0x%llx: %s", rvm_tape_entry_name(c.entry), wide[i].arg,
                     (unsigned long long)wide[i].value, rvm_err_name(err));
        }
    }
    kfx_digest(f, after);
    assert_memory_equal(before, after, sizeof(before));
    assert_int_equal(kfx_count(f), records);
    kfx_free(f);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(rvm_tape_entry_name(RVM_TAPE_E_BOOT_PHASE), "boot_phase");
    assert_string_equal(rvm_tape_entry_name(RVM_TAPE_E_WITNESS_SEAL), "witness_seal");
    assert_int_equal(RVM_TAPE_E_WITNESS_SEAL, 42); /* the table in docs/tape-format.md */
    assert_string_equal(rvm_tape_entry_name(RVM_TAPE_E_COUNT), "?");
    assert_string_equal(rvm_tape_hook_name(RVM_TAPE_H_IRQ_CONFIGURE), "irq_configure");
    assert_string_equal(rvm_tape_hook_name(RVM_TAPE_H_COUNT), "?");
    assert_int_equal(RVM_TAPE_H_IRQ_CONFIGURE, 9);
    assert_string_equal(rvm_tape_status_name(RVM_TAPE_S_BAD_CHECKSUM), "bad-checksum");
    assert_string_equal(rvm_tape_status_name(RVM_TAPE_S_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_by_hand),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncation_and_bit_flips),
        cmocka_unit_test(test_hostile_fields),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_receive_larger_than_any_message),
        cmocka_unit_test(test_short_tail_truncated),
        cmocka_unit_test(test_apply_refuses_wide_arguments),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
