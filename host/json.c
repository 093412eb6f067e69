/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void rvm_json_init(struct rvm_json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

/* Before a value: the comma between array elements, and the check that a value may come here
 * (after a key in an object, anywhere in an array, or as the top-level document). */
static bool value_begin(struct rvm_json *j)
{
    if (j->misused) {
        return false;
    }
    if (j->depth == 0) {
        return true;
    }
    unsigned top = j->depth - 1;
    if (j->is_object[top]) {
        if (!j->key_pending) {
            j->misused = true;
            return false;
        }
        j->key_pending = false;
        return true;
    }
    if (j->has_members[top]) {
        fputc(',', j->out);
    }
    j->has_members[top] = true;
    return true;
}

static void container_begin(struct rvm_json *j, bool object)
{
    if (!value_begin(j)) {
        return;
    }
    if (j->depth == RVM_JSON_MAX_DEPTH) {
        j->misused = true;
        return;
    }
    j->is_object[j->depth] = object;
    j->has_members[j->depth] = false;
    j->depth++;
    fputc(object ? '{' : '[', j->out);
}

static void container_end(struct rvm_json *j, bool object)
{
    if (j->misused) {
        return;
    }
    if (j->depth == 0 || j->is_object[j->depth - 1] != object || j->key_pending) {
        j->misused = true;
        return;
    }
    j->depth--;
    fputc(object ? '}' : ']', j->out);
}

void rvm_json_object_begin(struct rvm_json *j)
{
    container_begin(j, true);
}

void rvm_json_object_end(struct rvm_json *j)
{
    container_end(j, true);
}

void rvm_json_array_begin(struct rvm_json *j)
{
    container_begin(j, false);
}

void rvm_json_array_end(struct rvm_json *j)
{
    container_end(j, false);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there are not one
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
    unsigned char b = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
        len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        lo = b == 0xe0 ? 0xa0 : 0x80;
        hi = b == 0xed ? 0x9f : 0xbf;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        lo = b == 0xf0 ? 0x90 : 0x80;
        hi = b == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (left < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) { /* bound: len <= 4 */
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

static void write_escaped(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    size_t i = 0;
    while (i < len) { /* bound: i grows by at least 1 per pass */
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                fputs("\\n", out);
                break;
            case '\r':
                fputs("\\r", out);
                break;
            case '\t':
                fputs("\\t", out);
                break;
            case '\b':
                fputs("\\b", out);
                break;
            case '\f':
                fputs("\\f", out);
                break;
            default:
                fprintf(out, "\\u%04x", c);
                break;
            }
            i++;
        } else if (c < 0x80) {
            fputc(c, out);
            i++;
        } else {
            size_t n = utf8_sequence(p + i, len - i);
            if (n == 0) {
                fputs("\\ufffd", out);
                i++;
            } else {
                fwrite(p + i, 1, n, out);
                i += n;
            }
        }
    }
    fputc('"', out);
}

void rvm_json_key(struct rvm_json *j, const char *key)
{
    if (j->misused) {
        return;
    }
    if (j->depth == 0 || !j->is_object[j->depth - 1] || j->key_pending || key == NULL) {
        j->misused = true;
        return;
    }
    unsigned top = j->depth - 1;
    if (j->has_members[top]) {
        fputc(',', j->out);
    }
    j->has_members[top] = true;
    write_escaped(j->out, key, strlen(key));
    fputc(':', j->out);
    j->key_pending = true;
}

void rvm_json_string_n(struct rvm_json *j, const char *s, size_t len)
{
    if (value_begin(j)) {
        write_escaped(j->out, s, len);
    }
}

void rvm_json_string(struct rvm_json *j, const char *s)
{
    if (s == NULL) {
        rvm_json_null(j);
    } else {
        rvm_json_string_n(j, s, strlen(s));
    }
}

void rvm_json_u64(struct rvm_json *j, uint64_t v)
{
    if (value_begin(j)) {
        fprintf(j->out, "\"%" PRIu64 "\"", v);
    }
}

void rvm_json_i64(struct rvm_json *j, int64_t v)
{
    if (value_begin(j)) {
        fprintf(j->out, "\"%" PRId64 "\"", v);
    }
}

void rvm_json_int(struct rvm_json *j, int64_t v)
{
    if (value_begin(j)) {
        fprintf(j->out, "%" PRId64, v);
    }
}

void rvm_json_double(struct rvm_json *j, double v)
{
    if (!value_begin(j)) {
        return;
    }
    if (!isfinite(v)) {
        fputs("null", j->out);
        return;
    }
    /* the shortest of 15..17 significant digits that reads back as the same double */
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) { /* bound: 3 passes */
        snprintf(buf, sizeof(buf), "%.*g", digits, v);
        if (strtod(buf, NULL) == v) {
            break;
        }
    }
    fputs(buf, j->out);
}

void rvm_json_bool(struct rvm_json *j, bool v)
{
    if (value_begin(j)) {
        fputs(v ? "true" : "false", j->out);
    }
}

void rvm_json_null(struct rvm_json *j)
{
    if (value_begin(j)) {
        fputs("null", j->out);
    }
}

void rvm_json_hex(struct rvm_json *j, const uint8_t *bytes, size_t len)
{
    if (!value_begin(j)) {
        return;
    }
    fputc('"', j->out);
    for (size_t i = 0; i < len; i++) {
        fprintf(j->out, "%02x", bytes[i]);
    }
    fputc('"', j->out);
}

void rvm_json_key_string(struct rvm_json *j, const char *key, const char *s)
{
    rvm_json_key(j, key);
    rvm_json_string(j, s);
}

void rvm_json_key_u64(struct rvm_json *j, const char *key, uint64_t v)
{
    rvm_json_key(j, key);
    rvm_json_u64(j, v);
}

void rvm_json_key_i64(struct rvm_json *j, const char *key, int64_t v)
{
    rvm_json_key(j, key);
    rvm_json_i64(j, v);
}

void rvm_json_key_int(struct rvm_json *j, const char *key, int64_t v)
{
    rvm_json_key(j, key);
    rvm_json_int(j, v);
}

void rvm_json_key_double(struct rvm_json *j, const char *key, double v)
{
    rvm_json_key(j, key);
    rvm_json_double(j, v);
}

void rvm_json_key_bool(struct rvm_json *j, const char *key, bool v)
{
    rvm_json_key(j, key);
    rvm_json_bool(j, v);
}

void rvm_json_key_null(struct rvm_json *j, const char *key)
{
    rvm_json_key(j, key);
    rvm_json_null(j);
}

void rvm_json_key_hex(struct rvm_json *j, const char *key, const uint8_t *bytes, size_t len)
{
    rvm_json_key(j, key);
    rvm_json_hex(j, bytes, len);
}

void rvm_json_newline(struct rvm_json *j)
{
    if (j->misused) {
        return;
    }
    if (j->depth != 0) {
        j->misused = true;
        return;
    }
    fputc('\n', j->out);
}

bool rvm_json_ok(const struct rvm_json *j)
{
    return !j->misused && j->depth == 0 && !j->key_pending && !ferror(j->out);
}
