/* SPDX-License-Identifier: MIT */
/*
 * The replay store library: schema checks on open, the writer (batches, refusals, discard),
 * point lookups, bisection (against a linear-scan model), segmented verification (against the
 * position of a planted fault), the replayer registry, and schema version 2: summary-only runs,
 * writers inside a store-wide write transaction (savepoints), raw mode, scenario texts kept once.
 *
 * Independent oracles: the database is inspected through a separate raw SQLite connection;
 * chain values are recomputed with the portable C provider and digests with OpenSSL's EVP
 * one-shot SHA-256, while the store uses OpenSSL's block function.
 */
#include "test_support.h"

#include "demo.h"
#include "diff.h"
#include "replay_sim.h"
#include "replayer.h"
#include "run_keys.h"
#include "sink_memory.h"
#include "sink_tee.h"
#include "store.h"
#include "verify.h"

#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"
#include "rvm/sha256.h"

#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

static char dir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/rvm-test-replay-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static const char *path_of(const char *name)
{
    static char buf[4][320];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 320, "%s/%s", dir, name);
    return p;
}

/* Raw SQL on a database, outside the store (the independent view). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", sql, err);
    }
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static struct rvm_store *open_ok(const char *path, enum rvm_store_mode mode)
{
    struct rvm_store *st = NULL;
    char err[600];
    enum rvm_store_status s = rvm_store_open(path, mode, &st, err, sizeof(err));
    if (s != RVM_STORE_OK) {
        fail_msg("open %s: %s", path, err);
    }
    return st;
}

static void open_fails(const char *path, enum rvm_store_mode mode, const char *needle)
{
    struct rvm_store *st = NULL;
    char err[600];
    enum rvm_store_status s = rvm_store_open(path, mode, &st, err, sizeof(err));
    assert_int_equal(s, RVM_STORE_BAD_FILE);
    assert_null(st);
    if (strstr(err, needle) == NULL) {
        fail_msg("'%s' does not mention '%s'", err, needle);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_open_and_schema_rules(void **state)
{
    (void)state;
    char path[320];
    snprintf(path, sizeof(path), "%s", path_of("schema.db"));
    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    rvm_store_close(st);
    assert_int_equal(raw_int(path, "PRAGMA application_id"), 0x52564d57);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 5);
    assert_int_equal(raw_int(path, "PRAGMA page_size"), 65536);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode "
                                   "= 'wal'"),
                     1);
    st = open_ok(path, RVM_STORE_READ);
    rvm_store_close(st);
    st = open_ok(path, RVM_STORE_WRITE); /* reopening for writing changes nothing */
    rvm_store_close(st);

    open_fails(path_of("missing.db"), RVM_STORE_READ, "cannot open");
    write_file(path_of("empty.db"), "", 0);
    open_fails(path_of("empty.db"), RVM_STORE_READ, "empty database");
    uint8_t junk[4096];
    struct test_rng rng = test_rng_new(3);
    test_rng_fill(&rng, junk, sizeof(junk));
    write_file(path_of("junk.db"), junk, sizeof(junk));
    open_fails(path_of("junk.db"), RVM_STORE_READ, "not an SQLite database");
    open_fails(path_of("junk.db"), RVM_STORE_WRITE, "not an SQLite database");

    raw_exec(path_of("foreign.db"), "CREATE TABLE t (x)");
    open_fails(path_of("foreign.db"), RVM_STORE_WRITE, "not an rvmsim replay store");
    assert_int_equal(raw_int(path_of("foreign.db"), "SELECT count(*) FROM sqlite_schema"), 1);

    raw_exec(path, "PRAGMA user_version = 6");
    open_fails(path, RVM_STORE_READ, "newer rvmsim");
    open_fails(path, RVM_STORE_WRITE, "newer rvmsim");
    raw_exec(path, "PRAGMA user_version = 0");
    open_fails(path, RVM_STORE_READ, "older");
    open_fails(path, RVM_STORE_WRITE, "cannot be migrated");
    raw_exec(path, "PRAGMA user_version = 5");
    rvm_store_close(open_ok(path, RVM_STORE_READ));
}

/* Images of a real log: the demo workload through the core into memory. */
static void demo_log(uint64_t seed, uint64_t records, uint64_t interval,
                     struct rvm_memory_sink *out, const struct rvm_ed25519_key *signer)
{
    struct rvm_demo_params p;
    struct rvm_demo_outcome o;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    rvm_demo_params_default(&p);
    p.seed = seed;
    p.records = records;
    p.checkpoint_interval = interval;
    rvm_memory_sink_init(out, signer);
    assert_int_equal(rvm_demo_run(&p, &crypto, &rvm_memory_sink_ops, out, NULL, UINT64_MAX, &o),
                     RVM_OK);
    assert_int_equal(out->count, records);
}

