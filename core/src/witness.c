/* SPDX-License-Identifier: MIT */
#include "rvm/witness.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

/* ------------------------------------------------------------------------------------------------
 * Encoding
 *
 * A record is composed as eight little-endian 64-bit words (word i = bytes 8i..8i+7) held in
 * registers and written as four 16-byte chunks. The result is exactly the byte layout of the offset
 * table; composing words instead of storing field by field matters for speed: SHA-256
 * implementations load the block in 16-byte pieces right after it is written, and a 16-byte load
 * that straddles several smaller recent stores cannot be forwarded from the store buffer and stalls
 * (measured: 5 ns of a 46 ns append). Fields that straddle words (payload at 36, prev_link at 44,
 * aux at 52) are split at the word boundaries.
 * --------------------------------------------------------------------------------------------- */

typedef uint64_t record_chunk __attribute__((vector_size(16)));

static inline void store_chunk(uint8_t *out, uint64_t low_word, uint64_t high_word)
{
    record_chunk chunk = {rvm_to_le64(low_word), rvm_to_le64(high_word)};
    rvm_memcpy(out, &chunk, sizeof(chunk));
}

/* `link` holds prev_link's 8 bytes as the little-endian value of bytes 44..51. */
static inline void store_record(uint8_t out[RVM_WITNESS_RECORD_BYTES], uint64_t sequence,
                                uint64_t timestamp, const struct rvm_witness_entry *e,
                                uint64_t link)
{
    /* byte 19 and bytes 60..63 are reserved and stay zero */
    uint64_t kind_actor = (uint64_t)e->kind | (uint64_t)e->proof_tier << 8 |
                          (uint64_t)e->flags << 16 | (uint64_t)e->actor << 32;
    store_chunk(out, sequence, timestamp);
    store_chunk(out + 16, kind_actor, e->target);
    store_chunk(out + 32, (uint64_t)e->cap_hash | e->payload << 32, e->payload >> 32 | link << 32);
    store_chunk(out + 48, link >> 32 | e->aux << 32, e->aux >> 32);
}

void rvm_witness_encode(const struct rvm_witness_record *rec, uint8_t out[RVM_WITNESS_RECORD_BYTES])
{
    const struct rvm_witness_entry e = {
        .kind = rec->kind,
        .proof_tier = rec->proof_tier,
        .flags = rec->flags,
        .actor = rec->actor,
        .target = rec->target,
        .cap_hash = rec->cap_hash,
        .payload = rec->payload,
        .aux = rec->aux,
    };
    store_record(out, rec->sequence, rec->timestamp_ns, &e, rvm_load_le64(rec->prev_link));
}

static bool reserved_bytes_zero(const uint8_t img[RVM_WITNESS_RECORD_BYTES])
{
    return img[RVM_WOFF_RESERVED0] == 0 && rvm_load_le32(img + RVM_WOFF_RESERVED1) == 0;
}

bool rvm_witness_decode(const uint8_t in[RVM_WITNESS_RECORD_BYTES], struct rvm_witness_record *rec)
{
    rec->sequence = rvm_load_le64(in + RVM_WOFF_SEQUENCE);
    rec->timestamp_ns = rvm_load_le64(in + RVM_WOFF_TIMESTAMP);
    rec->kind = in[RVM_WOFF_KIND];
    rec->proof_tier = in[RVM_WOFF_PROOF_TIER];
    rec->flags = in[RVM_WOFF_FLAGS];
    rec->actor = rvm_load_le32(in + RVM_WOFF_ACTOR);
    rec->target = rvm_load_le64(in + RVM_WOFF_TARGET);
    rec->cap_hash = rvm_load_le32(in + RVM_WOFF_CAP_HASH);
    rec->payload = rvm_load_le64(in + RVM_WOFF_PAYLOAD);
    rvm_memcpy(rec->prev_link, in + RVM_WOFF_PREV_LINK, RVM_WITNESS_LINK_BYTES);
    rec->aux = rvm_load_le64(in + RVM_WOFF_AUX);
    return reserved_bytes_zero(in);
}

