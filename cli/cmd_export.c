/* SPDX-License-Identifier: MIT */
/* rvmsim export: a run's records as raw 64-byte images or JSON lines. */
#include "bundle.h"
#include "cmd_common.h"
#include "commands.h"
#include "options.h"
#include "util.h"

#include "rvm/bytes.h"
#include "rvm/sha256.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: rvmsim export --db PATH --run ID --format raw|jsonl|bundle -o FILE\n\n"
            "raw: the run's 64-byte record images concatenated, so `sha256sum FILE` prints the\n"
            "run's digest. jsonl: one JSON object per record (decoded fields, chain value and\n"
            "image). FILE '-' is standard output. The export is checked while it is written:\n"
            "records must be consecutive and their SHA-256 must be the run's recorded digest,\n"
            "else nothing is left behind and the exit code is 1.\n"
            "bundle: the run's metadata, records and checkpoints (with the seal, MACs,\n"
            "signatures and Ed25519 keys) in one file (docs/replay-store.md, Evidence\n"
            "bundles) that `rvmsim verify FILE` checks without a store.\n");
}

struct export_args {
    const char *db, *format, *path;
    int64_t run_id;
    bool raw;    /* raw images (also the body of a bundle) */
    bool bundle; /* head + raw images + checkpoints */
};

/* Parses the command line into *a; -1 when the command goes on, else the exit code. */
static int export_parse_args(int argc, char **argv, struct export_args *a)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},     {"run", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *a = (struct export_args){0};
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, "d:r:f:o:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            a->db = optarg;
            break;
        case 'r':
            if (!rvm_cmd_parse_run("export", optarg, &a->run_id)) {
                return RVMSIM_EXIT_USAGE;
            }
            break;
        case 'f':
            a->format = optarg;
            break;
        case 'o':
            a->path = optarg;
            break;
        case 'h':
            return cli_option_usage(export_usage, true);
        default:
            return cli_option_usage(export_usage, false);
        }
    }
    if (a->db == NULL || a->run_id == 0 || a->format == NULL || a->path == NULL || optind != argc) {
        rvm_errorf("export: --db, --run, --format and -o are required (and nothing else)");
        export_usage(stderr);
        return RVMSIM_EXIT_USAGE;
    }
    a->bundle = strcmp(a->format, "bundle") == 0;
    a->raw = a->bundle || strcmp(a->format, "raw") == 0;
    if (!a->raw && strcmp(a->format, "jsonl") != 0) {
        rvm_errorf("export: --format must be raw, jsonl or bundle, got '%s'", a->format);
        return RVMSIM_EXIT_USAGE;
    }
    return -1;
}

/* Opens a temporary file next to path (fsync'd and renamed at the end: a failed export leaves
 * nothing). A path that exists and is not a regular file (a device, a FIFO) is written in place
 * with *tmp NULL: renaming over it would replace /dev/null or a pipe with a file. */
static int open_temporary(const char *path, FILE **out, char **tmp)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        *tmp = NULL;
        *out = fopen(path, "wb");
        if (*out == NULL) {
            rvm_errorf("export: cannot write '%s': %m", path);
            return RVMSIM_EXIT_USAGE;
        }
        return RVMSIM_EXIT_PASS;
    }
    size_t len = strlen(path) + 32;
    *tmp = malloc(len);
    if (*tmp == NULL) {
        return RVMSIM_EXIT_INTERNAL;
    }
    snprintf(*tmp, len, "%s.tmp.%ld", path, (long)getpid());
    *out = fopen(*tmp, "wb");
    if (*out == NULL) {
        rvm_errorf("export: cannot write '%s': %m", path);
        return RVMSIM_EXIT_USAGE;
    }
    return RVMSIM_EXIT_PASS;
}

/* Writes records [0, count) of the run to out, chaining their images into state; the exit code. */
static int write_records(struct rvm_store *st, const struct export_args *a, uint64_t count,
                         FILE *out, uint32_t state[RVM_SHA256_STATE_WORDS])
{
    struct rvm_store_cursor *cur = NULL;
    enum rvm_store_status s = rvm_store_cursor_open(st, a->run_id, 0, count, NULL, &cur);
    if (s != RVM_STORE_OK) {
        rvm_errorf("export: %s", rvm_store_error(st));
        return rvm_cmd_exit_for(s);
    }
    int rc = RVMSIM_EXIT_PASS;
    uint64_t expected = 0;
    struct rvm_store_row row;
    while ((s = rvm_store_cursor_next(cur, &row)) == RVM_STORE_OK) {
        /* Gaps are refused; a damaged image is exported as stored (the run's digest, checked
         * below, was computed over the same bytes: a failing run keeps what its sink received). */
        if (row.seq != expected) {
            rvm_errorf("export: run %lld: record %" PRIu64 " is missing or out of place; run "
                       "`rvmsim verify`",
                       (long long)a->run_id, expected);
            rc = RVMSIM_EXIT_EXPECTATION;
            goto out;
        }
        rvm_crypto_compress(rvm_store_crypto(st), state, row.image, 1);
        if (a->raw) {
            fwrite(row.image, 1, RVM_WITNESS_RECORD_BYTES, out);
        } else {
            rvm_cmd_record_json(out, a->run_id, row.image, row.chain);
            fputc('\n', out);
        }
        expected++;
    }
    if (s != RVM_STORE_NOT_FOUND) {
        rvm_errorf("export: %s", rvm_store_error(st));
        rc = rvm_cmd_exit_for(s);
        goto out;
    }
    if (expected != count) {
        rvm_errorf("export: run %lld: record %" PRIu64 " is missing (the run has %" PRIu64
                   " records); run `rvmsim verify`",
                   (long long)a->run_id, expected, count);
        rc = RVMSIM_EXIT_EXPECTATION;
        goto out;
    }
out:
    rvm_store_cursor_close(cur);
    return rc;
}

