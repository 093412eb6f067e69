/* SPDX-License-Identifier: MIT */
#include "import.h"

#include "exit_codes.h"
#include "util.h"
#include "verify.h"
#include "wire_parse.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RAW_CHUNK 4096u /* records read at a time */

struct importer {
    struct rvm_store *st;
    const char *path;
    const struct rvm_import_options *opt;
    struct rvm_import_result *res;
    struct rvm_store_writer *w;
    struct rvm_witness_verifier v;
    uint8_t key[32];
    const uint8_t *keyp;
    uint32_t key_len;
    uint8_t pin[32];
    const uint8_t *pinp;
    char *result;
    int exit_code; /* recorded exit code of the imported run, -1 = unknown */
};

static void set_error(struct importer *im, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct importer *im, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->res->message, sizeof(im->res->message), fmt, ap);
    va_end(ap);
    im->res->exit_code = code;
}

/* Key material from the options, or from the seed; sets im->keyp/pinp. */
static bool choose_keys(struct importer *im, bool has_seed, uint64_t seed, const char **key_source)
{
    const struct rvm_import_options *opt = im->opt;
    uint8_t derived_pub[32];
    *key_source = "none";
    if (has_seed) {
        if (!rvm_verify_seed_keys(rvm_store_crypto(im->st), seed, im->key, derived_pub)) {
            set_error(im, RVMSIM_EXIT_INTERNAL, "OpenSSL could not derive the run's keys");
            return false;
        }
        im->keyp = im->key;
        im->key_len = sizeof(im->key);
        memcpy(im->pin, derived_pub, sizeof(im->pin));
        im->pinp = im->pin;
        *key_source = "seed";
    }
    if (opt->hmac_key != NULL) {
        im->keyp = opt->hmac_key;
        im->key_len = (uint32_t)opt->hmac_key_len;
        *key_source = "external";
        if (!has_seed) {
            im->pinp = NULL;
        }
    }
    if (opt->pin_ed25519) {
        memcpy(im->pin, opt->ed25519_pub, sizeof(im->pin));
        im->pinp = im->pin;
    }
    return true;
}

static bool begin(struct importer *im, const char *source, bool has_seed, uint64_t seed,
                  const char *platform, const char *build_id, const char *core_version,
                  const char *options)
{
    const char *key_source;
    if (!choose_keys(im, has_seed, seed, &key_source)) {
        return false;
    }
    struct rvm_store_run_info info = {
        .source = source,
        .key_source = key_source,
        .command = im->opt->command,
        .options = options,
        .platform = im->opt->platform != NULL ? im->opt->platform
                    : platform != NULL        ? platform
                                              : "unknown",
        .build_id = build_id != NULL ? build_id : "unknown",
        .core_version = core_version != NULL ? core_version : "unknown",
        .has_seed = has_seed,
        .seed = seed,
    };
    if (rvm_store_writer_begin(im->st, &info, RVM_STORE_TX_SINGLE, &im->w) != RVM_STORE_OK) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "%s", rvm_store_error(im->st));
        return false;
    }
    rvm_witness_verifier_init(&im->v, rvm_store_crypto(im->st), im->keyp, im->key_len);
    return true;
}

static bool store_record(struct importer *im, const uint8_t *image)
{
    uint64_t seq = rvm_load_le64(image + RVM_WOFF_SEQUENCE);
    if (rvm_store_writer_records(im->w, seq, image, 1) != 1) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "storing record %llu: %s", (unsigned long long)seq,
                  rvm_store_error(im->st));
        return false;
    }
    return true;
}

static bool finish(struct importer *im)
{
    struct rvm_import_result *res = im->res;
    res->run = rvm_store_writer_run(im->w);
    res->records = rvm_store_writer_count(im->w);
    enum rvm_store_status s = rvm_store_writer_finish(
        im->w, im->result != NULL ? im->result : "unknown", im->exit_code, res->digest, NULL);
    im->w = NULL;
    if (s != RVM_STORE_OK) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "%s", rvm_store_error(im->st));
        return false;
    }
    res->exit_code = RVMSIM_EXIT_PASS;
    return true;
}

/* ------------------------------------------------------------------------------------------------
 * Raw
 * --------------------------------------------------------------------------------------------- */

/* A hint for the common mistake of importing a serial capture as raw. */
static const char *capture_hint(FILE *f)
{
    char head[4096];
    size_t n = fread(head, 1, sizeof(head), f);
    rewind(f);
    for (size_t i = 0; i + 5 <= n; i++) {
        if (memcmp(head + i, "RVMW ", 5) == 0 && (i == 0 || head[i - 1] == '\n')) {
            return " (it looks like a serial capture: --format serial)";
        }
    }
    return "";
}