size_t rvm_witness_checkpoint_message(const struct rvm_witness_checkpoint *cp,
                                      uint8_t out[RVM_WITNESS_MSG_MAX])
{
    if (!cp->seal) {
        rvm_store_le64(out, cp->sequence);
        rvm_memcpy(out + 8, cp->digest, RVM_SHA256_DIGEST_BYTES);
        return RVM_WITNESS_CHECKPOINT_MSG_LEN;
    }
    rvm_memcpy(out, RVM_WITNESS_SEAL_TAG, 8);
    rvm_store_le64(out + 8, cp->sequence);
    rvm_memcpy(out + 16, cp->digest, RVM_SHA256_DIGEST_BYTES);
    rvm_store_le64(out + 48, cp->sequence + 1);
    return RVM_WITNESS_SEAL_MSG_LEN;
}

/* prev_link = the first 8 bytes of the chain value, i.e. h0 and h1 big-endian. */
static void chain_link(const uint32_t state[RVM_SHA256_STATE_WORDS],
                       uint8_t out[RVM_WITNESS_LINK_BYTES])
{
    rvm_store_be32(out, state[0]);
    rvm_store_be32(out + 4, state[1]);
}

/* The same 8 bytes as the little-endian value compose_record_words expects. */
static inline uint64_t chain_link_value(const uint32_t state[RVM_SHA256_STATE_WORDS])
{
    return (uint64_t)rvm_bswap32(state[0]) | (uint64_t)rvm_bswap32(state[1]) << 32;
}

static void make_checkpoint(const struct rvm_crypto *crypto, const uint8_t *key, uint32_t key_len,
                            const uint32_t state[RVM_SHA256_STATE_WORDS], uint64_t record_count,
                            bool seal, struct rvm_witness_checkpoint *cp)
{
    uint8_t msg[RVM_WITNESS_MSG_MAX];

    rvm_memset(cp, 0, sizeof(*cp)); /* padding too: checkpoints compare byte for byte */
    cp->sequence = record_count - 1;
    cp->seal = seal;
    rvm_sha256_finish_aligned(crypto, state, record_count * RVM_WITNESS_RECORD_BYTES, cp->digest);
    rvm_sha256_state_bytes(state, cp->chain);
    size_t len = rvm_witness_checkpoint_message(cp, msg);
    rvm_crypto_hmac(crypto, key, key_len, msg, len, cp->hmac);
}

/* ------------------------------------------------------------------------------------------------
 * The log
 * --------------------------------------------------------------------------------------------- */

enum rvm_err rvm_witness_init(struct rvm_witness_log *log, const struct rvm_hal *hal,
                              const struct rvm_witness_config *config)
{
    if (log == NULL || hal == NULL || config == NULL || config->ring == NULL ||
        config->ring_capacity < 2 || !rvm_is_pow2_u64(config->ring_capacity) ||
        config->hmac_key_len > RVM_WITNESS_HMAC_KEY_MAX ||
        (config->hmac_key == NULL && config->hmac_key_len != 0)) {
        return RVM_ERR_INVALID_ARGUMENT;
    }

    rvm_memset(log, 0, sizeof(*log));
    log->hal = hal;
    log->ring = config->ring;
    log->ring_mask = config->ring_capacity - 1;
    log->checkpoint_interval = config->checkpoint_interval;
    log->next_checkpoint_at = config->checkpoint_interval;
    if (config->hmac_key_len != 0) {
        rvm_memcpy(log->hmac_key, config->hmac_key, config->hmac_key_len);
    }
    log->hmac_key_len = config->hmac_key_len;
    rvm_sha256_iv(log->chain);
    return RVM_OK;
}

static uint32_t ring_free(const struct rvm_witness_log *log)
{
    return (uint32_t)(log->ring_mask + 1 - (log->appended - log->drained));
}

/* How many periodic checkpoints fall due while the log grows by `count` records. */
static uint64_t checkpoints_due(const struct rvm_witness_log *log, uint64_t count)
{
    if (log->checkpoint_interval == 0) {
        return 0;
    }
    return (log->appended + count) / log->checkpoint_interval -
           log->appended / log->checkpoint_interval;
}

