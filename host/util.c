/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rvm_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

bool rvm_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || !isdigit((unsigned char)text[0])) {
        return false;
    }
    /* Decimal unless written 0x...: a leading zero is not octal (`--seed 010` is ten, as a
     * scenario's `seed 010` is). */
    const bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (hex && !isxdigit((unsigned char)text[2])) {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(hex ? text + 2 : text, &end, hex ? 16 : 10);
    if (errno != 0 || end == text || *end != '\0') {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool rvm_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0) {
        ok = false;
    }
    return ok;
}

/* The command whose messages these are ("run", "sweep", ...); NULL outside a command. */
static const char *error_context;

void rvm_error_context(const char *cmd)
{
    error_context = cmd;
}

void rvm_errorf(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fputs("rvmsim: out of memory while reporting an error\n", stderr);
        return;
    }
    size_t clen = error_context != NULL ? strlen(error_context) : 0;
    bool named = clen == 0 || (strncmp(msg, error_context, clen) == 0 && msg[clen] == ':');
    fprintf(stderr, "rvmsim: %s%s%s\n", named ? "" : error_context, named ? "" : ": ", msg);
    free(msg);
}

void rvm_shell_quote(char *buf, size_t len, const char *word)
{
    bool plain = *word != '\0';
    for (const char *c = word; *c != '\0'; c++) {
        if (!(isalnum((unsigned char)*c) || strchr("_./-+:=,@%", *c) != NULL)) {
            plain = false;
        }
    }
    if (plain) {
        snprintf(buf, len, "%s", word);
        return;
    }
    size_t o = 0;
    if (o + 1 < len) {
        buf[o++] = '\'';
    }
    for (const char *c = word; *c != '\0' && o + 5 < len; c++) {
        if (*c == '\'') {
            memcpy(buf + o, "'\\''", 4);
            o += 4;
        } else {
            buf[o++] = *c;
        }
    }
    if (o + 1 < len) {
        buf[o++] = '\'';
    }
    buf[o < len ? o : len - 1] = '\0';
}