static struct rvm_store_writer *begin(struct rvm_store *st, enum rvm_store_tx tx, uint64_t seed)
{
    const struct rvm_store_run_info info = {.source = "test", .has_seed = true, .seed = seed};
    struct rvm_store_writer *w = NULL;
    assert_int_equal(rvm_store_writer_begin(st, &info, tx, &w), RVM_STORE_OK);
    return w;
}

/* Feed images in drains of random size, as the core's ring would. */
static void feed(struct rvm_store_writer *w, const uint8_t *images, uint64_t from, uint64_t to,
                 struct test_rng *rng)
{
    for (uint64_t seq = from; seq < to;) {
        size_t k = 1 + (size_t)test_rng_below(rng, 700);
        if (k > to - seq) {
            k = (size_t)(to - seq);
        }
        assert_int_equal(rvm_store_sink_ops.records(w, seq, images + seq * 64, k), k);
        seq += k;
    }
}

static int64_t store_images(struct rvm_store *st, const uint8_t *images, uint64_t n,
                            struct test_rng *rng)
{
    struct rvm_store_writer *w = begin(st, RVM_STORE_TX_BATCHES, 1);
    int64_t run = rvm_store_writer_run(w);
    feed(w, images, 0, n, rng);
    assert_int_equal(rvm_store_writer_finish(w, "pass", 0, NULL, NULL), RVM_STORE_OK);
    return run;
}

static void test_writer_stores_what_it_was_given(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("writer_stores_what_it_was_given", 11));
    const char *path = path_of("writer.db");
    struct rvm_memory_sink log;
    demo_log(5, 10000, 0, &log, NULL); /* crosses the 4096-record batch size twice */
    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    int64_t run = store_images(st, log.records, log.count, &rng);

    struct rvm_store_run r;
    assert_int_equal(rvm_store_run_get(st, run, &r), RVM_STORE_OK);
    assert_string_equal(r.status, "complete");
    assert_string_equal(r.result, "pass");
    assert_int_equal(r.record_count, 10000);
    assert_true(r.has_seed);
    assert_int_equal(r.seed, 1);
    uint8_t digest[32];
    unsigned int dlen = 0;
    assert_int_equal(EVP_Digest(log.records, log.count * 64, digest, &dlen, EVP_sha256(), NULL), 1);
    assert_memory_equal(r.digest, digest, 32);
    rvm_store_run_free(&r);

    /* every chain value, by an independent provider */
    struct rvm_crypto portable;
    rvm_crypto_portable(&portable);
    uint32_t chain[8];
    rvm_sha256_iv(chain);
    for (uint64_t seq = 0; seq < log.count; seq++) {
        uint8_t image[64], stored[32], expect[32];
        rvm_crypto_compress(&portable, chain, log.records + seq * 64, 1);
        rvm_sha256_state_bytes(chain, expect);
        if (seq % 97 == 0 || seq + 1 == log.count) {
            assert_int_equal(rvm_store_record_get(st, run, seq, image, stored), RVM_STORE_OK);
            assert_memory_equal(image, log.records + seq * 64, 64);
            assert_memory_equal(stored, expect, 32);
        }
    }
    assert_int_equal(rvm_store_record_get(st, run, log.count, NULL, NULL), RVM_STORE_NOT_FOUND);
    uint64_t extent;
    assert_int_equal(rvm_store_record_extent(st, run, &extent), RVM_STORE_OK);
    assert_int_equal(extent, 10000);
    rvm_store_close(st);

    /* the decoded columns, through the documented view */
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM record_view WHERE run = %lld AND seq = 1234 AND kind = %u AND "
             "actor = %u",
             (long long)run, log.records[1234 * 64 + 16],
             rvm_load_le32(log.records + 1234 * 64 + 20));
    assert_int_equal(raw_int(path, sql), 1);
    rvm_memory_sink_free(&log);
}

