/* SPDX-License-Identifier: MIT */
/* The one JSON writer of the rvmsim tools: streams RFC 8259 JSON to a FILE, placing commas and
 * colons itself, so a command only says what it emits.
 *
 *     struct rvm_json j;
 *     rvm_json_init(&j, stdout);
 *     rvm_json_object_begin(&j);
 *     rvm_json_key_u64(&j, "seed", seed);           // "seed":"18446744073709551615"
 *     rvm_json_key_int(&j, "records", n);           // "records":42
 *     rvm_json_key(&j, "outcome");
 *     rvm_json_object_begin(&j);                    // nested objects, not "k=v" strings
 *     rvm_json_key_string(&j, "reason", reason);    // escaped; NULL becomes null
 *     rvm_json_object_end(&j);
 *     rvm_json_object_end(&j);
 *     rvm_json_newline(&j);                         // one document per line (JSON lines)
 *
 * Number conventions (docs/json.md): a value of a 64-bit type (seeds, digests' words, record
 * fields such as target, payload, aux, timestamp_ns) is written as a decimal string by
 * rvm_json_u64/rvm_json_i64, because JSON readers that hold numbers as doubles (jq, JavaScript)
 * round integers above 2^53. Counts and small codes known to stay far below 2^53 are numbers
 * (rvm_json_int). Hashes and byte strings are lower-case hex strings (rvm_json_hex).
 *
 * Strings: '"', '\\' and the control characters U+0000..U+001F are escaped; bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON whatever the input bytes are.
 *
 * Misuse (a value where a key is due, an end without a begin, nesting deeper than
 * RVM_JSON_MAX_DEPTH) writes nothing further and sets `misused`; a write error of the stream
 * shows in rvm_json_ok. */
#ifndef RVM_HOST_JSON_H
#define RVM_HOST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RVM_JSON_MAX_DEPTH 16

struct rvm_json {
    FILE *out;
    unsigned depth;
    /* per open container: true for an object, false for an array */
    bool is_object[RVM_JSON_MAX_DEPTH];
    /* per open container: at least one member written (the next needs a comma) */
    bool has_members[RVM_JSON_MAX_DEPTH];
    bool key_pending; /* a key was written; its value is due */
    bool misused;
};

void rvm_json_init(struct rvm_json *j, FILE *out);

void rvm_json_object_begin(struct rvm_json *j);
void rvm_json_object_end(struct rvm_json *j);
void rvm_json_array_begin(struct rvm_json *j);
void rvm_json_array_end(struct rvm_json *j);

/* A member's key inside an object; the next call writes its value. */
void rvm_json_key(struct rvm_json *j, const char *key);

/* Values (in an array, after a key, or as the whole document). */
void rvm_json_string(struct rvm_json *j, const char *s); /* NULL: null */
void rvm_json_string_n(struct rvm_json *j, const char *s, size_t len);
void rvm_json_u64(struct rvm_json *j, uint64_t v);  /* "123" (a string, see above) */
void rvm_json_i64(struct rvm_json *j, int64_t v);   /* "-123" */
void rvm_json_int(struct rvm_json *j, int64_t v);   /* 123, for values far below 2^53 */
void rvm_json_double(struct rvm_json *j, double v); /* shortest round-trip form; NaN/inf: null */
void rvm_json_bool(struct rvm_json *j, bool v);
void rvm_json_null(struct rvm_json *j);
void rvm_json_hex(struct rvm_json *j, const uint8_t *bytes, size_t len); /* "00ff..." */

/* Key and value in one call. */
void rvm_json_key_string(struct rvm_json *j, const char *key, const char *s);
void rvm_json_key_u64(struct rvm_json *j, const char *key, uint64_t v);
void rvm_json_key_i64(struct rvm_json *j, const char *key, int64_t v);
void rvm_json_key_int(struct rvm_json *j, const char *key, int64_t v);
void rvm_json_key_double(struct rvm_json *j, const char *key, double v);
void rvm_json_key_bool(struct rvm_json *j, const char *key, bool v);
void rvm_json_key_null(struct rvm_json *j, const char *key);
void rvm_json_key_hex(struct rvm_json *j, const char *key, const uint8_t *bytes, size_t len);

/* Ends a top-level document with '\n' (JSON lines); misuse inside an open container. */
void rvm_json_newline(struct rvm_json *j);

/* True when every call was well-formed, every container is closed and the stream has no error. */
bool rvm_json_ok(const struct rvm_json *j);

#endif /* RVM_HOST_JSON_H */