/* The bundle's tail: every checkpoint of the run as stored; the exit code. */
static int write_bundle_checkpoints(struct rvm_store *st, int64_t run_id, const char *path,
                                    FILE *out)
{
    bool write_failed;
    enum rvm_store_status s = rvm_bundle_write_checkpoints(out, st, run_id, &write_failed);
    if (write_failed) {
        rvm_errorf("export: writing '%s' failed: %m", path);
        return RVMSIM_EXIT_INTERNAL;
    }
    if (s != RVM_STORE_OK) {
        rvm_errorf("export: %s", rvm_store_error(st));
        return rvm_cmd_exit_for(s);
    }
    return RVMSIM_EXIT_PASS;
}

int rvmsim_cmd_export(int argc, char **argv)
{
    struct export_args args;
    int rc = export_parse_args(argc, argv, &args);
    if (rc >= 0) {
        return rc;
    }
    const char *db = args.db, *path = args.path;
    const int64_t run_id = args.run_id;
    const bool raw = args.raw;
    struct rvm_store_run run;
    struct rvm_store *st = rvm_cmd_open_run("export", db, run_id, &run, &rc);
    if (st == NULL) {
        return rc;
    }
    FILE *out = NULL;
    char *tmp = NULL;
    bool to_stdout = strcmp(path, "-") == 0;
    enum rvm_store_status s = RVM_STORE_OK;
    bool complete = strcmp(run.status, "complete") == 0;
    uint64_t count = run.record_count;
    if (!complete) {
        s = rvm_store_record_extent(st, run_id, &count);
        if (s != RVM_STORE_OK) {
            rvm_errorf("export: %s", rvm_store_error(st));
            rc = rvm_cmd_exit_for(s);
            goto out;
        }
        rvm_errorf("export: warning: run %lld is incomplete (status %s): it has no recorded "
                   "digest to check the export against",
                   (long long)run_id, run.status);
    }
    if (to_stdout) {
        out = stdout;
    } else {
        rc = open_temporary(path, &out, &tmp);
        if (rc != RVMSIM_EXIT_PASS) {
            goto out;
        }
    }
    uint32_t state[RVM_SHA256_STATE_WORDS];
    rvm_sha256_iv(state);
    if (args.bundle && !rvm_bundle_write_head(out, &run, count)) {
        rvm_errorf("export: writing '%s' failed: %m", path);
        rc = RVMSIM_EXIT_INTERNAL;
        goto out;
    }
    rc = write_records(st, &args, count, out, state);
    if (rc == RVMSIM_EXIT_PASS && args.bundle) {
        rc = write_bundle_checkpoints(st, run_id, path, out);
    }
    if (rc != RVMSIM_EXIT_PASS) {
        goto out;
    }
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    char hex[65];
    rvm_sha256_finish_aligned(rvm_store_crypto(st), state, count * RVM_WITNESS_RECORD_BYTES,
                              digest);
    rvm_hex(digest, sizeof(digest), hex);
    if (complete && memcmp(digest, run.digest, sizeof(digest)) != 0) {
        rvm_errorf("export: run %lld: the records' SHA-256 %s is not the run's recorded digest; "
                   "run `rvmsim verify`",
                   (long long)run_id, hex);
        rc = RVMSIM_EXIT_EXPECTATION;
        goto out;
    }
    if (fflush(out) != 0 || ferror(out) || (tmp != NULL && fsync(fileno(out)) != 0) ||
        (!to_stdout && fclose(out) != 0)) {
        if (!to_stdout) {
            out = NULL;
        }
        rvm_errorf("export: writing '%s' failed: %m", path);
        rc = RVMSIM_EXIT_INTERNAL;
        goto out;
    }
    if (!to_stdout) {
        out = NULL;
    }
    if (tmp != NULL) {
        if (rename(tmp, path) != 0) {
            rvm_errorf("export: cannot create '%s': %m", path);
            rc = RVMSIM_EXIT_USAGE;
            goto out;
        }
        free(tmp);
        tmp = NULL;
    }
    char size[48];
    if (args.bundle) {
        snprintf(size, sizeof(size), " as a bundle with its checkpoints");
    } else if (raw) {
        snprintf(size, sizeof(size), " (%" PRIu64 " bytes)", count * RVM_WITNESS_RECORD_BYTES);
    } else {
        snprintf(size, sizeof(size), " as JSON lines");
    }
    fprintf(to_stdout ? stderr : stdout,
            "exported run %lld: %" PRIu64 " records%s to %s; sha256 of the images %s\n",
            (long long)run_id, count, size, path, hex);
    rc = RVMSIM_EXIT_PASS;
out:
    if (out != NULL && !to_stdout) {
        fclose(out);
    }
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    rvm_store_run_free(&run);
    rvm_store_read_end(st);
    rvm_store_close(st);
    return rc;
}