static void test_writer_refusals(void **state)
{
    (void)state;
    struct rvm_memory_sink log;
    demo_log(6, 20, 0, &log, NULL);
    struct rvm_store *st = open_ok(path_of("refusals.db"), RVM_STORE_WRITE);
    struct rvm_store_writer *w = begin(st, RVM_STORE_TX_BATCHES, 1);
    /* out of order */
    assert_int_equal(rvm_store_writer_records(w, 1, log.records + 64, 3), 0);
    /* an image whose own sequence disagrees stops the batch there */
    uint8_t images[5 * 64];
    memcpy(images, log.records, sizeof(images));
    rvm_store_le64(images + 3 * 64, 9);
    assert_int_equal(rvm_store_writer_records(w, 0, images, 5), 3);
    assert_int_equal(rvm_store_writer_count(w), 3);
    assert_int_equal(rvm_store_writer_records(w, 3, log.records + 3 * 64, 17), 17);
    /* a second writer on the same handle is refused */
    struct rvm_store_writer *w2 = NULL;
    const struct rvm_store_run_info info = {.source = "test"};
    assert_int_equal(rvm_store_writer_begin(st, &info, RVM_STORE_TX_BATCHES, &w2),
                     RVM_STORE_REFUSED);
    /* checkpoints and state digests: within the records, ascending */
    struct rvm_witness_checkpoint cp = {.sequence = 20};
    assert_false(rvm_store_writer_checkpoint(w, &cp, NULL, NULL));
    cp.sequence = 9;
    assert_true(rvm_store_writer_checkpoint(w, &cp, NULL, NULL));
    assert_false(rvm_store_writer_checkpoint(w, &cp, NULL, NULL));
    uint8_t d[32] = {1};
    assert_true(rvm_store_writer_state(w, 4, d));
    assert_false(rvm_store_writer_state(w, 4, d));
    assert_false(rvm_store_writer_state(w, 20, d));
    assert_true(rvm_store_writer_fault(w, 5, 100, "irq-lost", "irq 3"));
    assert_true(rvm_store_writer_invariant(w, 6, 200, "heap", NULL));
    int64_t run = rvm_store_writer_run(w);
    assert_int_equal(rvm_store_writer_finish(w, "safety", 3, NULL, NULL), RVM_STORE_OK);
    rvm_store_close(st);
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM faults WHERE run = %lld AND site = 'irq-lost'",
             (long long)run);
    assert_int_equal(raw_int(path_of("refusals.db"), sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT exit_code * 100 + checkpoint_count * 10 + (result = 'safety') FROM runs "
             "WHERE id = %lld",
             (long long)run);
    assert_int_equal(raw_int(path_of("refusals.db"), sql), 311);
    rvm_memory_sink_free(&log);
}

static void test_discard_leaves_nothing(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(1);
    struct rvm_memory_sink log;
    demo_log(7, 9000, 0, &log, NULL);
    const char *path = path_of("discard.db");
    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    int64_t kept = store_images(st, log.records, 100, &rng);

    struct rvm_store_writer *w = begin(st, RVM_STORE_TX_BATCHES, 2);
    feed(w, log.records, 0, 9000, &rng);
    assert_int_equal(rvm_store_writer_flush(w), RVM_STORE_OK);
    uint8_t d[32] = {0};
    assert_true(rvm_store_writer_state(w, 10, d));
    assert_int_equal(rvm_store_writer_flush(w), RVM_STORE_OK);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM records"), 9100);
    rvm_store_writer_discard(w);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM records"), 100);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM state_digests"), 0);

    w = begin(st, RVM_STORE_TX_SINGLE, 3);
    feed(w, log.records, 0, 9000, &rng);
    assert_int_equal(rvm_store_writer_flush(w), RVM_STORE_OK);
    rvm_store_writer_discard(w);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM records"), 100);
    assert_int_equal(raw_int(path, "SELECT max(id) FROM runs"), kept);
    rvm_store_close(st);
    rvm_memory_sink_free(&log);
}

/* Two writers (as two processes would) interleave their batches in one file: the later run's
 * keys are above the earlier run's, so the earlier writer must fall back to explicit keys. */
static void test_interleaved_writers(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(2);
    const char *path = path_of("interleaved.db");
    struct rvm_memory_sink la, lb;
    demo_log(21, 3000, 0, &la, NULL);
    demo_log(22, 3000, 0, &lb, NULL);
    struct rvm_store *sa = open_ok(path, RVM_STORE_WRITE), *sb = open_ok(path, RVM_STORE_WRITE);
    struct rvm_store_writer *wa = begin(sa, RVM_STORE_TX_BATCHES, 21);
    struct rvm_store_writer *wb = begin(sb, RVM_STORE_TX_BATCHES, 22);
    int64_t ra = rvm_store_writer_run(wa), rb = rvm_store_writer_run(wb);
    assert_true(rb > ra);
    for (uint64_t part = 0; part < 3; part++) {
        feed(wa, la.records, part * 1000, part * 1000 + 1000, &rng);
        assert_int_equal(rvm_store_writer_flush(wa), RVM_STORE_OK);
        feed(wb, lb.records, part * 1000, part * 1000 + 1000, &rng);
        assert_int_equal(rvm_store_writer_flush(wb), RVM_STORE_OK);
    }
    assert_int_equal(rvm_store_writer_finish(wa, "pass", 0, NULL, NULL), RVM_STORE_OK);
    assert_int_equal(rvm_store_writer_finish(wb, "pass", 0, NULL, NULL), RVM_STORE_OK);
    rvm_store_close(sb);
    for (uint64_t seq = 0; seq < 3000; seq += 37) {
        uint8_t image[64];
        assert_int_equal(rvm_store_record_get(sa, ra, seq, image, NULL), RVM_STORE_OK);
        assert_memory_equal(image, la.records + seq * 64, 64);
        assert_int_equal(rvm_store_record_get(sa, rb, seq, image, NULL), RVM_STORE_OK);
        assert_memory_equal(image, lb.records + seq * 64, 64);
    }
    for (int64_t run = ra; run <= rb; run++) {
        struct rvm_verify_options opt = {.allow_unsealed = true};
        struct rvm_verify_report rep;
        rvm_verify_run(sa, run, &opt, &rep);
        if (rep.verdict != RVM_VERIFY_OK) {
            fail_msg("run %lld: %s", (long long)run, rep.reason);
        }
        assert_int_equal(rep.records, 3000);
    }
    rvm_store_close(sa);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM records"), 6000);
    rvm_memory_sink_free(&la);
    rvm_memory_sink_free(&lb);
}