static bool has_room(const struct rvm_witness_log *log, uint32_t count)
{
    return ring_free(log) >= count &&
           RVM_WITNESS_CHECKPOINT_SLOTS - log->pending_count >= checkpoints_due(log, count);
}

static void push_checkpoint(struct rvm_witness_log *log, bool seal)
{
    uint32_t slot = (log->pending_head + log->pending_count) % RVM_WITNESS_CHECKPOINT_SLOTS;
    make_checkpoint(&log->hal->crypto, log->hmac_key, log->hmac_key_len, log->chain, log->appended,
                    seal, &log->pending[slot]);
    log->pending_count++;
}

enum rvm_err rvm_witness_flush(struct rvm_witness_log *log)
{
    const struct rvm_hal *hal = log->hal;

    /* At most two spans: the tail of the ring, then its wrapped-around head. */
    for (unsigned pass = 0; pass < 2 && log->drained < log->appended; pass++) {
        uint32_t start = (uint32_t)(log->drained & log->ring_mask);
        uint64_t span = log->appended - log->drained;
        uint64_t to_end = (uint64_t)log->ring_mask + 1 - start;
        if (span > to_end) {
            span = to_end;
        }
        size_t taken =
            hal->ops->witness_drain(hal->ctx, log->drained, log->ring[start], (size_t)span);
        if (taken > span) {
            taken = (size_t)span; /* a sink cannot take more than it was offered */
        }
        log->drained += taken;
        if (taken < span) {
            break;
        }
    }

    /* Checkpoints follow the records they cover. */
    for (uint32_t i = 0; i < RVM_WITNESS_CHECKPOINT_SLOTS && log->pending_count != 0; i++) {
        const struct rvm_witness_checkpoint *cp = &log->pending[log->pending_head];
        if (cp->sequence >= log->drained || !hal->ops->witness_checkpoint(hal->ctx, cp)) {
            break;
        }
        log->pending_head = (log->pending_head + 1) % RVM_WITNESS_CHECKPOINT_SLOTS;
        log->pending_count--;
    }

    return (log->drained == log->appended && log->pending_count == 0) ? RVM_OK
                                                                      : RVM_ERR_WITNESS_FULL;
}

enum rvm_err rvm_witness_reserve(struct rvm_witness_log *log, uint32_t count)
{
    /* Requests no drain could ever satisfy: more records than the ring holds, or more periodic
     * checkpoints falling due than the checkpoint queue holds. */
    if (count > log->ring_mask + 1 || checkpoints_due(log, count) > RVM_WITNESS_CHECKPOINT_SLOTS) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    if (has_room(log, count)) {
        return RVM_OK;
    }
    (void)rvm_witness_flush(log);
    if (has_room(log, count)) {
        return RVM_OK;
    }
    log->refused++;
    return RVM_ERR_WITNESS_FULL;
}

enum rvm_err rvm_witness_append(struct rvm_witness_log *log, const struct rvm_witness_entry *entry,
                                uint64_t *seq_out)
{
    bool checkpoint_due = log->appended + 1 == log->next_checkpoint_at;

    /* Fast path: a free ring slot and, if a checkpoint falls due, a free checkpoint slot. */
    if (log->appended - log->drained > log->ring_mask ||
        (checkpoint_due && log->pending_count == RVM_WITNESS_CHECKPOINT_SLOTS)) {
#ifdef RVM_PLANTED_BUG_WITNESS_REFUSED_ADVANCES
        /* Planted defect (test builds only, meson -Dplanted_bug=witness_refused_advances): the
         * log's clock is advanced before the room check, so a refused append still mutates the
         * log. The simulator's "no witness, no mutation" oracle must find this. */
        uint64_t planted_now = rvm_hal_now(log->hal);
        if (planted_now > log->last_timestamp) {
            log->last_timestamp = planted_now;
        }
#endif
        enum rvm_err err = rvm_witness_reserve(log, 1);
        if (err != RVM_OK) {
            return err;
        }
    }

    uint8_t *img = log->ring[log->appended & log->ring_mask];
    uint64_t now = rvm_hal_now(log->hal);
    if (now < log->last_timestamp) {
        now = log->last_timestamp; /* the chain's timestamps never go backwards */
    }

    uint64_t link = log->appended == 0 ? 0 : chain_link_value(log->chain);
    store_record(img, log->appended, now, entry, link);
    if (seq_out != NULL) {
        *seq_out = log->appended;
    }
    log->appended++;
    log->last_timestamp = now;

    /* The chain step comes last so only the log and checkpoint_due live across the call. */
    rvm_crypto_compress(&log->hal->crypto, log->chain, img, 1);
    if (checkpoint_due) {
        push_checkpoint(log, false); /* room was reserved above */
        log->next_checkpoint_at += log->checkpoint_interval;
    }
    return RVM_OK;
}

