/* SPDX-License-Identifier: MIT */
/*
 * Capability, proof and gate workloads, re-creating RVM's criterion benches
 * (crates/rvm/benches/benches/rvm_bench.rs):
 *   p1_verify                 one P1 check of a root capability (RVM: CapabilityManager<256>
 *                             verify_p1(idx, gen, READ); we also check holder, type and object);
 *                             inputs are made opaque each iteration, like RVM's blackboxed variant
 *   p2_proof_engine_pipeline  P1 + the six P2 rules + one witness append + nonce commit, a fresh
 *                             nonce per iteration (RVM: ProofEngine::verify_and_witness, which also
 *                             builds a new WitnessLog<256> and ProofEngine each iteration)
 *   security_gate_check_p1/p2 the whole gate with its witness record (RVM: SecurityGate
 *                             check_and_execute on a caller-supplied token; ours looks the
 *                             capability up in the table and runs the real P2)
 * plus grant+revoke and P3 (plain and HMAC-signed) over a depth-8 chain.
 * Witness appends use the OpenSSL provider and a sink that accepts everything without copying.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Transform: the bare compression, for the floor */
#include "harness.h"

#include "common.h"

#include "crypto_openssl.h"
#include "hal_sim.h"
#include "witnessed.h"

#include "rvm/cap.h"
#include "rvm/gate.h"
#include "rvm/proof.h"
#include "rvm/witness.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define CAP_RING     1024u
#define CAP_SLOTS    256u
#define CAP_DOMAINS  16u
#define ALL_BUT_ONCE (RVM_CAP_RIGHTS_ALL & ~RVM_CAP_GRANT_ONCE)

/* Hide a value from the optimiser: it must assume the value changed. */
#define opaque(x) __asm__ volatile("" : "+r"(x))

static const struct rvm_handle bench_region = {42, 1};

static bool bench_lookup(void *ctx, uint8_t type, struct rvm_handle object,
                         struct rvm_object_info *out)
{
    (void)ctx, (void)type, (void)object;
    out->owner = 1;
    out->base = 0x1000;
    out->size = 0x1000;
    out->lease_expires_ns = RVM_LEASE_NONE;
    return true;
}

struct cap_ctx {
    struct rvm_openssl_crypto *oc;
    struct rvm_crypto crypto;
    struct rvm_sim_hal sim;
    struct rvm_witness_log log;
    uint8_t ring[CAP_RING][RVM_WITNESS_RECORD_BYTES];
    struct rvm_cap_slot slots[CAP_SLOTS];
    struct rvm_cap_table table;
    struct rvm_proof_nonce_domain domains[CAP_DOMAINS];
    struct rvm_proof_nonces nonces;
    struct rvm_proof_ctx proof;
    struct rvm_handle root;      /* Region, all rights, held by partition 1 */
    struct rvm_handle partition; /* Partition, READ | WRITE, held by partition 1 */
    struct rvm_handle chain[9];  /* depth 0..8 */
    uint64_t nonce;
};

static struct rvm_handle mint(struct cap_ctx *c, uint8_t type, uint8_t rights,
                              struct rvm_handle object)
{
    struct rvm_cap_mint_args a = {.type = type, .rights = rights, .owner = 1, .object = object};
    struct rvm_handle h = {0, 0};
    if (witnessed_cap_mint(&c->table, &c->log, 0, &a, &h) != RVM_OK) {
        abort();
    }
    return h;
}