/* ------------------------------------------------------------------------------------------------
 * Bisection against a linear scan
 * --------------------------------------------------------------------------------------------- */

static void synthetic_images(uint8_t *out, uint64_t n, uint64_t salt, uint64_t from)
{
    for (uint64_t i = from; i < n; i++) {
        uint8_t *img = out + i * 64;
        memset(img, 0, 64);
        rvm_store_le64(img, i);
        rvm_store_le64(img + 8, i * 10);
        img[16] = (uint8_t)(i % 7);
        rvm_store_le64(img + 36, i * 0x9e3779b97f4a7c15ull ^ salt);
    }
}

static unsigned ceil_log2(uint64_t n)
{
    unsigned b = 0;
    while (((uint64_t)1 << b) < n) {
        b++;
    }
    return b;
}

static void test_diff_matches_linear_model(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("diff_matches_linear_model", 42));
    struct rvm_store *st = open_ok(path_of("diff.db"), RVM_STORE_WRITE);
    enum { MAX = 3000 };
    uint8_t *a = malloc(MAX * 64), *b = malloc(MAX * 64);
    assert_non_null(a);
    assert_non_null(b);
    for (int trial = 0; trial < 60; trial++) {
        uint64_t na = test_rng_below(&rng, MAX + 1), nb = test_rng_below(&rng, MAX + 1);
        uint64_t m = na < nb ? na : nb;
        uint64_t shared = test_rng_below(&rng, 4) == 0 ? m : test_rng_below(&rng, m + 1);
        synthetic_images(a, na, 1, 0);
        synthetic_images(b, nb, 1, 0);
        synthetic_images(b, nb, 2, shared); /* differs from `shared` on */
        int64_t ra = store_images(st, a, na, &rng), rb = store_images(st, b, nb, &rng);

        uint64_t model = 0; /* the first index where the logs differ, by plain comparison */
        while (model < m && memcmp(a + model * 64, b + model * 64, 64) == 0) {
            model++;
        }
        struct rvm_diff_side da = {st, ra, na}, db = {st, rb, nb};
        struct rvm_diff_result res;
        char err[512];
        assert_int_equal(rvm_diff_first_divergence(&da, &db, &res, err, sizeof(err)), RVM_DIFF_OK);
        assert_int_equal(res.identical, model == m && na == nb);
        if (!res.identical) {
            assert_int_equal(res.first, model);
        }
        if (res.lookups > 2 * ceil_log2(m) + 7) {
            fail_msg("%llu lookups for %llu common records", (unsigned long long)res.lookups,
                     (unsigned long long)m);
        }
    }
    free(a);
    free(b);
    rvm_store_close(st);
}

static void test_diff_refuses_inconsistent_chain_values(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(5);
    const char *path = path_of("diff-bad.db");
    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    uint8_t *a = malloc(500 * 64);
    synthetic_images(a, 500, 1, 0);
    int64_t ra = store_images(st, a, 500, &rng), rb = store_images(st, a, 500, &rng);
    rvm_store_close(st);
    /* make the stored chain values of run B differ from 300 on without touching its records */
    char sql[200];
    snprintf(sql, sizeof(sql), "UPDATE records SET chain = zeroblob(32) WHERE key >= %lld",
             (long long)rvm_store_key(rb, 300));
    raw_exec(path, sql);
    st = open_ok(path, RVM_STORE_READ);
    struct rvm_diff_side da = {st, ra, 500}, db = {st, rb, 500};
    struct rvm_diff_result res;
    char err[512];
    assert_int_equal(rvm_diff_first_divergence(&da, &db, &res, err, sizeof(err)),
                     RVM_DIFF_INCONSISTENT);
    assert_non_null(strstr(err, "seq 300"));
    rvm_store_close(st);
    free(a);
}