enum rvm_err rvm_witness_seal(struct rvm_witness_log *log, struct rvm_witness_checkpoint *out)
{
    if (log->appended == 0) {
        return RVM_ERR_WRONG_STATE;
    }

    bool covered = (log->checkpoint_interval != 0 &&
                    log->appended + log->checkpoint_interval == log->next_checkpoint_at) ||
                   log->sealed_at == log->appended;
    if (!covered) {
        if (log->pending_count == RVM_WITNESS_CHECKPOINT_SLOTS) {
            (void)rvm_witness_flush(log);
            if (log->pending_count == RVM_WITNESS_CHECKPOINT_SLOTS) {
                log->refused++;
                return RVM_ERR_WITNESS_FULL;
            }
        }
        push_checkpoint(log, false);
        log->sealed_at = log->appended;
    }

    if (out != NULL) {
        make_checkpoint(&log->hal->crypto, log->hmac_key, log->hmac_key_len, log->chain,
                        log->appended, false, out);
    }
    return rvm_witness_flush(log);
}

enum rvm_err rvm_witness_close(struct rvm_witness_log *log, struct rvm_witness_checkpoint *out)
{
    if (log->appended == 0) {
        return RVM_ERR_WRONG_STATE;
    }
    if (log->closed_at == 0) {
        if (log->pending_count == RVM_WITNESS_CHECKPOINT_SLOTS) {
            (void)rvm_witness_flush(log);
            if (log->pending_count == RVM_WITNESS_CHECKPOINT_SLOTS) {
                log->refused++;
                return RVM_ERR_WITNESS_FULL;
            }
        }
        push_checkpoint(log, true);
        log->closed_at = log->appended;
    }
    if (log->closed_at != log->appended) {
        return RVM_ERR_WRONG_STATE; /* records were appended after the final checkpoint */
    }
    if (out != NULL) {
        make_checkpoint(&log->hal->crypto, log->hmac_key, log->hmac_key_len, log->chain,
                        log->closed_at, true, out);
    }
    return rvm_witness_flush(log);
}

enum rvm_err rvm_witness_reject(struct rvm_witness_log *log, const struct rvm_witness_rejection *r)
{
    const struct rvm_witness_entry entry = {
        .kind = RVM_ACT_PROOF_REJECTED,
        .proof_tier = r->passed_tier,
        .flags = r->stage,
        .actor = r->actor,
        .target = r->target,
        .cap_hash = r->cap_hash,
        .payload = (uint64_t)(uint32_t)r->err | (uint64_t)r->attempted_kind << 32,
        .aux = 0,
    };
    return rvm_witness_append(log, &entry, NULL);
}

void rvm_witness_chain_value(const struct rvm_witness_log *log,
                             uint8_t out[RVM_WITNESS_CHAIN_BYTES])
{
    rvm_sha256_state_bytes(log->chain, out);
}

const uint8_t *rvm_witness_undrained(const struct rvm_witness_log *log, uint64_t seq)
{
    if (seq < log->drained || seq >= log->appended) {
        return NULL;
    }
    return log->ring[seq & log->ring_mask];
}