static void *cap_setup(void)
{
    struct cap_ctx *c = calloc(1, sizeof(*c));
    static const uint8_t key[32] = "bench-cap-mac-key";
    c->oc = rvm_openssl_crypto_new();
    if (c->oc == NULL) {
        free(c);
        return NULL;
    }
    rvm_openssl_crypto_bind(c->oc, &c->crypto);
    rvm_sim_hal_init(&c->sim, &c->crypto);
    rvm_sim_hal_set_sink(&c->sim, &bench_null_sink, NULL);
    struct rvm_witness_config wcfg = {.ring = c->ring, .ring_capacity = CAP_RING};
    struct rvm_cap_config ccfg = {
        .slots = c->slots, .capacity = CAP_SLOTS, .mac_key = key, .mac_key_len = sizeof(key)};
    if (rvm_witness_init(&c->log, &c->sim.hal, &wcfg) != RVM_OK ||
        rvm_cap_init(&c->table, &c->crypto, &ccfg) != RVM_OK ||
        rvm_proof_nonces_init(&c->nonces, c->domains, CAP_DOMAINS) != RVM_OK ||
        rvm_proof_ctx_init(&c->proof, &c->table, &c->nonces, bench_lookup, NULL, RVM_CAP_MAX_DEPTH,
                           UINT64_MAX) != RVM_OK) {
        abort();
    }
    c->root = mint(c, RVM_CAP_TYPE_REGION, ALL_BUT_ONCE, bench_region);
    c->partition =
        mint(c, RVM_CAP_TYPE_PARTITION, RVM_CAP_READ | RVM_CAP_WRITE, rvm_cap_handle(1, 1));
    c->chain[0] = mint(c, RVM_CAP_TYPE_REGION, ALL_BUT_ONCE, bench_region);
    for (uint32_t d = 1; d <= 8; d++) { /* chain[d-1] is held by partition d */
        struct rvm_cap_derive_args a = {
            .source = c->chain[d - 1], .rights = ALL_BUT_ONCE, .new_owner = d + 1};
        if (witnessed_cap_grant(&c->table, &c->log, d, &a, &c->chain[d]) != RVM_OK) {
            abort();
        }
    }
    c->sim.now_ns = 1000;
    return c;
}

static void cap_teardown(void *ctx)
{
    struct cap_ctx *c = ctx;
    rvm_openssl_crypto_free(c->oc);
    free(c);
}

/* ---- p1_verify ------------------------------------------------------------------------------- */

static void p1_inline_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    const struct rvm_cap_table *t = &c->table;
    struct rvm_handle h = c->root;
    struct rvm_handle obj = bench_region;
    uint32_t actor = 1;
    uint32_t fails = 0;
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        opaque(actor);
        fails |= !rvm_proof_p1_pass_inline(t, actor, h, RVM_CAP_TYPE_REGION, RVM_CAP_READ, obj);
    }
    if (fails != 0) {
        abort();
    }
}

static void p1_call_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_handle h = c->root;
    uint32_t fails = 0;
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        fails |= (uint32_t)rvm_proof_p1(&c->table, 1, h, RVM_CAP_TYPE_REGION, RVM_CAP_READ,
                                        bench_region);
    }
    if (fails != 0) {
        abort();
    }
}

/*
 * The floor under any P1 on this CPU: the least a capability check by a runtime index can do.
 * Per iteration, in the same loop as p1_inline_run (opaque index and actor, refusals OR-ed
 * together): bound the index into a power-of-two table with one AND, load one 64-bit word and
 * compare it with the claim. No real check does less (RVM's bounds the index, compares the
 * generation and tests the rights); ours also compares holder, type and object.
 */
static void p1_floor_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    uint64_t words[CAP_SLOTS];
    for (uint32_t i = 0; i < CAP_SLOTS; i++) { /* bound: CAP_SLOTS */
        words[i] = (uint64_t)c->table.slots[i].owner << 32 | c->table.slots[i].generation;
    }
    bench_clobber();
    struct rvm_handle h = c->root;
    uint32_t actor = 1;
    uint32_t fails = 0;
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        opaque(actor);
        fails |= words[h.index & (CAP_SLOTS - 1u)] != ((uint64_t)actor << 32 | h.generation);
    }
    if (fails != 0) {
        abort();
    }
}