/* ------------------------------------------------------------------------------------------------
 * Verification in segments
 * --------------------------------------------------------------------------------------------- */

static void test_verify_segments_find_the_planted_fault(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(7);
    const char *path = path_of("verify.db");
    struct rvm_crypto crypto;
    struct rvm_run_keys keys;
    rvm_crypto_portable(&crypto);
    rvm_run_keys_derive(&crypto, 1, &keys); /* the demo of seed 1 signs with these */
    struct rvm_ed25519_key *signer = rvm_ed25519_from_seed(keys.ed25519_seed);
    struct rvm_memory_sink log;
    demo_log(1, 2000, 64, &log, signer);

    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    struct rvm_store_writer *w = begin(st, RVM_STORE_TX_BATCHES, 1);
    int64_t run = rvm_store_writer_run(w);
    feed(w, log.records, 0, log.count, &rng);
    for (uint64_t i = 0; i < log.ncheckpoints; i++) {
        const struct rvm_signed_checkpoint *c = &log.checkpoints[i];
        uint8_t pub[32];
        assert_true(rvm_ed25519_public(signer, pub));
        assert_true(rvm_store_writer_checkpoint(w, &c->cp, pub, c->ed25519));
    }
    assert_int_equal(rvm_store_writer_finish(w, "pass", 0, NULL, NULL), RVM_STORE_OK);
    rvm_store_close(st);

    /* 2000 records in segments of >= 300: boundaries at 400, 800, 1200, 1600 with 5 jobs */
    const uint64_t where[] = {0, 1, 399, 400, 401, 799, 800, 1234, 1999};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]) + 1; i++) {
        bool clean = i == sizeof(where) / sizeof(where[0]);
        if (!clean) {
            /* flip one payload bit of the stored image */
            sqlite3 *db = NULL;
            sqlite3_stmt *stmt = NULL;
            uint8_t img[64];
            memcpy(img, log.records + where[i] * 64, 64);
            img[40] ^= 0x10;
            assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
            assert_int_equal(sqlite3_prepare_v2(db, "UPDATE records SET image = ?1 WHERE key = ?2",
                                                -1, &stmt, NULL),
                             SQLITE_OK);
            sqlite3_bind_blob(stmt, 1, img, 64, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 2, rvm_store_key(run, where[i]));
            assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
            sqlite3_finalize(stmt);
            sqlite3_close(db);
        }
        for (unsigned jobs = 1; jobs <= 5; jobs += 4) {
            st = open_ok(path, RVM_STORE_READ);
            struct rvm_verify_options opt = {.jobs = jobs, .min_segment = 300};
            struct rvm_verify_report rep;
            rvm_verify_run(st, run, &opt, &rep);
            rvm_store_close(st);
            if (clean) {
                assert_int_equal(rep.verdict, RVM_VERIFY_OK);
                assert_int_equal(rep.records, 2000);
                assert_int_equal(rep.checkpoints, log.ncheckpoints);
                assert_int_equal(rep.signatures, log.ncheckpoints);
                assert_true(rep.sealed);
                assert_true(rep.pub_pinned);
            } else {
                assert_int_equal(rep.verdict, RVM_VERIFY_FAILED);
                assert_true(rep.has_seq);
                if (rep.seq != where[i]) {
                    fail_msg("fault at %llu reported at %llu with %u jobs: %s",
                             (unsigned long long)where[i], (unsigned long long)rep.seq, jobs,
                             rep.reason);
                }
            }
        }
        if (!clean) {
            /* put it back */
            sqlite3 *db = NULL;
            sqlite3_stmt *stmt = NULL;
            assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
            assert_int_equal(sqlite3_prepare_v2(db, "UPDATE records SET image = ?1 WHERE key = ?2",
                                                -1, &stmt, NULL),
                             SQLITE_OK);
            sqlite3_bind_blob(stmt, 1, log.records + where[i] * 64, 64, SQLITE_STATIC);
            sqlite3_bind_int64(stmt, 2, rvm_store_key(run, where[i]));
            assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
            sqlite3_finalize(stmt);
            sqlite3_close(db);
        }
    }
    rvm_memory_sink_free(&log);
    rvm_ed25519_free(signer);
}

/* ------------------------------------------------------------------------------------------------
 * The tee: one branch taking only part of each drain makes the core offer records again; no
 * branch may see a record twice or out of order, and all end up with the whole log.
 * --------------------------------------------------------------------------------------------- */

struct stingy {
    struct rvm_memory_sink mem;
    unsigned calls;
    unsigned checkpoint_calls;
};

static size_t stingy_records(void *ctx, uint64_t first_seq, const uint8_t *records, size_t count)
{
    struct stingy *s = ctx;
    s->calls++;
    /* half of what is offered (at least one, or the core would see a stalled sink) */
    return rvm_memory_sink_ops.records(&s->mem, first_seq, records, (count + 1) / 2);
}

