/* SPDX-License-Identifier: MIT */
#include "bundle.h"

#include "store_internal.h"
#include "util.h"

#include "rvm/bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_CHUNK_RECORDS 4096u

static bool put_le32(FILE *out, uint32_t v)
{
    uint8_t b[4];
    rvm_store_le32(b, v);
    return fwrite(b, 1, sizeof(b), out) == sizeof(b);
}

static bool put_le64(FILE *out, uint64_t v)
{
    uint8_t b[8];
    rvm_store_le64(b, v);
    return fwrite(b, 1, sizeof(b), out) == sizeof(b);
}

/* Appends "key=value\n" unless the value is absent or would break the line format. */
static void meta_add(char *meta, size_t cap, size_t *len, const char *key, const char *value)
{
    if (value == NULL || strchr(value, '\n') != NULL || *len >= cap) {
        return;
    }
    int n = snprintf(meta + *len, cap - *len, "%s=%s\n", key, value);
    if (n > 0 && (size_t)n < cap - *len) {
        *len += (size_t)n;
    } else {
        meta[*len] = '\0';
    }
}

bool rvm_bundle_write_head(FILE *out, const struct rvm_store_run *run, uint64_t record_count)
{
    char *meta = malloc(RVM_BUNDLE_MAX_META);
    if (meta == NULL) {
        return false;
    }
    size_t len = 0;
    char num[32], hex[65];
    meta[0] = '\0';
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "source", run->source);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "key_source", run->key_source);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "status", run->status);
    if (run->has_seed) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)run->seed);
        meta_add(meta, RVM_BUNDLE_MAX_META, &len, "seed", num);
    }
    snprintf(num, sizeof(num), "%llu", (unsigned long long)record_count);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "record_count", num);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)run->checkpoint_count);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "checkpoint_count", num);
    if (run->has_digest) {
        rvm_hex(run->digest, sizeof(run->digest), hex);
        meta_add(meta, RVM_BUNDLE_MAX_META, &len, "digest", hex);
        rvm_hex(run->chain, sizeof(run->chain), hex);
        meta_add(meta, RVM_BUNDLE_MAX_META, &len, "chain", hex);
    }
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "result", run->result);
    if (run->has_exit_code) {
        snprintf(num, sizeof(num), "%d", run->exit_code);
        meta_add(meta, RVM_BUNDLE_MAX_META, &len, "exit_code", num);
    }
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "platform", run->platform);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "target", run->target);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "options", run->options);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "build_id", run->build_id);
    meta_add(meta, RVM_BUNDLE_MAX_META, &len, "command", run->command);
    bool ok = fwrite(RVM_BUNDLE_MAGIC, 1, RVM_BUNDLE_MAGIC_BYTES, out) == RVM_BUNDLE_MAGIC_BYTES &&
              put_le32(out, RVM_BUNDLE_VERSION) && put_le32(out, (uint32_t)len) &&
              fwrite(meta, 1, len, out) == len && put_le64(out, record_count);
    free(meta);
    return ok;
}

static bool write_checkpoint(FILE *out, const struct rvm_store_checkpoint *c)
{
    uint8_t b[RVM_BUNDLE_CHECKPOINT_BYTES] = {0};
    rvm_store_le64(b, c->cp.sequence);
    b[8] = c->cp.seal ? 1 : 0;
    b[9] = c->has_ed25519 ? 1 : 0;
    memcpy(b + 16, c->cp.digest, 32);
    memcpy(b + 48, c->cp.chain, 32);
    memcpy(b + 80, c->cp.hmac, 32);
    if (c->has_ed25519) {
        memcpy(b + 112, c->ed25519_pub, 32);
        memcpy(b + 144, c->ed25519_sig, 64);
    }
    return fwrite(b, 1, sizeof(b), out) == sizeof(b);
}

