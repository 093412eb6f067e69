/* SPDX-License-Identifier: MIT */
/*
 * The witness log: 64-byte records in one SHA-256 chain, a bounded ring drained to a sink, and
 * HMAC-signed checkpoints. The format is specified in docs/witness-format.md; this header is the
 * in-core API.
 *
 * "No witness, no mutation": an operation validates everything, then appends its record, then
 * applies a change that cannot fail. rvm_witness_append() is that commit point; when it fails the
 * caller must change nothing. Operations that need several records call rvm_witness_reserve()
 * first, after which that many appends cannot fail.
 */
#ifndef RVM_WITNESS_H
#define RVM_WITNESS_H

#include "rvm/action.h"
#include "rvm/error.h"
#include "rvm/hal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_WITNESS_RECORD_BYTES       64u
#define RVM_WITNESS_LINK_BYTES         8u
#define RVM_WITNESS_CHAIN_BYTES        32u
#define RVM_WITNESS_HMAC_KEY_MAX       64u
#define RVM_WITNESS_CHECKPOINT_SLOTS   4u
#define RVM_WITNESS_CHECKPOINT_MSG_LEN 40u /* LE64 sequence || 32-byte log digest */
/* A seal's message: the tag, LE64 sequence, the digest and LE64 record count (56 bytes). Its
 * length differs from a periodic checkpoint's, so no MAC of one can pass for the other. */
#define RVM_WITNESS_SEAL_MSG_LEN       56u
#define RVM_WITNESS_SEAL_TAG           "rvm-seal" /* 8 bytes, no NUL */
#define RVM_WITNESS_MSG_MAX            RVM_WITNESS_SEAL_MSG_LEN

/* Byte offsets inside an encoded record (DESIGN §3, after RVM's ADR-134 layout). */
enum rvm_witness_offset {
    RVM_WOFF_SEQUENCE = 0,
    RVM_WOFF_TIMESTAMP = 8,
    RVM_WOFF_KIND = 16,
    RVM_WOFF_PROOF_TIER = 17,
    RVM_WOFF_FLAGS = 18,
    RVM_WOFF_RESERVED0 = 19,
    RVM_WOFF_ACTOR = 20,
    RVM_WOFF_TARGET = 24,
    RVM_WOFF_CAP_HASH = 32,
    RVM_WOFF_PAYLOAD = 36,
    RVM_WOFF_PREV_LINK = 44,
    RVM_WOFF_AUX = 52,
    RVM_WOFF_RESERVED1 = 60,
};

/* The fields a caller supplies; the log adds sequence, timestamp and prev_link. */
struct rvm_witness_entry {
    uint8_t kind;       /* enum rvm_action */
    uint8_t proof_tier; /* enum rvm_proof_tier */
    uint8_t flags;
    uint32_t actor;  /* partition that performed the action; 0 = hypervisor */
    uint64_t target; /* object acted upon, usually rvm_handle_pack() */
    uint32_t cap_hash;
    uint64_t payload; /* 8 bytes at offset 36, little-endian */
    uint64_t aux;     /* 8 bytes at offset 52, little-endian */
};

/* A decoded record. */
struct rvm_witness_record {
    uint64_t sequence;
    uint64_t timestamp_ns;
    uint8_t kind;
    uint8_t proof_tier;
    uint8_t flags;
    uint32_t actor;
    uint64_t target;
    uint32_t cap_hash;
    uint64_t payload;
    uint8_t prev_link[RVM_WITNESS_LINK_BYTES];
    uint64_t aux;
};

/*
 * A signed checkpoint over (sequence, log digest). `chain` lets a verifier resume from here:
 * it is bound to `digest` because digest = SHA-256 finalisation of chain (one more compression).
 */
struct rvm_witness_checkpoint {
    uint64_t sequence;                       /* last record covered; covers records 0..sequence */
    uint8_t digest[RVM_SHA256_DIGEST_BYTES]; /* SHA-256 of those records' images */
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];  /* chain value after record `sequence` */
    uint8_t hmac[RVM_SHA256_DIGEST_BYTES];   /* HMAC-SHA256(key, message), message below */
    bool seal; /* the log's final checkpoint: nothing follows; its MAC covers the record count */
};

