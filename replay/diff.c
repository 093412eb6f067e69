/* SPDX-License-Identifier: MIT */
#include "diff.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <stdio.h>
#include <string.h>

struct probe {
    const struct rvm_diff_side *a, *b;
    uint64_t lookups;
    enum rvm_store_status status;
    char *err;
    size_t errlen;
};

static bool lookup(struct probe *p, const struct rvm_diff_side *side, uint64_t seq,
                   uint8_t image[RVM_WITNESS_RECORD_BYTES], uint8_t chain[RVM_WITNESS_CHAIN_BYTES])
{
    p->lookups++;
    p->status = rvm_store_record_get(side->st, side->run, seq, image, chain);
    if (p->status != RVM_STORE_OK) {
        snprintf(p->err, p->errlen, "%s", rvm_store_error(side->st));
        return false;
    }
    return true;
}

/* Chain values of both runs at `seq`; *equal tells whether they match. */
static bool same_prefix(struct probe *p, uint64_t seq, bool *equal)
{
    uint8_t ca[RVM_WITNESS_CHAIN_BYTES], cb[RVM_WITNESS_CHAIN_BYTES];
    if (!lookup(p, p->a, seq, NULL, ca) || !lookup(p, p->b, seq, NULL, cb)) {
        return false;
    }
    *equal = memcmp(ca, cb, sizeof(ca)) == 0;
    return true;
}

/* The stored chain value at `seq` must be compress(chain before it, image at seq). */
static enum rvm_diff_status check_step(struct probe *p, const struct rvm_diff_side *side,
                                       uint64_t seq, const uint32_t before[RVM_SHA256_STATE_WORDS],
                                       uint8_t image[RVM_WITNESS_RECORD_BYTES])
{
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES], expect[RVM_WITNESS_CHAIN_BYTES];
    uint32_t state[RVM_SHA256_STATE_WORDS];
    if (!lookup(p, side, seq, image, chain)) {
        return RVM_DIFF_STORE_ERROR;
    }
    memcpy(state, before, sizeof(state));
    rvm_crypto_compress(rvm_store_crypto(side->st), state, image, 1);
    rvm_sha256_state_bytes(state, expect);
    /* Only the chain: a failing run's records are stored as its sink received them, so an
     * image's own sequence field may be the damage the diff is looking for. */
    if (memcmp(expect, chain, sizeof(chain)) != 0) {
        snprintf(p->err, p->errlen,
                 "%s: run %lld: the stored chain value at seq %llu does not follow from its "
                 "record; run `rvmsim verify`",
                 rvm_store_path(side->st), (long long)side->run, (unsigned long long)seq);
        return RVM_DIFF_INCONSISTENT;
    }
    return RVM_DIFF_OK;
}

enum rvm_diff_status rvm_diff_first_divergence(const struct rvm_diff_side *a,
                                               const struct rvm_diff_side *b,
                                               struct rvm_diff_result *out, char *err,
                                               size_t errlen)
{
    struct probe p = {.a = a, .b = b, .err = err, .errlen = errlen};
    uint64_t common = a->count < b->count ? a->count : b->count;
    uint64_t first; /* smallest seq whose chain values differ, or `common` if none does */
    bool equal = true;

    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    if (common != 0 && !same_prefix(&p, common - 1, &equal)) {
        out->lookups = p.lookups;
        out->store_status = p.status;
        return RVM_DIFF_STORE_ERROR;
    }
    if (equal) {
        first = common;
    } else {
        /* invariant: chains equal before lo (or lo == 0), different at hi */
        uint64_t lo = 0, hi = common - 1;
        while (lo < hi) { /* bound: log2(common) + 1 iterations */
            uint64_t mid = lo + (hi - lo) / 2;
            if (!same_prefix(&p, mid, &equal)) {
                out->lookups = p.lookups;
                out->store_status = p.status;
                return RVM_DIFF_STORE_ERROR;
            }
            if (equal) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        first = lo;
    }

    /* Local check of the answer from the images themselves. */
    uint32_t before[RVM_SHA256_STATE_WORDS];
    rvm_sha256_iv(before);
    if (first != 0) {
        uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
        if (!lookup(&p, a, first - 1, NULL, chain)) {
            out->lookups = p.lookups;
            out->store_status = p.status;
            return RVM_DIFF_STORE_ERROR;
        }
        rvm_sha256_state_from_bytes(chain, before);
    }
    enum rvm_diff_status s = RVM_DIFF_OK;
    if (first < common) {
        uint8_t ia[RVM_WITNESS_RECORD_BYTES], ib[RVM_WITNESS_RECORD_BYTES];
        s = check_step(&p, a, first, before, ia);
        if (s == RVM_DIFF_OK) {
            s = check_step(&p, b, first, before, ib);
        }
        if (s == RVM_DIFF_OK && memcmp(ia, ib, sizeof(ia)) == 0) {
            snprintf(err, errlen,
                     "the stored chain values differ at seq %llu but the records are identical; "
                     "run `rvmsim verify`",
                     (unsigned long long)first);
            s = RVM_DIFF_INCONSISTENT;
        }
    } else if (first != 0) {
        /* all common records match: the last common one must follow on both sides */
        uint8_t image[RVM_WITNESS_RECORD_BYTES];
        uint32_t prev[RVM_SHA256_STATE_WORDS];
        rvm_sha256_iv(prev);
        if (first >= 2) {
            uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
            if (!lookup(&p, a, first - 2, NULL, chain)) {
                out->lookups = p.lookups;
                out->store_status = p.status;
                return RVM_DIFF_STORE_ERROR;
            }
            rvm_sha256_state_from_bytes(chain, prev);
        }
        s = check_step(&p, a, first - 1, prev, image);
        if (s == RVM_DIFF_OK) {
            s = check_step(&p, b, first - 1, prev, image);
        }
    }
    out->lookups = p.lookups;
    out->store_status = p.status;
    out->identical = s == RVM_DIFF_OK && first == common && a->count == b->count;
    out->first = first;
    return s;
}