/* One pass over the run's checkpoints: counts them, and writes each when out is not NULL. */
static enum rvm_store_status checkpoint_pass(FILE *out, struct rvm_store *st, int64_t run,
                                             uint32_t *count, bool *write_failed)
{
    struct rvm_store_checkpoint_cursor *cur;
    struct rvm_store_checkpoint c;
    enum rvm_store_status s = rvm_store_checkpoint_cursor_open(st, run, &cur);
    int write_errno = 0;
    *count = 0;
    /* bound: the run's checkpoints */
    while (s == RVM_STORE_OK && (s = rvm_store_checkpoint_cursor_next(cur, &c)) == RVM_STORE_OK) {
        if (out != NULL && !write_checkpoint(out, &c)) {
            write_errno = errno;
            *write_failed = true;
            s = RVM_STORE_ERROR;
            break;
        }
        (*count)++;
    }
    rvm_store_checkpoint_cursor_close(cur);
    if (*write_failed) {
        errno = write_errno; /* the caller reports it */
    }
    return s == RVM_STORE_NOT_FOUND ? RVM_STORE_OK : s;
}

enum rvm_store_status rvm_bundle_write_checkpoints(FILE *out, struct rvm_store *st, int64_t run,
                                                   bool *write_failed)
{
    *write_failed = false;
    uint32_t count, written;
    enum rvm_store_status s = checkpoint_pass(NULL, st, run, &count, write_failed);
    if (s != RVM_STORE_OK) {
        return s;
    }
    if (!put_le32(out, count)) {
        *write_failed = true;
        return RVM_STORE_ERROR;
    }
    s = checkpoint_pass(out, st, run, &written, write_failed);
    if (s == RVM_STORE_OK && written != count) {
        rvm_store_set_error(st, "%s: run %lld: its checkpoints changed while being exported",
                            rvm_store_path(st), (long long)run);
        s = RVM_STORE_ERROR;
    }
    return s;
}

static void file_report(struct rvm_verify_report *rep, enum rvm_verify_verdict verdict,
                        bool has_seq, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void file_report(struct rvm_verify_report *rep, enum rvm_verify_verdict verdict,
                        bool has_seq, uint64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
    va_end(ap);
    rep->verdict = verdict;
    rep->has_seq = has_seq;
    rep->seq = seq;
    if (verdict == RVM_VERIFY_ERROR && rep->store_status == RVM_STORE_OK) {
        rep->store_status = RVM_STORE_ERROR;
    }
}

/* The bundle's metadata, parsed from its key=value block. */
struct bundle_meta {
    char *text; /* the block, NUL-terminated and split in place */
    const char *source, *key_source, *status, *platform, *options, *command, *target, *result;
    bool has_seed, has_digest, has_record_count;
    uint64_t seed, record_count, checkpoint_count;
    uint8_t digest[32], chain[32];
};

static bool parse_hex32(const char *text, uint8_t out[32])
{
    if (strlen(text) != 64) {
        return false;
    }
    for (size_t i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(text + 2 * i, "%2x", &v) != 1) {
            return false;
        }
        out[i] = (uint8_t)v;
    }
    return true;
}