/* Encoding, explicit little-endian. Reserved bytes are written as zero. */
void rvm_witness_encode(const struct rvm_witness_record *rec,
                        uint8_t out[RVM_WITNESS_RECORD_BYTES]);
/* Decoding; returns false when a reserved byte is non-zero (the fields are decoded anyway). */
bool rvm_witness_decode(const uint8_t in[RVM_WITNESS_RECORD_BYTES], struct rvm_witness_record *rec);

/*
 * The bytes the checkpoint HMAC (and the host's Ed25519 signature) covers; returns their number:
 * RVM_WITNESS_CHECKPOINT_MSG_LEN for a periodic checkpoint, RVM_WITNESS_SEAL_MSG_LEN for a seal.
 */
size_t rvm_witness_checkpoint_message(const struct rvm_witness_checkpoint *cp,
                                      uint8_t out[RVM_WITNESS_MSG_MAX]);

/* ------------------------------------------------------------------------------------------------
 * The log
 * --------------------------------------------------------------------------------------------- */

struct rvm_witness_config {
    uint8_t (*ring)[RVM_WITNESS_RECORD_BYTES]; /* caller storage: ring_capacity records */
    uint32_t ring_capacity;                    /* power of two, >= 2 */
    uint64_t checkpoint_interval;              /* a checkpoint every K records; 0 = only seals */
    const uint8_t *hmac_key;                   /* copied; may be NULL when hmac_key_len == 0 */
    uint32_t hmac_key_len;                     /* <= RVM_WITNESS_HMAC_KEY_MAX */
};

struct rvm_witness_log {
    const struct rvm_hal *hal;
    uint8_t (*ring)[RVM_WITNESS_RECORD_BYTES];
    uint32_t ring_mask;
    uint64_t appended; /* records appended == the next sequence number */
    uint64_t drained;  /* records the sink has taken; drained <= appended */
    uint64_t last_timestamp;
    uint32_t chain[RVM_SHA256_STATE_WORDS]; /* running SHA-256 state after `appended` records */
    uint64_t checkpoint_interval;
    uint64_t next_checkpoint_at; /* `appended` when the next periodic one is due; 0 = never */
    uint64_t sealed_at;          /* `appended` when the last seal queued its checkpoint */
    uint64_t closed_at;          /* records the final checkpoint covers; 0 = not closed */
    struct rvm_witness_checkpoint pending[RVM_WITNESS_CHECKPOINT_SLOTS];
    uint32_t pending_head;
    uint32_t pending_count;
    uint8_t hmac_key[RVM_WITNESS_HMAC_KEY_MAX];
    uint32_t hmac_key_len;
    uint64_t refused; /* appends refused with RVM_ERR_WITNESS_FULL */
};

/* RVM_ERR_INVALID_ARGUMENT for a bad capacity, missing storage or an over-long key. */
enum rvm_err rvm_witness_init(struct rvm_witness_log *log, const struct rvm_hal *hal,
                              const struct rvm_witness_config *config);

/*
 * Append one record: sequence, timestamp (the HAL clock, never earlier than the previous record)
 * and prev_link are filled in, the record is absorbed into the chain, and a checkpoint is queued
 * when one is due. When the ring (or the checkpoint queue) is full the sink is asked to drain;
 * if it cannot, nothing is appended and RVM_ERR_WITNESS_FULL is returned. `seq_out` may be NULL.
 */
enum rvm_err rvm_witness_append(struct rvm_witness_log *log, const struct rvm_witness_entry *entry,
                                uint64_t *seq_out);

/*
 * Make room for `count` appends (draining if needed) so that the next `count` calls to
 * rvm_witness_append cannot fail. RVM_ERR_WITNESS_FULL when the room cannot be made now,
 * RVM_ERR_OUT_OF_RANGE when it never could: count exceeds the ring's capacity, or more than
 * RVM_WITNESS_CHECKPOINT_SLOTS periodic checkpoints would fall due within those `count` records.
 * The guarantee covers appends only: rvm_witness_seal() in between queues a checkpoint and may
 * use the room the reservation counted on, so reserve again after sealing.
 */