static void import_raw(struct importer *im, FILE *f, uint64_t size)
{
    const char *hint = capture_hint(f);
    if (size == 0) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s: empty file: no records to import", im->path);
        return;
    }
    if (size % RVM_WITNESS_RECORD_BYTES != 0) {
        set_error(im, RVMSIM_EXIT_USAGE,
                  "%s: size %llu is not a multiple of 64 bytes (%llu whole records and %llu "
                  "stray bytes): not a raw witness log, or truncated%s",
                  im->path, (unsigned long long)size,
                  (unsigned long long)(size / RVM_WITNESS_RECORD_BYTES),
                  (unsigned long long)(size % RVM_WITNESS_RECORD_BYTES), hint);
        return;
    }
    uint64_t total = size / RVM_WITNESS_RECORD_BYTES;
    if (total > RVM_STORE_MAX_RECORDS) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s: more records than a run can hold", im->path);
        return;
    }
    if (!begin(im, "import-raw", im->opt->has_seed, im->opt->seed, NULL, NULL, NULL, NULL)) {
        return;
    }
    uint8_t *buf = malloc(RAW_CHUNK * RVM_WITNESS_RECORD_BYTES);
    if (buf == NULL) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "out of memory");
        return;
    }
    uint64_t done = 0;
    while (done < total) {
        size_t want = total - done < RAW_CHUNK ? (size_t)(total - done) : RAW_CHUNK;
        size_t got = fread(buf, RVM_WITNESS_RECORD_BYTES, want, f);
        if (got != want) {
            set_error(im, RVMSIM_EXIT_USAGE, "%s: read failed or the file shrank at byte %llu",
                      im->path, (unsigned long long)(done * RVM_WITNESS_RECORD_BYTES));
            free(buf);
            return;
        }
        for (size_t i = 0; i < got; i++) {
            const uint8_t *image = buf + i * RVM_WITNESS_RECORD_BYTES;
            enum rvm_err err = rvm_witness_verify_record(&im->v, image);
            if (err != RVM_OK) {
                set_error(im, RVMSIM_EXIT_EXPECTATION, "%s: record %llu (byte offset %llu): %s%s",
                          im->path, (unsigned long long)(done + i),
                          (unsigned long long)((done + i) * RVM_WITNESS_RECORD_BYTES),
                          rvm_strerror(err), hint);
                free(buf);
                return;
            }
        }
        if (rvm_store_writer_records(im->w, done, buf, got) != got) {
            set_error(im, RVMSIM_EXIT_INTERNAL, "storing records: %s", rvm_store_error(im->st));
            free(buf);
            return;
        }
        done += got;
    }
    free(buf);
    if (fgetc(f) != EOF) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s: the file grew while it was read", im->path);
        return;
    }
    if (finish(im)) {
        im->res->sealed = false;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Serial
 * --------------------------------------------------------------------------------------------- */

/* Lines of a capture, with bounded memory: a line longer than the buffer is reported as
 * overlong with its first bytes, and the rest of it is skipped. */
struct line_reader {
    FILE *f;
    char buf[RVM_WIRE_LINE_MAX + 2];
    bool eof;
};

/* Returns false at end of input. */
static bool read_line(struct line_reader *r, size_t *len, bool *terminated, bool *overlong)
{
    size_t n = 0;
    *terminated = false;
    *overlong = false;
    if (r->eof) {
        return false;
    }
    for (;;) {
        int c = getc(r->f);
        if (c == EOF) {
            r->eof = true;
            break;
        }
        if (c == '\n') {
            *terminated = true;
            break;
        }
        if (n < sizeof(r->buf)) {
            r->buf[n++] = (char)c;
        } else {
            *overlong = true;
        }
    }
    *len = n;
    return n != 0 || *terminated || *overlong;
}

static const char *header_value(const struct rvm_wire_frame *h, const char *key)
{
    for (size_t i = 0; i < h->nfields; i++) {
        if (strcmp(h->keys[i], key) == 0) {
            return h->values[i];
        }
    }
    return NULL;
}

static bool on_header(struct importer *im, const struct rvm_wire_frame *h, uint64_t line)
{
    const struct rvm_import_options *opt = im->opt;
    bool has_seed = opt->has_seed;
    uint64_t seed = opt->seed;
    const char *seed_text = header_value(h, "seed");
    if (seed_text != NULL) {
        uint64_t header_seed;
        if (!rvm_parse_u64(seed_text, &header_seed)) {
            set_error(im, RVMSIM_EXIT_USAGE, "%s:%llu: header seed '%s' is not a number", im->path,
                      (unsigned long long)line, seed_text);
            return false;
        }
        if (has_seed && header_seed != seed) {
            set_error(im, RVMSIM_EXIT_USAGE,
                      "%s:%llu: the capture says seed %llu but --seed %llu was given", im->path,
                      (unsigned long long)line, (unsigned long long)header_seed,
                      (unsigned long long)seed);
            return false;
        }
        has_seed = true;
        seed = header_seed;
    }
    const char *result = header_value(h, "result");
    if (result != NULL && (im->result = strdup(result)) == NULL) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "out of memory");
        return false;
    }
    const char *exit_text = header_value(h, "exit");
    uint64_t exit_value;
    if (exit_text != NULL && rvm_parse_u64(exit_text, &exit_value) && exit_value < 256) {
        im->exit_code = (int)exit_value;
    }
    /* All header fields, as the run's options (space-separated key=value, values as sent). */
    char options[RVM_WIRE_FIELDS_MAX * (RVM_WIRE_KEY_MAX + RVM_WIRE_VALUE_MAX + 2) + 1];
    size_t n = 0;
    options[0] = '\0';
    for (size_t i = 0; i < h->nfields; i++) {
        n += (size_t)snprintf(options + n, sizeof(options) - n, "%s%s=%s", i ? " " : "", h->keys[i],
                              h->values[i]);
    }
    return begin(im, "import-serial", has_seed, seed, header_value(h, "platform"),
                 header_value(h, "build"), header_value(h, "core"), options);
}