/* Splits the block into its keys; false (with the reason in rep) for a malformed block. */
static bool parse_meta(struct bundle_meta *m, struct rvm_verify_report *rep)
{
    bool have_digest = false, have_chain = false;
    char *line = m->text;
    /* bound: one iteration per line of a block of at most RVM_BUNDLE_MAX_META bytes */
    while (*line != '\0') {
        char *end = strchr(line, '\n');
        if (end == NULL) {
            file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: metadata line not ended");
            return false;
        }
        *end = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: metadata line without '='");
            return false;
        }
        *eq = '\0';
        const char *v = eq + 1;
        bool ok = true;
        if (strcmp(line, "source") == 0) {
            m->source = v;
        } else if (strcmp(line, "key_source") == 0) {
            m->key_source = v;
        } else if (strcmp(line, "status") == 0) {
            m->status = v;
        } else if (strcmp(line, "platform") == 0) {
            m->platform = v;
        } else if (strcmp(line, "options") == 0) {
            m->options = v;
        } else if (strcmp(line, "command") == 0) {
            m->command = v;
        } else if (strcmp(line, "target") == 0) {
            m->target = v;
        } else if (strcmp(line, "result") == 0) {
            m->result = v;
        } else if (strcmp(line, "seed") == 0) {
            ok = rvm_parse_u64(v, &m->seed);
            m->has_seed = true;
        } else if (strcmp(line, "record_count") == 0) {
            ok = rvm_parse_u64(v, &m->record_count);
            m->has_record_count = true;
        } else if (strcmp(line, "checkpoint_count") == 0) {
            ok = rvm_parse_u64(v, &m->checkpoint_count);
        } else if (strcmp(line, "digest") == 0) {
            ok = parse_hex32(v, m->digest);
            have_digest = true;
        } else if (strcmp(line, "chain") == 0) {
            ok = parse_hex32(v, m->chain);
            have_chain = true;
        }
        if (!ok) {
            file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: metadata %s: bad value '%s'",
                        line, v);
            return false;
        }
        line = end + 1;
    }
    m->has_digest = have_digest && have_chain;
    if (m->source == NULL || m->key_source == NULL || m->status == NULL) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0,
                    "bundle: metadata lacks source, key_source or status");
        return false;
    }
    return true;
}

static bool read_exact(FILE *in, void *buf, size_t len)
{
    return fread(buf, 1, len, in) == len;
}

/* A store in a new temporary file; path receives its name. */
static struct rvm_store *temp_store(char *path, size_t cap, struct rvm_verify_report *rep)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/rvmsim-verify-XXXXXX", dir != NULL && *dir != '\0' ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "cannot create a temporary store: %m");
        path[0] = '\0';
        return NULL;
    }
    close(fd);
    struct rvm_store *st = NULL;
    char err[256];
    if (rvm_store_open(path, RVM_STORE_WRITE, &st, err, sizeof(err)) != RVM_STORE_OK) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "temporary store: %s", err);
        return NULL;
    }
    return st;
}

static void temp_store_remove(const char *path)
{
    if (path[0] == '\0') {
        return;
    }
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

/* Feeds up to `limit` records (UINT64_MAX: to the end of the file) to the writer; false after
 * reporting a short or broken file. */
static bool load_records(FILE *in, struct rvm_store *st, struct rvm_store_writer *w, uint64_t limit,
                         bool bundle, struct rvm_verify_report *rep)
{
    uint8_t *buf = malloc((size_t)FILE_CHUNK_RECORDS * RVM_WITNESS_RECORD_BYTES);
    if (buf == NULL) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "out of memory");
        return false;
    }
    uint64_t seq = 0;
    bool ok = true;
    /* bound: one iteration per chunk of the file's records */
    while (ok && seq < limit) {
        uint64_t want = limit - seq < FILE_CHUNK_RECORDS ? limit - seq : FILE_CHUNK_RECORDS;
        size_t got = fread(buf, 1, (size_t)want * RVM_WITNESS_RECORD_BYTES, in);
        size_t whole = got / RVM_WITNESS_RECORD_BYTES;
        if (whole != 0 && rvm_store_writer_records(w, seq, buf, whole) != whole) {
            file_report(rep, RVM_VERIFY_ERROR, false, 0, "temporary store: %s",
                        rvm_store_error(st));
            ok = false;
            break;
        }
        seq += whole;
        if (got % RVM_WITNESS_RECORD_BYTES != 0) {
            file_report(rep, RVM_VERIFY_FAILED, true, seq,
                        "record: cut short (%zu stray bytes after %llu whole records)",
                        got % RVM_WITNESS_RECORD_BYTES, (unsigned long long)seq);
            ok = false;
        } else if (got < (size_t)want * RVM_WITNESS_RECORD_BYTES) {
            if (bundle) {
                file_report(rep, RVM_VERIFY_FAILED, true, seq,
                            "record: missing from the bundle (it declares %llu records)",
                            (unsigned long long)limit);
                ok = false;
            }
            break;
        }
    }
    free(buf);
    if (ok && !bundle && seq == 0) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "the file holds no records");
        rep->store_status = RVM_STORE_BAD_FILE;
        ok = false;
    }
    return ok;
}