/*
 * The three words any P1 here must compare: the least our P1 can do, against which p1_verify is
 * at its floor. Per iteration, in the same loop as p1_inline_run (opaque index and actor,
 * refusals OR-ed together): bound the index into a power-of-two table with one AND, then compare
 * three 64-bit words that do not depend on each other with the claim: (holder, generation), the
 * object, and the type/rights/live word. A claim of 144 bits (generation, holder, object, type,
 * rights) cannot be checked exactly in fewer than three 64-bit words. The table is dense (32-byte
 * entries, one shift) and the type/rights claim is one constant word, so this is less than any
 * real P1 (ours also masks the rights it needs and reads 96-byte slots).
 */
struct p1_words {
    uint64_t holder_generation;
    uint64_t object;
    uint64_t type_rights;
    uint64_t unused;
};

static void p1_three_words_fill(const struct cap_ctx *c, struct p1_words *words)
{
    for (uint32_t i = 0; i < CAP_SLOTS; i++) { /* bound: CAP_SLOTS */
        const struct rvm_cap_slot *s = &c->table.slots[i];
        words[i].holder_generation = (uint64_t)s->owner << 32 | s->generation;
        words[i].object = rvm_handle_pack(s->object);
        words[i].type_rights = s->p1_check;
        words[i].unused = 0;
    }
}

/* The three words of `w` XORed with the claim, ORed: zero when all three match. */
static inline uint64_t p1_three_words_differ(const struct p1_words *w, uint32_t actor,
                                             uint32_t generation, uint64_t object,
                                             uint64_t type_rights)
{
    return (w->holder_generation ^ ((uint64_t)actor << 32 | generation)) | (w->object ^ object) |
           (w->type_rights ^ type_rights);
}

static void p1_three_words_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct p1_words words[CAP_SLOTS];
    p1_three_words_fill(c, words);
    bench_clobber();
    struct rvm_handle h = c->root;
    const uint64_t object = rvm_handle_pack(bench_region);
    const uint64_t type_rights = rvm_cap_p1_check_word(RVM_CAP_TYPE_REGION, ALL_BUT_ONCE);
    uint32_t actor = 1;
    uint64_t fails = 0;
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        opaque(actor);
        const struct p1_words *w = &words[h.index & (CAP_SLOTS - 1u)];
        fails |= p1_three_words_differ(w, actor, h.generation, object, type_rights);
    }
    if (fails != 0) {
        abort();
    }
}

/*
 * The least any tier-2 gate request does here: p1_three_words_run's check, a nonce-window
 * check-and-set and one dependent SHA-256 compression. Per iteration: the three-word P1 of an
 * opaque index; the nonce (one more than the last, as in security_gate_check_p2) compared with
 * the window's highest (a nonce above it is fresh without a bit test), its bit set and the
 * highest raised (a step of one clears no bit); then the witness append's chain step as in
 * sha256_chain_floor_openssl: 8 bytes of the previous chain value into the block, one bare
 * SHA256_Transform. No decode, no P2 rule, no record encoding, no ring: security_gate_check_p2
 * minus this is what those cost beyond the floor.
 */
struct gate_floor {
    struct p1_words words[CAP_SLOTS];
    uint64_t highest;
    uint64_t seen[RVM_PROOF_NONCE_WORDS];
    uint8_t block[64];
};

