/* SPDX-License-Identifier: MIT */
/* Small host-side helpers shared by the rvmsim commands. */
#ifndef RVM_HOST_UTIL_H
#define RVM_HOST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of `len` bytes into `out` (2 * len + 1 bytes, NUL-terminated). */
void rvm_hex(const uint8_t *bytes, size_t len, char *out);

/* Strict unsigned decimal (or 0x-prefixed hex) parse: no sign, no trailing junk, no overflow. */
bool rvm_parse_u64(const char *text, uint64_t *out);

/* Writes a whole buffer to a file; false (with errno set) on any failure. */
bool rvm_write_file(const char *path, const void *data, size_t len);

/* Print "rvmsim: <command>: <message>\n" to stderr, printf-style; the command (set with
 * rvm_error_context) is added when the message does not already start with "<command>:". */
void rvm_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rvm_error_context(const char *cmd);

/* Quote a word for a POSIX shell when it needs it (into buf, always NUL-terminated). */
void rvm_shell_quote(char *buf, size_t len, const char *word);

#endif /* RVM_HOST_UTIL_H */