/* Reads the bundle's checkpoints into the writer; false after reporting. */
static bool load_checkpoints(FILE *in, struct rvm_store *st, struct rvm_store_writer *w,
                             struct rvm_verify_report *rep)
{
    uint8_t b[RVM_BUNDLE_CHECKPOINT_BYTES];
    if (!read_exact(in, b, 4)) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: checkpoint count missing");
        return false;
    }
    uint32_t n = rvm_load_le32(b);
    for (uint32_t i = 0; i < n; i++) {
        if (!read_exact(in, b, sizeof(b))) {
            file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: checkpoint %u of %u missing", i,
                        n);
            return false;
        }
        struct rvm_witness_checkpoint cp;
        cp.sequence = rvm_load_le64(b);
        bool reserved_zero = b[8] <= 1 && b[9] <= 1;
        for (size_t k = 10; k < 16; k++) {
            reserved_zero = reserved_zero && b[k] == 0;
        }
        if (!reserved_zero) {
            file_report(rep, RVM_VERIFY_FAILED, true, cp.sequence,
                        "checkpoint: flags or reserved bytes are not valid");
            return false;
        }
        cp.seal = b[8] == 1;
        memcpy(cp.digest, b + 16, 32);
        memcpy(cp.chain, b + 48, 32);
        memcpy(cp.hmac, b + 80, 32);
        bool signed_cp = b[9] == 1;
        if (!rvm_store_writer_checkpoint(w, &cp, signed_cp ? b + 112 : NULL,
                                         signed_cp ? b + 144 : NULL)) {
            file_report(rep, RVM_VERIFY_FAILED, true, cp.sequence, "checkpoint: %s",
                        rvm_store_error(st));
            return false;
        }
    }
    if (fgetc(in) != EOF) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: bytes after the last checkpoint");
        return false;
    }
    return true;
}

/* Sets the run's row to what the bundle claims, for the verifier to check it against. */
static bool claim_run_row(struct rvm_store *st, int64_t run, const struct bundle_meta *m,
                          struct rvm_verify_report *rep)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db,
                                "UPDATE runs SET status = ?2, record_count = ?3, "
                                "checkpoint_count = ?4, digest = ?5, chain = ?6 WHERE id = ?1",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, run);
        sqlite3_bind_text(stmt, 2, m->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, (int64_t)m->record_count);
        sqlite3_bind_int64(stmt, 4, (int64_t)m->checkpoint_count);
        if (m->has_digest) {
            sqlite3_bind_blob(stmt, 5, m->digest, 32, SQLITE_STATIC);
            sqlite3_bind_blob(stmt, 6, m->chain, 32, SQLITE_STATIC);
        }
        rc = sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "temporary store: %s", sqlite3_errmsg(st->db));
        return false;
    }
    return true;
}

/* Reads the bundle's head into m (text malloc'ed); false after reporting. */
static bool read_bundle_head(FILE *in, struct bundle_meta *m, struct rvm_verify_report *rep)
{
    uint8_t b[8];
    if (!read_exact(in, b, 8)) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: header cut short");
        return false;
    }
    uint32_t version = rvm_load_le32(b), len = rvm_load_le32(b + 4);
    if (version != RVM_BUNDLE_VERSION) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0,
                    "bundle version %u is not supported (this build reads version %u)", version,
                    RVM_BUNDLE_VERSION);
        rep->store_status = RVM_STORE_BAD_FILE;
        return false;
    }
    if (len > RVM_BUNDLE_MAX_META) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: metadata block of %u bytes", len);
        return false;
    }
    m->text = malloc((size_t)len + 1);
    if (m->text == NULL || !read_exact(in, m->text, len) || !read_exact(in, b, 8)) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: header cut short");
        return false;
    }
    m->text[len] = '\0';
    if (strlen(m->text) != len) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0, "bundle: NUL byte in the metadata");
        return false;
    }
    uint64_t declared = rvm_load_le64(b);
    if (!parse_meta(m, rep)) {
        return false;
    }
    if (m->has_record_count && m->record_count != declared) {
        file_report(rep, RVM_VERIFY_FAILED, false, 0,
                    "bundle: metadata says %llu records, the header %llu",
                    (unsigned long long)m->record_count, (unsigned long long)declared);
        return false;
    }
    m->record_count = declared;
    return true;
}