enum rvm_err rvm_witness_reserve(struct rvm_witness_log *log, uint32_t count);

/* Offer every pending record and checkpoint to the sink. RVM_ERR_WITNESS_FULL if some remain. */
enum rvm_err rvm_witness_flush(struct rvm_witness_log *log);

/*
 * Queue a checkpoint at the current end of the log (unless a periodic one or an earlier seal
 * already ends there), then flush. Used at the end of a run so that the last record is covered
 * too. RVM_ERR_WRONG_STATE on an empty log. RVM_ERR_WITNESS_FULL when the sink could not take
 * everything: calling seal again is always safe (it never queues a second checkpoint for the same
 * end) and simply retries the flush. `out` (may be NULL) receives the checkpoint.
 */
enum rvm_err rvm_witness_seal(struct rvm_witness_log *log, struct rvm_witness_checkpoint *out);

/*
 * End the log: queue its final checkpoint (`seal` set, the record count under the MAC) at the
 * current end, even where a periodic checkpoint or a seal already ends, and flush. Only one final
 * checkpoint is ever queued: calling close again just retries the flush. The producer appends
 * nothing afterwards (a verifier reports records after the final checkpoint as tampering).
 * RVM_ERR_WRONG_STATE for an empty log; RVM_ERR_WITNESS_FULL when the checkpoint queue is full
 * (nothing queued: retry) or the flush is incomplete (queued: retry to finish the flush).
 */
enum rvm_err rvm_witness_close(struct rvm_witness_log *log, struct rvm_witness_checkpoint *out);

static inline uint64_t rvm_witness_count(const struct rvm_witness_log *log)
{
    return log->appended;
}

/* Records appended but not yet taken by the sink. */
static inline uint64_t rvm_witness_pending(const struct rvm_witness_log *log)
{
    return log->appended - log->drained;
}

/* Chain value after the last record (the SHA-256 IV bytes for an empty log). */
void rvm_witness_chain_value(const struct rvm_witness_log *log,
                             uint8_t out[RVM_WITNESS_CHAIN_BYTES]);

/* Log digest: plain SHA-256 of every record image so far (SHA-256 of "" for an empty log). */
void rvm_witness_digest(const struct rvm_witness_log *log, uint8_t out[RVM_SHA256_DIGEST_BYTES]);

/* The image of record `seq` while it is still in the ring, not yet taken by the sink
 * (drained <= seq < appended), else NULL. Read-only: what a host keeps of a run that stopped
 * before its sink took everything (a failing run, a stalled sink), without draining. */
const uint8_t *rvm_witness_undrained(const struct rvm_witness_log *log, uint64_t seq);

/* ------------------------------------------------------------------------------------------------
 * Rejections
 *
 * Every refused operation is witnessed with one RVM_ACT_PROOF_REJECTED record:
 *   actor    the partition that asked (0 for the hypervisor or a scenario driver)
 *   target   the object named in the request (0 when it could not be decoded)
 *   flags    the stage that refused it (enum rvm_reject_stage)
 *   payload  bits 0..31 the error code (enum rvm_err), bits 32..39 the action kind attempted
 *   cap_hash the capability presented, when there was one
 *   proof_tier the highest tier that passed before the refusal
 * --------------------------------------------------------------------------------------------- */

enum rvm_reject_stage {
    RVM_STAGE_DECODE = 1,       /* malformed or out-of-range request */
    RVM_STAGE_P1 = 2,           /* capability type / rights */
    RVM_STAGE_P2 = 3,           /* policy rules */
    RVM_STAGE_P3 = 4,           /* derivation chain */
    RVM_STAGE_PRECONDITION = 5, /* the subsystem's own preconditions (state, capacity, ...) */
};

struct rvm_witness_rejection {
    uint32_t actor;
    uint64_t target;
    uint8_t attempted_kind; /* enum rvm_action */
    uint8_t stage;          /* enum rvm_reject_stage */
    uint8_t passed_tier;    /* enum rvm_proof_tier */
    uint32_t cap_hash;
    enum rvm_err err;
};

/* Append the rejection record. Returns the append's result (RVM_ERR_WITNESS_FULL when even the
 * rejection cannot be recorded); the operation stays refused either way. */