static void gate_p2_floor_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct gate_floor *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        abort();
    }
    p1_three_words_fill(c, f->words);
    memset(f->block, 0x5a, sizeof(f->block));
    SHA256_CTX sha;
    SHA256_Init(&sha);
    bench_clobber();
    struct rvm_handle h = c->root;
    const uint64_t object = rvm_handle_pack(bench_region);
    const uint64_t type_rights = rvm_cap_p1_check_word(RVM_CAP_TYPE_REGION, ALL_BUT_ONCE);
    uint32_t actor = 1;
    uint64_t fails = 0;
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        opaque(actor);
        const struct p1_words *w = &f->words[h.index & (CAP_SLOTS - 1u)];
        fails |= p1_three_words_differ(w, actor, h.generation, object, type_rights);

        const uint64_t nonce = f->highest + 1;
        const uint32_t pos = (uint32_t)(nonce % RVM_PROOF_NONCE_WINDOW);
        uint64_t *word = &f->seen[pos / 64u];
        const uint64_t bit = (uint64_t)1 << (pos % 64u);
        fails |= (uint64_t)(nonce <= f->highest); /* above the highest: fresh, no bit to test */
        *word |= bit;
        f->highest = nonce;

        const uint64_t link = (uint64_t)sha.h[0] | (uint64_t)sha.h[1] << 32;
        memcpy(f->block + 44, &link, sizeof(link));
        SHA256_Transform(&sha, f->block);
    }
    bench_keep(sha.h[0]);
    const uint64_t stale = fails;
    free(f);
    if (stale != 0) {
        abort();
    }
}

/* ---- P2 pipeline ----------------------------------------------------------------------------- */

static void p2_pipeline_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_proof_p2_args a = {.nonce_domain = 1,
                                  .not_before_ns = 0,
                                  .not_after_ns = UINT64_MAX,
                                  .access_addr = 0x1000,
                                  .access_len = 0x100};
    for (uint64_t i = 0; i < iters; i++) {
        a.nonce = ++c->nonce;
        const uint64_t now = ++c->sim.now_ns;
        struct rvm_proof_p2_plan plan;
        if (!rvm_proof_p1_pass_inline(&c->table, 1, c->root, RVM_CAP_TYPE_REGION, RVM_CAP_PROVE,
                                      bench_region) ||
            rvm_proof_p2(&c->proof, 1, c->root, &a, now, &plan) != RVM_OK) {
            abort();
        }
        const struct rvm_witness_entry e = {.kind = RVM_ACT_PROOF_VERIFIED_P2,
                                            .proof_tier = RVM_PROOF_P2,
                                            .actor = 1,
                                            .target = rvm_handle_pack(bench_region),
                                            .cap_hash = c->table.slots[c->root.index].cap_hash};
        if (rvm_witness_append(&c->log, &e, NULL) != RVM_OK) {
            abort();
        }
        rvm_proof_p2_commit(&c->proof, &plan);
    }
}

/* ---- the gate -------------------------------------------------------------------------------- */

static void gate_p1_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_gate_request r = {.actor = 1,
                                 .action = RVM_ACT_PARTITION_CREATE,
                                 .tier = RVM_PROOF_P1,
                                 .cap_type = RVM_CAP_TYPE_PARTITION,
                                 .rights = RVM_CAP_READ,
                                 .cap = c->partition,
                                 .object = rvm_cap_handle(1, 1)};
    for (uint64_t i = 0; i < iters; i++) {
        c->sim.now_ns++;
        if (witnessed_gate_check(&c->proof, &c->log, &r, NULL) != RVM_OK) {
            abort();
        }
    }
}

static void gate_p2_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_gate_request r = {.actor = 1,
                                 .action = RVM_ACT_REGION_CREATE,
                                 .tier = RVM_PROOF_P2,
                                 .cap_type = RVM_CAP_TYPE_REGION,
                                 .rights = RVM_CAP_WRITE,
                                 .cap = c->root,
                                 .object = bench_region,
                                 .p2 = {.nonce_domain = 2,
                                        .not_before_ns = 0,
                                        .not_after_ns = UINT64_MAX,
                                        .access_addr = 0x1000,
                                        .access_len = 0x100}};
    for (uint64_t i = 0; i < iters; i++) {
        c->sim.now_ns++;
        r.p2.nonce = ++c->nonce;
        if (witnessed_gate_check(&c->proof, &c->log, &r, NULL) != RVM_OK) {
            abort();
        }
    }
}

/* ---- grant + revoke, P3 ---------------------------------------------------------------------- */

