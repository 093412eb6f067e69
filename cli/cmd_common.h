/* SPDX-License-Identifier: MIT */
/* Helpers shared by the rvmsim commands over the replay store (runs, verify, diff, show, ...). */
#ifndef RVM_CLI_CMD_COMMON_H
#define RVM_CLI_CMD_COMMON_H

#include "json.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Open a store; on failure print the reason and return NULL with *exit_code set (2 for a file
 * that is not a usable store, 6 for anything else). */
struct rvm_store *rvm_cmd_open_store(const char *cmd, const char *path, enum rvm_store_mode mode,
                                     int *exit_code);

/* Parse a run id (1..RVM_STORE_MAX_RUN); prints a usage error and returns false otherwise. */
bool rvm_cmd_parse_run(const char *cmd, const char *text, int64_t *out);

/* Read a run; prints the error. Returns 0, or the exit code (2 missing run, 1 malformed
 * metadata, 6 other). */
int rvm_cmd_get_run(const char *cmd, struct rvm_store *st, int64_t id, struct rvm_store_run *run);

/* For commands that need a run's records: 0 when the run has them; for a summary-only run,
 * prints what the summary holds, that its records were not stored and how to store it in full
 * (for `what`: "verify", "show", ...), and returns 2. */
int rvm_cmd_need_records(const char *cmd, const struct rvm_store_run *run, const char *db);

/* Open `db` read-only, begin reading and fetch run `id`, which must hold its records (the checks
 * above, each with its message): the store, reading, with *run filled — or NULL with *rc set and
 * everything released. The caller ends with rvm_store_run_free, rvm_store_read_end and
 * rvm_store_close. */
struct rvm_store *rvm_cmd_open_run(const char *cmd, const char *db, int64_t id,
                                   struct rvm_store_run *run, int *rc);

/* Exit code for a store status of a failed read (NOT_FOUND/BAD_FILE 2, CORRUPT 1, else 6). */
int rvm_cmd_exit_for(enum rvm_store_status s);

/* Hex string of exactly `len` bytes (upper or lower case). */
bool rvm_cmd_parse_hex(const char *text, uint8_t *out, size_t len);

/* Action kind by display name (case-insensitive, e.g. "CapGrant") or number ("17", "0x11"). */
bool rvm_cmd_parse_kind(const char *text, uint8_t *kind);

/* "CapGrant", or "Unknown(0xNN)" in `buf` for codes without a name. */
const char *rvm_cmd_kind_name(uint8_t kind, char buf[16]);

/* Decoded extra detail of a record ("" when none): for rejections, stage, error and attempt. */
void rvm_cmd_record_detail(const uint8_t image[RVM_WITNESS_RECORD_BYTES], char *out, size_t cap);

/* The aligned table used by show and diff. `prefix` is printed before each line. */
void rvm_cmd_table_header(FILE *out, const char *prefix);
void rvm_cmd_table_row(FILE *out, const char *prefix,
                       const uint8_t image[RVM_WITNESS_RECORD_BYTES]);

/* One JSON object (no newline) for a record (docs/json.md "Records"); `chain` may be NULL. */
void rvm_cmd_record_json_write(struct rvm_json *j, int64_t run,
                               const uint8_t image[RVM_WITNESS_RECORD_BYTES], const uint8_t *chain);
/* The same object written on its own to `out`. */
void rvm_cmd_record_json(FILE *out, int64_t run, const uint8_t image[RVM_WITNESS_RECORD_BYTES],
                         const uint8_t *chain);

#endif /* RVM_CLI_CMD_COMMON_H */