static bool stingy_checkpoint(void *ctx, const struct rvm_witness_checkpoint *cp)
{
    struct stingy *s = ctx;
    /* refuses every other offer */
    return (s->checkpoint_calls++ % 2) == 0 ? false : rvm_memory_sink_ops.checkpoint(&s->mem, cp);
}

static const struct rvm_sink_ops stingy_ops = {stingy_records, stingy_checkpoint};

static void test_tee_never_duplicates(void **state)
{
    (void)state;
    struct rvm_memory_sink all, reference;
    struct stingy part = {0};
    struct rvm_tee_sink tee;
    rvm_memory_sink_init(&all, NULL);
    rvm_memory_sink_init(&part.mem, NULL);
    rvm_tee_sink_init(&tee);
    assert_true(rvm_tee_sink_add(&tee, &rvm_memory_sink_ops, &all));
    assert_true(rvm_tee_sink_add(&tee, &stingy_ops, &part));

    struct rvm_demo_params p;
    struct rvm_demo_outcome o;
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    rvm_demo_params_default(&p);
    p.records = 500;
    p.ring = 8;
    p.checkpoint_interval = 16;
    assert_int_equal(rvm_demo_run(&p, &crypto, &rvm_tee_sink_ops, &tee, NULL, UINT64_MAX, &o),
                     RVM_OK);
    demo_log(p.seed, 500, 16, &reference, NULL); /* the same run into one plain sink */
    for (int i = 0; i < 2; i++) {
        const struct rvm_memory_sink *m = i == 0 ? &all : &part.mem;
        assert_false(m->out_of_order);
        assert_int_equal(m->count, 500);
        assert_memory_equal(m->records, reference.records, 500 * 64);
        assert_int_equal(m->ncheckpoints, reference.ncheckpoints);
        assert_true(i == 0 || (part.calls > 250 && part.checkpoint_calls > 2 * 31));
        for (uint64_t k = 0; k < m->ncheckpoints; k++) {
            assert_memory_equal(&m->checkpoints[k].cp, &reference.checkpoints[k].cp,
                                sizeof(struct rvm_witness_checkpoint));
        }
    }
    for (unsigned b = 0; b < RVM_TEE_MAX - 2; b++) {
        assert_true(rvm_tee_sink_add(&tee, &rvm_memory_sink_ops, &all));
    }
    assert_false(rvm_tee_sink_add(&tee, &rvm_memory_sink_ops, &all));
    rvm_memory_sink_free(&all);
    rvm_memory_sink_free(&part.mem);
    rvm_memory_sink_free(&reference);
}

/* ------------------------------------------------------------------------------------------------
 * Replayers
 * --------------------------------------------------------------------------------------------- */

static bool fake_replay(const struct rvm_store_run *run, uint64_t until,
                        const struct rvm_replay_observer *observer, char *msg, size_t msglen)
{
    (void)run, (void)until, (void)observer;
    snprintf(msg, msglen, "fake");
    return false;
}

