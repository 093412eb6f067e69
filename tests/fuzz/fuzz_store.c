/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the replay store reads from files it does not control, built and
 * run briefly by scripts/run_fuzz_store.sh (clang -fsanitize=fuzzer,address,undefined):
 *
 *   first byte even: the rest is a store file (the seed corpus holds real stores, so mutations
 *     are damaged stores); it is opened read-only and every run is listed, verified, its
 *     checkpoints and records read and the store checked, as `rvmsim runs/verify/show/store
 *     check` do;
 *   first byte odd: the rest is a raw log imported (`rvmsim import --format raw`, bit 1 of the
 *     first byte chooses a seed) into a fresh store, then verified as `rvmsim verify` would;
 *   first byte 2 mod 4: the rest is a serial capture imported (`rvmsim import --format serial`,
 *     after the frame parser: authentication, chain, seal), then verified;
 *   first byte 4: the rest is a file given to `rvmsim verify FILE` (an evidence bundle when it
 *     starts with the bundle magic, else a raw log).
 *
 * Besides the sanitizers' checks: a store that opened must never give RVM_VERIFY_OK with a
 * record count above what the file can hold, an imported raw log must verify as unsealed, and
 * an imported capture must verify with the verdict the import gave (sealed), a fresh store after
 * an import (stored or refused) must have a manifest that agrees with its runs, and a file must
 * never verify with more records than it holds. A damaged store's manifest is checked too.
 */
#include "bundle.h"
#include "import.h"
#include "manifest.h"
#include "store.h"
#include "store_check.h"
#include "verify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        abort();
    }
    if (size != 0 && fwrite(data, 1, size, f) != size) {
        abort();
    }
    fclose(f);
}

static void remove_store(const char *path)
{
    char side[160];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static void read_store(const char *path, uint64_t file_bytes)
{
    struct rvm_store *st = NULL;
    char err[600];
    if (rvm_store_open(path, RVM_STORE_READ, &st, err, sizeof(err)) != RVM_STORE_OK) {
        return;
    }
    int64_t *ids = NULL;
    size_t n = 0;
    if (rvm_store_run_ids(st, &ids, &n) == RVM_STORE_OK) {
        for (size_t i = 0; i < n && i < 8; i++) {
            struct rvm_verify_options opt = {.jobs = 1, .allow_unsealed = (i & 1) != 0};
            struct rvm_verify_report rep;
            rvm_verify_run(st, ids[i], &opt, &rep);
            if (rep.verdict == RVM_VERIFY_OK && rep.records * 64 > file_bytes) {
                abort(); /* verified more records than the file holds */
            }
            struct rvm_store_checkpoint *cps = NULL;
            size_t ncps = 0;
            if (rvm_store_checkpoints(st, ids[i], &cps, &ncps) == RVM_STORE_OK) {
                free(cps);
            }
            uint8_t image[64], chain[32];
            (void)rvm_store_record_get(st, ids[i], 0, image, chain);
        }
    }
    struct rvm_store_check_report rep;
    (void)rvm_store_check(st, &rep);
    struct rvm_manifest_report man;
    static const uint8_t pin[RVM_MANIFEST_HASH_BYTES] = {1};
    (void)rvm_store_manifest_check(st, NULL, 0, &man);
    (void)rvm_store_manifest_check(st, pin, n != 0 ? ids[0] : 1, &man);
    free(ids);
    rvm_store_close(st);
}

static void import_file(const uint8_t *data, size_t size, enum rvm_import_format format,
                        bool seeded)
{
    char raw[96], db[96];
    snprintf(raw, sizeof(raw), "%s/in.capture", dir);
    snprintf(db, sizeof(db), "%s/imported.db", dir);
    write_file(raw, data, size);
    remove_store(db);
    struct rvm_store *st = NULL;
    char err[600];
    if (rvm_store_open(db, RVM_STORE_WRITE, &st, err, sizeof(err)) != RVM_STORE_OK) {
        abort();
    }
    struct rvm_import_options opt = {.format = format, .has_seed = seeded, .seed = 1};
    struct rvm_import_result res;
    rvm_import_file(st, raw, &opt, &res);
    if (res.exit_code == 0) {
        struct rvm_verify_options vo = {.jobs = 1};
        struct rvm_verify_report rep;
        rvm_verify_run(st, res.run, &vo, &rep);
        if (format == RVM_IMPORT_RAW &&
            (rep.verdict != RVM_VERIFY_UNSEALED || res.records * 64 != size)) {
            abort(); /* a raw log has no seal: never sealed, never tampered once imported */
        }
        if (format == RVM_IMPORT_SERIAL &&
            (rep.verdict != RVM_VERIFY_OK || !rep.sealed || !res.sealed ||
             rep.records != res.records || memcmp(rep.digest, res.digest, 32) != 0)) {
            abort(); /* the import said sealed: verify must say the same of the same log */
        }
    }
    struct rvm_manifest_report man;
    if (rvm_store_manifest_check(st, NULL, 0, &man) != RVM_STORE_OK || !man.present || !man.ok ||
        man.runs != (res.exit_code == 0 ? 1u : 0u)) {
        abort(); /* the importer's own store: its manifest lists exactly the run it stored */
    }
    rvm_store_close(st);
}

static void verify_file(const uint8_t *data, size_t size)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/in.bundle", dir);
    write_file(path, data, size);
    struct rvm_verify_options opt = {.jobs = 1};
    enum rvm_file_kind kind;
    struct rvm_verify_report rep;
    rvm_verify_file(path, &opt, &kind, &rep);
    if ((rep.verdict == RVM_VERIFY_OK || rep.verdict == RVM_VERIFY_UNSEALED) &&
        rep.records * 64u > size) {
        abort(); /* verified more records than the file holds */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        /* every input is a store file written anew: in the directory the runner made (and
         * removes), else on a memory file system when there is one */
        const char *given = getenv("RVM_FUZZ_STORE_DIR");
        if (given != NULL && given[0] != '\0') {
            snprintf(dir, sizeof(dir), "%s", given);
        } else {
            snprintf(dir, sizeof(dir), "%s/rvm-fuzz-store-%d",
                     access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
        }
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
            abort();
        }
        setenv("TMPDIR", dir, 1); /* verify_file's temporary stores */
    }
    if (size == 0) {
        return 0;
    }
    if (data[0] == 4) {
        verify_file(data + 1, size - 1);
        return 0;
    }
    if ((data[0] & 1) != 0) {
        import_file(data + 1, size - 1, RVM_IMPORT_RAW, (data[0] & 2) != 0);
        return 0;
    }
    if ((data[0] & 3) == 2) {
        import_file(data + 1, size - 1, RVM_IMPORT_SERIAL, false);
        return 0;
    }
    char db[96];
    snprintf(db, sizeof(db), "%s/damaged.db", dir);
    remove_store(db);
    write_file(db, data + 1, size - 1);
    read_store(db, size - 1);
    return 0;
}