void rvm_witness_digest(const struct rvm_witness_log *log, uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    rvm_sha256_finish_aligned(&log->hal->crypto, log->chain,
                              log->appended * RVM_WITNESS_RECORD_BYTES, out);
}

/* ------------------------------------------------------------------------------------------------
 * Verification
 * --------------------------------------------------------------------------------------------- */

void rvm_witness_verifier_init(struct rvm_witness_verifier *v, const struct rvm_crypto *crypto,
                               const uint8_t *key, uint32_t key_len)
{
    v->crypto = crypto;
    v->key = key;
    v->key_len = key_len;
    rvm_sha256_iv(v->state);
    v->next_seq = 0;
    v->last_timestamp = 0;
}

enum rvm_err rvm_witness_checkpoint_check(const struct rvm_crypto *crypto, const uint8_t *key,
                                          uint32_t key_len, const struct rvm_witness_checkpoint *cp)
{
    uint8_t msg[RVM_WITNESS_MSG_MAX];
    uint8_t mac[RVM_SHA256_DIGEST_BYTES];
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    uint32_t state[RVM_SHA256_STATE_WORDS];
    uint64_t count;

    size_t len = rvm_witness_checkpoint_message(cp, msg);
    rvm_crypto_hmac(crypto, key, key_len, msg, len, mac);
    if (!rvm_ct_equal(mac, cp->hmac, sizeof(mac))) {
        return RVM_ERR_WITNESS_CHECKPOINT;
    }
    /* record count = sequence + 1 must fit the 2^61-byte SHA-256 length limit */
    if (cp->sequence >= ((uint64_t)1 << 55)) {
        return RVM_ERR_OUT_OF_RANGE;
    }
    count = cp->sequence + 1;
    rvm_sha256_state_from_bytes(cp->chain, state);
    rvm_sha256_finish_aligned(crypto, state, count * RVM_WITNESS_RECORD_BYTES, digest);
    if (!rvm_ct_equal(digest, cp->digest, sizeof(digest))) {
        return RVM_ERR_WITNESS_DIGEST;
    }
    return RVM_OK;
}

enum rvm_err rvm_witness_verifier_resume(struct rvm_witness_verifier *v,
                                         const struct rvm_crypto *crypto, const uint8_t *key,
                                         uint32_t key_len, const struct rvm_witness_checkpoint *cp)
{
    enum rvm_err err = rvm_witness_checkpoint_check(crypto, key, key_len, cp);
    if (err != RVM_OK) {
        return err;
    }
    rvm_witness_verifier_init(v, crypto, key, key_len);
    rvm_sha256_state_from_bytes(cp->chain, v->state);
    v->next_seq = cp->sequence + 1;
    return RVM_OK;
}

enum rvm_err rvm_witness_verify_record(struct rvm_witness_verifier *v,
                                       const uint8_t image[RVM_WITNESS_RECORD_BYTES])
{
    uint8_t expected_link[RVM_WITNESS_LINK_BYTES];
    uint64_t timestamp = rvm_load_le64(image + RVM_WOFF_TIMESTAMP);

    if (rvm_load_le64(image + RVM_WOFF_SEQUENCE) != v->next_seq) {
        return RVM_ERR_WITNESS_SEQUENCE;
    }
    if (!reserved_bytes_zero(image)) {
        return RVM_ERR_WITNESS_RESERVED;
    }
    if (timestamp < v->last_timestamp) {
        return RVM_ERR_WITNESS_TIME;
    }
    if (v->next_seq == 0) {
        rvm_memset(expected_link, 0, sizeof(expected_link));
    } else {
        chain_link(v->state, expected_link);
    }
    if (!rvm_ct_equal(expected_link, image + RVM_WOFF_PREV_LINK, RVM_WITNESS_LINK_BYTES)) {
        return RVM_ERR_WITNESS_LINK;
    }

    rvm_crypto_compress(v->crypto, v->state, image, 1);
    v->next_seq++;
    v->last_timestamp = timestamp;
    return RVM_OK;
}