/* Schema version 2: summary runs in one write transaction, beside a full run in a savepoint. */
static void test_summary_runs_and_savepoints(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("summary_runs_and_savepoints", 23));
    const char *path = path_of("summary.db");
    struct rvm_memory_sink log;
    demo_log(9, 300, 0, &log, NULL);
    struct rvm_store *st = open_ok(path, RVM_STORE_WRITE);
    static const char text[] = "target witness\nappend\n";
    const struct rvm_store_run_info info = {
        .source = "sweep", .scenario = text, .options = "o=1", .has_seed = true, .target = "w"};
    struct rvm_store_summary sum = {.result = "pass",
                                    .exit_code = 0,
                                    .record_count = 300,
                                    .checkpoint_count = 2,
                                    .has_digest = true,
                                    .outcome = "x=1"};
    test_rng_fill(&rng, sum.digest, sizeof(sum.digest));
    test_rng_fill(&rng, sum.chain, sizeof(sum.chain));

    assert_int_equal(rvm_store_write_begin(st), RVM_STORE_OK);
    assert_int_equal(rvm_store_write_begin(st), RVM_STORE_REFUSED); /* not nested */
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        struct rvm_store_run_info in = info;
        in.seed = (uint64_t)i;
        struct rvm_store_summary s2 = sum;
        s2.has_digest = i != 2; /* a worker that died: no digest */
        assert_int_equal(rvm_store_summary_add(st, &in, &s2, &ids[i]), RVM_STORE_OK);
    }
    assert_int_equal(
        rvm_store_event_add(st, ids[2], RVM_STORE_INVARIANTS, 0, 5, "worker.crash", "signal 9"),
        RVM_STORE_OK);
    /* a batch-mode writer would commit the open transaction: refused; single mode nests */
    struct rvm_store_writer *w = NULL;
    assert_int_equal(rvm_store_writer_begin(st, &info, RVM_STORE_TX_BATCHES, &w),
                     RVM_STORE_REFUSED);
    w = begin(st, RVM_STORE_TX_SINGLE, 7);
    int64_t discarded = rvm_store_writer_run(w);
    feed(w, log.records, 0, log.count, &rng);
    rvm_store_writer_discard(w); /* only its own run goes */
    w = begin(st, RVM_STORE_TX_SINGLE, 8);
    int64_t full = rvm_store_writer_run(w);
    feed(w, log.records, 0, log.count, &rng);
    assert_int_equal(rvm_store_writer_finish(w, "pass", 0, NULL, NULL), RVM_STORE_OK);
    /* nothing is visible to another connection until the transaction commits */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs"), 0);
    assert_int_equal(rvm_store_write_commit(st), RVM_STORE_OK);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs"), 4);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM records"), 300);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM scenarios"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs WHERE scenario IS NULL"), 4);

    struct rvm_store_run r;
    assert_int_equal(discarded, full); /* its id was never committed, so it is taken again */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs WHERE seed = 7"), 0);
    assert_int_equal(rvm_store_run_get(st, ids[1], &r), RVM_STORE_OK);
    assert_false(rvm_store_run_has_records(&r));
    assert_string_equal(r.content, "summary");
    assert_string_equal(r.status, "complete");
    assert_string_equal(r.scenario, text); /* from `scenarios` */
    assert_string_equal(r.target, "w");
    assert_string_equal(r.outcome, "x=1");
    assert_int_equal(r.seed, 1);
    assert_int_equal(r.record_count, 300);
    assert_int_equal(r.checkpoint_count, 2);
    assert_true(r.has_digest);
    assert_memory_equal(r.digest, sum.digest, 32);
    assert_memory_equal(r.chain, sum.chain, 32);
    rvm_store_run_free(&r);
    assert_int_equal(rvm_store_run_get(st, ids[2], &r), RVM_STORE_OK);
    assert_false(r.has_digest);
    rvm_store_run_free(&r);
    struct rvm_store_event *ev;
    size_t nev;
    assert_int_equal(rvm_store_events(st, ids[2], RVM_STORE_INVARIANTS, &ev, &nev), RVM_STORE_OK);
    assert_int_equal(nev, 1);
    assert_string_equal(ev[0].name, "worker.crash");
    assert_string_equal(ev[0].text, "signal 9");
    assert_int_equal(ev[0].time_ns, 5);
    rvm_store_events_free(ev, nev);
    assert_int_equal(rvm_store_run_get(st, full, &r), RVM_STORE_OK);
    assert_true(rvm_store_run_has_records(&r));
    rvm_store_run_free(&r);

    int64_t *list;
    size_t n;
    uint64_t count;
    assert_int_equal(rvm_store_run_ids_of(st, "summary", &list, &n), RVM_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list[0], ids[0]);
    free(list);
    assert_int_equal(rvm_store_run_ids_of(st, "full", &list, &n), RVM_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0], full);
    free(list);
    assert_int_equal(rvm_store_run_count_of(st, "summary", &count), RVM_STORE_OK);
    assert_int_equal(count, 3);

    struct rvm_verify_options vo = {.jobs = 1};
    struct rvm_verify_report rep;
    rvm_verify_run(st, ids[0], &vo, &rep);
    assert_int_equal(rep.verdict, RVM_VERIFY_SUMMARY);
    assert_int_equal(rep.records, 300);
    rvm_verify_run(st, full, &(struct rvm_verify_options){.jobs = 1, .allow_unsealed = true}, &rep);
    assert_int_equal(rep.verdict, RVM_VERIFY_OK);

    /* a rolled-back write transaction leaves nothing */
    assert_int_equal(rvm_store_write_begin(st), RVM_STORE_OK);
    int64_t gone;
    assert_int_equal(rvm_store_summary_add(st, &info, &sum, &gone), RVM_STORE_OK);
    rvm_store_write_rollback(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM runs"), 4);
    assert_false(rvm_store_in_write(st));
    rvm_store_close(st);
    rvm_memory_sink_free(&log);
}

