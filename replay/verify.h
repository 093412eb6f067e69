/* SPDX-License-Identifier: MIT */
/*
 * Full verification of a stored run (`rvmsim verify`): every record against the chain
 * (docs/witness-format.md §5), every stored chain value and decoded column against the images,
 * every checkpoint (HMAC, digest/chain binding, Ed25519 signature and key), the seal, and the
 * run's recorded count and digest.
 *
 * Long runs are verified in segments on several threads, each on its own connection. Segment k
 * starts from the *stored* chain value before it; that is sound because segment k-1 checks that
 * very stored value against the chain it recomputes, so the segments together check exactly what
 * one sequential pass would.
 */
#ifndef RVM_REPLAY_VERIFY_H
#define RVM_REPLAY_VERIFY_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rvm_verify_options {
    const uint8_t *hmac_key; /* overrides the run's own key (NULL: derive from the seed) */
    size_t hmac_key_len;
    bool pin_ed25519; /* require this Ed25519 public key on every signed checkpoint */
    uint8_t ed25519_pub[RVM_ED25519_PUBLIC_BYTES];
    bool allow_unsealed;  /* an unsealed run (every record present verifies) is OK, not UNSEALED */
    unsigned jobs;        /* threads; 0 = one per online CPU (at most 8) */
    uint64_t min_segment; /* fewest records per thread; 0 = 262144 (tests use small values) */
};

/* The three verdicts of docs/witness-format.md §5 are OK with `sealed`, UNSEALED (or OK without
 * `sealed` under allow_unsealed) and FAILED (tampered). */
enum rvm_verify_verdict {
    RVM_VERIFY_OK,
    RVM_VERIFY_FAILED,    /* tampered: the stored run does not verify: see seq and reason */
    RVM_VERIFY_UNSEALED,  /* every stored record verifies, but no seal ends the log: see reason */
    RVM_VERIFY_NEEDS_KEY, /* the run's checkpoint key is external and none was given */
    RVM_VERIFY_ERROR,     /* the run could not be read (store_status says why) */
    RVM_VERIFY_SUMMARY,   /* a summary-only run: no records to verify (reason says so) */
};

struct rvm_verify_report {
    enum rvm_verify_verdict verdict;
    enum rvm_store_status store_status;
    bool has_seq;
    uint64_t seq; /* the first bad sequence number */
    char reason[512];
    uint64_t records;     /* records verified */
    uint64_t checkpoints; /* checkpoints verified */
    uint64_t signatures;  /* Ed25519 signatures verified */
    bool sealed;
    bool pub_pinned; /* signatures were checked against a known key, not just the stored one */
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
};

void rvm_verify_run(struct rvm_store *st, int64_t run, const struct rvm_verify_options *opt,
                    struct rvm_verify_report *rep);

/* Derived keys of a simulated run (docs/witness-format.md §3). False if OpenSSL fails. */
bool rvm_verify_seed_keys(const struct rvm_crypto *crypto, uint64_t seed, uint8_t hmac_key[32],
                          uint8_t ed25519_pub[RVM_ED25519_PUBLIC_BYTES]);

#endif /* RVM_REPLAY_VERIFY_H */