enum rvm_err rvm_witness_verify_checkpoint(const struct rvm_witness_verifier *v,
                                           const struct rvm_witness_checkpoint *cp)
{
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];

    if (v->next_seq == 0 || cp->sequence >= v->next_seq) {
        return RVM_ERR_WITNESS_TRUNCATED;
    }
    if (cp->sequence != v->next_seq - 1) {
        return RVM_ERR_INVALID_ARGUMENT;
    }
    rvm_sha256_state_bytes(v->state, chain);
    if (!rvm_ct_equal(chain, cp->chain, sizeof(chain))) {
        return RVM_ERR_WITNESS_DIGEST;
    }
    return rvm_witness_checkpoint_check(v->crypto, v->key, v->key_len, cp);
}

void rvm_witness_verifier_digest(const struct rvm_witness_verifier *v,
                                 uint8_t out[RVM_SHA256_DIGEST_BYTES])
{
    rvm_sha256_finish_aligned(v->crypto, v->state, v->next_seq * RVM_WITNESS_RECORD_BYTES, out);
}

struct rvm_witness_verify_result
rvm_witness_verify_log(const struct rvm_crypto *crypto, const uint8_t *key, uint32_t key_len,
                       const struct rvm_witness_checkpoint *start, uint64_t first_seq,
                       const uint8_t *images, uint64_t count,
                       const struct rvm_witness_checkpoint *checkpoints, uint64_t ncheckpoints,
                       bool require_sealed)
{
    struct rvm_witness_verify_result res = {RVM_OK, first_seq};
    struct rvm_witness_verifier v;
    uint64_t next_cp = 0;

    if (start == NULL) {
        if (first_seq != 0) {
            res.err = RVM_ERR_INVALID_ARGUMENT;
            return res;
        }
        rvm_witness_verifier_init(&v, crypto, key, key_len);
    } else {
        res.bad_sequence = start->sequence;
        res.err = rvm_witness_verifier_resume(&v, crypto, key, key_len, start);
        if (res.err != RVM_OK) {
            return res;
        }
        if (first_seq != v.next_seq) {
            res.err = RVM_ERR_INVALID_ARGUMENT;
            return res;
        }
    }

    /* Checkpoints that end before the verified range are not ours to check. */
    while (next_cp < ncheckpoints && checkpoints[next_cp].sequence < first_seq) { /* bound: n */
        next_cp++;
    }

    bool sealed = start != NULL && start->seal;
    for (uint64_t i = 0; i < count; i++) { /* bound: count */
        res.bad_sequence = first_seq + i;
        if (sealed) {
            res.err = RVM_ERR_WITNESS_AFTER_SEAL;
            return res;
        }
        res.err = rvm_witness_verify_record(&v, images + i * RVM_WITNESS_RECORD_BYTES);
        if (res.err != RVM_OK) {
            return res;
        }
        /* Several checkpoints may cover the same record (a periodic one, then the seal). */
        while (next_cp < ncheckpoints && checkpoints[next_cp].sequence == first_seq + i) {
            res.err = sealed ? RVM_ERR_WITNESS_AFTER_SEAL
                             : rvm_witness_verify_checkpoint(&v, &checkpoints[next_cp]);
            if (res.err != RVM_OK) {
                return res;
            }
            sealed = checkpoints[next_cp].seal;
            next_cp++;
        }
        if (next_cp < ncheckpoints && checkpoints[next_cp].sequence < first_seq + i) {
            res.err = RVM_ERR_INVALID_ARGUMENT; /* checkpoints not sorted */
            return res;
        }
    }

    if (next_cp < ncheckpoints) {
        res.bad_sequence = checkpoints[next_cp].sequence;
        res.err = RVM_ERR_WITNESS_TRUNCATED;
        return res;
    }
    if (require_sealed && count != 0 && !sealed) {
        res.bad_sequence = first_seq + count - 1;
        res.err = RVM_ERR_WITNESS_UNSEALED;
        return res;
    }
    res.err = RVM_OK;
    return res;
}
