/* SPDX-License-Identifier: MIT */
/* Pieces shared by `rvmsim run`, `sweep` and `shrink`. */
#ifndef RVM_CLI_SIMCLI_H
#define RVM_CLI_SIMCLI_H

#include "crypto_openssl.h"
#include "engine.h"
#include "scenario.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Parse FILE; on error print "FILE:LINE:COL: message" (or the I/O error) and return exit 2. */
int simcli_load(const char *path, struct rvm_scenario *scn);

/* Like simcli_load, and *text receives the file's bytes (NUL-terminated; free it): what the
 * replay store keeps as the run's scenario, so the stored text is exactly what was parsed. */
int simcli_load_text(const char *path, struct rvm_scenario *scn, char **text);

/* The host crypto provider (OpenSSL 3). NULL on failure (message printed). */
struct rvm_openssl_crypto *simcli_crypto(struct rvm_crypto *out);

/* Lower-case hex SHA-256 of a file's bytes into out[65]; false on I/O error. */
bool simcli_file_sha256(const struct rvm_crypto *crypto, const char *path, char out[65]);

/* "A..B" (or "N"), "K/N" and fault modes, for option parsing. */
bool simcli_parse_range(const char *text, uint64_t *a, uint64_t *b);
bool simcli_parse_shard(const char *text, uint32_t *k, uint32_t *n);

/* The command that reproduces one run: "<prog> run FILE --seed N --faults MODE". */
void simcli_repro(char *buf, size_t len, const char *path, uint64_t seed,
                  enum rvm_sim_fault_mode mode);

/* One line describing a failed run (no newline). */
void simcli_describe(char *buf, size_t len, const struct rvm_sim_outcome *o, const char *path);

#endif /* RVM_CLI_SIMCLI_H */