static bool on_checkpoint(struct importer *im, const struct rvm_wire_frame *fr, uint64_t line)
{
    const struct rvm_witness_checkpoint *cp = &fr->cp;
    unsigned long long seq = (unsigned long long)cp->sequence;
    if (im->keyp == NULL) {
        set_error(im, RVMSIM_EXIT_USAGE,
                  "%s:%llu: checkpoint at seq %llu cannot be authenticated: the capture names no "
                  "seed; give --seed or --hmac-key",
                  im->path, (unsigned long long)line, seq);
        return false;
    }
    enum rvm_err err =
        rvm_witness_checkpoint_check(rvm_store_crypto(im->st), im->keyp, im->key_len, cp);
    if (err != RVM_OK) {
        set_error(im, RVMSIM_EXIT_EXPECTATION, "%s:%llu: checkpoint at seq %llu: %s", im->path,
                  (unsigned long long)line, seq, rvm_strerror(err));
        return false;
    }
    uint8_t chain[RVM_WITNESS_CHAIN_BYTES];
    if (rvm_store_writer_chain_at(im->w, cp->sequence, chain) != RVM_STORE_OK) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "%s", rvm_store_error(im->st));
        return false;
    }
    if (memcmp(chain, cp->chain, sizeof(chain)) != 0) {
        set_error(im, RVMSIM_EXIT_EXPECTATION,
                  "%s:%llu: checkpoint at seq %llu: its chain value is not the chain of the "
                  "records received",
                  im->path, (unsigned long long)line, seq);
        return false;
    }
    if (fr->has_ed25519) {
        if (im->pinp != NULL && memcmp(im->pinp, fr->ed25519_pub, 32) != 0) {
            set_error(im, RVMSIM_EXIT_EXPECTATION,
                      "%s:%llu: checkpoint at seq %llu: Ed25519 public key is not the run's key",
                      im->path, (unsigned long long)line, seq);
            return false;
        }
        if (!rvm_ed25519_verify_checkpoint(fr->ed25519_pub, cp, fr->ed25519_sig)) {
            set_error(im, RVMSIM_EXIT_EXPECTATION,
                      "%s:%llu: checkpoint at seq %llu: Ed25519 signature is invalid", im->path,
                      (unsigned long long)line, seq);
            return false;
        }
        im->res->signatures++;
    }
    if (!rvm_store_writer_checkpoint(im->w, cp, fr->has_ed25519 ? fr->ed25519_pub : NULL,
                                     fr->has_ed25519 ? fr->ed25519_sig : NULL)) {
        set_error(im, RVMSIM_EXIT_INTERNAL, "%s", rvm_store_error(im->st));
        return false;
    }
    im->res->checkpoints++;
    return true;
}