static void grant_revoke_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_cap_derive_args g = {.source = c->root, .rights = RVM_CAP_READ, .new_owner = 2};
    struct rvm_cap_revoke_args r = {.authority = c->root};
    for (uint64_t i = 0; i < iters; i++) {
        c->sim.now_ns++;
        g.badge = i;
        if (witnessed_cap_grant(&c->table, &c->log, 1, &g, &r.target) != RVM_OK ||
            witnessed_cap_revoke(&c->table, &c->log, 1, &r, NULL) != RVM_OK) {
            abort();
        }
    }
}

static void p3_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    struct rvm_handle h = c->chain[8];
    for (uint64_t i = 0; i < iters; i++) {
        opaque(h.index);
        if (rvm_proof_p3(&c->table, h) != RVM_OK) {
            abort();
        }
    }
}

static void p3_signed_run(void *ctx, uint64_t iters)
{
    struct cap_ctx *c = ctx;
    for (uint64_t i = 0; i < iters; i++) {
        if (rvm_proof_p3_signed(&c->table, c->chain[8]) != RVM_OK) {
            abort();
        }
    }
}

static const struct bench_workload cap_workloads[] = {
    {"p1_verify", "check",
     "P1 (live, holder, type, object, rights) inlined, inputs opaque each iteration; RVM "
     "p1_verify_blackboxed 1.21 ns",
     1, cap_setup, p1_inline_run, cap_teardown},
    {"floor_p1_one_word", "check",
     "the floor under any P1 here: index bounded by one AND, one 64-bit load and compare, in "
     "p1_verify's loop",
     1, cap_setup, p1_floor_run, cap_teardown},
    {"floor_p1_three_words", "check",
     "the floor under our P1 here: index bounded by one AND, three independent 64-bit words "
     "(holder+generation, object, type/rights/live) loaded and compared with the claim, in "
     "p1_verify's loop; a 144-bit claim needs three words",
     1, cap_setup, p1_three_words_run, cap_teardown},
    {"p1_verify_call", "check",
     "p1_verify through the out-of-line rvm_proof_p1 (decision, reason only when refused)", 1,
     cap_setup, p1_call_run, cap_teardown},
    {"p2_proof_engine_pipeline", "proof",
     "P1 + six P2 rules (object lookup callback, chain walk, nonce window) + one witness append "
     "+ nonce commit; RVM p2_proof_engine_pipeline 719 ns",
     1, cap_setup, p2_pipeline_run, cap_teardown},
    {"security_gate_check_p1", "request",
     "gate decode + P1 + witness append (tier 1); RVM security_gate_check_p1 59 ns", 1, cap_setup,
     gate_p1_run, cap_teardown},
    {"security_gate_check_p2", "request",
     "gate decode + P1 + P2 + witness append + nonce commit (tier 2); RVM "
     "security_gate_check_p2 59 ns (a non-zero check of a commitment)",
     1, cap_setup, gate_p2_run, cap_teardown},
    {"floor_gate_p2", "request",
     "the floor under any tier-2 gate request here: floor_p1_three_words + a nonce-window "
     "check-and-set + one dependent SHA-256 compression (the witness chain step of "
     "sha256_chain_floor_openssl); no decode, P2 rules or record encoding",
     1, cap_setup, gate_p2_floor_run, cap_teardown},
    {"cap_grant_revoke", "pair",
     "grant a child (SHA-256 identity hash, HMAC link MAC) and revoke it, two witness records", 1,
     cap_setup, grant_revoke_run, cap_teardown},
    {"p3_verify_depth8", "chain", "plain P3 over a depth-8 chain (9 slots)", 1, cap_setup, p3_run,
     cap_teardown},
    {"p3_signed_depth8", "chain", "P3 with an HMAC-SHA256 per slot over a depth-8 chain (OpenSSL)",
     1, cap_setup, p3_signed_run, cap_teardown},
};

struct bench_group bench_cap_group(void)
{
    struct bench_group g = {cap_workloads, sizeof(cap_workloads) / sizeof(cap_workloads[0])};
    return g;
}