/* Raw mode keeps a damaged log as it is; verify then names the damage. */
static void test_raw_writer_keeps_damage(void **state)
{
    (void)state;
    struct test_rng rng = test_rng_new(test_seed("raw_writer_keeps_damage", 29));
    struct rvm_memory_sink log;
    demo_log(3, 200, 50, &log, NULL);
    uint64_t bad = 1 + test_rng_below(&rng, 198);
    log.records[bad * 64 + 0] ^= 0x40; /* the record's own sequence number */
    struct rvm_store *st = open_ok(path_of("raw.db"), RVM_STORE_WRITE);
    struct rvm_store_writer *w = begin(st, RVM_STORE_TX_SINGLE, 3);
    assert_int_equal(rvm_store_writer_records(w, 0, log.records, 200), bad); /* strict: stops */
    rvm_store_writer_discard(w);
    w = begin(st, RVM_STORE_TX_SINGLE, 3);
    rvm_store_writer_set_raw(w, true);
    int64_t run = rvm_store_writer_run(w);
    assert_int_equal(rvm_store_writer_records(w, 0, log.records, 200), 200);
    assert_int_equal(rvm_store_writer_finish(w, "safety", 3, NULL, NULL), RVM_STORE_OK);
    struct rvm_verify_report rep;
    rvm_verify_run(st, run, &(struct rvm_verify_options){.jobs = 1, .allow_unsealed = true}, &rep);
    assert_int_equal(rep.verdict, RVM_VERIFY_FAILED);
    assert_true(rep.has_seq);
    assert_int_equal(rep.seq, bad);
    assert_non_null(strstr(rep.reason, "sequence"));
    rvm_store_close(st);
    rvm_memory_sink_free(&log);
}

/* A damaged record that is the last one a flush writes is stored as given too: the writer's
 * check that appended rows got the expected keys must not read the damaged sequence field. */
static void test_raw_writer_keeps_damage_in_the_last_record(void **state)
{
    (void)state;
    static const enum rvm_store_tx modes[] = {RVM_STORE_TX_SINGLE, RVM_STORE_TX_BATCHES};
    struct rvm_memory_sink log;
    demo_log(4, 100, 0, &log, NULL);
    log.records[99 * 64 + 0] ^= 0x01; /* the last record's own sequence number */
    struct rvm_store *st = open_ok(path_of("raw_last.db"), RVM_STORE_WRITE);
    for (size_t m = 0; m < RVM_ARRAY_LEN(modes); m++) {
        for (uint64_t split = 1; split <= 100; split += 99) { /* a first flush, then the rest */
            struct rvm_store_writer *w = begin(st, modes[m], 4);
            rvm_store_writer_set_raw(w, true);
            int64_t run = rvm_store_writer_run(w);
            assert_int_equal(rvm_store_writer_records(w, 0, log.records, split), split);
            assert_int_equal(rvm_store_writer_flush(w), RVM_STORE_OK);
            if (split < 100) {
                assert_int_equal(
                    rvm_store_writer_records(w, split, log.records + split * 64, 100 - split),
                    100 - split);
            }
            assert_int_equal(rvm_store_writer_finish(w, "safety", 3, NULL, NULL), RVM_STORE_OK);
            uint8_t image[64];
            assert_int_equal(rvm_store_record_get(st, run, 99, image, NULL), RVM_STORE_OK);
            assert_memory_equal(image, log.records + 99 * 64, 64);
        }
    }
    rvm_store_close(st);
    rvm_memory_sink_free(&log);
}

static void test_replayer_registry(void **state)
{
    (void)state;
    static const struct rvm_replayer fake = {"fake", "a test double", fake_replay};
    static const struct rvm_replayer demo2 = {"demo", "overrides the first", fake_replay};
    assert_null(rvm_replayer_find("demo")); /* the store knows no producer by itself */
    assert_true(rvm_replayer_register(&rvm_demo_replayer));
    assert_ptr_equal(rvm_replayer_find("demo"), &rvm_demo_replayer);
    assert_null(rvm_replayer_find("fake"));
    assert_null(rvm_replayer_find(NULL));
    assert_true(rvm_replayer_register(&fake));
    assert_ptr_equal(rvm_replayer_find("fake"), &fake);
    assert_true(rvm_replayer_register(&demo2));
    assert_ptr_equal(rvm_replayer_find("demo"), &demo2);
    int added = 3;
    while (rvm_replayer_register(&fake)) {
        added++;
    }
    assert_int_equal(added, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_schema_rules),
        cmocka_unit_test(test_writer_stores_what_it_was_given),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_discard_leaves_nothing),
        cmocka_unit_test(test_interleaved_writers),
        cmocka_unit_test(test_diff_matches_linear_model),
        cmocka_unit_test(test_diff_refuses_inconsistent_chain_values),
        cmocka_unit_test(test_verify_segments_find_the_planted_fault),
        cmocka_unit_test(test_tee_never_duplicates),
        cmocka_unit_test(test_replayer_registry),
        cmocka_unit_test(test_summary_runs_and_savepoints),
        cmocka_unit_test(test_raw_writer_keeps_damage),
        cmocka_unit_test(test_raw_writer_keeps_damage_in_the_last_record),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
