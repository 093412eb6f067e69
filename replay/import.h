/* SPDX-License-Identifier: MIT */
/*
 * `rvmsim import`: a raw log (concatenated 64-byte images) or a serial capture (wire frames)
 * becomes one stored run, verified while it is read, in one transaction: any error leaves the
 * database exactly as it was.
 */
#ifndef RVM_REPLAY_IMPORT_H
#define RVM_REPLAY_IMPORT_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rvm_import_format {
    RVM_IMPORT_RAW,
    RVM_IMPORT_SERIAL,
};

struct rvm_import_options {
    enum rvm_import_format format;
    bool strict; /* serial: any non-frame line is an error */
    bool has_seed;
    uint64_t seed;
    const char *platform;    /* NULL: from the header, else "unknown" */
    const uint8_t *hmac_key; /* external checkpoint key (NULL: derive from the seed) */
    size_t hmac_key_len;
    bool pin_ed25519;
    uint8_t ed25519_pub[32];
    bool allow_unsealed; /* serial: accept a log whose last record no checkpoint covers */
    const char *command; /* stored as the run's command */
};

struct rvm_import_result {
    int exit_code; /* enum rvmsim_exit */
    int64_t run;
    uint64_t records;
    uint64_t checkpoints;
    uint64_t signatures;
    uint64_t text_lines; /* serial: console lines skipped */
    uint64_t first_text_line;
    bool sealed;
    uint8_t digest[32];
    char message[768]; /* the error, as "FILE:LINE: ..." where a line is known */
};

void rvm_import_file(struct rvm_store *st, const char *path, const struct rvm_import_options *opt,
                     struct rvm_import_result *res);

#endif /* RVM_REPLAY_IMPORT_H */