enum rvm_err rvm_witness_reject(struct rvm_witness_log *log, const struct rvm_witness_rejection *r);

/* ------------------------------------------------------------------------------------------------
 * Verification (independent of any log object: works on stored images)
 * --------------------------------------------------------------------------------------------- */

struct rvm_witness_verifier {
    const struct rvm_crypto *crypto;
    const uint8_t *key;
    uint32_t key_len;
    uint32_t state[RVM_SHA256_STATE_WORDS];
    uint64_t next_seq;
    uint64_t last_timestamp;
};

/* Start at the genesis of a log. The key (for checkpoints) is borrowed, not copied. */
void rvm_witness_verifier_init(struct rvm_witness_verifier *v, const struct rvm_crypto *crypto,
                               const uint8_t *key, uint32_t key_len);

/*
 * Check a checkpoint on its own: the HMAC is valid and `chain` finalises to `digest`.
 * RVM_ERR_WITNESS_CHECKPOINT (bad HMAC) or RVM_ERR_WITNESS_DIGEST (chain/digest disagree).
 */
enum rvm_err rvm_witness_checkpoint_check(const struct rvm_crypto *crypto, const uint8_t *key,
                                          uint32_t key_len,
                                          const struct rvm_witness_checkpoint *cp);

/* Start right after a checkpoint, which is checked first (rvm_witness_checkpoint_check). */
enum rvm_err rvm_witness_verifier_resume(struct rvm_witness_verifier *v,
                                         const struct rvm_crypto *crypto, const uint8_t *key,
                                         uint32_t key_len, const struct rvm_witness_checkpoint *cp);

/*
 * Verify the next record: its sequence is the expected one, its reserved bytes are zero, its
 * timestamp does not go backwards and its prev_link matches the chain; then absorb it.
 * On error the verifier is unchanged.
 */
enum rvm_err rvm_witness_verify_record(struct rvm_witness_verifier *v,
                                       const uint8_t image[RVM_WITNESS_RECORD_BYTES]);

/*
 * Verify a checkpoint against the records verified so far: it must end exactly at the last
 * verified record (RVM_ERR_WITNESS_TRUNCATED if it lies beyond it, RVM_ERR_INVALID_ARGUMENT if it
 * lies before), its chain and digest must equal ours, and its HMAC must be valid.
 */
enum rvm_err rvm_witness_verify_checkpoint(const struct rvm_witness_verifier *v,
                                           const struct rvm_witness_checkpoint *cp);

/* Log digest of everything verified so far (from genesis only: a resumed verifier knows the
 * chain, and this is still SHA-256 over all records since genesis). */
void rvm_witness_verifier_digest(const struct rvm_witness_verifier *v,
                                 uint8_t out[RVM_SHA256_DIGEST_BYTES]);

struct rvm_witness_verify_result {
    enum rvm_err err;
    uint64_t bad_sequence; /* the record or checkpoint sequence where verification stopped */
};

/*
 * Verify a whole stored log: `count` images starting at sequence `first_seq`, and `ncheckpoints`
 * checkpoints sorted by sequence. When `start` is NULL, first_seq must be 0 (genesis); otherwise
 * `start` is checked and verification resumes after it (first_seq == start->sequence + 1).
 * Every checkpoint inside the range is verified where it falls; a record or checkpoint after a
 * seal (the final checkpoint) gives RVM_ERR_WITNESS_AFTER_SEAL. With `require_sealed`, the log
 * must end with its seal (RVM_ERR_WITNESS_UNSEALED otherwise): only the seal makes a change to the
 * last record, or a cut at an earlier checkpoint, detectable. Checkpoints beyond the last record
 * give RVM_ERR_WITNESS_TRUNCATED.
 */
struct rvm_witness_verify_result
rvm_witness_verify_log(const struct rvm_crypto *crypto, const uint8_t *key, uint32_t key_len,
                       const struct rvm_witness_checkpoint *start, uint64_t first_seq,
                       const uint8_t *images, uint64_t count,
                       const struct rvm_witness_checkpoint *checkpoints, uint64_t ncheckpoints,
                       bool require_sealed);

#endif /* RVM_WITNESS_H */