static void import_serial(struct importer *im, FILE *f)
{
    struct rvm_wire_parser p;
    struct rvm_wire_frame *fr = malloc(sizeof(*fr));
    struct line_reader *r = malloc(sizeof(*r));
    if (fr == NULL || r == NULL) {
        free(fr);
        free(r);
        set_error(im, RVMSIM_EXIT_INTERNAL, "out of memory");
        return;
    }
    r->f = f;
    r->eof = false;
    rvm_wire_parser_init(&p, im->opt->strict);
    bool ended = false;
    size_t len;
    bool terminated, overlong;
    while (read_line(r, &len, &terminated, &overlong)) {
        enum rvm_wire_result pr = rvm_wire_parse_line(&p, r->buf, len, terminated, overlong, fr);
        if (pr == RVM_WIRE_TEXT) {
            continue;
        }
        if (pr == RVM_WIRE_ERROR) {
            set_error(im, RVMSIM_EXIT_USAGE, "%s:%llu: %s", im->path, (unsigned long long)p.line,
                      p.error);
            goto out;
        }
        switch (fr->type) {
        case 'H':
            if (!on_header(im, fr, p.line)) {
                goto out;
            }
            break;
        case 'R': {
            enum rvm_err err = rvm_witness_verify_record(&im->v, fr->image);
            if (err != RVM_OK) {
                set_error(im, RVMSIM_EXIT_EXPECTATION, "%s:%llu: record %llu: %s", im->path,
                          (unsigned long long)p.line, (unsigned long long)fr->seq,
                          rvm_strerror(err));
                goto out;
            }
            if (!store_record(im, fr->image)) {
                goto out;
            }
            break;
        }
        case 'C':
        case 'S':
            if (!on_checkpoint(im, fr, p.line)) {
                goto out;
            }
            break;
        default: { /* 'E' */
            uint8_t digest[RVM_SHA256_DIGEST_BYTES];
            rvm_witness_verifier_digest(&im->v, digest);
            if (memcmp(digest, fr->digest, sizeof(digest)) != 0) {
                set_error(im, RVMSIM_EXIT_EXPECTATION,
                          "%s:%llu: the end frame's digest is not the digest of the records "
                          "received",
                          im->path, (unsigned long long)p.line);
                goto out;
            }
            ended = true;
            break;
        }
        }
    }
    if (ferror(f)) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s: read error: %s", im->path, strerror(errno));
        goto out;
    }
    if (!ended && !rvm_wire_parser_finish(&p)) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s:%llu: %s", im->path, (unsigned long long)p.line,
                  p.error);
        goto out;
    }
    im->res->text_lines = p.text_lines;
    im->res->first_text_line = p.first_text_line;
    if (p.records == 0) {
        set_error(im, RVMSIM_EXIT_USAGE, "%s: the capture holds no records", im->path);
        goto out;
    }
    /* the parser accepts nothing but the end frame after a seal: a seal is the last record's */
    im->res->sealed = p.sealed;
    if (!im->res->sealed && !im->opt->allow_unsealed) {
        set_error(im, RVMSIM_EXIT_UNSEALED,
                  "%s: unsealed: the log has no seal (final checkpoint) after its last record "
                  "(%llu); it was cut short or its producer stopped early "
                  "(--allow-unsealed accepts that)",
                  im->path, (unsigned long long)(p.records - 1));
        goto out;
    }
    finish(im);
out:
    free(fr);
    free(r);
}

void rvm_import_file(struct rvm_store *st, const char *path, const struct rvm_import_options *opt,
                     struct rvm_import_result *res)
{
    memset(res, 0, sizeof(*res));
    struct importer im = {.st = st, .path = path, .opt = opt, .res = res, .exit_code = -1};
    res->exit_code = RVMSIM_EXIT_INTERNAL;
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
        set_error(&im, RVMSIM_EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
        if (f != NULL) {
            fclose(f);
        }
        return;
    }
    if (!S_ISREG(sb.st_mode) && opt->format == RVM_IMPORT_RAW) {
        set_error(&im, RVMSIM_EXIT_USAGE, "%s: not a regular file", path);
        fclose(f);
        return;
    }
    if (opt->format == RVM_IMPORT_RAW) {
        import_raw(&im, f, (uint64_t)sb.st_size);
    } else {
        import_serial(&im, f);
    }
    fclose(f);
    if (im.w != NULL) {
        rvm_store_writer_discard(im.w); /* one transaction: nothing of this import remains */
    }
    free(im.result);
}