static void verify_loaded(FILE *in, struct rvm_store *st, bool bundle,
                          const struct rvm_verify_options *opt, struct rvm_verify_report *rep)
{
    struct bundle_meta meta = {0};
    uint64_t claimed_count = 0;
    if (bundle) {
        if (!read_bundle_head(in, &meta, rep)) {
            free(meta.text);
            return;
        }
    }
    struct rvm_store_run_info info = {
        .source = bundle ? meta.source : "file-raw",
        .key_source = bundle ? meta.key_source : "none",
        .platform = bundle && meta.platform != NULL ? meta.platform : "unknown",
        .options = meta.options,
        .command = meta.command,
        .target = meta.target,
        .has_seed = meta.has_seed,
        .seed = meta.seed,
    };
    struct rvm_store_writer *w = NULL;
    if (rvm_store_writer_begin(st, &info, RVM_STORE_TX_SINGLE, &w) != RVM_STORE_OK) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "temporary store: %s", rvm_store_error(st));
        free(meta.text);
        return;
    }
    rvm_store_writer_set_raw(w, true);
    int64_t run = rvm_store_writer_run(w);
    bool ok = load_records(in, st, w, bundle ? meta.record_count : UINT64_MAX, bundle, rep) &&
              (!bundle || load_checkpoints(in, st, w, rep));
    if (!ok) {
        rvm_store_writer_discard(w);
        free(meta.text);
        return;
    }
    claimed_count = rvm_store_writer_count(w);
    if (rvm_store_writer_finish(w, bundle && meta.result != NULL ? meta.result : "unknown", -1,
                                NULL, NULL) != RVM_STORE_OK) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "temporary store: %s", rvm_store_error(st));
        free(meta.text);
        return;
    }
    if (bundle) {
        meta.record_count = claimed_count;
        if (!claim_run_row(st, run, &meta, rep)) {
            free(meta.text);
            return;
        }
    }
    free(meta.text);
    struct rvm_verify_options one = *opt;
    one.jobs = 1; /* the temporary store is verified on this handle */
    rvm_verify_run(st, run, &one, rep);
}

void rvm_verify_file(const char *path, const struct rvm_verify_options *opt,
                     enum rvm_file_kind *kind, struct rvm_verify_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    *kind = RVM_FILE_RAW;
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0, "cannot read '%s': %m", path);
        rep->store_status = RVM_STORE_BAD_FILE;
        return;
    }
    uint8_t magic[RVM_BUNDLE_MAGIC_BYTES];
    bool bundle = read_exact(in, magic, sizeof(magic)) &&
                  memcmp(magic, RVM_BUNDLE_MAGIC, RVM_BUNDLE_MAGIC_BYTES) == 0;
    uint8_t sqlite_magic[16] = {0};
    memcpy(sqlite_magic, magic, sizeof(magic));
    if (!bundle && read_exact(in, sqlite_magic + 8, 8) &&
        memcmp(sqlite_magic, "SQLite format 3", 16) == 0) {
        file_report(rep, RVM_VERIFY_ERROR, false, 0,
                    "'%s' is an SQLite database, not a bundle or raw log: give it as --db", path);
        rep->store_status = RVM_STORE_BAD_FILE;
        fclose(in);
        return;
    }
    if (bundle) {
        *kind = RVM_FILE_BUNDLE;
    } else {
        rewind(in);
    }
    char tmp[4096];
    struct rvm_store *st = temp_store(tmp, sizeof(tmp), rep);
    if (st != NULL) {
        verify_loaded(in, st, bundle, opt, rep);
        rvm_store_close(st);
    }
    temp_store_remove(tmp);
    fclose(in);
}
